// The RAII handles over ABI objects: Device (support queries, compile, restore, buffers),
// DeviceBuffer and Executable's lifetime and serialisation. Execution is in execute.cpp.
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/plugin_loader.h"

namespace switchyard {

const char* device_kind_name(DeviceKind k) {
  switch (k) {
    case DeviceKind::cpu: return "cpu";
    case DeviceKind::gpu: return "gpu";
    case DeviceKind::npu: return "npu";
    case DeviceKind::other: return "other";
  }
  return "other";
}

DeviceBuffer::~DeviceBuffer() {
  if (handle_) plugin_->api().buffer_release(handle_);
}
size_t DeviceBuffer::size() const { return plugin_->api().buffer_size(handle_); }
Status DeviceBuffer::write(const void* src, size_t size, size_t offset) {
  return take_status(plugin_->api().buffer_write(handle_, offset, src, size));
}
Status DeviceBuffer::read(void* dst, size_t size, size_t offset) const {
  return take_status(plugin_->api().buffer_read(handle_, offset, dst, size));
}

const PluginIdentity& Device::plugin_identity() const { return plugin_->identity(); }

Result<std::vector<NodeSupport>> Device::query_support(const GraphView& view) const {
  const sy_graph* g = view.get();
  std::vector<sy_node_support> raw(g->num_nodes);  // value-initialised: zeroed
  SY_RETURN_IF_ERROR(take_status(plugin_->api().query_support(handle_, g, raw.data())).with_context(id_ + ": query_support"));
  std::vector<NodeSupport> out;
  out.reserve(raw.size());
  for (const auto& r : raw) out.push_back(NodeSupport::from_abi(r));
  return out;
}

Result<std::unique_ptr<Executable>> Device::compile(const GraphView& view,
                                                    const std::vector<std::pair<std::string, std::string>>& options) const {
  std::vector<sy_setting> opts;
  for (const auto& [k, v] : options) opts.push_back({k.c_str(), v.c_str()});
  sy_executable exe = nullptr;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().compile(handle_, view.get(), opts.data(), opts.size(), &exe)).with_context(id_ + ": compile"));
  if (!exe) return Status(StatusCode::internal, id_ + ": compile returned no executable");
  return std::make_unique<Executable>(plugin_, exe, this, *view.get());
}

Result<std::unique_ptr<Executable>> Device::restore(const GraphView& view, const void* data, size_t size,
                                                    bool data_outlives_executable) const {
  const sy_plugin_api& api = plugin_->api();
  const bool in_place = data_outlives_executable &&
                        api.struct_size >= offsetof(sy_plugin_api, executable_restore_in_place) + sizeof(void*) &&
                        api.executable_restore_in_place != nullptr;
  sy_executable exe = nullptr;
  SY_RETURN_IF_ERROR(take_status((in_place ? api.executable_restore_in_place : api.executable_restore)(handle_, view.get(), data, size, &exe))
                         .with_context(id_ + ": restore"));
  if (!exe) return Status(StatusCode::internal, id_ + ": restore returned no executable");
  return std::make_unique<Executable>(plugin_, exe, this, *view.get());
}

Result<std::unique_ptr<DeviceBuffer>> Device::allocate(size_t size) const {
  sy_buffer b = nullptr;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().buffer_alloc(handle_, size, &b)).with_context(id_ + ": buffer_alloc"));
  if (!b) return Status(StatusCode::internal, id_ + ": buffer_alloc returned no buffer");
  return std::make_unique<DeviceBuffer>(plugin_, b);
}

Executable::Executable(std::shared_ptr<LoadedPlugin> plugin, sy_executable handle, const Device* device, const sy_graph& view)
    : plugin_(std::move(plugin)), handle_(handle), device_(device), num_outputs_(view.num_outputs), outputs_all_tensors_(true) {
  for (size_t i = 0; i < view.num_outputs; ++i)
    outputs_all_tensors_ = outputs_all_tensors_ && view.values[view.outputs[i]].kind == SY_VALUE_TENSOR;
}

Executable::~Executable() {
  if (handle_) plugin_->api().executable_release(handle_);
}

Result<std::vector<uint8_t>> Executable::serialize() const {
  size_t size = 0;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().executable_serialize(handle_, nullptr, 0, &size)));
  std::vector<uint8_t> bytes(size);
  size_t written = 0;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().executable_serialize(handle_, bytes.data(), bytes.size(), &written)));
  bytes.resize(written);
  return bytes;
}

}  // namespace switchyard
