// One execute() as any host makes it (abi_probe.h): the argument structs allocated by the host
// with struct_size set (grown for a "newer host"), the completion counted, the outputs taken back
// under the ABI's rules (plugin-allocated buffers and shapes are the host's) and checked.
#include <cstring>
#include <thread>

#include "abi_probe.h"
#include "switchyard/conformance/check.h"
#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/device.h"

namespace switchyard::conformance::abi {

Result<Buffer> upload(const AbiDevice& device, const Tensor& tensor) {
  sy_buffer handle = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, buffer_alloc, device.device, tensor.byte_size(), &handle)).with_context("buffer_alloc"));
  if (!handle) return Status(StatusCode::internal, "buffer_alloc succeeded without a buffer");
  Buffer buffer(device.api, handle);
  if (tensor.byte_size())
    SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, buffer_write, handle, 0, tensor.raw(), tensor.byte_size())).with_context("buffer_write"));
  return buffer;
}

Result<Tensor> download(const AbiDevice& device, sy_buffer buffer, ElementType type, const Shape& shape) {
  Tensor t = Tensor::allocate(type, shape);
  const size_t size = SY_CALL_PLUGIN(*device.api, buffer_size, buffer);
  if (size < t.byte_size())
    return Status(StatusCode::internal, "buffer_size is " + std::to_string(size) + " bytes; the shape " + shape_to_string(shape) + " needs " +
                                            std::to_string(t.byte_size()));
  if (t.byte_size())
    SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, buffer_read, buffer, 0, t.raw_mutable(), t.byte_size())).with_context("buffer_read"));
  return t;
}

namespace {

// Entries past dims_capacity in each output's shape storage, filled with kDimsCanary: a plugin
// that writes past the capacity instead of allocating is caught.
constexpr size_t kDimsGuard = 4;
constexpr int64_t kDimsCanary = 0x5A5A5A5A5A5A5A5All;

// Everything one execute() borrows until its completion. Left alive (leaked) when no completion
// comes: the plugin may still write into it.
struct Call {
  std::vector<std::unique_ptr<std::byte[]>> structs;  // each host-allocated struct, zero-filled
  std::vector<Buffer> inputs;
  std::vector<const sy_tensor_arg*> input_list;
  std::vector<sy_tensor_out*> output_list;
  std::vector<Buffer> host_outputs;                 // the buffers the host passed (options.host_outputs)
  std::vector<std::vector<int64_t>> dims;           // each output's shape storage, guard included
  sy_execute_args* args = nullptr;
  Completion completion;

  // A zeroed T of sizeof(T) + `extra` bytes, struct_size saying so.
  template <typename T>
  T* allocate(size_t extra) {
    structs.push_back(std::make_unique<std::byte[]>(sizeof(T) + extra));
    T* t = new (structs.back().get()) T{};
    t->struct_size = sizeof(T) + extra;
    return t;
  }
};

Status add_inputs(const AbiDevice& device, const std::vector<Value>& inputs, const ExecuteOptions& options, Call& call) {
  for (const Value& v : inputs) {
    SY_ASSIGN_OR_RETURN(Buffer buffer, upload(device, v.tensor));
    auto* arg = call.allocate<sy_tensor_arg>(options.newer_host_bytes);
    arg->buffer = buffer.get();
    arg->elem_type = static_cast<int32_t>(v.tensor.type());
    arg->rank = static_cast<int32_t>(v.tensor.rank());
    arg->dims = v.tensor.shape().data();  // `inputs` outlives the call
    call.inputs.push_back(std::move(buffer));
    call.input_list.push_back(arg);
  }
  return {};
}

Status add_outputs(const AbiDevice& device, const std::vector<Value>& expected, const ExecuteOptions& options, Call& call) {
  for (const Value& v : expected) {
    auto* out = call.allocate<sy_tensor_out>(options.newer_host_bytes);
    call.dims.emplace_back(options.dims_capacity + kDimsGuard, kDimsCanary);
    out->dims = call.dims.back().data();
    out->dims_capacity = options.dims_capacity;
    if (options.host_outputs) {
      sy_buffer handle = nullptr;
      SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, buffer_alloc, device.device, v.tensor.byte_size(), &handle)).with_context("buffer_alloc"));
      call.host_outputs.emplace_back(device.api, handle);
      out->buffer = handle;
    }
    call.output_list.push_back(out);
  }
  return {};
}

Result<std::unique_ptr<Call>> prepare(const AbiDevice& device, const std::vector<Value>& inputs, const std::vector<Value>& expected,
                                      const ExecuteOptions& options) {
  auto call = std::make_unique<Call>();
  call->dims.reserve(expected.size());
  SY_RETURN_IF_ERROR(add_inputs(device, inputs, options, *call));
  SY_RETURN_IF_ERROR(add_outputs(device, expected, options, *call));
  sy_execute_args* args = call->allocate<sy_execute_args>(options.newer_host_bytes);
  if (!options.newer_host_bytes) args->struct_size = options.args_struct_size;
  args->num_inputs = call->input_list.size();
  args->inputs = call->input_list.data();
  args->num_outputs = call->output_list.size();
  args->outputs = call->output_list.data();
  args->on_complete = &Completion::callback;
  args->user_data = call->completion.user_data();
  args->cancel_flag = options.cancel_flag;
  args->profiler = options.profiler;
  call->args = args;
  return call;
}

// Output `i`'s shape as the plugin wrote it; frees a shape array it allocated. "" or the problem.
std::string take_shape(Call& call, size_t i, Shape& shape) {
  sy_tensor_out* out = call.output_list[i];
  const auto& storage = call.dims[i];
  const bool host_storage = out->dims == storage.data();
  std::unique_ptr<int64_t, void (*)(void*)> allocated(host_storage ? nullptr : out->dims, host_api()->deallocate);
  out->dims = call.dims[i].data();
  const std::string where = "output " + std::to_string(i) + ": ";
  for (size_t k = out->dims_capacity; host_storage && k < storage.size(); ++k)
    if (storage[k] != kDimsCanary) return where + "the plugin wrote past dims_capacity (" + std::to_string(out->dims_capacity) + ") instead of allocating";
  if (out->rank < 0) return where + "rank " + std::to_string(out->rank);
  if (host_storage && static_cast<size_t>(out->rank) > out->dims_capacity)
    return where + "rank " + std::to_string(out->rank) + " in the host's " + std::to_string(out->dims_capacity) + " dims without allocating";
  const int64_t* dims = host_storage ? storage.data() : allocated.get();
  if (out->rank > 0 && !dims) return where + "rank " + std::to_string(out->rank) + " without dims";
  shape.assign(dims, dims + out->rank);
  return {};
}

// The output's buffer, now the host's; "" or the problem.
std::string take_buffer(Call& call, size_t i, const ExecuteOptions& options, Buffer& buffer, const AbiDevice& device) {
  sy_tensor_out* out = call.output_list[i];
  const std::string where = "output " + std::to_string(i) + ": ";
  if (options.host_outputs) {
    buffer = std::move(call.host_outputs[i]);
    if (out->buffer != buffer.get()) {
      Buffer replaced(device.api, out->buffer);  // the plugin's: released
      return where + "the plugin replaced the buffer the host gave";
    }
    return {};
  }
  buffer = Buffer(device.api, out->buffer);
  return out->buffer ? "" : where + "no buffer after a successful execute";
}

// Takes every output back (always: buffers and shapes are the host's, also on failure) and, after
// a success, reads them.
void take_outputs(const AbiDevice& device, Call& call, const ExecuteOptions& options, bool keep_buffers, ExecuteOutcome& outcome) {
  const bool ok = outcome.completed.ok();
  for (size_t i = 0; i < call.output_list.size(); ++i) {
    Shape shape;
    Buffer buffer;
    std::string problem = take_buffer(call, i, options, buffer, device);
    const std::string shape_problem = take_shape(call, i, shape);
    if (problem.empty()) problem = shape_problem;
    auto type = element_type_from_int(call.output_list[i]->elem_type);
    if (problem.empty() && ok && !type) problem = "output " + std::to_string(i) + ": element type " + std::to_string(call.output_list[i]->elem_type);
    if (problem.empty() && ok) {
      auto tensor = download(device, buffer.get(), *type, shape);
      if (tensor.ok()) outcome.outputs.push_back(Value::of(*tensor));
      else problem = "output " + std::to_string(i) + ": " + tensor.status().message();
    }
    if (ok && outcome.problem.empty()) outcome.problem = problem;
    if (keep_buffers) outcome.output_buffers.push_back(std::move(buffer));
  }
}

}  // namespace

ExecuteOutcome execute(const AbiDevice& device, sy_executable exe, const std::vector<Value>& inputs, const std::vector<Value>& expected,
                       const ExecuteOptions& options, bool keep_output_buffers) {
  ExecuteOutcome outcome;
  auto prepared = prepare(device, inputs, expected, options);
  if (!prepared.ok()) {
    outcome.problem = "could not prepare the execution: " + prepared.status().message();
    return outcome;
  }
  std::unique_ptr<Call> call = std::move(prepared).value();
  // In flight (for crash and hang reports) from the call until its completion.
  const int in_flight = abi_call_enter("sy_plugin_api.execute (its work, until it calls on_complete)");
  outcome.returned = take_status(SY_CALL_PLUGIN(*device.api, execute, exe, call->args));
  if (outcome.returned.ok() && !call->completion.wait(kCompletionTimeout)) {
    outcome.timed_out = true;
    call.release();  // the plugin may still complete into it
    return outcome;
  }
  abi_call_leave(in_flight);
  outcome.completions = call->completion.settled_calls(options.grace);
  outcome.completed = call->completion.first_status();
  outcome.completed_at = call->completion.first_at();
  if (outcome.returned.ok()) take_outputs(device, *call, options, keep_output_buffers, outcome);
  return outcome;
}

std::string exact_mismatch(const ExecuteOutcome& outcome, const std::vector<Value>& expected) {
  if (outcome.timed_out) return "no completion within " + std::to_string(kCompletionTimeout.count()) + " s";
  if (!outcome.returned.ok()) return "execute refused: " + describe(outcome.returned);
  if (outcome.completions != 1) return "completion called " + std::to_string(outcome.completions) + " times";
  if (!outcome.completed.ok()) return "completed with " + describe(outcome.completed);
  if (!outcome.problem.empty()) return outcome.problem;
  if (outcome.outputs.size() != expected.size())
    return std::to_string(outcome.outputs.size()) + " outputs, expected " + std::to_string(expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    if (std::string diff = compare_values(expected[i], outcome.outputs[i], 0, 0); !diff.empty())
      return "output " + std::to_string(i) + ": " + diff;
  return {};
}

}  // namespace switchyard::conformance::abi
