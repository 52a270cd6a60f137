"""The widget in a real Chromium, embedded in a page of another origin."""
import json
import uuid
from pathlib import Path

import pytest

from service.models import Rating
from tests.browser.conftest import axe_violations, describe

DOCS = Path(__file__).resolve().parents[2] / "docs"


def embed_page(host_site, live_server, object_id, name=None, attrs="", head="", body_before="", lang="ru"):
    name = name or f"embed-{uuid.uuid4().hex[:8]}.html"
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}</head><body>'
            f'{body_before}<h1>Host site</h1>'
            f'<script async src="{live_server}/widget.js" data-object="{object_id}" {attrs}></script>'
            f'<p id="after">after the widget</p></body></html>')
    return host_site.put(name, html)


def widget(page, index=0):
    return page.locator("[data-ocenka]").nth(index)


def ready(page, index=0):
    form = widget(page, index).locator("form")
    form.wait_for()
    return form


def ratings_for(live_db, object_id):
    return list(Rating.select().where(Rating.object == object_id).order_by(Rating.id))


def test_mouse_rating_arrives_in_the_database(page, host_site, live_server, world, live_db):
    url = embed_page(host_site, live_server, world.zags.id)
    page.goto(url)
    w = widget(page)
    ready(page)
    assert w.get_by_text(world.zags.name).is_visible()
    before = len(ratings_for(live_db, world.zags.id))
    for name, score in (("simplicity", 5), ("information", 4), ("timeliness", 3), ("politeness", 5)):
        w.locator(f'input[name="{name}"][value="{score}"]').locator("xpath=..").click()
    w.get_by_label("Комментарий").fill("Всё хорошо")
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    rows = ratings_for(live_db, world.zags.id)
    assert len(rows) == before + 1
    rating = rows[-1]
    assert (rating.simplicity, rating.information, rating.timeliness, rating.politeness) == (5, 4, 3, 5)
    assert rating.channel == "widget"
    assert rating.comment == "Всё хорошо"


@pytest.mark.parametrize("width, name", [(320, "widget-320.png"), (1280, "widget-desktop.png")])
def test_screenshots_for_the_docs(browser, host_site, live_server, world, width, name):
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(embed_page(host_site, live_server, world.clinic.id))
        w = widget(page)
        ready(page)
        w.locator('input[name="simplicity"][value="1"]').check()
        w.locator('input[name="information"][value="4"]').check()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, "the widget must not scroll sideways"
        w.screenshot(path=str(DOCS / name))
    finally:
        context.close()
