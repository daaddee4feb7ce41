// Writes the bundled demo model (models/tiny_cnn.onnx) and the malformed-model fixtures
// (tests/fixtures/malformed/*.onnx). The outputs are committed; rerun this after changing
// it: build/bin/switchyard_make_fixtures <repo root>.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::printf("wrote %s (%zu bytes)\n", p.c_str(), bytes.size());
}

void add_input(onnx::GraphProto* g, const std::string& name, int elem, std::initializer_list<int64_t> dims) {
  auto* vi = g->add_input();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void add_output(onnx::GraphProto* g, const std::string& name, int elem) {
  auto* vi = g->add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(elem);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in,
                          std::initializer_list<std::string> out, const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? op + "_" + std::to_string(g->node_size()) : name);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

void add_ints(onnx::NodeProto* n, const std::string& name, std::initializer_list<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void add_float_init(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims, const std::function<float(int64_t)>& f) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::string raw(static_cast<size_t>(n) * 4, '\0');
  for (int64_t i = 0; i < n; ++i) {
    float v = f(i);
    std::memcpy(raw.data() + i * 4, &v, 4);
  }
  t->set_raw_data(raw);
}

onnx::ModelProto base_model(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("switchyard_make_fixtures");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  return m;
}

// A small image classifier: Conv-Relu-MaxPool-Conv-Relu-GlobalAveragePool-Flatten-Gemm-Softmax,
// with deterministic weights, input float32[1,3,32,32], output float32[1,10].
onnx::ModelProto tiny_cnn() {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  g->set_name("tiny_cnn");
  add_input(g, "image", onnx::TensorProto::FLOAT, {1, 3, 32, 32});
  auto wave = [](double scale, double phase) {
    return [=](int64_t i) { return static_cast<float>(scale * std::sin(0.37 * static_cast<double>(i) + phase)); };
  };
  add_float_init(g, "conv1.w", {8, 3, 3, 3}, wave(0.3, 0.1));
  add_float_init(g, "conv1.b", {8}, wave(0.05, 0.7));
  add_float_init(g, "conv2.w", {16, 8, 3, 3}, wave(0.15, 0.3));
  add_float_init(g, "conv2.b", {16}, wave(0.05, 1.1));
  add_float_init(g, "fc.w", {10, 16}, wave(0.4, 0.5));
  add_float_init(g, "fc.b", {10}, wave(0.1, 0.9));
  auto* c1 = add_node(g, "Conv", {"image", "conv1.w", "conv1.b"}, {"c1"}, "conv1");
  add_ints(c1, "pads", {1, 1, 1, 1});
  add_node(g, "Relu", {"c1"}, {"r1"}, "relu1");
  auto* p1 = add_node(g, "MaxPool", {"r1"}, {"p1"}, "pool1");
  add_ints(p1, "kernel_shape", {2, 2});
  add_ints(p1, "strides", {2, 2});
  auto* c2 = add_node(g, "Conv", {"p1", "conv2.w", "conv2.b"}, {"c2"}, "conv2");
  add_ints(c2, "pads", {1, 1, 1, 1});
  add_ints(c2, "strides", {2, 2});
  add_node(g, "Relu", {"c2"}, {"r2"}, "relu2");
  add_node(g, "GlobalAveragePool", {"r2"}, {"gap"}, "gap");
  add_node(g, "Flatten", {"gap"}, {"flat"}, "flatten");
  auto* fc = add_node(g, "Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc");
  auto* tb = fc->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  add_node(g, "Softmax", {"logits"}, {"probabilities"}, "softmax");
  add_output(g, "probabilities", onnx::TensorProto::FLOAT);
  return m;
}

// A valid two-node model the malformed fixtures start from.
onnx::ModelProto small_valid() {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  g->set_name("small");
  add_input(g, "x", onnx::TensorProto::FLOAT, {2, 3});
  add_float_init(g, "w", {2, 3}, [](int64_t i) { return static_cast<float>(i); });
  add_node(g, "Add", {"x", "w"}, {"s"}, "add");
  add_node(g, "Relu", {"s"}, {"y"}, "relu");
  add_output(g, "y", onnx::TensorProto::FLOAT);
  return m;
}

std::string bytes_of(const onnx::ModelProto& m) { return m.SerializeAsString(); }

// A model with its own functions: com.example::MySwish(x) = x * Sigmoid(x), and
// com.example::Leaky(x; slope) = LeakyRelu(x, alpha = slope) through an attribute reference.
onnx::ModelProto local_functions_model() {
  onnx::ModelProto m = base_model();
  auto* ex = m.add_opset_import();
  ex->set_domain("com.example");
  ex->set_version(1);
  auto* swish = m.add_functions();
  swish->set_name("MySwish");
  swish->set_domain("com.example");
  swish->add_input("X");
  swish->add_output("Y");
  auto* fo = swish->add_opset_import();
  fo->set_domain("");
  fo->set_version(17);
  auto* s1 = swish->add_node();
  s1->set_op_type("Sigmoid");
  s1->add_input("X");
  s1->add_output("S");
  auto* s2 = swish->add_node();
  s2->set_op_type("Mul");
  s2->add_input("X");
  s2->add_input("S");
  s2->add_output("Y");
  auto* leaky = m.add_functions();
  leaky->set_name("Leaky");
  leaky->set_domain("com.example");
  leaky->add_input("X");
  leaky->add_output("Y");
  leaky->add_attribute("slope");
  *leaky->add_opset_import() = *fo;
  auto* l1 = leaky->add_node();
  l1->set_op_type("LeakyRelu");
  l1->add_input("X");
  l1->add_output("Y");
  auto* ref = l1->add_attribute();
  ref->set_name("alpha");
  ref->set_type(onnx::AttributeProto::FLOAT);
  ref->set_ref_attr_name("slope");
  auto* g = m.mutable_graph();
  g->set_name("functions");
  add_input(g, "x", onnx::TensorProto::FLOAT, {2, 3});
  auto* n1 = add_node(g, "MySwish", {"x"}, {"h"}, "swish");
  n1->set_domain("com.example");
  auto* n2 = add_node(g, "Leaky", {"h"}, {"y"}, "leaky");
  n2->set_domain("com.example");
  auto* slope = n2->add_attribute();
  slope->set_name("slope");
  slope->set_type(onnx::AttributeProto::FLOAT);
  slope->set_f(0.25f);
  add_output(g, "y", onnx::TensorProto::FLOAT);
  return m;
}

// The small model with its weight moved to an external file.
std::string external_data_model(const std::string& location, const std::string& offset, const std::string& length) {
  auto m = small_valid();
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->clear_raw_data();
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = t->add_external_data();
  kv->set_key("location");
  kv->set_value(location);
  if (!offset.empty()) {
    kv = t->add_external_data();
    kv->set_key("offset");
    kv->set_value(offset);
  }
  if (!length.empty()) {
    kv = t->add_external_data();
    kv->set_key("length");
    kv->set_value(length);
  }
  return bytes_of(m);
}

// Fixtures 01-14: bytes, tensors, graph structure, operators, external data.
void write_malformed_data_and_structure(const fs::path& dir, const std::string& valid) {
  write(dir / "01_truncated.onnx", valid.substr(0, valid.size() / 2));
  write(dir / "02_not_protobuf.onnx", "this is not an ONNX model\n");
  write(dir / "03_empty.onnx", "");
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_initializer(0)->set_raw_data(std::string(20, '\0'));
    write(dir / "04_raw_data_size_mismatch.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    auto* t = m.mutable_graph()->mutable_initializer(0);
    t->clear_dims();
    t->add_dims(int64_t{1} << 40);
    t->add_dims(int64_t{1} << 40);
    t->clear_raw_data();
    write(dir / "05_dims_overflow.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_initializer(0)->set_dims(0, -2);
    write(dir / "06_negative_dim.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();  // add -> relu -> add: s depends on y which depends on s
    m.mutable_graph()->mutable_node(0)->set_input(0, "y");
    write(dir / "07_cycle.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_node(1)->set_input(0, "ghost");
    write(dir / "08_missing_producer.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_node(1)->set_op_type("FrobnicateTensor");
    write(dir / "09_unknown_operator.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_initializer(0)->set_data_type(99);
    write(dir / "10_unknown_element_type.onnx", bytes_of(m));
  }
  write(dir / "11_external_absolute_path.onnx", external_data_model("/etc/passwd", "", ""));
  write(dir / "12_external_dotdot.onnx", external_data_model("../fixtures/malformed/weights.bin", "", ""));
  write(dir / "13_external_missing_file.onnx", external_data_model("no_such_weights.bin", "", ""));
  write(dir / "14_external_out_of_range.onnx", external_data_model("weights.bin", "8", "24"));
}

// Fixtures 15-25: values, outputs, domains, attributes, opsets, sizes, run-time failures.
void write_malformed_values_and_attributes(const fs::path& dir) {
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_node(1)->set_output(0, "s");
    m.mutable_graph()->mutable_node(1)->set_input(0, "x");
    m.mutable_graph()->mutable_output(0)->set_name("s");
    write(dir / "15_value_produced_twice.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_output(0)->set_name("not_produced");
    write(dir / "16_output_not_produced.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.clear_graph();
    write(dir / "17_no_graph.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_node(1)->set_domain("com.example.private");
    write(dir / "18_domain_not_imported.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    auto* t = m.mutable_graph()->mutable_initializer(0);
    t->clear_raw_data();
    for (int i = 0; i < 5; ++i) t->add_float_data(1.0f);
    write(dir / "19_typed_data_count_mismatch.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    auto* a = m.mutable_graph()->mutable_node(1)->add_attribute();
    a->set_name("mystery");
    a->set_type(static_cast<onnx::AttributeProto::AttributeType>(77));
    write(dir / "20_unknown_attribute_type.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(1234);
    write(dir / "21_input_unknown_element_type.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    auto* n = m.mutable_graph()->mutable_node(1);
    for (int k = 0; k < 2; ++k) {
      auto* a = n->add_attribute();
      a->set_name("alpha");
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(0.5f);
    }
    write(dir / "22_duplicate_attribute.onnx", bytes_of(m));
  }
  {
    auto m = small_valid();
    m.clear_opset_import();
    write(dir / "23_no_opset_import.onnx", bytes_of(m));
  }
  {
    // A declared input so large that generating it would need terabytes.
    auto m = small_valid();
    auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->mutable_dim(0)->set_dim_value(int64_t{1} << 20);
    shape->mutable_dim(1)->set_dim_value(int64_t{1} << 20);
    write(dir / "24_huge_input_shape.onnx", bytes_of(m));
  }
  {
    // Well-formed, but Conv's kernel attribute has the wrong type: fails when the node runs.
    auto m = base_model();
    auto* g = m.mutable_graph();
    add_input(g, "x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
    add_float_init(g, "w", {1, 1, 2, 2}, [](int64_t) { return 1.0f; });
    auto* n = add_node(g, "Conv", {"x", "w"}, {"y"}, "conv_bad_attr");
    auto* a = n->add_attribute();
    a->set_name("strides");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s("two");
    add_output(g, "y", onnx::TensorProto::FLOAT);
    write(dir / "25_attribute_wrong_type.onnx", bytes_of(m));
  }
}

}  // namespace

int main(int argc, char** argv) {
  fs::path root = argc > 1 ? argv[1] : ".";
  fs::create_directories(root / "models");
  write(root / "models" / "tiny_cnn.onnx", bytes_of(tiny_cnn()));
  fs::create_directories(root / "tests" / "fixtures" / "functions");
  write(root / "tests" / "fixtures" / "functions" / "local_functions.onnx", bytes_of(local_functions_model()));

  fs::path dir = root / "tests" / "fixtures" / "malformed";
  fs::create_directories(dir);
  const std::string valid = bytes_of(small_valid());
  write(dir / "valid_small.onnx", valid);
  write(dir / "weights.bin", std::string(16, '\x01'));
  write_malformed_data_and_structure(dir, valid);
  write_malformed_values_and_attributes(dir);
  return 0;
}
