// The RAII handles over ABI objects: Device (support queries, compile, restore, buffers),
// DeviceBuffer and Executable's lifetime and serialisation. Execution is in execute.cpp.
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/abi_calls.h"
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
  if (handle_) SY_CALL_PLUGIN(plugin_->api(), buffer_release, handle_);
}
size_t DeviceBuffer::size() const { return SY_CALL_PLUGIN(plugin_->api(), buffer_size, handle_); }
Status DeviceBuffer::write(const void* src, size_t size, size_t offset) {
  return take_status(SY_CALL_PLUGIN(plugin_->api(), buffer_write, handle_, offset, src, size));
}
Status DeviceBuffer::read(void* dst, size_t size, size_t offset) const {
  return take_status(SY_CALL_PLUGIN(plugin_->api(), buffer_read, handle_, offset, dst, size));
}

const PluginIdentity& Device::plugin_identity() const { return plugin_->identity(); }

namespace {
// The collector behind sy_support_report: one answer per node, "no answer" until reported.
struct SupportAnswers {
  std::vector<NodeSupport> nodes;
  size_t out_of_range = 0;

  static void node(void* context, size_t index, sy_support_reason reason, const char* message, const char* implementation) {
    auto* self = static_cast<SupportAnswers*>(context);
    if (index >= self->nodes.size()) {
      ++self->out_of_range;
      return;
    }
    self->nodes[index] = NodeSupport::from_abi(reason, message, implementation);
  }
};
}  // namespace

Result<std::vector<NodeSupport>> Device::query_support(const GraphView& view) const {
  const sy_graph* g = view.get();
  SupportAnswers answers;
  NodeSupport unanswered;
  unanswered.message = "the plugin gave no answer for this node";
  answers.nodes.assign(g->num_nodes, unanswered);
  const sy_support_report report{sizeof(sy_support_report), &answers, &SupportAnswers::node};
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(plugin_->api(), query_support, handle_, g, &report)).with_context(id_ + ": query_support"));
  if (answers.out_of_range)
    return Status(StatusCode::internal, id_ + ": query_support answered " + std::to_string(answers.out_of_range) + " node index(es) past the graph's " +
                                            std::to_string(g->num_nodes) + " nodes");
  return std::move(answers.nodes);
}


Result<std::unique_ptr<Executable>> Device::compile(const GraphView& view,
                                                    const std::vector<std::pair<std::string, std::string>>& options) const {
  AbiSettings opts(options);
  sy_executable exe = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(plugin_->api(), compile, handle_, view.get(), opts.data(), opts.size(), &exe)).with_context(id_ + ": compile"));
  if (!exe) return Status(StatusCode::internal, id_ + ": compile returned no executable");
  return std::make_unique<Executable>(plugin_, exe, this, *view.get());
}

Result<std::unique_ptr<Executable>> Device::restore(const GraphView& view, const void* data, size_t size,
                                                    bool data_outlives_executable) const {
  const sy_plugin_api& api = plugin_->api();
  const bool in_place = data_outlives_executable && api.executable_restore_in_place != nullptr;
  sy_executable exe = nullptr;
  sy_status restored = in_place ? SY_CALL_PLUGIN(api, executable_restore_in_place, handle_, view.get(), data, size, &exe)
                                : SY_CALL_PLUGIN(api, executable_restore, handle_, view.get(), data, size, &exe);
  SY_RETURN_IF_ERROR(take_status(restored).with_context(id_ + ": restore"));
  if (!exe) return Status(StatusCode::internal, id_ + ": restore returned no executable");
  return std::make_unique<Executable>(plugin_, exe, this, *view.get());
}

Result<std::unique_ptr<DeviceBuffer>> Device::allocate(size_t size) const {
  sy_buffer b = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(plugin_->api(), buffer_alloc, handle_, size, &b)).with_context(id_ + ": buffer_alloc"));
  if (!b) return Status(StatusCode::internal, id_ + ": buffer_alloc returned no buffer");
  return std::make_unique<DeviceBuffer>(plugin_, b);
}

Result<std::unique_ptr<DeviceBuffer>> Device::import_host(const Tensor& tensor) const {
  const auto import = plugin_->api().buffer_import_host;
  if (!import || tensor.type() == ElementType::string || tensor.byte_size() == 0 ||
      reinterpret_cast<uintptr_t>(tensor.raw()) % 64 != 0)
    return std::unique_ptr<DeviceBuffer>();
  auto owner = std::make_shared<Tensor>(tensor);  // shares the storage
  sy_buffer b = nullptr;
  // The plugin may not write an imported input (the ABI's execute never writes inputs).
  Status st = take_status(call_plugin("sy_plugin_api.buffer_import_host", import, handle_, const_cast<void*>(owner->raw()), owner->byte_size(), &b));
  if (st.code() == StatusCode::unsupported) return std::unique_ptr<DeviceBuffer>();
  SY_RETURN_IF_ERROR(st.with_context(id_ + ": buffer_import_host"));
  if (!b) return Status(StatusCode::internal, id_ + ": buffer_import_host returned no buffer");
  return std::make_unique<DeviceBuffer>(plugin_, b, std::move(owner));
}

Executable::Executable(std::shared_ptr<LoadedPlugin> plugin, sy_executable handle, const Device* device, const sy_graph& view)
    : plugin_(std::move(plugin)), handle_(handle), device_(device), num_outputs_(view.num_outputs), outputs_all_tensors_(true) {
  for (size_t i = 0; i < view.num_outputs; ++i)
    outputs_all_tensors_ = outputs_all_tensors_ && view.values[view.outputs[i]]->kind == SY_VALUE_TENSOR;
}

Executable::~Executable() {
  if (handle_) SY_CALL_PLUGIN(plugin_->api(), executable_release, handle_);
}

Result<std::vector<uint8_t>> Executable::serialize() const {
  size_t size = 0;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(plugin_->api(), executable_serialize, handle_, nullptr, 0, &size)));
  std::vector<uint8_t> bytes(size);
  size_t written = 0;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(plugin_->api(), executable_serialize, handle_, bytes.data(), bytes.size(), &written)));
  bytes.resize(written);
  return bytes;
}

}  // namespace switchyard
