// CompiledModel: prepare, compile on a device, predict.
#include "switchyard/compiled_model.h"

#include <chrono>
#include <algorithm>
#include <set>

#include "switchyard/reference.h"

namespace switchyard {

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

bool is_nondeterministic(const Node& n) {
  static const std::set<std::string> ops = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                            "Multinomial", "Bernoulli"};
  return ops.count(n.op_type) != 0;
}
}  // namespace

Result<int> fold_constants(Graph& graph, size_t max_bytes) {
  reference::Interpreter interp;
  int folded = 0;
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  std::set<int32_t> graph_outputs(graph.outputs.begin(), graph.outputs.end());
  auto set_constant = [&](int32_t id, const Tensor& t) {
    graph.initializers[id] = t;
    auto& vt = graph.values[static_cast<size_t>(id)].type;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = t.type();
    vt.tensor.shape.emplace();
    for (int64_t d : t.shape()) vt.tensor.shape->push_back({d, {}});
  };
  for (auto& node : graph.nodes) {
    // Shape and Size of a value whose shape is static are constants, whatever its contents.
    if ((node.op_type == "Shape" || node.op_type == "Size") && node.domain.empty() && node.inputs.size() == 1 &&
        node.inputs[0] >= 0 && node.outputs.size() == 1 && node.outputs[0] >= 0 && !graph_outputs.count(node.outputs[0])) {
      const ValueType& in = graph.values[static_cast<size_t>(node.inputs[0])].type;
      bool is_static = in.kind == ValueType::Kind::tensor && in.tensor.shape.has_value();
      if (is_static)
        for (const auto& d : *in.tensor.shape) is_static = is_static && d.is_static();
      if (is_static) {
        std::vector<int64_t> dims;
        for (const auto& d : *in.tensor.shape) dims.push_back(d.value);
        const auto rank = static_cast<int64_t>(dims.size());
        if (node.op_type == "Size") {
          int64_t n = 1;
          for (int64_t d : dims) n *= d;
          set_constant(node.outputs[0], Tensor::scalar<int64_t>(ElementType::int64, n));
        } else {
          auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
          int64_t start = clamp(node.attr_int("start", 0)), end = clamp(node.attr_int("end", rank));
          std::vector<int64_t> part(dims.begin() + start, dims.begin() + std::max(start, end));
          set_constant(node.outputs[0], Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(part.size())}, part));
        }
        ++folded;
        continue;
      }
    }
    bool foldable = !is_nondeterministic(node) && interp.supports(node) && !node.outputs.empty();
    for (const auto& a : node.attributes) foldable = foldable && !a.g && a.graphs.empty();
    for (int32_t v : node.inputs) foldable = foldable && (v < 0 || graph.is_initializer(v));
    for (int32_t o : node.outputs) foldable = foldable && o >= 0 && !graph_outputs.count(o);
    if (!foldable) {
      kept.push_back(std::move(node));
      continue;
    }
    // Evaluate the single node as a tiny graph.
    Graph one;
    one.opsets = graph.opsets;
    std::vector<int32_t> remap(graph.values.size(), -1);
    auto map_value = [&](int32_t v) {
      if (v < 0) return -1;
      if (remap[static_cast<size_t>(v)] < 0) {
        one.values.push_back(graph.values[static_cast<size_t>(v)]);
        remap[static_cast<size_t>(v)] = static_cast<int32_t>(one.values.size() - 1);
      }
      return remap[static_cast<size_t>(v)];
    };
    Node copy = node;
    for (auto& v : copy.inputs) {
      int32_t orig = v;
      v = map_value(v);
      if (v >= 0) one.initializers[v] = graph.initializers.at(orig);
    }
    for (auto& v : copy.outputs) {
      v = map_value(v);
      one.outputs.push_back(v);
    }
    one.nodes.push_back(copy);
    auto result = interp.run(one, {});
    bool ok = result.ok();
    size_t bytes = 0;
    if (ok)
      for (const auto& v : *result) {
        ok = ok && v.kind == Value::Kind::tensor;
        if (ok) bytes += v.tensor.byte_size();
      }
    if (!ok || bytes > max_bytes) {
      // Leave it to the device: it will report its own error at run time if the node is wrong.
      kept.push_back(std::move(node));
      continue;
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) set_constant(node.outputs[i], (*result)[i].tensor);
    ++folded;
  }
  graph.nodes = std::move(kept);
  // Drop initializers nothing reads any more.
  std::set<int32_t> used(graph.outputs.begin(), graph.outputs.end());
  for (const auto& n : graph.nodes)
    for (int32_t v : n.inputs) used.insert(v);
  for (int32_t v : graph.outer_scope_values()) used.insert(v);
  bool nested_use = false;  // nested graphs may read any initializer by name: keep all then
  for (const auto& n : graph.nodes)
    for (const auto& a : n.attributes) nested_use = nested_use || a.g || !a.graphs.empty();
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (!used.count(it->first) && !nested_use) it = graph.initializers.erase(it);
    else ++it;
  }
  return folded;
}

Status check_input(const ValueInfo& declared, const Value& value) {
  const std::string what = "input '" + declared.name + "'";
  const ValueType& vt = declared.type;
  if (vt.kind == ValueType::Kind::tensor) {
    if (value.kind != Value::Kind::tensor) return Status(StatusCode::invalid_argument, what + ": expected a tensor");
    const Tensor& t = value.tensor;
    if (vt.tensor.elem != ElementType::undefined && t.type() != vt.tensor.elem)
      return Status(StatusCode::invalid_argument, what + ": expected element type " + std::string(element_type_name(vt.tensor.elem)) +
                                                      ", got " + std::string(element_type_name(t.type())));
    if (vt.tensor.shape) {
      const auto& dims = *vt.tensor.shape;
      bool ok = dims.size() == t.shape().size();
      for (size_t i = 0; ok && i < dims.size(); ++i) ok = !dims[i].is_static() || dims[i].value == t.shape()[i];
      if (!ok)
        return Status(StatusCode::invalid_argument, what + ": expected shape " + vt.tensor.to_string() + ", got " +
                                                        shape_to_string(t.shape()));
    }
  }
  return {};
}

Result<std::vector<Value>> generate_inputs(const Graph& graph) {
  std::vector<Value> out;
  for (int32_t id : graph.inputs) {
    const ValueInfo& vi = graph.values[static_cast<size_t>(id)];
    if (vi.type.kind != ValueType::Kind::tensor)
      return Status(StatusCode::unsupported, "input '" + vi.name + "' is not a tensor; give it with --input");
    const TensorType& tt = vi.type.tensor;
    if (!tt.shape) return Status(StatusCode::invalid_argument, "input '" + vi.name + "' has no declared shape; give it with --input");
    Shape shape;
    for (const auto& d : *tt.shape) shape.push_back(d.is_static() ? d.value : 1);
    try {
      Tensor t = tt.elem == ElementType::string ? Tensor::from_strings(shape, std::vector<std::string>(
                                                                                  static_cast<size_t>(shape_numel(shape).value_or(0)), "switchyard"))
                                                : Tensor::allocate(tt.elem, shape);
      const int64_t n = t.numel();
      switch (tt.elem) {
        case ElementType::float32:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<float>()[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
          break;
        case ElementType::float64:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<double>()[i] = static_cast<double>(i % 97) / 97.0 - 0.5;
          break;
        case ElementType::int64:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<int64_t>()[i] = i % 10;
          break;
        case ElementType::int32:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<int32_t>()[i] = static_cast<int32_t>(i % 10);
          break;
        case ElementType::boolean: case ElementType::uint8:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(i % 2);
          break;
        default:
          break;  // zeros
      }
      out.push_back(Value::of(std::move(t)));
    } catch (const Error& e) {
      return e.status().with_context("input '" + vi.name + "'");
    }
  }
  return out;
}

Result<std::shared_ptr<CompiledModel>> CompiledModel::load(std::shared_ptr<const Model> model, const Device& device,
                                                           const LoadOptions& options) {
  auto cm = std::shared_ptr<CompiledModel>(new CompiledModel());
  cm->model_ = model;
  cm->device_ = &device;
  auto t0 = std::chrono::steady_clock::now();
  cm->graph_ = model->graph;  // shares tensor storage; nodes copied
  if (options.fold_constants) SY_RETURN_IF_ERROR(fold_constants(cm->graph_).status());
  cm->view_ = std::make_unique<GraphView>(cm->graph_);
  SY_ASSIGN_OR_RETURN(auto support, device.query_support(*cm->view_));
  std::string unsupported;
  int count = 0;
  for (size_t i = 0; i < support.size(); ++i) {
    if (support[i].supported()) {
      cm->implementations_.push_back(support[i].implementation);
      continue;
    }
    ++count;
    if (count <= 20) unsupported += "\n  " + cm->graph_.nodes[i].describe() + ": " + support[i].message;
  }
  if (count > 0)
    return Status(StatusCode::unsupported, device.id() + " cannot run " + std::to_string(count) + " node(s):" + unsupported +
                                               (count > 20 ? "\n  ..." : ""));
  cm->times_.prepare_ms = ms_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  SY_ASSIGN_OR_RETURN(cm->executable_, device.compile(*cm->view_));
  cm->times_.compile_ms = ms_since(t1);
  return cm;
}

Result<std::vector<Value>> CompiledModel::predict(const std::vector<Value>& inputs) const {
  if (inputs.size() != graph_.inputs.size())
    return Status(StatusCode::invalid_argument, "the model takes " + std::to_string(graph_.inputs.size()) + " inputs, got " +
                                                    std::to_string(inputs.size()));
  bool values = false;  // any sequence / optional crossing: use the ABI 1.1 value path
  for (size_t i = 0; i < inputs.size(); ++i) {
    SY_RETURN_IF_ERROR(check_input(graph_.values[static_cast<size_t>(graph_.inputs[i])], inputs[i]));
    values = values || inputs[i].kind != Value::Kind::tensor || inputs[i].is_optional;
  }
  for (int32_t o : graph_.outputs) values = values || graph_.values[static_cast<size_t>(o)].type.kind != ValueType::Kind::tensor;
  std::vector<Value> out;
  if (values) {
    std::vector<DeviceValue> dev_inputs;
    for (const auto& in : inputs) {
      SY_ASSIGN_OR_RETURN(DeviceValue dv, upload_value(*device_, in));
      dev_inputs.push_back(std::move(dv));
    }
    SY_ASSIGN_OR_RETURN(auto dev_outputs, executable_->execute_values(dev_inputs));
    for (const auto& d : dev_outputs) {
      SY_ASSIGN_OR_RETURN(Value v, download_value(d));
      out.push_back(std::move(v));
    }
    return out;
  }
  std::vector<DeviceTensor> dev_inputs;
  for (const auto& in : inputs) {
    SY_ASSIGN_OR_RETURN(DeviceTensor dt, upload(*device_, in.tensor));
    dev_inputs.push_back(std::move(dt));
  }
  SY_ASSIGN_OR_RETURN(auto dev_outputs, executable_->execute(dev_inputs));
  for (const auto& d : dev_outputs) {
    SY_ASSIGN_OR_RETURN(Tensor t, download(d));
    out.push_back(Value::of(std::move(t)));
  }
  return out;
}

}  // namespace switchyard
