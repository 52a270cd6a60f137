"""Notifications to an organization: low scores (from the moderator or the
monitoring) and recommendations (from its authorized body), and the way
their status moves: new → in work → done, or planned with a control date
no more than three months ahead (Tatarstan's order, 4.10). A planned
notification whose control date has passed is overdue.

"Today" is the one function ``today()``, in the service's time zone, so
that the cabinets, the monitoring job and the tests agree on the date (a
test moves the clock by replacing it)."""
import calendar
import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from service import ranking
from service.models import Notification, RatableObject, utcnow

KINDS = (Notification.LOW_SCORE, Notification.RECOMMENDATION)
STATUSES = (Notification.NEW, Notification.IN_WORK, Notification.PLANNED, Notification.DONE)
# How far ahead a control date may be set, in months.
PLANNING_HORIZON = 3


class NotificationError(ValueError):
    """A field is wrong: ``field`` names it, ``code`` and ``params`` say
    what is wrong for a message in the reader's language."""

    def __init__(self, message, field="_schema", code="invalid", **params):
        super().__init__(message)
        self.field, self.code, self.params = field, code, params


class NotificationStateError(NotificationError):
    """A move that the notification's current status does not allow."""

    def __init__(self, message, code="state", **params):
        super().__init__(message, field="status", code=code, **params)


TRANSITIONS = {
    Notification.NEW: (Notification.IN_WORK, Notification.PLANNED, Notification.DONE),
    Notification.IN_WORK: (Notification.PLANNED, Notification.DONE),
    Notification.PLANNED: (Notification.IN_WORK, Notification.PLANNED, Notification.DONE),
    Notification.DONE: (),
}


def today():
    """Today's date where the service works (``OCENKA_TIMEZONE``): a
    control date is a local date."""
    zone = current_app.config.get("TIMEZONE", "Europe/Minsk") if has_app_context() else "Europe/Minsk"
    return datetime.datetime.now(ZoneInfo(zone)).date()


def months_ahead(day, months):
    """The same day ``months`` later, or the month's last day if shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_control_date(day=None):
    return months_ahead(day or today(), PLANNING_HORIZON)


def is_overdue(notification):
    return notification.is_overdue(today=today())


def overdue():
    """The condition "planned and its control date has passed", for queries."""
    return (Notification.status == Notification.PLANNED) & (Notification.control_date < today())


def check_period(period):
    """A period key as the rankings name it, for a month, quarter,
    half-year or year (``2026-10``, ``2026-Q3``); None when not given."""
    period = (period or "").strip()
    if not period:
        return None
    try:
        parsed = ranking.Period.parse(period)
    except ValueError as error:
        raise NotificationError(str(error), field="period", code="period") from None
    if parsed.kind == "all":
        raise NotificationError("a notification is about a month, a quarter, a half-year or a year", field="period",
                                code="period")
    return parsed.key


def low_score_sent(organization, period):
    """Whether a low-score notification about ``period`` already went to
    ``organization`` (the monitoring job sends one per month)."""
    return (Notification.select()
            .where((Notification.organization == getattr(organization, "id", organization))
                   & (Notification.kind == Notification.LOW_SCORE) & (Notification.period == period))
            .exists())


def send(organization, kind, text, sender=None, author=None, period=None):
    """A new notification to ``organization``: a low score (``sender`` is
    None: the moderator or the monitoring) or a recommendation from the
    authorized body ``sender`` to another organization."""
    if kind not in KINDS:
        raise NotificationError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", field="kind", code="kind")
    if not isinstance(organization, RatableObject) or not organization.is_organization:
        raise NotificationError("a notification goes to an organization, not to a subdivision", field="organization",
                                code="subdivision")
    if not (text or "").strip():
        raise NotificationError("a notification needs a text", field="text", code="text")
    if kind == Notification.RECOMMENDATION:
        if sender is None or not sender.is_authorized_body:
            raise NotificationError("a recommendation comes from an authorized body", field="kind", code="not_a_body")
        if sender.id == organization.id:
            raise NotificationError("a body does not send recommendations to itself", field="organization",
                                    code="to_itself")
    return Notification.create(organization=organization.id, kind=kind, text=text.strip(), period=check_period(period),
                               sender=sender.id if sender is not None else None,
                               author=author.id if author is not None else None)


def move(notification, status, control_date=None, report=None):
    """Changes the status. ``planned`` needs a control date from today to
    three months ahead, ``done`` a report of what was done; a report given
    with another move (what is planned, say) is kept too. The control date
    stays only while planned."""
    if status not in STATUSES:
        raise NotificationError(f"unknown status {status!r}", field="to", code="status")
    if status not in TRANSITIONS.get(notification.status, ()):
        raise NotificationStateError(f"a notification cannot go from {notification.status} to {status}",
                                     source=notification.status, target=status)
    report = (report or "").strip() or None
    if status == Notification.PLANNED:
        day = today()
        if control_date is None:
            raise NotificationError("a planned notification needs a control date", field="control_date",
                                    code="control_date_missing")
        last = latest_control_date(day)
        if not day <= control_date <= last:
            raise NotificationError(f"the control date must be from {day} to {last}", field="control_date",
                                    code="control_date_range", first=day.isoformat(), last=last.isoformat())
    if status == Notification.DONE and report is None:
        raise NotificationError("say what was done: a done notification needs a report", field="report",
                                code="report")
    changes = {"status": status, "control_date": control_date if status == Notification.PLANNED else None,
               "updated": utcnow()}
    if report is not None:
        changes["report"] = report
    # On the condition that nobody moved it meanwhile.
    if not Notification.update(**changes).where((Notification.id == notification.id)
                                                & (Notification.status == notification.status)).execute():
        raise NotificationStateError(f"the notification was moved meanwhile; it is no longer {notification.status}",
                                     code="meanwhile")
    for key, value in changes.items():
        setattr(notification, key, value)
    return notification
