"""The pages under their Content-Security-Policy in Chromium: nothing on the
portal, the rating page or the cabinets is refused (the console would say
"Refused to ... because it violates the following Content Security Policy
directive"), the criteria bars keep their widths without inline styles, and
no page can be framed by another site."""
import re
import uuid
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from service.cabinet.home import SECTIONS
from service.models import User
from tests import factories

PASSWORD = "оператор-пароль-9"


@pytest.fixture
def violations(page):
    """Every CSP refusal the page reports, as console messages."""
    seen = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    return seen


@pytest.fixture(scope="module")
def rated(live_app):
    """An organization of its own with two ratings: other browser tests rate
    the shared ones, and the bars below check exact means."""
    client = live_app.test_client()
    from service.db import database
    with live_app.app_context(), database.connection_context():
        clinic = factories.organization(f"УЗ «Поликлиника для проверки CSP» {uuid.uuid4().hex[:6]}", "gomel",
                                        ("health",), locality="г. Гомель")
        factories.rate(client, clinic.id, 5, 4, 3, 2)
        factories.rate(client, clinic.id, 4, 4, 3, 2)
    from service import pages, ranking
    ranking.clear_cache()
    pages.clear_cache()
    return SimpleNamespace(clinic=clinic)


@pytest.fixture(scope="module")
def operator(live_app):
    from service.db import database
    with live_app.app_context(), database.connection_context():
        User.delete().where(User.email == "csp-operator@example.by").execute()
        User.create(email="csp-operator@example.by", role=User.OPERATOR,
                    password_hash=generate_password_hash(PASSWORD))
    return "csp-operator@example.by"


def test_portal_pages_run_under_their_policy(page, live_server, rated, violations):
    for path in ("/?lang=en", "/objects?lang=en", f"/objects/{rated.clinic.id}?lang=en", "/rankings?lang=en&period=all",
                 "/login?lang=en", "/no-such-page?lang=en"):
        response = page.goto(live_server + path)
        assert "nonce-" in response.headers["content-security-policy"]
        # The style sheet applied: the header bar is laid out by site.css.
        assert page.evaluate("getComputedStyle(document.querySelector('.site-header .bar')).display") == "flex"
    assert violations == []


def test_criteria_bars_keep_their_widths_without_inline_styles(page, live_server, rated, violations):
    page.goto(f"{live_server}/objects/{rated.clinic.id}?lang=en")
    ratios = page.evaluate("""() => [...document.querySelectorAll('.criteria svg.bar')].map(svg =>
        svg.querySelector('rect').getBoundingClientRect().width / svg.getBoundingClientRect().width)""")
    # Means: simplicity 4.5, information 4, timeliness 3, politeness 2 (of 5).
    assert [round(r, 2) for r in ratios] == [0.9, 0.8, 0.6, 0.4]
    colour = page.evaluate("getComputedStyle(document.querySelector('.criteria svg.bar rect')).fill")
    assert colour == "rgb(47, 111, 214)"
    assert page.locator("svg.trend").count() == 1
    assert violations == []


def test_the_rating_page_and_its_thanks_run_under_their_policy(page, live_server, world, violations):
    page.goto(f"{live_server}/r/{world.school.id}?lang=en")
    for criterion in ("simplicity", "information", "timeliness", "politeness"):
        page.locator(f"input[name='{criterion}'][value='5']").check(force=True)
    page.get_by_role("button", name=re.compile("Send", re.I)).click()
    expect(page).to_have_url(re.compile(rf"/r/{world.school.id}/thanks"))
    assert violations == []


def test_cabinet_pages_run_under_their_policy(page, live_server, operator, violations):
    page.goto(f"{live_server}/login?lang=en")
    page.get_by_label("E-mail").fill(operator)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    refused = {}
    for path, _, roles in SECTIONS:
        if User.OPERATOR not in roles:
            continue
        before = len(violations)
        page.goto(f"{live_server}{path}?lang=en")
        if len(violations) > before:
            refused[path] = violations[before:]
    assert refused == {}


def test_another_site_cannot_frame_the_sign_in_page(page, live_server, host_site):
    url = host_site.put("frames-login.html", f'<!doctype html><title>framing</title>'
                                             f'<iframe id="f" src="{live_server}/login?lang=en"></iframe>')
    page.goto(url)
    page.wait_for_timeout(500)
    frame = page.frame_locator("#f")
    expect(frame.get_by_role("heading", level=1)).to_have_count(0)
