#include "vision/page_render_fonts.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include <hb-ft.h>
#include <hb.h>

#include <filesystem>

#include "core/error.h"

namespace glyph::vision {

struct PageFonts::Font {
  FT_Face face = nullptr;
  hb_font_t* hb_font = nullptr;
  double milli_em_per_unit = 1.0;  // 1000 / unitsPerEm.

  ~Font() {
    if (hb_font != nullptr) hb_font_destroy(hb_font);
    if (face != nullptr) FT_Done_Face(face);
  }
};

namespace {

FT_Library ft_library(void* library) { return static_cast<FT_Library>(library); }

// Opens one face of a font file with FreeType, with a HarfBuzz font over the
// same tables at a scale of one unit per font unit.
std::unique_ptr<PageFonts::Font> open_font(void* library, const std::string& path,
                                           int32_t face_index, double font_size_pt, double dpi,
                                           std::string_view role);

}  // namespace

PageFonts::PageFonts(const RenderOptions& options) : options_(options) {
  FT_Library library = nullptr;
  if (FT_Init_FreeType(&library) != 0) {
    throw_error(ErrorKind::kInternal, "FreeType failed to initialize");
  }
  library_ = library;
  try {
    latin_ =
        open_font(library_, options_.font_path, 0, options_.font_size_pt, options_.dpi, "font");
  } catch (...) {
    FT_Done_FreeType(library);
    throw;
  }
}

PageFonts::~PageFonts() {
  latin_.reset();
  cjk_.reset();
  FT_Done_FreeType(ft_library(library_));
}

PageFonts::Font& PageFonts::font(uint8_t index) {
  if (index == kCjkFont) return *cjk_;
  return *latin_;
}

void PageFonts::load_cjk_font() {
  cjk_tried_ = true;
  cjk_ = open_font(library_, options_.cjk_font_path, options_.cjk_face_index, options_.font_size_pt,
                   options_.dpi, "CJK font");
}

uint8_t PageFonts::font_for(char32_t code_point) {
  const auto cached = font_of_code_point_.find(code_point);
  if (cached != font_of_code_point_.end()) return cached->second;

  uint8_t chosen = kLatinFont;
  if (FT_Get_Char_Index(latin_->face, code_point) == 0) {
    if (!cjk_tried_) load_cjk_font();
    if (cjk_ != nullptr && FT_Get_Char_Index(cjk_->face, code_point) != 0) chosen = kCjkFont;
  }
  font_of_code_point_.emplace(code_point, chosen);
  return chosen;
}

void PageFonts::shape(std::u32string_view text, size_t begin, size_t end, uint8_t font_index,
                      std::vector<ShapedGlyph>& out) {
  Font& shaping_font = font(font_index);
  hb_buffer_t* buffer = hb_buffer_create();
  hb_buffer_add_utf32(buffer, reinterpret_cast<const uint32_t*>(text.data()),
                      static_cast<int>(text.size()), static_cast<unsigned>(begin),
                      static_cast<int>(end - begin));
  hb_buffer_guess_segment_properties(buffer);
  // reportlab places each character at its hmtx advance, so pair kerning and
  // ligatures are off to keep its line breaks.
  static const hb_feature_t kFeatures[] = {
      {HB_TAG('k', 'e', 'r', 'n'), 0, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END},
      {HB_TAG('l', 'i', 'g', 'a'), 0, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END},
      {HB_TAG('c', 'l', 'i', 'g'), 0, HB_FEATURE_GLOBAL_START, HB_FEATURE_GLOBAL_END},
  };
  hb_shape(shaping_font.hb_font, buffer, kFeatures, std::size(kFeatures));

  unsigned count = 0;
  const hb_glyph_info_t* infos = hb_buffer_get_glyph_infos(buffer, &count);
  const hb_glyph_position_t* positions = hb_buffer_get_glyph_positions(buffer, &count);
  for (unsigned i = 0; i < count; ++i) {
    ShapedGlyph glyph;
    glyph.glyph_id = infos[i].codepoint;
    glyph.cluster = infos[i].cluster;
    glyph.advance_milli_em = positions[i].x_advance * shaping_font.milli_em_per_unit;
    glyph.x_offset_milli_em = positions[i].x_offset * shaping_font.milli_em_per_unit;
    out.push_back(glyph);
  }
  hb_buffer_destroy(buffer);
}

const GlyphBitmap& PageFonts::glyph_bitmap(uint8_t font_index, uint32_t glyph_id,
                                           int32_t quarter_pixels) {
  const uint64_t key = (uint64_t{font_index} << 40) | (uint64_t{glyph_id} << 8) |
                       static_cast<uint64_t>(quarter_pixels & 3);
  const auto cached = bitmaps_.find(key);
  if (cached != bitmaps_.end()) return cached->second;

  // Unhinted outlines with grey anti-aliasing, as poppler's Splash rasterizer
  // draws them when FreeType hinting is off (pdftoppm's default).
  FT_Face face = font(font_index).face;
  GlyphBitmap bitmap;
  if (FT_Load_Glyph(face, glyph_id, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) == 0 &&
      face->glyph->format == FT_GLYPH_FORMAT_OUTLINE) {
    FT_Outline_Translate(&face->glyph->outline, (quarter_pixels & 3) * 16, 0);
    if (FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL) == 0) {
      const FT_Bitmap& rendered = face->glyph->bitmap;
      bitmap.left = face->glyph->bitmap_left;
      bitmap.top = face->glyph->bitmap_top;
      bitmap.width = static_cast<int32_t>(rendered.width);
      bitmap.rows = static_cast<int32_t>(rendered.rows);
      bitmap.coverage.resize(static_cast<size_t>(bitmap.width) * bitmap.rows);
      for (int32_t row = 0; row < bitmap.rows; ++row) {
        const uint8_t* source = rendered.buffer + static_cast<ptrdiff_t>(row) * rendered.pitch;
        std::copy(source, source + bitmap.width,
                  bitmap.coverage.begin() + static_cast<ptrdiff_t>(row) * bitmap.width);
      }
    }
  }
  return bitmaps_.emplace(key, std::move(bitmap)).first->second;
}

namespace {

std::unique_ptr<PageFonts::Font> open_font(void* library, const std::string& path,
                                           int32_t face_index, double font_size_pt, double dpi,
                                           std::string_view role) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw_error(ErrorKind::kNotFound,
                "{} file \"{}\" not found; install Debian's fonts-dejavu-core and "
                "fonts-noto-cjk or pass the path of a .ttf, .otf or .ttc file",
                role, path);
  }
  auto font = std::make_unique<PageFonts::Font>();
  if (FT_New_Face(ft_library(library), path.c_str(), face_index, &font->face) != 0) {
    throw_error(ErrorKind::kInvalidRequest,
                "{} file \"{}\" (face {}) is not a font FreeType can read", role, path, face_index);
  }
  if (!FT_IS_SCALABLE(font->face)) {
    throw_error(ErrorKind::kInvalidRequest,
                "{} file \"{}\" has no outlines; use a TrueType or "
                "OpenType font",
                role, path);
  }
  // Pixels per em in 26.6 fixed point, given as points at 72 dpi so that a
  // fractional dpi keeps its precision.
  const double pixels_per_em = font_size_pt * dpi / 72.0;
  const auto size_26_6 = static_cast<FT_F26Dot6>(pixels_per_em * 64.0 + 0.5);
  if (size_26_6 <= 0 || FT_Set_Char_Size(font->face, 0, size_26_6, 72, 72) != 0) {
    throw_error(ErrorKind::kInvalidRequest, "{} \"{}\" cannot be set to {} pt at {} dpi", role,
                path, font_size_pt, dpi);
  }
  font->milli_em_per_unit = 1000.0 / font->face->units_per_EM;

  hb_face_t* hb_face = hb_ft_face_create_referenced(font->face);
  font->hb_font = hb_font_create(hb_face);
  hb_face_destroy(hb_face);
  const int upem = static_cast<int>(font->face->units_per_EM);
  hb_font_set_scale(font->hb_font, upem, upem);
  return font;
}

}  // namespace

}  // namespace glyph::vision
