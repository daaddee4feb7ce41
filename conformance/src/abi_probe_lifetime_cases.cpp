// The api suite's lifetime cases: outputs that outlive their inputs and their executable, the
// plugin loaded, used and shut down again and again, and two loads alive at once (as two device
// registries in one process make them).
#include <cstring>

#include "abi_probe.h"
#include "switchyard/hal/plugin_loader.h"

namespace switchyard::conformance::abi {

namespace {

// Output buffers are the host's: they stay readable after the inputs and the executable are gone.
CaseResult outputs_outlive_executable(const AbiDevice& d, const ProbeModel& probe) {
  auto exe = compile(d, probe);
  auto data = probe_data(probe, 1);
  if (!exe.ok() || !data.ok()) return failed("compile", "the device claims the model, but " + describe(exe.ok() ? data.status() : exe.status()));
  ExecuteOutcome outcome = execute(d, exe->get(), data->inputs, data->expected, {}, /*keep_output_buffers=*/true);
  if (std::string p = exact_mismatch(outcome, data->expected); !p.empty()) return failed("execute", p);
  exe->reset();  // the inputs went when execute returned
  for (size_t i = 0; i < outcome.output_buffers.size(); ++i) {
    const Tensor& want = data->expected[i].tensor;
    auto got = download(d, outcome.output_buffers[i].get(), want.type(), want.shape());
    if (!got.ok()) return failed("lifetime", "output " + std::to_string(i) + " after its executable was released: " + describe(got.status()));
    if (std::memcmp(got->raw(), want.raw(), want.byte_size()) != 0)
      return failed("lifetime", "output " + std::to_string(i) + " changed once its inputs and executable were released");
  }
  return passed();
}

// One whole life: load, compile, execute (exact), release, shut down.
std::string one_life(const AbiDevice& d, const ProbeModel& probe) {
  auto loaded = PluginLoader::load(d.host_device->plugin()->manifest());
  if (!loaded.ok()) return "load: " + describe(loaded.status());
  auto again = reloaded_device(**loaded, d);
  if (!again.ok()) return describe(again.status());
  auto exe = compile(*again, probe);
  auto data = probe_data(probe, 2);
  if (!exe.ok() || !data.ok()) return describe(exe.ok() ? data.status() : exe.status());
  return exact_mismatch(execute(*again, exe->get(), data->inputs, data->expected), data->expected);
}  // executable, then plugin (shutdown) released here

CaseResult repeated_init_shutdown(const AbiDevice& d, const ProbeModel& probe) {
  constexpr int kLives = 3;
  for (int i = 0; i < kLives; ++i)
    if (std::string p = one_life(d, probe); !p.empty()) return failed("lifetime", "load " + std::to_string(i + 1) + " of " + std::to_string(kLives) + ": " + p);
  return passed(std::to_string(kLives) + " loads, each initialised, used and shut down");
}

// Two more loads alive at once: the first is shut down while the second still holds an
// executable, which must go on working.
CaseResult two_loads_at_once(const AbiDevice& d, const ProbeModel& probe) {
  auto first = PluginLoader::load(d.host_device->plugin()->manifest());
  auto second = PluginLoader::load(d.host_device->plugin()->manifest());
  if (!first.ok() || !second.ok()) return failed("initialize", describe(first.ok() ? second.status() : first.status()));
  auto a = reloaded_device(**first, d), b = reloaded_device(**second, d);
  if (!a.ok() || !b.ok()) return failed("device_get", describe(a.ok() ? b.status() : a.status()));
  auto exe_a = compile(*a, probe), exe_b = compile(*b, probe);
  auto data = probe_data(probe, 3);
  if (!exe_a.ok() || !exe_b.ok() || !data.ok())
    return failed("compile", describe(!exe_a.ok() ? exe_a.status() : !exe_b.ok() ? exe_b.status() : data.status()));
  if (std::string p = exact_mismatch(execute(*a, exe_a->get(), data->inputs, data->expected), data->expected); !p.empty())
    return failed("lifetime", "the first of two loads: " + p);
  exe_a->reset();
  first->reset();  // the first load's shutdown
  if (std::string p = exact_mismatch(execute(*b, exe_b->get(), data->inputs, data->expected), data->expected); !p.empty())
    return failed("lifetime", "the second load, after the first was shut down: " + p);
  return passed();
}

}  // namespace

std::vector<CaseSpec> api_lifetime_cases() {
  const auto& kinds = all_probes();
  return {
      probe_case("api", "lifetime_outputs_outlive_executable", kinds, outputs_outlive_executable),
      probe_case("api", "lifetime_repeated_init_shutdown", kinds, repeated_init_shutdown),
      probe_case("api", "lifetime_two_loads_at_once", kinds, two_loads_at_once),
  };
}

}  // namespace switchyard::conformance::abi
