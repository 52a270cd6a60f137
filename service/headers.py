"""Security headers, cookies and proxies: what every answer says about how
a browser may use it.

* HTML pages get a Content-Security-Policy. The templates have no inline
  script and no inline style (``tests/test_headers.py`` keeps it so), so
  scripts and styles come from the site itself; should a page ever need an
  inline ``<script>`` or ``<style>``, it takes ``nonce="{{ csp_nonce() }}"``,
  a fresh value per request. Images may be ``data:`` URLs; no plugins, no
  ``<base>``, forms post only to the site, and no page may be framed: no
  HTML page is meant to be (the banner's ``.html`` is code to copy, served
  as text/plain, and embeds an ``<img>``, not a frame).
* Every answer gets ``nosniff`` and a Referrer-Policy that sends other sites
  the origin only (a search query in the URL stays here).
* The session cookie is Secure when the site is served over https
  (``OCENKA_BASE_URL``), as is the language cookie.
* Behind proxies listed in ``OCENKA_TRUSTED_PROXIES``, werkzeug's ProxyFix
  takes the scheme and host they forward, and only for connections that
  come from one of them, by the same rule ``limits.client_address`` uses
  for ``X-Forwarded-For`` (which it keeps reading itself: one notion of a
  trusted proxy, not a second one counting hops).
"""
import secrets

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from service import limits

REFERRER_POLICY = "strict-origin-when-cross-origin"


def csp_nonce():
    """This request's nonce for an inline script or style. Kept on the
    request, not in ``g``: an app context may outlive many requests."""
    nonce = request.environ.get("ocenka.csp_nonce")
    if nonce is None:
        nonce = request.environ["ocenka.csp_nonce"] = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce):
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        # For browsers that predate frame-ancestors.
        headers.setdefault("X-Frame-Options", "DENY")
    return response


class TrustedProxyFix:
    """ProxyFix for the connections of trusted proxies only; any other
    client's X-Forwarded-* headers are left unread."""

    def __init__(self, wsgi_app, trusted_proxies):
        self.direct = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=0, x_proto=1, x_host=1, x_port=1)
        self.networks = limits.networks(trusted_proxies)

    def __call__(self, environ, start_response):
        if limits.is_trusted(environ.get("REMOTE_ADDR", ""), self.networks):
            return self.fixed(environ, start_response)
        return self.direct(environ, start_response)


def init_app(app):
    secure = app.config["BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.after_request(_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"])
