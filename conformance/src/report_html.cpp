// index.html: one self-contained page (inline CSS, no scripts, nothing fetched) that a person reads
// to judge a device: the run, the totals, the operator x suite matrix, every failure in full,
// expected failures, every skip reason grouped by operator, and every case.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "report_text.h"
#include "switchyard/conformance/report.h"

namespace switchyard::conformance {

namespace {
using report_text::html_escape;

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
table.info th { width: 12em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.p { background: #d7f5d7; } td.f { background: #f8c9c9; } td.s { background: #fbeec1; }
.full { white-space: pre-wrap; overflow-wrap: anywhere; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.5em; white-space: pre-wrap; overflow-wrap: anywhere; }
div.failure { border-left: 4px solid #c33; padding-left: 0.8em; margin: 1em 0; }
.totals span { margin-right: 1.5em; font-weight: bold; }
summary { cursor: pointer; }
)";

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", std::isfinite(s) ? s : 0.0);
  return buf;
}

// Text in a <pre>: a parser drops one newline right after <pre>, so one is always written there.
std::string pre(const std::string& text) { return "<pre>\n" + html_escape(text) + "</pre>\n"; }

std::string row(const std::string& heading, const std::string& escaped_value) {
  return "<tr><th>" + html_escape(heading) + "</th><td class=\"full\">" + escaped_value + "</td></tr>\n";
}

std::string header_section(const ReportInfo& i) {
  std::string out = "<h1>Switchyard conformance: " + html_escape(i.device_id) + "</h1>\n<table class=\"info\">\n";
  const std::string name = i.device_name.empty() ? "" : " — " + i.device_name;
  out += row("device", html_escape(i.device_id + name + (i.device_kind.empty() ? "" : " (" + i.device_kind + ")")));
  out += row("plugin", html_escape(i.plugin + " " + i.plugin_version));
  out += row("plugin ABI", html_escape(i.abi_version));
  out += row("compute type", html_escape(i.compute_type));
  out += row("command line", "<code>" + html_escape(i.command_line) + "</code>");
  out += row("started", html_escape(i.started));
  out += row("host", html_escape(i.host));
  out += row("duration", html_escape(seconds_text(i.seconds)));
  out += row("shard", html_escape(i.shard.empty() ? "whole run" : i.shard));
  return out + "</table>\n";
}

std::string totals_section(const Report& r) {
  const Counts c = r.counts();
  return "<h2>Totals</h2>\n<p class=\"totals\"><span>" + std::to_string(r.cases.size()) + " cases</span><span>" +
         std::to_string(c.passed) + " passed</span><span>" + std::to_string(c.failed) + " failed</span><span>" +
         std::to_string(c.skipped) + " skipped</span><span>" + std::to_string(c.expected_failures) +
         " expected failures (counted as skipped)</span><span>" + std::to_string(c.unexpected_passes) +
         " unexpected passes (counted as passed)</span></p>\n";
}

// One matrix cell: "passed/failed/skipped", coloured by the worst outcome in it.
std::string matrix_cell(const Counts& c) {
  if (c.passed + c.failed + c.skipped == 0) return "<td class=\"n\">–</td>";
  const char* worst = c.failed ? "f" : c.skipped ? "s" : "p";
  return "<td class=\"n " + std::string(worst) + "\">" + std::to_string(c.passed) + "/" + std::to_string(c.failed) + "/" +
         std::to_string(c.skipped) + "</td>";
}

std::string matrix_section(const Report& r) {
  const auto suites = report_text::report_suites(r);
  struct Row {
    std::map<std::string, Counts> by_suite;
    Counts all;
  };
  std::map<std::string, Row> rows;  // by operator
  for (const auto& c : r.cases) {
    Row& row = rows[report_text::op_label(c)];
    report_text::tally(row.by_suite[c.suite], c);
    report_text::tally(row.all, c);
  }
  std::string out = "<h2>Operators × suites</h2>\n<p>Each cell: passed/failed/skipped.</p>\n<table>\n<tr><th>operator</th>";
  for (const auto& s : suites) out += "<th>" + html_escape(s) + "</th>";
  out += "<th>all</th></tr>\n";
  for (const auto& [op, cells] : rows) {
    out += "<tr><th>" + html_escape(op) + "</th>";
    for (const auto& s : suites) out += matrix_cell(cells.by_suite.count(s) ? cells.by_suite.at(s) : Counts{});
    out += matrix_cell(cells.all) + "</tr>\n";
  }
  return out + "</table>\n";
}

std::string failure_block(const CaseResult& c) {
  std::string out = "<div class=\"failure\">\n<h3>" + html_escape(report_text::case_id(c)) + "</h3>\n<table class=\"info\">\n";
  out += row("operator", html_escape(report_text::op_label(c)));
  out += row("reason", html_escape(c.reason));
  if (!c.abi_call.empty()) out += row("ABI call", "<code>" + html_escape(c.abi_call) + "</code>");
  out += "</table>\n";
  if (!c.detail.empty()) out += pre(c.detail);
  if (!c.backtrace.empty()) out += "<p>Backtrace:</p>\n" + pre(c.backtrace);
  return out + "</div>\n";
}

std::string failures_section(const Report& r) {
  const int failed = r.counts().failed;
  std::string out = "<h2>Failures (" + std::to_string(failed) + ")</h2>\n";
  for (const auto& c : r.cases)
    if (c.outcome == Outcome::failed) out += failure_block(c);
  return failed ? out : out + "<p>None.</p>\n";
}

std::string expected_section(const Report& r) {
  std::string failures, passes;
  for (const auto& c : r.cases) {
    if (c.expected.empty()) continue;
    const std::string cells = "<td>" + html_escape(report_text::case_id(c)) + "</td><td>" + html_escape(report_text::op_label(c)) +
                              "</td><td class=\"full\">" + html_escape(c.expected) + "</td>";
    if (c.outcome == Outcome::skipped) failures += "<tr>" + cells + "<td class=\"full\">" + html_escape(c.detail) + "</td></tr>\n";
    if (c.outcome == Outcome::passed) passes += "<tr>" + cells + "</tr>\n";
  }
  std::string out = "<h2>Expected failures</h2>\n";
  out += failures.empty() ? "<p>None.</p>\n"
                          : "<table>\n<tr><th>case</th><th>operator</th><th>listed because</th><th>what it found</th></tr>\n" + failures + "</table>\n";
  out += "<h2>Unexpected passes (listed as expected failures: remove them from the list)</h2>\n";
  out += passes.empty() ? "<p>None.</p>\n" : "<table>\n<tr><th>case</th><th>operator</th><th>listed because</th></tr>\n" + passes + "</table>\n";
  return out;
}

// Skips (expected failures aside: they have their own section) by operator, then by full reason.
std::string skip_summary_section(const Report& r) {
  std::map<std::string, std::map<std::string, std::vector<std::string>>> groups;  // operator -> reason -> cases
  for (const auto& c : r.cases)
    if (c.outcome == Outcome::skipped && c.expected.empty()) groups[report_text::op_label(c)][c.reason].push_back(report_text::case_id(c));
  std::string out = "<h2>Skips by operator and reason</h2>\n";
  if (groups.empty()) return out + "<p>None.</p>\n";
  out += "<table>\n<tr><th>operator</th><th>cases</th><th>reason</th><th>which</th></tr>\n";
  for (const auto& [op, by_reason] : groups) {
    for (const auto& [reason, cases] : by_reason) {
      std::string names;
      for (const auto& name : cases) names += html_escape(name) + "\n";
      out += "<tr><th>" + html_escape(op) + "</th><td class=\"n\">" + std::to_string(cases.size()) + "</td><td class=\"full\">" +
             html_escape(reason) + "</td><td><details><summary>cases</summary><div class=\"full\">" + names + "</div></details></td></tr>\n";
    }
  }
  return out + "</table>\n";
}

std::string case_row(const CaseResult& c) {
  const char* cls = c.outcome == Outcome::passed ? "p" : c.outcome == Outcome::failed ? "f" : "s";
  return "<tr><td>" + html_escape(c.name) + "</td><td>" + html_escape(c.op) + "</td><td class=\"" + cls + "\">" +
         outcome_name(c.outcome) + "</td><td class=\"full\">" + html_escape(c.reason) + "</td><td class=\"full\">" +
         html_escape(c.detail) + "</td><td class=\"n\">" + html_escape(seconds_text(c.seconds)) + "</td></tr>\n";
}

std::string all_cases_section(const Report& r) {
  std::string out = "<h2>All cases</h2>\n";
  for (const auto& suite : report_text::report_suites(r)) {
    const auto cases = report_text::suite_cases(r, suite);
    Counts c;
    for (const CaseResult* one : cases) report_text::tally(c, *one);
    out += "<details><summary>" + html_escape(suite) + ": " + std::to_string(cases.size()) + " cases, " + std::to_string(c.passed) +
           " passed, " + std::to_string(c.failed) + " failed, " + std::to_string(c.skipped) + " skipped</summary>\n<table>\n" +
           "<tr><th>case</th><th>operator</th><th>outcome</th><th>reason</th><th>detail</th><th>time</th></tr>\n";
    for (const CaseResult* one : cases) out += case_row(*one);
    out += "</table>\n</details>\n";
  }
  return out;
}
}  // namespace

std::string report_html(const Report& report) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Switchyard conformance: " +
         html_escape(report.info.device_id) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n" +
         header_section(report.info) + totals_section(report) + matrix_section(report) + failures_section(report) +
         expected_section(report) + skip_summary_section(report) + all_cases_section(report) + "</body>\n</html>\n";
}

}  // namespace switchyard::conformance
