"""The public portal in Chromium: search, filters, the object page's chart
and comments, the ranking's period switch and CSV, accessibility and a
320 px wide screen."""
import csv
import datetime
import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from werkzeug.security import generate_password_hash

from service import pages, ranking
from service.models import Rating, User
from tests import factories
from tests.browser.conftest import axe_violations, describe

HOSTILE = ("<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"
           "<b>жирный</b> & «кавычки»")
FORMULA = '=HYPERLINK("http://evil.test","Нажмите")'
STAFF_PASSWORD = "библиотека-пароль-7"


@pytest.fixture(scope="module")
def portal(live_app, world):
    """A library with ratings this month and last month, an approved
    comment full of markup, and an organization whose name is a formula."""
    from service.db import database
    client = live_app.test_client()
    with live_app.app_context(), database.connection_context():
        library = factories.organization("ГУК «Портальная библиотека № 7 г. Гродно»", "grodno", ("culture",))
        formula = factories.organization(FORMULA, "grodno", ("culture",))
        month = pages.last_complete_month(pages._today())
        year, m = int(month.key[:4]), int(month.key[5:])
        old = []
        for scores in ((5, 5, 5, 4), (4, 4, 4, 4), (3, 4, 3, 4)):
            old.append(factories.rate(client, library.id, *scores).get_json()["id"])
        old.append(factories.rate(client, formula.id, 5, 5, 5, 5).get_json()["id"])
        Rating.update(month=year * 100 + m, created=datetime.datetime(year, m, 10, 12)).where(
            Rating.id.in_(old)).execute()
        factories.rate(client, library.id, 5, 5, 5, 5)
        factories.rate(client, library.id, 4, 5, 4, 5, comment=HOSTILE)
        factories.rate(client, formula.id, 4, 4, 4, 4)
        Rating.update(comment_status=Rating.COMMENT_APPROVED).where(Rating.comment == HOSTILE).execute()
        ranking.rebuild_aggregates()
    ranking.clear_cache()
    pages.clear_cache()
    return SimpleNamespace(library=library, formula=formula, month=month)


def test_search_from_the_home_page_finds_an_organization(page, live_server, world):
    page.goto(f"{live_server}/?lang=ru")
    page.get_by_label("Название или УНП").fill("поликлиника")
    page.get_by_role("button", name="Найти").click()
    expect(page).to_have_url(re.compile(r"/objects\?.*q=%D0%BF%D0%BE%D0%BB"))
    link = page.get_by_role("link", name="УЗ «Гомельская городская поликлиника № 5»")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("УЗ «Гомельская городская поликлиника № 5»")


def test_filters_narrow_the_catalogue(page, live_server, world, portal):
    page.goto(f"{live_server}/objects?lang=ru")
    items = page.locator(".catalogue > li")
    everything = items.count()
    page.get_by_label("Сфера").select_option("health")
    page.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"sphere=health"))
    health = [t.strip() for t in page.locator(".catalogue h2").all_inner_texts()]
    assert 0 < len(health) < everything
    assert "УЗ «Гомельская городская поликлиника № 5»" in health
    assert "ГУО «Средняя школа № 1 г. Бреста»" not in health
    page.get_by_label("Регион").select_option("brest")
    page.get_by_role("button", name="Показать").click()
    expect(page.get_by_text("Ничего не найдено")).to_be_visible()
    page.get_by_label("Сфера").select_option("")
    page.get_by_role("button", name="Показать").click()
    # The page still on screen is the empty one: wait for the new one.
    expect(page).to_have_url(re.compile(r"sphere=&region=brest"))
    brest = [t.strip() for t in page.locator(".catalogue h2").all_inner_texts()]
    assert "ГУО «Средняя школа № 1 г. Бреста»" in brest
    assert "УЗ «Гомельская городская поликлиника № 5»" not in brest


def test_the_language_switch_keeps_the_search(page, live_server, world):
    page.goto(f"{live_server}/objects?lang=ru&q=%D1%88%D0%BA%D0%BE%D0%BB%D0%B0")
    page.get_by_role("navigation", name="Язык").get_by_role("link", name="Беларуская").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Арганізацыі")
    expect(page.get_by_label("Назва або УНП")).to_have_value("школа")
    expect(page.locator("html")).to_have_attribute("lang", "be")


def test_the_object_page_shows_its_chart(page, live_server, portal):
    page.goto(f"{live_server}/objects/{portal.library.id}?lang=en")
    chart = page.get_by_role("img", name=re.compile("Mean score by month"))
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    # Two months with ratings: two dots joined by one line.
    assert chart.locator("circle").count() == 2
    assert chart.locator("path.line").count() == 1
    page.get_by_text("The chart's data as a table").click()
    label = pages.period_label(portal.month, "en")
    row = page.locator(".chart-data").get_by_role("row", name=re.compile(label))
    # (4.75 + 4 + 3.5) / 3 from three ratings.
    expect(row.locator("td")).to_have_text(["4.08", "3"])
    rate = page.get_by_role("link", name="Rate", exact=True)
    expect(rate).to_have_attribute("href", f"/r/{portal.library.id}?lang=en")


def test_a_comment_full_of_markup_shows_as_text(page, live_server, portal):
    page.goto(f"{live_server}/objects/{portal.library.id}?lang=ru")
    comment = page.locator(".comment .text").first
    expect(comment).to_have_text(HOSTILE)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".comment img, .comment b, .comment script").count() == 0


@pytest.fixture(scope="module")
def library_staff(live_app, portal):
    from service.db import database
    with live_app.app_context(), database.connection_context():
        User.delete().where(User.email == "staff@library.by").execute()
        User.create(email="staff@library.by", role=User.STAFF, organization=portal.library,
                    password_hash=generate_password_hash(STAFF_PASSWORD))
    return SimpleNamespace(email="staff@library.by", password=STAFF_PASSWORD)


def test_visitors_see_no_staff_section(page, live_server, portal):
    page.goto(f"{live_server}/objects/{portal.library.id}?lang=ru")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Для сотрудников организации")).to_have_count(0)
    expect(page.locator("textarea, a[href*='/poster/'], a[href*='/qr/']")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 320])
def test_staff_sign_in_and_find_the_snippet_in_a_closed_section(browser, live_server, portal, library_staff, width):
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server}/objects/{portal.library.id}?lang=ru")
        page.get_by_role("link", name="Войти").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Вход для сотрудников")
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        page.get_by_label("Электронная почта").fill(library_staff.email)
        page.get_by_label("Пароль").fill(library_staff.password)
        page.get_by_role("button", name="Войти").click()
        expect(page).to_have_url(f"{live_server}/objects/{portal.library.id}?lang=ru")
        snippet = page.get_by_label("Код для сайта")
        expect(snippet).to_be_hidden()
        page.get_by_text("Для сотрудников организации").click()
        expect(snippet).to_have_value(
            f'<script async src="{live_server}/widget.js" data-object="{portal.library.id}"></script>')
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("button", name="Выйти").click()
        expect(page.get_by_role("link", name="Войти")).to_be_visible()
        page.goto(f"{live_server}/objects/{portal.library.id}?lang=ru")
        expect(page.get_by_text("Для сотрудников организации")).to_have_count(0)
    finally:
        context.close()


def test_rankings_switch_period(page, live_server, portal):
    page.goto(f"{live_server}/rankings?lang=en&sphere=culture")
    caption = page.locator("caption")
    expect(caption).to_have_text(f"Ranking: {pages.period_label(portal.month, 'en')}")
    names = page.locator("table.ranking tbody th").all_inner_texts()
    assert "ГУК «Портальная библиотека № 7 г. Гродно»" in names
    page.get_by_label("Period").select_option("all")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=all"))
    expect(caption).to_have_text("Ranking: All time")
    expect(page.get_by_label("Period")).to_have_value("all")
    # All time counts this month's ratings too.
    row = page.get_by_role("row", name=re.compile("Портальная библиотека"))
    expect(row.locator("td").nth(1)).to_have_text("5")


def test_csv_opens_with_neutralized_cells(page, live_server, portal):
    page.goto(f"{live_server}/rankings?lang=ru&period=all&region=grodno")
    with page.expect_download() as info:
        page.get_by_role("link", name="Скачать CSV").click()
    download = info.value
    assert download.suggested_filename == "ocenka-ranking-all-grodno.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[portal.formula.id]["name"] == "'" + FORMULA
    assert by_id[portal.library.id]["name"] == "ГУК «Портальная библиотека № 7 г. Гродно»"
    assert by_id[portal.library.id]["n"] == "5"
    assert not any(r["name"].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)


PAGES = ["/", "/objects", "/objects?q=школа", "/objects/{library}", "/rankings", "/rankings?period=all"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("width", [1280, 320])
def test_no_serious_accessibility_violations(browser, live_server, portal, path, width):
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(live_server + path.format(library=portal.library.id))
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        violations = axe_violations(page)
        assert violations == [], describe(violations)
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES + ["/?lang=tt", "/objects/{library}?lang=tt", "/rankings?lang=be",
                                  "/objects?lang=be&sphere=health"])
def test_pages_work_at_320_px(browser, live_server, portal, path):
    context = browser.new_context(locale="ru-RU", viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(live_server + path.format(library=portal.library.id))
        # Nothing but a data table's own box scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 321)
            .map(e => e.tagName + '.' + e.className)""")
        assert wide == []
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_be_visible()
        assert heading.bounding_box()["width"] <= 320
        for link in page.locator(".site-header a").all():
            assert link.bounding_box()["x"] + link.bounding_box()["width"] <= 320
        # A ranking's names stay readable rather than one letter a line.
        for name in page.locator("table.ranking tbody th").all():
            assert name.bounding_box()["width"] >= 150
    finally:
        context.close()
