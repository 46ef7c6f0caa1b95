// glyph bench's printed result block and its JSONL record, byte for byte as
// SGLang 0.5.6's bench_serving prints and writes them.
//
// The block's value column is Python's "{:<10}" (integers, strings) or
// "{:<10.2f}" (floats), so lines keep their trailing padding.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/bench_backend.h"
#include "cli/bench_metrics.h"

namespace glyph::cli {

// The run's settings that the block and the record echo.
struct ReportSettings {
  std::string backend;  // --backend as given.
  std::string dataset_name;
  double request_rate = 0.0;  // Infinity for --request-rate inf.
  std::optional<int64_t> max_concurrency;
  std::optional<int64_t> sharegpt_output_len;
  int64_t random_input_len = 0;
  int64_t random_output_len = 0;
  double random_range_ratio = 0.0;
  std::optional<std::string> tag;
  double duration_s = 0.0;
  std::optional<double> accept_length;  // avg_spec_accept_length from /get_server_info.
};

// Python's str(float) and repr(float): the shortest text that reads back as
// the same double. Exponents in [-4, 16) use fixed notation, whole numbers
// end in ".0", and non-finite values are "inf", "-inf" and "nan".
std::string python_float_repr(double value);

// Python's "{s:{c}^{n}}".format(...): `text` centred in `width` columns of
// `fill`, with the odd column on the right.
std::string center(const std::string& text, size_t width, char fill);

// The block from its leading blank line to the closing row of '=', each line
// ending in '\n'.
std::string format_result_block(const ReportSettings& settings, const BenchmarkMetrics& metrics);

// The JSONL record bench_serving appends, with its keys in its order.
// `server_info` is the /get_server_info reply, or null. With `details` it
// adds input_lens, output_lens, ttfts, itls, generated_texts and errors.
nlohmann::ordered_json make_result_record(const ReportSettings& settings,
                                          const BenchmarkMetrics& metrics,
                                          const nlohmann::json& server_info,
                                          const std::vector<RequestOutput>* details);

// json.dumps with Python's defaults: ", " and ": " separators, non-ASCII
// escaped as \uXXXX, and Infinity/NaN for non-finite floats.
std::string python_json_dumps(const nlohmann::ordered_json& value);

// bench_serving's default file name when --output-file is not given:
// {backend}_{MMDD}_{num_prompts}_{in}_{out}.jsonl for the random datasets,
// {backend}_{MMDD}_{num_prompts}_{dataset}.jsonl otherwise.
std::string default_output_file_name(const std::string& backend, const std::string& dataset_name,
                                     int64_t num_prompts, int64_t random_input_len,
                                     int64_t random_output_len, const std::string& month_day);

}  // namespace glyph::cli
