// The Glm4v image processor: the steps transformers' Glm4vImageProcessor
// applies to an RGB image before the vision tower reads it (MODEL-NOTES.md,
// "Image processor").
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "vision/image.h"

namespace glyph::vision {

// preprocessor_config.json.
struct ProcessorConfig {
  int64_t min_pixels = 12'544;      // size.shortest_edge
  int64_t max_pixels = 47'040'000;  // size.longest_edge
  int32_t patch_size = 14;
  int32_t temporal_patch_size = 2;
  int32_t merge_size = 2;
  bool do_rescale = true;
  // Double, because transformers multiplies in float64 before it casts to
  // float32; 1/255 as a float would change the last bit of some values.
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<float, 3> image_mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> image_std{0.26862954f, 0.26130258f, 0.27577711f};

  // Reads model_dir/preprocessor_config.json; a missing file gives the defaults above.
  // A file without "size" takes top-level "min_pixels"/"max_pixels" if present, else
  // transformers' class defaults (12544 and 11760000). Throws glyph::Error(kBadModel)
  // for invalid JSON or values, a "size" without both edges, a resample other than
  // bicubic (3) and "do_resize": false.
  static ProcessorConfig load(const std::filesystem::path& model_dir);
};

struct ResizedSize {
  int32_t height = 0;
  int32_t width = 0;
};

// transformers' smart_resize for num_frames = temporal_patch_size: both sides
// become multiples of patch_size * merge_size within the pixel budget.
// Throws glyph::Error(kInvalidRequest) for a side shorter than
// patch_size * merge_size (28) and for an aspect ratio above 200.
ResizedSize smart_resize(int32_t height, int32_t width, const ProcessorConfig& config);

// Prompt tokens of a width x height image: smart_resize, then one token per
// (patch_size * merge_size)-pixel block. Throws where smart_resize does.
int64_t count_image_tokens(int32_t width, int32_t height, const ProcessorConfig& config = {});

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
// Throws glyph::Error(kInvalidRequest) where smart_resize does.
ProcessedImage preprocess(const Image& image, const ProcessorConfig& config);

}  // namespace glyph::vision
