"""``GET /healthz``: a readiness check for a load balancer or a monitor.

200 ``{"status": "ok"}`` only when the database answers and is at the
schema version this code expects; otherwise 503 ``{"status":
"unavailable", "reason": ...}`` with Retry-After, always JSON. A wrong
``OCENKA_DATABASE_URL`` (an empty new SQLite file, another database) or a
forgotten ``init-db`` after a deploy shows here, not as failing pages.
"""
import os

from flask import Blueprint, jsonify

from service import db
from service.migrations import MIGRATIONS

bp = Blueprint("health", __name__)

EXPECTED_VERSION = MIGRATIONS[-1][0]


@bp.get("/healthz")
@db.without_database  # it connects by itself, to say why it could not
def healthz():
    if db.is_sqlite() and not os.path.exists(db.database.obj.database):
        # A pooled connection may still read a file that was removed.
        return _unavailable("the SQLite database file does not exist")
    try:
        with db.connection():
            version, missing = db.schema_state()
    except Exception as error:  # noqa: BLE001 - whatever failed, the answer is "not ready"
        reason = db.unavailable_reason(error) or f"the database failed: {type(error).__name__}"
        return _unavailable(reason)
    if missing and version == EXPECTED_VERSION:
        return _unavailable(f"the schema lacks version {', '.join(map(str, missing))}: "
                            "run `flask --app wsgi init-db`")
    if missing or version != EXPECTED_VERSION:
        return _unavailable(f"the schema is at version {version}, this code needs {EXPECTED_VERSION}: "
                            "run `flask --app wsgi init-db`")
    return jsonify(status="ok")


def _unavailable(reason):
    response = jsonify(status="unavailable", reason=reason)
    response.status_code = 503
    response.headers["Retry-After"] = str(db.RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
