// The plan cache: partitioned plans and every segment's device-compiled executable,
// persisted so the next load of the same model under the same options on the same
// devices skips import, constant folding, support queries, partitioning and compilation.
//
// Location: CacheOptions::dir, else $SWITCHYARD_CACHE_DIR, else $XDG_CACHE_HOME/switchyard,
// else ~/.cache/switchyard. Entries are single files written atomically (temporary file,
// flush, rename), carry a format version and a checksum over their contents, are verified on
// every load, and are evicted least-recently-used above a size limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/hal/mapped_file.h"
#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/status.h"

namespace switchyard {

struct CacheOptions {
  bool enabled = true;
  std::filesystem::path dir;                 // empty: default_cache_dir()
  // LRU eviction above this; an entry larger than this alone is not stored (with a warning).
  uint64_t max_bytes = uint64_t{8} << 30;
};

std::filesystem::path default_cache_dir();

// One device's part of a cache key.
struct DeviceKey {
  std::string id, plugin, plugin_version, identity, driver_version;
};

struct CacheKey {
  std::string model_id;     // canonical model path
  std::string model_hash;   // the model file's content
  std::string options;      // policy and load options
  std::vector<DeviceKey> devices;  // every device present, sorted by id
  std::string abi_version, switchyard_version;
  std::string digest() const;  // the entry's name
};

// One item of the cache folder. Besides entries, `list` shows what is at an entry's name but is
// not a regular file (a directory, a FIFO: loads bypass the cache for that key with a warning,
// `clear` and `prune` remove it) and the temporary files of entry writes (orphaned when no writer
// touched them for 5 minutes, as a write killed midway leaves them; the next writer removes those).
struct EntryInfo {
  enum class Kind { entry, not_a_file, temporary };
  std::filesystem::path file;
  Kind kind = Kind::entry;
  std::string file_type;  // "regular file", "directory", "FIFO", ...
  bool orphaned = false;  // temporary, untouched for 5 minutes
  CacheKey key;           // entries with a readable header
  uint64_t bytes = 0;     // regular files
  std::chrono::system_clock::time_point last_use;
  std::vector<std::string> segment_devices;
};

// What `clear` and `prune` did: how many items they removed, and each they could not remove.
struct CacheCleanup {
  int removed = 0;
  std::vector<std::string> failures;
};

enum class CacheState { cached, uncached };

struct LoadReport {
  CacheState state = CacheState::uncached;
  // For misses: "no entry", "model changed", "options changed", "plugin updated", "driver updated",
  // "devices changed", "switchyard updated", "entry corrupt", "driver refused cached code" (the entry is
  // replaced), "cache disabled"; for hits: "" or "in memory".
  std::string reason;
  std::vector<std::string> warnings;  // e.g. a corrupt entry removed
  // Phases, in milliseconds. load_ms is what the caller waited for a usable model: mapping and
  // hashing the model file, then either restoring the entry or importing, planning and compiling.
  // Writing the entry afterwards (store_ms) is not part of it.
  double load_ms = 0;
  double hash_ms = 0;    // mapping and hashing the model file (part of every load)
  double import_ms = 0;  // ONNX import (misses only)
  double store_ms = 0;   // serialising and writing the entry (misses only; after load_ms)
};

class PlanCache {
 public:
  explicit PlanCache(CacheOptions options = {});
  const std::filesystem::path& dir() const { return dir_; }

  // The cache stores and fetches; load_model (model_loader.h) is the one way to load a model.

  // The fingerprint of a model file's bytes that keys use (its pages are released as it goes).
  static std::string model_hash(const MappedFile& model_bytes);
  // `key`'s model: from this process, or restored from its entry on `devices`; null on a miss, with
  // `rep.reason` saying why (and a warning for an entry bypassed or removed as corrupt).
  // `storable` is false when a new entry must not be written (cache disabled, or something that is
  // not a file at the entry's path). `model_dir` locates the external data files the entry hashed.
  Result<std::shared_ptr<PartitionedModel>> fetch(const CacheKey& key, const std::filesystem::path& model_dir,
                                                  const DeviceRegistry& devices, LoadReport& rep, bool& storable) const;
  // Writes `pm` as `key`'s entry (a failure is a warning in `rep`, with the time in rep.store_ms)
  // and keeps it for later loads in this process.
  void store(const CacheKey& key, const std::shared_ptr<PartitionedModel>& pm, const std::vector<std::string>& external_data_files,
             const std::filesystem::path& model_dir, LoadReport& rep) const;

  Result<std::vector<EntryInfo>> list() const;
  // Checks every entry's format and checksum; returns one line per entry ("ok" or the problem).
  Result<std::vector<std::pair<std::filesystem::path, std::string>>> verify() const;
  // Removes every entry, non-file item and temporary file.
  CacheCleanup clear();
  // Removes entries whose plugin or driver is no longer present (or changed), corrupt ones,
  // non-file items and orphaned temporary files.
  CacheCleanup prune(const DeviceRegistry& devices);
  // Evicts least-recently-used entries until the total is within max_bytes.
  Result<int> enforce_limit() const;

  // The key a model would be cached under (exposed for tests and `switchyard cache`).
  Result<CacheKey> key_for(const std::filesystem::path& model_file, const std::string& model_hash, const DeviceRegistry& devices,
                           const PartitionOptions& options) const;

 private:
  // Writes the entry for `pm` (header text already made), streaming the graph's tensors and the
  // executables from where they lie.
  Status store_entry(const std::filesystem::path& entry, const std::string& header, const PartitionedModel& pm) const;

  CacheOptions options_;
  std::filesystem::path dir_;
};

// An entry's contents, decoded and checked but not yet restored on devices.
struct DecodedEntry {
  std::string digest;  // the key's digest as the entry's header records it
  CacheKey key;
  std::vector<std::string> segment_devices;
  std::vector<std::pair<std::string, std::string>> external;  // external data file, content hash
  Graph graph;
  Plan plan;
  SupportTable support;
  std::vector<std::string_view> executables;  // each segment's executable: views into the entry's bytes
};

// Decodes an entry's bytes: magic, format version, section bounds, checksum, header, graph, plan,
// support answers and the executables' places. PlanCache::fetch does this to the mapped entry file
// before it restores the executables on devices. The graph's tensors and `executables` point into
// the bytes, which `keepalive` owns. A defect gives Status(data_loss) (or Plan::deserialize's error).
Result<DecodedEntry> decode_entry(const void* data, size_t size, std::shared_ptr<const void> keepalive);

// Drops the in-process cache of loaded models (tests).
void clear_in_memory_models();

}  // namespace switchyard
