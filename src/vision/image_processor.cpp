// The Glm4v image processor, matching transformers 4.57.6
// (models/glm4v/image_processing_glm4v.py, the slow PIL processor).

#include "vision/image_processor.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.h"

namespace glyph::vision {
namespace {

constexpr int kPilBicubic = 3;  // PIL.Image.Resampling.BICUBIC

// transformers' Glm4vImageProcessor defaults when the file has no "size".
constexpr int64_t kClassDefaultMinPixels = 112 * 112;
constexpr int64_t kClassDefaultMaxPixels = 28 * 28 * 15000;

[[noreturn]] void throw_bad_config(const std::filesystem::path& path, const std::string& problem) {
  throw_error(ErrorKind::kBadModel, "{}: {}; fix the file or download it again", path.string(),
              problem);
}

template <typename T>
T read_value(const nlohmann::json& json, const char* key, T fallback,
             const std::filesystem::path& path) {
  if (!json.contains(key) || json[key].is_null()) {
    return fallback;
  }
  try {
    return json[key].get<T>();
  } catch (const nlohmann::json::exception& error) {
    throw_bad_config(path, fmt::format("\"{}\" has the wrong type ({})", key, error.what()));
  }
}

int32_t read_positive(const nlohmann::json& json, const char* key, int32_t fallback,
                      const std::filesystem::path& path) {
  const int64_t value = read_value<int64_t>(json, key, fallback, path);
  if (value <= 0 || value > 1'000'000) {
    throw_bad_config(path, fmt::format("\"{}\" is {}, expected a positive integer", key, value));
  }
  return static_cast<int32_t>(value);
}

// image_mean and image_std are three numbers or one number for all channels.
std::array<float, 3> read_channels(const nlohmann::json& json, const char* key,
                                   const std::array<float, 3>& fallback,
                                   const std::filesystem::path& path) {
  if (!json.contains(key) || json[key].is_null()) {
    return fallback;
  }
  const nlohmann::json& value = json[key];
  if (value.is_number()) {
    const auto same = value.get<float>();
    return {same, same, same};
  }
  if (!value.is_array() || value.size() != 3 ||
      !std::all_of(value.begin(), value.end(), [](const auto& item) { return item.is_number(); })) {
    throw_bad_config(path, fmt::format("\"{}\" must be a number or a list of 3 numbers", key));
  }
  return {value[0].get<float>(), value[1].get<float>(), value[2].get<float>()};
}

// Python's round(): halves go to the even neighbour, which std::nearbyint
// does in the default rounding mode.
int64_t round_half_even(double value) { return static_cast<int64_t>(std::nearbyint(value)); }

// Python's int / int: the correctly rounded quotient. Exact for operands up
// to 2^53; both stay far below that for any image within DecodeLimits.
double divide(int64_t numerator, int64_t denominator) {
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

ProcessorConfig ProcessorConfig::load(const std::filesystem::path& model_dir) {
  ProcessorConfig config;
  const std::filesystem::path path = model_dir / "preprocessor_config.json";
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return config;
  }
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& error) {
    throw_bad_config(path, fmt::format("not valid JSON ({})", error.what()));
  }
  if (!json.is_object()) {
    throw_bad_config(path, "expected a JSON object");
  }

  // transformers 4.57.6 reads the pixel budget from "size" only and ignores
  // top-level min_pixels/max_pixels; those are a fallback here for files
  // written for other processors.
  if (json.contains("size") && !json["size"].is_null()) {
    const nlohmann::json& size = json["size"];
    if (!size.is_object() || !size.contains("shortest_edge") || !size.contains("longest_edge")) {
      throw_bad_config(path, "\"size\" must contain \"shortest_edge\" and \"longest_edge\"");
    }
    config.min_pixels = read_value<int64_t>(size, "shortest_edge", 0, path);
    config.max_pixels = read_value<int64_t>(size, "longest_edge", 0, path);
  } else {
    config.min_pixels = read_value<int64_t>(json, "min_pixels", kClassDefaultMinPixels, path);
    config.max_pixels = read_value<int64_t>(json, "max_pixels", kClassDefaultMaxPixels, path);
  }
  if (config.min_pixels < 0 || config.max_pixels <= 0 || config.min_pixels > config.max_pixels) {
    throw_bad_config(path, fmt::format("the pixel budget {}..{} is invalid", config.min_pixels,
                                       config.max_pixels));
  }

  config.patch_size = read_positive(json, "patch_size", config.patch_size, path);
  config.temporal_patch_size =
      read_positive(json, "temporal_patch_size", config.temporal_patch_size, path);
  config.merge_size = read_positive(json, "merge_size", config.merge_size, path);
  config.do_rescale = read_value<bool>(json, "do_rescale", config.do_rescale, path);
  config.rescale_factor = read_value<double>(json, "rescale_factor", config.rescale_factor, path);
  config.do_normalize = read_value<bool>(json, "do_normalize", config.do_normalize, path);
  config.image_mean = read_channels(json, "image_mean", config.image_mean, path);
  config.image_std = read_channels(json, "image_std", config.image_std, path);

  const int64_t resample = read_value<int64_t>(json, "resample", kPilBicubic, path);
  if (resample != kPilBicubic) {
    throw_bad_config(path, fmt::format("\"resample\" is {}, but only bicubic ({}) is implemented",
                                       resample, kPilBicubic));
  }
  if (!read_value<bool>(json, "do_resize", true, path)) {
    throw_bad_config(path, "\"do_resize\": false is not supported");
  }
  return config;
}

ResizedSize smart_resize(int32_t height, int32_t width, const ProcessorConfig& config) {
  const int64_t factor = int64_t{config.patch_size} * config.merge_size;
  const int64_t frames = config.temporal_patch_size;
  if (height < factor || width < factor) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {}x{} pixels, but both sides must be at least {} pixels: send a larger "
                "image",
                width, height, factor);
  }
  const double aspect_ratio = divide(std::max(height, width), std::min(height, width));
  if (aspect_ratio > 200.0) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {}x{} pixels; aspect ratio {:.4g} exceeds the limit of 200: crop or pad "
                "it",
                width, height, aspect_ratio);
  }

  int64_t h_bar = round_half_even(divide(height, factor)) * factor;
  int64_t w_bar = round_half_even(divide(width, factor)) * factor;
  // num_frames = temporal_factor, so round(num_frames / temporal_factor) = 1.
  const int64_t t_bar = frames;
  const int64_t frame_pixels = frames * height * width;
  if (t_bar * h_bar * w_bar > config.max_pixels) {
    const double beta = std::sqrt(divide(frame_pixels, config.max_pixels));
    h_bar = std::max(factor, static_cast<int64_t>(std::floor(height / beta / factor)) * factor);
    w_bar = std::max(factor, static_cast<int64_t>(std::floor(width / beta / factor)) * factor);
  } else if (t_bar * h_bar * w_bar < config.min_pixels) {
    const double beta = std::sqrt(divide(config.min_pixels, frame_pixels));
    h_bar = static_cast<int64_t>(std::ceil(height * beta / factor)) * factor;
    w_bar = static_cast<int64_t>(std::ceil(width * beta / factor)) * factor;
  }
  if (h_bar > INT32_MAX || w_bar > INT32_MAX) {
    throw_error(ErrorKind::kInvalidRequest,
                "image is {}x{} pixels and would be resized to {}x{}, beyond 32-bit sizes: check "
                "min_pixels ({}) in preprocessor_config.json",
                width, height, w_bar, h_bar, config.min_pixels);
  }
  return ResizedSize{.height = static_cast<int32_t>(h_bar), .width = static_cast<int32_t>(w_bar)};
}

int64_t count_image_tokens(int32_t width, int32_t height, const ProcessorConfig& config) {
  const ResizedSize resized = smart_resize(height, width, config);
  const int64_t block = int64_t{config.patch_size} * config.merge_size;
  return (resized.height / block) * (resized.width / block);
}

int32_t ProcessedImage::num_tokens() const {
  return grid_thw[0] * grid_thw[1] * grid_thw[2] / (merge_size * merge_size);
}

namespace {

// The value of each 8-bit level in each channel after rescale and normalize,
// computed as transformers does: float64(value) * rescale_factor cast to
// float32, then (x - mean) / std in float32.
std::array<std::array<float, 256>, 3> make_level_table(const ProcessorConfig& config) {
  std::array<std::array<float, 256>, 3> table{};
  for (int c = 0; c < 3; ++c) {
    for (int level = 0; level < 256; ++level) {
      float value = config.do_rescale ? static_cast<float>(level * config.rescale_factor)
                                      : static_cast<float>(level);
      if (config.do_normalize) {
        value = (value - config.image_mean[c]) / config.image_std[c];
      }
      table[c][level] = value;
    }
  }
  return table;
}

}  // namespace

ProcessedImage preprocess(const Image& image, const ProcessorConfig& config) {
  const ResizedSize size = smart_resize(image.height, image.width, config);
  const Image resized = size.height == image.height && size.width == image.width
                            ? image
                            : resize_bicubic(image, size.width, size.height);
  const auto table = make_level_table(config);

  const int patch = config.patch_size;
  const int merge = config.merge_size;
  const int frames = config.temporal_patch_size;
  const int grid_h = size.height / patch;
  const int grid_w = size.width / patch;
  const size_t patch_values = size_t{3} * frames * patch * patch;

  ProcessedImage out;
  out.grid_thw = {1, grid_h, grid_w};
  out.merge_size = merge;
  out.pixel_values.resize(static_cast<size_t>(grid_h) * grid_w * patch_values);

  // Patch order: merge-block row, merge-block column, row and column inside
  // the block. Each patch is [channel][frame][patch row][patch column], and
  // both frames are the same still image.
  float* dst = out.pixel_values.data();
  for (int block_row = 0; block_row < grid_h / merge; ++block_row) {
    for (int block_col = 0; block_col < grid_w / merge; ++block_col) {
      for (int inner_row = 0; inner_row < merge; ++inner_row) {
        for (int inner_col = 0; inner_col < merge; ++inner_col) {
          const int top = (block_row * merge + inner_row) * patch;
          const int left = (block_col * merge + inner_col) * patch;
          for (int c = 0; c < 3; ++c) {
            for (int t = 0; t < frames; ++t) {
              for (int y = 0; y < patch; ++y) {
                const uint8_t* row =
                    resized.rgb.data() + (static_cast<size_t>(top + y) * size.width + left) * 3;
                for (int x = 0; x < patch; ++x) {
                  *dst++ = table[c][row[3 * x + c]];
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace glyph::vision
