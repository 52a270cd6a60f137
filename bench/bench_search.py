"""The catalogue search (GET /api/v1/objects?q=…) at a given number of
organizations, on SQLite or PostgreSQL.

    .venv/bin/python bench/bench_search.py [--orgs 13500] [--url postgresql://…/db | --db PATH]
        [--rounds 10] [--runs 5] [--ref GITREF]

Fills an empty database with demo organizations once (ratings do not
matter to a search, so only a few); times each kind of query through the
Flask test client (routing, validation and JSON included), in a process of
its own, and prints the median and the spread (25th–75th percentile) in
milliseconds of ``--rounds`` × ``--runs`` requests.

With ``--ref`` (a commit, checked out into a temporary worktree), the
database is filled by that commit's code, a copy of it is upgraded by the
working tree's (the time the upgrade takes is printed), and the two
versions, each in its own process on its own database, take turns query
by query, so that the machine's moments (it is shared) fall on both alike;
the two must list the same objects with the same total for every query.
Last, the working tree is timed once more without its name index
(PostgreSQL's trigram index, SQLite's FTS5 table), restored after, so that
the index's own gain is a ratio on one machine too.

On PostgreSQL both databases are vacuumed first, as autovacuum would do in
time: a freshly loaded table's pages are not yet marked all-visible, which
index-only scans need.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent

QUERIES = {
    "a common word": {"q": "поликлиника"},
    "a rare word": {"q": "краеведческий"},
    "part of a word": {"q": "одно ок"},
    "a name with a number": {"q": "школа № 1"},
    "a town, in one sphere": {"q": "бобруйск", "sphere": "health"},
    "no match": {"q": "несуществующее"},
    "УНП prefix": {"q": "1234"},
    "no query, page 50": {"page": "50"},
}


# -- what runs in a child process, with one version's code on its path -----------

def _app(url):
    from service import create_app
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False})


def fill(url, orgs):
    """Brings the schema up to date and, if empty, fills in the demo."""
    from service.db import database, migrate
    from service.models import RatableObject
    app = _app(url)
    with app.app_context(), database.connection_context():
        started = time.perf_counter()
        migrate()
        print(f"schema brought up to date in {time.perf_counter() - started:.1f} s")
        if not RatableObject.select().exists():
            started = time.perf_counter()
            result = app.test_cli_runner().invoke(args=["demo", "--orgs", str(orgs), "--ratings", "100",
                                                        "--no-users"])
            assert result.exit_code == 0, result.output
            print(f"demo of {orgs} organizations: {time.perf_counter() - started:.1f} s")


def serve(url):
    """Answers lines "query label<TAB>runs" from the conductor with that
    query's times in ms, its total and the ids it lists, as one JSON line."""
    client = _app(url).test_client()
    for params in QUERIES.values():
        client.get("/api/v1/objects", query_string=params)  # warm the statement and page cache
    print("ready", flush=True)
    for line in sys.stdin:
        label, runs = line.rstrip("\n").split("\t")
        samples = []
        for _ in range(int(runs)):
            started = time.perf_counter()
            response = client.get("/api/v1/objects", query_string=QUERIES[label])
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        print(json.dumps({"samples": samples, "total": body["total"], "ids": [i["id"] for i in body["items"]]}),
              flush=True)


class Server:
    """One version's code answering measurements in its own process."""

    def __init__(self, tree, url):
        self.process = subprocess.Popen([sys.executable, __file__, "--child", "serve", url], cwd=tree, text=True,
                                        env=dict(os.environ, PYTHONPATH=str(tree)),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline().strip() == "ready"

    def measure(self, label, runs):
        self.process.stdin.write(f"{label}\t{runs}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def rounds(servers, count, runs):
    """Each query ``runs`` times per version per round, the versions taking
    turns query by query (in turned order every other round), so that the
    machine's moments fall on all of them alike."""
    results = {label: {query: {"samples": [], "found": set()} for query in QUERIES} for label in servers}
    for number in range(count):
        order = list(servers) if number % 2 == 0 else list(reversed(servers))
        for query in QUERIES:
            for label in order:
                result = servers[label].measure(query, runs)
                kept = results[label][query]
                kept["samples"] += result["samples"]
                kept["found"].add((result["total"], tuple(result["ids"])))
    return results


def set_index(url, present):
    """Drops or rebuilds the working tree's name index."""
    from service import search_index
    from service.db import database, is_sqlite
    from service.migrations import _postgres_trigram_index
    with _app(url).app_context(), database.connection_context():
        if is_sqlite():
            search_index.create(database) if present else search_index.drop(database)
        elif present:
            _postgres_trigram_index(database)
        else:
            database.execute_sql("DROP INDEX IF EXISTS ratable_object_search_name_trigrams")
        database.execute_sql("ANALYZE ratable_object")


# -- the conductor ------------------------------------------------------------------

def child(tree, *args):
    """Runs this script's child mode with ``tree``'s code on the path."""
    subprocess.run([sys.executable, __file__, *args], env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tree,
                   check=True)


def postgres(url, *statements):
    import psycopg2
    parsed = urlparse(url)
    connection = psycopg2.connect(dbname="postgres", user=parsed.username, password=parsed.password,
                                  host=parsed.hostname, port=parsed.port or 5432)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def copy_database(url, suffix):
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        target = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        import sqlite3
        target.unlink(missing_ok=True)
        source, copy = sqlite3.connect(path), sqlite3.connect(target)
        source.backup(copy)  # what the WAL holds too
        source.close(), copy.close()
        return f"sqlite:///{target}"
    name = urlparse(url).path.lstrip("/")
    target = f"{name}{suffix}"
    postgres(url, f'DROP DATABASE IF EXISTS "{target}"', f'CREATE DATABASE "{target}" TEMPLATE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + target


def vacuum(url):
    if not url.startswith("sqlite:///"):
        import psycopg2
        connection = psycopg2.connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()


def summary(samples):
    quartiles = statistics.quantiles(samples, n=4)
    return statistics.median(samples), quartiles[0], quartiles[2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--db", default=None, help="an SQLite file (default /tmp/ocenka-bench/search-N.sqlite3)")
    parser.add_argument("--url", default=None, help="a database URL instead of --db (PostgreSQL)")
    parser.add_argument("--runs", type=int, default=5, help="requests per query, version and round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--ref", default=None, help="a commit to compare with, alternating")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, url, *rest = args.child
        {"fill": lambda: fill(url, int(rest[0])), "serve": lambda: serve(url),
         "index": lambda: set_index(url, rest[0] == "on")}[mode]()
        return

    url = args.url or f"sqlite:///{args.db or f'/tmp/ocenka-bench/search-{args.orgs}.sqlite3'}"
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ocenka-bench-search-"))
    versions = []  # (label, tree, database url)
    try:
        if args.ref:
            ref_tree = workdir / "ref"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(ref_tree), args.ref], cwd=ROOT,
                           check=True)
            child(ref_tree, "--child", "fill", url, str(args.orgs))
            upgraded = copy_database(url, "_upgraded")
            print("the copy upgraded by the working tree:")
            child(ROOT, "--child", "fill", upgraded, str(args.orgs))
            versions = [(args.ref, ref_tree, url), ("working tree", ROOT, upgraded)]
        else:
            child(ROOT, "--child", "fill", url, str(args.orgs))
            versions = [("working tree", ROOT, url)]
        for _, _, version_url in versions:
            vacuum(version_url)

        servers = {label: Server(tree, version_url) for label, tree, version_url in versions}
        try:
            results = rounds(servers, args.rounds, args.runs)
        finally:
            for server in servers.values():
                server.close()
        current_url = versions[-1][2]
        child(ROOT, "--child", "index", current_url, "off")
        try:
            server = Server(ROOT, current_url)
            no_index = rounds({"without the index": server}, 1, args.runs * 2)["without the index"]
            server.close()
        finally:
            child(ROOT, "--child", "index", current_url, "on")
    finally:
        if args.ref:
            subprocess.run(["git", "worktree", "remove", "--force", str(workdir / "ref")], cwd=ROOT)
        shutil.rmtree(workdir, ignore_errors=True)

    for query in QUERIES:
        answers = {label: results[label][query]["found"] for label, _, _ in versions}
        answers["without the index"] = no_index[query]["found"]
        assert len({frozenset(found) for found in answers.values()}) == 1 and \
            all(len(found) == 1 for found in answers.values()), f"{query}: the answers differ: {answers}"

    print(f"\nGET /api/v1/objects, ms: median (25th–75th percentile) of {args.rounds} rounds × {args.runs} "
          f"requests (without the index: {args.runs * 2})")
    header = f"{'query':<24} {'found':>7}"
    for label, _, _ in versions:
        header += f" {label[:22]:>24}"
    if args.ref:
        header += f" {'ratio':>6}"
    header += f" {'without the index':>18}"
    print(header)
    for query in QUERIES:
        total = next(iter(results[versions[-1][0]][query]["found"]))[0]
        line = f"{query:<24} {total:>7}"
        medians = []
        for label, _, _ in versions:
            median, low, high = summary(results[label][query]["samples"])
            medians.append(median)
            line += f" {f'{median:.1f} ({low:.1f}–{high:.1f})':>24}"
        if args.ref:
            line += f" {medians[-1] / medians[0]:>6.2f}"
        line += f" {statistics.median(no_index[query]['samples']):>18.1f}"
        print(line)


if __name__ == "__main__":
    main()
