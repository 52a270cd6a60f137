"""Sheets of slips with single-use codes (proof of service): ten slips to
an A4 page, two across and five down, each with the QR code of the rating
page carrying its code, the code to type and the short address.

The codes are made and signed by the service; this module only prints
what it is given and checks that it is printable.
"""

from dataclasses import dataclass

from fpdf import FPDF

from .codes import (
    QUIET_ZONE,
    check_base_url,
    check_object_id,
    check_service_code,
    code_url,
    dark_runs,
    qr_matrix,
    short_url,
)
from .poster import _CREATION_DATE, FONT, PAGE_SIZES
from .texts import TEXTS, check_lang
from .typeset import BOLD, ELLIPSIS, REGULAR, clean, glue

COLUMNS, ROWS = 2, 5
SLIPS_PER_PAGE = COLUMNS * ROWS
# Office printers leave 4–6 mm of every edge blank: the slips stay inside.
MARGIN = 8 * 72 / 25.4
# A sheet is printed on an office printer and cut by hand, and drawn
# while the staff member waits (about 10 ms a slip): twenty pages at most.
MAX_SLIPS = 200

_BLUE = (29, 79, 145)
_INK = (33, 33, 33)
_GREY = (96, 96, 96)
_CUT = (160, 160, 160)


@dataclass(frozen=True)
class Slip:
    """One slip: the code as the service signed it and its serial."""

    serial: int
    code: str


def make_code_sheet(base_url, object_id, name, slips, lang="ru", organization_name=None):
    """A PDF of slips for the object, ten to an A4 page, in the order given.

    Each slip carries the call to rate, the object's name, the QR code of
    `code_url(base_url, object_id, slip.code)`, the code itself to type
    with the short address, and its serial. Dashed lines show where to cut.
    """
    base_url = check_base_url(base_url)
    check_object_id(object_id)
    texts = TEXTS[check_lang(lang)]
    name = clean(name)
    if not name:
        raise ValueError("Invalid name (was empty, expected the object's name)")
    slips = list(slips)
    if not 1 <= len(slips) <= MAX_SLIPS:
        raise ValueError(f"Invalid slips (was {len(slips)}, expected 1 to {MAX_SLIPS})")
    for slip in slips:
        if not isinstance(slip, Slip):
            raise ValueError(f"Invalid slip (was {slip!r}, expected a Slip)")
        check_service_code(slip.code)

    pdf = FPDF(unit="pt", format=PAGE_SIZES["A4"])
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font(FONT, "", REGULAR)
    pdf.add_font(FONT, "B", BOLD)
    pdf.set_lang(lang)
    pdf.set_creator("Ocenka")
    pdf.set_creation_date(_CREATION_DATE)
    pdf.set_title(f"{texts['slip_code']}: {name}")
    sheet = None
    for start in range(0, len(slips), SLIPS_PER_PAGE):
        pdf.add_page()
        # fpdf2 measures text only once there is a page.
        sheet = sheet or _Sheet(pdf, base_url, object_id, name, clean(organization_name or ""), texts, slips[0].code)
        page = slips[start:start + SLIPS_PER_PAGE]
        for index, slip in enumerate(page):
            column, row = index % COLUMNS, index // COLUMNS
            sheet.draw_slip(slip, MARGIN + column * sheet.width, MARGIN + row * sheet.height)
        _cut_lines(pdf, len(page))
    return bytes(pdf.output())


def _cut_lines(pdf, count):
    """Dashed lines around and between the slips of a page."""
    rows = -(-count // COLUMNS)
    width, height = (pdf.w - 2 * MARGIN) / COLUMNS, (pdf.h - 2 * MARGIN) / ROWS
    pdf.set_draw_color(*_CUT)
    pdf.set_line_width(0.5)
    pdf.set_dash_pattern(dash=4, gap=3)
    bottom = MARGIN + rows * height
    for column in range(COLUMNS + 1):
        pdf.line(MARGIN + column * width, MARGIN, MARGIN + column * width, bottom)
    for row in range(rows + 1):
        pdf.line(MARGIN, MARGIN + row * height, pdf.w - MARGIN, MARGIN + row * height)
    pdf.set_dash_pattern()


class _Sheet:
    """What every slip of a sheet shares (the geometry, the name and the
    texts, fitted once) and the drawing of one slip."""

    EDGE = 6  # from the cut to the QR code's quiet zone
    PAD = 12  # from the cut to the text
    GAP = 8  # between the code's dark modules and the text

    def __init__(self, pdf, base_url, object_id, name, organization_name, texts, first_code):
        self.pdf = pdf
        self.base_url = base_url
        self.object_id = object_id
        self.t = texts
        self.short = short_url(base_url, object_id)
        self.width = width = (pdf.w - 2 * MARGIN) / COLUMNS
        self.height = height = (pdf.h - 2 * MARGIN) / ROWS
        # The QR code with its quiet zone fills the slip's height; the
        # quiet zone is white and stays inside the slip's edges.
        self.side = height - 2 * self.EDGE
        modules = len(qr_matrix(code_url(base_url, object_id, first_code)))
        self.text_x = self.EDGE + self.side * (modules - QUIET_ZONE) / modules + self.GAP
        self.col_w = width - self.text_x - self.PAD
        self.call = self._fit(texts["call"], 10, 2, bold=True)
        full_name = f"{organization_name}: {name}" if organization_name else name
        self.name = self._fit(full_name, 7.5, 3)
        self.once = self._fit(texts["slip_once"], 6.5, 3)
        self.type_ = self._fit(texts["slip_type"], 6.5, 2)

    def _fit(self, text, size, max_lines, bold=False):
        """The lines of `text` at `size` in the text column, at most
        `max_lines`, the last cut with an ellipsis when it runs over."""
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        lines = pdf.multi_cell(self.col_w, text=glue(text), dry_run=True, output="LINES", align="L")
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            last = lines[-1].rstrip()
            while last and pdf.get_string_width(last + ELLIPSIS) > self.col_w:
                last = last[:-1].rstrip()
            lines[-1] = last + ELLIPSIS
        return size, lines, bold

    def _write(self, fitted, x, y, color):
        size, lines, bold = fitted
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*color)
        for line in lines:
            pdf.set_xy(x, y)
            pdf.cell(self.col_w, size * 1.2, line, align="L")
            y += size * 1.2
        return y

    def _one_line(self, text, size, bold, x, y, color):
        """Writes `text` on one line, smaller if it must be: an address or
        a code is never cut or wrapped, it has to be typed as printed."""
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        width = pdf.get_string_width(text)
        if width > self.col_w:
            size = size * self.col_w / width
            pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.set_xy(x, y)
        pdf.cell(self.col_w, size * 1.2, text, align="L")
        return y + size * 1.2

    def draw_slip(self, slip, x0, y0):
        pdf = self.pdf
        matrix = qr_matrix(code_url(self.base_url, self.object_id, slip.code))
        module = self.side / len(matrix)
        qr_x, qr_y = x0 + self.EDGE, y0 + self.EDGE
        pdf.set_fill_color(0, 0, 0)
        overlap = module * 0.04  # as on posters: no light seams between runs
        for col, row, run in dark_runs(matrix):
            pdf.rect(qr_x + col * module, qr_y + row * module, run * module + overlap, module + overlap, style="F")

        x, y = x0 + self.text_x, y0 + self.PAD
        y = self._write(self.call, x, y, _INK) + 2
        y = self._write(self.name, x, y, _GREY) + 5
        y = self._one_line(f"{self.t['slip_code']} № {slip.serial}:", 6.5, False, x, y, _GREY)
        y = self._one_line(slip.code, 13, True, x, y, _INK) + 3
        y = self._write(self.type_, x, y, _GREY)
        y = self._one_line(self.short, 8.5, True, x, y, _BLUE) + 3
        self._write(self.once, x, y, _GREY)
