// The `onnx` suite: the ONNX backend node-test corpus (a folder of cases, each a model.onnx and
// test_data_set_*/{input,output}_N.pb), every case run on the target and held to its expected outputs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

// The case folders (those holding a model.onnx) under `tests_dir`, sorted by name.
Result<std::vector<std::filesystem::path>> list_corpus_cases(const std::filesystem::path& tests_dir);
// Runs one corpus case on the target: every data set, every output held to the expected one.
CaseResult run_corpus_case(const std::filesystem::path& case_dir, const Target& target, double rtol, double atol);

}  // namespace switchyard::conformance
