// The glm4v vision tower and merger (MODEL-NOTES.md, "Vision tower"): turns one
// image's patches into the embeddings that replace its <|image|> tokens.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/text_model.h"

namespace glyph::model {

class VisionModel {
 public:
  virtual ~VisionModel() = default;

  // Loads the visual.* tensors from the same directory and options as TextModel::load.
  // Throws glyph::Error(kBadModel) naming the tensor and the problem.
  static std::unique_ptr<VisionModel> load(const LoadOptions& options);

  virtual const ModelConfig& config() const = 0;

  // Merged tokens (and output rows) of an image with this grid:
  // grid_t * (grid_h / spatial_merge_size) * (grid_w / spatial_merge_size).
  int32_t num_output_tokens(std::array<int32_t, 3> grid_thw) const;

  // pixel_values: [grid_t * grid_h * grid_w, in_channels * temporal_patch_size * patch_size^2]
  // in the image processor's patch order. Returns FP32
  // [grid_t * grid_h * grid_w / spatial_merge_size^2, out_hidden_size].
  // Not thread-safe: callers serialise encodes. grid_t must be 1 (a still image), and grid_h
  // and grid_w positive multiples of spatial_merge_size; a violation is a glyph bug and throws
  // glyph::Error(kInternal).
  virtual std::vector<float> encode(std::span<const float> pixel_values,
                                    std::array<int32_t, 3> grid_thw) = 0;

  // What was loaded, for the start-up log: blocks, widths, parameters, bytes, threads, SIMD.
  virtual std::string describe() const = 0;
};

}  // namespace glyph::model
