"""Invitations and password resets are mailed to the user, in the user's
language, through the outbox and a real SMTP server in the test process;
the link in the letter works, and is still shown to whoever asked."""
import re
from urllib.parse import urlsplit

import pytest

from service.db import database
from service.models import AuditEntry, OutboxMessage, User
from tests import factories
from tests.smtp import inbox_app_config, smtp_server  # noqa: F401 - fixtures
from tests.test_cabinet_accounts import browser, invite_json, post_form, set_password, shown_link

SUBJECTS = {"ru": "Приглашение в кабинет: Оценка качества услуг",
            "be": "Запрашэнне ў кабінет: Ацэнка якасці паслуг",
            "en": "Your invitation to the cabinet: Service quality ratings",
            "tt": "Кабинетка чакыру: Хезмәтләр сыйфатын бәяләү"}
FIRST_LINES = {"ru": "Вас пригласили в кабинет портала «Оценка качества услуг». Ваша роль: сотрудник организации.",
               "be": "Вас запрасілі ў кабінет партала «Ацэнка якасці паслуг». Ваша роля: супрацоўнік арганізацыі.",
               "en": "You are invited to the cabinet of the portal \u201cService quality ratings\u201d as "
                     "organization staff.",
               "tt": "Сезне «Хезмәтләр сыйфатын бәяләү» порталының кабинетына чакырдылар. Сезнең роль: "
                     "оешма хезмәткәре."}


@pytest.fixture
def app_config(inbox_app_config):
    return inbox_app_config


@pytest.fixture
def operator(world):
    return factories.user(User.OPERATOR, email="operator@example.by")


def send_mail(app):
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    return result


def link_in(text):
    url = re.search(r"https://ocenka\.test/cabinet/\S+", text).group(0)
    parts = urlsplit(url)
    return url, f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("lang", ["ru", "be", "en", "tt"])
def test_an_invitation_is_mailed_in_the_users_language_and_its_link_works(app, world, operator, smtp_server, lang):
    admin = browser(app, operator)
    admin.get("/cabinet/users/invite?lang=en")
    page = post_form(admin, "/cabinet/users/invite?lang=en", email="new@school.by", role="staff",
                     organization=world.school.unp, name="Анна", language=lang).get_data(as_text=True)
    assert "A letter with this link is on its way to new@school.by." in page
    shown = shown_link(page)
    assert smtp_server.arrived == [], "nothing goes before send-mail"

    send_mail(app)
    [arrived] = smtp_server.arrived
    assert arrived.rcpt_tos == ["new@school.by"] and arrived.subject == SUBJECTS[lang]
    assert FIRST_LINES[lang] in arrived.text
    assert world.school.name in arrived.text and "operator@example.by" in arrived.text
    assert "(Europe/Minsk)" in arrived.text
    url, path = link_in(arrived.text)
    assert url == shown, "the operator sees the same link" and url.endswith(f"?lang={lang}")
    assert arrived.message["Content-Language"] == lang

    invitee = app.test_client()
    assert set_password(invitee, path).status_code == 303
    assert User.get(User.email == "new@school.by").has_password
    letter = OutboxMessage.get()
    assert letter.state == "sent" and letter.body == "" and letter.kind == "account.invitation"
    audit = AuditEntry.get(AuditEntry.action == "user.invite")
    assert audit.after["letter"] == letter.id


def test_a_reset_link_is_mailed_to_the_user_and_the_old_password_works_until_used(app, world, operator,
                                                                                  smtp_server):
    staff = factories.user(User.STAFF, world.school, email="staff@school.by", language="be", name="Пётр")
    answer = app.test_client().post(f"/api/v1/cabinet/users/{staff.id}/password-reset",
                                    headers=factories.bearer(factories.token(operator)))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["mailed_to"] == "staff@school.by" and body["mail_configured"] is True

    send_mail(app)
    [arrived] = smtp_server.arrived
    assert arrived.subject == "Новы пароль для кабінета: Ацэнка якасці паслуг"
    assert arrived.text.startswith("Добры дзень, Пётр!\n")
    assert "ранейшы пароль працягвае дзейнічаць" in arrived.text
    url, path = link_in(arrived.text)
    assert url == body["reset_url"]
    assert factories.sign_in(app.test_client(), staff).status_code == 302, "the old password still works"
    assert set_password(app.test_client(), path).status_code == 303
    assert factories.sign_in(app.test_client(), staff).status_code != 302, "the new one replaced it"


def test_the_letter_is_written_with_the_link_or_not_at_all(app, world, operator, smtp_server):
    """An invitation refused (the e-mail has an account) leaves no letter."""
    token = factories.token(operator)
    assert invite_json(app.test_client(), token, organization=world.school.unp).status_code == 201
    assert invite_json(app.test_client(), token, organization=world.school.unp).status_code == 409
    assert OutboxMessage.select().count() == 1


def test_without_mail_the_page_says_to_pass_the_link_on_and_the_letter_waits(app, world, operator, smtp_server):
    app.config["SMTP_URL"] = None
    admin = browser(app, operator)
    admin.get("/cabinet/users/invite?lang=en")
    page = post_form(admin, "/cabinet/users/invite?lang=en", email="new@school.by", role="staff",
                     organization=world.school.unp, language="ru").get_data(as_text=True)
    assert "Pass it on to new@school.by." in page
    body = invite_json(app.test_client(), factories.token(operator), email="other@school.by",
                       organization=world.school.unp).get_json()
    assert body["mail_configured"] is False
    with database.connection_context():
        assert [m.state for m in OutboxMessage.select()] == ["waiting", "waiting"]
    app.config["SMTP_URL"] = smtp_server.url()
    send_mail(app)
    assert sorted(a.rcpt_tos[0] for a in smtp_server.arrived) == ["new@school.by", "other@school.by"]
