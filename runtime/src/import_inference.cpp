#include "import_inference.h"

#include <google/protobuf/arena.h>
#include <onnx/defs/schema.h>
#include <onnx/defs/tensor_proto_util.h>
#include <onnx/shape_inference/implementation.h>

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "onnx_proto.h"

namespace switchyard {

namespace {

namespace si = onnx::shape_inference;

// How ONNX keys a model's local functions (implementation.h: "<domain>:<name>").
std::string function_id(const std::string& domain, const std::string& name) { return domain + ":" + name; }

const onnx::AttributeProto* find_attribute(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// A node's inputs and outputs as value ids of the graph (-1: omitted), looked up once per node and
// shared by its inference, its type records and its data propagation.
struct NodeValues {
  std::vector<int32_t> inputs, outputs;

  int32_t input(size_t i) const {
    if (i >= inputs.size()) throw onnx::InferenceError("input " + std::to_string(i) + " is out of bounds");
    return inputs[i];
  }
  int32_t output(size_t i) const {
    if (i >= outputs.size()) throw onnx::InferenceError("output " + std::to_string(i) + " is out of bounds");
    return outputs[i];
  }
};

// One inference over the top-level graph: the current type of each value (by value id, owned by
// the arena or shared with the proto's declarations copied into it), the data ONNX may read
// (Constant outputs, shapes propagated by Shape/Gather/Concat...), and the context that If/Loop/Scan
// bodies are inferred in, built on the first such node.
class GraphTypeInference {
 public:
  GraphTypeInference(onnx::ModelProto& mp, Model& model);
  void run();

 private:
  friend class NodeContext;
  friend class PropagationContext;

  void declare_types();
  void declare(const onnx::ValueInfoProto& vi);
  void infer(onnx::NodeProto& node);
  NodeValues values_of(const onnx::NodeProto& node) const;
  const onnx::OpSchema* schema_for(const onnx::NodeProto& node) const;
  const onnx::FunctionProto* local_function(const onnx::NodeProto& node) const;
  void record(int32_t id, const std::string& name, onnx::TypeProto* inferred);
  void remember_constant(const onnx::NodeProto& node, const NodeValues& values);
  void note_error(const onnx::NodeProto& node, const std::exception& e);

  int32_t value_id(const std::string& name) const { return name.empty() ? -1 : graph_.find_value(name); }
  const onnx::TypeProto* type_of(int32_t id) const { return id < 0 ? nullptr : types_[static_cast<size_t>(id)]; }
  void remember_initializer_data();
  const onnx::TensorProto* constant(int32_t id) const;
  const onnx::TensorShapeProto* shape_data(int32_t id);
  si::GraphInferenceContext& subgraph_context();

  onnx::ModelProto& mp_;
  Model& model_;
  Graph& graph_;
  google::protobuf::Arena arena_;
  std::vector<onnx::TypeProto*> types_;
  std::unordered_map<int32_t, const onnx::TensorProto*> constants_;
  std::unordered_map<int32_t, onnx::TensorShapeProto> shape_data_;
  std::unordered_map<std::string, int> opsets_;
  si::ModelLocalFunctionsMap local_functions_;
  mutable std::unordered_map<std::string, const onnx::OpSchema*> default_domain_schemas_;
  si::SymbolTableImpl symbols_;
  const onnx::ShapeInferenceOptions options_{false, 0, true};
  // For If/Loop/Scan bodies: every typed value by name, and shape data by name (ONNX's forms).
  std::unique_ptr<std::unordered_map<std::string, onnx::TypeProto*>> outer_scope_;
  std::unordered_map<std::string, onnx::TensorShapeProto> subgraph_shape_data_;
  std::unique_ptr<si::GraphInferenceContext> subgraph_context_;
  bool warned_ = false;
};

// What a node's inference function sees: its attributes, its inputs' types and known data (by
// value id), and fresh output types on the arena.
class NodeContext final : public onnx::InferenceContext {
 public:
  NodeContext(GraphTypeInference& state, onnx::NodeProto& node, const NodeValues& values)
      : state_(state), node_(node), values_(values) {
    outputs_.reserve(values.outputs.size());
    for (size_t i = 0; i < values.outputs.size(); ++i)
      outputs_.push_back(google::protobuf::Arena::CreateMessage<onnx::TypeProto>(&state.arena_));
  }

  const onnx::AttributeProto* getAttribute(const std::string& name) const override { return find_attribute(node_, name); }
  size_t getNumInputs() const override { return values_.inputs.size(); }
  const onnx::TypeProto* getInputType(size_t i) const override { return state_.type_of(values_.input(i)); }
  const onnx::TensorProto* getInputData(size_t i) const override { return state_.constant(values_.input(i)); }
  const onnx::SparseTensorProto* getInputSparseData(size_t i) const override {
    values_.input(i);  // bounds check; sparse Constants are not tracked
    return nullptr;
  }
  const onnx::TensorShapeProto* getSymbolicInput(size_t i) const override {
    auto it = state_.shape_data_.find(values_.input(i));
    return it == state_.shape_data_.end() ? nullptr : &it->second;
  }
  size_t getNumOutputs() const override { return outputs_.size(); }
  onnx::TypeProto* getOutputType(size_t i) override {
    if (i >= outputs_.size()) throw onnx::InferenceError("output " + std::to_string(i) + " is out of bounds");
    return outputs_[i];
  }
  onnx::GraphInferencer* getGraphAttributeInferencer(const std::string& name) override {
    for (auto& a : *node_.mutable_attribute()) {
      if (a.name() != name || !a.has_g()) continue;
      inferencers_.push_back(std::make_unique<si::GraphInferencerImpl>(*a.mutable_g(), state_.subgraph_context()));
      return inferencers_.back().get();
    }
    throw onnx::InferenceError("[TypeInferenceError] Attribute " + name + " does not contain a graph.");
  }

 private:
  GraphTypeInference& state_;
  onnx::NodeProto& node_;
  const NodeValues& values_;
  std::vector<onnx::TypeProto*> outputs_;
  std::vector<std::unique_ptr<onnx::GraphInferencer>> inferencers_;
};

// What a node's data-propagation function sees (Shape, Gather, Concat, arithmetic on shapes...):
// input types, the integer data its inputs are known to hold, and where to put its output's data.
// Output types are empty, as in ONNX's own context.
class PropagationContext final : public onnx::DataPropagationContext {
 public:
  PropagationContext(GraphTypeInference& state, const onnx::NodeProto& node, const NodeValues& values)
      : state_(state), node_(node), values_(values) {}

  const onnx::AttributeProto* getAttribute(const std::string& name) const override { return find_attribute(node_, name); }
  size_t getNumInputs() const override { return values_.inputs.size(); }
  const onnx::TypeProto* getInputType(size_t i) const override { return state_.type_of(values_.input(i)); }
  size_t getNumOutputs() const override { return values_.outputs.size(); }
  const onnx::TypeProto* getOutputType(size_t i) const override {
    values_.output(i);  // bounds check
    return &onnx::TypeProto::default_instance();
  }
  const onnx::TensorShapeProto* getInputData(size_t i) override { return state_.shape_data(values_.input(i)); }
  void addOutputData(size_t i, onnx::TensorShapeProto&& data) override {
    const int32_t id = values_.output(i);
    if (id >= 0 && !state_.shape_data_.emplace(id, std::move(data)).second)
      fail_shape_inference("Data for output ", i, " already exists.");
  }

 private:
  GraphTypeInference& state_;
  const onnx::NodeProto& node_;
  const NodeValues& values_;
};

GraphTypeInference::GraphTypeInference(onnx::ModelProto& mp, Model& model)
    : mp_(mp), model_(model), graph_(model.graph), types_(model.graph.values.size(), nullptr) {
  for (const auto& o : mp.opset_import()) opsets_[o.domain()] = static_cast<int>(o.version());
  for (const auto& f : mp.functions()) local_functions_[function_id(f.domain(), f.name())] = &f;
  si::TraverseGraphsToAddExistingSymbols(mp.graph(), symbols_);
  declare_types();
}

// The types the model declares (value_info, then inputs, then outputs: the last one wins, as in
// ONNX), and each initializer's type and shape where no input declares it.
void GraphTypeInference::declare_types() {
  const auto& gp = mp_.graph();
  for (const auto& vi : gp.value_info()) declare(vi);
  for (const auto& vi : gp.input()) declare(vi);
  for (const auto& vi : gp.output()) declare(vi);
  for (const auto& init : gp.initializer()) {
    const int32_t id = value_id(init.name());
    if (id < 0 || types_[static_cast<size_t>(id)]) continue;
    auto* type = google::protobuf::Arena::CreateMessage<onnx::TypeProto>(&arena_);
    auto* tensor = type->mutable_tensor_type();
    tensor->set_elem_type(init.data_type());
    auto* shape = tensor->mutable_shape();
    for (int64_t d : init.dims()) shape->add_dim()->set_dim_value(d);
    types_[static_cast<size_t>(id)] = type;
  }
  remember_initializer_data();
}

// Small integer initializers that are not graph inputs are data their readers may use, as ONNX's
// InferShapes offers them (a Reshape's shape, a Split's sizes, a Slice's starts): without them a
// Reshape whose shape is an initializer leaves its output, and everything after it, shapeless.
// Graph inputs are left out (a caller may override them), and so are external and large tensors.
void GraphTypeInference::remember_initializer_data() {
  constexpr int64_t kMaxElements = 64;
  std::set<std::string> inputs;
  for (const auto& vi : mp_.graph().input()) inputs.insert(vi.name());
  for (const auto& init : mp_.graph().initializer()) {
    if (inputs.count(init.name()) || init.data_location() == onnx::TensorProto::EXTERNAL) continue;
    if (init.data_type() != onnx::TensorProto::INT64 && init.data_type() != onnx::TensorProto::INT32) continue;
    int64_t n = 1;
    for (int64_t d : init.dims()) n *= d;
    if (init.dims_size() > 1 || n > kMaxElements) continue;
    const int32_t id = value_id(init.name());
    if (id >= 0) constants_[id] = &init;
  }
}

void GraphTypeInference::declare(const onnx::ValueInfoProto& vi) {
  const int32_t id = vi.has_type() ? value_id(vi.name()) : -1;
  if (id < 0) return;
  auto* type = google::protobuf::Arena::CreateMessage<onnx::TypeProto>(&arena_);
  type->CopyFrom(vi.type());
  types_[static_cast<size_t>(id)] = type;
}

void GraphTypeInference::run() {
  for (auto& node : *mp_.mutable_graph()->mutable_node()) infer(node);
}

// One node, as InferShapes handles it in error mode 0: an inference error leaves the outputs
// untyped and inference goes on; a conflict with a declared type becomes a warning.
void GraphTypeInference::infer(onnx::NodeProto& node) {
  const onnx::OpSchema* schema = schema_for(node);
  const onnx::FunctionProto* function = schema ? nullptr : local_function(node);
  if (!schema && !function) return;  // unknown here: its outputs stay as declared
  const NodeValues values = values_of(node);
  NodeContext ctx(*this, node, values);
  try {
    if (schema && schema->has_type_and_shape_inference_function()) {
      schema->GetTypeAndShapeInferenceFunction()(ctx);
    } else if (schema && schema->HasFunction()) {
      si::InferShapeForFunctionNode(*schema->GetFunction(), onnx::OpSchemaRegistry::Instance(), ctx, options_, local_functions_,
                                    &symbols_, &subgraph_shape_data_);
    } else if (function) {
      std::unordered_map<std::string, int> function_opsets = opsets_;
      for (const auto& o : function->opset_import()) function_opsets[o.domain()] = static_cast<int>(o.version());
      si::InferShapeForFunctionNode(*function, function_opsets, onnx::OpSchemaRegistry::Instance(), ctx, options_,
                                    local_functions_, &symbols_, &subgraph_shape_data_);
    }
  } catch (const onnx::InferenceError&) {
    return;
  } catch (const std::exception& e) {
    return note_error(node, e);
  }
  try {
    for (size_t i = 0; i < values.outputs.size(); ++i)
      record(values.outputs[i], node.output(static_cast<int>(i)), ctx.getOutputType(i));
  } catch (const std::exception& e) {
    return note_error(node, e);  // an inferred type that conflicts with a declared one
  }
  remember_constant(node, values);
  if (!schema || !schema->has_data_propagation_function()) return;
  try {
    PropagationContext propagation(*this, node, values);
    schema->GetDataPropagationFunction()(propagation);
  } catch (const onnx::InferenceError&) {
    // data propagation that could not run: later shapes are just less known
  } catch (const std::exception& e) {
    note_error(node, e);
  }
}

NodeValues GraphTypeInference::values_of(const onnx::NodeProto& node) const {
  NodeValues v;
  v.inputs.reserve(static_cast<size_t>(node.input_size()));
  for (const auto& in : node.input()) v.inputs.push_back(value_id(in));
  v.outputs.reserve(static_cast<size_t>(node.output_size()));
  for (const auto& out : node.output()) v.outputs.push_back(value_id(out));
  return v;
}

const onnx::OpSchema* GraphTypeInference::schema_for(const onnx::NodeProto& node) const {
  auto version = opsets_.find(node.domain());
  if (version == opsets_.end()) return nullptr;
  if (!node.domain().empty())
    return onnx::OpSchemaRegistry::Instance()->GetSchema(node.op_type(), version->second, node.domain());
  auto [it, added] = default_domain_schemas_.try_emplace(node.op_type(), nullptr);
  if (added) it->second = onnx::OpSchemaRegistry::Instance()->GetSchema(node.op_type(), version->second, "");
  return it->second;
}

const onnx::FunctionProto* GraphTypeInference::local_function(const onnx::NodeProto& node) const {
  if (local_functions_.empty()) return nullptr;
  auto it = local_functions_.find(function_id(node.domain(), node.op_type()));
  return it == local_functions_.end() ? nullptr : it->second;
}

// Merges an inferred type into what is known of the value (a conflict throws) and hands it to the
// graph where the graph's own type is less specific.
void GraphTypeInference::record(int32_t id, const std::string& name, onnx::TypeProto* inferred) {
  if (id < 0 || inferred->value_case() == onnx::TypeProto::VALUE_NOT_SET) return;
  si::MaterializeSymbolicShape(inferred, symbols_);
  onnx::TypeProto*& known = types_[static_cast<size_t>(id)];
  if (known) si::mergeShapesAndTypes(*inferred, known);
  else known = inferred;
  if (outer_scope_) (*outer_scope_)[name] = known;
  if (graph_.is_initializer(id)) return;
  ValueType& vt = graph_.values[static_cast<size_t>(id)].type;
  const bool less_specific = vt.kind == ValueType::Kind::unknown ||
                             (vt.kind == ValueType::Kind::tensor && (!vt.tensor.shape || vt.tensor.elem == ElementType::undefined));
  if (!less_specific) return;
  auto converted = onnx_proto::value_type_from_proto(*known, name);
  if (converted.ok()) vt = std::move(converted).value();
}

// A Constant's tensor is data later nodes may read (a Reshape's shape, a Slice's starts).
void GraphTypeInference::remember_constant(const onnx::NodeProto& node, const NodeValues& values) {
  if (node.op_type() != "Constant" || !node.domain().empty() || values.outputs.size() != 1 || values.outputs[0] < 0) return;
  const onnx::AttributeProto* a = find_attribute(node, "value");
  if (a && a->type() == onnx::AttributeProto::TENSOR && a->has_t()) constants_[values.outputs[0]] = &a->t();
}

void GraphTypeInference::note_error(const onnx::NodeProto& node, const std::exception& e) {
  if (warned_) return;
  warned_ = true;
  model_.warnings.push_back("shape inference incomplete: node '" + node.name() + "' (" + node.op_type() + "): " + e.what());
}

const onnx::TensorProto* GraphTypeInference::constant(int32_t id) const {
  auto it = constants_.find(id);
  return it == constants_.end() ? nullptr : it->second;
}

// The integers a value is known to hold: propagated from an earlier node, or read from a scalar or
// 1-D int32/int64 Constant (and kept for the next reader).
const onnx::TensorShapeProto* GraphTypeInference::shape_data(int32_t id) {
  if (id < 0) return nullptr;
  if (auto it = shape_data_.find(id); it != shape_data_.end()) return &it->second;
  const onnx::TensorProto* t = constant(id);
  if (!t || t->dims_size() > 1) return nullptr;
  onnx::TensorShapeProto data;
  try {
    if (t->data_type() == onnx::TensorProto::INT64) {
      for (int64_t v : onnx::ParseData<int64_t>(t)) data.add_dim()->set_dim_value(v);
    } else if (t->data_type() == onnx::TensorProto::INT32) {
      for (int32_t v : onnx::ParseData<int32_t>(t)) data.add_dim()->set_dim_value(v);
    } else {
      return nullptr;
    }
  } catch (const std::exception&) {
    return nullptr;  // data ONNX cannot read here (e.g. stored outside the model)
  }
  return &shape_data_.emplace(id, std::move(data)).first->second;
}

// If/Loop/Scan bodies are inferred by ONNX's graph inferencer, which reads outer values by name:
// the map of every typed value is built on the first such node and kept current from then on.
si::GraphInferenceContext& GraphTypeInference::subgraph_context() {
  if (subgraph_context_) return *subgraph_context_;
  outer_scope_ = std::make_unique<std::unordered_map<std::string, onnx::TypeProto*>>();
  for (size_t id = 0; id < types_.size(); ++id)
    if (types_[id]) (*outer_scope_)[graph_.values[id].name] = types_[id];
  subgraph_context_ = std::make_unique<si::GraphInferenceContext>(*outer_scope_, opsets_, &symbols_, local_functions_,
                                                                  onnx::OpSchemaRegistry::Instance(), &subgraph_shape_data_,
                                                                  static_cast<int>(mp_.ir_version()));
  return *subgraph_context_;
}

}  // namespace

void infer_imported_types(onnx::ModelProto& mp, Model& model) {
  if (!mp.has_graph()) return;  // the importer refuses it
  GraphTypeInference inference(mp, model);
  inference.run();
}

}  // namespace switchyard
