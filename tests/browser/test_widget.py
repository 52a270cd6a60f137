"""The widget in a real Chromium, embedded in a page of another origin."""
import json
import uuid

import pytest
from playwright.sync_api import expect

from service.models import Rating
from tests.browser.conftest import SCREENSHOTS, axe_violations, describe

DOCS = SCREENSHOTS


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
    # the chosen level's meaning shows under its row, the others do not
    assert w.get_by_text("Информация полная, найти несложно").is_visible()
    assert not w.get_by_text("Вся информация под рукой и понятна").is_visible()
    comment = w.get_by_label("Комментарий")
    assert not comment.is_visible(), "the comment is folded until asked for"
    w.get_by_text("Добавить комментарий").click()
    comment.fill("Всё хорошо")
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


def choose(w, name, value):
    w.locator(f'input[name="{name}"][value="{value}"]').check()


def fill_all(w, scores=(5, 4, 4, 5)):
    for name, score in zip(("simplicity", "information", "timeliness", "politeness"), scores):
        choose(w, name, score)


def test_keyboard_only_rating_with_a_reason(page, host_site, live_server, world, live_db):
    page.goto(embed_page(host_site, live_server, world.zags.id))
    w = widget(page)
    ready(page)
    before = len(ratings_for(live_db, world.zags.id))
    keys = page.keyboard
    keys.press("Tab")
    keys.press("Space")  # simplicity: 1, the minimum, so its reasons appear
    face = w.locator('input[name="simplicity"][value="1"] + span')
    assert face.evaluate("el => getComputedStyle(el).outlineStyle") == "solid", "focus must be visible"
    assert w.get_by_role("group", name="Что пошло не так?").is_visible()
    keys.press("Tab")
    keys.press("Space")  # the first reason
    for _ in range(4):
        keys.press("Tab")
    for _ in range(3):
        keys.press("ArrowRight")  # information: 1 → 4 by arrows, as a radio group does
    keys.press("Tab")
    keys.press("ArrowRight")  # timeliness: 2
    keys.press("Tab")
    for _ in range(4):
        keys.press("ArrowDown")  # politeness: 5
    assert w.get_by_text("Очень доброжелательно, помогли во всём").is_visible()
    keys.press("Tab")
    keys.press("Enter")  # opens "add a comment"
    keys.press("Tab")
    keys.type("С клавиатуры")
    assert w.get_by_text("12 из 2000 символов").is_visible()
    keys.press("Tab")
    keys.press("Enter")
    status = w.get_by_role("status")
    status.filter(has_text="Спасибо").wait_for()
    rating = ratings_for(live_db, world.zags.id)[-1]
    assert len(ratings_for(live_db, world.zags.id)) == before + 1
    assert rating.scores == {"simplicity": 1, "information": 4, "timeliness": 2, "politeness": 5}
    assert rating.reasons == ["documents"]
    assert rating.comment == "С клавиатуры"


def test_radio_groups_are_labelled_for_assistive_technology(page, host_site, live_server, world):
    page.goto(embed_page(host_site, live_server, world.school.id))
    w = widget(page)
    ready(page)
    group = w.get_by_role("radiogroup", name="Вежливость и доброжелательность сотрудников")
    assert group.get_by_role("radio").count() == 5
    # each score is named by its number and described by what it means
    lowest = group.get_by_role("radio", name="1", exact=True)
    expect(lowest).to_have_accessible_description("Грубо и неуважительно")
    expect(group.get_by_role("radio", name="5", exact=True)).to_have_accessible_description(
        "Очень доброжелательно, помогли во всём")
    assert w.get_by_role("radiogroup").count() == 4
    assert w.get_by_role("status").get_attribute("aria-live") == "polite"


HOSTILE = """<style>
* { all: unset !important; font-size: 64px !important; color: #ff0 !important; line-height: 3 !important; }
html { font-size: 80px !important; } body { display: block !important; background: #00f !important; }
div { display: inline !important; width: 10px !important; overflow: hidden !important; }
input, button, label { display: none !important; }
</style>"""


def test_hostile_host_css_does_not_break_the_widget(page, host_site, live_server, world, live_db):
    page.goto(embed_page(host_site, live_server, world.school.id, head=HOSTILE))
    w = widget(page)
    ready(page)
    legend = w.get_by_text("Простота и понятность получения услуги")
    assert legend.evaluate("el => getComputedStyle(el).fontSize") == "16px"
    assert legend.evaluate("el => getComputedStyle(el).color") == "rgb(26, 26, 26)"
    box = w.bounding_box()
    assert box["width"] > 300 and box["height"] > 500
    before = len(ratings_for(live_db, world.school.id))
    for name, score in (("simplicity", 4), ("information", 4), ("timeliness", 5), ("politeness", 5)):
        w.locator(f'input[name="{name}"][value="{score}"]').locator("xpath=..").click()
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    assert len(ratings_for(live_db, world.school.id)) == before + 1


def strict_policy(live_server):
    """A host page's CSP that allows Ocenka's script and API and nothing
    inline: no inline style (not even in a shadow root), no inline script."""
    policy = (f"default-src 'none'; script-src {live_server}; connect-src {live_server}; "
              "style-src 'self'; img-src 'self'")
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def test_the_widget_keeps_its_looks_under_a_strict_host_policy(page, host_site, live_server, world, live_db):
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(embed_page(host_site, live_server, world.school.id, head=strict_policy(live_server)))
    w = widget(page)
    ready(page)
    send = w.get_by_role("button", name="Отправить оценку")
    # Styled: the widget's own colours, sizes and row of score buttons.
    assert send.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(11, 87, 208)"
    assert send.evaluate("el => getComputedStyle(el).minHeight") == "44px"
    legend = w.get_by_text("Простота и понятность получения услуги")
    assert legend.evaluate("el => getComputedStyle(el).fontWeight") == "700"
    row = w.locator('input[name="simplicity"]').first.locator("xpath=../..")
    assert row.evaluate("el => getComputedStyle(el).display") == "flex"
    assert w.evaluate("el => el.shadowRoot.adoptedStyleSheets.length") == 1
    assert w.evaluate("el => el.shadowRoot.querySelectorAll('style').length") == 0
    before = len(ratings_for(live_db, world.school.id))
    for name, score in (("simplicity", 5), ("information", 4), ("timeliness", 5), ("politeness", 4)):
        w.locator(f'input[name="{name}"][value="{score}"]').locator("xpath=..").click()
    send.click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    assert len(ratings_for(live_db, world.school.id)) == before + 1
    assert refused == [], "\n".join(refused)


def test_the_floating_button_is_placed_under_a_strict_host_policy(page, host_site, live_server, world):
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(embed_page(host_site, live_server, world.clinic_women.id, attrs='data-mode="button"',
                         head=strict_policy(live_server)))
    opener = widget(page).locator("button.f")
    opener.wait_for()
    assert opener.evaluate("el => getComputedStyle(el).position") == "fixed"
    assert opener.evaluate("el => getComputedStyle(el).bottom") == "16px"
    opener.click()
    ready(page)
    assert refused == [], "\n".join(refused)


def test_the_widget_does_not_touch_the_host_page(page, host_site, live_server, world):
    page.goto(embed_page(host_site, live_server, world.school.id,
                         body_before='<style>p { color: rgb(1, 2, 3); }</style><p id="before">host text</p>'))
    ready(page)
    assert page.locator("#before").evaluate("el => getComputedStyle(el).color") == "rgb(1, 2, 3)"
    assert page.evaluate("document.cookie") == ""
    host_ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert sorted(host_ids) == ["after", "before"]
    # the widget stands right after its script tag
    assert page.evaluate("document.querySelector('script[data-object]').nextElementSibling.hasAttribute('data-ocenka')")


def test_two_widgets_on_one_page(page, host_site, live_server, world, live_db):
    src = f"{live_server}/widget.js"
    html = (f'<!doctype html><html lang="ru"><body><h1>Two</h1>'
            f'<script async src="{src}" data-object="{world.school.id}"></script>'
            f'<script async src="{src}" data-object="{world.clinic_kids.id}" data-lang="en"></script></body></html>')
    page.goto(host_site.put("two.html", html))
    first, second = widget(page, 0), widget(page, 1)
    ready(page, 0)
    ready(page, 1)
    assert first.get_by_text(world.school.name).is_visible()
    assert second.get_by_text(world.clinic_kids.name).is_visible()
    assert second.get_by_text("Rate the quality of the service").is_visible()
    fill_all(first, (5, 5, 5, 5))
    fill_all(second, (2, 3, 4, 5))
    assert first.locator('input[name="simplicity"][value="5"]').is_checked()  # groups do not share names across widgets
    before_school = len(ratings_for(live_db, world.school.id))
    second.get_by_role("button", name="Send rating").click()
    second.get_by_role("status").filter(has_text="Thank you").wait_for()
    assert ratings_for(live_db, world.clinic_kids.id)[-1].scores["simplicity"] == 2
    # The receipt of the rating's ledger entry, to check on /verify, and the
    # organization's page; no button inviting another rating.
    receipt = second.get_by_text("Receipt: entry no.")
    receipt.wait_for()
    check = second.get_by_role("link", name="Check it")
    href = check.get_attribute("href")
    assert href.startswith(f"{live_server}/verify?seq=") and "&hash=" in href
    assert second.get_by_role("link", name="The organization's page").get_attribute("href") == \
        f"{live_server}/objects/{world.clinic_kids.id}?lang=en"
    assert second.get_by_role("button", name="Rate again").count() == 0
    verify = page.context.new_page()
    verify.goto(href)
    assert "is in the ledger" in verify.content() and "counted in the ranking" in verify.content()
    verify.close()
    assert len(ratings_for(live_db, world.school.id)) == before_school
    assert first.locator("form").is_visible()


def test_button_mode_opens_a_dialog(page, host_site, live_server, world, live_db):
    page.goto(embed_page(host_site, live_server, world.clinic_women.id, attrs='data-mode="button"'))
    w = widget(page)
    opener = w.get_by_role("button", name="Оценить услугу")
    opener.wait_for()
    dialog = w.get_by_role("dialog")
    assert not dialog.is_visible()
    opener.click()
    dialog.wait_for()
    ready(page)
    fill_all(w, (3, 3, 4, 4))
    dialog.get_by_role("button", name="Отправить оценку").click()
    dialog.get_by_role("status").filter(has_text="Спасибо").wait_for()
    assert ratings_for(live_db, world.clinic_women.id)[-1].scores == {
        "simplicity": 3, "information": 3, "timeliness": 4, "politeness": 4}
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert opener.is_visible()


def test_two_floating_buttons_do_not_cover_each_other(page, host_site, live_server, world):
    src = f"{live_server}/widget.js"
    html = (f'<!doctype html><html lang="ru"><body><h1>Two buttons</h1>'
            f'<script async src="{src}" data-object="{world.school.id}" data-mode="button"></script>'
            f'<script async src="{src}" data-object="{world.zags.id}" data-mode="button"></script></body></html>')
    page.goto(host_site.put("two-buttons.html", html))
    openers = [widget(page, i).get_by_role("button", name="Оценить услугу") for i in (0, 1)]
    for opener in openers:
        opener.wait_for()
    first, second = (opener.bounding_box() for opener in openers)
    assert first["y"] >= second["y"] + second["height"] or second["y"] >= first["y"] + first["height"]
    openers[1].click()
    widget(page, 1).get_by_role("dialog").wait_for()
    assert widget(page, 1).get_by_text(world.zags.name).is_visible()


@pytest.mark.parametrize("html_lang, attrs, expected", [
    ("ru", 'data-lang="en"', "Rate the quality of the service"),
    ("be", "", "Ацаніце якасць паслугі"),
    ("tt", "", "Хезмәт сыйфатын бәяләгез"),
    ("", "", "Оцените качество услуги"),
])
def test_language_from_data_lang_then_page_then_browser(page, host_site, live_server, world, html_lang, attrs, expected):
    page.goto(embed_page(host_site, live_server, world.school.id, attrs=attrs, lang=html_lang))
    w = widget(page)
    ready(page)
    assert w.get_by_role("heading").first.inner_text() == expected


def test_unknown_object_is_said_in_words(page, host_site, live_server):
    page.goto(embed_page(host_site, live_server, 999_999))
    widget(page).get_by_role("status").filter(has_text="Организация не найдена.").wait_for()


def test_invalid_rating_is_said_in_words(page, host_site, live_server, world, live_db):
    # The school gives no service 99999: the server answers 400.
    page.goto(embed_page(host_site, live_server, world.school.id, attrs='data-service="99999"'))
    w = widget(page)
    ready(page)
    before = len(ratings_for(live_db, world.school.id))
    fill_all(w)
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Сервер не принял ответы").wait_for()
    assert len(ratings_for(live_db, world.school.id)) == before


def test_missing_scores_are_said_and_focus_goes_to_them(page, host_site, live_server, world):
    page.goto(embed_page(host_site, live_server, world.school.id))
    w = widget(page)
    ready(page)
    choose(w, "simplicity", 5)
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Оцените все четыре критерия.").wait_for()
    assert w.locator('input[name="information"][value="1"]').evaluate("el => el.getRootNode().activeElement === el")


def test_over_the_limit_is_said_in_words(page, host_site, live_server, world, live_db):
    page.goto(embed_page(host_site, live_server, world.clinic.id))
    w = widget(page)
    for _ in range(3):  # one device may rate one object three times a day
        ready(page)
        fill_all(w)
        w.get_by_role("button", name="Отправить оценку").click()
        w.get_by_role("status").filter(has_text="Спасибо").wait_for()
        page.reload()  # no "rate again" button: a visitor who means it comes back
    ready(page)
    fill_all(w)
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Вы уже оценивали эту организацию").wait_for()


def test_a_failed_send_is_retried_with_the_same_client_token(page, host_site, live_server, world, live_db):
    bodies = []

    def fail_first(route):
        bodies.append(json.loads(route.request.post_data))
        if len(bodies) == 1:
            route.fulfill(status=503, body="{}", headers={"Access-Control-Allow-Origin": "*"})
        else:
            route.fallback()

    page.route(f"{live_server}/api/v1/ratings", fail_first)
    page.goto(embed_page(host_site, live_server, world.zags.id))
    w = widget(page)
    ready(page)
    fill_all(w, (2, 2, 2, 2))
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Не удалось отправить оценку").wait_for()
    w.get_by_role("button", name="Повторить").click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    assert len(bodies) == 2
    assert bodies[0]["client_token"] == bodies[1]["client_token"]
    assert len(bodies[0]["device_token"]) == 32
    assert Rating.get(Rating.client_token == bodies[0]["client_token"]).channel == "widget"


def test_offline_rating_is_queued_and_sent_when_back_online(page, context, host_site, live_server, world, live_db):
    page.goto(embed_page(host_site, live_server, world.zags.id))
    w = widget(page)
    ready(page)
    fill_all(w, (4, 3, 2, 1))
    context.set_offline(True)
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Нет связи с интернетом").wait_for()
    queued = page.evaluate("JSON.parse(localStorage.getItem('ocenka:queue'))")
    assert len(queued) == 1
    token = queued[0]["p"]["client_token"]
    assert Rating.get_or_none(Rating.client_token == token) is None
    context.set_offline(False)
    w.get_by_role("status").filter(has_text="Ваша сохранённая оценка отправлена").wait_for()
    assert Rating.get(Rating.client_token == token).scores == {
        "simplicity": 4, "information": 3, "timeliness": 2, "politeness": 1}
    assert page.evaluate("JSON.parse(localStorage.getItem('ocenka:queue'))") == []


def test_a_queued_rating_is_sent_on_the_next_visit(page, context, host_site, live_server, world, live_db):
    url = embed_page(host_site, live_server, world.zags.id)
    page.goto(url)
    w = widget(page)
    ready(page)
    fill_all(w, (1, 1, 1, 1))
    context.set_offline(True)
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Нет связи").wait_for()
    token = page.evaluate("JSON.parse(localStorage.getItem('ocenka:queue'))[0].p.client_token")
    page.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto(url)
    again.wait_for_function("JSON.parse(localStorage.getItem('ocenka:queue') || '[]').length === 0")
    assert Rating.get(Rating.client_token == token).channel == "widget"


def test_no_cookies_and_a_device_token_in_local_storage(page, context, host_site, live_server, world):
    page.goto(embed_page(host_site, live_server, world.school.id))
    ready(page)
    assert context.cookies() == []
    assert len(page.evaluate("JSON.parse(localStorage.getItem('ocenka:device'))")) == 32


@pytest.mark.parametrize("mode", ["inline", "button"])
def test_axe_finds_no_serious_violations(page, host_site, live_server, world, mode):
    page.goto(embed_page(host_site, live_server, world.clinic.id, attrs=f'data-mode="{mode}"'))
    w = widget(page)
    if mode == "button":
        w.get_by_role("button", name="Оценить услугу").click()
    ready(page)
    choose(w, "simplicity", 1)  # show the reasons too
    violations = axe_violations(page, "[data-ocenka]")
    assert not violations, describe(violations)


@pytest.mark.parametrize("width", [320, 640])
def test_fits_a_phone_and_200_percent_zoom(browser, host_site, live_server, world, width):
    # 200 % zoom of a 1280 px window lays out like a 640 px one.
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 700})
    try:
        page = context.new_page()
        page.goto(embed_page(host_site, live_server, world.school.id))
        ready(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        button = widget(page).get_by_role("button", name="Отправить оценку")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= width
    finally:
        context.close()


def test_works_under_a_strict_content_security_policy(page, host_site, live_server, world, live_db):
    csp = (f"default-src 'none'; script-src {live_server}; connect-src {live_server}; "
           "style-src 'unsafe-inline'; base-uri 'none'")
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(embed_page(host_site, live_server, world.zags.id,
                         head=f'<meta http-equiv="Content-Security-Policy" content="{csp}">'))
    w = widget(page)
    ready(page)
    fill_all(w, (5, 5, 4, 4))
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    assert violations == []


def test_extra_criteria_and_service_reach_the_rating(page, host_site, live_server, world, live_db):
    from service import structure
    from service.models import ExtraCriterion, RatingExtra, Service
    service = Service.select().order_by(Service.id).first()
    structure.offer_services(world.school, [service])
    ExtraCriterion.get_or_create(owner=world.school.id, code="accessibility",
                                 defaults={"state": ExtraCriterion.APPROVED,
                                           "labels": {"ru": "Доступность здания", "en": "Building access"}})
    page.goto(embed_page(host_site, live_server, world.school.id, attrs=f'data-service="{service.id}"'))
    w = widget(page)
    ready(page)
    extra = w.get_by_role("radiogroup", name="Доступность здания")
    assert extra.get_by_role("radio").count() == 5
    fill_all(w)
    extra.get_by_role("radio", name="2").check()
    w.get_by_role("button", name="Отправить оценку").click()
    w.get_by_role("status").filter(has_text="Спасибо").wait_for()
    rating = ratings_for(live_db, world.school.id)[-1]
    assert rating.service_id == service.id
    assert [(e.criterion.code, e.value) for e in RatingExtra.select().where(RatingExtra.rating == rating.id)] == [
        ("accessibility", 2)]


def test_button_mode_screenshot_for_the_docs(browser, host_site, live_server, world):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1024, "height": 700})
    try:
        page = context.new_page()
        page.goto(embed_page(host_site, live_server, world.clinic.id, attrs='data-mode="button"'))
        w = widget(page)
        w.get_by_role("button", name="Оценить услугу").click()
        ready(page)
        page.screenshot(path=str(DOCS / "widget-button-dialog.png"))
        box = w.get_by_role("dialog").bounding_box()
        assert box["width"] > 600 and box["x"] >= 0 and box["x"] + box["width"] <= 1024
    finally:
        context.close()
