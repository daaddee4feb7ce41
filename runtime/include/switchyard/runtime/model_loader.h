// The one way to load a model: `switchyard run`, `bench` and the library all come through
// load_model. It consults the plan cache, which only stores and fetches; on a miss it imports,
// plans and compiles here, then hands the result to the cache.
#pragma once

#include <filesystem>
#include <memory>

#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/runtime/plan_cache.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/status.h"

namespace switchyard {

// Loads `model_file` under `options` for `devices`: from `cache` when it holds a valid entry (or the
// model is already loaded in this process), otherwise by importing, planning and compiling, then
// storing the result (storing's failures are warnings). `report` says which, why, and how long each
// phase took. Errors: not_found (the file), invalid_argument (too large, or a model that cannot be
// imported, named by its file), and whatever planning or compiling reports.
Result<std::shared_ptr<PartitionedModel>> load_model(const std::filesystem::path& model_file, const DeviceRegistry& devices,
                                                     const PartitionOptions& options, const PlanCache& cache,
                                                     LoadReport* report = nullptr);

}  // namespace switchyard
