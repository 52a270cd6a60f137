"""How long ``demo`` takes to fill an empty database, phase by phase,
optionally beside other versions of the code in the same run, and whether
the versions make the same data.

    .venv/bin/python bench/bench_demo.py [--orgs 13500 --ratings 445000] [--seed 1] [--runs 3]
        [--db sqlite|postgresql] [--postgres postgresql://postgres@127.0.0.1:5432] [--ref GITREF ...]
        [--no-fingerprint] [--prefix demoload_]

For the working tree and each ``--ref`` (checked out into a temporary
worktree and run with this venv), each run fills a new database (a file in
a temporary folder, or a PostgreSQL database named with ``--prefix``,
dropped after) the way ``flask --app wsgi demo --no-users`` does
(migrate, ``demo.generate``, ANALYZE) in a fresh process, with the clock
fixed, so that the same seed must give the same rows; the versions take
turns run by run, so the machine's drift falls on each alike. Printed: each
run's phases (seconds from the start to each line the loader prints), its
total, and a SHA-256 of every table the demo fills, read in key order;
then each version's median total with its spread, its ratio to the working
tree's, and whether its fingerprints equal the working tree's.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in the version's own folder: what ``flask demo --no-users`` does, with
# the clock fixed, then the fingerprint (not timed).
DRIVER = r"""
import datetime, hashlib, json, sys, time
sys.path.insert(0, ".")
started = time.monotonic()
from service import create_app, demo
from service.db import analyze, database, is_sqlite, migrate
url, orgs, ratings, seed, fingerprint = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})

def echo(message):
    print(f"{time.monotonic() - started:8.1f} {message}", flush=True)

with app.app_context(), database.connection_context():
    migrate()
    echo("schema")
    demo.generate(orgs=orgs, ratings=ratings, seed=seed, now=datetime.datetime(2026, 11, 20, 9, 30, 15),
                  timezone=app.config["TIMEZONE"], echo=echo)
    analyze()
    echo("done")
    if fingerprint == "yes":
        tables = {"ratable_object": "id", "object_sphere": "object_id, sphere_id",
                  "object_service": "object_id, service_id", "registry": "id",
                  "registry_entry": "registry_id, organization_id", "rating": "id", "ledger_entry": "seq",
                  "ledger_head": "id", "rollup_member": "organization_id, object_id",
                  "object_aggregate": "object_id, period", "service_aggregate": "object_id, service_id, period",
                  "rollup_aggregate": "organization_id, period"}
        digest = hashlib.sha256()
        for table, order in tables.items():
            cursor = database.execute_sql(f"SELECT * FROM {table} ORDER BY {order}")
            names = [d[0] for d in cursor.description]
            digest.update(f"{table}:{names}".encode())
            count = 0
            for row in cursor:
                digest.update(repr(row).encode())
                count += 1
            digest.update(str(count).encode())
        print(f"fingerprint {digest.hexdigest()}", flush=True)
"""


def postgres_admin(server, *statements):
    import psycopg2
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def load(source, url, args):
    """One load in a new process: [(seconds, line)], the total, the fingerprint."""
    command = [sys.executable, "-c", DRIVER, url, str(args.orgs), str(args.ratings), str(args.seed),
               "no" if args.no_fingerprint else "yes"]
    out = subprocess.run(command, cwd=source, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(source)))
    if out.returncode:
        sys.exit(f"the load failed in {source}:\n{out.stdout}\n{out.stderr}")
    phases, fingerprint = [], None
    for line in out.stdout.splitlines():
        if line.startswith("fingerprint "):
            fingerprint = line.split()[1]
        elif match := re.match(r"\s*([\d.]+) (.*)", line):
            phases.append((float(match.group(1)), match.group(2)))
    total = next(seconds for seconds, text in phases if text == "done")
    return phases, total, fingerprint


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--prefix", default="ocenka_bench_demo_", help="of the PostgreSQL databases made")
    parser.add_argument("--ref", action="append", default=[], help="a git ref to load beside the working tree")
    parser.add_argument("--no-fingerprint", action="store_true", help="skip reading every table back")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ocenka-bench-demo-"))
    versions, worktrees = [("working tree", ROOT)], []
    try:
        for ref in args.ref:
            path = workdir / f"ref-{len(worktrees)}"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), ref], cwd=ROOT, check=True)
            worktrees.append(path)
            versions.append((ref, path))
        print(f"demo --orgs {args.orgs} --ratings {args.ratings} --seed {args.seed} on {args.db}, "
              f"{args.runs} runs per version, {os.cpu_count()} CPUs, load average at start "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        results = {label: [] for label, _ in versions}
        for run in range(1, args.runs + 1):
            for number, (label, source) in enumerate(versions):
                if args.db == "sqlite":
                    path = workdir / f"demo-{number}.sqlite3"
                    url = f"sqlite:///{path}"
                else:
                    name = f"{args.prefix}{number}"
                    postgres_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
                    url = f"{args.postgres}/{name}"
                try:
                    phases, total, fingerprint = load(source, url, args)
                finally:
                    if args.db == "sqlite":
                        for leftover in workdir.glob(f"demo-{number}.sqlite3*"):
                            leftover.unlink()
                    else:
                        postgres_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}"')
                results[label].append((total, fingerprint))
                steps, before = [], 0.0
                for seconds, text in phases:
                    steps.append(f"{text.split(':')[0]} {seconds - before:.1f}")
                    before = seconds
                print(f"run {run} {label}: {total:.1f} s (load average "
                      f"{os.getloadavg()[0]:.1f}); " + ", ".join(steps), flush=True)
                if fingerprint:
                    print(f"    fingerprint {fingerprint}", flush=True)
        base = statistics.median(t for t, _ in results["working tree"])
        base_prints = {f for _, f in results["working tree"]}
        print("median (lowest–highest):")
        for label, runs in results.items():
            totals = [t for t, _ in runs]
            line = (f"  {label}: {statistics.median(totals):.1f} s ({min(totals):.1f}–{max(totals):.1f}), "
                    f"{statistics.median(totals) / base:.2f} × the working tree")
            prints = {f for _, f in runs}
            if not args.no_fingerprint:
                line += ("; same data as the working tree" if prints == base_prints and len(prints) == 1
                         else f"; fingerprints {sorted(p[:12] for p in prints)}")
            print(line)
    finally:
        for path in worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
