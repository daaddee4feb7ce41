// Internal: ONNX function expansion. A node whose operator has no reference kernel but is
// defined as a function (in the model's own `functions`, or by a function body in ONNX's
// schema registry) is replaced by the function's body, so new operators defined as functions
// run without new code.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "switchyard/hal/status.h"

namespace switchyard::onnx_proto {

// Expands, in place, every top-level node that needs it (recursively, to a bounded depth).
// `expanded` receives one note per expansion ("MySwish 'n3' expanded from the model's function").
Status expand_functions(onnx::ModelProto& model, std::vector<std::string>* expanded);

}  // namespace switchyard::onnx_proto
