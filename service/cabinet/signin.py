"""Signing in and out of the cabinets (operator, moderator, staff, body).

Failed sign-ins are counted in the database per e-mail and per address
over a sliding window, so that the limit holds across workers and servers
and a restart does not reset it. Unknown e-mails count too, so the limit
tells nothing about which accounts exist; the keys are salted hashes, so
no address is kept.
"""
import datetime
import hashlib
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from service import csrf, i18n
from service.cabinet import sessions
from service.db import write_transaction
from service.i18n import current_language
from service.limits import client_address
from service.models import LANGUAGES, SignInFailure, User, utcnow

bp = Blueprint("auth", __name__)

FAILURE_WINDOW = 15 * 60
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 50


def _failure_key(kind, value):
    secret = current_app.config["SECRET_KEY"]
    return hashlib.sha256(f"{secret}\n{kind}\n{value}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def failures(key, now=None):
    now = now or utcnow()
    since = now - datetime.timedelta(seconds=FAILURE_WINDOW)
    return SignInFailure.select().where((SignInFailure.key == key) & (SignInFailure.created > since)).count()


def add_failures(keys, now=None):
    now = now or utcnow()
    stale = now - datetime.timedelta(seconds=FAILURE_WINDOW)
    with write_transaction():
        # Old failures of these keys go as new ones come, so the table
        # holds one window's worth.
        SignInFailure.delete().where(SignInFailure.key.in_(keys) & (SignInFailure.created <= stale)).execute()
        SignInFailure.insert_many([(k, now) for k in keys],
                                  fields=[SignInFailure.key, SignInFailure.created]).execute()


def forget_failures(key):
    with write_transaction():
        SignInFailure.delete().where(SignInFailure.key == key).execute()


_dummy_hash = []


def check_password(user, password):
    """Takes as long for an unknown e-mail as for a known one, so timing
    does not tell which e-mails have accounts."""
    if user is None or not user.password_hash:
        if not _dummy_hash:
            _dummy_hash.append(generate_password_hash(secrets.token_hex(16)))
        check_password_hash(_dummy_hash[0], password)
        return False
    return check_password_hash(user.password_hash, password)


current_user = sessions.current_user


@bp.app_template_global()
def signed_in_user():
    return current_user()


@bp.app_template_global()
def auth_csrf_token():
    return csrf.token()


def safe_next(target, default="/"):
    """A path on this site to go to after signing in, or ``default``. Anything that
    a browser could read as another host is refused: ``//host``, ``/\\host``
    (browsers treat the backslash as a slash), a scheme, control characters."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@bp.app_template_global()
def login_url():
    """The sign-in page, coming back here afterwards."""
    here = request.full_path if request.query_string else request.path
    return url_for("auth.login", lang=current_language(), next=here)


# -- pages ---------------------------------------------------------------------

def _form(status=200, error=None, email="", next_url="/"):
    return render_template("login.html", error=error, email=email, next_url=next_url,
                           csrf=csrf.token()), status


@bp.get("/login")
def login():
    next_url = safe_next(request.args.get("next"), "/cabinet/")
    if current_user() is not None:
        return redirect(next_url)
    return _form(next_url=next_url)


@bp.post("/login")
def login_submit():
    next_url = safe_next(request.form.get("next"), "/cabinet/")
    email = (request.form.get("email") or "").strip().lower()[:254]
    password = request.form.get("password") or ""
    if not csrf.valid():
        return _form(400, i18n.translate("auth.error.csrf"), email, next_url)
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                             current_app.config["TRUSTED_PROXIES"])
    email_key, address_key = _failure_key("email", email), _failure_key("address", address)
    if failures(email_key) >= FAILURES_PER_EMAIL or failures(address_key) >= FAILURES_PER_ADDRESS:
        return _form(429, i18n.translate("auth.error.too_many", minutes=FAILURE_WINDOW // 60), email, next_url)
    user = User.get_or_none(User.email == email) if email else None
    if not (check_password(user, password) and user.active):
        add_failures([email_key, address_key])
        return _form(400, i18n.translate("auth.error.credentials"), email, next_url)
    forget_failures(email_key)
    sessions.start(user)
    return redirect(_in_language(next_url, user.language))


def _in_language(path, lang):
    """``path`` in the user's own language, unless it names one already."""
    parts = urlsplit(path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if lang not in LANGUAGES or any(key == "lang" for key, _ in query):
        return path
    return urlunsplit(parts._replace(query=urlencode(query + [("lang", lang)])))


@bp.post("/logout")
def logout():
    if not csrf.valid():
        return render_template("error.html", status=400, message=i18n.translate("auth.error.csrf")), 400
    sessions.end()
    return redirect(url_for("pages.home", lang=current_language()))
