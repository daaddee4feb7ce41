// Per-prediction limits: a deadline stops a Loop of 10^12 iterations inside the kernel (on the CPU
// plugin and on the reference), cancellation reaches the kernel while a deadline is set too, one
// watchdog thread serves every prediction, and the memory limit stops accumulating scan outputs
// and is checked at segment boundaries.
#include <gtest/gtest.h>

#include <dirent.h>

#include <chrono>
#include <regex>
#include <thread>

#include "endless_loop_model.h"
#include "switchyard/runtime/predictor.h"
#include "switchyard/reference/interpreter.h"
#include "process_threads.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint64_t k64MiB = uint64_t{64} << 20;

const DeviceRegistry& registry() {
  static DeviceRegistry reg = DeviceRegistry::discover();
  return reg;
}

std::shared_ptr<Model> endless_loop(bool with_scan) {
  const std::string bytes = test::endless_loop_onnx(with_scan);
  auto m = import_onnx_bytes(bytes.data(), bytes.size());
  if (!m.ok()) throw std::runtime_error(m.status().to_string());
  return *m;
}

std::shared_ptr<PartitionedModel> on_cpu(std::shared_ptr<const Model> model) {
  PartitionOptions options;
  options.policy.devices = {"cpu:0"};
  auto pm = PartitionedModel::load(std::move(model), registry(), options);
  if (!pm.ok()) throw std::runtime_error(pm.status().to_string());
  return *pm;
}

std::vector<Value> loop_input() { return {Value::of(Tensor::allocate(ElementType::float32, {1024}))}; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

size_t thread_count() { return test::process_thread_count(); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Limits, DeadlineStopsAnEndlessLoopOnTheCpu) {
  auto pm = on_cpu(endless_loop(false));
  PredictControl control;
  control.deadline = Clock::now() + 200ms;
  const auto t0 = Clock::now();
  auto r = pm->predict(loop_input(), &control);
  EXPECT_LT(seconds_since(t0), 30);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::deadline_exceeded) << r.status().to_string();
  const std::string& m = r.status().message();
  // The deadline is counted from when the prediction started (a moment after it was set: <= 200 ms).
  EXPECT_TRUE(std::regex_search(m, std::regex("passed its deadline, (1[0-9]{2}|200)\\.[0-9] ms after it started; stopped after")))
      << m;
  EXPECT_TRUE(std::regex_search(m, std::regex("Loop 'endless': (stopped at )?iteration [0-9]+"))) << m;
}

TEST(Limits, DeadlineStopsAnEndlessLoopOnTheReference) {
  auto model = endless_loop(false);
  const StopFlag stop(std::nullopt, Clock::now() + 200ms);
  reference::RunOptions options;
  options.limits.cancel_flag = stop.flag();
  const auto t0 = Clock::now();
  auto r = reference::Interpreter().run(model->graph, loop_input(), options);
  EXPECT_LT(seconds_since(t0), 30);
  ASSERT_FALSE(r.ok());
  const Status st = stop.explain(r.status());
  EXPECT_EQ(st.code(), StatusCode::deadline_exceeded) << st.to_string();
  EXPECT_TRUE(contains(st.message(), "Loop 'endless'")) << st.message();
}

TEST(Limits, PredictorTimeoutAndCancellationReachTheKernel) {
  auto pm = on_cpu(endless_loop(false));
  Predictor p(pm, {.threads = 2});
  auto t0 = Clock::now();
  auto timed_out = p.predict_async(loop_input(), {.timeout = 200ms}).get();
  EXPECT_LT(seconds_since(t0), 30);
  EXPECT_EQ(timed_out.status().code(), StatusCode::deadline_exceeded) << timed_out.status().to_string();
  auto sync = p.predict(loop_input(), {.timeout = 200ms});
  EXPECT_EQ(sync.status().code(), StatusCode::deadline_exceeded) << sync.status().to_string();
  // A token cancelled while the loop runs stops it, also when a (distant) deadline is set.
  CancellationToken token;
  t0 = Clock::now();
  auto future = p.predict_async(loop_input(), {.cancel = token, .timeout = 600s});
  std::this_thread::sleep_for(100ms);
  token.cancel();
  auto cancelled = future.get();
  EXPECT_LT(seconds_since(t0), 30);
  EXPECT_EQ(cancelled.status().code(), StatusCode::cancelled) << cancelled.status().to_string();
  EXPECT_EQ(p.stats().failed, 1u) << "the timed-out async prediction";
}

TEST(Limits, OneWatchdogThreadServesEveryDeadline) {
  auto pm = on_cpu(endless_loop(false));
  Predictor p(pm, {.max_in_flight = 16, .threads = 4});
  const size_t before = thread_count();
  std::vector<std::future<Result<Outputs>>> futures;
  for (int i = 0; i < 16; ++i) futures.push_back(p.predict_async(loop_input(), {.timeout = 300ms}));
  std::this_thread::sleep_for(150ms);
  const size_t during = thread_count();
  for (auto& f : futures) EXPECT_EQ(f.get().status().code(), StatusCode::deadline_exceeded);
  EXPECT_LE(during, before + 1) << "4 predictions run at once under deadlines: at most one timer thread more";
}

TEST(Limits, ScanOutputsStopAtTheMemoryLimit) {
  auto pm = on_cpu(endless_loop(true));
  PredictControl control;
  control.max_memory_bytes = k64MiB;
  const auto t0 = Clock::now();
  auto r = pm->predict(loop_input(), &control);
  EXPECT_LT(seconds_since(t0), 30);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::resource_exhausted) << r.status().to_string();
  const std::string& m = r.status().message();
  EXPECT_TRUE(contains(m, "Loop 'endless'") && contains(m, "scan outputs") && contains(m, "memory limit of 67108864 bytes")) << m;
  // The same on the reference.
  auto model = endless_loop(true);
  reference::RunOptions options;
  options.limits.max_memory_bytes = k64MiB;
  auto ref = reference::Interpreter().run(model->graph, loop_input(), options);
  EXPECT_EQ(ref.status().code(), StatusCode::resource_exhausted) << ref.status().to_string();
}

TEST(Limits, MemoryIsCheckedAtSegmentBoundaries) {
  auto pm = on_cpu(import_onnx_file(fs::path(SWITCHYARD_SOURCE_DIR) / "models" / "tiny_cnn.onnx").value());
  std::vector<Value> image = {Value::of(Tensor::allocate(ElementType::float32, {1, 3, 32, 32}))};
  PredictControl control;
  control.max_memory_bytes = 1024;  // the 12 KiB input alone is over it
  auto r = pm->predict(image, &control);
  EXPECT_EQ(r.status().code(), StatusCode::resource_exhausted) << r.status().to_string();
  EXPECT_TRUE(contains(r.status().message(), "after segment #0 on cpu:0") && contains(r.status().message(), "limit of 1024 bytes"))
      << r.status().message();
  Predictor p(pm, {.threads = 1});
  EXPECT_EQ(p.predict_async(image, {.max_memory_bytes = 1024}).get().status().code(), StatusCode::resource_exhausted);
  control.max_memory_bytes = k64MiB;
  EXPECT_TRUE(pm->predict(image, &control).ok()) << "well under the limit";
}

}  // namespace
}  // namespace switchyard
