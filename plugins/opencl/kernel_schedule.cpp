// OpenCL plugin: the serialized form of a KernelSchedule. Every field is bounds-checked on read and
// the bytes end with a 128-bit checksum of everything before it, so a corrupt or foreign
// blob is refused with Error(data_loss) before anything is built from it.
#include <cstring>

#include "kernels_cl.h"
#include "kernel_schedule.h"
#include "switchyard/hal/hash.h"

namespace switchyard::opencl {

namespace {

constexpr char kMagic[8] = {'S', 'Y', 'O', 'C', 'L', 'X', '\r', '\n'};

class Writer {
 public:
  void u8(uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  }
  void u64(uint64_t v) {
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  }
  void bytes(const void* p, size_t n) {
    u64(n);
    out.append(static_cast<const char*>(p), n);
  }
  void str(const std::string& s) { bytes(s.data(), s.size()); }
  std::string out;
};

class Reader {
 public:
  Reader(const unsigned char* p, size_t n) : p_(p), n_(n) {}
  void need(size_t k) const {
    if (k > n_ - pos_) throw_error(StatusCode::data_loss, "serialized OpenCL executable is truncated");
  }
  uint8_t u8() {
    need(1);
    return p_[pos_++];
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(p_[pos_ + b]) << (8 * b);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    need(8);
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b) v |= static_cast<uint64_t>(p_[pos_ + b]) << (8 * b);
    pos_ += 8;
    return v;
  }
  std::vector<uint8_t> bytes() {
    uint64_t n = u64();
    need(n);
    std::vector<uint8_t> v(p_ + pos_, p_ + pos_ + n);
    pos_ += n;
    return v;
  }
  std::string str() {
    auto b = bytes();
    return std::string(b.begin(), b.end());
  }
  // A count of items each at least `min_item` bytes long: refuses counts the data cannot hold.
  uint32_t count(size_t min_item) {
    uint32_t c = u32();
    if (min_item && c > (n_ - pos_) / min_item) throw_error(StatusCode::data_loss, "serialized OpenCL executable has a corrupt count");
    return c;
  }
  bool done() const { return pos_ == n_; }

 private:
  const unsigned char* p_;
  size_t n_;
  size_t pos_ = 0;
};

void corrupt(const std::string& what) { throw_error(StatusCode::data_loss, "serialized OpenCL executable is corrupt: " + what); }

void put_spec(Writer& w, const TensorSpec& t) {
  w.u32(static_cast<uint32_t>(t.elem_type));
  w.u32(static_cast<uint32_t>(t.dims.size()));
  for (auto d : t.dims) w.u64(static_cast<uint64_t>(d));
  w.u64(t.bytes);
}

void put_fingerprint(Writer& w, const GraphFingerprint& f) {
  w.u32(static_cast<uint32_t>(f.op_types.size()));
  for (const auto& op : f.op_types) w.str(op);
  w.u32(static_cast<uint32_t>(f.baked.size()));
  for (int32_t v : f.baked) w.u32(static_cast<uint32_t>(v));
  for (const auto& part : f.parts) {
    w.u64(part[0]);
    w.u64(part[1]);
  }
}

TensorSpec get_spec(Reader& r) {
  TensorSpec t;
  t.elem_type = static_cast<int32_t>(r.u32());
  uint32_t rank = r.u32();
  if (rank > kMaxKernelRank) corrupt("tensor rank");
  for (uint32_t i = 0; i < rank; ++i) {
    uint64_t d = r.u64();
    if (d >= (uint64_t{1} << 62)) corrupt("tensor dim");
    t.dims.push_back(static_cast<int64_t>(d));
  }
  t.bytes = r.u64();
  return t;
}

}  // namespace

float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f) bits = sign | 0x7f800000u | (man << 13);  // inf / NaN
  else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0) bits = sign;
  else {  // subnormal: normalise
    int e = -1;
    do {
      man <<= 1;
      ++e;
    } while (!(man & 0x400u));
    bits = sign | ((112 - e) << 23) | ((man & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::vector<float> derive_weight(const DerivedWeight& d, const Tensor& t) {
  auto fail = [&](const std::string& why) -> void { throw_error(StatusCode::data_loss, "derived weight: " + why); };
  if (t.type() != ElementType::float32 && t.type() != ElementType::float16) fail("initializer is not float32/float16");
  const bool half = t.type() == ElementType::float16;
  auto at = [&](int64_t i) { return half ? half_bits_to_float(t.data<uint16_t>()[i]) : t.data<float>()[i]; };
  const auto& p = d.params;
  std::vector<float> out;
  if (d.kind == DerivedWeight::conv) {
    if (p.size() != 6) fail("conv needs 6 parameters");
    const int64_t M = p[0], CG = p[1], KH = p[2], KW = p[3], G = p[4], VW = p[5];
    if (M <= 0 || CG <= 0 || KH <= 0 || KW <= 0 || G <= 0 || VW <= 0 || M % G || t.numel() != M * CG * KH * KW) fail("conv shape mismatch");
    const int64_t MG = M / G, MGP = (MG + VW - 1) / VW * VW, KK = CG * KH * KW;
    out.assign(static_cast<size_t>(G * KK * MGP), 0.0f);
    for (int64_t g = 0; g < G; ++g)
      for (int64_t m = 0; m < MG; ++m)
        for (int64_t k = 0; k < KK; ++k) out[static_cast<size_t>((g * KK + k) * MGP + m)] = at((g * MG + m) * KK + k);
  } else if (d.kind == DerivedWeight::matrix) {
    if (p.size() != 4) fail("matrix needs 4 parameters");
    const int64_t K = p[0], N = p[1], trans = p[2], NP = p[3];
    if (K <= 0 || N <= 0 || NP < N || t.numel() != K * N) fail("matrix shape mismatch");
    out.assign(static_cast<size_t>(K * NP), 0.0f);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) out[static_cast<size_t>(k * NP + n)] = at(trans ? n * K + k : k * N + n);
  } else {
    fail("unknown kind");
  }
  return out;
}

std::string serialize_schedule(const KernelSchedule& schedule, const std::string& identity) {
  Writer w;
  w.out.append(kMagic, sizeof kMagic);
  w.u32(kFormatVersion);
  w.str(identity);
  w.u32(schedule.num_nodes);
  w.u32(schedule.num_values);
  w.u32(static_cast<uint32_t>(schedule.programs.size()));
  for (const auto& p : schedule.programs) {
    w.u32(p.source);
    w.str(p.options);
    w.bytes(p.binary.data(), p.binary.size());
  }
  w.u32(static_cast<uint32_t>(schedule.launches.size()));
  for (const auto& l : schedule.launches) {
    w.u32(l.program);
    w.u32(static_cast<uint32_t>(l.args.size()));
    for (const auto& a : l.args) {
      w.u8(a.kind);
      w.u32(static_cast<uint32_t>(a.index));
    }
    w.u32(l.work_dims);
    for (int d = 0; d < 3; ++d) w.u64(l.global[d]);
    for (int d = 0; d < 3; ++d) w.u64(l.local[d]);
    w.str(l.node);
  }
  w.u32(static_cast<uint32_t>(schedule.bindings.size()));
  for (const auto& b : schedule.bindings) {
    w.u8(b.kind);
    w.u32(static_cast<uint32_t>(b.index));
  }
  w.u32(static_cast<uint32_t>(schedule.slot_bytes.size()));
  for (auto s : schedule.slot_bytes) w.u64(s);
  w.u32(static_cast<uint32_t>(schedule.aux.size()));
  for (const auto& a : schedule.aux) w.bytes(a.data(), a.size());
  w.u32(static_cast<uint32_t>(schedule.inputs.size()));
  for (const auto& t : schedule.inputs) put_spec(w, t);
  w.u32(static_cast<uint32_t>(schedule.outputs.size()));
  for (const auto& t : schedule.outputs) put_spec(w, t);
  w.u32(static_cast<uint32_t>(schedule.copies.size()));
  for (const auto& c : schedule.copies) {
    w.u32(static_cast<uint32_t>(c.output));
    w.u32(static_cast<uint32_t>(c.value));
  }
  w.u32(static_cast<uint32_t>(schedule.derived.size()));
  for (const auto& d : schedule.derived) {
    w.u32(static_cast<uint32_t>(d.value));
    w.u32(d.kind);
    w.u32(static_cast<uint32_t>(d.params.size()));
    for (auto v : d.params) w.u64(static_cast<uint64_t>(v));
  }
  put_fingerprint(w, schedule.fingerprint);
  Hasher h;
  h.update(w.out.data(), w.out.size());
  uint64_t digest[2];
  h.digest(digest);
  w.u64(digest[0]);
  w.u64(digest[1]);
  return w.out;
}

namespace {

// Magic, checksum, format version and device identity; returns a reader over the body.
Reader open_serialized(const unsigned char* p, size_t size, const std::string& identity) {
  if (!p || size < sizeof kMagic + 16 || std::memcmp(p, kMagic, sizeof kMagic) != 0)
    throw_error(StatusCode::data_loss, "not a serialized OpenCL executable (bad magic)");
  {
    Hasher h;
    h.update(p, size - 16);
    uint64_t digest[2];
    h.digest(digest);
    Reader tail(p + size - 16, 16);
    if (tail.u64() != digest[0] || tail.u64() != digest[1])
      throw_error(StatusCode::data_loss, "serialized OpenCL executable is corrupt (checksum mismatch)");
  }
  Reader r(p + sizeof kMagic, size - sizeof kMagic - 16);
  uint32_t version = r.u32();
  if (version != kFormatVersion)
    throw_error(StatusCode::data_loss, "serialized OpenCL executable has format version " + std::to_string(version) + ", this plugin reads " +
                                           std::to_string(kFormatVersion));
  std::string id = r.str();
  if (id != identity)
    throw_error(StatusCode::data_loss, "serialized OpenCL executable was built for another device ('" + id + "'), this is '" + identity + "'");
  return r;
}

Launch read_launch(Reader& r, const KernelSchedule& schedule) {
  Launch l;
  l.program = r.u32();
  if (l.program >= schedule.programs.size()) corrupt("program index");
  uint32_t na = r.count(5);
  if (na > 16) corrupt("argument count");
  for (uint32_t a = 0; a < na; ++a) {
    ArgRef ar;
    uint8_t k = r.u8();
    if (k > ArgRef::derived) corrupt("argument kind");
    ar.kind = static_cast<ArgRef::Kind>(k);
    ar.index = static_cast<int32_t>(r.u32());
    l.args.push_back(ar);
  }
  l.work_dims = r.u32();
  if (l.work_dims < 1 || l.work_dims > 3) corrupt("work dims");
  for (int d = 0; d < 3; ++d) l.global[d] = r.u64();
  for (int d = 0; d < 3; ++d) l.local[d] = r.u64();
  for (int d = 0; d < 3; ++d)
    if (l.global[d] > (uint64_t{1} << 40) || l.local[d] > 4096) corrupt("work size");
  l.node = r.str();
  return l;
}

DerivedWeight read_derived_weight(Reader& r) {
  DerivedWeight d;
  d.value = static_cast<int32_t>(r.u32());
  d.kind = r.u32();
  if (d.kind >= DerivedWeight::count) corrupt("derived weight kind");
  uint32_t np = r.count(8);
  if (np > 8) corrupt("derived weight parameters");
  for (uint32_t k = 0; k < np; ++k) {
    uint64_t v = r.u64();
    if (v >= (uint64_t{1} << 40)) corrupt("derived weight parameter");
    d.params.push_back(static_cast<int64_t>(v));
  }
  return d;
}

// Programs, launches and value bindings, in the order serialize_schedule writes them.
void read_programs_and_launches(Reader& r, KernelSchedule& schedule) {
  uint32_t np = r.count(20);
  for (uint32_t i = 0; i < np; ++i) {
    ProgramSpec ps;
    ps.source = r.u32();
    if (ps.source >= static_cast<uint32_t>(Source::count)) corrupt("kernel template index");
    ps.options = r.str();
    ps.binary = r.bytes();
    schedule.programs.push_back(std::move(ps));
  }
  uint32_t nl = r.count(64);
  for (uint32_t i = 0; i < nl; ++i) schedule.launches.push_back(read_launch(r, schedule));
  uint32_t nb = r.count(5);
  if (nb != schedule.num_values) corrupt("binding count");
  for (uint32_t i = 0; i < nb; ++i) {
    Binding b;
    uint8_t k = r.u8();
    if (k > Binding::constant) corrupt("binding kind");
    b.kind = static_cast<Binding::Kind>(k);
    b.index = static_cast<int32_t>(r.u32());
    schedule.bindings.push_back(b);
  }
}

// Slots, constants, input and output specs, output copies and derived weights.
void read_buffers_and_specs(Reader& r, KernelSchedule& schedule) {
  uint32_t ns = r.count(8);
  for (uint32_t i = 0; i < ns; ++i) schedule.slot_bytes.push_back(r.u64());
  uint32_t nx = r.count(8);
  for (uint32_t i = 0; i < nx; ++i) schedule.aux.push_back(r.bytes());
  uint32_t ni = r.count(16);
  for (uint32_t i = 0; i < ni; ++i) schedule.inputs.push_back(get_spec(r));
  uint32_t no = r.count(16);
  for (uint32_t i = 0; i < no; ++i) schedule.outputs.push_back(get_spec(r));
  uint32_t nc = r.count(8);
  for (uint32_t i = 0; i < nc; ++i) {
    OutputCopy c;
    c.output = static_cast<int32_t>(r.u32());
    c.value = static_cast<int32_t>(r.u32());
    schedule.copies.push_back(c);
  }
  uint32_t nd = r.count(12);
  for (uint32_t i = 0; i < nd; ++i) schedule.derived.push_back(read_derived_weight(r));
}

// The fingerprint of the graph the schedule was lowered from: one op type per node, the baked
// initializers (value ids, ascending) and the part digests.
GraphFingerprint read_fingerprint(Reader& r, const KernelSchedule& schedule) {
  GraphFingerprint f;
  uint32_t nops = r.count(8);
  if (nops != schedule.num_nodes) corrupt("fingerprint node count");
  for (uint32_t i = 0; i < nops; ++i) f.op_types.push_back(r.str());
  uint32_t nbaked = r.count(4);
  for (uint32_t i = 0; i < nbaked; ++i) {
    f.baked.push_back(static_cast<int32_t>(r.u32()));
    if (f.baked.back() < 0 || static_cast<uint32_t>(f.baked.back()) >= schedule.num_values || (i && f.baked[i - 1] >= f.baked[i]))
      corrupt("baked initializer");
  }
  for (auto& part : f.parts) {
    part[0] = r.u64();
    part[1] = r.u64();
  }
  return f;
}

// Every index the schedule holds points into what it holds.
void check_cross_references(const KernelSchedule& schedule) {
  auto check_value = [&](int32_t v) {
    if (v < 0 || static_cast<uint32_t>(v) >= schedule.num_values) corrupt("value index");
  };
  for (size_t v = 0; v < schedule.bindings.size(); ++v) {
    const Binding& b = schedule.bindings[v];
    switch (b.kind) {
      case Binding::input: if (b.index < 0 || static_cast<size_t>(b.index) >= schedule.inputs.size()) corrupt("input binding"); break;
      case Binding::initializer: check_value(b.index); break;
      case Binding::slot: if (b.index < 0 || static_cast<size_t>(b.index) >= schedule.slot_bytes.size()) corrupt("slot binding"); break;
      case Binding::alias: check_value(b.index); break;
      case Binding::output: if (b.index < 0 || static_cast<size_t>(b.index) >= schedule.outputs.size()) corrupt("output binding"); break;
      case Binding::constant: if (b.index < 0 || static_cast<size_t>(b.index) >= schedule.aux.size()) corrupt("constant binding"); break;
      default: break;
    }
  }
  for (const auto& l : schedule.launches)
    for (const auto& a : l.args) {
      if (a.kind == ArgRef::value) check_value(a.index);
      else if (a.kind == ArgRef::derived) {
        if (a.index < 0 || static_cast<size_t>(a.index) >= schedule.derived.size()) corrupt("derived weight index");
      } else if (a.index < 0 || static_cast<size_t>(a.index) >= schedule.aux.size()) corrupt("aux index");
    }
  for (const auto& d : schedule.derived) check_value(d.value);
  for (const auto& c : schedule.copies) {
    check_value(c.value);
    if (c.output < 0 || static_cast<size_t>(c.output) >= schedule.outputs.size()) corrupt("output copy");
  }
}

}  // namespace

KernelSchedule parse_schedule(const void* data, size_t size, const std::string& identity) {
  Reader r = open_serialized(static_cast<const unsigned char*>(data), size, identity);
  KernelSchedule schedule;
  schedule.num_nodes = r.u32();
  schedule.num_values = r.u32();
  read_programs_and_launches(r, schedule);
  read_buffers_and_specs(r, schedule);
  schedule.fingerprint = read_fingerprint(r, schedule);
  if (!r.done()) corrupt("trailing bytes");
  check_cross_references(schedule);
  return schedule;
}

}  // namespace switchyard::opencl
