// OpenCL plugin: device probing, buffers, error names and the completion thread.
#include "cl_device.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace switchyard::opencl {

const char* cl_error_name(cl_int err) {
  switch (err) {
#define E(x) \
  case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE)
    E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH) E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE)
    E(CL_MAP_FAILURE) E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE) E(CL_DEVICE_PARTITION_FAILED)
    E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM)
    E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
    E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL)
    E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT)
    E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    default: return "CL_UNKNOWN_ERROR";
  }
}

void check(cl_int err, const std::string& what) {
  if (err == CL_SUCCESS) return;
  StatusCode code = StatusCode::internal;
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES || err == CL_OUT_OF_HOST_MEMORY) code = StatusCode::out_of_memory;
  if (err == CL_DEVICE_NOT_AVAILABLE || err == CL_DEVICE_NOT_FOUND) code = StatusCode::unavailable;
  throw_error(code, what + ": " + cl_error_name(err) + " (" + std::to_string(err) + ")");
}

Completer::Completer() : thread_([this] { loop(); }) {}

Completer::~Completer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Completer::push(cl_event event, std::function<void(cl_int)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_.emplace_back(event, std::move(done));
  }
  cv_.notify_one();
}

void Completer::loop() {
  for (;;) {
    std::pair<cl_event, std::function<void(cl_int)>> item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !work_.empty(); });
      if (work_.empty()) return;  // stop requested and drained
      item = std::move(work_.front());
      work_.pop_front();
    }
    cl_int status = clWaitForEvents(1, &item.first);
    cl_int exec = CL_COMPLETE;
    if (clGetEventInfo(item.first, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof exec, &exec, nullptr) != CL_SUCCESS) exec = status;
    if (status != CL_SUCCESS && exec >= 0) exec = status;
    clReleaseEvent(item.first);
    item.second(exec);
  }
}

OclDevice::~OclDevice() {
  completer.reset();  // drains before the queue goes
  if (queue) {
    clFinish(queue);
    clReleaseCommandQueue(queue);
  }
  if (context) clReleaseContext(context);
}

namespace {

std::string device_string(cl_device_id d, cl_device_info what) {
  size_t n = 0;
  if (clGetDeviceInfo(d, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  if (clGetDeviceInfo(d, what, n, s.data(), nullptr) != CL_SUCCESS) return {};
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

template <typename T>
T device_value(cl_device_id d, cl_device_info what) {
  T v{};
  if (clGetDeviceInfo(d, what, sizeof v, &v, nullptr) != CL_SUCCESS) return T{};
  return v;
}

std::string platform_string(cl_platform_id p, cl_platform_info what) {
  size_t n = 0;
  if (clGetPlatformInfo(p, what, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  if (clGetPlatformInfo(p, what, n, s.data(), nullptr) != CL_SUCCESS) return {};
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// Copy bandwidth (read + write bytes per second) of an 8 MiB device-to-device copy: one warm-up
// copy, then one timed copy; stays well under 50 ms on any device that has a few GB/s.
double measure_copy_gbps(OclDevice& d) {
  const size_t bytes = 8u << 20;
  if (d.max_alloc && bytes > d.max_alloc) return 0;
  cl_int err = CL_SUCCESS;
  cl_mem a = clCreateBuffer(d.context, CL_MEM_READ_WRITE, bytes, nullptr, &err);
  if (err != CL_SUCCESS) return 0;
  cl_mem b = clCreateBuffer(d.context, CL_MEM_READ_WRITE, bytes, nullptr, &err);
  if (err != CL_SUCCESS) {
    clReleaseMemObject(a);
    return 0;
  }
  double gbps = 0;
  const float zero = 0;
  if (clEnqueueFillBuffer(d.queue, a, &zero, sizeof zero, 0, bytes, 0, nullptr, nullptr) == CL_SUCCESS &&
      clEnqueueCopyBuffer(d.queue, a, b, 0, 0, bytes, 0, nullptr, nullptr) == CL_SUCCESS && clFinish(d.queue) == CL_SUCCESS) {
    auto t0 = std::chrono::steady_clock::now();
    if (clEnqueueCopyBuffer(d.queue, b, a, 0, 0, bytes, 0, nullptr, nullptr) == CL_SUCCESS && clFinish(d.queue) == CL_SUCCESS) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (s > 0) gbps = 2.0 * static_cast<double>(bytes) / s * 1e-9;
    }
  }
  clReleaseMemObject(a);
  clReleaseMemObject(b);
  return gbps;
}

}  // namespace

std::unique_ptr<OclDevice> open_device(cl_platform_id platform, cl_device_id id) {
  auto d = std::make_unique<OclDevice>();
  d->platform = platform;
  d->id = id;
  d->name = device_string(id, CL_DEVICE_NAME);
  d->vendor = device_string(id, CL_DEVICE_VENDOR);
  d->driver_version = device_string(id, CL_DRIVER_VERSION);
  d->device_version = device_string(id, CL_DEVICE_VERSION);
  d->platform_name = platform_string(platform, CL_PLATFORM_NAME);
  d->identity = "opencl/" + d->vendor + "/" + d->name + "/" + d->driver_version + "/" + d->device_version;
  cl_device_type type = device_value<cl_device_type>(id, CL_DEVICE_TYPE);
  d->reported_kind = (type & CL_DEVICE_TYPE_GPU) ? SY_DEVICE_KIND_GPU
                     : (type & CL_DEVICE_TYPE_CPU) ? SY_DEVICE_KIND_CPU
                                                   : SY_DEVICE_KIND_OTHER;
  d->kind = d->reported_kind;
  d->memory = device_value<cl_ulong>(id, CL_DEVICE_GLOBAL_MEM_SIZE);
  d->max_alloc = device_value<cl_ulong>(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  const double cus = device_value<cl_uint>(id, CL_DEVICE_MAX_COMPUTE_UNITS);
  const double mhz = device_value<cl_uint>(id, CL_DEVICE_MAX_CLOCK_FREQUENCY);
  const double vw = std::max<cl_uint>(1, device_value<cl_uint>(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT));
  d->peak_gflops_f32 = cus * mhz * 1e-3 * vw * 2.0;
  std::string ext = device_string(id, CL_DEVICE_EXTENSIONS);
  d->fp16 = ext.find("cl_khr_fp16") != std::string::npos;
  // float16 tensors are loaded and stored as half (vload_half / vstore_half, OpenCL 1.2 core)
  // but computed in float on every device, cl_khr_fp16 or not: their peak is the float peak.
  d->peak_gflops_f16 = d->peak_gflops_f32;
  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform), 0};
  d->context = clCreateContext(props, 1, &id, nullptr, nullptr, &err);
  check(err, "clCreateContext(" + d->name + ")");
  d->queue = clCreateCommandQueue(d->context, id, 0, &err);
  check(err, "clCreateCommandQueue(" + d->name + ")");
  const bool unified = device_value<cl_bool>(id, CL_DEVICE_HOST_UNIFIED_MEMORY) != 0;
  auto t0 = std::chrono::steady_clock::now();
  double gbps = measure_copy_gbps(*d);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (gbps > 0) {
    d->bandwidth_gbps = gbps;
    char buf[96];
    std::snprintf(buf, sizeof buf, "measured: 8 MiB device copy, %.1f ms including warm-up", ms);
    d->bandwidth_source = buf;
  } else {
    d->bandwidth_gbps = d->reported_kind == SY_DEVICE_KIND_GPU ? 200.0 : 20.0;
    d->bandwidth_source = "default (measurement failed)";
  }
  // Host transfers: memcpy speed on unified-memory devices, a PCIe-class default otherwise.
  d->host_link_gbps = unified ? d->bandwidth_gbps : 12.0;
  d->launch_overhead_us = d->reported_kind == SY_DEVICE_KIND_GPU ? 20.0 : 50.0;
  d->completer = std::make_unique<Completer>();
  return d;
}

cl_mem create_buffer(OclDevice& d, size_t size, const void* init) {
  cl_int err = CL_SUCCESS;
  cl_mem m = clCreateBuffer(d.context, CL_MEM_READ_WRITE | (init && size ? CL_MEM_COPY_HOST_PTR : 0), std::max<size_t>(size, 1),
                            init && size ? const_cast<void*>(init) : nullptr, &err);
  check(err, "clCreateBuffer(" + std::to_string(size) + " bytes)");
  return m;
}

}  // namespace switchyard::opencl
