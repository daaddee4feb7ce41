// Fuzz target: the ONNX importer (import_onnx_bytes), with and without shape inference. Bytes are
// a ModelProto; external data is refused for models given as bytes, so no file is read.
#include <cstddef>
#include <cstdint>

#include "switchyard/runtime/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchyard;
  ImportOptions o;
  o.infer_shapes = size % 2 == 0;  // both paths, chosen by the input so that findings reproduce
  auto model = import_onnx_bytes(data, size, o);
  if (model.ok()) (void)(*model)->graph.nodes.size();
  return 0;
}
