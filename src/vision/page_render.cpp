#include "vision/page_render.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "vision/page_render_fonts.h"
#include "vision/page_render_layout.h"

namespace glyph::vision {
namespace {

// Largest page side in pixels that draw() allocates (an A4 page at 2400 dpi).
constexpr double kMaxPageSidePixels = 40'000.0;

// Glyph's crops treat a pixel as ink when its grey level differs from the
// background's by more than this.
constexpr int kInkTolerance = 5;

void check_options(const RenderOptions& options) {
  auto require = [](bool condition, std::string_view message, double value) {
    if (!condition)
      throw_error(ErrorKind::kInvalidRequest, "invalid render option: {} (got {})", message, value);
  };
  require(std::isfinite(options.dpi) && options.dpi > 0.0, "dpi must be positive", options.dpi);
  require(std::isfinite(options.font_size_pt) && options.font_size_pt > 0.0,
          "font size must be positive", options.font_size_pt);
  require(std::isfinite(options.line_height_pt) && options.line_height_pt > 0.0,
          "line height must be positive", options.line_height_pt);
  require(std::isfinite(options.margin_x_pt) && options.margin_x_pt >= 0.0,
          "horizontal margin must not be negative", options.margin_x_pt);
  require(std::isfinite(options.margin_y_pt) && options.margin_y_pt >= 0.0,
          "vertical margin must not be negative", options.margin_y_pt);
  require(std::isfinite(options.page_width_pt) &&
              options.page_width_pt - 2 * options.margin_x_pt - 2 * kFramePaddingPt > 0.0,
          "page width must leave room for text inside the margins and the 6 pt frame padding",
          options.page_width_pt);
  require(std::isfinite(options.page_height_pt) &&
              options.page_height_pt - 2 * options.margin_y_pt - 2 * kFramePaddingPt >=
                  2 * options.line_height_pt,
          "page height must leave room for two lines inside the margins and the frame padding",
          options.page_height_pt);
  const double scale = options.dpi / 72.0;
  require(options.page_width_pt * scale <= kMaxPageSidePixels &&
              options.page_height_pt * scale <= kMaxPageSidePixels,
          "page sides at this dpi must be at most 40000 pixels", options.dpi);
}

// Pixels of a page side, rounded up as pdftoppm sizes its output.
int32_t page_pixels(double side_pt, double dpi) {
  return static_cast<int32_t>(std::ceil(side_pt * dpi / 72.0 - 1e-9));
}

// Pillow's convert("L"): ITU-R 601-2 luma in 16-bit fixed point.
int grey_level(const uint8_t* rgb) {
  return (rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16;
}

// Glyph's auto-crop: the background grey is the median of the top-left 2x2
// pixels, and ink is any pixel more than kInkTolerance away from it. The width
// crop keeps columns up to the rightmost ink column plus margin_x pixels; the
// last-page crop keeps rows above the last ink row plus margin_y pixels (that
// row itself included only when margin_y > 0, as the script has it).
Image crop_page(Image page, const RenderOptions& options, bool last_page) {
  const bool crop_bottom = options.crop_last_page && last_page;
  if (!options.crop_width && !crop_bottom) return page;

  int corner[4] = {grey_level(&page.rgb[0]), grey_level(&page.rgb[3]),
                   grey_level(&page.rgb[3 * page.width]),
                   grey_level(&page.rgb[3 * page.width + 3])};
  std::sort(std::begin(corner), std::end(corner));
  const double background = (corner[1] + corner[2]) / 2.0;

  int32_t rightmost = -1;
  int32_t last_row = -1;
  for (int32_t row = 0; row < page.height; ++row) {
    const uint8_t* pixel = &page.rgb[3 * static_cast<size_t>(row) * page.width];
    for (int32_t column = 0; column < page.width; ++column, pixel += 3) {
      if (std::abs(grey_level(pixel) - background) > kInkTolerance) {
        rightmost = std::max(rightmost, column);
        last_row = row;
      }
    }
  }
  if (rightmost < 0) return page;  // A blank page stays whole.

  int32_t width = page.width;
  int32_t height = page.height;
  if (options.crop_width) {
    width = std::min(page.width,
                     rightmost + 1 + static_cast<int32_t>(std::lround(options.margin_x_pt)));
  }
  if (crop_bottom) {
    height =
        std::min(page.height, last_row + static_cast<int32_t>(std::lround(options.margin_y_pt)));
    height = std::max(height, 1);
  }
  Image cropped;
  cropped.width = width;
  cropped.height = height;
  cropped.rgb.resize(3 * static_cast<size_t>(width) * height);
  for (int32_t row = 0; row < height; ++row) {
    const auto source = page.rgb.begin() + 3 * static_cast<ptrdiff_t>(row) * page.width;
    std::copy(source, source + 3 * width,
              cropped.rgb.begin() + 3 * static_cast<ptrdiff_t>(row) * width);
  }
  return cropped;
}

// Draws a coverage bitmap with its pen position at (pen_x, baseline_y).
void blend_glyph(const GlyphBitmap& glyph, int32_t pen_x, int32_t baseline_y,
                 const std::array<uint8_t, 3>& color, Image& page) {
  const int32_t x0 = pen_x + glyph.left;
  const int32_t y0 = baseline_y - glyph.top;
  for (int32_t row = 0; row < glyph.rows; ++row) {
    const int32_t y = y0 + row;
    if (y < 0 || y >= page.height) continue;
    for (int32_t column = 0; column < glyph.width; ++column) {
      const int32_t x = x0 + column;
      if (x < 0 || x >= page.width) continue;
      const int alpha = glyph.coverage[static_cast<size_t>(row) * glyph.width + column];
      if (alpha == 0) continue;
      uint8_t* pixel = &page.rgb[3 * (static_cast<size_t>(y) * page.width + x)];
      for (int channel = 0; channel < 3; ++channel) {
        const int blended = pixel[channel] * (255 - alpha) + color[channel] * alpha;
        pixel[channel] = static_cast<uint8_t>((blended + 127) / 255);
      }
    }
  }
}

}  // namespace

struct PageRenderer::Impl {
  explicit Impl(const RenderOptions& render_options) : options(render_options), fonts(options) {}

  RenderOptions options;
  PageFonts fonts;
};

PageRenderer::PageRenderer(const RenderOptions& options) {
  check_options(options);
  impl_ = std::make_unique<Impl>(options);
}

PageRenderer::~PageRenderer() = default;

const RenderOptions& PageRenderer::options() const { return impl_->options; }

std::vector<LaidOutPage> PageRenderer::layout(std::string_view utf8_text) {
  return layout_text(utf8_text, impl_->options, impl_->fonts);
}

Image PageRenderer::draw(const LaidOutPage& page, bool last_page) {
  const RenderOptions& options = impl_->options;
  const double scale = options.dpi / 72.0;

  Image image;
  image.width = page_pixels(options.page_width_pt, options.dpi);
  image.height = page_pixels(options.page_height_pt, options.dpi);
  image.rgb.resize(3 * static_cast<size_t>(image.width) * image.height);
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    std::copy(options.background_color.begin(), options.background_color.end(),
              image.rgb.begin() + static_cast<ptrdiff_t>(i));
  }

  // reportlab draws a paragraph's first baseline one font size below the top
  // of the frame (paraFontSizeHeightOffset) and each next line one leading lower.
  const double frame_left = options.margin_x_pt + kFramePaddingPt;
  const double frame_width = options.page_width_pt - 2 * frame_left;
  const double first_baseline = options.margin_y_pt + kFramePaddingPt + options.font_size_pt;
  for (const LaidOutLine& line : page.lines) {
    double line_left = frame_left;
    if (options.alignment == TextAlignment::kCenter)
      line_left += 0.5 * (frame_width - line.width_pt);
    if (options.alignment == TextAlignment::kRight) line_left += frame_width - line.width_pt;
    // poppler's Splash rasterizer places glyphs at quarter-pixel steps
    // horizontally and whole pixels vertically.
    // NOTE: matched pixel for pixel at 72 dpi only. At 96 dpi poppler puts
    // lines whose baseline falls on a whole pixel one row higher than this
    // does (its transform lands just below the integer), and the glyphs
    // differ slightly.
    const double baseline = (first_baseline + line.slot * options.line_height_pt) * scale;
    const auto baseline_y = static_cast<int32_t>(std::floor(baseline + 1e-6));
    for (const PlacedGlyph& glyph : line.glyphs) {
      const double x = (line_left + glyph.x_pt) * scale;
      const double pen_x = std::floor(x);
      const auto quarter = static_cast<int32_t>(std::floor((x - pen_x) * 4.0));
      const GlyphBitmap& bitmap = impl_->fonts.glyph_bitmap(glyph.font, glyph.glyph_id, quarter);
      blend_glyph(bitmap, static_cast<int32_t>(pen_x), baseline_y, options.text_color, image);
    }
  }
  return crop_page(std::move(image), options, last_page);
}

std::vector<Image> render_pages(std::string_view utf8_text, const RenderOptions& options) {
  PageRenderer renderer(options);
  const std::vector<LaidOutPage> pages = renderer.layout(utf8_text);
  std::vector<Image> images;
  images.reserve(pages.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    images.push_back(renderer.draw(pages[i], i + 1 == pages.size()));
  }
  return images;
}

RenderStats compute_render_stats(const std::vector<Image>& pages, const ProcessorConfig& config) {
  RenderStats stats;
  stats.pages = static_cast<int32_t>(pages.size());
  for (const Image& page : pages) {
    const int64_t tokens = count_image_tokens(page.width, page.height, config);
    stats.image_tokens_per_page.push_back(tokens);
    stats.image_tokens += tokens;
  }
  return stats;
}

}  // namespace glyph::vision
