"""Users and accounts: invitations and password resets (single-use links
that expire), deactivation, one's own password, language and tokens, on
pages and in the JSON API, on SQLite and PostgreSQL."""
import datetime
import json
import re
from urllib.parse import urlsplit

import pytest
from werkzeug.security import check_password_hash

from service import accounts, models
from service.cabinet import sessions
from service.models import AccountLink, ApiToken, AuditEntry, User, UserSession
from tests import factories

NEW_PASSWORD = "a long new passphrase"


@pytest.fixture
def operator(world):
    return factories.user(User.OPERATOR, email="operator@example.by")


@pytest.fixture
def head(world):
    """The staff member of the school who manages its colleagues."""
    return factories.user(User.STAFF, world.school, email="head@school.by")


def browser(app, account=None):
    client = app.test_client()
    if account is not None:
        assert factories.sign_in(client, account).status_code == 302
    return client


def post_form(client, path, **fields):
    return client.post(path, data=dict(fields, csrf=factories.csrf_token(client)))


def signed_in_email(client):
    """Whose cabinet the client sees, or None when it is sent to sign in."""
    response = client.get("/cabinet/?lang=en")
    if response.status_code != 200:
        return None
    return re.search(r"Signed in as ([^,<]+), role", response.get_data(as_text=True)).group(1)


def link_path(url):
    """The path (with ?lang=) of a link the service handed out."""
    assert url.startswith("https://ocenka.test/cabinet/"), url
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def shown_link(page):
    return re.search(r'id="link-url" value="([^"]+)"', page).group(1)


def set_password(client, path, password=NEW_PASSWORD, again=None):
    client.get(path)  # as a browser would: the form first (and its CSRF token)
    return post_form(client, path, password=password, password_again=password if again is None else again)


def invite_json(client, token, **fields):
    body = {"email": "new@school.by", "role": "staff"}
    body.update(fields)
    return client.post("/api/v1/cabinet/users", json=body, headers=factories.bearer(token))


def audit_text():
    return json.dumps([(e.action, e.before, e.after) for e in AuditEntry.select()], ensure_ascii=False)


# -- invitations --------------------------------------------------------------------------

def test_an_invitation_from_the_page_to_a_signed_in_user_once(app, world, operator):
    admin = browser(app, operator)
    assert "Invite a user" in admin.get("/cabinet/users/invite?lang=en").get_data(as_text=True)
    response = post_form(admin, "/cabinet/users/invite?lang=en", email=" New.Head@School.BY ", role="staff",
                         organization=world.school.unp, name="Завуч", language="be")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Copy the link now" in page
    url = shown_link(page)
    assert url.endswith("?lang=be") and "/cabinet/invitations/" in url
    invited = User.get(User.email == "new.head@school.by")
    assert (invited.role, invited.organization_id, invited.name, invited.language) == ("staff", world.school.id,
                                                                                        "Завуч", "be")
    assert invited.password_hash == "" and invited.active
    token = urlsplit(url).path.rsplit("/", 1)[1]
    link = AccountLink.get(AccountLink.user == invited.id)
    assert link.kind == "invitation" and link.token_hash == sessions.token_hash(token) and token not in audit_text()
    assert datetime.timedelta(days=6, hours=23) < link.expires - models.utcnow() <= datetime.timedelta(days=7)
    # Before accepting, no password signs in.
    assert factories.sign_in(app.test_client(), invited, "").status_code == 400

    newcomer = app.test_client()
    form = newcomer.get(link_path(url))
    assert form.status_code == 200 and "new.head@school.by" in form.get_data(as_text=True)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    refused = set_password(newcomer, link_path(url), "short")
    assert refused.status_code == 400 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    refused = set_password(newcomer, link_path(url), NEW_PASSWORD, again=NEW_PASSWORD + "!")
    assert refused.status_code == 400
    assert User.get_by_id(invited.id).password_hash == ""
    accepted = set_password(newcomer, link_path(url))
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/cabinet/?lang=be"
    assert signed_in_email(newcomer) == "new.head@school.by"
    assert check_password_hash(User.get_by_id(invited.id).password_hash, NEW_PASSWORD)
    assert AccountLink.get_by_id(link.id).used is not None

    # Used up: a second visit, even with the form, changes nothing.
    again = app.test_client()
    gone = again.get(link_path(url).replace("lang=be", "lang=en"))
    assert gone.status_code == 404 and "This link no longer works" in gone.get_data(as_text=True)
    before = User.get_by_id(invited.id).password_hash
    assert set_password(again, link_path(url), "another long password").status_code == 404
    assert User.get_by_id(invited.id).password_hash == before and signed_in_email(again) is None
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["user.invite", "user.password_set"]
    assert "pbkdf2" not in audit_text() and "scrypt" not in audit_text()


def test_an_invitation_through_the_api(app, client, world, operator):
    token = factories.token(operator)
    response = invite_json(client, token, email="Body@Brest.by", role="body", organization=world.body.id,
                           name="Инспектор", language="en")
    assert response.status_code == 201
    body = response.get_json()
    invited = User.get_by_id(body["id"])
    assert (invited.email, invited.role, invited.organization_id) == ("body@brest.by", "body", world.body.id)
    assert body["invitation_url"].startswith("https://ocenka.test/cabinet/invitations/")
    assert body["invitation_url"].endswith("?lang=en")
    expires = datetime.datetime.fromisoformat(body["expires"].rstrip("Z"))
    assert abs(expires - (models.utcnow() + accounts.INVITATION_LIFETIME)) < datetime.timedelta(minutes=1)
    # The same e-mail again, however written: a conflict, nothing new.
    again = invite_json(client, token, email=" BODY@brest.by", role="moderator")
    assert again.status_code == 409 and "email" in again.get_json()["errors"]
    assert User.select().where(User.email == "body@brest.by").count() == 1
    assert AccountLink.select().count() == 1
    # Operators and moderators belong to no organization.
    assert invite_json(client, token, email="mod@ocenka.by", role="moderator").status_code == 201
    assert User.get(User.email == "mod@ocenka.by").organization_id is None


@pytest.mark.parametrize("fields, bad", [
    ({"email": "not an address"}, "email"),
    ({"email": ""}, "email"),
    ({"role": "king"}, "role"),
    ({"role": None}, "role"),
    ({"organization": None}, "organization"),  # staff need one (the operator has none to lend)
    ({"organization": "000000000"}, "organization"),
    ({"organization": 2**70}, "organization"),
    ({"organization": True}, "organization"),
    ({"organization": "subdivision"}, "organization"),
    ({"role": "moderator", "organization": "school"}, "organization"),
    ({"role": "body", "organization": "school"}, "organization"),
    ({"language": "fr"}, "language"),
    ({"name": "x" * 201}, "name"),
    ({"favourite": "colour"}, "favourite"),
])
def test_bad_invitations_are_refused_with_field_errors_and_nothing_stored(client, world, operator, fields, bad):
    named = {"school": world.school.id, "subdivision": world.clinic_women.id}
    fields = {k: named.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    fields.setdefault("organization", world.school.unp)
    response = invite_json(client, factories.token(operator), **fields)
    assert response.status_code == 400, response.get_json()
    assert bad in response.get_json()["errors"]
    assert User.select().count() == 1 and AccountLink.select().count() == 0 and AuditEntry.select().count() == 0


def test_a_refused_invitation_form_shows_the_errors_next_to_the_fields(app, world, operator):
    admin = browser(app, operator)
    response = post_form(admin, "/cabinet/users/invite?lang=ru", email="nobody", role="staff", organization="")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and 'id="e-email"' in page and 'value="nobody"' in page
    assert "Это не адрес электронной почты." in page
    assert User.select().count() == 1
    response = post_form(admin, "/cabinet/users/invite?lang=en", email="x@y.by", role="staff", organization="")
    assert response.status_code == 400 and 'id="e-organization"' in response.get_data(as_text=True)
    factories.user(User.STAFF, world.zags, email="taken@zags.by")
    response = post_form(admin, "/cabinet/users/invite?lang=en", email="taken@zags.by", role="staff",
                         organization=str(world.zags.id))
    assert response.status_code == 409 and "exists already" in response.get_data(as_text=True)
    assert AccountLink.select().count() == 0


def test_staff_invite_colleagues_into_their_own_organization_only(app, client, world, head):
    token = factories.token(head)
    response = invite_json(client, token, email="teacher@school.by", role="staff")
    assert response.status_code == 201
    assert User.get(User.email == "teacher@school.by").organization_id == world.school.id
    assert invite_json(client, token, email="m@x.by", role="moderator").status_code == 403
    assert invite_json(client, token, email="o@x.by", role="operator").status_code == 403
    assert invite_json(client, token, email="c@x.by", role="staff", organization=world.clinic.unp).status_code == 403
    assert invite_json(client, token, email="b@x.by", role="body", organization=world.body.id).status_code == 403
    assert User.select().count() == 2 and AccountLink.select().count() == 1
    pages = browser(app, head)
    page = pages.get("/cabinet/users/invite?lang=en").get_data(as_text=True)
    assert 'value="moderator"' not in page and 'name="organization"' not in page
    # A form forged to ask for more is refused just the same.
    assert post_form(pages, "/cabinet/users/invite", email="m@x.by", role="moderator").status_code == 403
    assert post_form(pages, "/cabinet/users/invite", email="c@x.by", role="staff",
                     organization=world.clinic.unp).status_code == 403
    assert post_form(pages, "/cabinet/users/invite?lang=en", email="librarian@school.by",
                     role="staff").status_code == 200
    assert User.get(User.email == "librarian@school.by").organization_id == world.school.id
    assert User.select().count() == 3


def test_moderators_and_bodies_manage_no_users(app, client, world):
    for account in (factories.user(User.MODERATOR), factories.user(User.BODY, world.body)):
        token = factories.token(account)
        assert client.get("/api/v1/cabinet/users", headers=factories.bearer(token)).status_code == 403
        assert invite_json(client, token, email=f"x-{account.role}@x.by").status_code == 403
        assert browser(app, account).get("/cabinet/users").status_code == 403
    assert client.get("/api/v1/cabinet/users").status_code == 401


# -- expiry -------------------------------------------------------------------------------------

def later(monkeypatch, delta):
    moment = models.utcnow() + delta
    monkeypatch.setattr(models, "utcnow", lambda: moment)


def test_an_invitation_expires_after_seven_days(app, client, world, operator, monkeypatch):
    url = invite_json(client, factories.token(operator), organization=world.school.unp).get_json()["invitation_url"]
    later(monkeypatch, accounts.INVITATION_LIFETIME - datetime.timedelta(minutes=1))
    assert app.test_client().get(link_path(url)).status_code == 200
    later(monkeypatch, accounts.INVITATION_LIFETIME + datetime.timedelta(minutes=1))
    newcomer = app.test_client()
    assert newcomer.get(link_path(url)).status_code == 404
    assert set_password(newcomer, link_path(url)).status_code == 404
    assert User.get(User.email == "new@school.by").password_hash == ""
    assert AccountLink.get().used is None


def test_a_reset_link_expires_after_a_day(app, client, world, head, operator, monkeypatch):
    body = client.post(f"/api/v1/cabinet/users/{head.id}/password-reset",
                       headers=factories.bearer(factories.token(operator))).get_json()
    expires = datetime.datetime.fromisoformat(body["expires"].rstrip("Z"))
    assert abs(expires - (models.utcnow() + accounts.RESET_LIFETIME)) < datetime.timedelta(minutes=1)
    later(monkeypatch, accounts.RESET_LIFETIME + datetime.timedelta(seconds=1))
    assert set_password(app.test_client(), link_path(body["reset_url"])).status_code == 404
    assert check_password_hash(User.get_by_id(head.id).password_hash, factories.PASSWORD)


def test_a_link_only_opens_its_own_kind_of_page(app, client, world, operator):
    url = invite_json(client, factories.token(operator), organization=world.school.unp).get_json()["invitation_url"]
    assert app.test_client().get(link_path(url).replace("/invitations/", "/password-reset/")).status_code == 404
    for nonsense in ("x", "a" * 43, "a" * 500):
        assert app.test_client().get(f"/cabinet/invitations/{nonsense}").status_code == 404


# -- password resets ----------------------------------------------------------------------------

def test_a_reset_ends_every_other_session_and_only_the_newest_link_works(app, client, world, head, operator):
    own = browser(app, head)
    copy = app.test_client()
    copy.set_cookie("session", own.get_cookie("session").value)
    assert signed_in_email(copy) == "head@school.by"
    admin = browser(app, operator)
    first = shown_link(post_form(admin, f"/cabinet/users/{head.id}/password-reset?lang=en").get_data(as_text=True))
    response = post_form(admin, f"/cabinet/users/{head.id}/password-reset?lang=en")
    assert response.status_code == 200 and "Copy the link now" in response.get_data(as_text=True)
    second = shown_link(response.get_data(as_text=True))
    assert "/cabinet/password-reset/" in second and first != second
    assert signed_in_email(own) == "head@school.by"  # issuing a link changes nothing yet
    in_force = admin.get(f"/cabinet/users/{head.id}?lang=en").get_data(as_text=True)
    assert in_force.count("password reset: works until") == 1  # the first link was replaced

    assert set_password(app.test_client(), link_path(first)).status_code == 404
    phone = app.test_client()
    assert set_password(phone, link_path(second)).status_code == 303
    assert signed_in_email(phone) == "head@school.by"
    assert signed_in_email(own) is None and signed_in_email(copy) is None
    assert UserSession.select().where(UserSession.user == head.id).count() == 1
    assert "No link is in force." in admin.get(f"/cabinet/users/{head.id}?lang=en").get_data(as_text=True)
    assert factories.sign_in(app.test_client(), head).status_code == 400
    assert factories.sign_in(app.test_client(), head, NEW_PASSWORD).status_code == 302
    reset = AuditEntry.get(AuditEntry.action == "user.password_reset_link")
    assert reset.user_email == "operator@example.by" and reset.target_id == head.id


def test_staff_reset_and_deactivate_colleagues_but_not_other_organizations(app, client, world, head):
    colleague = factories.user(User.STAFF, world.school)
    stranger = factories.user(User.STAFF, world.clinic)
    body_user = factories.user(User.BODY, world.body)
    token = factories.token(head)
    for target in (stranger, body_user):
        for action in ("password-reset", "deactivate"):
            response = client.post(f"/api/v1/cabinet/users/{target.id}/{action}", headers=factories.bearer(token))
            assert response.status_code == 403
        assert client.get(f"/api/v1/cabinet/users/{target.id}", headers=factories.bearer(token)).status_code == 403
    pages = browser(app, head)
    assert pages.get(f"/cabinet/users/{stranger.id}").status_code == 403
    assert post_form(pages, f"/cabinet/users/{stranger.id}/deactivate").status_code == 403
    assert User.get_by_id(stranger.id).active and AccountLink.select().count() == 0
    assert client.post(f"/api/v1/cabinet/users/{colleague.id}/password-reset",
                       headers=factories.bearer(token)).status_code == 200
    assert client.get("/api/v1/cabinet/users/999999", headers=factories.bearer(token)).status_code == 404
    assert client.get(f"/api/v1/cabinet/users/{2**64}", headers=factories.bearer(token)).status_code == 404


# -- deactivation -------------------------------------------------------------------------------

def test_deactivation_signs_out_everywhere_and_stops_tokens_and_links(app, client, world, head, operator):
    phone, laptop = browser(app, head), browser(app, head)
    token = factories.token(head)
    pending = client.post(f"/api/v1/cabinet/users/{head.id}/password-reset",
                          headers=factories.bearer(factories.token(operator))).get_json()["reset_url"]
    admin = browser(app, operator)
    response = post_form(admin, f"/cabinet/users/{head.id}/deactivate?lang=en")
    assert response.status_code == 303
    assert "deactivated" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert not User.get_by_id(head.id).active
    assert signed_in_email(phone) is None and signed_in_email(laptop) is None
    assert UserSession.select().where(UserSession.user == head.id).count() == 0
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(token)).status_code == 401
    assert app.test_client().get(link_path(pending)).status_code == 404
    assert factories.sign_in(app.test_client(), head).status_code == 400
    # No reset for a deactivated user, no second deactivation.
    assert post_form(admin, f"/cabinet/users/{head.id}/password-reset").status_code == 409
    assert post_form(admin, f"/cabinet/users/{head.id}/deactivate").status_code == 409
    entry = AuditEntry.get(AuditEntry.action == "user.deactivate")
    assert entry.before == {"active": True} and entry.after == {"active": False}

    operator_token = factories.token(operator)
    back = client.post(f"/api/v1/cabinet/users/{head.id}/activate", headers=factories.bearer(operator_token))
    assert back.status_code == 200 and back.get_json()["active"] is True
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(token)).status_code == 200
    assert client.post(f"/api/v1/cabinet/users/{head.id}/activate",
                       headers=factories.bearer(operator_token)).status_code == 409


def test_nobody_deactivates_themself(app, client, world, operator, head):
    response = client.post(f"/api/v1/cabinet/users/{operator.id}/deactivate",
                           headers=factories.bearer(factories.token(operator)))
    assert response.status_code == 409
    page = post_form(browser(app, head), f"/cabinet/users/{head.id}/deactivate?lang=en")
    assert page.status_code == 409 and "cannot deactivate yourself" in page.get_data(as_text=True)
    assert User.get_by_id(operator.id).active and User.get_by_id(head.id).active
    assert AuditEntry.select().count() == 0


# -- the user list ------------------------------------------------------------------------------

def test_the_user_list_by_scope_role_search_and_page(app, client, world, operator, head):
    factories.user(User.STAFF, world.school, email="teacher@school.by")
    factories.user(User.STAFF, world.clinic, email="doctor@clinic.by")
    factories.user(User.BODY, world.body, email="inspector@brest.by")
    factories.user(User.MODERATOR, email="moderator@ocenka.by")

    def emails(token, query=""):
        response = client.get(f"/api/v1/cabinet/users{query}", headers=factories.bearer(token))
        assert response.status_code == 200
        return [item["email"] for item in response.get_json()["items"]]

    everyone = factories.token(operator)
    assert emails(everyone) == sorted(["operator@example.by", "head@school.by", "teacher@school.by",
                                       "doctor@clinic.by", "inspector@brest.by", "moderator@ocenka.by"])
    assert emails(everyone, "?role=staff&q=SCHOOL") == ["head@school.by", "teacher@school.by"]
    assert emails(everyone, "?q=%25") == [] and emails(everyone, "?q=_") == []  # wildcards taken literally
    response = client.get("/api/v1/cabinet/users?per_page=2&page=2", headers=factories.bearer(everyone)).get_json()
    assert response["total"] == 6 and len(response["items"]) == 2
    assert set(response["items"][0]) >= {"id", "email", "role", "organization", "active", "has_password"}
    assert client.get("/api/v1/cabinet/users?role=king",
                      headers=factories.bearer(everyone)).status_code == 400
    assert emails(factories.token(head)) == ["head@school.by", "teacher@school.by"]
    # The staff of an authorized body manage its staff, not the body's inspectors.
    clerk = factories.user(User.STAFF, world.body, email="clerk@brest.by")
    assert emails(factories.token(clerk)) == ["clerk@brest.by"]

    page = browser(app, head).get("/cabinet/users?lang=en").get_data(as_text=True)
    assert "teacher@school.by" in page and "doctor@clinic.by" not in page and "Users: 2" in page
    page = browser(app, operator).get("/cabinet/users?lang=en&role=body&per_page=1").get_data(as_text=True)
    assert "inspector@brest.by" in page and "Users: 1" in page and 'aria-current="page"' in page


# -- one's own account --------------------------------------------------------------------------

def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(app, world, head):
    here, elsewhere = browser(app, head), browser(app, head)
    wrong = post_form(here, "/cabinet/account/password?lang=en", current_password="guess guess guess",
                      password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert wrong.status_code == 400 and 'id="e-current_password"' in wrong.get_data(as_text=True)
    short = post_form(here, "/cabinet/account/password?lang=en", current_password=factories.PASSWORD,
                      password="123456789", password_again="123456789")
    assert short.status_code == 400 and 'id="e-password"' in short.get_data(as_text=True)
    assert signed_in_email(elsewhere) == "head@school.by"
    assert check_password_hash(User.get_by_id(head.id).password_hash, factories.PASSWORD)

    response = post_form(here, "/cabinet/account/password?lang=en", current_password=factories.PASSWORD,
                         password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert response.status_code == 303
    assert "Password changed" in here.get(response.headers["Location"]).get_data(as_text=True)
    assert signed_in_email(here) == "head@school.by" and signed_in_email(elsewhere) is None
    assert factories.sign_in(app.test_client(), head, NEW_PASSWORD).status_code == 302
    assert [e.action for e in AuditEntry.select()] == ["account.password"]
    assert AuditEntry.get().after is None and AuditEntry.get().before is None


def test_choosing_the_language(app, world, head):
    pages = browser(app, head)
    response = post_form(pages, "/cabinet/account/language?lang=ru", language="tt")
    assert response.status_code == 303 and "lang=tt" in response.headers["Location"]
    assert User.get_by_id(head.id).language == "tt"
    assert "Тел сакланды." in pages.get(response.headers["Location"]).get_data(as_text=True)
    assert post_form(pages, "/cabinet/account/language?lang=en", language="fr").status_code == 400
    assert User.get_by_id(head.id).language == "tt"
    entry = AuditEntry.get(AuditEntry.action == "account.language")
    assert (entry.before, entry.after) == ({"language": "ru"}, {"language": "tt"})


def test_a_token_made_on_the_account_page_is_shown_once_and_works_at_once(app, client, world, head):
    pages = browser(app, head)
    refused = post_form(pages, "/cabinet/account/tokens?lang=en", name="  ")
    assert refused.status_code == 400 and ApiToken.select().count() == 0
    made = post_form(pages, "/cabinet/account/tokens?lang=en", name="1C")
    assert made.status_code == 200
    text = re.search(r'id="new-token" value="([^"]+)"', made.get_data(as_text=True)).group(1)
    assert "Copy it now" in made.get_data(as_text=True)
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(text)).get_json()["email"] == "head@school.by"
    page = pages.get("/cabinet/account?lang=en").get_data(as_text=True)
    assert text not in page and "1C" in page
    row = ApiToken.get(ApiToken.name == "1C")
    assert row.last_used is not None and text not in row.token_hash

    revoked = post_form(pages, f"/cabinet/account/tokens/{row.id}/revoke?lang=en")
    assert revoked.status_code == 303
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(text)).status_code == 401
    assert post_form(pages, f"/cabinet/account/tokens/{row.id}/revoke?lang=en").status_code == 409
    assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)] == ["token.create", "token.revoke"]
    assert text not in audit_text()


def test_tokens_through_the_api_are_ones_own(client, world, head, operator):
    mine = factories.token(head)
    response = client.post("/api/v1/cabinet/tokens", json={"name": "reports"}, headers=factories.bearer(mine))
    assert response.status_code == 201
    made = response.get_json()
    assert made["token"].startswith(sessions.TOKEN_PREFIX) and made["name"] == "reports"
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(made["token"])).status_code == 200
    listed = client.get("/api/v1/cabinet/tokens", headers=factories.bearer(mine)).get_json()["items"]
    assert [t["name"] for t in listed] == ["reports", "tests"]
    assert all("token" not in t and "token_hash" not in t for t in listed)

    _, theirs = sessions.make_token(operator, "ops")
    assert client.delete(f"/api/v1/cabinet/tokens/{theirs.id}", headers=factories.bearer(mine)).status_code == 404
    assert ApiToken.get_by_id(theirs.id).revoked is None
    assert client.delete(f"/api/v1/cabinet/tokens/{2**64}", headers=factories.bearer(mine)).status_code == 404
    gone = client.delete(f"/api/v1/cabinet/tokens/{made['id']}", headers=factories.bearer(mine))
    assert gone.status_code == 200 and gone.get_json()["revoked"]
    assert client.get("/api/v1/cabinet/me", headers=factories.bearer(made["token"])).status_code == 401
    assert client.delete(f"/api/v1/cabinet/tokens/{made['id']}", headers=factories.bearer(mine)).status_code == 409
    for bad in ({}, {"name": ""}, {"name": "x" * 101}, {"name": 5}):
        response = client.post("/api/v1/cabinet/tokens", json=bad, headers=factories.bearer(mine))
        assert response.status_code == 400 and "name" in response.get_json()["errors"]
    assert ApiToken.select().where(ApiToken.user == head.id).count() == 2


# -- the pages in every language, and their forms' protection -------------------------------------

@pytest.mark.parametrize("lang", ["ru", "be", "en", "tt"])
def test_the_pages_speak_every_language(app, client, world, operator, head, lang):
    url = invite_json(client, factories.token(operator), organization=world.school.unp).get_json()["invitation_url"]
    admin = browser(app, operator)
    for path in ("/cabinet/users", "/cabinet/users/invite", f"/cabinet/users/{head.id}", "/cabinet/account"):
        response = admin.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert not re.search(r">[^<]*cabinet\.(users|account|link)\.", page), path
        ids = re.findall(r' id="([^"]+)"', page)
        assert len(ids) == len(set(ids)), path
    visitor = app.test_client()
    page = visitor.get(link_path(url).replace("lang=ru", f"lang={lang}")).get_data(as_text=True)
    assert f'lang="{lang}"' in page and "cabinet.link." not in page and 'name="csrf"' in page
    assert "cabinet.link." not in visitor.get(f"/cabinet/invitations/{'b' * 43}?lang={lang}").get_data(as_text=True)


def test_the_link_form_needs_its_csrf_token(app, client, world, operator):
    url = invite_json(client, factories.token(operator), organization=world.school.unp).get_json()["invitation_url"]
    visitor = app.test_client()
    visitor.get(link_path(url))
    response = visitor.post(link_path(url), data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 400
    assert User.get(User.email == "new@school.by").password_hash == "" and AccountLink.get().used is None
