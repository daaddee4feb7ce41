// Predictor tests: sync, batch and async predictions with cancellation before, during and after
// running, deadlines, overflow policies and destruction with work in flight.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "switchyard/runtime/predictor.h"
#include "process_threads.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<PartitionedModel> load_model() {
  static DeviceRegistry reg = DeviceRegistry::discover();
  static std::shared_ptr<PartitionedModel> model = [] {
    auto m = import_onnx_file(fs::path(SWITCHYARD_SOURCE_DIR) / "models" / "tiny_cnn.onnx");
    if (!m.ok()) throw std::runtime_error(m.status().to_string());
    auto pm = PartitionedModel::load(*m, reg, {});
    if (!pm.ok()) throw std::runtime_error(pm.status().to_string());
    return *pm;
  }();
  return model;
}

std::atomic<int> g_live_inputs{0};
std::atomic<int> g_peak_live_inputs{0};

// An input whose storage counts itself alive, to measure how many predictions hold memory.
std::vector<Value> counted_input(int seed) {
  auto* data = new float[3 * 32 * 32];
  for (int i = 0; i < 3 * 32 * 32; ++i) data[i] = static_cast<float>(std::sin(0.01 * (i + seed)));
  int now = ++g_live_inputs;
  int peak = g_peak_live_inputs.load();
  while (now > peak && !g_peak_live_inputs.compare_exchange_weak(peak, now)) {
  }
  std::shared_ptr<const void> owner(data, [](const void* p) {
    delete[] static_cast<const float*>(p);
    --g_live_inputs;
  });
  return {Value::of(Tensor::wrap(ElementType::float32, {1, 3, 32, 32}, owner, data, sizeof(float) * 3 * 32 * 32))};
}

std::vector<float> first_output(const Result<Outputs>& r) {
  if (!r.ok()) return {};
  const Tensor& t = (*r)[0].tensor;
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

TEST(Predictor, SyncAndBatchMatchSerialRuns) {
  auto model = load_model();
  Predictor p(model, {.max_in_flight = 2, .threads = 2});
  std::vector<std::vector<Value>> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(counted_input(i));
  auto results = p.predict_batch(batch);
  ASSERT_EQ(results.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    auto serial = model->predict(batch[static_cast<size_t>(i)]);
    ASSERT_TRUE(results[static_cast<size_t>(i)].ok());
    EXPECT_EQ(first_output(results[static_cast<size_t>(i)]), first_output(serial)) << i;
  }
  auto sync = p.predict(batch[0]);
  EXPECT_EQ(first_output(sync), first_output(results[0]));
}

TEST(Predictor, InputsAreNeverWritten) {
  auto model = load_model();
  Predictor p(model);
  auto in = counted_input(7);
  std::vector<float> before(in[0].tensor.data<float>(), in[0].tensor.data<float>() + in[0].tensor.numel());
  ASSERT_TRUE(p.predict_async(in).get().ok());
  EXPECT_EQ(0, std::memcmp(before.data(), in[0].tensor.raw(), in[0].tensor.byte_size()));
}

TEST(Predictor, CancelledBeforeStartDoesNoWork) {
  auto model = load_model();
  Predictor p(model);
  CancellationToken token;
  token.cancel();
  std::vector<PredictEvent> events;
  auto r = p.predict_async(counted_input(1), {.cancel = token, .events = &events}).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::cancelled);
  EXPECT_TRUE(events.empty()) << "a prediction cancelled before it started must not run any segment";
}

TEST(Predictor, DeadlineExceededIsDistinct) {
  auto model = load_model();
  Predictor p(model);
  auto r = p.predict_async(counted_input(1), {.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1)}).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::deadline_exceeded);
}

TEST(Predictor, ThousandsOfAsyncPredictionsFromSeveralThreadsWithCancellation) {
  auto model = load_model();
  std::vector<std::vector<Value>> inputs;
  std::vector<std::vector<float>> expected;
  for (int i = 0; i < 16; ++i) {
    inputs.push_back(counted_input(i * 31));
    expected.push_back(first_output(model->predict(inputs.back())));
  }
  Predictor p(model, {.max_in_flight = 8, .overflow = OverflowPolicy::block, .threads = 2});
  std::atomic<int> ok{0}, cancelled{0}, wrong{0}, other{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      std::vector<std::pair<std::future<Result<Outputs>>, int>> pending;
      for (int i = 0; i < 500; ++i) {
        int which = static_cast<int>(rng() % inputs.size());
        CancellationToken token;
        int mode = static_cast<int>(rng() % 4);  // 0: never, 1: before, 2: right after submit, 3: after completion
        if (mode == 1) token.cancel();
        pending.emplace_back(p.predict_async(inputs[static_cast<size_t>(which)], {.cancel = token}), which);
        if (mode == 2) token.cancel();
        if (pending.size() > 8 || i == 499) {
          for (auto& [f, w] : pending) {
            auto r = f.get();
            if (r.ok()) {
              (first_output(r) == expected[static_cast<size_t>(w)] ? ok : wrong)++;
            } else if (r.status().code() == StatusCode::cancelled) {
              cancelled++;
            } else {
              other++;
            }
          }
          pending.clear();
        }
        if (mode == 3) token.cancel();
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ok.load() + cancelled.load(), 2000);
  EXPECT_GT(ok.load(), 500);
  EXPECT_GT(cancelled.load(), 400);  // every "before" at least
}

TEST(Predictor, DropOldestWithALimitOfTwoHoldsAtMostTwoPredictionsMemory) {
  auto model = load_model();
  g_peak_live_inputs = 0;
  std::atomic<int> dropped{0}, done{0};
  {
    Predictor p(model, {.max_in_flight = 2, .overflow = OverflowPolicy::drop_oldest, .threads = 1});
    ASSERT_EQ(g_live_inputs.load(), 0);
    for (int i = 0; i < 300; ++i) {
      // The producer makes the frame, hands it over and keeps nothing: the predictor then holds it.
      p.predict_async(counted_input(i), {}, [&](Result<Outputs> r) {
        if (!r.ok() && r.status().code() == StatusCode::cancelled) dropped++;
        done++;
      });
      EXPECT_LE(g_live_inputs.load(), 2) << "after submitting frame " << i;
    }
    EXPECT_LE(p.stats().peak_pending, 2u);
  }
  EXPECT_EQ(done.load(), 300);
  EXPECT_GT(dropped.load(), 0) << "a producer faster than the model must drop frames";
  // Each frame is created before it is submitted, so at most the two in flight plus the new one.
  EXPECT_LE(g_peak_live_inputs.load(), 3);
  EXPECT_EQ(g_live_inputs.load(), 0);
}

TEST(Predictor, RejectAndQueuePolicies) {
  auto model = load_model();
  Predictor p(model, {.max_in_flight = 1, .overflow = OverflowPolicy::reject, .threads = 1});
  std::vector<std::future<Result<Outputs>>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(p.predict_async(counted_input(i)));
  int rejected = 0;
  for (auto& f : fs) {
    auto r = f.get();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::unavailable);
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  Predictor q(model, {.max_in_flight = 1, .overflow = OverflowPolicy::queue, .queue_capacity = 100, .threads = 1});
  std::vector<std::future<Result<Outputs>>> qs;
  for (int i = 0; i < 50; ++i) qs.push_back(q.predict_async(counted_input(i)));
  for (auto& f : qs) EXPECT_TRUE(f.get().ok());
}

size_t thread_count() { return test::process_thread_count(); }

// A million predictions in flight cost queue entries, not threads: the pool stays at the cap.
TEST(Predictor, AMillionInFlightRunOnABoundedPool) {
  auto model = load_model();
  std::thread([] {}).join();  // ThreadSanitizer starts a helper thread with the process's first new thread
  const size_t before = thread_count();
  Predictor p(model, {.max_in_flight = 1000000, .overflow = OverflowPolicy::block, .threads = 1000000});
  const size_t created = thread_count() - before;
  EXPECT_TRUE(p.status().ok()) << p.status().to_string();
  EXPECT_EQ(p.worker_threads(), Predictor::max_worker_threads());
  EXPECT_LE(created, Predictor::max_worker_threads());
  EXPECT_GE(created, 1u);
  std::atomic<int> ok{0};
  const int n = 200;
  std::vector<Value> in = counted_input(3);
  for (int i = 0; i < n; ++i)
    p.predict_async(in, {}, [&](Result<Outputs> r) {
      if (r.ok()) ++ok;
    });
  while (p.stats().completed + p.stats().failed + p.stats().cancelled < static_cast<size_t>(n)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(ok.load(), n);
  EXPECT_LE(p.stats().peak_in_flight, p.worker_threads());
  EXPECT_GT(p.stats().peak_pending, p.worker_threads()) << "predictions beyond the workers wait in the queue";
}

// In a child process as an unprivileged user allowed `max_threads` threads in all: builds a
// Predictor asking for 4 workers and returns what it got, as the child's exit code (0..4, or 100
// when the pool did not say why it is short, 101 when async predictions did not fail cleanly
// without workers, 102 when the limit could not be set).
int workers_under_thread_limit(rlim_t max_threads, const std::shared_ptr<PartitionedModel>& model) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit limit{max_threads, max_threads};
    if (::setgid(65534) != 0 || ::setuid(65534) != 0 || ::setrlimit(RLIMIT_NPROC, &limit) != 0) ::_exit(102);
    int code = 0;
    {
      Predictor p(model, {.max_in_flight = 8, .threads = 4});
      code = static_cast<int>(p.worker_threads());
      if (code < 4 && (p.status().ok() || p.status().code() != StatusCode::unavailable)) code = 100;
      if (code == 0) {
        auto r = p.predict_async(counted_input(1)).get();  // refused at once, no worker to wait for
        if (r.ok() || r.status().code() != StatusCode::unavailable) code = 101;
      }
    }
    ::_exit(code);  // no static destructors: they belong to the parent
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A thread limit makes the pool smaller instead of throwing (std::system_error) out of the
// constructor; with no thread at all, async predictions fail with the reason.
TEST(Predictor, RefusedThreadsShrinkThePoolWithoutThrowing) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "forks and drops privileges: not under sanitizers";
#endif
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the child as another user with a thread limit";
  auto model = load_model();
  EXPECT_EQ(workers_under_thread_limit(2, model), 1) << "the child's own thread plus one worker";
  EXPECT_EQ(workers_under_thread_limit(1, model), 0);
}

TEST(Predictor, DestroyingTheModelCompletesEverythingInFlight) {
  auto model = load_model();
  std::atomic<int> completed{0}, cancelled{0};
  {
    Predictor p(model, {.max_in_flight = 64, .overflow = OverflowPolicy::block, .threads = 1});
    for (int i = 0; i < 64; ++i)
      p.predict_async(counted_input(i), {}, [&](Result<Outputs> r) {
        if (r.ok()) completed++;
        else if (r.status().code() == StatusCode::cancelled) cancelled++;
      });
  }
  EXPECT_EQ(completed.load() + cancelled.load(), 64);
}

}  // namespace
}  // namespace switchyard
