// switchyard bench: the performance report. Uncached and cached load, compile, first prediction,
// steady-state sync latency (median, p90, p99) and throughput, async throughput at a given
// concurrency, and a per-segment / per-device breakdown tied to the plan.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "args.h"
#include "commands.h"
#include "policy_args.h"
#include "switchyard/json.h"
#include "switchyard/plan_cache.h"
#include "switchyard/predictor.h"
#include "switchyard/shape_inference.h"
#include "switchyard/trace.h"

namespace switchyard::cli {

namespace {
using Clock = std::chrono::steady_clock;
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1), std::ceil(p * static_cast<double>(v.size())) - 1));
  return v[i];
}
}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  std::vector<std::string> flags = {"--concurrency", "--requests", "--input-shape", "--trace", "--cpu-threads"}, switches = {"--json", "--sync-only"};
  flags.insert(flags.end(), kPolicyFlags.begin(), kPolicyFlags.end());
  switches.insert(switches.end(), kPolicySwitches.begin(), kPolicySwitches.end());
  auto parsed = Args::parse(argv, flags, switches);
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  const Args& args = *parsed;
  const char* usage =
      "usage: switchyard bench MODEL [--units U | --device ID...] [--policy FILE] [--concurrency N] [--requests N]\n"
      "                        [--input-shape NAME=D0,...] [--cpu-threads N] [--trace FILE] [--json]";
  if (args.positional().size() != 1) return fail(usage, 2);
  const std::string model_path = args.positional()[0];
  auto conc = args.get_number("--concurrency", 2);
  auto reqs = args.get_number("--requests", 50);
  if (!conc.ok() || !reqs.ok() || *conc < 1 || *reqs < 1) return fail("--concurrency and --requests must be positive numbers", 2);
  const int concurrency = static_cast<int>(*conc), requests = static_cast<int>(*reqs);
  auto policy = policy_from_args(args);
  if (!policy.ok()) return fail(policy.status().message(), 2);
  PartitionOptions options;
  options.policy = *policy;
  if (Status st = range_check_from_args(args, &options.range_check); !st.ok()) return fail(st.message(), 2);
  for (const auto& spec : args.all("--input-shape")) {
    auto s = parse_input_shapes(spec);
    if (!s.ok()) return fail(s.status().message(), 2);
    options.input_shapes.insert(s->begin(), s->end());
  }
  // One thread per prediction on the CPU plugin (its documented setting), so concurrent
  // predictions use the cores instead of competing for them.
  const std::string default_threads = std::getenv("SWITCHYARD_CPU_THREADS") ? std::getenv("SWITCHYARD_CPU_THREADS") : "";
  if (auto t = args.get("--cpu-threads")) ::setenv("SWITCHYARD_CPU_THREADS", t->c_str(), 1);
  const bool json_out = args.has("--json");
  TraceRecorder trace;

  DeviceRegistry devices = DeviceRegistry::discover();
  auto imported = import_onnx_file(model_path);
  if (!imported.ok()) return fail(imported.status().to_string());
  if (Status st = check_calibration_inputs((*imported)->graph, options.range_check); !st.ok()) return fail(st.message(), 2);
  // Symbolic input dims: benchmarked at 1 unless --input-shape says otherwise (shown in the report).
  std::string assumed;
  {
    std::string unresolved;
    auto defaults = default_input_shapes((*imported)->graph, options.input_shapes, &assumed, &unresolved);
    if (!unresolved.empty())
      return fail("input " + unresolved + " has symbolic dims beyond the batch dim; give --input-shape NAME=D0,D1,... "
                  "(e.g. --input-shape x=1,3,48,192)", 2);
    options.input_shapes.insert(defaults.begin(), defaults.end());
  }
  Graph shaped = (*imported)->graph;
  if (Status st = specialize_inputs(shaped, options.input_shapes); !st.ok()) return fail(st.message(), 2);
  auto inputs = generate_inputs(shaped);
  if (!inputs.ok()) return fail(inputs.status().message(), 2);

  // Loads: uncached into a fresh cache folder, then cached (as a new process would).
  const auto cache_dir = std::filesystem::temp_directory_path() / ("switchyard_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(cache_dir);
  CacheOptions co;
  co.dir = cache_dir;
  LoadReport cold_report, warm_report;
  auto t0 = Clock::now();
  auto cold = PlanCache(co).load(model_path, devices, options, &cold_report);
  auto t1 = Clock::now();
  if (!cold.ok()) return fail(cold.status().to_string());
  trace.span("load", "load (prepare and cache)", "load", t0, t1, {{"state", "prepare and cache"}, {"reason", cold_report.reason}});
  const double compile_ms = (*cold)->times().compile_ms;
  trace.span("load", "compile", "compile", t1 - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(compile_ms)), t1);
  clear_in_memory_models();
  cold->reset();
  auto t2 = Clock::now();
  auto model = PlanCache(co).load(model_path, devices, options, &warm_report);
  auto t3 = Clock::now();
  if (!model.ok()) return fail(model.status().to_string());
  trace.span("load", "load (cached)", "load", t2, t3, {{"state", warm_report.state == CacheState::cached ? "cached" : "uncached"}});
  std::filesystem::remove_all(cache_dir);
  const PartitionedModel& pm = **model;

  // First prediction, then steady-state sync latency.
  std::vector<PredictEvent> events;
  PredictControl control;
  control.events = &events;
  auto tp = Clock::now();
  auto first = pm.predict(*inputs, &control);
  double first_ms = ms(Clock::now() - tp);
  if (!first.ok()) return fail(first.status().to_string());
  trace.span("predictions", "prediction (first)", "prediction", tp, tp + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(first_ms)));
  trace.prediction_events(events, "first");
  std::vector<double> sync_lat;
  std::map<int, std::vector<double>> seg_ms;
  std::map<std::string, double> device_ms;
  auto ts0 = Clock::now();
  for (int i = 0; i < requests; ++i) {
    events.clear();
    auto a = Clock::now();
    auto r = pm.predict(*inputs, &control);
    auto b = Clock::now();
    if (!r.ok()) return fail(r.status().to_string());
    sync_lat.push_back(ms(b - a));
    trace.span("predictions", "prediction (sync " + std::to_string(i) + ")", "prediction", a, b);
    trace.prediction_events(events, "sync " + std::to_string(i));
    for (const auto& e : events) {
      if (e.kind == PredictEvent::Kind::segment) seg_ms[e.segment].push_back(ms(e.end - e.start));
      device_ms[e.kind == PredictEvent::Kind::segment ? e.device : "transfers"] += ms(e.end - e.start) / requests;
    }
  }
  const double sync_total_s = ms(Clock::now() - ts0) / 1000;
  const double sync_tput = requests / sync_total_s;

  double async_tput = 0;
  std::vector<double> async_lat;
  if (!args.has("--sync-only")) {
    Predictor predictor(*model, {.max_in_flight = static_cast<size_t>(concurrency), .overflow = OverflowPolicy::block,
                                 .threads = static_cast<size_t>(concurrency)});
    std::mutex mu;
    int async_failed = 0;
    std::string async_error;
    std::vector<std::future<Result<Outputs>>> futures;
    std::vector<std::vector<PredictEvent>> async_events(static_cast<size_t>(requests));
    std::vector<Clock::time_point> starts(static_cast<size_t>(requests)), ends(static_cast<size_t>(requests));
    auto ta = Clock::now();
    for (int i = 0; i < requests; ++i) {
      starts[static_cast<size_t>(i)] = Clock::now();
      predictor.predict_async(*inputs, {.events = &async_events[static_cast<size_t>(i)]}, [&, i](Result<Outputs> r) {
        std::lock_guard<std::mutex> lock(mu);
        ends[static_cast<size_t>(i)] = Clock::now();
        if (!r.ok()) {
          ++async_failed;
          if (async_error.empty()) async_error = r.status().to_string();
        }
      });
    }
    // Wait for all: the Predictor's destructor would cancel queued ones, so drain first.
    while (true) {
      auto st = predictor.stats();
      if (st.completed + st.cancelled + st.rejected >= static_cast<size_t>(requests)) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    const double async_total_s = ms(Clock::now() - ta) / 1000;
    {
      std::lock_guard<std::mutex> lock(mu);  // only successful predictions count
      if (async_failed > 0)
        return fail(std::to_string(async_failed) + " of " + std::to_string(requests) + " async predictions failed: " + async_error);
    }
    async_tput = requests / async_total_s;
    for (int i = 0; i < requests; ++i) {
      async_lat.push_back(ms(ends[static_cast<size_t>(i)] - starts[static_cast<size_t>(i)]));
      trace.span("predictions", "prediction (async " + std::to_string(i) + ")", "prediction", starts[static_cast<size_t>(i)],
                 ends[static_cast<size_t>(i)]);
      trace.prediction_events(async_events[static_cast<size_t>(i)], "async " + std::to_string(i));
    }
  }

  // Best sync latency with the CPU plugin's default threading, measured in a child process.
  double default_sync_median = -1;
  if (args.has("--cpu-threads") && !args.has("--sync-only")) {
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string cmd = (default_threads.empty() ? std::string("env -u SWITCHYARD_CPU_THREADS") : "env SWITCHYARD_CPU_THREADS=" + default_threads) +
                      " '" + self + "' bench '" + model_path + "' --sync-only --json --requests " + std::to_string(requests);
    for (const auto& s : args.all("--input-shape")) cmd += " --input-shape '" + s + "'";
    if (auto u = args.get("--units")) cmd += " --units " + *u;
    for (const auto& d : args.all("--device")) cmd += " --device " + d;
    if (auto pf = args.get("--policy")) cmd += " --policy '" + *pf + "'";
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      std::string out;
      char buf[4096];
      while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      ::pclose(p);
      auto k = out.find("\"median\": ");
      if (k != std::string::npos) default_sync_median = std::atof(out.c_str() + k + 10);
    }
  }

  if (auto file = args.get("--trace")) {
    Status st = trace.write(*file);
    if (!st.ok()) return fail(st.message());
  }
  const Plan& plan = pm.plan();
  if (json_out) {
    std::string out = "{\"model\": " + json::quote(model_path) + ", \"placement\": " + json::quote(plan.summary()) +
                      (assumed.empty() ? std::string() : ", \"input_shapes\": " + json::quote(assumed)) +
                      ",\n \"load\": {\"uncached_ms\": " + json::number(ms(t1 - t0)) + ", \"cached_ms\": " + json::number(ms(t3 - t2)) +
                      ", \"cached\": " + (warm_report.state == CacheState::cached ? "true" : "false") + "},\n \"compile_ms\": " +
                      json::number(compile_ms) + ", \"first_prediction_ms\": " + json::number(first_ms) +
                      ",\n \"sync\": {\"latency_ms\": {\"median\": " + json::number(percentile(sync_lat, 0.5)) + ", \"p90\": " +
                      json::number(percentile(sync_lat, 0.9)) + ", \"p99\": " + json::number(percentile(sync_lat, 0.99)) +
                      "}, \"throughput_per_s\": " + json::number(sync_tput) + ", \"requests\": " + std::to_string(requests) + "}";
    if (!args.has("--sync-only"))
      out += ",\n \"async\": {\"concurrency\": " + std::to_string(concurrency) + ", \"throughput_per_s\": " + json::number(async_tput) +
             ", \"latency_ms\": {\"median\": " + json::number(percentile(async_lat, 0.5)) + ", \"p90\": " +
             json::number(percentile(async_lat, 0.9)) + ", \"p99\": " + json::number(percentile(async_lat, 0.99)) + "}}";
    if (default_sync_median >= 0) out += ",\n \"sync_default_threads\": {\"latency_ms\": {\"median\": " + json::number(default_sync_median) + "}}";
    out += ",\n \"segments\": [";
    for (size_t i = 0; i < plan.segments.size(); ++i) {
      const auto& s = plan.segments[i];
      out += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(s.id) + ", \"device\": " + json::quote(s.device) + ", \"nodes\": " +
             std::to_string(s.nodes.size()) + ", \"median_ms\": " + json::number(percentile(seg_ms[s.id], 0.5)) +
             ", \"estimated_ms\": " + json::number(s.estimated_us / 1000) + "}";
    }
    out += "],\n \"devices_ms_per_prediction\": {";
    bool first_dev = true;
    for (const auto& [d, v] : device_ms) {
      out += std::string(first_dev ? "" : ", ") + json::quote(d) + ": " + json::number(v);
      first_dev = false;
    }
    out += "}}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::printf("model:      %s\nplacement:  %s\n", model_path.c_str(), plan.summary().c_str());
  if (!assumed.empty()) std::printf("shapes:     %s (symbolic input dims; choose with --input-shape)\n", assumed.c_str());
  std::printf("\n");
  std::printf("load        uncached %9.2f ms  (prepare and cache: %s)\n", ms(t1 - t0), cold_report.reason.c_str());
  std::printf("            cached   %9.2f ms  (%.1fx faster)\n", ms(t3 - t2), ms(t1 - t0) / std::max(1e-9, ms(t3 - t2)));
  std::printf("compile              %9.2f ms\n", compile_ms);
  std::printf("first prediction     %9.2f ms\n", first_ms);
  std::printf("sync        latency  median %.2f ms, p90 %.2f ms, p99 %.2f ms  (%d requests)\n", percentile(sync_lat, 0.5),
              percentile(sync_lat, 0.9), percentile(sync_lat, 0.99), requests);
  std::printf("            throughput %.1f / s\n", sync_tput);
  if (!args.has("--sync-only")) {
    std::printf("async x%-3d  throughput %.1f / s  (%.2fx sync), latency median %.2f ms\n", concurrency, async_tput, async_tput / sync_tput,
                percentile(async_lat, 0.5));
  }
  if (default_sync_median >= 0)
    std::printf("sync with the CPU plugin's default threading: median %.2f ms\n", default_sync_median);
  std::printf("\nper segment (sync):\n");
  for (const auto& s : plan.segments)
    std::printf("  #%-3d %-16s %4zu nodes  median %8.3f ms  (estimated %.3f ms)\n", s.id, s.device.c_str(), s.nodes.size(),
                percentile(seg_ms[s.id], 0.5), s.estimated_us / 1000);
  std::printf("per device, per prediction (sync):\n");
  for (const auto& [d, v] : device_ms) std::printf("  %-16s %8.3f ms\n", d.c_str(), v);
  return 0;
}

}  // namespace switchyard::cli
