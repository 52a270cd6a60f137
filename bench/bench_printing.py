"""Median time of served QR codes, posters, banners and badges, end to end.

Every request goes through app.test_client() against an SQLite database
filled by `demo` (so the object lookup, the headers and Flask are counted,
the network is not). For each URL:

* drawn: the in-process cache emptied before each run, so the body is drawn;
* cached: the body comes from the cache (a 200 with the body);
* 304: the client sends the ETag it has (If-None-Match), nothing is drawn.

The badge reads the object's all-time sums; "badge after a rating" empties
the ranking's cache and the drawn cache first, as a new rating does, and
"object_figures, rebuilt" is what reading the figures with the rank would
cost then (the whole ranking is rebuilt), which the badge avoids.

    .venv/bin/python bench/bench_printing.py [--runs 11] [--orgs 300] [--ratings 10000]
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median_ms(runs, request, before=lambda: None):
    times = []
    for _ in range(runs):
        before()
        t0 = time.perf_counter()
        response = request()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--orgs", type=int, default=300)
    parser.add_argument("--ratings", type=int, default=10_000)
    args = parser.parse_args()

    from peewee import fn

    from service import create_app, demo, ranking
    from service.db import database, migrate
    from service.models import RatableObject

    workdir = tempfile.TemporaryDirectory()
    app = create_app({"DATABASE_URL": f"sqlite:///{workdir.name}/bench.sqlite3", "SECRET_KEY": "bench",
                      "BASE_URL": "https://ocenka.example"})
    t0 = time.perf_counter()
    with app.app_context(), database.connection_context():
        migrate()
        demo.generate(orgs=args.orgs, ratings=args.ratings, seed=1, echo=lambda *a, **k: None)
        subs = RatableObject.alias()
        # The organization with the most subdivisions: the largest all.pdf.
        count = fn.COUNT(subs.id)
        org = (RatableObject.select(RatableObject.id, count.alias("subs"))
               .join(subs, on=(subs.organization == RatableObject.id))
               .where((RatableObject.published == True) & (subs.published == True))  # noqa: E712
               .group_by(RatableObject.id).order_by(count.desc(), RatableObject.id).first())
        org_id, n_subs = org.id, org.subs
    filled = time.perf_counter() - t0

    client = app.test_client()
    cache = app.extensions["printing_cache"]
    cases = [
        ("QR PNG 512", f"/qr/{org_id}.png"),
        ("QR SVG", f"/qr/{org_id}.svg"),
        ("poster A4", f"/poster/{org_id}.pdf"),
        (f"all.pdf A4, {1 + n_subs} pages", f"/poster/{org_id}/all.pdf"),
        ("banner PNG 240x400", f"/banner/{org_id}.png"),
        ("banner SVG 240x400", f"/banner/{org_id}.svg"),
        ("banner snippet", f"/banner/{org_id}.html"),
        ("badge SVG", f"/badge/{org_id}.svg"),
    ]
    print(f"# {time.strftime('%Y-%m-%d')}, nproc {os.cpu_count()}, {cpu_model()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}, {args.runs} runs, "
          f"demo --orgs {args.orgs} --ratings {args.ratings} (filled in {filled:.1f} s)")
    print(f"{'what':<24} {'drawn ms':>9} {'cached ms':>10} {'304 ms':>8} {'bytes':>8}")
    client.get(cases[0][1])  # the first request of a process imports and warms up Flask
    for name, url in cases:
        drawn, response = median_ms(args.runs, lambda: client.get(url), cache.clear)
        assert response.status_code == 200, (url, response.status_code)
        cached, _ = median_ms(args.runs, lambda: client.get(url))
        etag = response.headers["ETag"]
        not_modified, last = median_ms(args.runs, lambda: client.get(url, headers={"If-None-Match": etag}))
        assert last.status_code == 304
        print(f"{name:<24} {drawn:9.1f} {cached:10.2f} {not_modified:8.2f} {len(response.data):8d}")

    def cold_ranking():
        cache.clear()
        ranking.clear_cache()

    badge_url = cases[-1][1]
    after_rating, _ = median_ms(args.runs, lambda: client.get(badge_url), cold_ranking)
    print(f"{'badge after a rating':<24} {after_rating:9.1f}")
    # What the badge would cost if it took its figures with the rank, as
    # ranking.object_figures gives them: the whole ranking is rebuilt.
    with app.app_context(), database.connection_context():
        obj = RatableObject.get_by_id(org_id)
        with_rank, _ = median_ms(args.runs, lambda: ranking.object_figures(obj, ranking.Period("all")),
                                 ranking.clear_cache)
    print(f"{'object_figures, rebuilt':<24} {with_rank:9.1f}")
    database.close_all()
    workdir.cleanup()


if __name__ == "__main__":
    main()
