"""Texts in four languages, from gettext catalogs: plural forms follow the
number through ngettext and each catalog's Plural-Forms; every catalog
has every message, with the placeholders of the Russian source; no module
keeps texts of its own any more."""
import re
import string
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from service import i18n
from service.i18n import translate

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("ru", "be", "en", "tt")


def read(lang):
    with i18n.catalog_path(lang).open("rb") as source:
        return read_po(source, locale=lang)


@pytest.fixture(scope="module")
def catalogs():
    return {lang: read(lang) for lang in LANGS}


# A period's number is given both ways: Russian and Belarusian write a
# quarter in Roman numerals (II квартал 2026), English and Tatar in Arabic.
SAME = {"roman": "n"}


def placeholders(text):
    return {SAME.get(name, name) for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("n, ru, be", [
    (1, "1 оценка", "1 ацэнка"), (21, "21 оценка", "21 ацэнка"), (101, "101 оценка", "101 ацэнка"),
    (2, "2 оценки", "2 ацэнкі"), (4, "4 оценки", "4 ацэнкі"), (22, "22 оценки", "22 ацэнкі"),
    (34, "34 оценки", "34 ацэнкі"), (5, "5 оценок", "5 ацэнак"), (11, "11 оценок", "11 ацэнак"),
    (12, "12 оценок", "12 ацэнак"), (14, "14 оценок", "14 ацэнак"), (111, "111 оценок", "111 ацэнак"),
    (0, "0 оценок", "0 ацэнак"), (25, "25 оценок", "25 ацэнак"),
])
def test_russian_and_belarusian_forms(n, ru, be):
    assert translate("object.trend.ratings", "ru", n=n) == ru
    assert translate("object.trend.ratings", "be", n=n) == be


def test_english_and_tatar_forms():
    assert [translate("object.trend.ratings", "en", n=n) for n in (0, 1, 2, 21)] == [
        "0 ratings", "1 rating", "2 ratings", "21 ratings"]
    # A Tatar noun after a numeral stays singular.
    assert {translate("object.trend.months", "tt", n=n) for n in (1, 2, 5)} == {"1 ай", "2 ай", "5 ай"}


def test_a_message_with_forms_needs_its_number():
    with pytest.raises(ValueError, match="pass the number as n="):
        translate("object.trend.ratings", "ru")


def test_a_missing_translation_falls_back_to_russian_and_a_missing_key_shows_itself(tmp_path, monkeypatch):
    (tmp_path / "ru" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "en" / "LC_MESSAGES").mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
    (tmp_path / "ru" / "LC_MESSAGES" / "messages.po").write_text(
        header + 'msgid "a.b"\nmsgstr "по-русски"\n\nmsgid "c.d"\nmsgstr "только по-русски"\n')
    (tmp_path / "en" / "LC_MESSAGES" / "messages.po").write_text(
        header + 'msgid "a.b"\nmsgstr "in English"\n\nmsgid "c.d"\nmsgstr ""\n')
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    i18n.reload_catalogs()
    try:
        assert translate("a.b", "en") == "in English"
        assert translate("c.d", "en") == "только по-русски"
        assert translate("e.f", "en") == "e.f"
    finally:
        monkeypatch.undo()
        i18n.reload_catalogs()


def test_every_catalog_has_every_message_with_its_placeholders(catalogs):
    source = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogs["ru"] if m.id}
    assert len(source) > 800
    for lang in LANGS:
        messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogs[lang] if m.id}
        assert set(messages) == set(source), lang
        for key, message in messages.items():
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(texts), f"{lang}: {key} is not translated"
            want = placeholders(source[key].string[0] if isinstance(source[key].string, tuple)
                                else source[key].string)
            for text in texts:
                assert placeholders(text) == want, f"{lang}: {key}: {text!r} should use {sorted(want)}"
            assert isinstance(message.id, tuple) == isinstance(source[key].id, tuple), (lang, key)
            if isinstance(message.id, tuple):
                assert len(texts) == catalogs[lang].num_plurals, (lang, key)


def test_the_template_lists_every_message_with_its_russian_source(catalogs):
    with (i18n.TRANSLATIONS / "messages.pot").open("rb") as source:
        template = {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(source) if m.id}
    for message in catalogs["ru"]:
        if message.id:
            key = message.id if isinstance(message.id, str) else message.id[0]
            # A message with forms is described by each of them.
            russian = (message.string if isinstance(message.string, str)
                       else " / ".join(dict.fromkeys(message.string)))
            # A comment is one line: a source of several lines is split.
            assert " ".join(" ".join(template[key].auto_comments).split()) == " ".join(russian.split()), key


def test_english_is_english(catalogs):
    """An English text in Cyrillic is an untranslated copy (УНП, the
    Belarusian registration number, is a name and stays)."""
    untranslated = []
    for message in catalogs["en"]:
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            cyrillic = re.sub(r"УНП|«[^»]*»|CSV UTF-8|да/нет|ЕРИП", "", text)
            if re.search("[а-яёА-ЯЁ]", cyrillic):
                untranslated.append((message.id, text))
    assert untranslated == []


def test_belarusian_and_tatar_are_not_copies_of_russian(catalogs):
    """Only a few texts are spelled alike (names, "QR-код (PNG)", "CSV",
    "{what}: {period}"): more would mean untranslated copies."""
    russian = {m.id: m.string for m in catalogs["ru"] if m.id}
    for lang in ("be", "tt"):
        same = [m.id for m in catalogs[lang] if m.id and m.string == russian[m.id]]
        assert len(same) < len(russian) // 12, (lang, same)


def test_no_module_keeps_texts_of_its_own():
    found = subprocess.run(["grep", "-rln", r"i18n\.register\|_STRINGS = {", str(ROOT / "service")],
                           capture_output=True, text=True).stdout
    assert found == ""


def test_setup_compiled_every_catalog_as_it_stands(catalogs):
    """scripts/setup (which the test command runs first) compiles each .po
    into the .mo the service reads: the same translated messages, none
    older than its source."""
    from babel.support import Translations
    for lang in LANGS:
        po, mo = i18n.catalog_path(lang), i18n.catalog_path(lang, ".mo")
        assert mo.exists(), f"{mo} is missing: run scripts/setup"
        assert mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is older than its .po: run scripts/setup"
        with mo.open("rb") as compiled:
            keys = {key if isinstance(key, str) else key[0] for key in Translations(compiled)._catalog if key}
        assert keys == {m.id if isinstance(m.id, str) else m.id[0] for m in catalogs[lang] if m.id}, lang


def test_the_object_page_trend_sentence_is_grammatical(client, world):
    from tests.factories import rate
    rate(client, world.school.id)
    body = client.get(f"/objects/{world.school.id}?lang=ru").get_data(as_text=True)
    assert "За 24 месяца — 1 оценка" in body
    assert "месяцев 1 оценок" not in body
    assert "1 rating over 24 months" in client.get(f"/objects/{world.school.id}?lang=en").get_data(as_text=True)
