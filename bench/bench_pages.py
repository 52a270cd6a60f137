"""Server time of the portal's pages at the real portal's scale.

Fills a database with ``demo`` (13,500 organizations, 445,000 ratings by
default; kept between runs), then requests each kind of page many times
through the WSGI app, with varied objects, queries, filters and periods, and
reports the median, 90th percentile and maximum. Server time is the time the
application takes from the request arriving to the last byte of the
response: no network, no browser.

The rankings are cached in process until a rating arrives; the benchmark
warms them first, as a running server is warm, and reports the cold build
separately.

    .venv/bin/python bench/bench_pages.py [--db sqlite:////tmp/ocenka-bench.sqlite3] [--requests 200]
"""
import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fill(url, orgs, ratings):
    env = dict(os.environ, OCENKA_DATABASE_URL=url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["init-db"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    subprocess.run(flask + ["demo", "--orgs", str(orgs), "--ratings", str(ratings)], cwd=ROOT, env=env, check=True)
    print(f"demo data made in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _timed(client, url):
    started = time.perf_counter()
    response = client.get(url)
    response.get_data()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def _workload(rng, n, today):
    from service import ranking
    from service.models import RatableObject, Region, Sphere
    from service.pages import last_complete_month, period_choices

    O = RatableObject
    published = [i for (i,) in O.select(O.id).where(O.published == True).tuples()]
    names = [name for (name,) in O.select(O.name).where(O.kind == O.ORGANIZATION).tuples()]
    unps = [u for (u,) in O.select(O.unp).where(O.unp.is_null(False)).tuples()]
    spheres = [c for (c,) in Sphere.select(Sphere.code).tuples()]
    regions = [c for (c,) in Region.select(Region.code).tuples()]
    periods = [p.key for _, group in period_choices(today) for p in group]
    words = [w for name in names[:2000] for w in name.replace("«", " ").replace("»", " ").split() if len(w) > 4]
    langs = ["ru", "be", "en", "tt"]

    def maybe(values, chance=0.5):
        return rng.choice(values) if rng.random() < chance else ""

    def query(**params):
        text = "&".join(f"{k}={v}" for k, v in params.items() if v)
        return f"?{text}" if text else ""

    catalogue = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.25:
            catalogue.append("/objects" + query(page=rng.randint(1, 50), lang=rng.choice(langs)))
        elif kind < 0.6:
            catalogue.append("/objects" + query(q=rng.choice(words).casefold(), sphere=maybe(spheres, .3),
                                                region=maybe(regions, .3)))
        elif kind < 0.7:
            catalogue.append("/objects" + query(q=rng.choice(unps)[:rng.randint(4, 9)]))
        else:
            catalogue.append("/objects" + query(sphere=maybe(spheres, .7), region=maybe(regions, .7)))
    rankings = []
    for _ in range(n):
        sphere, region = maybe(spheres, .3), maybe(regions, .3)
        # Later pages only of the whole ranking: a small group may have one page.
        page = 1 if sphere or region else rng.choice([1, 1, 1, 2, 5])
        rankings.append("/rankings" + query(period=rng.choice(periods + [last_complete_month(today).key] * 10),
                                            sphere=sphere, region=region, page=page, lang=maybe(langs, .3)))
    return {
        "home /": ["/" + query(lang=maybe(langs, .5)) for _ in range(n)],
        "catalogue /objects": catalogue,
        "object /objects/<id>": [f"/objects/{rng.choice(published)}" + query(lang=maybe(langs, .3)) for _ in range(n)],
        "rankings /rankings": rankings,
        "open data /rankings.csv (whole ranking)": ["/rankings.csv" + query(period=rng.choice(periods))
                                                    for _ in range(max(5, n // 20))],
        "open data /rankings.csv (one region)": ["/rankings.csv" + query(period=rng.choice(periods),
                                                                         region=rng.choice(regions))
                                                 for _ in range(max(5, n // 10))],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite:////tmp/ocenka-bench-pages.sqlite3")
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per kind of page")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    from service import create_app, ranking
    from service.db import database
    from service.models import RatableObject
    from service.pages import _today, last_complete_month

    app = create_app({"DATABASE_URL": args.db, "SECRET_KEY": "bench"})
    with app.app_context(), database.connection_context():
        empty = not database.table_exists("ratable_object") or not RatableObject.select().exists()
    if empty:
        _fill(args.db, args.orgs, args.ratings)
    client = app.test_client()
    rng = random.Random(args.seed)
    with app.app_context(), database.connection_context():
        today = _today()
        workload = _workload(rng, args.requests, today)
        organizations = RatableObject.select().where(RatableObject.kind == RatableObject.ORGANIZATION).count()

    ranking.clear_cache()
    cold = _timed(client, f"/rankings?period={last_complete_month(today).key}")
    # A running server has built the tables its pages read; build them as
    # the pages would, then measure.
    for urls in workload.values():
        for url in urls:
            client.get(url)

    results = []
    for name, urls in workload.items():
        times = sorted(_timed(client, url) * 1000 for url in urls)
        results.append((name, len(times), statistics.median(times), times[int(len(times) * 0.9) - 1], times[-1]))

    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
          f"{args.db.split(':')[0]}, {organizations} organizations")
    print()
    print("| page | requests | median ms | p90 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, count, median, p90, worst in results:
        print(f"| {name} | {count} | {median:.1f} | {p90:.1f} | {worst:.1f} |")
    print()
    print(f"cold: the first /rankings after a rating arrives (the month's table rebuilt): {cold * 1000:.0f} ms")


if __name__ == "__main__":
    main()
