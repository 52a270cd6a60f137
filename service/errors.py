"""One exception for "the request is wrong", and the handlers that turn
every error into JSON under /api and into a readable page elsewhere. Views
raise; they never build error responses by hand."""
import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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
            return jsonify(errors=error.errors), error.status, error.headers
        return _page(error.status, "; ".join(m for ms in error.errors.values() for m in ms), error.headers)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        headers = {}
        if error.code == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        if _wants_json():
            return jsonify(errors={"_request": [error.description or error.name]}), error.code, headers
        return _page(error.code, error.description or error.name, headers)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(errors={"_server": ["internal error; nothing was changed"]}), 500
        return _page(500, "internal error")


def _page(status, message, headers=None):
    try:
        body = render_template("error.html", status=status, message=message)
    except Exception:  # the error page must not fail in turn
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    return body, status, headers or {}
