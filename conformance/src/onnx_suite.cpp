// The `onnx` suite: the ONNX node-test corpus, each case's data sets run on the target and held to
// the corpus's expected outputs.
#include "switchyard/conformance/onnx_suite.h"

#include <algorithm>

#include "switchyard/conformance/check.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;

Result<std::vector<fs::path>> list_corpus_cases(const fs::path& tests_dir) {
  std::error_code ec;
  if (!fs::is_directory(tests_dir, ec)) return Status(StatusCode::not_found, "test folder '" + tests_dir.string() + "' not found");
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(tests_dir, ec))
    if (entry.is_directory() && fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path());
  if (cases.empty())
    return Status(StatusCode::not_found, "test folder '" + tests_dir.string() +
                                             "' holds no test cases (folders with a model.onnx and test_data_set_*)");
  std::sort(cases.begin(), cases.end());
  return cases;
}

namespace {

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

namespace {

// The operator(s) a corpus case exercises, for the report's matrix: its nodes' op types, in order,
// without repeats ("Conv", "Sub+Relu").
std::string case_operators(const Model& model) {
  std::vector<std::string> ops;
  for (const auto& node : model.graph.nodes)
    if (std::find(ops.begin(), ops.end(), node.op_type) == ops.end()) ops.push_back(node.op_type);
  std::string joined;
  for (const auto& op : ops) joined += (joined.empty() ? "" : "+") + op;
  return joined;
}

// A data set's values; a value the importer does not support yet skips the case.
Result<std::vector<Value>> load_set_values(const std::vector<fs::path>& files, const Model& model, const std::vector<int32_t>& ids) {
  std::vector<Value> values;
  for (size_t i = 0; i < files.size(); ++i) {
    auto v = load_value_pb(files[i], i < ids.size() ? kind_hint_for(model, ids[i]) : "");
    if (!v.ok()) return v.status().with_context(files[i].parent_path().filename().string() + "/" + files[i].filename().string());
    values.push_back(std::move(v).value());
  }
  return values;
}

std::vector<fs::path> data_sets(const fs::path& case_dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(case_dir, ec))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

}  // namespace

CaseResult run_corpus_case(const fs::path& case_dir, const Target& target, double rtol, double atol) {
  CaseResult r;
  r.name = case_dir.filename().string();
  auto done = [&](Outcome o, std::string reason, std::string detail = {}) {
    r.outcome = o, r.reason = std::move(reason), r.detail = std::move(detail);
    return r;
  };
  auto model = import_onnx_file(case_dir / "model.onnx");
  if (!model.ok()) {
    if (model.status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(model.status().message()));
    return done(Outcome::failed, "import failed", model.status().to_string());
  }
  const Model& m = **model;
  r.op = case_operators(m);
  auto sets = data_sets(case_dir);
  if (sets.empty()) return done(Outcome::skipped, "no test data sets");
  Check last;
  for (const auto& set : sets) {
    const std::string set_name = set.filename().string();
    auto in_files = data_files(set, "input_");
    auto out_files = data_files(set, "output_");
    if (in_files.size() != m.graph.inputs.size())
      return done(Outcome::failed, "input count", set_name + ": " + std::to_string(in_files.size()) + " input files for " +
                                                      std::to_string(m.graph.inputs.size()) + " graph inputs");
    auto inputs = load_set_values(in_files, m, m.graph.inputs);
    auto expected = load_set_values(out_files, m, m.graph.outputs);
    for (const auto* loaded : {&inputs, &expected})
      if (!loaded->ok()) {
        if (loaded->status().code() == StatusCode::unsupported) return done(Outcome::skipped, reason_key(loaded->status().message()));
        return done(Outcome::failed, loaded == &inputs ? "bad input file" : "bad output file", loaded->status().to_string());
      }
    Check c = check_outputs(m, *inputs, *expected, target, rtol, atol, set_name);
    if (c.outcome == Outcome::failed || (c.outcome == Outcome::skipped && c.detail.empty())) return done(c.outcome, c.reason, c.detail);
    if (last.outcome == Outcome::passed) last = c;  // keeps the first "cannot resolve" skip, if any
  }
  return done(last.outcome, last.reason, last.detail);
}

Result<std::vector<CaseSpec>> onnx_cases(const SuiteConfig& config) {
  if (config.tests_dir.empty())
    return Status(StatusCode::invalid_argument, "the onnx suite needs the ONNX node-test corpus: --tests DIR (e.g. ../shared/onnx-backend/node)");
  SY_ASSIGN_OR_RETURN(auto dirs, list_corpus_cases(config.tests_dir));
  std::vector<CaseSpec> cases;
  for (const auto& dir : dirs)
    cases.push_back({"onnx", dir.filename().string(), "", [dir, rtol = config.rtol, atol = config.atol](const Target& target) {
                       return run_corpus_case(dir, target, rtol, atol);
                     }});
  return cases;
}

}  // namespace switchyard::conformance
