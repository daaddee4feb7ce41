// The `ops` suite (suites.h): generated single-operator cases for every operator the CPU plugin
// claims (every reference kernel): shapes of rank 0 to 6 with broadcasting, size-1, zero-size and
// odd dimensions; the element types ONNX's schema allows; the attribute space; and value classes
// (NaN, +-inf, denormals, -0, the largest magnitudes, integer extremes). Values come from
// SuiteConfig::seed; expected outputs from the reference interpreter, computed in the worker.
#pragma once

#include <filesystem>
#include <string>

#include "switchyard/conformance/suites.h"

namespace switchyard::conformance {

// Writes the ops cases whose "ops/<name>" matches `filter` (ECMAScript regex; empty: all) in the
// ONNX node-test layout, so other runtimes can run them (conformance/xcheck/ort_xcheck.sh):
//   DIR/<folder>/model.onnx                  outputs typed and shaped from the reference's values
//   DIR/<folder>/test_data_set_0/input_N.pb  the seeded inputs; output_N.pb: the REFERENCE's outputs
//   DIR/<folder>/case.json                   {"name", "op", "rtol", "atol"}: the case and its tolerance
//   DIR/index.tsv                            folder, name, op, rtol, atol: one line per exported case
//   DIR/not_exported.tsv                     name, op, why: cases the reference does not run
// <folder> is the case name with '/' as "__" and characters other than [A-Za-z0-9_.,=+-] as '_'.
// Fails on the first file it cannot write, naming it.
Status export_ops_cases(const SuiteConfig& config, const std::string& filter, const std::filesystem::path& dir);

// The folder name export_ops_cases gives a case.
std::string ops_case_folder(const std::string& case_name);

}  // namespace switchyard::conformance
