// The api suite's support cases: query_support answers every node in range and only while it
// runs, ignores a collector too short to hold its callback (R2), and compile agrees with it.
#include <atomic>
#include <mutex>
#include <thread>

#include "abi_probe.h"
#include "switchyard/hal/abi_calls.h"

namespace switchyard::conformance::abi {

namespace {

// A sy_support_report that notes every misuse: indices out of range, reasons that are not
// sy_support_reason values, calls after query_support returned.
struct Recorder {
  size_t nodes = 0;
  std::atomic<bool> returned{false};
  std::atomic<int> calls{0};
  std::mutex mu;
  std::string problem;

  void note(const std::string& p) {
    std::lock_guard<std::mutex> lock(mu);
    if (problem.empty()) problem = p;
  }
  static void node(void* context, size_t index, sy_support_reason reason, const char*, const char*) {
    auto* self = static_cast<Recorder*>(context);
    ++self->calls;
    if (self->returned) self->note("an answer for node " + std::to_string(index) + " came after query_support returned");
    if (index >= self->nodes) self->note("an answer for node " + std::to_string(index) + " of a graph of " + std::to_string(self->nodes));
    if (reason < SY_SUPPORTED || reason > SY_UNSUPPORTED_OTHER) self->note("reason " + std::to_string(reason) + " is not a sy_support_reason");
  }
};

// How long after query_support returns a late answer is waited for.
constexpr std::chrono::milliseconds kLateAnswerGrace{50};

// "" or how query_support misused the collector on `probe`.
std::string query_problem(const AbiDevice& d, const ProbeModel& probe, size_t report_size) {
  Recorder recorder;
  recorder.nodes = probe.view->get()->num_nodes;
  const sy_support_report report{report_size, &recorder, &Recorder::node};
  Status st = take_status(SY_CALL_PLUGIN(*d.api, query_support, d.device, probe.view->get(), &report));
  recorder.returned = true;
  std::this_thread::sleep_for(kLateAnswerGrace);
  if (report_size < sizeof(sy_support_report) && recorder.calls > 0)
    return "called sy_support_report.node, which lies past the report's struct_size " + std::to_string(report_size);
  if (!st.ok() && !refusal_problem(st).empty()) return "query_support " + refusal_problem(st);
  std::lock_guard<std::mutex> lock(recorder.mu);
  return recorder.problem;
}

Result<std::vector<ProbeModel>> every_probe() {
  std::vector<ProbeModel> probes;
  for (ProbeKind kind : all_probes()) {
    SY_ASSIGN_OR_RETURN(ProbeModel p, build_probe(kind));
    probes.push_back(std::move(p));
  }
  SY_ASSIGN_OR_RETURN(ProbeModel chain, build_matmul_chain(8, 3));  // three nodes: indices 0..2
  probes.push_back(std::move(chain));
  return probes;
}

CaseResult answers_in_range(const AbiDevice& d) {
  auto probes = every_probe();
  if (!probes.ok()) return failed("model", describe(probes.status()));
  for (const ProbeModel& probe : *probes)
    if (std::string p = query_problem(d, probe, sizeof(sy_support_report)); !p.empty()) return failed("query_support", probe.op + ": " + p);
  return passed();
}

// An older host's collector without `node` (R2: a field past struct_size reads as NULL): the
// plugin answers nothing, or refuses with a message; it never calls what lies past the struct.
CaseResult short_report_ignored(const AbiDevice& d) {
  auto probe = build_probe(ProbeKind::add);
  if (!probe.ok()) return failed("model", describe(probe.status()));
  if (std::string p = query_problem(d, *probe, offsetof(sy_support_report, node)); !p.empty()) return failed("struct_size", p);
  return passed();
}

// One probe: compile succeeds exactly when every node is claimed, and refuses otherwise with
// SY_ERROR_UNSUPPORTED and a message. "" or the disagreement; `summary` gets the probe's line.
std::string compile_problem(const AbiDevice& d, const ProbeModel& probe, std::string& summary) {
  auto why = unclaimed_reason(d, probe);
  if (!why.ok()) return describe(why.status());
  auto exe = compile(d, probe);
  const bool claimed = why->empty();
  summary += (summary.empty() ? "" : "; ") + probe.op + (claimed ? ": claimed, compiled" : ": refused (" + *why + ")");
  if (claimed && !exe.ok()) return probe.op + ": claimed by query_support, but " + describe(exe.status());
  if (!claimed && exe.ok()) return probe.op + ": compile accepted a graph query_support refuses (" + *why + ")";
  if (!claimed && exe.status().code() != StatusCode::unsupported)
    return probe.op + ": compile refused an unclaimed graph with " + describe(exe.status()) + ", not SY_ERROR_UNSUPPORTED";
  if (!claimed && !refusal_problem(exe.status()).empty()) return probe.op + ": compile " + refusal_problem(exe.status());
  return {};
}

CaseResult compile_agrees(const AbiDevice& d) {
  auto probes = every_probe();
  if (!probes.ok()) return failed("model", describe(probes.status()));
  std::string summary;
  for (const ProbeModel& probe : *probes)
    if (std::string p = compile_problem(d, probe, summary); !p.empty()) return failed("compile vs query_support", p);
  return passed(summary);
}

}  // namespace

std::vector<CaseSpec> api_support_cases() {
  return {
      device_case("api", "query_support_answers_in_range", answers_in_range),
      device_case("api", "query_support_short_report", short_report_ignored),
      device_case("api", "compile_agrees_with_query_support", compile_agrees),
  };
}

}  // namespace switchyard::conformance::abi
