"""The writer process (service/writer.py): ratings sent to it are stored
as the workers would store them, refusals and errors come back as they
would have been raised, nobody is answered before the batch is on disk,
and a worker with no writer to reach writes itself."""
import http.client
import json
import marshal
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import peewee
import pytest

from service import codes, ledger, structure, writer
from service.db import DatabaseBusy, database, is_sqlite
from service.errors import ApiError
from service.models import ExtraCriterion, ObjectAggregate, Rating, RatingExtra, Service, UsedCode
from tests import factories


def _forget_the_writer():
    """This thread's connection to a writer, and the pause after a failed
    one, are a worker's state: each test starts without them."""
    writer._drop()
    writer._unreachable_until = 0.0


@pytest.fixture
def running_writer(app):
    """A writer serving the test's database from a thread of this process."""
    _forget_the_writer()
    server = writer.Writer(app)
    assert server.bind()
    thread = threading.Thread(target=server.serve, kwargs={"poll": 0.02}, daemon=True)
    thread.start()
    yield server
    server.stop()
    thread.join(5)
    _forget_the_writer()


def _post(client, object_id, *scores, **extra):
    return client.post("/api/v1/ratings", json=factories.rating_payload(object_id, *scores, **extra))


def test_ratings_sent_to_the_writer_are_stored_counted_and_chained(client, world, running_writer):
    group = database.obj.write_group
    before = group.commits
    answers = [_post(client, world.school.id, simplicity=score) for score in (5, 4, 3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    # Each went in a batch of the writer's (the writer's group is this
    # process's: its batches count there too).
    assert running_writer.batches == 3 and group.commits - before == 3
    with database.connection_context():
        stored = {r.id: r.simplicity for r in Rating.select()}
        assert stored == {a.get_json()["id"]: s for a, s in zip(answers, (5, 4, 3))}
        month = ObjectAggregate.get((ObjectAggregate.object == world.school.id) & (ObjectAggregate.period == "all"))
        assert (month.n, month.simplicity) == (3, 12)
        assert ledger.verify() == 3
        assert answers[-1].get_json()["receipt"] == ledger.receipt_of(answers[-1].get_json()["id"])


def test_a_code_a_service_and_extra_criteria_cross_as_plain_values(client, world, running_writer):
    with database.connection_context():
        service = Service.select().order_by(Service.id).first()
        structure.offer_services(world.zags, [service])
        comfort = ExtraCriterion.create(owner=world.zags.id, code="comfort", state=ExtraCriterion.APPROVED,
                                        labels={"ru": "Удобство зала ожидания"})
    code = codes.display(codes.sign("test-secret", world.zags.id, 7))
    # Low scores of information and politeness, with their reasons.
    answer = _post(client, world.zags.id, 5, 1, 5, 1, code=code, service=service.id, extra={"comfort": 4},
                   reasons=["outdated", "dismissive"], comment="Долго ждали")
    assert answer.status_code == 201 and running_writer.batches == 1, answer.get_json()
    assert answer.get_json()["verified"] is True
    with database.connection_context():
        rating = Rating.get_by_id(answer.get_json()["id"])
        assert (rating.service_id, rating.verified, rating.reasons, rating.comment) == (
            service.id, True, ["dismissive", "outdated"], "Долго ждали")
        assert [(e.criterion_id, e.value) for e in RatingExtra.select()] == [(comfort.id, 4)]
        assert UsedCode.get(UsedCode.object == world.zags.id, UsedCode.serial == 7).rating_id == rating.id
    # The code again: taken, not verified, and said so.
    again = _post(client, world.zags.id, code=code)
    assert again.status_code == 201 and again.get_json()["verified"] is False


def test_a_retry_through_the_writer_is_answered_as_the_first(client, world, running_writer):
    payload = factories.rating_payload(world.school.id)
    first = client.post("/api/v1/ratings", json=payload)
    again = client.post("/api/v1/ratings", json=payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    with database.connection_context():
        assert Rating.select().count() == 1


@pytest.mark.parametrize("app_config", [{"RATE_LIMITS": True}], indirect=True)
def test_a_limit_refused_in_the_writer_is_a_429_with_retry_after(client, world, running_writer):
    codes = [client.post("/api/v1/ratings", json=factories.rating_payload(world.school.id, device_token="one"),
                         environ_base={"REMOTE_ADDR": "198.51.100.9"}) for _ in range(5)]
    assert [c.status_code for c in codes[:3]] == [201, 201, 201]
    refused = codes[3]
    assert refused.status_code == 429 and "_limit" in refused.get_json()["errors"]
    assert int(refused.headers["Retry-After"]) > 0
    with database.connection_context():
        assert Rating.select().count() == 3


def test_an_object_not_published_is_refused_in_the_writers_transaction(client, world, running_writer):
    # Nothing in the rating asks the worker to read the object first: the
    # writer finds it unpublished, in the transaction the rating would
    # have been stored in.
    answer = _post(client, world.hidden.id)
    assert answer.status_code == 404 and "object" in answer.get_json()["errors"]
    assert running_writer.batches == 1
    with database.connection_context():
        assert Rating.select().count() == 0


def test_errors_cross_the_socket_as_the_worker_would_have_raised_them():
    refused = writer._error_from(writer._error_value(ApiError({"x": ["no"]}, status=429, headers={"A": "1"})))
    assert (type(refused), refused.errors, refused.status, refused.headers) == (
        ApiError, {"x": ["no"]}, 429, {"A": "1"})
    assert isinstance(writer._error_from(writer._error_value(peewee.IntegrityError("dup"))), peewee.IntegrityError)
    busy = writer._error_from(writer._error_value(DatabaseBusy("no turn")))
    assert isinstance(busy, DatabaseBusy)
    other = writer._error_from(writer._error_value(ZeroDivisionError("boom")))
    assert isinstance(other, RuntimeError) and "ZeroDivisionError: boom" in str(other)


def test_without_a_writer_the_worker_writes_itself(client, world):
    _forget_the_writer()
    group = database.obj.write_group
    before = group.commits
    assert _post(client, world.school.id).status_code == 201
    assert group.commits - before == 1
    # And it does not knock again at once: one failed connection a second.
    assert writer._unreachable_until > time.monotonic()
    _forget_the_writer()


def test_a_writer_that_does_not_answer_in_time_is_a_503(app, client, world, monkeypatch):
    # A writer's socket that takes the write and never answers.
    _forget_the_writer()
    with app.app_context():
        name = writer.address(database.obj)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(name)
        silent.listen(8)
        monkeypatch.setattr(writer, "ANSWER_SECONDS", 1)
        started = time.monotonic()
        answer = _post(client, world.school.id)
        waited = time.monotonic() - started
    assert answer.status_code == 503 and answer.is_json
    assert 0.9 < waited < 4
    # Not written by the worker either: the writer may yet commit it.
    with database.connection_context():
        assert Rating.select().count() == 0
    _forget_the_writer()


def test_a_writer_gone_midway_leaves_the_worker_to_write(app, client, world):
    _forget_the_writer()
    server = writer.Writer(app)
    assert server.bind()
    thread = threading.Thread(target=server.serve, kwargs={"poll": 0.02}, daemon=True)
    thread.start()
    assert _post(client, world.school.id).status_code == 201
    assert server.batches == 1
    server.stop()
    thread.join(5)
    # This thread's connection to it is now closed at the other end.
    assert _post(client, world.school.id).status_code == 201
    assert server.batches == 1
    with database.connection_context():
        assert Rating.select().count() == 2
    _forget_the_writer()


def test_anything_but_a_registered_task_is_refused_and_the_writer_goes_on(client, world, running_writer):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(running_writer.name)
        for payload in (marshal.dumps(("os.system", ("true",))), b"\x00not marshal"):
            sock.sendall(writer._LENGTH.pack(len(payload)) + payload)
            kind, value = marshal.loads(writer._read_frame(sock))
            assert (kind, value[0]) == ("error", "failed")
    assert _post(client, world.school.id).status_code == 201


def test_a_frame_arriving_in_pieces_is_read_whole():
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        right.settimeout(5)
        frame = writer._frame(("ok", (7, "x" * 100_000)))
        # Two bytes of the length first, then the rest in uneven pieces.
        pieces = [frame[:2], frame[2:9], frame[9:70_000], frame[70_000:]]
        sender = threading.Thread(target=lambda: [(left.sendall(p), time.sleep(0.01)) for p in pieces])
        sender.start()
        assert marshal.loads(writer._read_frame(right)) == ("ok", (7, "x" * 100_000))
        sender.join(5)
        left.close()
        with pytest.raises(EOFError):
            writer._read_frame(right)


def test_the_peer_check_knows_its_own_user():
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        assert writer._same_user(left) and writer._same_user(right)


def test_a_second_writer_for_the_same_database_does_not_start(app, running_writer):
    assert not writer.Writer(app).bind()


@writer.task("tests.echo")
def _echo(value):
    return value


def _connected(running_writer):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(running_writer.name)
    return sock


def test_a_write_arriving_while_the_writer_lingers_shares_its_batch(running_writer, monkeypatch):
    first, second = _connected(running_writer), _connected(running_writer)
    real_sleep, slept = time.sleep, []

    def lingering(seconds):
        # The second write comes while the writer waits for company.
        if not slept:
            second.sendall(writer._frame(("tests.echo", (2,))))
            real_sleep(0.05)
        slept.append(seconds)

    with first, second:
        running_writer.last_batch = time.monotonic() + 60  # writes keep coming
        before = running_writer.batches
        monkeypatch.setattr(writer.time, "sleep", lingering)
        first.sendall(writer._frame(("tests.echo", (1,))))
        answers = (marshal.loads(writer._read_frame(first)), marshal.loads(writer._read_frame(second)))
        monkeypatch.undo()
    assert answers == (("ok", 1), ("ok", 2))
    assert running_writer.batches == before + 1 and slept == [writer.LINGER_SECONDS]


@writer.task("tests.synchronous")
def _synchronous():
    return database.execute_sql("PRAGMA synchronous").fetchone()[0]


def test_the_writers_batches_wait_for_the_disk(app, running_writer):
    if not is_sqlite():
        pytest.skip("PostgreSQL's commits wait for the disk whatever the connection")
    before = running_writer.batches
    with app.app_context():
        # Run in the writer's batch, on its connection: SQLite syncs the WAL
        # in each commit, before any reader sees it or its sender is answered.
        assert writer.grouped("tests.synchronous", ()) == 2  # FULL
    assert running_writer.batches == before + 1


def test_the_supervisor_starts_the_writer_again_when_it_exits():
    supervisor = writer.Supervisor([sys.executable, "-c", "import time; time.sleep(60)"])
    thread = threading.Thread(target=supervisor.run, kwargs={"poll": 0.02}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while supervisor.process is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first = supervisor.process
        first.kill()
        while supervisor.process is first and time.monotonic() < deadline:
            time.sleep(0.01)
        assert supervisor.process is not first and supervisor.process.poll() is None
        # A reload: the running one is stopped and a new one started at once.
        second = supervisor.process
        supervisor.restart()
        while supervisor.process is second and time.monotonic() < deadline:
            time.sleep(0.01)
        assert second.poll() is not None and supervisor.process.poll() is None
    finally:
        supervisor.stop()
    thread.join(5)
    # Stopped, and the writer with it.
    assert not thread.is_alive() and supervisor.process.poll() is not None


def test_the_supervisor_stops_with_its_parent():
    # gunicorn's master killed: the supervisor ends, and its writer with it.
    supervisor = writer.Supervisor([sys.executable, "-c", "import time; time.sleep(60)"])
    thread = threading.Thread(target=supervisor.run, kwargs={"parent": os.getppid() + 1, "poll": 0.02}, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and supervisor.process.poll() is not None


def test_a_writer_stops_once_its_parent_is_gone(app):
    # Started by gunicorn's master: when that is killed, getppid() changes.
    server = writer.Writer(app)
    assert server.bind()
    finished = threading.Event()
    thread = threading.Thread(target=lambda: (server.serve(parent=os.getppid() + 1, poll=0.02), finished.set()),
                              daemon=True)
    thread.start()
    assert finished.wait(5)
    # And its socket is free for the next one.
    second = writer.Writer(app)
    assert second.bind()
    second.close()


def _writer_processes(group):
    """Pids of the writer processes in gunicorn's process group (not their
    supervisor's)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[2]) == group and b"service.writer" in command and b"--supervise" not in command:
            found.append(int(stat.parent.name))
    return found


def _sockets(pid):
    try:
        return sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if os.readlink(fd).startswith("socket:"))
    except OSError:
        return 0


def _new_writer(group, instead_of=None, timeout=30):
    """The pid of gunicorn's writer process once it listens (a new one,
    when ``instead_of`` names the one before)."""
    deadline = time.monotonic() + timeout
    found = []
    while time.monotonic() < deadline:
        found = [pid for pid in _writer_processes(group) if pid != instead_of]
        if found and _sockets(found[0]) >= 1:
            break
        time.sleep(0.05)
    if len(found) != 1 or _sockets(found[0]) < 1:
        group_now = subprocess.run(["ps", "-o", "pid,ppid,stat,cmd", "-g", str(group)], capture_output=True,
                                   text=True).stdout
        pytest.fail(f"no writer listening: {found}\n{group_now}")
    # A worker that found no writer meanwhile waits before it tries again.
    time.sleep(writer.RETRY_SECONDS + 0.2)
    return found[0]


def _rate_over_http(port, object_id):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/api/v1/ratings", body=json.dumps(factories.rating_payload(object_id)),
                           headers={"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.slow
def test_gunicorn_runs_a_writer_and_a_killed_one_costs_nothing(app, database_url, tmp_path):
    from tests.test_durability import _free_port, _start
    with app.app_context(), database.connection_context():
        school = factories.small_world().school.id
    database.close_all()
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - gunicorn writes it; closed below
    server = _start(database_url, port, stderr=log)
    try:
        first = _new_writer(server.pid)
        assert [_rate_over_http(port, school) for _ in range(20)] == [201] * 20
        # Its listening socket and the workers' connections to it.
        assert _sockets(first) >= 2
        os.kill(first, signal.SIGKILL)
        # The workers write themselves meanwhile: nothing is refused.
        assert [_rate_over_http(port, school) for _ in range(10)] == [201] * 10
        second = _new_writer(server.pid, instead_of=first)
        assert [_rate_over_http(port, school) for _ in range(20)] == [201] * 20
        assert _sockets(second) >= 2
    except AssertionError:
        # What gunicorn's master said of its writer.
        print((tmp_path / "gunicorn.log").read_text())
        raise
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()
    with app.app_context(), database.connection_context():
        assert Rating.select().count() == 50
        assert ledger.verify() == 50
