// Protobuf -> Switchyard conversions for tensors and types.
#include "onnx_proto.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/mapped_file.h"

namespace switchyard::onnx_proto {

namespace {
// A guard against absurd shapes in a malformed model (the ABI itself has no rank limit; a device
// refuses what its kernels cannot take).
constexpr size_t kMaxModelRank = 32;
}  // namespace

namespace {

Status bad(const std::string& what, const std::string& msg) {
  return Status(StatusCode::invalid_argument, what + ": " + msg);
}

// Resolves an external data location inside base_dir, refusing absolute paths, ".."
// and symbolic links that lead outside.
Result<std::filesystem::path> confine(const std::filesystem::path& base_dir, const std::string& location,
                                      const std::string& what) {
  namespace fs = std::filesystem;
  if (base_dir.empty()) return bad(what, "external data is not allowed for a model loaded from bytes without a folder");
  fs::path rel(location);
  if (location.empty()) return bad(what, "external data has an empty location");
  if (rel.is_absolute()) return bad(what, "external data location '" + location + "' is absolute; it must be relative to the model's folder");
  for (const auto& part : rel)
    if (part == "..") return bad(what, "external data location '" + location + "' contains '..'");
  std::error_code ec;
  fs::path base = fs::canonical(base_dir, ec);
  if (ec) return Status(StatusCode::not_found, what + ": model folder '" + base_dir.string() + "' not found");
  fs::path full = fs::canonical(base / rel, ec);
  if (ec) return Status(StatusCode::not_found, what + ": external data file '" + (base / rel).string() + "' not found");
  auto b = base.string();
  auto f = full.string();
  if (f.size() <= b.size() || f.compare(0, b.size(), b) != 0 || f[b.size()] != '/')
    return bad(what, "external data location '" + location + "' resolves outside the model's folder (to '" + f + "')");
  return full;
}

template <typename Src, typename Dst>
Result<Tensor> from_repeated(ElementType type, const Shape& shape, int64_t numel, const Src& field, const std::string& what) {
  if (static_cast<int64_t>(field.size()) != numel)
    return bad(what, "has " + std::to_string(field.size()) + " values but its shape " + shape_to_string(shape) + " needs " +
                         std::to_string(numel));
  Tensor t = Tensor::allocate(type, shape);
  Dst* out = t.mutable_data<Dst>();
  for (int64_t i = 0; i < numel; ++i) out[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
  return t;
}

}  // namespace

Result<Tensor> tensor_from_proto(const onnx::TensorProto& p, const TensorContext& ctx, const std::string& what) {
  auto type = element_type_from_int(p.data_type());
  if (!type || *type == ElementType::undefined)
    return bad(what, "unknown element type " + std::to_string(p.data_type()));
  Shape shape(p.dims().begin(), p.dims().end());
  if (shape.size() > kMaxModelRank) return bad(what, "rank " + std::to_string(shape.size()) + " exceeds the limit of " + std::to_string(kMaxModelRank));
  for (int64_t d : shape)
    if (d < 0) return bad(what, "has a negative dimension in " + shape_to_string(shape));
  auto numel_opt = shape_numel(shape);
  if (!numel_opt) return bad(what, "the product of dimensions " + shape_to_string(shape) + " overflows");
  const int64_t numel = *numel_opt;
  if (*type == ElementType::string) {
    if (static_cast<int64_t>(p.string_data_size()) != numel)
      return bad(what, "has " + std::to_string(p.string_data_size()) + " strings but shape " + shape_to_string(shape) + " needs " + std::to_string(numel));
    return Tensor::from_strings(shape, std::vector<std::string>(p.string_data().begin(), p.string_data().end()));
  }
  auto expected_bytes = storage_bytes(*type, numel);
  if (!expected_bytes) return bad(what, "its byte size overflows");
  // Complex numbers: element_bits covers both parts.
  try {
    if (p.data_location() == onnx::TensorProto::EXTERNAL) {
      std::string location;
      int64_t offset = 0, length = -1;
      for (const auto& kv : p.external_data()) {
        try {
          if (kv.key() == "location") location = kv.value();
          else if (kv.key() == "offset") offset = std::stoll(kv.value());
          else if (kv.key() == "length") length = std::stoll(kv.value());
        } catch (const std::exception&) {
          return bad(what, "external data field '" + kv.key() + "' is not a number: '" + kv.value() + "'");
        }
      }
      if (offset < 0) return bad(what, "external data offset is negative");
      SY_ASSIGN_OR_RETURN(auto path, confine(ctx.base_dir, location, what));
      SY_ASSIGN_OR_RETURN(auto mapping, MappedFile::open(path, what + ": external data"));
      size_t len = length < 0 ? *expected_bytes : static_cast<size_t>(length);
      if (len != *expected_bytes)
        return bad(what, "external data length " + std::to_string(len) + " does not match the " + std::to_string(*expected_bytes) + " bytes its shape needs");
      if (static_cast<size_t>(offset) > mapping->size() || len > mapping->size() - static_cast<size_t>(offset))
        return bad(what, "external data [" + std::to_string(offset) + ", +" + std::to_string(len) + ") lies beyond the end of '" +
                             path.string() + "' (" + std::to_string(mapping->size()) + " bytes)");
      if (ctx.mapped) ctx.mapped->push_back(mapping);
      if (ctx.external_files && std::find(ctx.external_files->begin(), ctx.external_files->end(), location) == ctx.external_files->end())
        ctx.external_files->push_back(location);
      const void* base = len ? reinterpret_cast<const char*>(mapping->data()) + offset : nullptr;
      static const char kEmpty[1] = {0};
      return Tensor::wrap(*type, shape, mapping, base ? base : kEmpty, len);
    }
    if (p.has_raw_data()) {
      const std::string& raw = p.raw_data();
      if (raw.size() != *expected_bytes)
        return bad(what, "raw data has " + std::to_string(raw.size()) + " bytes but " + std::string(element_type_name(*type)) +
                             shape_to_string(shape) + " needs " + std::to_string(*expected_bytes));
      if (ctx.owner) return Tensor::wrap(*type, shape, ctx.owner, raw.data(), raw.size());
      Tensor t = Tensor::allocate(*type, shape);
      if (!raw.empty()) std::memcpy(t.raw_mutable(), raw.data(), raw.size());
      return t;
    }
    switch (*type) {
      case ElementType::float32: return from_repeated<decltype(p.float_data()), float>(*type, shape, numel, p.float_data(), what);
      case ElementType::complex64: return from_repeated<decltype(p.float_data()), float>(*type, shape, numel * 2, p.float_data(), what);
      case ElementType::float64: return from_repeated<decltype(p.double_data()), double>(*type, shape, numel, p.double_data(), what);
      case ElementType::complex128: return from_repeated<decltype(p.double_data()), double>(*type, shape, numel * 2, p.double_data(), what);
      case ElementType::int64: return from_repeated<decltype(p.int64_data()), int64_t>(*type, shape, numel, p.int64_data(), what);
      case ElementType::uint64: return from_repeated<decltype(p.uint64_data()), uint64_t>(*type, shape, numel, p.uint64_data(), what);
      case ElementType::uint32: return from_repeated<decltype(p.uint64_data()), uint32_t>(*type, shape, numel, p.uint64_data(), what);
      case ElementType::int32: return from_repeated<decltype(p.int32_data()), int32_t>(*type, shape, numel, p.int32_data(), what);
      case ElementType::int16: return from_repeated<decltype(p.int32_data()), int16_t>(*type, shape, numel, p.int32_data(), what);
      case ElementType::uint16: case ElementType::float16: case ElementType::bfloat16:
        return from_repeated<decltype(p.int32_data()), uint16_t>(*type, shape, numel, p.int32_data(), what);
      case ElementType::int8: return from_repeated<decltype(p.int32_data()), int8_t>(*type, shape, numel, p.int32_data(), what);
      case ElementType::uint8: case ElementType::boolean: case ElementType::float8e4m3fn: case ElementType::float8e4m3fnuz:
      case ElementType::float8e5m2: case ElementType::float8e5m2fnuz: case ElementType::float8e8m0:
        return from_repeated<decltype(p.int32_data()), uint8_t>(*type, shape, numel, p.int32_data(), what);
      case ElementType::int4: case ElementType::uint4: case ElementType::float4e2m1: case ElementType::int2:
      case ElementType::uint2: {
        // Packed types store one packed byte per int32_data entry.
        auto bytes = static_cast<int64_t>(*expected_bytes);
        if (p.int32_data_size() != bytes)
          return bad(what, "has " + std::to_string(p.int32_data_size()) + " packed values but needs " + std::to_string(bytes));
        Tensor t = Tensor::allocate(*type, shape);
        auto* out = t.mutable_data<uint8_t>();
        for (int64_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(p.int32_data(static_cast<int>(i)));
        return t;
      }
      default:
        return bad(what, "element type " + std::string(element_type_name(*type)) + " has no data field");
    }
  } catch (const Error& e) {
    return e.status().with_context(what);
  }
}

Result<ValueType> value_type_from_proto(const onnx::TypeProto& p, const std::string& what) {
  ValueType vt;
  switch (p.value_case()) {
    case onnx::TypeProto::kTensorType:
    case onnx::TypeProto::kSparseTensorType: {
      const auto& tt = p.value_case() == onnx::TypeProto::kTensorType ? p.tensor_type() : onnx::TypeProto::Tensor();
      int32_t elem = p.value_case() == onnx::TypeProto::kTensorType ? tt.elem_type() : p.sparse_tensor_type().elem_type();
      auto et = element_type_from_int(elem);
      if (!et) return bad(what, "unknown element type " + std::to_string(elem));
      vt.kind = ValueType::Kind::tensor;
      vt.tensor.elem = *et;
      const bool has_shape = p.value_case() == onnx::TypeProto::kTensorType ? tt.has_shape() : p.sparse_tensor_type().has_shape();
      if (has_shape) {
        const auto& shape = p.value_case() == onnx::TypeProto::kTensorType ? tt.shape() : p.sparse_tensor_type().shape();
        if (shape.dim_size() > kMaxModelRank) return bad(what, "rank " + std::to_string(shape.dim_size()) + " exceeds the limit");
        vt.tensor.shape.emplace();
        for (const auto& d : shape.dim()) {
          Dim dim;
          if (d.has_dim_value()) {
            if (d.dim_value() < 0) return bad(what, "has a negative dimension " + std::to_string(d.dim_value()));
            dim.value = d.dim_value();
          } else if (d.has_dim_param()) {
            dim.symbol = d.dim_param();
          }
          vt.tensor.shape->push_back(dim);
        }
      }
      return vt;
    }
    case onnx::TypeProto::kSequenceType: {
      vt.kind = ValueType::Kind::sequence;
      SY_ASSIGN_OR_RETURN(ValueType elem, value_type_from_proto(p.sequence_type().elem_type(), what));
      vt.element = std::make_shared<ValueType>(std::move(elem));
      return vt;
    }
    case onnx::TypeProto::kOptionalType: {
      vt.kind = ValueType::Kind::optional;
      SY_ASSIGN_OR_RETURN(ValueType elem, value_type_from_proto(p.optional_type().elem_type(), what));
      vt.element = std::make_shared<ValueType>(std::move(elem));
      return vt;
    }
    case onnx::TypeProto::kMapType:
      vt.kind = ValueType::Kind::map;
      return vt;
    default:
      vt.kind = ValueType::Kind::unknown;
      return vt;
  }
}

void tensor_to_proto(const Tensor& t, onnx::TensorProto* p) {
  p->set_data_type(static_cast<int32_t>(t.type()));
  for (int64_t d : t.shape()) p->add_dims(d);
  if (t.type() == ElementType::string) {
    for (const auto& s : t.strings()) p->add_string_data(s);
  } else {
    p->set_raw_data(t.raw(), t.byte_size());
  }
}

}  // namespace switchyard::onnx_proto
