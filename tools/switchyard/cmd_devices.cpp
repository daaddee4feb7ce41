// switchyard devices: the compute-availability view.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "switchyard/common/json.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard::cli {

namespace {
std::string gib(uint64_t bytes) {
  char buf[32];
  if (bytes < (uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(bytes) / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  return buf;
}
}  // namespace

int cmd_devices(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, {}, {"--json"});
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  if (!parsed->positional().empty()) return fail("unexpected argument '" + parsed->positional()[0] + "'", 2);
  DeviceRegistry reg = DeviceRegistry::discover();
  if (parsed->has("--json")) {
    std::string out = "{\n  \"devices\": [";
    bool first = true;
    for (const auto& d : reg.devices()) {
      const auto& i = d->info();
      const auto& p = d->plugin_identity();
      out += std::string(first ? "" : ",") + "\n    {\"id\": " + json::quote(d->id()) + ", \"kind\": " + json::quote(device_kind_name(i.kind)) +
             ", \"reported_kind\": " + json::quote(device_kind_name(i.reported_kind)) + ", \"name\": " + json::quote(i.name) +
             ", \"vendor\": " + json::quote(i.vendor) + ", \"driver_version\": " + json::quote(i.driver_version) +
             ", \"identity\": " + json::quote(i.identity) + ", \"plugin\": " + json::quote(p.name) +
             ", \"plugin_version\": " + json::quote(p.version) + ", \"memory_bytes\": " + std::to_string(i.memory_bytes) +
             ", \"peak_gflops_f32\": " + json::number(i.peak_gflops_f32) + ", \"peak_gflops_f16\": " + json::number(i.peak_gflops_f16) +
             ", \"memory_bandwidth_gbps\": " + json::number(i.memory_bandwidth_gbps) +
             ", \"host_link_gbps\": " + json::number(i.host_link_gbps) + ", \"launch_overhead_us\": " + json::number(i.launch_overhead_us) +
             ", \"active_power_watts\": " + json::number(i.active_power_watts) + "}";
      first = false;
    }
    out += "\n  ],\n  \"plugins\": [";
    first = true;
    for (const auto& p : reg.plugins()) {
      out += std::string(first ? "" : ",") + "\n    {\"name\": " + json::quote(p->identity().name) + ", \"vendor\": " +
             json::quote(p->identity().vendor) + ", \"version\": " + json::quote(p->identity().version) +
             ", \"manifest\": " + json::quote(p->manifest().file.string()) + ", \"diagnostics\": " + json::quote(p->diagnostics()) +
             ", \"manifest_warnings\": " + json::string_array(p->manifest().warnings) + "}";
      first = false;
    }
    out += "\n  ],\n  \"failed_plugins\": [";
    first = true;
    for (const auto& f : reg.failures()) {
      out += std::string(first ? "" : ",") + "\n    {\"manifest\": " + json::quote(f.manifest.string()) + ", \"name\": " +
             json::quote(f.name) + ", \"reason\": " + json::quote(f.reason) + "}";
      first = false;
    }
    out += "\n  ]\n}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::printf("%-14s %-6s %-40s %10s %10s %10s  %s\n", "DEVICE", "KIND", "NAME", "MEMORY", "GFLOP/s", "GB/s", "PLUGIN");
  for (const auto& d : reg.devices()) {
    const auto& i = d->info();
    std::string kind = device_kind_name(i.kind);
    if (i.kind != i.reported_kind) kind += " (reports " + std::string(device_kind_name(i.reported_kind)) + ")";
    std::printf("%-14s %-6s %-40s %10s %10.0f %10.1f  %s %s\n", d->id().c_str(), kind.c_str(), i.name.substr(0, 40).c_str(),
                gib(i.memory_bytes).c_str(), i.peak_gflops_f32, i.memory_bandwidth_gbps, d->plugin_identity().name.c_str(),
                d->plugin_identity().version.c_str());
  }
  if (reg.devices().empty()) std::printf("(no devices)\n");
  for (const auto& p : reg.plugins()) {
    std::string diag = p->diagnostics();
    if (!diag.empty()) std::printf("plugin %s: %s\n", p->identity().name.c_str(), diag.c_str());
    for (const auto& w : p->manifest().warnings)
      std::printf("plugin %s: manifest %s: %s\n", p->identity().name.c_str(), p->manifest().file.string().c_str(), w.c_str());
  }
  if (!reg.failures().empty()) {
    std::printf("\nplugins that failed to load:\n");
    for (const auto& f : reg.failures())
      std::printf("  %s (%s): %s\n", f.name.empty() ? "?" : f.name.c_str(), f.manifest.string().c_str(), f.reason.c_str());
  }
  return 0;
}

}  // namespace switchyard::cli
