// Suite runner tests on a small corpus made here: comparison rules, skip/fail reporting,
// and a crashing or hanging target that must not take the run down.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <thread>

#include "switchyard/conformance/targets.h"
#include "switchyard/conformance/check.h"
#include "switchyard/conformance/onnx_suite.h"
#include "suite_run.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/runtime/tensor_io.h"
#include "switchyard/conformance/tolerance.h"

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
  auto r = run_corpus(make_corpus(), reference_target_factory());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->passed, 1);
  auto bad = run_corpus(make_corpus(true), reference_target_factory());
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->failed, 1);
  EXPECT_NE(bad->cases[0].detail.find("worst at [5]: expected 9.5, got 2"), std::string::npos) << bad->cases[0].detail;
  fs::remove_all(make_corpus());
  fs::remove_all(make_corpus(true));
}

TEST(OnnxSuite, CpuDevicePasses) {
  const fs::path corpus = make_corpus();
  auto r = run_corpus(corpus, device_target_factory("cpu:0"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->passed, 1) << (r->cases.empty() ? "" : r->cases[0].reason + " " + r->cases[0].detail);
  fs::remove_all(corpus);
}

TEST(OnnxSuite, CrashingTargetFailsOnlyItsCase) {
  const fs::path corpus = make_corpus();
  TargetFactory crashing = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      std::raise(SIGSEGV);
      return Status(StatusCode::internal, "unreachable");
    }));
  };
  auto r = run_corpus(corpus, crashing);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->failed, 1);
  EXPECT_EQ(r->cases[0].reason, "crash");
  EXPECT_NE(r->cases[0].detail.find("signal 11"), std::string::npos) << r->cases[0].detail;
  EXPECT_NE(r->cases[0].detail.find("outside any plugin ABI call"), std::string::npos) << r->cases[0].detail;
  EXPECT_NE(r->cases[0].backtrace.find("raise"), std::string::npos) << "a symbolised backtrace: " << r->cases[0].backtrace;
  fs::remove_all(corpus);
}

TEST(OnnxSuite, HangingTargetTimesOut) {
  const fs::path corpus = make_corpus();
  RunOptions o;
  o.case_timeout_s = 0.5;
  TargetFactory hanging = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      std::this_thread::sleep_for(std::chrono::seconds(30));
      return Status(StatusCode::internal, "unreachable");
    }));
  };
  auto r = run_corpus(corpus, hanging, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->failed, 1);
  EXPECT_EQ(r->cases[0].reason, "timeout");
  fs::remove_all(corpus);
}

TEST(OnnxSuite, UnsupportedIsSkippedWithTheReason) {
  const fs::path corpus = make_corpus();
  TargetFactory unsupported = [] {
    return Result<Target>(Target([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
      return Status(StatusCode::unsupported, "Relu 'relu': no kernel for Relu");
    }));
  };
  auto r = run_corpus(corpus, unsupported);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->skip_reasons.begin()->first, "no kernel for Relu");
  fs::remove_all(corpus);
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
  // ... unless the tolerance allows whole steps (a float16 device's int8 results: atol 1).
  auto q = [](std::vector<int8_t> v) { return Value::of(Tensor::from_vector<int8_t>(ElementType::int8, {static_cast<int64_t>(v.size())}, v)); };
  EXPECT_EQ(compare_values(q({-3, 7}), q({-4, 7}), 0, 1), "");
  EXPECT_NE(compare_values(q({-3, 7}), q({-5, 7}), 0, 1), "");
  EXPECT_NE(compare_values(t({1, 2}), t({1}), 1e-3, 1e-7).find("shape"), std::string::npos);
}

// A target that runs the reference, then scales every float result by (1 + rel): a stand-in for a
// device whose results carry a relative error.
Target perturbed_reference(double rel, ElementType compute) {
  return Target(
      [rel](const Model& m, const std::vector<Value>& in) -> Result<std::vector<Value>> {
        SY_ASSIGN_OR_RETURN(auto out, reference::Interpreter().run(m.graph, in));
        for (auto& v : out)
          if (v.kind == Value::Kind::tensor && is_floating(v.tensor.type()))
            for (int64_t i = 0; i < v.tensor.numel(); ++i) reference::set_double(v.tensor, i, reference::get_double(v.tensor, i) * (1 + rel));
        return out;
      },
      compute);
}

TEST(Tolerance, DerivedRule) {
  const double u = std::ldexp(1.0, -11);
  Tolerance t = derive_tolerance(ElementType::float32, ElementType::float16, 9, 2);
  EXPECT_DOUBLE_EQ(t.atol, 4 * u * 3 * 2);
  EXPECT_DOUBLE_EQ(t.rtol, u);
  Tolerance q = derive_tolerance(ElementType::int8, ElementType::float16, 100, 5);
  EXPECT_EQ(q.atol, 1);
  EXPECT_EQ(q.rtol, 0);
  EXPECT_DOUBLE_EQ(derive_tolerance(ElementType::float32, ElementType::bfloat16, 1, 1).rtol, std::ldexp(1.0, -8));
}

TEST(Tolerance, CaseSumsAlongTheGraph) {
  // Conv (K = 2 x 3 x 3 + bias = 19) then Relu: the Relu carries the Conv's error.
  Graph g;
  auto value = [&](const std::string& n, Shape s) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = ElementType::float32;
    std::vector<Dim> dims;
    for (auto d : s) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    return g.add_value(n, vt);
  };
  std::vector<float> wv(54), xv(32);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i))) * 0.5f;
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>(std::cos(0.3 * static_cast<double>(i))) * 2;
  int32_t x = value("x", {1, 2, 4, 4}), w = value("w", {3, 2, 3, 3}), b = value("b", {3}), c = value("c", {1, 3, 2, 2}), y = value("y", {1, 3, 2, 2});
  g.inputs = {x};
  g.initializers[w] = Tensor::from_vector<float>(ElementType::float32, {3, 2, 3, 3}, wv);
  g.initializers[b] = Tensor::from_vector<float>(ElementType::float32, {3}, {0.1f, -0.2f, 0.3f});
  Node conv;
  conv.op_type = "Conv";
  conv.opset = 13;
  conv.inputs = {x, w, b};
  conv.outputs = {c};
  Node relu;
  relu.op_type = "Relu";
  relu.opset = 13;
  relu.inputs = {c};
  relu.outputs = {y};
  g.nodes = {conv, relu};
  g.outputs = {y};
  const Tensor xt = Tensor::from_vector<float>(ElementType::float32, {1, 2, 4, 4}, xv);
  auto tol = derive_case_tolerances(g, {Value::of(xt)}, ElementType::float16);
  ASSERT_TRUE(tol.ok()) << tol.status().to_string();
  ASSERT_EQ(tol->size(), 1u);
  // Expected, by hand: max|x| = 2 (cos(0) * 2), max|w| from the data, M = max|conv output|.
  double mw = 0;
  for (float v : wv) mw = std::max(mw, std::fabs(static_cast<double>(v)));
  auto ref = reference::Interpreter().run(g, {Value::of(xt)}, reference::RunOptions{{"c"}});
  ASSERT_TRUE(ref.ok());
  double M = 0;
  for (int64_t i = 0; i < (*ref)[1].tensor.numel(); ++i) M = std::max(M, std::fabs(reference::get_double((*ref)[1].tensor, i)));
  const double u = std::ldexp(1.0, -11);
  // x, w and b are rounded to float16 (relative u each) and carried through Conv's gains:
  // sqrt(K) max|w| for x, sqrt(K) max|x| for w, 1 for the bias.
  const double b_max = static_cast<double>(0.3f);
  const double conv_own = 4 * u * std::sqrt(19.0) * std::max(2 * mw, b_max);
  const double conv_atol = conv_own + 2 * (u * 2 * std::sqrt(19.0) * mw) + u * b_max;
  const double conv_rtol = u + 3 * u;
  const double relu_own = 4 * u * M;
  EXPECT_NEAR((*tol)[0].atol, relu_own + conv_atol + conv_rtol * M, 1e-12);
  EXPECT_DOUBLE_EQ((*tol)[0].rtol, u + conv_rtol);
  // The deep-value rule: Relu's output is two operations from the input.
  const auto depth = graph_depth(g);
  EXPECT_EQ(depth[static_cast<size_t>(x)], 0);
  EXPECT_EQ(depth[static_cast<size_t>(c)], 1);
  EXPECT_EQ(depth[static_cast<size_t>(y)], 2);
  EXPECT_DOUBLE_EQ(derive_deep_tolerance(ElementType::float16, 2, M).atol, 4 * u * std::sqrt(2.0) * M);
  EXPECT_EQ(derive_deep_tolerance(ElementType::float16, 2, M).rtol, 0);
}

TEST(Tolerance, InputRoundingIsCarriedThroughSoftmax) {
  // float16 rounds 10000..10003 to 10000 (spacing 8 there): the device sees a uniform row. The
  // rounding error u*10003 goes through Softmax's gain 2 max|y| and swamps the result range.
  Graph g;
  ValueType vt;
  vt.kind = ValueType::Kind::tensor;
  vt.tensor.elem = ElementType::float32;
  vt.tensor.shape = {Dim{1, ""}, Dim{4, ""}};
  const int32_t x = g.add_value("x", vt), y = g.add_value("y", vt);
  Node sm;
  sm.op_type = "Softmax";
  sm.opset = 13;
  sm.inputs = {x};
  sm.outputs = {y};
  g.nodes = {sm};
  g.inputs = {x};
  g.outputs = {y};
  const double u = std::ldexp(1.0, -11);
  auto big = derive_case_tolerances(g, {Value::of(Tensor::from_vector<float>(ElementType::float32, {1, 4}, {10000, 10001, 10002, 10003}))}, ElementType::float16);
  ASSERT_TRUE(big.ok()) << big.status().to_string();
  const double ymax = 1 / (1 + std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0));
  EXPECT_NEAR((*big)[0].atol, 4 * u * 2 * 1 + u * 10003 * 2 * ymax, 1e-6);
  EXPECT_GT((*big)[0].atol, 1.0) << "larger than any softmax output: the suite skips such a case as unresolvable";
  // Small inputs: the same rule stays tight.
  auto small = derive_case_tolerances(g, {Value::of(Tensor::from_vector<float>(ElementType::float32, {1, 4}, {0, 1, 2, 3}))}, ElementType::float16);
  ASSERT_TRUE(small.ok());
  EXPECT_LT((*small)[0].atol, 0.01);
}

TEST(OnnxSuite, NarrowFloatTargetUsesTheDerivedTolerance) {
  // The corpus case is Add then Relu: two operations, derived rtol 4u = 1.95e-3 in float16.
  const fs::path corpus = make_corpus();
  RunOptions o;
  o.isolate = false;
  auto factory = [](double rel, ElementType compute) { return [=]() -> Result<Target> { return perturbed_reference(rel, compute); }; };
  auto exact = run_corpus(corpus, factory(1.5e-3, ElementType::float32), o);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->failed, 1) << "a float32 target is held to rtol 1e-3";
  auto narrow = run_corpus(corpus, factory(1.5e-3, ElementType::float16), o);
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(narrow->passed, 1) << (narrow->cases.empty() ? "" : narrow->cases[0].detail);
  auto too_far = run_corpus(corpus, factory(5e-2, ElementType::float16), o);
  ASSERT_TRUE(too_far.ok());
  EXPECT_EQ(too_far->failed, 1) << "beyond the derived rule";
  fs::remove_all(corpus);
}

}  // namespace
}  // namespace switchyard::conformance
