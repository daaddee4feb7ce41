// Policy parsing tests.
#include <gtest/gtest.h>

#include "switchyard/partitioner/policy.h"

namespace switchyard {
namespace {

TEST(Policy, ParsesEveryField) {
  auto p = Policy::from_yaml_string(R"(
units: cpu-and-npu
objective: power
strict: true
pin:
  nodes: {conv_17: "cpu:0"}
  ops: {Softmax: "cpu:0"}
ban:
  nodes: {resize_3: ["npu:0"]}
  ops: {Resize: "gpu:0"}
)");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(p->units, ComputeUnits::cpu_and_npu);
  EXPECT_EQ(p->objective, Objective::power);
  EXPECT_TRUE(p->strict);
  EXPECT_EQ(p->pin_nodes.at("conv_17"), "cpu:0");
  EXPECT_EQ(p->pin_ops.at("Softmax"), "cpu:0");
  EXPECT_EQ(p->ban_nodes.at("resize_3").count("npu:0"), 1u);
  EXPECT_EQ(p->ban_ops.at("Resize").count("gpu:0"), 1u);
  auto same = Policy::from_yaml_string("objective: power\nunits: cpu-and-npu\nstrict: true\npin: {nodes: {conv_17: cpu:0}, ops: {Softmax: cpu:0}}\nban: {nodes: {resize_3: [npu:0]}, ops: {Resize: [gpu:0]}}\n");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(p->canonical(), same->canonical());
}

TEST(Policy, ObjectivesParseAndAutoResolvesByUnits) {
  for (const char* o : {"auto", "latency", "power", "accelerator"}) {
    auto p = Policy::from_yaml_string(std::string("objective: ") + o + "\n");
    ASSERT_TRUE(p.ok()) << o;
    EXPECT_STREQ(objective_name(p->objective), o);
  }
  auto bad = Policy::from_yaml_string("objective: fastest\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("objective must be auto, latency, power or accelerator, got 'fastest'"), std::string::npos);
  Policy p;
  EXPECT_EQ(p.effective_objective(), Objective::latency);
  p.units = ComputeUnits::cpu_and_npu;
  EXPECT_EQ(p.effective_objective(), Objective::accelerator);
  EXPECT_NE(p.canonical().find("objective=accelerator"), std::string::npos);
  p.objective = Objective::latency;
  EXPECT_EQ(p.effective_objective(), Objective::latency);
  p.objective = Objective::automatic;
  p.devices = {"npu:0", "cpu:0"};  // an explicit list keeps the cost model unless asked
  EXPECT_EQ(p.effective_objective(), Objective::latency);
}

TEST(Policy, ErrorsNameTheProblem) {
  auto bad_units = Policy::from_yaml_string("units: cpu-and-tpu\n");
  ASSERT_FALSE(bad_units.ok());
  EXPECT_NE(bad_units.status().message().find("unknown compute units 'cpu-and-tpu'"), std::string::npos);
  auto unknown_key = Policy::from_yaml_string("unitz: all\n");
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_NE(unknown_key.status().message().find("unknown key 'unitz'"), std::string::npos);
  auto malformed = Policy::from_yaml_string("units: [all\n");
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.status().message().find("malformed YAML"), std::string::npos);
  auto objective = Policy::from_yaml_string("objective: cheap\n");
  ASSERT_FALSE(objective.ok());
  auto missing = Policy::from_yaml_file("/nonexistent/policy.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
}

}  // namespace
}  // namespace switchyard
