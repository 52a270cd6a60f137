"""Reports in the cabinet's API: GET /api/v1/cabinet/reports/quarterly and
/monitoring (``period``, ``format``, and ``part`` for CSV: the
organizations or the services), scoped as the user may see results; and
``flask --app wsgi report quarterly|monitoring``."""
import click
from flask import Response, current_app, request
from flask.cli import with_appcontext
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service import report_files, reports
from service.cabinet import permissions as can
from service.cabinet.web import actor, api, load
from service.db import database
from service.errors import ApiError
from service.models import RatableObject


_PART_IS_CSV = "only a CSV file is one part; XLSX and PDF hold the services too"


class ReportQuery(Schema):
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


@api.get("/reports/<any(quarterly, monitoring):kind>")
def report_file(kind):
    user = actor()
    can.require(user, can.REPORTS)
    args = load(report_query, request.args)
    scope = can.readable_objects(user, can.REPORTS)
    name = user.organization.name if scope is not None and user.organization_id else ""
    try:
        report = reports.build(kind, args["period"], scope, name)
    except reports.ReportError as error:
        raise ApiError({"period": [str(error)]}) from None
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
