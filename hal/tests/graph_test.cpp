// Graph IR tests: topological order, cycles, missing producers, the C view round trip.
#include <gtest/gtest.h>

#include "switchyard/hal/graph.h"
#include "switchyard/hal/graph_view.h"

namespace switchyard {
namespace {

Graph chain() {
  Graph g;
  int32_t x = g.add_value("x"), a = g.add_value("a"), b = g.add_value("b");
  g.inputs = {x};
  g.outputs = {b};
  Node n2{"second", "", "Relu", 17, {a}, {b}, {}};
  Node n1{"first", "", "Neg", 17, {x}, {a}, {}};
  g.nodes = {n2, n1};  // out of order on purpose
  return g;
}

TEST(Graph, TopologicalSortOrdersProducersFirst) {
  Graph g = chain();
  ASSERT_TRUE(g.topological_sort().ok());
  EXPECT_EQ(g.nodes[0].name, "first");
  EXPECT_EQ(g.nodes[1].name, "second");
}

TEST(Graph, CycleIsNamed) {
  Graph g = chain();
  g.nodes[1].inputs = {g.find_value("b")};  // first reads second's output
  Status st = g.topological_sort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
}

TEST(Graph, MissingProducerIsNamed) {
  Graph g = chain();
  g.nodes[0].inputs = {g.add_value("ghost")};
  Status st = g.topological_sort();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Relu 'second' reads value 'ghost'"), std::string::npos) << st.message();
}

TEST(GraphView, RoundTripKeepsEverything) {
  Graph g = chain();
  g.opsets = {{"", 17}};
  int32_t w = g.add_value("w");
  g.initializers[w] = Tensor::from_vector<float>(ElementType::float32, {2}, {1.5f, -2.0f});
  Attribute a;
  a.name = "perm";
  a.type = Attribute::Type::ints;
  a.ints = {1, 0};
  g.nodes[0].attributes.push_back(a);
  Attribute s;
  s.name = "mode";
  s.type = Attribute::Type::string;
  s.s = std::string("with\0zero", 9);
  g.nodes[1].attributes.push_back(s);
  g.values[0].type.tensor.elem = ElementType::float16;
  g.values[0].type.tensor.shape = std::vector<Dim>{{-1, "N"}, {3, ""}};

  GraphView view(g);
  auto back = graph_from_view(view.get());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->nodes.size(), 2u);
  EXPECT_EQ(back->nodes[0].attr_ints("perm"), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(back->nodes[1].attr_string("mode", ""), std::string("with\0zero", 9));
  EXPECT_EQ(back->values[0].type.tensor.to_string(), "float16[N,3]");
  ASSERT_EQ(back->initializers.count(w), 1u);
  EXPECT_EQ(back->initializers.at(w).data<float>()[1], -2.0f);
  // Weights are shared, not copied.
  EXPECT_EQ(back->initializers.at(w).raw(), g.initializers.at(w).raw());
  EXPECT_EQ(back->opset_version(""), 17);
}

TEST(GraphView, StringTensorsUseTheLengthPrefixedEncoding) {
  std::vector<std::string> s = {"a", "", "long string"};
  std::string enc = encode_strings(s);
  auto dec = decode_strings(enc.data(), enc.size(), 3);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, s);
  EXPECT_FALSE(decode_strings(enc.data(), enc.size() - 1, 3).ok());
  EXPECT_FALSE(decode_strings(enc.data(), enc.size(), 1000000).ok());
}

TEST(Tensor, RefusesAbsurdAllocations) {
  EXPECT_THROW(Tensor::allocate(ElementType::float32, {int64_t{1} << 40, int64_t{1} << 20}), Error);
  EXPECT_THROW(Tensor::allocate(ElementType::float32, {-1}), Error);
  EXPECT_THROW(Tensor::allocate(ElementType::float32, {int64_t{1} << 62, 8}), Error);
}

}  // namespace
}  // namespace switchyard
