#include "server/image_inputs.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "server/api_error.h"

namespace glyph::server {
namespace {

constexpr int32_t kImageToken = 151363;

std::shared_ptr<const EncodedImage> image_of(std::array<int32_t, 3> grid, uint8_t digest_byte) {
  auto image = std::make_shared<EncodedImage>();
  image->digest.fill(digest_byte);
  image->grid_thw = grid;
  image->num_tokens = grid[0] * grid[1] * grid[2] / 4;
  image->embeddings = std::make_shared<const std::vector<float>>(
      static_cast<size_t>(image->num_tokens) * 8, static_cast<float>(digest_byte));
  return image;
}

TEST(PlaceImages, ExpandsPlaceholdersInOrder) {
  const std::vector<int32_t> prompt = {1, 2, kImageToken, 3, kImageToken, 4};
  const std::vector<std::shared_ptr<const EncodedImage>> images = {image_of({1, 4, 6}, 1),
                                                                   image_of({1, 2, 2}, 2)};
  engine::GenerateRequest request;
  place_images(prompt, images, kImageToken, 2, request);

  // 2 + 6 + 1 + 1 + 1 tokens.
  ASSERT_EQ(request.prompt.size(), 11u);
  EXPECT_EQ(std::count(request.prompt.begin(), request.prompt.end(), kImageToken), 7);
  ASSERT_EQ(request.embeddings.size(), 2u);
  EXPECT_EQ(request.embeddings[0].offset, 2);
  EXPECT_EQ(request.embeddings[0].count, 6);
  EXPECT_EQ(request.embeddings[1].offset, 9);
  EXPECT_EQ(request.embeddings[1].count, 1);
  EXPECT_EQ(request.embeddings[1].rows, images[1]->embeddings);
  ASSERT_EQ(request.positions.size(), 33u);
  // The first image is 2 rows of 3 merged tokens at st = 2; text resumes at 2 + 3.
  EXPECT_EQ(request.positions[3 * 2 + 2], 2);   // First image token, w.
  EXPECT_EQ(request.positions[3 * 7 + 1], 3);   // Last image token, h = 2 + row 1.
  EXPECT_EQ(request.positions[3 * 7 + 2], 4);   // w = 2 + col 2.
  EXPECT_EQ(request.positions[3 * 8], 5);       // Text after the image.
}

TEST(PlaceImages, CacheKeysFollowImageContent) {
  const std::vector<int32_t> prompt = {1, kImageToken, 2};
  engine::GenerateRequest first;
  engine::GenerateRequest same;
  engine::GenerateRequest other;
  place_images(prompt, std::vector{image_of({1, 2, 4}, 7)}, kImageToken, 2, first);
  place_images(prompt, std::vector{image_of({1, 2, 4}, 7)}, kImageToken, 2, same);
  place_images(prompt, std::vector{image_of({1, 2, 4}, 8)}, kImageToken, 2, other);

  EXPECT_EQ(first.prompt, other.prompt);
  EXPECT_EQ(first.cache_key, same.cache_key);
  EXPECT_EQ(first.cache_key[0], 1);
  EXPECT_EQ(first.cache_key.back(), 2);
  std::set<int32_t> distinct;
  for (size_t i = 1; i + 1 < first.cache_key.size(); ++i) {
    EXPECT_LT(first.cache_key[i], 0) << "image keys never equal vocabulary ids";
    EXPECT_NE(first.cache_key[i], other.cache_key[i]) << i;
    distinct.insert(first.cache_key[i]);
  }
  EXPECT_EQ(distinct.size(), first.cache_key.size() - 2);
}

TEST(PlaceImages, TextOnlyPromptsKeepTextPositions) {
  engine::GenerateRequest request;
  place_images(std::vector<int32_t>{5, 6, 7}, {}, kImageToken, 2, request);
  EXPECT_EQ(request.prompt, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_TRUE(request.cache_key.empty());
  EXPECT_TRUE(request.positions.empty());
  EXPECT_TRUE(request.embeddings.empty());
}

TEST(PlaceImages, PlaceholderCountMustMatch) {
  engine::GenerateRequest request;
  EXPECT_THROW(place_images(std::vector<int32_t>{1, 2}, std::vector{image_of({1, 2, 2}, 1)},
                            kImageToken, 2, request),
               ApiError);
  EXPECT_THROW(place_images(std::vector<int32_t>{kImageToken}, {}, kImageToken, 2, request),
               ApiError);
}

}  // namespace
}  // namespace glyph::server

namespace glyph::server {
namespace {

// A PNG file from the image fixtures.
std::vector<uint8_t> fixture_image(const std::string& name) {
  std::ifstream file(std::string(GLYPH_TEST_DATA_DIR) + "/images/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

ImageEncoder tiny_encoder(size_t cache_bytes) {
  model::LoadOptions options;
  options.model_dir = std::string(GLYPH_TEST_DATA_DIR) + "/tiny-glyph";
  options.compute_type = model::ComputeType::kF32;
  options.threads = 1;
  return ImageEncoder(model::VisionModel::load(options), vision::ProcessorConfig::load(options.model_dir),
                      vision::DecodeLimits{}, cache_bytes);
}

TEST(ImageEncoder, EncodesEachDistinctImageOnce) {
  ImageEncoder encoder = tiny_encoder(size_t{64} << 20);
  const std::vector<uint8_t> page = fixture_image("rgb_100x37.png");
  const auto first = encoder.encode_bytes(page, 4096);
  const auto again = encoder.encode_bytes(page, 4096);
  EXPECT_EQ(first, again);
  EXPECT_EQ(encoder.encodes(), 1);
  EXPECT_EQ(encoder.cache_hits(), 1);
  EXPECT_EQ(first->num_tokens, 10);  // smart_resize gives 56x140: 2 x 5 merged tokens.
  EXPECT_EQ(first->embeddings->size(), 10u * 32u);

  const auto other = encoder.encode_bytes(fixture_image("rgba_64x48.png"), 4096);
  EXPECT_NE(other->digest, first->digest);
  EXPECT_EQ(encoder.encodes(), 2);
}

TEST(ImageEncoder, EvictsLeastRecentlyUsed) {
  // Room for one image's embeddings: 10 tokens of 32 floats.
  ImageEncoder encoder = tiny_encoder(10 * 32 * sizeof(float));
  const std::vector<uint8_t> first = fixture_image("rgb_100x37.png");
  const std::vector<uint8_t> second = fixture_image("palette_70x29.gif");
  encoder.encode_bytes(first, 4096);
  encoder.encode_bytes(second, 4096);
  encoder.encode_bytes(first, 4096);
  EXPECT_EQ(encoder.encodes(), 3);
  EXPECT_EQ(encoder.cache_hits(), 0);
}

TEST(ImageEncoder, RejectsImagesOverTheTokenBudget) {
  ImageEncoder encoder = tiny_encoder(size_t{64} << 20);
  try {
    encoder.encode_bytes(fixture_image("rgb_100x37.png"), 9);
    ADD_FAILURE() << "a 10-token image passed a 9-token budget";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("needs 10 tokens, more than the 9 tokens left"),
              std::string::npos);
  }
  EXPECT_EQ(encoder.encodes(), 0);
}

}  // namespace
}  // namespace glyph::server
