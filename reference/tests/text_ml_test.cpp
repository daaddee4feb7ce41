// Tests for the reference text_ml kernels: string operators and ai.onnx.ml.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

const std::string kMl = "ai.onnx.ml";

// ---- helpers ---------------------------------------------------------------

Tensor S(const Shape& shape, const std::vector<std::string>& v) { return Tensor::from_strings(shape, v); }

std::vector<Tensor> runN(const std::string& domain, const std::string& op, const std::vector<Input>& inputs,
                         const std::vector<Attribute>& attrs, int64_t opset, size_t n_out = 1) {
  return expect_run(op, inputs, attrs, opset, first_outputs(n_out), domain);
}

Tensor run1(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
            int64_t opset = 20) {
  return runN("", op, inputs, attrs, opset)[0];
}

Tensor run_ml(const std::string& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs,
              int64_t opset = 4) {
  return runN(kMl, op, inputs, attrs, opset)[0];
}

StatusCode run_code(const std::string& domain, const std::string& op, const std::vector<Input>& inputs,
                    const std::vector<Attribute>& attrs, int64_t opset) {
  return code_of(run_node(op, inputs, attrs, opset, {true}, domain));
}

void expect_strings(const Tensor& t, const Shape& shape, const std::vector<std::string>& want) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.type(), ET::string);
  ASSERT_EQ(t.shape(), shape);
  EXPECT_EQ(t.strings(), want);
}

// As test::expect_values, with the element type checked too.
void expect_values(const Tensor& t, ET type, const Shape& shape, const std::vector<double>& want, double tol = 1e-6) {
  ASSERT_TRUE(t.defined());
  ASSERT_EQ(t.type(), type);
  test::expect_values(t, shape, want, tol);
}

// ---- string operators --------------------------------------------------------

TEST(TextStringNormalizer, CaseAndStopwords) {
  const Tensor x = S({4}, {"Monday", "tuesday", "MONDAY", "Wed"});
  // Case-insensitive stopwords (the default) remove every spelling of "monday".
  expect_strings(run1("StringNormalizer", {x}, {as("case_change_action", "UPPER"), ass("stopwords", {"monday"})}, 10),
                 {2}, {"TUESDAY", "WED"});
  // Case-sensitive: only the exact spelling goes.
  expect_strings(run1("StringNormalizer", {x},
                      {as("case_change_action", "LOWER"), ai("is_case_sensitive", 1), ass("stopwords", {"Monday"})}, 10),
                 {3}, {"tuesday", "monday", "wed"});
  // [1, C] keeps its leading 1; removing everything leaves one empty string.
  expect_strings(run1("StringNormalizer", {S({1, 2}, {"a", "A"})}, {ass("stopwords", {"a"})}, 10), {1, 1}, {""});
  expect_strings(run1("StringNormalizer", {S({2}, {"x", "x"})}, {ass("stopwords", {"X"})}, 10), {1}, {""});
  expect_strings(run1("StringNormalizer", {S({1, 2}, {"aB", "c"})}, {}, 10), {1, 2}, {"aB", "c"});
  EXPECT_EQ(run_code("", "StringNormalizer", {S({2, 2}, {"a", "b", "c", "d"})}, {}, 10), StatusCode::invalid_argument);
}

TEST(TextStringSplit, DelimitersAndMaxsplit) {
  auto out = runN("", "StringSplit", {S({3}, {"a,,b", "c", ""})}, {as("delimiter", ",")}, 20, 2);
  expect_strings(out[0], {3, 3}, {"a", "", "b", "c", "", "", "", "", ""});
  expect_ints(out[1], ET::int64, {3}, {3, 1, 1});
  // No delimiter: runs of whitespace split and leading/trailing whitespace is dropped.
  out = runN("", "StringSplit", {S({2}, {"  hello \t world ", "   "})}, {}, 20, 2);
  expect_strings(out[0], {2, 2}, {"hello", "world", "", ""});
  expect_ints(out[1], ET::int64, {2}, {2, 0});
  // maxsplit keeps the remainder whole (a multi-character delimiter here).
  out = runN("", "StringSplit", {S({1, 1}, {"1--2--3--4"})}, {as("delimiter", "--"), ai("maxsplit", 2)}, 20, 2);
  expect_strings(out[0], {1, 1, 3}, {"1", "2", "3--4"});
  expect_ints(out[1], ET::int64, {1, 1}, {3});
  out = runN("", "StringSplit", {S({0}, {})}, {}, 20, 2);
  expect_strings(out[0], {0, 0}, {});
}

TEST(TextStringConcat, Broadcasting) {
  expect_strings(run1("StringConcat", {S({2}, {"ab", ""}), S({}, {"!"})}), {2}, {"ab!", "!"});
  expect_strings(run1("StringConcat", {S({2, 1}, {"a", "b"}), S({2}, {"x", "\xc3\xa9"})}), {2, 2},
                 {"ax", "a\xc3\xa9", "bx", "b\xc3\xa9"});
  EXPECT_EQ(run_code("", "StringConcat", {S({2}, {"a", "b"}), S({3}, {"a", "b", "c"})}, {}, 20),
            StatusCode::invalid_argument);
  EXPECT_EQ(run_code("", "StringConcat", {S({1}, {"a"}), F({1}, {1})}, {}, 20), StatusCode::invalid_argument);
}

TEST(TextRegexFullMatch, WholeStringOnly) {
  Tensor y = run1("RegexFullMatch", {S({2, 2}, {"abc123", "abc", "abc12x", ""})}, {as("pattern", "[a-z]+\\d*")});
  expect_ints(y, ET::boolean, {2, 2}, {1, 1, 0, 0});
  expect_ints(run1("RegexFullMatch", {S({2}, {"", "a"})}, {as("pattern", "a?")}), ET::boolean, {2}, {1, 1});
  EXPECT_EQ(run_code("", "RegexFullMatch", {S({1}, {"a"})}, {as("pattern", "(a")}, 20), StatusCode::invalid_argument);
  EXPECT_EQ(run_code("", "RegexFullMatch", {S({1}, {"a"})}, {as("pattern", "(?P<x>a)")}, 20), StatusCode::unsupported);
}

// ---- TfIdfVectorizer ------------------------------------------------------------

std::vector<Attribute> tfidf_attrs(const std::string& mode, int64_t skip, std::vector<float> weights = {}) {
  // Pool: unigrams {2, 3}, bigram {(1, 3)}; output indexes 0, 1, 2.
  std::vector<Attribute> a = {as("mode", mode),          ai("min_gram_length", 1), ai("max_gram_length", 2),
                              ai("max_skip_count", skip), ais("ngram_counts", {0, 2}), ais("ngram_indexes", {0, 1, 2}),
                              ais("pool_int64s", {2, 3, 1, 3})};
  if (!weights.empty()) a.push_back(afs("weights", weights));
  return a;
}

TEST(TextTfIdfVectorizer, CountsSkipsAndModes) {
  const Tensor x = I(ET::int64, {4}, {1, 2, 3, 2});
  // Without skips the bigram (1, 3) is absent; with one skip it is found; unigrams are counted once.
  expect_values(run1("TfIdfVectorizer", {x}, tfidf_attrs("TF", 0), 9), ET::float32, {3}, {2, 1, 0});
  expect_values(run1("TfIdfVectorizer", {x}, tfidf_attrs("TF", 1), 9), ET::float32, {3}, {2, 1, 1});
  expect_values(run1("TfIdfVectorizer", {x}, tfidf_attrs("IDF", 1, {0.5f, 2, 3}), 9), ET::float32, {3}, {0.5, 2, 3});
  expect_values(run1("TfIdfVectorizer", {x}, tfidf_attrs("TFIDF", 1, {0.5f, 2, 3}), 9), ET::float32, {3}, {1, 2, 3});
  // Batched int32 input: one row per sample.
  expect_values(run1("TfIdfVectorizer", {I(ET::int32, {2, 2}, {1, 3, 3, 3})}, tfidf_attrs("TF", 0), 9), ET::float32,
                {2, 3}, {0, 1, 1, 0, 2, 0});
  // Strings, bigrams only (min_gram_length 2).
  std::vector<Attribute> s = {as("mode", "TF"),          ai("min_gram_length", 2), ai("max_gram_length", 2),
                              ai("max_skip_count", 0),   ais("ngram_counts", {0, 1}), ais("ngram_indexes", {0, 1}),
                              ass("pool_strings", {"a", "a", "b"})};
  expect_values(run1("TfIdfVectorizer", {S({3}, {"a", "b", "a"})}, s, 9), ET::float32, {2}, {0, 1});
  EXPECT_EQ(run_code("", "TfIdfVectorizer", {F({2}, {1, 2})}, tfidf_attrs("TF", 0), 9), StatusCode::invalid_argument);
}

// ---- ai.onnx.ml ---------------------------------------------------------------------

TEST(MlLabelEncoder, ListAttributesAndDefaults) {
  const Tensor x = S({3}, {"a", "c", "zz"});
  expect_ints(run_ml("LabelEncoder", {x}, {ass("keys_strings", {"a", "b", "c"}), ais("values_int64s", {1, 2, 3})}, 2),
              ET::int64, {3}, {1, 3, -1});
  expect_ints(run_ml("LabelEncoder", {x},
                     {ass("keys_strings", {"a", "b", "c"}), ais("values_int64s", {1, 2, 3}), ai("default_int64", 7)}, 2),
              ET::int64, {3}, {1, 3, 7});
  expect_strings(run_ml("LabelEncoder", {F({2, 2}, {0.5, 1.5, kNaN, 2})},
                        {afs("keys_floats", {0.5f, std::nanf("")}), ass("values_strings", {"half", "nan"})}, 2),
                 {2, 2}, {"half", "_Unused", "nan", "_Unused"});
  Tensor f = run_ml("LabelEncoder", {I(ET::int64, {2}, {4, 5})}, {ais("keys_int64s", {4}), afs("values_floats", {2.5f})}, 2);
  expect_values(f, ET::float32, {2}, {2.5, -0.0});
  EXPECT_TRUE(std::signbit(get_double(f, 1)));
}

TEST(MlLabelEncoder, TensorAttributesOpset4) {
  const Tensor keys = I(ET::int32, {3}, {10, 20, 30});
  const Tensor values = F({3}, {1.5, 2.5, 3.5}, ET::float64);
  Tensor y = run_ml("LabelEncoder", {I(ET::int32, {4}, {20, 10, 99, 30})},
                    {at("keys_tensor", keys), at("values_tensor", values), at("default_tensor", F({1}, {-9}, ET::float64))});
  expect_values(y, ET::float64, {4}, {2.5, 1.5, -9, 3.5});
  Tensor s = run_ml("LabelEncoder", {S({2}, {"x", "y"})},
                    {ass("keys_strings", {"x"}), at("values_tensor", I(ET::int16, {1}, {5}))});
  expect_ints(s, ET::int16, {2}, {5, -1});
  EXPECT_EQ(run_code(kMl, "LabelEncoder", {I(ET::int64, {1}, {1})}, {ass("keys_strings", {"x"}), ais("values_int64s", {1})},
                     4),
            StatusCode::invalid_argument);
}

TEST(MlLabelEncoder, Opset1ClassesStrings) {
  expect_ints(run_ml("LabelEncoder", {S({3}, {"b", "a", "q"})}, {ass("classes_strings", {"a", "b"})}, 1), ET::int64, {3},
              {1, 0, -1});
  expect_strings(run_ml("LabelEncoder", {I(ET::int64, {2}, {1, 5})},
                        {ass("classes_strings", {"a", "b"}), as("default_string", "?")}, 1),
                 {2}, {"b", "?"});
}

TEST(MlArrayFeatureExtractor, GathersLastAxis) {
  Tensor y = run_ml("ArrayFeatureExtractor", {F({2, 3}, {1, 2, 3, 4, 5, 6}), I(ET::int64, {2}, {2, 0})}, {}, 1);
  expect_values(y, ET::float32, {2, 2}, {3, 1, 6, 4});
  expect_strings(run_ml("ArrayFeatureExtractor", {S({3}, {"a", "b", "c"}), I(ET::int64, {1}, {1})}, {}, 1), {1, 1}, {"b"});
  EXPECT_EQ(run_code(kMl, "ArrayFeatureExtractor", {F({3}, {1, 2, 3}), I(ET::int64, {1}, {3})}, {}, 1),
            StatusCode::invalid_argument);
}

TEST(MlBinarizer, Threshold) {
  expect_values(run_ml("Binarizer", {F({4}, {-1, 0.5, 0.6, kNaN})}, {af("threshold", 0.5f)}, 1), ET::float32, {4},
                {0, 0, 1, kNaN});
  expect_ints(run_ml("Binarizer", {I(ET::int64, {3}, {-2, 0, 3})}, {}, 1), ET::int64, {3}, {0, 0, 1});
  EXPECT_EQ(run_code(kMl, "Binarizer", {S({1}, {"a"})}, {}, 1), StatusCode::unsupported);
}

TEST(MlScalerNormalizer, Basic) {
  expect_values(run_ml("Scaler", {F({2, 2}, {1, 2, 3, 4})}, {afs("offset", {1, 2}), afs("scale", {2, 0.5f})}, 1),
                ET::float32, {2, 2}, {0, 0, 4, 1});
  expect_values(run_ml("Normalizer", {F({2, 2}, {3, 4, -1, 1})}, {as("norm", "L2")}, 1), ET::float32, {2, 2},
                {0.6, 0.8, -std::sqrt(0.5), std::sqrt(0.5)});
  expect_values(run_ml("Normalizer", {I(ET::int64, {1, 2}, {1, 3})}, {as("norm", "L1")}, 1), ET::float32, {1, 2},
                {0.25, 0.75});
}

// One tree: node 0 tests x0 <= 1.5 (true -> leaf 0); node 1 tests x1 in {1, 3} (true -> leaf 1, false -> leaf 2).
std::vector<Attribute> tree_attrs(int64_t aggregate, int64_t post, int64_t n_targets, const std::vector<int64_t>& roots) {
  return {at("nodes_splits", F({2}, {1.5, kNaN})),
          ais("nodes_featureids", {0, 1}),
          at("nodes_modes", I(ET::uint8, {2}, {0, 6})),
          ais("nodes_truenodeids", {0, 1}),
          ais("nodes_trueleafs", {1, 1}),
          ais("nodes_falsenodeids", {1, 2}),
          ais("nodes_falseleafs", {0, 1}),
          at("membership_values", F({3}, {1, 3, kNaN})),
          ais("leaf_targetids", {0, 1, 1}),
          at("leaf_weights", F({3}, {10, 20, 30})),
          ais("tree_roots", roots),
          ai("n_targets", n_targets),
          ai("aggregate_function", aggregate),
          ai("post_transform", post)};
}

TEST(MlTreeEnsemble, BranchesMembershipAndAggregation) {
  const Tensor x = F({3, 2}, {1, 0, 2, 3, 2, 2});
  expect_values(run_ml("TreeEnsemble", {x}, tree_attrs(1, 0, 2, {0}), 5), ET::float32, {3, 2},
                {10, 0, 0, 20, 0, 30});
  // The same tree twice: SUM doubles, AVERAGE does not.
  expect_values(run_ml("TreeEnsemble", {x}, tree_attrs(1, 0, 2, {0, 0}), 5), ET::float32, {3, 2},
                {20, 0, 0, 40, 0, 60});
  expect_values(run_ml("TreeEnsemble", {x}, tree_attrs(0, 0, 2, {0, 0}), 5), ET::float32, {3, 2},
                {10, 0, 0, 20, 0, 30});
  // LOGISTIC post transform; double input.
  const double s10 = 1 / (1 + std::exp(-10.0)), s0 = 0.5;
  expect_values(run_ml("TreeEnsemble", {F({1, 2}, {1, 0}, ET::float64)}, tree_attrs(1, 2, 2, {0}), 5), ET::float64,
                {1, 2}, {s10, s0}, 1e-12);
  // A NaN feature fails every comparison unless it tracks true.
  expect_values(run_ml("TreeEnsemble", {F({1, 2}, {kNaN, 3})}, tree_attrs(1, 0, 2, {0}), 5), ET::float32, {1, 2},
                {0, 20});
  auto with_missing = tree_attrs(1, 0, 2, {0});
  with_missing.push_back(ais("nodes_missing_value_tracks_true", {1, 0}));
  expect_values(run_ml("TreeEnsemble", {F({1, 2}, {kNaN, 3})}, with_missing, 5), ET::float32, {1, 2}, {10, 0});
  EXPECT_EQ(run_code(kMl, "TreeEnsemble", {F({1, 1}, {1})}, tree_attrs(1, 0, 2, {0}), 5), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace switchyard::reference
