// CLI tests: the switchyard commands as a user runs them (exit codes, output, renderable dot).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "endless_loop_model.h"

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

// The whole file, or "" if it cannot be read.
std::string read_text(const std::string& file) {
  std::string text;
  FILE* f = std::fopen(file.c_str(), "r");
  if (!f) return text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) text.append(buf, n);
  std::fclose(f);
  return text;
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
  // The same input twice used to take the last silently.
  const std::string out_dir = ::testing::TempDir() + "/cli_twice";
  ASSERT_EQ(run("run " + kTiny + " --output-dir '" + out_dir + "'").code, 0);
  const std::string npy = "'" + out_dir + "/probabilities.npy'";
  CliRun twice = run("run " + kTiny + " --input image=" + npy + " --input image=" + npy);
  EXPECT_EQ(twice.code, 2) << twice.out;
  EXPECT_NE(twice.out.find("'image' is given twice"), std::string::npos) << twice.out;
}

TEST(Cli, RangeCheckArgumentsAreChecked) {
  const std::string dir = ::testing::TempDir() + "/cli_calibration";
  ASSERT_EQ(run("run " + kTiny + " --output-dir '" + dir + "'").code, 0);
  const std::string file = dir + "/probabilities.npy";
  CliRun wrong_name = run("plan " + kTiny + " --calibration-input nope='" + file + "'");
  EXPECT_EQ(wrong_name.code, 2) << wrong_name.out;
  EXPECT_NE(wrong_name.out.find("the model has no input named 'nope' (its inputs: "), std::string::npos) << wrong_name.out;
  EXPECT_EQ(run("run " + kTiny + " --calibration-input nope='" + file + "'").code, 2);
  EXPECT_EQ(run("bench " + kTiny + " --calibration-input nope='" + file + "'").code, 2);
  CliRun missing = run("plan " + kTiny + " --calibration-input x=/nonexistent/x.npy");
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("--calibration-input x"), std::string::npos) << missing.out;
  EXPECT_EQ(run("plan " + kTiny + " --calibration-input x").code, 2);
  CliRun headroom = run("plan " + kTiny + " --range-headroom 0.5");
  EXPECT_EQ(headroom.code, 2);
  EXPECT_NE(headroom.out.find("--range-headroom expects a number >= 1, got '0.5'"), std::string::npos) << headroom.out;
  EXPECT_EQ(run("plan " + kTiny + " --no-range-check").code, 0);
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
  CliRun r = run("plan " + kTiny + " --device test_double:0 --device cpu:0 --strict", kTestDouble);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("Gemm 'fc' would run on cpu:0"), std::string::npos) << r.out;
}

TEST(Cli, PolicyFileErrorsAreClear) {
  CliRun r = run("plan " + kTiny + " --policy /nonexistent.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("policy file '/nonexistent.yaml' not found"), std::string::npos) << r.out;
}

}  // namespace

namespace {

TEST(Cli, BenchJsonHasTheDocumentedFields) {
  CliRun r = run("bench " + kTiny + " --requests 10 --concurrency 2 --cpu-threads 1 --fresh-runs 1 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"\"load\": {\"uncached_ms\"", "\"cached_ms\"", "\"compile_ms\"", "\"first_prediction_ms\"",
                        "\"sync\": {\"latency_ms\": {\"median\"", "\"p90\"", "\"p99\"", "\"throughput_per_s\"",
                        "\"async\": {\"concurrency\": 2, \"worker_threads\": 2", "\"segments\"", "\"sync_default_threads\"", "\"uncached_prepare_ms\"",
                        "\"cache_write_ms\"", "\"fresh_process\": {\"runs\": 1, \"state\": \"cached\"", "\"process_wall_ms\"",
                        "\"cached_restore_ms\"", "\"drift\": {\"window\"", "\"memory_mib\": {\"rss_after_load\""})
    EXPECT_NE(r.out.find(f), std::string::npos) << f << " missing from " << r.out;
  EXPECT_NE(r.out.find("\"cached\": true"), std::string::npos) << r.out;
}

// Checks the trace against the Chrome trace event format (complete "X" events with ts/dur/pid/tid,
// metadata "M" events naming tracks) and that async predictions overlap in time on separate lanes.
TEST(Cli, TraceFollowsTheTraceEventFormatAndShowsOverlap) {
  const std::string file = std::string(SWITCHYARD_BINARY_DIR) + "/cli_test_trace.json";
  CliRun r = run("bench " + kTiny + " --requests 30 --concurrency 2 --cpu-threads 1 --trace '" + file + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string text = read_text(file);
  ASSERT_FALSE(text.empty()) << file << " is missing or empty";
  ASSERT_EQ(text.rfind("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", 0), 0u);
  struct Span {
    std::string name;
    int tid;
    double ts, dur;
  };
  std::vector<Span> async_predictions;
  int x_events = 0, m_events = 0;
  bool cached_load = false, prepare_load = false, segment = false;
  size_t pos = 0;
  while ((pos = text.find("\n  {", pos)) != std::string::npos) {
    size_t end = text.find("}\n", pos) == std::string::npos ? text.size() : text.find("\n", pos + 1);
    std::string ev = text.substr(pos, end - pos);
    pos = end;
    auto field = [&](const std::string& key) -> std::string {
      auto k = ev.find("\"" + key + "\": ");
      if (k == std::string::npos) return {};
      k += key.size() + 4;
      auto stop = ev.find_first_of(",}", ev[k] == '"' ? ev.find('"', k + 1) : k);
      return ev.substr(k, stop - k);
    };
    std::string ph = field("ph");
    if (ph == "\"M\"") {
      ++m_events;
      continue;
    }
    ASSERT_EQ(ph, "\"X\"") << ev;
    ++x_events;
    for (const char* k : {"name", "cat", "ts", "dur", "pid", "tid"}) ASSERT_FALSE(field(k).empty()) << k << " missing in " << ev;
    std::string name = field("name");
    if (name == "\"load (cached)\"") cached_load = true;
    if (name == "\"load (prepare and cache)\"") prepare_load = true;
    if (field("cat") == "\"segment\"") segment = true;
    if (name.find("prediction (async") != std::string::npos)
      async_predictions.push_back({name, std::stoi(field("tid")), std::stod(field("ts")), std::stod(field("dur"))});
  }
  EXPECT_GT(m_events, 0);
  EXPECT_GT(x_events, 30);
  EXPECT_TRUE(cached_load && prepare_load && segment);
  ASSERT_EQ(async_predictions.size(), 30u);
  int overlaps = 0;
  for (size_t i = 0; i < async_predictions.size(); ++i)
    for (size_t j = i + 1; j < async_predictions.size(); ++j) {
      const auto& a = async_predictions[i];
      const auto& b = async_predictions[j];
      if (a.ts < b.ts + b.dur && b.ts < a.ts + a.dur) {
        ++overlaps;
        EXPECT_NE(a.tid, b.tid) << "overlapping predictions must be on separate lanes";
      }
    }
  EXPECT_GT(overlaps, 0) << "async predictions at concurrency 2 should overlap";
}

TEST(Cli, BenchHelpListsEveryFlag) {
  CliRun r = run("bench --help");
  ASSERT_EQ(r.code, 0);
  for (const char* flag : {"--units", "--device", "--policy", "--objective", "--strict", "--input-shape", "--calibration-input",
                           "--range-headroom", "--no-range-check", "--requests", "--concurrency", "--cpu-threads", "--sync-only",
                           "--fresh-runs", "--timeout", "--max-memory", "--trace", "--trace-max-events", "--json"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from bench --help:\n" << r.out;
  EXPECT_EQ(run("bench " + kTiny + " --fresh-runs -1").code, 2);
  EXPECT_EQ(run("bench " + kTiny + " --trace-max-events 0").code, 2);
}

// Memory stays flat however many predictions a bench makes: 10^4 against 10^3, without a trace and
// with one (bounded at 2000 spans, so the rest are dropped). Bound: 10% of the smaller run's RSS.
TEST(Cli, BenchMemoryIsFlatWithAndWithoutATrace) {
  const std::string trace = ::testing::TempDir() + "/flat_trace.json";
  auto rss = [&](int requests, bool traced) {
    CliRun r = run("bench " + kTiny + " --device cpu:0 --cpu-threads 1 --sync-only --fresh-runs 0 --json --requests " +
                   std::to_string(requests) + (traced ? " --trace '" + trace + "' --trace-max-events 2000" : ""));
    EXPECT_EQ(r.code, 0) << r.out;
    auto k = r.out.find("\"rss_after_sync\": ");
    return k == std::string::npos ? -1.0 : std::atof(r.out.c_str() + k + 18);
  };
  for (bool traced : {false, true}) {
    const double small = rss(1000, traced), large = rss(10000, traced);
    ASSERT_GT(small, 0);
    EXPECT_LT(large, small * 1.10) << (traced ? "with" : "without") << " a trace: " << small << " MiB after 10^3 predictions, " << large
                                   << " MiB after 10^4";
  }
}

// A run names the plugins it started in its trace: with --device cpu:0, the CPU plugin alone.
TEST(Cli, RunStartsOnlyThePluginsItsPolicyUses) {
  const std::string file = ::testing::TempDir() + "/discovery_trace.json";
  CliRun r = run("run " + kTiny + " --device cpu:0 --trace '" + file + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string text = read_text(file);
  ASSERT_FALSE(text.empty()) << file << " is missing or empty";
  EXPECT_NE(text.find("\"name\": \"discovery\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"plugins\": \"cpu\"}"), std::string::npos) << text;
}

// --trace on the CPU device shows its operators: one event per node it ran (a fused node carries
// the nodes fused into it), on the "cpu:0 operators" track, named "OpType name", each with its
// implementation, and every one inside its segment's span.
TEST(Cli, TraceShowsTheCpuDevicesOperatorsInsideTheirSegment) {
  const std::string file = ::testing::TempDir() + "/operator_trace.json";
  CliRun r = run("run " + kTiny + " --device cpu:0 --trace '" + file + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string text = read_text(file);
  ASSERT_NE(text.find("\"args\": {\"name\": \"cpu:0 operators\"}"), std::string::npos) << text;
  auto number = [](const std::string& line, const std::string& key) {
    auto k = line.find("\"" + key + "\": ");
    return k == std::string::npos ? -1.0 : std::stod(line.substr(k + key.size() + 4));
  };
  double seg_start = -1, seg_end = -1;
  std::vector<std::string> operators;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"cat\": \"segment\"") != std::string::npos) seg_start = number(line, "ts"), seg_end = seg_start + number(line, "dur");
    if (line.find("\"cat\": \"operator\"") != std::string::npos) operators.push_back(line);
  }
  ASSERT_GE(seg_start, 0.0) << text;
  // tiny_cnn: Conv, Relu, MaxPool, Conv, Relu, GlobalAveragePool, Flatten, Gemm, Softmax; the
  // Relus ride on their Convs.
  for (const char* node : {"Conv conv1", "MaxPool pool1", "Conv conv2", "GlobalAveragePool gap", "Flatten flatten", "Gemm fc", "Softmax softmax"})
    EXPECT_EQ(std::count_if(operators.begin(), operators.end(), [&](const std::string& l) { return l.find("\"name\": \"" + std::string(node) + "\"") != std::string::npos; }), 1)
        << node << "\n" << text;
  EXPECT_EQ(operators.size(), 7u) << text;
  for (const auto& op : operators) {
    EXPECT_EQ(op.find("\"implementation\": \"\""), std::string::npos) << "no implementation named: " << op;
    EXPECT_NE(op.find("\"implementation\": \""), std::string::npos) << op;
    EXPECT_GE(number(op, "ts"), seg_start - 0.001) << op;
    EXPECT_LE(number(op, "ts") + number(op, "dur"), seg_end + 0.001) << op;
  }
  EXPECT_NE(text.find("\"name\": \"Conv conv1\", \"cat\": \"operator\""), std::string::npos);
  EXPECT_NE(text.find("onednn+fused"), std::string::npos) << "the Conv+Relu fusion is named: " << text;
}

}  // namespace

namespace {
// Paths a careless or hostile user gives, one per class: missing, a directory, a FIFO, an empty
// file, bytes that are not the format, a model cut short.
std::vector<std::pair<std::string, std::string>> bad_paths(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/folder");
  ::mkfifo((dir + "/fifo").c_str(), 0644);
  std::ofstream(dir + "/empty");
  std::ofstream(dir + "/garbage") << std::string(300, '\x07') << "not a model";
  const std::string tiny = SWITCHYARD_SOURCE_DIR "/models/tiny_cnn.onnx";
  std::filesystem::copy_file(tiny, dir + "/cut.onnx");
  std::filesystem::resize_file(dir + "/cut.onnx", std::filesystem::file_size(tiny) / 3);
  return {{"missing", dir + "/missing"}, {"directory", dir + "/folder"}, {"FIFO", dir + "/fifo"},
          {"empty file", dir + "/empty"}, {"garbage", dir + "/garbage"}, {"truncated model", dir + "/cut.onnx"}};
}

// `switchyard ARGS` under `timeout 60`, so a hang ends as exit 124 instead of stalling the suite.
CliRun run_with_timeout(const std::string& args, const std::string& env = "") {
  std::string cmd = env + (env.empty() ? "" : " ") + "timeout 60 '" SWITCHYARD_CLI "' " + args + " 2>&1 < /dev/null";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}
}  // namespace

// Every subcommand that takes a path, given each class of bad path: an error that names it and a
// non-zero exit, never a signal (crash) or a hang (`timeout` turns one into exit 124) (issue 14).
TEST(Cli, EverySubcommandSurvivesEachBadPathClass) {
  const std::string dir = ::testing::TempDir() + "/cli_bad_paths";
  for (const auto& [what, path] : bad_paths(dir)) {
    const std::string p = "'" + path + "'";
    const std::vector<std::string> must_fail = {
        "run " + p,
        "run " + p + " --device cpu:0 --no-cache",
        "plan " + p,
        "bench " + p + " --requests 2 --fresh-runs 0",
        "run " + kTiny + " --input image=" + p,
        "conformance onnx --tests " + p + " --reference",
    };
    for (const auto& args : must_fail) {
      CliRun r = run_with_timeout(args);
      EXPECT_TRUE(r.code == 1 || r.code == 2) << what << ": switchyard " << args << " -> exit " << r.code << "\n" << r.out;
      EXPECT_NE(r.out.find("error"), std::string::npos) << what << ": switchyard " << args << "\n" << r.out;
    }
    const std::vector<std::string> may_succeed = {"cache ls --cache-dir " + p, "cache verify --cache-dir " + p,
                                                  "cache clear --cache-dir " + p, "cache prune --cache-dir " + p};
    for (const auto& args : may_succeed) {
      CliRun r = run_with_timeout(args);
      EXPECT_LE(r.code, 2) << what << ": switchyard " << args << " -> exit " << r.code << "\n" << r.out;
    }
    CliRun devices = run_with_timeout("devices", "SWITCHYARD_PLUGIN_PATH=" + p);
    EXPECT_EQ(devices.code, 0) << what << ": SWITCHYARD_PLUGIN_PATH=" << p << " switchyard devices\n" << devices.out;
  }
}

namespace {
// The endless-loop test model (runtime/tests/endless_loop_model.h) in a temporary file; quoted.
std::string endless_loop_file(bool with_scan) {
  const std::string file = ::testing::TempDir() + "/endless_loop" + (with_scan ? "_scan_" : "_") + std::to_string(::getpid()) + ".onnx";
  const std::string bytes = switchyard::test::endless_loop_onnx(with_scan);
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return "'" + file + "'";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(Cli, RunTimeoutStopsAnEndlessLoop) {
  const std::string model = endless_loop_file(false);
  for (const char* device : {"cpu:0", "reference"}) {
    const auto t0 = std::chrono::steady_clock::now();
    CliRun r = run("run " + model + " --device " + device + " --timeout 0.2");
    EXPECT_LT(seconds_since(t0), 30) << device;
    EXPECT_EQ(r.code, 1) << device << ": " << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("deadline_exceeded: prediction passed its deadline, (1[0-9]{2}|200)\\.[0-9] ms after it started")))
        << device << ": " << r.out;
    EXPECT_NE(r.out.find("Loop 'endless'"), std::string::npos) << device << ": " << r.out;
  }
  std::remove(model.substr(1, model.size() - 2).c_str());
}

TEST(Cli, MaxMemoryStopsGrowingScanOutputs) {
  const std::string model = endless_loop_file(true);
  CliRun r = run("run " + model + " --device cpu:0 --max-memory 64M");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("resource_exhausted: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("over the memory limit of 67108864 bytes"), std::string::npos) << r.out;
  CliRun bench = run("bench " + model + " --device cpu:0 --fresh-runs 0 --requests 1 --max-memory 1M");
  EXPECT_EQ(bench.code, 1) << bench.out;
  EXPECT_NE(bench.out.find("over the memory limit of 1048576 bytes"), std::string::npos) << bench.out;
  std::remove(model.substr(1, model.size() - 2).c_str());
}

TEST(Cli, LimitFlagsRejectBadValues) {
  for (const char* bad : {"-1", "0", "abc", "1e9999", "nan", "''", "0.5s"}) {
    CliRun r = run("run " + kTiny + " --timeout " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--timeout expects a positive number of seconds"), std::string::npos) << bad << ": " << r.out;
  }
  for (const char* bad : {"-5", "0", "12Q", "abc", "1.5G", "64MB", "99999999999999999999", "20000000000G"}) {
    CliRun r = run("run " + kTiny + " --max-memory " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.out;
    EXPECT_NE(r.out.find("--max-memory expects a positive size in bytes"), std::string::npos) << bad << ": " << r.out;
  }
  EXPECT_EQ(run("bench " + kTiny + " --timeout -0.5").code, 2);
  EXPECT_EQ(run("bench " + kTiny + " --max-memory lots").code, 2);
  EXPECT_EQ(run("bench " + kTiny + " --concurrency 1000001").code, 2);
  // Good values pass: a generous timeout and limit do not change a normal run.
  EXPECT_EQ(run("run " + kTiny + " --timeout 60 --max-memory 1G").code, 0);
}

TEST(Cli, BenchAtAMillionInFlightRunsOnABoundedPool) {
  CliRun r = run("bench " + kTiny + " --device cpu:0 --concurrency 1000000 --requests 20 --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"concurrency\": 1000000"), std::string::npos) << r.out;
  auto k = r.out.find("\"worker_threads\": ");
  ASSERT_NE(k, std::string::npos) << r.out;
  const int workers = std::atoi(r.out.c_str() + k + 18);
  EXPECT_GE(workers, 1);
  EXPECT_LE(workers, 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) << r.out;
}

}  // namespace
