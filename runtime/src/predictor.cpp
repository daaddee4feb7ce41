// Predictor: a bounded pool of workers runs predictions; a bounded number are held in flight.
#include "switchyard/runtime/predictor.h"

#include <system_error>

namespace switchyard {

namespace {
using Clock = std::chrono::steady_clock;

// The deadline a prediction submitted `now` runs under: the earlier of `deadline` and now + timeout.
std::optional<Clock::time_point> effective_deadline(const PredictOptions& o, Clock::time_point now) {
  if (!o.timeout) return o.deadline;
  if (*o.timeout > Clock::time_point::max() - now) return o.deadline;  // too far to represent: none
  const Clock::time_point t = now + *o.timeout;
  return o.deadline ? std::min(*o.deadline, t) : t;
}

PredictControl control_of(const PredictOptions& o, std::optional<CancellationToken> cancel) {
  PredictControl control;
  control.cancel = std::move(cancel);
  control.deadline = o.deadline;
  control.max_memory_bytes = o.max_memory_bytes;
  control.events = o.events;
  control.node_events = o.node_events;
  return control;
}
}  // namespace

size_t Predictor::max_worker_threads() { return 4 * std::max<size_t>(1, std::thread::hardware_concurrency()); }

Predictor::Predictor(std::shared_ptr<const PartitionedModel> model, PredictorOptions options)
    : model_(std::move(model)), options_(options) {
  size_t threads = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, max_worker_threads());
  if (options_.max_in_flight == 0) options_.max_in_flight = threads;
  start_workers(std::min(threads, options_.max_in_flight));
}

// Starts up to `threads` workers; a refused thread (process or user thread limit) leaves the pool
// smaller, with status_ saying so, instead of throwing out of the constructor.
void Predictor::start_workers(size_t threads) {
  std::lock_guard<std::mutex> lock(mu_);  // workers read options_.threads under it
  options_.threads = threads;
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    try {
      workers_.emplace_back([this] { worker(); });
    } catch (const std::system_error& e) {
      status_ = Status(StatusCode::unavailable, "the system refused worker threads: started " + std::to_string(workers_.size()) +
                                                    " of " + std::to_string(threads) + " (" + e.what() + ")");
      break;
    }
  }
  options_.threads = workers_.size();
}

Predictor::~Predictor() {
  std::deque<std::shared_ptr<Job>> abandoned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    abandoned.swap(queue_);
  }
  work_cv_.notify_all();
  slot_cv_.notify_all();
  for (auto& j : abandoned) finish(*j, Status(StatusCode::cancelled, "the model was destroyed before the prediction started"));
  for (auto& t : workers_) t.join();
  // Predictions already started complete through device callbacks: wait for the last one.
  std::unique_lock<std::mutex> lock(mu_);
  slot_cv_.wait(lock, [&] { return running_ == 0; });
}

Result<Outputs> Predictor::predict(const std::vector<Value>& inputs, const PredictOptions& options) const {
  const auto now = Clock::now();
  if (options.cancel && options.cancel->cancelled()) return Status(StatusCode::cancelled, "prediction cancelled before it started");
  PredictControl control = control_of(options, options.cancel);
  control.deadline = effective_deadline(options, now);
  if (control.deadline && now > *control.deadline)
    return Status(StatusCode::deadline_exceeded, "prediction passed its deadline before it started");
  return model_->predict(inputs, &control);
}

void Predictor::finish(Job& job, Result<Outputs> result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result.ok()) ++stats_.completed;
    else if (result.status().code() == StatusCode::cancelled) ++stats_.cancelled;
    else ++stats_.failed;
  }
  if (job.done) job.done(std::move(result));
}

void Predictor::worker() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && running_ < options_.threads); });
      if (stopping_ && queue_.empty()) return;
      if (queue_.empty()) continue;
      job = queue_.front();
      queue_.pop_front();
      ++running_;
      stats_.peak_in_flight = std::max(stats_.peak_in_flight, running_);
    }
    slot_cv_.notify_all();
    // Cancelled while queued: no input preparation at all.
    if (job->token.cancelled()) {
      job->inputs.clear();
      {
        std::lock_guard<std::mutex> lock(mu_);
        --running_;
      }
      work_cv_.notify_one();
      slot_cv_.notify_all();
      finish(*job, Status(StatusCode::cancelled, "prediction cancelled before it started"));
      continue;
    }
    // Event-driven: this worker starts the prediction and moves on; the last segment's
    // completion reports it. Only synchronous devices keep the worker busy (computing).
    PredictControl control = control_of(job->options, job->token);
    std::vector<Value> inputs = std::move(job->inputs);  // released when the prediction ends
    model_->predict_async(std::move(inputs), control, [this, job](Result<Outputs> r) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        --running_;
      }
      work_cv_.notify_one();
      slot_cv_.notify_all();
      finish(*job, std::move(r));
    });
  }
}

void Predictor::predict_async(std::vector<Value> inputs, PredictOptions options, std::function<void(Result<Outputs>)> done) {
  auto job = std::make_shared<Job>();
  job->inputs = std::move(inputs);
  job->token = options.cancel ? *options.cancel : CancellationToken();
  options.deadline = effective_deadline(options, Clock::now());
  options.timeout.reset();
  job->options = std::move(options);
  job->options.cancel = job->token;
  job->done = std::move(done);
  submit(std::move(job), options_.overflow);
}

void Predictor::submit(std::shared_ptr<Job> job, OverflowPolicy overflow) {
  std::shared_ptr<Job> dropped;
  std::optional<Status> refuse;
  {
    std::unique_lock<std::mutex> lock(mu_);
    ++stats_.submitted;
    auto pending = [&] { return running_ + queue_.size(); };
    if (stopping_) refuse = Status(StatusCode::cancelled, "the model is being destroyed");
    if (!refuse && workers_.empty()) refuse = status_;
    if (!refuse && pending() >= options_.max_in_flight) {
      switch (overflow) {
        case OverflowPolicy::block:
          slot_cv_.wait(lock, [&] { return stopping_ || pending() < options_.max_in_flight; });
          if (stopping_) refuse = Status(StatusCode::cancelled, "the model is being destroyed");
          break;
        case OverflowPolicy::reject:
          refuse = Status(StatusCode::unavailable, "rejected: " + std::to_string(options_.max_in_flight) + " predictions already in flight");
          break;
        case OverflowPolicy::queue:
          if (pending() >= options_.max_in_flight + options_.queue_capacity)
            refuse = Status(StatusCode::unavailable, "rejected: " + std::to_string(options_.max_in_flight) + " in flight and the queue of " +
                                                         std::to_string(options_.queue_capacity) + " is full");
          break;
        case OverflowPolicy::drop_oldest:
          if (!queue_.empty()) {
            dropped = queue_.front();
            queue_.pop_front();
            ++stats_.dropped;
          } else {
            refuse = Status(StatusCode::unavailable, "rejected: all " + std::to_string(options_.max_in_flight) +
                                                         " predictions in flight are already running");
          }
          break;
      }
    }
    if (refuse) {
      ++stats_.rejected;
    } else {
      queue_.push_back(job);
      stats_.peak_pending = std::max(stats_.peak_pending, pending());
    }
  }
  if (dropped) {
    dropped->token.cancel();
    dropped->inputs.clear();
    finish(*dropped, Status(StatusCode::cancelled, "dropped: a newer prediction replaced it (drop_oldest)"));
  }
  if (refuse) {
    if (job->done) job->done(*refuse);
    return;
  }
  work_cv_.notify_one();
}

std::future<Result<Outputs>> Predictor::predict_async(std::vector<Value> inputs, PredictOptions options) {
  auto promise = std::make_shared<std::promise<Result<Outputs>>>();
  auto future = promise->get_future();
  predict_async(std::move(inputs), std::move(options), [promise](Result<Outputs> r) { promise->set_value(std::move(r)); });
  return future;
}

std::vector<Result<Outputs>> Predictor::predict_batch(const std::vector<std::vector<Value>>& batch) {
  // The whole batch is admitted as slots free up (blocking), whatever the overflow policy.
  std::vector<std::future<Result<Outputs>>> futures;
  futures.reserve(batch.size());
  for (const auto& inputs : batch) {
    auto promise = std::make_shared<std::promise<Result<Outputs>>>();
    futures.push_back(promise->get_future());
    auto job = std::make_shared<Job>();
    job->inputs = inputs;
    job->options.cancel = job->token;
    job->done = [promise](Result<Outputs> r) { promise->set_value(std::move(r)); };
    submit(std::move(job), OverflowPolicy::block);
  }
  std::vector<Result<Outputs>> out;
  out.reserve(batch.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

PredictorStats Predictor::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace switchyard
