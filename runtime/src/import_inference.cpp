#include "import_inference.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <optional>
#include <string>
#include <unordered_set>

#include "onnx_proto.h"

namespace switchyard {

namespace {

// The model without its nodes and weights, with every initializer not listed as an input declared
// as one (its type and shape), for ONNX's inference.
onnx::ModelProto structure_without_nodes(const onnx::ModelProto& mp) {
  onnx::ModelProto copy;
  copy.set_ir_version(mp.ir_version());
  *copy.mutable_opset_import() = mp.opset_import();
  *copy.mutable_functions() = mp.functions();
  auto* g = copy.mutable_graph();
  *g->mutable_input() = mp.graph().input();
  *g->mutable_output() = mp.graph().output();
  *g->mutable_value_info() = mp.graph().value_info();
  std::unordered_set<std::string> inputs;
  for (const auto& in : mp.graph().input()) inputs.insert(in.name());
  for (const auto& init : mp.graph().initializer()) {
    if (inputs.count(init.name())) continue;
    auto* vi = g->add_input();
    vi->set_name(init.name());
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(init.data_type());
    auto* shape = tt->mutable_shape();
    for (int64_t d : init.dims()) shape->add_dim()->set_dim_value(d);
  }
  return copy;
}

std::optional<std::string> infer(onnx::ModelProto& structure) {
  try {
    onnx::ShapeInferenceOptions opts(false, 0, true);
    onnx::shape_inference::InferShapes(structure, onnx::OpSchemaRegistry::Instance(), opts);
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

// Copies value types ONNX inferred into the graph where the graph's are less specific.
void apply_inferred_types(const onnx::GraphProto& gp, Graph& g) {
  auto apply = [&](const onnx::ValueInfoProto& vi) {
    int32_t id = g.find_value(vi.name());
    if (id < 0 || g.is_initializer(id)) return;
    auto& vt = g.values[static_cast<size_t>(id)].type;
    auto inferred = onnx_proto::value_type_from_proto(vi.type(), vi.name());
    if (!inferred.ok()) return;
    if (vt.kind == ValueType::Kind::unknown || (vt.kind == ValueType::Kind::tensor && !vt.tensor.shape) ||
        (vt.kind == ValueType::Kind::tensor && vt.tensor.elem == ElementType::undefined))
      vt = inferred.value();
  };
  for (const auto& vi : gp.value_info()) apply(vi);
  for (const auto& vi : gp.output()) apply(vi);
}

}  // namespace

ImportInference::ImportInference(onnx::ModelProto& mp) : structure_(structure_without_nodes(mp)) {
  // The nodes are shared, not copied (a 10^6-node copy cost a second): the structure holds the
  // same objects, handed back unowned before it is destroyed (protobuf's documented pattern).
  if (!mp.has_graph()) return;  // the importer refuses it; mutable_graph() would invent one
  auto* nodes = structure_.mutable_graph()->mutable_node();
  nodes->Reserve(mp.graph().node_size());
  for (auto& node : *mp.mutable_graph()->mutable_node()) nodes->UnsafeArenaAddAllocated(&node);
}

ImportInference::~ImportInference() { release_shared_nodes(); }

void ImportInference::release_shared_nodes() {
  auto* nodes = structure_.mutable_graph()->mutable_node();
  nodes->UnsafeArenaExtractSubrange(0, nodes->size(), nullptr);
}

void ImportInference::run(Model& model) {
  std::optional<std::string> error = infer(structure_);
  if (error) {
    model.warnings.push_back("shape inference incomplete: " + *error);
    return;
  }
  apply_inferred_types(structure_.graph(), model.graph);
}

}  // namespace switchyard
