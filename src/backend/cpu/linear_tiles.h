// The blocking shared by the SIMD linear kernels, parameterised by a register tile.
//
// Included only by the *_avx2.cpp / *_avx512.cpp files, each inside its own anonymous
// namespace, so every instruction set gets a private copy and no symbol is shared between
// files compiled with different flags. Those files include <array>, <cstdint>, <utility> and
// backend/cpu/kernels.h first, outside the namespace, which is why this header has no
// include guard or includes of its own.
//
// A Tile type provides:
//   static constexpr int kRows, kCols;            // the largest tile, in x rows and W rows
//   template <int Rows, int Cols> static void run(const TileArgs&);
// and run computes y[0:Rows, 0:Cols] for Rows <= kRows and Cols <= kCols.

struct TileArgs {
  const float* x;        // First row of the tile.
  int64_t x_stride;
  const void* x_bf16;    // Same rows rounded to BF16, stride k, or null.
  const void* weight;    // First W row of the tile.
  const float* bias;     // bias + first column, or null.
  float* y;              // y + first row, first column.
  int64_t y_stride;
  int64_t k;
};

template <typename Tile, int Rows, int... Cols>
constexpr auto tile_row(std::integer_sequence<int, Cols...>) {
  return std::array<void (*)(const TileArgs&), sizeof...(Cols)>{&Tile::template run<Rows, Cols + 1>...};
}

template <typename Tile, int... Rows>
constexpr auto tile_table(std::integer_sequence<int, Rows...>) {
  return std::array{tile_row<Tile, Rows + 1>(std::make_integer_sequence<int, Tile::kCols>())...};
}

// W rows are processed in blocks small enough to stay in the L2 cache (512 KiB of weights,
// a fraction of the 1-2 MiB L2 of current x86 server cores) while every row tile of x streams
// past them. For a single row (decode) the block size does not matter, because W streams from
// memory once.
template <typename Tile>
void linear_blocked(const glyph::cpu::LinearArgs& args, size_t weight_element_size,
                    int64_t n_begin, int64_t n_end) {
  static constexpr auto kTable = tile_table<Tile>(std::make_integer_sequence<int, Tile::kRows>());
  constexpr int64_t kCacheBytes = 512 * 1024;
  int64_t row_bytes = args.k * static_cast<int64_t>(weight_element_size);
  int64_t block = kCacheBytes / (row_bytes > 0 ? row_bytes : 1);
  block = block < Tile::kCols ? Tile::kCols : block / Tile::kCols * Tile::kCols;

  const auto* weight = static_cast<const uint8_t*>(args.weight);
  const auto* x_bf16 = static_cast<const uint8_t*>(static_cast<const void*>(args.x_bf16));
  for (int64_t block_begin = n_begin; block_begin < n_end; block_begin += block) {
    int64_t block_end = block_begin + block < n_end ? block_begin + block : n_end;
    for (int64_t row = 0; row < args.rows; row += Tile::kRows) {
      int64_t rows = args.rows - row < Tile::kRows ? args.rows - row : Tile::kRows;
      for (int64_t col = block_begin; col < block_end; col += Tile::kCols) {
        int64_t cols = block_end - col < Tile::kCols ? block_end - col : Tile::kCols;
        TileArgs tile{
            args.x + row * args.x_stride,
            args.x_stride,
            x_bf16 != nullptr ? x_bf16 + row * args.k * 2 : nullptr,
            weight + col * row_bytes,
            args.bias != nullptr ? args.bias + col : nullptr,
            args.y + row * args.y_stride + col,
            args.y_stride,
            args.k,
        };
        kTable[static_cast<size_t>(rows - 1)][static_cast<size_t>(cols - 1)](tile);
      }
    }
  }
}
