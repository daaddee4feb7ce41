// A whole model loaded on the real CPU plugin as one segment (loaded through the ABI), checked against the
// reference and the models' expected outputs; the CLI's handling of malformed models.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>

#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = SWITCHYARD_SOURCE_DIR;
const fs::path kShared = SWITCHYARD_SHARED_DIR;

const DeviceRegistry& registry() {
  static DeviceRegistry reg = DeviceRegistry::discover();
  return reg;
}

const Device& cpu() {
  auto d = registry().find("cpu:0");
  if (!d.ok()) throw std::runtime_error(d.status().to_string());
  return **d;
}

// Max |a-b| - (atol + rtol |b|) over all elements; <= 0 means within tolerance.
double excess(const Tensor& got, const Tensor& want, double rtol, double atol) {
  EXPECT_EQ(got.shape(), want.shape());
  double worst = -INFINITY;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = reference::get_double(got, i), b = reference::get_double(want, i);
    worst = std::max(worst, std::fabs(a - b) - (atol + rtol * std::fabs(b)));
  }
  return worst;
}

TEST(OneDeviceLoad, CpuDeviceIsDiscovered) {
  const Device& d = cpu();
  EXPECT_EQ(d.info().kind, DeviceKind::cpu);
  EXPECT_GT(d.info().peak_gflops_f32, 0);
  EXPECT_FALSE(d.info().identity.empty());
}

TEST(OneDeviceLoad, TinyCnnMatchesReference) {
  auto model = import_onnx_file(kSource / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto inputs = generate_inputs((*model)->graph);
  ASSERT_TRUE(inputs.ok());
  auto compiled = PartitionedModel::load_on_device(*model, cpu());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto got = (*compiled)->predict(*inputs);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto want = reference::Interpreter().run((*model)->graph, *inputs);
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  EXPECT_LE(excess((*got)[0].tensor, (*want)[0].tensor, 1e-4, 1e-6), 0.0);
  // Softmax output: probabilities summing to 1.
  double sum = 0;
  for (int64_t i = 0; i < (*got)[0].tensor.numel(); ++i) sum += (*got)[0].tensor.data<float>()[i];
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(OneDeviceLoad, WrongInputShapeIsAClearError) {
  auto model = import_onnx_file(kSource / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(model.ok());
  auto compiled = PartitionedModel::load_on_device(*model, cpu());
  ASSERT_TRUE(compiled.ok());
  auto bad = (*compiled)->predict({Value::of(Tensor::allocate(ElementType::float32, {1, 3, 16, 16}))});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input 'image': expected shape float32[1,3,32,32], got [1,3,16,16]"), std::string::npos)
      << bad.status().message();
  auto wrong_type = (*compiled)->predict({Value::of(Tensor::allocate(ElementType::float64, {1, 3, 32, 32}))});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("expected element type float32, got float64"), std::string::npos);
}

TEST(OneDeviceLoad, SerializeAndRestoreGivesTheSameOutputs) {
  auto model = import_onnx_file(kSource / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(model.ok());
  Graph g = (*model)->graph;
  GraphView view(g);
  auto exe = cpu().compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().to_string();
  auto bytes = (*exe)->serialize();
  ASSERT_TRUE(bytes.ok());
  auto restored = cpu().restore(view, bytes->data(), bytes->size());
  ASSERT_TRUE(restored.ok()) << restored.status().to_string();
  // Corrupt bytes are refused, not trusted.
  auto corrupt = *bytes;
  corrupt[0] ^= 0xff;
  auto bad = cpu().restore(view, corrupt.data(), corrupt.size());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::data_loss);
  auto truncated = cpu().restore(view, bytes->data(), bytes->size() / 2);
  EXPECT_FALSE(truncated.ok());
}

TEST(OneDeviceLoad, FoldsConstantSubgraphs) {
  auto model = import_onnx_file(kShared / "models" / "light_resnet50.onnx");
  if (!model.ok()) GTEST_SKIP() << "../shared/models not available: " << model.status().message();
  Graph g = (*model)->graph;
  size_t before = g.nodes.size();
  auto folded = fold_constants(g);
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(*folded, 239);  // every ConstantOfShape weight generator
  EXPECT_EQ(g.nodes.size(), before - 239);
}

TEST(OneDeviceLoad, ShapeAndSizeOfStaticValuesFold) {
  // x [2,3,4] -> Shape(start=1) -> Reshape(x) and Size(x): both become constants.
  Graph g;
  ValueType vt;
  vt.kind = ValueType::Kind::tensor;
  vt.tensor.elem = ElementType::float32;
  vt.tensor.shape = std::vector<Dim>{{2, ""}, {3, ""}, {4, ""}};
  ValueType unknown;
  int32_t x = g.add_value("x", vt), s = g.add_value("s", unknown), n = g.add_value("n", unknown), y = g.add_value("y", unknown);
  g.inputs = {x};
  Attribute start;
  start.name = "start";
  start.type = Attribute::Type::integer;
  start.i = -2;
  g.nodes = {{"shape", "", "Shape", 17, {x}, {s}, {start}}, {"size", "", "Size", 17, {x}, {n}, {}}, {"reshape", "", "Reshape", 17, {x, s}, {y}, {}}};
  g.outputs = {y, n};
  auto folded = fold_constants(g);
  ASSERT_TRUE(folded.ok()) << folded.status().to_string();
  EXPECT_EQ(*folded, 1);  // Shape; Size produces a graph output, which stays computed
  ASSERT_EQ(g.nodes.size(), 2u);
  ASSERT_TRUE(g.is_initializer(s));
  const Tensor& st = g.initializers.at(s);
  ASSERT_EQ(st.shape(), (Shape{2}));
  EXPECT_EQ(st.data<int64_t>()[0], 3);
  EXPECT_EQ(st.data<int64_t>()[1], 4);
  // A symbolic dim keeps Shape computed.
  Graph h;
  vt.tensor.shape = std::vector<Dim>{{-1, "N"}, {3, ""}};
  int32_t a = h.add_value("a", vt), b = h.add_value("b", unknown), c = h.add_value("c", unknown);
  h.inputs = {a};
  h.nodes = {{"shape", "", "Shape", 17, {a}, {b}, {}}, {"reshape", "", "Reshape", 17, {a, b}, {c}, {}}};
  h.outputs = {c};
  auto none = fold_constants(h);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  // Default shapes name what they assumed; shapes of actual inputs specialise only symbolic inputs.
  std::string note;
  auto defaults = default_input_shapes(h, {}, &note);
  ASSERT_EQ(defaults.count("a"), 1u);
  EXPECT_EQ(defaults.at("a"), (Shape{1, 3}));
  EXPECT_EQ(note, "a=1,3 (N = 1)");
  EXPECT_TRUE(default_input_shapes(h, {{"a", {5, 3}}}).empty());
  auto from_inputs = input_shapes_of(h, {Value::of(Tensor::allocate(ElementType::float32, {7, 3}))}, {});
  EXPECT_EQ(from_inputs.at("a"), (Shape{7, 3}));
  EXPECT_TRUE(input_shapes_of(g, {Value::of(Tensor::allocate(ElementType::float32, {2, 3, 4}))}, {}).empty());
}

void check_model_against_expected(const fs::path& model_path, const fs::path& input, const fs::path& expected, bool with_reference) {
  auto model = import_onnx_file(model_path);
  if (!model.ok()) GTEST_SKIP() << "../shared/models not available: " << model.status().message();
  auto in = load_tensor_pb(input);
  ASSERT_TRUE(in.ok()) << in.status().to_string();
  auto want = load_tensor_pb(expected);
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  auto compiled = PartitionedModel::load_on_device(*model, cpu());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto got = (*compiled)->predict({Value::of(*in)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_LE(excess((*got)[0].tensor, *want, 1e-3, 1e-7), 0.0) << "cpu:0 output differs from the expected output";
  if (with_reference) {
    auto ref = reference::Interpreter().run((*model)->graph, {Value::of(*in)});
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    EXPECT_LE(excess((*ref)[0].tensor, *want, 1e-3, 1e-7), 0.0) << "reference output differs from the expected output";
  }
}

TEST(OneDeviceLoad, LightResNet50MatchesExpectedOutput) {
  check_model_against_expected(kShared / "models" / "light_resnet50.onnx", kShared / "models" / "light_resnet50_input_0.pb",
                               kShared / "models" / "light_resnet50_output_0.pb", true);
}

TEST(OneDeviceLoad, PpocrClassifierRunsAndMatchesReference) {
  auto model = import_onnx_file(kShared / "models" / "ppocr_mobile_v2_cls.onnx");
  if (!model.ok()) GTEST_SKIP() << "../shared/models not available: " << model.status().message();
  Tensor x = Tensor::allocate(ElementType::float32, {1, 3, 48, 192});
  for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<float>()[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
  auto compiled = PartitionedModel::load_on_device(*model, cpu());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto got = (*compiled)->predict({Value::of(x)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto ref = reference::Interpreter().run((*model)->graph, {Value::of(x)});
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  ASSERT_EQ((*got)[0].tensor.shape(), (Shape{1, 2}));
  EXPECT_LE(excess((*got)[0].tensor, (*ref)[0].tensor, 1e-3, 1e-5), 0.0);
}

TEST(OneDeviceLoad, ExpandedFunctionsRunOnTheCpuAndTheReference) {
  auto model = import_onnx_file(kSource / "tests/fixtures/functions/local_functions.onnx");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  Tensor x = Tensor::from_vector<float>(ElementType::float32, {2, 3}, {-2, -1, 0, 1, 2, 3});
  auto compiled = PartitionedModel::load_on_device(*model, cpu());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto got = (*compiled)->predict({Value::of(x)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  for (int64_t i = 0; i < 6; ++i) {
    double v = x.data<float>()[i];
    double swish = v / (1 + std::exp(-v));
    double want = swish >= 0 ? swish : 0.25 * swish;
    EXPECT_NEAR((*got)[0].tensor.data<float>()[i], want, 1e-6) << i;
  }
}

// The CLI on every malformed fixture: an error message and exit status 1, never a crash.
TEST(Cli, MalformedModelsExitWithAnError) {
  const fs::path cli = fs::path(SWITCHYARD_BINARY_DIR) / "bin" / "switchyard";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kSource / "tests" / "fixtures" / "malformed")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".onnx" || name == "valid_small.onnx") continue;
    ++count;
    std::string cmd = "'" + cli.string() + "' run '" + entry.path().string() + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    int status = ::pclose(p);
    ASSERT_TRUE(WIFEXITED(status)) << name << " killed the CLI: " << out;
    EXPECT_EQ(WEXITSTATUS(status), 1) << name << ": " << out;
    EXPECT_NE(out.find("error"), std::string::npos) << name << ": " << out;
  }
  EXPECT_GE(count, 20);
}

}  // namespace
}  // namespace switchyard
