// libswitchyard_npusim.so: a software Level Zero driver that the real Level Zero loader
// loads (ZE_ENABLE_ALT_DRIVERS=/path/to/libswitchyard_npusim.so). One driver, one device of
// type ZE_DEVICE_TYPE_VPU ("Switchyard NPU simulator"); contexts, memory (host memory behind
// every allocation kind), command queues (a worker thread each) and lists, events, fences, and
// the ZE_extension_switchyard_graph extension (include/switchyard/ze_switchyard_graph.h).
#include <level_zero/ze_api.h>
#include <level_zero/ze_ddi.h>
#include <level_zero/zes_ddi.h>
#include <level_zero/zet_ddi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "npu_graph.h"
#include "switchyard/ze_switchyard_graph.h"

namespace {

using npusim::NpuError;

thread_local std::string t_last_error;

ze_result_t fail(ze_result_t r, const std::string& m) {
  t_last_error = m;
  return r;
}

template <typename Fn>
ze_result_t guarded(Fn&& fn) noexcept {
  try {
    t_last_error.clear();
    return fn();
  } catch (const NpuError& e) {
    return fail(static_cast<ze_result_t>(e.code), e.what());
  } catch (const std::bad_alloc&) {
    return fail(ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY, "npusim: out of host memory");
  } catch (const std::exception& e) {
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, std::string("npusim: ") + e.what());
  } catch (...) {
    return fail(ZE_RESULT_ERROR_UNKNOWN, "npusim: unknown failure");
  }
}

// Every object starts with a tag so that a foreign or stale handle is refused, not followed.
enum Tag : uint32_t { kDriverTag = 0x4e505544, kDeviceTag, kContextTag, kQueueTag, kListTag, kPoolTag, kEventTag, kFenceTag, kGraphTag };
struct Object {
  uint32_t tag;
  explicit Object(uint32_t t) : tag(t) {}
  ~Object() { tag = 0; }
};
template <typename T>
T* as(void* h, uint32_t tag) {
  auto* o = static_cast<Object*>(h);
  return o && o->tag == tag ? static_cast<T*>(o) : nullptr;
}

struct Device : Object {
  Device() : Object(kDeviceTag) {}
};
struct Driver : Object {
  Driver() : Object(kDriverTag) {}
  Device device;
};
Driver& the_driver() {
  static Driver* d = new Driver();  // lives for the process (the loader may call late)
  return *d;
}

// One lock and condition for every event, fence and queue state change: simple and correct.
// Never destroyed: a queue the application did not destroy keeps its worker waiting on g_cv
// until the process exits, and destroying a condition variable with waiters blocks forever.
std::mutex& g_mu = *new std::mutex;
std::condition_variable& g_cv = *new std::condition_variable;

struct Allocation {
  size_t size;
  ze_memory_type_t type;
};
std::mutex& g_mem_mu = *new std::mutex;
std::map<uintptr_t, Allocation>& g_allocs = *new std::map<uintptr_t, Allocation>;  // start address -> allocation

bool inside_allocation(const void* p, size_t n) {
  std::lock_guard<std::mutex> lk(g_mem_mu);
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return false;
  --it;
  return a >= it->first && a + n <= it->first + it->second.size && a + n >= a;
}

struct Context : Object {
  Context() : Object(kContextTag) {}
};

struct EventPool;
struct Event : Object {
  Event() : Object(kEventTag) {}
  EventPool* pool = nullptr;
  bool signaled = false;
};
struct EventPool : Object {
  EventPool() : Object(kPoolTag) {}
  std::vector<std::unique_ptr<Event>> events;  // slots; created by zeEventCreate
  uint32_t count = 0;
};

struct Graph : Object {
  Graph() : Object(kGraphTag) {}
  switchyard::zeseg::Segment segment;  // SEGMENT graphs before compile
  uint64_t memory_limit = 0;
  std::mutex mu;
  std::shared_ptr<npusim::Executor> exe;  // after compile / native load
};

struct Command {
  enum Kind { copy, fill, barrier, signal, wait, reset, graph } kind = barrier;
  void* dst = nullptr;
  const void* src = nullptr;
  size_t size = 0;
  std::vector<unsigned char> pattern;
  std::vector<Event*> events;  // wait list (kinds wait/graph/copy...) or the event to reset
  Event* signal_event = nullptr;
  Event* abort_event = nullptr;  // graph: skip the remaining operations once it is signaled
  std::shared_ptr<npusim::Executor> exe;
  std::vector<const void*> inputs;
  std::vector<void*> outputs;
};

void wait_events(const std::vector<Event*>& evs) {
  std::unique_lock<std::mutex> lk(g_mu);
  g_cv.wait(lk, [&] {
    for (auto* e : evs)
      if (!e->signaled) return false;
    return true;
  });
}
void signal_event(Event* e) {
  if (!e) return;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    e->signaled = true;
  }
  g_cv.notify_all();
}

bool is_signaled(const Event* e) {
  std::lock_guard<std::mutex> lk(g_mu);
  return e->signaled;
}

// Runs the graph, asking the abort event (if any) before each operation. An aborted graph is not
// a failure: its outputs are undefined, which the application that signaled the event knows.
void run_graph(const Command& c) {
  if (!c.abort_event) {
    c.exe->run(c.inputs.data(), c.outputs.data());
    return;
  }
  c.exe->run(c.inputs.data(), c.outputs.data(), [abort = c.abort_event] { return is_signaled(abort); });
}

// Runs one command; failures throw and end the command list with that error.
void run(const Command& c) {
  wait_events(c.events);
  switch (c.kind) {
    case Command::copy: std::memmove(c.dst, c.src, c.size); break;
    case Command::fill:
      for (size_t i = 0; i < c.size; ++i) static_cast<unsigned char*>(c.dst)[i] = c.pattern[i % c.pattern.size()];
      break;
    case Command::reset: {
      std::lock_guard<std::mutex> lk(g_mu);
      c.signal_event->signaled = false;
      break;
    }
    case Command::graph: run_graph(c); break;
    default: break;
  }
  if (c.kind != Command::reset) signal_event(c.signal_event);
}

struct CommandList : Object {
  CommandList() : Object(kListTag) {}
  bool immediate = false;
  bool closed = false;
  std::vector<Command> commands;
};

struct Fence;
struct Queue : Object {
  Queue() : Object(kQueueTag) {}
  bool synchronous = false;
  std::deque<std::pair<std::vector<CommandList*>, Fence*>> work;
  int running = 0;
  bool stop = false;
  std::string error;  // first failure of an executed list, reported by synchronize
  std::thread worker;
};
struct Fence : Object {
  Fence() : Object(kFenceTag) {}
  bool signaled = false;
};

void run_lists(Queue* q, const std::vector<CommandList*>& lists) {
  for (auto* l : lists) {
    try {
      for (const auto& c : l->commands) run(c);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lk(g_mu);
      if (q->error.empty()) q->error = std::string("npusim: command list failed: ") + e.what();
    }
  }
}

void worker_loop(Queue* q) {
  std::unique_lock<std::mutex> lk(g_mu);
  for (;;) {
    g_cv.wait(lk, [&] { return q->stop || !q->work.empty(); });
    if (q->work.empty() && q->stop) return;
    auto item = std::move(q->work.front());
    q->work.pop_front();
    lk.unlock();
    run_lists(q, item.first);
    lk.lock();
    --q->running;
    if (item.second) item.second->signaled = true;
    g_cv.notify_all();
  }
}

bool wait_until(std::unique_lock<std::mutex>& lk, uint64_t timeout_ns, const std::function<bool()>& done) {
  if (timeout_ns == UINT64_MAX) {
    g_cv.wait(lk, done);
    return true;
  }
  return g_cv.wait_for(lk, std::chrono::nanoseconds(timeout_ns), done);
}

uint64_t parse_memory_option(const char* options) {
  uint64_t limit = npusim::settings().memory_limit_bytes;
  if (!options) return limit;
  std::string s(options);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(';', pos);
    if (end == std::string::npos) end = s.size();
    std::string kv = s.substr(pos, end - pos);
    auto eq = kv.find('=');
    if (eq != std::string::npos && kv.substr(0, eq) == "memory_limit_bytes") {
      char* e = nullptr;
      unsigned long long v = std::strtoull(kv.c_str() + eq + 1, &e, 10);
      if (!e || *e || v == 0) throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: option '" + kv + "' is not a positive byte count");
      limit = v;
    } else if (!kv.empty()) {
      throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: unknown compile option '" + kv + "' (known: memory_limit_bytes)");
    }
    pos = end + 1;
  }
  return limit;
}

// ---------------------------------------------------------------------------------------------
// Global, driver, device

ze_result_t ZE_APICALL Init(ze_init_flags_t flags) {
  if (flags && !(flags & ZE_INIT_FLAG_VPU_ONLY) && !(flags & ZE_INIT_FLAG_GPU_ONLY)) return ZE_RESULT_ERROR_INVALID_ENUMERATION;
  // The simulator is a VPU: a GPU-only request finds nothing here.
  if (flags == ZE_INIT_FLAG_GPU_ONLY) return ZE_RESULT_ERROR_UNINITIALIZED;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGet(uint32_t* count, ze_driver_handle_t* drivers) {
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (*count == 0 || !drivers) {
    *count = 1;
    return ZE_RESULT_SUCCESS;
  }
  drivers[0] = reinterpret_cast<ze_driver_handle_t>(&the_driver());
  *count = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGetApiVersion(ze_driver_handle_t d, ze_api_version_t* v) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!v) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  *v = ZE_API_VERSION_1_4;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGetProperties(ze_driver_handle_t d, ze_driver_properties_t* p) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  std::memset(&p->uuid, 0, sizeof p->uuid);
  std::memcpy(p->uuid.id, "switchyard-npusm", 16);
  p->driverVersion = npusim::settings().blob_version;  // the compiler's blob version
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGetIpcProperties(ze_driver_handle_t d, ze_driver_ipc_properties_t* p) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  p->flags = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGetExtensionProperties(ze_driver_handle_t d, uint32_t* count, ze_driver_extension_properties_t* props) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (*count == 0 || !props) {
    *count = 1;
    return ZE_RESULT_SUCCESS;
  }
  std::memset(props[0].name, 0, sizeof props[0].name);
  std::strncpy(props[0].name, ZE_SWITCHYARD_GRAPH_EXT_NAME, sizeof props[0].name - 1);
  props[0].version = ZE_SWITCHYARD_GRAPH_EXT_VERSION;
  *count = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGet(ze_driver_handle_t d, uint32_t* count, ze_device_handle_t* devices) {
  auto* drv = as<Driver>(d, kDriverTag);
  if (!drv) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (*count == 0 || !devices) {
    *count = 1;
    return ZE_RESULT_SUCCESS;
  }
  devices[0] = reinterpret_cast<ze_device_handle_t>(&drv->device);
  *count = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetSubDevices(ze_device_handle_t dev, uint32_t* count, ze_device_handle_t*) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  *count = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetProperties(ze_device_handle_t dev, ze_device_properties_t* p) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  const auto& s = npusim::settings();
  p->type = ZE_DEVICE_TYPE_VPU;
  p->vendorId = 0x5359;  // "SY": not a PCI vendor; a simulator
  p->deviceId = 0x0001;
  p->flags = ZE_DEVICE_PROPERTY_FLAG_INTEGRATED;
  p->subdeviceId = 0;
  p->coreClockRate = 1000;  // MHz (model)
  p->maxMemAllocSize = s.memory_limit_bytes;
  p->maxHardwareContexts = 64;
  p->maxCommandQueuePriority = 0;
  p->numThreadsPerEU = 1;
  p->physicalEUSimdWidth = 16;
  p->numEUsPerSubslice = 1;
  p->numSubslicesPerSlice = 1;
  p->numSlices = static_cast<uint32_t>(s.threads);
  p->timerResolution = 1;
  p->timestampValidBits = 64;
  p->kernelTimestampValidBits = 64;
  std::memset(p->uuid.id, 0, sizeof p->uuid.id);
  std::memcpy(p->uuid.id, "sy-npusim-dev0\0\0", 16);
  std::memset(p->name, 0, sizeof p->name);
  std::strncpy(p->name, "Switchyard NPU simulator", sizeof p->name - 1);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetComputeProperties(ze_device_handle_t dev, ze_device_compute_properties_t* p) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  p->maxTotalGroupSize = 1;
  p->maxGroupSizeX = p->maxGroupSizeY = p->maxGroupSizeZ = 1;
  p->maxGroupCountX = p->maxGroupCountY = p->maxGroupCountZ = 1;
  p->maxSharedLocalMemory = 0;
  p->numSubGroupSizes = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetCommandQueueGroupProperties(ze_device_handle_t dev, uint32_t* count, ze_command_queue_group_properties_t* p) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (*count == 0 || !p) {
    *count = 1;
    return ZE_RESULT_SUCCESS;
  }
  p[0].flags = ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COMPUTE | ZE_COMMAND_QUEUE_GROUP_PROPERTY_FLAG_COPY;
  p[0].maxMemoryFillPatternSize = 256;
  p[0].numQueues = 16;
  *count = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetMemoryProperties(ze_device_handle_t dev, uint32_t* count, ze_device_memory_properties_t* p) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!count) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (*count == 0 || !p) {
    *count = 1;
    return ZE_RESULT_SUCCESS;
  }
  p[0].flags = 0;
  p[0].maxClockRate = 0;
  p[0].maxBusWidth = 0;
  p[0].totalSize = npusim::settings().memory_limit_bytes;
  std::memset(p[0].name, 0, sizeof p[0].name);
  std::strncpy(p[0].name, "on-chip SRAM (model)", sizeof p[0].name - 1);
  *count = 1;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetMemoryAccessProperties(ze_device_handle_t dev, ze_device_memory_access_properties_t* p) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  const auto rw = ZE_MEMORY_ACCESS_CAP_FLAG_RW;
  p->hostAllocCapabilities = p->deviceAllocCapabilities = p->sharedSingleDeviceAllocCapabilities = rw;
  p->sharedCrossDeviceAllocCapabilities = 0;
  p->sharedSystemAllocCapabilities = 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DeviceGetStatus(ze_device_handle_t dev) {
  return as<Device>(dev, kDeviceTag) ? ZE_RESULT_SUCCESS : ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
}

ze_result_t ZE_APICALL DeviceCanAccessPeer(ze_device_handle_t a, ze_device_handle_t b, ze_bool_t* v) {
  if (!as<Device>(a, kDeviceTag) || !as<Device>(b, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!v) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  *v = a == b;
  return ZE_RESULT_SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// Context and memory

ze_result_t ZE_APICALL ContextCreate(ze_driver_handle_t d, const ze_context_desc_t* desc, ze_context_handle_t* out) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return guarded([&] {
    *out = reinterpret_cast<ze_context_handle_t>(new Context());
    return ZE_RESULT_SUCCESS;
  });
}
ze_result_t ZE_APICALL ContextCreateEx(ze_driver_handle_t d, const ze_context_desc_t* desc, uint32_t, ze_device_handle_t*,
                                       ze_context_handle_t* out) {
  return ContextCreate(d, desc, out);
}
ze_result_t ZE_APICALL ContextDestroy(ze_context_handle_t c) {
  auto* ctx = as<Context>(c, kContextTag);
  if (!ctx) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  delete ctx;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL ContextGetStatus(ze_context_handle_t c) {
  return as<Context>(c, kContextTag) ? ZE_RESULT_SUCCESS : ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
}

ze_result_t alloc(ze_context_handle_t c, size_t size, size_t alignment, ze_memory_type_t type, void** out) {
  if (!as<Context>(c, kContextTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (size == 0) return fail(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "npusim: zero-byte allocation");
  if (alignment & (alignment - 1)) return fail(ZE_RESULT_ERROR_UNSUPPORTED_ALIGNMENT, "npusim: alignment is not a power of two");
  const size_t align = std::max<size_t>(64, alignment);
  void* p = std::aligned_alloc(align, (size + align - 1) / align * align);
  if (!p) return fail(type == ZE_MEMORY_TYPE_HOST ? ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY : ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY, "npusim: allocation failed");
  std::lock_guard<std::mutex> lk(g_mem_mu);
  g_allocs[reinterpret_cast<uintptr_t>(p)] = {size, type};
  *out = p;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL MemAllocDevice(ze_context_handle_t c, const ze_device_mem_alloc_desc_t* desc, size_t size, size_t alignment,
                                      ze_device_handle_t dev, void** out) {
  if (!as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return alloc(c, size, alignment, ZE_MEMORY_TYPE_DEVICE, out);
}
ze_result_t ZE_APICALL MemAllocHost(ze_context_handle_t c, const ze_host_mem_alloc_desc_t* desc, size_t size, size_t alignment, void** out) {
  if (!desc) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return alloc(c, size, alignment, ZE_MEMORY_TYPE_HOST, out);
}
ze_result_t ZE_APICALL MemAllocShared(ze_context_handle_t c, const ze_device_mem_alloc_desc_t* d, const ze_host_mem_alloc_desc_t* h, size_t size,
                                      size_t alignment, ze_device_handle_t, void** out) {
  if (!d || !h) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return alloc(c, size, alignment, ZE_MEMORY_TYPE_SHARED, out);
}
ze_result_t ZE_APICALL MemFree(ze_context_handle_t c, void* p) {
  if (!as<Context>(c, kContextTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  {
    std::lock_guard<std::mutex> lk(g_mem_mu);
    auto it = g_allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == g_allocs.end()) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: zeMemFree of a pointer this driver did not allocate");
    g_allocs.erase(it);
  }
  std::free(p);
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL MemGetAllocProperties(ze_context_handle_t c, const void* p, ze_memory_allocation_properties_t* props, ze_device_handle_t* dev) {
  if (!as<Context>(c, kContextTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!props) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  std::lock_guard<std::mutex> lk(g_mem_mu);
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = g_allocs.upper_bound(a);
  props->type = ZE_MEMORY_TYPE_UNKNOWN;
  props->id = 0;
  props->pageSize = 0;
  if (it != g_allocs.begin()) {
    --it;
    if (a < it->first + it->second.size) {
      props->type = it->second.type;
      props->id = it->first;
      props->pageSize = 4096;
      if (dev) *dev = reinterpret_cast<ze_device_handle_t>(&the_driver().device);
    }
  }
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL MemGetAddressRange(ze_context_handle_t c, const void* p, void** base, size_t* size) {
  if (!as<Context>(c, kContextTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::lock_guard<std::mutex> lk(g_mem_mu);
  auto a = reinterpret_cast<uintptr_t>(p);
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
  --it;
  if (a >= it->first + it->second.size) return ZE_RESULT_ERROR_INVALID_ARGUMENT;
  if (base) *base = reinterpret_cast<void*>(it->first);
  if (size) *size = it->second.size;
  return ZE_RESULT_SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// Queues, lists, events, fences

ze_result_t ZE_APICALL QueueCreate(ze_context_handle_t c, ze_device_handle_t dev, const ze_command_queue_desc_t* desc, ze_command_queue_handle_t* out) {
  if (!as<Context>(c, kContextTag) || !as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (desc->ordinal != 0) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: one command queue group (ordinal 0)");
  return guarded([&] {
    auto q = std::make_unique<Queue>();
    q->synchronous = desc->mode == ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS;
    if (!q->synchronous) q->worker = std::thread(worker_loop, q.get());
    *out = reinterpret_cast<ze_command_queue_handle_t>(q.release());
    return ZE_RESULT_SUCCESS;
  });
}
ze_result_t ZE_APICALL QueueDestroy(ze_command_queue_handle_t h) {
  auto* q = as<Queue>(h, kQueueTag);
  if (!q) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    q->stop = true;
  }
  g_cv.notify_all();
  if (q->worker.joinable()) q->worker.join();
  delete q;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL QueueExecute(ze_command_queue_handle_t h, uint32_t n, ze_command_list_handle_t* lists, ze_fence_handle_t f) {
  auto* q = as<Queue>(h, kQueueTag);
  if (!q) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!lists || n == 0) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  Fence* fence = nullptr;
  if (f && !(fence = as<Fence>(f, kFenceTag))) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::vector<CommandList*> ls;
  for (uint32_t i = 0; i < n; ++i) {
    auto* l = as<CommandList>(lists[i], kListTag);
    if (!l) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    if (!l->closed || l->immediate) return fail(ZE_RESULT_ERROR_INVALID_COMMAND_LIST_TYPE, "npusim: command list is not closed (or is immediate)");
    ls.push_back(l);
  }
  if (q->synchronous) {
    run_lists(q, ls);
    if (fence) {
      std::lock_guard<std::mutex> lk(g_mu);
      fence->signaled = true;
    }
    g_cv.notify_all();
    std::lock_guard<std::mutex> lk(g_mu);
    if (!q->error.empty()) {
      std::string e;
      std::swap(e, q->error);
      return fail(ZE_RESULT_ERROR_DEVICE_LOST, e);
    }
    return ZE_RESULT_SUCCESS;
  }
  {
    std::lock_guard<std::mutex> lk(g_mu);
    q->work.emplace_back(std::move(ls), fence);
    ++q->running;
  }
  g_cv.notify_all();
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL QueueSynchronize(ze_command_queue_handle_t h, uint64_t timeout) {
  auto* q = as<Queue>(h, kQueueTag);
  if (!q) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::unique_lock<std::mutex> lk(g_mu);
  if (!wait_until(lk, timeout, [&] { return q->running == 0; })) return ZE_RESULT_NOT_READY;
  if (!q->error.empty()) {
    std::string e;
    std::swap(e, q->error);
    return fail(ZE_RESULT_ERROR_DEVICE_LOST, e);
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL ListCreate(ze_context_handle_t c, ze_device_handle_t dev, const ze_command_list_desc_t* desc, ze_command_list_handle_t* out) {
  if (!as<Context>(c, kContextTag) || !as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return guarded([&] {
    *out = reinterpret_cast<ze_command_list_handle_t>(new CommandList());
    return ZE_RESULT_SUCCESS;
  });
}
ze_result_t ZE_APICALL ListCreateImmediate(ze_context_handle_t c, ze_device_handle_t dev, const ze_command_queue_desc_t* desc,
                                           ze_command_list_handle_t* out) {
  if (!as<Context>(c, kContextTag) || !as<Device>(dev, kDeviceTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  return guarded([&] {
    auto* l = new CommandList();
    l->immediate = true;
    *out = reinterpret_cast<ze_command_list_handle_t>(l);
    return ZE_RESULT_SUCCESS;
  });
}
ze_result_t ZE_APICALL ListDestroy(ze_command_list_handle_t h) {
  auto* l = as<CommandList>(h, kListTag);
  if (!l) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  delete l;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL ListClose(ze_command_list_handle_t h) {
  auto* l = as<CommandList>(h, kListTag);
  if (!l) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  l->closed = true;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL ListReset(ze_command_list_handle_t h) {
  auto* l = as<CommandList>(h, kListTag);
  if (!l) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  l->commands.clear();
  l->closed = false;
  return ZE_RESULT_SUCCESS;
}

// Appends (or, for an immediate list, runs) a command.
ze_result_t append(ze_command_list_handle_t h, Command c, ze_event_handle_t sig, uint32_t nwait, ze_event_handle_t* waits) {
  auto* l = as<CommandList>(h, kListTag);
  if (!l) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (l->closed) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: command list is closed");
  if (sig && !(c.signal_event = as<Event>(sig, kEventTag))) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (nwait && !waits) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  for (uint32_t i = 0; i < nwait; ++i) {
    auto* e = as<Event>(waits[i], kEventTag);
    if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
    c.events.push_back(e);
  }
  return guarded([&] {
    if (l->immediate) {
      run(c);
      return ZE_RESULT_SUCCESS;
    }
    l->commands.push_back(std::move(c));
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL AppendBarrier(ze_command_list_handle_t h, ze_event_handle_t sig, uint32_t n, ze_event_handle_t* w) {
  Command c;
  c.kind = Command::barrier;
  return append(h, std::move(c), sig, n, w);
}
ze_result_t ZE_APICALL AppendMemoryRangesBarrier(ze_command_list_handle_t h, uint32_t, const size_t*, const void**, ze_event_handle_t sig,
                                                 uint32_t n, ze_event_handle_t* w) {
  return AppendBarrier(h, sig, n, w);
}
ze_result_t ZE_APICALL AppendMemoryCopy(ze_command_list_handle_t h, void* dst, const void* src, size_t size, ze_event_handle_t sig, uint32_t n,
                                        ze_event_handle_t* w) {
  if (!dst || !src) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  // At least one side must be this driver's memory (the other may be ordinary host memory).
  if (size && !inside_allocation(dst, size) && !inside_allocation(src, size))
    return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: memory copy touches no allocation of this driver (or overruns one)");
  Command c;
  c.kind = Command::copy;
  c.dst = dst, c.src = src, c.size = size;
  return append(h, std::move(c), sig, n, w);
}
ze_result_t ZE_APICALL AppendMemoryFill(ze_command_list_handle_t h, void* dst, const void* pattern, size_t psize, size_t size,
                                        ze_event_handle_t sig, uint32_t n, ze_event_handle_t* w) {
  if (!dst || !pattern) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (psize == 0 || psize > 256) return fail(ZE_RESULT_ERROR_INVALID_SIZE, "npusim: fill pattern must be 1..256 bytes");
  if (size && !inside_allocation(dst, size)) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: fill outside an allocation");
  Command c;
  c.kind = Command::fill;
  c.dst = dst, c.size = size;
  c.pattern.assign(static_cast<const unsigned char*>(pattern), static_cast<const unsigned char*>(pattern) + psize);
  return append(h, std::move(c), sig, n, w);
}
ze_result_t ZE_APICALL AppendSignalEvent(ze_command_list_handle_t h, ze_event_handle_t e) {
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  Command c;
  c.kind = Command::signal;
  return append(h, std::move(c), e, 0, nullptr);
}
ze_result_t ZE_APICALL AppendWaitOnEvents(ze_command_list_handle_t h, uint32_t n, ze_event_handle_t* w) {
  Command c;
  c.kind = Command::wait;
  return append(h, std::move(c), nullptr, n, w);
}
ze_result_t ZE_APICALL AppendEventReset(ze_command_list_handle_t h, ze_event_handle_t e) {
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  Command c;
  c.kind = Command::reset;
  return append(h, std::move(c), e, 0, nullptr);
}

ze_result_t ZE_APICALL PoolCreate(ze_context_handle_t c, const ze_event_pool_desc_t* desc, uint32_t, ze_device_handle_t*, ze_event_pool_handle_t* out) {
  if (!as<Context>(c, kContextTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (desc->count == 0) return fail(ZE_RESULT_ERROR_INVALID_SIZE, "npusim: event pool of 0 events");
  return guarded([&] {
    auto* p = new EventPool();
    p->count = desc->count;
    p->events.resize(desc->count);
    *out = reinterpret_cast<ze_event_pool_handle_t>(p);
    return ZE_RESULT_SUCCESS;
  });
}
ze_result_t ZE_APICALL PoolDestroy(ze_event_pool_handle_t h) {
  auto* p = as<EventPool>(h, kPoolTag);
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  delete p;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL EventCreate(ze_event_pool_handle_t h, const ze_event_desc_t* desc, ze_event_handle_t* out) {
  auto* p = as<EventPool>(h, kPoolTag);
  if (!p) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  if (desc->index >= p->count) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: event index beyond the pool");
  if (p->events[desc->index]) return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: event index already in use");
  p->events[desc->index] = std::make_unique<Event>();
  p->events[desc->index]->pool = p;
  *out = reinterpret_cast<ze_event_handle_t>(p->events[desc->index].get());
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL EventDestroy(ze_event_handle_t h) {
  auto* e = as<Event>(h, kEventTag);
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  for (auto& slot : e->pool->events)
    if (slot.get() == e) slot.reset();
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL EventHostSignal(ze_event_handle_t h) {
  auto* e = as<Event>(h, kEventTag);
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  signal_event(e);
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL EventHostSynchronize(ze_event_handle_t h, uint64_t timeout) {
  auto* e = as<Event>(h, kEventTag);
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::unique_lock<std::mutex> lk(g_mu);
  return wait_until(lk, timeout, [&] { return e->signaled; }) ? ZE_RESULT_SUCCESS : ZE_RESULT_NOT_READY;
}
ze_result_t ZE_APICALL EventQueryStatus(ze_event_handle_t h) { return EventHostSynchronize(h, 0); }
ze_result_t ZE_APICALL EventHostReset(ze_event_handle_t h) {
  auto* e = as<Event>(h, kEventTag);
  if (!e) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::lock_guard<std::mutex> lk(g_mu);
  e->signaled = false;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL FenceCreate(ze_command_queue_handle_t q, const ze_fence_desc_t* desc, ze_fence_handle_t* out) {
  if (!as<Queue>(q, kQueueTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!desc || !out) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  auto* f = new Fence();
  f->signaled = desc->flags & ZE_FENCE_FLAG_SIGNALED;
  *out = reinterpret_cast<ze_fence_handle_t>(f);
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL FenceDestroy(ze_fence_handle_t h) {
  auto* f = as<Fence>(h, kFenceTag);
  if (!f) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  delete f;
  return ZE_RESULT_SUCCESS;
}
ze_result_t ZE_APICALL FenceHostSynchronize(ze_fence_handle_t h, uint64_t timeout) {
  auto* f = as<Fence>(h, kFenceTag);
  if (!f) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::unique_lock<std::mutex> lk(g_mu);
  return wait_until(lk, timeout, [&] { return f->signaled; }) ? ZE_RESULT_SUCCESS : ZE_RESULT_NOT_READY;
}
ze_result_t ZE_APICALL FenceQueryStatus(ze_fence_handle_t h) { return FenceHostSynchronize(h, 0); }
ze_result_t ZE_APICALL FenceReset(ze_fence_handle_t h) {
  auto* f = as<Fence>(h, kFenceTag);
  if (!f) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  std::lock_guard<std::mutex> lk(g_mu);
  f->signaled = false;
  return ZE_RESULT_SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// ZE_extension_switchyard_graph

ze_result_t ZE_APICALL SyGetLastError(const char** message) {
  if (!message) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  *message = t_last_error.c_str();
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL SyQuerySupport(ze_device_handle_t dev, const void* seg, size_t size, uint32_t num_nodes, ze_switchyard_node_support_t* out) {
  if (!as<Device>(dev, kDeviceTag)) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a device of this driver");
  if (!seg || !out) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL segment or output");
  return guarded([&] {
    auto s = switchyard::zeseg::read_segment(seg, size);
    if (s.nodes.size() != num_nodes)
      throw NpuError(ZE_RESULT_ERROR_INVALID_SIZE, "npusim: the segment has " + std::to_string(s.nodes.size()) + " nodes, the caller passed room for " +
                                                       std::to_string(num_nodes));
    auto sup = npusim::query_support(s, npusim::settings().memory_limit_bytes);
    for (uint32_t i = 0; i < num_nodes; ++i) {
      out[i] = {};
      out[i].reason = sup[i].reason;
      std::strncpy(out[i].message, sup[i].message.c_str(), sizeof out[i].message - 1);
      if (sup[i].reason == 0) std::strncpy(out[i].implementation, "npusim", sizeof out[i].implementation - 1);
    }
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL SyGraphCreate(ze_context_handle_t c, ze_device_handle_t dev, const ze_switchyard_graph_desc_t* desc,
                                     ze_switchyard_graph_handle_t* out) {
  if (!as<Context>(c, kContextTag) || !as<Device>(dev, kDeviceTag)) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: bad context or device");
  if (!desc || !out || (!desc->data && desc->size)) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL descriptor or data");
  return guarded([&] {
    auto g = std::make_unique<Graph>();
    g->memory_limit = parse_memory_option(desc->options);
    if (desc->format == ZE_SWITCHYARD_GRAPH_FORMAT_SEGMENT) {
      g->segment = switchyard::zeseg::read_segment(desc->data, desc->size);
    } else if (desc->format == ZE_SWITCHYARD_GRAPH_FORMAT_NATIVE) {
      auto p = npusim::from_blob(desc->data, desc->size);
      const uint64_t need = p.arena_bytes + p.weights_bytes();
      if (p.arena_bytes > g->memory_limit || need > g->memory_limit)  // the sum alone could wrap
        throw NpuError(ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY, "npusim: the blob needs " + std::to_string(need) + " bytes, above the limit of " +
                                                                 std::to_string(g->memory_limit));
      g->exe = std::make_shared<npusim::Executor>(std::move(p));
    } else {
      throw NpuError(ZE_RESULT_ERROR_INVALID_ENUMERATION, "npusim: unknown graph format " + std::to_string(desc->format));
    }
    *out = reinterpret_cast<ze_switchyard_graph_handle_t>(g.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL SyGraphCompile(ze_switchyard_graph_handle_t h) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  return guarded([&] {
    std::lock_guard<std::mutex> lk(g->mu);
    if (g->exe) return ZE_RESULT_SUCCESS;
    g->exe = std::make_shared<npusim::Executor>(npusim::compile(g->segment, g->memory_limit));
    g->segment = {};
    return ZE_RESULT_SUCCESS;
  });
}

std::shared_ptr<npusim::Executor> compiled(Graph* g) {
  std::lock_guard<std::mutex> lk(g->mu);
  if (!g->exe) throw NpuError(ZE_RESULT_ERROR_UNINITIALIZED, "npusim: the graph is not compiled (call zeSwitchyardGraphCompile)");
  return g->exe;
}

ze_result_t ZE_APICALL SyGraphGetNativeBinary(ze_switchyard_graph_handle_t h, size_t* size, void* data) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  if (!size) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL size");
  return guarded([&] {
    std::string blob = npusim::to_blob(compiled(g)->program());
    if (data) {
      if (*size < blob.size()) throw NpuError(ZE_RESULT_ERROR_INVALID_SIZE, "npusim: buffer smaller than the blob");
      std::memcpy(data, blob.data(), blob.size());
    }
    *size = blob.size();
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL SyGraphGetProperties(ze_switchyard_graph_handle_t h, ze_switchyard_graph_properties_t* props) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  if (!props) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL properties");
  std::lock_guard<std::mutex> lk(g->mu);
  *props = {};
  props->blob_version = npusim::settings().blob_version;
  props->memory_limit_bytes = g->memory_limit;
  std::strncpy(props->compiler_version, npusim::settings().compiler_version.c_str(), sizeof props->compiler_version - 1);
  if (g->exe) {
    const auto& p = g->exe->program();
    props->compiled = 1;
    props->num_inputs = static_cast<uint32_t>(p.inputs.size());
    props->num_outputs = static_cast<uint32_t>(p.outputs.size());
    props->weights_bytes = p.weights_bytes();
    props->scratch_bytes = p.arena_bytes;
    props->ops = p.op_count;
  } else {
    props->num_inputs = static_cast<uint32_t>(g->segment.inputs.size());
    props->num_outputs = static_cast<uint32_t>(g->segment.outputs.size());
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL SyGraphGetArgument(ze_switchyard_graph_handle_t h, uint32_t is_output, uint32_t index, ze_switchyard_argument_t* arg) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  if (!arg) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL argument");
  return guarded([&] {
    auto exe = compiled(g);
    const auto& ids = is_output ? exe->program().outputs : exe->program().inputs;
    if (index >= ids.size()) throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: argument index out of range");
    const auto& d = exe->program().tensors[static_cast<size_t>(ids[index])];
    if (d.dims.size() > ZE_SWITCHYARD_MAX_RANK) throw NpuError(ZE_RESULT_ERROR_UNSUPPORTED_SIZE, "npusim: argument rank above 8");
    *arg = {};
    arg->elem_type = d.io_dt;
    arg->rank = static_cast<int32_t>(d.dims.size());
    for (size_t i = 0; i < d.dims.size(); ++i) arg->dims[i] = d.dims[i];
    const int bytes = d.io_dt == 1 ? 4 : d.io_dt == 10 ? 2 : 1;
    arg->size_bytes = static_cast<uint64_t>(d.numel()) * static_cast<uint64_t>(bytes);
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL SyAppendGraphExecuteAbortable(ze_command_list_handle_t l, ze_switchyard_graph_handle_t h, uint32_t ni,
                                                     const void* const* in, uint32_t no, void* const* out, ze_event_handle_t abort,
                                                     ze_event_handle_t sig, uint32_t nwait, ze_event_handle_t* waits) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  Event* abort_event = nullptr;
  if (abort && !(abort_event = as<Event>(abort, kEventTag))) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: the abort event is not an event");
  if ((ni && !in) || (no && !out)) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL argument arrays");
  std::shared_ptr<npusim::Executor> exe;
  ze_result_t r = guarded([&] {
    exe = compiled(g);
    const auto& p = exe->program();
    if (ni != p.inputs.size() || no != p.outputs.size())
      throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, "npusim: the graph takes " + std::to_string(p.inputs.size()) + " inputs and " +
                                                           std::to_string(p.outputs.size()) + " outputs");
    auto check = [&](const void* ptr, int32_t t, const char* what, uint32_t i) {
      const auto& d = p.tensors[static_cast<size_t>(t)];
      const size_t bytes = static_cast<size_t>(d.numel()) * (d.io_dt == 1 ? 4 : d.io_dt == 10 ? 2 : 1);
      if (!ptr || !inside_allocation(ptr, bytes))
        throw NpuError(ZE_RESULT_ERROR_INVALID_ARGUMENT, std::string("npusim: ") + what + " " + std::to_string(i) +
                                                             " is not a zeMemAlloc* allocation of at least " + std::to_string(bytes) + " bytes");
    };
    for (uint32_t i = 0; i < ni; ++i) check(in[i], p.inputs[i], "input", i);
    for (uint32_t i = 0; i < no; ++i) check(out[i], p.outputs[i], "output", i);
    return ZE_RESULT_SUCCESS;
  });
  if (r != ZE_RESULT_SUCCESS) return r;
  Command c;
  c.kind = Command::graph;
  c.abort_event = abort_event;
  c.exe = exe;
  c.inputs.assign(in, in + ni);
  c.outputs.assign(out, out + no);
  r = append(l, std::move(c), sig, nwait, waits);
  if (r != ZE_RESULT_SUCCESS && t_last_error.empty()) t_last_error = "npusim: could not append the graph execution";
  return r;
}

ze_result_t ZE_APICALL SyAppendGraphExecute(ze_command_list_handle_t l, ze_switchyard_graph_handle_t h, uint32_t ni, const void* const* in,
                                            uint32_t no, void* const* out, ze_event_handle_t sig, uint32_t nwait, ze_event_handle_t* waits) {
  return SyAppendGraphExecuteAbortable(l, h, ni, in, no, out, nullptr, sig, nwait, waits);
}

ze_result_t ZE_APICALL SyGraphDestroy(ze_switchyard_graph_handle_t h) {
  auto* g = as<Graph>(h, kGraphTag);
  if (!g) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a graph");
  delete g;  // executions in flight keep the executor alive (shared)
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL SyDeviceGetModel(ze_device_handle_t dev, ze_switchyard_device_model_t* m) {
  if (!as<Device>(dev, kDeviceTag)) return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "npusim: not a device of this driver");
  if (!m) return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "npusim: NULL model");
  const auto& s = npusim::settings();
  *m = {};
  m->tops_int8 = s.tops_int8;
  m->tflops_f16 = s.tflops_f16;
  m->active_power_watts = s.watts;
  m->bandwidth_gbps = s.bandwidth_gbps;
  m->launch_overhead_us = 50;
  m->memory_limit_bytes = s.memory_limit_bytes;
  m->blob_version = s.blob_version;
  std::strncpy(m->compiler_version, s.compiler_version.c_str(), sizeof m->compiler_version - 1);
  m->float_compute_type = 10;  // float32 graphs are converted to float16 at compile
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL DriverGetExtensionFunctionAddress(ze_driver_handle_t d, const char* name, void** fn) {
  if (!as<Driver>(d, kDriverTag)) return ZE_RESULT_ERROR_INVALID_NULL_HANDLE;
  if (!name || !fn) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;
  static const std::map<std::string, void*> table = {
      {"zeSwitchyardGetLastError", reinterpret_cast<void*>(&SyGetLastError)},
      {"zeSwitchyardDeviceGetModel", reinterpret_cast<void*>(&SyDeviceGetModel)},
      {"zeSwitchyardGraphQuerySupport", reinterpret_cast<void*>(&SyQuerySupport)},
      {"zeSwitchyardGraphCreate", reinterpret_cast<void*>(&SyGraphCreate)},
      {"zeSwitchyardGraphCompile", reinterpret_cast<void*>(&SyGraphCompile)},
      {"zeSwitchyardGraphGetNativeBinary", reinterpret_cast<void*>(&SyGraphGetNativeBinary)},
      {"zeSwitchyardGraphGetProperties", reinterpret_cast<void*>(&SyGraphGetProperties)},
      {"zeSwitchyardGraphGetArgument", reinterpret_cast<void*>(&SyGraphGetArgument)},
      {"zeSwitchyardCommandListAppendGraphExecute", reinterpret_cast<void*>(&SyAppendGraphExecute)},
      {"zeSwitchyardCommandListAppendGraphExecuteAbortable", reinterpret_cast<void*>(&SyAppendGraphExecuteAbortable)},
      {"zeSwitchyardGraphDestroy", reinterpret_cast<void*>(&SyGraphDestroy)},
  };
  auto it = table.find(name);
  if (it == table.end()) {
    *fn = nullptr;
    return ZE_RESULT_ERROR_INVALID_ARGUMENT;
  }
  *fn = it->second;
  return ZE_RESULT_SUCCESS;
}

bool version_ok(ze_api_version_t v) { return ZE_MAJOR_VERSION(v) == 1; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// The exported table getters the loader looks up.

#define SY_TABLE_BEGIN(name, type)                                                  \
  extern "C" ZE_DLLEXPORT ze_result_t ZE_APICALL name(ze_api_version_t v, type* t) { \
    if (!t) return ZE_RESULT_ERROR_INVALID_NULL_POINTER;                             \
    if (!version_ok(v)) return ZE_RESULT_ERROR_UNSUPPORTED_VERSION;
#define SY_TABLE_END    \
  return ZE_RESULT_SUCCESS; \
  }

SY_TABLE_BEGIN(zeGetGlobalProcAddrTable, ze_global_dditable_t)
t->pfnInit = Init;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetDriverProcAddrTable, ze_driver_dditable_t)
t->pfnGet = DriverGet;
t->pfnGetApiVersion = DriverGetApiVersion;
t->pfnGetProperties = DriverGetProperties;
t->pfnGetIpcProperties = DriverGetIpcProperties;
t->pfnGetExtensionProperties = DriverGetExtensionProperties;
t->pfnGetExtensionFunctionAddress = DriverGetExtensionFunctionAddress;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetDeviceProcAddrTable, ze_device_dditable_t)
*t = {};
t->pfnGet = DeviceGet;
t->pfnGetSubDevices = DeviceGetSubDevices;
t->pfnGetProperties = DeviceGetProperties;
t->pfnGetComputeProperties = DeviceGetComputeProperties;
t->pfnGetCommandQueueGroupProperties = DeviceGetCommandQueueGroupProperties;
t->pfnGetMemoryProperties = DeviceGetMemoryProperties;
t->pfnGetMemoryAccessProperties = DeviceGetMemoryAccessProperties;
t->pfnCanAccessPeer = DeviceCanAccessPeer;
t->pfnGetStatus = DeviceGetStatus;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetContextProcAddrTable, ze_context_dditable_t)
*t = {};
t->pfnCreate = ContextCreate;
t->pfnDestroy = ContextDestroy;
t->pfnGetStatus = ContextGetStatus;
t->pfnCreateEx = ContextCreateEx;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetCommandQueueProcAddrTable, ze_command_queue_dditable_t)
t->pfnCreate = QueueCreate;
t->pfnDestroy = QueueDestroy;
t->pfnExecuteCommandLists = QueueExecute;
t->pfnSynchronize = QueueSynchronize;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetCommandListProcAddrTable, ze_command_list_dditable_t)
*t = {};
t->pfnCreate = ListCreate;
t->pfnCreateImmediate = ListCreateImmediate;
t->pfnDestroy = ListDestroy;
t->pfnClose = ListClose;
t->pfnReset = ListReset;
t->pfnAppendBarrier = AppendBarrier;
t->pfnAppendMemoryRangesBarrier = AppendMemoryRangesBarrier;
t->pfnAppendMemoryCopy = AppendMemoryCopy;
t->pfnAppendMemoryFill = AppendMemoryFill;
t->pfnAppendSignalEvent = AppendSignalEvent;
t->pfnAppendWaitOnEvents = AppendWaitOnEvents;
t->pfnAppendEventReset = AppendEventReset;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetEventPoolProcAddrTable, ze_event_pool_dditable_t)
*t = {};
t->pfnCreate = PoolCreate;
t->pfnDestroy = PoolDestroy;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetEventProcAddrTable, ze_event_dditable_t)
*t = {};
t->pfnCreate = EventCreate;
t->pfnDestroy = EventDestroy;
t->pfnHostSignal = EventHostSignal;
t->pfnHostSynchronize = EventHostSynchronize;
t->pfnQueryStatus = EventQueryStatus;
t->pfnHostReset = EventHostReset;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetFenceProcAddrTable, ze_fence_dditable_t)
t->pfnCreate = FenceCreate;
t->pfnDestroy = FenceDestroy;
t->pfnHostSynchronize = FenceHostSynchronize;
t->pfnQueryStatus = FenceQueryStatus;
t->pfnReset = FenceReset;
SY_TABLE_END

SY_TABLE_BEGIN(zeGetMemProcAddrTable, ze_mem_dditable_t)
*t = {};
t->pfnAllocShared = MemAllocShared;
t->pfnAllocDevice = MemAllocDevice;
t->pfnAllocHost = MemAllocHost;
t->pfnFree = MemFree;
t->pfnGetAllocProperties = MemGetAllocProperties;
t->pfnGetAddressRange = MemGetAddressRange;
SY_TABLE_END

// Tables the simulator does not implement: handed back empty (every entry NULL), which the
// loader accepts; loader 1.8 refuses a driver that lacks the zet*/zes* getters altogether.
#define SY_EMPTY_TABLE(name, type) \
  SY_TABLE_BEGIN(name, type)       \
  *t = {};                         \
  SY_TABLE_END
#include "empty_tables.inc"
