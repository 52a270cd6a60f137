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

from service import i18n, notifications, structure
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


_STRINGS = {
    "ru": {
        "cabinet.notif.monitoring": "мониторинг (автоматически)",
        "cabinet.notif.object": "Объект оценки", "cabinet.notif.overdue_since": "Просрочено с",
        "cabinet.notif.ratings_behind": "Оценки и комментарии за этот месяц",
        "cabinet.notif.kind.low_score": "Уведомление о низких оценках",
        "cabinet.notif.kind.recommendation": "Рекомендация",
        "cabinet.notif.status.new": "новое", "cabinet.notif.status.in_work": "в работе",
        "cabinet.notif.status.planned": "запланировано", "cabinet.notif.status.done": "выполнено",
        "cabinet.notif.overdue": "просрочено",
        "cabinet.notif.box.received": "Полученные", "cabinet.notif.box.sent": "Отправленные",
        "cabinet.notif.boxes": "Папки уведомлений", "cabinet.notif.pages": "Страницы списка",
        "cabinet.notif.status": "Состояние", "cabinet.notif.all": "Все состояния",
        "cabinet.notif.only_overdue": "Только просроченные", "cabinet.notif.filter": "Показать",
        "cabinet.notif.total": "Уведомлений: {n}", "cabinet.notif.empty": "Уведомлений нет.",
        "cabinet.notif.when": "Дата", "cabinet.notif.kind": "Вид", "cabinet.notif.to": "Кому",
        "cabinet.notif.from": "От кого", "cabinet.notif.moderator": "модератор",
        "cabinet.notif.text": "Текст", "cabinet.notif.period": "Период",
        "cabinet.notif.period_hint": "Необязательно: месяц (2026-10), квартал (2026-Q3), полугодие (2026-H2) или год.",
        "cabinet.notif.control_date": "Контрольный срок", "cabinet.notif.report": "Отчёт о выполнении",
        "cabinet.notif.open": "Открыть", "cabinet.notif.new": "Отправить уведомление",
        "cabinet.notif.send": "Отправить",
        "cabinet.notif.organization": "Организация",
        "cabinet.notif.organization_hint": "УНП (девять цифр) или номер организации.",
        "cabinet.notif.choose": "— выберите организацию —",
        "cabinet.notif.no_recipients": "В вашем принятом реестре нет организаций: рекомендации отправляются только им.",
        "cabinet.notif.moves": "Ответ на уведомление",
        "cabinet.notif.move.in_work": "Взять в работу", "cabinet.notif.move.planned": "Запланировать",
        "cabinet.notif.move.done": "Отметить выполненным",
        "cabinet.notif.planned_hint": "Не позднее трёх месяцев: с {first} по {last}.",
        "cabinet.notif.overdue_note": "Контрольный срок {date} прошёл.",
        "cabinet.notif.closed": "Уведомление выполнено.",
        "cabinet.notif.created": "Получено", "cabinet.notif.updated": "Изменено",
        "cabinet.notif.error.organization": "Такой организации нет.",
        "cabinet.notif.error.unp": "Организации с УНП {unp} нет.",
        "cabinet.notif.error.reference": "Укажите УНП (девять цифр) или номер организации.",
        "cabinet.notif.error.kind": "Неизвестный вид уведомления.",
        "cabinet.notif.error.subdivision": "Уведомление отправляется организации, а не структурному подразделению.",
        "cabinet.notif.error.text": "Напишите текст уведомления.",
        "cabinet.notif.error.not_a_body": "Рекомендации отправляет уполномоченный орган.",
        "cabinet.notif.error.to_itself": "Орган не отправляет рекомендации самому себе.",
        "cabinet.notif.error.period": "Период — месяц (2026-10), квартал (2026-Q3), полугодие (2026-H2) или год (2026).",
        "cabinet.notif.error.status": "Неизвестное состояние.",
        "cabinet.notif.error.state": "Из состояния «{source}» в «{target}» перейти нельзя.",
        "cabinet.notif.error.meanwhile": "Уведомление тем временем изменили; обновите страницу.",
        "cabinet.notif.error.control_date_missing": "Укажите контрольный срок.",
        "cabinet.notif.error.control_date_range": "Контрольный срок — с {first} по {last} (не больше трёх месяцев).",
        "cabinet.notif.error.report": "Опишите, что сделано: без отчёта уведомление не закрывается.",
        "cabinet.notif.error.invalid": "Неверное значение.",
    },
    "be": {
        "cabinet.notif.monitoring": "маніторынг (аўтаматычна)",
        "cabinet.notif.object": "Аб'ект ацэнкі", "cabinet.notif.overdue_since": "Пратэрмінавана з",
        "cabinet.notif.ratings_behind": "Ацэнкі і каментарыі за гэты месяц",
        "cabinet.notif.kind.low_score": "Апавяшчэнне пра нізкія ацэнкі",
        "cabinet.notif.kind.recommendation": "Рэкамендацыя",
        "cabinet.notif.status.new": "новае", "cabinet.notif.status.in_work": "у рабоце",
        "cabinet.notif.status.planned": "запланавана", "cabinet.notif.status.done": "выканана",
        "cabinet.notif.overdue": "пратэрмінавана",
        "cabinet.notif.box.received": "Атрыманыя", "cabinet.notif.box.sent": "Адпраўленыя",
        "cabinet.notif.boxes": "Папкі апавяшчэнняў", "cabinet.notif.pages": "Старонкі спіса",
        "cabinet.notif.status": "Стан", "cabinet.notif.all": "Усе станы",
        "cabinet.notif.only_overdue": "Толькі пратэрмінаваныя", "cabinet.notif.filter": "Паказаць",
        "cabinet.notif.total": "Апавяшчэнняў: {n}", "cabinet.notif.empty": "Апавяшчэнняў няма.",
        "cabinet.notif.when": "Дата", "cabinet.notif.kind": "Від", "cabinet.notif.to": "Каму",
        "cabinet.notif.from": "Ад каго", "cabinet.notif.moderator": "мадэратар",
        "cabinet.notif.text": "Тэкст", "cabinet.notif.period": "Перыяд",
        "cabinet.notif.period_hint": "Неабавязкова: месяц (2026-10), квартал (2026-Q3), паўгоддзе (2026-H2) або год.",
        "cabinet.notif.control_date": "Кантрольны тэрмін", "cabinet.notif.report": "Справаздача аб выкананні",
        "cabinet.notif.open": "Адкрыць", "cabinet.notif.new": "Адправіць апавяшчэнне",
        "cabinet.notif.send": "Адправіць",
        "cabinet.notif.organization": "Арганізацыя",
        "cabinet.notif.organization_hint": "УНП (дзевяць лічбаў) або нумар арганізацыі.",
        "cabinet.notif.choose": "— выберыце арганізацыю —",
        "cabinet.notif.no_recipients": "У вашым прынятым рэестры няма арганізацый: рэкамендацыі адпраўляюцца толькі ім.",
        "cabinet.notif.moves": "Адказ на апавяшчэнне",
        "cabinet.notif.move.in_work": "Узяць у работу", "cabinet.notif.move.planned": "Запланаваць",
        "cabinet.notif.move.done": "Адзначыць выкананым",
        "cabinet.notif.planned_hint": "Не пазней за тры месяцы: з {first} па {last}.",
        "cabinet.notif.overdue_note": "Кантрольны тэрмін {date} мінуў.",
        "cabinet.notif.closed": "Апавяшчэнне выканана.",
        "cabinet.notif.created": "Атрымана", "cabinet.notif.updated": "Зменена",
        "cabinet.notif.error.organization": "Такой арганізацыі няма.",
        "cabinet.notif.error.unp": "Арганізацыі з УНП {unp} няма.",
        "cabinet.notif.error.reference": "Укажыце УНП (дзевяць лічбаў) або нумар арганізацыі.",
        "cabinet.notif.error.kind": "Невядомы від апавяшчэння.",
        "cabinet.notif.error.subdivision": "Апавяшчэнне адпраўляецца арганізацыі, а не структурнаму падраздзяленню.",
        "cabinet.notif.error.text": "Напішыце тэкст апавяшчэння.",
        "cabinet.notif.error.not_a_body": "Рэкамендацыі адпраўляе ўпаўнаважаны орган.",
        "cabinet.notif.error.to_itself": "Орган не адпраўляе рэкамендацыі самому сабе.",
        "cabinet.notif.error.period": "Перыяд — месяц (2026-10), квартал (2026-Q3), паўгоддзе (2026-H2) або год (2026).",
        "cabinet.notif.error.status": "Невядомы стан.",
        "cabinet.notif.error.state": "Са стану «{source}» у «{target}» перайсці нельга.",
        "cabinet.notif.error.meanwhile": "Апавяшчэнне тым часам змянілі; абнавіце старонку.",
        "cabinet.notif.error.control_date_missing": "Укажыце кантрольны тэрмін.",
        "cabinet.notif.error.control_date_range": "Кантрольны тэрмін — з {first} па {last} (не больш за тры месяцы).",
        "cabinet.notif.error.report": "Апішыце, што зроблена: без справаздачы апавяшчэнне не закрываецца.",
        "cabinet.notif.error.invalid": "Няправільнае значэнне.",
    },
    "en": {
        "cabinet.notif.monitoring": "the monitoring (automatic)",
        "cabinet.notif.object": "Object rated", "cabinet.notif.overdue_since": "Overdue since",
        "cabinet.notif.ratings_behind": "The month's ratings and comments",
        "cabinet.notif.kind.low_score": "Low-score notification",
        "cabinet.notif.kind.recommendation": "Recommendation",
        "cabinet.notif.status.new": "new", "cabinet.notif.status.in_work": "in work",
        "cabinet.notif.status.planned": "planned", "cabinet.notif.status.done": "done",
        "cabinet.notif.overdue": "overdue",
        "cabinet.notif.box.received": "Received", "cabinet.notif.box.sent": "Sent",
        "cabinet.notif.boxes": "Notification boxes", "cabinet.notif.pages": "Pages of the list",
        "cabinet.notif.status": "Status", "cabinet.notif.all": "Any status",
        "cabinet.notif.only_overdue": "Overdue only", "cabinet.notif.filter": "Show",
        "cabinet.notif.total": "Notifications: {n}", "cabinet.notif.empty": "No notifications.",
        "cabinet.notif.when": "Date", "cabinet.notif.kind": "Kind", "cabinet.notif.to": "To",
        "cabinet.notif.from": "From", "cabinet.notif.moderator": "moderator",
        "cabinet.notif.text": "Text", "cabinet.notif.period": "Period",
        "cabinet.notif.period_hint": "Optional: a month (2026-10), quarter (2026-Q3), half-year (2026-H2) or year.",
        "cabinet.notif.control_date": "Control date", "cabinet.notif.report": "Report of what was done",
        "cabinet.notif.open": "Open", "cabinet.notif.new": "Send a notification",
        "cabinet.notif.send": "Send",
        "cabinet.notif.organization": "Organization",
        "cabinet.notif.organization_hint": "Registration number (УНП, nine digits) or the organization's id.",
        "cabinet.notif.choose": "— choose an organization —",
        "cabinet.notif.no_recipients": "Your accepted registry lists no organizations; recommendations go only to them.",
        "cabinet.notif.moves": "Respond",
        "cabinet.notif.move.in_work": "Take into work", "cabinet.notif.move.planned": "Plan",
        "cabinet.notif.move.done": "Mark as done",
        "cabinet.notif.planned_hint": "At most three months ahead: from {first} to {last}.",
        "cabinet.notif.overdue_note": "The control date {date} has passed.",
        "cabinet.notif.closed": "The notification is done.",
        "cabinet.notif.created": "Received", "cabinet.notif.updated": "Changed",
        "cabinet.notif.error.organization": "No such organization.",
        "cabinet.notif.error.unp": "No organization is registered under УНП {unp}.",
        "cabinet.notif.error.reference": "Give a registration number (УНП, nine digits) or an organization's id.",
        "cabinet.notif.error.kind": "Unknown kind of notification.",
        "cabinet.notif.error.subdivision": "A notification goes to an organization, not to a subdivision.",
        "cabinet.notif.error.text": "Write the notification's text.",
        "cabinet.notif.error.not_a_body": "Recommendations come from an authorized body.",
        "cabinet.notif.error.to_itself": "A body does not send recommendations to itself.",
        "cabinet.notif.error.period": "A period is a month (2026-10), quarter (2026-Q3), half-year (2026-H2) or year (2026).",
        "cabinet.notif.error.status": "Unknown status.",
        "cabinet.notif.error.state": "A notification cannot go from “{source}” to “{target}”.",
        "cabinet.notif.error.meanwhile": "The notification was changed meanwhile; reload the page.",
        "cabinet.notif.error.control_date_missing": "Give a control date.",
        "cabinet.notif.error.control_date_range": "The control date must be from {first} to {last} (at most three months ahead).",
        "cabinet.notif.error.report": "Say what was done: a notification is not closed without a report.",
        "cabinet.notif.error.invalid": "Invalid value.",
    },
    "tt": {
        "cabinet.notif.monitoring": "мониторинг (автоматик рәвештә)",
        "cabinet.notif.object": "Бәяләү объекты", "cabinet.notif.overdue_since": "Вакыты чыккан:",
        "cabinet.notif.ratings_behind": "Бу айның бәяләре һәм аңлатмалары",
        "cabinet.notif.kind.low_score": "Түбән бәяләр турында белдерү",
        "cabinet.notif.kind.recommendation": "Тәкъдим",
        "cabinet.notif.status.new": "яңа", "cabinet.notif.status.in_work": "эштә",
        "cabinet.notif.status.planned": "планлаштырылган", "cabinet.notif.status.done": "үтәлгән",
        "cabinet.notif.overdue": "вакыты узган",
        "cabinet.notif.box.received": "Алынганнар", "cabinet.notif.box.sent": "Җибәрелгәннәр",
        "cabinet.notif.boxes": "Белдерүләр папкалары", "cabinet.notif.pages": "Исемлек битләре",
        "cabinet.notif.status": "Хәле", "cabinet.notif.all": "Барлык хәлләр",
        "cabinet.notif.only_overdue": "Вакыты узганнар гына", "cabinet.notif.filter": "Күрсәтү",
        "cabinet.notif.total": "Белдерүләр: {n}", "cabinet.notif.empty": "Белдерүләр юк.",
        "cabinet.notif.when": "Дата", "cabinet.notif.kind": "Төре", "cabinet.notif.to": "Кемгә",
        "cabinet.notif.from": "Кемнән", "cabinet.notif.moderator": "модератор",
        "cabinet.notif.text": "Текст", "cabinet.notif.period": "Чор",
        "cabinet.notif.period_hint": "Мәҗбүри түгел: ай (2026-10), квартал (2026-Q3), ярты ел (2026-H2) яки ел.",
        "cabinet.notif.control_date": "Контроль вакыты", "cabinet.notif.report": "Үтәү турында хисап",
        "cabinet.notif.open": "Ачу", "cabinet.notif.new": "Белдерү җибәрү",
        "cabinet.notif.send": "Җибәрү",
        "cabinet.notif.organization": "Оешма",
        "cabinet.notif.organization_hint": "УНП (тугыз цифр) яки оешма номеры.",
        "cabinet.notif.choose": "— оешманы сайлагыз —",
        "cabinet.notif.no_recipients": "Кабул ителгән реестрыгызда оешмалар юк: тәкъдимнәр аларга гына җибәрелә.",
        "cabinet.notif.moves": "Белдерүгә җавап",
        "cabinet.notif.move.in_work": "Эшкә алу", "cabinet.notif.move.planned": "Планлаштыру",
        "cabinet.notif.move.done": "Үтәлгән дип билгеләү",
        "cabinet.notif.planned_hint": "Өч айдан да соңга калмыйча: {first} — {last}.",
        "cabinet.notif.overdue_note": "{date} контроль вакыты узды.",
        "cabinet.notif.closed": "Белдерү үтәлгән.",
        "cabinet.notif.created": "Алынган", "cabinet.notif.updated": "Үзгәртелгән",
        "cabinet.notif.error.organization": "Андый оешма юк.",
        "cabinet.notif.error.unp": "УНП {unp} белән оешма юк.",
        "cabinet.notif.error.reference": "УНП (тугыз цифр) яки оешма номерын күрсәтегез.",
        "cabinet.notif.error.kind": "Билгесез белдерү төре.",
        "cabinet.notif.error.subdivision": "Белдерү структур бүлекчәгә түгел, оешмага җибәрелә.",
        "cabinet.notif.error.text": "Белдерү текстын языгыз.",
        "cabinet.notif.error.not_a_body": "Тәкъдимнәрне вәкаләтле орган җибәрә.",
        "cabinet.notif.error.to_itself": "Орган үз-үзенә тәкъдимнәр җибәрми.",
        "cabinet.notif.error.period": "Чор — ай (2026-10), квартал (2026-Q3), ярты ел (2026-H2) яки ел (2026).",
        "cabinet.notif.error.status": "Билгесез хәл.",
        "cabinet.notif.error.state": "«{source}» хәленнән «{target}» хәленә күчеп булмый.",
        "cabinet.notif.error.meanwhile": "Белдерүне шул арада үзгәрттеләр; битне яңартыгыз.",
        "cabinet.notif.error.control_date_missing": "Контроль вакытын күрсәтегез.",
        "cabinet.notif.error.control_date_range": "Контроль вакыты — {first} — {last} (өч айдан артык түгел).",
        "cabinet.notif.error.report": "Нәрсә эшләнгәнен языгыз: хисапсыз белдерү ябылмый.",
        "cabinet.notif.error.invalid": "Дөрес булмаган кыйммәт.",
    },
}
i18n.register(_STRINGS)
