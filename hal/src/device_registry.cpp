// Device registry, host services and the RAII handles over ABI objects.
#include <algorithm>
#include <condition_variable>
#include <functional>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <map>
#include <set>

#include "switchyard/plugin_loader.h"

struct sy_status_s {
  sy_status_code code;
  std::string message;
};

namespace switchyard {

namespace fs = std::filesystem;

namespace {
sy_status host_make_status(sy_status_code code, const char* message) {
  if (code == SY_OK) code = SY_ERROR_INTERNAL;  // a status object always means failure
  return new sy_status_s{code, message ? message : ""};
}

thread_local PluginLogCapture* t_log_capture = nullptr;

void host_log(sy_log_level level, const char* plugin, const char* message) {
  if (t_log_capture) t_log_capture->add(std::string(plugin ? plugin : "plugin") + ": " + (message ? message : ""));
  if (level < SY_LOG_WARNING) return;
  std::fprintf(stderr, "switchyard: %s: %s: %s\n", level == SY_LOG_ERROR ? "error" : "warning", plugin ? plugin : "plugin",
               message ? message : "");
}

void* host_allocate(size_t size) { return std::malloc(size ? size : 1); }

const sy_host_api kHostApi = {sizeof(sy_host_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR, host_make_status, host_log,
                              host_allocate};

}  // namespace

PluginLogCapture::PluginLogCapture() : outer_(t_log_capture) { t_log_capture = this; }
PluginLogCapture::~PluginLogCapture() { t_log_capture = outer_; }

namespace {

DeviceKind kind_from_abi(sy_device_kind k) {
  switch (k) {
    case SY_DEVICE_KIND_CPU: return DeviceKind::cpu;
    case SY_DEVICE_KIND_GPU: return DeviceKind::gpu;
    case SY_DEVICE_KIND_NPU: return DeviceKind::npu;
    default: return DeviceKind::other;
  }
}

std::string cstr(const char* s) { return s ? s : ""; }
}  // namespace

const sy_host_api* host_api() { return &kHostApi; }

Status take_status(sy_status status) {
  if (!status) return {};
  StatusCode code = status->code >= 0 && status->code <= SY_ERROR_RESOURCE_EXHAUSTED ? static_cast<StatusCode>(status->code)
                                                                              : StatusCode::internal;
  Status s(code, status->message);
  delete status;
  return s;
}

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
  return std::make_unique<Executable>(plugin_, exe, this, view.get()->num_outputs);
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
  return std::make_unique<Executable>(plugin_, exe, this, view.get()->num_outputs);
}

Result<std::unique_ptr<DeviceBuffer>> Device::allocate(size_t size) const {
  sy_buffer b = nullptr;
  SY_RETURN_IF_ERROR(take_status(plugin_->api().buffer_alloc(handle_, size, &b)).with_context(id_ + ": buffer_alloc"));
  if (!b) return Status(StatusCode::internal, id_ + ": buffer_alloc returned no buffer");
  return std::make_unique<DeviceBuffer>(plugin_, b);
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

Result<DeviceValue> upload_value(const Device& device, const Value& value) {
  DeviceValue dv;
  dv.kind = value.kind;
  dv.is_optional = value.is_optional || value.kind == Value::Kind::none;
  if (value.kind == Value::Kind::tensor) {
    SY_ASSIGN_OR_RETURN(DeviceTensor t, upload(device, value.tensor));
    dv.tensors.push_back(std::move(t));
  } else if (value.kind == Value::Kind::sequence) {
    for (const auto& item : value.sequence) {
      SY_ASSIGN_OR_RETURN(DeviceTensor t, upload(device, item));
      dv.tensors.push_back(std::move(t));
    }
  }
  return dv;
}

Result<Value> download_value(const DeviceValue& dv) {
  Value v;
  v.kind = dv.kind;
  v.is_optional = dv.is_optional;
  if (dv.kind == Value::Kind::tensor) {
    if (dv.tensors.size() != 1) return Status(StatusCode::internal, "tensor value without exactly one tensor");
    SY_ASSIGN_OR_RETURN(v.tensor, download(dv.tensors[0]));
  } else if (dv.kind == Value::Kind::sequence) {
    for (const auto& t : dv.tensors) {
      SY_ASSIGN_OR_RETURN(Tensor host, download(t));
      v.sequence.push_back(std::move(host));
    }
  }
  return v;
}

Result<DeviceTensor> upload(const Device& device, const Tensor& tensor) {
  DeviceTensor dt;
  dt.type = tensor.type();
  dt.shape = tensor.shape();
  std::string encoded;
  const void* src = tensor.raw();
  size_t size = tensor.byte_size();
  if (tensor.type() == ElementType::string) {
    encoded = encode_strings(tensor.strings());
    src = encoded.data();
    size = encoded.size();
  }
  SY_ASSIGN_OR_RETURN(auto buf, device.allocate(size));
  if (size) SY_RETURN_IF_ERROR(buf->write(src, size));
  dt.buffer = std::move(buf);
  return dt;
}

Result<Tensor> download(const DeviceTensor& t) {
  if (!t.buffer) return Status(StatusCode::internal, "output has no buffer");
  size_t size = t.buffer->size();
  auto numel = shape_numel(t.shape);
  if (!numel) return Status(StatusCode::internal, "output has an invalid shape " + shape_to_string(t.shape));
  try {
    if (t.type == ElementType::string) {
      std::vector<char> bytes(size);
      if (size) SY_RETURN_IF_ERROR(t.buffer->read(bytes.data(), size));
      SY_ASSIGN_OR_RETURN(auto strings, decode_strings(bytes.data(), bytes.size(), *numel));
      return Tensor::from_strings(t.shape, std::move(strings));
    }
    Tensor out = Tensor::allocate(t.type, t.shape);
    if (out.byte_size() > size)
      return Status(StatusCode::internal, "output buffer holds " + std::to_string(size) + " bytes, its shape needs " +
                                              std::to_string(out.byte_size()));
    if (out.byte_size()) SY_RETURN_IF_ERROR(t.buffer->read(out.raw_mutable(), out.byte_size()));
    return out;
  } catch (const Error& e) {
    return e.status();
  }
}

DeviceRegistry DeviceRegistry::discover(const DiscoveryOptions& options) {
  DeviceRegistry reg;
  reg.searched_ = plugin_search_path(options);
  std::map<std::string, fs::path> loaded_from;  // plugin name -> its manifest
  for (const auto& dir : reg.searched_) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> manifests;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") manifests.push_back(e.path());
    std::sort(manifests.begin(), manifests.end());
    for (const auto& file : manifests) {
      auto m = parse_manifest(file);
      if (!m.ok()) {
        reg.failures_.push_back({file, "", m.status().message()});
        continue;
      }
      if (auto earlier = loaded_from.find(m->name); earlier != loaded_from.end()) {  // shadowed by an earlier folder
        std::error_code same_ec;
        if (!fs::equivalent(earlier->second, file, same_ec))
          reg.failures_.push_back({file, m->name, "not loaded: a plugin named '" + m->name + "' was already loaded from " +
                                                      earlier->second.string() + " (earlier in the search path)"});
        continue;
      }
      if (!options.only_plugins.empty() &&
          std::find(options.only_plugins.begin(), options.only_plugins.end(), m->name) == options.only_plugins.end())
        continue;
      if (!options.only_kinds.empty() && !m->device_kinds.empty() &&
          std::none_of(m->device_kinds.begin(), m->device_kinds.end(), [&](const std::string& k) {
            return std::find(options.only_kinds.begin(), options.only_kinds.end(), k) != options.only_kinds.end();
          }))
        continue;
      auto p = PluginLoader::load(*m);
      if (!p.ok()) {
        reg.failures_.push_back({file, m->name, p.status().message()});
        continue;
      }
      loaded_from[m->name] = file;
      auto plugin = *p;
      size_t count = 0;
      Status st = take_status(plugin->api().device_count(plugin->handle(), &count));
      if (!st.ok()) {
        reg.failures_.push_back({file, m->name, "device_count failed: " + st.message()});
        continue;
      }
      for (size_t i = 0; i < count; ++i) {
        sy_device dev = nullptr;
        st = take_status(plugin->api().device_get(plugin->handle(), i, &dev));
        sy_device_info di{};
        di.struct_size = sizeof di;
        if (st.ok()) st = take_status(plugin->api().device_info(dev, &di));
        if (!st.ok()) {
          reg.failures_.push_back({file, m->name, "device " + std::to_string(i) + ": " + st.message()});
          continue;
        }
        DeviceInfo info;
        info.kind = kind_from_abi(di.kind);
        info.reported_kind = kind_from_abi(di.reported_kind);
        info.name = cstr(di.name);
        info.vendor = cstr(di.vendor);
        info.driver_version = cstr(di.driver_version);
        info.identity = cstr(di.identity);
        info.memory_bytes = di.memory_bytes;
        info.max_allocation_bytes = di.max_allocation_bytes;
        info.peak_gflops_f32 = di.peak_gflops_f32;
        info.peak_gflops_f16 = di.peak_gflops_f16;
        info.memory_bandwidth_gbps = di.memory_bandwidth_gbps;
        info.host_link_gbps = di.host_link_gbps;
        info.launch_overhead_us = di.launch_overhead_us;
        info.active_power_watts = di.active_power_watts;
        info.host_visible_memory = di.host_visible_memory != 0;
        // Since ABI 1.2; a plugin built against an older header fills (and reports) fewer bytes.
        if (di.struct_size >= offsetof(sy_device_info, compute_element_type) + sizeof di.compute_element_type &&
            (di.compute_element_type == SY_ELEM_FLOAT16 || di.compute_element_type == SY_ELEM_BFLOAT16))
          info.compute_element_type = static_cast<ElementType>(di.compute_element_type);
        reg.devices_.push_back(std::make_unique<Device>(plugin, dev, m->name + ":" + std::to_string(i), std::move(info)));
      }
      reg.plugins_.push_back(plugin);
    }
  }
  return reg;
}

Result<const Device*> DeviceRegistry::find(const std::string& id) const {
  for (const auto& d : devices_)
    if (d->id() == id) return d.get();
  std::string known;
  for (const auto& d : devices_) known += (known.empty() ? "" : ", ") + d->id();
  return Status(StatusCode::not_found, "no device '" + id + "' (devices present: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace switchyard
