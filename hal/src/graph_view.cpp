// GraphView and graph_from_view.
#include "switchyard/hal/graph_view.h"

#include <cstring>

namespace switchyard {

std::string encode_strings(const std::vector<std::string>& strings) {
  std::string out;
  out.resize(strings.size() * 8);
  size_t pos = 0;
  for (const auto& s : strings) {
    uint64_t len = s.size();
    for (int b = 0; b < 8; ++b) out[pos++] = static_cast<char>((len >> (8 * b)) & 0xff);
  }
  for (const auto& s : strings) out += s;
  return out;
}

Result<std::vector<std::string>> decode_strings(const void* data, size_t size, int64_t count) {
  if (count < 0 || static_cast<uint64_t>(count) > size / 8)
    return Status(StatusCode::invalid_argument, "string tensor encoding is shorter than its element count");
  const auto* p = static_cast<const unsigned char*>(data);
  std::vector<std::string> out(static_cast<size_t>(count));
  size_t pos = static_cast<size_t>(count) * 8;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t len = 0;
    for (int b = 0; b < 8; ++b) len |= static_cast<uint64_t>(p[i * 8 + b]) << (8 * b);
    if (len > size - pos) return Status(StatusCode::invalid_argument, "string tensor encoding is truncated");
    out[static_cast<size_t>(i)].assign(reinterpret_cast<const char*>(p + pos), len);
    pos += len;
  }
  return out;
}

Result<Tensor> tensor_from_constant(const sy_constant& c, std::shared_ptr<const void> keepalive) {
  auto type = element_type_from_int(c.elem_type);
  if (!type) return Status(StatusCode::invalid_argument, "unknown element type " + std::to_string(c.elem_type));
  if (c.rank < 0 || (c.rank > 0 && !c.dims)) return Status(StatusCode::invalid_argument, "bad constant rank");
  Shape shape(c.dims, c.dims + c.rank);
  try {
    if (*type == ElementType::string) {
      auto n = shape_numel(shape);
      if (!n) return Status(StatusCode::invalid_argument, "bad string tensor shape");
      SY_ASSIGN_OR_RETURN(auto strings, decode_strings(c.data, c.size_bytes, *n));
      return Tensor::from_strings(shape, std::move(strings));
    }
    return Tensor::wrap(*type, shape, std::move(keepalive), c.data, c.size_bytes);
  } catch (const Error& e) {
    return e.status();
  }
}

// ---- Graph -> view ----

const sy_constant* GraphView::constant_of(const Tensor& t) {
  sy_constant& c = constants_.emplace_back();
  c.struct_size = sizeof c;
  c.elem_type = static_cast<int32_t>(t.type());
  shapes_.emplace_back(t.shape());
  c.rank = static_cast<int32_t>(t.rank());
  c.dims = shapes_.back().data();
  if (t.type() == ElementType::string) {
    encoded_strings_.push_back(encode_strings(t.strings()));
    c.data = encoded_strings_.back().data();
    c.size_bytes = encoded_strings_.back().size();
  } else {
    c.data = t.raw();
    c.size_bytes = t.byte_size();
  }
  return &c;
}

namespace {
sy_value_kind kind_of(ValueType::Kind k) {
  switch (k) {
    case ValueType::Kind::tensor: return SY_VALUE_TENSOR;
    case ValueType::Kind::sequence: return SY_VALUE_SEQUENCE;
    case ValueType::Kind::optional: return SY_VALUE_OPTIONAL;
    default: return SY_VALUE_UNKNOWN;
  }
}

sy_attribute_type attr_type_of(Attribute::Type t) {
  switch (t) {
    case Attribute::Type::floating: return SY_ATTR_FLOAT;
    case Attribute::Type::integer: return SY_ATTR_INT;
    case Attribute::Type::string: return SY_ATTR_STRING;
    case Attribute::Type::tensor: return SY_ATTR_TENSOR;
    case Attribute::Type::graph: return SY_ATTR_GRAPH;
    case Attribute::Type::floats: return SY_ATTR_FLOATS;
    case Attribute::Type::ints: return SY_ATTR_INTS;
    case Attribute::Type::strings: return SY_ATTR_STRINGS;
    case Attribute::Type::tensors: return SY_ATTR_TENSORS;
    case Attribute::Type::graphs: return SY_ATTR_GRAPHS;
    default: return SY_ATTR_UNDEFINED;
  }
}
}  // namespace

const sy_value_desc* GraphView::value_of(const ValueInfo& v) {
  sy_value_desc& d = values_.emplace_back();
  d.struct_size = sizeof d;
  d.name = v.name.c_str();
  d.kind = kind_of(v.type.kind);
  const TensorType* tt = &v.type.tensor;
  if (v.type.kind != ValueType::Kind::tensor && v.type.element) tt = &v.type.element->tensor;
  d.elem_type = static_cast<int32_t>(tt->elem);
  d.rank = -1;
  if (!tt->shape) return &d;
  auto& dims = shapes_.emplace_back();
  auto& symbols = names_.emplace_back();
  bool any_symbol = false;
  for (const auto& dim : *tt->shape) {
    dims.push_back(dim.value);
    symbols.push_back(dim.symbol.empty() ? nullptr : dim.symbol.c_str());
    any_symbol = any_symbol || !dim.symbol.empty();
  }
  d.rank = static_cast<int32_t>(tt->shape->size());
  d.dims = dims.data();
  d.dim_symbols = any_symbol ? symbols.data() : nullptr;
  return &d;
}

const sy_attribute* GraphView::attribute_of(const Attribute& a) {
  sy_attribute& sa = attributes_.emplace_back();
  sa.struct_size = sizeof sa;
  sa.name = a.name.c_str();
  sa.type = attr_type_of(a.type);
  sa.count = 1;
  switch (a.type) {
    case Attribute::Type::floating: sa.f = a.f; break;
    case Attribute::Type::integer: sa.i = a.i; break;
    case Attribute::Type::string: sa.s = a.s.data(), sa.s_size = a.s.size(); break;
    case Attribute::Type::floats: sa.count = a.floats.size(), sa.floats = a.floats.data(); break;
    case Attribute::Type::ints: sa.count = a.ints.size(), sa.ints = a.ints.data(); break;
    case Attribute::Type::strings: {
      auto& data = names_.emplace_back();
      auto& sizes = sizes_.emplace_back();
      for (const auto& s : a.strings) data.push_back(s.data()), sizes.push_back(s.size());
      sa.count = a.strings.size(), sa.strings = data.data(), sa.string_sizes = sizes.data();
      break;
    }
    case Attribute::Type::tensor:
    case Attribute::Type::tensors: {
      auto& list = constant_lists_.emplace_back();
      if (a.type == Attribute::Type::tensor) list.push_back(constant_of(a.t));
      for (const auto& t : a.tensors) list.push_back(constant_of(t));
      sa.count = list.size(), sa.tensors = list.data();
      break;
    }
    case Attribute::Type::graph:
    case Attribute::Type::graphs: {
      auto& list = graph_lists_.emplace_back();
      std::vector<const Graph*> graphs;
      if (a.type == Attribute::Type::graph) graphs.push_back(a.g.get());
      for (const auto& sg : a.graphs) graphs.push_back(sg.get());
      for (const Graph* sg : graphs) list.push_back(nested_.emplace_back(std::make_unique<GraphView>(*sg))->get());
      sa.count = list.size(), sa.graphs = list.data();
      break;
    }
    default: sa.count = 0; break;
  }
  return &sa;
}

const sy_node* GraphView::node_of(const Node& n) {
  sy_node& sn = nodes_.emplace_back();
  sn.struct_size = sizeof sn;
  sn.name = n.name.c_str();
  sn.domain = n.domain.c_str();
  sn.op_type = n.op_type.c_str();
  sn.opset = n.opset;
  sn.num_inputs = n.inputs.size();
  sn.inputs = n.inputs.data();
  sn.num_outputs = n.outputs.size();
  sn.outputs = n.outputs.data();
  auto& attrs = attribute_lists_.emplace_back();
  for (const auto& a : n.attributes) attrs.push_back(attribute_of(a));
  sn.num_attributes = attrs.size();
  sn.attributes = attrs.data();
  return &sn;
}

GraphView::GraphView(const Graph& g) {
  for (const auto& v : g.values) value_list_.push_back(value_of(v));
  for (const auto& n : g.nodes) node_list_.push_back(node_of(n));
  for (const auto& [id, t] : g.initializers) {
    sy_initializer& init = initializers_.emplace_back();
    init.struct_size = sizeof init;
    init.value = id;
    init.tensor = constant_of(t);
    initializer_list_.push_back(&init);
  }
  for (const auto& o : g.opsets) opset_domains_.push_back(o.domain.c_str()), opset_versions_.push_back(o.version);

  view_.struct_size = sizeof(sy_graph);
  view_.name = g.name.c_str();
  view_.num_values = value_list_.size();
  view_.values = value_list_.data();
  view_.num_nodes = node_list_.size();
  view_.nodes = node_list_.data();
  view_.num_inputs = g.inputs.size();
  view_.inputs = g.inputs.data();
  view_.num_outputs = g.outputs.size();
  view_.outputs = g.outputs.data();
  view_.num_initializers = initializer_list_.size();
  view_.initializers = initializer_list_.data();
  view_.num_opsets = opset_domains_.size();
  view_.opset_domains = opset_domains_.data();
  view_.opset_versions = opset_versions_.data();
}

// ---- view -> Graph ----

namespace {
std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

// Every field of the view's structs is ABI 2.0's own; a field appended later is read with
// SY_HAS_FIELD. A struct smaller than 2.0's is not from a 2.0 host.
template <typename AbiStruct>
Status check_struct(const AbiStruct* p, const std::string& what) {
  if (!p || p->struct_size < sizeof(AbiStruct)) return Status(StatusCode::invalid_argument, "graph view: " + what + " is missing or too small");
  return {};
}

Status check_id(const sy_graph* v, int32_t id, const std::string& where) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= v->num_values))
    return Status(StatusCode::invalid_argument, where + ": value index " + std::to_string(id) + " out of range");
  return {};
}

Result<ValueInfo> value_from_view(const sy_value_desc* d, size_t index) {
  SY_RETURN_IF_ERROR(check_struct(d, "value " + std::to_string(index)));
  ValueInfo info;
  info.name = str_or_empty(d->name);
  TensorType tt;
  tt.elem = element_type_from_int(d->elem_type).value_or(ElementType::undefined);
  if (d->rank > 0 && !d->dims) return Status(StatusCode::invalid_argument, "graph view: value '" + info.name + "' has a rank but no dims");
  if (d->rank >= 0) {
    tt.shape.emplace();
    for (int32_t k = 0; k < d->rank; ++k) tt.shape->push_back({d->dims[k], d->dim_symbols ? str_or_empty(d->dim_symbols[k]) : std::string()});
  }
  switch (d->kind) {
    case SY_VALUE_TENSOR:
      info.type.kind = ValueType::Kind::tensor;
      info.type.tensor = tt;
      break;
    case SY_VALUE_SEQUENCE:
    case SY_VALUE_OPTIONAL:
      info.type.kind = d->kind == SY_VALUE_SEQUENCE ? ValueType::Kind::sequence : ValueType::Kind::optional;
      info.type.element = std::make_shared<ValueType>();
      info.type.element->tensor = tt;
      break;
    default:
      info.type.kind = ValueType::Kind::unknown;
  }
  return info;
}

Result<Attribute> attribute_from_view(const sy_attribute* sa, const std::shared_ptr<const void>& keepalive, const std::string& where) {
  SY_RETURN_IF_ERROR(check_struct(sa, where + " attribute"));
  Attribute a;
  a.name = str_or_empty(sa->name);
  switch (sa->type) {
    case SY_ATTR_FLOAT: a.type = Attribute::Type::floating, a.f = static_cast<float>(sa->f); break;
    case SY_ATTR_INT: a.type = Attribute::Type::integer, a.i = sa->i; break;
    case SY_ATTR_STRING: a.type = Attribute::Type::string, a.s.assign(sa->s ? sa->s : "", sa->s ? sa->s_size : 0); break;
    case SY_ATTR_FLOATS: a.type = Attribute::Type::floats, a.floats.assign(sa->floats, sa->floats + sa->count); break;
    case SY_ATTR_INTS: a.type = Attribute::Type::ints, a.ints.assign(sa->ints, sa->ints + sa->count); break;
    case SY_ATTR_STRINGS:
      a.type = Attribute::Type::strings;
      for (size_t s = 0; s < sa->count; ++s) a.strings.emplace_back(sa->strings[s] ? sa->strings[s] : "", sa->strings[s] ? sa->string_sizes[s] : 0);
      break;
    case SY_ATTR_TENSOR:
    case SY_ATTR_TENSORS:
      a.type = sa->type == SY_ATTR_TENSOR ? Attribute::Type::tensor : Attribute::Type::tensors;
      for (size_t s = 0; s < sa->count; ++s) {
        SY_RETURN_IF_ERROR(check_struct(sa->tensors[s], where + " attribute '" + a.name + "' tensor"));
        SY_ASSIGN_OR_RETURN(Tensor t, tensor_from_constant(*sa->tensors[s], keepalive));
        if (sa->type == SY_ATTR_TENSOR) a.t = std::move(t);
        else a.tensors.push_back(std::move(t));
      }
      break;
    case SY_ATTR_GRAPH:
    case SY_ATTR_GRAPHS:
      a.type = sa->type == SY_ATTR_GRAPH ? Attribute::Type::graph : Attribute::Type::graphs;
      for (size_t s = 0; s < sa->count; ++s) {
        SY_ASSIGN_OR_RETURN(Graph sub, graph_from_view(sa->graphs[s], keepalive));
        if (sa->type == SY_ATTR_GRAPH) a.g = std::make_shared<Graph>(std::move(sub));
        else a.graphs.push_back(std::make_shared<Graph>(std::move(sub)));
      }
      break;
    default:
      a.type = Attribute::Type::undefined;
  }
  return a;
}

Result<Node> node_from_view(const sy_graph* v, const sy_node* sn, size_t index, const std::shared_ptr<const void>& keepalive) {
  SY_RETURN_IF_ERROR(check_struct(sn, "node " + std::to_string(index)));
  Node n;
  n.name = str_or_empty(sn->name);
  n.domain = str_or_empty(sn->domain);
  n.op_type = str_or_empty(sn->op_type);
  n.opset = sn->opset;
  for (size_t k = 0; k < sn->num_inputs; ++k) {
    SY_RETURN_IF_ERROR(check_id(v, sn->inputs[k], n.describe()));
    n.inputs.push_back(sn->inputs[k]);
  }
  for (size_t k = 0; k < sn->num_outputs; ++k) {
    SY_RETURN_IF_ERROR(check_id(v, sn->outputs[k], n.describe()));
    n.outputs.push_back(sn->outputs[k]);
  }
  for (size_t k = 0; k < sn->num_attributes; ++k) {
    SY_ASSIGN_OR_RETURN(Attribute a, attribute_from_view(sn->attributes[k], keepalive, n.describe()));
    n.attributes.push_back(std::move(a));
  }
  return n;
}
}  // namespace

Result<Graph> graph_from_view(const sy_graph* v, std::shared_ptr<const void> keepalive) {
  SY_RETURN_IF_ERROR(check_struct(v, "the graph"));
  Graph g;
  g.name = str_or_empty(v->name);
  g.values.reserve(v->num_values);
  for (size_t i = 0; i < v->num_values; ++i) {
    SY_ASSIGN_OR_RETURN(ValueInfo info, value_from_view(v->values[i], i));
    g.values.push_back(std::move(info));
  }
  g.nodes.reserve(v->num_nodes);
  for (size_t i = 0; i < v->num_nodes; ++i) {
    SY_ASSIGN_OR_RETURN(Node n, node_from_view(v, v->nodes[i], i, keepalive));
    g.nodes.push_back(std::move(n));
  }
  for (size_t i = 0; i < v->num_inputs; ++i) {
    SY_RETURN_IF_ERROR(check_id(v, v->inputs[i], "graph input"));
    g.inputs.push_back(v->inputs[i]);
  }
  for (size_t i = 0; i < v->num_outputs; ++i) {
    SY_RETURN_IF_ERROR(check_id(v, v->outputs[i], "graph output"));
    g.outputs.push_back(v->outputs[i]);
  }
  for (size_t i = 0; i < v->num_initializers; ++i) {
    const sy_initializer* init = v->initializers[i];
    SY_RETURN_IF_ERROR(check_struct(init, "initializer " + std::to_string(i)));
    SY_RETURN_IF_ERROR(check_id(v, init->value, "initializer"));
    SY_RETURN_IF_ERROR(check_struct(init->tensor, "initializer " + std::to_string(i) + "'s tensor"));
    SY_ASSIGN_OR_RETURN(Tensor t, tensor_from_constant(*init->tensor, keepalive));
    g.initializers[init->value] = std::move(t);
  }
  for (size_t i = 0; i < v->num_opsets; ++i) g.opsets.push_back({str_or_empty(v->opset_domains[i]), v->opset_versions[i]});
  return g;
}

}  // namespace switchyard
