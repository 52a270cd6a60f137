"""Mail: the outbox, the SMTP transport and ``send-mail``, against a real
SMTP server in the test process (tests/smtp.py): what arrives, what waits
while the server is down, backoff, refusals, TLS, and runs that overlap."""
import datetime
import threading

import pytest

from service import create_app, mail
from service.db import database
from service.mail import MailConfigError, SmtpSettings, parse_smtp_url
from service.models import OutboxMessage
from tests.smtp import (  # noqa: F401 - fixtures
    Accounts, Handler, SmtpServer, inbox_app_config, self_signed_certificate, server_context, smtp_server,
)

SENDER = "Ocenka <noreply@ocenka.test>"


@pytest.fixture
def app_config(inbox_app_config):
    return inbox_app_config


class Clock:
    def __init__(self):
        self.now = datetime.datetime(2026, 12, 4, 8, 0)

    def __call__(self):
        return self.now

    def advance(self, **interval):
        self.now += datetime.timedelta(**interval)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(mail, "utcnow", clock)
    return clock


def letter(n=1, recipient=None, **values):
    values = dict(dict(subject=f"Приглашение № {n}", body=f"Здравствуйте!\nСсылка: https://ocenka.test/x/{n}\n",
                       kind="test", language="ru"), **values)
    return mail.enqueue(recipient or f"user{n}@example.by", values.pop("subject"), values.pop("body"), **values)


def send(runner, *args):
    return runner.invoke(args=["send-mail", *args])


# -- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("url, settings", [
    ("smtp://user:p%40ss@mail.example.by:587?starttls=1",
     SmtpSettings("mail.example.by", 587, "starttls", "user", "p@ss")),
    ("smtp://mail.example.by?starttls=1", SmtpSettings("mail.example.by", 587, "starttls")),
    ("smtps://robot@mail.example.by", SmtpSettings("mail.example.by", 465, "tls", "robot")),
    ("smtp://localhost", SmtpSettings("localhost", 25, "none")),
    ("smtp://127.0.0.1:2525?timeout=5&cafile=/etc/ca.pem", SmtpSettings("127.0.0.1", 2525, "none", timeout=5,
                                                                         cafile="/etc/ca.pem")),
])
def test_smtp_urls(url, settings):
    assert parse_smtp_url(url) == settings


@pytest.mark.parametrize("url, says", [
    ("http://mail.example.by", "smtp:// or smtps://"),
    ("smtp://", "no host"),
    ("smtp://mail.example.by?starttls=maybe", "starttls must be 1 or 0"),
    ("smtps://mail.example.by?starttls=1", "TLS from the start"),
    ("smtp://mail.example.by?tls=1", "unknown parameter(s) tls"),
    ("smtp://mail.example.by?timeout=0", "timeout"),
    ("smtp://mail.example.by:99999", "port"),
])
def test_wrong_smtp_urls_are_refused_saying_why(url, says):
    with pytest.raises(MailConfigError) as refused:
        parse_smtp_url(url)
    assert says in str(refused.value)


def test_the_app_does_not_start_with_a_server_but_no_sender(tmp_path, monkeypatch):
    monkeypatch.setenv("OCENKA_SMTP_URL", "smtp://127.0.0.1:25")
    monkeypatch.delenv("OCENKA_MAIL_FROM", raising=False)
    with pytest.raises(ValueError, match="OCENKA_MAIL_FROM"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "test"})
    monkeypatch.setenv("OCENKA_MAIL_FROM", "not an address")
    with pytest.raises(ValueError, match="OCENKA_MAIL_FROM must be an e-mail address"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "test"})


# -- delivery -----------------------------------------------------------------------------

def test_a_letter_arrives_with_its_recipient_subject_and_text(db, runner, smtp_server):
    row = letter(1, html="<p>Здравствуйте!</p>")
    result = send(runner)
    assert result.exit_code == 0, result.output
    assert "sent 1 letter(s)" in result.output and "0 wait" in result.output
    [arrived] = smtp_server.arrived
    assert arrived.rcpt_tos == ["user1@example.by"] and arrived.mail_from == "noreply@ocenka.test"
    assert arrived.message["To"] == "user1@example.by" and arrived.message["From"] == SENDER
    assert arrived.subject == "Приглашение № 1"
    assert arrived.text == "Здравствуйте!\nСсылка: https://ocenka.test/x/1\n"
    assert arrived.html == "<p>Здравствуйте!</p>\n"
    assert arrived.message["Message-ID"] == row.message_id
    assert arrived.message["Content-Language"] == "ru" and arrived.message["Auto-Submitted"] == "auto-generated"
    stored = OutboxMessage.get_by_id(row.id)
    assert stored.state == "sent" and stored.sent is not None and stored.attempts == 1
    # The text is not kept once sent (an invitation's holds a live link).
    assert stored.body == "" and stored.html is None and stored.recipient == "user1@example.by"

    again = send(runner)
    assert "sent 0 letter(s)" in again.output and len(smtp_server.arrived) == 1


def test_a_letter_is_written_in_the_callers_transaction(db):
    with pytest.raises(RuntimeError):
        with database.atomic():
            letter(1)
            raise RuntimeError("the cause failed")
    assert OutboxMessage.select().count() == 0, "no letter without its cause"
    with database.atomic():
        letter(2)
    assert OutboxMessage.select().count() == 1


def test_with_the_server_down_nothing_is_lost_and_the_next_run_delivers(db, runner, smtp_server, clock):
    rows = [letter(n) for n in (1, 2, 3)]
    smtp_server.stop()

    down = send(runner)
    assert down.exit_code == 1
    assert "1 failed and will be tried again" in down.output and "3 wait in the outbox" in down.output
    assert "stopped: the mail server failed" in down.output
    first = OutboxMessage.get_by_id(rows[0].id)
    assert first.state == "waiting" and first.attempts == 1 and "ConnectionRefusedError" in first.last_error
    assert first.next_attempt == clock.now + datetime.timedelta(minutes=1)
    # The run stopped at the server's failure: the others were not tried (nor charged a try).
    assert [r.attempts for r in OutboxMessage.select().order_by(OutboxMessage.id)] == [1, 0, 0]
    assert not OutboxMessage.select().where(OutboxMessage.claim.is_null(False)).exists(), "claims given back"

    smtp_server.start()
    back = send(runner)
    assert back.exit_code == 0 and "sent 2 letter(s)" in back.output and "1 wait" in back.output
    clock.advance(seconds=59)
    assert "sent 0 letter(s)" in send(runner).output, "the failed one waits its minute"
    clock.advance(seconds=1)
    assert "sent 1 letter(s)" in send(runner).output
    assert sorted(a.subject for a in smtp_server.arrived) == ["Приглашение № 1", "Приглашение № 2",
                                                             "Приглашение № 3"]
    assert {r.state for r in OutboxMessage.select()} == {"sent"}


def test_backoff_doubles_up_to_an_hour_and_retry_now_skips_the_wait(db, runner, smtp_server, clock):
    assert [mail.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    row = letter(1)
    smtp_server.stop()
    waits = []
    for _ in range(4):
        assert send(runner).exit_code == 1
        stored = OutboxMessage.get_by_id(row.id)
        waits.append((stored.next_attempt - clock.now).total_seconds() / 60)
        clock.advance(minutes=waits[-1])
    assert waits == [1, 2, 4, 8] and OutboxMessage.get_by_id(row.id).attempts == 4

    send(runner)  # the fifth failure: 16 minutes to wait
    smtp_server.start()
    assert "sent 0 letter(s)" in send(runner).output
    result = send(runner, "--retry-now")
    assert "sent 1 letter(s)" in result.output and len(smtp_server.arrived) == 1
    stored = OutboxMessage.get_by_id(row.id)
    assert stored.attempts == 6 and stored.state == "sent" and stored.last_error is None


def test_a_mailbox_refused_for_good_is_not_tried_again_and_a_busy_one_is(db, runner, smtp_server, clock):
    smtp_server.handler.refuse = {"gone@example.by": 550, "busy@example.by": 450}
    gone, busy, fine = letter(1, "gone@example.by"), letter(2, "busy@example.by"), letter(3, "fine@example.by")
    result = send(runner)
    assert result.exit_code == 1
    assert "sent 1 letter(s); 1 failed and will be tried again; 1 refused for good" in result.output
    assert [a.rcpt_tos for a in smtp_server.arrived] == [["fine@example.by"]], "one refusal stops no other letter"
    gone, busy = OutboxMessage.get_by_id(gone.id), OutboxMessage.get_by_id(busy.id)
    assert gone.state == "failed" and gone.last_error.startswith("gone@example.by: 550") and gone.body == ""
    assert busy.state == "waiting" and "450" in busy.last_error
    smtp_server.handler.refuse = {}
    clock.advance(minutes=1)
    assert "sent 1 letter(s)" in send(runner).output
    assert OutboxMessage.get_by_id(gone.id).state == "failed", "never retried"
    assert OutboxMessage.get_by_id(busy.id).state == "sent"


def test_without_a_server_configured_letters_wait_and_the_command_says_so(db, runner, app, smtp_server):
    app.config["SMTP_URL"] = None
    letter(1)
    result = send(runner)
    assert result.exit_code == 0
    assert "mail is not configured (OCENKA_SMTP_URL is not set): 1 letter(s) wait" in result.output
    assert smtp_server.arrived == [] and OutboxMessage.get().state == "waiting"
    app.config["SMTP_URL"] = smtp_server.url()
    assert "sent 1 letter(s)" in send(runner).output


def test_a_claim_of_a_run_that_died_lapses(db, runner, smtp_server, clock):
    row = letter(1)
    OutboxMessage.update(claim="dead-run", claimed_until=clock.now + mail.LEASE).execute()
    assert "sent 0 letter(s)" in send(runner).output, "another run holds it"
    clock.advance(seconds=mail.LEASE.total_seconds() + 1)
    assert "sent 1 letter(s)" in send(runner).output
    assert OutboxMessage.get_by_id(row.id).state == "sent"


def test_overlapping_runs_send_each_letter_once(app, db):
    """Four runs at once (as from cron on a slow day), each claiming three
    letters at a time, against a server that takes a while per letter."""
    server = SmtpServer(Handler(delay=0.01)).start()
    try:
        rows = [letter(n) for n in range(40)]
        settings = parse_smtp_url(server.url())
        reports, failures = [], []

        def run():
            try:
                with app.app_context(), database.connection_context():
                    reports.append(mail.send_waiting(settings, SENDER, batch=3))
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures
        ids = [a.message["Message-ID"] for a in server.arrived]
        assert len(ids) == len(set(ids)) == 40
        assert sorted(ids) == sorted(r.message_id for r in rows)
        assert sum(r.sent for r in reports) == 40
        assert sum(1 for r in reports if r.sent) > 1, "the runs shared the work"
    finally:
        server.stop()


# -- TLS ----------------------------------------------------------------------------------

def test_starttls_and_login(db, runner, app, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    server = SmtpServer(tls_context=server_context(cert, key), accounts=Accounts("robot", "s3cret:@")).start()
    try:
        app.config["SMTP_URL"] = server.url(query=f"starttls=1&cafile={cert}", credentials="robot:s3cret%3A%40@")
        letter(1)
        result = send(runner)
        assert result.exit_code == 0, result.output
        [arrived] = server.arrived
        assert arrived.tls and arrived.login == "robot" and arrived.subject == "Приглашение № 1"

        # A certificate nobody vouches for is refused; the letter waits.
        app.config["SMTP_URL"] = server.url(query="starttls=1", credentials="robot:s3cret%3A%40@")
        row = letter(2)
        refused = send(runner)
        assert refused.exit_code == 1 and len(server.arrived) == 1
        assert "CERTIFICATE_VERIFY_FAILED" in OutboxMessage.get_by_id(row.id).last_error
    finally:
        server.stop()


def test_no_letter_goes_in_clear_when_starttls_is_asked_and_not_offered(db, runner, app, smtp_server):
    app.config["SMTP_URL"] = smtp_server.url(query="starttls=1")
    row = letter(1)
    assert send(runner).exit_code == 1
    assert smtp_server.arrived == []
    assert "STARTTLS" in OutboxMessage.get_by_id(row.id).last_error


def test_tls_from_the_first_byte(db, runner, app, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    server = SmtpServer(implicit_tls=server_context(cert, key)).start()
    try:
        app.config["SMTP_URL"] = server.url(scheme="smtps", query=f"cafile={cert}")
        letter(1)
        result = send(runner)
        assert result.exit_code == 0, result.output
        assert [a.rcpt_tos for a in server.arrived] == [["user1@example.by"]]
    finally:
        server.stop()
