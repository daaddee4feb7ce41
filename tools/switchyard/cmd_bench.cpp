// switchyard bench: the performance report. Loads as a user meets them (uncached, split into
// prepare and cache write; cached in a fresh process, with the process's wall time; cached in
// this process), first prediction, steady-state sync latency (median, p90, p99, drift between
// the first and last requests) and throughput, async throughput at a given concurrency, memory
// (RSS after each phase) and a per-segment / per-device breakdown tied to the plan.
// docs/performance.md explains every figure. Nothing is recorded for a trace unless --trace.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "args.h"
#include "child_process.h"
#include "commands.h"
#include "limit_args.h"
#include "policy_args.h"
#include "switchyard/runtime/discovery.h"
#include "switchyard/common/json.h"
#include "switchyard/runtime/model_loader.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/runtime/predictor.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/trace.h"

namespace switchyard::cli {

namespace {
using Clock = std::chrono::steady_clock;
double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
Clock::duration from_ms(double v) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(v)); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1), std::ceil(p * static_cast<double>(v.size())) - 1));
  return v[i];
}

// A field of /proc/self/status in MiB ("VmRSS", "VmHWM"), or -1.
double status_mib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atof(line.c_str() + field.size() + 1) / 1024.0;
  return -1;
}

const char* kBenchUsage =
    "usage: switchyard bench MODEL [--units U | --device ID...] [--policy FILE] [--objective O] [--strict]\n"
    "                        [--input-shape NAME=D0,...] [--calibration-input NAME=FILE] [--range-headroom X] [--no-range-check]\n"
    "                        [--requests N] [--concurrency N] [--cpu-threads N] [--sync-only] [--fresh-runs N]\n"
    "                        [--timeout SECONDS] [--max-memory SIZE] [--trace FILE] [--trace-max-events N] [--json]\n"
    "\n"
    "  --units U, --device ID, --policy FILE, --objective O, --strict   the policy, as for `run`\n"
    "  --input-shape NAME=D0,...   fixes symbolic input dims (a symbolic batch dim defaults to 1)\n"
    "  --calibration-input, --range-headroom, --no-range-check   the float16 range check, as for `run`\n"
    "  --requests N       predictions per phase (sync, then async); default 50\n"
    "  --concurrency N    predictions in flight in the async phase (1..1000000); default 2. Worker threads:\n"
    "                     min(N, 4 per hardware thread); the rest wait in the queue (memory, not threads)\n"
    "  --cpu-threads N    threads per prediction on the CPU plugin (SWITCHYARD_CPU_THREADS); also\n"
    "                     measures sync latency with the default threading in a child process\n"
    "  --sync-only        skips the async phase and the default-threading child\n"
    "  --fresh-runs N     cached loads measured in fresh processes (`switchyard run`); default 3, 0 skips\n"
    "  --timeout SECONDS  stops any prediction running longer (deadline_exceeded; the bench fails)\n"
    "  --max-memory SIZE  per-prediction memory limit in bytes, K/M/G/T suffixes (resource_exhausted)\n"
    "  --trace FILE       writes a Chrome trace of loads, predictions, segments, transfers and the\n"
    "                     operators of devices that time them (the CPU does)\n"
    "  --trace-max-events N  keeps at most N trace spans (default 100000), counting the rest as dropped\n"
    "  --json             machine-readable report (fields in docs/performance.md)\n";

struct BenchConfig {
  std::string model_path;
  PartitionOptions options;
  std::string assumed_shapes;
  std::vector<Value> inputs;
  int requests = 50, concurrency = 2, fresh_runs = 3;
  bool json = false, sync_only = false, cpu_threads_set = false;
  bool trace_operators = false;  // --trace: per-operator events from plugins that time them
  PredictionLimits limits;
  std::vector<std::string> child_args;  // policy and shape flags, passed on to child processes
  std::string default_threads;          // SWITCHYARD_CPU_THREADS before --cpu-threads
};

// Optional trace: every call is a no-op unless --trace was given.
struct Tracer {
  std::unique_ptr<TraceRecorder> rec;
  void span(const std::string& track, const std::string& name, Clock::time_point a, Clock::time_point b,
            const std::map<std::string, std::string>& args = {}) const {
    if (rec) rec->span(track, name, track == "load" ? "load" : "prediction", a, b, args);
  }
  void events(const std::vector<PredictEvent>& e, const std::string& prediction) const {
    if (rec) rec->prediction_events(e, prediction);
  }
};

struct LoadFigures {
  LoadReport cold, warm;
  std::vector<std::string> warm_notes;  // what plugins said while restoring
  double cold_ms = 0, warm_ms = 0, compile_ms = 0, restore_ms = 0;
  int fresh_runs = 0;
  std::string fresh_state, fresh_error;
  double fresh_load_ms = 0, fresh_predict_ms = 0, fresh_wall_ms = 0;
};

struct SyncFigures {
  double first_ms = 0, throughput = 0, first_window_ms = 0, last_window_ms = 0;
  int window = 0, warmup = 0;
  std::vector<double> latencies;
  std::map<int, std::vector<double>> segment_ms;
  std::map<std::string, double> device_ms;
};

struct AsyncFigures {
  size_t worker_threads = 0;
  double throughput = 0;
  std::vector<double> latencies;
};

struct Memory {
  double after_load = 0, after_sync = 0, after_async = 0, peak = 0;
};

// Parses the flags into a configuration; returns an exit code (>= 0) when it cannot.
int configure(const std::vector<std::string>& argv, BenchConfig& cfg, std::optional<std::string>& trace_file, size_t& trace_max) {
  std::vector<std::string> flags = {"--concurrency", "--requests", "--input-shape", "--trace", "--trace-max-events", "--cpu-threads", "--fresh-runs"},
                           switches = {"--json", "--sync-only"};
  flags.insert(flags.end(), kPolicyFlags.begin(), kPolicyFlags.end());
  flags.insert(flags.end(), kLimitFlags.begin(), kLimitFlags.end());
  switches.insert(switches.end(), kPolicySwitches.begin(), kPolicySwitches.end());
  auto parsed = Args::parse(argv, flags, switches);
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  const Args& args = *parsed;
  if (args.positional().size() != 1) return fail(kBenchUsage, 2);
  cfg.model_path = args.positional()[0];
  auto conc = args.get_number("--concurrency", 2), reqs = args.get_number("--requests", 50), fresh = args.get_number("--fresh-runs", 3),
       tmax = args.get_number("--trace-max-events", static_cast<double>(TraceRecorder::kDefaultMaxEvents));
  if (!conc.ok() || !reqs.ok() || *conc < 1 || *reqs < 1 || *conc > 1e6 || *reqs > 1e8)
    return fail("--concurrency (1..1e6) and --requests (1..1e8) must be positive numbers", 2);
  if (!fresh.ok() || *fresh < 0 || *fresh > 100) return fail("--fresh-runs must be a number from 0 to 100", 2);
  if (!tmax.ok() || *tmax < 1 || *tmax > 1e8) return fail("--trace-max-events must be a number from 1 to 1e8", 2);
  cfg.concurrency = static_cast<int>(*conc);
  cfg.requests = static_cast<int>(*reqs);
  cfg.fresh_runs = static_cast<int>(*fresh);
  trace_max = static_cast<size_t>(*tmax);
  if (Status st = limits_from_args(args, &cfg.limits); !st.ok()) return fail(st.message(), 2);
  trace_file = args.get("--trace");
  cfg.trace_operators = trace_file.has_value();
  cfg.json = args.has("--json");
  cfg.sync_only = args.has("--sync-only");
  auto policy = policy_from_args(args);
  if (!policy.ok()) return fail(policy.status().message(), 2);
  cfg.options.policy = *policy;
  if (Status st = range_check_from_args(args, &cfg.options.range_check); !st.ok()) return fail(st.message(), 2);
  for (const auto& spec : args.all("--input-shape")) {
    auto s = parse_input_shapes(spec);
    if (!s.ok()) return fail(s.status().message(), 2);
    cfg.options.input_shapes.insert(s->begin(), s->end());
  }
  for (const auto& f : kPolicyFlags)
    for (const auto& v : args.all(f)) cfg.child_args.insert(cfg.child_args.end(), {f, v});
  for (const auto& s : kPolicySwitches)
    if (args.has(s)) cfg.child_args.push_back(s);
  for (const auto& v : args.all("--input-shape")) cfg.child_args.insert(cfg.child_args.end(), {"--input-shape", v});
  // One thread per prediction on the CPU plugin (its documented setting), so concurrent
  // predictions use the cores instead of competing for them.
  if (const char* t = std::getenv("SWITCHYARD_CPU_THREADS")) cfg.default_threads = t;
  if (auto t = args.get("--cpu-threads")) {
    ::setenv("SWITCHYARD_CPU_THREADS", t->c_str(), 1);
    cfg.cpu_threads_set = true;
  }
  return -1;
}

// Imports the model for its input signature and generates the benchmark's inputs.
int prepare_inputs(BenchConfig& cfg) {
  auto imported = import_onnx_signature(cfg.model_path);
  if (!imported.ok()) return fail(imported.status().to_string());
  const Graph& g = (*imported)->graph;
  if (Status st = check_calibration_inputs(g, cfg.options.range_check); !st.ok()) return fail(st.message(), 2);
  std::string unresolved;
  auto defaults = default_input_shapes(g, cfg.options.input_shapes, &cfg.assumed_shapes, &unresolved);
  if (!unresolved.empty())
    return fail("input " + unresolved + " has symbolic dims beyond the batch dim; give --input-shape NAME=D0,D1,... "
                "(e.g. --input-shape x=1,3,48,192)", 2);
  cfg.options.input_shapes.insert(defaults.begin(), defaults.end());
  Graph shaped = g;
  if (Status st = specialize_inputs(shaped, cfg.options.input_shapes); !st.ok()) return fail(st.message(), 2);
  auto inputs = generate_inputs(shaped);
  if (!inputs.ok()) return fail(inputs.status().message(), 2);
  cfg.inputs = std::move(*inputs);
  return -1;
}

// Cached loads in fresh processes: `switchyard run` with the same policy and cache folder, the
// way an integrator's next process meets the entry. Medians over the runs.
void measure_fresh_loads(const BenchConfig& cfg, const std::filesystem::path& cache_dir, LoadFigures& f) {
  std::vector<double> load, predict, wall;
  std::vector<std::string> argv = {self_executable(), "run", cfg.model_path, "--json", "--cache-dir", cache_dir.string()};
  argv.insert(argv.end(), cfg.child_args.begin(), cfg.child_args.end());
  for (int i = 0; i < cfg.fresh_runs; ++i) {
    ChildResult r = run_child(argv);
    if (r.exit_code != 0) {
      f.fresh_error = "switchyard run exited " + std::to_string(r.exit_code);
      return;
    }
    f.fresh_state = r.out.find("\"state\": \"cached\"") != std::string::npos ? "cached" : "uncached";
    load.push_back(json_number_field(r.out, "load_ms"));
    predict.push_back(json_number_field(r.out, "predict_ms"));
    wall.push_back(r.wall_ms);
  }
  f.fresh_runs = cfg.fresh_runs;
  f.fresh_load_ms = percentile(load, 0.5);
  f.fresh_predict_ms = percentile(predict, 0.5);
  f.fresh_wall_ms = percentile(wall, 0.5);
}

// Uncached load into a fresh cache folder (prepare, then the entry written), fresh-process
// cached loads, then a cached load in this process (the model the predictions use).
Result<std::shared_ptr<PartitionedModel>> measure_loads(const BenchConfig& cfg, const DeviceRegistry& devices, const Tracer& trace,
                                                        LoadFigures& f) {
  const auto cache_dir = std::filesystem::temp_directory_path() / ("switchyard_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(cache_dir);
  CacheOptions co;
  co.dir = cache_dir;
  auto t0 = Clock::now();
  auto cold = load_model(cfg.model_path, devices, cfg.options, PlanCache(co), &f.cold);
  auto t1 = Clock::now();
  if (!cold.ok()) return cold.status();
  f.cold_ms = ms(t1 - t0);
  f.compile_ms = (*cold)->times().compile_ms;
  trace.span("load", "load (prepare and cache)", t0, t1, {{"reason", f.cold.reason}});
  trace.span("load", "compile", t1 - from_ms(f.compile_ms + f.cold.store_ms), t1 - from_ms(f.cold.store_ms));
  trace.span("load", "cache write", t1 - from_ms(f.cold.store_ms), t1);
  clear_in_memory_models();
  cold->reset();
  if (cfg.fresh_runs > 0) measure_fresh_loads(cfg, cache_dir, f);
  auto t2 = Clock::now();
  auto model = load_model(cfg.model_path, devices, cfg.options, PlanCache(co), &f.warm);
  auto t3 = Clock::now();
  std::filesystem::remove_all(cache_dir);
  if (!model.ok()) return model.status();
  f.warm_ms = ms(t3 - t2);
  f.restore_ms = (*model)->times().compile_ms;
  f.warm_notes = (*model)->build_notes();
  trace.span("load", "load (cached)", t2, t3, {{"state", f.warm.state == CacheState::cached ? "cached" : "uncached"}});
  return model;
}

// One prediction's controls: --timeout (a deadline from now) and --max-memory.
PredictControl limited(const BenchConfig& cfg, std::vector<PredictEvent>* events) {
  PredictControl control;
  control.events = events;
  control.node_events = cfg.trace_operators;
  control.deadline = cfg.limits.deadline_from_now();
  control.max_memory_bytes = cfg.limits.max_memory_bytes;
  return control;
}

Status measure_sync(const BenchConfig& cfg, const PartitionedModel& pm, const Tracer& trace, SyncFigures& s) {
  std::vector<PredictEvent> events;
  PredictControl control = limited(cfg, &events);
  auto tp = Clock::now();
  auto first = pm.predict(cfg.inputs, &control);
  s.first_ms = ms(Clock::now() - tp);
  if (!first.ok()) return first.status();
  trace.span("predictions", "prediction (first)", tp, tp + from_ms(s.first_ms));
  trace.events(events, "first");
  // Warm-up, not counted: caches, branch predictors and the allocator settle over the first tens
  // of predictions (ppocr's first 100 ran 3-27% slower than its last 100 without it).
  s.warmup = std::min(cfg.requests, 20);
  for (int i = 0; i < s.warmup; ++i) {
    control = limited(cfg, nullptr);
    if (auto r = pm.predict(cfg.inputs, &control); !r.ok()) return r.status();
  }
  auto ts0 = Clock::now();
  for (int i = 0; i < cfg.requests; ++i) {
    events.clear();
    control = limited(cfg, &events);
    auto a = Clock::now();
    auto r = pm.predict(cfg.inputs, &control);
    auto b = Clock::now();
    if (!r.ok()) return r.status();
    s.latencies.push_back(ms(b - a));
    trace.span("predictions", "prediction (sync " + std::to_string(i) + ")", a, b);
    trace.events(events, "sync " + std::to_string(i));
    for (const auto& e : events) {
      if (e.kind == PredictEvent::Kind::node) continue;  // inside a segment's time already
      if (e.kind == PredictEvent::Kind::segment) s.segment_ms[e.segment].push_back(ms(e.end - e.start));
      s.device_ms[e.kind == PredictEvent::Kind::segment ? e.device : "transfers"] += ms(e.end - e.start) / cfg.requests;
    }
  }
  s.throughput = cfg.requests / (ms(Clock::now() - ts0) / 1000);
  s.window = std::min(100, std::max(1, cfg.requests / 2));
  const auto w = static_cast<std::ptrdiff_t>(s.window);
  s.first_window_ms = percentile(std::vector<double>(s.latencies.begin(), s.latencies.begin() + w), 0.5);
  s.last_window_ms = percentile(std::vector<double>(s.latencies.end() - w, s.latencies.end()), 0.5);
  return {};
}

Status measure_async(const BenchConfig& cfg, const std::shared_ptr<PartitionedModel>& model, const Tracer& trace, AsyncFigures& a) {
  // --concurrency in flight; the Predictor caps its worker threads (Predictor::max_worker_threads).
  Predictor predictor(model, {.max_in_flight = static_cast<size_t>(cfg.concurrency), .overflow = OverflowPolicy::block,
                              .threads = static_cast<size_t>(cfg.concurrency)});
  a.worker_threads = predictor.worker_threads();
  if (!predictor.status().ok()) std::fprintf(stderr, "switchyard: warning: %s\n", predictor.status().message().c_str());
  std::mutex mu;
  int failed = 0;
  std::string error;
  const size_t n = static_cast<size_t>(cfg.requests);
  // Per-prediction events are kept only for a trace: without one, memory stays flat.
  std::vector<std::vector<PredictEvent>> events(trace.rec ? n : 0);
  std::vector<Clock::time_point> starts(n), ends(n);
  auto ta = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    starts[i] = Clock::now();
    PredictOptions po;
    po.events = trace.rec ? &events[i] : nullptr;
    po.node_events = trace.rec != nullptr;
    po.timeout = cfg.limits.timeout;
    po.max_memory_bytes = cfg.limits.max_memory_bytes;
    predictor.predict_async(cfg.inputs, po, [&, i](Result<Outputs> r) {
      std::lock_guard<std::mutex> lock(mu);
      ends[i] = Clock::now();
      if (!r.ok() && failed++ == 0) error = r.status().to_string();
    });
  }
  // Wait for all: the Predictor's destructor would cancel queued ones, so drain first.
  while (true) {
    auto st = predictor.stats();
    if (st.completed + st.cancelled + st.rejected + st.failed >= n) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double total_s = ms(Clock::now() - ta) / 1000;
  std::lock_guard<std::mutex> lock(mu);  // only successful predictions count
  if (failed > 0)
    return Status(StatusCode::internal, std::to_string(failed) + " of " + std::to_string(n) + " async predictions failed: " + error);
  a.throughput = cfg.requests / total_s;
  for (size_t i = 0; i < n; ++i) {
    a.latencies.push_back(ms(ends[i] - starts[i]));
    trace.span("predictions", "prediction (async " + std::to_string(i) + ")", starts[i], ends[i]);
    if (trace.rec) trace.events(events[i], "async " + std::to_string(i));
  }
  return {};
}

// Sync latency with the CPU plugin's default threading, in a child process (-1 if not measured).
double default_threading_median(const BenchConfig& cfg) {
  if (cfg.sync_only || !cfg.cpu_threads_set) return -1;
  std::vector<std::string> argv = {self_executable(), "bench", cfg.model_path, "--sync-only", "--json", "--fresh-runs", "0",
                                   "--requests", std::to_string(cfg.requests)};
  argv.insert(argv.end(), cfg.child_args.begin(), cfg.child_args.end());
  ChildResult r = run_child(argv, {{"SWITCHYARD_CPU_THREADS", cfg.default_threads}});
  return r.exit_code == 0 ? json_number_field(r.out, "median") : -1;
}

std::string latency_json(const std::vector<double>& v) {
  return "{\"median\": " + json::number(percentile(v, 0.5)) + ", \"p90\": " + json::number(percentile(v, 0.9)) +
         ", \"p99\": " + json::number(percentile(v, 0.99)) + "}";
}

void print_json(const BenchConfig& cfg, const Plan& plan, const LoadFigures& l, const SyncFigures& s, const AsyncFigures& a,
                double default_median, const Memory& m) {
  std::string out = "{\"model\": " + json::quote(cfg.model_path) + ", \"placement\": " + json::quote(plan.summary()) +
                    (cfg.assumed_shapes.empty() ? std::string() : ", \"input_shapes\": " + json::quote(cfg.assumed_shapes)) +
                    ",\n \"load\": {\"uncached_ms\": " + json::number(l.cold_ms) + ", \"uncached_prepare_ms\": " + json::number(l.cold.load_ms) +
                    ", \"uncached_import_ms\": " + json::number(l.cold.import_ms) + ", \"cache_write_ms\": " + json::number(l.cold.store_ms) +
                    ", \"cached_ms\": " + json::number(l.warm_ms) + ", \"cached\": " + (l.warm.state == CacheState::cached ? "true" : "false") +
                    ", \"cached_restore_ms\": " + json::number(l.restore_ms) + ", \"cached_hash_ms\": " + json::number(l.warm.hash_ms);
  out += ", \"cached_restore_notes\": [";
  for (size_t i = 0; i < l.warm_notes.size(); ++i) out += (i ? ", " : "") + json::quote(l.warm_notes[i]);
  out += "]";
  if (l.fresh_runs > 0)
    out += ",\n  \"fresh_process\": {\"runs\": " + std::to_string(l.fresh_runs) + ", \"state\": " + json::quote(l.fresh_state) +
           ", \"load_ms\": " + json::number(l.fresh_load_ms) + ", \"predict_ms\": " + json::number(l.fresh_predict_ms) +
           ", \"process_wall_ms\": " + json::number(l.fresh_wall_ms) + "}";
  else if (!l.fresh_error.empty())
    out += ",\n  \"fresh_process\": {\"error\": " + json::quote(l.fresh_error) + "}";
  out += "},\n \"compile_ms\": " + json::number(l.compile_ms) + ", \"first_prediction_ms\": " + json::number(s.first_ms) +
         ",\n \"sync\": {\"latency_ms\": " + latency_json(s.latencies) + ", \"throughput_per_s\": " + json::number(s.throughput) +
         ", \"requests\": " + std::to_string(cfg.requests) + ", \"warmup\": " + std::to_string(s.warmup) + ", \"drift\": {\"window\": " + std::to_string(s.window) +
         ", \"first_median_ms\": " + json::number(s.first_window_ms) + ", \"last_median_ms\": " + json::number(s.last_window_ms) + "}}";
  if (!cfg.sync_only)
    out += ",\n \"async\": {\"concurrency\": " + std::to_string(cfg.concurrency) + ", \"worker_threads\": " + std::to_string(a.worker_threads) +
           ", \"throughput_per_s\": " + json::number(a.throughput) +
           ", \"latency_ms\": " + latency_json(a.latencies) + "}";
  if (default_median >= 0) out += ",\n \"sync_default_threads\": {\"latency_ms\": {\"median\": " + json::number(default_median) + "}}";
  out += ",\n \"memory_mib\": {\"rss_after_load\": " + json::number(m.after_load) + ", \"rss_after_sync\": " + json::number(m.after_sync) +
         ", \"rss_after_async\": " + json::number(m.after_async) + ", \"peak_rss\": " + json::number(m.peak) + "}";
  out += ",\n \"segments\": [";
  for (size_t i = 0; i < plan.segments.size(); ++i) {
    const auto& seg = plan.segments[i];
    auto it = s.segment_ms.find(seg.id);
    out += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(seg.id) + ", \"device\": " + json::quote(seg.device) + ", \"nodes\": " +
           std::to_string(seg.nodes.size()) + ", \"median_ms\": " + json::number(it == s.segment_ms.end() ? 0 : percentile(it->second, 0.5)) +
           ", \"estimated_ms\": " + json::number(seg.estimated_us / 1000) + "}";
  }
  out += "],\n \"devices_ms_per_prediction\": {";
  bool first = true;
  for (const auto& [d, v] : s.device_ms) {
    out += std::string(first ? "" : ", ") + json::quote(d) + ": " + json::number(v);
    first = false;
  }
  std::fputs((out + "}}\n").c_str(), stdout);
}

void print_table(const BenchConfig& cfg, const Plan& plan, const LoadFigures& l, const SyncFigures& s, const AsyncFigures& a,
                 double default_median, const Memory& m) {
  std::printf("model:      %s\nplacement:  %s\n", cfg.model_path.c_str(), plan.summary().c_str());
  if (!cfg.assumed_shapes.empty()) std::printf("shapes:     %s (symbolic input dims; choose with --input-shape)\n", cfg.assumed_shapes.c_str());
  std::printf("\nload        uncached %9.2f ms  (prepare %.2f ms incl. import %.2f ms, then cache write %.2f ms; %s)\n", l.cold_ms,
              l.cold.load_ms, l.cold.import_ms, l.cold.store_ms, l.cold.reason.c_str());
  if (l.fresh_runs > 0)
    std::printf("            cached, fresh process: load %.2f ms, predict %.2f ms, process wall %.2f ms  (%s; median of %d `run`s)\n",
                l.fresh_load_ms, l.fresh_predict_ms, l.fresh_wall_ms, l.fresh_state.c_str(), l.fresh_runs);
  else if (!l.fresh_error.empty())
    std::printf("            cached, fresh process: not measured (%s)\n", l.fresh_error.c_str());
  std::printf("            cached, this process %9.2f ms  (restore %.2f ms, model hash %.2f ms; %.1fx faster than uncached)\n", l.warm_ms,
              l.restore_ms, l.warm.hash_ms, l.cold_ms / std::max(1e-9, l.warm_ms));
  for (const auto& note : l.warm_notes) std::printf("              %s\n", note.c_str());
  std::printf("compile              %9.2f ms\nfirst prediction     %9.2f ms\n", l.compile_ms, s.first_ms);
  std::printf("sync        latency  median %.2f ms, p90 %.2f ms, p99 %.2f ms  (%d requests after %d to warm up)\n",
              percentile(s.latencies, 0.5), percentile(s.latencies, 0.9), percentile(s.latencies, 0.99), cfg.requests, s.warmup);
  std::printf("            drift    median of the first %d %.3f ms, of the last %d %.3f ms\n", s.window, s.first_window_ms, s.window,
              s.last_window_ms);
  std::printf("            throughput %.1f / s\n", s.throughput);
  if (!cfg.sync_only)
    std::printf("async x%-3d  throughput %.1f / s  (%.2fx sync), latency median %.2f ms  (%zu worker threads)\n", cfg.concurrency,
                a.throughput, a.throughput / s.throughput, percentile(a.latencies, 0.5), a.worker_threads);
  if (default_median >= 0) std::printf("sync with the CPU plugin's default threading: median %.2f ms\n", default_median);
  std::printf("memory      RSS after load %.1f MiB, after sync %.1f MiB, after async %.1f MiB, peak %.1f MiB\n", m.after_load, m.after_sync,
              m.after_async, m.peak);
  std::printf("\nper segment (sync):\n");
  for (const auto& seg : plan.segments) {
    auto it = s.segment_ms.find(seg.id);
    std::printf("  #%-3d %-16s %4zu nodes  median %8.3f ms  (estimated %.3f ms)\n", seg.id, seg.device.c_str(), seg.nodes.size(),
                it == s.segment_ms.end() ? 0 : percentile(it->second, 0.5), seg.estimated_us / 1000);
  }
  std::printf("per device, per prediction (sync):\n");
  for (const auto& [d, v] : s.device_ms) std::printf("  %-16s %8.3f ms\n", d.c_str(), v);
}

}  // namespace

const char* bench_usage() { return kBenchUsage; }

int cmd_bench(const std::vector<std::string>& argv) {
  BenchConfig cfg;
  std::optional<std::string> trace_file;
  size_t trace_max = TraceRecorder::kDefaultMaxEvents;
  if (int code = configure(argv, cfg, trace_file, trace_max); code >= 0) return code;
  if (int code = prepare_inputs(cfg); code >= 0) return code;
  Tracer trace;
  if (trace_file) trace.rec = std::make_unique<TraceRecorder>(trace_max);
  DeviceRegistry devices = DeviceRegistry::discover(discovery_for(cfg.options.policy));
  LoadFigures loads;
  auto model = measure_loads(cfg, devices, trace, loads);
  if (!model.ok()) return fail(model.status().to_string(), model.status().code() == StatusCode::not_found ? 2 : 1);
  Memory mem;
  mem.after_load = status_mib("VmRSS");
  SyncFigures sync;
  if (Status st = measure_sync(cfg, **model, trace, sync); !st.ok()) return fail(st.to_string());
  mem.after_sync = status_mib("VmRSS");
  AsyncFigures async;
  if (!cfg.sync_only)
    if (Status st = measure_async(cfg, *model, trace, async); !st.ok()) return fail(st.message());
  mem.after_async = status_mib("VmRSS");
  mem.peak = status_mib("VmHWM");
  const double default_median = default_threading_median(cfg);
  if (trace.rec) {
    if (Status st = trace.rec->write(*trace_file); !st.ok()) return fail(st.message());
    if (trace.rec->dropped() > 0)
      std::fprintf(stderr, "switchyard: trace kept the first %zu spans and dropped %zu (--trace-max-events)\n", trace.rec->recorded(),
                   trace.rec->dropped());
  }
  if (cfg.json) print_json(cfg, (*model)->plan(), loads, sync, async, default_median, mem);
  else print_table(cfg, (*model)->plan(), loads, sync, async, default_median, mem);
  return 0;
}

}  // namespace switchyard::cli
