#include "server/image_inputs.h"

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include <gtest/gtest.h>

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
