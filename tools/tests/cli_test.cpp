// CLI tests: the switchyard commands as a user runs them (exit codes, output, renderable dot).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct CliRun {
  int code = -1;
  std::string out;
};

CliRun run(const std::string& args, const std::string& env = "") {
  std::string cmd = env + (env.empty() ? "" : " ") + "'" SWITCHYARD_CLI "' " + args + " 2>&1";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

const std::string kTestDouble = "SWITCHYARD_PLUGIN_PATH='" SWITCHYARD_TEST_DOUBLE_DIR "'";
const std::string kTiny = "'" SWITCHYARD_SOURCE_DIR "/models/tiny_cnn.onnx'";

TEST(Cli, BadArgumentsExitTwo) {
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_EQ(run("run").code, 2);
  EXPECT_EQ(run("run " + kTiny + " --bogus").code, 2);
  EXPECT_EQ(run("run " + kTiny + " --units cpu-and-tpu").code, 2);
  EXPECT_EQ(run("plan " + kTiny + " --format svg").code, 2);
  CliRun missing_device = run("run " + kTiny + " --device nope:0");
  EXPECT_EQ(missing_device.code, 2);
  EXPECT_NE(missing_device.out.find("devices present"), std::string::npos) << missing_device.out;
  EXPECT_EQ(run("conformance onnx --reference").code, 2);
}

TEST(Cli, RunJsonHasTheDocumentedFields) {
  CliRun r = run("run " + kTiny + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* field : {"\"load_ms\"", "\"predict_ms\"", "\"outputs\"", "\"name\": \"probabilities\"", "\"shape\": [1,10]",
                            "\"dtype\": \"float32\"", "\"placement\""})
    EXPECT_NE(r.out.find(field), std::string::npos) << field << " missing from " << r.out;
}

TEST(Cli, RunAllDevicesAndTheReference) {
  CliRun r = run("run " + kTiny + " --device all", kTestDouble);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("device:  cpu:0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device:  test_double:0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device:  reference"), std::string::npos) << r.out;
}

TEST(Cli, PlanTableJsonAndDot) {
  const std::string policy = std::string(SWITCHYARD_BINARY_DIR) + "/cli_test_policy.yaml";
  FILE* pf = std::fopen(policy.c_str(), "w");
  ASSERT_NE(pf, nullptr);
  std::fputs("units: cpu-and-gpu\nban:\n  ops: {Relu: [test_double:0]}\n", pf);
  std::fclose(pf);
  CliRun table = run("plan " + kTiny + " --policy '" + policy + "'", kTestDouble);
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("placements:"), std::string::npos);
  EXPECT_NE(table.out.find("Gemm is not in the manifest's ops list"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("test_double:0: banned by the policy"), std::string::npos) << table.out;
  CliRun json = run("plan " + kTiny + " --format json", kTestDouble);
  ASSERT_EQ(json.code, 0);
  EXPECT_NE(json.out.find("\"segments\""), std::string::npos);
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "Graphviz (dot) is not installed: scripts/setup.sh installs it";
  std::string dot_out = std::string(SWITCHYARD_BINARY_DIR) + "/plan_test.svg";
  CliRun dot = run("plan " + kTiny + " --device test_double:0 --device cpu:0 --format dot | dot -Tsvg -o '" + dot_out + "'", kTestDouble);
  EXPECT_EQ(dot.code, 0) << dot.out;
  FILE* f = std::fopen(dot_out.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char head[64] = {0};
  size_t n = std::fread(head, 1, sizeof head - 1, f);
  std::fclose(f);
  EXPECT_GT(n, 0u);
  EXPECT_NE(std::string(head).find("<?xml"), std::string::npos);
}

TEST(Cli, StrictPlanFailsNamingTheNode) {
  CliRun r = run("plan " + kTiny + " --units cpu-and-gpu --strict", kTestDouble);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("Gemm 'fc' would run on cpu:0"), std::string::npos) << r.out;
}

TEST(Cli, PolicyFileErrorsAreClear) {
  CliRun r = run("plan " + kTiny + " --policy /nonexistent.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("policy file '/nonexistent.yaml' not found"), std::string::npos) << r.out;
}

}  // namespace
