// Host <-> device transfers of tensors and values (upload, download, upload_value, download_value).
// An upload imports the tensor's bytes where the plugin can (buffer_import_host) and copies otherwise.
#include <string>
#include <vector>

#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard {

Result<DeviceValue> upload_value(const Device& device, const Value& value) {
  DeviceValue dv;
  dv.kind = value.kind;
  dv.is_optional = value.is_optional || value.kind == Value::Kind::none;
  if (value.kind == Value::Kind::tensor) {
    SY_ASSIGN_OR_RETURN(DeviceTensor t, upload(device, value.tensor));
    dv.tensors.push_back(std::move(t));
  } else if (value.kind == Value::Kind::sequence) {
    for (const auto& item : value.sequence) {
      SY_ASSIGN_OR_RETURN(DeviceTensor t, upload(device, item));
      dv.tensors.push_back(std::move(t));
    }
  }
  return dv;
}

Result<Value> download_value(const DeviceValue& dv) {
  Value v;
  v.kind = dv.kind;
  v.is_optional = dv.is_optional;
  if (dv.kind == Value::Kind::tensor) {
    if (dv.tensors.size() != 1) return Status(StatusCode::internal, "tensor value without exactly one tensor");
    SY_ASSIGN_OR_RETURN(v.tensor, download(dv.tensors[0]));
  } else if (dv.kind == Value::Kind::sequence) {
    for (const auto& t : dv.tensors) {
      SY_ASSIGN_OR_RETURN(Tensor host, download(t));
      v.sequence.push_back(std::move(host));
    }
  }
  return v;
}

Result<DeviceTensor> upload(const Device& device, const Tensor& tensor) {
  DeviceTensor dt;
  dt.type = tensor.type();
  dt.shape = tensor.shape();
  SY_ASSIGN_OR_RETURN(dt.buffer, device.import_host(tensor));
  if (dt.buffer) return dt;
  std::string encoded;
  const void* src = tensor.raw();
  size_t size = tensor.byte_size();
  if (tensor.type() == ElementType::string) {
    encoded = encode_strings(tensor.strings());
    src = encoded.data();
    size = encoded.size();
  }
  SY_ASSIGN_OR_RETURN(auto buf, device.allocate(size));
  if (size) SY_RETURN_IF_ERROR(buf->write(src, size));
  dt.buffer = std::move(buf);
  return dt;
}

Result<Tensor> download(const DeviceTensor& t) {
  if (!t.buffer) return Status(StatusCode::internal, "output has no buffer");
  size_t size = t.buffer->size();
  auto numel = shape_numel(t.shape);
  if (!numel) return Status(StatusCode::internal, "output has an invalid shape " + shape_to_string(t.shape));
  try {
    if (t.type == ElementType::string) {
      std::vector<char> bytes(size);
      if (size) SY_RETURN_IF_ERROR(t.buffer->read(bytes.data(), size));
      SY_ASSIGN_OR_RETURN(auto strings, decode_strings(bytes.data(), bytes.size(), *numel));
      return Tensor::from_strings(t.shape, std::move(strings));
    }
    Tensor out = Tensor::allocate(t.type, t.shape);
    if (out.byte_size() > size)
      return Status(StatusCode::internal, "output buffer holds " + std::to_string(size) + " bytes, its shape needs " +
                                              std::to_string(out.byte_size()));
    if (out.byte_size()) SY_RETURN_IF_ERROR(t.buffer->read(out.raw_mutable(), out.byte_size()));
    return out;
  } catch (const Error& e) {
    return e.status();
  }
}

}  // namespace switchyard
