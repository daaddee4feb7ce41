// switchyard cache ls|verify|clear|prune: inspect and maintain the plan cache.
#include <cstdio>
#include <ctime>

#include "args.h"
#include "commands.h"
#include "switchyard/common/json.h"
#include "switchyard/runtime/plan_cache.h"

namespace switchyard::cli {

namespace {
const char* kind_name(const EntryInfo& e) {
  switch (e.kind) {
    case EntryInfo::Kind::entry: return "entry";
    case EntryInfo::Kind::not_a_file: return "not an entry";
    case EntryInfo::Kind::temporary: return e.orphaned ? "orphaned temporary" : "temporary (write in progress)";
  }
  return "";
}

// Says what was removed and what could not be; exit status 1 if anything could not.
int report_cleanup(const CacheCleanup& done, const std::string& what) {
  for (const auto& f : done.failures) std::fprintf(stderr, "switchyard: %s\n", f.c_str());
  std::printf("%s: removed %d, could not remove %zu\n", what.c_str(), done.removed, done.failures.size());
  return done.failures.empty() ? 0 : 1;
}
}  // namespace

int cmd_cache(const std::vector<std::string>& argv) {
  const char* usage = "usage: switchyard cache (ls [--json] | verify | clear | prune) [--cache-dir DIR]";
  if (argv.empty()) return fail(usage, 2);
  const std::string sub = argv[0];
  auto parsed = Args::parse({argv.begin() + 1, argv.end()}, {"--cache-dir"}, {"--json"});
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  if (!parsed->positional().empty()) return fail(usage, 2);
  CacheOptions o;
  if (auto d = parsed->get("--cache-dir")) o.dir = *d;
  PlanCache cache(o);
  if (sub == "ls") {
    auto entries = cache.list();
    if (!entries.ok()) return fail(entries.status().message());
    if (parsed->has("--json")) {
      std::string out = "{\"dir\": " + json::quote(cache.dir().string()) + ", \"entries\": [";
      for (size_t i = 0; i < entries->size(); ++i) {
        const auto& e = (*entries)[i];
        out += std::string(i ? "," : "") + "\n  {\"key\": " + json::quote(e.file.stem().string()) + ", \"kind\": " + json::quote(kind_name(e)) +
               ", \"file_type\": " + json::quote(e.file_type) + ", \"model\": " + json::quote(e.key.model_id) +
               ", \"bytes\": " + std::to_string(e.bytes) + ", \"last_use\": " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(e.last_use.time_since_epoch()).count()) +
               ", \"options\": " + json::quote(e.key.options) + ", \"devices\": [";
        for (size_t k = 0; k < e.segment_devices.size(); ++k) out += std::string(k ? ", " : "") + json::quote(e.segment_devices[k]);
        out += "]}";
      }
      out += "\n]}\n";
      std::fputs(out.c_str(), stdout);
      return 0;
    }
    std::printf("cache: %s\n", cache.dir().c_str());
    if (entries->empty()) std::printf("(no entries)\n");
    uint64_t total = 0;
    for (const auto& e : *entries) {
      std::time_t t = std::chrono::system_clock::to_time_t(e.last_use);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
      if (e.kind != EntryInfo::Kind::entry) {
        std::printf("%-12s  %9.1f kB  %s  %s (%s)\n", e.file.filename().string().substr(0, 12).c_str(), static_cast<double>(e.bytes) / 1024,
                    when, kind_name(e), e.file_type.c_str());
        total += e.bytes;
        continue;
      }
      std::string devices;
      for (const auto& d : e.segment_devices)
        if (devices.find(d) == std::string::npos) devices += (devices.empty() ? "" : ",") + d;
      std::printf("%s  %9.1f kB  %s  %-20s %s\n", e.file.stem().string().substr(0, 12).c_str(), static_cast<double>(e.bytes) / 1024, when,
                  devices.c_str(), e.key.model_id.c_str());
      total += e.bytes;
    }
    std::printf("%zu items, %.1f MB\n", entries->size(), static_cast<double>(total) / 1e6);
    return 0;
  }
  if (sub == "verify") {
    auto r = cache.verify();
    if (!r.ok()) return fail(r.status().message());
    int bad = 0;
    for (const auto& [file, result] : *r) {
      std::printf("%s: %s\n", file.filename().c_str(), result.c_str());
      bad += result != "ok";
    }
    std::printf("%d passed, %d failed, 0 skipped\n", static_cast<int>(r->size()) - bad, bad);
    return bad == 0 ? 0 : 1;
  }
  if (sub == "clear") return report_cleanup(cache.clear(), "cleared " + cache.dir().string());
  if (sub == "prune")
    return report_cleanup(cache.prune(DeviceRegistry::discover()),
                          "pruned " + cache.dir().string() + " (corrupt entries, entries for plugins or drivers no longer present, "
                          "items that are not entries, orphaned temporary files)");
  return fail(usage, 2);
}

}  // namespace switchyard::cli
