// The page renderer against pages that Glyph's pipeline (reportlab 4.x and
// poppler's pdftoppm, DejaVu Sans) drew from the same texts; the fixtures come
// from tools/make_render_reference.py.
#include "vision/page_render.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "vision/image.h"

namespace glyph::vision {
namespace {

const std::filesystem::path kRenderData = std::filesystem::path(GLYPH_TEST_DATA_DIR) / "render";

// Mean absolute grey-level difference (0-255) that the renderer stays under
// against poppler's pages. Measured 0.000 to 0.003 over the six reference
// pages (poppler 22.12's Splash and this renderer both draw unhinted outlines
// with FreeType 2.12 here). The bound leaves room for other FreeType versions,
// while on paragraph_page_001.png one line moved a pixel to the right costs
// 0.62 and half a line missing costs 0.30.
constexpr double kMaxMeanGreyDifference = 0.25;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

const nlohmann::json& reference() {
  static const nlohmann::json json =
      nlohmann::json::parse(read_file(kRenderData / "reference.json"));
  return json;
}

int grey(const Image& image, int32_t x, int32_t y) {
  const uint8_t* pixel = &image.rgb[3 * (static_cast<size_t>(y) * image.width + x)];
  return (pixel[0] * 19595 + pixel[1] * 38470 + pixel[2] * 7471 + 0x8000) >> 16;
}

double mean_grey_difference(const Image& a, const Image& b) {
  double total = 0.0;
  for (int32_t y = 0; y < a.height; ++y) {
    for (int32_t x = 0; x < a.width; ++x) total += std::abs(grey(a, x, y) - grey(b, x, y));
  }
  return total / (static_cast<double>(a.width) * a.height);
}

// Checks the layout of one text against the reference pages: page count,
// then each page's lines by slot and text.
void expect_same_layout(const std::vector<LaidOutPage>& pages, const nlohmann::json& expected,
                        const std::string& name) {
  ASSERT_EQ(pages.size(), expected.size()) << name << ": page count";
  for (size_t p = 0; p < pages.size(); ++p) {
    const nlohmann::json& lines = expected[p]["lines"];
    ASSERT_EQ(pages[p].lines.size(), lines.size()) << name << " page " << p + 1 << ": line count";
    for (size_t l = 0; l < lines.size(); ++l) {
      EXPECT_EQ(pages[p].lines[l].slot, lines[l]["slot"].get<int>())
          << name << " page " << p + 1 << " line " << l;
      EXPECT_EQ(pages[p].lines[l].text, lines[l]["text"].get<std::string>())
          << name << " page " << p + 1 << " slot " << l;
    }
  }
}

TEST(PageRender, LineBreaksMatchReportlab) {
  PageRenderer renderer(RenderOptions{});
  for (const nlohmann::json& test_case : reference()["cases"]) {
    const std::string name = test_case["name"];
    const std::string text = read_file(kRenderData / test_case["input"].get<std::string>());
    expect_same_layout(renderer.layout(text), test_case["pages"], name);
  }
}

TEST(PageRender, LongTextLineBreaksMatchReportlab) {
  const nlohmann::json& compression = reference()["compression"];
  PageRenderer renderer(RenderOptions{});
  const std::string text = read_file(kRenderData / compression["input"].get<std::string>());
  expect_same_layout(renderer.layout(text), compression["pages"], "gsm8k_20k_words");
}

TEST(PageRender, PixelsMatchPoppler) {
  for (const nlohmann::json& test_case : reference()["cases"]) {
    const std::string name = test_case["name"];
    const std::vector<Image> pages = render_pages(
        read_file(kRenderData / test_case["input"].get<std::string>()), RenderOptions{});
    ASSERT_EQ(pages.size(), test_case["pages"].size()) << name;
    for (size_t p = 0; p < pages.size(); ++p) {
      const nlohmann::json& expected = test_case["pages"][p];
      EXPECT_EQ(pages[p].width, expected["width"].get<int>()) << name << " page " << p + 1;
      EXPECT_EQ(pages[p].height, expected["height"].get<int>()) << name << " page " << p + 1;
      if (expected["png"].is_null()) continue;
      const std::string png = read_file(kRenderData / expected["png"].get<std::string>());
      const Image poppler =
          decode_image(std::span(reinterpret_cast<const uint8_t*>(png.data()), png.size()));
      ASSERT_EQ(poppler.width, pages[p].width) << name << " page " << p + 1;
      ASSERT_EQ(poppler.height, pages[p].height) << name << " page " << p + 1;
      const double difference = mean_grey_difference(pages[p], poppler);
      std::printf("%s page %zu: mean grey difference %.3f\n", name.c_str(), p + 1, difference);
      EXPECT_LT(difference, kMaxMeanGreyDifference) << name << " page " << p + 1;
    }
  }
}

TEST(PageRender, CompressionRatioOfLongText) {
  // 20,000 words of GSM8K questions at Glyph's settings; text tokens counted
  // by Hugging Face tokenizers with the GLM tokenizer.json of tests/data/tiny-glyph.
  const nlohmann::json& compression = reference()["compression"];
  const std::vector<Image> pages = render_pages(
      read_file(kRenderData / compression["input"].get<std::string>()), RenderOptions{});
  ASSERT_EQ(pages.size(), compression["pages"].size());
  for (size_t p = 0; p < pages.size(); ++p) {
    EXPECT_EQ(pages[p].width, compression["pages"][p]["width"].get<int>()) << "page " << p + 1;
    EXPECT_EQ(pages[p].height, compression["pages"][p]["height"].get<int>()) << "page " << p + 1;
  }

  const RenderStats stats = compute_render_stats(pages);
  const auto text_tokens = compression["text_tokens"].get<int64_t>();
  const double ratio = static_cast<double>(text_tokens) / static_cast<double>(stats.image_tokens);
  std::printf("%d words: %d pages, %lld image tokens, %lld text tokens, compression %.2fx\n",
              compression["words"].get<int>(), stats.pages,
              static_cast<long long>(stats.image_tokens), static_cast<long long>(text_tokens),
              ratio);
  EXPECT_GE(ratio, 2.5);
  EXPECT_LE(ratio, 4.5);
}

TEST(PageRender, ImageTokensMatchTransformers) {
  // transformers 4.57 Glm4v smart_resize(2, h, w, 2, 28, 12544, 47040000),
  // then (h / 28) * (w / 28).
  struct Case {
    int32_t height, width;
    int64_t tokens;
  };
  const Case cases[] = {{842, 595, 630},   {476, 590, 357},      {56, 56, 9},    {30, 1000, 36},
                        {1123, 794, 1120}, {20000, 3000, 29949}, {28, 5600, 200}};
  for (const Case& c : cases) {
    EXPECT_EQ(count_image_tokens(c.width, c.height), c.tokens) << c.height << "x" << c.width;
  }
}

TEST(PageRender, ImageTokensRejectTinyPage) {
  try {
    count_image_tokens(20, 842);
    FAIL() << "a 20-pixel-wide page was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
  }
}

TEST(PageRender, SameInputSameBytes) {
  const std::string text = read_file(kRenderData / "spaces.txt");
  const std::vector<Image> first = render_pages(text, RenderOptions{});
  const std::vector<Image> second = render_pages(text, RenderOptions{});
  ASSERT_EQ(first.size(), second.size());
  for (size_t p = 0; p < first.size(); ++p) {
    EXPECT_EQ(encode_png(first[p]), encode_png(second[p])) << "page " << p + 1;
  }
}

TEST(PageRender, Dpi96ScalesPages) {
  RenderOptions options;
  options.dpi = 96;
  options.crop_width = false;
  options.crop_last_page = false;
  const std::string text = read_file(kRenderData / "paragraph.txt");
  const std::vector<Image> pages = render_pages(text, options);
  ASSERT_EQ(pages.size(), 2u);
  // pdftoppm -r 96 makes an A4 page ceil(595 * 96 / 72) x ceil(842 * 96 / 72) pixels.
  EXPECT_EQ(pages[0].width, 794);
  EXPECT_EQ(pages[0].height, 1123);

  // Line breaks are in points, so the dpi does not move them.
  PageRenderer renderer(options);
  expect_same_layout(renderer.layout(text), reference()["cases"][1]["pages"],
                     "paragraph at 96 dpi");
}

TEST(PageRender, CjkWrapsBetweenCharacters) {
  // Noto Sans CJK advances Han characters by exactly one em (9 pt), so 62 fit
  // in the 563 pt frame width and the 63rd starts a new line.
  std::string text;
  for (int i = 0; i < 200; ++i) text += "\xe6\xb1\x89";  // U+6C49
  PageRenderer renderer(RenderOptions{});
  const std::vector<LaidOutPage> pages = renderer.layout(text);
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].lines.size(), 4u);
  const size_t expected_characters[] = {62, 62, 62, 14};
  for (size_t l = 0; l < 4; ++l) {
    EXPECT_EQ(pages[0].lines[l].glyphs.size(), expected_characters[l]) << "line " << l;
    EXPECT_EQ(pages[0].lines[l].text.size(), 3 * expected_characters[l]) << "line " << l;
  }
  for (const PlacedGlyph& glyph : pages[0].lines[0].glyphs) EXPECT_EQ(glyph.font, 1);
  EXPECT_DOUBLE_EQ(pages[0].lines[0].width_pt, 62 * 9.0);

  const std::vector<Image> images = render_pages(text, RenderOptions{});
  ASSERT_EQ(images.size(), 1u);
  // The width crop stops 10 pixels after the ink of the 62nd character.
  EXPECT_GT(images[0].width, 16 + 61 * 9);
  EXPECT_LE(images[0].width, 16 + 62 * 9 + 10);
}

TEST(PageRender, CjkKeepsClosingPunctuationOnLine) {
  // 62 Han characters fill the line. The 63rd character is "。", which must
  // not start a line, so the 62nd character moves down with it.
  std::string text;
  for (int i = 0; i < 62; ++i) text += "\xe6\xb1\x89";
  text += "\xe3\x80\x82";  // U+3002
  text += "\xe6\xb1\x89";
  PageRenderer renderer(RenderOptions{});
  const std::vector<LaidOutPage> pages = renderer.layout(text);
  ASSERT_EQ(pages[0].lines.size(), 2u);
  EXPECT_EQ(pages[0].lines[0].glyphs.size(), 61u);
  EXPECT_EQ(pages[0].lines[1].text, "\xe6\xb1\x89\xe3\x80\x82\xe6\xb1\x89");
}

TEST(PageRender, MixedScriptsUseBothFonts) {
  PageRenderer renderer(RenderOptions{});
  const std::vector<LaidOutPage> pages = renderer.layout("Glyph \xe4\xb8\xad\xe6\x96\x87 text");
  ASSERT_EQ(pages.size(), 1u);
  ASSERT_EQ(pages[0].lines.size(), 1u);
  const LaidOutLine& line = pages[0].lines[0];
  EXPECT_EQ(line.text, "Glyph \xe4\xb8\xad\xe6\x96\x87 text");
  ASSERT_EQ(line.glyphs.size(), 11u);
  EXPECT_EQ(line.glyphs[4].font, 0);  // h
  EXPECT_EQ(line.glyphs[5].font, 1);  // U+4E2D
  EXPECT_EQ(line.glyphs[6].font, 1);  // U+6587
  EXPECT_EQ(line.glyphs[7].font, 0);  // t
}

TEST(PageRender, WhitespaceOnlyTextGivesBlankPage) {
  const std::vector<Image> pages = render_pages("\n \n", RenderOptions{});
  ASSERT_EQ(pages.size(), 1u);
  // No ink, so the crops leave the page whole.
  EXPECT_EQ(pages[0].width, 595);
  EXPECT_EQ(pages[0].height, 842);
}

TEST(PageRender, CustomPageAndFontSize) {
  RenderOptions options;
  options.page_width_pt = 300;
  options.page_height_pt = 200;
  options.font_size_pt = 12;
  options.line_height_pt = 14;
  options.crop_width = false;
  options.crop_last_page = false;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(i) + "\n";
  PageRenderer renderer(options);
  const std::vector<LaidOutPage> pages = renderer.layout(text);
  // 200 - 2 * 10 - 2 * 6 = 168 pt of frame has room for 12 lines of 14 pt. Each
  // page after a split starts with the empty line that reportlab gives the
  // rest of a paragraph split after a <br/>. reportlab 4.x with this page
  // (tools/make_render_reference.py's render_pdf) puts 12, 12, 12 and 7
  // lines on the pages, starting "line 0", "", "", "".
  ASSERT_EQ(pages.size(), 4u);
  EXPECT_EQ(pages[0].lines.size(), 12u);
  EXPECT_EQ(pages[1].lines.size(), 12u);
  EXPECT_EQ(pages[2].lines.size(), 12u);
  EXPECT_EQ(pages[3].lines.size(), 7u);
  EXPECT_EQ(pages[0].lines[0].text, "line 0");
  EXPECT_EQ(pages[1].lines[0].text, "");
  EXPECT_EQ(pages[1].lines[1].text, "line 12");
  EXPECT_EQ(pages[2].lines[1].text, "line 23");
  EXPECT_EQ(pages[3].lines[1].text, "line 34");
  const Image image = renderer.draw(pages[0], false);
  EXPECT_EQ(image.width, 300);
  EXPECT_EQ(image.height, 200);
}

TEST(PageRender, RejectsEmptyText) {
  try {
    render_pages("", RenderOptions{});
    FAIL() << "empty text was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("empty"), std::string::npos) << error.what();
  }
}

TEST(PageRender, RejectsInvalidUtf8) {
  try {
    render_pages("valid then \xc3\x28", RenderOptions{});
    FAIL() << "invalid UTF-8 was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("byte offset 11"), std::string::npos) << error.what();
  }
}

TEST(PageRender, RejectsMissingFont) {
  RenderOptions options;
  options.font_path = "/nonexistent/Verdana.ttf";
  try {
    render_pages("text", options);
    FAIL() << "a missing font file was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(error.what()).find("/nonexistent/Verdana.ttf"), std::string::npos)
        << error.what();
  }
}

TEST(PageRender, RejectsMissingCjkFontOnlyWhenNeeded) {
  RenderOptions options;
  options.cjk_font_path = "/nonexistent/cjk.ttc";
  EXPECT_EQ(render_pages("Latin only", options).size(), 1u);
  try {
    render_pages("\xe4\xb8\xad", options);
    FAIL() << "a missing CJK font file was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kNotFound);
  }
}

TEST(PageRender, RejectsInvalidOptions) {
  RenderOptions options;
  options.dpi = 0;
  EXPECT_THROW(PageRenderer{options}, Error);
  options = RenderOptions{};
  options.page_width_pt = 30;  // No room inside 2 * (10 + 6) pt.
  EXPECT_THROW(PageRenderer{options}, Error);
  options = RenderOptions{};
  options.line_height_pt = -1;
  EXPECT_THROW(PageRenderer{options}, Error);
}

}  // namespace
}  // namespace glyph::vision
