// ONNX import: ModelProto (file or bytes) -> Graph IR.
//
// Weights are wrapped, not copied: tensors point into the parsed protobuf (each such tensor
// keeps it alive; a model without them frees it after import) or into memory-mapped external
// data files. Every malformed input gives
// a Status naming the node, value or tensor at fault; nothing is allocated from an
// unchecked size.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

struct ImportOptions {
  // Run ONNX shape inference to fill in value types (best effort: failures are ignored).
  bool infer_shapes = true;
  // Refuse nodes whose operator neither ONNX's schema registry nor the reference knows.
  bool reject_unknown_operators = true;
  // Folder that external data paths are confined to (defaults to the model's folder;
  // for models given as bytes with no folder, external data is refused).
  std::filesystem::path base_dir;
};

// Where an import's time went (wall milliseconds), for benchmarks.
struct ImportTimes {
  double parse_ms = 0;    // protobuf parse
  double convert_ms = 0;  // function expansion, ModelProto -> Graph, validation
  double infer_ms = 0;    // ONNX shape inference and applying its types
  double release_ms = 0;  // freeing the parsed proto (nothing wraps it) and its leftovers
};

struct Model {
  Graph graph;
  int64_t ir_version = 0;
  std::string producer;
  std::filesystem::path path;  // empty for models from bytes
  std::vector<std::string> warnings;
  // External data files the weights came from (relative to the model's folder), in first-use order.
  std::vector<std::string> external_data_files;
  ImportTimes times;
  std::vector<std::shared_ptr<const void>> keepalive;  // mapped external-data files (tensors wrapping the parsed proto hold it themselves)
};

Result<std::shared_ptr<Model>> import_onnx_file(const std::filesystem::path& path, const ImportOptions& options = {});
Result<std::shared_ptr<Model>> import_onnx_bytes(const void* data, size_t size, const ImportOptions& options = {});

// The model's inputs and outputs only (names, types, shapes): `graph` has no nodes and no
// initializers. Reads the file without parsing nodes or weights, for callers that need the
// signature before a (possibly cached) load. A model that scans cleanly may still fail a full
// import.
Result<std::shared_ptr<Model>> import_onnx_signature(const std::filesystem::path& path);

// Largest model file we parse in memory (protobuf's own limit is 2 GiB).
inline constexpr size_t kMaxModelBytes = size_t{2} << 30;

}  // namespace switchyard
