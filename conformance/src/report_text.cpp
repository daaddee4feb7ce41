// Text made safe for the forms a report is written in (JSON, XML, HTML), and the groupings of
// cases every form shares.
#include "report_text.h"

#include <cstdio>
#include <set>

namespace switchyard::conformance::report_text {

namespace {
constexpr char32_t kReplacement = 0xFFFD;

// Decodes the well-formed UTF-8 sequence at s[pos] into `cp` and returns its length, or returns 0
// when the bytes there are not one (stray continuation, truncation, overlong form, surrogate,
// beyond U+10FFFF).
size_t decode_utf8(std::string_view s, size_t pos, char32_t& cp) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return cp = lead, 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || pos + length > s.size()) return 0;
  cp = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// "\u0001": a code point a format cannot carry, shown so that a reader still sees it was there.
std::string visible_escape(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, cp < 0x10000 ? "\\u%04X" : "\\U%08X", static_cast<unsigned>(cp));
  return buf;
}

// Calls `emit(out, cp)` for each code point of `s`, with invalid bytes as U+FFFD.
template <typename Emit>
std::string transcode(std::string_view s, Emit emit) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp = kReplacement;
    const size_t length = decode_utf8(s, pos, cp);
    emit(out, length == 0 ? kReplacement : cp);
    pos += length == 0 ? 1 : length;
  }
  return out;
}

bool is_noncharacter(char32_t cp) { return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE; }
}  // namespace

std::string valid_utf8(std::string_view s) {
  return transcode(s, [](std::string& out, char32_t cp) { append_utf8(out, cp); });
}

std::string xml_escape(std::string_view s, bool attribute) {
  return transcode(s, [attribute](std::string& out, char32_t cp) {
    switch (cp) {
      case '&': out += "&amp;"; return;
      case '<': out += "&lt;"; return;
      case '>': out += "&gt;"; return;
      case '"': out += "&quot;"; return;
      case '\r': out += "&#13;"; return;  // a raw CR is read back as LF
      case '\n': out += attribute ? "&#10;" : "\n"; return;
      case '\t': out += attribute ? "&#9;" : "\t"; return;
      default: break;
    }
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
      out += visible_escape(cp);
    else
      append_utf8(out, cp);
  });
}

std::string html_escape(std::string_view s) {
  return transcode(s, [](std::string& out, char32_t cp) {
    switch (cp) {
      case '&': out += "&amp;"; return;
      case '<': out += "&lt;"; return;
      case '>': out += "&gt;"; return;
      case '"': out += "&quot;"; return;
      case '\'': out += "&#39;"; return;
      case '\t': case '\n': case '\r': out += static_cast<char>(cp); return;
      default: break;
    }
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
    if (control || is_noncharacter(cp))
      out += visible_escape(cp);
    else
      append_utf8(out, cp);
  });
}

void tally(Counts& counts, const CaseResult& c) {
  switch (c.outcome) {
    case Outcome::passed:
      ++counts.passed;
      if (!c.expected.empty()) ++counts.unexpected_passes;
      break;
    case Outcome::failed: ++counts.failed; break;
    case Outcome::skipped:
      ++counts.skipped;
      if (!c.expected.empty()) ++counts.expected_failures;
      break;
  }
}

std::string case_id(const CaseResult& c) { return c.suite + "/" + c.name; }

std::string op_label(const CaseResult& c) { return c.op.empty() ? "(none)" : c.op; }

std::vector<std::string> report_suites(const Report& report) {
  std::vector<std::string> suites;
  std::set<std::string> seen;
  for (const auto& s : report.info.suites)
    if (seen.insert(s).second) suites.push_back(s);
  for (const auto& c : report.cases)
    if (seen.insert(c.suite).second) suites.push_back(c.suite);
  return suites;
}

std::vector<const CaseResult*> suite_cases(const Report& report, const std::string& suite) {
  std::vector<const CaseResult*> cases;
  for (const auto& c : report.cases)
    if (c.suite == suite) cases.push_back(&c);
  return cases;
}

}  // namespace switchyard::conformance::report_text
