"""Signing in and out, on SQLite and PostgreSQL, and who sees an object's
staff section (the widget snippet, the QR, poster, banner and badge links)."""
import datetime
import re
from html import unescape

import pytest
from werkzeug.security import generate_password_hash

from service import structure
from service.cabinet import permissions, sessions
from service.cabinet import signin as auth
from service.models import Registry, RollupMember, SignInFailure, User, UserSession

PASSWORD = "correct horse battery"
GENERIC = "Wrong e-mail or password."


def make_user(email, role, organization=None, active=True, password=PASSWORD):
    return User.create(email=email, role=role, organization=organization, active=active,
                       password_hash=generate_password_hash(password))


def csrf_of(client, path="/login?lang=en"):
    body = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', body).group(1)


def sign_in(client, email, password=PASSWORD, next_url=None, csrf=True):
    form = {"email": email, "password": password}
    if csrf:
        form["csrf"] = csrf_of(client)
    if next_url is not None:
        form["next"] = next_url
    return client.post("/login?lang=en", data=form)


def signed_in_id(client):
    """The user of the client's session as the server keeps it."""
    with client.session_transaction() as session:
        token = session.get("sid")
    if token is None:
        return None
    row = UserSession.get_or_none(UserSession.token_hash == sessions.token_hash(token))
    return row.user_id if row else None


def error_of(response):
    match = re.search(r'<p class="form-error" role="alert">(.*?)</p>', response.get_data(as_text=True))
    return unescape(match.group(1)) if match else None


def staff_section(client, obj):
    body = client.get(f"/objects/{obj.id}?lang=en").get_data(as_text=True)
    return 'class="staff"' in body


@pytest.fixture
def staff(world):
    return make_user("head@school.by", User.STAFF, world.school)


# -- the form ------------------------------------------------------------------

@pytest.mark.parametrize("lang, title, field", [("ru", "Вход для сотрудников", "Пароль"),
                                                ("be", "Уваход для супрацоўнікаў", "Пароль"),
                                                ("en", "Sign in for staff", "Password"),
                                                ("tt", "Хезмәткәрләр өчен керү", "Серсүз")])
def test_the_form_speaks_the_page_language(client, db, lang, title, field):
    response = client.get(f"/login?lang={lang}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in body and f'<label for="password">{field}</label>' in body
    assert re.search(r'<input type="hidden" name="csrf" value="[^"]{20,}">', body)
    assert 'type="password"' in body and 'autocomplete="current-password"' in body


def test_visitors_see_a_sign_in_link_that_comes_back(client, world):
    body = client.get(f"/objects/{world.school.id}?lang=en").get_data(as_text=True)
    assert f'href="/login?lang=en&amp;next=/objects/{world.school.id}?lang%3Den">Sign in</a>' in body


# -- signing in ----------------------------------------------------------------

def test_sign_in_goes_to_the_local_next_page(client, staff, world):
    target = f"/objects/{world.school.id}?lang=en"
    response = sign_in(client, "Head@School.by ", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert signed_in_id(client) == staff.id
    body = client.get(target).get_data(as_text=True)
    assert "Signed in as head@school.by" in body and ">Sign out</button>" in body


def test_sign_in_starts_a_new_session(client, staff):
    csrf = csrf_of(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = client.post("/login", data={"email": staff.email, "password": PASSWORD, "csrf": csrf})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert set(session) == {"sid"}
    assert signed_in_id(client) == staff.id


def test_session_cookie_is_http_only_and_same_site(client, staff):
    cookie = sign_in(client, staff.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("email, password, active", [
    ("head@school.by", "wrong password!", True),
    ("nobody@school.by", PASSWORD, True),
    ("head@school.by", PASSWORD, False),
], ids=["wrong password", "unknown email", "inactive user"])
def test_failed_sign_in_says_nothing_about_what_was_wrong(client, world, email, password, active):
    make_user("head@school.by", User.STAFF, world.school, active=active)
    response = sign_in(client, email, password)
    assert response.status_code == 400
    assert error_of(response) == GENERIC
    assert signed_in_id(client) is None
    body = response.get_data(as_text=True)
    # The e-mail is kept for a retry; the password never comes back.
    assert f'value="{email}"' in body and password not in body


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_sign_in_without_the_form_token_is_refused(client, staff, csrf):
    csrf_of(client)
    form = {"email": staff.email, "password": PASSWORD}
    if csrf is not None:
        form["csrf"] = csrf
    response = client.post("/login?lang=en", data=form)
    assert response.status_code == 400
    assert error_of(response) == "The form has expired. Please try again."
    assert signed_in_id(client) is None


def test_a_user_made_inactive_is_signed_out(client, staff, world):
    sign_in(client, staff.email)
    assert staff_section(client, world.school)
    User.update(active=False).where(User.id == staff.id).execute()
    assert not staff_section(client, world.school)
    assert "Signed in as" not in client.get("/?lang=en").get_data(as_text=True)


def test_repeated_failures_lock_the_email_for_a_while(client, staff, world):
    for _ in range(auth.FAILURES_PER_EMAIL):
        assert sign_in(client, staff.email, "wrong password!").status_code == 400
    response = sign_in(client, staff.email)
    assert response.status_code == 429
    assert error_of(response) == "Too many failed sign-ins. Please try again in 15 minutes."
    assert signed_in_id(client) is None
    # Unknown e-mails are counted alike, so the lock tells nothing either.
    for _ in range(auth.FAILURES_PER_EMAIL):
        sign_in(client, "nobody@school.by", "wrong password!")
    assert error_of(sign_in(client, "nobody@school.by")) == error_of(response)
    # Another account, from the same address, signs in as usual.
    other = make_user("clerk@zags.by", User.STAFF, world.zags)
    assert sign_in(client, other.email).status_code == 302


def test_failures_expire_after_the_window(app, db):
    with app.test_request_context():
        key = auth._failure_key("email", "a@b.by")
        start = datetime.datetime(2026, 12, 1, 12, 0, 0)
        for _ in range(3):
            auth.add_failures([key], now=start)
        assert auth.failures(key, now=start) == 3
        later = start + datetime.timedelta(seconds=899)
        auth.add_failures([key], now=later)
        assert auth.failures(key, now=later + datetime.timedelta(seconds=2)) == 1
        assert auth.failures(key, now=later + datetime.timedelta(seconds=901)) == 0


def test_failures_are_kept_in_the_database_not_in_the_worker(app, client, staff):
    """A second app on the same database (another worker, or a restart)
    sees the same count, and no raw e-mail or address is stored."""
    for _ in range(auth.FAILURES_PER_EMAIL):
        sign_in(client, staff.email, "wrong password!")
    assert SignInFailure.select().count() == 2 * auth.FAILURES_PER_EMAIL
    app.extensions.clear()  # whatever a worker kept in memory is gone
    assert sign_in(app.test_client(), staff.email).status_code == 429
    keys = [row.key for row in SignInFailure.select()]
    assert keys and all(staff.email not in k and "127.0.0.1" not in k for k in keys)


# -- open redirects --------------------------------------------------------------

HOSTILE_NEXT = ["https://evil.test/", "//evil.test/", "///evil.test/", "/\\evil.test", "\\\\evil.test",
                "/\\/evil.test", "http:evil.test", "javascript:alert(1)", " //evil.test", "\t/evil.test",
                "/objects\r\nSet-Cookie: x=1", "evil.test", ""]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_sends_to_another_site(client, staff, target):
    response = sign_in(client, staff.email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/cabinet/?lang=ru"


@pytest.mark.parametrize("target", ["/", "/objects?q=%D1%88&lang=be", "/rankings#top"])
def test_local_paths_are_kept(target):
    assert auth.safe_next(target) == target


def test_signed_in_user_opening_the_form_is_sent_on_safely(client, staff):
    sign_in(client, staff.email)
    response = client.get("/login?next=//evil.test/")
    assert response.status_code == 302 and response.headers["Location"] == "/cabinet/"


# -- signing out -----------------------------------------------------------------

def test_sign_out(client, staff, world):
    sign_in(client, staff.email)
    page = client.get(f"/objects/{world.school.id}?lang=en").get_data(as_text=True)
    form = page[page.index('<form class="account"'):]
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    response = client.post("/logout?lang=en", data={"csrf": csrf})
    assert response.status_code == 302 and response.headers["Location"] == "/?lang=en"
    assert signed_in_id(client) is None
    assert not staff_section(client, world.school)


def test_sign_out_needs_the_form_token(client, staff):
    sign_in(client, staff.email)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/logout").status_code == 405
    assert signed_in_id(client) == staff.id


# -- who sees the staff section -----------------------------------------------------

def test_visitors_do_not_see_the_staff_section(client, world):
    for obj in (world.school, world.clinic, world.clinic_women):
        assert not staff_section(client, obj)


def test_the_object_page_asks_nothing_about_users_of_visitors(client, world, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an anonymous page view must not query users")
    monkeypatch.setattr(User, "get_or_none", refuse)
    monkeypatch.setattr(RollupMember, "select", refuse)
    assert client.get(f"/objects/{world.school.id}").status_code == 200


def test_staff_see_it_on_their_organization_and_its_subdivisions(client, world):
    make_user("doctor@clinic.by", User.STAFF, world.clinic)
    sign_in(client, "doctor@clinic.by")
    assert staff_section(client, world.clinic)
    assert staff_section(client, world.clinic_women)
    assert not staff_section(client, world.school)
    assert not staff_section(client, world.zags)


def test_staff_of_another_organization_do_not_see_it(client, world):
    make_user("clerk@zags.by", User.STAFF, world.zags)
    sign_in(client, "clerk@zags.by")
    assert not staff_section(client, world.school)
    assert staff_section(client, world.zags)


def test_a_body_sees_it_once_its_registry_is_accepted(client, world):
    make_user("head@oblispolkom.by", User.BODY, world.body)
    sign_in(client, "head@oblispolkom.by")
    registry = structure.create_registry(world.body, [world.school, world.clinic])
    for state in (Registry.APPROVED, Registry.SUBMITTED):
        structure.move_registry(registry, state)
    assert not staff_section(client, world.school)
    structure.move_registry(registry, Registry.ACCEPTED)
    assert staff_section(client, world.school)
    assert staff_section(client, world.clinic_women)
    assert not staff_section(client, world.zags)
    # Sent back to draft, the registry no longer grants access.
    structure.move_registry(registry, Registry.DRAFT)
    assert not staff_section(client, world.school)


@pytest.mark.parametrize("role", [User.OPERATOR, User.MODERATOR])
def test_operator_and_moderator_see_it_everywhere(client, world, role):
    make_user(f"{role}@ocenka.by", role)
    sign_in(client, f"{role}@ocenka.by")
    for obj in (world.school, world.clinic_women, world.zags):
        assert staff_section(client, obj)


def test_permissions_refuse_nobody_and_the_inactive(world):
    def can_manage(user, obj):
        return permissions.allowed(user, permissions.READ_RATINGS, obj)
    assert not can_manage(None, world.school)
    inactive = make_user("gone@ocenka.by", User.OPERATOR, active=False)
    assert not can_manage(inactive, world.school)
    orphan = User(email="x@y.by", role=User.STAFF, organization=None, active=True)
    assert not can_manage(orphan, world.school)
