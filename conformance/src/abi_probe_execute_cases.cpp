// The api suite's execute cases: outputs the plugin allocates or the host gives (shapes past
// dims_capacity included), completion exactly once (on success, on failure, never for a refused
// call), argument structs of other sizes (R2), per-node profiling, and cancellation before the
// work starts (cancellation during it and concurrency: abi_probe_concurrency_cases.cpp).
#include <thread>

#include "abi_probe.h"
#include "switchyard/hal/device.h"

namespace switchyard::conformance::abi {

namespace {

// A compiled probe and data for it.
struct Compiled {
  Executable exe;
  ProbeData data;
};

Result<Compiled> compile_with_data(const AbiDevice& d, const ProbeModel& probe, uint64_t seed = 1) {
  Compiled c;
  SY_ASSIGN_OR_RETURN(c.exe, compile(d, probe));
  SY_ASSIGN_OR_RETURN(c.data, probe_data(probe, seed));
  return c;
}

CaseResult setup_failed(const Status& st) { return failed("compile", "the device claims the model, but " + describe(st)); }

// Executes the probe with `options`; passes when the outputs are exact.
CaseResult exact_run(const AbiDevice& d, const ProbeModel& probe, const ExecuteOptions& options, const std::string& what) {
  auto c = compile_with_data(d, probe);
  if (!c.ok()) return setup_failed(c.status());
  ExecuteOutcome outcome = execute(d, c->exe.get(), c->data.inputs, c->data.expected, options);
  if (std::string p = exact_mismatch(outcome, c->data.expected); !p.empty()) return failed(what, p);
  return passed();
}

CaseResult plugin_allocated_outputs(const AbiDevice& d, const ProbeModel& probe) {
  return exact_run(d, probe, {}, "plugin-allocated outputs");
}

CaseResult host_allocated_outputs(const AbiDevice& d, const ProbeModel& probe) {
  ExecuteOptions options;
  options.host_outputs = true;
  return exact_run(d, probe, options, "host-allocated outputs");
}

// No room for any dim: the plugin stores each shape in memory from sy_host_api.allocate.
CaseResult dims_past_capacity(const AbiDevice& d, const ProbeModel& probe) {
  ExecuteOptions options;
  options.dims_capacity = 0;
  return exact_run(d, probe, options, "dims past capacity");
}

// A newer host: every struct it allocates is 64 bytes longer than this header's, zero-filled.
CaseResult newer_host_structs(const AbiDevice& d, const ProbeModel& probe) {
  ExecuteOptions options;
  options.newer_host_bytes = 64;
  return exact_run(d, probe, options, "struct_size");
}

// A host's profiler that checks each event: node in range, times in order and inside the call.
struct EventChecker {
  size_t nodes = 0;
  uint64_t after_ns = 0;  // the host clock before execute
  std::atomic<int> events{0};
  std::mutex mu;
  std::string problem;
  sy_profiler profiler{sizeof(sy_profiler), this, &EventChecker::node_event};

  static void node_event(void* context, size_t node, const char*, uint64_t start_ns, uint64_t end_ns) {
    auto* self = static_cast<EventChecker*>(context);
    ++self->events;
    const uint64_t now = host_api()->now_ns();
    std::string p;
    if (node >= self->nodes) p = "an event for node " + std::to_string(node) + " of " + std::to_string(self->nodes);
    else if (start_ns > end_ns) p = "node " + std::to_string(node) + " ends before it starts";
    else if (start_ns < self->after_ns || end_ns > now) p = "node " + std::to_string(node) + "'s times lie outside the execution (not sy_host_api.now_ns?)";
    std::lock_guard<std::mutex> lock(self->mu);
    if (self->problem.empty()) self->problem = p;
  }
};

// Fields past args->struct_size (cancel_flag, max_memory_bytes, profiler) read as zero (R2): a
// raised flag and a profiler there are ignored.
CaseResult shorter_args_struct(const AbiDevice& d, const ProbeModel& probe) {
  static const volatile int32_t raised = 1;
  EventChecker checker;
  checker.nodes = probe.view->get()->num_nodes;
  ExecuteOptions options;
  options.args_struct_size = offsetof(sy_execute_args, cancel_flag);
  options.cancel_flag = &raised;
  options.profiler = &checker.profiler;
  CaseResult r = exact_run(d, probe, options, "struct_size");
  if (r.outcome == Outcome::failed) r.detail += " (sy_execute_args.struct_size ends before cancel_flag, which is raised)";
  if (r.outcome == Outcome::passed && checker.events > 0) return failed("struct_size", "profiler events through a profiler past sy_execute_args.struct_size");
  return r;
}

CaseResult profiler_events(const AbiDevice& d, const ProbeModel& probe) {
  EventChecker checker;
  checker.nodes = probe.view->get()->num_nodes;
  checker.after_ns = host_api()->now_ns();
  ExecuteOptions options;
  options.profiler = &checker.profiler;
  CaseResult r = exact_run(d, probe, options, "profiler");
  if (r.outcome != Outcome::passed) return r;
  std::lock_guard<std::mutex> lock(checker.mu);
  if (!checker.problem.empty()) return failed("profiler", checker.problem);
  return passed(checker.events ? std::to_string(checker.events.load()) + " node event(s)" : "no node events (the plugin does not time nodes: allowed)");
}

// ---- Completions ----

CaseResult completion_once(const AbiDevice& d, const ProbeModel& probe) {
  auto c = compile_with_data(d, probe);
  if (!c.ok()) return setup_failed(c.status());
  const int late_before = Completion::late_calls();
  ExecuteOptions options;
  options.grace = kSecondCompletionGrace;
  ExecuteOutcome outcome = execute(d, c->exe.get(), c->data.inputs, c->data.expected, options);
  if (outcome.completions > 1) return failed("completion called twice", "on_complete called " + std::to_string(outcome.completions) + " times for one execute");
  if (Completion::late_calls() > late_before) return failed("completion called twice", "on_complete called again after the execution was over");
  if (std::string p = exact_mismatch(outcome, c->data.expected); !p.empty()) return failed("execute", p);
  return passed();
}

// Inputs whose shapes do not fit the graph (every probe but Relu): the first input's last
// dimension grows by two. Empty when the probe takes any shape.
std::vector<Value> misfit_inputs(const ProbeModel& probe, const std::vector<Value>& inputs) {
  if (probe.kind == ProbeKind::relu) return {};
  std::vector<Value> misfit = inputs;
  Shape shape = inputs[0].tensor.shape();
  shape.back() += 2;
  misfit[0] = Value::of(Tensor::allocate(ElementType::float32, shape));
  return misfit;
}

// A call the plugin cannot honour: refused at once (no completion), or accepted and completed
// exactly once with a failure and its message. Never a success.
std::string refused_once(const ExecuteOutcome& outcome) {
  if (outcome.timed_out) return "no completion within " + std::to_string(kCompletionTimeout.count()) + " s";
  if (!outcome.returned.ok()) {
    if (outcome.completions) return "execute refused the call (" + describe(outcome.returned) + ") yet called on_complete " + std::to_string(outcome.completions) + " time(s)";
    return refusal_problem(outcome.returned).empty() ? "" : "execute " + refusal_problem(outcome.returned);
  }
  if (outcome.completions != 1) return "on_complete called " + std::to_string(outcome.completions) + " times";
  if (outcome.completed.ok()) return "the execution succeeded";
  return refusal_problem(outcome.completed).empty() ? "" : "the completion " + refusal_problem(outcome.completed);
}

CaseResult completion_once_on_error(const AbiDevice& d, const ProbeModel& probe) {
  auto claimed = claimed_probes(d, all_probes());
  if (!claimed.ok()) return failed("query_support", describe(claimed.status()));
  for (const ProbeModel& p : *claimed) {
    if (p.kind == ProbeKind::relu) continue;
    auto c = compile_with_data(d, p);
    if (!c.ok()) return setup_failed(c.status());
    ExecuteOptions options;
    options.grace = kSecondCompletionGrace;
    const auto misfit = misfit_inputs(p, c->data.inputs);
    ExecuteOutcome outcome = execute(d, c->exe.get(), misfit, c->data.expected, options);
    CaseResult r = refused_once(outcome).empty() ? passed(describe(outcome.returned.ok() ? outcome.completed : outcome.returned))
                                                 : failed("misfit input", p.op + " with input 0 of shape " + shape_to_string(misfit[0].tensor.shape()) + ": " + refused_once(outcome));
    r.op = p.op;
    return r;
  }
  return skipped("the device claims no probe model with a shape a misfit input breaks (only " + probe.op + ")");
}

CaseResult wrong_input_count(const AbiDevice& d, const ProbeModel& probe) {
  auto c = compile_with_data(d, probe);
  if (!c.ok()) return setup_failed(c.status());
  std::vector<Value> fewer(c->data.inputs.begin(), c->data.inputs.end() - 1);
  ExecuteOptions options;
  options.grace = kSecondCompletionGrace;
  ExecuteOutcome outcome = execute(d, c->exe.get(), fewer, c->data.expected, options);
  if (std::string p = refused_once(outcome); !p.empty())
    return failed("input count", std::to_string(fewer.size()) + " inputs for a graph of " + std::to_string(c->data.inputs.size()) + ": " + p);
  return passed(describe(outcome.returned.ok() ? outcome.completed : outcome.returned));
}

CaseResult wrong_output_count(const AbiDevice& d, const ProbeModel& probe) {
  auto c = compile_with_data(d, probe);
  if (!c.ok()) return setup_failed(c.status());
  ExecuteOptions options;
  options.grace = kSecondCompletionGrace;
  ExecuteOutcome outcome = execute(d, c->exe.get(), c->data.inputs, {}, options);
  if (std::string p = refused_once(outcome); !p.empty()) return failed("output count", "0 outputs for a graph of 1: " + p);
  return passed(describe(outcome.returned.ok() ? outcome.completed : outcome.returned));
}

// ---- Cancellation ----

// A flag raised before execute: the plugin stops with SY_ERROR_CANCELLED (or, not polling before
// it starts, finishes with exact outputs), completing exactly once either way.
CaseResult cancel_before(const AbiDevice& d, const ProbeModel& probe) {
  auto c = compile_with_data(d, probe);
  if (!c.ok()) return setup_failed(c.status());
  static const volatile int32_t raised = 1;
  ExecuteOptions options;
  options.cancel_flag = &raised;
  options.grace = kSecondCompletionGrace;
  ExecuteOutcome outcome = execute(d, c->exe.get(), c->data.inputs, c->data.expected, options);
  if (outcome.returned.ok() && outcome.completions == 1 && outcome.completed.code() == StatusCode::cancelled) {
    if (std::string p = refusal_problem(outcome.completed); !p.empty()) return failed("cancel", "SY_ERROR_CANCELLED " + p);
    return passed(outcome.completed.message());
  }
  if (std::string p = exact_mismatch(outcome, c->data.expected); !p.empty())
    return failed("cancel", "with the flag raised before execute: " + p + " (expected SY_ERROR_CANCELLED, or exact outputs)");
  return passed("the plugin finished despite the raised flag (it polls only during the work)");
}

}  // namespace

std::vector<CaseSpec> api_execute_cases() {
  const auto& kinds = all_probes();
  return {
      probe_case("api", "execute_plugin_allocated_outputs", kinds, plugin_allocated_outputs),
      probe_case("api", "execute_host_allocated_outputs", kinds, host_allocated_outputs),
      probe_case("api", "execute_dims_past_capacity", kinds, dims_past_capacity),
      probe_case("api", "execute_args_newer_host", kinds, newer_host_structs),
      probe_case("api", "execute_args_shorter_struct", kinds, shorter_args_struct),
      probe_case("api", "execute_profiler_events", kinds, profiler_events),
      probe_case("api", "execute_completion_once", kinds, completion_once),
      probe_case("api", "execute_completion_once_on_error", kinds, completion_once_on_error),
      probe_case("api", "execute_wrong_input_count", kinds, wrong_input_count),
      probe_case("api", "execute_wrong_output_count", kinds, wrong_output_count),
      probe_case("api", "execute_cancel_before", kinds, cancel_before),
  };
}

}  // namespace switchyard::conformance::abi
