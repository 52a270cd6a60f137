"""Reading figures and rankings at the real portal's scale.

    .venv/bin/python bench/bench_scale.py [--db PATH] [--orgs 13500] [--ratings 445000]

Makes the demo database at PATH once (kept for later runs), then times
through the Flask test client, so that routing, validation and JSON are
counted too:
* a ranking for each period kind and group: cold (cache emptied before
  every request), just after a new rating (what a busy portal sees), and
  cached;
* one object's figures (GET /api/v1/objects/<id>), with the ranking
  cached and just after a new rating.
The benchmark posts a few ratings into the database it reads. With
``--in-process``, only the cold all-organizations ranking of each period
kind, timed in process (wall and CPU).
Prints medians in milliseconds.
"""
import argparse
import random
import statistics
import time
import uuid
from pathlib import Path

from service import create_app, ranking
from service.db import database
from service.models import RatableObject, Region, Sphere


def median_ms(fn, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/ocenka-bench/scale.sqlite3")
    parser.add_argument("--url", default=None, help="a database URL instead of --db (PostgreSQL)")
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--in-process", action="store_true",
                        help="only the cold all-organizations ranking of each period kind, in process, wall and CPU")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{args.db}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATE_LIMITS": False})
    with app.app_context(), database.connection_context():
        from service.db import migrate
        migrate()
        if not RatableObject.select().exists():
            Path(args.db).parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            result = app.test_cli_runner().invoke(args=["demo", "--orgs", str(args.orgs), "--ratings", str(args.ratings)])
            print(result.output.strip())
            print(f"demo: {time.perf_counter() - started:.1f} s")
        sphere = Sphere.get(Sphere.code == "health").code
        region = Region.get(Region.code == "minsk-city").code
        org_ids = [o.id for o in RatableObject.select(RatableObject.id).where(
            (RatableObject.kind == "organization") & (RatableObject.is_evaluation_object == True))]
        print(f"organizations: {len(org_ids)}, ratings: {ranking.totals().n}")

    if args.in_process:
        in_process(app, args.runs)
        return
    client = app.test_client()
    rng = random.Random(1)
    sample = rng.sample(org_ids, 200)

    def post_rating():
        payload = {"object": rng.choice(org_ids), "channel": "api", "client_token": str(uuid.uuid4()),
                   "scores": {"simplicity": 5, "information": 4, "timeliness": 5, "politeness": 5}}
        assert client.post("/api/v1/ratings", json=payload).status_code == 201

    last_month = time.strftime("%Y-%m", time.localtime(time.time() - 31 * 86400))
    year = time.strftime("%Y")
    this_month = int(time.strftime("%m"))
    quarter, half = f"{year}-Q{(this_month - 1) // 3 + 1}", f"{year}-H{(this_month - 1) // 6 + 1}"
    print("\nranking (GET /api/v1/rankings?limit=100), median ms:")
    print("  cold: nothing cached; after a rating: a new rating arrived just before; cached: asked again")
    print(f"{'period':<10} {'group':<18} {'cold':>8} {'after a rating':>15} {'cached':>8}")
    colds, afters = [], []
    for period in ("all", year, half, quarter, time.strftime("%Y-%m"), last_month):
        for group in ("", f"&sphere={sphere}", f"&region={region}"):
            path = f"/api/v1/rankings?period={period}{group}&limit=100"

            def get():
                assert client.get(path).status_code == 200

            def cold():
                ranking.clear_cache()
                get()
            c = median_ms(cold, args.runs)
            samples = []
            for _ in range(args.runs):
                post_rating()
                samples.append(median_ms(get, 1))
            a = statistics.median(samples)
            w = median_ms(get, args.runs)
            colds.append(c)
            afters.append(a)
            print(f"{period:<10} {group.lstrip('&') or 'all':<18} {c:8.1f} {a:15.1f} {w:8.2f}")
    print(f"median over periods and groups: cold {statistics.median(colds):.1f} ms (worst {max(colds):.1f}),"
          f" after a rating {statistics.median(afters):.1f} ms (worst {max(afters):.1f})")

    print("\none object's figures (GET /api/v1/objects/<id>), median ms:")
    client.get("/api/v1/rankings")
    it = iter(sample)
    cached = median_ms(lambda: client.get(f"/api/v1/objects/{next(it)}"), len(sample))
    print(f"  all time, ranking cached: {cached:.2f}")
    client.get(f"/api/v1/rankings?period={last_month}")
    it = iter(sample)
    cached_month = median_ms(lambda: client.get(f"/api/v1/objects/{next(it)}?period={last_month}"), len(sample))
    print(f"  {last_month}, ranking cached: {cached_month:.2f}")
    samples = []
    for object_id in sample[:args.runs]:
        post_rating()
        samples.append(median_ms(lambda: client.get(f"/api/v1/objects/{object_id}"), 1))
    print(f"  all time, just after a rating (the rank is recomputed first): {statistics.median(samples):.1f}")


def in_process(app, runs):
    """``rank_table`` with the in-process cache emptied before each call (so
    the previous period's table is made too), all organizations: wall and
    CPU time, which a loaded machine disturbs less."""
    year, month = int(time.strftime("%Y")), int(time.strftime("%m"))
    periods = ["all", str(year), f"{year}-H{(month - 1) // 6 + 1}", f"{year}-Q{(month - 1) // 3 + 1}",
               time.strftime("%Y-%m")]
    print("cold rank_table, all organizations, in process (median of runs):")
    with app.app_context(), database.connection_context():
        for key in periods:
            period = ranking.Period(key)
            wall, cpu = [], []
            for _ in range(runs):
                ranking.clear_cache()
                started, started_cpu = time.perf_counter(), time.process_time()
                ranking.rank_table(period).entries[:100]
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            print(f"  {key:<8} wall {statistics.median(wall):7.1f} ms   CPU {statistics.median(cpu):7.1f} ms")


if __name__ == "__main__":
    main()
