// Plan cache tests: hits and misses with the right reason, corruption detected and rebuilt,
// concurrent processes, the size limit, in-process reuse.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <cmath>
#include <cstring>
#include <fstream>

#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/model_loader.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/reference/util.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = SWITCHYARD_SOURCE_DIR;

class PlanCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sy_cache_test_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "models");
    fs::copy_file(kSource / "models" / "tiny_cnn.onnx", root_ / "models" / "tiny_cnn.onnx");
    clear_in_memory_models();
  }
  void TearDown() override { fs::remove_all(root_); }

  static const DeviceRegistry& registry(const std::string& test_double_dir = SWITCHYARD_TEST_DOUBLE_DIR) {
    static std::map<std::string, std::unique_ptr<DeviceRegistry>> regs;
    auto& r = regs[test_double_dir];
    if (!r) {
      DiscoveryOptions o;
      o.extra_paths = {test_double_dir};
      o.use_environment = false;
      r = std::make_unique<DeviceRegistry>(DeviceRegistry::discover(o));
    }
    return *r;
  }

  Result<std::shared_ptr<PartitionedModel>> load(LoadReport& rep, const PartitionOptions& po = {}, uint64_t max_bytes = uint64_t{1} << 30,
                                                 const std::string& td = SWITCHYARD_TEST_DOUBLE_DIR) {
    clear_in_memory_models();  // a new process, as far as the cache can tell
    CacheOptions o;
    o.dir = root_ / "cache";
    o.max_bytes = max_bytes;
    PlanCache cache(o);
    return load_model(root_ / "models" / "tiny_cnn.onnx", registry(td), po, cache, &rep);
  }

  std::vector<fs::path> entries() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "cache", ec))
      if (e.path().extension() == ".syc") out.push_back(e.path());
    return out;
  }

  fs::path root_;
};

Tensor input() {
  Tensor x = Tensor::allocate(ElementType::float32, {1, 3, 32, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x.mutable_data<float>()[i] = static_cast<float>(std::cos(0.05 * static_cast<double>(i)));
  return x;
}

std::vector<float> predict(PartitionedModel& m) {
  auto out = m.predict({Value::of(input())});
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  if (!out.ok()) return {};
  const Tensor& t = (*out)[0].tensor;
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

TEST_F(PlanCacheTest, MissThenHitWithIdenticalOutputs) {
  LoadReport a, b;
  auto first = load(a);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(a.state, CacheState::uncached);
  EXPECT_EQ(a.reason, "no entry");
  EXPECT_EQ(entries().size(), 1u);
  auto second = load(b);
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_EQ(b.state, CacheState::cached) << b.reason;
  EXPECT_EQ(predict(**first), predict(**second));
  EXPECT_EQ((*first)->plan().serialize(), (*second)->plan().serialize());
}

TEST_F(PlanCacheTest, SameProcessReusesTheCompiledModel) {
  CacheOptions o;
  o.dir = root_ / "cache";
  PlanCache cache(o);
  LoadReport a, b;
  auto m1 = load_model(root_ / "models" / "tiny_cnn.onnx", registry(), {}, cache, &a);
  auto m2 = load_model(root_ / "models" / "tiny_cnn.onnx", registry(), {}, cache, &b);
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_EQ(m1->get(), m2->get());
  EXPECT_EQ(b.reason, "in memory");
}

TEST_F(PlanCacheTest, ChangedWeightMissesWithModelChanged) {
  LoadReport a, b;
  ASSERT_TRUE(load(a).ok());
  // conv1.w[0] = 0.3 * sin(0.1): change that float in the file's raw data.
  std::fstream f(root_ / "models" / "tiny_cnn.onnx", std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  float w0 = static_cast<float>(0.3 * std::sin(0.1)), w1 = 0.5f;
  auto pos = bytes.find(std::string(reinterpret_cast<const char*>(&w0), 4));
  ASSERT_NE(pos, std::string::npos);
  f.seekp(static_cast<std::streamoff>(pos));
  f.write(reinterpret_cast<const char*>(&w1), 4);
  f.close();
  auto changed = load(b);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_EQ(b.state, CacheState::uncached);
  EXPECT_EQ(b.reason, "model changed");
}

TEST_F(PlanCacheTest, ChangedPolicyMissesWithOptionsChanged) {
  LoadReport a, b, c;
  ASSERT_TRUE(load(a).ok());
  PartitionOptions po;
  po.policy.units = ComputeUnits::cpu_only;
  ASSERT_TRUE(load(b, po).ok());
  EXPECT_EQ(b.reason, "options changed");
  ASSERT_TRUE(load(c, po).ok());
  EXPECT_EQ(c.state, CacheState::cached);
}

TEST_F(PlanCacheTest, ChangedPluginVersionMissesWithPluginUpdated) {
  LoadReport a, b;
  ASSERT_TRUE(load(a).ok());
  auto updated = load(b, {}, uint64_t{1} << 30, SWITCHYARD_TEST_DOUBLE_V2_DIR);
  ASSERT_TRUE(updated.ok()) << updated.status().to_string();
  EXPECT_EQ(b.state, CacheState::uncached);
  EXPECT_EQ(b.reason, "plugin updated");
}

TEST_F(PlanCacheTest, ChangedDriverVersionMissesWithDriverUpdated) {
  // The same test-double library behind a manifest that reports another driver version.
  const fs::path dir = root_ / "driver2";
  fs::create_directories(dir);
  std::ofstream(dir / "test_double.yaml") << "name: test_double\nlibrary: " << SWITCHYARD_TEST_DOUBLE_DIR
                                         << "/libswitchyard_plugin_test_double.so\nabi_version: \"2.0\"\nsettings:\n  kind: gpu\n"
                                            "  threads: \"1\"\n  ops: \"Conv,Relu\"\n  peak_gflops: \"4000\"\n"
                                            "  driver_version: \"test-double-driver 2\"\n";
  LoadReport a, b, c;
  ASSERT_TRUE(load(a).ok());
  auto updated = load(b, {}, uint64_t{1} << 30, dir.string());
  ASSERT_TRUE(updated.ok()) << updated.status().to_string();
  EXPECT_EQ(b.state, CacheState::uncached);
  EXPECT_EQ(b.reason, "driver updated");
  ASSERT_TRUE(load(c, {}, uint64_t{1} << 30, dir.string()).ok());
  EXPECT_EQ(c.state, CacheState::cached);
}

// A plugin update that no longer reads its own cached executables (same key): the load compiles
// the refused segments, and the entry is replaced so that later loads do not pay that again.
TEST_F(PlanCacheTest, AnEntryItsDriverNoLongerReadsIsReplaced) {
  const fs::path dir = root_ / "refusing";
  fs::create_directories(dir);
  {  // the usual double's manifest, plus the setting
    std::ifstream in(fs::path(SWITCHYARD_TEST_DOUBLE_DIR) / "test_double.yaml");
    std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string lib = "library: libswitchyard_plugin_test_double.so";
    ASSERT_NE(manifest.find(lib), std::string::npos) << manifest;
    manifest.replace(manifest.find(lib), lib.size(), "library: " + std::string(SWITCHYARD_TEST_DOUBLE_DIR) + "/libswitchyard_plugin_test_double.so");
    std::ofstream(dir / "test_double.yaml") << manifest << "  refuse_restore: \"true\"\n";
  }
  PartitionOptions po;
  po.policy.pin_ops["Conv"] = "test_double:0";  // a segment on the double, whose restore is refused
  LoadReport first, refused, again;
  auto m = load(first, po);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  const std::vector<float> want = predict(**m);
  ASSERT_EQ(entries().size(), 1u);
  auto reloaded = load(refused, po, uint64_t{1} << 30, dir.string());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
  EXPECT_EQ(refused.state, CacheState::uncached);
  EXPECT_EQ(refused.reason, "driver refused cached code");
  ASSERT_FALSE(refused.warnings.empty());
  EXPECT_NE(refused.warnings[0].find("no longer reads that executable format"), std::string::npos) << refused.warnings[0];
  EXPECT_EQ(predict(**reloaded), want);
  EXPECT_EQ(entries().size(), 1u) << "the stale entry was replaced, not kept beside the new one";
  ASSERT_TRUE(load(again, po).ok());
  EXPECT_EQ(again.state, CacheState::cached) << again.reason;
}

TEST_F(PlanCacheTest, CorruptEntriesAreDetectedRemovedAndRebuilt) {
  LoadReport first;
  auto m = load(first);
  ASSERT_TRUE(m.ok());
  const std::vector<float> want = predict(**m);
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  const auto size = fs::file_size(entry);
  std::string original;
  {
    std::ifstream in(entry, std::ios::binary);
    original.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  struct Damage {
    std::string name;
    std::function<std::string(std::string)> apply;
  };
  std::vector<Damage> damages;
  for (size_t at : {size_t{0}, size_t{9}, size / 3, size / 2, size - 30, size - 1})
    damages.push_back({"flip byte " + std::to_string(at), [at](std::string s) {
                         s[at] = static_cast<char>(s[at] ^ 0x5a);
                         return s;
                       }});
  damages.push_back({"truncated", [](std::string s) { return s.substr(0, s.size() / 2); }});
  damages.push_back({"appended", [](std::string s) { return s + "garbage"; }});
  damages.push_back({"empty", [](std::string) { return std::string(); }});
  for (const auto& d : damages) {
    {
      std::ofstream out(entry, std::ios::binary | std::ios::trunc);
      std::string bad = d.apply(original);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    LoadReport rep;
    auto again = load(rep);
    ASSERT_TRUE(again.ok()) << d.name << ": " << again.status().to_string();
    EXPECT_EQ(rep.state, CacheState::uncached) << d.name;
    EXPECT_EQ(rep.reason, "entry corrupt") << d.name;
    ASSERT_FALSE(rep.warnings.empty()) << d.name;
    EXPECT_NE(rep.warnings[0].find("removed corrupt entry"), std::string::npos) << rep.warnings[0];
    EXPECT_EQ(predict(**again), want) << d.name;
    // Rebuilt: the next load is a valid hit.
    LoadReport hit;
    ASSERT_TRUE(load(hit).ok());
    EXPECT_EQ(hit.state, CacheState::cached) << d.name << ": " << hit.reason;
  }
}

TEST_F(PlanCacheTest, SizeLimitEvictsLeastRecentlyUsed) {
  LoadReport a, b;
  ASSERT_TRUE(load(a).ok());
  const uint64_t one = fs::file_size(entries()[0]);
  PartitionOptions po;
  po.policy.units = ComputeUnits::cpu_only;
  // Room for one entry only: the older one is evicted.
  ASSERT_TRUE(load(b, po, one + one / 2).ok());
  auto left = entries();
  ASSERT_EQ(left.size(), 1u);
  LoadReport c;
  ASSERT_TRUE(load(c, po, one + one / 2).ok());
  EXPECT_EQ(c.state, CacheState::cached);
  LoadReport d;
  ASSERT_TRUE(load(d, {}, one + one / 2).ok());
  EXPECT_EQ(d.state, CacheState::uncached);
  uint64_t total = 0;
  for (const auto& e : entries()) total += fs::file_size(e);
  EXPECT_LE(total, one + one / 2);
}

TEST_F(PlanCacheTest, ConcurrentProcessesLeaveOneValidEntry) {
  const std::string cli = std::string(SWITCHYARD_BINARY_DIR) + "/bin/switchyard";
  const std::string cmd = "cd '" + root_.string() + "' && for i in 1 2 3 4; do SWITCHYARD_PLUGIN_PATH= '" + cli +
                          "' run models/tiny_cnn.onnx --cache-dir cache > out_$i.txt 2>&1 & done; wait; "
                          "grep -l 'output probabilities' out_*.txt | wc -l";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[64] = {0};
  ASSERT_NE(std::fgets(buf, sizeof buf, p), nullptr);
  ::pclose(p);
  EXPECT_EQ(std::atoi(buf), 4) << "every process must succeed";
  ASSERT_EQ(entries().size(), 1u);
  CacheOptions o;
  o.dir = root_ / "cache";
  auto v = PlanCache(o).verify();
  ASSERT_TRUE(v.ok());
  for (const auto& [file, result] : *v) EXPECT_EQ(result, "ok") << file;
  // No temporary files left behind.
  for (const auto& e : fs::directory_iterator(root_ / "cache")) EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

TEST_F(PlanCacheTest, ExternalDataIsPartOfTheKey) {
  // The external-data fixture with a valid 32-byte weights file.
  fs::copy_file(kSource / "tests/fixtures/malformed/14_external_out_of_range.onnx", root_ / "models" / "ext.onnx");
  auto write_weights = [&](float v) {
    std::ofstream out(root_ / "models" / "weights.bin", std::ios::binary | std::ios::trunc);
    std::vector<float> w(8, v);
    out.write(reinterpret_cast<const char*>(w.data()), 32);
  };
  write_weights(1.0f);
  CacheOptions o;
  o.dir = root_ / "cache";
  LoadReport a, b, c;
  clear_in_memory_models();
  ASSERT_TRUE(load_model(root_ / "models" / "ext.onnx", registry(), {}, PlanCache(o), &a).ok());
  clear_in_memory_models();
  ASSERT_TRUE(load_model(root_ / "models" / "ext.onnx", registry(), {}, PlanCache(o), &b).ok());
  EXPECT_EQ(b.state, CacheState::cached);
  write_weights(2.0f);
  clear_in_memory_models();
  auto m = load_model(root_ / "models" / "ext.onnx", registry(), {}, PlanCache(o), &c);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(c.state, CacheState::uncached);
  EXPECT_EQ(c.reason, "model changed");
}


}  // namespace
}  // namespace switchyard

namespace switchyard {
namespace {

// A FIFO where the cache expects entry files, or given as the model or its weights, is refused at
// once: files are opened without blocking and must be regular (issue 14, finding 4). Before, a
// FIFO named *.syc blocked every load's miss-reason scan, `cache ls` and `cache verify` forever.
TEST_F(PlanCacheTest, FifosAreRefusedNotWaitedOn) {
  fs::create_directories(root_ / "cache");
  ASSERT_EQ(::mkfifo((root_ / "cache" / "0123.syc").c_str(), 0644), 0);
  LoadReport rep;
  auto first = load(rep);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(rep.reason, "no entry");
  CacheOptions o;
  o.dir = root_ / "cache";
  auto checks = PlanCache(o).verify();
  ASSERT_TRUE(checks.ok());
  bool fifo_reported = false;
  for (const auto& [file, result] : *checks)
    if (file.filename() == "0123.syc") fifo_reported = result.find("is not a regular file") != std::string::npos;
  EXPECT_TRUE(fifo_reported);
  ASSERT_EQ(::mkfifo((root_ / "models" / "fifo.onnx").c_str(), 0644), 0);
  auto fifo_model = load_model(root_ / "models" / "fifo.onnx", registry(), {}, PlanCache(o), &rep);
  ASSERT_FALSE(fifo_model.ok());
  EXPECT_NE(fifo_model.status().message().find("is not a regular file"), std::string::npos) << fifo_model.status().message();
  auto signature = import_onnx_signature(root_ / "models" / "fifo.onnx");
  ASSERT_FALSE(signature.ok());
  EXPECT_NE(signature.status().message().find("is not a regular file"), std::string::npos) << signature.status().message();
}

// Something at an entry's name that is not a regular file is bypassed with a warning (loads used to
// fail every time), shown by `ls` with what it is (it used to show a garbage size) and removed by
// `clear` (which could not remove a directory) (issue 14, finding 7).
TEST_F(PlanCacheTest, ADirectoryAtAnEntrysNameIsBypassedShownAndCleared) {
  LoadReport rep;
  ASSERT_TRUE(load(rep).ok());
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  fs::remove(entry);
  fs::create_directories(entry / "inside");
  std::ofstream(entry / "inside" / "file") << "x";
  auto bypassed = load(rep);
  ASSERT_TRUE(bypassed.ok()) << bypassed.status().to_string();
  EXPECT_EQ(rep.state, CacheState::uncached);
  EXPECT_EQ(rep.reason, "entry unusable");
  ASSERT_EQ(rep.warnings.size(), 1u);
  EXPECT_NE(rep.warnings[0].find("is a directory, not an entry"), std::string::npos) << rep.warnings[0];
  EXPECT_TRUE(fs::is_directory(entry));  // not replaced: the store was skipped
  CacheOptions o;
  o.dir = root_ / "cache";
  auto listed = PlanCache(o).list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kind, EntryInfo::Kind::not_a_file);
  EXPECT_EQ((*listed)[0].file_type, "directory");
  EXPECT_EQ((*listed)[0].bytes, 0u);
  CacheCleanup cleared = PlanCache(o).clear();
  EXPECT_EQ(cleared.removed, 1);
  EXPECT_TRUE(cleared.failures.empty());
  EXPECT_FALSE(fs::exists(entry));
}

// A write killed midway leaves a .tmp-*.syc file: `ls` shows it, the next writer removes it once no
// one has touched it for 5 minutes, and a fresh one (a write in progress) is left alone.
TEST_F(PlanCacheTest, OrphanedTemporariesAreShownAndRemovedByTheNextWriter) {
  fs::create_directories(root_ / "cache");
  const fs::path orphan = root_ / "cache" / ".tmp-1-2.syc", fresh = root_ / "cache" / ".tmp-3-4.syc";
  std::ofstream(orphan) << std::string(1000, 'x');
  std::ofstream(fresh) << "y";
  fs::last_write_time(orphan, fs::file_time_type::clock::now() - std::chrono::minutes(10));
  CacheOptions o;
  o.dir = root_ / "cache";
  auto listed = PlanCache(o).list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& e : *listed) {
    EXPECT_EQ(e.kind, EntryInfo::Kind::temporary);
    EXPECT_EQ(e.orphaned, e.file == orphan) << e.file;
  }
  LoadReport rep;
  ASSERT_TRUE(load(rep).ok());  // a miss: writes an entry
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(fresh));
  fs::last_write_time(fresh, fs::file_time_type::clock::now() - std::chrono::minutes(10));
  CacheCleanup pruned = PlanCache(o).prune(registry());
  EXPECT_EQ(pruned.removed, 1);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(entries().size(), 1u);  // the good entry stays
}

// On a folder the process cannot write, a corrupt entry is bypassed and the warning says it could
// not be removed (it used to say "removed" every run), and `clear` reports what it could not do.
TEST_F(PlanCacheTest, AReadOnlyFolderIsReportedAsItIs) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores file permissions, so a read-only folder cannot be made here";
  LoadReport rep;
  ASSERT_TRUE(load(rep).ok());
  const fs::path entry = entries()[0];
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  fs::permissions(root_ / "cache", fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
  auto again = load(rep);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  bool said = false;
  for (const auto& w : rep.warnings) said = said || w.find("bypassed; could not remove") != std::string::npos;
  EXPECT_TRUE(said);
  CacheOptions o;
  o.dir = root_ / "cache";
  CacheCleanup cleared = PlanCache(o).clear();
  EXPECT_EQ(cleared.removed, 0);
  EXPECT_EQ(cleared.failures.size(), 1u);
  fs::permissions(root_ / "cache", fs::perms::owner_write, fs::perm_options::add);
}

}  // namespace
}  // namespace switchyard
