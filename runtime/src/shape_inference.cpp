// Shape inference on the IR through ONNX's InferShapes.
#include "switchyard/runtime/shape_inference.h"

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <sstream>

#include "onnx_proto.h"

namespace switchyard {

namespace {

// Constants up to this many elements are exported with their values (shape computations
// need them); larger ones only with their type.
constexpr int64_t kMaxExportedElements = 1024;

void export_type(const ValueType& vt, onnx::TypeProto* tp) {
  switch (vt.kind) {
    case ValueType::Kind::tensor: {
      auto* tt = tp->mutable_tensor_type();
      tt->set_elem_type(static_cast<int32_t>(vt.tensor.elem));
      if (vt.tensor.shape) {
        auto* shape = tt->mutable_shape();
        for (const auto& d : *vt.tensor.shape) {
          auto* dim = shape->add_dim();
          if (d.is_static()) dim->set_dim_value(d.value);
          else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
        }
      }
      break;
    }
    case ValueType::Kind::sequence:
      if (vt.element) export_type(*vt.element, tp->mutable_sequence_type()->mutable_elem_type());
      break;
    case ValueType::Kind::optional:
      if (vt.element) export_type(*vt.element, tp->mutable_optional_type()->mutable_elem_type());
      break;
    default:
      break;
  }
}

bool export_graph(const Graph& g, onnx::GraphProto* gp, bool top_level);

bool export_attribute(const Attribute& a, onnx::AttributeProto* ap) {
  ap->set_name(a.name);
  switch (a.type) {
    case Attribute::Type::floating: ap->set_type(onnx::AttributeProto::FLOAT); ap->set_f(a.f); return true;
    case Attribute::Type::integer: ap->set_type(onnx::AttributeProto::INT); ap->set_i(a.i); return true;
    case Attribute::Type::string: ap->set_type(onnx::AttributeProto::STRING); ap->set_s(a.s); return true;
    case Attribute::Type::floats:
      ap->set_type(onnx::AttributeProto::FLOATS);
      for (float f : a.floats) ap->add_floats(f);
      return true;
    case Attribute::Type::ints:
      ap->set_type(onnx::AttributeProto::INTS);
      for (int64_t i : a.ints) ap->add_ints(i);
      return true;
    case Attribute::Type::strings:
      ap->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& s : a.strings) ap->add_strings(s);
      return true;
    case Attribute::Type::tensor:
      ap->set_type(onnx::AttributeProto::TENSOR);
      onnx_proto::tensor_to_proto(a.t, ap->mutable_t());
      return true;
    case Attribute::Type::tensors:
      ap->set_type(onnx::AttributeProto::TENSORS);
      for (const auto& t : a.tensors) onnx_proto::tensor_to_proto(t, ap->add_tensors());
      return true;
    case Attribute::Type::graph:
      ap->set_type(onnx::AttributeProto::GRAPH);
      return export_graph(*a.g, ap->mutable_g(), false);
    case Attribute::Type::graphs:
      ap->set_type(onnx::AttributeProto::GRAPHS);
      for (const auto& sg : a.graphs)
        if (!export_graph(*sg, ap->add_graphs(), false)) return false;
      return true;
    case Attribute::Type::type_proto:
      ap->set_type(onnx::AttributeProto::TYPE_PROTO);
      if (!a.type_protos.empty()) export_type(a.type_protos[0], ap->mutable_tp());
      return true;
    case Attribute::Type::type_protos:
      ap->set_type(onnx::AttributeProto::TYPE_PROTOS);
      for (const auto& t : a.type_protos) export_type(t, ap->add_type_protos());
      return true;
    default:
      return false;
  }
}

bool export_graph(const Graph& g, onnx::GraphProto* gp, bool top_level) {
  gp->set_name(g.name.empty() ? "g" : g.name);
  for (const auto& [id, t] : g.initializers) {
    if (t.numel() <= kMaxExportedElements && t.type() != ElementType::string) {
      auto* init = gp->add_initializer();
      onnx_proto::tensor_to_proto(t, init);
      init->set_name(g.value_name(id));
    } else if (top_level) {
      auto* vi = gp->add_input();
      vi->set_name(g.value_name(id));
      ValueType vt;
      vt.tensor.elem = t.type();
      vt.tensor.shape.emplace();
      for (int64_t d : t.shape()) vt.tensor.shape->push_back({d, {}});
      export_type(vt, vi->mutable_type());
    } else {
      auto* init = gp->add_initializer();
      onnx_proto::tensor_to_proto(t, init);
      init->set_name(g.value_name(id));
    }
  }
  for (int32_t id : g.inputs) {
    auto* vi = gp->add_input();
    vi->set_name(g.value_name(id));
    export_type(g.values[static_cast<size_t>(id)].type, vi->mutable_type());
  }
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    np->set_domain(n.domain);
    for (int32_t v : n.inputs) np->add_input(v >= 0 ? g.value_name(v) : "");
    for (int32_t v : n.outputs) np->add_output(v >= 0 ? g.value_name(v) : "");
    for (const auto& a : n.attributes)
      if (!export_attribute(a, np->add_attribute())) return false;
  }
  for (int32_t id : g.outputs) {
    auto* vi = gp->add_output();
    vi->set_name(g.value_name(id));
    export_type(g.values[static_cast<size_t>(id)].type, vi->mutable_type());
  }
  return true;
}

bool more_specific(const ValueType& now, const ValueType& inferred) {
  if (inferred.kind != ValueType::Kind::tensor) return now.kind == ValueType::Kind::unknown && inferred.kind != ValueType::Kind::unknown;
  if (now.kind == ValueType::Kind::unknown) return true;
  if (now.kind != ValueType::Kind::tensor) return false;
  if (now.tensor.elem == ElementType::undefined && inferred.tensor.elem != ElementType::undefined) return true;
  if (!inferred.tensor.shape) return false;
  if (!now.tensor.shape) return true;
  if (now.tensor.shape->size() != inferred.tensor.shape->size()) return false;
  for (size_t i = 0; i < now.tensor.shape->size(); ++i)
    if (!(*now.tensor.shape)[i].is_static() && (*inferred.tensor.shape)[i].is_static()) return true;
  return false;
}

}  // namespace

Result<int> infer_shapes(Graph& graph) {
  onnx::ModelProto mp;
  mp.set_ir_version(8);
  for (const auto& o : graph.opsets) {
    auto* op = mp.add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
  }
  if (!export_graph(graph, mp.mutable_graph(), true)) return 0;
  try {
    onnx::ShapeInferenceOptions opts(false, 0, true);
    onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception&) {
    return 0;  // ONNX could not infer this graph (newer operators): keep what we have
  }
  int improved = 0;
  auto apply = [&](const onnx::ValueInfoProto& vi) {
    int32_t id = graph.find_value(vi.name());
    if (id < 0 || graph.is_initializer(id)) return;
    auto inferred = onnx_proto::value_type_from_proto(vi.type(), vi.name());
    if (!inferred.ok()) return;
    auto& now = graph.values[static_cast<size_t>(id)].type;
    if (more_specific(now, *inferred)) {
      now = *inferred;
      ++improved;
    }
  };
  for (const auto& vi : mp.graph().value_info()) apply(vi);
  for (const auto& vi : mp.graph().output()) apply(vi);
  return improved;
}

Status specialize_inputs(Graph& graph, const std::map<std::string, Shape>& shapes) {
  for (const auto& [name, shape] : shapes) {
    int32_t id = -1;
    for (int32_t in : graph.inputs)
      if (graph.value_name(in) == name) id = in;
    if (id < 0) {
      std::string known;
      for (int32_t in : graph.inputs) known += (known.empty() ? "" : ", ") + graph.value_name(in);
      return Status(StatusCode::invalid_argument, "input shape for '" + name + "': the model has no such input (inputs: " + known + ")");
    }
    auto& vt = graph.values[static_cast<size_t>(id)].type;
    if (vt.kind != ValueType::Kind::tensor) return Status(StatusCode::invalid_argument, "input '" + name + "' is not a tensor");
    if (vt.tensor.shape) {
      if (vt.tensor.shape->size() != shape.size())
        return Status(StatusCode::invalid_argument, "input '" + name + "' has rank " + std::to_string(vt.tensor.shape->size()) +
                                                        ", the given shape " + shape_to_string(shape) + " has rank " + std::to_string(shape.size()));
      for (size_t i = 0; i < shape.size(); ++i)
        if ((*vt.tensor.shape)[i].is_static() && (*vt.tensor.shape)[i].value != shape[i])
          return Status(StatusCode::invalid_argument, "input '" + name + "' is declared " + vt.tensor.to_string() + "; dim " +
                                                          std::to_string(i) + " cannot be " + std::to_string(shape[i]));
    }
    for (int64_t d : shape)
      if (d < 0) return Status(StatusCode::invalid_argument, "input '" + name + "': negative dim in " + shape_to_string(shape));
    vt.tensor.shape.emplace();
    for (int64_t d : shape) vt.tensor.shape->push_back({d, {}});
  }
  return {};
}

namespace {
bool fully_static(const ValueType& vt) {
  if (vt.kind != ValueType::Kind::tensor || !vt.tensor.shape) return false;
  for (const auto& d : *vt.tensor.shape)
    if (!d.is_static()) return false;
  return true;
}
}  // namespace

std::map<std::string, Shape> input_shapes_of(const Graph& graph, const std::vector<Value>& inputs,
                                             const std::map<std::string, Shape>& given) {
  std::map<std::string, Shape> out;
  for (size_t i = 0; i < graph.inputs.size() && i < inputs.size(); ++i) {
    const ValueInfo& vi = graph.values[static_cast<size_t>(graph.inputs[i])];
    if (given.count(vi.name) || vi.type.kind != ValueType::Kind::tensor || fully_static(vi.type)) continue;
    if (inputs[i].kind != Value::Kind::tensor) continue;
    out[vi.name] = inputs[i].tensor.shape();
  }
  return out;
}

std::map<std::string, Shape> default_input_shapes(const Graph& graph, const std::map<std::string, Shape>& given, std::string* note,
                                                  std::string* unresolved) {
  std::map<std::string, Shape> out;
  std::string text, open;
  for (int32_t id : graph.inputs) {
    const ValueInfo& vi = graph.values[static_cast<size_t>(id)];
    if (given.count(vi.name) || vi.type.kind != ValueType::Kind::tensor || !vi.type.tensor.shape || fully_static(vi.type)) continue;
    bool beyond_batch = false;
    for (size_t k = 1; k < vi.type.tensor.shape->size(); ++k) beyond_batch = beyond_batch || !(*vi.type.tensor.shape)[k].is_static();
    if (beyond_batch) {
      open += (open.empty() ? "" : "; ") + vi.name + ": " + vi.type.tensor.to_string();
      continue;
    }
    Shape shape;
    std::string assumed;
    for (size_t k = 0; k < vi.type.tensor.shape->size(); ++k) {
      const Dim& d = (*vi.type.tensor.shape)[k];
      shape.push_back(d.is_static() ? d.value : 1);
      if (!d.is_static()) assumed += (assumed.empty() ? "" : ", ") + (d.symbol.empty() ? "dim " + std::to_string(k) : d.symbol) + " = 1";
    }
    std::string dims;
    for (int64_t d : shape) dims += (dims.empty() ? "" : ",") + std::to_string(d);
    text += (text.empty() ? "" : "; ") + vi.name + "=" + dims + " (" + assumed + ")";
    out[vi.name] = std::move(shape);
  }
  if (note) *note = text;
  if (unresolved) *unresolved = open;
  return out;
}

Result<std::map<std::string, Shape>> parse_input_shapes(const std::string& text) {
  std::map<std::string, Shape> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ';')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status(StatusCode::invalid_argument, "input shape '" + item + "' must look like NAME=D0,D1,...");
    Shape shape;
    std::stringstream dims(item.substr(eq + 1));
    std::string d;
    while (std::getline(dims, d, ',')) {
      try {
        size_t used = 0;
        long long v = std::stoll(d, &used);
        if (used != d.size() || v < 0) throw std::invalid_argument("bad");
        shape.push_back(v);
      } catch (const std::exception&) {
        return Status(StatusCode::invalid_argument, "input shape '" + item + "': '" + d + "' is not a non-negative integer");
      }
    }
    out[item.substr(0, eq)] = shape;
  }
  return out;
}

}  // namespace switchyard
