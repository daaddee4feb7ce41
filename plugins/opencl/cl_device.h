// OpenCL plugin: devices, buffers and the completion thread (OpenCL 1.2 host API only).
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "switchyard/plugin_abi.h"
#include "switchyard/hal/status.h"

namespace switchyard::opencl {

const char* cl_error_name(cl_int err);
// Throws Error (out_of_memory for allocation failures, unavailable for a lost device,
// internal otherwise) with "<what>: <CL_ERROR_NAME> (<code>)" when err != CL_SUCCESS.
void check(cl_int err, const std::string& what);

// Waits for events on a plugin thread (clWaitForEvents: no busy waiting) and runs their
// completion functions in submission order, outside any OpenCL callback.
class Completer {
 public:
  Completer();
  ~Completer();  // drains pending work, then joins
  // Takes ownership of `event`; `done` receives the event's execution status (CL_COMPLETE or
  // a negative error).
  void push(cl_event event, std::function<void(cl_int)> done);

 private:
  void loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<cl_event, std::function<void(cl_int)>>> work_;
  bool stop_ = false;
  std::thread thread_;
};

struct OclDevice {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;  // in order
  sy_device_kind kind = SY_DEVICE_KIND_OTHER, reported_kind = SY_DEVICE_KIND_OTHER;
  std::string name, vendor, driver_version, device_version, platform_name, identity;
  uint64_t memory = 0, max_alloc = 0;
  double peak_gflops_f32 = 0, peak_gflops_f16 = 0, bandwidth_gbps = 0, host_link_gbps = 0, launch_overhead_us = 0;
  bool fp16 = false;
  std::string bandwidth_source;  // "measured ..." or "default ..."
  std::unique_ptr<Completer> completer;

  OclDevice() = default;
  OclDevice(const OclDevice&) = delete;
  OclDevice& operator=(const OclDevice&) = delete;
  ~OclDevice();
};

// Probes one device: info strings, limits and figures; creates its context and queue and
// measures copy bandwidth (bounded to a few milliseconds). Throws Error.
std::unique_ptr<OclDevice> open_device(cl_platform_id platform, cl_device_id id);

struct OclBuffer {
  OclDevice* device = nullptr;
  cl_mem mem = nullptr;
  size_t size = 0;  // bytes the host asked for (the cl_mem has at least 1 byte)
  ~OclBuffer() {
    if (mem) clReleaseMemObject(mem);
  }
};

// A buffer of `size` bytes (1 byte when size is 0: OpenCL forbids empty buffers).
cl_mem create_buffer(OclDevice& d, size_t size, const void* init = nullptr);

}  // namespace switchyard::opencl
