// The ONNX backend node-test suite runner: runs every case of the corpus on a target
// (the reference or a device), compares with the expected outputs, and reports each
// case as passed, failed (with where and by how much) or skipped (with the reason).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "switchyard/runtime/onnx_import.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::conformance {

enum class Outcome { passed, failed, skipped };
const char* outcome_name(Outcome o);

struct CaseResult {
  std::string name;
  Outcome outcome = Outcome::failed;
  std::string reason;      // short cause; for skips the tally key ("no kernel: Foo")
  std::string detail;      // where and by how much ("output 0 'y' [3]: expected 1.5, got 1.75, |diff| 0.25 > tol 0.0015")
  double seconds = 0;
};

// Runs a model on the target. Unsupported work must come back as StatusCode::unsupported
// (the case is then skipped with the message as reason). `compute_type` is the float type the
// target computes float32 graphs in (a device's DeviceInfo::compute_element_type): when it is
// narrower than float32, each case's float tolerance is derived from the computation
// (switchyard/tolerance.h) instead of the fixed SuiteOptions rtol/atol alone.
struct Target {
  using Fn = std::function<Result<std::vector<Value>>(const Model& model, const std::vector<Value>& inputs)>;
  Fn run;
  ElementType compute_type = ElementType::float32;

  Target() = default;
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, Target> && std::is_invocable_v<F&, const Model&, const std::vector<Value>&>)
  Target(F fn, ElementType compute = ElementType::float32) : run(std::move(fn)), compute_type(compute) {}
  Result<std::vector<Value>> operator()(const Model& model, const std::vector<Value>& inputs) const { return run(model, inputs); }
};
// Builds the target inside the process that runs the case (plugins are loaded there).
using TargetFactory = std::function<Result<Target>()>;

struct SuiteOptions {
  std::filesystem::path tests_dir;
  std::string filter;        // ECMAScript regex on the case name; empty = all
  double rtol = 1e-3;         // float32 targets; narrow-float targets use max(these, the derived rule)
  double atol = 1e-7;
  bool isolate = true;       // run each case in a child process (a crash or hang fails that case only)
  double case_timeout_s = 120;
  int jobs = 1;              // cases run in parallel (isolated mode only)
};

struct SuiteReport {
  std::vector<CaseResult> cases;
  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, int> skip_reasons;  // reason -> count
  std::map<std::string, int> fail_reasons;
  double seconds = 0;
};

// Lists case folders (those holding model.onnx), sorted by name, matching the filter.
Result<std::vector<std::filesystem::path>> list_cases(const SuiteOptions& options);
// Runs one case in this process.
CaseResult run_case(const std::filesystem::path& case_dir, const Target& target, const SuiteOptions& options);
// Runs every listed case; `progress` (may be empty) is called after each case.
Result<SuiteReport> run_suite(const SuiteOptions& options, const TargetFactory& factory,
                              const std::function<void(const CaseResult&)>& progress = {});

// Compares got with expected under |got - exp| <= atol + rtol * |exp| (NaN matches NaN, infinities
// must match exactly). Empty string = match; otherwise a description of the first mismatch and the
// largest error.
std::string compare_values(const Value& expected, const Value& got, double rtol, double atol);

// JSON for --json: {"summary": {...}, "skip_reasons": {...}, "cases": [...]}
std::string report_to_json(const SuiteReport& report);

}  // namespace switchyard::conformance
