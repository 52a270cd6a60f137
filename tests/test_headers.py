"""Security headers on every answer, the Content-Security-Policy of the
pages (and templates that need nothing more), cookies under https, and
ProxyFix only behind trusted proxies."""
import re
from pathlib import Path

import pytest

from service import create_app, headers
from service.db import database
from tests import factories

TEMPLATES = Path(__file__).resolve().parents[1] / "service" / "templates"


def policy(response):
    """The CSP as {directive: value}."""
    parts = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def public_pages(world):
    return ["/", "/objects", f"/objects/{world.clinic.id}", "/rankings", f"/r/{world.school.id}",
            f"/r/{world.school.id}/thanks", "/login", "/no-such-page", f"/objects/{world.hidden.id}"]


def test_every_page_sends_the_policy_with_a_fresh_nonce(client, world):
    nonces = set()
    for path in public_pages(world):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        csp = policy(response)
        assert csp["default-src"] == "'self'"
        assert csp["img-src"] == "'self' data:"
        assert csp["object-src"] == "'none'"
        assert csp["base-uri"] == "'none'"
        assert csp["form-action"] == "'self'"
        assert csp["frame-ancestors"] == "'none'"
        nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9_-]{24})'", csp["script-src"]).group(1)
        # Styles: only the site's style sheets (and a nonce), never 'unsafe-inline'.
        assert csp["style-src"] == f"'self' 'nonce-{nonce}'"
        nonces.add(nonce)
    assert len(nonces) == len(public_pages(world))


def test_every_answer_is_nosniff_with_a_referrer_policy(client, world):
    for path in public_pages(world) + ["/api/v1/objects", "/api/v1/stats", "/healthz", "/widget.js",
                                       "/static/site.css", f"/qr/{world.school.id}.svg", "/rankings.csv",
                                       "/api/v1/objects/999999"]:
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        response.close()


def test_pages_refuse_to_be_framed(client, world):
    for path in public_pages(world):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert policy(response)["frame-ancestors"] == "'none'", path


def test_the_sign_in_page_cannot_be_framed(client, world):
    response = client.get("/login?lang=en")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert policy(response)["frame-ancestors"] == "'none'"


def test_cabinet_pages_get_the_policy_too(client, world):
    factories.sign_in(client, factories.user("operator"))
    response = client.get("/cabinet/?lang=en")
    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_get_the_policy(client, world):
    response = client.post("/login", data=b"\xff=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert policy(response)["script-src"].startswith("'self' 'nonce-")


def test_what_is_not_a_page_gets_no_framing_rule(client, world):
    """JSON, the widget and the banner's embed code (text to copy into a
    site, which embeds an <img>, not a frame) are not framed pages."""
    for path in ["/widget.js", "/api/v1/stats", f"/banner/{world.school.id}.html", "/banner.html"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "X-Frame-Options" not in response.headers, path
        assert "Content-Security-Policy" not in response.headers, path
    snippet = client.get(f"/banner/{world.school.id}.html").get_data(as_text=True)
    assert "<img " in snippet and "<iframe" not in snippet


def test_svg_images_keep_their_own_policy(client, world):
    response = client.get(f"/badge/{world.school.id}.svg")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_templates_have_no_inline_script_or_style():
    """What the policy needs: no <script> without src, no <style>, no
    style="" and no on...= handlers in any template (cabinets' included)."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)", r"<style\b", r"\sstyle=", r"\son[a-z]+\s*=", r"javascript:"):
            for match in re.finditer(pattern, text, re.IGNORECASE):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{template.relative_to(TEMPLATES)}:{line}: {pattern}")
    assert not offenders, "\n".join(offenders)


def test_charts_are_styled_by_class_only(client, world):
    factories.rate(client, world.clinic.id, 5, 4, 4, 5)
    body = client.get(f"/objects/{world.clinic.id}").get_data(as_text=True)
    assert "<svg" in body
    assert " style=" not in body and "<style" not in body


def test_the_nonce_is_one_per_request_and_offered_to_templates(app):
    with app.test_request_context("/"):
        first = app.jinja_env.globals["csp_nonce"]()
        assert first == headers.csp_nonce()
    with app.test_request_context("/"):
        assert headers.csp_nonce() != first


# -- cookies --------------------------------------------------------------------

@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"BASE_URL": "https://ocenka.example"}], indirect=True)
def test_cookies_are_secure_under_https(client, world):
    response = factories.sign_in(client, factories.user("operator"))
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    language = client.get("/?lang=en").headers.getlist("Set-Cookie")
    assert language and all("Secure" in cookie for cookie in language)


@pytest.mark.parametrize("app_config", [{"BASE_URL": "http://127.0.0.1:8000"}], indirect=True)
def test_cookies_are_not_secure_over_plain_http(client, world):
    response = factories.sign_in(client, factories.user("operator"))
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" not in cookie and "HttpOnly" in cookie for cookie in cookies)


# -- proxies ---------------------------------------------------------------------

def _app(tmp_path, proxies):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "test",
                      "TESTING": True, "TRUSTED_PROXIES": proxies})

    @app.get("/test/where")
    def where():
        from flask import request
        return {"scheme": request.scheme, "host": request.host, "remote": request.remote_addr}

    return app


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ocenka.example", "X-Forwarded-For": "203.0.113.9"}


def test_no_proxy_fix_without_trusted_proxies(tmp_path):
    app = _app(tmp_path, [])
    try:
        assert not isinstance(app.wsgi_app, headers.TrustedProxyFix)
        seen = app.test_client().get("/test/where", headers=FORWARDED,
                                     environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
        assert seen == {"scheme": "http", "host": "localhost", "remote": "10.0.0.1"}
    finally:
        database.close_all()


def test_forwarded_headers_are_read_from_a_trusted_proxy_only(tmp_path):
    app = _app(tmp_path, ["10.0.0.0/8"])
    try:
        client = app.test_client()
        seen = client.get("/test/where", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
        # The address stays the proxy's: limits.client_address reads X-Forwarded-For itself.
        assert seen == {"scheme": "https", "host": "ocenka.example", "remote": "10.0.0.1"}
        seen = client.get("/test/where", headers=FORWARDED, environ_base={"REMOTE_ADDR": "192.0.2.7"}).get_json()
        assert seen == {"scheme": "http", "host": "localhost", "remote": "192.0.2.7"}
    finally:
        database.close_all()
