"""Proof of service: single-use codes an organization hands to the people
it served (SPEC "Trust"), printed as slips with a QR code each or as short
numbers on receipts and queue tickets.

A code is its serial followed by a signature over (object id, serial):
HMAC-SHA256 under a key derived from the app's secret key, truncated to 40
bits. Both are written in Crockford's base 32 (no I, L, O or U, so nothing
looks like anything else; a typed O reads as 0 and I or L as 1), grouped
for reading: ``0001-7K3M-QX2A``. Checking a code therefore needs no lookup:
only whoever holds the secret key can make one, and the serial says which
it is. The one lookup is the single use: a code that verifies a rating is
inserted into ``UsedCode`` in the rating's own transaction, and the
primary key lets exactly one of any number of racing ratings win.

A code verifies a rating of the object it was issued for; an
organization's code verifies a rating of one of its subdivisions too (the
visitor may name the office that served them). A used, forged or
mistyped code, or one of another object, verifies nothing: the rating is
taken like any other and the visitor is told why.

Changing the secret key invalidates every code printed before.
"""
import hashlib
import hmac
from dataclasses import dataclass

from qr.slips import MAX_SLIPS as SHEET_MAX
from service import i18n
from service.db import is_sqlite, run, write_transaction
from service.errors import ApiError
from service.models import CodeIssue, UsedCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_READS_AS = str.maketrans("OIL", "011")
SIGNATURE_SYMBOLS = 8  # 40 bits: one chance in a trillion per guess
SERIAL_SYMBOLS = 4  # at least; a serial of 32**4 or more takes more symbols
MAX_SERIAL = 32 ** 6 - 1  # fits the serial column (a signed 32-bit integer)
# Longer than any code, with room for spaces and dashes a person types.
MAX_TEXT = 40

VERIFIED, UNUSED, USED, INVALID, OTHER_OBJECT = "verified", "unused", "used", "invalid", "other_object"


def _key(secret):
    # A key of its own, so that no other use of the secret can produce a code.
    return hmac.new(str(secret).encode(), b"ocenka/service-codes/v1", hashlib.sha256).digest()


def _encode(value, width):
    symbols = ""
    while value:
        value, rest = divmod(value, 32)
        symbols = ALPHABET[rest] + symbols
    return symbols.rjust(width, "0")


def _signature(secret, object_id, serial):
    digest = hmac.new(_key(secret), f"{object_id}:{serial}".encode(), hashlib.sha256).digest()
    return _encode(int.from_bytes(digest[:5], "big"), SIGNATURE_SYMBOLS)


def _check_serial(serial):
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"Invalid serial (was {serial!r}, expected 1 to {MAX_SERIAL})")
    return serial


def sign(secret, object_id, serial):
    """The code of ``serial`` for object ``object_id``, compact (no dashes)."""
    _check_serial(serial)
    return _encode(serial, SERIAL_SYMBOLS) + _signature(secret, object_id, serial)


def display(code):
    """A compact code grouped for reading: the serial, then the signature
    in two fours (``0001-7K3M-QX2A``)."""
    serial, signature = code[:-SIGNATURE_SYMBOLS], code[-SIGNATURE_SYMBOLS:]
    return f"{serial}-{signature[:4]}-{signature[4:]}"


def normalize(text):
    """The compact form of a code as a person typed it (case, spaces and
    dashes do not matter; O reads as 0, I and L as 1), or None when it
    cannot be a code at all."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return None
    compact = "".join(text.split()).replace("-", "").upper().translate(_READS_AS)
    if len(compact) < SERIAL_SYMBOLS + SIGNATURE_SYMBOLS or any(c not in _VALUE for c in compact):
        return None
    return compact


def serial_of(secret, object_id, text):
    """The serial of ``text`` when it is a genuine code of ``object_id``,
    else None. Pure: no lookup."""
    compact = normalize(text)
    if compact is None:
        return None
    serial = 0
    for c in compact[:-SIGNATURE_SYMBOLS]:
        serial = serial * 32 + _VALUE[c]
    if not 1 <= serial <= MAX_SERIAL:
        return None
    expected = _signature(secret, object_id, serial)
    return serial if hmac.compare_digest(expected, compact[-SIGNATURE_SYMBOLS:]) else None


@dataclass(frozen=True)
class Reading:
    """What a code given with a rating of ``object`` is: ``status`` is
    ``UNUSED`` (it will verify the rating), ``USED``, ``INVALID`` or
    ``OTHER_OBJECT``; ``owner`` and ``serial`` name the code when genuine."""
    status: str
    owner: int = None
    serial: int = None

    @property
    def genuine(self):
        return self.serial is not None


def _family(obj):
    """The ids of ``obj``'s organization and every one of its subdivisions."""
    org = obj.organization_id_or_self
    return [row[0] for row in run("SELECT id FROM ratable_object WHERE id = ? OR organization_id = ?", (org, org))]


def read(secret, obj, text):
    """How a code given with a rating of ``obj`` stands. Signatures only,
    except to tell a used code (one indexed read) and, for a code that
    fits nothing, whether it is another office's of the same organization
    (one read, on that path only)."""
    owners = [obj.id] if obj.is_organization or obj.organization_id is None else [obj.id, obj.organization_id]
    for owner in owners:
        serial = serial_of(secret, owner, text)
        if serial is not None:
            return Reading(USED if is_used(owner, serial) else UNUSED, owner, serial)
    if normalize(text) is not None:
        for other in _family(obj):
            if other not in owners and serial_of(secret, other, text) is not None:
                return Reading(OTHER_OBJECT)
    return Reading(INVALID)


def is_used(owner, serial):
    return run("SELECT 1 FROM used_code WHERE object_id = ? AND serial = ?", (owner, serial)).fetchone() is not None


_CLAIM = ("INSERT INTO used_code (object_id, serial, used) VALUES (?, ?, ?) "
          "ON CONFLICT (object_id, serial) DO NOTHING RETURNING serial")


def claim(reading, now):
    """Marks a genuine code used; True when this call did, False when it
    was used already (by an earlier rating, or by a racing one that
    committed first: on PostgreSQL the insert waits for that transaction
    and then does nothing). Call inside the rating's transaction."""
    if not reading.genuine:
        return False
    return run(_CLAIM, (reading.owner, reading.serial, UsedCode.used.db_value(now))).fetchone() is not None


def link(reading, rating_id):
    """Records which rating a claimed code verified."""
    run("UPDATE used_code SET rating_id = ? WHERE object_id = ? AND serial = ?",
        (rating_id, reading.owner, reading.serial))


# -- issuing ----------------------------------------------------------------------

# A sheet of slips is drawn in the request (about 10 ms a slip); a list of
# numbers is only text.
MAX_ISSUE = {CodeIssue.SHEET: SHEET_MAX, CodeIssue.LIST: 5000}


def next_serial(object_id):
    """The first serial no issue of the object has used yet."""
    row = run("SELECT MAX(first_serial + count) FROM code_issue WHERE object_id = ?", (object_id,)).fetchone()
    return row[0] or 1


def issue(user, obj, kind, count, language, audit_record):
    """Records a new issue of ``count`` codes for ``obj``, its serials
    following the last issue's, with its audit entry (``audit_record``,
    called inside the same transaction). Two issues at once take turns:
    the writer queue on SQLite, a lock per object on PostgreSQL, and the
    unique (object, first serial) index behind both."""
    with write_transaction():
        if not is_sqlite():
            run("SELECT pg_advisory_xact_lock(hashtext(?))", (f"code_issue:{obj.id}",))
        first = next_serial(obj.id)
        if first + count - 1 > MAX_SERIAL:
            raise ApiError({"count": [f"this object has only {max(0, MAX_SERIAL - first + 1)} serials left"]},
                           status=409)
        record = CodeIssue.create(object=obj.id, kind=kind, first_serial=first, count=count, language=language,
                                  user=user.id, user_email=user.email)
        audit_record(record)
    return record


def codes_of(secret, record):
    """``[(serial, code as printed)]`` of an issue, signed again: a code is
    never stored, so the same issue always gives the same codes."""
    return [(serial, display(sign(secret, record.object_id, serial)))
            for serial in range(record.first_serial, record.last_serial + 1)]


# -- what the visitor is told -----------------------------------------------------

def message(status, lang, taken=False):
    """The sentence for the visitor about their code: before the rating is
    sent (on the form) or, with ``taken``, after it was taken."""
    return i18n.translate(f"code.{'taken' if taken else 'form'}.{status}", lang)
