"""The database: one unbound handle, bound at app creation to SQLite or
PostgreSQL, plus the schema versions and the ``init-db`` command.

Connections come from a pool and stay open between requests: opening a
SQLite file or a PostgreSQL session per request costs more than the
request itself.
"""
import contextlib
import fcntl
import json
import os
import threading
from urllib.parse import urlparse, parse_qs, unquote

import click
from flask.cli import with_appcontext
from flask import g
from peewee import DatabaseProxy, Model, TextField, IntegerField, SQL
from playhouse.pool import PooledSqliteDatabase, PooledPostgresqlDatabase

database = DatabaseProxy()

# WAL lets readers run beside the one writer; synchronous=FULL makes a
# commit wait for the WAL fsync, so an acknowledged rating survives a power
# cut and not only a process crash. The busy timeout is long because a
# short one turns ordinary lock contention into errors.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -32_000,
}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class JSONField(TextField):
    """JSON kept as text, so that SQLite and PostgreSQL store it alike."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


def is_sqlite(db=None):
    db = db or database.obj
    return isinstance(db, PooledSqliteDatabase)


def make_database(url):
    """An unconnected pooled database for a ``sqlite:///path`` or
    ``postgresql://user@host:port/name`` URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path[1:]
        if not path or path == ":memory:":
            raise ValueError("an SQLite database must be a file: sqlite:///path/to/file")
        db = PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, max_connections=32,
                                  stale_timeout=3600, check_same_thread=False, timeout=10)
        db.writer_queue = WriterQueue(path)
        return db
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None, port=parsed.port or None,
            max_connections=32, stale_timeout=3600, **options)
    raise ValueError(f"OCENKA_DATABASE_URL must start with sqlite:/// or postgresql:// (was {url!r})")


def init_app(app):
    db = make_database(app.config["DATABASE_URL"])
    if is_sqlite(db):
        from pathlib import Path
        Path(db.database).parent.mkdir(parents=True, exist_ok=True)
    database.initialize(db)

    @app.before_request
    def _connect():
        g.opened_connection = database.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        # Returns the connection to the pool, where it stays open; one the
        # caller opened (a CLI command, a test) is the caller's to close.
        if g.pop("opened_connection", False) and not database.is_closed():
            database.close()

    app.cli.add_command(init_db_command)


# -- schema versions ---------------------------------------------------------

class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    description = TextField()
    applied = TextField(constraints=[SQL("DEFAULT CURRENT_TIMESTAMP")])


def current_version():
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    latest = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return latest.version if latest else 0


def migrate(target=None, echo=lambda message: None):
    """Brings the schema to ``target`` (the newest by default), one version
    at a time, each in its own transaction, keeping every row."""
    from service.migrations import MIGRATIONS
    database.create_tables([SchemaVersion])
    target = target if target is not None else MIGRATIONS[-1][0]
    version = current_version()
    for number, description, step in MIGRATIONS:
        if version < number <= target:
            with database.atomic():
                step(database)
                SchemaVersion.create(version=number, description=description)
            echo(f"schema version {number}: {description}")
    return current_version()


def analyze():
    """Refreshes the planner's statistics. SQLite keeps none until asked,
    and without them it joins the roll-up tables in the wrong order."""
    database.execute_sql("ANALYZE")


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the schema, or upgrade an existing database in place."""
    with database.connection_context():
        before = current_version()
        after = migrate(echo=click.echo)
        analyze()
    if before == after:
        click.echo(f"schema is up to date (version {after})")
    else:
        click.echo(f"schema upgraded from version {before} to {after}")


class WriterQueue:
    """Lets one writer at a time into an SQLite database, across the
    threads of this process (a mutex) and across processes (an exclusive
    flock on a file beside the database).

    SQLite admits one writer anyway; but a writer that finds the lock taken
    waits in SQLite's busy handler, which sleeps in steps of up to 100 ms,
    so under load most of the time goes to sleeping. Queued on a mutex and
    a flock, the next writer runs the moment the previous one commits.
    """

    def __init__(self, database_path):
        self.path = f"{database_path}.write-lock"
        self.mutex = threading.Lock()
        self.fd = None
        self.pid = None

    def _descriptor(self):
        # A descriptor inherited through fork shares its lock with the
        # parent, so each process opens its own.
        if self.pid != os.getpid():
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self.pid = os.getpid()
        return self.fd

    @contextlib.contextmanager
    def turn(self):
        with self.mutex:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def write_transaction():
    """A transaction for a short write on the request path. On SQLite it
    waits its turn in the writer queue, then takes the write lock at once
    (a deferred transaction that reads first and writes later can fail on
    the upgrade instead of waiting)."""
    if database.in_transaction():
        # Already inside a writer's transaction: a savepoint, not a second
        # turn in the queue (its mutex is not reentrant).
        with database.atomic():
            yield
    elif is_sqlite():
        with database.obj.writer_queue.turn(), database.atomic(lock_type="IMMEDIATE"):
            yield
    else:
        with database.atomic():
            yield


def bulk_insert(model, fields, rows, page_size=2000):
    """Inserts many rows of values for ``fields`` through the driver's
    own batch call. Building one huge INSERT through the query builder
    costs far more than executing it, which matters for demo data and for
    rebuilding aggregates."""
    table = model._meta.table_name
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    converters = [field.db_value for field in fields]
    values = ([convert(value) for convert, value in zip(converters, row)] for row in rows)
    cursor = database.cursor()
    if is_sqlite():
        placeholders = ", ".join("?" * len(fields))
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})', values)
    else:
        from psycopg2.extras import execute_values
        execute_values(cursor, f'INSERT INTO "{table}" ({columns}) VALUES %s', list(values), page_size=page_size)


_dialect_sql = {}


def run(sql, params=()):
    """Executes SQL written once with ``?`` placeholders, on either
    database. For the hot paths (taking a rating): there, building each
    statement through the query builder costs several times more than the
    database spends executing it."""
    postgres = not is_sqlite()
    text = _dialect_sql.get((sql, postgres))
    if text is None:
        text = _dialect_sql[(sql, postgres)] = sql.replace("?", "%s") if postgres else sql
    return database.execute_sql(text, params)
