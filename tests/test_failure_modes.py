"""When the database is missing, down, busy or at another schema: what needs
no database keeps working, /healthz says why it is not ready, and every
other request is answered 503 with Retry-After within a few seconds, never
a hang, a 500 or an HTML page under /api. Plus the start-up checks: a
SQLite path whose directory does not exist, and the secret key file."""
import fcntl
import multiprocessing
import os
import shutil
import socket
import sqlite3
import threading
import time
from types import SimpleNamespace

import peewee
import pytest

from service import create_app, db as dbmodule, health
from service.config import _secret_key
from service.db import DatabaseBusy, WriterQueue, database, make_database, migrate, unavailable_reason
from tests import factories
from tests.test_embed import served as served_widget


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_down():
    """An app whose PostgreSQL refuses connections (nothing listens on the port)."""
    app = create_app({"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/ocenka",
                      "SECRET_KEY": "test", "TESTING": True})
    yield app
    database.close_all()


@pytest.fixture
def sqlite_gone(tmp_path):
    """An app whose SQLite file was there at start and whose directory was then removed."""
    folder = tmp_path / "data"
    folder.mkdir()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'ocenka.sqlite3'}", "SECRET_KEY": "test",
                      "TESTING": True})
    with app.app_context(), database.connection_context():
        migrate()
        factories.small_world()
    database.close_all()
    shutil.rmtree(folder)
    yield app
    database.close_all()


@pytest.fixture(params=["postgres_down", "sqlite_gone"])
def unreachable(request):
    return request.getfixturevalue(request.param)


def test_the_widget_is_served_without_the_database(unreachable):
    client = unreachable.test_client()
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.data == served_widget()
    etag = response.headers["ETag"]
    assert client.get("/widget.js", headers={"If-None-Match": etag}).status_code == 304


def test_static_files_are_served_without_the_database(unreachable):
    client = unreachable.test_client()
    for name in ("site.css", "rate.css"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        response.close()


def test_healthz_is_503_json_when_the_database_cannot_be_reached(unreachable):
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "unavailable" and body["reason"]
    assert response.headers["Retry-After"].isdigit()


@pytest.mark.parametrize("path", ["/api/v1/objects", "/api/v1/objects/1", "/api/v1/stats", "/api/v1/cabinet/audit"])
def test_the_api_answers_503_json_with_retry_after(unreachable, path):
    response = unreachable.test_client().get(path)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert list(response.get_json()["errors"]) == ["_database"]
    assert int(response.headers["Retry-After"]) > 0


def test_a_rating_is_answered_503_json(unreachable):
    response = unreachable.test_client().post("/api/v1/ratings", json=factories.rating_payload(1))
    assert response.status_code == 503
    assert response.get_json()["errors"]["_database"]
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("path", ["/", "/objects", "/objects/1", "/r/1", "/login", "/cabinet/"])
def test_pages_answer_a_readable_503_page(unreachable, path):
    response = unreachable.test_client().get(path + "?lang=en")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "<h1>Temporarily unavailable</h1>" in text
    assert "try again in a few seconds" in text
    assert "Traceback" not in text


def test_a_refused_postgresql_connection_is_answered_at_once(postgres_down):
    started = time.monotonic()
    assert postgres_down.test_client().get("/api/v1/stats").status_code == 503
    assert time.monotonic() - started < 2


def test_a_postgresql_server_that_never_answers_is_given_up_on(tmp_path):
    """A listener that takes the connection and says nothing, as a server
    behind a dead network path would: connect_timeout ends the wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        app = create_app({"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/ocenka?connect_timeout=1",
                          "SECRET_KEY": "test", "TESTING": True})
        started = time.monotonic()
        response = app.test_client().get("/api/v1/stats")
        assert response.status_code == 503 and "Retry-After" in response.headers
        assert time.monotonic() - started < 4
    finally:
        listener.close()
        database.close_all()


def test_postgresql_connections_time_out_by_default():
    db = make_database("postgresql://postgres@127.0.0.1:5432/ocenka")
    assert db.connect_params["connect_timeout"] == str(dbmodule.WAIT_SECONDS)
    db = make_database("postgresql://postgres@127.0.0.1:5432/ocenka?connect_timeout=2")
    assert db.connect_params["connect_timeout"] == "2"


# -- /healthz ---------------------------------------------------------------------

def test_healthz_is_ok_at_the_current_schema(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_at_another_schema_version(client, db, monkeypatch):
    monkeypatch.setattr(health, "EXPECTED_VERSION", health.EXPECTED_VERSION + 1)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert f"version {health.EXPECTED_VERSION - 1}" in body["reason"] and "init-db" in body["reason"]


def test_healthz_is_503_when_an_in_between_step_is_missing(client, runner, db):
    from service.db import SchemaVersion
    SchemaVersion.delete().where(SchemaVersion.version == 13).execute()
    response = client.get("/healthz")
    assert response.status_code == 503 and "lacks version 13" in response.get_json()["reason"]
    result = runner.invoke(args=["init-db"])
    assert "schema version 13" in result.output and "up to date" not in result.output
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_on_an_empty_sqlite_database(tmp_path):
    path = tmp_path / "new.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "test", "TESTING": True})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["reason"] == "the SQLite database file does not exist"
        assert not path.exists()  # asking did not make an empty database
        path.touch()
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert "version 0" in response.get_json()["reason"]
    finally:
        database.close_all()


def test_healthz_is_503_when_the_sqlite_file_was_removed(sqlite_gone):
    response = sqlite_gone.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "the SQLite database file does not exist"


# -- bounded waits: the SQLite writer queue and lock ---------------------------------

@pytest.fixture
def sqlite_only(backend):
    """Asked for before ``app``, so that the PostgreSQL run is skipped
    before its database is set up."""
    if backend != "sqlite":
        pytest.skip("the writer queue and its lock are SQLite's")


def test_a_writer_that_cannot_get_its_turn_gets_503_json(sqlite_only, client, world, monkeypatch):
    """Another process holds the queue's file lock (as a writer stuck for
    15 s would): the request gives up after the queue's timeout."""
    queue = database.obj.writer_queue
    monkeypatch.setattr(queue, "timeout", 0.3)
    other = os.open(queue.path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        response = client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id))
        waited = time.monotonic() - started
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(dbmodule.RETRY_AFTER_SECONDS)
    assert response.get_json()["errors"]["_database"][0].startswith("the database is busy")
    assert 0.25 < waited < 2
    # Once the lock is free the same rating goes in.
    assert client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id)).status_code == 201


def test_a_thread_waiting_behind_a_stuck_writer_gives_up(sqlite_only, client, world, monkeypatch):
    queue = database.obj.writer_queue
    monkeypatch.setattr(queue, "timeout", 0.3)
    holding, release = threading.Event(), threading.Event()

    def stuck_writer():
        with queue.turn():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=stuck_writer)
    thread.start()
    holding.wait(5)
    try:
        response = client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id))
    finally:
        release.set()
        thread.join()
    assert response.status_code == 503 and "Retry-After" in response.headers


def test_the_rating_page_answers_a_readable_503_when_busy(sqlite_only, client, world, monkeypatch):
    import re
    queue = database.obj.writer_queue
    monkeypatch.setattr(queue, "timeout", 0.2)
    page = client.get(f"/r/{world.school.id}?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    other = os.open(queue.path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        response = client.post(f"/r/{world.school.id}?lang=en", data={
            "csrf": csrf, "simplicity": 5, "information": 5, "timeliness": 5, "politeness": 5})
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert response.status_code == 503
    assert response.mimetype == "text/html" and "Retry-After" in response.headers
    assert "Temporarily unavailable" in response.get_data(as_text=True)


def test_a_writer_outside_the_queue_holding_sqlite_s_lock_gives_503(sqlite_only, client, world, db):
    """A CLI command in the middle of a long write holds SQLite's own lock:
    the request waits the busy timeout, then 503, not a 500."""
    database.execute_sql("PRAGMA busy_timeout = 200")
    outside = sqlite3.connect(database.obj.database, timeout=0, isolation_level=None)
    outside.execute("BEGIN IMMEDIATE")
    try:
        response = client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id))
    finally:
        outside.execute("ROLLBACK")
        outside.close()
        database.execute_sql(f"PRAGMA busy_timeout = {dbmodule.WAIT_SECONDS * 1000}")
    assert response.status_code == 503
    assert response.get_json()["errors"]["_database"][0].startswith("the database is busy")


def test_the_queue_lets_the_next_writer_in_once_free(tmp_path):
    queue = WriterQueue(str(tmp_path / "x.sqlite3"), timeout=2)
    order = []

    def writer(name):
        with queue.turn():
            order.append(name)
            time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(order) == list(range(5))


def test_the_queue_refuses_after_its_timeout(tmp_path):
    queue = WriterQueue(str(tmp_path / "x.sqlite3"), timeout=0.1)
    other = os.open(queue.path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy):
            with queue.turn():
                pass
        assert 0.09 < time.monotonic() - started < 1
    finally:
        os.close(other)
    with queue.turn():  # the mutex was released with the refusal
        pass


# -- what is a 503 and what stays a 500 -------------------------------------------------

def _wrapped(driver_error, wrapper):
    try:
        try:
            raise driver_error
        except Exception as error:
            raise wrapper(str(error)) from None
    except Exception as wrapped:
        wrapped.__context__ = driver_error
        return wrapped


@pytest.mark.parametrize("driver_error, wrapper, unavailable", [
    (sqlite3.OperationalError("database is locked"), peewee.OperationalError, True),
    (sqlite3.OperationalError("unable to open database file"), peewee.OperationalError, True),
    (sqlite3.OperationalError("no such table: rating"), peewee.OperationalError, False),
    (sqlite3.OperationalError('near "SELEC": syntax error'), peewee.OperationalError, False),
    (sqlite3.InterfaceError("Error binding parameter 1"), peewee.InterfaceError, False),
])
def test_which_sqlite_errors_mean_unavailable(driver_error, wrapper, unavailable):
    assert (unavailable_reason(_wrapped(driver_error, wrapper)) is not None) == unavailable


def test_which_postgresql_errors_mean_unavailable():
    import psycopg2
    assert unavailable_reason(_wrapped(psycopg2.OperationalError("could not connect to server"),
                                       peewee.OperationalError))
    assert unavailable_reason(_wrapped(psycopg2.InterfaceError("connection already closed"),
                                       peewee.InterfaceError))
    assert unavailable_reason(_wrapped(psycopg2.ProgrammingError("syntax error"), peewee.ProgrammingError)) is None
    assert unavailable_reason(ValueError("x")) is None


# -- start-up ------------------------------------------------------------------------

def test_a_sqlite_path_in_a_missing_directory_stops_the_start(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(RuntimeError, match="does not exist"):
        create_app({"DATABASE_URL": f"sqlite:///{missing / 'ocenka.sqlite3'}", "SECRET_KEY": "test"})
    assert not missing.parent.exists()


def test_the_default_database_directory_under_instance_is_created(tmp_path):
    instance = tmp_path / "instance"
    db = make_database(f"sqlite:///{instance / 'ocenka.sqlite3'}")
    dbmodule._check_sqlite_directory(SimpleNamespace(instance_path=str(instance)), db)
    assert instance.is_dir()


# -- the secret key file ---------------------------------------------------------------

def test_the_secret_key_is_made_once_and_kept(tmp_path):
    key = _secret_key(tmp_path)
    assert len(key) == 64 and _secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def _race(folder, barrier, results):
    barrier.wait()
    results.put(_secret_key(folder))


@pytest.mark.parametrize("attempt", range(3))
def test_workers_starting_at_once_all_read_one_whole_key(tmp_path, attempt):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(8), context.Queue()
    workers = [context.Process(target=_race, args=(tmp_path, barrier, results)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = [results.get(timeout=20) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert (tmp_path / "secret_key").read_text() == keys[0]


def test_the_key_file_never_shows_a_partial_key(tmp_path, monkeypatch):
    """The name appears only when the key is complete: at the moment of the
    link, the file being linked already holds the whole key."""
    seen = []
    real_link = os.link

    def watching_link(source, target, *args, **kwargs):
        with open(source) as f:
            seen.append(f.read())
        assert not os.path.exists(target)
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", watching_link)
    key = _secret_key(tmp_path)
    assert seen == [key]


def test_an_empty_key_file_is_a_clear_error(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="no usable secret key"):
        _secret_key(tmp_path)
