// OpenCL plugin: the ABI entry point and its noexcept trampolines. One Switchyard device per
// OpenCL device of every platform the ICD loader finds.
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cl_device.h"
#include "executable.h"
#include "lowering.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/plugin_helpers.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace switchyard::opencl {

namespace helpers = switchyard::plugin_helpers;

namespace {
helpers::HostServices g_host;
}

sy_status make_plugin_status(sy_status_code code, const std::string& message) { return g_host.make_status(code, message); }
const helpers::HostServices& plugin_host() { return g_host; }

namespace {

void host_log(sy_log_level level, const std::string& message) { g_host.log(level, "opencl", message); }

// Runs `fn`, turning every exception into a status (Error keeps its code).
template <typename Fn>
sy_status guarded(Fn&& fn) noexcept {
  return helpers::guarded(g_host, "opencl plugin", [&]() -> sy_status {
    try {
      return fn();
    } catch (const Error& e) {
      return make_plugin_status(static_cast<sy_status_code>(e.code()), e.what());
    }
  });
}

struct OclPlugin {
  std::vector<std::unique_ptr<OclDevice>> devices;
  std::string diagnostics;
};

struct ExecutableHandle {
  std::unique_ptr<OclExecutable> exe;
};

void get_info(sy_plugin_info* info) {
  helpers::write_plugin_info(info, "opencl", "Switchyard", SWITCHYARD_VERSION,
                             "OpenCL 1.2 devices: shape-specialised OpenCL C kernels, float32");
}

// Why a platform lists no device: the error, and for PoCL the cause seen in practice (it cannot
// create its kernel cache folder, e.g. with an unwritable HOME).
std::string no_devices_note(cl_platform_id platform, cl_int err) {
  char name[256] = {0};
  clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof name - 1, name, nullptr);
  std::string note = std::string("platform '") + name + "' lists no device (clGetDeviceIDs: " + cl_error_name(err) + ")";
  if (std::string(name).find("Portable Computing Language") != std::string::npos)
    note += "; PoCL needs a writable cache folder: POCL_CACHE_DIR, XDG_CACHE_HOME or HOME";
  return note;
}

sy_status initialize(const sy_setting* const* settings, size_t n, sy_plugin* out) {
  return guarded([&]() -> sy_status {
    if (!out) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "initialize: out_plugin is NULL");
    const std::map<std::string, std::string> s = helpers::settings_map(settings, n);
    bool override_kind = false;
    sy_device_kind kind = SY_DEVICE_KIND_OTHER;
    if (auto it = s.find("kind"); it != s.end()) {
      override_kind = true;
      if (!helpers::parse_device_kind(it->second, &kind))
        return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "setting kind='" + it->second + "' must be cpu, gpu, npu or other");
    }
    auto p = std::make_unique<OclPlugin>();
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, nullptr, &np);
    if (err != CL_SUCCESS || np == 0) {
      p->diagnostics = err == CL_SUCCESS || err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */
                           ? "no OpenCL platform found (no ICD in /etc/OpenCL/vendors, or OCL_ICD_VENDORS points nowhere)"
                           : std::string("clGetPlatformIDs failed: ") + cl_error_name(err);
      *out = reinterpret_cast<sy_plugin>(p.release());
      return nullptr;
    }
    std::vector<cl_platform_id> platforms(np);
    clGetPlatformIDs(np, platforms.data(), nullptr);
    std::string notes;
    for (auto pl : platforms) {
      cl_uint nd = 0;
      if (cl_int derr = clGetDeviceIDs(pl, CL_DEVICE_TYPE_ALL, 0, nullptr, &nd); derr != CL_SUCCESS || nd == 0) {
        notes += no_devices_note(pl, derr) + "; ";
        continue;
      }
      std::vector<cl_device_id> ids(nd);
      clGetDeviceIDs(pl, CL_DEVICE_TYPE_ALL, nd, ids.data(), nullptr);
      for (auto id : ids) {
        try {
          auto d = open_device(pl, id);
          if (override_kind) d->kind = kind;
          notes += d->name + " (" + d->platform_name + ", " + d->device_version + "): bandwidth " + d->bandwidth_source + "; ";
          p->devices.push_back(std::move(d));
        } catch (const Error& e) {
          notes += std::string("a device was skipped: ") + e.what() + "; ";
        }
      }
    }
    p->diagnostics = std::to_string(np) + " OpenCL platform(s), " + std::to_string(p->devices.size()) + " device(s)" +
                     (notes.empty() ? std::string() : ": " + notes.substr(0, notes.size() - 2));
    if (p->devices.empty()) p->diagnostics += " (no usable OpenCL device)";
    *out = reinterpret_cast<sy_plugin>(p.release());
    return nullptr;
  });
}

OclDevice* dev(sy_device d) { return reinterpret_cast<OclDevice*>(d); }

sy_status device_info(sy_device device, sy_device_info* info) {
  return helpers::write_device_info(g_host, device, info, [d = dev(device)](sy_device_info& out) {
    out.kind = d->kind;
    out.reported_kind = d->reported_kind;
    out.name = d->name.c_str();
    out.vendor = d->vendor.c_str();
    out.driver_version = d->driver_version.c_str();
    out.identity = d->identity.c_str();
    out.memory_bytes = d->memory;
    out.max_allocation_bytes = d->max_alloc;
    out.peak_gflops_f32 = d->peak_gflops_f32;
    out.peak_gflops_f16 = d->peak_gflops_f16;
    out.memory_bandwidth_gbps = d->bandwidth_gbps;
    out.host_link_gbps = d->host_link_gbps;
    out.launch_overhead_us = d->launch_overhead_us;
    out.active_power_watts = 0;
    out.host_visible_memory = 0;
  });
}

DeviceLimits limits_of(const OclDevice* d) { return DeviceLimits{d->max_alloc}; }

sy_status query_support(sy_device device, const sy_graph* view, const sy_support_report* report) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !report) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "query_support: NULL argument");
    if (!SY_HAS_FIELD(report, sy_support_report, node) || !report->node)  // R2: a field past struct_size reads as NULL
      return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "query_support: the report has no node callback (NULL, or past its struct_size " +
                                                               std::to_string(report->struct_size) + ")");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    helpers::report_answers(report, opencl::query_support(*g, limits_of(dev(device))));
    return nullptr;
  });
}

sy_status compile(sy_device device, const sy_graph* view, const sy_setting* const*, size_t, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "compile: NULL argument");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    KernelSchedule schedule = lower(*g, limits_of(dev(device)));
    auto h = std::make_unique<ExecutableHandle>();
    h->exe = OclExecutable::build(*dev(device), *g, std::move(schedule), false, host_log);
    *out = reinterpret_cast<sy_executable>(h.release());
    return nullptr;
  });
}

sy_status executable_serialize(sy_executable exe, void* data, size_t capacity, size_t* out_size) {
  return guarded([&]() -> sy_status {
    if (!exe || !out_size) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "serialize: NULL argument");
    std::string bytes = reinterpret_cast<ExecutableHandle*>(exe)->exe->serialize();
    *out_size = bytes.size();
    if (!data) return nullptr;
    if (capacity < bytes.size()) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "serialize: buffer too small");
    std::memcpy(data, bytes.data(), bytes.size());
    return nullptr;
  });
}

sy_status executable_restore(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out || (!data && size)) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "restore: NULL argument");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    KernelSchedule schedule = parse_schedule(data, size, dev(device)->identity);
    auto h = std::make_unique<ExecutableHandle>();
    h->exe = OclExecutable::build(*dev(device), *g, std::move(schedule), true, host_log);
    *out = reinterpret_cast<sy_executable>(h.release());
    return nullptr;
  });
}

void executable_release(sy_executable exe) { delete reinterpret_cast<ExecutableHandle*>(exe); }

sy_status buffer_alloc(sy_device device, size_t size, sy_buffer* out) {
  return guarded([&]() -> sy_status {
    if (!device || !out) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "buffer_alloc: NULL argument");
    OclDevice* d = dev(device);
    if (d->max_alloc && size > d->max_alloc)
      return make_plugin_status(SY_ERROR_OUT_OF_MEMORY, "buffer_alloc: " + std::to_string(size) + " bytes exceed CL_DEVICE_MAX_MEM_ALLOC_SIZE (" +
                                                            std::to_string(d->max_alloc) + ")");
    auto b = std::make_unique<OclBuffer>();
    b->device = d;
    b->size = size;
    b->mem = create_buffer(*d, size);
    *out = reinterpret_cast<sy_buffer>(b.release());
    return nullptr;
  });
}

void buffer_release(sy_buffer b) { delete reinterpret_cast<OclBuffer*>(b); }
size_t buffer_size(sy_buffer b) { return b ? reinterpret_cast<OclBuffer*>(b)->size : 0; }

sy_status buffer_write(sy_buffer b, size_t offset, const void* src, size_t size) {
  return guarded([&]() -> sy_status {
    auto* buf = reinterpret_cast<OclBuffer*>(b);
    if (!buf || (!src && size)) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "buffer_write: NULL argument");
    if (offset > buf->size || size > buf->size - offset) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "buffer_write: out of bounds");
    if (size) check(clEnqueueWriteBuffer(buf->device->queue, buf->mem, CL_TRUE, offset, size, src, 0, nullptr, nullptr), "clEnqueueWriteBuffer");
    return nullptr;
  });
}

sy_status buffer_read(sy_buffer b, size_t offset, void* dst, size_t size) {
  return guarded([&]() -> sy_status {
    auto* buf = reinterpret_cast<OclBuffer*>(b);
    if (!buf || (!dst && size)) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "buffer_read: NULL argument");
    if (offset > buf->size || size > buf->size - offset) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "buffer_read: out of bounds");
    if (size) check(clEnqueueReadBuffer(buf->device->queue, buf->mem, CL_TRUE, offset, size, dst, 0, nullptr, nullptr), "clEnqueueReadBuffer");
    return nullptr;
  });
}

sy_status execute(sy_executable exe, const sy_execute_args* args) {
  return guarded([&]() -> sy_status {
    if (!exe || !args) return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "execute: NULL argument");
    const ExecuteRequest request = read_execute_args(*args);
    if (!request.on_complete)
      return make_plugin_status(SY_ERROR_INVALID_ARGUMENT, "execute: no on_complete (NULL, or past the arguments' struct_size " +
                                                               std::to_string(args->struct_size) + ")");
    if (request.has_values)
      return make_plugin_status(SY_ERROR_UNSUPPORTED, "execute: sequence and optional values are not supported by the OpenCL plugin");
    reinterpret_cast<ExecutableHandle*>(exe)->exe->execute(request);
    return nullptr;
  });
}

const sy_plugin_api kApi = {
    sizeof(sy_plugin_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR,
    get_info, initialize, helpers::delete_plugin<OclPlugin>, helpers::plugin_diagnostics<OclPlugin>,
    helpers::count_devices<OclPlugin, g_host>, helpers::get_device<OclPlugin, g_host>, device_info, query_support, compile,
    executable_serialize, executable_restore, executable_release, buffer_alloc, buffer_release, buffer_size,
    buffer_write, buffer_read, execute,
    nullptr /* buffer_map: device memory is not host-visible */,
    nullptr /* executable_restore_in_place: programs are rebuilt from the bytes, never used in place */,
    nullptr /* buffer_import_host: buffers are device allocations */,
};

}  // namespace
}  // namespace switchyard::opencl

extern "C" SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t, const sy_host_api* host,
                                                             const sy_plugin_api** out_api) {
  switchyard::opencl::g_host.set(host);
  return switchyard::plugin_helpers::answer_get_api(host_abi_major, host, switchyard::opencl::kApi, out_api);
}
