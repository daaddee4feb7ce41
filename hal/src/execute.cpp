// Executable's one execution path: execute_async marshals the arguments across the ABI and takes
// the plugin's outputs back in its completion callback; execute() is execute_async plus a wait.
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/wait.h"

namespace switchyard {

namespace {
sy_value_kind abi_kind(Value::Kind k) { return k == Value::Kind::sequence ? SY_VALUE_SEQUENCE : SY_VALUE_TENSOR; }

sy_tensor_arg tensor_arg(const DeviceTensor& t) {
  sy_tensor_arg a{};
  a.buffer = t.buffer ? t.buffer->handle() : nullptr;
  a.elem_type = static_cast<int32_t>(t.type);
  a.rank = static_cast<int32_t>(t.shape.size());
  a.dims = t.shape.data();
  return a;
}

sy_value_arg value_arg(const DeviceValue& in, std::vector<sy_tensor_arg>& items) {
  for (const auto& t : in.tensors) items.push_back(tensor_arg(t));
  sy_value_arg a{};
  a.num_tensors = items.size();
  a.tensors = items.data();
  if (in.is_optional) {
    a.kind = SY_VALUE_OPTIONAL;
    a.has_value = in.kind != Value::Kind::none;
    a.element_kind = abi_kind(in.kind);
  } else {
    a.kind = abi_kind(in.kind);
    a.element_kind = a.kind;
    a.has_value = 1;
  }
  return a;
}

bool is_plain_tensor(const DeviceValue& v) { return v.kind == Value::Kind::tensor && !v.is_optional && v.tensors.size() == 1; }

// One execute() call in flight: owns the argument arrays (and, through `inputs`, the input
// buffers) until the plugin completes. `values` selects the ABI 1.1 value form, needed when an
// input or output is a sequence or an optional; all-tensor calls use the plain tensor form.
struct Call {
  std::shared_ptr<LoadedPlugin> plugin;
  const Device* device = nullptr;
  bool values = false;
  std::vector<DeviceValue> inputs;
  std::vector<std::vector<sy_tensor_arg>> items;
  std::vector<sy_value_arg> value_args;
  std::vector<sy_tensor_arg> tensor_args;
  std::vector<sy_value_out> value_outs;
  std::vector<sy_tensor_out> tensor_outs;
  std::function<void(Result<std::vector<DeviceValue>>)> done;

  void marshal(sy_execute_args& ea, size_t num_outputs);
  Result<std::vector<DeviceValue>> take_outputs(Status status);
};

void Call::marshal(sy_execute_args& ea, size_t num_outputs) {
  ea.struct_size = sizeof ea;
  ea.num_inputs = inputs.size();
  ea.num_outputs = num_outputs;
  if (values) {
    items.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) value_args.push_back(value_arg(inputs[i], items[i]));
    value_outs.resize(num_outputs);
    for (auto& o : value_outs) std::memset(&o, 0, sizeof o);
    ea.input_values = value_args.data();
    ea.output_values = value_outs.data();
  } else {
    for (const auto& in : inputs) tensor_args.push_back(tensor_arg(in.tensors[0]));
    tensor_outs.resize(num_outputs);
    for (auto& o : tensor_outs) std::memset(&o, 0, sizeof o);
    ea.inputs = tensor_args.data();
    ea.outputs = tensor_outs.data();
  }
}

// Takes ownership of every buffer the plugin handed over (even on failure), then checks them.
std::string where(const Device* device) { return device->id() + ": execute"; }

DeviceTensor take_tensor_out(const std::shared_ptr<LoadedPlugin>& plugin, const sy_tensor_out& to, Status& bad, const Device* device,
                             size_t output) {
  DeviceTensor dt;
  if (to.buffer) dt.buffer = std::make_shared<DeviceBuffer>(plugin, to.buffer);
  auto type = element_type_from_int(to.elem_type);
  if (!type || to.rank < 0 || to.rank > SY_MAX_RANK) {
    if (bad.ok()) bad = Status(StatusCode::internal, where(device) + " reported a bad type or rank for output " + std::to_string(output));
  } else {
    dt.type = *type;
    dt.shape.assign(to.dims, to.dims + to.rank);
  }
  return dt;
}

Result<std::vector<DeviceValue>> Call::take_outputs(Status status) {
  std::vector<DeviceValue> result;
  Status bad;
  for (size_t i = 0; values && i < value_outs.size(); ++i) {
    sy_value_out& o = value_outs[i];
    DeviceValue v;
    v.is_optional = o.kind == SY_VALUE_OPTIONAL;
    sy_value_kind k = v.is_optional ? o.element_kind : o.kind;
    v.kind = v.is_optional && !o.has_value ? Value::Kind::none : k == SY_VALUE_SEQUENCE ? Value::Kind::sequence : Value::Kind::tensor;
    for (size_t t = 0; o.tensors && t < o.num_tensors; ++t) v.tensors.push_back(take_tensor_out(plugin, o.tensors[t], bad, device, i));
    std::free(o.tensors);
    o.tensors = nullptr;
    if (status.ok() && bad.ok() && v.kind == Value::Kind::tensor && v.tensors.size() != 1)
      bad = Status(StatusCode::internal, where(device) + " returned " + std::to_string(v.tensors.size()) + " tensors for tensor output " + std::to_string(i));
    result.push_back(std::move(v));
  }
  for (size_t i = 0; !values && i < tensor_outs.size(); ++i) {
    DeviceValue v;
    v.tensors.push_back(take_tensor_out(plugin, tensor_outs[i], bad, device, i));
    result.push_back(std::move(v));
  }
  if (!status.ok()) return status.with_context(where(device));
  if (!bad.ok()) return bad;
  return result;
}

void on_complete(void* user, sy_status status) {
  std::unique_ptr<Call> call(static_cast<Call*>(user));
  auto result = call->take_outputs(take_status(status));
  auto done = std::move(call->done);
  call.reset();  // release the inputs before reporting
  done(std::move(result));
}
}  // namespace

bool Executable::supports_values() const { return plugin_->api().abi_minor >= 1; }

void Executable::execute_async(std::vector<DeviceValue> inputs, const ExecuteControl& control,
                               std::function<void(Result<std::vector<DeviceValue>>)> done) const {
  auto call = std::make_unique<Call>();
  call->plugin = plugin_;
  call->device = device_;
  call->values = !outputs_all_tensors_;
  for (const auto& in : inputs) call->values = call->values || !is_plain_tensor(in);
  if (call->values && !supports_values()) {
    done(Status(StatusCode::unsupported, device_->id() + ": the plugin speaks ABI 1." + std::to_string(plugin_->api().abi_minor) +
                                             ", which cannot pass sequence or optional values (needs 1.1)"));
    return;
  }
  call->inputs = std::move(inputs);
  call->done = std::move(done);
  sy_execute_args ea{};
  call->marshal(ea, num_outputs_);
  ea.on_complete = on_complete;
  ea.cancel_flag = control.cancel_flag;
  ea.max_memory_bytes = control.max_memory_bytes;
  Call* raw = call.release();
  ea.user_data = raw;
  Status st = take_status(plugin_->api().execute(handle_, &ea));
  if (!st.ok()) {
    // Not accepted: the plugin will not call on_complete.
    std::unique_ptr<Call> owned(raw);
    auto d = std::move(owned->done);
    owned.reset();
    d(st.with_context(device_->id() + ": execute"));
  }
}

Result<std::vector<DeviceValue>> Executable::execute(std::vector<DeviceValue> inputs, const ExecuteControl& control) const {
  return wait_for<Result<std::vector<DeviceValue>>>([&](auto done) { execute_async(std::move(inputs), control, std::move(done)); });
}

Result<std::vector<DeviceTensor>> Executable::execute(const std::vector<DeviceTensor>& inputs, const ExecuteControl& control) const {
  std::vector<DeviceValue> values;
  values.reserve(inputs.size());
  for (const auto& t : inputs) values.push_back(DeviceValue::of(t));
  SY_ASSIGN_OR_RETURN(auto outputs, execute(std::move(values), control));
  std::vector<DeviceTensor> tensors;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].kind != Value::Kind::tensor || outputs[i].is_optional || outputs[i].tensors.size() != 1)
      return Status(StatusCode::invalid_argument, device_->id() + ": output " + std::to_string(i) + " is not a tensor (use the value form)");
    tensors.push_back(std::move(outputs[i].tensors[0]));
  }
  return tensors;
}

}  // namespace switchyard
