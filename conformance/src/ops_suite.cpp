// The `ops` suite: generated single-operator cases (ops_case.h lists the families), each run on the
// target and held to the reference interpreter's outputs; and their export in the node-test layout
// for cross-checking the reference against other runtimes (conformance/xcheck).
#include "switchyard/conformance/ops_suite.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "ops_build.h"
#include "ops_case.h"
#include "switchyard/conformance/check.h"
#include "switchyard/conformance/tolerance.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;

namespace {

// Every case of every family, named uniquely. Cheap: descriptions only, no values, no models.
Result<std::vector<ops::OpCase>> all_op_cases() {
  std::vector<ops::OpCase> cases;
  for (const auto& family : ops::families()) family.add(cases);
  std::set<std::string> names;
  for (const auto& c : cases)
    if (!names.insert(c.name).second) return Status(StatusCode::internal, "ops suite: two cases are named '" + c.name + "'");
  return cases;
}

CaseResult finish(const ops::OpCase& c, Outcome outcome, std::string reason, std::string detail) {
  CaseResult r;
  r.suite = "ops", r.name = c.name, r.op = c.op;
  r.outcome = outcome, r.reason = std::move(reason), r.detail = std::move(detail);
  return r;
}

// The reference's outputs for the case: what every target is held to.
struct Expected {
  ops::BuiltCase built;
  std::vector<Value> outputs;
};
Result<Expected> reference_outputs(const ops::OpCase& c, uint64_t seed, ElementType compute = ElementType::float32) {
  Expected e;
  SY_ASSIGN_OR_RETURN(e.built, ops::build_case(c, seed, compute));
  auto outputs = reference::Interpreter().run(e.built.model->graph, e.built.inputs);
  if (!outputs.ok()) return outputs.status().with_context("reference");
  e.outputs = std::move(outputs).value();
  return e;
}

// The case's model with its outputs' types and shapes declared (from the reference's values), as
// a real model declares them: devices that compile for static shapes then see them even where
// ONNX's shape inference cannot tell (axes given as inputs), so the case tests the operator.
Result<std::shared_ptr<Model>> typed_model(Expected& e) {
  onnx::ModelProto typed = e.built.proto;
  ops::set_output_types(typed, e.outputs);
  const std::string bytes = typed.SerializeAsString();
  return import_onnx_bytes(bytes.data(), bytes.size());
}

// Largest finite value of a float compute type (0 for float32 and wider: no limit to check).
double narrow_type_max(ElementType compute) {
  if (compute == ElementType::float16) return 65504.0;
  if (compute == ElementType::bfloat16) return 3.3895313892515355e38;
  return 0;
}

// A target that computes float32 in a narrower type cannot hold values past that type's range (the
// special class's largest magnitudes): such a case proves nothing either way. Empty when it can.
std::string beyond_compute_range(const Expected& e, ElementType compute) {
  const double limit = narrow_type_max(compute);
  if (limit == 0) return {};
  double biggest = 0;
  for (const auto& t : e.built.tensors)
    if (t.defined() && t.type() == ElementType::float32) biggest = std::max(biggest, max_abs(&t));
  for (const auto& v : e.outputs)
    if (v.kind == Value::Kind::tensor && v.tensor.type() == ElementType::float32) biggest = std::max(biggest, max_abs(&v.tensor));
  if (biggest <= limit) return {};
  std::ostringstream d;
  d << "largest finite |value| " << biggest << " > " << limit;
  return d.str();
}

CaseResult run_op_case(const ops::OpCase& c, uint64_t suite_seed, const Target& target, double rtol, double atol) {
  const uint64_t seed = ops::case_seed(suite_seed, c.name);
  auto expected = reference_outputs(c, seed, target.compute_type);
  if (!expected.ok()) {
    // The reference decides what the suite can hold a device to: what it does not run is skipped
    // with its reason; anything else is a broken case, which must fail, not hide.
    if (expected.status().code() == StatusCode::unsupported) return finish(c, Outcome::skipped, reason_key(expected.status().message()), "");
    return finish(c, Outcome::failed, "case does not run on the reference", expected.status().to_string());
  }
  const std::string beyond = beyond_compute_range(*expected, target.compute_type);
  if (!beyond.empty())
    return finish(c, Outcome::skipped, std::string(element_type_name(target.compute_type)) + " cannot hold the case's float32 values", beyond);
  const Tolerance tol = ops::case_tolerance(c, expected->built.tensors, expected->outputs, rtol, atol);
  auto model = typed_model(*expected);
  if (!model.ok()) return finish(c, Outcome::failed, "typed model does not import", model.status().to_string());
  // Where to find the values again: the seed (and, on a narrow-float target, that its float32
  // inputs got the value classes that type holds: make_input_tensors).
  std::string where = "seed " + std::to_string(seed);
  if (narrow_type_max(target.compute_type) > 0) where += " (" + std::string(element_type_name(target.compute_type)) + " value classes)";
  Check check = check_outputs(**model, expected->built.inputs, expected->outputs, target, tol.rtol, tol.atol, where);
  return finish(c, check.outcome, check.reason, check.detail);
}

}  // namespace

Result<std::vector<CaseSpec>> ops_cases(const SuiteConfig& config) {
  SY_ASSIGN_OR_RETURN(auto cases, all_op_cases());
  std::vector<CaseSpec> specs;
  specs.reserve(cases.size());
  for (auto& c : cases) {
    auto shared = std::make_shared<const ops::OpCase>(std::move(c));
    specs.push_back({"ops", shared->name, shared->op,
                     [shared, seed = config.seed, rtol = config.rtol, atol = config.atol](const Target& target) {
                       return run_op_case(*shared, seed, target, rtol, atol);
                     }});
  }
  return specs;
}

std::string ops_case_folder(const std::string& case_name) {
  std::string folder;
  for (char ch : case_name) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || std::string("_.,=+-").find(ch) != std::string::npos;
    folder += ch == '/' ? std::string("__") : std::string(1, keep ? ch : '_');
  }
  return folder;
}

namespace {

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return Status(StatusCode::io_error, "cannot write '" + path.string() + "'");
  return {};
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "1e999" : "-1e999";  // JSON has no infinity; this parses as one
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// One case's folder: the model with typed outputs, its inputs, the reference's outputs, case.json.
Status write_case(const fs::path& folder, const ops::OpCase& c, Expected& e, const Tolerance& tol) {
  std::error_code ec;
  fs::create_directories(folder / "test_data_set_0", ec);
  if (ec) return Status(StatusCode::io_error, "cannot create '" + folder.string() + "': " + ec.message());
  ops::set_output_types(e.built.proto, e.outputs);
  SY_RETURN_IF_ERROR(write_text(folder / "model.onnx", e.built.proto.SerializeAsString()));
  const auto& graph = e.built.model->graph;
  for (size_t i = 0; i < e.built.inputs.size(); ++i)
    SY_RETURN_IF_ERROR(save_tensor_pb(folder / "test_data_set_0" / ("input_" + std::to_string(i) + ".pb"), e.built.inputs[i].tensor,
                                      graph.value_name(graph.inputs[i])));
  for (size_t i = 0; i < e.outputs.size(); ++i) {
    if (e.outputs[i].kind != Value::Kind::tensor)
      return Status(StatusCode::unsupported, "output " + std::to_string(i) + " is not a tensor");
    SY_RETURN_IF_ERROR(save_tensor_pb(folder / "test_data_set_0" / ("output_" + std::to_string(i) + ".pb"), e.outputs[i].tensor,
                                      graph.value_name(graph.outputs[i])));
  }
  return write_text(folder / "case.json", "{\"name\": " + json_string(c.name) + ", \"op\": " + json_string(c.op) +
                                              ", \"rtol\": " + number(tol.rtol) + ", \"atol\": " + number(tol.atol) + "}\n");
}

}  // namespace

Status export_ops_cases(const SuiteConfig& config, const std::string& filter, const fs::path& dir) {
  SY_ASSIGN_OR_RETURN(auto cases, all_op_cases());
  std::regex pattern;
  try {
    pattern = std::regex(filter.empty() ? ".*" : filter, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Status(StatusCode::invalid_argument, "filter '" + filter + "': " + e.what());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(StatusCode::io_error, "cannot create '" + dir.string() + "': " + ec.message());
  std::string index = "folder\tname\top\trtol\tatol\n", refused = "name\top\twhy\n";
  std::set<std::string> folders;
  for (const auto& c : cases) {
    if (!std::regex_search("ops/" + c.name, pattern)) continue;
    const std::string folder = ops_case_folder(c.name);
    if (!folders.insert(folder).second) return Status(StatusCode::internal, "two cases share the folder '" + folder + "'");
    auto e = reference_outputs(c, ops::case_seed(config.seed, c.name));
    if (!e.ok()) {
      refused += c.name + "\t" + c.op + "\t" + reason_key(e.status().to_string()) + "\n";
      continue;
    }
    const Tolerance tol = ops::case_tolerance(c, e->built.tensors, e->outputs, config.rtol, config.atol);
    Status written = write_case(dir / folder, c, *e, tol);
    if (written.code() == StatusCode::unsupported) {
      refused += c.name + "\t" + c.op + "\t" + written.message() + "\n";
      fs::remove_all(dir / folder, ec);
      continue;
    }
    SY_RETURN_IF_ERROR(written);
    index += folder + "\t" + c.name + "\t" + c.op + "\t" + number(tol.rtol) + "\t" + number(tol.atol) + "\n";
  }
  SY_RETURN_IF_ERROR(write_text(dir / "index.tsv", index));
  return write_text(dir / "not_exported.tsv", refused);
}

}  // namespace switchyard::conformance
