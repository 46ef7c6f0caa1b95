#!/usr/bin/env python3
"""Write the reference pages for glyph's text renderer (src/vision/page_render*).

Renders a few texts the way Glyph's own script does (thu-coai/Glyph,
scripts/word2png_function.py with config/config_en.json): the text is XML-escaped, soft hyphens
and zero-width spaces are dropped, runs of two or more spaces become &nbsp;, and every 30 source
lines joined by <br/> make one reportlab Paragraph (left aligned, 9 pt font on 10 pt leading) on
an A4 SimpleDocTemplate with 10 pt margins. pdf2image (poppler's pdftoppm) rasterizes the PDF at
72 dpi, and each page is cropped as the script crops: width to the rightmost ink column plus
10 pixels, the last page below its last ink row plus 10 pixels. The font is DejaVu Sans
(Debian's fonts-dejavu-core) registered as a reportlab TTFont, where Glyph used Verdana.

reportlab cannot embed Noto Sans CJK (a CFF-flavoured OpenType collection; TTFont reads only
TrueType outlines), so there is no CJK reference here: tests/vision/page_render_test.cpp covers
CJK wrapping on its own.

Writes to OUT_DIR (tests/data/render):

- <case>.txt: the input texts; gsm8k_20k_words.txt is GSM8K test questions (MIT licence,
  openai/grade-school-math) joined by spaces, in file order, until 20,000 words.
- <case>_page_NNN.png: the first two and the last reference page of each short case, in
  greyscale (black text on white loses nothing).
- reference.json: per case, each page's size and its lines (slot from the top of the page and
  the text reportlab drew on it, trimmed of plain spaces), plus the token count of the 20,000-word
  text with the tiny model's tokenizer.json (Hugging Face tokenizers).

Run from the repository root (about a minute):

    python tools/make_render_reference.py \
        path/to/gsm8k/test.jsonl tests/data/tiny-glyph/tokenizer.json tests/data/render
"""

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import reportlab
from pdf2image import convert_from_bytes
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate
from tokenizers import Tokenizer

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_NAME = "DejaVuSans"
PAGE_SIZE = (595.0, 842.0)
MARGIN = 10
FONT_SIZE = 9
LEADING = 10
DPI = 72
LINES_PER_PARAGRAPH = 30
INK_TOLERANCE = 5
COMPRESSION_WORDS = 20_000

# The lines reportlab draws, with their page numbers, recorded by wrapping Paragraph.drawPara.
_drawn_lines = []
_original_draw_para = Paragraph.drawPara


def _recording_draw_para(self, debug=0):
    page = self.canv.getPageNumber()
    for line in self.blPara.lines:
        if hasattr(line, "words"):
            text = "".join(getattr(word, "text", "") for word in line.words)
        else:
            text = " ".join(line[1])
        _drawn_lines.append((page, text.strip(" ")))
    return _original_draw_para(self, debug)


Paragraph.drawPara = _recording_draw_para


def render_pdf(text):
    """Glyph's preparation and layout; returns the PDF and the lines drawn on each page."""
    style = ParagraphStyle(
        name="Glyph",
        parent=getSampleStyleSheet()["Normal"],
        fontName=FONT_NAME,
        fontSize=FONT_SIZE,
        leading=LEADING,
        textColor="#000000",
        backColor="#FFFFFF",
        alignment=TA_LEFT,
    )
    prepared = escape(text.replace("\xad", "").replace("\u200b", ""))
    prepared = re.sub(r" {2,}", lambda match: "&nbsp;" * len(match.group()), prepared)
    parts = prepared.split("\n")
    story = [
        Paragraph("<br/>".join(parts[i : i + LINES_PER_PARAGRAPH]), style)
        for i in range(0, len(parts), LINES_PER_PARAGRAPH)
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
    )
    _drawn_lines.clear()
    doc.build(story)
    pages = {}
    for page, line in _drawn_lines:
        pages.setdefault(page, []).append(line)
    return buffer.getvalue(), pages


def crop(image, last_page):
    """Glyph's auto-crop-width and auto-crop-last-page."""
    grey = np.asarray(image.convert("L")).astype(np.float64)
    background = np.median(grey[:2, :2])
    ink = np.abs(grey - background) > INK_TOLERANCE
    columns = np.flatnonzero(ink.any(axis=0))
    rows = np.flatnonzero(ink.any(axis=1))
    if columns.size:
        image = image.crop((0, 0, min(image.width, int(columns[-1]) + 1 + MARGIN), image.height))
    if last_page and rows.size:
        image = image.crop((0, 0, image.width, min(image.height, int(rows[-1]) + MARGIN)))
    return image


def render_case(text):
    pdf, lines_per_page = render_pdf(text)
    images = convert_from_bytes(pdf, dpi=DPI)
    pages = []
    for index, image in enumerate(images, start=1):
        image = crop(image.convert("RGB"), index == len(images))
        lines = [
            {"slot": slot, "text": line} for slot, line in enumerate(lines_per_page.get(index, []))
        ]
        pages.append({"image": image, "lines": lines})
    return pages


def spaces_text():
    return (
        "Glyph renders long text as page images.  Two spaces here,   three there.\n"
        "\n"
        "  Indented by two spaces; a single space follows.\n"
        " One leading space, then a tab:\tand two tabs\t\there.\n"
        "Markup stays text: <b>bold</b> & \"quotes\" 'too' \u2014 caf\u00e9 na\u00efve co\u00f6perate.\n"
        "Soft\u00adhyphen and zero\u200bwidth are dropped.\n"
        "\n"
        "\n"
        "A URL too long for one line: https://example.org/" + "a-very-long-path-segment/" * 6 +
        "end?query=1 and words after it.\n"
        "Trailing spaces   \n"
        "Numbers 0123456789 and symbols !@#$%^*()[]{};:,./?~ end."
    )


def paragraph_text(questions):
    # One source line (a single-fragment reportlab Paragraph) that spans two pages.
    words = []
    for question in questions:
        words.extend(question.split(" "))
        if len(words) >= 2200:
            break
    return " ".join(words)


def lines_text(questions):
    # Many short source lines: crosses the 30-line paragraph boundaries and two page breaks,
    # with blank lines at a paragraph's end (reportlab drops the last one if it is empty).
    lines = []
    for index, question in enumerate(questions[:200]):
        if index % 29 == 0:
            lines.append("")
        lines.append(f"{index + 1:3d}. " + question[: 40 + (index * 37) % 180])
    return "\n".join(lines) + "\n"


def compression_text(questions):
    words = []
    for question in questions:
        words.extend(question.split())
        if len(words) >= COMPRESSION_WORDS:
            break
    return " ".join(words[:COMPRESSION_WORDS])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    gsm8k_path, tokenizer_path, out_dir = (Path(arg) for arg in sys.argv[1:])
    out_dir.mkdir(parents=True, exist_ok=True)
    pdfmetrics.registerFont(TTFont(FONT_NAME, FONT_PATH))

    questions = [json.loads(line)["question"] for line in gsm8k_path.read_text().splitlines()]
    cases = {
        "spaces": spaces_text(),
        "paragraph": paragraph_text(questions),
        "lines": lines_text(questions),
    }
    poppler = subprocess.run(["pdftoppm", "-v"], capture_output=True, text=True).stderr.split("\n")[0]
    reference = {
        "generator": "tools/make_render_reference.py",
        "reportlab": reportlab.Version,
        "poppler": poppler,
        "font": FONT_PATH,
        "settings": {"page": PAGE_SIZE, "margin": MARGIN, "font_size": FONT_SIZE,
                     "leading": LEADING, "dpi": DPI},
        "cases": [],
    }
    for name, text in cases.items():
        (out_dir / f"{name}.txt").write_text(text, encoding="utf-8")
        pages = render_case(text)
        case = {"name": name, "input": f"{name}.txt", "pages": []}
        for number, page in enumerate(pages, start=1):
            # To keep the fixtures small, only the first two pages and the last are stored as
            # PNG, in greyscale: black text on white has R = G = B in poppler's output.
            png = None
            if number <= 2 or number == len(pages):
                png = f"{name}_page_{number:03d}.png"
                page["image"].convert("L").save(out_dir / png, optimize=True)
            case["pages"].append({"png": png, "width": page["image"].width,
                                  "height": page["image"].height, "lines": page["lines"]})
        reference["cases"].append(case)
        print(f"{name}: {len(pages)} pages")

    text = compression_text(questions)
    (out_dir / "gsm8k_20k_words.txt").write_text(text, encoding="utf-8")
    pages = render_case(text)
    text_tokens = len(Tokenizer.from_file(str(tokenizer_path)).encode(text, add_special_tokens=False).ids)
    reference["compression"] = {
        "input": "gsm8k_20k_words.txt",
        "words": len(text.split()),
        "text_tokens": text_tokens,
        "pages": [{"width": page["image"].width, "height": page["image"].height,
                   "lines": page["lines"]} for page in pages],
    }
    print(f"gsm8k_20k_words: {len(pages)} pages, {text_tokens} text tokens")
    (out_dir / "reference.json").write_text(json.dumps(reference, indent=1, ensure_ascii=False) + "\n",
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
