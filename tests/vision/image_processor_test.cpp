// The Glm4v image processor against transformers 4.57.6's slow
// Glm4vImageProcessor and Pillow 13's BICUBIC resize, from the fixtures that
// tools/make_image_fixtures.py wrote.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "vision/image.h"
#include "vision/image_processor.h"

namespace glyph::vision {
namespace {

const std::string kDataDir = GLYPH_TEST_DATA_DIR;

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

struct Fixtures {
  nlohmann::json index;
  std::vector<uint8_t> arrays;

  std::vector<uint8_t> bytes(const nlohmann::json& entry) const {
    const size_t offset = entry["offset"].get<size_t>();
    const size_t size = entry["bytes"].get<size_t>();
    return {arrays.begin() + static_cast<ptrdiff_t>(offset),
            arrays.begin() + static_cast<ptrdiff_t>(offset + size)};
  }

  // Little-endian float32, as the generator writes them (and x86 reads them).
  std::vector<float> floats(const nlohmann::json& entry) const {
    const std::vector<uint8_t> raw = bytes(entry);
    std::vector<float> values(raw.size() / sizeof(float));
    std::memcpy(values.data(), raw.data(), values.size() * sizeof(float));
    return values;
  }
};

const Fixtures& fixtures() {
  static const Fixtures loaded = [] {
    Fixtures result;
    std::ifstream index(kDataDir + "/fixtures/image_processor.json");
    result.index = nlohmann::json::parse(index);
    result.arrays = read_file(kDataDir + "/fixtures/image_processor.bin");
    return result;
  }();
  return loaded;
}

ProcessorConfig tiny_config() { return ProcessorConfig::load(kDataDir + "/tiny-glyph"); }

ProcessorConfig config_for(const nlohmann::json& entry) {
  ProcessorConfig config = tiny_config();
  config.min_pixels = entry["min_pixels"].get<int64_t>();
  config.max_pixels = entry["max_pixels"].get<int64_t>();
  return config;
}

Image pillow_decoded(const nlohmann::json& entry) {
  return Image{.width = entry["width"].get<int32_t>(),
               .height = entry["height"].get<int32_t>(),
               .rgb = fixtures().bytes(entry["decoded_rgb"])};
}

TEST(ProcessorConfig, LoadsTinyModelFile) {
  const ProcessorConfig config = tiny_config();
  EXPECT_EQ(config.min_pixels, 12544);
  EXPECT_EQ(config.max_pixels, 47040000);
  EXPECT_EQ(config.patch_size, 14);
  EXPECT_EQ(config.temporal_patch_size, 2);
  EXPECT_EQ(config.merge_size, 2);
  EXPECT_TRUE(config.do_rescale);
  EXPECT_DOUBLE_EQ(config.rescale_factor, 1.0 / 255.0);
  EXPECT_TRUE(config.do_normalize);
  EXPECT_FLOAT_EQ(config.image_mean[0], 0.48145466f);
  EXPECT_FLOAT_EQ(config.image_std[2], 0.27577711f);
}

class ConfigFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glyph_processor_config_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ProcessorConfig load(const std::string& text) {
    std::ofstream(dir_ / "preprocessor_config.json") << text;
    return ProcessorConfig::load(dir_);
  }

  void expect_bad_model(const std::string& text, const std::string& message) {
    try {
      load(text);
      ADD_FAILURE() << "loaded " << text;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigFileTest, MissingFileGivesDefaults) {
  const ProcessorConfig config = ProcessorConfig::load(dir_);
  EXPECT_EQ(config.min_pixels, 12544);
  EXPECT_EQ(config.max_pixels, 47040000);
}

TEST_F(ConfigFileTest, TopLevelPixelKeysWithoutSize) {
  const ProcessorConfig config = load(R"({"min_pixels": 3136, "max_pixels": 100352,
                                          "image_mean": 0.5, "rescale_factor": 0.5})");
  EXPECT_EQ(config.min_pixels, 3136);
  EXPECT_EQ(config.max_pixels, 100352);
  EXPECT_FLOAT_EQ(config.image_mean[1], 0.5f);
  EXPECT_DOUBLE_EQ(config.rescale_factor, 0.5);
}

TEST_F(ConfigFileTest, NoSizeGivesTransformersClassDefaults) {
  const ProcessorConfig config = load("{}");
  EXPECT_EQ(config.min_pixels, 112 * 112);
  EXPECT_EQ(config.max_pixels, 28 * 28 * 15000);
}

TEST_F(ConfigFileTest, InvalidFilesThrowBadModel) {
  expect_bad_model("{", "not valid JSON");
  expect_bad_model(R"({"size": {"shortest_edge": 10}})",
                   "must contain \"shortest_edge\" and \"longest_edge\"");
  expect_bad_model(R"({"resample": 2})", "only bicubic (3) is implemented");
  expect_bad_model(R"({"patch_size": 0})", "\"patch_size\" is 0");
  expect_bad_model(R"({"image_std": [1, 2]})", "a number or a list of 3 numbers");
  expect_bad_model(R"({"do_rescale": "yes"})", "\"do_rescale\" has the wrong type");
}

TEST(SmartResize, MatchesTransformersTable) {
  const auto& cases = fixtures().index["smart_resize_cases"];
  ASSERT_GE(cases.size(), 200u);
  int errors = 0;
  for (const auto& test_case : cases) {
    ProcessorConfig config;
    config.min_pixels = test_case["min_pixels"].get<int64_t>();
    config.max_pixels = test_case["max_pixels"].get<int64_t>();
    const int32_t height = test_case["height"].get<int32_t>();
    const int32_t width = test_case["width"].get<int32_t>();
    SCOPED_TRACE(testing::Message() << height << "x" << width << " in [" << config.min_pixels
                                    << ", " << config.max_pixels << "]");
    if (test_case.contains("error")) {
      ++errors;
      try {
        smart_resize(height, width, config);
        ADD_FAILURE() << "transformers raised: " << test_case["error"];
      } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
      }
      continue;
    }
    const ResizedSize size = smart_resize(height, width, config);
    EXPECT_EQ(size.height, test_case["resized"][0].get<int32_t>());
    EXPECT_EQ(size.width, test_case["resized"][1].get<int32_t>());
  }
  EXPECT_GE(errors, 10);
}

TEST(SmartResize, RejectsSmallAndExtremeImages) {
  const ProcessorConfig config;
  try {
    smart_resize(1, 300, config);
    ADD_FAILURE() << "accepted a 300x1 image";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_STREQ(error.what(),
                 "image is 300x1 pixels, but both sides must be at least 28 pixels: send a larger "
                 "image");
  }
  try {
    smart_resize(28, 5628, config);
    ADD_FAILURE() << "accepted a 5628x28 image";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_STREQ(error.what(),
                 "image is 5628x28 pixels; aspect ratio 201 exceeds the limit of 200: crop or pad "
                 "it");
  }
  // Exactly 200 is accepted.
  EXPECT_NO_THROW(smart_resize(28, 5600, config));
}

TEST(SmartResize, Glyph72DpiPage) {
  const ResizedSize size = smart_resize(842, 595, ProcessorConfig{});
  EXPECT_EQ(size.height, 840);
  EXPECT_EQ(size.width, 588);
}

TEST(ResizeBicubic, MatchesPillowExactly) {
  int checked = 0;
  for (const auto& entry : fixtures().index["images"]) {
    if (!entry.contains("resized_rgb")) {
      continue;
    }
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    const int32_t height = entry["resized"][0].get<int32_t>();
    const int32_t width = entry["resized"][1].get<int32_t>();
    const Image resized = resize_bicubic(pillow_decoded(entry), width, height);
    const std::vector<uint8_t> expected = fixtures().bytes(entry["resized_rgb"]);
    ASSERT_EQ(resized.rgb.size(), expected.size());
    int max_difference = 0;
    int64_t total = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const int delta = std::abs(resized.rgb[i] - expected[i]);
      max_difference = std::max(max_difference, delta);
      total += delta;
    }
    EXPECT_EQ(max_difference, 0) << "mean " << static_cast<double>(total) / expected.size();
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(ResizeBicubic, SameSizeCopies) {
  const Image image{.width = 2, .height = 1, .rgb = {1, 2, 3, 4, 5, 6}};
  EXPECT_EQ(resize_bicubic(image, 2, 1).rgb, image.rgb);
}

// The whole path from the encoded file: decode_image, then preprocess.
TEST(Preprocess, PixelValuesMatchTransformers) {
  int checked = 0;
  for (const auto& entry : fixtures().index["images"]) {
    if (!entry.contains("pixel_values")) {
      continue;
    }
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    const Image image = decode_image(read_file(kDataDir + "/images/" + file));
    const ProcessedImage processed = preprocess(image, config_for(entry));
    const std::vector<float> expected = fixtures().floats(entry["pixel_values"]);
    const auto& shape = entry["pixel_values_shape"];
    ASSERT_EQ(shape[1].get<size_t>(), 1176u);
    ASSERT_EQ(processed.pixel_values.size(), expected.size());
    ASSERT_EQ(expected.size(), shape[0].get<size_t>() * 1176);
    float max_difference = 0.0f;
    for (size_t i = 0; i < expected.size(); ++i) {
      max_difference = std::max(max_difference, std::abs(processed.pixel_values[i] - expected[i]));
    }
    EXPECT_LE(max_difference, 1e-5f);
    EXPECT_EQ(max_difference, 0.0f) << "bitwise equality expected: same formula in float32";
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

TEST(Preprocess, GridAndTokensMatchTransformers) {
  int checked = 0;
  for (const auto& entry : fixtures().index["images"]) {
    const std::string file = entry["file"];
    SCOPED_TRACE(file);
    const ProcessorConfig config = config_for(entry);
    if (entry.contains("error")) {
      try {
        preprocess(pillow_decoded(entry), config);
        ADD_FAILURE() << "transformers raised: " << entry["error"];
      } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
      }
      continue;
    }
    const ResizedSize size =
        smart_resize(entry["height"].get<int32_t>(), entry["width"].get<int32_t>(), config);
    EXPECT_EQ(size.height, entry["resized"][0].get<int32_t>());
    EXPECT_EQ(size.width, entry["resized"][1].get<int32_t>());
    const ProcessedImage processed = preprocess(pillow_decoded(entry), config);
    EXPECT_EQ(processed.grid_thw[0], entry["grid_thw"][0].get<int32_t>());
    EXPECT_EQ(processed.grid_thw[1], entry["grid_thw"][1].get<int32_t>());
    EXPECT_EQ(processed.grid_thw[2], entry["grid_thw"][2].get<int32_t>());
    EXPECT_EQ(processed.num_tokens(), entry["num_tokens"].get<int32_t>());
    EXPECT_EQ(processed.pixel_values.size(),
              static_cast<size_t>(processed.grid_thw[1]) * processed.grid_thw[2] * 1176);
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

}  // namespace
}  // namespace glyph::vision
