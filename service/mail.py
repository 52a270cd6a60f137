"""Mail: letters go into an outbox table first and an SMTP server takes
them from there.

``enqueue`` writes a letter in the caller's transaction, so that a letter
exists exactly when what causes it does (an invitation, a digest) and
nothing is lost while the mail server is down or not configured.
``flask --app wsgi send-mail`` (``send_waiting``) delivers what is due
through ``OCENKA_SMTP_URL`` with the standard library's ``smtplib``:

* ``smtp://user:password@host:587?starttls=1``: plain SMTP upgraded with
  STARTTLS (a server that does not offer it is not sent to in clear);
* ``smtps://user:password@host:465``: TLS from the first byte;
* ``smtp://host:25``: no TLS, for a relay on the same machine.

Further query parameters: ``timeout`` (seconds, default 30) and
``cafile`` (a PEM file of certificate authorities to trust instead of the
system's, for a server with a private CA). Certificates and host names are
always checked.

A run claims a few letters at a time (the claim is a column written in one
UPDATE that only takes unclaimed letters), so that runs from cron that
overlap never send one letter twice; a claim lapses after ``LEASE`` in
case its run died. A letter the server could not take waits
``backoff(attempts)`` before the next try, without limit of tries: a
letter to a mail server that is down for days goes when it is back. A
letter the server refuses for good (a 5xx answer to it alone, such as an
unknown mailbox) is marked failed and not tried again.
"""
import datetime
import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlparse

import click
from flask import current_app
from flask.cli import with_appcontext

from service.db import database, is_sqlite, write_transaction
from service.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

# How long a run may hold letters it claimed before another run may take them.
LEASE = datetime.timedelta(minutes=10)
# Letters claimed at a time: small, so that overlapping runs share the work.
BATCH = 20
# Waits between tries: a minute, doubling, at most an hour.
BACKOFF_FIRST = datetime.timedelta(minutes=1)
BACKOFF_MAX = datetime.timedelta(hours=1)
DEFAULT_TIMEOUT = 30
SECURITY = ("none", "starttls", "tls")


class MailConfigError(ValueError):
    """OCENKA_SMTP_URL or OCENKA_MAIL_FROM cannot be used."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # one of SECURITY
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None


def _yes(value, name):
    value = value.strip().lower()
    if value in ("1", "on", "yes", "true"):
        return True
    if value in ("0", "off", "no", "false", ""):
        return False
    raise MailConfigError(f"OCENKA_SMTP_URL: {name} must be 1 or 0 (was {value!r})")


def parse_smtp_url(url):
    """``SmtpSettings`` from ``smtp://…`` or ``smtps://…``; MailConfigError
    saying what is wrong otherwise."""
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps"):
        raise MailConfigError(f"OCENKA_SMTP_URL must start with smtp:// or smtps:// (was {parsed.scheme or url!r})")
    if not parsed.hostname:
        raise MailConfigError("OCENKA_SMTP_URL names no host (smtp://host:587?starttls=1)")
    query = {key: values[-1] for key, values in parse_qs(parsed.query, keep_blank_values=True).items()}
    unknown = set(query) - {"starttls", "timeout", "cafile"}
    if unknown:
        raise MailConfigError(f"OCENKA_SMTP_URL: unknown parameter(s) {', '.join(sorted(unknown))}; "
                              "known: starttls, timeout, cafile")
    starttls = _yes(query.get("starttls", ""), "starttls")
    if parsed.scheme == "smtps":
        if starttls:
            raise MailConfigError("OCENKA_SMTP_URL: smtps:// is TLS from the start; starttls=1 is for smtp://")
        security, default_port = "tls", 465
    else:
        security, default_port = ("starttls", 587) if starttls else ("none", 25)
    try:
        port = parsed.port or default_port
    except ValueError:
        raise MailConfigError("OCENKA_SMTP_URL: the port is not a number from 1 to 65535") from None
    try:
        timeout = float(query.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = 0
    if not 0 < timeout <= 600:
        raise MailConfigError("OCENKA_SMTP_URL: timeout must be a number of seconds from 1 to 600")
    return SmtpSettings(host=parsed.hostname, port=port, security=security,
                        username=unquote(parsed.username) if parsed.username else None,
                        password=unquote(parsed.password) if parsed.password else None,
                        timeout=timeout, cafile=query.get("cafile") or None)


def check_sender(sender):
    """OCENKA_MAIL_FROM must be one address, optionally with a name."""
    name, address = parseaddr(sender)
    if "@" not in address or "\n" in sender or "\r" in sender or "," in address:
        raise MailConfigError(f"OCENKA_MAIL_FROM must be an e-mail address such as "
                              f"'Ocenka <noreply@example.by>' (was {sender!r})")
    return sender


def configured(app=None):
    app = app or current_app
    return bool(app.config.get("SMTP_URL"))


# -- writing letters --------------------------------------------------------------------

def _one_line(text):
    return " ".join((text or "").split())


def _message_id():
    host = urlparse(current_app.config.get("BASE_URL", "")).hostname or "localhost"
    return make_msgid(domain=host)


def enqueue(recipient, subject, body, *, kind, user=None, language="ru", html=None):
    """Puts a letter in the outbox, in the caller's transaction (a
    savepoint of it; a transaction of its own when there is none). Returns
    the outbox row. ``body`` is plain text; ``html`` an optional
    alternative of the same content."""
    recipient = (recipient or "").strip()
    if "@" not in recipient or any(c in recipient for c in "\r\n,<>"):
        raise ValueError(f"not one e-mail address: {recipient!r}")
    now = utcnow()
    with write_transaction():
        return OutboxMessage.create(kind=kind, user=getattr(user, "id", user), recipient=recipient,
                                    language=language, subject=_one_line(subject)[:900], body=body, html=html,
                                    message_id=_message_id(), created=now, next_attempt=now)


def waiting_count():
    return OutboxMessage.select().where(OutboxMessage.state == OutboxMessage.WAITING).count()


def as_email(row, sender):
    """The outbox row as a MIME message: plain text, and the HTML as an
    alternative when there is one; UTF-8 in base64, which every server
    takes (8-bit bodies need a server's 8BITMIME)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created.replace(tzinfo=datetime.timezone.utc))
    message["Message-ID"] = row.message_id
    # Machine-written (RFC 3834): autoresponders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body, cte="base64")
    if row.html:
        message.add_alternative(row.html, subtype="html", cte="base64")
    # After the body: making it multipart moves Content-* headers into the part.
    message["Content-Language"] = row.language
    return message


# -- sending ----------------------------------------------------------------------------

def backoff(attempts):
    """How long a letter waits after its ``attempts``-th failed try."""
    seconds = BACKOFF_FIRST.total_seconds() * 2 ** min(max(attempts - 1, 0), 30)
    return min(datetime.timedelta(seconds=seconds), BACKOFF_MAX)


def connect(settings):
    """An SMTP session, secured and signed in as the settings say."""
    context = ssl.create_default_context(cafile=settings.cafile)
    if settings.security == "tls":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            # Raises SMTPNotSupportedError when the server does not offer it:
            # then nothing is sent in clear.
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


@dataclass
class Report:
    """What one run did."""
    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    refused: int = 0  # refused for good
    errors: list = field(default_factory=list)  # (outbox id, recipient, error text)
    stopped: str | None = None  # why the run stopped early (the server)


def _describe(error):
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}".strip()


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _permanent(error):
    """Whether the server refused this letter for good (5xx to the letter
    itself). A refused sender is not: it is the server's or our
    configuration's fault, and every other letter would fail alike."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _per_letter(error):
    """Whether the error concerns one letter (the session goes on) rather
    than the connection or the server (the run stops)."""
    return isinstance(error, (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError))


def _due(now, retry_now, tried):
    M = OutboxMessage
    due = (M.state == M.WAITING) & (M.claimed_until.is_null() | (M.claimed_until < now))
    if not retry_now:
        return due & (M.next_attempt <= now)
    # Everything waiting, but each letter once a run: those that failed in
    # this run (few: most failures stop the run) are left out.
    return due & M.id.not_in(sorted(tried)) if tried else due


def _claim(token, now, retry_now, tried, batch):
    """Claims up to ``batch`` due letters for this run and returns them. The
    UPDATE repeats the condition, so that of two runs that picked the same
    letters only the first to write gets each one (PostgreSQL re-checks
    the condition on a row another transaction changed; SQLite runs one
    writer at a time)."""
    M = OutboxMessage
    due = _due(now, retry_now, tried)
    with write_transaction():
        candidates = M.select(M.id).where(due).order_by(M.next_attempt, M.id).limit(batch)
        if not is_sqlite():
            candidates = candidates.for_update(skip_locked=True)
        ids = [row_id for row_id, in candidates.tuples()]
        if not ids:
            return []
        M.update(claim=token, claimed_until=now + LEASE).where(M.id.in_(ids) & due).execute()
    return list(M.select().where((M.claim == token) & (M.state == M.WAITING)).order_by(M.next_attempt, M.id))


def _mark_sent(row, token):
    M = OutboxMessage
    now = utcnow()
    with write_transaction():
        # The text goes: an invitation's holds a live link.
        return (M.update(state=M.SENT, sent=now, last_attempt=now, attempts=M.attempts + 1, body="", html=None,
                         claim=None, claimed_until=None, last_error=None)
                .where((M.id == row.id) & (M.claim == token)).execute())


def _mark_failed(row, token, error, permanent):
    M = OutboxMessage
    now = utcnow()
    attempts = row.attempts + 1
    changes = dict(attempts=attempts, last_attempt=now, last_error=_describe(error)[:2000], claim=None,
                   claimed_until=None)
    if permanent:
        changes.update(state=M.FAILED, body="", html=None)
    else:
        changes.update(next_attempt=now + backoff(attempts))
    with write_transaction():
        M.update(**changes).where((M.id == row.id) & (M.claim == token)).execute()
    log.warning("mail %s to %s %s: %s", row.id, row.recipient,
                "refused for good" if permanent else f"failed (attempt {attempts})", changes["last_error"])


def _release(token):
    """Gives back the letters this run claimed and did not try."""
    M = OutboxMessage
    with write_transaction():
        M.update(claim=None, claimed_until=None).where((M.claim == token) & (M.state == M.WAITING)).execute()


def send_waiting(settings, sender, retry_now=False, batch=BATCH, connect=connect):
    """Sends every due letter (with ``retry_now`` also those waiting for
    their next try) over one SMTP session, ``batch`` letters claimed at a
    time; stops at the first error of the connection or the server, leaving
    the rest for the next run. Returns a ``Report``."""
    report = Report()
    token = secrets.token_hex(16)
    tried = set()
    smtp = None
    try:
        while True:
            rows = _claim(token, utcnow(), retry_now, tried, batch)
            if not rows:
                break
            for row in rows:
                try:
                    if smtp is None:
                        smtp = connect(settings)
                    smtp.send_message(as_email(row, sender), from_addr=parseaddr(sender)[1],
                                      to_addrs=[row.recipient])
                except (smtplib.SMTPException, OSError) as error:
                    permanent = _permanent(error)
                    _mark_failed(row, token, error, permanent)
                    tried.add(row.id)
                    report.errors.append((row.id, row.recipient, _describe(error)))
                    if permanent:
                        report.refused += 1
                    else:
                        report.retrying += 1
                    if not _per_letter(error):
                        report.stopped = _describe(error)
                        _release(token)
                        return report
                    continue
                _mark_sent(row, token)
                report.sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    return report


def deliver(retry_now=False, app=None):
    """``send_waiting`` with the app's configuration; None when no SMTP
    server is configured (the letters wait)."""
    app = app or current_app
    if not configured(app):
        return None
    return send_waiting(parse_smtp_url(app.config["SMTP_URL"]), app.config["MAIL_FROM"], retry_now=retry_now)


@click.command("send-mail")
@with_appcontext
@click.option("--retry-now", is_flag=True,
              help="also send letters that failed and wait for their next try (after the server was fixed)")
def send_mail_command(retry_now):
    """Send the letters waiting in the outbox (run it from cron or a systemd timer)."""
    with database.connection_context():
        if not configured():
            click.echo(f"mail is not configured (OCENKA_SMTP_URL is not set): {waiting_count()} letter(s) wait "
                       "in the outbox and go once it is set")
            return
        report = deliver(retry_now=retry_now)
        left = waiting_count()
    click.echo(f"sent {report.sent} letter(s); {report.retrying} failed and will be tried again; "
               f"{report.refused} refused for good; {left} wait in the outbox")
    for row_id, recipient, error in report.errors[:20]:
        click.echo(f"  letter {row_id} to {recipient}: {error}", err=True)
    if report.stopped:
        click.echo(f"stopped: the mail server failed ({report.stopped}); the rest wait for the next run", err=True)
    if report.retrying or report.refused:
        raise SystemExit(1)

