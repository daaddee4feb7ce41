// The stress suite's workload and bookkeeping. The workload is a small model the device under
// test claims (asked, not assumed: an MLP, then an Add, then a Relu), loaded through the
// partitioned path the models suite uses, with a few distinct input sets and the reference
// interpreter's outputs for each, so a result handed to the wrong prediction is caught too.
// The ledger checks that every prediction completes exactly once, with an outcome it may have,
// and that every successful one is correct.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"
#include "switchyard/conformance/tolerance.h"
#include "switchyard/runtime/predictor.h"

namespace switchyard::conformance {

struct StressWorkload {
  std::string name;       // "mlp (MatMul+Add+Relu+Softmax)"
  std::string placement;  // "6 of 6 nodes on cpu:0 (1 segment)"
  std::shared_ptr<const DeviceRegistry> registry;  // keeps the plugins loaded while `model` lives
  std::shared_ptr<const PartitionedModel> model;
  std::vector<std::vector<Value>> inputs;           // distinct input sets
  std::vector<std::vector<Value>> expected;         // the reference's outputs, per set
  std::vector<std::vector<Tolerance>> tolerances;   // per set, per output

  // Empty when `outputs` are input set `set`'s expected outputs within tolerance; else where and
  // by how much.
  std::string check(size_t set, const std::vector<Value>& outputs) const;
};

// Up to `wanted` workloads, each its own executable, loaded on the target (device_first_policy):
// the candidate models the device claims at least one node of, those it claims whole first, then
// the first of them loaded again while more are wanted. Unsupported, with each candidate's
// refusals, when the device claims none; unavailable when the target has no device (the
// reference).
Result<std::vector<StressWorkload>> stress_workloads(const Target& target, double rtol, double atol, uint64_t seed, size_t wanted);

// What one prediction may end with.
enum StressOutcome : unsigned { may_succeed = 1, may_cancel = 2, may_miss_deadline = 4, may_be_rejected = 8 };

// Counts every prediction's completions and outcomes. Thread-safe. Outlives every prediction it
// hands a callback to (declare it before the Predictor).
class StressLedger {
 public:
  explicit StressLedger(size_t predictions);

  // The completion callback of prediction `i`, on input set `set` of `workload`, which may end
  // in any of the `allowed` outcomes (StressOutcome bits).
  std::function<void(Result<Outputs>)> callback(size_t i, const StressWorkload& workload, size_t set, unsigned allowed);
  // Waits until every prediction completed once, at most `timeout`; false when some did not.
  bool wait_all(std::chrono::steady_clock::duration timeout);

  size_t correct() const { return correct_; }
  size_t cancelled() const { return cancelled_; }
  size_t deadline_exceeded() const { return deadline_exceeded_; }
  size_t rejected() const { return rejected_; }
  // Per kind of prediction (a label the case gives with `tag`), how each ended: "past deadline:
  // 667 deadline_exceeded; ...". Tags are optional.
  void tag(size_t i, const std::string& label);
  std::string outcomes_by_tag() const;
  // Empty when every prediction completed exactly once with an allowed outcome and every success
  // was correct; else each kind of problem with its count and its first instance, in full.
  std::string problems() const;

 private:
  void record(size_t i, const std::string& outcome, const std::string& problem);

  const size_t n_;
  std::vector<std::atomic<int>> calls_;
  std::vector<std::string> tags_;      // written before the prediction is submitted
  std::vector<std::string> outcomes_;  // how each ended: "correct", "cancelled", ...
  mutable std::mutex mu_;
  std::condition_variable all_done_;
  size_t completed_ = 0;  // predictions called back at least once
  size_t correct_ = 0, cancelled_ = 0, deadline_exceeded_ = 0, rejected_ = 0;
  std::map<std::string, std::pair<size_t, std::string>> problems_;  // kind -> (count, first instance)
};

// Peak number of predictions running at once, from the segment events each recorded
// (PredictOptions::events): the span from its first segment's start to its last one's end.
size_t peak_overlap(const std::vector<std::vector<PredictEvent>>& events_per_prediction);

// This process's resident set (VmRSS) and heap in use (malloc's), in bytes; free heap is returned
// to the system first, so the resident set follows what is held.
struct MemoryUse {
  int64_t rss = 0, heap = 0;
};
MemoryUse memory_use();

// The suite's cases (stress_suite.cpp) on a given workload: `predictions` async predictions each,
// every random choice from `seed`.
CaseResult stress_random_cancel(const StressWorkload& workload, int predictions, uint64_t seed);
CaseResult stress_deadlines(const StressWorkload& workload, int predictions, uint64_t seed);
CaseResult stress_in_flight_limit(const StressWorkload& workload, int predictions, uint64_t seed);
CaseResult stress_several_executables(const std::vector<StressWorkload>& workloads, int predictions, uint64_t seed);
CaseResult stress_rss_stable(const StressWorkload& workload, int predictions, uint64_t seed);

}  // namespace switchyard::conformance
