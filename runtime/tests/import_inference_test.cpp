// Import-time type inference (runtime/src/import_inference.cpp, node by node) against ONNX's
// whole-graph InferShapes, which it replaced: on every model of the ONNX node-test corpus, each
// value of the imported graph must get the same type both ways. Skips when ../shared is absent.
#include <gtest/gtest.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "../src/function_inline.h"
#include "../src/onnx_proto.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

bool less_specific(const ValueType& vt) {
  return vt.kind == ValueType::Kind::unknown ||
         (vt.kind == ValueType::Kind::tensor && (!vt.tensor.shape || vt.tensor.elem == ElementType::undefined));
}

// Whether import inference offers an initializer's values to its readers: small 1-D integer
// tensors that are not graph inputs (import_inference.cpp, remember_initializer_data).
bool initializer_is_data(const onnx::TensorProto& init, const std::unordered_set<std::string>& inputs) {
  int64_t n = 1;
  for (int64_t d : init.dims()) n *= d;
  return !inputs.count(init.name()) && init.data_location() != onnx::TensorProto::EXTERNAL && init.dims_size() <= 1 && n <= 64 &&
         (init.data_type() == onnx::TensorProto::INT64 || init.data_type() == onnx::TensorProto::INT32);
}

// The oracle: ONNX's InferShapes (error mode 0, data propagation on) on the model with every
// initializer but the data ones (initializer_is_data) declared as a typed input, each inferred type
// copied where the graph's is less specific.
void infer_whole_graph(onnx::ModelProto mp, Graph& g) {
  std::unordered_set<std::string> inputs;
  for (const auto& in : mp.graph().input()) inputs.insert(in.name());
  google::protobuf::RepeatedPtrField<onnx::TensorProto> data;
  for (const auto& init : mp.graph().initializer()) {
    if (initializer_is_data(init, inputs)) *data.Add() = init;
    if (inputs.count(init.name()) || initializer_is_data(init, inputs)) continue;
    auto* tt = mp.mutable_graph()->add_input();
    tt->set_name(init.name());
    auto* t = tt->mutable_type()->mutable_tensor_type();
    t->set_elem_type(init.data_type());
    auto* shape = t->mutable_shape();
    for (int64_t d : init.dims()) shape->add_dim()->set_dim_value(d);
  }
  mp.mutable_graph()->clear_initializer();
  *mp.mutable_graph()->mutable_initializer() = std::move(data);
  try {
    onnx::ShapeInferenceOptions options(false, 0, true);
    onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception&) {
    return;  // the replaced path applied nothing when inference threw
  }
  auto apply = [&](const onnx::ValueInfoProto& vi) {
    int32_t id = g.find_value(vi.name());
    if (id < 0 || g.is_initializer(id)) return;
    auto& vt = g.values[static_cast<size_t>(id)].type;
    auto inferred = onnx_proto::value_type_from_proto(vi.type(), vi.name());
    if (inferred.ok() && less_specific(vt)) vt = inferred.value();
  };
  for (const auto& vi : mp.graph().value_info()) apply(vi);
  for (const auto& vi : mp.graph().output()) apply(vi);
}

// The corpus's models and the benchmark models (../shared/models).
std::vector<fs::path> model_files(const fs::path& shared) {
  std::vector<fs::path> files;
  for (const auto& dir : fs::directory_iterator(shared / "onnx-backend" / "node"))
    if (fs::is_regular_file(dir.path() / "model.onnx")) files.push_back(dir.path() / "model.onnx");
  if (fs::is_directory(shared / "models"))
    for (const auto& f : fs::directory_iterator(shared / "models"))
      if (f.path().extension() == ".onnx") files.push_back(f.path());
  return files;
}

TEST(ImportInference, AgreesWithOnnxWholeGraphInferenceOnTheCorpus) {
  const fs::path shared = SWITCHYARD_SHARED_DIR;
  if (!fs::is_directory(shared / "onnx-backend" / "node"))
    GTEST_SKIP() << "corpus not found in " << shared << " (../shared is not beside the checkout)";
  int models = 0, values = 0, typed = 0, typed_by_inference = 0, differences = 0;
  std::string report;
  for (const fs::path& file : model_files(shared)) {
    auto inferred = import_onnx_file(file);
    ImportOptions plain;
    plain.infer_shapes = false;
    auto oracle = import_onnx_file(file, plain);
    ASSERT_EQ(inferred.ok(), oracle.ok()) << file;
    if (!inferred.ok()) continue;
    onnx::ModelProto mp;
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(mp.ParseFromIstream(&in)) << file;
    ASSERT_TRUE(onnx_proto::expand_functions(mp, nullptr).ok()) << file;
    Graph& expected = (*oracle)->graph;
    std::vector<std::string> declared;
    for (const auto& v : expected.values) declared.push_back(v.type.to_string());
    infer_whole_graph(std::move(mp), expected);
    for (size_t i = 0; i < declared.size(); ++i) typed_by_inference += declared[i] != expected.values[i].type.to_string();
    ++models;
    const Graph& got = (*inferred)->graph;
    for (const auto& v : got.values) {
      ++values;
      if (!less_specific(v.type)) ++typed;
      const int32_t id = expected.find_value(v.name);
      const std::string want = id < 0 ? "(absent)" : expected.values[static_cast<size_t>(id)].type.to_string();
      if (want == v.type.to_string()) continue;
      if (++differences <= 25)
        report += "\n  " + file.parent_path().filename().string() + "/" + file.filename().string() + ": '" + v.name + "' " + v.type.to_string() + ", ONNX: " + want;
    }
  }
  std::printf("%d models, %d values (%d typed, %d of them by inference), %d differences\n", models, values, typed,
              typed_by_inference, differences);
  EXPECT_GT(models, 1000);
  EXPECT_GT(typed_by_inference, 1000);  // the comparison covers what inference does, not only declared types
  EXPECT_EQ(differences, 0) << report;
}

// x[1,4,6] -> Reshape(x, shape) -> y, `shape` an int64 initializer {1, 2, 12}.
onnx::ModelProto reshape_by_initializer(bool shape_is_also_an_input) {
  onnx::ModelProto mp;
  mp.set_ir_version(8);
  mp.add_opset_import()->set_version(17);
  auto* g = mp.mutable_graph();
  g->set_name("reshape");
  auto add_io = [](onnx::ValueInfoProto* vi, const std::string& name, int elem, std::vector<int64_t> dims) {
    vi->set_name(name);
    auto* t = vi->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_io(g->add_input(), "x", onnx::TensorProto::FLOAT, {1, 4, 6});
  if (shape_is_also_an_input) add_io(g->add_input(), "shape", onnx::TensorProto::INT64, {3});
  auto* y = g->add_output();
  y->set_name("y");
  y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto* init = g->add_initializer();
  init->set_name("shape");
  init->set_data_type(onnx::TensorProto::INT64);
  init->add_dims(3);
  for (int64_t d : {1, 2, 12}) init->add_int64_data(d);
  auto* n = g->add_node();
  n->set_op_type("Reshape");
  n->set_name("r");
  n->add_input("x");
  n->add_input("shape");
  n->add_output("y");
  return mp;
}

TEST(ImportInference, SmallIntegerInitializersAreDataForTheirReaders) {
  for (bool overridable : {false, true}) {
    std::string bytes;
    ASSERT_TRUE(reshape_by_initializer(overridable).SerializeToString(&bytes));
    auto model = import_onnx_bytes(bytes.data(), bytes.size());
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    const Graph& g = (*model)->graph;
    const auto& y = g.values[static_cast<size_t>(g.find_value("y"))].type;
    // An initializer that is also a graph input may be overridden at run time: not data.
    if (overridable) {
      EXPECT_FALSE(y.tensor.has_static_shape()) << y.to_string();
    } else {
      ASSERT_TRUE(y.tensor.has_static_shape()) << y.to_string();
      EXPECT_EQ(*y.tensor.static_shape(), (Shape{1, 2, 12}));
    }
  }
}

}  // namespace
}  // namespace switchyard
