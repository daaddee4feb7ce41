// The CPU plugin's function table: its noexcept trampolines over the CPU device. Everything
// behind the boundary is C++; every entry here catches all exceptions and returns a status.
// plugin.cpp exports it; tests/test_double_plugin.cpp wraps it as a test double.
#include "plugin_api.h"

#include <omp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "executable.h"
#include "probe_memo.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/plugin_helpers.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace switchyard::cpu {
namespace {

namespace helpers = switchyard::plugin_helpers;

constexpr const char* kName = "cpu";  // the plugin's name, also the source of its log lines

helpers::HostServices g_host;

sy_status make_status(sy_status_code code, const std::string& message) { return g_host.make_status(code, message); }

sy_status from_error(const Error& e) { return make_status(static_cast<sy_status_code>(e.code()), e.what()); }

// Runs `fn`, turning every exception into a status (Error keeps its code).
template <typename Fn>
sy_status guarded(Fn&& fn) noexcept {
  return helpers::guarded(g_host, "cpu plugin", [&]() -> sy_status {
    try {
      return fn();
    } catch (const Error& e) {
      return from_error(e);
    }
  });
}

struct CpuDevice {
  std::string name, vendor = "host", driver_version, identity;
  uint64_t memory = 0;
  double peak_gflops = 0;
  double bandwidth_gbps = 20;
};

struct CpuPlugin {
  int threads = 1;
  bool threads_set = false;  // by the `threads` setting or SWITCHYARD_CPU_THREADS; else chosen per graph by its work
  CpuDevice device;
  std::string diagnostics;
};

// The alignment kernels assume of every tensor's bytes (Tensor::allocate's), so also of host
// memory a buffer imports.
constexpr uintptr_t kBufferAlignment = 64;

struct CpuBuffer {
  // uint8 tensor over the bytes: owning them (64-byte aligned), or a kernel's output handed over
  // directly (no copy), or wrapping host memory it does not own (`imported`).
  Tensor storage;
  size_t size = 0;
  bool imported = false;  // buffer_import_host: the host frees the memory after buffer_release
  std::byte* data() { return static_cast<std::byte*>(storage.raw_mutable()); }
};

struct CpuExecutableHandle {
  std::unique_ptr<CpuExecutable> exe;
};

std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        return v;
      }
    }
  }
  return {};
}

// Host memory bandwidth: one 32 MiB copy after a warm-up copy, (read + write bytes) / time, the
// better of two; STREAM-like, so the buffers are asked for as transparent huge pages, which also
// keeps the probe cheap: first-touching 64 MiB in 4 KiB pages cost ~220 ms of page faults in a VM
// here (every `switchyard` process and every conformance case process pays it), in 2 MiB pages
// ~10 ms. The OpenCL plugin measures its devices with a copy too, so the cost model compares like
// with like. Falls back to 20 GB/s if the buffers cannot be had.
double measure_bandwidth_gbps() {
  const size_t n = size_t{32} << 20;
  struct Unmap {
    size_t n;
    void operator()(char* p) const { ::munmap(p, n); }
  };
  auto map = [&]() -> std::unique_ptr<char, Unmap> {
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return std::unique_ptr<char, Unmap>(nullptr, Unmap{n});
    (void)::madvise(p, n, MADV_HUGEPAGE);  // advice only: 4 KiB pages still work
    return std::unique_ptr<char, Unmap>(static_cast<char*>(p), Unmap{n});
  };
  auto a = map(), b = map();
  if (!a || !b) return 20;
  std::memset(a.get(), 1, n);
  std::memcpy(b.get(), a.get(), n);
  double best = 0;
  for (int rep = 0; rep < 2; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    std::memcpy(b.get(), a.get(), n);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    volatile char sink = b.get()[n / 2];
    (void)sink;
    if (s > 0) best = std::max(best, 2.0 * static_cast<double>(n) / s / 1e9);
  }
  return best > 0 ? best : 20;
}

// The bandwidth measured once per machine: kept in the host's state folder for this plugin, keyed
// by the CPU, its memory and this plugin's version (a different machine or build measures again).
double remembered_bandwidth_gbps(const CpuDevice& d, const std::map<std::string, std::string>& settings) {
  auto dir = settings.find("switchyard.state_dir");
  const std::string folder = dir == settings.end() ? std::string() : dir->second;
  const std::string key = "v1/" + d.name + "/" + std::to_string(d.memory) + "/" + SWITCHYARD_VERSION;
  if (auto v = read_memo(folder, "bandwidth", key)) return *v;
  const double gbps = measure_bandwidth_gbps();
  write_memo(folder, "bandwidth", key, gbps);
  return gbps;
}

CpuDevice probe_device(int threads, const std::map<std::string, std::string>& settings) {
  CpuDevice d;
  d.name = cpuinfo_field("model name");
  if (d.name.empty()) d.name = "host CPU";
  std::string flags = cpuinfo_field("flags");
  const bool avx512 = flags.find("avx512f") != std::string::npos;
  const bool avx2 = flags.find("avx2") != std::string::npos;
  double mhz = 0;
  try {
    mhz = std::stod(cpuinfo_field("cpu MHz"));
  } catch (const std::exception&) {
    mhz = 2000;
  }
  // FP32 FLOPs per cycle per core: two FMA units x vector lanes x 2.
  const double flops_per_cycle = avx512 ? 64 : avx2 ? 32 : 8;
  d.peak_gflops = threads * mhz * 1e-3 * flops_per_cycle;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  d.memory = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
  d.driver_version = std::string("switchyard-cpu ") + SWITCHYARD_VERSION;
  d.identity = "cpu/" + d.name + "/" + (avx512 ? "avx512" : avx2 ? "avx2" : "sse") + "/" + std::to_string(threads) + "t";
  if (auto it = settings.find("peak_gflops"); it != settings.end()) d.peak_gflops = std::stod(it->second);
  if (auto it = settings.find("bandwidth_gbps"); it != settings.end()) d.bandwidth_gbps = std::stod(it->second);
  else d.bandwidth_gbps = remembered_bandwidth_gbps(d, settings);
  return d;
}

void get_info(sy_plugin_info* info) {
  helpers::write_plugin_info(info, kName, "Switchyard", SWITCHYARD_VERSION,
                             "Host CPU: oneDNN for convolutions, matrix products and pooling; native data movement and "
                             "Resize; reference kernels for the rest");
}

sy_status initialize(const sy_setting* const* settings, size_t n, sy_plugin* out) {
  return guarded([&]() -> sy_status {
    if (!out) return make_status(SY_ERROR_INVALID_ARGUMENT, "initialize: out_plugin is NULL");
    const std::map<std::string, std::string> s = helpers::settings_map(settings, n);
    auto p = std::make_unique<CpuPlugin>();
    p->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (auto it = s.find("threads"); it != s.end()) {
      int t = 0;
      try {
        t = std::stoi(it->second);
      } catch (const std::exception&) {
        return make_status(SY_ERROR_INVALID_ARGUMENT, "setting threads='" + it->second + "' is not a number");
      }
      if (t < 0 || t > 1024) return make_status(SY_ERROR_INVALID_ARGUMENT, "setting threads=" + it->second + " is out of range");
      if (t > 0) p->threads = t;
      p->threads_set = t > 0;
    }
    if (const char* env = std::getenv("SWITCHYARD_CPU_THREADS")) {
      try {
        int t = std::stoi(env);
        if (t > 0 && t <= 1024) {
          p->threads = t;
          p->threads_set = true;
        }
      } catch (const std::exception&) {
      }
    }
    omp_set_num_threads(p->threads);
    p->device = probe_device(p->threads, s);
    *out = reinterpret_cast<sy_plugin>(p.release());
    return nullptr;
  });
}

sy_status device_count(sy_plugin, size_t* out) {
  if (out) *out = 1;
  return nullptr;
}

sy_status device_get(sy_plugin plugin, size_t index, sy_device* out) {
  if (!plugin || !out || index != 0) return make_status(SY_ERROR_INVALID_ARGUMENT, "device_get: bad index");
  *out = reinterpret_cast<sy_device>(plugin);  // the device is the plugin itself
  return nullptr;
}

CpuPlugin* plugin_of(sy_device d) { return reinterpret_cast<CpuPlugin*>(d); }
ThreadPolicy thread_policy(const CpuPlugin& p) { return ThreadPolicy(p.threads, !p.threads_set); }

sy_status device_info(sy_device device, sy_device_info* info) {
  return helpers::write_device_info(g_host, device, info, [p = plugin_of(device)](sy_device_info& out) {
    out.kind = SY_DEVICE_KIND_CPU;
    out.reported_kind = SY_DEVICE_KIND_CPU;
    out.name = p->device.name.c_str();
    out.vendor = p->device.vendor.c_str();
    out.driver_version = p->device.driver_version.c_str();
    out.identity = p->device.identity.c_str();
    out.memory_bytes = p->device.memory;
    out.max_allocation_bytes = p->device.memory;
    out.peak_gflops_f32 = p->device.peak_gflops;
    out.peak_gflops_f16 = p->device.peak_gflops / 4;  // no native fp16 arithmetic: converted
    out.memory_bandwidth_gbps = p->device.bandwidth_gbps;
    out.host_link_gbps = 0;  // host memory
    out.launch_overhead_us = 2;
    out.active_power_watts = 15.0 * p->threads;
    out.host_visible_memory = 1;
  });
}

// Hands every node's answer to the host's collector (which copies the strings).
void report_support(const sy_support_report& report, const std::vector<SupportAnswer>& answers) {
  for (size_t i = 0; i < answers.size(); ++i)
    report.node(report.context, i, answers[i].reason, answers[i].message.c_str(), answers[i].implementation.c_str());
}

sy_status query_support(sy_device device, const sy_graph* view, const sy_support_report* report) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !report || !SY_HAS_FIELD(report, sy_support_report, node) || !report->node)
      return make_status(SY_ERROR_INVALID_ARGUMENT, "query_support: NULL argument");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    report_support(*report, support_for_graph(std::move(g).value(), plugin_of(device)->threads));
    return nullptr;
  });
}

sy_status compile(sy_device device, const sy_graph* view, const sy_setting* const*, size_t, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out) return make_status(SY_ERROR_INVALID_ARGUMENT, "compile: NULL argument");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    auto h = std::make_unique<CpuExecutableHandle>();
    h->exe = CpuExecutable::build(std::move(g).value(), thread_policy(*plugin_of(device)));
    *out = reinterpret_cast<sy_executable>(h.release());
    return nullptr;
  });
}

sy_status executable_serialize(sy_executable exe, void* data, size_t capacity, size_t* out_size) {
  return guarded([&]() -> sy_status {
    if (!exe || !out_size) return make_status(SY_ERROR_INVALID_ARGUMENT, "serialize: NULL argument");
    const CpuExecutable& e = *reinterpret_cast<CpuExecutableHandle*>(exe)->exe;
    *out_size = e.serialized_size();
    if (!data) return nullptr;
    if (capacity < *out_size) return make_status(SY_ERROR_INVALID_ARGUMENT, "serialize: buffer too small");
    e.serialize_to(static_cast<char*>(data));
    return nullptr;
  });
}

// Rebuilds an executable: the kernels its bytes name, the constants it prepared (used where they
// lie when the host keeps the bytes: `in_place`). Logs how the build went (host log, info level),
// which load reports show.
sy_status restore(sy_device device, const sy_graph* view, const void* data, size_t size, bool in_place, sy_executable* out) {
  return guarded([&]() -> sy_status {
    if (!device || !view || !out || (!data && size)) return make_status(SY_ERROR_INVALID_ARGUMENT, "restore: NULL argument");
    auto g = graph_from_view(view);
    if (!g.ok()) return make_status(SY_ERROR_INVALID_ARGUMENT, g.status().message());
    auto serialized = CpuExecutable::parse(data, size, g->nodes.size(), in_place);
    auto h = std::make_unique<CpuExecutableHandle>();
    h->exe = CpuExecutable::build(std::move(g).value(), thread_policy(*plugin_of(device)), &serialized);
    g_host.log(SY_LOG_INFO, kName, "restore: " + h->exe->build_note());
    *out = reinterpret_cast<sy_executable>(h.release());
    return nullptr;
  });
}

sy_status executable_restore(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  return restore(device, view, data, size, false, out);
}

// SWITCHYARD_CPU_IN_PLACE=0 copies prepared constants even when the host keeps the bytes (for
// measuring what in-place use costs or saves).
sy_status executable_restore_in_place(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  const char* env = std::getenv("SWITCHYARD_CPU_IN_PLACE");
  return restore(device, view, data, size, !(env && std::strcmp(env, "0") == 0), out);
}

void executable_release(sy_executable exe) { delete reinterpret_cast<CpuExecutableHandle*>(exe); }

sy_status buffer_alloc(sy_device device, size_t size, sy_buffer* out) {
  return guarded([&]() -> sy_status {
    if (!device || !out) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_alloc: NULL argument");
    auto b = std::make_unique<CpuBuffer>();
    b->storage = Tensor::allocate(ElementType::uint8, {static_cast<int64_t>(size)});
    b->size = size;
    *out = reinterpret_cast<sy_buffer>(b.release());
    return nullptr;
  });
}

// Wraps the host's memory without copying and without owning it. Refuses memory kernels could not
// use in place (less than 64-byte aligned): the host then copies into an allocated buffer.
sy_status buffer_import_host(sy_device device, void* host_memory, size_t size, sy_buffer* out) {
  return guarded([&]() -> sy_status {
    if (!device || !host_memory || !out) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_import_host: NULL argument");
    if (reinterpret_cast<uintptr_t>(host_memory) % kBufferAlignment != 0)
      return make_status(SY_ERROR_UNSUPPORTED, "buffer_import_host: host memory is not " + std::to_string(kBufferAlignment) +
                                                   "-byte aligned");
    auto b = std::make_unique<CpuBuffer>();
    b->storage = Tensor::wrap(ElementType::uint8, {static_cast<int64_t>(size)}, nullptr, host_memory, size);
    b->size = size;
    b->imported = true;
    *out = reinterpret_cast<sy_buffer>(b.release());
    return nullptr;
  });
}

void buffer_release(sy_buffer b) { delete reinterpret_cast<CpuBuffer*>(b); }
size_t buffer_size(sy_buffer b) { return b ? reinterpret_cast<CpuBuffer*>(b)->size : 0; }

sy_status buffer_write(sy_buffer b, size_t offset, const void* src, size_t size) {
  auto* buf = reinterpret_cast<CpuBuffer*>(b);
  if (!buf || (!src && size)) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_write: NULL argument");
  if (offset > buf->size || size > buf->size - offset) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_write: out of bounds");
  if (size) std::memcpy(buf->data() + offset, src, size);
  return nullptr;
}

sy_status buffer_read(sy_buffer b, size_t offset, void* dst, size_t size) {
  auto* buf = reinterpret_cast<CpuBuffer*>(b);
  if (!buf || (!dst && size)) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_read: NULL argument");
  if (offset > buf->size || size > buf->size - offset) return make_status(SY_ERROR_INVALID_ARGUMENT, "buffer_read: out of bounds");
  if (size) std::memcpy(dst, buf->data() + offset, size);
  return nullptr;
}

void* buffer_map(sy_buffer b) { return b ? reinterpret_cast<CpuBuffer*>(b)->data() : nullptr; }

// Host memory that imported input buffers wrap. An output handed to the host must not alias it:
// the host may free that memory once it releases the input buffer, while it still holds the output.
class BorrowedMemory {
 public:
  void note(const CpuBuffer& b) {
    if (b.imported && b.size) ranges_.push_back({reinterpret_cast<uintptr_t>(b.storage.raw()), b.size});
  }
  bool holds(const Tensor& t) const {
    const auto begin = reinterpret_cast<uintptr_t>(t.raw());
    for (const auto& [start, size] : ranges_)
      if (begin < start + size && start < begin + t.byte_size()) return true;
    return false;
  }

 private:
  std::vector<std::pair<uintptr_t, size_t>> ranges_;
};

// Wraps an argument buffer as a host tensor without copying (strings are decoded); notes the
// host memory it borrows.
Tensor tensor_of(const sy_tensor_arg* a, BorrowedMemory& borrowed) {
  if (!a || !SY_HAS_FIELD(a, sy_tensor_arg, dims)) throw_error(StatusCode::invalid_argument, "execute: bad input argument");
  auto* buf = reinterpret_cast<CpuBuffer*>(a->buffer);
  auto type = element_type_from_int(a->elem_type);
  if (!buf || !type || a->rank < 0 || (a->rank > 0 && !a->dims))
    throw_error(StatusCode::invalid_argument, "execute: bad input argument");
  Shape shape(a->dims, a->dims + a->rank);
  if (*type == ElementType::string) {
    auto n = shape_numel(shape);
    if (!n) throw_error(StatusCode::invalid_argument, "execute: bad string input shape");
    auto strings = decode_strings(buf->data(), buf->size, *n);
    if (!strings.ok()) throw Error(strings.status().code(), strings.status().message());
    return Tensor::from_strings(shape, std::move(strings).value());
  }
  auto need = shape_numel(shape) ? storage_bytes(*type, *shape_numel(shape)) : std::nullopt;
  if (!need || *need > buf->size) throw_error(StatusCode::invalid_argument, "execute: input buffer smaller than its shape");
  borrowed.note(*buf);
  std::shared_ptr<const void> owner(buf->storage.raw(), [keep = buf->storage](const void*) {});
  return Tensor::wrap(*type, shape, owner, buf->data(), *need);
}

// A uint8 tensor holding a copy of `size` bytes.
Tensor copy_of_bytes(const void* src, size_t size) {
  Tensor t = Tensor::allocate(ElementType::uint8, {static_cast<int64_t>(size)});
  if (size) std::memcpy(t.raw_mutable(), src, size);
  return t;
}

// A new buffer holding `t`'s bytes (strings encoded): the kernel's storage itself where it can be
// handed over, a copy where it is host memory an input borrowed.
sy_buffer new_buffer(const Tensor& t, const BorrowedMemory& borrowed) {
  auto b = std::make_unique<CpuBuffer>();
  if (t.type() == ElementType::string) {
    const std::string encoded = encode_strings(t.strings());
    b->storage = copy_of_bytes(encoded.data(), encoded.size());
    b->size = encoded.size();
  } else {
    const bool hand_over = t.byte_size() > 0 && !borrowed.holds(t);
    // Handed over, the storage keeps its element type: irrelevant to byte access.
    b->storage = hand_over ? t.reshaped({t.numel()}) : copy_of_bytes(t.raw(), t.byte_size());
    b->size = t.byte_size();
  }
  return reinterpret_cast<sy_buffer>(b.release());
}

// Writes `t`'s bytes (strings encoded) into a buffer the host sized; returns that buffer.
sy_buffer write_into(sy_buffer buffer, const Tensor& t) {
  auto* buf = reinterpret_cast<CpuBuffer*>(buffer);
  std::string encoded;
  const void* src = t.raw();
  size_t size = t.byte_size();
  if (t.type() == ElementType::string) {
    encoded = encode_strings(t.strings());
    src = encoded.data();
    size = encoded.size();
  }
  if (buf->size < size) throw_error(StatusCode::invalid_argument, "execute: preallocated output buffer is too small");
  if (size) std::memmove(buf->data(), src, size);  // memmove: the host may pass an input's buffer
  return buffer;
}

// Hands a result tensor to the host (into the buffer it gave, or as a new one) with its type and
// shape (any rank: set_tensor_out takes host storage past dims_capacity).
sy_status emit_output(const Tensor& t, sy_tensor_out* out, const BorrowedMemory& borrowed) {
  if (!out || !SY_HAS_FIELD(out, sy_tensor_out, dims_capacity))
    throw_error(StatusCode::invalid_argument, "execute: bad output argument");
  sy_buffer buffer = out->buffer ? write_into(out->buffer, t) : new_buffer(t, borrowed);
  return helpers::set_tensor_out(g_host, out, buffer, static_cast<int32_t>(t.type()), static_cast<int32_t>(t.rank()),
                                 t.shape().data());
}

// Value arguments (sequences, optionals) to host Values.
Value value_of(const sy_value_arg* a, BorrowedMemory& borrowed) {
  if (!a || !SY_HAS_FIELD(a, sy_value_arg, tensors) || (a->num_tensors && !a->tensors))
    throw_error(StatusCode::invalid_argument, "execute: bad input value");
  Value v;
  const bool optional = a->kind == SY_VALUE_OPTIONAL;
  const sy_value_kind k = optional ? a->element_kind : a->kind;
  v.is_optional = optional;
  if (optional && !a->has_value) return v;  // empty optional
  if (k == SY_VALUE_SEQUENCE) {
    std::vector<Tensor> items;
    for (size_t i = 0; i < a->num_tensors; ++i) items.push_back(tensor_of(a->tensors[i], borrowed));
    v.kind = Value::Kind::sequence;
    v.sequence = std::move(items);
    return v;
  }
  if (a->num_tensors != 1) throw_error(StatusCode::invalid_argument, "execute: a tensor value needs exactly one tensor");
  v.kind = Value::Kind::tensor;
  v.tensor = tensor_of(a->tensors[0], borrowed);
  return v;
}

// Sets the value's kinds and hands each of its tensors to the host as a new buffer.
sy_status emit_value(const Value& v, sy_value_out* out, const BorrowedMemory& borrowed) {
  if (!out || !SY_HAS_FIELD(out, sy_value_out, append_tensor) || !out->append_tensor)
    throw_error(StatusCode::invalid_argument, "execute: bad output value");
  out->kind = v.is_optional ? SY_VALUE_OPTIONAL : (v.kind == Value::Kind::sequence ? SY_VALUE_SEQUENCE : SY_VALUE_TENSOR);
  out->element_kind = v.kind == Value::Kind::sequence ? SY_VALUE_SEQUENCE : SY_VALUE_TENSOR;
  out->has_value = v.kind != Value::Kind::none;
  std::vector<const Tensor*> items;
  if (v.kind == Value::Kind::tensor) items.push_back(&v.tensor);
  for (const auto& t : v.sequence) items.push_back(&t);
  for (const Tensor* t : items) {
    sy_buffer buffer = new_buffer(*t, borrowed);  // the host's from here on, also when appending fails
    if (sy_status st = out->append_tensor(out->context, buffer, static_cast<int32_t>(t->type()), static_cast<int32_t>(t->rank()),
                                          t->shape().data()))
      return st;
  }
  return nullptr;
}

// The value form (sequences, optionals) rather than plain tensors; the host sets one form only.
bool uses_values(const sy_execute_args* args) { return args->input_values || args->output_values; }

// Whether the form's arrays are there for the arguments the executable takes.
bool has_arrays(const sy_execute_args* args, bool values) {
  const bool inputs = values ? args->input_values != nullptr : args->inputs != nullptr;
  const bool outputs = values ? args->output_values != nullptr : args->outputs != nullptr;
  return (inputs || !args->num_inputs) && (outputs || !args->num_outputs);
}

// The cancel flag and the memory limit, where the host's arguments hold them.
reference::RunLimits limits_of(const sy_execute_args* args) {
  reference::RunLimits limits;
  if (SY_HAS_FIELD(args, sy_execute_args, cancel_flag)) limits.cancel_flag = args->cancel_flag;
  if (SY_HAS_FIELD(args, sy_execute_args, max_memory_bytes)) limits.max_memory_bytes = args->max_memory_bytes;
  return limits;
}

// The host's receiver and clock when it traces this execution; nullopt when it does not (the run
// then reads no clock).
std::optional<NodeProfiler> profiler_of(const sy_execute_args* args) {
  if (!SY_HAS_FIELD(args, sy_execute_args, profiler) || !args->profiler) return std::nullopt;
  const sy_profiler* sink = args->profiler;
  const sy_host_api* host = g_host.get();
  if (!SY_HAS_FIELD(sink, sy_profiler, node_event) || !sink->node_event || !host || !SY_HAS_FIELD(host, sy_host_api, now_ns) ||
      !host->now_ns)
    return std::nullopt;
  return NodeProfiler{sink, host->now_ns};
}

std::vector<Value> inputs_of(const sy_execute_args* args, bool values, BorrowedMemory& borrowed) {
  std::vector<Value> inputs;
  inputs.reserve(args->num_inputs);
  for (size_t i = 0; i < args->num_inputs; ++i)
    inputs.push_back(values ? value_of(args->input_values[i], borrowed) : Value::of(tensor_of(args->inputs[i], borrowed)));
  return inputs;
}

sy_status emit_outputs(const CpuExecutable& e, const std::vector<Value>& outputs, const sy_execute_args* args, bool values,
                       const BorrowedMemory& borrowed) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (values) {
      if (sy_status st = emit_value(outputs[i], args->output_values[i], borrowed)) return st;
      continue;
    }
    if (outputs[i].kind != Value::Kind::tensor)
      throw_error(StatusCode::unsupported, "output '" + e.graph().value_name(e.graph().outputs[i]) +
                                               "' is a sequence or optional; the host must pass output_values");
    if (sy_status st = emit_output(outputs[i].tensor, args->outputs[i], borrowed)) return st;
  }
  return nullptr;
}

sy_status execute(sy_executable exe, const sy_execute_args* args) {
  if (!exe || !args || !SY_HAS_FIELD(args, sy_execute_args, on_complete) || !args->on_complete)
    return make_status(SY_ERROR_INVALID_ARGUMENT, "execute: NULL argument");
  const auto& e = *reinterpret_cast<CpuExecutableHandle*>(exe)->exe;
  if (args->num_inputs != e.graph().inputs.size() || args->num_outputs != e.graph().outputs.size())
    return make_status(SY_ERROR_INVALID_ARGUMENT, "execute: expected " + std::to_string(e.graph().inputs.size()) + " inputs and " +
                                                      std::to_string(e.graph().outputs.size()) + " outputs");
  const bool values = uses_values(args);
  if (!has_arrays(args, values)) return make_status(SY_ERROR_INVALID_ARGUMENT, "execute: NULL argument array");
  // Runs on the calling thread and completes before returning (allowed by the ABI).
  sy_status st = guarded([&]() -> sy_status {
    BorrowedMemory borrowed;
    const std::vector<Value> inputs = inputs_of(args, values, borrowed);
    const std::optional<NodeProfiler> profiler = profiler_of(args);
    const std::vector<Value> outputs = e.run(inputs, limits_of(args), profiler ? &*profiler : nullptr);
    return emit_outputs(e, outputs, args, values, borrowed);
  });
  args->on_complete(args->user_data, st);
  return nullptr;
}

// Designated, so that the compiler checks the table's order against the header's.
const sy_plugin_api kApi = {
    .struct_size = sizeof(sy_plugin_api),
    .abi_major = SY_ABI_VERSION_MAJOR,
    .abi_minor = SY_ABI_VERSION_MINOR,
    .get_info = get_info,
    .initialize = initialize,
    .shutdown = helpers::delete_plugin<CpuPlugin>,
    .get_diagnostics = helpers::plugin_diagnostics<CpuPlugin>,
    .device_count = device_count,
    .device_get = device_get,
    .device_info = device_info,
    .query_support = query_support,
    .compile = compile,
    .executable_serialize = executable_serialize,
    .executable_restore = executable_restore,
    .executable_release = executable_release,
    .buffer_alloc = buffer_alloc,
    .buffer_release = buffer_release,
    .buffer_size = buffer_size,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .execute = execute,
    .buffer_map = buffer_map,
    .executable_restore_in_place = executable_restore_in_place,
    .buffer_import_host = buffer_import_host,
};

}  // namespace

const sy_plugin_api& plugin_api(const sy_host_api* host) {
  g_host.set(host);
  return kApi;
}

}  // namespace switchyard::cpu
