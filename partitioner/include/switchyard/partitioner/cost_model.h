// Cost model: estimated time of each node on each device from its work (FLOPs, bytes
// moved) and the device's figures, and the cost of moving tensors between devices.
// Replaceable (implement CostModel) and calibratable from measured times.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "switchyard/hal/graph.h"

namespace switchyard {

// Figures of one device, as the partitioner sees them (from sy_device_info).
struct DeviceFigures {
  std::string id;           // "cpu:0"
  std::string kind;         // "cpu" | "gpu" | "npu" | "other"
  double peak_gflops = 0;   // float32
  double memory_bandwidth_gbps = 0;
  double host_link_gbps = 0;  // 0: shares host memory
  double launch_overhead_us = 0;
  double active_power_watts = 0;
  // Memory a compiled segment must fit in (an NPU's on-chip memory); 0 = no limit to plan for.
  double memory_bytes = 0;
  // Bytes per float32 weight on the device (2 for devices that compute in float16).
  double float_bytes = 4;
};

struct NodeWork {
  double flops = 0;
  double bytes = 0;  // bytes read and written
};

// FLOPs and bytes of a node from the static shapes known in the graph; unknown shapes
// count as a modest default so the estimate stays finite.
NodeWork estimate_work(const Graph& graph, const Node& node);
// Bytes of a value from its static shape and element type (a default when unknown).
double value_bytes(const Graph& graph, int32_t value);

class CostModel {
 public:
  virtual ~CostModel() = default;
  // Estimated microseconds of `node` on `device`.
  virtual double node_us(const Node& node, const NodeWork& work, const DeviceFigures& device) const = 0;
  // Estimated microseconds to move `bytes` from one device to another (0 when equal).
  virtual double transfer_us(double bytes, const DeviceFigures& from, const DeviceFigures& to) const = 0;
  // Fixed cost of launching one segment on the device.
  virtual double launch_us(const DeviceFigures& device) const = 0;
};

// Roofline estimate: max(flops / (peak x efficiency), bytes / bandwidth) + per-node overhead,
// scaled by calibration factors (device id, op type) learned from measurements.
class RooflineCostModel : public CostModel {
 public:
  double node_us(const Node& node, const NodeWork& work, const DeviceFigures& device) const override;
  double transfer_us(double bytes, const DeviceFigures& from, const DeviceFigures& to) const override;
  double launch_us(const DeviceFigures& device) const override;

  // Records a measured time for an op type on a device; later estimates for that pair are
  // scaled by measured / estimated (geometric mean of all calibrations).
  void calibrate(const std::string& device_id, const std::string& op_type, double measured_us, double estimated_us);
  double calibration(const std::string& device_id, const std::string& op_type) const;

  // Fraction of peak reached by compute-bound kernels, and the per-node overhead.
  double efficiency = 0.5;
  double per_node_us = 1.0;

 private:
  std::map<std::pair<std::string, std::string>, std::pair<double, int>> log_scale_;  // sum of log(ratio), count
};

}  // namespace switchyard
