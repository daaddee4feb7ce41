// Report tests on synthetic results (no devices): results.json round-trips every string exactly,
// junit.xml validates against conformance/junit.xsd (xmllint), index.html parses cleanly in a real
// HTML parser (Python's html5lib, strict) with every failure in it, expected-failures lists, merging
// shards, and write errors that name the file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "switchyard/conformance/report.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

const fs::path kSchema = fs::path(SWITCHYARD_SOURCE_DIR) / "conformance/junit.xsd";

// A string with everything that trips writers: quotes, backslashes, newlines, tabs, markup, non-ASCII.
const std::string kTricky = "output 0 'y' [3]: expected 1.5, got 1.75, |diff| 0.25 > tol 0.0015\n\tquote \" backslash \\ "
                            "<tag attr=\"v\"> & &amp; ünïcödé 漢字 😀 ]]> -- end";
// Far longer than any line a writer might cut at.
const std::string kLongReason = "the device says: Softmax over axis 0 is not supported (only the last axis is); " + std::string(400, 'x') + " end of reason";

CaseResult make_case(std::string suite, std::string name, std::string op, Outcome outcome, std::string reason = "",
                     std::string detail = "") {
  CaseResult c;
  c.suite = std::move(suite);
  c.name = std::move(name);
  c.op = std::move(op);
  c.outcome = outcome;
  c.reason = std::move(reason);
  c.detail = std::move(detail);
  c.seconds = 0.125;
  return c;
}

Report sample_report() {
  Report r;
  r.info = {"cpu:0", "oneDNN CPU \"x86\"", "cpu", "cpu", "1.4.0-rc<2>&", "2.0", "float32",
            "switchyard conformance all --device cpu:0 --report 'out dir' --filter \"a&b<c>\"", "2024-05-01T12:34:56Z",
            "farm-7", {"onnx", "ops", "api", "cache"}, "2/4", 12.3456789};
  r.cases.push_back(make_case("onnx", "test_add", "Add", Outcome::passed));
  r.cases.push_back(make_case("onnx", "test_conv_tricky", "Conv", Outcome::failed, "mismatch", kTricky));
  CaseResult crash = make_case("ops", "Conv_f16_pad", "Conv", Outcome::failed, "crash", "signal 11 (SIGSEGV) in the worker");
  crash.abi_call = "sy_plugin_api.execute";
  crash.backtrace = "#0 conv_kernel+0x12 (libswitchyard_cpu.so)\n#1 execute+0x40";
  crash.seconds = 1.0 / 3.0;
  r.cases.push_back(crash);
  r.cases.push_back(make_case("ops", "Conv_basic", "Conv", Outcome::passed));
  r.cases.push_back(make_case("ops", "Softmax_axis0", "Softmax", Outcome::skipped, kLongReason));
  r.cases.push_back(make_case("ops", "Softmax_axis0_f16", "Softmax", Outcome::skipped, kLongReason));
  r.cases.push_back(make_case("api", "create_and_destroy", "", Outcome::passed));
  // Controls that XML 1.0 and HTML forbid, and a NUL.
  r.cases.push_back(make_case("api", "control_chars", "", Outcome::failed, "mismatch",
                              std::string("bell \x07 escape \x1b[0m nul ") + '\0' + " del \x7f c1 \xc2\x85 nonchar \xef\xbf\xbe end"));
  CaseResult listed = make_case("onnx", "test_dft", "DFT", Outcome::skipped, "expected failure: float32 FFT noise",
                                "failed: mismatch\nworst at [2]");
  listed.expected = "float32 FFT noise";
  r.cases.push_back(listed);
  CaseResult unexpected = make_case("onnx", "test_relu", "Relu", Outcome::passed);
  unexpected.expected = "was broken in 1.3";
  r.cases.push_back(unexpected);
  return r;
}

// A folder of its own under the temp folder, removed after the test.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sy_report_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

struct CommandResult {
  int rc = -1;
  std::string output;
};

CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// ---- results.json -------------------------------------------------------------------------------

void expect_same_case(const CaseResult& a, const CaseResult& b) {
  EXPECT_EQ(a.suite, b.suite);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.outcome, b.outcome) << a.name;
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.detail, b.detail);
  EXPECT_EQ(a.abi_call, b.abi_call);
  EXPECT_EQ(a.backtrace, b.backtrace);
  EXPECT_EQ(a.expected, b.expected);
  EXPECT_EQ(a.seconds, b.seconds) << a.name;  // exactly: seconds are written in round-trip form
}

TEST_F(ReportTest, ResultsJsonRoundTripsEveryCaseAndTheInfo) {
  Report original = sample_report();
  // What YAML (which reads the JSON) might take for line breaks, a byte-order mark, or syntax.
  CaseResult odd = make_case("models", "  spaced name  ", "Add+Relu", Outcome::failed,
                             "nel \xc2\x85 ls \xe2\x80\xa8 ps \xe2\x80\xa9", "\xef\xbb\xbf" "bom #x: y, [z] {w} *a &b !c %d @e `f '\r\n");
  odd.seconds = 1e-7;
  original.cases.push_back(odd);
  ASSERT_TRUE(write_report(original, dir_).ok());
  for (const fs::path& p : {dir_, dir_ / "results.json"}) {
    auto back = read_report(p);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    const ReportInfo& a = original.info;
    const ReportInfo& b = back->info;
    EXPECT_EQ(std::tie(a.device_id, a.device_name, a.device_kind, a.plugin, a.plugin_version, a.abi_version, a.compute_type),
              std::tie(b.device_id, b.device_name, b.device_kind, b.plugin, b.plugin_version, b.abi_version, b.compute_type));
    EXPECT_EQ(std::tie(a.command_line, a.started, a.host, a.suites, a.shard, a.seconds),
              std::tie(b.command_line, b.started, b.host, b.suites, b.shard, b.seconds));
    ASSERT_EQ(back->cases.size(), original.cases.size());
    for (size_t i = 0; i < original.cases.size(); ++i) expect_same_case(original.cases[i], back->cases[i]);
  }
  const std::string json = read_file(dir_ / "results.json");
  EXPECT_TRUE(contains(json, "\"format\": \"switchyard-conformance-1\""));
  EXPECT_TRUE(contains(json, "\"summary\": {\"passed\": 4, \"failed\": 4, \"skipped\": 3, \"expected_failures\": 1, \"unexpected_passes\": 1"))
      << json.substr(0, 1200);
}

TEST_F(ReportTest, InvalidUtf8IsReplacedSoTheJsonStaysValid) {
  Report r = sample_report();
  r.cases.resize(1);
  r.cases[0].detail = "bad \xff\xfe bytes, truncated \xe6\xbc";
  const std::string json = report_json(r);
  EXPECT_FALSE(contains(json, "\xff"));
  write_file(dir_ / "results.json", json);
  auto back = read_report(dir_);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->cases[0].detail, "bad \xef\xbf\xbd\xef\xbf\xbd bytes, truncated \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(ReportTest, MalformedResultsJsonIsAClearErrorNamingTheFile) {
  const fs::path file = dir_ / "results.json";
  auto missing = read_report(dir_ / "nowhere.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
  EXPECT_TRUE(contains(missing.status().message(), "nowhere.json")) << missing.status().message();

  const std::string good = report_json(sample_report());
  const std::pair<std::string, std::string> broken[] = {
      {good.substr(0, good.size() / 2), "not valid JSON"},
      {"", "empty file"},
      {"[1, 2]", "not a JSON object"},
      {"{\"format\": \"switchyard-conformance-9\", \"info\": {}, \"cases\": []}", "format 'switchyard-conformance-9'"},
      {"{\"format\": \"switchyard-conformance-1\", \"cases\": []}", "missing \"info\""},
      {"{\"format\": \"switchyard-conformance-1\", \"info\": {}}", "\"cases\" is missing"},
      {"{\"format\": \"switchyard-conformance-1\", \"info\": {}, \"cases\": [{\"suite\": \"a\", \"name\": \"b\", \"outcome\": \"won\"}]}",
       "cases[0]: outcome 'won'"},
      {"{\"format\": \"switchyard-conformance-1\", \"info\": {}, \"cases\": [{\"suite\": \"a\", \"outcome\": \"passed\"}]}",
       "cases[0]: missing \"name\""},
      {"{\"format\": \"switchyard-conformance-1\", \"info\": {}, \"cases\": [{\"suite\": \"a\", \"name\": [1], \"outcome\": \"passed\"}]}",
       "cases[0]: \"name\" is not a string"},
      {"{\"format\": \"switchyard-conformance-1\", \"info\": {\"seconds\": \"soon\"}, \"cases\": []}", "\"seconds\" is not a number"},
  };
  for (const auto& [text, why] : broken) {
    write_file(file, text);
    auto r = read_report(file);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(contains(r.status().message(), file.string())) << r.status().message();
    EXPECT_TRUE(contains(r.status().message(), why)) << r.status().message();
  }
}

// ---- JUnit XML ----------------------------------------------------------------------------------

// What `xpath` selects in `file`, as xmllint prints it (less the newline it ends with).
std::string xpath(const fs::path& file, const std::string& expr) {
  std::string out = run_command("xmllint --xpath " + sh_quote(expr) + " " + sh_quote(file.string())).output;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

CommandResult validate_junit(const fs::path& file) {
  return run_command("xmllint --noout --schema " + sh_quote(kSchema.string()) + " " + sh_quote(file.string()));
}

TEST_F(ReportTest, JunitValidatesAgainstTheSchemaWithOneSuiteEach) {
  ASSERT_EQ(run_command("command -v xmllint").rc, 0) << "xmllint is missing (Debian package libxml2-utils)";
  const Report r = sample_report();
  ASSERT_TRUE(write_report(r, dir_).ok());
  const fs::path xml = dir_ / "junit.xml";
  const CommandResult valid = validate_junit(xml);
  EXPECT_EQ(valid.rc, 0) << valid.output;

  // One testsuite per suite, in order, including a suite that ran no cases.
  EXPECT_EQ(xpath(xml, "count(/testsuites/testsuite)"), "4");
  EXPECT_EQ(xpath(xml, "string(/testsuites/testsuite[4]/@name)"), "cache");
  EXPECT_EQ(xpath(xml, "string(/testsuites/testsuite[@name='ops']/@failures)"), "1");
  EXPECT_EQ(xpath(xml, "string(/testsuites/testsuite[@name='ops']/@skipped)"), "2");
  EXPECT_EQ(xpath(xml, "string(/testsuites/@tests)"), std::to_string(r.cases.size()));
  EXPECT_EQ(xpath(xml, "count(//testcase/failure)"), "3");
  EXPECT_EQ(xpath(xml, "string(//testsuite[@name='api']/testcase[@name='create_and_destroy']/@classname)"), "api.api");
  EXPECT_EQ(xpath(xml, "string(//testsuite[@name='ops']/testcase[@name='Conv_basic']/@classname)"), "ops.Conv");
  EXPECT_EQ(xpath(xml, "string(//testsuite[1]/properties/property[@name='plugin_version']/@value)"), "1.4.0-rc<2>&");
  EXPECT_EQ(xpath(xml, "string(//testsuite[1]/properties/property[@name='command_line']/@value)"), r.info.command_line);
  // Escaped text reads back as written, in full.
  EXPECT_EQ(xpath(xml, "string(//testcase[@name='test_conv_tricky']/failure)"), kTricky);
  EXPECT_EQ(xpath(xml, "string(//testcase[@name='Softmax_axis0']/skipped/@message)"), kLongReason);
  const std::string crash = xpath(xml, "string(//testcase[@name='Conv_f16_pad']/failure)");
  EXPECT_TRUE(contains(crash, "ABI call: sy_plugin_api.execute") && contains(crash, "#1 execute+0x40")) << crash;
  EXPECT_TRUE(contains(xpath(xml, "string(//testcase[@name='test_relu']/system-out)"), "unexpected pass"));
}

// The schema is not a formality: XML that breaks the format fails it.
TEST_F(ReportTest, JunitSchemaRejectsBrokenReports) {
  ASSERT_EQ(run_command("command -v xmllint").rc, 0) << "xmllint is missing (Debian package libxml2-utils)";
  const std::string ok_xml = report_junit_xml(sample_report());
  const std::pair<std::string, std::string> breakages[] = {
      {"classname=\"onnx.Add\" ", ""},                          // a testcase without classname
      {"<testsuite name=\"ops\"", "<testsuite name=\"onnx\""},  // two suites with one name
      {"skipped=\"2\"", "skipped=\"-2\""},                      // a negative count
      {"<skipped message=", "<skipped why="},                    // an attribute the format lacks
  };
  for (const auto& [from, to] : breakages) {
    std::string bad = ok_xml;
    ASSERT_TRUE(contains(bad, from)) << from;
    bad.replace(bad.find(from), from.size(), to);
    write_file(dir_ / "bad.xml", bad);
    const CommandResult r = validate_junit(dir_ / "bad.xml");
    EXPECT_NE(r.rc, 0) << "accepted after replacing " << from;
    EXPECT_TRUE(contains(r.output, "fails to validate")) << r.output;
  }
}

// ---- HTML ---------------------------------------------------------------------------------------

// For each page argv[2:], parses it with html5lib in strict mode (any parse error fails), then
// checks argv[1]'s expectations: texts that must appear, matrix cells {operator: {suite: "P/F/S"}},
// and that the page needs nothing outside itself (no scripts, no handlers, no external references).
// Prints "== PAGE" and then "ok" or its problems, one a line; exits 1 when any page has one.
constexpr const char* kHtmlChecker = R"PY(
import json, sys
import html5lib

def matrix_problems(body, expected):
    heading = [i for i, el in enumerate(body) if el.tag == 'h2' and ''.join(el.itertext()).startswith('Operators')]
    table = next((el for el in list(body)[heading[0]:] if el.tag == 'table'), None) if heading else None
    if table is None:
        return ['no operator matrix']
    rows = [[''.join(c.itertext()) for c in tr] for tr in table.iter('tr')]
    cells = {row[0]: dict(zip(rows[0][1:], row[1:])) for row in rows[1:]}
    return ['matrix[%s][%s] = %r, expected %r' % (op, suite, cells.get(op, {}).get(suite), want)
            for op, by_suite in expected.items() for suite, want in by_suite.items()
            if cells.get(op, {}).get(suite) != want]

def page_problems(path, expect):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        with open(path, 'rb') as f:
            doc = parser.parse(f)
    except Exception as e:
        return ['parse error: %s %s' % (e, parser.errors[:3])]
    if parser.errors:
        return ['parse errors: %s' % parser.errors[:3]]
    text = ''.join(doc.itertext())
    problems = ['missing text: %r' % t for t in expect['texts'] if t not in text]
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ('script', 'link', 'img', 'iframe', 'object', 'embed', 'base', 'noscript'):
            problems.append('element <%s>' % el.tag)
        for name, value in el.attrib.items():
            if name.startswith('on') or (name in ('src', 'href', 'action', 'srcset', 'data') and not value.startswith('#')):
                problems.append('attribute %s=%r on <%s>' % (name, value, el.tag))
    for style in doc.iter('style'):
        if 'url(' in (style.text or '') or '@import' in (style.text or ''):
            problems.append('style fetches something')
    return problems + matrix_problems(doc.find('.//body'), expect['matrix'])

expect = json.load(open(sys.argv[1], encoding='utf-8'))
failed = False
for path in sys.argv[2:]:
    problems = page_problems(path, expect)
    failed = failed or bool(problems)
    print('== ' + path + '\n' + ('\n'.join(problems) if problems else 'ok'))
sys.exit(1 if failed else 0)
)PY";

using Matrix = std::map<std::string, std::map<std::string, std::string>>;

// A JSON string for the checker's expectations (the texts hold quotes, backslashes, newlines, tabs).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += {'\\', static_cast<char>(c)};
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

CommandResult check_html(const std::vector<fs::path>& pages, const fs::path& dir, const std::vector<std::string>& texts,
                         const Matrix& matrix) {
  write_file(dir / "check_html.py", kHtmlChecker);
  std::string expect = "{\"texts\": [";
  for (const auto& t : texts) expect += (expect.back() == '[' ? "" : ", ") + json_string(t);
  expect += "], \"matrix\": {";
  for (const auto& [op, by_suite] : matrix) {
    expect += (expect.back() == '{' ? "" : ", ") + json_string(op) + ": {";
    for (const auto& [suite, cell] : by_suite) expect += (expect.back() == '{' ? "" : ", ") + json_string(suite) + ": " + json_string(cell);
    expect += "}";
  }
  write_file(dir / "expect.json", expect + "}}");
  std::string cmd = "/usr/bin/python3 " + sh_quote((dir / "check_html.py").string()) + " " + sh_quote((dir / "expect.json").string());
  for (const auto& page : pages) cmd += " " + sh_quote(page.string());
  return run_command(cmd);
}

// The checker's verdict on one page: the lines after its "== PAGE" header.
std::string verdict_on(const std::string& output, const fs::path& page) {
  const std::string header = "== " + page.string() + "\n";
  const size_t start = output.find(header);
  if (start == std::string::npos) return "(no verdict)";
  const size_t end = output.find("\n== ", start + header.size());
  std::string verdict = output.substr(start + header.size(), end == std::string::npos ? std::string::npos : end - start - header.size());
  while (!verdict.empty() && verdict.back() == '\n') verdict.pop_back();
  return verdict;
}

TEST_F(ReportTest, HtmlParsesStrictlyAndHoldsEveryFailureSkipAndTheRun) {
  ASSERT_EQ(run_command("/usr/bin/python3 -c 'import html5lib'").rc, 0) << "html5lib is missing (Debian package python3-html5lib)";
  const Report r = sample_report();
  ASSERT_TRUE(write_report(r, dir_).ok());
  std::vector<std::string> texts = {r.info.device_id, r.info.device_name, r.info.plugin_version, r.info.abi_version,
                                    r.info.compute_type, r.info.command_line, r.info.started, r.info.host, r.info.shard,
                                    kLongReason, "float32 FFT noise", "was broken in 1.3", "sy_plugin_api.execute",
                                    "#0 conv_kernel+0x12 (libswitchyard_cpu.so)\n#1 execute+0x40"};
  for (const auto& c : r.cases) {
    if (c.outcome != Outcome::failed) continue;
    texts.push_back(c.suite + "/" + c.name);
    if (c.name != "control_chars") texts.push_back(c.detail);  // its controls are shown escaped
  }
  const Matrix matrix = {
      {"Add", {{"onnx", "1/0/0"}, {"ops", "–"}}},
      {"Conv", {{"onnx", "0/1/0"}, {"ops", "1/1/0"}, {"all", "1/2/0"}}},
      {"Softmax", {{"ops", "0/0/2"}}},
      {"DFT", {{"onnx", "0/0/1"}}},
      {"(none)", {{"api", "1/1/0"}, {"cache", "–"}}},
  };
  const CommandResult checked = check_html({dir_ / "index.html"}, dir_, texts, matrix);
  EXPECT_EQ(checked.rc, 0) << checked.output;
  const std::string html = read_file(dir_ / "index.html");
  EXPECT_TRUE(contains(html, "bell \\u0007 escape \\u001B[0m nul \\u0000 del \\u007F c1 \\u0085 nonchar \\uFFFE end")) << "controls shown escaped";
}

// The checker is not a formality either: it fails a page with a script, a fetched resource, a
// handler, a parse error, a missing failure or a wrong matrix cell, each for that reason.
TEST_F(ReportTest, HtmlCheckerRejectsBrokenPages) {
  ASSERT_EQ(run_command("/usr/bin/python3 -c 'import html5lib'").rc, 0) << "html5lib is missing (Debian package python3-html5lib)";
  const std::string good = report_html(sample_report());
  struct Breakage {
    std::string from, to, complaint;
  };
  const Breakage breakages[] = {
      {"</body>", "<script>alert(1)</script></body>", "element <script>"},
      {"</head>", "<link rel=\"stylesheet\" href=\"https://example.com/x.css\"></head>", "attribute href="},
      {"</style>", "td { background: url(x.png) }</style>", "style fetches something"},
      {"<td class=\"n\">", "<td onclick=\"go()\">", "attribute onclick="},
      {"</body>", "</div></body>", "parse error"},  // a stray end tag
      {"test_conv_tricky", "test_conv_renamed", "missing text: 'onnx/test_conv_tricky'"},
      {"0/1/0</td><td class=\"n f\">1/1/0<", "0/1/0</td><td class=\"n f\">1/0/0<", "matrix[Conv][ops] = '1/0/0', expected '1/1/0'"},
  };
  // One checker run for all pages (html5lib takes a while to load).
  std::vector<fs::path> pages;
  for (const auto& b : breakages) {
    std::string bad = good;
    ASSERT_TRUE(contains(bad, b.from)) << b.from;
    bad.replace(bad.find(b.from), b.from.size(), b.to);
    pages.push_back(dir_ / ("bad_" + std::to_string(pages.size()) + ".html"));
    write_file(pages.back(), bad);
  }
  pages.push_back(dir_ / "good.html");
  write_file(pages.back(), good);
  const CommandResult r = check_html(pages, dir_, {"onnx/test_conv_tricky"}, {{"Conv", {{"ops", "1/1/0"}}}});
  EXPECT_NE(r.rc, 0) << r.output;
  for (size_t i = 0; i < std::size(breakages); ++i)
    EXPECT_TRUE(contains(verdict_on(r.output, pages[i]), breakages[i].complaint)) << breakages[i].to << ":\n" << r.output;
  EXPECT_EQ(verdict_on(r.output, pages.back()), "ok") << r.output;
}

// ---- expected failures --------------------------------------------------------------------------

TEST_F(ReportTest, ExpectedFailuresSkipListedFailuresAndReportListedPasses) {
  write_file(dir_ / "xfail.yaml",
             "expected_failures:\n"
             "  - case: onnx/test_conv_tricky\n"
             "    reason: the corpus's expected output holds float32 FFT noise\n"
             "  - match: ^ops/Softmax_.*0$\n"
             "    reason: Softmax is not implemented yet\n"
             "  - match: ^ops/Conv_f16\n"
             "    reason: the float16 Conv kernel crashes on padding (bug 123)\n"
             "  - match: test_ad{2}\n"  // searched in the id, as --filter is
             "    reason: was broken in 1.3\n");
  auto list = load_expected_failures(dir_ / "xfail.yaml");
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  ASSERT_EQ(list->size(), 4u);
  Report r = sample_report();
  apply_expected_failures(r.cases, *list);
  const CaseResult& conv = r.cases[1];
  EXPECT_EQ(conv.outcome, Outcome::skipped);
  EXPECT_EQ(conv.reason, "expected failure: the corpus's expected output holds float32 FFT noise");
  EXPECT_EQ(conv.detail, "failed: mismatch\n" + kTricky);  // what it found stays visible
  EXPECT_EQ(conv.expected, "the corpus's expected output holds float32 FFT noise");
  EXPECT_EQ(r.cases[0].outcome, Outcome::passed);  // onnx/test_add: listed, passed
  EXPECT_EQ(r.cases[0].expected, "was broken in 1.3");
  EXPECT_EQ(r.cases[4].reason, kLongReason);  // a listed skip (ops/Softmax_axis0) stays as it was
  EXPECT_TRUE(r.cases[4].expected.empty());
  const CaseResult& crash = r.cases[2];  // ops/Conv_f16_pad, through the regex
  EXPECT_EQ(crash.outcome, Outcome::skipped);
  EXPECT_EQ(crash.reason, "expected failure: the float16 Conv kernel crashes on padding (bug 123)");
  EXPECT_EQ(crash.detail, "failed: crash\nsignal 11 (SIGSEGV) in the worker");
  EXPECT_EQ(crash.backtrace, sample_report().cases[2].backtrace);
  EXPECT_EQ(r.cases[7].outcome, Outcome::failed);  // api/control_chars: unlisted failures stay failures
  const Counts c = r.counts();
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.expected_failures, 3);  // test_conv_tricky, Conv_f16_pad and the sample's test_dft
  EXPECT_EQ(c.unexpected_passes, 2);  // test_add and the sample's test_relu
  EXPECT_EQ(c.passed + c.failed + c.skipped, static_cast<int>(r.cases.size()));
}

TEST_F(ReportTest, MalformedExpectedFailuresAreErrorsNamingFileAndEntry) {
  const std::pair<std::string, std::string> broken[] = {
      {"expected_failures:\n  - case: onnx/a\n", "entry 1 (line 2): has no 'reason:'"},
      {"expected_failures:\n  - case: onnx/a\n    reason: x\n  - case: onnx/b\n    reason: y\n    why: z\n", "entry 2 (line 4): unknown key 'why'"},
      {"expected_failures:\n  - match: onnx/(a\n    reason: x\n", "match 'onnx/(a' is not a valid regex"},
      {"expected_failures:\n  - case: test_a\n    reason: x\n", "not suite/name"},
      {"expected_failures:\n  - case: onnx/a\n    match: onnx/.*\n    reason: x\n", "exactly one of"},
      {"expected_failures:\n  case: onnx/a\n", "not a list"},
      {"expected_fialures:\n  - case: onnx/a\n    reason: x\n", "unknown key 'expected_fialures'"},
      {"expected_failures: [\n", "not valid YAML"},
  };
  const fs::path file = dir_ / "xfail.yaml";
  for (const auto& [text, why] : broken) {
    write_file(file, text);
    auto r = load_expected_failures(file);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(contains(r.status().message(), file.string())) << r.status().message();
    EXPECT_TRUE(contains(r.status().message(), why)) << r.status().message();
  }
  auto missing = load_expected_failures(dir_ / "none.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.status().message(), "none.yaml"));
}

// ---- merging shards -----------------------------------------------------------------------------

TEST_F(ReportTest, DisjointShardsMergeAndOverlappingOnesAreRefused) {
  const Report whole = sample_report();
  Report a = whole, b = whole;
  a.cases.assign(whole.cases.begin(), whole.cases.begin() + 4);
  a.info.suites = {"onnx", "ops"};
  a.info.seconds = 2;
  b.cases.assign(whole.cases.begin() + 4, whole.cases.end());
  b.info.suites = {"ops", "api", "cache"};
  b.info.seconds = 3.5;
  // Through the files, as `conformance merge DIR...` does.
  ASSERT_TRUE(write_report(a, dir_ / "a").ok());
  ASSERT_TRUE(write_report(b, dir_ / "b").ok());
  auto merged = merge_reports({*read_report(dir_ / "a"), *read_report(dir_ / "b")});
  ASSERT_TRUE(merged.ok()) << merged.status().to_string();
  ASSERT_EQ(merged->cases.size(), whole.cases.size());
  for (size_t i = 0; i < whole.cases.size(); ++i) expect_same_case(merged->cases[i], whole.cases[i]);
  EXPECT_EQ(merged->info.suites, (std::vector<std::string>{"onnx", "ops", "api", "cache"}));
  EXPECT_EQ(merged->info.seconds, 5.5);
  EXPECT_EQ(merged->info.shard, "merged from 2 reports");
  EXPECT_EQ(merged->info.device_id, "cpu:0");

  b.cases.push_back(whole.cases[2]);  // ops/Conv_f16_pad in both
  auto overlap = merge_reports({a, b});
  ASSERT_FALSE(overlap.ok());
  EXPECT_TRUE(contains(overlap.status().message(), "shards overlap: case 'ops/Conv_f16_pad' is in report 1 and report 2"))
      << overlap.status().message();

  b.cases.pop_back();
  b.info.device_id = "opencl:0";
  auto other_device = merge_reports({a, b});
  ASSERT_FALSE(other_device.ok());
  EXPECT_TRUE(contains(other_device.status().message(), "opencl:0")) << other_device.status().message();
  EXPECT_FALSE(merge_reports({}).ok());
}

// ---- write errors -------------------------------------------------------------------------------

TEST_F(ReportTest, WriteErrorsNameThePath) {
  write_file(dir_ / "a_file", "not a folder");
  const Status under_file = write_report(sample_report(), dir_ / "a_file" / "report");
  ASSERT_FALSE(under_file.ok());
  EXPECT_TRUE(contains(under_file.message(), (dir_ / "a_file" / "report").string())) << under_file.message();
  EXPECT_TRUE(contains(under_file.message(), "Not a directory")) << under_file.message();

  // One file that cannot be replaced (a folder is in its place): named, and the others still written.
  fs::create_directories(dir_ / "out" / "junit.xml" / "occupied");
  const Status blocked = write_report(sample_report(), dir_ / "out");
  ASSERT_FALSE(blocked.ok());
  EXPECT_TRUE(contains(blocked.message(), (dir_ / "out" / "junit.xml").string())) << blocked.message();
  EXPECT_TRUE(fs::is_regular_file(dir_ / "out" / "results.json"));
  EXPECT_TRUE(fs::is_regular_file(dir_ / "out" / "index.html"));
  for (const auto& entry : fs::directory_iterator(dir_ / "out"))
    EXPECT_FALSE(contains(entry.path().filename().string(), ".tmp")) << "temporary file left: " << entry.path();
}

}  // namespace
}  // namespace switchyard::conformance
