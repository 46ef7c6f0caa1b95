#include "cli/eval_gsm8k.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/bench_progress_bar.h"
#include "cli/http_client.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace glyph::cli {

namespace {

using nlohmann::json;

// Python's compiler rejects longer decimal literals (sys.int_info.default_max_str_digits).
constexpr size_t kMaxLiteralDigits = 4300;

// SGLang's program caches the shared few-shot prefix first, when it is longer than this.
constexpr size_t kMinCachedPrefixChars = 64;

// The reply to one question.
struct QuestionResult {
  std::string reply;
  int64_t completion_tokens = 0;
  std::string error;  // Empty on success.
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

size_t count_code_points(std::string_view text) {
  size_t count = 0;
  for (char byte : text) {
    if ((static_cast<unsigned char>(byte) & 0xc0) != 0x80) ++count;
  }
  return count;
}

std::string base_url_of(const Gsm8kOptions& options) {
  return fmt::format("{}:{}", options.host, options.port);
}

QuestionResult ask(const HttpClient& client, const std::string& prompt,
                   const Gsm8kOptions& options) {
  QuestionResult result;
  try {
    const HttpResponse response = client.post_json(
        "/generate", build_gsm8k_request_body(prompt, options.max_new_tokens, options.temperature));
    if (response.status != 200) {
      result.error = fmt::format("HTTP {} {}: {}", response.status, response.reason, response.body);
      return result;
    }
    const json reply = json::parse(response.body);
    result.reply = reply.at("text").get<std::string>();
    result.completion_tokens = reply.at("meta_info").at("completion_tokens").get<int64_t>();
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  return result;
}

// Asks every prompt with at most `parallel` requests in flight.
std::vector<QuestionResult> ask_all(const HttpClient& client,
                                    const std::vector<std::string>& prompts,
                                    const Gsm8kOptions& options) {
  std::vector<QuestionResult> results(prompts.size());
  std::atomic<size_t> next{0};
  ProgressBar progress(static_cast<int64_t>(prompts.size()), !options.disable_tqdm);

  const auto worker = [&] {
    for (size_t i = next++; i < prompts.size(); i = next++) {
      results[i] = ask(client, prompts[i], options);
      progress.advance();
    }
  };
  const size_t thread_count =
      std::min(prompts.size(), static_cast<size_t>(std::max<int64_t>(options.parallel, 1)));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < thread_count; ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  progress.close();
  return results;
}

json answer_json(const std::optional<std::string>& value) {
  if (!value) return nullptr;
  if (value->size() <= 18) return std::stoll(*value);
  return *value;
}

void write_verdicts(const std::string& path, const std::vector<Gsm8kExample>& examples,
                    const std::vector<std::string>& prompts,
                    const std::vector<QuestionResult>& results,
                    const std::vector<std::optional<std::string>>& labels,
                    const std::vector<std::optional<std::string>>& predictions) {
  std::ofstream file(path);
  if (!file) throw std::runtime_error(fmt::format("cannot open the output file {}", path));
  for (size_t i = 0; i < results.size(); ++i) {
    json record;
    record["index"] = i;
    record["question"] = examples[i].question;
    record["prompt"] = prompts[i];
    record["reply"] = results[i].reply;
    record["completion_tokens"] = results[i].completion_tokens;
    record["label"] = answer_json(labels[i]);
    record["prediction"] = answer_json(predictions[i]);
    record["correct"] = predictions[i].has_value() && predictions[i] == labels[i];
    record["error"] = results[i].error.empty() ? json(nullptr) : json(results[i].error);
    file << record.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
}

// The prompts and labels of the first --num-questions examples.
struct QuestionSet {
  std::string prefix;
  std::vector<std::string> prompts;
  std::vector<std::optional<std::string>> labels;
};

// The tally of one run's replies.
struct Tally {
  std::vector<std::optional<std::string>> predictions;
  size_t correct = 0;
  size_t invalid = 0;
  size_t failed = 0;
  int64_t completion_tokens = 0;
  const QuestionResult* first_failure = nullptr;
};

void check_model_info(const HttpClient& client) {
  const HttpResponse model_info = client.get("/get_model_info");
  if (model_info.status != 200) {
    throw std::runtime_error(fmt::format("GET {} returned HTTP {}: {}",
                                         client.url("/get_model_info"), model_info.status,
                                         model_info.body));
  }
}

// Builds every prompt and label. Throws when a label has no number, as
// SGLang asserts.
QuestionSet build_questions(const Gsm8kOptions& options,
                            const std::vector<Gsm8kExample>& examples) {
  if (static_cast<size_t>(options.num_shots) > examples.size()) {
    throw std::runtime_error(fmt::format("--num-shots {} exceeds the {} examples in {}",
                                         options.num_shots, examples.size(), options.data_path));
  }

  QuestionSet questions;
  questions.prefix = few_shot_prefix(examples, options.num_shots);
  const size_t count =
      std::min(examples.size(), static_cast<size_t>(std::max<int64_t>(options.num_questions, 0)));
  for (size_t i = 0; i < count; ++i) {
    questions.prompts.push_back(questions.prefix + format_example(examples[i], false));
    questions.labels.push_back(extract_answer_value(examples[i].answer));
    if (!questions.labels.back()) {
      throw std::runtime_error(
          fmt::format("{}: example {} has no numeric answer", options.data_path, i));
    }
  }
  return questions;
}

// Posts the shared prefix with max_new_tokens 0 so that the server caches it,
// as SGLang's batch runner does for more than one question.
void cache_prefix(const HttpClient& client, const QuestionSet& questions) {
  if (questions.prompts.size() <= 1 ||
      count_code_points(questions.prefix) <= kMinCachedPrefixChars) {
    return;
  }
  const json body = {{"text", questions.prefix}, {"sampling_params", {{"max_new_tokens", 0}}}};
  const HttpResponse cached = client.post_json("/generate", body);
  if (cached.status != 200) {
    throw std::runtime_error(
        fmt::format("caching the few-shot prefix failed: HTTP {}: {}", cached.status, cached.body));
  }
}

Tally tally_results(const QuestionSet& questions, const std::vector<QuestionResult>& results) {
  Tally tally;
  for (size_t i = 0; i < results.size(); ++i) {
    tally.predictions.push_back(extract_answer_value(results[i].reply));
    if (!tally.predictions[i]) ++tally.invalid;
    if (tally.predictions[i] && tally.predictions[i] == questions.labels[i]) ++tally.correct;
    tally.completion_tokens += results[i].completion_tokens;
    if (!results[i].error.empty()) {
      ++tally.failed;
      if (tally.first_failure == nullptr) tally.first_failure = &results[i];
    }
  }
  return tally;
}

}  // namespace

std::vector<Gsm8kExample> load_gsm8k(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    throw std::runtime_error(
        fmt::format("cannot open the GSM8K file {}; pass --data-path with the test.jsonl of "
                    "openai/grade-school-math (glyph does not download it)",
                    path));
  }

  std::vector<Gsm8kExample> examples;
  std::string line;
  for (size_t line_number = 1; std::getline(file, line); ++line_number) {
    if (line.starts_with('#') || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object() || !record.contains("question") ||
        !record.contains("answer") || !record["question"].is_string() ||
        !record["answer"].is_string()) {
      throw std::runtime_error(
          fmt::format("{}:{}: expected a JSON object with string \"question\" and \"answer\"", path,
                      line_number));
    }
    examples.push_back(
        {record["question"].get<std::string>(), record["answer"].get<std::string>()});
  }
  return examples;
}

std::string format_example(const Gsm8kExample& example, bool include_answer) {
  std::string text = "Question: " + example.question + "\nAnswer:";
  if (include_answer) text += " " + example.answer;
  return text;
}

std::string few_shot_prefix(const std::vector<Gsm8kExample>& examples, int64_t num_shots) {
  std::string prefix;
  for (int64_t i = 0; i < num_shots; ++i) {
    prefix += format_example(examples.at(static_cast<size_t>(i)), true) + "\n\n";
  }
  return prefix;
}

std::optional<std::string> extract_answer_value(std::string_view text) {
  // Python's \d is any Unicode decimal digit, and so is PCRE2's in UCP mode.
  static const text::Regex kDigitRun("\\d+", "the GSM8K answer pattern");

  std::string cleaned;
  if (text::find_invalid_utf8(text)) {
    text::append_utf8_lossy(text, cleaned);
  } else {
    cleaned.assign(text);
  }
  std::erase(cleaned, ',');

  const auto runs = kDigitRun.find_all(cleaned);
  if (runs.empty()) return std::nullopt;
  const std::string last =
      cleaned.substr(runs.back().first, runs.back().second - runs.back().first);

  // ast.literal_eval accepts only ASCII digits, no leading zero unless all
  // digits are zero, and at most 4300 digits. Anything else is a SyntaxError.
  const bool ascii =
      std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ascii || last.size() > kMaxLiteralDigits) return std::nullopt;
  if (last.size() > 1 && last.front() == '0') {
    if (last.find_first_not_of('0') != std::string::npos) return std::nullopt;
    return "0";
  }
  return last;
}

const std::vector<std::string>& gsm8k_stop_strings() {
  static const std::vector<std::string> stops = {"Question", "Assistant:", "<|separator|>"};
  return stops;
}

json build_gsm8k_request_body(const std::string& prompt, int64_t max_new_tokens,
                              double temperature) {
  json sampling = {
      {"skip_special_tokens", true},
      {"spaces_between_special_tokens", true},
      {"max_new_tokens", max_new_tokens},
      {"min_new_tokens", 0},
      {"n", 1},
      {"stop", gsm8k_stop_strings()},
      {"stop_token_ids", json::array()},
      {"stop_regex", json::array()},
      {"temperature", temperature},
      {"top_p", 1.0},
      {"top_k", -1},
      {"min_p", 0.0},
      {"frequency_penalty", 0.0},
      {"presence_penalty", 0.0},
      {"ignore_eos", false},
      {"regex", nullptr},
      {"json_schema", nullptr},
  };
  return {{"text", prompt}, {"sampling_params", std::move(sampling)}};
}

std::string format_gsm8k_score(const Gsm8kScore& score) {
  return fmt::format(
      "Accuracy: {:.3f}\nInvalid: {:.3f}\nLatency: {:.3f} s\n"
      "Output throughput: {:.3f} token/s\n",
      score.accuracy, score.invalid, score.latency_s, score.output_throughput);
}

int run_gsm8k(const Gsm8kOptions& options, std::ostream& out) {
  try {
    // SGLang's RuntimeEndpoint reads the model info before anything else.
    const HttpClient client(base_url_of(options));
    check_model_info(client);

    if (options.data_path.empty()) {
      throw std::runtime_error(
          "--data-path is required: glyph does not download GSM8K; pass the test.jsonl of "
          "openai/grade-school-math");
    }
    const std::vector<Gsm8kExample> examples = load_gsm8k(options.data_path);
    const QuestionSet questions = build_questions(options, examples);

    const auto start = std::chrono::steady_clock::now();
    cache_prefix(client, questions);
    const std::vector<QuestionResult> results = ask_all(client, questions.prompts, options);
    const double latency = seconds_since(start);

    const Tally tally = tally_results(questions, results);
    const auto count = static_cast<double>(results.size());
    Gsm8kScore score;
    score.accuracy = static_cast<double>(tally.correct) / count;
    score.invalid = static_cast<double>(tally.invalid) / count;
    score.latency_s = latency;
    score.output_throughput = static_cast<double>(tally.completion_tokens) / latency;
    out << format_gsm8k_score(score) << std::flush;

    if (options.output_file) {
      write_verdicts(*options.output_file, examples, questions.prompts, results, questions.labels,
                     tally.predictions);
    }
    if (tally.failed > 0) {
      std::fprintf(stderr,
                   "error: %zu of %zu requests failed and count as Invalid. The first error: %s\n",
                   tally.failed, results.size(), tally.first_failure->error.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& error) {
    out << std::flush;
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

}  // namespace glyph::cli
