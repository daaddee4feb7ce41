#include "switchyard/runtime/model_loader.h"

#include <chrono>

#include "switchyard/hal/mapped_file.h"
#include "switchyard/runtime/onnx_import.h"

namespace switchyard {

namespace fs = std::filesystem;

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// The model file, mapped once: hashed for the key, and parsed from the same bytes on a miss.
Result<std::shared_ptr<const MappedFile>> map_model(const fs::path& model_file) {
  auto mapped = MappedFile::open(model_file, "model file");
  if (!mapped.ok()) {
    if (mapped.status().code() == StatusCode::not_found)
      return Status(StatusCode::not_found, "model file '" + model_file.string() + "' not found");
    return mapped.status();
  }
  if ((*mapped)->size() > kMaxModelBytes)
    return Status(StatusCode::invalid_argument, "'" + model_file.string() + "' is larger than the 2 GiB protobuf limit");
  return std::move(mapped).value();
}

// A miss: import the mapped bytes (external data beside the model file).
Result<std::shared_ptr<Model>> import_model(const MappedFile& bytes, const fs::path& model_file, const fs::path& model_dir) {
  ImportOptions io;
  io.base_dir = model_dir;
  auto model = import_onnx_bytes(bytes.data(), bytes.size(), io);
  if (!model.ok()) {
    // A model that cannot be imported is a bad model (even when what it lacks is a file it names):
    // not_found is kept for what the caller asked for and is absent (a device, the model file).
    const Status& st = model.status();
    return Status(st.code() == StatusCode::not_found ? StatusCode::invalid_argument : st.code(), st.message())
        .with_context(model_file.filename().string());
  }
  (*model)->path = model_file;
  return model;
}

}  // namespace

Result<std::shared_ptr<PartitionedModel>> load_model(const fs::path& model_file, const DeviceRegistry& devices,
                                                     const PartitionOptions& options, const PlanCache& cache, LoadReport* report) {
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  rep = LoadReport{};
  const auto t0 = std::chrono::steady_clock::now();
  SY_ASSIGN_OR_RETURN(auto bytes, map_model(model_file));
  const std::string model_hash = PlanCache::model_hash(*bytes);  // paged in again only on a miss (import)
  rep.hash_ms = ms_since(t0);
  SY_ASSIGN_OR_RETURN(CacheKey key, cache.key_for(model_file, model_hash, devices, options));
  const fs::path model_dir = model_file.parent_path().empty() ? fs::path(".") : model_file.parent_path();

  bool storable = false;
  SY_ASSIGN_OR_RETURN(auto cached, cache.fetch(key, model_dir, devices, rep, storable));
  if (cached) {
    rep.state = CacheState::cached;
    rep.load_ms = ms_since(t0);
    return cached;
  }
  const auto t_import = std::chrono::steady_clock::now();
  SY_ASSIGN_OR_RETURN(auto model, import_model(*bytes, model_file, model_dir));
  rep.import_ms = ms_since(t_import);
  SY_ASSIGN_OR_RETURN(auto pm, PartitionedModel::load(model, devices, options));
  rep.state = CacheState::uncached;
  rep.load_ms = ms_since(t0);
  if (storable) cache.store(key, pm, model->external_data_files, model_dir, rep);
  return pm;
}

}  // namespace switchyard
