// Switchyard's serialised segment (ZE_SWITCHYARD_GRAPH_FORMAT_SEGMENT): the bytes the
// Level Zero plugin hands to an NPU driver through ZE_extension_switchyard_graph.
// Header-only; shared by the plugin (writer) and the software NPU driver (reader).
//
// Layout (little-endian; str = u32 length + bytes):
//   "SYSEGMNT" u32 version(=1)
//   u32 num_values   { str name, i32 elem_type, i32 rank (-1 unknown), i64 dims[rank] (-1 dynamic) }
//   u32 num_nodes    { str op_type, str domain, i64 opset, u32 n_in, i32 in[], u32 n_out, i32 out[],
//                      u32 n_attr { str name, u8 type, payload } }
//       attribute payloads by type: 1 float f64 | 2 int i64 | 3 string str | 6 floats u32 n, f32[n]
//       | 7 ints u32 n, i64[n] | any other type: no payload (the driver refuses the node)
//   u32 num_inputs  i32[]      u32 num_outputs i32[]
//   u32 num_initializers { i32 value, i32 elem_type, i32 rank, i64 dims[rank], u64 size, bytes[size] }
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchyard::zeseg {

inline constexpr char kMagic[8] = {'S', 'Y', 'S', 'E', 'G', 'M', 'N', 'T'};
inline constexpr uint32_t kVersion = 1;

enum AttrType : uint8_t { kFloat = 1, kInt = 2, kString = 3, kFloats = 6, kInts = 7 };

struct Attr {
  std::string name;
  uint8_t type = 0;
  double f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

struct Value {
  std::string name;
  int32_t elem = 0;
  int32_t rank = -1;
  std::vector<int64_t> dims;
};

struct Node {
  std::string op_type, domain;
  int64_t opset = 0;
  std::vector<int32_t> inputs, outputs;
  std::vector<Attr> attrs;
  const Attr* attr(const std::string& n) const {
    for (const auto& a : attrs)
      if (a.name == n) return &a;
    return nullptr;
  }
};

struct Initializer {
  int32_t value = -1;
  int32_t elem = 0;
  std::vector<int64_t> dims;
  std::string bytes;
};

struct Segment {
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int32_t> inputs, outputs;
  std::vector<Initializer> initializers;
};

class Writer {
 public:
  std::string out;
  template <typename T>
  void pod(T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod<uint32_t>(static_cast<uint32_t>(s.size()));
    out.append(s);
  }
  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
};

class Reader {
 public:
  Reader(const void* p, size_t n) : p_(static_cast<const unsigned char*>(p)), n_(n) {}
  template <typename T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string str() {
    uint32_t n = pod<uint32_t>();
    need(n);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }
  const unsigned char* take(size_t n) {
    need(n);
    const unsigned char* r = p_ + pos_;
    pos_ += n;
    return r;
  }
  // A count of items each at least `min_bytes` long, bounded by what is left.
  uint32_t count(size_t min_bytes) {
    uint32_t n = pod<uint32_t>();
    if (min_bytes && n > (n_ - pos_) / min_bytes) throw std::runtime_error("segment: count " + std::to_string(n) + " exceeds the bytes left");
    return n;
  }
  size_t remaining() const { return n_ - pos_; }

 private:
  void need(size_t n) {
    if (n > n_ - pos_) throw std::runtime_error("segment: truncated at byte " + std::to_string(pos_));
  }
  const unsigned char* p_;
  size_t n_;
  size_t pos_ = 0;
};

inline void write_segment(const Segment& s, Writer& w) {
  w.raw(kMagic, 8);
  w.pod<uint32_t>(kVersion);
  w.pod<uint32_t>(static_cast<uint32_t>(s.values.size()));
  for (const auto& v : s.values) {
    w.str(v.name);
    w.pod<int32_t>(v.elem);
    w.pod<int32_t>(v.rank);
    for (int32_t d = 0; d < v.rank; ++d) w.pod<int64_t>(v.dims[static_cast<size_t>(d)]);
  }
  w.pod<uint32_t>(static_cast<uint32_t>(s.nodes.size()));
  for (const auto& n : s.nodes) {
    w.str(n.op_type);
    w.str(n.domain);
    w.pod<int64_t>(n.opset);
    w.pod<uint32_t>(static_cast<uint32_t>(n.inputs.size()));
    for (auto i : n.inputs) w.pod<int32_t>(i);
    w.pod<uint32_t>(static_cast<uint32_t>(n.outputs.size()));
    for (auto o : n.outputs) w.pod<int32_t>(o);
    w.pod<uint32_t>(static_cast<uint32_t>(n.attrs.size()));
    for (const auto& a : n.attrs) {
      w.str(a.name);
      w.pod<uint8_t>(a.type);
      switch (a.type) {
        case kFloat: w.pod<double>(a.f); break;
        case kInt: w.pod<int64_t>(a.i); break;
        case kString: w.str(a.s); break;
        case kFloats:
          w.pod<uint32_t>(static_cast<uint32_t>(a.floats.size()));
          for (float f : a.floats) w.pod<float>(f);
          break;
        case kInts:
          w.pod<uint32_t>(static_cast<uint32_t>(a.ints.size()));
          for (int64_t i : a.ints) w.pod<int64_t>(i);
          break;
        default: break;
      }
    }
  }
  w.pod<uint32_t>(static_cast<uint32_t>(s.inputs.size()));
  for (auto i : s.inputs) w.pod<int32_t>(i);
  w.pod<uint32_t>(static_cast<uint32_t>(s.outputs.size()));
  for (auto o : s.outputs) w.pod<int32_t>(o);
  w.pod<uint32_t>(static_cast<uint32_t>(s.initializers.size()));
  for (const auto& t : s.initializers) {
    w.pod<int32_t>(t.value);
    w.pod<int32_t>(t.elem);
    w.pod<int32_t>(static_cast<int32_t>(t.dims.size()));
    for (auto d : t.dims) w.pod<int64_t>(d);
    w.pod<uint64_t>(t.bytes.size());
    w.raw(t.bytes.data(), t.bytes.size());
  }
}

// Throws std::runtime_error naming what is wrong; checks every index against the tables.
inline Segment read_segment(const void* data, size_t size) {
  if (!data || size < 12) throw std::runtime_error("segment: too short");
  Reader r(data, size);
  if (std::memcmp(r.take(8), kMagic, 8) != 0) throw std::runtime_error("segment: bad magic (not a Switchyard segment)");
  uint32_t version = r.pod<uint32_t>();
  if (version != kVersion)
    throw std::runtime_error("segment: format version " + std::to_string(version) + ", this driver reads version " +
                             std::to_string(kVersion));
  Segment s;
  s.values.resize(r.count(12));
  for (auto& v : s.values) {
    v.name = r.str();
    v.elem = r.pod<int32_t>();
    v.rank = r.pod<int32_t>();
    if (v.rank < -1 || v.rank > 64) throw std::runtime_error("segment: value '" + v.name + "' has a bad rank");
    for (int32_t d = 0; d < v.rank; ++d) v.dims.push_back(r.pod<int64_t>());
  }
  const auto nv = static_cast<int32_t>(s.values.size());
  auto check = [&](int32_t id, bool allow_missing) {
    if ((id < 0 && !(allow_missing && id == -1)) || id >= nv)
      throw std::runtime_error("segment: value index " + std::to_string(id) + " out of range");
  };
  s.nodes.resize(r.count(24));
  for (auto& n : s.nodes) {
    n.op_type = r.str();
    n.domain = r.str();
    n.opset = r.pod<int64_t>();
    n.inputs.resize(r.count(4));
    for (auto& i : n.inputs) check(i = r.pod<int32_t>(), true);
    n.outputs.resize(r.count(4));
    for (auto& o : n.outputs) check(o = r.pod<int32_t>(), true);
    n.attrs.resize(r.count(5));
    for (auto& a : n.attrs) {
      a.name = r.str();
      a.type = r.pod<uint8_t>();
      switch (a.type) {
        case kFloat: a.f = r.pod<double>(); break;
        case kInt: a.i = r.pod<int64_t>(); break;
        case kString: a.s = r.str(); break;
        case kFloats:
          a.floats.resize(r.count(4));
          for (auto& f : a.floats) f = r.pod<float>();
          break;
        case kInts:
          a.ints.resize(r.count(8));
          for (auto& i : a.ints) i = r.pod<int64_t>();
          break;
        default: break;
      }
    }
  }
  s.inputs.resize(r.count(4));
  for (auto& i : s.inputs) check(i = r.pod<int32_t>(), false);
  s.outputs.resize(r.count(4));
  for (auto& o : s.outputs) check(o = r.pod<int32_t>(), false);
  s.initializers.resize(r.count(20));
  for (auto& t : s.initializers) {
    check(t.value = r.pod<int32_t>(), false);
    t.elem = r.pod<int32_t>();
    int32_t rank = r.pod<int32_t>();
    if (rank < 0 || rank > 64) throw std::runtime_error("segment: initializer with a bad rank");
    for (int32_t d = 0; d < rank; ++d) t.dims.push_back(r.pod<int64_t>());
    uint64_t n = r.pod<uint64_t>();
    if (n > r.remaining()) throw std::runtime_error("segment: initializer data truncated");
    const unsigned char* p = r.take(static_cast<size_t>(n));
    t.bytes.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
  if (r.remaining() != 0) throw std::runtime_error("segment: " + std::to_string(r.remaining()) + " trailing bytes");
  return s;
}

}  // namespace switchyard::zeseg
