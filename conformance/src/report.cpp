// A conformance run's report: its counts, results.json (written, read back, merged across shards),
// JUnit XML for CI farms, and writing all three forms into a folder.
#include "switchyard/conformance/report.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "report_text.h"
#include "switchyard/common/json.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;
using report_text::case_id;
using report_text::tally;

namespace {
constexpr const char* kFormat = "switchyard-conformance-1";
}  // namespace

Counts Report::counts() const {
  Counts counts;
  for (const auto& c : cases) tally(counts, c);
  return counts;
}

// ---- results.json -------------------------------------------------------------------------------

namespace {
std::string json_text(std::string_view s) { return json::quote(report_text::valid_utf8(s)); }

// The shortest text that reads back as the same double, so seconds survive a round trip exactly.
std::string exact_number(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

// ReportInfo's text fields by their JSON names: one list for writing (const) and reading back.
template <typename Info>
auto info_text_fields(Info& i) {
  return std::array{std::pair{"device_id", &i.device_id}, std::pair{"device_name", &i.device_name},
                    std::pair{"device_kind", &i.device_kind}, std::pair{"plugin", &i.plugin},
                    std::pair{"plugin_version", &i.plugin_version}, std::pair{"abi_version", &i.abi_version},
                    std::pair{"compute_type", &i.compute_type}, std::pair{"command_line", &i.command_line},
                    std::pair{"started", &i.started}, std::pair{"host", &i.host}, std::pair{"shard", &i.shard}};
}

std::string info_json(const ReportInfo& i) {
  std::string out = "{\n";
  for (const auto& [key, value] : info_text_fields(i)) out += "    " + json_text(key) + ": " + json_text(*value) + ",\n";
  std::string suites = "[";
  for (const auto& s : i.suites) suites += (suites.size() > 1 ? ", " : "") + json_text(s);
  out += "    \"suites\": " + suites + "],\n";
  return out + "    \"seconds\": " + exact_number(i.seconds) + "\n  }";
}

std::string summary_json(const Report& r) {
  const Counts c = r.counts();
  return "{\"passed\": " + std::to_string(c.passed) + ", \"failed\": " + std::to_string(c.failed) +
         ", \"skipped\": " + std::to_string(c.skipped) + ", \"expected_failures\": " + std::to_string(c.expected_failures) +
         ", \"unexpected_passes\": " + std::to_string(c.unexpected_passes) + ", \"seconds\": " + exact_number(r.info.seconds) + "}";
}

std::string case_json(const CaseResult& c) {
  return "{\"suite\": " + json_text(c.suite) + ", \"name\": " + json_text(c.name) + ", \"op\": " + json_text(c.op) +
         ", \"outcome\": " + json_text(outcome_name(c.outcome)) + ", \"reason\": " + json_text(c.reason) +
         ", \"detail\": " + json_text(c.detail) + ", \"abi_call\": " + json_text(c.abi_call) +
         ", \"backtrace\": " + json_text(c.backtrace) + ", \"expected\": " + json_text(c.expected) +
         ", \"seconds\": " + exact_number(c.seconds) + "}";
}
}  // namespace

std::string report_json(const Report& report) {
  std::string out = "{\n  \"format\": " + json_text(kFormat) + ",\n  \"info\": " + info_json(report.info) +
                    ",\n  \"summary\": " + summary_json(report) + ",\n  \"cases\": [";
  for (size_t i = 0; i < report.cases.size(); ++i) out += (i ? ",\n    " : "\n    ") + case_json(report.cases[i]);
  return out + (report.cases.empty() ? "]\n}\n" : "\n  ]\n}\n");
}

// ---- reading results.json -----------------------------------------------------------------------
// JSON is YAML's flow syntax, so yaml-cpp reads it (including the \uXXXX escapes json::quote writes).
// The helpers throw Error with the field's path; read_report turns that into a Status naming the file.

namespace {
[[noreturn]] void malformed(const std::string& where, const std::string& what) {
  throw_error(StatusCode::invalid_argument, where + ": " + what);
}

const YAML::Node object_at(const YAML::Node& parent, const char* key, const std::string& where) {
  const YAML::Node node = parent[key];
  if (!node) malformed(where, std::string("missing \"") + key + "\"");
  if (!node.IsMap()) malformed(where, std::string("\"") + key + "\" is not an object");
  return node;
}

// A string field; absent fields are empty (older or hand-made files may leave them out).
std::string text_at(const YAML::Node& map, const char* key, const std::string& where, bool required = false) {
  const YAML::Node node = map[key];
  if (!node) {
    if (required) malformed(where, std::string("missing \"") + key + "\"");
    return "";
  }
  if (!node.IsScalar()) malformed(where, std::string("\"") + key + "\" is not a string");
  return node.Scalar();
}

double number_at(const YAML::Node& map, const char* key, const std::string& where) {
  const YAML::Node node = map[key];
  if (!node) return 0;
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value))
    malformed(where, std::string("\"") + key + "\" is not a number");
  return value;
}

ReportInfo info_from(const YAML::Node& root, const std::string& file) {
  const std::string where = file + ": info";
  const YAML::Node node = object_at(root, "info", file);
  ReportInfo i;
  for (const auto& [key, value] : info_text_fields(i)) *value = text_at(node, key, where);
  const YAML::Node suites = node["suites"];
  if (suites && !suites.IsSequence()) malformed(where, "\"suites\" is not a list");
  for (size_t s = 0; suites && s < suites.size(); ++s) {
    if (!suites[s].IsScalar()) malformed(where, "suites[" + std::to_string(s) + "] is not a string");
    i.suites.push_back(suites[s].Scalar());
  }
  i.seconds = number_at(node, "seconds", where);
  return i;
}

CaseResult case_from(const YAML::Node& node, const std::string& where) {
  if (!node.IsMap()) malformed(where, "not an object");
  CaseResult c;
  c.suite = text_at(node, "suite", where, true);
  c.name = text_at(node, "name", where, true);
  const std::string outcome = text_at(node, "outcome", where, true);
  if (outcome == "passed") c.outcome = Outcome::passed;
  else if (outcome == "failed") c.outcome = Outcome::failed;
  else if (outcome == "skipped") c.outcome = Outcome::skipped;
  else malformed(where, "outcome '" + outcome + "' is not passed, failed or skipped");
  c.op = text_at(node, "op", where);
  c.reason = text_at(node, "reason", where);
  c.detail = text_at(node, "detail", where);
  c.abi_call = text_at(node, "abi_call", where);
  c.backtrace = text_at(node, "backtrace", where);
  c.expected = text_at(node, "expected", where);
  c.seconds = number_at(node, "seconds", where);
  return c;
}

Report report_from(const YAML::Node& root, const std::string& file) {
  if (!root.IsMap()) malformed(file, "not a JSON object (is this a results.json?)");
  const std::string format = text_at(root, "format", file, true);
  if (format != kFormat)
    malformed(file, "format '" + format + "' is not one this version reads ('" + std::string(kFormat) + "')");
  Report report;
  report.info = info_from(root, file);
  const YAML::Node cases = root["cases"];
  if (!cases || !cases.IsSequence()) malformed(file, "\"cases\" is missing or not a list");
  for (size_t i = 0; i < cases.size(); ++i)
    report.cases.push_back(case_from(cases[i], file + ": cases[" + std::to_string(i) + "]"));
  return report;
}
}  // namespace

Result<Report> read_report(const fs::path& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? path / "results.json" : path;
  const std::string where = "report '" + file.string() + "'";
  if (!fs::exists(file, ec)) return Status(StatusCode::not_found, where + ": no such file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status(StatusCode::io_error, where + ": cannot open: " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (text.empty()) return Status(StatusCode::invalid_argument, where + ": empty file");
  try {
    return report_from(YAML::Load(text), where);
  } catch (const Error& e) {
    return e.status();
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": not valid JSON: " + e.what());
  }
}

// ---- merging shards -----------------------------------------------------------------------------

namespace {
// Shards of one run hold the same device and plugin; a merge across devices would mix results.
Status check_same_device(const ReportInfo& first, const ReportInfo& other, size_t index) {
  if (first.device_id == other.device_id && first.plugin == other.plugin && first.plugin_version == other.plugin_version)
    return {};
  const auto describe = [](const ReportInfo& i) { return "'" + i.device_id + "' (" + i.plugin + " " + i.plugin_version + ")"; };
  return Status(StatusCode::invalid_argument, "report " + std::to_string(index + 1) + " is of device " + describe(other) +
                                                  ", report 1 of " + describe(first) + ": only shards of one run merge");
}
}  // namespace

Result<Report> merge_reports(const std::vector<Report>& reports) {
  if (reports.empty()) return Status(StatusCode::invalid_argument, "no reports to merge");
  Report merged;
  merged.info = reports.front().info;
  merged.info.seconds = 0;
  std::map<std::string, size_t> report_of_case;  // "suite/name" -> the report that holds it
  for (size_t r = 0; r < reports.size(); ++r) {
    SY_RETURN_IF_ERROR(check_same_device(reports.front().info, reports[r].info, r));
    for (const auto& suite : reports[r].info.suites)
      if (std::find(merged.info.suites.begin(), merged.info.suites.end(), suite) == merged.info.suites.end())
        merged.info.suites.push_back(suite);
    merged.info.seconds += reports[r].info.seconds;
    for (const auto& c : reports[r].cases) {
      const auto [it, added] = report_of_case.emplace(case_id(c), r);
      if (!added)
        return Status(StatusCode::invalid_argument, "shards overlap: case '" + case_id(c) + "' is in report " +
                                                        std::to_string(it->second + 1) + " and report " + std::to_string(r + 1));
      merged.cases.push_back(c);
    }
  }
  merged.info.shard = "merged from " + std::to_string(reports.size()) + " reports";
  return merged;
}

// ---- JUnit XML ----------------------------------------------------------------------------------
// The Ant/Jenkins form CI farms read (schema: conformance/junit.xsd): one <testsuite> per suite.

namespace {
std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + report_text::xml_escape(value, true) + "\"";
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::isfinite(s) && s > 0 ? s : 0.0);
  return buf;
}

// xs:dateTime, which the timestamp attribute must be; a hand-made report may hold anything.
bool is_date_time(const std::string& s) {
  static const std::regex kDateTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?)");
  return std::regex_match(s, kDateTime);
}

std::string junit_properties(const ReportInfo& i) {
  const std::pair<const char*, const std::string*> props[] = {
      {"device", &i.device_id}, {"device_name", &i.device_name}, {"device_kind", &i.device_kind},
      {"plugin", &i.plugin}, {"plugin_version", &i.plugin_version}, {"abi_version", &i.abi_version},
      {"compute_type", &i.compute_type}, {"command_line", &i.command_line}, {"started", &i.started},
      {"shard", &i.shard}};
  std::string out = "    <properties>\n";
  for (const auto& [name, value] : props) out += "      <property" + attr("name", name) + attr("value", *value) + "/>\n";
  return out + "    </properties>\n";
}

// What a failure's body holds: where and by how much, then where a crash was and its stack.
std::string failure_text(const CaseResult& c) {
  std::string text = c.detail;
  if (!c.abi_call.empty()) text += (text.empty() ? "" : "\n") + std::string("ABI call: ") + c.abi_call;
  if (!c.backtrace.empty()) text += (text.empty() ? "" : "\n") + std::string("backtrace:\n") + c.backtrace;
  return text;
}

std::string junit_testcase(const CaseResult& c) {
  std::string out = "    <testcase" + attr("name", c.name) + attr("classname", c.suite + "." + (c.op.empty() ? c.suite : c.op)) +
                    attr("time", seconds_text(c.seconds));
  if (c.outcome == Outcome::failed) {
    const std::string type = c.reason.substr(0, c.reason.find(':'));  // the tally key: "mismatch", "crash"
    out += ">\n      <failure" + attr("message", c.reason) + attr("type", type) + ">" +
           report_text::xml_escape(failure_text(c)) + "</failure>\n";
  } else if (c.outcome == Outcome::skipped) {
    out += ">\n      <skipped" + attr("message", c.reason) + ">" + report_text::xml_escape(c.detail) + "</skipped>\n";
  } else if (!c.expected.empty()) {
    out += ">\n      <system-out>" + report_text::xml_escape("unexpected pass: listed as an expected failure: " + c.expected) +
           "</system-out>\n";
  } else {
    return out + "/>\n";
  }
  return out + "    </testcase>\n";
}

std::string junit_testsuite(const Report& report, const std::string& suite) {
  const auto cases = report_text::suite_cases(report, suite);
  Counts counts;
  double seconds = 0;
  for (const CaseResult* c : cases) tally(counts, *c), seconds += c->seconds;
  std::string out = "  <testsuite" + attr("name", suite) + attr("tests", std::to_string(cases.size())) +
                    attr("failures", std::to_string(counts.failed)) + attr("errors", "0") +
                    attr("skipped", std::to_string(counts.skipped)) + attr("time", seconds_text(seconds));
  if (is_date_time(report.info.started)) out += attr("timestamp", report.info.started);
  out += attr("hostname", report.info.host.empty() ? "unknown" : report.info.host) + ">\n" + junit_properties(report.info);
  for (const CaseResult* c : cases) out += junit_testcase(*c);
  return out + "  </testsuite>\n";
}
}  // namespace

std::string report_junit_xml(const Report& report) {
  const Counts c = report.counts();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" +
                    attr("name", "switchyard conformance " + report.info.device_id) +
                    attr("tests", std::to_string(report.cases.size())) + attr("failures", std::to_string(c.failed)) +
                    attr("errors", "0") + attr("skipped", std::to_string(c.skipped)) +
                    attr("time", seconds_text(report.info.seconds)) + ">\n";
  for (const auto& suite : report_text::report_suites(report)) out += junit_testsuite(report, suite);
  return out + "</testsuites>\n";
}

// ---- writing the folder -------------------------------------------------------------------------

namespace {
Status write_error(const fs::path& file, const std::string& why) {
  return Status(StatusCode::io_error, "cannot write report file '" + file.string() + "': " + why);
}

// Writes `text` to a temporary file beside `file`, then renames it into place: a reader (a CI
// farm collecting reports) sees the old file or the whole new one, never half of one.
Status write_atomically(const fs::path& file, std::string_view text) {
  const fs::path tmp = file.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return write_error(file, std::strerror(errno));
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      ::close(fd);
      ::unlink(tmp.c_str());
      return write_error(file, why);
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return write_error(file, why);
  }
  return {};
}
}  // namespace

Status write_report(const Report& report, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(StatusCode::io_error, "cannot create report folder '" + dir.string() + "': " + ec.message());
  // Every form is attempted, so one that cannot be written does not cost the others.
  const std::pair<const char*, std::string> files[] = {
      {"results.json", report_json(report)}, {"junit.xml", report_junit_xml(report)}, {"index.html", report_html(report)}};
  std::string errors;
  for (const auto& [name, text] : files) {
    const Status s = write_atomically(dir / name, text);
    if (!s.ok()) errors += (errors.empty() ? "" : "; ") + s.message();
  }
  if (!errors.empty()) return Status(StatusCode::io_error, errors);
  return {};
}

}  // namespace switchyard::conformance
