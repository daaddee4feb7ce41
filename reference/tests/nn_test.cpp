// Tests for the reference nn kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "test_util.h"

namespace switchyard::reference {
namespace {

using namespace switchyard::reference::test;

// ---- helpers ---------------------------------------------------------------

struct Op {
  std::string type;
  std::string domain;
  int64_t opset;
};

const Op kNll{"NegativeLogLikelihoodLoss", "", 22};
const Op kSce{"SoftmaxCrossEntropyLoss", "", 13};
const Op kRnn{"RNN", "", 22};
const Op kGru{"GRU", "", 22};
const Op kLstm{"LSTM", "", 22};
const Op kAttention{"Attention", "", 24};
const Op kRotary{"RotaryEmbedding", "", 23};
const Op kCausalConv{"CausalConvWithState", "", 27};
const Op kLinearAttention{"LinearAttention", "", 27};
const Op kFlex{"FlexAttention", "ai.onnx.preview", 1};
const Op kAdagrad{"Adagrad", "ai.onnx.preview.training", 1};
const Op kAdam{"Adam", "ai.onnx.preview.training", 1};
const Op kMomentum{"Momentum", "ai.onnx.preview.training", 1};

// Runs the node and returns the declared outputs in order; `outputs` lists which outputs the
// node declares (false = omitted, "").
std::vector<Tensor> run(const Op& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                        const std::vector<bool>& outputs = {true}) {
  return expect_run(op.type, inputs, attrs, op.opset, outputs, op.domain);
}

StatusCode run_code(const Op& op, const std::vector<Input>& inputs, const std::vector<Attribute>& attrs = {},
                    const std::vector<bool>& outputs = {true}) {
  return code_of(run_node(op.type, inputs, attrs, op.opset, outputs, op.domain));
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// ---- NegativeLogLikelihoodLoss ---------------------------------------------

TEST(NnNll, Reductions) {
  Tensor x = F({2, 3}, {-1, -2, -3, -4, -5, -6});
  Tensor t = I(ET::int64, {2}, {2, 0});
  expect_values(run(kNll, {x, t}, {as("reduction", "none")})[0], {2}, {3, 4});
  expect_values(run(kNll, {x, t}, {as("reduction", "sum")})[0], {}, {7});
  expect_values(run(kNll, {x, t})[0], {}, {3.5});  // default mean
}

TEST(NnNll, WeightAndIgnoreIndex) {
  Tensor x = F({2, 3}, {-1, -2, -3, -4, -5, -6});
  Tensor w = F({3}, {0.5, 1, 2});
  // losses 3*2 = 6 and 4*0.5 = 2; mean divides by the weight sum 2.5.
  expect_values(run(kNll, {x, I(ET::int64, {2}, {2, 0}), w})[0], {}, {3.2});
  // ignore_index 0 removes the second sample from the sum and the weight sum.
  expect_values(run(kNll, {x, I(ET::int64, {2}, {2, 0}), w}, {ai("ignore_index", 0)})[0], {}, {3});
  // A negative ignore_index may appear in the target.
  expect_values(run(kNll, {x, I(ET::int64, {2}, {-1, 1})}, {ai("ignore_index", -1), as("reduction", "none")})[0], {2},
                {0, 5});
  expect_values(run(kNll, {x, I(ET::int64, {2}, {-1, 1})}, {ai("ignore_index", -1)})[0], {}, {5});
}

TEST(NnNll, HigherRankAndInt32Target) {
  // x[n][c][d]: class 0 = [-1, -2], class 1 = [-3, -4].
  Tensor x = F({1, 2, 2}, {-1, -2, -3, -4});
  Tensor t = I(ET::int32, {1, 2}, {1, 0});
  expect_values(run(kNll, {x, t}, {as("reduction", "none")})[0], {1, 2}, {3, 2});
}

TEST(NnNll, Float16) {
  Tensor x = F({2, 3}, {-1, -2, -3, -4, -5, -6}, ET::float16);
  Tensor out = run(kNll, {x, I(ET::int64, {2}, {2, 0})}, {as("reduction", "sum")})[0];
  EXPECT_EQ(out.type(), ET::float16);
  expect_values(out, {}, {7});
}

TEST(NnNll, AllIgnoredMeanIsNaN) {
  Tensor x = F({1, 2}, {-1, -2});
  expect_values(run(kNll, {x, I(ET::int64, {1}, {1})}, {ai("ignore_index", 1)})[0], {}, {kNaN});
}

TEST(NnNll, Errors) {
  Tensor x = F({2, 3}, {-1, -2, -3, -4, -5, -6});
  EXPECT_EQ(run_code(kNll, {x, I(ET::int64, {2}, {3, 0})}), StatusCode::invalid_argument);     // class out of range
  EXPECT_EQ(run_code(kNll, {x, I(ET::int64, {2}, {-1, 0})}), StatusCode::invalid_argument);    // negative, not ignored
  EXPECT_EQ(run_code(kNll, {x, I(ET::int64, {3}, {0, 0, 0})}), StatusCode::invalid_argument);  // target shape
  // weight shape
  EXPECT_EQ(run_code(kNll, {x, I(ET::int64, {2}, {0, 0}), F({2}, {1, 1})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kNll, {x, I(ET::int64, {2}, {0, 0})}, {as("reduction", "max")}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kNll, {x, F({2}, {0, 0})}), StatusCode::invalid_argument);                // float target
}

// ---- SoftmaxCrossEntropyLoss -----------------------------------------------

TEST(NnSce, LossAndLogProb) {
  Tensor s = F({2, 3}, {1, 2, 3, 1, 1, 1});
  Tensor labels = I(ET::int64, {2}, {2, 0});
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double l0 = lse0 - 3, l1 = std::log(3.0);
  auto out = run(kSce, {s, labels}, {as("reduction", "none")}, {true, true});
  expect_values(out[0], {2}, {l0, l1});
  expect_values(out[1], {2, 3}, {1 - lse0, 2 - lse0, 3 - lse0, -l1, -l1, -l1});
  expect_values(run(kSce, {s, labels}, {as("reduction", "sum")})[0], {}, {l0 + l1});
  expect_values(run(kSce, {s, labels})[0], {}, {(l0 + l1) / 2});
}

TEST(NnSce, WeightIgnoreIndexAndRank3) {
  // scores (1, 2, 2): position 0 scores (0, 0), position 1 scores (0, ln 3).
  Tensor s = F({1, 2, 2}, {0, 0, 0, std::log(3.0)});
  Tensor labels = I(ET::int64, {1, 2}, {0, 1});
  // position 0: -log(1/2); position 1: -log(3/4).
  expect_values(run(kSce, {s, labels}, {as("reduction", "none")})[0], {1, 2}, {std::log(2.0), -std::log(0.75)});
  Tensor w = F({2}, {1, 3});
  expect_values(run(kSce, {s, labels, w})[0], {}, {(std::log(2.0) - 3 * std::log(0.75)) / 4});
  expect_values(run(kSce, {s, labels}, {ai("ignore_index", 0)})[0], {}, {-std::log(0.75)});
}

TEST(NnSce, Float16AndErrors) {
  Tensor s = F({1, 2}, {0, 0}, ET::float16);
  auto out = run(kSce, {s, I(ET::int64, {1}, {1})}, {}, {true, true});
  EXPECT_EQ(out[0].type(), ET::float16);
  expect_values(out[0], {}, {std::log(2.0)}, 1e-3);
  expect_values(out[1], {1, 2}, {-std::log(2.0), -std::log(2.0)}, 1e-3);
  EXPECT_EQ(run_code(kSce, {F({1, 2}, {0, 0}), I(ET::int64, {1}, {2})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kSce, {F({2}, {0, 0}), I(ET::int64, {1}, {0})}), StatusCode::invalid_argument);
}

// ---- RNN / GRU / LSTM ------------------------------------------------------

TEST(NnRnn, SingleStepWithBiasAndInitialState) {
  // h = tanh(x*W + h0*R + Wb + Rb) = tanh(0.5 + 2 + 0.3)
  auto out = run(kRnn, {F({1, 1, 1}, {1}), F({1, 1, 1}, {0.5}), F({1, 1, 1}, {2}), F({1, 2}, {0.1, 0.2}), none(),
                        F({1, 1, 1}, {1})},
                 {ai("hidden_size", 1)}, {true, true});
  expect_values(out[0], {1, 1, 1, 1}, {std::tanh(2.8)});
  expect_values(out[1], {1, 1, 1}, {std::tanh(2.8)});
}

TEST(NnRnn, ReverseDirection) {
  auto out = run(kRnn, {F({2, 1, 1}, {1, 2}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})},
                 {as("direction", "reverse")}, {true, true});
  const double h1 = std::tanh(2.0), h0 = std::tanh(1.0 + h1);
  expect_values(out[0], {2, 1, 1, 1}, {h0, h1});
  expect_values(out[1], {1, 1, 1}, {h0});
}

TEST(NnRnn, BidirectionalShapes) {
  // Forward weight 1, reverse weight 2, R = 0: each step is tanh(w * x).
  auto out = run(kRnn, {F({2, 1, 1}, {1, -1}), F({2, 1, 1}, {1, 2}), F({2, 1, 1}, {0, 0})},
                 {as("direction", "bidirectional")}, {true, true});
  expect_values(out[0], {2, 2, 1, 1}, {std::tanh(1.0), std::tanh(2.0), std::tanh(-1.0), std::tanh(-2.0)});
  // Y_h: forward ends at t = 1, reverse ends at t = 0.
  expect_values(out[1], {2, 1, 1}, {std::tanh(-1.0), std::tanh(2.0)});
}

TEST(NnRnn, SequenceLensAndLayout) {
  // batch 2, seq 2, lens (2, 1); W = 1, R = 1.
  Tensor X = F({2, 2, 1}, {1, 2, 3, 4});  // layout 0: [t][b]
  auto out = run(kRnn, {X, F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), none(), I(ET::int32, {2}, {2, 1})}, {},
                 {true, true});
  const double b0t0 = std::tanh(1.0), b1t0 = std::tanh(2.0), b0t1 = std::tanh(3.0 + b0t0);
  expect_values(out[0], {2, 1, 2, 1}, {b0t0, b1t0, b0t1, 0.0});
  expect_values(out[1], {1, 2, 1}, {b0t1, b1t0});
  // Same data in layout 1: X is [b][t], Y is [b][t][dir][h], Y_h is [b][dir][h].
  Tensor Xb = F({2, 2, 1}, {1, 3, 2, 4});
  auto outb = run(kRnn, {Xb, F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), none(), I(ET::int32, {2}, {2, 1})},
                  {ai("layout", 1)}, {true, true});
  expect_values(outb[0], {2, 2, 1, 1}, {b0t0, b0t1, b1t0, 0.0});
  expect_values(outb[1], {2, 1, 1}, {b0t1, b1t0});
}

TEST(NnRnn, ActivationAlphaAndClip) {
  auto leaky = run(kRnn, {F({1, 1, 1}, {-1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {0})},
                   {ass("activations", {"LeakyRelu"}), afs("activation_alpha", {0.1f})}, {true});
  expect_values(leaky[0], {1, 1, 1, 1}, {-0.1});
  auto clipped = run(kRnn, {F({1, 1, 1}, {10}), F({1, 1, 1}, {1}), F({1, 1, 1}, {0})}, {af("clip", 0.5f)}, {true});
  expect_values(clipped[0], {1, 1, 1, 1}, {std::tanh(0.5)});
}

TEST(NnRnn, Errors) {
  EXPECT_EQ(run_code(kRnn, {F({1, 1, 2}, {1, 1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kRnn, {F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), none(), I(ET::int64, {1}, {2})}),
            StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kRnn, {F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {1})}, {ass("activations", {"Cube"})}),
            StatusCode::unsupported);
}

TEST(NnGru, LinearBeforeReset) {
  const double wz = 0.1, wr = 0.2, wh = 0.3, rz = 0.4, rr = 0.5, rh = 0.6, h0 = 0.5, rbh = 0.3;
  Tensor X = F({1, 1, 1}, {1});
  Tensor W = F({1, 3, 1}, {wz, wr, wh});
  Tensor R = F({1, 3, 1}, {rz, rr, rh});
  Tensor B = F({1, 6}, {0, 0, 0, 0, 0, rbh});
  Tensor H0 = F({1, 1, 1}, {h0});
  const double z = sigmoid(wz + rz * h0), r = sigmoid(wr + rr * h0);
  const double hh0 = std::tanh(wh + (r * h0) * rh + rbh);
  const double hh1 = std::tanh(wh + r * (h0 * rh + rbh));
  auto out0 = run(kGru, {X, W, R, B, none(), H0}, {}, {true, true});
  expect_values(out0[1], {1, 1, 1}, {(1 - z) * hh0 + z * h0});
  auto out1 = run(kGru, {X, W, R, B, none(), H0}, {ai("linear_before_reset", 1)}, {true, true});
  expect_values(out1[1], {1, 1, 1}, {(1 - z) * hh1 + z * h0});
  EXPECT_GT(std::fabs(hh0 - hh1), 1e-3);  // the two variants really differ here
}

TEST(NnLstm, PeepholesAndCellOutput) {
  const double x = 0.7, h0 = 0.2, c0 = -0.4;
  const double wi = 0.1, wo = 0.2, wf = 0.3, wc = 0.4, ri = -0.1, ro = 0.5, rf = 0.6, rc = -0.7;
  const double pi = 0.3, po = -0.2, pf = 0.1;
  const double i = sigmoid(wi * x + ri * h0 + pi * c0);
  const double f = sigmoid(wf * x + rf * h0 + pf * c0);
  const double cg = std::tanh(wc * x + rc * h0);
  const double c = f * c0 + i * cg;
  const double o = sigmoid(wo * x + ro * h0 + po * c);
  const double h = o * std::tanh(c);
  auto out = run(kLstm,
                 {F({1, 1, 1}, {x}), F({1, 4, 1}, {wi, wo, wf, wc}), F({1, 4, 1}, {ri, ro, rf, rc}), none(), none(),
                  F({1, 1, 1}, {h0}), F({1, 1, 1}, {c0}), F({1, 3}, {pi, po, pf})},
                 {ai("hidden_size", 1)}, {true, true, true});
  expect_values(out[0], {1, 1, 1, 1}, {h});
  expect_values(out[1], {1, 1, 1}, {h});
  expect_values(out[2], {1, 1, 1}, {c});
}

TEST(NnLstm, InputForgetAndFloat16) {
  // input_forget couples f = 1 - i; all weights 1, zero state: c = i * tanh(x).
  const double x = 0.5, i = sigmoid(x), c = i * std::tanh(x), h = sigmoid(x) * std::tanh(c);
  auto out = run(kLstm, {F({1, 1, 1}, {x}, ET::float16), F({1, 4, 1}, {1, 1, 1, 1}, ET::float16),
                         F({1, 4, 1}, {0, 0, 0, 0}, ET::float16)},
                 {ai("input_forget", 1)}, {false, true, true});
  EXPECT_EQ(out[0].type(), ET::float16);
  expect_values(out[0], {1, 1, 1}, {h}, 2e-3);
  expect_values(out[1], {1, 1, 1}, {c}, 2e-3);
}

// ---- Attention -------------------------------------------------------------

// One query [1, 0] against keys [1, 0] and [0, 1] with values 10 and 20.
Tensor q1() { return F({1, 1, 1, 2}, {1, 0}); }
Tensor k2() { return F({1, 1, 2, 2}, {1, 0, 0, 1}); }
Tensor v2() { return F({1, 1, 2, 1}, {10, 20}); }
double attn_ref(double s0, double s1) {
  const double p0 = 1.0 / (1.0 + std::exp(s1 - s0));
  return 10 * p0 + 20 * (1 - p0);
}

TEST(NnAttention, Basic4D) {
  expect_values(run(kAttention, {q1(), k2(), v2()})[0], {1, 1, 1, 1}, {attn_ref(1 / std::sqrt(2.0), 0)});
  expect_values(run(kAttention, {q1(), k2(), v2()}, {af("scale", 2.0f)})[0], {1, 1, 1, 1}, {attn_ref(2, 0)});
}

TEST(NnAttention, MasksAndCausal) {
  // bool mask: false removes key 1.
  Tensor bmask = from_int64s(ET::boolean, {1, 2}, {1, 0});
  expect_values(run(kAttention, {q1(), k2(), v2(), bmask})[0], {1, 1, 1, 1}, {10});
  // float mask added to scores.
  expect_values(run(kAttention, {q1(), k2(), v2(), F({1, 2}, {0, 1})})[0], {1, 1, 1, 1},
                {attn_ref(1 / std::sqrt(2.0), 1)});
  // A mask shorter than the key sequence is padded with -inf.
  expect_values(run(kAttention, {q1(), k2(), v2(), F({1, 1}, {0})})[0], {1, 1, 1, 1}, {10});
  // Causal with two queries: query 0 sees key 0 only, query 1 sees both.
  Tensor q = F({1, 1, 2, 2}, {1, 0, 1, 0});
  expect_values(run(kAttention, {q, k2(), v2()}, {ai("is_causal", 1)})[0], {1, 1, 2, 1},
                {10, attn_ref(1 / std::sqrt(2.0), 0)});
}

TEST(NnAttention, GqaPastPresentAndQkOutput) {
  // Two query heads share one KV head; the past holds key 0 / value 10, the new step key 1 / value 20.
  Tensor q = F({1, 2, 1, 2}, {1, 0, 0, 1});
  Tensor k = F({1, 1, 1, 2}, {0, 1});
  Tensor v = F({1, 1, 1, 1}, {20});
  Tensor pk = F({1, 1, 1, 2}, {1, 0});
  Tensor pv = F({1, 1, 1, 1}, {10});
  const double s = 1 / std::sqrt(2.0);
  auto out = run(kAttention, {q, k, v, none(), pk, pv}, {}, {true, true, true, true});
  expect_values(out[0], {1, 2, 1, 1}, {attn_ref(s, 0), attn_ref(0, s)});
  expect_values(out[1], {1, 1, 2, 2}, {1, 0, 0, 1});
  expect_values(out[2], {1, 1, 2, 1}, {10, 20});
  expect_values(out[3], {1, 2, 1, 2}, {s, 0, 0, s});
  // Mode 3 returns the softmax probabilities.
  auto probs = run(kAttention, {q, k, v, none(), pk, pv}, {ai("qk_matmul_output_mode", 3)}, {true, false, false, true});
  const double p = 1.0 / (1.0 + std::exp(-s));
  expect_values(probs[1], {1, 2, 1, 2}, {p, 1 - p, 1 - p, p});
}

TEST(NnAttention, SoftcapBeforeMask) {
  const double cap = 0.5, s = 1 / std::sqrt(2.0);
  const double c0 = cap * std::tanh(s / cap);
  auto out = run(kAttention, {q1(), k2(), v2(), F({1, 2}, {0, 0.25})},
                 {af("softcap", static_cast<float>(cap)), ai("qk_matmul_output_mode", 2)}, {true, false, false, true});
  expect_values(out[0], {1, 1, 1, 1}, {attn_ref(c0, 0.25)});
  expect_values(out[1], {1, 1, 1, 2}, {c0, 0.25});
}

TEST(NnAttention, ThreeDInputAndFloat16) {
  // Q (1, 1, 2*2): two heads of size 2; K/V one KV head.
  Tensor q = F({1, 1, 4}, {1, 0, 0, 1});
  Tensor k = F({1, 2, 2}, {1, 0, 0, 1});
  Tensor v = F({1, 2, 1}, {10, 20});
  const double s = 1 / std::sqrt(2.0);
  expect_values(run(kAttention, {q, k, v}, {ai("q_num_heads", 2), ai("kv_num_heads", 1)})[0], {1, 1, 2},
                {attn_ref(s, 0), attn_ref(0, s)});
  Tensor out = run(kAttention, {F({1, 1, 1, 2}, {1, 0}, ET::float16), F({1, 1, 2, 2}, {1, 0, 0, 1}, ET::float16),
                                F({1, 1, 2, 1}, {10, 20}, ET::float16)})[0];
  EXPECT_EQ(out.type(), ET::float16);
  expect_values(out, {1, 1, 1, 1}, {attn_ref(s, 0)}, 1e-3);
}

TEST(NnAttention, NonpadKvSeqlen) {
  // Only the first key is valid for the batch.
  expect_values(run(kAttention, {q1(), k2(), v2(), none(), none(), none(), I(ET::int64, {1}, {1})})[0], {1, 1, 1, 1},
                {10});
}

TEST(NnAttention, Errors) {
  Tensor q3 = F({1, 3, 1, 2}, {1, 0, 1, 0, 1, 0});
  Tensor k = F({1, 2, 1, 2}, {1, 0, 1, 0});
  Tensor v = F({1, 2, 1, 1}, {1, 1});
  EXPECT_EQ(run_code(kAttention, {q3, k, v}), StatusCode::invalid_argument);  // 3 heads vs 2 KV heads
  EXPECT_EQ(run_code(kAttention, {q1(), F({1, 1, 2, 3}, {0, 0, 0, 0, 0, 0}), v2()}), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kAttention, {F({1, 1, 4}, {1, 0, 0, 1}), F({1, 2, 2}, {1, 0, 0, 1}), F({1, 2, 1}, {1, 2})}),
            StatusCode::invalid_argument);  // rank 3 without head counts
  EXPECT_EQ(run_code(kAttention, {q1(), k2(), v2(), F({1, 3}, {0, 0, 0})}), StatusCode::invalid_argument);
}

// ---- RotaryEmbedding -------------------------------------------------------

TEST(NnRotary, HalvesAndInterleaved) {
  Tensor x = F({1, 1, 1, 4}, {1, 2, 3, 4});
  Tensor cos = F({1, 1, 2}, {0, 1});
  Tensor sin = F({1, 1, 2}, {1, 0});
  // Halves: x1 = (1, 2), x2 = (3, 4).
  expect_values(run(kRotary, {x, cos, sin})[0], {1, 1, 1, 4}, {-3, 2, 1, 4});
  // Interleaved: pairs (1, 2) and (3, 4).
  expect_values(run(kRotary, {x, cos, sin}, {ai("interleaved", 1)})[0], {1, 1, 1, 4}, {-2, 1, 3, 4});
}

TEST(NnRotary, PositionIdsPartialRotationAnd3D) {
  // 3-D input (1, 2, 2*2) with two heads of size 2... rotate only the first 2 of head size 4 here.
  Tensor x = F({1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor cos = F({3, 1}, {1, 0, -1});
  Tensor sin = F({3, 1}, {0, 1, 0});
  Tensor pos = I(ET::int64, {1, 2}, {1, 2});
  // num_heads 1, head size 4, rotary dim 2: position 1 rotates (1, 2) by 90 degrees, position 2 by 180.
  expect_values(run(kRotary, {x, cos, sin, pos}, {ai("num_heads", 1), ai("rotary_embedding_dim", 2)})[0], {1, 2, 4},
                {-2, 1, 3, 4, -5, -6, 7, 8});
  // Two heads of size 2 in a 3-D input: each head's pair rotates.
  expect_values(run(kRotary, {x, cos, sin, pos}, {ai("num_heads", 2)})[0], {1, 2, 4}, {-2, 1, -4, 3, -5, -6, -7, -8});
  EXPECT_EQ(run_code(kRotary, {x, cos, sin, I(ET::int64, {1, 2}, {1, 3})}, {ai("num_heads", 2)}),
            StatusCode::invalid_argument);
}

// ---- CausalConvWithState ---------------------------------------------------

TEST(NnCausalConv, StateBiasAndSilu) {
  Tensor x = F({1, 1, 3}, {1, 2, 3});
  Tensor w = F({1, 1, 2}, {1, 10});
  auto out = run(kCausalConv, {x, w}, {}, {true, true});
  expect_values(out[0], {1, 1, 3}, {10, 21, 32});
  expect_values(out[1], {1, 1, 1}, {3});
  auto with_past = run(kCausalConv, {x, w, F({1}, {1}), F({1, 1, 1}, {5})}, {}, {true, true});
  expect_values(with_past[0], {1, 1, 3}, {16, 22, 33});
  auto silu = run(kCausalConv, {F({1, 1, 1}, {-1}), F({1, 1, 1}, {1})}, {as("activation", "silu")}, {true, true});
  expect_values(silu[0], {1, 1, 1}, {-sigmoid(-1)});
  EXPECT_EQ(silu[1].shape(), (Shape{1, 1, 0}));
  EXPECT_EQ(run_code(kCausalConv, {x, F({2, 1, 2}, {1, 1, 1, 1})}), StatusCode::invalid_argument);
}

// ---- LinearAttention -------------------------------------------------------

TEST(NnLinearAttention, UpdateRules) {
  Tensor q = F({1, 2, 1}, {1, 2});
  Tensor k = F({1, 2, 1}, {1, 1});
  Tensor v = F({1, 2, 1}, {3, 4});
  const std::vector<Attribute> base{ai("q_num_heads", 1), ai("kv_num_heads", 1), af("scale", 1.0f)};
  auto with_rule = [&](const std::string& rule) {
    std::vector<Attribute> a = base;
    a.push_back(as("update_rule", rule));
    return a;
  };
  auto lin = run(kLinearAttention, {q, k, v}, with_rule("linear"), {true, true});
  expect_values(lin[0], {1, 2, 1}, {3, 14});
  expect_values(lin[1], {1, 1, 1, 1}, {7});
  Tensor decay = F({1, 2, 1}, {std::log(0.5), std::log(0.5)});
  auto gated = run(kLinearAttention, {q, k, v, none(), decay}, with_rule("gated"), {true, true});
  expect_values(gated[0], {1, 2, 1}, {3, 11});
  Tensor beta = F({1, 2, 1}, {1, 0.5});
  auto delta = run(kLinearAttention, {q, k, v, none(), none(), beta}, with_rule("delta"), {true, true});
  expect_values(delta[0], {1, 2, 1}, {3, 7});
  expect_values(delta[1], {1, 1, 1, 1}, {3.5});
  // gated_delta (the default) with a past state of 2: decay halves it to 1, v = 1*(3 - 1) = 2, state 3.
  auto gd = run(kLinearAttention, {F({1, 1, 1}, {1}), F({1, 1, 1}, {1}), F({1, 1, 1}, {3}), F({1, 1, 1, 1}, {2}),
                                   F({1, 1, 1}, {std::log(0.5)}), F({1, 1, 1}, {1})},
                base, {true, true});
  expect_values(gd[0], {1, 1, 1}, {3});
  EXPECT_EQ(run_code(kLinearAttention, {q, k, v}, with_rule("gated")), StatusCode::invalid_argument);
  EXPECT_EQ(run_code(kLinearAttention, {q, k, v, none(), decay}, with_rule("linear")), StatusCode::invalid_argument);
}

// ---- FlexAttention ---------------------------------------------------------

std::shared_ptr<Graph> scale_graph(double factor) {
  auto g = std::make_shared<Graph>();
  g->name = "mod";
  g->opsets.push_back({"", 26});
  int32_t in = g->add_value("x");
  int32_t c = g->add_value("c");
  int32_t out = g->add_value("y");
  g->inputs.push_back(in);
  g->initializers[c] = F({}, {factor});
  Node n;
  n.op_type = "Mul";
  n.opset = 26;
  n.inputs = {in, c};
  n.outputs = {out};
  g->nodes.push_back(n);
  g->outputs.push_back(out);
  return g;
}

TEST(NnFlexAttention, BasicScoreModAndProbMod) {
  const double s = 1 / std::sqrt(2.0);
  expect_values(run(kFlex, {q1(), k2(), v2()})[0], {1, 1, 1, 1}, {attn_ref(s, 0)});
  expect_values(run(kFlex, {q1(), k2(), v2()}, {ag("score_mod", scale_graph(3.0))})[0], {1, 1, 1, 1},
                {attn_ref(3 * s, 0)});
  expect_values(run(kFlex, {q1(), k2(), v2()}, {ag("prob_mod", scale_graph(0.5))})[0], {1, 1, 1, 1},
                {0.5 * attn_ref(s, 0)});
  EXPECT_EQ(run_code(kFlex, {F({1, 1, 2}, {1, 0}), k2(), v2()}), StatusCode::invalid_argument);
}

// ---- training optimisers ---------------------------------------------------

TEST(NnTraining, Adagrad) {
  Tensor r = F({}, {0.1});
  Tensor t = I(ET::int64, {}, {0});
  // h = 0 + 2^2 = 4; x = 1 - 0.1 * 2 / 2.
  auto out = run(kAdagrad, {r, t, F({1}, {1}), F({1}, {2}), F({1}, {0})}, {}, {true, true});
  expect_values(out[0], {1}, {0.9});
  expect_values(out[1], {1}, {4});
  // Two tensors, decay_factor with t = 1 halves the rate.
  auto two = run(kAdagrad,
                 {r, I(ET::int64, {}, {1}), F({1}, {1}), F({2}, {0, 0}), F({1}, {2}), F({2}, {1, -1}), F({1}, {0}),
                  F({2}, {3, 0})},
                 {af("decay_factor", 1.0f)}, {true, true, true, true});
  expect_values(two[0], {1}, {1 - 0.05 * 2 / 2});
  expect_values(two[1], {2}, {-0.05 / 2, 0.05});
  expect_values(two[3], {2}, {4, 1});
}

TEST(NnTraining, MomentumStandardAndNesterov) {
  const std::vector<Attribute> a{af("alpha", 0.9f), af("beta", 0.1f), af("norm_coefficient", 0.0f),
                                 as("mode", "standard")};
  auto first =
      run(kMomentum, {F({}, {0.1}), I(ET::int64, {}, {0}), F({1}, {1}), F({1}, {2}), F({1}, {1})}, a, {true, true});
  expect_values(first[0], {1}, {0.71});
  expect_values(first[1], {1}, {2.9});
  auto later =
      run(kMomentum, {F({}, {0.1}), I(ET::int64, {}, {1}), F({1}, {1}), F({1}, {2}), F({1}, {1})}, a, {true, true});
  expect_values(later[0], {1}, {0.89});
  expect_values(later[1], {1}, {1.1});
  std::vector<Attribute> n = a;
  n[3] = as("mode", "nesterov");
  auto nest =
      run(kMomentum, {F({}, {0.1}), I(ET::int64, {}, {1}), F({1}, {1}), F({1}, {2}), F({1}, {1})}, n, {true, true});
  expect_values(nest[0], {1}, {0.701});
  EXPECT_EQ(run_code(kMomentum, {F({}, {0.1}), I(ET::int64, {}, {1}), F({1}, {1}), F({1}, {2}), F({1}, {1})},
                     {af("alpha", 0.9f)}, {true, true}),
            StatusCode::invalid_argument);
}

TEST(NnTraining, Adam) {
  // v = 0.1 * 2 = 0.2, h = 0.001 * 4 = 0.004.
  auto out = run(kAdam, {F({}, {0.1}), I(ET::int64, {}, {0}), F({1}, {1}), F({1}, {2}), F({1}, {0}), F({1}, {0})}, {},
                 {true, true, true});
  expect_values(out[0], {1}, {1 - 0.1 * 0.2 / std::sqrt(0.004)});
  expect_values(out[1], {1}, {0.2});
  expect_values(out[2], {1}, {0.004});
  // With t = 1 the bias correction makes the step exactly r * sign(g).
  auto corrected = run(kAdam, {F({}, {0.1}), I(ET::int64, {}, {1}), F({1}, {1}), F({1}, {2}), F({1}, {0}), F({1}, {0})},
                       {}, {true, true, true});
  expect_values(corrected[0], {1}, {0.9}, 1e-4);
  EXPECT_EQ(
      run_code(kAdam, {F({}, {0.1}), I(ET::int64, {}, {1}), F({1}, {1}), F({2}, {2, 2}), F({1}, {0}), F({1}, {0})}, {},
               {true, true, true}),
      StatusCode::invalid_argument);
}

TEST(NnRegistry, DomainsRegistered) {
  const KernelRegistry& r = KernelRegistry::instance();
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss", "RNN", "GRU", "LSTM", "Attention",
                         "RotaryEmbedding", "CausalConvWithState", "LinearAttention"})
    EXPECT_NE(r.find("", op), nullptr) << op;
  EXPECT_NE(r.find("ai.onnx.preview", "FlexAttention"), nullptr);
  for (const char* op : {"Adagrad", "Adam", "Momentum"}) EXPECT_NE(r.find("ai.onnx.preview.training", op), nullptr);
}

}  // namespace
}  // namespace switchyard::reference
