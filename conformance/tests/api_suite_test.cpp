// The api suite: listed without loading a plugin; passing on the built-in devices (cpu:0, the
// template plugin, opencl:0 where an OpenCL platform exists); and catching the faulty test
// doubles' faults with the right case and message: a completion called twice (in process), a
// crash and a hang in execute (worker processes, as the runner isolates them).
#include <set>

#include "../src/abi_probe.h"
#include "faulty_plugin/faulty_plugins.h"

namespace switchyard::conformance {
namespace {

using testing::device_in;
using testing::faulty;
using testing::run_by_name;

Result<std::vector<CaseSpec>> api() { return api_cases(SuiteConfig()); }

// The built-in plugins' breaks of the contract: none left (the suites found six, mended in the
// plugins). An entry here fails the test once its plugin is mended, so that it goes.
const std::vector<testing::KnownBreak> kCpuBreaks = {};
const std::vector<testing::KnownBreak> kOpenClBreaks = {};
const std::vector<testing::KnownBreak> kLevelZeroBreaks = {};

TEST(ApiSuite, ListsUniqueCasesWithoutLoadingAPlugin) {
  auto cases = api();
  ASSERT_TRUE(cases.ok()) << cases.status().to_string();
  std::set<std::string> names;
  for (const auto& c : *cases) {
    EXPECT_EQ(c.suite, "api");
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
  }
  for (const char* name : {"get_info_short_struct", "buffer_alloc_zero_size", "execute_completion_once", "execute_cancel_during",
                           "execute_concurrent_4_threads", "lifetime_repeated_init_shutdown", "buffer_map_coherent"})
    EXPECT_TRUE(names.count(name)) << name;
}

TEST(ApiSuite, TheReferenceHasNoTableToCall) {
  auto results = run_by_name(api(), reference_target_factory(), testing::in_process());
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  for (const auto& [name, r] : *results) {
    EXPECT_EQ(r.outcome, Outcome::skipped) << name;
    EXPECT_NE(r.reason.find("not a plugin's device"), std::string::npos) << name << ": " << r.reason;
  }
}

TEST(ApiSuite, PassesOnTheCpuDevice) {
  auto results = run_by_name(api(), device_in("", "cpu:0"));
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  EXPECT_GT(testing::expect_only_known_breaks(*results, "cpu:0", kCpuBreaks), 30);
}

TEST(ApiSuite, PassesOnTheTemplatePlugin) {
  auto results = run_by_name(api(), device_in(testing::kTemplateDir, "template:0"));
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  EXPECT_GT(testing::expect_only_known_breaks(*results, "template:0"), 30);
}

TEST(ApiSuite, PassesOnTheOpenClDevice) {
  auto results = run_by_name(api(), device_in("", "opencl:0"));
  if (!results.ok() && results.status().code() == StatusCode::unavailable) GTEST_SKIP() << results.status().to_string();
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  EXPECT_GT(testing::expect_only_known_breaks(*results, "opencl:0", kOpenClBreaks), 25);
}

// The NPU simulator behind the Level Zero plugin (ZE_ENABLE_ALT_DRIVERS, set by CTest).
TEST(ApiSuite, PassesOnTheLevelZeroDevice) {
  auto results = run_by_name(api(), device_in("", "level_zero:0"));
  if (!results.ok() && results.status().code() == StatusCode::unavailable) GTEST_SKIP() << results.status().to_string();
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  EXPECT_GT(testing::expect_only_known_breaks(*results, "level_zero:0", kLevelZeroBreaks), 25);
}

// The control: the test double without a fault is the template, and passes.
TEST(ApiSuite, TheFaultlessDoublePasses) {
  auto results = run_by_name(api(), faulty("faulty_none"));
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  EXPECT_GT(testing::expect_only_known_breaks(*results, "faulty_none:0"), 30);
}

// wrong_on_shape (for the ops suite, whose sweeps catch it): through the runtime's own path, the
// double is off by one in the first value when an input has a dimension of 7, and right otherwise.
TEST(ApiSuite, TheWrongOnShapeDoubleIsWrongOnlyOnDimensionSeven) {
  auto target = faulty("faulty_wrong_shape")();
  ASSERT_TRUE(target.ok()) << target.status().to_string();
  for (int64_t n : {6, 7}) {
    auto probe = abi::build_matmul_chain(n, 1);
    ASSERT_TRUE(probe.ok()) << probe.status().to_string();
    auto data = abi::probe_data(*probe, 1);
    ASSERT_TRUE(data.ok()) << data.status().to_string();
    auto got = (*target)(*probe->model, data->inputs);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    const float* want = data->expected[0].tensor.data<float>();
    const float* have = (*got)[0].tensor.data<float>();
    EXPECT_EQ(have[0], want[0] + (n == 7 ? 1.0f : 0.0f)) << "n = " << n;
    for (int64_t i = 1; i < n * n; ++i) ASSERT_EQ(have[i], want[i]) << "n = " << n << ", value " << i;
  }
}

// ... and the ops suite catches it: the cases with a dimension of 7 fail as mismatches, the
// others of the same operators pass.
TEST(ApiSuite, TheOpsSuiteCatchesTheWrongOnShapeDouble) {
  SuiteConfig config;
  auto all = ops_cases(config);
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  auto listed = filter_cases(std::move(all).value(), "^ops/(Add|Relu|MatMul)/float32/");
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  auto results = run_cases(*listed, faulty("faulty_wrong_shape"), {});
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  int failed = 0, passed = 0;
  for (const auto& r : *results) {
    if (r.outcome == Outcome::passed) ++passed;
    if (r.outcome != Outcome::failed) continue;
    ++failed;
    EXPECT_EQ(r.reason, "mismatch") << r.name << ": " << r.detail;
    EXPECT_NE(r.name.find('7'), std::string::npos) << "only cases with a dimension of 7 fail: " << r.name << ": " << r.detail;
  }
  EXPECT_GT(failed, 0) << "no case with a dimension of 7 among " << results->size();
  EXPECT_GT(passed, failed);
}

// completion_twice: the completion cases fail, naming the count; nothing crashes, in process too
// (the suite counts a second call; it never writes into a counter that is gone).
TEST(ApiSuite, CatchesACompletionCalledTwice) {
  auto run = run_by_name(api(), faulty("faulty_twice"), testing::in_process());
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  auto& results = *run;
  for (const char* name : {"execute_completion_once", "execute_completion_once_on_error"}) {
    const CaseResult& r = results[name];
    EXPECT_EQ(r.outcome, Outcome::failed) << name;
    EXPECT_NE((r.reason + r.detail).find("2 times"), std::string::npos) << name << ": " << r.reason << ": " << r.detail;
  }
  EXPECT_EQ(results["execute_completion_once"].reason, "completion called twice");
  EXPECT_EQ(results["buffer_alloc_write_read"].outcome, Outcome::passed) << "only execute is faulty";
}

// crash_in_execute: every case that executes fails as a crash in sy_plugin_api.execute, alone;
// the others pass.
TEST(ApiSuite, CatchesACrashInExecute) {
  auto cases = filter_cases(*api(), "api/(execute_plugin_allocated_outputs|execute_completion_once|buffer_alloc_write_read|"
                                    "compile_agrees_with_query_support)$");
  ASSERT_TRUE(cases.ok()) << cases.status().to_string();
  auto run = run_by_name(cases, faulty("faulty_crash"));
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  auto& results = *run;
  const CaseResult& r = results["execute_plugin_allocated_outputs"];
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.reason, "crash") << r.detail;
  EXPECT_NE(r.abi_call.find("sy_plugin_api.execute"), std::string::npos) << r.abi_call;
  EXPECT_NE(r.detail.find("signal 11"), std::string::npos) << r.detail;
  EXPECT_EQ(results["execute_completion_once"].reason, "crash") << "a fresh worker takes the next case, and crashes alone too";
  EXPECT_EQ(results["buffer_alloc_write_read"].outcome, Outcome::passed);
  EXPECT_EQ(results["compile_agrees_with_query_support"].outcome, Outcome::passed);
}

// hang_in_execute: the case is killed at its time limit and failed as a timeout in execute.
TEST(ApiSuite, CatchesAHangInExecuteAsATimeout) {
  auto cases = filter_cases(*api(), "api/(execute_plugin_allocated_outputs|buffer_alloc_write_read)$");
  ASSERT_TRUE(cases.ok());
  RunOptions options;
  options.case_timeout_s = 2;
  auto run = run_by_name(cases, faulty("faulty_hang"), options);
  ASSERT_TRUE(run.ok()) << run.status().to_string();
  auto& results = *run;
  const CaseResult& r = results["execute_plugin_allocated_outputs"];
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.reason, "timeout") << r.detail;
  EXPECT_NE(r.abi_call.find("sy_plugin_api.execute"), std::string::npos) << r.abi_call;
  EXPECT_EQ(results["buffer_alloc_write_read"].outcome, Outcome::passed) << "the next case runs in a fresh worker";
}

}  // namespace
}  // namespace switchyard::conformance
