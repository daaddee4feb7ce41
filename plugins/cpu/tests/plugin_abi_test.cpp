// The CPU plugin through its ABI 2.0 function table, called directly (no loader, no runtime): the
// test is the host, with a host api of its own (statuses, malloc/free for what the plugin hands
// over, a steady clock whose reads it counts). Covers support answers through the report callback,
// per-node profiling, host memory imported as buffers, and output shapes past dims_capacity.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "plugin_api.h"
#include "switchyard/hal/graph.h"
#include "switchyard/hal/graph_view.h"

// The host defines what a status is; this test is the host.
struct sy_status_s {
  sy_status_code code;
  std::string message;
};

namespace switchyard::cpu {
namespace {

// --- The test's host ---------------------------------------------------------------------------

std::atomic<int> g_allocations{0};  // host->allocate calls
std::atomic<int> g_clock_reads{0};  // host->now_ns calls

sy_status make_status(sy_status_code code, const char* message) { return new sy_status_s{code, message ? message : ""}; }
void log_line(sy_log_level, const char*, const char*) {}
void* allocate(size_t size) {
  ++g_allocations;
  return std::malloc(size ? size : 1);
}
void deallocate(void* memory) { std::free(memory); }
uint64_t now_ns() {
  ++g_clock_reads;
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

const sy_host_api kHost = {sizeof(sy_host_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR, make_status, log_line,
                           allocate,            deallocate,           now_ns};

// A status's code and message; frees the status (the host owns it).
struct Outcome {
  sy_status_code code = SY_OK;
  std::string message;
};
Outcome take(sy_status st) {
  if (!st) return {};
  Outcome o{st->code, st->message};
  delete st;
  return o;
}
#define ASSERT_ABI_OK(call)                            \
  do {                                                 \
    const Outcome outcome_ = take(call);               \
    ASSERT_EQ(outcome_.code, SY_OK) << outcome_.message; \
  } while (0)

// 64-byte aligned host memory, as a host importing its tensors would hold it.
struct HostMemory {
  explicit HostMemory(size_t size) : bytes(static_cast<std::byte*>(std::aligned_alloc(64, (size + 63) / 64 * 64))) {}
  ~HostMemory() { std::free(bytes); }
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;
  std::byte* bytes;
};

// --- Graphs ------------------------------------------------------------------------------------

ValueType float_type(const Shape& shape) {
  ValueType vt;
  vt.kind = ValueType::Kind::tensor;
  vt.tensor.elem = ElementType::float32;
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim{d, ""});
  vt.tensor.shape = dims;
  return vt;
}

Tensor floats(const Shape& shape, float first, float step) {
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = first + step * static_cast<float>(i);
  return t;
}

int32_t add_node(Graph& g, const std::string& op, std::vector<int32_t> inputs, const Shape& out_shape,
                 std::vector<Attribute> attributes = {}) {
  Node n;
  n.op_type = op;
  n.name = op + std::to_string(g.nodes.size());
  n.opset = 17;
  n.inputs = std::move(inputs);
  n.attributes = std::move(attributes);
  const int32_t out = g.add_value(n.name + "_out", float_type(out_shape));
  n.outputs.push_back(out);
  g.nodes.push_back(std::move(n));
  return out;
}

int32_t add_constant(Graph& g, const std::string& name, Tensor t) {
  const int32_t id = g.add_value(name, float_type(t.shape()));
  g.initializers[id] = std::move(t);
  return id;
}

const Shape kInputShape = {2, 2, 4};
const Shape kOutputShape = {2, 2, 3};  // rank 3: past a dims_capacity of 1

Tensor matmul_weights() { return floats({4, 3}, -0.5f, 0.125f); }
Tensor add_bias() { return floats({3}, 0.25f, -0.5f); }
std::vector<float> values_of(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }
std::vector<float> input_values() { return values_of(floats(kInputShape, -2.0f, 0.25f)); }

// x[2,2,4] -> MatMul W[4,3] -> Relu -> Add b[3] -> y[2,2,3]
Graph matmul_relu_add() {
  Graph g;
  g.name = "matmul_relu_add";
  g.opsets.push_back({"", 17});
  const int32_t x = g.add_value("x", float_type(kInputShape));
  g.inputs.push_back(x);
  const int32_t h = add_node(g, "MatMul", {x, add_constant(g, "w", matmul_weights())}, kOutputShape);
  const int32_t r = add_node(g, "Relu", {h}, kOutputShape);
  g.outputs.push_back(add_node(g, "Add", {r, add_constant(g, "b", add_bias())}, kOutputShape));
  return g;
}

// y = Relu(x W) + b, computed here.
std::vector<float> expected_output(const std::vector<float>& x) {
  const Tensor w = matmul_weights(), b = add_bias();
  std::vector<float> y;
  for (size_t row = 0; row < 4; ++row)
    for (size_t j = 0; j < 3; ++j) {
      float sum = 0;
      for (size_t k = 0; k < 4; ++k) sum += x[row * 4 + k] * w.data<float>()[k * 3 + j];
      y.push_back(std::max(sum, 0.0f) + b.data<float>()[j]);
    }
  return y;
}

// --- The plugin, and one execute ---------------------------------------------------------------

class CpuPluginAbi : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = &plugin_api(&kHost);
    const sy_setting threads{sizeof(sy_setting), "threads", "1"};
    const sy_setting bandwidth{sizeof(sy_setting), "bandwidth_gbps", "20"};  // no bandwidth probe
    const sy_setting* settings[] = {&threads, &bandwidth};
    ASSERT_ABI_OK(api_->initialize(settings, 2, &plugin_));
    ASSERT_ABI_OK(api_->device_get(plugin_, 0, &device_));
  }
  void TearDown() override {
    for (sy_executable e : executables_) api_->executable_release(e);
    if (plugin_) api_->shutdown(plugin_);
  }

  // Compiles `graph`, which the fixture keeps: the executable uses its initializers in place.
  sy_executable compile(Graph graph) {
    const Graph& kept = graphs_.emplace_back(std::move(graph));
    GraphView view(kept);
    sy_executable exe = nullptr;
    const Outcome o = take(api_->compile(device_, view.get(), nullptr, 0, &exe));
    EXPECT_EQ(o.code, SY_OK) << o.message;
    if (exe) executables_.push_back(exe);
    return exe;
  }

  sy_buffer allocated_input(const std::vector<float>& values) {
    sy_buffer b = nullptr;
    EXPECT_EQ(take(api_->buffer_alloc(device_, values.size() * sizeof(float), &b)).code, SY_OK);
    EXPECT_EQ(take(api_->buffer_write(b, 0, values.data(), values.size() * sizeof(float))).code, SY_OK);
    return b;
  }

  // What one execute of a one-input, one-output float graph gave.
  struct Result {
    Outcome status;
    std::vector<float> output;
    std::vector<int64_t> dims;
    bool dims_from_host_allocate = false;  // the plugin stored an array of host->allocate in `dims`
    sy_buffer output_buffer = nullptr;     // released by run() unless keep_output
  };

  // Executes `exe` on `input` (shape `shape`); the plugin allocates the output and writes its shape
  // into `dims_capacity` entries of host storage (or into host->allocate'd memory past that).
  Result run(sy_executable exe, sy_buffer input, const Shape& shape, size_t dims_capacity, const sy_profiler* profiler,
             bool keep_output = false) {
    const sy_tensor_arg arg{sizeof(sy_tensor_arg), input, SY_ELEM_FLOAT32, static_cast<int32_t>(shape.size()), shape.data()};
    const sy_tensor_arg* inputs[] = {&arg};
    int64_t host_dims[8] = {};
    sy_tensor_out out{sizeof(sy_tensor_out), nullptr, 0, 0, host_dims, dims_capacity};
    sy_tensor_out* outputs[] = {&out};
    Result r;
    sy_execute_args args{};
    args.struct_size = sizeof args;
    args.num_inputs = 1;
    args.inputs = inputs;
    args.num_outputs = 1;
    args.outputs = outputs;
    args.on_complete = [](void* user, sy_status st) { static_cast<Result*>(user)->status = take(st); };
    args.user_data = &r;
    args.profiler = profiler;
    const Outcome accepted = take(api_->execute(exe, &args));
    EXPECT_EQ(accepted.code, SY_OK) << accepted.message;
    if (r.status.code != SY_OK) return r;
    r.dims.assign(out.dims, out.dims + out.rank);
    r.dims_from_host_allocate = out.dims != host_dims;
    if (r.dims_from_host_allocate) deallocate(out.dims);
    EXPECT_EQ(out.elem_type, SY_ELEM_FLOAT32);
    r.output.resize(api_->buffer_size(out.buffer) / sizeof(float));
    EXPECT_EQ(take(api_->buffer_read(out.buffer, 0, r.output.data(), r.output.size() * sizeof(float))).code, SY_OK);
    r.output_buffer = out.buffer;
    if (!keep_output) api_->buffer_release(out.buffer);
    return r;
  }

  const sy_plugin_api* api_ = nullptr;
  sy_plugin plugin_ = nullptr;
  sy_device device_ = nullptr;
  std::deque<Graph> graphs_;  // compiled graphs, alive as long as their executables
  std::vector<sy_executable> executables_;
};

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5f) << "element " << i;
}

// --- Support answers ---------------------------------------------------------------------------

struct Answer {
  int calls = 0;
  sy_support_reason reason = SY_UNSUPPORTED_OTHER;
  std::string implementation;
};

TEST_F(CpuPluginAbi, QuerySupportReportsEveryNodeThroughTheCallback) {
  const Graph graph = matmul_relu_add();
  GraphView view(graph);
  std::vector<Answer> answers(graph.nodes.size());
  sy_support_report report{};
  report.struct_size = sizeof report;
  report.context = &answers;
  report.node = [](void* context, size_t node, sy_support_reason reason, const char*, const char* implementation) {
    auto& all = *static_cast<std::vector<Answer>*>(context);
    ASSERT_LT(node, all.size());
    ++all[node].calls;
    all[node].reason = reason;
    all[node].implementation = implementation ? implementation : "";
  };
  ASSERT_ABI_OK(api_->query_support(device_, view.get(), &report));
  for (size_t i = 0; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i].calls, 1) << graph.nodes[i].describe();
    EXPECT_EQ(answers[i].reason, SY_SUPPORTED) << graph.nodes[i].describe();
    EXPECT_FALSE(answers[i].implementation.empty()) << graph.nodes[i].describe();
  }
}

// --- Profiling ---------------------------------------------------------------------------------

struct Event {
  size_t node;
  std::string implementation;
  uint64_t start_ns, end_ns;
};

sy_profiler profiler_into(std::vector<Event>* events) {
  sy_profiler p{};
  p.struct_size = sizeof p;
  p.context = events;
  p.node_event = [](void* context, size_t node, const char* implementation, uint64_t start_ns, uint64_t end_ns) {
    static_cast<std::vector<Event>*>(context)->push_back({node, implementation ? implementation : "", start_ns, end_ns});
  };
  return p;
}

TEST_F(CpuPluginAbi, ProfilerGetsOneEventPerReceivedNodeAndNoneWithoutProfiler) {
  const Graph graph = matmul_relu_add();
  sy_executable exe = compile(graph);
  ASSERT_NE(exe, nullptr);
  sy_buffer input = allocated_input(input_values());
  std::vector<Event> events;
  const sy_profiler profiler = profiler_into(&events);
  const uint64_t before = now_ns();
  Result traced = run(exe, input, kInputShape, 3, &profiler);
  const uint64_t after = now_ns();
  ASSERT_EQ(traced.status.code, SY_OK) << traced.status.message;
  ASSERT_EQ(events.size(), graph.nodes.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].node, i);  // one thread, nodes in order
    EXPECT_LE(before, events[i].start_ns);
    EXPECT_LE(events[i].start_ns, events[i].end_ns);
    EXPECT_LE(events[i].end_ns, after);
    EXPECT_FALSE(events[i].implementation.empty());
  }

  events.clear();
  const int reads = g_clock_reads;
  Result untraced = run(exe, input, kInputShape, 3, nullptr);
  ASSERT_EQ(untraced.status.code, SY_OK) << untraced.status.message;
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(g_clock_reads, reads) << "no clock reads without a profiler";
  EXPECT_EQ(untraced.output, traced.output);
  api_->buffer_release(input);
}

// Relu -> Conv -> Relu -> Neg: the Conv and the Relu after it run as one fused kernel, which
// reports once, for the Conv (received node 1); Neg, execution node 2, reports as received node 3.
TEST_F(CpuPluginAbi, FusedKernelReportsOnceForItsAnchorWithReceivedIndices) {
  const Shape shape = {1, 8, 6, 6};
  Graph g;
  g.name = "fused";
  g.opsets.push_back({"", 17});
  const int32_t x = g.add_value("x", float_type(shape));
  g.inputs.push_back(x);
  const int32_t pre = add_node(g, "Relu", {x}, shape);
  auto ints = [](const std::string& name, std::vector<int64_t> v) {
    Attribute a;
    a.name = name;
    a.type = Attribute::Type::ints;
    a.ints = std::move(v);
    return a;
  };
  const int32_t w = add_constant(g, "w", floats({8, 8, 3, 3}, -0.3f, 0.001f));
  const int32_t b = add_constant(g, "b", floats({8}, 0.1f, 0.1f));
  const int32_t conv = add_node(g, "Conv", {pre, w, b}, shape, {ints("pads", {1, 1, 1, 1}), ints("kernel_shape", {3, 3})});
  const int32_t post = add_node(g, "Relu", {conv}, shape);
  g.outputs.push_back(add_node(g, "Neg", {post}, shape));
  sy_executable exe = compile(g);
  ASSERT_NE(exe, nullptr);
  sy_buffer input = allocated_input(values_of(floats(shape, -1.0f, 0.01f)));
  std::vector<Event> events;
  const sy_profiler profiler = profiler_into(&events);
  Result r = run(exe, input, shape, 4, &profiler);
  ASSERT_EQ(r.status.code, SY_OK) << r.status.message;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].node, 0u);
  EXPECT_EQ(events[1].node, 1u);
  EXPECT_EQ(events[1].implementation, "onednn+fused");
  EXPECT_EQ(events[2].node, 3u);
  api_->buffer_release(input);
}

// --- Host memory imported as buffers -----------------------------------------------------------

TEST_F(CpuPluginAbi, ImportedHostBufferGivesTheResultOfAnAllocatedOne) {
  sy_executable exe = compile(matmul_relu_add());
  ASSERT_NE(exe, nullptr);
  const std::vector<float> x = input_values();
  const size_t bytes = x.size() * sizeof(float);
  HostMemory memory(bytes);
  std::memcpy(memory.bytes, x.data(), bytes);
  sy_buffer imported = nullptr;
  ASSERT_ABI_OK(api_->buffer_import_host(device_, memory.bytes, bytes, &imported));
  EXPECT_EQ(api_->buffer_size(imported), bytes);
  EXPECT_EQ(api_->buffer_map(imported), memory.bytes) << "wraps the host's memory, no copy";

  sy_buffer allocated = allocated_input(x);
  Result from_allocated = run(exe, allocated, kInputShape, 3, nullptr);
  Result from_imported = run(exe, imported, kInputShape, 3, nullptr);
  ASSERT_EQ(from_imported.status.code, SY_OK) << from_imported.status.message;
  EXPECT_EQ(from_imported.output, from_allocated.output);
  expect_near(from_imported.output, expected_output(x));

  // Reads and writes go to the host's memory itself.
  const float changed = 42.0f;
  ASSERT_ABI_OK(api_->buffer_write(imported, sizeof(float), &changed, sizeof changed));
  float seen = 0;
  std::memcpy(&seen, memory.bytes + sizeof(float), sizeof seen);
  EXPECT_EQ(seen, changed);
  float read_back = 0;
  ASSERT_ABI_OK(api_->buffer_read(imported, sizeof(float), &read_back, sizeof read_back));
  EXPECT_EQ(read_back, changed);
  api_->buffer_release(imported);
  api_->buffer_release(allocated);
}

TEST_F(CpuPluginAbi, MisalignedHostMemoryIsRefusedAsUnsupported) {
  HostMemory memory(256);
  sy_buffer buffer = nullptr;
  const Outcome o = take(api_->buffer_import_host(device_, memory.bytes + 16, 128, &buffer));
  EXPECT_EQ(o.code, SY_ERROR_UNSUPPORTED) << o.message;
  EXPECT_EQ(buffer, nullptr);
}

// An output that is an input's bytes (Identity) is copied out of imported memory: the host may
// free that memory once it releases the input buffer, while it still owns the output.
TEST_F(CpuPluginAbi, OutputNeverAliasesImportedHostMemory) {
  const Shape shape = {4};
  Graph g;
  g.name = "identity";
  g.opsets.push_back({"", 17});
  const int32_t x = g.add_value("x", float_type(shape));
  g.inputs.push_back(x);
  g.outputs.push_back(add_node(g, "Identity", {x}, shape));
  sy_executable exe = compile(g);
  ASSERT_NE(exe, nullptr);
  const std::vector<float> values = {1, 2, 3, 4};
  auto memory = std::make_unique<HostMemory>(sizeof(float) * 4);
  std::memcpy(memory->bytes, values.data(), sizeof(float) * 4);
  sy_buffer imported = nullptr;
  ASSERT_ABI_OK(api_->buffer_import_host(device_, memory->bytes, sizeof(float) * 4, &imported));
  Result r = run(exe, imported, shape, 1, nullptr, /*keep_output=*/true);
  ASSERT_EQ(r.status.code, SY_OK) << r.status.message;
  EXPECT_NE(api_->buffer_map(r.output_buffer), memory->bytes);
  api_->buffer_release(imported);
  memory.reset();
  std::vector<float> kept(4);
  ASSERT_ABI_OK(api_->buffer_read(r.output_buffer, 0, kept.data(), sizeof(float) * 4));
  EXPECT_EQ(kept, values);
  api_->buffer_release(r.output_buffer);
}

// --- Output shapes -----------------------------------------------------------------------------

TEST_F(CpuPluginAbi, OutputRankPastDimsCapacityGetsDimsFromHostAllocate) {
  sy_executable exe = compile(matmul_relu_add());
  ASSERT_NE(exe, nullptr);
  sy_buffer input = allocated_input(input_values());
  const int allocations = g_allocations;
  Result in_host_storage = run(exe, input, kInputShape, 3, nullptr);
  ASSERT_EQ(in_host_storage.status.code, SY_OK) << in_host_storage.status.message;
  EXPECT_FALSE(in_host_storage.dims_from_host_allocate);
  EXPECT_EQ(g_allocations, allocations);
  EXPECT_EQ(in_host_storage.dims, kOutputShape);

  Result past_capacity = run(exe, input, kInputShape, 1, nullptr);
  ASSERT_EQ(past_capacity.status.code, SY_OK) << past_capacity.status.message;
  EXPECT_TRUE(past_capacity.dims_from_host_allocate);
  EXPECT_EQ(g_allocations, allocations + 1);
  EXPECT_EQ(past_capacity.dims, kOutputShape);
  EXPECT_EQ(past_capacity.output, in_host_storage.output);
  api_->buffer_release(input);
}

}  // namespace
}  // namespace switchyard::cpu
