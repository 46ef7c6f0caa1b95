// M-RoPE position ids for a prompt of text and images, as transformers'
// Glm4vModel.get_rope_index computes them (MODEL-NOTES.md, "Rotary embedding").
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace glyph::model {

// One image's run of placeholder tokens in a prompt.
struct ImagePlacement {
  int32_t offset = 0;                        // Index of its first <|image|> token.
  std::array<int32_t, 3> grid_thw{0, 0, 0};  // In patches, before merging.
};

struct MultimodalPositions {
  std::vector<int32_t> positions;  // [num_tokens, 3]: (t, h, w) per token.
  // Added to a token's index to get its position once the prompt ends (decode).
  int32_t rope_delta = 0;
};

// images must be in prompt order, not overlap, and each run must hold
// grid_t * (grid_h / merge_size) * (grid_w / merge_size) tokens; a violation throws
// glyph::Error(kInternal).
// NOTE: transformers groups consecutive <|image|> tokens into one run, so it would give two
// images with no token between them the positions of one image. Here each placement gets its
// own. The chat template always puts <|end_of_image|><|begin_of_image|> between images.
MultimodalPositions multimodal_positions(int32_t num_tokens, std::span<const ImagePlacement> images,
                                         int32_t merge_size);

}  // namespace glyph::model
