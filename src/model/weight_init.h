// Element conversion and random fills shared by the text decoder's and the vision tower's weight
// loaders.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "model/text_model.h"

namespace glyph::model {

// Elements per conversion or fill task. The random fills seed each chunk separately, so
// changing this changes the dummy values of every tensor larger than one chunk.
constexpr int64_t kWeightChunk = int64_t{1} << 16;

// Returns the dtype that linear weights use for compute_type (FP32 for kF32, BF16 for kBF16).
DType linear_dtype(ComputeType compute_type);

// Reads element index of source (F32, BF16 or F16) as a float.
inline float read_element(const Tensor& source, int64_t index) {
  switch (source.dtype) {
    case DType::kF32:
      return static_cast<const float*>(source.data)[index];
    case DType::kBF16:
      return to_float(static_cast<const bf16*>(source.data)[index]);
    case DType::kF16:
      return to_float(static_cast<const f16*>(source.data)[index]);
  }
  return 0.0f;
}

// Writes value to element index of destination, which is F32 or BF16. BF16 rounds to nearest,
// ties to even.
inline void write_element(const Tensor& destination, int64_t index, float value) {
  if (destination.dtype == DType::kF32) {
    static_cast<float*>(destination.data)[index] = value;
  } else {
    static_cast<bf16*>(destination.data)[index] = to_bf16(value);
  }
}

// Converts count elements of source (any dtype), starting at source_offset, into destination
// (F32 or BF16) starting at destination_offset.
void convert_range(const Tensor& source, int64_t source_offset, const Tensor& destination,
                   int64_t destination_offset, int64_t count);

// Fills tensor (F32 or BF16) with uniform values in [-bound, bound), deterministic in stream
// whatever the thread count. Each value has 23 random mantissa bits, truncated for BF16.
// The text decoder's dummy weights use it.
void fill_uniform(const Tensor& tensor, float bound, uint64_t stream, ThreadPool& pool);

// Fills tensor (F32 or BF16) with uniform values in [-bound, bound), deterministic in stream
// whatever the thread count. Each value has 24 random bits, rounded to nearest for BF16. The
// vision tower's dummy weights use it.
// NOTE: It draws one SplitMix64 value per element, which is slower than fill_uniform's
// vectorised xorshift32. Switching the vision tower to fill_uniform would change its dummy weights.
void fill_uniform_split_mix(const Tensor& tensor, float bound, uint64_t stream, ThreadPool& pool);

// Sets every element of tensor, which must be F32, to value.
void fill_constant(const Tensor& tensor, float value);

}  // namespace glyph::model
