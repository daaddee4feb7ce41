// The endless-loop test model, written with the ONNX protobuf classes.
#include "endless_loop_model.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <initializer_list>

namespace switchyard::test {

namespace {

void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, int elem,
               std::initializer_list<int64_t> dims) {
  auto* vi = list->Add();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::initializer_list<std::string> in,
                          std::initializer_list<std::string> out, const std::string& name) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

template <typename T>
void add_scalar(onnx::TensorProto* t, const std::string& name, int elem, T value) {
  t->set_name(name);
  t->set_data_type(elem);
  std::string raw(sizeof(T), '\0');
  std::memcpy(raw.data(), &value, sizeof(T));
  t->set_raw_data(raw);
}

// body(i, cond, y) -> (cond, y + 1[, y + 1 as a scan output]).
void build_body(onnx::GraphProto* body, bool with_scan) {
  body->set_name("endless_body");
  add_value(body->mutable_input(), "i", onnx::TensorProto::INT64, {});
  add_value(body->mutable_input(), "cond_in", onnx::TensorProto::BOOL, {});
  add_value(body->mutable_input(), "y", onnx::TensorProto::FLOAT, {1024});
  auto* one = add_node(body, "Constant", {}, {"one"}, "one");
  auto* value = one->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  add_scalar<float>(value->mutable_t(), "one", onnx::TensorProto::FLOAT, 1.0f);
  add_node(body, "Identity", {"cond_in"}, {"cond_out"}, "keep_going");
  add_node(body, "Add", {"y", "one"}, {"y_out"}, "increment");
  add_value(body->mutable_output(), "cond_out", onnx::TensorProto::BOOL, {});
  add_value(body->mutable_output(), "y_out", onnx::TensorProto::FLOAT, {1024});
  if (!with_scan) return;
  add_node(body, "Identity", {"y_out"}, {"scan"}, "emit");
  add_value(body->mutable_output(), "scan", onnx::TensorProto::FLOAT, {1024});
}

}  // namespace

std::string endless_loop_onnx(bool with_scan) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("switchyard_tests");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(16);
  auto* g = m.mutable_graph();
  g->set_name(with_scan ? "endless_loop_with_scan" : "endless_loop");
  add_value(g->mutable_input(), "x", onnx::TensorProto::FLOAT, {1024});
  add_scalar<int64_t>(g->add_initializer(), "M", onnx::TensorProto::INT64, int64_t{1000000000000});
  add_scalar<uint8_t>(g->add_initializer(), "cond", onnx::TensorProto::BOOL, uint8_t{1});
  auto* loop = with_scan ? add_node(g, "Loop", {"M", "cond", "x"}, {"y", "ys"}, "endless")
                         : add_node(g, "Loop", {"M", "cond", "x"}, {"y"}, "endless");
  auto* body = loop->add_attribute();
  body->set_name("body");
  body->set_type(onnx::AttributeProto::GRAPH);
  build_body(body->mutable_g(), with_scan);
  add_value(g->mutable_output(), "y", onnx::TensorProto::FLOAT, {1024});
  if (with_scan) {
    auto* ys = g->add_output();
    ys->set_name("ys");
    ys->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  return m.SerializeAsString();
}

}  // namespace switchyard::test
