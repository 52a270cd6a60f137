"""The rating on a phone (390x844, an ordinary phone's CSS viewport): from
the first criterion's heading to the send button in one screen, in every
language, for the widget and for /r/<id>."""
import os

import pytest

from tests.browser.conftest import SCREENSHOTS, axe_violations, describe
from tests.browser.test_widget import embed_page, ratings_for, ready, widget

PHONE = {"width": 390, "height": 844}
# A phone's screen less the browser's own bars leaves about this much.
ONE_SCREEN = 800
LANGUAGES = ("ru", "be", "en", "tt")
CRITERIA = ("simplicity", "information", "timeliness", "politeness")
# Before and after pictures for docs/widget.md are named by this.
STAGE = os.environ.get("OCENKA_PHONE_STAGE", "after")


def span(root, send_name):
    """CSS pixels from the top of the first criterion's heading (what its
    radio group is labelled by) to the bottom of the send button."""
    top = root.locator("[role=radiogroup]").first.evaluate(
        "g => g.getRootNode().getElementById(g.getAttribute('aria-labelledby')).getBoundingClientRect().top")
    bottom = root.get_by_role("button", name=send_name).evaluate("b => b.getBoundingClientRect().bottom")
    return bottom - top


def answer(root, scores=(4, 5, 3, 5)):
    for name, score in zip(CRITERIA, scores):
        if score is not None:
            root.locator(f'input[name="{name}"][value="{score}"]').check()


SEND = {"ru": "Отправить оценку", "be": "Адправіць ацэнку", "en": "Send rating", "tt": "Бәяне җибәрү"}


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="ru-RU", viewport=PHONE, device_scale_factor=1, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_widget_fits_one_phone_screen(phone, host_site, live_server, world, lang):
    phone.goto(embed_page(host_site, live_server, world.clinic.id, attrs=f'data-lang="{lang}"', lang=lang))
    w = widget(phone)
    ready(phone)
    # Answered, every chosen level's description shows under its row: the
    # longest the form gets without a minimum score's reasons.
    answer(w)
    if lang == "ru":
        phone.screenshot(path=str(SCREENSHOTS / f"phone-widget-{STAGE}.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    height = span(w, SEND[lang])
    print(f"widget {lang}: {height:.0f} px")
    assert height <= ONE_SCREEN


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_rate_page_fits_one_phone_screen(phone, live_server, world, lang):
    phone.goto(f"{live_server}/r/{world.clinic.id}?src=qr&lang={lang}")
    answer(phone)
    if lang == "ru":
        phone.screenshot(path=str(SCREENSHOTS / f"phone-rate-page-{STAGE}.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    height = span(phone, SEND[lang])
    print(f"rate page {lang}: {height:.0f} px")
    assert height <= ONE_SCREEN


def test_the_rate_page_header_is_one_line(phone, live_server, world):
    for lang in LANGUAGES:
        phone.goto(f"{live_server}/r/{world.clinic.id}?lang={lang}")
        bar = phone.locator(".site-header .bar")
        content = bar.evaluate("""b => { const s = getComputedStyle(b);
            return b.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom); }""")
        line = phone.locator("body").evaluate("b => parseFloat(getComputedStyle(b).lineHeight)")
        assert content < 1.5 * line, f"{lang}: the header is {content} px high, more than one line"
        # the languages are still one tap away, each in its own language
        phone.locator(".language-menu summary").click()
        english = phone.get_by_role("link", name="English")
        assert english.is_visible() and english.get_attribute("hreflang") == "en"


def test_the_rate_page_by_keyboard_on_a_phone(phone, live_server, world, live_db):
    phone.goto(f"{live_server}/r/{world.zags.id}?src=qr")
    before = len(ratings_for(live_db, world.zags.id))
    keys = phone.keyboard
    first = phone.locator('input[name="simplicity"][value="1"]')
    first.focus()
    for _ in range(3):
        keys.press("ArrowRight")  # arrows move within the criterion: 1 → 4
    assert phone.locator('input[name="simplicity"][value="4"]').is_checked()
    assert phone.get_by_text("Просто, остались мелкие вопросы").is_visible()
    keys.press("Tab")  # Tab moves to the next criterion
    assert phone.evaluate("document.activeElement.name") == "information"
    keys.press("ArrowLeft")  # from the first score, the row wraps round to the last: 5
    keys.press("Tab")
    keys.press("ArrowRight")  # timeliness: 2
    keys.press("Tab")
    keys.press("ArrowDown")
    keys.press("ArrowUp")  # politeness: 1 → 2 → 1, its reasons appear under it
    assert phone.get_by_role("group", name="Что пошло не так?").last.is_visible()
    keys.press("Tab")  # the first reason
    keys.press("Space")
    for _ in range(4):
        keys.press("Tab")  # past the other three reasons to "add a comment"
    assert phone.evaluate("document.activeElement.textContent") == "Добавить комментарий"
    keys.press("Enter")
    keys.press("Tab")
    keys.type("С телефона")
    phone.get_by_role("button", name="Отправить оценку").focus()
    keys.press("Enter")
    phone.get_by_role("heading", name="Спасибо! Ваша оценка принята.").wait_for()
    rows = ratings_for(live_db, world.zags.id)
    assert len(rows) == before + 1
    assert rows[-1].scores == {"simplicity": 4, "information": 5, "timeliness": 2, "politeness": 1}
    assert rows[-1].reasons == ["rude"]
    assert rows[-1].comment == "С телефона"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_nothing_serious_on_a_phone(phone, host_site, live_server, world, lang):
    phone.goto(f"{live_server}/r/{world.clinic.id}?lang={lang}")
    answer(phone, (1, 4, 5, 3))  # a minimum score: its reasons show too
    for summary in phone.locator(".rate-form summary").all():
        summary.click()
    violations = axe_violations(phone)
    assert not violations, describe(violations)
    phone.goto(embed_page(host_site, live_server, world.clinic.id, attrs=f'data-lang="{lang}"', lang=lang))
    w = widget(phone)
    ready(phone)
    answer(w, (1, 4, 5, 3))
    w.locator("summary").click()
    violations = axe_violations(phone, "[data-ocenka]")
    assert not violations, describe(violations)


def test_after_a_refused_submit_the_folded_parts_that_hold_something_are_open(browser, live_server, world, live_db):
    context = browser.new_context(locale="ru-RU", viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/r/{world.clinic.id}")
        more, comment = page.locator("details.rate-more"), page.locator("details#f-comment")
        assert more.get_attribute("open") is None and comment.get_attribute("open") is None
        page.get_by_text("Указать подразделение").click()
        page.get_by_label("Подразделение").select_option(str(world.clinic_kids.id))
        page.get_by_text("Добавить комментарий").click()
        page.get_by_label("Комментарий").fill("Без одной оценки")
        answer(page, (5, 5, 5, None))
        page.get_by_role("button", name="Отправить оценку").click()
        page.get_by_role("alert").wait_for()
        assert more.get_attribute("open") == "" and comment.get_attribute("open") == ""
        assert page.get_by_label("Подразделение").input_value() == str(world.clinic_kids.id)
        assert page.get_by_label("Комментарий").input_value() == "Без одной оценки"
    finally:
        context.close()


def test_the_thanks_page_says_thanks_then_the_receipt_then_the_organization(phone, live_server, world, live_db):
    phone.goto(f"{live_server}/r/{world.school.id}?lang=en")
    before = len(ratings_for(live_db, world.school.id))
    answer(phone, (5, 4, 4, 5))
    phone.get_by_role("button", name="Send rating").click()
    heading = phone.get_by_role("heading", level=1)
    heading.filter(has_text="Thank you! Your rating has been received.").wait_for()
    receipt = phone.get_by_role("link", name="Check it")
    page_link = phone.get_by_role("link", name="The organization's page")
    tops = [el.bounding_box()["y"] for el in (heading, receipt, page_link)]
    assert tops == sorted(tops), "thanks first, then the receipt, then the organization's page"
    assert page_link.get_attribute("href") == f"/objects/{world.school.id}?lang=en"
    # no "rate again": it invites repeats
    assert phone.get_by_role("link", name="Back to the questionnaire").count() == 0
    assert phone.get_by_role("main").get_by_role("button").count() == 0
    assert len(ratings_for(live_db, world.school.id)) == before + 1
