// switchyard conformance SUITE|all (--device ID | --reference) [...]: the qualification kit on one
// device; switchyard conformance merge DIR...: one report from shards' reports.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <thread>

#include "args.h"
#include "commands.h"
#include "conformance_output.h"
#include "switchyard/conformance/ops_suite.h"
#include "switchyard/conformance/report.h"
#include "switchyard/conformance/runner.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/conformance/targets.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard::cli {

namespace {

const char* kUsage =
    "usage: switchyard conformance (all|onnx|ops|models|api|cache|stress) (--device ID | --reference)\n"
    "         [--tests DIR] [--models DIR]... [--filter REGEX] [--report DIR] [--json FILE]\n"
    "         [--expected-failures FILE] [--shard K/N] [--jobs N] [--timeout S] [--seed N]\n"
    "         [--rtol X] [--atol X] [--stress-predictions N] [--no-isolate] [--verbose]\n"
    "       switchyard conformance ops --export DIR [--filter REGEX] [--seed N]\n"
    "       switchyard conformance merge DIR... [--report DIR] [--json FILE]\n"
    "suites: all runs every one; docs/conformance.md says what each checks and how to read the report\n";

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s = "switchyard conformance";
  for (const auto& a : argv) s += " " + (a.find_first_of(" '\"") == std::string::npos ? a : "'" + a + "'");
  return s;
}

// The suites' cases; in `all`, a suite that cannot list (its data not given) becomes one skipped
// case saying so, so that the run still counts it.
Result<std::vector<conformance::CaseSpec>> list_suites(const std::vector<const conformance::SuiteEntry*>& suites,
                                                       const conformance::SuiteConfig& config, bool all) {
  std::vector<conformance::CaseSpec> cases;
  for (const auto* suite : suites) {
    auto listed = suite->list(config);
    if (listed.ok()) {
      for (auto& c : *listed) cases.push_back(std::move(c));
      continue;
    }
    if (!all) return listed.status();
    const std::string why = listed.status().message();
    cases.push_back({suite->name, "(suite not run)", "", [why](const conformance::Target&) {
                       conformance::CaseResult r;
                       r.outcome = conformance::Outcome::skipped, r.reason = "suite not run: " + why;
                       return r;
                     }});
  }
  return cases;
}

// Device, plugin and compute type for the report, read after the run (no plugin is loaded in this
// process before its workers fork).
void describe_target(conformance::ReportInfo& info) {
  if (info.device_id == "reference") {
    info.device_name = "the reference interpreter", info.device_kind = "cpu", info.compute_type = "float32";
    return;
  }
  DiscoveryOptions discovery;
  discovery.only_plugins = {info.device_id.substr(0, info.device_id.find(':'))};
  DeviceRegistry registry = DeviceRegistry::discover(discovery);
  auto device = registry.find(info.device_id);
  if (!device.ok()) return;
  const Device* d = *device;
  info.device_name = d->info().name;
  info.device_kind = device_kind_name(d->info().kind);
  info.compute_type = std::string(element_type_name(d->info().compute_element_type));
  info.plugin = d->plugin()->manifest().name;
  info.plugin_version = d->plugin_identity().version;
  info.abi_version = std::to_string(d->plugin()->manifest().abi_major) + "." + std::to_string(d->plugin()->manifest().abi_minor);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  info.host = host;
}

struct Outputs {
  std::optional<std::string> report_dir, json_file;
};

// Writes what was asked; a failure is printed and makes the exit code 1, the counts still follow.
bool write_outputs(const conformance::Report& report, const Outputs& outputs) {
  bool ok = true;
  if (outputs.report_dir) {
    Status st = conformance::write_report(report, *outputs.report_dir);
    if (!st.ok()) ok = false, fail("cannot write the report: " + st.to_string());
    else std::printf("\nreport: %s/index.html (and results.json, junit.xml)\n", outputs.report_dir->c_str());
  }
  if (outputs.json_file) {
    FILE* f = std::fopen(outputs.json_file->c_str(), "w");
    const std::string json = conformance::report_json(report);
    if (!f || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
      ok = false;
      fail("cannot write '" + *outputs.json_file + "': " + std::strerror(errno));
    }
  }
  return ok;
}

int finish(const conformance::Report& report, const Outputs& outputs) {
  print_summary(report);
  const bool written = write_outputs(report, outputs);
  const conformance::Counts counts = report.counts();
  print_counts(counts);
  return counts.failed == 0 && written ? 0 : 1;
}

int cmd_merge(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, {"--report", "--json"}, {});
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  if (parsed->positional().empty()) return fail("merge needs the report folders of the shards\n" + std::string(kUsage), 2);
  std::vector<conformance::Report> reports;
  for (const auto& dir : parsed->positional()) {
    auto r = conformance::read_report(dir);
    if (!r.ok()) return fail(r.status().to_string());
    reports.push_back(std::move(r).value());
  }
  auto merged = conformance::merge_reports(reports);
  if (!merged.ok()) return fail(merged.status().to_string());
  std::printf("merged %zu reports: %zu cases\n", reports.size(), merged->cases.size());
  return finish(*merged, {parsed->get("--report"), parsed->get("--json")});
}

}  // namespace

namespace {

struct RunRequest {
  std::vector<const conformance::SuiteEntry*> suites;
  bool all = false;
  conformance::SuiteConfig config;
  conformance::RunOptions options;
  std::string filter, device_id;
  std::optional<std::string> expected_failures, export_dir;
  Outputs outputs;
  bool verbose = false;
};

// Parses everything but the suite name; errors are usage errors (exit 2).
Result<RunRequest> parse_request(const std::vector<std::string>& argv) {
  SY_ASSIGN_OR_RETURN(Args args, Args::parse({argv.begin() + 1, argv.end()},
                                             {"--tests", "--models", "--device", "--filter", "--json", "--report", "--expected-failures", "--shard",
                                              "--jobs", "--timeout", "--rtol", "--atol", "--seed", "--stress-predictions", "--export"},
                                             {"--reference", "--no-isolate", "--verbose"}));
  if (!args.positional().empty()) return Status(StatusCode::invalid_argument, "unexpected argument '" + args.positional()[0] + "'");
  RunRequest q;
  q.all = argv[0] == "all";
  if (q.all) for (const auto& s : conformance::all_suites()) q.suites.push_back(&s);
  else {
    SY_ASSIGN_OR_RETURN(const conformance::SuiteEntry* s, conformance::find_suite(argv[0]));
    q.suites.push_back(s);
  }
  if (auto t = args.get("--tests")) q.config.tests_dir = *t;
  for (const auto& m : args.all("--models")) q.config.model_dirs.push_back(m);
  q.filter = args.get("--filter").value_or("");
  q.expected_failures = args.get("--expected-failures");
  q.export_dir = args.get("--export");
  q.outputs = {args.get("--report"), args.get("--json")};
  q.verbose = args.has("--verbose");
  q.options.isolate = !args.has("--no-isolate");
  if (auto shard = args.get("--shard")) {
    SY_ASSIGN_OR_RETURN(q.options.shard, conformance::parse_shard(*shard));
  }
  SY_ASSIGN_OR_RETURN(double jobs, args.get_number("--jobs", std::max(1u, std::thread::hardware_concurrency())));
  SY_ASSIGN_OR_RETURN(q.options.case_timeout_s, args.get_number("--timeout", 120));
  SY_ASSIGN_OR_RETURN(q.config.rtol, args.get_number("--rtol", q.config.rtol));
  SY_ASSIGN_OR_RETURN(q.config.atol, args.get_number("--atol", q.config.atol));
  SY_ASSIGN_OR_RETURN(double seed, args.get_number("--seed", static_cast<double>(q.config.seed)));
  SY_ASSIGN_OR_RETURN(double predictions, args.get_number("--stress-predictions", q.config.stress_predictions));
  q.options.jobs = static_cast<int>(jobs);
  q.config.seed = static_cast<uint64_t>(seed);
  q.config.stress_predictions = static_cast<int>(predictions);
  if (q.options.jobs < 1 || q.options.case_timeout_s <= 0 || seed < 0 || predictions < 1)
    return Status(StatusCode::invalid_argument, "--jobs, --timeout and --stress-predictions must be positive, --seed not negative");
  if (q.export_dir) return q;
  const bool reference = args.has("--reference");
  auto device = args.get("--device");
  if (reference == device.has_value()) return Status(StatusCode::invalid_argument, "give exactly one of --reference or --device ID");
  q.device_id = reference ? "reference" : *device;
  return q;
}

int run_export(const RunRequest& q) {
  if (q.suites.size() != 1 || std::string(q.suites[0]->name) != "ops") return fail("--export is for the ops suite only", 2);
  Status st = conformance::export_ops_cases(q.config, q.filter, *q.export_dir);
  if (!st.ok()) return fail(st.to_string());
  std::printf("exported the ops cases to %s (ONNX node-test layout; expected outputs from the reference)\n", q.export_dir->c_str());
  return 0;
}

// Every case failed with the one reason the target is unavailable (said once, above the counts).
std::vector<conformance::CaseResult> unavailable_results(const std::vector<conformance::CaseSpec>& cases, const Status& why,
                                                         const conformance::Shard& shard) {
  std::vector<conformance::CaseResult> results;
  for (const auto& c : cases) {
    if (!shard.contains(c)) continue;
    conformance::CaseResult r;
    r.suite = c.suite, r.name = c.name, r.op = c.op;
    r.outcome = conformance::Outcome::failed, r.reason = "device unavailable", r.detail = why.message();
    results.push_back(std::move(r));
  }
  return results;
}

int run_suites(const std::vector<std::string>& argv, const RunRequest& q) {
  conformance::Report report;
  report.info.device_id = q.device_id;
  report.info.command_line = command_line(argv);
  report.info.started = now_iso8601();
  for (const auto* s : q.suites) report.info.suites.push_back(s->name);
  if (q.options.shard.count > 1) report.info.shard = std::to_string(q.options.shard.index) + "/" + std::to_string(q.options.shard.count);
  std::vector<conformance::ExpectedFailure> expected;
  if (q.expected_failures) {
    auto loaded = conformance::load_expected_failures(*q.expected_failures);
    if (!loaded.ok()) return fail(loaded.status().to_string(), 2);
    expected = std::move(loaded).value();
  }
  auto listed = list_suites(q.suites, q.config, q.all);
  if (!listed.ok()) return fail(listed.status().to_string(), 2);
  auto cases = conformance::filter_cases(std::move(listed).value(), q.filter);
  if (!cases.ok()) return fail(cases.status().to_string(), 2);
  const auto start = std::chrono::steady_clock::now();
  ConformanceProgress progress(q.verbose);
  conformance::RunOptions options = q.options;
  // Printed as the list will count it: an expected failure is not a FAIL line.
  options.progress = [&](const conformance::CaseResult& r, const conformance::Progress& p) {
    std::vector<conformance::CaseResult> one = {r};
    conformance::apply_expected_failures(one, expected);
    progress(one[0], p);
  };
  const bool whole_models = std::any_of(q.suites.begin(), q.suites.end(), [](const conformance::SuiteEntry* s) {
    return std::string(s->name) == "models" || std::string(s->name) == "stress";
  });
  auto factory = q.device_id == "reference" ? conformance::reference_target_factory()
                                            : conformance::device_target_factory(q.device_id, whole_models);
  auto results = conformance::run_cases(*cases, factory, options);
  progress.finish();
  if (!results.ok()) {
    std::printf("%s: %s\n", q.device_id.c_str(), results.status().message().c_str());
    results = unavailable_results(*cases, results.status(), q.options.shard);
  }
  report.cases = std::move(results).value();
  conformance::apply_expected_failures(report.cases, expected);
  report.info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  describe_target(report.info);
  return finish(report, q.outputs);
}

}  // namespace

const char* conformance_usage() { return kUsage; }

int cmd_conformance(const std::vector<std::string>& argv) {
  if (argv.empty()) return fail(kUsage, 2);
  if (argv[0] == "merge") return cmd_merge({argv.begin() + 1, argv.end()});
  auto request = parse_request(argv);
  if (!request.ok()) return fail(request.status().message() + "\n" + kUsage, 2);
  if (request->export_dir) return run_export(*request);
  return run_suites(argv, *request);
}

}  // namespace switchyard::cli
