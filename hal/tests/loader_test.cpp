// Loader tests: broken plugins are reported with their exact reason and skipped; the CPU
// plugin (a real plugin, found in the build tree) still loads beside them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "switchyard/hal/manifest.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard {
namespace {

std::string reason_for(const DeviceRegistry& reg, const std::string& manifest_file) {
  for (const auto& f : reg.failures())
    if (f.manifest.filename() == manifest_file) return f.reason;
  return "<not reported>";
}

// `switchyard devices ARGS` with SWITCHYARD_PLUGIN_PATH=plugin_path: its wait status and output.
struct CliRun {
  bool started = false;
  int status = -1;
  std::string output;
};

CliRun run_devices(const std::string& plugin_path, const std::string& args) {
  const std::string cmd = "SWITCHYARD_PLUGIN_PATH='" + plugin_path + "' '" + SWITCHYARD_CLI + "' devices" + args + " 2>&1";
  CliRun run;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return run;
  run.started = true;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) run.output.append(buf, n);
  run.status = ::pclose(p);
  return run;
}

TEST(Loader, BrokenPluginsAreReportedAndSkipped) {
  DiscoveryOptions opts;
  opts.extra_paths = {SWITCHYARD_BROKEN_PLUGIN_DIR};
  opts.use_environment = false;
  DeviceRegistry reg = DeviceRegistry::discover(opts);

  EXPECT_NE(reason_for(reg, "a_missing_library.yaml").find("libswitchyard_plugin_that_does_not_exist.so' not found"), std::string::npos)
      << reason_for(reg, "a_missing_library.yaml");
  EXPECT_NE(reason_for(reg, "b_no_entry.yaml").find("does not export the entry point SwitchyardPluginGetApi"), std::string::npos)
      << reason_for(reg, "b_no_entry.yaml");
  EXPECT_NE(reason_for(reg, "c_abi_major.yaml").find("library was built for ABI 3.0, this host speaks ABI 2." ), std::string::npos)
      << reason_for(reg, "c_abi_major.yaml");
  // A plugin built before ABI 2.0: refused by its manifest and by its library, naming the versions.
  EXPECT_NE(reason_for(reg, "i_abi_1_library.yaml").find("library was built for ABI 1.4, this host speaks ABI 2." + std::to_string(SY_ABI_VERSION_MINOR) +
                                                         " and no longer loads 1.x plugins: rebuild the plugin against plugin_abi.h 2.x"),
            std::string::npos)
      << reason_for(reg, "i_abi_1_library.yaml");
  EXPECT_NE(reason_for(reg, "d_init_fails.yaml").find("initialize failed: simulated driver failure"), std::string::npos)
      << reason_for(reg, "d_init_fails.yaml");
  EXPECT_NE(reason_for(reg, "e_malformed.yaml").find("malformed YAML at line"), std::string::npos)
      << reason_for(reg, "e_malformed.yaml");
  EXPECT_NE(reason_for(reg, "f_manifest_abi1.yaml").find("manifest declares ABI 1.4, this host speaks ABI 2." + std::to_string(SY_ABI_VERSION_MINOR) +
                                                          " and no longer loads 1.x plugins"),
            std::string::npos)
      << reason_for(reg, "f_manifest_abi1.yaml");
  EXPECT_NE(reason_for(reg, "g_missing_field.yaml").find("missing field 'library'"), std::string::npos)
      << reason_for(reg, "g_missing_field.yaml");
  // The dynamic loader's own reason, without the errno text Boost.DLL appends ("Bad file descriptor").
  const std::string needs = reason_for(reg, "h_needs_missing_library.yaml");
  EXPECT_NE(needs.find("libsy_gone.so: cannot open shared object file"), std::string::npos) << needs;
  EXPECT_EQ(needs.find("Bad file descriptor"), std::string::npos) << needs;
  EXPECT_NE(reason_for(reg, "j_tab.yaml").find("line 5 is indented with a tab"), std::string::npos) << reason_for(reg, "j_tab.yaml");
  EXPECT_NE(reason_for(reg, "k_newer_minor.yaml").find("manifest declares ABI 2.99, a newer minor than this host's 2."), std::string::npos)
      << reason_for(reg, "k_newer_minor.yaml");
  EXPECT_EQ(reg.failures().size(), 11u);

  auto cpu = reg.find("cpu:0");
  ASSERT_TRUE(cpu.ok()) << cpu.status().to_string();
  EXPECT_EQ((*cpu)->info().kind, DeviceKind::cpu);
  EXPECT_EQ((*cpu)->plugin_identity().name, "cpu");
}

TEST(Loader, OnlyPluginsLoadsJustThoseNamed) {
  // The broken plugins beside the build tree's are not even loaded; only manifests that cannot
  // be read (so their name is unknown) are still reported.
  DiscoveryOptions opts;
  opts.extra_paths = {SWITCHYARD_BROKEN_PLUGIN_DIR};
  opts.use_environment = false;
  opts.only_plugins = {"cpu"};
  DeviceRegistry reg = DeviceRegistry::discover(opts);
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_EQ(reg.plugins()[0]->manifest().name, "cpu");
  EXPECT_TRUE(reg.find("cpu:0").ok());
  for (const auto& f : reg.failures()) EXPECT_TRUE(f.name.empty()) << "tried " << f.manifest << ": " << f.reason;
  EXPECT_EQ(reason_for(reg, "d_init_fails.yaml"), "<not reported>");
  opts.only_plugins = {"no_such_plugin"};
  EXPECT_TRUE(DeviceRegistry::discover(opts).devices().empty());
}

TEST(Loader, UnknownDeviceListsTheDevicesPresent) {
  DeviceRegistry reg = DeviceRegistry::discover();
  auto d = reg.find("opencl:7");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("devices present: cpu:0"), std::string::npos) << d.status().message();
}

TEST(Loader, SearchPathOrder) {
  ::setenv("SWITCHYARD_PLUGIN_PATH", "/first:/second", 1);
  auto path = plugin_search_path({});
  ::unsetenv("SWITCHYARD_PLUGIN_PATH");
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0], "/first");
  EXPECT_EQ(path[1], "/second");
}

// A directory or a FIFO named like a manifest is listed as a failure with the reason: no crash
// (a directory used to abort discovery with an uncaught exception), no hang (a FIFO used to block
// discovery forever in open()).
TEST(Loader, ManifestsThatAreNotFilesAreReportedNotFollowed) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "odd_manifests";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "folder.yaml");
  ASSERT_EQ(::mkfifo((dir / "fifo.yaml").c_str(), 0644), 0);
  DiscoveryOptions opts;
  opts.extra_paths = {dir};
  opts.use_environment = false;
  opts.use_default_paths = false;
  auto reg = DeviceRegistry::discover(opts);
  ASSERT_EQ(reg.failures().size(), 2u);
  for (const auto& f : reg.failures()) {
    const bool folder = f.manifest.filename() == "folder.yaml";
    EXPECT_NE(f.reason.find(folder ? "is a directory, not a file" : "is not a regular file"), std::string::npos) << f.reason;
  }
}

// A plugin library cut short (a partial copy, a full disk) used to kill the host with SIGBUS inside
// the dynamic loader; now it is checked against its ELF headers first and reported.
TEST(Loader, TruncatedLibrariesAreReportedNotLoaded) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "truncated_plugins";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto full = std::filesystem::file_size(SWITCHYARD_CPU_PLUGIN_LIBRARY);
  const std::vector<uintmax_t> sizes = {0, 63, 100, 1000, 4096, 65536, full / 2, full - 1};
  for (uintmax_t size : sizes) {
    const std::string lib = "libcut_" + std::to_string(size) + ".so";
    std::filesystem::copy_file(SWITCHYARD_CPU_PLUGIN_LIBRARY, dir / lib);
    std::filesystem::resize_file(dir / lib, size);
    std::ofstream(dir / ("cut_" + std::to_string(size) + ".yaml")) << "name: cpu\nlibrary: " << lib << "\nabi_version: \"2.0\"\n";
  }
  DiscoveryOptions opts;
  opts.extra_paths = {dir};
  opts.use_environment = false;
  opts.use_default_paths = false;
  auto reg = DeviceRegistry::discover(opts);
  EXPECT_TRUE(reg.devices().empty());
  ASSERT_EQ(reg.failures().size(), sizes.size());
  for (uintmax_t size : sizes) {
    const std::string reason = reason_for(reg, "cut_" + std::to_string(size) + ".yaml");
    const bool elf_header_whole = size >= 64;
    EXPECT_NE(reason.find(elf_header_whole ? "is truncated" : "is not an ELF file"), std::string::npos) << size << ": " << reason;
  }
}

// Two folders each with a valid plugin of the same name: the first wins, and the second is listed
// with the reason (it used to be ignored without a word).
TEST(Loader, ASecondPluginWithTheSameNameIsReported) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "same_name_plugins";
  std::filesystem::remove_all(dir);
  for (const char* sub : {"first", "second"}) {
    std::filesystem::create_directories(dir / sub);
    std::ofstream(dir / sub / "cpu.yaml") << "name: cpu\nlibrary: " << SWITCHYARD_CPU_PLUGIN_LIBRARY << "\nabi_version: \"2.0\"\n";
  }
  DiscoveryOptions opts;
  opts.extra_paths = {dir / "first", dir / "second"};
  opts.use_environment = false;
  opts.use_default_paths = false;
  auto reg = DeviceRegistry::discover(opts);
  ASSERT_EQ(reg.devices().size(), 1u);
  ASSERT_EQ(reg.failures().size(), 1u);
  EXPECT_EQ(reg.failures()[0].manifest, dir / "second" / "cpu.yaml");
  EXPECT_NE(reg.failures()[0].reason.find("already loaded from " + (dir / "first" / "cpu.yaml").string()), std::string::npos)
      << reg.failures()[0].reason;
}

TEST(Manifest, AbiVersionsPastUint32AreRefused) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "abi_overflow";
  std::filesystem::create_directories(dir);
  for (const char* abi : {"4294967297.1", "1.4294967296", "99999999999999999999"}) {
    std::ofstream(dir / "p.yaml") << "name: sample\nlibrary: libsample.so\nabi_version: \"" << abi << "\"\n";
    auto m = parse_manifest(dir / "p.yaml");
    ASSERT_FALSE(m.ok()) << abi;
    EXPECT_NE(m.status().message().find("larger than 4294967295"), std::string::npos) << m.status().message();
  }
}

TEST(Manifest, ParsesSettingsAndResolvesTheLibrary) {
  auto dir = std::filesystem::temp_directory_path() / ("sy_manifest_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "p.yaml");
    out << "name: sample\nlibrary: libsample.so\nabi_version: \"2.0\"\nsettings:\n  threads: 4\n  kind: gpu\n";
  }
  auto m = parse_manifest(dir / "p.yaml");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->name, "sample");
  EXPECT_EQ(m->library, dir / "libsample.so");
  EXPECT_EQ(m->abi_major, 2u);
  EXPECT_EQ(m->abi_minor, 0u);
  ASSERT_EQ(m->settings.size(), 2u);
  EXPECT_EQ(m->settings[0].first, "threads");
  EXPECT_EQ(m->settings[0].second, "4");
}

TEST(Cli, DevicesListsBrokenPluginsBesideTheCpu) {
  const CliRun run = run_devices(SWITCHYARD_BROKEN_PLUGIN_DIR, "");
  const std::string& out = run.output;
  ASSERT_TRUE(run.started);
  ASSERT_TRUE(WIFEXITED(run.status));
  EXPECT_EQ(WEXITSTATUS(run.status), 0) << out;
  EXPECT_NE(out.find("cpu:0"), std::string::npos) << out;
  EXPECT_NE(out.find("plugins that failed to load"), std::string::npos) << out;
  EXPECT_NE(out.find("does not export the entry point"), std::string::npos) << out;
  EXPECT_NE(out.find("built for ABI 3.0"), std::string::npos) << out;
  EXPECT_NE(out.find("built for ABI 1.4, this host speaks ABI 2."), std::string::npos) << out;
  EXPECT_NE(out.find("manifest declares ABI 1.4"), std::string::npos) << out;
  EXPECT_NE(out.find("indented with a tab"), std::string::npos) << out;
  EXPECT_NE(out.find("a newer minor than this host's"), std::string::npos) << out;
  EXPECT_NE(out.find("not found"), std::string::npos) << out;
}

TEST(Manifest, UnknownKeysAreWarningsWithTheNearestKnownKey) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "unknown_keys";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "p.yaml") << "name: sample\nlibrary: libsample.so\nabi_version: \"2.0\"\nsetings:\n  threads: \"2\"\nflavour: x\n";
  auto m = parse_manifest(dir / "p.yaml");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_EQ(m->warnings.size(), 2u);
  EXPECT_NE(m->warnings[0].find("unknown key 'setings' (did you mean 'settings'?); it is ignored"), std::string::npos) << m->warnings[0];
  EXPECT_NE(m->warnings[1].find("unknown key 'flavour'; it is ignored"), std::string::npos) << m->warnings[1];
  EXPECT_TRUE(m->settings.empty());
}

TEST(Manifest, AYamlErrorOnATabSaysSo) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "tab";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "p.yaml") << "name: sample\nlibrary: libsample.so\nabi_version: \"2.0\"\nsettings:\n\tthreads: \"2\"\n";
  auto m = parse_manifest(dir / "p.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("malformed YAML at line"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("line 5 is indented with a tab; YAML indents with spaces only"), std::string::npos)
      << m.status().message();
}

TEST(Loader, AManifestMinorNewerThanTheHostsIsRefusedWithBothVersions) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "newer_minor";
  std::filesystem::create_directories(dir);
  const std::string too_new = "2." + std::to_string(SY_ABI_VERSION_MINOR + 1);
  std::ofstream(dir / "cpu_newer.yaml") << "name: cpu\nlibrary: " << SWITCHYARD_CPU_PLUGIN_LIBRARY << "\nabi_version: \"" << too_new << "\"\n";
  DiscoveryOptions opts;
  opts.extra_paths = {dir.string()};
  opts.use_environment = false;
  opts.use_default_paths = false;
  DeviceRegistry reg = DeviceRegistry::discover(opts);
  EXPECT_TRUE(reg.devices().empty());
  const std::string reason = reason_for(reg, "cpu_newer.yaml");
  EXPECT_NE(reason.find("manifest declares ABI " + too_new + ", a newer minor than this host's 2." + std::to_string(SY_ABI_VERSION_MINOR)),
            std::string::npos) << reason;
  // The same library under its own minor loads.
  std::ofstream(dir / "cpu_newer.yaml") << "name: cpu\nlibrary: " << SWITCHYARD_CPU_PLUGIN_LIBRARY << "\nabi_version: \"2."
                                        << SY_ABI_VERSION_MINOR << "\"\n";
  DeviceRegistry again = DeviceRegistry::discover(opts);
  EXPECT_TRUE(again.find("cpu:0").ok()) << reason_for(again, "cpu_newer.yaml");
}

TEST(Cli, DevicesShowsManifestWarningsInTheTableAndTheJson) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "warned";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cpu.yaml") << "name: cpu\nlibrary: " << SWITCHYARD_CPU_PLUGIN_LIBRARY << "\nabi_version: \"2.0\"\nsetings:\n  threads: \"1\"\n";
  for (const char* form : {"", " --json"}) {
    const CliRun run = run_devices(dir.string(), form);
    const std::string& out = run.output;
    ASSERT_TRUE(run.started);
    ASSERT_TRUE(WIFEXITED(run.status));
    EXPECT_EQ(WEXITSTATUS(run.status), 0) << out;
    EXPECT_NE(out.find("cpu:0"), std::string::npos) << out;
    EXPECT_NE(out.find("unknown key 'setings' (did you mean 'settings'?)"), std::string::npos) << form << "\n" << out;
    if (*form) {
      EXPECT_NE(out.find("\"manifest_warnings\": [\"unknown key"), std::string::npos) << out;
    }
  }
}

}  // namespace
}  // namespace switchyard
