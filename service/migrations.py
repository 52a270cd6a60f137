"""Schema versions, oldest first. ``init-db`` applies the missing ones.

Each step must keep every row. Version 1 is built from the current models
of its tables, so a later step that adds a column to one of them must check
that the column is not there yet (a fresh database already has it).
"""
import contextlib
import logging
import re

from peewee import DatabaseError
from playhouse.migrate import SchemaMigrator, migrate as apply_operations

from service import models, published_count, ranking, search_index
from service.db import is_sqlite


def _v1_raw_tables(db):
    db.create_tables(models.RAW_TABLES, safe=True)


def _v2_object_aggregates(db):
    db.create_tables([models.ObjectAggregate, models.RollupMember], safe=True)
    ranking.rebuild_rollup_members()
    ranking.rebuild_object_aggregates()


def _v3_rollup_aggregates(db):
    db.create_tables([models.RollupAggregate], safe=True)
    ranking.rebuild_rollup_aggregates()


def _add_missing_columns(db, model, names):
    table = model._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    migrator = SchemaMigrator.from_database(db)
    operations = []
    for name in names:
        field = model._meta.fields[name]
        if field.column_name not in present:
            operations.append(migrator.add_column(table, field.column_name, field))
    if operations:
        apply_operations(*operations)


def _add_missing_indexes(db, model):
    # IF NOT EXISTS, so a fresh database is left alone. An index of a column
    # a later version adds (the model's, not yet the table's) is left to
    # that version, which calls this again once the column is there.
    if not db.table_exists(model._meta.table_name):
        db.create_tables([model])
    present = {column.name for column in db.get_columns(model._meta.table_name)}
    absent = {field.column_name for field in model._meta.sorted_fields} - present
    for context in model._schema._create_indexes(safe=True):
        sql, params = context.query()
        if not any(re.search(rf"\b{re.escape(column)}\b", sql) for column in absent):
            db.execute_sql(sql, params)


def _v4_cabinets(db):
    _add_missing_columns(db, models.User, ["language"])
    _add_missing_columns(db, models.Registry, ["name"])
    _add_missing_columns(db, models.ExtraCriterion, ["decision_reason", "proposed_by"])
    _add_missing_columns(db, models.Rating, ["moderation_reason", "moderated"])
    _add_missing_columns(db, models.Notification, ["period", "report"])
    for model in (models.Rating, models.ExtraCriterion, models.Notification, models.Registry):
        _add_missing_indexes(db, model)
    db.create_tables(models.CABINET_TABLES, safe=True)


def _v5_rating_status(db):
    # Every rating stored so far was counted.
    _add_missing_columns(db, models.Rating, ["status", "verified"])
    _add_missing_indexes(db, models.Rating)


def _v6_spread_and_verified(db):
    for model in (models.ObjectAggregate, models.RollupAggregate):
        _add_missing_columns(db, model, ["squares", "verified"])
    # Not rebuild_aggregates: the service aggregates it also rebuilds come
    # in version 21.
    ranking.rebuild_object_aggregates()
    ranking.rebuild_rollup_aggregates()


# The ranking's covering index before version 12, by peewee's name for it.
_RANKING_INDEX_BEFORE_12 = "rollup_aggregate_period_organization_id_n_simplicity_inf_c901434"


def _v12_ranking_index_with_squares(db):
    # The ranking reads each organization's squares for the group's σ; an
    # index without them sends every row back to the table (a quarter
    # slower at the real portal's scale, docs/benchmarks.md).
    db.execute_sql(f'DROP INDEX IF EXISTS "{_RANKING_INDEX_BEFORE_12}"')
    _add_missing_indexes(db, models.RollupAggregate)


# The covering index of versions 12 to 25, by peewee's name for it.
_RANKING_INDEX_BEFORE_26 = "rollup_aggregate_period_organization_id_n_simplicity_inf_732418c"


def _v26_rollup_index_of_keys(db):
    # The covering index halved a ranking's read of a whole period (at
    # 10× on PostgreSQL), but every rating rewrote its entries for the
    # rows it changed, in the one writer's turn. A cold worker reads a
    # group's stored rows (ranking_snapshot) now; this table only for a
    # group with none usable, after a change of structure say.
    db.execute_sql(f'DROP INDEX IF EXISTS "{_RANKING_INDEX_BEFORE_26}"')
    _add_missing_indexes(db, models.RollupAggregate)


def _v27_no_index_of_a_ratings_object_alone(db):
    db.execute_sql('DROP INDEX IF EXISTS "rating_object_id"')


def _v28_partial_rating_indexes(db):
    # Whole indexes before, named by peewee: every rating was written to
    # each, though their readers look only for the ratings the partial
    # ones now hold; and the aggregates' indexes of their first key
    # column, which their primary keys serve.
    for name in ("rating_service_id", "rating_comment_status_created", "rating_network_hash_object_id_created",
                 "object_aggregate_object_id", "rollup_aggregate_organization_id", "service_aggregate_object_id"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    _add_missing_indexes(db, models.Rating)


def _v29_no_status_index_of_counted_ratings(db):
    # Every counted rating was written to an index of status, object and
    # time that its readers used for the few not counted and, for the rule
    # of bursts, for counts the index of object and time now gives.
    db.execute_sql('DROP INDEX IF EXISTS "rating_status_object_id_created"')
    _add_missing_indexes(db, models.Rating)


def _v13_ledger(db):
    db.create_tables(models.LEDGER_TABLES, safe=True)
    from service import ledger
    ledger.build_for_existing_ratings()


def _v14_held_ratings(db):
    # Ratings before this carry no network; the rules that read it count
    # only ratings of the last day.
    _add_missing_columns(db, models.Rating, ["network_hash"])
    _add_missing_indexes(db, models.Rating)


def _v15_service_codes(db):
    db.create_tables(models.CODE_TABLES, safe=True)


def _v17_mail(db):
    db.create_tables(models.MAIL_TABLES, safe=True)


# Rows per UPDATE when filling a new column: three bound values a row, well
# under SQLite's limit of bound variables.
_ROWS_PER_UPDATE = 500


def _v19_natural_order_and_trigrams(db):
    _add_missing_columns(db, models.RatableObject, ["sort_name"])
    rows = list(models.RatableObject.select(models.RatableObject.id, models.RatableObject.name).tuples())
    for start in range(0, len(rows), _ROWS_PER_UPDATE):
        batch = rows[start:start + _ROWS_PER_UPDATE]
        params = [value for object_id, name in batch for value in (object_id, models.sort_key(name))]
        placeholder = "?" if is_sqlite() else "%s"
        cases = " ".join(f"WHEN {placeholder} THEN {placeholder}" for _ in batch)
        ids = ", ".join(placeholder for _ in batch)
        db.execute_sql(f"UPDATE ratable_object SET sort_name = CASE id {cases} END WHERE id IN ({ids})",
                       params + [object_id for object_id, _ in batch])
    _add_missing_indexes(db, models.RatableObject)
    if not is_sqlite():
        _postgres_trigram_index(db)


def _postgres_trigram_index(db):
    """A trigram index lets PostgreSQL answer a search for any part of a
    name (LIKE '%…%') without reading every row; at ten times the real
    portal that is the difference between a scan and an index lookup. The
    extension ships with PostgreSQL but needs the right to create it: without
    that right the search still works, only by scanning."""
    try:
        with db.atomic():
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            db.execute_sql("CREATE INDEX IF NOT EXISTS ratable_object_search_name_trigrams "
                           "ON ratable_object USING gin (search_name gin_trgm_ops)")
    except DatabaseError as error:
        logging.getLogger(__name__).warning("no trigram index for the catalogue search (%s); it scans instead",
                                            str(error).strip())


def _v20_ranking_snapshots(db):
    # Filled as rankings are read; nothing to carry over.
    db.create_tables(models.RANKING_TABLES, safe=True)


def _v21_service_aggregates(db):
    db.create_tables([models.ServiceAggregate], safe=True)
    # Summed by the database: a large portal's ratings need not pass
    # through Python (tests/test_db.py checks it equals a rescan).
    ranking.insert_aggregates_from_ratings("service_aggregate", ("object_id", "service_id"),
                                           "AND r.service_id IS NOT NULL")


def _v22_monitoring(db):
    # Notices sent before name no object: the monitoring job treats a
    # month already noticed to the organization as sent.
    _add_missing_columns(db, models.Notification, ["object", "figures", "overdue_since"])
    _add_missing_indexes(db, models.Notification)


def _v23_sqlite_search_index(db):
    # PostgreSQL has had its trigram index since version 19.
    if is_sqlite():
        search_index.create(db)


def _v24_published_count(db):
    published_count.create(db)


def _v25_ranking_snapshots_uncompressed(db):
    # PostgreSQL compresses a large value by default, and decompressing a
    # group's stored rows took most of a cold ranking's time (about 60 ms
    # of 2.5 MB at three times the real portal, against 15 ms read as
    # they are). Rows stored before stay compressed until stored again.
    if not is_sqlite():
        db.execute_sql("ALTER TABLE ranking_snapshot ALTER COLUMN rows SET STORAGE EXTERNAL")


# The sums of one object (or organization) for its five periods, stored in
# their primary key's b-tree (SQLite's WITHOUT ROWID): a rowid table keeps
# each row where it was first inserted and its key in a second b-tree, so a
# rating rewrote a page of each for every row it added to. Only here, on
# SQLite: peewee would write the clause for PostgreSQL too, whose tables
# have no rowid to drop.
_KEY_ORDERED = (models.ObjectAggregate, models.RollupAggregate, models.ServiceAggregate)


@contextlib.contextmanager
def _without_rowid(model):
    """The model's table as ``WITHOUT ROWID``, its key's columns first:
    SQLite 3.40's integrity check (Debian 12's) reports every row of such a
    table as holding NULLs when its key's columns come later. Every
    statement names its columns, so their order is the table's alone."""
    meta = model._meta
    fields, names = meta.sorted_fields, meta.primary_key.field_names
    key_first = [meta.fields[name] for name in names] + [field for field in fields if field.name not in names]
    meta.without_rowid, meta.sorted_fields = True, key_first
    try:
        yield
    finally:
        meta.without_rowid, meta.sorted_fields = False, fields


def _v30_sqlite_aggregates_in_key_order(db):
    if not is_sqlite():
        return
    for model in _KEY_ORDERED:
        table = model._meta.table_name
        sql, = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if "WITHOUT ROWID" in sql.upper():
            continue
        # Its indexes' names are the new table's; they are made again once
        # the rows are copied, in key order (appended, not inserted all over).
        db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}_before_30"')
        for name, in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                    "AND sql IS NOT NULL", (f"{table}_before_30",)).fetchall():
            db.execute_sql(f'DROP INDEX "{name}"')
        with _without_rowid(model):
            model._schema.create_table()
        columns = ", ".join(f'"{field.column_name}"' for field in model._meta.sorted_fields)
        key = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in model._meta.primary_key.field_names)
        db.execute_sql(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}_before_30" ORDER BY {key}')
        db.execute_sql(f'DROP TABLE "{table}_before_30"')
        model._schema.create_indexes()


def _v31_one_index_of_addresses_and_clients(db):
    # A rating was written to an index of its client and one of its
    # address, each at a random place; the one that replaces them answers
    # both kinds of count.
    for name in ("rating_client_hash_object_id_created", "rating_address_hash_created"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    _add_missing_indexes(db, models.Rating)


MIGRATIONS = [
    (1, "ratings, organizations, registries, notifications, users", _v1_raw_tables),
    (2, "aggregates per object and period, roll-up membership (filled from the ratings)", _v2_object_aggregates),
    (3, "rolled-up aggregates per organization and period (filled from the object aggregates)", _v3_rollup_aggregates),
    (4, "cabinets: sessions, tokens, account links, sign-in failures, audit log; moderation and registry columns",
     _v4_cabinets),
    (5, "trust: a rating's status (counted, held, rejected) and whether a code verified it", _v5_rating_status),
    (6, "aggregates: the sum of squared scores (for the spread) and the verified count, filled from the ratings",
     _v6_spread_and_verified),
    (12, "ranking: the covering index of the rolled-up aggregates holds the squares too (for the interval)",
     _v12_ranking_index_with_squares),
    (13, "the ratings ledger: a hash chain of every rating, built for those stored before", _v13_ledger),
    (14, "held ratings: the network (IPv6 /64) of each rating's address, hashed", _v14_held_ratings),
    (15, "proof of service: issues of single-use codes and the codes used", _v15_service_codes),
    (17, "mail: the outbox of letters to send and the digests sent per user and day", _v17_mail),
    (19, "catalogue: names in natural order (№ 2 before № 10); a trigram index for search on PostgreSQL",
     _v19_natural_order_and_trigrams),
    (20, "rankings: each group's rows stored with the ledger entry they are exact for, read by a worker that has "
         "none cached", _v20_ranking_snapshots),
    (21, "aggregates per object, service and period (the reports' figures per service), filled from the ratings",
     _v21_service_aggregates),
    (22, "monitoring: the object and figures of a low-score notice, one per object and month; when a planned item "
         "went overdue", _v22_monitoring),
    (23, "catalogue: an FTS5 trigram index of the names on SQLite (where it has FTS5), kept in step by triggers",
     _v23_sqlite_search_index),
    (24, "catalogue: the number of published objects, kept by triggers", _v24_published_count),
    (25, "rankings: a group's stored rows are kept as they are, not compressed by PostgreSQL (read four times "
         "faster)", _v25_ranking_snapshots_uncompressed),
    (26, "aggregates: the rolled-up sums' index holds the keys alone, not rewritten with every rating",
     _v26_rollup_index_of_keys),
    (27, "ratings: no index of the object alone (the one of object and time serves), one write less per rating",
     _v27_no_index_of_a_ratings_object_alone),
    (28, "ratings: partial indexes of the ratings naming a service, of pending comments and of IPv6 networks; "
         "the aggregates without indexes their primary keys serve", _v28_partial_rating_indexes),
    (29, "ratings: a partial index of those not counted (held or rejected) instead of an index of every rating's "
         "status", _v29_no_status_index_of_counted_ratings),
    (30, "aggregates: on SQLite, stored in the order of their keys (an object's periods side by side), one b-tree "
         "a table instead of two", _v30_sqlite_aggregates_in_key_order),
    (31, "ratings: one index of address, time, object and client serves the limits and the held-ratings rules, "
         "instead of one of clients and one of addresses", _v31_one_index_of_addresses_and_clients),
]
