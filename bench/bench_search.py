"""The catalogue search (GET /api/v1/objects?q=…) at a given number of
organizations, on SQLite or PostgreSQL.

    .venv/bin/python bench/bench_search.py [--orgs 13500] [--url postgresql://…/db | --db PATH] [--runs 25]

Fills an empty database with demo organizations once (ratings do not
matter to a search, so only a few); times each kind of query through the
Flask test client (routing, validation and JSON included) and prints the
median and the spread (25th–75th percentile) in milliseconds. On
PostgreSQL it then drops the trigram index and times the same queries
again in the same run, so the index's gain is a ratio on one machine.
"""
import argparse
import statistics
import time
from pathlib import Path

from service import create_app
from service.db import database, is_sqlite, migrate
from service.models import RatableObject

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


def timings(client, params, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/api/v1/objects", query_string=params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    quartiles = statistics.quantiles(samples, n=4)
    return statistics.median(samples), quartiles[0], quartiles[2], response.get_json()["total"]


def run_all(client, runs):
    results = {}
    for label, params in QUERIES.items():
        client.get("/api/v1/objects", query_string=params)  # warm the statement and page cache
        results[label] = timings(client, params, runs)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--db", default=None, help="an SQLite file (default /tmp/ocenka-bench/search-N.sqlite3)")
    parser.add_argument("--url", default=None, help="a database URL instead of --db (PostgreSQL)")
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{args.db or f'/tmp/ocenka-bench/search-{args.orgs}.sqlite3'}"
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False})
    with app.app_context(), database.connection_context():
        migrate()
        if not RatableObject.select().exists():
            started = time.perf_counter()
            result = app.test_cli_runner().invoke(args=["demo", "--orgs", str(args.orgs), "--ratings", "100",
                                                        "--no-users"])
            assert result.exit_code == 0, result.output
            print(f"demo of {args.orgs} organizations: {time.perf_counter() - started:.1f} s")
        objects = RatableObject.select().count()
        sqlite = is_sqlite()
    print(f"{'SQLite' if sqlite else 'PostgreSQL'}: {objects} objects (organizations and subdivisions)")

    client = app.test_client()
    results = run_all(client, args.runs)
    baseline = None
    if not sqlite:
        with app.app_context(), database.connection_context():
            database.execute_sql("DROP INDEX IF EXISTS ratable_object_search_name_trigrams")
            database.execute_sql("ANALYZE ratable_object")
        baseline = run_all(client, args.runs)
        with app.app_context(), database.connection_context():
            from service.migrations import _postgres_trigram_index
            _postgres_trigram_index(database)
            database.execute_sql("ANALYZE ratable_object")

    print(f"\nGET /api/v1/objects, ms: median (25th–75th percentile) of {args.runs}")
    header = f"{'query':<24} {'found':>7} {'median':>8} {'spread':>15}"
    if baseline:
        header += f" {'no trigram index':>17} {'ratio':>6}"
    print(header)
    for label, (median, low, high, total) in results.items():
        line = f"{label:<24} {total:>7} {median:>8.1f} {f'{low:.1f}–{high:.1f}':>15}"
        if baseline:
            line += f" {baseline[label][0]:>17.1f} {median / baseline[label][0]:>6.2f}"
        print(line)


if __name__ == "__main__":
    main()
