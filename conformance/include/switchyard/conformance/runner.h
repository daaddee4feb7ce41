// Runs CaseSpecs against a target: in worker processes (default), each running cases one after
// another and reporting each result as it ends, so a case that crashes or hangs fails alone (its
// worker is replaced) and is named with the ABI function it was in; or in this process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

// --shard K/N: case i belongs to shard (stable hash of "suite/name") % N + 1. Disjoint and covering
// for any N, and stable: adding a case never moves the others.
struct Shard {
  int index = 1, count = 1;
  bool contains(const CaseSpec& c) const;
};
Result<Shard> parse_shard(const std::string& text);  // "2/4"

struct Progress {
  size_t done = 0, total = 0;
  int passed = 0, failed = 0, skipped = 0;
  double elapsed_s = 0;
};

struct RunOptions {
  bool isolate = true;          // worker processes; off: run in this process (a crash takes it down)
  int jobs = 1;                 // worker processes at once
  double case_timeout_s = 120;  // a case running longer is killed and failed as "timeout"
  Shard shard;
  // Called in the parent after each case, in completion order (may be empty).
  std::function<void(const CaseResult&, const Progress&)> progress;
};

// Runs the cases of `cases` that belong to the shard; results in the order of `cases`. Fails only
// when the worker processes cannot be started at all.
Result<std::vector<CaseResult>> run_cases(const std::vector<CaseSpec>& cases, const TargetFactory& factory, const RunOptions& options);

}  // namespace switchyard::conformance
