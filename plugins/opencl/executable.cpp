// OpenCL plugin: building programs, instantiating a schedule and running it.
#include "executable.h"

#include <algorithm>
#include <cstring>

#include "kernels_cl.h"

namespace switchyard::opencl {

namespace {

const char* kBuildFlags = " -cl-std=CL1.2";

std::string build_log(cl_program p, cl_device_id d) {
  size_t n = 0;
  if (clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, 0, nullptr, &n) != CL_SUCCESS || n == 0) return {};
  std::string s(n, '\0');
  if (clGetProgramBuildInfo(p, d, CL_PROGRAM_BUILD_LOG, n, s.data(), nullptr) != CL_SUCCESS) return {};
  while (!s.empty() && (s.back() == '\0' || s.back() == '\n')) s.pop_back();
  if (s.size() > 2000) s = s.substr(0, 2000) + "...";
  return s;
}

cl_program build_from_source(OclDevice& d, const ProgramSpec& spec) {
  const char* src = kernel_source(static_cast<Source>(spec.source));
  if (!src) throw_error(StatusCode::data_loss, "unknown kernel template " + std::to_string(spec.source));
  const char* parts[2] = {kernel_prologue(), src};
  cl_int err = CL_SUCCESS;
  cl_program p = clCreateProgramWithSource(d.context, 2, parts, nullptr, &err);
  check(err, "clCreateProgramWithSource");
  std::string options = spec.options + kBuildFlags;
  err = clBuildProgram(p, 1, &d.id, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    std::string log = build_log(p, d.id);
    clReleaseProgram(p);
    throw_error(StatusCode::internal, std::string("clBuildProgram(") + kernel_name(static_cast<Source>(spec.source)) + ", " + options +
                                          "): " + cl_error_name(err) + (log.empty() ? "" : "\n" + log));
  }
  return p;
}

// nullptr with `why` set when the driver refuses the binary.
cl_program build_from_binary(OclDevice& d, const ProgramSpec& spec, std::string& why) {
  if (spec.binary.empty()) {
    why = "no binary stored";
    return nullptr;
  }
  const unsigned char* bin = spec.binary.data();
  size_t len = spec.binary.size();
  cl_int bin_status = CL_SUCCESS, err = CL_SUCCESS;
  cl_program p = clCreateProgramWithBinary(d.context, 1, &d.id, &len, &bin, &bin_status, &err);
  if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
    why = std::string("clCreateProgramWithBinary: ") + cl_error_name(err != CL_SUCCESS ? err : bin_status);
    if (p) clReleaseProgram(p);
    return nullptr;
  }
  std::string options = spec.options + kBuildFlags;
  err = clBuildProgram(p, 1, &d.id, options.c_str(), nullptr, nullptr);
  if (err != CL_SUCCESS) {
    why = std::string("clBuildProgram(binary): ") + cl_error_name(err) + " " + build_log(p, d.id);
    clReleaseProgram(p);
    return nullptr;
  }
  return p;
}

std::vector<uint8_t> program_binary(cl_program p) {
  size_t size = 0;
  check(clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr), "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
  std::vector<uint8_t> bin(size);
  unsigned char* ptr = bin.data();
  if (size) check(clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof ptr, &ptr, nullptr), "clGetProgramInfo(CL_PROGRAM_BINARIES)");
  return bin;
}

}  // namespace

std::unique_ptr<OclExecutable> OclExecutable::build(OclDevice& device, const Graph& graph, KernelSchedule schedule, bool from_binaries, const LogFn& log) {
  if (schedule.num_nodes != graph.nodes.size() || schedule.num_values != graph.values.size() || schedule.inputs.size() != graph.inputs.size() ||
      schedule.outputs.size() != graph.outputs.size())
    throw_error(StatusCode::data_loss, "serialized OpenCL executable does not match the graph (" + std::to_string(schedule.num_nodes) + " nodes, " +
                                           std::to_string(schedule.num_values) + " values; the graph has " + std::to_string(graph.nodes.size()) +
                                           " nodes, " + std::to_string(graph.values.size()) + " values)");
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    if (schedule.inputs[i].elem_type != static_cast<int32_t>(graph.values[graph.inputs[i]].type.tensor.elem))
      throw_error(StatusCode::data_loss, "serialized OpenCL executable: input " + std::to_string(i) + " has another element type than the graph's");
  auto exe = std::unique_ptr<OclExecutable>(new OclExecutable(device));
  exe->schedule_ = std::move(schedule);
  KernelSchedule& p = exe->schedule_;
  for (auto& spec : p.programs) {
    cl_program prog = nullptr;
    if (from_binaries) {
      std::string why;
      prog = build_from_binary(device, spec, why);
      if (!prog) {
        ++exe->rebuilt_;
        if (log) log(SY_LOG_WARNING, std::string("driver rejected a stored program binary (") + kernel_name(static_cast<Source>(spec.source)) +
                                         "): " + why + "; rebuilding from source");
      }
    }
    if (!prog) prog = build_from_source(device, spec);
    exe->programs_.push_back(prog);
    if (!from_binaries || spec.binary.empty()) spec.binary = program_binary(prog);
  }
  // Weights: uploaded once, only those a launch or an output copy reads.
  auto root = [&](int32_t v) {
    for (int guard = 0; p.bindings[v].kind == Binding::alias && guard < 1 << 20; ++guard) v = p.bindings[v].index;
    if (p.bindings[v].kind == Binding::alias) throw_error(StatusCode::data_loss, "alias cycle in the schedule");
    return v;
  };
  auto want = [&](int32_t v) {
    int32_t r = root(v);
    if (p.bindings[r].kind != Binding::initializer || exe->initializers_.count(r)) return;
    auto it = graph.initializers.find(r);
    if (it == graph.initializers.end())
      throw_error(StatusCode::data_loss, "schedule reads initializer '" + graph.value_name(r) + "', which the graph does not have");
    exe->initializers_[r] = create_buffer(device, it->second.byte_size(), it->second.raw());
  };
  for (const auto& l : p.launches)
    for (const auto& a : l.args)
      if (a.kind == ArgRef::value) want(a.index);
  for (const auto& c : p.copies) want(c.value);
  for (const auto& a : p.aux) exe->aux_.push_back(create_buffer(device, a.size(), a.data()));
  for (const auto& dw : p.derived) {  // transformed weights: the same recipe on compile and restore
    if (p.bindings[dw.value].kind != Binding::initializer || !graph.initializers.count(dw.value))
      throw_error(StatusCode::data_loss, "schedule transforms '" + graph.value_name(dw.value) + "', which is not an initializer of the graph");
    std::vector<float> w = derive_weight(dw, graph.initializers.at(dw.value));
    exe->derived_.push_back(create_buffer(device, std::max<size_t>(w.size(), 1) * sizeof(float), w.empty() ? nullptr : w.data()));
  }
  if (!from_binaries) {
    exe->warm_up();  // also creates the first workspace: kernels created, sizes checked
    for (size_t i = 0; i < p.programs.size(); ++i) p.programs[i].binary = program_binary(exe->programs_[i]);
  } else {
    exe->release(exe->acquire());  // one workspace up front: kernels created, sizes checked
  }
  return exe;
}

OclExecutable::~OclExecutable() {
  for (auto& ws : pool_) free_workspace(*ws);
  for (auto& [v, m] : initializers_) clReleaseMemObject(m);
  for (auto m : aux_) clReleaseMemObject(m);
  for (auto m : derived_) clReleaseMemObject(m);
  for (auto prog : programs_) clReleaseProgram(prog);
}

void OclExecutable::free_workspace(Workspace& ws) {
  for (auto m : ws.slots)
    if (m) clReleaseMemObject(m);
  for (auto k : ws.kernels)
    if (k) clReleaseKernel(k);
  ws.slots.clear();
  ws.kernels.clear();
}

std::unique_ptr<OclExecutable::Workspace> OclExecutable::acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      auto ws = std::move(pool_.back());
      pool_.pop_back();
      return ws;
    }
  }
  auto ws = std::make_unique<Workspace>();
  try {
    for (auto bytes : schedule_.slot_bytes) ws->slots.push_back(create_buffer(device_, bytes));
    for (size_t i = 0; i < programs_.size(); ++i) {
      cl_int err = CL_SUCCESS;
      const char* name = kernel_name(static_cast<Source>(schedule_.programs[i].source));
      ws->kernels.push_back(clCreateKernel(programs_[i], name, &err));
      check(err, std::string("clCreateKernel(") + name + ")");
    }
  } catch (...) {
    free_workspace(*ws);
    throw;
  }
  return ws;
}

void OclExecutable::release(std::unique_ptr<Workspace> ws) {
  std::lock_guard<std::mutex> lock(pool_mu_);
  pool_.push_back(std::move(ws));
}

void OclExecutable::enqueue_all(Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem) {
  const KernelSchedule& p = schedule_;
  auto resolve = [&](int32_t v) -> cl_mem {
    for (int guard = 0; p.bindings[v].kind == Binding::alias && guard < 1 << 20; ++guard) v = p.bindings[v].index;
    const Binding& b = p.bindings[v];
    switch (b.kind) {
      case Binding::input: return in_mem[b.index];
      case Binding::initializer: return initializers_.at(v);
      case Binding::slot: return ws.slots[b.index];
      case Binding::output: return out_mem[b.index];
      case Binding::constant: return aux_[b.index];
      default: throw_error(StatusCode::internal, "value " + std::to_string(v) + " has no storage");
    }
  };
  for (const auto& l : p.launches) {
    cl_kernel k = ws.kernels[l.program];
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgRef& ar = l.args[a];
      cl_mem m = ar.kind == ArgRef::aux ? aux_[ar.index] : ar.kind == ArgRef::derived ? derived_[ar.index] : resolve(ar.index);
      check(clSetKernelArg(k, static_cast<cl_uint>(a), sizeof m, &m), l.node + ": clSetKernelArg");
    }
    size_t global[3], local[3];
    bool empty = false, has_local = false;
    for (uint32_t d = 0; d < l.work_dims; ++d) {
      global[d] = static_cast<size_t>(l.global[d]);
      local[d] = static_cast<size_t>(l.local[d]);
      empty |= global[d] == 0;
      has_local |= local[d] != 0;
    }
    if (empty) continue;
    check(clEnqueueNDRangeKernel(device_.queue, k, l.work_dims, nullptr, global, has_local ? local : nullptr, 0, nullptr, nullptr),
          l.node + ": clEnqueueNDRangeKernel(" + kernel_name(static_cast<Source>(p.programs[l.program].source)) + ")");
  }
  for (const auto& c : p.copies) {
    const TensorSpec& s = p.outputs[c.output];
    if (s.bytes == 0) continue;
    check(clEnqueueCopyBuffer(device_.queue, resolve(c.value), out_mem[c.output], 0, 0, s.bytes, 0, nullptr, nullptr),
          "clEnqueueCopyBuffer(output " + std::to_string(c.output) + ")");
  }
}

// Drivers such as PoCL generate a kernel's device code at its first launch (for the work-group
// size used), not at clBuildProgram. One run of every launch on zero-filled scratch inputs moves
// that work into compile, and into the program binaries serialize() stores, so a restored
// executable's first execute is as fast as the next.
void OclExecutable::warm_up() {
  const KernelSchedule& p = schedule_;
  std::vector<std::unique_ptr<OclBuffer>> scratch;
  auto zeroed = [&](size_t bytes) {
    std::vector<uint8_t> zeros(std::max<size_t>(bytes, 1), 0);
    auto b = std::make_unique<OclBuffer>();
    b->device = &device_;
    b->size = bytes;
    b->mem = create_buffer(device_, zeros.size(), zeros.data());
    cl_mem m = b->mem;
    scratch.push_back(std::move(b));
    return m;
  };
  std::vector<cl_mem> in_mem, out_mem;
  for (const auto& s : p.inputs) in_mem.push_back(zeroed(s.bytes));
  for (const auto& s : p.outputs) out_mem.push_back(zeroed(s.bytes));
  auto ws = acquire();
  try {
    enqueue_all(*ws, in_mem, out_mem);
    check(clFinish(device_.queue), "clFinish (warm-up)");
  } catch (...) {
    clFinish(device_.queue);
    release(std::move(ws));
    throw;
  }
  release(std::move(ws));
}

namespace {

// True when none of the `count` argument pointers is NULL (nor the array, when there are any).
template <typename T>
bool all_present(const T* const* args, size_t count) {
  return count == 0 || (args && std::all_of(args, args + count, [](const T* a) { return a != nullptr; }));
}

}  // namespace

// Every output's type and shape, from the schedule (static shapes). Fails only when the host's
// allocator cannot hold a shape larger than its own storage.
sy_status OclExecutable::write_output_shapes(const sy_execute_args* args) const {
  for (size_t k = 0; k < schedule_.outputs.size(); ++k) {
    const TensorSpec& s = schedule_.outputs[k];
    if (sy_status st = plugin_helpers::set_tensor_out(plugin_host(), args->outputs[k], nullptr, s.elem_type,
                                                      static_cast<int32_t>(s.dims.size()), s.dims.data()))
      return st;
  }
  return nullptr;
}

void OclExecutable::execute(const sy_execute_args* args) {
  const KernelSchedule& p = schedule_;
  if (args->num_inputs != p.inputs.size() || args->num_outputs != p.outputs.size() || !all_present(args->inputs, p.inputs.size()) ||
      !all_present(args->outputs, p.outputs.size()))
    throw_error(StatusCode::invalid_argument, "execute: expected " + std::to_string(p.inputs.size()) + " inputs and " +
                                                  std::to_string(p.outputs.size()) + " outputs");
  std::vector<cl_mem> in_mem(p.inputs.size()), out_mem(p.outputs.size());
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const sy_tensor_arg& a = *args->inputs[i];
    auto* b = reinterpret_cast<OclBuffer*>(a.buffer);
    if (!b || b->device != &device_) throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " is not a buffer of this device");
    const TensorSpec& s = p.inputs[i];
    if (a.elem_type != s.elem_type || a.rank != static_cast<int32_t>(s.dims.size()) || (a.rank > 0 && !a.dims) ||
        (a.rank > 0 && !std::equal(s.dims.begin(), s.dims.end(), a.dims)))
      throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " does not have the compiled type and shape " +
                                                    shape_to_string(s.dims) + " (kernels are specialised for static shapes)");
    if (b->size < s.bytes) throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " buffer is smaller than its shape");
    in_mem[i] = b->mem;
  }
  std::vector<OclBuffer*> allocated;
  auto drop_allocated = [&] {
    for (size_t k = 0; k < p.outputs.size(); ++k)
      for (auto* b : allocated)
        if (args->outputs[k]->buffer == reinterpret_cast<sy_buffer>(b)) args->outputs[k]->buffer = nullptr;
    for (auto* b : allocated) delete b;
  };
  try {
    for (size_t k = 0; k < p.outputs.size(); ++k) {
      sy_tensor_out& o = *args->outputs[k];
      const TensorSpec& s = p.outputs[k];
      if (o.buffer) {
        auto* b = reinterpret_cast<OclBuffer*>(o.buffer);
        if (b->device != &device_) throw_error(StatusCode::invalid_argument, "execute: output " + std::to_string(k) + " is not a buffer of this device");
        if (b->size < s.bytes) throw_error(StatusCode::invalid_argument, "execute: preallocated output " + std::to_string(k) + " is too small");
        out_mem[k] = b->mem;
      } else {
        auto b = std::make_unique<OclBuffer>();
        b->device = &device_;
        b->size = s.bytes;
        b->mem = create_buffer(device_, s.bytes);
        out_mem[k] = b->mem;
        allocated.push_back(b.get());
        o.buffer = reinterpret_cast<sy_buffer>(b.release());
      }
    }
  } catch (...) {
    drop_allocated();
    throw;
  }
  sy_status early = write_output_shapes(args);
  if (!early && args->cancel_flag && __atomic_load_n(args->cancel_flag, __ATOMIC_ACQUIRE))
    early = make_plugin_status(SY_ERROR_CANCELLED, "execute: cancelled before it started");
  if (early) {
    drop_allocated();
    args->on_complete(args->user_data, early);
    return;
  }
  std::unique_ptr<Workspace> ws;
  try {
    ws = acquire();
  } catch (...) {
    drop_allocated();
    throw;
  }
  cl_event done = nullptr;
  try {
    enqueue_all(*ws, in_mem, out_mem);
    check(clEnqueueMarkerWithWaitList(device_.queue, 0, nullptr, &done), "clEnqueueMarkerWithWaitList");
    check(clFlush(device_.queue), "clFlush");
  } catch (...) {
    clFinish(device_.queue);  // nothing of ours may still run once we return
    if (done) clReleaseEvent(done);
    release(std::move(ws));
    drop_allocated();
    throw;
  }
  auto on_complete = args->on_complete;
  void* user = args->user_data;
  Workspace* raw = ws.release();
  device_.completer->push(done, [this, raw, on_complete, user](cl_int status) {
    release(std::unique_ptr<Workspace>(raw));
    sy_status st = nullptr;
    if (status < 0) {
      st = make_plugin_status(SY_ERROR_INTERNAL, std::string("OpenCL execution failed: ") + cl_error_name(status) + " (" + std::to_string(status) + ")");
    }
    on_complete(user, st);
  });
}

}  // namespace switchyard::opencl
