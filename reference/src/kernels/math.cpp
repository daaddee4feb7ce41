// Reference kernels: math family.
//
// Convolution, matrix products, pooling, normalisation, softmax and quantisation.
// Floating-point kernels read their inputs as double, accumulate in double and
// round once when writing the output. Integer matrix products use wrapping
// 64-bit arithmetic so results are exact (and wrap like the output type).
//
// Spatial operators (Conv, pooling) are written once for three spatial axes;
// lower ranks are handled by prepending trivial axes (size 1, kernel 1).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

[[noreturn]] void invalid(const std::string& msg) { throw_error(StatusCode::invalid_argument, msg); }
[[noreturn]] void unsupported(const std::string& msg) { throw_error(StatusCode::unsupported, msg); }

std::string tname(ElementType t) { return std::string(element_type_name(t)); }

std::string ints_to_string(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

bool is_ieee_float(ElementType t) {
  return t == ElementType::float32 || t == ElementType::float64 || t == ElementType::float16 ||
         t == ElementType::bfloat16;
}

// Checks that `t` is float16/float32/float64/bfloat16 (the usual "T" of ONNX float ops).
void require_float(const Tensor& t, const std::string& what) {
  if (!is_ieee_float(t.type()))
    invalid(what + " must be float16, float32, float64 or bfloat16, got " + tname(t.type()));
}

bool is_int_type(ElementType t) { return is_signed_integer(t) || is_unsigned_integer(t); }

// Element count of an output or scratch buffer; refuses sizes whose double buffer would pass 64 GiB.
int64_t numel_of(const Shape& s) {
  auto n = shape_numel(s);
  if (!n) invalid("shape " + shape_to_string(s) + " is too large");
  if (*n > (int64_t{1} << 33)) throw_error(StatusCode::out_of_memory, "shape " + shape_to_string(s) + " is too large");
  return *n;
}

int64_t prod(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

double scalar_double(const Tensor& t, const std::string& what) {
  if (t.numel() != 1) invalid(what + " must hold one value, got shape " + shape_to_string(t.shape()));
  return get_double(t, 0);
}

// The value of a float attribute that became an int (LpPool p) or either.
double attr_number(const KernelContext& ctx, const std::string& name, double fallback) {
  const Attribute* a = ctx.node().attr(name);
  if (!a) return fallback;
  if (a->type == Attribute::Type::floating) return a->f;
  if (a->type == Attribute::Type::integer) return static_cast<double>(a->i);
  invalid("attribute '" + name + "' must be a number");
}

// ---------------------------------------------------------------------------
// Spatial window geometry shared by Conv and pooling
// ---------------------------------------------------------------------------

// One spatial axis of a sliding window: input position = o * s - pb + j * d.
struct Axis {
  int64_t in = 1, k = 1, s = 1, d = 1, pb = 0, pe = 0, out = 1;
};

// Reads strides/dilations/pads/auto_pad and computes output sizes for each spatial axis.
std::vector<Axis> window_axes(const KernelContext& ctx, const Shape& in_spatial, const std::vector<int64_t>& kernel,
                              bool ceil_mode, bool use_dilations = true) {
  const size_t r = in_spatial.size();
  std::vector<int64_t> strides = ctx.attr_ints("strides");
  std::vector<int64_t> dilations = use_dilations ? ctx.attr_ints("dilations") : std::vector<int64_t>{};
  std::vector<int64_t> pads = ctx.attr_ints("pads");
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (strides.empty()) strides.assign(r, 1);
  if (dilations.empty()) dilations.assign(r, 1);
  if (pads.empty()) pads.assign(2 * r, 0);
  if (kernel.size() != r) invalid("kernel_shape " + ints_to_string(kernel) + " does not match " + std::to_string(r) + " spatial axes");
  if (strides.size() != r) invalid("strides " + ints_to_string(strides) + " does not match " + std::to_string(r) + " spatial axes");
  if (dilations.size() != r) invalid("dilations " + ints_to_string(dilations) + " does not match " + std::to_string(r) + " spatial axes");
  if (pads.size() != 2 * r) invalid("pads " + ints_to_string(pads) + " must have " + std::to_string(2 * r) + " values");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    invalid("auto_pad '" + auto_pad + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  std::vector<Axis> axes(r);
  for (size_t i = 0; i < r; ++i) {
    Axis& a = axes[i];
    a.in = in_spatial[i];
    a.k = kernel[i];
    a.s = strides[i];
    a.d = dilations[i];
    if (a.k < 1) invalid("kernel size " + std::to_string(a.k) + " must be positive");
    if (a.s < 1) invalid("stride " + std::to_string(a.s) + " must be positive");
    if (a.d < 1) invalid("dilation " + std::to_string(a.d) + " must be positive");
    if (a.k > (int64_t{1} << 31) || a.d > (int64_t{1} << 31) || a.s > (int64_t{1} << 31))
      invalid("kernel, stride or dilation is too large");
    const int64_t ek = (a.k - 1) * a.d + 1;  // effective (dilated) kernel extent
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      a.out = ceil_div(a.in, a.s);
      int64_t total = std::max<int64_t>(0, (a.out - 1) * a.s + ek - a.in);
      if (auto_pad == "SAME_UPPER") {
        a.pb = total / 2;
        a.pe = total - a.pb;
      } else {
        a.pe = total / 2;
        a.pb = total - a.pe;
      }
      continue;
    }
    if (auto_pad == "NOTSET") {
      a.pb = pads[i];
      a.pe = pads[i + r];
      if (a.pb < 0 || a.pe < 0) invalid("pads " + ints_to_string(pads) + " must not be negative");
      if (a.pb > (int64_t{1} << 31) || a.pe > (int64_t{1} << 31)) invalid("pads are too large");
    }
    const int64_t span = a.in + a.pb + a.pe - ek;
    if (span < 0)
      invalid("kernel extent " + std::to_string(ek) + " is larger than the padded input " +
              std::to_string(a.in + a.pb + a.pe));
    a.out = (ceil_mode ? ceil_div(span, a.s) : span / a.s) + 1;
    // In ceil mode the last window must start inside the input or the left padding.
    if (ceil_mode && (a.out - 1) * a.s >= a.in + a.pb) --a.out;
  }
  return axes;
}

// Pads `axes` with leading trivial axes up to three.
std::array<Axis, 3> canon3(const std::vector<Axis>& axes, const char* op) {
  if (axes.size() > 3) unsupported(std::string(op) + " supports 1 to 3 spatial axes, got " + std::to_string(axes.size()));
  std::array<Axis, 3> c{};
  size_t off = 3 - axes.size();
  for (size_t i = 0; i < axes.size(); ++i) c[off + i] = axes[i];
  return c;
}

int64_t in_size3(const std::array<Axis, 3>& a) { return a[0].in * a[1].in * a[2].in; }
int64_t out_size3(const std::array<Axis, 3>& a) { return a[0].out * a[1].out * a[2].out; }

// Range [lo, hi) of output positions o for which o * s + off lies in [0, in).
void valid_range(const Axis& a, int64_t off, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : ceil_div(-off, a.s);
  hi = (a.in - 1 - off) < 0 ? 0 : std::min(a.out, floor_div(a.in - 1 - off, a.s) + 1);
  if (lo > hi) lo = hi;
}

// y[m][...] += sum_c sum_k w[m][c][k] * x[c][o*s - p + k*d], for one image and one group.
// x: cin channels of in_size3 values; w: (cout, cin, k...) values; y: cout channels of out_size3.
// Loop order keeps the innermost loop running along contiguous output and input rows.
void conv_accumulate(const double* x, int64_t cin, const double* w, int64_t cout, double* y,
                     const std::array<Axis, 3>& a) {
  const int64_t isz = in_size3(a), osz = out_size3(a);
  const int64_t ksz = a[0].k * a[1].k * a[2].k;
  for (int64_t m = 0; m < cout; ++m) {
    double* ym = y + m * osz;
    for (int64_t c = 0; c < cin; ++c) {
      const double* xc = x + c * isz;
      const double* wk = w + (m * cin + c) * ksz;
      for (int64_t kd = 0; kd < a[0].k; ++kd) {
        int64_t d_lo, d_hi;
        valid_range(a[0], kd * a[0].d - a[0].pb, d_lo, d_hi);
        for (int64_t kh = 0; kh < a[1].k; ++kh) {
          int64_t h_lo, h_hi;
          valid_range(a[1], kh * a[1].d - a[1].pb, h_lo, h_hi);
          for (int64_t kw = 0; kw < a[2].k; ++kw) {
            const double wv = wk[(kd * a[1].k + kh) * a[2].k + kw];
            const int64_t w_off = kw * a[2].d - a[2].pb;
            int64_t w_lo, w_hi;
            valid_range(a[2], w_off, w_lo, w_hi);
            const int64_t sw = a[2].s;
            for (int64_t od = d_lo; od < d_hi; ++od) {
              const int64_t id = od * a[0].s - a[0].pb + kd * a[0].d;
              for (int64_t oh = h_lo; oh < h_hi; ++oh) {
                const int64_t ih = oh * a[1].s - a[1].pb + kh * a[1].d;
                const double* xrow = xc + (id * a[1].in + ih) * a[2].in + w_off;
                double* yrow = ym + (od * a[1].out + oh) * a[2].out;
                if (sw == 1) {
                  for (int64_t ow = w_lo; ow < w_hi; ++ow) yrow[ow] += wv * xrow[ow];
                } else {
                  for (int64_t ow = w_lo; ow < w_hi; ++ow) yrow[ow] += wv * xrow[ow * sw];
                }
              }
            }
          }
        }
      }
    }
  }
}

// Geometry of a grouped convolution: validated shapes and spatial axes.
struct ConvGeometry {
  int64_t N = 0, C = 0, M = 0, group = 1;
  std::vector<Axis> axes;
  std::array<Axis, 3> a3{};
  Shape out_shape;
};

ConvGeometry conv_geometry(const KernelContext& ctx, const Tensor& X, const Tensor& W, const char* op) {
  if (X.rank() < 3) invalid(std::string(op) + " input must have rank >= 3 (N, C, spatial...), got " + shape_to_string(X.shape()));
  if (W.rank() != X.rank())
    invalid(std::string(op) + " weight shape " + shape_to_string(W.shape()) + " does not match input rank " +
            shape_to_string(X.shape()));
  ConvGeometry g;
  g.N = X.dim(0);
  g.C = X.dim(1);
  g.M = W.dim(0);
  g.group = ctx.attr_int("group", 1);
  if (g.group < 1) invalid("group " + std::to_string(g.group) + " must be positive");
  if (g.C % g.group != 0 || g.M % g.group != 0)
    invalid("group " + std::to_string(g.group) + " does not divide input channels " + std::to_string(g.C) +
            " and output channels " + std::to_string(g.M));
  if (W.dim(1) != g.C / g.group)
    invalid("weight shape " + shape_to_string(W.shape()) + " needs dim 1 = C/group = " + std::to_string(g.C / g.group));
  std::vector<int64_t> kernel(W.shape().begin() + 2, W.shape().end());
  std::vector<int64_t> ks = ctx.attr_ints("kernel_shape");
  if (!ks.empty() && ks != kernel)
    invalid("kernel_shape " + ints_to_string(ks) + " does not match weight shape " + shape_to_string(W.shape()));
  Shape in_spatial(X.shape().begin() + 2, X.shape().end());
  g.axes = window_axes(ctx, in_spatial, kernel, false);
  g.a3 = canon3(g.axes, op);
  g.out_shape = {g.N, g.M};
  for (const Axis& a : g.axes) g.out_shape.push_back(a.out);
  return g;
}

// Runs a grouped convolution over double buffers; y is (N, M, out...) and pre-filled (bias).
void conv_run(const ConvGeometry& g, const std::vector<double>& x, const std::vector<double>& w, std::vector<double>& y) {
  const int64_t isz = in_size3(g.a3), osz = out_size3(g.a3);
  const int64_t cg = g.C / g.group, mg = g.M / g.group;
  const int64_t ksz = g.a3[0].k * g.a3[1].k * g.a3[2].k;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t gr = 0; gr < g.group; ++gr)
      conv_accumulate(x.data() + (n * g.C + gr * cg) * isz, cg, w.data() + gr * mg * cg * ksz, mg,
                      y.data() + (n * g.M + gr * mg) * osz, g.a3);
}

// ---------------------------------------------------------------------------
// Conv / ConvTranspose
// ---------------------------------------------------------------------------

void conv(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& W = ctx.input(1);
  require_float(X, "Conv input X");
  if (W.type() != X.type()) invalid("Conv weight type " + tname(W.type()) + " differs from input type " + tname(X.type()));
  ConvGeometry g = conv_geometry(ctx, X, W, "Conv");
  const int64_t osz = out_size3(g.a3);
  std::vector<double> y(static_cast<size_t>(numel_of(g.out_shape)), 0.0);
  if (ctx.has_input(2)) {
    const Tensor& B = ctx.input(2);
    if (B.rank() != 1 || B.dim(0) != g.M)
      invalid("Conv bias shape " + shape_to_string(B.shape()) + " must be [" + std::to_string(g.M) + "]");
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t m = 0; m < g.M; ++m)
        std::fill_n(y.begin() + (n * g.M + m) * osz, osz, get_double(B, m));
  }
  conv_run(g, to_doubles(X), to_doubles(W), y);
  ctx.set_output(0, from_doubles(X.type(), g.out_shape, y));
}

void conv_transpose(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& W = ctx.input(1);
  require_float(X, "ConvTranspose input X");
  if (W.type() != X.type()) invalid("ConvTranspose weight type differs from input type");
  if (X.rank() < 3) invalid("ConvTranspose input must have rank >= 3, got " + shape_to_string(X.shape()));
  if (W.rank() != X.rank()) invalid("ConvTranspose weight rank does not match input rank");
  const size_t r = static_cast<size_t>(X.rank() - 2);
  const int64_t N = X.dim(0), C = X.dim(1);
  const int64_t group = ctx.attr_int("group", 1);
  if (group < 1 || C % group != 0) invalid("group " + std::to_string(group) + " does not divide input channels");
  if (W.dim(0) != C) invalid("ConvTranspose weight dim 0 must equal input channels " + std::to_string(C));
  const int64_t mg = W.dim(1), M = mg * group, cg = C / group;
  std::vector<int64_t> kernel(W.shape().begin() + 2, W.shape().end());
  std::vector<int64_t> ks = ctx.attr_ints("kernel_shape");
  if (!ks.empty() && ks != kernel) invalid("kernel_shape does not match weight shape " + shape_to_string(W.shape()));
  std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(r, 1));
  std::vector<int64_t> dil = ctx.attr_ints("dilations", std::vector<int64_t>(r, 1));
  std::vector<int64_t> outpad = ctx.attr_ints("output_padding", std::vector<int64_t>(r, 0));
  std::vector<int64_t> pads = ctx.attr_ints("pads");
  std::vector<int64_t> out_shape_attr = ctx.attr_ints("output_shape");
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (strides.size() != r || dil.size() != r || outpad.size() != r)
    invalid("strides, dilations and output_padding need one value per spatial axis");
  if (out_shape_attr.size() == r + 2) out_shape_attr.erase(out_shape_attr.begin(), out_shape_attr.begin() + 2);
  if (!out_shape_attr.empty() && out_shape_attr.size() != r)
    invalid("output_shape " + ints_to_string(out_shape_attr) + " does not match the spatial rank");
  if (!pads.empty() && pads.size() != 2 * r) invalid("pads must have " + std::to_string(2 * r) + " values");
  std::vector<Axis> axes(r);
  for (size_t i = 0; i < r; ++i) {
    Axis& a = axes[i];
    a.in = X.dim(static_cast<int64_t>(i) + 2);
    a.k = kernel[i];
    a.s = strides[i];
    a.d = dil[i];
    if (a.k < 1 || a.s < 1 || a.d < 1) invalid("kernel, strides and dilations must be positive");
    if (a.k > (int64_t{1} << 31) || a.s > (int64_t{1} << 31) || a.d > (int64_t{1} << 31) ||
        std::abs(outpad[i]) > (int64_t{1} << 31))
      invalid("kernel, strides, dilations or output_padding are too large");
    const int64_t ek = (a.k - 1) * a.d + 1;
    const int64_t natural = a.s * (a.in - 1) + outpad[i] + ek;
    const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    if (!pads.empty() && !same) {
      a.pb = pads[i];
      a.pe = pads[i + r];
      a.out = out_shape_attr.empty() ? natural - a.pb - a.pe : out_shape_attr[i];
    } else if (same || !out_shape_attr.empty()) {
      a.out = !out_shape_attr.empty() ? out_shape_attr[i] : a.in * a.s;
      if (!same) {
        // Explicit output_shape without pads: the output starts at position 0.
        a.pb = 0;
      } else {
        int64_t total = natural - a.out;
        if (auto_pad == "SAME_UPPER") {
          a.pb = floor_div(total, 2);
        } else {
          a.pb = total - floor_div(total, 2);
        }
      }
    } else {
      a.out = natural;
    }
    if (a.out < 0) invalid("ConvTranspose output size " + std::to_string(a.out) + " is negative");
  }
  std::array<Axis, 3> a3 = canon3(axes, "ConvTranspose");
  Shape out_shape = {N, M};
  for (const Axis& a : axes) out_shape.push_back(a.out);
  const int64_t osz = numel_of(out_shape) / std::max<int64_t>(1, N * M);
  const int64_t isz = in_size3(a3);
  const int64_t ksz = a3[0].k * a3[1].k * a3[2].k;
  std::vector<double> y(static_cast<size_t>(numel_of(out_shape)), 0.0);
  if (ctx.has_input(2)) {
    const Tensor& B = ctx.input(2);
    if (B.numel() != M) invalid("ConvTranspose bias must have " + std::to_string(M) + " values");
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) std::fill_n(y.begin() + (n * M + m) * osz, osz, get_double(B, m));
  }
  std::vector<double> x = to_doubles(X), w = to_doubles(W);
  // Scatter: every input value adds value * weight into the outputs its kernel covers.
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gr = 0; gr < group; ++gr)
      for (int64_t c = 0; c < cg; ++c) {
        const double* xc = x.data() + (n * C + gr * cg + c) * isz;
        for (int64_t m = 0; m < mg; ++m) {
          const double* wk = w.data() + ((gr * cg + c) * mg + m) * ksz;
          double* ym = y.data() + (n * M + gr * mg + m) * osz;
          for (int64_t id = 0; id < a3[0].in; ++id)
            for (int64_t kd = 0; kd < a3[0].k; ++kd) {
              int64_t od = id * a3[0].s + kd * a3[0].d - a3[0].pb;
              if (od < 0 || od >= a3[0].out) continue;
              for (int64_t ih = 0; ih < a3[1].in; ++ih)
                for (int64_t kh = 0; kh < a3[1].k; ++kh) {
                  int64_t oh = ih * a3[1].s + kh * a3[1].d - a3[1].pb;
                  if (oh < 0 || oh >= a3[1].out) continue;
                  for (int64_t iw = 0; iw < a3[2].in; ++iw) {
                    double xv = xc[(id * a3[1].in + ih) * a3[2].in + iw];
                    for (int64_t kw = 0; kw < a3[2].k; ++kw) {
                      int64_t ow = iw * a3[2].s + kw * a3[2].d - a3[2].pb;
                      if (ow < 0 || ow >= a3[2].out) continue;
                      ym[(od * a3[1].out + oh) * a3[2].out + ow] += xv * wk[(kd * a3[1].k + kh) * a3[2].k + kw];
                    }
                  }
                }
            }
        }
      }
  ctx.set_output(0, from_doubles(X.type(), out_shape, y));
}

// ---------------------------------------------------------------------------
// Matrix products
// ---------------------------------------------------------------------------

// c (M x N) = a (M x K) * b (K x N), double accumulation.
void matmul_double(const double* a, const double* b, double* c, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    double* ci = c + i * N;
    std::fill_n(ci, N, 0.0);
    for (int64_t k = 0; k < K; ++k) {
      const double av = a[i * K + k];
      const double* bk = b + k * N;
      for (int64_t j = 0; j < N; ++j) ci[j] += av * bk[j];
    }
  }
}

// Same with wrapping 64-bit integer arithmetic (exact modulo 2^64).
void matmul_int(const uint64_t* a, const uint64_t* b, uint64_t* c, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    uint64_t* ci = c + i * N;
    std::fill_n(ci, N, uint64_t{0});
    for (int64_t k = 0; k < K; ++k) {
      const uint64_t av = a[i * K + k];
      const uint64_t* bk = b + k * N;
      for (int64_t j = 0; j < N; ++j) ci[j] += av * bk[j];
    }
  }
}

std::vector<uint64_t> to_u64s(const Tensor& t) {
  std::vector<uint64_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = get_uint64(t, i);
  return v;
}

// Shapes of a numpy-style matmul: batch broadcast plus 1-D promotion.
struct MatMulShape {
  int64_t M = 1, K = 1, N = 1;
  Shape batch, out;
  std::vector<int64_t> a_batch_map, b_batch_map;  // output batch index -> operand batch index
};

MatMulShape matmul_shape(const Shape& as, const Shape& bs, const char* op) {
  if (as.empty() || bs.empty()) invalid(std::string(op) + " operands must have rank >= 1");
  Shape a = as, b = bs;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  if (a1) a.insert(a.begin(), 1);
  if (b1) b.push_back(1);
  MatMulShape s;
  s.M = a[a.size() - 2];
  s.K = a[a.size() - 1];
  s.N = b[b.size() - 1];
  if (b[b.size() - 2] != s.K)
    invalid(std::string(op) + " inner dimensions differ: " + shape_to_string(as) + " x " + shape_to_string(bs));
  Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  s.batch = broadcast_shapes({ab, bb});
  s.a_batch_map = broadcast_index_map(ab, s.batch);
  s.b_batch_map = broadcast_index_map(bb, s.batch);
  s.out = s.batch;
  if (!a1) s.out.push_back(s.M);
  if (!b1) s.out.push_back(s.N);
  return s;
}

void matmul(KernelContext& ctx) {
  const Tensor& A = ctx.input(0);
  const Tensor& B = ctx.input(1);
  if (A.type() != B.type()) invalid("MatMul operand types differ: " + tname(A.type()) + " and " + tname(B.type()));
  const bool fl = is_ieee_float(A.type());
  if (!fl && !is_int_type(A.type())) invalid("MatMul does not accept element type " + tname(A.type()));
  MatMulShape s = matmul_shape(A.shape(), B.shape(), "MatMul");
  const int64_t nb = static_cast<int64_t>(s.a_batch_map.size());
  Tensor Y = Tensor::allocate(A.type(), s.out);
  const int64_t mk = s.M * s.K, kn = s.K * s.N, mn = s.M * s.N;
  if (fl) {
    std::vector<double> a = to_doubles(A), b = to_doubles(B), c(static_cast<size_t>(mn));
    for (int64_t i = 0; i < nb; ++i) {
      matmul_double(a.data() + s.a_batch_map[i] * mk, b.data() + s.b_batch_map[i] * kn, c.data(), s.M, s.K, s.N);
      for (int64_t j = 0; j < mn; ++j) set_double(Y, i * mn + j, c[j]);
    }
  } else {
    std::vector<uint64_t> a = to_u64s(A), b = to_u64s(B), c(static_cast<size_t>(mn));
    for (int64_t i = 0; i < nb; ++i) {
      matmul_int(a.data() + s.a_batch_map[i] * mk, b.data() + s.b_batch_map[i] * kn, c.data(), s.M, s.K, s.N);
      for (int64_t j = 0; j < mn; ++j) set_uint64(Y, i * mn + j, c[j]);
    }
  }
  ctx.set_output(0, Y);
}

void gemm(KernelContext& ctx) {
  const Tensor& A = ctx.input(0);
  const Tensor& B = ctx.input(1);
  if (A.type() != B.type()) invalid("Gemm operand types differ: " + tname(A.type()) + " and " + tname(B.type()));
  const bool fl = is_ieee_float(A.type());
  if (!fl && !is_int_type(A.type())) invalid("Gemm does not accept element type " + tname(A.type()));
  if (A.rank() != 2 || B.rank() != 2)
    invalid("Gemm needs 2-D A and B, got " + shape_to_string(A.shape()) + " and " + shape_to_string(B.shape()));
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const double alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const int64_t M = ta ? A.dim(1) : A.dim(0), K = ta ? A.dim(0) : A.dim(1);
  const int64_t Kb = tb ? B.dim(1) : B.dim(0), N = tb ? B.dim(0) : B.dim(1);
  if (K != Kb) invalid("Gemm inner dimensions differ: A " + shape_to_string(A.shape()) + (ta ? " (transposed)" : "") +
                       ", B " + shape_to_string(B.shape()) + (tb ? " (transposed)" : ""));
  const Shape out_shape = {M, N};
  std::vector<int64_t> cmap;
  const Tensor* C = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (C) {
    if (broadcast_shapes({C->shape(), out_shape}) != out_shape)
      invalid("Gemm C shape " + shape_to_string(C->shape()) + " cannot be broadcast to " + shape_to_string(out_shape));
    cmap = broadcast_index_map(C->shape(), out_shape);
  }
  Tensor Y = Tensor::allocate(A.type(), out_shape);
  // Operands laid out row-major as (M x K) and (K x N).
  auto a_index = [&](int64_t i, int64_t k) { return ta ? k * M + i : i * K + k; };
  auto b_index = [&](int64_t k, int64_t j) { return tb ? j * K + k : k * N + j; };
  if (fl || alpha != 1.0 || (beta != 1.0 && beta != 0.0)) {
    std::vector<double> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)), c(static_cast<size_t>(M * N));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = 0; k < K; ++k) a[i * K + k] = get_double(A, a_index(i, k));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) b[k * N + j] = get_double(B, b_index(k, j));
    matmul_double(a.data(), b.data(), c.data(), M, K, N);
    for (int64_t i = 0; i < M * N; ++i) {
      double v = alpha * c[i];
      if (C && beta != 0.0) v += beta * get_double(*C, cmap[i]);
      set_double(Y, i, v);
    }
  } else {
    std::vector<uint64_t> a(static_cast<size_t>(M * K)), b(static_cast<size_t>(K * N)), c(static_cast<size_t>(M * N));
    for (int64_t i = 0; i < M; ++i)
      for (int64_t k = 0; k < K; ++k) a[i * K + k] = get_uint64(A, a_index(i, k));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) b[k * N + j] = get_uint64(B, b_index(k, j));
    matmul_int(a.data(), b.data(), c.data(), M, K, N);
    for (int64_t i = 0; i < M * N; ++i) {
      uint64_t v = c[i];
      if (C && beta != 0.0) v += get_uint64(*C, cmap[i]);
      set_uint64(Y, i, v);
    }
  }
  ctx.set_output(0, Y);
}

// ---------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------

enum class PoolKind { max, average, lp };

struct PoolOutput {
  std::vector<double> y;
  std::vector<int64_t> indices;  // MaxPool only
};

// Pools x (NC images of in_size3 values each) over windows given by `a`.
PoolOutput pool_run(const std::vector<double>& x, int64_t NC, const std::array<Axis, 3>& a, PoolKind kind,
                    bool count_include_pad, double p, bool want_indices, bool column_major) {
  const int64_t isz = in_size3(a), osz = out_size3(a);
  PoolOutput r;
  r.y.assign(static_cast<size_t>(NC * osz), 0.0);
  if (want_indices) r.indices.assign(r.y.size(), 0);
  // Padded extent per axis: window positions inside [-pb, in + pe) count when count_include_pad.
  for (int64_t nc = 0; nc < NC; ++nc) {
    const double* xi = x.data() + nc * isz;
    for (int64_t od = 0; od < a[0].out; ++od)
      for (int64_t oh = 0; oh < a[1].out; ++oh)
        for (int64_t ow = 0; ow < a[2].out; ++ow) {
          double acc = kind == PoolKind::max ? -std::numeric_limits<double>::infinity() : 0.0;
          bool nan = false;
          int64_t best = -1, count = 0, padded_count = 0;
          for (int64_t kd = 0; kd < a[0].k; ++kd) {
            const int64_t id = od * a[0].s - a[0].pb + kd * a[0].d;
            if (id < -a[0].pb || id >= a[0].in + a[0].pe) continue;
            for (int64_t kh = 0; kh < a[1].k; ++kh) {
              const int64_t ih = oh * a[1].s - a[1].pb + kh * a[1].d;
              if (ih < -a[1].pb || ih >= a[1].in + a[1].pe) continue;
              for (int64_t kw = 0; kw < a[2].k; ++kw) {
                const int64_t iw = ow * a[2].s - a[2].pb + kw * a[2].d;
                if (iw < -a[2].pb || iw >= a[2].in + a[2].pe) continue;
                ++padded_count;
                if (id < 0 || id >= a[0].in || ih < 0 || ih >= a[1].in || iw < 0 || iw >= a[2].in) continue;
                ++count;
                const int64_t flat = (id * a[1].in + ih) * a[2].in + iw;
                const double v = xi[flat];
                if (kind == PoolKind::max) {
                  // NaN propagates; the index is that of the first maximum (or first NaN).
                  if (nan) continue;
                  if (std::isnan(v)) {
                    nan = true;
                    best = flat;
                  } else if (best < 0 || v > acc) {
                    best = flat;
                    acc = v;
                  }
                } else if (kind == PoolKind::average) {
                  acc += v;
                } else {
                  acc += std::pow(std::fabs(v), p);
                }
              }
            }
          }
          const int64_t o = nc * osz + (od * a[1].out + oh) * a[2].out + ow;
          double out;
          if (kind == PoolKind::max) {
            out = nan ? std::numeric_limits<double>::quiet_NaN() : acc;
          } else if (kind == PoolKind::average) {
            const int64_t div = count_include_pad ? padded_count : count;
            out = div > 0 ? acc / static_cast<double>(div) : std::numeric_limits<double>::quiet_NaN();
          } else {
            out = std::pow(acc, 1.0 / p);
          }
          r.y[o] = out;
          if (want_indices) {
            int64_t idx = 0;
            if (best >= 0) {
              const int64_t bw = best % a[2].in, bh = (best / a[2].in) % a[1].in, bd = best / (a[2].in * a[1].in);
              idx = column_major ? bd + bh * a[0].in + bw * a[0].in * a[1].in : best;
            }
            r.indices[o] = nc * isz + idx;
          }
        }
  }
  return r;
}

void pool_common(KernelContext& ctx, PoolKind kind) {
  const Tensor& X = ctx.input(0);
  const char* op = kind == PoolKind::max ? "MaxPool" : kind == PoolKind::average ? "AveragePool" : "LpPool";
  if (kind == PoolKind::max) {
    if (!is_ieee_float(X.type()) && X.type() != ElementType::int8 && X.type() != ElementType::uint8)
      invalid("MaxPool does not accept element type " + tname(X.type()));
  } else {
    require_float(X, std::string(op) + " input");
  }
  if (X.rank() < 3) invalid(std::string(op) + " input must have rank >= 3 (N, C, spatial...), got " + shape_to_string(X.shape()));
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  if (kernel.empty()) invalid(std::string(op) + " needs the kernel_shape attribute");
  const bool ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
  const int64_t storage_order = ctx.attr_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1) invalid("storage_order must be 0 or 1");
  const bool count_include_pad = ctx.attr_int("count_include_pad", 0) != 0;
  const double p = kind == PoolKind::lp ? attr_number(ctx, "p", 2.0) : 1.0;
  if (kind == PoolKind::lp && !(p > 0)) invalid("LpPool p must be positive");
  Shape in_spatial(X.shape().begin() + 2, X.shape().end());
  std::vector<Axis> axes = window_axes(ctx, in_spatial, kernel, ceil_mode);
  std::array<Axis, 3> a3 = canon3(axes, op);
  Shape out_shape = {X.dim(0), X.dim(1)};
  for (const Axis& a : axes) out_shape.push_back(a.out);
  const bool want_indices = kind == PoolKind::max && ctx.wants_output(1);
  PoolOutput r = pool_run(to_doubles(X), X.dim(0) * X.dim(1), a3, kind, count_include_pad, p, want_indices,
                          storage_order == 1);
  ctx.set_output(0, from_doubles(X.type(), out_shape, r.y));
  if (want_indices) ctx.set_output(1, from_int64s(ElementType::int64, out_shape, r.indices));
}

void max_pool(KernelContext& ctx) { pool_common(ctx, PoolKind::max); }
void average_pool(KernelContext& ctx) { pool_common(ctx, PoolKind::average); }
void lp_pool(KernelContext& ctx) { pool_common(ctx, PoolKind::lp); }

void global_pool(KernelContext& ctx, PoolKind kind) {
  const Tensor& X = ctx.input(0);
  require_float(X, "global pooling input");
  if (X.rank() < 2) invalid("global pooling input must have rank >= 2, got " + shape_to_string(X.shape()));
  const double p = kind == PoolKind::lp ? attr_number(ctx, "p", 2.0) : 1.0;
  const int64_t NC = X.dim(0) * X.dim(1);
  const int64_t sz = prod(X.shape(), 2, X.shape().size());
  Shape out_shape = X.shape();
  for (size_t i = 2; i < out_shape.size(); ++i) out_shape[i] = 1;
  std::vector<double> x = to_doubles(X), y(static_cast<size_t>(NC));
  for (int64_t nc = 0; nc < NC; ++nc) {
    const double* xi = x.data() + nc * sz;
    double acc = kind == PoolKind::max ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < sz; ++i) {
      if (kind == PoolKind::max) acc = (std::isnan(xi[i]) || std::isnan(acc)) ? std::nan("") : std::max(acc, xi[i]);
      else if (kind == PoolKind::average) acc += xi[i];
      else acc += std::pow(std::fabs(xi[i]), p);
    }
    if (kind == PoolKind::average) acc /= static_cast<double>(sz);
    if (kind == PoolKind::lp) acc = std::pow(acc, 1.0 / p);
    y[nc] = acc;
  }
  ctx.set_output(0, from_doubles(X.type(), out_shape, y));
}

void global_average_pool(KernelContext& ctx) { global_pool(ctx, PoolKind::average); }
void global_max_pool(KernelContext& ctx) { global_pool(ctx, PoolKind::max); }
void global_lp_pool(KernelContext& ctx) { global_pool(ctx, PoolKind::lp); }

// MaxRoiPool: rois (num_rois, 5) = [batch, x1, y1, x2, y2] in input coordinates * spatial_scale.
void max_roi_pool(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& R = ctx.input(1);
  require_float(X, "MaxRoiPool input");
  if (X.rank() != 4) invalid("MaxRoiPool input must be 4-D");
  if (R.rank() != 2 || R.dim(1) != 5) invalid("MaxRoiPool rois must have shape [num_rois, 5]");
  std::vector<int64_t> pooled = ctx.attr_ints("pooled_shape");
  if (pooled.size() != 2 || pooled[0] < 1 || pooled[1] < 1) invalid("MaxRoiPool needs pooled_shape [h, w]");
  const double scale = ctx.attr_float("spatial_scale", 1.0f);
  const int64_t C = X.dim(1), H = X.dim(2), W = X.dim(3), PH = pooled[0], PW = pooled[1];
  const int64_t nr = R.dim(0);
  Shape out_shape = {nr, C, PH, PW};
  std::vector<double> x = to_doubles(X), y(static_cast<size_t>(numel_of(out_shape)), 0.0);
  for (int64_t r = 0; r < nr; ++r) {
    const int64_t b = static_cast<int64_t>(get_double(R, r * 5));
    if (b < 0 || b >= X.dim(0)) invalid("MaxRoiPool roi batch index " + std::to_string(b) + " is out of range");
    const int64_t x1 = static_cast<int64_t>(std::round(get_double(R, r * 5 + 1) * scale));
    const int64_t y1 = static_cast<int64_t>(std::round(get_double(R, r * 5 + 2) * scale));
    const int64_t x2 = static_cast<int64_t>(std::round(get_double(R, r * 5 + 3) * scale));
    const int64_t y2 = static_cast<int64_t>(std::round(get_double(R, r * 5 + 4) * scale));
    const double rh = static_cast<double>(std::max<int64_t>(y2 - y1 + 1, 1)) / static_cast<double>(PH);
    const double rw = static_cast<double>(std::max<int64_t>(x2 - x1 + 1, 1)) / static_cast<double>(PW);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t ph = 0; ph < PH; ++ph)
        for (int64_t pw = 0; pw < PW; ++pw) {
          int64_t hs = std::clamp<int64_t>(static_cast<int64_t>(std::floor(ph * rh)) + y1, 0, H);
          int64_t he = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((ph + 1) * rh)) + y1, 0, H);
          int64_t ws = std::clamp<int64_t>(static_cast<int64_t>(std::floor(pw * rw)) + x1, 0, W);
          int64_t we = std::clamp<int64_t>(static_cast<int64_t>(std::ceil((pw + 1) * rw)) + x1, 0, W);
          double m = (he <= hs || we <= ws) ? 0.0 : -std::numeric_limits<double>::infinity();
          for (int64_t h = hs; h < he; ++h)
            for (int64_t w = ws; w < we; ++w) m = std::max(m, x[((b * C + c) * H + h) * W + w]);
          y[((r * C + c) * PH + ph) * PW + pw] = m;
        }
  }
  ctx.set_output(0, from_doubles(X.type(), out_shape, y));
}

// MaxUnpool: scatters X into a zero tensor at the positions given by I (MaxPool indices).
void max_unpool(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& I = ctx.input(1);
  if (X.rank() < 3) invalid("MaxUnpool input must have rank >= 3");
  if (I.shape() != X.shape()) invalid("MaxUnpool indices shape must equal the input shape");
  std::vector<int64_t> kernel = ctx.attr_ints("kernel_shape");
  const size_t r = static_cast<size_t>(X.rank() - 2);
  if (kernel.size() != r) invalid("MaxUnpool needs kernel_shape with one value per spatial axis");
  std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(r, 1));
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  if (strides.size() != r || pads.size() != 2 * r) invalid("MaxUnpool strides/pads do not match the spatial rank");
  Shape out_shape = {X.dim(0), X.dim(1)};
  for (size_t i = 0; i < r; ++i)
    out_shape.push_back((X.dim(static_cast<int64_t>(i) + 2) - 1) * strides[i] + kernel[i] - pads[i] - pads[i + r]);
  for (int64_t d : out_shape)
    if (d < 0) invalid("MaxUnpool output shape " + shape_to_string(out_shape) + " is negative");
  // Indices address the shape inferred from kernel/strides/pads (the pooling input).
  Tensor inferred = Tensor::allocate(X.type(), out_shape);
  const int64_t total = inferred.numel();
  for (int64_t i = 0; i < X.numel(); ++i) {
    const int64_t idx = get_int64(I, i);
    if (idx < 0 || idx >= total) invalid("MaxUnpool index " + std::to_string(idx) + " is out of range");
    copy_element(X, i, inferred, idx);
  }
  Tensor Y = inferred;
  if (ctx.has_input(2)) {
    // An explicit output_shape places the unpooled values at its start, the rest stays zero.
    std::vector<int64_t> os = tensor_to_int64_list(ctx.input(2));
    if (os.size() != out_shape.size()) invalid("MaxUnpool output_shape must have rank " + std::to_string(out_shape.size()));
    for (size_t i = 0; i < os.size(); ++i)
      if (os[i] < out_shape[i])
        invalid("MaxUnpool output_shape " + ints_to_string(os) + " is smaller than the unpooled shape " +
                shape_to_string(out_shape));
    Y = Tensor::allocate(X.type(), os);
    const std::vector<int64_t> ys = strides_of(os);
    for (int64_t i = 0; i < total; ++i) copy_element(inferred, i, Y, ravel(unravel(i, out_shape), ys));
  }
  ctx.set_output(0, Y);
}

// ---------------------------------------------------------------------------
// Softmax family
// ---------------------------------------------------------------------------

enum class SoftKind { softmax, log_softmax, hardmax };

void softmax_family(KernelContext& ctx, SoftKind kind) {
  const Tensor& X = ctx.input(0);
  require_float(X, "softmax input");
  const int64_t r = X.rank();
  // Groups of `len` values spaced `inner` apart; opset < 13 flattens to 2-D at axis.
  int64_t outer, len, inner;
  if (ctx.opset() < 13) {
    const int64_t axis = normalize_axis(ctx.attr_int("axis", 1), r);
    outer = prod(X.shape(), 0, static_cast<size_t>(axis));
    len = prod(X.shape(), static_cast<size_t>(axis), static_cast<size_t>(r));
    inner = 1;
  } else {
    const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), r);
    outer = prod(X.shape(), 0, static_cast<size_t>(axis));
    len = r == 0 ? 1 : X.dim(axis);
    inner = prod(X.shape(), static_cast<size_t>(axis) + 1, static_cast<size_t>(r));
  }
  std::vector<double> x = to_doubles(X), y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * len * inner + in;
      auto at = [&](int64_t j) { return base + j * inner; };
      if (kind == SoftKind::hardmax) {
        // The first maximum; a NaN ranks above every number, as in ArgMax (numpy's argmax).
        int64_t best = 0;
        for (int64_t j = 1; j < len && !std::isnan(x[at(best)]); ++j)
          if (std::isnan(x[at(j)]) || x[at(j)] > x[at(best)]) best = j;
        for (int64_t j = 0; j < len; ++j) y[at(j)] = j == best ? 1.0 : 0.0;
        continue;
      }
      // The operator's function body (opset 13): X - ReduceMax(X), Exp, divided by (or minus the
      // Log of) the ReduceSum. A NaN or +inf in a group makes the whole group NaN (inf - inf), as
      // does a group of only -inf.
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < len; ++j) mx = std::isnan(x[at(j)]) || std::isnan(mx) ? NAN : std::max(mx, x[at(j)]);
      double sum = 0.0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(x[at(j)] - mx);
      for (int64_t j = 0; j < len; ++j) {
        const double e = x[at(j)] - mx;
        y[at(j)] = kind == SoftKind::softmax ? std::exp(e) / sum : e - std::log(sum);
      }
    }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
}

void softmax(KernelContext& ctx) { softmax_family(ctx, SoftKind::softmax); }
void log_softmax(KernelContext& ctx) { softmax_family(ctx, SoftKind::log_softmax); }
void hardmax(KernelContext& ctx) { softmax_family(ctx, SoftKind::hardmax); }

// ---------------------------------------------------------------------------
// Dropout (inference only)
// ---------------------------------------------------------------------------

void dropout(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  require_float(X, "Dropout input");
  double ratio = ctx.attr_float("ratio", 0.5f);
  bool training = false;
  if (ctx.opset() < 7) {
    training = ctx.attr_int("is_test", 0) == 0;
  } else if (ctx.opset() >= 12) {
    if (ctx.has_input(1)) ratio = scalar_double(ctx.input(1), "Dropout ratio");
    if (ctx.has_input(2)) training = scalar_double(ctx.input(2), "Dropout training_mode") != 0.0;
  }
  if (ratio < 0.0 || ratio >= 1.0) invalid("Dropout ratio " + std::to_string(ratio) + " must be in [0, 1)");
  if (training && ratio != 0.0)
    unsupported("Dropout in training mode with ratio > 0 is random; the reference cannot reproduce it");
  ctx.set_output(0, X);
  if (ctx.wants_output(1)) {
    const ElementType mt = ctx.opset() >= 10 ? ElementType::boolean : X.type();
    Tensor mask = Tensor::allocate(mt, X.shape());
    for (int64_t i = 0; i < mask.numel(); ++i) set_double(mask, i, 1.0);
    ctx.set_output(1, mask);
  }
}

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

void batch_normalization(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  require_float(X, "BatchNormalization input");
  if (X.rank() < 2) invalid("BatchNormalization input must have rank >= 2, got " + shape_to_string(X.shape()));
  const Tensor& scale = ctx.input(1);
  const Tensor& bias = ctx.input(2);
  const Tensor& mean = ctx.input(3);
  const Tensor& var = ctx.input(4);
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const double momentum = ctx.attr_float("momentum", 0.9f);
  const int64_t N = X.dim(0), C = X.dim(1);
  const int64_t S = prod(X.shape(), 2, X.shape().size());
  bool training = ctx.opset() >= 14 && ctx.attr_int("training_mode", 0) != 0;
  if (ctx.opset() < 14 && (ctx.wants_output(1) || ctx.wants_output(2) || ctx.wants_output(3) || ctx.wants_output(4)))
    unsupported("BatchNormalization training outputs before opset 14 are not supported");
  // Parameters are per channel (C), or per channel and spatial position (spatial=0, opset < 9).
  const bool spatial = ctx.opset() >= 9 || ctx.attr_int("spatial", 1) != 0;
  const int64_t pcount = spatial ? C : C * S;
  for (const Tensor* t : {&scale, &bias, &mean, &var})
    if (t->numel() != pcount)
      invalid("BatchNormalization parameter shape " + shape_to_string(t->shape()) + " must hold " +
              std::to_string(pcount) + " values");
  if (training && !spatial) unsupported("BatchNormalization training with spatial=0");
  std::vector<double> x = to_doubles(X), y(x.size());
  std::vector<double> m = to_doubles(mean), v = to_doubles(var), sc = to_doubles(scale), b = to_doubles(bias);
  std::vector<double> run_mean = m, run_var = v;
  if (training) {
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0, sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) sum += x[(n * C + c) * S + s];
      const double cnt = static_cast<double>(N * S);
      const double mu = sum / cnt;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0; s < S; ++s) sq += (x[(n * C + c) * S + s] - mu) * (x[(n * C + c) * S + s] - mu);
      const double var_c = sq / cnt;
      run_mean[c] = m[c] * momentum + mu * (1.0 - momentum);
      run_var[c] = v[c] * momentum + var_c * (1.0 - momentum);
      m[c] = mu;
      v[c] = var_c;
    }
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t pi = spatial ? c : c * S + s;
        const int64_t i = (n * C + c) * S + s;
        y[i] = (x[i] - m[pi]) / std::sqrt(v[pi] + eps) * sc[pi] + b[pi];
      }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
  if (training) {
    if (ctx.wants_output(1)) ctx.set_output(1, from_doubles(mean.type(), mean.shape(), run_mean));
    if (ctx.wants_output(2)) ctx.set_output(2, from_doubles(var.type(), var.shape(), run_var));
  }
}

// Stash type of LayerNormalization/RMSNormalization/GroupNormalization (element type of Mean/InvStdDev).
ElementType stash_type(const KernelContext& ctx) {
  const int64_t st = ctx.attr_int("stash_type", 1);
  auto t = element_type_from_int(static_cast<int32_t>(st));
  if (!t || !is_ieee_float(*t)) invalid("stash_type " + std::to_string(st) + " is not a float type");
  return *t;
}

// Element index map of a parameter broadcast (numpy-style) to X's shape.
std::vector<int64_t> param_map(const Tensor& p, const Shape& x_shape, const char* what) {
  if (broadcast_shapes({p.shape(), x_shape}) != x_shape)
    invalid(std::string(what) + " shape " + shape_to_string(p.shape()) + " cannot be broadcast to " + shape_to_string(x_shape));
  return broadcast_index_map(p.shape(), x_shape);
}

void layer_normalization(KernelContext& ctx, bool rms) {
  const Tensor& X = ctx.input(0);
  const Tensor& S = ctx.input(1);
  require_float(X, rms ? "RMSNormalization input" : "LayerNormalization input");
  const int64_t r = X.rank();
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), r);
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const ElementType st = stash_type(ctx);
  const int64_t outer = prod(X.shape(), 0, static_cast<size_t>(axis));
  const int64_t len = prod(X.shape(), static_cast<size_t>(axis), static_cast<size_t>(r));
  std::vector<int64_t> smap = param_map(S, X.shape(), "Scale");
  std::vector<int64_t> bmap;
  const bool has_b = !rms && ctx.has_input(2);
  if (has_b) bmap = param_map(ctx.input(2), X.shape(), "B");
  std::vector<double> x = to_doubles(X), y(x.size()), sc = to_doubles(S), b;
  if (has_b) b = to_doubles(ctx.input(2));
  std::vector<double> means(static_cast<size_t>(outer)), inv(static_cast<size_t>(outer));
  for (int64_t o = 0; o < outer; ++o) {
    const double* xo = x.data() + o * len;
    double mu = 0.0;
    if (!rms) {
      for (int64_t j = 0; j < len; ++j) mu += xo[j];
      mu /= static_cast<double>(len);
    }
    double sq = 0.0;
    for (int64_t j = 0; j < len; ++j) sq += (xo[j] - mu) * (xo[j] - mu);
    const double is = 1.0 / std::sqrt(sq / static_cast<double>(len) + eps);
    means[o] = mu;
    inv[o] = is;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t i = o * len + j;
      y[i] = (xo[j] - mu) * is * sc[smap[i]] + (has_b ? b[bmap[i]] : 0.0);
    }
  }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
  if (!rms) {
    Shape stat_shape = X.shape();
    for (int64_t i = axis; i < r; ++i) stat_shape[i] = 1;
    if (ctx.wants_output(1)) ctx.set_output(1, from_doubles(st, stat_shape, means));
    if (ctx.wants_output(2)) ctx.set_output(2, from_doubles(st, stat_shape, inv));
  }
}

void layer_norm(KernelContext& ctx) { layer_normalization(ctx, false); }
void rms_norm(KernelContext& ctx) { layer_normalization(ctx, true); }

// Normalises each (n, group) slice of X over its channels and spatial positions.
// InstanceNormalization is the case groups == C.
void group_norm_core(KernelContext& ctx, int64_t groups, const Tensor& scale, const Tensor& bias, bool per_group_params) {
  const Tensor& X = ctx.input(0);
  require_float(X, "normalisation input");
  if (X.rank() < 2) invalid("normalisation input must have rank >= 2, got " + shape_to_string(X.shape()));
  const int64_t N = X.dim(0), C = X.dim(1), S = prod(X.shape(), 2, X.shape().size());
  if (groups < 1 || C % groups != 0)
    invalid("num_groups " + std::to_string(groups) + " must divide the channel count " + std::to_string(C));
  const int64_t pcount = per_group_params ? groups : C;
  if (scale.numel() != pcount || bias.numel() != pcount)
    invalid("scale and bias must hold " + std::to_string(pcount) + " values, got " + shape_to_string(scale.shape()) +
            " and " + shape_to_string(bias.shape()));
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const int64_t cg = C / groups, len = cg * S;
  std::vector<double> x = to_doubles(X), y(x.size()), sc = to_doubles(scale), b = to_doubles(bias);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (n * C + g * cg) * S;
      double mu = 0.0, sq = 0.0;
      for (int64_t j = 0; j < len; ++j) mu += x[base + j];
      mu /= static_cast<double>(len);
      for (int64_t j = 0; j < len; ++j) sq += (x[base + j] - mu) * (x[base + j] - mu);
      const double is = 1.0 / std::sqrt(sq / static_cast<double>(len) + eps);
      for (int64_t j = 0; j < len; ++j) {
        const int64_t p = per_group_params ? g : g * cg + j / S;
        y[base + j] = (x[base + j] - mu) * is * sc[p] + b[p];
      }
    }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
}

void instance_normalization(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  if (X.rank() < 2) invalid("InstanceNormalization input must have rank >= 2");
  group_norm_core(ctx, X.dim(1), ctx.input(1), ctx.input(2), false);
}

void group_normalization(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  if (X.rank() < 2) invalid("GroupNormalization input must have rank >= 2");
  if (!ctx.has_attr("num_groups")) invalid("GroupNormalization needs the num_groups attribute");
  const int64_t groups = ctx.attr_int("num_groups", 1);
  // Opset 18 had per-group scale and bias; opset 21 made them per channel.
  const bool per_group = ctx.opset() < 21 && ctx.input(1).numel() == groups;
  group_norm_core(ctx, groups, ctx.input(1), ctx.input(2), per_group);
}

void lp_normalization(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  require_float(X, "LpNormalization input");
  const int64_t r = X.rank();
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), r);
  const int64_t p = ctx.attr_int("p", 2);
  if (p != 1 && p != 2) invalid("LpNormalization p must be 1 or 2, got " + std::to_string(p));
  const int64_t outer = prod(X.shape(), 0, static_cast<size_t>(axis));
  const int64_t len = r == 0 ? 1 : X.dim(axis);
  const int64_t inner = prod(X.shape(), static_cast<size_t>(axis) + 1, static_cast<size_t>(r));
  std::vector<double> x = to_doubles(X), y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double norm = 0.0;
      for (int64_t j = 0; j < len; ++j) {
        const double v = x[(o * len + j) * inner + in];
        norm += p == 1 ? std::fabs(v) : v * v;
      }
      if (p == 2) norm = std::sqrt(norm);
      for (int64_t j = 0; j < len; ++j) {
        const int64_t i = (o * len + j) * inner + in;
        y[i] = norm == 0.0 ? 0.0 : x[i] / norm;  // an all-zero slice stays zero
      }
    }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
}

void lrn(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  require_float(X, "LRN input");
  if (X.rank() < 2) invalid("LRN input must have rank >= 2");
  if (!ctx.has_attr("size")) invalid("LRN needs the size attribute");
  const int64_t size = ctx.attr_int("size", 1);
  if (size < 1) invalid("LRN size must be positive");
  const double alpha = ctx.attr_float("alpha", 1e-4f), beta = ctx.attr_float("beta", 0.75f),
               bias = ctx.attr_float("bias", 1.0f);
  const int64_t N = X.dim(0), C = X.dim(1), S = prod(X.shape(), 2, X.shape().size());
  const int64_t before = (size - 1) / 2, after = size - 1 - before;  // floor and ceil of (size-1)/2
  std::vector<double> x = to_doubles(X), y(x.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        double sq = 0.0;
        for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(C - 1, c + after); ++j) {
          const double v = x[(n * C + j) * S + s];
          sq += v * v;
        }
        const int64_t i = (n * C + c) * S + s;
        y[i] = x[i] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta);
      }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
}

void mean_variance_normalization(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  require_float(X, "MeanVarianceNormalization input");
  const int64_t r = X.rank();
  std::vector<int64_t> axes = ctx.attr_ints("axes", {0, 2, 3});
  std::vector<bool> reduced(static_cast<size_t>(r), false);
  for (int64_t a : axes) reduced[static_cast<size_t>(normalize_axis(a, r, "MeanVarianceNormalization axis"))] = true;
  // Statistics shape: reduced axes collapsed to 1.
  Shape stat_shape = X.shape();
  for (int64_t i = 0; i < r; ++i)
    if (reduced[i]) stat_shape[i] = 1;
  std::vector<int64_t> map = broadcast_index_map(stat_shape, X.shape());
  const int64_t ns = numel_of(stat_shape);
  std::vector<double> x = to_doubles(X), y(x.size()), sum(static_cast<size_t>(ns), 0.0), sq(static_cast<size_t>(ns), 0.0);
  std::vector<int64_t> cnt(static_cast<size_t>(ns), 0);
  for (size_t i = 0; i < x.size(); ++i) {
    sum[map[i]] += x[i];
    ++cnt[map[i]];
  }
  for (int64_t k = 0; k < ns; ++k) sum[k] /= static_cast<double>(std::max<int64_t>(cnt[k], 1));
  for (size_t i = 0; i < x.size(); ++i) sq[map[i]] += (x[i] - sum[map[i]]) * (x[i] - sum[map[i]]);
  for (size_t i = 0; i < x.size(); ++i) {
    const double var = sq[map[i]] / static_cast<double>(cnt[map[i]]);
    y[i] = (x[i] - sum[map[i]]) / (std::sqrt(var) + 1e-9);
  }
  ctx.set_output(0, from_doubles(X.type(), X.shape(), y));
}

// ---------------------------------------------------------------------------
// Float8 / float4 codecs (for QuantizeLinear / DequantizeLinear)
// ---------------------------------------------------------------------------

struct MiniFloat {
  int exp_bits, man_bits, bias;
  bool has_inf;   // e5m2: IEEE-like inf/nan
  bool fnuz;      // no negative zero; 0x80 is the single NaN
  bool finite;    // e4m3fn / float4: no inf, (e4m3fn: all-ones is NaN)
};

bool minifloat_of(ElementType t, MiniFloat& f) {
  switch (t) {
    case ElementType::float8e4m3fn: f = {4, 3, 7, false, false, true}; return true;
    case ElementType::float8e4m3fnuz: f = {4, 3, 8, false, true, true}; return true;
    case ElementType::float8e5m2: f = {5, 2, 15, true, false, false}; return true;
    case ElementType::float8e5m2fnuz: f = {5, 2, 16, false, true, true}; return true;
    case ElementType::float4e2m1: f = {2, 1, 1, false, false, true}; return true;
    default: return false;
  }
}

int minifloat_bits(ElementType t) { return t == ElementType::float4e2m1 ? 4 : 8; }

uint32_t raw_bits(const Tensor& t, int64_t i) {
  if (t.type() == ElementType::float4e2m1) {
    const uint8_t b = t.data<uint8_t>()[i / 2];
    return (i % 2) ? (b >> 4) : (b & 0xF);
  }
  return t.data<uint8_t>()[i];
}

void set_raw_bits(Tensor& t, int64_t i, uint32_t v) {
  if (t.type() == ElementType::float4e2m1) {
    uint8_t& b = t.mutable_data<uint8_t>()[i / 2];
    b = (i % 2) ? static_cast<uint8_t>((b & 0x0F) | ((v & 0xF) << 4)) : static_cast<uint8_t>((b & 0xF0) | (v & 0xF));
    return;
  }
  t.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(v);
}

double minifloat_decode(ElementType t, uint32_t bits) {
  MiniFloat f{};
  minifloat_of(t, f);
  const int total = minifloat_bits(t);
  const uint32_t sign = bits >> (total - 1) & 1u;
  const uint32_t e = (bits >> f.man_bits) & ((1u << f.exp_bits) - 1);
  const uint32_t m = bits & ((1u << f.man_bits) - 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (f.fnuz && bits == (1u << (total - 1))) return nan;
  if (t == ElementType::float8e4m3fn && e == 15 && m == 7) return nan;
  if (f.has_inf && e == (1u << f.exp_bits) - 1) return m ? nan : (sign ? -INFINITY : INFINITY);
  double v = e == 0 ? std::ldexp(static_cast<double>(m), 1 - f.bias - f.man_bits)
                    : std::ldexp(static_cast<double>(m + (1u << f.man_bits)), static_cast<int>(e) - f.bias - f.man_bits);
  return sign ? -v : v;
}

// Encodes v, rounding to nearest even. Values beyond the largest finite value
// saturate to it when `saturate` (float4e2m1 always saturates); otherwise they
// become inf (e5m2) or NaN (the formats without inf).
uint32_t minifloat_encode(ElementType t, double v, bool saturate) {
  MiniFloat f{};
  minifloat_of(t, f);
  const int total = minifloat_bits(t);
  const uint32_t sign_bit = 1u << (total - 1);
  const uint32_t exp_ones = (1u << f.exp_bits) - 1;
  uint32_t max_code;  // largest finite positive encoding
  if (f.has_inf) max_code = (exp_ones << f.man_bits) - 1;
  else if (t == ElementType::float8e4m3fn) max_code = 0x7E;
  else max_code = sign_bit - 1;
  uint32_t nan_code;  // positive NaN (or the single NaN of fnuz formats)
  if (f.fnuz) nan_code = sign_bit;
  else if (f.has_inf) nan_code = (exp_ones << f.man_bits) | 1u;
  else if (t == ElementType::float8e4m3fn) nan_code = 0x7F;
  else nan_code = max_code;  // float4 has no NaN
  const uint32_t sign = std::signbit(v) ? sign_bit : 0;
  if (std::isnan(v)) return nan_code;
  const double a = std::fabs(v);
  const double maxv = minifloat_decode(t, max_code);
  const double half_ulp = std::ldexp(1.0, std::ilogb(maxv) - f.man_bits) / 2;
  if (std::isinf(v) || a >= maxv + half_ulp) {
    if (saturate || t == ElementType::float4e2m1) return sign | max_code;
    if (f.has_inf) return sign | (exp_ones << f.man_bits);
    return f.fnuz ? nan_code : (sign | nan_code);
  }
  // Nearest encoding among the non-negative finite ones; ties go to the even code.
  uint32_t best = 0;
  double best_err = INFINITY;
  for (uint32_t c = 0; c <= max_code; ++c) {
    const double err = std::fabs(minifloat_decode(t, c) - a);
    if (err < best_err || (err == best_err && (c & 1u) == 0)) {
      best = c;
      best_err = err;
    }
  }
  if (best == 0 && f.fnuz) return 0;  // fnuz formats have no negative zero
  return sign | best;
}

// ---------------------------------------------------------------------------
// Quantisation
// ---------------------------------------------------------------------------

// Maps a flat element index of x to the index of its scale / zero point.
struct QuantLayout {
  enum class Mode { tensor, axis, block } mode = Mode::tensor;
  int64_t axis_len = 1, inner = 1, block = 1, param_axis_len = 1;
  int64_t index(int64_t i) const {
    if (mode == Mode::tensor) return 0;
    const int64_t a = (i / inner) % axis_len;
    if (mode == Mode::axis) return a;
    const int64_t o = i / (inner * axis_len);
    return (o * param_axis_len + a / block) * inner + i % inner;
  }
};

QuantLayout quant_layout(const KernelContext& ctx, const Tensor& x, const Tensor& scale, const Tensor* zp) {
  QuantLayout q;
  const int64_t block = ctx.attr_int("block_size", 0);
  const bool both_single = zp && zp->numel() == 1 && scale.numel() == 1 && zp->rank() <= 1 && scale.rank() <= 1;
  if (zp && zp->shape() != scale.shape() && !both_single)
    invalid("zero point shape " + shape_to_string(zp->shape()) + " differs from scale shape " + shape_to_string(scale.shape()));
  if (block < 0) invalid("block_size must not be negative");
  // Per tensor: a scalar (or one-element 1-D) scale.
  if (block == 0 && scale.rank() <= 1 && scale.numel() == 1) return q;
  if (x.rank() == 0) invalid("a per-axis or blocked scale needs an input of rank >= 1");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", 1), x.rank());
  q.axis_len = x.dim(axis);
  q.inner = prod(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size());
  if (block == 0) {
    if (scale.rank() != 1 || scale.dim(0) != q.axis_len)
      invalid("per-axis scale shape " + shape_to_string(scale.shape()) + " must be [" + std::to_string(q.axis_len) + "]");
    q.mode = QuantLayout::Mode::axis;
    return q;
  }
  if (scale.rank() != x.rank()) invalid("blocked scale must have the input's rank");
  for (int64_t i = 0; i < x.rank(); ++i) {
    const int64_t want = i == axis ? ceil_div(x.dim(i), block) : x.dim(i);
    if (scale.dim(i) != want)
      invalid("blocked scale shape " + shape_to_string(scale.shape()) + " does not match input " +
              shape_to_string(x.shape()) + " with block_size " + std::to_string(block));
  }
  q.mode = QuantLayout::Mode::block;
  q.block = block;
  q.param_axis_len = scale.dim(axis);
  return q;
}

bool int_range(ElementType t, int64_t& lo, int64_t& hi) {
  switch (t) {
    case ElementType::int8: lo = -128; hi = 127; return true;
    case ElementType::uint8: lo = 0; hi = 255; return true;
    case ElementType::int16: lo = -32768; hi = 32767; return true;
    case ElementType::uint16: lo = 0; hi = 65535; return true;
    case ElementType::int32: lo = std::numeric_limits<int32_t>::min(); hi = std::numeric_limits<int32_t>::max(); return true;
    case ElementType::uint32: lo = 0; hi = std::numeric_limits<uint32_t>::max(); return true;
    case ElementType::int4: lo = -8; hi = 7; return true;
    case ElementType::uint4: lo = 0; hi = 15; return true;
    case ElementType::int2: lo = -2; hi = 1; return true;
    case ElementType::uint2: lo = 0; hi = 3; return true;
    default: return false;
  }
}

// Round half to even, then saturate to [lo, hi]; NaN becomes 0.
int64_t round_saturate(double v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  const double r = std::nearbyint(v);
  if (r <= static_cast<double>(lo)) return lo;
  if (r >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(r);
}

// Rounds a double to the precision of float type `t` (how numpy computes in that type).
double round_to(ElementType t, double v) {
  switch (t) {
    case ElementType::float32: return static_cast<float>(v);
    case ElementType::float16: return half_to_float(float_to_half(static_cast<float>(v)));
    case ElementType::bfloat16: return bfloat16_to_float(float_to_bfloat16(static_cast<float>(v)));
    default: return v;
  }
}

// Reads element i of any numeric tensor incl. float8 / float4.
double read_any(const Tensor& t, int64_t i) {
  MiniFloat f{};
  if (minifloat_of(t.type(), f)) return minifloat_decode(t.type(), raw_bits(t, i));
  return get_double(t, i);
}

void quantize_linear(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (!is_ieee_float(X.type()) && X.type() != ElementType::int32)
    invalid("QuantizeLinear input must be float or int32, got " + tname(X.type()));
  require_float(scale, "QuantizeLinear scale");
  ElementType out = ElementType::uint8;
  const int64_t out_dtype = ctx.attr_int("output_dtype", 0);
  if (zp) {
    out = zp->type();
    if (out_dtype != 0 && out_dtype != static_cast<int64_t>(out)) invalid("output_dtype differs from the zero point type");
  } else if (out_dtype != 0) {
    auto t = element_type_from_int(static_cast<int32_t>(out_dtype));
    if (!t) invalid("output_dtype " + std::to_string(out_dtype) + " is not an element type");
    out = *t;
  }
  int64_t lo = 0, hi = 0;
  MiniFloat mf{};
  const bool is_int_out = int_range(out, lo, hi);
  const bool is_mini = minifloat_of(out, mf);
  if (!is_int_out && !is_mini) invalid("QuantizeLinear cannot produce " + tname(out));
  const bool saturate = ctx.attr_int("saturate", 1) != 0;
  QuantLayout q = quant_layout(ctx, X, scale, zp);
  // Division happens in the input's float precision (float32 for int32 inputs), as the ONNX definition does.
  const ElementType calc = X.type() == ElementType::int32 ? ElementType::float32 : X.type();
  Tensor Y = Tensor::allocate(out, X.shape());
  for (int64_t i = 0; i < X.numel(); ++i) {
    const int64_t p = q.index(i);
    const double s = get_double(scale, p);
    const double v = round_to(calc, get_double(X, i) / s);
    if (is_int_out) {
      const int64_t z = zp ? get_int64(*zp, p) : 0;
      set_int64(Y, i, round_saturate(std::nearbyint(v) + static_cast<double>(z), lo, hi));
    } else {
      const double z = zp ? read_any(*zp, p) : 0.0;
      set_raw_bits(Y, i, minifloat_encode(out, v + z, saturate));
    }
  }
  ctx.set_output(0, Y);
}

void dequantize_linear(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  MiniFloat mf{};
  int64_t lo, hi;
  if (!int_range(X.type(), lo, hi) && !minifloat_of(X.type(), mf))
    invalid("DequantizeLinear input type " + tname(X.type()) + " is not a quantized type");
  require_float(scale, "DequantizeLinear scale");
  if (zp && zp->type() != X.type()) invalid("DequantizeLinear zero point type differs from the input type");
  ElementType out = scale.type();
  const int64_t out_dtype = ctx.attr_int("output_dtype", 0);
  if (out_dtype != 0) {
    auto t = element_type_from_int(static_cast<int32_t>(out_dtype));
    if (!t || !is_ieee_float(*t)) invalid("output_dtype " + std::to_string(out_dtype) + " is not a float type");
    out = *t;
  }
  QuantLayout q = quant_layout(ctx, X, scale, zp);
  Tensor Y = Tensor::allocate(out, X.shape());
  for (int64_t i = 0; i < X.numel(); ++i) {
    const int64_t p = q.index(i);
    const double z = zp ? read_any(*zp, p) : 0.0;
    set_double(Y, i, (read_any(X, i) - z) * get_double(scale, p));
  }
  ctx.set_output(0, Y);
}

void dynamic_quantize_linear(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  if (X.type() != ElementType::float32) invalid("DynamicQuantizeLinear input must be float32, got " + tname(X.type()));
  // Computed in float32 as the ONNX function body does.
  float mn = 0.0f, mx = 0.0f;
  for (int64_t i = 0; i < X.numel(); ++i) {
    const float v = X.data<float>()[i];
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  const float scale = (mx - mn) / 255.0f;
  float zpf = scale == 0.0f ? 0.0f : std::nearbyint(std::clamp(0.0f - mn / scale, 0.0f, 255.0f));
  const int64_t zp = static_cast<int64_t>(zpf);
  Tensor Y = Tensor::allocate(ElementType::uint8, X.shape());
  for (int64_t i = 0; i < X.numel(); ++i) {
    const float q = scale == 0.0f ? 0.0f : X.data<float>()[i] / scale;
    Y.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(round_saturate(std::nearbyint(q) + static_cast<double>(zp), 0, 255));
  }
  ctx.set_output(0, Y);
  ctx.set_output(1, Tensor::scalar<float>(ElementType::float32, scale));
  ctx.set_output(2, Tensor::scalar<uint8_t>(ElementType::uint8, static_cast<uint8_t>(zp)));
}

void require_8bit(const Tensor& t, const std::string& what) {
  if (t.type() != ElementType::int8 && t.type() != ElementType::uint8)
    invalid(what + " must be int8 or uint8, got " + tname(t.type()));
}

// Integer operand minus its zero point; zero point per tensor, or per `along` index (row / column / channel).
// `coord(i)` gives the index into the zero point for element i.
template <typename Coord>
std::vector<double> shifted(const Tensor& t, const Tensor* zp, int64_t zp_len, Coord coord, const std::string& what) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  const bool per_elem = zp && zp->numel() > 1;
  if (per_elem && zp->numel() != zp_len)
    invalid(what + " zero point shape " + shape_to_string(zp->shape()) + " must hold 1 or " + std::to_string(zp_len) + " values");
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double z = zp ? get_double(*zp, per_elem ? coord(i) : 0) : 0.0;
    v[static_cast<size_t>(i)] = get_double(t, i) - z;
  }
  return v;
}

// Batched matmul of integer-valued doubles (exact below 2^53), returning (shape, values).
std::vector<double> batched_matmul(const MatMulShape& s, const std::vector<double>& a, const std::vector<double>& b) {
  const int64_t nb = static_cast<int64_t>(s.a_batch_map.size());
  const int64_t mk = s.M * s.K, kn = s.K * s.N, mn = s.M * s.N;
  std::vector<double> c(static_cast<size_t>(nb * mn));
  for (int64_t i = 0; i < nb; ++i)
    matmul_double(a.data() + s.a_batch_map[i] * mk, b.data() + s.b_batch_map[i] * kn, c.data() + i * mn, s.M, s.K, s.N);
  return c;
}

void matmul_integer(KernelContext& ctx) {
  const Tensor& A = ctx.input(0);
  const Tensor& B = ctx.input(1);
  require_8bit(A, "MatMulInteger A");
  require_8bit(B, "MatMulInteger B");
  const Tensor* azp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* bzp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  if (azp && azp->type() != A.type()) invalid("MatMulInteger a_zero_point type differs from A");
  if (bzp && bzp->type() != B.type()) invalid("MatMulInteger b_zero_point type differs from B");
  MatMulShape s = matmul_shape(A.shape(), B.shape(), "MatMulInteger");
  const int64_t K = s.K, N = s.N, M = s.M;
  // a_zero_point per row (M), b_zero_point per column (N).
  std::vector<double> a = shifted(A, azp, M, [&](int64_t i) { return (i / K) % M; }, "A");
  std::vector<double> b = shifted(B, bzp, N, [&](int64_t i) { return i % N; }, "B");
  std::vector<double> c = batched_matmul(s, a, b);
  ctx.set_output(0, from_doubles(ElementType::int32, s.out, c));
}

void qlinear_matmul(KernelContext& ctx) {
  const Tensor& A = ctx.input(0);
  const Tensor& as = ctx.input(1);
  const Tensor& azp = ctx.input(2);
  const Tensor& B = ctx.input(3);
  const Tensor& bs = ctx.input(4);
  const Tensor& bzp = ctx.input(5);
  const Tensor& ys = ctx.input(6);
  const Tensor& yzp = ctx.input(7);
  require_8bit(A, "QLinearMatMul a");
  require_8bit(B, "QLinearMatMul b");
  require_8bit(yzp, "QLinearMatMul y_zero_point");
  if (azp.type() != A.type() || bzp.type() != B.type()) invalid("QLinearMatMul zero point types must match their inputs");
  MatMulShape s = matmul_shape(A.shape(), B.shape(), "QLinearMatMul");
  const int64_t K = s.K, N = s.N, M = s.M;
  if (as.numel() != 1 && as.numel() != M) invalid("QLinearMatMul a_scale must be scalar or per row");
  if (bs.numel() != 1 && bs.numel() != N) invalid("QLinearMatMul b_scale must be scalar or per column");
  if (ys.numel() != 1 || yzp.numel() != 1) invalid("QLinearMatMul y_scale and y_zero_point must be scalars");
  std::vector<double> a = shifted(A, &azp, M, [&](int64_t i) { return (i / K) % M; }, "a");
  std::vector<double> b = shifted(B, &bzp, N, [&](int64_t i) { return i % N; }, "b");
  std::vector<double> c = batched_matmul(s, a, b);
  int64_t lo, hi;
  int_range(yzp.type(), lo, hi);
  const double y_scale = get_double(ys, 0), y_zero = get_double(yzp, 0);
  Tensor Y = Tensor::allocate(yzp.type(), s.out);
  const ElementType calc = as.type();
  for (int64_t i = 0; i < Y.numel(); ++i) {
    const int64_t row = (i / N) % M, col = i % N;
    const double sa = get_double(as, as.numel() == 1 ? 0 : row), sb = get_double(bs, bs.numel() == 1 ? 0 : col);
    // The scale ratio is computed in the scales' precision, the product in double.
    const double mult = round_to(calc, round_to(calc, sa * sb) / y_scale);
    set_int64(Y, i, round_saturate(c[i] * mult + y_zero, lo, hi));
  }
  ctx.set_output(0, Y);
}

void conv_integer(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& W = ctx.input(1);
  require_8bit(X, "ConvInteger x");
  require_8bit(W, "ConvInteger w");
  ConvGeometry g = conv_geometry(ctx, X, W, "ConvInteger");
  const Tensor* xzp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* wzp = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  if (xzp && xzp->numel() != 1) invalid("ConvInteger x_zero_point must be a scalar");
  const int64_t per_m = W.numel() / std::max<int64_t>(1, g.M);
  std::vector<double> x = shifted(X, xzp, 1, [](int64_t) { return int64_t{0}; }, "x");
  std::vector<double> w = shifted(W, wzp, g.M, [&](int64_t i) { return i / per_m; }, "w");
  std::vector<double> y(static_cast<size_t>(numel_of(g.out_shape)), 0.0);
  conv_run(g, x, w, y);
  ctx.set_output(0, from_doubles(ElementType::int32, g.out_shape, y));
}

void qlinear_conv(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& xs = ctx.input(1);
  const Tensor& xzp = ctx.input(2);
  const Tensor& W = ctx.input(3);
  const Tensor& ws = ctx.input(4);
  const Tensor& wzp = ctx.input(5);
  const Tensor& ys = ctx.input(6);
  const Tensor& yzp = ctx.input(7);
  require_8bit(X, "QLinearConv x");
  require_8bit(W, "QLinearConv w");
  require_8bit(yzp, "QLinearConv y_zero_point");
  ConvGeometry g = conv_geometry(ctx, X, W, "QLinearConv");
  if (xs.numel() != 1 || xzp.numel() != 1 || ys.numel() != 1 || yzp.numel() != 1)
    invalid("QLinearConv x/y scales and zero points must be scalars");
  if (ws.numel() != 1 && ws.numel() != g.M) invalid("QLinearConv w_scale must be scalar or per output channel");
  const int64_t per_m = W.numel() / std::max<int64_t>(1, g.M);
  std::vector<double> x = shifted(X, &xzp, 1, [](int64_t) { return int64_t{0}; }, "x");
  std::vector<double> w = shifted(W, &wzp, g.M, [&](int64_t i) { return i / per_m; }, "w");
  const int64_t osz = out_size3(g.a3);
  std::vector<double> y(static_cast<size_t>(numel_of(g.out_shape)), 0.0);
  if (ctx.has_input(8)) {
    const Tensor& B = ctx.input(8);
    if (B.numel() != g.M) invalid("QLinearConv bias must hold " + std::to_string(g.M) + " values");
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t m = 0; m < g.M; ++m) std::fill_n(y.begin() + (n * g.M + m) * osz, osz, get_double(B, m));
  }
  conv_run(g, x, w, y);
  int64_t lo, hi;
  int_range(yzp.type(), lo, hi);
  const double sx = get_double(xs, 0), sy = get_double(ys, 0), zy = get_double(yzp, 0);
  Tensor Y = Tensor::allocate(yzp.type(), g.out_shape);
  for (int64_t i = 0; i < Y.numel(); ++i) {
    const int64_t m = (i / osz) % g.M;
    const double sw = get_double(ws, ws.numel() == 1 ? 0 : m);
    const double mult = static_cast<float>(static_cast<float>(sx * sw) / static_cast<float>(sy));
    set_int64(Y, i, round_saturate(y[i] * mult + zy, lo, hi));
  }
  ctx.set_output(0, Y);
}

// ---------------------------------------------------------------------------
// Einsum
// ---------------------------------------------------------------------------

void einsum(KernelContext& ctx) {
  std::string eq = ctx.attr_string("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const size_t n_in = ctx.num_inputs();
  if (n_in == 0) invalid("Einsum needs at least one input");
  const Tensor& first = ctx.input(0);
  const bool fl = is_ieee_float(first.type());
  if (!fl && !is_int_type(first.type())) invalid("Einsum does not accept element type " + tname(first.type()));
  std::string lhs = eq, rhs;
  const size_t arrow = eq.find("->");
  const bool explicit_out = arrow != std::string::npos;
  if (explicit_out) {
    lhs = eq.substr(0, arrow);
    rhs = eq.substr(arrow + 2);
  }
  std::vector<std::string> terms;
  {
    size_t start = 0;
    while (true) {
      size_t c = lhs.find(',', start);
      terms.push_back(lhs.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
  }
  if (terms.size() != n_in)
    invalid("Einsum equation '" + eq + "' has " + std::to_string(terms.size()) + " operands, got " + std::to_string(n_in) + " inputs");
  // Ellipsis: replaced by upper-case-free placeholder letters chosen from unused characters.
  int64_t ell_rank = 0;
  for (size_t t = 0; t < n_in; ++t) {
    const std::string& term = terms[t];
    const size_t e = term.find("...");
    if (e == std::string::npos) continue;
    ell_rank = std::max<int64_t>(ell_rank, ctx.input(t).rank() - static_cast<int64_t>(term.size() - 3));
  }
  if (ell_rank < 0) invalid("Einsum operand rank is smaller than its subscripts");
  std::string ell_letters;
  for (char ch = '0'; static_cast<int64_t>(ell_letters.size()) < ell_rank; ++ch) ell_letters += ch;
  std::map<char, int64_t> dims;
  std::vector<std::string> labels(n_in);
  for (size_t t = 0; t < n_in; ++t) {
    std::string term = terms[t];
    const Tensor& x = ctx.input(t);
    if (x.type() != first.type()) invalid("Einsum inputs must share one element type");
    const size_t e = term.find("...");
    for (size_t i = 0; i < term.size(); ++i)
      if (!std::isalpha(static_cast<unsigned char>(term[i])) && !(e != std::string::npos && i >= e && i < e + 3))
        invalid("Einsum equation '" + eq + "' has an invalid subscript");
    if (e != std::string::npos) {
      const int64_t here = x.rank() - static_cast<int64_t>(term.size() - 3);
      if (here < 0) invalid("Einsum operand rank is smaller than its subscripts");
      term = term.substr(0, e) + ell_letters.substr(static_cast<size_t>(ell_rank - here)) + term.substr(e + 3);
    }
    if (static_cast<int64_t>(term.size()) != x.rank())
      invalid("Einsum term '" + terms[t] + "' does not match operand rank " + std::to_string(x.rank()));
    for (size_t i = 0; i < term.size(); ++i) {
      const int64_t d = x.dim(static_cast<int64_t>(i));
      auto it = dims.find(term[i]);
      if (it == dims.end()) {
        dims[term[i]] = d;
      } else if (it->second != d) {
        if (it->second == 1) it->second = d;
        else if (d != 1) invalid(std::string("Einsum label '") + term[i] + "' has inconsistent sizes");
      }
    }
    labels[t] = term;
  }
  std::string out;
  if (explicit_out) {
    const size_t e = rhs.find("...");
    out = e == std::string::npos ? rhs : rhs.substr(0, e) + ell_letters + rhs.substr(e + 3);
  } else {
    // Implicit output: ellipsis dims, then labels appearing once, alphabetically.
    std::map<char, int> count;
    for (const auto& l : labels)
      for (char ch : l) ++count[ch];
    out = ell_letters;
    for (const auto& [ch, c] : count)
      if (c == 1 && ell_letters.find(ch) == std::string::npos) out += ch;
  }
  for (char ch : out)
    if (!dims.count(ch)) invalid(std::string("Einsum output label '") + ch + "' does not appear in the inputs");
  // Iterate over all label combinations: output labels first, then summed labels.
  std::string all = out;
  for (const auto& [ch, d] : dims)
    if (all.find(ch) == std::string::npos) all += ch;
  Shape out_shape;
  for (char ch : out) out_shape.push_back(dims[ch]);
  Shape all_shape;
  for (char ch : all) all_shape.push_back(dims[ch]);
  const auto total_opt = shape_numel(all_shape);
  if (!total_opt || *total_opt > (int64_t{1} << 34))
    unsupported("Einsum contraction over " + shape_to_string(all_shape) + " is too large");
  const int64_t total = *total_opt;
  const int64_t out_n = numel_of(out_shape);
  // Strides of each operand per position in `all` (0 for absent or broadcast labels).
  std::vector<std::vector<int64_t>> strides(n_in, std::vector<int64_t>(all.size(), 0));
  std::vector<std::vector<double>> vals(n_in);
  std::vector<std::vector<uint64_t>> ivals(n_in);
  for (size_t t = 0; t < n_in; ++t) {
    const Tensor& x = ctx.input(t);
    std::vector<int64_t> st = strides_of(x.shape());
    for (size_t i = 0; i < labels[t].size(); ++i)
      if (x.dim(static_cast<int64_t>(i)) != 1) strides[t][all.find(labels[t][i])] += st[i];
    if (fl) vals[t] = to_doubles(x);
    else ivals[t] = to_u64s(x);
  }
  std::vector<double> acc(static_cast<size_t>(out_n), 0.0);
  std::vector<uint64_t> iacc(static_cast<size_t>(out_n), 0);
  std::vector<int64_t> idx(all.size(), 0), off(n_in, 0);
  const int64_t inner = out_n > 0 ? total / out_n : 0;
  for (int64_t f = 0; f < total; ++f) {
    const int64_t o = inner > 0 ? f / inner : 0;
    if (fl) {
      double p = 1.0;
      for (size_t t = 0; t < n_in; ++t) p *= vals[t][off[t]];
      acc[o] += p;
    } else {
      uint64_t p = 1;
      for (size_t t = 0; t < n_in; ++t) p *= ivals[t][off[t]];
      iacc[o] += p;
    }
    for (size_t d = all.size(); d-- > 0;) {
      ++idx[d];
      for (size_t t = 0; t < n_in; ++t) off[t] += strides[t][d];
      if (idx[d] < all_shape[d]) break;
      for (size_t t = 0; t < n_in; ++t) off[t] -= strides[t][d] * idx[d];
      idx[d] = 0;
    }
  }
  Tensor Y = Tensor::allocate(first.type(), out_shape);
  for (int64_t i = 0; i < out_n; ++i) {
    if (fl) set_double(Y, i, acc[i]);
    else set_uint64(Y, i, iacc[i]);
  }
  ctx.set_output(0, Y);
}

}  // namespace

void register_math_kernels(KernelRegistry& r) {
  r.add("", "Conv", conv);
  r.add("", "ConvTranspose", conv_transpose);
  r.add("", "ConvInteger", conv_integer);
  r.add("", "QLinearConv", qlinear_conv);
  r.add("", "Gemm", gemm);
  r.add("", "MatMul", matmul);
  r.add("", "MatMulInteger", matmul_integer);
  r.add("", "QLinearMatMul", qlinear_matmul);
  r.add("", "Einsum", einsum);
  r.add("", "MaxPool", max_pool);
  r.add("", "AveragePool", average_pool);
  r.add("", "LpPool", lp_pool);
  r.add("", "GlobalAveragePool", global_average_pool);
  r.add("", "GlobalMaxPool", global_max_pool);
  r.add("", "GlobalLpPool", global_lp_pool);
  r.add("", "MaxRoiPool", max_roi_pool);
  r.add("", "MaxUnpool", max_unpool);
  r.add("", "Softmax", softmax);
  r.add("", "LogSoftmax", log_softmax);
  r.add("", "Hardmax", hardmax);
  r.add("", "Dropout", dropout);
  r.add("", "BatchNormalization", batch_normalization);
  r.add("", "LayerNormalization", layer_norm);
  r.add("", "RMSNormalization", rms_norm);
  r.add("", "InstanceNormalization", instance_normalization);
  r.add("", "GroupNormalization", group_normalization);
  r.add("", "LpNormalization", lp_normalization);
  r.add("", "LRN", lrn);
  r.add("", "MeanVarianceNormalization", mean_variance_normalization);
  r.add("", "QuantizeLinear", quantize_linear);
  r.add("", "DequantizeLinear", dequantize_linear);
  r.add("", "DynamicQuantizeLinear", dynamic_quantize_linear);
}

}  // namespace switchyard::reference
