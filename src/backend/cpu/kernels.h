// CPU kernels, one table per instruction-set level (core/cpu_features.h).
//
// Each *_avx2.cpp / *_avx512.cpp file is compiled with that instruction set only, so nothing in
// it may run before the CPU has been checked. Callers go through kernels_for(), which returns a
// table only for a level the CPU supports. Debian 12's Highway (1.0.3) would give portable
// SIMD, but it never emits the BF16 dot-product instruction (VDPBF16PS) that the BF16 path is
// built on, so the kernels use intrinsics.
//
// Batch invariance: within one table, every kernel reduces each output in an order fixed by
// the shapes of the weights and the heads. The number of rows, their place in a batch, the KV
// page size and the split across threads do not change it, so a sequence's logits are
// bit-identical however the engine batches it.
#pragma once

#include <cstdint>

#include "core/bf16.h"
#include "core/cpu_features.h"

namespace glyph::cpu {

// y = x W^T + bias, the layout of torch.nn.Linear: x [rows, k] (row stride x_stride), W [n, k]
// row-major, bias [n] or null, y [rows, n] (row stride y_stride). All FP32 except W.
struct LinearArgs {
  const float* x = nullptr;
  int64_t x_stride = 0;
  // x rounded to BF16 in the layout Kernels::linear_bf16_input names, for kernels that
  // multiply in BF16; null otherwise.
  const bf16* x_bf16 = nullptr;
  const void* weight = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t rows = 0;
  int64_t k = 0;
};

// The activations a linear_bf16 kernel reads.
enum class Bf16Activations {
  kFloat,       // x in FP32: the kernel widens the BF16 weights to FP32.
  kRows,        // x_bf16: x rounded to BF16, [rows, k] row-major.
  kTokenTiles,  // x_bf16: x rounded to BF16 by pack_token_tiles (AMX tile operands).
};

// Token tiles contain x in groups of kTileTokens tokens. Each group is ceil(k / kTileDepth)
// blocks of kTileDepth / 2 rows. Row p of a block contains the BF16 pair (x[t][2p],
// x[t][2p + 1]) of that block's k range for each token t of the group. Missing tokens and k
// past the end are zeros.
constexpr int64_t kTileTokens = 16;
constexpr int64_t kTileDepth = 32;

constexpr int64_t token_tiles_size(int64_t rows, int64_t k) {
  return (rows + kTileTokens - 1) / kTileTokens * ((k + kTileDepth - 1) / kTileDepth) *
         kTileTokens * kTileDepth;
}

// Attention reduces cache positions in blocks of this many keys, at positions 0, 16, 32, ...
// of the sequence whatever the KV page size. Every query's softmax and weighted sum then run
// in the same order however the batch, the pages and the threads are laid out.
constexpr int64_t kAttentionKeyBlock = 16;

// One attention work item: `tokens` consecutive new tokens of one sequence, each with the
// `group` query heads that share one KV head. Query row (i, g) is head g of token i. Token i
// is at cache position first_position + i and attends to positions [0, first_position + i].
// out = softmax(q K^T * scale) V for every row, in FP32.
struct AttentionTile {
  const float* q = nullptr;  // Token 0, head 0 of the group; a token's heads are head_dim apart.
  int64_t q_stride = 0;      // Between tokens.
  float* out = nullptr;      // Same layout as q, with its own stride.
  int64_t out_stride = 0;
  int64_t tokens = 0;
  int64_t group = 0;
  int64_t head_dim = 0;
  int64_t first_position = 0;
  float scale = 1.0f;

  // The KV head's pages: key and value rows of head_dim values, F32 or BF16. Cache position j
  // is row j % page_size of page pages[j / page_size]; page p's rows of this head start
  // p * page_stride + head_offset elements past k (or v).
  const void* k = nullptr;
  const void* v = nullptr;
  bool bf16 = false;
  const int32_t* pages = nullptr;
  int64_t page_size = 0;
  int64_t page_stride = 0;
  int64_t head_offset = 0;

  float* scratch = nullptr;  // attention_scratch_size(tokens * group, head_dim) floats.
};

constexpr int64_t attention_scratch_size(int64_t rows, int64_t head_dim) {
  const int64_t padded = (head_dim + 15) / 16 * 16;
  return 2 * kAttentionKeyBlock * padded + rows * (padded + 2) + kAttentionKeyBlock;
}

struct Kernels {
  SimdLevel level = SimdLevel::kScalar;
  const char* name = "";  // The level's name, or "amx_bf16" for the AMX table.

  // Compute the output columns [n_begin, n_end) of a linear layer for all rows; callers split
  // the columns across threads. n_begin must be a multiple of kLinearColumnBlock.
  void (*linear_f32)(const LinearArgs& args, int64_t n_begin, int64_t n_end) = nullptr;
  void (*linear_bf16)(const LinearArgs& args, int64_t n_begin, int64_t n_end) = nullptr;
  Bf16Activations linear_bf16_input = Bf16Activations::kFloat;
  // For kTokenTiles: writes token groups [group_begin, group_end) of x into packed, laid out
  // as token_tiles_size describes.
  void (*pack_token_tiles)(const float* x, int64_t x_stride, int64_t rows, int64_t k,
                           int64_t group_begin, int64_t group_end, bf16* packed) = nullptr;

  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  float (*dot_bf16)(const float* a, const bf16* b, int64_t n) = nullptr;
  // y += alpha * x
  void (*axpy_f32)(float alpha, const float* x, float* y, int64_t n) = nullptr;
  void (*axpy_bf16)(float alpha, const bf16* x, float* y, int64_t n) = nullptr;
  // Round to nearest even, as glyph::to_bf16.
  void (*round_to_bf16)(const float* x, bf16* y, int64_t n) = nullptr;

  void (*attention)(const AttentionTile& tile) = nullptr;
};

// Column blocks handed to one linear call start at multiples of this.
constexpr int64_t kLinearColumnBlock = 16;

// The fastest kernels of a level. At avx512_bf16 that is the AMX table when amx_usable(),
// because AMX tiles multiply BF16 matrices many times faster than VDPBF16PS (bench/kernels
// measures both). Throws glyph::Error(kInvalidRequest) when the CPU lacks the level.
const Kernels& kernels_for(SimdLevel level);

// True when the CPU has AMX-BF16 and Linux granted this process the tile state.
bool amx_usable();

// Per-level tables; call only through kernels_for, or after checking the CPU as tests do.
const Kernels& scalar_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();
const Kernels& avx512_bf16_kernels();
// avx512_bf16 with AMX tiles for linear layers with BF16 weights; needs amx_usable().
const Kernels& amx_bf16_kernels();

}  // namespace glyph::cpu
