// switchyard run: load a model, run it once on a device (or the reference), print outputs.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "args.h"
#include "commands.h"
#include "limit_args.h"
#include "policy_args.h"
#include "switchyard/compiled_model.h"
#include "switchyard/discovery.h"
#include "switchyard/partitioned_model.h"
#include "switchyard/model_loader.h"
#include "switchyard/plan_cache.h"
#include "switchyard/shape_inference.h"
#include "switchyard/trace.h"
#include "switchyard/json.h"
#include "switchyard/plugin_loader.h"
#include "switchyard/reference.h"
#include "switchyard/reference_util.h"
#include "switchyard/tensor_io.h"

namespace switchyard::cli {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

struct Summary {
  double min = 0, max = 0, mean = 0;
  std::vector<double> head;
  bool numeric = false;
};

Summary summarize(const Tensor& t) {
  Summary s;
  if (t.type() == ElementType::string || t.numel() == 0) return s;
  try {
    double sum = 0;
    s.min = INFINITY;
    s.max = -INFINITY;
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v = reference::get_double(t, i);
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
      sum += v;
      if (i < 6) s.head.push_back(v);
    }
    s.mean = sum / static_cast<double>(t.numel());
    s.numeric = true;
  } catch (const Error&) {
  }
  return s;
}

}  // namespace

int cmd_run(const std::vector<std::string>& argv) {
  std::vector<std::string> flags = {"--input", "--input-shape", "--output-dir", "--cache-dir", "--trace"}, switches = {"--json", "--no-cache"};
  flags.insert(flags.end(), kPolicyFlags.begin(), kPolicyFlags.end());
  flags.insert(flags.end(), kLimitFlags.begin(), kLimitFlags.end());
  switches.insert(switches.end(), kPolicySwitches.begin(), kPolicySwitches.end());
  auto parsed = Args::parse(argv, flags, switches);
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  const Args& args = *parsed;
  if (args.positional().size() != 1) return fail("usage: switchyard run MODEL [--units U | --device ID... | --device all | --device reference] [--policy FILE] [--input NAME=FILE]... [--input-shape NAME=D0,D1,...]... [--timeout SECONDS] [--max-memory SIZE] [--output-dir DIR] [--cache-dir DIR | --no-cache] [--trace FILE] [--json]", 2);
  const std::string model_path = args.positional()[0];
  const bool json_out = args.has("--json");
  RangeCheckOptions range_check;
  if (Status st = range_check_from_args(args, &range_check); !st.ok()) return fail(st.message(), 2);
  PredictionLimits limits;
  if (Status st = limits_from_args(args, &limits); !st.ok()) return fail(st.message(), 2);

  auto t_load = std::chrono::steady_clock::now();
  // The signature (inputs, outputs) is all that is needed before a load, which may come from the
  // plan cache: the full import happens inside the load on a miss (or below for the reference).
  auto model = import_onnx_signature(model_path);
  if (!model.ok()) return fail(model.status().to_string());
  const Graph& g = (*model)->graph;
  if (Status st = check_calibration_inputs(g, range_check); !st.ok()) return fail(st.message(), 2);

  // Fixed shapes for symbolic input dims (the graph is specialised to them at load).
  std::map<std::string, Shape> input_shapes;
  for (const auto& spec : args.all("--input-shape")) {
    auto parsed_shapes = parse_input_shapes(spec);
    if (!parsed_shapes.ok()) return fail(parsed_shapes.status().message(), 2);
    input_shapes.insert(parsed_shapes->begin(), parsed_shapes->end());
  }
  Graph shaped = g;
  if (Status st = specialize_inputs(shaped, input_shapes); !st.ok()) return fail(st.message(), 2);

  // Inputs: named files, the rest generated.
  auto gen = generate_inputs(shaped);
  std::vector<Value> inputs;
  {
    auto given = args.all("--input");
    std::map<std::string, Tensor> by_name;
    for (const auto& spec : given) {
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) return fail("--input expects NAME=FILE, got '" + spec + "'", 2);
      std::string name = spec.substr(0, eq);
      bool known = false;
      for (int32_t id : g.inputs) known = known || g.value_name(id) == name;
      if (!known) return fail("--input: the model has no input named '" + name + "'", 2);
      if (by_name.count(name)) return fail("--input: '" + name + "' is given twice", 2);
      auto t = load_tensor_file(spec.substr(eq + 1));
      if (!t.ok()) return fail(t.status().to_string());
      by_name[name] = *t;
    }
    if (by_name.size() < g.inputs.size() && !gen.ok()) return fail(gen.status().to_string());
    // Generated inputs take 1 for a symbolic batch dim; other symbolic dims have no sensible default.
    std::map<std::string, Shape> named = input_shapes;
    for (const auto& [name, t] : by_name) named[name] = t.shape();
    std::string unresolved;
    (void)default_input_shapes(g, named, nullptr, &unresolved);
    if (!unresolved.empty())
      return fail("input " + unresolved + " has symbolic dims beyond the batch dim; give --input-shape NAME=D0,D1,... or --input NAME=FILE", 2);
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      auto it = by_name.find(g.value_name(g.inputs[i]));
      inputs.push_back(it != by_name.end() ? Value::of(it->second) : (*gen)[i]);
    }
  }

  // Symbolic input dims: the graph is specialised to the inputs about to run (generated ones use 1).
  std::string specialised;
  for (const auto& [name, shape] : input_shapes_of(g, inputs, input_shapes)) {
    specialised += (specialised.empty() ? "" : "; ") + name + "=" + shape_to_string(shape);
    input_shapes[name] = shape;
  }

  const auto device_args = args.all("--device");
  const bool all_mode = device_args.size() == 1 && device_args[0] == "all";
  const bool reference_only = device_args.size() == 1 && device_args[0] == "reference";
  Policy policy;
  if (!all_mode && !reference_only) {
    auto p = policy_from_args(args);
    if (!p.ok()) return fail(p.status().message(), 2);
    policy = *p;
  }
  std::unique_ptr<DeviceRegistry> registry;
  // Only the plugins the policy can use are started (--device all: every plugin).
  const auto t_discovery = std::chrono::steady_clock::now();
  if (!reference_only) registry = std::make_unique<DeviceRegistry>(DeviceRegistry::discover(all_mode ? DiscoveryOptions{} : discovery_for(policy)));
  const auto t_discovered = std::chrono::steady_clock::now();
  const double import_ms = ms_since(t_load);

  // One run on one target: "reference" runs the reference interpreter; anything else runs
  // the model partitioned under a policy (the command line's, or one device in --device all).
  struct RunResult {
    std::string device;
    double load_ms = 0, predict_ms = 0;
    std::vector<Value> outputs;
    std::string implementations;
    std::string placement;
    std::string placement_json;
    std::string cache_state, cache_reason;
  };
  CacheOptions cache_options;
  cache_options.enabled = !args.has("--no-cache");
  if (auto dir = args.get("--cache-dir")) cache_options.dir = *dir;
  PlanCache cache(cache_options);
  TraceRecorder trace;
  if (registry) {  // which plugins this run started (a --device cpu:0 run starts no OpenCL driver)
    std::string plugins;
    for (const auto& p : registry->plugins()) plugins += (plugins.empty() ? "" : ", ") + p->manifest().name;
    trace.span("load", "discovery", "load", t_discovery, t_discovered, {{"plugins", plugins}});
  }
  auto run_on = [&](const std::string& target, const Policy& target_policy) -> Result<RunResult> {
    RunResult rr;
    rr.device = target;
    if (target == "reference") {
      auto t_import = std::chrono::steady_clock::now();
      SY_ASSIGN_OR_RETURN(auto full, import_onnx_file(model_path));
      const Graph& fg = full->graph;
      for (size_t i = 0; i < inputs.size(); ++i) SY_RETURN_IF_ERROR(check_input(fg.values[static_cast<size_t>(fg.inputs[i])], inputs[i]));
      rr.load_ms = import_ms + ms_since(t_import);
      auto t_pred = std::chrono::steady_clock::now();
      const StopFlag stop(std::nullopt, limits.deadline_from_now());
      reference::RunOptions run_options;
      run_options.limits = {stop.flag(), limits.max_memory_bytes};
      auto outputs = reference::Interpreter().run(fg, inputs, run_options);
      if (!outputs.ok()) return stop.explain(outputs.status());
      rr.outputs = std::move(outputs).value();
      rr.predict_ms = ms_since(t_pred);
      return rr;
    }
    PartitionOptions options;
    options.policy = target_policy;
    options.input_shapes = input_shapes;
    options.range_check = range_check;
    LoadReport report;
    auto t_cache = std::chrono::steady_clock::now();
    SY_ASSIGN_OR_RETURN(auto pm, load_model(model_path, *registry, options, cache, &report));
    trace.span("load", report.state == CacheState::cached ? "load (cached)" : "load (prepare and cache)", "load", t_cache,
               std::chrono::steady_clock::now(), {{"reason", report.reason}});
    rr.load_ms = report.load_ms;
    rr.cache_state = report.state == CacheState::cached ? "cached" : "uncached";
    rr.cache_reason = report.reason;
    for (const auto& w : report.warnings) std::fprintf(stderr, "switchyard: warning: %s\n", w.c_str());
    const Plan& plan = pm->plan();
    std::map<std::string, int> impl_count;
    for (const auto& p : plan.placements) {
      const auto& answers = pm->support().at(p.device);
      ++impl_count[answers[static_cast<size_t>(p.node)].implementation];
    }
    for (const auto& [k, n] : impl_count) rr.implementations += (rr.implementations.empty() ? "" : ", ") + std::to_string(n) + " " + k;
    if (target == "policy") rr.device.clear();  // the devices the plan uses; else the device tried
    for (const auto& d : plan.devices) {
      if (target != "policy") break;
      bool used = std::any_of(plan.segments.begin(), plan.segments.end(), [&](const Segment& s) { return s.device == d; });
      if (used) rr.device += (rr.device.empty() ? "" : "+") + d;
    }
    rr.placement = plan.summary();
    rr.placement_json = "{\"summary\": " + json::quote(plan.summary()) + ", \"segments\": [";
    for (size_t i = 0; i < plan.segments.size(); ++i)
      rr.placement_json += std::string(i ? ", " : "") + "{\"device\": " + json::quote(plan.segments[i].device) +
                           ", \"nodes\": " + std::to_string(plan.segments[i].nodes.size()) + "}";
    rr.placement_json += "]}";
    auto t_pred = std::chrono::steady_clock::now();
    std::vector<PredictEvent> events;
    PredictControl control;
    control.events = &events;
    control.deadline = limits.deadline_from_now();
    control.max_memory_bytes = limits.max_memory_bytes;
    SY_ASSIGN_OR_RETURN(rr.outputs, pm->predict(inputs, &control));
    rr.predict_ms = ms_since(t_pred);
    trace.span("predictions", "prediction", "prediction", t_pred, std::chrono::steady_clock::now());
    trace.prediction_events(events, "prediction");
    return rr;
  };

  std::vector<std::pair<std::string, Policy>> targets;
  if (all_mode) {
    // Each device in turn, preferred for every node it runs, with the CPU as fallback.
    for (const auto& d : registry->devices()) {
      Policy one;
      one.devices = {d->id()};
      one.objective = Objective::accelerator;  // the first device of the list runs all it supports
      for (const auto& c : registry->devices())
        if (c->info().kind == DeviceKind::cpu && c->id() != d->id()) one.devices.push_back(c->id());
      targets.emplace_back(d->id(), one);
    }
    targets.emplace_back("reference", Policy{});
    if (json_out) return fail("--json takes one target; use --device ID or --units", 2);
    if (args.has("--output-dir")) return fail("--output-dir takes one target; use --device ID or --units", 2);
  } else if (reference_only) {
    targets.emplace_back("reference", Policy{});
  } else {
    if (registry->devices().empty() && policy.devices.empty())
      return fail("no devices found (see `switchyard devices`); use --device reference to run the reference");
    targets.emplace_back("policy", policy);
  }
  int failures = 0;
  for (size_t k = 0; k < targets.size(); ++k) {
    auto rr = run_on(targets[k].first, targets[k].second);
    if (!rr.ok()) {
      if (targets.size() == 1) return fail(rr.status().to_string(), rr.status().code() == StatusCode::not_found ? 2 : 1);
      std::printf("device:  %s\n  error: %s\n\n", targets[k].first.c_str(), rr.status().to_string().c_str());
      ++failures;
      continue;
    }
    std::vector<Value>& outputs = rr->outputs;
    const double load_ms = rr->load_ms, predict_ms = rr->predict_ms;
    const std::string& implementations = rr->implementations;
    const std::string& device_id = rr->device;
    if (auto dir = args.get("--output-dir")) {
      std::error_code ec;
      std::filesystem::create_directories(*dir, ec);
      if (ec) return fail("cannot create '" + *dir + "': " + ec.message());
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i].kind != Value::Kind::tensor) continue;
        std::string name = g.value_name(g.outputs[i]);
        for (auto& c : name)
          if (c == '/' || c == '\\' || c == ':') c = '_';
        Status st = save_npy(std::filesystem::path(*dir) / (name + ".npy"), outputs[i].tensor);
        if (!st.ok()) return fail(st.to_string());
      }
    }

    if (json_out) {
      std::string out = "{\"model\": " + json::quote(model_path) + ", \"device\": " + json::quote(device_id) +
                        ", \"load_ms\": " + json::number(load_ms) + ", \"predict_ms\": " + json::number(predict_ms) +
                        (rr->placement_json.empty() ? std::string() : ", \"placement\": " + rr->placement_json) +
                        (specialised.empty() ? std::string() : ", \"input_shapes\": " + json::quote(specialised)) +
                        (rr->cache_state.empty() ? std::string()
                                                 : ", \"cache\": {\"state\": " + json::quote(rr->cache_state) +
                                                       ", \"reason\": " + (rr->cache_reason.empty() ? std::string("null") : json::quote(rr->cache_reason)) + "}") +
                        ", \"outputs\": [";
      for (size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& t = outputs[i].tensor;
        Summary s = summarize(t);
        std::string shape = "[";
        for (size_t k = 0; k < t.shape().size(); ++k) shape += (k ? "," : "") + std::to_string(t.shape()[k]);
        shape += "]";
        out += std::string(i ? ", " : "") + "{\"name\": " + json::quote(g.value_name(g.outputs[i])) + ", \"shape\": " + shape +
               ", \"dtype\": " + json::quote(element_type_name(t.type()));
        if (s.numeric)
          out += ", \"min\": " + json::number(s.min) + ", \"max\": " + json::number(s.max) + ", \"mean\": " + json::number(s.mean);
        out += "}";
      }
      out += "]}\n";
      std::fputs(out.c_str(), stdout);
      continue;
    }
    std::printf("model:   %s\ndevice:  %s%s%s%s\n", model_path.c_str(), device_id.c_str(),
                implementations.empty() ? "" : " (kernels: ", implementations.c_str(), implementations.empty() ? "" : ")");
    if (!rr->placement.empty()) std::printf("placement: %s\n", rr->placement.c_str());
    if (!specialised.empty() && targets[k].first != "reference")
      std::printf("shapes:  %s (symbolic input dims specialised to the inputs; --input-shape to choose)\n", specialised.c_str());
    std::string cache_note;
    if (!rr->cache_state.empty()) cache_note = " (" + rr->cache_state + (rr->cache_reason.empty() ? "" : ": " + rr->cache_reason) + ")";
    std::printf("load:    %.2f ms%s\npredict: %.2f ms\n", load_ms, cache_note.c_str(), predict_ms);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& t = outputs[i].tensor;
      Summary s = summarize(t);
      std::printf("output %s: %s%s", g.value_name(g.outputs[i]).c_str(), std::string(element_type_name(t.type())).c_str(),
                  shape_to_string(t.shape()).c_str());
      if (s.numeric) {
        std::printf("  min %.6g max %.6g mean %.6g  [", s.min, s.max, s.mean);
        for (size_t k = 0; k < s.head.size(); ++k) std::printf("%s%.6g", k ? ", " : "", s.head[k]);
        std::printf("%s]", t.numel() > static_cast<int64_t>(s.head.size()) ? ", ..." : "");
      }
      std::printf("\n");
    }
    if (k + 1 < targets.size()) std::printf("\n");
  }
  if (auto file = args.get("--trace")) {
    Status st = trace.write(*file);
    if (!st.ok()) return fail(st.message());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace switchyard::cli
