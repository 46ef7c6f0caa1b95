// Kernels defined in one file of src/backend/cpu/ and placed in another file's table. Not for
// callers outside the backend: they reach these through kernels_for().
#pragma once

#include <cstdint>

#include "backend/cpu/kernels.h"

namespace glyph::cpu::internal {

// attention_scalar.cpp: attention_portable.h built for any x86-64 CPU.
void attention_scalar(const AttentionTile& tile);

// attention_avx512.cpp: needs AVX-512 F, BW, VL and DQ.
void attention_avx512(const AttentionTile& tile);

// linear_amx_avx512.cpp: needs amx_usable().
void linear_bf16_amx(const LinearArgs& args, int64_t n_begin, int64_t n_end);
void pack_token_tiles_avx512(const float* x, int64_t x_stride, int64_t rows, int64_t k,
                             int64_t group_begin, int64_t group_end, bf16* packed);

}  // namespace glyph::cpu::internal
