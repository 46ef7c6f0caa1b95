// `glyph eval gsm8k`: SGLang 0.5.6's test/few_shot_gsm8k.py against a
// running server's native /generate route.
//
// The first --num-shots examples of the test file, with their worked
// answers, form a few-shot prefix. Each of the first --num-questions
// questions follows it as "Question: ...\nAnswer:". Replies are greedy
// (temperature 0) and stop at "Question", "Assistant:" or "<|separator|>".
// The last run of digits in a reply, commas removed, is the prediction; a
// reply without one is Invalid. Like SGLang, the first shots are also asked
// as questions, and signs and decimals are not parsed ("-3.5" reads as 5).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::cli {

struct Gsm8kOptions {
  std::string data_path;  // GSM8K test.jsonl, required because it is never downloaded.
  int64_t num_questions = 200;
  int64_t num_shots = 5;
  int64_t parallel = 128;  // Requests in flight at once.
  int64_t max_new_tokens = 512;
  double temperature = 0.0;
  std::string host = "http://127.0.0.1";
  int port = 30000;
  std::optional<std::string> output_file;  // JSONL of prompts, replies and verdicts.
  bool disable_tqdm = false;
};

struct Gsm8kExample {
  std::string question;
  std::string answer;  // Worked solution ending in "#### <number>".
};

// Reads a JSONL file of {"question", "answer"} records, skipping lines that
// start with '#' as sglang.utils.read_jsonl does, and blank lines. Throws
// std::runtime_error naming the file and line.
std::vector<Gsm8kExample> load_gsm8k(const std::string& path);

// "Question: " + question + "\nAnswer:", plus " " + answer when asked.
std::string format_example(const Gsm8kExample& example, bool include_answer);

// The first `num_shots` examples with answers, each followed by "\n\n".
std::string few_shot_prefix(const std::vector<Gsm8kExample>& examples, int64_t num_shots);

// few_shot_gsm8k's get_answer_value: the last run of Unicode decimal digits
// after removing commas, as canonical decimal text. Returns nullopt (Invalid)
// when there is no such run. It also returns nullopt where Python's
// ast.literal_eval rejects the run: non-ASCII digits, a leading zero before
// other digits, or more than 4300 digits.
std::optional<std::string> extract_answer_value(std::string_view text);

// The /generate body that SGLang 0.5.6's RuntimeEndpoint sends for one
// question, every sampling field included.
nlohmann::json build_gsm8k_request_body(const std::string& prompt, int64_t max_new_tokens,
                                        double temperature);

// The stop strings of the few-shot program.
const std::vector<std::string>& gsm8k_stop_strings();

// The four printed results.
struct Gsm8kScore {
  double accuracy = 0.0;           // Share of predictions equal to the label.
  double invalid = 0.0;            // Share of replies with no number.
  double latency_s = 0.0;          // Wall time of the whole batch, prefix caching included.
  double output_throughput = 0.0;  // Completion tokens per second of latency.
};

// "Accuracy: 0.890\nInvalid: 0.000\nLatency: 3.718 s\nOutput throughput: 5245.606 token/s\n".
std::string format_gsm8k_score(const Gsm8kScore& score);

// Runs the evaluation and prints the score to `out`. Returns 0, or 1 when the
// data or the server could not be used or any request failed (the score is
// still printed, with failed requests counted as Invalid).
int run_gsm8k(const Gsm8kOptions& options, std::ostream& out);

}  // namespace glyph::cli
