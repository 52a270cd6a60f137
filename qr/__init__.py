"""QR codes, printable posters, web banners and live badges for Ocenka.

Plain functions that take data and return bytes (or an HTML string); no
Flask here, `service/` serves them at the URLs of SPEC.md. Nothing renders
an address handed in from outside: every function takes the base URL and
an object id and builds the rating address itself. Invalid arguments raise
ValueError saying what was wrong and what is allowed.

    make_qr(base_url, object_id, kind="png", size=512) -> bytes
    make_poster(base_url, posters, format="A4", lang="ru") -> bytes (PDF)
    make_banner(base_url, object_id=None, name=None, size="240x400", lang="ru", kind="png") -> bytes
    banner_snippet(base_url, object_id=None, size="240x400", lang="ru") -> str
    make_badge(score, n, lang="ru") -> bytes (SVG)
    make_code_sheet(base_url, object_id, name, slips, lang="ru", organization_name=None) -> bytes (PDF)
"""

from .badge import badge_text, make_badge
from .banner import SIZES as BANNER_SIZES
from .banner import banner_snippet, make_banner
from .codes import KINDS, code_url, object_code, parse_object_code, rating_url, short_url
from .codes import MAX_SIZE as QR_MAX_SIZE
from .codes import MIN_SIZE as QR_MIN_SIZE
from .codes import make_qr
from .poster import FORMATS, PosterItem, make_poster
from .slips import Slip, make_code_sheet
from .texts import LANGS

__all__ = [
    "BANNER_SIZES",
    "FORMATS",
    "KINDS",
    "LANGS",
    "QR_MAX_SIZE",
    "QR_MIN_SIZE",
    "PosterItem",
    "Slip",
    "badge_text",
    "banner_snippet",
    "code_url",
    "make_badge",
    "make_banner",
    "make_code_sheet",
    "make_poster",
    "make_qr",
    "object_code",
    "parse_object_code",
    "rating_url",
    "short_url",
]
