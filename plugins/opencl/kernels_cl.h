// OpenCL plugin: the OpenCL C 1.2 kernel templates. Each template is one program source;
// the compiler specialises it for a node with -D macros (shapes, strides, attribute values),
// so every loop bound is a compile-time constant. Indices are 32-bit: the support query
// refuses tensors with 2^31 elements or more.
#pragma once

#include <cstdint>

namespace switchyard::opencl {

enum class Source : uint32_t {
  unary = 0,
  binary = 1,
  conv = 2,
  matmul = 3,
  pool = 4,
  batchnorm = 5,
  softmax = 6,
  reduce = 7,
  strided_copy = 8,
  gather = 9,
  pad = 10,
  resize = 11,
  count = 12
};

inline const char* kernel_source(Source s) {
  switch (s) {
    case Source::unary:
      return R"CLC(
// y = f(x), elementwise. OP selects f; P0/P1 are its parameters.
__kernel void unary(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  float v = x[i];
  float r;
#if OP == 0
  r = v;                                   /* copy */
#elif OP == 1
  r = fmax(v, 0.0f);                       /* Relu */
#elif OP == 2
  r = 1.0f / (1.0f + exp(-v));             /* Sigmoid */
#elif OP == 3
  r = tanh(v);                             /* Tanh */
#elif OP == 4
  r = fmin(fmax(v, P0), P1);               /* Clip */
#elif OP == 5
  r = fmax(0.0f, fmin(1.0f, P0 * v + P1)); /* HardSigmoid */
#elif OP == 6
  r = v * fmax(0.0f, fmin(1.0f, v / 6.0f + 0.5f)); /* HardSwish */
#elif OP == 7
  r = v < 0.0f ? P0 * v : v;               /* LeakyRelu */
#elif OP == 8
  r = exp(v);
#elif OP == 9
  r = log(v);
#elif OP == 10
  r = fabs(v);
#elif OP == 11
  r = -v;
#elif OP == 12
  r = sqrt(v);
#elif OP == 13
  r = 1.0f / v;                            /* Reciprocal */
#elif OP == 14
  r = floor(v);
#elif OP == 15
  r = ceil(v);
#elif OP == 16
  r = v < 0.0f ? P0 * (exp(v) - 1.0f) : v; /* Elu */
#elif OP == 17
  r = erf(v);
#elif OP == 18
  r = v > 20.0f ? v : log1p(exp(v));       /* Softplus */
#elif OP == 19
  r = v / (1.0f + exp(-v));                /* Swish-like x*sigmoid(x) (SiLU) */
#else
#error unknown unary OP
#endif
  y[i] = r;
}
)CLC";
    case Source::binary:
      return R"CLC(
// y = a OP b with numpy broadcasting: D0..D5 are the output dims (padded to rank 6),
// SA*/SB* the operands' strides (0 on broadcast dims).
__kernel void binary(__global const float* a, __global const float* b, __global float* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int r = i, ia = 0, ib = 0, c;
  c = r % D5; r /= D5; ia += c * SA5; ib += c * SB5;
  c = r % D4; r /= D4; ia += c * SA4; ib += c * SB4;
  c = r % D3; r /= D3; ia += c * SA3; ib += c * SB3;
  c = r % D2; r /= D2; ia += c * SA2; ib += c * SB2;
  c = r % D1; r /= D1; ia += c * SA1; ib += c * SB1;
  c = r;               ia += c * SA0; ib += c * SB0;
  float x = a[ia], z = b[ib];
#if OP == 0
  y[i] = x + z;
#elif OP == 1
  y[i] = x - z;
#elif OP == 2
  y[i] = x * z;
#elif OP == 3
  y[i] = x / z;
#elif OP == 4
  y[i] = pow(x, z);
#elif OP == 5
  y[i] = fmax(x, z);
#elif OP == 6
  y[i] = fmin(x, z);
#elif OP == 7
  y[i] = x < 0.0f ? x * z : x;  /* PRelu */
#else
#error unknown binary OP
#endif
}
)CLC";
    case Source::conv:
      return R"CLC(
// Direct convolution, NCHW, grouped (G groups of CG input / MG output channels), strided,
// dilated and padded; one work item per output element.
__kernel void conv(__global const float* x, __global const float* w, __global const float* bias,
                   __global float* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ow = i % OW; int t = i / OW;
  int oh = t % OH; t /= OH;
  int m = t % M;   int n = t / M;
  int g = m / MG;
#if HAS_BIAS
  float acc = bias[m];
#else
  float acc = 0.0f;
#endif
  int ih0 = oh * SH - PT, iw0 = ow * SW - PL;
  __global const float* xg = x + (n * C + g * CG) * (H * W);
  __global const float* wm = w + m * (CG * KH * KW);
  for (int c = 0; c < CG; ++c) {
    __global const float* xp = xg + c * (H * W);
    __global const float* wp = wm + c * (KH * KW);
    for (int kh = 0; kh < KH; ++kh) {
      int ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        int iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        acc += xp[ih * W + iw] * wp[kh * KW + kw];
      }
    }
  }
  y[i] = acc;
}
)CLC";
    case Source::matmul:
      return R"CLC(
// Y[b] = ALPHA * op(A[b]) x op(B[b]) (+ BETA * C). Each work item owns RB consecutive rows of
// one column: B is read once per RB rows (consecutive work items read consecutive columns, so
// GPU loads coalesce and CPU drivers vectorise across work items), A is broadcast. No local
// memory or barriers. offs holds each batch's element offsets into A and B.
#define RB 4
#if TRANS_A
#define AIDX(r, k) ((k) * M + (r))
#else
#define AIDX(r, k) ((r) * K + (k))
#endif
#if TRANS_B
#define BIDX(k, c) ((c) * K + (k))
#else
#define BIDX(k, c) ((k) * N + (c))
#endif
__kernel void matmul(__global const float* A, __global const float* B, __global const float* Cm,
                     __global float* Y, __global const int* offs) {
  int col = get_global_id(0), row0 = get_global_id(1) * RB, b = get_global_id(2);
  if (col >= N) return;
  __global const float* Ab = A + offs[2 * b];
  __global const float* Bb = B + offs[2 * b + 1];
  float acc[RB];
  for (int r = 0; r < RB; ++r) acc[r] = 0.0f;
  if (row0 + RB <= M) {
    for (int k = 0; k < K; ++k) {
      float bv = Bb[BIDX(k, col)];
      for (int r = 0; r < RB; ++r) acc[r] += Ab[AIDX(row0 + r, k)] * bv;
    }
  } else {
    for (int k = 0; k < K; ++k) {
      float bv = Bb[BIDX(k, col)];
      for (int r = 0; r < RB; ++r)
        if (row0 + r < M) acc[r] += Ab[AIDX(row0 + r, k)] * bv;
    }
  }
  for (int r = 0; r < RB; ++r) {
    int row = row0 + r;
    if (row >= M) break;
    float v = ALPHA * acc[r];
#if HAS_C
    v += BETA * Cm[row * CSM + col * CSN];
#endif
    Y[b * (M * N) + row * N + col] = v;
  }
}
)CLC";
    case Source::pool:
      return R"CLC(
// Max / average pooling over the last two dims (NC x H x W); one work item per output.
__kernel void pool(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ow = i % OW; int t = i / OW;
  int oh = t % OH; int nc = t / OH;
  __global const float* xp = x + nc * (H * W);
  int ih0 = oh * SH - PT, iw0 = ow * SW - PL;
#if IS_MAX
  float acc = -INFINITY;
#else
  float acc = 0.0f;
  int count = 0;
#endif
  for (int kh = 0; kh < KH; ++kh) {
    int ih = ih0 + kh * DH;
    for (int kw = 0; kw < KW; ++kw) {
      int iw = iw0 + kw * DW;
      bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
#if IS_MAX
      if (inside) acc = fmax(acc, xp[ih * W + iw]);
#else
      if (inside) acc += xp[ih * W + iw];
#if COUNT_PAD
      if (ih >= -PT && ih < H + PB && iw >= -PL && iw < W + PR) ++count;
#else
      if (inside) ++count;
#endif
#endif
    }
  }
#if IS_MAX
  y[i] = acc;
#else
  y[i] = count > 0 ? acc / (float)count : 0.0f;
#endif
}
)CLC";
    case Source::batchnorm:
      return R"CLC(
// Inference batch normalisation: channel c = (i / INNER) % C.
__kernel void batchnorm(__global const float* x, __global const float* scale, __global const float* bias,
                        __global const float* mean, __global const float* var, __global float* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int c = (i / INNER) % C;
  y[i] = (x[i] - mean[c]) * (scale[c] / sqrt(var[c] + EPS)) + bias[c];
}
)CLC";
    case Source::softmax:
      return R"CLC(
// Softmax / LogSoftmax along an axis of length L with INNER elements after it.
__kernel void softmax(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= OUTER * INNER) return;
  int o = i / INNER, in = i % INNER;
  int base = o * L * INNER + in;
  float mx = -INFINITY;
  for (int j = 0; j < L; ++j) mx = fmax(mx, x[base + j * INNER]);
  float sum = 0.0f;
  for (int j = 0; j < L; ++j) sum += exp(x[base + j * INNER] - mx);
#if LOG
  float ls = log(sum);
  for (int j = 0; j < L; ++j) y[base + j * INNER] = x[base + j * INNER] - mx - ls;
#else
  for (int j = 0; j < L; ++j) y[base + j * INNER] = exp(x[base + j * INNER] - mx) / sum;
#endif
}
)CLC";
    case Source::reduce:
      return R"CLC(
// Reduction: each work item owns one output; KD*/KS* are the kept dims and their input
// strides, RD*/RS* the reduced dims and strides (all padded to rank 6 with size 1).
__kernel void reduce(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= NOUT) return;
  int r = i, base = 0, c;
  c = r % KD5; r /= KD5; base += c * KS5;
  c = r % KD4; r /= KD4; base += c * KS4;
  c = r % KD3; r /= KD3; base += c * KS3;
  c = r % KD2; r /= KD2; base += c * KS2;
  c = r % KD1; r /= KD1; base += c * KS1;
  base += r * KS0;
#if OP == 2
  float acc = -INFINITY;
#elif OP == 3
  float acc = INFINITY;
#else
  float acc = 0.0f;
#endif
  for (int j = 0; j < RCOUNT; ++j) {
    int q = j, off = base;
    c = q % RD5; q /= RD5; off += c * RS5;
    c = q % RD4; q /= RD4; off += c * RS4;
    c = q % RD3; q /= RD3; off += c * RS3;
    c = q % RD2; q /= RD2; off += c * RS2;
    c = q % RD1; q /= RD1; off += c * RS1;
    off += q * RS0;
    float v = x[off];
#if OP == 2
    acc = fmax(acc, v);
#elif OP == 3
    acc = fmin(acc, v);
#else
    acc += v;
#endif
  }
#if OP == 1
  acc = acc / (float)RCOUNT;
#endif
  y[i] = acc;
}
)CLC";
    case Source::strided_copy:
      return R"CLC(
// y[DB + sum c_d * DS_d] = x[SB + sum c_d * SS_d] over a rank-6 box D0..D5. Transpose,
// Slice, Concat, Split and Expand are all this copy with different strides. T is the
// element storage type (by size).
__kernel void strided_copy(__global const T* x, __global T* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int r = i, s = SB, d = DB, c;
  c = r % D5; r /= D5; s += c * SS5; d += c * DS5;
  c = r % D4; r /= D4; s += c * SS4; d += c * DS4;
  c = r % D3; r /= D3; s += c * SS3; d += c * DS3;
  c = r % D2; r /= D2; s += c * SS2; d += c * DS2;
  c = r % D1; r /= D1; s += c * SS1; d += c * DS1;
  s += r * SS0; d += r * DS0;
  y[d] = x[s];
}
)CLC";
    case Source::gather:
      return R"CLC(
// Gather along an axis of length AXIS: output (o, j, in) = x[o, idx[j], in]; negative
// indices count from the end; an index out of range yields 0 (the ONNX result is undefined).
__kernel void gather(__global const T* x, __global const IT* idx, __global T* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int in = i % INNER; int t = i / INNER;
  int j = t % NIDX; int o = t / NIDX;
  long k = (long)idx[j];
  if (k < 0) k += AXIS;
  y[i] = (k >= 0 && k < AXIS) ? x[(o * AXIS + (int)k) * INNER + in] : (T)0;
}
)CLC";
    case Source::pad:
      return R"CLC(
// Pad over a rank-6 box: OD* output dims, ID* input dims, PB* leading pads (may be negative),
// MODE 0 constant (VAL), 1 edge, 2 reflect.
int src_coord(int o, int pb, int n, int* inside) {
  int c = o - pb;
  if (c >= 0 && c < n) return c;
#if MODE == 0
  *inside = 0;
  return 0;
#elif MODE == 1
  return c < 0 ? 0 : n - 1;
#else
  if (n == 1) return 0;
  int period = 2 * (n - 1);
  c = c % period;
  if (c < 0) c += period;
  return c < n ? c : period - c;
#endif
}
__kernel void pad(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int r = i, s = 0, inside = 1, c;
  c = r % OD5; r /= OD5; s += src_coord(c, PB5, ID5, &inside) * IS5;
  c = r % OD4; r /= OD4; s += src_coord(c, PB4, ID4, &inside) * IS4;
  c = r % OD3; r /= OD3; s += src_coord(c, PB3, ID3, &inside) * IS3;
  c = r % OD2; r /= OD2; s += src_coord(c, PB2, ID2, &inside) * IS2;
  c = r % OD1; r /= OD1; s += src_coord(c, PB1, ID1, &inside) * IS1;
  s += src_coord(r, PB0, ID0, &inside) * IS0;
  y[i] = inside ? x[s] : VAL;
}
)CLC";
    case Source::resize:
      return R"CLC(
// Resize of the last two dims (NC x IH x IW -> NC x OH x OW), nearest or bilinear.
// CT: coordinate transform (0 half_pixel, 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel,
// 4 tf_half_pixel_for_nearest); NM: nearest rounding (0 round_prefer_floor, 1 round_prefer_ceil,
// 2 floor, 3 ceil). SCH/SCW are the scales.
// out_len is the unrounded resized length (scale x input length), as the ONNX reference uses.
float src_pos(int o, int in_len, float out_len, float scale) {
#if CT == 0
  return ((float)o + 0.5f) / scale - 0.5f;
#elif CT == 1
  return (float)o / scale;
#elif CT == 2
  return out_len == 1.0f ? 0.0f : (float)o * (float)(in_len - 1) / (out_len - 1.0f);
#elif CT == 3
  return out_len > 1.0f ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
#else
  return ((float)o + 0.5f) / scale;
#endif
}
int nearest(float p, int n) {
#if NM == 0
  int k = (p == floor(p) + 0.5f) ? (int)floor(p) : (int)round(p);
#elif NM == 1
  int k = (p == floor(p) + 0.5f) ? (int)ceil(p) : (int)round(p);
#elif NM == 2
  int k = (int)floor(p);
#else
  int k = (int)ceil(p);
#endif
  return clamp(k, 0, n - 1);
}
__kernel void resize(__global const float* x, __global float* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ox = i % OW; int t = i / OW;
  int oy = t % OH; int nc = t / OH;
  __global const float* xp = x + nc * (IH * IW);
  float py = src_pos(oy, IH, OLH, SCH), px = src_pos(ox, IW, OLW, SCW);
#if LINEAR
  py = clamp(py, 0.0f, (float)(IH - 1));
  px = clamp(px, 0.0f, (float)(IW - 1));
  int y0 = (int)floor(py), x0 = (int)floor(px);
  int y1 = min(y0 + 1, IH - 1), x1 = min(x0 + 1, IW - 1);
  float ly = py - (float)y0, lx = px - (float)x0;
  float top = xp[y0 * IW + x0] * (1.0f - lx) + xp[y0 * IW + x1] * lx;
  float bot = xp[y1 * IW + x0] * (1.0f - lx) + xp[y1 * IW + x1] * lx;
  y[i] = top * (1.0f - ly) + bot * ly;
#else
  y[i] = xp[nearest(py, IH) * IW + nearest(px, IW)];
#endif
}
)CLC";
    default:
      return nullptr;
  }
}

inline const char* kernel_name(Source s) {
  static const char* names[] = {"unary", "binary", "conv", "matmul", "pool", "batchnorm",
                                "softmax", "reduce", "strided_copy", "gather", "pad", "resize"};
  auto i = static_cast<uint32_t>(s);
  return i < static_cast<uint32_t>(Source::count) ? names[i] : nullptr;
}

}  // namespace switchyard::opencl
