// Graph IR helpers: type printing, attribute access, topological order.
#include "switchyard/hal/graph.h"

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>

namespace switchyard {

bool TensorType::has_static_shape() const {
  if (!shape) return false;
  return std::all_of(shape->begin(), shape->end(), [](const Dim& d) { return d.is_static(); });
}

std::optional<Shape> TensorType::static_shape() const {
  if (!has_static_shape()) return std::nullopt;
  Shape s;
  for (const auto& d : *shape) s.push_back(d.value);
  return s;
}

std::string TensorType::to_string() const {
  std::string out(element_type_name(elem));
  if (!shape) return out + "[?]";
  out += "[";
  for (size_t i = 0; i < shape->size(); ++i) {
    if (i) out += ",";
    const Dim& d = (*shape)[i];
    out += d.is_static() ? std::to_string(d.value) : (d.symbol.empty() ? "?" : d.symbol);
  }
  return out + "]";
}

std::string ValueType::to_string() const {
  switch (kind) {
    case Kind::tensor: return tensor.to_string();
    case Kind::sequence: return "sequence<" + (element ? element->to_string() : "?") + ">";
    case Kind::optional: return "optional<" + (element ? element->to_string() : "?") + ">";
    case Kind::map: return "map";
    case Kind::unknown: return "unknown";
  }
  return "unknown";
}

const char* attribute_type_name(Attribute::Type t) {
  switch (t) {
    case Attribute::Type::undefined: return "undefined";
    case Attribute::Type::floating: return "float";
    case Attribute::Type::integer: return "int";
    case Attribute::Type::string: return "string";
    case Attribute::Type::tensor: return "tensor";
    case Attribute::Type::graph: return "graph";
    case Attribute::Type::floats: return "floats";
    case Attribute::Type::ints: return "ints";
    case Attribute::Type::strings: return "strings";
    case Attribute::Type::tensors: return "tensors";
    case Attribute::Type::graphs: return "graphs";
    case Attribute::Type::type_proto: return "type_proto";
    case Attribute::Type::type_protos: return "type_protos";
  }
  return "undefined";
}

const Attribute* Node::attr(const std::string& name) const {
  for (const auto& a : attributes)
    if (a.name == name) return &a;
  return nullptr;
}

namespace {
[[noreturn]] void wrong_type(const Node& n, const Attribute& a, const char* want) {
  throw_error(StatusCode::invalid_argument, n.describe() + ": attribute '" + a.name + "' is " +
                                                attribute_type_name(a.type) + ", expected " + want);
}
}  // namespace

int64_t Node::attr_int(const std::string& name, int64_t fallback) const {
  const Attribute* a = attr(name);
  if (!a) return fallback;
  if (a->type != Attribute::Type::integer) wrong_type(*this, *a, "int");
  return a->i;
}

float Node::attr_float(const std::string& name, float fallback) const {
  const Attribute* a = attr(name);
  if (!a) return fallback;
  if (a->type == Attribute::Type::integer) return static_cast<float>(a->i);
  if (a->type != Attribute::Type::floating) wrong_type(*this, *a, "float");
  return a->f;
}

std::string Node::attr_string(const std::string& name, const std::string& fallback) const {
  const Attribute* a = attr(name);
  if (!a) return fallback;
  if (a->type != Attribute::Type::string) wrong_type(*this, *a, "string");
  return a->s;
}

std::vector<int64_t> Node::attr_ints(const std::string& name, const std::vector<int64_t>& fallback) const {
  const Attribute* a = attr(name);
  if (!a) return fallback;
  if (a->type != Attribute::Type::ints) wrong_type(*this, *a, "ints");
  return a->ints;
}

std::vector<float> Node::attr_floats(const std::string& name, const std::vector<float>& fallback) const {
  const Attribute* a = attr(name);
  if (!a) return fallback;
  if (a->type != Attribute::Type::floats) wrong_type(*this, *a, "floats");
  return a->floats;
}

std::string Node::describe() const {
  std::string d = op_type;
  if (!name.empty()) d += " '" + name + "'";
  return d;
}

ValueNameIndex& ValueNameIndex::operator=(const ValueNameIndex&) {
  std::lock_guard<std::mutex> lock(mu_);
  clear();
  return *this;
}

void ValueNameIndex::clear() const {
  slots_.clear();
  covered_ = 0;
}

// The slot holding `name` (found), or the empty slot where it would go (absent); stale when the
// value at a slot whose hash matches has been renamed in place since it was indexed.
ValueNameIndex::Probe ValueNameIndex::probe(const std::vector<ValueInfo>& values, const std::string& name, uint64_t hash,
                                            size_t& slot) const {
  const size_t mask = slots_.size() - 1;
  for (slot = hash & mask;; slot = (slot + 1) & mask) {
    const Slot& s = slots_[slot];
    if (s.id < 0) return Probe::absent;
    if (s.hash != hash) continue;
    const std::string& held = values[static_cast<size_t>(s.id)].name;
    if (held == name) return Probe::found;
    if (std::hash<std::string>{}(held) != hash) return Probe::stale;
  }
}

void ValueNameIndex::grow(size_t capacity) const {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  const size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].id >= 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void ValueNameIndex::cover(const std::vector<ValueInfo>& values) const {
  if (covered_ > values.size()) clear();  // values were removed: start over
  if (covered_ == values.size()) return;
  size_t capacity = slots_.empty() ? 16 : slots_.size();
  while (capacity < 2 * values.size()) capacity *= 2;
  if (capacity != slots_.size()) grow(capacity);
  for (; covered_ < values.size(); ++covered_) {
    const std::string& name = values[covered_].name;
    if (name.empty()) continue;
    const uint64_t hash = std::hash<std::string>{}(name);
    size_t slot = 0;
    if (probe(values, name, hash, slot) == Probe::absent) slots_[slot] = {hash, static_cast<int32_t>(covered_)};
  }
}

int32_t ValueNameIndex::find(const std::vector<ValueInfo>& values, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t hash = std::hash<std::string>{}(name);
  for (int attempt = 0; attempt < 2; ++attempt) {
    cover(values);
    if (slots_.empty()) return -1;
    size_t slot = 0;
    switch (probe(values, name, hash, slot)) {
      case Probe::found: return slots_[slot].id;
      case Probe::absent: return -1;
      case Probe::stale: clear(); break;  // a value was replaced in place: rebuild
    }
  }
  return -1;
}

int32_t Graph::find_value(const std::string& value_name) const { return name_index_.find(values, value_name); }

int32_t Graph::add_value(const std::string& value_name, ValueType type) {
  if (!value_name.empty()) {
    int32_t existing = find_value(value_name);
    if (existing >= 0) return existing;
  }
  values.push_back({value_name, std::move(type)});
  return static_cast<int32_t>(values.size() - 1);
}

int64_t Graph::opset_version(const std::string& domain) const {
  for (const auto& o : opsets)
    if (o.domain == domain || ((o.domain.empty() || o.domain == "ai.onnx") && (domain.empty() || domain == "ai.onnx")))
      return o.version;
  return 0;
}

namespace {
void collect_nested_reads(const Graph& g, std::set<std::string>& names);

void collect_attr_reads(const Node& n, std::set<std::string>& names) {
  for (const auto& a : n.attributes) {
    if (a.g) collect_nested_reads(*a.g, names);
    for (const auto& sg : a.graphs)
      if (sg) collect_nested_reads(*sg, names);
  }
}

// Names a nested graph reads from its enclosing scopes.
void collect_nested_reads(const Graph& g, std::set<std::string>& names) {
  for (int32_t id : g.outer_scope_values()) names.insert(g.value_name(id));
}
}  // namespace

std::vector<int32_t> Graph::outer_scope_values() const {
  std::vector<char> provided(values.size(), 0);
  for (int32_t id : inputs) provided[static_cast<size_t>(id)] = 1;
  for (const auto& [id, t] : initializers) provided[static_cast<size_t>(id)] = 1;
  for (const auto& n : nodes)
    for (int32_t o : n.outputs)
      if (o >= 0) provided[static_cast<size_t>(o)] = 1;
  std::vector<char> used(values.size(), 0);
  for (const auto& n : nodes) {
    for (int32_t i : n.inputs)
      if (i >= 0) used[static_cast<size_t>(i)] = 1;
    std::set<std::string> nested;
    collect_attr_reads(n, nested);
    for (const auto& name : nested) {
      int32_t id = find_value(name);
      if (id >= 0) used[static_cast<size_t>(id)] = 1;
    }
  }
  for (int32_t o : outputs) used[static_cast<size_t>(o)] = 1;
  std::vector<int32_t> out;
  for (size_t i = 0; i < values.size(); ++i)
    if (used[i] && !provided[i]) out.push_back(static_cast<int32_t>(i));
  return out;
}

namespace {
// Kahn's algorithm over the dependencies `topological_sort` found; ties broken by original order
// so the result is deterministic. `deps[dep_begin[n]..dep_begin[n+1])` are node n's producers.
Status reorder_by_dependencies(std::vector<Node>& nodes, const std::vector<int32_t>& dep_begin, const std::vector<int32_t>& deps) {
  const size_t nn = nodes.size();
  std::vector<int32_t> pending(nn, 0), consumer_begin(nn + 1, 0), consumers(deps.size());
  for (size_t n = 0; n < nn; ++n) {
    pending[n] = dep_begin[n + 1] - dep_begin[n];
    for (int32_t k = dep_begin[n]; k < dep_begin[n + 1]; ++k) ++consumer_begin[static_cast<size_t>(deps[static_cast<size_t>(k)]) + 1];
  }
  for (size_t n = 0; n < nn; ++n) consumer_begin[n + 1] += consumer_begin[n];
  std::vector<int32_t> fill(consumer_begin.begin(), consumer_begin.end() - 1);
  for (size_t n = 0; n < nn; ++n)
    for (int32_t k = dep_begin[n]; k < dep_begin[n + 1]; ++k)
      consumers[static_cast<size_t>(fill[static_cast<size_t>(deps[static_cast<size_t>(k)])]++)] = static_cast<int32_t>(n);
  std::priority_queue<int32_t, std::vector<int32_t>, std::greater<>> ready;
  for (size_t n = 0; n < nn; ++n)
    if (pending[n] == 0) ready.push(static_cast<int32_t>(n));
  std::vector<int32_t> order;
  order.reserve(nn);
  while (!ready.empty()) {
    int32_t n = ready.top();
    ready.pop();
    order.push_back(n);
    for (int32_t k = consumer_begin[static_cast<size_t>(n)]; k < consumer_begin[static_cast<size_t>(n) + 1]; ++k)
      if (--pending[static_cast<size_t>(consumers[static_cast<size_t>(k)])] == 0) ready.push(consumers[static_cast<size_t>(k)]);
  }
  if (order.size() != nn) {
    for (size_t n = 0; n < nn; ++n)
      if (pending[n] > 0)
        return Status(StatusCode::invalid_argument, "the graph has a cycle through " + nodes[n].describe());
  }
  std::vector<Node> sorted;
  sorted.reserve(nn);
  for (int32_t n : order) sorted.push_back(std::move(nodes[static_cast<size_t>(n)]));
  nodes = std::move(sorted);
  return {};
}
}  // namespace

Status Graph::topological_sort(const std::vector<std::string>& outer_scope_names) {
  const size_t nv = values.size();
  std::vector<int32_t> producer(nv, -1);
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int32_t o : nodes[n].outputs) {
      if (o < 0) continue;
      if (static_cast<size_t>(o) >= nv) return Status(StatusCode::invalid_argument, nodes[n].describe() + ": bad output id");
      if (producer[static_cast<size_t>(o)] >= 0)
        return Status(StatusCode::invalid_argument, "value '" + values[static_cast<size_t>(o)].name +
                                                        "' is produced by both " + nodes[static_cast<size_t>(producer[static_cast<size_t>(o)])].describe() +
                                                        " and " + nodes[n].describe());
      producer[static_cast<size_t>(o)] = static_cast<int32_t>(n);
    }
  std::vector<char> available(nv, 0);
  for (int32_t id : inputs) available[static_cast<size_t>(id)] = 1;
  for (const auto& [id, t] : initializers) available[static_cast<size_t>(id)] = 1;
  std::set<std::string> outer(outer_scope_names.begin(), outer_scope_names.end());
  for (size_t v = 0; v < nv; ++v)
    if (!available[v] && producer[v] < 0 && outer.count(values[v].name)) available[v] = 1;

  // Each node's producers (deduplicated), checked on the way: every read is provided, no node
  // reads its own output. Stored flat (CSR): a per-node container costs an allocation per node.
  std::vector<int32_t> dep_begin(nodes.size() + 1, 0), deps;
  deps.reserve(nodes.size());
  bool already_sorted = true;
  for (size_t n = 0; n < nodes.size(); ++n) {
    const size_t first = deps.size();
    auto need = [&](int32_t v, const char* what) -> Status {
      if (v < 0) return {};
      if (static_cast<size_t>(v) >= nv) return Status(StatusCode::invalid_argument, nodes[n].describe() + ": bad input id");
      int32_t p = producer[static_cast<size_t>(v)];
      if (p == static_cast<int32_t>(n))
        return Status(StatusCode::invalid_argument, nodes[n].describe() + " reads its own output (a cycle)");
      if (p >= 0) {
        deps.push_back(p);
        already_sorted = already_sorted && p < static_cast<int32_t>(n);
      } else if (!available[static_cast<size_t>(v)]) {
        return Status(StatusCode::invalid_argument, nodes[n].describe() + " reads " + what + " '" +
                                                        values[static_cast<size_t>(v)].name +
                                                        "', which no node, graph input or initializer provides");
      }
      return {};
    };
    for (int32_t v : nodes[n].inputs) SY_RETURN_IF_ERROR(need(v, "value"));
    std::set<std::string> nested;
    collect_attr_reads(nodes[n], nested);
    for (const auto& name : nested) {
      int32_t v = find_value(name);
      if (v >= 0 && producer[static_cast<size_t>(v)] != static_cast<int32_t>(n)) SY_RETURN_IF_ERROR(need(v, "outer-scope value"));
    }
    std::sort(deps.begin() + static_cast<std::ptrdiff_t>(first), deps.end());
    deps.erase(std::unique(deps.begin() + static_cast<std::ptrdiff_t>(first), deps.end()), deps.end());
    dep_begin[n + 1] = static_cast<int32_t>(deps.size());
  }
  if (already_sorted) return {};  // Kahn's order below would be the identity
  return reorder_by_dependencies(nodes, dep_begin, deps);
}

void collect_nested_value_names(const Node& node, std::set<std::string>& names) {
  auto visit = [&](const Graph& g) {
    for (const ValueInfo& v : g.values) names.insert(v.name);
    for (const Node& inner : g.nodes) collect_nested_value_names(inner, names);
  };
  for (const Attribute& a : node.attributes) {
    if (a.g) visit(*a.g);
    for (const auto& g : a.graphs)
      if (g) visit(*g);
  }
}

}  // namespace switchyard
