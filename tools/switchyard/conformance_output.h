// What `switchyard conformance` prints while and after it runs: a live progress line on a
// terminal (plain lines otherwise), each failure as it happens, and the closing summary.
#pragma once

#include <string>
#include <vector>

#include "switchyard/conformance/report.h"
#include "switchyard/conformance/runner.h"

namespace switchyard::cli {

class ConformanceProgress {
 public:
  explicit ConformanceProgress(bool verbose);
  void operator()(const conformance::CaseResult& r, const conformance::Progress& p);
  void finish();  // ends a live line

 private:
  void live_line(const conformance::Progress& p);
  bool tty_, verbose_;
  bool line_open_ = false;
  double last_plain_s_ = 0;
  size_t last_plain_done_ = 0;
};

// "1234 s" -> "20m34s".
std::string duration_text(double seconds);
// The summary after the run: skips by suite, operator and reason (full text), expected failures
// that passed, and failures grouped by reason.
void print_summary(const conformance::Report& report);
// The last line of every conformance command: "N passed, N failed, N skipped".
void print_counts(const conformance::Counts& counts);

}  // namespace switchyard::cli
