"""The two faces of the cabinets and what their views share: the HTML
pages under /cabinet/ (browser sessions, CSRF on every form) and the JSON
API under /api/v1/cabinet/ (personal tokens, no cookies, so no CSRF).

Views stay thin: they load input with a marshmallow schema, ask
``permissions``, call the domain and write the audit log. They raise
``ApiError`` for bad input (400 with field errors), 404 and 409; the error
handlers answer JSON under /api and a page elsewhere, and a form view
catches the 400 to show the form again with its errors.
"""
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from service import csrf, i18n
from service.cabinet.sessions import current_user
from service.errors import ApiError

pages = Blueprint("cabinet", __name__, url_prefix="/cabinet")
api = Blueprint("cabinet_api", __name__, url_prefix="/api/v1/cabinet")

# Pages a person without an account reaches from a link they were sent
# (an invitation, a password reset).
_OPEN_TO_ANONYMOUS = set()


def open_to_anonymous(view):
    # The function itself, not its name: another view of the same name
    # elsewhere must not become open by accident.
    _OPEN_TO_ANONYMOUS.add(view)
    return view


@pages.before_request
def _require_session():
    if request.method == "POST" and not csrf.valid():
        abort(400, description=i18n.translate("auth.error.csrf"))
    if current_app.view_functions.get(request.endpoint) in _OPEN_TO_ANONYMOUS:
        return None
    if current_user() is None:
        if request.method == "GET":
            here = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", lang=i18n.current_language(), next=here))
        abort(401)
    return None


@api.before_request
def _require_token():
    if current_user() is None:
        raise ApiError({"_auth": ["a valid personal token is needed: Authorization: Bearer <token>"]},
                       status=401, headers={"WWW-Authenticate": 'Bearer realm="ocenka"'})


@pages.after_request
@api.after_request
def _private(response):
    # What a cabinet shows is for the one who asked; no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


def actor():
    """The signed-in user (the hooks above made sure there is one)."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def json_body():
    """The request's JSON object, or 400."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError({"_schema": ["the body must be a JSON object (Content-Type: application/json)"]})
    return payload


def load(schema, data, **kwargs):
    """``data`` loaded through ``schema``, or 400 naming every bad field."""
    try:
        return schema.load(data, **kwargs)
    except ValidationError as error:
        raise ApiError(error.messages) from None


def get_or_404(model, object_id, what=None):
    row = model.get_or_none(model.id == object_id) if object_id is not None and 0 < object_id < 2**63 else None
    if row is None:
        raise ApiError({what or model.__name__.lower(): ["not found"]}, status=404)
    return row


def conflict(message, field="state"):
    return ApiError({field: [message]}, status=409)


def render_form(template, errors=None, status=200, **context):
    """A cabinet page with a form; on a refusal, the same page again with
    the errors (status 400 or 409) and what was typed."""
    return render_template(template, errors=errors or {}, **context), status


def form_errors(error):
    """The field errors of an ``ApiError`` for a form, with the messages
    flattened to strings (nested schema errors become one line)."""
    flat = {}
    for field, messages in error.errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {m}" for k, ms in messages.items() for m in (ms if isinstance(ms, list) else [ms])]
        flat[field] = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
    return flat
