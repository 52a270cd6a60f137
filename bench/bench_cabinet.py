"""Server time of every cabinet page at the real portal's scale, per role.

Fills a database with ``demo`` (13,500 organizations, 445,000 ratings by
default; kept between runs, as bench_pages.py does), then adds one user per
role: the operator, a moderator, the staff of the organization with the
most ratings among those with subdivisions, and an authorized body whose
accepted registry lists 2,000 organizations (made with the structure
functions, so the roll-up is rebuilt as in real use). Each signs in through
the form with a test client.

The pages are found in the URL map at run time, not listed here, so that
every cabinet page that exists is timed: each GET rule under /cabinet/
without arguments, and each with id arguments it can fill in (an object,
an organization and one of its subdivisions, a registry, a user, a
notification or a rating, picked inside the role's scope; detail pages
cycle through several ids). With ``--api`` the JSON endpoints under
/api/v1/cabinet/ are timed too, with a personal token. A page that answers
anything but 200 for a role (403 outside its rights, say) is reported with
its status and not timed.

Server time is the time the application takes from the request arriving
to the last byte of the response: no network, no browser. Every URL is
asked once before timing, as a running server is warm.

    .venv/bin/python bench/bench_cabinet.py [--db sqlite:////tmp/ocenka-bench-cabinet.sqlite3] [--requests 30] [--api]
"""
import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_pages import _cpu_model, _fill  # noqa: E402 - the shared set-up of the page benchmarks

BODY_NAME = "Уполномоченный орган для замера кабинета"
BODY_UNP = "999000001"
EMAIL = "bench-{role}@bench.ocenka.by"
PASSWORD = "bench password, not for production"


# -- the people ------------------------------------------------------------------

def _large_organization():
    """The organization with the most ratings among those with subdivisions."""
    from service.models import RatableObject, RollupAggregate
    O, A = RatableObject, RollupAggregate
    Sub = O.alias("sub")
    with_subdivisions = Sub.select(Sub.organization).where(Sub.organization.is_null(False))
    return (O.select().join(A, on=(A.organization == O.id))
            .where((A.period == "all") & (O.is_authorized_body == False) & O.id.in_(with_subdivisions))  # noqa: E712
            .order_by(A.n.desc()).first())


def _body_with_registry(rng, size):
    """The benchmark's body and its accepted registry of ``size``
    organizations, made once through ``structure`` (which rebuilds the
    roll-up) and kept with the database."""
    from service import structure
    from service.models import RatableObject, Registry, Sphere
    body = RatableObject.get_or_none(RatableObject.unp == BODY_UNP)
    if body is None:
        some = RatableObject.select().where(RatableObject.region.is_null(False)).first()
        body = structure.create_organization(
            name=BODY_NAME, unp=BODY_UNP, spheres=[Sphere.get(Sphere.code == "registry").id],
            region=some.region_id, locality="г. Минск", address="пр. Независимости, 1",
            is_authorized_body=True, is_evaluation_object=False)
    registry = Registry.get_or_none((Registry.body == body.id) & (Registry.state == Registry.ACCEPTED))
    if registry is None:
        O = RatableObject
        candidates = [i for i, in O.select(O.id).where((O.kind == O.ORGANIZATION) & (O.is_authorized_body == False)  # noqa: E712
                                                       & (O.is_evaluation_object == True)).tuples()]  # noqa: E712
        started = time.perf_counter()
        members = rng.sample(candidates, min(size, len(candidates)))
        registry = structure.create_registry(body, members, name=f"Замер: {len(members)} организаций")
        for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
            structure.move_registry(registry, state)
        print(f"registry of {len(members)} accepted in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return body, registry


def _users(rng, registry_size):
    from werkzeug.security import generate_password_hash
    from service.db import database
    from service.models import User
    with database.atomic():
        large = _large_organization()
        body, registry = _body_with_registry(rng, registry_size)
        organizations = {User.OPERATOR: None, User.MODERATOR: None, User.STAFF: large, User.BODY: body}
        users = {}
        for role, organization in organizations.items():
            email = EMAIL.format(role=role)
            account = User.get_or_none(User.email == email)
            if account is None:
                account = User.create(email=email, role=role, organization=organization,
                                      password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
            elif account.organization_id != getattr(organization, "id", None):
                account.organization = organization
                account.save()
            users[role] = account
    return users, large, body, registry


def _signed_in(app, account):
    from tests.factories import sign_in
    client = app.test_client()
    response = sign_in(client, account, PASSWORD)
    if response.status_code != 302:
        raise SystemExit(f"{account.email} could not sign in: {response.status_code}")
    return client


# -- the pages -------------------------------------------------------------------

def _ids_in_scope(account, large, body, registry, rng, count):
    """Ids to fill URL arguments with, inside the account's scope where the
    role has one: {argument kind: [ids]}."""
    from service.models import Notification, RatableObject, Rating, RegistryEntry, User
    O = RatableObject
    if account.role == User.STAFF:
        organizations = [large.id]
    elif account.role == User.BODY:
        members = [i for i, in RegistryEntry.select(RegistryEntry.organization)
                   .where(RegistryEntry.registry == registry.id).tuples()]
        organizations = rng.sample(members, min(count, len(members)))
    else:
        everyone = [i for i, in O.select(O.id).where(O.kind == O.ORGANIZATION).tuples()]
        organizations = rng.sample(everyone, min(count, len(everyone))) + [large.id]
    subdivisions = {org: sub for org, sub in O.select(O.organization, O.id)
                    .where(O.organization.in_(organizations)).tuples()}
    staff = User.get(User.email == EMAIL.format(role=User.STAFF))
    notification = (Notification.select(Notification.id).where(Notification.organization.in_(organizations))
                    .order_by(Notification.id.desc()).scalar())
    rating = Rating.select(Rating.id).where(Rating.object.in_(organizations)).order_by(Rating.id.desc()).scalar()
    return {
        "organization": organizations, "object": organizations, "subdivision": subdivisions,
        "registry": [registry.id], "user": [staff.id],
        "notification": [notification] if notification else [], "rating": [rating] if rating else [],
    }


def _kind(argument):
    """``organization_id`` → ``organization``; None for non-id arguments
    (an e-mailed link's token, say), which cannot be filled in."""
    return argument[:-3] if argument.endswith("_id") else None


def _urls(rule, ids, requests):
    """``requests`` URLs for one rule, cycling through the ids it takes;
    None when an argument cannot be filled."""
    arguments = sorted(rule.arguments, key=lambda a: a != "organization_id")  # the organization first
    if not arguments:
        return [rule.rule] * requests
    kinds = [_kind(a) for a in arguments]
    if any(k is None or k not in ids for k in kinds):
        return None
    if "subdivision" in kinds:
        pairs = list(ids["subdivision"].items())
        if not pairs:
            return None
        values = [dict(zip(arguments, pair)) for pair in pairs]
    else:
        if any(not ids[k] for k in kinds):
            return None
        values = [{a: ids[k][i % len(ids[k])] for a, k in zip(arguments, kinds)}
                  for i in range(max(len(ids[k]) for k in kinds))]
    urls = []
    for i in range(requests):
        url = rule.rule
        for argument, value in values[i % len(values)].items():
            url = url.replace(f"<int:{argument}>", str(value))
        urls.append(url)
    return urls


def _rules(app, prefix):
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(prefix) and "GET" in r.methods),
                  key=lambda r: r.rule)


def _measure(client, urls, headers):
    """(status, [ms]) of asking each URL once more after a warm-up."""
    first = client.get(urls[0], headers=headers)
    first.get_data()
    if first.status_code != 200:
        return first.status_code, []
    for url in set(urls):
        client.get(url, headers=headers).get_data()
    times = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return response.status_code, []
    return 200, times


def _percentile(sorted_times, share):
    return sorted_times[min(len(sorted_times) - 1, max(0, round(share * (len(sorted_times) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite:////tmp/ocenka-bench-cabinet.sqlite3")
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--requests", type=int, default=30, help="requests per page and role")
    parser.add_argument("--ids", type=int, default=20, help="ids a detail page cycles through")
    parser.add_argument("--api", action="store_true", help="time the JSON endpoints too, with a personal token")
    parser.add_argument("--registry", type=int, default=2_000, help="organizations in the body's registry")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    from service import create_app
    from service.cabinet import sessions
    from service.db import database
    from service.models import RatableObject, Rating, RegistryEntry

    app = create_app({"DATABASE_URL": args.db, "SECRET_KEY": "bench", "RATE_LIMITS": False})
    with app.app_context(), database.connection_context():
        empty = not database.table_exists("ratable_object") or not RatableObject.select().exists()
    if empty:
        _fill(args.db, args.orgs, args.ratings)
    rng = random.Random(args.seed)
    with app.app_context(), database.connection_context():
        from service.db import migrate
        migrate()
        users, large, body, registry = _users(rng, args.registry)
        organizations = RatableObject.select().where(RatableObject.kind == RatableObject.ORGANIZATION).count()
        ratings = Rating.select().count()
        ids = {role: _ids_in_scope(account, large, body, registry, rng, args.ids) for role, account in users.items()}
        tokens = {role: sessions.make_token(account, "bench")[0] for role, account in users.items()}
        scale = (f"{organizations} organizations, {ratings} ratings; staff of {large.name} "
                 f"({RatableObject.select().where(RatableObject.organization == large.id).count()} subdivisions); "
                 f"body with a registry of {RegistryEntry.select().where(RegistryEntry.registry == registry.id).count()}")

    clients = {role: _signed_in(app, account) for role, account in users.items()}
    surfaces = [("/cabinet/", lambda role: (clients[role], {}))]
    if args.api:
        api_client = app.test_client()
        surfaces.append(("/api/v1/cabinet/", lambda role: (api_client, {"Authorization": f"Bearer {tokens[role]}"})))

    results, skipped = [], []
    for prefix, client_of in surfaces:
        for rule in _rules(app, prefix):
            for role in users:
                urls = _urls(rule, ids[role], args.requests)
                if urls is None:
                    skipped.append((rule.rule, role))
                    continue
                client, headers = client_of(role)
                status, times = _measure(client, urls, headers)
                results.append((rule.rule, role, status, sorted(times)))

    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs ({_cpu_model()}), Python {platform.python_version()}, "
          f"{args.db.split(':')[0]}, {scale}")
    print()
    print("| page | role | status | requests | median ms | p10–p90 ms |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for rule, role, status, times in results:
        if times:
            print(f"| {rule} | {role} | {status} | {len(times)} | {statistics.median(times):.1f} | "
                  f"{_percentile(times, .1):.1f}–{_percentile(times, .9):.1f} |")
        else:
            print(f"| {rule} | {role} | {status} | — | — | — |")
    if skipped:
        print()
        print("not timed (an argument it cannot fill in): "
              + "; ".join(sorted({rule for rule, _ in skipped})))


if __name__ == "__main__":
    main()
