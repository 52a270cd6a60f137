"""The moderator's queues and the extra criteria, on pages and as JSON.

* Comments: the queue of pending comments, oldest first
  (/cabinet/moderation/comments, GET /api/v1/cabinet/moderation/comments),
  and the decision on one (POST /api/v1/cabinet/ratings/<id>/moderation).
* Extra criteria (/cabinet/moderation/criteria): the moderator sees the
  proposed ones, oldest first, and decides them
  (POST /api/v1/cabinet/criteria/<id>/decision); an organization's staff
  and a body see their proposals and propose new ones
  (POST /api/v1/cabinet/objects/<id>/criteria). GET /api/v1/cabinet/criteria
  lists whichever of the two the user has.

The domain (validation, change, audit) is ``service.comments`` and
``service.criteria``; these views ask ``permissions`` and lay out.
"""
import re

from flask import jsonify, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from service import comments, criteria
from service.cabinet import permissions as can
from service.cabinet.ratings import as_json as rating_json, extras_of, local_time, object_labels, score_labels
from service.cabinet.web import actor, api, form_errors, get_or_404, json_body, load, pages
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import LANGUAGES, ExtraCriterion, RatableObject, Rating

PER_PAGE = 20
ORGANIZATIONS_MAX = 300  # organizations in the proposal form's select


class QueueQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=100))


queue_query = QueueQuery()


def _paged(query, args):
    """(items of the page, total): the count reads the same index as the page."""
    return list(query.paginate(args["page"], args["per_page"])), query.order_by().count()


def _pages(total, per_page):
    return max(1, -(-total // per_page))


def _saved_redirect(endpoint, anchor=""):
    page = request.args.get("page")
    params = {"page": page} if page and page.isdigit() and page != "1" else {}
    return redirect(url_for(endpoint, lang=current_language(), saved="1", **params) + anchor, code=303)


# -- comments ------------------------------------------------------------------------

@api.post("/ratings/<int:rating_id>/moderation")
def moderate_json(rating_id):
    user = actor()
    rating = get_or_404(Rating, rating_id, "rating")
    can.require(user, can.MODERATE_COMMENT, rating)
    rating = comments.moderate(user, rating, json_body())
    extras = extras_of([rating])
    return jsonify(rating_json(rating, extras.get(rating.id, ())))


@api.get("/moderation/comments")
def comment_queue_json():
    user = actor()
    can.require(user, can.MODERATE_COMMENT)
    args = load(queue_query, request.args)
    items, total = _paged(comments.pending(), args)
    extras = extras_of(items)
    names = object_labels({r.object_id for r in items})
    return jsonify(items=[{**rating_json(r, extras.get(r.id, ())), "object_name": names.get(r.object_id, "")}
                          for r in items],
                   total=total, page=args["page"], per_page=args["per_page"])


def _render_comments(user, args, errors=None, typed=None, status=200):
    can.require(user, can.MODERATE_COMMENT)
    lang = current_language()
    items, total = _paged(comments.pending(), args)
    extras = extras_of(items)
    names = object_labels({r.object_id for r in items})
    rows = [{"rating": r, "object_name": names.get(r.object_id, ""), "service": None,
             "extras": [(c.label(lang), v, c.scale_max) for c, v in extras.get(r.id, ())],
             "created": local_time(r.created)} for r in items]
    return render_template("cabinet/moderation_comments.html", title=t("cabinet.nav.comments"), rows=rows,
                           total=total, args=args, pages=_pages(total, args["per_page"]),
                           labels=score_labels(lang),
                           errors=errors or {}, typed=typed or {}, saved=request.args.get("saved") == "1",
                           reason_max=comments.REASON_MAX), status


@pages.get("/moderation/comments")
def comment_queue_page():
    return _render_comments(actor(), load(queue_query, request.args))


@pages.post("/moderation/comments/<int:rating_id>")
def moderate_page(rating_id):
    user = actor()
    rating = get_or_404(Rating, rating_id, "rating")
    can.require(user, can.MODERATE_COMMENT, rating)
    payload = {"decision": request.form.get("decision", ""), "reason": request.form.get("reason", "")}
    try:
        comments.moderate(user, rating, payload, current_language())
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _render_comments(user, load(queue_query, request.args), errors={rating.id: form_errors(error)},
                                typed={rating.id: payload["reason"]}, status=error.status)
    return _saved_redirect("cabinet.comment_queue_page")


# -- extra criteria ------------------------------------------------------------------

@api.post("/objects/<int:object_id>/criteria")
def propose_json(object_id):
    user = actor()
    obj = get_or_404(RatableObject, object_id, "object")
    can.require(user, can.PROPOSE_CRITERION, obj)
    criterion = criteria.propose(user, obj, json_body())
    return jsonify(id=criterion.id, status=criterion.state, owner=criterion.owner_id, code=criterion.code), 201


@api.post("/criteria/<int:criterion_id>/decision")
def decide_json(criterion_id):
    user = actor()
    criterion = get_or_404(ExtraCriterion, criterion_id, "criterion")
    can.require(user, can.DECIDE_CRITERION, criterion)
    criteria.decide(user, criterion, json_body())
    return jsonify(criteria.as_json(criteria.with_proposer().where(ExtraCriterion.id == criterion.id).get()))


def _criteria_for(user):
    """The moderator's queue, or the proposals of the user's organization;
    403 for a role that neither decides nor proposes."""
    if can.allowed(user, can.DECIDE_CRITERION):
        return True, criteria.queue()
    can.require(user, can.PROPOSE_CRITERION)
    if user.organization_id is None:
        return False, criteria.queue().where(ExtraCriterion.id.is_null())
    return False, criteria.proposals_of(user.organization_id)


@api.get("/criteria")
def criteria_json():
    user = actor()
    deciding, query = _criteria_for(user)
    args = load(queue_query, request.args)
    items, total = _paged(query, args)
    return jsonify(items=[criteria.as_json(c) for c in items], total=total, page=args["page"],
                   per_page=args["per_page"], queue="proposed" if deciding else "own")


def _proposable(user):
    """Organizations the user may propose a criterion for, the user's own
    first: staff their organization, a body itself (which covers its whole
    registry) and the organizations of its registry."""
    scope = can.readable_objects(user, can.PROPOSE_CRITERION)
    O = RatableObject
    query = O.select(O.id, O.name).where(O.kind == O.ORGANIZATION)
    if scope is not None:
        query = query.where(O.id.in_(scope))
    own = O.id == (user.organization_id or 0)
    rows = list(query.order_by(own.desc(), O.sort_name, O.id).limit(ORGANIZATIONS_MAX + 1))
    return [(o.id, o.name) for o in rows[:ORGANIZATIONS_MAX]], len(rows) > ORGANIZATIONS_MAX


def _render_criteria(user, args, errors=None, typed=None, status=200, form=None, form_errors_=None):
    deciding, query = _criteria_for(user)
    items, total = _paged(query, args)
    owners = object_labels({c.owner_id for c in items})
    context = dict(title=t("cabinet.nav.criteria"), deciding=deciding, items=items, owners=owners, total=total,
                   args=args, pages=_pages(total, args["per_page"]), errors=errors or {}, typed=typed or {},
                   saved=request.args.get("saved") == "1", languages=LANGUAGES, reason_max=comments.REASON_MAX,
                   local=local_time)
    if not deciding:
        organizations, more = _proposable(user)
        default = {"object": str(user.organization_id or ""), "scale_min": "1", "scale_max": "5"}
        context.update(organizations=organizations, more_organizations=more, form=form or default,
                       form_errors=form_errors_ or {}, label_max=criteria.LABEL_MAX,
                       scale_low=criteria.SCALE_LOWEST, scale_high=criteria.SCALE_HIGHEST)
    return render_template("cabinet/criteria.html", **context), status


@pages.get("/moderation/criteria")
def criteria_page():
    return _render_criteria(actor(), load(queue_query, request.args))


_WHOLE = re.compile(r"^-?\d{1,6}$")


def _proposal_from_form(form):
    """The form's fields as the JSON API's proposal."""
    def number(name):
        text = (form.get(name) or "").strip()
        return int(text) if _WHOLE.match(text) else text
    return {"code": (form.get("code") or "").strip(),
            "labels": {lang: form.get(f"label_{lang}") or "" for lang in LANGUAGES},
            "scale_min": number("scale_min"), "scale_max": number("scale_max")}


def _form_field_errors(error):
    """An ApiError's fields as the form names them (labels.ru → label_ru)."""
    flat = {}
    for field, messages in error.errors.items():
        if field == "labels" and isinstance(messages, dict):
            for lang, texts in messages.items():
                flat[f"label_{lang}" if lang in LANGUAGES else "labels"] = [str(m) for m in texts]
        else:
            flat.update(form_errors(ApiError({field: messages})))
    return flat


@pages.post("/moderation/criteria")
def propose_page():
    user = actor()
    can.require(user, can.PROPOSE_CRITERION)
    lang = current_language()
    args = load(queue_query, request.args)
    form = {k: request.form.get(k, "") for k in ["object", "code", "scale_min", "scale_max"]
            + [f"label_{lang_}" for lang_ in LANGUAGES]}
    text = form["object"].strip()
    obj = RatableObject.get_or_none(RatableObject.id == int(text)) if text.isdigit() and 0 < int(text) < 2**63 else None
    try:
        if obj is None:
            raise ApiError({"object": [t("cabinet.criteria.error.object", lang)]})
        can.require(user, can.PROPOSE_CRITERION, obj)
        criteria.propose(user, obj, _proposal_from_form(request.form), lang)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _render_criteria(user, args, status=error.status, form=form,
                                form_errors_=_form_field_errors(error))
    return _saved_redirect("cabinet.criteria_page")


@pages.post("/moderation/criteria/<int:criterion_id>")
def decide_page(criterion_id):
    user = actor()
    criterion = get_or_404(ExtraCriterion, criterion_id, "criterion")
    can.require(user, can.DECIDE_CRITERION, criterion)
    payload = {"decision": request.form.get("decision", ""), "reason": request.form.get("reason", "")}
    try:
        criteria.decide(user, criterion, payload, current_language())
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _render_criteria(user, load(queue_query, request.args), errors={criterion.id: form_errors(error)},
                                typed={criterion.id: payload["reason"]}, status=error.status)
    return _saved_redirect("cabinet.criteria_page")
