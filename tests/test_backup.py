"""``flask --app wsgi backup PATH``: a copy made while the service runs,
restored, gives the same figures (and the same ledger head once there is one)."""
import subprocess
import threading
import uuid

import pytest

from service import ranking
from service.db import database, make_database
from service.models import Rating
from tests import factories
from tests.conftest import _postgres_admin


def _state():
    """What a restore must reproduce: every rating, every aggregate, the
    ledger head if the ledger exists."""
    state = {"ratings": sorted((r.id, r.object_id, r.simplicity, r.politeness, r.status)
                               for r in Rating.select()),
             "aggregates": ranking.stored_aggregates(),
             "rollups": ranking.stored_rollup_aggregates()}
    try:
        from service import ledger
    except ImportError:
        pass
    else:
        state["ledger"] = ledger.head()
    return state


def _state_of(url):
    """``_state()`` of another database, read through the app's models
    (which reach the database through one proxy, pointed there meanwhile)."""
    original = database.obj
    other = make_database(url)
    database.initialize(other)
    try:
        with other.connection_context():
            return _state()
    finally:
        other.close_all()
        database.initialize(original)
        ranking.clear_cache()


def _recomputed_of(url):
    original = database.obj
    other = make_database(url)
    database.initialize(other)
    try:
        with other.connection_context():
            return ranking.aggregates_from_ratings()
    finally:
        other.close_all()
        database.initialize(original)


def _restore_postgresql(dump):
    admin, url = _postgres_admin()
    name = f"ocenka_restore_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    target = f"{url.scheme}://{url.netloc}/{name}"
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True,
                   capture_output=True)
    return target, admin, name


def test_a_restored_backup_gives_the_same_figures(app, client, runner, world, tmp_path):
    for scores in ((5, 5, 5, 5), (1, 2, 1, 1), (4, 3, 5, 2)):
        assert factories.rate(client, world.school.id, *scores).status_code == 201
    factories.rate(client, world.clinic.id, 2, 2, 2, 2)
    with app.app_context(), database.connection_context():
        before = _state()
    assert len(before["ratings"]) == 4

    copy = tmp_path / "copy.backup"
    result = runner.invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and copy.stat().st_size > 0

    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        assert _state_of(f"sqlite:///{copy}") == before
    else:
        restored, admin, name = _restore_postgresql(copy)
        try:
            assert _state_of(restored) == before
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


def test_a_backup_taken_during_writes_is_consistent(app, client, runner, world, tmp_path):
    # Ratings keep arriving while the copy is made: the copy must be one
    # moment of the database, its aggregates agreeing with its ratings.
    for _ in range(20):
        factories.rate(client, world.school.id, 3, 4, 5, 2)
    stop = threading.Event()
    written = []

    def keep_rating():
        writer = app.test_client()
        while not stop.is_set():
            written.append(factories.rate(writer, world.school.id, 5, 1, 4, 2).status_code)

    thread = threading.Thread(target=keep_rating)
    thread.start()
    try:
        copies = [tmp_path / f"copy-{i}.backup" for i in range(3)]
        for copy in copies:
            result = runner.invoke(args=["backup", str(copy)])
            assert result.exit_code == 0, result.output
    finally:
        stop.set()
        thread.join()
    assert written and set(written) == {201}

    url = app.config["DATABASE_URL"]
    for copy in copies:
        if url.startswith("sqlite"):
            restored, cleanup = f"sqlite:///{copy}", None
        else:
            restored, admin, name = _restore_postgresql(copy)
            cleanup = (admin, name)
        try:
            state = _state_of(restored)
            assert len(state["ratings"]) >= 20
            recomputed = _recomputed_of(restored)
            assert state["aggregates"] == recomputed
        finally:
            if cleanup:
                admin, name = cleanup
                with admin.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()


@pytest.mark.parametrize("target, message", [
    ("missing-directory/copy.backup", "does not exist"),
    (".", "is a directory"),
])
def test_backup_refuses_a_bad_target(runner, db, tmp_path, monkeypatch, target, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["backup", target])
    assert result.exit_code != 0 and message in result.output


def test_backup_never_overwrites_the_sqlite_database_itself(app, runner, db):
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("an SQLite database file")
    result = runner.invoke(args=["backup", url[len("sqlite:///"):]])
    assert result.exit_code != 0 and "overwrite the database itself" in result.output
