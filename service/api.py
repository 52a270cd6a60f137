"""The public JSON API under /api/v1: objects, their questionnaires,
rating submission, rankings and totals.

While ``OCENKA_PUBLIC_RESULTS`` is off, figures and rankings are hidden
from the public; a personal token (``Authorization: Bearer``) of a user who
may see results shows them within that user's scope, as the cabinet does."""
from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from service import catalog, codes, ranking, ratings
from service.cabinet import permissions, sessions
from service.embed import widget_words
from service.errors import ApiError
from service.limits import client_address
from service.models import RatableObject
from service.questionnaire import COMMENT_MAX, base_criteria, extra_criteria_for, extra_form, pick_language
from service.schemas import list_query_schema, ranking_query_schema

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _query(schema):
    try:
        return schema.load(request.args)
    except ValidationError as error:
        raise ApiError(error.messages) from None


def _period(text):
    try:
        return ranking.Period.parse(text)
    except ValueError as error:
        raise ApiError({"period": [str(error)]}) from None


def _lang(explicit=None):
    return pick_language(explicit, request.headers.get("Accept-Language"))


def _public_results():
    return current_app.config["PUBLIC_RESULTS"]


def _results_reader():
    """While results are not public, the user behind a personal token who
    may see results (SEE_RESULTS), or None. Without an Authorization
    header nobody is looked up, so anonymous reads cost no query; an
    invalid token counts as no token, so public use never breaks."""
    if "Authorization" not in request.headers:
        return None
    user = sessions.current_user()
    return user if permissions.scope_of(user, permissions.SEE_RESULTS) else None


def _private(response):
    # What a token may see is for its holder alone: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Authorization")
    return response


@bp.get("/objects")
def list_objects():
    args = _query(list_query_schema)
    lang = _lang(args["lang"])
    page, total = catalog.listing(args["q"], catalog.sphere_id(args["sphere"]), catalog.region_id(args["region"]),
                                  args["page"], args["per_page"])
    return jsonify(items=catalog.summaries(page, lang), total=total, page=args["page"], per_page=args["per_page"])


@bp.get("/objects/<int:object_id>")
def get_object(object_id):
    obj = catalog.published_object(object_id)
    lang = _lang(request.args.get("lang"))
    body = catalog.details(obj, lang)
    period = _period(request.args.get("period"))
    if _public_results():
        body["figures"] = ranking.object_figures(obj, period)
        return jsonify(body)
    reader = _results_reader()
    allowed = reader is not None and permissions.allowed(reader, permissions.SEE_RESULTS, obj)
    body["figures"] = ranking.object_figures(obj, period) if allowed else None
    return _private(jsonify(body)) if reader is not None else jsonify(body)


@bp.get("/objects/<int:object_id>/form")
def get_form(object_id):
    """The questionnaire in the asked language: criteria with their levels'
    meanings and reasons, extra criteria, subdivisions, services, and the
    widget's words for what it says once the questionnaire is there."""
    obj = catalog.published_object(object_id)
    lang = _lang(request.args.get("lang"))
    summary = catalog.summaries([obj], lang)[0]
    return jsonify(
        object=summary, lang=lang,
        criteria=base_criteria(lang),
        extra=extra_form(extra_criteria_for(obj), lang),
        subdivisions=catalog.subdivision_choices(obj),
        services=catalog.service_choices(obj, lang),
        comment_max=COMMENT_MAX,
        words=widget_words(lang),
    )


@bp.post("/ratings")
def post_rating():
    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError({"_schema": ["the body must be JSON (Content-Type: application/json)"]})
    config = current_app.config
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), config["TRUSTED_PROXIES"])
    taken = ratings.submit(payload, (address, request.headers.get("User-Agent", "")), config)
    body = {"id": taken.id, "receipt": taken.receipt}
    if taken.code is not None:
        # What the code did, said to the visitor in their language: a used
        # or forged code does not refuse the rating, it leaves it unverified.
        body["verified"] = taken.verified
        body["code"] = {"status": taken.code, "message": codes.message(taken.code, _lang(request.args.get("lang")),
                                                                       taken=True)}
    return jsonify(body), 201 if taken.created else 200


@bp.get("/rankings")
def get_rankings():
    reader = None
    if not _public_results():
        reader = _results_reader()
        if reader is None:
            raise ApiError({"_results": ["results are not public on this portal"]}, status=403)
    args = _query(ranking_query_schema)
    period = _period(args["period"])
    sphere, region = catalog.sphere_id(args["sphere"]), catalog.region_id(args["region"])
    table = ranking.rank_table(period, sphere, region)
    entries = table.entries
    scope = permissions.readable_objects(reader, permissions.SEE_RESULTS) if reader is not None else None
    if scope is not None:
        # A body or staff sees only the rows of its own scope, each keeping
        # its place in the whole group's ranking (rank, change, score are
        # the group's), so that a row means the same to everyone who sees it.
        ids = {object_id for object_id, in scope.tuples()}
        entries = [e for e in entries if e.id in ids]
    window = entries[args["offset"]:args["offset"] + args["limit"]]
    names = catalog.names([e.id for e in window])
    response = jsonify(
        period=period.key, sphere=args["sphere"], region=args["region"],
        group_mean=table.group_mean, prior_weight=ranking.PRIOR_WEIGHT,
        # The uncertainty (SPEC "Trust"): the group's σ, the rule's version,
        # and how many of the listed rows are ranked (the others have too
        # few ratings and come last, without a place).
        sigma=table.sigma, formula=ranking.FORMULA, min_ratings=table.min_ratings,
        ranked=sum(1 for e in entries if e.rank is not None) if scope is not None else table.ranked,
        total=len(entries), offset=args["offset"], limit=args["limit"],
        items=[ranking.ranking_row(e, names.get(e.id, "")) for e in window],
    )
    return _private(response) if reader is not None else response


@bp.get("/stats")
def get_stats():
    sums = ranking.totals()
    objects = RatableObject.select().where(RatableObject.published == True).count()
    satisfaction = (100.0 * sums.satisfied / sums.n) if sums.n and _public_results() else None
    return jsonify(objects=objects, ratings=sums.n, satisfaction=satisfaction)
