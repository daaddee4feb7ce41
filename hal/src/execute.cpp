// Executable's one execution path: execute_async marshals the arguments across the ABI and takes
// the plugin's outputs back (value outputs as the plugin appends them, tensor outputs in its
// completion callback); execute() is execute_async plus a wait.
#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/hal/wait.h"

namespace switchyard {

namespace {
sy_value_kind abi_kind(Value::Kind k) { return k == Value::Kind::sequence ? SY_VALUE_SEQUENCE : SY_VALUE_TENSOR; }

sy_tensor_arg tensor_arg(const DeviceTensor& t) {
  sy_tensor_arg a{};
  a.struct_size = sizeof a;
  a.buffer = t.buffer ? t.buffer->handle() : nullptr;
  a.elem_type = static_cast<int32_t>(t.type);
  a.rank = static_cast<int32_t>(t.shape.size());
  a.dims = t.shape.data();
  return a;
}

bool is_plain_tensor(const DeviceValue& v) { return v.kind == Value::Kind::tensor && !v.is_optional && v.tensors.size() == 1; }

std::string where(const Device* device) { return device->id() + ": execute"; }

// A DeviceTensor for a buffer the plugin handed over; the host owns the buffer from here on, also
// when its type or shape is bad (then `bad` says so, first problem kept).
DeviceTensor take_tensor(const std::shared_ptr<LoadedPlugin>& plugin, sy_buffer buffer, int32_t elem_type, int32_t rank,
                         const int64_t* dims, Status& bad, const std::string& what) {
  DeviceTensor dt;
  if (buffer) dt.buffer = std::make_shared<DeviceBuffer>(plugin, buffer);
  auto type = element_type_from_int(elem_type);
  if (!type || rank < 0 || (rank > 0 && !dims)) {
    if (bad.ok()) bad = Status(StatusCode::internal, what + ": the plugin reported a bad type or rank");
    return dt;
  }
  dt.type = *type;
  dt.shape.assign(dims, dims + rank);
  return dt;
}

constexpr size_t kInlineDims = 8;  // shape storage per tensor output; a larger rank comes from host allocate

// One execute() call in flight: owns the argument structs (and, through `inputs`, the input
// buffers) until the plugin completes. `values` selects the value form, needed when an input or
// output is a sequence or an optional; all-tensor calls use the plain tensor form.
struct Call {
  // The sink behind one sy_value_out: append_tensor adds to `value`.
  struct ValueSink {
    Call* call = nullptr;
    size_t index = 0;
    DeviceValue value;
    std::mutex mu;
  };

  std::shared_ptr<LoadedPlugin> plugin;
  const Device* device = nullptr;
  bool values = false;
  std::vector<DeviceValue> inputs;
  std::vector<sy_tensor_arg> tensor_args;  // reserved up front: the lists point into it
  std::vector<const sy_tensor_arg*> tensor_arg_list;  // the tensor form's inputs; the value form's items
  std::vector<sy_value_arg> value_args;
  std::vector<const sy_value_arg*> value_arg_list;
  std::vector<sy_tensor_out> tensor_outs;
  std::vector<sy_tensor_out*> tensor_out_list;
  std::vector<std::array<int64_t, kInlineDims>> out_dims;
  std::unique_ptr<ValueSink[]> sinks;
  std::vector<sy_value_out> value_outs;
  std::vector<sy_value_out*> value_out_list;
  sy_profiler profiler{};
  Status bad;  // a bad output the plugin reported (kept until completion)
  int in_flight = -1;  // abi_calls.h slot marking the execution in flight until on_complete
  std::function<void(Result<std::vector<DeviceValue>>)> done;

  void marshal(sy_execute_args& ea, size_t num_outputs);
  void marshal_tensors(sy_execute_args& ea, size_t num_outputs);
  void marshal_values(sy_execute_args& ea, size_t num_outputs);
  Result<std::vector<DeviceValue>> take_outputs(Status status);
  static sy_status append_tensor(void* context, sy_buffer buffer, int32_t elem_type, int32_t rank, const int64_t* dims);
  static void node_event(void* context, size_t node, const char* implementation, uint64_t start_ns, uint64_t end_ns);
};

void Call::marshal(sy_execute_args& ea, size_t num_outputs) {
  ea.struct_size = sizeof ea;
  ea.num_inputs = inputs.size();
  ea.num_outputs = num_outputs;
  if (values) marshal_values(ea, num_outputs);
  else marshal_tensors(ea, num_outputs);
}

void Call::marshal_tensors(sy_execute_args& ea, size_t num_outputs) {
  tensor_args.reserve(inputs.size());
  for (const auto& in : inputs) tensor_arg_list.push_back(&tensor_args.emplace_back(tensor_arg(in.tensors[0])));
  tensor_outs.resize(num_outputs);
  out_dims.resize(num_outputs);
  for (size_t i = 0; i < num_outputs; ++i) {
    sy_tensor_out& o = tensor_outs[i];
    std::memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.dims = out_dims[i].data();
    o.dims_capacity = kInlineDims;
    tensor_out_list.push_back(&o);
  }
  ea.inputs = tensor_arg_list.data();
  ea.outputs = tensor_out_list.data();
}

void Call::marshal_values(sy_execute_args& ea, size_t num_outputs) {
  size_t items = 0;
  for (const auto& in : inputs) items += in.tensors.size();
  tensor_args.reserve(items);
  tensor_arg_list.reserve(items);
  value_args.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const DeviceValue& in = inputs[i];
    const size_t first = tensor_arg_list.size();
    for (const auto& t : in.tensors) tensor_arg_list.push_back(&tensor_args.emplace_back(tensor_arg(t)));
    sy_value_arg& a = value_args[i];
    std::memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    a.num_tensors = in.tensors.size();
    a.tensors = tensor_arg_list.data() + first;
    a.kind = in.is_optional ? SY_VALUE_OPTIONAL : abi_kind(in.kind);
    a.element_kind = abi_kind(in.kind);
    a.has_value = !in.is_optional || in.kind != Value::Kind::none;
    value_arg_list.push_back(&a);
  }
  value_outs.resize(num_outputs);
  sinks = std::make_unique<ValueSink[]>(num_outputs);
  for (size_t i = 0; i < num_outputs; ++i) {
    ValueSink& sink = sinks[i];
    sink.call = this;
    sink.index = i;
    sy_value_out& o = value_outs[i];
    std::memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.context = &sink;
    o.append_tensor = append_tensor;
    value_out_list.push_back(&o);
  }
  ea.input_values = value_arg_list.data();
  ea.output_values = value_out_list.data();
}

sy_status Call::append_tensor(void* context, sy_buffer buffer, int32_t elem_type, int32_t rank, const int64_t* dims) {
  auto* sink = static_cast<ValueSink*>(context);
  Call* call = sink->call;
  Status bad;
  DeviceTensor t = take_tensor(call->plugin, buffer, elem_type, rank, dims, bad, where(call->device) + " output " + std::to_string(sink->index));
  if (!bad.ok()) return host_api()->make_status(SY_ERROR_INVALID_ARGUMENT, bad.message().c_str());
  std::lock_guard<std::mutex> lock(sink->mu);
  sink->value.tensors.push_back(std::move(t));
  return nullptr;
}

void Call::node_event(void* context, size_t node, const char* implementation, uint64_t start_ns, uint64_t end_ns) {
  static_cast<NodeEventSink*>(context)->node_event(node, implementation, time_from_host_ns(start_ns), time_from_host_ns(end_ns));
}

// Takes ownership of every buffer and shape array the plugin handed over (even on failure), then
// checks them.
Result<std::vector<DeviceValue>> Call::take_outputs(Status status) {
  std::vector<DeviceValue> result;
  for (size_t i = 0; values && i < value_outs.size(); ++i) {
    const sy_value_out& o = value_outs[i];
    DeviceValue v = std::move(sinks[i].value);
    v.is_optional = o.kind == SY_VALUE_OPTIONAL;
    const sy_value_kind k = v.is_optional ? o.element_kind : o.kind;
    v.kind = v.is_optional && !o.has_value ? Value::Kind::none : k == SY_VALUE_SEQUENCE ? Value::Kind::sequence : Value::Kind::tensor;
    if (status.ok() && bad.ok() && v.kind == Value::Kind::tensor && v.tensors.size() != 1)
      bad = Status(StatusCode::internal, where(device) + " returned " + std::to_string(v.tensors.size()) + " tensors for tensor output " + std::to_string(i));
    result.push_back(std::move(v));
  }
  for (size_t i = 0; !values && i < tensor_outs.size(); ++i) {
    sy_tensor_out& o = tensor_outs[i];
    const bool own_dims = o.dims == out_dims[i].data();
    if (own_dims && o.rank > static_cast<int32_t>(kInlineDims) && bad.ok())
      bad = Status(StatusCode::internal, where(device) + " wrote rank " + std::to_string(o.rank) + " into output " + std::to_string(i) +
                                             "'s " + std::to_string(kInlineDims) + " dims without allocating room");
    const int32_t rank = own_dims ? std::min<int32_t>(o.rank, kInlineDims) : o.rank;
    result.push_back(DeviceValue::of(take_tensor(plugin, o.buffer, o.elem_type, rank, o.dims, bad, where(device) + " output " + std::to_string(i))));
    if (!own_dims) std::free(o.dims);
  }
  if (!status.ok()) return status.with_context(where(device));
  if (!bad.ok()) return bad;
  return result;
}

void on_complete(void* user, sy_status status) {
  std::unique_ptr<Call> call(static_cast<Call*>(user));
  abi_call_leave(call->in_flight);
  auto result = call->take_outputs(take_status(status));
  auto done = std::move(call->done);
  call.reset();  // release the inputs before reporting
  done(std::move(result));
}
}  // namespace

void Executable::execute_async(std::vector<DeviceValue> inputs, const ExecuteControl& control,
                               std::function<void(Result<std::vector<DeviceValue>>)> done) const {
  auto call = std::make_unique<Call>();
  call->plugin = plugin_;
  call->device = device_;
  call->values = !outputs_all_tensors_;
  for (const auto& in : inputs) call->values = call->values || !is_plain_tensor(in);
  call->inputs = std::move(inputs);
  call->done = std::move(done);
  sy_execute_args ea{};
  call->marshal(ea, num_outputs_);
  ea.on_complete = on_complete;
  ea.cancel_flag = control.cancel_flag;
  ea.max_memory_bytes = control.max_memory_bytes;
  if (control.node_events) {
    call->profiler = {sizeof(sy_profiler), control.node_events, &Call::node_event};
    ea.profiler = &call->profiler;
  }
  call->in_flight = abi_call_enter("sy_plugin_api.execute (its work, until it calls on_complete)");
  Call* raw = call.release();
  ea.user_data = raw;
  Status st = take_status(SY_CALL_PLUGIN(plugin_->api(), execute, handle_, &ea));
  if (!st.ok()) {
    // Not accepted: the plugin will not call on_complete.
    std::unique_ptr<Call> owned(raw);
    abi_call_leave(owned->in_flight);
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
