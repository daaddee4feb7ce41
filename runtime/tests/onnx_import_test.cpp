// ONNX import tests: valid models, and every malformed fixture gives an error naming the culprit.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/stat.h>

#include <fstream>

#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "tests" / "fixtures" / "malformed";

TEST(OnnxImport, ValidSmallModel) {
  auto m = import_onnx_file(kFixtures / "valid_small.onnx");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Graph& g = (*m)->graph;
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op_type, "Add");
  EXPECT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.initializers.size(), 1u);
  EXPECT_EQ(g.opset_version(""), 17);
  // Shape inference filled the output type.
  const auto& y = g.values[static_cast<size_t>(g.outputs[0])].type.tensor;
  ASSERT_TRUE(y.shape.has_value());
  EXPECT_EQ(y.to_string(), "float32[2,3]");
}

TEST(OnnxImport, BundledModelImports) {
  auto m = import_onnx_file(std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ((*m)->graph.nodes.size(), 9u);
}

TEST(OnnxImport, FromBytesRefusesExternalData) {
  std::ifstream in(kFixtures / "13_external_missing_file.onnx", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto m = import_onnx_bytes(bytes.data(), bytes.size());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("external data is not allowed"), std::string::npos) << m.status().message();
}

struct MalformedCase {
  const char* file;
  const char* expect;  // substring the error must contain
};

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, GivesAClearError) {
  const auto& c = GetParam();
  auto m = import_onnx_file(kFixtures / c.file);
  ASSERT_FALSE(m.ok()) << c.file << " imported without error";
  EXPECT_NE(m.status().message().find(c.expect), std::string::npos)
      << c.file << ": error \"" << m.status().message() << "\" does not mention \"" << c.expect << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, Malformed,
    ::testing::Values(MalformedCase{"01_truncated.onnx", "could not be parsed"},
                      MalformedCase{"02_not_protobuf.onnx", "could not be parsed"},
                      MalformedCase{"03_empty.onnx", "empty"},
                      MalformedCase{"04_raw_data_size_mismatch.onnx", "initializer 'w': raw data has 20 bytes"},
                      MalformedCase{"05_dims_overflow.onnx", "initializer 'w': the product of dimensions"},
                      MalformedCase{"06_negative_dim.onnx", "initializer 'w': has a negative dimension"},
                      MalformedCase{"07_cycle.onnx", "cycle"},
                      MalformedCase{"08_missing_producer.onnx", "Relu 'relu' reads value 'ghost'"},
                      MalformedCase{"09_unknown_operator.onnx", "unknown operator 'FrobnicateTensor'"},
                      MalformedCase{"10_unknown_element_type.onnx", "initializer 'w': unknown element type 99"},
                      MalformedCase{"11_external_absolute_path.onnx", "is absolute"},
                      MalformedCase{"12_external_dotdot.onnx", "contains '..'"},
                      MalformedCase{"13_external_missing_file.onnx", "not found"},
                      MalformedCase{"14_external_out_of_range.onnx", "initializer 'w': external data [8, +24) lies beyond the end"},
                      MalformedCase{"15_value_produced_twice.onnx", "produced by both"},
                      MalformedCase{"16_output_not_produced.onnx", "graph output 'not_produced'"},
                      MalformedCase{"17_no_graph.onnx", "no graph"},
                      MalformedCase{"18_domain_not_imported.onnx", "uses domain 'com.example.private'"},
                      MalformedCase{"19_typed_data_count_mismatch.onnx", "initializer 'w': has 5 values"},
                      MalformedCase{"20_unknown_attribute_type.onnx", "attribute 'mystery' has no type"},
                      MalformedCase{"21_input_unknown_element_type.onnx", "graph input 'x': unknown element type 1234"},
                      MalformedCase{"22_duplicate_attribute.onnx", "has attribute 'alpha' twice"},
                      MalformedCase{"23_no_opset_import.onnx", "imports no opset"}));

TEST(OnnxImport, ExternalDataInsideFolderIsMapped) {
  // The out-of-range fixture reads 24 bytes at offset 8: with a 32-byte file it is valid.
  auto dir = std::filesystem::temp_directory_path() / ("sy_external_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kFixtures / "14_external_out_of_range.onnx", dir / "model.onnx",
                             std::filesystem::copy_options::overwrite_existing);
  {
    std::ofstream out(dir / "weights.bin", std::ios::binary);
    std::vector<float> values = {-1, -2, 0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
    out.write(reinterpret_cast<const char*>(values.data()), 32);
  }
  auto m = import_onnx_file(dir / "model.onnx");
  std::filesystem::remove_all(dir);  // the mapping stays valid after unlink
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Tensor& w = (*m)->graph.initializers.begin()->second;
  EXPECT_EQ(w.shape(), (Shape{2, 3}));
  EXPECT_EQ(w.data<float>()[0], 0.5f);
  EXPECT_EQ(w.data<float>()[5], 5.5f);
}

TEST(OnnxImport, FunctionsAreExpandedIntoTheirBodies) {
  auto m = import_onnx_file(std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "tests/fixtures/functions/local_functions.onnx");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const Graph& g = (*m)->graph;
  std::vector<std::string> ops;
  for (const auto& n : g.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (std::vector<std::string>{"Sigmoid", "Mul", "LeakyRelu"}));
  ASSERT_NE(g.nodes[2].attr("alpha"), nullptr);
  EXPECT_FLOAT_EQ(g.nodes[2].attr_float("alpha", 0), 0.25f);
  bool noted = false;
  for (const auto& w : (*m)->warnings) noted = noted || w.find("MySwish 'swish' expanded from the model's function") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(OnnxImport, SymlinkLeavingTheFolderIsRefused) {
  auto dir = std::filesystem::temp_directory_path() / ("sy_symlink_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kFixtures / "13_external_missing_file.onnx", dir / "model.onnx",
                             std::filesystem::copy_options::overwrite_existing);
  std::error_code ec;
  std::filesystem::remove(dir / "no_such_weights.bin", ec);
  std::filesystem::create_symlink("/etc/hostname", dir / "no_such_weights.bin");
  auto m = import_onnx_file(dir / "model.onnx");
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("outside the model's folder"), std::string::npos) << m.status().message();
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// If nodes nested 60 deep (180 protobuf message levels): past protobuf's recursion limit of 100.
// The error says so; it used to call the model "truncated or not ONNX" (issue 14, finding 8).
TEST(OnnxImport, NestingPastProtobufsLimitIsNamed) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  for (int level = 0; level < 60; ++level) {
    g->set_name("level" + std::to_string(level));
    onnx::NodeProto* n = g->add_node();
    n->set_op_type("If");
    n->add_input("c");
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto::GRAPH);
    g = a->mutable_g();
  }
  const std::string bytes = m.SerializeAsString();
  auto model = import_onnx_bytes(bytes.data(), bytes.size());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("deeper than protobuf's limit of 100 levels"), std::string::npos) << model.status().message();
  auto truncated = import_onnx_bytes(bytes.data(), bytes.size() / 2);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("truncated or not ONNX"), std::string::npos) << truncated.status().message();
}

// A Conv whose weight has another rank than its input (found by fuzz_onnx_import): ONNX 1.12's
// shape inference read past its arrays (SIGSEGV); the importer refuses the model, naming the node.
TEST(OnnxImport, ConvolutionWithWeightOfAnotherRankIsRefused) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  auto declare = [](onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  };
  declare(g->add_input(), "x", {1, 1, 4});  // rank 3: one spatial dimension
  onnx::TensorProto* w = g->add_initializer();  // rank 4: a 2x2 kernel
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {1, 1, 2, 2}) w->add_dims(d);
  for (int i = 0; i < 4; ++i) w->add_float_data(1.0f);
  onnx::NodeProto* n = g->add_node();
  n->set_name("conv");
  n->set_op_type("Conv");
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  declare(g->add_output(), "y", {1});
  const std::string bytes = m.SerializeAsString();
  for (bool infer : {true, false}) {
    ImportOptions o;
    o.infer_shapes = infer;
    auto model = import_onnx_bytes(bytes.data(), bytes.size(), o);
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), StatusCode::invalid_argument);
    EXPECT_NE(model.status().message().find("'x' has rank 3 but weight 'w' has rank 4"), std::string::npos) << model.status().message();
    EXPECT_NE(model.status().message().find("conv"), std::string::npos) << model.status().message();
  }
}

// A directory or a FIFO given as a model or tensor file is named as what it is, not "not found".
TEST(OnnxImport, DirectoriesAndFifosAreNamedAsSuch) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "odd_inputs";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "folder.onnx");
  ASSERT_EQ(::mkfifo((dir / "fifo.npy").c_str(), 0644), 0);
  auto model = import_onnx_file(dir / "folder.onnx");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("is a directory"), std::string::npos) << model.status().message();
  auto tensor = load_tensor_file(dir / "fifo.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_NE(tensor.status().message().find("is not a regular file"), std::string::npos) << tensor.status().message();
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// x -> Relu -> Constant-added -> y, with no value_info: every intermediate type comes from ONNX's
// inference. With `subgraph`, an If (both branches Identity of the sum) sits before y: ONNX infers
// into its branches, which share the parsed proto's nodes.
std::string inferred_chain_model(bool subgraph) {
  onnx::ModelProto mp;
  mp.set_ir_version(8);
  mp.add_opset_import()->set_version(17);
  auto* g = mp.mutable_graph();
  g->set_name("chain");
  auto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {2, 3}) x->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->add_input("x");
  relu->add_output("r");
  auto* constant = g->add_node();
  constant->set_op_type("Constant");
  constant->add_output("c");
  auto* value = constant->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  value->mutable_t()->add_dims(3);
  const float c[3] = {1.5f, -2.5f, 4.0f};
  value->mutable_t()->set_raw_data(std::string(reinterpret_cast<const char*>(c), sizeof c));
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->add_input("r");
  add->add_input("c");
  add->add_output(subgraph ? "s" : "y");
  if (subgraph) {
    auto* cond = g->add_input();
    cond->set_name("cond");
    cond->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::BOOL);
    cond->mutable_type()->mutable_tensor_type()->mutable_shape();
    auto* branch_if = g->add_node();
    branch_if->set_op_type("If");
    branch_if->add_input("cond");
    branch_if->add_output("y");
    for (const char* name : {"then_branch", "else_branch"}) {
      auto* a = branch_if->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::GRAPH);
      auto* b = a->mutable_g();
      b->set_name(name);
      auto* id = b->add_node();
      id->set_op_type("Identity");
      id->add_input("s");
      id->add_output(std::string(name) + "_out");
      b->add_output()->set_name(std::string(name) + "_out");
    }
  }
  g->add_output()->set_name("y");
  return mp.SerializeAsString();
}

// ONNX's shape inference, run on the structure that shares the proto's nodes, fills every
// intermediate type, with and without a subgraph, and a Constant's tensor that wraps the parsed
// proto's bytes stays valid after the import has released the proto.
TEST(OnnxImport, InferenceOnSharedNodesFillsEveryType) {
  for (bool subgraph : {false, true}) {
    const std::string bytes = inferred_chain_model(subgraph);
    auto m = import_onnx_bytes(bytes.data(), bytes.size());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    const Graph& g = (*m)->graph;
    for (const char* name : {"r", "c", subgraph ? "s" : "y"}) {
      int32_t id = g.find_value(name);
      ASSERT_GE(id, 0) << name;
      EXPECT_EQ(g.values[static_cast<size_t>(id)].type.tensor.to_string(), std::string(name) == "c" ? "float32[3]" : "float32[2,3]")
          << name << (subgraph ? " (with a subgraph)" : "");
    }
    EXPECT_TRUE((*m)->warnings.empty()) << (*m)->warnings.front();
    const Node* constant = nullptr;
    for (const auto& n : g.nodes)
      if (n.op_type == "Constant") constant = &n;
    ASSERT_NE(constant, nullptr);
    const Tensor& c = constant->attr("value")->t;
    ASSERT_EQ(c.numel(), 3);
    EXPECT_EQ(c.data<float>()[1], -2.5f);
    EXPECT_EQ(c.data<float>()[2], 4.0f);
  }
}

}  // namespace
}  // namespace switchyard
