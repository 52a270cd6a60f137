"""Serves the embeddable widget, ``/widget.js``: one static file that
organizations paste into their sites with a single script tag.

It is served without the database (so it works while that is down), from
memory, compressed once at start with brotli and gzip at their highest
levels: every visitor of every embedding site loads it, so no request
spends time compressing it, and it is as small as it gets."""
import gzip
import hashlib
from pathlib import Path

import brotli
from flask import Blueprint, Response, request

from service import i18n
from service.compression import etag_matches
from service.db import without_database

bp = Blueprint("embed", __name__)

WIDGET_PATH = Path(__file__).resolve().parents[1] / "widget" / "widget.js"


def compact(source):
    """The source without indentation, blank lines and whole-line ``//``
    comments: a tenth fewer gzipped bytes with no build step. Safe because
    the widget uses no template literals, so no string spans lines."""
    if "`" in source:
        raise ValueError("widget.js must not use template literals (compact() would change them)")
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


_WIDGET = compact(WIDGET_PATH.read_text(encoding="utf-8")).encode("utf-8")
# The file changes only with a deploy, so hashing it once at start is enough.
_ETAG = hashlib.sha256(_WIDGET).hexdigest()[:32]
# Each representation has its own strong ETag, spelled as Flask-Compress
# spells those of the other answers.
_BODIES = {
    None: (_WIDGET, _ETAG),
    "br": (brotli.compress(_WIDGET, quality=11), f"{_ETAG}:br"),
    "gzip": (gzip.compress(_WIDGET, 9, mtime=0), f"{_ETAG}:gzip"),
}

# An hour: the embed line cannot carry a version (it is pasted once and
# printed in instructions), so a fix must reach every embedding site without
# their help; within an hour is soon enough, and revalidation with the ETag
# after that costs a 304 and no body. stale-while-revalidate lets a visitor
# see the widget at once while the check runs.
CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"


@bp.get("/widget.js")
@without_database
def widget():
    encoding = request.accept_encodings.best_match(("br", "gzip"))
    body, etag = _BODIES[encoding]
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        # Other sites load this file; without this a host page sending
        # Cross-Origin-Embedder-Policy could not.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(_ETAG):
        return Response(status=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, headers=headers, content_type="application/javascript; charset=utf-8")


# The widget's words once its questionnaire is there come with it, in the
# form's answer ("words"), from the catalogue the rating page uses too;
# widget.js keeps only what it says before (its title, the floating button,
# a questionnaire that cannot be had). Each name is the widget's, each value
# a key of the catalogs (service/translations, docs/translations.md).
WIDGET_WORDS = {
    "addComment": "rate.comment.add", "send": "rate.send", "sending": "widget.sending",
    "thanks": "rate.thanks.title", "page": "rate.page", "reasons": "rate.reasons", "extra": "rate.extra",
    "missing": "widget.missing", "offline": "widget.offline", "limitMin": "widget.limit.minutes",
    "limit": "widget.limit", "invalid": "widget.invalid", "failed": "widget.failed", "count": "widget.count",
    "queuedSent": "widget.queued_sent", "receipt": "rate.receipt", "check": "rate.receipt.check",
}


def widget_words(lang):
    return {name: i18n.translate(key, lang) for name, key in WIDGET_WORDS.items()}
