// The vision tower's weights in the layout the forward pass uses, from a checkpoint or random.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/host_buffer.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "model/text_model.h"

namespace glyph::model {

// Linear weights are [out, in] in the compute type (FP32 for kF32, BF16 for kBF16); norm
// weights, biases and the position table are FP32. width: vision hidden_size; out:
// out_hidden_size; patch: in_channels * temporal_patch_size * patch_size^2.
struct VisionBlockWeights {
  Tensor norm1;         // [width]
  Tensor qkv;           // [3 * width, width]: q, k, v rows, each heads x head_dim.
  Tensor qkv_bias;      // [3 * width], or empty: glm4v's vision attention has no bias.
  Tensor proj;          // [width, width]
  Tensor norm2;         // [width]
  Tensor gate_up_proj;  // [2 * out, width]: gate rows, then up rows (the block MLP is out wide).
  Tensor down_proj;     // [width, out]
};

struct VisionWeights {
  Tensor patch_embed;          // [width, patch]: the Conv3d kernel, one row per output channel.
  Tensor patch_embed_bias;     // [width]
  Tensor post_conv_layernorm;  // [width]
  Tensor position_embedding;   // [(image_size / patch_size)^2, width]
  std::vector<VisionBlockWeights> blocks;
  Tensor post_layernorm;  // [width]
  // The 2x2 Conv2d as a linear layer over the 4 patches of a merged token, concatenated in
  // their merge order: [out, merge * merge * width], columns (row i, column j, channel c).
  Tensor downsample;
  Tensor downsample_bias;      // [out]
  Tensor merger_proj;          // [out, out]
  Tensor merger_norm;          // [out]: LayerNorm weight.
  Tensor merger_norm_bias;     // [out]
  Tensor merger_gate_up_proj;  // [2 * intermediate, out]: gate rows, then up rows.
  Tensor merger_down_proj;     // [out, intermediate]

  int64_t parameter_count = 0;
  size_t bytes = 0;  // Bytes of the tensors above as held.

  // Owners of the memory the views point into.
  std::shared_ptr<const Checkpoint> checkpoint;
  std::vector<HostBuffer> buffers;
};

// Reads and converts the model.visual.* tensors. Throws glyph::Error(kBadModel) naming the
// file and tensor when one is missing or its shape disagrees with config.json.
VisionWeights load_vision_weights(const ModelConfig& config,
                                  std::shared_ptr<const Checkpoint> checkpoint,
                                  ComputeType compute_type, ThreadPool& pool);

// Random weights for config, as dummy_text_weights makes them: uniform in +-1/sqrt(fan_in) for
// matrices, +-1 for the position table, 1 for norm weights, +-0.02 for biases, deterministic in
// seed whatever the thread count. With fill false the memory is reserved but never written.
VisionWeights dummy_vision_weights(const ModelConfig& config, ComputeType compute_type,
                                   uint64_t seed, ThreadPool& pool, bool fill = true);

}  // namespace glyph::model
