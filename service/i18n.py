"""Languages of the pages: Russian by default, Belarusian, English, Tatar.

Each part of the service keeps its own strings next to its code and
registers them here; templates call ``t("key")``. A missing translation
falls back to Russian, and a missing key shows itself, so that it is seen
and fixed rather than silently blank.
"""
import string

from flask import request

from service.models import LANGUAGES
from service.questionnaire import pick_language

LANGUAGE_NAMES = {"ru": "Русский", "be": "Беларуская", "en": "English", "tt": "Татарча"}
_strings = {lang: {} for lang in LANGUAGES}


def register(catalog):
    """Adds ``{lang: {key: text}}`` to the catalogue; a key must not change
    meaning between parts, so registering it twice with another Russian
    text is an error."""
    for lang, strings in catalog.items():
        if lang not in _strings:
            raise ValueError(f"unsupported language {lang!r}")
        for key, text in strings.items():
            known = _strings[lang].get(key)
            if known is not None and known != text:
                raise ValueError(f"string {key!r} registered twice with different {lang} texts")
            _strings[lang][key] = text


def current_language():
    """``?lang=``, else the ``lang`` cookie, else the browser's languages.
    Kept on the request, not in ``g``: an app context may outlive many
    requests (a CLI command, a test)."""
    lang = request.environ.get("ocenka.lang")
    if lang is None:
        lang = request.environ["ocenka.lang"] = pick_language(
            request.args.get("lang"), request.cookies.get("lang"), request.headers.get("Accept-Language"))
    return lang


def plural_form(n, lang):
    """Which of a word's forms follows the number ``n`` (CLDR's rules):
    Russian and Belarusian have three (1 оценка, 2 оценки, 5 оценок; 21 is
    like 1, 11–14 like 5), English two, Tatar one (a noun after a numeral
    stays singular)."""
    n = abs(int(n))
    if lang in ("ru", "be"):
        if n % 10 == 1 and n % 100 != 11:
            return 0
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return 1
        return 2
    if lang == "en":
        return 0 if n == 1 else 1
    return 0


class _Formatter(string.Formatter):
    """``str.format`` plus plural forms in the placeholder's format spec:
    ``{n} {n:оценка|оценки|оценок}`` gives "21 оценка", "3 оценки",
    "11 оценок". Translators write the forms their language has, in the
    order plural_form numbers them."""

    def __init__(self, lang):
        self.lang = lang

    def format_field(self, value, format_spec):
        if "|" in format_spec:
            forms = format_spec.split("|")
            return forms[min(plural_form(value, self.lang), len(forms) - 1)]
        return super().format_field(value, format_spec)


def translate(key, lang=None, **values):
    lang = lang or current_language()
    text = _strings.get(lang, {}).get(key) or _strings["ru"].get(key) or key
    return _Formatter(lang).format(text, **values) if values else text


def init_app(app):
    app.jinja_env.globals.update(t=translate, current_language=current_language,
                                 LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES)


register({
    "ru": {"site.name": "Оценка качества услуг", "nav.skip": "К содержанию", "nav.home": "Главная", "nav.objects": "Организации",
           "nav.rankings": "Рейтинг", "nav.language": "Язык", "error.home": "На главную",
           "footer.about": "Оценка качества услуг, оказываемых государственными органами и организациями"},
    "be": {"site.name": "Ацэнка якасці паслуг", "nav.skip": "Да зместу", "nav.home": "Галоўная", "nav.objects": "Арганізацыі",
           "nav.rankings": "Рэйтынг", "nav.language": "Мова", "error.home": "На галоўную",
           "footer.about": "Ацэнка якасці паслуг, якія аказваюць дзяржаўныя органы і арганізацыі"},
    "en": {"site.name": "Service quality ratings", "nav.skip": "Skip to content", "nav.home": "Home", "nav.objects": "Organizations",
           "nav.rankings": "Ranking", "nav.language": "Language", "error.home": "Home page",
           "footer.about": "Ratings of the quality of services given by state bodies and organizations"},
    "tt": {"site.name": "Хезмәтләр сыйфатын бәяләү", "nav.skip": "Эчтәлеккә күчү", "nav.home": "Баш бит", "nav.objects": "Оешмалар",
           "nav.rankings": "Рейтинг", "nav.language": "Тел", "error.home": "Баш биткә",
           "footer.about": "Дәүләт органнары һәм оешмалар күрсәткән хезмәтләрнең сыйфатын бәяләү"},
})
