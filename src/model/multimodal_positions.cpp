#include "model/multimodal_positions.h"

#include <algorithm>

#include "core/error.h"

namespace glyph::model {

namespace {

// Appends (start + i) on all three components for count text tokens.
void append_text(std::vector<int32_t>& positions, int32_t start, int32_t count) {
  for (int32_t i = 0; i < count; ++i) positions.insert(positions.end(), 3, start + i);
}

}  // namespace

MultimodalPositions multimodal_positions(int32_t num_tokens, std::span<const ImagePlacement> images,
                                         int32_t merge_size) {
  GLYPH_CHECK(num_tokens >= 0, "negative token count {}", num_tokens);
  GLYPH_CHECK(merge_size > 0, "spatial merge size {} must be positive", merge_size);

  MultimodalPositions result;
  result.positions.reserve(static_cast<size_t>(num_tokens) * 3);
  int32_t next_token = 0;     // Index of the first token not yet assigned.
  int32_t next_position = 0;  // One past the largest position assigned so far.
  for (size_t index = 0; index < images.size(); ++index) {
    const ImagePlacement& image = images[index];
    const auto [grid_t, grid_h, grid_w] = image.grid_thw;
    GLYPH_CHECK(grid_t > 0 && grid_h > 0 && grid_w > 0 && grid_h % merge_size == 0 &&
                    grid_w % merge_size == 0,
                "image {} has grid ({}, {}, {}); each side must be positive and h and w "
                "multiples of the merge size {}",
                index, grid_t, grid_h, grid_w, merge_size);
    const int32_t rows = grid_h / merge_size;
    const int32_t columns = grid_w / merge_size;
    const int32_t count = grid_t * rows * columns;
    GLYPH_CHECK(image.offset >= next_token,
                "image {} starts at token {}, before the end {} of the previous image or out of "
                "prompt order",
                index, image.offset, next_token);
    GLYPH_CHECK(int64_t{image.offset} + count <= num_tokens,
                "image {} needs tokens [{}, {}) but the prompt has {}", index, image.offset,
                int64_t{image.offset} + count, num_tokens);

    // Text before the image counts on from the last position on all components.
    append_text(result.positions, next_position, image.offset - next_token);
    next_position += image.offset - next_token;

    // Merged tokens in row-major order over (t, row, column), each offset by the start.
    const int32_t start = next_position;
    for (int32_t t = 0; t < grid_t; ++t) {
      for (int32_t row = 0; row < rows; ++row) {
        for (int32_t column = 0; column < columns; ++column) {
          result.positions.insert(result.positions.end(), {start + t, start + row, start + column});
        }
      }
    }
    // The next token starts one past the largest component used: st + max(t, h, w) extent.
    next_position = start + std::max({grid_t, rows, columns});
    next_token = image.offset + count;
  }
  append_text(result.positions, next_position, num_tokens - next_token);
  next_position += num_tokens - next_token;

  // transformers: rope_delta = max position + 1 - number of tokens, so that decode step n
  // (token index num_tokens + n) sits at num_tokens + n + rope_delta on every component.
  result.rope_delta = next_position - num_tokens;
  return result;
}

}  // namespace glyph::model
