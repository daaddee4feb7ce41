// Test helpers for the api and cache suites' tests: targets for the template plugin and for the
// faulty test doubles (faulty_plugin.c, one device per fault), and a suite run by case name.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <map>
#include <regex>
#include <vector>
#include <string>

#include "switchyard/conformance/runner.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/conformance/targets.h"

namespace switchyard::conformance::testing {

inline const char* const kTemplateDir = SWITCHYARD_BINARY_DIR "/lib/switchyard/template";
inline const char* const kFaultyDir = SWITCHYARD_BINARY_DIR "/test-plugins/faulty";

// `device_id` found in `folder` (SWITCHYARD_PLUGIN_PATH, set in the process that builds the target:
// a worker, or this one when cases run in process); empty folder: the default plugin folders.
inline TargetFactory device_in(const std::string& folder, const std::string& device_id) {
  return [folder, device_id]() {
    ::setenv("SWITCHYARD_PLUGIN_PATH", folder.c_str(), 1);
    return device_target_factory(device_id)();
  };
}

// The faulty test double with `name` ("faulty_twice"): its device "<name>:0".
inline TargetFactory faulty(const std::string& name) { return device_in(kFaultyDir, name + ":0"); }

// Cases run in this process (a crash would take the test down: for doubles that do not crash).
inline RunOptions in_process() {
  RunOptions options;
  options.isolate = false;
  return options;
}

// A suite's results by case name; an error when the target cannot be built (no such device).
// Never build the target in this process before forking workers: a driver's threads (PoCL's) do
// not survive fork, and the workers would wait for them forever.
inline Result<std::map<std::string, CaseResult>> run_by_name(const Result<std::vector<CaseSpec>>& listed, const TargetFactory& factory,
                                                             const RunOptions& options = {}) {
  if (!listed.ok()) return listed.status();
  SY_ASSIGN_OR_RETURN(auto results, run_cases(*listed, factory, options));
  std::map<std::string, CaseResult> by_name;
  for (auto& r : results) by_name[r.name] = r;
  return by_name;
}

// A known break of the contract by a built-in plugin: the cases matching `cases` fail with
// `reason` until the plugin is mended. `always`: at least one of them must fail (a mended plugin
// then fails the test, so that the entry goes); else they may (the break shows only where a
// corruption happens to land, which depends on the machine).
struct KnownBreak {
  std::string cases;  // ECMAScript regex on the case name
  std::string reason;
  bool always = true;
};

// Every case passed, was skipped with a reason, or failed as a known break says; returns how many
// passed.
inline int expect_only_known_breaks(const std::map<std::string, CaseResult>& results, const std::string& device,
                                    const std::vector<KnownBreak>& known = {}) {
  int passed = 0;
  std::vector<int> seen(known.size(), 0);
  for (const auto& [name, r] : results) {
    if (r.outcome == Outcome::passed) ++passed;
    if (r.outcome == Outcome::skipped) {
      EXPECT_FALSE(r.reason.empty()) << device << ": " << name << " skipped without a reason";
      std::printf("%s: %s/%s skipped: %s\n", device.c_str(), r.suite.c_str(), name.c_str(), r.reason.c_str());
    }
    if (r.outcome != Outcome::failed) continue;
    size_t k = 0;
    while (k < known.size() && !(std::regex_match(name, std::regex(known[k].cases)) && r.reason == known[k].reason)) ++k;
    if (k < known.size()) {
      ++seen[k];
      std::printf("%s: %s/%s fails as known: %s: %s\n", device.c_str(), r.suite.c_str(), name.c_str(), r.reason.c_str(), r.detail.c_str());
      continue;
    }
    ADD_FAILURE() << device << ": " << r.suite << "/" << name << ": " << r.reason << ": " << r.detail
                  << (r.abi_call.empty() ? "" : " [in " + r.abi_call + "]");
  }
  for (size_t k = 0; k < known.size(); ++k)
    EXPECT_TRUE(!known[k].always || seen[k] > 0) << device << ": the known break '" << known[k].cases << "' (" << known[k].reason
                                                 << ") no longer fails: mended? drop it from the test's list";
  return passed;
}

}  // namespace switchyard::conformance::testing
