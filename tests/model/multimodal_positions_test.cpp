// M-RoPE positions against transformers' Glm4vModel.get_rope_index
// (tools/make_vision_fixtures.py).
#include "model/multimodal_positions.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "vision_fixtures.h"

namespace glyph::model {
namespace {

constexpr int32_t kMergeSize = 2;

TEST(MultimodalPositions, MatchGetRopeIndex) {
  const auto& cases = testing::vision_fixtures().position_cases;
  ASSERT_GE(cases.size(), 5u);
  for (const testing::PositionCase& position_case : cases) {
    const MultimodalPositions result =
        multimodal_positions(position_case.num_tokens, position_case.images, kMergeSize);
    EXPECT_EQ(result.positions, position_case.positions) << position_case.name;
    EXPECT_EQ(result.rope_delta, position_case.rope_delta) << position_case.name;
  }
}

TEST(MultimodalPositions, MatchChatPrompts) {
  for (const testing::MultimodalPrompt& prompt : testing::vision_fixtures().prompts) {
    const auto tokens = static_cast<int32_t>(prompt.prompt_ids.size());
    const MultimodalPositions result = multimodal_positions(tokens, prompt.images, kMergeSize);
    EXPECT_EQ(result.positions, prompt.positions) << prompt.name;
    EXPECT_EQ(result.rope_delta, prompt.rope_delta) << prompt.name;
  }
}

TEST(MultimodalPositions, TextOnlyCountsUp) {
  const MultimodalPositions result = multimodal_positions(4, {}, kMergeSize);
  EXPECT_EQ(result.positions, (std::vector<int32_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}));
  EXPECT_EQ(result.rope_delta, 0);
}

// One 4x8-patch image (2x4 merged tokens) after 2 text tokens: the image starts at 2, and the
// text after it at 2 + max(2, 4) = 6, so 11 tokens end at position 6 and rope_delta is
// 6 + 1 - 11 = -4.
TEST(MultimodalPositions, TextAfterImageSkipsWidestSide) {
  const std::vector<ImagePlacement> images = {{2, {1, 4, 8}}};
  const MultimodalPositions result = multimodal_positions(11, images, kMergeSize);
  ASSERT_EQ(result.positions.size(), 33u);
  EXPECT_EQ(std::vector<int32_t>(result.positions.begin() + 6, result.positions.begin() + 9),
            (std::vector<int32_t>{2, 2, 2}));  // Row 0, column 0.
  EXPECT_EQ(std::vector<int32_t>(result.positions.begin() + 27, result.positions.begin() + 30),
            (std::vector<int32_t>{2, 3, 5}));  // Row 1, column 3.
  EXPECT_EQ(std::vector<int32_t>(result.positions.begin() + 30, result.positions.end()),
            (std::vector<int32_t>{6, 6, 6}));
  EXPECT_EQ(result.rope_delta, -4);
}

TEST(MultimodalPositions, RejectsOverlappingImages) {
  const std::vector<ImagePlacement> images = {{0, {1, 4, 4}}, {3, {1, 4, 4}}};
  EXPECT_THROW(multimodal_positions(20, images, kMergeSize), Error);
}

TEST(MultimodalPositions, RejectsImagesOutOfOrder) {
  const std::vector<ImagePlacement> images = {{10, {1, 4, 4}}, {0, {1, 4, 4}}};
  EXPECT_THROW(multimodal_positions(20, images, kMergeSize), Error);
}

TEST(MultimodalPositions, RejectsImagePastPromptEnd) {
  const std::vector<ImagePlacement> images = {{17, {1, 4, 4}}};
  EXPECT_THROW(multimodal_positions(20, images, kMergeSize), Error);
}

TEST(MultimodalPositions, RejectsGridNotMultipleOfMerge) {
  const std::vector<ImagePlacement> odd = {{0, {1, 3, 4}}};
  EXPECT_THROW(multimodal_positions(20, odd, kMergeSize), Error);
  const std::vector<ImagePlacement> empty = {{0, {0, 4, 4}}};
  EXPECT_THROW(multimodal_positions(20, empty, kMergeSize), Error);
}

TEST(MultimodalPositions, RejectsInvalidMergeSize) {
  EXPECT_THROW(multimodal_positions(4, {}, 0), Error);
}

}  // namespace
}  // namespace glyph::model
