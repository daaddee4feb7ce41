// The ops suite: from a case description (ops_case.h) to what runs: the seeded input values, the
// ONNX model (the same bytes a device imports and `export_ops_cases` writes), the imported Model,
// and the tolerance its outputs are held to.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ops_case.h"
#include "switchyard/conformance/tolerance.h"
#include "switchyard/hal/status.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard::conformance::ops {

// The ONNX model of the case: the node, its graph inputs (typed and shaped), constants as
// initializers with their values from `tensors`, outputs without types (import infers them).
onnx::ModelProto build_model(const OpCase& c, const std::vector<Tensor>& tensors);
// Declares every graph output's type and shape from the values it took (for exported models,
// which other runtimes load without inferring).
void set_output_types(onnx::ModelProto& model, const std::vector<Value>& outputs);

struct BuiltCase {
  onnx::ModelProto proto;
  std::shared_ptr<Model> model;
  std::vector<Tensor> tensors;  // every input of the node, constants included (tolerance scales)
  std::vector<Value> inputs;    // the graph inputs, in order
};
// Everything above for one case, its values for a target computing in `compute` (see
// make_input_tensors). Fails (with the importer's status) when the model does not import.
Result<BuiltCase> build_case(const OpCase& c, uint64_t seed, ElementType compute = ElementType::float32);

// The tolerance the case's outputs are held to on a float32 target (narrow-float targets derive
// more on top, in check_outputs): at least `rtol`/`atol`; for accumulating operators (K > 1) the
// narrow-float rule of tolerance.h in the case's own compute type (float16/bfloat16 when its
// tensors are, else float32): atol = 4u sqrt(K) scale; float16/bfloat16 tensors: rtol >= 2u.
Tolerance case_tolerance(const OpCase& c, const std::vector<Tensor>& tensors, const std::vector<Value>& expected, double rtol,
                         double atol);

}  // namespace switchyard::conformance::ops
