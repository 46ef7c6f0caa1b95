// The Glm4v image processor: what transformers' Glm4vImageProcessor does to an
// RGB image before the vision tower sees it (MODEL-NOTES.md, "Image processor").
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "vision/image.h"

namespace glyph::vision {

// preprocessor_config.json.
struct ProcessorConfig {
  int64_t min_pixels = 12'544;       // size.shortest_edge
  int64_t max_pixels = 47'040'000;   // size.longest_edge
  int32_t patch_size = 14;
  int32_t temporal_patch_size = 2;
  int32_t merge_size = 2;
  bool do_rescale = true;
  float rescale_factor = 1.0f / 255.0f;
  bool do_normalize = true;
  std::array<float, 3> image_mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> image_std{0.26862954f, 0.26130258f, 0.27577711f};

  // Reads model_dir/preprocessor_config.json; a missing file gives the defaults above.
  static ProcessorConfig load(const std::filesystem::path& model_dir);
};

struct ResizedSize {
  int32_t height = 0;
  int32_t width = 0;
};

// transformers' smart_resize for num_frames = temporal_patch_size: both sides
// become multiples of patch_size * merge_size within the pixel budget.
// Throws glyph::Error(kInvalidRequest) for an aspect ratio above 200.
ResizedSize smart_resize(int32_t height, int32_t width, const ProcessorConfig& config);

// Pillow's Image.resize(..., BICUBIC) on 8-bit RGB (support 2, a = -0.5,
// horizontal pass then vertical, 8-bit intermediate as Pillow rounds it).
Image resize_bicubic(const Image& image, int32_t width, int32_t height);

struct ProcessedImage {
  // [grid_t * grid_h * grid_w, 3 * temporal_patch_size * patch_size^2], patches in
  // 2x2 merge-block order, each patch channel-major, then time, then rows, then columns.
  std::vector<float> pixel_values;
  std::array<int32_t, 3> grid_thw{0, 0, 0};  // In patches.
  int32_t merge_size = 2;

  // Tokens the image takes in the prompt: grid_t * grid_h * grid_w / merge_size^2.
  int32_t num_tokens() const;
};

// smart_resize, resize_bicubic, rescale, normalize, temporal duplication and patch order.
ProcessedImage preprocess(const Image& image, const ProcessorConfig& config);

}  // namespace glyph::vision
