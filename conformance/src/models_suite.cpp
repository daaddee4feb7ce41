// The `models` suite: whole models on the device under test, partitioned with the CPU where the
// device does not claim a node (as `switchyard run --device all` runs each device), their outputs
// held to the expected ones (given, or the reference interpreter's) under the deep-value rule.
// One case per model; a passing case says how the model was split, and a model the device claims
// none of is skipped with the device's reasons: it says nothing about the device.
#include <chrono>
#include <map>
#include <sstream>

#include "models_compare.h"
#include "models_data.h"
#include "models_partition.h"
#include "switchyard/conformance/check.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/runtime/shape_inference.h"

namespace switchyard::conformance {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string seconds_text(double s) {
  std::ostringstream out;
  out.precision(3);
  out << s << " s";
  return out.str();
}

CaseResult outcome(Outcome o, std::string reason, std::string detail) {
  CaseResult r;
  r.outcome = o, r.reason = std::move(reason), r.detail = std::move(detail);
  r.op = "model";
  return r;
}

// One model on one target: loads it once per distinct input shapes (symbolic dims are fixed at
// load) and predicts each data set through the runtime's prediction path.
class ModelRunner {
 public:
  ModelRunner(std::shared_ptr<const Model> model, const Target& target) : model_(std::move(model)), target_(target) {}

  bool on_device() const { return target_.device && target_.registry; }
  // The outputs for `inputs`; on the reference target (no device), the target's own run.
  // REQUIRES: on a device, load_for(inputs) succeeded.
  Result<std::vector<Value>> run(const std::vector<Value>& inputs) {
    if (!on_device()) return target_.run(*model_, inputs);
    SY_ASSIGN_OR_RETURN(const PartitionedLoad* load, load_for(inputs));
    const auto t = Clock::now();
    auto outputs = load->model->predict(inputs);
    predict_s_ += seconds_since(t);
    return outputs;
  }
  double load_seconds() const { return load_s_; }
  double predict_seconds() const { return predict_s_; }

  // The model loaded for the shapes of `inputs` (once per distinct shapes).
  Result<const PartitionedLoad*> load_for(const std::vector<Value>& inputs) {
    std::string key;
    for (const auto& [name, shape] : input_shapes_of(model_->graph, inputs, {})) key += name + "=" + shape_to_string(shape) + ";";
    auto it = loads_.find(key);
    if (it == loads_.end()) {
      const auto t = Clock::now();
      SY_ASSIGN_OR_RETURN(PartitionedLoad load, load_partitioned(model_, target_, inputs));
      load_s_ += seconds_since(t);
      it = loads_.emplace(key, std::move(load)).first;
    }
    return &it->second;
  }

 private:
  std::shared_ptr<const Model> model_;
  const Target& target_;
  std::map<std::string, PartitionedLoad> loads_;
  double load_s_ = 0, predict_s_ = 0;
};

// A model that cannot be placed: work no device in the policy runs is a skip (the CPU beside the
// device, when there is one, runs what the device refuses); anything else fails.
CaseResult load_failure(const Status& st, const Target& target, const std::string& where) {
  if (st.code() != StatusCode::unsupported) return outcome(Outcome::failed, "load failed", where + ": " + st.to_string());
  return outcome(Outcome::skipped,
                 cpu_beside(target) ? "neither the device nor the CPU beside it runs every node"
                                    : "no CPU device beside the device in this process, and the device does not run every node",
                 where + ": " + st.to_string());
}

// The expected outputs of a data set: given, or the reference interpreter's.
Result<std::vector<Value>> expected_outputs(const DataSet& set, const Model& model, double* reference_s) {
  if (!set.expected.empty()) return set.expected;
  const auto t = Clock::now();
  auto outputs = reference::Interpreter().run(model.graph, set.inputs);
  *reference_s += seconds_since(t);
  if (!outputs.ok()) return outputs.status().with_context("the reference interpreter");
  return outputs;
}

CaseResult run_model_case(const ModelCase& c, const Target& target, const SuiteConfig& config) {
  auto model = import_onnx_file(c.model_file);
  if (!model.ok()) {
    if (model.status().code() == StatusCode::unsupported) return outcome(Outcome::skipped, reason_key(model.status().message()), c.model_file.string());
    return outcome(Outcome::failed, "import failed", model.status().to_string());
  }
  auto sets = case_data_sets(c, **model, config.seed);
  if (!sets.ok()) {
    if (sets.status().code() == StatusCode::unsupported) return outcome(Outcome::skipped, sets.status().message(), c.model_file.string());
    return outcome(Outcome::failed, "bad data", sets.status().to_string());
  }
  ModelRunner runner(*model, target);
  double reference_s = 0;
  std::string passed;
  for (const DataSet& set : *sets) {
    const PartitionedLoad* load = nullptr;
    if (runner.on_device()) {
      auto loaded = runner.load_for(set.inputs);
      if (!loaded.ok()) return load_failure(loaded.status(), target, set.where);
      load = *loaded;
      if (load->device_nodes == 0)
        return outcome(Outcome::skipped, "the device claims none of the model's nodes", refusals_of(*load->model, target.device_id));
    }
    auto got = runner.run(set.inputs);  // the plan holds the device to every node it claimed: any failure is one
    if (!got.ok()) return outcome(Outcome::failed, "run failed", set.where + ": " + got.status().to_string());
    auto expected = expected_outputs(set, **model, &reference_s);
    if (!expected.ok())  // nothing to hold the device to: the reference's own gap, or its failure (not the device's)
      return expected.status().code() == StatusCode::unsupported
                 ? outcome(Outcome::skipped, "the reference interpreter cannot run the model", set.where + ": " + expected.status().to_string())
                 : outcome(Outcome::failed, "reference failed", set.where + ": " + expected.status().to_string());
    const std::string given = set.expected.empty() ? " (expected: the reference interpreter's)" : " (expected: given)";
    Check check = compare_model_outputs((*model)->graph, *expected, *got, target.compute_type, config.rtol, config.atol, set.where + given);
    const std::string placed = load ? load->placement + "; " : "";
    if (check.outcome != Outcome::passed) return outcome(check.outcome, check.reason, placed + check.detail);
    passed += (passed.empty() ? placed : "; ") + check.detail;
  }
  std::string times;
  if (runner.on_device()) times = "load " + seconds_text(runner.load_seconds()) + ", predictions " + seconds_text(runner.predict_seconds());
  if (reference_s > 0) times += (times.empty() ? "" : ", ") + std::string("reference ") + seconds_text(reference_s);
  if (!times.empty()) passed += "; " + times;
  return outcome(Outcome::passed, "", passed);
}

}  // namespace

Result<std::vector<CaseSpec>> models_cases(const SuiteConfig& config) {
  SY_ASSIGN_OR_RETURN(auto found, list_model_cases(config.model_dirs));
  std::vector<CaseSpec> cases;
  for (const auto& c : found)
    cases.push_back({"models", c.name, "model", [c, config](const Target& target) { return run_model_case(c, target, config); }});
  return cases;
}

}  // namespace switchyard::conformance
