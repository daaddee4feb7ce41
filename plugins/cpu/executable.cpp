// CPU plugin: compiled graphs and their execution.
#include "executable.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>
#include <unordered_map>

#include "run_arena.h"
#include "support_signature.h"
#include "switchyard/hal/hash.h"

namespace switchyard::cpu {

namespace {
// 02: per-node names may record fusion ("onednn+fused", "folded-into-conv", "fused-into-conv").
// 03: followed by the prepared constants (packed_constants.h).
// 04: ends with a 16-byte checksum (hal/hash.h) of everything before it: a flipped bit in the
//     weights is refused (data_loss), never run. ~8 GB/s, so ~12 ms on light_resnet50's 100 MB.
constexpr char kMagic[8] = {'S', 'Y', 'C', 'P', 'U', 'X', '0', '4'};
constexpr size_t kChecksumBytes = 16;

void checksum(const void* data, size_t size, unsigned char out[kChecksumBytes]) {
  Hasher h;
  h.update(data, size);
  uint64_t digest[2];
  h.digest(digest);
  std::memcpy(out, digest, kChecksumBytes);
}
}  // namespace

SupportAnswer support_for(const Node& node, const Graph& graph, int threads) {
  SupportAnswer s;
  CompileContext ctx{graph, threads};
  for (const auto& p : fast_kernel_providers()) {
    if (node.op_type != p.op_type || !node.domain.empty()) continue;
    bool ok = false;
    try {
      ok = p.accepts(node, ctx);
    } catch (const std::exception&) {
      ok = false;
    }
    if (ok) {
      s.implementation = p.implementation;
      return s;
    }
  }
  if (reference::KernelRegistry::instance().find(node.domain, node.op_type)) {
    s.implementation = "reference";
    return s;
  }
  s.reason = SY_UNSUPPORTED_OP;
  s.message = "no CPU kernel for " + (node.domain.empty() ? std::string() : node.domain + "::") + node.op_type;
  return s;
}

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string describe_build(const PackedConstants& packed, double kernels_ms, double total_ms) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%zu prepared constants (%.1f MiB%s), kernels built in %.1f ms, %.1f ms in all", packed.size(),
                static_cast<double>(packed.total_bytes()) / (1 << 20),
                !packed.restoring() ? ", prepared now" : packed.in_place() ? ", used in place" : ", copied", kernels_ms, total_ms);
  return buf;
}

// The calling thread's OpenMP thread count, set for one scope. oneDNN splits a primitive's work
// for the thread count it sees when the primitive is created and keeps that split when it runs,
// so kernels must be created under the count they will run with.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : before_(omp_get_max_threads()) {
    if (before_ != threads) omp_set_num_threads(threads);
  }
  ~ScopedOmpThreads() {
    if (omp_get_max_threads() != before_) omp_set_num_threads(before_);
  }
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int before_;
};

std::string describe_threads(int threads, const ThreadPolicy& policy, double flops, size_t serial_nodes) {
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "%d thread%s (%s, %.0f MFLOP per run)", threads, threads == 1 ? "" : "s",
                        policy.by_work ? "chosen by work" : "as set", flops * 1e-6);
  if (threads > 1 && serial_nodes > 0 && n > 0 && static_cast<size_t>(n) < sizeof buf)
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ", %zu small nodes on 1", serial_nodes);
  return buf;
}

bool env_flag(const char* name, bool fallback) {
  const char* e = std::getenv(name);
  if (!e || !*e) return fallback;
  return !(std::strcmp(e, "0") == 0 || std::strcmp(e, "off") == 0 || std::strcmp(e, "false") == 0);
}

const char* role_implementation(const std::string& role) {
  if (role == "fused") return "onednn+fused";
  if (role == "folded") return "folded-into-conv";
  if (role == "absorbed") return "fused-into-conv";
  return "";
}

bool is_fused_conv(const Node& n) { return n.domain == kFusedDomain && n.op_type == kFusedConvOp; }

bool static_inputs(const Graph& g, const Node& n) {
  for (int32_t v : n.inputs)
    if (v >= 0 && !static_shape_of(g, v)) return false;
  return true;
}

// Per execution node, the first received node it runs (`exec_node`: per received node, the
// execution node that runs it). Received nodes are in topological order, so for a fused group
// that is its convolution, the anchor the other nodes were fused into.
std::vector<size_t> first_received_nodes(const std::vector<int64_t>& exec_node, size_t num_exec_nodes) {
  std::vector<size_t> first(num_exec_nodes, 0);
  for (size_t i = exec_node.size(); i-- > 0;)
    if (exec_node[i] >= 0) first[static_cast<size_t>(exec_node[i])] = i;
  return first;
}
}  // namespace

bool fusion_enabled() {
  static const bool v = env_flag("SWITCHYARD_CPU_FUSION", true);
  return v;
}
bool blocked_layout_enabled() {
  static const bool v = env_flag("SWITCHYARD_CPU_BLOCKED", true);
  return v;
}

FusionPlan plan_fusions(const Graph& graph, int threads) {
  if (!fusion_enabled()) {
    FusionPlan none;
    none.group_of.assign(graph.nodes.size(), -1);
    return none;
  }
  return plan_conv_fusions(graph, [threads](const Node& conv, const Graph& g, const std::vector<ConvPostOp>& ops) {
    return fused_conv_supported(conv, g, threads, ops);
  });
}

std::vector<SupportAnswer> support_for_graph(Graph graph, int threads) {
  if (fusion_enabled()) refine_static_shapes(graph);
  std::vector<SupportAnswer> out(graph.nodes.size());
  std::unordered_map<std::string, SupportAnswer> by_signature;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    auto signature = support_signature(n, graph);
    if (!signature) {
      out[i] = support_for(n, graph, threads);
      continue;
    }
    auto [it, added] = by_signature.try_emplace(std::move(*signature));
    if (added) it->second = support_for(n, graph, threads);
    out[i] = it->second;
  }
  FusionPlan plan = plan_fusions(graph, threads);
  for (const auto& grp : plan.groups) {
    const Node& conv = graph.nodes[grp.conv];
    out[grp.conv].implementation = "onednn+fused";
    out[grp.conv].message = "runs fused with " + grp.summary;
    for (size_t a : grp.absorbed) {
      const bool folded = static_cast<int64_t>(a) == grp.bn;
      out[a].reason = SY_SUPPORTED;
      out[a].implementation = folded ? "folded-into-conv" : "fused-into-conv";
      out[a].message = std::string(folded ? "folded into " : "fused as a post-op into ") + conv.describe();
    }
  }
  return out;
}

namespace {
// Nodes with subgraphs (If/Loop/Scan) read values of this graph by name from inside them: marks
// them in `has_subgraph` and keeps every value such a subgraph names alive until that node ran.
void keep_values_subgraphs_read(const Graph& g, std::vector<char>& has_subgraph, std::vector<int64_t>& last_use) {
  has_subgraph.assign(g.nodes.size(), 0);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    std::set<std::string> names;
    collect_nested_value_names(g.nodes[n], names);
    if (names.empty()) continue;
    has_subgraph[n] = 1;
    for (const auto& name : names) {
      int32_t v = g.find_value(name);
      if (v >= 0) last_use[static_cast<size_t>(v)] = std::max(last_use[static_cast<size_t>(v)], static_cast<int64_t>(n));
    }
  }
}

// The bytes a fast kernel's output `o` of node `n` takes, or 0 when not known at compile time.
size_t planned_output_bytes(const Graph& g, const Node& node, size_t o, const FastKernel& kernel) {
  if (o == 0)
    if (Layout l = kernel.output_layout()) return layout_bytes(l);
  const std::optional<Shape> shape = static_shape_of(g, node.outputs[o]);
  const std::optional<int64_t> n = shape ? shape_numel(*shape) : std::nullopt;
  const std::optional<size_t> bytes = n ? storage_bytes(elem_type_of(g, node.outputs[o]), *n) : std::nullopt;
  return bytes ? *bytes : 0;
}

// The memory plan (arena_plan.h): every output a fast kernel allocates with a size known now,
// alive from its node to the last read of it or of any view of its storage, and the kernel's large
// temporaries, alive in its node; storage that reaches a graph output is left out (it outlives the
// run). `last_use` -1 (never read): kept to the end.
struct MemoryPlan {
  std::vector<std::vector<PlannedSlice>> per_node;
  size_t arena_bytes = 0, planned_bytes = 0, allocations = 0;
};

// Per value: the value whose storage it shares (itself unless a view or an accumulation into an
// input), and per such storage root the last node it is alive in and whether it outlives the run.
struct StorageLives {
  std::vector<int32_t> root;
  std::vector<int64_t> until;
  std::vector<char> escapes;
};

StorageLives storage_lives(const Graph& g, const std::vector<NodePlan>& plan, const std::vector<int64_t>& last_use) {
  const int64_t end = static_cast<int64_t>(g.nodes.size());
  StorageLives s{std::vector<int32_t>(g.values.size()), std::vector<int64_t>(g.values.size(), -1), std::vector<char>(g.values.size(), 0)};
  std::iota(s.root.begin(), s.root.end(), 0);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    const int a = plan[n].fast ? plan[n].fast->output_aliases_input() : -1;
    if (a >= 0 && static_cast<size_t>(a) < node.inputs.size() && node.inputs[a] >= 0 && !node.outputs.empty() && node.outputs[0] >= 0)
      s.root[static_cast<size_t>(node.outputs[0])] = s.root[static_cast<size_t>(node.inputs[a])];
  }
  for (size_t v = 0; v < g.values.size(); ++v) {
    const size_t r = static_cast<size_t>(s.root[v]);
    const int64_t last = last_use[v] < 0 ? end - 1 : last_use[v];
    if (last >= end) s.escapes[r] = 1;
    s.until[r] = std::max(s.until[r], last);
  }
  return s;
}

MemoryPlan plan_memory(const Graph& g, const std::vector<NodePlan>& plan, const std::vector<int64_t>& last_use) {
  const StorageLives s = storage_lives(g, plan, last_use);
  std::vector<ValueLife> lives;
  std::vector<size_t> node_of;
  MemoryPlan mp;
  auto add = [&](size_t n, size_t bytes, int64_t last) {
    lives.push_back(ValueLife{bytes, static_cast<int64_t>(n), std::max<int64_t>(last, static_cast<int64_t>(n))});
    node_of.push_back(n);
    mp.planned_bytes += bytes;
  };
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (!plan[n].fast) continue;
    const Node& node = g.nodes[n];
    const bool allocates = plan[n].fast->output_aliases_input() < 0;
    for (size_t o = 0; allocates && o < node.outputs.size(); ++o) {
      const int32_t v = node.outputs[o];
      if (v < 0 || s.root[static_cast<size_t>(v)] != v || s.escapes[static_cast<size_t>(v)]) continue;
      if (const size_t bytes = planned_output_bytes(g, node, o, *plan[n].fast)) add(n, bytes, s.until[static_cast<size_t>(v)]);
    }
    for (size_t bytes : plan[n].fast->pooled_temps()) add(n, bytes, static_cast<int64_t>(n));  // requested after the outputs
  }
  const ArenaLayout layout = pack_by_lifetime(lives);
  mp.per_node.resize(g.nodes.size());
  for (size_t i = 0; i < lives.size(); ++i) mp.per_node[node_of[i]].push_back(layout.slices[i]);
  mp.arena_bytes = layout.bytes;
  mp.allocations = lives.size();
  return mp;
}

std::string describe_arena(const MemoryPlan& mp) {
  if (mp.allocations == 0) return ", no memory plan";
  char buf[120];
  std::snprintf(buf, sizeof buf, ", %zu allocations in a %.1f MiB arena per run (%.1f MiB unpacked)", mp.allocations,
                static_cast<double>(mp.arena_bytes) / (1 << 20), static_cast<double>(mp.planned_bytes) / (1 << 20));
  return buf;
}

// Which values may travel in a oneDNN layout between kernels (CompileContext::blocked_dst): a
// FusedConv's output, or the output of a node that takes layouts (takes_layouts), when every
// reader with static shapes takes the layout at that input and the value leaves neither the graph
// nor into a subgraph. Whether it does is decided as the kernels are built (a layout-taking node
// keeps one only if an input arrives in one). `exclusive`: FusedConv outputs whose storage only
// layout-taking readers see (no views), so the last reader may accumulate into it.
struct LayoutPlan {
  std::vector<char> may_stay, exclusive;
};

LayoutPlan plan_layouts(const Graph& g) {
  const size_t nv = g.values.size();
  LayoutPlan lp{std::vector<char>(nv, 0), std::vector<char>(nv, 0)};
  bool any_subgraph = false;
  for (const auto& n : g.nodes)
    for (const auto& a : n.attributes) any_subgraph = any_subgraph || a.g || !a.graphs.empty();
  if (any_subgraph || !blocked_layout_enabled()) return lp;
  std::vector<char> readers_take(nv, 1), producer(nv, 0), fused(nv, 0);
  for (const auto& n : g.nodes) {
    const bool stat = static_inputs(g, n);
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const bool takes = stat && (is_fused_conv(n) ? (k == 0 || k == 3) : takes_layouts(n, k));
      if (n.inputs[k] >= 0 && !takes) readers_take[static_cast<size_t>(n.inputs[k])] = 0;
    }
    if (n.outputs.empty() || n.outputs[0] < 0 || !stat || !static_shape_of(g, n.outputs[0])) continue;
    const auto out = static_cast<size_t>(n.outputs[0]);
    fused[out] = is_fused_conv(n);
    producer[out] = is_fused_conv(n) || takes_layouts(n, 0);
  }
  for (int32_t o : g.outputs) readers_take[static_cast<size_t>(o)] = 0;
  // A Concat whose output must be plain would mix layouts in oneDNN's slow generic concat: its
  // inputs come plain instead (their producers reorder), which may end other values' layouts in turn.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& n : g.nodes) {
      if (!n.domain.empty() || n.op_type != "Concat" || n.outputs.empty() || n.outputs[0] < 0) continue;
      const auto out = static_cast<size_t>(n.outputs[0]);
      if (readers_take[out] && producer[out]) continue;
      for (int32_t v : n.inputs)
        if (v >= 0 && readers_take[static_cast<size_t>(v)]) changed = true, readers_take[static_cast<size_t>(v)] = 0;
    }
  }
  for (size_t v = 0; v < nv; ++v) {
    lp.may_stay[v] = readers_take[v] && producer[v];
    lp.exclusive[v] = lp.may_stay[v] && fused[v];
  }
  return lp;
}

// Per execution node, the implementation a serialized executable pinned ("" = free to choose),
// after checking that its fusion comes out the same (else data_loss: the host compiles afresh).
// `exec_nodes`: how many nodes the execution graph has (rw.graph may have been moved from).
std::vector<std::string> pinned_kernels(const Graph& received, const RewrittenGraph& rw, size_t exec_nodes,
                                        const std::vector<std::string>* forced) {
  std::vector<std::string> want(exec_nodes);
  if (!forced) return want;
  for (size_t i = 0; i < received.nodes.size(); ++i) {
    const char* r = role_implementation(rw.role[i]);
    const std::string& f = (*forced)[i];
    if (*r && f != r)
      throw_error(StatusCode::data_loss, received.nodes[i].describe() + ": serialized executable asks for '" + f + "', this build runs it as '" + r + "'");
    if (!*r && (f == role_implementation("fused") || f == role_implementation("folded") || f == role_implementation("absorbed")))
      throw_error(StatusCode::data_loss, received.nodes[i].describe() + ": serialized executable was compiled with fusion that this build does not apply");
    if (!*r) want[static_cast<size_t>(rw.exec_node[i])] = f;
  }
  return want;
}

// The first provider that accepts node `n` (and is the one pinned, if `want` names one), else the
// reference kernel.
void choose_provider(const Node& n, const CompileContext& ctx, const std::string& want, NodePlan& p) {
  if (want != "reference") {
    for (const auto& prov : fast_kernel_providers()) {
      if (n.op_type != prov.op_type || !n.domain.empty()) continue;
      if (!want.empty() && want != prov.implementation) continue;
      if (!prov.accepts(n, ctx)) continue;
      try {
        p.fast = prov.create(n, ctx);
      } catch (const Error& e) {
        throw Error(e.code(), n.describe() + ": " + e.what());
      }
      if (p.fast) {
        p.implementation = prov.implementation;
        return;
      }
    }
  }
  if (!want.empty() && want != "reference")
    throw_error(StatusCode::data_loss, n.describe() + ": serialized executable asks for '" + want + "', which no longer accepts the node");
  p.reference = reference::KernelRegistry::instance().find(n.domain, n.op_type);
  if (!p.reference)
    throw_error(StatusCode::unsupported, n.describe() + ": no CPU kernel for " + (n.domain.empty() ? std::string() : n.domain + "::") + n.op_type);
  p.implementation = "reference";
}

// Node n's kernel (ctx.node_index set): the fused convolution; a layout kernel when an input arrives
// in a oneDNN layout or a Conv may start one; else, with its layout inputs converted to plain,
// choose_provider. Records in `layout` the layout its output leaves in.
NodePlan plan_node(const Node& n, CompileContext& ctx, const LayoutPlan& lp, const std::vector<int64_t>& last_use,
                   const std::string& want, std::vector<Layout>& layout) {
  NodePlan p;
  ctx.input_layouts.clear();
  for (int32_t v : n.inputs) ctx.input_layouts.push_back(v >= 0 ? layout[static_cast<size_t>(v)] : nullptr);
  const bool any_blocked = std::any_of(ctx.input_layouts.begin(), ctx.input_layouts.end(), [](const Layout& l) { return l != nullptr; });
  ctx.blocked_dst = !n.outputs.empty() && n.outputs[0] >= 0 && lp.may_stay[static_cast<size_t>(n.outputs[0])];
  if (is_fused_conv(n)) {
    FusedConvSpec spec;
    spec.post_ops = fused_post_ops(n);
    const int32_t z = n.inputs.size() > 3 ? n.inputs[3] : -1;
    spec.sum_in_place = z >= 0 && lp.exclusive[static_cast<size_t>(z)] && last_use[static_cast<size_t>(z)] == ctx.node_index && n.inputs[0] != z;
    try {
      p.fast = create_fused_conv(n, ctx, spec);
    } catch (const Error& e) {
      throw Error(e.code(), n.describe() + ": " + e.what());
    }
    layout[static_cast<size_t>(n.outputs[0])] = p.fast->output_layout();
    p.implementation = "onednn+fused";
    return p;
  }
  // A Conv may start a chain (its output in its primitive's layout); the others keep one.
  const bool layout_path = any_blocked || (ctx.blocked_dst && n.op_type == "Conv" && n.domain.empty());
  if (layout_path && (want.empty() || want == "onednn")) {
    p.fast = create_layout_kernel(n, ctx);
    if (p.fast) {
      layout[static_cast<size_t>(n.outputs[0])] = p.fast->output_layout();
      p.implementation = "onednn";
      return p;
    }
  }
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if (ctx.input_layouts[k]) p.plain_inputs.push_back({k, ctx.input_layouts[k], *static_shape_of(ctx.graph, n.inputs[k])});
  ctx.input_layouts.clear();
  ctx.blocked_dst = false;
  choose_provider(n, ctx, want, p);
  return p;
}

}  // namespace

double node_flops(const Graph& g, const Node& n) {
  if (!n.domain.empty() && !is_fused_conv(n)) return 0;
  if (n.inputs.size() < 2 || n.outputs.empty() || n.outputs[0] < 0) return 0;
  const auto out = static_shape_of(g, n.outputs[0]);
  const auto w = static_shape_of(g, n.inputs[1]);
  const auto x = static_shape_of(g, n.inputs[0]);
  if (!out || !w || !x || w->empty() || x->empty()) return 0;
  const double out_n = static_cast<double>(shape_numel(*out).value_or(0));
  const double w_n = static_cast<double>(shape_numel(*w).value_or(0));
  if (is_fused_conv(n) || n.op_type == "Conv")
    return 2 * out_n * w_n / static_cast<double>(std::max<int64_t>(1, (*w)[0]));  // per output: C/group * kernel MACs
  if (n.op_type == "ConvTranspose")
    return 2 * static_cast<double>(shape_numel(*x).value_or(0)) * w_n / static_cast<double>(std::max<int64_t>(1, (*x)[1]));
  if (n.op_type == "MatMul" || n.op_type == "Gemm") {
    const bool trans_a = n.op_type == "Gemm" && n.attr_int("transA", 0) != 0;
    const int64_t k = trans_a ? x->front() : x->back();
    return 2 * out_n * static_cast<double>(k);
  }
  return 0;
}

int node_threads(const Graph& g, const Node& n, int threads) {
  if (threads <= 1) return threads;
  if (const double work = node_flops(g, n); work > 0) return work < kNodeFlopsForThreads ? 1 : threads;
  // The rule the kernels apply at run time (threads_for_elements), to input 0 and output 0;
  // unknown shapes: not small.
  for (int32_t v : {n.inputs.empty() ? -1 : n.inputs[0], n.outputs.empty() ? -1 : n.outputs[0]}) {
    const std::optional<Shape> s = v < 0 ? std::nullopt : static_shape_of(g, v);
    if (!s || threads_for_elements(threads, *s) == threads) return threads;
  }
  return 1;
}

double estimated_flops(const Graph& g) {
  double flops = 0;
  for (const Node& n : g.nodes) flops += node_flops(g, n);
  return flops;
}

std::unique_ptr<CpuExecutable> CpuExecutable::build(Graph graph, ThreadPolicy policy, Serialized* restored) {
  int threads = std::max(1, policy.max);
  const auto t0 = std::chrono::steady_clock::now();
  auto exe = std::unique_ptr<CpuExecutable>(new CpuExecutable());
  const std::vector<std::string>* forced = restored ? &restored->kernels : nullptr;
  exe->packed_ = restored && restored->constants ? std::move(restored->constants) : std::make_unique<PackedConstants>();
  exe->graph_ = std::move(graph);
  Graph refined = exe->graph_;
  if (fusion_enabled()) refine_static_shapes(refined);  // static shapes where the inputs' are static
  const PackedConstants& packed = *exe->packed_;
  RewrittenGraph rw = apply_conv_fusions(refined, plan_fusions(refined, threads), [&packed](int64_t exec_node) {
    return packed.restoring() && packed.find(PackedConstants::key(exec_node, kWeightsSlot)) != nullptr;
  });
  exe->exec_ = std::move(rw.graph);
  const Graph& g = exe->exec_;
  const double flops = estimated_flops(g);
  if (policy.by_work) threads = std::clamp(static_cast<int>(std::ceil(flops / kFlopsPerThread)), 1, threads);
  exe->threads_ = threads;
  const ScopedOmpThreads creating_with(threads);
  CompileContext ctx{g, threads, exe->packed_.get()};
  const size_t n_orig = exe->graph_.nodes.size();
  exe->impl_.assign(n_orig, "");
  for (size_t i = 0; i < n_orig; ++i) exe->impl_[i] = role_implementation(rw.role[i]);
  const std::vector<std::string> want_exec = pinned_kernels(exe->graph_, rw, g.nodes.size(), forced);

  const LayoutPlan lp = plan_layouts(g);
  std::vector<Layout> layout(g.values.size());  // per value, as built: the layout it travels in

  exe->last_use_.assign(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int32_t v : g.nodes[n].inputs)
      if (v >= 0) exe->last_use_[static_cast<size_t>(v)] = static_cast<int64_t>(n);
  for (int32_t o : g.outputs) exe->last_use_[static_cast<size_t>(o)] = static_cast<int64_t>(g.nodes.size());

  exe->plan_.resize(g.nodes.size());
  const auto t_kernels = std::chrono::steady_clock::now();
  size_t serial_nodes = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    ctx.node_index = static_cast<int64_t>(i);
    ctx.threads = node_threads(g, g.nodes[i], threads);
    serial_nodes += ctx.threads < threads ? 1 : 0;
    const ScopedOmpThreads node_threads(ctx.threads);
    exe->plan_[i] = plan_node(g.nodes[i], ctx, lp, exe->last_use_, want_exec[i], layout);
  }
  for (size_t i = 0; i < n_orig; ++i)
    if (rw.role[i].empty()) exe->impl_[i] = exe->plan_[static_cast<size_t>(rw.exec_node[i])].implementation;
  exe->received_node_ = first_received_nodes(rw.exec_node, g.nodes.size());
  exe->build_note_ = describe_build(*exe->packed_, ms_since(t_kernels), ms_since(t0)) + ", " + describe_threads(threads, policy, flops, serial_nodes) +
                     ", " + std::to_string(exe->plain_conversions()) + " layout conversions to plain per run";
  keep_values_subgraphs_read(g, exe->has_subgraph_, exe->last_use_);
  exe->constants_.resize(g.values.size());
  exe->constant_.assign(g.values.size(), 0);
  for (const auto& [id, t] : g.initializers) {
    exe->constants_[static_cast<size_t>(id)] = Value::of(t);
    exe->constant_[static_cast<size_t>(id)] = 1;
  }
  MemoryPlan mp = plan_memory(g, exe->plan_, exe->last_use_);
  exe->node_slices_ = std::move(mp.per_node);
  exe->arena_bytes_ = mp.arena_bytes;
  exe->build_note_ += describe_arena(mp);
  return exe;
}

// One event for the received node behind execution node `exec_node`, named as the support answer
// and the serialized form name it ("onednn", "onednn+fused", ...).
void CpuExecutable::report_node_event(const NodeProfiler& profiler, size_t exec_node, uint64_t start_ns) const {
  const uint64_t end_ns = profiler.now_ns();
  const size_t node = received_node_[exec_node];
  profiler.sink->node_event(profiler.sink->context, node, impl_[node].c_str(), start_ns, end_ns);
}

std::vector<Value> CpuExecutable::run(const std::vector<Value>& inputs, const reference::RunLimits& limits,
                                      const NodeProfiler* profiler) const {
  const Graph& g = exec_;
  // Every parallel region of this run (kernels, reorders, fixups) on this thread uses the
  // executable's threads; a new thread starts at OpenMP's default (all cores).
  if (omp_get_max_threads() != threads_) omp_set_num_threads(threads_);
  if (inputs.size() != g.inputs.size())
    throw_error(StatusCode::invalid_argument, "expected " + std::to_string(g.inputs.size()) + " inputs, got " + std::to_string(inputs.size()));
  // Values of this run; constants are read where the executable keeps them (copying them into
  // the slots cost two atomic reference counts each per run, shared by every concurrent run).
  std::vector<Value> slots(g.values.size());
  std::vector<char> bound(constant_);  // 1: a constant (constants_), 2: in slots, 0: not yet
  for (size_t i = 0; i < inputs.size(); ++i) {
    slots[static_cast<size_t>(g.inputs[i])] = inputs[i];
    bound[static_cast<size_t>(g.inputs[i])] = 2;
  }
  auto value_at = [&](int32_t v) -> const Value* {
    const size_t i = static_cast<size_t>(v);
    return bound[i] == 1 ? &constants_[i] : &slots[i];
  };
  static const std::map<std::string, const Value*> kNoScope;
  const std::shared_ptr<RunArena> arena = arena_bytes_ > 0 ? RunArena::open(arena_bytes_) : nullptr;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (limits.cancel_flag && __atomic_load_n(limits.cancel_flag, __ATOMIC_ACQUIRE))
      throw_error(StatusCode::cancelled, "stopped before " + g.nodes[n].describe() + ": asked to stop");
    const Node& node = g.nodes[n];
    std::vector<const Value*> in;
    in.reserve(node.inputs.size());
    for (int32_t v : node.inputs) {
      if (v >= 0 && !bound[static_cast<size_t>(v)])
        throw_error(StatusCode::invalid_argument, node.describe() + ": input '" + g.value_name(v) + "' has no value");
      in.push_back(v >= 0 ? value_at(v) : nullptr);
    }
    std::vector<Value> plain(plan_[n].plain_inputs.size());
    for (size_t k = 0; k < plain.size(); ++k) {
      const NodePlan::PlainInput& pi = plan_[n].plain_inputs[k];
      plain[k] = to_plain(*in[pi.input], pi.layout, pi.shape);
      in[pi.input] = &plain[k];
    }
    std::vector<Value> out(node.outputs.size());
    const uint64_t start_ns = profiler ? profiler->now_ns() : 0;
    try {
      if (plan_[n].fast) {
        const ArenaScope planned(arena, node_slices_[n]);
        plan_[n].fast->run(in, out);
      } else {
        if (has_subgraph_[n]) {
          std::map<std::string, const Value*> scope;
          for (size_t v = 0; v < slots.size(); ++v)
            if (bound[v]) scope[g.values[v].name] = value_at(static_cast<int32_t>(v));
          reference::KernelContext ctx(node, in, out, interpreter_, scope, &limits);
          (*plan_[n].reference)(ctx);
        } else {
          reference::KernelContext ctx(node, in, out, interpreter_, kNoScope, &limits);
          (*plan_[n].reference)(ctx);
        }
      }
    } catch (const Error& e) {
      throw Error(e.code(), node.describe() + ": " + e.what());
    } catch (const std::bad_alloc&) {
      throw Error(StatusCode::out_of_memory, node.describe() + ": out of memory");
    } catch (const std::exception& e) {
      throw Error(StatusCode::internal, node.describe() + ": " + e.what());
    }
    if (profiler) report_node_event(*profiler, n, start_ns);
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      int32_t id = node.outputs[o];
      if (id < 0) continue;
      slots[static_cast<size_t>(id)] = std::move(out[o]);
      bound[static_cast<size_t>(id)] = 2;
    }
    for (int32_t v : node.inputs)
      if (v >= 0 && last_use_[static_cast<size_t>(v)] == static_cast<int64_t>(n) && !g.is_initializer(v))
        slots[static_cast<size_t>(v)] = Value();
  }
  std::vector<Value> results;
  for (int32_t o : g.outputs) {
    if (!bound[static_cast<size_t>(o)]) throw_error(StatusCode::internal, "output '" + g.value_name(o) + "' was not produced");
    results.push_back(*value_at(o));
  }
  return results;
}

namespace {
std::string kernel_names(const std::vector<std::string>& impl) {
  std::string out(kMagic, sizeof kMagic);
  auto put32 = [&](uint32_t v) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  put32(static_cast<uint32_t>(impl.size()));
  for (const auto& name : impl) {
    put32(static_cast<uint32_t>(name.size()));
    out += name;
  }
  return out;
}
}  // namespace

size_t CpuExecutable::serialized_size() const {
  const size_t head = kernel_names(impl_).size();
  return head + packed_->serialized_size(head) + kChecksumBytes;
}

void CpuExecutable::serialize_to(char* out) const {
  const std::string head = kernel_names(impl_);
  std::memcpy(out, head.data(), head.size());
  packed_->serialize(head.size(), out + head.size());
  const size_t body = head.size() + packed_->serialized_size(head.size());
  checksum(out, body, reinterpret_cast<unsigned char*>(out + body));
}

std::string CpuExecutable::serialize() const {
  std::string out(serialized_size(), '\0');
  serialize_to(out.data());
  return out;
}

CpuExecutable::Serialized CpuExecutable::parse(const void* data, size_t size, size_t expected_nodes, bool in_place) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t pos = 0;
  auto need = [&](size_t n) {
    if (n > size - pos) throw_error(StatusCode::data_loss, "serialized CPU executable is truncated");
  };
  auto get32 = [&]() {
    need(4);
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(p[pos + b]) << (8 * b);
    pos += 4;
    return v;
  };
  if (size < sizeof kMagic + kChecksumBytes || std::memcmp(p, kMagic, sizeof kMagic) != 0)
    throw_error(StatusCode::data_loss, "not a serialized CPU executable of this version (bad magic)");
  size -= kChecksumBytes;
  unsigned char actual[kChecksumBytes];
  checksum(p, size, actual);
  if (std::memcmp(actual, p + size, kChecksumBytes) != 0)
    throw_error(StatusCode::data_loss, "serialized CPU executable fails its checksum (the bytes were changed or cut)");
  pos = sizeof kMagic;
  uint32_t count = get32();
  if (count != expected_nodes)
    throw_error(StatusCode::data_loss, "serialized CPU executable has " + std::to_string(count) + " nodes, the graph has " +
                                           std::to_string(expected_nodes));
  Serialized out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = get32();
    if (len > 64) throw_error(StatusCode::data_loss, "serialized CPU executable has a corrupt kernel name");
    need(len);
    out.kernels.emplace_back(reinterpret_cast<const char*>(p + pos), len);
    pos += len;
  }
  out.constants = PackedConstants::parse(p, size, pos, in_place);
  return out;
}

}  // namespace switchyard::cpu
