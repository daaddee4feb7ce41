// The models suite on folders made here (a plain model, node-test folders with right and wrong
// expected outputs, an empty folder) and on ../shared/models: cases run in this process against
// cpu:0, the reference, and the template device beside the CPU (a model split across both).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <regex>

#include "../src/models_compare.h"
#include "../src/models_data.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/conformance/targets.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

const fs::path kTinyCnn = fs::path(SWITCHYARD_SOURCE_DIR) / "models/tiny_cnn.onnx";
const fs::path kSharedModels = fs::path(SWITCHYARD_SHARED_DIR) / "models";

// A fresh folder under the test's temp dir.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("sy_models_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A folder with tiny_cnn.onnx in it (no inputs: the suite generates them and asks the reference).
fs::path plain_model_folder() {
  const fs::path dir = fresh_dir("plain");
  fs::copy_file(kTinyCnn, dir / "tiny_cnn.onnx");
  return dir;
}

// dir/tiny_case/{model.onnx, test_data_set_0/input_0.pb, output_0.pb}: tiny_cnn with the
// reference's output for a generated input, one value of it moved by `error` when non-zero.
fs::path node_test_folder(const std::string& name, float error) {
  const fs::path dir = fresh_dir(name), c = dir / "tiny_case";
  fs::create_directories(c / "test_data_set_0");
  fs::copy_file(kTinyCnn, c / "model.onnx");
  auto model = import_onnx_file(kTinyCnn);
  EXPECT_TRUE(model.ok()) << model.status().to_string();
  auto inputs = seeded_inputs((*model)->graph, 7);
  EXPECT_TRUE(inputs.ok()) << inputs.status().to_string();
  auto outputs = reference::Interpreter().run((*model)->graph, *inputs);
  EXPECT_TRUE(outputs.ok()) << outputs.status().to_string();
  Tensor expected = (*outputs)[0].tensor.clone();
  expected.mutable_data<float>()[3] += error;
  EXPECT_TRUE(save_tensor_pb(c / "test_data_set_0/input_0.pb", (*inputs)[0].tensor).ok());
  EXPECT_TRUE(save_tensor_pb(c / "test_data_set_0/output_0.pb", expected).ok());
  return dir;
}

Target cpu_target() {
  auto target = device_target_factory("cpu:0")();
  EXPECT_TRUE(target.ok()) << target.status().to_string();
  return *target;
}

// The template device (a naive C plugin that runs Add/Mul/Relu/MatMul/Softmax) with the CPU
// plugin beside it in one registry: a model splits across the two. Null when it is not built.
std::optional<Target> template_target() {
  const fs::path dir = fs::path(SWITCHYARD_BINARY_DIR) / "lib/switchyard/template";
  if (!fs::exists(dir)) return std::nullopt;
  DiscoveryOptions discovery;
  discovery.extra_paths = {dir};
  discovery.only_plugins = {"template", "cpu"};
  auto registry = std::make_shared<const DeviceRegistry>(DeviceRegistry::discover(discovery));
  auto device = registry->find("template:0");
  if (!device.ok()) return std::nullopt;
  Target target([d = *device](const Model& model, const std::vector<Value>& inputs) -> Result<std::vector<Value>> {
    auto shared = std::shared_ptr<const Model>(&model, [](const Model*) {});
    SY_ASSIGN_OR_RETURN(auto loaded, PartitionedModel::load_on_device(shared, *d, false));
    return loaded->predict(inputs);
  });
  target.device_id = "template:0";
  target.device = *device;
  target.registry = registry;
  return target;
}

SuiteConfig with_dirs(std::vector<fs::path> dirs) {
  SuiteConfig config;
  config.model_dirs = std::move(dirs);
  return config;
}

// Lists the suite's cases on `dirs` and runs each in this process.
std::vector<CaseResult> run_models(const std::vector<fs::path>& dirs, const Target& target) {
  auto cases = models_cases(with_dirs(dirs));
  EXPECT_TRUE(cases.ok()) << cases.status().to_string();
  std::vector<CaseResult> results;
  for (const auto& c : cases.ok() ? *cases : std::vector<CaseSpec>{}) {
    const auto t = std::chrono::steady_clock::now();
    CaseResult r = c.run(target);
    r.name = c.name;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    std::printf("models/%s on %s: %s (%.2f s) %s | %s\n", c.name.c_str(), target.device_id.c_str(), outcome_name(r.outcome), r.seconds,
                r.reason.c_str(), r.detail.c_str());
    results.push_back(std::move(r));
  }
  return results;
}

TEST(ModelsSuite, ListsPlainModelsAndNodeTestFolders) {
  const fs::path plain = plain_model_folder(), node = node_test_folder("listing", 0);
  auto found = list_model_cases({plain, node, node / "tiny_case"});
  ASSERT_TRUE(found.ok()) << found.status().to_string();
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ((*found)[0].name, "tiny_cnn");
  EXPECT_FALSE((*found)[0].node_test_layout);
  EXPECT_EQ((*found)[1].name, "tiny_case");
  EXPECT_TRUE((*found)[1].node_test_layout);
  // The same case given twice keeps a unique name: its folder in front.
  EXPECT_EQ((*found)[2].name, "tiny_case/tiny_case");
}

TEST(ModelsSuite, AFolderWithoutModelsIsAClearError) {
  const fs::path empty = fresh_dir("empty");
  auto cases = models_cases(with_dirs({empty}));
  ASSERT_FALSE(cases.ok());
  EXPECT_EQ(cases.status().code(), StatusCode::not_found);
  EXPECT_NE(cases.status().message().find("'" + empty.string() + "' holds no models"), std::string::npos) << cases.status().message();
  auto missing = models_cases(with_dirs({empty / "absent"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("not found"), std::string::npos) << missing.status().message();
  auto none = models_cases(SuiteConfig{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--models DIR"), std::string::npos) << none.status().message();
}

TEST(ModelsSuite, TinyCnnPassesOnCpuAndSaysHowItWasPlaced) {
  auto results = run_models({plain_model_folder()}, cpu_target());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::passed) << results[0].reason << " " << results[0].detail;
  EXPECT_EQ(results[0].op, "model");
  EXPECT_TRUE(std::regex_search(results[0].detail, std::regex(R"(^9 of 9 nodes on cpu:0 \(1 segment\); )"))) << results[0].detail;
  EXPECT_NE(results[0].detail.find("inputs from seed 20261207 (expected: the reference interpreter's)"), std::string::npos) << results[0].detail;
  EXPECT_NE(results[0].detail.find("output 0 'probabilities' (9 deep): max |diff|"), std::string::npos) << results[0].detail;
}

TEST(ModelsSuite, NodeTestFolderWithTheRightOutputPassesAndAWrongOneFails) {
  const Target cpu = cpu_target();
  auto right = run_models({node_test_folder("right", 0)}, cpu);
  ASSERT_EQ(right.size(), 1u);
  EXPECT_EQ(right[0].outcome, Outcome::passed) << right[0].reason << " " << right[0].detail;
  EXPECT_NE(right[0].detail.find("test_data_set_0 (expected: given)"), std::string::npos) << right[0].detail;

  auto wrong = run_models({node_test_folder("wrong", 0.05f)}, cpu);
  ASSERT_EQ(wrong.size(), 1u);
  EXPECT_EQ(wrong[0].outcome, Outcome::failed);
  EXPECT_EQ(wrong[0].reason, "mismatch");
  EXPECT_TRUE(std::regex_search(wrong[0].detail, std::regex(R"(test_data_set_0 \(expected: given\) output 0 'probabilities' \(9 deep\): 1 of 10 values differ; worst at \[3\]: .*\|diff\| 0\.05)")))
      << wrong[0].detail;
}

TEST(ModelsSuite, TheReferenceTargetRunsTheWholeModel) {
  auto reference = reference_target_factory()();
  ASSERT_TRUE(reference.ok());
  auto results = run_models({node_test_folder("reference", 0)}, *reference);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::passed) << results[0].reason << " " << results[0].detail;
  EXPECT_EQ(results[0].detail.find("nodes on"), std::string::npos) << "the reference has no placement: " << results[0].detail;
}

// tiny_cnn on the template device: it claims Relu and Softmax, the CPU runs the rest.
TEST(ModelsSuite, AModelTheDeviceClaimsInPartRunsSplitWithTheCpu) {
  auto target = template_target();
  if (!target) GTEST_SKIP() << "the template plugin is not built in " SWITCHYARD_BINARY_DIR;
  auto results = run_models({plain_model_folder()}, *target);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::passed) << results[0].reason << " " << results[0].detail;
  EXPECT_TRUE(std::regex_search(results[0].detail, std::regex(R"(^[1-8] of 9 nodes on template:0, [1-8] on cpu:0 \(\d+ segments\))")))
      << results[0].detail;
}

// A Conv alone on the template device (no Conv kernel): skipped with the device's answer.
TEST(ModelsSuite, AModelTheDeviceClaimsNoneOfIsSkippedWithItsReasons) {
  auto target = template_target();
  if (!target) GTEST_SKIP() << "the template plugin is not built in " SWITCHYARD_BINARY_DIR;
  const fs::path conv = fs::path(SWITCHYARD_SHARED_DIR) / "onnx-backend/node/test_basic_conv_with_padding";
  if (!fs::exists(conv)) GTEST_SKIP() << conv << " not found (../shared)";
  auto results = run_models({conv}, *target);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].outcome, Outcome::skipped) << results[0].detail;
  EXPECT_EQ(results[0].reason, "the device claims none of the model's nodes");
  EXPECT_NE(results[0].detail.find("1 node: 1 x Conv: op"), std::string::npos) << results[0].detail;
  // The same case on the CPU passes against the corpus's own expected output.
  auto on_cpu = run_models({conv}, cpu_target());
  ASSERT_EQ(on_cpu.size(), 1u);
  EXPECT_EQ(on_cpu[0].outcome, Outcome::passed) << on_cpu[0].reason << " " << on_cpu[0].detail;
}

// ../shared/models: light_resnet50 with its given input and output passes on the CPU (its
// reference run is not needed); ppocr's input has symbolic height and width, so without inputs
// beside it the case is skipped, saying what to give.
TEST(ModelsSuite, SharedModelsOnCpu) {
  if (!fs::exists(kSharedModels / "light_resnet50.onnx")) GTEST_SKIP() << kSharedModels << " not found (../shared)";
  auto results = run_models({kSharedModels}, cpu_target());
  auto named = [&](const std::string& name) -> const CaseResult* {
    for (const auto& r : results)
      if (r.name == name) return &r;
    return nullptr;
  };
  const CaseResult* resnet = named("light_resnet50");
  ASSERT_NE(resnet, nullptr);
  EXPECT_EQ(resnet->outcome, Outcome::passed) << resnet->reason << " " << resnet->detail;
  EXPECT_NE(resnet->detail.find("inputs light_resnet50_input_*.pb (expected: given)"), std::string::npos) << resnet->detail;
  EXPECT_LT(resnet->seconds, 30);
  const CaseResult* ppocr = named("ppocr_mobile_v2_cls");
  ASSERT_NE(ppocr, nullptr);
  EXPECT_EQ(ppocr->outcome, Outcome::skipped) << ppocr->detail;
  EXPECT_NE(ppocr->reason.find("symbolic dims beyond the batch dim"), std::string::npos) << ppocr->reason;
}

// The deep-value rule: 4u sqrt(depth) max|expected| for float16, never below the fixed tolerance.
TEST(ModelsSuite, OutputToleranceFollowsTheDeepValueRule) {
  auto model = import_onnx_file(kTinyCnn);
  ASSERT_TRUE(model.ok());
  const Graph& g = (*model)->graph;
  const std::vector<int64_t> depth = graph_depth(g);
  ASSERT_EQ(depth[static_cast<size_t>(g.outputs[0])], 9);
  const Value expected = Value::of(Tensor::from_vector<float>(ElementType::float32, {2}, {0.25f, -0.5f}));
  const Tolerance f16 = model_output_tolerance(g, depth, 0, expected, ElementType::float16, 1e-3, 1e-7);
  EXPECT_DOUBLE_EQ(f16.atol, 4 * std::ldexp(1.0, -11) * 3 * 0.5);
  EXPECT_DOUBLE_EQ(f16.rtol, 1e-3);
  const Tolerance f32 = model_output_tolerance(g, depth, 0, expected, ElementType::float32, 1e-3, 1e-3);
  EXPECT_DOUBLE_EQ(f32.atol, 1e-3);  // the fixed atol is larger than float32's deep one
}

}  // namespace
}  // namespace switchyard::conformance
