// Progress and summary output of `switchyard conformance`.
#include "conformance_output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace switchyard::cli {

using conformance::CaseResult;
using conformance::Outcome;

std::string duration_text(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

ConformanceProgress::ConformanceProgress(bool verbose) : tty_(::isatty(STDOUT_FILENO) != 0), verbose_(verbose) {}

void ConformanceProgress::operator()(const CaseResult& r, const conformance::Progress& p) {
  const bool show = r.outcome == Outcome::failed || verbose_;
  if (show) {
    if (line_open_) std::printf("\r\033[K"), line_open_ = false;
    const char* tag = r.outcome == Outcome::failed ? "FAIL" : r.outcome == Outcome::passed ? "PASS" : "SKIP";
    std::printf("%s %s/%s%s%s%s%s\n", tag, r.suite.c_str(), r.name.c_str(), r.reason.empty() ? "" : ": ", r.reason.c_str(),
                r.detail.empty() ? "" : ": ", r.detail.c_str());
    if (!r.abi_call.empty()) std::printf("     in %s\n", r.abi_call.c_str());
  }
  if (tty_) {
    live_line(p);
  } else if (p.done == p.total || p.done - last_plain_done_ >= std::max<size_t>(1, p.total / 10) || p.elapsed_s - last_plain_s_ >= 60) {
    std::printf("[%zu/%zu] %d passed, %d failed, %d skipped, %s\n", p.done, p.total, p.passed, p.failed, p.skipped,
                duration_text(p.elapsed_s).c_str());
    last_plain_done_ = p.done, last_plain_s_ = p.elapsed_s;
  }
  std::fflush(stdout);
}

void ConformanceProgress::live_line(const conformance::Progress& p) {
  const double eta = p.done ? p.elapsed_s / static_cast<double>(p.done) * static_cast<double>(p.total - p.done) : 0;
  std::printf("\r\033[K[%zu/%zu] %d failed so far, %s elapsed, ETA %s", p.done, p.total, p.failed, duration_text(p.elapsed_s).c_str(),
              duration_text(eta).c_str());
  line_open_ = true;
}

void ConformanceProgress::finish() {
  if (line_open_) std::printf("\r\033[K"), line_open_ = false;
  std::fflush(stdout);
}

void print_summary(const conformance::Report& report) {
  std::map<std::pair<std::string, std::string>, int> skips;  // (suite/op, reason) -> count
  std::vector<const CaseResult*> unexpected_passes;
  for (const auto& c : report.cases) {
    if (c.outcome == Outcome::skipped) ++skips[{c.suite + (c.op.empty() ? "" : " " + c.op), c.reason}];
    if (c.outcome == Outcome::passed && !c.expected.empty()) unexpected_passes.push_back(&c);
  }
  if (!skips.empty()) {
    std::printf("\nskipped, by suite, operator and reason:\n");
    std::vector<std::pair<int, std::pair<std::string, std::string>>> sorted;
    for (const auto& [key, n] : skips) sorted.push_back({-n, key});
    std::sort(sorted.begin(), sorted.end());
    const size_t shown = std::min<size_t>(sorted.size(), 40);
    for (size_t i = 0; i < shown; ++i) std::printf("  %5d  %s: %s\n", -sorted[i].first, sorted[i].second.first.c_str(), sorted[i].second.second.c_str());
    if (shown < sorted.size()) std::printf("  ... and %zu more groups (every one in the report: --report DIR)\n", sorted.size() - shown);
  }
  if (!unexpected_passes.empty()) {
    std::printf("\nexpected to fail, but passed (remove them from the expected-failures list):\n");
    for (const auto* c : unexpected_passes) std::printf("  %s/%s (listed because: %s)\n", c->suite.c_str(), c->name.c_str(), c->expected.c_str());
  }
}

void print_counts(const conformance::Counts& counts) {
  std::printf("\n%d passed, %d failed, %d skipped\n", counts.passed, counts.failed, counts.skipped);
  std::fflush(stdout);
}

}  // namespace switchyard::cli
