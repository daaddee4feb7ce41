// The suites `conformance all` runs, in order, and the one filter every suite's cases go through.
#include "switchyard/conformance/suites.h"

#include <regex>

namespace switchyard::conformance {

const std::vector<SuiteEntry>& all_suites() {
  static const std::vector<SuiteEntry> suites = {
      {"onnx", "the ONNX backend node-test corpus (--tests DIR)", &onnx_cases},
      {"ops", "generated single-operator sweeps: shapes, broadcasting, element types, attributes, value classes", &ops_cases},
      {"models", "whole models through the partitioned path (--models DIR)", &models_cases},
      {"api", "the plugin ABI's contract: arguments, lifetime, completion, cancellation, concurrency", &api_cases},
      {"cache", "executable serialise/restore: identical outputs, corrupt bytes refused", &cache_cases},
      {"stress", "many async predictions with cancellation, deadlines and in-flight limits", &stress_cases},
  };
  return suites;
}

Result<const SuiteEntry*> find_suite(const std::string& name) {
  std::string names;
  for (const auto& s : all_suites()) {
    if (name == s.name) return &s;
    names += (names.empty() ? "" : ", ") + std::string(s.name);
  }
  return Status(StatusCode::invalid_argument, "unknown suite '" + name + "' (suites: " + names + ")");
}

Result<std::vector<CaseSpec>> filter_cases(std::vector<CaseSpec> cases, const std::string& regex) {
  if (regex.empty()) return cases;
  std::regex re;
  try {
    re = std::regex(regex);
  } catch (const std::regex_error& e) {
    return Status(StatusCode::invalid_argument, "bad --filter regex '" + regex + "': " + e.what());
  }
  std::erase_if(cases, [&](const CaseSpec& c) { return !std::regex_search(c.suite + "/" + c.name, re); });
  return cases;
}

}  // namespace switchyard::conformance
