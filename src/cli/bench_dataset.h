// The prompts of glyph bench: --dataset-name random, random-ids and sharegpt,
// sampled as SGLang 0.5.6's bench_serving samples them.
//
// Request lengths are drawn exactly as bench_serving draws them, from the
// same numpy stream (see bench_random.h). Prompt text differs in one place:
// bench_serving's "random" dataset downloads ShareGPT when --dataset-path is
// not given. glyph bench never downloads, so "random" without a file builds
// its prompts from token ids the way "random-ids" does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/bench_backend.h"
#include "cli/bench_random.h"
#include "text/tokenizer.h"

namespace glyph::cli {

struct DatasetOptions {
  std::string name = "sharegpt";  // random, random-ids or sharegpt.
  std::string path;               // --dataset-path, or empty.
  int64_t num_prompts = 1000;
  int64_t random_input_len = 1024;
  int64_t random_output_len = 1024;
  double random_range_ratio = 0.0;
  std::optional<int64_t> sharegpt_output_len;   // Replaces the reply length when set.
  std::optional<int64_t> sharegpt_context_len;  // Drops pairs whose prompt + output exceed it.
  bool tokenize_prompt = false;                 // Keep prompts as token ids (sent as input_ids).
};

// One conversation's first user turn and first reply.
struct PromptPair {
  std::string prompt;
  std::string completion;
};

// bench_serving's compute_random_lens: `count` draws of
// np.random.randint(max(int(full_len * range_ratio), 1), full_len + 1).
std::vector<int64_t> sample_random_lengths(NumpyRandomState& random, int64_t full_len,
                                           double range_ratio, size_t count);

// Reads prompt pairs from --dataset-path. A JSON file is read as ShareGPT:
// a list of records whose "conversations" (or "conversation") list has at
// least two turns, each with a "value". Any other file is read as plain
// UTF-8 text whose paragraphs (blocks separated by blank lines) are prompts
// with an empty completion. Throws std::runtime_error naming the file.
std::vector<PromptPair> load_prompt_pairs(const std::string& path);

// The size of the tokenizer's base vocabulary without added tokens, which is
// what Hugging Face's tokenizer.vocab_size reports and what random-ids draws
// from. Read from model.vocab of tokenizer.json.
int32_t base_vocab_size(const std::string& tokenizer_json_path);

// Builds the benchmark's requests. Draws from `numpy_random` (lengths, then
// random-ids offsets) and `python_random` (the order of the prompt pairs) in
// bench_serving's order. Returns fewer than num_prompts requests when the
// dataset file runs out of usable prompts. Throws std::runtime_error for a
// missing or unusable dataset file.
std::vector<BenchRequest> sample_requests(const DatasetOptions& options,
                                          const text::Tokenizer& tokenizer, int32_t vocab_size,
                                          NumpyRandomState& numpy_random,
                                          PythonRandom& python_random);

}  // namespace glyph::cli
