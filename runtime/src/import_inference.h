// ONNX's own type and shape inference at import, node by node, as ONNX Runtime does it: each node's
// schema inference function runs with a context that reads input types by value id and hands the
// inferred output types straight to the importer's graph. Nothing is copied into a second model,
// no name-keyed map of every value is built, and no value_info is written back into the proto (the
// whole-graph onnx::shape_inference::InferShapes did all three: 45% of a 10^6-node import).
//
// It follows InferShapes' rules (ONNX 1.12, error mode 0, data propagation on): types declared in
// the model are merged with what is inferred (a conflict becomes a warning), a node ONNX cannot
// type leaves its outputs untyped, unknown dimensions get fresh symbols (unk__N), Constant
// outputs are known data, and If/Loop/Scan bodies are inferred by ONNX's graph inferencer.
//
// It runs after the importer has validated the model, never alongside: ONNX 1.12's inference
// functions crash on some malformed models the importer refuses (a Conv whose data and weight
// ranks differ).
#pragma once

#include <onnx/onnx_pb.h>

#include "switchyard/runtime/onnx_import.h"

namespace switchyard {

// Infers the types of `model.graph`'s values from `mp`, the proto it was imported from, and writes
// each into the graph where the graph's own type is less specific (unknown, no shape, or no element
// type); initializers keep theirs. ONNX writes what it infers inside If/Loop/Scan bodies into those
// subgraphs of `mp`.
void infer_imported_types(onnx::ModelProto& mp, Model& model);

}  // namespace switchyard
