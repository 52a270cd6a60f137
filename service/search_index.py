"""SQLite's counterpart of PostgreSQL's trigram index for the catalogue
search: an FTS5 table of the objects' case-folded names, tokenized into
trigrams, so that "find any part of a name" reads the index instead of
every name.

The table takes its text from ``ratable_object`` itself (external content)
and triggers keep it in step with every insert, rename and delete, however
the row is written (a form, the CSV import, the demo's bulk inserts, a
cascade). An SQLite built without FTS5 or its trigram tokenizer (before
3.34) gets no table, and the search scans as before.

The index only narrows the candidates: the search still tests each with
the same ``LIKE`` as without it, so what it finds cannot differ.
"""
import logging

from peewee import SQL, DatabaseError

from service.db import is_sqlite

TABLE = "ratable_object_search"

# Trigrams of fewer characters do not exist: a shorter text is found by a scan.
SHORTEST = 3

# The names are case-folded by Python before they are stored and searched
# (models.RatableObject.save), so the tokenizer must not fold them again in
# its own way: case_sensitive keeps the index's trigrams the stored text's.
_CREATE = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
           "search_name, content='ratable_object', content_rowid='id', tokenize='trigram case_sensitive 1')")

_TRIGGERS = (
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_insert AFTER INSERT ON ratable_object BEGIN
        INSERT INTO {TABLE}(rowid, search_name) VALUES (new.id, new.search_name);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_delete AFTER DELETE ON ratable_object BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, search_name) VALUES ('delete', old.id, old.search_name);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_rename AFTER UPDATE OF search_name ON ratable_object
        WHEN old.search_name IS NOT new.search_name BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, search_name) VALUES ('delete', old.id, old.search_name);
        INSERT INTO {TABLE}(rowid, search_name) VALUES (new.id, new.search_name);
    END""",
)


def create(db):
    """Makes the table and its triggers and fills it from the names stored;
    True when SQLite has what it takes."""
    try:
        with db.atomic():
            db.execute_sql(_CREATE)
            for trigger in _TRIGGERS:
                db.execute_sql(trigger)
            db.execute_sql(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
    except DatabaseError as error:
        logging.getLogger(__name__).warning("no FTS5 trigram index for the catalogue search (%s); it scans instead",
                                            str(error).strip())
        return False
    return True


def drop(db):
    """Removes the table and its triggers (the search then scans)."""
    with db.atomic():
        for suffix in ("insert", "delete", "rename"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {TABLE}_{suffix}")
        db.execute_sql(f"DROP TABLE IF EXISTS {TABLE}")


def present(db):
    if not is_sqlite():
        return False
    return db.execute_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone() \
        is not None


def matching_ids(needle):
    """A subquery of the ids whose stored name may contain ``needle`` (a
    superset: the caller tests each), for a needle of SHORTEST characters
    or more."""
    # One quoted FTS5 string is a phrase: its trigrams, consecutive, which
    # every name containing the needle has. Inside it only '"' is special.
    phrase = '"' + needle.replace('"', '""') + '"'
    return SQL(f"(SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH ?)", [phrase])
