// ONNX ModelProto -> Graph IR, with validation that names the node or tensor at fault.
#include "switchyard/runtime/onnx_import.h"

#include <onnx/defs/schema.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <functional>
#include <optional>

#include <google/protobuf/io/coded_stream.h>

#include "function_inline.h"
#include "import_inference.h"
#include "switchyard/hal/mapped_file.h"
#include "onnx_proto.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard {

namespace {

using onnx_proto::TensorContext;

Status bad(const std::string& msg) { return Status(StatusCode::invalid_argument, msg); }

// What a nested graph of `gp` may read: the outer names, the first `defined` values of `g` (initializers,
// inputs, value_info) and every node output of `gp`.
std::set<std::string> names_visible_to_subgraphs(const onnx::GraphProto& gp, const Graph& g, size_t defined,
                                                 const std::set<std::string>& outer) {
  std::set<std::string> scope = outer;
  for (size_t i = 0; i < defined; ++i) scope.insert(g.values[i].name);
  for (const auto& n : gp.node())
    for (const auto& o : n.output())
      if (!o.empty()) scope.insert(o);
  return scope;
}

std::string node_label(const onnx::NodeProto& n, int index) {
  std::string s = "node " + std::to_string(index) + " (" + n.op_type();
  if (!n.name().empty()) s += " '" + n.name() + "'";
  return s + ")";
}

std::string canonical_domain(const std::string& d) { return d == "ai.onnx" ? std::string() : d; }

class Importer {
 public:
  Importer(Model& model, const ImportOptions& options, std::shared_ptr<const void> owner)
      : model_(model), options_(options) {
    tctx_.owner = std::move(owner);
    tctx_.base_dir = options.base_dir;
    tctx_.mapped = &model.keepalive;
    tctx_.external_files = &model.external_data_files;
  }

  Status import_model(const onnx::ModelProto& mp) {
    model_.ir_version = mp.ir_version();
    model_.producer = mp.producer_name();
    if (!mp.has_graph()) return bad("the model has no graph");
    for (const auto& op : mp.opset_import()) {
      std::string d = canonical_domain(op.domain());
      if (op.version() <= 0) return bad("opset import for domain '" + op.domain() + "' has version " + std::to_string(op.version()));
      opsets_[d] = op.version();
    }
    if (mp.opset_import_size() == 0) {
      if (mp.ir_version() >= 3) return bad("the model imports no opset");
      opsets_[""] = 1;
    }
    for (const auto& f : mp.functions()) local_functions_.insert({canonical_domain(f.domain()), f.name()});
    for (const auto& [d, v] : opsets_) model_.graph.opsets.push_back({d, v});
    return convert_graph(mp.graph(), model_.graph, {});
  }

  // Converts `gp` into `g`. `outer` holds the names visible from enclosing graphs.
  Status convert_graph(const onnx::GraphProto& gp, Graph& g, const std::set<std::string>& outer) {
    g.name = gp.name();
    if (g.opsets.empty())
      for (const auto& [d, v] : opsets_) g.opsets.push_back({d, v});
    std::set<std::string> names_in_scope;
    for (const auto& init : gp.initializer()) {
      const std::string what = "initializer '" + init.name() + "'";
      if (init.name().empty()) return bad("an initializer has no name");
      if (g.find_value(init.name()) >= 0) return bad(what + " is defined twice");
      SY_ASSIGN_OR_RETURN(Tensor t, onnx_proto::tensor_from_proto(init, tctx_, what));
      ValueType vt;
      vt.kind = ValueType::Kind::tensor;
      vt.tensor.elem = t.type();
      vt.tensor.shape.emplace();
      for (int64_t d : t.shape()) vt.tensor.shape->push_back({d, {}});
      int32_t id = g.add_value(init.name(), vt);
      g.initializers[id] = std::move(t);
    }
    if (gp.sparse_initializer_size() > 0) return Status(StatusCode::unsupported, "sparse initializers are not supported yet");
    for (const auto& in : gp.input()) {
      const std::string what = "graph input '" + in.name() + "'";
      if (in.name().empty()) return bad("a graph input has no name");
      SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(in.type(), what));
      int32_t existing = g.find_value(in.name());
      if (existing >= 0 && g.is_initializer(existing)) continue;  // IR < 4: initializers listed as inputs
      if (existing >= 0) return bad(what + " is declared twice");
      g.inputs.push_back(g.add_value(in.name(), vt));
    }
    for (const auto& vi : gp.value_info()) {
      if (vi.name().empty()) continue;
      SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(vi.type(), "value '" + vi.name() + "'"));
      int32_t id = g.find_value(vi.name());
      if (id < 0) g.add_value(vi.name(), vt);
      else if (!g.is_initializer(id)) g.values[static_cast<size_t>(id)].type = vt;
    }
    // Names visible to nested graphs: everything defined so far plus node outputs. Built only if a
    // node has a graph attribute (most graphs have none, and the set costs a copy of every name).
    const size_t defined_before_nodes = g.values.size();
    std::optional<std::set<std::string>> scope;
    auto nested_scope = [&]() -> const std::set<std::string>& {
      if (!scope) scope = names_visible_to_subgraphs(gp, g, defined_before_nodes, outer);
      return *scope;
    };
    auto value_id = [&](const std::string& name) {  // the existing value, or a new one of unknown type
      ValueType unknown;
      unknown.kind = ValueType::Kind::unknown;
      return g.add_value(name, std::move(unknown));
    };

    g.nodes.reserve(static_cast<size_t>(gp.node_size()));
    for (int ni = 0; ni < gp.node_size(); ++ni) {
      const auto& np = gp.node(ni);
      const std::string label = node_label(np, ni);
      if (np.op_type().empty()) return bad(label + " has no operator type");
      Node n;
      n.name = np.name();
      n.domain = canonical_domain(np.domain());
      n.op_type = np.op_type();
      auto op = opsets_.find(n.domain);
      if (op == opsets_.end()) return bad(label + " uses domain '" + np.domain() + "', which the model does not import");
      n.opset = op->second;
      SY_RETURN_IF_ERROR(check_known_operator(n, label));
      for (const auto& in : np.input()) n.inputs.push_back(in.empty() ? -1 : value_id(in));
      for (const auto& out : np.output()) n.outputs.push_back(out.empty() ? -1 : value_id(out));
      std::set<std::string> attr_names;
      for (const auto& ap : np.attribute()) {
        if (!attr_names.insert(ap.name()).second) return bad(label + " has attribute '" + ap.name() + "' twice");
        Attribute a;
        SY_RETURN_IF_ERROR(convert_attribute(ap, a, label, nested_scope));
        n.attributes.push_back(std::move(a));
      }
      g.nodes.push_back(std::move(n));
    }
    for (const auto& out : gp.output()) {
      const std::string what = "graph output '" + out.name() + "'";
      if (g.find_value(out.name()) < 0 && !outer.count(out.name()))
        return bad(what + " is not produced by any node, input or initializer");
      int32_t id = value_id(out.name());
      if (out.has_type()) {
        SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(out.type(), what));
        if (!g.is_initializer(id)) g.values[static_cast<size_t>(id)].type = vt;
      }
      g.outputs.push_back(id);
    }
    if (g.outputs.empty() && outer.empty()) return bad("the graph has no outputs");
    SY_RETURN_IF_ERROR(check_convolution_ranks(gp, g));
    return g.topological_sort(std::vector<std::string>(outer.begin(), outer.end()));
  }

  // A convolution's data and weight must have the same rank (N, C, spatial... and M, C/group,
  // kernel...). ONNX's own shape inference (1.12) takes the kernel's rank from the weight and the
  // spatial rank from the data without comparing them, and reads past its arrays when they differ,
  // so a model that declares such ranks is refused here, before inference runs.
  static Status check_convolution_ranks(const onnx::GraphProto& gp, const Graph& g) {
    auto rank = [&](const Node& n, size_t input) -> int64_t {
      if (input >= n.inputs.size() || n.inputs[input] < 0) return -1;
      const ValueType& t = g.values[static_cast<size_t>(n.inputs[input])].type;
      if (t.kind != ValueType::Kind::tensor || !t.tensor.shape) return -1;
      return static_cast<int64_t>(t.tensor.shape->size());
    };
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      if (!n.domain.empty()) continue;
      size_t weight = 0;
      if (n.op_type == "Conv" || n.op_type == "ConvInteger" || n.op_type == "ConvTranspose") weight = 1;
      else if (n.op_type == "QLinearConv") weight = 3;
      else continue;
      const int64_t x = rank(n, 0), w = rank(n, weight);
      if (x >= 0 && w >= 0 && x != w)
        return bad(node_label(gp.node(static_cast<int>(i)), static_cast<int>(i)) + ": input '" +
                   g.value_name(n.inputs[0]) + "' has rank " + std::to_string(x) + " but weight '" + g.value_name(n.inputs[weight]) +
                   "' has rank " + std::to_string(w) + " (they must be equal)");
    }
    return {};
  }

  Status check_known_operator(const Node& n, const std::string& label) {
    if (!options_.reject_unknown_operators) return {};
    if (reference::KernelRegistry::instance().find(n.domain, n.op_type)) return {};
    if (onnx::OpSchemaRegistry::Schema(n.op_type, static_cast<int>(n.opset), n.domain)) return {};
    if (local_functions_.count({n.domain, n.op_type})) return {};
    return Status(StatusCode::unsupported, label + ": unknown operator '" + (n.domain.empty() ? "" : n.domain + "::") +
                                               n.op_type + "' (opset " + std::to_string(n.opset) + ")");
  }

  using ScopeFn = std::function<const std::set<std::string>&()>;
  Status convert_attribute(const onnx::AttributeProto& ap, Attribute& a, const std::string& label, const ScopeFn& scope) {
    a.name = ap.name();
    const std::string what = label + " attribute '" + ap.name() + "'";
    if (ap.name().empty()) return bad(label + " has an attribute with no name");
    if (!ap.ref_attr_name().empty()) return Status(StatusCode::unsupported, what + " refers to a function attribute");
    auto type = ap.type();
    if (type == onnx::AttributeProto::UNDEFINED) {  // very old models: infer from the field set
      if (ap.has_f()) type = onnx::AttributeProto::FLOAT;
      else if (ap.has_i()) type = onnx::AttributeProto::INT;
      else if (ap.has_s()) type = onnx::AttributeProto::STRING;
      else if (ap.has_t()) type = onnx::AttributeProto::TENSOR;
      else if (ap.has_g()) type = onnx::AttributeProto::GRAPH;
      else if (ap.floats_size()) type = onnx::AttributeProto::FLOATS;
      else if (ap.ints_size()) type = onnx::AttributeProto::INTS;
      else if (ap.strings_size()) type = onnx::AttributeProto::STRINGS;
      else return bad(what + " has no type and no value");
    }
    switch (type) {
      case onnx::AttributeProto::FLOAT: a.type = Attribute::Type::floating; a.f = ap.f(); return {};
      case onnx::AttributeProto::INT: a.type = Attribute::Type::integer; a.i = ap.i(); return {};
      case onnx::AttributeProto::STRING: a.type = Attribute::Type::string; a.s = ap.s(); return {};
      case onnx::AttributeProto::FLOATS: a.type = Attribute::Type::floats; a.floats.assign(ap.floats().begin(), ap.floats().end()); return {};
      case onnx::AttributeProto::INTS: a.type = Attribute::Type::ints; a.ints.assign(ap.ints().begin(), ap.ints().end()); return {};
      case onnx::AttributeProto::STRINGS: a.type = Attribute::Type::strings; a.strings.assign(ap.strings().begin(), ap.strings().end()); return {};
      case onnx::AttributeProto::TENSOR: {
        a.type = Attribute::Type::tensor;
        SY_ASSIGN_OR_RETURN(a.t, onnx_proto::tensor_from_proto(ap.t(), tctx_, what));
        return {};
      }
      case onnx::AttributeProto::TENSORS:
        a.type = Attribute::Type::tensors;
        for (const auto& tp : ap.tensors()) {
          SY_ASSIGN_OR_RETURN(Tensor t, onnx_proto::tensor_from_proto(tp, tctx_, what));
          a.tensors.push_back(std::move(t));
        }
        return {};
      case onnx::AttributeProto::SPARSE_TENSOR: {
        a.type = Attribute::Type::tensor;
        return densify(ap.sparse_tensor(), a.t, what);
      }
      case onnx::AttributeProto::GRAPH: {
        a.type = Attribute::Type::graph;
        a.g = std::make_shared<Graph>();
        return convert_graph(ap.g(), *a.g, scope()).with_context(what);
      }
      case onnx::AttributeProto::GRAPHS:
        a.type = Attribute::Type::graphs;
        for (const auto& gp : ap.graphs()) {
          auto sub = std::make_shared<Graph>();
          SY_RETURN_IF_ERROR(convert_graph(gp, *sub, scope()).with_context(what));
          a.graphs.push_back(std::move(sub));
        }
        return {};
      case onnx::AttributeProto::TYPE_PROTO: {
        a.type = Attribute::Type::type_proto;
        SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(ap.tp(), what));
        a.type_protos.push_back(std::move(vt));
        return {};
      }
      case onnx::AttributeProto::TYPE_PROTOS:
        a.type = Attribute::Type::type_protos;
        for (const auto& tp : ap.type_protos()) {
          SY_ASSIGN_OR_RETURN(ValueType vt, onnx_proto::value_type_from_proto(tp, what));
          a.type_protos.push_back(std::move(vt));
        }
        return {};
      default:
        return bad(what + " has unknown attribute type " + std::to_string(static_cast<int>(type)));
    }
  }

  Status densify(const onnx::SparseTensorProto& sp, Tensor& out, const std::string& what) {
    SY_ASSIGN_OR_RETURN(Tensor values, onnx_proto::tensor_from_proto(sp.values(), tctx_, what + " values"));
    SY_ASSIGN_OR_RETURN(Tensor indices, onnx_proto::tensor_from_proto(sp.indices(), tctx_, what + " indices"));
    Shape shape(sp.dims().begin(), sp.dims().end());
    try {
      out = Tensor::allocate(values.type(), shape);
    } catch (const Error& e) {
      return e.status().with_context(what);
    }
    if (values.type() == ElementType::string || is_sub_byte(values.type()))
      return Status(StatusCode::unsupported, what + ": sparse tensors of this type are not supported");
    if (indices.type() != ElementType::int64) return bad(what + ": sparse indices must be int64");
    const int64_t nnz = values.numel();
    const size_t esize = static_cast<size_t>(element_bits(values.type()) / 8);
    const int64_t* idx = indices.data<int64_t>();
    const int64_t rank = static_cast<int64_t>(shape.size());
    const bool linear = indices.rank() == 1;
    if ((linear && indices.numel() != nnz) || (!linear && indices.numel() != nnz * rank))
      return bad(what + ": sparse indices do not match the value count");
    for (int64_t k = 0; k < nnz; ++k) {
      int64_t flat = 0;
      if (linear) {
        flat = idx[k];
      } else {
        for (int64_t d = 0; d < rank; ++d) {
          int64_t i = idx[k * rank + d];
          if (i < 0 || i >= shape[static_cast<size_t>(d)]) return bad(what + ": sparse index out of range");
          flat = flat * shape[static_cast<size_t>(d)] + i;
        }
      }
      if (flat < 0 || flat >= out.numel()) return bad(what + ": sparse index out of range");
      std::memcpy(static_cast<char*>(out.raw_mutable()) + static_cast<size_t>(flat) * esize,
                  static_cast<const char*>(values.raw()) + static_cast<size_t>(k) * esize, esize);
    }
    return {};
  }

 private:
  Model& model_;
  const ImportOptions& options_;
  TensorContext tctx_;
  std::map<std::string, int64_t> opsets_;
  std::set<std::pair<std::string, std::string>> local_functions_;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Result<std::shared_ptr<Model>> import_parsed(std::shared_ptr<onnx::ModelProto> mp, const ImportOptions& options,
                                             const std::filesystem::path& path) {
  auto model = std::make_shared<Model>();
  model->path = path;
  auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::string> expanded;
    SY_RETURN_IF_ERROR(onnx_proto::expand_functions(*mp, &expanded));
    for (auto& note : expanded) model->warnings.push_back(std::move(note));
  }
  {
    Importer importer(*model, options, mp);  // tensors that wrap the proto's bytes hold `mp`
    SY_RETURN_IF_ERROR(importer.import_model(*mp));
  }
  model->times.convert_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  if (options.infer_shapes) infer_imported_types(*mp, *model);  // only on a model that passed
  model->times.infer_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  mp.reset();
  model->times.release_ms = ms_since(start);
  return model;
}

}  // namespace

namespace {
// Parses the protobuf. On failure, says whether the bytes are a model nested deeper than protobuf's
// recursion limit (100: subgraphs within subgraphs) rather than truncated or not ONNX, by trying
// again with a higher limit only to word the error.
Status parse_model(const void* data, size_t size, onnx::ModelProto& mp, const std::string& what) {
  if (size == 0) return bad(what + " is empty (0 bytes)");
  if (mp.ParseFromArray(data, static_cast<int>(size))) return {};
  google::protobuf::io::CodedInputStream deep(static_cast<const uint8_t*>(data), static_cast<int>(size));
  deep.SetRecursionLimit(1000);
  onnx::ModelProto probe;
  if (probe.ParseFromCodedStream(&deep) && deep.ConsumedEntireMessage())
    return bad(what + " nests messages (graphs within graphs) deeper than protobuf's limit of 100 levels");
  return bad(what + " is not a valid ONNX model: the protobuf message could not be parsed (truncated or not ONNX)");
}
}  // namespace

Result<std::shared_ptr<Model>> import_onnx_bytes(const void* data, size_t size, const ImportOptions& options) {
  if (size > kMaxModelBytes) return bad("model of " + std::to_string(size) + " bytes exceeds the 2 GiB protobuf limit");
  auto start = std::chrono::steady_clock::now();
  auto mp = std::make_shared<onnx::ModelProto>();
  SY_RETURN_IF_ERROR(parse_model(data, size, *mp, "the model"));
  double parse_ms = ms_since(start);
  auto result = import_parsed(std::move(mp), options, {});
  if (result.ok()) (*result)->times.parse_ms = parse_ms;
  return result;
}

Result<std::shared_ptr<Model>> import_onnx_file(const std::filesystem::path& path, const ImportOptions& options) {
  auto file = MappedFile::open(path, "model file");
  if (!file.ok()) {
    if (file.status().code() == StatusCode::not_found) return Status(StatusCode::not_found, "model file '" + path.string() + "' not found");
    return file.status();
  }
  if ((*file)->size() > kMaxModelBytes) return bad("'" + path.string() + "' is larger than the 2 GiB protobuf limit");
  auto start = std::chrono::steady_clock::now();
  auto mp = std::make_shared<onnx::ModelProto>();
  SY_RETURN_IF_ERROR(parse_model((*file)->data(), (*file)->size(), *mp, "'" + path.string() + "'"));
  double parse_ms = ms_since(start);
  file->reset();  // the parsed message holds copies of what it needs
  ImportOptions opts = options;
  if (opts.base_dir.empty()) opts.base_dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  auto result = import_parsed(std::move(mp), opts, path);
  if (!result.ok()) return result.status().with_context(path.filename().string());
  (*result)->times.parse_ms = parse_ms;
  return result;
}

}  // namespace switchyard
