"""A real SMTP server in the test process (aiosmtpd), for the mail tests.

``SmtpServer`` listens on a free port of 127.0.0.1 and keeps what arrives
as parsed messages; it can be stopped and started again on the same port
(the server "down" and "back"), and may speak STARTTLS or TLS from the
start with a certificate the test makes. Import the fixtures into a test
module: ``from tests.smtp import smtp_server, inbox_app_config``.
"""
import asyncio
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Arrived:
    """One message as the server took it."""

    def __init__(self, envelope, session):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.message = email.message_from_bytes(envelope.original_content or envelope.content,
                                                policy=email.policy.default)
        self.tls = session.ssl is not None
        auth = session.auth_data if session.authenticated else None
        self.login = auth.login.decode() if isinstance(auth, LoginPassword) else None

    @property
    def subject(self):
        return str(self.message["Subject"])

    @property
    def text(self):
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self):
        part = self.message.get_body(("html",))
        return part.get_content() if part is not None else None


class Handler:
    """Keeps every message; refuses recipients listed in ``refuse`` with
    their code (550: for good, 450: try later)."""

    def __init__(self, delay=0.0):
        self.arrived = []
        self.refuse = {}
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.refuse.get(address.lower())
        if code:
            return f"{code} {'mailbox unavailable' if code >= 500 else 'try again later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.arrived.append(Arrived(envelope, session))
        return "250 Message accepted for delivery"


class Accounts:
    """An authenticator for aiosmtpd: one login and password."""

    def __init__(self, login, password):
        self.login, self.password = login.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.login,
                                                                                                self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class SmtpServer:
    def __init__(self, handler=None, tls_context=None, implicit_tls=None, accounts=None):
        self.handler = handler or Handler()
        self.port = free_port()
        self.options = {}
        if tls_context is not None:
            self.options.update(tls_context=tls_context, require_starttls=True)
        if accounts is not None:
            self.options.update(authenticator=accounts, auth_required=True, auth_require_tls=True)
        self.implicit_tls = implicit_tls
        self.controller = None

    @property
    def arrived(self):
        return self.handler.arrived

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     ssl_context=self.implicit_tls, **self.options)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self, scheme="smtp", query="", credentials=""):
        return f"{scheme}://{credentials}127.0.0.1:{self.port}{'?' + query if query else ''}"


def self_signed_certificate(folder):
    """(certificate, key) files for 127.0.0.1 and localhost, made with the
    openssl command (the cryptography package is not a dependency)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed: no certificate for the TLS tests")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def server_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def inbox_app_config(smtp_server):
    """An app configuration that mails to the in-process server."""
    return {"SMTP_URL": smtp_server.url(), "MAIL_FROM": "Ocenka <noreply@ocenka.test>"}
