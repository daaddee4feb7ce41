// --expected-failures FILE: the cases a CI farm knows to fail on its device, each with a reason.
// Listed failures become skips that say why; listed cases that pass are reported as unexpected
// passes, so the list shrinks as the plugin improves.
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "report_text.h"
#include "switchyard/conformance/report.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void bad_list(const std::string& where, const std::string& what) {
  throw_error(StatusCode::invalid_argument, where + ": " + what);
}

std::string scalar_at(const YAML::Node& entry, const char* key, const std::string& where) {
  const YAML::Node node = entry[key];
  if (!node) return "";
  if (!node.IsScalar()) bad_list(where, std::string("'") + key + "' is not a string");
  return node.Scalar();
}

ExpectedFailure entry_from(const YAML::Node& entry, const std::string& where) {
  if (!entry.IsMap()) bad_list(where, "not a mapping with 'case:' (or 'match:') and 'reason:'");
  for (const auto& kv : entry) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (key != "case" && key != "match" && key != "reason")
      bad_list(where, "unknown key '" + key + "' (known keys: case, match, reason)");
  }
  ExpectedFailure e{scalar_at(entry, "case", where), scalar_at(entry, "match", where), scalar_at(entry, "reason", where)};
  if (e.case_id.empty() == e.match.empty()) bad_list(where, "needs exactly one of 'case:' (suite/name) and 'match:' (a regex)");
  if (!e.case_id.empty() && e.case_id.find('/') == std::string::npos)
    bad_list(where, "case '" + e.case_id + "' is not suite/name (e.g. onnx/test_add)");
  if (e.reason.empty()) bad_list(where, "has no 'reason:' (every expected failure says why)");
  if (!e.match.empty()) {
    try {
      std::regex check(e.match, std::regex::ECMAScript);
    } catch (const std::regex_error& err) {
      bad_list(where, "match '" + e.match + "' is not a valid regex: " + err.what());
    }
  }
  return e;
}

std::vector<ExpectedFailure> list_from(const YAML::Node& root, const std::string& where) {
  if (!root.IsMap()) bad_list(where, "expected a mapping with the key 'expected_failures'");
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (key != "expected_failures") bad_list(where, "unknown key '" + key + "' (the list goes under 'expected_failures:')");
  }
  const YAML::Node entries = root["expected_failures"];
  if (!entries || entries.IsNull()) return {};
  if (!entries.IsSequence()) bad_list(where, "'expected_failures' is not a list");
  std::vector<ExpectedFailure> list;
  for (size_t i = 0; i < entries.size(); ++i)
    list.push_back(entry_from(entries[i], where + ": entry " + std::to_string(i + 1) + " (line " +
                                              std::to_string(entries[i].Mark().line + 1) + ")"));
  return list;
}
}  // namespace

Result<std::vector<ExpectedFailure>> load_expected_failures(const fs::path& file) {
  const std::string where = "expected failures '" + file.string() + "'";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return Status(StatusCode::not_found, where + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status(StatusCode::io_error, where + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return list_from(YAML::Load(text.str()), where);
  } catch (const Error& e) {
    return e.status();
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": not valid YAML: " + e.what());
  }
}

namespace {
// The first entry of `list` that names `id` ("suite/name"), if any. A `match:` regex is searched
// in the id, as --filter is (anchor it with ^ and $ to match the whole id). `patterns` holds each entry's
// compiled regex (none for `case:` entries and for a regex that does not compile, which a list
// loaded by load_expected_failures cannot hold).
const ExpectedFailure* entry_naming(const std::string& id, const std::vector<ExpectedFailure>& list,
                                    const std::vector<std::optional<std::regex>>& patterns) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].case_id.empty() ? list[i].case_id == id : patterns[i] && std::regex_search(id, *patterns[i])) return &list[i];
  }
  return nullptr;
}

std::optional<std::regex> compile(const ExpectedFailure& e) {
  if (e.case_id.empty() && !e.match.empty()) {
    try {
      return std::regex(e.match, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
  }
  return std::nullopt;
}
}  // namespace

void apply_expected_failures(std::vector<CaseResult>& cases, const std::vector<ExpectedFailure>& list) {
  std::vector<std::optional<std::regex>> patterns;
  for (const auto& e : list) patterns.push_back(compile(e));
  for (auto& c : cases) {
    if (c.outcome == Outcome::skipped) continue;  // neither failed nor passed: nothing to learn
    const ExpectedFailure* entry = entry_naming(report_text::case_id(c), list, patterns);
    if (!entry) continue;
    c.expected = entry->reason;
    if (c.outcome == Outcome::passed) continue;  // an unexpected pass: counted and reported
    // The failure stays readable: what it found moves into the detail.
    c.detail = "failed: " + c.reason + (c.detail.empty() ? "" : "\n" + c.detail);
    c.reason = "expected failure: " + entry->reason;
    c.outcome = Outcome::skipped;
  }
}

}  // namespace switchyard::conformance
