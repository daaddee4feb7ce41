// A conformance run's report: every case with its full reason and detail, the device and the run
// that produced it, and the three forms it is written in (--report DIR): results.json (also what
// `conformance merge` reads back), JUnit XML (one <testsuite> per suite) and a self-contained
// index.html (per-operator matrix, every failure, every skip reason in full).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"

namespace switchyard::conformance {

struct ReportInfo {
  std::string device_id;         // "cpu:0", "reference"
  std::string device_name;       // DeviceInfo::name
  std::string device_kind;       // "cpu", "gpu", "npu", "other"
  std::string plugin;            // manifest name
  std::string plugin_version;
  std::string abi_version;       // "2.0"
  std::string compute_type;      // "float32", "float16"
  std::string command_line;      // the command that produced the report, as typed
  std::string started;           // ISO 8601 UTC
  std::string host;              // hostname
  std::vector<std::string> suites;  // suites run, in order
  std::string shard;             // "2/4", or "" for the whole run; "merged from 4 shards" after merge
  double seconds = 0;
};

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
  int expected_failures = 0;     // failed cases an expected-failures list names: counted as skipped
  int unexpected_passes = 0;     // listed as expected to fail, but passed: counted as passed, reported
};

struct Report {
  ReportInfo info;
  std::vector<CaseResult> cases;
  Counts counts() const;
};

// An expected-failures list (--expected-failures FILE), YAML:
//   expected_failures:
//     - case: onnx/test_dft_inverse          # suite/name, or a regex with `match:` instead of `case:`
//       reason: the corpus's expected output holds float32 FFT noise
struct ExpectedFailure {
  std::string case_id;   // exact "suite/name"
  std::string match;     // ECMAScript regex on "suite/name" (when case_id is empty)
  std::string reason;    // required
};
Result<std::vector<ExpectedFailure>> load_expected_failures(const std::filesystem::path& file);
// Marks the failed cases a list names (outcome becomes skipped, reason "expected failure: ...",
// `expected` set) and the passing ones it names (`expected` set: unexpected passes).
void apply_expected_failures(std::vector<CaseResult>& cases, const std::vector<ExpectedFailure>& list);

std::string report_json(const Report& report);
std::string report_junit_xml(const Report& report);
std::string report_html(const Report& report);
// Writes results.json, junit.xml and index.html into `dir` (created). Any failure names the file.
Status write_report(const Report& report, const std::filesystem::path& dir);
// Reads a results.json written by report_json (path to the file or its folder).
Result<Report> read_report(const std::filesystem::path& path);
// One report from shards' reports: cases of all, a case in two shards is an error (overlapping
// shards), info from the first with shard "merged from N reports".
Result<Report> merge_reports(const std::vector<Report>& reports);

}  // namespace switchyard::conformance
