// switchyard: command-line front end (devices, run, conformance).
#include <algorithm>
#include <cstdio>
#include <string>
#include <new>
#include <vector>

#include "commands.h"
#include "switchyard/hal/status.h"

namespace switchyard::cli {

int fail(const std::string& message, int code) {
  std::fprintf(stderr, "switchyard: error: %s\n", message.c_str());
  return code;
}

}  // namespace switchyard::cli

namespace {
const char* kUsage =
    "usage: switchyard <command> [options]\n"
    "\n"
    "commands:\n"
    "  devices [--json]                         plugins, devices and plugins that failed to load\n"
    "  run MODEL [--units U | --device ID...] [--policy FILE] [--input NAME=FILE]... [--output-dir DIR] [--json]\n"
    "                                           run a model once (split across devices under the policy)\n"
    "                                           and print its outputs; --device all runs each device and\n"
    "                                           the reference in turn, --device reference the reference;\n"
    "                                           --input-shape x=1,3,48,192 fixes symbolic input dims\n"
    "  plan MODEL [--units U | --device ID...] [--policy FILE] [--objective auto|latency|power|accelerator] [--strict]\n"
    "             [--format table|json|dot]     segments, transfers, estimates and a reason for every node\n"
    "  bench MODEL [--units U | --device ID...] [--concurrency N] [--requests N] [--cpu-threads N]\n"
    "              [--input-shape NAME=D0,...] [--sync-only] [--fresh-runs N] [--trace FILE] [--json]\n"
    "                                           performance report: loads, compile, latency, throughput\n"
    "                                           (`switchyard bench --help` lists every flag)\n"
    "  cache (ls [--json] | verify | clear | prune) [--cache-dir DIR]\n"
    "                                           the plan cache ($SWITCHYARD_CACHE_DIR, else\n"
    "                                           $XDG_CACHE_HOME/switchyard, else ~/.cache/switchyard)\n"
    "  conformance (all|onnx|ops|models|api|cache|stress) (--device ID | --reference) [--tests DIR]\n"
    "              [--models DIR] [--filter REGEX] [--report DIR] [--expected-failures FILE] [--shard K/N]\n"
    "                                           qualify a device (`switchyard conformance --help`)\n"
    "  conformance merge DIR... [--report DIR]  one report from shards' reports\n"
    "\n"
    "Compute units (--units): all (default), cpu-only, cpu-and-gpu, cpu-and-npu.\n"
    "Range check (run, plan, bench): float16 devices refuse nodes whose values would overflow them,\n"
    "measured on --calibration-input NAME=FILE (else generated inputs), with --range-headroom X\n"
    "(default 16); --no-range-check turns it off.\n"
    "Plugins are found through SWITCHYARD_PLUGIN_PATH (folders of *.yaml manifests, ':'-separated),\n"
    "then the install folder, then build/lib/switchyard/plugins.\n";

int dispatch(const std::string& cmd, const std::vector<std::string>& rest) {
  using namespace switchyard::cli;
  if (cmd == "devices") return cmd_devices(rest);
  if (cmd == "run") return cmd_run(rest);
  if (cmd == "conformance") return cmd_conformance(rest);
  if (cmd == "plan") return cmd_plan(rest);
  if (cmd == "cache") return cmd_cache(rest);
  if (cmd == "bench") return cmd_bench(rest);
  std::fputs(kUsage, stderr);
  return fail("unknown command '" + cmd + "'", 2);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace switchyard::cli;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  const bool help_after = std::any_of(rest.begin(), rest.end(), [](const std::string& a) { return a == "-h" || a == "--help"; });
  if (cmd == "-h" || cmd == "--help" || cmd == "help" || help_after) {
    std::fputs(cmd == "bench" ? bench_usage() : cmd == "conformance" ? conformance_usage() : kUsage, stdout);
    return 0;
  }
  // The one place an exception that escaped a command ends: its reason and exit status 1, never
  // an abort (std::terminate) with a core dump.
  try {
    return dispatch(cmd, rest);
  } catch (const switchyard::Error& e) {
    return fail(cmd + ": " + e.status().to_string(), 1);
  } catch (const std::bad_alloc&) {
    return fail(cmd + ": out of memory", 1);
  } catch (const std::exception& e) {
    return fail(cmd + ": " + e.what(), 1);
  } catch (...) {
    return fail(cmd + ": unknown exception", 1);
  }
}
