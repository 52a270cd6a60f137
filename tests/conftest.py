"""Fixtures: an app on a fresh database, SQLite or PostgreSQL.

Every test that takes ``app`` runs once per database in
``OCENKA_TEST_DATABASES`` (default ``sqlite,postgresql``). PostgreSQL is
the server at ``OCENKA_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``); the suite makes a database
of its own there and drops it at the end. Without a reachable server the
PostgreSQL runs are skipped, except under CI, where they fail.
"""
import os
import uuid

import pytest

from service import create_app, ranking
from service.db import database, migrate
from service.models import ALL_TABLES
from tests import factories

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
    tables = ", ".join(f'"{m._meta.table_name}"' for m in ALL_TABLES)
    database.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ocenka.sqlite3'}"
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
