// Glyph's text rendering: long text laid out on page images the way Glyph
// was post-trained to read it.
//
// Glyph's own script (thu-coai/Glyph scripts/word2png_function.py with
// config/config_en.json) lays the text into reportlab Paragraphs on an A4
// SimpleDocTemplate and rasterizes the PDF with poppler's pdftoppm. This file
// reproduces that layout without Python. Lines break as reportlab 4.x breaks
// them (greedy wrapping, widths from the font's hmtx advances, no kerning).
// Pages break as reportlab breaks them (paragraphs of 30 source lines, its
// orphan rule), and the crops are the script's. HarfBuzz shapes the text and
// FreeType draws anti-aliased glyphs. tests/vision/page_render_test.cpp compares it with pages made
// by reportlab 4.x and poppler 22.12 (tools/make_render_reference.py).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vision/image.h"
#include "vision/image_processor.h"

namespace glyph::vision {

// Debian's fonts-dejavu-core; Bitstream Vera's metrics, on which DejaVu Sans
// is based, are close to those of Verdana, the font Glyph was trained on.
inline constexpr std::string_view kDefaultFontPath =
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
// Debian's fonts-noto-cjk collection; face 2 is Noto Sans CJK SC.
inline constexpr std::string_view kDefaultCjkFontPath =
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
inline constexpr int32_t kDefaultCjkFaceIndex = 2;

enum class TextAlignment { kLeft, kCenter, kRight };

// Glyph's post-training rendering (config_en.json) is the default. Lengths
// are in PDF points (1/72 inch).
struct RenderOptions {
  double page_width_pt = 595.0;  // A4.
  double page_height_pt = 842.0;
  double dpi = 72.0;  // Pixels per inch of the page images.
  double margin_x_pt = 10.0;
  double margin_y_pt = 10.0;
  double font_size_pt = 9.0;
  double line_height_pt = 10.0;
  // Latin font (TrueType or OpenType). Glyph used Verdana; pass its .ttf here.
  std::string font_path{kDefaultFontPath};
  // Font for the characters that the Latin font lacks, loaded only when the
  // text has such characters.
  std::string cjk_font_path{kDefaultCjkFontPath};
  int32_t cjk_face_index = kDefaultCjkFaceIndex;  // Face within a .ttc collection.
  TextAlignment alignment = TextAlignment::kLeft;
  std::array<uint8_t, 3> text_color{0, 0, 0};
  std::array<uint8_t, 3> background_color{255, 255, 255};
  // Crops every page to the rightmost ink column plus margin_x_pt pixels.
  bool crop_width = true;
  // Crops the last page below its last ink row plus margin_y_pt pixels.
  bool crop_last_page = true;
};

// One glyph of a laid-out line; x is from the start of the line, in points.
struct PlacedGlyph {
  uint32_t glyph_id = 0;
  uint8_t font = 0;  // 0: the Latin font, 1: the CJK font.
  double x_pt = 0.0;
};

struct LaidOutLine {
  int32_t slot = 0;  // Line position on its page, from 0 at the top.
  // The words as drawn, joined by one space; runs of two or more spaces in
  // the input are kept as U+00A0 characters.
  std::string text;
  double width_pt = 0.0;
  std::vector<PlacedGlyph> glyphs;
};

struct LaidOutPage {
  std::vector<LaidOutLine> lines;  // Blank lines are included, with no glyphs.
};

// Lays out text and draws pages with one set of loaded fonts. Not safe to
// share between threads; each request can build its own (loading DejaVu
// Sans takes about a millisecond).
class PageRenderer {
 public:
  // Loads the Latin font. Throws glyph::Error(kInvalidRequest) for invalid
  // options and glyph::Error(kNotFound) when the font file does not exist.
  explicit PageRenderer(const RenderOptions& options);
  ~PageRenderer();
  PageRenderer(const PageRenderer&) = delete;
  PageRenderer& operator=(const PageRenderer&) = delete;

  // Breaks UTF-8 text into lines and pages. Throws glyph::Error(kInvalidRequest)
  // for empty text or invalid UTF-8, and glyph::Error(kNotFound) when the text
  // needs the CJK font and its file does not exist.
  std::vector<LaidOutPage> layout(std::string_view utf8_text);

  // Rasterizes one page at options.dpi and applies the crops; `last_page`
  // selects the last-page crop.
  Image draw(const LaidOutPage& page, bool last_page);

  const RenderOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Renders text to page images: PageRenderer's layout, then draw for each page.
// Same input and options, same pixels.
std::vector<Image> render_pages(std::string_view utf8_text, const RenderOptions& options);

struct RenderStats {
  int32_t pages = 0;
  int64_t image_tokens = 0;  // Sum over the pages.
  std::vector<int64_t> image_tokens_per_page;
};

RenderStats compute_render_stats(const std::vector<Image>& pages,
                                 const ProcessorConfig& config = {});

}  // namespace glyph::vision
