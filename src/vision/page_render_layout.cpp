// Line and page breaking, following reportlab 4.x as Glyph's script drives it:
//
// - Text preparation (the script): U+00AD and U+200B are removed, every run
//   of two or more U+0020 spaces becomes as many U+00A0 no-break spaces, and
//   the text is split at '\n'. Each group of 30 source lines becomes one
//   Paragraph, the lines joined by <br/>.
// - Line breaking (Paragraph.breakLines): words are the runs between
//   reportlab's whitespace characters (U+00A0 is not one of them), drawn one
//   space apart. Whitespace at the start of a source line takes no room. A
//   word goes on the line while the line's width stays within the frame width
//   plus 5 % of a space per gap already on the line (spaceShrinkage 0.05). A
//   word wider than the frame is cut by characters: the first piece fills the
//   current line and each further piece starts a line. Every <br/> ends a
//   line, even an empty one; the last source line of a paragraph makes a line
//   only when it has text.
// - Page breaking (Frame and Paragraph.split): paragraphs stack from the top
//   of the frame; one that does not fit is split after as many lines as fit,
//   unless only one fits (allowOrphans 0), in which case it moves whole to the
//   next page. When the last line kept ended at a <br/>, the rest starts with
//   an empty line, because reportlab rebuilds it from words that begin with
//   that break.
//
// Widths are computed as reportlab computes them, so that a word near the
// end of a line breaks where reportlab breaks it: per-character advances in
// thousandths of an em (hmtx advance * 1000 / unitsPerEm), summed per word,
// then times 0.001 * font size.
//
// NOTE: characters that the Latin font lacks come from the CJK font, and a
// line may break between two CJK characters (except before closing or after
// opening punctuation). Glyph's script instead uses one font for the whole
// text and switches reportlab to wordWrap="CJK", which breaks between any two
// characters, Latin words included, when the text has a character in
// U+4E00..U+9FFF.
#include "vision/page_render_layout.h"

#include <algorithm>

#include "core/error.h"

namespace glyph::vision {
namespace {

constexpr double kSpaceShrinkage = 0.05;  // reportlab ParagraphStyle.spaceShrinkage.
constexpr double kLayoutFuzz = 1e-6;      // reportlab rl_config._FUZZ.
constexpr char32_t kNoBreakSpace = U'\u00a0';

// reportlab's paragraph whitespace (_wsc in platypus/paragraph.py): words are
// split at these, and U+00A0 is deliberately not among them.
bool is_breaking_space(char32_t c) {
  return c == U'\t' || c == U'\n' || c == U'\v' || c == U'\f' || c == U'\r' ||
         (c >= 0x1c && c <= 0x1f) || c == U' ' || c == 0x85 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200b) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// Scripts written without spaces, where a line may break between characters.
bool is_cjk(char32_t c) {
  return (c >= 0x2e80 && c <= 0x9fff) ||  // Radicals, punctuation, kana, Han.
         (c >= 0xf900 && c <= 0xfaff) ||  // Compatibility ideographs.
         (c >= 0xfe30 && c <= 0xfe4f) ||  // Compatibility forms.
         (c >= 0xff00 && c <= 0xffef) ||  // Fullwidth forms.
         (c >= 0x20000 && c <= 0x3ffff);  // Han extensions B and later.
}

// Closing punctuation and small kana that must not start a line.
bool is_no_break_before(char32_t c) {
  static constexpr std::u32string_view kClosing =
      U"、。，．：；？！）〕］｝〉》」』】〙〗〟’”ー…‥ヽヾゝゞ々ぁぃぅぇぉっゃゅょゎゕゖァィゥェォ"
      U"ッャュョヮヵヶ";
  return kClosing.find(c) != std::u32string_view::npos;
}

// Opening punctuation that must not end a line.
bool is_no_break_after(char32_t c) {
  static constexpr std::u32string_view kOpening = U"（〔［｛〈《「『【〘〖〝‘“";
  return kOpening.find(c) != std::u32string_view::npos;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

// Glyphs of one character (one HarfBuzz cluster), the unit that reportlab
// measures and that long words are cut between.
struct Cell {
  std::vector<ShapedGlyph> glyphs;
  std::vector<uint8_t> glyph_fonts;
  double width_milli_em = 0.0;
  size_t begin = 0;  // Code points [begin, end) of the source line.
  size_t end = 0;
};

// A breakable unit: a whitespace-delimited word, or one CJK character or
// run inside such a word.
struct Piece {
  std::vector<Cell> cells;
  bool space_before = false;  // Whitespace separates it from the previous piece.
  double width_pt = 0.0;
};

// One source line after Glyph's preparation, cut into pieces.
class LineSplitter {
 public:
  LineSplitter(PageFonts& fonts, double font_size_pt)
      : fonts_(fonts), scale_(0.001 * font_size_pt) {}

  std::vector<Piece> split(const std::u32string& line) {
    std::vector<Piece> pieces;
    bool space_pending = false;
    size_t i = 0;
    while (i < line.size()) {
      if (is_breaking_space(line[i])) {
        space_pending = !pieces.empty();
        ++i;
        continue;
      }
      size_t word_end = i;
      while (word_end < line.size() && !is_breaking_space(line[word_end])) ++word_end;
      size_t piece_begin = i;
      for (size_t k = i + 1; k <= word_end; ++k) {
        if (k < word_end && !is_break_between(line[k - 1], line[k])) continue;
        pieces.push_back(shape_piece(line, piece_begin, k));
        pieces.back().space_before = space_pending;
        space_pending = false;
        piece_begin = k;
      }
      i = word_end;
    }
    return pieces;
  }

 private:
  static bool is_break_between(char32_t before, char32_t after) {
    if (!is_cjk(before) && !is_cjk(after)) return false;
    return !is_no_break_before(after) && !is_no_break_after(before);
  }

  Piece shape_piece(const std::u32string& line, size_t begin, size_t end) {
    Piece piece;
    double width_milli_em = 0.0;
    size_t run_begin = begin;
    while (run_begin < end) {
      const uint8_t font = fonts_.font_for(line[run_begin]);
      size_t run_end = run_begin + 1;
      while (run_end < end && fonts_.font_for(line[run_end]) == font) ++run_end;
      glyphs_.clear();
      fonts_.shape(line, run_begin, run_end, font, glyphs_);
      append_cells(glyphs_, font, run_end, piece.cells);
      run_begin = run_end;
    }
    for (const Cell& cell : piece.cells) width_milli_em += cell.width_milli_em;
    piece.width_pt = scale_ * width_milli_em;
    return piece;
  }

  // Groups glyphs by cluster; HarfBuzz keeps a cluster's glyphs together.
  static void append_cells(const std::vector<ShapedGlyph>& glyphs, uint8_t font, size_t run_end,
                           std::vector<Cell>& cells) {
    for (size_t g = 0; g < glyphs.size(); ++g) {
      if (g == 0 || glyphs[g].cluster != glyphs[g - 1].cluster) {
        cells.emplace_back();
        cells.back().begin = glyphs[g].cluster;
      }
      Cell& cell = cells.back();
      cell.glyphs.push_back(glyphs[g]);
      cell.glyph_fonts.push_back(font);
      cell.width_milli_em += glyphs[g].advance_milli_em;
    }
    for (size_t c = cells.size(); c-- > 0;) {
      const size_t next_begin = c + 1 < cells.size() ? cells[c + 1].begin : run_end;
      if (cells[c].end != 0) break;  // Cells from an earlier run are complete.
      cells[c].end = std::max(next_begin, cells[c].begin + 1);
    }
  }

  PageFonts& fonts_;
  double scale_;
  std::vector<ShapedGlyph> glyphs_;
};

// Greedy line filling for one paragraph.
class ParagraphBreaker {
 public:
  ParagraphBreaker(const std::u32string* line_text, double max_width_pt, double space_width_pt,
                   double font_size_pt)
      : max_width_(max_width_pt),
        space_width_(space_width_pt),
        scale_(0.001 * font_size_pt),
        source_(line_text) {}

  void set_source(const std::u32string* line_text) { source_ = line_text; }

  void add(const Piece& piece) {
    const bool space = has_text_ && piece.space_before && piece.width_pt > 0.0;
    const double gap = space ? space_width_ : 0.0;
    const double new_width = current_width_ + gap + piece.width_pt;
    const double limit = max_width_ + kSpaceShrinkage * space_width_ * (gaps_ + (space ? 1 : 0));
    if (new_width > limit) {
      if (piece.width_pt > max_width_) {
        add_cut_word(piece, space);
        return;
      }
      if (has_text_) {
        end_line();
        append_cells(piece.cells.begin(), piece.cells.end(), false);
        current_width_ = piece.width_pt;
        return;
      }
    }
    append_cells(piece.cells.begin(), piece.cells.end(), space);
    current_width_ = new_width;
    if (space) ++gaps_;
  }

  // A <br/>: ends the line even when it is empty.
  void line_break() { end_line(); }
  // Marks the line just ended as ended by a <br/>.
  void mark_break() { ends_at_break_.back() = true; }

  // Ends the paragraph: its last source line makes a line only when it has text.
  std::vector<LaidOutLine> finish() {
    if (has_text_) end_line();
    return std::move(lines_);
  }
  const std::vector<bool>& ends_at_break() const { return ends_at_break_; }

 private:
  // reportlab's _splitFragWord: the first piece fills the room left on the
  // current line, each further piece fills a whole line.
  void add_cut_word(const Piece& piece, bool space) {
    double room = max_width_ - (space ? space_width_ : 0.0) - current_width_;
    double line_width = 0.0;
    double chunk_width = 0.0;
    auto chunk_begin = piece.cells.begin();
    bool first_chunk = true;
    for (auto cell = piece.cells.begin(); cell != piece.cells.end(); ++cell) {
      const double cell_width = scale_ * cell->width_milli_em;
      double new_line_width = line_width + cell_width;
      const bool too_long =
          new_line_width > room && (chunk_width > 0.0 || cell_width <= max_width_);
      if (too_long) {
        append_cells(chunk_begin, cell, first_chunk && space);
        end_line();
        first_chunk = false;
        room = max_width_;
        new_line_width = cell_width;
        chunk_width = 0.0;
        chunk_begin = cell;
      }
      chunk_width += cell_width;
      line_width = new_line_width;
    }
    append_cells(chunk_begin, piece.cells.end(), first_chunk && space);
    current_width_ =
        first_chunk ? current_width_ + (space ? space_width_ : 0.0) + chunk_width : chunk_width;
    if (first_chunk && space) ++gaps_;
  }

  void append_cells(std::vector<Cell>::const_iterator begin, std::vector<Cell>::const_iterator end,
                    bool space) {
    if (begin == end) return;
    if (space) {
      line_.text += ' ';
      pen_milli_em_ += space_milli_em();
    }
    for (auto cell = begin; cell != end; ++cell) {
      double glyph_pen = pen_milli_em_;
      for (size_t g = 0; g < cell->glyphs.size(); ++g) {
        PlacedGlyph placed;
        placed.glyph_id = cell->glyphs[g].glyph_id;
        placed.font = cell->glyph_fonts[g];
        placed.x_pt = scale_ * (glyph_pen + cell->glyphs[g].x_offset_milli_em);
        line_.glyphs.push_back(placed);
        spaces_before_glyph_.push_back(gaps_ + (space ? 1 : 0) + no_break_spaces_);
        glyph_pen += cell->glyphs[g].advance_milli_em;
      }
      pen_milli_em_ += cell->width_milli_em;
      for (size_t c = cell->begin; c < cell->end && c < source_->size(); ++c) {
        append_utf8((*source_)[c], line_.text);
        if ((*source_)[c] == kNoBreakSpace) ++no_break_spaces_;  // Counts for later glyphs.
      }
    }
    has_text_ = true;
  }

  double space_milli_em() const { return space_width_ / scale_; }

  void end_line() {
    line_.width_pt = scale_ * pen_milli_em_;
    shrink_spaces();
    lines_.push_back(std::move(line_));
    ends_at_break_.push_back(false);
    line_ = LaidOutLine{};
    spaces_before_glyph_.clear();
    pen_milli_em_ = 0.0;
    current_width_ = 0.0;
    gaps_ = 0;
    no_break_spaces_ = 0;
    has_text_ = false;
  }

  // A line that overruns the frame (by at most the 5 % space shrinkage) is
  // drawn with PDF word spacing (Tw) of overrun / (gaps + no-break spaces),
  // as reportlab's _leftDrawParaLine sets it. poppler applies it after every
  // space and no-break space, so the line ends exactly at the frame's edge.
  void shrink_spaces() {
    const double extra_space = max_width_ - current_width_;
    const int spaces = gaps_ + no_break_spaces_;
    if (extra_space > -1e-8 || spaces <= 0) return;
    const double word_space = extra_space / spaces;
    for (size_t g = 0; g < line_.glyphs.size(); ++g) {
      line_.glyphs[g].x_pt += word_space * spaces_before_glyph_[g];
    }
    line_.width_pt += word_space * spaces;
  }

  double max_width_;
  double space_width_;
  double scale_;
  const std::u32string* source_;
  std::vector<LaidOutLine> lines_;
  std::vector<bool> ends_at_break_;
  LaidOutLine line_;
  double pen_milli_em_ = 0.0;   // Drawing position, as PDF text advances it.
  double current_width_ = 0.0;  // Width as reportlab's breakLines sums it.
  int gaps_ = 0;                // Spaces between words on the line.
  int no_break_spaces_ = 0;
  std::vector<int> spaces_before_glyph_;  // Gaps before each glyph of line_.
  bool has_text_ = false;
};

// Glyph's preparation of the text: soft hyphens and zero-width spaces
// removed, runs of two or more spaces kept as no-break spaces, split at '\n'.
std::vector<std::u32string> prepare_source_lines(const std::u32string& text) {
  std::vector<std::u32string> lines(1);
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == 0xad || c == 0x200b) continue;
    if (c == U'\n') {
      lines.emplace_back();
      continue;
    }
    lines.back() += c;
  }
  for (std::u32string& line : lines) {
    for (size_t i = 0; i < line.size();) {
      size_t run_end = i;
      while (run_end < line.size() && line[run_end] == U' ') ++run_end;
      if (run_end - i >= 2) std::fill(line.begin() + i, line.begin() + run_end, kNoBreakSpace);
      i = run_end > i ? run_end : i + 1;
    }
  }
  return lines;
}

bool is_all_breaking_space(const std::u32string& line) {
  return std::all_of(line.begin(), line.end(), is_breaking_space);
}

// The lines of one Paragraph, with whether each ended at a <br/>.
struct ParagraphLines {
  std::vector<LaidOutLine> lines;
  std::vector<bool> ends_at_break;
};

// The lines of one Paragraph made of source lines [begin, end).
ParagraphLines break_paragraph(const std::vector<std::u32string>& source_lines, size_t begin,
                               size_t end, LineSplitter& splitter, double max_width_pt,
                               double space_width_pt, double font_size_pt) {
  ParagraphLines result;
  // reportlab's parser drops whitespace around the paragraph's text, and a
  // paragraph left with a single <br/> and nothing else has no lines.
  if (end - begin == 2 && is_all_breaking_space(source_lines[begin]) &&
      is_all_breaking_space(source_lines[begin + 1])) {
    return result;
  }
  ParagraphBreaker breaker(&source_lines[begin], max_width_pt, space_width_pt, font_size_pt);
  for (size_t k = begin; k < end; ++k) {
    const std::u32string& line = source_lines[k];
    breaker.set_source(&line);
    for (const Piece& piece : splitter.split(line)) breaker.add(piece);
    if (k + 1 < end) {
      breaker.line_break();
      breaker.mark_break();
    }
  }
  result.lines = breaker.finish();
  result.ends_at_break = breaker.ends_at_break();
  return result;
}

}  // namespace

std::u32string decode_utf8_text(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<uint8_t>(bytes[i]);
    size_t length = 0;
    char32_t code_point = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
      out += lead;
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2, code_point = lead & 0x1f, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3, code_point = lead & 0x0f, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4, code_point = lead & 0x07, minimum = 0x10000;
    }
    bool valid = length != 0 && i + length <= bytes.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<uint8_t>(bytes[i + k]);
      valid = (next & 0xc0) == 0x80;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    valid = valid && code_point >= minimum && code_point <= 0x10ffff &&
            !(code_point >= 0xd800 && code_point <= 0xdfff);
    if (!valid) {
      throw_error(ErrorKind::kInvalidRequest,
                  "text to render is not valid UTF-8: invalid byte sequence at byte offset {}", i);
    }
    out += code_point;
    i += length;
  }
  return out;
}

std::vector<LaidOutPage> layout_text(std::string_view utf8_text, const RenderOptions& options,
                                     PageFonts& fonts) {
  if (utf8_text.empty()) {
    throw_error(ErrorKind::kInvalidRequest, "text to render is empty");
  }
  const std::vector<std::u32string> source_lines =
      prepare_source_lines(decode_utf8_text(utf8_text));

  const double max_width = options.page_width_pt - 2 * options.margin_x_pt - 2 * kFramePaddingPt;
  std::vector<ShapedGlyph> space;
  fonts.shape(U" ", 0, 1, kLatinFont, space);
  const double space_width = 0.001 * options.font_size_pt * space.at(0).advance_milli_em;
  LineSplitter splitter(fonts, options.font_size_pt);

  // The frame's vertical extent in PDF coordinates (y grows upwards).
  const double frame_top = options.page_height_pt - options.margin_y_pt - kFramePaddingPt;
  const double frame_bottom = options.margin_y_pt + kFramePaddingPt;
  const double leading = options.line_height_pt;

  std::vector<LaidOutPage> pages(1);
  double y = frame_top;
  int32_t slot = 0;
  auto new_page = [&] {
    pages.emplace_back();
    y = frame_top;
    slot = 0;
  };
  auto place = [&](std::vector<LaidOutLine>::iterator first,
                   std::vector<LaidOutLine>::iterator last) {
    for (auto line = first; line != last; ++line) {
      line->slot = slot++;
      pages.back().lines.push_back(std::move(*line));
    }
  };

  for (size_t begin = 0; begin < source_lines.size(); begin += kLinesPerParagraph) {
    const size_t end = std::min(begin + kLinesPerParagraph, source_lines.size());
    ParagraphLines paragraph = break_paragraph(source_lines, begin, end, splitter, max_width,
                                               space_width, options.font_size_pt);
    std::vector<LaidOutLine>& lines = paragraph.lines;
    size_t next = 0;  // First line of the part of the paragraph not yet placed.
    while (true) {
      // Frame._add: a full frame takes nothing, not even an empty paragraph.
      if (y - frame_bottom <= 0.0) {
        new_page();
        continue;
      }
      const auto count = static_cast<double>(lines.size() - next);
      if (y - count * leading >= frame_bottom - kLayoutFuzz) {
        place(lines.begin() + static_cast<ptrdiff_t>(next), lines.end());
        y -= count * leading;
        break;
      }
      // Paragraph.split: as many lines as fit, but never a lone first line.
      const auto fitting = static_cast<size_t>((y - frame_bottom) / leading);
      if (fitting <= 1) {
        new_page();
        continue;
      }
      place(lines.begin() + static_cast<ptrdiff_t>(next),
            lines.begin() + static_cast<ptrdiff_t>(next + fitting));
      next += fitting;
      // reportlab rebuilds the rest of a split paragraph from the remaining
      // words, and when the last line placed ended at a <br/>, that break
      // starts the rest with an empty line.
      if (paragraph.ends_at_break[next - 1]) {
        --next;
        lines[next] = LaidOutLine{};
        paragraph.ends_at_break[next] = true;
      }
      new_page();
    }
  }
  return pages;
}

}  // namespace glyph::vision
