// The reference interpreter: runs nodes in topological order with reference kernels.
#include <algorithm>
#include <mutex>
#include <set>

#include "switchyard/reference/interpreter.h"

namespace switchyard::reference {

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i))
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is missing");
  const Value& v = *inputs_[i];
  if (v.kind != Value::Kind::tensor)
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is not a tensor");
  return v.tensor;
}

const Value& KernelContext::input_value(size_t i) const {
  if (i >= inputs_.size() || !inputs_[i])
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is missing");
  return *inputs_[i];
}

void KernelContext::set_output(size_t i, Tensor t) { set_output_value(i, Value::of(std::move(t))); }

void KernelContext::set_output_value(size_t i, Value v) {
  if (i >= outputs_.size()) return;  // the node does not declare this optional output
  outputs_[i] = std::move(v);
}

std::vector<Value> KernelContext::run_subgraph(const Graph& body, const std::vector<Value>& inputs) const {
  return interpreter_.run_scoped(body, inputs, scope_, limits_);
}

void KernelContext::poll_cancel(const char* unit, int64_t index) const {
  if (limits_ && limits_->cancel_flag && __atomic_load_n(limits_->cancel_flag, __ATOMIC_ACQUIRE))
    throw_error(StatusCode::cancelled, std::string("stopped at ") + unit + " " + std::to_string(index) + ": asked to stop");
}

void KernelContext::check_memory(size_t bytes, const std::string& what) const {
  if (!memory_limited() || bytes <= limits_->max_memory_bytes) return;
  throw_error(StatusCode::resource_exhausted, what + " hold " + std::to_string(bytes) + " bytes, over the memory limit of " +
                                                  std::to_string(limits_->max_memory_bytes) + " bytes");
}

void KernelRegistry::add(const std::string& domain, const std::string& op_type, KernelFn fn) {
  kernels_[{domain, op_type}] = std::move(fn);
}

const KernelFn* KernelRegistry::find(const std::string& domain, const std::string& op_type) const {
  const std::string& d = domain == "ai.onnx" ? std::string() : domain;
  auto it = kernels_.find({d, op_type});
  return it == kernels_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::operators() const {
  std::vector<std::string> out;
  for (const auto& [key, fn] : kernels_) out.push_back(key.first.empty() ? key.second : key.first + "::" + key.second);
  return out;
}

const KernelRegistry& KernelRegistry::instance() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_elementwise_kernels(r);
    register_math_kernels(r);
    register_reduction_kernels(r);
    register_shape_kernels(r);
    register_control_kernels(r);
    register_sequence_kernels(r);
    register_nn_kernels(r);
    register_signal_kernels(r);
    register_text_ml_kernels(r);
    return r;
  }();
  return registry;
}

bool Interpreter::supports(const Node& node) const { return registry_.find(node.domain, node.op_type) != nullptr; }

Status Interpreter::check_supported(const Graph& graph) const {
  for (const auto& n : graph.nodes)
    if (!supports(n))
      return Status(StatusCode::unsupported, n.describe() + ": the reference has no kernel for " +
                                                 (n.domain.empty() ? "" : n.domain + "::") + n.op_type);
  return {};
}

namespace {

bool node_has_subgraph(const Node& n) {
  return std::any_of(n.attributes.begin(), n.attributes.end(), [](const Attribute& a) { return a.g || !a.graphs.empty(); });
}

// Runs `graph`; returns its outputs followed by the values named in `extra_outputs`.
std::vector<Value> run_graph(const Interpreter& interpreter, const KernelRegistry& registry, const Graph& graph,
                             const std::vector<Value>& inputs, const std::map<std::string, const Value*>& outer_scope,
                             const RunLimits* limits, const std::vector<std::string>& extra_outputs,
                             const std::function<void(size_t, const std::vector<Value>&)>& on_node = {}) {
  if (inputs.size() != graph.inputs.size())
    throw_error(StatusCode::invalid_argument, "graph '" + graph.name + "' takes " + std::to_string(graph.inputs.size()) +
                                                  " inputs, got " + std::to_string(inputs.size()));
  std::vector<Value> slots(graph.values.size());
  std::vector<char> bound(graph.values.size(), 0);
  for (const auto& [id, t] : graph.initializers) {
    slots[static_cast<size_t>(id)] = Value::of(t);
    bound[static_cast<size_t>(id)] = 1;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    slots[static_cast<size_t>(graph.inputs[i])] = inputs[i];
    bound[static_cast<size_t>(graph.inputs[i])] = 1;
  }
  // Last use of each value, so intermediate tensors are freed as soon as possible.
  std::vector<int64_t> last_use(graph.values.size(), -1);
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int32_t v : graph.nodes[n].inputs)
      if (v >= 0) last_use[static_cast<size_t>(v)] = static_cast<int64_t>(n);
  for (int32_t o : graph.outputs) last_use[static_cast<size_t>(o)] = static_cast<int64_t>(graph.nodes.size());
  std::vector<int32_t> extra_ids;
  for (const std::string& name : extra_outputs) {
    int32_t id = graph.find_value(name);
    if (id < 0) throw_error(StatusCode::invalid_argument, "graph '" + graph.name + "' has no value named '" + name + "'");
    extra_ids.push_back(id);
    last_use[static_cast<size_t>(id)] = static_cast<int64_t>(graph.nodes.size());
  }
  // A node with subgraphs may read any of this graph's values by name from inside them:
  // such values live at least until that node has run.
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!node_has_subgraph(graph.nodes[n])) continue;
    std::set<std::string> names;
    collect_nested_value_names(graph.nodes[n], names);
    for (const std::string& name : names) {
      int32_t id = graph.find_value(name);
      if (id >= 0) last_use[static_cast<size_t>(id)] = std::max(last_use[static_cast<size_t>(id)], static_cast<int64_t>(n));
    }
  }

  std::vector<std::vector<int32_t>> free_after(graph.nodes.size());
  for (size_t v = 0; v < last_use.size(); ++v)
    if (last_use[v] >= 0 && last_use[v] < static_cast<int64_t>(graph.nodes.size()) &&
        !graph.is_initializer(static_cast<int32_t>(v)))
      free_after[static_cast<size_t>(last_use[v])].push_back(static_cast<int32_t>(v));

  auto lookup = [&](int32_t id) -> const Value* {
    if (id < 0) return nullptr;
    if (bound[static_cast<size_t>(id)]) return &slots[static_cast<size_t>(id)];
    auto it = outer_scope.find(graph.values[static_cast<size_t>(id)].name);
    if (it != outer_scope.end()) return it->second;
    throw_error(StatusCode::invalid_argument, "value '" + graph.values[static_cast<size_t>(id)].name + "' has no value");
  };

  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    if (limits && limits->cancel_flag && __atomic_load_n(limits->cancel_flag, __ATOMIC_ACQUIRE))
      throw_error(StatusCode::cancelled, "stopped before " + node.describe() + ": asked to stop");
    const KernelFn* fn = registry.find(node.domain, node.op_type);
    if (!fn)
      throw_error(StatusCode::unsupported, node.describe() + ": the reference has no kernel for " +
                                               (node.domain.empty() ? "" : node.domain + "::") + node.op_type);
    std::vector<const Value*> in;
    in.reserve(node.inputs.size());
    for (int32_t v : node.inputs) in.push_back(lookup(v));
    std::vector<Value> out(node.outputs.size());
    // Subgraph kernels see this graph's values by name, on top of the outer scope.
    std::map<std::string, const Value*> scope;
    const bool nested = node_has_subgraph(node);
    if (nested) {
      scope = outer_scope;
      for (size_t v = 0; v < slots.size(); ++v)
        if (bound[v]) scope[graph.values[v].name] = &slots[v];
    }
    KernelContext ctx(node, std::move(in), out, interpreter, nested ? scope : outer_scope, limits);
    try {
      (*fn)(ctx);
    } catch (const Error& e) {
      throw Error(e.code(), node.describe() + ": " + e.what());
    } catch (const std::bad_alloc&) {
      throw Error(StatusCode::out_of_memory, node.describe() + ": out of memory");
    } catch (const std::exception& e) {
      throw Error(StatusCode::internal, node.describe() + ": " + e.what());
    }
    if (on_node) on_node(n, out);
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      int32_t id = node.outputs[o];
      if (id < 0) continue;
      slots[static_cast<size_t>(id)] = std::move(out[o]);
      bound[static_cast<size_t>(id)] = 1;
    }
    for (int32_t v : free_after[n]) slots[static_cast<size_t>(v)] = Value();
  }
  std::vector<Value> results;
  results.reserve(graph.outputs.size() + extra_ids.size());
  for (int32_t o : graph.outputs) {
    const Value* v = lookup(o);
    results.push_back(v ? *v : Value());
  }
  for (int32_t o : extra_ids) {
    const Value* v = lookup(o);
    results.push_back(v ? *v : Value());
  }
  return results;
}

}  // namespace

std::vector<Value> Interpreter::run_scoped(const Graph& graph, const std::vector<Value>& inputs,
                                           const std::map<std::string, const Value*>& outer_scope, const RunLimits* limits) const {
  return run_graph(*this, registry_, graph, inputs, outer_scope, limits, {});
}

Result<std::vector<Value>> Interpreter::run(const Graph& graph, const std::vector<Value>& inputs,
                                            const RunOptions& options) const {
  try {
    return run_graph(*this, registry_, graph, inputs, {}, &options.limits, options.extra_outputs, options.on_node);
  } catch (const Error& e) {
    return e.status();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::out_of_memory, "out of memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::internal, e.what());
  }
}

}  // namespace switchyard::reference
