// CPU plugin: oneDNN kernels (Conv, ConvTranspose, Gemm, MatMul, pooling, BatchNormalization,
// eltwise activations, Softmax, broadcasting binary arithmetic).
//
// Every kernel sees plain row-major tensors at its boundary. Primitives (and, for Conv /
// Gemm / MatMul with constant weights, the weights reordered into the layout oneDNN
// prefers) are built once per distinct set of input shapes and cached: at create() when
// the graph's shapes are static (or can be guessed, see guess_value_shape), otherwise on
// the first run with those shapes. run() only wraps the input/output buffers, makes a
// stream and a scratchpad of its own and executes, so concurrent runs share nothing
// mutable. With static shapes accepts() builds the same primitive descriptors as
// create(), so a node is accepted exactly when oneDNN can run it; with dynamic shapes it
// checks what needs no shapes, and shapes found unsuitable at run time go to the
// reference kernel. Any case whose semantics differ from the reference is declined.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include <dnnl.hpp>

#include "../block_pool.h"
#include "../fast_kernel.h"
#include "../packed_constants.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::cpu {

namespace {

using dnnl::memory;
using dt = dnnl::memory::data_type;
using Args = std::unordered_map<int, memory>;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Attributes every primitive is built with: a scratchpad the caller provides per run,
// so one primitive can execute on several threads at once.
dnnl::primitive_attr base_attr() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

// Thrown by builders to decline a node (caught by accepts/create).
struct Decline {};
[[noreturn]] void decline() { throw Decline{}; }
void require(bool ok) {
  if (!ok) decline();
}

memory::dims dims_of(const Shape& s) {
  memory::dims d(s.begin(), s.end());
  if (d.empty()) d.push_back(1);
  return d;
}

memory::dims row_major_strides(const memory::dims& d) {
  memory::dims st(d.size());
  memory::dim acc = 1;
  for (size_t i = d.size(); i-- > 0;) {
    st[i] = acc;
    acc *= d[i];
  }
  return st;
}

// Row-major float32 (rank 0 becomes [1]).
memory::desc plain_md(const memory::dims& dims) {
  const memory::dims d = dims.empty() ? memory::dims{1} : dims;
  return memory::desc(d, dt::f32, row_major_strides(d));
}

// Input shapes a kernel is being built for: the graph's static shapes at compile time,
// the actual shapes when a kernel is built at run time for shapes the graph left open.
using Shapes = std::vector<std::optional<Shape>>;
thread_local const Shapes* t_build_shapes = nullptr;

Shapes graph_shapes(const Node& node, const Graph& graph) {
  Shapes out;
  for (int32_t v : node.inputs) out.push_back(v >= 0 ? static_shape_of(graph, v) : std::nullopt);
  return out;
}

// Float32 shape of input i, declining if absent, unknown, empty or not float32.
Shape f32_shape(const Node& node, const CompileContext& ctx, size_t i, size_t max_rank = 12) {
  require(i < node.inputs.size() && node.inputs[i] >= 0);
  require(elem_type_of(ctx.graph, node.inputs[i]) == ElementType::float32);
  require(t_build_shapes != nullptr && i < t_build_shapes->size());
  const std::optional<Shape>& s = (*t_build_shapes)[i];
  require(s.has_value());
  require(s->size() <= max_rank);
  for (int64_t d : *s) require(d > 0);
  return *s;
}

bool has_input(const Node& node, size_t i) { return i < node.inputs.size() && node.inputs[i] >= 0; }

// Declines nodes that want more outputs than the first.
void require_single_output(const Node& node) {
  require(!node.outputs.empty() && node.outputs[0] >= 0);
  for (size_t i = 1; i < node.outputs.size(); ++i) require(node.outputs[i] < 0);
}

// The input tensor of a run, checked against the shape the kernel was built for.
const Tensor& run_input(const std::vector<const Value*>& inputs, size_t i, const Shape& expect) {
  if (i >= inputs.size() || !inputs[i] || inputs[i]->kind != Value::Kind::tensor)
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is missing");
  const Tensor& t = inputs[i]->tensor;
  if (t.type() != ElementType::float32)
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is not float32");
  if (t.shape() != expect)
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " has shape " + shape_to_string(t.shape()) +
                                                  ", the kernel was compiled for " + shape_to_string(expect));
  return t;
}

}  // namespace

Tensor uninitialized_f32(const Shape& shape) {
  auto n = shape_numel(shape);
  if (!n) throw_error(StatusCode::invalid_argument, "bad tensor shape " + shape_to_string(shape));
  const size_t bytes = static_cast<size_t>(*n) * sizeof(float);
  std::shared_ptr<void> block = take_block(bytes);  // at least 64 bytes even for an empty tensor
  void* p = block.get();
  return Tensor::wrap(ElementType::float32, shape, std::shared_ptr<const void>(std::move(block)), p, bytes);
}

namespace {

memory wrap(const memory::desc& md, const Tensor& t) { return memory(md, cpu_engine(), const_cast<void*>(t.raw())); }

// A handle of this run's own to memory a kernel keeps (its prepared weights). Copying the kernel's
// handle into a run's arguments counted a reference on one shared cache line that every concurrent
// run wrote, twice per kernel: two runs of ppocr at once on two threads reached 2135-2180 runs/s,
// against 2760-2790 with a handle per run (and 2678 for two processes).
memory run_handle(const memory& kept) { return memory(kept.get_desc(), cpu_engine(), kept.get_data_handle()); }
memory wrap(const memory::desc& md, Tensor& t) { return memory(md, cpu_engine(), t.raw_mutable()); }

// A tensor with uninitialised storage for `md`'s bytes: `shape` when `md` is plain, else
// 1-D (how values in a oneDNN layout travel).
Tensor uninitialized_for(const memory::desc& md, bool plain, const Shape& shape) {
  return plain ? uninitialized_f32(shape) : uninitialized_f32({static_cast<int64_t>((md.get_size() + 3) / 4)});
}

// Converts between layouts with a reorder built on the spot (for rare paths).
void reorder_now(const memory::desc& from_md, const Tensor& from, const memory::desc& to_md, Tensor& to) {
  memory a = wrap(from_md, from), b = wrap(to_md, to);
  dnnl::stream s(cpu_engine());
  dnnl::reorder(a, b).execute(s, a, b);
  s.wait();
}

// Grow-only small temporary buffers of the calling thread (scratchpads, layout conversions under
// kPooledBytes): kernels of one run execute one after another on a thread, so slot i is free again
// when the next kernel starts; concurrent runs on other threads have their own.
void* thread_temp(size_t slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t size = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[4];
  Buf& b = bufs[slot];
  if (b.size < bytes) {
    std::free(b.p);
    b.p = nullptr;
    b.size = 0;
    const size_t want = (bytes + 4095) / 4096 * 4096;
    b.p = std::aligned_alloc(64, want);
    if (!b.p) throw std::bad_alloc();
    b.size = want;
  }
  return b.p;
}
enum TempSlot : size_t { kScratch = 0, kSrcTemp = 1, kDstTemp = 2 };

// Per-run execution state: the thread's stream (on the CPU engine, execute returns when the
// primitive is done), and the temporary buffers the kernel's primitives use. Large
// temporaries come from the output pool and go back to it when the Runner ends, so a deconvolution's
// 10 MB scratchpad serves the next activation instead of staying with the thread for good.
class Runner {
 public:
  explicit Runner(int threads) : stream_(thread_stream()) {
    if (threads > 0 && omp_get_max_threads() != threads) omp_set_num_threads(threads);
  }
  void exec(const dnnl::primitive& p, const memory::desc& scratch, Args args) {
    if (scratch.get_size() > 0) args.insert({DNNL_ARG_SCRATCHPAD, memory(scratch, cpu_engine(), temp(kScratch, scratch.get_size()))});
    p.execute(stream_, args);
  }
  void reorder(const dnnl::reorder& r, memory& from, memory& to) { r.execute(stream_, from, to); }
  void wait() { stream_.wait(); }
  // `bytes` of temporary storage for this Runner's life.
  void* temp(TempSlot slot, size_t bytes) {
    if (bytes < kPooledBytes) return thread_temp(slot, bytes);
    held_.push_back(take_block(bytes));
    return held_.back().get();
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

 private:
  // One stream per thread, made on its first kernel: a stream per kernel run cost an allocation
  // and its release each time.
  static dnnl::stream& thread_stream() {
    thread_local dnnl::stream s(cpu_engine());
    return s;
  }

  dnnl::stream& stream_;
  std::vector<std::shared_ptr<void>> held_;
};

// Reorders constant data given in `user` layout into `want` (owned memory), once.
memory reorder_constant(const memory::desc& user_md, const void* data, const memory::desc& want) {
  memory user(user_md, cpu_engine(), const_cast<void*>(data));
  memory out(want, cpu_engine());
  dnnl::stream s(cpu_engine());
  dnnl::reorder(user, out).execute(s, user, out);
  s.wait();
  return out;
}

std::string desc_bytes(const memory::desc& md) { return std::string(reinterpret_cast<const char*>(&md.data), sizeof md.data); }

// A constant prepared once for a kernel (weights in the layout its primitive chose): reordered
// now and recorded in the executable's PackedConstants, or, when restoring, taken from there as
// serialized (no reorder; in place when the host keeps the bytes). A restore whose constants do
// not match the layout this build's primitive wants is refused as data_loss (the host then
// compiles afresh).
memory prepared_constant(const CompileContext& ctx, uint32_t slot, const memory::desc& user_md, const void* data,
                         const memory::desc& want) {
  PackedConstants* packed = ctx.node_index >= 0 ? ctx.packed : nullptr;
  const uint64_t key = PackedConstants::key(ctx.node_index, slot);
  if (packed && packed->restoring()) {
    const PackedConstants::Entry* e = packed->find(key);
    if (!e) throw_error(StatusCode::data_loss, "serialized CPU executable lacks the prepared constants of node " + std::to_string(ctx.node_index));
    dnnl_memory_desc_t stored{};
    if (e->desc.size() != sizeof stored) throw_error(StatusCode::data_loss, "serialized CPU executable: layout descriptor of another oneDNN build");
    std::memcpy(&stored, e->desc.data(), sizeof stored);
    if (stored.ndims < 0 || stored.ndims > DNNL_MAX_NDIMS || !(memory::desc(stored) == want) || e->bytes != want.get_size())
      throw_error(StatusCode::data_loss, "serialized CPU executable: node " + std::to_string(ctx.node_index) +
                                             "'s constants were prepared for another layout");
    return memory(want, cpu_engine(), const_cast<void*>(e->data));
  }
  memory m = reorder_constant(user_md, data, want);
  if (packed) packed->add(key, m.get_data_handle(), want.get_size(), desc_bytes(want), std::make_shared<memory>(m));
  return m;
}

// Common base: the output shape and thread count.
class OneDnnKernel : public FastKernel {
 public:
  int threads_ = 0;

 protected:
  // Of the temporaries a run takes, in order, those Runner::temp takes from take_block (kPooledBytes
  // or more): the ones the memory plan places.
  static std::vector<size_t> pooled(std::initializer_list<size_t> temps) {
    std::vector<size_t> out;
    for (size_t bytes : temps)
      if (bytes >= kPooledBytes) out.push_back(bytes);
    return out;
  }
};

// ---------------------------------------------------------------------------
// Window geometry (Conv and pooling), as the reference computes it
// ---------------------------------------------------------------------------

struct Window {
  memory::dims k, s, d, pl, pr, out, in;
  memory::dims extra;  // right padding added so oneDNN's floor formula gives the ceil-mode size
};

Window window_geometry(const Node& node, const Shape& in_spatial, const std::vector<int64_t>& kernel, bool ceil_mode,
                       bool use_dilations = true) {
  const size_t r = in_spatial.size();
  std::vector<int64_t> strides = node.attr_ints("strides");
  std::vector<int64_t> dil = use_dilations ? node.attr_ints("dilations") : std::vector<int64_t>{};
  std::vector<int64_t> pads = node.attr_ints("pads");
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (strides.empty()) strides.assign(r, 1);
  if (dil.empty()) dil.assign(r, 1);
  if (pads.empty()) pads.assign(2 * r, 0);
  require(kernel.size() == r && strides.size() == r && dil.size() == r && pads.size() == 2 * r);
  require(auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER");
  Window w;
  for (size_t i = 0; i < r; ++i) {
    const int64_t in = in_spatial[i], k = kernel[i], s = strides[i], d = dil[i];
    require(k >= 1 && s >= 1 && d >= 1 && k <= 4096 && s <= 4096 && d <= 4096);
    const int64_t ek = (k - 1) * d + 1;
    int64_t pb = 0, pe = 0, out = 0;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + ek - in);
      if (auto_pad == "SAME_UPPER") {
        pb = total / 2;
        pe = total - pb;
      } else {
        pe = total / 2;
        pb = total - pe;
      }
    } else {
      if (auto_pad == "NOTSET") {
        pb = pads[i];
        pe = pads[i + r];
        require(pb >= 0 && pe >= 0 && pb <= 4096 && pe <= 4096);
      }
      const int64_t span = in + pb + pe - ek;
      require(span >= 0);
      out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (out - 1) * s >= in + pb) --out;
    }
    require(out >= 1);
    // oneDNN: out = (in + pl + pr - ek) / s + 1 (floor). Use the smallest pr giving `out`:
    // window positions depend only on pl and s, so trailing padding no window reaches is
    // dropped and the ceil-mode extension (`extra`) is added.
    const int64_t need = (out - 1) * s + ek - in - pb;
    const int64_t extra = std::max<int64_t>(0, need - pe);
    w.k.push_back(k);
    w.s.push_back(s);
    w.d.push_back(d - 1);  // oneDNN counts dilation from 0
    w.pl.push_back(pb);
    w.pr.push_back(need);
    w.in.push_back(in);
    w.out.push_back(out);
    w.extra.push_back(extra);
    require(in + pb + need - ek >= 0 && (in + pb + need - ek) / s + 1 == out);
  }
  return w;
}

memory::format_tag spatial_plain_tag(size_t rank) {
  switch (rank) {
    case 3: return memory::format_tag::ncw;
    case 4: return memory::format_tag::nchw;
    case 5: return memory::format_tag::ncdhw;
    default: decline();
  }
}

// ---------------------------------------------------------------------------
// Conv
// ---------------------------------------------------------------------------

// Whether convolutions use oneDNN's preferred (blocked) activation layout, with a
// reorder on the way in and out, or run directly on plain NCHW.
bool conv_blocked_activations() {
  static const bool v = [] {
    const char* e = std::getenv("SWITCHYARD_ONEDNN_CONV_LAYOUT");
    if (e && std::strcmp(e, "plain") == 0) return false;
    return true;
  }();
  return v;
}

const memory::desc& layout_md(const Layout& l) { return *static_cast<const memory::desc*>(l.get()); }
Layout make_layout(const memory::desc& md) { return std::make_shared<const memory::desc>(md); }
// The layout input i arrives in (null: plain).
Layout input_layout(const CompileContext& ctx, size_t i) { return i < ctx.input_layouts.size() ? ctx.input_layouts[i] : nullptr; }

// Whether a value's tensor holds `md`'s bytes (blocked values travel as 1-D float32).
const Tensor& run_blocked_input(const std::vector<const Value*>& inputs, size_t i, const memory::desc& md) {
  if (i >= inputs.size() || !inputs[i] || inputs[i]->kind != Value::Kind::tensor)
    throw_error(StatusCode::invalid_argument, "input " + std::to_string(i) + " is missing");
  const Tensor& t = inputs[i]->tensor;
  if (t.type() != ElementType::float32 || t.byte_size() < md.get_size())
    throw_error(StatusCode::internal, "input " + std::to_string(i) + " does not hold the blocked layout it was planned with");
  return t;
}

dnnl::primitive_attr conv_attr(const std::vector<ConvPostOp>& ops) {
  dnnl::primitive_attr a = base_attr();
  if (ops.empty()) return a;
  dnnl::post_ops po;
  using K = ConvPostOp::Kind;
  using A = dnnl::algorithm;
  for (const auto& op : ops) {
    switch (op.kind) {
      case K::sum: po.append_sum(op.alpha); break;
      case K::relu: po.append_eltwise(1.0f, A::eltwise_relu, op.alpha, 0.0f); break;
      case K::clip: po.append_eltwise(1.0f, A::eltwise_clip_v2, op.alpha, op.beta); break;
      case K::logistic: po.append_eltwise(1.0f, A::eltwise_logistic, 0.0f, 0.0f); break;
      case K::hardswish: po.append_eltwise(1.0f, A::eltwise_hardswish, 0.0f, 0.0f); break;
      case K::linear: po.append_eltwise(1.0f, A::eltwise_linear, op.alpha, op.beta); break;
      default: decline();
    }
  }
  a.set_post_ops(po);
  return a;
}

bool has_sum(const std::vector<ConvPostOp>& ops) {
  for (const auto& op : ops)
    if (op.kind == ConvPostOp::Kind::sum) return true;
  return false;
}

// A 1x1 convolution (stride 1, no padding, one group) whose input arrives plain may run on the
// plain NCHW tensors: oneDNN then computes it as one GEMM, W[M, C] x X[C, HW], without the
// reorders the blocked layout needs. 1 thread, GEMM against blocked (without reorders):
// 256 -> 128 channels at 56x56 2.1 / 3.0 ms, 512 -> 128 at 28x28 1.0 / 1.5 ms, but 1024 -> 128
// at 14x14 0.78 / 0.53 ms, 16 -> 96 at 160x160 2.0 / 1.3 ms, and ShuffleNet's 58..464-channel
// convs on 28x28 to 7x7 took 5.0 ms against 2.9 ms. So only on images of 784 pixels or more,
// with 128 input channels or more, or from 4096 pixels when the output leaves plain anyway
// (the output reorder saved: 2.7 ms at 96x160x160). Only without post-ops or with Relu: the
// GEMM path applies others slowly (32 -> 200 channels on 2x96 with HardSwish: 0.24 ms).
bool plain_pointwise(const Window& w, int64_t group, int64_t channels, const CompileContext& ctx, const FusedConvSpec* spec) {
  static const bool enabled = [] {
    const char* e = std::getenv("SWITCHYARD_ONEDNN_PLAIN_1X1");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  int64_t pixels = 1;
  for (int64_t o : w.out) pixels *= o;
  const bool plain_out = !ctx.blocked_dst;
  const bool worth_it = (channels >= 128 && pixels >= 784) || (plain_out && pixels >= 4096);
  if (!enabled || group != 1 || !worth_it || input_layout(ctx, 0)) return false;
  if (spec)
    for (const auto& op : spec->post_ops)
      if (op.kind != ConvPostOp::Kind::relu || op.alpha != 0.0f) return false;
  for (size_t i = 0; i < w.k.size(); ++i)
    if (w.k[i] != 1 || w.s[i] != 1 || w.pl[i] != 0 || w.pr[i] != 0 || w.d[i] != 0) return false;
  return true;
}

class ConvKernel final : public OneDnnKernel {
 public:
  // `spec` (FusedConv nodes): post-ops and boundary layouts; null for a plain Conv.
  static std::unique_ptr<ConvKernel> make(const Node& node, const CompileContext& ctx, bool build,
                                          const FusedConvSpec* spec = nullptr) {
    require_single_output(node);
    const bool sum = spec && has_sum(spec->post_ops);
    require(node.inputs.size() >= 2 && node.inputs.size() <= (sum ? 4u : 3u));
    require(!sum || (node.inputs.size() == 4 && node.inputs[3] >= 0));
    const Shape xs = f32_shape(node, ctx, 0, 5);
    const Shape ws = f32_shape(node, ctx, 1, 5);
    require(xs.size() >= 3 && ws.size() == xs.size());
    const Tensor* W = constant_input(node, ctx.graph, 1);
    require(W != nullptr && W->type() == ElementType::float32);
    const int64_t N = xs[0], C = xs[1], M = ws[0];
    const int64_t group = node.attr_int("group", 1);
    require(group >= 1 && C % group == 0 && M % group == 0 && ws[1] == C / group);
    std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    std::vector<int64_t> ks = node.attr_ints("kernel_shape");
    require(ks.empty() || ks == kernel);
    const bool has_bias = has_input(node, 2);
    if (has_bias) {
      const Shape bs = f32_shape(node, ctx, 2, 1);
      require(bs.size() == 1 && bs[0] == M);
    }
    Window w = window_geometry(node, Shape(xs.begin() + 2, xs.end()), kernel, false);

    auto k = std::make_unique<ConvKernel>();
    k->threads_ = ctx.threads;
    k->x_shape_ = xs;
    k->has_bias_ = has_bias;
    k->out_shape_ = {N, M};
    for (int64_t o : w.out) k->out_shape_.push_back(o);
    if (sum) require(f32_shape(node, ctx, 3, 5) == k->out_shape_);
    k->sum_ = sum;

    const auto tag = spatial_plain_tag(xs.size());
    k->src_user_ = memory::desc(dims_of(xs), dt::f32, tag);
    k->dst_user_ = memory::desc(dims_of(k->out_shape_), dt::f32, tag);
    memory::dims wd;
    if (group == 1) {
      wd = dims_of(ws);
    } else {
      wd = {group, M / group, C / group};
      wd.insert(wd.end(), kernel.begin(), kernel.end());
    }
    const memory::desc w_user(wd, dt::f32, row_major_strides(wd));
    const memory::desc w_any(wd, dt::f32, memory::format_tag::any);
    const memory::desc b_md = has_bias ? memory::desc({M}, dt::f32, memory::format_tag::x) : memory::desc();
    const bool blocked = conv_blocked_activations() && !plain_pointwise(w, group, C, ctx, spec);
    const memory::desc src_md = blocked ? memory::desc(dims_of(xs), dt::f32, memory::format_tag::any) : k->src_user_;
    const memory::desc dst_md =
        blocked ? memory::desc(dims_of(k->out_shape_), dt::f32, memory::format_tag::any) : k->dst_user_;
    dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
                                       w_any, b_md, dst_md, w.s, w.d, w.pl, w.pr);
    k->pd_ = dnnl::convolution_forward::primitive_desc(cd, spec ? conv_attr(spec->post_ops) : base_attr(), cpu_engine());
    if (!build) return k;
    k->prim_ = dnnl::convolution_forward(k->pd_);
    k->scratch_ = k->pd_.scratchpad_desc();
    k->weights_ = prepared_constant(ctx, kWeightsSlot, w_user, W->raw(), k->pd_.weights_desc());
    const memory::desc pd_src = k->pd_.src_desc(), pd_dst = k->pd_.dst_desc();
    // Boundary layouts: what input 0 / the sum operand arrive in, what the output leaves in.
    const Layout src_layout = input_layout(ctx, 0), sum_layout = input_layout(ctx, 3);
    k->src_blocked_ = static_cast<bool>(src_layout);
    k->src_in_ = k->src_blocked_ ? layout_md(src_layout) : k->src_user_;
    k->dst_blocked_ = ctx.blocked_dst && pd_dst != k->dst_user_;
    k->dst_out_ = k->dst_blocked_ ? pd_dst : k->dst_user_;
    if (pd_src != k->src_in_)
      k->src_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), k->src_in_, cpu_engine(), pd_src));
    if (pd_dst != k->dst_out_)
      k->dst_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), pd_dst, cpu_engine(), k->dst_out_));
    if (sum) {
      k->sum_blocked_ = static_cast<bool>(sum_layout);
      k->sum_in_ = k->sum_blocked_ ? layout_md(sum_layout) : k->dst_user_;
      k->sum_in_place_ = spec->sum_in_place && k->sum_in_ == pd_dst && k->dst_out_ == pd_dst;
      if (!k->sum_in_place_)
        k->sum_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), k->sum_in_, cpu_engine(), pd_dst));
    }
    return k;
  }

  Layout output_layout() const override { return dst_blocked_ ? make_layout(dst_out_) : nullptr; }
  int output_aliases_input() const override { return sum_in_place_ ? 3 : -1; }
  std::vector<size_t> pooled_temps() const override {
    return pooled({src_reorder_ ? pd_.src_desc().get_size() : 0, dst_reorder_ ? pd_.dst_desc().get_size() : 0, scratch_.get_size()});
  }

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor& X = src_blocked_ ? run_blocked_input(inputs, 0, src_in_) : run_input(inputs, 0, x_shape_);
    Runner r(threads_);
    Tensor Y;
    if (sum_in_place_) {
      // The sum operand's storage is this node's alone (planned): accumulate into it.
      Y = sum_blocked_ ? run_blocked_input(inputs, 3, sum_in_) : run_input(inputs, 3, out_shape_);
    } else {
      Y = uninitialized_for(dst_out_, !dst_blocked_, out_shape_);
    }
    memory src = wrap(src_in_, X), dst = wrap(dst_out_, Y);
    Args args{{DNNL_ARG_WEIGHTS, run_handle(weights_)}};
    if (has_bias_) {
      const Tensor& B = run_input(inputs, 2, {out_shape_[1]});
      args.insert({DNNL_ARG_BIAS, wrap(pd_.bias_desc(), B)});
    }
    memory src_p = src, dst_p = dst;
    if (src_reorder_) {
      src_p = memory(pd_.src_desc(), cpu_engine(), r.temp(kSrcTemp, pd_.src_desc().get_size()));
      r.reorder(*src_reorder_, src, src_p);
    }
    if (dst_reorder_) dst_p = memory(pd_.dst_desc(), cpu_engine(), r.temp(kDstTemp, pd_.dst_desc().get_size()));
    if (sum_reorder_) {
      const Tensor& Z = sum_blocked_ ? run_blocked_input(inputs, 3, sum_in_) : run_input(inputs, 3, out_shape_);
      memory z = wrap(sum_in_, Z);
      r.reorder(*sum_reorder_, z, dst_p);
    }
    args.insert({DNNL_ARG_SRC, src_p});
    args.insert({DNNL_ARG_DST, dst_p});
    r.exec(prim_, scratch_, std::move(args));
    if (dst_reorder_) r.reorder(*dst_reorder_, dst_p, dst);
    r.wait();
    outputs[0] = Value::of(std::move(Y));
  }

 private:
  Shape x_shape_, out_shape_;
  bool has_bias_ = false, sum_ = false;
  bool src_blocked_ = false, dst_blocked_ = false, sum_blocked_ = false, sum_in_place_ = false;
  memory::desc src_user_, dst_user_, scratch_, src_in_, dst_out_, sum_in_;
  dnnl::convolution_forward::primitive_desc pd_;
  dnnl::convolution_forward prim_;
  memory weights_;
  std::optional<dnnl::reorder> src_reorder_, dst_reorder_, sum_reorder_;
};

// ---------------------------------------------------------------------------
// ConvTranspose (deconvolution_forward)
// ---------------------------------------------------------------------------

// ConvTranspose geometry as the reference computes it, for auto_pad NOTSET without
// output_shape: out = s*(in-1) + output_padding + (k-1)*d + 1 - pad_begin - pad_end. oneDNN
// has no output padding; a right padding of pad_end - output_padding gives the same extent
// (the extra positions receive no input, only the bias).
struct DeconvGeometry {
  memory::dims strides, dilates, pad_l, pad_r, out;
};

DeconvGeometry deconv_geometry(const Node& node, const Shape& in_spatial, const std::vector<int64_t>& kernel) {
  const size_t r = in_spatial.size();
  require(node.attr_string("auto_pad", "NOTSET") == "NOTSET" && node.attr("output_shape") == nullptr);
  const std::vector<int64_t> strides = node.attr_ints("strides", std::vector<int64_t>(r, 1));
  const std::vector<int64_t> dil = node.attr_ints("dilations", std::vector<int64_t>(r, 1));
  const std::vector<int64_t> outpad = node.attr_ints("output_padding", std::vector<int64_t>(r, 0));
  const std::vector<int64_t> pads = node.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  require(kernel.size() == r && strides.size() == r && dil.size() == r && outpad.size() == r && pads.size() == 2 * r);
  DeconvGeometry g;
  for (size_t i = 0; i < r; ++i) {
    const int64_t k = kernel[i], s = strides[i], d = dil[i], op = outpad[i], pb = pads[i], pe = pads[i + r];
    require(k >= 1 && s >= 1 && d >= 1 && k <= 4096 && s <= 4096 && d <= 4096);
    require(op >= 0 && pb >= 0 && pe >= 0 && op <= 4096 && pb <= 4096 && pe <= 4096);
    const int64_t out = s * (in_spatial[i] - 1) + op + (k - 1) * d + 1 - pb - pe;
    require(out >= 1);
    g.strides.push_back(s);
    g.dilates.push_back(d - 1);  // oneDNN counts dilation from 0
    g.pad_l.push_back(pb);
    g.pad_r.push_back(pe - op);
    g.out.push_back(out);
  }
  return g;
}

// ONNX ConvTranspose weights [C, M/group, k...] as oneDNN's deconvolution weights
// ([M, C, k...], or [group, M/group, C/group, k...]): the same bytes, strided.
memory::desc deconv_weights_md(const Shape& ws, int64_t group) {
  const int64_t C = ws[0], Mg = ws[1];
  int64_t k = 1;
  memory::dims spatial(ws.begin() + 2, ws.end()), spatial_st(spatial.size());
  for (size_t i = spatial.size(); i-- > 0;) {
    spatial_st[i] = k;
    k *= spatial[i];
  }
  memory::dims dims, st;
  if (group == 1) {
    dims = {Mg, C};
    st = {k, Mg * k};
  } else {
    dims = {group, Mg, C / group};
    st = {C / group * Mg * k, k, Mg * k};
  }
  dims.insert(dims.end(), spatial.begin(), spatial.end());
  st.insert(st.end(), spatial_st.begin(), spatial_st.end());
  return memory::desc(dims, dt::f32, st);
}

class DeconvKernel final : public OneDnnKernel {
 public:
  static std::unique_ptr<DeconvKernel> make(const Node& node, const CompileContext& ctx, bool build) {
    require_single_output(node);
    require(node.inputs.size() >= 2 && node.inputs.size() <= 3);
    const Shape xs = f32_shape(node, ctx, 0, 5), ws = f32_shape(node, ctx, 1, 5);
    require(xs.size() >= 3 && ws.size() == xs.size());
    const Tensor* W = constant_input(node, ctx.graph, 1);
    require(W != nullptr && W->type() == ElementType::float32);
    const int64_t N = xs[0], C = xs[1], group = node.attr_int("group", 1);
    require(group >= 1 && C % group == 0 && ws[0] == C);
    const int64_t M = ws[1] * group;
    const std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    const std::vector<int64_t> ks = node.attr_ints("kernel_shape");
    require(ks.empty() || ks == kernel);
    auto k = std::make_unique<DeconvKernel>();
    k->has_bias_ = has_input(node, 2);
    if (k->has_bias_) require(f32_shape(node, ctx, 2, 1) == Shape{M});
    const DeconvGeometry g = deconv_geometry(node, Shape(xs.begin() + 2, xs.end()), kernel);
    k->threads_ = ctx.threads;
    k->x_shape_ = xs;
    k->out_shape_ = {N, M};
    k->out_shape_.insert(k->out_shape_.end(), g.out.begin(), g.out.end());
    const auto tag = spatial_plain_tag(xs.size());
    k->src_user_ = memory::desc(dims_of(xs), dt::f32, tag);
    k->dst_user_ = memory::desc(dims_of(k->out_shape_), dt::f32, tag);
    const memory::desc w_user = deconv_weights_md(ws, group);
    const memory::desc w_any(w_user.dims(), dt::f32, memory::format_tag::any);
    // Plain activations and no bias argument: oneDNN 2.6 adds a deconvolution's bias in a
    // scalar loop (18.8 ms of 24->24 channels at 160x160 -> 320x320, 4.6 ms without, 1 thread)
    // and its blocked layouts cost two reorders; the bias is added afterwards (add_bias).
    dnnl::deconvolution_forward::desc dd(dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct,
                                         k->src_user_, w_any, memory::desc(), k->dst_user_, g.strides, g.dilates, g.pad_l,
                                         g.pad_r);
    k->pd_ = dnnl::deconvolution_forward::primitive_desc(dd, base_attr(), cpu_engine());
    if (build) k->build(ctx, *W, w_user);
    return k;
  }

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor& X = run_input(inputs, 0, x_shape_);
    Runner r(threads_);
    Tensor Y = uninitialized_f32(out_shape_);
    memory src = wrap(src_user_, X), dst = wrap(dst_user_, Y);
    r.exec(prim_, scratch_, Args{{DNNL_ARG_WEIGHTS, run_handle(weights_)}, {DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    r.wait();
    if (has_bias_) add_bias(run_input(inputs, 2, {out_shape_[1]}), Y);
    outputs[0] = Value::of(std::move(Y));
  }
  std::vector<size_t> pooled_temps() const override { return pooled({scratch_.get_size()}); }

 private:
  // The primitive, the weights in its layout (prepared once) and the boundary reorders.
  void build(const CompileContext& ctx, const Tensor& W, const memory::desc& w_user) {
    prim_ = dnnl::deconvolution_forward(pd_);
    scratch_ = pd_.scratchpad_desc();
    weights_ = prepared_constant(ctx, kWeightsSlot, w_user, W.raw(), pd_.weights_desc());
  }

  // Y[n, m, ...] += B[m] on the plain output.
  void add_bias(const Tensor& B, Tensor& Y) const {
    const int64_t N = out_shape_[0], M = out_shape_[1], plane = N * M > 0 ? Y.numel() / (N * M) : 0;
    const float* b = B.data<float>();
    float* y = Y.mutable_data<float>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        float* p = y + (n * M + m) * plane;
        const float v = b[m];
        for (int64_t i = 0; i < plane; ++i) p[i] += v;
      }
  }

  Shape x_shape_, out_shape_;
  bool has_bias_ = false;
  memory::desc src_user_, dst_user_, scratch_;
  dnnl::deconvolution_forward::primitive_desc pd_;
  dnnl::deconvolution_forward prim_;
  memory weights_;
};

// ---------------------------------------------------------------------------
// Gemm and MatMul (dnnl::matmul)
// ---------------------------------------------------------------------------

// A (possibly batched) matmul with A given at run time and B either constant
// (reordered once) or given at run time; optional epilogue y = alpha*y + beta*C.
class MatMulKernel final : public OneDnnKernel {
 public:
  // a_md / b_md describe the run-time layouts of A and B (strided views allowed).
  static std::unique_ptr<MatMulKernel> make_common(const CompileContext& ctx, const Shape& a_shape, const memory::desc& a_md,
                                                   const Shape& b_shape, const memory::desc& b_md, const Tensor* b_const,
                                                   const memory::dims& dst_dims, const Shape& out_shape, bool build) {
    auto k = std::make_unique<MatMulKernel>();
    k->threads_ = ctx.threads;
    k->a_shape_ = a_shape;
    k->b_shape_ = b_shape;
    k->a_md_ = a_md;
    k->b_md_ = b_md;
    k->out_shape_ = out_shape;
    k->dst_md_ = plain_md(dst_dims);
    k->b_constant_ = b_const != nullptr;
    std::optional<dnnl::matmul::primitive_desc> pd;
    if (b_const) {
      const memory::desc any(b_md.dims(), dt::f32, memory::format_tag::any);
      try {
        pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, any, k->dst_md_), base_attr(), cpu_engine());
      } catch (const dnnl::error&) {
        pd.reset();
      }
    }
    if (!pd) pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, k->dst_md_), base_attr(), cpu_engine());
    k->pd_ = *pd;
    if (!build) return k;
    k->prim_ = dnnl::matmul(k->pd_);
    k->scratch_ = k->pd_.scratchpad_desc();
    if (b_const) k->weights_ = prepared_constant(ctx, kWeightsSlot, b_md, b_const->raw(), k->pd_.weights_desc());
    return k;
  }

  // Gemm epilogue: y = alpha * y + beta * C (C broadcast over [M, N]).
  void set_epilogue(float alpha, float beta, std::optional<Shape> c_shape, int64_t M, int64_t N) {
    alpha_ = alpha;
    beta_ = beta;
    c_shape_ = std::move(c_shape);
    M_ = M;
    N_ = N;
  }

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor& A = run_input(inputs, 0, a_shape_);
    Tensor Y = uninitialized_f32(out_shape_);
    Runner r(threads_);
    Args args{{DNNL_ARG_SRC, wrap(a_md_, A)}, {DNNL_ARG_DST, wrap(dst_md_, Y)}};
    if (b_constant_) {
      args.insert({DNNL_ARG_WEIGHTS, run_handle(weights_)});
    } else {
      args.insert({DNNL_ARG_WEIGHTS, wrap(b_md_, run_input(inputs, 1, b_shape_))});
    }
    r.exec(prim_, scratch_, std::move(args));
    r.wait();
    const bool has_c = c_shape_.has_value();
    if (alpha_ != 1.0f || has_c) {
      float* y = Y.mutable_data<float>();
      const float* c = nullptr;
      int64_t cm = 0, cn = 0;
      if (has_c) {
        const Tensor& Ct = run_input(inputs, 2, *c_shape_);
        c = Ct.data<float>();
        // Broadcast strides of C over [M, N] (C has rank 0, 1 or 2).
        const Shape& cs = *c_shape_;
        const int64_t c_rows = cs.size() == 2 ? cs[0] : 1;
        const int64_t c_cols = cs.empty() ? 1 : cs.back();
        cm = c_rows == 1 ? 0 : c_cols;
        cn = c_cols == 1 ? 0 : 1;
      }
      for (int64_t m = 0; m < M_; ++m) {
        float* row = y + m * N_;
        if (c) {
          const float* crow = c + m * cm;
          for (int64_t n = 0; n < N_; ++n) row[n] = alpha_ * row[n] + beta_ * crow[n * cn];
        } else {
          for (int64_t n = 0; n < N_; ++n) row[n] = alpha_ * row[n];
        }
      }
    }
    outputs[0] = Value::of(std::move(Y));
  }

 private:
  Shape a_shape_, b_shape_, out_shape_;
  memory::desc a_md_, b_md_, dst_md_, scratch_;
  bool b_constant_ = false;
  dnnl::matmul::primitive_desc pd_;
  dnnl::matmul prim_;
  memory weights_;
  float alpha_ = 1.0f, beta_ = 0.0f;
  std::optional<Shape> c_shape_;
  int64_t M_ = 0, N_ = 0;
};

// A 2-D [rows, cols] view of a row-major matrix, transposed when `trans`.
memory::desc matrix_md(int64_t rows, int64_t cols, bool trans) {
  // The logical matrix is [rows, cols]; stored as [cols, rows] when transposed.
  return memory::desc({rows, cols}, dt::f32, trans ? memory::dims{1, rows} : memory::dims{cols, 1});
}

std::unique_ptr<MatMulKernel> make_gemm(const Node& node, const CompileContext& ctx, bool build) {
  require_single_output(node);
  require(node.inputs.size() >= 2 && node.inputs.size() <= 3);
  const Shape as = f32_shape(node, ctx, 0, 2), bs = f32_shape(node, ctx, 1, 2);
  require(as.size() == 2 && bs.size() == 2);
  const float alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  const int64_t M = ta ? as[1] : as[0], K = ta ? as[0] : as[1];
  const int64_t Kb = tb ? bs[1] : bs[0], N = tb ? bs[0] : bs[1];
  require(K == Kb);
  require(std::isfinite(alpha) && std::isfinite(beta));
  std::optional<Shape> c_shape;
  if (has_input(node, 2)) {
    Shape cs = f32_shape(node, ctx, 2, 2);
    // Unidirectional broadcast to [M, N].
    Shape pad(2 - cs.size(), 1);
    pad.insert(pad.end(), cs.begin(), cs.end());
    require((pad[0] == 1 || pad[0] == M) && (pad[1] == 1 || pad[1] == N));
    c_shape = cs;
  }
  const Tensor* b_const = constant_input(node, ctx.graph, 1);
  if (b_const && b_const->type() != ElementType::float32) b_const = nullptr;
  auto k = MatMulKernel::make_common(ctx, as, matrix_md(M, K, ta), bs, matrix_md(K, N, tb), b_const, {M, N}, {M, N},
                                     build);
  k->set_epilogue(alpha, beta, c_shape, M, N);
  return k;
}

std::unique_ptr<MatMulKernel> make_matmul(const Node& node, const CompileContext& ctx, bool build) {
  require_single_output(node);
  require(node.inputs.size() == 2);
  const Shape as = f32_shape(node, ctx, 0, 12), bs = f32_shape(node, ctx, 1, 12);
  require(!as.empty() && !bs.empty());
  // ONNX promotion of 1-D operands.
  Shape a2 = as, b2 = bs;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  require(a2.back() == b2[b2.size() - 2]);
  const size_t rank = std::max(a2.size(), b2.size());
  require(rank <= 6);
  a2.insert(a2.begin(), rank - a2.size(), 1);
  b2.insert(b2.begin(), rank - b2.size(), 1);
  memory::dims dd(rank);
  for (size_t i = 0; i + 2 < rank; ++i) {
    require(a2[i] == b2[i] || a2[i] == 1 || b2[i] == 1);
    dd[i] = std::max(a2[i], b2[i]);
  }
  dd[rank - 2] = a2[rank - 2];
  dd[rank - 1] = b2[rank - 1];
  // The ONNX output shape: batch dims of the broadcast, then M (unless A was 1-D), N (unless B was 1-D).
  const size_t orig_rank = std::max(as.size(), bs.size());
  Shape out;
  const size_t nbatch = orig_rank >= 2 ? orig_rank - 2 : 0;
  for (size_t i = rank - 2 - nbatch; i < rank - 2; ++i) out.push_back(dd[i]);
  if (as.size() > 1) out.push_back(dd[rank - 2]);
  if (bs.size() > 1) out.push_back(dd[rank - 1]);
  const Tensor* b_const = constant_input(node, ctx.graph, 1);
  if (b_const && b_const->type() != ElementType::float32) b_const = nullptr;
  auto k = MatMulKernel::make_common(ctx, as, plain_md(memory::dims(a2.begin(), a2.end())), bs,
                                     plain_md(memory::dims(b2.begin(), b2.end())), b_const, dd, out, build);
  return k;
}

// ---------------------------------------------------------------------------
// Non-finite inputs: oneDNN's eltwise, max pooling and softmax drop NaN (their max/min
// ignore it), start max pooling at -FLT_MAX and take ±FLT_MAX for absent Clip bounds;
// ONNX propagates NaN and keeps ±inf. Kernels built on those primitives recompute, the
// reference's way, the outputs a NaN or ±inf reaches, and only when the input holds one:
// finite inputs (the common case) pay one vectorised read of the input.
// ---------------------------------------------------------------------------

bool has_nonfinite(const Tensor& t) {
  const float* p = t.data<float>();
  const size_t n = t.numel();
  constexpr size_t block = 4096;  // early exit without a branch in the inner loop
  for (size_t b = 0; b < n; b += block) {
    const size_t e = std::min(n, b + block);
    uint32_t bad = 0;
    // NaN and ±inf are the floats whose exponent bits are all ones; integer tests vectorise where
    // the float comparison compiled to one comiss per element (3% of ppocr's run).
#pragma omp simd reduction(| : bad)
    for (size_t i = b; i < e; ++i) {
      uint32_t u;
      std::memcpy(&u, p + i, sizeof u);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
    if (bad) return true;
  }
  return false;
}

// y[i] = ref(x[i]) wherever x[i] is NaN or ±inf (elementwise activations).
std::function<void(const Tensor&, Tensor&)> elementwise_fixup(std::function<float(float)> ref) {
  return [ref = std::move(ref)](const Tensor& x, Tensor& y) {
    const float* xp = x.data<float>();
    float* yp = y.mutable_data<float>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!std::isfinite(xp[i])) yp[i] = ref(xp[i]);
  };
}

// Max with NaN propagation, as numpy's max.
float nan_max(float a, float b) { return std::isnan(a) || std::isnan(b) ? std::numeric_limits<float>::quiet_NaN() : std::max(a, b); }

// Recomputes every output of a max pooling over [N, C, spatial...] with window `w`
// (every window sees an input element: make_pool declines the others).
std::function<void(const Tensor&, Tensor&)> max_pool_fixup(Window w, Shape xs) {
  return [w = std::move(w), xs = std::move(xs)](const Tensor& x, Tensor& y) {
    const size_t r = w.k.size();
    int64_t in_plane = 1, out_plane = 1, kernel_size = 1;
    for (size_t i = 0; i < r; ++i) {
      in_plane *= w.in[i];
      out_plane *= w.out[i];
      kernel_size *= w.k[i];
    }
    const float* xp = x.data<float>();
    float* yp = y.mutable_data<float>();
    std::vector<int64_t> o(r), j(r);
    for (int64_t plane = 0; plane < xs[0] * xs[1]; ++plane)
      for (int64_t oi = 0; oi < out_plane; ++oi) {
        for (int64_t rest = oi, i = static_cast<int64_t>(r) - 1; i >= 0; --i) {
          o[i] = rest % w.out[i];
          rest /= w.out[i];
        }
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ki = 0; ki < kernel_size; ++ki) {
          for (int64_t rest = ki, i = static_cast<int64_t>(r) - 1; i >= 0; --i) {
            j[i] = o[i] * w.s[i] - w.pl[i] + (rest % w.k[i]) * (w.d[i] + 1);  // input position
            rest /= w.k[i];
          }
          int64_t offset = 0;
          bool inside = true;
          for (size_t i = 0; i < r; ++i) {
            inside = inside && j[i] >= 0 && j[i] < w.in[i];
            offset = offset * w.in[i] + j[i];  // only used when inside
          }
          if (inside) m = nan_max(m, xp[plane * in_plane + offset]);
        }
        yp[plane * out_plane + oi] = m;
      }
  };
}

// Recomputes, as the reference does (x - max, exp, divide by the sum), each softmax group
// over [outer, n, inner] that holds a NaN or ±inf: NaN or +inf makes the whole group NaN.
std::function<void(const Tensor&, Tensor&)> softmax_fixup(int64_t outer, int64_t n, int64_t inner) {
  return [outer, n, inner](const Tensor& x, Tensor& y) {
    const float* xp = x.data<float>();
    float* yp = y.mutable_data<float>();
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t b = 0; b < inner; ++b) {
        const int64_t base = a * n * inner + b;
        bool finite = true;
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n; ++j) {
          finite = finite && std::isfinite(xp[base + j * inner]);
          m = nan_max(m, xp[base + j * inner]);
        }
        if (finite) continue;
        float sum = 0.0f;
        for (int64_t j = 0; j < n; ++j) sum += yp[base + j * inner] = std::exp(xp[base + j * inner] - m);
        for (int64_t j = 0; j < n; ++j) yp[base + j * inner] /= sum;
      }
  };
}

// ---------------------------------------------------------------------------
// Single-input primitives (pooling, eltwise, softmax, batchnorm)
// ---------------------------------------------------------------------------

// Runs primitives with SRC = input 0 and DST = a new output (steps after the first in
// place on DST); `runtime_args_` passes more inputs (by index) as 1-D arguments. Input 0 may
// arrive in a oneDNN layout (src_md_); the primitives then work in the layout they choose
// (work_md_), and the output leaves in it or, reordered, plain (dst_md_).
class UnaryKernel final : public OneDnnKernel {
 public:
  struct Step {
    dnnl::primitive prim;
    memory::desc scratch;
  };
  Shape x_shape_, out_shape_;
  memory::desc src_md_, work_md_, dst_md_;
  bool src_blocked_ = false, work_blocked_ = false, dst_blocked_ = false;
  std::optional<dnnl::reorder> out_reorder_;  // work_md_ -> dst_md_
  std::vector<Step> steps_;  // run in order; steps after the first run in place on dst
  std::vector<std::pair<int, size_t>> runtime_args_;  // (arg id, input index), 1-D plain [numel]
  std::vector<Shape> runtime_shapes_;

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor& X = src_blocked_ ? run_blocked_input(inputs, 0, src_md_) : run_input(inputs, 0, x_shape_);
    Tensor W = uninitialized_for(work_md_, !work_blocked_, out_shape_);
    Runner r(threads_);
    memory src = wrap(src_md_, X), work = wrap(work_md_, W);
    for (size_t i = 0; i < steps_.size(); ++i) {
      Args args{{DNNL_ARG_SRC, i == 0 ? src : work}, {DNNL_ARG_DST, work}};
      for (size_t j = 0; j < runtime_args_.size(); ++j) {
        const Tensor& t = run_input(inputs, runtime_args_[j].second, runtime_shapes_[j]);
        args.insert({runtime_args_[j].first, wrap(memory::desc({t.numel()}, dt::f32, memory::format_tag::x), t)});
      }
      r.exec(steps_[i].prim, steps_[i].scratch, std::move(args));
    }
    r.wait();
    if (nonfinite_fixup_ && has_nonfinite(X)) fix_nonfinite(X, W);
    if (!out_reorder_) {
      outputs[0] = Value::of(std::move(W));
      return;
    }
    Tensor Y = uninitialized_for(dst_md_, !dst_blocked_, out_shape_);
    memory dst = wrap(dst_md_, Y);
    r.reorder(*out_reorder_, work, dst);
    r.wait();
    outputs[0] = Value::of(std::move(Y));
  }

  // Set for primitives that mishandle NaN or ±inf: recomputes, from X, the outputs that
  // such values reach. Runs only when X holds one.
  std::function<void(const Tensor& x, Tensor& y)> nonfinite_fixup_;

  Layout output_layout() const override { return dst_blocked_ ? make_layout(dst_md_) : nullptr; }

 private:
  // The fixup works on plain tensors: a layout goes through plain copies and back.
  void fix_nonfinite(const Tensor& X, Tensor& W) const {
    if (!src_blocked_ && !work_blocked_) return nonfinite_fixup_(X, W);
    Tensor xp = uninitialized_f32(x_shape_), wp = uninitialized_f32(out_shape_);
    const memory::desc x_plain = plain_md(dims_of(x_shape_)), w_plain = plain_md(dims_of(out_shape_));
    reorder_now(src_md_, X, x_plain, xp);
    reorder_now(work_md_, W, w_plain, wp);
    nonfinite_fixup_(xp, wp);
    reorder_now(w_plain, wp, work_md_, W);
  }
};

template <typename PD, typename P>
void add_step(UnaryKernel& k, const PD& pd, bool build) {
  if (build) k.steps_.push_back({P(pd), pd.scratchpad_desc()});
}

// Input 0 in the layout ctx says (else plain); the output plain until finish_unary says otherwise.
std::unique_ptr<UnaryKernel> new_unary(const CompileContext& ctx, const Shape& xs, const Shape& out) {
  auto k = std::make_unique<UnaryKernel>();
  k->threads_ = threads_for_elements(ctx.threads, xs);
  k->x_shape_ = xs;
  k->out_shape_ = out;
  const Layout in = input_layout(ctx, 0);
  k->src_blocked_ = static_cast<bool>(in);
  k->src_md_ = in ? layout_md(in) : plain_md(xs);
  k->work_md_ = k->dst_md_ = plain_md(out);
  return k;
}

// The descriptor to ask a primitive for as its destination: plain, or any layout when the
// input arrives in one (pooling then keeps the input's).
memory::desc unary_dst_request(const UnaryKernel& k) {
  return k.src_blocked_ ? memory::desc(dims_of(k.out_shape_), dt::f32, memory::format_tag::any) : k.dst_md_;
}

// Records the layout the primitives produce (`work`); the output keeps it when ctx allows,
// else a reorder to plain follows.
void finish_unary(UnaryKernel& k, const CompileContext& ctx, const memory::desc& work, bool build) {
  if (!k.src_blocked_) return;
  k.work_md_ = work;
  k.work_blocked_ = work != plain_md(dims_of(k.out_shape_));
  if (!k.work_blocked_) return;
  k.dst_blocked_ = ctx.blocked_dst;
  k.dst_md_ = ctx.blocked_dst ? work : plain_md(dims_of(k.out_shape_));
  if (!ctx.blocked_dst && build) k.out_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), work, cpu_engine(), k.dst_md_));
}

std::unique_ptr<UnaryKernel> make_pool(const Node& node, const CompileContext& ctx, bool build, bool is_max) {
  require_single_output(node);
  require(node.inputs.size() == 1);
  const Shape xs = f32_shape(node, ctx, 0, 5);
  require(xs.size() >= 3);
  std::vector<int64_t> kernel = node.attr_ints("kernel_shape");
  require(!kernel.empty());
  const bool ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  const int64_t storage_order = node.attr_int("storage_order", 0);
  require(storage_order == 0 || storage_order == 1);
  const bool include_pad = !is_max && node.attr_int("count_include_pad", 0) != 0;
  // AveragePool has dilations from opset 19; the reference reads them for every opset.
  Window w = window_geometry(node, Shape(xs.begin() + 2, xs.end()), kernel, ceil_mode);
  if (include_pad)
    for (auto e : w.extra) require(e == 0);  // oneDNN would count the ceil-mode extension as padding
  // Decline windows that see no input element (the reference gives NaN or -inf there).
  for (size_t i = 0; i < w.k.size(); ++i)
    for (int64_t o = 0; o < w.out[i]; ++o) {
      bool hit = false;
      for (int64_t j = 0; j < w.k[i] && !hit; ++j) {
        const int64_t pos = o * w.s[i] - w.pl[i] + j * (w.d[i] + 1);
        hit = pos >= 0 && pos < w.in[i];
      }
      require(hit);
    }
  Shape out = {xs[0], xs[1]};
  for (auto o : w.out) out.push_back(o);
  auto k = new_unary(ctx, xs, out);
  const auto alg = is_max ? dnnl::algorithm::pooling_max
                          : include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                        : dnnl::algorithm::pooling_avg_exclude_padding;
  dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, k->src_md_, unary_dst_request(*k), w.s, w.k, w.d,
                                   w.pl, w.pr);
  dnnl::pooling_v2_forward::primitive_desc pd(d, base_attr(), cpu_engine());
  add_step<decltype(pd), dnnl::pooling_v2_forward>(*k, pd, build);
  finish_unary(*k, ctx, pd.dst_desc(), build);
  if (is_max) k->nonfinite_fixup_ = max_pool_fixup(w, xs);
  return k;
}

std::unique_ptr<UnaryKernel> make_global_pool(const Node& node, const CompileContext& ctx, bool build, bool is_max) {
  require_single_output(node);
  require(node.inputs.size() == 1);
  const Shape xs = f32_shape(node, ctx, 0, 5);
  require(xs.size() >= 3);
  Shape out = xs;
  memory::dims k(xs.begin() + 2, xs.end()), ones(xs.size() - 2, 1), zeros(xs.size() - 2, 0);
  for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
  auto kern = new_unary(ctx, xs, out);
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference,
                                is_max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
                                kern->src_md_, unary_dst_request(*kern), ones, k, zeros, zeros);
  dnnl::pooling_forward::primitive_desc pd(d, base_attr(), cpu_engine());
  add_step<decltype(pd), dnnl::pooling_forward>(*kern, pd, build);
  finish_unary(*kern, ctx, pd.dst_desc(), build);
  if (is_max) {
    Window whole;  // one window covering each plane
    whole.k = whole.in = k;
    whole.s = ones;
    whole.d = whole.pl = whole.pr = zeros;
    whole.out = ones;
    kern->nonfinite_fixup_ = max_pool_fixup(whole, xs);
  }
  return kern;
}

void add_eltwise(UnaryKernel& k, dnnl::algorithm alg, float alpha, float beta, bool build) {
  dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, k.src_md_, alpha, beta);
  dnnl::eltwise_forward::primitive_desc pd(d, base_attr(), cpu_engine());
  add_step<decltype(pd), dnnl::eltwise_forward>(k, pd, build);
}

// A float32 scalar from a constant input, or nullopt when the input is omitted.
std::optional<float> constant_scalar(const Node& node, const CompileContext& ctx, size_t i) {
  if (!has_input(node, i)) return std::nullopt;
  const Tensor* t = constant_input(node, ctx.graph, i);
  require(t != nullptr && t->type() == ElementType::float32 && t->numel() == 1);
  return t->data<float>()[0];
}

enum class Act { relu, leaky_relu, sigmoid, tanh, clip, hard_sigmoid, hard_swish };

// Clip: an absent bound is unbounded, so ±inf stays ±inf (the fixup restores what oneDNN's
// finite bounds clamp).
void add_clip(UnaryKernel& k, const Node& node, const CompileContext& ctx, bool build) {
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (node.opset < 11) {
    require(node.inputs.size() == 1);
    lo = node.attr_float("min", lo);
    hi = node.attr_float("max", hi);
  } else {
    require(node.inputs.size() <= 3);
    if (auto v = constant_scalar(node, ctx, 1)) lo = *v;
    if (auto v = constant_scalar(node, ctx, 2)) hi = *v;
  }
  require(!std::isnan(lo) && !std::isnan(hi) && lo <= hi);
  k.nonfinite_fixup_ = elementwise_fixup([lo, hi](float x) { return std::isnan(x) ? x : std::min(std::max(x, lo), hi); });
  lo = std::max(lo, std::numeric_limits<float>::lowest());
  hi = std::min(hi, std::numeric_limits<float>::max());
  add_eltwise(k, dnnl::algorithm::eltwise_clip_v2, lo, hi, build);
}

std::unique_ptr<UnaryKernel> make_eltwise(const Node& node, const CompileContext& ctx, bool build, Act act) {
  require_single_output(node);
  const Shape xs = f32_shape(node, ctx, 0);
  auto k = new_unary(ctx, xs, xs);
  using A = dnnl::algorithm;
  switch (act) {
    case Act::relu:
      require(node.inputs.size() == 1);
      add_eltwise(*k, A::eltwise_relu, 0.0f, 0.0f, build);
      k->nonfinite_fixup_ = elementwise_fixup([](float x) { return std::isnan(x) ? x : std::max(x, 0.0f); });
      break;
    case Act::leaky_relu: {
      require(node.inputs.size() == 1);
      const float a = node.attr_float("alpha", 0.01f);
      require(std::isfinite(a));
      add_eltwise(*k, A::eltwise_relu, a, 0.0f, build);
      break;
    }
    case Act::sigmoid:
      require(node.inputs.size() == 1);
      add_eltwise(*k, A::eltwise_logistic, 0.0f, 0.0f, build);
      break;
    case Act::tanh:
      require(node.inputs.size() == 1);
      add_eltwise(*k, A::eltwise_tanh, 0.0f, 0.0f, build);
      break;
    case Act::clip:
      add_clip(*k, node, ctx, build);
      break;
    case Act::hard_sigmoid: {
      require(node.inputs.size() == 1);
      const float a = node.attr_float("alpha", 0.2f), b = node.attr_float("beta", 0.5f);
      require(std::isfinite(a) && std::isfinite(b));
      add_eltwise(*k, A::eltwise_linear, a, b, build);
      // The second step reads dst in place; its descriptor is the same plain layout.
      add_eltwise(*k, A::eltwise_clip_v2, 0.0f, 1.0f, build);
      k->nonfinite_fixup_ = elementwise_fixup([a, b](float x) {
        const float v = a * x + b;
        return std::isnan(v) ? v : std::min(std::max(v, 0.0f), 1.0f);
      });
      break;
    }
    case Act::hard_swish:
      require(node.inputs.size() == 1);
      add_eltwise(*k, A::eltwise_hardswish, 0.0f, 0.0f, build);
      break;
  }
  finish_unary(*k, ctx, k->src_md_, build);  // eltwise keeps its input's layout
  return k;
}

std::unique_ptr<UnaryKernel> make_softmax(const Node& node, const CompileContext& ctx, bool build) {
  require_single_output(node);
  require(node.inputs.size() == 1);
  const Shape xs = f32_shape(node, ctx, 0);
  require(!xs.empty());
  const int64_t r = static_cast<int64_t>(xs.size());
  auto k = new_unary(ctx, xs, xs);
  int axis;
  if (node.opset < 13) {
    int64_t a = node.attr_int("axis", 1);
    if (a < 0) a += r;
    require(a >= 0 && a < r);
    // Flatten to [outer, inner] and normalise over dim 1.
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < r; ++i) (i < a ? outer : inner) *= xs[static_cast<size_t>(i)];
    k->src_md_ = k->work_md_ = k->dst_md_ = plain_md(memory::dims{outer, inner});
    axis = 1;
  } else {
    int64_t a = node.attr_int("axis", -1);
    if (a < 0) a += r;
    require(a >= 0 && a < r);
    axis = static_cast<int>(a);
  }
  dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, k->src_md_, axis);
  dnnl::softmax_forward::primitive_desc pd(d, base_attr(), cpu_engine());
  add_step<decltype(pd), dnnl::softmax_forward>(*k, pd, build);
  const memory::dims dims = k->src_md_.dims();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < static_cast<int>(dims.size()); ++i)
    if (i != axis) (i < axis ? outer : inner) *= dims[static_cast<size_t>(i)];
  k->nonfinite_fixup_ = softmax_fixup(outer, dims[static_cast<size_t>(axis)], inner);
  return k;
}

std::unique_ptr<UnaryKernel> make_batchnorm(const Node& node, const CompileContext& ctx, bool build) {
  require_single_output(node);
  require(node.inputs.size() == 5);
  const Shape xs = f32_shape(node, ctx, 0, 5);
  require(xs.size() >= 2);
  if (node.opset >= 14) require(node.attr_int("training_mode", 0) == 0);
  if (node.opset < 9) require(node.attr_int("spatial", 1) != 0);
  const int64_t C = xs[1];
  std::vector<Shape> pshapes;
  for (size_t i = 1; i <= 4; ++i) {
    Shape ps = f32_shape(node, ctx, i, 4);
    int64_t n = 1;
    for (int64_t d : ps) n *= d;
    require(n == C);
    pshapes.push_back(ps);
  }
  const float eps = node.attr_float("epsilon", 1e-5f);
  require(std::isfinite(eps) && eps >= 0);
  auto k = new_unary(ctx, xs, xs);
  const auto flags = dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale |
                     dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, k->src_md_, eps, flags);
  dnnl::batch_normalization_forward::primitive_desc pd(d, base_attr(), cpu_engine());
  add_step<decltype(pd), dnnl::batch_normalization_forward>(*k, pd, build);
  finish_unary(*k, ctx, pd.dst_desc(), build);
  k->runtime_args_ = {{DNNL_ARG_SCALE, 1}, {DNNL_ARG_SHIFT, 2}, {DNNL_ARG_MEAN, 3}, {DNNL_ARG_VARIANCE, 4}};
  k->runtime_shapes_ = pshapes;
  return k;
}

// ---------------------------------------------------------------------------
// Binary arithmetic with broadcasting (Add, Sub, Mul, Div, two-input Sum)
// ---------------------------------------------------------------------------

class BinaryKernel final : public OneDnnKernel {
 public:
  Shape a_shape_, b_shape_, out_shape_;
  size_t a_index_ = 0, b_index_ = 1;  // input indices feeding SRC_0 / SRC_1
  memory::desc a_md_, b_md_, dst_md_, scratch_;
  dnnl::binary prim_;

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor& A = run_input(inputs, a_index_, a_shape_);
    const Tensor& B = run_input(inputs, b_index_, b_shape_);
    Tensor Y = uninitialized_f32(out_shape_);
    Runner r(threads_);
    r.exec(prim_, scratch_, Args{{DNNL_ARG_SRC_0, wrap(a_md_, A)}, {DNNL_ARG_SRC_1, wrap(b_md_, B)}, {DNNL_ARG_DST, wrap(dst_md_, Y)}});
    r.wait();
    outputs[0] = Value::of(std::move(Y));
  }
  std::vector<size_t> pooled_temps() const override { return pooled({scratch_.get_size()}); }
};

std::unique_ptr<BinaryKernel> make_binary(const Node& node, const CompileContext& ctx, bool build, dnnl::algorithm alg,
                                          bool commutative) {
  require_single_output(node);
  require(node.inputs.size() == 2);
  const Shape as = f32_shape(node, ctx, 0), bs = f32_shape(node, ctx, 1);
  // Numpy broadcast of the two shapes.
  const size_t rank = std::max<size_t>({as.size(), bs.size(), 1});
  Shape ap(rank - as.size(), 1), bp(rank - bs.size(), 1);
  ap.insert(ap.end(), as.begin(), as.end());
  bp.insert(bp.end(), bs.begin(), bs.end());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    require(ap[i] == bp[i] || ap[i] == 1 || bp[i] == 1);
    out[i] = std::max(ap[i], bp[i]);
  }
  auto k = std::make_unique<BinaryKernel>();
  k->threads_ = threads_for_elements(ctx.threads, out);
  k->a_shape_ = as;
  k->b_shape_ = bs;
  // oneDNN broadcasts only SRC_1: SRC_0 must have the output's shape.
  if (ap != out) {
    require(commutative && bp == out);
    std::swap(k->a_shape_, k->b_shape_);
    std::swap(ap, bp);
    k->a_index_ = 1;
    k->b_index_ = 0;
  }
  // ONNX output rank is the max of the input ranks (rank 0 when both are scalars).
  k->out_shape_ = std::max(as.size(), bs.size()) == 0 ? Shape{} : out;
  k->a_md_ = plain_md(memory::dims(ap.begin(), ap.end()));
  k->b_md_ = plain_md(memory::dims(bp.begin(), bp.end()));
  k->dst_md_ = plain_md(memory::dims(out.begin(), out.end()));
  dnnl::binary::desc d(alg, k->a_md_, k->b_md_, k->dst_md_);
  dnnl::binary::primitive_desc pd(d, base_attr(), cpu_engine());
  if (build) {
    k->prim_ = dnnl::binary(pd);
    k->scratch_ = pd.scratchpad_desc();
  }
  return k;
}

// ---------------------------------------------------------------------------
// Provider plumbing
// ---------------------------------------------------------------------------

using MakeFn = std::function<std::unique_ptr<FastKernel>(const Node&, const CompileContext&, bool)>;

// Runs a builder for the given input shapes; declines (nullptr) on Decline, oneDNN errors
// or attribute type errors.
std::unique_ptr<FastKernel> try_make(const MakeFn& fn, const Node& node, const CompileContext& ctx, const Shapes& shapes,
                                     bool build) {
  const Shapes* saved = t_build_shapes;
  t_build_shapes = &shapes;
  std::unique_ptr<FastKernel> k;
  try {
    k = fn(node, ctx, build);
  } catch (const Decline&) {
  } catch (const dnnl::error&) {
  } catch (const Error&) {
  }
  t_build_shapes = saved;
  return k;
}

bool all_known(const Shapes& shapes, const Node& node) {
  for (size_t i = 0; i < shapes.size(); ++i)
    if (node.inputs[i] >= 0 && !shapes[i]) return false;
  return true;
}

// Checks that need no shapes, for nodes whose shapes are only known at run time.
bool shape_free_checks(const Node& node, const CompileContext& ctx) {
  if (node.outputs.empty() || node.outputs[0] < 0) return false;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i] >= 0) return false;
  if (node.inputs.empty() || node.inputs[0] < 0) return false;
  for (int32_t v : node.inputs)
    if (v >= 0 && elem_type_of(ctx.graph, v) != ElementType::float32) return false;
  auto rank0 = [&]() -> std::optional<size_t> {
    const auto& vt = ctx.graph.values[static_cast<size_t>(node.inputs[0])].type;
    if (vt.kind != ValueType::Kind::tensor || !vt.tensor.shape) return std::nullopt;
    return vt.tensor.shape->size();
  };
  const std::string& op = node.op_type;
  try {
    if (op == "Conv") {
      if (node.inputs.size() < 2) return false;
      const Tensor* W = constant_input(node, ctx.graph, 1);
      if (!W || W->type() != ElementType::float32 || W->rank() < 3 || W->rank() > 5) return false;
      if (auto r = rank0(); r && *r != static_cast<size_t>(W->rank())) return false;
    } else if (op == "ConvTranspose") {
      if (node.inputs.size() < 2) return false;
      const Tensor* W = constant_input(node, ctx.graph, 1);
      if (!W || W->type() != ElementType::float32 || W->rank() < 3 || W->rank() > 5) return false;
      if (auto r = rank0(); r && *r != static_cast<size_t>(W->rank())) return false;
      if (node.attr_string("auto_pad", "NOTSET") != "NOTSET" || node.attr("output_shape")) return false;
    } else if (op == "MaxPool" || op == "AveragePool" || op == "GlobalMaxPool" || op == "GlobalAveragePool") {
      if (auto r = rank0(); r && (*r < 3 || *r > 5)) return false;
      if ((op == "MaxPool" || op == "AveragePool") && node.attr_ints("kernel_shape").empty()) return false;
    } else if (op == "BatchNormalization") {
      if (node.inputs.size() != 5) return false;
      if (node.opset >= 14 && node.attr_int("training_mode", 0) != 0) return false;
      if (node.opset < 9 && node.attr_int("spatial", 1) == 0) return false;
    } else if (op == "Clip" && node.opset >= 11) {
      for (size_t i = 1; i < node.inputs.size(); ++i)
        if (node.inputs[i] >= 0 && !constant_input(node, ctx.graph, i)) return false;
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Sum") {
      if (node.inputs.size() != 2 || node.inputs[1] < 0) return false;
    }
  } catch (const Error&) {
    return false;
  }
  return true;
}

// A node whose kernel is built per distinct set of input shapes (at compile time when the
// graph's shapes are static, else on first use of each shape). Shapes oneDNN cannot run,
// if any, go to the reference kernel, so results never depend on this path.
class ShapeCachedKernel final : public FastKernel {
 public:
  using Fallback = std::function<void(const std::vector<const Value*>&, std::vector<Value>&)>;
  ShapeCachedKernel(const Node& node, const CompileContext& ctx, const MakeFn& fn, Fallback fallback = nullptr)
      : node_(node), graph_(&ctx.graph), threads_(ctx.threads), fn_(fn),
        reference_(reference::KernelRegistry::instance().find(node.domain, node.op_type)), fallback_(std::move(fallback)) {}

  // Builds (or records the lack of) a kernel for `shapes`; returns it. `build` (the executable's
  // build, not a run) lets the kernel record or take its prepared constants.
  std::shared_ptr<const FastKernel> prepare(const Shapes& shapes, const CompileContext* build = nullptr) const {
    std::vector<Shape> key;
    for (const auto& s : shapes) key.push_back(s ? *s : Shape{-1});
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
    CompileContext ctx{*graph_, threads_, build ? build->packed : nullptr, build ? build->node_index : -1};
    std::shared_ptr<const FastKernel> k = try_make(fn_, node_, ctx, shapes, true);
    if (build && !built_) {  // before any run: runs read these without the lock
      built_key_ = key;
      built_ = k;
    }
    plans_.emplace(std::move(key), k);
    return k;
  }

  std::vector<size_t> pooled_temps() const override { return built_ ? built_->pooled_temps() : std::vector<size_t>{}; }

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    if (built_ && has_built_shapes(inputs)) return built_->run(inputs, outputs);
    Shapes shapes(inputs.size());
    bool ok = true;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i] || node_.inputs[i] < 0) continue;
      if (inputs[i]->kind != Value::Kind::tensor || inputs[i]->tensor.type() != ElementType::float32) ok = false;
      else shapes[i] = inputs[i]->tensor.shape();
    }
    std::shared_ptr<const FastKernel> k = ok ? prepare(shapes) : nullptr;
    if (k) {
      k->run(inputs, outputs);
      return;
    }
    if (fallback_) {
      fallback_(inputs, outputs);
      return;
    }
    if (!reference_) throw_error(StatusCode::internal, "no reference kernel for " + node_.op_type);
    static const reference::Interpreter interpreter;
    static const std::map<std::string, const Value*> no_scope;
    reference::KernelContext rctx(node_, inputs, outputs, interpreter, no_scope);
    (*reference_)(rctx);
  }

 private:
  Node node_;
  const Graph* graph_;
  int threads_;
  MakeFn fn_;
  const reference::KernelFn* reference_;
  Fallback fallback_;
  // Whether `inputs` have the shapes the kernel was built for at compile time (the common case:
  // no lock, no key to build).
  bool has_built_shapes(const std::vector<const Value*>& inputs) const {
    if (inputs.size() != built_key_.size()) return false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i] || node_.inputs[i] < 0) {
        if (built_key_[i] != Shape{-1}) return false;
        continue;
      }
      if (inputs[i]->kind != Value::Kind::tensor || inputs[i]->tensor.type() != ElementType::float32 ||
          inputs[i]->tensor.shape() != built_key_[i])
        return false;
    }
    return true;
  }

  mutable std::mutex mu_;
  mutable std::map<std::vector<Shape>, std::shared_ptr<const FastKernel>> plans_;
  // The kernel prepared while the executable was built, and its shapes.
  mutable std::vector<Shape> built_key_;
  mutable std::shared_ptr<const FastKernel> built_;
};

// Likely run-time shape of a value whose graph shape is partly unknown: static dims as
// declared, unknown channels taken from the producing Conv's weights (through activations,
// normalisation, pooling and binary ops), any other unknown dim 1 (batch).
std::optional<Shape> guess_value_shape(const Graph& g, int32_t v, int depth = 0) {
  if (v < 0) return std::nullopt;
  if (auto s = static_shape_of(g, v)) return s;
  const auto& vt = g.values[static_cast<size_t>(v)].type;
  if (vt.kind != ValueType::Kind::tensor || !vt.tensor.shape) return std::nullopt;
  Shape s;
  for (const Dim& d : *vt.tensor.shape) s.push_back(d.is_static() ? d.value : -1);
  auto fill = [&](const std::optional<Shape>& from) {
    if (!from || from->size() != s.size()) return;
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] < 0) s[i] = (*from)[i];
  };
  static const std::vector<std::string> same_shape = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
                                                      "HardSwish", "BatchNormalization", "Softmax", "Identity"};
  if (depth < 256 && s.size() >= 2 && s[1] < 0) {
    for (const Node& n : g.nodes) {
      if (n.outputs.empty() || n.outputs[0] != v) continue;
      if (n.op_type == "Conv" || (n.op_type == kFusedConvOp && n.domain == kFusedDomain)) {
        const Tensor* W = constant_input(n, g, 1);
        if (W && W->rank() >= 1) s[1] = W->dim(0);
      } else if (std::find(same_shape.begin(), same_shape.end(), n.op_type) != same_shape.end() && !n.inputs.empty()) {
        fill(guess_value_shape(g, n.inputs[0], depth + 1));
      } else if (n.op_type == "MaxPool" || n.op_type == "AveragePool" || n.op_type == "GlobalAveragePool" ||
                 n.op_type == "GlobalMaxPool") {
        auto in = guess_value_shape(g, n.inputs.empty() ? -1 : n.inputs[0], depth + 1);
        if (in && in->size() == s.size()) s[1] = (*in)[1];
      } else if (n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" || n.op_type == "Div" ||
                 n.op_type == "Sum") {
        for (int32_t in : n.inputs) {
          auto gi = guess_value_shape(g, in, depth + 1);
          if (gi && gi->size() == s.size() && (*gi)[1] > 1) {
            s[1] = (*gi)[1];
            break;
          }
        }
      }
      break;
    }
  }
  for (auto& d : s)
    if (d < 0) d = 1;
  return s;
}

std::optional<Shapes> guess_shapes(const Node& node, const Graph& graph) {
  Shapes out;
  for (int32_t v : node.inputs) {
    if (v < 0) {
      out.emplace_back();
      continue;
    }
    auto s = guess_value_shape(graph, v);
    if (!s) return std::nullopt;
    out.push_back(std::move(s));
  }
  if (!out.empty() && out[0] && out[0]->size() >= 2) {
    // A Conv's input channels follow from its weights; BatchNormalization's from its scale.
    const auto& vt0 = graph.values[static_cast<size_t>(node.inputs[0])].type;
    const bool c_unknown = vt0.kind == ValueType::Kind::tensor && vt0.tensor.shape && !(*vt0.tensor.shape)[1].is_static();
    if (c_unknown && (node.op_type == "Conv" || node.op_type == kFusedConvOp) && out.size() > 1 && out[1] && out[1]->size() >= 2) {
      int64_t group = 1;
      try {
        group = node.attr_int("group", 1);
      } catch (const Error&) {
      }
      (*out[0])[1] = (*out[1])[1] * group;
    } else if (c_unknown && node.op_type == "ConvTranspose" && out.size() > 1 && out[1] && out[1]->size() >= 2) {
      (*out[0])[1] = (*out[1])[0];
    } else if (c_unknown && node.op_type == "BatchNormalization" && out.size() > 1 && out[1] && out[1]->size() == 1) {
      (*out[0])[1] = (*out[1])[0];
    }
  }
  return out;
}

const std::map<std::string, MakeFn>& builders() {
  using A = dnnl::algorithm;
  static const std::map<std::string, MakeFn> m = {
      {"Conv", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return ConvKernel::make(n, c, b); }},
      {"ConvTranspose", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return DeconvKernel::make(n, c, b); }},
      {"Gemm", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_gemm(n, c, b); }},
      {"MatMul", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_matmul(n, c, b); }},
      {"MaxPool", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_pool(n, c, b, true); }},
      {"AveragePool", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_pool(n, c, b, false); }},
      {"GlobalMaxPool", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_global_pool(n, c, b, true); }},
      {"GlobalAveragePool", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_global_pool(n, c, b, false); }},
      {"BatchNormalization", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_batchnorm(n, c, b); }},
      {"Relu", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::relu); }},
      {"LeakyRelu", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::leaky_relu); }},
      {"Sigmoid", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::sigmoid); }},
      {"Tanh", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::tanh); }},
      {"Clip", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::clip); }},
      {"HardSigmoid", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::hard_sigmoid); }},
      {"HardSwish", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_eltwise(n, c, b, Act::hard_swish); }},
      {"Softmax", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_softmax(n, c, b); }},
      {"Add", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_binary(n, c, b, A::binary_add, true); }},
      {"Sum", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_binary(n, c, b, A::binary_add, true); }},
      {"Mul", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_binary(n, c, b, A::binary_mul, true); }},
      {"Sub", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_binary(n, c, b, A::binary_sub, false); }},
      {"Div", [](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> { return make_binary(n, c, b, A::binary_div, false); }},
  };
  return m;
}

const MakeFn* builder_for(const Node& node) {
  auto it = builders().find(node.op_type);
  return it == builders().end() ? nullptr : &it->second;
}

bool onednn_accepts(const Node& node, const CompileContext& ctx) {
  const MakeFn* fn = builder_for(node);
  if (!fn || !node.domain.empty()) return false;
  const Shapes shapes = graph_shapes(node, ctx.graph);
  // Static shapes: exactly when oneDNN builds the primitive. Otherwise the checks that
  // need no shapes; shapes found unsuitable at run time go to the reference kernel.
  if (all_known(shapes, node)) return try_make(*fn, node, ctx, shapes, false) != nullptr;
  return shape_free_checks(node, ctx);
}

std::unique_ptr<FastKernel> onednn_create(const Node& node, const CompileContext& ctx) {
  const MakeFn* fn = builder_for(node);
  if (!fn || !node.domain.empty()) return nullptr;
  const Shapes shapes = graph_shapes(node, ctx.graph);
  auto k = std::make_unique<ShapeCachedKernel>(node, ctx, *fn);
  if (all_known(shapes, node)) {
    if (!k->prepare(shapes, &ctx)) return nullptr;
  } else if (auto guess = guess_shapes(node, ctx.graph)) {
    k->prepare(*guess, &ctx);  // weights reordered now when the guess is right
  }
  return k;
}

// Concat of inputs that arrive in oneDNN layouts (a plain input is one more layout): oneDNN's
// concat primitive, its output in the layout it prefers (the first input's) or plain.
class ConcatKernel final : public OneDnnKernel {
 public:
  static std::unique_ptr<ConcatKernel> make(const Node& node, const CompileContext& ctx) {
    require_single_output(node);
    require(!node.inputs.empty());
    auto k = std::make_unique<ConcatKernel>();
    k->threads_ = ctx.threads;
    std::vector<memory::desc> srcs;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Shape xs = f32_shape(node, ctx, i, 5);
      const Layout l = input_layout(ctx, i);
      srcs.push_back(l ? layout_md(l) : plain_md(dims_of(xs)));
      k->in_shapes_.push_back(xs);
      k->in_blocked_.push_back(l != nullptr);
    }
    const int64_t r = static_cast<int64_t>(k->in_shapes_[0].size());
    int64_t axis = node.attr_int("axis", node.opset < 4 ? 1 : 0);
    if (axis < 0) axis += r;
    require(axis >= 0 && axis < r);
    k->out_shape_ = k->in_shapes_[0];
    k->out_shape_[static_cast<size_t>(axis)] = 0;
    for (const Shape& xs : k->in_shapes_) k->out_shape_[static_cast<size_t>(axis)] += xs[static_cast<size_t>(axis)];
    const memory::desc plain_out = plain_md(dims_of(k->out_shape_));
    k->pd_ = ctx.blocked_dst ? dnnl::concat::primitive_desc(static_cast<int>(axis), srcs, cpu_engine(), base_attr())
                             : dnnl::concat::primitive_desc(plain_out, static_cast<int>(axis), srcs, cpu_engine(), base_attr());
    k->srcs_ = srcs;
    k->dst_md_ = k->pd_.dst_desc();
    k->dst_blocked_ = k->dst_md_ != plain_out;
    k->prim_ = dnnl::concat(k->pd_);
    return k;
  }

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    Args args;
    for (size_t i = 0; i < srcs_.size(); ++i) {
      const Tensor& t = in_blocked_[i] ? run_blocked_input(inputs, i, srcs_[i]) : run_input(inputs, i, in_shapes_[i]);
      args.insert({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), wrap(srcs_[i], t)});
    }
    Tensor Y = uninitialized_for(dst_md_, !dst_blocked_, out_shape_);
    args.insert({DNNL_ARG_DST, wrap(dst_md_, Y)});
    Runner r(threads_);
    r.exec(prim_, pd_.scratchpad_desc(), std::move(args));
    r.wait();
    outputs[0] = Value::of(std::move(Y));
  }
  std::vector<size_t> pooled_temps() const override { return pooled({pd_.scratchpad_desc().get_size()}); }

  Layout output_layout() const override { return dst_blocked_ ? make_layout(dst_md_) : nullptr; }

 private:
  std::vector<Shape> in_shapes_;
  std::vector<char> in_blocked_;
  std::vector<memory::desc> srcs_;
  Shape out_shape_;
  memory::desc dst_md_;
  bool dst_blocked_ = false;
  dnnl::concat::primitive_desc pd_;
  dnnl::concat prim_;
};

// Reference semantics of a FusedConv node: the reference Conv, then the post-ops in order.
void fused_conv_reference(const Node& fused, const std::vector<ConvPostOp>& ops, const std::vector<const Value*>& inputs,
                          std::vector<Value>& outputs) {
  Node conv = fused;
  conv.domain.clear();
  conv.op_type = "Conv";
  conv.attributes.erase(std::remove_if(conv.attributes.begin(), conv.attributes.end(),
                                       [](const Attribute& a) { return a.name == "post_ops"; }),
                        conv.attributes.end());
  conv.inputs.resize(std::min<size_t>(conv.inputs.size(), 3));
  while (!conv.inputs.empty() && conv.inputs.back() < 0) conv.inputs.pop_back();
  std::vector<const Value*> in(inputs.begin(), inputs.begin() + static_cast<std::ptrdiff_t>(conv.inputs.size()));
  const reference::KernelFn* fn = reference::KernelRegistry::instance().find("", "Conv");
  if (!fn) throw_error(StatusCode::internal, "no reference Conv kernel");
  static const reference::Interpreter interpreter;
  static const std::map<std::string, const Value*> no_scope;
  std::vector<Value> out(1);
  reference::KernelContext rctx(conv, in, out, interpreter, no_scope);
  (*fn)(rctx);
  Tensor Y = out[0].tensor.clone();
  float* y = Y.mutable_data<float>();
  const int64_t n = Y.numel();
  for (const auto& op : ops) {
    using K = ConvPostOp::Kind;
    if (op.kind == K::sum) {
      const Tensor& Z = run_input(inputs, 3, Y.shape());
      const float* z = Z.data<float>();
      for (int64_t i = 0; i < n; ++i) y[i] = y[i] + op.alpha * z[i];
      continue;
    }
    for (int64_t i = 0; i < n; ++i) {
      const float x = y[i];
      switch (op.kind) {
        case K::relu: y[i] = x < 0 ? x * op.alpha : x; break;
        case K::clip: y[i] = std::min(std::max(x, op.alpha), op.beta); break;
        case K::logistic: y[i] = 1.0f / (1.0f + std::exp(-x)); break;
        case K::hardswish: y[i] = x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)); break;
        case K::linear: y[i] = op.alpha * x + op.beta; break;
        default: break;
      }
    }
  }
  outputs[0] = Value::of(std::move(Y));
}

}  // namespace

bool fused_conv_supported(const Node& conv, const Graph& graph, int threads, const std::vector<ConvPostOp>& ops) {
  CompileContext ctx{graph, threads};
  const Shapes shapes = graph_shapes(conv, graph);
  FusedConvSpec spec;
  spec.post_ops = ops;
  MakeFn fn = [&spec](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> {
    return ConvKernel::make(n, c, b, &spec);
  };
  if (all_known(shapes, conv)) return try_make(fn, conv, ctx, shapes, false) != nullptr;
  Node plain = conv;
  if (plain.inputs.size() > 3) plain.inputs.resize(3);  // the sum operand is checked when shapes are known
  return shape_free_checks(plain, ctx) && (!has_sum(ops) || elem_type_of(graph, conv.inputs[3]) == ElementType::float32);
}

bool takes_layouts(const Node& node, size_t input) {
  static const std::set<std::string> unary = {"MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "Relu", "LeakyRelu",
                                              "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "BatchNormalization"};
  if (!node.domain.empty()) return false;
  return node.op_type == "Concat" || (input == 0 && (node.op_type == "Conv" || unary.count(node.op_type) != 0));
}

std::unique_ptr<FastKernel> create_layout_kernel(const Node& node, const CompileContext& ctx) {
  if (!takes_layouts(node, 0)) return nullptr;
  const Shapes shapes = graph_shapes(node, ctx.graph);
  if (!all_known(shapes, node)) return nullptr;
  const Shapes* saved = t_build_shapes;
  t_build_shapes = &shapes;
  std::unique_ptr<FastKernel> k;
  try {
    if (node.op_type == "Concat") k = ConcatKernel::make(node, ctx);
    else if (node.op_type == "Conv") k = ConvKernel::make(node, ctx, true);
    else if (const MakeFn* fn = builder_for(node)) k = (*fn)(node, ctx, true);
  } catch (const Decline&) {
  } catch (const dnnl::error&) {
  }
  t_build_shapes = saved;
  return k;
}

size_t layout_bytes(const Layout& layout) { return (layout_md(layout).get_size() + 3) / 4 * 4; }

Value to_plain(const Value& value, const Layout& layout, const Shape& shape) {
  if (!layout) return value;
  if (value.kind != Value::Kind::tensor) throw_error(StatusCode::internal, "a value planned in a oneDNN layout is not a tensor");
  const memory::desc& md = layout_md(layout);
  const Tensor& t = value.tensor;
  if (t.type() != ElementType::float32 || t.byte_size() < md.get_size())
    throw_error(StatusCode::internal, "a value does not hold the oneDNN layout it was planned with");
  Tensor plain = uninitialized_f32(shape);
  reorder_now(md, t, plain_md(dims_of(shape)), plain);
  return Value::of(std::move(plain));
}

std::unique_ptr<FastKernel> create_fused_conv(const Node& node, const CompileContext& ctx, const FusedConvSpec& spec) {
  const Shapes shapes = graph_shapes(node, ctx.graph);
  if (all_known(shapes, node)) {
    // Static shapes: built now, boundary layouts as planned.
    const Shapes* saved = t_build_shapes;
    t_build_shapes = &shapes;
    std::unique_ptr<ConvKernel> k;
    try {
      k = ConvKernel::make(node, ctx, true, &spec);
    } catch (const Decline&) {
    } catch (const dnnl::error&) {
    }
    t_build_shapes = saved;
    if (!k) throw_error(StatusCode::internal, node.describe() + ": oneDNN no longer builds the fused convolution");
    return k;
  }
  // Shapes known at run time: plain layouts, a kernel per shape, the reference composition
  // for shapes oneDNN cannot run.
  FusedConvSpec plain;
  plain.post_ops = spec.post_ops;
  MakeFn fn = [plain](const Node& n, const CompileContext& c, bool b) -> std::unique_ptr<FastKernel> {
    return ConvKernel::make(n, c, b, &plain);
  };
  auto ops = spec.post_ops;
  Node copy = node;
  auto k = std::make_unique<ShapeCachedKernel>(node, ctx, fn, [copy, ops](const std::vector<const Value*>& in, std::vector<Value>& out) {
    fused_conv_reference(copy, ops, in, out);
  });
  if (auto guess = guess_shapes(node, ctx.graph)) k->prepare(*guess);
  return k;
}

void append_onednn_providers(std::vector<FastKernelProvider>& out) {
  for (const char* op : {"Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool",
                         "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid",
                         "HardSwish", "Softmax", "Add", "Sum", "Mul", "Sub", "Div"})
    out.push_back(FastKernelProvider{"onednn", op, &onednn_accepts, &onednn_create});
}

}  // namespace switchyard::cpu
