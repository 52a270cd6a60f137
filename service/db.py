"""The database: one unbound handle, bound at app creation to SQLite or
PostgreSQL, plus the schema versions and the ``init-db`` command.

Connections come from a pool and stay open between requests: opening a
SQLite file or a PostgreSQL session per request costs more than the
request itself.
"""
import contextlib
import errno
import fcntl
import io
import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, parse_qs, unquote

import click
import peewee
from flask.cli import with_appcontext
from flask import g, request
from peewee import DatabaseProxy, Model, TextField, IntegerField, SQL
from playhouse.pool import MaxConnectionsExceeded, PooledSqliteDatabase, PooledPostgresqlDatabase

database = DatabaseProxy()

# How long a request waits for the database (a pooled connection, a
# PostgreSQL connect, its turn in the SQLite writer queue, SQLite's lock)
# before it is answered 503 with Retry-After: long enough for ordinary
# contention, short enough that a stuck writer or a dead server does not
# hold every thread of every worker.
WAIT_SECONDS = 5
RETRY_AFTER_SECONDS = 5

# WAL lets readers run beside the one writer; synchronous=FULL makes a
# commit wait for the WAL fsync, so an acknowledged rating survives a power
# cut and not only a process crash. The busy timeout matters only for a
# writer outside the writer queue (a CLI command): request writers queue on
# the queue, not on SQLite's lock; it is bounded like every other wait.
# The WAL is copied back into the database every 10,000 pages (40 MB)
# instead of SQLite's 1,000: a page that batches rewrite (the newest leaf
# of the ratings and of the ledger, the ledger's head, a busy object's
# sums, an index's upper levels) is copied once for ten times as many
# batches, and the checkpoint's syncs come a tenth as often. With ratings
# of objects drawn at random at the real portal's size, the writer spent
# 6-9 % less CPU per rating and took 1-8 % more ratings a second
# (docs/benchmarks.md). The price: a WAL file of up to 40 MB, and a longer
# pause of the writer's turn for each copy, a tenth as often (under full
# load the slowest 1 % of ratings were answered in 45 ms instead of 25).
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": WAIT_SECONDS * 1000,
    "cache_size": -32_000,
    "wal_autocheckpoint": 10_000,
}


class DatabaseBusy(Exception):
    """The request could not get its turn to write within ``WAIT_SECONDS``."""


def unavailable_reason(error):
    """Why ``error`` means the database cannot be had right now (a 503 to
    retry), or None when it is a fault of the request or the code (a 500).

    peewee re-raises the driver's error as its own, with the driver's in
    ``__context__``."""
    if isinstance(error, DatabaseBusy):
        return "the database is busy"
    if isinstance(error, MaxConnectionsExceeded):
        return "every database connection is in use"
    if not isinstance(error, (peewee.OperationalError, peewee.InterfaceError)):
        return None
    original = error.__cause__ or error.__context__ or error
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - installed with the service
        psycopg2 = None
    if psycopg2 is not None and isinstance(original, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        # psycopg2's OperationalError is the server's or the network's
        # state (refused, timed out, shut down, too many clients, a
        # cancelled statement); its InterfaceError, a connection that died.
        return "the database server cannot be reached or cannot serve the request now"
    message = str(original).lower()
    if isinstance(error, peewee.OperationalError):
        if "locked" in message or "busy" in message:
            return "the database is busy"
        if "unable to open" in message or "disk i/o" in message or "disk is full" in message:
            return "the database file cannot be opened or written"
    return None


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
        # timeout: how long to wait for a free pooled connection.
        db = PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, max_connections=32,
                                  stale_timeout=3600, check_same_thread=False, timeout=WAIT_SECONDS)
        db.writer_queue = WriterQueue(path)
        db.write_group = WriteGroup(db.writer_queue)
        return db
    if parsed.scheme in ("postgres", "postgresql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        # Without connect_timeout libpq waits for the operating system's TCP
        # timeout (minutes) on a server that does not answer.
        options.setdefault("connect_timeout", str(WAIT_SECONDS))
        db = PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None, port=parsed.port or None,
            max_connections=32, stale_timeout=3600, timeout=WAIT_SECONDS, **options)
        db.write_group = WriteGroup(ProcessTurn())
        return db
    raise ValueError(f"OCENKA_DATABASE_URL must start with sqlite:/// or postgresql:// (was {url!r})")


def without_database(view):
    """Marks a view that answers without the database (``/widget.js``,
    ``/healthz``, which connects by itself), so that no connection is taken
    for it: the widget on every embedding site keeps working while the
    database is down."""
    view.without_database = True
    return view


def _needs_database(app):
    if request.endpoint == "static":
        return False
    view = app.view_functions.get(request.endpoint)
    return not getattr(view, "without_database", False)


def _check_sqlite_directory(app, db):
    """A wrong path must stop the start, not give an empty new database
    that pages then fail on. Only the default file under instance/ (whose
    folder the app makes) may be created along with its directory."""
    path = Path(db.database)
    default = Path(app.instance_path) / "ocenka.sqlite3"
    if path.absolute() == default.absolute():
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise RuntimeError(f"OCENKA_DATABASE_URL names the SQLite file {path}, but its directory "
                           f"{path.parent.absolute()} does not exist: create it, or correct the URL")


def init_app(app):
    db = make_database(app.config["DATABASE_URL"])
    if is_sqlite(db):
        _check_sqlite_directory(app, db)
    database.initialize(db)

    @app.before_request
    def _connect():
        if _needs_database(app):
            g.opened_connection = database.connect(reuse_if_open=True)

    @app.teardown_request
    def _release(exc):
        # Returns the connection to the pool, where it stays open; one the
        # caller opened (a CLI command, a test) is the caller's to close.
        if g.pop("opened_connection", False) and not database.is_closed():
            database.close()

    app.cli.add_command(init_db_command)


@contextlib.contextmanager
def connection():
    """A connection for a view marked ``without_database`` that wants one
    after all; reuses an open one and then leaves it open."""
    opened = database.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


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


def schema_state():
    """(the newest applied version, the code's steps not applied) from one
    read of the versions: for /healthz, which a load balancer asks every
    few seconds."""
    from service.migrations import MIGRATIONS
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0, [number for number, _, _ in MIGRATIONS]
    applied = {int(v) for v, in run("SELECT version FROM schema_version").fetchall()}
    return max(applied, default=0), [number for number, _, _ in MIGRATIONS if number not in applied]


def missing_versions():
    """The schema steps this code has that the database has not applied,
    in-between ones included."""
    from service.migrations import MIGRATIONS
    applied = set()
    if database.table_exists(SchemaVersion._meta.table_name):
        applied = {v for v, in SchemaVersion.select(SchemaVersion.version).tuples()}
    return [number for number, _, _ in MIGRATIONS if number not in applied]


def migrate(target=None, echo=lambda message: None):
    """Brings the schema to ``target`` (the newest by default), one version
    at a time, each in its own transaction, keeping every row."""
    from service.migrations import MIGRATIONS
    database.create_tables([SchemaVersion])
    target = target if target is not None else MIGRATIONS[-1][0]
    # Every step not yet applied, not only those above the newest applied:
    # steps numbered apart by parallel work may land in either order.
    applied = {version for version, in SchemaVersion.select(SchemaVersion.version).tuples()}
    for number, description, step in MIGRATIONS:
        if number not in applied and number <= target:
            with database.atomic():
                step(database)
                SchemaVersion.create(version=number, description=description)
            echo(f"schema version {number}: {description}")
    return current_version()


def analyze(vacuum=False):
    """Refreshes the planner's statistics. SQLite keeps none until asked,
    and without them it joins the roll-up tables in the wrong order.

    ``vacuum``, after a bulk load on PostgreSQL: VACUUM too, which marks the
    loaded pages all-visible. Without it the first queries to read each
    row set its hint bits (writing the table again, millions of rows at
    ten times the real portal) and no scan can skip the table for the
    index alone. At 10× it took 5 s."""
    if vacuum and not is_sqlite():
        database.execute_sql("VACUUM (ANALYZE)")
    else:
        database.execute_sql("ANALYZE")


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the schema, or upgrade an existing database in place."""
    with database.connection_context():
        before, missing = current_version(), missing_versions()
        after = migrate(echo=click.echo)
        analyze()
    if not missing:
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

    The wait is bounded: a writer that does not get its turn within
    ``timeout`` seconds raises ``DatabaseBusy`` (a 503), so that one stuck
    writer cannot hold every thread. flock itself cannot time out, so the
    file lock is tried without blocking and retried in short sleeps; only
    one thread per process is ever at that step (the others wait on the
    mutex), and the sleeps start at a tenth of a millisecond, so the next
    writer still starts about as soon as the previous one is done.
    """

    POLL_FIRST, POLL_MAX = 0.0001, 0.005

    def __init__(self, database_path, timeout=WAIT_SECONDS):
        self.path = f"{database_path}.write-lock"
        self.timeout = timeout
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
    def turn(self, timeout=None, needed=None):
        """Holds the writer's turn for the ``with`` block. ``needed``, when
        given, is asked once this thread has its process's turn: when it
        answers False (a group commit's follower whose write another thread
        committed meanwhile), the block runs without the file lock, so that
        the other processes' writers are not kept waiting for nothing."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        if not self.mutex.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise DatabaseBusy("no turn in the writer queue (another thread of this process is writing)")
        try:
            if needed is not None and not needed():
                yield
                return
            fd = self._descriptor()
            self._lock_file(fd, deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self.mutex.release()

    def _lock_file(self, fd, deadline):
        pause = self.POLL_FIRST
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
            if time.monotonic() + pause > deadline:
                raise DatabaseBusy("no turn in the writer queue (another process is writing)")
            time.sleep(pause)
            pause = min(pause * 2, self.POLL_MAX)


class ProcessTurn:
    """The turn of a group commit on PostgreSQL: one batch at a time in
    this process. Batches of several processes (or servers) take their
    turns on the database's advisory lock (``WriteGroup``), which needs no
    file shared between them."""

    POLL_FIRST = WriterQueue.POLL_FIRST

    def __init__(self, timeout=WAIT_SECONDS):
        self.timeout = timeout
        self.mutex = threading.Lock()

    @contextlib.contextmanager
    def turn(self, timeout=None, needed=None):  # noqa: ARG002 - nothing beyond the mutex to spare
        if not self.mutex.acquire(timeout=max(self.timeout if timeout is None else timeout, 0)):
            raise DatabaseBusy("no turn for the batch of writes (another thread of this process is committing)")
        try:
            yield
        finally:
            self.mutex.release()


class Later:
    """What a grouped write leaves to the end of its batch: after every
    write of the batch, in the same transaction, ``finish_all`` is called
    once with the ``item`` of each write that left one to it, in their
    order, and returns each one's result, which becomes that write's. The
    ratings ledger appends there, so that its head is locked once per batch
    and last, as in a single write, never while the batch still waits for
    other locks, and a batch's entries go in together."""
    __slots__ = ("item", "finish_all")

    def __init__(self, item, finish_all):
        self.item, self.finish_all = item, finish_all


def finished(results):
    """``results`` with each ``Later`` replaced by what came of it."""
    results = list(results)
    waiting = {}
    for index, result in enumerate(results):
        if isinstance(result, Later):
            waiting.setdefault(result.finish_all, []).append(index)
    for finish_all, indexes in waiting.items():
        for index, value in zip(indexes, finish_all([results[i].item for i in indexes]), strict=True):
            results[index] = value
    return results


class _WorkFailed(Exception):
    """A write of a batch run without savepoints failed: the batch's
    transaction is rolled back and run again with them."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


# One key of PostgreSQL's advisory locks for the batches of every process:
# they take turns, as SQLite's single writer does.
GROUP_LOCK_KEY = 0x6F63656E6B61  # "ocenka"


def take_group_turn():
    """On PostgreSQL, waits for the batches of other processes and servers
    and holds the turn until the transaction ends. So every grouped write
    sees all those committed before it: a limit counted in one stays
    counted for the next. A write outside the batches that changes the
    same aggregates (a held cluster released, the roll-up rebuilt) takes
    it too, inside its transaction: each locks many rows of the
    aggregates, in orders of its own (a roll-up statement's rows come in
    no set order), and two transactions locking the same rows in
    different orders can deadlock (on SQLite every write takes the one
    writer's turn anyway)."""
    if not is_sqlite():
        run("SELECT pg_advisory_xact_lock(?)", (GROUP_LOCK_KEY,))


class _Write:
    """One caller's work in a group commit, and what came of it."""
    __slots__ = ("work", "result", "error", "done")

    def __init__(self, work):
        self.work, self.result, self.error, self.done = work, None, None, False


class WriteGroup:
    """Group commit: the writes that arrive while one commit is on its way
    to the disk go into the next commit together.

    A durable commit waits for an fsync, a millisecond or more, and SQLite
    admits one writer at a time, so one commit per rating caps throughput
    at one fsync per rating. On PostgreSQL every rating locks the ratings
    ledger's head until its commit, so ratings commit one after another
    there too; a batch locks it once. Here a caller queues its work and tries to
    take the writer's turn; whoever gets it runs every queued work in one
    transaction, commits once, and hands every caller its result. Should a
    work fail, the transaction is rolled back and the batch run again with
    each work in a savepoint of its own, so that the failing one is rolled
    back alone and its error goes to its caller. A caller whose work a
    previous turn already committed returns at once. Nobody is answered
    before the commit that holds their write is on disk.

    The works run on the turn-holder's thread and connection: a work must
    use only the database and what it was given, not its caller's
    thread-local state, and may run twice (its first run rolled back). A
    refusal it decides before writing is better returned than raised: a
    raised one costs its batch that second run.
    """

    def __init__(self, queue):
        self.queue = queue
        self.pending = []
        self.pending_lock = threading.Lock()
        self.commits = 0  # for tests and benchmarks: how many batches

    def run(self, work, timeout=None):
        write = _Write(work)
        with self.pending_lock:
            self.pending.append(write)
        deadline = time.monotonic() + (self.queue.timeout if timeout is None else timeout)
        while not write.done:
            try:
                with self.queue.turn(max(deadline - time.monotonic(), 0), needed=lambda: not write.done):
                    if not write.done:
                        self._commit_pending()
            except DatabaseBusy:
                if write.done:
                    break
                with self.pending_lock:
                    if write in self.pending:
                        self.pending.remove(write)
                        raise
                # Taken by a turn that is committing now: its answer comes.
                while not write.done:
                    time.sleep(self.queue.POLL_FIRST)
        if write.error is not None:
            raise write.error
        return write.result

    @staticmethod
    def _transaction():
        if is_sqlite():
            return database.atomic(lock_type="IMMEDIATE")
        return database.atomic()

    def commit_all(self, works):
        """Runs ``works`` as one batch in the writer's turn and returns each
        one's ``(result, error)``: the writer process's batches
        (service/writer.py), whose callers wait elsewhere."""
        batch = [_Write(work) for work in works]
        with self.queue.turn():
            self._commit_batch(batch)
        return [(write.result, write.error) for write in batch]

    def _commit_pending(self):
        with self.pending_lock:
            batch, self.pending = self.pending, []
        self._commit_batch(batch)
        for write in batch:
            write.done = True

    def _commit_batch(self, batch):
        try:
            try:
                # First without savepoints: they cost two statements per
                # write, and a write rarely fails (a refusal is a result).
                self._commit(batch, savepoints=False)
            except _WorkFailed as failed:
                if len(batch) == 1:
                    batch[0].result, batch[0].error = None, failed.error
                else:
                    # Rolled back: again, each write in a savepoint of its
                    # own, so that the failure stays its own caller's.
                    self._commit(batch, savepoints=True)
        except Exception as error:  # noqa: BLE001 - the commit failed: nobody's write stands
            for write in batch:
                write.result, write.error = None, error
        self.commits += 1

    def _commit(self, batch, savepoints):
        with self._transaction():
            take_group_turn()
            for write in batch:
                write.result, write.error = None, None
                if savepoints:
                    try:
                        with database.atomic():
                            write.result = write.work()
                    except Exception as error:  # noqa: BLE001 - handed to its own caller
                        write.error = error
                else:
                    try:
                        write.result = write.work()
                    except Exception as error:
                        raise _WorkFailed(error) from error
            # What the writes left to the end; a failure here fails the
            # whole batch (above), so nothing stands half-done.
            standing = [write for write in batch if write.error is None]
            for write, result in zip(standing, finished([write.result for write in standing]), strict=True):
                write.result = result


def grouped_write(work):
    """Runs ``work()`` in a write transaction and returns its result once the
    transaction is durable: concurrent callers share commits
    (``WriteGroup``). Inside a transaction already it joins that one. A
    ``Later`` that ``work`` returns is finished before the commit."""
    if not database.in_transaction():
        return database.obj.write_group.run(work)
    with write_transaction():
        take_group_turn()
        return finished([work()])[0]


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


def bulk_insert(model, fields, rows, page_size=2000, converted=False, plain=False):
    """Inserts many rows of values for ``fields`` through the driver's
    own batch call. Building one huge INSERT through the query builder
    costs far more than executing it, which matters for demo data and for
    rebuilding aggregates. ``converted``: the rows hold what the fields'
    ``db_value`` would give already (for millions of rows, converting each
    value costs more than storing it). ``plain``: besides, no text among
    them holds a tab, a line break or a backslash, so PostgreSQL's COPY
    lines are joined without escaping each value."""
    table = model._meta.table_name
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    if converted:
        values = rows
    else:
        converters = [field.db_value for field in fields]
        values = ([convert(value) for convert, value in zip(converters, row)] for row in rows)
    cursor = database.cursor()
    if is_sqlite():
        placeholders = ", ".join("?" * len(fields))
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})', values)
    else:
        # COPY rather than INSERT ... VALUES: the server parses a stream of
        # lines instead of statements, several times faster for the
        # millions of rows the demo loads at ten times the real portal.
        copy = f'COPY "{table}" ({columns}) FROM STDIN'
        page = []
        for row in values:
            if plain:
                # PostgreSQL reads True and False as booleans too.
                page.append("\t".join(["\\N" if value is None else str(value) for value in row]))
            else:
                page.append("\t".join(map(_copy_text, row)))
            if len(page) >= page_size * 10:
                cursor.copy_expert(copy, io.StringIO("\n".join(page) + "\n"))
                page = []
        if page:
            cursor.copy_expert(copy, io.StringIO("\n".join(page) + "\n"))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_text(value):
    """One value in PostgreSQL's COPY text format."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        # translate() walks the text character by character in Python's
        # own loop: only for the rare text that needs it.
        return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    return str(value).translate(_COPY_ESCAPES)


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


def fetch_in_chunks(sql, params=(), size=5000):
    """Yields the rows of a large query a few thousand at a time (``sql``
    in the database's own placeholders, as ``query.sql()`` gives it).

    PostgreSQL's client library holds a whole result in memory before the
    first row reaches Python: all organizations' rows of a ranking at ten
    times the real portal were tens of megabytes per worker, at the peak
    over the 300 MB a worker may use. So there the rows come through a
    server-side cursor, in a transaction (a savepoint inside one) that
    ends when the last chunk is read. SQLite hands rows over as they are
    stepped, so a plain cursor does."""
    if is_sqlite():
        cursor = database.execute_sql(sql, params)
        while chunk := cursor.fetchmany(size):
            yield chunk
        return
    with database.atomic():
        # psycopg2 refuses a named cursor on a connection in autocommit
        # (peewee's, which opens transactions by statements) unless WITH
        # HOLD; closed before the transaction ends, it is never
        # materialized as a held cursor would be at the commit.
        cursor = database.connection().cursor(name=f"chunks_{os.getpid()}_{threading.get_ident()}",
                                              withhold=True)
        try:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(size):
                yield chunk
        finally:
            cursor.close()
