"""Configuration from environment variables, with safe defaults.

Everything a deployment may change is read here, once, when the app is
created; the rest of the code reads ``app.config`` only.
"""
import os
import secrets
from pathlib import Path

COMMENT_MODES = ("moderated", "open", "private")


def _flag(value, name):
    value = (value or "").strip().lower()
    if value in ("", "on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be 'on' or 'off' (was {value!r})")


def _secret_key(instance_path):
    """The secret salts every anti-abuse hash, so it must survive restarts:
    when none is configured, one is generated once and kept under instance/."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Another worker may win the race; whoever wrote first is the one kept.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


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
        # A rating with a 2,000-character comment is far below this; anything
        # bigger is not a rating.
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }
