#include "model/weight_init.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

namespace glyph::model {

namespace {

uint64_t split_mix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// One step of Marsaglia's xorshift32: fast, and good enough for random test weights.
uint32_t xorshift(uint32_t x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

// Fills out[begin, end) with uniform values in [-bound, bound). 16 independent xorshift32
// generators let the compiler vectorise the loop. Each value takes 23 random mantissa bits,
// and BF16 output truncates it.
template <typename T>
void fill_uniform_range(T* out, int64_t begin, int64_t end, float bound, uint64_t seed) {
  constexpr int kLanes = 16;
  uint32_t lanes[kLanes];
  uint64_t state = seed;
  for (uint32_t& lane : lanes) lane = static_cast<uint32_t>(split_mix(state)) | 1u;  // Nonzero.

  const float scale = 2.0f * bound;
  for (int64_t i = begin; i < end; i += kLanes) {
    // Separate loops over the lanes, each a plain elementwise operation, so that GCC turns
    // every one into a few vector instructions.
    uint32_t mantissas[kLanes];
    float values[kLanes];
    T results[kLanes];
    for (int lane = 0; lane < kLanes; ++lane) lanes[lane] = xorshift(lanes[lane]);
    for (int lane = 0; lane < kLanes; ++lane) mantissas[lane] = 0x3f800000u | (lanes[lane] >> 9);
    for (int lane = 0; lane < kLanes; ++lane) {
      values[lane] = (std::bit_cast<float>(mantissas[lane]) - 1.5f) * scale;
    }
    for (int lane = 0; lane < kLanes; ++lane) {
      if constexpr (std::is_same_v<T, float>) {
        results[lane] = values[lane];
      } else {
        results[lane] = bf16{static_cast<uint16_t>(std::bit_cast<uint32_t>(values[lane]) >> 16)};
      }
    }
    std::memcpy(out + i, results,
                sizeof(T) * static_cast<size_t>(std::min<int64_t>(kLanes, end - i)));
  }
}

// Returns the split_mix state that the given chunk of the fill for stream starts from.
uint64_t chunk_state(uint64_t stream, int64_t chunk) {
  return stream * 0xd1b54a32d192ed03ull + static_cast<uint64_t>(chunk);
}

}  // namespace

DType linear_dtype(ComputeType compute_type) {
  return compute_type == ComputeType::kF32 ? DType::kF32 : DType::kBF16;
}

void convert_range(const Tensor& source, int64_t source_offset, const Tensor& destination,
                   int64_t destination_offset, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    write_element(destination, destination_offset + i, read_element(source, source_offset + i));
  }
}

// Each chunk of kWeightChunk elements seeds its own generators, which makes the values
// independent of how chunks are spread over threads.
void fill_uniform(const Tensor& tensor, float bound, uint64_t stream, ThreadPool& pool) {
  const int64_t count = tensor.numel();
  const int64_t chunks = (count + kWeightChunk - 1) / kWeightChunk;
  pool.run(chunks, [&](int64_t chunk) {
    uint64_t state = chunk_state(stream, chunk);
    const uint64_t seed = split_mix(state);
    const int64_t begin = chunk * kWeightChunk;
    const int64_t end = std::min(count, begin + kWeightChunk);
    if (tensor.dtype == DType::kF32) {
      fill_uniform_range(static_cast<float*>(tensor.data), begin, end, bound, seed);
    } else {
      fill_uniform_range(static_cast<bf16*>(tensor.data), begin, end, bound, seed);
    }
  });
}

// Each chunk of kWeightChunk elements draws from its own split_mix sequence, which makes the
// values independent of how chunks are spread over threads.
void fill_uniform_split_mix(const Tensor& tensor, float bound, uint64_t stream, ThreadPool& pool) {
  const int64_t count = tensor.numel();
  const int64_t chunks = (count + kWeightChunk - 1) / kWeightChunk;
  pool.run(chunks, [&](int64_t chunk) {
    uint64_t state = chunk_state(stream, chunk);
    const int64_t begin = chunk * kWeightChunk;
    const int64_t end = std::min(count, begin + kWeightChunk);
    for (int64_t i = begin; i < end; ++i) {
      // The top 24 bits as a fraction in [0, 1).
      const float unit = static_cast<float>(split_mix(state) >> 40) * 0x1p-24f;
      write_element(tensor, i, (2.0f * unit - 1.0f) * bound);
    }
  });
}

void fill_constant(const Tensor& tensor, float value) {
  std::fill_n(tensor.as<float>(), tensor.numel(), value);
}

}  // namespace glyph::model
