"""Texts in four languages: plural forms follow the number."""
import pytest

from service import i18n
from service.i18n import plural_form, translate


@pytest.mark.parametrize("n, form", [(1, 0), (21, 0), (101, 0), (2, 1), (4, 1), (22, 1), (34, 1), (5, 2),
                                     (11, 2), (12, 2), (14, 2), (111, 2), (0, 2), (24, 1), (25, 2)])
def test_russian_and_belarusian_forms(n, form):
    assert plural_form(n, "ru") == plural_form(n, "be") == form


def test_english_and_tatar_forms():
    assert [plural_form(n, "en") for n in (0, 1, 2, 21)] == [1, 0, 1, 1]
    assert {plural_form(n, "tt") for n in (1, 2, 5, 21)} == {0}


@pytest.fixture
def texts():
    i18n.register({"ru": {"test.plural": "За {months} {months:месяц|месяца|месяцев} — {n} {n:оценка|оценки|оценок}, "
                                          "средняя {mean:.1f}"},
                   "en": {"test.plural": "{n} {n:rating|ratings} over {months} {months:month|months}"},
                   "tt": {"test.plural": "{months} ай эчендә {n} бәя"}})


@pytest.mark.parametrize("months, n, text", [
    (24, 1, "За 24 месяца — 1 оценка, средняя 4.5"),
    (1, 21, "За 1 месяц — 21 оценка, средняя 4.5"),
    (12, 3, "За 12 месяцев — 3 оценки, средняя 4.5"),
    (5, 111, "За 5 месяцев — 111 оценок, средняя 4.5"),
])
def test_a_russian_sentence_agrees_with_its_numbers(texts, months, n, text):
    assert translate("test.plural", "ru", months=months, n=n, mean=4.5) == text


def test_other_languages_use_their_own_forms(texts):
    assert translate("test.plural", "en", months=1, n=2) == "2 ratings over 1 month"
    assert translate("test.plural", "tt", months=24, n=1) == "24 ай эчендә 1 бәя"


def test_the_object_page_trend_sentence_is_grammatical(client, world):
    from tests.factories import rate
    rate(client, world.school.id)
    body = client.get(f"/objects/{world.school.id}?lang=ru").get_data(as_text=True)
    assert "За 24 месяца — 1 оценка" in body
    assert "месяцев 1 оценок" not in body
