// `switchyard conformance` as CI farms drive it: shards that cover the run exactly once and merge
// into one report, an absent device's load failure said once, and the closing counts line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "switchyard/conformance/report.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;
};

// Runs a shell command, stdout and stderr together.
CliRun shell(const std::string& command) {
  CliRun r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `switchyard conformance ARGS` with SWITCHYARD_PLUGIN_PATH set to `plugin_path` (empty: the
// plugins beside the binary).
std::string conformance_command(const std::string& args, const std::string& plugin_path = "") {
  return "SWITCHYARD_PLUGIN_PATH='" + plugin_path + "' '" SWITCHYARD_BINARY_DIR "/bin/switchyard' conformance " + args;
}

CliRun cli(const std::string& args, const std::string& plugin_path = "") { return shell(conformance_command(args, plugin_path)); }

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') + 1);
}

std::set<std::string> case_ids(const Report& r) {
  std::set<std::string> ids;
  for (const auto& c : r.cases) ids.insert(c.suite + "/" + c.name + "=" + outcome_name(c.outcome));
  return ids;
}

const std::string kCorpus = std::string(SWITCHYARD_SHARED_DIR) + "/onnx-backend/node";

TEST(KitCli, FourShardsMergeIntoTheWholeRun) {
  if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "corpus not found at " << kCorpus;
  const fs::path dir = fs::path(::testing::TempDir()) / "kit_shards";
  fs::remove_all(dir);
  const std::string common = "onnx --tests '" + kCorpus + "' --device cpu:0 --filter 'relu|add|conv' ";
  CliRun whole = cli(common + "--report '" + (dir / "whole").string() + "'");
  ASSERT_EQ(whole.code, 0) << whole.out;
  std::string shard_dirs;
  for (int k = 1; k <= 4; ++k) {
    const fs::path d = dir / ("shard" + std::to_string(k));
    CliRun shard = cli(common + "--shard " + std::to_string(k) + "/4 --report '" + d.string() + "'");
    ASSERT_EQ(shard.code, 0) << shard.out;
    shard_dirs += " '" + d.string() + "'";
  }
  CliRun merged = cli("merge" + shard_dirs + " --report '" + (dir / "merged").string() + "'");
  ASSERT_EQ(merged.code, 0) << merged.out;
  EXPECT_EQ(last_line(merged.out), last_line(whole.out)) << merged.out;
  auto a = read_report(dir / "whole"), b = read_report(dir / "merged");
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().to_string() << b.status().to_string();
  EXPECT_GT(a->cases.size(), 50u);
  EXPECT_EQ(case_ids(*a), case_ids(*b));
  // The same shard twice overlaps: refused, naming a case.
  CliRun overlap = cli("merge '" + (dir / "shard1").string() + "' '" + (dir / "shard1").string() + "'");
  EXPECT_NE(overlap.code, 0);
  EXPECT_NE(overlap.out.find("onnx/test_"), std::string::npos) << overlap.out;
}

TEST(KitCli, AnAbsentDeviceSaysItsPluginsLoadFailureOnce) {
  CliRun r = cli("api --device old:0", SWITCHYARD_BINARY_DIR "/test-plugins/broken");
  const std::string& out = r.out;
  EXPECT_EQ(r.code, 1) << out;
  const std::string reason = "no longer loads 1.x plugins";
  ASSERT_NE(out.find(reason), std::string::npos) << out;
  EXPECT_EQ(out.find(reason, out.find(reason) + 1), std::string::npos) << "said once:\n" << out;
  EXPECT_NE(last_line(out).find(" failed, 0 skipped"), std::string::npos) << out;
}

TEST(KitCli, AReportThatCannotBeWrittenIsAnErrorAndTheCountsStillPrint) {
  if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "corpus not found at " << kCorpus;
  CliRun r = cli("onnx --tests '" + kCorpus + "' --reference --filter '^onnx/test_relu$' --report /proc/version/report");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("/proc/version/report"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "1 passed, 0 failed, 0 skipped") << r.out;
}

// The whole kit on a built-in device: every suite, with the corpus and ../shared/models, and the
// repository's expected-failures list (the corpus's noisy DFT cases): nothing may fail, and every
// report is written.
void expect_all_suites_pass(const std::string& device, const std::string& plugin_path) {
  if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "corpus not found at " << kCorpus;
  const fs::path dir = fs::path(::testing::TempDir()) / ("kit_all_" + device.substr(0, device.find(':')));
  CliRun r = cli("all --device " + device + " --tests '" + kCorpus + "' --models '" SWITCHYARD_SHARED_DIR "/models' --expected-failures '" SWITCHYARD_SOURCE_DIR
                 "/conformance/expected-failures.yaml' --report '" + dir.string() + "'",
                 plugin_path);
  const std::string& out = r.out;
  EXPECT_EQ(r.code, 0) << out;
  EXPECT_NE(last_line(out).find(" passed, 0 failed, "), std::string::npos) << out;
  for (const char* file : {"results.json", "junit.xml", "index.html"}) EXPECT_TRUE(fs::exists(dir / file)) << file;
  auto report = read_report(dir);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  std::set<std::string> suites;
  for (const auto& c : report->cases) suites.insert(c.suite);
  EXPECT_EQ(suites, (std::set<std::string>{"onnx", "ops", "models", "api", "cache", "stress"}));
  EXPECT_GT(report->cases.size(), 10000u);
}

TEST(KitCli, AllSuitesPassOnTheCpuDevice) { expect_all_suites_pass("cpu:0", ""); }
// The NPU simulator (ZE_ENABLE_ALT_DRIVERS, set for these tests by CMake): float16, so tolerances
// are derived per case and much of the sweep is not claimed (skipped with its answers).
TEST(KitCli, AllSuitesPassOnTheNpuDevice) {
  if (!fs::exists(SWITCHYARD_BINARY_DIR "/lib/switchyard/npusim/libswitchyard_npusim.so")) GTEST_SKIP() << "the NPU simulator is not built";
  expect_all_suites_pass("level_zero:0", "");
}
TEST(KitCli, AllSuitesPassOnTheTemplateDevice) {
  expect_all_suites_pass("template:0", SWITCHYARD_BINARY_DIR "/lib/switchyard/template");
}

// On a terminal (script(1) gives the run one) a live line counts cases, failures and time left;
// piped, plain lines instead, and never the terminal's control codes.
TEST(KitCli, ALiveProgressLineOnATerminalPlainLinesOtherwise) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) is not installed";
  CliRun tty = shell("script -qec \"" + conformance_command("api --device cpu:0") + "\" /dev/null");
  EXPECT_EQ(tty.code, 0) << tty.out;
  EXPECT_NE(tty.out.find("\r\033[K["), std::string::npos) << "a line rewritten in place";
  EXPECT_NE(tty.out.find("failed so far"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("ETA"), std::string::npos) << tty.out;
  CliRun piped = cli("api --device cpu:0");
  EXPECT_EQ(piped.out.find("\033["), std::string::npos) << piped.out;
  EXPECT_NE(piped.out.find("/35] "), std::string::npos) << piped.out;
}

TEST(KitCli, BadArgumentsAreUsageErrors) {
  for (const char* args : {"", "nosuchsuite --reference", "onnx --reference", "api --device cpu:0 --shard 5/4",
                           "api --device cpu:0 --reference", "api --device cpu:0 --jobs 0", "merge",
                           "api --device cpu:0 --expected-failures /nonexistent.yaml"}) {
    CliRun r = cli(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace switchyard::conformance
