"""Configuration from environment variables, with safe defaults.

Everything a deployment may change is read here, once, when the app is
created; the rest of the code reads ``app.config`` only.
"""
import os
import secrets
import tempfile
from pathlib import Path

COMMENT_MODES = ("moderated", "open", "private")


def _flag(value, name):
    value = (value or "").strip().lower()
    if value in ("", "on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be 'on' or 'off' (was {value!r})")


def _read_key(path):
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; remove it (a new one is then made) "
                           "or set OCENKA_SECRET_KEY")
    return key


def _secret_key(instance_path):
    """The secret salts every anti-abuse hash, so it must survive restarts:
    when none is configured, one is generated once and kept under instance/.

    The key is written whole to a temporary file and then linked to its
    name, so the name never points at a partial key; link (unlike rename)
    fails when the name exists, so of several workers starting at once the
    first one's key is the one every worker keeps."""
    path = Path(instance_path) / "secret_key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key(path)
    finally:
        os.unlink(temporary)
    return key


def _min_ratings(value):
    # Below this many ratings in a period an organization is listed but not
    # ranked; 5 keeps a single voice from placing anyone (docs/ranking.md).
    text = (value or "").strip() or "5"
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise ValueError(f"OCENKA_MIN_RATINGS must be a whole number from 1 to 1000 (was {value!r})")
    return int(text)


def _hold(value):
    """``OCENKA_HOLD``: any of service/holding.py's rules as name=number,
    comma-separated (``address_day=80,burst_floor=20``); the rest keep
    their defaults."""
    from service.holding import DEFAULTS
    rules = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        name, _, number = part.partition("=")
        name, number = name.strip(), number.strip()
        if name not in DEFAULTS or not number.isdigit() or int(number) < 1:
            raise ValueError(f"OCENKA_HOLD: {part.strip()!r} is not one of {', '.join(DEFAULTS)} "
                             "set to a whole number above zero")
        rules[name] = int(number)
    return rules


def _low_score(value):
    from service.monitoring import parse_thresholds  # the rule lives with the job
    return parse_thresholds(value)


def _mail(environ):
    """OCENKA_SMTP_URL and OCENKA_MAIL_FROM, checked now so that a wrong
    address stops the start instead of every letter. Without a URL letters
    wait in the outbox."""
    from service import mail  # the parser lives with the transport
    url = (environ.get("OCENKA_SMTP_URL") or "").strip() or None
    sender = (environ.get("OCENKA_MAIL_FROM") or "").strip() or None
    if url is not None:
        mail.parse_smtp_url(url)
        if sender is None:
            raise ValueError("OCENKA_SMTP_URL is set but OCENKA_MAIL_FROM is not: "
                             "set the address letters come from, e.g. 'Ocenka <noreply@example.by>'")
    if sender is not None:
        mail.check_sender(sender)
    return {"SMTP_URL": url, "MAIL_FROM": sender}


def from_environment(instance_path, environ=os.environ):
    comments = environ.get("OCENKA_COMMENTS", "moderated").strip().lower()
    if comments not in COMMENT_MODES:
        raise ValueError(f"OCENKA_COMMENTS must be one of {', '.join(COMMENT_MODES)} (was {comments!r})")
    proxies = [p.strip() for p in environ.get("OCENKA_TRUSTED_PROXIES", "").split(",") if p.strip()]
    default_db = "sqlite:///" + str(Path(instance_path) / "ocenka.sqlite3")
    return {
        "DATABASE_URL": environ.get("OCENKA_DATABASE_URL") or default_db,
        "SECRET_KEY": environ.get("OCENKA_SECRET_KEY") or _secret_key(instance_path),
        "BASE_URL": (environ.get("OCENKA_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        "RATE_LIMITS": _flag(environ.get("OCENKA_RATE_LIMITS"), "OCENKA_RATE_LIMITS"),
        "TRUSTED_PROXIES": proxies,
        "COMMENTS": comments,
        "PUBLIC_RESULTS": _flag(environ.get("OCENKA_PUBLIC_RESULTS"), "OCENKA_PUBLIC_RESULTS"),
        "TIMEZONE": environ.get("OCENKA_TIMEZONE", "Europe/Minsk"),
        "MIN_RATINGS": _min_ratings(environ.get("OCENKA_MIN_RATINGS")),
        "HOLD": _hold(environ.get("OCENKA_HOLD")),
        "LOW_SCORE": _low_score(environ.get("OCENKA_LOW_SCORE")),
        **_mail(environ),
        # A rating with a 2,000-character comment is far below this; anything
        # bigger is not a rating.
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }
