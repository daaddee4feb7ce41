// The stress suite's workload, ledger and measurements (models_stress.h).
#include "models_stress.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include "models_partition.h"
#include "switchyard/conformance/check.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::conformance {

namespace {

constexpr size_t kInputSets = 8;  // distinct inputs: a result handed to the wrong prediction differs
constexpr int64_t kRows = 32, kWidth = 128, kClasses = 16;

ValueType float_tensor(const Shape& dims) {
  ValueType t;
  t.tensor.elem = ElementType::float32;
  std::vector<Dim> shape;
  for (int64_t d : dims) shape.push_back({d, ""});
  t.tensor.shape = shape;
  return t;
}

Node make_node(const std::string& op, const std::string& name, std::vector<int32_t> inputs, int32_t output) {
  Node n;
  n.op_type = op, n.name = name, n.opset = 13;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  return n;
}

Tensor uniform_tensor(const Shape& shape, double scale, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-scale, scale);
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = static_cast<float>(uniform(rng));
  return t;
}

std::shared_ptr<Model> new_model(const std::string& name) {
  auto model = std::make_shared<Model>();
  model->graph.name = name;
  model->graph.opsets = {{"", 13}};
  return model;
}

// y = Softmax(Relu(x W1 + b1) W2 + b2): x [32,128], W1 [128,128], W2 [128,16].
std::shared_ptr<Model> mlp_model(std::mt19937_64& rng) {
  auto model = new_model("mlp");
  Graph& g = model->graph;
  const int32_t x = g.add_value("x", float_tensor({kRows, kWidth}));
  const int32_t w1 = g.add_value("W1", float_tensor({kWidth, kWidth})), b1 = g.add_value("b1", float_tensor({kWidth}));
  const int32_t w2 = g.add_value("W2", float_tensor({kWidth, kClasses})), b2 = g.add_value("b2", float_tensor({kClasses}));
  const int32_t mm1 = g.add_value("mm1", float_tensor({kRows, kWidth})), h1 = g.add_value("h1", float_tensor({kRows, kWidth}));
  const int32_t r1 = g.add_value("r1", float_tensor({kRows, kWidth})), mm2 = g.add_value("mm2", float_tensor({kRows, kClasses}));
  const int32_t logits = g.add_value("logits", float_tensor({kRows, kClasses})), y = g.add_value("y", float_tensor({kRows, kClasses}));
  const double scale = 1 / std::sqrt(static_cast<double>(kWidth));
  g.initializers[w1] = uniform_tensor({kWidth, kWidth}, scale, rng);
  g.initializers[b1] = uniform_tensor({kWidth}, 0.1, rng);
  g.initializers[w2] = uniform_tensor({kWidth, kClasses}, scale, rng);
  g.initializers[b2] = uniform_tensor({kClasses}, 0.1, rng);
  g.nodes = {make_node("MatMul", "mm1", {x, w1}, mm1), make_node("Add", "bias1", {mm1, b1}, h1), make_node("Relu", "relu", {h1}, r1),
             make_node("MatMul", "mm2", {r1, w2}, mm2), make_node("Add", "bias2", {mm2, b2}, logits),
             make_node("Softmax", "softmax", {logits}, y)};
  g.inputs = {x};
  g.outputs = {y};
  return model;
}

// One elementwise node on [32,128] inputs: z = a + b, or z = Relu(a).
std::shared_ptr<Model> single_node_model(const std::string& op) {
  auto model = new_model(op == "Add" ? "add" : "relu");
  Graph& g = model->graph;
  const int32_t a = g.add_value("a", float_tensor({kRows, kWidth}));
  const int32_t z = g.add_value("z", float_tensor({kRows, kWidth}));
  g.inputs = {a};
  if (op == "Add") g.inputs.push_back(g.add_value("b", float_tensor({kRows, kWidth})));
  g.nodes = {make_node(op, op == "Add" ? "add" : "relu", g.inputs, z)};
  g.outputs = {z};
  return model;
}

struct Candidate {
  std::string name;  // "mlp (MatMul+Add+Relu+Softmax)"
  std::shared_ptr<Model> model;
};

std::vector<Candidate> candidates(uint64_t seed) {
  std::mt19937_64 rng(seed);
  return {{"mlp (MatMul+Add+Relu+Softmax)", mlp_model(rng)}, {"add (Add)", single_node_model("Add")}, {"relu (Relu)", single_node_model("Relu")}};
}

std::vector<std::vector<Value>> input_sets(const Graph& graph, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5eed5e75);
  std::vector<std::vector<Value>> sets(kInputSets);
  for (auto& set : sets)
    for (int32_t id : graph.inputs) set.push_back(Value::of(uniform_tensor(*graph.values[static_cast<size_t>(id)].type.tensor.static_shape(), 1.0, rng)));
  return sets;
}

// Per output: the suite's rtol/atol, or for narrow-float devices at least the tolerance derived
// from this computation (tolerance.h), as the single-node suites hold them.
Result<std::vector<Tolerance>> tolerances_for(const Graph& graph, const std::vector<Value>& inputs, ElementType compute, double rtol,
                                              double atol) {
  std::vector<Tolerance> fixed(graph.outputs.size(), Tolerance{.atol = atol, .rtol = rtol});
  if (compute == ElementType::float32 || !is_floating(compute)) return fixed;
  SY_ASSIGN_OR_RETURN(auto derived, derive_case_tolerances(graph, inputs, compute));
  for (size_t i = 0; i < fixed.size() && i < derived.size(); ++i)
    fixed[i] = {.atol = std::max(atol, derived[i].atol), .rtol = std::max(rtol, derived[i].rtol)};
  return fixed;
}

// The candidate loaded on the target, with its inputs and the reference's outputs.
Result<StressWorkload> make_workload(const Candidate& c, const Target& target, double rtol, double atol, uint64_t seed) {
  StressWorkload w;
  w.name = c.name;
  w.inputs = input_sets(c.model->graph, seed);
  SY_ASSIGN_OR_RETURN(PartitionedLoad load, load_partitioned(c.model, target, w.inputs[0]));
  if (load.device_nodes == 0) return Status(StatusCode::unsupported, c.name + ": " + refusals_of(*load.model, target.device_id));
  w.placement = load.placement;
  w.registry = target.registry;
  w.model = std::move(load.model);
  for (const auto& inputs : w.inputs) {
    SY_ASSIGN_OR_RETURN(auto expected, reference::Interpreter().run(c.model->graph, inputs));
    SY_ASSIGN_OR_RETURN(auto tolerances, tolerances_for(c.model->graph, inputs, target.compute_type, rtol, atol));
    w.expected.push_back(std::move(expected));
    w.tolerances.push_back(std::move(tolerances));
  }
  return w;
}

bool whole_on_device(const StressWorkload& w, const std::string& device_id) {
  for (const auto& p : w.model->plan().placements)
    if (p.device != device_id) return false;
  return true;
}

}  // namespace

std::string StressWorkload::check(size_t set, const std::vector<Value>& outputs) const {
  if (outputs.size() != expected[set].size())
    return "got " + std::to_string(outputs.size()) + " outputs, expected " + std::to_string(expected[set].size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    std::string diff = compare_values(expected[set][k], outputs[k], tolerances[set][k].rtol, tolerances[set][k].atol);
    if (!diff.empty()) return "input set " + std::to_string(set) + ", output " + std::to_string(k) + ": " + diff;
  }
  return {};
}

Result<std::vector<StressWorkload>> stress_workloads(const Target& target, double rtol, double atol, uint64_t seed, size_t wanted) {
  if (!target.device || !target.registry)
    return Status(StatusCode::unavailable, "the stress suite needs a device: " + target.device_id + " has no asynchronous prediction path");
  std::vector<StressWorkload> claimed;
  std::string refusals;
  const std::vector<Candidate> all = candidates(seed);
  for (const auto& c : all) {
    auto w = make_workload(c, target, rtol, atol, seed);
    if (w.ok()) claimed.push_back(std::move(w).value());
    else if (w.status().code() == StatusCode::unsupported) refusals += (refusals.empty() ? "" : "; ") + w.status().message();
    else return w.status().with_context(c.name);
  }
  if (claimed.empty()) return Status(StatusCode::unsupported, "the device claims none of the stress models: " + refusals);
  std::stable_partition(claimed.begin(), claimed.end(), [&](const StressWorkload& w) { return whole_on_device(w, target.device_id); });
  const auto first = std::find_if(all.begin(), all.end(), [&](const Candidate& c) { return c.name == claimed.front().name; });
  while (claimed.size() < wanted) {  // another executable of the same graph
    SY_ASSIGN_OR_RETURN(StressWorkload again, make_workload(*first, target, rtol, atol, seed));
    again.name += " (executable " + std::to_string(claimed.size() + 1) + ")";
    claimed.push_back(std::move(again));
  }
  claimed.resize(std::min(claimed.size(), wanted));
  return claimed;
}

// ---- StressLedger ----

StressLedger::StressLedger(size_t predictions) : n_(predictions), calls_(predictions), tags_(predictions), outcomes_(predictions) {}

void StressLedger::tag(size_t i, const std::string& label) { tags_[i] = label; }

std::function<void(Result<Outputs>)> StressLedger::callback(size_t i, const StressWorkload& workload, size_t set, unsigned allowed) {
  return [this, i, &workload, set, allowed](Result<Outputs> r) {
    if (calls_[i].fetch_add(1) > 0) return record(i, "", "completed more than once");
    const std::string where = "prediction " + std::to_string(i) + " (" + workload.name + ")";
    if (r.ok()) {
      if (!(allowed & may_succeed)) return record(i, "succeeded", "succeeded though it could not: " + where + ", " + tags_[i]);
      const std::string diff = workload.check(set, *r);
      return record(i, diff.empty() ? "correct" : "wrong", diff.empty() ? "" : "wrong result: " + where + ": " + diff);
    }
    const StatusCode code = r.status().code();
    const bool allowed_failure = (code == StatusCode::cancelled && (allowed & may_cancel)) ||
                                 (code == StatusCode::deadline_exceeded && (allowed & may_miss_deadline)) ||
                                 (code == StatusCode::unavailable && (allowed & may_be_rejected));
    const std::string name = code == StatusCode::unavailable ? "rejected" : status_code_name(code);
    record(i, name, allowed_failure ? "" : "unexpected " + name + ": " + where + (tags_[i].empty() ? "" : ", " + tags_[i]) + ": " + r.status().to_string());
  };
}

void StressLedger::record(size_t i, const std::string& outcome, const std::string& problem) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!problem.empty()) {
    auto& [count, first] = problems_[problem.substr(0, problem.find(':'))];
    if (count++ == 0) first = problem;
  }
  if (outcome.empty()) return;  // a second completion: counted once already
  outcomes_[i] = outcome;
  correct_ += outcome == "correct";
  cancelled_ += outcome == "cancelled";
  deadline_exceeded_ += outcome == "deadline_exceeded";
  rejected_ += outcome == "rejected";
  if (++completed_ == n_) all_done_.notify_all();
}

bool StressLedger::wait_all(std::chrono::steady_clock::duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return all_done_.wait_for(lock, timeout, [&] { return completed_ == n_; });
}

std::string StressLedger::outcomes_by_tag() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> order;
  std::map<std::string, std::map<std::string, size_t>> counts;
  for (size_t i = 0; i < n_; ++i) {
    if (!counts.count(tags_[i])) order.push_back(tags_[i]);
    ++counts[tags_[i]][outcomes_[i].empty() ? "never completed" : outcomes_[i]];
  }
  std::string text;
  for (const auto& tag : order) {
    std::string line;
    for (const auto& [outcome, count] : counts[tag]) line += (line.empty() ? "" : ", ") + std::to_string(count) + " " + outcome;
    text += (text.empty() ? "" : "; ") + (tag.empty() ? "" : tag + ": ") + line;
  }
  return text;
}

std::string StressLedger::problems() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string text;
  if (completed_ < n_) {
    size_t first = 0;
    while (first < n_ && calls_[first].load() > 0) ++first;
    text = std::to_string(n_ - completed_) + " of " + std::to_string(n_) + " predictions never completed (the first: prediction " +
           std::to_string(first) + (tags_[first].empty() ? "" : ", " + tags_[first]) + ")";
  }
  for (const auto& [kind, entry] : problems_)
    text += (text.empty() ? "" : "; ") + std::to_string(entry.first) + " x " + kind + " (first: " + entry.second + ")";
  return text;
}

// ---- measurements ----

size_t peak_overlap(const std::vector<std::vector<PredictEvent>>& events_per_prediction) {
  std::vector<std::pair<std::chrono::steady_clock::time_point, int>> edges;  // (time, +1 start / -1 end)
  for (const auto& events : events_per_prediction) {
    bool any = false;
    std::chrono::steady_clock::time_point start, end;
    for (const auto& e : events) {
      if (e.kind != PredictEvent::Kind::segment) continue;
      start = any ? std::min(start, e.start) : e.start;
      end = any ? std::max(end, e.end) : e.end;
      any = true;
    }
    if (any) edges.push_back({start, +1}), edges.push_back({end, -1});
  }
  std::sort(edges.begin(), edges.end());  // at equal times an end (-1) comes before a start
  size_t running = 0, peak = 0;
  for (const auto& [t, step] : edges) {
    running = step > 0 ? running + 1 : running - 1;
    peak = std::max(peak, running);
  }
  return peak;
}

MemoryUse memory_use() {
  malloc_trim(0);
  MemoryUse use;
  const struct mallinfo2 heap = mallinfo2();
  use.heap = static_cast<int64_t>(heap.uordblks + heap.hblkhd);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) use.rss = std::stoll(line.substr(6)) * 1024;  // "VmRSS:   123456 kB"
  return use;
}

}  // namespace switchyard::conformance
