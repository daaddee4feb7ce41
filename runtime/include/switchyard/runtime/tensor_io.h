// Reading and writing tensors: ONNX TensorProto / SequenceProto / OptionalProto files
// (.pb, as in the ONNX test corpus) and NumPy .npy files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

// A .pb file holding a TensorProto, SequenceProto or OptionalProto (tried in that order
// when `kind_hint` is empty; "tensor", "sequence", "optional" force one).
Result<Value> load_value_pb(const std::filesystem::path& path, const std::string& kind_hint = "");
Result<Tensor> load_tensor_pb(const std::filesystem::path& path);
Status save_tensor_pb(const std::filesystem::path& path, const Tensor& tensor, const std::string& name = "");

// NumPy .npy (format 1.0-3.0, little-endian, C order; bool, ints, float16/32/64).
Result<Tensor> load_npy(const std::filesystem::path& path);
Status save_npy(const std::filesystem::path& path, const Tensor& tensor);

// The same from bytes in memory (what the path versions call on the mapped file); `what` names the
// bytes in error messages, e.g. "'x.npy'".
Result<Value> parse_value_pb(const void* data, size_t size, const std::string& what, const std::string& kind_hint = "");
Result<Tensor> parse_tensor_pb(const void* data, size_t size, const std::string& what);
Result<Tensor> parse_npy(const void* data, size_t size, const std::string& what);

// Loads by extension: .npy or .pb.
Result<Tensor> load_tensor_file(const std::filesystem::path& path);

}  // namespace switchyard
