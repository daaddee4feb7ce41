// The ops suite: its size and coverage (every family, every operator the CPU plugin claims), that
// listing and values are deterministic, that a sample passes on the reference and on cpu:0, that a
// wrong value fails with its detail, and that export writes node-test folders the onnx suite runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "../src/ops_case.h"
#include "switchyard/conformance/check.h"
#include "switchyard/conformance/onnx_suite.h"
#include "switchyard/conformance/ops_suite.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/conformance/targets.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::conformance {
namespace {

namespace fs = std::filesystem;

std::vector<CaseSpec> list(const SuiteConfig& config = {}) {
  auto cases = ops_cases(config);
  EXPECT_TRUE(cases.ok()) << cases.status().to_string();
  return cases.ok() ? std::move(cases).value() : std::vector<CaseSpec>{};
}

TEST(OpsSuite, ListsAtLeast5000UniquelyNamedCasesFromEveryFamily) {
  auto cases = list();
  EXPECT_GE(cases.size(), 5000u);
  std::set<std::string> names;
  for (const auto& c : cases) {
    EXPECT_EQ(c.suite, "ops");
    EXPECT_FALSE(c.op.empty()) << c.name;
    EXPECT_EQ(c.name.find(' '), std::string::npos) << c.name;
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
  }
  for (const auto& family : ops::families()) {
    std::vector<ops::OpCase> generated;
    family.add(generated);
    EXPECT_FALSE(generated.empty()) << "family " << family.name << " generates no case";
  }
}

// The CPU plugin claims every operator the reference implements (its fallback) and its fast
// kernels are a subset: the sweep must reach each of them.
TEST(OpsSuite, CoversEveryOperatorTheCpuPluginClaims) {
  std::set<std::string> covered;
  for (const auto& family : ops::families()) {
    std::vector<ops::OpCase> generated;
    family.add(generated);
    for (const auto& c : generated) covered.insert(c.domain.empty() ? c.op : c.domain + "::" + c.op);
  }
  std::vector<std::string> missing;
  for (const auto& op : reference::KernelRegistry::instance().operators())
    if (!covered.count(op)) missing.push_back(op);
  EXPECT_TRUE(missing.empty()) << missing.size() << " operators without a case, first: " << (missing.empty() ? "" : missing[0]);
  for (const auto& m : missing) ADD_FAILURE() << "no ops case for " << m;
}

TEST(OpsSuite, ListingAndValuesAreDeterministicPerSeed) {
  auto a = list(), b = list();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].name, b[i].name);
  std::vector<ops::OpCase> cases;
  ops::add_binary_cases(cases);
  const ops::OpCase& c = cases.front();
  auto bytes = [](const std::vector<Tensor>& ts) {
    std::string s;
    for (const auto& t : ts) s.append(static_cast<const char*>(t.raw()), t.byte_size());
    return s;
  };
  const uint64_t seed = ops::case_seed(SuiteConfig{}.seed, c.name);
  EXPECT_EQ(bytes(ops::make_input_tensors(c, seed)), bytes(ops::make_input_tensors(c, seed)));
  EXPECT_NE(bytes(ops::make_input_tensors(c, seed)), bytes(ops::make_input_tensors(c, ops::case_seed(7, c.name))));
  EXPECT_NE(ops::case_seed(1, "Add/a"), ops::case_seed(1, "Add/b"));
}

TEST(OpsSuite, SpecialValuesHoldEveryClass) {
  ops::OpCase c("Abs", 13);
  c.input("X", ElementType::float32, {64}, ops::Fill::special).output();
  const Tensor t = ops::make_input_tensors(c, 3)[0];
  int nan = 0, pos_inf = 0, neg_inf = 0, neg_zero = 0, denormal = 0, huge = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = t.data<float>()[i];
    nan += std::isnan(v), pos_inf += v == INFINITY, neg_inf += v == -INFINITY;
    neg_zero += v == 0 && std::signbit(v), denormal += std::fpclassify(v) == FP_SUBNORMAL, huge += std::isfinite(v) && std::fabs(v) > 1e29f;
  }
  EXPECT_EQ(nan, 1);
  EXPECT_EQ(pos_inf, 1);
  EXPECT_EQ(neg_inf, 1);
  EXPECT_EQ(neg_zero, 1);
  EXPECT_EQ(denormal, 2);
  EXPECT_EQ(huge, 2);
  ops::OpCase ints("Abs", 13);
  ints.input("X", ElementType::int8, {16}, ops::Fill::special).output();
  const Tensor q = ops::make_input_tensors(ints, 3)[0];
  std::set<int> values(q.data<int8_t>(), q.data<int8_t>() + q.numel());
  EXPECT_TRUE(values.count(-128) && values.count(127) && values.count(0) && values.count(-1));
}

// Every Nth case: all of them pass on the reference (it is the oracle: a case it cannot run is a
// suite bug) and pass or are skipped with a reason on cpu:0. The special value class is left out
// on cpu:0: its oneDNN kernels drop NaN (Relu, Clip, HardSigmoid, MaxPool, Softmax), which the
// whole sweep reports as failures (docs/conformance.md, "The ops suite").
TEST(OpsSuite, SamplePassesOnTheReferenceAndCpu) {
  auto cases = list();
  auto reference = reference_target_factory()();
  auto cpu = device_target_factory("cpu:0")();
  ASSERT_TRUE(reference.ok() && cpu.ok()) << cpu.status().to_string();
  int ran = 0;
  for (size_t i = 0; i < cases.size(); i += 37) {
    CaseResult r = cases[i].run(*reference);
    EXPECT_EQ(r.outcome, Outcome::passed) << cases[i].name << ": " << r.reason << " " << r.detail;
    if (cases[i].name.find("/special") != std::string::npos) continue;
    CaseResult d = cases[i].run(*cpu);
    EXPECT_NE(d.outcome, Outcome::failed) << cases[i].name << ": " << d.reason << " " << d.detail;
    if (d.outcome == Outcome::skipped) {
      EXPECT_FALSE(d.reason.empty()) << cases[i].name;
    }
    ++ran;
  }
  EXPECT_GT(ran, 100);
}

TEST(OpsSuite, AWrongValueFailsWithWhereAndByHowMuch) {
  auto cases = list();
  auto it = std::find_if(cases.begin(), cases.end(), [](const CaseSpec& c) { return c.name == "Add/float32/3x4,3x4/normal"; });
  ASSERT_NE(it, cases.end());
  Target off_by_one([](const Model& model, const std::vector<Value>& inputs) -> Result<std::vector<Value>> {
    SY_ASSIGN_OR_RETURN(auto outputs, reference::Interpreter().run(model.graph, inputs));
    Tensor y = outputs[0].tensor.clone();
    y.mutable_data<float>()[5] += 0.25f;
    outputs[0] = Value::of(y);
    return outputs;
  });
  CaseResult r = it->run(off_by_one);
  EXPECT_EQ(r.outcome, Outcome::failed);
  EXPECT_EQ(r.reason, "mismatch");
  EXPECT_NE(r.detail.find("seed "), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("1 of 12 values differ; worst at [5]"), std::string::npos) << r.detail;
  Target refuses([](const Model&, const std::vector<Value>&) -> Result<std::vector<Value>> {
    return Status(StatusCode::unsupported, "Add 'node': no kernel for this");
  });
  CaseResult s = it->run(refuses);
  EXPECT_EQ(s.outcome, Outcome::skipped);
  EXPECT_EQ(s.reason, "no kernel for this");
}

TEST(OpsSuite, ExportWritesNodeTestFoldersWithTheReferenceOutputs) {
  const fs::path dir = fs::temp_directory_path() / ("sy_ops_export_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Status st = export_ops_cases(SuiteConfig{}, "^ops/(Add/float32/3x4,3x4/normal|Conv/float32/2d/k3/pads=1/strides=2/dilations=1/bias|ReduceSum/.*/special)$", dir);
  ASSERT_TRUE(st.ok()) << st.to_string();
  auto folders = list_corpus_cases(dir);
  ASSERT_TRUE(folders.ok()) << folders.status().to_string();
  EXPECT_GE(folders->size(), 3u);
  EXPECT_TRUE(fs::exists(dir / "index.tsv"));
  EXPECT_TRUE(fs::exists(dir / "Add__float32__3x4,3x4__normal" / "case.json"));
  auto reference = reference_target_factory()();
  ASSERT_TRUE(reference.ok());
  for (const auto& folder : *folders) {
    CaseResult r = run_corpus_case(folder, *reference, 1e-6, 0);
    EXPECT_EQ(r.outcome, Outcome::passed) << folder << ": " << r.reason << " " << r.detail;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace switchyard::conformance
