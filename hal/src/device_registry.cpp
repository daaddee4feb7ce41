// The device registry: discovers plugins along the search path, loads them and lists their devices.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard {

namespace fs = std::filesystem;

namespace {

DeviceKind kind_from_abi(sy_device_kind k) {
  switch (k) {
    case SY_DEVICE_KIND_CPU: return DeviceKind::cpu;
    case SY_DEVICE_KIND_GPU: return DeviceKind::gpu;
    case SY_DEVICE_KIND_NPU: return DeviceKind::npu;
    default: return DeviceKind::other;
  }
}

std::string cstr(const char* s) { return s ? s : ""; }
}  // namespace

DeviceRegistry DeviceRegistry::discover(const DiscoveryOptions& options) {
  DeviceRegistry reg;
  reg.searched_ = plugin_search_path(options);
  std::map<std::string, fs::path> loaded_from;  // plugin name -> its manifest
  for (const auto& dir : reg.searched_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> manifests;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") manifests.push_back(e.path());
    std::sort(manifests.begin(), manifests.end());
    for (const auto& file : manifests) {
      auto m = parse_manifest(file);
      if (!m.ok()) {
        reg.failures_.push_back({file, "", m.status().message()});
        continue;
      }
      if (auto earlier = loaded_from.find(m->name); earlier != loaded_from.end()) {  // shadowed by an earlier folder
        std::error_code same_ec;
        if (!fs::equivalent(earlier->second, file, same_ec))
          reg.failures_.push_back({file, m->name, "not loaded: a plugin named '" + m->name + "' was already loaded from " +
                                                      earlier->second.string() + " (earlier in the search path)"});
        continue;
      }
      if (!options.only_plugins.empty() &&
          std::find(options.only_plugins.begin(), options.only_plugins.end(), m->name) == options.only_plugins.end())
        continue;
      if (!options.only_kinds.empty() && !m->device_kinds.empty() &&
          std::none_of(m->device_kinds.begin(), m->device_kinds.end(), [&](const std::string& k) {
            return std::find(options.only_kinds.begin(), options.only_kinds.end(), k) != options.only_kinds.end();
          }))
        continue;
      auto p = PluginLoader::load(*m);
      if (!p.ok()) {
        reg.failures_.push_back({file, m->name, p.status().message()});
        continue;
      }
      loaded_from[m->name] = file;
      auto plugin = *p;
      size_t count = 0;
      Status st = take_status(SY_CALL_PLUGIN(plugin->api(), device_count, plugin->handle(), &count));
      if (!st.ok()) {
        reg.failures_.push_back({file, m->name, "device_count failed: " + st.message()});
        continue;
      }
      for (size_t i = 0; i < count; ++i) {
        sy_device dev = nullptr;
        st = take_status(SY_CALL_PLUGIN(plugin->api(), device_get, plugin->handle(), i, &dev));
        sy_device_info di{};
        di.struct_size = sizeof di;
        if (st.ok()) st = take_status(SY_CALL_PLUGIN(plugin->api(), device_info, dev, &di));
        if (!st.ok()) {
          reg.failures_.push_back({file, m->name, "device " + std::to_string(i) + ": " + st.message()});
          continue;
        }
        DeviceInfo info;
        info.kind = kind_from_abi(di.kind);
        info.reported_kind = kind_from_abi(di.reported_kind);
        info.name = cstr(di.name);
        info.vendor = cstr(di.vendor);
        info.driver_version = cstr(di.driver_version);
        info.identity = cstr(di.identity);
        info.memory_bytes = di.memory_bytes;
        info.max_allocation_bytes = di.max_allocation_bytes;
        info.peak_gflops_f32 = di.peak_gflops_f32;
        info.peak_gflops_f16 = di.peak_gflops_f16;
        info.memory_bandwidth_gbps = di.memory_bandwidth_gbps;
        info.host_link_gbps = di.host_link_gbps;
        info.launch_overhead_us = di.launch_overhead_us;
        info.active_power_watts = di.active_power_watts;
        info.host_visible_memory = di.host_visible_memory != 0;
        // Since ABI 1.2; a plugin built against an older header fills (and reports) fewer bytes.
        if (di.struct_size >= offsetof(sy_device_info, compute_element_type) + sizeof di.compute_element_type &&
            (di.compute_element_type == SY_ELEM_FLOAT16 || di.compute_element_type == SY_ELEM_BFLOAT16))
          info.compute_element_type = static_cast<ElementType>(di.compute_element_type);
        reg.devices_.push_back(std::make_unique<Device>(plugin, dev, m->name + ":" + std::to_string(i), std::move(info)));
      }
      reg.plugins_.push_back(plugin);
    }
  }
  return reg;
}

Result<const Device*> DeviceRegistry::find(const std::string& id) const {
  for (const auto& d : devices_)
    if (d->id() == id) return d.get();
  std::string known;
  for (const auto& d : devices_) known += (known.empty() ? "" : ", ") + d->id();
  return Status(StatusCode::not_found, "no device '" + id + "' (devices present: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace switchyard
