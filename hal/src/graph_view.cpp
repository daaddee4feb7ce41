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
  if (c.rank < 0 || c.rank > SY_MAX_RANK) return Status(StatusCode::invalid_argument, "bad constant rank");
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

sy_constant GraphView::constant_of(const Tensor& t) {
  sy_constant c{};
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
  return c;
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

GraphView::GraphView(const Graph& g) {
  values_.reserve(g.values.size());
  for (const auto& v : g.values) {
    sy_value_desc d{};
    d.name = v.name.c_str();
    d.kind = kind_of(v.type.kind);
    const TensorType* tt = &v.type.tensor;
    if (v.type.kind != ValueType::Kind::tensor && v.type.element) tt = &v.type.element->tensor;
    d.elem_type = static_cast<int32_t>(tt->elem);
    if (tt->shape) {
      dims_.emplace_back();
      for (const auto& dim : *tt->shape) dims_.back().push_back({dim.value, dim.symbol.empty() ? nullptr : dim.symbol.c_str()});
      d.rank = static_cast<int32_t>(tt->shape->size());
      d.dims = dims_.back().data();
    } else {
      d.rank = -1;
      d.dims = nullptr;
    }
    values_.push_back(d);
  }
  nodes_.reserve(g.nodes.size());
  for (const auto& n : g.nodes) {
    sy_node sn{};
    sn.name = n.name.c_str();
    sn.domain = n.domain.c_str();
    sn.op_type = n.op_type.c_str();
    sn.opset = n.opset;
    sn.num_inputs = n.inputs.size();
    sn.inputs = n.inputs.data();
    sn.num_outputs = n.outputs.size();
    sn.outputs = n.outputs.data();
    attributes_.emplace_back();
    auto& attrs = attributes_.back();
    attrs.reserve(n.attributes.size());
    for (const auto& a : n.attributes) {
      sy_attribute sa{};
      sa.name = a.name.c_str();
      sa.type = attr_type_of(a.type);
      sa.count = 1;
      switch (a.type) {
        case Attribute::Type::floating: sa.f = a.f; break;
        case Attribute::Type::integer: sa.i = a.i; break;
        case Attribute::Type::string: sa.s = {a.s.data(), a.s.size()}; break;
        case Attribute::Type::floats:
          sa.count = a.floats.size();
          sa.floats = a.floats.data();
          break;
        case Attribute::Type::ints:
          sa.count = a.ints.size();
          sa.ints = a.ints.data();
          break;
        case Attribute::Type::strings:
          strings_.emplace_back();
          for (const auto& s : a.strings) strings_.back().push_back({s.data(), s.size()});
          sa.count = a.strings.size();
          sa.strings = strings_.back().data();
          break;
        case Attribute::Type::tensor:
          constants_.emplace_back();
          constants_.back().push_back(constant_of(a.t));
          sa.tensors = constants_.back().data();
          break;
        case Attribute::Type::tensors:
          constants_.emplace_back();
          for (const auto& t : a.tensors) constants_.back().push_back(constant_of(t));
          sa.count = a.tensors.size();
          sa.tensors = constants_.back().data();
          break;
        case Attribute::Type::graph:
          nested_.push_back(std::make_unique<GraphView>(*a.g));
          graph_lists_.emplace_back(1, nested_.back()->get());
          sa.graphs = graph_lists_.back().data();
          break;
        case Attribute::Type::graphs:
          graph_lists_.emplace_back();
          for (const auto& sg : a.graphs) {
            nested_.push_back(std::make_unique<GraphView>(*sg));
            graph_lists_.back().push_back(nested_.back()->get());
          }
          sa.count = a.graphs.size();
          sa.graphs = graph_lists_.back().data();
          break;
        default:
          sa.count = 0;
          break;
      }
      attrs.push_back(sa);
    }
    sn.num_attributes = attrs.size();
    sn.attributes = attrs.data();
    nodes_.push_back(sn);
  }
  for (const auto& [id, t] : g.initializers) initializers_.push_back({id, constant_of(t)});
  for (const auto& o : g.opsets) opsets_.push_back({o.domain.c_str(), o.version});

  view_.struct_size = sizeof(sy_graph);
  view_.name = g.name.c_str();
  view_.num_values = values_.size();
  view_.values = values_.data();
  view_.num_nodes = nodes_.size();
  view_.nodes = nodes_.data();
  view_.num_inputs = g.inputs.size();
  view_.inputs = g.inputs.data();
  view_.num_outputs = g.outputs.size();
  view_.outputs = g.outputs.data();
  view_.num_initializers = initializers_.size();
  view_.initializers = initializers_.data();
  view_.num_opsets = opsets_.size();
  view_.opsets = opsets_.data();
}

namespace {
std::string str_or_empty(const char* s) { return s ? std::string(s) : std::string(); }

Status check_id(const sy_graph* v, int32_t id, const std::string& where) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= v->num_values))
    return Status(StatusCode::invalid_argument, where + ": value index " + std::to_string(id) + " out of range");
  return {};
}
}  // namespace

Result<Graph> graph_from_view(const sy_graph* v, std::shared_ptr<const void> keepalive) {
  if (!v || v->struct_size < sizeof(sy_graph)) return Status(StatusCode::invalid_argument, "graph view is missing or too old");
  Graph g;
  g.name = str_or_empty(v->name);
  g.values.reserve(v->num_values);
  for (size_t i = 0; i < v->num_values; ++i) {
    const sy_value_desc& d = v->values[i];
    ValueInfo info;
    info.name = str_or_empty(d.name);
    TensorType tt;
    tt.elem = element_type_from_int(d.elem_type).value_or(ElementType::undefined);
    if (d.rank >= 0) {
      tt.shape.emplace();
      for (int32_t k = 0; k < d.rank; ++k) tt.shape->push_back({d.dims[k].value, str_or_empty(d.dims[k].symbol)});
    }
    switch (d.kind) {
      case SY_VALUE_TENSOR:
        info.type.kind = ValueType::Kind::tensor;
        info.type.tensor = tt;
        break;
      case SY_VALUE_SEQUENCE:
      case SY_VALUE_OPTIONAL:
        info.type.kind = d.kind == SY_VALUE_SEQUENCE ? ValueType::Kind::sequence : ValueType::Kind::optional;
        info.type.element = std::make_shared<ValueType>();
        info.type.element->tensor = tt;
        break;
      default:
        info.type.kind = ValueType::Kind::unknown;
    }
    g.values.push_back(std::move(info));
  }
  g.nodes.reserve(v->num_nodes);
  for (size_t i = 0; i < v->num_nodes; ++i) {
    const sy_node& sn = v->nodes[i];
    Node n;
    n.name = str_or_empty(sn.name);
    n.domain = str_or_empty(sn.domain);
    n.op_type = str_or_empty(sn.op_type);
    n.opset = sn.opset;
    n.inputs.reserve(sn.num_inputs);
    n.outputs.reserve(sn.num_outputs);
    n.attributes.reserve(sn.num_attributes);
    for (size_t k = 0; k < sn.num_inputs; ++k) {
      SY_RETURN_IF_ERROR(check_id(v, sn.inputs[k], n.describe()));
      n.inputs.push_back(sn.inputs[k]);
    }
    for (size_t k = 0; k < sn.num_outputs; ++k) {
      SY_RETURN_IF_ERROR(check_id(v, sn.outputs[k], n.describe()));
      n.outputs.push_back(sn.outputs[k]);
    }
    for (size_t k = 0; k < sn.num_attributes; ++k) {
      const sy_attribute& sa = sn.attributes[k];
      Attribute a;
      a.name = str_or_empty(sa.name);
      switch (sa.type) {
        case SY_ATTR_FLOAT: a.type = Attribute::Type::floating; a.f = static_cast<float>(sa.f); break;
        case SY_ATTR_INT: a.type = Attribute::Type::integer; a.i = sa.i; break;
        case SY_ATTR_STRING: a.type = Attribute::Type::string; a.s.assign(sa.s.data ? sa.s.data : "", sa.s.size); break;
        case SY_ATTR_FLOATS: a.type = Attribute::Type::floats; a.floats.assign(sa.floats, sa.floats + sa.count); break;
        case SY_ATTR_INTS: a.type = Attribute::Type::ints; a.ints.assign(sa.ints, sa.ints + sa.count); break;
        case SY_ATTR_STRINGS:
          a.type = Attribute::Type::strings;
          for (size_t s = 0; s < sa.count; ++s) a.strings.emplace_back(sa.strings[s].data ? sa.strings[s].data : "", sa.strings[s].size);
          break;
        case SY_ATTR_TENSOR: {
          a.type = Attribute::Type::tensor;
          SY_ASSIGN_OR_RETURN(a.t, tensor_from_constant(sa.tensors[0], keepalive));
          break;
        }
        case SY_ATTR_TENSORS:
          a.type = Attribute::Type::tensors;
          for (size_t s = 0; s < sa.count; ++s) {
            SY_ASSIGN_OR_RETURN(Tensor t, tensor_from_constant(sa.tensors[s], keepalive));
            a.tensors.push_back(std::move(t));
          }
          break;
        case SY_ATTR_GRAPH: {
          a.type = Attribute::Type::graph;
          SY_ASSIGN_OR_RETURN(Graph sub, graph_from_view(sa.graphs[0], keepalive));
          a.g = std::make_shared<Graph>(std::move(sub));
          break;
        }
        case SY_ATTR_GRAPHS:
          a.type = Attribute::Type::graphs;
          for (size_t s = 0; s < sa.count; ++s) {
            SY_ASSIGN_OR_RETURN(Graph sub, graph_from_view(sa.graphs[s], keepalive));
            a.graphs.push_back(std::make_shared<Graph>(std::move(sub)));
          }
          break;
        default:
          a.type = Attribute::Type::undefined;
      }
      n.attributes.push_back(std::move(a));
    }
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
    const sy_initializer& init = v->initializers[i];
    SY_RETURN_IF_ERROR(check_id(v, init.value, "initializer"));
    SY_ASSIGN_OR_RETURN(Tensor t, tensor_from_constant(init.tensor, keepalive));
    g.initializers[init.value] = std::move(t);
  }
  for (size_t i = 0; i < v->num_opsets; ++i) g.opsets.push_back({str_or_empty(v->opsets[i].domain), v->opsets[i].version});
  return g;
}

}  // namespace switchyard
