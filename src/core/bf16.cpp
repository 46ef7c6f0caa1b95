#include "core/bf16.h"

#include <cmath>

namespace glyph {

f16 to_f16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  float magnitude = std::fabs(value);
  if (std::isnan(value)) return f16{static_cast<uint16_t>(sign | 0x7e00u)};
  if (magnitude >= 65520.0f) return f16{static_cast<uint16_t>(sign | 0x7c00u)};  // Rounds to inf.
  if (magnitude < 0x1p-14f) {
    // Subnormal range: a multiple of 2^-24; nearbyint rounds ties to even.
    auto units = static_cast<uint16_t>(std::nearbyint(magnitude * 0x1p24f));
    return f16{static_cast<uint16_t>(sign | units)};
  }
  uint32_t magnitude_bits = std::bit_cast<uint32_t>(magnitude);
  uint32_t rounding = 0xfffu + ((magnitude_bits >> 13) & 1u);
  magnitude_bits += rounding;
  uint32_t exponent = (magnitude_bits >> 23) - 112;
  uint32_t mantissa = (magnitude_bits >> 13) & 0x3ffu;
  return f16{static_cast<uint16_t>(sign | (exponent << 10) | mantissa)};
}

void convert(const bf16* source, float* destination, size_t count) {
  for (size_t i = 0; i < count; ++i) destination[i] = to_float(source[i]);
}

void convert(const f16* source, float* destination, size_t count) {
  for (size_t i = 0; i < count; ++i) destination[i] = to_float(source[i]);
}

void convert(const float* source, bf16* destination, size_t count) {
  for (size_t i = 0; i < count; ++i) destination[i] = to_bf16(source[i]);
}

}  // namespace glyph
