// What the models suite runs: the models found in the folders it is given, and each model's
// inputs with, where the folder provides them, the expected outputs.
//
// A folder given to the suite may hold
//   - node-test cases: sub-folders with model.onnx and test_data_set_*/input_K.pb, output_K.pb
//     (or be one such case itself), as the ONNX backend corpus lays them out;
//   - plain model files, NAME.onnx, optionally with NAME_input_K.pb beside them (the inputs) and
//     NAME_output_K.pb (the expected outputs), as ../shared/models holds light_resnet50. Without
//     input files the inputs are generated from the suite's seed; without output files the
//     reference interpreter computes the expected outputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard::conformance {

struct ModelCase {
  std::string name;                  // the folder's or file's name (the file without ".onnx")
  std::filesystem::path model_file;  // .../model.onnx or .../NAME.onnx
  bool node_test_layout = false;     // data sets in test_data_set_* beside model_file
};

// Every model case in `dirs`, each folder's sorted by name; a name found twice gets its folder
// as a prefix. Errors: no folders given, a folder missing, or a folder holding no models (named).
Result<std::vector<ModelCase>> list_model_cases(const std::vector<std::filesystem::path>& dirs);

struct DataSet {
  std::string where;             // "test_data_set_0", "given inputs", "inputs from seed 20261207"
  std::vector<Value> inputs;
  std::vector<Value> expected;   // empty: the reference interpreter computes them
};

// The data sets of a case (node-test: one per test_data_set_*; plain file: one). Errors:
// unsupported for a value kind the importer cannot read or inputs that cannot be generated
// (symbolic dims beyond the batch dim), invalid_argument / not_found for malformed files.
Result<std::vector<DataSet>> case_data_sets(const ModelCase& c, const Model& model, uint64_t seed);

// Inputs for the graph: the declared types and shapes (a symbolic batch dim taken as 1), float
// values uniform in [-0.5, 0.5) from `seed`, other types as generate_inputs makes them.
// Unsupported when an input has symbolic dims beyond the batch dim (no sensible default).
Result<std::vector<Value>> seeded_inputs(const Graph& graph, uint64_t seed);

}  // namespace switchyard::conformance
