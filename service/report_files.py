"""A report (service/reports.py) as a file: CSV, XLSX (sheets a person can
filter and sort: real numbers, a frozen header, widths) or PDF (a summary,
a chart of the lowest and the most improved, the most rated services, the
table).

A CSV file is one table: the organizations, or with ``part="services"``
the services, in a file of its own rather than rows of another kind in
the same columns, so that a spreadsheet's filter, sort and sum over a
column mean one thing."""
import csv
import io

from fpdf import FPDF

from qr.poster import FONT
from qr.typeset import BOLD, REGULAR

CHART_MIN_RATINGS = 5
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}

COLUMNS = [("id", "id"), ("name", "организация"), ("unp", "УНП"), ("region", "регион"),
           ("n", "оценок"), ("overall", "средняя"), ("satisfaction", "удовлетворены, %"),
           ("verified_share", "подтверждены кодом, %"), ("previous_n", "оценок в прошлом периоде"),
           ("previous_overall", "средняя в прошлом периоде"), ("change", "изменение средней"),
           ("notified", "уведомлений о низких оценках"), ("planned", "из них с планом мер"),
           ("done", "из них выполнено"), ("overdue", "просрочено"), ("comments", "комментариев"),
           ("answered", "с ответом")]
SERVICE_COLUMNS = [("id", "id"), ("code", "код"), ("name", "услуга"), ("responsible", "ответственный орган"),
                   ("organizations", "организаций с оценками"), ("n", "оценок"), ("overall", "средняя"),
                   ("satisfaction", "удовлетворены, %"), ("verified_share", "подтверждены кодом, %"),
                   ("previous_n", "оценок в прошлом периоде"), ("previous_overall", "средняя в прошлом периоде"),
                   ("change", "изменение средней")]
ORGANIZATIONS, SERVICES = "organizations", "services"
PARTS = (ORGANIZATIONS, SERVICES)
# The PDF's table of services: the most rated ones.
PDF_SERVICES = 25


def _values(row):
    return {"id": row.id, "name": row.name, "unp": row.unp, "region": row.region, "n": row.n,
            "overall": row.overall, "satisfaction": row.satisfaction, "verified_share": row.verified_share,
            "previous_n": row.previous_n, "previous_overall": row.previous_overall, "change": row.change,
            "notified": sum(row.notified.values()), "planned": row.notified.get("planned", 0),
            "done": row.notified.get("done", 0), "overdue": row.overdue, "comments": row.comments,
            "answered": row.answered}


def _service_values(row):
    return {key: getattr(row, key) for key, _ in SERVICE_COLUMNS}


def _part(report, part):
    """(columns, the rows' values) of one part of the report."""
    if part == SERVICES:
        return SERVICE_COLUMNS, [_service_values(row) for row in report.services]
    return COLUMNS, [_values(row) for row in report.rows]


def title(report):
    kind = "Квартальный аналитический отчёт" if report.kind == "quarterly" else "Мониторинг за полугодие"
    return f"{kind} за {report.period}" + (f": {report.scope}" if report.scope else "")


def to_csv(report, part=ORGANIZATIONS):
    columns, rows = _part(report, part)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets read UTF-8 by its BOM
    writer = csv.writer(out)
    writer.writerow([key for key, _ in columns])
    for values in rows:
        writer.writerow(["" if values[k] is None else (round(values[k], 4) if isinstance(values[k], float)
                                                        else values[k]) for k, _ in columns])
    return out.getvalue().encode("utf-8")


def _table_sheet(sheet, columns, rows):
    """``rows`` (dicts of values) under a bold header of ``columns``' labels:
    a frozen header, a filter on every column, set widths and formats."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    sheet.append([label for _, label in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append([values[k] for k, _ in columns])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    widths = {"name": 60, "region": 14, "responsible": 40, "code": 22}
    for index, (key, label) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(key, max(10, min(len(label) + 2, 24)))
        if key in ("overall", "previous_overall", "change"):
            for cell in sheet[letter][1:]:
                cell.number_format = "0.00"
        elif key in ("satisfaction", "verified_share"):
            for cell in sheet[letter][1:]:
                cell.number_format = "0.0"


def to_xlsx(report):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "Организации"
    _table_sheet(sheet, *_part(report, ORGANIZATIONS))
    _table_sheet(book.create_sheet("Услуги"), *_part(report, SERVICES))
    summary = book.create_sheet("Итоги")
    summary.append(["отчёт", title(report)])
    summary.append(["период", report.period])
    summary.append(["предыдущий период", report.previous])
    for key, value in report.totals().items():
        summary.append([key, value])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class _Pdf(FPDF):
    def footer(self):
        self.set_y(-28)
        self.set_font(FONT, "", 8)
        self.cell(0, 10, f"{self.page_no()}", align="C")


def _chart(pdf, heading, items, low, high, signed=False):
    """Horizontal bars of the mean score (1–5) per organization: vector
    rectangles, labels in the shipped font."""
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 16, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    left, label_width, bar_width = pdf.l_margin, 230, pdf.w - pdf.l_margin - pdf.r_margin - 270
    for name, value in items:
        y = pdf.get_y()
        pdf.set_xy(left, y)
        pdf.cell(label_width, 12, name if len(name) <= 42 else name[:41] + "…")
        pdf.set_fill_color(198, 40, 40) if value < 3.5 and not signed else pdf.set_fill_color(46, 125, 50)
        pdf.rect(left + label_width, y + 2, max(bar_width * (value - low) / (high - low), 1), 8, style="F")
        pdf.set_xy(left + label_width + bar_width + 4, y)
        pdf.cell(36, 12, _num(value, signed=signed))
        pdf.ln(12)
    pdf.ln(6)


def to_pdf(report):
    pdf = _Pdf(unit="pt", format="A4", orientation="landscape")
    pdf.set_creator("Ocenka")
    pdf.set_auto_page_break(True, 40)
    pdf.add_font(FONT, "", REGULAR)
    pdf.add_font(FONT, "B", BOLD)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 20, title(report), new_x="LMARGIN", new_y="NEXT")
    totals = report.totals()
    pdf.set_font(FONT, "", 10)
    overall = f"{totals['overall']:.2f}".replace(".", ",") if totals["overall"] is not None else "—"
    pdf.multi_cell(0, 14, f"Период {report.period} (сравнение с {report.previous}). Организаций: "
                          f"{totals['organizations']}, с оценками: {totals['rated']}; оценок: {totals['ratings']}, "
                          f"средняя {overall}. Уведомлений о низких оценках: {totals['notifications']}, "
                          f"просрочено: {totals['overdue']}. Комментариев: {totals['comments']}, "
                          f"с ответом: {totals['answered']}. Оценок с указанной услугой: "
                          f"{totals['service_ratings']}, услуг с оценками: {totals['services_rated']}.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    # Charts only of organizations with enough ratings in both periods for
    # a mean to say something (as the ranking's minimum).
    rated = [r for r in report.rows if r.n >= CHART_MIN_RATINGS]
    lowest = sorted(rated, key=lambda r: (r.overall, -r.n))[:10]
    if lowest:
        _chart(pdf, f"Десять самых низких средних оценок (не меньше {CHART_MIN_RATINGS} оценок)",
               [(r.name, r.overall) for r in lowest], 1, 5)
    risen = sorted((r for r in rated if r.change is not None and r.change > 0
                    and r.previous_n >= CHART_MIN_RATINGS), key=lambda r: -r.change)[:10]
    if risen:
        _chart(pdf, "Наибольший рост средней оценки к прошлому периоду", [(r.name, r.change) for r in risen],
               0, max(r.change for r in risen), signed=True)
    rated_services = [s for s in report.services if s.n][:PDF_SERVICES]
    if rated_services:
        pdf.add_page()
        pdf.set_font(FONT, "B", 11)
        heading = ("Услуги с наибольшим числом оценок" if len(rated_services) < len(report.services)
                   else "Услуги")
        pdf.cell(0, 16, f"{heading} ({len(rated_services)} из {len(report.services)})",
                 new_x="LMARGIN", new_y="NEXT")
        _table(pdf, [300, 70, 45, 50, 60, 70, 55, 55],
               ["Услуга", "Организаций", "Оценок", "Средняя", "Удовл., %", "Было оценок", "Было", "Изм."],
               ([row.name[:75], str(row.organizations), str(row.n), _num(row.overall), _num(row.satisfaction, 1),
                 str(row.previous_n), _num(row.previous_overall), _num(row.change, signed=True)]
                for row in rated_services))
    pdf.add_page()
    _table(pdf, [250, 45, 50, 60, 55, 55, 55, 55, 60, 60],
           ["Организация", "Оценок", "Средняя", "Удовл., %", "Было", "Изм.", "Уведомл.", "Просроч.",
            "Коммент.", "С ответом"],
           ([row.name[:62], str(row.n), _num(row.overall), _num(row.satisfaction, 1), _num(row.previous_overall),
             _num(row.change, signed=True), str(sum(row.notified.values())), str(row.overdue), str(row.comments),
             str(row.answered)] for row in report.rows))
    return bytes(pdf.output())


def _table(pdf, widths, heads, rows):
    """Rows of cells under a header repeated on every page."""
    def header():
        pdf.set_font(FONT, "B", 8)
        for width, head in zip(widths, heads):
            pdf.cell(width, 14, head, border="B")
        pdf.ln(14)
        pdf.set_font(FONT, "", 8)

    header()
    for cells in rows:
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
            header()
        for width, text in zip(widths, cells):
            pdf.cell(width, 12, text)
        pdf.ln(12)


def _num(value, digits=2, signed=False):
    if value is None:
        return "—"
    # A change that rounds to nothing is no change: not "-0,00".
    if round(value, digits) == 0:
        value = 0.0
    text = f"{value:+.{digits}f}" if signed and value else f"{value:.{digits}f}"
    return text.replace(".", ",")


def render(report, format, part=ORGANIZATIONS):
    """The report as a file; ``part`` chooses the table of a CSV file (an
    XLSX or PDF file holds both)."""
    if format == "csv":
        return to_csv(report, part)
    return {"xlsx": to_xlsx, "pdf": to_pdf}[format](report)
