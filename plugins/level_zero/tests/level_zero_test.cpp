// Level Zero plugin + NPU simulator tests, through the real Level Zero loader: discovery (with
// and without a driver), per-operator comparisons with the reference interpreter within the
// float16 tolerance rule, blob round trip, refused foreign/corrupt blobs, the memory limit.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "switchyard/runtime/partitioned_model.h"
#include "switchyard/hal/graph_view.h"
#include "switchyard/runtime/onnx_import.h"
#include "switchyard/hal/plugin_loader.h"
#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/tensor_io.h"
#include "switchyard/conformance/tolerance.h"

#include "../common/checksum.h"

namespace switchyard {
namespace {

// The tolerance rule for float16 results (docs/level-zero-npu.md, docs/conformance.md) lives in
// the conformance library: derive_tolerance(result type, compute type, K, term scale).
using conformance::derive_tolerance;
using conformance::Tolerance;
using conformance::unit_roundoff;

// ---------------------------------------------------------------------------------------------

std::string build_dir() { return SWITCHYARD_TEST_BUILD_DIR; }

DeviceRegistry& registry() {
  static DeviceRegistry* reg = [] {
    DiscoveryOptions o;
    o.extra_paths = {build_dir() + "/lib/switchyard/plugins"};
    o.use_environment = false;
    o.use_default_paths = false;
    return new DeviceRegistry(DeviceRegistry::discover(o));
  }();
  return *reg;
}

const Device* npu() {
  auto d = registry().find("level_zero:0");
  return d.ok() ? *d : nullptr;
}

// A small graph builder.
struct G {
  Graph g;
  int32_t value(const std::string& name, ElementType t, Shape s) {
    ValueType vt;
    vt.kind = ValueType::Kind::tensor;
    vt.tensor.elem = t;
    std::vector<Dim> dims;
    for (auto d : s) dims.push_back(Dim{d, ""});
    vt.tensor.shape = dims;
    return g.add_value(name, vt);
  }
  int32_t input(const std::string& n, ElementType t, Shape s) {
    int32_t v = value(n, t, s);
    g.inputs.push_back(v);
    return v;
  }
  int32_t constant(const std::string& n, Tensor t) {
    int32_t v = value(n, t.type(), t.shape());
    g.initializers[v] = t;
    return v;
  }
  Node& node(const std::string& op, std::vector<int32_t> in, std::vector<int32_t> out, int64_t opset = 13) {
    Node n;
    n.op_type = op;
    n.name = op;
    n.opset = opset;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    g.nodes.push_back(n);
    return g.nodes.back();
  }
  void output(int32_t v) { g.outputs.push_back(v); }
};

Attribute ints(const std::string& n, std::vector<int64_t> v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::ints;
  a.ints = std::move(v);
  return a;
}
Attribute integer(const std::string& n, int64_t v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::integer;
  a.i = v;
  return a;
}
Attribute floating(const std::string& n, float v) {
  Attribute a;
  a.name = n;
  a.type = Attribute::Type::floating;
  a.f = v;
  return a;
}

Tensor random(ElementType t, Shape s, double lo, double hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor x = Tensor::allocate(t, s);
  for (int64_t i = 0; i < x.numel(); ++i) {
    double v = dist(rng);
    if (t == ElementType::int8 || t == ElementType::uint8) v = std::round(v);
    reference::set_double(x, i, v);
  }
  return x;
}

struct RunResult {
  std::vector<Tensor> device, reference;
  std::vector<Tolerance> derived;  // per output, the float16 rule applied to this graph and input
};

RunResult run_both(G& b, const std::vector<Tensor>& inputs) {
  RunResult r;
  const Device* d = npu();
  GraphView view(b.g);
  auto sup = d->query_support(view);
  EXPECT_TRUE(sup.ok()) << sup.status().to_string();
  if (!sup.ok()) return r;
  for (const auto& s : *sup) EXPECT_TRUE(s.supported()) << s.message;
  auto exe = d->compile(view);
  EXPECT_TRUE(exe.ok()) << exe.status().to_string();
  if (!exe.ok()) return r;
  std::vector<DeviceTensor> dev_in;
  for (const auto& t : inputs) {
    auto u = upload(*d, t);
    EXPECT_TRUE(u.ok()) << u.status().to_string();
    if (!u.ok()) return r;
    dev_in.push_back(*u);
  }
  auto out = (*exe)->execute(dev_in);
  EXPECT_TRUE(out.ok()) << out.status().to_string();
  if (!out.ok()) return r;
  for (const auto& o : *out) r.device.push_back(*download(o));
  std::vector<Value> vin;
  for (const auto& t : inputs) vin.push_back(Value::of(t));
  auto ref = reference::Interpreter().run(b.g, vin);
  EXPECT_TRUE(ref.ok()) << ref.status().to_string();
  if (ref.ok())
    for (const auto& v : *ref) r.reference.push_back(v.tensor);
  auto tol = conformance::derive_case_tolerances(b.g, vin, ElementType::float16);
  EXPECT_TRUE(tol.ok()) << tol.status().to_string();
  if (tol.ok()) r.derived = *tol;
  return r;
}

// Compares within the derived tolerance; returns the worst |err| / allowed ratio.
void expect_close(const Tensor& dev, const Tensor& ref, Tolerance tol, const std::string& what) {
  ASSERT_EQ(dev.shape(), ref.shape()) << what;
  ASSERT_EQ(dev.type(), ref.type()) << what;
  double worst = 0;
  int64_t bad = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double a = reference::get_double(dev, i), b = reference::get_double(ref, i);
    const double allowed = tol.atol + tol.rtol * std::fabs(b);
    const double err = std::fabs(a - b);
    if (!(err <= allowed)) {
      if (bad++ < 3) ADD_FAILURE() << what << ": element " << i << " device " << a << " reference " << b << " allowed " << allowed;
    }
    worst = std::max(worst, allowed > 0 ? err / allowed : err);
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << ref.numel() << " elements outside atol=" << tol.atol << " rtol=" << tol.rtol;
  ::testing::Test::RecordProperty(what + "_worst_error_over_allowed", std::to_string(worst));
}

// Runs `b` on the NPU and the reference and compares every output within the float16 rule
// applied to this graph and input (derive_case_tolerances).
void expect_matches(G& b, const std::vector<Tensor>& inputs, const std::string& what) {
  RunResult r = run_both(b, inputs);
  ASSERT_EQ(r.device.size(), b.g.outputs.size()) << what;
  for (size_t i = 0; i < r.device.size(); ++i)
    expect_close(r.device[i], r.reference[i], r.derived.at(i), r.device.size() == 1 ? what : what + " output " + std::to_string(i));
}

#define NEED_NPU()                                                                                                      \
  if (!npu()) GTEST_SKIP() << "no level_zero:0 device (simulator not built?): "                                           \
                           << (registry().plugins().empty() ? "no plugin loaded" : registry().plugins()[0]->diagnostics())

constexpr ElementType F32 = ElementType::float32;

TEST(LevelZero, LoaderFindsTheSimulatorAsAnNpu) {
  NEED_NPU();
  const Device* d = npu();
  EXPECT_EQ(d->info().kind, DeviceKind::npu);
  EXPECT_EQ(d->info().name, "Switchyard NPU simulator");
  EXPECT_GT(d->info().peak_gflops_f16, 0);
  EXPECT_GT(d->info().active_power_watts, 0);
  // Float32 graphs are computed in float16 (sy_device_info.compute_element_type).
  EXPECT_EQ(d->info().compute_element_type, ElementType::float16);
  EXPECT_NE(d->plugin()->diagnostics().find("1 Level Zero driver(s), 1 device(s)"), std::string::npos) << d->plugin()->diagnostics();
}

// Runs only inside the fresh process started by WithoutADriverZeroDevicesAndTheReason:
// zeInit reads ZE_ENABLE_ALT_DRIVERS once per process.
TEST(LevelZeroFreshProcess, NoDriver) {
  const char* dir = std::getenv("SY_LZ_NODRIVER_DIR");
  if (!dir) GTEST_SKIP() << "started by LevelZero.WithoutADriverZeroDevicesAndTheReason in a fresh process";
  ASSERT_EQ(std::getenv("ZE_ENABLE_ALT_DRIVERS"), nullptr);
  DiscoveryOptions o;
  o.extra_paths = {dir};
  o.use_environment = false;
  o.use_default_paths = false;
  DeviceRegistry reg = DeviceRegistry::discover(o);
  ASSERT_EQ(reg.plugins().size(), 1u) << (reg.failures().empty() ? "" : reg.failures()[0].reason);
  EXPECT_TRUE(reg.devices().empty());
  const std::string diag = reg.plugins()[0]->diagnostics();
  EXPECT_NE(diag.find("no Level Zero driver: zeInit returned"), std::string::npos) << diag;
  EXPECT_NE(diag.find("ZE_ENABLE_ALT_DRIVERS is unset"), std::string::npos) << diag;
  std::printf("diagnostics: %s\n", diag.c_str());
}

TEST(LevelZero, WithoutADriverZeroDevicesAndTheReason) {
  // A manifest without alt_driver, and no ZE_ENABLE_ALT_DRIVERS, in a fresh process.
  const std::string dir = ::testing::TempDir() + "/lz_nodriver";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/level_zero.yaml") << "name: level_zero\nlibrary: " << build_dir()
                                          << "/lib/switchyard/plugins/libswitchyard_plugin_level_zero.so\nabi_version: \"2.0\"\n";
  fflush(nullptr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::unsetenv("ZE_ENABLE_ALT_DRIVERS");
    ::setenv("SY_LZ_NODRIVER_DIR", dir.c_str(), 1);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    execl(self.c_str(), self.c_str(), "--gtest_filter=LevelZeroFreshProcess.NoDriver", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the fresh-process check failed (its output is above)";
}

// --- per-operator comparisons ----------------------------------------------------------------

struct ConvCase {
  int64_t n, c, h, w, m, kh, kw, group, stride, pad, dil;
};

void conv_case(const ConvCase& k) {
  G b;
  const int64_t oh = (k.h + 2 * k.pad - k.dil * (k.kh - 1) - 1) / k.stride + 1, ow = (k.w + 2 * k.pad - k.dil * (k.kw - 1) - 1) / k.stride + 1;
  int32_t x = b.input("x", F32, {k.n, k.c, k.h, k.w});
  int32_t w = b.constant("w", random(F32, {k.m, k.c / k.group, k.kh, k.kw}, -0.5, 0.5, 2));
  int32_t bias = b.constant("b", random(F32, {k.m}, -0.5, 0.5, 3));
  int32_t y = b.value("y", F32, {k.n, k.m, oh, ow});
  Node& n = b.node("Conv", {x, w, bias}, {y});
  n.attributes = {integer("group", k.group), ints("strides", {k.stride, k.stride}), ints("pads", {k.pad, k.pad, k.pad, k.pad}),
                  ints("dilations", {k.dil, k.dil}), ints("kernel_shape", {k.kh, k.kw})};
  b.output(y);
  expect_matches(b, {random(F32, {k.n, k.c, k.h, k.w}, -1, 1, 1)}, "Conv");
}

TEST(LevelZero, Conv) {
  NEED_NPU();
  conv_case({1, 8, 9, 9, 20, 3, 3, 1, 1, 1, 1});
  conv_case({2, 3, 12, 10, 17, 5, 3, 1, 2, 2, 1});
  conv_case({1, 4, 9, 9, 4, 3, 3, 1, 1, 2, 2});  // dilated
}
TEST(LevelZero, ConvDepthwiseAndGrouped) {
  NEED_NPU();
  conv_case({1, 16, 10, 10, 16, 3, 3, 16, 1, 1, 1});  // depthwise
  conv_case({1, 16, 10, 10, 32, 3, 3, 4, 2, 1, 1});   // grouped, stride 2
}

TEST(LevelZero, MatMulAndGemm) {
  NEED_NPU();
  {
    G b;
    int32_t a = b.input("a", F32, {2, 5, 37}), c = b.input("b", F32, {2, 37, 6});
    int32_t y = b.value("y", F32, {2, 5, 6});
    b.node("MatMul", {a, c}, {y});
    b.output(y);
    expect_matches(b, {random(F32, {2, 5, 37}, -1, 1, 4), random(F32, {2, 37, 6}, -1, 1, 5)}, "MatMul");
  }
  {
    G b;
    int32_t a = b.input("a", F32, {3, 40});
    int32_t w = b.constant("w", random(F32, {7, 40}, -1, 1, 6)), c = b.constant("c", random(F32, {7}, -1, 1, 7));
    int32_t y = b.value("y", F32, {3, 7});
    Node& n = b.node("Gemm", {a, w, c}, {y});
    n.attributes = {integer("transB", 1), floating("alpha", 0.5f), floating("beta", 2.0f)};
    b.output(y);
    expect_matches(b, {random(F32, {3, 40}, -1, 1, 8)}, "Gemm");
  }
}

void unary(const std::string& op, std::vector<Attribute> attrs, double lo, double hi, int64_t opset = 13) {
  G b;
  int32_t x = b.input("x", F32, {2, 3, 17});
  int32_t y = b.value("y", F32, {2, 3, 17});
  b.node(op, {x}, {y}, opset).attributes = std::move(attrs);
  b.output(y);
  expect_matches(b, {random(F32, {2, 3, 17}, lo, hi, 9)}, op);
}

TEST(LevelZero, Elementwise) {
  NEED_NPU();
  unary("Relu", {}, -3, 3);
  unary("Sigmoid", {}, -6, 6);
  unary("HardSwish", {}, -5, 5, 14);
  unary("Clip", {floating("min", -0.5f), floating("max", 1.5f)}, -3, 3, 6);
  unary("Softmax", {integer("axis", -1)}, -4, 4);
  for (const char* op : {"Add", "Mul"}) {
    G b;
    int32_t x = b.input("x", F32, {2, 3, 4, 5});
    int32_t c = b.constant("c", random(F32, {3, 1, 5}, -2, 2, 10));
    int32_t y = b.value("y", F32, {2, 3, 4, 5});
    b.node(op, {x, c}, {y});
    b.output(y);
    expect_matches(b, {random(F32, {2, 3, 4, 5}, -2, 2, 11)}, op);
  }
  {  // Clip with min/max inputs (opset 13)
    G b;
    int32_t x = b.input("x", F32, {30});
    int32_t lo = b.constant("lo", Tensor::scalar<float>(F32, 0.f)), hi = b.constant("hi", Tensor::scalar<float>(F32, 6.f));
    int32_t y = b.value("y", F32, {30});
    b.node("Clip", {x, lo, hi}, {y});
    b.output(y);
    expect_matches(b, {random(F32, {30}, -8, 8, 12)}, "Clip13");
  }
}

TEST(LevelZero, Pooling) {
  NEED_NPU();
  {
    G b;
    int32_t x = b.input("x", F32, {1, 3, 11, 11});
    int32_t y = b.value("y", F32, {1, 3, 6, 6});
    b.node("MaxPool", {x}, {y}, 12).attributes = {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1,1, 1})};
    b.output(y);
    expect_matches(b, {random(F32, {1, 3, 11, 11}, -1, 1, 13)}, "MaxPool");
  }
  for (int cip = 0; cip < 2; ++cip) {
    G b;
    int32_t x = b.input("x", F32, {1, 2, 8, 8});
    int32_t y = b.value("y", F32, {1, 2, 8, 8});
    b.node("AveragePool", {x}, {y}, 11).attributes = {ints("kernel_shape", {3, 3}), ints("pads", {1, 1, 1, 1}),
                                                      integer("count_include_pad", cip)};
    b.output(y);
    expect_matches(b, {random(F32, {1, 2, 8, 8}, -1, 1, 14)}, "AveragePool");
  }
  {  // dilated AveragePool (opset 19)
    G b;
    int32_t x = b.input("x", F32, {1, 2, 6, 6});
    int32_t y = b.value("y", F32, {1, 2, 4, 4});
    b.node("AveragePool", {x}, {y}, 19).attributes = {ints("kernel_shape", {2, 2}), ints("dilations", {2, 2})};
    b.output(y);
    expect_matches(b, {random(F32, {1, 2, 6, 6}, -1, 1, 24)}, "AveragePool dilated");
  }
  {
    G b;
    int32_t x = b.input("x", F32, {2, 5, 7, 7});
    int32_t y = b.value("y", F32, {2, 5, 1, 1});
    b.node("GlobalAveragePool", {x}, {y});
    b.output(y);
    expect_matches(b, {random(F32, {2, 5, 7, 7}, -1, 1, 15)}, "GlobalAveragePool");
  }
}

TEST(LevelZero, LayoutOps) {
  NEED_NPU();
  G b;
  int32_t x = b.input("x", F32, {2, 3, 4}), z = b.input("z", F32, {2, 2, 4});
  int32_t cat = b.value("cat", F32, {2, 5, 4});
  b.node("Concat", {x, z}, {cat}).attributes = {integer("axis", 1)};
  int32_t tr = b.value("tr", F32, {4, 2, 5});
  b.node("Transpose", {cat}, {tr}).attributes = {ints("perm", {2, 0, 1})};
  int32_t shape = b.constant("shape", Tensor::from_vector<int64_t>(ElementType::int64, {2}, {8, 5}));
  int32_t y = b.value("y", F32, {8, 5});
  b.node("Reshape", {tr, shape}, {y});
  b.output(y);
  expect_matches(b, {random(F32, {2, 3, 4}, -1, 1, 16), random(F32, {2, 2, 4}, -1, 1, 17)}, "Concat+Transpose+Reshape");
}

TEST(LevelZero, QuantizedOps) {
  NEED_NPU();
  {
    G b;
    int32_t x = b.input("x", F32, {4, 10});
    int32_t s = b.constant("s", Tensor::scalar<float>(F32, 0.05f)), zp = b.constant("zp", Tensor::scalar<int8_t>(ElementType::int8, 3));
    int32_t q = b.value("q", ElementType::int8, {4, 10}), y = b.value("y", F32, {4, 10});
    b.node("QuantizeLinear", {x, s, zp}, {q});
    b.node("DequantizeLinear", {q, s, zp}, {y});
    b.output(q);
    b.output(y);
    auto r = run_both(b, {random(F32, {4, 10}, -5, 5, 18)});
    ASSERT_EQ(r.device.size(), 2u);
    expect_close(r.device[0], r.reference[0], r.derived.at(0), "QuantizeLinear");
    expect_close(r.device[1], r.reference[1], {0.05 + 1e-6, 2 * unit_roundoff(ElementType::float16)}, "DequantizeLinear (one step)");
  }
  {
    G b;
    const ElementType U8 = ElementType::uint8;
    int32_t x = b.input("x", U8, {1, 4, 6, 6});
    auto sc = [&](const char* n, float v) { return b.constant(n, Tensor::scalar<float>(F32, v)); };
    auto zp = [&](const char* n, uint8_t v) { return b.constant(n, Tensor::scalar<uint8_t>(U8, v)); };
    int32_t w = b.constant("w", random(U8, {5, 4, 3, 3}, 0, 255, 19));
    int32_t bias = b.constant("bias", Tensor::from_vector<int32_t>(ElementType::int32, {5}, {100, -200, 0, 50, 7}));
    int32_t y = b.value("y", U8, {1, 5, 6, 6});
    b.node("QLinearConv", {x, sc("xs", 0.02f), zp("xz", 128), w, sc("ws", 0.01f), zp("wz", 120), sc("ys", 0.1f), zp("yz", 100), bias}, {y}, 10)
        .attributes = {ints("pads", {1, 1, 1, 1}), ints("kernel_shape", {3, 3})};
    b.output(y);
    expect_matches(b, {random(U8, {1, 4, 6, 6}, 0, 255, 20)}, "QLinearConv");
  }
  {
    G b;
    const ElementType I8 = ElementType::int8;
    int32_t a = b.input("a", I8, {3, 20}), c = b.input("c", I8, {20, 4});
    auto sc = [&](const char* n, float v) { return b.constant(n, Tensor::scalar<float>(F32, v)); };
    auto zp = [&](const char* n, int8_t v) { return b.constant(n, Tensor::scalar<int8_t>(I8, v)); };
    int32_t y = b.value("y", I8, {3, 4});
    b.node("QLinearMatMul", {a, sc("as", 0.03f), zp("az", 1), c, sc("bs", 0.02f), zp("bz", -2), sc("ys", 0.2f), zp("yz", 5)}, {y}, 10);
    b.output(y);
    expect_matches(b, {random(I8, {3, 20}, -128, 127, 21), random(I8, {20, 4}, -128, 127, 22)}, "QLinearMatMul");
  }
}

// BatchNormalization (inference form) constants: scale, B, mean, var per channel.
std::vector<int32_t> bn_constants(G& b, int64_t c, double var_lo, double var_hi, uint32_t seed) {
  return {b.constant("bn_scale", random(F32, {c}, 0.5, 1.5, seed)), b.constant("bn_b", random(F32, {c}, -0.5, 0.5, seed + 1)),
          b.constant("bn_mean", random(F32, {c}, -0.5, 0.5, seed + 2)), b.constant("bn_var", random(F32, {c}, var_lo, var_hi, seed + 3))};
}

TEST(LevelZero, BatchNormalizationStandalone) {
  NEED_NPU();
  // A standalone BN (its input is a graph input): a per-channel scale and shift.
  G b;
  int32_t x = b.input("x", F32, {2, 6, 5, 4});
  auto k = bn_constants(b, 6, 0.25, 2, 40);
  int32_t y = b.value("y", F32, {2, 6, 5, 4});
  b.node("BatchNormalization", {x, k[0], k[1], k[2], k[3]}, {y}, 15).attributes = {floating("epsilon", 1e-3f)};
  b.output(y);
  expect_matches(b, {random(F32, {2, 6, 5, 4}, -2, 2, 41)}, "BatchNormalization");
}

TEST(LevelZero, BatchNormalizationFoldedIntoConv) {
  NEED_NPU();
  // Conv -> BN -> Relu. The conv's pre-BN output is about 1e5, beyond float16 (65504): only a
  // BN folded into the conv's weights and bias (w' = w * s, b' = b * s + t, s about 1e-3)
  // keeps the result finite, so this test fails if the fold does not happen.
  G b;
  int32_t x = b.input("x", F32, {1, 8, 6, 6});
  Tensor w = random(F32, {4, 8, 3, 3}, 1500, 2000, 42);
  int32_t wv = b.constant("w", w), bias = b.constant("b", random(F32, {4}, -100, 100, 43));
  int32_t c = b.value("c", F32, {1, 4, 6, 6});
  b.node("Conv", {x, wv, bias}, {c}).attributes = {ints("pads", {1, 1, 1, 1}), ints("kernel_shape", {3, 3})};
  auto k = bn_constants(b, 4, 0.5e6, 2e6, 44);
  int32_t bn = b.value("bn", F32, {1, 4, 6, 6});
  b.node("BatchNormalization", {c, k[0], k[1], k[2], k[3]}, {bn}, 15);
  int32_t y = b.value("y", F32, {1, 4, 6, 6});
  b.node("Relu", {bn}, {y});
  b.output(y);
  auto r = run_both(b, {random(F32, {1, 8, 6, 6}, 0.5, 1, 45)});
  ASSERT_EQ(r.device.size(), 1u);
  double max_ref = 0;
  for (int64_t i = 0; i < r.reference[0].numel(); ++i) max_ref = std::max(max_ref, std::fabs(reference::get_double(r.reference[0], i)));
  ASSERT_GT(max_ref, 10) << "the case must produce large values after BN";
  // The case rule treats Conv and BN as two float16 operations; folded, the NPU rounds once.
  expect_close(r.device[0], r.reference[0], r.derived.at(0), "Conv+BN folded");
}

TEST(LevelZero, BatchNormalizationAfterConvWithAnotherConsumer) {
  NEED_NPU();
  // The conv output is also a graph output: the BN cannot be folded and runs on its own.
  G b;
  int32_t x = b.input("x", F32, {1, 3, 7, 7});
  int32_t wv = b.constant("w", random(F32, {5, 3, 3, 3}, -0.5, 0.5, 46));
  int32_t c = b.value("c", F32, {1, 5, 5, 5});
  b.node("Conv", {x, wv}, {c}).attributes = {ints("kernel_shape", {3, 3})};
  auto k = bn_constants(b, 5, 0.5, 1.5, 47);
  int32_t bn = b.value("bn", F32, {1, 5, 5, 5});
  b.node("BatchNormalization", {c, k[0], k[1], k[2], k[3]}, {bn}, 9);
  b.output(c);
  b.output(bn);
  auto r = run_both(b, {random(F32, {1, 3, 7, 7}, -1, 1, 48)});
  ASSERT_EQ(r.device.size(), 2u);
  expect_close(r.device[0], r.reference[0], r.derived.at(0), "Conv");
  // Two chained operations: the BN carries the conv's error through its gain max|s| (the case
  // rule, docs/conformance.md).
  expect_close(r.device[1], r.reference[1], r.derived.at(1), "Conv then BN");
}

TEST(LevelZero, SumSubDiv) {
  NEED_NPU();
  {  // Sum, three inputs, broadcasting
    G b;
    int32_t x = b.input("x", F32, {2, 3, 4}), z = b.input("z", F32, {3, 1});
    int32_t c = b.constant("c", random(F32, {4}, -2, 2, 50));
    int32_t y = b.value("y", F32, {2, 3, 4});
    b.node("Sum", {x, z, c}, {y}, 13);
    b.output(y);
    expect_matches(b, {random(F32, {2, 3, 4}, -2, 2, 51), random(F32, {3, 1}, -2, 2, 52)}, "Sum");
  }
  {  // Sub, a constant first operand
    G b;
    int32_t c = b.constant("c", random(F32, {1, 5}, -3, 3, 53));
    int32_t x = b.input("x", F32, {4, 5});
    int32_t y = b.value("y", F32, {4, 5});
    b.node("Sub", {c, x}, {y});
    b.output(y);
    expect_matches(b, {random(F32, {4, 5}, -3, 3, 54)}, "Sub");
  }
  {  // Div by a constant and by a tensor (|divisor| >= 0.5, so |y| <= 4)
    G b;
    int32_t x = b.input("x", F32, {3, 7}), d = b.input("d", F32, {3, 7});
    int32_t six = b.constant("six", Tensor::scalar<float>(F32, 6.f));
    int32_t q = b.value("q", F32, {3, 7}), y = b.value("y", F32, {3, 7});
    b.node("Div", {x, six}, {q});
    b.node("Div", {x, d}, {y});
    b.output(q);
    b.output(y);
    auto r = run_both(b, {random(F32, {3, 7}, -2, 2, 55), random(F32, {3, 7}, 0.5, 2, 56)});
    ASSERT_EQ(r.device.size(), 2u);
    expect_close(r.device[0], r.reference[0], r.derived.at(0), "Div by constant");
    expect_close(r.device[1], r.reference[1], r.derived.at(1), "Div");
  }
}

TEST(LevelZero, HardSigmoidAndFlatten) {
  NEED_NPU();
  unary("HardSigmoid", {}, -5, 5, 6);
  unary("HardSigmoid", {floating("alpha", 1.f / 6), floating("beta", 0.5f)}, -5, 5, 6);
  G b;
  int32_t x = b.input("x", F32, {2, 3, 4, 5});
  int32_t y = b.value("y", F32, {6, 20});
  b.node("Flatten", {x}, {y}, 13).attributes = {integer("axis", 2)};
  b.output(y);
  expect_matches(b, {random(F32, {2, 3, 4, 5}, -1, 1, 57)}, "Flatten");
}

// --- NaN propagation -------------------------------------------------------------------------

// `random` with a NaN at each of `nan_at`: the positions land where std::max/std::min (which
// compare with `<`) would drop a NaN, first in a window and after larger values alike.
Tensor random_with_nans(Shape s, std::vector<int64_t> nan_at, uint32_t seed) {
  Tensor x = random(F32, std::move(s), -3, 3, seed);
  for (int64_t i : nan_at) reference::set_double(x, i, std::nan(""));
  return x;
}

// Runs `b` on the NPU and the reference: every NaN of the reference must be a NaN on the NPU,
// and the other elements agree within the float16 rule (expect_close fails on any NaN left).
void expect_nans_propagate(G& b, const Tensor& input, const std::string& what) {
  RunResult r = run_both(b, {input});
  ASSERT_EQ(r.device.size(), 1u) << what;
  ASSERT_EQ(r.reference.size(), 1u) << what;
  const Tensor& dev = r.device[0];
  Tensor ref = r.reference[0];
  ASSERT_EQ(dev.shape(), ref.shape()) << what;
  int64_t nans = 0;
  Tensor dev_masked = Tensor::allocate(dev.type(), dev.shape()), ref_masked = Tensor::allocate(ref.type(), ref.shape());
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double d = reference::get_double(dev, i), e = reference::get_double(ref, i);
    if (std::isnan(e)) {
      ++nans;
      EXPECT_TRUE(std::isnan(d)) << what << ": element " << i << " is " << d << " on the NPU, NaN in the reference";
    }
    // Compare the rest (checked above: a reference NaN becomes 0 on both sides).
    reference::set_double(dev_masked, i, std::isnan(e) ? 0 : d);
    reference::set_double(ref_masked, i, std::isnan(e) ? 0 : e);
  }
  EXPECT_GT(nans, 0) << what << ": the reference propagated no NaN, so this case checks nothing";
  expect_close(dev_masked, ref_masked, r.derived.at(0), what);
}

void unary_with_nans(const std::string& op, std::vector<Attribute> attrs, int64_t opset) {
  G b;
  int32_t x = b.input("x", F32, {2, 3, 17});
  int32_t y = b.value("y", F32, {2, 3, 17});
  b.node(op, {x}, {y}, opset).attributes = std::move(attrs);
  b.output(y);
  expect_nans_propagate(b, random_with_nans({2, 3, 17}, {0, 5, 40, 101}, 61), op + " with NaN inputs");
}

TEST(LevelZero, NanPropagatesThroughMaxMinAndClamp) {
  NEED_NPU();
  unary_with_nans("Relu", {}, 13);
  unary_with_nans("HardSigmoid", {}, 6);
  unary_with_nans("HardSigmoid", {floating("alpha", 1.f / 6), floating("beta", 0.5f)}, 6);
  unary_with_nans("Clip", {floating("min", -0.5f), floating("max", 1.5f)}, 6);
  unary_with_nans("HardSwish", {}, 14);
  unary_with_nans("Softmax", {integer("axis", -1)}, 13);
  G b;  // 3x3 windows, stride 2, padded: NaNs first in a window, last in one, and on a shared edge
  int32_t x = b.input("x", F32, {1, 2, 9, 9});
  int32_t y = b.value("y", F32, {1, 2, 5, 5});
  b.node("MaxPool", {x}, {y}, 12).attributes = {ints("kernel_shape", {3, 3}), ints("strides", {2, 2}), ints("pads", {1, 1, 1, 1})};
  b.output(y);
  expect_nans_propagate(b, random_with_nans({1, 2, 9, 9}, {0, 20, 44, 81 + 80}, 62), "MaxPool with NaN inputs");
}

// --- refusals, blobs, memory ----------------------------------------------------------------

G small_conv_graph() {
  G b;
  int32_t x = b.input("x", F32, {1, 4, 8, 8});
  int32_t w = b.constant("w", random(F32, {8, 4, 3, 3}, -1, 1, 30));
  int32_t y = b.value("y", F32, {1, 8, 8, 8});
  b.node("Conv", {x, w}, {y}).attributes = {ints("pads", {1, 1, 1, 1})};
  int32_t z = b.value("z", F32, {1, 8, 8, 8});
  b.node("Relu", {y}, {z});
  b.output(z);
  return b;
}

TEST(LevelZero, RefusalsCarryReasons) {
  NEED_NPU();
  G b;
  int32_t x = b.input("x", F32, {1, 3, 8, 8});
  // A dynamic dim.
  ValueType vt;
  vt.tensor.elem = F32;
  vt.tensor.shape = std::vector<Dim>{Dim{-1, "N"}, Dim{3, ""}, Dim{8, ""}, Dim{8, ""}};
  int32_t dyn = b.g.add_value("dyn", vt);
  b.g.inputs.push_back(dyn);
  int32_t y1 = b.value("y1", F32, {1, 3, 8, 8}), y2 = b.value("y2", F32, {-1, 3, 8, 8}), y3 = b.value("y3", F32, {1, 3, 8, 8});
  b.node("Relu", {dyn}, {y2});
  b.node("Tanh", {x}, {y1});
  int32_t xi = b.input("xi", ElementType::int32, {4});
  int32_t yi = b.value("yi", ElementType::int32, {4});
  b.node("Relu", {xi}, {yi});
  b.node("Sigmoid", {x}, {y3});
  b.output(y1), b.output(y2), b.output(yi), b.output(y3);
  GraphView view(b.g);
  auto sup = npu()->query_support(view);
  ASSERT_TRUE(sup.ok()) << sup.status().to_string();
  ASSERT_EQ(sup->size(), 4u);
  EXPECT_EQ((*sup)[0].reason, SupportReason::shape);
  EXPECT_NE((*sup)[0].message.find("static shapes only"), std::string::npos) << (*sup)[0].message;
  EXPECT_EQ((*sup)[1].reason, SupportReason::op);
  EXPECT_EQ((*sup)[2].reason, SupportReason::element_type);
  EXPECT_NE((*sup)[2].message.find("float16 and int8 only"), std::string::npos) << (*sup)[2].message;
  EXPECT_TRUE((*sup)[3].supported()) << (*sup)[3].message;
  auto exe = npu()->compile(view);
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().code(), StatusCode::unsupported) << exe.status().to_string();
}

TEST(LevelZero, BlobRoundTrip) {
  NEED_NPU();
  G b = small_conv_graph();
  GraphView view(b.g);
  auto exe = npu()->compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().to_string();
  auto bytes = (*exe)->serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.status().to_string();
  auto restored = npu()->restore(view, bytes->data(), bytes->size());
  ASSERT_TRUE(restored.ok()) << restored.status().to_string();
  Tensor x = random(F32, {1, 4, 8, 8}, -1, 1, 31);
  auto in = upload(*npu(), x);
  ASSERT_TRUE(in.ok());
  auto a = (*exe)->execute({*in});
  auto c = (*restored)->execute({*in});
  ASSERT_TRUE(a.ok() && c.ok());
  Tensor ta = *download((*a)[0]), tc = *download((*c)[0]);
  ASSERT_EQ(ta.byte_size(), tc.byte_size());
  EXPECT_EQ(std::memcmp(ta.raw(), tc.raw(), ta.byte_size()), 0) << "restored executable computes something else";
}

TEST(LevelZero, CorruptAndForeignBlobs) {
  NEED_NPU();
  G b = small_conv_graph();
  GraphView view(b.g);
  auto exe = npu()->compile(view);
  ASSERT_TRUE(exe.ok()) << exe.status().to_string();
  auto bytes = *(*exe)->serialize();
  // Corrupt: one flipped byte in the middle.
  auto bad = bytes;
  bad[bad.size() / 2] ^= 0x5a;
  auto r1 = npu()->restore(view, bad.data(), bad.size());
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::data_loss) << r1.status().to_string();
  // Truncated / garbage.
  auto r2 = npu()->restore(view, bytes.data(), 10);
  EXPECT_FALSE(r2.ok());
  std::vector<uint8_t> junk(300, 0xab);
  auto r3 = npu()->restore(view, junk.data(), junk.size());
  EXPECT_FALSE(r3.ok());
  // Foreign version: rewrite the native blob's version field (after the plugin header:
  // magic 8, version 4, identity str, blob size 8; the blob: magic 8, version 4) and fix the
  // plugin checksum, as another driver release would have written it.
  uint32_t idlen;
  std::memcpy(&idlen, bytes.data() + 12, 4);
  const size_t blob_at = 12 + 4 + idlen + 8;
  ASSERT_EQ(std::memcmp(bytes.data() + blob_at, "SYNPUBLB", 8), 0);
  auto foreign = bytes;
  uint32_t v = 999;
  std::memcpy(foreign.data() + blob_at + 8, &v, 4);
  const uint64_t h = zeseg::checksum64(foreign.data(), foreign.size() - 8);
  std::memcpy(foreign.data() + foreign.size() - 8, &h, 8);
  auto r4 = npu()->restore(view, foreign.data(), foreign.size());
  ASSERT_TRUE(r4.ok()) << "a blob of another version must be recompiled, got " << r4.status().to_string();
  Tensor x = random(F32, {1, 4, 8, 8}, -1, 1, 32);
  auto in = upload(*npu(), x);
  auto out = (*r4)->execute({*in});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
}

// A serialized executable opened for editing as a hand-made blob would be: where the simulator's
// native blob, its payload and each tensor record lie, and resealing both checksums after an edit
// (layout: plugins/level_zero/plugin.cpp executable_serialize, npusim/npu_graph.cpp to_blob).
struct CraftedBlob {
  std::vector<uint8_t> bytes;
  size_t blob_at = 0, payload = 0;
  std::vector<size_t> tensors;  // each record: dt, loc, layout, io_dt (u8), u32 rank, i64 dims, u64 offset, u64 bytes

  explicit CraftedBlob(std::vector<uint8_t> b) : bytes(std::move(b)) {
    const uint32_t idlen = get<uint32_t>(12);
    blob_at = 12 + 4 + idlen + 8;
    payload = blob_at + 60;
    size_t p = payload + 16;  // arena size, operation count
    const uint32_t n = get<uint32_t>(p);
    p += 4;
    for (uint32_t i = 0; i < n; ++i) {
      tensors.push_back(p);
      p += 4 + 4 + 8 * size_t{get<uint32_t>(p + 4)} + 16;
    }
  }
  template <class T>
  T get(size_t at) const {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    return v;
  }
  template <class T>
  void set(size_t at, T v) {
    std::memcpy(bytes.data() + at, &v, sizeof v);
  }
  uint8_t loc(size_t t) const { return bytes[tensors[t] + 1]; }
  uint8_t layout(size_t t) const { return bytes[tensors[t] + 2]; }
  uint32_t rank(size_t t) const { return get<uint32_t>(tensors[t] + 4); }
  size_t dim_at(size_t t, size_t d) const { return tensors[t] + 8 + 8 * d; }
  std::vector<uint8_t> sealed() {
    const size_t end = bytes.size() - 8;
    set<uint64_t>(blob_at + 52, zeseg::checksum64(bytes.data() + payload, end - payload));
    set<uint64_t>(end, zeseg::checksum64(bytes.data(), end));
    return bytes;
  }
};

// Restores `edit`ed bytes of small_conv_graph's executable: checksums match, so only the program's
// own consistency checks stand between the bytes and the executor.
Result<std::unique_ptr<Executable>> restore_crafted(const std::function<void(CraftedBlob&)>& edit) {
  G b = small_conv_graph();
  GraphView view(b.g);
  auto exe = npu()->compile(view);
  if (!exe.ok()) return exe.status();
  auto bytes = (*exe)->serialize();
  if (!bytes.ok()) return bytes.status();
  CraftedBlob blob(*bytes);
  edit(blob);
  const std::vector<uint8_t> crafted = blob.sealed();
  auto restored = npu()->restore(view, crafted.data(), crafted.size());
  if (restored.ok()) {  // what the executor would have done with it (found by fuzz_restore_level_zero)
    Tensor x = random(F32, {1, 4, 8, 8}, -1, 1, 33);
    auto in = upload(*npu(), x);
    if (in.ok()) (void)(*restored)->execute({*in});
  }
  return restored;
}

TEST(LevelZero, CraftedBlobUnchangedStillRestores) {
  NEED_NPU();
  auto r = restore_crafted([](CraftedBlob& b) { ASSERT_GE(b.tensors.size(), 3u); });
  EXPECT_TRUE(r.ok()) << r.status().to_string();
}

// A tensor whose dimensions multiply past 2^64 passed for an empty one (the count wrapped to 0).
TEST(LevelZero, RestoreRefusesATensorWhoseElementCountOverflows) {
  NEED_NPU();
  auto r = restore_crafted([](CraftedBlob& b) {
    for (size_t t = 0; t < b.tensors.size(); ++t)
      if (b.rank(t) >= 2) {
        b.set<int64_t>(b.dim_at(t, 0), int64_t{1} << 32);
        b.set<int64_t>(b.dim_at(t, 1), int64_t{1} << 32);
        return;
      }
    FAIL() << "no tensor of rank 2 or more";
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().to_string();
  EXPECT_NE(r.status().message().find("overflows"), std::string::npos) << r.status().to_string();
}

// Section numbers other than 0 (arena) and 1 (weights) made the executor index its weights at -1.
TEST(LevelZero, RestoreRefusesATensorInAnUnknownSection) {
  NEED_NPU();
  auto r = restore_crafted([](CraftedBlob& b) { b.bytes[b.tensors[0] + 1] = 2; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().to_string();
  EXPECT_NE(r.status().message().find("unknown section"), std::string::npos) << r.status().to_string();
}

// A convolution whose weight tensor is smaller than what its parameters make the executor read.
TEST(LevelZero, RestoreRefusesAnOperationThatReadsPastItsTensors) {
  NEED_NPU();
  auto r = restore_crafted([](CraftedBlob& b) {
    for (size_t t = 0; t < b.tensors.size(); ++t)
      if (b.loc(t) == 1 && b.layout(t) == 1) {  // the convolution's blocked weights
        for (size_t d = 0; d < b.rank(t); ++d) b.set<int64_t>(b.dim_at(t, d), 1);
        return;
      }
    FAIL() << "no blocked weight tensor";
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::data_loss) << r.status().to_string();
  EXPECT_NE(r.status().message().find("operation inconsistent"), std::string::npos) << r.status().to_string();
}

// An arena size near 2^64 wrapped the driver's memory check (arena + weights) to a small number.
TEST(LevelZero, RestoreRefusesAnArenaBeyondTheMemoryLimit) {
  NEED_NPU();
  auto r = restore_crafted([](CraftedBlob& b) { b.set<uint64_t>(b.payload, ~uint64_t{0} - 15); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("above the limit"), std::string::npos) << r.status().to_string();
}

TEST(LevelZero, MemoryLimitRefusal) {
  NEED_NPU();
  // A 16 MiB weight (float16 after conversion: 8 MiB) and 2048x2048 activations against a
  // 4 MiB limit, through a plugin instance configured with npu_memory_mb: 4.
  const std::string dir = ::testing::TempDir() + "/lz_small";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/level_zero.yaml") << "name: level_zero\nlibrary: " << build_dir()
                                          << "/lib/switchyard/plugins/libswitchyard_plugin_level_zero.so\nabi_version: \"2.0\"\n"
                                             "settings:\n  npu_memory_mb: \"4\"\n";
  DiscoveryOptions o;
  o.extra_paths = {dir};
  o.use_environment = false;
  o.use_default_paths = false;
  DeviceRegistry reg = DeviceRegistry::discover(o);
  auto d = reg.find("level_zero:0");
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  G b;
  int32_t a = b.input("a", F32, {64, 2048});
  int32_t w = b.constant("w", Tensor::allocate(F32, {2048, 2048}));
  int32_t y = b.value("y", F32, {64, 2048});
  b.node("MatMul", {a, w}, {y});
  b.output(y);
  GraphView view(b.g);
  auto exe = (*d)->compile(view);
  ASSERT_FALSE(exe.ok());
  EXPECT_EQ(exe.status().code(), StatusCode::out_of_memory) << exe.status().to_string();
  EXPECT_NE(exe.status().message().find("above the limit of 4194304 bytes"), std::string::npos) << exe.status().to_string();
  // The same graph fits the default (32 MiB) limit.
  auto ok = npu()->compile(view);
  EXPECT_TRUE(ok.ok()) << ok.status().to_string();
}

// --- the sample models (../shared/models; skipped when absent) -------------------------------

std::string model_path(const std::string& name) { return std::string(SWITCHYARD_SHARED_DIR) + "/models/" + name; }

TEST(LevelZeroModels, PpocrClassifierWholeOnTheNpuWithinOneSoftmaxTolerance) {
  NEED_NPU();
  const std::string path = model_path("ppocr_mobile_v2_cls.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found (../shared is not beside the checkout)";
  auto model = import_onnx_file(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  ASSERT_TRUE(specialize_inputs((*model)->graph, {{"x", {1, 3, 48, 192}}}).ok());
  // As the runtime prepares a model: static input dims, then folding and shape inference until
  // neither makes progress (the classifier's Reshape shape is computed from Shape nodes).
  ASSERT_TRUE(infer_shapes((*model)->graph).ok());
  for (int round = 0; round < 8; ++round) {
    auto folded = fold_constants((*model)->graph);
    ASSERT_TRUE(folded.ok()) << folded.status().to_string();
    if (*folded == 0) break;
    auto improved = infer_shapes((*model)->graph);
    ASSERT_TRUE(improved.ok()) << improved.status().to_string();
    if (*improved == 0) break;
  }
  Tensor x = random(F32, {1, 3, 48, 192}, -1, 1, 60);
  auto compiled = PartitionedModel::load_on_device(*model, *npu());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string();
  auto out = (*compiled)->predict({Value::of(x)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  auto ref = reference::Interpreter().run((*model)->graph, {Value::of(x)});
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  ASSERT_EQ(out->size(), 1u);
  for (int64_t i = 0; i < (*ref)[0].tensor.numel(); ++i)
    std::printf("ppocr: output %lld npu %.6f reference %.6f\n", static_cast<long long>(i), reference::get_double((*out)[0].tensor, i),
                reference::get_double((*ref)[0].tensor, i));
  // The rule summed along all 215 operations (derive_case_tolerances) is a first-order worst
  // case that grows geometrically with depth (atol ~1e62 here): it could never fail. The check
  // is the rule of the last operation alone (Softmax over 2 classes: K = 2, scale 1), far
  // tighter: every earlier float16 rounding must have washed out below it.
  expect_close((*out)[0].tensor, (*ref)[0].tensor, derive_tolerance(F32, ElementType::float16, 2, 1), "ppocr last operation alone");
}

// Why light_resnet50 gives NaN on the NPU (docs/level-zero-npu.md): the largest magnitude of every
// value the NPU holds when it runs with BN folded into the convs (a conv output read only by a BN
// does not exist on the NPU), computed by the reference in float32. Its constant 0.02 weights make
// activations grow past float16's 65504, so any float16 device overflows; this pins that finding.
TEST(LevelZeroModels, LightResnet50ExceedsTheFloat16Range) {
  const std::string path = model_path("light_resnet50.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  auto model = import_onnx_file(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const Graph& g = (*model)->graph;
  auto x = load_tensor_pb(model_path("light_resnet50_input_0.pb"));
  ASSERT_TRUE(x.ok()) << x.status().to_string();
  std::map<int32_t, int> uses;
  for (const auto& n : g.nodes)
    for (auto v : n.inputs) ++uses[v];
  auto mags = value_magnitudes(g, {Value::of(*x)});
  ASSERT_TRUE(mags.ok()) << mags.status().to_string();
  int beyond = 0;
  double worst = 0;
  for (const Node& n : g.nodes) {
    const double m = (*mags)[static_cast<size_t>(n.outputs[0])];
    bool folded_away = n.op_type == "Conv" && uses[n.outputs[0]] == 1;
    for (const auto& c : g.nodes)
      if (folded_away && !c.inputs.empty() && c.inputs[0] == n.outputs[0] && c.op_type != "BatchNormalization") folded_away = false;
    if (folded_away) continue;
    worst = std::max(worst, m);
    if (m > 65504) ++beyond;
  }
  std::printf("light_resnet50: %d NPU-held values beyond 65504; largest %.4g\n", beyond, worst);
  EXPECT_GT(beyond, 0) << "light_resnet50 now fits float16: run it on the NPU and compare with the reference instead";
}

// light_resnet50 under cpu-and-npu: the range check (calibrated on the model's own input) keeps
// the nodes whose values would overflow float16 on the CPU, so the NPU computes the rest and
// the model's result is finite. Every value the NPU hands to the CPU is checked against the
// reference within the deep-value rule (derive_deep_tolerance: 4u sqrt(depth) max|value|; the
// first-order sum along 30 operations exceeds the values themselves, so it cannot resolve them),
// the final softmax within the rule of that last operation alone, as for ppocr. The softmax is a
// weak check (constant weights make it uniform); the handed-over values are the strong one.
TEST(LevelZeroModels, LightResnet50UnderCpuAndNpuKeepsOverflowOffTheNpuAndMatches) {
  NEED_NPU();
  const std::string path = model_path("light_resnet50.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  auto model = import_onnx_file(path);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto x = load_tensor_pb(model_path("light_resnet50_input_0.pb"));
  ASSERT_TRUE(x.ok()) << x.status().to_string();
  const std::string in_name = (*model)->graph.value_name((*model)->graph.inputs[0]);
  PartitionOptions o;
  o.policy.units = ComputeUnits::cpu_and_npu;
  o.range_check.inputs[in_name] = *x;
  auto planned = PartitionedModel::plan_only(*model, registry(), o);
  ASSERT_TRUE(planned.ok()) << planned.status().to_string();
  const Plan& plan = (*planned)->plan();
  const Graph& pg = (*planned)->graph();
  int on_npu = 0, range_refused = 0;
  for (const auto& p : plan.placements) on_npu += p.device == "level_zero:0";
  for (const auto& a : (*planned)->support().at("level_zero:0")) range_refused += a.reason == SupportReason::range;
  std::printf("light_resnet50: %d nodes on level_zero:0, %d kept off by the range check (%s)\n", on_npu, range_refused,
              (*planned)->range_check_note().c_str());
  EXPECT_GT(on_npu, 0);
  EXPECT_GT(range_refused, 0) << "light_resnet50 now fits float16: this test no longer exercises the range check";
  // The values NPU segments hand to the CPU become extra graph outputs.
  std::vector<std::string> handed;
  for (const auto& t : plan.transfers)
    if (t.from_device == "level_zero:0") handed.push_back(pg.value_name(t.value));
  ASSERT_FALSE(handed.empty());
  auto widened = std::make_shared<Model>(**model);
  for (const auto& name : handed) {
    const int32_t v = widened->graph.find_value(name);
    ASSERT_GE(v, 0) << name;
    if (std::find(widened->graph.outputs.begin(), widened->graph.outputs.end(), v) == widened->graph.outputs.end()) widened->graph.outputs.push_back(v);
  }
  auto pm = PartitionedModel::load(widened, registry(), o);
  ASSERT_TRUE(pm.ok()) << pm.status().to_string();
  auto out = (*pm)->predict({Value::of(*x)});
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const std::vector<int64_t> depth = conformance::graph_depth(widened->graph);
  auto ref = reference::Interpreter().run(widened->graph, {Value::of(*x)});
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  ASSERT_EQ(out->size(), ref->size());
  for (size_t i = 1; i < out->size(); ++i) {
    const std::string name = widened->graph.value_name(widened->graph.outputs[i]);
    double err = 0, big = 0;
    for (int64_t k = 0; k < (*ref)[i].tensor.numel(); ++k) {
      const double r = reference::get_double((*ref)[i].tensor, k);
      err = std::max(err, std::fabs(reference::get_double((*out)[i].tensor, k) - r));
      big = std::max(big, std::fabs(r));
    }
    const int64_t n = depth[static_cast<size_t>(widened->graph.outputs[i])];
    const Tolerance t = conformance::derive_deep_tolerance(ElementType::float16, n, big);
    std::printf("  handed to the CPU: %s, %lld operations deep: max|ref| %.4g max|err| %.3g (%.2g relative); allowed %.3g\n", name.c_str(),
                static_cast<long long>(n), big, err, err / big, t.atol);
    expect_close((*out)[i].tensor, (*ref)[i].tensor, t, "light_resnet50 value '" + name + "' from the NPU");
  }
  const Tensor& y = (*out)[0].tensor;
  for (int64_t i = 0; i < y.numel(); ++i) ASSERT_TRUE(std::isfinite(reference::get_double(y, i))) << "output " << i;
  expect_close(y, (*ref)[0].tensor, derive_tolerance(F32, ElementType::float16, 1000, 1), "light_resnet50 softmax");
}


// ---------------------------------------------------------------------------------------------
// The ABI contract (plugin_abi.h): R2 on host-allocated structs, and cancellation.

// A chain of `length` MatMuls by an n x n identity: long work whose exact result is its input.
G identity_chain(int64_t n, int length) {
  G b;
  int32_t x = b.input("x", F32, {n, n});
  Tensor eye = Tensor::allocate(F32, {n, n});
  for (int64_t i = 0; i < n; ++i) reference::set_double(eye, i * n + i, 1);
  const int32_t w = b.constant("eye", eye);
  for (int k = 0; k < length; ++k) {
    const int32_t y = b.value("y" + std::to_string(k), F32, {n, n});
    b.node("MatMul", {x, w}, {y});
    x = y;
  }
  b.output(x);
  return b;
}

// Small integers: exact in float16, so an identity chain returns them unchanged.
Tensor small_integers(Shape s, uint32_t seed) {
  Tensor x = random(F32, std::move(s), -8, 8, seed);
  for (int64_t i = 0; i < x.numel(); ++i) reference::set_double(x, i, std::round(reference::get_double(x, i)));
  return x;
}

// Runs `exe` once on `input`; "" when the one output equals `input`, else what went wrong.
std::string run_identity(const Executable& exe, const Tensor& input, const ExecuteControl& control) {
  auto in = upload(exe.device(), input);
  if (!in.ok()) return in.status().to_string();
  auto out = exe.execute(std::vector<DeviceTensor>{*in}, control);
  if (!out.ok()) return out.status().to_string();
  auto y = download(out->at(0));
  if (!y.ok()) return y.status().to_string();
  for (int64_t i = 0; i < input.numel(); ++i)
    if (reference::get_double(*y, i) != reference::get_double(input, i))
      return "element " + std::to_string(i) + " is " + std::to_string(reference::get_double(*y, i)) + ", not " +
             std::to_string(reference::get_double(input, i));
  return "";
}

std::unique_ptr<Executable> compile_on_npu(const G& b) {
  GraphView view(b.g);
  auto exe = npu()->compile(view);
  EXPECT_TRUE(exe.ok()) << exe.status().to_string();
  return exe.ok() ? std::move(*exe) : nullptr;
}

TEST(LevelZeroCancel, AFlagRaisedBeforeTheWorkCancelsIt) {
  NEED_NPU();
  auto exe = compile_on_npu(identity_chain(16, 2));
  ASSERT_TRUE(exe);
  volatile int32_t flag = 1;
  ExecuteControl control;
  control.cancel_flag = &flag;
  auto in = upload(*npu(), small_integers({16, 16}, 1));
  ASSERT_TRUE(in.ok());
  auto out = exe->execute(std::vector<DeviceTensor>{*in}, control);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::cancelled) << out.status().to_string();
  EXPECT_NE(out.status().message().find("before the work started"), std::string::npos) << out.status().to_string();
}

// The flag raised a quarter into an 8-MatMul chain ends it with SY_ERROR_CANCELLED well before
// a whole run would end (the device stops between operations; a few tries, for a loaded
// machine); the same flag lowered again runs the chain whole, so the abort event the stopped run
// signaled was reset before it was lent again.
TEST(LevelZeroCancel, AFlagRaisedDuringTheWorkStopsItAndTheNextRunIsWhole) {
  NEED_NPU();
  using Clock = std::chrono::steady_clock;
  auto exe = compile_on_npu(identity_chain(256, 8));
  ASSERT_TRUE(exe);
  const Tensor input = small_integers({256, 256}, 2);
  volatile int32_t flag = 0;
  ExecuteControl control;
  control.cancel_flag = &flag;
  auto whole = Clock::duration::max();  // the faster of two whole runs (the first one also warms up)
  for (int run = 0; run < 2; ++run) {
    const auto start = Clock::now();
    ASSERT_EQ(run_identity(*exe, input, control), "");
    whole = std::min(whole, Clock::now() - start);
  }
  bool stopped_early = false;
  for (int attempt = 0; attempt < 3 && !stopped_early; ++attempt) {
    flag = 0;
    const auto begin = Clock::now();
    std::thread raiser([&] {
      std::this_thread::sleep_for(whole / 4);
      flag = 1;
    });
    const std::string stopped = run_identity(*exe, input, control);
    const auto took = Clock::now() - begin;
    raiser.join();
    EXPECT_NE(stopped.find("cancelled"), std::string::npos) << stopped;
    stopped_early = took < whole * 3 / 4;
  }
  EXPECT_TRUE(stopped_early) << "each cancelled run took as long as a whole one ("
                             << std::chrono::duration<double, std::milli>(whole).count() << " ms)";
  flag = 0;
  EXPECT_EQ(run_identity(*exe, input, control), "");
}

// More executions with a flag at once than one pool of abort events holds (16): each gets its
// own event, and none is stopped by another's.
TEST(LevelZeroCancel, ManyExecutionsWithAFlagAtOnce) {
  NEED_NPU();
  auto exe = compile_on_npu(identity_chain(64, 4));
  ASSERT_TRUE(exe);
  volatile int32_t flag = 0;
  ExecuteControl control;
  control.cancel_flag = &flag;
  std::vector<std::string> problems(40);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < problems.size(); ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 4 && problems[t].empty(); ++round)
        problems[t] = run_identity(*exe, small_integers({64, 64}, static_cast<uint32_t>(10 + t)), control);
    });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < problems.size(); ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
}

// The level_zero plugin's function table and its first device, called directly.
struct RawNpu {
  const sy_plugin_api* api = nullptr;
  sy_device device = nullptr;
};
RawNpu raw_npu() {
  RawNpu raw;
  const LoadedPlugin& plugin = *npu()->plugin();
  raw.api = &plugin.api();
  EXPECT_TRUE(take_status(raw.api->device_get(plugin.handle(), 0, &raw.device)).ok());
  return raw;
}

G relu_graph() {
  G b;
  const int32_t x = b.input("x", F32, {4});
  const int32_t y = b.value("y", F32, {4});
  b.node("Relu", {x}, {y});
  b.output(y);
  return b;
}

void count_answer(void* context, size_t, sy_support_reason, const char*, const char*) { ++*static_cast<int*>(context); }

// R2: a report whose struct_size ends before `node` holds no node to call: refused, never called.
TEST(LevelZeroAbi, AReportTooShortForNodeIsRefused) {
  NEED_NPU();
  const RawNpu npu_table = raw_npu();
  G b = relu_graph();
  GraphView view(b.g);
  int answers = 0;
  sy_support_report report{sizeof(sy_support_report), &answers, count_answer};
  report.struct_size = offsetof(sy_support_report, node);
  Status refused = take_status(npu_table.api->query_support(npu_table.device, view.get(), &report));
  EXPECT_EQ(refused.code(), StatusCode::invalid_argument) << refused.to_string();
  EXPECT_NE(refused.message().find("too short to hold node"), std::string::npos) << refused.to_string();
  EXPECT_EQ(answers, 0);
  report.struct_size = sizeof report;
  EXPECT_TRUE(take_status(npu_table.api->query_support(npu_table.device, view.get(), &report)).ok());
  EXPECT_EQ(answers, 1);
}

struct Completion {
  int calls = 0;
  Status status;
};
void on_complete(void* user_data, sy_status status) {
  auto* c = static_cast<Completion*>(user_data);
  ++c->calls;
  c->status = take_status(status);
}

// R2: sy_execute_args whose struct_size ends before cancel_flag has no flag, even when the
// bytes past it hold a raised one: the execution runs whole.
TEST(LevelZeroAbi, ExecuteArgsShorterThanTheCancelFlagHaveNone) {
  NEED_NPU();
  const RawNpu t = raw_npu();
  G b = relu_graph();
  GraphView view(b.g);
  sy_executable exe = nullptr;
  ASSERT_TRUE(take_status(t.api->compile(t.device, view.get(), nullptr, 0, &exe)).ok());
  const float x[4] = {-1, 2, -3, 4};
  sy_buffer in = nullptr;
  ASSERT_TRUE(take_status(t.api->buffer_alloc(t.device, sizeof x, &in)).ok());
  ASSERT_TRUE(take_status(t.api->buffer_write(in, 0, x, sizeof x)).ok());
  const int64_t dims[1] = {4};
  sy_tensor_arg arg{sizeof(sy_tensor_arg), in, 1, 1, dims};
  int64_t out_dims[1] = {0};
  sy_tensor_out out{sizeof(sy_tensor_out), nullptr, 0, 0, out_dims, 1};
  const sy_tensor_arg* inputs[1] = {&arg};
  sy_tensor_out* outputs[1] = {&out};
  Completion done;
  volatile int32_t raised = 1;
  sy_execute_args args{};
  args.num_inputs = 1, args.inputs = inputs, args.num_outputs = 1, args.outputs = outputs;
  args.on_complete = on_complete, args.user_data = &done, args.cancel_flag = &raised;
  args.struct_size = offsetof(sy_execute_args, cancel_flag);
  ASSERT_TRUE(take_status(t.api->execute(exe, &args)).ok());
  EXPECT_EQ(done.calls, 1);
  EXPECT_TRUE(done.status.ok()) << done.status.to_string();
  float y[4] = {};
  if (out.buffer) {
    EXPECT_TRUE(take_status(t.api->buffer_read(out.buffer, 0, y, sizeof y)).ok());
    t.api->buffer_release(out.buffer);
  }
  EXPECT_EQ(y[1], 2);
  EXPECT_EQ(y[0], 0);
  t.api->buffer_release(in);
  t.api->executable_release(exe);
}

}  // namespace
}  // namespace switchyard
