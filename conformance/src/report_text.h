// Private to the report writers (report.cpp, report_html.cpp): text made safe for each form a
// report is written in, and the groupings every form shares.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/conformance/report.h"

namespace switchyard::conformance::report_text {

// `s` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD: case
// details quote plugins' own messages, and JSON, XML and HTML readers all require valid UTF-8.
std::string valid_utf8(std::string_view s);

// Text for XML 1.0 element content (`attribute` false) or a double-quoted attribute value: markup
// characters escaped, code points XML forbids (most C0 controls, U+FFFE, U+FFFF) shown as "\uXXXX",
// and in attributes newlines and tabs kept as character references (a parser turns raw ones into spaces).
std::string xml_escape(std::string_view s, bool attribute = false);

// Text for HTML content or a double-quoted attribute value: markup characters escaped, controls
// and noncharacters (which HTML parsers report as errors) shown as "\uXXXX"; tabs and newlines kept.
std::string html_escape(std::string_view s);

// Adds one case to `counts` as Report::counts() does (expected failures are skipped cases with
// `expected` set; unexpected passes are passed ones).
void tally(Counts& counts, const CaseResult& c);
// "suite/name": how an expected-failures list, a merge and a reader name a case.
std::string case_id(const CaseResult& c);
// The matrix row of a case: its operator, or "(none)".
std::string op_label(const CaseResult& c);
// The suites of a report: ReportInfo::suites in order, then any other suite its cases name.
std::vector<std::string> report_suites(const Report& report);
// Cases of `report` in `suite`, in report order.
std::vector<const CaseResult*> suite_cases(const Report& report, const std::string& suite);

}  // namespace switchyard::conformance::report_text
