"""Reading ratings and comments in the cabinets, and answering comments,
on a page (/cabinet/ratings) and as JSON (/api/v1/cabinet/objects/<id>/
ratings, /api/v1/cabinet/ratings/<id>/answer).

Whoever may read an object's ratings sees all of them, pending and
rejected comments too: the operator and moderators everywhere, a body in
its accepted registry, staff in their own organization. An organization's
list includes its subdivisions' ratings (what its staff answer).
"""
import datetime
from collections import defaultdict
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates
from peewee import SQL, fn

from service import catalog, comments, ranking
from service.cabinet import permissions as can
from service.cabinet.web import actor, api, form_errors, get_or_404, json_body, load, pages
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import BASE_CRITERIA, ExtraCriterion, RatableObject, Rating, RatingExtra, Service
from service.pages import period_choices, period_label
from service.questionnaire import CRITERIA, REASONS

PER_PAGE = 20
COMMENT_FILTERS = ("any", Rating.COMMENT_PENDING, Rating.COMMENT_APPROVED, Rating.COMMENT_REJECTED)
CHOICES_MAX = 300   # organizations in the page's select; beyond that, the search
FOUND_MAX = 20      # objects a search lists

class RatingsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="all", validate=validate.Length(max=8))
    comment = fields.String(load_default="any", validate=validate.OneOf(COMMENT_FILTERS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=100))

    @validates("period")
    def _period(self, value, **kwargs):
        try:
            ranking.Period.parse(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    @post_load
    def _parse(self, data, **kwargs):
        return {**data, "period": ranking.Period.parse(data["period"])}


class RatingsPageQuery(RatingsQuery):
    """The page's query: the filters, and which object (or a search)."""
    object = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**63 - 1))
    q = fields.String(load_default="", validate=validate.Length(max=200))


ratings_query = RatingsQuery()
ratings_page_query = RatingsPageQuery()


# -- the listing ---------------------------------------------------------------------

def months_of(period):
    """(first, last) month of a period as yyyymm; None for all time."""
    last = period.last_month
    if last is None:
        return None
    length = {"month": 1, "quarter": 3, "half": 6, "year": 12}[period.kind]
    return last - length + 1, last


def _created_window(first, last):
    """A range of ``created`` (UTC) sure to hold every rating of months
    first..last in any time zone: the month column decides exactly, the
    range lets the (object, created) index skip the other periods."""
    slack = datetime.timedelta(days=2)
    after_last = datetime.datetime(last // 100 + (last % 100 == 12), last % 100 % 12 + 1, 1)
    return datetime.datetime(first // 100, first % 100, 1) - slack, after_last + slack


def listed_objects(obj):
    """{id: name} of the object and, for an organization, its subdivisions."""
    names = {obj.id: obj.name}
    if obj.is_organization:
        names.update(RatableObject.select(RatableObject.id, RatableObject.name)
                     .where(RatableObject.organization == obj.id).tuples())
    return names


def listing_filter(ids, period, comment):
    R = Rating
    condition = R.object.in_(list(ids))
    months = months_of(period)
    if months:
        start, end = _created_window(*months)
        condition &= (R.created >= start) & (R.created < end) & R.month.between(*months)
    if comment != "any":
        condition &= R.comment_status == comment
    return condition


def listing(obj, period, comment, page, per_page):
    """(ratings on the page, total, {object id: name}), newest first."""
    names = listed_objects(obj)
    condition = listing_filter(names, period, comment)
    items = list(Rating.select().where(condition)
                 .order_by(Rating.created.desc(), Rating.id.desc()).paginate(page, per_page))
    total = Rating.select(fn.COUNT(SQL("*"))).where(condition).scalar()
    return items, total, names


def object_labels(ids):
    """{id: "Organization" or "Organization › Subdivision"}, two queries."""
    O = RatableObject
    rows = list(O.select(O.id, O.name, O.organization).where(O.id.in_(list(ids)))) if ids else []
    parents = {o.organization_id for o in rows if o.organization_id}
    parent_names = dict(O.select(O.id, O.name).where(O.id.in_(list(parents))).tuples()) if parents else {}
    return {o.id: f"{parent_names.get(o.organization_id, '')} › {o.name}" if o.organization_id else o.name
            for o in rows}


def extras_of(ratings):
    """{rating id: [(criterion, value)]} for a page of ratings, one query."""
    found = defaultdict(list)
    if ratings:
        rows = (RatingExtra.select(RatingExtra, ExtraCriterion).join(ExtraCriterion)
                .where(RatingExtra.rating.in_([r.id for r in ratings])).order_by(ExtraCriterion.id))
        for row in rows:
            found[row.rating_id].append((row.criterion, row.value))
    return found


def _moment(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def as_json(rating, extras=()):
    return {
        "id": rating.id, "object": rating.object_id, "service": rating.service_id,
        "scores": rating.scores, "extra": {c.code: v for c, v in extras}, "reasons": rating.reasons,
        "comment": rating.comment, "comment_status": rating.comment_status,
        "moderation_reason": rating.moderation_reason, "moderated": _moment(rating.moderated),
        "answer": rating.answer, "answered": _moment(rating.answered),
        "channel": rating.channel, "status": rating.status, "created": _moment(rating.created),
    }


def one_as_json(rating):
    return as_json(rating, extras_of([rating]).get(rating.id, ()))


# -- JSON --------------------------------------------------------------------------

@api.get("/objects/<int:object_id>/ratings")
def ratings_json(object_id):
    user = actor()
    obj = get_or_404(RatableObject, object_id, "object")
    can.require(user, can.READ_RATINGS, obj)
    args = load(ratings_query, request.args)
    items, total, _ = listing(obj, args["period"], args["comment"], args["page"], args["per_page"])
    extras = extras_of(items)
    return jsonify(items=[as_json(r, extras.get(r.id, ())) for r in items], total=total,
                   page=args["page"], per_page=args["per_page"], period=args["period"].key, comment=args["comment"])


@api.post("/ratings/<int:rating_id>/answer")
def answer_json(rating_id):
    user = actor()
    rating = get_or_404(Rating, rating_id, "rating")
    can.require(user, can.ANSWER_COMMENT, rating)
    return jsonify(one_as_json(comments.answer(user, rating, json_body())))


# -- the page ------------------------------------------------------------------------

def _choices(scope):
    """Options for the object select of a scoped user: the organizations in
    scope (at most CHOICES_MAX, by name), each followed by its subdivisions;
    and whether there were more."""
    if scope is None:
        return [], False
    O = RatableObject
    orgs = list(O.select(O.id, O.name).where(O.id.in_(scope) & (O.kind == O.ORGANIZATION))
                .order_by(O.sort_name, O.id).limit(CHOICES_MAX + 1))
    more, orgs = len(orgs) > CHOICES_MAX, orgs[:CHOICES_MAX]
    subs = defaultdict(list)
    if orgs:
        for sub in (O.select(O.id, O.name, O.organization)
                    .where(O.organization.in_([o.id for o in orgs]) & O.id.in_(scope)).order_by(O.sort_name)):
            subs[sub.organization_id].append(sub)
    options = []
    for org in orgs:
        options.append((org.id, org.name))
        options.extend((sub.id, f"{org.name} › {sub.name}") for sub in subs[org.id])
    return options, more


def _found(q, scope):
    if not q.strip():
        return []
    query = catalog.search(q)
    if scope is not None:
        query = query.where(RatableObject.id.in_(scope))
    return list(query.limit(FOUND_MAX))


def score_labels(lang):
    return {
        "criteria": {c: CRITERIA[c]["label"][lang] for c in BASE_CRITERIA},
        "reasons": {code: CRITERIA[criterion]["reasons"][code][lang] for code, criterion in REASONS.items()},
    }


def local_time(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def _today():
    return datetime.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _page_url(args, **changes):
    params = {"object": args.get("object"), "comment": args.get("comment"),
              "period": args["period"].key if args.get("period") else None, "page": args.get("page")}
    params.update(changes)
    defaults = {"comment": "any", "period": "all", "page": 1}
    params = {k: v for k, v in params.items() if v not in (None, "") and v != defaults.get(k)}
    return url_for("cabinet.ratings_page", lang=current_language(), **params)


def _render(user, args, errors=None, typed=None, status=200):
    """The ratings page; ``errors``/``typed`` are by rating id, for an
    answer form refused."""
    can.require(user, can.READ_RATINGS)
    lang = current_language()
    scope = can.readable_objects(user)
    if args["object"] is None and scope is not None and user.organization_id:
        args["object"] = user.organization_id
    obj = rows = None
    total = pages = 0
    if args["object"] is not None:
        obj = get_or_404(RatableObject, args["object"], "object")
        can.require(user, can.READ_RATINGS, obj)
        items, total, names = listing(obj, args["period"], args["comment"], args["page"], args["per_page"])
        extras = extras_of(items)
        services = {s.id: s.name(lang) for s in
                    Service.select().where(Service.id.in_({r.service_id for r in items if r.service_id}))}
        rows = [{"rating": r, "object_name": names.get(r.object_id, ""), "service": services.get(r.service_id),
                 "extras": [(c.label(lang), v, c.scale_max) for c, v in extras.get(r.id, ())],
                 "created": local_time(r.created), "answered": local_time(r.answered)} for r in items]
        pages = max(1, -(-total // args["per_page"]))
    choices, more = _choices(scope)
    return render_template(
        "cabinet/ratings.html", title=t("cabinet.nav.ratings"), user=user, args=args, obj=obj, rows=rows,
        total=total, pages=pages, choices=choices, more_choices=more, found=_found(args["q"], scope),
        searching=bool(args["q"].strip()), everywhere=scope is None,
        can_answer=obj is not None and can.allowed(user, can.ANSWER_COMMENT, obj),
        labels=score_labels(lang), period_groups=period_choices(_today()),
        period_name=lambda p: period_label(p, lang), comment_filters=COMMENT_FILTERS,
        listing_url=lambda **changes: _page_url(args, **changes),
        errors=errors or {}, typed=typed or {}, saved=request.args.get("saved") == "1",
        answer_max=comments.ANSWER_MAX), status


@pages.get("/ratings")
def ratings_page():
    return _render(actor(), load(ratings_page_query, request.args))


def _listing_args(form, rating):
    """Where the answer form came from (the listing to show again); an
    unreadable value falls back to the rating's own object."""
    try:
        args = ratings_page_query.load({k: form.get(k) for k in ("object", "comment", "period", "page")
                                        if form.get(k)})
    except ValidationError:
        args = ratings_page_query.load({})
    if args["object"] is None:
        args["object"] = rating.object_id
    return args


@pages.post("/ratings/<int:rating_id>/answer")
def answer_page(rating_id):
    user = actor()
    rating = get_or_404(Rating, rating_id, "rating")
    can.require(user, can.ANSWER_COMMENT, rating)
    args = _listing_args(request.form, rating)
    text = request.form.get("text", "")
    try:
        comments.answer(user, rating, {"text": text}, current_language())
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _render(user, args, errors={rating.id: form_errors(error)}, typed={rating.id: text},
                       status=error.status)
    return redirect(_page_url(args, saved="1") + f"#r-{rating.id}", code=303)
