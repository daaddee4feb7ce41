// Predictions on a loaded model: sync, batch and async, with cancellation, deadlines, a memory
// limit per prediction and a bound on predictions in flight.
//
//   Predictor p(model, {.max_in_flight = 2, .overflow = OverflowPolicy::drop_oldest});
//   CancellationToken token;
//   auto future = p.predict_async(inputs, {.cancel = token, .timeout = 200ms});
//   token.cancel();                       // queued: never starts; running: stops at the next segment
//                                         // or inside the kernels that poll (CPU: between nodes,
//                                         // every Loop/Scan iteration)
//   Result<Outputs> r = future.get();     // StatusCode::cancelled / deadline_exceeded / outputs
//
// Thread-safe. Inputs the caller passes are never written; outputs are owned by the result.
// Destroying a Predictor cancels queued predictions and waits for running ones, so every future
// and callback completes (queued ones as cancelled).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "switchyard/runtime/partitioned_model.h"

namespace switchyard {

using Outputs = std::vector<Value>;

struct PredictOptions {
  std::optional<CancellationToken> cancel;
  // Past the deadline the prediction stops (StatusCode::deadline_exceeded): at the next segment
  // boundary, and inside plugins that poll their cancel flag (the CPU plugin between nodes and in
  // every Loop, Scan and sequence-operator iteration). `timeout` is a deadline counted from the
  // predict / predict_async call; with both, the earlier applies.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::optional<std::chrono::steady_clock::duration> timeout;
  // 0 = none; see PredictControl::max_memory_bytes for what is counted. Past it:
  // StatusCode::resource_exhausted, naming the node or segment and the limit.
  uint64_t max_memory_bytes = 0;
  std::vector<PredictEvent>* events = nullptr;  // timed segments and transfers (for reports)
  bool node_events = false;                     // and operators, as PredictControl::node_events
};

// "In flight" = admitted and not finished (queued or running): what holds inputs in memory.
// What to do when max_in_flight predictions are already in flight:
enum class OverflowPolicy {
  block,        // the caller of predict_async waits until one finishes
  queue,        // admit up to queue_capacity more, then reject
  drop_oldest,  // for streams: cancel the oldest prediction not yet running to admit the new one
                // (if all are running, reject)
  reject,       // fail at once with StatusCode::unavailable
};

struct PredictorOptions {
  size_t max_in_flight = 0;       // 0 = the number of worker threads; queued predictions cost
                                  // memory (their inputs), not threads
  OverflowPolicy overflow = OverflowPolicy::block;
  size_t queue_capacity = 64;     // extra admissions for OverflowPolicy::queue
  // Worker threads = predictions running at once; 0 = hardware concurrency. At most
  // min(max_in_flight, Predictor::max_worker_threads()); fewer if the system refuses threads.
  size_t threads = 0;
};

struct PredictorStats {
  size_t submitted = 0, completed = 0, cancelled = 0, rejected = 0, dropped = 0;
  size_t failed = 0;              // ended with another error (deadline_exceeded, resource_exhausted, ...)
  size_t peak_in_flight = 0;      // running at once
  size_t peak_pending = 0;        // running + queued (predictions whose inputs are held)
};

class Predictor {
 public:
  explicit Predictor(std::shared_ptr<const PartitionedModel> model, PredictorOptions options = {});
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  // Runs on the calling thread.
  Result<Outputs> predict(const std::vector<Value>& inputs, const PredictOptions& options = {}) const;
  // Runs the batch with the workers' concurrency; results in input order.
  std::vector<Result<Outputs>> predict_batch(const std::vector<std::vector<Value>>& batch);
  std::future<Result<Outputs>> predict_async(std::vector<Value> inputs, PredictOptions options = {});
  // Callback form: `done` runs once, on a worker thread (or the caller's, when rejected).
  void predict_async(std::vector<Value> inputs, PredictOptions options, std::function<void(Result<Outputs>)> done);

  PredictorStats stats() const;
  const PartitionedModel& model() const { return *model_; }
  // The worker threads the pool has: min(threads, max_in_flight, max_worker_threads()), or fewer
  // when thread creation failed (then status() says why; 0 threads: async predictions fail with it).
  size_t worker_threads() const { return workers_.size(); }
  // OK, or why the pool has fewer threads than asked (StatusCode::unavailable).
  const Status& status() const { return status_; }
  // The cap on worker threads: 4 per hardware thread (at least 4).
  static size_t max_worker_threads();

 private:
  struct Job {
    std::vector<Value> inputs;
    PredictOptions options;
    CancellationToken token;
    std::function<void(Result<Outputs>)> done;
  };
  void start_workers(size_t threads);
  void worker();
  void finish(Job& job, Result<Outputs> result);
  void submit(std::shared_ptr<Job> job, OverflowPolicy overflow);

  std::shared_ptr<const PartitionedModel> model_;
  PredictorOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_, slot_cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  PredictorStats stats_;
  Status status_;
  std::vector<std::thread> workers_;
};

}  // namespace switchyard
