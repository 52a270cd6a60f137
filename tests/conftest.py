"""Fixtures: an app on a fresh database, SQLite or PostgreSQL.

Every test that takes ``app`` runs once per database in
``OCENKA_TEST_DATABASES`` (default ``sqlite,postgresql``). PostgreSQL is
the server at ``OCENKA_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``); the suite makes a database
of its own there and drops it at the end. Without a reachable server the
PostgreSQL runs are skipped, except under CI, where they fail.
"""
import functools
import os
import shutil
import uuid

import pytest

from service import create_app, ranking
from service.db import database, migrate
from service.models import ALL_TABLES
from tests import factories

def _share_url_builders():
    """Every test makes an app, and werkzeug compiles two URL builders,
    Python source turned into code, for each of its 140 routes: 0.1 s per
    app, a third of the suite's time. A builder is a plain function of the
    rule's parts and defaults that takes the rule as its first argument, so
    the suite compiles each once and shares it among the apps' equal rules.
    Should werkzeug change the private method, every app compiles its own."""
    from werkzeug.routing.rules import Rule
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    builders = {}

    def shared(rule, append_unknown=True):
        key = (rule.rule, tuple(rule._trace), repr(rule.defaults), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]
    Rule._compile_builder = shared


_share_url_builders()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Groups for pytest-xdist (scripts/test runs ``--dist loadgroup``): a
    module's tests stay on one worker, so that its module-wide fixtures
    are made once, and so do all the browser tests, which share one live
    server and its data, made for the whole session, in the order they
    are collected."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group("browser" if module.startswith("tests/browser/") else module))


POSTGRES_URL = os.environ.get("OCENKA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("OCENKA_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]


def _postgres_admin():
    import psycopg2
    from urllib.parse import urlparse
    url = urlparse(POSTGRES_URL)
    connection = psycopg2.connect(dbname=url.path.lstrip("/") or "postgres", user=url.username,
                                  password=url.password, host=url.hostname, port=url.port or 5432,
                                  connect_timeout=5)
    connection.autocommit = True
    return connection, url


@pytest.fixture(scope="session")
def postgres_database():
    """A throw-away PostgreSQL database for this test session."""
    try:
        admin, url = _postgres_admin()
    except Exception as error:  # noqa: BLE001 - any failure means no server
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    name = f"ocenka_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
        # A test commits after nearly every statement; not waiting for
        # each commit's flush to disk saves about a tenth of a PostgreSQL
        # test's time here. The server itself never stops in a test, and a committed
        # transaction stays visible to every connection, so no test can
        # tell; test_durability.py kills the application, not the server.
        cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    yield f"{url.scheme}://{url.netloc}/{name}", (admin, name)
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_database):
    """Migrates the session's PostgreSQL database once; tests then empty it."""
    url, _ = postgres_database
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context(), database.connection_context():
        migrate()
    database.close_all()
    return url


def _empty_postgres():
    """Empties the session's PostgreSQL database as ``TRUNCATE ...
    RESTART IDENTITY`` would, in milliseconds instead of most of a second
    (a TRUNCATE makes new files for every table)."""
    with database.atomic():
        database.execute_sql(_emptying())


@functools.cache
def _emptying():
    """The statements that empty the database. Foreign keys and triggers
    are off while the rows go (replica role), as for a TRUNCATE, so the
    published objects' count is reset as its TRUNCATE trigger does."""
    tables = [m._meta.table_name for m in ALL_TABLES]
    sequences = [row[0] for row in database.execute_sql(
        "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' "
        "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(%s)",
        (tables,)).fetchall()]
    return ";".join(["SET LOCAL session_replication_role = replica"]
                    + [f'DELETE FROM "{table}"' for table in tables]
                    + [f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences]
                    + ["UPDATE published_count SET n = 0"])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """An SQLite database migrated once: each test starts from a copy (the
    migration from nothing costs about 0.4 s, the copy a millisecond)."""
    path = tmp_path_factory.mktemp("template") / "ocenka.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "test", "TESTING": True})
    with app.app_context(), database.connection_context():
        migrate()
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close_all()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        path = tmp_path / "ocenka.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    if backend == "postgresql":
        return request.getfixturevalue("_postgres_schema")
    raise ValueError(f"unknown test database {backend!r}")


@pytest.fixture
def app_config():
    """Overridden by tests that need another configuration."""
    return {}


@pytest.fixture
def app(database_url, app_config, tmp_path):
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "TESTING": True,
              "BASE_URL": "https://ocenka.test", "POSTER_CACHE_DIR": str(tmp_path / "posters"),
              # Most tests rank a handful of ratings; tests/test_uncertainty.py
              # sets the threshold it checks.
              "MIN_RATINGS": 1}
    config.update(app_config)
    app = create_app(config)
    ranking.clear_cache()
    with app.app_context(), database.connection_context():
        if database_url.startswith("postgresql"):
            _empty_postgres()
        else:
            migrate()
    yield app
    database.close_all()
    ranking.clear_cache()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """An open connection inside an app context, for tests that use models."""
    with app.app_context(), database.connection_context():
        yield database


@pytest.fixture
def world(db):
    """A small realistic structure: spheres and regions, three published
    organizations (one with two subdivisions), a body, one unpublished."""
    return factories.small_world()
