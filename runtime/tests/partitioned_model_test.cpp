// Models split across two real plugins (the CPU plugin and the test-double plugin, both
// loaded through the ABI) give the same outputs as single-device and reference runs.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

#include "switchyard/runtime/partitioned_model.h"
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
  static DeviceRegistry reg = [] {
    DiscoveryOptions o;
    o.extra_paths = {SWITCHYARD_TEST_DOUBLE_DIR};
    o.use_environment = false;
    return DeviceRegistry::discover(o);
  }();
  return reg;
}

double max_excess(const Tensor& got, const Tensor& want, double rtol, double atol) {
  EXPECT_EQ(got.shape(), want.shape());
  double worst = -INFINITY;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double a = reference::get_double(got, i), b = reference::get_double(want, i);
    worst = std::max(worst, std::fabs(a - b) - (atol + rtol * std::fabs(b)));
  }
  return worst;
}

Tensor image(Shape shape) {
  Tensor x = Tensor::allocate(ElementType::float32, shape);
  for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<float>()[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i)));
  return x;
}

TEST(PartitionedModel, BothPluginsAreLoaded) {
  ASSERT_TRUE(registry().find("cpu:0").ok());
  auto td = registry().find("test_double:0");
  ASSERT_TRUE(td.ok()) << td.status().to_string();
  EXPECT_EQ((*td)->info().kind, DeviceKind::gpu);
}

TEST(PartitionedModel, ResNetSplitsAcrossDevicesAndMatches) {
  auto model = import_onnx_file(kShared / "models" / "light_resnet50.onnx");
  if (!model.ok()) GTEST_SKIP() << "../shared/models not available";
  auto in = load_tensor_pb(kShared / "models" / "light_resnet50_input_0.pb");
  auto want = load_tensor_pb(kShared / "models" / "light_resnet50_output_0.pb");
  ASSERT_TRUE(in.ok() && want.ok());
  PartitionOptions o;
  o.policy.devices = {"test_double:0", "cpu:0"};  // other GPUs present (OpenCL) stay out of this test
  auto pm = PartitionedModel::load(*model, registry(), o);
  ASSERT_TRUE(pm.ok()) << pm.status().to_string();
  const Plan& plan = (*pm)->plan();
  ASSERT_EQ(plan.segments.size(), 2u) << plan.to_table((*pm)->graph());
  EXPECT_EQ(plan.segments[0].device, "test_double:0");
  EXPECT_EQ(plan.segments[1].device, "cpu:0");
  for (const auto& p : plan.placements) EXPECT_FALSE(p.reason.empty());
  auto got = (*pm)->predict({Value::of(*in)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_LE(max_excess((*got)[0].tensor, *want, 1e-3, 1e-7), 0.0);
}

TEST(PartitionedModel, PinnedNodesSplitPpocrIntoSeveralSegmentsAndMatchTheReference) {
  auto model = import_onnx_file(kShared / "models" / "ppocr_mobile_v2_cls.onnx");
  if (!model.ok()) GTEST_SKIP() << "../shared/models not available";
  const Graph& g = (*model)->graph;
  // Pin every Conv to the test double: the convolutional body goes there; Shape, Reshape,
  // Concat, Slice, MatMul and Softmax stay on the CPU, which forces real splits.
  PartitionOptions o;
  o.policy.pin_ops["Conv"] = "test_double:0";
  o.policy.devices = {"test_double:0", "cpu:0"};
  auto pm = PartitionedModel::load(*model, registry(), o);
  ASSERT_TRUE(pm.ok()) << pm.status().to_string();
  const Plan& plan = (*pm)->plan();
  std::set<std::string> used;
  for (const auto& s : plan.segments) used.insert(s.device);
  EXPECT_EQ(used.size(), 2u) << plan.to_table((*pm)->graph());
  Tensor x = image({1, 3, 48, 192});
  auto got = (*pm)->predict({Value::of(x)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto ref = reference::Interpreter().run(g, {Value::of(x)});
  ASSERT_TRUE(ref.ok());
  EXPECT_LE(max_excess((*got)[0].tensor, (*ref)[0].tensor, 1e-3, 1e-5), 0.0);
  // Thread-safe predict: two threads at once give the same answer.
  std::vector<std::thread> threads;
  std::vector<Result<std::vector<Value>>> results(2, Status(StatusCode::internal, "not run"));
  for (int t = 0; t < 2; ++t) threads.emplace_back([&, t] { results[static_cast<size_t>(t)] = (*pm)->predict({Value::of(x)}); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_LE(max_excess((*r)[0].tensor, (*got)[0].tensor, 0, 0), 0.0);
  }
}

TEST(PartitionedModel, StrictNamesTheNodeAndTheReason) {
  auto model = import_onnx_file(kSource / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(model.ok());
  PartitionOptions o;
  o.policy.devices = {"test_double:0", "cpu:0"};  // test_double:0 preferred (an OpenCL gpu may be present too)
  o.policy.strict = true;
  auto pm = PartitionedModel::plan_only(*model, registry(), o);
  ASSERT_FALSE(pm.ok());
  EXPECT_NE(pm.status().message().find("Gemm 'fc' would run on cpu:0; test_double:0: test double: Gemm is not in the manifest's ops list (op)"),
            std::string::npos)
      << pm.status().message();
}

TEST(PartitionedModel, ExplicitDeviceListRunsOnTheFirstDeviceWherePossible) {
  auto model = import_onnx_file(kSource / "models" / "tiny_cnn.onnx");
  ASSERT_TRUE(model.ok());
  PartitionOptions o;
  o.policy.devices = {"test_double:0", "cpu:0"};
  o.policy.pin_ops["Conv"] = "test_double:0";
  auto pm = PartitionedModel::load(*model, registry(), o);
  ASSERT_TRUE(pm.ok()) << pm.status().to_string();
  EXPECT_EQ((*pm)->plan().placements[0].device, "test_double:0");
  Tensor x = image({1, 3, 32, 32});
  auto got = (*pm)->predict({Value::of(x)});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto ref = reference::Interpreter().run((*model)->graph, {Value::of(x)});
  ASSERT_TRUE(ref.ok());
  EXPECT_LE(max_excess((*got)[0].tensor, (*ref)[0].tensor, 1e-4, 1e-6), 0.0);
  // Wrong input shapes are refused before anything runs.
  auto bad = (*pm)->predict({Value::of(image({1, 3, 8, 8}))});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input 'image'"), std::string::npos);
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// The acceptance check for the OpenCL plugin: both sample models under --units
// cpu-and-gpu run every node on the OpenCL device (objective accelerator) and match the
// reference interpreter (rtol 1e-3, atol 1e-5). PoCL compiles each kernel specialisation with
// LLVM, so this test takes tens of seconds on a cold PoCL cache.
TEST(PartitionedModel, ModelsUnderCpuAndGpuRunOnOpenClAndMatch) {
  static DeviceRegistry reg = DeviceRegistry::discover();  // the build's plugins, no test double
  if (!reg.find("opencl:0").ok()) GTEST_SKIP() << "no opencl:0 device (OpenCL plugin or an OpenCL driver missing)";
  struct Case {
    const char* file;
    std::map<std::string, Shape> shapes;
  };
  for (const Case& c : {Case{"light_resnet50.onnx", {}}, Case{"ppocr_mobile_v2_cls.onnx", {{"x", {1, 3, 48, 192}}}}}) {
    SCOPED_TRACE(c.file);
    auto model = import_onnx_file(kShared / "models" / c.file);
    if (!model.ok()) GTEST_SKIP() << "../shared/models not available";
    PartitionOptions o;
    o.policy.units = ComputeUnits::cpu_and_gpu;
    o.input_shapes = c.shapes;
    auto pm = PartitionedModel::load(*model, reg, o);
    ASSERT_TRUE(pm.ok()) << pm.status().to_string();
    const Plan& plan = (*pm)->plan();
    for (const auto& p : plan.placements) {
      const auto& answer = (*pm)->support().at("opencl:0")[static_cast<size_t>(p.node)];
      if (answer.supported()) {
        EXPECT_EQ(p.device, "opencl:0") << p.reason;
      }
    }
    Graph shaped = (*model)->graph;
    ASSERT_TRUE(specialize_inputs(shaped, c.shapes).ok());
    const ValueInfo& in = shaped.values[static_cast<size_t>(shaped.inputs[0])];
    Shape dims;
    for (const auto& d : *in.type.tensor.shape) dims.push_back(d.value);
    Tensor x = image(dims);
    auto got = (*pm)->predict({Value::of(x)});
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    auto ref = reference::Interpreter().run((*model)->graph, {Value::of(x)});
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    EXPECT_LE(max_excess((*got)[0].tensor, (*ref)[0].tensor, 1e-3, 1e-5), 0.0);
  }
}

}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// The range check's parts, without a device: x -> Mul(1e5) -> Relu.
Graph scaled_graph() {
  Graph g;
  auto value = [&](const std::string& n) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    vt.tensor.shape = std::vector<Dim>{Dim{2, ""}};
    return g.add_value(n, vt);
  };
  const int32_t x = value("x"), k = value("k"), m = value("m"), y = value("y");
  g.inputs = {x};
  g.initializers[k] = Tensor::scalar<float>(ElementType::float32, 1e5f);
  Node mul;
  mul.op_type = "Mul";
  mul.opset = 13;
  mul.inputs = {x, k};
  mul.outputs = {m};
  Node relu;
  relu.op_type = "Relu";
  relu.opset = 13;
  relu.inputs = {m};
  relu.outputs = {y};
  g.nodes = {mul, relu};
  g.outputs = {y};
  return g;
}

TEST(RangeCheck, RefusesNodesWhoseValuesExceedTheNarrowTypeWithHeadroom) {
  const Graph g = scaled_graph();
  auto big = value_magnitudes(g, {Value::of(Tensor::from_vector<float>(ElementType::float32, {2}, {-1.0f, 2.0f}))});
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  EXPECT_DOUBLE_EQ((*big)[static_cast<size_t>(g.find_value("m"))], 2e5);
  EXPECT_DOUBLE_EQ((*big)[static_cast<size_t>(g.find_value("k"))], 1e5);
  auto refused = range_refusals(g, *big, ElementType::float16, 16, "test inputs");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_NE(refused[0].find("values reach 2e+05 at 'm' on the test inputs; float16 holds 65504"), std::string::npos) << refused[0];
  EXPECT_FALSE(refused[1].empty());
  // The same graph in bfloat16 fits; small inputs fit float16 too, except the constant itself.
  EXPECT_TRUE(range_refusals(g, *big, ElementType::bfloat16, 16, "test inputs")[0].empty());
  auto small = value_magnitudes(g, {Value::of(Tensor::from_vector<float>(ElementType::float32, {2}, {-1e-3f, 2e-3f}))});
  ASSERT_TRUE(small.ok());
  auto r = range_refusals(g, *small, ElementType::float16, 16, "test inputs");
  EXPECT_NE(r[0].find("at 'k'"), std::string::npos) << "the 1e5 constant itself is beyond 65504 / 16: " << r[0];
  EXPECT_TRUE(r[1].empty()) << r[1];
  EXPECT_TRUE(range_refusals(g, *small, ElementType::float16, 1, "test inputs")[1].empty());
}

TEST(RangeCheck, CacheKeyNamesTheCalibration) {
  RangeCheckOptions a, b, off;
  off.enabled = false;
  b.inputs["x"] = Tensor::from_vector<float>(ElementType::float32, {2}, {1.0f, 2.0f});
  EXPECT_EQ(off.key(), "off");
  EXPECT_EQ(a.key(), "16:generated");
  EXPECT_NE(a.key(), b.key());
  RangeCheckOptions c = b;
  c.inputs["x"] = Tensor::from_vector<float>(ElementType::float32, {2}, {1.0f, 3.0f});
  EXPECT_NE(b.key(), c.key()) << "other calibration values, another plan";
}

}  // namespace
}  // namespace switchyard
