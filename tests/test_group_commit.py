"""Group commit on SQLite and PostgreSQL: concurrent writes share commits,
each caller gets its own result or error, what a write leaves to the end
of its batch runs in its order, and nothing is answered before it is
committed."""
import contextlib
import threading
import time

import pytest

from service.db import DatabaseBusy, Later, database, grouped_write, is_sqlite
from service.models import Meta


@pytest.fixture
def sqlite_only(app):
    if not is_sqlite():
        pytest.skip("the writer queue is SQLite's")


def _write(key, value):
    def work():
        Meta.insert(key=key, value=int(value)).execute()
        return key
    return work


def _in_threads(app, works, together=False):
    """Runs each work through ``grouped_write`` on a thread of its own.
    ``together``: the writer's turn is held until every work is queued, so
    that they all go in one batch."""
    results, errors = {}, {}
    start = threading.Barrier(len(works))
    group = database.obj.write_group

    def call(index, work):
        with app.app_context(), database.connection_context():
            start.wait(10)
            try:
                results[index] = grouped_write(work)
            except Exception as error:  # noqa: BLE001 - collected for the assertions
                errors[index] = error

    threads = [threading.Thread(target=call, args=(i, w)) for i, w in enumerate(works)]
    with group.queue.turn() if together else contextlib.nullcontext():
        for thread in threads:
            thread.start()
        if together:
            waited = time.monotonic() + 10
            while len(group.pending) < len(works) and time.monotonic() < waited:
                time.sleep(0.001)
            assert len(group.pending) == len(works)
    for thread in threads:
        thread.join(30)
    return results, errors


def test_concurrent_writes_share_commits_and_each_gets_its_result(app, db):
    group = database.obj.write_group
    before = group.commits
    works = [_write(f"group-{i}", str(i)) for i in range(24)]  # under the pool's 32 connections
    results, errors = _in_threads(app, works, together=True)
    assert not errors
    assert results == {i: f"group-{i}" for i in range(24)}
    assert Meta.select().where(Meta.key.startswith("group-")).count() == 24
    # Writers queued while the turn was taken share one commit.
    assert group.commits - before == 1


def test_the_file_lock_is_taken_once_per_batch_not_once_per_write(app, db, sqlite_only, monkeypatch):
    # Every other process's writer waits while it is held: the callers
    # whose writes a batch committed must not take it only to find so.
    queue = database.obj.writer_queue
    taken = []
    lock_file = queue._lock_file
    monkeypatch.setattr(queue, "_lock_file", lambda fd, deadline: (taken.append(1), lock_file(fd, deadline)))
    group = database.obj.write_group
    before = group.commits
    results, errors = _in_threads(app, [_write(f"once-{i}", str(i)) for i in range(12)], together=True)
    assert not errors and len(results) == 12
    assert group.commits - before == 1
    # The holder's own turn above, and the batch's.
    assert len(taken) == 2


def test_a_failing_write_is_rolled_back_alone(app, db):
    def failing():
        Meta.insert(key="doomed", value=0).execute()
        raise ValueError("this one is refused")

    works = [_write(f"kept-{i}", "1") for i in range(10)] + [failing] + [_write(f"kept-{i}", "1")
                                                                        for i in range(10, 20)]
    results, errors = _in_threads(app, works)
    assert list(errors) == [10] and isinstance(errors[10], ValueError)
    assert len(results) == 20
    assert not Meta.select().where(Meta.key == "doomed").exists()
    assert Meta.select().where(Meta.key.startswith("kept-")).count() == 20


def test_a_write_inside_a_transaction_joins_it(app, db):
    with database.atomic() as transaction:
        assert grouped_write(_write("inner", "1")) == "inner"
        transaction.rollback()
    assert not Meta.select().where(Meta.key == "inner").exists()


def test_a_writer_that_never_gets_its_turn_is_told_so(app, db, sqlite_only):
    queue = database.obj.writer_queue
    held = threading.Event()
    release = threading.Event()

    def holder():
        with queue.turn():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(DatabaseBusy):
            database.obj.write_group.run(_write("late", "1"), timeout=0.2)
    finally:
        release.set()
        thread.join()
    assert not database.obj.write_group.pending
    assert not Meta.select().where(Meta.key == "late").exists()


def test_a_write_queued_behind_a_slow_turn_is_told_so_and_the_others_go_on(app, db):
    group = database.obj.write_group
    outcome = {}

    def leader():
        with app.app_context(), database.connection_context():
            outcome["leader"] = group.run(_write("patient", "1"), timeout=20)

    with group.queue.turn():
        first = threading.Thread(target=leader)
        first.start()
        waited = time.monotonic() + 10
        while not group.pending and time.monotonic() < waited:
            time.sleep(0.001)
        # The first write waits for the turn; this one waits behind it, and
        # its own time runs out first.
        with pytest.raises(DatabaseBusy):
            group.run(_write("impatient", "1"), timeout=0.2)
        assert len(group.pending) == 1
    first.join(20)
    assert outcome == {"leader": "patient"}
    assert not group.pending
    assert not Meta.select().where(Meta.key == "impatient").exists()
    assert Meta.select().where(Meta.key == "patient").exists()


def test_what_writes_leave_to_the_end_is_finished_together_after_all_of_them_in_their_order(app, db):
    calls = []

    def finish_all(items):
        # Every write of the batch is in already.
        calls.append((list(items), Meta.select().where(Meta.key.startswith("later-")).count()))
        return [f"finished-{i}" for i in items]

    def work(i):
        def write():
            Meta.insert(key=f"later-{i}", value=i).execute()
            return Later(i, finish_all)
        return write

    results, errors = _in_threads(app, [work(i) for i in range(12)], together=True)
    assert not errors and results == {i: f"finished-{i}" for i in range(12)}
    assert sorted(i for items, _ in calls for i in items) == list(range(12))
    # One call per batch, with the items of all its writes, after all of
    # them: writers queued together shared a call.
    assert len(calls) == 1
    assert all(seen >= len(items) for items, seen in calls)
    assert Meta.select().where(Meta.key.startswith("later-")).count() == 12


def test_a_failing_finish_fails_its_whole_batch_and_nothing_stands(app, db):
    def write():
        Meta.insert(key="half-done", value=1).execute()
        return Later(None, lambda items: [1 / 0])

    with pytest.raises(ZeroDivisionError):
        grouped_write(write)
    assert not Meta.select().where(Meta.key == "half-done").exists()


def test_a_later_inside_a_transaction_is_finished_there(app, db):
    with database.atomic():
        assert grouped_write(lambda: Later("done", lambda items: [f"{item}!" for item in items])) == "done!"


def test_writes_run_once_unless_one_of_their_batch_fails(app, db):
    runs = []
    lock = threading.Lock()

    def work(i, prefix="once", fail=False):
        def write():
            with lock:
                runs.append(i)
            Meta.insert(key=f"{prefix}-{i}", value=i).execute()
            if fail:
                raise ValueError("refused")
            # A refusal decided before writing comes back as a result.
            return i
        return write

    results, errors = _in_threads(app, [work(i) for i in range(12)])
    assert not errors and sorted(runs) == list(range(12))
    assert Meta.select().where(Meta.key.startswith("once-")).count() == 12

    # A failure rolls its batch back and runs it again, each write in a
    # savepoint: the others are run twice (or once, alone) and stand once.
    runs.clear()
    results, errors = _in_threads(app, [work(i, "twice", fail=i == 5) for i in range(12)], together=True)
    assert list(errors) == [5] and isinstance(errors[5], ValueError) and len(results) == 11
    # The failing one ran in both passes; the second pass ran all of them.
    assert runs.count(5) == 2 and sorted(runs[-12:]) == list(range(12))
    assert Meta.select().where(Meta.key.startswith("twice-")).count() == 11
    assert not Meta.select().where(Meta.key == "twice-5").exists()


def test_a_write_alone_in_its_batch_that_fails_leaves_nothing(app, db):
    def failing():
        Meta.insert(key="alone", value=1).execute()
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        grouped_write(failing)
    assert not Meta.select().where(Meta.key == "alone").exists()
    # The next write is not hindered by it.
    assert grouped_write(_write("after-alone", "2")) == "after-alone"
