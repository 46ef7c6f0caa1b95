#include "core/tensor.h"

#include <gtest/gtest.h>

#include "core/cpu_features.h"
#include "core/host_buffer.h"

namespace glyph {
namespace {

TEST(Tensor, DescribesShape) {
  float values[24] = {};
  Tensor tensor(values, DType::kF32, {2, 3, 4});
  EXPECT_EQ(tensor.rank, 3);
  EXPECT_EQ(tensor.numel(), 24);
  EXPECT_EQ(tensor.bytes(), 96u);
  EXPECT_EQ(tensor.shape_string(), "[2, 3, 4]");
  EXPECT_TRUE(tensor.same_shape({2, 3, 4}));
  EXPECT_FALSE(tensor.same_shape({6, 4}));
  EXPECT_FALSE(tensor.same_shape({2, 3, 5}));
}

TEST(Tensor, TypedAccessChecksDtype) {
  bf16 values[4] = {};
  Tensor tensor(values, DType::kBF16, {4});
  EXPECT_EQ(tensor.as<bf16>(), values);
  EXPECT_THROW(tensor.as<float>(), Error);
  EXPECT_EQ(dtype_name(DType::kBF16), "BF16");
  EXPECT_EQ(dtype_size(DType::kF16), 2u);
}

TEST(HostBuffer, IsZeroedAndAligned) {
  for (size_t bytes : {size_t{100}, size_t{3} << 20}) {
    HostBuffer buffer(bytes);
    ASSERT_EQ(buffer.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % 64, 0u);
    auto values = buffer.as<uint8_t>();
    EXPECT_EQ(values.front(), 0);
    EXPECT_EQ(values.back(), 0);
    values.back() = 7;
    HostBuffer moved = std::move(buffer);
    EXPECT_EQ(moved.as<uint8_t>().back(), 7);
    EXPECT_EQ(buffer.data(), nullptr);
  }
}

TEST(CpuFeatures, LevelMatchesFeatures) {
  const CpuFeatures& cpu = cpu_features();
  SimdLevel level = best_simd_level();
  if (level >= SimdLevel::kAvx2) {
    EXPECT_TRUE(cpu.avx2);
    EXPECT_TRUE(cpu.fma);
    EXPECT_TRUE(cpu.f16c);
  }
  if (level >= SimdLevel::kAvx512) {
    EXPECT_TRUE(cpu.avx512f);
    EXPECT_TRUE(cpu.avx512bw);
    EXPECT_TRUE(cpu.avx512vl);
    EXPECT_TRUE(cpu.avx512dq);
  }
  if (level == SimdLevel::kAvx512Bf16) {
    EXPECT_TRUE(cpu.avx512_bf16);
  }
  if (cpu.avx512_bf16 && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq) {
    EXPECT_EQ(level, SimdLevel::kAvx512Bf16);
  }
}

TEST(CpuFeatures, LevelNamesRoundTrip) {
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512,
                          SimdLevel::kAvx512Bf16}) {
    EXPECT_EQ(parse_simd_level(simd_level_name(level)), level);
  }
  EXPECT_FALSE(parse_simd_level("sse2").has_value());
}

}  // namespace
}  // namespace glyph
