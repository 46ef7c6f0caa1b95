// The glm4v text decoder as the engine sees it: load, then run batched
// forward passes over a paged KV cache.
//
// Batches are token-major: the new tokens of every running sequence are
// concatenated, and each sequence says where its tokens start in the batch,
// how many tokens of it are already in the KV cache, and which KV pages it
// owns. Prefill chunks and single-token decodes mix freely in one batch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "model/config.h"

namespace glyph::model {

enum class ComputeType { kF32, kBF16 };

struct LoadOptions {
  std::filesystem::path model_dir;
  ComputeType compute_type = ComputeType::kBF16;  // Weight storage for linear layers.
  bool dummy_weights = false;  // --load-format dummy: random weights from config.json alone.
  uint64_t dummy_seed = 0;
  int threads = 0;  // 0: every core.
  // Kernels to run; unset: the best the CPU supports. Lower levels exercise the fallbacks.
  std::optional<SimdLevel> simd_level;
};

// One sequence's part of a batch.
struct SequenceSlice {
  int32_t batch_offset = 0;   // Index of this sequence's first new token in the batch.
  int32_t num_tokens = 0;     // New tokens in this step (prompt chunk, or 1 when decoding).
  int32_t num_cached = 0;     // Tokens of this sequence already in the KV cache.
  std::span<const int32_t> kv_pages;  // Pages holding positions [0, num_cached + num_tokens).
  bool want_logits = true;    // Return logits for this sequence's last new token.
};

struct Batch {
  std::span<const int32_t> tokens;     // [num_tokens]
  std::span<const int32_t> positions;  // [num_tokens, 3]: M-RoPE (t, h, w) for each token.
  std::span<const SequenceSlice> sequences;
  // Empty, or one entry per token: a FP32 row of hidden_size values that replaces the token's
  // embedding (an image token's vision output), or nullptr to look the token up. Last, so that
  // Batch{tokens, positions, sequences} still builds a text-only batch.
  std::span<const float* const> input_embeddings = {};
};

class TextModel {
 public:
  virtual ~TextModel() = default;

  // Loads config.json and the weights (memory-mapped safetensors, or dummy).
  // Throws glyph::Error(kBadModel) naming the file, the tensor and the problem.
  static std::unique_ptr<TextModel> load(const LoadOptions& options);

  virtual const ModelConfig& config() const = 0;

  // Allocates the KV pool: num_pages pages of page_size tokens for every layer.
  virtual void allocate_kv_cache(int32_t num_pages, int32_t page_size) = 0;
  virtual int32_t kv_page_size() const = 0;
  virtual int32_t kv_num_pages() const = 0;
  // Bytes of KV cache one token takes across all layers.
  virtual size_t kv_bytes_per_token() const = 0;

  // Runs one step. Writes the new tokens' K and V into their pages and
  // returns FP32 logits [sequences with want_logits, vocab_size] into logits.
  virtual void forward(const Batch& batch, std::vector<float>& logits) = 0;

  // What was loaded, for the start-up log: parameter count, bytes, threads, SIMD level.
  virtual std::string describe() const = 0;
};

}  // namespace glyph::model
