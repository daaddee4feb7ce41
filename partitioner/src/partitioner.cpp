// Assignment of nodes to devices, segment formation and placement reasons.
#include "switchyard/partitioner/partitioner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>

namespace switchyard {

namespace {

// A rows x cols table in one allocation; `t[row][col]` as with nested vectors (a vector per node
// cost an allocation per node on million-node graphs).
template <typename T>
class Table {
 public:
  Table() = default;
  Table(size_t rows, size_t cols) : cols_(cols), cells_(rows * cols, T{}) {}
  T* operator[](size_t row) { return cells_.data() + row * cols_; }
  const T* operator[](size_t row) const { return cells_.data() + row * cols_; }

 private:
  size_t cols_ = 0;
  std::vector<T> cells_;
};

std::string ms(double us) {
  char buf[32];
  if (us < 10) std::snprintf(buf, sizeof buf, "%.3f ms", us / 1000);
  else std::snprintf(buf, sizeof buf, "%.2f ms", us / 1000);
  return buf;
}

double default_power(const DeviceFigures& d) {
  if (d.active_power_watts > 0) return d.active_power_watts;
  if (d.kind == "npu") return 5;
  if (d.kind == "gpu") return 60;
  return 30;
}

// The host, as a pseudo-device: graph inputs start there and graph outputs end there.
DeviceFigures host_figures() {
  DeviceFigures h;
  h.id = "host";
  h.kind = "cpu";
  h.memory_bandwidth_gbps = 20;
  return h;
}

struct UnionFind {
  std::vector<int32_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int32_t find(int32_t x) {
    while (parent[static_cast<size_t>(x)] != x) x = parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    return x;
  }
};

}  // namespace

Result<std::vector<std::string>> Partitioner::allowed_devices(const Policy& policy, const std::vector<DeviceFigures>& devices,
                                                              std::vector<std::string>* preferred) {
  std::vector<std::string> allowed, pref;
  std::string present;
  for (const auto& d : devices) present += (present.empty() ? "" : ", ") + d.id;
  if (present.empty()) present = "none";
  if (!policy.devices.empty()) {
    for (const auto& id : policy.devices) {
      bool found = std::any_of(devices.begin(), devices.end(), [&](const DeviceFigures& d) { return d.id == id; });
      if (!found) return Status(StatusCode::not_found, "policy names device '" + id + "', which is not present (devices present: " + present + ")");
      if (std::find(allowed.begin(), allowed.end(), id) == allowed.end()) allowed.push_back(id);
    }
    pref.push_back(allowed.front());
  } else {
    auto add_kind = [&](const std::string& kind, bool is_preferred) {
      for (const auto& d : devices)
        if (d.kind == kind) {
          allowed.push_back(d.id);
          if (is_preferred) pref.push_back(d.id);
        }
    };
    switch (policy.units) {
      case ComputeUnits::cpu_only: add_kind("cpu", true); break;
      case ComputeUnits::cpu_and_gpu: add_kind("gpu", true); add_kind("cpu", false); break;
      case ComputeUnits::cpu_and_npu: add_kind("npu", true); add_kind("cpu", false); break;
      case ComputeUnits::all:
        add_kind("npu", true); add_kind("gpu", true); add_kind("other", true); add_kind("cpu", false);
        if (pref.empty()) pref = allowed;  // a CPU-only machine: the CPU is what "all" prefers
        break;
    }
    if (allowed.empty())
      return Status(StatusCode::unavailable, std::string("no device matches compute units '") + compute_units_name(policy.units) +
                                                 "' (devices present: " + present + ")");
  }
  if (preferred) *preferred = pref;
  return allowed;
}

namespace {

// One call of Partitioner::partition: its inputs and the tables its phases build and share. The
// public phases run in the order they are declared; each reads what the earlier ones left.
// Devices are numbered by their index in `allowed_` (d), nodes by their index in the graph (n).
class PartitionRun {
 public:
  PartitionRun(const PartitionInput& in, const CostModel& cost, std::vector<std::string> allowed,
               std::vector<std::string> preferred);

  Status check_support_answers() const;
  Status find_candidates();
  void apply_objective();
  void estimate_costs();
  void assign_greedily();
  void form_segments();
  void refine_segments();
  void merge_segments();
  void cut_segments_to_device_memory();
  Result<Plan> build_plan();

 private:
  // Every allowed id (and so every id a segment or placement carries) is one of in.devices.
  const DeviceFigures& device_figures(size_t d) const { return *figures_by_id_.at(allowed_[d]); }
  const DeviceFigures& device_figures(const std::string& id) const { return *figures_by_id_.at(id); }

  // Candidates and costs.
  std::string pinned_device(const Node& node) const;
  std::set<std::string> banned_devices(const Node& node) const;
  bool is_candidate(size_t n, size_t d) const;
  double transfer_cost(double bytes, const DeviceFigures& a, const DeviceFigures& b) const;
  double input_cost(size_t n, size_t d) const;

  // Refinement and merging.
  bool move_segment(size_t s, const std::vector<int32_t>& members);
  double segment_cost(const std::vector<int32_t>& members, int32_t d) const;
  void link_segments();
  void merge_along_edges(std::vector<std::set<int32_t>>& cdeps,
                         std::vector<std::set<int32_t>>& cdependents);
  void join_sources_to_consumers(const std::vector<std::set<int32_t>>& cdependents);
  double weight_bytes(size_t n, const DeviceFigures& f) const;

  // The plan.
  void number_final_segments();
  void link_final_segments();
  void note_segment_read(size_t n, int32_t v);
  std::vector<int32_t> segment_execution_order() const;
  Status order_final_segments();
  void estimate_times();
  void estimate_segment(Segment& s);
  void explain_placements();
  size_t accelerator_fallback(size_t n) const;
  std::string pin_note(const Node& node) const;
  std::string cost_text(double v) const;
  std::string accelerator_reason(size_t n, size_t fallback) const;
  std::string comparison_reason(size_t n, const DeviceFigures& chosen) const;
  Status check_strict() const;
  std::string preferred_refusals(size_t n) const;

  // Inputs.
  const PartitionInput& in_;
  const Graph& graph_;
  const CostModel& cost_;
  const std::vector<std::string> allowed_;    // device ids the policy allows, in policy order
  const std::vector<std::string> preferred_;  // those of them the policy prefers
  std::map<std::string, const DeviceFigures*> figures_by_id_;
  const DeviceFigures host_;
  const size_t node_count_, device_count_;

  // Candidates: can_run_[n][d] when the policy lets node n use device d and d supports it;
  // why_only_[n] says why the other allowed devices cannot, when some can.
  Table<char> can_run_;
  std::vector<std::string> why_only_;

  // Objective.
  Objective objective_ = Objective::automatic;
  bool accelerator_first_ = false;
  bool power_ = false;                   // costs are energy (uJ), not time
  std::vector<char> is_preferred_;       // per device
  std::vector<char> preferred_can_run_;  // per node: some preferred device can run it

  // Costs: node_cost_[n][d] in the objective's units; per value its producing node (-1: none)
  // and its bytes.
  Table<double> node_cost_;
  std::vector<int32_t> producer_;
  std::vector<double> value_bytes_;

  // Assignment and segments: the device of each node, the segment of each node and the device
  // of each segment.
  std::vector<int32_t> device_of_;
  std::vector<int32_t> segment_of_, segment_device_;

  // Refinement: the nodes reading each value, and which values are graph outputs.
  std::vector<std::vector<int32_t>> consumers_;
  std::vector<char> is_graph_output_;

  // Merging: the edges between refined segments, and the groups they merge into.
  std::vector<std::set<int32_t>> segment_deps_, segment_dependents_;
  UnionFind segment_groups_{0};

  // Device memory: the piece of its merged segment each node falls in, and a note where a
  // piece starts.
  std::vector<int32_t> piece_;
  std::vector<std::string> cut_note_;

  // The plan: each node's final segment, and per final segment (numbered by first node until
  // ordered) its nodes, dependencies, inputs, outputs and estimated finish time.
  Plan plan_;
  std::vector<int32_t> final_segment_;
  std::vector<Segment> segments_;
  std::vector<std::set<int32_t>> final_deps_, final_inputs_, final_outputs_;
  std::vector<double> finish_;
};

PartitionRun::PartitionRun(const PartitionInput& in, const CostModel& cost, std::vector<std::string> allowed,
                           std::vector<std::string> preferred)
    : in_(in),
      graph_(*in.graph),
      cost_(cost),
      allowed_(std::move(allowed)),
      preferred_(std::move(preferred)),
      host_(host_figures()),
      node_count_(graph_.nodes.size()),
      device_count_(allowed_.size()) {
  for (const auto& d : in.devices) figures_by_id_[d.id] = &d;
}

// Every allowed device must have answered for every node.
Status PartitionRun::check_support_answers() const {
  for (const auto& id : allowed_) {
    auto it = in_.support.find(id);
    if (it == in_.support.end() || it->second.size() != node_count_)
      return Status(StatusCode::internal, "partition: no support answers for " + id);
  }
  return Status::ok_status();
}

// --- candidates per node -------------------------------------------------------------
// Fails with one line per node that no allowed device can run.
Status PartitionRun::find_candidates() {
  can_run_ = Table<char>(node_count_, device_count_);
  why_only_.assign(node_count_, std::string());
  std::string errors;
  int error_count = 0;
  for (size_t n = 0; n < node_count_; ++n) {
    const Node& node = graph_.nodes[n];
    const std::string pin = pinned_device(node);
    const std::set<std::string> banned = banned_devices(node);
    std::string refusals;
    int count = 0;
    for (size_t d = 0; d < device_count_; ++d) {
      const auto& ans = in_.support.at(allowed_[d])[n];
      if (!pin.empty() && allowed_[d] != pin) continue;
      if (banned.count(allowed_[d])) {
        refusals += "; " + allowed_[d] + ": banned by the policy";
        continue;
      }
      if (!ans.supported()) {
        refusals += "; " + allowed_[d] + ": " + ans.message + " (" + support_reason_name(ans.reason) + ")";
        continue;
      }
      can_run_[n][d] = 1;
      ++count;
    }
    if (!pin.empty() && std::find(allowed_.begin(), allowed_.end(), pin) == allowed_.end()) {
      ++error_count;
      errors += "\n  " + node.describe() + ": pinned to " + pin + ", which the policy does not allow";
      continue;
    }
    if (count == 0) {
      ++error_count;
      errors += "\n  " + node.describe() + ": no allowed device can run it" + refusals;
      continue;
    }
    if (!refusals.empty()) why_only_[n] = refusals.substr(2);
  }
  if (error_count > 0)
    return Status(StatusCode::unsupported, std::to_string(error_count) + " node(s) cannot be placed under policy " +
                                               in_.policy.canonical() + ":" + errors);
  return Status::ok_status();
}

// The device a policy pin sends `node` to (a pin by name before one by op type), or "".
std::string PartitionRun::pinned_device(const Node& node) const {
  std::string pin;
  const Policy& policy = in_.policy;
  if (auto p = policy.pin_nodes.find(node.name); !node.name.empty() && p != policy.pin_nodes.end()) pin = p->second;
  else if (auto q = policy.pin_ops.find(node.op_type); q != policy.pin_ops.end()) pin = q->second;
  return pin;
}

// The devices the policy bans for `node`, by name and by op type.
std::set<std::string> PartitionRun::banned_devices(const Node& node) const {
  std::set<std::string> banned;
  const Policy& policy = in_.policy;
  if (auto b = policy.ban_nodes.find(node.name); !node.name.empty() && b != policy.ban_nodes.end())
    banned.insert(b->second.begin(), b->second.end());
  if (auto b = policy.ban_ops.find(node.op_type); b != policy.ban_ops.end())
    banned.insert(b->second.begin(), b->second.end());
  return banned;
}

// --- objective ---------------------------------------------------------------------------
// Under `accelerator`, a node that a preferred device (an accelerator the units name) can run
// may only go to preferred devices; the cost model chooses among those.
void PartitionRun::apply_objective() {
  objective_ = in_.policy.effective_objective();
  accelerator_first_ = objective_ == Objective::accelerator;
  is_preferred_.assign(device_count_, 0);
  for (size_t d = 0; d < device_count_; ++d)
    is_preferred_[d] = std::find(preferred_.begin(), preferred_.end(), allowed_[d]) != preferred_.end();
  preferred_can_run_.assign(node_count_, 0);
  for (size_t n = 0; n < node_count_; ++n)
    for (size_t d = 0; d < device_count_; ++d)
      if (can_run_[n][d] && is_preferred_[d]) preferred_can_run_[n] = 1;
}

bool PartitionRun::is_candidate(size_t n, size_t d) const {
  return can_run_[n][d] && (!accelerator_first_ || !preferred_can_run_[n] || is_preferred_[d]);
}

// --- costs ---------------------------------------------------------------------------
void PartitionRun::estimate_costs() {
  node_cost_ = Table<double>(node_count_, device_count_);
  for (size_t n = 0; n < node_count_; ++n) {
    NodeWork w = estimate_work(graph_, graph_.nodes[n]);
    for (size_t d = 0; d < device_count_; ++d) {
      double t = cost_.node_us(graph_.nodes[n], w, device_figures(d));
      node_cost_[n][d] = objective_ == Objective::power ? t * default_power(device_figures(d)) : t;
    }
  }
  producer_.assign(graph_.values.size(), -1);
  for (size_t n = 0; n < node_count_; ++n)
    for (int32_t o : graph_.nodes[n].outputs)
      if (o >= 0) producer_[static_cast<size_t>(o)] = static_cast<int32_t>(n);
  value_bytes_.assign(graph_.values.size(), 0);
  for (size_t v = 0; v < graph_.values.size(); ++v) value_bytes_[v] = value_bytes(graph_, static_cast<int32_t>(v));
  power_ = objective_ == Objective::power;
}

double PartitionRun::transfer_cost(double bytes, const DeviceFigures& a, const DeviceFigures& b) const {
  double t = cost_.transfer_us(bytes, a, b);
  return power_ ? t * 10 : t;  // moving data costs energy too (~10 W of link and memory)
}

// Cost of bringing node n's inputs to device d from where their producers are now (the host for
// graph inputs), plus a launch unless n continues a producer's work on d.
double PartitionRun::input_cost(size_t n, size_t d) const {
  double t = 0;
  bool continues = false;
  for (int32_t v : graph_.nodes[n].inputs) {
    if (v < 0 || graph_.is_initializer(v)) continue;
    int32_t p = producer_[static_cast<size_t>(v)];
    const DeviceFigures& from = p < 0 ? host_ : device_figures(static_cast<size_t>(device_of_[static_cast<size_t>(p)]));
    if (p >= 0 && device_of_[static_cast<size_t>(p)] == static_cast<int32_t>(d)) continues = true;
    t += transfer_cost(value_bytes_[static_cast<size_t>(v)], from, device_figures(d));
  }
  if (!continues) t += cost_.launch_us(device_figures(d));
  return t;
}

// --- greedy assignment in topological order ----------------------------------------------
void PartitionRun::assign_greedily() {
  device_of_.assign(node_count_, -1);
  for (size_t n = 0; n < node_count_; ++n) {
    double best = INFINITY;
    for (size_t d = 0; d < device_count_; ++d) {
      if (!is_candidate(n, d)) continue;
      double c = node_cost_[n][d] + input_cost(n, d);
      if (c < best - 1e-9) {
        best = c;
        device_of_[n] = static_cast<int32_t>(d);
      }
    }
  }
}

// --- segments ------------------------------------------------------------------------------
// Nodes join the segment of their highest-numbered producer segment when it is on the same
// device; otherwise they open a new one. Every edge between segments then goes from a lower
// id to a higher id, so the segment graph is acyclic by construction.
void PartitionRun::form_segments() {
  segment_of_.assign(node_count_, -1);
  segment_device_.clear();
  for (size_t n = 0; n < node_count_; ++n) {
    int32_t m = -1;
    for (int32_t v : graph_.nodes[n].inputs) {
      if (v < 0) continue;
      int32_t p = producer_[static_cast<size_t>(v)];
      if (p >= 0) m = std::max(m, segment_of_[static_cast<size_t>(p)]);
    }
    if (m >= 0 && segment_device_[static_cast<size_t>(m)] == device_of_[n]) {
      segment_of_[n] = m;
    } else {
      segment_of_[n] = static_cast<int32_t>(segment_device_.size());
      segment_device_.push_back(device_of_[n]);
    }
  }
}

// --- refinement: move whole segments where that lowers the estimate (fragments whose
// transfers outweigh their gain go to their neighbours' device) ----------------------------
void PartitionRun::refine_segments() {
  consumers_.assign(graph_.values.size(), std::vector<int32_t>());
  for (size_t n = 0; n < node_count_; ++n)
    for (int32_t v : graph_.nodes[n].inputs)
      if (v >= 0) consumers_[static_cast<size_t>(v)].push_back(static_cast<int32_t>(n));
  is_graph_output_.assign(graph_.values.size(), 0);
  for (int32_t o : graph_.outputs) is_graph_output_[static_cast<size_t>(o)] = 1;
  for (int pass = 0; pass < 8; ++pass) {
    bool changed = false;
    std::vector<std::vector<int32_t>> members(segment_device_.size());
    for (size_t n = 0; n < node_count_; ++n)
      members[static_cast<size_t>(segment_of_[n])].push_back(static_cast<int32_t>(n));
    for (size_t s = 0; s < members.size(); ++s) {
      if (members[s].empty()) continue;
      if (move_segment(s, members[s])) changed = true;
    }
    if (!changed) break;
    form_segments();
  }
}

// Moves segment s (whose nodes are `members`) to the candidate device of all its nodes where it
// costs clearly less than where it is; says whether it moved.
bool PartitionRun::move_segment(size_t s, const std::vector<int32_t>& members) {
  const int32_t cur = segment_device_[s];
  double cur_cost = segment_cost(members, cur);
  int32_t best_d = cur;
  double best_cost = cur_cost;
  for (size_t d = 0; d < device_count_; ++d) {
    if (static_cast<int32_t>(d) == cur) continue;
    bool all_ok =
        std::all_of(members.begin(), members.end(), [&](int32_t n) { return is_candidate(static_cast<size_t>(n), d); });
    if (!all_ok) continue;
    double c = segment_cost(members, static_cast<int32_t>(d));
    if (c < best_cost - 1e-6 * std::max(1.0, best_cost)) {
      best_cost = c;
      best_d = static_cast<int32_t>(d);
    }
  }
  if (best_d == cur) return false;
  for (int32_t n : members) device_of_[static_cast<size_t>(n)] = best_d;
  segment_device_[s] = best_d;
  return true;
}

// Cost of the segment's nodes and of every edge touching it, on device d.
double PartitionRun::segment_cost(const std::vector<int32_t>& members, int32_t d) const {
  const DeviceFigures& on = device_figures(static_cast<size_t>(d));
  double t = cost_.launch_us(on);
  std::set<int32_t> in_seg(members.begin(), members.end());
  for (int32_t n : members) {
    t += node_cost_[static_cast<size_t>(n)][static_cast<size_t>(d)];
    for (int32_t v : graph_.nodes[static_cast<size_t>(n)].inputs) {
      if (v < 0 || graph_.is_initializer(v)) continue;
      int32_t p = producer_[static_cast<size_t>(v)];
      if (p >= 0 && in_seg.count(p)) continue;
      const DeviceFigures& from =
          p < 0 ? host_ : device_figures(static_cast<size_t>(device_of_[static_cast<size_t>(p)]));
      t += transfer_cost(value_bytes_[static_cast<size_t>(v)], from, on);
    }
    for (int32_t v : graph_.nodes[static_cast<size_t>(n)].outputs) {
      if (v < 0) continue;
      std::set<int32_t> devices_out;
      for (int32_t c : consumers_[static_cast<size_t>(v)])
        if (!in_seg.count(c)) devices_out.insert(device_of_[static_cast<size_t>(c)]);
      const double bytes = value_bytes_[static_cast<size_t>(v)];
      for (int32_t od : devices_out) t += transfer_cost(bytes, on, device_figures(static_cast<size_t>(od)));
      if (is_graph_output_[static_cast<size_t>(v)]) t += transfer_cost(bytes, on, host_);
    }
  }
  return t;
}

// --- merge segments that can be merged safely (same device, single dependency / dependent) --
void PartitionRun::merge_segments() {
  link_segments();
  segment_groups_ = UnionFind(segment_device_.size());
  std::vector<std::set<int32_t>> cdeps = segment_deps_, cdependents = segment_dependents_;
  merge_along_edges(cdeps, cdependents);
  join_sources_to_consumers(cdependents);
}

// The edges between the refined segments, both ways.
void PartitionRun::link_segments() {
  const size_t S0 = segment_device_.size();
  segment_deps_.assign(S0, std::set<int32_t>());
  segment_dependents_.assign(S0, std::set<int32_t>());
  for (size_t n = 0; n < node_count_; ++n)
    for (int32_t v : graph_.nodes[n].inputs) {
      if (v < 0) continue;
      int32_t p = producer_[static_cast<size_t>(v)];
      if (p < 0) continue;
      int32_t a = segment_of_[static_cast<size_t>(p)], b = segment_of_[n];
      if (a != b) {
        segment_deps_[static_cast<size_t>(b)].insert(a);
        segment_dependents_[static_cast<size_t>(a)].insert(b);
      }
    }
}

// Work on the contracted graph: repeatedly merge B into A when A -> B, same device, and
// B depends on nothing else or A feeds nothing else. Both keep the graph acyclic.
void PartitionRun::merge_along_edges(std::vector<std::set<int32_t>>& cdeps,
                                     std::vector<std::set<int32_t>>& cdependents) {
  const size_t S0 = segment_device_.size();
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t b = 0; b < S0; ++b) {
      if (segment_groups_.find(static_cast<int32_t>(b)) != static_cast<int32_t>(b)) continue;
      std::set<int32_t> bd;
      for (int32_t x : cdeps[b]) bd.insert(segment_groups_.find(x));
      bd.erase(static_cast<int32_t>(b));
      for (int32_t a : bd) {
        std::set<int32_t> ad;
        for (int32_t x : cdependents[static_cast<size_t>(a)]) ad.insert(segment_groups_.find(x));
        ad.erase(a);
        if (segment_device_[static_cast<size_t>(a)] != segment_device_[b]) continue;
        if (bd.size() != 1 && ad.size() != 1) continue;
        // merge b into a
        segment_groups_.parent[b] = a;
        cdeps[static_cast<size_t>(a)].insert(cdeps[b].begin(), cdeps[b].end());
        cdependents[static_cast<size_t>(a)].insert(cdependents[b].begin(), cdependents[b].end());
        merged = true;
        break;  // b is gone; carry on with the next segment
      }
    }
  }
}

// Segments with no producers at all (constants, shape sources) join their single consumer.
void PartitionRun::join_sources_to_consumers(const std::vector<std::set<int32_t>>& cdependents) {
  const size_t S0 = segment_device_.size();
  std::vector<char> root_has_deps(S0, 0);
  for (size_t t = 0; t < S0; ++t)
    if (!segment_deps_[t].empty())
      root_has_deps[static_cast<size_t>(segment_groups_.find(static_cast<int32_t>(t)))] = 1;
  for (size_t s = 0; s < S0; ++s) {
    int32_t r = segment_groups_.find(static_cast<int32_t>(s));
    if (r != static_cast<int32_t>(s) || root_has_deps[s]) continue;
    std::set<int32_t> out;
    for (int32_t x : cdependents[s]) out.insert(segment_groups_.find(x));
    out.erase(r);
    if (out.size() == 1 && segment_device_[static_cast<size_t>(*out.begin())] == segment_device_[s])
      segment_groups_.parent[s] = *out.begin();
  }
}

// --- device memory: a segment's weights must fit its device -----------------------------------
// On a device with a small memory (an NPU's on-chip memory), a segment is cut, in topological
// order, where the weights it holds (at the device's float width) would pass 3/4 of that
// memory; the rest is left for activations. A cut never creates a cycle: every piece depends
// only on earlier pieces of its segment and on what the whole segment depended on.
void PartitionRun::cut_segments_to_device_memory() {
  piece_.assign(node_count_, 0);
  cut_note_.assign(node_count_, std::string());
  std::map<int32_t, std::pair<int32_t, double>> filled;  // segment root -> (piece, weight bytes)
  for (size_t n = 0; n < node_count_; ++n) {
    const DeviceFigures& f = device_figures(static_cast<size_t>(device_of_[n]));
    if (f.memory_bytes <= 0) continue;
    double w = weight_bytes(n, f);
    auto& [p, bytes] = filled[segment_groups_.find(segment_of_[n])];
    const double budget = 0.75 * f.memory_bytes;
    if (bytes > 0 && bytes + w > budget) {
      ++p;
      bytes = 0;
      char buf[160];
      std::snprintf(buf, sizeof buf, "new segment: the weights before it fill 3/4 of %s's memory (%.1f MiB)",
                    f.id.c_str(), f.memory_bytes / (1024.0 * 1024.0));
      cut_note_[n] = buf;
    }
    bytes += w;
    piece_[n] = p;
  }
}

// Bytes of the weights node n reads, float32 ones at device f's float width.
double PartitionRun::weight_bytes(size_t n, const DeviceFigures& f) const {
  double w = 0;
  for (int32_t v : graph_.nodes[n].inputs) {
    if (v < 0 || !graph_.is_initializer(v)) continue;
    const ValueType& vt = graph_.values[static_cast<size_t>(v)].type;
    const bool is_f32 = vt.kind == ValueType::Kind::tensor && vt.tensor.elem == ElementType::float32;
    w += value_bytes_[static_cast<size_t>(v)] * (is_f32 ? f.float_bytes / 4 : 1.0);
  }
  return w;
}

// --- build the plan -----------------------------------------------------------------------
Result<Plan> PartitionRun::build_plan() {
  plan_.policy = in_.policy.canonical();
  plan_.devices = allowed_;
  number_final_segments();
  link_final_segments();
  SY_RETURN_IF_ERROR(order_final_segments());
  estimate_times();
  explain_placements();
  SY_RETURN_IF_ERROR(check_strict());
  return std::move(plan_);
}

// A final segment is a merged segment's piece. Number segments by first node so the order is
// deterministic, then sort topologically.
void PartitionRun::number_final_segments() {
  std::map<std::pair<int32_t, int32_t>, int32_t> root_to_id;
  final_segment_.assign(node_count_, 0);
  for (size_t n = 0; n < node_count_; ++n) {
    std::pair<int32_t, int32_t> r{segment_groups_.find(segment_of_[n]), piece_[n]};
    if (!root_to_id.count(r)) root_to_id[r] = static_cast<int32_t>(root_to_id.size());
    final_segment_[n] = root_to_id[r];
  }
  const size_t S = root_to_id.size();
  segments_.assign(S, Segment());
  for (size_t s = 0; s < S; ++s) segments_[s].id = static_cast<int32_t>(s);
  for (size_t n = 0; n < node_count_; ++n) {
    Segment& s = segments_[static_cast<size_t>(final_segment_[n])];
    s.device = allowed_[static_cast<size_t>(device_of_[n])];
    s.nodes.push_back(static_cast<int32_t>(n));
  }
}

// What each final segment reads from other segments and the host, what it hands to others and
// to the graph outputs, and which segments it waits for.
void PartitionRun::link_final_segments() {
  const size_t S = segments_.size();
  final_deps_.assign(S, std::set<int32_t>());
  final_inputs_.assign(S, std::set<int32_t>());
  final_outputs_.assign(S, std::set<int32_t>());
  for (size_t n = 0; n < node_count_; ++n)
    for (int32_t v : graph_.nodes[n].inputs) note_segment_read(n, v);
  for (int32_t o : graph_.outputs) {
    int32_t p = producer_[static_cast<size_t>(o)];
    if (p >= 0) final_outputs_[static_cast<size_t>(final_segment_[static_cast<size_t>(p)])].insert(o);
  }
  // Nested graphs read outer values by name: a segment holding such a node needs them as inputs.
  for (size_t n = 0; n < node_count_; ++n)
    for (const auto& a : graph_.nodes[n].attributes) {
      std::vector<const Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      for (const Graph* sub : subs)
        for (int32_t sv : sub->outer_scope_values()) note_segment_read(n, graph_.find_value(sub->value_name(sv)));
    }
}

// Node n reads value v: unless v is an initializer or made in n's own segment, it is an input of
// that segment and, when a node makes it, an output of the producing segment, which n's waits for.
void PartitionRun::note_segment_read(size_t n, int32_t v) {
  if (v < 0 || graph_.is_initializer(v)) return;
  int32_t p = producer_[static_cast<size_t>(v)];
  int32_t b = final_segment_[n];
  if (p >= 0 && final_segment_[static_cast<size_t>(p)] == b) return;
  final_inputs_[static_cast<size_t>(b)].insert(v);
  if (p >= 0) {
    final_deps_[static_cast<size_t>(b)].insert(final_segment_[static_cast<size_t>(p)]);
    final_outputs_[static_cast<size_t>(final_segment_[static_cast<size_t>(p)])].insert(v);
  }
}

// Topological order of segments (Kahn, lowest id first); shorter than the segments on a cycle.
std::vector<int32_t> PartitionRun::segment_execution_order() const {
  const size_t S = segments_.size();
  std::vector<int> indeg(S, 0);
  std::vector<std::vector<int32_t>> sdependents(S);
  for (size_t s = 0; s < S; ++s) {
    indeg[s] = static_cast<int>(final_deps_[s].size());
    for (int32_t d : final_deps_[s]) sdependents[static_cast<size_t>(d)].push_back(static_cast<int32_t>(s));
  }
  std::set<int32_t> ready;
  for (size_t s = 0; s < S; ++s)
    if (indeg[s] == 0) ready.insert(static_cast<int32_t>(s));
  std::vector<int32_t> order;
  while (!ready.empty()) {
    int32_t s = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(s);
    for (int32_t t : sdependents[static_cast<size_t>(s)])
      if (--indeg[static_cast<size_t>(t)] == 0) ready.insert(t);
  }
  return order;
}

// The plan's segments in execution order, renumbered; a cycle here is a bug, reported.
Status PartitionRun::order_final_segments() {
  const size_t S = segments_.size();
  std::vector<int32_t> order = segment_execution_order();
  if (order.size() != S)
    return Status(StatusCode::internal, "partition: the segment graph has a cycle (a partitioner bug)");
  std::vector<int32_t> renumber(S);
  for (size_t i = 0; i < S; ++i) renumber[static_cast<size_t>(order[i])] = static_cast<int32_t>(i);
  for (size_t i = 0; i < S; ++i) {
    Segment s = segments_[static_cast<size_t>(order[i])];
    const size_t old = static_cast<size_t>(order[i]);
    s.id = static_cast<int32_t>(i);
    s.inputs.assign(final_inputs_[old].begin(), final_inputs_[old].end());
    s.outputs.assign(final_outputs_[old].begin(), final_outputs_[old].end());
    for (int32_t d : final_deps_[old]) s.depends_on.push_back(renumber[static_cast<size_t>(d)]);
    std::sort(s.depends_on.begin(), s.depends_on.end());
    plan_.segments.push_back(std::move(s));
  }
  for (size_t n = 0; n < node_count_; ++n) final_segment_[n] = renumber[static_cast<size_t>(final_segment_[n])];
  return Status::ok_status();
}

// Transfers and estimates.
void PartitionRun::estimate_times() {
  finish_.assign(plan_.segments.size(), 0);
  for (auto& s : plan_.segments) estimate_segment(s);
  double total = 0;
  for (int32_t o : graph_.outputs) {
    int32_t p = producer_[static_cast<size_t>(o)];
    if (p < 0) continue;
    const Segment& s = plan_.segments[static_cast<size_t>(final_segment_[static_cast<size_t>(p)])];
    Transfer t;
    t.value = o;
    t.from_segment = s.id;
    t.from_device = s.device;
    t.to_device = "host";
    t.bytes = value_bytes_[static_cast<size_t>(o)];
    t.estimated_us = cost_.transfer_us(t.bytes, device_figures(s.device), host_);
    plan_.transfers.push_back(t);
    total = std::max(total, finish_[static_cast<size_t>(s.id)] + t.estimated_us);
  }
  for (double f : finish_) total = std::max(total, f);
  plan_.estimated_us = total;
}

// Segment s's incoming transfers, its run time and when it finishes: once its last input has
// arrived (segments come in execution order, so its producers' finish times are known).
void PartitionRun::estimate_segment(Segment& s) {
  const DeviceFigures& sd = device_figures(s.device);
  double start = 0;
  for (int32_t v : s.inputs) {
    int32_t p = producer_[static_cast<size_t>(v)];
    Transfer t;
    t.value = v;
    t.to_segment = s.id;
    t.to_device = s.device;
    t.bytes = value_bytes_[static_cast<size_t>(v)];
    double ready_at = 0;
    if (p < 0) {
      t.from_device = "host";
      t.estimated_us = cost_.transfer_us(t.bytes, host_, sd);
    } else {
      t.from_segment = final_segment_[static_cast<size_t>(p)];
      t.from_device = plan_.segments[static_cast<size_t>(t.from_segment)].device;
      t.estimated_us = cost_.transfer_us(t.bytes, device_figures(t.from_device), sd);
      ready_at = finish_[static_cast<size_t>(t.from_segment)];
    }
    start = std::max(start, ready_at + t.estimated_us);
    if (t.from_device != t.to_device) plan_.transfers.push_back(t);
  }
  double work = cost_.launch_us(sd);
  for (int32_t n : s.nodes) {
    const Node& node = graph_.nodes[static_cast<size_t>(n)];
    work += cost_.node_us(node, estimate_work(graph_, node), sd);
  }
  s.estimated_us = work;
  finish_[static_cast<size_t>(s.id)] = start + work;
}

// Reasons: the chosen device's estimate against the best alternative, or why it is the only one.
void PartitionRun::explain_placements() {
  plan_.placements.resize(node_count_);
  for (size_t n = 0; n < node_count_; ++n) {
    Placement& p = plan_.placements[n];
    p.node = static_cast<int32_t>(n);
    p.segment = final_segment_[n];
    p.device = allowed_[static_cast<size_t>(device_of_[n])];
    const DeviceFigures& chosen = device_figures(p.device);
    NodeWork w = estimate_work(graph_, graph_.nodes[n]);
    p.estimated_us = cost_.node_us(graph_.nodes[n], w, chosen);
    const size_t fallback = accelerator_fallback(n);
    const std::string pinned = pin_note(graph_.nodes[n]);
    std::string text = p.device + ": ";
    if (!pinned.empty()) text += pinned;
    else if (fallback < device_count_) text += accelerator_reason(n, fallback);
    else text += comparison_reason(n, chosen);
    if (!why_only_[n].empty()) text += "; " + why_only_[n];
    if (!cut_note_[n].empty()) text += "; " + cut_note_[n];
    p.reason = text;
  }
}

// Under `accelerator`, the cheapest non-preferred device a preferred placement passed over
// (device_count_ when there is none).
size_t PartitionRun::accelerator_fallback(size_t n) const {
  size_t fallback = device_count_;
  if (accelerator_first_ && is_preferred_[static_cast<size_t>(device_of_[n])])
    for (size_t d = 0; d < device_count_; ++d)
      if (can_run_[n][d] && !is_preferred_[d] &&
          (fallback == device_count_ || node_cost_[n][d] < node_cost_[n][fallback]))
        fallback = d;
  return fallback;
}

// "pinned by policy (...)" when a pin put the node where it is, else "".
std::string PartitionRun::pin_note(const Node& node) const {
  if (!node.name.empty() && in_.policy.pin_nodes.count(node.name)) return "pinned by policy (node)";
  if (in_.policy.pin_ops.count(node.op_type)) return "pinned by policy (op " + node.op_type + ")";
  return std::string();
}

// A node cost as a reason shows it: milliseconds, or microjoules under `power`.
std::string PartitionRun::cost_text(double v) const {
  if (!power_) return ms(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return std::string(buf) + " uJ";
}

// Accelerator first: say so, and what the fallback would have cost.
std::string PartitionRun::accelerator_reason(size_t n, size_t fallback) const {
  const size_t cur = static_cast<size_t>(device_of_[n]);
  return "objective accelerator (" +
         std::string(in_.policy.devices.empty() ? compute_units_name(in_.policy.units) : "device list") +
         "): the accelerator runs every node it supports; " + cost_text(node_cost_[n][cur]) + " vs " +
         allowed_[fallback] + " " + cost_text(node_cost_[n][fallback]);
}

// The chosen device's cost (and the transfers it brings) against the cheapest other device that
// can run node n, or that no other can.
std::string PartitionRun::comparison_reason(size_t n, const DeviceFigures& chosen) const {
  int alternatives = 0;
  size_t best_alt = 0;
  double best_alt_cost = INFINITY;
  for (size_t d = 0; d < device_count_; ++d) {
    if (static_cast<int32_t>(d) == device_of_[n] || !can_run_[n][d]) continue;
    ++alternatives;
    if (node_cost_[n][d] < best_alt_cost) {
      best_alt_cost = node_cost_[n][d];
      best_alt = d;
    }
  }
  if (alternatives == 0) return "the only allowed device that runs it";
  // Transfer this node would add on the alternative device given its neighbours.
  // (input_cost reads only the producers' devices, so `device_of_` serves both cases.)
  const size_t cur = static_cast<size_t>(device_of_[n]);
  double alt_in = input_cost(n, best_alt) - cost_.launch_us(device_figures(best_alt));
  double cur_in = input_cost(n, cur) - cost_.launch_us(chosen);
  std::string text = cost_text(node_cost_[n][cur]) +
                     (cur_in > 0.5 ? " + " + ms(std::max(0.0, cur_in)) + " transfer" : std::string()) + " vs " +
                     allowed_[best_alt] + " " + cost_text(best_alt_cost) +
                     (alt_in > 0.5 ? " + " + ms(std::max(0.0, alt_in)) + " transfer" : std::string());
  if (node_cost_[n][cur] > best_alt_cost) text += " (kept with its segment to avoid transfers)";
  return text;
}

// Strict: every node on a preferred device, or a full report.
Status PartitionRun::check_strict() const {
  if (!in_.policy.strict) return Status::ok_status();
  if (preferred_.empty()) {
    return Status(StatusCode::unsupported,
                  std::string("strict policy: compute units '") + compute_units_name(in_.policy.units) +
                      "' prefer a device that is not present, so all " + std::to_string(node_count_) +
                      " node(s) would fall back to " + plan_.placements.front().device);
  }
  std::string report;
  int count = 0;
  for (size_t n = 0; n < node_count_; ++n) {
    if (std::find(preferred_.begin(), preferred_.end(), plan_.placements[n].device) != preferred_.end()) continue;
    ++count;
    report +=
        "\n  " + graph_.nodes[n].describe() + " would run on " + plan_.placements[n].device + preferred_refusals(n);
  }
  if (count > 0) {
    std::string pref;
    for (const auto& p : preferred_) pref += (pref.empty() ? "" : ", ") + p;
    return Status(StatusCode::unsupported, "strict policy: " + std::to_string(count) +
                                               " node(s) would run outside the preferred devices (" +
                                               (pref.empty() ? "none present" : pref) + "):" + report);
  }
  return Status::ok_status();
}

// Why each preferred device does not run node n, for the strict report.
std::string PartitionRun::preferred_refusals(size_t n) const {
  std::string why;
  for (const auto& pd : preferred_) {
    auto d = static_cast<size_t>(std::find(allowed_.begin(), allowed_.end(), pd) - allowed_.begin());
    const auto& ans = in_.support.at(pd)[n];
    why += "; " + pd + ": " + (!ans.supported() ? ans.message + " (" + support_reason_name(ans.reason) + ")" :
                                can_run_[n][d] ? "slower by the cost model" : "banned or pinned away by the policy");
  }
  if (preferred_.empty()) why = "; no preferred device is present";
  return why;
}

}  // namespace

Result<Plan> Partitioner::partition(const PartitionInput& in) {
  if (!in.graph) return Status(StatusCode::invalid_argument, "partition: no graph");
  RooflineCostModel default_model;
  const CostModel& cost = in.cost_model ? *in.cost_model : default_model;
  std::vector<std::string> preferred;
  SY_ASSIGN_OR_RETURN(auto allowed, allowed_devices(in.policy, in.devices, &preferred));
  PartitionRun run(in, cost, std::move(allowed), std::move(preferred));
  SY_RETURN_IF_ERROR(run.check_support_answers());
  SY_RETURN_IF_ERROR(run.find_candidates());
  run.apply_objective();
  run.estimate_costs();
  run.assign_greedily();
  run.form_segments();
  run.refine_segments();
  run.merge_segments();
  run.cut_segments_to_device_memory();
  return run.build_plan();
}

}  // namespace switchyard
