"""The writer's own cost per rating, in process, on SQLite: what
``bench/bench_write.py`` cannot separate from the workers and the noise.

    .venv/bin/python bench/bench_writer.py --db A.sqlite3 [--db B.sqlite3 ...] [--warm 20000] [--rounds 4]
    .venv/bin/python bench/bench_writer.py --db A.sqlite3 --db A.sqlite3,wal_autocheckpoint=1000

Each database (a file demo made, say one upgraded and one not, to weigh a
schema step; or one file twice, once with SQLite settings after a comma,
``PRAGMA`` names and values that its connection sets before every run, to
weigh a setting against the code's) is copied first and the copy aged:
``--warm`` ratings taken as the writer process takes them, so that the
fresh demo's indexes, built full, no longer split a page with every early
insert. Then, in every round and for each copy in turn: ``--ratings``
ratings of random objects from distinct clients in batches of ``--batch``
(the rating task of service/ratings.py run through
``WriteGroup.commit_all``, as service/writer.py does), timed in CPU; and
``--pages`` batches more, each after a checkpoint, whose pages are read
from the WAL and named by the b-tree they belong to (SQLite's dbstat).
Rate limits off, durable commits as configured. Prints the CPU per rating
of each round, its median, and the pages per batch by b-tree.
"""
import argparse
import collections
import functools
import os
import random
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app, holding, limits, writer  # noqa: E402
from service.db import database  # noqa: E402
from service.models import RatableObject  # noqa: E402

SCORES = {"simplicity": 5, "information": 4, "timeliness": 5, "politeness": 4}
WAL_HEADER, FRAME_HEADER = 32, 24


class Copy:
    def __init__(self, spec, folder, index):
        self.name = spec
        source, *settings = spec.split(",")
        self.pragmas = [setting.split("=", 1) for setting in settings]
        self.path = os.path.join(folder, f"{index}.sqlite3")
        shutil.copyfile(source, self.path)
        self.app = create_app({"DATABASE_URL": f"sqlite:///{self.path}", "SECRET_KEY": "bench", "RATE_LIMITS": False})
        # The app's database is the process's one (service/db.py): each
        # copy puts its own back before it runs.
        self.db = database.obj
        self.objects = self.run(lambda: [i for i, in RatableObject.select(RatableObject.id)
                                         .where(RatableObject.published == True).tuples()])  # noqa: E712
        self.rules = holding.rules(self.app.config)
        self.cpu, self.pages = [], collections.Counter()

    def _args(self):
        client = limits.identify("bench", str(uuid.uuid4()), "bench", "")
        return (random.choice(self.objects), None, SCORES, [], None, "widget", str(uuid.uuid4()),
                (client.client_hash, client.address_hash, client.network_hash), None, [], False,
                self.app.config["TIMEZONE"], self.rules)

    def batch(self, size):
        task = writer.TASKS["rating"]
        outcomes = database.obj.write_group.commit_all([functools.partial(task, *self._args()) for _ in range(size)])
        failed = [error for _, error in outcomes if error is not None]
        if failed:
            raise failed[0]

    def run(self, fn):
        database.initialize(self.db)
        with self.app.app_context(), database.connection_context():
            for name, value in self.pragmas:
                database.execute_sql(f"PRAGMA {name} = {value}")
            return fn()

    def timed(self, ratings, size):
        def go():
            started = time.process_time()
            for _ in range(ratings // size):
                self.batch(size)
            return (time.process_time() - started) / (ratings // size * size) * 1000
        self.cpu.append(self.run(go))

    def count_pages(self, batches, size):
        """Pages each batch writes, by the b-tree that owns them (a page
        that was free before belongs to none: a split's new page)."""
        with sqlite3.connect(self.path) as connection:
            owner = dict(connection.execute("SELECT pageno, name FROM dbstat").fetchall())

        def go():
            for _ in range(batches):
                database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                self.batch(size)
                data = Path(self.path + "-wal").read_bytes()
                page_size = struct.unpack(">I", data[8:12])[0]
                pages = {struct.unpack(">I", data[at:at + 4])[0]
                         for at in range(WAL_HEADER, len(data), FRAME_HEADER + page_size)}
                self.pages.update(owner.get(page, "(new pages)") for page in pages)
        self.run(go)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", action="append", required=True,
                        help="an SQLite database file demo made, then any PRAGMA=VALUE settings after commas")
    parser.add_argument("--warm", type=int, default=20_000, help="ratings taken first, to age each copy")
    parser.add_argument("--ratings", type=int, default=2_000, help="ratings timed per round")
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pages", type=int, default=20, help="batches whose WAL pages are counted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocenka-writer-") as folder:
        copies = [Copy(source, folder, index) for index, source in enumerate(args.db)]
        for copy in copies:
            copy.run(lambda: [copy.batch(args.batch) for _ in range(args.warm // args.batch)])
        for round_number in range(1, args.rounds + 1):
            for copy in copies:
                copy.timed(args.ratings, args.batch)
                print(f"round {round_number}  {copy.name}: writer CPU {copy.cpu[-1]:.3f} ms a rating", flush=True)
        for copy in copies:
            copy.count_pages(args.pages, args.batch)
        print()
        for copy in copies:
            print(f"{copy.name}: writer CPU per rating, median {statistics.median(copy.cpu):.3f} ms "
                  f"(lowest {min(copy.cpu):.3f}, highest {max(copy.cpu):.3f}); pages per batch of {args.batch}: "
                  f"{sum(copy.pages.values()) / args.pages:.1f}")
            for name, count in copy.pages.most_common():
                print(f"  {count / args.pages:6.2f}  {name}")


if __name__ == "__main__":
    main()
