"""Demo data reads as real names and brings one cabinet user of each role."""
import re

from peewee import fn

from service.models import RatableObject, User
from tests import factories


def test_demo_names_are_spelled_right(runner, db):
    result = runner.invoke(args=["demo", "--orgs", "3000", "--ratings", "0", "--seed", "5", "--no-users"])
    assert result.exit_code == 0, result.output
    names = [o.name for o in RatableObject.select(RatableObject.name)]
    assert not [n for n in names if "скская" in n or "кая краеведческий" in n or "ая краеведческий" in n]
    assert any("краеведческий музей" in n for n in names)
    assert not [n for n in names if "ая ЖКХ" in n] and any("ое ЖКХ" in n for n in names)
    assert User.select().count() == 0


def test_demo_users_sign_in_with_the_printed_password(app, runner, db):
    result = runner.invoke(args=["demo", "--orgs", "40", "--ratings", "800", "--seed", "2"])
    assert result.exit_code == 0, result.output
    password = re.search(r"each with the password (\S+):", result.output).group(1)
    users = {u.role: u for u in User.select()}
    assert set(users) == set(User.ROLES)
    assert users["staff"].organization is not None and users["body"].organization.is_authorized_body
    for role, user in users.items():
        assert user.email in result.output
        client = app.test_client()
        assert factories.sign_in(client, user, password).status_code == 302, role
        assert client.get("/cabinet/").status_code == 200


def test_links_on_an_error_page_stay_on_the_site(client, db):
    for path in ("/%5Cevil.example", "//evil.example/x", "/%5C%5Cevil.example"):
        body = client.get(path).get_data(as_text=True)
        hrefs = re.findall(r'href="([^"]*)"', body)
        assert hrefs and all(h.startswith(("/", "#")) and not h.startswith(("//", "/\\")) for h in hrefs), (path, hrefs)


def test_demo_aggregates_and_indexes_are_what_a_rebuild_and_the_schema_make(client, runner, db):
    """The demo sums its ratings itself, gives their ids and builds their
    indexes (and foreign keys) after loading them: a rebuild from the raw
    ratings finds nothing to change, the ledger verifies, every index and
    foreign key of the model is there, and the next rating taken gets the
    next id and the next entry of the chain."""
    from service import ledger, ranking
    from service.db import database, is_sqlite
    from service.models import Rating
    tables = ("rating", "ledger_entry", "rollup_member", "object_aggregate", "service_aggregate", "rollup_aggregate")

    def schema():
        return {table: ({i.name for i in database.get_indexes(table)},
                        {(k.column, k.dest_table, k.dest_column) for k in database.get_foreign_keys(table)})
                for table in tables}
    before = schema()
    result = runner.invoke(args=["demo", "--orgs", "60", "--ratings", "3000", "--seed", "3", "--no-users"])
    assert result.exit_code == 0, result.output
    assert ranking.rebuild_aggregates() == []
    assert schema() == before
    if not is_sqlite():
        # Vacuumed after the load, so that the first reads do not write
        # every page again.
        assert database.execute_sql("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                    "WHERE relname = 'rating'").fetchone()[0]
    assert Rating.select().count() == 3000
    ledger.verify()
    target = RatableObject.select().where(RatableObject.is_evaluation_object == True).first()  # noqa: E712
    response = factories.rate(client, target.id, 5, 4, 5, 4)
    assert response.status_code == 201, response.get_json()
    assert Rating.select(fn.MAX(Rating.id)).scalar() == 3001
    assert ledger.head()["seq"] == 3001
    ledger.verify()


def test_the_demo_client_tokens_are_the_uuids_they_always_were():
    """The loader writes version-4 UUIDs from the seeded bits by hand (a
    UUID object per rating costs seconds at millions of ratings): the same
    text as the standard library's, so a seed gives the same data as before."""
    import random
    import uuid

    from service.demo import _uuid4_text
    rng = random.Random(7)
    for bits in [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(2000))]:
        assert _uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))
