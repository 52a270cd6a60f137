"""Printable posters for service halls: one PDF page per object."""

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from fpdf import FPDF

from .codes import (
    QUIET_ZONE,
    check_base_url,
    check_object_id,
    dark_runs,
    object_code,
    qr_matrix,
    rating_url,
    short_url,
)
from .texts import CRITERIA, TEXTS, check_lang
from .typeset import BOLD, ELLIPSIS, REGULAR, clean, glue

FONT = "DejaVuSans"

# ISO 216 sizes in points, given to fpdf2 as numbers: its own "A5" changed
# in 2.8.5 and warns about it.
_MM = 72 / 25.4
PAGE_SIZES = {"A4": (210 * _MM, 297 * _MM), "A5": (148 * _MM, 210 * _MM)}
FORMATS = tuple(PAGE_SIZES)
_A4_WIDTH = PAGE_SIZES["A4"][0]

# fpdf2 stamps the current time and hashes it into the file's /ID; a fixed
# date makes the same poster the same bytes in every worker and after a
# restart, which a strong ETag promises. When it was drawn says nothing
# about the poster.
_CREATION_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

_BLUE = (29, 79, 145)
_AMBER = (245, 166, 35)
_INK = (33, 33, 33)
_GREY = (96, 96, 96)
_PANEL = (236, 241, 248)
_WHITE = (255, 255, 255)

# A QR code smaller than this on an A4 sheet is hard to catch from a queue
# a couple of metres away; larger only eats the room the names need.
_QR_MAX = 300
_QR_MIN = 150


@dataclass(frozen=True)
class PosterItem:
    """One poster: the object it invites to rate and what is printed about it.

    `organization_name` is the parent organization of a subdivision, or None
    when the object is the organization itself.
    """

    object_id: int
    name: str
    organization_name: Optional[str] = None
    address: Optional[str] = None


def check_format(format):
    if format not in FORMATS:
        raise ValueError(
            f"Invalid format (was {format!r}, expected one of: {', '.join(FORMATS)})"
        )
    return format


def make_poster(base_url, posters, format="A4", lang="ru"):
    """A PDF with one poster per item of `posters`, in the order given.

    Each page carries the call to rate, the names, the QR code of
    `rating_url(base_url, item.object_id, "qr")`, the short address to type
    by hand with the object's code, and the four criteria. Text is real text
    in the embedded (subset) DejaVu Sans, so it stays selectable and sharp.
    """
    base_url = check_base_url(base_url)
    check_format(format)
    texts = TEXTS[check_lang(lang)]
    if isinstance(posters, PosterItem):
        posters = [posters]
    posters = list(posters)
    if not posters:
        raise ValueError("Invalid posters (was empty, expected at least one PosterItem)")
    for item in posters:
        if not isinstance(item, PosterItem):
            raise ValueError(f"Invalid poster (was {item!r}, expected a PosterItem)")
        check_object_id(item.object_id)
        if not clean(item.name):
            raise ValueError(f"Invalid poster name (was {item.name!r}, expected a non-empty name)")

    pdf = FPDF(unit="pt", format=PAGE_SIZES[format])
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font(FONT, "", REGULAR)
    pdf.add_font(FONT, "B", BOLD)
    pdf.set_lang(lang)
    pdf.set_creator("Ocenka")
    pdf.set_creation_date(_CREATION_DATE)
    pdf.set_title(texts["call"] if len(posters) > 1 else f"{texts['call']}: {clean(posters[0].name)}")
    for item in posters:
        pdf.add_page()
        _Page(pdf, base_url, item, texts).draw()
    return bytes(pdf.output())


class _Page:
    def __init__(self, pdf, base_url, item, texts):
        self.pdf = pdf
        self.base_url = base_url
        self.item = item
        self.t = texts
        self.s = pdf.w / _A4_WIDTH  # everything is laid out for A4 and scaled
        self.margin = 42 * self.s
        self.width = pdf.w - 2 * self.margin

    # -- text helpers -------------------------------------------------------

    def lines(self, text, size, bold=False, width=None):
        self.pdf.set_font(FONT, "B" if bold else "", size)
        return self.pdf.multi_cell(
            width or self.width, text=text, dry_run=True, output="LINES", align="C"
        )

    def fit(self, text, size, min_size, max_lines, bold=False, width=None):
        """(size, lines) with the text in at most `max_lines` lines.

        Shrinks down to `min_size`, then cuts the last line with an ellipsis:
        a poster must never spill over the QR code.
        """
        text = glue(text)
        size, min_size = size * self.s, min_size * self.s
        while True:
            lines = self.lines(text, size, bold, width)
            if len(lines) <= max_lines or size <= min_size:
                break
            size = max(min_size, size - 1 * self.s)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            last = lines[-1].rstrip()
            limit = width or self.width
            self.pdf.set_font(FONT, "B" if bold else "", size)
            while last and self.pdf.get_string_width(last + ELLIPSIS) > limit:
                last = last[:-1].rstrip()
            lines[-1] = last + ELLIPSIS
        return size, lines

    def write(self, lines, size, y, color, bold=False, x=None, width=None, align="C"):
        """Draws `lines` from `y` down; returns the y below them."""
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*color)
        height = size * 1.25
        for line in lines:
            pdf.set_xy(self.margin if x is None else x, y)
            pdf.cell(width or self.width, height, line, align=align)
            y += height
        return y

    @staticmethod
    def height(size, lines):
        return size * 1.25 * len(lines)

    # -- the page -----------------------------------------------------------

    def draw(self):
        pdf, s, t = self.pdf, self.s, self.t

        # Header band: the call to rate, readable from across the hall.
        stars_size = 18 * s
        call = self.fit(t["call"], 32, 22, 2, bold=True)
        free = self.fit(t["free"], 14, 10, 1)
        pad = 26 * s
        band = pad + self.height(stars_size, [1]) + 4 * s + self.height(*call) + 6 * s + self.height(*free) + pad
        pdf.set_fill_color(*_BLUE)
        pdf.rect(0, 0, pdf.w, band, style="F")
        y = self.write(["★★★★★"], stars_size, pad, _AMBER)
        y = self.write(call[1], call[0], y + 4 * s, _WHITE, bold=True)
        self.write(free[1], free[0], y + 6 * s, (214, 226, 243))

        # Who is rated.
        y = band + 20 * s
        item = self.item
        if item.organization_name:
            org = self.fit(clean(item.organization_name), 14, 11, 2)
            y = self.write(org[1], org[0], y, _GREY) + 2 * s
        name = self.fit(clean(item.name), 22, 15, 3, bold=True)
        y = self.write(name[1], name[0], y, _INK, bold=True)
        if item.address:
            address = self.fit(clean(item.address), 12, 10, 2)
            y = self.write(address[1], address[0], y + 2 * s, _GREY)
        top = y + 16 * s

        # Bottom up: the criteria panel and the closing line.
        thanks = self.fit(t["thanks"], 11, 8, 1)
        thanks_y = pdf.h - self.margin * 0.75 - self.height(*thanks)
        self.write(thanks[1], thanks[0], thanks_y, _GREY)
        panel_bottom = thanks_y - 12 * s
        panel_top = self.draw_criteria(panel_bottom)

        # The QR code and, beside it, how to use it: side by side the code
        # can be larger than with the instructions stacked below it.
        room = panel_top - 14 * s - top
        side = max(_QR_MIN * s, min(_QR_MAX * s, room))
        matrix = qr_matrix(rating_url(self.base_url, item.object_id, "qr"))
        module = side / len(matrix)
        quiet = QUIET_ZONE * module
        # The dark modules, not the invisible quiet zone, line up with the
        # margin; the quiet zone stays white on the page.
        qr_x = self.margin - quiet
        qr_y = top + max(0.0, (room - side) / 2)
        self.draw_qr(matrix, qr_x, qr_y, side)

        col_x = qr_x + side - quiet + 22 * s
        col_w = self.margin + self.width - col_x
        scan = self.fit(t["scan"], 17, 11, 3, bold=True, width=col_w)
        type_ = self.fit(t["type"], 13, 9, 2, width=col_w)
        url = short_url(self.base_url, item.object_id)
        pdf.set_font(FONT, "B", 1)
        # The address is never cut or wrapped: it has to be typed as printed.
        url_size = min(22 * s, col_w / pdf.get_string_width(url))
        code_size = 13 * s
        column = (
            self.height(*scan) + 14 * s + self.height(*type_)
            + self.height(url_size, [1]) + 10 * s + self.height(code_size, [1])
        )
        y = qr_y + (side - column) / 2
        y = self.write(scan[1], scan[0], y, _INK, bold=True, x=col_x, width=col_w, align="L")
        y = self.write(type_[1], type_[0], y + 14 * s, _GREY, x=col_x, width=col_w, align="L")
        y = self.write([url], url_size, y, _BLUE, bold=True, x=col_x, width=col_w, align="L")
        self.write_code(col_x, y + 10 * s, code_size)

    def write_code(self, x, y, size):
        pdf = self.pdf
        label = f"{self.t['code']}: "
        code = object_code(self.item.object_id)
        pdf.set_font(FONT, "", size)
        label_w = pdf.get_string_width(label)
        pdf.set_font(FONT, "B", size)
        code_w = pdf.get_string_width(code)
        self.write([label], size, y, _GREY, x=x, width=label_w, align="L")
        self.write([code], size, y, _INK, bold=True, x=x + label_w, width=code_w, align="L")

    def draw_criteria(self, bottom):
        """Draws the criteria panel ending at `bottom`; returns its top."""
        pdf, s, t = self.pdf, self.s, self.t
        pad = 16 * s
        inner = self.width - 2 * pad
        num_w = 22 * s
        heading = self.fit(t["criteria"], 14, 10, 1, bold=True, width=inner)
        scale = self.fit(t["scale"], 11, 8, 1, width=inner)
        items = [self.fit(t[key], 12, 9, 2, width=inner - num_w) for key in CRITERIA]
        gap = 4 * s
        height = (
            pad + self.height(*heading) + self.height(*scale) + 6 * s
            + sum(self.height(*it) + gap for it in items) - gap + pad
        )
        top = bottom - height
        pdf.set_fill_color(*_PANEL)
        pdf.rect(self.margin, top, self.width, height, style="F", round_corners=True, corner_radius=10 * s)
        x = self.margin + pad
        y = self.write(heading[1], heading[0], top + pad, _BLUE, bold=True, x=x, width=inner, align="L")
        y = self.write(scale[1], scale[0], y, _GREY, x=x, width=inner, align="L") + 6 * s
        for number, (size, lines) in enumerate(items, 1):
            self.write([f"{number}."], size, y, _BLUE, bold=True, x=x, width=num_w, align="L")
            y = self.write(lines, size, y, _INK, x=x + num_w, width=inner - num_w, align="L") + gap
        return top

    def draw_qr(self, matrix, x, y, side):
        module = side / len(matrix)
        self.pdf.set_fill_color(255, 255, 255)
        self.pdf.rect(x, y, side, side, style="F")
        # Runs of dark modules as plain rectangles, each a hair taller and
        # wider than its modules: neighbours then overlap instead of leaving
        # light seams where anti-aliasing meets. (fpdf2's path API would
        # avoid seams too, but costs a tenth of a second per code.)
        self.pdf.set_fill_color(0, 0, 0)
        overlap = module * 0.04
        for col, row, run in dark_runs(matrix):
            self.pdf.rect(
                x + col * module, y + row * module, run * module + overlap, module + overlap, style="F"
            )
