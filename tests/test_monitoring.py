"""The monitoring job: one low-score notice per object and month however
often it runs, with the figures and comments behind it; thresholds from
``OCENKA_LOW_SCORE``; overdue planned items marked once; digests and mail
through a real SMTP server in the test process."""
import datetime
import re
import threading

import pytest

from service import monitoring, notifications
from service.db import database
from service.models import AuditEntry, Notification, Rating, User
from service.monitoring import Thresholds, parse_thresholds
from tests import factories
from tests.smtp import inbox_app_config, smtp_server  # noqa: F401 - fixtures


@pytest.fixture
def app_config(inbox_app_config):
    return inbox_app_config


def rate(app, obj, *scores, comment=None):
    extra = {"comment": comment} if comment else {}
    assert factories.rate(app.test_client(), obj.id, *scores, **extra).status_code == 201


def this_month():
    month = Rating.select(Rating.month).order_by(Rating.id.desc()).scalar()
    return f"{month // 100}-{month % 100:02d}"


@pytest.fixture
def low_month(app, world):
    """The women's consultation of the clinic has a low month (mean 2.0);
    the school a good one; the registry office a low one on too few
    ratings; the children's department a good mean but only 60 %
    satisfied."""
    for n in range(4):
        rate(app, world.clinic_women, 2, 2, 2, 2)
    rate(app, world.clinic_women, 1, 2, 3, 2, comment="Очередь два часа, регистратура грубит")
    for n in range(6):
        rate(app, world.school, 5, 5, 4, 5)
    for n in range(4):
        rate(app, world.zags, 1, 1, 1, 1)
    for n in range(3):
        rate(app, world.clinic_kids, 5, 5, 5, 5)
    for n in range(2):
        rate(app, world.clinic_kids, 3, 3, 3, 3, comment="Ничего особенного")
    return this_month()


def monitor(app, *args):
    result = app.test_cli_runner().invoke(args=["monitor", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_running_twice_sends_one_notice_per_low_object(app, world, low_month):
    output = monitor(app, "--month", low_month)
    assert f"{low_month}: 2 object(s) below the thresholds" in output
    assert "2 notice(s) sent now, 0 sent before" in output
    notices = list(Notification.select().order_by(Notification.object))
    assert [(n.object_id, n.organization_id, n.kind, n.period, n.status) for n in notices] == [
        (world.clinic_women.id, world.clinic.id, Notification.LOW_SCORE, low_month, Notification.NEW),
        (world.clinic_kids.id, world.clinic.id, Notification.LOW_SCORE, low_month, Notification.NEW),
    ]
    women = notices[0]
    assert women.figures["n"] == 5 and women.figures["overall"] == pytest.approx(2.0)
    assert women.figures["satisfaction"] == 0 and women.figures["criteria"]["simplicity"] == pytest.approx(1.8)
    assert "«Женская консультация»" in women.text and low_month in women.text
    assert "средняя оценка 2,00 из 5" in women.text
    assert "— (2,00) Очередь два часа, регистратура грубит" in women.text
    assert notices[1].figures["satisfaction"] == pytest.approx(60.0) and notices[1].figures["overall"] == 4.2

    again = monitor(app, "--month", low_month)
    assert "0 notice(s) sent now, 2 sent before" in again
    assert Notification.select().count() == 2
    assert AuditEntry.select().where(AuditEntry.action == "notification.send").count() == 2


def test_the_thresholds_are_configurable(app, world, low_month):
    app.config["LOW_SCORE"] = Thresholds(overall=4.5, satisfaction=0, min_ratings=4)
    monitor(app, "--month", low_month)
    # The registry office now has enough ratings; the children's
    # department (4.2) and the school (4.75 with its 4s) split at 4.5.
    assert {n.object_id for n in Notification.select()} == {world.clinic_women.id, world.clinic_kids.id,
                                                           world.zags.id}


@pytest.mark.parametrize("text, message", [
    ("overall=six", "overall must be a number from 1.0 to 5.0"),
    ("satisfaction=101", "satisfaction must be a number from 0.0 to 100.0"),
    ("min_ratings=2.5", "min_ratings must be a whole number"),
    ("mean=3", "'mean' is not one of overall, satisfaction, min_ratings"),
])
def test_bad_thresholds_stop_the_start(text, message):
    with pytest.raises(ValueError, match=message):
        parse_thresholds(text)


def test_thresholds_from_the_environment():
    assert parse_thresholds("") == Thresholds(3.5, 70.0, 5)
    assert parse_thresholds(" overall = 3.8 , min_ratings=10") == Thresholds(3.8, 70.0, 10)


def test_a_month_noticed_by_hand_gets_no_second_notice(app, world, low_month):
    # The moderator wrote to the clinic about its own month before the job ran.
    for n in range(5):
        rate(app, world.clinic, 1, 1, 1, 1)
    notifications.send(world.clinic, Notification.LOW_SCORE, "Низкие оценки", period=low_month)
    monitor(app, "--month", low_month)
    assert Notification.select().where(Notification.object == world.clinic.id).count() == 0
    assert Notification.select().where(Notification.object.is_null(False)).count() == 2


def test_concurrent_runs_send_one_notice(app, world, low_month):
    errors = []

    def run():
        try:
            with app.app_context(), database.connection_context():
                monitoring.send_low_score_notices(low_month)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Notification.select().count() == 2


def test_the_unique_index_refuses_a_second_notice_for_an_object_and_month(app, world, low_month):
    monitoring.send_low_score_notices(low_month)
    obj = world.clinic_women
    notice = monitoring.notice_text(obj, low_month, {"n": 5, "overall": 2.0, "satisfaction": 0.0}, [],
                                    Thresholds(), "ru")
    assert monitoring._write_notices(low_month, [(obj, {"n": 5}, notice)]) == 0
    assert Notification.select().count() == 2


def test_another_month_is_a_new_notice(app, world, low_month):
    monitor(app, "--month", low_month)
    year, month = int(low_month[:4]), int(low_month[5:])
    later = f"{year + month // 12}-{month % 12 + 1:02d}"
    assert "0 object(s) below" in monitor(app, "--month", later)
    assert Notification.select().count() == 2


def test_without_a_month_it_checks_the_last_whole_one(app, world, monkeypatch):
    monkeypatch.setattr(notifications, "today", lambda: datetime.date(2027, 1, 3))
    assert monitor(app).startswith("2026-12: ")
    assert monitoring.previous_month(datetime.date(2026, 3, 31)) == "2026-02"


@pytest.mark.parametrize("month", ["2026-13", "2026-Q3", "october", "1999-10"])
def test_a_bad_month_is_refused_and_changes_nothing(app, world, low_month, month):
    result = app.test_cli_runner().invoke(args=["monitor", "--month", month])
    assert result.exit_code == 2 and "--month" in result.output
    assert Notification.select().count() == 0


def test_held_ratings_do_not_make_a_month_low(app, world):
    app.config["HOLD"] = {"rotation_hour": 2}
    for n in range(10):
        rate(app, world.school, 5, 5, 5, 5)
    # Thirty ones from one address, a new device token each: held.
    client = app.test_client()
    for n in range(30):
        payload = factories.rating_payload(world.school.id, 1, 1, 1, 1, device_token=f"device-{n}")
        assert client.post("/api/v1/ratings", json=payload,
                           environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 201
    assert Rating.select().where(Rating.status == Rating.HELD).count() >= 28
    monitor(app, "--month", this_month(), "--no-digests")
    assert Notification.select().count() == 0


def test_overdue_planned_items_are_marked_once(app, world, monkeypatch):
    day = [datetime.date(2026, 11, 22)]
    monkeypatch.setattr(notifications, "today", lambda: day[0])
    note = notifications.send(world.school, Notification.LOW_SCORE, "Низкие оценки", period="2026-10")
    notifications.move(note, Notification.PLANNED, datetime.date(2026, 12, 10))
    day[0] = datetime.date(2026, 12, 10)
    assert "0 planned item(s) newly overdue" in monitor(app, "--month", "2026-11", "--no-digests")
    day[0] = datetime.date(2026, 12, 11)
    assert "1 planned item(s) newly overdue" in monitor(app, "--month", "2026-11", "--no-digests")
    assert "0 planned item(s) newly overdue" in monitor(app, "--month", "2026-11", "--no-digests")
    note = Notification.get_by_id(note.id)
    assert note.overdue_since == datetime.date(2026, 12, 11)
    [entry] = AuditEntry.select().where(AuditEntry.action == "notification.overdue")
    assert entry.target_id == note.id and entry.user_id is None and entry.after == {"overdue_since": "2026-12-11"}
    # Done late stays on record.
    notifications.move(note, Notification.DONE, report="Сделано")
    assert Notification.get_by_id(note.id).overdue_since == datetime.date(2026, 12, 11)


def test_the_staff_hear_of_the_notice_by_mail(app, world, low_month, smtp_server):
    factories.user(User.STAFF, world.clinic, email="staff@clinic.by", name="Ирина")
    output = monitor(app, "--month", low_month)
    assert "digest(s) written to the outbox" in output and "mail: " in output
    arrived = {m.rcpt_tos[0]: m for m in smtp_server.arrived}
    assert "staff@clinic.by" in arrived
    assert "Ирина" in arrived["staff@clinic.by"].text


def test_mail_waits_while_the_server_is_down_and_goes_later(app, world, low_month, smtp_server):
    factories.user(User.STAFF, world.clinic, email="staff@clinic.by")
    smtp_server.stop()
    output = monitor(app, "--month", low_month)
    assert "mail stopped" in output or "to retry" in output
    assert smtp_server.arrived == []
    smtp_server.start()
    result = app.test_cli_runner().invoke(args=["send-mail", "--retry-now"])
    assert result.exit_code == 0, result.output
    assert "staff@clinic.by" in [m.rcpt_tos[0] for m in smtp_server.arrived]


def test_the_notice_in_the_cabinet_names_the_object_and_its_figures(app, world, low_month):
    staff = factories.user(User.STAFF, world.clinic)
    monitor(app, "--month", low_month, "--no-digests")
    client = app.test_client()
    body = client.get("/api/v1/cabinet/notifications", headers=factories.bearer(factories.token(staff))).get_json()
    women = next(n for n in body["items"] if n["object"]["id"] == world.clinic_women.id)
    assert women["object"]["name"] == "Женская консультация" and women["period"] == low_month
    assert women["figures"]["n"] == 5 and women["overdue_since"] is None
    factories.sign_in(client, staff)
    page = client.get(f"/cabinet/notifications/{women['id']}?lang=en").get_data(as_text=True)
    assert "Object rated" in page and "Женская консультация" in page and "2.00" in page
    link = re.search(r'<a href="(/cabinet/ratings\?[^"]+)">The month&#39;s ratings and comments</a>', page)
    assert link, "a link to the ratings behind the notice"
    query = link.group(1).replace("&amp;", "&")
    assert f"object={world.clinic_women.id}" in query and f"period={low_month}" in query


def test_the_upgrade_keeps_notifications_sent_before(app, world, runner, database_url):
    """A database before version 22 gets the object, figures and overdue
    columns and the one-per-month index; its notifications stay."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations
    from service.db import SchemaVersion
    note = notifications.send(world.clinic, Notification.LOW_SCORE, "Низкие оценки", period="2026-10")
    migrator = SchemaMigrator.from_database(database)
    # SQLite's own DROP COLUMN refuses a column in a foreign key; peewee's
    # older way copies the table instead.
    legacy = {"legacy": True} if database_url.startswith("sqlite") else {}
    apply_operations(migrator.drop_index("notification", "notification_object_id_period"),
                     *[migrator.drop_column("notification", c, **legacy)
                       for c in ("object_id", "figures", "overdue_since")])
    SchemaVersion.delete().where(SchemaVersion.version >= 22).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "schema version 22: monitoring" in result.output, result.output
    assert {"object_id", "figures", "overdue_since"} <= {c.name for c in database.get_columns("notification")}
    assert "notification_object_id_period" in {i.name for i in database.get_indexes("notification")}
    kept = Notification.get_by_id(note.id)
    assert (kept.text, kept.period, kept.object_id) == ("Низкие оценки", "2026-10", None)
