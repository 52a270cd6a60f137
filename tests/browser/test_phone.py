"""The rating on a phone (390x844, an ordinary phone's CSS viewport): from
the first criterion's heading to the send button in one screen, in every
language, for the widget and for /r/<id>."""
import os

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_widget import embed_page, ready, widget

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
