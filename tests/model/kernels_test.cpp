// Every SIMD kernel table against a double-precision reference, on sizes that exercise the
// register tiles' edges and the vector tails.
#include "backend/cpu/kernels.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace glyph::cpu {
namespace {

std::vector<SimdLevel> supported_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512,
                          SimdLevel::kAvx512Bf16}) {
    if (level <= best_simd_level()) levels.push_back(level);
  }
  return levels;
}

std::vector<float> random_values(size_t count, std::mt19937& generator) {
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return values;
}

class Kernels : public ::testing::TestWithParam<SimdLevel> {
 protected:
  const cpu::Kernels& kernels() const { return kernels_for(GetParam()); }
};

// Runs the linear kernel of kernels on W (F32 or BF16) and checks every output against a
// double-precision sum of the same products. The allowed error is the recursive summation
// bound k * 2^-24 * sum |x w|, doubled for the final horizontal reductions.
void check_linear(const cpu::Kernels& kernels, bool bf16_weights, int64_t rows, int64_t k,
                  int64_t n, std::mt19937& generator) {
  const int64_t x_stride = k + 3;  // Rows of x are not contiguous.
  const int64_t y_stride = n + 5;
  std::vector<float> x = random_values(static_cast<size_t>(rows * x_stride), generator);
  std::vector<float> w = random_values(static_cast<size_t>(n * k), generator);
  std::vector<float> bias = random_values(static_cast<size_t>(n), generator);
  std::vector<bf16> w_bf16(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w_bf16[i] = to_bf16(w[i]);
    if (bf16_weights) w[i] = to_float(w_bf16[i]);
  }
  std::vector<bf16> x_bf16(static_cast<size_t>(rows * k));
  const bool rounds_x = bf16_weights && kernels.linear_bf16_takes_bf16_x;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < k; ++i) {
      x_bf16[static_cast<size_t>(r * k + i)] = to_bf16(x[static_cast<size_t>(r * x_stride + i)]);
    }
  }

  std::vector<float> y(static_cast<size_t>(rows * y_stride), std::nanf(""));
  LinearArgs args;
  args.x = x.data();
  args.x_stride = x_stride;
  args.x_bf16 = rounds_x ? x_bf16.data() : nullptr;
  args.weight = bf16_weights ? static_cast<const void*>(w_bf16.data()) : w.data();
  args.bias = bias.data();
  args.y = y.data();
  args.y_stride = y_stride;
  args.rows = rows;
  args.k = k;
  auto kernel = bf16_weights ? kernels.linear_bf16 : kernels.linear_f32;
  // Two column ranges, split at a block boundary, as the linear op splits across threads.
  const int64_t split = std::min<int64_t>(n, kLinearColumnBlock);
  kernel(args, 0, split);
  kernel(args, split, n);

  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      double sum = bias[static_cast<size_t>(c)];
      double magnitude = std::abs(sum);
      for (int64_t i = 0; i < k; ++i) {
        const double xi = rounds_x ? to_float(x_bf16[static_cast<size_t>(r * k + i)])
                                   : x[static_cast<size_t>(r * x_stride + i)];
        const double product = xi * w[static_cast<size_t>(c * k + i)];
        sum += product;
        magnitude += std::abs(product);
      }
      const double bound = 2.0 * static_cast<double>(k + 1) * std::ldexp(1.0, -24) * magnitude;
      ASSERT_NEAR(y[static_cast<size_t>(r * y_stride + c)], sum, bound)
          << "rows " << rows << " k " << k << " n " << n << " at " << r << "," << c;
    }
  }
}

TEST_P(Kernels, LinearF32) {
  std::mt19937 generator(1);
  for (int64_t rows : {1, 2, 3, 4, 5, 9}) {
    for (int64_t k : {1, 7, 16, 31, 32, 33, 100, 257}) {
      for (int64_t n : {1, 3, 16, 17, 40}) check_linear(kernels(), false, rows, k, n, generator);
    }
  }
}

TEST_P(Kernels, LinearBf16) {
  std::mt19937 generator(2);
  for (int64_t rows : {1, 2, 3, 4, 5, 9}) {
    for (int64_t k : {1, 7, 16, 31, 32, 33, 100, 257}) {
      for (int64_t n : {1, 3, 16, 17, 40}) check_linear(kernels(), true, rows, k, n, generator);
    }
  }
}

TEST_P(Kernels, DotAndAxpy) {
  std::mt19937 generator(3);
  for (int64_t n : {1, 5, 8, 15, 16, 17, 31, 32, 33, 128, 130}) {
    std::vector<float> a = random_values(static_cast<size_t>(n), generator);
    std::vector<float> b = random_values(static_cast<size_t>(n), generator);
    std::vector<bf16> b_bf16(b.size());
    for (size_t i = 0; i < b.size(); ++i) b_bf16[i] = to_bf16(b[i]);

    double dot = 0.0;
    double dot_bf16 = 0.0;
    double magnitude = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
      dot += double{a[i]} * b[i];
      dot_bf16 += double{a[i]} * to_float(b_bf16[i]);
      magnitude += std::abs(double{a[i]} * b[i]) * 1.01;
    }
    const double bound = 2.0 * static_cast<double>(n) * std::ldexp(1.0, -24) * magnitude;
    EXPECT_NEAR(kernels().dot_f32(a.data(), b.data(), n), dot, bound) << "n " << n;
    EXPECT_NEAR(kernels().dot_bf16(a.data(), b_bf16.data(), n), dot_bf16, bound) << "n " << n;

    std::vector<float> y = a;
    std::vector<float> y_bf16 = a;
    kernels().axpy_f32(0.75f, b.data(), y.data(), n);
    kernels().axpy_bf16(-1.5f, b_bf16.data(), y_bf16.data(), n);
    for (size_t i = 0; i < a.size(); ++i) {
      // One fused or separate multiply-add: within one rounding of each term.
      EXPECT_NEAR(y[i], a[i] + 0.75 * b[i], 4 * FLT_EPSILON * (std::abs(a[i]) + std::abs(b[i])));
      EXPECT_NEAR(y_bf16[i], a[i] - 1.5 * to_float(b_bf16[i]),
                  4 * FLT_EPSILON * (std::abs(a[i]) + 1.5 * std::abs(b[i])));
    }
  }
}

TEST_P(Kernels, RoundToBf16MatchesScalar) {
  std::mt19937 generator(4);
  std::vector<float> values = random_values(1000, generator);
  const float specials[] = {0.0f, -0.0f, 1.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(), -1e-40f,
                            std::numeric_limits<float>::max(), 1.00390625f, 1.01171875f};
  values.insert(values.end(), std::begin(specials), std::end(specials));
  std::vector<bf16> rounded(values.size());
  kernels().round_to_bf16(values.data(), rounded.data(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      EXPECT_TRUE(std::isnan(to_float(rounded[i])));
    } else {
      EXPECT_EQ(rounded[i].bits, to_bf16(values[i]).bits) << "value " << values[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, Kernels, ::testing::ValuesIn(supported_levels()),
                         [](const ::testing::TestParamInfo<SimdLevel>& info) {
                           return std::string(simd_level_name(info.param));
                         });

TEST(KernelsFor, RejectsLevelAboveCpu) {
  if (best_simd_level() == SimdLevel::kAvx512Bf16) GTEST_SKIP() << "this CPU has every level";
  EXPECT_THROW(kernels_for(SimdLevel::kAvx512Bf16), Error);
}

}  // namespace
}  // namespace glyph::cpu
