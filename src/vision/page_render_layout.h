// Line and page breaking for the page renderer, as reportlab 4.x does it for
// Glyph's script.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vision/page_render.h"
#include "vision/page_render_fonts.h"

namespace glyph::vision {

// Frame padding that reportlab's SimpleDocTemplate adds inside the margins on
// every side (Frame's default leftPadding, rightPadding, topPadding and
// bottomPadding).
inline constexpr double kFramePaddingPt = 6.0;

// Glyph's script puts 30 source lines, joined by <br/>, in each Paragraph.
inline constexpr size_t kLinesPerParagraph = 30;

// Decodes UTF-8 into code points; throws glyph::Error(kInvalidRequest) naming
// the byte offset of the first invalid sequence.
std::u32string decode_utf8_text(std::string_view utf8_text);

// Breaks text into lines and pages (see PageRenderer::layout).
std::vector<LaidOutPage> layout_text(std::string_view utf8_text, const RenderOptions& options,
                                     PageFonts& fonts);

}  // namespace glyph::vision
