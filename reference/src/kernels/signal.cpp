// Reference kernels: signal processing, vision and miscellaneous operators.
//
//   DFT, STFT, HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix,
//   GridSample, AffineGrid, RoiAlign, NonMaxSuppression, DeformConv, Col2Im,
//   CenterCropPad, CumProd, BitCast, TensorScatter, Det.
//
// Everything is computed in double and written back with set_double; integer
// paths (CumProd on integers) use exact int64 / uint64 arithmetic.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

using ET = ElementType;
constexpr double kPi = 3.14159265358979323846;

void require(bool cond, const std::string& msg) {
  if (!cond) throw_error(StatusCode::invalid_argument, msg);
}

void require_float(const Tensor& t, const std::string& what) {
  if (!is_floating(t.type()) || is_sub_byte(t.type()) || element_bits(t.type()) < 16)
    throw_error(StatusCode::unsupported, what + ": element type " + std::string(element_type_name(t.type())) +
                                             " is not supported (float16/bfloat16/float32/float64 expected)");
}

void require_numeric(const Tensor& t, const std::string& what) {
  const ET e = t.type();
  if (e == ET::string || e == ET::undefined || e == ET::complex64 || e == ET::complex128)
    throw_error(StatusCode::unsupported,
                what + ": element type " + std::string(element_type_name(e)) + " is not supported");
}

// A one-element tensor (scalar or shape [1]) read as int64.
int64_t scalar_int(const Tensor& t, const std::string& what) {
  require(t.numel() == 1, what + " must hold exactly one value, got shape " + shape_to_string(t.shape()));
  if (is_floating(t.type())) throw_error(StatusCode::invalid_argument, what + " must be an integer tensor");
  return get_int64(t, 0);
}

double scalar_double(const Tensor& t, const std::string& what) {
  require(t.numel() == 1, what + " must hold exactly one value, got shape " + shape_to_string(t.shape()));
  return get_double(t, 0);
}

ET output_datatype(KernelContext& ctx, int64_t fallback = 1) {
  const int64_t code = ctx.attr_int("output_datatype", fallback);
  auto t = element_type_from_int(static_cast<int32_t>(code));
  if (!t || *t == ET::undefined || *t == ET::string || *t == ET::complex64 || *t == ET::complex128)
    throw_error(StatusCode::unsupported, "output_datatype " + std::to_string(code) + " is not supported");
  return *t;
}

int64_t product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

// ---------------------------------------------------------------------------
// DFT / STFT

// cos/sin of 2*pi*m/n for m in [0, n): exact reduction of k*j modulo n keeps
// the twiddles accurate for long transforms.
struct Twiddles {
  std::vector<double> c, s;
  explicit Twiddles(int64_t n) : c(static_cast<size_t>(n)), s(static_cast<size_t>(n)) {
    for (int64_t m = 0; m < n; ++m) {
      const double a = 2.0 * kPi * static_cast<double>(m) / static_cast<double>(n);
      c[static_cast<size_t>(m)] = std::cos(a);
      s[static_cast<size_t>(m)] = std::sin(a);
    }
  }
};

// X[k] = sum_j x[j] * exp(sign * 2*pi*i*k*j/n), k in [0, out_len); x has n entries.
void dft_line(const std::vector<double>& re, const std::vector<double>& im, int64_t n, int64_t out_len, double sign,
              const Twiddles& tw, std::vector<double>& out_re, std::vector<double>& out_im) {
  out_re.assign(static_cast<size_t>(out_len), 0.0);
  out_im.assign(static_cast<size_t>(out_len), 0.0);
  for (int64_t k = 0; k < out_len; ++k) {
    double sr = 0, si = 0;
    for (int64_t j = 0; j < n; ++j) {
      const size_t m = static_cast<size_t>((k % n) * j % n);
      const double c = tw.c[m], s = sign * tw.s[m];
      const double xr = re[static_cast<size_t>(j)], xi = im[static_cast<size_t>(j)];
      sr += xr * c - xi * s;
      si += xr * s + xi * c;
    }
    out_re[static_cast<size_t>(k)] = sr;
    out_im[static_cast<size_t>(k)] = si;
  }
}

void dft(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_float(x, "DFT input");
  const int64_t r = x.rank();
  require(r >= 2, "DFT input must have rank >= 2 (signal dims plus a last dim of 1 or 2), got " +
                      shape_to_string(x.shape()));
  const int64_t comps = x.dim(r - 1);
  require(comps == 1 || comps == 2, "DFT input's last dimension must be 1 (real) or 2 (complex), got " +
                                        std::to_string(comps));
  int64_t axis;
  if (ctx.opset() >= 20) {
    axis = ctx.has_input(2) ? scalar_int(ctx.input(2), "DFT axis") : -2;
  } else {
    axis = ctx.attr_int("axis", 1);
  }
  if (axis < 0) axis += r;
  require(axis >= 0 && axis <= r - 2, "DFT axis out of range for input " + shape_to_string(x.shape()) +
                                          " (the last dimension holds the complex parts)");
  const bool inverse = ctx.attr_int("inverse", 0) != 0;
  const bool onesided = ctx.attr_int("onesided", 0) != 0;
  const int64_t in_len = x.dim(axis);
  const bool has_len = ctx.has_input(1) && ctx.input(1).numel() > 0;
  int64_t n = has_len ? scalar_int(ctx.input(1), "DFT dft_length") : in_len;
  const bool c2r = inverse && onesided;  // inverse of a one-sided spectrum: real output (irfft)
  if (c2r && !has_len) n = 2 * (in_len - 1);
  require(n >= 1, "DFT length must be positive, got " + std::to_string(n));
  require(n <= (int64_t{1} << 24), "DFT length " + std::to_string(n) + " is too large for the reference (max 2^24)");

  const int64_t outer = product(x.shape(), 0, static_cast<size_t>(axis));
  const int64_t inner = product(x.shape(), static_cast<size_t>(axis) + 1, static_cast<size_t>(r - 1));
  const int64_t out_len = c2r ? n : (onesided ? n / 2 + 1 : n);
  const int64_t out_comps = c2r ? 1 : 2;
  Shape out_shape = x.shape();
  out_shape[static_cast<size_t>(axis)] = out_len;
  out_shape[static_cast<size_t>(r - 1)] = out_comps;
  Tensor y = Tensor::allocate(x.type(), out_shape);
  if (y.numel() == 0) {
    ctx.set_output(0, y);
    return;
  }
  const Twiddles tw(n);
  const double sign = inverse ? 1.0 : -1.0;
  std::vector<double> re(static_cast<size_t>(n)), im(static_cast<size_t>(n)), ore, oim;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      std::fill(re.begin(), re.end(), 0.0);
      std::fill(im.begin(), im.end(), 0.0);
      auto src = [&](int64_t j, int64_t c) { return ((o * in_len + j) * inner + in) * comps + c; };
      if (c2r) {
        // Rebuild the full Hermitian spectrum of length n from bins [0, n/2].
        const int64_t half = n / 2;
        for (int64_t k = 0; k <= half && k < in_len; ++k) {
          re[static_cast<size_t>(k)] = get_double(x, src(k, 0));
          im[static_cast<size_t>(k)] = comps == 2 ? get_double(x, src(k, 1)) : 0.0;
        }
        im[0] = 0.0;                      // the DC bin of a real signal is real
        if (n % 2 == 0) im[static_cast<size_t>(half)] = 0.0;  // and so is the Nyquist bin
        for (int64_t k = half + 1; k < n; ++k) {
          re[static_cast<size_t>(k)] = re[static_cast<size_t>(n - k)];
          im[static_cast<size_t>(k)] = -im[static_cast<size_t>(n - k)];
        }
      } else {
        for (int64_t j = 0; j < std::min(n, in_len); ++j) {
          re[static_cast<size_t>(j)] = get_double(x, src(j, 0));
          im[static_cast<size_t>(j)] = comps == 2 ? get_double(x, src(j, 1)) : 0.0;
        }
      }
      dft_line(re, im, n, out_len, sign, tw, ore, oim);
      const double scale = inverse ? 1.0 / static_cast<double>(n) : 1.0;
      for (int64_t k = 0; k < out_len; ++k) {
        const int64_t dst = ((o * out_len + k) * inner + in) * out_comps;
        set_double(y, dst, ore[static_cast<size_t>(k)] * scale);
        if (out_comps == 2) set_double(y, dst + 1, oim[static_cast<size_t>(k)] * scale);
      }
    }
  }
  ctx.set_output(0, y);
}

void stft(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_float(x, "STFT signal");
  require(x.rank() == 3 && (x.dim(2) == 1 || x.dim(2) == 2),
          "STFT signal must have shape [batch, signal_length, 1 or 2], got " + shape_to_string(x.shape()));
  const int64_t step = scalar_int(ctx.input(1), "STFT frame_step");
  require(step > 0, "STFT frame_step must be positive");
  const bool has_window = ctx.has_input(2) && ctx.input(2).defined();
  int64_t frame_length = -1;
  if (has_window) {
    const Tensor& w = ctx.input(2);
    require(w.rank() == 1, "STFT window must be 1-D, got " + shape_to_string(w.shape()));
    frame_length = w.dim(0);
  }
  if (ctx.has_input(3)) {
    const int64_t fl = scalar_int(ctx.input(3), "STFT frame_length");
    require(frame_length < 0 || fl == frame_length, "STFT frame_length " + std::to_string(fl) +
                                                        " differs from the window length " +
                                                        std::to_string(frame_length));
    frame_length = fl;
  }
  require(frame_length > 0, "STFT needs a window or a positive frame_length");
  const int64_t batch = x.dim(0), len = x.dim(1), comps = x.dim(2);
  require(len >= frame_length, "STFT signal length " + std::to_string(len) + " is shorter than frame_length " +
                                   std::to_string(frame_length));
  const bool onesided = ctx.attr_int("onesided", 1) != 0;
  const int64_t frames = (len - frame_length) / step + 1;
  const int64_t bins = onesided ? frame_length / 2 + 1 : frame_length;
  Tensor y = Tensor::allocate(x.type(), {batch, frames, bins, 2});
  std::vector<double> window(static_cast<size_t>(frame_length), 1.0);
  if (has_window)
    for (int64_t j = 0; j < frame_length; ++j) window[static_cast<size_t>(j)] = get_double(ctx.input(2), j);
  const Twiddles tw(frame_length);
  std::vector<double> re(static_cast<size_t>(frame_length)), im(static_cast<size_t>(frame_length)), ore, oim;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t j = 0; j < frame_length; ++j) {
        const int64_t s = (b * len + f * step + j) * comps;
        re[static_cast<size_t>(j)] = get_double(x, s) * window[static_cast<size_t>(j)];
        im[static_cast<size_t>(j)] = comps == 2 ? get_double(x, s + 1) * window[static_cast<size_t>(j)] : 0.0;
      }
      dft_line(re, im, frame_length, bins, -1.0, tw, ore, oim);
      for (int64_t k = 0; k < bins; ++k) {
        const int64_t d = ((b * frames + f) * bins + k) * 2;
        set_double(y, d, ore[static_cast<size_t>(k)]);
        set_double(y, d + 1, oim[static_cast<size_t>(k)]);
      }
    }
  }
  ctx.set_output(0, y);
}

// Generalised cosine window: a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N),
// N = size (periodic) or size - 1 (symmetric).
void cosine_window(KernelContext& ctx, double a0, double a1, double a2) {
  const int64_t size = scalar_int(ctx.input(0), "window size");
  require(size >= 0, "window size must be non-negative, got " + std::to_string(size));
  const bool periodic = ctx.attr_int("periodic", 1) != 0;
  Tensor y = Tensor::allocate(output_datatype(ctx), {size});
  const double N = static_cast<double>(periodic ? size : size - 1);
  for (int64_t i = 0; i < size; ++i) {
    const double t = static_cast<double>(i) / N;
    set_double(y, i, a0 - a1 * std::cos(2 * kPi * t) + a2 * std::cos(4 * kPi * t));
  }
  ctx.set_output(0, y);
}

void hann_window(KernelContext& ctx) { cosine_window(ctx, 0.5, 0.5, 0.0); }
void hamming_window(KernelContext& ctx) { cosine_window(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
void blackman_window(KernelContext& ctx) { cosine_window(ctx, 0.42, 0.5, 0.08); }

void mel_weight_matrix(KernelContext& ctx) {
  const int64_t num_mel = scalar_int(ctx.input(0), "MelWeightMatrix num_mel_bins");
  const int64_t dft_length = scalar_int(ctx.input(1), "MelWeightMatrix dft_length");
  const int64_t sample_rate = scalar_int(ctx.input(2), "MelWeightMatrix sample_rate");
  const double lower = scalar_double(ctx.input(3), "MelWeightMatrix lower_edge_hertz");
  const double upper = scalar_double(ctx.input(4), "MelWeightMatrix upper_edge_hertz");
  require(num_mel > 0 && dft_length > 0 && sample_rate > 0,
          "MelWeightMatrix num_mel_bins, dft_length and sample_rate must be positive");
  require(std::isfinite(lower) && std::isfinite(upper) && lower >= 0 && upper >= lower,
          "MelWeightMatrix edges must satisfy 0 <= lower_edge_hertz <= upper_edge_hertz");
  const int64_t spec_bins = dft_length / 2 + 1;
  Tensor y = Tensor::allocate(output_datatype(ctx), {spec_bins, num_mel});
  auto hz_to_mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  const double low_mel = hz_to_mel(lower), high_mel = hz_to_mel(upper);
  // num_mel + 2 points evenly spaced in mel (step divides by the point count, as the ONNX reference does),
  // mapped back to Hz and then to an FFT bin index.
  const double mel_step = (high_mel - low_mel) / static_cast<double>(num_mel + 2);
  std::vector<int64_t> bin(static_cast<size_t>(num_mel + 2));
  for (int64_t i = 0; i < num_mel + 2; ++i) {
    const double mel = static_cast<double>(i) * mel_step + low_mel;
    const double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    bin[static_cast<size_t>(i)] =
        static_cast<int64_t>(std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate)));
  }
  auto put = [&](int64_t row, int64_t col, double v) {
    require(row >= 0 && row < spec_bins, "MelWeightMatrix: upper_edge_hertz maps past the last spectrogram bin");
    set_double(y, row * num_mel + col, v);
  };
  for (int64_t i = 0; i < num_mel; ++i) {
    const int64_t lo = bin[static_cast<size_t>(i)], center = bin[static_cast<size_t>(i + 1)],
                  hi = bin[static_cast<size_t>(i + 2)];
    if (center == lo) {
      put(center, i, 1.0);
    } else {
      for (int64_t j = lo; j <= center; ++j)
        put(j, i, static_cast<double>(j - lo) / static_cast<double>(center - lo));
    }
    if (hi > center)
      for (int64_t j = center; j < hi; ++j)
        put(j, i, static_cast<double>(hi - j) / static_cast<double>(hi - center));
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// GridSample / AffineGrid

// Reflects x into [lo, hi] (repeatedly, as a mirror).
double reflect(double x, double lo, double hi) {
  if (!std::isfinite(x)) return std::numeric_limits<double>::quiet_NaN();
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const double n = std::floor(dx / range);
    const double rem = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? lo + rem : hi - rem;
  }
  if (x > hi) {
    const double dx = x - hi;
    const double n = std::floor(dx / range);
    const double rem = dx - n * range;
    return std::fmod(n, 2.0) == 0 ? hi - rem : lo + rem;
  }
  return x;
}

void cubic_coeffs(double t, double c[4]) {
  const double A = -0.75;
  auto near = [&](double d) { return ((A + 2) * d - (A + 3)) * d * d + 1; };         // |d| <= 1
  auto far = [&](double d) { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; };   // 1 < |d| < 2
  c[0] = far(t + 1);
  c[1] = near(t);
  c[2] = near(1 - t);
  c[3] = far(2 - t);
}

void grid_sample(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& grid = ctx.input(1);
  require_numeric(x, "GridSample X");
  require_float(grid, "GridSample grid");
  const int64_t r = x.rank() - 2;  // spatial rank
  require(r >= 1, "GridSample X must have rank >= 3, got " + shape_to_string(x.shape()));
  require(grid.rank() == r + 2 && grid.dim(0) == x.dim(0) && grid.dim(r + 1) == r,
          "GridSample grid shape " + shape_to_string(grid.shape()) + " does not match X " + shape_to_string(x.shape()) +
              " (expected [N, out spatial..., " + std::to_string(r) + "])");
  std::string mode = ctx.attr_string("mode", ctx.opset() >= 20 ? "linear" : "bilinear");
  if (mode == "bilinear") mode = "linear";
  if (mode == "bicubic") mode = "cubic";
  if (mode != "linear" && mode != "nearest" && mode != "cubic")
    throw_error(StatusCode::unsupported, "GridSample mode '" + mode + "' is not supported");
  const std::string padding = ctx.attr_string("padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    throw_error(StatusCode::unsupported, "GridSample padding_mode '" + padding + "' is not supported");
  const bool align = ctx.attr_int("align_corners", 0) != 0;

  const int64_t N = x.dim(0), C = x.dim(1);
  Shape in_sp(x.shape().begin() + 2, x.shape().end());
  Shape out_sp(grid.shape().begin() + 1, grid.shape().end() - 1);
  Shape out_shape = {N, C};
  out_shape.insert(out_shape.end(), out_sp.begin(), out_sp.end());
  Tensor y = Tensor::allocate(x.type(), out_shape);
  if (y.numel() == 0) {
    ctx.set_output(0, y);
    return;
  }
  for (int64_t d : in_sp)
    require(d > 0 || padding == "zeros", "GridSample: X has an empty spatial dimension");
  const int64_t in_count = product(in_sp, 0, in_sp.size());
  const int64_t out_count = product(out_sp, 0, out_sp.size());
  const std::vector<int64_t> in_strides = strides_of(in_sp);
  std::vector<double> lo(static_cast<size_t>(r)), hi(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    lo[static_cast<size_t>(d)] = align ? 0.0 : -0.5;
    hi[static_cast<size_t>(d)] = align ? static_cast<double>(in_sp[static_cast<size_t>(d)] - 1)
                                       : static_cast<double>(in_sp[static_cast<size_t>(d)]) - 0.5;
  }
  // For each spatial dim: the sample taps (index, weight).
  std::vector<std::vector<std::pair<int64_t, double>>> taps(static_cast<size_t>(r));
  std::vector<double> coord(static_cast<size_t>(r));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < out_count; ++o) {
      bool is_nan = false;
      for (int64_t d = 0; d < r; ++d) {
        const size_t du = static_cast<size_t>(d);
        const double size = static_cast<double>(in_sp[du]);
        // The grid's last dimension lists coordinates innermost-first (x = width, y = height, ...).
        const double g = get_double(grid, (n * out_count + o) * r + (r - 1 - d));
        double v = align ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2;
        if (mode == "nearest") v = std::nearbyint(v);
        if (v < lo[du] || v > hi[du]) {
          if (padding == "border") v = std::clamp(v, 0.0, size - 1);
          else if (padding == "reflection") v = reflect(v, lo[du], hi[du]);
        }
        if (std::isnan(v)) is_nan = true;
        // Far outside the image every tap reads padding: keep the index arithmetic in range.
        v = std::clamp(v, -size - 8.0, 2 * size + 8.0);
        coord[du] = v;
        auto& t = taps[du];
        t.clear();
        if (is_nan) continue;
        if (mode == "nearest") {
          t.push_back({static_cast<int64_t>(v), 1.0});
        } else if (mode == "linear") {
          const double f = std::floor(v);
          const int64_t i0 = static_cast<int64_t>(f);
          t.push_back({i0, 1 - (v - f)});
          t.push_back({i0 + 1, v - f});
        } else {
          const double f = std::floor(v);
          const int64_t i0 = static_cast<int64_t>(f);
          double c[4];
          cubic_coeffs(v - f, c);
          for (int k = 0; k < 4; ++k) t.push_back({i0 - 1 + k, c[k]});
        }
      }
      // Map a tap index through the padding mode; -1 = reads zero.
      auto resolve = [&](int64_t d, int64_t i) -> int64_t {
        const int64_t size = in_sp[static_cast<size_t>(d)];
        if (padding == "zeros") return (i >= 0 && i < size) ? i : -1;
        if (padding == "border") return std::clamp<int64_t>(i, 0, size - 1);
        const double rf = reflect(static_cast<double>(i), lo[static_cast<size_t>(d)], hi[static_cast<size_t>(d)]);
        return std::clamp<int64_t>(static_cast<int64_t>(rf), 0, size - 1);
      };
      for (int64_t c = 0; c < C; ++c) {
        const int64_t dst = (n * C + c) * out_count + o;
        if (is_nan) {
          set_double(y, dst, std::numeric_limits<double>::quiet_NaN());
          continue;
        }
        const int64_t base = (n * C + c) * in_count;
        // Sum over the cartesian product of taps.
        double acc = 0;
        std::vector<size_t> pick(static_cast<size_t>(r), 0);
        while (true) {
          double w = 1;
          int64_t flat = 0;
          bool zero = false;
          for (int64_t d = 0; d < r; ++d) {
            const auto& tp = taps[static_cast<size_t>(d)][pick[static_cast<size_t>(d)]];
            w *= tp.second;
            const int64_t i = resolve(d, tp.first);
            if (i < 0) zero = true;
            else flat += i * in_strides[static_cast<size_t>(d)];
          }
          if (!zero) acc += w * get_double(x, base + flat);
          int64_t d = r - 1;
          for (; d >= 0; --d) {
            if (++pick[static_cast<size_t>(d)] < taps[static_cast<size_t>(d)].size()) break;
            pick[static_cast<size_t>(d)] = 0;
          }
          if (d < 0) break;
        }
        set_double(y, dst, acc);
      }
    }
  }
  ctx.set_output(0, y);
}

void affine_grid(KernelContext& ctx) {
  const Tensor& theta = ctx.input(0);
  require_float(theta, "AffineGrid theta");
  const std::vector<int64_t> size = tensor_to_int64_list(ctx.input(1));
  require(size.size() == 4 || size.size() == 5, "AffineGrid size must have 4 ([N,C,H,W]) or 5 ([N,C,D,H,W]) values");
  const int64_t nd = static_cast<int64_t>(size.size()) - 2;  // 2 or 3 spatial dims
  const int64_t N = size[0];
  require(theta.rank() == 3 && theta.dim(0) == N && theta.dim(1) == nd && theta.dim(2) == nd + 1,
          "AffineGrid theta shape " + shape_to_string(theta.shape()) + " does not match size (expected [N, " +
              std::to_string(nd) + ", " + std::to_string(nd + 1) + "])");
  for (int64_t v : size) require(v >= 0, "AffineGrid size values must be non-negative");
  const bool align = ctx.attr_int("align_corners", 0) != 0;
  Shape sp(size.begin() + 2, size.end());  // [H, W] or [D, H, W]
  Shape out_shape = {N};
  out_shape.insert(out_shape.end(), sp.begin(), sp.end());
  out_shape.push_back(nd);
  Tensor y = Tensor::allocate(theta.type(), out_shape);
  auto base = [&](int64_t i, int64_t s) {
    if (align) return s == 1 ? -1.0 : -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(s - 1);
    return -1.0 + (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(s);
  };
  const int64_t count = product(sp, 0, sp.size());
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t p = 0; p < count; ++p) {
      const std::vector<int64_t> idx = unravel(p, sp);
      // Homogeneous source point, innermost coordinate first: (x, y[, z], 1).
      std::vector<double> h(static_cast<size_t>(nd + 1), 1.0);
      for (int64_t d = 0; d < nd; ++d)
        h[static_cast<size_t>(d)] = base(idx[static_cast<size_t>(nd - 1 - d)], sp[static_cast<size_t>(nd - 1 - d)]);
      for (int64_t row = 0; row < nd; ++row) {
        double acc = 0;
        for (int64_t k = 0; k <= nd; ++k)
          acc += get_double(theta, (n * nd + row) * (nd + 1) + k) * h[static_cast<size_t>(k)];
        set_double(y, (n * count + p) * nd + row, acc);
      }
    }
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// RoiAlign

void roi_align(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Tensor& bidx = ctx.input(2);
  require_float(x, "RoiAlign X");
  require_float(rois, "RoiAlign rois");
  require(x.rank() == 4, "RoiAlign X must be 4-D [N, C, H, W], got " + shape_to_string(x.shape()));
  require(rois.rank() == 2 && rois.dim(1) == 4, "RoiAlign rois must be [num_rois, 4], got " +
                                                    shape_to_string(rois.shape()));
  require(bidx.rank() == 1 && bidx.dim(0) == rois.dim(0),
          "RoiAlign batch_indices must be [num_rois], got " + shape_to_string(bidx.shape()));
  const std::string ctm =
      ctx.attr_string("coordinate_transformation_mode", ctx.opset() >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    throw_error(StatusCode::unsupported, "RoiAlign coordinate_transformation_mode '" + ctm + "' is not supported");
  const bool half_pixel = ctm == "half_pixel";
  const std::string mode = ctx.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") throw_error(StatusCode::unsupported, "RoiAlign mode '" + mode + "'");
  const int64_t PH = ctx.attr_int("output_height", 1), PW = ctx.attr_int("output_width", 1);
  const int64_t sampling = ctx.attr_int("sampling_ratio", 0);
  const double scale = ctx.attr_float("spatial_scale", 1.0f);
  require(PH > 0 && PW > 0, "RoiAlign output_height/output_width must be positive");
  require(sampling >= 0, "RoiAlign sampling_ratio must be non-negative");
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), R = rois.dim(0);
  Tensor y = Tensor::allocate(x.type(), {R, C, PH, PW});
  for (int64_t r = 0; r < R; ++r) {
    const int64_t b = get_int64(bidx, r);
    require(b >= 0 && b < N, "RoiAlign batch index " + std::to_string(b) + " is out of range");
    require(H > 0 && W > 0, "RoiAlign X has an empty spatial dimension");
    const double off = half_pixel ? 0.5 : 0.0;
    const double x0 = get_double(rois, r * 4 + 0) * scale - off, y0 = get_double(rois, r * 4 + 1) * scale - off;
    const double x1 = get_double(rois, r * 4 + 2) * scale - off, y1 = get_double(rois, r * 4 + 3) * scale - off;
    require(std::isfinite(x0) && std::isfinite(y0) && std::isfinite(x1) && std::isfinite(y1),
            "RoiAlign roi coordinates must be finite");
    double rw = x1 - x0, rh = y1 - y0;
    if (!half_pixel) {  // malformed ROIs are forced to 1x1
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bin_h = rh / static_cast<double>(PH), bin_w = rw / static_cast<double>(PW);
    const double gh_d = sampling > 0 ? static_cast<double>(sampling) : std::ceil(rh / static_cast<double>(PH));
    const double gw_d = sampling > 0 ? static_cast<double>(sampling) : std::ceil(rw / static_cast<double>(PW));
    require(gh_d * std::max(gw_d, 1.0) <= double(1 << 24), "RoiAlign: roi too large for its output size");
    const int64_t gh = std::max<int64_t>(static_cast<int64_t>(gh_d), 0);
    const int64_t gw = std::max<int64_t>(static_cast<int64_t>(gw_d), 0);
    const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (b * C + c) * H * W;
      auto at = [&](int64_t yy, int64_t xx) { return get_double(x, base + yy * W + xx); };
      for (int64_t ph = 0; ph < PH; ++ph) {
        for (int64_t pw = 0; pw < PW; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < gh; ++iy) {
            double sy = y0 + static_cast<double>(ph) * bin_h +
                        (static_cast<double>(iy) + 0.5) * bin_h / static_cast<double>(gh);
            for (int64_t ix = 0; ix < gw; ++ix) {
              double sx = x0 + static_cast<double>(pw) * bin_w +
                          (static_cast<double>(ix) + 0.5) * bin_w / static_cast<double>(gw);
              // Bilinear weights of the four neighbours (all zero outside the map).
              double w[4] = {0, 0, 0, 0};
              double v[4] = {0, 0, 0, 0};
              if (!(sy < -1.0 || sy > static_cast<double>(H) || sx < -1.0 || sx > static_cast<double>(W))) {
                double yy = std::max(sy, 0.0), xx = std::max(sx, 0.0);
                int64_t ylo = static_cast<int64_t>(yy), xlo = static_cast<int64_t>(xx), yhi, xhi;
                if (ylo >= H - 1) {
                  yhi = ylo = H - 1;
                  yy = static_cast<double>(ylo);
                } else {
                  yhi = ylo + 1;
                }
                if (xlo >= W - 1) {
                  xhi = xlo = W - 1;
                  xx = static_cast<double>(xlo);
                } else {
                  xhi = xlo + 1;
                }
                const double ly = yy - static_cast<double>(ylo), lx = xx - static_cast<double>(xlo);
                const double hy = 1 - ly, hx = 1 - lx;
                w[0] = hy * hx, w[1] = hy * lx, w[2] = ly * hx, w[3] = ly * lx;
                v[0] = at(ylo, xlo), v[1] = at(ylo, xhi), v[2] = at(yhi, xlo), v[3] = at(yhi, xhi);
              }
              if (mode == "avg") {
                acc += w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
              } else {  // max of the weighted neighbours, as the ONNX reference defines it
                const double m = std::max({w[0] * v[0], w[1] * v[1], w[2] * v[2], w[3] * v[3]});
                acc = first ? m : std::max(acc, m);
                first = false;
              }
            }
          }
          if (mode == "avg") acc /= count;
          set_double(y, ((r * C + c) * PH + ph) * PW + pw, acc);
        }
      }
    }
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// NonMaxSuppression

void non_max_suppression(KernelContext& ctx) {
  const Tensor& boxes = ctx.input(0);
  const Tensor& scores = ctx.input(1);
  require_float(boxes, "NonMaxSuppression boxes");
  require_float(scores, "NonMaxSuppression scores");
  require(boxes.rank() == 3 && boxes.dim(2) == 4,
          "NonMaxSuppression boxes must be [batch, boxes, 4], got " + shape_to_string(boxes.shape()));
  require(scores.rank() == 3 && scores.dim(0) == boxes.dim(0) && scores.dim(2) == boxes.dim(1),
          "NonMaxSuppression scores shape " + shape_to_string(scores.shape()) + " does not match boxes " +
              shape_to_string(boxes.shape()));
  const int64_t max_out = ctx.has_input(2) && ctx.input(2).numel() > 0
                              ? scalar_int(ctx.input(2), "NonMaxSuppression max_output_boxes_per_class")
                              : 0;
  const double iou_th =
      ctx.has_input(3) && ctx.input(3).numel() > 0 ? scalar_double(ctx.input(3), "iou_threshold") : 0.0;
  const bool has_score_th = ctx.has_input(4) && ctx.input(4).numel() > 0;
  const double score_th = has_score_th ? scalar_double(ctx.input(4), "score_threshold") : 0.0;
  const bool center = ctx.attr_int("center_point_box", 0) != 0;
  const int64_t B = boxes.dim(0), NB = boxes.dim(1), NC = scores.dim(1);

  struct Box {
    double y1, x1, y2, x2;
  };
  auto get_box = [&](int64_t b, int64_t i) {
    const int64_t o = (b * NB + i) * 4;
    const double a = get_double(boxes, o), c = get_double(boxes, o + 1), d = get_double(boxes, o + 2),
                 e = get_double(boxes, o + 3);
    if (center)  // [x_center, y_center, width, height]
      return Box{c - e / 2, a - d / 2, c + e / 2, a + d / 2};
    return Box{std::min(a, d), std::min(c, e), std::max(a, d), std::max(c, e)};
  };
  auto iou = [](const Box& p, const Box& q) {
    const double area_p = (p.y2 - p.y1) * (p.x2 - p.x1), area_q = (q.y2 - q.y1) * (q.x2 - q.x1);
    if (area_p <= 0 || area_q <= 0) return 0.0;
    const double ih = std::min(p.y2, q.y2) - std::max(p.y1, q.y1);
    const double iw = std::min(p.x2, q.x2) - std::max(p.x1, q.x1);
    if (ih <= 0 || iw <= 0) return 0.0;
    const double inter = ih * iw;
    return inter / (area_p + area_q - inter);
  };

  std::vector<int64_t> selected;  // triples
  for (int64_t b = 0; b < B; ++b) {
    std::vector<Box> bx(static_cast<size_t>(NB));
    for (int64_t i = 0; i < NB; ++i) bx[static_cast<size_t>(i)] = get_box(b, i);
    for (int64_t c = 0; c < NC; ++c) {
      if (max_out <= 0) continue;
      std::vector<std::pair<double, int64_t>> cand;
      for (int64_t i = 0; i < NB; ++i) {
        const double s = get_double(scores, (b * NC + c) * NB + i);
        if (has_score_th && !(s > score_th)) continue;
        cand.push_back({s, i});
      }
      // Highest score first; equal scores keep the lower box index first.
      std::stable_sort(cand.begin(), cand.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
      std::vector<int64_t> kept;
      for (const auto& [s, i] : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool suppressed = false;
        for (int64_t k : kept)
          if (iou(bx[static_cast<size_t>(k)], bx[static_cast<size_t>(i)]) > iou_th) {
            suppressed = true;
            break;
          }
        if (suppressed) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  ctx.set_output(0, from_int64s(ET::int64, {static_cast<int64_t>(selected.size() / 3), 3}, selected));
}

// ---------------------------------------------------------------------------
// DeformConv (2-D)

void deform_conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor& offset = ctx.input(2);
  require_float(x, "DeformConv X");
  require(x.rank() == 4, "DeformConv supports 2-D images only: X must be [N, C, H, W], got " +
                             shape_to_string(x.shape()));
  require(w.rank() == 4, "DeformConv W must be [oC, C/group, kH, kW], got " + shape_to_string(w.shape()));
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), Wd = x.dim(3);
  const int64_t OC = w.dim(0);
  const int64_t group = ctx.attr_int("group", 1), ogroup = ctx.attr_int("offset_group", 1);
  require(group > 0 && ogroup > 0, "DeformConv group and offset_group must be positive");
  std::vector<int64_t> ks = ctx.attr_ints("kernel_shape", {w.dim(2), w.dim(3)});
  std::vector<int64_t> strides = ctx.attr_ints("strides", {1, 1});
  std::vector<int64_t> dil = ctx.attr_ints("dilations", {1, 1});
  std::vector<int64_t> pads = ctx.attr_ints("pads", {0, 0, 0, 0});
  require(ks.size() == 2 && strides.size() == 2 && dil.size() == 2 && pads.size() == 4,
          "DeformConv kernel_shape/strides/dilations/pads have the wrong length for 2-D");
  require(ks[0] == w.dim(2) && ks[1] == w.dim(3), "DeformConv kernel_shape does not match W");
  require(C == w.dim(1) * group && OC % group == 0, "DeformConv channel counts do not match group: X " +
                                                         shape_to_string(x.shape()) + ", W " +
                                                         shape_to_string(w.shape()));
  require(C % ogroup == 0, "DeformConv: channels must be divisible by offset_group");
  for (int i = 0; i < 2; ++i) require(strides[i] > 0 && dil[i] > 0, "DeformConv strides/dilations must be positive");
  const int64_t KH = ks[0], KW = ks[1], K = KH * KW;
  const int64_t OH = (H + pads[0] + pads[2] - (dil[0] * (KH - 1) + 1)) / strides[0] + 1;
  const int64_t OW = (Wd + pads[1] + pads[3] - (dil[1] * (KW - 1) + 1)) / strides[1] + 1;
  require(OH >= 0 && OW >= 0, "DeformConv: kernel larger than the padded input");
  require(offset.rank() == 4 && offset.dim(0) == N && offset.dim(1) == ogroup * K * 2 && offset.dim(2) == OH &&
              offset.dim(3) == OW,
          "DeformConv offset shape " + shape_to_string(offset.shape()) + " does not match [N, offset_group*kH*kW*2, " +
              std::to_string(OH) + ", " + std::to_string(OW) + "]");
  const bool has_b = ctx.has_input(3) && ctx.input(3).defined();
  const bool has_mask = ctx.has_input(4) && ctx.input(4).defined();
  if (has_b) require(ctx.input(3).numel() == OC, "DeformConv B must have oC values");
  if (has_mask)
    require(ctx.input(4).rank() == 4 && ctx.input(4).dim(0) == N && ctx.input(4).dim(1) == ogroup * K &&
                ctx.input(4).dim(2) == OH && ctx.input(4).dim(3) == OW,
            "DeformConv mask shape " + shape_to_string(ctx.input(4).shape()) + " does not match offset");
  Tensor y = Tensor::allocate(x.type(), {N, OC, OH, OW});
  const int64_t icg = C / group, ocg = OC / group, icog = C / ogroup;
  // Bilinear sample of channel plane `base` at (h, w); zero outside the image.
  auto sample = [&](int64_t base, double h, double wv) {
    if (!(h > -1.0 && h < static_cast<double>(H) && wv > -1.0 && wv < static_cast<double>(Wd))) return 0.0;
    const double fh = std::floor(h), fw = std::floor(wv);
    const int64_t h0 = static_cast<int64_t>(fh), w0 = static_cast<int64_t>(fw);
    const double lh = h - fh, lw = wv - fw;
    double acc = 0;
    const int64_t hs[2] = {h0, h0 + 1}, ws[2] = {w0, w0 + 1};
    const double wh[2] = {1 - lh, lh}, ww[2] = {1 - lw, lw};
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        if (hs[a] >= 0 && hs[a] < H && ws[b] >= 0 && ws[b] < Wd)
          acc += wh[a] * ww[b] * get_double(x, base + hs[a] * Wd + ws[b]);
    return acc;
  };
  std::vector<double> col(static_cast<size_t>(C * K));  // sampled (and masked) input patch
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int64_t ow = 0; ow < OW; ++ow) {
        for (int64_t c = 0; c < C; ++c) {
          const int64_t g = c / icog;
          for (int64_t kh = 0; kh < KH; ++kh) {
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t k = kh * KW + kw;
              const int64_t oc_h = ((n * ogroup * K + g * K + k) * 2) * OH * OW + oh * OW + ow;
              const double dh = get_double(offset, oc_h), dw = get_double(offset, oc_h + OH * OW);
              const double h = static_cast<double>(oh * strides[0] - pads[0] + kh * dil[0]) + dh;
              const double wv = static_cast<double>(ow * strides[1] - pads[1] + kw * dil[1]) + dw;
              double v = sample((n * C + c) * H * Wd, h, wv);
              if (has_mask) v *= get_double(ctx.input(4), ((n * ogroup + g) * K + k) * OH * OW + oh * OW + ow);
              col[static_cast<size_t>(c * K + k)] = v;
            }
          }
        }
        for (int64_t oc = 0; oc < OC; ++oc) {
          const int64_t g = oc / ocg;
          double acc = has_b ? get_double(ctx.input(3), oc) : 0.0;
          for (int64_t ic = 0; ic < icg; ++ic)
            for (int64_t k = 0; k < K; ++k)
              acc += get_double(w, (oc * icg + ic) * K + k) * col[static_cast<size_t>((g * icg + ic) * K + k)];
          set_double(y, ((n * OC + oc) * OH + oh) * OW + ow, acc);
        }
      }
    }
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// Col2Im

void col2im(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_numeric(x, "Col2Im input");
  const std::vector<int64_t> image = tensor_to_int64_list(ctx.input(1));
  const std::vector<int64_t> block = tensor_to_int64_list(ctx.input(2));
  const size_t nd = image.size();
  require(nd >= 1 && block.size() == nd, "Col2Im image_shape and block_shape must have the same non-zero length");
  require(x.rank() == 3, "Col2Im input must be [N, C*prod(block_shape), L], got " + shape_to_string(x.shape()));
  const std::vector<int64_t> dil = ctx.attr_ints("dilations", std::vector<int64_t>(nd, 1));
  const std::vector<int64_t> strides = ctx.attr_ints("strides", std::vector<int64_t>(nd, 1));
  const std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * nd, 0));
  require(dil.size() == nd && strides.size() == nd && pads.size() == 2 * nd,
          "Col2Im dilations/strides/pads lengths do not match image_shape");
  int64_t kprod = 1;
  std::vector<int64_t> nblocks(nd);
  int64_t L = 1;
  for (size_t d = 0; d < nd; ++d) {
    require(image[d] >= 0 && block[d] > 0 && dil[d] > 0 && strides[d] > 0 && pads[d] >= 0 && pads[d + nd] >= 0,
            "Col2Im: invalid image_shape/block_shape/attributes");
    kprod *= block[d];
    const int64_t eff = dil[d] * (block[d] - 1) + 1;
    const int64_t span = image[d] + pads[d] + pads[d + nd] - eff;
    require(span >= 0, "Col2Im: block larger than the padded image");
    nblocks[d] = span / strides[d] + 1;
    L *= nblocks[d];
  }
  require(x.dim(1) % kprod == 0, "Col2Im: input dim 1 (" + std::to_string(x.dim(1)) +
                                     ") is not a multiple of prod(block_shape)");
  require(x.dim(2) == L, "Col2Im: input dim 2 is " + std::to_string(x.dim(2)) + " but the block grid has " +
                             std::to_string(L) + " blocks");
  const int64_t N = x.dim(0), C = x.dim(1) / kprod;
  Shape out_shape = {N, C};
  out_shape.insert(out_shape.end(), image.begin(), image.end());
  Tensor y = Tensor::allocate(x.type(), out_shape);               // checks the (untrusted) image size
  Tensor sum = Tensor::allocate(ElementType::float64, out_shape);  // accumulator
  double* acc = sum.mutable_data<double>();
  const int64_t img_count = product(image, 0, nd);
  const Shape block_shape(block.begin(), block.end()), grid_shape(nblocks.begin(), nblocks.end());
  const std::vector<int64_t> img_strides = strides_of(Shape(image.begin(), image.end()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < kprod; ++k) {
        const std::vector<int64_t> kidx = unravel(k, block_shape);
        for (int64_t l = 0; l < L; ++l) {
          const std::vector<int64_t> bidx = unravel(l, grid_shape);
          int64_t flat = 0;
          bool inside = true;
          for (size_t d = 0; d < nd; ++d) {
            const int64_t pos = bidx[d] * strides[d] - pads[d] + kidx[d] * dil[d];
            if (pos < 0 || pos >= image[d]) {
              inside = false;
              break;
            }
            flat += pos * img_strides[d];
          }
          if (inside)
            acc[(n * C + c) * img_count + flat] += get_double(x, (n * x.dim(1) + c * kprod + k) * L + l);
        }
      }
  for (int64_t i = 0; i < y.numel(); ++i) set_double(y, i, acc[i]);
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// CenterCropPad

void center_crop_pad(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::vector<int64_t> target = tensor_to_int64_list(ctx.input(1));
  const int64_t r = x.rank();
  std::vector<int64_t> axes = ctx.attr_ints("axes", {});
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  require(axes.size() == target.size(), "CenterCropPad shape has " + std::to_string(target.size()) +
                                            " values but " + std::to_string(axes.size()) + " axes");
  Shape out_shape = x.shape();
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t a = normalize_axis(axes[i], r, "CenterCropPad axis");
    require(!seen[static_cast<size_t>(a)], "CenterCropPad axes contain a duplicate");
    seen[static_cast<size_t>(a)] = true;
    require(target[i] >= 0, "CenterCropPad shape values must be non-negative");
    out_shape[static_cast<size_t>(a)] = target[i];
  }
  Tensor y = Tensor::allocate(x.type(), out_shape);
  // Per axis: output index o reads input index o + shift (negative shift = padding before).
  std::vector<int64_t> shift(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    const int64_t in = x.dim(d), out = out_shape[static_cast<size_t>(d)];
    shift[static_cast<size_t>(d)] = in >= out ? (in - out) / 2 : -((out - in) / 2);
  }
  const std::vector<int64_t> in_strides = strides_of(x.shape());
  for (int64_t o = 0; o < y.numel(); ++o) {
    const std::vector<int64_t> idx = unravel(o, out_shape);
    int64_t flat = 0;
    bool inside = true;
    for (int64_t d = 0; d < r; ++d) {
      const int64_t i = idx[static_cast<size_t>(d)] + shift[static_cast<size_t>(d)];
      if (i < 0 || i >= x.dim(d)) {
        inside = false;
        break;
      }
      flat += i * in_strides[static_cast<size_t>(d)];
    }
    if (inside) copy_element(x, flat, y, o);  // padding stays zero (empty string for strings)
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// CumProd, BitCast, TensorScatter, Det

void cum_prod(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_numeric(x, "CumProd input");
  if (x.type() == ET::boolean || is_sub_byte(x.type()) ||
      (is_floating(x.type()) && element_bits(x.type()) < 16))
    throw_error(StatusCode::unsupported,
                "CumProd: element type " + std::string(element_type_name(x.type())) + " is not supported");
  const int64_t r = x.rank();
  require(r >= 1, "CumProd input must have rank >= 1");
  const int64_t axis = normalize_axis(scalar_int(ctx.input(1), "CumProd axis"), r, "CumProd axis");
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0, reverse = ctx.attr_int("reverse", 0) != 0;
  const int64_t outer = product(x.shape(), 0, static_cast<size_t>(axis)), len = x.dim(axis);
  const int64_t inner = product(x.shape(), static_cast<size_t>(axis) + 1, x.shape().size());
  Tensor y = Tensor::allocate(x.type(), x.shape());
  const bool is_int = !is_floating(x.type());
  const bool is_u64 = x.type() == ET::uint64;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double pf = 1.0;
      uint64_t pi = 1;  // integer product modulo 2^64: wraps like the element type after truncation
      for (int64_t s = 0; s < len; ++s) {
        const int64_t j = reverse ? len - 1 - s : s;
        const int64_t idx = (o * len + j) * inner + in;
        if (is_int) {
          const uint64_t v = is_u64 ? get_uint64(x, idx) : static_cast<uint64_t>(get_int64(x, idx));
          if (!exclusive) pi *= v;
          if (is_u64) set_uint64(y, idx, pi);
          else set_int64(y, idx, static_cast<int64_t>(pi));
          if (exclusive) pi *= v;
        } else {
          const double v = get_double(x, idx);
          if (!exclusive) pf *= v;
          set_double(y, idx, pf);
          if (exclusive) pf *= v;
        }
      }
    }
  ctx.set_output(0, y);
}

void bit_cast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t to_code = ctx.attr_int("to", 0);
  auto to = element_type_from_int(static_cast<int32_t>(to_code));
  require(to.has_value() && *to != ET::undefined, "BitCast 'to' " + std::to_string(to_code) + " is not a data type");
  if (x.type() == ET::string || *to == ET::string)
    throw_error(StatusCode::invalid_argument, "BitCast does not accept string tensors");
  require(element_bits(x.type()) == element_bits(*to),
          "BitCast needs types of the same bit width: " + std::string(element_type_name(x.type())) + " has " +
              std::to_string(element_bits(x.type())) + " bits, " + std::string(element_type_name(*to)) + " has " +
              std::to_string(element_bits(*to)));
  Tensor y = Tensor::allocate(*to, x.shape());
  if (x.byte_size() > 0) std::memcpy(y.raw_mutable(), x.raw(), x.byte_size());
  ctx.set_output(0, y);
}

void tensor_scatter(KernelContext& ctx) {
  const Tensor& past = ctx.input(0);
  const Tensor& update = ctx.input(1);
  const int64_t r = past.rank();
  require(r >= 2, "TensorScatter past_cache must have rank >= 2, got " + shape_to_string(past.shape()));
  require(update.type() == past.type(), "TensorScatter update must have the type of past_cache");
  require(update.rank() == r, "TensorScatter update rank differs from past_cache");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -2), r, "TensorScatter axis");
  require(axis != 0, "TensorScatter axis cannot be the batch axis 0");
  const std::string mode = ctx.attr_string("mode", "linear");
  if (mode != "linear" && mode != "circular")
    throw_error(StatusCode::invalid_argument, "TensorScatter mode must be 'linear' or 'circular', got '" + mode + "'");
  for (int64_t d = 0; d < r; ++d)
    if (d != axis)
      require(update.dim(d) == past.dim(d), "TensorScatter update shape " + shape_to_string(update.shape()) +
                                                " does not match past_cache " + shape_to_string(past.shape()));
  const int64_t batch = past.dim(0), max_len = past.dim(axis), seq = update.dim(axis);
  require(seq <= max_len, "TensorScatter update sequence length exceeds the cache length");
  std::vector<int64_t> wi(static_cast<size_t>(batch), 0);
  if (ctx.has_input(2) && ctx.input(2).defined()) {
    const Tensor& t = ctx.input(2);
    require(t.rank() == 1 && t.dim(0) == batch, "TensorScatter write_indices must be [batch], got " +
                                                    shape_to_string(t.shape()));
    for (int64_t b = 0; b < batch; ++b) wi[static_cast<size_t>(b)] = get_int64(t, b);
  }
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t s = wi[static_cast<size_t>(b)];
    require(s >= 0 && (s < max_len || seq == 0), "TensorScatter write index " + std::to_string(s) +
                                                     " is out of range for cache length " + std::to_string(max_len));
    if (mode == "linear")
      require(s + seq <= max_len, "TensorScatter (linear): write index " + std::to_string(s) + " + sequence length " +
                                      std::to_string(seq) + " exceeds the cache length " + std::to_string(max_len));
  }
  Tensor y = past.clone();
  const std::vector<int64_t> out_strides = strides_of(past.shape());
  for (int64_t i = 0; i < update.numel(); ++i) {
    std::vector<int64_t> idx = unravel(i, update.shape());
    int64_t pos = wi[static_cast<size_t>(idx[0])] + idx[static_cast<size_t>(axis)];
    if (mode == "circular") pos %= max_len;
    idx[static_cast<size_t>(axis)] = pos;
    copy_element(update, i, y, ravel(idx, out_strides));
  }
  ctx.set_output(0, y);
}

void det(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_float(x, "Det input");
  const int64_t r = x.rank();
  require(r >= 2 && x.dim(r - 1) == x.dim(r - 2),
          "Det input must be [..., M, M], got " + shape_to_string(x.shape()));
  const int64_t M = x.dim(r - 1);
  Shape out_shape(x.shape().begin(), x.shape().end() - 2);
  Tensor y = Tensor::allocate(x.type(), out_shape);
  std::vector<double> a(static_cast<size_t>(M * M));
  for (int64_t b = 0; b < y.numel(); ++b) {
    for (int64_t i = 0; i < M * M; ++i) a[static_cast<size_t>(i)] = get_double(x, b * M * M + i);
    // LU decomposition with partial pivoting.
    double d = 1.0;
    for (int64_t col = 0; col < M; ++col) {
      int64_t piv = col;
      for (int64_t row = col + 1; row < M; ++row)
        if (std::fabs(a[static_cast<size_t>(row * M + col)]) > std::fabs(a[static_cast<size_t>(piv * M + col)]))
          piv = row;
      if (piv != col) {
        for (int64_t k = 0; k < M; ++k) std::swap(a[static_cast<size_t>(col * M + k)], a[static_cast<size_t>(piv * M + k)]);
        d = -d;
      }
      const double p = a[static_cast<size_t>(col * M + col)];
      d *= p;
      if (p == 0.0) break;
      for (int64_t row = col + 1; row < M; ++row) {
        const double f = a[static_cast<size_t>(row * M + col)] / p;
        for (int64_t k = col; k < M; ++k) a[static_cast<size_t>(row * M + k)] -= f * a[static_cast<size_t>(col * M + k)];
      }
    }
    set_double(y, b, d);
  }
  ctx.set_output(0, y);
}

}  // namespace

void register_signal_kernels(KernelRegistry& r) {
  r.add("", "DFT", dft);
  r.add("", "STFT", stft);
  r.add("", "HannWindow", hann_window);
  r.add("", "HammingWindow", hamming_window);
  r.add("", "BlackmanWindow", blackman_window);
  r.add("", "MelWeightMatrix", mel_weight_matrix);
  r.add("", "GridSample", grid_sample);
  r.add("", "AffineGrid", affine_grid);
  r.add("", "RoiAlign", roi_align);
  r.add("", "NonMaxSuppression", non_max_suppression);
  r.add("", "DeformConv", deform_conv);
  r.add("", "Col2Im", col2im);
  r.add("", "CenterCropPad", center_crop_pad);
  r.add("", "CumProd", cum_prod);
  r.add("", "BitCast", bit_cast);
  r.add("", "TensorScatter", tensor_scatter);
  r.add("", "Det", det);
}

}  // namespace switchyard::reference
