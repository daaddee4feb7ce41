// ONNX function expansion.
#include "function_inline.h"

#include <onnx/defs/schema.h>

#include <map>
#include <set>

#include "switchyard/reference/interpreter.h"

namespace switchyard::onnx_proto {

namespace {

std::string canonical(const std::string& d) { return d == "ai.onnx" ? std::string() : d; }

struct Expander {
  onnx::ModelProto& model;
  std::vector<std::string>* notes;
  std::map<std::string, int64_t> opsets;  // model imports
  std::map<std::pair<std::string, std::string>, const onnx::FunctionProto*> local;
  int counter = 0;

  const onnx::FunctionProto* find_function(const onnx::NodeProto& n, std::string* origin) {
    auto it = local.find({canonical(n.domain()), n.op_type()});
    if (it != local.end()) {
      *origin = "the model's function";
      return it->second;
    }
    auto op = opsets.find(canonical(n.domain()));
    if (op == opsets.end()) return nullptr;
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(op->second), n.domain());
    if (schema && schema->HasFunction()) {
      *origin = "ONNX's function body (opset " + std::to_string(schema->SinceVersion()) + ")";
      return schema->GetFunction();
    }
    return nullptr;
  }

  // Inlines `fn` for `call`; appends the body's nodes to `out`.
  Status inline_call(const onnx::NodeProto& call, const onnx::FunctionProto& fn, std::vector<onnx::NodeProto>& out, int depth) {
    if (depth > 8) return Status(StatusCode::unsupported, call.op_type() + ": functions nested too deeply to expand");
    const std::string prefix = "__fn" + std::to_string(counter++) + "_" + (call.name().empty() ? call.op_type() : call.name()) + "/";
    std::map<std::string, std::string> rename;  // formal -> actual
    for (int i = 0; i < fn.input_size(); ++i) rename[fn.input(i)] = i < call.input_size() ? call.input(i) : "";
    for (int i = 0; i < fn.output_size(); ++i) rename[fn.output(i)] = i < call.output_size() ? call.output(i) : prefix + fn.output(i);
    std::map<std::string, const onnx::AttributeProto*> attrs;
    for (const auto& a : call.attribute()) attrs[a.name()] = &a;
    // (ONNX 1.13 added attribute defaults to FunctionProto; Debian's 1.12 protobuf definitions
    // cannot read them, so an attribute the caller leaves unset is omitted.)
    // The function's own opset imports apply to its body (they must agree with the model's).
    for (const auto& imp : fn.opset_import()) {
      auto it = opsets.find(canonical(imp.domain()));
      if (it == opsets.end()) opsets[canonical(imp.domain())] = imp.version();
    }
    auto actual = [&](const std::string& name) -> std::string {
      if (name.empty()) return name;
      auto it = rename.find(name);
      if (it != rename.end()) return it->second;
      return prefix + name;
    };
    for (const auto& body : fn.node()) {
      onnx::NodeProto n = body;
      n.set_name(prefix + (body.name().empty() ? body.op_type() : body.name()));
      for (int i = 0; i < n.input_size(); ++i) n.set_input(i, actual(body.input(i)));
      for (int i = 0; i < n.output_size(); ++i) n.set_output(i, actual(body.output(i)));
      n.clear_attribute();
      for (const auto& a : body.attribute()) {
        if (a.ref_attr_name().empty()) {
          *n.add_attribute() = a;
          continue;
        }
        auto given = attrs.find(a.ref_attr_name());
        onnx::AttributeProto resolved;
        if (given != attrs.end()) resolved = *given->second;
        else continue;  // unset optional attribute: omitted
        resolved.set_name(a.name());
        resolved.clear_ref_attr_name();
        *n.add_attribute() = resolved;
      }
      SY_RETURN_IF_ERROR(expand_node(n, out, depth + 1));
    }
    return {};
  }

  Status expand_node(const onnx::NodeProto& n, std::vector<onnx::NodeProto>& out, int depth) {
    if (reference::KernelRegistry::instance().find(canonical(n.domain()), n.op_type())) {
      out.push_back(n);
      return {};
    }
    std::string origin;
    const onnx::FunctionProto* fn = find_function(n, &origin);
    if (!fn) {
      out.push_back(n);  // the importer reports it (unknown operator) or a device may support it
      return {};
    }
    if (notes) notes->push_back(n.op_type() + (n.name().empty() ? "" : " '" + n.name() + "'") + " expanded from " + origin);
    return inline_call(n, *fn, out, depth);
  }
};

}  // namespace

Status expand_functions(onnx::ModelProto& model, std::vector<std::string>* expanded) {
  Expander e{model, expanded, {}, {}, 0};
  for (const auto& op : model.opset_import()) e.opsets[canonical(op.domain())] = op.version();
  for (const auto& f : model.functions()) e.local[{canonical(f.domain()), f.name()}] = &f;
  bool needed = false;
  for (const auto& n : model.graph().node())
    needed = needed || !reference::KernelRegistry::instance().find(canonical(n.domain()), n.op_type());
  if (!needed) return {};
  std::vector<onnx::NodeProto> out;
  for (const auto& n : model.graph().node()) SY_RETURN_IF_ERROR(e.expand_node(n, out, 0));
  auto* nodes = model.mutable_graph()->mutable_node();
  nodes->Clear();
  for (auto& n : out) *nodes->Add() = std::move(n);
  // Domains the inlined bodies use must be imported by the model.
  for (const auto& [domain, version] : e.opsets) {
    bool present = false;
    for (const auto& op : model.opset_import()) present = present || canonical(op.domain()) == domain;
    if (!present) {
      auto* op = model.add_opset_import();
      op->set_domain(domain);
      op->set_version(version);
    }
  }
  return {};
}

}  // namespace switchyard::onnx_proto
