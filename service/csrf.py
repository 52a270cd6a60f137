"""Protection of the site's own forms (the rating page, sign-in and
sign-out) against cross-site request forgery: a random token kept in the
signed session cookie and repeated in a hidden field of each form."""
import hmac
import secrets

from flask import request, session

SESSION_KEY = "csrf"
FIELD = "csrf"


def token():
    value = session.get(SESSION_KEY)
    if not value:
        value = session[SESSION_KEY] = secrets.token_urlsafe(24)
    return value


def valid():
    expected, given = session.get(SESSION_KEY), request.form.get(FIELD, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())
