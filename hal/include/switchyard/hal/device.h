// Host-side handles over the plugin ABI: LoadedPlugin, Device, Executable, DeviceBuffer.
// They turn ABI statuses into Status, own ABI handles (RAII), and keep the plugin
// library loaded while anything created from it is alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/manifest.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/hal/status.h"
#include "switchyard/hal/support.h"
#include "switchyard/hal/tensor.h"

namespace switchyard {

enum class DeviceKind { cpu, gpu, npu, other };
const char* device_kind_name(DeviceKind k);

// Collects, while alive, every line plugins log on this thread (all levels, "plugin: message"),
// e.g. how a restore went, for load reports. Warnings and errors still go to stderr too.
class PluginLogCapture {
 public:
  PluginLogCapture();
  ~PluginLogCapture();
  PluginLogCapture(const PluginLogCapture&) = delete;
  PluginLogCapture& operator=(const PluginLogCapture&) = delete;
  const std::vector<std::string>& lines() const { return lines_; }
  void add(std::string line) { lines_.push_back(std::move(line)); }

 private:
  std::vector<std::string> lines_;
  PluginLogCapture* outer_;
};

struct DeviceInfo {
  DeviceKind kind = DeviceKind::other;
  DeviceKind reported_kind = DeviceKind::other;
  std::string name, vendor, driver_version, identity;
  uint64_t memory_bytes = 0, max_allocation_bytes = 0;
  double peak_gflops_f32 = 0, peak_gflops_f16 = 0, memory_bandwidth_gbps = 0, host_link_gbps = 0;
  double launch_overhead_us = 0, active_power_watts = 0;
  bool host_visible_memory = false;
  // The float type float32 graphs are computed in (sy_device_info.compute_element_type, ABI 1.2):
  // float16 / bfloat16 for a device that converts them, float32 when exact (and for plugins
  // older than 1.2, which do not report it).
  ElementType compute_element_type = ElementType::float32;
};

struct PluginIdentity {
  std::string name, vendor, version, description;
};

// Converts (and frees) a status the plugin returned. NULL -> OK.
Status take_status(sy_status status);
// The host services given to plugins.
const sy_host_api* host_api();
// A time from sy_host_api.now_ns (profiling events) on the host's steady clock.
std::chrono::steady_clock::time_point time_from_host_ns(uint64_t ns);

class LoadedPlugin;

// Manifest settings and compile options as the ABI passes them: an array of pointers to pairs.
class AbiSettings {
 public:
  explicit AbiSettings(const std::vector<std::pair<std::string, std::string>>& pairs) {
    for (const auto& [k, v] : pairs) settings_.push_back({sizeof(sy_setting), k.c_str(), v.c_str()});
    for (const auto& s : settings_) pointers_.push_back(&s);
  }
  const sy_setting* const* data() const { return pointers_.data(); }
  size_t size() const { return pointers_.size(); }

 private:
  std::vector<sy_setting> settings_;
  std::vector<const sy_setting*> pointers_;
};

class DeviceBuffer {
 public:
  DeviceBuffer(std::shared_ptr<LoadedPlugin> plugin, sy_buffer handle, std::shared_ptr<const void> host_memory = nullptr)
      : plugin_(std::move(plugin)), handle_(handle), host_memory_(std::move(host_memory)) {}
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  sy_buffer handle() const { return handle_; }
  size_t size() const;
  Status write(const void* src, size_t size, size_t offset = 0);
  Status read(void* dst, size_t size, size_t offset = 0) const;

 private:
  std::shared_ptr<LoadedPlugin> plugin_;
  sy_buffer handle_;
  std::shared_ptr<const void> host_memory_;  // an imported buffer's bytes, kept until after the release
};

class Executable;

class Device {
 public:
  Device(std::shared_ptr<LoadedPlugin> plugin, sy_device handle, std::string id, DeviceInfo info)
      : plugin_(std::move(plugin)), handle_(handle), id_(std::move(id)), info_(std::move(info)) {}

  const std::string& id() const { return id_; }  // "cpu:0"
  const DeviceInfo& info() const { return info_; }
  const PluginIdentity& plugin_identity() const;
  const std::shared_ptr<LoadedPlugin>& plugin() const { return plugin_; }

  // One answer per node of the graph. Thread-safe.
  Result<std::vector<NodeSupport>> query_support(const GraphView& graph) const;
  // Compiles the graph; the Graph behind `view` must outlive the executable (weights are used in place).
  Result<std::unique_ptr<Executable>> compile(const GraphView& view, const std::vector<std::pair<std::string, std::string>>& options = {}) const;
  // `data_outlives_executable`: the caller keeps `data` valid and unchanged until the executable is
  // released, so a plugin that provides executable_restore_in_place (ABI 1.3) may use it in place.
  Result<std::unique_ptr<Executable>> restore(const GraphView& view, const void* data, size_t size,
                                              bool data_outlives_executable = false) const;
  Result<std::unique_ptr<DeviceBuffer>> allocate(size_t size) const;
  // The tensor's own bytes as a buffer of this device, without a copy (sy_plugin_api
  // .buffer_import_host); the buffer keeps the tensor's storage alive. nullptr when the plugin
  // does not import host memory or refuses this tensor (a string tensor, misaligned bytes): the
  // caller copies instead.
  Result<std::unique_ptr<DeviceBuffer>> import_host(const Tensor& tensor) const;

 private:
  std::shared_ptr<LoadedPlugin> plugin_;
  sy_device handle_;
  std::string id_;
  DeviceInfo info_;
};

// A tensor on a device: buffer + type and shape.
struct DeviceTensor {
  std::shared_ptr<DeviceBuffer> buffer;
  ElementType type = ElementType::undefined;
  Shape shape;
};

// A value on a device: one tensor, a sequence of tensors, or an (empty) optional.
struct DeviceValue {
  Value::Kind kind = Value::Kind::tensor;
  bool is_optional = false;
  std::vector<DeviceTensor> tensors;

  static DeviceValue of(DeviceTensor t) {
    DeviceValue v;
    v.tensors.push_back(std::move(t));
    return v;
  }
};

// Receives the per-node profiling events a plugin reports (sy_profiler): `node` indexes the
// compiled graph's nodes. Called from the plugin's threads, possibly at once.
class NodeEventSink {
 public:
  virtual ~NodeEventSink() = default;
  virtual void node_event(size_t node, const char* implementation, std::chrono::steady_clock::time_point start,
                          std::chrono::steady_clock::time_point end) = 0;
};

// What the host asks of one execution besides its inputs: a flag the plugin polls (non-zero: stop,
// SY_ERROR_CANCELLED), a memory limit (sy_execute_args.max_memory_bytes; 0 = none) and, when
// tracing, where per-node events go (must outlive the execution).
struct ExecuteControl {
  const volatile int32_t* cancel_flag = nullptr;
  uint64_t max_memory_bytes = 0;
  NodeEventSink* node_events = nullptr;
};

class Executable {
 public:
  // `view` is the graph compiled: its outputs' count and kinds fix how execute() calls the plugin.
  Executable(std::shared_ptr<LoadedPlugin> plugin, sy_executable handle, const Device* device, const sy_graph& view);
  ~Executable();
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  Result<std::vector<uint8_t>> serialize() const;
  // The one way to execute. Starts executing, with inputs already on the device, and returns at
  // once; `done` runs exactly once when the plugin signals completion (on the plugin's thread, or
  // on this one before returning). Outputs are buffers the plugin allocated. Sequence and optional
  // values take the ABI 1.1 value form, all-tensor calls the plain tensor form. Thread-safe.
  void execute_async(std::vector<DeviceValue> inputs, const ExecuteControl& control,
                     std::function<void(Result<std::vector<DeviceValue>>)> done) const;
  // execute_async plus a wait.
  Result<std::vector<DeviceValue>> execute(std::vector<DeviceValue> inputs, const ExecuteControl& control = {}) const;
  // The same, for graphs whose inputs and outputs are all tensors (tests, benchmarks).
  Result<std::vector<DeviceTensor>> execute(const std::vector<DeviceTensor>& inputs, const ExecuteControl& control = {}) const;
  // True if the plugin speaks ABI 1.1 or later (sequence and optional values).
  const Device& device() const { return *device_; }

 private:
  std::shared_ptr<LoadedPlugin> plugin_;
  sy_executable handle_;
  const Device* device_;
  size_t num_outputs_;
  bool outputs_all_tensors_;
};

// Host tensor <-> device tensor.
Result<DeviceTensor> upload(const Device& device, const Tensor& tensor);
Result<Tensor> download(const DeviceTensor& tensor);
Result<DeviceValue> upload_value(const Device& device, const Value& value);
Result<Value> download_value(const DeviceValue& value);

// A plugin library, loaded and initialised. Created by the PluginLoader.
class LoadedPlugin {
 public:
  ~LoadedPlugin();
  const Manifest& manifest() const { return manifest_; }
  const PluginIdentity& identity() const { return identity_; }
  const sy_plugin_api& api() const { return *api_; }
  sy_plugin handle() const { return handle_; }
  std::string diagnostics() const;

 private:
  friend class PluginLoader;
  LoadedPlugin() = default;
  Manifest manifest_;
  PluginIdentity identity_;
  std::shared_ptr<void> library_;  // keeps the shared library mapped; released last
  const sy_plugin_api* api_ = nullptr;
  sy_plugin handle_ = nullptr;
};

}  // namespace switchyard
