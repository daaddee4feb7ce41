// Level Zero plugin: Switchyard devices over the real Level Zero loader (libze_loader).
// One Switchyard device per Level Zero device; ZE_DEVICE_TYPE_VPU is kind npu. Graph segments
// reach the device through ZE_extension_switchyard_graph (include/switchyard/ze_switchyard_graph.h):
// the plugin serialises each segment (common/segment_format.h), the driver answers the support
// query, compiles, and runs the graph from a command list. Executables serialise to the
// driver's native blob plus metadata; a blob the driver refuses as another version is
// recompiled (the reason goes to the host's log). A raised cancel flag is seen before each step
// of an execution and, while the graph runs, every millisecond: the plugin then signals the
// extension's abort event (since 1.1), and the driver stops the graph before its next operation.
#include <dlfcn.h>
#include <level_zero/loader/ze_loader.h>
#include <level_zero/ze_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/segment_format.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/plugin_helpers.h"
#include "switchyard/ze_switchyard_graph.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace {

namespace seg = switchyard::zeseg;
namespace helpers = switchyard::plugin_helpers;

helpers::HostServices g_host;
constexpr const char* kName = "level_zero";

sy_status make_status(sy_status_code code, const std::string& m) { return g_host.make_status(code, m); }

void log(sy_log_level level, const std::string& m) { g_host.log(level, kName, m); }

struct Failure {
  sy_status_code code;
  std::string message;
};

// Runs `fn`, turning every exception into a status (a Failure keeps its code).
template <typename Fn>
sy_status guarded(Fn&& fn) noexcept {
  return helpers::guarded(g_host, "level_zero plugin", [&]() -> sy_status {
    try {
      return fn();
    } catch (const Failure& f) {
      return make_status(f.code, f.message);
    }
  });
}

const char* result_name(ze_result_t r) {
  switch (r) {
    case ZE_RESULT_SUCCESS: return "ZE_RESULT_SUCCESS";
    case ZE_RESULT_NOT_READY: return "ZE_RESULT_NOT_READY";
    case ZE_RESULT_ERROR_DEVICE_LOST: return "ZE_RESULT_ERROR_DEVICE_LOST";
    case ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY: return "ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY";
    case ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY: return "ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY";
    case ZE_RESULT_ERROR_UNINITIALIZED: return "ZE_RESULT_ERROR_UNINITIALIZED";
    case ZE_RESULT_ERROR_UNSUPPORTED_VERSION: return "ZE_RESULT_ERROR_UNSUPPORTED_VERSION";
    case ZE_RESULT_ERROR_UNSUPPORTED_FEATURE: return "ZE_RESULT_ERROR_UNSUPPORTED_FEATURE";
    case ZE_RESULT_ERROR_INVALID_ARGUMENT: return "ZE_RESULT_ERROR_INVALID_ARGUMENT";
    case ZE_RESULT_ERROR_INVALID_NULL_HANDLE: return "ZE_RESULT_ERROR_INVALID_NULL_HANDLE";
    case ZE_RESULT_ERROR_INVALID_NULL_POINTER: return "ZE_RESULT_ERROR_INVALID_NULL_POINTER";
    case ZE_RESULT_ERROR_INVALID_SIZE: return "ZE_RESULT_ERROR_INVALID_SIZE";
    case ZE_RESULT_ERROR_INVALID_NATIVE_BINARY: return "ZE_RESULT_ERROR_INVALID_NATIVE_BINARY";
    default: {
      static thread_local char buf[32];
      std::snprintf(buf, sizeof buf, "ze_result 0x%x", static_cast<unsigned>(r));
      return buf;
    }
  }
}

sy_status_code code_of(ze_result_t r) {
  switch (r) {
    case ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY: case ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY: return SY_ERROR_OUT_OF_MEMORY;
    case ZE_RESULT_ERROR_UNSUPPORTED_FEATURE: case ZE_RESULT_ERROR_UNSUPPORTED_VERSION: return SY_ERROR_UNSUPPORTED;
    case ZE_RESULT_ERROR_DEVICE_LOST: case ZE_RESULT_ERROR_UNINITIALIZED: return SY_ERROR_UNAVAILABLE;
    case ZE_RESULT_ERROR_INVALID_NATIVE_BINARY: return SY_ERROR_DATA_LOSS;
    case ZE_RESULT_ERROR_INVALID_ARGUMENT: case ZE_RESULT_ERROR_INVALID_SIZE: return SY_ERROR_INVALID_ARGUMENT;
    default: return SY_ERROR_INTERNAL;
  }
}

// The graph extension's functions, looked up per driver.
struct Ext {
  ze_pfnSwitchyardGetLastError_t last_error = nullptr;
  ze_pfnSwitchyardDeviceGetModel_t model = nullptr;
  ze_pfnSwitchyardGraphQuerySupport_t query = nullptr;
  ze_pfnSwitchyardGraphCreate_t create = nullptr;
  ze_pfnSwitchyardGraphCompile_t compile = nullptr;
  ze_pfnSwitchyardGraphGetNativeBinary_t native = nullptr;
  ze_pfnSwitchyardGraphGetProperties_t props = nullptr;
  ze_pfnSwitchyardGraphGetArgument_t argument = nullptr;
  ze_pfnSwitchyardCommandListAppendGraphExecute_t append = nullptr;
  ze_pfnSwitchyardGraphDestroy_t destroy = nullptr;
  // Since 1.1, optional: without it a graph cannot be stopped once it has started.
  ze_pfnSwitchyardCommandListAppendGraphExecuteAbortable_t append_abortable = nullptr;
  bool complete() const { return last_error && query && create && compile && native && argument && append && destroy; }
};

// Events the host signals to stop a running graph (the extension's abort event), recycled across
// executes: a pool per execute would cost the driver an allocation each time. When every event
// is on loan, another pool of kPoolSize events is made; all live until the device's context goes.
class AbortEvents {
 public:
  // An unsignaled event, on loan until give_back.
  ze_result_t take(ze_context_handle_t context, ze_device_handle_t device, ze_event_handle_t* out) {
    std::lock_guard<std::mutex> lk(mu_);
    if (free_.empty())
      if (ze_result_t r = grow(context, device); r != ZE_RESULT_SUCCESS) return r;
    *out = free_.back();
    free_.pop_back();
    return ZE_RESULT_SUCCESS;
  }
  // Takes back an event no command list reads any more, reset for the next loan (one that cannot
  // be reset is not lent again).
  void give_back(ze_event_handle_t event) {
    if (zeEventHostReset(event) != ZE_RESULT_SUCCESS) return;
    std::lock_guard<std::mutex> lk(mu_);
    free_.push_back(event);
  }
  // Destroys every event and pool: before the context, with no event on loan.
  void destroy() {
    for (auto e : events_) zeEventDestroy(e);
    for (auto p : pools_) zeEventPoolDestroy(p);
    events_.clear(), free_.clear(), pools_.clear();
  }

 private:
  static constexpr uint32_t kPoolSize = 16;

  ze_result_t grow(ze_context_handle_t context, ze_device_handle_t device) {
    ze_event_pool_desc_t pd{ZE_STRUCTURE_TYPE_EVENT_POOL_DESC, nullptr, ZE_EVENT_POOL_FLAG_HOST_VISIBLE, kPoolSize};
    ze_event_pool_handle_t pool = nullptr;
    if (ze_result_t r = zeEventPoolCreate(context, &pd, 1, &device, &pool); r != ZE_RESULT_SUCCESS) return r;
    pools_.push_back(pool);
    for (uint32_t i = 0; i < kPoolSize; ++i) {
      ze_event_desc_t ed{ZE_STRUCTURE_TYPE_EVENT_DESC, nullptr, i, 0, ZE_EVENT_SCOPE_FLAG_DEVICE};
      ze_event_handle_t event = nullptr;
      if (ze_result_t r = zeEventCreate(pool, &ed, &event); r != ZE_RESULT_SUCCESS) return r;
      events_.push_back(event);
      free_.push_back(event);
    }
    return ZE_RESULT_SUCCESS;
  }

  std::mutex mu_;
  std::vector<ze_event_pool_handle_t> pools_;
  std::vector<ze_event_handle_t> events_, free_;
};

struct LzDevice {
  ze_driver_handle_t driver = nullptr;
  ze_device_handle_t device = nullptr;
  ze_context_handle_t context = nullptr;
  ze_command_queue_handle_t queue = nullptr;
  ze_command_list_handle_t copy_list = nullptr;  // immediate, synchronous: buffer transfers
  std::mutex queue_mu, copy_mu;
  AbortEvents abort_events;
  Ext ext;
  bool has_graph_ext = false;
  std::string missing_ext_reason;
  ze_switchyard_device_model_t model{};
  bool has_model = false;
  std::string name, vendor, driver_version, identity;
  sy_device_kind kind = SY_DEVICE_KIND_OTHER;
  uint64_t memory = 0, max_alloc = 0;
  std::string compile_options;  // passed to zeSwitchyardGraphCreate

  // Driver handles for the extension (the loader may wrap its handles).
  ze_device_handle_t drv_device = nullptr;
  ze_context_handle_t drv_context = nullptr;

  ~LzDevice() {
    abort_events.destroy();
    if (copy_list) zeCommandListDestroy(copy_list);
    if (queue) zeCommandQueueDestroy(queue);
    if (context) zeContextDestroy(context);
  }

  // The driver's reason for the last failure on this thread, with the result code.
  std::string why(ze_result_t r, const std::string& what) const {
    std::string m = what + " failed: " + result_name(r);
    const char* msg = nullptr;
    if (ext.last_error && ext.last_error(&msg) == ZE_RESULT_SUCCESS && msg && *msg) m += ": " + std::string(msg);
    return m;
  }
  [[noreturn]] void raise(ze_result_t r, const std::string& what) const { throw Failure{code_of(r), why(r, what)}; }
  void check(ze_result_t r, const std::string& what) const {
    if (r != ZE_RESULT_SUCCESS) raise(r, what);
  }
};

struct LzPlugin {
  std::vector<std::unique_ptr<LzDevice>> devices;
  std::string diagnostics;
};

struct LzBuffer {
  LzDevice* dev = nullptr;
  void* ptr = nullptr;
  size_t size = 0;
  ~LzBuffer() {
    if (ptr) zeMemFree(dev->context, ptr);
  }
};

struct Arg {
  int32_t elem = 0;
  std::vector<int64_t> dims;
  uint64_t bytes = 0;
};

struct LzExecutable {
  LzDevice* dev = nullptr;
  ze_switchyard_graph_handle_t graph = nullptr;
  std::vector<Arg> inputs, outputs;
  ~LzExecutable() {
    if (graph) dev->ext.destroy(graph);
  }
};

template <typename H>
H translate(zel_handle_type_t type, H h) {
  void* out = nullptr;
  if (zelLoaderTranslateHandle(type, h, &out) != ZE_RESULT_SUCCESS || !out) return h;
  return static_cast<H>(out);
}

std::string plugin_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&plugin_folder), &info) && info.dli_fname)
    return std::filesystem::path(info.dli_fname).parent_path().string();
  return ".";
}

void probe_device(LzDevice& d, const std::map<std::string, std::string>& settings) {
  ze_device_properties_t p{};
  p.stype = ZE_STRUCTURE_TYPE_DEVICE_PROPERTIES;
  d.check(zeDeviceGetProperties(d.device, &p), "zeDeviceGetProperties");
  d.name = p.name;
  d.kind = p.type == ZE_DEVICE_TYPE_VPU ? SY_DEVICE_KIND_NPU
           : p.type == ZE_DEVICE_TYPE_GPU ? SY_DEVICE_KIND_GPU
           : p.type == ZE_DEVICE_TYPE_CPU ? SY_DEVICE_KIND_CPU
                                          : SY_DEVICE_KIND_OTHER;
  char vendor[16];
  std::snprintf(vendor, sizeof vendor, "0x%04x", p.vendorId);
  d.vendor = p.vendorId == 0x8086 ? "Intel" : p.vendorId == 0x5359 ? "Switchyard (simulator)" : vendor;
  d.max_alloc = p.maxMemAllocSize;
  ze_driver_properties_t dp{};
  dp.stype = ZE_STRUCTURE_TYPE_DRIVER_PROPERTIES;
  d.check(zeDriverGetProperties(d.driver, &dp), "zeDriverGetProperties");
  d.driver_version = "level-zero driver " + std::to_string(dp.driverVersion);
  uint32_t nmem = 0;
  if (zeDeviceGetMemoryProperties(d.device, &nmem, nullptr) == ZE_RESULT_SUCCESS && nmem) {
    std::vector<ze_device_memory_properties_t> mp(nmem);
    for (auto& m : mp) m.stype = ZE_STRUCTURE_TYPE_DEVICE_MEMORY_PROPERTIES, m.pNext = nullptr;
    if (zeDeviceGetMemoryProperties(d.device, &nmem, mp.data()) == ZE_RESULT_SUCCESS)
      for (const auto& m : mp) d.memory += m.totalSize;
  }
  char uuid[2 * ZE_MAX_DEVICE_UUID_SIZE + 1] = {};
  for (int i = 0; i < ZE_MAX_DEVICE_UUID_SIZE; ++i) std::snprintf(uuid + 2 * i, 3, "%02x", p.uuid.id[i]);

  ze_context_desc_t cd{ZE_STRUCTURE_TYPE_CONTEXT_DESC, nullptr, 0};
  d.check(zeContextCreate(d.driver, &cd, &d.context), "zeContextCreate");
  ze_command_queue_desc_t qd{};
  qd.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC;
  qd.ordinal = 0;
  qd.mode = ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS;
  d.check(zeCommandQueueCreate(d.context, d.device, &qd, &d.queue), "zeCommandQueueCreate");
  qd.mode = ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS;
  d.check(zeCommandListCreateImmediate(d.context, d.device, &qd, &d.copy_list), "zeCommandListCreateImmediate");
  d.drv_device = translate(ZEL_HANDLE_DEVICE, d.device);
  d.drv_context = translate(ZEL_HANDLE_CONTEXT, d.context);

  // The graph extension.
  uint32_t next = 0;
  bool advertised = false;
  if (zeDriverGetExtensionProperties(d.driver, &next, nullptr) == ZE_RESULT_SUCCESS && next) {
    std::vector<ze_driver_extension_properties_t> ep(next);
    if (zeDriverGetExtensionProperties(d.driver, &next, ep.data()) == ZE_RESULT_SUCCESS)
      for (const auto& e : ep)
        if (std::strcmp(e.name, ZE_SWITCHYARD_GRAPH_EXT_NAME) == 0 && ZE_MAJOR_VERSION(e.version) == ZE_MAJOR_VERSION(ZE_SWITCHYARD_GRAPH_EXT_VERSION))
          advertised = true;
  }
  auto get = [&](const char* n, auto& fn) {
    void* p = nullptr;
    if (zeDriverGetExtensionFunctionAddress(d.driver, n, &p) == ZE_RESULT_SUCCESS) fn = reinterpret_cast<std::decay_t<decltype(fn)>>(p);
  };
  if (advertised) {
    get("zeSwitchyardGetLastError", d.ext.last_error);
    get("zeSwitchyardDeviceGetModel", d.ext.model);
    get("zeSwitchyardGraphQuerySupport", d.ext.query);
    get("zeSwitchyardGraphCreate", d.ext.create);
    get("zeSwitchyardGraphCompile", d.ext.compile);
    get("zeSwitchyardGraphGetNativeBinary", d.ext.native);
    get("zeSwitchyardGraphGetProperties", d.ext.props);
    get("zeSwitchyardGraphGetArgument", d.ext.argument);
    get("zeSwitchyardCommandListAppendGraphExecute", d.ext.append);
    get("zeSwitchyardGraphDestroy", d.ext.destroy);
    get("zeSwitchyardCommandListAppendGraphExecuteAbortable", d.ext.append_abortable);
  }
  d.has_graph_ext = advertised && d.ext.complete();
  if (!advertised)
    d.missing_ext_reason = "the Level Zero driver of '" + d.name + "' does not implement " ZE_SWITCHYARD_GRAPH_EXT_NAME;
  else if (!d.has_graph_ext)
    d.missing_ext_reason = "the Level Zero driver of '" + d.name + "' advertises " ZE_SWITCHYARD_GRAPH_EXT_NAME " but lacks some of its functions";
  if (d.ext.model && d.ext.model(d.drv_device, &d.model) == ZE_RESULT_SUCCESS) d.has_model = true;
  d.identity = "level_zero/" + d.name + "/" + uuid + "/" + d.driver_version + (d.has_model ? "/" + std::string(d.model.compiler_version) : "");
  if (auto it = settings.find("npu_memory_mb"); it != settings.end()) {
    char* e = nullptr;
    unsigned long long mb = std::strtoull(it->second.c_str(), &e, 10);
    if (!e || *e || mb == 0) throw Failure{SY_ERROR_INVALID_ARGUMENT, "setting npu_memory_mb='" + it->second + "' is not a positive number"};
    d.compile_options = "memory_limit_bytes=" + std::to_string(mb * 1024 * 1024);
  }
}

void get_info(sy_plugin_info* info) {
  helpers::write_plugin_info(info, kName, "Switchyard", SWITCHYARD_VERSION,
                             "Level Zero devices through the system's Level Zero loader; NPUs run graphs through " ZE_SWITCHYARD_GRAPH_EXT_NAME);
}

sy_status initialize(const sy_setting* const* settings, size_t n, sy_plugin* out) {
  return guarded([&]() -> sy_status {
    if (!out) return make_status(SY_ERROR_INVALID_ARGUMENT, "initialize: out_plugin is NULL");
    const std::map<std::string, std::string> s = helpers::settings_map(settings, n);
    auto p = std::make_unique<LzPlugin>();
    // alt_driver: a driver library (relative to this plugin's folder, where its manifest is
    // installed) handed to the loader through ZE_ENABLE_ALT_DRIVERS unless the user set it.
    std::string alt_note;
    if (auto it = s.find("alt_driver"); it != s.end() && !it->second.empty()) {
      const char* env = std::getenv("ZE_ENABLE_ALT_DRIVERS");
      if (env && *env) {
        alt_note = "ZE_ENABLE_ALT_DRIVERS is set by the user ('" + std::string(env) + "'); the manifest's alt_driver is not used";
      } else {
        std::filesystem::path lib(it->second);
        if (lib.is_relative()) lib = std::filesystem::path(plugin_folder()) / lib;
        lib = lib.lexically_normal();
        if (!std::filesystem::exists(lib)) {
          alt_note = "alt_driver '" + lib.string() + "' does not exist";
        } else {
          setenv("ZE_ENABLE_ALT_DRIVERS", lib.c_str(), 0);
          alt_note = "ZE_ENABLE_ALT_DRIVERS=" + lib.string() + " (from the manifest's alt_driver)";
        }
      }
      log(SY_LOG_INFO, alt_note);
    }
    const char* env = std::getenv("ZE_ENABLE_ALT_DRIVERS");
    const std::string env_text = env && *env ? std::string("ZE_ENABLE_ALT_DRIVERS=") + env : "ZE_ENABLE_ALT_DRIVERS is unset";
    ze_result_t r = zeInit(0);
    if (r != ZE_RESULT_SUCCESS) {
      p->diagnostics = std::string("no Level Zero driver: zeInit returned ") + result_name(r) +
                       " (the loader found no driver; install a Level Zero driver or point ZE_ENABLE_ALT_DRIVERS at one, e.g. "
                       "lib/switchyard/npusim/libswitchyard_npusim.so; " + env_text + ")";
      if (!alt_note.empty()) p->diagnostics += "; " + alt_note;
      *out = reinterpret_cast<sy_plugin>(p.release());
      return nullptr;
    }
    uint32_t nd = 0;
    r = zeDriverGet(&nd, nullptr);
    std::vector<ze_driver_handle_t> drivers(nd);
    if (r == ZE_RESULT_SUCCESS && nd) r = zeDriverGet(&nd, drivers.data());
    if (r != ZE_RESULT_SUCCESS || nd == 0) {
      p->diagnostics = std::string("no Level Zero driver: zeDriverGet returned ") + result_name(r) + " with " + std::to_string(nd) + " drivers (" + env_text + ")";
      *out = reinterpret_cast<sy_plugin>(p.release());
      return nullptr;
    }
    std::string notes;
    for (auto drv : drivers) {
      uint32_t ndev = 0;
      if (zeDeviceGet(drv, &ndev, nullptr) != ZE_RESULT_SUCCESS) continue;
      std::vector<ze_device_handle_t> devs(ndev);
      if (ndev && zeDeviceGet(drv, &ndev, devs.data()) != ZE_RESULT_SUCCESS) continue;
      for (auto dev : devs) {
        auto d = std::make_unique<LzDevice>();
        d->driver = drv;
        d->device = dev;
        try {
          probe_device(*d, s);
        } catch (const Failure& f) {
          notes += "; a device was skipped: " + f.message;
          continue;
        }
        if (!d->has_graph_ext) notes += "; " + d->missing_ext_reason + " (its nodes are reported unsupported)";
        p->devices.push_back(std::move(d));
      }
    }
    p->diagnostics = std::to_string(drivers.size()) + " Level Zero driver(s), " + std::to_string(p->devices.size()) + " device(s) (" + env_text + ")" + notes;
    *out = reinterpret_cast<sy_plugin>(p.release());
    return nullptr;
  });
}

LzDevice* dev_of(sy_device d) { return reinterpret_cast<LzDevice*>(d); }

sy_status device_info(sy_device device, sy_device_info* info) {
  return helpers::write_device_info(g_host, device, info, [d = dev_of(device)](sy_device_info& out) {
    out.kind = d->kind;
    out.reported_kind = d->kind;
    out.name = d->name.c_str();
    out.vendor = d->vendor.c_str();
    out.driver_version = d->driver_version.c_str();
    out.identity = d->identity.c_str();
    out.memory_bytes = d->has_model ? d->model.memory_limit_bytes : d->memory;
    out.max_allocation_bytes = d->max_alloc;
    if (d->has_model) {
      // Float32 graphs are converted to float16 by the NPU compiler: both run at the f16 rate.
      out.peak_gflops_f16 = d->model.tflops_f16 * 1000;
      out.peak_gflops_f32 = out.peak_gflops_f16;
      out.memory_bandwidth_gbps = d->model.bandwidth_gbps;
      out.launch_overhead_us = d->model.launch_overhead_us;
      out.active_power_watts = d->model.active_power_watts;
    }
    // Graphs reach the device only through the graph extension, whose drivers compute float32
    // graphs in float16 unless their model says otherwise.
    if (d->has_graph_ext) out.compute_element_type = d->has_model && d->model.float_compute_type ? d->model.float_compute_type : SY_ELEM_FLOAT16;
    out.host_link_gbps = 0;  // integrated NPU: shares host memory
    out.host_visible_memory = 0;
  });
}

// A graph-view struct the host allocated. Every field this plugin reads is ABI 2.0's own, so a
// struct shorter than 2.0's (R2: it would hold fewer of them) is a malformed view, refused like
// the host's own reader does (hal/src/graph_view.cpp).
template <typename T>
const T& view_struct(const T* p, const std::string& what) {
  if (!p) throw Failure{SY_ERROR_INVALID_ARGUMENT, "graph view: " + what + " is NULL"};
  if (p->struct_size < sizeof(T))
    throw Failure{SY_ERROR_INVALID_ARGUMENT, "graph view: " + what + " is too small (struct_size " + std::to_string(p->struct_size) +
                                                 ", ABI 2.0's is " + std::to_string(sizeof(T)) + ")"};
  return *p;
}

const sy_graph& checked_view(const sy_graph* g) { return view_struct(g, "the graph"); }

// The view's element `i` of an array of pointers.
template <typename T>
const T& element(const T* const* array, size_t i, const char* what) {
  const std::string name = std::string(what) + " " + std::to_string(i);
  if (!array) throw Failure{SY_ERROR_INVALID_ARGUMENT, "graph view: " + name + " is NULL"};
  return view_struct(array[i], name);
}

seg::Value encode_value(const sy_value_desc& v) {
  seg::Value o;
  o.name = v.name ? v.name : "";
  if (v.kind != SY_VALUE_TENSOR) {
    o.elem = 0, o.rank = -1;
    return o;
  }
  o.elem = v.elem_type;
  o.rank = v.rank;
  if (v.rank > 0) o.dims.assign(v.dims, v.dims + v.rank);
  return o;
}

// Only the attribute types the segment carries get a payload; drivers refuse the others.
seg::Attr encode_attribute(const sy_attribute& at) {
  seg::Attr x;
  x.name = at.name ? at.name : "";
  x.type = static_cast<uint8_t>(at.type);
  switch (at.type) {
    case SY_ATTR_FLOAT: x.f = at.f; break;
    case SY_ATTR_INT: x.i = at.i; break;
    case SY_ATTR_STRING: if (at.s) x.s.assign(at.s, at.s_size); break;
    case SY_ATTR_FLOATS: x.floats.assign(at.floats, at.floats + at.count); break;
    case SY_ATTR_INTS: x.ints.assign(at.ints, at.ints + at.count); break;
    default: break;  // tensors / graphs: the type alone
  }
  return x;
}

seg::Node encode_node(const sy_node& n) {
  seg::Node o;
  o.op_type = n.op_type ? n.op_type : "";
  o.domain = n.domain ? n.domain : "";
  o.opset = n.opset;
  o.inputs.assign(n.inputs, n.inputs + n.num_inputs);
  o.outputs.assign(n.outputs, n.outputs + n.num_outputs);
  for (size_t a = 0; a < n.num_attributes; ++a) o.attrs.push_back(encode_attribute(element(n.attributes, a, "attribute")));
  return o;
}

seg::Initializer encode_initializer(const sy_initializer& in) {
  const sy_constant& c = view_struct(in.tensor, "the tensor of initializer for value " + std::to_string(in.value));
  seg::Initializer t;
  t.value = in.value;
  t.elem = c.elem_type;
  if (c.rank > 0) t.dims.assign(c.dims, c.dims + c.rank);
  t.bytes.assign(static_cast<const char*>(c.data), c.size_bytes);
  return t;
}

// sy_graph view -> Switchyard's serialised segment.
std::string encode(const sy_graph* view) {
  const sy_graph* g = &checked_view(view);
  seg::Segment s;
  for (size_t i = 0; i < g->num_values; ++i) s.values.push_back(encode_value(element(g->values, i, "value")));
  for (size_t i = 0; i < g->num_nodes; ++i) s.nodes.push_back(encode_node(element(g->nodes, i, "node")));
  s.inputs.assign(g->inputs, g->inputs + g->num_inputs);
  s.outputs.assign(g->outputs, g->outputs + g->num_outputs);
  for (size_t i = 0; i < g->num_initializers; ++i)
    s.initializers.push_back(encode_initializer(element(g->initializers, i, "initializer")));
  seg::Writer w;
  seg::write_segment(s, w);
  return std::move(w.out);
}

// A driver's fixed-size text field, which may fill every byte without a terminating NUL.
template <size_t N>
std::string driver_text(const char (&chars)[N]) {
  return std::string(chars, strnlen(chars, N));
}

// The driver's answer for node `i`, reported as it is (a reason past the ABI's reads as other).
void report_driver_answer(const sy_support_report* report, size_t i, const ze_switchyard_node_support_t& answer) {
  const sy_support_reason reason = answer.reason <= SY_UNSUPPORTED_OTHER ? static_cast<sy_support_reason>(answer.reason) : SY_UNSUPPORTED_OTHER;
  report->node(report->context, i, reason, driver_text(answer.message).c_str(), driver_text(answer.implementation).c_str());
}

// Why `report` cannot take answers ("" when it can): its `node` must lie wholly inside the
// struct_size the host set (R2; past it, it reads as NULL) and be non-NULL.
std::string report_problem(const sy_support_report& report) {
  if (!SY_HAS_FIELD(&report, sy_support_report, node))
    return "query_support: the sy_support_report is too short to hold node (struct_size " + std::to_string(report.struct_size) + ", node ends at byte " +
           std::to_string(offsetof(sy_support_report, node) + sizeof report.node) + ")";
  return report.node ? "" : "query_support: the sy_support_report's node is NULL";
}

sy_status query_support(sy_device device, const sy_graph* graph, const sy_support_report* report) {
  return guarded([&]() -> sy_status {
    if (!device || !graph || !report) return make_status(SY_ERROR_INVALID_ARGUMENT, "query_support: NULL argument");
    if (std::string problem = report_problem(*report); !problem.empty()) return make_status(SY_ERROR_INVALID_ARGUMENT, problem);
    const sy_graph* view = &checked_view(graph);
    LzDevice* d = dev_of(device);
    if (!d->has_graph_ext) {
      for (size_t i = 0; i < view->num_nodes; ++i)
        report->node(report->context, i, SY_UNSUPPORTED_OTHER, d->missing_ext_reason.c_str(), nullptr);
      return nullptr;
    }
    std::string bytes = encode(view);
    std::vector<ze_switchyard_node_support_t> sup(view->num_nodes);
    d->check(d->ext.query(d->drv_device, bytes.data(), bytes.size(), static_cast<uint32_t>(view->num_nodes), sup.data()),
             "zeSwitchyardGraphQuerySupport");
    for (size_t i = 0; i < view->num_nodes; ++i) report_driver_answer(report, i, sup[i]);
    return nullptr;
  });
}

// The value desc of a graph input or output.
const sy_value_desc& boundary_value(const sy_graph& view, int32_t index) {
  if (index < 0 || static_cast<size_t>(index) >= view.num_values)
    throw Failure{SY_ERROR_INVALID_ARGUMENT, "graph view: an input or output names value " + std::to_string(index) + ", out of range"};
  return element(view.values, static_cast<size_t>(index), "value");
}

// Reads the compiled graph's arguments and checks them against the view.
void bind_arguments(LzExecutable& e, const sy_graph* graph) {
  const sy_graph* view = &checked_view(graph);
  LzDevice* d = e.dev;
  for (uint32_t io = 0; io < 2; ++io) {
    const size_t n = io ? view->num_outputs : view->num_inputs;
    auto& args = io ? e.outputs : e.inputs;
    for (size_t i = 0; i < n; ++i) {
      ze_switchyard_argument_t a{};
      d->check(d->ext.argument(e.graph, io, static_cast<uint32_t>(i), &a), "zeSwitchyardGraphGetArgument");
      if (a.rank < 0 || a.rank > ZE_SWITCHYARD_MAX_RANK)
        throw Failure{SY_ERROR_DATA_LOSS, "the driver reports rank " + std::to_string(a.rank) + " for a graph argument"};
      Arg x;
      x.elem = a.elem_type;
      x.dims.assign(a.dims, a.dims + a.rank);
      x.bytes = a.size_bytes;
      const sy_value_desc& v = boundary_value(*view, io ? view->outputs[i] : view->inputs[i]);
      if (v.elem_type != x.elem || v.rank != a.rank)
        throw Failure{SY_ERROR_DATA_LOSS, std::string("the compiled graph's ") + (io ? "output " : "input ") + std::to_string(i) + " does not match the graph ('" +
                                              (v.name ? v.name : "") + "')"};
      args.push_back(std::move(x));
    }
  }
  ze_switchyard_argument_t extra{};
  if (d->ext.argument(e.graph, 0, static_cast<uint32_t>(view->num_inputs), &extra) == ZE_RESULT_SUCCESS ||
      d->ext.argument(e.graph, 1, static_cast<uint32_t>(view->num_outputs), &extra) == ZE_RESULT_SUCCESS)
    throw Failure{SY_ERROR_DATA_LOSS, "the compiled graph has more arguments than the graph"};
}

std::unique_ptr<LzExecutable> compile_graph(LzDevice* d, const sy_graph* view) {
  if (!d->has_graph_ext) throw Failure{SY_ERROR_UNSUPPORTED, d->missing_ext_reason};
  std::string bytes = encode(view);
  auto e = std::make_unique<LzExecutable>();
  e->dev = d;
  ze_switchyard_graph_desc_t desc{ZE_SWITCHYARD_GRAPH_FORMAT_SEGMENT, bytes.data(), bytes.size(),
                                  d->compile_options.empty() ? nullptr : d->compile_options.c_str()};
  d->check(d->ext.create(d->drv_context, d->drv_device, &desc, &e->graph), "zeSwitchyardGraphCreate");
  d->check(d->ext.compile(e->graph), "zeSwitchyardGraphCompile");
  bind_arguments(*e, view);
  return e;
}

sy_status compile(sy_device device, const sy_graph* view, const sy_setting* const*, size_t, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out) return make_status(SY_ERROR_INVALID_ARGUMENT, "compile: NULL argument");
    *out = reinterpret_cast<sy_executable>(compile_graph(dev_of(device), view).release());
    return nullptr;
  });
}

// Serialised executable: "SYLZEXE1" u32 version, str device identity, u64 blob size, blob,
// u64 checksum64 of everything before it (version 2; version 1 used FNV-1a).
constexpr char kExeMagic[8] = {'S', 'Y', 'L', 'Z', 'E', 'X', 'E', '1'};
constexpr uint32_t kExeVersion = 2;

sy_status executable_serialize(sy_executable exe, void* data, size_t capacity, size_t* out_size) {
  return guarded([&]() -> sy_status {
    if (!exe || !out_size) return make_status(SY_ERROR_INVALID_ARGUMENT, "serialize: NULL argument");
    auto* e = reinterpret_cast<LzExecutable*>(exe);
    size_t n = 0;
    e->dev->check(e->dev->ext.native(e->graph, &n, nullptr), "zeSwitchyardGraphGetNativeBinary");
    std::string blob(n, '\0');
    e->dev->check(e->dev->ext.native(e->graph, &n, blob.data()), "zeSwitchyardGraphGetNativeBinary");
    blob.resize(n);
    seg::Writer w;
    w.raw(kExeMagic, 8);
    w.pod<uint32_t>(kExeVersion);
    w.str(e->dev->identity);
    w.pod<uint64_t>(blob.size());
    w.raw(blob.data(), blob.size());
    w.pod<uint64_t>(seg::checksum64(w.out.data(), w.out.size()));
    *out_size = w.out.size();
    if (!data) return nullptr;
    if (capacity < w.out.size()) return make_status(SY_ERROR_INVALID_ARGUMENT, "serialize: buffer too small");
    std::memcpy(data, w.out.data(), w.out.size());
    return nullptr;
  });
}

sy_status executable_restore(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out || (!data && size)) return make_status(SY_ERROR_INVALID_ARGUMENT, "restore: NULL argument");
    LzDevice* d = dev_of(device);
    if (!d->has_graph_ext) return make_status(SY_ERROR_UNSUPPORTED, d->missing_ext_reason);
    const char* b = static_cast<const char*>(data);
    if (size < 8 + 4 + 4 + 8 + 8 || std::memcmp(b, kExeMagic, 8) != 0)
      return make_status(SY_ERROR_DATA_LOSS, "level_zero: not a serialised Level Zero executable (bad magic or too short)");
    uint64_t sum;
    std::memcpy(&sum, b + size - 8, 8);
    if (seg::checksum64(b, size - 8) != sum) return make_status(SY_ERROR_DATA_LOSS, "level_zero: serialised executable checksum mismatch (corrupt)");
    std::string identity;
    const char* blob = nullptr;  // inside `data`, borrowed for the driver call (it copies what it keeps)
    uint64_t blob_size = 0;
    try {
      seg::Reader r(b, size - 8);
      r.take(8);
      const uint32_t ver = r.pod<uint32_t>();
      if (ver != kExeVersion)
        return make_status(SY_ERROR_UNSUPPORTED, "level_zero: serialised executable format " + std::to_string(ver) + ", this plugin reads " + std::to_string(kExeVersion));
      identity = r.str();
      const uint64_t n = r.pod<uint64_t>();
      if (n != r.remaining()) return make_status(SY_ERROR_DATA_LOSS, "level_zero: serialised executable blob size mismatch");
      blob = reinterpret_cast<const char*>(r.take(n));
      blob_size = n;
    } catch (const std::exception& ex) {
      return make_status(SY_ERROR_DATA_LOSS, std::string("level_zero: serialised executable is malformed: ") + ex.what());
    }
    auto e = std::make_unique<LzExecutable>();
    e->dev = d;
    ze_switchyard_graph_desc_t desc{ZE_SWITCHYARD_GRAPH_FORMAT_NATIVE, blob, static_cast<size_t>(blob_size),
                                    d->compile_options.empty() ? nullptr : d->compile_options.c_str()};
    ze_result_t r = d->ext.create(d->drv_context, d->drv_device, &desc, &e->graph);
    if (r == ZE_RESULT_ERROR_UNSUPPORTED_VERSION) {
      // Another driver/compiler version wrote it: recompile from the graph, saying why.
      log(SY_LOG_WARNING, "recompiling: the driver refused the stored blob (written for '" + identity + "'): " +
                              d->why(r, "zeSwitchyardGraphCreate(native)"));
      *out = reinterpret_cast<sy_executable>(compile_graph(d, view).release());
      return nullptr;
    }
    if (r == ZE_RESULT_ERROR_INVALID_NATIVE_BINARY) return make_status(SY_ERROR_DATA_LOSS, d->why(r, "zeSwitchyardGraphCreate(native)"));
    d->check(r, "zeSwitchyardGraphCreate(native)");
    bind_arguments(*e, view);
    *out = reinterpret_cast<sy_executable>(e.release());
    return nullptr;
  });
}

void executable_release(sy_executable exe) { delete reinterpret_cast<LzExecutable*>(exe); }

// Device memory of `size` bytes (at least one, so that an empty tensor has an address too).
std::unique_ptr<LzBuffer> allocate_buffer(LzDevice* d, size_t size) {
  auto b = std::make_unique<LzBuffer>();
  b->dev = d;
  b->size = size;
  ze_device_mem_alloc_desc_t md{};
  md.stype = ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC;
  d->check(zeMemAllocDevice(d->context, &md, std::max<size_t>(size, 1), 64, d->device, &b->ptr), "zeMemAllocDevice");
  return b;
}

sy_status buffer_alloc(sy_device device, size_t size, sy_buffer* out) {
  return guarded([&]() -> sy_status {
    if (!device || !out) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_alloc: NULL argument");
    *out = reinterpret_cast<sy_buffer>(allocate_buffer(dev_of(device), size).release());
    return nullptr;
  });
}

void buffer_release(sy_buffer b) { delete reinterpret_cast<LzBuffer*>(b); }
size_t buffer_size(sy_buffer b) { return b ? reinterpret_cast<LzBuffer*>(b)->size : 0; }

sy_status transfer(sy_buffer b, size_t offset, void* host, size_t size, bool write) {
  return guarded([&]() -> sy_status {
    auto* buf = reinterpret_cast<LzBuffer*>(b);
    if (!buf || (!host && size)) return make_status(SY_ERROR_INVALID_ARGUMENT, write ? "buffer_write: NULL argument" : "buffer_read: NULL argument");
    if (offset > buf->size || size > buf->size - offset) return make_status(SY_ERROR_INVALID_ARGUMENT, write ? "buffer_write: out of bounds" : "buffer_read: out of bounds");
    if (!size) return nullptr;
    char* dev = static_cast<char*>(buf->ptr) + offset;
    std::lock_guard<std::mutex> lk(buf->dev->copy_mu);
    buf->dev->check(zeCommandListAppendMemoryCopy(buf->dev->copy_list, write ? dev : host, write ? host : dev, size, nullptr, 0, nullptr),
                    "zeCommandListAppendMemoryCopy");
    return nullptr;
  });
}
sy_status buffer_write(sy_buffer b, size_t offset, const void* src, size_t size) { return transfer(b, offset, const_cast<void*>(src), size, true); }
sy_status buffer_read(sy_buffer b, size_t offset, void* dst, size_t size) { return transfer(b, offset, dst, size, false); }

// True when none of the `count` argument pointers is NULL (nor the array, when there are any).
template <typename T>
bool all_present(const T* const* args, size_t count) {
  return count == 0 || (args && std::all_of(args, args + count, [](const T* a) { return a != nullptr; }));
}

// The first argument struct too short (R2) for the fields execute reads or writes ("" if none):
// a tensor argument up to its dims, an output up to its dims_capacity.
std::string short_argument(const sy_execute_args& a) {
  for (size_t i = 0; i < a.num_inputs; ++i)
    if (!SY_HAS_FIELD(a.inputs[i], sy_tensor_arg, dims))
      return "execute: input " + std::to_string(i) + "'s sy_tensor_arg is too short to hold dims (struct_size " + std::to_string(a.inputs[i]->struct_size) + ")";
  for (size_t i = 0; i < a.num_outputs; ++i)
    if (!SY_HAS_FIELD(a.outputs[i], sy_tensor_out, dims_capacity))
      return "execute: output " + std::to_string(i) + "'s sy_tensor_out is too short to hold dims_capacity (struct_size " +
             std::to_string(a.outputs[i]->struct_size) + ")";
  return "";
}

// Why execute cannot accept `a` at all ("" when it can): then on_complete is not called.
std::string argument_problem(const LzExecutable& e, const sy_execute_args& a) {
  if (a.num_inputs != e.inputs.size() || a.num_outputs != e.outputs.size() || !all_present(a.inputs, a.num_inputs) ||
      !all_present(a.outputs, a.num_outputs))
    return "execute: expected " + std::to_string(e.inputs.size()) + " tensor inputs and " + std::to_string(e.outputs.size()) + " tensor outputs";
  return short_argument(a);
}

// The host's cancel flag: NULL when it gave none or its struct ends before the field (R2).
const volatile int32_t* cancel_flag_of(const sy_execute_args& a) {
  return SY_HAS_FIELD(&a, sy_execute_args, cancel_flag) ? a.cancel_flag : nullptr;
}

bool raised(const volatile int32_t* flag) { return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0; }

sy_status cancelled(const std::string& when) {
  return make_status(SY_ERROR_CANCELLED, "execute: cancelled " + when + " (the host raised sy_execute_args.cancel_flag)");
}

// The compiled graph's inputs, checked against the host's arguments.
std::vector<const void*> input_pointers(const LzExecutable& e, const sy_execute_args& args) {
  std::vector<const void*> in;
  for (size_t i = 0; i < e.inputs.size(); ++i) {
    const sy_tensor_arg& a = *args.inputs[i];
    const Arg& want = e.inputs[i];
    auto* buf = reinterpret_cast<LzBuffer*>(a.buffer);
    bool same = buf && a.elem_type == want.elem && a.rank == static_cast<int32_t>(want.dims.size()) && (a.rank == 0 || a.dims);
    for (int32_t k = 0; same && k < a.rank; ++k) same = a.dims[k] == want.dims[static_cast<size_t>(k)];
    if (!same) throw Failure{SY_ERROR_INVALID_ARGUMENT, "execute: input " + std::to_string(i) + " does not match the compiled static shape and type"};
    if (buf->dev != e.dev || buf->size < want.bytes)
      throw Failure{SY_ERROR_INVALID_ARGUMENT, "execute: input " + std::to_string(i) + " buffer is too small or on another device"};
    in.push_back(buf->ptr);
  }
  return in;
}

// The outputs' device memory: the host's buffers, or new ones (kept in `allocated`, in order,
// until they are handed over).
std::vector<void*> output_pointers(const LzExecutable& e, const sy_execute_args& args, std::vector<std::unique_ptr<LzBuffer>>& allocated) {
  std::vector<void*> out;
  for (size_t i = 0; i < e.outputs.size(); ++i) {
    auto* buf = reinterpret_cast<LzBuffer*>(args.outputs[i]->buffer);
    const Arg& want = e.outputs[i];
    if (!buf) {
      allocated.push_back(allocate_buffer(e.dev, want.bytes));
      buf = allocated.back().get();
    } else if (buf->dev != e.dev || buf->size < want.bytes) {
      throw Failure{SY_ERROR_INVALID_ARGUMENT, "execute: output " + std::to_string(i) + " buffer is too small or on another device"};
    }
    out.push_back(buf->ptr);
  }
  return out;
}

// An abort event on loan for one execution, given back when it is over.
struct AbortEventLoan {
  AbortEvents* from = nullptr;
  ze_event_handle_t event = nullptr;
  AbortEventLoan() = default;
  AbortEventLoan(const AbortEventLoan&) = delete;
  AbortEventLoan& operator=(const AbortEventLoan&) = delete;
  ~AbortEventLoan() {
    if (event) from->give_back(event);
  }
};

// How late a raised cancel flag is seen while the device runs: one wake-up per period.
constexpr uint64_t kCancelPollNs = 1'000'000;

// Waits until the device has executed the list behind `fence`. With an abort event, looks at the
// cancel flag every kCancelPollNs meanwhile; once it is raised, signals the event (the graph
// stops before its next operation) and waits for the device to stop. Returns true when it did:
// the outputs are then undefined.
bool wait_for_device(LzDevice& d, ze_fence_handle_t fence, const volatile int32_t* cancel_flag, ze_event_handle_t abort) {
  if (!abort) {
    d.check(zeFenceHostSynchronize(fence, UINT64_MAX), "zeFenceHostSynchronize");
    return false;
  }
  for (;;) {
    const ze_result_t r = zeFenceHostSynchronize(fence, kCancelPollNs);
    if (r == ZE_RESULT_SUCCESS) return false;
    if (r != ZE_RESULT_NOT_READY) d.raise(r, "zeFenceHostSynchronize");
    if (raised(cancel_flag)) break;
  }
  d.check(zeEventHostSignal(abort), "zeEventHostSignal");
  d.check(zeFenceHostSynchronize(fence, UINT64_MAX), "zeFenceHostSynchronize");
  return true;
}

// Appends the graph's execution to `list`: abortable through `abort` when there is one.
void append_graph(const LzExecutable& e, ze_command_list_handle_t list, std::vector<const void*>& in, std::vector<void*>& out, ze_event_handle_t abort) {
  const Ext& x = e.dev->ext;
  const ze_command_list_handle_t drv_list = translate(ZEL_HANDLE_COMMAND_LIST, list);
  const auto ni = static_cast<uint32_t>(in.size()), no = static_cast<uint32_t>(out.size());
  if (abort)
    e.dev->check(x.append_abortable(drv_list, e.graph, ni, in.data(), no, out.data(), translate(ZEL_HANDLE_EVENT, abort), nullptr, 0, nullptr),
                 "zeSwitchyardCommandListAppendGraphExecuteAbortable");
  else
    e.dev->check(x.append(drv_list, e.graph, ni, in.data(), no, out.data(), nullptr, 0, nullptr), "zeSwitchyardCommandListAppendGraphExecute");
}

// Runs the graph once on the device. With a cancel flag (and a driver that can stop a graph) the
// run is abortable; returns true when the flag stopped it.
bool run_on_device(const LzExecutable& e, std::vector<const void*>& in, std::vector<void*>& out, const volatile int32_t* cancel_flag) {
  LzDevice* d = e.dev;
  AbortEventLoan abort;  // declared first: given back only after the device is done with it
  if (cancel_flag && d->ext.append_abortable) {
    abort.from = &d->abort_events;
    d->check(d->abort_events.take(d->context, d->device, &abort.event), "zeEventPoolCreate/zeEventCreate (abort event)");
  }
  ze_command_list_desc_t ld{};
  ld.stype = ZE_STRUCTURE_TYPE_COMMAND_LIST_DESC;
  ze_command_list_handle_t list = nullptr;
  d->check(zeCommandListCreate(d->context, d->device, &ld, &list), "zeCommandListCreate");
  std::unique_ptr<std::remove_pointer_t<ze_command_list_handle_t>, ze_result_t (*)(ze_command_list_handle_t)> list_guard(list, zeCommandListDestroy);
  append_graph(e, list, in, out, abort.event);
  d->check(zeCommandListClose(list), "zeCommandListClose");
  ze_fence_desc_t fd{ZE_STRUCTURE_TYPE_FENCE_DESC, nullptr, 0};
  ze_fence_handle_t fence = nullptr;
  d->check(zeFenceCreate(d->queue, &fd, &fence), "zeFenceCreate");
  std::unique_ptr<std::remove_pointer_t<ze_fence_handle_t>, ze_result_t (*)(ze_fence_handle_t)> fence_guard(fence, zeFenceDestroy);
  {
    std::lock_guard<std::mutex> lk(d->queue_mu);  // zeCommandQueueExecuteCommandLists is not thread-safe per queue
    d->check(zeCommandQueueExecuteCommandLists(d->queue, 1, &list, fence), "zeCommandQueueExecuteCommandLists");
  }
  const bool stopped = wait_for_device(*d, fence, cancel_flag, abort.event);
  ze_result_t qr;
  {
    std::lock_guard<std::mutex> lk(d->queue_mu);
    qr = zeCommandQueueSynchronize(d->queue, 0);
  }
  if (qr != ZE_RESULT_SUCCESS && qr != ZE_RESULT_NOT_READY) d->raise(qr, "graph execution");
  return stopped;
}

// Shapes, and the buffers allocated here handed to the host (its own once stored, even if a later
// output fails).
sy_status hand_over_outputs(const LzExecutable& e, const sy_execute_args& args, std::vector<std::unique_ptr<LzBuffer>>& allocated) {
  size_t k = 0;
  for (size_t i = 0; i < e.outputs.size(); ++i) {
    sy_tensor_out* o = args.outputs[i];
    const Arg& want = e.outputs[i];
    sy_buffer fresh = o->buffer ? nullptr : reinterpret_cast<sy_buffer>(allocated[k++].release());
    if (sy_status s = helpers::set_tensor_out(g_host, o, fresh, want.elem, static_cast<int32_t>(want.dims.size()), want.dims.data())) return s;
  }
  return nullptr;
}

// One accepted execution, start to end; the cancel flag is looked at before each step and, on a
// driver that can stop a graph, while the device runs it.
sy_status run_execution(const LzExecutable& e, const sy_execute_args& args, std::vector<std::unique_ptr<LzBuffer>>& allocated) {
  const volatile int32_t* cancel_flag = cancel_flag_of(args);
  if (raised(cancel_flag)) return cancelled("before the work started");
  std::vector<const void*> in = input_pointers(e, args);
  std::vector<void*> out = output_pointers(e, args, allocated);
  if (raised(cancel_flag)) return cancelled("before the graph was submitted");
  if (run_on_device(e, in, out, cancel_flag)) return cancelled("while the graph ran (the device was told to stop before its next operation)");
  return hand_over_outputs(e, args, allocated);
}

sy_status execute(sy_executable exe, const sy_execute_args* args) {
  if (!exe || !args) return make_status(SY_ERROR_INVALID_ARGUMENT, "execute: NULL argument");
  if (!SY_HAS_FIELD(args, sy_execute_args, user_data) || !args->on_complete)
    return make_status(SY_ERROR_INVALID_ARGUMENT, "execute: sy_execute_args holds no on_complete (struct_size " + std::to_string(args->struct_size) + ")");
  auto* e = reinterpret_cast<LzExecutable*>(exe);
  if (std::string problem = argument_problem(*e, *args); !problem.empty()) return make_status(SY_ERROR_INVALID_ARGUMENT, problem);
  std::vector<std::unique_ptr<LzBuffer>> allocated;  // outputs not handed over are freed after completion
  sy_status st = guarded([&] { return run_execution(*e, *args, allocated); });
  args->on_complete(args->user_data, st);
  return nullptr;
}

const sy_plugin_api kApi = {
    sizeof(sy_plugin_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR,
    get_info, initialize, helpers::delete_plugin<LzPlugin>, helpers::plugin_diagnostics<LzPlugin>,
    helpers::count_devices<LzPlugin, g_host>, helpers::get_device<LzPlugin, g_host>, device_info, query_support, compile,
    executable_serialize, executable_restore, executable_release, buffer_alloc, buffer_release, buffer_size,
    buffer_write, buffer_read, execute,
    nullptr /* buffer_map: device memory is not host-visible */,
    nullptr /* executable_restore_in_place: the driver copies the blob it is given */,
    nullptr /* buffer_import_host: buffers are device allocations */,
};

}  // namespace

extern "C" SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t, const sy_host_api* host,
                                                             const sy_plugin_api** out_api) {
  g_host.set(host);
  return helpers::answer_get_api(host_abi_major, host, kApi, out_api);
}
