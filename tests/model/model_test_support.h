// Helpers shared by the model tests: temporary model directories, a safetensors writer, the
// reference fixtures written by tools/make_tiny_model.py, and a small greedy-decoding loop
// that drives TextModel the way the engine does (paged KV, chunked prefill, several
// sequences per batch).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model/safetensors.h"
#include "model/text_model.h"

namespace glyph::model::testing {

inline std::filesystem::path data_dir() { return GLYPH_TEST_DATA_DIR; }
inline std::filesystem::path tiny_model_dir() { return data_dir() / "tiny-glyph"; }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A directory under the system temporary directory, removed with its contents.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("glyph_model_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path_); }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One tensor to write: raw little-endian bytes plus its header fields.
struct TensorRecord {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

// Writes a safetensors file: 8-byte header length, JSON header, then the tensors' bytes in
// order. header_override, when set, replaces the JSON text as written.
inline void write_safetensors(const std::filesystem::path& path,
                              const std::vector<TensorRecord>& tensors,
                              const std::string* header_override = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TensorRecord& tensor : tensors) {
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + tensor.data.size()}}};
    offset += tensor.data.size();
  }
  std::string text = header_override != nullptr ? *header_override : header.dump();
  while (text.size() % 8 != 0) text += ' ';  // The Python writer pads the header the same way.

  std::ofstream stream(path, std::ios::binary);
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) stream.put(static_cast<char>((length >> (8 * i)) & 0xff));
  stream << text;
  for (const TensorRecord& tensor : tensors) {
    stream.write(reinterpret_cast<const char*>(tensor.data.data()),
                 static_cast<std::streamsize>(tensor.data.size()));
  }
}

// Every tensor of a safetensors file, in name order, for rewriting with changes.
inline std::vector<TensorRecord> read_records(const std::filesystem::path& path) {
  SafetensorsFile file(path);
  std::vector<TensorRecord> records;
  for (const auto& [name, entry] : file.entries()) {
    Tensor view = file.view(name, entry);
    const auto* bytes = static_cast<const uint8_t*>(view.data);
    records.push_back({name, entry.dtype_name, entry.shape,
                       std::vector<uint8_t>(bytes, bytes + (entry.end - entry.begin))});
  }
  return records;
}

// A copy of the tiny model's JSON files (not its weights) in a temporary directory.
inline void copy_model_json(const std::filesystem::path& destination) {
  for (const char* name : {"config.json", "generation_config.json"}) {
    std::filesystem::copy_file(tiny_model_dir() / name, destination / name);
  }
}

// One prompt of tests/data/fixtures/model_logits.json.
struct FixturePrompt {
  std::string name;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> positions;  // [tokens, 3]
  std::vector<float> logits;       // Last-position logits after the prompt.
  float max_abs_logit = 0.0f;
  std::vector<int32_t> greedy_ids;
  std::vector<float> greedy_top2_gaps;
};

inline std::vector<FixturePrompt> load_fixture_prompts() {
  const auto fixture_dir = data_dir() / "fixtures";
  auto index = nlohmann::json::parse(read_text(fixture_dir / "model_logits.json"));
  const int64_t vocab = index["vocab_size"].get<int64_t>();
  const std::string raw = read_text(fixture_dir / "model_logits.bin");

  std::vector<FixturePrompt> prompts;
  for (const auto& entry : index["prompts"]) {
    FixturePrompt prompt;
    prompt.name = entry["name"].get<std::string>();
    prompt.prompt_ids = entry["prompt_ids"].get<std::vector<int32_t>>();
    for (const auto& position : entry["positions"]) {
      for (const auto& component : position) prompt.positions.push_back(component.get<int32_t>());
    }
    const auto row = entry["logits_row"].get<int64_t>();
    prompt.logits.resize(static_cast<size_t>(vocab));
    std::memcpy(prompt.logits.data(), raw.data() + row * vocab * 4, static_cast<size_t>(vocab) * 4);
    prompt.max_abs_logit = entry["max_abs_logit"].get<float>();
    prompt.greedy_ids = entry["greedy_ids"].get<std::vector<int32_t>>();
    prompt.greedy_top2_gaps = entry["greedy_top2_gaps"].get<std::vector<float>>();
    prompts.push_back(std::move(prompt));
  }
  return prompts;
}

// The lowest index of the maximum, as torch.argmax.
inline int32_t argmax(const float* values, int64_t count) {
  return static_cast<int32_t>(std::max_element(values, values + count) - values);
}

struct GreedyRequest {
  std::vector<int32_t> prompt;
  std::vector<int32_t> positions;  // [prompt tokens, 3]
  int32_t steps = 32;              // Tokens to generate.
  int32_t first_iteration = 0;     // Loop iteration at which the request joins.
  // When set, token i fed back is forced[i] instead of the model's own choice (teacher
  // forcing), so every step can be compared with a reference even after a divergence.
  std::vector<int32_t> forced;
};

struct GreedyResult {
  std::vector<int32_t> tokens;       // The model's argmax at each step.
  std::vector<float> prompt_logits;  // Logits after the last prompt token.
  // With forced tokens: at each step, the maximum logit minus the forced token's logit.
  std::vector<float> forced_margins;
  // A hash of the bits of each step's logits, to compare whole runs bit for bit.
  std::vector<uint64_t> logit_hashes;
};

// FNV-1a over 32-bit words rather than bytes: four times faster, and as good at telling two
// logit vectors apart.
inline uint64_t hash_bits(const float* values, int64_t count) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof(bits));
    hash = (hash ^ bits) * 0x100000001b3ull;
  }
  return hash;
}

struct GreedyOptions {
  int32_t page_size = 16;
  int32_t chunk = 0;  // Prefill tokens per step and sequence; 0: the whole prompt at once.
};

// Runs all requests to completion, batching every active sequence into each forward pass:
// prefill chunks and single-token decodes mix freely. KV pages come from one shared free list
// as sequences grow, so the pages of concurrent sequences interleave.
inline std::vector<GreedyResult> run_greedy(TextModel& model,
                                            const std::vector<GreedyRequest>& requests,
                                            const GreedyOptions& options) {
  struct State {
    int32_t cached = 0;
    std::vector<int32_t> pages;
    std::vector<int32_t> fed;  // Generated tokens already fed back.
    int32_t next_position = 0;
    bool done = false;
  };
  int32_t total_tokens = 0;
  for (const GreedyRequest& request : requests) {
    total_tokens += static_cast<int32_t>(request.prompt.size()) + request.steps;
  }
  const int32_t pages_needed = total_tokens / options.page_size + static_cast<int32_t>(requests.size()) + 1;
  model.allocate_kv_cache(pages_needed, options.page_size);
  std::vector<int32_t> free_pages;
  for (int32_t page = pages_needed - 1; page >= 0; --page) free_pages.push_back(page);

  std::vector<State> states(requests.size());
  std::vector<GreedyResult> results(requests.size());
  const int64_t vocab = model.config().text.vocab_size;
  std::vector<float> logits;

  for (int32_t iteration = 0;; ++iteration) {
    std::vector<int32_t> tokens;
    std::vector<int32_t> positions;
    std::vector<SequenceSlice> slices;
    std::vector<size_t> owners;
    for (size_t r = 0; r < requests.size(); ++r) {
      const GreedyRequest& request = requests[r];
      State& state = states[r];
      if (state.done || iteration < request.first_iteration) continue;

      SequenceSlice slice;
      slice.batch_offset = static_cast<int32_t>(tokens.size());
      slice.num_cached = state.cached;
      const auto prompt_size = static_cast<int32_t>(request.prompt.size());
      if (state.cached < prompt_size) {
        const int32_t remaining = prompt_size - state.cached;
        slice.num_tokens = options.chunk > 0 ? std::min(options.chunk, remaining) : remaining;
        for (int32_t i = 0; i < slice.num_tokens; ++i) {
          const int32_t index = state.cached + i;
          tokens.push_back(request.prompt[static_cast<size_t>(index)]);
          for (int c = 0; c < 3; ++c) {
            positions.push_back(request.positions[static_cast<size_t>(index * 3 + c)]);
          }
        }
        slice.want_logits = state.cached + slice.num_tokens == prompt_size;
        if (slice.want_logits) {
          int32_t last = 0;
          for (int32_t value : request.positions) last = std::max(last, value);
          state.next_position = last + 1;
        }
      } else {
        // Decode: feed back the previous step's token at the next position on all components.
        const size_t step = state.fed.size();
        const int32_t token = request.forced.empty() ? results[r].tokens[step] : request.forced[step];
        slice.num_tokens = 1;
        slice.want_logits = true;
        tokens.push_back(token);
        for (int c = 0; c < 3; ++c) positions.push_back(state.next_position);
        state.fed.push_back(token);
        ++state.next_position;
      }
      while (static_cast<int32_t>(state.pages.size()) * options.page_size <
             state.cached + slice.num_tokens) {
        state.pages.push_back(free_pages.back());
        free_pages.pop_back();
      }
      slices.push_back(slice);
      owners.push_back(r);
    }
    if (slices.empty()) break;

    // Page spans point into states, which no longer change during this step.
    for (size_t i = 0; i < slices.size(); ++i) slices[i].kv_pages = states[owners[i]].pages;
    Batch batch{tokens, positions, slices};
    model.forward(batch, logits);

    size_t row = 0;
    for (size_t i = 0; i < slices.size(); ++i) {
      const size_t r = owners[i];
      State& state = states[r];
      state.cached += slices[i].num_tokens;
      if (!slices[i].want_logits) continue;
      const float* values = logits.data() + static_cast<int64_t>(row++) * vocab;
      if (results[r].tokens.empty()) results[r].prompt_logits.assign(values, values + vocab);
      results[r].logit_hashes.push_back(hash_bits(values, vocab));
      const int32_t best = argmax(values, vocab);
      if (!requests[r].forced.empty()) {
        const int32_t forced = requests[r].forced[results[r].tokens.size()];
        results[r].forced_margins.push_back(values[best] - values[forced]);
      }
      results[r].tokens.push_back(best);
      if (static_cast<int32_t>(results[r].tokens.size()) == requests[r].steps) state.done = true;
    }
  }
  return results;
}

inline GreedyRequest request_for(const FixturePrompt& prompt) {
  GreedyRequest request;
  request.prompt = prompt.prompt_ids;
  request.positions = prompt.positions;
  request.steps = static_cast<int32_t>(prompt.greedy_ids.size());
  return request;
}

// max |a - b| over all entries.
inline float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float result = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) result = std::max(result, std::abs(a[i] - b[i]));
  return result;
}

}  // namespace glyph::model::testing
