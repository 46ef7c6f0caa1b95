#include "cli/bench_dataset.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace glyph::cli {

namespace {

using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("cannot open the dataset file {}", path));
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

bool looks_like_json(const std::string& content) {
  for (char c : content) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '[' || c == '{';
  }
  return false;
}

// The first two turns of every ShareGPT record that has at least two.
std::vector<PromptPair> parse_sharegpt(const std::string& content, const std::string& path) {
  const json records = json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (records.is_discarded() || !records.is_array()) {
    throw std::runtime_error(
        fmt::format("{} is not a ShareGPT file: expected a JSON list of conversations", path));
  }

  std::vector<PromptPair> pairs;
  for (const json& record : records) {
    if (!record.is_object()) continue;
    const json* turns = nullptr;
    if (record.contains("conversations")) {
      turns = &record["conversations"];
    } else if (record.contains("conversation")) {
      turns = &record["conversation"];
    }
    if (turns == nullptr || !turns->is_array() || turns->size() < 2) continue;

    const json& first = (*turns)[0];
    const json& second = (*turns)[1];
    if (!first.contains("value") || !second.contains("value") || !first["value"].is_string() ||
        !second["value"].is_string()) {
      throw std::runtime_error(
          fmt::format("{}: a conversation turn has no string \"value\"", path));
    }
    pairs.push_back({first["value"].get<std::string>(), second["value"].get<std::string>()});
  }
  return pairs;
}

// Paragraphs of a plain text file: runs of non-blank lines, joined by "\n".
std::vector<PromptPair> parse_paragraphs(const std::string& content) {
  std::vector<PromptPair> pairs;
  std::istringstream lines(content);
  std::string line;
  std::string paragraph;
  const auto flush = [&] {
    if (!paragraph.empty()) pairs.push_back({paragraph, ""});
    paragraph.clear();
  };

  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      flush();
      continue;
    }
    if (!paragraph.empty()) paragraph += '\n';
    paragraph += line;
  }
  flush();
  return pairs;
}

std::vector<int32_t> encode_or_throw(const text::Tokenizer& tokenizer, const std::string& text,
                                     const std::string& path) {
  try {
    return tokenizer.encode(text);
  } catch (const std::exception& error) {
    throw std::runtime_error(fmt::format("cannot tokenize a prompt of {}: {}", path, error.what()));
  }
}

BenchRequest make_request(const text::Tokenizer& tokenizer, std::vector<int32_t> ids,
                          int64_t prompt_len, int64_t output_len, bool tokenize_prompt) {
  BenchRequest request;
  request.prompt_len = prompt_len;
  request.output_len = output_len;
  if (tokenize_prompt) {
    request.prompt_ids = std::move(ids);
  } else {
    request.prompt = tokenizer.decode(ids, /*skip_special_tokens=*/false);
  }
  return request;
}

// random-ids: prompt i is the ids (offset_i + i + j) % vocab_size, j < input_len_i.
std::vector<BenchRequest> build_id_sequence_requests(const DatasetOptions& options,
                                                     const text::Tokenizer& tokenizer,
                                                     int32_t vocab_size,
                                                     const std::vector<int64_t>& input_lens,
                                                     const std::vector<int64_t>& output_lens,
                                                     NumpyRandomState& random) {
  const size_t count = input_lens.size();
  const std::vector<int64_t> offsets = random.randint(0, vocab_size, count);

  std::vector<BenchRequest> requests;
  requests.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::vector<int32_t> ids;
    ids.reserve(static_cast<size_t>(input_lens[i]));
    for (int64_t j = 0; j < input_lens[i]; ++j) {
      ids.push_back(static_cast<int32_t>((offsets[i] + static_cast<int64_t>(i) + j) % vocab_size));
    }
    requests.push_back(make_request(tokenizer, std::move(ids), input_lens[i], output_lens[i],
                                    options.tokenize_prompt));
  }
  return requests;
}

// random with a dataset file: each shuffled prompt's tokens, cut or repeated
// to the drawn input length.
std::vector<BenchRequest> build_resized_prompt_requests(const DatasetOptions& options,
                                                        const text::Tokenizer& tokenizer,
                                                        const std::vector<int64_t>& input_lens,
                                                        const std::vector<int64_t>& output_lens,
                                                        PythonRandom& random) {
  std::vector<PromptPair> pairs = load_prompt_pairs(options.path);
  random.shuffle(pairs);

  std::vector<BenchRequest> requests;
  for (const PromptPair& pair : pairs) {
    const size_t i = requests.size();
    if (i == input_lens.size()) break;

    const std::vector<int32_t> prompt_ids = encode_or_throw(tokenizer, pair.prompt, options.path);
    if (prompt_ids.empty()) continue;

    const size_t target = static_cast<size_t>(input_lens[i]);
    std::vector<int32_t> ids;
    ids.reserve(target);
    while (ids.size() < target) {
      const size_t take = std::min(prompt_ids.size(), target - ids.size());
      ids.insert(ids.end(), prompt_ids.begin(), prompt_ids.begin() + static_cast<ptrdiff_t>(take));
    }
    requests.push_back(make_request(tokenizer, std::move(ids), input_lens[i], output_lens[i],
                                    options.tokenize_prompt));
  }
  return requests;
}

std::vector<BenchRequest> sample_sharegpt_requests(const DatasetOptions& options,
                                                   const text::Tokenizer& tokenizer,
                                                   PythonRandom& random) {
  if (options.path.empty()) {
    throw std::runtime_error(
        "--dataset-name sharegpt needs --dataset-path: glyph bench does not download ShareGPT; "
        "pass the ShareGPT JSON file, or use --dataset-name random");
  }
  if (options.sharegpt_output_len && *options.sharegpt_output_len < 4) {
    throw std::runtime_error(fmt::format("--sharegpt-output-len {} is too small; use at least 4",
                                         *options.sharegpt_output_len));
  }

  const std::string content = read_file(options.path);
  if (!looks_like_json(content)) {
    throw std::runtime_error(fmt::format(
        "{} is not a ShareGPT JSON file; plain text files work with --dataset-name random",
        options.path));
  }
  std::vector<PromptPair> pairs = parse_sharegpt(content, options.path);
  random.shuffle(pairs);

  std::vector<BenchRequest> requests;
  for (const PromptPair& pair : pairs) {
    if (static_cast<int64_t>(requests.size()) == options.num_prompts) break;

    const int64_t prompt_len =
        static_cast<int64_t>(encode_or_throw(tokenizer, pair.prompt, options.path).size());
    const int64_t output_len =
        options.sharegpt_output_len
            ? *options.sharegpt_output_len
            : static_cast<int64_t>(
                  encode_or_throw(tokenizer, pair.completion, options.path).size());

    // bench_serving drops pairs that are too short, or too long for the context.
    if (prompt_len < 2 || output_len < 2) continue;
    if (options.sharegpt_context_len && prompt_len + output_len > *options.sharegpt_context_len) {
      continue;
    }

    BenchRequest request;
    request.prompt = pair.prompt;
    request.prompt_len = prompt_len;
    request.output_len = output_len;
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace

std::vector<int64_t> sample_random_lengths(NumpyRandomState& random, int64_t full_len,
                                           double range_ratio, size_t count) {
  // Python's int() truncates toward zero.
  const auto scaled = static_cast<int64_t>(std::trunc(static_cast<double>(full_len) * range_ratio));
  return random.randint(std::max<int64_t>(scaled, 1), full_len + 1, count);
}

std::vector<PromptPair> load_prompt_pairs(const std::string& path) {
  const std::string content = read_file(path);
  std::vector<PromptPair> pairs =
      looks_like_json(content) ? parse_sharegpt(content, path) : parse_paragraphs(content);
  if (pairs.empty()) {
    throw std::runtime_error(
        fmt::format("{} holds no prompt: expected a ShareGPT JSON list or "
                    "a text file with at least one paragraph",
                    path));
  }
  return pairs;
}

int32_t base_vocab_size(const std::string& tokenizer_json_path) {
  const json config = json::parse(read_file(tokenizer_json_path), nullptr, false);
  if (config.is_discarded() || !config.contains("model") || !config["model"].contains("vocab") ||
      !config["model"]["vocab"].is_object()) {
    throw std::runtime_error(fmt::format(
        "{} has no model.vocab object; expected a BPE tokenizer.json", tokenizer_json_path));
  }
  return static_cast<int32_t>(config["model"]["vocab"].size());
}

std::vector<BenchRequest> sample_requests(const DatasetOptions& options,
                                          const text::Tokenizer& tokenizer, int32_t vocab_size,
                                          NumpyRandomState& numpy_random,
                                          PythonRandom& python_random) {
  if (options.name == "sharegpt") {
    return sample_sharegpt_requests(options, tokenizer, python_random);
  }
  if (options.name != "random" && options.name != "random-ids") {
    throw std::runtime_error(fmt::format(
        "unknown --dataset-name \"{}\"; use random, random-ids or sharegpt", options.name));
  }

  const auto count = static_cast<size_t>(options.num_prompts);
  const std::vector<int64_t> input_lens = sample_random_lengths(
      numpy_random, options.random_input_len, options.random_range_ratio, count);
  const std::vector<int64_t> output_lens = sample_random_lengths(
      numpy_random, options.random_output_len, options.random_range_ratio, count);

  if (options.name == "random" && !options.path.empty()) {
    return build_resized_prompt_requests(options, tokenizer, input_lens, output_lens,
                                         python_random);
  }
  return build_id_sequence_requests(options, tokenizer, vocab_size, input_lens, output_lens,
                                    numpy_random);
}

}  // namespace glyph::cli
