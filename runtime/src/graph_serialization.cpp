// Graph IR <-> bytes for the plan cache.
#include "switchyard/runtime/graph_serialization.h"

#include <algorithm>
#include <cstring>

namespace switchyard {

namespace {
[[noreturn]] void corrupt(const std::string& what) { throw_error(StatusCode::data_loss, "cached graph is corrupt: " + what); }
constexpr size_t kAlign = 64;
}  // namespace

const unsigned char* ByteReader::take(size_t n) {
  if (n > size_ - pos_) corrupt("truncated");
  const unsigned char* p = p_ + pos_;
  pos_ += n;
  return p;
}
uint8_t ByteReader::u8() { return *take(1); }
uint32_t ByteReader::u32() {
  uint32_t v;
  std::memcpy(&v, take(4), 4);
  return v;
}
uint64_t ByteReader::u64() {
  uint64_t v;
  std::memcpy(&v, take(8), 8);
  return v;
}
int64_t ByteReader::i64() {
  int64_t v;
  std::memcpy(&v, take(8), 8);
  return v;
}
double ByteReader::f64() {
  double v;
  std::memcpy(&v, take(8), 8);
  return v;
}
std::string ByteReader::str() {
  uint64_t n = u64();
  if (n > remaining()) corrupt("string length beyond the data");
  const unsigned char* p = take(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}
size_t ByteReader::count(size_t min_item_bytes) {
  uint64_t n = u64();
  if (min_item_bytes == 0) min_item_bytes = 1;
  if (n > remaining() / min_item_bytes) corrupt("item count beyond the data");
  return static_cast<size_t>(n);
}

namespace {

void write_type(ByteWriter& w, const ValueType& t) {
  w.u8(static_cast<uint8_t>(t.kind));
  w.u32(static_cast<uint32_t>(t.tensor.elem));
  w.u8(t.tensor.shape ? 1 : 0);
  if (t.tensor.shape) {
    w.u64(t.tensor.shape->size());
    for (const auto& d : *t.tensor.shape) {
      w.i64(d.value);
      w.str(d.symbol);
    }
  }
  w.u8(t.element ? 1 : 0);
  if (t.element) write_type(w, *t.element);
}

ValueType read_type(ByteReader& r, int depth) {
  if (depth > 16) corrupt("type nesting too deep");
  ValueType t;
  uint8_t kind = r.u8();
  if (kind > static_cast<uint8_t>(ValueType::Kind::map)) corrupt("bad value kind");
  t.kind = static_cast<ValueType::Kind>(kind);
  auto elem = element_type_from_int(static_cast<int32_t>(r.u32()));
  if (!elem) corrupt("bad element type");
  t.tensor.elem = *elem;
  if (r.u8()) {
    size_t n = r.count(16);
    t.tensor.shape.emplace();
    for (size_t i = 0; i < n; ++i) {
      Dim d;
      d.value = r.i64();
      d.symbol = r.str();
      t.tensor.shape->push_back(std::move(d));
    }
  }
  if (r.u8()) t.element = std::make_shared<ValueType>(read_type(r, depth + 1));
  return t;
}

void write_tensor(ByteWriter& w, BlobWriter& blob, const Tensor& t) {
  w.u32(static_cast<uint32_t>(t.type()));
  w.u64(t.shape().size());
  for (int64_t d : t.shape()) w.i64(d);
  if (t.type() == ElementType::string) {
    for (const auto& s : t.strings()) w.str(s);
    return;
  }
  blob.align(kAlign);
  w.u64(blob.size());
  w.u64(t.byte_size());
  blob.append(t.raw(), t.byte_size());
}

Tensor read_tensor(ByteReader& r, const unsigned char* blob, size_t blob_size, const std::shared_ptr<const void>& keep) {
  auto type = element_type_from_int(static_cast<int32_t>(r.u32()));
  if (!type || *type == ElementType::undefined) corrupt("bad tensor element type");
  size_t rank = r.count(8);
  if (rank > 64) corrupt("tensor rank too large");
  Shape shape;
  for (size_t i = 0; i < rank; ++i) {
    int64_t d = r.i64();
    if (d < 0) corrupt("negative tensor dimension");
    shape.push_back(d);
  }
  auto numel = shape_numel(shape);
  if (!numel) corrupt("tensor shape overflows");
  if (*type == ElementType::string) {
    if (static_cast<uint64_t>(*numel) > r.remaining() / 8) corrupt("string count beyond the data");
    std::vector<std::string> s;
    for (int64_t i = 0; i < *numel; ++i) s.push_back(r.str());
    return Tensor::from_strings(shape, std::move(s));
  }
  uint64_t offset = r.u64(), size = r.u64();
  if (offset > blob_size || size > blob_size - offset) corrupt("tensor data lies outside the blob section");
  auto need = storage_bytes(*type, *numel);
  if (!need || *need != size) corrupt("tensor byte count does not match its shape");
  static const unsigned char kEmpty[1] = {0};
  return Tensor::wrap(*type, shape, keep, size ? blob + offset : kEmpty, size);
}

void write_graph(ByteWriter& w, BlobWriter& blob, const Graph& g);

void write_attribute(ByteWriter& w, BlobWriter& blob, const Attribute& a) {
  w.str(a.name);
  w.u8(static_cast<uint8_t>(a.type));
  switch (a.type) {
    case Attribute::Type::floating: w.f64(a.f); break;
    case Attribute::Type::integer: w.i64(a.i); break;
    case Attribute::Type::string: w.str(a.s); break;
    case Attribute::Type::tensor: write_tensor(w, blob, a.t); break;
    case Attribute::Type::graph: write_graph(w, blob, *a.g); break;
    case Attribute::Type::floats:
      w.u64(a.floats.size());
      for (float f : a.floats) w.f64(f);
      break;
    case Attribute::Type::ints:
      w.u64(a.ints.size());
      for (int64_t i : a.ints) w.i64(i);
      break;
    case Attribute::Type::strings:
      w.u64(a.strings.size());
      for (const auto& s : a.strings) w.str(s);
      break;
    case Attribute::Type::tensors:
      w.u64(a.tensors.size());
      for (const auto& t : a.tensors) write_tensor(w, blob, t);
      break;
    case Attribute::Type::graphs:
      w.u64(a.graphs.size());
      for (const auto& sg : a.graphs) write_graph(w, blob, *sg);
      break;
    case Attribute::Type::type_proto:
    case Attribute::Type::type_protos:
      w.u64(a.type_protos.size());
      for (const auto& t : a.type_protos) write_type(w, t);
      break;
    case Attribute::Type::undefined: break;
  }
}

Graph read_graph(ByteReader& r, const unsigned char* blob, size_t blob_size, const std::shared_ptr<const void>& keep, int depth);

Attribute read_attribute(ByteReader& r, const unsigned char* blob, size_t blob_size, const std::shared_ptr<const void>& keep, int depth) {
  Attribute a;
  a.name = r.str();
  uint8_t type = r.u8();
  if (type > static_cast<uint8_t>(Attribute::Type::type_protos)) corrupt("bad attribute type");
  a.type = static_cast<Attribute::Type>(type);
  switch (a.type) {
    case Attribute::Type::floating: a.f = static_cast<float>(r.f64()); break;
    case Attribute::Type::integer: a.i = r.i64(); break;
    case Attribute::Type::string: a.s = r.str(); break;
    case Attribute::Type::tensor: a.t = read_tensor(r, blob, blob_size, keep); break;
    case Attribute::Type::graph: a.g = std::make_shared<Graph>(read_graph(r, blob, blob_size, keep, depth + 1)); break;
    case Attribute::Type::floats: {
      size_t n = r.count(8);
      for (size_t i = 0; i < n; ++i) a.floats.push_back(static_cast<float>(r.f64()));
      break;
    }
    case Attribute::Type::ints: {
      size_t n = r.count(8);
      for (size_t i = 0; i < n; ++i) a.ints.push_back(r.i64());
      break;
    }
    case Attribute::Type::strings: {
      size_t n = r.count(8);
      for (size_t i = 0; i < n; ++i) a.strings.push_back(r.str());
      break;
    }
    case Attribute::Type::tensors: {
      size_t n = r.count(12);
      for (size_t i = 0; i < n; ++i) a.tensors.push_back(read_tensor(r, blob, blob_size, keep));
      break;
    }
    case Attribute::Type::graphs: {
      size_t n = r.count(8);
      for (size_t i = 0; i < n; ++i) a.graphs.push_back(std::make_shared<Graph>(read_graph(r, blob, blob_size, keep, depth + 1)));
      break;
    }
    case Attribute::Type::type_proto:
    case Attribute::Type::type_protos: {
      size_t n = r.count(6);
      for (size_t i = 0; i < n; ++i) a.type_protos.push_back(read_type(r, 0));
      break;
    }
    case Attribute::Type::undefined: break;
  }
  return a;
}

void write_ids(ByteWriter& w, const std::vector<int32_t>& ids) {
  w.u64(ids.size());
  for (int32_t id : ids) w.u32(static_cast<uint32_t>(id));
}

std::vector<int32_t> read_ids(ByteReader& r, size_t num_values) {
  size_t n = r.count(4);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) {
    id = static_cast<int32_t>(r.u32());
    if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= num_values)) corrupt("value index out of range");
  }
  return ids;
}

void write_graph(ByteWriter& w, BlobWriter& blob, const Graph& g) {
  w.str(g.name);
  w.u64(g.opsets.size());
  for (const auto& o : g.opsets) {
    w.str(o.domain);
    w.i64(o.version);
  }
  w.u64(g.values.size());
  for (const auto& v : g.values) {
    w.str(v.name);
    write_type(w, v.type);
  }
  w.u64(g.nodes.size());
  for (const auto& n : g.nodes) {
    w.str(n.name);
    w.str(n.domain);
    w.str(n.op_type);
    w.i64(n.opset);
    write_ids(w, n.inputs);
    write_ids(w, n.outputs);
    w.u64(n.attributes.size());
    for (const auto& a : n.attributes) write_attribute(w, blob, a);
  }
  write_ids(w, g.inputs);
  write_ids(w, g.outputs);
  w.u64(g.initializers.size());
  for (const auto& [id, t] : g.initializers) {
    w.u32(static_cast<uint32_t>(id));
    write_tensor(w, blob, t);
  }
}

Graph read_graph(ByteReader& r, const unsigned char* blob, size_t blob_size, const std::shared_ptr<const void>& keep, int depth) {
  if (depth > 32) corrupt("graph nesting too deep");
  Graph g;
  g.name = r.str();
  size_t no = r.count(16);
  for (size_t i = 0; i < no; ++i) {
    OpsetImport o;
    o.domain = r.str();
    o.version = r.i64();
    g.opsets.push_back(std::move(o));
  }
  size_t nv = r.count(16);
  g.values.reserve(nv);
  for (size_t i = 0; i < nv; ++i) {
    ValueInfo v;
    v.name = r.str();
    v.type = read_type(r, 0);
    g.values.push_back(std::move(v));
  }
  size_t nn = r.count(40);
  g.nodes.reserve(nn);
  for (size_t i = 0; i < nn; ++i) {
    Node n;
    n.name = r.str();
    n.domain = r.str();
    n.op_type = r.str();
    n.opset = r.i64();
    n.inputs = read_ids(r, nv);
    n.outputs = read_ids(r, nv);
    size_t na = r.count(9);
    for (size_t k = 0; k < na; ++k) n.attributes.push_back(read_attribute(r, blob, blob_size, keep, depth));
    g.nodes.push_back(std::move(n));
  }
  g.inputs = read_ids(r, nv);
  g.outputs = read_ids(r, nv);
  size_t ni = r.count(16);
  for (size_t i = 0; i < ni; ++i) {
    uint32_t id = r.u32();
    if (id >= nv) corrupt("initializer index out of range");
    g.initializers[static_cast<int32_t>(id)] = read_tensor(r, blob, blob_size, keep);
  }
  return g;
}

}  // namespace

void serialize_graph(const Graph& graph, ByteWriter& meta, BlobWriter& blob) { write_graph(meta, blob, graph); }

Result<Graph> deserialize_graph(ByteReader& meta, const unsigned char* blob, size_t blob_size, std::shared_ptr<const void> keepalive) {
  try {
    return read_graph(meta, blob, blob_size, keepalive, 0);
  } catch (const Error& e) {
    return e.status();
  }
}

}  // namespace switchyard

namespace switchyard {

void BlobWriter::align(size_t alignment) {
  static const char kZeros[256] = {};
  size_t pad = (alignment - size_ % alignment) % alignment;
  while (pad > 0) {
    const size_t n = std::min(pad, sizeof kZeros);
    append(kZeros, n);
    pad -= n;
  }
}

void BlobWriter::append(const void* data, size_t size) {
  if (size == 0) return;
  pieces_.emplace_back(static_cast<const char*>(data), size);
  size_ += size;
}

}  // namespace switchyard
