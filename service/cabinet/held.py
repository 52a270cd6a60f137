"""The moderator's held ratings (SPEC "Trust"): clusters of ratings that
look like stuffing, each released or rejected in one action.

/cabinet/moderation/held lists the clusters biggest first, with the
object's figures for the month with and without them;
GET /api/v1/cabinet/held gives the same as JSON and
POST /api/v1/cabinet/held/<key>/decision ``{"decision": "release" or
"reject"}`` decides one. Every decision is in the audit log and every
changed rating in the ledger (service/holding.py).
"""
from flask import jsonify, redirect, render_template, request, url_for
from marshmallow import Schema, fields, validate

from service import holding, ranking
from service.cabinet import audit, permissions as can
from service.cabinet.ratings import local_time, object_labels
from service.cabinet.web import actor, api, json_body, load, pages
from service.errors import ApiError
from service.i18n import current_language, translate as t


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([holding.RELEASE, holding.REJECT]))


decision_schema = DecisionSchema()


def _month(cluster):
    return cluster.day[:7]


def _figures(object_id, month):
    """The object's own month as the public sees it, and as it would be with
    its held ratings counted: {n, overall} each."""
    counted = _object_month(object_id, month)
    held = holding.held_sums(object_id, month)
    both = ranking.Sums(*(getattr(counted, name) + getattr(held, name) for name in ranking._SUM_FIELDS))
    return {"without_held": _short(counted), "with_held": _short(both)}


def _object_month(object_id, month):
    from service.models import ObjectAggregate
    A = ObjectAggregate
    row = A.get_or_none((A.object == object_id) & (A.period == month))
    if row is None:
        return ranking.Sums()
    return ranking.Sums(row.n, row.simplicity, row.information, row.timeliness, row.politeness, row.satisfied,
                        row.squares, row.verified)


def _short(sums):
    return {"n": sums.n, "overall": (sums.total / 4 / sums.n) if sums.n else None}


def as_json(cluster, names):
    return {"key": cluster.key, "object": cluster.object_id, "object_name": names.get(cluster.object_id, ""),
            "day": cluster.day, "first": cluster.first.isoformat(timespec="seconds") + "Z",
            "last": cluster.last.isoformat(timespec="seconds") + "Z", "ratings": cluster.size,
            "addresses": cluster.addresses, "networks": cluster.networks, "devices": cluster.devices,
            "scores": {str(k): v for k, v in sorted(cluster.scores.items())},
            "figures": _figures(cluster.object_id, _month(cluster))}


def _decide(user, key, decision):
    found = holding.cluster(key)
    if found is None:
        raise ApiError({"key": ["no held ratings under this key (decided already?)"]}, status=404)
    changed = holding.decide(found, decision)
    audit.record(user, f"held.{decision}", "object", found.object_id,
                 after={"cluster": found.key, "ratings": changed, "addresses": found.addresses,
                        "devices": found.devices, "day": found.day})
    return found, changed


@api.get("/held")
def held_json():
    user = actor()
    can.require(user, can.DECIDE_HELD)
    found = holding.clusters()
    names = object_labels({c.object_id for c in found})
    return jsonify(items=[as_json(c, names) for c in found], total=len(found))


@api.post("/held/<key>/decision")
def held_decision_json(key):
    user = actor()
    can.require(user, can.DECIDE_HELD)
    data = load(decision_schema, json_body())
    found, changed = _decide(user, key, data["decision"])
    return jsonify(key=found.key, decision=data["decision"], changed=changed)


@pages.get("/moderation/held")
def held_page():
    user = actor()
    can.require(user, can.DECIDE_HELD)
    found = holding.clusters()
    names = object_labels({c.object_id for c in found})
    rows = [{"cluster": c, "json": as_json(c, names), "first": local_time(c.first), "last": local_time(c.last)}
            for c in found]
    return render_template("cabinet/held.html", title=t("cabinet.nav.held"), rows=rows,
                           saved=request.args.get("saved"))


@pages.post("/moderation/held/<key>")
def held_decision_page(key):
    user = actor()
    can.require(user, can.DECIDE_HELD)
    decision = request.form.get("decision", "")
    if decision not in (holding.RELEASE, holding.REJECT):
        raise ApiError({"decision": ["release or reject"]})
    _decide(user, key, decision)
    return redirect(url_for("cabinet.held_page", lang=current_language(), saved=decision), code=303)
