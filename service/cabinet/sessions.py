"""Who is signed in: server-side sessions for the cabinet pages and
personal tokens for the cabinet API.

The session cookie (Flask's, signed) carries a random session token and
the forms' CSRF token, nothing else. The database keeps only the token's
hash, so that signing out, deactivation and a password change end a
session on every worker and server at once, and a copied cookie stops
working with them. A personal token is sent as ``Authorization: Bearer``;
it is shown once when made and only its hash is kept.
"""
import datetime
import hashlib
import secrets

from flask import request, session

from service.db import write_transaction
from service.models import ApiToken, User, UserSession, utcnow

SESSION_KEY = "sid"
_USER_CACHE = "ocenka.user"

# A session ends after this long without a request, and in any case after
# the absolute limit; the idle clock is moved on at most every few minutes
# so that reading pages does not write on every request.
IDLE_LIMIT = datetime.timedelta(hours=12)
ABSOLUTE_LIMIT = datetime.timedelta(days=30)
TOUCH_EVERY = datetime.timedelta(minutes=5)

TOKEN_PREFIX = "ocn_"


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# -- browser sessions --------------------------------------------------------------

def start(user):
    """Signs ``user`` in on this browser: a new session, and nothing set
    before signing in (a planted CSRF token, say) carries over."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction():
        UserSession.create(token_hash=token_hash(token), user=user.id, created=now, last_seen=now,
                           expires=now + IDLE_LIMIT)
    session.clear()
    session[SESSION_KEY] = token
    request.environ[_USER_CACHE] = user


def end():
    """Signs this browser out; the stored session is gone, so a copy of
    the cookie is worth nothing."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        with write_transaction():
            UserSession.delete().where(UserSession.token_hash == token_hash(token)).execute()
    session.clear()
    request.environ[_USER_CACHE] = None


def end_all(user, keep_current=False):
    """Ends every session of ``user`` (deactivation, a password change);
    with ``keep_current`` the browser that asked stays signed in."""
    query = UserSession.delete().where(UserSession.user == user.id)
    token = session.get(SESSION_KEY) if keep_current else None
    if isinstance(token, str):
        query = query.where(UserSession.token_hash != token_hash(token))
    with write_transaction():
        query.execute()


def _session_user():
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) > 100:
        return None
    row = (UserSession.select(UserSession, User).join(User)
           .where((UserSession.token_hash == token_hash(token)) & (User.active == True))  # noqa: E712
           .first())
    now = utcnow()
    if row is None or row.expires <= now or row.created + ABSOLUTE_LIMIT <= now:
        return None
    if now - row.last_seen >= TOUCH_EVERY:
        with write_transaction():
            (UserSession.update(last_seen=now, expires=min(now + IDLE_LIMIT, row.created + ABSOLUTE_LIMIT))
             .where(UserSession.token_hash == row.token_hash).execute())
    return row.user


# -- personal tokens ---------------------------------------------------------------

def make_token(user, name=""):
    """A new personal token for ``user``: the text, to be shown once, and its row."""
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        row = ApiToken.create(user=user.id, name=(name or "").strip()[:100], token_hash=token_hash(text))
    return text, row


def revoke_token(row):
    with write_transaction():
        ApiToken.update(revoked=utcnow()).where((ApiToken.id == row.id) & ApiToken.revoked.is_null()).execute()


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _token_user(text):
    if len(text) > 200:
        return None
    row = (ApiToken.select(ApiToken, User).join(User)
           .where((ApiToken.token_hash == token_hash(text)) & ApiToken.revoked.is_null()
                  & (User.active == True))  # noqa: E712
           .first())
    if row is None:
        return None
    now = utcnow()
    if row.last_used is None or now - row.last_used >= TOUCH_EVERY:
        with write_transaction():
            ApiToken.update(last_used=now).where(ApiToken.id == row.id).execute()
    return row.user


# -- who asks ------------------------------------------------------------------

def current_user():
    """The active user behind this request, or None; read once per request.
    Under /api/ only a personal token counts (no cookies, so no CSRF);
    elsewhere only the browser session."""
    environ = request.environ
    if _USER_CACHE not in environ:
        if request.path.startswith("/api/"):
            token = bearer_token()
            user = _token_user(token) if token else None
        else:
            user = _session_user()
        environ[_USER_CACHE] = user
    return environ[_USER_CACHE]
