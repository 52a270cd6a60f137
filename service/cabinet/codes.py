"""Single-use codes in the cabinets (proof of service, SPEC "Trust"): an
organization's staff, and the operator, issue codes for one of its objects
and print them as a sheet of slips with a QR code each (PDF), or take them
as a list of numbers for receipts and queue tickets (CSV, or a page to
print). Each issue is recorded (who, when, object, how many, which
serials) and audited; the codes themselves are never stored: they are
signed again from the issue's serials (``service/codes.py``).

    GET  /cabinet/objects/<id>/codes        the form and the object's issues
    POST /cabinet/objects/<id>/codes        issue: count, kind (sheet|list), lang
    GET  /cabinet/codes/<issue>             one issue, with its downloads
    GET  /cabinet/codes/<issue>.pdf|.csv    the sheet of slips, the list
    GET  /cabinet/codes/<issue>/list        the list as a page to print
    and the same under /api/v1/cabinet/ as JSON.
"""
import csv
import io

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

import qr
from service import codes, i18n
from service.cabinet import audit, permissions as can
from service.cabinet.web import actor, api, get_or_404, json_body, load, pages
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import LANGUAGES, CodeIssue, RatableObject

CSV_COLUMNS = ("serial", "code", "url", "address")


class IssueSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    count = fields.Integer(required=True, strict=False,
                           validate=validate.Range(min=1, max=max(codes.MAX_ISSUE.values())))
    kind = fields.String(load_default=CodeIssue.SHEET, validate=validate.OneOf(CodeIssue.KINDS))
    lang = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LANGUAGES))

    @validates_schema
    def _at_most(self, data, **kwargs):
        most = codes.MAX_ISSUE[data.get("kind", CodeIssue.SHEET)]
        if data.get("count") is not None and data["count"] > most:
            raise ValidationError({"count": [f"at most {most} codes at once for a {data['kind']}"]})


issue_schema = IssueSchema()


# -- the actions ------------------------------------------------------------------

def _object(object_id):
    return get_or_404(RatableObject, object_id, "object")


def _issue(issue_id):
    return get_or_404(CodeIssue, issue_id, "issue")


def _record(user, data, obj):
    def write_audit(record):
        audit.record(user, "codes.issue", "code_issue", record.id, None,
                     {"object": obj.id, "kind": record.kind, "count": record.count,
                      "first_serial": record.first_serial, "last_serial": record.last_serial,
                      "language": record.language})
    return codes.issue(user, obj, data["kind"], data["count"], data["lang"] or current_language(), write_audit)


def _names(record):
    """The object's name and, for a subdivision, its organization's."""
    obj = record.object
    parent = RatableObject.get_or_none(RatableObject.id == obj.organization_id) if obj.organization_id else None
    return obj.name, parent.name if parent else None


def _pdf(record):
    name, organization = _names(record)
    slips = [qr.Slip(serial, code) for serial, code in codes.codes_of(current_app.config["SECRET_KEY"], record)]
    body = qr.make_code_sheet(current_app.config["BASE_URL"], record.object_id, name, slips,
                              lang=record.language, organization_name=organization)
    return Response(body, content_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{_filename(record)}.pdf"'})


def _rows(record):
    base = current_app.config["BASE_URL"]
    address = qr.short_url(base, record.object_id)
    for serial, code in codes.codes_of(current_app.config["SECRET_KEY"], record):
        yield serial, code, qr.code_url(base, record.object_id, code), address


def _csv(record):
    out = io.StringIO()
    out.write("\ufeff")  # as every CSV of the service: spreadsheets then read UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_rows(record))
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(record)}.csv"'})


def _filename(record):
    return f"ocenka-codes-{record.object_id}-{record.first_serial}-{record.last_serial}"


def issue_json(record, with_codes=False):
    body = {"id": record.id, "object": record.object_id, "kind": record.kind, "count": record.count,
            "first_serial": record.first_serial, "last_serial": record.last_serial, "language": record.language,
            "issued_by": record.user_email or None, "created": record.created.isoformat(timespec="seconds") + "Z",
            "pdf": url_for("cabinet_api.code_issue_pdf_json", issue_id=record.id, _external=False),
            "csv": url_for("cabinet_api.code_issue_csv_json", issue_id=record.id, _external=False)}
    if with_codes:
        body["codes"] = [{"serial": serial, "code": code, "url": url} for serial, code, url, _ in _rows(record)]
    return body


def _issues_of(obj):
    return list(CodeIssue.select().where(CodeIssue.object == obj.id).order_by(CodeIssue.id.desc()))


# -- JSON -------------------------------------------------------------------------

@api.get("/objects/<int:object_id>/codes")
def code_issues_json(object_id):
    """The issues of single-use codes for an object, newest first."""
    obj = _object(object_id)
    can.require(actor(), can.PRINT_CODES, obj)
    return jsonify(items=[issue_json(r) for r in _issues_of(obj)], next_serial=codes.next_serial(obj.id))


@api.post("/objects/<int:object_id>/codes")
def code_issue_create_json(object_id):
    """Issue single-use codes for an object: ``count``, ``kind`` (``sheet``
    of slips or ``list`` of numbers) and the slips' ``lang``."""
    obj = _object(object_id)
    user = actor()
    can.require(user, can.PRINT_CODES, obj)
    record = _record(user, load(issue_schema, json_body()), obj)
    return jsonify(issue_json(record, with_codes=True)), 201


def _readable_issue(issue_id):
    record = _issue(issue_id)
    can.require(actor(), can.PRINT_CODES, record)
    return record


@api.get("/codes/<int:issue_id>")
def code_issue_json(issue_id):
    """One issue with its codes."""
    return jsonify(issue_json(_readable_issue(issue_id), with_codes=True))


@api.get("/codes/<int:issue_id>.pdf")
def code_issue_pdf_json(issue_id):
    """The issue's sheet of slips, ten to an A4 page."""
    record = _readable_issue(issue_id)
    if record.count > qr.slips.MAX_SLIPS:
        raise ApiError({"issue": [f"a sheet holds at most {qr.slips.MAX_SLIPS} slips; take this issue as CSV"]},
                       status=409)
    return _pdf(record)


@api.get("/codes/<int:issue_id>.csv")
def code_issue_csv_json(issue_id):
    """The issue's codes as CSV: serial, code, url, address."""
    return _csv(_readable_issue(issue_id))


# -- pages ------------------------------------------------------------------------

def _form_errors(error, data):
    errors = {}
    for field in error.errors:
        if field in ("count", "kind", "lang"):
            kind = data.get("kind") if data.get("kind") in CodeIssue.KINDS else CodeIssue.SHEET
            errors[field] = [t(f"cabinet.codes.error.{field}", most=codes.MAX_ISSUE[kind])]
        else:
            errors["_form"] = [t("cabinet.codes.error.form")]
    return errors


def _codes_page(obj, form=None, errors=None, status=200):
    lang = current_language()
    return render_template(
        "cabinet/codes.html", title=t("cabinet.codes.title", name=obj.name), obj=obj, issues=_issues_of(obj),
        form=form or {"count": "50", "kind": CodeIssue.SHEET, "lang": lang}, errors=errors or {},
        most=codes.MAX_ISSUE, languages=[(code, i18n.LANGUAGE_NAMES[code]) for code in LANGUAGES],
        next_serial=codes.next_serial(obj.id)), status


@pages.get("/objects/<int:object_id>/codes")
def codes_page(object_id):
    obj = _object(object_id)
    user = actor()
    can.require(user, can.PRINT_CODES, obj)
    return _codes_page(obj)


@pages.post("/objects/<int:object_id>/codes")
def codes_submit(object_id):
    obj = _object(object_id)
    user = actor()
    can.require(user, can.PRINT_CODES, obj)
    form = {name: request.form.get(name, "").strip() for name in ("count", "kind", "lang")}
    data = {k: v for k, v in form.items() if v}
    try:
        record = _record(user, load(issue_schema, data), obj)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _codes_page(obj, form, _form_errors(error, data), error.status)
    return redirect(url_for("cabinet.code_issue_page", issue_id=record.id, lang=current_language(), new=1), 303)


@pages.get("/codes/<int:issue_id>")
def code_issue_page(issue_id):
    record = _readable_issue(issue_id)
    return render_template("cabinet/codes_issue.html", title=t("cabinet.codes.issue_title", id=record.id),
                           issue=record, obj=record.object, new=request.args.get("new") == "1",
                           sheet_fits=record.count <= qr.slips.MAX_SLIPS)


@pages.get("/codes/<int:issue_id>.pdf")
def code_issue_pdf(issue_id):
    record = _readable_issue(issue_id)
    if record.count > qr.slips.MAX_SLIPS:
        raise ApiError({"issue": [t("cabinet.codes.too_many_for_sheet", most=qr.slips.MAX_SLIPS)]}, status=409)
    return _pdf(record)


@pages.get("/codes/<int:issue_id>.csv")
def code_issue_csv(issue_id):
    return _csv(_readable_issue(issue_id))


@pages.get("/codes/<int:issue_id>/list")
def code_issue_list(issue_id):
    record = _readable_issue(issue_id)
    base = current_app.config["BASE_URL"]
    return render_template("cabinet/codes_list.html", title=t("cabinet.codes.list_title", id=record.id),
                           issue=record, obj=record.object, address=qr.short_url(base, record.object_id),
                           rows=codes.codes_of(current_app.config["SECRET_KEY"], record))
