"""Running it: all.pdf drawn once and kept on disk for every worker, one
drawing at a time, bounded in pages and bytes; gunicorn with a socket per
worker and an access log without client addresses."""
import fcntl
import http.client
import io
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

import qr
from service import printing, structure
from service.errors import ApiError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_config(tmp_path):
    return {"POSTER_CACHE_DIR": str(tmp_path / "posters")}


@pytest.fixture
def draws(monkeypatch):
    """Counts the posters qr draws."""
    counted = []
    real = qr.make_poster

    def counting(base_url, items, **kwargs):
        counted.append(len(items))
        return real(base_url, items, **kwargs)

    monkeypatch.setattr(qr, "make_poster", counting)
    return counted


def files(app):
    return sorted(p.name for p in Path(app.config["POSTER_CACHE_DIR"]).iterdir())


def test_all_posters_are_drawn_once_and_kept_on_disk(app, client, world, draws):
    url = f"/poster/{world.clinic.id}/all.pdf"
    first = client.get(url)
    assert first.status_code == 200 and draws == [3]
    etag = first.headers["ETag"].strip('"')
    assert files(app) == [".drawing.lock", f"{etag}.pdf"]
    assert (Path(app.config["POSTER_CACHE_DIR"]) / f"{etag}.pdf").read_bytes() == first.data
    again = client.get(url)
    assert again.data == first.data and draws == [3]
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    # The same set asked for through a subdivision is the same file.
    assert client.get(f"/poster/{world.clinic_kids.id}/all.pdf").data == first.data and draws == [3]


def test_another_worker_serves_the_file_without_drawing(app, client, world, draws):
    url = f"/poster/{world.clinic.id}/all.pdf"
    first = client.get(url)
    # A new process starts with empty memory and the same folder.
    app.extensions["printing_cache"].clear()
    app.extensions["poster_files"] = printing.PosterFiles(app.config["POSTER_CACHE_DIR"])
    second = client.get(url)
    assert second.data == first.data and draws == [3]


def test_the_file_is_keyed_by_what_is_printed(app, client, world, draws):
    url = f"/poster/{world.clinic.id}/all.pdf"
    tags = {client.get(url).headers["ETag"]}
    tags.add(client.get(url + "?format=A5").headers["ETag"])
    tags.add(client.get(url + "?lang=en").headers["ETag"])
    structure.update_subdivision(world.clinic_kids, name="Детская поликлиника")
    renamed = client.get(url)
    tags.add(renamed.headers["ETag"])
    assert len(tags) == 4 and len(draws) == 4
    assert len([name for name in files(app) if name.endswith(".pdf")]) == 4
    assert "Детская поликлиника" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(renamed.data)).pages)


def test_nothing_partial_is_left_or_served(app, client, world, draws):
    url = f"/poster/{world.clinic.id}/all.pdf"
    etag = client.get(url).headers["ETag"].strip('"')
    path = Path(app.config["POSTER_CACHE_DIR"]) / f"{etag}.pdf"
    assert not [name for name in files(app) if name.startswith(".drawing-")]
    # A damaged file (a disk that filled up, a hand edit) is drawn again.
    path.write_bytes(path.read_bytes()[:1000])
    app.extensions["printing_cache"].clear()
    response = client.get(url)
    assert len(draws) == 2 and response.data.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 3


def test_a_set_bigger_than_the_bound_is_refused(app, client, world, draws, monkeypatch):
    monkeypatch.setattr(printing, "MAX_POSTERS", 2)
    response = client.get(f"/poster/{world.clinic.id}/all.pdf?lang=en")
    assert response.status_code == 400 and draws == []
    assert "3 posters are more than one file may hold (2)" in response.get_data(as_text=True)
    assert client.get(f"/poster/{world.school.id}/all.pdf").status_code == 200


def test_a_request_waits_for_the_drawing_turn_a_bounded_time(app, client, world, draws):
    app.extensions["poster_files"].wait = 0.2
    folder = Path(app.config["POSTER_CACHE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".drawing.lock", "a+b") as other_worker:
        fcntl.flock(other_worker, fcntl.LOCK_EX)
        started = time.monotonic()
        response = client.get(f"/poster/{world.clinic.id}/all.pdf")
        assert time.monotonic() - started < 2
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert draws == []
    assert client.get(f"/poster/{world.clinic.id}/all.pdf").status_code == 200


def test_two_requests_for_one_set_draw_it_once(tmp_path):
    posters = printing.PosterFiles(tmp_path)
    drawn, results = [], []

    def slow_draw():
        drawn.append(1)
        time.sleep(0.3)
        return b"%PDF-1.4 test\n%%EOF\n"

    threads = [threading.Thread(target=lambda: results.append(posters.get_or_draw("abc", slow_draw)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == 1 and posters.draws == 1
    assert {r.body for r in results} == {b"%PDF-1.4 test\n%%EOF\n"}


def test_the_folder_is_bounded_least_recently_served_first(tmp_path):
    body = b"%PDF-1.4 " + b"x" * 1000 + b"\n%%EOF\n"
    posters = printing.PosterFiles(tmp_path, max_bytes=2 * len(body) + 10)
    for name in ("a", "b"):
        posters.get_or_draw(name, lambda: body)
    os.utime(tmp_path / "a.pdf", (time.time() - 100, time.time() - 100))
    os.utime(tmp_path / "b.pdf", (time.time() - 50, time.time() - 50))
    assert posters.get("a") is not None  # served now: a is the recent one
    posters.get_or_draw("c", lambda: body)
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["a.pdf", "c.pdf"]


def test_the_wait_bound_is_an_api_error_with_retry_after(tmp_path):
    posters = printing.PosterFiles(tmp_path, wait=0.1)
    with open(tmp_path / ".drawing.lock", "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(ApiError) as refused:
            posters.get_or_draw("abc", lambda: b"%PDF-\n%%EOF")
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "30"}


# -- gunicorn --------------------------------------------------------------------------

def test_gunicorn_spreads_connections_and_logs_no_address():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["reuse_port"] is True
    assert "%(h)s" not in settings["access_log_format"]
    assert "{" not in settings["access_log_format"]  # no header atoms that could carry X-Forwarded-For


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listeners(port):
    """Listening TCP sockets on ``port`` (state 0A in /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            count += 1
    return count


@pytest.mark.slow
def test_a_real_gunicorn_gives_each_worker_a_socket_and_keeps_no_address(tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = dict(os.environ, OCENKA_DATABASE_URL=f"sqlite:///{tmp_path / 'ocenka.sqlite3'}",
               OCENKA_SECRET_KEY="operations", OCENKA_BIND=f"127.0.0.1:{port}", OCENKA_WORKERS="2",
               OCENKA_THREADS="2")
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--config", "gunicorn.conf.py",
                                "--access-logfile", str(log), "wsgi:app"], cwd=ROOT, env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _listeners(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _listeners(port) == 2  # one socket per worker: the kernel spreads connections over them
        # A worker listens before it has loaded the app; on a busy machine
        # its first answers wait for that. Warm both up (a connection lands
        # on either) with a patient client, then count.
        for _ in range(10):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
        for _ in range(40):  # new connections, each one request
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/widget.js", headers={"X-Forwarded-For": "198.51.100.23"})
            assert connection.getresponse().status == 200
            connection.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    lines = [line for line in log.read_text().splitlines() if "GET /widget.js" in line]
    assert len(lines) == 40
    text = "\n".join(lines)
    assert "127.0.0.1" not in text and "198.51.100.23" not in text
    workers = {line.split()[2] for line in lines}  # %(t)s is two fields, then <pid>
    assert len(workers) == 2, workers
