// Roofline cost model and work estimates.
#include "switchyard/partitioner/cost_model.h"

#include <algorithm>
#include <cmath>

namespace switchyard {

namespace {
constexpr double kUnknownElements = 4096;

std::optional<Shape> shape_of(const Graph& g, int32_t v) {
  if (v < 0) return std::nullopt;
  auto it = g.initializers.find(v);
  if (it != g.initializers.end()) return it->second.shape();
  const auto& vt = g.values[static_cast<size_t>(v)].type;
  if (vt.kind != ValueType::Kind::tensor) return std::nullopt;
  return vt.tensor.static_shape();
}

double elements(const Graph& g, int32_t v) {
  auto s = shape_of(g, v);
  if (!s) return kUnknownElements;
  double n = 1;
  for (int64_t d : *s) n *= static_cast<double>(d);
  return n;
}

double elem_bytes(const Graph& g, int32_t v) {
  if (v < 0) return 4;
  auto it = g.initializers.find(v);
  ElementType t = it != g.initializers.end() ? it->second.type() : g.values[static_cast<size_t>(v)].type.tensor.elem;
  int bits = element_bits(t);
  return bits > 0 ? bits / 8.0 : 4.0;
}
}  // namespace

double value_bytes(const Graph& graph, int32_t value) { return elements(graph, value) * elem_bytes(graph, value); }

NodeWork estimate_work(const Graph& g, const Node& n) {
  NodeWork w;
  for (int32_t v : n.inputs)
    if (v >= 0) w.bytes += value_bytes(g, v);
  for (int32_t v : n.outputs)
    if (v >= 0) w.bytes += value_bytes(g, v);
  const double out = n.outputs.empty() || n.outputs[0] < 0 ? kUnknownElements : elements(g, n.outputs[0]);
  if (n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "QLinearConv" || n.op_type == "ConvInteger") {
    const int w_index = n.op_type == "QLinearConv" ? 3 : 1;
    auto ws = n.inputs.size() > static_cast<size_t>(w_index) ? shape_of(g, n.inputs[static_cast<size_t>(w_index)]) : std::nullopt;
    double per_out = 9;  // unknown kernel: 3x3 over one channel
    if (ws && ws->size() >= 2) {
      per_out = 1;
      for (size_t i = 1; i < ws->size(); ++i) per_out *= static_cast<double>((*ws)[i]);
    }
    if (n.op_type == "ConvTranspose") {
      auto xs = shape_of(g, n.inputs[0]);
      double in = xs ? elements(g, n.inputs[0]) : kUnknownElements;
      w.flops = 2 * in * (ws && ws->size() >= 2 ? per_out * static_cast<double>((*ws)[1]) / static_cast<double>((*ws)[1]) : 9);
    } else {
      w.flops = 2 * out * per_out;
    }
  } else if (n.op_type == "Gemm" || n.op_type == "MatMul" || n.op_type == "MatMulInteger" || n.op_type == "QLinearMatMul") {
    const int b_index = n.op_type == "QLinearMatMul" ? 3 : 1;
    auto as = shape_of(g, n.inputs[0]);
    double k = 64;
    if (as && !as->empty()) {
      bool trans_a = n.op_type == "Gemm" && n.attr_int("transA", 0) != 0;
      k = static_cast<double>(trans_a && as->size() >= 2 ? (*as)[as->size() - 2] : as->back());
    }
    (void)b_index;
    w.flops = 2 * out * k;
  } else if (n.op_type == "MaxPool" || n.op_type == "AveragePool" || n.op_type == "LpPool") {
    auto k = n.attr_ints("kernel_shape");
    double ks = 1;
    for (int64_t d : k) ks *= static_cast<double>(d);
    w.flops = out * ks;
  } else if (n.op_type == "GlobalAveragePool" || n.op_type == "GlobalMaxPool" || n.op_type.rfind("Reduce", 0) == 0) {
    w.flops = n.inputs.empty() ? out : elements(g, n.inputs[0]);
  } else if (n.op_type == "Softmax" || n.op_type == "LogSoftmax" || n.op_type == "LayerNormalization" ||
             n.op_type == "BatchNormalization" || n.op_type == "InstanceNormalization") {
    w.flops = 5 * out;
  } else {
    w.flops = out;  // elementwise and data movement: one op per output element
  }
  return w;
}

double RooflineCostModel::node_us(const Node& node, const NodeWork& work, const DeviceFigures& d) const {
  const double gflops = std::max(d.peak_gflops * efficiency, 1e-3);
  const double compute = work.flops / (gflops * 1e3);                            // us
  const double memory = work.bytes / (std::max(d.memory_bandwidth_gbps, 1e-3) * 1e3);  // us
  return (std::max(compute, memory) + per_node_us) * calibration(d.id, node.op_type);
}

double RooflineCostModel::transfer_us(double bytes, const DeviceFigures& from, const DeviceFigures& to) const {
  if (from.id == to.id) return 0;
  // Through host memory: each side's link (0 = shares host memory: a memcpy at bandwidth).
  auto link = [](const DeviceFigures& d) { return d.host_link_gbps > 0 ? d.host_link_gbps : std::max(d.memory_bandwidth_gbps, 1.0); };
  return bytes / (link(from) * 1e3) + bytes / (link(to) * 1e3);
}

double RooflineCostModel::launch_us(const DeviceFigures& d) const { return d.launch_overhead_us; }

void RooflineCostModel::calibrate(const std::string& device_id, const std::string& op_type, double measured_us, double estimated_us) {
  if (measured_us <= 0 || estimated_us <= 0) return;
  auto& e = log_scale_[{device_id, op_type}];
  e.first += std::log(measured_us / estimated_us);
  e.second += 1;
}

double RooflineCostModel::calibration(const std::string& device_id, const std::string& op_type) const {
  auto it = log_scale_.find({device_id, op_type});
  if (it == log_scale_.end() || it->second.second == 0) return 1.0;
  return std::exp(it->second.first / it->second.second);
}

}  // namespace switchyard
