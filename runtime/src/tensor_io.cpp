// Tensor files: ONNX .pb (TensorProto / SequenceProto / OptionalProto) and NumPy .npy.
#include "switchyard/runtime/tensor_io.h"

#include "switchyard/hal/mapped_file.h"

#include <onnx/onnx-data_pb.h>

#include <cstring>
#include <limits>
#include <string_view>
#include <fstream>
#include <sstream>

#include "onnx_proto.h"

namespace switchyard {

namespace {

constexpr size_t kMaxTensorFileBytes = size_t{4} << 30;

Result<std::shared_ptr<const MappedFile>> map_file(const std::filesystem::path& path) {
  auto file = MappedFile::open(path, "tensor file");  // regular files only; a FIFO is refused, not waited on
  if (!file.ok()) {
    if (file.status().code() == StatusCode::not_found) return Status(StatusCode::not_found, "file '" + path.string() + "' not found");
    return file.status();
  }
  if ((*file)->size() > kMaxTensorFileBytes) return Status(StatusCode::invalid_argument, "'" + path.string() + "' is too large");
  return file;
}

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

Result<Value> value_from_sequence(const onnx::SequenceProto& sp, const std::string& what);

Result<Value> value_from_optional(const onnx::OptionalProto& op, const std::string& what) {
  Value v;
  switch (op.elem_type()) {
    case onnx::OptionalProto::TENSOR: {
      if (!op.has_tensor_value()) break;
      SY_ASSIGN_OR_RETURN(Tensor t, onnx_proto::tensor_from_proto(op.tensor_value(), {}, what));
      v = Value::of(std::move(t));
      break;
    }
    case onnx::OptionalProto::SEQUENCE: {
      if (!op.has_sequence_value()) break;
      SY_ASSIGN_OR_RETURN(v, value_from_sequence(op.sequence_value(), what));
      break;
    }
    case onnx::OptionalProto::UNDEFINED:
      break;
    default:
      return Status(StatusCode::unsupported, what + ": optional of this element kind is not supported");
  }
  v.is_optional = true;
  return v;
}

Result<Value> value_from_sequence(const onnx::SequenceProto& sp, const std::string& what) {
  if (sp.elem_type() != onnx::SequenceProto::TENSOR && sp.elem_type() != onnx::SequenceProto::UNDEFINED)
    return Status(StatusCode::unsupported, what + ": only sequences of tensors are supported");
  std::vector<Tensor> items;
  for (const auto& tp : sp.tensor_values()) {
    SY_ASSIGN_OR_RETURN(Tensor t, onnx_proto::tensor_from_proto(tp, {}, what));
    items.push_back(std::move(t));
  }
  return Value::of_sequence(std::move(items));
}

}  // namespace

Result<Value> load_value_pb(const std::filesystem::path& path, const std::string& kind_hint) {
  SY_ASSIGN_OR_RETURN(auto file, map_file(path));
  return parse_value_pb(file->data(), file->size(), quoted(path), kind_hint);
}

Result<Value> parse_value_pb(const void* data, size_t size, const std::string& what, const std::string& kind_hint) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    return Status(StatusCode::invalid_argument, what + " is larger than protobuf's 2 GiB limit");
  const int bytes = static_cast<int>(size);
  if (kind_hint.empty() || kind_hint == "tensor") {
    onnx::TensorProto tp;
    if (tp.ParseFromArray(data, bytes) && (tp.has_data_type() || kind_hint == "tensor")) {
      SY_ASSIGN_OR_RETURN(Tensor t, onnx_proto::tensor_from_proto(tp, {}, what));
      return Value::of(std::move(t));
    }
    if (kind_hint == "tensor") return Status(StatusCode::invalid_argument, what + " is not a TensorProto");
  }
  if (kind_hint.empty() || kind_hint == "sequence") {
    onnx::SequenceProto sp;
    if (sp.ParseFromArray(data, bytes) && (sp.has_elem_type() || kind_hint == "sequence")) return value_from_sequence(sp, what);
  }
  if (kind_hint.empty() || kind_hint == "optional") {
    onnx::OptionalProto op;
    if (op.ParseFromArray(data, bytes)) return value_from_optional(op, what);
  }
  return Status(StatusCode::invalid_argument, what + " is not a TensorProto, SequenceProto or OptionalProto");
}

Result<Tensor> load_tensor_pb(const std::filesystem::path& path) {
  SY_ASSIGN_OR_RETURN(Value v, load_value_pb(path, "tensor"));
  return v.tensor;
}

Result<Tensor> parse_tensor_pb(const void* data, size_t size, const std::string& what) {
  SY_ASSIGN_OR_RETURN(Value v, parse_value_pb(data, size, what, "tensor"));
  return v.tensor;
}

Status save_tensor_pb(const std::filesystem::path& path, const Tensor& tensor, const std::string& name) {
  onnx::TensorProto tp;
  onnx_proto::tensor_to_proto(tensor, &tp);
  if (!name.empty()) tp.set_name(name);
  std::ofstream out(path, std::ios::binary);
  if (!out || !tp.SerializeToOstream(&out)) return Status(StatusCode::io_error, "cannot write '" + path.string() + "'");
  return {};
}

namespace {
struct NpyType {
  ElementType type;
  const char* descr;
};
constexpr NpyType kNpyTypes[] = {
    {ElementType::float32, "<f4"}, {ElementType::float64, "<f8"}, {ElementType::float16, "<f2"},
    {ElementType::int8, "|i1"},    {ElementType::uint8, "|u1"},   {ElementType::int16, "<i2"},
    {ElementType::uint16, "<u2"},  {ElementType::int32, "<i4"},   {ElementType::uint32, "<u4"},
    {ElementType::int64, "<i8"},   {ElementType::uint64, "<u8"},  {ElementType::boolean, "|b1"},
};

std::string header_value(const std::string& header, const std::string& key) {
  auto k = header.find("'" + key + "'");
  if (k == std::string::npos) return {};
  auto colon = header.find(':', k);
  if (colon == std::string::npos) return {};
  size_t start = colon + 1;
  while (start < header.size() && header[start] == ' ') ++start;
  if (start >= header.size()) return {};
  if (header[start] == '\'') {
    auto end = header.find('\'', start + 1);
    return end == std::string::npos ? std::string() : header.substr(start + 1, end - start - 1);
  }
  if (header[start] == '(') {
    auto end = header.find(')', start);
    return end == std::string::npos ? std::string() : header.substr(start, end - start + 1);
  }
  auto end = header.find_first_of(",}", start);
  return header.substr(start, end - start);
}
}  // namespace

Result<Tensor> load_npy(const std::filesystem::path& path) {
  SY_ASSIGN_OR_RETURN(auto file, map_file(path));
  return parse_npy(file->data(), file->size(), quoted(path));
}

Result<Tensor> parse_npy(const void* data, size_t size, const std::string& what) {
  const std::string_view bytes(static_cast<const char*>(data), size);
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return Status(StatusCode::invalid_argument, what + " is not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, pos = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    pos = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Status(StatusCode::invalid_argument, what + " is truncated");
    header_len = 0;
    for (int b = 0; b < 4; ++b) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + b])) << (8 * b);
    pos = 12;
  } else {
    return Status(StatusCode::unsupported, what + ": .npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > bytes.size() - pos) return Status(StatusCode::invalid_argument, what + " has a truncated header");
  std::string header(bytes.substr(pos, header_len));
  pos += header_len;
  std::string descr = header_value(header, "descr");
  std::string fortran = header_value(header, "fortran_order");
  std::string shape_s = header_value(header, "shape");
  if (fortran.find("True") != std::string::npos)
    return Status(StatusCode::unsupported, what + ": Fortran-ordered arrays are not supported");
  ElementType type = ElementType::undefined;
  for (const auto& t : kNpyTypes) {
    std::string d = t.descr;
    if (descr == d || (d[0] == '<' && descr == "=" + d.substr(1)) || (d[0] == '|' && descr == "<" + d.substr(1)))
      type = t.type;
  }
  if (type == ElementType::undefined)
    return Status(StatusCode::unsupported, what + ": dtype '" + descr + "' is not supported (little-endian numeric or bool only)");
  Shape shape;
  if (shape_s.size() < 2) return Status(StatusCode::invalid_argument, what + ": missing shape in header");
  std::stringstream ss(shape_s.substr(1, shape_s.size() - 2));
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    try {
      size_t used = 0;
      long long d = std::stoll(item.substr(a), &used);
      if (d < 0) throw std::out_of_range("negative");
      shape.push_back(d);
    } catch (const std::exception&) {
      return Status(StatusCode::invalid_argument, what + ": bad shape '" + shape_s + "'");
    }
  }
  auto numel = shape_numel(shape);
  auto need = numel ? storage_bytes(type, *numel) : std::nullopt;
  if (!need || *need != bytes.size() - pos)
    return Status(StatusCode::invalid_argument, what + ": data has " + std::to_string(bytes.size() - pos) +
                                                    " bytes, shape " + shape_to_string(shape) + " needs " +
                                                    (need ? std::to_string(*need) : std::string("an impossible size")));
  try {
    Tensor t = Tensor::allocate(type, shape);
    if (*need) std::memcpy(t.raw_mutable(), bytes.data() + pos, *need);
    return t;
  } catch (const Error& e) {
    return e.status().with_context(what);
  }
}

Status save_npy(const std::filesystem::path& path, const Tensor& tensor) {
  const char* descr = nullptr;
  for (const auto& t : kNpyTypes)
    if (t.type == tensor.type()) descr = t.descr;
  if (!descr) return Status(StatusCode::unsupported, "cannot write " + std::string(element_type_name(tensor.type())) + " as .npy");
  std::string shape = "(";
  for (size_t i = 0; i < tensor.shape().size(); ++i) shape += std::to_string(tensor.shape()[i]) + (tensor.shape().size() == 1 ? "," : (i + 1 < tensor.shape().size() ? ", " : ""));
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status(StatusCode::io_error, "cannot write '" + path.string() + "'");
  out.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.byte_size()));
  if (!out) return Status(StatusCode::io_error, "cannot write '" + path.string() + "'");
  return {};
}

Result<Tensor> load_tensor_file(const std::filesystem::path& path) {
  if (path.extension() == ".npy") return load_npy(path);
  return load_tensor_pb(path);
}

}  // namespace switchyard
