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

from service import holding, i18n, ranking
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


i18n.register({
    "ru": {"cabinet.nav.held": "Задержанные оценки",
           "cabinet.held.intro": "Оценки, похожие на накрутку (много с одного адреса или сети, всплеск "
                                 "необычно большой для организации), сохранены, но не учитываются. "
                                 "Решение принимается сразу для всей группы: учесть или отклонить.",
           "cabinet.held.empty": "Задержанных оценок нет.",
           "cabinet.held.cluster": "{name}: {n} {n:оценка|оценки|оценок} за {day}",
           "cabinet.held.span": "С {first} по {last}",
           "cabinet.held.sources": "адресов: {addresses}, сетей: {networks}, устройств: {devices}",
           "cabinet.held.scores": "Оценки (средняя по четырём критериям)",
           "cabinet.held.figures": "За месяц без них: {n0} оц., средняя {o0}; с ними: {n1} оц., средняя {o1}",
           "cabinet.held.release": "Учесть все", "cabinet.held.reject": "Отклонить все",
           "cabinet.held.saved.release": "Оценки группы учтены.",
           "cabinet.held.saved.reject": "Оценки группы отклонены."},
    "be": {"cabinet.nav.held": "Затрыманыя ацэнкі",
           "cabinet.held.intro": "Ацэнкі, падобныя на накрутку (шмат з аднаго адраса або сеткі, усплёск "
                                 "незвычайна вялікі для арганізацыі), захаваны, але не ўлічваюцца. "
                                 "Рашэнне прымаецца адразу для ўсёй групы: улічыць або адхіліць.",
           "cabinet.held.empty": "Затрыманых ацэнак няма.",
           "cabinet.held.cluster": "{name}: {n} {n:ацэнка|ацэнкі|ацэнак} за {day}",
           "cabinet.held.span": "З {first} па {last}",
           "cabinet.held.sources": "адрасоў: {addresses}, сетак: {networks}, прылад: {devices}",
           "cabinet.held.scores": "Ацэнкі (сярэдняя па чатырох крытэрыях)",
           "cabinet.held.figures": "За месяц без іх: {n0} ац., сярэдняя {o0}; з імі: {n1} ац., сярэдняя {o1}",
           "cabinet.held.release": "Улічыць усе", "cabinet.held.reject": "Адхіліць усе",
           "cabinet.held.saved.release": "Ацэнкі групы ўлічаны.",
           "cabinet.held.saved.reject": "Ацэнкі групы адхілены."},
    "en": {"cabinet.nav.held": "Held ratings",
           "cabinet.held.intro": "Ratings that look like stuffing (many from one address or network, a burst far "
                                 "above the organization's usual rate) are kept but not counted. Each group is "
                                 "decided at once: count it or reject it.",
           "cabinet.held.empty": "No held ratings.",
           "cabinet.held.cluster": "{name}: {n} {n:rating|ratings} on {day}",
           "cabinet.held.span": "From {first} to {last}",
           "cabinet.held.sources": "addresses: {addresses}, networks: {networks}, devices: {devices}",
           "cabinet.held.scores": "Scores (mean of the four criteria)",
           "cabinet.held.figures": "The month without them: {n0} ratings, mean {o0}; with them: {n1}, mean {o1}",
           "cabinet.held.release": "Count them all", "cabinet.held.reject": "Reject them all",
           "cabinet.held.saved.release": "The group's ratings are counted.",
           "cabinet.held.saved.reject": "The group's ratings are rejected."},
    "tt": {"cabinet.nav.held": "Тоткарылган бәяләр",
           "cabinet.held.intro": "Ясалмага охшаган бәяләр (бер адрестан яки челтәрдән күп, оешма өчен гадәттән "
                                 "тыш зур дулкын) сакланган, ләкин исәпкә алынмый. Карар бөтен төркем өчен "
                                 "берьюлы кабул ителә: исәпкә алырга яки кире кагарга.",
           "cabinet.held.empty": "Тоткарылган бәяләр юк.",
           "cabinet.held.cluster": "{name}: {day} көнне {n} бәя",
           "cabinet.held.span": "{first} — {last}",
           "cabinet.held.sources": "адреслар: {addresses}, челтәрләр: {networks}, җайланмалар: {devices}",
           "cabinet.held.scores": "Бәяләр (дүрт критерий буенча уртача)",
           "cabinet.held.figures": "Айда алардан башка: {n0} бәя, уртача {o0}; алар белән: {n1}, уртача {o1}",
           "cabinet.held.release": "Барысын да исәпкә алырга", "cabinet.held.reject": "Барысын да кире кагарга",
           "cabinet.held.saved.release": "Төркемнең бәяләре исәпкә алынды.",
           "cabinet.held.saved.reject": "Төркемнең бәяләре кире кагылды."},
})
