// A model's inputs: checking given values against the declared types, generating stand-ins.
#include "switchyard/runtime/model_inputs.h"

#include <string>

namespace switchyard {

Status check_input(const ValueInfo& declared, const Value& value) {
  const std::string what = "input '" + declared.name + "'";
  const ValueType& vt = declared.type;
  if (vt.kind == ValueType::Kind::tensor) {
    if (value.kind != Value::Kind::tensor) return Status(StatusCode::invalid_argument, what + ": expected a tensor");
    const Tensor& t = value.tensor;
    if (vt.tensor.elem != ElementType::undefined && t.type() != vt.tensor.elem)
      return Status(StatusCode::invalid_argument, what + ": expected element type " + std::string(element_type_name(vt.tensor.elem)) +
                                                      ", got " + std::string(element_type_name(t.type())));
    if (vt.tensor.shape) {
      const auto& dims = *vt.tensor.shape;
      bool ok = dims.size() == t.shape().size();
      for (size_t i = 0; ok && i < dims.size(); ++i) ok = !dims[i].is_static() || dims[i].value == t.shape()[i];
      if (!ok)
        return Status(StatusCode::invalid_argument, what + ": expected shape " + vt.tensor.to_string() + ", got " +
                                                        shape_to_string(t.shape()));
    }
  }
  return {};
}

Result<std::vector<Value>> generate_inputs(const Graph& graph) {
  std::vector<Value> out;
  for (int32_t id : graph.inputs) {
    const ValueInfo& vi = graph.values[static_cast<size_t>(id)];
    if (vi.type.kind != ValueType::Kind::tensor)
      return Status(StatusCode::unsupported, "input '" + vi.name + "' is not a tensor; give it with --input");
    const TensorType& tt = vi.type.tensor;
    if (!tt.shape) return Status(StatusCode::invalid_argument, "input '" + vi.name + "' has no declared shape; give it with --input");
    Shape shape;
    for (const auto& d : *tt.shape) shape.push_back(d.is_static() ? d.value : 1);
    try {
      Tensor t = tt.elem == ElementType::string ? Tensor::from_strings(shape, std::vector<std::string>(
                                                                                  static_cast<size_t>(shape_numel(shape).value_or(0)), "switchyard"))
                                                : Tensor::allocate(tt.elem, shape);
      const int64_t n = t.numel();
      switch (tt.elem) {
        case ElementType::float32:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<float>()[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
          break;
        case ElementType::float64:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<double>()[i] = static_cast<double>(i % 97) / 97.0 - 0.5;
          break;
        case ElementType::int64:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<int64_t>()[i] = i % 10;
          break;
        case ElementType::int32:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<int32_t>()[i] = static_cast<int32_t>(i % 10);
          break;
        case ElementType::boolean: case ElementType::uint8:
          for (int64_t i = 0; i < n; ++i) t.mutable_data<uint8_t>()[i] = static_cast<uint8_t>(i % 2);
          break;
        default:
          break;  // zeros
      }
      out.push_back(Value::of(std::move(t)));
    } catch (const Error& e) {
      return e.status().with_context("input '" + vi.name + "'");
    }
  }
  return out;
}

}  // namespace switchyard
