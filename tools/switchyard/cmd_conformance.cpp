// switchyard conformance onnx: the ONNX node-test corpus on the reference or a device.
#include <cstdio>
#include <fstream>
#include <thread>

#include "args.h"
#include "commands.h"
#include "switchyard/conformance/onnx_suite.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/conformance/targets.h"

namespace switchyard::cli {

int cmd_conformance(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] != "onnx")
    return fail("usage: switchyard conformance onnx --tests DIR (--reference | --device ID) [--filter REGEX] [--json FILE]", 2);
  auto parsed = Args::parse({argv.begin() + 1, argv.end()},
                            {"--tests", "--device", "--filter", "--json", "--jobs", "--timeout", "--rtol", "--atol"},
                            {"--reference", "--no-isolate", "--verbose"});
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  const Args& args = *parsed;
  if (!args.positional().empty()) return fail("unexpected argument '" + args.positional()[0] + "'", 2);
  conformance::SuiteOptions options;
  auto tests = args.get("--tests");
  if (!tests) return fail("--tests DIR is required (the ONNX node-test corpus, e.g. ../shared/onnx-backend/node)", 2);
  options.tests_dir = *tests;
  options.filter = args.get("--filter").value_or("");
  options.isolate = !args.has("--no-isolate");
  auto jobs = args.get_number("--jobs", std::max(1u, std::thread::hardware_concurrency()));
  auto timeout = args.get_number("--timeout", 120);
  auto rtol = args.get_number("--rtol", 1e-3);
  auto atol = args.get_number("--atol", 1e-7);
  for (auto* r : {&jobs, &timeout, &rtol, &atol})
    if (!r->ok()) return fail(r->status().message(), 2);
  options.jobs = static_cast<int>(*jobs);
  options.case_timeout_s = *timeout;
  options.rtol = *rtol;
  options.atol = *atol;
  if (options.jobs < 1 || options.case_timeout_s <= 0) return fail("--jobs and --timeout must be positive", 2);
  const bool reference = args.has("--reference");
  auto device = args.get("--device");
  if (reference == device.has_value()) return fail("give exactly one of --reference or --device ID", 2);

  conformance::TargetFactory factory = reference ? conformance::reference_target_factory() : conformance::device_target_factory(*device);
  const bool verbose = args.has("--verbose");
  auto report = conformance::run_suite(options, factory, [&](const conformance::CaseResult& r) {
    if (r.outcome == conformance::Outcome::failed)
      std::printf("FAIL %s: %s%s%s\n", r.name.c_str(), r.reason.c_str(), r.detail.empty() ? "" : ": ", r.detail.c_str());
    else if (verbose)
      std::printf("%s %s%s%s\n", r.outcome == conformance::Outcome::passed ? "PASS" : "SKIP", r.name.c_str(),
                  r.reason.empty() ? "" : ": ", r.reason.c_str());
    std::fflush(stdout);
  });
  if (!report.ok()) return fail(report.status().message());
  if (!report->skip_reasons.empty()) {
    std::printf("\nskipped, by reason:\n");
    std::vector<std::pair<int, std::string>> reasons;
    for (const auto& [reason, n] : report->skip_reasons) reasons.emplace_back(-n, reason);
    std::sort(reasons.begin(), reasons.end());
    for (const auto& [n, reason] : reasons) std::printf("  %5d  %s\n", -n, reason.c_str());
  }
  if (auto json_path = args.get("--json")) {
    std::ofstream out(*json_path);
    out << conformance::report_to_json(*report);
    if (!out) return fail("cannot write '" + *json_path + "'");
  }
  std::printf("\n%d passed, %d failed, %d skipped\n", report->passed, report->failed, report->skipped);
  return report->failed == 0 ? 0 : 1;
}

}  // namespace switchyard::cli
