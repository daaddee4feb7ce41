// The runner: worker processes that survive many cases, a crash or hang failing its case alone and
// naming the ABI call it was in, sharding, and a target that cannot be built.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "switchyard/conformance/runner.h"
#include "switchyard/hal/abi_calls.h"

namespace switchyard::conformance {
namespace {

Target trivial_target() {
  return Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> { return std::vector<Value>(); });
}
TargetFactory trivial_factory() {
  return [] { return Result<Target>(trivial_target()); };
}

CaseSpec make_case(const std::string& name, std::function<CaseResult(const Target&)> run) { return {"unit", name, "Op", std::move(run)}; }

CaseResult passes(const Target&) {
  CaseResult r;
  r.outcome = Outcome::passed;
  return r;
}

TEST(Runner, ManyCasesShareWorkersAndKeepTheirOrder) {
  std::vector<CaseSpec> cases;
  for (int i = 0; i < 200; ++i)
    cases.push_back(make_case("case" + std::to_string(i), [i](const Target&) {
      CaseResult r;
      r.outcome = i % 3 == 0 ? Outcome::skipped : Outcome::passed;
      r.reason = i % 3 == 0 ? "pid " + std::to_string(::getpid()) : "";
      return r;
    }));
  RunOptions o;
  o.jobs = 2;
  auto results = run_cases(cases, trivial_factory(), o);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 200u);
  std::set<std::string> workers;
  for (size_t i = 0; i < results->size(); ++i) {
    EXPECT_EQ((*results)[i].name, "case" + std::to_string(i));
    EXPECT_EQ((*results)[i].op, "Op") << "the spec's op fills a result that names none";
    if (i % 3 == 0) workers.insert((*results)[i].reason);
  }
  EXPECT_LE(workers.size(), 2u) << "two workers run all 200 cases";
}

TEST(Runner, ACrashFailsItsCaseNamingTheAbiCallAndTheNextCaseRuns) {
  std::vector<CaseSpec> cases = {make_case("before", passes), make_case("crashes", [](const Target&) -> CaseResult {
                                   AbiCall call("sy_plugin_api.execute");
                                   std::raise(SIGSEGV);
                                   return {};
                                 }),
                                 make_case("after", passes)};
  auto results = run_cases(cases, trivial_factory(), {});
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), 3u);
  const CaseResult& crash = (*results)[1];
  EXPECT_EQ(crash.outcome, Outcome::failed);
  EXPECT_EQ(crash.reason, "crash");
  EXPECT_EQ(crash.abi_call, "sy_plugin_api.execute");
  EXPECT_NE(crash.detail.find("signal 11 (Segmentation fault) in sy_plugin_api.execute"), std::string::npos) << crash.detail;
  EXPECT_NE(crash.backtrace.find("runner_test.cpp"), std::string::npos) << "symbolised with file and line: " << crash.backtrace;
  EXPECT_EQ((*results)[0].outcome, Outcome::passed);
  EXPECT_EQ((*results)[2].outcome, Outcome::passed) << "a fresh worker runs the case after the crash";
}

TEST(Runner, AHangTimesOutNamingTheAbiCall) {
  std::vector<CaseSpec> cases = {make_case("hangs", [](const Target&) -> CaseResult {
    AbiCall call("sy_plugin_api.compile");
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  })};
  RunOptions o;
  o.case_timeout_s = 0.3;
  auto results = run_cases(cases, trivial_factory(), o);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].reason, "timeout");
  EXPECT_EQ((*results)[0].abi_call, "sy_plugin_api.compile");
  EXPECT_NE((*results)[0].detail.find("it was in sy_plugin_api.compile"), std::string::npos) << (*results)[0].detail;
}

TEST(Runner, AnExceptionFailsTheCase) {
  std::vector<CaseSpec> cases = {make_case("throws", [](const Target&) -> CaseResult { throw std::runtime_error("boom"); })};
  auto results = run_cases(cases, trivial_factory(), {});
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].reason, "exception");
  EXPECT_EQ((*results)[0].detail, "boom");
}

TEST(Runner, AnUnavailableTargetIsOneErrorWithItsReason) {
  std::vector<CaseSpec> cases;
  for (int i = 0; i < 50; ++i) cases.push_back(make_case("c" + std::to_string(i), passes));
  TargetFactory absent = [] { return Result<Target>(Status(StatusCode::unavailable, "plugin 'vnpu' failed to load: missing libvnpu.so")); };
  RunOptions o;
  o.jobs = 2;
  auto results = run_cases(cases, absent, o);
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.status().message().find("missing libvnpu.so"), std::string::npos) << results.status().to_string();
}

TEST(Runner, ShardsAreDisjointCoveringAndStable) {
  std::vector<CaseSpec> cases;
  for (int i = 0; i < 1000; ++i) cases.push_back({"ops", "Add/case" + std::to_string(i), "Add", passes});
  std::vector<int> owner(cases.size(), 0);
  for (int k = 1; k <= 4; ++k) {
    Shard s{k, 4};
    int n = 0;
    for (size_t i = 0; i < cases.size(); ++i)
      if (s.contains(cases[i])) ++owner[i], ++n;
    EXPECT_GT(n, 150) << "shard " << k << " of 4 holds a fair share";
  }
  for (int o : owner) EXPECT_EQ(o, 1) << "every case in exactly one shard";
  // Stable: adding cases moves none of the others.
  Shard third{3, 4};
  const bool before = third.contains(cases[17]);
  cases.push_back({"ops", "New/case", "New", passes});
  EXPECT_EQ(third.contains(cases[17]), before);
  EXPECT_FALSE(parse_shard("0/4").ok());
  EXPECT_FALSE(parse_shard("5/4").ok());
  EXPECT_FALSE(parse_shard("1/4x").ok());
  ASSERT_TRUE(parse_shard("2/4").ok());
  EXPECT_EQ(parse_shard("2/4")->index, 2);
}

}  // namespace
}  // namespace switchyard::conformance
