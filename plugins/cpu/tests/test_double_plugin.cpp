// TEST DOUBLE: plugin "test_double", the CPU plugin in disguise, for partitioner, multi-device
// and plan-cache tests; never installed. One device whose kind (setting `kind`: cpu, gpu, npu or
// other; gpu when absent), cost figures (peak_gflops, bandwidth_gbps, host_link_gbps,
// launch_overhead_us, power_watts, driver_version) and claimed operators (`ops`, a comma list;
// absent or empty: every op the CPU plugin runs) come from its manifest's settings. What it
// accepts runs on the host CPU.
//
// A decorator over the CPU plugin's function table (plugin_api.h): get_info, initialize,
// shutdown, device_info, query_support and compile are its own, delegating to the CPU entries and
// then adjusting; every other entry is the CPU plugin's. Built twice (tests/CMakeLists.txt):
// test_double, and test_double_v2 with a newer SWITCHYARD_VERSION for "plugin updated" tests.
//
// What it reports is, to the byte, what it reported when it was the CPU plugin's own source
// compiled a second time with the double's parts switched on: messages, names, figures, log lines.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>

#include "plugin_api.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/plugin_helpers.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace {

namespace helpers = switchyard::plugin_helpers;

constexpr const char* kName = "test_double";
constexpr const char* kVendor = "Switchyard tests";

helpers::HostServices g_host;                      // the host, as the double was given it
std::atomic<const sy_plugin_api*> g_cpu{nullptr};  // the CPU plugin's table the double wraps

const sy_plugin_api& cpu() { return *g_cpu.load(std::memory_order_acquire); }

// Exceptions to statuses as the CPU plugin turns them (its prefix too: the double's statuses
// always read as the CPU plugin's did).
template <typename Fn>
sy_status guarded(Fn&& fn) noexcept {
  return helpers::guarded(g_host, "cpu plugin", [&]() -> sy_status {
    try {
      return fn();
    } catch (const switchyard::Error& e) {
      return g_host.make_status(static_cast<sy_status_code>(e.code()), e.what());
    }
  });
}

// What the manifest made of one double's device; written in initialize, then only read.
struct DoubleDevice {
  sy_plugin plugin = nullptr;  // the CPU plugin handle it belongs to
  std::set<std::string> ops;   // the operators it claims; empty: every op the CPU plugin runs
  sy_device_kind kind = SY_DEVICE_KIND_GPU;
  std::map<std::string, std::string> figures;  // all its settings; the cost figures among them
  std::string name, identity, driver_version;

  bool claims(const std::string& op_type) const { return ops.empty() || ops.count(op_type); }
};

// The doubles alive, by the CPU device handle (which the host hands back to every device entry).
// An entry lives from initialize to shutdown, so the strings device_info lends stay valid as
// long as the ABI promises; entries never change, so a found one is read without the lock.
//
// Static storage with trivial destructors only (a constant-initialised mutex, an array of plain
// pairs): a host may shut the double down from its own static destructors, which can run after
// this library's, so nothing here may be destroyed at exit; and nothing may stay on the heap
// after the last shutdown either, or a leak checker sees it once the library is unloaded.
class DoubleDevices {
 public:
  static constexpr size_t kCapacity = 16;  // doubles alive at once in one process

  bool add(sy_device device, std::unique_ptr<DoubleDevice> d) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_)
      if (!e.device) {
        e.device = device;
        e.double_device = d.release();
        return true;
      }
    return false;
  }
  const DoubleDevice* find(sy_device device) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : entries_)
      if (e.device == device) return e.double_device;
    return nullptr;
  }
  void remove_plugin(sy_plugin plugin) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_)
      if (e.device && e.double_device->plugin == plugin) {
        delete e.double_device;
        e = Entry{};
      }
  }

 private:
  struct Entry {
    sy_device device = nullptr;
    DoubleDevice* double_device = nullptr;  // owned
  };
  mutable std::mutex mu_;
  Entry entries_[kCapacity];
};

static_assert(std::is_trivially_destructible_v<DoubleDevices>, "destroyed at exit, before a host's late shutdown");
DoubleDevices g_doubles;
DoubleDevices& doubles() { return g_doubles; }

double setting_or(const std::map<std::string, std::string>& s, const char* key, double fallback) {
  auto it = s.find(key);
  if (it == s.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

// The `ops` setting: a comma list; spaces around names are dropped, empty names ignored.
std::set<std::string> parse_ops(const std::string& list) {
  std::set<std::string> ops;
  std::stringstream ss(list);
  std::string op;
  while (std::getline(ss, op, ',')) {
    op.erase(0, op.find_first_not_of(' '));
    op.erase(op.find_last_not_of(' ') + 1);
    if (!op.empty()) ops.insert(op);
  }
  return ops;
}

// The CPU code names its build in its driver version ("switchyard-cpu <version>"); the double
// names its own build there (v2 a newer one), as when it was the CPU source compiled with the
// double's SWITCHYARD_VERSION. A `driver_version` setting (a driver update, for plan-cache tests:
// same plugin version, another driver version) replaces it all.
std::string driver_version_of(const char* cpu_driver_version, const std::map<std::string, std::string>& figures) {
  if (auto it = figures.find("driver_version"); it != figures.end()) return it->second;
  std::string version = cpu_driver_version ? cpu_driver_version : "";
  sy_plugin_info cpu_info{};
  cpu_info.struct_size = sizeof cpu_info;
  cpu().get_info(&cpu_info);
  const std::string cpu_build = cpu_info.version ? cpu_info.version : "";
  const size_t at = version.size() - std::min(version.size(), cpu_build.size());
  if (!cpu_build.empty() && version.compare(at, std::string::npos, cpu_build) == 0)
    version.replace(at, cpu_build.size(), SWITCHYARD_VERSION);
  return version;
}

// Reads the double's settings for the CPU plugin `plugin` has just started and remembers them.
sy_status register_double(sy_plugin plugin, const std::map<std::string, std::string>& settings) {
  auto d = std::make_unique<DoubleDevice>();
  d->plugin = plugin;
  if (auto it = settings.find("ops"); it != settings.end()) d->ops = parse_ops(it->second);
  if (auto it = settings.find("kind"); it != settings.end() && !helpers::parse_device_kind(it->second, &d->kind))
    return g_host.make_status(SY_ERROR_INVALID_ARGUMENT, "setting kind='" + it->second + "' must be cpu, gpu, npu or other");
  const char* like = d->kind == SY_DEVICE_KIND_GPU ? "gpu" : d->kind == SY_DEVICE_KIND_NPU ? "npu" : "cpu";
  d->name = "test double (" + std::string(like) + "-like)";
  d->identity = std::string(kName) + "/" + d->name;
  d->figures = settings;
  sy_device device = nullptr;
  if (sy_status st = cpu().device_get(plugin, 0, &device)) return st;
  sy_device_info cpu_device{};
  cpu_device.struct_size = sizeof cpu_device;
  if (sy_status st = cpu().device_info(device, &cpu_device)) return st;
  d->driver_version = driver_version_of(cpu_device.driver_version, d->figures);
  if (!doubles().add(device, std::move(d)))
    return g_host.make_status(SY_ERROR_OUT_OF_MEMORY, "test double: more than " + std::to_string(DoubleDevices::kCapacity) +
                                                          " instances alive at once");
  return nullptr;
}

void get_info(sy_plugin_info* info) {
  helpers::write_plugin_info(info, kName, kVendor, SWITCHYARD_VERSION,
                             "TEST DOUBLE: runs on the host CPU, claims only the ops its manifest lists (for partitioner tests)");
}

// The CPU plugin starts first (its settings, such as threads, are checked as before), then the
// double reads its own; the CPU plugin is shut down again when those are wrong.
sy_status initialize(const sy_setting* const* settings, size_t n, sy_plugin* out) {
  if (!out) return cpu().initialize(settings, n, out);  // the CPU plugin's NULL-argument status
  sy_plugin plugin = nullptr;
  if (sy_status st = cpu().initialize(settings, n, &plugin)) return st;
  if (sy_status st = guarded([&] { return register_double(plugin, helpers::settings_map(settings, n)); })) {
    cpu().shutdown(plugin);
    return st;
  }
  *out = plugin;
  return nullptr;
}

void shutdown(sy_plugin plugin) {
  doubles().remove_plugin(plugin);
  cpu().shutdown(plugin);
}

// The CPU device's answer, with the kind, names and cost figures the manifest gives the double.
void describe_double(const DoubleDevice& d, sy_device_info& out) {
  out.kind = d.kind;
  out.reported_kind = d.kind;
  out.name = d.name.c_str();
  out.vendor = kVendor;
  out.driver_version = d.driver_version.c_str();
  out.identity = d.identity.c_str();
  out.peak_gflops_f32 = setting_or(d.figures, "peak_gflops", 2000);
  out.peak_gflops_f16 = out.peak_gflops_f32 * 2;
  out.memory_bandwidth_gbps = setting_or(d.figures, "bandwidth_gbps", 200);
  out.host_link_gbps = setting_or(d.figures, "host_link_gbps", 16);
  out.launch_overhead_us = setting_or(d.figures, "launch_overhead_us", 10);
  out.active_power_watts = setting_or(d.figures, "power_watts", 40);
}

sy_status device_info(sy_device device, sy_device_info* info) {
  const DoubleDevice* d = device ? doubles().find(device) : nullptr;
  if (!d || !info) return cpu().device_info(device, info);  // the CPU plugin's NULL-argument status
  sy_device_info out{};
  out.struct_size = sizeof out;
  if (sy_status st = cpu().device_info(device, &out)) return st;
  describe_double(*d, out);
  info->struct_size = helpers::copy_struct_out(out, info);
  return nullptr;
}

std::string op_type_of(const sy_node& node) { return node.op_type ? node.op_type : ""; }

// The CPU plugin's answer stands for the operators the double claims; the other nodes are refused
// by a second answer, which replaces the CPU plugin's in the host's collector.
sy_status query_support(sy_device device, const sy_graph* view, const sy_support_report* report) {
  sy_status st = cpu().query_support(device, view, report);
  const DoubleDevice* d = st || !device || !view || !report ? nullptr : doubles().find(device);
  if (!d) return st;
  return guarded([&]() -> sy_status {
    for (size_t i = 0; i < view->num_nodes; ++i) {
      const std::string op_type = op_type_of(*view->nodes[i]);
      if (d->claims(op_type)) continue;
      const std::string message = "test double: " + op_type + " is not in the manifest's ops list";
      report->node(report->context, i, SY_UNSUPPORTED_OP, message.c_str(), nullptr);
    }
    return nullptr;
  });
}

// compile's refusal: the first node whose operator the double does not claim, described as the
// CPU plugin describes nodes. NULL when it claims them all, or when the view is one the CPU
// plugin's compile rejects anyway (it reports that, as it did before any refusal).
sy_status refuse_unclaimed(const DoubleDevice& d, const sy_graph* view) {
  if (view->struct_size < sizeof(sy_graph)) return nullptr;
  size_t first = 0;
  while (first < view->num_nodes && d.claims(op_type_of(*view->nodes[first]))) ++first;
  if (first == view->num_nodes) return nullptr;
  auto g = switchyard::graph_from_view(view);
  if (!g.ok()) return nullptr;
  const switchyard::Node& n = g->nodes[first];
  return g_host.make_status(SY_ERROR_UNSUPPORTED, n.describe() + ": test double: " + n.op_type + " is not in the manifest's ops list");
}

sy_status compile(sy_device device, const sy_graph* view, const sy_setting* const* options, size_t num_options,
                  sy_executable* out) {
  const DoubleDevice* d = device && view && out ? doubles().find(device) : nullptr;
  if (d) {
    if (sy_status refusal = guarded([&] { return refuse_unclaimed(*d, view); })) return refusal;
  }
  return cpu().compile(device, view, options, num_options, out);
}

// The CPU code logs as "cpu"; the double's lines must name the double, as when it was the CPU
// source compiled as plugin "test_double". So the CPU table is given a copy of the host's
// services whose log relabels them: one copy per host, made once and never changed (the CPU
// entries read it without a lock) and never freed.
void log_as_double(sy_log_level level, const char*, const char* message) { g_host.log(level, kName, message ? message : ""); }

// One relabelled copy per host (a process has one host; tests may load the double a few times).
// Plain structs in static storage, never freed and never destroyed, for the reasons above.
struct HostCopy {
  const sy_host_api* host = nullptr;
  sy_host_api copy{};
};
static_assert(std::is_trivially_destructible_v<HostCopy> && std::is_trivially_destructible_v<std::mutex>);
std::mutex g_host_copies_mu;
HostCopy g_host_copies[4];

const sy_host_api* relabelled(const sy_host_api* host) {
  if (!host) return nullptr;
  std::lock_guard<std::mutex> lock(g_host_copies_mu);
  for (auto& c : g_host_copies) {
    if (c.host == host) return &c.copy;
    if (c.host) continue;
    const size_t n = std::min(host->struct_size, sizeof(sy_host_api));  // an older host's table is shorter
    std::memcpy(&c.copy, host, n);
    c.copy.struct_size = n;
    if (c.copy.log) c.copy.log = log_as_double;
    c.host = host;
    return &c.copy;
  }
  return host;  // more hosts than copies: lines are labelled "cpu", nothing else changes
}

// Setting `refuse_restore: "true"`: the double no longer reads the executables it serialised (as a
// plugin update that changed its format), for the plan cache's stale-entry test.
sy_status restore_or_refuse(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out, bool in_place) {
  const DoubleDevice* d = device ? doubles().find(device) : nullptr;
  if (d && d->figures.count("refuse_restore") && d->figures.at("refuse_restore") == "true")
    return g_host.make_status(SY_ERROR_UNSUPPORTED, "test double: this build no longer reads that executable format");
  return in_place ? cpu().executable_restore_in_place(device, view, data, size, out) : cpu().executable_restore(device, view, data, size, out);
}
sy_status executable_restore(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  return restore_or_refuse(device, view, data, size, out, false);
}
sy_status executable_restore_in_place(sy_device device, const sy_graph* view, const void* data, size_t size, sy_executable* out) {
  return restore_or_refuse(device, view, data, size, out, true);
}

const sy_plugin_api& double_api(const sy_plugin_api& cpu_api) {
  static const sy_plugin_api api = [&] {
    sy_plugin_api t = cpu_api;  // every entry not replaced below is the CPU plugin's
    t.get_info = get_info;
    t.initialize = initialize;
    t.shutdown = shutdown;
    t.device_info = device_info;
    t.query_support = query_support;
    t.compile = compile;
    t.executable_restore = executable_restore;
    if (t.executable_restore_in_place) t.executable_restore_in_place = executable_restore_in_place;
    return t;
  }();
  return api;
}

}  // namespace

extern "C" SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t, const sy_host_api* host,
                                                             const sy_plugin_api** out_api) {
  g_host.set(host);
  const sy_plugin_api& cpu_api = switchyard::cpu::plugin_api(relabelled(host));
  g_cpu.store(&cpu_api, std::memory_order_release);
  return helpers::answer_get_api(host_abi_major, host, double_api(cpu_api), out_api);
}
