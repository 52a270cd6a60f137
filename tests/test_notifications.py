"""Notifications: who sends what, the planned status's control date, the
report that closes one, and overdue items, with the clock moved by
replacing ``notifications.today``."""
import datetime

import pytest

from service import notifications
from service.models import Notification
from service.notifications import NotificationError, NotificationStateError, months_ahead, move, send

TODAY = datetime.date(2026, 11, 22)


@pytest.fixture
def clock(monkeypatch):
    """Sets "today"; returns the setter so a test can move the clock on."""
    def set_today(day):
        monkeypatch.setattr(notifications, "today", lambda: day)
    set_today(TODAY)
    return set_today


@pytest.mark.parametrize("day, months, expected", [
    (datetime.date(2026, 11, 22), 3, datetime.date(2027, 2, 22)),
    (datetime.date(2026, 11, 30), 3, datetime.date(2027, 2, 28)),
    (datetime.date(2027, 11, 30), 3, datetime.date(2028, 2, 29)),
    (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
])
def test_months_ahead(day, months, expected):
    assert months_ahead(day, months) == expected


def test_today_is_a_date_in_the_service_time_zone(app):
    with app.app_context():
        assert isinstance(notifications.today(), datetime.date)


def test_planned_needs_a_control_date_within_three_months(world, clock):
    note = send(world.school, Notification.LOW_SCORE, "Низкие оценки вежливости в октябре")
    refusals = {None: "control_date_missing", datetime.date(2027, 3, 22): "control_date_range",
                datetime.date(2027, 2, 23): "control_date_range", datetime.date(2026, 11, 21): "control_date_range"}
    for control_date, code in refusals.items():
        with pytest.raises(NotificationError) as refused:
            move(note, Notification.PLANNED, control_date)
        assert refused.value.field == "control_date" and refused.value.code == code
    assert Notification.get_by_id(note.id).status == Notification.NEW, "nothing changed"
    move(note, Notification.PLANNED, datetime.date(2027, 1, 22))  # two months ahead
    move(note, Notification.PLANNED, datetime.date(2027, 2, 22))  # three months is the limit, and it may be moved
    stored = Notification.get_by_id(note.id)
    assert stored.status == "planned" and stored.control_date == datetime.date(2027, 2, 22)
    move(stored, Notification.PLANNED, TODAY)  # today itself is allowed


def test_done_needs_a_report_and_closes_for_good(world, clock):
    note = send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    move(note, Notification.IN_WORK)
    move(note, Notification.PLANNED, datetime.date(2026, 12, 1), report="Обучение персонала в декабре")
    for report in (None, "", "   "):
        with pytest.raises(NotificationError) as refused:
            move(note, Notification.DONE, report=report)
        assert refused.value.field == "report"
    stored = Notification.get_by_id(note.id)
    assert stored.status == "planned" and stored.report == "Обучение персонала в декабре"
    move(stored, Notification.DONE, report="  Провели обучение, повесили стенд  ")
    stored = Notification.get_by_id(note.id)
    assert stored.status == "done" and stored.report == "Провели обучение, повесили стенд"
    assert stored.control_date is None
    for status in (Notification.IN_WORK, Notification.PLANNED, Notification.DONE):
        with pytest.raises(NotificationStateError):
            move(stored, status, TODAY, report="ещё раз")
    with pytest.raises(NotificationError) as refused:
        move(stored, "forgotten")
    assert refused.value.field == "to"


def test_in_work_cannot_go_back_to_new_and_a_stale_copy_is_refused(world, clock):
    note = send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    with pytest.raises(NotificationError):
        move(note, Notification.NEW)
    stale = Notification.get_by_id(note.id)
    move(note, Notification.IN_WORK)
    with pytest.raises(NotificationStateError) as refused:
        move(stale, Notification.IN_WORK)  # someone else took it into work meanwhile
    assert refused.value.code == "meanwhile"


def test_overdue_the_day_after_the_control_date(world, clock):
    note = send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    move(note, Notification.PLANNED, datetime.date(2026, 12, 10))
    overdue_ids = lambda: [n.id for n in Notification.select().where(notifications.overdue())]  # noqa: E731
    clock(datetime.date(2026, 12, 10))
    assert not notifications.is_overdue(note) and overdue_ids() == []
    clock(datetime.date(2026, 12, 11))
    assert notifications.is_overdue(note) and overdue_ids() == [note.id]
    move(note, Notification.DONE, report="Сделано")
    assert not notifications.is_overdue(note) and overdue_ids() == []


def test_a_recommendation_comes_from_an_authorized_body_to_another_organization(world):
    with pytest.raises(NotificationError):
        send(world.school, Notification.RECOMMENDATION, "Разместите стенд", sender=world.zags)
    note = send(world.school, Notification.RECOMMENDATION, "Разместите стенд", sender=world.body, period="2026-H2")
    assert note.status == Notification.NEW and note.sender_id == world.body.id and note.period == "2026-H2"
    refusals = [
        (dict(organization=world.body, kind=Notification.RECOMMENDATION, text="…", sender=world.body), "to_itself"),
        (dict(organization=world.clinic_women, kind=Notification.LOW_SCORE, text="…"), "subdivision"),
        (dict(organization=world.school, kind="gossip", text="…"), "kind"),
        (dict(organization=world.school, kind=Notification.LOW_SCORE, text="   "), "text"),
        (dict(organization=world.school, kind=Notification.LOW_SCORE, text="…", period="2026-13"), "period"),
        (dict(organization=world.school, kind=Notification.LOW_SCORE, text="…", period="all"), "period"),
    ]
    for arguments, code in refusals:
        with pytest.raises(NotificationError) as refused:
            send(**arguments)
        assert refused.value.code == code, arguments
    assert Notification.select().count() == 1


def test_the_monitoring_job_can_tell_a_month_already_notified(world):
    assert not notifications.low_score_sent(world.school, "2026-10")
    send(world.school, Notification.LOW_SCORE, "Низкие оценки в октябре", period="2026-10")
    assert notifications.low_score_sent(world.school, "2026-10")
    assert not notifications.low_score_sent(world.school, "2026-11")
    assert not notifications.low_score_sent(world.clinic, "2026-10")
