// Linear layers with BF16 weights on AMX tiles (Intel Xeon 4th generation and later).
//
// W is the A operand, read straight from the row-major [n, k] matrix: an A tile is 16 rows of
// W by 32 values of k. The activations are the B operand. x is rounded to BF16 and packed once
// per call into token tiles of 16 pairs of k by 16 tokens (kernels.h). A C tile then contains
// y^T for 16 output columns by 16 tokens in FP32, and one TDPBF16PS adds 16 x 16 x 32 products
// to it.
//
// Every row count, including decode's single token, runs through the same tiles. Each output
// is accumulated by TDPBF16PS over the k blocks in order, and the bias is added last. AMX
// rounds its sums differently from VDPBF16PS, so choosing the instruction by batch size would
// make a sequence's logits depend on the batch around it.
//
// Register blocking is 2 W tiles by 2 token tiles: 4 C tiles, which with 2 A and 2 B tiles use
// all 8 tile registers. A block of up to 256 W rows (about 1 MiB) stays in L2 while every
// token group passes over it, so W streams from memory once per call.
// NOTE: a 512-token prefill reaches about a quarter of the AMX peak on a Xeon with 2 MiB of L2
// per core (bench/kernels, 2-vCPU VM). A bare loop of the same tile loads from L2 reached about
// a third, so a faster kernel needs one operand kept in L1.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("amx-tile,amx-bf16")
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/kernels_internal.h"

namespace glyph::cpu::internal {

namespace {

#include "backend/cpu/avx512_helpers.h"

constexpr int64_t kTileRows = 16;
constexpr int64_t kTileBytes = 64;                     // Bytes per tile row.
constexpr int64_t kBlockElements = kTileTokens * kTileDepth;  // BF16 values per B tile.

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Sets every tile register to 16 rows of 64 bytes. Called at each kernel call because the
// configuration belongs to the calling thread.
void configure_tiles() {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = kTileRows;
    config.bytes_per_row[t] = kTileBytes;
  }
  _tile_loadconfig(&config);
}

// A W tile: its first row and how many of its 16 rows exist.
struct WeightTile {
  const uint16_t* first;  // W row of the tile's first column, at k = 0.
  int64_t rows;           // Valid rows, 1..16.
};

// The A operand for one W tile at one k block: a pointer and a stride in bytes for TILELOADD.
struct TileSource {
  const void* data;
  int64_t stride;
};

// Returns where to load W tile `tile` at block kb from. That is W itself, except for the last
// block when k is not a multiple of 32 and for a tile with fewer than 16 rows. Those are copied
// into staging with zeros around them, so that no load reads past W.
inline TileSource weight_block(const WeightTile& tile, int64_t k, int64_t kb, uint16_t* staging) {
  const int64_t begin = kb * kTileDepth;
  if (tile.rows == kTileRows && begin + kTileDepth <= k) {
    return {tile.first + begin, k * 2};
  }
  const int64_t count = k - begin < kTileDepth ? k - begin : kTileDepth;
  const __mmask32 mask = count >= 32 ? 0xffffffffu : (1u << count) - 1u;
  for (int64_t r = 0; r < kTileRows; ++r) {
    const __m512i values = r < tile.rows ? _mm512_maskz_loadu_epi16(mask, tile.first + r * k + begin)
                                         : _mm512_setzero_si512();
    _mm512_storeu_si512(staging + r * kTileDepth, values);
  }
  return {staging, kTileBytes};
}

// Multiplies one k block: A tiles from a0 and a1 (stride in bytes), B tiles from b0 and b1.
// C tiles: 0 (W tile 0, tokens 0), 1 (W tile 1, tokens 0), 2 (W tile 0, tokens 1),
// 3 (W tile 1, tokens 1). A tiles 4 and 5, B tiles 6 and 7.
template <int WeightTiles, int TokenTiles>
inline void multiply_block(const void* a0, int64_t a0_stride, const void* a1, int64_t a1_stride,
                           const bf16* b0, const bf16* b1) {
  _tile_loadd(4, a0, a0_stride);
  _tile_loadd(6, b0, kTileBytes);
  _tile_dpbf16ps(0, 4, 6);
  if constexpr (TokenTiles > 1) {
    _tile_loadd(7, b1, kTileBytes);
    _tile_dpbf16ps(2, 4, 7);
  }
  if constexpr (WeightTiles > 1) {
    _tile_loadd(5, a1, a1_stride);
    _tile_dpbf16ps(1, 5, 6);
    if constexpr (TokenTiles > 1) _tile_dpbf16ps(3, 5, 7);
  }
}

// C = W tiles x token tiles over every k block, stored to out as 16 x 16 FP32 tiles in the
// order of the C tile registers.
template <int WeightTiles, int TokenTiles>
void multiply(const WeightTile* weights, const bf16* tokens, int64_t group_stride, int64_t k,
              int64_t blocks, float* out) {
  _tile_zero(0);
  if constexpr (WeightTiles > 1) _tile_zero(1);
  if constexpr (TokenTiles > 1) _tile_zero(2);
  if constexpr (WeightTiles > 1 && TokenTiles > 1) _tile_zero(3);

  // Blocks read straight from W: all when every tile has 16 rows, except a partial last block.
  const bool full_rows = weights[0].rows == kTileRows &&
                         (WeightTiles == 1 || weights[WeightTiles - 1].rows == kTileRows);
  const int64_t direct_blocks = full_rows ? k / kTileDepth : 0;
  const uint16_t* a0 = weights[0].first;
  const uint16_t* a1 = weights[WeightTiles - 1].first;
  for (int64_t kb = 0; kb < direct_blocks; ++kb) {
    multiply_block<WeightTiles, TokenTiles>(a0 + kb * kTileDepth, k * 2, a1 + kb * kTileDepth,
                                            k * 2, tokens + kb * kBlockElements,
                                            tokens + group_stride + kb * kBlockElements);
  }
  alignas(64) uint16_t staging[2][kTileRows * kTileDepth];
  for (int64_t kb = direct_blocks; kb < blocks; ++kb) {
    const TileSource s0 = weight_block(weights[0], k, kb, staging[0]);
    const TileSource s1 = weight_block(weights[WeightTiles - 1], k, kb, staging[1]);
    multiply_block<WeightTiles, TokenTiles>(s0.data, s0.stride, s1.data, s1.stride,
                                            tokens + kb * kBlockElements,
                                            tokens + group_stride + kb * kBlockElements);
  }

  constexpr int64_t kTileFloats = kTileRows * kTileTokens;
  _tile_stored(0, out, kTileBytes);
  if constexpr (WeightTiles > 1) _tile_stored(1, out + kTileFloats, kTileBytes);
  if constexpr (TokenTiles > 1) _tile_stored(2, out + 2 * kTileFloats, kTileBytes);
  if constexpr (WeightTiles > 1 && TokenTiles > 1) _tile_stored(3, out + 3 * kTileFloats, kTileBytes);
}

using MultiplyFunction = void (*)(const WeightTile*, const bf16*, int64_t, int64_t, int64_t, float*);
constexpr MultiplyFunction kMultiply[2][2] = {{multiply<1, 1>, multiply<1, 2>},
                                              {multiply<2, 1>, multiply<2, 2>}};

// Writes one C tile, c[column][token], to y[token][column] for the valid tokens and columns,
// adding the bias last.
void store_tile(const float* c, int64_t columns, int64_t tokens, const float* bias, float* y,
                int64_t y_stride) {
  __m512 block[16];
  for (int64_t r = 0; r < 16; ++r) block[r] = _mm512_loadu_ps(c + r * 16);
  transpose16x16(block);
  const __mmask16 mask = lanes16(columns);
  const __m512 bias_values = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias) : _mm512_setzero_ps();
  for (int64_t t = 0; t < tokens; ++t) {
    const __m512 value = bias != nullptr ? _mm512_add_ps(block[t], bias_values) : block[t];
    _mm512_mask_storeu_ps(y + t * y_stride, mask, value);
  }
}

}  // namespace

void linear_bf16_amx(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  configure_tiles();
  const auto* weight = static_cast<const uint16_t*>(args.weight);
  const int64_t k = args.k;
  const int64_t blocks = (k + kTileDepth - 1) / kTileDepth;
  const int64_t groups = (args.rows + kTileTokens - 1) / kTileTokens;
  const int64_t group_stride = blocks * kBlockElements;
  alignas(64) float c[4][kTileRows * kTileTokens];

  // W rows per block: as many as fit in about 1 MiB of L2, up to 256, so that each token tile
  // loaded from L3 serves the whole block.
  int64_t block_rows = (int64_t{1} << 20) / (k * 2) / (2 * kTileRows) * (2 * kTileRows);
  block_rows = block_rows < 2 * kTileRows ? 2 * kTileRows : (block_rows > 256 ? 256 : block_rows);

  for (int64_t block = n_begin; block < n_end; block += block_rows) {
    const int64_t block_end = block + block_rows < n_end ? block + block_rows : n_end;
    for (int64_t group = 0; group < groups; group += 2) {
      const int64_t token_tiles = groups - group >= 2 ? 2 : 1;
      for (int64_t n = block; n < block_end; n += 2 * kTileRows) {
        WeightTile tiles[2];
        int64_t weight_tiles = 0;
        for (int64_t column = n; column < block_end && weight_tiles < 2; column += kTileRows) {
          const int64_t rows = block_end - column < kTileRows ? block_end - column : kTileRows;
          tiles[weight_tiles++] = {weight + column * k, rows};
        }
        kMultiply[weight_tiles - 1][token_tiles - 1](tiles, args.x_bf16 + group * group_stride,
                                                     group_stride, k, blocks, c[0]);
        for (int64_t g = 0; g < token_tiles; ++g) {
          const int64_t first_token = (group + g) * kTileTokens;
          const int64_t tokens = args.rows - first_token < kTileTokens ? args.rows - first_token : kTileTokens;
          for (int64_t w = 0; w < weight_tiles; ++w) {
            const int64_t column = n + w * kTileRows;
            store_tile(c[g * 2 + w], tiles[w].rows, tokens,
                       args.bias != nullptr ? args.bias + column : nullptr,
                       args.y + first_token * args.y_stride + column, args.y_stride);
          }
        }
      }
    }
  }
}

// Packs each block of 16 tokens by 32 values of k as 16 rows of BF16 pairs, one row per token,
// then transposes it so that row p contains pair p of every token.
void pack_token_tiles_avx512(const float* x, int64_t x_stride, int64_t rows, int64_t k,
                             int64_t group_begin, int64_t group_end, bf16* packed) {
  const int64_t blocks = (k + kTileDepth - 1) / kTileDepth;
  for (int64_t group = group_begin; group < group_end; ++group) {
    bf16* out = packed + group * blocks * kBlockElements;
    for (int64_t kb = 0; kb < blocks; ++kb) {
      const int64_t begin = kb * kTileDepth;
      const __mmask16 low = lanes16(k - begin);
      const __mmask16 high = lanes16(k - begin - 16);
      __m512 block[16];
      for (int64_t t = 0; t < kTileTokens; ++t) {
        const int64_t token = group * kTileTokens + t;
        if (token >= rows) {
          block[t] = _mm512_setzero_ps();
          continue;
        }
        const float* row = x + token * x_stride + begin;
        const __m256i first = round16_to_bf16(_mm512_maskz_loadu_ps(low, row));
        const __m256i second = round16_to_bf16(_mm512_maskz_loadu_ps(high, row + 16));
        block[t] = _mm512_castsi512_ps(
            _mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1));
      }
      transpose16x16(block);
      for (int64_t p = 0; p < kTileDepth / 2; ++p) {
        _mm512_storeu_ps(out + kb * kBlockElements + p * 2 * kTileTokens, block[p]);
      }
    }
  }
}

}  // namespace glyph::cpu::internal
