// ONNX node-test suite runner, with each case optionally isolated in a child process.
#include "switchyard/conformance/onnx_suite.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <regex>
#include <sstream>

#include "switchyard/common/json.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/conformance/tolerance.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::passed: return "passed";
    case Outcome::failed: return "failed";
    case Outcome::skipped: return "skipped";
  }
  return "failed";
}

Result<std::vector<fs::path>> list_cases(const SuiteOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(options.tests_dir, ec))
    return Status(StatusCode::not_found, "test folder '" + options.tests_dir.string() + "' not found");
  std::optional<std::regex> re;
  if (!options.filter.empty()) {
    try {
      re.emplace(options.filter);
    } catch (const std::regex_error& e) {
      return Status(StatusCode::invalid_argument, "bad --filter regex '" + options.filter + "': " + e.what());
    }
  }
  std::vector<fs::path> cases;
  size_t found = 0;
  for (const auto& entry : fs::directory_iterator(options.tests_dir, ec)) {
    if (!entry.is_directory()) continue;
    if (!fs::exists(entry.path() / "model.onnx")) continue;
    ++found;
    std::string name = entry.path().filename().string();
    if (re && !std::regex_search(name, *re)) continue;
    cases.push_back(entry.path());
  }
  if (found == 0)
    return Status(StatusCode::not_found, "test folder '" + options.tests_dir.string() +
                                             "' holds no test cases (folders with a model.onnx and test_data_set_*)");
  std::sort(cases.begin(), cases.end());
  return cases;
}

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(7);
  s << v;
  return s.str();
}

std::string compare_tensors(const Tensor& e, const Tensor& g, double rtol, double atol) {
  if (e.type() != g.type())
    return "element type: expected " + std::string(element_type_name(e.type())) + ", got " + std::string(element_type_name(g.type()));
  if (e.shape() != g.shape()) return "shape: expected " + shape_to_string(e.shape()) + ", got " + shape_to_string(g.shape());
  if (e.type() == ElementType::string) {
    for (int64_t i = 0; i < e.numel(); ++i)
      if (e.strings()[static_cast<size_t>(i)] != g.strings()[static_cast<size_t>(i)])
        return "[" + std::to_string(i) + "]: expected \"" + e.strings()[static_cast<size_t>(i)] + "\", got \"" +
               g.strings()[static_cast<size_t>(i)] + "\"";
    return {};
  }
  const bool floating = e.type() == ElementType::float32 || e.type() == ElementType::float64 ||
                        e.type() == ElementType::float16 || e.type() == ElementType::bfloat16;
  if (floating) {
    int64_t first = -1, worst = -1, count = 0;
    double worst_excess = 0;
    for (int64_t i = 0; i < e.numel(); ++i) {
      double ev = reference::get_double(e, i), gv = reference::get_double(g, i);
      bool ok;
      if (std::isnan(ev) || std::isnan(gv)) ok = std::isnan(ev) && std::isnan(gv);
      else if (std::isinf(ev) || std::isinf(gv)) ok = ev == gv;
      else ok = std::fabs(gv - ev) <= atol + rtol * std::fabs(ev);
      if (!ok) {
        ++count;
        if (first < 0) first = i;
        double excess = std::isfinite(ev) && std::isfinite(gv) ? std::fabs(gv - ev) - (atol + rtol * std::fabs(ev)) : INFINITY;
        if (worst < 0 || excess > worst_excess) {
          worst = i;
          worst_excess = excess;
        }
      }
    }
    if (first < 0) return {};
    double ev = reference::get_double(e, worst), gv = reference::get_double(g, worst);
    return std::to_string(count) + " of " + std::to_string(e.numel()) + " values differ; worst at [" + std::to_string(worst) +
           "]: expected " + fmt(ev) + ", got " + fmt(gv) + ", |diff| " + fmt(std::fabs(gv - ev)) + " > tol " +
           fmt(atol + rtol * std::fabs(ev));
  }
  if (e.type() == ElementType::complex64 || e.type() == ElementType::complex128) {
    const size_t n = e.type() == ElementType::complex64 ? static_cast<size_t>(e.numel()) * 2 : static_cast<size_t>(e.numel()) * 2;
    for (size_t i = 0; i < n; ++i) {
      double ev = e.type() == ElementType::complex64 ? e.data<float>()[i] : e.data<double>()[i];
      double gv = e.type() == ElementType::complex64 ? g.data<float>()[i] : g.data<double>()[i];
      if (!(std::fabs(gv - ev) <= atol + rtol * std::fabs(ev)) && !(std::isnan(ev) && std::isnan(gv)))
        return "[" + std::to_string(i / 2) + "]: expected " + fmt(ev) + ", got " + fmt(gv);
    }
    return {};
  }
  if (is_signed_integer(e.type()) || is_unsigned_integer(e.type()) || e.type() == ElementType::boolean) {
    for (int64_t i = 0; i < e.numel(); ++i) {
      int64_t ev = reference::get_int64(e, i), gv = reference::get_int64(g, i);
      if (ev != gv) return "[" + std::to_string(i) + "]: expected " + std::to_string(ev) + ", got " + std::to_string(gv);
    }
    return {};
  }
  // float8 / float4 and other exotic types: bit-exact, except NaN encodings.
  if (e.byte_size() != g.byte_size() || std::memcmp(e.raw(), g.raw(), e.byte_size()) != 0) {
    for (size_t i = 0; i < e.byte_size(); ++i)
      if (static_cast<const uint8_t*>(e.raw())[i] != static_cast<const uint8_t*>(g.raw())[i])
        return "byte " + std::to_string(i) + ": expected 0x" + fmt(static_cast<const uint8_t*>(e.raw())[i]) + ", got " +
               fmt(static_cast<const uint8_t*>(g.raw())[i]);
  }
  return {};
}

}  // namespace

std::string compare_values(const Value& expected, const Value& got, double rtol, double atol) {
  if (expected.kind != got.kind) {
    auto k = [](const Value& v) {
      return v.kind == Value::Kind::none ? "empty optional" : v.kind == Value::Kind::tensor ? "tensor" : "sequence";
    };
    return std::string("value kind: expected ") + k(expected) + ", got " + k(got);
  }
  if (expected.kind == Value::Kind::tensor) return compare_tensors(expected.tensor, got.tensor, rtol, atol);
  if (expected.kind == Value::Kind::sequence) {
    if (expected.sequence.size() != got.sequence.size())
      return "sequence length: expected " + std::to_string(expected.sequence.size()) + ", got " + std::to_string(got.sequence.size());
    for (size_t i = 0; i < expected.sequence.size(); ++i) {
      std::string d = compare_tensors(expected.sequence[i], got.sequence[i], rtol, atol);
      if (!d.empty()) return "sequence item " + std::to_string(i) + ": " + d;
    }
  }
  return {};
}

namespace {

// Groups skip messages: drops the node prefix so "Foo 'n1': X" and "Foo 'n2': X" tally together.
std::string reason_key(const std::string& message) {
  static const std::regex node_prefix("^[A-Za-z0-9_.:]+( '[^']*')?: ");
  std::string m = std::regex_replace(message, node_prefix, "", std::regex_constants::format_first_only);
  for (auto& c : m)
    if (c == '\n') c = ' ';
  while (m.find("  ") != std::string::npos) m.replace(m.find("  "), 2, " ");
  if (m.size() > 160) m = m.substr(0, 160);
  return m;
}

std::vector<fs::path> data_files(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".pb") continue;
    try {
      found.emplace_back(std::stoi(name.substr(prefix.size())), entry.path());
    } catch (const std::exception&) {
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::string kind_hint_for(const Model& model, int32_t value_id) {
  const auto& vt = model.graph.values[static_cast<size_t>(value_id)].type;
  switch (vt.kind) {
    case ValueType::Kind::tensor: return "tensor";
    case ValueType::Kind::sequence: return "sequence";
    case ValueType::Kind::optional: return "optional";
    default: return "";
  }
}

}  // namespace

CaseResult run_case(const fs::path& case_dir, const Target& target, const SuiteOptions& options) {
  CaseResult r;
  r.name = case_dir.filename().string();
  auto start = std::chrono::steady_clock::now();
  auto done = [&](Outcome o, std::string reason, std::string detail = {}) {
    r.outcome = o;
    r.reason = std::move(reason);
    r.detail = std::move(detail);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  };
  auto model = import_onnx_file(case_dir / "model.onnx");
  if (!model.ok()) {
    if (model.status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(model.status().message()));
    return done(Outcome::failed, "import failed", model.status().to_string());
  }
  const Model& m = **model;
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(case_dir, ec))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) return done(Outcome::skipped, "no test data sets");
  std::string unresolved;  // why a narrow-float comparison could not tell right from wrong
  for (const auto& set : sets) {
    const std::string set_name = set.filename().string();
    auto in_files = data_files(set, "input_");
    auto out_files = data_files(set, "output_");
    if (in_files.size() != m.graph.inputs.size())
      return done(Outcome::failed, "input count", set_name + ": " + std::to_string(in_files.size()) + " input files for " +
                                                      std::to_string(m.graph.inputs.size()) + " graph inputs");
    std::vector<Value> inputs;
    for (size_t i = 0; i < in_files.size(); ++i) {
      auto v = load_value_pb(in_files[i], kind_hint_for(m, m.graph.inputs[i]));
      if (!v.ok()) {
        if (v.status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(v.status().message()));
        return done(Outcome::failed, "bad input file", v.status().to_string());
      }
      inputs.push_back(std::move(v).value());
    }
    auto outputs = target(m, inputs);
    if (!outputs.ok()) {
      if (outputs.status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(outputs.status().message()));
      return done(Outcome::failed, "run failed", outputs.status().to_string());
    }
    if (outputs->size() != out_files.size())
      return done(Outcome::failed, "output count", set_name + ": got " + std::to_string(outputs->size()) + " outputs, expected " +
                                                       std::to_string(out_files.size()));
    // Narrow-float targets: per-output tolerances derived from this case's computation.
    std::vector<Tolerance> derived;
    if (target.compute_type != ElementType::float32 && is_floating(target.compute_type)) {
      auto d = derive_case_tolerances(m.graph, inputs, target.compute_type);
      if (!d.ok()) return done(Outcome::failed, "tolerance", set_name + ": cannot derive the " + std::string(element_type_name(target.compute_type)) +
                                                                 " tolerance: " + d.status().to_string());
      derived = std::move(d).value();
    }
    for (size_t i = 0; i < out_files.size(); ++i) {
      auto expected = load_value_pb(out_files[i], kind_hint_for(m, m.graph.outputs[i]));
      if (!expected.ok()) {
        if (expected.status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(expected.status().message()));
        return done(Outcome::failed, "bad output file", expected.status().to_string());
      }
      double rtol = options.rtol, atol = options.atol;
      if (i < derived.size()) rtol = std::max(rtol, derived[i].rtol), atol = std::max(atol, derived[i].atol);
      std::string diff = compare_values(*expected, (*outputs)[i], rtol, atol);
      if (!diff.empty())
        return done(Outcome::failed, "mismatch",
                    set_name + " output " + std::to_string(i) + " '" + m.graph.value_name(m.graph.outputs[i]) + "': " + diff);
      // A derived tolerance as large as the result itself would pass an all-zero output: the
      // compute type cannot resolve this case, so it proves nothing either way.
      if (i < derived.size() && expected->kind == Value::Kind::tensor && is_floating(expected->tensor.type()) && unresolved.empty()) {
        const double biggest = max_abs(&expected->tensor);
        if (biggest > 0 && derived[i].atol >= biggest) {
          std::ostringstream d;
          d << set_name << " output " << i << " '" << m.graph.value_name(m.graph.outputs[i]) << "': derived atol " << derived[i].atol
            << " >= largest |expected| " << biggest;
          unresolved = d.str();
        }
      }
    }
  }
  if (!unresolved.empty())
    return done(Outcome::skipped, std::string(element_type_name(target.compute_type)) + " cannot resolve the result (tolerance >= result)", unresolved);
  return done(Outcome::passed, "");
}

namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string encode_result(const CaseResult& r) {
  return std::to_string(static_cast<int>(r.outcome)) + '\0' + r.reason + '\0' + r.detail + '\0';
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string name;
  std::string buffer;
  std::chrono::steady_clock::time_point start;
};

CaseResult finish_child(Child& c, bool timed_out, double timeout) {
  CaseResult r;
  r.name = c.name;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
  if (timed_out) {
    ::kill(c.pid, SIGKILL);
    int st = 0;
    ::waitpid(c.pid, &st, 0);
    ::close(c.fd);
    r.outcome = Outcome::failed;
    r.reason = "timeout";
    r.detail = "did not finish within " + fmt(timeout) + " s";
    return r;
  }
  int st = 0;
  ::waitpid(c.pid, &st, 0);
  ::close(c.fd);
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < c.buffer.size()) {
    auto z = c.buffer.find('\0', pos);
    if (z == std::string::npos) break;
    parts.push_back(c.buffer.substr(pos, z - pos));
    pos = z + 1;
  }
  if (parts.size() == 3 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    r.outcome = static_cast<Outcome>(std::stoi(parts[0]));
    r.reason = parts[1];
    r.detail = parts[2];
    return r;
  }
  r.outcome = Outcome::failed;
  r.reason = "crash";
  if (WIFSIGNALED(st)) r.detail = std::string("the case process died with signal ") + std::to_string(WTERMSIG(st)) + " (" + strsignal(WTERMSIG(st)) + ")";
  else r.detail = "the case process exited with status " + std::to_string(WEXITSTATUS(st)) + " without a result";
  return r;
}

}  // namespace

Result<SuiteReport> run_suite(const SuiteOptions& options, const TargetFactory& factory,
                              const std::function<void(const CaseResult&)>& progress) {
  SY_ASSIGN_OR_RETURN(auto cases, list_cases(options));
  SuiteReport report;
  auto start = std::chrono::steady_clock::now();
  auto record = [&](CaseResult r) {
    if (r.outcome == Outcome::passed) ++report.passed;
    else if (r.outcome == Outcome::failed) ++report.failed, ++report.fail_reasons[r.reason];
    else ++report.skipped, ++report.skip_reasons[r.reason];
    if (progress) progress(r);
    report.cases.push_back(std::move(r));
  };

  if (!options.isolate) {
    SY_ASSIGN_OR_RETURN(Target target, factory());
    for (const auto& c : cases) record(run_case(c, target, options));
  } else {
    const int jobs = std::max(1, options.jobs);
    size_t next = 0;
    std::vector<Child> running;
    while (next < cases.size() || !running.empty()) {
      while (next < cases.size() && static_cast<int>(running.size()) < jobs) {
        int fds[2];
        if (::pipe(fds) != 0) return Status(StatusCode::internal, "pipe() failed");
        std::fflush(stdout);
        std::fflush(stderr);
        pid_t pid = ::fork();
        if (pid < 0) return Status(StatusCode::internal, "fork() failed");
        if (pid == 0) {
          ::close(fds[0]);
          CaseResult r;
          auto target = factory();
          if (!target.ok()) {
            r.name = cases[next].filename().string();
            r.outcome = target.status().code() == StatusCode::unsupported ? Outcome::skipped : Outcome::failed;
            r.reason = "target unavailable";
            r.detail = target.status().to_string();
          } else {
            r = run_case(cases[next], *target, options);
          }
          write_all(fds[1], encode_result(r));
          ::close(fds[1]);
          std::fflush(stdout);
          ::_exit(0);
        }
        ::close(fds[1]);
        Child c;
        c.pid = pid;
        c.fd = fds[0];
        c.name = cases[next].filename().string();
        c.start = std::chrono::steady_clock::now();
        running.push_back(std::move(c));
        ++next;
      }
      std::vector<pollfd> pfds;
      for (const auto& c : running) pfds.push_back({c.fd, POLLIN, 0});
      ::poll(pfds.data(), pfds.size(), 200);
      for (size_t i = running.size(); i-- > 0;) {
        Child& c = running[i];
        bool closed = false;
        if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          char buf[4096];
          ssize_t n = ::read(c.fd, buf, sizeof buf);
          if (n > 0) c.buffer.append(buf, static_cast<size_t>(n));
          else closed = true;
        }
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
        bool timed_out = !closed && elapsed > options.case_timeout_s;
        if (closed || timed_out) {
          record(finish_child(c, timed_out, options.case_timeout_s));
          running.erase(running.begin() + static_cast<long>(i));
        }
      }
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string report_to_json(const SuiteReport& report) {
  std::string out = "{\n  \"summary\": {\"passed\": " + std::to_string(report.passed) + ", \"failed\": " +
                    std::to_string(report.failed) + ", \"skipped\": " + std::to_string(report.skipped) +
                    ", \"seconds\": " + json::number(report.seconds) + "},\n  \"skip_reasons\": {";
  bool first = true;
  for (const auto& [reason, n] : report.skip_reasons) {
    out += std::string(first ? "" : ",") + "\n    " + json::quote(reason) + ": " + std::to_string(n);
    first = false;
  }
  out += "\n  },\n  \"fail_reasons\": {";
  first = true;
  for (const auto& [reason, n] : report.fail_reasons) {
    out += std::string(first ? "" : ",") + "\n    " + json::quote(reason) + ": " + std::to_string(n);
    first = false;
  }
  out += "\n  },\n  \"cases\": [";
  first = true;
  for (const auto& c : report.cases) {
    out += std::string(first ? "" : ",") + "\n    {\"name\": " + json::quote(c.name) + ", \"outcome\": \"" + outcome_name(c.outcome) +
           "\", \"reason\": " + json::quote(c.reason) + ", \"detail\": " + json::quote(c.detail) +
           ", \"seconds\": " + json::number(c.seconds) + "}";
    first = false;
  }
  return out + "\n  ]\n}\n";
}

}  // namespace switchyard::conformance
