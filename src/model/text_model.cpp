// The glm4v text decoder (GLM-4-0414 layers with sandwich norms) over ops, following
// transformers' Glm4vTextModel (models/glm4v/modeling_glm4v.py, 4.57).
#include "model/text_model.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "backend/cpu/kernels.h"
#include "core/error.h"
#include "core/host_buffer.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "model/safetensors.h"
#include "model/text_weights.h"
#include "ops/attention.h"
#include "ops/ops.h"
#include "ops/rope.h"

namespace glyph::model {

namespace {

constexpr const char* kArchitecture = "Glm4vForConditionalGeneration";

// Activations of one step, grown to the largest batch seen and reused.
struct Scratch {
  std::vector<float> hidden;     // [tokens, hidden]: the residual stream.
  std::vector<float> normed;     // [tokens, hidden]
  std::vector<float> qkv;        // [tokens, (heads + 2 * kv_heads) * head_dim]
  std::vector<float> attention;  // [tokens, heads * head_dim]
  std::vector<float> projected;  // [tokens, hidden]
  std::vector<float> gate_up;    // [tokens, 2 * intermediate]
  std::vector<float> activated;  // [tokens, intermediate]
  std::vector<float> cos;        // [tokens, rotary_dim / 2]
  std::vector<float> sin;
  std::vector<float> last;       // [sequences with logits, hidden]
  std::vector<ops::AttentionSequence> sequences;
};

void grow(std::vector<float>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
}

std::string human_bytes(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.2f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.1f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

std::string human_count(double count) {
  if (count >= 1e9) return fmt::format("{:.2f}B", count / 1e9);
  if (count >= 1e6) return fmt::format("{:.1f}M", count / 1e6);
  return fmt::format("{:.0f}k", count / 1e3);
}

class Glm4vTextModel final : public TextModel {
 public:
  Glm4vTextModel(ModelConfig config, ComputeType compute_type, std::unique_ptr<ThreadPool> pool,
                 const cpu::Kernels& kernels, TextWeights weights)
      : config_(std::move(config)),
        compute_type_(compute_type),
        pool_(std::move(pool)),
        context_(*pool_, kernels),
        weights_(std::move(weights)),
        rope_(config_.text.rotary_dim(), config_.text.rope_theta, config_.text.mrope_section) {}

  const ModelConfig& config() const override { return config_; }

  void allocate_kv_cache(int32_t num_pages, int32_t page_size) override;
  int32_t kv_page_size() const override { return page_size_; }
  int32_t kv_num_pages() const override { return num_pages_; }
  size_t kv_bytes_per_token() const override;

  void forward(const Batch& batch, std::vector<float>& logits) override;

  std::string describe() const override;

 private:
  DType kv_dtype() const { return compute_type_ == ComputeType::kF32 ? DType::kF32 : DType::kBF16; }
  void check_batch(const Batch& batch) const;
  void run_layer(size_t index, int64_t tokens);

  ModelConfig config_;
  ComputeType compute_type_;
  std::unique_ptr<ThreadPool> pool_;
  ops::Context context_;
  TextWeights weights_;
  ops::MropeTable rope_;

  int32_t page_size_ = 0;
  int32_t num_pages_ = 0;
  HostBuffer kv_storage_;
  std::vector<ops::PagedKv> kv_layers_;

  Scratch scratch_;
};

void Glm4vTextModel::allocate_kv_cache(int32_t num_pages, int32_t page_size) {
  if (num_pages <= 0 || page_size <= 0) {
    throw_error(ErrorKind::kInvalidRequest,
                "KV cache needs a positive page count and page size, got {} pages of {} tokens",
                num_pages, page_size);
  }
  const TextConfig& text = config_.text;
  const size_t per_layer_side = static_cast<size_t>(num_pages) * static_cast<size_t>(page_size) *
                                static_cast<size_t>(text.num_key_value_heads) *
                                static_cast<size_t>(text.head_dim) * dtype_size(kv_dtype());
  kv_layers_.clear();
  kv_storage_ = HostBuffer(per_layer_side * 2 * static_cast<size_t>(text.num_hidden_layers));
  auto* base = static_cast<uint8_t*>(kv_storage_.data());
  for (int32_t layer = 0; layer < text.num_hidden_layers; ++layer) {
    ops::PagedKv cache;
    cache.k = base + per_layer_side * (2 * static_cast<size_t>(layer));
    cache.v = base + per_layer_side * (2 * static_cast<size_t>(layer) + 1);
    cache.dtype = kv_dtype();
    cache.num_pages = num_pages;
    cache.page_size = page_size;
    cache.kv_heads = text.num_key_value_heads;
    cache.head_dim = text.head_dim;
    kv_layers_.push_back(cache);
  }
  num_pages_ = num_pages;
  page_size_ = page_size;
  log::debug("KV cache: {} pages of {} tokens ({} tokens), {} in {}", num_pages, page_size,
            int64_t{num_pages} * page_size, human_bytes(static_cast<double>(kv_storage_.size())),
            dtype_name(kv_dtype()));
}

size_t Glm4vTextModel::kv_bytes_per_token() const {
  const TextConfig& text = config_.text;
  return 2 * static_cast<size_t>(text.num_hidden_layers) *
         static_cast<size_t>(text.num_key_value_heads) * static_cast<size_t>(text.head_dim) *
         dtype_size(kv_dtype());
}

// The engine builds batches; a malformed one is a glyph bug, so these are internal checks.
void Glm4vTextModel::check_batch(const Batch& batch) const {
  GLYPH_CHECK(!kv_layers_.empty(), "forward called before allocate_kv_cache");
  const auto tokens = static_cast<int64_t>(batch.tokens.size());
  GLYPH_CHECK(static_cast<int64_t>(batch.positions.size()) == tokens * 3,
              "{} positions for {} tokens; each token needs (t, h, w)", batch.positions.size(),
              tokens);
  GLYPH_CHECK(batch.input_embeddings.empty() ||
                  static_cast<int64_t>(batch.input_embeddings.size()) == tokens,
              "{} input embeddings for {} tokens; give one per token or none",
              batch.input_embeddings.size(), tokens);
  std::vector<bool> covered(static_cast<size_t>(tokens), false);
  for (const SequenceSlice& sequence : batch.sequences) {
    GLYPH_CHECK(sequence.num_tokens > 0 && sequence.batch_offset >= 0 &&
                    sequence.batch_offset + sequence.num_tokens <= tokens,
                "sequence tokens [{}, {}) outside the batch of {}", sequence.batch_offset,
                sequence.batch_offset + sequence.num_tokens, tokens);
    const int64_t needed = sequence.num_cached + sequence.num_tokens;
    GLYPH_CHECK(static_cast<int64_t>(sequence.kv_pages.size()) * page_size_ >= needed,
                "{} KV pages of {} tokens cannot hold {} positions", sequence.kv_pages.size(),
                page_size_, needed);
    for (int32_t i = 0; i < sequence.num_tokens; ++i) {
      const auto index = static_cast<size_t>(sequence.batch_offset + i);
      GLYPH_CHECK(!covered[index], "batch token {} belongs to two sequences", index);
      covered[index] = true;
    }
  }
  GLYPH_CHECK(std::all_of(covered.begin(), covered.end(), [](bool value) { return value; }),
              "some batch tokens belong to no sequence");
}

void Glm4vTextModel::forward(const Batch& batch, std::vector<float>& logits) {
  check_batch(batch);
  const TextConfig& text = config_.text;
  const auto tokens = static_cast<int64_t>(batch.tokens.size());
  const int64_t hidden = text.hidden_size;
  const int64_t q_width = int64_t{text.num_attention_heads} * text.head_dim;
  const int64_t kv_width = int64_t{text.num_key_value_heads} * text.head_dim;

  grow(scratch_.hidden, tokens * hidden);
  grow(scratch_.normed, tokens * hidden);
  grow(scratch_.qkv, tokens * (q_width + 2 * kv_width));
  grow(scratch_.attention, tokens * q_width);
  grow(scratch_.projected, tokens * hidden);
  grow(scratch_.gate_up, tokens * 2 * text.intermediate_size);
  grow(scratch_.activated, tokens * text.intermediate_size);
  scratch_.sequences.clear();
  for (const SequenceSlice& sequence : batch.sequences) {
    scratch_.sequences.push_back({sequence.batch_offset, sequence.num_tokens, sequence.num_cached,
                                  sequence.kv_pages});
  }

  // M-RoPE angles for every new token, shared by all layers: [tokens, rotary_dim / 2].
  rope_.compute(batch.positions, scratch_.cos, scratch_.sin);

  // Token embeddings: [tokens, hidden].
  ops::embedding(context_, weights_.embed_tokens, batch.tokens, scratch_.hidden.data());
  // Rows given as input embeddings (image tokens' vision output) replace the lookup.
  for (size_t t = 0; t < batch.input_embeddings.size(); ++t) {
    const float* row = batch.input_embeddings[t];
    if (row == nullptr) continue;
    std::copy_n(row, hidden, scratch_.hidden.data() + static_cast<int64_t>(t) * hidden);
  }

  for (size_t layer = 0; layer < weights_.layers.size(); ++layer) run_layer(layer, tokens);

  // Final norm and lm_head, only for the last new token of sequences that want logits.
  std::vector<int64_t> rows;
  for (const SequenceSlice& sequence : batch.sequences) {
    if (sequence.want_logits) rows.push_back(sequence.batch_offset + sequence.num_tokens - 1);
  }
  const auto count = static_cast<int64_t>(rows.size());
  grow(scratch_.last, count * hidden);
  for (int64_t i = 0; i < count; ++i) {
    std::copy_n(scratch_.hidden.data() + rows[static_cast<size_t>(i)] * hidden, hidden,
                scratch_.last.data() + i * hidden);
  }
  ops::rms_norm(context_, scratch_.last.data(), count, weights_.norm, text.rms_norm_eps,
                scratch_.last.data());
  logits.resize(static_cast<size_t>(count * text.vocab_size));
  ops::linear(context_, scratch_.last.data(), count, hidden, weights_.lm_head, Tensor(),
              logits.data(), text.vocab_size);
}

// One decoder layer on the residual stream scratch_.hidden [tokens, hidden]:
// x + post_mlp_norm(mlp(post_attention_norm(x'))) where
// x' = x + post_self_attn_norm(attention(input_norm(x))).
void Glm4vTextModel::run_layer(size_t index, int64_t tokens) {
  const TextConfig& text = config_.text;
  const LayerWeights& layer = weights_.layers[index];
  const ops::PagedKv& cache = kv_layers_[index];
  const int64_t hidden = text.hidden_size;
  const int64_t heads = text.num_attention_heads;
  const int64_t kv_heads = text.num_key_value_heads;
  const int64_t head_dim = text.head_dim;
  const int64_t q_width = heads * head_dim;
  const int64_t qkv_width = (heads + 2 * kv_heads) * head_dim;
  const int64_t intermediate = text.intermediate_size;
  const float eps = text.rms_norm_eps;
  float* x = scratch_.hidden.data();
  float* normed = scratch_.normed.data();
  float* qkv = scratch_.qkv.data();
  float* q = qkv;
  float* k = qkv + q_width;
  float* v = k + kv_heads * head_dim;
  float* attention = scratch_.attention.data();
  float* projected = scratch_.projected.data();

  // input_layernorm: [tokens, hidden]
  ops::rms_norm(context_, x, tokens, layer.input_layernorm, eps, normed);

  // q, k, v projections with bias, fused: [tokens, heads + 2 * kv_heads, head_dim]
  ops::linear(context_, normed, tokens, hidden, layer.qkv_proj, layer.qkv_bias, qkv, qkv_width);

  // Interleaved partial M-RoPE on q and k.
  ops::apply_rope_interleaved(context_, q, tokens, qkv_width, heads, head_dim, rope_.rotary_dim(),
                              scratch_.cos.data(), scratch_.sin.data());
  ops::apply_rope_interleaved(context_, k, tokens, qkv_width, kv_heads, head_dim,
                              rope_.rotary_dim(), scratch_.cos.data(), scratch_.sin.data());

  // Store this step's K and V in the sequences' pages, then attend: [tokens, heads, head_dim]
  ops::write_kv(context_, cache, k, v, qkv_width, scratch_.sequences);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  ops::paged_attention(context_, q, qkv_width, heads, cache, scratch_.sequences, scale, attention);

  // o_proj (no bias): [tokens, hidden]
  ops::linear(context_, attention, tokens, q_width, layer.o_proj, Tensor(), projected, hidden);

  // post_self_attn_layernorm, then the residual.
  ops::rms_norm(context_, projected, tokens, layer.post_self_attn_layernorm, eps, projected);
  ops::add(context_, x, projected, tokens * hidden);

  // post_attention_layernorm: [tokens, hidden]
  ops::rms_norm(context_, x, tokens, layer.post_attention_layernorm, eps, normed);

  // gate_up_proj: [tokens, 2 * intermediate], then silu(gate) * up: [tokens, intermediate]
  ops::linear(context_, normed, tokens, hidden, layer.gate_up_proj, Tensor(),
              scratch_.gate_up.data(), 2 * intermediate);
  ops::silu_mul(context_, scratch_.gate_up.data(), tokens, intermediate, scratch_.activated.data());

  // down_proj: [tokens, hidden]
  ops::linear(context_, scratch_.activated.data(), tokens, intermediate, layer.down_proj, Tensor(),
              projected, hidden);

  // post_mlp_layernorm, then the residual.
  ops::rms_norm(context_, projected, tokens, layer.post_mlp_layernorm, eps, projected);
  ops::add(context_, x, projected, tokens * hidden);
}

std::string Glm4vTextModel::describe() const {
  const TextConfig& text = config_.text;
  return fmt::format(
      "{} text decoder: {} layers, hidden {}, {} heads / {} KV heads x {}, {} parameters, {} of "
      "weights ({} linear layers), KV cache {} ({} per token), {} threads, SIMD {}",
      config_.architecture.empty() ? kArchitecture : config_.architecture, text.num_hidden_layers,
      text.hidden_size, text.num_attention_heads, text.num_key_value_heads, text.head_dim,
      human_count(static_cast<double>(weights_.parameter_count)),
      human_bytes(static_cast<double>(weights_.bytes)),
      compute_type_ == ComputeType::kF32 ? "FP32" : "BF16", dtype_name(kv_dtype()),
      human_bytes(static_cast<double>(kv_bytes_per_token())), pool_->size(),
      context_.kernels().name);
}

}  // namespace

std::unique_ptr<TextModel> TextModel::load(const LoadOptions& options) {
  ModelConfig config = ModelConfig::load(options.model_dir);
  if (!config.architecture.empty() && config.architecture != kArchitecture) {
    throw_error(ErrorKind::kBadModel,
                "config.json: architecture {} is not supported; glyph runs {} models",
                config.architecture, kArchitecture);
  }

  const SimdLevel level = options.simd_level.value_or(best_simd_level());
  const cpu::Kernels& kernels = cpu::kernels_for(level);
  auto pool = std::make_unique<ThreadPool>(options.threads);

  TextWeights weights;
  if (options.dummy_weights) {
    weights = dummy_text_weights(config, options.compute_type, options.dummy_seed, *pool);
  } else {
    auto checkpoint = std::make_shared<const Checkpoint>(options.model_dir);
    check_vision_weights(config, *checkpoint);
    weights = load_text_weights(config, std::move(checkpoint), options.compute_type, *pool);
  }

  auto model = std::make_unique<Glm4vTextModel>(std::move(config), options.compute_type,
                                                std::move(pool), kernels, std::move(weights));
  log::info("loaded {}{}", model->describe(), options.dummy_weights ? " (dummy weights)" : "");
  return model;
}

}  // namespace glyph::model
