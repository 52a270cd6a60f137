"""The widget's weight and how soon it is usable.

    .venv/bin/python bench/bench_widget.py [--runs 9]

Prints the served widget.js raw and gzipped, then the time from navigation
start to a usable widget (its form drawn inside the shadow root, questionnaire
loaded) on a local page of another origin, in Debian's Chromium: the median
and range of several runs, with a cold cache (a new browser context each
run) and a warm one (the same page reloaded).
"""
import argparse
import gzip
import http.server
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from service import create_app  # noqa: E402
from service.db import database, migrate  # noqa: E402
from service.embed import _WIDGET  # noqa: E402
from tests import factories  # noqa: E402

READY = """() => {
  const host = document.querySelector('[data-ocenka]');
  const form = host && host.shadowRoot && host.shadowRoot.querySelector('form');
  return form && form.querySelectorAll('input[type=radio]').length >= 20 ? performance.now() : null;
}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    print(f"widget.js: {len(_WIDGET)} bytes, {len(gzip.compress(_WIDGET, 9))} bytes gzipped (-9)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "BASE_URL": f"http://127.0.0.1:{port}"})
        app.logger.disabled = True
        import logging
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        with app.app_context(), database.connection_context():
            migrate()
            object_id = factories.small_world().clinic.id
        service = serve(make_server("127.0.0.1", port, app, threaded=True))
        site = Path(tmp) / "site"
        site.mkdir()
        (site / "index.html").write_text(
            f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>host</title></head><body>'
            f'<h1>Host</h1><script async src="http://127.0.0.1:{port}/widget.js" data-object="{object_id}"></script>'
            f'</body></html>', encoding="utf-8")

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

        host_port = free_port()
        host = serve(http.server.ThreadingHTTPServer(
            ("127.0.0.1", host_port), lambda *a, **kw: Quiet(*a, directory=str(site), **kw)))
        url = f"http://127.0.0.1:{host_port}/index.html"
        cold, warm = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for _ in range(args.runs):
                context = browser.new_context()
                page = context.new_page()
                page.goto(url)
                cold.append(page.wait_for_function(READY, polling="raf").json_value())
                page.reload()
                warm.append(page.wait_for_function(READY, polling="raf").json_value())
                context.close()
            browser.close()
        service.shutdown()
        service.server_close()
        host.shutdown()
        host.server_close()

    print(f"machine: {machine()}")
    for name, times in (("cold cache", cold), ("warm cache", warm)):
        print(f"page load → usable widget, {name}: median {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f}, {len(times)} runs)")


if __name__ == "__main__":
    main()
