"""Reading the audit log (the operator only), newest first, on a page and
as JSON. Entries are written by ``audit.record`` where each change is made."""
from flask import jsonify, render_template, request
from marshmallow import EXCLUDE, Schema, fields, validate

from service.cabinet import permissions as can
from service.cabinet.web import actor, api, load, pages
from service.i18n import translate as t
from service.models import AuditEntry

PER_PAGE = 50


class AuditQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=500))
    target_kind = fields.String(load_default=None, validate=validate.Length(max=32))
    target_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**63 - 1))
    user = fields.String(load_default=None, validate=validate.Length(max=254))


audit_query = AuditQuery()


def _entries(args):
    query = AuditEntry.select().order_by(AuditEntry.id.desc())
    if args["target_kind"]:
        query = query.where(AuditEntry.target_kind == args["target_kind"])
    if args["target_id"]:
        query = query.where(AuditEntry.target_id == args["target_id"])
    if args["user"]:
        query = query.where(AuditEntry.user_email == args["user"].strip().lower())
    return query


def as_json(entry):
    return {"id": entry.id, "created": entry.created.isoformat(timespec="seconds") + "Z",
            "user": entry.user_email or None, "action": entry.action,
            "target": {"kind": entry.target_kind, "id": entry.target_id},
            "before": entry.before, "after": entry.after}


@api.get("/audit")
def audit_json():
    can.require(actor(), can.READ_AUDIT)
    args = load(audit_query, request.args)
    query = _entries(args)
    items = [as_json(e) for e in query.paginate(args["page"], args["per_page"])]
    return jsonify(items=items, total=query.count(), page=args["page"], per_page=args["per_page"])


@pages.get("/audit")
def audit_page():
    can.require(actor(), can.READ_AUDIT)
    args = load(audit_query, request.args)
    query = _entries(args)
    total = query.count()
    entries = list(query.paginate(args["page"], args["per_page"]))
    return render_template("cabinet/audit.html", title=t("cabinet.nav.audit"), entries=entries, total=total,
                           args=args, pages=max(1, -(-total // args["per_page"])))
