// The template plugin (plugins/template) loaded as a vendor's would be: through the CLI with
// SWITCHYARD_PLUGIN_PATH (devices, the ONNX conformance corpus) and through the host's device
// registry (a MatMul -> Add -> Relu -> Softmax graph against the reference, serialize/restore,
// corrupt bytes, cancellation, concurrent executions, profiling, support answers, outputs of a
// large rank).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/hal/graph_view.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/runtime/partitioned_model.h"

namespace switchyard {
namespace {

// ---- The CLI, as a vendor runs it ----

struct CliRun {
  int code = -1;
  std::string output;
};

CliRun run_cli(const std::string& args) {
  const std::string cmd = "SWITCHYARD_PLUGIN_PATH='" SWITCHYARD_TEMPLATE_PLUGIN_DIR "' '" SWITCHYARD_CLI "' " + args + " 2>&1";
  CliRun run;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return run;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) run.output.append(buf, n);
  const int status = ::pclose(p);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

TEST(TemplateCli, DevicesListsTheTemplateDevice) {
  const CliRun run = run_cli("devices");
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_NE(run.output.find("template:0"), std::string::npos) << run.output;
}

// Every corpus case of the template's operators that it claims passes; the rest are skipped with its
// reasons. (The whole corpus runs against the out-of-tree build in scripts/sdk_check.sh.)
TEST(TemplateCli, ConformanceCorpusPassesEveryClaimedCase) {
  const CliRun run = run_cli("conformance onnx --tests '" SWITCHYARD_SHARED_DIR "/onnx-backend/node' --device template:0 "
                             "--filter 'add|mul|relu|matmul|softmax'");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex(R"((\d+) passed, (\d+) failed, (\d+) skipped)"))) << run.output;
  EXPECT_GT(std::stoi(m[1]), 0) << run.output;
  EXPECT_EQ(std::stoi(m[2]), 0) << run.output;
  EXPECT_GT(std::stoi(m[3]), 0) << run.output;
  EXPECT_EQ(run.code, 0) << run.output;
}

// ---- The ABI, through the host ----

const DeviceRegistry& registry() {
  static DeviceRegistry reg = [] {
    DiscoveryOptions o;
    o.extra_paths = {SWITCHYARD_TEMPLATE_PLUGIN_DIR};
    o.use_environment = false;
    o.use_default_paths = false;
    return DeviceRegistry::discover(o);
  }();
  return reg;
}

const Device& device() {
  auto d = registry().find("template:0");
  if (!d.ok()) throw std::runtime_error(d.status().to_string());
  return **d;
}

ValueType float32(const std::vector<int64_t>& dims) {
  ValueType t;
  t.tensor.elem = ElementType::float32;
  std::vector<Dim> shape;
  for (int64_t d : dims) shape.push_back({d, ""});
  t.tensor.shape = shape;
  return t;
}

Node node(const std::string& op, const std::string& name, std::vector<int32_t> inputs, int32_t output, int64_t opset = 13) {
  Node n;
  n.op_type = op;
  n.name = name;
  n.opset = opset;
  n.inputs = std::move(inputs);
  n.outputs = {output};
  return n;
}

Tensor ramp(const Shape& shape, double scale, double offset) {
  Tensor t = Tensor::allocate(ElementType::float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<float>()[i] = static_cast<float>(std::sin(scale * static_cast<double>(i) + offset));
  return t;
}

// y = Softmax(Relu(MatMul(x, W) + b)) over the last axis: x [2,3,4] (a batch dim), W [4,5], b [5].
std::shared_ptr<Model> mlp_model() {
  auto model = std::make_shared<Model>();
  Graph& g = model->graph;
  g.name = "mlp";
  const int32_t x = g.add_value("x", float32({2, 3, 4}));
  const int32_t w = g.add_value("W", float32({4, 5}));
  const int32_t b = g.add_value("b", float32({5}));
  const int32_t mm = g.add_value("mm", float32({2, 3, 5}));
  const int32_t sum = g.add_value("sum", float32({2, 3, 5}));
  const int32_t relu = g.add_value("relu", float32({2, 3, 5}));
  const int32_t y = g.add_value("y", float32({2, 3, 5}));
  g.initializers[w] = ramp({4, 5}, 0.7, 0.1);
  g.initializers[b] = ramp({5}, 1.3, 0.5);
  g.nodes = {node("MatMul", "matmul", {x, w}, mm), node("Add", "bias", {mm, b}, sum), node("Relu", "relu", {sum}, relu),
             node("Softmax", "softmax", {relu}, y)};
  g.inputs = {x};
  g.outputs = {y};
  g.opsets = {{"", 13}};
  return model;
}

Tensor mlp_input() { return ramp({2, 3, 4}, 0.37, 0.0); }

// Max |got - want| - (atol + rtol |want|); <= 0 is within tolerance.
double excess(const Tensor& got, const Tensor& want, double rtol, double atol) {
  EXPECT_EQ(got.shape(), want.shape());
  double worst = -INFINITY;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double a = reference::get_double(got, i), b = reference::get_double(want, i);
    worst = std::max(worst, std::fabs(a - b) - (atol + rtol * std::fabs(b)));
  }
  return worst;
}

// Runs a compiled executable on host tensors.
Result<std::vector<Tensor>> run(const Executable& exe, const std::vector<Tensor>& inputs, const ExecuteControl& control = {}) {
  std::vector<DeviceTensor> on_device;
  for (const Tensor& t : inputs) {
    SY_ASSIGN_OR_RETURN(DeviceTensor dt, upload(exe.device(), t));
    on_device.push_back(std::move(dt));
  }
  SY_ASSIGN_OR_RETURN(auto outputs, exe.execute(on_device, control));
  std::vector<Tensor> result;
  for (const DeviceTensor& dt : outputs) {
    SY_ASSIGN_OR_RETURN(Tensor t, download(dt));
    result.push_back(std::move(t));
  }
  return result;
}

TEST(TemplateAbi, TheDeviceIsDiscovered) {
  const Device& d = device();
  EXPECT_EQ(d.info().kind, DeviceKind::other);
  EXPECT_EQ(d.plugin_identity().name, "template");
  EXPECT_TRUE(d.info().host_visible_memory);
  EXPECT_FALSE(d.info().identity.empty());
}

TEST(TemplateAbi, MlpOnTheDeviceMatchesTheReference) {
  auto model = mlp_model();
  auto loaded = PartitionedModel::load_on_device(model, device(), /*fold_constants=*/false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  auto got = (*loaded)->predict({Value::of(mlp_input())});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto want = reference::Interpreter().run(model->graph, {Value::of(mlp_input())});
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  EXPECT_LE(excess((*got)[0].tensor, (*want)[0].tensor, 1e-5, 1e-7), 0.0);
}

TEST(TemplateAbi, SerializedExecutableRestoresAndGivesTheSameResult) {
  auto model = mlp_model();
  GraphView view(model->graph);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto bytes = (*compiled)->serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto restored = device().restore(view, bytes->data(), bytes->size());
  ASSERT_TRUE(restored.ok()) << restored.status().to_string();
  auto a = run(**compiled, {mlp_input()});
  auto b = run(**restored, {mlp_input()});
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().to_string() << " / " << b.status().to_string();
  EXPECT_LE(excess((*b)[0], (*a)[0], 0, 0), 0.0);
}

TEST(TemplateAbi, CorruptOrForeignBytesAreRefusedAsDataLoss) {
  auto model = mlp_model();
  GraphView view(model->graph);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto bytes = (*compiled)->serialize();
  ASSERT_TRUE(bytes.ok());
  auto refused = [&](std::vector<uint8_t> data, const std::string& why) {
    auto r = device().restore(view, data.data(), data.size());
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().to_string();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().to_string();
  };
  std::vector<uint8_t> flipped = *bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  refused(flipped, "checksum mismatch");
  refused(std::vector<uint8_t>(bytes->begin(), bytes->end() - 7), "cannot hold");
  refused(std::vector<uint8_t>(64, 0xab), "not a template executable");
  refused({}, "not a template executable");
  // Well-formed bytes of another graph (one Relu) do not match this one.
  Graph relu;
  const int32_t x = relu.add_value("x", float32({3})), y = relu.add_value("y", float32({3}));
  relu.nodes = {node("Relu", "r", {x}, y)};
  relu.inputs = {x};
  relu.outputs = {y};
  relu.opsets = {{"", 13}};
  GraphView relu_view(relu);
  auto other = device().compile(relu_view);
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  refused(*(*other)->serialize(), "the bytes are for a graph of 2 values and 1 nodes");
}

TEST(TemplateAbi, ARaisedCancelFlagStopsTheExecution) {
  auto model = mlp_model();
  GraphView view(model->graph);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  volatile int32_t stop = 1;
  ExecuteControl control;
  control.cancel_flag = &stop;
  auto r = run(**compiled, {mlp_input()}, control);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::cancelled) << r.status().to_string();
  EXPECT_NE(r.status().message().find("cancelled before node #0 MatMul 'matmul'"), std::string::npos) << r.status().to_string();
}

// A flag raised while a long MatMul runs stops it inside its row loop, not only between nodes.
TEST(TemplateAbi, CancellingDuringAMatMulStopsInsideIt) {
  Graph g;
  const int64_t n = 1500;  // ~3.4e9 multiply-adds: seconds of naive loops, cancelled after 200 ms
  const int32_t a = g.add_value("a", float32({n, n})), b = g.add_value("b", float32({n, n})), y = g.add_value("y", float32({n, n}));
  g.nodes = {node("MatMul", "big", {a, b}, y)};
  g.inputs = {a, b};
  g.outputs = {y};
  g.opsets = {{"", 13}};
  GraphView view(g);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  const Tensor lhs = ramp({n, n}, 0.1, 0), rhs = ramp({n, n}, 0.2, 1);
  volatile int32_t stop = 0;
  ExecuteControl control;
  control.cancel_flag = &stop;
  std::thread raise([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = 1;
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = run(**compiled, {lhs, rhs}, control);
  raise.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::cancelled) << r.status().to_string();
  EXPECT_NE(r.status().message().find("node #0 MatMul 'big': cancelled at row"), std::string::npos) << r.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// Executions share the executable and nothing else: threads running it at once all get one answer.
TEST(TemplateAbi, ConcurrentExecutionsOfOneExecutableAgree) {
  auto model = mlp_model();
  GraphView view(model->graph);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto first = run(**compiled, {mlp_input()});
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  std::vector<std::thread> threads;
  std::vector<double> worst(4, -INFINITY);
  for (size_t t = 0; t < worst.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = run(**compiled, {mlp_input()});
        worst[t] = std::max(worst[t], r.ok() ? excess((*r)[0], (*first)[0], 0, 0) : INFINITY);
      }
    });
  for (auto& t : threads) t.join();
  for (double w : worst) EXPECT_LE(w, 0.0);
}

struct Events : NodeEventSink {
  std::mutex mu;
  std::vector<std::pair<size_t, std::string>> seen;
  void node_event(size_t node, const char* implementation, std::chrono::steady_clock::time_point start,
                  std::chrono::steady_clock::time_point end) override {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_LE(start, end);
    seen.emplace_back(node, implementation ? implementation : "");
  }
};

TEST(TemplateAbi, EveryNodeIsProfiledWhenTheHostTraces) {
  auto model = mlp_model();
  GraphView view(model->graph);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  Events events;
  ExecuteControl control;
  control.node_events = &events;
  ASSERT_TRUE(run(**compiled, {mlp_input()}, control).ok());
  ASSERT_EQ(events.seen.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(events.seen[i].first, i);
    EXPECT_EQ(events.seen[i].second, "naive-c");
  }
}

TEST(TemplateAbi, SupportAnswersSayWhyNot) {
  Graph g;
  const int32_t x = g.add_value("x", float32({2, 3}));
  const int32_t n = g.add_value("n", ValueType{ValueType::Kind::tensor, {ElementType::int32, std::vector<Dim>{{2, ""}}}, nullptr});
  const int32_t a = g.add_value("a", float32({2, 3})), b = g.add_value("b", float32({2, 3}));
  const int32_t c = g.add_value("c", float32({2, 3})), d = g.add_value("d", ValueType{});
  g.nodes = {node("Softmax", "old_softmax", {x}, a, 11), node("Sub", "sub", {x, x}, b), node("Relu", "relu", {x}, c),
             node("Add", "ints", {n, n}, d)};
  g.inputs = {x, n};
  g.outputs = {a, b, c, d};
  g.opsets = {{"", 13}};
  GraphView view(g);
  auto answers = device().query_support(view);
  ASSERT_TRUE(answers.ok()) << answers.status().to_string();
  ASSERT_EQ(answers->size(), 4u);
  EXPECT_EQ((*answers)[0].reason, SupportReason::op);
  EXPECT_NE((*answers)[0].message.find("Softmax opset 11 is not implemented"), std::string::npos) << (*answers)[0].message;
  EXPECT_EQ((*answers)[1].reason, SupportReason::op);
  EXPECT_NE((*answers)[1].message.find("Sub is not implemented"), std::string::npos) << (*answers)[1].message;
  EXPECT_TRUE((*answers)[2].supported());
  EXPECT_EQ((*answers)[2].implementation, "naive-c");
  EXPECT_EQ((*answers)[3].reason, SupportReason::element_type);
  EXPECT_NE((*answers)[3].message.find("'n' has element type 6"), std::string::npos) << (*answers)[3].message;
  // Compiling the whole graph fails naming the first node refused.
  auto compiled = device().compile(view);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), StatusCode::unsupported);
  EXPECT_NE(compiled.status().message().find("node #0 Softmax 'old_softmax'"), std::string::npos) << compiled.status().to_string();
}

// An output of rank 10, past the host's inline dims: the plugin stores them in host->allocate memory.
TEST(TemplateAbi, BroadcastOutputOfALargeRankKeepsItsShape) {
  Graph g;
  const std::vector<int64_t> big = {2, 1, 1, 1, 1, 1, 1, 1, 1, 3};
  const int32_t x = g.add_value("x", float32(big)), s = g.add_value("s", float32({2, 1})), y = g.add_value("y", float32({}));
  g.values[static_cast<size_t>(y)].type.tensor.shape.reset();  // rank unknown until execute
  g.nodes = {node("Mul", "scale", {x, s}, y)};
  g.inputs = {x, s};
  g.outputs = {y};
  g.opsets = {{"", 14}};
  GraphView view(g);
  auto compiled = device().compile(view);
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  const Tensor xs = ramp(big, 0.5, 0.0), ss = Tensor::from_vector<float>(ElementType::float32, {2, 1}, {2.0f, -1.0f});
  auto got = run(**compiled, {xs, ss});
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  auto want = reference::Interpreter().run(g, {Value::of(xs), Value::of(ss)});
  ASSERT_TRUE(want.ok()) << want.status().to_string();
  EXPECT_EQ((*got)[0].shape(), Shape({2, 1, 1, 1, 1, 1, 1, 1, 2, 3}));
  EXPECT_LE(excess((*got)[0], (*want)[0].tensor, 0, 0), 0.0);
}

}  // namespace
}  // namespace switchyard
