// Fonts for the page renderer: the Latin font, the CJK fallback font loaded
// on first use, HarfBuzz shaping and FreeType glyph bitmaps.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vision/page_render.h"

namespace glyph::vision {

inline constexpr uint8_t kLatinFont = 0;
inline constexpr uint8_t kCjkFont = 1;

struct ShapedGlyph {
  uint32_t glyph_id = 0;
  uint32_t cluster = 0;  // Index of the first code point that the glyph draws.
  // Advance in thousandths of an em, as reportlab measures text: the hmtx
  // advance times 1000 / unitsPerEm, unrounded.
  double advance_milli_em = 0.0;
  double x_offset_milli_em = 0.0;
};

// An anti-aliased glyph coverage bitmap; `left` and `top` place it relative
// to the pen position on the baseline, y growing upwards as in FreeType.
struct GlyphBitmap {
  int32_t left = 0;
  int32_t top = 0;
  int32_t width = 0;
  int32_t rows = 0;
  std::vector<uint8_t> coverage;  // [rows, width]
};

class PageFonts {
 public:
  // Loads the Latin font; throws glyph::Error(kNotFound) for a missing file
  // and glyph::Error(kInvalidRequest) for a file FreeType cannot read.
  explicit PageFonts(const RenderOptions& options);
  ~PageFonts();
  PageFonts(const PageFonts&) = delete;
  PageFonts& operator=(const PageFonts&) = delete;

  // The font that draws `code_point`: the Latin font when it has a glyph,
  // else the CJK font when that has one, else the Latin font's .notdef glyph
  // (what reportlab draws for a character its font lacks).
  uint8_t font_for(char32_t code_point);

  // Shapes text[begin, end), all drawn by `font`, without kerning or
  // ligatures, so that advances are the font's hmtx widths as reportlab uses
  // them. Appends the glyphs in visual order; clusters index into `text`.
  void shape(std::u32string_view text, size_t begin, size_t end, uint8_t font,
             std::vector<ShapedGlyph>& out);

  // The glyph rasterized unhinted at the options' font size and dpi, shifted
  // right by quarter_pixels / 4 of a pixel; cached.
  const GlyphBitmap& glyph_bitmap(uint8_t font, uint32_t glyph_id, int32_t quarter_pixels);

  struct Font;  // One FreeType face and its HarfBuzz font; defined in the .cpp.

 private:
  Font& font(uint8_t index);
  void load_cjk_font();

  const RenderOptions options_;
  void* library_ = nullptr;  // FT_Library
  std::unique_ptr<Font> latin_;
  std::unique_ptr<Font> cjk_;
  bool cjk_tried_ = false;
  std::unordered_map<char32_t, uint8_t> font_of_code_point_;
  std::unordered_map<uint64_t, GlyphBitmap> bitmaps_;
};

}  // namespace glyph::vision
