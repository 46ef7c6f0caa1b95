#include "cli/bench_random.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace glyph::cli {

namespace {

constexpr uint32_t kUpperMask = 0x80000000u;
constexpr uint32_t kLowerMask = 0x7fffffffu;
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr size_t kShift = 397;

// Smallest 2^k - 1 that is >= value: the mask numpy's bounded draws use.
uint64_t covering_mask(uint64_t value) {
  uint64_t mask = value;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  return mask;
}

}  // namespace

void Mt19937::seed(uint32_t seed) {
  state_[0] = seed;
  for (size_t i = 1; i < kStateSize; ++i) {
    const uint32_t previous = state_[i - 1];
    state_[i] = 1812433253u * (previous ^ (previous >> 30)) + static_cast<uint32_t>(i);
  }
  index_ = kStateSize;
}

void Mt19937::seed_by_array(std::span<const uint32_t> key) {
  seed(19650218u);
  size_t i = 1;
  size_t j = 0;

  for (size_t k = std::max(kStateSize, key.size()); k > 0; --k) {
    const uint32_t previous = state_[i - 1];
    state_[i] = (state_[i] ^ ((previous ^ (previous >> 30)) * 1664525u)) + key[j] +
                static_cast<uint32_t>(j);
    ++i;
    ++j;
    if (i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }

  for (size_t k = kStateSize - 1; k > 0; --k) {
    const uint32_t previous = state_[i - 1];
    state_[i] =
        (state_[i] ^ ((previous ^ (previous >> 30)) * 1566083941u)) - static_cast<uint32_t>(i);
    ++i;
    if (i >= kStateSize) {
      state_[0] = state_[kStateSize - 1];
      i = 1;
    }
  }

  state_[0] = 0x80000000u;  // Makes the state non-zero whatever the key.
  index_ = kStateSize;
}

void Mt19937::twist() {
  for (size_t i = 0; i < kStateSize; ++i) {
    const uint32_t bits = (state_[i] & kUpperMask) | (state_[(i + 1) % kStateSize] & kLowerMask);
    uint32_t next = state_[(i + kShift) % kStateSize] ^ (bits >> 1);
    if (bits & 1u) next ^= kMatrixA;
    state_[i] = next;
  }
  index_ = 0;
}

uint32_t Mt19937::next_uint32() {
  if (index_ >= kStateSize) twist();
  uint32_t y = state_[index_++];

  // Tempering.
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

NumpyRandomState::NumpyRandomState(uint32_t seed) { generator_.seed(seed); }

int64_t NumpyRandomState::randint(int64_t low, int64_t high) {
  if (low >= high) {
    throw std::invalid_argument(
        fmt::format("randint: low ({}) must be below high ({})", low, high));
  }
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) - 1;
  if (range == 0) return low;

  const uint64_t mask = covering_mask(range);
  uint64_t value = 0;
  if (range <= 0xffffffffu) {
    do {
      value = generator_.next_uint32() & mask;
    } while (value > range);
  } else {
    do {
      const uint64_t high_word = generator_.next_uint32();
      value = ((high_word << 32) | generator_.next_uint32()) & mask;
    } while (value > range);
  }
  return static_cast<int64_t>(static_cast<uint64_t>(low) + value);
}

std::vector<int64_t> NumpyRandomState::randint(int64_t low, int64_t high, size_t count) {
  std::vector<int64_t> values;
  values.reserve(count);
  for (size_t i = 0; i < count; ++i) values.push_back(randint(low, high));
  return values;
}

double NumpyRandomState::random_sample() {
  const uint32_t high_bits = generator_.next_uint32() >> 5;  // 27 bits
  const uint32_t low_bits = generator_.next_uint32() >> 6;   // 26 bits
  return (high_bits * 67108864.0 + low_bits) / 9007199254740992.0;
}

double NumpyRandomState::exponential(double scale) {
  return scale * -std::log(1.0 - random_sample());
}

PythonRandom::PythonRandom(uint64_t seed) {
  std::vector<uint32_t> key;
  do {
    key.push_back(static_cast<uint32_t>(seed & 0xffffffffu));
    seed >>= 32;
  } while (seed != 0);
  generator_.seed_by_array(key);
}

uint32_t PythonRandom::getrandbits(int bits) {
  if (bits < 0 || bits > 32) {
    throw std::invalid_argument(fmt::format("getrandbits: {} bits is outside [0, 32]", bits));
  }
  if (bits == 0) return 0;
  return generator_.next_uint32() >> (32 - bits);
}

uint32_t PythonRandom::randbelow(uint32_t n) {
  if (n == 0) throw std::invalid_argument("randbelow: n must be at least 1");
  const int bits = std::bit_width(n);
  uint32_t value = getrandbits(bits);
  while (value >= n) value = getrandbits(bits);
  return value;
}

}  // namespace glyph::cli
