// Tensor file tests: .npy and .pb round trips, and malformed files.
#include <gtest/gtest.h>

#include <fstream>

#include "switchyard/runtime/tensor_io.h"

namespace switchyard {
namespace {

std::filesystem::path tmp(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("sy_io_" + std::to_string(::getpid()) + "_" + name);
}

TEST(TensorIo, NpyRoundTrip) {
  Tensor t = Tensor::from_vector<float>(ElementType::float32, {2, 3}, {1, 2, 3, 4, 5, -6.5f});
  auto p = tmp("a.npy");
  ASSERT_TRUE(save_npy(p, t).ok());
  auto back = load_npy(p);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->shape(), (Shape{2, 3}));
  EXPECT_EQ(back->data<float>()[5], -6.5f);
  std::filesystem::remove(p);
}

TEST(TensorIo, NpyScalarAndInt64) {
  Tensor t = Tensor::from_vector<int64_t>(ElementType::int64, {}, {42});
  auto p = tmp("s.npy");
  ASSERT_TRUE(save_npy(p, t).ok());
  auto back = load_npy(p);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->rank(), 0);
  EXPECT_EQ(back->data<int64_t>()[0], 42);
  std::filesystem::remove(p);
}

TEST(TensorIo, PbRoundTrip) {
  Tensor t = Tensor::from_vector<int32_t>(ElementType::int32, {3}, {7, -8, 9});
  auto p = tmp("a.pb");
  ASSERT_TRUE(save_tensor_pb(p, t, "x").ok());
  auto back = load_tensor_pb(p);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->data<int32_t>()[1], -8);
  std::filesystem::remove(p);
}

TEST(TensorIo, MalformedNpyIsRejected) {
  auto p = tmp("bad.npy");
  {
    std::ofstream out(p, std::ios::binary);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }\n";
    out << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(header.size()) << '\0' << header << "tooshort";
  }
  auto r = load_npy(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs 4000"), std::string::npos) << r.status().message();
  std::filesystem::remove(p);
  auto missing = load_npy(tmp("missing.npy"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
}

}  // namespace
}  // namespace switchyard
