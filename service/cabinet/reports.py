"""Reports in the cabinets: the page ``/cabinet/reports``, whose forms
download a report as the signed-in user (``/cabinet/reports/quarterly``
and ``/monitoring``), the same through the API with a token (GET
/api/v1/cabinet/reports/quarterly and /monitoring), each with ``period``,
``format``, and ``part`` for CSV (the organizations or the services),
scoped as the user may see results; and ``flask --app wsgi report
quarterly|monitoring``."""
import datetime

import click
from flask import Response, request
from flask.cli import with_appcontext
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from service import notifications, ranking, report_files, reports
from service.cabinet import permissions as can
from service.cabinet.web import actor, api, form_errors, load, pages, render_form
from service.db import database
from service.errors import ApiError
from service.i18n import translate as t
from service.models import RatableObject
from service.pages import period_label


_PART_IS_CSV = "only a CSV file is one part; XLSX and PDF hold the services too"


class ReportQuery(Schema):
    class Meta:
        # ?lang= and the like belong to the page, not to the report.
        unknown = EXCLUDE

    period = fields.String(required=True, validate=validate.Length(max=16))
    format = fields.String(load_default="pdf", validate=validate.OneOf(sorted(report_files.FORMATS)))
    # A CSV file holds one table; XLSX and PDF hold both.
    part = fields.String(load_default=report_files.ORGANIZATIONS, validate=validate.OneOf(report_files.PARTS))

    @validates_schema
    def _part_is_for_csv(self, data, **kwargs):
        if data.get("part", report_files.ORGANIZATIONS) != report_files.ORGANIZATIONS and data.get("format") != "csv":
            raise ValidationError(_PART_IS_CSV, "part")


report_query = ReportQuery()


def _file_name(report, format, part):
    suffix = "" if part == report_files.ORGANIZATIONS else f"-{part}"
    return f"ocenka-{report.kind}-{report.period}{suffix}.{format}"


def _file(report, format, part):
    body = report_files.render(report, format, part)
    name = _file_name(report, format, part)
    return Response(body, mimetype=report_files.FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


def _report(user, kind, args):
    """The report ``user`` may read; a period that is not one of ``kind``
    is a 400 naming the period."""
    scope = can.readable_objects(user, can.REPORTS)
    name = user.organization.name if scope is not None and user.organization_id else ""
    try:
        return reports.build(kind, args["period"], scope, name)
    except reports.ReportError as error:
        raise ApiError({"period": [str(error)]}) from None


@api.get("/reports/<any(quarterly, monitoring):kind>")
def report_file(kind):
    user = actor()
    can.require(user, can.REPORTS)
    args = load(report_query, request.args)
    return _file(_report(user, kind, args), args["format"], args["part"])


# -- the page -----------------------------------------------------------------------

# How many periods back the page offers (older ones: any period through the API).
QUARTERS_OFFERED, HALVES_OFFERED = 8, 4


def _periods(kind, today):
    """The periods a report of ``kind`` can be asked for, newest first: the
    current one (so far) and those before it."""
    if kind == reports.QUARTERLY:
        current = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
        count = QUARTERS_OFFERED
    else:
        current = f"{today.year}-H{(today.month - 1) // 6 + 1}"
        count = HALVES_OFFERED
    periods = [ranking.Period(current)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


def _due(period):
    """The quarterly report is due by the 5th of the month after its quarter."""
    year, month = divmod(period.last_month, 100)
    return datetime.date(year + month // 12, month % 12 + 1, 5)


def _page(user, errors=None, status=200, chosen=None):
    today = notifications.today()
    forms = []
    for kind in (reports.QUARTERLY, reports.MONITORING):
        periods = _periods(kind, today)
        # The last closed period is the one a report is usually made for.
        default = periods[1].key
        forms.append({"kind": kind, "default": default, "due": _due(periods[1]) if kind == reports.QUARTERLY else None,
                      "periods": [(p.key, period_label(p)) for p in periods]})
    scope = can.scope_of(user, can.REPORTS)
    return render_form("cabinet/reports.html", errors=errors, status=status, title=t("cabinet.reports.title"),
                       forms=forms, scope=scope, chosen=chosen or {},
                       formats=[(f, t(f"cabinet.reports.format.{f}")) for f in ("pdf", "xlsx", "csv")],
                       parts=[(p, t(f"cabinet.reports.part.{p}")) for p in report_files.PARTS])


@pages.get("/reports")
def reports_page():
    user = actor()
    can.require(user, can.REPORTS)
    return _page(user)


@pages.get("/reports/<any(quarterly, monitoring):kind>")
def report_download(kind):
    """A form's download: the file, or the page again saying what is wrong."""
    user = actor()
    can.require(user, can.REPORTS)
    chosen = {"kind": kind, **{k: request.args.get(k, "") for k in ("period", "format", "part")}}
    try:
        args = load(report_query, request.args)
        report = _report(user, kind, args)
    except ApiError as error:
        # Each field's refusal in the reader's words, whatever the API says.
        words = {"period": f"cabinet.reports.error.{kind}", "format": "cabinet.reports.error.format",
                 "part": "cabinet.reports.error.part"}
        errors = {field: [t(words[field])] if field in words else messages
                  for field, messages in form_errors(error).items()}
        return _page(user, errors={f"{kind}-{field}": messages for field, messages in errors.items()}, status=400,
                     chosen=chosen)
    return _file(report, args["format"], args["part"])


@click.command("report")
@with_appcontext
@click.argument("kind", type=click.Choice([reports.QUARTERLY, reports.MONITORING]))
@click.option("--period", required=True, help="2026-Q3 for the quarterly report, 2026-H2 for the monitoring")
@click.option("--format", "format_", default="pdf", show_default=True, type=click.Choice(sorted(report_files.FORMATS)))
@click.option("--organization", "unp", default=None, help="УНП of a body (its registries) or an organization")
@click.option("--part", default=report_files.ORGANIZATIONS, show_default=True, type=click.Choice(report_files.PARTS),
              help="the table a CSV file holds (XLSX and PDF hold both)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def report_command(kind, period, format_, unp, part, out):
    """Write a report for a period as PDF, XLSX or CSV."""
    if part != report_files.ORGANIZATIONS and format_ != "csv":
        raise click.BadParameter(_PART_IS_CSV, param_hint="--part")
    with database.connection_context():
        scope, name = None, ""
        if unp:
            org = RatableObject.get_or_none(RatableObject.unp == unp)
            if org is None:
                raise click.BadParameter("no organization with this УНП", param_hint="--organization")
            from service.models import RollupMember
            scope = RollupMember.select(RollupMember.object).where(RollupMember.organization == org.id)
            name = org.name
        try:
            report = reports.build(kind, period, scope, name)
        except reports.ReportError as error:
            raise click.BadParameter(str(error), param_hint="--period") from None
        data = report_files.render(report, format_, part)
    with open(out, "wb") as handle:
        handle.write(data)
    click.echo(f"{kind} report for {report.period}: {len(report.rows)} organizations, {len(report.services)} "
               f"services, {len(data):,} bytes in {out}")
