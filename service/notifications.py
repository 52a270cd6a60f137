"""Notifications to an organization: low scores (from the moderator or the
monitoring) and recommendations (from its authorized body), and the way
their status moves: new → in work → done, or planned with a control date
no more than three months ahead (Tatarstan's order, 4.10)."""
import calendar
import datetime

from service.models import Notification, utcnow


class NotificationError(ValueError):
    pass


TRANSITIONS = {
    Notification.NEW: (Notification.IN_WORK, Notification.PLANNED, Notification.DONE),
    Notification.IN_WORK: (Notification.PLANNED, Notification.DONE),
    Notification.PLANNED: (Notification.IN_WORK, Notification.PLANNED, Notification.DONE),
    Notification.DONE: (),
}


def months_ahead(day, months):
    """The same day ``months`` later, or the month's last day if shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def send(organization, kind, text, sender=None, author=None):
    if kind not in (Notification.LOW_SCORE, Notification.RECOMMENDATION):
        raise NotificationError(f"unknown kind {kind!r}")
    if not (text or "").strip():
        raise NotificationError("a notification needs a text")
    if kind == Notification.RECOMMENDATION and (sender is None or not sender.is_authorized_body):
        raise NotificationError("a recommendation comes from an authorized body")
    return Notification.create(organization=organization, kind=kind, text=text.strip(), sender=sender, author=author)


def move(notification, status, control_date=None, today=None):
    """Changes the status; ``planned`` needs a control date from today to
    three months ahead."""
    today = today or datetime.date.today()
    if status not in TRANSITIONS.get(notification.status, ()):
        raise NotificationError(f"a notification cannot go from {notification.status} to {status}")
    if status == Notification.PLANNED:
        if control_date is None:
            raise NotificationError("a planned notification needs a control date")
        if not today <= control_date <= months_ahead(today, 3):
            raise NotificationError(f"the control date must be from {today} to {months_ahead(today, 3)}")
    notification.status = status
    notification.control_date = control_date if status == Notification.PLANNED else None
    notification.updated = utcnow()
    notification.save()
    return notification
