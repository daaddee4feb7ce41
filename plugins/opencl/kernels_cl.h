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
  conv_tiled = 12,
  dwconv = 13,
  cast = 14,
  count = 15
};

// Prepended to every program. Each compute-kernel tensor argument has a letter (A, B, C, D
// for inputs, Y for the output); -D<letter>_HALF=1 makes it a float16 buffer, read with
// vload_half and written with vstore_half_rte (OpenCL C 1.2 core: no cl_khr_fp16 needed).
// Arithmetic is float either way, so a float16 result is rounded once, when it is stored.
inline const char* kernel_prologue() {
  return R"CLC(
#ifndef A_HALF
#define A_HALF 0
#endif
#ifndef B_HALF
#define B_HALF 0
#endif
#ifndef C_HALF
#define C_HALF 0
#endif
#ifndef D_HALF
#define D_HALF 0
#endif
#ifndef Y_HALF
#define Y_HALF 0
#endif
#if A_HALF
#define TA half
#define LDA(p, i) vload_half((i), (p))
#else
#define TA float
#define LDA(p, i) ((p)[(i)])
#endif
#if B_HALF
#define TB half
#define LDB(p, i) vload_half((i), (p))
#else
#define TB float
#define LDB(p, i) ((p)[(i)])
#endif
#if C_HALF
#define TC half
#define LDC(p, i) vload_half((i), (p))
#else
#define TC float
#define LDC(p, i) ((p)[(i)])
#endif
#if D_HALF
#define TD half
#define LDD(p, i) vload_half((i), (p))
#else
#define TD float
#define LDD(p, i) ((p)[(i)])
#endif
#if Y_HALF
#define TY half
#define STY(p, i, v) vstore_half_rte((v), (i), (p))
#else
#define TY float
#define STY(p, i, v) ((p)[(i)] = (v))
#endif
// OpenCL's fmax/fmin/clamp return the other operand when one is NaN; ONNX's Max, Min, Clip,
// Relu, pooling and reductions propagate NaN, so every such kernel uses these instead.
float nan_max(float a, float b) { return (isnan(a) || isnan(b)) ? NAN : fmax(a, b); }
float nan_min(float a, float b) { return (isnan(a) || isnan(b)) ? NAN : fmin(a, b); }
)CLC";
}

inline const char* kernel_source(Source s) {
  switch (s) {
    case Source::unary:
      return R"CLC(
// y = f(x), elementwise. OP selects f; P0/P1 are its parameters.
__kernel void unary(__global const TA* x, __global TY* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  float v = LDA(x, i);
  float r;
#if OP == 0
  r = v;                                   /* copy */
#elif OP == 1
  r = nan_max(v, 0.0f);                    /* Relu */
#elif OP == 2
  r = 1.0f / (1.0f + exp(-v));             /* Sigmoid */
#elif OP == 3
  r = tanh(v);                             /* Tanh */
#elif OP == 4
  r = nan_min(nan_max(v, P0), P1);         /* Clip */
#elif OP == 5
  r = nan_max(0.0f, nan_min(1.0f, P0 * v + P1)); /* HardSigmoid */
#elif OP == 6
  r = v * nan_max(0.0f, nan_min(1.0f, v / 6.0f + 0.5f)); /* HardSwish */
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
  STY(y, i, r);
}
)CLC";
    case Source::binary:
      return R"CLC(
// y = a OP b with numpy broadcasting: D0..D5 are the output dims (padded to rank 6),
// SA*/SB* the operands' strides (0 on broadcast dims).
__kernel void binary(__global const TA* a, __global const TB* b, __global TY* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int r = i, ia = 0, ib = 0, c;
  c = r % D5; r /= D5; ia += c * SA5; ib += c * SB5;
  c = r % D4; r /= D4; ia += c * SA4; ib += c * SB4;
  c = r % D3; r /= D3; ia += c * SA3; ib += c * SB3;
  c = r % D2; r /= D2; ia += c * SA2; ib += c * SB2;
  c = r % D1; r /= D1; ia += c * SA1; ib += c * SB1;
  c = r;               ia += c * SA0; ib += c * SB0;
  float x = LDA(a, ia), z = LDB(b, ib), res;
#if OP == 0
  res = x + z;
#elif OP == 1
  res = x - z;
#elif OP == 2
  res = x * z;
#elif OP == 3
  res = x / z;
#elif OP == 4
  res = pow(x, z);
#elif OP == 5
  res = nan_max(x, z);
#elif OP == 6
  res = nan_min(x, z);
#elif OP == 7
  res = x < 0.0f ? x * z : x;  /* PRelu */
#else
#error unknown binary OP
#endif
  STY(y, i, res);
}
)CLC";
    case Source::conv:
      return R"CLC(
// Direct convolution, NCHW, grouped (G groups of CG input / MG output channels), strided,
// dilated and padded; one work item per output element. Used when the weights are not a
// compile-time initializer (conv_tiled needs them pre-transformed).
__kernel void conv(__global const TA* x, __global const TB* w, __global const TC* bias, __global TY* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ow = i % OW; int t = i / OW;
  int oh = t % OH; t /= OH;
  int m = t % M;   int n = t / M;
  int g = m / MG;
#if HAS_BIAS
  float acc = LDC(bias, m);
#else
  float acc = 0.0f;
#endif
  int ih0 = oh * SH - PT, iw0 = ow * SW - PL;
  int xg = (n * C + g * CG) * (H * W);
  int wm = m * (CG * KH * KW);
  for (int c = 0; c < CG; ++c) {
    int xp = xg + c * (H * W);
    int wp = wm + c * (KH * KW);
    for (int kh = 0; kh < KH; ++kh) {
      int ih = ih0 + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; ++kw) {
        int iw = iw0 + kw * DW;
        if (iw < 0 || iw >= W) continue;
        acc += LDA(x, xp + ih * W + iw) * LDB(w, wp + kh * KW + kw);
      }
    }
  }
  STY(y, i, acc);
}
)CLC";
    case Source::conv_tiled:
      return R"CLC(
// Register-blocked convolution (implicit GEMM), NCHW. Each work item computes VW output
// channels x TP output pixels of one image and group, accumulating TP private float vectors.
// The weights are pre-transformed at compile time (executable.cpp, transform "conv") into
// w[g][(c*KH + kh)*KW + kw][MGP], MGP = MG rounded up to VW with zero padding, so each
// step reads VW consecutive floats. Pixels past the end are clamped (computed, not stored).
// Tiles whose receptive fields lie inside the input (all of them with NOPAD, no padding) run
// a loop without bounds checks, each pixel's input offset computed once; border tiles check
// every input element.
// Global size: (ceil(OH*OW / TP), MGP / VW, N * G).
#if VW == 16
#define VT float16
#define VLOAD vload16
#define VSTORE_ACC(v, p) vstore16((v), 0, (p))
#elif VW == 8
#define VT float8
#define VLOAD vload8
#define VSTORE_ACC(v, p) vstore8((v), 0, (p))
#else
#define VT float4
#define VLOAD vload4
#define VSTORE_ACC(v, p) vstore4((v), 0, (p))
#endif
#define OHW (OH * OW)
#define KK (CG * KH * KW)
__kernel void conv_tiled(__global const TA* x, __global const float* w, __global const TC* bias, __global TY* y) {
  const int pt = get_global_id(0), mt = get_global_id(1), ng = get_global_id(2);
  const int g = ng % G, n = ng / G;
  const int m0 = mt * VW, p0 = pt * TP;
  if (p0 >= OHW || m0 >= MG) return;
  const int xg = (n * C + g * CG) * (H * W);
  __global const float* wg = w + g * (KK * MGP) + m0;
  VT acc[TP];
  int ihb[TP], iwb[TP], xo[TP];
  bool interior = true;  /* every receptive field of this tile inside the input */
  for (int j = 0; j < TP; ++j) {
    acc[j] = (VT)(0.0f);
    int p = min(p0 + j, OHW - 1);
    ihb[j] = (p / OW) * SH - PT;
    iwb[j] = (p % OW) * SW - PL;
    xo[j] = ihb[j] * W + iwb[j];
    interior = interior && ihb[j] >= 0 && ihb[j] + (KH - 1) * DH < H && iwb[j] >= 0 && iwb[j] + (KW - 1) * DW < W;
  }
#if !NOPAD
  if (!interior) {  /* border tiles: bounds checks per input element */
    for (int c = 0; c < CG; ++c) {
      const int xc = xg + c * (H * W);
      for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw) {
          VT wv = VLOAD(0, wg + ((c * KH + kh) * KW + kw) * MGP);
          for (int j = 0; j < TP; ++j) {
            int ih = ihb[j] + kh * DH, iw = iwb[j] + kw * DW;
            bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            float xv = LDA(x, xc + (inside ? ih * W + iw : 0));
            acc[j] = mad((VT)(inside ? xv : 0.0f), wv, acc[j]);
          }
        }
      }
    }
  } else
#endif
  {  /* no padding, or an interior tile: no checks, offsets computed once */
    for (int c = 0; c < CG; ++c) {
      const int xc = xg + c * (H * W);
      for (int kh = 0; kh < KH; ++kh) {
        for (int kw = 0; kw < KW; ++kw) {
          VT wv = VLOAD(0, wg + ((c * KH + kh) * KW + kw) * MGP);
          for (int j = 0; j < TP; ++j) acc[j] = mad((VT)(LDA(x, xc + xo[j] + kh * DH * W + kw * DW)), wv, acc[j]);
        }
      }
    }
  }
  float res[VW];
  for (int j = 0; j < TP; ++j) {
    int p = p0 + j;
    if (p >= OHW) break;
    VSTORE_ACC(acc[j], res);
    for (int v = 0; v < VW; ++v) {
      int m = m0 + v;
      if (m >= MG) break;
      int mm = g * MG + m;
#if HAS_BIAS
      float r = res[v] + LDC(bias, mm);
#else
      float r = res[v];
#endif
      STY(y, (n * M + mm) * OHW + p, r);
    }
  }
}
)CLC";
    case Source::dwconv:
      return R"CLC(
// Depthwise convolution (C == M == groups): each work item computes OWB consecutive outputs
// of one output row of one channel; the channel's KH x KW weights are read once.
// Global size: N * M * OH * ceil(OW / OWB).
#define OWT ((OW + OWB - 1) / OWB)
__kernel void dwconv(__global const TA* x, __global const TB* w, __global const TC* bias, __global TY* y) {
  int i = get_global_id(0);
  if (i >= N * M * OH * OWT) return;
  int owt = i % OWT; int t = i / OWT;
  int oh = t % OH; t /= OH;
  int m = t % M; int n = t / M;
  int ow0 = owt * OWB;
  float wk[KH * KW];
  for (int k = 0; k < KH * KW; ++k) wk[k] = LDB(w, m * (KH * KW) + k);
#if HAS_BIAS
  float b0 = LDC(bias, m);
#else
  float b0 = 0.0f;
#endif
  float acc[OWB];
  for (int j = 0; j < OWB; ++j) acc[j] = b0;
  int xp = (n * C + m) * (H * W);
  for (int kh = 0; kh < KH; ++kh) {
    int ih = oh * SH - PT + kh * DH;
    if (ih < 0 || ih >= H) continue;
    for (int kw = 0; kw < KW; ++kw) {
      float wv = wk[kh * KW + kw];
      for (int j = 0; j < OWB; ++j) {
        int iw = (ow0 + j) * SW - PL + kw * DW;
        bool inside = iw >= 0 && iw < W;
        float xv = LDA(x, xp + ih * W + (inside ? iw : 0));
        acc[j] = mad(inside ? xv : 0.0f, wv, acc[j]);
      }
    }
  }
  int yo = ((n * M + m) * OH + oh) * OW;
  for (int j = 0; j < OWB; ++j)
    if (ow0 + j < OW) STY(y, yo + ow0 + j, acc[j]);
}
)CLC";
    case Source::matmul:
      return R"CLC(
// Y[b] = ALPHA * op(A[b]) x op(B[b]) (+ BETA * C), register-blocked: each work item owns TM
// rows x VW consecutive columns, accumulating TM private float vectors; per k it reads one
// vector of B and TM scalars of A. B_PACKED: B is a compile-time initializer transformed to
// [K][NP] float (NP = N rounded up to VW, zero padded): always a plain vector load.
// Otherwise a vector load when the columns are contiguous (no transB, N % VW == 0), else an
// element-wise gather. Rows past M are clamped (computed, not stored). No local memory.
// offs holds each batch's element offsets into A and B.
#if VW == 16
#define VT float16
#define VLOAD vload16
#define VSTORE_ACC(v, p) vstore16((v), 0, (p))
#define VLOADH vload_half16
#elif VW == 8
#define VT float8
#define VLOAD vload8
#define VSTORE_ACC(v, p) vstore8((v), 0, (p))
#define VLOADH vload_half8
#else
#define VT float4
#define VLOAD vload4
#define VSTORE_ACC(v, p) vstore4((v), 0, (p))
#define VLOADH vload_half4
#endif
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
__kernel void matmul(__global const TA* A, __global const TB* B, __global const TC* Cm, __global TY* Y, __global const int* offs) {
  const int n0 = get_global_id(0) * VW, m0 = get_global_id(1) * TM, b = get_global_id(2);
  if (n0 >= N || m0 >= M) return;
  __global const TA* Ab = A + offs[2 * b];
  __global const TB* Bb = B + offs[2 * b + 1];
  VT acc[TM];
  int rows[TM];
  for (int r = 0; r < TM; ++r) {
    acc[r] = (VT)(0.0f);
    rows[r] = min(m0 + r, M - 1);
  }
#if B_PACKED
  for (int k = 0; k < K; ++k) {
    VT bv = VLOAD(0, (__global const float*)Bb + k * NP + n0);
    for (int r = 0; r < TM; ++r) acc[r] = mad((VT)(LDA(Ab, AIDX(rows[r], k))), bv, acc[r]);
  }
#else
#if !TRANS_B && (N % VW == 0)
  for (int k = 0; k < K; ++k) {
#if B_HALF
    VT bv = VLOADH(0, Bb + k * N + n0);
#else
    VT bv = VLOAD(0, Bb + k * N + n0);
#endif
    for (int r = 0; r < TM; ++r) acc[r] = mad((VT)(LDA(Ab, AIDX(rows[r], k))), bv, acc[r]);
  }
#else
  float tmp[VW];
  for (int k = 0; k < K; ++k) {
    for (int v = 0; v < VW; ++v) tmp[v] = LDB(Bb, BIDX(k, min(n0 + v, N - 1)));
    VT bv = VLOAD(0, tmp);
    for (int r = 0; r < TM; ++r) acc[r] = mad((VT)(LDA(Ab, AIDX(rows[r], k))), bv, acc[r]);
  }
#endif
#endif
  float res[VW];
  for (int r = 0; r < TM; ++r) {
    int row = m0 + r;
    if (row >= M) break;
    VSTORE_ACC(acc[r], res);
    for (int v = 0; v < VW; ++v) {
      int col = n0 + v;
      if (col >= N) break;
      float o = ALPHA * res[v];
#if HAS_C
      o += BETA * LDC(Cm, row * CSM + col * CSN);
#endif
      STY(Y, b * (M * N) + row * N + col, o);
    }
  }
}
)CLC";
    case Source::pool:
      return R"CLC(
// Max / average pooling over the last two dims (NC x H x W); one work item per output.
__kernel void pool(__global const TA* x, __global TY* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ow = i % OW; int t = i / OW;
  int oh = t % OH; int nc = t / OH;
  int xp = nc * (H * W);
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
      if (inside) acc = nan_max(acc, LDA(x, xp + ih * W + iw));
#else
      if (inside) acc += LDA(x, xp + ih * W + iw);
#if COUNT_PAD
      if (ih >= -PT && ih < H + PB && iw >= -PL && iw < W + PR) ++count;
#else
      if (inside) ++count;
#endif
#endif
    }
  }
#if IS_MAX
  STY(y, i, acc);
#else
  STY(y, i, count > 0 ? acc / (float)count : 0.0f);
#endif
}
)CLC";
    case Source::batchnorm:
      return R"CLC(
// Inference batch normalisation: channel c = (i / INNER) % C.
// A: x, B: scale and bias, C: mean and var.
__kernel void batchnorm(__global const TA* x, __global const TB* scale, __global const TB* bias,
                        __global const TC* mean, __global const TC* var, __global TY* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int c = (i / INNER) % C;
  STY(y, i, (LDA(x, i) - LDC(mean, c)) * (LDB(scale, c) / sqrt(LDC(var, c) + EPS)) + LDB(bias, c));
}
)CLC";
    case Source::softmax:
      return R"CLC(
// Softmax / LogSoftmax along an axis of length L with INNER elements after it.
__kernel void softmax(__global const TA* x, __global TY* y) {
  int i = get_global_id(0);
  if (i >= OUTER * INNER) return;
  int o = i / INNER, in = i % INNER;
  int base = o * L * INNER + in;
  float mx = -INFINITY;
  for (int j = 0; j < L; ++j) mx = fmax(mx, LDA(x, base + j * INNER));
  float sum = 0.0f;
  for (int j = 0; j < L; ++j) sum += exp(LDA(x, base + j * INNER) - mx);
#if LOG
  float ls = log(sum);
  for (int j = 0; j < L; ++j) STY(y, base + j * INNER, LDA(x, base + j * INNER) - mx - ls);
#else
  for (int j = 0; j < L; ++j) STY(y, base + j * INNER, exp(LDA(x, base + j * INNER) - mx) / sum);
#endif
}
)CLC";
    case Source::reduce:
      return R"CLC(
// Reduction: each work item owns one output; KD*/KS* are the kept dims and their input
// strides, RD*/RS* the reduced dims and strides (all padded to rank 6 with size 1).
__kernel void reduce(__global const TA* x, __global TY* y) {
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
    float v = LDA(x, off);
#if OP == 2
    acc = nan_max(acc, v);
#elif OP == 3
    acc = nan_min(acc, v);
#else
    acc += v;
#endif
  }
#if OP == 1
  acc = acc / (float)RCOUNT;
#endif
  STY(y, i, acc);
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
__kernel void pad(__global const TA* x, __global TY* y) {
  int i = get_global_id(0);
  if (i >= N) return;
  int r = i, s = 0, inside = 1, c;
  c = r % OD5; r /= OD5; s += src_coord(c, PB5, ID5, &inside) * IS5;
  c = r % OD4; r /= OD4; s += src_coord(c, PB4, ID4, &inside) * IS4;
  c = r % OD3; r /= OD3; s += src_coord(c, PB3, ID3, &inside) * IS3;
  c = r % OD2; r /= OD2; s += src_coord(c, PB2, ID2, &inside) * IS2;
  c = r % OD1; r /= OD1; s += src_coord(c, PB1, ID1, &inside) * IS1;
  s += src_coord(r, PB0, ID0, &inside) * IS0;
  float v = LDA(x, inside ? s : 0);
  STY(y, i, inside ? v : VAL);
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
__kernel void resize(__global const TA* x, __global TY* y) {
  int i = get_global_id(0);
  if (i >= TOTAL) return;
  int ox = i % OW; int t = i / OW;
  int oy = t % OH; int nc = t / OH;
  int xp = nc * (IH * IW);
  float py = src_pos(oy, IH, OLH, SCH), px = src_pos(ox, IW, OLW, SCW);
#if LINEAR
  py = clamp(py, 0.0f, (float)(IH - 1));
  px = clamp(px, 0.0f, (float)(IW - 1));
  int y0 = (int)floor(py), x0 = (int)floor(px);
  int y1 = min(y0 + 1, IH - 1), x1 = min(x0 + 1, IW - 1);
  float ly = py - (float)y0, lx = px - (float)x0;
  float top = LDA(x, xp + y0 * IW + x0) * (1.0f - lx) + LDA(x, xp + y0 * IW + x1) * lx;
  float bot = LDA(x, xp + y1 * IW + x0) * (1.0f - lx) + LDA(x, xp + y1 * IW + x1) * lx;
  STY(y, i, top * (1.0f - ly) + bot * ly);
#else
  STY(y, i, LDA(x, xp + nearest(py, IH) * IW + nearest(px, IW)));
#endif
}
)CLC";
    case Source::cast:
      return R"CLC(
// ONNX Cast between float32, float16, int32, int64, int8, uint8 and bool (storage types
// ST/DT; SK/DK the kinds: 0 float32, 1 float16, 2 signed int, 3 unsigned int, 4 bool).
// float -> int truncates toward zero and wraps modulo 2^bits (NaN/inf give 0), like the
// reference interpreter; int -> int wraps; anything -> bool is v != 0; int -> float16 is
// rounded once (round-to-odd to float, then round-to-nearest-even to half).
__kernel void cast(__global const ST* x, __global DT* y) {
  int i = get_global_id(0);
  if (i >= N) return;
#if SK <= 1
#if SK == 1
  float v = vload_half(i, x);
#else
  float v = x[i];
#endif
#if DK == 0
  y[i] = v;
#elif DK == 1
  vstore_half_rte(v, i, y);
#elif DK == 4
  y[i] = (v != 0.0f) ? 1 : 0;
#else
  long t = (isnan(v) || isinf(v)) ? 0 : convert_long_sat_rtz(v);
  y[i] = AS_DT((UDT)(ulong)t);
#endif
#else
  long v = (long)x[i];
#if DK == 0
  y[i] = (float)v;
#elif DK == 1
  float f = convert_float_rtz(v);
  if ((long)f != v) f = as_float(as_uint(f) | 1u); /* round to odd: exact half rounding below */
  vstore_half_rte(f, i, y);
#elif DK == 4
  y[i] = (v != 0) ? 1 : 0;
#else
  y[i] = AS_DT((UDT)(ulong)v);
#endif
#endif
}
)CLC";
    default:
      return nullptr;
  }
}

inline const char* kernel_name(Source s) {
  static const char* names[] = {"unary", "binary", "conv", "matmul", "pool", "batchnorm",
                                "softmax", "reduce", "strided_copy", "gather", "pad", "resize",
                                "conv_tiled", "dwconv", "cast"};
  auto i = static_cast<uint32_t>(s);
  return i < static_cast<uint32_t>(Source::count) ? names[i] : nullptr;
}

}  // namespace switchyard::opencl
