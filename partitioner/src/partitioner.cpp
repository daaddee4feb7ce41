// Assignment of nodes to devices, segment formation and placement reasons.
#include "switchyard/partitioner.h"

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
  Table(size_t rows, size_t cols) : cols_(cols), cells_(rows * cols, T{}) {}
  T* operator[](size_t row) { return cells_.data() + row * cols_; }
  const T* operator[](size_t row) const { return cells_.data() + row * cols_; }

 private:
  size_t cols_;
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

Result<Plan> Partitioner::partition(const PartitionInput& in) {
  if (!in.graph) return Status(StatusCode::invalid_argument, "partition: no graph");
  const Graph& g = *in.graph;
  RooflineCostModel default_model;
  const CostModel& cost = in.cost_model ? *in.cost_model : default_model;
  std::vector<std::string> preferred;
  SY_ASSIGN_OR_RETURN(auto allowed, allowed_devices(in.policy, in.devices, &preferred));
  std::map<std::string, const DeviceFigures*> fig;
  for (const auto& d : in.devices) fig[d.id] = &d;
  for (const auto& id : allowed) {
    auto it = in.support.find(id);
    if (it == in.support.end() || it->second.size() != g.nodes.size())
      return Status(StatusCode::internal, "partition: no support answers for " + id);
  }
  const DeviceFigures host = host_figures();
  const size_t N = g.nodes.size(), D = allowed.size();

  // --- candidates per node -------------------------------------------------------------
  Table<char> ok(N, D);
  std::vector<std::string> why_only(N);
  std::string errors;
  int error_count = 0;
  for (size_t n = 0; n < N; ++n) {
    const Node& node = g.nodes[n];
    std::string pin;
    if (auto p = in.policy.pin_nodes.find(node.name); !node.name.empty() && p != in.policy.pin_nodes.end()) pin = p->second;
    else if (auto q = in.policy.pin_ops.find(node.op_type); q != in.policy.pin_ops.end()) pin = q->second;
    std::set<std::string> banned;
    if (auto b = in.policy.ban_nodes.find(node.name); !node.name.empty() && b != in.policy.ban_nodes.end()) banned.insert(b->second.begin(), b->second.end());
    if (auto b = in.policy.ban_ops.find(node.op_type); b != in.policy.ban_ops.end()) banned.insert(b->second.begin(), b->second.end());
    std::string refusals;
    int count = 0;
    for (size_t d = 0; d < D; ++d) {
      const auto& ans = in.support.at(allowed[d])[n];
      if (!pin.empty() && allowed[d] != pin) continue;
      if (banned.count(allowed[d])) {
        refusals += "; " + allowed[d] + ": banned by the policy";
        continue;
      }
      if (!ans.supported()) {
        refusals += "; " + allowed[d] + ": " + ans.message + " (" + support_reason_name(ans.reason) + ")";
        continue;
      }
      ok[n][d] = 1;
      ++count;
    }
    if (!pin.empty() && std::find(allowed.begin(), allowed.end(), pin) == allowed.end()) {
      ++error_count;
      errors += "\n  " + node.describe() + ": pinned to " + pin + ", which the policy does not allow";
      continue;
    }
    if (count == 0) {
      ++error_count;
      errors += "\n  " + node.describe() + ": no allowed device can run it" + refusals;
      continue;
    }
    if (!refusals.empty()) why_only[n] = refusals.substr(2);
  }
  if (error_count > 0)
    return Status(StatusCode::unsupported, std::to_string(error_count) + " node(s) cannot be placed under policy " +
                                               in.policy.canonical() + ":" + errors);

  // --- objective ---------------------------------------------------------------------------
  // Under `accelerator`, a node that a preferred device (an accelerator the units name) can run
  // may only go to preferred devices; the cost model chooses among those.
  const Objective objective = in.policy.effective_objective();
  const bool accel_first = objective == Objective::accelerator;
  std::vector<char> is_pref(D, 0);
  for (size_t d = 0; d < D; ++d) is_pref[d] = std::find(preferred.begin(), preferred.end(), allowed[d]) != preferred.end();
  std::vector<char> pref_ok(N, 0);
  for (size_t n = 0; n < N; ++n)
    for (size_t d = 0; d < D; ++d)
      if (ok[n][d] && is_pref[d]) pref_ok[n] = 1;
  auto candidate = [&](size_t n, size_t d) { return ok[n][d] && (!accel_first || !pref_ok[n] || is_pref[d]); };

  // --- costs ---------------------------------------------------------------------------
  Table<double> node_us(N, D);
  for (size_t n = 0; n < N; ++n) {
    NodeWork w = estimate_work(g, g.nodes[n]);
    for (size_t d = 0; d < D; ++d) {
      double t = cost.node_us(g.nodes[n], w, *fig[allowed[d]]);
      node_us[n][d] = objective == Objective::power ? t * default_power(*fig[allowed[d]]) : t;
    }
  }
  std::vector<int32_t> producer(g.values.size(), -1);
  for (size_t n = 0; n < N; ++n)
    for (int32_t o : g.nodes[n].outputs)
      if (o >= 0) producer[static_cast<size_t>(o)] = static_cast<int32_t>(n);
  std::vector<double> vbytes(g.values.size(), 0);
  for (size_t v = 0; v < g.values.size(); ++v) vbytes[v] = value_bytes(g, static_cast<int32_t>(v));
  const bool power = objective == Objective::power;
  auto xfer = [&](double bytes, const DeviceFigures& a, const DeviceFigures& b) {
    double t = cost.transfer_us(bytes, a, b);
    return power ? t * 10 : t;  // moving data costs energy too (~10 W of link and memory)
  };

  // --- greedy assignment in topological order ----------------------------------------------
  std::vector<int32_t> dev(N, -1);
  std::vector<std::string> reason(N);
  std::vector<double> est(N, 0);
  auto input_cost = [&](size_t n, size_t d, const std::vector<int32_t>& assignment) {
    double t = 0;
    bool continues = false;
    for (int32_t v : g.nodes[n].inputs) {
      if (v < 0 || g.is_initializer(v)) continue;
      int32_t p = producer[static_cast<size_t>(v)];
      const DeviceFigures& from = p < 0 ? host : *fig[allowed[static_cast<size_t>(assignment[static_cast<size_t>(p)])]];
      if (p >= 0 && assignment[static_cast<size_t>(p)] == static_cast<int32_t>(d)) continues = true;
      t += xfer(vbytes[static_cast<size_t>(v)], from, *fig[allowed[d]]);
    }
    if (!continues) t += cost.launch_us(*fig[allowed[d]]);
    return t;
  };
  for (size_t n = 0; n < N; ++n) {
    double best = INFINITY;
    for (size_t d = 0; d < D; ++d) {
      if (!candidate(n, d)) continue;
      double c = node_us[n][d] + input_cost(n, d, dev);
      if (c < best - 1e-9) {
        best = c;
        dev[n] = static_cast<int32_t>(d);
      }
    }
  }

  // --- segments ------------------------------------------------------------------------------
  // Nodes join the segment of their highest-numbered producer segment when it is on the same
  // device; otherwise they open a new one. Every edge between segments then goes from a lower
  // id to a higher id, so the segment graph is acyclic by construction.
  auto form_segments = [&](std::vector<int32_t>& seg_of, std::vector<int32_t>& seg_dev) {
    seg_of.assign(N, -1);
    seg_dev.clear();
    for (size_t n = 0; n < N; ++n) {
      int32_t m = -1;
      for (int32_t v : g.nodes[n].inputs) {
        if (v < 0) continue;
        int32_t p = producer[static_cast<size_t>(v)];
        if (p >= 0) m = std::max(m, seg_of[static_cast<size_t>(p)]);
      }
      if (m >= 0 && seg_dev[static_cast<size_t>(m)] == dev[n]) {
        seg_of[n] = m;
      } else {
        seg_of[n] = static_cast<int32_t>(seg_dev.size());
        seg_dev.push_back(dev[n]);
      }
    }
  };
  std::vector<int32_t> seg_of, seg_dev;
  form_segments(seg_of, seg_dev);

  // --- refinement: move whole segments where that lowers the estimate (fragments whose
  // transfers outweigh their gain go to their neighbours' device) ----------------------------
  std::vector<std::vector<int32_t>> consumers(g.values.size());
  for (size_t n = 0; n < N; ++n)
    for (int32_t v : g.nodes[n].inputs)
      if (v >= 0) consumers[static_cast<size_t>(v)].push_back(static_cast<int32_t>(n));
  std::vector<char> is_graph_output(g.values.size(), 0);
  for (int32_t o : g.outputs) is_graph_output[static_cast<size_t>(o)] = 1;
  for (int pass = 0; pass < 8; ++pass) {
    bool changed = false;
    std::vector<std::vector<int32_t>> members(seg_dev.size());
    for (size_t n = 0; n < N; ++n) members[static_cast<size_t>(seg_of[n])].push_back(static_cast<int32_t>(n));
    for (size_t s = 0; s < members.size(); ++s) {
      if (members[s].empty()) continue;
      const int32_t cur = seg_dev[s];
      // Cost of the segment's nodes and of every edge touching it, on device d.
      auto seg_cost = [&](int32_t d) {
        double t = cost.launch_us(*fig[allowed[static_cast<size_t>(d)]]);
        std::set<int32_t> in_seg(members[s].begin(), members[s].end());
        for (int32_t n : members[s]) {
          t += node_us[static_cast<size_t>(n)][static_cast<size_t>(d)];
          for (int32_t v : g.nodes[static_cast<size_t>(n)].inputs) {
            if (v < 0 || g.is_initializer(v)) continue;
            int32_t p = producer[static_cast<size_t>(v)];
            if (p >= 0 && in_seg.count(p)) continue;
            const DeviceFigures& from = p < 0 ? host : *fig[allowed[static_cast<size_t>(dev[static_cast<size_t>(p)])]];
            t += xfer(vbytes[static_cast<size_t>(v)], from, *fig[allowed[static_cast<size_t>(d)]]);
          }
          for (int32_t v : g.nodes[static_cast<size_t>(n)].outputs) {
            if (v < 0) continue;
            std::set<int32_t> devices_out;
            for (int32_t c : consumers[static_cast<size_t>(v)])
              if (!in_seg.count(c)) devices_out.insert(dev[static_cast<size_t>(c)]);
            for (int32_t od : devices_out)
              t += xfer(vbytes[static_cast<size_t>(v)], *fig[allowed[static_cast<size_t>(d)]], *fig[allowed[static_cast<size_t>(od)]]);
            if (is_graph_output[static_cast<size_t>(v)]) t += xfer(vbytes[static_cast<size_t>(v)], *fig[allowed[static_cast<size_t>(d)]], host);
          }
        }
        return t;
      };
      double cur_cost = seg_cost(cur);
      int32_t best_d = cur;
      double best_cost = cur_cost;
      for (size_t d = 0; d < D; ++d) {
        if (static_cast<int32_t>(d) == cur) continue;
        bool all_ok = std::all_of(members[s].begin(), members[s].end(), [&](int32_t n) { return candidate(static_cast<size_t>(n), d); });
        if (!all_ok) continue;
        double c = seg_cost(static_cast<int32_t>(d));
        if (c < best_cost - 1e-6 * std::max(1.0, best_cost)) {
          best_cost = c;
          best_d = static_cast<int32_t>(d);
        }
      }
      if (best_d != cur) {
        for (int32_t n : members[s]) dev[static_cast<size_t>(n)] = best_d;
        seg_dev[s] = best_d;
        changed = true;
      }
    }
    if (!changed) break;
    form_segments(seg_of, seg_dev);
  }

  // --- merge segments that can be merged safely (same device, single dependency / dependent) --
  const size_t S0 = seg_dev.size();
  std::vector<std::set<int32_t>> deps(S0), dependents(S0);
  for (size_t n = 0; n < N; ++n)
    for (int32_t v : g.nodes[n].inputs) {
      if (v < 0) continue;
      int32_t p = producer[static_cast<size_t>(v)];
      if (p < 0) continue;
      int32_t a = seg_of[static_cast<size_t>(p)], b = seg_of[n];
      if (a != b) {
        deps[static_cast<size_t>(b)].insert(a);
        dependents[static_cast<size_t>(a)].insert(b);
      }
    }
  UnionFind uf(S0);
  {
    // Work on the contracted graph: repeatedly merge B into A when A -> B, same device, and
    // B depends on nothing else or A feeds nothing else. Both keep the graph acyclic.
    std::vector<std::set<int32_t>> cdeps = deps, cdependents = dependents;
    bool merged = true;
    while (merged) {
      merged = false;
      for (size_t b = 0; b < S0; ++b) {
        if (uf.find(static_cast<int32_t>(b)) != static_cast<int32_t>(b)) continue;
        std::set<int32_t> bd;
        for (int32_t x : cdeps[b]) bd.insert(uf.find(x));
        bd.erase(static_cast<int32_t>(b));
        for (int32_t a : bd) {
          std::set<int32_t> ad;
          for (int32_t x : cdependents[static_cast<size_t>(a)]) ad.insert(uf.find(x));
          ad.erase(a);
          if (seg_dev[static_cast<size_t>(a)] != seg_dev[b]) continue;
          if (bd.size() != 1 && ad.size() != 1) continue;
          // merge b into a
          uf.parent[b] = a;
          cdeps[static_cast<size_t>(a)].insert(cdeps[b].begin(), cdeps[b].end());
          cdependents[static_cast<size_t>(a)].insert(cdependents[b].begin(), cdependents[b].end());
          merged = true;
          break;  // b is gone; carry on with the next segment
        }
      }
    }
    // Segments with no producers at all (constants, shape sources) join their single consumer.
    std::vector<char> root_has_deps(S0, 0);
    for (size_t t = 0; t < S0; ++t)
      if (!deps[t].empty()) root_has_deps[static_cast<size_t>(uf.find(static_cast<int32_t>(t)))] = 1;
    for (size_t s = 0; s < S0; ++s) {
      int32_t r = uf.find(static_cast<int32_t>(s));
      if (r != static_cast<int32_t>(s) || root_has_deps[s]) continue;
      std::set<int32_t> out;
      for (int32_t x : cdependents[s]) out.insert(uf.find(x));
      out.erase(r);
      if (out.size() == 1 && seg_dev[static_cast<size_t>(*out.begin())] == seg_dev[s]) uf.parent[s] = *out.begin();
    }
  }

  // --- device memory: a segment's weights must fit its device -----------------------------------
  // On a device with a small memory (an NPU's on-chip memory), a segment is cut, in topological
  // order, where the weights it holds (at the device's float width) would pass 3/4 of that
  // memory; the rest is left for activations. A cut never creates a cycle: every piece depends
  // only on earlier pieces of its segment and on what the whole segment depended on.
  std::vector<int32_t> piece(N, 0);
  std::vector<std::string> cut_note(N);
  {
    std::map<int32_t, std::pair<int32_t, double>> filled;  // segment root -> (piece, weight bytes)
    for (size_t n = 0; n < N; ++n) {
      const DeviceFigures& f = *fig[allowed[static_cast<size_t>(dev[n])]];
      if (f.memory_bytes <= 0) continue;
      double w = 0;
      for (int32_t v : g.nodes[n].inputs) {
        if (v < 0 || !g.is_initializer(v)) continue;
        const ValueType& vt = g.values[static_cast<size_t>(v)].type;
        const bool is_f32 = vt.kind == ValueType::Kind::tensor && vt.tensor.elem == ElementType::float32;
        w += vbytes[static_cast<size_t>(v)] * (is_f32 ? f.float_bytes / 4 : 1.0);
      }
      auto& [p, bytes] = filled[uf.find(seg_of[n])];
      const double budget = 0.75 * f.memory_bytes;
      if (bytes > 0 && bytes + w > budget) {
        ++p;
        bytes = 0;
        char buf[160];
        std::snprintf(buf, sizeof buf, "new segment: the weights before it fill 3/4 of %s's memory (%.1f MiB)", f.id.c_str(),
                      f.memory_bytes / (1024.0 * 1024.0));
        cut_note[n] = buf;
      }
      bytes += w;
      piece[n] = p;
    }
  }

  // --- build the plan -----------------------------------------------------------------------
  Plan plan;
  plan.policy = in.policy.canonical();
  plan.devices = allowed;
  std::map<std::pair<int32_t, int32_t>, int32_t> root_to_id;
  std::vector<int32_t> final_seg(N);
  // Number segments by first node so the order is deterministic, then sort topologically.
  for (size_t n = 0; n < N; ++n) {
    std::pair<int32_t, int32_t> r{uf.find(seg_of[n]), piece[n]};
    if (!root_to_id.count(r)) root_to_id[r] = static_cast<int32_t>(root_to_id.size());
    final_seg[n] = root_to_id[r];
  }
  const size_t S = root_to_id.size();
  std::vector<Segment> segs(S);
  for (size_t s = 0; s < S; ++s) segs[s].id = static_cast<int32_t>(s);
  for (size_t n = 0; n < N; ++n) {
    Segment& s = segs[static_cast<size_t>(final_seg[n])];
    s.device = allowed[static_cast<size_t>(dev[n])];
    s.nodes.push_back(static_cast<int32_t>(n));
  }
  std::vector<std::set<int32_t>> sdeps(S);
  std::vector<std::set<int32_t>> seg_inputs(S), seg_outputs(S);
  for (size_t n = 0; n < N; ++n) {
    int32_t b = final_seg[n];
    for (int32_t v : g.nodes[n].inputs) {
      if (v < 0 || g.is_initializer(v)) continue;
      int32_t p = producer[static_cast<size_t>(v)];
      if (p >= 0 && final_seg[static_cast<size_t>(p)] == b) continue;
      seg_inputs[static_cast<size_t>(b)].insert(v);
      if (p >= 0) {
        sdeps[static_cast<size_t>(b)].insert(final_seg[static_cast<size_t>(p)]);
        seg_outputs[static_cast<size_t>(final_seg[static_cast<size_t>(p)])].insert(v);
      }
    }
  }
  for (int32_t o : g.outputs) {
    int32_t p = producer[static_cast<size_t>(o)];
    if (p >= 0) seg_outputs[static_cast<size_t>(final_seg[static_cast<size_t>(p)])].insert(o);
  }
  // Nested graphs read outer values by name: a segment holding such a node needs them as inputs.
  for (size_t n = 0; n < N; ++n)
    for (const auto& a : g.nodes[n].attributes) {
      std::vector<const Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      for (const Graph* sub : subs)
        for (int32_t sv : sub->outer_scope_values()) {
          int32_t v = g.find_value(sub->value_name(sv));
          if (v < 0 || g.is_initializer(v)) continue;
          int32_t p = producer[static_cast<size_t>(v)];
          int32_t b = final_seg[n];
          if (p >= 0 && final_seg[static_cast<size_t>(p)] == b) continue;
          seg_inputs[static_cast<size_t>(b)].insert(v);
          if (p >= 0) {
            sdeps[static_cast<size_t>(b)].insert(final_seg[static_cast<size_t>(p)]);
            seg_outputs[static_cast<size_t>(final_seg[static_cast<size_t>(p)])].insert(v);
          }
        }
    }
  // Topological order of segments (Kahn, lowest id first); a cycle here is a bug, reported.
  std::vector<int> indeg(S, 0);
  std::vector<std::vector<int32_t>> sdependents(S);
  for (size_t s = 0; s < S; ++s) {
    indeg[s] = static_cast<int>(sdeps[s].size());
    for (int32_t d : sdeps[s]) sdependents[static_cast<size_t>(d)].push_back(static_cast<int32_t>(s));
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
  if (order.size() != S) return Status(StatusCode::internal, "partition: the segment graph has a cycle (a partitioner bug)");
  std::vector<int32_t> renumber(S);
  for (size_t i = 0; i < S; ++i) renumber[static_cast<size_t>(order[i])] = static_cast<int32_t>(i);
  for (size_t i = 0; i < S; ++i) {
    Segment s = segs[static_cast<size_t>(order[i])];
    const size_t old = static_cast<size_t>(order[i]);
    s.id = static_cast<int32_t>(i);
    s.inputs.assign(seg_inputs[old].begin(), seg_inputs[old].end());
    s.outputs.assign(seg_outputs[old].begin(), seg_outputs[old].end());
    for (int32_t d : sdeps[old]) s.depends_on.push_back(renumber[static_cast<size_t>(d)]);
    std::sort(s.depends_on.begin(), s.depends_on.end());
    plan.segments.push_back(std::move(s));
  }
  for (size_t n = 0; n < N; ++n) final_seg[n] = renumber[static_cast<size_t>(final_seg[n])];

  // Transfers and estimates.
  std::vector<double> finish(S, 0);
  for (auto& s : plan.segments) {
    const DeviceFigures& sd = *fig[s.device];
    double start = 0;
    for (int32_t v : s.inputs) {
      int32_t p = producer[static_cast<size_t>(v)];
      Transfer t;
      t.value = v;
      t.to_segment = s.id;
      t.to_device = s.device;
      t.bytes = vbytes[static_cast<size_t>(v)];
      double ready_at = 0;
      if (p < 0) {
        t.from_device = "host";
        t.estimated_us = cost.transfer_us(t.bytes, host, sd);
      } else {
        t.from_segment = final_seg[static_cast<size_t>(p)];
        t.from_device = plan.segments[static_cast<size_t>(t.from_segment)].device;
        t.estimated_us = cost.transfer_us(t.bytes, *fig[t.from_device], sd);
        ready_at = finish[static_cast<size_t>(t.from_segment)];
      }
      start = std::max(start, ready_at + t.estimated_us);
      if (t.from_device != t.to_device) plan.transfers.push_back(t);
    }
    double work = cost.launch_us(sd);
    for (int32_t n : s.nodes)
      work += cost.node_us(g.nodes[static_cast<size_t>(n)], estimate_work(g, g.nodes[static_cast<size_t>(n)]), sd);
    s.estimated_us = work;
    finish[static_cast<size_t>(s.id)] = start + work;
  }
  double total = 0;
  for (int32_t o : g.outputs) {
    int32_t p = producer[static_cast<size_t>(o)];
    if (p < 0) continue;
    const Segment& s = plan.segments[static_cast<size_t>(final_seg[static_cast<size_t>(p)])];
    Transfer t;
    t.value = o;
    t.from_segment = s.id;
    t.from_device = s.device;
    t.to_device = "host";
    t.bytes = vbytes[static_cast<size_t>(o)];
    t.estimated_us = cost.transfer_us(t.bytes, *fig[s.device], host);
    plan.transfers.push_back(t);
    total = std::max(total, finish[static_cast<size_t>(s.id)] + t.estimated_us);
  }
  for (double f : finish) total = std::max(total, f);
  plan.estimated_us = total;

  // Reasons: the chosen device's estimate against the best alternative, or why it is the only one.
  plan.placements.resize(N);
  for (size_t n = 0; n < N; ++n) {
    Placement& p = plan.placements[n];
    p.node = static_cast<int32_t>(n);
    p.segment = final_seg[n];
    p.device = allowed[static_cast<size_t>(dev[n])];
    const DeviceFigures& chosen = *fig[p.device];
    NodeWork w = estimate_work(g, g.nodes[n]);
    p.estimated_us = cost.node_us(g.nodes[n], w, chosen);
    const char* unit = power ? " uJ" : "";
    auto value_str = [&](double v) {
      if (!power) return ms(v);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f", v);
      return std::string(buf) + unit;
    };
    // Under `accelerator`, the cheapest non-preferred device a preferred placement passed over.
    size_t fallback = D;
    if (accel_first && is_pref[static_cast<size_t>(dev[n])])
      for (size_t d = 0; d < D; ++d)
        if (ok[n][d] && !is_pref[d] && (fallback == D || node_us[n][d] < node_us[n][fallback])) fallback = d;
    std::string pin_note;
    if (!g.nodes[n].name.empty() && in.policy.pin_nodes.count(g.nodes[n].name)) pin_note = "pinned by policy (node)";
    else if (in.policy.pin_ops.count(g.nodes[n].op_type)) pin_note = "pinned by policy (op " + g.nodes[n].op_type + ")";
    std::string text = p.device + ": ";
    if (!pin_note.empty()) {
      text += pin_note;
    } else if (fallback < D) {
      // Accelerator first: say so, and what the fallback would have cost.
      text += "objective accelerator (" + std::string(in.policy.devices.empty() ? compute_units_name(in.policy.units) : "device list") +
              "): the accelerator runs every node it supports; " + value_str(node_us[n][static_cast<size_t>(dev[n])]) + " vs " +
              allowed[fallback] + " " + value_str(node_us[n][fallback]);
    } else {
      int alternatives = 0;
      size_t best_alt = 0;
      double best_alt_cost = INFINITY;
      for (size_t d = 0; d < D; ++d) {
        if (static_cast<int32_t>(d) == dev[n] || !ok[n][d]) continue;
        ++alternatives;
        if (node_us[n][d] < best_alt_cost) {
          best_alt_cost = node_us[n][d];
          best_alt = d;
        }
      }
      if (alternatives == 0) {
        text += "the only allowed device that runs it";
      } else {
        // Transfer this node would add on the alternative device given its neighbours.
        // (input_cost reads only the producers' devices, so `dev` serves both cases.)
        double alt_in = input_cost(n, best_alt, dev) - cost.launch_us(*fig[allowed[best_alt]]);
        double cur_in = input_cost(n, static_cast<size_t>(dev[n]), dev) - cost.launch_us(chosen);
        text += value_str(node_us[n][static_cast<size_t>(dev[n])]) +
                (cur_in > 0.5 ? " + " + ms(std::max(0.0, cur_in)) + " transfer" : std::string()) + " vs " + allowed[best_alt] +
                " " + value_str(best_alt_cost) + (alt_in > 0.5 ? " + " + ms(std::max(0.0, alt_in)) + " transfer" : std::string());
        if (node_us[n][static_cast<size_t>(dev[n])] > best_alt_cost) text += " (kept with its segment to avoid transfers)";
      }
    }
    if (!why_only[n].empty()) text += "; " + why_only[n];
    if (!cut_note[n].empty()) text += "; " + cut_note[n];
    p.reason = text;
  }

  // Strict: every node on a preferred device, or a full report.
  if (in.policy.strict && preferred.empty()) {
    return Status(StatusCode::unsupported, std::string("strict policy: compute units '") + compute_units_name(in.policy.units) +
                                               "' prefer a device that is not present, so all " + std::to_string(N) +
                                               " node(s) would fall back to " + plan.placements.front().device);
  }
  if (in.policy.strict) {
    std::string report;
    int count = 0;
    for (size_t n = 0; n < N; ++n) {
      if (std::find(preferred.begin(), preferred.end(), plan.placements[n].device) != preferred.end()) continue;
      ++count;
      std::string why;
      for (const auto& pd : preferred) {
        auto d = static_cast<size_t>(std::find(allowed.begin(), allowed.end(), pd) - allowed.begin());
        const auto& ans = in.support.at(pd)[n];
        why += "; " + pd + ": " + (!ans.supported() ? ans.message + " (" + support_reason_name(ans.reason) + ")" :
                                    ok[n][d] ? "slower by the cost model" : "banned or pinned away by the policy");
      }
      if (preferred.empty()) why = "; no preferred device is present";
      report += "\n  " + g.nodes[n].describe() + " would run on " + plan.placements[n].device + why;
    }
    if (count > 0) {
      std::string pref;
      for (const auto& p : preferred) pref += (pref.empty() ? "" : ", ") + p;
      return Status(StatusCode::unsupported, "strict policy: " + std::to_string(count) + " node(s) would run outside the preferred devices (" +
                                                 (pref.empty() ? "none present" : pref) + "):" + report);
    }
  }
  return plan;
}

}  // namespace switchyard
