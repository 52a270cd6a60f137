"""``flask --app wsgi backup PATH``: a consistent copy of the database while
the service keeps serving.

SQLite: the online backup API copies the pages under a read transaction, so
writers wait only for each step, and the copy is one consistent moment of the
database (WAL included). It is written beside PATH first and renamed, so a
crash never leaves a half copy under the name an operator trusts.

PostgreSQL: ``pg_dump --format=custom``, which reads in one snapshot while
the service runs; restore with ``pg_restore --dbname … PATH`` into an empty
database (docs/operations.md).
"""
import os
import shutil
import sqlite3
import subprocess
from urllib.parse import unquote, urlparse

import click
from flask import current_app
from flask.cli import with_appcontext

# Pages copied per step of the SQLite backup: small enough that writers
# waiting for the lock are held for milliseconds, large enough that a copy of
# the real portal's database takes seconds, not minutes.
SQLITE_PAGES_PER_STEP = 4096


class BackupError(RuntimeError):
    pass


def _sqlite_path(url):
    parsed = urlparse(url)
    path = unquote(parsed.path)
    return "/" + path.lstrip("/") if url.startswith("sqlite:////") else path[1:]


def backup_sqlite(source_path, target_path):
    """Copies the SQLite database at ``source_path`` to ``target_path``
    (replaced whole when the copy is complete)."""
    if not os.path.exists(source_path):
        raise BackupError(f"no SQLite database at {source_path}")
    partial = f"{target_path}.partial-{os.getpid()}"
    if os.path.exists(partial):
        os.remove(partial)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=SQLITE_PAGES_PER_STEP, sleep=0.005)
            # One file that needs no -wal beside it to be whole.
            target.execute("PRAGMA journal_mode=DELETE")
            problem = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            target.close()
    finally:
        source.close()
    if problem != "ok":
        os.remove(partial)
        raise BackupError(f"the copy failed its integrity check: {problem}")
    os.replace(partial, target_path)


def backup_postgresql(url, target_path):
    """Dumps the PostgreSQL database of ``url`` with ``pg_dump`` (custom
    format, one snapshot) to ``target_path``."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    partial = f"{target_path}.partial-{os.getpid()}"
    # A URL with a query (connect_timeout=…) is understood by libpq as is.
    completed = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={url}"],
                               capture_output=True, text=True)
    if completed.returncode != 0:
        if os.path.exists(partial):
            os.remove(partial)
        raise BackupError(f"pg_dump failed: {completed.stderr.strip()}")
    os.replace(partial, target_path)


def backup(url, target_path):
    if os.path.isdir(target_path):
        raise BackupError(f"{target_path} is a directory; name the file to write")
    directory = os.path.dirname(os.path.abspath(target_path))
    if not os.path.isdir(directory):
        raise BackupError(f"the directory {directory} does not exist")
    if url.startswith("sqlite:"):
        source = _sqlite_path(url)
        if os.path.abspath(source) == os.path.abspath(target_path):
            raise BackupError("the backup would overwrite the database itself")
        backup_sqlite(source, target_path)
    elif url.startswith(("postgresql:", "postgres:")):
        backup_postgresql(url, target_path)
    else:
        raise BackupError(f"cannot back up {url!r}")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(path):
    """Write a consistent copy of the database to PATH while the service runs."""
    try:
        backup(current_app.config["DATABASE_URL"], path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written to {path} ({os.path.getsize(path):,} bytes)")
