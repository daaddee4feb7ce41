// The signature of an ONNX model (its inputs and outputs) read without parsing its nodes or
// weights: a scan over the protobuf wire format that decodes only the graph's input, output and
// initializer-name fields. `switchyard run` needs no more before a cached load, so a fresh
// process does not pay for a full parse of a large model's weights.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/onnx_pb.h>

#include <functional>
#include <set>

#include "onnx_proto.h"
#include "switchyard/hal/mapped_file.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard {

namespace {

using google::protobuf::io::CodedInputStream;
using WireFormat = google::protobuf::internal::WireFormatLite;

// ModelProto.graph; GraphProto.initializer, .sparse_initializer, .input, .output;
// TensorProto.name; SparseTensorProto.values.
constexpr uint32_t kModelGraph = 7, kGraphInitializer = 5, kGraphSparseInitializer = 15, kGraphInput = 11, kGraphOutput = 12,
                   kTensorName = 8, kSparseValues = 1;

using FieldFn = std::function<void(uint32_t field, const unsigned char* data, size_t size)>;

// Calls `fn` for every length-delimited field of the message in [data, data + size) and skips
// the others. False if the bytes are not a well-formed message.
bool visit_fields(const unsigned char* data, size_t size, const FieldFn& fn) {
  CodedInputStream in(data, static_cast<int>(size));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return static_cast<size_t>(in.CurrentPosition()) == size;
    if (WireFormat::GetTagWireType(tag) != WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormat::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t len = 0;
    if (!in.ReadVarint32(&len)) return false;
    const size_t pos = static_cast<size_t>(in.CurrentPosition());
    if (len > size - pos) return false;
    fn(WireFormat::GetTagFieldNumber(tag), data + pos, len);
    if (!in.Skip(static_cast<int>(len))) return false;
  }
}

std::string tensor_name(const unsigned char* data, size_t size, bool* ok) {
  std::string name;
  *ok = visit_fields(data, size, [&](uint32_t f, const unsigned char* p, size_t n) {
          if (f == kTensorName) name.assign(reinterpret_cast<const char*>(p), n);
        }) && *ok;
  return name;
}

struct GraphFields {
  std::set<std::string> initializers;
  std::vector<onnx::ValueInfoProto> inputs, outputs;
  bool ok = true;
};

void scan_graph(const unsigned char* data, size_t size, GraphFields& g) {
  g.ok = visit_fields(data, size, [&](uint32_t f, const unsigned char* p, size_t n) {
           if (f == kGraphInitializer) {
             g.initializers.insert(tensor_name(p, n, &g.ok));
           } else if (f == kGraphSparseInitializer) {
             g.ok = visit_fields(p, n, [&](uint32_t sf, const unsigned char* sp, size_t sn) {
                      if (sf == kSparseValues) g.initializers.insert(tensor_name(sp, sn, &g.ok));
                    }) && g.ok;
           } else if (f == kGraphInput || f == kGraphOutput) {
             auto& list = f == kGraphInput ? g.inputs : g.outputs;
             list.emplace_back();
             g.ok = list.back().ParseFromArray(p, static_cast<int>(n)) && g.ok;
           }
         }) && g.ok;
}

Status bad(const std::filesystem::path& path, const std::string& why) {
  return Status(StatusCode::invalid_argument, "'" + path.string() + "' " + why);
}

}  // namespace

Result<std::shared_ptr<Model>> import_onnx_signature(const std::filesystem::path& path) {
  auto mapped = MappedFile::open(path, "model file");
  if (!mapped.ok()) {
    if (mapped.status().code() == StatusCode::not_found) return Status(StatusCode::not_found, "model file '" + path.string() + "' not found");
    return mapped.status();
  }
  const MappedFile& file = **mapped;
  if (file.size() == 0) return bad(path, "is empty (0 bytes)");
  if (file.size() > kMaxModelBytes) return bad(path, "is larger than the 2 GiB protobuf limit");
  GraphFields fields;
  const bool ok = visit_fields(file.data(), file.size(), [&](uint32_t f, const unsigned char* p, size_t n) {
    if (f == kModelGraph) scan_graph(p, n, fields);
  });
  if (!ok || !fields.ok)
    return bad(path, "is not a valid ONNX model: the protobuf message could not be parsed (truncated or not ONNX)");
  auto model = std::make_shared<Model>();
  model->path = path;
  Graph& g = model->graph;
  for (const auto& in : fields.inputs) {
    if (in.name().empty()) return bad(path, "has a graph input with no name");
    if (fields.initializers.count(in.name())) continue;  // IR < 4: initializers listed as inputs
    SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(in.type(), "graph input '" + in.name() + "'"));
    if (g.find_value(in.name()) >= 0) return bad(path, "declares graph input '" + in.name() + "' twice");
    g.inputs.push_back(g.add_value(in.name(), vt));
  }
  for (const auto& out : fields.outputs) {
    ValueType vt;
    if (auto t = onnx_proto::value_type_from_proto(out.type(), "graph output '" + out.name() + "'"); t.ok()) vt = *t;
    int32_t id = g.find_value(out.name());
    g.outputs.push_back(id >= 0 ? id : g.add_value(out.name(), vt));
  }
  return model;
}

}  // namespace switchyard
