"""How long the daily digests take at the real portal's scale.

Fills a database with ``demo`` (13,500 organizations, 445,000 ratings over
two years by default; kept between runs), gives every organization one
staff user and adds a moderator, then times ``digests.send_digests`` over
the last day (the demo's newest ratings and comments), with the outbox and
the digests table emptied before each run. Writing the letters into the
outbox is included; sending them is not (that is the SMTP server's pace).

    .venv/bin/python bench/bench_digests.py [--db sqlite:////tmp/ocenka-bench-digests.sqlite3] [--runs 3]
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_pages import _cpu_model, _fill  # noqa: E402 - the shared set-up of the benchmarks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite:////tmp/ocenka-bench-digests.sqlite3")
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["OCENKA_DATABASE_URL"] = args.db
    from service import create_app, digests
    from service.db import database
    from service.models import MailDigest, OutboxMessage, RatableObject, User, utcnow

    fresh = args.db.startswith("sqlite:///") and not Path(args.db[len("sqlite:///"):]).exists()
    if fresh:
        _fill(args.db, args.orgs, args.ratings)
    app = create_app()
    with app.app_context(), database.connection_context():
        if not User.select().where(User.email.endswith("@bench.by")).exists():
            organizations = [i for i, in RatableObject.select(RatableObject.id)
                             .where(RatableObject.kind == RatableObject.ORGANIZATION).tuples()]
            with database.atomic():
                for organization in organizations:
                    User.create(email=f"staff{organization}@bench.by", role=User.STAFF, organization=organization,
                                password_hash="bench")
                User.create(email="moderator@bench.by", role=User.MODERATOR, password_hash="bench")
        users = User.select().where(User.email.endswith("@bench.by")).count()
        times, written = [], 0
        for _ in range(args.runs):
            MailDigest.delete().execute()
            OutboxMessage.delete().execute()
            started = time.perf_counter()
            written = digests.send_digests(now=utcnow())
            times.append(time.perf_counter() - started)
    print(f"{platform.node()}: {_cpu_model()}, {os.cpu_count()} cores, {args.db.split(':')[0]}")
    print(f"{users} users, {written} digests written; send_digests: median {statistics.median(times):.1f} s, "
          f"runs {', '.join(f'{t:.1f}' for t in times)} s")


if __name__ == "__main__":
    main()
