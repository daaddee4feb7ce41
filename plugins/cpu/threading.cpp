// CPU plugin: threads per kernel by work size.
#include "threading.h"

#include <omp.h>

#include <cstdlib>
#include <string>

#include "fast_kernel.h"

namespace switchyard::cpu {

namespace {
double numel(const Shape& s) {
  double n = 1;
  for (int64_t d : s) n *= static_cast<double>(d);
  return n;
}

double min_parallel_work() {
  static const double v = [] {
    const char* e = std::getenv("SWITCHYARD_CPU_PARALLEL_MIN_WORK");
    const double parsed = e ? std::atof(e) : 0;
    return parsed > 0 ? parsed : 2e6;
  }();
  return v;
}
}  // namespace

double node_work(const Node& node, const Graph& graph) {
  if (node.outputs.empty() || node.outputs[0] < 0) return 0;
  const auto out = static_shape_of(graph, node.outputs[0]);
  if (!out) return 0;
  const bool conv = node.op_type == "Conv" || node.op_type == "ConvTranspose" || node.op_type == kFusedConvOp;
  if (conv && node.inputs.size() > 1) {
    const auto w = static_shape_of(graph, node.inputs[1]);
    if (!w || w->size() < 2 || out->size() < 2) return 0;
    // Each output element is a dot product over (C/group) x kernel: W's dims after the first.
    return 2.0 * numel(*out) * numel(*w) / static_cast<double>((*w)[0]);
  }
  if ((node.op_type == "MatMul" || node.op_type == "Gemm") && node.inputs.size() > 1) {
    const auto a = static_shape_of(graph, node.inputs[0]);
    if (!a || a->empty()) return 0;
    const bool trans_a = node.op_type == "Gemm" && node.attr_int("transA", 0) != 0;
    const int64_t k = trans_a && a->size() == 2 ? (*a)[0] : a->back();
    return 2.0 * numel(*out) * static_cast<double>(k);
  }
  return 16.0 * numel(*out);
}

int threads_for_work(double work, int max_threads) {
  if (max_threads <= 1 || work <= 0) return max_threads;
  return work >= min_parallel_work() ? max_threads : 1;
}

OmpThreads::OmpThreads(int threads) : saved_(omp_get_max_threads()) {
  if (threads > 0) omp_set_num_threads(threads);
}

OmpThreads::~OmpThreads() { omp_set_num_threads(saved_); }

}  // namespace switchyard::cpu
