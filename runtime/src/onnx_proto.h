// Internal: conversions from ONNX protobuf messages to Switchyard types, shared by the
// importer and tensor_io.
#pragma once

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::onnx_proto {

struct TensorContext {
  // Keeps the message that owns raw_data alive (tensors wrap it without copying).
  std::shared_ptr<const void> owner;
  // Folder external data must stay inside; empty: external data refused.
  std::filesystem::path base_dir;
  // Mapped external files are appended here so the model keeps them alive.
  std::vector<std::shared_ptr<const void>>* mapped = nullptr;
  // Locations of external data files used are appended here (once each).
  std::vector<std::string>* external_files = nullptr;
};

// `what` names the tensor in errors ("initializer 'conv1.weight'").
Result<Tensor> tensor_from_proto(const onnx::TensorProto& proto, const TensorContext& ctx, const std::string& what);
Result<ValueType> value_type_from_proto(const onnx::TypeProto& proto, const std::string& what);
void tensor_to_proto(const Tensor& t, onnx::TensorProto* proto);

}  // namespace switchyard::onnx_proto
