"""``GET /api/v1/openapi.json``: the API described from the app itself.

Every route under ``/api/v1`` is taken from the URL map, so no endpoint can
be left out; its query and body are described by the very marshmallow
schemas that validate them (``OPERATIONS`` names which), through apispec's
marshmallow plugin. The suite fuzzes the API against this document
(tests/test_openapi.py), so a schema that drifts from its endpoint shows.
"""
import re
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify
from werkzeug.routing import AnyConverter, IntegerConverter

from service import comments, criteria, schemas
from service.cabinet import accounts as cabinet_accounts
from service.cabinet import audit_log, codes, moderation, notifications, organizations, ratings, registries, results
from service.inputs import MAX_ID
from service.organization_form import OrganizationSchema, ServicesSchema, SubdivisionSchema
from service.questionnaire import BASE_CRITERIA, SCALE_MAX, SCALE_MIN

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

PREFIX = "/api/v1"
JSON = "application/json"


def _ledger_web():
    from service import ledger_web
    return ledger_web


def _held():
    from service.cabinet import held
    return held


def _reports():
    from service.cabinet import reports
    return reports


def _accounts():
    from service import accounts
    return accounts


# endpoint → what it reads: "query" (a schema for the query string), "body"
# (a schema for the JSON body), or "body_type" for another media type. An
# endpoint not named here is still described, with its path parameters and
# answers, and no query or body.
OPERATIONS = {
    "api.list_objects": {"query": schemas.ListQuerySchema},
    "api.get_rankings": {"query": schemas.RankingQuerySchema},
    "api.post_rating": {"body": schemas.RatingSchema},
    "ledger.entries_json": {"query": lambda: _ledger_web().ledger_query},
    "cabinet_api.held_decision_json": {"body": lambda: _held().decision_schema},
    "cabinet_api.report_file": {"query": lambda: _reports().report_query},
    "cabinet_api.users_json": {"query": lambda: _accounts().user_query},
    "cabinet_api.user_invite_json": {"body": lambda: _accounts().InvitationSchema},
    "cabinet_api.account_token_create_json": {"body": lambda: _accounts().TokenSchema},
    "cabinet_api.audit_json": {"query": lambda: audit_log.audit_query},
    "cabinet_api.comment_queue_json": {"query": lambda: moderation.queue_query},
    "cabinet_api.criteria_json": {"query": lambda: moderation.queue_query},
    "cabinet_api.moderate_json": {"body": comments.DecisionSchema},
    "cabinet_api.answer_json": {"body": comments.AnswerSchema},
    "cabinet_api.propose_json": {"body": criteria.ProposalSchema},
    "cabinet_api.decide_json": {"body": comments.DecisionSchema},
    "cabinet_api.notifications_json": {"query": lambda: notifications.list_query},
    "cabinet_api.notification_send_json": {"body": lambda: notifications.new_schema},
    "cabinet_api.notification_transition_json": {"body": lambda: notifications.move_schema},
    "cabinet_api.organizations_json": {"query": lambda: organizations.list_query},
    # The reference lists these check against are the database's; a
    # description needs only their fields.
    "cabinet_api.org_register_json": {"body": lambda: OrganizationSchema(None)},
    "cabinet_api.org_edit_json": {"body": lambda: OrganizationSchema(None, partial=True)},
    "cabinet_api.org_add_subdivision_json": {"body": SubdivisionSchema},
    "cabinet_api.org_edit_subdivision_json": {"body": lambda: SubdivisionSchema(partial=True)},
    "cabinet_api.org_services_json": {"body": lambda: ServicesSchema(None)},
    "cabinet_api.org_import_json": {"body_type": "text/csv"},
    "cabinet_api.ratings_json": {"query": lambda: ratings.ratings_query},
    "cabinet_api.registries_json": {"query": lambda: registries.list_query},
    "cabinet_api.registry_json": {"query": lambda: registries.entries_query},
    "cabinet_api.registry_create_json": {"body": lambda: registries.new_registry},
    "cabinet_api.registry_entries_json": {"body": lambda: registries.Entries},
    "cabinet_api.registry_transition_json": {"body": lambda: registries.Move},
    "cabinet_api.results_json": {"query": lambda: results.results_query},
    "cabinet_api.object_figures_json": {"query": lambda: results.figures_query},
    "cabinet_api.code_issue_create_json": {"body": lambda: codes.IssueSchema},
}

# The answers every operation may give besides its success.
ERRORS = {
    "400": "a field is missing or invalid: `errors` names each",
    "404": "no such object or id",
    "413": "the body is too large",
    "429": "too many requests: wait as `Retry-After` says",
    "503": "the database is unavailable for the moment: wait as `Retry-After` says",
}
CABINET_ERRORS = {
    "401": "no valid personal token",
    "403": "the token's user may not do this here",
    "409": "the current state does not allow this move",
}


def _scores_property(converter, field, **kwargs):
    # The four base criteria are checked by hand in ScoresField; say the same.
    if isinstance(field, schemas.ScoresField):
        return {"type": "object", "additionalProperties": False, "required": list(BASE_CRITERIA),
                "properties": {c: {"type": "integer", "minimum": SCALE_MIN, "maximum": SCALE_MAX}
                               for c in BASE_CRITERIA}}
    return {}


def _schema_name(schema):
    """A component's name: the class without "Schema", after its cabinet
    area where two areas use one name (Move), and "Change" for the partial
    form of an edit."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema").lstrip("_")
    area = cls.__module__.rsplit(".", 1)[-1]
    if cls.__module__.startswith("service.cabinet."):
        singular = {"registries": "Registry"}.get(area, area.rstrip("s").title().replace("_", ""))
        name = name if singular in name else singular + name
    if not isinstance(schema, type) and schema.partial:
        name += "Change"
    return name


def _resolve(value):
    return value() if callable(value) and not isinstance(value, type) else value


def _schema_instance(value):
    value = _resolve(value)
    return value() if isinstance(value, type) else value


def _openapi_path(rule):
    """``/objects/<int:object_id>`` → ``/objects/{object_id}``, with the
    parameters' types."""
    parameters = []
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            schema = {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID}
        elif isinstance(converter, AnyConverter):
            schema = {"type": "string", "enum": sorted(converter.items)}
        else:
            schema = {"type": "string"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    return path, parameters


def _summary(view):
    doc = (view.__doc__ or "").strip()
    return doc.split("\n\n")[0].replace("\n", " ") if doc else None


def _operation(app, rule, method):
    path, parameters = _openapi_path(rule)
    described = OPERATIONS.get(rule.endpoint, {})
    cabinet = rule.rule.startswith(f"{PREFIX}/cabinet/")
    success = {"POST": "201" if rule.endpoint.endswith(("_create_json", "_register_json", "_invite_json",
                                                         "_send_json", "propose_json", "add_subdivision_json"))
               else "200", "DELETE": "204"}.get(method, "200")
    if rule.endpoint == "api.post_rating":
        success = "201"
    responses = {success: {"description": "done"}}
    if rule.endpoint == "api.post_rating":
        responses["200"] = {"description": "the same client_token again: the rating already stored"}
    for status, text in {**ERRORS, **(CABINET_ERRORS if cabinet else {})}.items():
        responses.setdefault(status, {"description": text, "content": {JSON: {"schema": "Error"}}})
    operation = {"operationId": f"{method.lower()}_{rule.endpoint.replace('.', '_')}",
                 "tags": ["cabinet" if cabinet else "public"],
                 "parameters": parameters, "responses": responses}
    summary = _summary(app.view_functions[rule.endpoint])
    if summary:
        operation["summary"] = summary
    if "query" in described:
        operation["parameters"].append({"in": "query", "schema": _schema_instance(described["query"])})
    if "body" in described:
        schema = _schema_instance(described["body"])
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": schema}}}
    elif "body_type" in described:
        operation["requestBody"] = {"required": True,
                                    "content": {described["body_type"]: {"schema": {"type": "string"}}}}
    if cabinet:
        operation["security"] = [{"token": []}]
    return path, operation


def build(app):
    """The OpenAPI 3 document of ``app``'s API, as a dict."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(title="Ocenka API", version="1", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "Ratings of the quality of public services: objects, questionnaires, "
                                        "ratings, rankings, and the cabinets for the people who act on them."},
                   servers=[{"url": app.config.get("BASE_URL") or "/"}])
    plugin.converter.add_attribute_function(_scores_property)
    spec.components.schema("Error", {"type": "object", "required": ["errors"], "properties": {
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer",
                                              "description": "a personal token made in the cabinet "
                                                             "or by `flask --app wsgi create-token`"})
    paths = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path, operation = _operation(app, rule, method)
            paths.setdefault(path, {})[method.lower()] = operation
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


@lru_cache(maxsize=8)
def _document(app):
    return build(app)


@bp.get("/openapi.json")
def openapi_json():
    """This document: every operation of the API, from the schemas that validate it."""
    return jsonify(_document(current_app._get_current_object()))
