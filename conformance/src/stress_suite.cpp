// The `stress` suite: thousands of asynchronous predictions through the runtime's Predictor on a
// small model the device claims (models_stress.h), with random cancellation, deadlines, every
// overflow policy's in-flight bound, several executables at once, and the resident set over
// repeated rounds. Every prediction must complete exactly once, with an outcome it may have, and
// every successful one must match the reference; each case states the counts it saw.
#include <cmath>
#include <random>
#include <sstream>
#include <thread>

#include "models_stress.h"
#include "switchyard/conformance/suites.h"

namespace switchyard::conformance {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::seconds(90);  // for the last prediction of a round to complete

std::string mib(int64_t bytes) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

std::string ms(double milliseconds) {
  std::ostringstream s;
  s.precision(3);
  s << milliseconds << " ms";
  return s.str();
}

std::string workload_text(const StressWorkload& w) { return w.name + " [" + w.placement + "]"; }

CaseResult verdict(const std::string& problems, const std::string& reason, const std::string& summary) {
  CaseResult r;
  r.outcome = problems.empty() ? Outcome::passed : Outcome::failed;
  r.reason = problems.empty() ? "" : reason;
  r.detail = problems.empty() ? summary : problems + " || " + summary;
  return r;
}

void add_problem(std::string& problems, const std::string& problem) {
  if (!problem.empty()) problems += (problems.empty() ? "" : "; ") + problem;
}

// The Predictor's own counts against what the callbacks saw: they must tell the same story.
std::string stats_disagreement(const PredictorStats& s, const StressLedger& l, size_t n) {
  std::ostringstream out;
  if (s.submitted != n) out << "the predictor counted " << s.submitted << " submissions of " << n << "; ";
  if (s.completed != l.correct()) out << "the predictor counted " << s.completed << " completed, the callbacks " << l.correct() << " correct; ";
  if (s.cancelled != l.cancelled()) out << "the predictor counted " << s.cancelled << " cancelled, the callbacks " << l.cancelled() << "; ";
  if (s.rejected != l.rejected()) out << "the predictor counted " << s.rejected << " rejected, the callbacks " << l.rejected() << "; ";
  if (s.failed != l.deadline_exceeded())
    out << "the predictor counted " << s.failed << " failed, the callbacks " << l.deadline_exceeded() << " deadline_exceeded; ";
  std::string text = out.str();
  return text.empty() ? text : "predictor stats disagree: " + text.substr(0, text.size() - 2);
}

// Waits for the round, then everything a round's verdict needs: lost predictions, bad outcomes,
// and the Predictor's stats against the callbacks'. Call before the Predictor is destroyed.
std::string round_problems(StressLedger& ledger, const Predictor& predictor, size_t n) {
  ledger.wait_all(kWait);
  std::string problems = ledger.problems();
  if (problems.empty()) add_problem(problems, stats_disagreement(predictor.stats(), ledger, n));
  return problems;
}

// The short failure key: the ledger's first kind of problem, else the case's own.
std::string reason_of(const std::string& problems, const std::string& fallback) {
  for (const char* kind : {"never completed", "completed more than once", "wrong result", "unexpected", "succeeded though", "predictor stats"})
    if (problems.find(kind) != std::string::npos) return kind;
  return fallback;
}

// Cancels the tokens whose turn (the submission index they wait for) has come.
void cancel_due(std::vector<std::pair<size_t, CancellationToken>>& later, size_t now) {
  for (auto& [when, token] : later)
    if (when <= now) token.cancel();
  std::erase_if(later, [&](const auto& entry) { return entry.first <= now; });
}

// One round of `n` predictions: a quarter cancelled before submission, a quarter cancelled while in
// flight (up to 16 submissions later), an eighth already past their deadline (when `deadlines`),
// the rest left alone.
void submit_mixed_round(Predictor& predictor, StressLedger& ledger, const StressWorkload& w, size_t n, std::mt19937_64& rng, bool deadlines) {
  std::vector<std::pair<size_t, CancellationToken>> later;
  const size_t sets = w.inputs.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned kind = static_cast<unsigned>(rng() % 8);
    CancellationToken token;
    PredictOptions options;
    options.cancel = token;
    unsigned allowed = may_succeed;
    if (kind < 2) {
      token.cancel();
      allowed = may_cancel;
      ledger.tag(i, "cancelled before submission");
    } else if (kind < 4) {
      later.push_back({i + rng() % 16, token});
      allowed = may_succeed | may_cancel;
      ledger.tag(i, "cancelled in flight");
    } else if (kind == 4 && deadlines) {
      options.deadline = Clock::now() - std::chrono::milliseconds(1);
      allowed = may_miss_deadline;
      ledger.tag(i, "past its deadline");
    } else {
      ledger.tag(i, "left alone");
    }
    predictor.predict_async(w.inputs[i % sets], options, ledger.callback(i, w, i % sets, allowed));
    cancel_due(later, i);
  }
  cancel_due(later, SIZE_MAX);
}

}  // namespace

CaseResult stress_random_cancel(const StressWorkload& w, int predictions, uint64_t seed) {
  const size_t n = static_cast<size_t>(predictions);
  StressLedger ledger(n);
  std::mt19937_64 rng(seed);
  std::string problems;
  PredictorStats stats;
  {
    Predictor predictor(w.model, {.max_in_flight = 8, .overflow = OverflowPolicy::block, .threads = 4});
    submit_mixed_round(predictor, ledger, w, n, rng, /*deadlines=*/false);
    problems = round_problems(ledger, predictor, n);
    stats = predictor.stats();
  }
  return verdict(problems, reason_of(problems, "stress"),
                 std::to_string(n) + " predictions of " + workload_text(w) + ", 8 in flight on 4 threads: " + ledger.outcomes_by_tag() +
                     "; peak " + std::to_string(stats.peak_in_flight) + " running");
}

namespace {

// The median time of one synchronous prediction, to size the tight deadlines.
double median_latency_ms(const Predictor& predictor, const StressWorkload& w) {
  std::vector<double> times;
  for (size_t i = 0; i < 16; ++i) {
    const auto t = Clock::now();
    (void)predictor.predict(w.inputs[i % w.inputs.size()]);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

CaseResult stress_deadlines(const StressWorkload& w, int predictions, uint64_t seed) {
  const size_t n = static_cast<size_t>(predictions), sets = w.inputs.size();
  StressLedger ledger(n);
  std::mt19937_64 rng(seed + 1);
  std::string problems;
  double median = 0;
  {
    Predictor predictor(w.model, {.max_in_flight = 8, .overflow = OverflowPolicy::block, .threads = 4});
    median = median_latency_ms(predictor, w);
    // Up to the time of the 8 predictions that may be in flight ahead of this one: some finish
    // in time, some are stopped before they start, some while they run.
    std::uniform_real_distribution<double> tight(0, 8 * median);
    for (size_t i = 0; i < n; ++i) {
      PredictOptions options;
      unsigned allowed = may_succeed;
      switch (rng() % 3) {
        case 0:
          options.deadline = Clock::now() - std::chrono::milliseconds(1);
          allowed = may_miss_deadline;
          ledger.tag(i, "past deadline");
          break;
        case 1:
          options.timeout = std::chrono::seconds(60);
          ledger.tag(i, "60 s timeout");
          break;
        default:
          options.timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(tight(rng)));
          allowed = may_succeed | may_miss_deadline;
          ledger.tag(i, "tight timeout");
      }
      predictor.predict_async(w.inputs[i % sets], options, ledger.callback(i, w, i % sets, allowed));
    }
    problems = round_problems(ledger, predictor, n);
  }
  return verdict(problems, reason_of(problems, "stress"),
                 std::to_string(n) + " predictions of " + workload_text(w) + " (median " + ms(median) +
                     " each; tight timeouts uniform in 0 .. " + ms(8 * median) + "): " + ledger.outcomes_by_tag());
}

namespace {

struct InFlightLimit {
  const char* policy;
  OverflowPolicy overflow;
  size_t max_in_flight, queue_capacity;
  unsigned allowed;
  size_t pending_bound() const { return max_in_flight + (overflow == OverflowPolicy::queue ? queue_capacity : 0); }
};

// `n` predictions from two threads at once under one overflow policy; the bound is checked on
// the Predictor's own peaks and on the segment spans the runtime recorded.
std::string run_limit(const StressWorkload& w, const InFlightLimit& limit, size_t n, std::string& problems) {
  StressLedger ledger(n);
  std::vector<std::vector<PredictEvent>> events(n);
  PredictorStats stats;
  std::string round;
  {
    Predictor predictor(w.model, {.max_in_flight = limit.max_in_flight, .overflow = limit.overflow,
                                  .queue_capacity = limit.queue_capacity, .threads = limit.max_in_flight});
    auto submit_every_other = [&](size_t first) {
      for (size_t i = first; i < n; i += 2) {
        PredictOptions options;
        options.events = &events[i];
        predictor.predict_async(w.inputs[i % w.inputs.size()], options, ledger.callback(i, w, i % w.inputs.size(), limit.allowed));
      }
    };
    std::thread other(submit_every_other, 1);
    submit_every_other(0);
    other.join();
    round = round_problems(ledger, predictor, n);
    stats = predictor.stats();
  }
  const size_t peak = peak_overlap(events);
  const std::string name = std::string(limit.policy) + " (max_in_flight " + std::to_string(limit.max_in_flight) +
                           (limit.overflow == OverflowPolicy::queue ? ", queue " + std::to_string(limit.queue_capacity) : "") + ")";
  if (!round.empty()) add_problem(problems, name + ": " + round);
  if (peak > limit.max_in_flight)
    add_problem(problems, "in-flight bound: " + name + ": " + std::to_string(peak) + " predictions ran at once (segment spans)");
  if (stats.peak_in_flight > limit.max_in_flight)
    add_problem(problems, "in-flight bound: " + name + ": the predictor ran " + std::to_string(stats.peak_in_flight) + " at once");
  if (stats.peak_pending > limit.pending_bound())
    add_problem(problems, "in-flight bound: " + name + ": the predictor held " + std::to_string(stats.peak_pending) + " predictions, above " +
                              std::to_string(limit.pending_bound()));
  return name + ": " + ledger.outcomes_by_tag() + ", peak " + std::to_string(peak) + " running (segment spans), " +
         std::to_string(stats.peak_pending) + " held";
}

}  // namespace

CaseResult stress_in_flight_limit(const StressWorkload& w, int predictions, uint64_t seed) {
  (void)seed;  // the interleaving of the two submitting threads is the randomness here
  const InFlightLimit limits[] = {
      {"block", OverflowPolicy::block, 3, 0, may_succeed},
      {"reject", OverflowPolicy::reject, 2, 0, may_succeed | may_be_rejected},
      {"queue", OverflowPolicy::queue, 2, 4, may_succeed | may_be_rejected},
      {"drop_oldest", OverflowPolicy::drop_oldest, 2, 0, may_succeed | may_cancel | may_be_rejected},
  };
  const size_t each = std::max<size_t>(1, static_cast<size_t>(predictions) / 4);
  std::string problems, summary;
  for (const auto& limit : limits) summary += (summary.empty() ? "" : "; ") + run_limit(w, limit, each, problems);
  return verdict(problems, reason_of(problems, "in-flight bound"),
                 std::to_string(each) + " predictions per policy of " + workload_text(w) + ", from 2 threads: " + summary);
}

CaseResult stress_several_executables(const std::vector<StressWorkload>& workloads, int predictions, uint64_t seed) {
  const size_t n = static_cast<size_t>(predictions), k = workloads.size();
  StressLedger ledger(n);
  std::string problems, names;
  for (const auto& w : workloads) names += (names.empty() ? "" : ", ") + workload_text(w);
  {
    std::vector<std::unique_ptr<Predictor>> predictors;
    for (const auto& w : workloads) predictors.push_back(std::make_unique<Predictor>(w.model, PredictorOptions{.max_in_flight = 4, .threads = 2}));
    // Three threads, each sending its share round-robin over the executables.
    auto submit_share = [&](size_t first) {
      std::mt19937_64 rng(seed + first);
      for (size_t i = first; i < n; i += 3) {
        const StressWorkload& w = workloads[i % k];
        const size_t set = rng() % w.inputs.size();
        ledger.tag(i, w.name);
        predictors[i % k]->predict_async(w.inputs[set], {}, ledger.callback(i, w, set, may_succeed));
      }
    };
    std::thread second(submit_share, 1), third(submit_share, 2);
    submit_share(0);
    second.join(), third.join();
    ledger.wait_all(kWait);
    problems = ledger.problems();
  }
  return verdict(problems, reason_of(problems, "stress"),
                 std::to_string(n) + " predictions from 3 threads over " + std::to_string(k) + " executables at once (" + names +
                     "): " + ledger.outcomes_by_tag());
}

namespace {

// A leak of this much per prediction would exceed the margin: what the case can detect.
constexpr int64_t kLeakPerPrediction = 512;
constexpr int64_t kNoise = 1 << 20;  // what the allocator and the plugins' caches may move by

}  // namespace

CaseResult stress_rss_stable(const StressWorkload& w, int predictions, uint64_t seed) {
  const size_t n = static_cast<size_t>(predictions);
  std::mt19937_64 rng(seed + 2);
  std::vector<MemoryUse> after;  // warm-up, round 1, round 2
  std::string problems;
  {
    Predictor predictor(w.model, {.max_in_flight = 8, .overflow = OverflowPolicy::block, .threads = 4});
    for (int round = 0; round < 3 && problems.empty(); ++round) {
      StressLedger ledger(n);
      submit_mixed_round(predictor, ledger, w, n, rng, /*deadlines=*/true);
      ledger.wait_all(kWait);
      if (std::string p = ledger.problems(); !p.empty()) add_problem(problems, "round " + std::to_string(round) + ": " + p);
      after.push_back(memory_use());
    }
  }
  if (after.size() < 3) return verdict(problems, reason_of(problems, "stress"), std::to_string(n) + " predictions per round of " + workload_text(w));
  const int64_t margin = kNoise + kLeakPerPrediction * static_cast<int64_t>(n);
  const int64_t rss_growth = after[2].rss - after[1].rss, heap_growth = after[2].heap - after[1].heap;
  if (rss_growth > margin) add_problem(problems, "resident set grew by " + mib(rss_growth) + " over round 2, above the margin of " + mib(margin));
  if (heap_growth > margin) add_problem(problems, "heap in use grew by " + mib(heap_growth) + " over round 2, above the margin of " + mib(margin));
  std::string summary = "3 rounds of " + std::to_string(n) + " predictions of " + workload_text(w) +
                        " (a quarter cancelled before submission, a quarter in flight, an eighth past their deadline); resident set " +
                        mib(after[0].rss) + " after the warm-up round, " + mib(after[1].rss) + " after round 1, " + mib(after[2].rss) +
                        " after round 2; heap in use " + mib(after[0].heap) + ", " + mib(after[1].heap) + ", " + mib(after[2].heap) +
                        "; margin for round 2 over round 1: " + mib(margin) + " (1 MiB + 512 B per prediction)";
  return verdict(problems, problems.find("grew") != std::string::npos ? "memory grew" : reason_of(problems, "stress"), summary);
}

namespace {

// A case that first loads its workloads on the target: a device that claims none of the stress
// models is skipped with its refusals; a target without a device (the reference) too.
CaseSpec stress_case(const std::string& name, const SuiteConfig& config, size_t executables,
                     std::function<CaseResult(const std::vector<StressWorkload>&, int, uint64_t)> body) {
  return {"stress", name, "", [config, executables, body](const Target& target) {
            auto workloads = stress_workloads(target, config.rtol, config.atol, config.seed, executables);
            if (!workloads.ok()) {
              CaseResult r;
              const StatusCode code = workloads.status().code();
              r.outcome = code == StatusCode::unsupported || code == StatusCode::unavailable ? Outcome::skipped : Outcome::failed;
              r.reason = code == StatusCode::unsupported ? "the device claims none of the stress models"
                         : code == StatusCode::unavailable ? workloads.status().message()
                                                           : "load failed";
              r.detail = workloads.status().to_string();
              return r;
            }
            return body(*workloads, config.stress_predictions, config.seed);
          }};
}

}  // namespace

Result<std::vector<CaseSpec>> stress_cases(const SuiteConfig& config) {
  if (config.stress_predictions <= 0)
    return Status(StatusCode::invalid_argument, "stress predictions must be positive, got " + std::to_string(config.stress_predictions));
  auto one = [](CaseResult (*fn)(const StressWorkload&, int, uint64_t)) {
    return [fn](const std::vector<StressWorkload>& ws, int n, uint64_t seed) { return fn(ws.front(), n, seed); };
  };
  return std::vector<CaseSpec>{
      stress_case("async_" + std::to_string(config.stress_predictions) + "_random_cancel", config, 1, one(&stress_random_cancel)),
      stress_case("deadlines", config, 1, one(&stress_deadlines)),
      stress_case("in_flight_limit", config, 1, one(&stress_in_flight_limit)),
      stress_case("several_executables", config, 3, &stress_several_executables),
      stress_case("rss_stable", config, 1, one(&stress_rss_stable)),
  };
}

}  // namespace switchyard::conformance
