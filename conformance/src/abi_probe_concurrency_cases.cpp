// The api suite's cases about time: a cancel flag raised while the work runs, and several threads
// executing one executable at once (R5), each result checked.
#include <chrono>
#include <thread>

#include "abi_probe.h"

namespace switchyard::conformance::abi {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Work long enough to cancel in the middle: a chain of MatMuls by an identity, doubled in size
// until one run takes kLongRunMs (or the size reaches kLargestN).
constexpr int kChainLength = 8;
constexpr int64_t kFirstN = 128, kLargestN = 1024;
constexpr double kLongRunMs = 50, kShortestCancellableMs = 5;

struct LongRun {
  ProbeModel probe;
  Executable exe;
  ProbeData data;
  double ms = 0;  // one uncancelled run
};

// The long run, or why there is none: Status(unsupported) with the device's answer.
Result<LongRun> long_run(const AbiDevice& d) {
  LongRun run;
  for (int64_t n = kFirstN;; n *= 2) {
    SY_ASSIGN_OR_RETURN(run.probe, build_matmul_chain(n, kChainLength));
    SY_ASSIGN_OR_RETURN(std::string why, unclaimed_reason(d, run.probe));
    if (!why.empty()) return Status(StatusCode::unsupported, "the device claims no MatMul chain to cancel (" + why + ")");
    SY_ASSIGN_OR_RETURN(run.exe, compile(d, run.probe));
    SY_ASSIGN_OR_RETURN(run.data, probe_data(run.probe, 1));
    const auto start = Clock::now();
    ExecuteOutcome outcome = execute(d, run.exe.get(), run.data.inputs, run.data.expected);
    run.ms = ms_since(start);
    if (std::string p = exact_mismatch(outcome, run.data.expected); !p.empty())
      return Status(StatusCode::internal, "an uncancelled run of a " + std::to_string(n) + "x" + std::to_string(n) + " MatMul chain: " + p);
    if (run.ms >= kLongRunMs || n >= kLargestN) return run;
  }
}

// One run with the flag raised a quarter into it (as timed uncancelled).
struct CancelAttempt {
  ExecuteOutcome outcome;
  double raised_ms = 0, completed_ms = 0;  // from the execute call
};

CancelAttempt cancel_once(const AbiDevice& d, const LongRun& run) {
  volatile int32_t flag = 0;
  CancelAttempt attempt;
  const auto start = Clock::now();
  std::thread raiser([&] {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(run.ms / 4)));
    flag = 1;
    attempt.raised_ms = ms_since(start);
  });
  ExecuteOptions options;
  options.cancel_flag = &flag;
  options.grace = kSecondCompletionGrace;
  attempt.outcome = execute(d, run.exe.get(), run.data.inputs, run.data.expected, options);
  raiser.join();
  attempt.completed_ms = std::chrono::duration<double, std::milli>(attempt.outcome.completed_at - start).count();
  return attempt;
}

// Tries this many times when the flag came too late to judge (a loaded machine).
constexpr int kCancelAttempts = 3;

// The flag raised a quarter into the run: the plugin polls it between (or inside) its steps and
// stops with SY_ERROR_CANCELLED, completing exactly once. Running on to success for a quarter of
// a run after the flag (two of the eight steps) is "cancellation ignored": the host raises the
// same flag at a prediction's deadline.
CaseResult cancel_during(const AbiDevice& d) {
  auto run = long_run(d);
  if (!run.ok())
    return run.status().code() == StatusCode::unsupported ? skipped(run.status().message()) : failed("setup", describe(run.status()));
  if (run->ms < kShortestCancellableMs)
    return skipped("the longest MatMul chain runs in " + std::to_string(run->ms) + " ms: too fast to cancel during the work");
  for (int i = 0; i < kCancelAttempts; ++i) {
    const CancelAttempt a = cancel_once(d, *run);
    const ExecuteOutcome& o = a.outcome;
    const std::string when = "the flag was raised " + std::to_string(a.raised_ms) + " ms into a run that takes " + std::to_string(run->ms) + " ms";
    if (o.returned.ok() && o.completions == 1 && o.completed.code() == StatusCode::cancelled)
      return refusal_problem(o.completed).empty() ? passed("stopped at " + std::to_string(a.completed_ms) + " ms; " + when)
                                                  : failed("cancel", "SY_ERROR_CANCELLED " + refusal_problem(o.completed));
    if (std::string p = exact_mismatch(o, run->data.expected); !p.empty()) return failed("cancel", when + ": " + p);
    if (a.completed_ms - a.raised_ms >= run->ms / 4)
      return failed("cancellation ignored", when + "; it ran on to the end (" + std::to_string(a.completed_ms) + " ms) and succeeded");
  }
  return skipped("the flag came too late to judge in " + std::to_string(kCancelAttempts) + " runs (a loaded machine?)");
}

// Four threads, each executing the one executable with its own inputs, every result checked.
CaseResult concurrent_executes(const AbiDevice& d, const ProbeModel& probe) {
  constexpr int kThreads = 4, kRounds = 16;
  auto exe = compile(d, probe);
  if (!exe.ok()) return failed("compile", "the device claims the model, but " + describe(exe.status()));
  std::vector<ProbeData> data;
  for (int i = 0; i < kThreads * kRounds; ++i) {
    auto one = probe_data(probe, static_cast<uint64_t>(i + 1));
    if (!one.ok()) return failed("reference", describe(one.status()));
    data.push_back(std::move(one).value());
  }
  const std::string first_problem = first_problem_on_threads(kThreads, kRounds, "execute", [&](int t, int round) {
    const ProbeData& mine = data[static_cast<size_t>(t * kRounds + round)];
    return exact_mismatch(execute(d, exe->get(), mine.inputs, mine.expected), mine.expected);
  });
  if (!first_problem.empty()) return failed("concurrency", first_problem);
  return passed(std::to_string(kThreads) + " threads x " + std::to_string(kRounds) + " executes on one executable");
}

}  // namespace

std::vector<CaseSpec> api_concurrency_cases() {
  CaseSpec cancel = device_case("api", "execute_cancel_during", cancel_during);
  cancel.op = "MatMul";
  return {cancel, probe_case("api", "execute_concurrent_4_threads", all_probes(), concurrent_executes)};
}

}  // namespace switchyard::conformance::abi
