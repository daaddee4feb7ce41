// The `api` suite: the plugin ABI's contract (plugin_abi.h), checked on any plugin by calling its
// function table directly: identity and devices, structs of other sizes (R2), buffers, support
// answers against compile, execute with its outputs, completions counted, cancellation and
// concurrency, and lifetime (release orders, repeated loads). Each check is one case; a case that
// needs a model uses the first small model the device claims (abi_probe.h) and is skipped with
// the device's own answers when it claims none. Optional functions the plugin leaves NULL skip
// their cases, saying so.
#include <algorithm>
#include <cstring>
#include <functional>

#include "abi_probe.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard::conformance {

namespace {

using namespace abi;

CaseSpec device_case(std::string name, DeviceBody body) { return abi::device_case("api", std::move(name), std::move(body)); }

// ---- Identity and devices ----

constexpr unsigned char kCanary = 0xA5;
constexpr size_t kCanaryBytes = 64;

template <typename T>
struct Filled {
  T value{};
  std::string problem;  // "" when the plugin kept to the host's bytes
};

// Has `fill` fill a T the host allocated with `host_size` bytes (struct_size set, every other byte
// zero, R2), in a block of canary bytes: the plugin must write nothing past host_size and must not
// claim more in struct_size.
template <typename T>
Filled<T> fill_host_struct(size_t host_size, const std::function<Status(T*)>& fill) {
  std::vector<unsigned char> block(std::max(host_size, sizeof(T)) + kCanaryBytes, kCanary);
  std::fill(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(host_size), 0);
  T* t = reinterpret_cast<T*>(block.data());
  t->struct_size = host_size;
  Filled<T> out;
  if (Status st = fill(t); !st.ok()) {
    out.problem = "failed: " + describe(st);
    return out;
  }
  for (size_t i = host_size; i < block.size(); ++i)
    if (block[i] != kCanary) {
      out.problem = "wrote byte " + std::to_string(i) + ", past the host's struct_size " + std::to_string(host_size);
      return out;
    }
  if (t->struct_size > host_size) {
    out.problem = "set struct_size to " + std::to_string(t->struct_size) + ", more than the " + std::to_string(host_size) + " bytes the host allocated";
    return out;
  }
  std::memcpy(static_cast<void*>(&out.value), block.data(), std::min(host_size, sizeof(T)));
  return out;
}

std::function<Status(sy_plugin_info*)> get_info_of(const AbiDevice& d) {
  return [&d](sy_plugin_info* info) {
    SY_CALL_PLUGIN(*d.api, get_info, info);
    return Status();
  };
}

std::function<Status(sy_device_info*)> device_info_of(const AbiDevice& d) {
  return [&d](sy_device_info* info) { return take_status(SY_CALL_PLUGIN(*d.api, device_info, d.device, info)); };
}

bool empty(const char* s) { return !s || !*s; }

CaseResult get_info_identity(const AbiDevice& d) {
  auto f = fill_host_struct<sy_plugin_info>(sizeof(sy_plugin_info), get_info_of(d));
  if (!f.problem.empty()) return failed("struct_size", "get_info " + f.problem);
  const std::string manifest = d.host_device->plugin()->manifest().name;
  if (empty(f.value.name) || manifest != f.value.name)
    return failed("identity", "get_info names the plugin '" + std::string(f.value.name ? f.value.name : "(NULL)") + "'; its manifest says '" + manifest + "'");
  if (empty(f.value.version)) return failed("identity", "get_info gives no version (plan-cache keys include it)");
  return passed(std::string(f.value.name) + " " + f.value.version);
}

// An older host's shorter sy_plugin_info: struct_size and name only.
CaseResult get_info_short_struct(const AbiDevice& d) {
  const size_t host_size = offsetof(sy_plugin_info, name) + sizeof(const char*);
  auto f = fill_host_struct<sy_plugin_info>(host_size, get_info_of(d));
  if (!f.problem.empty()) return failed("struct_size", "get_info on a " + std::to_string(host_size) + "-byte sy_plugin_info " + f.problem);
  if (empty(f.value.name)) return failed("identity", "get_info on a short sy_plugin_info gave no name");
  return passed();
}

std::string device_info_problem(const sy_device_info& info) {
  auto kind_ok = [](sy_device_kind k) { return k >= SY_DEVICE_KIND_CPU && k <= SY_DEVICE_KIND_OTHER; };
  const int32_t c = info.compute_element_type;
  if (!kind_ok(info.kind) || !kind_ok(info.reported_kind))
    return "device kinds " + std::to_string(info.kind) + "/" + std::to_string(info.reported_kind) + " are not sy_device_kind values";
  if (empty(info.name)) return "no device name";
  if (empty(info.identity)) return "no identity (plan-cache keys and shared executables depend on it)";
  if (c != 0 && c != SY_ELEM_FLOAT32 && c != SY_ELEM_FLOAT16 && c != SY_ELEM_BFLOAT16)
    return "compute_element_type " + std::to_string(c) + " is none of 0, FLOAT32, FLOAT16, BFLOAT16";
  return {};
}

CaseResult device_info_fields(const AbiDevice& d) {
  auto f = fill_host_struct<sy_device_info>(sizeof(sy_device_info), device_info_of(d));
  if (!f.problem.empty()) return failed("struct_size", "device_info " + f.problem);
  if (std::string p = device_info_problem(f.value); !p.empty()) return failed("device_info", p);
  return passed(std::string(f.value.name) + " (" + f.value.identity + ")");
}

// An older host's shorter sy_device_info: up to reported_kind.
CaseResult device_info_short_struct(const AbiDevice& d) {
  const size_t host_size = offsetof(sy_device_info, name);
  auto f = fill_host_struct<sy_device_info>(host_size, device_info_of(d));
  if (!f.problem.empty()) return failed("struct_size", "device_info on a " + std::to_string(host_size) + "-byte sy_device_info " + f.problem);
  return passed();
}

// A newer host's longer sy_device_info: the plugin fills what it knows and leaves the rest.
CaseResult device_info_newer_host(const AbiDevice& d) {
  const size_t host_size = sizeof(sy_device_info) + 64;
  auto f = fill_host_struct<sy_device_info>(host_size, device_info_of(d));
  if (!f.problem.empty()) return failed("struct_size", "device_info on a " + std::to_string(host_size) + "-byte sy_device_info " + f.problem);
  if (std::string p = device_info_problem(f.value); !p.empty()) return failed("device_info", p);
  return passed();
}

CaseResult diagnostics_string(const AbiDevice& d) {
  const char* text = SY_CALL_PLUGIN(*d.api, get_diagnostics, d.plugin);
  if (!text) return failed("get_diagnostics", "get_diagnostics returned NULL (the contract allows \"\", not NULL)");
  return passed(text);
}

CaseResult devices_listed(const AbiDevice& d) {
  size_t count = 0;
  if (Status st = take_status(SY_CALL_PLUGIN(*d.api, device_count, d.plugin, &count)); !st.ok()) return failed("device_count", describe(st));
  if (count == 0) return failed("device_count", "0 devices, yet the host lists " + d.id);
  for (size_t i = 0; i < count; ++i) {
    sy_device device = nullptr;
    Status st = take_status(SY_CALL_PLUGIN(*d.api, device_get, d.plugin, i, &device));
    if (!st.ok() || !device) return failed("device_get", "device_get(" + std::to_string(i) + ") of " + std::to_string(count) + ": " + (st.ok() ? "no device" : describe(st)));
    sy_device_info info{};
    info.struct_size = sizeof info;
    if (Status st2 = take_status(SY_CALL_PLUGIN(*d.api, device_info, device, &info)); !st2.ok())
      return failed("device_info", "device " + std::to_string(i) + ": " + describe(st2));
  }
  return passed(std::to_string(count) + " device(s)");
}

CaseResult device_get_out_of_range(const AbiDevice& d) {
  size_t count = 0;
  if (Status st = take_status(SY_CALL_PLUGIN(*d.api, device_count, d.plugin, &count)); !st.ok()) return failed("device_count", describe(st));
  for (size_t index : {count, count + 1, SIZE_MAX}) {
    sy_device device = nullptr;
    Status st = take_status(SY_CALL_PLUGIN(*d.api, device_get, d.plugin, index, &device));
    if (std::string p = refusal_problem(st); !p.empty())
      return failed("device_get", "device_get(" + std::to_string(index) + ") with " + std::to_string(count) + " device(s) " + p);
  }
  return passed();
}

// ---- Loading again ----

// A second load of the plugin (as a second registry makes): its own initialize and, when the
// LoadedPlugin goes, its own shutdown.
Result<std::shared_ptr<LoadedPlugin>> load_again(const AbiDevice& d) {
  return PluginLoader::load(d.host_device->plugin()->manifest());
}

CaseResult shutdown_with_nothing_open(const AbiDevice& d) {
  constexpr int kLoads = 3;
  for (int i = 0; i < kLoads; ++i) {
    auto loaded = load_again(d);
    if (!loaded.ok()) return failed("initialize", "load " + std::to_string(i + 1) + ": " + describe(loaded.status()));
    size_t count = 0;
    if (Status st = take_status(SY_CALL_PLUGIN((*loaded)->api(), device_count, (*loaded)->handle(), &count)); !st.ok())
      return failed("device_count", "load " + std::to_string(i + 1) + ": " + describe(st));
  }  // each load's shutdown runs here, with nothing open
  return passed(std::to_string(kLoads) + " loads, each shut down with nothing open");
}

}  // namespace

Result<std::vector<CaseSpec>> api_cases(const SuiteConfig&) {
  std::vector<CaseSpec> cases = {
      device_case("get_info_identity", get_info_identity),
      device_case("get_info_short_struct", get_info_short_struct),
      device_case("device_info_fields", device_info_fields),
      device_case("device_info_short_struct", device_info_short_struct),
      device_case("device_info_newer_host", device_info_newer_host),
      device_case("get_diagnostics_string", diagnostics_string),
      device_case("device_count_and_get", devices_listed),
      device_case("device_get_out_of_range", device_get_out_of_range),
      device_case("lifetime_shutdown_with_nothing_open", shutdown_with_nothing_open),
  };
  for (auto* more : {&abi::api_buffer_cases, &abi::api_support_cases, &abi::api_execute_cases, &abi::api_concurrency_cases,
                       &abi::api_lifetime_cases})
    for (auto& c : more()) cases.push_back(std::move(c));
  return cases;
}

}  // namespace switchyard::conformance
