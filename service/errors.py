"""One exception for "the request is wrong", and the handlers that turn
every error into JSON under /api and into a readable page elsewhere. Views
raise; they never build error responses by hand."""
import json
import logging
from html import escape

import peewee
from flask import current_app, render_template, request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

from service.db import RETRY_AFTER_SECONDS, DatabaseBusy, unavailable_reason

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with field errors: ``{"errors": {"field": ["message"]}}``."""

    def __init__(self, errors, status=400, headers=None):
        super().__init__(errors)
        self.errors = errors if isinstance(errors, dict) else {"_schema": [str(errors)]}
        self.status = status
        self.headers = headers or {}


def not_found(what="object"):
    return ApiError({what: ["not found"]}, status=404)


def _wants_json():
    return request.path.startswith("/api/")


def register(app):
    @app.errorhandler(ApiError)
    def _api_error(error):
        if _wants_json():
            return _json(error.errors, error.status, error.headers)
        return _page(error.status, "; ".join(m for ms in error.errors.values() for m in ms), error.headers)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if _wants_json():
            return _json({"_request": [error.description or error.name]}, error.code, headers)
        return _page(error.code, error.description or error.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return _json({"_server": ["internal error; nothing was changed"]}, 500)
        return _page(500, "internal error")

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    @app.errorhandler(MaxConnectionsExceeded)
    @app.errorhandler(DatabaseBusy)
    def _database_unavailable(error):
        """A database that is down, unreachable or busy past the bounded
        wait is the service's state, not a bug: 503 with Retry-After."""
        reason = unavailable_reason(error)
        if reason is None:
            return _unexpected(error)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if _wants_json():
            return _json({"_database": [f"{reason}; nothing was changed, try again in a few seconds"]}, 503, headers)
        return _unavailable_page(headers)


# The answers below are encoded here, inside the handler, and never fail:
# a message may quote input that UTF-8 cannot encode (a lone surrogate in a
# field name), and an exception raised while Flask encodes a handler's
# answer is not handled again, so the client would get werkzeug's bare 500.

def _printable(value):
    """``value`` with any text UTF-8 cannot encode written as escapes."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(str(k)): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def _json(errors, status, headers=None):
    try:
        body = json.dumps({"errors": errors}, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        body = json.dumps({"errors": _printable(errors)}, ensure_ascii=False, default=str).encode("utf-8")
    response = current_app.response_class(body + b"\n", status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def _page(status, message, headers=None):
    message = _printable(message)
    try:
        body = render_template("error.html", status=status, message=message).encode("utf-8")
    except Exception:  # the error page must not fail in turn
        body = (f"<!doctype html><meta charset=utf-8><title>{status}</title><h1>{status}</h1>"
                f"<p>{escape(message)}</p><p><a href=\"/\">/</a></p>").encode("utf-8")
    return body, status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}


def _unavailable_page(headers):
    """A page that needs no database (the site's header asks it who is
    signed in), so that it can be shown when there is none."""
    try:
        body = render_template("unavailable.html").encode("utf-8")
    except Exception:  # noqa: BLE001 - this page must not fail in turn
        body = b"<!doctype html><meta charset=utf-8><title>503</title><h1>503</h1>"
    return body, 503, {"Content-Type": "text/html; charset=utf-8", **headers}
