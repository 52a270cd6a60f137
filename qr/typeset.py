"""Fonts, measuring, line breaking and escaping shared by posters, banners and badges."""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from fontTools.ttLib import TTFont
from PIL import ImageFont

FONTS = Path(__file__).parent / "fonts"
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
# What SVG viewers are asked for: the font we measured with, then look-alikes.
SVG_FONT_FAMILY = "'DejaVu Sans',Verdana,Geneva,sans-serif"
ELLIPSIS = "…"

# "№ 5", "г. Минск", "ул. Ленина", "и отдел": a line must not end on these.
_GLUE = re.compile(r"(?<!\S)(№|\w{1,2}\.?|\w{1,3}\.)\s(?=\S)")


def clean(value):
    """One line of text the shipped fonts can draw.

    Names come from forms: newlines and runs of spaces would break centred
    lines, control and format characters print as boxes, and so would
    letters DejaVu Sans lacks (CJK, say), so they are dropped.
    """
    if not value:
        return ""
    drawable = _drawable()
    kept = "".join(
        c for c in str(value)
        if c.isspace() or (ord(c) in drawable and not unicodedata.category(c).startswith("C"))
    )
    return " ".join(kept.split())


@lru_cache(maxsize=1)
def _drawable():
    codepoints = []
    for path in (REGULAR, BOLD):
        with TTFont(path, lazy=True) as ttf:
            codepoints.append(frozenset(ttf.getBestCmap()))
    return codepoints[0] & codepoints[1]


def glue(text):
    """Binds short words and abbreviations to the next word with no-break spaces."""
    return _GLUE.sub("\\1\u00a0", text)


@lru_cache(maxsize=64)
def font(size, bold=False):
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size)


def width(text, size, bold=False):
    return font(size, bold).getlength(text)


def wrap(text, size, bold, max_width, max_lines):
    """Greedy word wrap into at most `max_lines`; the last line ends in … if cut.

    Splits only at plain spaces, so glued words stay together; a single word
    wider than the line is cut with … as well.
    """
    words = text.split(" ")
    lines = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if width(candidate, size, bold) <= max_width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    cut = len(lines) > max_lines
    lines = lines[:max_lines]
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if width(line, size, bold) > max_width or (last and cut):
            lines[i] = ellipsize(line, size, bold, max_width, force=last and cut)
    return lines


def ellipsize(line, size, bold, max_width, force=False):
    if not force and width(line, size, bold) <= max_width:
        return line
    while line and width(line.rstrip() + ELLIPSIS, size, bold) > max_width:
        line = line[:-1]
    return line.rstrip(" \u00a0,;:—-") + ELLIPSIS


def xml_text(text):
    return escape(text)


def xml_attr(text):
    return escape(text, {'"': "&quot;", "'": "&#39;"})
