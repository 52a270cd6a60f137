"""The quarterly report for the whole portal at the real portal's scale.

    .venv/bin/python bench/bench_report.py --db PATH [--period 2026-Q3]

PATH is a database filled by `flask --app wsgi demo --orgs 13500 --ratings
445000` (bench/bench_write.py leaves one under /tmp/ocenka-bench/). Prints,
for each format (and the CSV file of the services), the time to gather the
report and write it, and its size.
"""
import argparse
import time

from service import create_app, report_files, reports
from service.db import database, migrate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--period", default="2026-Q3")
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": f"sqlite:///{args.db}", "SECRET_KEY": "bench"})
    with app.app_context(), database.connection_context():
        migrate()
        for format, part in (("csv", "organizations"), ("csv", "services"), ("xlsx", None), ("pdf", None)):
            started = time.perf_counter()
            report = reports.build(reports.QUARTERLY, args.period)
            gathered = time.perf_counter()
            data = report_files.render(report, format, part or report_files.ORGANIZATIONS)
            done = time.perf_counter()
            name = f"{format} {part}" if part else format
            print(f"{name:>17}: {len(report.rows)} organizations, {len(report.services)} services, gathered in "
                  f"{gathered - started:.1f} s, written in {done - gathered:.1f} s, {len(data) / 1e6:.2f} MB")
            with open(f"/tmp/ocenka-report{'-' + part if part else ''}.{format}", "wb") as handle:
                handle.write(data)


if __name__ == "__main__":
    main()
