// Test doubles for the engine: a model whose "KV cache" stores token ids and
// positions, and whose logits are a hash of everything it reads back through
// the page table. Any paging, prefix-sharing or batching mistake changes the
// logits, so generated tokens expose it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/text_model.h"
#include "text/tokenizer.h"

namespace glyph::engine::testing {

inline constexpr int32_t kFakeVocab = 64;
inline constexpr int32_t kFakeEos = 63;

class FakeModel : public model::TextModel {
 public:
  FakeModel() {
    config_.architecture = "Fake";
    config_.text.vocab_size = kFakeVocab;
    config_.text.hidden_size = 1;  // Prompt embedding rows hold one value.
    config_.text.max_position_embeddings = 4096;
    config_.generation.eos_token_ids = {kFakeEos};
  }

  const model::ModelConfig& config() const override { return config_; }

  void allocate_kv_cache(int32_t num_pages, int32_t page_size) override {
    page_size_ = page_size;
    num_pages_ = num_pages;
    slots_.assign(static_cast<size_t>(num_pages) * page_size, Slot{});
  }
  int32_t kv_page_size() const override { return page_size_; }
  int32_t kv_num_pages() const override { return num_pages_; }
  size_t kv_bytes_per_token() const override { return 1024; }

  void forward(const model::Batch& batch, std::vector<float>& logits) override {
    ++forward_calls;
    logits.clear();
    for (const model::SequenceSlice& sequence : batch.sequences) {
      for (int32_t i = 0; i < sequence.num_tokens; ++i) {
        const int32_t position = sequence.num_cached + i;
        const int32_t index = sequence.batch_offset + i;
        const std::array<int32_t, 3> rope{batch.positions[index * 3],
                                          batch.positions[index * 3 + 1],
                                          batch.positions[index * 3 + 2]};
        GLYPH_CHECK(!text_positions_only || rope == (std::array<int32_t, 3>{position, position,
                                                                             position}),
                    "position {} sent as ({}, {}, {})", position, rope[0], rope[1], rope[2]);
        const float* row = batch.input_embeddings.empty() ? nullptr : batch.input_embeddings[index];
        seen.push_back({position, rope, row});
        Slot& slot = slot_at(sequence, position);
        slot.token = batch.tokens[index];
        slot.position = position;
        slot.rope = rope;
        slot.embedded = row ? row[0] : 0.0f;
      }
      if (!sequence.want_logits) continue;
      // Read the whole context back through the page table.
      uint64_t hash = 1469598103934665603ull;
      const int32_t length = sequence.num_cached + sequence.num_tokens;
      for (int32_t position = 0; position < length; ++position) {
        const Slot& slot = slot_at(sequence, position);
        GLYPH_CHECK(slot.position == position, "slot for position {} holds position {}", position,
                    slot.position);
        hash = (hash ^ static_cast<uint32_t>(slot.token)) * 1099511628211ull;
        for (const int32_t component : slot.rope) {
          hash = (hash ^ static_cast<uint32_t>(component)) * 1099511628211ull;
        }
        hash = (hash ^ static_cast<uint32_t>(slot.embedded * 1000.0f)) * 1099511628211ull;
      }
      for (int32_t v = 0; v < kFakeVocab; ++v) {
        uint64_t mixed = (hash ^ static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ull);
        mixed ^= mixed >> 29;
        mixed *= 0xBF58476D1CE4E5B9ull;
        mixed ^= mixed >> 32;
        // Eos is unlikely, so replies run to max_new_tokens unless a test wants otherwise.
        float value = static_cast<float>(mixed % 1000) / 100.0f;
        if (v == kFakeEos) value -= eos_bias;
        logits.push_back(value);
      }
    }
  }

  std::string describe() const override { return "fake model"; }

  int forward_calls = 0;
  float eos_bias = 100.0f;
  // Text prompts only: every token's three M-RoPE components equal its index.
  bool text_positions_only = true;

  // Every token the model was given, in order.
  struct SeenToken {
    int32_t index = 0;  // Position in its sequence.
    std::array<int32_t, 3> rope{};
    const float* embedding = nullptr;
  };
  std::vector<SeenToken> seen;

 private:
  struct Slot {
    int32_t token = -1;
    int32_t position = -1;
    std::array<int32_t, 3> rope{};
    float embedded = 0.0f;
  };
  Slot& slot_at(const model::SequenceSlice& sequence, int32_t position) {
    const int32_t page = sequence.kv_pages[position / page_size_];
    return slots_[static_cast<size_t>(page) * page_size_ + position % page_size_];
  }

  model::ModelConfig config_;
  int32_t page_size_ = 0;
  int32_t num_pages_ = 0;
  std::vector<Slot> slots_;
};

// Token id i decodes to the letter 'a' + i % 26, and ids 60-63 are special.
class FakeTokenizer : public text::Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    for (char c : text) ids.push_back(c - 'a');
    return ids;
  }
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override {
    std::string text;
    for (int32_t id : ids) {
      if (!(skip_special_tokens && is_special(id))) text += token_bytes(id);
    }
    return text;
  }
  std::string token_bytes(int32_t id) const override {
    return is_special(id) ? "<s" + std::to_string(id) + ">"
                          : std::string(1, static_cast<char>('a' + id % 26));
  }
  bool is_special(int32_t id) const override { return id >= 60; }
  std::optional<int32_t> token_to_id(std::string_view token) const override {
    return std::nullopt;
  }
  int32_t vocab_size() const override { return kFakeVocab; }
};

}  // namespace glyph::engine::testing
