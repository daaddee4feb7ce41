// One conformance case: what it is (suite, name, operator), how it runs against a target, and what
// it found. Every suite (onnx, ops, models, api, cache, stress) lists CaseSpecs; the runner
// (runner.h) runs them in worker processes and collects CaseResults into a Report (report.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard {
class Device;
class DeviceRegistry;
}  // namespace switchyard

namespace switchyard::conformance {

enum class Outcome { passed, failed, skipped };
const char* outcome_name(Outcome o);

struct CaseResult {
  std::string suite;       // "onnx", "ops", "models", "api", "cache", "stress"
  std::string name;        // unique within its suite
  std::string op;          // the operator(s) the case exercises ("Conv", "Add+Relu"; "" for none): the report's matrix rows
  Outcome outcome = Outcome::failed;
  std::string reason;      // short cause, the tally key ("mismatch", "no kernel: Foo", "crash"); full text, never cut
  std::string detail;      // where and by how much ("output 0 'y' [3]: expected 1.5, got 1.75, |diff| 0.25 > tol 0.0015")
  std::string abi_call;    // crashes and hangs: the ABI function the case was in ("sy_plugin_api.execute"), if known
  std::string backtrace;   // crashes: the symbolised stack of the crashing thread
  std::string expected;    // set by an expected-failures list: why this case is expected to fail
  double seconds = 0;
};

// What the cases run against, built once in each worker process (plugins load there). `run` is
// the model path `switchyard run` takes; `device` and `registry` are null for the reference.
// `compute_type` is the float type the target computes float32 graphs in (DeviceInfo::
// compute_element_type): narrower than float32, each case's float tolerance is derived from the
// computation (tolerance.h) instead of the fixed rtol/atol alone.
struct Target {
  using Fn = std::function<Result<std::vector<Value>>(const Model& model, const std::vector<Value>& inputs)>;
  Fn run;
  ElementType compute_type = ElementType::float32;
  std::string device_id;                            // "cpu:0"; "reference" for the reference
  const Device* device = nullptr;                   // the device under test (owned by registry)
  std::shared_ptr<const DeviceRegistry> registry;   // keeps the plugin loaded

  Target() = default;
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, Target> && std::is_invocable_v<F&, const Model&, const std::vector<Value>&>)
  Target(F fn, ElementType compute = ElementType::float32) : run(std::move(fn)), compute_type(compute) {}
  Result<std::vector<Value>> operator()(const Model& model, const std::vector<Value>& inputs) const { return run(model, inputs); }
};
// Builds the target inside the process that runs the cases.
using TargetFactory = std::function<Result<Target>()>;

// One case as a suite lists it. `run` executes in a worker process (or in this process with
// isolation off) and fills outcome, reason, detail and (when it learns it) op; the runner fills
// suite, name, seconds, and op from the spec when the case left it empty.
struct CaseSpec {
  std::string suite;
  std::string name;
  std::string op;
  std::function<CaseResult(const Target&)> run;
};

}  // namespace switchyard::conformance
