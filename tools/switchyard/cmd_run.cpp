// switchyard run: load a model, run it once on a device (or the reference), print outputs.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "args.h"
#include "commands.h"
#include "limit_args.h"
#include "policy_args.h"
#include "switchyard/runtime/model_inputs.h"
#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/runtime/model_loader.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/trace.h"
#include "switchyard/common/json.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/runtime/tensor_io.h"

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

// One run's result on one target (a device, the policy's devices, or the reference).
struct RunResult {
  std::string device;
  double load_ms = 0, predict_ms = 0;
  std::vector<Value> outputs;
  std::string implementations;
  std::string placement;
  std::string placement_json;
  std::string cache_state, cache_reason;
};

// What every run of this command shares: the model, its inputs, the options from the command line.
struct RunSetup {
  std::string model_path;
  std::vector<Value> inputs;
  std::map<std::string, Shape> input_shapes;
  RangeCheckOptions range_check;
  PredictionLimits limits;
  const DeviceRegistry* registry = nullptr;
  const PlanCache* cache = nullptr;
  TraceRecorder* trace = nullptr;
  bool trace_operators = false;  // --trace: per-operator events from plugins that time them
  double import_ms = 0;  // reading the signature and discovering the devices
};

// --input NAME=FILE tensors by name; an exit code when one is malformed, unknown, repeated or unreadable.
std::optional<int> read_input_files(const Args& args, const Graph& g, std::map<std::string, Tensor>& by_name) {
  for (const auto& spec : args.all("--input")) {
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
  return std::nullopt;
}

// The model's inputs in order: the named files, the rest generated for the shaped graph.
std::optional<int> gather_inputs(const Args& args, const Graph& g, const Graph& shaped, const std::map<std::string, Shape>& input_shapes,
                                 std::vector<Value>& inputs) {
  auto gen = generate_inputs(shaped);
  std::map<std::string, Tensor> by_name;
  if (auto code = read_input_files(args, g, by_name)) return code;
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
  return std::nullopt;
}

Result<RunResult> run_on_reference(const RunSetup& s) {
  RunResult rr;
  rr.device = "reference";
  auto t_import = std::chrono::steady_clock::now();
  SY_ASSIGN_OR_RETURN(auto full, import_onnx_file(s.model_path));
  const Graph& fg = full->graph;
  for (size_t i = 0; i < s.inputs.size(); ++i) SY_RETURN_IF_ERROR(check_input(fg.values[static_cast<size_t>(fg.inputs[i])], s.inputs[i]));
  rr.load_ms = s.import_ms + ms_since(t_import);
  auto t_pred = std::chrono::steady_clock::now();
  const StopFlag stop(std::nullopt, s.limits.deadline_from_now());
  reference::RunOptions run_options;
  run_options.limits = {stop.flag(), s.limits.max_memory_bytes};
  auto outputs = reference::Interpreter().run(fg, s.inputs, run_options);
  if (!outputs.ok()) return stop.explain(outputs.status());
  rr.outputs = std::move(outputs).value();
  rr.predict_ms = ms_since(t_pred);
  return rr;
}

// How many nodes each implementation runs ("12 onednn, 3 reference").
std::string implementations_of(const PartitionedModel& pm) {
  std::map<std::string, int> impl_count;
  for (const auto& p : pm.plan().placements) ++impl_count[pm.support().at(p.device)[static_cast<size_t>(p.node)].implementation];
  std::string out;
  for (const auto& [k, n] : impl_count) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  return out;
}

std::string placement_json(const Plan& plan) {
  std::string out = "{\"summary\": " + json::quote(plan.summary()) + ", \"segments\": [";
  for (size_t i = 0; i < plan.segments.size(); ++i)
    out += std::string(i ? ", " : "") + "{\"device\": " + json::quote(plan.segments[i].device) +
           ", \"nodes\": " + std::to_string(plan.segments[i].nodes.size()) + "}";
  return out + "]}";
}

// The devices the plan's segments use, joined with '+'.
std::string devices_used(const Plan& plan) {
  std::string out;
  for (const auto& d : plan.devices) {
    bool used = std::any_of(plan.segments.begin(), plan.segments.end(), [&](const Segment& seg) { return seg.device == d; });
    if (used) out += (out.empty() ? "" : "+") + d;
  }
  return out;
}

// The model partitioned under `policy` (through the plan cache), then one prediction. `target` is
// "policy" for the command line's policy, else the device tried in --device all.
Result<RunResult> run_partitioned(const RunSetup& s, const std::string& target, const Policy& policy) {
  RunResult rr;
  PartitionOptions options;
  options.policy = policy;
  options.input_shapes = s.input_shapes;
  options.range_check = s.range_check;
  LoadReport report;
  auto t_cache = std::chrono::steady_clock::now();
  SY_ASSIGN_OR_RETURN(auto pm, load_model(s.model_path, *s.registry, options, *s.cache, &report));
  s.trace->span("load", report.state == CacheState::cached ? "load (cached)" : "load (prepare and cache)", "load", t_cache,
                std::chrono::steady_clock::now(), {{"reason", report.reason}});
  rr.load_ms = report.load_ms;
  rr.cache_state = report.state == CacheState::cached ? "cached" : "uncached";
  rr.cache_reason = report.reason;
  for (const auto& w : report.warnings) std::fprintf(stderr, "switchyard: warning: %s\n", w.c_str());
  const Plan& plan = pm->plan();
  rr.implementations = implementations_of(*pm);
  rr.device = target == "policy" ? devices_used(plan) : target;
  rr.placement = plan.summary();
  rr.placement_json = placement_json(plan);
  auto t_pred = std::chrono::steady_clock::now();
  std::vector<PredictEvent> events;
  PredictControl control;
  control.events = &events;
  control.node_events = s.trace_operators;
  control.deadline = s.limits.deadline_from_now();
  control.max_memory_bytes = s.limits.max_memory_bytes;
  SY_ASSIGN_OR_RETURN(rr.outputs, pm->predict(s.inputs, &control));
  rr.predict_ms = ms_since(t_pred);
  s.trace->span("predictions", "prediction", "prediction", t_pred, std::chrono::steady_clock::now());
  s.trace->prediction_events(events, "prediction");
  return rr;
}

// --device all: each device in turn, preferred for every node it runs, with the CPU as fallback;
// then the reference.
std::vector<std::pair<std::string, Policy>> every_device(const DeviceRegistry& registry) {
  std::vector<std::pair<std::string, Policy>> targets;
  for (const auto& d : registry.devices()) targets.emplace_back(d->id(), device_first_policy(registry, d->id()));
  targets.emplace_back("reference", Policy{});
  return targets;
}

// Each tensor output as NAME.npy in `dir` ('/', '\\' and ':' in names become '_').
std::optional<int> save_outputs(const std::string& dir, const Graph& g, const std::vector<Value>& outputs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create '" + dir + "': " + ec.message());
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].kind != Value::Kind::tensor) continue;
    std::string name = g.value_name(g.outputs[i]);
    for (auto& c : name)
      if (c == '/' || c == '\\' || c == ':') c = '_';
    Status st = save_npy(std::filesystem::path(dir) / (name + ".npy"), outputs[i].tensor);
    if (!st.ok()) return fail(st.to_string());
  }
  return std::nullopt;
}

void print_json(const std::string& model_path, const Graph& g, const RunResult& rr, const std::string& specialised) {
  std::string out = "{\"model\": " + json::quote(model_path) + ", \"device\": " + json::quote(rr.device) +
                    ", \"load_ms\": " + json::number(rr.load_ms) + ", \"predict_ms\": " + json::number(rr.predict_ms) +
                    (rr.placement_json.empty() ? std::string() : ", \"placement\": " + rr.placement_json) +
                    (specialised.empty() ? std::string() : ", \"input_shapes\": " + json::quote(specialised)) +
                    (rr.cache_state.empty() ? std::string()
                                            : ", \"cache\": {\"state\": " + json::quote(rr.cache_state) +
                                                  ", \"reason\": " + (rr.cache_reason.empty() ? std::string("null") : json::quote(rr.cache_reason)) + "}") +
                    ", \"outputs\": [";
  for (size_t i = 0; i < rr.outputs.size(); ++i) {
    const Tensor& t = rr.outputs[i].tensor;
    Summary s = summarize(t);
    std::string shape = "[";
    for (size_t k = 0; k < t.shape().size(); ++k) shape += (k ? "," : "") + std::to_string(t.shape()[k]);
    shape += "]";
    out += std::string(i ? ", " : "") + "{\"name\": " + json::quote(g.value_name(g.outputs[i])) + ", \"shape\": " + shape +
           ", \"dtype\": " + json::quote(element_type_name(t.type()));
    if (s.numeric) out += ", \"min\": " + json::number(s.min) + ", \"max\": " + json::number(s.max) + ", \"mean\": " + json::number(s.mean);
    out += "}";
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

void print_table(const std::string& model_path, const Graph& g, const RunResult& rr, const std::string& specialised) {
  const std::string& impl = rr.implementations;
  std::printf("model:   %s\ndevice:  %s%s%s%s\n", model_path.c_str(), rr.device.c_str(), impl.empty() ? "" : " (kernels: ", impl.c_str(),
              impl.empty() ? "" : ")");
  if (!rr.placement.empty()) std::printf("placement: %s\n", rr.placement.c_str());
  if (!specialised.empty() && rr.device != "reference")
    std::printf("shapes:  %s (symbolic input dims specialised to the inputs; --input-shape to choose)\n", specialised.c_str());
  std::string cache_note;
  if (!rr.cache_state.empty()) cache_note = " (" + rr.cache_state + (rr.cache_reason.empty() ? "" : ": " + rr.cache_reason) + ")";
  std::printf("load:    %.2f ms%s\npredict: %.2f ms\n", rr.load_ms, cache_note.c_str(), rr.predict_ms);
  for (size_t i = 0; i < rr.outputs.size(); ++i) {
    const Tensor& t = rr.outputs[i].tensor;
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
  RunSetup setup;
  setup.model_path = args.positional()[0];
  const bool json_out = args.has("--json");
  if (Status st = range_check_from_args(args, &setup.range_check); !st.ok()) return fail(st.message(), 2);
  if (Status st = limits_from_args(args, &setup.limits); !st.ok()) return fail(st.message(), 2);

  auto t_load = std::chrono::steady_clock::now();
  // The signature (inputs, outputs) is all that is needed before a load, which may come from the
  // plan cache: the full import happens inside the load on a miss (or below for the reference).
  auto model = import_onnx_signature(setup.model_path);
  if (!model.ok()) return fail(model.status().to_string());
  const Graph& g = (*model)->graph;
  if (Status st = check_calibration_inputs(g, setup.range_check); !st.ok()) return fail(st.message(), 2);

  // Fixed shapes for symbolic input dims (the graph is specialised to them at load).
  for (const auto& spec : args.all("--input-shape")) {
    auto parsed_shapes = parse_input_shapes(spec);
    if (!parsed_shapes.ok()) return fail(parsed_shapes.status().message(), 2);
    setup.input_shapes.insert(parsed_shapes->begin(), parsed_shapes->end());
  }
  Graph shaped = g;
  if (Status st = specialize_inputs(shaped, setup.input_shapes); !st.ok()) return fail(st.message(), 2);
  if (auto code = gather_inputs(args, g, shaped, setup.input_shapes, setup.inputs)) return *code;

  // Symbolic input dims: the graph is specialised to the inputs about to run (generated ones use 1).
  std::string specialised;
  for (const auto& [name, shape] : input_shapes_of(g, setup.inputs, setup.input_shapes)) {
    specialised += (specialised.empty() ? "" : "; ") + name + "=" + shape_to_string(shape);
    setup.input_shapes[name] = shape;
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
  setup.import_ms = ms_since(t_load);
  setup.registry = registry.get();

  CacheOptions cache_options;
  cache_options.enabled = !args.has("--no-cache");
  if (auto dir = args.get("--cache-dir")) cache_options.dir = *dir;
  const PlanCache cache(cache_options);
  setup.cache = &cache;
  TraceRecorder trace;
  setup.trace = &trace;
  setup.trace_operators = args.has("--trace");
  if (registry) {  // which plugins this run started (a --device cpu:0 run starts no OpenCL driver)
    std::string plugins;
    for (const auto& p : registry->plugins()) plugins += (plugins.empty() ? "" : ", ") + p->manifest().name;
    trace.span("load", "discovery", "load", t_discovery, t_discovered, {{"plugins", plugins}});
  }

  // One run per target: "reference" runs the reference interpreter; anything else runs the model
  // partitioned under a policy (the command line's, or one device in --device all).
  std::vector<std::pair<std::string, Policy>> targets;
  if (all_mode) {
    if (json_out) return fail("--json takes one target; use --device ID or --units", 2);
    if (args.has("--output-dir")) return fail("--output-dir takes one target; use --device ID or --units", 2);
    targets = every_device(*registry);
  } else if (reference_only) {
    targets.emplace_back("reference", Policy{});
  } else {
    if (registry->devices().empty() && policy.devices.empty())
      return fail("no devices found (see `switchyard devices`); use --device reference to run the reference");
    targets.emplace_back("policy", policy);
  }
  int failures = 0;
  for (size_t k = 0; k < targets.size(); ++k) {
    const auto& [target, target_policy] = targets[k];
    auto rr = target == "reference" ? run_on_reference(setup) : run_partitioned(setup, target, target_policy);
    if (!rr.ok()) {
      if (targets.size() == 1) return fail(rr.status().to_string(), rr.status().code() == StatusCode::not_found ? 2 : 1);
      std::printf("device:  %s\n  error: %s\n\n", target.c_str(), rr.status().to_string().c_str());
      ++failures;
      continue;
    }
    if (auto dir = args.get("--output-dir"))
      if (auto code = save_outputs(*dir, g, rr->outputs)) return *code;
    if (json_out) {
      print_json(setup.model_path, g, *rr, specialised);
      continue;
    }
    print_table(setup.model_path, g, *rr, specialised);
    if (k + 1 < targets.size()) std::printf("\n");
  }
  if (auto file = args.get("--trace")) {
    Status st = trace.write(*file);
    if (!st.ok()) return fail(st.message());
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace switchyard::cli
