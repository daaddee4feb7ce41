// CPU plugin: copying a strided view into a row-major tensor (native.h: copy_strided), the
// data movement behind Slice, Split and Transpose.
//
// The view is simplified first: axes of extent 1 are dropped and neighbours that are
// contiguous in the source merged, so a channel shuffle ([N,g,C/g,H,W] -> [N,C/g,g,H,W])
// becomes rows of H*W elements. Rows contiguous in the source are copied with memcpy; a
// view whose unit-stride source axis is not the last (a transposition) is copied in tiles
// of that axis and the last one, so reads and writes both stay within a few cache lines.
#include <algorithm>
#include <cstring>

#include "native.h"

namespace switchyard::cpu::native {

namespace {

struct View {
  Shape dims;
  std::vector<int64_t> strides;  // source strides, in elements
};

View simplify(const Shape& dims, const std::vector<int64_t>& strides) {
  View v;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 1) continue;
    if (!v.dims.empty() && v.strides.back() == strides[d] * dims[d]) {
      v.dims.back() *= dims[d];
      v.strides.back() = strides[d];
    } else {
      v.dims.push_back(dims[d]);
      v.strides.push_back(strides[d]);
    }
  }
  if (v.dims.empty()) {
    v.dims = {1};
    v.strides = {1};
  }
  return v;
}

std::vector<int64_t> row_major(const Shape& dims) {
  std::vector<int64_t> st(dims.size());
  int64_t acc = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    st[i] = acc;
    acc *= dims[i];
  }
  return st;
}

// Calls f(src_offset, dst_offset) for every index of `dims` in row-major order.
template <typename F>
void for_each_index(const Shape& dims, const std::vector<int64_t>& src_st, const std::vector<int64_t>& dst_st, F&& f) {
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t s = 0, d = 0;
  for (;;) {
    f(s, d);
    size_t k = dims.size();
    for (; k > 0; --k) {
      const size_t a = k - 1;
      s += src_st[a];
      d += dst_st[a];
      if (++idx[a] < dims[a]) break;
      s -= src_st[a] * dims[a];
      d -= dst_st[a] * dims[a];
      idx[a] = 0;
    }
    if (k == 0) return;
  }
}

// Source rows (the last axis) are contiguous: one memcpy per row.
void copy_rows(const std::byte* src, const View& v, size_t elem, std::byte* dst) {
  const size_t r = v.dims.size() - 1;
  const size_t row = static_cast<size_t>(v.dims[r]) * elem;
  const Shape outer(v.dims.begin(), v.dims.begin() + static_cast<std::ptrdiff_t>(r));
  const std::vector<int64_t> src_st(v.strides.begin(), v.strides.begin() + static_cast<std::ptrdiff_t>(r));
  std::vector<int64_t> dst_st = row_major(outer);
  for (auto& s : dst_st) s *= v.dims[r];
  for_each_index(outer, src_st, dst_st, [&](int64_t s, int64_t d) {
    std::memcpy(dst + static_cast<size_t>(d) * elem, src + static_cast<size_t>(s) * elem, row);
  });
}

// One element of N bytes (a fixed-size memcpy compiles to a single move).
template <size_t N>
inline void move_element(std::byte* dst, int64_t di, const std::byte* src, int64_t si) {
  std::memcpy(dst + static_cast<size_t>(di) * N, src + static_cast<size_t>(si) * N, N);
}

// dst[a * dst_a + b] = src[a + b * src_b] for a < rows, b < cols, in tiles.
template <size_t N>
void transpose_block(const std::byte* src, int64_t rows, int64_t cols, int64_t src_b, std::byte* dst, int64_t dst_a) {
  constexpr int64_t kTile = 16;
  for (int64_t a0 = 0; a0 < rows; a0 += kTile)
    for (int64_t b0 = 0; b0 < cols; b0 += kTile) {
      const int64_t a1 = std::min(rows, a0 + kTile), b1 = std::min(cols, b0 + kTile);
      for (int64_t a = a0; a < a1; ++a)
        for (int64_t b = b0; b < b1; ++b) move_element<N>(dst, a * dst_a + b, src, a + b * src_b);
    }
}

// The source axis `j` has stride 1 and the last axis does not: tiles of (j, last).
template <size_t N>
void copy_transposed(const std::byte* src, const View& v, size_t j, std::byte* dst) {
  const size_t last = v.dims.size() - 1;
  const std::vector<int64_t> dst_full = row_major(v.dims);
  Shape outer;
  std::vector<int64_t> src_st, dst_st;
  for (size_t a = 0; a < last; ++a) {
    if (a == j) continue;
    outer.push_back(v.dims[a]);
    src_st.push_back(v.strides[a]);
    dst_st.push_back(dst_full[a]);
  }
  for_each_index(outer, src_st, dst_st, [&](int64_t s, int64_t d) {
    transpose_block<N>(src + static_cast<size_t>(s) * N, v.dims[j], v.dims[last], v.strides[last],
                       dst + static_cast<size_t>(d) * N, dst_full[j]);
  });
}

// Any other view: element by element along the last axis.
template <size_t N>
void copy_elements(const std::byte* src, const View& v, std::byte* dst) {
  const size_t r = v.dims.size() - 1;
  const int64_t n = v.dims[r], step = v.strides[r];
  const Shape outer(v.dims.begin(), v.dims.begin() + static_cast<std::ptrdiff_t>(r));
  const std::vector<int64_t> src_st(v.strides.begin(), v.strides.begin() + static_cast<std::ptrdiff_t>(r));
  std::vector<int64_t> dst_st = row_major(outer);
  for (auto& s : dst_st) s *= n;
  for_each_index(outer, src_st, dst_st, [&](int64_t s, int64_t d) {
    for (int64_t i = 0; i < n; ++i) move_element<N>(dst, d + i, src, s + i * step);
  });
}

template <size_t N>
void copy_view(const std::byte* src, const View& v, std::byte* dst) {
  const size_t last = v.dims.size() - 1;
  for (size_t j = 0; j < last; ++j)
    if (v.strides[j] == 1) return copy_transposed<N>(src, v, j, dst);
  copy_elements<N>(src, v, dst);
}

}  // namespace

void copy_strided(const std::byte* src, const Shape& dims, const std::vector<int64_t>& strides, size_t elem, std::byte* dst) {
  for (int64_t d : dims)
    if (d == 0) return;
  const View v = simplify(dims, strides);
  if (v.strides.back() == 1) return copy_rows(src, v, elem, dst);
  switch (elem) {
    case 1: return copy_view<1>(src, v, dst);
    case 2: return copy_view<2>(src, v, dst);
    case 4: return copy_view<4>(src, v, dst);
    case 8: return copy_view<8>(src, v, dst);
    case 16: return copy_view<16>(src, v, dst);
    default: throw_error(StatusCode::internal, "copy_strided: unsupported element size " + std::to_string(elem));
  }
}

}  // namespace switchyard::cpu::native
