// Suite runner tests on a small corpus made here: comparison rules, skip/fail reporting,
// and a crashing or hanging target that must not take the run down.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <thread>

#include "switchyard/conformance_targets.h"
#include "switchyard/onnx_suite.h"
#include "switchyard/tensor_io.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

// tmp/test_add_relu/{model.onnx, test_data_set_0/input_0.pb, output_0.pb}, x + w then Relu.
fs::path make_corpus(bool wrong_expected = false) {
  fs::path root = fs::temp_directory_path() / ("sy_corpus_" + std::to_string(::getpid()) + (wrong_expected ? "_w" : ""));
  fs::path c = root / "test_add_relu";
  fs::create_directories(c / "test_data_set_0");
  fs::copy_file(fs::path(SWITCHYARD_SOURCE_DIR) / "tests/fixtures/malformed/valid_small.onnx", c / "model.onnx",
                fs::copy_options::overwrite_existing);
  Tensor x = Tensor::from_vector<float>(ElementType::float32, {2, 3}, {-10, 0, 1, -1, 2, -3});
  // w = [0, 1, 2, 3, 4, 5]
  Tensor y = Tensor::from_vector<float>(ElementType::float32, {2, 3}, {0, 1, 3, 2, 6, wrong_expected ? 9.5f : 2.0f});
  EXPECT_TRUE(save_tensor_pb(c / "test_data_set_0/input_0.pb", x).ok());
  EXPECT_TRUE(save_tensor_pb(c / "test_data_set_0/output_0.pb", y).ok());
  return root;
}

TEST(OnnxSuite, ReferencePassesAndWrongExpectationFailsWithDetail) {
  SuiteOptions o;
  o.tests_dir = make_corpus();
  auto r = run_suite(o, reference_target_factory());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->passed, 1);
  o.tests_dir = make_corpus(true);
  auto bad = run_suite(o, reference_target_factory());
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->failed, 1);
  EXPECT_NE(bad->cases[0].detail.find("worst at [5]: expected 9.5, got 2"), std::string::npos) << bad->cases[0].detail;
  fs::remove_all(make_corpus());
  fs::remove_all(make_corpus(true));
}

TEST(OnnxSuite, CpuDevicePasses) {
  SuiteOptions o;
  o.tests_dir = make_corpus();
  auto r = run_suite(o, device_target_factory("cpu:0"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->passed, 1) << (r->cases.empty() ? "" : r->cases[0].reason + " " + r->cases[0].detail);
  fs::remove_all(o.tests_dir);
}

TEST(OnnxSuite, CrashingTargetFailsOnlyItsCase) {
  SuiteOptions o;
  o.tests_dir = make_corpus();
  TargetFactory crashing = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      std::raise(SIGSEGV);
      return Status(StatusCode::internal, "unreachable");
    }));
  };
  auto r = run_suite(o, crashing);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->failed, 1);
  EXPECT_EQ(r->cases[0].reason, "crash");
  EXPECT_NE(r->cases[0].detail.find("signal 11"), std::string::npos) << r->cases[0].detail;
  fs::remove_all(o.tests_dir);
}

TEST(OnnxSuite, HangingTargetTimesOut) {
  SuiteOptions o;
  o.tests_dir = make_corpus();
  o.case_timeout_s = 0.5;
  TargetFactory hanging = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      std::this_thread::sleep_for(std::chrono::seconds(30));
      return Status(StatusCode::internal, "unreachable");
    }));
  };
  auto r = run_suite(o, hanging);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->failed, 1);
  EXPECT_EQ(r->cases[0].reason, "timeout");
  fs::remove_all(o.tests_dir);
}

TEST(OnnxSuite, UnsupportedIsSkippedWithTheReason) {
  SuiteOptions o;
  o.tests_dir = make_corpus();
  TargetFactory unsupported = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      return Status(StatusCode::unsupported, "Relu 'relu': no kernel for Relu");
    }));
  };
  auto r = run_suite(o, unsupported);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->skip_reasons.begin()->first, "no kernel for Relu");
  fs::remove_all(o.tests_dir);
}

TEST(CompareValues, Tolerances) {
  auto t = [](std::vector<float> v) { return Value::of(Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(v.size())}, v)); };
  EXPECT_EQ(compare_values(t({1, NAN, INFINITY}), t({1.0005f, NAN, INFINITY}), 1e-3, 1e-7), "");
  EXPECT_NE(compare_values(t({1}), t({1.002f}), 1e-3, 1e-7), "");
  EXPECT_NE(compare_values(t({INFINITY}), t({-INFINITY}), 1e-3, 1e-7), "");
  EXPECT_NE(compare_values(t({NAN}), t({0}), 1e-3, 1e-7), "");
  auto i = Value::of(Tensor::from_vector<int64_t>(ElementType::int64, {1}, {int64_t{1} << 60}));
  auto j = Value::of(Tensor::from_vector<int64_t>(ElementType::int64, {1}, {(int64_t{1} << 60) + 1}));
  EXPECT_NE(compare_values(i, j, 1e-3, 1e-7), "");  // integers compare exactly
  EXPECT_NE(compare_values(t({1, 2}), t({1}), 1e-3, 1e-7).find("shape"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::conformance
