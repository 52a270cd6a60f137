"""QR codes, printable posters, web banners and live badges, served.

The drawing is done by ``qr/``; this module picks what to draw from the
path's id alone (never a text or URL from the request), caches what it drew
and answers conditional requests.

    GET /qr/<id>.png, /qr/<id>.svg          ?size=64..2048 (512)
    GET /poster/<id>.pdf                    ?format=A4|A5 (A4) &lang=ru|be|en|tt (ru)
    GET /poster/<id>/all.pdf                the organization's poster, then one
                                            per published subdivision
    GET /banner/<id>.png, /banner/<id>.svg  ?size=240x400 (qr.BANNER_SIZES) &lang=
    GET /banner.png, /banner.svg            the portal's general banner
    GET /banner/<id>.html, /banner.html     the HTML that embeds the banner, as
                                            text/plain to copy (not rendered)
    GET /badge/<id>.svg                     ?lang=; the all-time mean and count

Printed and embedded things are not tied to a visitor, so the language is
``?lang=`` or Russian, never the cookie or Accept-Language: one URL, one
body, no ``Vary``.

Every answer carries a strong ETag, a hash of everything that decides the
bytes (what, the id, the names and address printed, size, format, language,
BASE_URL, the generators' version, and for the badge its figures), so a
renamed object or a new rating changes it. Bodies are kept in a bounded
in-process LRU under the same inputs. Last-Modified is when this process
first drew the body; If-None-Match is answered without drawing anything.

``all.pdf`` is different: an organization with 400 subdivisions takes
seconds of CPU to draw (about 40 ms a page). It is drawn once and kept on
disk under the instance folder (``PosterFiles``), shared by every worker,
under the same ETag (so a renamed subdivision, another format or language
is another file); one is drawn at a time on the machine, and it has at most
``MAX_POSTERS`` pages (a bigger organization prints its subdivisions'
posters one by one, from their pages).
"""
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from werkzeug.http import http_date

import qr
from qr.banner import check_banner_size
from qr.codes import DEFAULT_SIZE as QR_DEFAULT_SIZE
from qr.codes import check_size
from qr.poster import check_format
from qr.texts import check_lang
from service import ranking
from service.catalog import published_object
from service.compression import etag_matches
from service.errors import ApiError
from service.models import RatableObject

bp = Blueprint("printing", __name__)

# fpdf2's font subsetting logs some sixty INFO lines per poster; the app
# logs at INFO, and those would drown everything else.
logging.getLogger("fontTools").setLevel(logging.WARNING)

DEFAULT_LANG = "ru"
DEFAULT_FORMAT = "A4"
DEFAULT_BANNER_SIZE = "240x400"

STATIC_CACHE = "public, max-age=86400"
# Short, so a badge on someone's site shows a new rating within minutes;
# after that a revalidation costs a 304.
LIVE_CACHE = "public, max-age=300"

# Pages in one all.pdf: the organization and its published subdivisions.
# Drawn once (about 40 ms a page, 2.5 kB a page), then served from disk.
MAX_POSTERS = 500

CACHE_ITEMS = 512
# An all.pdf of a large organization is a few hundred kB; this bounds the
# worst case per worker whatever the mix.
CACHE_BYTES = 64 * 1024 * 1024


def _generators_version():
    """A hash of qr/'s code and fonts and of the libraries that draw, so a
    deploy that changes any of them changes every ETag."""
    digest = hashlib.sha256()
    root = Path(qr.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ttf"):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for package in ("qrcode", "fpdf2", "Pillow"):
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()[:16]


GENERATORS_VERSION = _generators_version()


# -- the cache ----------------------------------------------------------------

@dataclass(frozen=True)
class Drawn:
    body: bytes
    etag: str
    modified: datetime


class DrawnCache:
    """A thread-safe LRU of drawn bodies, bounded by count and by bytes.

    Two requests for the same missing item may both draw it; that wastes one
    drawing but never blocks a request behind another one's poster.
    """

    def __init__(self, max_items=CACHE_ITEMS, max_bytes=CACHE_BYTES):
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, etag):
        with self._lock:
            drawn = self._items.get(etag)
            if drawn is not None:
                self._items.move_to_end(etag)
                self.hits += 1
            return drawn

    def modified(self, etag):
        drawn = self.get(etag)
        return None if drawn is None else drawn.modified

    def get_or_draw(self, etag, draw):
        drawn = self.get(etag)
        if drawn is not None:
            return drawn
        with self._lock:
            self.misses += 1
        drawn = Drawn(draw(), etag, datetime.now(timezone.utc).replace(microsecond=0))
        if len(drawn.body) > self.max_bytes:
            return drawn
        with self._lock:
            if etag not in self._items:
                self._items[etag] = drawn
                self._bytes += len(drawn.body)
            while len(self._items) > self.max_items or self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old.body)
            return self._items.get(etag, drawn)

    def clear(self):
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self):
        return len(self._items)

    @property
    def size_bytes(self):
        return self._bytes


class PosterFiles:
    """``all.pdf`` bodies kept as files named by their ETag, shared by the
    workers of the machine.

    A file is written whole to a temporary name, synced and renamed, so a
    reader sees a complete PDF or none. Drawing takes a machine-wide lock
    (a flock), so that one set is drawn at a time: a second request for the
    same set waits and then reads the file instead of drawing it again, and
    a few variants at once do not take every core from the pages. The wait
    is bounded (``wait`` seconds, then 503 with Retry-After). The folder is
    kept under ``max_bytes``, least recently served first.
    """

    POLL = 0.05

    def __init__(self, folder, max_bytes=256 * 1024 * 1024, wait=30):
        self.folder = Path(folder)
        self.max_bytes, self.wait = max_bytes, wait
        self.draws = 0

    def _path(self, etag):
        return self.folder / f"{etag}.pdf"

    def get(self, etag):
        path = self._path(etag)
        try:
            body = path.read_bytes()
            stat = path.stat()
        except FileNotFoundError:
            return None
        if not (body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")):
            return None  # not one of ours, or damaged: drawn again
        # The access time orders eviction; the modification time stays the
        # Last-Modified of the body.
        os.utime(path, (time.time(), stat.st_mtime))
        return Drawn(body, etag, datetime.fromtimestamp(int(stat.st_mtime), timezone.utc))

    def modified(self, etag):
        try:
            return datetime.fromtimestamp(int(self._path(etag).stat().st_mtime), timezone.utc)
        except FileNotFoundError:
            return None

    def get_or_draw(self, etag, draw):
        drawn = self.get(etag)
        if drawn is not None:
            return drawn
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._drawing_turn():
            drawn = self.get(etag)  # drawn by whoever held the turn before
            if drawn is None:
                self.draws += 1
                self._write(self._path(etag), draw())
                drawn = self.get(etag)
        self._prune()
        return drawn

    def _drawing_turn(self):
        lock = open(self.folder / ".drawing.lock", "a+b")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return lock  # closing the file releases the lock
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    lock.close()
                    raise ApiError({"_posters": ["other posters are being drawn; try again in a minute"]},
                                   status=503, headers={"Retry-After": "30"}) from None
                time.sleep(self.POLL)

    def _write(self, path, body):
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".drawing-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    def _prune(self):
        files = []
        for path in self.folder.glob("*.pdf"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            files.append((stat.st_atime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size


@bp.record_once
def _install_cache(state):
    app = state.app
    app.extensions["printing_cache"] = DrawnCache()
    app.extensions["poster_files"] = PosterFiles(
        app.config.get("POSTER_CACHE_DIR") or Path(app.instance_path) / "posters")


def cache():
    return current_app.extensions["printing_cache"]


def poster_files():
    return current_app.extensions["poster_files"]


# -- answering ----------------------------------------------------------------

def _etag(inputs):
    """A strong ETag: the hash of every input of the drawing.

    The key of the LRU is the same value, so a cached body can never be
    served for inputs other than its own."""
    text = json.dumps([GENERATORS_VERSION, current_app.config["BASE_URL"], *inputs],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _answer(inputs, draw, mimetype, cache_control, filename=None, store=None):
    store = cache() if store is None else store
    etag = _etag(inputs)
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache_control}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if request.if_none_match:
        if etag_matches(etag):
            modified = store.modified(etag)
            if modified is not None:
                headers["Last-Modified"] = http_date(modified)
            return Response(status=304, headers=headers)
        drawn = store.get_or_draw(etag, draw)
    else:
        drawn = store.get_or_draw(etag, draw)
        since = request.if_modified_since
        # The date is when this process drew these inputs; changed inputs
        # are another entry, drawn later, so an older date never matches.
        if since is not None and drawn.modified <= since:
            headers["Last-Modified"] = http_date(drawn.modified)
            return Response(status=304, headers=headers)
    headers["Last-Modified"] = http_date(drawn.modified)
    return Response(drawn.body, mimetype=mimetype, headers=headers)


@bp.after_request
def _headers(response):
    if response.status_code >= 400:
        # A refusal must not be kept by a CDN or a browser: the object may be
        # published a minute later, and a bad size is the caller's to fix.
        response.headers["Cache-Control"] = "no-store"
        return response
    # Other sites show these on their pages; without CORP a page that sends
    # Cross-Origin-Embedder-Policy could not.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "image/svg+xml":
        # Opened on its own, an SVG is a document of our origin; it needs
        # nothing but its inline styles.
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# -- parameters ---------------------------------------------------------------

def _param(field, check, default, parse=lambda value: value):
    """``request.args[field]`` through qr's own check, or a 400 saying what
    is allowed."""
    raw = request.args.get(field)
    value = default if raw is None else parse(raw)
    try:
        check(value)
    except ValueError as error:
        raise ApiError({field: [str(error)]}) from error
    return value


def _integer(raw):
    # int() would take " 12", "+12" and "1_2"; a size is plain digits.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else raw


def _lang():
    return _param("lang", check_lang, DEFAULT_LANG)


def _banner_size():
    return _param("size", check_banner_size, DEFAULT_BANNER_SIZE)


# -- what is printed about an object -------------------------------------------

def _organization(obj):
    return obj if obj.is_organization else obj.organization


def _address(obj, org):
    """Locality and street address, the object's own or else its
    organization's (as catalog.details picks them)."""
    locality = (obj.locality or org.locality or "").strip()
    address = (obj.address or org.address or "").strip()
    if locality and locality.casefold() not in address.casefold():
        return ", ".join(p for p in (locality, address) if p)
    return address or None


def _poster_item(obj, org):
    return qr.PosterItem(obj.id, obj.name, None if obj.is_organization else org.name, _address(obj, org))


def _item_inputs(item):
    return [item.object_id, item.name, item.organization_name, item.address]


# -- routes -------------------------------------------------------------------

@bp.get("/qr/<int:object_id>.<any(png, svg):kind>")
def qr_code(object_id, kind):
    size = _param("size", check_size, QR_DEFAULT_SIZE, _integer)
    published_object(object_id)
    base_url = current_app.config["BASE_URL"]
    return _answer(["qr", kind, object_id, size],
                   lambda: qr.make_qr(base_url, object_id, kind=kind, size=size),
                   _MIMETYPES[kind], STATIC_CACHE)


@bp.get("/poster/<int:object_id>.pdf")
def poster(object_id):
    format_ = _param("format", check_format, DEFAULT_FORMAT)
    lang = _lang()
    obj = published_object(object_id)
    item = _poster_item(obj, _organization(obj))
    return _poster([item], f"ocenka-{object_id}-{format_}-{lang}.pdf", format_, lang)


@bp.get("/poster/<int:object_id>/all.pdf")
def posters_of_organization(object_id):
    format_ = _param("format", check_format, DEFAULT_FORMAT)
    lang = _lang()
    org = _organization(published_object(object_id))
    # Published is filtered here, not in SQL: with both in the WHERE, SQLite
    # walks the index on `published` (every published object) instead of
    # the one on `organization` (a handful of rows).
    subdivisions = (RatableObject.select().where(RatableObject.organization == org.id)
                    .order_by(RatableObject.name, RatableObject.id))
    items = [_poster_item(org, org)] + [_poster_item(sub, org) for sub in subdivisions if sub.published]
    if len(items) > MAX_POSTERS:
        raise ApiError({"_posters": [f"{len(items)} posters are more than one file may hold ({MAX_POSTERS}); "
                                     "print the subdivisions' posters from their own pages"]})
    return _poster(items, f"ocenka-{org.id}-all-{format_}-{lang}.pdf", format_, lang, store=poster_files())


def _poster(items, filename, format_, lang, store=None):
    base_url = current_app.config["BASE_URL"]
    return _answer(["poster", format_, lang, *[_item_inputs(item) for item in items]],
                   lambda: qr.make_poster(base_url, items, format=format_, lang=lang),
                   "application/pdf", STATIC_CACHE, filename=filename, store=store)


@bp.get("/banner/<int:object_id>.<any(png, svg):kind>")
@bp.get("/banner.<any(png, svg):kind>", defaults={"object_id": None})
def banner(object_id, kind):
    size, lang = _banner_size(), _lang()
    name = None if object_id is None else published_object(object_id).name
    base_url = current_app.config["BASE_URL"]
    return _answer(["banner", kind, object_id, name, size, lang],
                   lambda: qr.make_banner(base_url, object_id, name=name, size=size, lang=lang, kind=kind),
                   _MIMETYPES[kind], STATIC_CACHE)


@bp.get("/banner/<int:object_id>.html")
@bp.get("/banner.html", defaults={"object_id": None})
def banner_snippet(object_id):
    """The embed code as text to copy: rendered as a page it would show the
    banner and hide the code staff came for."""
    size, lang = _banner_size(), _lang()
    if object_id is not None:
        published_object(object_id)
    base_url = current_app.config["BASE_URL"]
    return _answer(["snippet", object_id, size, lang],
                   lambda: (qr.banner_snippet(base_url, object_id, size=size, lang=lang) + "\n").encode(),
                   "text/plain", STATIC_CACHE)


@bp.get("/badge/<int:object_id>.svg")
def badge(object_id):
    lang = _lang()
    obj = published_object(object_id)
    everything = ranking.Period("all")
    # The same n and mean as ranking.object_figures, without its rank: that
    # rebuilds the whole ranking after every new rating (0.8 s at the
    # portal's scale, see docs/benchmarks.md), and badges on busy sites
    # would pay it.
    figures = ranking.figures(ranking.object_sums(obj, everything), everything)
    n, overall = figures["n"], figures["overall"]
    # Rounded here as shown, so the colour matches the printed figure and
    # the ETag changes only when the badge does.
    score = round(overall, 1) if overall is not None and current_app.config["PUBLIC_RESULTS"] else None
    return _answer(["badge", object_id, lang, n, score],
                   lambda: qr.make_badge(score, n, lang=lang),
                   "image/svg+xml", LIVE_CACHE)


_MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}
