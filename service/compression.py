"""Text answers compressed for clients that accept it, through Flask-Compress.

Pages, JSON, CSV, CSS and SVG are compressed per answer (zstd, brotli or
gzip, whichever the client prefers; about a millisecond for a page). The
widget, the one file every embedding site's visitors load, is compressed
once at start at the highest levels by ``embed``; an answer that already
has a Content-Encoding is left alone. PNG and PDF are compressed already.

Flask-Compress appends the encoding to a strong ETag (``"abc:gzip"``), as
each representation needs its own validator; ``etag_matches`` lets the
views that answer If-None-Match themselves recognise such a tag.
"""
from flask import request
from flask_compress import Compress

TEXT_TYPES = [
    "text/html", "text/css", "text/csv", "text/plain", "text/javascript", "application/javascript",
    "application/json", "image/svg+xml",
]
# deflate is left out: clients disagree on what it means (zlib or raw).
ALGORITHMS = ["zstd", "br", "gzip"]


def etag_matches(etag):
    """Whether the request's If-None-Match names ``etag`` in any of its
    encodings (``"etag"``, ``"etag:gzip"``, weak or strong, or ``*``)."""
    if not request.if_none_match:
        return False
    if request.if_none_match.contains_weak(etag) or request.if_none_match.star_tag:
        return True
    return any(tag.partition(":")[0] == etag for tag in request.if_none_match.as_set(include_weak=True))


def _read_static_files_whole(response):
    """Static files are streamed from disk, and Flask-Compress compresses a
    stream through a generator that never closes the file (and without
    gzip). Ours are a few kB of CSS: read whole, they are compressed like
    any other answer and the file is closed with the response."""
    if request.endpoint == "static" and response.status_code == 200 and response.mimetype in TEXT_TYPES:
        response.direct_passthrough = False
        response.make_sequence()
    return response


def init_app(app):
    app.config.setdefault("COMPRESS_MIMETYPES", TEXT_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ALGORITHMS)
    # Nothing else is streamed; see _read_static_files_whole.
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)
    # Registered after Compress, so run before it (Flask runs them last first).
    app.after_request(_read_static_files_whole)
