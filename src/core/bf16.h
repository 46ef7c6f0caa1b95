// 16-bit floating-point storage types and their conversions to and from float.
//
// bf16 is the upper half of an IEEE float (8-bit exponent, 7 stored mantissa bits); f16 is IEEE
// half precision (5-bit exponent, 10 mantissa bits). Both are storage only: arithmetic happens in
// float after conversion.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace glyph {

struct bf16 {
  uint16_t bits;
};

struct f16 {
  uint16_t bits;
};

static_assert(sizeof(bf16) == 2 && sizeof(f16) == 2);

// Exact: every bf16 value is a float.
inline float to_float(bf16 value) { return std::bit_cast<float>(uint32_t{value.bits} << 16); }

// Rounds to nearest, ties to even, as PyTorch's float-to-bfloat16 cast does. NaN stays NaN.
inline bf16 to_bf16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return bf16{static_cast<uint16_t>((bits >> 16) | 0x0040u)};  // Quiet NaN, sign kept.
  }
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return bf16{static_cast<uint16_t>((bits + rounding) >> 16)};
}

// Exact, including subnormals, infinities and NaN.
inline float to_float(f16 value) {
  uint32_t sign = uint32_t{value.bits & 0x8000u} << 16;
  uint32_t exponent = (value.bits >> 10) & 0x1fu;
  uint32_t mantissa = value.bits & 0x3ffu;
  if (exponent == 0x1f) {
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  }
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Rounds to nearest, ties to even; overflows to infinity. For writing test data.
f16 to_f16(float value);

void convert(const bf16* source, float* destination, size_t count);
void convert(const f16* source, float* destination, size_t count);
void convert(const float* source, bf16* destination, size_t count);

}  // namespace glyph
