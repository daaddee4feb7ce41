// The api and cache suites' raw view of a device (abi_probe.h): the table behind the target's
// device, small models built with the ONNX protobuf API, and one execute() as any host makes it,
// with its completions counted.
#include "abi_probe.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "switchyard/conformance/check.h"
#include "switchyard/hal/abi_calls.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"

namespace switchyard::conformance::abi {

// ---- The device ----

namespace {
// "cpu:0" -> 0; the registry numbers a plugin's devices by device_get's index.
Result<size_t> device_index(const std::string& id) {
  const size_t colon = id.rfind(':');
  try {
    if (colon != std::string::npos) return static_cast<size_t>(std::stoul(id.substr(colon + 1)));
  } catch (const std::exception&) {
  }
  return Status(StatusCode::invalid_argument, "device id '" + id + "' has no index");
}
}  // namespace

Result<AbiDevice> abi_device(const Target& target) {
  if (!target.device)
    return Status(StatusCode::unsupported, "the target '" + target.device_id + "' is not a plugin's device: there is no table to call");
  AbiDevice d;
  d.host_device = target.device;
  d.id = target.device->id();
  d.api = &target.device->plugin()->api();
  d.plugin = target.device->plugin()->handle();
  // Device does not expose its sy_device; device_get gives the same handle again (devices live
  // until shutdown).
  SY_ASSIGN_OR_RETURN(const size_t index, device_index(d.id));
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*d.api, device_get, d.plugin, index, &d.device)).with_context(d.id + ": device_get"));
  if (!d.device) return Status(StatusCode::internal, d.id + ": device_get succeeded without a device");
  return d;
}

Result<AbiDevice> reloaded_device(const LoadedPlugin& plugin, const AbiDevice& original) {
  AbiDevice d = original;
  d.api = &plugin.api();
  d.plugin = plugin.handle();
  SY_ASSIGN_OR_RETURN(const size_t index, device_index(d.id));
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*d.api, device_get, d.plugin, index, &d.device)).with_context(d.id + " (loaded again): device_get"));
  if (!d.device) return Status(StatusCode::internal, d.id + " (loaded again): device_get succeeded without a device");
  return d;
}

std::string refusal_problem(const Status& status) {
  if (status.ok()) return "succeeded";
  if (status.message().empty()) return "refused with " + std::string(status_code_name(status.code())) + " but no message";
  return {};
}

std::string describe(const Status& status) {
  return status.ok() ? "success" : std::string(status_code_name(status.code())) + ": " + status.message();
}

CaseResult passed(std::string detail) {
  CaseResult r;
  r.outcome = Outcome::passed;
  r.detail = std::move(detail);
  return r;
}

CaseResult failed(std::string reason, std::string detail) {
  CaseResult r;
  r.outcome = Outcome::failed;
  r.reason = std::move(reason);
  r.detail = std::move(detail);
  return r;
}

CaseResult skipped(std::string why) {
  CaseResult r;
  r.outcome = Outcome::skipped;
  r.reason = std::move(why);
  return r;
}

std::string first_problem_on_threads(int threads, int rounds, const char* round_name,
                                     const std::function<std::string(int thread, int round)>& attempt) {
  std::mutex mu;
  std::string first_problem;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        std::string p = attempt(t, round);
        if (p.empty()) continue;
        std::lock_guard<std::mutex> lock(mu);
        if (first_problem.empty()) first_problem = "thread " + std::to_string(t) + ", " + round_name + " " + std::to_string(round) + ": " + p;
        return;
      }
    });
  for (auto& t : pool) t.join();
  return first_problem;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    reset();
    api_ = other.api_;
    handle_ = other.handle_;
    other.handle_ = nullptr;
  }
  return *this;
}

void Buffer::reset() {
  if (handle_) SY_CALL_PLUGIN(*api_, buffer_release, handle_);
  handle_ = nullptr;
}

Executable& Executable::operator=(Executable&& other) noexcept {
  if (this != &other) {
    reset();
    api_ = other.api_;
    handle_ = other.handle_;
    other.handle_ = nullptr;
  }
  return *this;
}

void Executable::reset() {
  if (handle_) SY_CALL_PLUGIN(*api_, executable_release, handle_);
  handle_ = nullptr;
}

// ---- Small models ----

namespace {

void set_shape(onnx::ValueInfoProto* value, const std::string& name, const Shape& shape) {
  value->set_name(name);
  auto* tensor = value->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

void add_node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in, const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(g->node_size()));
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
}

void add_initializer(onnx::GraphProto* g, const std::string& name, const Shape& shape, const std::vector<float>& values) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

// Small integers in [-4, 4] from a fixed pattern: weights every device holds exactly.
std::vector<float> pattern(size_t count) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) v[i] = static_cast<float>(static_cast<int>((i * 7 + 3) % 9) - 4);
  return v;
}

std::vector<float> identity(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n * n), 0.0f);
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i * n + i)] = 1.0f;
  return v;
}

// The graph of `kind`; `input_shapes` gets its inputs' shapes.
void fill_graph(ProbeKind kind, onnx::GraphProto* g, std::vector<Shape>& input_shapes) {
  auto input = [&](const std::string& name, const Shape& shape) {
    set_shape(g->add_input(), name, shape);
    input_shapes.push_back(shape);
  };
  switch (kind) {
    case ProbeKind::add:
      input("a", {2, 3}), input("b", {2, 3});
      add_node(g, "Add", {"a", "b"}, "y");
      set_shape(g->add_output(), "y", {2, 3});
      return;
    case ProbeKind::relu:
      input("x", {2, 3});
      add_node(g, "Relu", {"x"}, "y");
      set_shape(g->add_output(), "y", {2, 3});
      return;
    case ProbeKind::matmul:
      input("a", {2, 3}), input("b", {3, 4});
      add_node(g, "MatMul", {"a", "b"}, "y");
      set_shape(g->add_output(), "y", {2, 4});
      return;
    case ProbeKind::matmul_weights:
      input("x", {4, 8});
      add_initializer(g, "w", {8, 8}, pattern(64));
      add_node(g, "MatMul", {"x", "w"}, "y");
      set_shape(g->add_output(), "y", {4, 8});
      return;
    case ProbeKind::conv:
      input("x", {1, 1, 5, 5});
      add_initializer(g, "w", {1, 1, 3, 3}, pattern(9));
      add_node(g, "Conv", {"x", "w"}, "y");
      set_shape(g->add_output(), "y", {1, 1, 3, 3});
      return;
  }
}

Result<ProbeModel> import_probe(const onnx::ModelProto& proto, ProbeKind kind, std::string op, std::vector<Shape> input_shapes) {
  const std::string bytes = proto.SerializeAsString();
  SY_ASSIGN_OR_RETURN(std::shared_ptr<Model> model, import_onnx_bytes(bytes.data(), bytes.size()));
  ProbeModel p;
  p.kind = kind;
  p.op = std::move(op);
  p.model = model;
  p.view = std::make_shared<const GraphView>(model->graph);
  p.input_shapes = std::move(input_shapes);
  return p;
}

onnx::ModelProto empty_model(const std::string& name) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("switchyard-conformance");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(17);
  m.mutable_graph()->set_name(name);
  return m;
}

}  // namespace

const char* probe_op(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::add: return "Add";
    case ProbeKind::relu: return "Relu";
    case ProbeKind::matmul:
    case ProbeKind::matmul_weights: return "MatMul";
    case ProbeKind::conv: return "Conv";
  }
  return "";
}

const std::vector<ProbeKind>& all_probes() {
  static const std::vector<ProbeKind> kinds = {ProbeKind::add, ProbeKind::relu, ProbeKind::matmul, ProbeKind::matmul_weights, ProbeKind::conv};
  return kinds;
}

Result<ProbeModel> build_probe(ProbeKind kind) {
  onnx::ModelProto m = empty_model(std::string("probe_") + probe_op(kind));
  std::vector<Shape> shapes;
  fill_graph(kind, m.mutable_graph(), shapes);
  return import_probe(m, kind, probe_op(kind), std::move(shapes));
}

Result<ProbeModel> build_matmul_chain(int64_t n, int length) {
  onnx::ModelProto m = empty_model("matmul_chain");
  auto* g = m.mutable_graph();
  set_shape(g->add_input(), "x0", {n, n});
  add_initializer(g, "eye", {n, n}, identity(n));
  for (int i = 0; i < length; ++i) add_node(g, "MatMul", {"x" + std::to_string(i), "eye"}, "x" + std::to_string(i + 1));
  set_shape(g->add_output(), "x" + std::to_string(length), {n, n});
  auto chain = import_probe(m, ProbeKind::matmul_weights, "MatMul", {{n, n}});
  if (chain.ok()) chain->identity = true;
  return chain;
}

Result<ProbeData> probe_data(const ProbeModel& probe, uint64_t seed) {
  ProbeData data;
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (const Shape& shape : probe.input_shapes) {
    Tensor t = Tensor::allocate(ElementType::float32, shape);
    float* v = t.mutable_data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v[i] = static_cast<float>(static_cast<int>((state >> 33) % 9) - 4);
    }
    data.inputs.push_back(Value::of(std::move(t)));
  }
  if (probe.identity) {
    data.expected = data.inputs;
    return data;
  }
  SY_ASSIGN_OR_RETURN(data.expected, reference::Interpreter().run(probe.model->graph, data.inputs));
  return data;
}

namespace {
// The host side of sy_support_report for the suites: answers by node, counted.
struct Answers {
  std::vector<std::optional<NodeSupport>> nodes;
  static void node(void* context, size_t index, sy_support_reason reason, const char* message, const char* implementation) {
    auto* self = static_cast<Answers*>(context);
    if (index < self->nodes.size()) self->nodes[index] = NodeSupport::from_abi(reason, message, implementation);
  }
};
}  // namespace

Result<std::string> unclaimed_reason(const AbiDevice& device, const ProbeModel& probe) {
  const sy_graph* g = probe.view->get();
  Answers answers;
  answers.nodes.resize(g->num_nodes);
  const sy_support_report report{sizeof(sy_support_report), &answers, &Answers::node};
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, query_support, device.device, g, &report)).with_context(device.id + ": query_support"));
  for (size_t i = 0; i < answers.nodes.size(); ++i) {
    const auto& a = answers.nodes[i];
    if (!a) return probe.op + ": the plugin gave no answer for node " + std::to_string(i);
    if (!a->supported())
      return probe.op + ": " + support_reason_name(a->reason) + (a->message.empty() ? "" : ": " + a->message);
  }
  return std::string();
}

Result<std::vector<ProbeModel>> claimed_probes(const AbiDevice& device, const std::vector<ProbeKind>& kinds) {
  std::vector<ProbeModel> claimed;
  for (ProbeKind kind : kinds) {
    SY_ASSIGN_OR_RETURN(ProbeModel probe, build_probe(kind));
    SY_ASSIGN_OR_RETURN(std::string why, unclaimed_reason(device, probe));
    if (why.empty()) claimed.push_back(std::move(probe));
  }
  return claimed;
}

Result<ProbeModel> claimed_probe(const AbiDevice& device, const std::vector<ProbeKind>& kinds) {
  std::string refusals;
  for (ProbeKind kind : kinds) {
    SY_ASSIGN_OR_RETURN(ProbeModel probe, build_probe(kind));
    SY_ASSIGN_OR_RETURN(std::string why, unclaimed_reason(device, probe));
    if (why.empty()) return probe;
    refusals += (refusals.empty() ? "" : "; ") + why;
  }
  return Status(StatusCode::unsupported, "the device claims none of the probe models (" + refusals + ")");
}

Result<Executable> compile(const AbiDevice& device, const ProbeModel& probe) {
  sy_executable exe = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*device.api, compile, device.device, probe.view->get(), nullptr, 0, &exe)).with_context(device.id + ": compile"));
  if (!exe) return Status(StatusCode::internal, device.id + ": compile succeeded without an executable");
  return Executable(device.api, exe);
}

// ---- Cases ----

namespace {
CaseResult on_device(const Target& target, const DeviceBody& body) {
  auto device = abi_device(target);
  if (!device.ok())
    return device.status().code() == StatusCode::unsupported ? skipped(device.status().message())
                                                              : failed("device_get", device.status().message());
  return body(*device);
}

CaseResult with_probe(const AbiDevice& device, const std::vector<ProbeKind>& kinds, const ProbeBody& body) {
  auto probe = claimed_probe(device, kinds);
  if (!probe.ok())
    return probe.status().code() == StatusCode::unsupported ? skipped(probe.status().message())
                                                             : failed("query_support", probe.status().message());
  CaseResult r = body(device, *probe);
  r.op = probe->op;
  return r;
}
}  // namespace

CaseSpec device_case(std::string suite, std::string name, DeviceBody body) {
  return {std::move(suite), std::move(name), "", [body = std::move(body)](const Target& t) { return on_device(t, body); }};
}

CaseSpec probe_case(std::string suite, std::string name, std::vector<ProbeKind> kinds, ProbeBody body) {
  return {std::move(suite), std::move(name), "", [kinds = std::move(kinds), body = std::move(body)](const Target& t) {
            return on_device(t, [&](const AbiDevice& d) { return with_probe(d, kinds, body); });
          }};
}

// ---- Completions ----

namespace {
// The live counters by id: the callback's user_data is an id, not a pointer, so that a completion
// arriving after its counter is gone (a plugin calling twice, late) is counted, not a crash.
struct CompletionRegistry {
  std::mutex mu;
  uint64_t next_id = 1;
  std::map<uint64_t, Completion*> live;
  std::atomic<int> late{0};
};
CompletionRegistry& completions() {
  static CompletionRegistry* registry = new CompletionRegistry();  // never destroyed: late calls may come at exit
  return *registry;
}
}  // namespace

Completion::Completion() {
  auto& r = completions();
  std::lock_guard<std::mutex> lock(r.mu);
  id_ = r.next_id++;
  r.live[id_] = this;
}

Completion::~Completion() {
  auto& r = completions();
  std::lock_guard<std::mutex> lock(r.mu);
  r.live.erase(id_);
}

void Completion::callback(void* id, sy_status status) {
  Status taken = take_status(status);
  auto& r = completions();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.live.find(reinterpret_cast<uintptr_t>(id));
  if (it == r.live.end()) {
    ++r.late;
    return;
  }
  it->second->record(std::move(taken));
}

int Completion::late_calls() { return completions().late.load(); }

void Completion::record(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (calls_.fetch_add(1) == 0) {
    first_ = std::move(status);
    first_at_ = std::chrono::steady_clock::now();
  }
  cv_.notify_all();
}

bool Completion::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return calls_.load() > 0; });
}

int Completion::settled_calls(std::chrono::milliseconds grace) {
  if (grace.count() > 0) std::this_thread::sleep_for(grace);
  return calls_.load();
}

Status Completion::first_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_;
}

std::chrono::steady_clock::time_point Completion::first_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_at_;
}

}  // namespace switchyard::conformance::abi
