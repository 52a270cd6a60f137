"""Notifications in the cabinets: the moderator sends low-score notices to
any organization, an authorized body sends recommendations inside its
accepted registry, and the staff of the addressed organization move them
(in work, planned with a control date, done with a report).

Who sees which (SPEC's "the user's: sent and received"):
* staff: those addressed to their organization (received);
* a body: those its organization sent, and those addressed to it;
* a moderator: every low-score notification, whoever sent it (the
  moderators share one queue, and the monitoring job sends them too);
* the operator: none. The operator registers organizations and decides
  on registries; nothing in the permission table concerns notifications,
  and the menu has no such section for the operator (403).

Each action is one function the page and the JSON endpoint share: it asks
``permissions``, changes through ``service.notifications`` and writes the
audit entry in the same transaction."""
import functools
import operator

from flask import abort, jsonify, redirect, request, url_for
from marshmallow import EXCLUDE, RAISE, Schema, fields, pre_load, validate
from peewee import JOIN

from service import notifications, structure
from service.cabinet import audit, permissions as can
from service.cabinet.web import actor, api, conflict, form_errors, get_or_404, json_body, load, pages, render_form
from service.db import write_transaction
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import Notification, RatableObject

PER_PAGE = 50
TEXT_MAX = 5000
MAX_ID = 2**63 - 1
BOXES = ("received", "sent")
MOVES = (Notification.IN_WORK, Notification.PLANNED, Notification.DONE)
AUDITED = ("organization", "kind", "sender", "text", "period", "status", "control_date", "report")
# Who sends which kind.
SENDERS = {Notification.LOW_SCORE: can.SEND_LOW_SCORE, Notification.RECOMMENDATION: can.SEND_RECOMMENDATION}


# -- input ---------------------------------------------------------------------

class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    box = fields.String(load_default=None, validate=validate.OneOf(BOXES))
    status = fields.String(load_default=None, validate=validate.OneOf(notifications.STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(notifications.KINDS))
    overdue = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=500))

    @pre_load
    def drop_blanks(self, data, **kwargs):
        # The filter form sends "any status" as an empty value.
        return {key: value for key, value in data.items() if value != ""}


class NewNotification(Schema):
    class Meta:
        unknown = RAISE

    organization = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(notifications.KINDS))
    text = fields.String(required=True, validate=validate.Length(max=TEXT_MAX))
    period = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))


class Move(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.OneOf(MOVES))
    control_date = fields.Date(load_default=None, allow_none=True)
    report = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=TEXT_MAX))


list_query, new_schema, move_schema = ListQuery(), NewNotification(), Move()


# -- who sees and does what ------------------------------------------------------

def _require_any(user):
    """Only those whose role takes part in notifications see them."""
    if not any(can.allowed(user, action) for action in (can.MOVE_NOTIFICATION, can.SEND_LOW_SCORE,
                                                         can.SEND_RECOMMENDATION)):
        abort(403)


def boxes(user):
    """{box: condition} of the notifications ``user`` sees, by box."""
    N, org = Notification, user.organization_id
    result = {}
    if org and (can.allowed(user, can.MOVE_NOTIFICATION) or can.allowed(user, can.SEND_RECOMMENDATION)):
        result["received"] = N.organization == org
    sent = []
    if can.allowed(user, can.SEND_LOW_SCORE):
        sent.append(N.kind == N.LOW_SCORE)
    if org and can.allowed(user, can.SEND_RECOMMENDATION):
        sent.append(N.sender == org)
    if sent:
        result["sent"] = functools.reduce(operator.or_, sent)
    return result


def _visible(user, box=None):
    conditions = boxes(user)
    if box is not None:
        conditions = {box: conditions[box]} if box in conditions else {}
    if not conditions:
        return Notification.id.is_null()  # nothing, but still a condition
    return functools.reduce(operator.or_, conditions.values())


def may_read(user, notification):
    return can.allowed(user, can.MOVE_NOTIFICATION, notification) or (
        Notification.select().where((Notification.id == notification.id) & _visible(user)).exists())


def kinds_to_send(user):
    return [kind for kind, action in SENDERS.items() if can.allowed(user, action)]


def moves_for(user, notification):
    if not can.allowed(user, can.MOVE_NOTIFICATION, notification):
        return []
    return list(notifications.TRANSITIONS.get(notification.status, ()))


# -- reading -------------------------------------------------------------------

def _with_names(query):
    """The names of the addressee, the sender and the object a monitoring
    notice is about, beside each notification."""
    N = Notification
    To, From, About = (RatableObject.alias("addressee"), RatableObject.alias("sender"),
                       RatableObject.alias("about"))
    return (query.select_extend(To.name.alias("organization_name"), From.name.alias("sender_name"),
                                About.name.alias("object_name"))
            .join(To, on=(N.organization == To.id))
            .join(From, JOIN.LEFT_OUTER, on=(N.sender == From.id))
            .join(About, JOIN.LEFT_OUTER, on=(N.object == About.id)))


def _listing(user, args):
    """One page of the notifications ``user`` sees, newest first, with the
    names of the addressee and the sender, and how many there are in all.
    Newest first is by id (ids grow with time), so that the database walks
    the primary key backwards and stops after a page instead of sorting
    the moderator's whole queue; the count needs no names."""
    _require_any(user)
    N = Notification
    where = _visible(user, args["box"])
    if args["status"]:
        where &= N.status == args["status"]
    if args["kind"]:
        where &= N.kind == args["kind"]
    if args["overdue"]:
        where &= notifications.overdue()
    page = _with_names(N.select(N)).where(where).order_by(N.id.desc()).paginate(args["page"], args["per_page"])
    page = page.objects()
    return list(page), N.select().where(where).count()


def _one(notification_id):
    N = Notification
    found = (_with_names(N.select(N)).where(N.id == notification_id).objects().first()
             if 0 < notification_id <= MAX_ID else None)
    if found is None:
        raise ApiError({"notification": ["not found"]}, status=404)
    return found


def _stamp(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def as_json(n, user):
    return {"id": n.id, "organization": {"id": n.organization_id, "name": n.organization_name},
            "kind": n.kind, "sender": {"id": n.sender_id, "name": n.sender_name} if n.sender_id else None,
            "text": n.text, "period": n.period, "status": n.status,
            "control_date": n.control_date.isoformat() if n.control_date else None, "report": n.report,
            "object": {"id": n.object_id, "name": n.object_name} if n.object_id else None,
            "figures": n.figures,
            "overdue": notifications.is_overdue(n),
            "overdue_since": n.overdue_since.isoformat() if n.overdue_since else None,
            "moves": moves_for(user, n),
            "created": _stamp(n.created), "updated": _stamp(n.updated)}


def recipients(user):
    """The organizations a body may send a recommendation to, by name: its
    accepted registry's, transitively, without itself."""
    scope = can.readable_objects(user, can.SEND_RECOMMENDATION)
    O = RatableObject
    query = O.select(O.id, O.name, O.unp).where((O.kind == O.ORGANIZATION) & (O.id != user.organization_id))
    if scope is not None:
        query = query.where(O.id.in_(scope))
    return list(query.order_by(O.sort_name, O.id))


# -- the actions -----------------------------------------------------------------

def _refusal(error):
    """The domain's refusal in the reader's language."""
    params = {key: t(f"cabinet.notif.status.{value}") if key in ("source", "target") else value
              for key, value in error.params.items()}
    return t(f"cabinet.notif.error.{error.code}", **params)


def send(user, data):
    if not kinds_to_send(user):
        abort(403)
    data = load(new_schema, data)
    organization = RatableObject.get_or_none(RatableObject.id == data["organization"])
    if organization is None:
        raise ApiError({"organization": [t("cabinet.notif.error.organization")]})
    can.require(user, SENDERS[data["kind"]], organization)
    sender = (RatableObject.get_by_id(user.organization_id)
              if data["kind"] == Notification.RECOMMENDATION else None)
    with write_transaction():
        try:
            notification = notifications.send(organization, data["kind"], data["text"], sender=sender, author=user,
                                              period=data["period"])
        except notifications.NotificationError as error:
            raise ApiError({error.field: [_refusal(error)]}) from None
        audit.record(user, "notification.send", "notification", notification.id,
                     after=audit.snapshot(notification, AUDITED))
    return notification


def move(user, notification, data):
    can.require(user, can.MOVE_NOTIFICATION, notification)
    data = load(move_schema, data)
    with write_transaction():
        before = audit.snapshot(notification, ("status", "control_date", "report"))
        try:
            notifications.move(notification, data["to"], data["control_date"], data["report"])
        except notifications.NotificationStateError as error:
            raise conflict(_refusal(error)) from None
        except notifications.NotificationError as error:
            raise ApiError({error.field: [_refusal(error)]}) from None
        audit.record(user, "notification.move", "notification", notification.id, before=before,
                     after=audit.snapshot(notification, ("status", "control_date", "report")))
    return notification


# -- JSON ------------------------------------------------------------------------------

@api.get("/notifications")
def notifications_json():
    user = actor()
    args = load(list_query, request.args)
    rows, total = _listing(user, args)
    return jsonify(items=[as_json(n, user) for n in rows], total=total, page=args["page"], per_page=args["per_page"])


@api.post("/notifications")
def notification_send_json():
    user = actor()
    notification = send(user, json_body())
    return jsonify(as_json(_one(notification.id), user)), 201


@api.post("/notifications/<int:notification_id>/transitions")
def notification_transition_json(notification_id):
    user = actor()
    notification = get_or_404(Notification, notification_id)
    move(user, notification, json_body())
    return jsonify(as_json(_one(notification_id), user))


# -- pages ------------------------------------------------------------------------------

def _link_to(endpoint, **args):
    return url_for(endpoint, lang=current_language(), **{k: v for k, v in args.items() if v not in (None, "", False)})


@pages.get("/notifications")
def notifications_page():
    user = actor()
    _require_any(user)
    args = load(list_query, request.args)
    available = [box for box in BOXES if box in boxes(user)]
    if args["box"] is None and available:
        args["box"] = available[0]
    rows, total = _listing(user, args)
    return render_form("cabinet/notifications.html", title=t("cabinet.nav.notifications"), args=args,
                       rows=rows, total=total,
                       pages=max(1, -(-total // args["per_page"])), boxes=available,
                       may_send=bool(kinds_to_send(user)), is_overdue=notifications.is_overdue,
                       status_options=[(s, t(f"cabinet.notif.status.{s}")) for s in notifications.STATUSES],
                       link_to=_link_to)


def _send_page(user, form, errors=None, status=200):
    kinds = kinds_to_send(user)
    if not kinds:
        abort(403)
    # A body picks from its registry's organizations; the moderator, who may
    # write to any of thirteen thousand, types a УНП or an id.
    choices = None
    if Notification.RECOMMENDATION in kinds:
        choices = [(o.id, f"{o.name} ({o.unp})" if o.unp else o.name) for o in recipients(user)]
    return render_form("cabinet/notification_new.html", errors=errors, status=status,
                       title=t("cabinet.notif.new"), form=form, kinds=kinds, choices=choices, link_to=_link_to,
                       kind_options=[(kind, t(f"cabinet.notif.kind.{kind}")) for kind in kinds])


@pages.get("/notifications/new")
def notification_new_page():
    user = actor()
    return _send_page(user, {"organization": request.args.get("organization", ""), "text": "", "period": ""})


def _organization_ref(text):
    """An organization named on the form by its УНП (nine digits) or its id."""
    text = (text or "").strip()
    if len(text) == 9 and text.isdigit():
        found = structure.ids_by_unp([text])
        if not found:
            raise ApiError({"organization": [t("cabinet.notif.error.unp", unp=text)]})
        return found[text]
    if not text.isdigit():
        raise ApiError({"organization": [t("cabinet.notif.error.reference")]})
    return int(text)


@pages.post("/notifications")
def notification_send_page():
    user = actor()
    kinds = kinds_to_send(user)
    form = {"organization": request.form.get("organization", ""), "text": request.form.get("text", ""),
            "period": request.form.get("period", ""), "kind": request.form.get("kind") or (kinds[0] if kinds else "")}
    try:
        notification = send(user, {"organization": _organization_ref(form["organization"]), "kind": form["kind"],
                                   "text": form["text"], "period": form["period"] or None})
    except ApiError as error:
        if error.status != 400:
            raise
        return _send_page(user, form, errors=form_errors(error), status=400)
    return redirect(_link_to("cabinet.notification_page", notification_id=notification.id, saved=1), code=303)


def _notification_page(user, notification_id, errors=None, status=200, form=None):
    notification = _one(notification_id)
    if not may_read(user, notification):
        abort(403)
    today = notifications.today()
    return render_form("cabinet/notification.html", errors=errors, status=status,
                       title=t(f"cabinet.notif.kind.{notification.kind}"), n=notification,
                       moves=moves_for(user, notification), overdue=notifications.is_overdue(notification),
                       first_date=today.isoformat(), last_date=notifications.latest_control_date(today).isoformat(),
                       form=form or {}, saved=request.args.get("saved"), link_to=_link_to,
                       ratings_link=_ratings_link(user, notification))


def _ratings_link(user, notification):
    """The ratings of the month behind a monitoring notice, for those who
    may read them."""
    if not notification.object_id or not can.allowed(user, can.READ_RATINGS, notification.object):
        return None
    return _link_to("cabinet.ratings_page", object=notification.object_id, period=notification.period,
                    comment="any")


@pages.get("/notifications/<int:notification_id>")
def notification_page(notification_id):
    return _notification_page(actor(), notification_id)


@pages.post("/notifications/<int:notification_id>/transitions")
def notification_transition_page(notification_id):
    user = actor()
    notification = get_or_404(Notification, notification_id)
    form = {"to": request.form.get("to", ""), "control_date": request.form.get("control_date") or None,
            "report": request.form.get("report") or None}
    try:
        move(user, notification, form)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _notification_page(user, notification_id, errors=form_errors(error), status=error.status, form=form)
    return redirect(_link_to("cabinet.notification_page", notification_id=notification_id, saved=1), code=303)
