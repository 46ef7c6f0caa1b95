#include "core/bf16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

namespace glyph {
namespace {

float from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }

TEST(Bf16, WidensExactly) {
  EXPECT_EQ(to_float(bf16{0x3f80}), 1.0f);
  EXPECT_EQ(to_float(bf16{0xc000}), -2.0f);
  EXPECT_EQ(to_float(bf16{0x0001}), from_bits(0x00010000));  // A float subnormal.
  EXPECT_TRUE(std::isinf(to_float(bf16{0x7f80})));
  EXPECT_TRUE(std::isnan(to_float(bf16{0x7fc0})));
}

TEST(Bf16, RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties go to the even mantissa (1.0).
  EXPECT_EQ(to_bf16(from_bits(0x3f808000)).bits, 0x3f80);
  // 1.0078125 + 2^-8 is halfway too; the even neighbour is above.
  EXPECT_EQ(to_bf16(from_bits(0x3f818000)).bits, 0x3f82);
  // Just above halfway rounds up, just below rounds down.
  EXPECT_EQ(to_bf16(from_bits(0x3f808001)).bits, 0x3f81);
  EXPECT_EQ(to_bf16(from_bits(0x3f807fff)).bits, 0x3f80);
  // The largest finite floats round to infinity.
  EXPECT_EQ(to_bf16(std::numeric_limits<float>::max()).bits, 0x7f80);
  EXPECT_EQ(to_bf16(-0.0f).bits, 0x8000);
}

TEST(Bf16, KeepsNan) {
  bf16 nan = to_bf16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(to_float(nan)));
  // A signalling NaN whose payload sits only in the low bits must not become infinity.
  bf16 low_payload = to_bf16(from_bits(0x7f800001));
  EXPECT_TRUE(std::isnan(to_float(low_payload)));
}

TEST(Bf16, RoundTripsEveryValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    bf16 value{static_cast<uint16_t>(bits)};
    float widened = to_float(value);
    if (std::isnan(widened)) continue;
    ASSERT_EQ(to_bf16(widened).bits, value.bits) << "bits " << bits;
  }
}

TEST(F16, WidensKnownValues) {
  EXPECT_EQ(to_float(f16{0x3c00}), 1.0f);
  EXPECT_EQ(to_float(f16{0xc000}), -2.0f);
  EXPECT_EQ(to_float(f16{0x7bff}), 65504.0f);
  EXPECT_EQ(to_float(f16{0x0001}), std::ldexp(1.0f, -24));  // Smallest subnormal.
  EXPECT_EQ(to_float(f16{0x03ff}), std::ldexp(1023.0f, -24));  // Largest subnormal.
  EXPECT_EQ(to_float(f16{0x0400}), std::ldexp(1.0f, -14));  // Smallest normal.
  EXPECT_EQ(to_float(f16{0x3555}), 0.333251953125f);
  EXPECT_TRUE(std::isinf(to_float(f16{0xfc00})));
  EXPECT_TRUE(std::isnan(to_float(f16{0x7e00})));
}

TEST(F16, RoundTripsEveryValue) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    f16 value{static_cast<uint16_t>(bits)};
    float widened = to_float(value);
    if (std::isnan(widened)) continue;
    ASSERT_EQ(to_f16(widened).bits, value.bits) << "bits " << bits;
  }
}

TEST(F16, RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1.0 and the next f16; ties go to even (1.0).
  EXPECT_EQ(to_f16(1.0f + std::ldexp(1.0f, -11)).bits, 0x3c00);
  EXPECT_EQ(to_f16(1.0f + 3 * std::ldexp(1.0f, -11)).bits, 0x3c02);
  EXPECT_EQ(to_f16(65520.0f).bits, 0x7c00);  // Halfway to 65536 rounds to infinity.
  EXPECT_EQ(to_f16(65519.0f).bits, 0x7bff);
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -25)).bits, 0x0000);  // Halfway to the smallest subnormal.
  EXPECT_EQ(to_f16(std::ldexp(3.0f, -25)).bits, 0x0002);
}

TEST(Bf16, ConvertsArrays) {
  const float values[] = {1.0f, -3.5f, 0.1f, 1e-30f};
  bf16 narrow[4];
  float wide[4];
  convert(values, narrow, 4);
  convert(narrow, wide, 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(narrow[i].bits, to_bf16(values[i]).bits);
    EXPECT_EQ(wide[i], to_float(narrow[i]));
  }
}

}  // namespace
}  // namespace glyph
