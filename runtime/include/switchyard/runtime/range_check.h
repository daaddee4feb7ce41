// Range check for narrow-float devices. A device that computes float32 graphs in float16 holds
// at most 65504: a value beyond that becomes infinite there, and NaN soon after. Before planning,
// the runtime runs the model once on calibration inputs (the integrator's, or generated ones)
// with the reference interpreter, records the largest magnitude every float value takes, and
// refuses, on each such device, the nodes whose inputs or outputs would not fit with headroom
// (support reason "range", with the figures). The partitioner then places them elsewhere, with
// that reason in the plan. Peers: TensorRT keeps layers that overflow in float32 when told to;
// NPU toolchains calibrate on sample data. See docs/integrators-guide.md, "Range check".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "switchyard/hal/element_type.h"
#include "switchyard/hal/graph.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

struct RangeCheckOptions {
  bool enabled = true;
  // A value must stay below max_finite(type) / headroom on the calibration inputs: real inputs
  // may be larger than the calibration ones. 16 = four binary orders of magnitude.
  double headroom = 16;
  // Calibration inputs by graph input name; inputs not given are generated (generate_inputs).
  std::map<std::string, Tensor> inputs;
  // Text for the plan-cache key: "off", or the headroom and a hash of the given inputs.
  std::string key() const;
};

// Every calibration input names an input of `graph`; else invalid_argument naming the model's
// inputs.
Status check_calibration_inputs(const Graph& graph, const RangeCheckOptions& options);

// Largest finite magnitude of a float type (float16 65504, bfloat16 3.39e38; float32 3.40e38);
// 0 for non-float types.
double max_finite(ElementType type);

// Largest |x| every value of `graph` takes when the reference interpreter runs it on `inputs`
// (indexed by value id; -1 for values that are not float tensors or not computed: non-float
// types, optional inputs). Initializers and graph inputs included.
Result<std::vector<double>> value_magnitudes(const Graph& graph, const std::vector<Value>& inputs);

// The nodes a device computing in `compute` cannot hold: those with a float input or output
// whose magnitude exceeds max_finite(compute) / headroom. Returns, per node, an empty string or
// the reason ("values reach 1.3e+19 at 'x' on the calibration inputs; float16 holds 65504 ...").
std::vector<std::string> range_refusals(const Graph& graph, const std::vector<double>& magnitudes, ElementType compute, double headroom,
                                        const std::string& inputs_name);

}  // namespace switchyard
