// The api and cache suites' view of a device: its plugin's raw function table (sy_plugin_api),
// called the way any host may call it, with small models the device claims, counted completions
// and the host's own checks on what comes back. Nothing here goes through the runtime: a case
// that finds a broken contract must see the plugin's own answer, not the host's reaction to it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/conformance/case.h"
#include "switchyard/hal/device.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/plugin_abi.h"

namespace switchyard::conformance::abi {

// How long a case waits for a completion before calling the execution lost.
inline constexpr std::chrono::seconds kCompletionTimeout{60};
// How long after the first completion a case keeps counting, to see a second one.
inline constexpr std::chrono::milliseconds kSecondCompletionGrace{200};

// The device under test as the ABI sees it: the table, the plugin handle and the device handle.
struct AbiDevice {
  const sy_plugin_api* api = nullptr;
  sy_plugin plugin = nullptr;
  sy_device device = nullptr;
  const Device* host_device = nullptr;  // the same device through the host (its manifest, its id)
  std::string id;
};
// The target's device through its plugin's table. Fails for a target without a device (the
// reference), with a message a case skips with.
Result<AbiDevice> abi_device(const Target& target);

// The same device through another load of its plugin (PluginLoader::load of its manifest).
Result<AbiDevice> reloaded_device(const LoadedPlugin& plugin, const AbiDevice& original);

// "" when `status` is a refusal the contract accepts (an error with a message); else what is wrong.
std::string refusal_problem(const Status& status);
// "code: message" for details.
std::string describe(const Status& status);

// A result that passes, fails (reason, detail) or skips (reason = why).
CaseResult passed(std::string detail = {});
CaseResult failed(std::string reason, std::string detail);
CaseResult skipped(std::string why);

// Runs `attempt(thread, round)` for `rounds` rounds on each of `threads` threads at once; a thread
// stops at its first problem (a non-empty answer). Returns the first problem any thread met,
// "thread T, ROUND_NAME R: problem", or empty.
std::string first_problem_on_threads(int threads, int rounds, const char* round_name,
                                     const std::function<std::string(int thread, int round)>& attempt);

// Owns a buffer from the table (buffer_release on destruction).
class Buffer {
 public:
  Buffer() = default;
  Buffer(const sy_plugin_api* api, sy_buffer handle) : api_(api), handle_(handle) {}
  ~Buffer() { reset(); }
  Buffer(Buffer&& other) noexcept : api_(other.api_), handle_(other.handle_) { other.handle_ = nullptr; }
  Buffer& operator=(Buffer&& other) noexcept;
  sy_buffer get() const { return handle_; }
  void reset();

 private:
  const sy_plugin_api* api_ = nullptr;
  sy_buffer handle_ = nullptr;
};

// Owns an executable from the table (executable_release on destruction).
class Executable {
 public:
  Executable() = default;
  Executable(const sy_plugin_api* api, sy_executable handle) : api_(api), handle_(handle) {}
  ~Executable() { reset(); }
  Executable(Executable&& other) noexcept : api_(other.api_), handle_(other.handle_) { other.handle_ = nullptr; }
  Executable& operator=(Executable&& other) noexcept;
  sy_executable get() const { return handle_; }
  void reset();

 private:
  const sy_plugin_api* api_ = nullptr;
  sy_executable handle_ = nullptr;
};

// ---- Small models ----

// The single-node models cases run (every value float32 with a static shape). Inputs are small
// integers, so every device computes them exactly, float16 ones included.
enum class ProbeKind {
  add,             // Add [2,3] + [2,3]
  relu,            // Relu [2,3]
  matmul,          // MatMul [2,3] x [3,4]
  matmul_weights,  // MatMul [4,8] x W[8,8], W an initializer
  conv,            // Conv X[1,1,5,5] with W[1,1,3,3] an initializer
};
const char* probe_op(ProbeKind kind);
// Every kind, in the order the api suite's cases try them.
const std::vector<ProbeKind>& all_probes();

struct ProbeModel {
  ProbeKind kind = ProbeKind::add;
  std::string op;
  std::shared_ptr<const Model> model;
  std::shared_ptr<const GraphView> view;  // of model->graph; outlives every executable of it
  std::vector<Shape> input_shapes;
  bool identity = false;  // the output is the (one) input: no reference run needed
};
Result<ProbeModel> build_probe(ProbeKind kind);
// A chain of `length` MatMuls of [n,n] by an identity initializer: long-running work whose
// result is its input.
Result<ProbeModel> build_matmul_chain(int64_t n, int length);

// Inputs from `seed` and the reference's outputs for them.
struct ProbeData {
  std::vector<Value> inputs;
  std::vector<Value> expected;
};
Result<ProbeData> probe_data(const ProbeModel& probe, uint64_t seed);

// The device's answer for every node of `probe`: "" when it claims them all, else why not.
Result<std::string> unclaimed_reason(const AbiDevice& device, const ProbeModel& probe);
// The first of `kinds` the device claims wholly; Status(unsupported) naming each refusal if none.
Result<ProbeModel> claimed_probe(const AbiDevice& device, const std::vector<ProbeKind>& kinds);
// Every candidate the device claims wholly, in the order of `kinds`.
Result<std::vector<ProbeModel>> claimed_probes(const AbiDevice& device, const std::vector<ProbeKind>& kinds);

// compile(device, graph, NULL, 0).
Result<Executable> compile(const AbiDevice& device, const ProbeModel& probe);

// ---- Execution ----

// Counts completion calls (the contract: exactly once per accepted execute). Keeps the first
// call's status; takes (frees) every status it is given. The callback's user_data is the counter's
// id, not its address: a call that comes after the counter is gone is counted as late, not a crash.
class Completion {
 public:
  Completion();
  ~Completion();
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  static void callback(void* id, sy_status status);
  void* user_data() const { return reinterpret_cast<void*>(static_cast<uintptr_t>(id_)); }
  // Waits for the first call; false on timeout.
  bool wait(std::chrono::milliseconds timeout);
  // The count once a second call would have had `grace` to arrive.
  int settled_calls(std::chrono::milliseconds grace);
  int calls() const { return calls_.load(); }
  Status first_status() const;
  std::chrono::steady_clock::time_point first_at() const;
  // Calls that came for a counter already gone, in this process so far.
  static int late_calls();

 private:
  void record(Status status);
  uint64_t id_ = 0;
  std::atomic<int> calls_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Status first_;
  std::chrono::steady_clock::time_point first_at_;
};

struct ExecuteOptions {
  bool host_outputs = false;  // pass output buffers sized from `expected`; else NULL (the plugin allocates)
  size_t dims_capacity = 8;   // entries of host storage for each output's shape
  const volatile int32_t* cancel_flag = nullptr;
  const sy_profiler* profiler = nullptr;
  // sy_execute_args.struct_size; smaller than the struct: the fields past it must be ignored.
  size_t args_struct_size = sizeof(sy_execute_args);
  // A newer host: every struct the host allocates (args, tensor args, outputs) grows by this many
  // zero bytes, and its struct_size says so.
  size_t newer_host_bytes = 0;
  // How long after the first completion to keep counting (cases about completions wait for a second).
  std::chrono::milliseconds grace{0};
};

// What one execute() did.
struct ExecuteOutcome {
  Status returned;             // execute's own status: an error means "not accepted"
  int completions = 0;         // completion calls counted (after the grace period)
  Status completed;            // the first completion's status
  std::vector<Value> outputs;  // read back when completed successfully
  std::vector<Buffer> output_buffers;  // the outputs' buffers (the host's), kept when asked
  std::string problem;         // "" or how the outputs broke the contract (no buffer, bad type)
  bool timed_out = false;      // no completion within kCompletionTimeout
  std::chrono::steady_clock::time_point completed_at;  // when the first completion came
};

// Uploads `inputs` (buffer_alloc + buffer_write), executes, waits for the completion and reads
// the outputs back. `expected` gives the host-allocated outputs' sizes. `keep_output_buffers`
// leaves the output buffers to the caller instead of releasing them.
ExecuteOutcome execute(const AbiDevice& device, sy_executable exe, const std::vector<Value>& inputs,
                       const std::vector<Value>& expected, const ExecuteOptions& options = {},
                       bool keep_output_buffers = false);
// A device buffer holding `tensor`'s bytes.
Result<Buffer> upload(const AbiDevice& device, const Tensor& tensor);
// `type`/`shape` read from `buffer`.
Result<Tensor> download(const AbiDevice& device, sy_buffer buffer, ElementType type, const Shape& shape);

// "" when the outcome is a success whose outputs equal `expected` exactly; else what differs.
std::string exact_mismatch(const ExecuteOutcome& outcome, const std::vector<Value>& expected);

// ---- Cases ----

using DeviceBody = std::function<CaseResult(const AbiDevice&)>;
using ProbeBody = std::function<CaseResult(const AbiDevice&, const ProbeModel&)>;
// A case of `suite` run on the target's device; skipped on a target without one.
CaseSpec device_case(std::string suite, std::string name, DeviceBody body);
// The same with the first model of `kinds` the device claims (its operator becomes the case's op);
// skipped with the device's answers when it claims none.
CaseSpec probe_case(std::string suite, std::string name, std::vector<ProbeKind> kinds, ProbeBody body);

// The api suite's cases, by file (api_suite.cpp lists them all).
std::vector<CaseSpec> api_buffer_cases();
std::vector<CaseSpec> api_support_cases();
std::vector<CaseSpec> api_execute_cases();
std::vector<CaseSpec> api_concurrency_cases();
std::vector<CaseSpec> api_lifetime_cases();

}  // namespace switchyard::conformance::abi
