"""The writer process: one process that commits the grouped writes of every
worker of a server, so that they share batches.

Each gunicorn worker can run its own group commit (service/db.py,
``WriteGroup``), the workers taking turns on the database. Measured at the
real portal's size, a worker's batch then held the turn about twice as
long as its CPU time, because the request thread running it had to win
the interpreter's lock back from the worker's other request threads after
every statement (CPython runs one thread of a process at a time), while
the other worker waited for the turn and its CPU idled. Here a process of
its own, whose one thread does nothing else, takes the grouped writes of
all the workers over a local socket, runs whatever has arrived as one
batch (the same ``WriteGroup`` commit, on the same turns: the file lock on
SQLite, the advisory lock on PostgreSQL) and answers each write once its
commit is on disk. A worker that cannot reach the writer runs the write
itself, as before; nothing else changes.

Each batch commits as every write does here, waiting for the disk
(SQLite's synchronous=FULL, PostgreSQL's synchronous commit): one sync
for the batch, and nobody is answered, nor does a reader see the batch,
before it is on disk. Syncing the WAL from a thread of the writer's own
instead, while the next batch ran, cost the writer a sixth more CPU per
rating for the hand-overs between the threads (docs/benchmarks.md).

A write crosses the socket as the name of a function registered with
``task`` and its arguments, plain values in ``marshal``'s format: no code
travels, and the other end of the socket must run as the same user (the
socket is in Linux's abstract namespace, which has no file permissions).
``gunicorn.conf.py`` starts the writer beside the workers, through a
process that starts it again should it exit (``Supervisor``);
``python -m service.writer`` runs one by hand.
"""
import functools
import hashlib
import importlib
import logging
import marshal
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

import peewee

from service.db import WAIT_SECONDS, DatabaseBusy, database, grouped_write, is_sqlite, unavailable_reason
from service.errors import ApiError

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
# After a failed connection a worker runs its writes itself this long
# before it tries the writer again.
RETRY_SECONDS = 1.0
# How long a worker waits for the writer's answer (whole seconds): a little
# over the writer's own wait for its turn, which it answers.
ANSWER_SECONDS = WAIT_SECONDS + 2
# A write that finds the writer idle goes at once; one that arrives while
# writes keep coming waits this long for company, so that batches grow and
# the commit's fixed costs are shared. A batch holds at most one write of
# each connection: a worker's thread waits for its answer.
LINGER_SECONDS = 0.001
BUSY_SECONDS = 0.005

TASKS = {}
# The modules whose tasks the writer process runs: it imports them.
TASK_MODULES = ("service.ratings",)


def task(name):
    """Registers a grouped write the writer process may run by ``name``:
    a function of plain values (those ``marshal`` carries) that returns
    plain values, ``None``, a ``Later`` or an ``ApiError``."""
    def register(function):
        TASKS[name] = function
        return function
    return register


def grouped(name, args):
    """Runs the task ``name`` with ``args`` as a grouped write: in the
    writer process when there is one, in this process otherwise."""
    outcome = _send(name, args)
    if outcome is _NOT_SENT:
        return grouped_write(functools.partial(TASKS[name], *args))
    return outcome


def address(db):
    """The writer's socket for ``db``: one per database."""
    if is_sqlite(db):
        key = "sqlite:" + os.path.realpath(db.database)
    else:
        params = db.connect_params
        key = f"postgresql:{params.get('host')}:{params.get('port')}/{db.database}"
    return "\0ocenka-writer-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _same_user(sock):
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", credentials)[1] == os.getuid()


def _frame(value):
    payload = marshal.dumps(value)
    return _LENGTH.pack(len(payload)) + payload


def _read_frame(sock):
    """The payload of the one frame on its way: a worker has one write out
    at a time. Read whole where it fits, as an answer does: each call to
    the socket gives up the interpreter's lock, which a busy worker's
    thread then waits to win back."""
    data = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise EOFError("the writer closed the connection")
        data += chunk
        if len(data) >= _LENGTH.size:
            end = _LENGTH.size + _LENGTH.unpack_from(data)[0]
            if len(data) >= end:
                return data[_LENGTH.size:end]


# -- errors across the socket ---------------------------------------------------------

def _error_value(error):
    """What the worker needs of an error to answer as it would have."""
    if isinstance(error, ApiError):
        return ("api", error.errors, error.status, error.headers)
    if isinstance(error, peewee.IntegrityError):
        return ("integrity", str(error))
    reason = unavailable_reason(error)
    if reason is not None:
        return ("unavailable", reason)
    log.error("a grouped write failed in the writer process", exc_info=error)
    return ("failed", f"{type(error).__name__}: {error}")


def _error_from(value):
    kind = value[0]
    if kind == "api":
        return ApiError(value[1], status=value[2], headers=value[3])
    if kind == "integrity":
        return peewee.IntegrityError(value[1])
    if kind == "unavailable":
        return DatabaseBusy(value[1])
    return RuntimeError(f"the writer process: {value[1]}")


def _outcome_value(result, error):
    """A write's outcome as plain values: ``("ok", result)``, ``("refused",
    ...)`` for an ``ApiError`` it returned, ``("error", ...)``."""
    if error is not None:
        return ("error", _error_value(error))
    if isinstance(result, ApiError):
        return ("refused", (result.errors, result.status, result.headers))
    return ("ok", result)


# -- a worker's side ----------------------------------------------------------------

_NOT_SENT = object()


class _Client(threading.local):
    sock = None


_client = _Client()
_unreachable_until = 0.0


def _connect():
    global _unreachable_until
    if time.monotonic() < _unreachable_until:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(address(database.obj))
        if not _same_user(sock):
            raise ConnectionRefusedError("the writer's socket belongs to another user")
    except OSError:
        sock.close()
        _unreachable_until = time.monotonic() + RETRY_SECONDS
        return None
    # Kept by the kernel, the socket blocking for Python: given a timeout
    # of its own, Python polls before every send and receive, one more
    # call per read and write that gives up the interpreter's lock, which
    # a busy worker's thread then waits to win back.
    limit = struct.pack("ll", ANSWER_SECONDS, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
    return sock


def _drop():
    if _client.sock is not None:
        _client.sock.close()
        _client.sock = None


def _send(name, args):
    """The task's result from the writer process (or its error, raised);
    ``_NOT_SENT`` when there is no writer to take it. A writer lost after
    it took a write may have committed it: the caller runs it again, which
    a grouped write must bear (a rating's token makes the second a replay)."""
    if _client.sock is None:
        _client.sock = _connect()
        if _client.sock is None:
            return _NOT_SENT
    try:
        _client.sock.sendall(_frame((name, args)))
        kind, value = marshal.loads(_read_frame(_client.sock))
    except BlockingIOError:  # the kernel's timeout
        _drop()
        raise DatabaseBusy("the writer process did not answer in time") from None
    except (OSError, EOFError):
        _drop()
        return _NOT_SENT
    if kind == "error":
        raise _error_from(value)
    if kind == "refused":
        errors, status, headers = value
        return ApiError(errors, status=status, headers=headers)
    return value


# -- the writer's side ------------------------------------------------------------

class _Connection:
    __slots__ = ("sock", "buffer")

    def __init__(self, sock):
        self.sock, self.buffer = sock, bytearray()

    def frames(self):
        """The complete frames received so far."""
        while len(self.buffer) >= _LENGTH.size:
            size = _LENGTH.unpack_from(self.buffer)[0]
            if len(self.buffer) < _LENGTH.size + size:
                return
            payload = bytes(self.buffer[_LENGTH.size:_LENGTH.size + size])
            del self.buffer[:_LENGTH.size + size]
            yield payload


class Writer:
    """The writer's loop: whatever grouped writes have arrived, as one batch."""

    def __init__(self, app):
        self.app = app
        self.selector = selectors.DefaultSelector()
        self.listener = None
        self.stopping = False
        self.batches = 0
        self.last_batch = 0.0
        with app.app_context():
            self.name = address(database.obj)

    def bind(self):
        """Listens on the database's writer socket; False when another
        writer has it."""
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.listener.bind(self.name)
        except OSError:
            self.listener.close()
            return False
        self.listener.listen(256)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ)
        return True

    def close(self):
        """Stops listening and hangs up (a bound writer, served or not)."""
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
            key.fileobj.close()
        self.selector.close()

    def serve(self, parent=None, poll=1.0):
        """Until ``stop`` or, when ``parent`` is given, until that process is
        gone (a killed gunicorn leaves no writer behind); both are looked
        at every ``poll`` seconds at least."""
        try:
            while not self.stopping:
                batch = self._receive(poll)
                if parent is not None and os.getppid() != parent:
                    return
                if batch and time.monotonic() - self.last_batch < BUSY_SECONDS:
                    # A sleep, then whatever came meanwhile: waited for on
                    # the selector, the linger overshot by half a
                    # millisecond on average (epoll counts whole
                    # milliseconds, rounded up), while the writes held
                    # waited.
                    time.sleep(LINGER_SECONDS)
                    batch += self._receive(0)
                if batch:
                    self._commit(batch)
                    self.last_batch = time.monotonic()
        finally:
            self.close()

    def stop(self):
        self.stopping = True

    def _receive(self, timeout):
        batch = []
        for key, _ in self.selector.select(timeout):
            if key.fileobj is self.listener:
                self._accept()
            else:
                batch += self._read(key.data)
        return batch

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            if not _same_user(sock):
                sock.close()
                continue
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, _Connection(sock))

    def _read(self, connection):
        try:
            data = connection.sock.recv(1 << 16)
        except BlockingIOError:
            return []
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(connection.sock)
            connection.sock.close()
            return []
        connection.buffer += data
        return [(connection, payload) for payload in connection.frames()]

    def _commit(self, batch):
        works, replies = [], [None] * len(batch)
        for index, (_, payload) in enumerate(batch):
            try:
                name, args = marshal.loads(payload)
                works.append((index, functools.partial(TASKS[name], *args)))
            except Exception as error:  # noqa: BLE001 - answered to its sender
                replies[index] = _frame(("error", ("failed", f"not a task: {error!r}")))
        if works:
            with self.app.app_context():
                try:
                    with database.connection_context():
                        outcomes = database.obj.write_group.commit_all([work for _, work in works])
                except Exception as error:  # noqa: BLE001 - no turn, no connection: each sender is told
                    outcomes = [(None, error)] * len(works)
            for (index, _), (result, error) in zip(works, outcomes, strict=True):
                try:
                    replies[index] = _frame(_outcome_value(result, error))
                except ValueError as unmarshallable:  # a task's fault: its sender is told
                    replies[index] = _frame(("error", _error_value(unmarshallable)))
        self.batches += 1
        for (connection, _), reply in zip(batch, replies, strict=True):
            try:
                connection.sock.sendall(reply)
            except OSError:
                pass  # the worker is gone; the loop's next read closes the socket


# -- running it beside gunicorn -----------------------------------------------------

class Supervisor:
    """Runs ``python -m service.writer`` and starts it again when it exits,
    in a process of its own (``python -m service.writer --supervise``),
    which gunicorn's master starts before its workers (gunicorn.conf.py).

    Not a thread of the master: starting a process from a thread while the
    master forks a worker let the worker inherit the pipe through which the
    new process reports its start, and the thread waited on it for ever (the
    first writer ran, the next was never started). The workers do not wait
    for the writer: until it listens, and whenever it is gone, they write
    themselves."""

    def __init__(self, command=None):
        self.command = command or [sys.executable, "-m", "service.writer"]
        self.process = None
        self.stopping = False
        self.restarting = False

    def run(self, parent=None, poll=1.0):
        """Until ``stop`` or, when ``parent`` is given, until that process is
        gone; then the writer is stopped too."""
        try:
            while not self.stopping:
                started = time.monotonic()
                try:
                    self.process = subprocess.Popen(self.command)
                    code = self._wait(parent, poll)
                except Exception:  # noqa: BLE001 - the supervisor must not die: tried again below
                    log.exception("could not run the writer process")
                    code = None
                if self.stopping:
                    return
                if self.restarting:
                    self.restarting = False
                    log.info("the writer process stopped for a reload; starting it with the code as it is now")
                    continue
                log.warning("the writer process exited (%s); starting it again", code)
                # One that cannot start is tried again once a second, not in a loop.
                time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        finally:
            self._end_writer()

    def _wait(self, parent, poll):
        while True:
            try:
                return self.process.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                if parent is not None and os.getppid() != parent:
                    self.stopping = True
                if self.stopping:
                    return None

    def restart(self):
        """A new writer, with the code as it is now (gunicorn's reload)."""
        process = self.process
        if process is not None and process.poll() is None:
            self.restarting = True
            process.terminate()

    def stop(self):
        """Ends ``run`` within its poll; the writer is stopped there."""
        self.stopping = True

    def _end_writer(self):
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def supervise():
    """``python -m service.writer --supervise``: SIGHUP restarts the writer,
    SIGTERM stops both; a master gone stops both too."""
    import signal  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO)
    supervisor = Supervisor()
    signal.signal(signal.SIGHUP, lambda *_: supervisor.restart())
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
    signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
    supervisor.run(parent=os.getppid())


def main():
    import signal  # noqa: PLC0415

    from service import create_app  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO)
    app = create_app()
    for module in TASK_MODULES:
        importlib.import_module(module)
    writer = Writer(app)
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: writer.stop())
    signal.signal(signal.SIGINT, lambda *_: writer.stop())
    told = False
    while not writer.bind():
        # Another writer has this database's socket: another server's on
        # this machine, or the one before this still finishing. Its
        # batches serve everyone; this one takes over when it is gone.
        if not told:
            log.info("another writer process serves this database; waiting for its socket")
            told = True
        time.sleep(1.0)
        if writer.stopping or os.getppid() != parent:
            return
    writer.serve(parent=parent)


if __name__ == "__main__":
    # Run as ``python -m``, this file is ``__main__``: the tasks register in
    # ``service.writer``, the module the rest of the service imports.
    from service import writer as the_module
    if sys.argv[1:] == ["--supervise"]:
        the_module.supervise()
    else:
        the_module.main()
