// Executable::execute, execute_values and execute_async: marshalling arguments across the ABI and
// taking the plugin's outputs and completions back.
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/plugin_loader.h"

namespace switchyard {

namespace {
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
};

void on_complete(void* user, sy_status status) {
  auto* c = static_cast<Completion*>(user);
  Status s = take_status(status);
  std::lock_guard<std::mutex> lock(c->mu);
  c->status = std::move(s);
  c->done = true;
  c->cv.notify_all();
}
}  // namespace

Result<std::vector<DeviceTensor>> Executable::execute(const std::vector<DeviceTensor>& inputs, const ExecuteControl& control) const {
  std::vector<sy_tensor_arg> args(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    args[i].buffer = inputs[i].buffer ? inputs[i].buffer->handle() : nullptr;
    args[i].elem_type = static_cast<int32_t>(inputs[i].type);
    args[i].rank = static_cast<int32_t>(inputs[i].shape.size());
    args[i].dims = inputs[i].shape.data();
  }
  // The plugin reports how many outputs it has through the graph it compiled; the host
  // passes as many slots as the executable's graph has outputs.
  std::vector<sy_tensor_out> outs(num_outputs_);
  for (auto& o : outs) std::memset(&o, 0, sizeof o);
  Completion c;
  sy_execute_args ea{};
  ea.struct_size = sizeof ea;
  ea.num_inputs = args.size();
  ea.inputs = args.data();
  ea.num_outputs = outs.size();
  ea.outputs = outs.data();
  ea.on_complete = on_complete;
  ea.user_data = &c;
  ea.cancel_flag = control.cancel_flag;
  ea.max_memory_bytes = control.max_memory_bytes;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().execute(handle_, &ea)).with_context(device_->id() + ": execute"));
  {
    std::unique_lock<std::mutex> lock(c.mu);
    c.cv.wait(lock, [&] { return c.done; });
  }
  std::vector<DeviceTensor> result(outs.size());
  std::vector<std::shared_ptr<DeviceBuffer>> owned;
  for (size_t i = 0; i < outs.size(); ++i)
    if (outs[i].buffer) result[i].buffer = std::make_shared<DeviceBuffer>(plugin_, outs[i].buffer);
  if (!c.status.ok()) return c.status.with_context(device_->id() + ": execute");
  for (size_t i = 0; i < outs.size(); ++i) {
    auto type = element_type_from_int(outs[i].elem_type);
    if (!type || outs[i].rank < 0 || outs[i].rank > SY_MAX_RANK)
      return Status(StatusCode::internal, device_->id() + ": execute reported a bad type or rank for output " + std::to_string(i));
    result[i].type = *type;
    result[i].shape.assign(outs[i].dims, outs[i].dims + outs[i].rank);
  }
  return result;
}

bool Executable::supports_values() const { return plugin_->api().abi_minor >= 1; }

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
}  // namespace

Result<std::vector<DeviceValue>> Executable::execute_values(const std::vector<DeviceValue>& inputs,
                                                            const ExecuteControl& control) const {
  if (!supports_values())
    return Status(StatusCode::unsupported, device_->id() + ": the plugin speaks ABI 1." + std::to_string(plugin_->api().abi_minor) +
                                               ", which cannot pass sequence or optional values (needs 1.1)");
  std::vector<std::vector<sy_tensor_arg>> items(inputs.size());
  std::vector<sy_value_arg> args(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const auto& t : inputs[i].tensors) items[i].push_back(tensor_arg(t));
    sy_value_arg& a = args[i];
    a.num_tensors = items[i].size();
    a.tensors = items[i].data();
    if (inputs[i].is_optional) {
      a.kind = SY_VALUE_OPTIONAL;
      a.has_value = inputs[i].kind != Value::Kind::none;
      a.element_kind = abi_kind(inputs[i].kind);
    } else {
      a.kind = abi_kind(inputs[i].kind);
      a.element_kind = a.kind;
      a.has_value = 1;
    }
  }
  std::vector<sy_value_out> outs(num_outputs_);
  for (auto& o : outs) std::memset(&o, 0, sizeof o);
  Completion c;
  sy_execute_args ea{};
  ea.struct_size = sizeof ea;
  ea.num_inputs = args.size();
  ea.num_outputs = outs.size();
  ea.on_complete = on_complete;
  ea.user_data = &c;
  ea.cancel_flag = control.cancel_flag;
  ea.max_memory_bytes = control.max_memory_bytes;
  ea.input_values = args.data();
  ea.output_values = outs.data();
  SY_RETURN_IF_ERROR(take_status(plugin_->api().execute(handle_, &ea)).with_context(device_->id() + ": execute"));
  {
    std::unique_lock<std::mutex> lock(c.mu);
    c.cv.wait(lock, [&] { return c.done; });
  }
  // Take ownership of everything the plugin handed over, even on failure.
  std::vector<DeviceValue> result(outs.size());
  Status bad;
  for (size_t i = 0; i < outs.size(); ++i) {
    const sy_value_out& o = outs[i];
    DeviceValue& v = result[i];
    v.is_optional = o.kind == SY_VALUE_OPTIONAL;
    sy_value_kind k = v.is_optional ? o.element_kind : o.kind;
    v.kind = v.is_optional && !o.has_value ? Value::Kind::none : k == SY_VALUE_SEQUENCE ? Value::Kind::sequence : Value::Kind::tensor;
    for (size_t t = 0; o.tensors && t < o.num_tensors; ++t) {
      const sy_tensor_out& to = o.tensors[t];
      DeviceTensor dt;
      if (to.buffer) dt.buffer = std::make_shared<DeviceBuffer>(plugin_, to.buffer);
      auto type = element_type_from_int(to.elem_type);
      if (!type || to.rank < 0 || to.rank > SY_MAX_RANK) {
        bad = Status(StatusCode::internal, device_->id() + ": execute reported a bad type or rank for output " + std::to_string(i));
      } else {
        dt.type = *type;
        dt.shape.assign(to.dims, to.dims + to.rank);
      }
      v.tensors.push_back(std::move(dt));
    }
    std::free(o.tensors);
    if (c.status.ok() && bad.ok() && v.kind == Value::Kind::tensor && v.tensors.size() != 1)
      bad = Status(StatusCode::internal, device_->id() + ": execute returned " + std::to_string(v.tensors.size()) +
                                             " tensors for tensor output " + std::to_string(i));
  }
  if (!c.status.ok()) return c.status.with_context(device_->id() + ": execute");
  if (!bad.ok()) return bad;
  return result;
}

namespace {
// One asynchronous execute() call: owns the argument arrays until the plugin completes.
struct AsyncCall {
  std::shared_ptr<LoadedPlugin> plugin;
  std::string device_id;
  bool values = false;
  std::vector<DeviceValue> inputs;  // keeps input buffers alive until completion
  std::vector<std::vector<sy_tensor_arg>> items;
  std::vector<sy_value_arg> value_args;
  std::vector<sy_tensor_arg> tensor_args;
  std::vector<sy_value_out> value_outs;
  std::vector<sy_tensor_out> tensor_outs;
  std::function<void(Result<std::vector<DeviceValue>>)> done;
};

DeviceTensor take_tensor_out(const std::shared_ptr<LoadedPlugin>& plugin, const sy_tensor_out& to, Status& bad, const std::string& where) {
  DeviceTensor dt;
  if (to.buffer) dt.buffer = std::make_shared<DeviceBuffer>(plugin, to.buffer);
  auto type = element_type_from_int(to.elem_type);
  if (!type || to.rank < 0 || to.rank > SY_MAX_RANK) {
    if (bad.ok()) bad = Status(StatusCode::internal, where + ": execute reported a bad type or rank");
  } else {
    dt.type = *type;
    dt.shape.assign(to.dims, to.dims + to.rank);
  }
  return dt;
}

void async_complete(void* user, sy_status status) {
  std::unique_ptr<AsyncCall> call(static_cast<AsyncCall*>(user));
  Status st = take_status(status);
  Status bad;
  std::vector<DeviceValue> result;
  const std::string where = call->device_id + ": execute";
  if (call->values) {
    for (auto& o : call->value_outs) {
      DeviceValue v;
      v.is_optional = o.kind == SY_VALUE_OPTIONAL;
      sy_value_kind k = v.is_optional ? o.element_kind : o.kind;
      v.kind = v.is_optional && !o.has_value ? Value::Kind::none : k == SY_VALUE_SEQUENCE ? Value::Kind::sequence : Value::Kind::tensor;
      for (size_t t = 0; o.tensors && t < o.num_tensors; ++t) v.tensors.push_back(take_tensor_out(call->plugin, o.tensors[t], bad, where));
      std::free(o.tensors);
      result.push_back(std::move(v));
    }
  } else {
    for (auto& o : call->tensor_outs) {
      DeviceValue v;
      v.tensors.push_back(take_tensor_out(call->plugin, o, bad, where));
      result.push_back(std::move(v));
    }
  }
  auto done = std::move(call->done);
  call.reset();  // release inputs before reporting
  if (!st.ok()) done(st.with_context(where));
  else if (!bad.ok()) done(bad);
  else done(std::move(result));
}
}  // namespace

void Executable::execute_async(std::vector<DeviceValue> inputs, bool values, const ExecuteControl& control,
                               std::function<void(Result<std::vector<DeviceValue>>)> done) const {
  if (values && !supports_values()) {
    done(Status(StatusCode::unsupported, device_->id() + ": the plugin cannot pass sequence or optional values (needs ABI 1.1)"));
    return;
  }
  auto call = std::make_unique<AsyncCall>();
  call->plugin = plugin_;
  call->device_id = device_->id();
  call->values = values;
  call->inputs = std::move(inputs);
  call->done = std::move(done);
  sy_execute_args ea{};
  ea.struct_size = sizeof ea;
  ea.num_inputs = call->inputs.size();
  ea.num_outputs = num_outputs_;
  if (values) {
    call->items.resize(call->inputs.size());
    for (size_t i = 0; i < call->inputs.size(); ++i) {
      const DeviceValue& in = call->inputs[i];
      for (const auto& t : in.tensors) call->items[i].push_back(tensor_arg(t));
      sy_value_arg a{};
      a.num_tensors = call->items[i].size();
      a.tensors = call->items[i].data();
      if (in.is_optional) {
        a.kind = SY_VALUE_OPTIONAL;
        a.has_value = in.kind != Value::Kind::none;
        a.element_kind = abi_kind(in.kind);
      } else {
        a.kind = abi_kind(in.kind);
        a.element_kind = a.kind;
        a.has_value = 1;
      }
      call->value_args.push_back(a);
    }
    call->value_outs.resize(num_outputs_);
    for (auto& o : call->value_outs) std::memset(&o, 0, sizeof o);
    ea.input_values = call->value_args.data();
    ea.output_values = call->value_outs.data();
  } else {
    for (const auto& in : call->inputs) {
      if (in.tensors.size() != 1) {
        call->done(Status(StatusCode::invalid_argument, device_->id() + ": a tensor input needs exactly one tensor"));
        return;
      }
      call->tensor_args.push_back(tensor_arg(in.tensors[0]));
    }
    call->tensor_outs.resize(num_outputs_);
    for (auto& o : call->tensor_outs) std::memset(&o, 0, sizeof o);
    ea.inputs = call->tensor_args.data();
    ea.outputs = call->tensor_outs.data();
  }
  ea.on_complete = async_complete;
  ea.cancel_flag = control.cancel_flag;
  ea.max_memory_bytes = control.max_memory_bytes;
  AsyncCall* raw = call.release();
  ea.user_data = raw;
  Status st = take_status(plugin_->api().execute(handle_, &ea));
  if (!st.ok()) {
    // Not accepted: the plugin will not call on_complete.
    std::unique_ptr<AsyncCall> owned(raw);
    auto d = std::move(owned->done);
    owned.reset();
    d(st.with_context(device_->id() + ": execute"));
  }
}

}  // namespace switchyard
