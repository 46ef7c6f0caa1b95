// Every SIMD kernel table against a double-precision reference, on sizes that exercise the
// register tiles' edges and the vector tails.
#include "backend/cpu/kernels.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace glyph::cpu {
namespace {

// Every table this CPU can run, the AMX one included.
std::vector<const cpu::Kernels*> supported_tables() {
  std::vector<const cpu::Kernels*> tables;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512,
                          SimdLevel::kAvx512Bf16}) {
    if (level > best_simd_level()) continue;
    switch (level) {
      case SimdLevel::kScalar: tables.push_back(&scalar_kernels()); break;
      case SimdLevel::kAvx2: tables.push_back(&avx2_kernels()); break;
      case SimdLevel::kAvx512: tables.push_back(&avx512_kernels()); break;
      case SimdLevel::kAvx512Bf16: tables.push_back(&avx512_bf16_kernels()); break;
    }
  }
  if (amx_usable()) tables.push_back(&amx_bf16_kernels());
  return tables;
}

std::vector<float> random_values(size_t count, std::mt19937& generator) {
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return values;
}

class Kernels : public ::testing::TestWithParam<const cpu::Kernels*> {
 protected:
  const cpu::Kernels& kernels() const { return *GetParam(); }
};

// x rounded to BF16 in the layout kernels.linear_bf16 reads, or empty when it reads FP32.
std::vector<bf16> bf16_activations(const cpu::Kernels& kernels, const std::vector<float>& x,
                                   int64_t rows, int64_t x_stride, int64_t k) {
  std::vector<bf16> result;
  switch (kernels.linear_bf16_input) {
    case Bf16Activations::kFloat:
      break;
    case Bf16Activations::kRows:
      result.resize(static_cast<size_t>(rows * k));
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t i = 0; i < k; ++i) {
          result[static_cast<size_t>(r * k + i)] = to_bf16(x[static_cast<size_t>(r * x_stride + i)]);
        }
      }
      break;
    case Bf16Activations::kTokenTiles:
      result.resize(static_cast<size_t>(token_tiles_size(rows, k)));
      kernels.pack_token_tiles(x.data(), x_stride, rows, k, 0, (rows + kTileTokens - 1) / kTileTokens,
                               result.data());
      break;
  }
  return result;
}

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
  const bool rounds_x = bf16_weights && kernels.linear_bf16_input != Bf16Activations::kFloat;
  const std::vector<bf16> x_bf16 =
      rounds_x ? bf16_activations(kernels, x, rows, x_stride, k) : std::vector<bf16>();

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
        const float xi_float = x[static_cast<size_t>(r * x_stride + i)];
        const double xi = rounds_x ? to_float(to_bf16(xi_float)) : xi_float;
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
  for (int64_t rows : {1, 2, 3, 4, 5, 9, 17, 33}) {
    for (int64_t k : {1, 7, 16, 31, 32, 33, 100, 257}) {
      for (int64_t n : {1, 3, 16, 17, 40}) check_linear(kernels(), false, rows, k, n, generator);
    }
  }
}

TEST_P(Kernels, LinearBf16) {
  std::mt19937 generator(2);
  for (int64_t rows : {1, 2, 3, 4, 5, 9, 17, 33}) {
    for (int64_t k : {1, 7, 16, 31, 32, 33, 100, 257}) {
      for (int64_t n : {1, 3, 16, 17, 40}) check_linear(kernels(), true, rows, k, n, generator);
    }
  }
}

// y for rows [first, first + count) of x, computed by one call per column range in splits.
std::vector<float> linear_rows(const cpu::Kernels& kernels, bool bf16_weights,
                               const std::vector<float>& x, int64_t x_stride, int64_t first,
                               int64_t count, int64_t k, const void* weight,
                               const std::vector<float>& bias, int64_t n,
                               const std::vector<int64_t>& splits) {
  const std::vector<float> rows(x.begin() + first * x_stride, x.begin() + (first + count) * x_stride);
  const std::vector<bf16> x_bf16 = bf16_weights ? bf16_activations(kernels, rows, count, x_stride, k)
                                                : std::vector<bf16>();
  std::vector<float> y(static_cast<size_t>(count * n));
  LinearArgs args;
  args.x = rows.data();
  args.x_stride = x_stride;
  args.x_bf16 = x_bf16.empty() ? nullptr : x_bf16.data();
  args.weight = weight;
  args.bias = bias.data();
  args.y = y.data();
  args.y_stride = n;
  args.rows = count;
  args.k = k;
  auto kernel = bf16_weights ? kernels.linear_bf16 : kernels.linear_f32;
  int64_t begin = 0;
  for (int64_t end : splits) {
    kernel(args, begin, end);
    begin = end;
  }
  return y;
}

// Batch invariance of the linear kernels: a row's outputs are bit-identical whether it is
// computed alone, with 36 others, at any place among them, or with the columns split
// differently across calls (as across threads).
TEST_P(Kernels, LinearRowsIndependentOfBatch) {
  std::mt19937 generator(5);
  const int64_t rows = 37, k = 300, n = 70, x_stride = k + 1;
  const std::vector<float> x = random_values(static_cast<size_t>(rows * x_stride), generator);
  const std::vector<float> w = random_values(static_cast<size_t>(n * k), generator);
  const std::vector<float> bias = random_values(static_cast<size_t>(n), generator);
  std::vector<bf16> w_bf16(w.size());
  for (size_t i = 0; i < w.size(); ++i) w_bf16[i] = to_bf16(w[i]);

  for (bool bf16_weights : {false, true}) {
    const void* weight = bf16_weights ? static_cast<const void*>(w_bf16.data()) : w.data();
    const std::vector<float> together =
        linear_rows(kernels(), bf16_weights, x, x_stride, 0, rows, k, weight, bias, n, {n});
    const std::vector<float> middle =
        linear_rows(kernels(), bf16_weights, x, x_stride, 5, 20, k, weight, bias, n, {16, 48, n});
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<float> alone =
          linear_rows(kernels(), bf16_weights, x, x_stride, r, 1, k, weight, bias, n, {32, n});
      ASSERT_EQ(std::memcmp(alone.data(), together.data() + r * n, static_cast<size_t>(n) * 4), 0)
          << (bf16_weights ? "BF16" : "F32") << " weights, row " << r << " alone";
      if (r >= 5 && r < 25) {
        ASSERT_EQ(std::memcmp(middle.data() + (r - 5) * n, together.data() + r * n,
                              static_cast<size_t>(n) * 4),
                  0)
            << (bf16_weights ? "BF16" : "F32") << " weights, row " << r << " of rows 5..24";
      }
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

INSTANTIATE_TEST_SUITE_P(Tables, Kernels, ::testing::ValuesIn(supported_tables()),
                         [](const ::testing::TestParamInfo<const cpu::Kernels*>& info) {
                           return std::string(info.param->name);
                         });

TEST(KernelsFor, RejectsLevelAboveCpu) {
  if (best_simd_level() == SimdLevel::kAvx512Bf16) GTEST_SKIP() << "this CPU has every level";
  EXPECT_THROW(kernels_for(SimdLevel::kAvx512Bf16), Error);
}

TEST(KernelsFor, PicksAmxWhereUsable) {
  if (best_simd_level() < SimdLevel::kAvx512Bf16) GTEST_SKIP() << "this CPU lacks avx512_bf16";
  EXPECT_STREQ(kernels_for(SimdLevel::kAvx512Bf16).name, amx_usable() ? "amx_bf16" : "avx512_bf16");
}

}  // namespace
}  // namespace glyph::cpu
