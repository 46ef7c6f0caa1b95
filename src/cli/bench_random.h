// The random streams of SGLang's bench_serving, reproduced bit for bit.
//
// bench_serving seeds both numpy (np.random.seed) and Python's `random` with
// --seed, then draws request lengths and random-ids offsets with
// np.random.randint, Poisson gaps with np.random.exponential and the ShareGPT
// order with random.shuffle. Both libraries run MT19937; numpy's legacy
// RandomState seeds it with init_genrand, Python with init_by_array. With the
// same seed these classes return the same numbers as numpy 2.x and CPython
// 3.11, so `glyph bench` sends the same request lengths as SGLang.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace glyph::cli {

// MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura (1998).
class Mt19937 {
 public:
  // init_genrand: what std::mt19937(seed) and numpy's RandomState(seed) do.
  void seed(uint32_t seed);
  // init_by_array: what CPython's random.seed(int) does with the integer's
  // 32-bit words, least significant first.
  void seed_by_array(std::span<const uint32_t> key);

  uint32_t next_uint32();

 private:
  void twist();

  static constexpr size_t kStateSize = 624;
  std::array<uint32_t, kStateSize> state_{};
  size_t index_ = kStateSize;
};

// numpy.random.RandomState, the legacy generator behind np.random.seed().
class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed);

  // np.random.randint(low, high): uniform over [low, high), by masked
  // rejection sampling. A range of one value consumes no draw.
  int64_t randint(int64_t low, int64_t high);
  std::vector<int64_t> randint(int64_t low, int64_t high, size_t count);

  // np.random.random_sample(): 53 random bits from two 32-bit draws, in [0, 1).
  double random_sample();

  // np.random.exponential(scale): scale * -log(1 - random_sample()).
  double exponential(double scale);

 private:
  Mt19937 generator_;
};

// Python's random.Random, for the parts bench_serving uses.
class PythonRandom {
 public:
  // random.seed(seed) for a non-negative integer.
  explicit PythonRandom(uint64_t seed);

  // random.getrandbits(bits) for 0 <= bits <= 32.
  uint32_t getrandbits(int bits);

  // random._randbelow(n): uniform over [0, n) for n >= 1, by rejection on
  // getrandbits(n.bit_length()).
  uint32_t randbelow(uint32_t n);

  // random.shuffle(items): Fisher-Yates from the last element down.
  template <typename T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i-- > 1;) {
      const size_t j = randbelow(static_cast<uint32_t>(i + 1));
      std::swap(items[i], items[j]);
    }
  }

 private:
  Mt19937 generator_;
};

}  // namespace glyph::cli
