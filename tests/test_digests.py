"""Daily digests: what each role is told, in the user's language, one
digest per user and day however often (or however concurrently) the job
runs, each covering the time since the previous one; delivered through a
real SMTP server in the test process."""
import datetime
import threading

import pytest

from service import digests
from service.db import database
from service.models import MailDigest, Notification, OutboxMessage, Rating, User, utcnow
from tests import factories
from tests.smtp import inbox_app_config, smtp_server  # noqa: F401 - fixtures


@pytest.fixture
def app_config(inbox_app_config):
    return inbox_app_config


@pytest.fixture
def people(world):
    return {
        "staff": factories.user(User.STAFF, world.school, email="staff@school.by", name="Анна"),
        "moderator": factories.user(User.MODERATOR, email="moderator@example.by", language="en"),
        "body": factories.user(User.BODY, world.body, email="body@brest.by", language="be"),
        "operator": factories.user(User.OPERATOR, email="operator@example.by", language="tt"),
    }


def rate(app, object_id, *scores, comment=None):
    extra = {"comment": comment} if comment else {}
    assert factories.rate(app.test_client(), object_id, *scores, **extra).status_code == 201


def letters():
    return {m.recipient: m for m in OutboxMessage.select().where(OutboxMessage.kind == "digest")}


def soon(**later):
    return utcnow() + datetime.timedelta(minutes=1, **later)


def test_staff_hear_of_new_ratings_and_comments_to_answer(app, world, people):
    rate(app, world.school.id, 5, 5, 4, 4)
    rate(app, world.school.id, 3, 3, 3, 3, comment="Долго ждали в очереди, но приняли вежливо")
    rate(app, world.clinic.id, 1, 1, 1, 1, comment="Чужая организация")
    assert digests.send_digests(now=soon()) >= 1
    letter = letters()["staff@school.by"]
    assert letter.subject.startswith("Оценка качества услуг: сводка за ")
    text = letter.body
    assert text.startswith("Здравствуйте, Анна!\n")
    assert world.school.name in text
    assert "• Новые оценки: 2, средний балл 3,8." in text
    assert "• Новые отзывы без ответа: 1; всего ждут ответа: 1." in text
    assert "— «Долго ждали в очереди, но приняли вежливо» (" in text
    assert "Чужая организация" not in text
    assert "Оценки и отзывы: https://ocenka.test/cabinet/ratings?lang=ru" in text


def test_the_moderator_hears_of_comments_held_ratings_and_open_notifications(app, world, people):
    rate(app, world.school.id, 2, 2, 2, 2, comment="Отзыв на модерацию")
    held = Rating.get()
    Rating.update(status=Rating.HELD).where(Rating.id == held.id).execute()
    Notification.create(organization=world.zags.id, kind=Notification.LOW_SCORE, text="Низкие оценки")
    digests.send_digests(now=soon())
    text = letters()["moderator@example.by"].body
    assert text.startswith("Hello,\n")
    assert "• Comments waiting for moderation: 1, of them new: 1." in text
    assert "• Held ratings waiting for a decision: 1, of them new: 1." in text
    assert "• Open notifications: 1, of them new: 1." in text
    assert letters()["moderator@example.by"].subject.startswith("Service quality ratings: digest for ")


def test_overdue_items_are_news_the_day_they_become_overdue(app, world, people):
    today = utcnow()
    Notification.create(organization=world.school.id, kind=Notification.RECOMMENDATION, sender=world.body.id,
                        text="Разместить информацию на стенде", status=Notification.PLANNED,
                        control_date=(today + datetime.timedelta(days=1)).date(),
                        created=today + datetime.timedelta(minutes=1))
    # The first digest: nothing is overdue yet, and a planned item is not news.
    assert digests.send_digests(now=today) == 0
    MailDigest.create(user=people["staff"].id, day=(today - datetime.timedelta(days=1)).date(),
                      covered_until=today)
    MailDigest.create(user=people["body"].id, day=(today - datetime.timedelta(days=1)).date(),
                      covered_until=today)
    two_days_later = today + datetime.timedelta(days=2)
    assert digests.send_digests(now=two_days_later) >= 2
    staff = letters()["staff@school.by"].body
    assert "• Просрочены (контрольная дата прошла): 1, из них со времени прошлой сводки: 1." in staff
    body = letters()["body@brest.by"].body
    assert "• Вашы рэкамендацыі, пратэрмінаваныя арганізацыямі рэестра: 1, з іх з часу мінулай зводкі: 1." in body
    # Still overdue the day after, but no longer news: no digest for it alone.
    OutboxMessage.delete().execute()
    assert digests.send_digests(now=two_days_later + datetime.timedelta(days=1)) == 0


def test_the_operator_hears_of_registries_to_decide(app, world, people):
    from service.models import Registry
    Registry.create(body=world.body.id, name="Реестр", state=Registry.SUBMITTED)
    digests.send_digests(now=soon())
    letter = letters()["operator@example.by"]
    assert "Карар көтүче реестрлар: 1, шуларның яңалары: 1." in letter.body
    assert letter.language == "tt"


def local_noon():
    """Today's noon in the service's time zone, as stored (naive UTC), so
    that moments a few hours around it fall on the same local day."""
    from zoneinfo import ZoneInfo
    zone = ZoneInfo("Europe/Minsk")
    noon = datetime.datetime.now(zone).replace(hour=12, minute=0, second=0, microsecond=0)
    return noon.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def test_one_digest_a_day_each_covering_what_came_since_the_last(app, world, people):
    noon = local_noon()
    hour = datetime.timedelta(hours=1)
    rate(app, world.school.id, 5, 5, 5, 5)
    Rating.update(created=noon - hour).execute()
    assert digests.send_digests(now=noon) == 1
    assert digests.send_digests(now=noon + hour) == 0, "one a day"
    rate(app, world.school.id, 4, 4, 4, 4)
    Rating.update(created=noon + hour).where(Rating.created != noon - hour).execute()
    assert digests.send_digests(now=noon + 2 * hour) == 0, "the same day, however much is new"
    assert OutboxMessage.select().count() == 1

    next_day = noon + datetime.timedelta(days=1)
    assert digests.send_digests(now=next_day) == 1
    second = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert "• Новые оценки: 1, средний балл 4,0." in second.body, "only what came after the first digest"
    assert digests.send_digests(now=next_day + datetime.timedelta(days=1)) == 0, "nothing new: no letter"
    rows = list(MailDigest.select().order_by(MailDigest.day))
    assert [r.covered_until for r in rows] == [noon, next_day]


def test_the_database_lets_one_digest_per_user_and_day(app, world, people):
    from peewee import IntegrityError
    day = datetime.date(2026, 12, 4)
    MailDigest.create(user=people["staff"].id, day=day, covered_until=utcnow())
    with pytest.raises(IntegrityError):
        with database.atomic():
            MailDigest.create(user=people["staff"].id, day=day, covered_until=utcnow())


@pytest.mark.parametrize("lang, subject, line", [
    ("ru", "Оценка качества услуг: сводка за", "• Новые оценки: 1, средний балл 5,0."),
    ("be", "Ацэнка якасці паслуг: зводка за", "• Новыя ацэнкі: 1, сярэдні бал 5,0."),
    ("en", "Service quality ratings: digest for", "• New ratings: 1, mean score 5.0."),
    ("tt", "Хезмәтләр сыйфатын бәяләү:", "• Яңа бәяләр: 1, уртача балл 5,0."),
])
def test_a_digest_arrives_in_the_users_language(app, world, smtp_server, lang, subject, line):
    factories.user(User.STAFF, world.school, email="staff@school.by", language=lang)
    rate(app, world.school.id, 5, 5, 5, 5)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0 and "1 digest(s) written to the outbox" in result.output
    assert runner.invoke(args=["send-digests"]).output.startswith("0 digest(s)")
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    [arrived] = smtp_server.arrived
    assert arrived.rcpt_tos == ["staff@school.by"] and arrived.subject.startswith(subject)
    assert line in arrived.text and arrived.message["Content-Language"] == lang


def test_concurrent_runs_write_one_digest_per_user(app, world, people):
    for n in range(3):
        factories.user(User.STAFF, world.school, email=f"colleague{n}@school.by")
    rate(app, world.school.id, 5, 5, 5, 5, comment="Спасибо")
    now = soon()
    counts, failures = [], []

    def run():
        try:
            with app.app_context(), database.connection_context():
                counts.append(digests.send_digests(now=now))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    recipients = [m.recipient for m in OutboxMessage.select()]
    assert len(recipients) == len(set(recipients)) == sum(counts) == MailDigest.select().count()
    assert {"staff@school.by", "colleague0@school.by", "moderator@example.by"} <= set(recipients)


def test_users_without_a_password_or_deactivated_get_none(app, world, people):
    User.update(password_hash="").where(User.email == "staff@school.by").execute()
    factories.user(User.STAFF, world.school, email="gone@school.by", active=False)
    rate(app, world.school.id, 5, 5, 5, 5)
    digests.send_digests(now=soon())
    assert not {"staff@school.by", "gone@school.by"} & set(letters())


def test_a_staff_digest_reads_as_a_letter(app, world, people):
    """The whole text once, as the user reads it."""
    rate(app, world.school.id, 4, 4, 4, 4, comment="Всё хорошо")
    digests.send_digests(now=soon())
    text = letters()["staff@school.by"].body
    lines = text.splitlines()
    assert lines[0] == "Здравствуйте, Анна!" and lines[1] == ""
    assert lines[2].startswith("Что нового в кабинете портала «Оценка качества услуг» с ")
    assert lines[2].endswith(" (Europe/Minsk).")
    assert lines[3] == world.school.name
    assert lines[5:7] == ["• Новые оценки: 1, средний балл 4,0.", "• Новые отзывы без ответа: 1; всего ждут ответа: 1."]
    assert lines[8:10] == ["Новые отзывы:", f"— «Всё хорошо» ({world.school.name}, 4,0)"]
    assert lines[-3:] == ["Эта сводка приходит на staff@school.by не чаще раза в день, когда есть новое.", "",
                          "— Оценка качества услуг"]
