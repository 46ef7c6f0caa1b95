// The text decoder's weights in the layout the forward pass uses, from a checkpoint or random.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/host_buffer.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "model/text_model.h"

namespace glyph::model {

// Linear weights are [out, in] in the compute type (FP32 for kF32, BF16 for kBF16); norm
// weights and biases are FP32.
struct LayerWeights {
  Tensor input_layernorm;           // [hidden]
  Tensor qkv_proj;                  // [(heads + 2 * kv_heads) * head_dim, hidden]: q, k, v rows.
  Tensor qkv_bias;                  // [(heads + 2 * kv_heads) * head_dim]; zeros if the checkpoint has none.
  Tensor o_proj;                    // [hidden, heads * head_dim]
  Tensor post_self_attn_layernorm;  // [hidden]
  Tensor post_attention_layernorm;  // [hidden]
  Tensor gate_up_proj;              // [2 * intermediate, hidden]: gate rows, then up rows.
  Tensor down_proj;                 // [hidden, intermediate]
  Tensor post_mlp_layernorm;        // [hidden]
};

struct TextWeights {
  Tensor embed_tokens;  // [vocab, hidden] as stored (F32, F16 or BF16); rows convert on lookup.
  std::vector<LayerWeights> layers;
  Tensor norm;          // [hidden]
  Tensor lm_head;       // [vocab, hidden]

  int64_t parameter_count = 0;  // Text decoder parameters, embedding and lm_head included.
  size_t bytes = 0;             // Bytes of the tensors above as held.

  // Owners of the memory the views point into.
  std::shared_ptr<const Checkpoint> checkpoint;
  std::vector<HostBuffer> buffers;
};

// Reads and converts the text decoder's tensors. Throws glyph::Error(kBadModel) naming the
// file and tensor when one is missing or its shape disagrees with config.json.
TextWeights load_text_weights(const ModelConfig& config, std::shared_ptr<const Checkpoint> checkpoint,
                              ComputeType compute_type, ThreadPool& pool);

// Random weights for config: uniform in +-1/sqrt(fan_in) for matrices (+-1 for the embedding),
// 1 for norms, +-0.02 for biases, deterministic in seed whatever the thread count. With
// fill false the memory is reserved but never written (reads as zeros) and costs no RAM until
// touched, for tests that check shapes only.
TextWeights dummy_text_weights(const ModelConfig& config, ComputeType compute_type, uint64_t seed,
                               ThreadPool& pool, bool fill = true);

// Checks that the vision tower's tensors exist with the shapes config.json implies, without
// reading them, so that TextModel::load rejects a checkpoint whose vision tower is broken.
// VisionModel::load reads these tensors with load_vision_weights. Does nothing when
// vision_config's depth is 0. Throws like load_text_weights.
void check_vision_weights(const ModelConfig& config, const Checkpoint& checkpoint);

}  // namespace glyph::model
