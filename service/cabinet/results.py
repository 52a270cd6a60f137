"""Results in the cabinets: figures and rankings for those allowed to see
them (``SEE_RESULTS``), whether or not the portal shows them to the public
(``OCENKA_PUBLIC_RESULTS``), on pages and as JSON.

What a user's list holds follows the scope of ``SEE_RESULTS``:
* the operator and moderators (everywhere): the ranking of every ranked
  organization, as on the public /rankings;
* an authorized body (its registry): every organization its accepted
  registries reach (its ``RollupMember`` rows but itself), ranked or not,
  with the body's own rolled-up figures on top;
* staff (their own): their organization's figures on top, and its
  subdivisions.
The period, sphere and region choose the ranking group: the place, the
position change and the group mean the Bayesian score is taken against.
For the operator and a body they also narrow the list to that group's
organizations; staff's subdivisions are listed whatever the group.

Every figure comes from ``ranking`` and is read from the stored period sums
(one query for a whole list, however long); nothing rescans ratings.
"""
import csv
import io
from dataclasses import dataclass

from flask import Response, current_app, jsonify, render_template, request
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates
from peewee import JOIN

from service import catalog, charts, ranking
from service.cabinet import permissions as can
from service.cabinet.web import actor, api, get_or_404, load, pages
from service.db import database
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import (
    BASE_CRITERIA, ObjectAggregate, ObjectSphere, RatableObject, Region, RollupAggregate, RollupMember, Sphere,
)
# The public pages' own helpers, so that a cabinet shows exactly what the
# public object page and ranking would.
from service.pages import (
    CSV_COLUMNS, RANKING_PER_PAGE, _all_names, _ranks, _today, _trend_description, last_complete_month,
    period_choices, period_label, period_sums, spreadsheet_safe, trend, trend_months, uncertainty_cells,
)
from service.questionnaire import CRITERIA

SORTS = ("score", "n", "satisfaction", "name")
PER_PAGE_MAX = 100


# -- the query ---------------------------------------------------------------------

def _parsed_period(value):
    try:
        return ranking.Period.parse(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class FiguresQuery(Schema):
    """One object's figures: the period, all time unless given (as on the
    public object page and GET /api/v1/objects/<id>)."""
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="", validate=validate.Length(max=8))

    @validates("period")
    def _period(self, value, **kwargs):
        if value:
            _parsed_period(value)

    @post_load
    def _parse(self, data, **kwargs):
        return {**data, "period": _parsed_period(data["period"] or "all")}


class ResultsQuery(Schema):
    """The list's query. Without a period, the last complete month, as the
    public ranking page shows first."""
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="", validate=validate.Length(max=8))
    sphere = fields.String(load_default="", validate=validate.Length(max=32))
    region = fields.String(load_default="", validate=validate.Length(max=32))
    sort = fields.String(load_default="score", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=RANKING_PER_PAGE, validate=validate.Range(min=1, max=PER_PAGE_MAX))

    @validates("period")
    def _period(self, value, **kwargs):
        if value:
            _parsed_period(value)

    @post_load
    def _parse(self, data, **kwargs):
        period = _parsed_period(data["period"]) if data["period"] else last_complete_month(_today())
        return {**data, "period": period}


figures_query = FiguresQuery()
results_query = ResultsQuery()


# -- the list ----------------------------------------------------------------------

@dataclass
class Results:
    """A user's results for one period and group: ``rows`` are
    ``RankEntry`` tuples (``rank`` None for an unranked object), sorted;
    ``names`` and ``kinds`` are filled for every row but the operator's,
    whose names are read for the shown page only."""
    scope: str
    period: ranking.Period
    table: ranking.RankTable
    own: RatableObject | None
    own_figures: dict | None
    rows: list
    names: dict
    kinds: dict

    def name(self, object_id):
        return self.names.get(object_id, "")

    def row(self, entry, verified=None):
        """One row as JSON gives it: the public ranking row's fields, the
        object's kind and every criterion; means are null while ``n`` is 0.
        ``verified`` counts the verified ratings by id (the ranking's rows
        do not carry them)."""
        sums = entry.sums
        sums.verified = (verified or {}).get(entry.id, 0)
        figures = ranking.table_figures(self.table, sums, entry)
        del figures["period"]
        if verified is None:
            figures["verified_share"] = None
        return {"id": entry.id, "name": self.name(entry.id),
                "kind": self.kinds.get(entry.id, RatableObject.ORGANIZATION), **figures}

    def verified(self, entries):
        """{id: verified ratings in the period} of the rows shown: one
        indexed read per kind of row."""
        orgs = [e.id for e in entries if e.n and self.kinds.get(e.id, RatableObject.ORGANIZATION)
                == RatableObject.ORGANIZATION]
        subs = [e.id for e in entries if e.n and self.kinds.get(e.id) == RatableObject.SUBDIVISION]
        found = {}
        for model, key, ids in ((RollupAggregate, RollupAggregate.organization, orgs),
                                (ObjectAggregate, ObjectAggregate.object, subs)):
            for start in range(0, len(ids), 500):
                found.update(model.select(key, model.verified)
                             .where(key.in_(ids[start:start + 500]) & (model.period == self.period.key)).tuples())
        return found

    def window(self, page, per_page):
        shown = self.rows[(page - 1) * per_page:page * per_page]
        missing = [e.id for e in shown if e.id not in self.names]
        if missing:
            self.names.update(catalog.names(missing))
        verified = self.verified(shown)
        return [self.row(e, verified) for e in shown]

    def all_rows(self):
        if len(self.names) < len(self.rows):
            self.names.update(_all_names(self.rows))
        # The CSV has the public ranking's columns: no verified share.
        return [self.row(e) for e in self.rows]


_SUMS = ("n", *BASE_CRITERIA, "satisfied")


def _listed(query, table):
    """(entries, names, kinds) of (id, name, kind, Σ…) rows: the group's
    own ``RankEntry`` for an object the group lists (its place, range,
    interval and change, exactly as the public ranking has them), and for
    any other one scored against the group's mean and σ, with no place.
    Plain tuples straight from the driver and no model objects, since a
    body's list may be thousands long."""
    entries, names, kinds = [], {}, {}
    listed = table.by_id
    for object_id, name, kind, n, s, i, t, p, satisfied in database.execute_sql(*query.sql()).fetchall():
        names[object_id] = name
        kinds[object_id] = kind
        entry = listed.get(object_id)
        if entry is not None:
            entries.append(entry)
        elif not n:
            entries.append(ranking.RankEntry(object_id, None, None, None, 0, 0, 0, 0, 0, 0))
        else:
            sums = ranking.Sums(n, s, i, t, p, satisfied)
            score = ranking.ranking_score(sums, table.group_mean)
            low, high = ranking.score_interval(score, n, table.sigma) or (None, None)
            entries.append(ranking.RankEntry(object_id, None, None, score, n, s, i, t, p, satisfied, low, high))
    return entries, names, kinds


def _with_sums(model, key, period):
    O = RatableObject
    return (O.select(O.id, O.name, O.kind, *(getattr(model, f) for f in _SUMS))
             .join(model, JOIN.LEFT_OUTER, on=((key == O.id) & (model.period == period.key))))


def _in_group(query, sphere_id, region_id):
    O = RatableObject
    if region_id is not None:
        query = query.where(O.region == region_id)
    if sphere_id is not None:
        query = query.where(O.id.in_(ObjectSphere.select(ObjectSphere.object).where(ObjectSphere.sphere == sphere_id)))
    return query


def registry_rows(body_id, period, table, sphere_id=None, region_id=None):
    """Every organization a body's accepted registries reach, with its
    rolled-up sums for the period: one query, joined on roll-up membership."""
    O, A = RatableObject, RollupAggregate
    query = (_with_sums(A, A.organization, period)
             .join(RollupMember, on=(RollupMember.object == O.id), src=O)
             .where((RollupMember.organization == body_id) & (O.kind == O.ORGANIZATION) & (O.id != body_id)))
    return _listed(_in_group(query, sphere_id, region_id), table)


def subdivision_rows(organization_id, period, table):
    """An organization's subdivisions with their own sums for the period."""
    O, A = RatableObject, ObjectAggregate
    return _listed(_with_sums(A, A.object, period).where(O.organization == organization_id), table)


def _sort(rows, sort, names):
    # Ties fall back to the ranking's own order (more ratings, lower id),
    # so that a page is reproducible; objects without ratings come last.
    def by_score(e):
        return (e.score is None, -(e.score or 0.0), -e.n, e.id)

    keys = {
        "score": by_score,
        "n": lambda e: (-e.n, by_score(e)),
        "satisfaction": lambda e: (e.n == 0, -(e.satisfied / e.n if e.n else 0.0), by_score(e)),
        "name": lambda e: (names.get(e.id, "").casefold(), e.id),
    }
    return sorted(rows, key=keys[sort])


def own_figures(obj, period, table):
    """An organization's rolled-up figures with its place in the group
    (``ranking.object_figures`` for a group other than all organizations)."""
    return ranking.table_figures(table, ranking.object_sums(obj, period), table.by_id.get(obj.id))


def results(user, period, sphere_id=None, region_id=None, sort="score"):
    """The results ``user`` may see for a period and group, sorted."""
    can.require(user, can.SEE_RESULTS)
    scope = can.scope_of(user, can.SEE_RESULTS)
    table = ranking.rank_table(period, sphere_id, region_id)
    own = None
    if scope == can.ANY:
        rows, names, kinds = table.entries, {}, {}
        if sort == "name":
            names = _all_names(rows)
        if sort != "score":  # the table is already in score order
            rows = _sort(rows, sort, names)
        return Results(scope, period, table, None, None, rows, names, kinds)
    if user.organization_id is not None:
        own = RatableObject.get_or_none(RatableObject.id == user.organization_id)
    if own is None:
        return Results(scope, period, table, None, None, [], {}, {})
    figures = own_figures(own, period, table)
    if scope == can.REGISTRY:
        rows, names, kinds = registry_rows(own.id, period, table, sphere_id, region_id)
    else:
        rows, names, kinds = subdivision_rows(own.id, period, table)
    return Results(scope, period, table, own, figures, _sort(rows, sort, names), names, kinds)


def _group(args):
    return catalog.sphere_id(args["sphere"]), catalog.region_id(args["region"])


def _pages(total, per_page):
    return max(1, -(-total // per_page))


# -- one object ----------------------------------------------------------------------

def _object_in_scope(object_id):
    user = actor()
    obj = get_or_404(RatableObject, object_id, "object")
    can.require(user, can.SEE_RESULTS, obj)
    return obj


def _place(obj):
    """(organization, its spheres, the object's region) for the groups it
    is ranked in."""
    org = obj if obj.is_organization else obj.organization
    spheres = list(Sphere.select().join(ObjectSphere).where(ObjectSphere.object == org.id).order_by(Sphere.code))
    region_id = obj.region_id or org.region_id
    region = Region.get_or_none(Region.id == region_id) if region_id else None
    return org, spheres, region


def object_report(obj, period):
    """One object's figures as JSON: the figures for the period (with the
    place among all organizations, as GET /api/v1/objects/<id> gives them),
    its places in its sphere and region too, and the 24-month trend."""
    org, spheres, region = _place(obj)
    months = trend_months(_today())
    sums = period_sums(obj, months)
    places = []
    if obj.is_organization and obj.is_evaluation_object:
        for row in _ranks(obj, [period], spheres[0] if spheres else None, region):
            cell = row["cells"][0]
            entry = cell["entry"] or ranking.RankEntry(obj.id, None, None, None, 0, 0, 0, 0, 0, 0)
            places.append({"group": row["group"],
                           "sphere": spheres[0].code if row["group"] == "sphere" else None,
                           "region": region.code if row["group"] == "region" else None,
                           "rank": entry.rank, "rank_range": entry.rank_range, "rank_change": entry.rank_change,
                           "rank_change_significant": entry.significant, "size": cell["size"]})
    return {
        "id": obj.id, "name": obj.name, "kind": obj.kind,
        "organization": None if obj.is_organization else {"id": org.id, "name": org.name},
        "published": obj.published,
        "figures": ranking.object_figures(obj, period),
        "ranks": places,
        "trend": [{"month": key, "n": n, "overall": mean} for key, mean, n in trend(sums, months)],
    }


# -- JSON --------------------------------------------------------------------------

@api.get("/results")
def results_json():
    user = actor()
    can.require(user, can.SEE_RESULTS)
    args = load(results_query, request.args)
    found = results(user, args["period"], *_group(args), sort=args["sort"])
    own = None
    if found.own is not None:
        own = {"id": found.own.id, "name": found.own.name, "kind": found.own.kind, "figures": found.own_figures}
    return jsonify(
        scope=found.scope, period=args["period"].key, sphere=args["sphere"] or None, region=args["region"] or None,
        sort=args["sort"], group_mean=found.table.group_mean, prior_weight=ranking.PRIOR_WEIGHT, own=own,
        items=found.window(args["page"], args["per_page"]), total=len(found.rows),
        page=args["page"], per_page=args["per_page"])


@api.get("/objects/<int:object_id>/figures")
def object_figures_json(object_id):
    obj = _object_in_scope(object_id)
    args = load(figures_query, request.args)
    return jsonify(object_report(obj, args["period"]))


# -- pages -------------------------------------------------------------------------

def _groups(lang):
    spheres = sorted(((s.code, s.name(lang), s.id) for s in Sphere.select()), key=lambda s: s[1].casefold())
    regions = [(r.code, r.name(lang), r.id) for r in Region.select().order_by(Region.id)]
    return spheres, regions


def _group_caption(spheres, regions, sphere_code, region_code):
    sphere = next((name for code, name, _ in spheres if code == sphere_code), None)
    region = next((name for code, name, _ in regions if code == region_code), None)
    if sphere and region:
        return t("cabinet.results.group.both", sphere=sphere, region=region)
    if sphere:
        return t("cabinet.results.group.sphere", name=sphere)
    if region:
        return t("cabinet.results.group.region", name=region)
    return t("cabinet.results.group.all")


@pages.get("/results")
def results_page():
    user = actor()
    can.require(user, can.SEE_RESULTS)
    lang = current_language()
    args = load(results_query, request.args)
    period = args["period"]
    found = results(user, period, *_group(args), sort=args["sort"])
    pages_count = _pages(len(found.rows), args["per_page"])
    if args["page"] > pages_count:
        raise ApiError({"page": [f"there are {pages_count} pages"]}, status=404)
    spheres, regions = _groups(lang)
    choices = period_choices(_today())
    params = {"period": period.key, "sphere": args["sphere"], "region": args["region"], "sort": args["sort"],
              "per_page": args["per_page"] if args["per_page"] != RANKING_PER_PAGE else None}
    return render_template(
        "cabinet/results.html", title=t("cabinet.results.title"), found=found,
        rows=found.window(args["page"], args["per_page"]), total=len(found.rows), args=args, params=params,
        page=args["page"], pages=pages_count, period=period, period_name=period_label(period, lang),
        period_label=lambda p: period_label(p, lang), choices=choices,
        period_listed=any(p == period for _, ps in choices for p in ps),
        spheres=spheres, regions=regions, sorts=SORTS, prior_weight=ranking.PRIOR_WEIGHT, formula=ranking.FORMULA,
        group_caption=_group_caption(spheres, regions, args["sphere"], args["region"]),
        public=current_app.config["PUBLIC_RESULTS"])


@pages.get("/results.csv")
def results_csv():
    """The whole list of the page, every row, as a spreadsheet reads it."""
    user = actor()
    can.require(user, can.SEE_RESULTS)
    args = load(results_query, request.args)
    found = results(user, args["period"], *_group(args), sort=args["sort"])
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheets read the Cyrillic names as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # Only the name is text; every other cell is a number written here.
    writer.writerows(
        (row["rank"], row["rank_change"], row["id"], spreadsheet_safe(row["name"]), row["n"],
         _rounded(row["score"], 4), _rounded(row["overall"], 4), _rounded(row["satisfaction"], 2),
         *(_rounded(row["criteria"][c], 4) for c in BASE_CRITERIA), *uncertainty_cells(row))
        for row in found.all_rows())
    name = "-".join(["ocenka-results", args["period"].key, *(c for c in (args["sphere"], args["region"]) if c)])
    # Codes are slugs, but they come from the query: keep the header plain.
    name = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_")) + ".csv"
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _rounded(value, digits):
    return None if value is None else round(value, digits)


@pages.get("/results/<int:object_id>")
def object_results_page(object_id):
    obj = _object_in_scope(object_id)
    lang = current_language()
    period = load(figures_query, request.args)["period"]
    org, spheres, region = _place(obj)
    today = _today()
    months = trend_months(today)
    everything, month = ranking.Period("all"), last_complete_month(today)
    figures = ranking.object_figures(obj, period)
    ranks = None
    if obj.is_organization and obj.is_evaluation_object:
        ranks = _ranks(obj, list(dict.fromkeys([period, everything, month])), spheres[0] if spheres else None, region)
    points = trend(period_sums(obj, months), months)
    chart = Markup(charts.trend_svg(
        [(f"{key[5:]}.{key[2:4]}", mean, n) for key, mean, n in points], id_prefix="chart",
        title=t("object.trend.title", lang, name=obj.name), description=_trend_description(points, lang),
        mean_label=t("object.trend.mean", lang), count_label=t("object.trend.count", lang)))
    subdivisions = []
    if obj.is_organization:
        entries, names, _ = subdivision_rows(obj.id, period, ranking.rank_table(period))
        subdivisions = [(e.id, names[e.id], ranking.figures(e.sums, period))
                        for e in sorted(entries, key=lambda e: (names[e.id].casefold(), e.id))]
    choices = period_choices(today)
    return render_template(
        "cabinet/results_object.html", title=obj.name, obj=obj, org=org, spheres=spheres, region=region,
        period=period, period_name=period_label(period, lang), period_label=lambda p: period_label(p, lang),
        choices=choices, period_listed=any(p == period for _, ps in choices for p in ps),
        figures=figures, ranks=ranks, chart=chart, subdivisions=subdivisions,
        trend_rows=[(period_label(ranking.Period(key), lang), mean, n) for key, mean, n in points],
        criteria=[(c, CRITERIA[c]["label"][lang]) for c in BASE_CRITERIA],
        ranking_per_page=RANKING_PER_PAGE, can_read_ratings=can.allowed(actor(), can.READ_RATINGS, obj),
        public=current_app.config["PUBLIC_RESULTS"])
