"""Languages of the pages: Russian by default, Belarusian, English, Tatar.

The texts live in gettext catalogs, one per language, under
``service/translations/<lang>/LC_MESSAGES/messages.po``, where translators
work on them with their own tools (Poedit, Weblate, Lokalize). A message's
id is a key that says where it is used (``object.trend.ratings``); the
Russian catalog holds the source texts, and ``messages.pot`` lists every
key with its Russian text as a comment for translators. A message with
plural forms is an ``ngettext`` entry: the catalog's Plural-Forms header
picks the form for the number ``n`` passed to it (1 оценка, 2 оценки,
5 оценок). ``scripts/setup`` compiles the catalogs into ``.mo`` files;
a catalog whose ``.mo`` is missing or older than its ``.po`` is compiled
in memory at start instead. Flask-Babel selects the request's language
for its own helpers (``_``, ``ngettext`` in templates) by the same rule as
``current_language``. Templates call ``t("key", n=…)``.

A missing translation falls back to Russian, and a missing key shows
itself, so that it is seen and fixed rather than silently blank.
"""
import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import request
from flask_babel import Babel

from service.models import LANGUAGES
from service.questionnaire import pick_language

LANGUAGE_NAMES = {"ru": "Русский", "be": "Беларуская", "en": "English", "tt": "Татарча"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
SOURCE_LANGUAGE = "ru"
_catalogs = {}
_plural_keys = {}


def catalog_path(lang, suffix=".po"):
    return TRANSLATIONS / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def _load(lang):
    """The language's compiled catalog; compiled in memory from the ``.po``
    when its ``.mo`` is missing or older (a checkout not set up again)."""
    po, mo = catalog_path(lang), catalog_path(lang, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return Translations(compiled, DOMAIN)
    if not po.exists():
        return Translations()
    logging.getLogger(__name__).info("%s is not compiled (scripts/setup compiles it); compiling in memory", po)
    with po.open("rb") as source:
        parsed = read_po(source, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    return Translations(buffer, DOMAIN)


def catalog(lang):
    """The language's messages, falling back to Russian's."""
    found = _catalogs.get(lang)
    if found is None:
        found = _load(lang)
        if lang != SOURCE_LANGUAGE:
            found.add_fallback(catalog(SOURCE_LANGUAGE))
        # Entries with plural forms are keyed (msgid, form) in a compiled
        # catalog; a key with forms is translated with ngettext.
        _plural_keys[lang] = {key[0] for key in found._catalog if isinstance(key, tuple)}
        _catalogs[lang] = found
    return found


def reload_catalogs():
    """Forgets the loaded catalogs (after a catalog changed on disk)."""
    _catalogs.clear()
    _plural_keys.clear()


def current_language():
    """``?lang=``, else the ``lang`` cookie, else the browser's languages.
    Kept on the request, not in ``g``: an app context may outlive many
    requests (a CLI command, a test)."""
    lang = request.environ.get("ocenka.lang")
    if lang is None:
        lang = request.environ["ocenka.lang"] = pick_language(
            request.args.get("lang"), request.cookies.get("lang"), request.headers.get("Accept-Language"))
    return lang


def _plural(key, lang):
    return key in _plural_keys.get(lang, ()) or (
        lang != SOURCE_LANGUAGE and key in _plural_keys.get(SOURCE_LANGUAGE, ()))


def translate(key, lang=None, **values):
    """The message ``key`` in ``lang`` (the request's by default), its
    ``{placeholders}`` filled from ``values``; the form of a message with
    plural forms follows ``values["n"]``."""
    lang = lang or current_language()
    messages = catalog(lang)
    if _plural(key, lang):
        if "n" not in values:
            raise ValueError(f"message {key!r} has plural forms: pass the number as n=")
        text = messages.ngettext(key, key, int(values["n"]))
    else:
        text = messages.gettext(key)
    return text.format(**values) if values else text


def _flask_babel_locale():
    return current_language() if request else SOURCE_LANGUAGE


def init_app(app):
    Babel(app, locale_selector=_flask_babel_locale, default_translation_directories=str(TRANSLATIONS),
          default_domain=DOMAIN)
    app.jinja_env.globals.update(t=translate, current_language=current_language,
                                 LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES)
