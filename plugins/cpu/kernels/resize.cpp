// CPU plugin: native Resize (implementation "native") of the height and width of 4-D NCHW
// tensors with constant scales or sizes:
//  - mode nearest, any fixed-size element type, every nearest_mode;
//  - mode linear, float32, without antialias or exclude_outside;
// coordinate_transformation_mode half_pixel, half_pixel_symmetric, pytorch_half_pixel,
// align_corners or asymmetric (Resize-10: asymmetric / simple). Declined: cubic,
// tf_crop_and_resize, tf_half_pixel_for_nn, keep_aspect_ratio_policy other than stretch,
// scales other than 1 on N and C. Sizes that change N or C at run time go to the reference.
//
// Output coordinates map to input taps with the reference's formulas in double precision,
// and linear outputs accumulate the same products in the same order in double, so results
// are bit-identical to the reference.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "native.h"
#include "switchyard/reference/util.h"

namespace switchyard::cpu {

namespace {

using Ints = std::vector<int64_t>;

enum class Coord { half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric };
enum class Nearest { round_prefer_floor, round_prefer_ceil, floor, ceil, simple };

std::optional<Coord> coord_of(const std::string& s) {
  if (s == "half_pixel") return Coord::half_pixel;
  if (s == "half_pixel_symmetric") return Coord::half_pixel_symmetric;
  if (s == "pytorch_half_pixel") return Coord::pytorch_half_pixel;
  if (s == "align_corners") return Coord::align_corners;
  if (s == "asymmetric") return Coord::asymmetric;
  return std::nullopt;
}

std::optional<Nearest> nearest_of(const std::string& s) {
  if (s == "round_prefer_floor") return Nearest::round_prefer_floor;
  if (s == "round_prefer_ceil") return Nearest::round_prefer_ceil;
  if (s == "floor") return Nearest::floor;
  if (s == "ceil") return Nearest::ceil;
  if (s == "simple") return Nearest::simple;
  return std::nullopt;
}

struct ResizeSpec {
  bool linear = false;
  Coord coord = Coord::half_pixel;
  Nearest nearest = Nearest::round_prefer_floor;
  std::vector<double> scales;  // per entry of `axes`; empty when sizes are given
  Ints sizes;                  // per entry of `axes`; empty when scales are given
  Ints axes;                   // normalised, the axes scales/sizes refer to
};

// One axis: the input index per output index (nearest), or up to two taps (linear).
struct Tap {
  int64_t index[2] = {0, 0};
  double weight[2] = {0, 0};
  int count = 0;
};

struct Axis {
  int64_t in = 0, out = 0;
  double scale = 1;
};

// The input coordinate of output x (the reference's original_coordinate).
double source_coordinate(Coord c, const Axis& a, int64_t x) {
  const double scale = a.scale;
  const double out_len = scale * static_cast<double>(a.in);
  const double xr = static_cast<double>(x);
  switch (c) {
    case Coord::half_pixel: return (xr + 0.5) / scale - 0.5;
    case Coord::half_pixel_symmetric: {
      const double adjustment = static_cast<double>(a.out) / out_len;
      const double center = static_cast<double>(a.in) / 2;
      const double offset = center * (1 - adjustment);
      return offset + (xr + 0.5) / scale - 0.5;
    }
    case Coord::pytorch_half_pixel: return out_len > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
    case Coord::align_corners: return out_len == 1 ? 0.0 : xr * static_cast<double>(a.in - 1) / (out_len - 1);
    case Coord::asymmetric: return xr / scale;
  }
  return 0.0;
}

int64_t nearest_index(Nearest m, double xo, const Axis& a) {
  const double fl = std::floor(xo);
  const bool half = xo - fl == 0.5;
  double r = fl;
  switch (m) {
    case Nearest::round_prefer_floor: r = half ? fl : std::round(xo); break;
    case Nearest::round_prefer_ceil: r = half ? fl + 1 : std::round(xo); break;
    case Nearest::floor: r = fl; break;
    case Nearest::ceil: r = std::ceil(xo); break;
    case Nearest::simple: r = a.scale < 1 ? std::ceil(xo) : fl; break;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(r), 0, a.in - 1);
}

// Linear taps as the reference takes them: zero weights dropped, one zero tap if none is left.
Tap linear_tap(double xo, const Axis& a) {
  int64_t base = static_cast<int64_t>(std::floor(xo));
  double ratio = xo - static_cast<double>(base);
  if (ratio == 0) {
    base -= 1;
    ratio = 1;
  }
  Tap t;
  for (int64_t i = 0; i <= 1; ++i) {
    const double w = std::max(0.0, 1 - std::fabs((static_cast<double>(i) - ratio) * 1.0));
    if (w == 0) continue;
    t.index[t.count] = std::clamp<int64_t>(base + i, 0, a.in - 1);
    t.weight[t.count++] = w;
  }
  if (t.count == 0) {
    t.index[0] = std::clamp<int64_t>(base, 0, a.in - 1);
    t.count = 1;
  }
  return t;
}

std::vector<Tap> taps(const ResizeSpec& spec, const Axis& a) {
  std::vector<Tap> out(static_cast<size_t>(a.out));
  for (int64_t o = 0; o < a.out; ++o) {
    const double xo = source_coordinate(spec.coord, a, o);
    Tap& t = out[static_cast<size_t>(o)];
    if (spec.linear) {
      t = linear_tap(xo, a);
    } else {
      t.index[0] = nearest_index(spec.nearest, xo, a);
      t.weight[0] = 1;
      t.count = 1;
    }
  }
  return out;
}

// Per-axis extents and scales for input shape `in`; nullopt when N or C would change or the
// reference would reject the operands.
std::optional<std::vector<Axis>> geometry(const ResizeSpec& spec, const Shape& in) {
  std::vector<Axis> ax(in.size());
  for (size_t d = 0; d < in.size(); ++d) ax[d] = Axis{in[d], in[d], 1.0};
  for (size_t k = 0; k < spec.axes.size(); ++k) {
    Axis& a = ax[static_cast<size_t>(spec.axes[k])];
    if (!spec.scales.empty()) {
      a.scale = spec.scales[k];
      const double o = std::floor(static_cast<double>(a.in) * a.scale);
      if (o > 1e12) return std::nullopt;
      a.out = static_cast<int64_t>(o);
    } else {
      a.out = spec.sizes[k];
      a.scale = a.in == 0 ? 1.0 : static_cast<double>(a.out) / static_cast<double>(a.in);
    }
  }
  for (size_t d = 0; d < 2; ++d)
    if (ax[d].scale != 1.0 || ax[d].out != ax[d].in) return std::nullopt;
  return ax;
}

template <size_t N>
void nearest_plane(const std::byte* src, const std::vector<Tap>& th, const std::vector<Tap>& tw, int64_t in_w, std::byte* dst) {
  const size_t row = tw.size() * N;
  for (size_t oh = 0; oh < th.size(); ++oh) {
    std::byte* out = dst + oh * row;
    if (oh > 0 && th[oh].index[0] == th[oh - 1].index[0]) {
      std::memcpy(out, out - row, row);
      continue;
    }
    const std::byte* in = src + static_cast<size_t>(th[oh].index[0] * in_w) * N;
    for (size_t ow = 0; ow < tw.size(); ++ow) std::memcpy(out + ow * N, in + static_cast<size_t>(tw[ow].index[0]) * N, N);
  }
}

void nearest_planes(const Tensor& x, const std::vector<Tap>& th, const std::vector<Tap>& tw, int64_t planes, Tensor& y) {
  const size_t elem = native::element_bytes(x.type());
  const size_t in_plane = static_cast<size_t>(x.dim(2) * x.dim(3)) * elem, out_plane = th.size() * tw.size() * elem;
  const auto* src = static_cast<const std::byte*>(x.raw());
  auto* dst = static_cast<std::byte*>(y.raw_mutable());
  for (int64_t p = 0; p < planes; ++p) {
    const std::byte* s = src + static_cast<size_t>(p) * in_plane;
    std::byte* d = dst + static_cast<size_t>(p) * out_plane;
    switch (elem) {
      case 1: nearest_plane<1>(s, th, tw, x.dim(3), d); break;
      case 2: nearest_plane<2>(s, th, tw, x.dim(3), d); break;
      case 4: nearest_plane<4>(s, th, tw, x.dim(3), d); break;
      case 8: nearest_plane<8>(s, th, tw, x.dim(3), d); break;
      case 16: nearest_plane<16>(s, th, tw, x.dim(3), d); break;
      default: throw_error(StatusCode::internal, "Resize: unsupported element size");
    }
  }
}

// Each output: the sum over (h tap, w tap) of (wh * ww) * x in double, as the reference adds
// its tensor-product taps (N and C contribute one tap of weight 1).
void linear_planes(const Tensor& x, const std::vector<Tap>& th, const std::vector<Tap>& tw, int64_t planes, Tensor& y) {
  const int64_t in_w = x.dim(3), in_plane = x.dim(2) * in_w;
  const float* src = x.data<float>();
  float* dst = y.mutable_data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    const float* s = src + p * in_plane;
    for (const Tap& h : th)
      for (const Tap& w : tw) {
        double acc = 0;
        for (int kh = 0; kh < h.count; ++kh)
          for (int kw = 0; kw < w.count; ++kw) {
            const double wt = h.weight[kh] * w.weight[kw];
            if (wt != 0) acc += wt * static_cast<double>(s[h.index[kh] * in_w + w.index[kw]]);
          }
        *dst++ = static_cast<float>(acc);
      }
  }
}

class ResizeKernel final : public native::NativeKernel {
 public:
  ResizeKernel(const Node& node, ResizeSpec spec, ElementType type) : NativeKernel(node), spec_(std::move(spec)), type_(type) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const bool ok = x && x->type() == type_ && x->rank() == 4;
    const auto ax = ok ? geometry(spec_, x->shape()) : std::nullopt;
    if (!ax) return fallback(inputs, outputs);
    const Shape out_shape = {(*ax)[0].out, (*ax)[1].out, (*ax)[2].out, (*ax)[3].out};
    Tensor y = native::uninitialized(type_, out_shape);
    if (y.numel() > 0) {
      if (x->numel() == 0) return fallback(inputs, outputs);
      const std::vector<Tap> th = taps(spec_, (*ax)[2]), tw = taps(spec_, (*ax)[3]);
      (spec_.linear ? linear_planes : nearest_planes)(*x, th, tw, out_shape[0] * out_shape[1], y);
    }
    outputs[0] = Value::of(std::move(y));
  }

 private:
  ResizeSpec spec_;
  ElementType type_;
};

// ---------------------------------------------------------------------------
// What the provider accepts
// ---------------------------------------------------------------------------

// Mode and coordinate mapping; false when the node asks for something the kernel lacks.
bool read_modes(const Node& node, ElementType type, ResizeSpec& spec) {
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear") return false;
  spec.linear = mode == "linear";
  if (spec.linear ? type != ElementType::float32 : native::element_bytes(type) == 0) return false;
  if (node.opset < 11) {
    spec.coord = Coord::asymmetric;
    spec.nearest = Nearest::simple;
    return true;
  }
  const auto coord = coord_of(node.attr_string("coordinate_transformation_mode", "half_pixel"));
  const auto nearest = nearest_of(node.attr_string("nearest_mode", "round_prefer_floor"));
  if (!coord || (!spec.linear && !nearest)) return false;
  spec.coord = *coord;
  if (nearest) spec.nearest = *nearest;
  if (spec.linear && (node.attr_int("antialias", 0) != 0 || node.attr_int("exclude_outside", 0) != 0)) return false;
  return true;
}

// Constant floating-point scales of input i (empty tensor: none); nullopt if not constant.
std::optional<std::vector<double>> constant_scales(const Node& node, const Graph& graph, size_t i) {
  if (i >= node.inputs.size() || node.inputs[i] < 0) return std::vector<double>{};
  const Tensor* t = constant_input(node, graph, i);
  if (!t || (t->numel() > 0 && !is_floating(t->type()))) return std::nullopt;
  return t->numel() > 0 ? reference::to_doubles(*t) : std::vector<double>{};
}

// Scales or sizes (exactly one, constant, one per axis) and the axes they refer to.
bool read_operands(const Node& node, const Graph& graph, ResizeSpec& spec) {
  const auto scales = constant_scales(node, graph, node.opset < 11 ? 1 : 2);
  if (!scales) return false;
  spec.scales = *scales;
  if (node.opset >= 11 && node.inputs.size() > 3 && node.inputs[3] >= 0) {
    const auto sizes = native::constant_ints(node, graph, 3);
    if (!sizes) return false;
    spec.sizes = *sizes;
  }
  if (spec.scales.empty() == spec.sizes.empty()) return false;
  if (!spec.sizes.empty() && node.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch") return false;
  spec.axes = node.attr_ints("axes");
  if (spec.axes.empty()) spec.axes = {0, 1, 2, 3};
  for (auto& a : spec.axes) a = a < 0 ? a + 4 : a;
  for (size_t k = 0; k < spec.axes.size(); ++k)
    if (spec.axes[k] < 0 || spec.axes[k] > 3 || std::count(spec.axes.begin(), spec.axes.end(), spec.axes[k]) > 1) return false;
  const size_t n = spec.axes.size();
  if ((!spec.scales.empty() && spec.scales.size() != n) || (!spec.sizes.empty() && spec.sizes.size() != n)) return false;
  for (double s : spec.scales)
    if (!(s > 0) || !std::isfinite(s)) return false;
  for (int64_t s : spec.sizes)
    if (s < 0) return false;
  return true;
}

// N and C keep their extent: scales of 1; sizes equal to the input's where its shape is static.
bool keeps_batch_and_channels(const ResizeSpec& spec, const Graph& graph, int32_t x) {
  const std::optional<Shape> shape = static_shape_of(graph, x);
  for (size_t k = 0; k < spec.axes.size(); ++k) {
    const size_t a = static_cast<size_t>(spec.axes[k]);
    if (a > 1) continue;
    if (!spec.scales.empty() && spec.scales[k] != 1.0) return false;
    if (!spec.sizes.empty() && shape && (*shape)[a] != spec.sizes[k]) return false;
  }
  return true;
}

std::optional<ResizeSpec> resize_spec(const Node& node, const Graph& graph) {
  if (node.inputs.empty() || node.inputs[0] < 0 || !native::has_outputs(node, 1)) return std::nullopt;
  const int32_t x = node.inputs[0];
  if (!native::is_tensor_value(graph, x) || native::declared_rank(graph, x) != 4u)
    return std::nullopt;
  ResizeSpec spec;
  if (!read_modes(node, elem_type_of(graph, x), spec) || !read_operands(node, graph, spec)) return std::nullopt;
  if (!keeps_batch_and_channels(spec, graph, x)) return std::nullopt;
  return spec;
}

bool resize_accepts(const Node& node, const CompileContext& ctx) { return resize_spec(node, ctx.graph).has_value(); }

std::unique_ptr<FastKernel> resize_create(const Node& node, const CompileContext& ctx) {
  auto spec = resize_spec(node, ctx.graph);
  if (!spec) return nullptr;
  return std::make_unique<ResizeKernel>(node, std::move(*spec), elem_type_of(ctx.graph, node.inputs[0]));
}

}  // namespace

void append_resize_providers(std::vector<FastKernelProvider>& out) {
  out.push_back(FastKernelProvider{native::kImplementation, "Resize", &native::guarded<resize_accepts>, &resize_create});
}

}  // namespace switchyard::cpu
