"""Sessions kept on the server, personal tokens, the permission rules and
the audit log's diff, on SQLite and PostgreSQL."""
import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from service import models, structure
from service.cabinet import audit, permissions, sessions
from service.models import AuditEntry, Registry, User, UserSession
from tests import factories


@pytest.fixture
def staff(world):
    return factories.user(User.STAFF, world.school, email="head@school.by")


def cookie_of(client):
    return client.get_cookie("session").value


def sign_out(client):
    page = client.get("/cabinet/?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/logout", data={"csrf": csrf})


# -- sessions ----------------------------------------------------------------------

def test_the_cabinet_sends_visitors_to_sign_in_and_back(client, staff):
    response = client.get("/cabinet/audit?lang=en")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/cabinet/audit?lang=en"]


def test_signing_in_lands_in_the_cabinet(client, staff):
    User.update(language="en").where(User.id == staff.id).execute()
    response = factories.sign_in(client, staff)
    assert response.status_code == 302 and response.headers["Location"] == "/cabinet/?lang=en"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Signed in as head@school.by, role: organization staff." in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_signing_out_ends_a_copied_session_too(app, client, staff):
    factories.sign_in(client, staff)
    copy = app.test_client()
    copy.set_cookie("session", cookie_of(client))
    assert copy.get("/cabinet/").status_code == 200
    assert sign_out(client).status_code == 302
    assert UserSession.select().count() == 0
    assert copy.get("/cabinet/").status_code == 302


def test_deactivation_and_a_password_change_end_every_session(app, staff):
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        factories.sign_in(browser, staff)
    assert UserSession.select().where(UserSession.user == staff.id).count() == 3
    with app.test_request_context():
        sessions.end_all(staff)
    assert all(b.get("/cabinet/").status_code == 302 for b in browsers)
    factories.sign_in(browsers[0], staff)
    User.update(active=False).where(User.id == staff.id).execute()
    assert browsers[0].get("/cabinet/").status_code == 302


def test_an_idle_session_expires(client, staff, monkeypatch):
    factories.sign_in(client, staff)
    assert client.get("/cabinet/").status_code == 200
    later = models.utcnow() + sessions.IDLE_LIMIT + datetime.timedelta(minutes=1)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    assert client.get("/cabinet/").status_code == 302


def test_use_keeps_a_session_alive_but_not_past_the_absolute_limit(client, staff, monkeypatch):
    factories.sign_in(client, staff)
    now = [models.utcnow()]
    monkeypatch.setattr(sessions, "utcnow", lambda: now[0])
    for _ in range(5):  # a request every 10 hours: never idle for 12
        now[0] += datetime.timedelta(hours=10)
        assert client.get("/cabinet/").status_code == 200
    now[0] += sessions.ABSOLUTE_LIMIT
    assert client.get("/cabinet/").status_code == 302


def test_cabinet_forms_need_the_csrf_token(client, staff):
    factories.sign_in(client, staff)
    response = client.post("/logout", data={})
    assert response.status_code == 400
    assert client.get("/cabinet/").status_code == 200


# -- personal tokens ---------------------------------------------------------------

def test_a_token_opens_the_cabinet_api_and_only_its_hash_is_kept(app, staff):
    client = app.test_client()
    text, row = sessions.make_token(staff, "1C integration")
    assert text.startswith(sessions.TOKEN_PREFIX) and text not in row.token_hash
    response = client.get("/api/v1/cabinet/me", headers=factories.bearer(text))
    assert response.status_code == 200
    assert response.get_json() == {"email": "head@school.by", "role": "staff", "organization": staff.organization_id,
                                   "name": "", "language": "ru"}


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer " + "x" * 500])
def test_the_cabinet_api_refuses_without_a_valid_token(client, staff, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/cabinet/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "_auth" in response.get_json()["errors"]


def test_the_cabinet_api_ignores_the_session_cookie(client, staff):
    """No cookies on the API, so a page of another site cannot ride on a
    signed-in browser (and the API needs no CSRF token)."""
    factories.sign_in(client, staff)
    assert client.get("/api/v1/cabinet/me").status_code == 401


def test_a_revoked_token_and_an_inactive_user_are_refused(client, staff):
    text, row = sessions.make_token(staff)
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(text)).status_code == 200
    sessions.revoke_token(row)
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(text)).status_code == 401
    text, _ = sessions.make_token(staff)
    User.update(active=False).where(User.id == staff.id).execute()
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(text)).status_code == 401


# -- permissions -------------------------------------------------------------------

def test_the_rules_cover_the_four_roles_and_nothing_else():
    for action, rule in permissions.RULES.items():
        assert set(rule) <= set(User.ROLES), action
        assert set(rule.values()) <= {permissions.ANY, permissions.OWN, permissions.REGISTRY}, action


def test_scopes_own_registry_and_any(world):
    staff = factories.user(User.STAFF, world.clinic)
    body = factories.user(User.BODY, world.body)
    moderator = factories.user(User.MODERATOR)
    read = permissions.READ_RATINGS
    assert permissions.allowed(staff, read, world.clinic_women)
    assert not permissions.allowed(staff, read, world.school)
    assert not permissions.allowed(body, read, world.clinic)
    registry = structure.create_registry(world.body, [world.clinic])
    for state in (Registry.APPROVED, Registry.SUBMITTED):
        structure.move_registry(registry, state)
    assert not permissions.allowed(body, read, world.clinic), "a submitted registry gives no access yet"
    structure.move_registry(registry, Registry.ACCEPTED)
    assert permissions.allowed(body, read, world.clinic_kids)
    assert not permissions.allowed(body, read, world.school)
    assert permissions.allowed(moderator, read, world.school)
    assert not permissions.allowed(moderator, permissions.EDIT_ORGANIZATION, world.school)
    ids = {row.object_id for row in permissions.readable_objects(body)}
    assert {world.clinic.id, world.clinic_women.id, world.clinic_kids.id, world.body.id} <= ids
    assert world.school.id not in ids
    assert permissions.readable_objects(moderator) is None


def test_staff_manage_only_staff_of_their_own_organization(world):
    staff = factories.user(User.STAFF, world.school)
    colleague = factories.user(User.STAFF, world.school)
    other = factories.user(User.STAFF, world.zags)
    operator = factories.user(User.OPERATOR)
    manage = permissions.MANAGE_USERS
    assert permissions.allowed(staff, manage, colleague)
    assert not permissions.allowed(staff, manage, other)
    assert not permissions.allowed(staff, manage, operator)
    assert not permissions.allowed(staff, manage, User(role=User.MODERATOR, organization=world.school.id))
    assert permissions.allowed(operator, manage, other)


# -- the audit log -----------------------------------------------------------------

def test_an_audit_entry_keeps_only_what_changed(world):
    operator = factories.user(User.OPERATOR, email="op@ocenka.by")
    before = audit.snapshot(world.school, ["name", "website", "region"])
    after = dict(before, website="https://school1.brest.by")
    entry = audit.record(operator, "organization.update", "organization", world.school.id, before, after)
    stored = AuditEntry.get_by_id(entry.id)
    assert stored.before == {"website": None} and stored.after == {"website": "https://school1.brest.by"}
    assert stored.user_email == "op@ocenka.by" and stored.target_id == world.school.id


def test_the_operator_reads_the_audit_log_newest_first(client, world):
    operator = factories.user(User.OPERATOR)
    for n in range(3):
        audit.record(operator, f"test.{n}", "organization", world.school.id, None, {"n": n})
    text = factories.token(operator)
    body = client.get("/api/v1/cabinet/audit?per_page=2", headers=factories.bearer(text)).get_json()
    assert [e["action"] for e in body["items"]] == ["test.2", "test.1"] and body["total"] == 3
    assert client.get("/api/v1/cabinet/audit?page=0", headers=factories.bearer(text)).status_code == 400
    factories.sign_in(client, operator)
    page = client.get("/cabinet/audit?lang=en").get_data(as_text=True)
    assert page.index("test.2") < page.index("test.0")
