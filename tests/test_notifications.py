"""Notifications: who sends what, and the planned status's control date."""
import datetime

import pytest

from service.models import Notification
from service.notifications import NotificationError, months_ahead, move, send


@pytest.mark.parametrize("day, months, expected", [
    (datetime.date(2026, 11, 22), 3, datetime.date(2027, 2, 22)),
    (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
    (datetime.date(2027, 11, 30), 3, datetime.date(2028, 2, 29)),
    (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
])
def test_months_ahead(day, months, expected):
    assert months_ahead(day, months) == expected


def test_planned_needs_a_control_date_within_three_months(world):
    today = datetime.date(2026, 11, 22)
    note = send(world.school, Notification.LOW_SCORE, "Низкие оценки вежливости в октябре")
    with pytest.raises(NotificationError):
        move(note, Notification.PLANNED, today=today)
    with pytest.raises(NotificationError):
        move(note, Notification.PLANNED, datetime.date(2027, 2, 23), today=today)
    with pytest.raises(NotificationError):
        move(note, Notification.PLANNED, datetime.date(2026, 11, 21), today=today)
    move(note, Notification.PLANNED, datetime.date(2027, 2, 22), today=today)
    stored = Notification.get_by_id(note.id)
    assert stored.status == "planned" and stored.control_date == datetime.date(2027, 2, 22)
    assert not stored.is_overdue(today=datetime.date(2027, 2, 22))
    assert stored.is_overdue(today=datetime.date(2027, 2, 23))
    move(stored, Notification.DONE, today=today)
    assert Notification.get_by_id(note.id).control_date is None
    with pytest.raises(NotificationError):
        move(stored, Notification.IN_WORK, today=today)


def test_a_recommendation_comes_from_an_authorized_body(world):
    with pytest.raises(NotificationError):
        send(world.school, Notification.RECOMMENDATION, "Разместите стенд", sender=world.zags)
    note = send(world.school, Notification.RECOMMENDATION, "Разместите стенд", sender=world.body)
    assert note.status == Notification.NEW and note.sender_id == world.body.id
    with pytest.raises(NotificationError):
        send(world.school, "gossip", "…")
    with pytest.raises(NotificationError):
        send(world.school, Notification.LOW_SCORE, "   ")
