"""The number of published objects, kept by the database itself.

The catalogue without a text or filter shows it on every page; counting
the rows each time reads every published object's index entry (196,129 at
ten times the real portal). Triggers on ``ratable_object`` keep one row
exact instead, however an object is written, published, unpublished or
deleted (a form, the CSV import, the demo's bulk inserts, a cascade, a
TRUNCATE), in the writer's own transaction.

On PostgreSQL the triggers run once per statement over its changed rows,
so a bulk insert updates the row once, and not at all when publication did
not change (no lock taken); SQLite's run per row, which costs it nothing
more since it has one writer.
"""
from service.db import is_sqlite

TABLE = "published_count"

_SQLITE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL)",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON ratable_object WHEN new.published BEGIN
        UPDATE {TABLE} SET n = n + 1;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON ratable_object WHEN old.published BEGIN
        UPDATE {TABLE} SET n = n - 1;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_update AFTER UPDATE OF published ON ratable_object
        WHEN old.published IS NOT new.published BEGIN
        UPDATE {TABLE} SET n = n + (CASE WHEN new.published THEN 1 ELSE -1 END);
    END""",
)

# Transition tables serve one event per trigger, hence three triggers on
# one function, which reads only the tables its event has.
_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (one BOOLEAN PRIMARY KEY CHECK (one), n BIGINT NOT NULL)",
    f"""CREATE OR REPLACE FUNCTION {TABLE}_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        delta BIGINT := 0;
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            UPDATE {TABLE} SET n = 0;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            delta := delta + (SELECT count(*) FROM new_rows WHERE published);
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            delta := delta - (SELECT count(*) FROM old_rows WHERE published);
        END IF;
        IF delta <> 0 THEN
            UPDATE {TABLE} SET n = n + delta;
        END IF;
        RETURN NULL;
    END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_insert ON ratable_object",
    f"""CREATE TRIGGER {TABLE}_insert AFTER INSERT ON ratable_object
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_change()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_update ON ratable_object",
    f"""CREATE TRIGGER {TABLE}_update AFTER UPDATE ON ratable_object
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_change()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_delete ON ratable_object",
    f"""CREATE TRIGGER {TABLE}_delete AFTER DELETE ON ratable_object
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_change()""",
    f"DROP TRIGGER IF EXISTS {TABLE}_truncate ON ratable_object",
    f"""CREATE TRIGGER {TABLE}_truncate AFTER TRUNCATE ON ratable_object
        FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_change()""",
)


def create(db):
    """Makes the table and its triggers, counted from the rows stored."""
    with db.atomic():
        for statement in _SQLITE if is_sqlite() else _POSTGRES:
            db.execute_sql(statement)
        db.execute_sql(f"DELETE FROM {TABLE}")
        db.execute_sql(f"INSERT INTO {TABLE} (one, n) SELECT {'1' if is_sqlite() else 'TRUE'}, count(*) "
                       "FROM ratable_object WHERE published")


def read(db):
    row = db.execute_sql(f"SELECT n FROM {TABLE}").fetchone()
    return row[0] if row else None
