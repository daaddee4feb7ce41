// The qualification kit's suites and what they are given. Each suite lists its cases (CaseSpecs) in
// the parent process, without loading any plugin; the runner runs them against the target.
//   onnx    the ONNX backend node-test corpus (--tests DIR)
//   ops     generated single-operator sweeps: shapes, broadcasting, element types, attributes, value classes
//   models  whole models through the partitioned path (../shared/models, --models DIR)
//   api     the plugin ABI's contract, called directly: arguments, lifetime, completion, concurrency
//   cache   executable serialise/restore: identical outputs, corrupt bytes refused
//   stress  many async predictions with cancellation, deadlines and in-flight limits
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

struct SuiteConfig {
  std::filesystem::path tests_dir;                 // onnx: the node-test corpus; empty: the suite lists nothing and says why
  std::vector<std::filesystem::path> model_dirs;   // models: folders of models (node-test layout, or *.onnx files)
  double rtol = 1e-3;                              // float32 targets; narrow-float ones derive theirs (tolerance.h)
  double atol = 1e-7;
  uint64_t seed = 20261207;                        // ops, stress: every generated value comes from this seed
  int stress_predictions = 2000;                   // stress: async predictions per case
};

struct SuiteEntry {
  const char* name;
  const char* summary;  // one line, for --help and the report
  Result<std::vector<CaseSpec>> (*list)(const SuiteConfig& config);
};
// Every suite, in the order `conformance all` runs them.
const std::vector<SuiteEntry>& all_suites();
Result<const SuiteEntry*> find_suite(const std::string& name);

// The suites' listers (one file each).
Result<std::vector<CaseSpec>> onnx_cases(const SuiteConfig& config);
Result<std::vector<CaseSpec>> ops_cases(const SuiteConfig& config);
Result<std::vector<CaseSpec>> models_cases(const SuiteConfig& config);
Result<std::vector<CaseSpec>> api_cases(const SuiteConfig& config);
Result<std::vector<CaseSpec>> cache_cases(const SuiteConfig& config);
Result<std::vector<CaseSpec>> stress_cases(const SuiteConfig& config);

// Keeps the cases whose "suite/name" matches the ECMAScript regex (empty: all).
Result<std::vector<CaseSpec>> filter_cases(std::vector<CaseSpec> cases, const std::string& regex);

}  // namespace switchyard::conformance
