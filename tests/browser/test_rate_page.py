"""The rating page /r/<id> in a real Chromium, with JavaScript turned off."""

import pytest

from service.models import Rating
from tests.browser.conftest import SCREENSHOTS, axe_violations, describe

DOCS = SCREENSHOTS


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(locale="ru-RU", java_script_enabled=False, viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_rating_with_javascript_disabled(no_js_page, live_server, world, live_db):
    page = no_js_page
    page.goto(f"{live_server}/r/{world.clinic.id}?src=qr")
    assert page.get_by_role("heading", level=1).inner_text() == "Оцените качество услуги"
    assert page.get_by_text(world.clinic.name).first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    place = page.get_by_label("Подразделение")
    assert not place.is_visible(), "the subdivision is folded until asked for"
    page.get_by_text("Указать подразделение").click()
    place.select_option(str(world.clinic_women.id))
    reasons = page.get_by_role("group", name="Что пошло не так?").first
    assert not reasons.is_visible()
    meaning = page.get_by_text("Очень сложно и непонятно")
    assert not meaning.is_visible()
    page.get_by_role("radiogroup", name="Простота и понятность получения услуги").get_by_role("radio", name="1").click()
    assert meaning.is_visible(), "the chosen level's meaning shows under the row without JavaScript"
    assert reasons.is_visible(), "a minimum score shows its reasons without JavaScript"
    reasons.get_by_text("Долгое ожидание в очереди").click()
    page.get_by_role("radiogroup", name="Доступность информации").get_by_role("radio", name="4").click()
    page.get_by_role("radiogroup", name="Соблюдение установленного срока").get_by_role("radio", name="5").click()
    page.get_by_role("radiogroup", name="Вежливость").get_by_role("radio", name="3").click()
    page.get_by_text("Добавить комментарий").click()
    page.get_by_label("Комментарий").fill("Без скриптов")
    page.screenshot(path=str(DOCS / "widget-rate-page-320.png"), full_page=True)
    page.get_by_role("button", name="Отправить оценку").click()
    page.get_by_role("heading", name="Спасибо! Ваша оценка принята.").wait_for()
    rating = Rating.select().where(Rating.object == world.clinic_women.id).order_by(Rating.id.desc()).first()
    assert rating.scores == {"simplicity": 1, "information": 4, "timeliness": 5, "politeness": 3}
    assert rating.reasons == ["queue"]
    assert rating.channel == "qr"
    assert rating.comment == "Без скриптов"


def test_a_missing_score_comes_back_with_the_error_beside_it(no_js_page, live_server, world, live_db):
    page = no_js_page
    page.goto(f"{live_server}/r/{world.clinic_kids.id}?lang=en")
    page.get_by_role("radiogroup", name="Simplicity").get_by_role("radio", name="5").click()
    page.get_by_role("button", name="Send rating").click()
    page.get_by_role("alert").wait_for()
    # three beside the fields and three in the summary at the top, none for the answered one
    assert page.get_by_text("Choose a score from 1 to 5.").count() == 6
    assert page.locator("#e-simplicity").count() == 0
    assert page.locator("#e-politeness").is_visible()
    assert page.get_by_role("radiogroup", name="Simplicity").get_by_role("radio", name="5").is_checked()


@pytest.mark.parametrize("width", [320, 1280])
def test_fits_and_axe_finds_no_serious_violations(browser, live_server, world, width):
    context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/r/{world.clinic.id}?src=banner")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("radiogroup", name="Вежливость").get_by_role("radio", name="1").click()
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()
