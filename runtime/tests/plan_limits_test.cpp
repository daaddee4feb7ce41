// Planning refuses shapes no device could hold before it asks any device (issue 14, finding 6:
// `plan` of such a shape spent 70-91 s in support queries and printed a 120000 MB transfer).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/runtime/partitioned_model.h"

namespace switchyard {
namespace {

TEST(PlanLimits, ImpossibleShapesAreRefusedBeforeSupportQueries) {
  const std::filesystem::path model_file = std::filesystem::path(SWITCHYARD_SHARED_DIR) / "models" / "ppocr_mobile_v2_cls.onnx";
  if (!std::filesystem::exists(model_file)) GTEST_SKIP() << model_file << " is absent (../shared not beside the checkout)";
  auto model = import_onnx_file(model_file);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  DeviceRegistry registry = DeviceRegistry::discover();
  PartitionOptions options;
  options.input_shapes["x"] = {1, 3, 100000, 100000};
  const auto start = std::chrono::steady_clock::now();
  auto planned = PartitionedModel::plan_only(*model, registry, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.status().code(), StatusCode::out_of_memory);
  EXPECT_NE(planned.status().message().find("refused before planning"), std::string::npos) << planned.status().message();
  EXPECT_LT(seconds, 30.0);  // a bound on a hang, not a timing target
  options.input_shapes["x"] = {1, 3, 48, 192};
  EXPECT_TRUE(PartitionedModel::plan_only(*model, registry, options).ok());
}

}  // namespace
}  // namespace switchyard
