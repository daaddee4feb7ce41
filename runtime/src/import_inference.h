// ONNX's own shape inference at import, run on the model's structure with its nodes shared, not
// copied. It runs after the importer has validated the model, never alongside: ONNX 1.12's
// inference crashes on some malformed models the importer refuses (a Conv whose data and weight
// ranks differ), so it must only see models that passed.
#pragma once

#include <onnx/onnx_pb.h>

#include "switchyard/onnx_import.h"

namespace switchyard {

class ImportInference {
 public:
  // Prepares inference on `mp`'s structure: its nodes shared (not copied), its initializers
  // declared as typed inputs (their bytes never touched). `mp` must outlive this object; ONNX
  // writes inferred types into the subgraphs of its nodes.
  explicit ImportInference(onnx::ModelProto& mp);
  ~ImportInference();
  ImportInference(const ImportInference&) = delete;
  ImportInference& operator=(const ImportInference&) = delete;

  // Runs the inference and copies every inferred type more specific than the graph's into
  // `model.graph`; a failed inference becomes a warning on `model`.
  void run(Model& model);

 private:
  void release_shared_nodes();

  onnx::ModelProto structure_;
};

}  // namespace switchyard
