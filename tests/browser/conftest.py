"""Real-browser fixtures: Ocenka served on a local port, pages of another
origin that embed it, and Debian's Chromium driven by Playwright.

The live service runs on SQLite only (the database code is exercised on
both databases by the rest of the suite); it is started once per session
with a small world of organizations.
"""
import http.server
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from service import create_app
from service.db import database, migrate
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots for docs/ are rewritten only when asked for
# (OCENKA_SCREENSHOTS=docs), so that a test run leaves the tree clean.
SCREENSHOTS = ROOT / "docs" if os.environ.get("OCENKA_SCREENSHOTS") == "docs" else Path(tempfile.gettempdir()) / "ocenka-screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, wsgi_app, port):
        self.server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "ocenka.sqlite3"
    port = _free_port()
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "browser-tests", "TESTING": True,
                      "BASE_URL": f"http://127.0.0.1:{port}"})
    with app.app_context(), database.connection_context():
        migrate()
        world = factories.small_world()
    app.config["WORLD"] = world
    app.config["PORT"] = port
    server = _Server(app, port)
    yield app
    server.stop()


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the running service, e.g. ``http://127.0.0.1:PORT``."""
    return live_app.config["BASE_URL"]


@pytest.fixture(scope="session")
def world(live_app):
    """The organizations of the live service (see ``factories.small_world``)."""
    return live_app.config["WORLD"]


@pytest.fixture
def live_db(live_app):
    """An open connection to the live service's database, for assertions."""
    with live_app.app_context(), database.connection_context():
        yield database


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def host_site(tmp_path_factory):
    """A plain static site on another origin (another port): ``put(name,
    html)`` writes a page and returns its URL."""
    root = tmp_path_factory.mktemp("host-site")
    port = _free_port()
    handler = lambda *a, **kw: _QuietHandler(*a, directory=str(root), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Site:
        origin = f"http://127.0.0.1:{port}"

        def put(self, name, html):
            (root / name).write_text(html, encoding="utf-8")
            return f"{self.origin}/{name}"

    yield Site()
    server.shutdown()
    server.server_close()


def chromium_path():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    executable = chromium_path()
    if executable is None:
        pytest.fail("Chromium is not installed: run scripts/setup --test (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="ru-RU")
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def axe_violations(page, selector=None, impacts=("serious", "critical")):
    """Runs axe-core in the page (it reaches into open shadow roots) and
    returns the violations of the given impacts."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run scripts/setup --test (npm install)")
    # Evaluated through the DevTools protocol rather than added as an inline
    # <script>, which the pages' Content-Security-Policy refuses.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async (selector) => {
        const context = selector ? document.querySelector(selector) : document;
        return await axe.run(context, {resultTypes: ['violations']});
    }""", selector)
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe(violations):
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} — "
                     + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                                 for n in v["nodes"][:3]) for v in violations)
