// The plan cache: key, entry format, atomic writes, verification, LRU eviction.
//
// Entry file (<digest>.syc):
//   magic "SYPLNCH\0" | format u32 | header_len u32 | header text (key, devices, external files)
//   | meta_len u64 | meta (graph, plan, support answers, executables' offsets and sizes) | zero
//   padding to 64 | blob (tensor data, then every executable's bytes, each 64-byte aligned, so a
//   plugin can use them in place from the mapping) | blob_len u64 | checksum (16 bytes over
//   everything before)
#include "switchyard/runtime/plan_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "cache_folder.h"
#include "switchyard/runtime/graph_serialization.h"
#include "switchyard/hal/hash.h"
#include "switchyard/hal/mapped_file.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/hal/user_cache_dir.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

namespace switchyard {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'S', 'Y', 'P', 'L', 'N', 'C', 'H', 0};
constexpr uint32_t kFormat = 2;  // 2: executables in the blob section, 64-byte aligned
using cache_folder::kExtension;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string escape(const std::string& s) {  // header fields are tab separated, one record a line
  std::string o;
  for (char c : s) o += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
  return o;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t t = line.find('\t', start);
    out.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
    if (t == std::string::npos) break;
    start = t + 1;
  }
  return out;
}

std::string header_text(const CacheKey& k, const std::vector<std::string>& segment_devices,
                        const std::vector<std::pair<std::string, std::string>>& external) {
  std::ostringstream h;
  h << "digest\t" << k.digest() << "\nmodel_id\t" << escape(k.model_id) << "\nmodel_hash\t" << k.model_hash << "\noptions\t"
    << escape(k.options) << "\nabi\t" << k.abi_version << "\nswitchyard\t" << k.switchyard_version << "\n";
  for (const auto& d : k.devices)
    h << "device\t" << escape(d.id) << "\t" << escape(d.plugin) << "\t" << escape(d.plugin_version) << "\t" << escape(d.identity) << "\t"
      << escape(d.driver_version) << "\n";
  for (const auto& s : segment_devices) h << "segment\t" << escape(s) << "\n";
  for (const auto& [file, hash] : external) h << "external\t" << escape(file) << "\t" << hash << "\n";
  return h.str();
}

struct ParsedHeader {
  CacheKey key;
  std::string digest;
  std::vector<std::string> segment_devices;
  std::vector<std::pair<std::string, std::string>> external;
};

ParsedHeader parse_header(const std::string& text) {
  ParsedHeader p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = split_tabs(line);
    if (f.empty()) continue;
    if (f[0] == "digest" && f.size() >= 2) p.digest = f[1];
    else if (f[0] == "model_id" && f.size() >= 2) p.key.model_id = f[1];
    else if (f[0] == "model_hash" && f.size() >= 2) p.key.model_hash = f[1];
    else if (f[0] == "options" && f.size() >= 2) p.key.options = f[1];
    else if (f[0] == "abi" && f.size() >= 2) p.key.abi_version = f[1];
    else if (f[0] == "switchyard" && f.size() >= 2) p.key.switchyard_version = f[1];
    else if (f[0] == "device" && f.size() >= 6) p.key.devices.push_back({f[1], f[2], f[3], f[4], f[5]});
    else if (f[0] == "segment" && f.size() >= 2) p.segment_devices.push_back(f[1]);
    else if (f[0] == "external" && f.size() >= 3) p.external.emplace_back(f[1], f[2]);
  }
  return p;
}

Result<std::shared_ptr<const MappedFile>> map_entry(const fs::path& file) { return MappedFile::open(file, "plan cache entry"); }

struct EntryView {
  std::string header;
  const unsigned char* meta = nullptr;
  size_t meta_size = 0;
  const unsigned char* blob = nullptr;
  size_t blob_size = 0;
};

// Checks magic, format version, section bounds and the checksum of the entry bytes [p, p + size).
// `mapping` (when they are a mapped file) has its pages released as they are hashed.
Result<EntryView> open_entry(const unsigned char* p, size_t size, bool verify_checksum = true, const MappedFile* mapping = nullptr) {
  auto bad = [](const std::string& why) { return Status(StatusCode::data_loss, why); };
  if (size < sizeof kMagic + 8 + 8 + 16 || std::memcmp(p, kMagic, sizeof kMagic) != 0) return bad("not a plan cache entry (bad magic)");
  uint32_t format, header_len;
  std::memcpy(&format, p + 8, 4);
  std::memcpy(&header_len, p + 12, 4);
  if (format != kFormat) return bad("entry format " + std::to_string(format) + ", this Switchyard reads format " + std::to_string(kFormat));
  if (verify_checksum) {
    uint64_t stored[2], actual[2];
    std::memcpy(stored, p + size - 16, 16);
    Hasher h;
    if (mapping) mapping->hash_and_release(0, size - 16, h);  // what the load uses is paged in again when used
    else h.update(p, size - 16);
    h.digest(actual);
    if (stored[0] != actual[0] || stored[1] != actual[1]) return bad("checksum mismatch (the entry was modified or truncated)");
  }
  size_t pos = 16;
  if (header_len > size - pos) return bad("truncated header");
  EntryView v;
  v.header.assign(reinterpret_cast<const char*>(p + pos), header_len);
  pos += header_len;
  if (8 > size - pos) return bad("truncated");
  uint64_t meta_len;
  std::memcpy(&meta_len, p + pos, 8);
  pos += 8;
  if (meta_len > size - pos) return bad("truncated metadata");
  v.meta = p + pos;
  v.meta_size = static_cast<size_t>(meta_len);
  pos += v.meta_size;
  pos += (64 - pos % 64) % 64;
  uint64_t blob_len;
  if (size < 24 || pos > size - 24) return bad("truncated blob section");
  std::memcpy(&blob_len, p + size - 24, 8);
  if (blob_len != size - 24 - pos) return bad("blob section size does not match the file size");
  v.blob = p + pos;
  v.blob_size = static_cast<size_t>(blob_len);
  return v;
}

Result<EntryView> open_entry(const MappedFile& m, bool verify_checksum = true) {
  return open_entry(m.data(), m.size(), verify_checksum, &m);
}

// Writes `pieces` in order to a temporary file in `dir`, then renames it to `final_file`, so
// readers see the old entry or the whole new one. No fsync: every load verifies the entry's
// checksum, so an entry torn by a crash is detected and rebuilt, and flushing gigabytes of weights
// to disk would cost the writer seconds.
Status write_atomically(const fs::path& dir, const fs::path& final_file, const std::vector<std::string_view>& pieces) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(StatusCode::io_error, "cannot create cache folder '" + dir.string() + "': " + ec.message());
  std::random_device rd;
  fs::path tmp = dir / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + kExtension);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status(StatusCode::io_error, "cannot write to the cache folder '" + dir.string() + "': " + std::strerror(errno));
  for (std::string_view piece : pieces) {
    while (!piece.empty()) {
      ssize_t n = ::write(fd, piece.data(), piece.size());
      if (n <= 0) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        return Status(StatusCode::io_error, "cannot write cache entry (disk full?): " + why);
      }
      piece.remove_prefix(static_cast<size_t>(n));
    }
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status(StatusCode::io_error, "cannot write cache entry");
  }
  if (::rename(tmp.c_str(), final_file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status(StatusCode::io_error, "cannot rename cache entry into place");
  }
  return {};
}

void touch(const fs::path& file) { ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); }

std::string support_to_bytes(const SupportTable& t, ByteWriter& w) {
  w.u64(t.size());
  for (const auto& [id, answers] : t) {
    w.str(id);
    w.u64(answers.size());
    for (const auto& a : answers) {
      w.u8(a.supported() ? 1 : 0);
      w.str(support_reason_name(a.reason));
      w.str(a.message);
      w.str(a.implementation);
    }
  }
  return {};
}

SupportTable support_from_bytes(ByteReader& r) {
  SupportTable t;
  size_t n = r.count(16);
  for (size_t i = 0; i < n; ++i) {
    std::string id = r.str();
    size_t k = r.count(25);
    auto& answers = t[id];
    for (size_t j = 0; j < k; ++j) {
      NodeSupport a;
      const bool supported = r.u8() != 0;
      const auto reason = support_reason_from_name(r.str());
      if (!reason || supported != (*reason == SupportReason::supported))
        throw_error(StatusCode::data_loss, "cached support answer has an unknown reason");
      a.reason = *reason;
      a.message = r.str();
      a.implementation = r.str();
      answers.push_back(std::move(a));
    }
  }
  return t;
}

// Content hash of an external data file (its whole content: weights are part of the key).
// Its pages are released as they are hashed: a hit never reads the weights again.
std::string content_hash(const MappedFile& file) {
  Hasher h;
  file.hash_and_release(0, file.size(), h);
  return h.hex();
}

std::string file_hash(const fs::path& file) {
  auto m = MappedFile::open(file, "external data");
  return m.ok() ? content_hash(**m) : "missing";
}

std::vector<std::pair<std::string, std::string>> external_files(const std::vector<std::string>& locations, const fs::path& model_dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& loc : locations) out.emplace_back(loc, file_hash(model_dir / loc));
  return out;
}

std::mutex g_memory_mu;
std::map<std::string, std::weak_ptr<PartitionedModel>> g_memory;

Result<DecodedEntry> decode_entry_bytes(const unsigned char* data, size_t size, std::shared_ptr<const void> keepalive,
                                        const MappedFile* mapping) {
  SY_ASSIGN_OR_RETURN(EntryView v, open_entry(data, size, true, mapping));
  ParsedHeader h = parse_header(v.header);
  DecodedEntry d;
  d.digest = std::move(h.digest);
  d.key = std::move(h.key);
  d.segment_devices = std::move(h.segment_devices);
  d.external = std::move(h.external);
  try {
    ByteReader r(v.meta, v.meta_size);
    std::string plan_text = r.str();
    SY_ASSIGN_OR_RETURN(d.graph, deserialize_graph(r, v.blob, v.blob_size, std::move(keepalive)));
    SY_ASSIGN_OR_RETURN(d.plan, Plan::deserialize(plan_text, d.graph));
    d.support = support_from_bytes(r);
    size_t n = r.count(16);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t offset = r.u64(), len = r.u64();
      if (offset % 64 != 0 || offset > v.blob_size || len > v.blob_size - offset)
        return Status(StatusCode::data_loss, "executable #" + std::to_string(i) + " lies outside the entry");
      d.executables.emplace_back(reinterpret_cast<const char*>(v.blob + offset), static_cast<size_t>(len));
    }
  } catch (const Error& e) {
    return e.status();
  }
  return d;
}

}  // namespace

Result<DecodedEntry> decode_entry(const void* data, size_t size, std::shared_ptr<const void> keepalive) {
  return decode_entry_bytes(static_cast<const unsigned char*>(data), size, std::move(keepalive), nullptr);
}

void clear_in_memory_models() {
  std::lock_guard<std::mutex> lock(g_memory_mu);
  g_memory.clear();
}

fs::path default_cache_dir() { return user_cache_dir(); }

std::string CacheKey::digest() const {
  Hasher h(0x5357594b);  // "SWYK"
  h.update_field(model_id);
  h.update_field(model_hash);
  h.update_field(options);
  h.update_field(abi_version);
  h.update_field(switchyard_version);
  for (const auto& d : devices) {
    h.update_field(d.id);
    h.update_field(d.plugin);
    h.update_field(d.plugin_version);
    h.update_field(d.identity);
    h.update_field(d.driver_version);
  }
  return h.hex();
}

PlanCache::PlanCache(CacheOptions options) : options_(std::move(options)) {
  dir_ = options_.dir.empty() ? default_cache_dir() : options_.dir;
}

Result<CacheKey> PlanCache::key_for(const fs::path& model_file, const std::string& model_hash, const DeviceRegistry& devices,
                                    const PartitionOptions& options) const {
  CacheKey k;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(model_file, ec);
  k.model_id = ec ? model_file.string() : canon.string();
  k.model_hash = model_hash;
  k.options = options.policy.canonical() + ";fold=" + (options.fold_constants ? "1" : "0") +
              (options.cost_model ? ";cost_model=custom" : "");
  for (const auto& [name, shape] : options.input_shapes) k.options += ";shape." + name + "=" + shape_to_string(shape);
  k.options += ";range=" + options.range_check.key();
  k.abi_version = std::to_string(SY_ABI_VERSION_MAJOR) + "." + std::to_string(SY_ABI_VERSION_MINOR);
  k.switchyard_version = SWITCHYARD_VERSION;
  for (const auto& d : devices.devices())
    k.devices.push_back({d->id(), d->plugin_identity().name, d->plugin_identity().version, d->info().identity, d->info().driver_version});
  std::sort(k.devices.begin(), k.devices.end(), [](const DeviceKey& a, const DeviceKey& b) { return a.id < b.id; });
  return k;
}

Status PlanCache::store_entry(const fs::path& entry, const std::string& header, const PartitionedModel& pm) const {
  SY_ASSIGN_OR_RETURN(auto exes, pm.serialize_executables());
  ByteWriter meta;
  BlobWriter blob;
  meta.str(pm.plan().serialize());
  serialize_graph(pm.graph(), meta, blob);
  support_to_bytes(pm.support(), meta);
  meta.u64(exes.size());
  for (const auto& e : exes) {
    blob.align(64);
    meta.u64(blob.size());
    meta.u64(e.size());
    blob.append(e.data(), e.size());
  }
  ByteWriter head;
  head.raw(kMagic, sizeof kMagic);
  head.u32(kFormat);
  head.u32(static_cast<uint32_t>(header.size()));
  head.raw(header.data(), header.size());
  head.u64(meta.bytes().size());
  head.raw(meta.bytes().data(), meta.bytes().size());
  head.bytes().append((64 - head.bytes().size() % 64) % 64, '\0');
  const uint64_t blob_len = blob.size();
  const uint64_t total = head.bytes().size() + blob_len + sizeof blob_len + 16;
  if (total > options_.max_bytes)
    return Status(StatusCode::out_of_memory, "the entry (" + std::to_string(total >> 20) + " MiB) is larger than the cache's limit (" +
                                                      std::to_string(options_.max_bytes >> 20) + " MiB)");
  std::vector<std::string_view> pieces = {head.bytes()};
  pieces.insert(pieces.end(), blob.pieces().begin(), blob.pieces().end());
  pieces.emplace_back(reinterpret_cast<const char*>(&blob_len), sizeof blob_len);
  Hasher h;
  for (std::string_view p : pieces) h.update(p);
  uint64_t sum[2];
  h.digest(sum);
  pieces.emplace_back(reinterpret_cast<const char*>(sum), sizeof sum);
  cache_folder::remove_orphaned_temporaries(dir_);
  SY_RETURN_IF_ERROR(write_atomically(dir_, entry, pieces));
  return enforce_limit().status();
}

namespace {
// Why `want` missed, given entries for the same model file.
std::string miss_reason(const CacheKey& want, const std::vector<ParsedHeader>& same_model) {
  if (same_model.empty()) return "no entry";
  const ParsedHeader& h = same_model.front();  // the most recently used
  if (h.key.model_hash != want.model_hash) return "model changed";
  if (h.key.options != want.options) return "options changed";
  if (h.key.switchyard_version != want.switchyard_version || h.key.abi_version != want.abi_version) return "switchyard updated";
  std::map<std::string, const DeviceKey*> old;
  for (const auto& d : h.key.devices) old[d.id] = &d;
  for (const auto& d : want.devices) {
    auto it = old.find(d.id);
    if (it == old.end()) continue;
    if (it->second->plugin_version != d.plugin_version || it->second->plugin != d.plugin) return "plugin updated";
    if (it->second->driver_version != d.driver_version || it->second->identity != d.identity) return "driver updated";
  }
  return "devices changed";
}
}  // namespace

namespace {

std::shared_ptr<PartitionedModel> in_memory(const std::string& digest) {
  std::lock_guard<std::mutex> lock(g_memory_mu);
  auto it = g_memory.find(digest);
  return it == g_memory.end() ? nullptr : it->second.lock();
}

// Maps, decodes and restores an entry file on the devices. `external_changed` tells a model whose
// external data changed (a miss) from a defect in the entry.
Result<std::shared_ptr<PartitionedModel>> restore_entry(const fs::path& entry, const std::string& digest, const fs::path& model_dir,
                                                        const DeviceRegistry& devices, LoadReport& rep, bool& external_changed) {
  SY_ASSIGN_OR_RETURN(auto mapped, map_entry(entry));
  SY_ASSIGN_OR_RETURN(DecodedEntry d, decode_entry_bytes(mapped->data(), mapped->size(), mapped, mapped.get()));
  if (d.digest != digest) return Status(StatusCode::data_loss, "entry header names another key");
  // Weights in external data files are part of the model's content.
  for (const auto& [loc, hash] : d.external)
    if (file_hash(model_dir / loc) != hash) {
      external_changed = true;
      return Status(StatusCode::not_found, "external data file '" + loc + "' changed");
    }
  // The mapping outlives the executables: plugins may use their bytes in place.
  try {
    return PartitionedModel::restore(std::move(d.graph), std::move(d.plan), std::move(d.support), devices, d.executables, mapped,
                                     &rep.warnings);
  } catch (const Error& e) {
    return e.status();
  }
}

// The headers of this folder's entries for the same model file, newest first: what miss_reason
// compares the key with to say why it missed.
std::vector<ParsedHeader> entries_of_model(const fs::path& dir, const std::string& model_id) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, ParsedHeader>> same;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() != kExtension || e.path().filename().string()[0] == '.') continue;
      auto m = map_entry(e.path());
      if (!m.ok()) continue;
      auto v = open_entry(**m, false);
      if (!v.ok()) continue;
      ParsedHeader h = parse_header(v->header);
      if (h.key.model_id == model_id) same.emplace_back(fs::last_write_time(e.path(), ec), std::move(h));
    }
  std::sort(same.begin(), same.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<ParsedHeader> headers;
  for (auto& s : same) headers.push_back(std::move(s.second));
  return headers;
}

}  // namespace

std::string PlanCache::model_hash(const MappedFile& model_bytes) { return content_hash(model_bytes); }

Result<std::shared_ptr<PartitionedModel>> PlanCache::fetch(const CacheKey& key, const fs::path& model_dir,
                                                          const DeviceRegistry& devices, LoadReport& rep, bool& storable) const {
  storable = options_.enabled;
  if (!options_.enabled) {
    rep.reason = "cache disabled";
    return std::shared_ptr<PartitionedModel>();
  }
  const std::string digest = key.digest();
  if (auto pm = in_memory(digest)) {
    rep.reason = "in memory";
    return pm;
  }
  const fs::path entry = dir_ / (digest + kExtension);
  std::error_code ec;
  const fs::file_type entry_type = fs::symlink_status(entry, ec).type();
  if (entry_type == fs::file_type::not_found) {
    rep.reason = miss_reason(key, entries_of_model(dir_, key.model_id));
    return std::shared_ptr<PartitionedModel>();
  }
  if (entry_type != fs::file_type::regular) {
    rep.warnings.push_back("plan cache: " + entry.string() + " is " + cache_folder::describe_file_type(entry) +
                           ", not an entry: this load bypasses the cache (`switchyard cache clear` or `prune` removes it)");
    rep.reason = "entry unusable";
    storable = false;
    return std::shared_ptr<PartitionedModel>();
  }
  bool external_changed = false;
  auto restored = restore_entry(entry, digest, model_dir, devices, rep, external_changed);
  if (restored.ok() && (*restored)->segments_compiled_on_restore() > 0) {
    // A driver no longer reads what it wrote (a plugin update changed its format): the entry would
    // cost that compile on every load, so it goes, and this load prepares and stores a new one.
    Status removed = cache_folder::remove_item(entry);
    if (!removed.ok()) rep.warnings.push_back("plan cache: stale entry " + entry.filename().string() + " kept: " + removed.message());
    rep.reason = "driver refused cached code";
    return std::shared_ptr<PartitionedModel>();
  }
  if (restored.ok()) {
    touch(entry);
    rep.reason = "";
    std::lock_guard<std::mutex> lock(g_memory_mu);
    g_memory[digest] = *restored;
    return restored;
  }
  if (external_changed) {
    rep.reason = "model changed";
  } else if (restored.status().code() == StatusCode::data_loss) {
    Status removed = cache_folder::remove_item(entry);
    rep.warnings.push_back(removed.ok() ? "plan cache: removed corrupt entry " + entry.filename().string() + ": " + restored.status().message()
                                        : "plan cache: corrupt entry " + entry.filename().string() + " (" + restored.status().message() +
                                              ") bypassed; " + removed.message());
    rep.reason = "entry corrupt";
  } else {
    return restored.status();  // e.g. a device vanished between key and restore
  }
  return std::shared_ptr<PartitionedModel>();
}

void PlanCache::store(const CacheKey& key, const std::shared_ptr<PartitionedModel>& pm, const std::vector<std::string>& external_data_files,
                      const fs::path& model_dir, LoadReport& rep) const {
  // Failures to write are warnings, never load failures.
  const auto t_store = std::chrono::steady_clock::now();
  std::vector<std::string> segment_devices;
  for (const auto& s : pm->plan().segments) segment_devices.push_back(s.device);
  const std::string digest = key.digest();
  const std::string header = header_text(key, segment_devices, external_files(external_data_files, model_dir));
  Status stored = store_entry(dir_ / (digest + kExtension), header, *pm);
  rep.store_ms = ms_since(t_store);
  if (!stored.ok()) rep.warnings.push_back("plan cache: could not store the entry: " + stored.message());
  std::lock_guard<std::mutex> lock(g_memory_mu);
  g_memory[digest] = pm;
}

namespace {
EntryInfo entry_info(const cache_folder::Item& item) {
  EntryInfo info;
  info.file = item.path;
  info.kind = item.kind == cache_folder::ItemKind::entry        ? EntryInfo::Kind::entry
              : item.kind == cache_folder::ItemKind::not_a_file ? EntryInfo::Kind::not_a_file
                                                                : EntryInfo::Kind::temporary;
  info.file_type = item.file_type;
  info.orphaned = item.orphaned;
  info.bytes = item.bytes;
  info.last_use = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      item.modified - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  if (info.kind != EntryInfo::Kind::entry) return info;
  auto m = map_entry(item.path);
  if (!m.ok()) return info;
  auto v = open_entry(**m, false);
  if (!v.ok()) return info;
  ParsedHeader h = parse_header(v->header);
  info.key = h.key;
  info.segment_devices = h.segment_devices;
  return info;
}
}  // namespace

Result<std::vector<EntryInfo>> PlanCache::list() const {
  std::vector<EntryInfo> out;
  for (const auto& item : cache_folder::scan(dir_)) out.push_back(entry_info(item));
  std::sort(out.begin(), out.end(), [](const EntryInfo& a, const EntryInfo& b) { return a.last_use > b.last_use; });
  return out;
}

Result<std::vector<std::pair<fs::path, std::string>>> PlanCache::verify() const {
  std::vector<std::pair<fs::path, std::string>> out;
  SY_ASSIGN_OR_RETURN(auto entries, list());
  for (const auto& e : entries) {
    if (e.kind == EntryInfo::Kind::temporary) continue;
    if (e.kind == EntryInfo::Kind::not_a_file) {
      out.emplace_back(e.file, "is not a regular file (a " + e.file_type + "): loads bypass it; `switchyard cache clear` or `prune` removes it");
      continue;
    }
    auto m = map_entry(e.file);
    if (!m.ok()) {
      out.emplace_back(e.file, m.status().message());
      continue;
    }
    auto v = open_entry(**m);
    if (!v.ok()) {
      out.emplace_back(e.file, v.status().message());
      continue;
    }
    ParsedHeader h = parse_header(v->header);
    out.emplace_back(e.file, h.digest + kExtension == e.file.filename().string() ? "ok" : "entry name does not match its key");
  }
  return out;
}

CacheCleanup PlanCache::clear() {
  CacheCleanup done;
  for (const auto& item : cache_folder::scan(dir_)) {
    Status st = cache_folder::remove_item(item.path);
    if (st.ok()) ++done.removed;
    else done.failures.push_back(st.message());
  }
  clear_in_memory_models();
  return done;
}

CacheCleanup PlanCache::prune(const DeviceRegistry& devices) {
  std::map<std::string, DeviceKey> present;
  for (const auto& d : devices.devices())
    present[d->id()] = {d->id(), d->plugin_identity().name, d->plugin_identity().version, d->info().identity, d->info().driver_version};
  auto stale = [&](const EntryInfo& e) {
    for (const auto& d : e.key.devices) {
      auto it = present.find(d.id);
      if (it == present.end() || it->second.plugin_version != d.plugin_version || it->second.driver_version != d.driver_version ||
          it->second.identity != d.identity)
        return true;
    }
    return false;
  };
  std::map<fs::path, std::string> checks;
  auto verified = verify();
  auto listed = list();
  if (verified.ok())
    for (auto& [file, result] : *verified) checks[file] = result;
  CacheCleanup done;
  if (!listed.ok()) return done;
  for (const auto& e : *listed) {
    const bool drop = e.kind == EntryInfo::Kind::temporary ? e.orphaned
                      : e.kind == EntryInfo::Kind::not_a_file ? true
                                                              : checks[e.file] != "ok" || stale(e);
    if (!drop) continue;
    Status st = cache_folder::remove_item(e.file);
    if (st.ok()) ++done.removed;
    else done.failures.push_back(st.message());
  }
  return done;
}

Result<int> PlanCache::enforce_limit() const {
  SY_ASSIGN_OR_RETURN(auto entries, list());  // most recent first
  uint64_t total = 0;
  int removed = 0;
  std::error_code ec;
  for (const auto& e : entries) {
    if (e.kind != EntryInfo::Kind::entry) continue;
    total += e.bytes;
    if (total > options_.max_bytes && fs::remove(e.file, ec)) ++removed;
  }
  return removed;
}

}  // namespace switchyard
