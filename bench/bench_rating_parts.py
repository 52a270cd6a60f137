"""The parts of a rating's cost, in process, on a copy of an SQLite
database demo made: what ``bench/bench_write.py`` measures whole.

    .venv/bin/python bench/bench_rating_parts.py --db DEMO.sqlite3 [--part writer|workers|both]

``writer``: the rating task run through ``WriteGroup.commit_all`` as the
writer process runs it (bench_writer.py's copy, aged first), every
statement's CPU summed by its first words, per rating, in batches of five;
then the writer's whole CPU per rating with batches of 3, 5, 8 and 16.

``workers``: the Flask app called directly, as gunicorn's worker calls it,
for ``POST /api/v1/ratings`` (objects at random, new tokens, limits off)
and for ``GET /healthz``, with ``bench/stand_in_writer.py`` answering the
ratings at once in its own process: the CPU per request of each, and of
the rating's parts (timed around the functions named), so that what a
rating adds to a request can be told apart. Each part's time includes the
parts it calls.
"""
import argparse
import collections
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_writer  # noqa: E402
import peewee  # noqa: E402

from service import writer  # noqa: E402
from service.db import database  # noqa: E402


def _cpu_per_rating(copy, size, ratings):
    task = writer.TASKS["rating"]
    batches = [[functools.partial(task, *copy._args()) for _ in range(size)] for _ in range(ratings // size)]

    def go():
        started = time.process_time()
        for batch in batches:
            database.obj.write_group.commit_all(batch)
        return (time.process_time() - started) / (len(batches) * size) * 1e6
    return copy.run(go)


def writer_part(path, ratings):
    with tempfile.TemporaryDirectory(prefix="ocenka-parts-") as folder:
        copy = bench_writer.Copy(path, folder, 0)
        copy.run(lambda: [copy.batch(5) for _ in range(2000)])
        spent, calls = collections.Counter(), collections.Counter()
        execute, commit = peewee.Database._execute_cursor, peewee.Database.commit

        def timed_execute(self, sql, *args, **kwargs):
            started = time.process_time()
            try:
                return execute(self, sql, *args, **kwargs)
            finally:
                key = " ".join(sql.split()[:4])
                spent[key] += time.process_time() - started
                calls[key] += 1

        def timed_commit(self):
            started = time.process_time()
            try:
                return commit(self)
            finally:
                spent["COMMIT"] += time.process_time() - started
                calls["COMMIT"] += 1

        peewee.Database._execute_cursor, peewee.Database.commit = timed_execute, timed_commit
        try:
            whole = _cpu_per_rating(copy, 5, ratings)
        finally:
            peewee.Database._execute_cursor, peewee.Database.commit = execute, commit
        print(f"writer, batches of 5: {whole:.0f} µs of CPU per rating (statements timed), of which:")
        for key, seconds in spent.most_common():
            print(f"  {seconds / ratings * 1e6:6.1f} µs  {calls[key] / ratings:5.2f} a rating  {key}")
        print(f"  {whole - sum(spent.values()) / ratings * 1e6:6.1f} µs  the rest (Python)")
        for size in (3, 5, 8, 16):
            figures = [_cpu_per_rating(copy, size, ratings) for _ in range(3)]
            print(f"writer, batches of {size:2d}: {statistics.median(figures):.0f} µs of CPU per rating "
                  f"(3 runs: {', '.join(f'{f:.0f}' for f in figures)})")


def workers_part(path, requests):
    with tempfile.TemporaryDirectory(prefix="ocenka-parts-") as folder:
        copy = os.path.join(folder, "parts.sqlite3")
        shutil.copyfile(path, copy)
        _time_requests(copy, requests)


def _time_requests(copy, requests):
    from werkzeug.test import EnvironBuilder

    from service import api, create_app, limits, ratings
    from service.models import RatableObject

    url = f"sqlite:///{copy}"
    stand_in = subprocess.Popen([sys.executable, str(ROOT / "bench" / "stand_in_writer.py")],
                                env=dict(os.environ, OCENKA_DATABASE_URL=url, OCENKA_SECRET_KEY="bench"),
                                stdout=subprocess.PIPE, text=True)
    try:
        stand_in.stdout.readline()  # "listening"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False})
        with app.app_context(), database.connection_context():
            objects = [i for i, in RatableObject.select(RatableObject.id)
                       .where(RatableObject.published == True).tuples()]  # noqa: E712

        def rating():
            body = json.dumps({"object": random.choice(objects), "channel": "api", "client_token": str(uuid.uuid4()),
                               "scores": {"simplicity": 5, "information": 4, "timeliness": 5, "politeness": 4}})
            return EnvironBuilder(path="/api/v1/ratings", method="POST", data=body, content_type="application/json",
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"},
                                  headers={"User-Agent": "bench"}).get_environ()

        def healthz():
            return EnvironBuilder(path="/healthz", environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_environ()

        spent = collections.Counter()

        def timed(owner, name, label):
            function = getattr(owner, name)

            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                started = time.process_time()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[label] += time.process_time() - started
            setattr(owner, name, wrapper)

        statuses = collections.Counter()

        def start_response(status, headers, exc_info=None):
            statuses[status] += 1

        def run(make, count):
            environs = [make() for _ in range(count)]
            started = time.process_time()
            for environ in environs:
                b"".join(app(environ, start_response))
            return (time.process_time() - started) / count * 1e6

        import flask.app
        for owner, name, label in ((ratings, "load", "marshmallow's validation"),
                                   (limits, "identify", "the client's hashes"),
                                   (writer, "grouped", "the round trip to the writer"),
                                   (api.ratings, "submit", "ratings.submit, all of it"),
                                   (flask.app.Flask, "process_response", "after the view (CORS, headers)"),
                                   (flask.app.Flask, "dispatch_request", "the view")):
            timed(owner, name, label)
        for label, make in (("POST /api/v1/ratings", rating), ("GET /healthz", healthz)):
            run(make, 500)
            spent.clear()
            statuses.clear()
            per_request = run(make, requests)
            print(f"{label}: {per_request:.0f} µs of CPU a request ({dict(statuses)}), of which:")
            for part, seconds in spent.most_common():
                print(f"  {seconds / requests * 1e6:6.1f} µs  {part}")
    finally:
        stand_in.terminate()
        stand_in.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="an SQLite database file demo made (copied, never changed)")
    parser.add_argument("--part", choices=["writer", "workers", "both"], default="both")
    parser.add_argument("--ratings", type=int, default=5000)
    args = parser.parse_args()
    if args.part in ("writer", "both"):
        writer_part(args.db, args.ratings)
    if args.part in ("workers", "both"):
        workers_part(args.db, args.ratings)


if __name__ == "__main__":
    main()
