// switchyard plan: how a model would be split across the devices present, and why.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "policy_args.h"
#include "switchyard/runtime/discovery.h"
#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/runtime/shape_inference.h"

namespace switchyard::cli {

int cmd_plan(const std::vector<std::string>& argv) {
  std::vector<std::string> flags = {"--format", "--input-shape"}, switches;
  flags.insert(flags.end(), kPolicyFlags.begin(), kPolicyFlags.end());
  switches.insert(switches.end(), kPolicySwitches.begin(), kPolicySwitches.end());
  auto parsed = Args::parse(argv, flags, switches);
  if (!parsed.ok()) return fail(parsed.status().message(), 2);
  const Args& args = *parsed;
  if (args.positional().size() != 1)
    return fail("usage: switchyard plan MODEL [--units U | --device ID...] [--policy FILE] [--objective auto|latency|power|accelerator] [--strict] "
                "[--input-shape NAME=D0,D1,...] [--format table|json|dot]",
                2);
  const std::string format = args.get("--format").value_or("table");
  if (format != "table" && format != "json" && format != "dot") return fail("--format must be table, json or dot, got '" + format + "'", 2);
  auto policy = policy_from_args(args);
  if (!policy.ok()) return fail(policy.status().message(), 2);
  auto model = import_onnx_file(args.positional()[0]);
  if (!model.ok()) return fail(model.status().to_string());
  DeviceRegistry registry = DeviceRegistry::discover(discovery_for(*policy));
  PartitionOptions options;
  options.policy = *policy;
  if (Status st = range_check_from_args(args, &options.range_check); !st.ok()) return fail(st.message(), 2);
  if (Status st = check_calibration_inputs((*model)->graph, options.range_check); !st.ok()) return fail(st.message(), 2);
  for (const auto& spec : args.all("--input-shape")) {
    auto shapes = parse_input_shapes(spec);
    if (!shapes.ok()) return fail(shapes.status().message(), 2);
    options.input_shapes.insert(shapes->begin(), shapes->end());
  }
  // Symbolic input dims: planned at 1 (what `run` and `bench` generate), said in the output.
  std::string assumed, unresolved;
  auto defaults = default_input_shapes((*model)->graph, options.input_shapes, &assumed, &unresolved);
  options.input_shapes.insert(defaults.begin(), defaults.end());
  auto pm = PartitionedModel::plan_only(*model, registry, options);
  if (!pm.ok()) return fail(pm.status().to_string(), pm.status().code() == StatusCode::not_found ? 2 : 1);
  const Plan& plan = (*pm)->plan();
  const Graph& g = (*pm)->graph();
  if (format == "json") std::fputs(plan.to_json(g).c_str(), stdout);
  else if (format == "dot") std::fputs(plan.to_dot(g).c_str(), stdout);
  else {
    std::printf("model: %s\n", args.positional()[0].c_str());
    if (!assumed.empty()) std::printf("input shapes: %s; symbolic batch dims planned at 1 (choose with --input-shape)\n", assumed.c_str());
    if (!unresolved.empty())
      std::printf("input shapes: %s planned with symbolic dims: static-shape devices refuse what depends on them; "
                  "give --input-shape NAME=D0,D1,...\n", unresolved.c_str());
    std::fputs(plan.to_table(g).c_str(), stdout);
    if (!(*pm)->range_check_note().empty()) std::printf("\n%s\n", (*pm)->range_check_note().c_str());
    const PartitionTimes& t = (*pm)->times();
    std::printf("\nplanned in %.2f ms (support queries %.2f ms, range check %.2f ms, partitioning %.2f ms)\n",
                t.prepare_ms + t.support_ms + t.range_check_ms + t.partition_ms, t.support_ms, t.range_check_ms, t.partition_ms);
  }
  return 0;
}

}  // namespace switchyard::cli
