/* plugin_helpers.h: OPTIONAL C++ helpers for the boilerplate every plugin's ABI entry repeats
 * (host statuses and log lines, exceptions to statuses, settings, copying identity and device
 * structs out with struct_size, device lists, the entry point's ABI check).
 *
 * Plugins may use it but need not: the ABI is plugin_abi.h alone, and C plugins use that header
 * only. Header-only, C++17, depending on nothing but plugin_abi.h and the standard library, so a
 * vendor plugin built outside this tree can take it as it is. */
#ifndef SWITCHYARD_PLUGIN_HELPERS_H_
#define SWITCHYARD_PLUGIN_HELPERS_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <utility>

#include "switchyard/plugin_abi.h"

namespace switchyard::plugin_helpers {

// The host's services as SwitchyardPluginGetApi received them. Atomic because the host may call
// the entry point again (another load of the same library) while other threads use the plugin.
class HostServices {
 public:
  void set(const sy_host_api* host) noexcept { host_.store(host, std::memory_order_release); }
  const sy_host_api* get() const noexcept { return host_.load(std::memory_order_acquire); }

  // A failure status; NULL when no host was given (nobody could own or free the status).
  sy_status make_status(sy_status_code code, const std::string& message) const {
    const sy_host_api* host = get();
    return host ? host->make_status(code, message.c_str()) : nullptr;
  }

  // A line in the host's log, when the host logs at all.
  void log(sy_log_level level, const char* plugin_name, const std::string& message) const {
    const sy_host_api* host = get();
    if (host && host->log) host->log(level, plugin_name, message.c_str());
  }

 private:
  std::atomic<const sy_host_api*> host_{nullptr};
};

// Runs `fn` (which returns a sy_status) so that no exception crosses the C boundary: what escapes
// becomes "<prefix>: out of host memory", "<prefix>: <what()>" or "<prefix>: unknown exception".
// A plugin whose own exception type carries a status code catches that inside `fn`, since only
// it knows the type.
template <typename Fn>
sy_status guarded(const HostServices& host, const char* prefix, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return host.make_status(SY_ERROR_OUT_OF_MEMORY, std::string(prefix) + ": out of host memory");
  } catch (const std::exception& e) {
    return host.make_status(SY_ERROR_INTERNAL, std::string(prefix) + ": " + e.what());
  } catch (...) {
    return host.make_status(SY_ERROR_INTERNAL, std::string(prefix) + ": unknown exception");
  }
}

// The manifest's settings as a map: a NULL key or value reads as "", a repeated key keeps its
// last value.
inline std::map<std::string, std::string> settings_map(const sy_setting* const* settings, size_t count) {
  std::map<std::string, std::string> map;
  for (size_t i = 0; settings && i < count; ++i) {
    const sy_setting* s = settings[i];
    if (s) map[s->key ? s->key : ""] = s->value ? s->value : "";
  }
  return map;
}

// One node's support answer, as a plugin works it out before reporting it (any length).
struct NodeAnswer {
  sy_support_reason reason = SY_SUPPORTED;
  std::string message;         // why not
  std::string implementation;  // how it runs
};

// Reports answers[i] for node i through the host's collector.
template <typename Answers>
void report_answers(const sy_support_report* report, const Answers& answers) {
  size_t i = 0;
  for (const NodeAnswer& a : answers) {
    report->node(report->context, i++, a.reason, a.message.c_str(), a.implementation.c_str());
  }
}

// Writes an output's type and shape into the host's sy_tensor_out (any rank: past dims_capacity
// the dims array comes from the host's allocator, which the host frees) and hands over `buffer`
// when the host gave none. Fails only when out of host memory.
inline sy_status set_tensor_out(const HostServices& host, sy_tensor_out* out, sy_buffer buffer, int32_t elem_type,
                                int32_t rank, const int64_t* dims) {
  if (!out->buffer) out->buffer = buffer;
  out->elem_type = elem_type;
  out->rank = rank;
  const size_t n = rank > 0 ? static_cast<size_t>(rank) : 0;
  if (n > out->dims_capacity) {
    void* more = host.get()->allocate(n * sizeof(int64_t));
    if (!more) return host.make_status(SY_ERROR_OUT_OF_MEMORY, "out of host memory for an output's shape");
    out->dims = static_cast<int64_t*>(more);
  }
  if (n) std::memcpy(out->dims, dims, n * sizeof(int64_t));
  return nullptr;
}

// The `kind` setting's words (cpu, gpu, npu, other); false for any other word.
inline bool parse_device_kind(const std::string& word, sy_device_kind* kind) {
  static const std::pair<const char*, sy_device_kind> kWords[] = {
      {"cpu", SY_DEVICE_KIND_CPU}, {"gpu", SY_DEVICE_KIND_GPU}, {"npu", SY_DEVICE_KIND_NPU}, {"other", SY_DEVICE_KIND_OTHER}};
  for (const auto& [name, value] : kWords) {
    if (word == name) {
      *kind = value;
      return true;
    }
  }
  return false;
}

// Copies a struct the plugin filled (struct_size = sizeof ours) into the caller's, which may be
// from an older or newer header: no more bytes than the caller's struct_size says it holds (0 is
// read as ours), and never more than ours. Returns how many bytes were copied.
template <typename AbiStruct>
size_t copy_struct_out(const AbiStruct& filled, AbiStruct* dest) {
  const size_t n = std::min(dest->struct_size ? dest->struct_size : sizeof filled, sizeof filled);
  std::memcpy(static_cast<void*>(dest), &filled, n);
  return n;
}

// get_info's whole body. The strings must be static (the ABI says so). As much as the caller's
// struct holds is filled, and struct_size then says how much: never more than the caller's.
inline void write_plugin_info(sy_plugin_info* info, const char* name, const char* vendor, const char* version,
                              const char* description) {
  if (!info) return;
  sy_plugin_info out{};
  out.struct_size = sizeof out;
  out.name = name;
  out.vendor = vendor;
  out.version = version;
  out.description = description;
  info->struct_size = copy_struct_out(out, info);
}

// device_info's frame: the NULL check, a zeroed struct of ours for `fill(sy_device_info&)` to
// fill, then as much of it as the caller's struct holds, with struct_size saying how much.
template <typename Fill>
sy_status write_device_info(const HostServices& host, sy_device device, sy_device_info* info, Fill&& fill) {
  if (!device || !info) return host.make_status(SY_ERROR_INVALID_ARGUMENT, "device_info: NULL argument");
  sy_device_info out{};
  out.struct_size = sizeof out;
  fill(out);
  info->struct_size = copy_struct_out(out, info);
  return nullptr;
}

// Table entries for a plugin whose handle is a `Plugin*` owning its devices as
// `std::vector<std::unique_ptr<Device>> devices` (a device handle is the Device* itself) and its
// state as `std::string diagnostics`. `host` is the plugin's HostServices object, so that the
// entries go straight into the table: `count_devices<MyPlugin, g_host>`.
template <typename Plugin>
void delete_plugin(sy_plugin plugin) {
  delete reinterpret_cast<Plugin*>(plugin);
}

template <typename Plugin>
const char* plugin_diagnostics(sy_plugin plugin) {
  return plugin ? reinterpret_cast<const Plugin*>(plugin)->diagnostics.c_str() : "";
}

template <typename Plugin, const HostServices& host>
sy_status count_devices(sy_plugin plugin, size_t* out) {
  if (!plugin || !out) return host.make_status(SY_ERROR_INVALID_ARGUMENT, "device_count: NULL argument");
  *out = reinterpret_cast<const Plugin*>(plugin)->devices.size();
  return nullptr;
}

template <typename Plugin, const HostServices& host>
sy_status get_device(sy_plugin plugin, size_t index, sy_device* out) {
  const auto* p = reinterpret_cast<const Plugin*>(plugin);
  if (!p || !out || index >= p->devices.size()) return host.make_status(SY_ERROR_INVALID_ARGUMENT, "device_get: bad index");
  *out = reinterpret_cast<sy_device>(p->devices[index].get());
  return nullptr;
}

// What SwitchyardPluginGetApi answers once the plugin has noted `host`: its table always (the
// host reports a mismatch itself and needs the table's versions for that), and
// SY_ERROR_ABI_MISMATCH when the host speaks another major version.
inline sy_status answer_get_api(uint32_t host_abi_major, const sy_host_api* host, const sy_plugin_api& api,
                                const sy_plugin_api** out_api) {
  if (out_api) *out_api = &api;
  if (host_abi_major != SY_ABI_VERSION_MAJOR)
    return host ? host->make_status(SY_ERROR_ABI_MISMATCH, ("this plugin speaks ABI " + std::to_string(SY_ABI_VERSION_MAJOR) + ".x").c_str()) : nullptr;
  return nullptr;
}

}  // namespace switchyard::plugin_helpers

#endif  // SWITCHYARD_PLUGIN_HELPERS_H_
