"""Storage: durable SQLite settings, connection URLs, schema versions."""
import datetime
import uuid

import pytest

from service import ranking, structure
from service.db import current_version, database, is_sqlite, make_database
from service.migrations import MIGRATIONS
from service.models import ObjectAggregate, Rating, RollupMember
from tests import factories


def test_sqlite_is_durable_and_patient(db):
    if not is_sqlite():
        pytest.skip("SQLite settings")
    pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL: the WAL is synced at every commit
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") >= 5000
    assert pragma("wal_autocheckpoint") == 10_000


@pytest.mark.parametrize("url, kind, name", [
    ("sqlite:////var/lib/ocenka/db.sqlite3", "sqlite", "/var/lib/ocenka/db.sqlite3"),
    ("sqlite:///instance/x.sqlite3", "sqlite", "instance/x.sqlite3"),
    ("postgresql://u:p%40ss@db.local:6543/ocenka", "postgres", "ocenka"),
])
def test_database_urls(url, kind, name):
    db = make_database(url)
    assert (is_sqlite(db) and kind == "sqlite") or (not is_sqlite(db) and kind == "postgres")
    assert db.database == name
    if kind == "postgres":
        assert db.connect_params["password"] == "p@ss" and db.connect_params["port"] == 6543


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///:memory:", "nonsense"])
def test_unsupported_database_urls_are_refused(url):
    with pytest.raises(ValueError):
        make_database(url)


def test_fresh_database_is_at_the_newest_version(db):
    assert current_version() == MIGRATIONS[-1][0]


def test_upgrade_from_the_first_version_keeps_every_rating(app, db, runner):
    """A database left at version 1 (ratings, no aggregates) is upgraded in
    place by init-db; every rating stays and the new aggregates match them."""
    from service.db import SchemaVersion
    from service.models import DERIVED_TABLES
    world = factories.small_world()
    rows = []
    for i in range(40):
        target = (world.school, world.clinic, world.clinic_kids)[i % 3]
        month = 202501 + (i % 12)
        rows.append(dict(object=target.id, simplicity=1 + i % 5, information=5, timeliness=4, politeness=1 + (i * 7) % 5,
                         channel="qr", created=datetime.datetime(2025, 1 + i % 12, 3), month=month,
                         client_token=str(uuid.uuid4()), client_hash="c" * 32, address_hash="a" * 32))
    Rating.insert_many(rows).execute()
    # Back to what version 1 had: raw tables only.
    database.drop_tables(DERIVED_TABLES)
    SchemaVersion.delete().where(SchemaVersion.version > 1).execute()
    assert current_version() == 1
    before = list(Rating.select().order_by(Rating.id).dicts())

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from version 1 to {MIGRATIONS[-1][0]}" in result.output
    assert current_version() == MIGRATIONS[-1][0]
    assert list(Rating.select().order_by(Rating.id).dicts()) == before
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    assert ranking.stored_rollup_aggregates() == ranking.rollup_aggregates_from_objects()
    assert ObjectAggregate.select().count() > 0
    assert RollupMember.select().where(RollupMember.organization == world.clinic.id).count() == 3
    # And running it again changes nothing.
    again = runner.invoke(args=["init-db"])
    assert f"up to date (version {MIGRATIONS[-1][0]})" in again.output


def test_upgrade_to_the_cabinets_keeps_users_and_comments(app, db, runner):
    """A database at version 3 (before the cabinets) gets the new columns
    and tables; its users, registries and comments stay as they were."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations
    from service.db import SchemaVersion
    from service.models import CABINET_TABLES, Registry, User
    world = factories.small_world()
    user = User.create(email="head@school.by", role=User.STAFF, organization=world.school, password_hash="x")
    registry = structure.create_registry(world.body, [world.school])
    factories.rate(app.test_client(), world.school.id, comment="Спасибо")
    database.drop_tables(CABINET_TABLES)
    migrator = SchemaMigrator.from_database(database)
    dropped = [("user", "language"), ("registry", "name"), ("extra_criterion", "decision_reason"),
               ("extra_criterion", "proposed_by_id"), ("rating", "moderation_reason"), ("rating", "moderated"),
               ("notification", "period"), ("notification", "report")]
    # The monitoring's index (version 22) holds the period.
    apply_operations(migrator.drop_index("extra_criterion", "extra_criterion_proposed_by_id"),
                     migrator.drop_index("notification", "notification_object_id_period"),
                     *[migrator.drop_column(table, column) for table, column in dropped])
    SchemaVersion.delete().where(SchemaVersion.version > 3).execute()
    comments = list(database.execute_sql("SELECT id, comment, comment_status FROM rating ORDER BY id"))

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from version 3 to {MIGRATIONS[-1][0]}" in result.output
    for table, column in dropped:
        assert column in {c.name for c in database.get_columns(table)}, (table, column)
    assert all(database.table_exists(m._meta.table_name) for m in CABINET_TABLES)
    assert User.get_by_id(user.id).language == "ru"
    assert Registry.get_by_id(registry.id).name == ""
    assert list(database.execute_sql("SELECT id, comment, comment_status FROM rating ORDER BY id")) == comments


def test_upgrade_to_rating_status_counts_every_earlier_rating(app, db, runner):
    """A database at version 4 gets each rating's status and verified flag:
    every rating stored before was counted, none verified."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations
    from service.db import SchemaVersion
    world = factories.small_world()
    client = app.test_client()
    for _ in range(3):
        factories.rate(client, world.school.id)
    migrator = SchemaMigrator.from_database(database)
    apply_operations(migrator.drop_index("rating", "rating_not_counted"),
                     migrator.drop_column("rating", "status"), migrator.drop_column("rating", "verified"))
    SchemaVersion.delete().where(SchemaVersion.version > 4).execute()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from version 4 to {MIGRATIONS[-1][0]}" in result.output
    rows = list(database.execute_sql("SELECT status, verified FROM rating"))
    assert len(rows) == 3 and all(status == "counted" and not verified for status, verified in rows)


def test_upgrade_from_version_4_waits_for_the_columns_its_indexes_need(app, db, runner):
    """Version 5 adds the ratings' indexes as the models have them now, and
    some stand on a column only version 14 adds (``network_hash``): each
    waits for its column."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations
    from service.db import SchemaVersion
    world = factories.small_world()
    factories.rate(app.test_client(), world.school.id)
    migrator = SchemaMigrator.from_database(database)
    apply_operations(migrator.drop_index("rating", "rating_not_counted"),
                     migrator.drop_index("rating", "rating_ipv6_network"),
                     migrator.drop_column("rating", "status"), migrator.drop_column("rating", "verified"),
                     migrator.drop_column("rating", "network_hash"))
    SchemaVersion.delete().where(SchemaVersion.version > 4).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from version 4 to {MIGRATIONS[-1][0]}" in result.output
    # Each index of its own columns, as the database reads them back.
    for name, columns in (("rating_ipv6_network", ["network_hash", "object_id", "created"]),
                          ("rating_not_counted", ["object_id", "created"])):
        if is_sqlite():
            indexed = [row[2] for row in database.execute_sql(f'PRAGMA index_info("{name}")')]
        else:
            indexed = [row[0] for row in database.execute_sql(
                "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE c.relname = %s ORDER BY k.n", (name,))]
        assert indexed == columns, name
    assert Rating.select().count() == 1


def test_upgrade_to_service_codes_adds_their_tables_and_keeps_the_ratings(app, db, runner):
    """A database at version 12 gets the tables of issued and used codes;
    its ratings and their verified flags stay as they were."""
    from service.db import SchemaVersion
    from service.models import CODE_TABLES, CodeIssue, UsedCode
    world = factories.small_world()
    client = app.test_client()
    for _ in range(3):
        factories.rate(client, world.school.id)
    database.drop_tables(CODE_TABLES)
    SchemaVersion.delete().where(SchemaVersion.version > 12).execute()
    before = list(Rating.select().order_by(Rating.id).dicts())

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"upgraded from version 12 to {MIGRATIONS[-1][0]}" in result.output
    assert all(database.table_exists(m._meta.table_name) for m in CODE_TABLES)
    assert list(Rating.select().order_by(Rating.id).dicts()) == before
    UsedCode.create(object=world.school.id, serial=1)
    CodeIssue.create(object=world.school.id, kind=CodeIssue.SHEET, first_serial=1, count=10)
    assert UsedCode.select().count() == CodeIssue.select().count() == 1


def test_upgrade_to_natural_order_fills_every_name(app, db, runner):
    """A database at version 12 gets each object's sort name, and lists come
    in natural order: "№ 2" before "№ 10"."""
    from playhouse.migrate import SchemaMigrator, migrate as apply_operations
    from service.db import SchemaVersion
    from service.models import RatableObject
    for number in (10, 2, 1):
        factories.organization(f"ГУО «Средняя школа № {number} г. Лиды»", "grodno", ("education",))
    migrator = SchemaMigrator.from_database(database)
    apply_operations(migrator.drop_index("ratable_object", "ratable_object_sort_name"),
                     migrator.drop_column("ratable_object", "sort_name"))
    SchemaVersion.delete().where(SchemaVersion.version > 12).execute()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "upgraded from version 12" in result.output
    assert not RatableObject.select().where(RatableObject.sort_name == "").exists()
    names = [item["name"] for item in app.test_client().get("/api/v1/objects?q=Лиды").get_json()["items"]]
    assert names == [f"ГУО «Средняя школа № {n} г. Лиды»" for n in (1, 2, 10)]
    if not database.obj.__class__.__name__.lower().startswith("pooledsqlite"):
        indexes = {row[0] for row in database.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'ratable_object'")}
        assert "ratable_object_search_name_trigrams" in indexes


def test_upgrade_to_mail_adds_the_outbox_and_keeps_the_users(app, db, runner):
    """A database made before version 17 gets the outbox and the table of
    digests sent; its users stay."""
    from service.db import SchemaVersion
    from service.models import MAIL_TABLES, MailDigest, OutboxMessage, User
    user = User.create(email="staff@example.by", role="staff", password_hash="")
    database.drop_tables(MAIL_TABLES)
    SchemaVersion.delete().where(SchemaVersion.version == 17).execute()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 17: mail" in result.output
    assert all(database.table_exists(m._meta.table_name) for m in MAIL_TABLES)
    assert [u.email for u in User.select()] == ["staff@example.by"]
    message = OutboxMessage.create(kind="test", user=user, recipient=user.email, subject="s", body="b",
                                   message_id="<1@ocenka.test>")
    MailDigest.create(user=user, day="2026-12-04", covered_until=message.created, message=message)
    assert OutboxMessage.select().count() == MailDigest.select().count() == 1


def test_upgrade_to_stored_rankings_adds_their_table(app, db, runner):
    """A database made before version 20 gets the table of stored ranking
    rows; the rankings read the same before and after."""
    from service import ranking
    from service.db import SchemaVersion
    from service.models import RANKING_TABLES
    world = factories.small_world()
    client = app.test_client()
    factories.rate(client, world.school.id, 5, 5, 5, 4)
    factories.rate(client, world.zags.id, 3, 4, 4, 4)
    before = client.get("/api/v1/rankings").get_json()
    database.drop_tables(RANKING_TABLES)
    SchemaVersion.delete().where(SchemaVersion.version == 20).execute()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 20: rankings" in result.output
    assert all(database.table_exists(m._meta.table_name) for m in RANKING_TABLES)
    ranking.clear_cache()
    assert client.get("/api/v1/rankings").get_json() == before


def test_upgrade_to_service_aggregates_sums_every_counted_rating_naming_a_service(app, db, runner):
    """A database made before version 21 holds ratings with and without a
    service, counted, held and rejected, over several months; the step
    builds the aggregates per service a rescan of the ratings gives, and
    healthz wants it until then."""
    from service.db import SchemaVersion
    from service.models import Service, ServiceAggregate
    world = factories.small_world()
    doctor, certificate = (Service.get(Service.code == code) for code in ("doctor-appointment", "medical-certificate"))
    rows = []
    for i in range(60):
        target = (world.clinic, world.clinic_women, world.clinic_kids, world.school)[i % 4]
        service = (doctor, certificate, None)[i % 3]
        status = (Rating.COUNTED, Rating.COUNTED, Rating.COUNTED, Rating.HELD, Rating.REJECTED)[i % 5]
        rows.append(dict(object=target.id, service=service.id if service else None, simplicity=1 + i % 5,
                         information=5, timeliness=4, politeness=1 + (i * 7) % 5, channel="qr", status=status,
                         verified=i % 7 == 0, created=datetime.datetime(2026, 1 + i % 9, 3), month=202601 + i % 9,
                         client_token=str(uuid.uuid4()), client_hash="c" * 32, address_hash="a" * 32))
    Rating.insert_many(rows).execute()
    database.drop_tables([ServiceAggregate])
    SchemaVersion.delete().where(SchemaVersion.version == 21).execute()
    client = app.test_client()
    unhealthy = client.get("/healthz")
    assert unhealthy.status_code == 503 and "21" in unhealthy.get_json()["reason"]

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 21: aggregates per object, service and period" in result.output
    assert client.get("/healthz").status_code == 200
    stored = ranking.stored_service_aggregates()
    assert stored == ranking.service_aggregates_from_ratings() and stored
    # By hand: the clinic's counted appointments with a doctor of the year.
    mine = [r for r in rows if r["object"] == world.clinic.id and r["service"] == doctor.id
            and r["status"] == Rating.COUNTED]
    year = stored[(world.clinic.id, doctor.id, "2026")]
    assert (year.n, year.simplicity, year.verified) == (len(mine), sum(r["simplicity"] for r in mine),
                                                         sum(r["verified"] for r in mine))
    assert sum(s.n for (_, _, period), s in stored.items() if period == "all") == sum(
        1 for r in rows if r["service"] and r["status"] == Rating.COUNTED)


def test_bulk_insert_keeps_every_character_and_null(db):
    """On PostgreSQL bulk_insert streams COPY text: tabs, line breaks,
    backslashes, quotes and nulls come back as they went in."""
    from service.db import bulk_insert
    from service.models import RatableObject
    names = ["Tab\there", "Line\nbreak\r\n", "Back\\slash \\N \\x00", "«Кавычки» 'и' \"ещё\"", "Ёлка 🌲"]
    fields = [RatableObject.id, RatableObject.kind, RatableObject.name, RatableObject.search_name,
              RatableObject.sort_name, RatableObject.unp, RatableObject.published, RatableObject.is_evaluation_object,
              RatableObject.is_authorized_body, RatableObject.created]
    when = datetime.datetime(2026, 12, 4, 1, 2, 3, 456789)
    bulk_insert(RatableObject, fields, [(900 + k, "organization", name, name.casefold(), name, None, k % 2 == 0,
                                         True, False, when)
                                        for k, name in enumerate(names)])
    rows = list(RatableObject.select(RatableObject.name, RatableObject.unp, RatableObject.published,
                                     RatableObject.created)
                .where(RatableObject.id >= 900).order_by(RatableObject.id).tuples())
    assert rows == [(name, None, k % 2 == 0, when) for k, name in enumerate(names)]


@pytest.mark.parametrize("inside_a_transaction", [False, True])
def test_a_large_query_is_read_in_chunks_held_by_the_server(db, inside_a_transaction):
    """On PostgreSQL the rows wait in a server-side cursor, not all in the
    client library; every row comes, in order, a chunk at a time."""
    from service.db import fetch_in_chunks
    from service.models import Meta
    Meta.insert_many([{"key": f"chunk-{k:03d}", "value": k} for k in range(23)]).execute()
    query = Meta.select(Meta.key, Meta.value).where(Meta.key.startswith("chunk-")).order_by(Meta.key)
    cursors_seen = []

    def read():
        chunks = []
        for chunk in fetch_in_chunks(*query.sql(), size=5):
            chunks.append(chunk)
            if not is_sqlite():
                cursors_seen.append(database.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()[0])
        return chunks

    if inside_a_transaction:
        with database.atomic():
            chunks = read()
            Meta.insert(key="after-chunks", value=1).execute()  # the transaction goes on
    else:
        chunks = read()
    assert [len(chunk) for chunk in chunks] == [5, 5, 5, 5, 3]
    assert [tuple(row) for chunk in chunks for row in chunk] == [(f"chunk-{k:03d}", k) for k in range(23)]
    if not is_sqlite():
        assert cursors_seen == [1] * 5
        assert database.execute_sql("SELECT count(*) FROM pg_cursors").fetchone()[0] == 0
    assert Meta.select().where(Meta.key == "after-chunks").exists() == inside_a_transaction


def test_upgrade_drops_the_index_of_a_ratings_object_alone(app, db, runner, client):
    from service.db import SchemaVersion
    world = factories.small_world()
    factories.rate(client, world.school.id, 5, 4, 5, 4)
    indexed = lambda: {i.name: i.columns for i in database.get_indexes("rating")}  # noqa: E731
    # A database made from scratch has none; one of version 26 had it.
    assert ["object_id"] not in indexed().values() and ["object_id", "created"] in indexed().values()
    database.execute_sql('CREATE INDEX "rating_object_id" ON "rating" ("object_id")')
    SchemaVersion.delete().where(SchemaVersion.version >= 27).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 27" in result.output
    assert "rating_object_id" not in indexed() and ["object_id", "created"] in indexed().values()
    assert current_version() == MIGRATIONS[-1][0]
    assert Rating.select().where(Rating.object == world.school.id).count() == 1


_WHOLE_INDEXES_BEFORE_28 = {
    "rating_service_id": ("rating", "service_id"),
    "rating_comment_status_created": ("rating", "comment_status, created"),
    "rating_network_hash_object_id_created": ("rating", "network_hash, object_id, created"),
    "object_aggregate_object_id": ("object_aggregate", "object_id"),
    "rollup_aggregate_organization_id": ("rollup_aggregate", "organization_id"),
    "service_aggregate_object_id": ("service_aggregate", "object_id"),
    # Until version 29.
    "rating_status_object_id_created": ("rating", "status, object_id, created"),
}
_PARTIAL_INDEXES = ("rating_named_service", "rating_pending_comment", "rating_ipv6_network", "rating_not_counted")


def _index_names(*tables):
    return {i.name for table in tables for i in database.get_indexes(table)}


def test_upgrade_makes_the_rating_indexes_partial(app, db, runner, client):
    from service.db import SchemaVersion
    world = factories.small_world()
    factories.rate(client, world.school.id, 5, 4, 5, 4)
    tables = ("rating", "object_aggregate", "rollup_aggregate", "service_aggregate")
    # A database made from scratch has the partial ones only; one of
    # version 27 had the whole ones.
    assert set(_PARTIAL_INDEXES) <= _index_names(*tables)
    assert not set(_WHOLE_INDEXES_BEFORE_28) & _index_names(*tables)
    for name in _PARTIAL_INDEXES:
        database.execute_sql(f'DROP INDEX "{name}"')
    for name, (table, columns) in _WHOLE_INDEXES_BEFORE_28.items():
        database.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ({columns})')
    SchemaVersion.delete().where(SchemaVersion.version >= 28).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 28" in result.output and "schema version 29" in result.output
    assert set(_PARTIAL_INDEXES) <= _index_names(*tables)
    assert not set(_WHOLE_INDEXES_BEFORE_28) & _index_names(*tables)
    assert current_version() == MIGRATIONS[-1][0]
    assert Rating.select().where(Rating.object == world.school.id).count() == 1


_AGGREGATE_TABLES = ("object_aggregate", "rollup_aggregate", "service_aggregate")


def _table_sql(table):
    return database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (table,)).fetchone()[0]


def _as_before_30(model):
    """The model's table as versions 2 to 29 made it: a rowid table, the
    key in an index of its own, the columns in the model's order."""
    table = model._meta.table_name
    database.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}_30"')
    for name, in database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                      "AND sql IS NOT NULL", (f"{table}_30",)).fetchall():
        database.execute_sql(f'DROP INDEX "{name}"')
    model._schema.create_table()
    model._schema.create_indexes()
    columns = ", ".join(f'"{field.column_name}"' for field in model._meta.sorted_fields)
    database.execute_sql(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}_30"')
    database.execute_sql(f'DROP TABLE "{table}_30"')


def test_upgrade_stores_the_aggregates_in_the_order_of_their_keys(app, db, runner, client):
    """On SQLite version 30 moves each aggregate table into its primary
    key's b-tree (an object's periods side by side) and keeps every sum;
    ratings taken afterwards add to them as before. On PostgreSQL it
    changes nothing."""
    from service.db import SchemaVersion
    from service.models import RollupAggregate, Service, ServiceAggregate
    world = factories.small_world()
    doctor = Service.get(Service.code == "doctor-appointment")
    structure.offer_services(world.clinic, [doctor])
    for i, target in enumerate((world.clinic, world.clinic_women, world.clinic_kids, world.school) * 2):
        answer = factories.rate(client, target.id, 2 + i % 4, 4, 5, 3, ip=f"10.0.0.{i}",
                                service=doctor.id if target != world.school else None)
        assert answer.status_code == 201, answer.get_json()
    models = (ObjectAggregate, RollupAggregate, ServiceAggregate)
    stored = lambda: (ranking.stored_aggregates(), ranking.stored_rollup_aggregates(),  # noqa: E731
                      ranking.stored_service_aggregates())
    before = stored()
    assert all(before)
    if is_sqlite():
        # A database made from scratch has them so already.
        assert all("WITHOUT ROWID" in _table_sql(table) for table in _AGGREGATE_TABLES)
        for model in models:
            _as_before_30(model)
        assert not any("WITHOUT ROWID" in _table_sql(table) for table in _AGGREGATE_TABLES)
        indexes = _index_names(*_AGGREGATE_TABLES)
    SchemaVersion.delete().where(SchemaVersion.version == 30).execute()

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 30" in result.output
    assert current_version() == MIGRATIONS[-1][0]
    assert stored() == before
    if is_sqlite():
        for model in models:
            sql = _table_sql(model._meta.table_name)
            assert sql.endswith("WITHOUT ROWID")
            # Key first: SQLite 3.40's integrity check misreads the rows
            # of such a table otherwise.
            key = [model._meta.fields[name].column_name for name in model._meta.primary_key.field_names]
            assert [c.name for c in database.get_columns(model._meta.table_name)][:len(key)] == key
        # The secondary indexes made again, the key's own gone with its table.
        assert _index_names(*_AGGREGATE_TABLES) == {name for name in indexes if not name.startswith("sqlite_")}
        assert database.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert factories.rate(client, world.clinic.id, 5, 5, 5, 5, ip="10.0.1.1", service=doctor.id).status_code == 201
    after = stored()
    assert after[0] == ranking.aggregates_from_ratings() and after[2] == ranking.service_aggregates_from_ratings()
    assert after[0][(world.clinic.id, "all")].n == before[0][(world.clinic.id, "all")].n + 1
    assert after[1] == ranking.rollup_aggregates_from_objects()


def _plan(sql, params):
    if is_sqlite():
        return " ".join(row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    with database.atomic():
        # A test's few rows are read faster without any index: asked not
        # to, PostgreSQL still scans the table when no index can serve.
        database.execute_sql("SET LOCAL enable_seqscan = off")
        return " ".join(row[0] for row in database.execute_sql("EXPLAIN " + sql, params).fetchall())


def _placeholders(sql):
    return sql if is_sqlite() else sql.replace("?", "%s")


def _ratings_as_a_portal_holds_them(now, count=3000):
    """Ratings of several objects over two months, of which one in a
    hundred is pending moderation, names a service, comes from an IPv6
    network or is not counted; the planner's statistics of them. Plans of
    an empty or a tiny table are the planner's guesses (or another test's
    statistics, which PostgreSQL keeps after the rows are gone)."""
    from service.models import Service
    world = factories.small_world()
    objects = [world.school.id, world.clinic.id, world.clinic_women.id, world.clinic_kids.id, world.zags.id]
    service = Service.select(Service.id).first().id
    rows = []
    for i in range(count):
        rare = i % 100 == 0
        created = now - datetime.timedelta(minutes=29 * i)
        rows.append(dict(object=objects[i % len(objects)], service=service if rare else None, simplicity=5,
                         information=5, timeliness=4, politeness=5, channel="widget", created=created,
                         month=created.year * 100 + created.month, client_token=str(uuid.uuid4()),
                         client_hash=f"{i:032x}", address_hash=f"{i:032x}",
                         network_hash=f"{i + 1:032x}" if rare else f"{i:032x}",
                         comment="?" if rare else None,
                         comment_status=Rating.COMMENT_PENDING if rare else Rating.COMMENT_NONE,
                         status=Rating.HELD if rare else Rating.COUNTED, verified=False))
    for start in range(0, count, 500):
        Rating.insert_many(rows[start:start + 500]).execute()
    database.execute_sql("ANALYZE")
    return objects


def test_the_partial_indexes_serve_their_readers(app, db):
    from service import comments, holding
    now = datetime.datetime(2026, 12, 5, 12, 0)
    objects = _ratings_as_a_portal_holds_them(now)
    pending = comments.pending().sql()
    assert "rating_pending_comment" in _plan(*pending)
    # The moderator's digest: the pending comments since the last one.
    window = Rating.select(Rating.id).where((Rating.comment_status == Rating.COMMENT_PENDING) & (Rating.created > now))
    assert "rating_pending_comment" in _plan(*window.sql())
    network = ("0" * 32, objects[0], Rating.created.db_value(now))
    assert "rating_ipv6_network" in _plan(_placeholders(holding._NETWORK), network)
    named = Rating.select(Rating.id).where(Rating.service == 7).sql()
    assert "rating_named_service" in _plan(*named)
    # The rule of bursts: all ratings in a window, less those not counted.
    window = (objects[0], Rating.created.db_value(now - datetime.timedelta(days=28)), Rating.created.db_value(now))
    assert "rating_object_id_created" in _plan(_placeholders(holding._ALL), window)
    assert "rating_not_counted" in _plan(_placeholders(holding._NOT_COUNTED), window)
    # The moderator's held ratings, of all objects and of one.
    held = Rating.select(Rating.id).where((Rating.status == Rating.HELD) & holding.NOT_COUNTED)
    assert "rating_not_counted" in _plan(*held.sql())
    assert "rating_not_counted" in _plan(*held.where(Rating.object == objects[0]).sql())


def test_one_index_serves_every_count_of_an_address_or_client(app, db):
    from service import holding, limits
    now = datetime.datetime(2026, 12, 5, 12, 0)
    objects = _ratings_as_a_portal_holds_them(now)
    index = "rating_address_hash_created_object_id_client_hash"
    since = Rating.created.db_value(now - datetime.timedelta(days=1))
    address, client = "0" * 32, "1" * 32
    for limit, sql, params in limits.counts(limits.Client(client, address), objects[0], now):
        plan = _plan(_placeholders(sql), params)
        # An object's last hour may be read from the index of objects
        # instead, as PostgreSQL's planner does here: bounded too.
        served = (index, "rating_object_id_created") if limit.per_object else (index,)
        assert any(name in plan for name in served), (limit.name, plan)
    assert index in _plan(_placeholders(holding._ADDRESS), (address, objects[0], since))
    assert index in _plan(_placeholders(holding._CLIENTS), (address, objects[0], since, client))


_INDEXES_BEFORE_31 = {"rating_client_hash_object_id_created": "client_hash, object_id, created",
                      "rating_address_hash_created": "address_hash, created"}


def test_upgrade_replaces_the_indexes_of_clients_and_addresses(app, db, runner, client):
    from service import limits
    from service.db import SchemaVersion
    world = factories.small_world()
    factories.rate(client, world.school.id, 5, 4, 5, 4)
    index = "rating_address_hash_created_object_id_client_hash"
    # A database made from scratch has the one index; one of version 30
    # had the two.
    assert index in _index_names("rating") and not set(_INDEXES_BEFORE_31) & _index_names("rating")
    database.execute_sql(f'DROP INDEX "{index}"')
    for name, columns in _INDEXES_BEFORE_31.items():
        database.execute_sql(f'CREATE INDEX "{name}" ON "rating" ({columns})')
    SchemaVersion.delete().where(SchemaVersion.version >= 31).execute()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "schema version 31" in result.output
    assert index in _index_names("rating") and not set(_INDEXES_BEFORE_31) & _index_names("rating")
    assert current_version() == MIGRATIONS[-1][0]
    rating = Rating.get(Rating.object == world.school.id)
    # The limits still find the rating by its client and address.
    counted = {limit.name: database.execute_sql(_placeholders(sql), params).fetchone()[0]
               for limit, sql, params in limits.counts(limits.Client(rating.client_hash, rating.address_hash),
                                                      world.school.id, rating.created)}
    assert counted == {limit.name: 1 for limit in limits.LIMITS}
