#!/usr/bin/env python3
"""Adds texts to the four catalogs and the template, or changes them:

    .venv/bin/python scripts/add_text.py KEY "Русский" "Беларуская" "English" "Татарча" [--where service/x.py]

A text with plural forms gives its forms separated by " | " in each
language ("{n} оценка | {n} оценки | {n} оценок"), as many as the
language's Plural-Forms has. Then run scripts/setup to compile them."""
import argparse
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent / "service" / "translations"
LANGS = ("ru", "be", "en", "tt")


def _write(path, catalog):
    with open(path, "wb") as out:
        write_po(out, catalog, width=0, sort_output=False)
    # Babel fills in a placeholder address when none is given.
    text = path.read_text()
    path.write_text(text.replace('"Report-Msgid-Bugs-To: EMAIL@ADDRESS\\n"\n', ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("key")
    for lang in LANGS:
        parser.add_argument(lang)
    parser.add_argument("--where", default="", help="the module or template that uses it")
    args = parser.parse_args()
    texts = {lang: [part.strip() for part in getattr(args, lang).split(" | ")] for lang in LANGS}
    plural = len(texts["ru"]) > 1
    msgid = (args.key, args.key) if plural else args.key
    source = " / ".join(dict.fromkeys(texts["ru"])) if plural else texts["ru"][0]
    locations = [(args.where, None)] if args.where else []
    with open(ROOT / "messages.pot", "rb") as handle:
        template = read_po(handle)
    if args.key in template:
        del template[args.key]
    template.add(msgid, auto_comments=[source], locations=locations)
    _write(ROOT / "messages.pot", template)
    for lang in LANGS:
        path = ROOT / lang / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as handle:
            catalog = read_po(handle, locale=lang)
        forms = texts[lang]
        if plural:
            forms = (forms + forms[-1:] * catalog.num_plurals)[:catalog.num_plurals]
            string = tuple(forms)
        else:
            string = forms[0]
        if args.key in catalog:
            del catalog[args.key]
        catalog.add(msgid, string, auto_comments=[] if lang == "ru" else [source], locations=locations)
        _write(path, catalog)


if __name__ == "__main__":
    main()
