"""Nothing acknowledged is lost: gunicorn is killed with SIGKILL in the
middle of a load of concurrent submissions, restarted on the same
database, and every rating it answered 201 for is there.

(SIGKILL loses the processes, not the operating system's cache; that a
commit also survives a power cut rests on SQLite's synchronous=FULL and
PostgreSQL's fsync, checked in test_db.)
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from service.db import database
from service.models import Rating
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(database_url, port, stderr=subprocess.DEVNULL):
    env = dict(os.environ, OCENKA_DATABASE_URL=database_url, OCENKA_SECRET_KEY="durability",
               OCENKA_RATE_LIMITS="off", OCENKA_BIND=f"127.0.0.1:{port}", OCENKA_WORKERS="2",
               OCENKA_THREADS="4")
    process = subprocess.Popen([str(GUNICORN), "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                                "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("gunicorn did not start")


def _submitter(port, object_ids, acknowledged, stop):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        _submit_until_stopped(connection, object_ids, acknowledged, stop)
    finally:
        connection.close()


def _submit_until_stopped(connection, object_ids, acknowledged, stop):
    while not stop.is_set():
        token = str(uuid.uuid4())
        body = json.dumps(factories.rating_payload(object_ids[len(token) % len(object_ids)], 5, 4, 4, 5,
                                                   client_token=token))
        try:
            connection.request("POST", "/api/v1/ratings", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            return  # the server is gone: whatever was not answered was not acknowledged
        if response.status == 201:
            acknowledged.append((json.loads(payload)["id"], token))


@pytest.mark.slow
def test_every_acknowledged_rating_survives_sigkill(app, database_url):
    with app.app_context(), database.connection_context():
        world = factories.small_world()
    object_ids = [world.school.id, world.clinic.id, world.clinic_kids.id, world.zags.id]
    database.close_all()

    port = _free_port()
    server = _start(database_url, port)
    acknowledged, stop = [], threading.Event()
    threads = [threading.Thread(target=_submitter, args=(port, object_ids, acknowledged, stop)) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-load
    server.wait()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 50, "the load did not get going"

    restarted = _start(database_url, port)
    try:
        with app.app_context(), database.connection_context():
            stored = dict(Rating.select(Rating.id, Rating.client_token).tuples())
        missing = [(i, t) for i, t in acknowledged if stored.get(i) != t]
        assert not missing, f"{len(missing)} acknowledged ratings lost"
        # The restarted server answers for them too: a retry is recognised.
        rating_id, token = acknowledged[-1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", "/api/v1/ratings", headers={"Content-Type": "application/json"},
                           body=json.dumps(factories.rating_payload(object_ids[0], client_token=token)))
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200 and answer["id"] == rating_id
        connection.close()
        # And every acknowledged rating is in the ledger, whose chain holds.
        with app.app_context(), database.connection_context():
            from service import ledger
            assert ledger.verify() >= len(acknowledged)
            assert answer["receipt"] == ledger.receipt_of(rating_id)
    finally:
        os.killpg(restarted.pid, signal.SIGKILL)
        restarted.wait()
        database.close_all()
