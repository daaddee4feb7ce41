// Predictions on a loaded model: sync, batch and async, with cancellation, deadlines and a
// bound on predictions in flight.
//
//   Predictor p(model, {.max_in_flight = 2, .overflow = OverflowPolicy::drop_oldest});
//   CancellationToken token;
//   auto future = p.predict_async(inputs, {.cancel = token});
//   token.cancel();                       // queued: never starts; running: stops at the next segment
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

#include "switchyard/partitioned_model.h"

namespace switchyard {

using Outputs = std::vector<Value>;

// Shared cancellation flag; copies refer to the same flag.
class CancellationToken {
 public:
  CancellationToken() : flag_(std::make_shared<int32_t>(0)) {}
  void cancel() { __atomic_store_n(flag_.get(), 1, __ATOMIC_RELEASE); }
  bool cancelled() const { return __atomic_load_n(flag_.get(), __ATOMIC_ACQUIRE) != 0; }
  const volatile int32_t* flag() const { return flag_.get(); }

 private:
  std::shared_ptr<int32_t> flag_;
};

struct PredictOptions {
  std::optional<CancellationToken> cancel;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::vector<PredictEvent>* events = nullptr;  // timed segments and transfers (for reports)
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
  size_t max_in_flight = 0;       // 0 = the number of worker threads
  OverflowPolicy overflow = OverflowPolicy::block;
  size_t queue_capacity = 64;     // extra admissions for OverflowPolicy::queue
  size_t threads = 0;             // predictions running at once; 0 = hardware concurrency
};

struct PredictorStats {
  size_t submitted = 0, completed = 0, cancelled = 0, rejected = 0, dropped = 0;
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

 private:
  struct Job {
    std::vector<Value> inputs;
    PredictOptions options;
    CancellationToken token;
    std::function<void(Result<Outputs>)> done;
  };
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
  std::vector<std::thread> workers_;
};

}  // namespace switchyard
