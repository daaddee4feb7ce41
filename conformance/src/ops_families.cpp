// The ops suite's families in listing order, and the shape sets and sweeps generators share.
#include "ops_case.h"
#include "ops_gen.h"

namespace switchyard::conformance::ops {

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {"unary", add_unary_cases},
      {"activation", add_activation_cases},
      {"binary", add_binary_cases},
      {"logic", add_logic_cases},
      {"cast", add_cast_cases},
      {"reduction", add_reduction_cases},
      {"softmax", add_softmax_cases},
      {"matmul", add_matmul_cases},
      {"conv", add_conv_cases},
      {"pool", add_pool_cases},
      {"normalization", add_normalization_cases},
      {"shape", add_shape_cases},
      {"index", add_index_cases},
      {"generator", add_generator_cases},
      {"resize", add_resize_cases},
      {"quantization", add_quantization_cases},
      {"signal", add_signal_cases},
      {"recurrent", add_recurrent_cases},
      {"attention", add_attention_cases},
      {"loss_training", add_loss_training_cases},
      {"sequence", add_sequence_cases},
      {"control", add_control_cases},
      {"text_ml", add_text_ml_cases},
  };
  return all;
}

const std::vector<Shape>& elementwise_shapes() {
  static const std::vector<Shape> shapes = {{},        {1},          {7},          {0},           {3, 5},
                                            {2, 0, 3}, {2, 3, 4},    {1, 3, 1, 5}, {2, 1, 3, 2, 2}, {1, 2, 1, 3, 1, 2},
                                            {17, 19}};
  return shapes;
}

const std::vector<Shape>& elementwise_shapes_short() {
  static const std::vector<Shape> shapes = {{}, {7}, {2, 3, 4}, {0, 3}};
  return shapes;
}

const std::vector<std::vector<Shape>>& broadcast_shapes() {
  static const std::vector<std::vector<Shape>> shapes = {
      {{3, 4}, {3, 4}},     {{3, 4}, {}},          {{}, {3, 4}},        {{}, {}},
      {{2, 3, 4}, {4}},     {{2, 1, 4}, {3, 1}},   {{1}, {5}},          {{3, 1, 5}, {4, 5}},
      {{0, 3}, {1, 3}},     {{2, 0}, {2, 1}},      {{5, 1, 1}, {1, 1, 6}}, {{7, 13}, {13}},
      {{2, 1, 3, 1, 2, 1}, {1, 2, 1, 3, 1, 2}},
  };
  return shapes;
}

const std::vector<std::vector<Shape>>& broadcast_shapes_short() {
  static const std::vector<std::vector<Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{}, {2, 1}}, {{0, 3}, {1, 3}},
  };
  return shapes;
}

std::vector<Fill> value_fills(ElementType t) {
  if (t == boolean || t == str) return {Fill::normal};
  return {Fill::normal, Fill::special};
}

const char* fill_tag(Fill f) {
  switch (f) {
    case Fill::normal: return "normal";
    case Fill::positive: return "positive";
    case Fill::unit: return "unit";
    case Fill::nonzero: return "nonzero";
    case Fill::special: return "special";
    case Fill::range: return "range";
    case Fill::given: return "given";
  }
  return "?";
}

std::vector<ElementType> types_or(const std::string& op, int64_t opset, size_t index, std::vector<ElementType> fallback) {
  auto types = schema_types(op, opset, index);
  return types.empty() ? fallback : types;
}

std::string case_name(const std::string& op, std::initializer_list<std::string> parts) {
  std::string name = op;
  for (const auto& p : parts)
    if (!p.empty()) name += "/" + p;
  return name;
}

std::string input_name(size_t i, size_t count) {
  if (count == 1) return "X";
  return std::string(1, static_cast<char>('A' + i));
}

}  // namespace switchyard::conformance::ops
