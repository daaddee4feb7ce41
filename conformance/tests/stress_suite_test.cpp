// The stress suite in this process: every case passes on cpu:0 (and on the template device) with a
// smaller N; a workload whose predictions disagree with its expected outputs fails; the ledger
// catches lost, repeated and unexpected completions; the in-flight measure counts overlaps.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>

#include "../src/models_stress.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/conformance/targets.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kPredictions = 300;

Target cpu_target() {
  auto target = device_target_factory("cpu:0")();
  EXPECT_TRUE(target.ok()) << target.status().to_string();
  return *target;
}

SuiteConfig with_predictions(int n) {
  SuiteConfig config;
  config.stress_predictions = n;
  return config;
}

CaseResult run_timed(const CaseSpec& c, const Target& target) {
  const auto t = Clock::now();
  CaseResult r = c.run(target);
  r.seconds = std::chrono::duration<double>(Clock::now() - t).count();
  std::printf("stress/%s on %s: %s (%.2f s) %s | %s\n", c.name.c_str(), target.device_id.c_str(), outcome_name(r.outcome), r.seconds,
              r.reason.c_str(), r.detail.c_str());
  return r;
}

TEST(StressSuite, ListsItsCasesWithTheirCount) {
  auto cases = stress_cases(with_predictions(1234));
  ASSERT_TRUE(cases.ok()) << cases.status().to_string();
  std::vector<std::string> names;
  for (const auto& c : *cases) names.push_back(c.suite + "/" + c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stress/async_1234_random_cancel", "stress/deadlines", "stress/in_flight_limit",
                                              "stress/several_executables", "stress/rss_stable"}));
  EXPECT_FALSE(stress_cases(with_predictions(0)).ok());
}

TEST(StressSuite, EveryCasePassesOnCpu) {
  auto cases = stress_cases(with_predictions(kPredictions));
  ASSERT_TRUE(cases.ok()) << cases.status().to_string();
  const Target cpu = cpu_target();
  for (const auto& c : *cases) {
    CaseResult r = run_timed(c, cpu);
    EXPECT_EQ(r.outcome, Outcome::passed) << c.name << ": " << r.reason << " " << r.detail;
    EXPECT_LT(r.seconds, 30) << c.name;
  }
}

TEST(StressSuite, RandomCancelCountsEveryKindOfPrediction) {
  auto workloads = stress_workloads(cpu_target(), 1e-3, 1e-7, 11, 1);
  ASSERT_TRUE(workloads.ok()) << workloads.status().to_string();
  const StressWorkload& w = workloads->front();
  EXPECT_EQ(w.name, "mlp (MatMul+Add+Relu+Softmax)");
  EXPECT_TRUE(std::regex_search(w.placement, std::regex(R"(^\d+ of \d+ nodes on cpu:0 \(1 segment\)$)"))) << w.placement;
  CaseResult r = stress_random_cancel(w, kPredictions, 11);
  ASSERT_EQ(r.outcome, Outcome::passed) << r.reason << " " << r.detail;
  // Cancelled before submission: every one cancelled; never cancelled: every one correct.
  EXPECT_TRUE(std::regex_search(r.detail, std::regex(R"(cancelled before submission: \d+ cancelled;)"))) << r.detail;
  EXPECT_TRUE(std::regex_search(r.detail, std::regex(R"(left alone: \d+ correct(;|$))"))) << r.detail;
}

// The device's predictions disagree with what the workload expects for one input set: the
// case fails, naming the set and the value.
TEST(StressSuite, WrongPredictionsFail) {
  auto workloads = stress_workloads(cpu_target(), 1e-3, 1e-7, 11, 1);
  ASSERT_TRUE(workloads.ok()) << workloads.status().to_string();
  StressWorkload w = workloads->front();
  Tensor moved = w.expected[3][0].tensor.clone();
  moved.mutable_data<float>()[5] += 0.01f;
  w.expected[3][0] = Value::of(moved);
  for (auto* run : {&stress_random_cancel, &stress_deadlines, &stress_in_flight_limit}) {
    CaseResult r = run(w, kPredictions, 11);
    EXPECT_EQ(r.outcome, Outcome::failed) << r.detail;
    EXPECT_EQ(r.reason, "wrong result") << r.detail;
    EXPECT_NE(r.detail.find("input set 3, output 0: 1 of 512 values differ; worst at [5]"), std::string::npos) << r.detail;
  }
  CaseResult several = stress_several_executables({w, workloads->front()}, kPredictions, 11);
  EXPECT_EQ(several.outcome, Outcome::failed) << several.detail;
  CaseResult rss = stress_rss_stable(w, kPredictions, 11);
  EXPECT_EQ(rss.outcome, Outcome::failed) << rss.detail;
  EXPECT_EQ(rss.reason, "wrong result") << rss.detail;
}

TEST(StressSuite, TheReferenceIsSkipped) {
  auto reference = reference_target_factory()();
  ASSERT_TRUE(reference.ok());
  reference->device_id = "reference";
  auto cases = stress_cases(with_predictions(10));
  ASSERT_TRUE(cases.ok());
  CaseResult r = (*cases)[0].run(*reference);
  EXPECT_EQ(r.outcome, Outcome::skipped);
  EXPECT_NE(r.reason.find("needs a device"), std::string::npos) << r.reason;
}

// The template device claims the MLP whole: the suite runs on it alone.
TEST(StressSuite, EveryCasePassesOnTheTemplateDevice) {
  const fs::path dir = fs::path(SWITCHYARD_BINARY_DIR) / "lib/switchyard/template";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not built";
  DiscoveryOptions discovery;
  discovery.extra_paths = {dir};
  discovery.only_plugins = {"template", "cpu"};
  auto registry = std::make_shared<const DeviceRegistry>(DeviceRegistry::discover(discovery));
  auto device = registry->find("template:0");
  ASSERT_TRUE(device.ok()) << device.status().to_string();
  Target target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
    return Status(StatusCode::internal, "the stress suite predicts through the registry, not Target::run");
  });
  target.device_id = "template:0", target.device = *device, target.registry = registry;
  auto cases = stress_cases(with_predictions(200));
  ASSERT_TRUE(cases.ok());
  for (const auto& c : *cases) {
    CaseResult r = run_timed(c, target);
    EXPECT_EQ(r.outcome, Outcome::passed) << c.name << ": " << r.reason << " " << r.detail;
    EXPECT_NE(r.detail.find("of 6 nodes on template:0 (1 segment)"), std::string::npos) << r.detail;
  }
}

// ---- the ledger and the in-flight measure on their own ----

StressWorkload named(const std::string& name) {
  StressWorkload w;
  w.name = name;
  return w;
}

TEST(StressLedger, CatchesLostRepeatedAndUnexpectedCompletions) {
  const StressWorkload w = named("w");
  StressLedger ledger(4);
  ledger.tag(2, "left alone");
  ledger.callback(0, w, 0, may_cancel)(Status(StatusCode::cancelled, "x"));
  auto twice = ledger.callback(1, w, 0, may_cancel);
  twice(Status(StatusCode::cancelled, "x"));
  twice(Status(StatusCode::cancelled, "x"));
  ledger.callback(2, w, 0, may_succeed)(Status(StatusCode::cancelled, "stopped"));
  EXPECT_FALSE(ledger.wait_all(std::chrono::milliseconds(10)));  // prediction 3 never completes
  const std::string problems = ledger.problems();
  EXPECT_NE(problems.find("1 of 4 predictions never completed (the first: prediction 3)"), std::string::npos) << problems;
  EXPECT_NE(problems.find("1 x completed more than once"), std::string::npos) << problems;
  EXPECT_NE(problems.find("1 x unexpected cancelled (first: unexpected cancelled: prediction 2 (w), left alone: cancelled: stopped)"),
            std::string::npos)
      << problems;
  EXPECT_EQ(ledger.cancelled(), 3u);
  EXPECT_EQ(ledger.outcomes_by_tag(), "2 cancelled, 1 never completed; left alone: 1 cancelled");
}

TEST(StressLedger, RejectionsAndMissedDeadlinesCountWhereAllowed) {
  const StressWorkload w = named("w");
  StressLedger ledger(2);
  ledger.callback(0, w, 0, may_be_rejected)(Status(StatusCode::unavailable, "rejected: 2 in flight"));
  ledger.callback(1, w, 0, may_miss_deadline)(Status(StatusCode::deadline_exceeded, "late"));
  EXPECT_TRUE(ledger.wait_all(std::chrono::milliseconds(10)));
  EXPECT_EQ(ledger.problems(), "");
  EXPECT_EQ(ledger.rejected(), 1u);
  EXPECT_EQ(ledger.deadline_exceeded(), 1u);
}

TEST(StressLedger, PeakOverlapCountsPredictionsRunningAtOnce) {
  const auto t0 = Clock::now();
  auto span = [&](int from, int to) {
    PredictEvent e;
    e.kind = PredictEvent::Kind::segment;
    e.start = t0 + std::chrono::milliseconds(from), e.end = t0 + std::chrono::milliseconds(to);
    return std::vector<PredictEvent>{e};
  };
  // [0,10) [5,15) [10,20) [12,13): at 12 three run; 10 is an end and a start (not overlapping).
  EXPECT_EQ(peak_overlap({span(0, 10), span(5, 15), span(10, 20), span(12, 13), {}}), 3u);
  EXPECT_EQ(peak_overlap({span(0, 10), span(10, 20)}), 1u);
  // Two segments of one prediction are one span.
  auto two = span(0, 2);
  two.push_back(span(8, 10)[0]);
  EXPECT_EQ(peak_overlap({two, span(3, 4)}), 2u);
}

}  // namespace
}  // namespace switchyard::conformance
