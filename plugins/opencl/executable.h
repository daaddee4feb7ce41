// OpenCL plugin: an executable is a KernelSchedule with its programs built for one device, the
// graph's weights uploaded once, and a pool of workspaces (intermediate buffers + kernel
// objects) so concurrent execute() calls never share mutable state.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cl_device.h"
#include "kernel_schedule.h"
#include "switchyard/hal/graph.h"
#include "switchyard/plugin_helpers.h"

namespace switchyard::opencl {

// Creates a status through the host (plugin.cpp).
sy_status make_plugin_status(sy_status_code code, const std::string& message);
// The host's services as the entry point received them (plugin.cpp).
const plugin_helpers::HostServices& plugin_host();

using LogFn = std::function<void(sy_log_level, const std::string&)>;

// The fields of the host's sy_execute_args this plugin uses, read under R2: a field past the
// host's struct_size reads as zero / NULL (an older host's shorter struct is never read past).
struct ExecuteRequest {
  size_t num_inputs = 0;
  const sy_tensor_arg* const* inputs = nullptr;
  size_t num_outputs = 0;
  sy_tensor_out* const* outputs = nullptr;
  bool has_values = false;  // input_values or output_values set (sequences and optionals)
  sy_completion_fn on_complete = nullptr;
  void* user_data = nullptr;
  const volatile int32_t* cancel_flag = nullptr;
};
ExecuteRequest read_execute_args(const sy_execute_args& args);

class OclExecutable {
 public:
  // From source (compile) or from the binaries in `schedule` (restore; falls back to source and
  // logs why when the driver rejects a binary). Throws Error.
  static std::unique_ptr<OclExecutable> build(OclDevice& device, const Graph& graph, KernelSchedule schedule, bool from_binaries, const LogFn& log);
  ~OclExecutable();

  std::string serialize() const { return serialize_schedule(schedule_, device_.identity); }
  const KernelSchedule& schedule() const { return schedule_; }
  size_t programs_rebuilt() const { return rebuilt_; }

  // Enqueues the work and returns; `request.on_complete` runs on the completion thread.
  // Throws Error when the work is not accepted (then on_complete is not called).
  void execute(const ExecuteRequest& request);

 private:
  struct Workspace {
    std::vector<cl_mem> slots;
    std::vector<cl_kernel> kernels;  // one per program
  };
  struct Run;  // one accepted execute() (executable.cpp)
  OclExecutable(OclDevice& d) : device_(d) {}
  std::unique_ptr<Workspace> acquire();
  void release(std::unique_ptr<Workspace> ws);
  // The device buffers of the host's inputs and outputs (allocating the outputs the host left
  // NULL, recorded in `allocated`); throws Error(invalid_argument) for arguments that do not fit.
  std::vector<cl_mem> input_memory(const ExecuteRequest& request) const;
  std::vector<cl_mem> output_memory(const ExecuteRequest& request, std::vector<OclBuffer*>& allocated);
  // Writes every output's type and shape into the host's sy_tensor_out; a failure status if not.
  sy_status write_output_shapes(const ExecuteRequest& request) const;
  void free_workspace(Workspace& ws);
  cl_mem value_memory(int32_t value, const Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem) const;
  // Enqueues launches [begin, end) / the output copies of the schedule on the device's queue.
  void enqueue_launches(size_t begin, size_t end, const Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem);
  void enqueue_copies(const Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem);
  // Runs everything once on zeroed scratch buffers (see executable.cpp).
  void warm_up();
  // A run's progress (executable.cpp, "Running"): enqueue up to the window, wait for its oldest
  // stage on the completion thread, poll the cancel flag there, complete once.
  void enqueue_stage(Run& run);
  void fill_window(Run& run);
  void await_oldest_stage(std::unique_ptr<Run> run);
  void on_stage_done(std::unique_ptr<Run> run, cl_int status);
  void finish(std::unique_ptr<Run> run);
  // How many launches a stage of a cancellable run holds, from the launch time runs measured.
  size_t launches_per_stage() const;
  void record_run_time(std::chrono::steady_clock::duration elapsed);

  OclDevice& device_;
  KernelSchedule schedule_;
  std::vector<cl_program> programs_;
  std::map<int32_t, cl_mem> initializers_;
  std::vector<cl_mem> aux_;
  std::vector<cl_mem> derived_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Workspace>> pool_;
  size_t rebuilt_ = 0;
  // The average launch's time (ns) in recent completed runs (queueing behind other runs
  // included); 0 until one completed. A hint, read and written without ordering.
  std::atomic<uint64_t> launch_ns_{0};
};

}  // namespace switchyard::opencl
