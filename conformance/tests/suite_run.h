// Test helper: lists a suite's cases and runs them, with the counts tests assert on.
#pragma once

#include <gtest/gtest.h>

#include <map>

#include "switchyard/conformance/runner.h"
#include "switchyard/conformance/suites.h"

namespace switchyard::conformance {

struct SuiteRun {
  std::vector<CaseResult> cases;
  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skip_reasons;
};

inline Result<SuiteRun> run_listed(const Result<std::vector<CaseSpec>>& listed, const TargetFactory& factory, const RunOptions& options = {}) {
  if (!listed.ok()) return listed.status();
  SY_ASSIGN_OR_RETURN(auto results, run_cases(*listed, factory, options));
  SuiteRun run;
  for (auto& r : results) {
    if (r.outcome == Outcome::passed) ++run.passed;
    else if (r.outcome == Outcome::failed) ++run.failed;
    else ++run.skipped, ++run.skip_reasons[r.reason];
    run.cases.push_back(std::move(r));
  }
  return run;
}

inline Result<SuiteRun> run_corpus(const std::filesystem::path& tests_dir, const TargetFactory& factory, const RunOptions& options = {}) {
  SuiteConfig config;
  config.tests_dir = tests_dir;
  return run_listed(onnx_cases(config), factory, options);
}

}  // namespace switchyard::conformance
