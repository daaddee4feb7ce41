// OpenCL plugin: an executable is a KernelSchedule with its programs built for one device, the
// graph's weights uploaded once, and a pool of workspaces (intermediate buffers + kernel
// objects) so concurrent execute() calls never share mutable state.
#pragma once

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

class OclExecutable {
 public:
  // From source (compile) or from the binaries in `schedule` (restore; falls back to source and
  // logs why when the driver rejects a binary). Throws Error.
  static std::unique_ptr<OclExecutable> build(OclDevice& device, const Graph& graph, KernelSchedule schedule, bool from_binaries, const LogFn& log);
  ~OclExecutable();

  std::string serialize() const { return serialize_schedule(schedule_, device_.identity); }
  const KernelSchedule& schedule() const { return schedule_; }
  size_t programs_rebuilt() const { return rebuilt_; }

  // Enqueues the work and returns; `args->on_complete` runs on the completion thread.
  // Throws Error when the work is not accepted (then on_complete is not called).
  void execute(const sy_execute_args* args);

 private:
  struct Workspace {
    std::vector<cl_mem> slots;
    std::vector<cl_kernel> kernels;  // one per program
  };
  OclExecutable(OclDevice& d) : device_(d) {}
  std::unique_ptr<Workspace> acquire();
  void release(std::unique_ptr<Workspace> ws);
  // Writes every output's type and shape into the host's sy_tensor_out; a failure status if not.
  sy_status write_output_shapes(const sy_execute_args* args) const;
  void free_workspace(Workspace& ws);
  // Enqueues every launch and output copy of the schedule on the device's queue.
  void enqueue_all(Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem);
  // Runs everything once on zeroed scratch buffers (see executable.cpp).
  void warm_up();

  OclDevice& device_;
  KernelSchedule schedule_;
  std::vector<cl_program> programs_;
  std::map<int32_t, cl_mem> initializers_;
  std::vector<cl_mem> aux_;
  std::vector<cl_mem> derived_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Workspace>> pool_;
  size_t rebuilt_ = 0;
};

}  // namespace switchyard::opencl
