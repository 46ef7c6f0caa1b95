// The glm4v vision tower and merger over ops, following transformers' Glm4vVisionModel
// (models/glm4v/modeling_glm4v.py, 4.57). Steps: patch embedding, the learned position table
// resampled to the patch grid, blocks of bidirectional attention with 2D RoPE and a SwiGLU MLP,
// a 2x2 downsampling convolution, then the patch merger.
#include "model/vision_model.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "backend/cpu/kernels.h"
#include "core/error.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "model/safetensors.h"
#include "model/vision_weights.h"
#include "ops/ops.h"
#include "ops/vision_ops.h"

namespace glyph::model {

namespace {

// Glm4vVisionRotaryEmbedding's theta; transformers fixes it rather than reading the config.
constexpr float kRopeTheta = 10000.0f;
// torch.nn.LayerNorm's default eps, which Glm4vVisionPatchMerger keeps.
constexpr float kMergerNormEps = 1e-5f;

// Activations of one encode, grown to the largest image seen and reused.
struct Scratch {
  std::vector<float> hidden;     // [patches, width]: the residual stream.
  std::vector<float> normed;     // [patches, width] in blocks, [tokens, out] in the merger.
  std::vector<float> qkv;        // [patches, 3 * width]
  std::vector<float> attention;  // [patches, width]
  std::vector<float> projected;  // [patches, width]
  std::vector<float> gate_up;    // [patches, 2 * out] in blocks, [tokens, 2 * intermediate] after.
  std::vector<float> activated;  // [patches, out] in blocks, [tokens, intermediate] after.
  std::vector<float> merged;     // [tokens, out]
  std::vector<float> cos;        // [patches, head_dim / 2]
  std::vector<float> sin;
  std::vector<int32_t> rows;     // [patches]: each patch's row in the patch grid.
  std::vector<int32_t> columns;  // [patches]: each patch's column.
};

void grow(std::vector<float>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
}

class Glm4vVisionModel final : public VisionModel {
 public:
  Glm4vVisionModel(ModelConfig config, ComputeType compute_type, std::unique_ptr<ThreadPool> pool,
                   const cpu::Kernels& kernels, VisionWeights weights)
      : config_(std::move(config)),
        compute_type_(compute_type),
        pool_(std::move(pool)),
        context_(*pool_, kernels),
        weights_(std::move(weights)) {
    const VisionConfig& vision = config_.vision;
    head_dim_ = vision.hidden_size / vision.num_heads;
    GLYPH_CHECK(head_dim_ % 4 == 0, "vision head_dim {} must be a multiple of 4", head_dim_);
    // transformers: inv_freq = 1 / theta ** (arange(0, dim, 2) / dim) in float32 with
    // dim = head_dim / 2, so head_dim / 4 frequencies shared by the row and the column halves.
    const int32_t dim = head_dim_ / 2;
    for (int32_t j = 0; j < dim / 2; ++j) {
      const float exponent = static_cast<float>(2 * j) / static_cast<float>(dim);
      inverse_frequency_.push_back(1.0f / std::pow(kRopeTheta, exponent));
    }
  }

  const ModelConfig& config() const override { return config_; }

  std::vector<float> encode(std::span<const float> pixel_values,
                            std::array<int32_t, 3> grid_thw) override;

  std::string describe() const override;

 private:
  void check_input(std::span<const float> pixel_values, std::array<int32_t, 3> grid_thw) const;
  void compute_patch_positions(int32_t grid_h, int32_t grid_w);
  void compute_rope(int64_t patches);
  void run_block(size_t index, int64_t patches);
  void run_merger(int64_t tokens, float* out);

  ModelConfig config_;
  ComputeType compute_type_;
  std::unique_ptr<ThreadPool> pool_;
  ops::Context context_;
  VisionWeights weights_;
  int32_t head_dim_ = 0;
  std::vector<float> inverse_frequency_;  // [head_dim / 4]
  Scratch scratch_;
};

void Glm4vVisionModel::check_input(std::span<const float> pixel_values,
                                   std::array<int32_t, 3> grid_thw) const {
  const VisionConfig& vision = config_.vision;
  const auto [grid_t, grid_h, grid_w] = grid_thw;
  const int32_t merge = vision.spatial_merge_size;
  // transformers 4.57 cannot embed positions for grid_t > 1 either (its Glm4vVisionEmbeddings
  // indexes the grid list per frame), and the image processor always emits grid_t 1.
  GLYPH_CHECK(grid_t == 1, "image grid ({}, {}, {}) has grid_t {}; still images have grid_t 1",
              grid_t, grid_h, grid_w, grid_t);
  GLYPH_CHECK(grid_h > 0 && grid_w > 0 && grid_h % merge == 0 && grid_w % merge == 0,
              "image grid {}x{} patches is not a positive multiple of spatial_merge_size {}",
              grid_h, grid_w, merge);
  const int64_t patch_values = int64_t{vision.in_channels} * vision.temporal_patch_size *
                               vision.patch_size * vision.patch_size;
  const int64_t expected = int64_t{grid_h} * grid_w * patch_values;
  GLYPH_CHECK(static_cast<int64_t>(pixel_values.size()) == expected,
              "{} pixel values for a {}x{} patch grid; expected {} ({} per patch)",
              pixel_values.size(), grid_h, grid_w, expected, patch_values);
}

// The image processor emits patches in merge-block order: blocks of merge x merge patches
// row-major over the grid, and row-major inside each block. Glm4vVisionModel.rot_pos_emb
// derives each patch's (row, column) the same way.
void Glm4vVisionModel::compute_patch_positions(int32_t grid_h, int32_t grid_w) {
  const int32_t merge = config_.vision.spatial_merge_size;
  scratch_.rows.clear();
  scratch_.columns.clear();
  for (int32_t block_row = 0; block_row < grid_h / merge; ++block_row) {
    for (int32_t block_column = 0; block_column < grid_w / merge; ++block_column) {
      for (int32_t i = 0; i < merge; ++i) {
        for (int32_t j = 0; j < merge; ++j) {
          scratch_.rows.push_back(block_row * merge + i);
          scratch_.columns.push_back(block_column * merge + j);
        }
      }
    }
  }
}

// 2D RoPE angles [patches, head_dim / 2], as transformers' rotary_pos_emb over (h, w) ids: the
// first head_dim / 4 turn with the patch's row and the next head_dim / 4 with its column.
// Rotate-half then turns dims i and i + head_dim / 2 by angle i.
void Glm4vVisionModel::compute_rope(int64_t patches) {
  const auto quarter = static_cast<int64_t>(inverse_frequency_.size());
  const int64_t half = 2 * quarter;
  grow(scratch_.cos, patches * half);
  grow(scratch_.sin, patches * half);
  for (int64_t p = 0; p < patches; ++p) {
    const auto row = static_cast<float>(scratch_.rows[static_cast<size_t>(p)]);
    const auto column = static_cast<float>(scratch_.columns[static_cast<size_t>(p)]);
    for (int64_t j = 0; j < half; ++j) {
      const float position = j < quarter ? row : column;
      const float angle = position * inverse_frequency_[static_cast<size_t>(j % quarter)];
      scratch_.cos[static_cast<size_t>(p * half + j)] = std::cos(angle);
      scratch_.sin[static_cast<size_t>(p * half + j)] = std::sin(angle);
    }
  }
}

std::vector<float> Glm4vVisionModel::encode(std::span<const float> pixel_values,
                                            std::array<int32_t, 3> grid_thw) {
  check_input(pixel_values, grid_thw);
  const VisionConfig& vision = config_.vision;
  const int32_t grid_h = grid_thw[1];
  const int32_t grid_w = grid_thw[2];
  const int64_t patches = int64_t{grid_h} * grid_w;
  const int64_t width = vision.hidden_size;
  const int64_t out = vision.out_hidden_size;
  const int64_t merge_area = int64_t{vision.spatial_merge_size} * vision.spatial_merge_size;
  const int64_t tokens = patches / merge_area;
  const int64_t patch_values = weights_.patch_embed.dim(1);

  grow(scratch_.hidden, patches * width);
  grow(scratch_.normed, std::max(patches * width, tokens * out));
  grow(scratch_.qkv, patches * 3 * width);
  grow(scratch_.attention, patches * width);
  grow(scratch_.projected, patches * width);
  grow(scratch_.gate_up, std::max(patches * 2 * out, tokens * 2 * vision.intermediate_size));
  grow(scratch_.activated, std::max(patches * out, tokens * vision.intermediate_size));
  grow(scratch_.merged, tokens * out);
  float* hidden = scratch_.hidden.data();

  // patch_embed (a Conv3d whose kernel covers the whole patch, so a linear layer with bias),
  // then post_conv_layernorm: [patches, width]
  ops::linear(context_, pixel_values.data(), patches, patch_values, weights_.patch_embed,
              weights_.patch_embed_bias, hidden, width);
  ops::rms_norm(context_, hidden, patches, weights_.post_conv_layernorm, vision.rms_norm_eps,
                hidden);

  // + the learned position table resampled to this grid: [patches, width]
  compute_patch_positions(grid_h, grid_w);
  ops::resample_bicubic(context_, weights_.position_embedding, grid_h, grid_w, scratch_.rows,
                        scratch_.columns, scratch_.projected.data());
  ops::add(context_, hidden, scratch_.projected.data(), patches * width);

  compute_rope(patches);
  for (size_t block = 0; block < weights_.blocks.size(); ++block) run_block(block, patches);

  // post_layernorm, then the merge x merge downsample Conv2d: the patches of one merged token
  // are consecutive rows, so [patches, width] read as [tokens, merge_area * width] is its input.
  ops::rms_norm(context_, hidden, patches, weights_.post_layernorm, vision.rms_norm_eps, hidden);
  ops::linear(context_, hidden, tokens, merge_area * width, weights_.downsample,
              weights_.downsample_bias, scratch_.merged.data(), out);

  std::vector<float> embeddings(static_cast<size_t>(tokens * out));
  run_merger(tokens, embeddings.data());
  return embeddings;
}

// One vision block on scratch_.hidden [patches, width]:
// x + attention(norm1(x)), then x' + mlp(norm2(x')).
void Glm4vVisionModel::run_block(size_t index, int64_t patches) {
  const VisionConfig& vision = config_.vision;
  const VisionBlockWeights& block = weights_.blocks[index];
  const int64_t width = vision.hidden_size;
  const int64_t heads = vision.num_heads;
  const int64_t out = vision.out_hidden_size;
  const float eps = vision.rms_norm_eps;
  float* x = scratch_.hidden.data();
  float* normed = scratch_.normed.data();
  float* q = scratch_.qkv.data();
  float* k = q + width;
  float* v = k + width;
  float* projected = scratch_.projected.data();

  // norm1, then qkv: [patches, 3, heads, head_dim]
  ops::rms_norm(context_, x, patches, block.norm1, eps, normed);
  ops::linear(context_, normed, patches, width, block.qkv, block.qkv_bias, q, 3 * width);

  // 2D RoPE on q and k, then attention among all patches of the image: [patches, width]
  ops::apply_rope_rotate_half(context_, q, patches, 3 * width, heads, head_dim_,
                              scratch_.cos.data(), scratch_.sin.data());
  ops::apply_rope_rotate_half(context_, k, patches, 3 * width, heads, head_dim_,
                              scratch_.cos.data(), scratch_.sin.data());
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim_));
  ops::bidirectional_attention(context_, q, k, v, 3 * width, patches, heads, head_dim_, scale,
                               scratch_.attention.data());

  // proj (no bias), then the residual.
  ops::linear(context_, scratch_.attention.data(), patches, width, block.proj, Tensor(), projected,
              width);
  ops::add(context_, x, projected, patches * width);

  // norm2, then silu(gate) * up over out_hidden_size (not intermediate_size), then down.
  ops::rms_norm(context_, x, patches, block.norm2, eps, normed);
  ops::linear(context_, normed, patches, width, block.gate_up_proj, Tensor(),
              scratch_.gate_up.data(), 2 * out);
  ops::silu_mul(context_, scratch_.gate_up.data(), patches, out, scratch_.activated.data());
  ops::linear(context_, scratch_.activated.data(), patches, out, block.down_proj, Tensor(),
              projected, width);
  ops::add(context_, x, projected, patches * width);
}

// Glm4vVisionPatchMerger on scratch_.merged [tokens, out]: proj (no bias), LayerNorm, exact
// GELU, then silu(gate) * up over intermediate_size and down.
void Glm4vVisionModel::run_merger(int64_t tokens, float* result) {
  const VisionConfig& vision = config_.vision;
  const int64_t out = vision.out_hidden_size;
  const int64_t intermediate = vision.intermediate_size;
  float* merged = scratch_.merged.data();
  float* normed = scratch_.normed.data();  // [tokens, out]
  float* activated = scratch_.activated.data();

  ops::linear(context_, merged, tokens, out, weights_.merger_proj, Tensor(), normed, out);
  ops::layer_norm(context_, normed, tokens, weights_.merger_norm, weights_.merger_norm_bias,
                  kMergerNormEps, normed);
  ops::gelu_erf(context_, normed, tokens * out);
  ops::linear(context_, normed, tokens, out, weights_.merger_gate_up_proj, Tensor(),
              scratch_.gate_up.data(), 2 * intermediate);
  ops::silu_mul(context_, scratch_.gate_up.data(), tokens, intermediate, activated);
  ops::linear(context_, activated, tokens, intermediate, weights_.merger_down_proj, Tensor(),
              result, out);
}

std::string Glm4vVisionModel::describe() const {
  const VisionConfig& vision = config_.vision;
  return fmt::format(
      "vision tower: {} blocks, width {}, {} heads x {}, block MLP {}, merger {} -> {} -> {}, "
      "{:.1f}M parameters, {:.1f} MB of weights ({} linear layers), {} threads, SIMD {}",
      vision.depth, vision.hidden_size, vision.num_heads, head_dim_, vision.out_hidden_size,
      vision.out_hidden_size, vision.intermediate_size, vision.out_hidden_size,
      static_cast<double>(weights_.parameter_count) / 1e6,
      static_cast<double>(weights_.bytes) / 1e6,
      compute_type_ == ComputeType::kF32 ? "FP32" : "BF16", pool_->size(), context_.kernels().name);
}

}  // namespace

int32_t VisionModel::num_output_tokens(std::array<int32_t, 3> grid_thw) const {
  const int32_t merge = config().vision.spatial_merge_size;
  return grid_thw[0] * (grid_thw[1] / merge) * (grid_thw[2] / merge);
}

std::unique_ptr<VisionModel> VisionModel::load(const LoadOptions& options) {
  ModelConfig config = ModelConfig::load(options.model_dir);
  if (config.vision.depth == 0) {
    throw_error(ErrorKind::kBadModel,
                "{}: config.json has no vision_config, so this model cannot read images",
                options.model_dir.string());
  }
  if (config.vision.out_hidden_size != config.text.hidden_size) {
    throw_error(ErrorKind::kBadModel,
                "{}: vision_config.out_hidden_size {} differs from the text hidden_size {}; the "
                "vision output must replace token embeddings",
                options.model_dir.string(), config.vision.out_hidden_size, config.text.hidden_size);
  }

  const SimdLevel level = options.simd_level.value_or(best_simd_level());
  const cpu::Kernels& kernels = cpu::kernels_for(level);
  auto pool = std::make_unique<ThreadPool>(options.threads);

  VisionWeights weights;
  if (options.dummy_weights) {
    weights = dummy_vision_weights(config, options.compute_type, options.dummy_seed, *pool);
  } else {
    auto checkpoint = std::make_shared<const Checkpoint>(options.model_dir);
    weights = load_vision_weights(config, std::move(checkpoint), options.compute_type, *pool);
  }

  auto model = std::make_unique<Glm4vVisionModel>(std::move(config), options.compute_type,
                                                  std::move(pool), kernels, std::move(weights));
  log::info("loaded {}{}", model->describe(), options.dummy_weights ? " (dummy weights)" : "");
  return model;
}

}  // namespace glyph::model
