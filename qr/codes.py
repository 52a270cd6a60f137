"""Addresses of the rating page and the QR codes that open them."""

import io
from urllib.parse import urlsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_Q
from PIL import Image

KINDS = ("png", "svg")
SOURCES = ("qr", "banner")
MIN_SIZE, MAX_SIZE = 64, 2048
DEFAULT_SIZE = 512
# The standard asks for four modules of white around the code; phones fail
# on posters hung against busy walls without it.
QUIET_ZONE = 4

# Crockford's base 32: no I, L, O, U, so a code read aloud or typed from a
# poster has no look-alike letters.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_MODULUS = 31  # prime, so a mistyped symbol changes the check (bar 0 for Z)
_CODE_DIGITS = 3


def check_base_url(base_url):
    """`base_url` without its trailing slash, or ValueError.

    Only http(s) addresses of a host (and an optional path prefix) pass, so
    a caller cannot smuggle a query, a fragment or a credential into what
    ends up printed on a poster.
    """
    expected = "expected http(s)://host[/path] without query or fragment"
    if not isinstance(base_url, str):
        raise ValueError(f"Invalid base URL (was {base_url!r}, {expected})")
    parts = urlsplit(base_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or base_url.endswith(("?", "#"))
        or any(c.isspace() or ord(c) < 32 or c in "<>\"'\\" for c in base_url)
    ):
        raise ValueError(f"Invalid base URL (was {base_url!r}, {expected})")
    return base_url.rstrip("/")


def check_object_id(object_id):
    if isinstance(object_id, bool) or not isinstance(object_id, int) or object_id < 1:
        raise ValueError(
            f"Invalid object id (was {object_id!r}, expected a positive integer)"
        )
    return object_id


def rating_url(base_url, object_id, src="qr"):
    """The rating page of the object, tagged with the channel it is opened from.

    >>> rating_url("https://ocenka.example/", 123)
    'https://ocenka.example/r/123?src=qr'
    """
    if src not in SOURCES:
        raise ValueError(
            f"Invalid src (was {src!r}, expected one of: {', '.join(SOURCES)})"
        )
    return f"{check_base_url(base_url)}/r/{check_object_id(object_id)}?src={src}"


# What a single-use code of proof of service may be made of, as printed
# (Crockford's base 32 and the dashes that group it).
_SERVICE_CODE_SYMBOLS = frozenset(_ALPHABET + "-")


def check_service_code(code):
    """A single-use code as the service signed it, or ValueError."""
    if not isinstance(code, str) or not 4 <= len(code) <= 40 or not set(code) <= _SERVICE_CODE_SYMBOLS:
        raise ValueError(
            f"Invalid code (was {code!r}, expected 4 to 40 symbols of {_ALPHABET} and dashes)"
        )
    return code


def code_url(base_url, object_id, code):
    """The rating page with a single-use code, as a slip's QR code opens it.

    >>> code_url("https://ocenka.example", 123, "0001-7K3M-QX2A")
    'https://ocenka.example/r/123?code=00017K3MQX2A&src=qr'
    """
    compact = check_service_code(code).replace("-", "")
    return f"{check_base_url(base_url)}/r/{check_object_id(object_id)}?code={compact}&src=qr"


def short_url(base_url, object_id):
    """The address to type by hand: no scheme, no channel.

    >>> short_url("https://ocenka.example", 123)
    'ocenka.example/r/123'
    """
    base = check_base_url(base_url)
    return f"{base.split('://', 1)[1]}/r/{check_object_id(object_id)}"


def object_code(object_id):
    """A short code for the object: its id in Crockford base 32 and a check symbol.

    >>> object_code(123)
    '03V-2'
    """
    value = check_object_id(object_id)
    digits = ""
    while value:
        value, rest = divmod(value, 32)
        digits = _ALPHABET[rest] + digits
    digits = digits.rjust(_CODE_DIGITS, "0")
    return f"{digits}-{_ALPHABET[_check_symbol(digits)]}"


def parse_object_code(code):
    """The object id of a code typed by a person, or ValueError.

    Case, spaces and dashes do not matter; O reads as 0 and I, L as 1.
    """
    cleaned = str(code).upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) < _CODE_DIGITS + 1 or any(c not in _ALPHABET for c in cleaned):
        raise ValueError(f"Invalid object code (was {code!r}, expected like 03V-2)")
    digits, check = cleaned[:-1], cleaned[-1]
    if _ALPHABET[_check_symbol(digits)] != check:
        raise ValueError(f"Invalid object code (was {code!r}, the check symbol does not match)")
    value = 0
    for c in digits:
        value = value * 32 + _ALPHABET.index(c)
    if value < 1:
        raise ValueError(f"Invalid object code (was {code!r}, expected like 03V-2)")
    return value


def _check_symbol(digits):
    # Weights 1, 2, 3… from the right catch a single wrong symbol and most
    # swaps of two neighbours.
    total = sum(
        (weight + 1) * _ALPHABET.index(c) for weight, c in enumerate(reversed(digits))
    )
    return total % _CHECK_MODULUS


def qr_matrix(url):
    """The QR code of `url` as rows of booleans (True = dark), quiet zone included.

    Level Q restores a quarter of the code: enough for a scuffed or
    partly covered poster and a phone held at an angle, while the code stays
    coarse enough to read from a metre away.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, box_size=1, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def check_size(size, low=MIN_SIZE, high=MAX_SIZE):
    if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
        raise ValueError(f"Invalid size (was {size!r}, expected {low} to {high})")
    return size


def check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"Invalid kind (was {kind!r}, expected one of: {', '.join(KINDS)})")
    return kind


def make_qr(base_url, object_id, kind="png", size=DEFAULT_SIZE):
    """The QR code that opens the object's rating page (`/r/<id>?src=qr`).

    `kind` is "png" or "svg"; `size` is the side in pixels, 64 to 2048.
    The PNG is exactly `size` pixels square with whole-pixel modules (the
    extra pixels widen the quiet zone); the SVG scales freely and is only
    given `size` as its default width and height.
    """
    check_kind(kind)
    check_size(size)
    matrix = qr_matrix(rating_url(base_url, object_id, "qr"))
    if kind == "svg":
        return qr_svg(matrix, size)
    return _qr_png(matrix, size)


def _qr_png(matrix, size):
    modules = len(matrix)
    box = size // modules
    if box < 1:
        raise ValueError(
            f"Invalid size (was {size}, expected at least {modules} for this address)"
        )
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    code = small.resize((modules * box, modules * box), Image.NEAREST)
    canvas = Image.new("1", (size, size), 1)
    offset = (size - modules * box) // 2
    canvas.paste(code, (offset, offset))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()


def dark_runs(matrix):
    """(x, y, length) of every horizontal run of dark modules."""
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                yield start, y, x - start
            else:
                x += 1


def qr_path_data(matrix, x0=0, y0=0, scale=1):
    """An SVG path drawing the dark modules, one subpath per run."""
    def num(v):
        return f"{v:.3f}".rstrip("0").rstrip(".")

    return "".join(
        f"M{num(x0 + x * scale)} {num(y0 + y * scale)}h{num(n * scale)}v{num(scale)}h-{num(n * scale)}z"
        for x, y, n in dark_runs(matrix)
    )


def qr_svg(matrix, size):
    modules = len(matrix)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{size}" height="{size}" viewBox="0 0 {modules} {modules}" '
        'shape-rendering="crispEdges">'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{qr_path_data(matrix)}"/>'
        "</svg>\n"
    ).encode()
