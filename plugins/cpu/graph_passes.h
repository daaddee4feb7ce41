// CPU plugin: compile-time graph rewriting. The plugin receives a segment and may rewrite
// it before choosing kernels; these passes never change results beyond float rounding:
//  - BatchNormalization (inference) after a Conv or ConvTranspose with constant weights is
//    folded into its weights and bias (computed in float64) when its output has no other use
//    (a ConvTranspose stays a ConvTranspose node, with the folded constants);
//  - Relu / LeakyRelu / Clip (constant bounds) / HardSwish / HardSigmoid / Sigmoid that
//    follow become oneDNN eltwise post-ops;
//  - a residual Add / two-input Sum becomes a oneDNN sum post-op when the other operand is
//    produced before the Conv, both shapes are equal and known, and nothing between needs it.
// The result is an execution graph in which each fused group is one node of the plugin's own
// domain (kFusedDomain / "FusedConv") with inputs [X, W', B' or -1, Z (sum operand), ...],
// plus, per original node, what happened to it (for support answers and serialization).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "switchyard/hal/graph.h"

namespace switchyard::cpu {

inline constexpr const char* kFusedDomain = "com.switchyard.cpu";
inline constexpr const char* kFusedConvOp = "FusedConv";

// One post-op of a fused convolution, in execution order.
struct ConvPostOp {
  enum class Kind { sum, relu, clip, logistic, hardswish, linear };
  Kind kind = Kind::relu;
  float alpha = 0, beta = 0;  // relu: negative slope; clip: [alpha, beta]; linear: alpha*x + beta
};

// A fused group: a Conv and the nodes absorbed into it.
struct ConvGroup {
  size_t conv = 0;               // original node index
  int64_t bn = -1;               // folded BatchNormalization (original index) or -1
  std::vector<size_t> absorbed;  // absorbed nodes (BN first if any), in graph order
  std::vector<ConvPostOp> post_ops;
  int32_t sum_value = -1;  // the other operand of a fused Add/Sum
  int32_t output = -1;     // the value the group produces (last absorbed node's output)
  std::string summary;     // "BatchNormalization folded, Add (sum), Relu" for messages
};

// Checks that oneDNN runs `conv` (a Conv node of `graph`) with these post-ops; the pass
// shortens a chain until the check passes. With sum, the node has Z as input 3.
using PostOpCheck = std::function<bool(const Node& conv, const Graph& graph, const std::vector<ConvPostOp>& ops)>;

struct FusionPlan {
  std::vector<ConvGroup> groups;
  std::vector<int64_t> group_of;  // per original node: its group, or -1
};

// Static shape propagation for the operators of CNNs (Conv, pooling, normalisation,
// activations, broadcasting arithmetic): where every input's shape is static, a value whose
// declared shape is partly unknown or symbolic gets the computed static shape (a declared
// static dim that disagrees leaves the value untouched). Returns how many values it refined.
// Kernels still check actual shapes at run time.
int refine_static_shapes(Graph& graph);

// Finds fusible groups (no rewriting).
FusionPlan plan_conv_fusions(const Graph& graph, const PostOpCheck& check);

struct RewrittenGraph {
  Graph graph;                           // the execution graph
  std::vector<int64_t> exec_node;        // per original node: the execution node that runs it (-1 = absorbed)
  std::vector<std::string> role;         // per original node: "" (runs as itself), "fused" (the Conv), "folded", "absorbed"
  std::vector<std::string> note;         // per original node: human-readable ("folded into Conv 'c1'")
  std::vector<int64_t> group_of_exec;    // per execution node: its group, or -1
  FusionPlan plan;
};

// Applies the plan: folds BN (float64 accumulation) into new initializers and replaces every
// group by one FusedConv node placed where the Conv was (topological order is kept).
// `weights_prepared(exec_node)`: true when that FusedConv's weights come already folded and laid
// out from a serialized executable; only the bias is folded then, and the weight input is the
// Conv's own (unfolded) weights, which its kernel must not read.
RewrittenGraph apply_conv_fusions(const Graph& graph, FusionPlan plan,
                                  const std::function<bool(int64_t exec_node)>& weights_prepared = nullptr);

// Post-ops stored on a FusedConv node (attribute "post_ops": floats kind, alpha, beta per op).
std::vector<ConvPostOp> fused_post_ops(const Node& node);

// Float64 BN folding, exposed for tests: W'[m,...] = W[m,...]*s, B'[m] = (B[m]-mean)*s + beta,
// s = gamma / sqrt(var + eps). `bias` may be undefined (zero).
void fold_batchnorm(const Tensor& weights, const Tensor& bias, const Tensor& gamma, const Tensor& beta,
                    const Tensor& mean, const Tensor& var, double eps, Tensor& out_weights, Tensor& out_bias);
// The same for ConvTranspose weights [C, M/group, k...] (output channel m = c / (C/group) * M/group + j).
void fold_batchnorm_transposed(const Tensor& weights, int64_t group, const Tensor& bias, const Tensor& gamma, const Tensor& beta,
                               const Tensor& mean, const Tensor& var, double eps, Tensor& out_weights, Tensor& out_bias);
// The folded bias alone (M = mean's length).
Tensor fold_batchnorm_bias(const Tensor& bias, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                           double eps);

}  // namespace switchyard::cpu
