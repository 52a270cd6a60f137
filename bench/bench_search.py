"""The catalogue search (GET /api/v1/objects?q=…) at a given number of
organizations, on SQLite or PostgreSQL.

    .venv/bin/python bench/bench_search.py [--orgs 13500] [--url postgresql://…/db | --db PATH]
        [--runs 25] [--rounds 3] [--ref GITREF]

Fills an empty database with demo organizations once (ratings do not
matter to a search, so only a few); times each kind of query through the
Flask test client (routing, validation and JSON included) and prints the
median and the spread (25th–75th percentile) in milliseconds, over
``--rounds`` rounds of ``--runs`` requests each, every round in a fresh
process.

With ``--ref`` (a commit, checked out into a temporary worktree), the
database is filled by that commit's code, a copy of it is upgraded by the
working tree's (the time the upgrade takes is printed), and the rounds
alternate between the ref on its database and the working tree on the
copy, so that "before" and "after" share the machine's moments; the two
must find the same objects in the same order for every query. Last, the
working tree is timed once more without its name index (PostgreSQL's
trigram index, SQLite's FTS5 table), which is restored after, so the
index's own gain is a ratio on one machine too.

On PostgreSQL both databases are vacuumed first: the count of a list
without a text is an index-only scan, which a freshly loaded table (whose
pages autovacuum has not yet marked all-visible) cannot use.
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


def measure(url, runs):
    """Each query's times in ms, its total and the ids it lists, as JSON."""
    client = _app(url).test_client()
    results = {}
    for label, params in QUERIES.items():
        client.get("/api/v1/objects", query_string=params)  # warm the statement and page cache
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get("/api/v1/objects", query_string=params)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        results[label] = {"samples": samples, "total": body["total"], "ids": [i["id"] for i in body["items"]]}
    print(json.dumps(results))


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

def child(tree, *args, capture=False):
    """Runs this script's child mode with ``tree``'s code on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    result = subprocess.run([sys.executable, __file__, *args], env=env, cwd=tree, check=True,
                            stdout=subprocess.PIPE if capture else None, text=True)
    return result.stdout


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
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ref", default=None, help="a commit to compare with, alternating")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, url, *rest = args.child
        {"fill": lambda: fill(url, int(rest[0])), "measure": lambda: measure(url, int(rest[0])),
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

        results = {label: {} for label, _, _ in versions}
        for _ in range(args.rounds):
            for label, tree, version_url in versions:
                measured = json.loads(child(tree, "--child", "measure", version_url, str(args.runs), capture=True))
                for query, result in measured.items():
                    kept = results[label].setdefault(query, {"samples": [], "found": set()})
                    kept["samples"] += result["samples"]
                    kept["found"].add((result["total"], tuple(result["ids"])))
        current_url = versions[-1][2]
        child(ROOT, "--child", "index", current_url, "off")
        try:
            no_index = json.loads(child(ROOT, "--child", "measure", current_url, str(args.runs), capture=True))
        finally:
            child(ROOT, "--child", "index", current_url, "on")
    finally:
        if args.ref:
            subprocess.run(["git", "worktree", "remove", "--force", str(workdir / "ref")], cwd=ROOT)
        shutil.rmtree(workdir, ignore_errors=True)

    for query in QUERIES:
        answers = {label: results[label][query]["found"] for label, _, _ in versions}
        answers["without the index"] = {(no_index[query]["total"], tuple(no_index[query]["ids"]))}
        assert len({frozenset(found) for found in answers.values()}) == 1 and \
            all(len(found) == 1 for found in answers.values()), f"{query}: the answers differ: {answers}"

    print(f"\nGET /api/v1/objects, ms: median (25th–75th percentile) of {args.rounds} rounds × {args.runs}")
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
