// CPU plugin: inference BatchNormalization as a native kernel (implementation "native").
// oneDNN 2.6 runs it on plain NCHW with a generic (non-jit) implementation that took 11 ms of
// DenseNet-121's 1-thread time for 62 nodes; this is one vectorisable pass per channel plane,
// y = (x - mean[c]) * s[c] + beta[c], s[c] = gamma[c] / sqrt(var[c] + eps) computed in float64
// at compile time from the constant parameters. Anything else (another input type or channel
// count at run time) goes to the reference kernel.
#include <cmath>

#include "native.h"

namespace switchyard::cpu {

namespace {

using native::NativeKernel;

// Float32 constant input i with exactly `n` elements, else null.
const Tensor* f32_constant(const Node& node, const Graph& graph, size_t i, int64_t n) {
  const Tensor* t = constant_input(node, graph, i);
  return t && t->type() == ElementType::float32 && t->numel() == n ? t : nullptr;
}

class BatchNormKernel final : public NativeKernel {
 public:
  BatchNormKernel(const Node& node, std::vector<float> mean, std::vector<float> scale, std::vector<float> beta)
      : NativeKernel(node), mean_(std::move(mean)), scale_(std::move(scale)), beta_(std::move(beta)) {}

  void run(const std::vector<const Value*>& inputs, std::vector<Value>& outputs) const override {
    const Tensor* x = native::tensor_input(inputs, 0);
    const int64_t C = static_cast<int64_t>(mean_.size());
    if (!x || x->type() != ElementType::float32 || x->rank() < 2 || x->dim(1) != C) return fallback(inputs, outputs);
    const int64_t N = x->dim(0), plane = N * C > 0 ? x->numel() / (N * C) : 0;
    Tensor y = native::uninitialized(ElementType::float32, x->shape());
    const float* src = x->data<float>();
    float* dst = y.mutable_data<float>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const float m = mean_[static_cast<size_t>(c)], s = scale_[static_cast<size_t>(c)], b = beta_[static_cast<size_t>(c)];
        const int64_t at = (n * C + c) * plane;
        for (int64_t i = 0; i < plane; ++i) dst[at + i] = (src[at + i] - m) * s + b;
      }
    outputs[0] = Value::of(std::move(y));
  }

 private:
  std::vector<float> mean_, scale_, beta_;
};

// The channel count the constant parameters agree on; 0 when the node is not an inference
// BatchNormalization with constant float32 parameters.
int64_t channels(const Node& node, const CompileContext& ctx) {
  if (!node.domain.empty() || node.inputs.size() != 5 || !native::has_outputs(node, 1) || node.inputs[0] < 0) return 0;
  if (node.opset >= 14 && node.attr_int("training_mode", 0) != 0) return 0;
  if (node.opset < 9 && node.attr_int("spatial", 1) == 0) return 0;
  const float eps = node.attr_float("epsilon", 1e-5f);
  if (!std::isfinite(eps) || eps < 0) return 0;
  const Tensor* mean = constant_input(node, ctx.graph, 3);
  if (!mean || mean->numel() < 1) return 0;
  for (size_t i = 1; i <= 4; ++i)
    if (!f32_constant(node, ctx.graph, i, mean->numel())) return 0;
  return mean->numel();
}

bool batchnorm_accepts(const Node& node, const CompileContext& ctx) {
  return channels(node, ctx) > 0 && elem_type_of(ctx.graph, node.inputs[0]) == ElementType::float32;
}

std::unique_ptr<FastKernel> batchnorm_create(const Node& node, const CompileContext& ctx) {
  const int64_t C = channels(node, ctx);
  const double eps = node.attr_float("epsilon", 1e-5f);
  const float *gamma = constant_input(node, ctx.graph, 1)->data<float>(), *beta = constant_input(node, ctx.graph, 2)->data<float>(),
              *mean = constant_input(node, ctx.graph, 3)->data<float>(), *var = constant_input(node, ctx.graph, 4)->data<float>();
  std::vector<float> m(mean, mean + C), s(static_cast<size_t>(C)), b(beta, beta + C);
  for (int64_t c = 0; c < C; ++c)
    s[static_cast<size_t>(c)] = static_cast<float>(static_cast<double>(gamma[c]) / std::sqrt(static_cast<double>(var[c]) + eps));
  return std::make_unique<BatchNormKernel>(node, std::move(m), std::move(s), std::move(b));
}

}  // namespace

void append_batchnorm_providers(std::vector<FastKernelProvider>& out) {
  out.push_back(FastKernelProvider{native::kImplementation, "BatchNormalization", &native::guarded<batchnorm_accepts>, &batchnorm_create});
}

}  // namespace switchyard::cpu
