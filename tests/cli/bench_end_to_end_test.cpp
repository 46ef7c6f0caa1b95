// glyph bench and glyph eval gsm8k against a scripted server on 127.0.0.1:
// the requests they send, the counts they print and the records they write.
// Timings vary from run to run, so only counts and formats are checked.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/bench_runner.h"
#include "cli/eval_gsm8k.h"
#include "scripted_sglang_server.h"

namespace glyph::cli {
namespace {

using nlohmann::json;
using testing::ScriptedSglangServer;

const std::string kTinyModel = std::string(GLYPH_TEST_DATA_DIR) + "/tiny-glyph";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name))
      .string();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

// The value column of one row of the result block, without its padding.
std::string block_value(const std::string& block, const std::string& label) {
  const size_t at = block.find("\n" + label);
  if (at == std::string::npos) return "<missing " + label + ">";
  const size_t value_start = at + 1 + 41;
  const size_t line_end = block.find('\n', value_start);
  std::string value = block.substr(value_start, line_end - value_start);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

class BenchEndToEnd : public ::testing::Test {
 protected:
  BenchEndToEnd() : server_(kTinyModel), output_file_(temp_path("bench-result.jsonl")) {
    options_.base_url = server_.base_url();
    options_.dataset.name = "random";
    options_.dataset.num_prompts = 12;
    options_.dataset.random_input_len = 16;
    options_.dataset.random_output_len = 8;
    options_.max_concurrency = 3;
    options_.disable_tqdm = true;
    options_.output_file = output_file_;
  }
  ~BenchEndToEnd() override { std::filesystem::remove(output_file_); }

  int run(std::string& printed) {
    std::ostringstream out;
    const int exit_code = run_bench(options_, out);
    printed = out.str();
    return exit_code;
  }

  // The lengths bench_serving draws for these options with --seed 1.
  std::pair<std::vector<int64_t>, std::vector<int64_t>> expected_lengths() const {
    NumpyRandomState random(options_.seed);
    const auto count = static_cast<size_t>(options_.dataset.num_prompts);
    auto inputs = sample_random_lengths(random, options_.dataset.random_input_len, 0.0, count);
    auto outputs = sample_random_lengths(random, options_.dataset.random_output_len, 0.0, count);
    return {inputs, outputs};
  }

  ScriptedSglangServer server_;
  std::string output_file_;
  BenchOptions options_;
};

TEST_F(BenchEndToEnd, NativeBackendReportsEveryRequest) {
  std::string printed;
  ASSERT_EQ(run(printed), 0) << printed;

  const auto [input_lens, output_lens] = expected_lengths();
  const int64_t input_total = std::accumulate(input_lens.begin(), input_lens.end(), int64_t{0});
  const int64_t output_total = std::accumulate(output_lens.begin(), output_lens.end(), int64_t{0});

  EXPECT_NE(printed.find(
                fmt::format("#Input tokens: {}\n#Output tokens: {}\n", input_total, output_total)),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("Starting warmup with 1 sequences...\n"
                         "Warmup completed with 1 sequences. Starting main benchmark run...\n"),
            std::string::npos);
  EXPECT_NE(printed.find("\n============ Serving Benchmark Result ============\n"),
            std::string::npos);
  EXPECT_EQ(block_value(printed, "Backend:"), "sglang");
  EXPECT_EQ(block_value(printed, "Traffic request rate:"), "inf");
  EXPECT_EQ(block_value(printed, "Max request concurrency:"), "3");
  EXPECT_EQ(block_value(printed, "Successful requests:"), "12");
  EXPECT_EQ(block_value(printed, "Total input tokens:"), std::to_string(input_total));
  EXPECT_EQ(block_value(printed, "Total generated tokens:"), std::to_string(output_total));
  // " tok" is one token of the GLM vocabulary, so retokenizing agrees.
  EXPECT_EQ(block_value(printed, "Total generated tokens (retokenized):"),
            std::to_string(output_total));
  EXPECT_TRUE(printed.ends_with("==================================================\n"));

  // One warmup request capped at 32 tokens, then the twelve measured ones.
  const auto generates = server_.requests_to("/generate");
  ASSERT_EQ(generates.size(), 13u);
  EXPECT_EQ(generates[0].body["sampling_params"]["max_new_tokens"], output_lens[0]);
  for (const auto& request : generates) {
    EXPECT_EQ(request.body["stream"], true);
    EXPECT_EQ(request.body["sampling_params"]["ignore_eos"], true);
    EXPECT_EQ(request.body["sampling_params"]["temperature"], 0.0);
    EXPECT_TRUE(request.body["text"].is_string());
  }
  std::vector<int64_t> requested;
  for (size_t i = 1; i < generates.size(); ++i) {
    requested.push_back(generates[i].body["sampling_params"]["max_new_tokens"].get<int64_t>());
  }
  std::sort(requested.begin(), requested.end());
  std::vector<int64_t> expected_requested = output_lens;
  std::sort(expected_requested.begin(), expected_requested.end());
  EXPECT_EQ(requested, expected_requested);
  EXPECT_LE(server_.max_in_flight(), 3);

  // The model came from /v1/models and the tokenizer from /get_model_info.
  EXPECT_EQ(server_.requests_to("/v1/models").size(), 1u);
  EXPECT_EQ(server_.requests_to("/get_model_info").size(), 1u);

  const auto records = read_lines(output_file_);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].find(R"("request_rate": Infinity)"), std::string::npos);
  EXPECT_NE(records[0].find(R"("completed": 12, )"), std::string::npos);
  EXPECT_NE(records[0].find(R"("server_info": {"internal_states": [{}], "version": "scripted"})"),
            std::string::npos);
}

TEST_F(BenchEndToEnd, FailedRequestsAreCountedNotDropped) {
  // Calls 4, 8 and 12 fail: the warmup is call 1, so three measured requests fail.
  server_.fail_every(4);
  std::string printed;
  ASSERT_EQ(run(printed), 0) << printed;
  EXPECT_EQ(block_value(printed, "Successful requests:"), "9");
}

TEST_F(BenchEndToEnd, AllRequestsFailingIsAnError) {
  options_.warmup_requests = 0;
  server_.fail_every(1);
  std::string printed;
  EXPECT_EQ(run(printed), 1);
  EXPECT_EQ(printed.find("Serving Benchmark Result"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(output_file_));
}

TEST_F(BenchEndToEnd, FailedWarmupStopsTheRun) {
  server_.fail_every(1);
  std::string printed;
  EXPECT_EQ(run(printed), 1);
  EXPECT_EQ(server_.requests_to("/generate").size(), 1u);
}

TEST_F(BenchEndToEnd, NonStreamingAndExtraBody) {
  options_.disable_stream = true;
  options_.disable_ignore_eos = true;
  options_.extra_request_body = R"({"rid_tag": "bench"})";
  options_.tokenizer = kTinyModel;
  options_.model = "named-model";
  options_.flush_cache = true;
  std::string printed;
  ASSERT_EQ(run(printed), 0) << printed;
  EXPECT_EQ(block_value(printed, "Successful requests:"), "12");
  for (const auto& request : server_.requests_to("/generate")) {
    EXPECT_EQ(request.body["stream"], false);
    EXPECT_EQ(request.body["sampling_params"]["ignore_eos"], false);
    EXPECT_EQ(request.body["rid_tag"], "bench");
  }
  EXPECT_TRUE(server_.requests_to("/v1/models").empty());
  EXPECT_EQ(server_.requests_to("/flush_cache").size(), 1u);
}

TEST_F(BenchEndToEnd, PoissonArrivalsAndOutputDetails) {
  options_.request_rate = 500.0;
  options_.max_concurrency.reset();
  options_.output_details = true;
  options_.dataset.num_prompts = 5;
  std::string printed;
  ASSERT_EQ(run(printed), 0) << printed;
  EXPECT_EQ(block_value(printed, "Traffic request rate:"), "500.0");
  EXPECT_EQ(block_value(printed, "Max request concurrency:"), "not set");
  const auto records = read_lines(output_file_);
  ASSERT_EQ(records.size(), 1u);
  const json record = json::parse(records[0]);
  EXPECT_EQ(record["input_lens"].size(), 5u);
  EXPECT_EQ(record["generated_texts"].size(), 5u);
  EXPECT_EQ(record["errors"], json({"", "", "", "", ""}));
}

TEST_F(BenchEndToEnd, UnreachableServerFailsFast) {
  options_.base_url = "http://127.0.0.1:1";
  std::string printed;
  EXPECT_EQ(run(printed), 1);
}

TEST_F(BenchEndToEnd, InvalidOptionsRaiseUsageErrors) {
  options_.dataset.random_range_ratio = 1.5;
  std::string printed;
  EXPECT_THROW(run(printed), BenchUsageError);
  options_.dataset.random_range_ratio = 0.0;
  options_.extra_request_body = "[1, 2]";
  EXPECT_THROW(run(printed), BenchUsageError);
}

class Gsm8kEndToEnd : public ::testing::Test {
 protected:
  Gsm8kEndToEnd() : server_(kTinyModel), data_file_(temp_path("gsm8k.jsonl")) {
    // Ten questions with labels 10, 11, ... 19.
    std::ofstream file(data_file_);
    for (int i = 0; i < 10; ++i) {
      file << json({{"question", fmt::format("What is {} plus {}?", i, 10)},
                    {"answer", fmt::format("{} + 10 = {}\n#### {}", i, i + 10, i + 10)}})
                  .dump()
           << "\n";
    }
    options_.data_path = data_file_;
    options_.num_questions = 10;
    options_.num_shots = 3;
    options_.parallel = 4;
    options_.host = "http://127.0.0.1";
    options_.port = server_.port();
    options_.disable_tqdm = true;
  }
  ~Gsm8kEndToEnd() override { std::filesystem::remove(data_file_); }

  ScriptedSglangServer server_;
  std::string data_file_;
  Gsm8kOptions options_;
};

TEST_F(Gsm8kEndToEnd, ScoresScriptedReplies) {
  // Question i is answered right for even i, without a number for i = 1 and
  // 7, and off by one otherwise: accuracy 5/10, invalid 2/10.
  server_.set_generate_reply([](const json& body) {
    const std::string text = body["text"];
    const std::smatch found = [&] {
      std::smatch match;
      static const std::regex kLast("What is (\\d+) plus 10\\?\nAnswer:$");
      std::regex_search(text, match, kLast);
      return match;
    }();
    if (found.empty()) return json{{"text", ""}, {"meta_info", {{"completion_tokens", 0}}}};
    const int i = std::stoi(found[1]);
    std::string reply;
    if (i % 2 == 0) {
      reply = fmt::format(" {} + 10 = {}. The answer is {}.", i, i + 10, i + 10);
    } else if (i == 1 || i == 7) {
      reply = " I am not sure.";
    } else {
      reply = fmt::format(" It is {}.", i + 11);
    }
    return json{{"text", reply}, {"meta_info", {{"completion_tokens", 5}}}};
  });
  const std::string verdicts = temp_path("gsm8k-verdicts.jsonl");
  options_.output_file = verdicts;

  std::ostringstream out;
  ASSERT_EQ(run_gsm8k(options_, out), 0);
  const std::string printed = out.str();
  EXPECT_TRUE(std::regex_match(printed, std::regex("Accuracy: 0\\.500\nInvalid: 0\\.200\n"
                                                   "Latency: \\d+\\.\\d{3} s\n"
                                                   "Output throughput: \\d+\\.\\d{3} token/s\n")))
      << printed;

  // /get_model_info first, then the cached prefix, then one request per question.
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 12u);
  EXPECT_EQ(requests[0].path, "/get_model_info");
  EXPECT_EQ(requests[1].body["sampling_params"], json({{"max_new_tokens", 0}}));
  const std::string prefix = few_shot_prefix(load_gsm8k(data_file_), 3);
  EXPECT_EQ(requests[1].body["text"], prefix);
  for (size_t i = 2; i < requests.size(); ++i) {
    EXPECT_TRUE(requests[i].body["text"].get<std::string>().starts_with(prefix));
    EXPECT_EQ(requests[i].body["sampling_params"]["max_new_tokens"], 512);
  }

  const auto lines = read_lines(verdicts);
  ASSERT_EQ(lines.size(), 10u);
  const json first = json::parse(lines[0]);
  EXPECT_EQ(first["label"], 10);
  EXPECT_EQ(first["prediction"], 10);
  EXPECT_EQ(first["correct"], true);
  const json second = json::parse(lines[1]);
  EXPECT_EQ(second["prediction"], nullptr);
  EXPECT_EQ(second["correct"], false);
  EXPECT_EQ(json::parse(lines[3])["prediction"], 14);
  std::filesystem::remove(verdicts);
}

TEST_F(Gsm8kEndToEnd, FailedRequestsCountAsInvalid) {
  // Every reply is right, but the prefix request is call 1 and calls 3, 6
  // and 9 fail: three questions count as Invalid.
  server_.set_generate_reply([](const json&) {
    return json{{"text", " The answer is 10."}, {"meta_info", {{"completion_tokens", 5}}}};
  });
  server_.fail_every(3);
  std::ostringstream out;
  EXPECT_EQ(run_gsm8k(options_, out), 1);
  EXPECT_NE(out.str().find("Invalid: 0.300\n"), std::string::npos) << out.str();
}

TEST_F(Gsm8kEndToEnd, MissingDataPathIsAnError) {
  options_.data_path.clear();
  std::ostringstream out;
  EXPECT_EQ(run_gsm8k(options_, out), 1);
  EXPECT_TRUE(out.str().empty());
}

}  // namespace
}  // namespace glyph::cli
