// ONNX's own shape inference at import, run on the model's structure alongside the conversion to
// the graph IR where that is safe, so a large model pays for the longer of the two, not the sum.
#pragma once

#include <onnx/onnx_pb.h>

#include <future>
#include <optional>
#include <string>

#include "switchyard/onnx_import.h"

namespace switchyard {

class ImportInference {
 public:
  // Starts inference on `mp`'s structure: its nodes shared (not copied), its initializers declared
  // as typed inputs (their bytes never touched). On a second thread when no node has a graph
  // attribute (ONNX writes into those while it infers, and the importer reads them); otherwise,
  // or if no thread can be had, at finish(). `mp` must outlive this object and must not be changed
  // until finish() returns; reading it is fine.
  explicit ImportInference(onnx::ModelProto& mp);
  ~ImportInference();  // waits for the inference
  ImportInference(const ImportInference&) = delete;
  ImportInference& operator=(const ImportInference&) = delete;

  // Waits for the inference (or runs it) and copies every inferred type more specific than the
  // graph's into `model.graph`; a failed inference becomes a warning on `model`.
  void finish(Model& model);

 private:
  void release_shared_nodes();

  onnx::ModelProto structure_;
  std::future<std::optional<std::string>> running_;  // the error, if inference failed
  bool finished_ = false;
};

}  // namespace switchyard
