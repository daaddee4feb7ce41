// OpenCL plugin: building programs, instantiating a schedule and running it.
#include "executable.h"

#include <algorithm>
#include <cstring>
#include <deque>

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

// Restore's check that the bytes were compiled from `graph` (the schedule bakes in its shapes,
// attributes and some initializer values). Throws Error(data_loss) naming what differs.
void check_same_graph(const KernelSchedule& schedule, const Graph& graph) {
  const GraphFingerprint given = fingerprint_graph(graph, schedule.fingerprint.baked);
  if (std::string diff = fingerprint_difference(schedule.fingerprint, given); !diff.empty())
    throw_error(StatusCode::data_loss, "serialized OpenCL executable was compiled for another graph: " + diff);
}

}  // namespace

std::unique_ptr<OclExecutable> OclExecutable::build(OclDevice& device, const Graph& graph, KernelSchedule schedule, bool from_binaries, const LogFn& log) {
  if (from_binaries) check_same_graph(schedule, graph);
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

cl_mem OclExecutable::value_memory(int32_t v, const Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem) const {
  const KernelSchedule& p = schedule_;
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
}

void OclExecutable::enqueue_launches(size_t begin, size_t end, const Workspace& ws, const std::vector<cl_mem>& in_mem,
                                     const std::vector<cl_mem>& out_mem) {
  const KernelSchedule& p = schedule_;
  for (size_t i = begin; i < end; ++i) {
    const Launch& l = p.launches[i];
    cl_kernel k = ws.kernels[l.program];
    for (size_t a = 0; a < l.args.size(); ++a) {
      const ArgRef& ar = l.args[a];
      cl_mem m = ar.kind == ArgRef::aux ? aux_[ar.index] : ar.kind == ArgRef::derived ? derived_[ar.index] : value_memory(ar.index, ws, in_mem, out_mem);
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
}

void OclExecutable::enqueue_copies(const Workspace& ws, const std::vector<cl_mem>& in_mem, const std::vector<cl_mem>& out_mem) {
  for (const auto& c : schedule_.copies) {
    const TensorSpec& s = schedule_.outputs[c.output];
    if (s.bytes == 0) continue;
    check(clEnqueueCopyBuffer(device_.queue, value_memory(c.value, ws, in_mem, out_mem), out_mem[c.output], 0, 0, s.bytes, 0, nullptr, nullptr),
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
    enqueue_launches(0, p.launches.size(), *ws, in_mem, out_mem);
    enqueue_copies(*ws, in_mem, out_mem);
    check(clFinish(device_.queue), "clFinish (warm-up)");
  } catch (...) {
    clFinish(device_.queue);
    release(std::move(ws));
    throw;
  }
  release(std::move(ws));
}

ExecuteRequest read_execute_args(const sy_execute_args& args) {
  const sy_execute_args* a = &args;
  ExecuteRequest r;
  if (SY_HAS_FIELD(a, sy_execute_args, num_inputs)) r.num_inputs = a->num_inputs;
  if (SY_HAS_FIELD(a, sy_execute_args, inputs)) r.inputs = a->inputs;
  if (SY_HAS_FIELD(a, sy_execute_args, num_outputs)) r.num_outputs = a->num_outputs;
  if (SY_HAS_FIELD(a, sy_execute_args, outputs)) r.outputs = a->outputs;
  if (SY_HAS_FIELD(a, sy_execute_args, input_values)) r.has_values |= a->input_values != nullptr;
  if (SY_HAS_FIELD(a, sy_execute_args, output_values)) r.has_values |= a->output_values != nullptr;
  if (SY_HAS_FIELD(a, sy_execute_args, on_complete)) r.on_complete = a->on_complete;
  if (SY_HAS_FIELD(a, sy_execute_args, user_data)) r.user_data = a->user_data;
  if (SY_HAS_FIELD(a, sy_execute_args, cancel_flag)) r.cancel_flag = a->cancel_flag;
  return r;
}

namespace {

// True when none of the `count` argument pointers is NULL (nor the array, when there are any).
template <typename T>
bool all_present(const T* const* args, size_t count) {
  return count == 0 || (args && std::all_of(args, args + count, [](const T* a) { return a != nullptr; }));
}

bool raised(const volatile int32_t* cancel_flag) { return cancel_flag && __atomic_load_n(cancel_flag, __ATOMIC_ACQUIRE) != 0; }

// Takes back the outputs execute() allocated, for a call it refuses or completes before starting.
void drop_allocated(const ExecuteRequest& request, const std::vector<OclBuffer*>& allocated) {
  for (size_t k = 0; k < request.num_outputs; ++k)
    if (std::find(allocated.begin(), allocated.end(), reinterpret_cast<OclBuffer*>(request.outputs[k]->buffer)) != allocated.end())
      request.outputs[k]->buffer = nullptr;
  for (auto* b : allocated) delete b;
}

}  // namespace

std::vector<cl_mem> OclExecutable::input_memory(const ExecuteRequest& request) const {
  std::vector<cl_mem> in_mem(schedule_.inputs.size());
  for (size_t i = 0; i < schedule_.inputs.size(); ++i) {
    const sy_tensor_arg& a = *request.inputs[i];
    if (!SY_HAS_FIELD(&a, sy_tensor_arg, dims))
      throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + "'s struct_size (" + std::to_string(a.struct_size) +
                                                    ") ends before its dims");
    auto* b = reinterpret_cast<OclBuffer*>(a.buffer);
    if (!b || b->device != &device_) throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " is not a buffer of this device");
    const TensorSpec& s = schedule_.inputs[i];
    if (a.elem_type != s.elem_type || a.rank != static_cast<int32_t>(s.dims.size()) || (a.rank > 0 && !a.dims) ||
        (a.rank > 0 && !std::equal(s.dims.begin(), s.dims.end(), a.dims)))
      throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " does not have the compiled type and shape " +
                                                    shape_to_string(s.dims) + " (kernels are specialised for static shapes)");
    if (b->size < s.bytes) throw_error(StatusCode::invalid_argument, "execute: input " + std::to_string(i) + " buffer is smaller than its shape");
    in_mem[i] = b->mem;
  }
  return in_mem;
}

std::vector<cl_mem> OclExecutable::output_memory(const ExecuteRequest& request, std::vector<OclBuffer*>& allocated) {
  std::vector<cl_mem> out_mem(schedule_.outputs.size());
  for (size_t k = 0; k < schedule_.outputs.size(); ++k) {
    sy_tensor_out& o = *request.outputs[k];
    if (!SY_HAS_FIELD(&o, sy_tensor_out, dims_capacity))
      throw_error(StatusCode::invalid_argument, "execute: output " + std::to_string(k) + "'s struct_size (" + std::to_string(o.struct_size) +
                                                    ") ends before its dims_capacity");
    const TensorSpec& s = schedule_.outputs[k];
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
  return out_mem;
}

// Every output's type and shape, from the schedule (static shapes). Fails only when the host's
// allocator cannot hold a shape larger than its own storage.
sy_status OclExecutable::write_output_shapes(const ExecuteRequest& request) const {
  for (size_t k = 0; k < schedule_.outputs.size(); ++k) {
    const TensorSpec& s = schedule_.outputs[k];
    if (sy_status st = plugin_helpers::set_tensor_out(plugin_host(), request.outputs[k], nullptr, s.elem_type,
                                                      static_cast<int32_t>(s.dims.size()), s.dims.data()))
      return st;
  }
  return nullptr;
}

// --- Running ---
//
// An enqueued kernel cannot be withdrawn, so a run the host may cancel (it gave a cancel flag)
// is enqueued a stage at a time, at most kStagesInFlight stages ahead: the one the device runs
// and the next, so the device does not wait for the host between them. The completion thread
// waits for the oldest stage, polls the flag, and enqueues the next stage; once the flag is
// raised it enqueues nothing more, waits for the stages in flight and completes with
// SY_ERROR_CANCELLED. Polling while a stage runs would gain nothing: its kernels cannot be
// stopped. A stage holds about kStageTime of launches (as timed by earlier runs; one launch
// until a run completed): each stage costs the host a wake-up, which a model of many small
// kernels would otherwise pay per kernel, and a raised flag stops the run within about two
// stages. Without a flag the whole run is one stage, enqueued at once with one event.
constexpr size_t kStagesInFlight = 2;
constexpr std::chrono::nanoseconds kStageTime = std::chrono::milliseconds(2);

size_t OclExecutable::launches_per_stage() const {
  const uint64_t launch_ns = launch_ns_.load(std::memory_order_relaxed);
  if (launch_ns == 0) return 1;
  return std::max<size_t>(1, static_cast<size_t>(static_cast<uint64_t>(kStageTime.count()) / launch_ns));
}

// Averages the launch time of the last few runs (each new run weighs half).
void OclExecutable::record_run_time(std::chrono::steady_clock::duration elapsed) {
  const uint64_t ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
  const uint64_t sample = std::max<uint64_t>(1, ns / std::max<size_t>(1, schedule_.launches.size()));
  const uint64_t before = launch_ns_.load(std::memory_order_relaxed);
  launch_ns_.store(before == 0 ? sample : (before + sample) / 2, std::memory_order_relaxed);
}

// One accepted execute(), from its first enqueue to its completion. Exactly one thread holds it
// at a time: execute() until it hands the oldest stage to the completion thread, then that thread.
struct OclExecutable::Run {
  std::unique_ptr<Workspace> ws;
  std::vector<cl_mem> in_mem, out_mem;  // the host's buffers, borrowed until completion
  const volatile int32_t* cancel_flag = nullptr;
  sy_completion_fn on_complete = nullptr;
  void* user_data = nullptr;
  std::chrono::steady_clock::time_point started;
  size_t stage_launches = 1;       // launches per stage (all of them without a cancel flag)
  size_t next_launch = 0;          // launches [0, next_launch) are enqueued
  bool all_enqueued = false;       // every launch and the output copies
  std::deque<cl_event> in_flight;  // each enqueued stage's end, oldest first (ours to release)
  sy_status stop = nullptr;        // set: enqueue nothing more, complete with it once drained
};

void OclExecutable::enqueue_stage(Run& run) {
  const size_t launches = schedule_.launches.size();
  const size_t end = std::min(run.next_launch + run.stage_launches, launches);
  cl_event stage_end = nullptr;
  try {
    enqueue_launches(run.next_launch, end, *run.ws, run.in_mem, run.out_mem);
    if (end == launches) enqueue_copies(*run.ws, run.in_mem, run.out_mem);
    check(clEnqueueMarkerWithWaitList(device_.queue, 0, nullptr, &stage_end), "clEnqueueMarkerWithWaitList");
  } catch (...) {
    clFinish(device_.queue);  // a half-enqueued stage has no event to wait for: none of it may still run
    throw;
  }
  run.next_launch = end;
  run.all_enqueued = end == launches;
  run.in_flight.push_back(stage_end);
}

void OclExecutable::fill_window(Run& run) {
  while (!run.all_enqueued && run.in_flight.size() < kStagesInFlight) enqueue_stage(run);
  check(clFlush(device_.queue), "clFlush");
}

void OclExecutable::await_oldest_stage(std::unique_ptr<Run> run) {
  cl_event oldest = run->in_flight.front();
  run->in_flight.pop_front();
  Run* held = run.release();
  device_.completer->push(oldest, [this, held](cl_int status) { on_stage_done(std::unique_ptr<Run>(held), status); });
}

// On the completion thread: a stage ended with `status`. Never throws.
void OclExecutable::on_stage_done(std::unique_ptr<Run> run, cl_int status) {
  if (!run->stop && status < 0)
    run->stop = make_plugin_status(SY_ERROR_INTERNAL, std::string("OpenCL execution failed: ") + cl_error_name(status) + " (" + std::to_string(status) + ")");
  if (!run->stop && !run->all_enqueued && raised(run->cancel_flag))
    run->stop = make_plugin_status(SY_ERROR_CANCELLED, "execute: cancelled after " + std::to_string(run->next_launch) + " of " +
                                                           std::to_string(schedule_.launches.size()) + " kernels");
  if (!run->stop) {
    try {
      fill_window(*run);
    } catch (const Error& e) {
      run->stop = make_plugin_status(static_cast<sy_status_code>(e.code()), e.what());
    } catch (const std::exception& e) {
      run->stop = make_plugin_status(SY_ERROR_INTERNAL, std::string("execute: ") + e.what());
    }
  }
  if (run->in_flight.empty()) finish(std::move(run));
  else await_oldest_stage(std::move(run));
}

void OclExecutable::finish(std::unique_ptr<Run> run) {
  if (!run->stop) record_run_time(std::chrono::steady_clock::now() - run->started);
  release(std::move(run->ws));
  const sy_completion_fn on_complete = run->on_complete;
  void* const user_data = run->user_data;
  const sy_status status = run->stop;
  run.reset();  // before completing: the host may release this executable as soon as it is told
  on_complete(user_data, status);
}

void OclExecutable::execute(const ExecuteRequest& request) {
  const KernelSchedule& p = schedule_;
  if (request.num_inputs != p.inputs.size() || request.num_outputs != p.outputs.size() || !all_present(request.inputs, p.inputs.size()) ||
      !all_present(request.outputs, p.outputs.size()))
    throw_error(StatusCode::invalid_argument, "execute: expected " + std::to_string(p.inputs.size()) + " inputs and " +
                                                  std::to_string(p.outputs.size()) + " outputs");
  auto run = std::make_unique<Run>();
  run->in_mem = input_memory(request);
  std::vector<OclBuffer*> allocated;
  try {
    run->out_mem = output_memory(request, allocated);
  } catch (...) {
    drop_allocated(request, allocated);
    throw;
  }
  sy_status early = write_output_shapes(request);
  if (!early && raised(request.cancel_flag)) early = make_plugin_status(SY_ERROR_CANCELLED, "execute: cancelled before it started");
  if (early) {
    drop_allocated(request, allocated);
    request.on_complete(request.user_data, early);
    return;
  }
  run->started = std::chrono::steady_clock::now();
  run->stage_launches = request.cancel_flag ? launches_per_stage() : p.launches.size();
  run->cancel_flag = request.cancel_flag;
  run->on_complete = request.on_complete;
  run->user_data = request.user_data;
  try {
    run->ws = acquire();
    fill_window(*run);
  } catch (...) {
    clFinish(device_.queue);  // nothing of ours may still run once we return
    for (cl_event e : run->in_flight) clReleaseEvent(e);
    if (run->ws) release(std::move(run->ws));
    drop_allocated(request, allocated);
    throw;
  }
  await_oldest_stage(std::move(run));
}

}  // namespace switchyard::opencl
