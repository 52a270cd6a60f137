"""How long the CSV import of a whole portal takes (13,500 organizations
by default), through POST /api/v1/cabinet/organizations/import, on SQLite
or PostgreSQL; and, for comparison, how long registering the same rows one
by one (``structure.create_organization``, one transaction each, as a loop
over the single endpoint would) would take, measured on a sample.

    .venv/bin/python bench/bench_import.py [--rows 13500] [--db sqlite|postgresql] [--existing 13500]

``--existing N`` first registers N other organizations (the import then
checks its УНП against a full table). The file is realistic: names,
locations, one or two spheres, a website, a contact as JSON, and a parent
body named by УНП from the same file for a tenth of the lines. Prints the
file's size, the time of the request and of its parts (reading and
checking the file; storing it), and checks that every line went in,
published, with its roll-up row.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = ("minsk-city", "brest", "vitebsk", "gomel", "grodno", "minsk", "mogilev")
SPHERES = ("health", "education", "housing", "transport", "social", "culture", "sport", "registry")
KINDS = ("ГУО «Средняя школа № {n}»", "УЗ «Городская поликлиника № {n}»", "ЖЭС № {n}", "Отдел ЗАГС № {n}",
         "ГУК «Библиотека № {n}»", "Автостанция № {n}")


def csv_text(rows, first_unp, seed=1):
    rng = random.Random(seed)
    lines = ["unp,name,short_name,region,district,locality,address,spheres,evaluation_object,authorized_body,"
             "website,contacts,parent_body_unp"]
    bodies = []
    for i in range(rows):
        unp = str(first_unp + i)
        is_body = i % 100 == 0
        if is_body:
            bodies.append(unp)
        name = ("Исполнительный комитет № {n}" if is_body else rng.choice(KINDS)).format(n=i)
        spheres = ";".join(rng.sample(SPHERES, rng.choice((1, 1, 2))))
        contact = json.dumps([{"name": f"Сотрудник {i}", "position": "Директор", "email": f"org{i}@example.by",
                               "phone": f"+375 17 {i % 1000:03d}-00-00"}], ensure_ascii=False)
        parent = bodies[-1] if bodies and not is_body and i % 10 == 0 else ""
        lines.append(",".join([
            unp, f'"{name}"', "", rng.choice(REGIONS), "Центральный район", "г. Минск", f'"ул. Ленина, {i % 120 + 1}"',
            spheres, "0" if is_body else "1", "1" if is_body else "0", f"https://org{i}.example.by",
            '"' + contact.replace('"', '""') + '"', parent]))
    return "\n".join(lines) + "\n"


def postgres_admin(server, *statements):
    import psycopg2
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=13_500)
    parser.add_argument("--existing", type=int, default=0, help="organizations registered before the import")
    parser.add_argument("--sample", type=int, default=300, help="rows registered one by one for comparison")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="a server; the benchmark makes its own database there and drops it after")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ocenka-bench-import-"))
    name = f"ocenka_bench_import_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{workdir / 'bench.sqlite3'}" if args.db == "sqlite" else f"{args.postgres}/{name}"
    if args.db == "postgresql":
        postgres_admin(args.postgres, f'CREATE DATABASE "{name}"')
    os.environ["OCENKA_RATE_LIMITS"] = "off"
    try:
        run(url, args)
    finally:
        from service.db import database
        if not database.is_closed():
            database.close()
        database.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.db == "postgresql":
            postgres_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url, args):
    from service import create_app, importing, structure
    from service.cabinet import sessions
    from service.db import database, migrate
    from service.models import ObjectSphere, RatableObject, Region, RollupMember, Sphere, User
    from service.organization_form import reference
    from service.reference import seed_reference

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context(), database.connection_context():
        migrate()
        seed_reference()
        operator = User.create(email="operator@bench.by", role=User.OPERATOR, password_hash="!")
        token, _ = sessions.make_token(operator, "bench")
        if args.existing:
            structure.register_many([{"unp": str(300_000_000 + i), "name": f"Организация {i}"}
                                     for i in range(args.existing)])
        text = csv_text(args.rows, 500_000_000)
        raw = text.encode()

        # The parts, inside one rolled-back transaction so the request below starts from the same state.
        started = time.perf_counter()
        organizations = importing.check(raw, reference())
        checked = time.perf_counter() - started
        with database.atomic() as transaction:
            started = time.perf_counter()
            structure.register_many(organizations)
            stored = time.perf_counter() - started
            transaction.rollback()

        client = app.test_client()
        started = time.perf_counter()
        response = client.post("/api/v1/cabinet/organizations/import", data=raw,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
        total = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"the import answered {response.status_code}: {response.get_data(as_text=True)[:2000]}")
        created = response.get_json()["created"]
        new = RatableObject.select().where(RatableObject.unp >= "500000000")
        assert created == args.rows == new.count()
        assert new.where(RatableObject.published == True).count() == args.rows  # noqa: E712
        assert RollupMember.select().where(RollupMember.object.in_(new.select(RatableObject.id))).count() == args.rows
        assert ObjectSphere.select().where(ObjectSphere.object.in_(new.select(RatableObject.id))).count() >= args.rows
        assert new.where(RatableObject.parent_body.is_null(False)).count() > 0

        # One by one, as a loop over POST /organizations would register them (without HTTP).
        region = Region.get(Region.code == "minsk").id
        sphere = Sphere.get(Sphere.code == "health").id
        times = []
        for i in range(args.sample):
            started = time.perf_counter()
            with database.atomic():
                structure.create_organization(name=f"Поштучно {i}", unp=str(700_000_000 + i), spheres=[sphere],
                                              region=region, locality="г. Минск", address="ул. Ленина, 1")
            times.append(time.perf_counter() - started)
        one = statistics.median(times)

    print(f"{args.db}: {args.rows} organizations in a {len(raw) / 1e6:.1f} MB file"
          + (f", {args.existing} registered before" if args.existing else ""))
    print(f"  POST /api/v1/cabinet/organizations/import: {total:.2f} s ({created} created)")
    print(f"    reading and checking the file: {checked:.2f} s; storing it in bulk: {stored:.2f} s")
    print(f"  one by one (structure.create_organization, median of {args.sample}): {one * 1000:.2f} ms each, "
          f"{one * args.rows:.1f} s for {args.rows} rows before any HTTP or checking")


if __name__ == "__main__":
    main()
