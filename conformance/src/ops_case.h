// The ops suite's case description (suites.h, "ops"): one operator node, its inputs, attributes and
// outputs, kept compact so that the parent lists thousands of them in milliseconds; the worker
// builds the ONNX model and the seeded input values from it (ops_build.cpp).
//
// Generators (ops_gen_*.cpp) describe cases with the builder methods below:
//   OpCase("Add", 14).input("A", float32, {3, 1}).input("B", float32, {4}).output("C")
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/tensor.h"

namespace onnx {
class GraphProto;
class NodeProto;
}  // namespace onnx

namespace switchyard::conformance::ops {

// How an input's values are generated from the case's seed.
enum class Fill : uint8_t {
  normal,    // floats uniform in [-4, 4]; signed integers in [-9, 9], unsigned in [0, 18]; bools random
  positive,  // floats in [0.1, 4]; integers in [1, 9]  (Log, Sqrt, divisors)
  unit,      // floats in [-0.95, 0.95]                 (Asin, Acos, Atanh)
  nonzero,   // floats in +-[0.5, 4]; integers in +-[1, 9] (divisors: an integer division by 0 traps)
  special,   // normal, with every value class of the type at seeded positions: NaN, +-inf, denormals,
             // -0, the largest magnitudes; integers: their extremes, 0 and -1
  range,     // uniform in [lo, hi]; integer types: the integers in it
  given,     // `values` (or `strings`) in order
};

struct Input {
  std::string name;  // graph input or initializer name; "" = an optional input left off
  ElementType type = ElementType::float32;
  Shape shape;
  Fill fill = Fill::normal;
  double lo = 0, hi = 0;            // Fill::range
  std::vector<double> values;       // Fill::given (integers beyond +-2^63 saturate)
  std::vector<std::string> strings; // Fill::given, string tensors
  bool constant = false;            // an initializer: operands ONNX or devices want constant (shapes, axes, pads)
  bool classes = false;             // adds the value classes of Fill::special on top of `fill`
};

struct Attr {
  enum class Kind : uint8_t { i, f, s, ints, floats, strings, tensor };
  std::string name;
  Kind kind = Kind::i;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  Input tensor;  // Kind::tensor: a Fill::given input
};

// What one output's error grows with: the narrow-float rule of tolerance.h (atol = 4u sqrt(K)
// scale), with K the terms summed into one output and scale the largest magnitude of one term.
enum class TermScale : uint8_t {
  input,    // the largest |input 0| (reductions, pooling, normalisation)
  product,  // largest |input 0| * largest |input 1|, and |input 2| (MatMul, Gemm, Conv: the bias)
  square,   // the largest |input 0| squared (ReduceSumSquare, ReduceL2)
  output,   // the largest |output 0| (products, exponentials of sums)
  all_inputs,  // the product of every input's largest magnitude (Einsum of several operands)
  twiddled,    // (1 + 2 pi) * largest |input 0|: DFT terms x * exp(-2 pi i nk/N), whose twiddle factor
               // carries the angle's rounding, up to 2 pi u
};

struct OpCase {
  std::string name;  // unique in the suite, readable, no spaces: "Add/float32/3x1x5,4x5/normal"
  std::string op;
  std::string domain;  // "" = the default ONNX domain
  int64_t opset = 17;
  int64_t default_opset = 17;  // the default domain's opset when `domain` is another one
  std::vector<Input> inputs;
  std::vector<Attr> attrs;
  std::vector<std::string> outputs;  // "" = an optional output left off
  int64_t accumulation = 1;          // K above; 1: elementwise, the fixed tolerances alone
  TermScale scale = TermScale::input;
  int scale_power = 1;               // TermScale::input raised to this (Det of n x n: n)
  // Rare cases only: adds what one node cannot say (subgraph attributes, a node feeding this one
  // a sequence). Runs after the node and its inputs are in the graph.
  std::function<void(onnx::GraphProto& graph, onnx::NodeProto& node)> extend;

  OpCase() = default;
  OpCase(std::string op_type, int64_t opset_version, std::string op_domain = "")
      : op(std::move(op_type)), domain(std::move(op_domain)), opset(opset_version) {}

  OpCase& input(std::string n, ElementType t, Shape s, Fill f = Fill::normal);
  OpCase& with_classes();  // the last input also gets the value classes (Fill::special's) on top of its fill
  OpCase& ranged(std::string n, ElementType t, Shape s, double lo, double hi);
  OpCase& given(std::string n, ElementType t, Shape s, std::vector<double> v);          // a graph input
  OpCase& constant(std::string n, ElementType t, Shape s, std::vector<double> v);       // an initializer
  OpCase& constant_filled(std::string n, ElementType t, Shape s, Fill f = Fill::normal);  // seeded initializer
  OpCase& strings(std::string n, Shape s, std::vector<std::string> v);
  OpCase& absent();  // an optional input left off
  OpCase& attr_i(std::string n, int64_t v);
  OpCase& attr_f(std::string n, float v);
  OpCase& attr_s(std::string n, std::string v);
  OpCase& attr_ints(std::string n, std::vector<int64_t> v);
  OpCase& attr_floats(std::string n, std::vector<float> v);
  OpCase& attr_strings(std::string n, std::vector<std::string> v);
  OpCase& attr_tensor(std::string n, ElementType t, Shape s, std::vector<double> v);
  OpCase& output(std::string n = "output");
  OpCase& accumulate(int64_t k, TermScale s = TermScale::input);
  OpCase& named(std::string n);
  OpCase& with(std::function<void(onnx::GraphProto&, onnx::NodeProto&)> fn);
};

// The case's own seed: the suite's seed mixed with a hash of the case's name, so a case's values do
// not move when cases are added or removed around it.
uint64_t case_seed(uint64_t suite_seed, const std::string& case_name);

// One tensor per case input (an undefined Tensor for an input left off), generated from `seed`.
// `compute`: the float type the target computes float32 in; narrower than float32, the float32
// inputs' value classes are the ones that type holds exactly (NaN, +-inf, -0). Throws
// Error(invalid_argument) when the description is inconsistent (given values that do not fill the
// shape).
std::vector<Tensor> make_input_tensors(const OpCase& c, uint64_t seed, ElementType compute = ElementType::float32);

// Name parts: "3x4", "scalar" (rank 0), "0x3"; "3x4,4" for several; "float32".
std::string shape_tag(const Shape& s);
std::string shapes_tag(const std::vector<Shape>& shapes);
std::string ints_tag(const std::vector<int64_t>& v);  // "0,2" ("none" when empty)
std::string type_tag(ElementType t);
std::string number_tag(double v);                     // "0.5", "-2", "1e-05"
int64_t numel(const Shape& s);

// The element types input `index` of an operator may take at `opset` (its type constraint in
// ONNX's schema), in the schema's order; empty when the schema is unknown (newer than the ONNX
// library). Types a tensor cannot hold here (sub-byte, float8) are left out.
std::vector<ElementType> schema_types(const std::string& op, int64_t opset, size_t index, const std::string& domain = "");

// The families; each appends its cases. Together they cover every operator the CPU plugin claims
// (every reference kernel); ops_suite_test checks that.
void add_unary_cases(std::vector<OpCase>& out);
void add_activation_cases(std::vector<OpCase>& out);
void add_binary_cases(std::vector<OpCase>& out);
void add_logic_cases(std::vector<OpCase>& out);
void add_cast_cases(std::vector<OpCase>& out);
void add_reduction_cases(std::vector<OpCase>& out);
void add_softmax_cases(std::vector<OpCase>& out);
void add_matmul_cases(std::vector<OpCase>& out);
void add_conv_cases(std::vector<OpCase>& out);
void add_pool_cases(std::vector<OpCase>& out);
void add_normalization_cases(std::vector<OpCase>& out);
void add_shape_cases(std::vector<OpCase>& out);
void add_index_cases(std::vector<OpCase>& out);
void add_generator_cases(std::vector<OpCase>& out);
void add_resize_cases(std::vector<OpCase>& out);
void add_quantization_cases(std::vector<OpCase>& out);
void add_signal_cases(std::vector<OpCase>& out);
void add_recurrent_cases(std::vector<OpCase>& out);
void add_attention_cases(std::vector<OpCase>& out);
void add_loss_training_cases(std::vector<OpCase>& out);
void add_sequence_cases(std::vector<OpCase>& out);
void add_control_cases(std::vector<OpCase>& out);
void add_text_ml_cases(std::vector<OpCase>& out);

// Family name -> generator, in listing order (names are the tests' coverage keys).
struct Family {
  const char* name;
  void (*add)(std::vector<OpCase>& out);
};
const std::vector<Family>& families();

}  // namespace switchyard::conformance::ops
