"""The public portal: the home page, the catalogue, an object's page and
the ranking, server-rendered, with the ranking also as CSV open data.

Every figure comes from ``ranking`` (the one place the rating rules live);
pages only pick, round and lay them out. ``OCENKA_PUBLIC_RESULTS=off`` hides
every figure and rank; ``OCENKA_COMMENTS`` decides which comments show.
"""
import csv
import datetime
import io
import threading
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from service import catalog, charts, ranking
from service.cabinet import permissions, sessions
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import (
    BASE_CRITERIA, LANGUAGES, ObjectAggregate, ObjectSphere, RatableObject, Rating, Region, RollupAggregate, Sphere,
)
from service.questionnaire import CRITERIA

bp = Blueprint("pages", __name__)

PER_PAGE = 20
RANKING_PER_PAGE = 50
TREND_MONTHS = 24
COMMENTS_SHOWN = 10
TOP_SHOWN = 5

# Which comment statuses each OCENKA_COMMENTS mode makes public.
PUBLIC_COMMENTS = {
    "moderated": (Rating.COMMENT_APPROVED,),
    "open": (Rating.COMMENT_PENDING, Rating.COMMENT_APPROVED),
    "private": (),
}

# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- helpers shared by the templates ----------------------------------------------

@bp.app_template_global()
def lang_url(code):
    """This page in another language: the same path and query, ``lang`` replaced."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", code))
    # Leading slashes and backslashes collapse to one: "//host" or "/\\host"
    # in a link would lead a browser to another site.
    path = "/" + request.path.lstrip("/\\")
    return f"{path}?{urlencode(args)}"


@bp.app_template_global()
def page_url(endpoint, **params):
    """A link inside the portal that keeps the current language; empty
    parameters are left out so that URLs stay short and shareable."""
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return url_for(endpoint, lang=current_language(), **params)


@bp.app_template_global()
def fmt_num(value, digits=0):
    """A number as the page's language writes it: a decimal comma and a
    narrow space between thousands, except in English."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if current_language() == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


@bp.after_app_request
def _remember_language(response):
    # A language picked with ?lang= sticks for the next visit, on the
    # portal's pages and on the rating page alike.
    chosen = request.args.get("lang")
    if (chosen in LANGUAGES and response.mimetype == "text/html"
            and request.cookies.get("lang") != chosen):
        response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _public_results():
    return current_app.config["PUBLIC_RESULTS"]


def _results_hidden():
    return render_template("hidden.html"), 403


def _today():
    return datetime.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _month_key(year, month):
    return f"{year}-{month:02d}"


def _shift_month(year, month, delta):
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def last_complete_month(today):
    return ranking.Period(_month_key(*_shift_month(today.year, today.month, -1)))


def period_label(period, lang=None):
    kind = period.kind
    if kind == "all":
        return t("period.all", lang)
    year = period.key[:4]
    if kind == "year":
        return t("period.year", lang, year=year)
    if kind == "month":
        label = t("period.month", lang, month=t(f"month.{int(period.key[5:])}", lang), year=year)
        return label[:1].upper() + label[1:]
    n = int(period.key[6])
    return t(f"period.{kind}", lang, n=n, roman=("I", "II", "III", "IV")[n - 1], year=year)


def period_choices(today):
    """Groups of periods for a selector, newest first: months of the last two
    years, quarters, half-years, years, and all time."""
    y, m = today.year, today.month
    months = [ranking.Period(_month_key(*_shift_month(y, m, -i))) for i in range(TREND_MONTHS)]
    quarter = (m - 1) // 3
    quarters = []
    for i in range(8):
        qy, qi = divmod(y * 4 + quarter - i, 4)
        quarters.append(ranking.Period(f"{qy}-Q{qi + 1}"))
    half = (m - 1) // 6
    halves = []
    for i in range(4):
        hy, hi = divmod(y * 2 + half - i, 2)
        halves.append(ranking.Period(f"{hy}-H{hi + 1}"))
    years = [ranking.Period(str(y - i)) for i in range(3)]
    return [("period.group.month", months), ("period.group.quarter", quarters),
            ("period.group.half", halves), ("period.group.year", years), ("period.group.all", [ranking.Period("all")])]


def _parse_period(text, default):
    if not text:
        return default
    try:
        return ranking.Period.parse(text)
    except ValueError as error:
        raise ApiError({"period": [str(error)]}) from None


def _positive_int(text, default=1, name="page"):
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100_000:
        raise ApiError({name: ["must be a whole number from 1 to 100000"]})
    return value


def _groups(lang):
    spheres = [(s.code, s.name(lang), s.id) for s in Sphere.select().order_by(Sphere.id)]
    regions = [(r.code, r.name(lang), r.id) for r in Region.select().order_by(Region.id)]
    spheres.sort(key=lambda s: s[1].casefold())
    return spheres, regions


def _local(moment):
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return moment.replace(tzinfo=datetime.timezone.utc).astimezone(zone)


def _aggregate_rows(objects, period_keys):
    """{(object id, period key): Sums} from the stored sums, an organization's
    rolled up: at most two indexed queries however many objects."""
    org_ids = [o.id for o in objects if o.is_organization]
    sub_ids = [o.id for o in objects if not o.is_organization]
    found = {}
    for model, key, ids in ((RollupAggregate, RollupAggregate.organization, org_ids),
                            (ObjectAggregate, ObjectAggregate.object, sub_ids)):
        if not ids:
            continue
        query = (model.select(key, model.period, *(getattr(model, f) for f in ranking._SUM_FIELDS))
                 .where(key.in_(ids) & model.period.in_(list(period_keys))))
        for object_id, period, *values in query.tuples():
            found[(object_id, period)] = ranking._sums(values)
    return {(o.id, k): found.get((o.id, k)) or ranking.Sums() for o in objects for k in period_keys}


def _sums_by_object(objects):
    """{object id: all-time Sums} for a page of objects."""
    return {object_id: sums for (object_id, _), sums in _aggregate_rows(objects, ["all"]).items()}


def _percent(sums):
    return 100.0 * sums.satisfied / sums.n if sums and sums.n else None


# -- home ----------------------------------------------------------------------

_home_cache = {}
_home_lock = threading.Lock()


def _data_stamp():
    """Changes whenever a rating arrives or changes status (the ledger's
    head, in commit order) or the structure changes (publication
    included): ``ranking.data_stamp``."""
    return ranking.data_stamp()


def _home_figures(month):
    """Totals and the last month's leaders, recomputed only when a rating
    arrives or the structure changes, so they are never stale."""
    key = (_data_stamp(), month.key, ranking.min_ratings())
    with _home_lock:
        cached = _home_cache.get("figures")
    if cached and cached[0] == key:
        return cached[1]
    sums = ranking.totals()
    organizations = (RatableObject.select().where((RatableObject.kind == RatableObject.ORGANIZATION)
                                                  & (RatableObject.published == True)).count())
    table = ranking.rank_table(month)
    figures = {
        "organizations": organizations,
        "ratings": sums.n,
        "satisfaction": _percent(sums),
        "ranked": table.ranked,
        "best": table.entries[:min(TOP_SHOWN, table.ranked)],
        # Only a rise the data supports: the previous place lies outside
        # this month's range of places (SPEC "Trust") and this place
        # outside last month's, not noise among small counts
        # (RankTable.clear_change).
        "improved": table.most_improved(TOP_SHOWN),
    }
    with _home_lock:
        _home_cache["figures"] = (key, figures)
    return figures


def clear_cache():
    with _home_lock:
        _home_cache.clear()


@bp.get("/")
def home():
    lang = current_language()
    month = last_complete_month(_today())
    figures = _home_figures(month)
    spheres, _ = _groups(lang)
    public = _public_results()
    names = catalog.names([e.id for e in figures["best"] + figures["improved"]]) if public else {}
    return render_template(
        "home.html", figures=figures, public=public, names=names, month=month,
        month_label=period_label(month, lang),
        spheres=[(code, name) for code, name, _ in spheres])


# -- catalogue -----------------------------------------------------------------

@bp.get("/objects")
def objects():
    lang = current_language()
    q = (request.args.get("q") or "").strip()[:200]
    sphere_code = request.args.get("sphere") or ""
    region_code = request.args.get("region") or ""
    page = _positive_int(request.args.get("page"))
    items, total = catalog.listing(q, catalog.sphere_id(sphere_code), catalog.region_id(region_code), page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        raise ApiError({"page": [f"there are {pages} pages"]}, status=404)
    summaries = catalog.summaries(items, lang)
    sums = _sums_by_object(items) if _public_results() else {}
    spheres, regions = _groups(lang)
    sphere_names = {code: name for code, name, _ in spheres}
    region_names = {code: name for code, name, _ in regions}
    rows = []
    for obj, summary in zip(items, summaries):
        s = sums.get(obj.id)
        rows.append({
            **summary,
            "sphere_names": [sphere_names.get(c, c) for c in summary["spheres"]],
            "region_name": region_names.get(summary["region"]),
            "n": s.n if s else 0,
            "overall": (s.overall_sum / s.n) if s and s.n else None,
            "satisfaction": _percent(s),
        })
    return render_template(
        "objects.html", rows=rows, q=q, sphere=sphere_code, region=region_code, page=page, pages=pages,
        total=total, spheres=spheres, regions=regions, public=_public_results())


# -- one object ----------------------------------------------------------------

def comment_statuses():
    return PUBLIC_COMMENTS[current_app.config["COMMENTS"]]


def latest_comments(obj, limit=COMMENTS_SHOWN):
    """The newest public comments on the object; for an organization also on
    its subdivisions (what its staff answer), not on its registry's members."""
    statuses = comment_statuses()
    if not statuses:
        return []
    if obj.is_organization:
        own = [obj.id] + [s.id for s in RatableObject.select(RatableObject.id)
                          .where(RatableObject.organization == obj.id)]
    else:
        own = [obj.id]
    R = Rating
    query = (R.select(R.id, R.object, R.comment, R.created, R.answer, R.answered,
                      R.simplicity, R.information, R.timeliness, R.politeness)
              .where(R.object.in_(own) & R.comment_status.in_(list(statuses)) & R.comment.is_null(False))
              .order_by(R.created.desc(), R.id.desc()).limit(limit))
    return list(query)


def period_sums(obj, period_keys):
    """{period key: Sums} of one object, rolled up for an organization."""
    return {key: sums for (_, key), sums in _aggregate_rows([obj], period_keys).items()}


def trend_months(today):
    return [_month_key(*_shift_month(today.year, today.month, -i)) for i in range(TREND_MONTHS - 1, -1, -1)]


def trend(sums_by_period, months):
    """[(month key, mean overall or None, n)] oldest first."""
    return [(key, s.overall_sum / s.n if s.n else None, s.n) for key, s in ((k, sums_by_period[k]) for k in months)]


def _ranks(obj, periods, sphere, region):
    """The organization's place among all organizations, in its first
    sphere and in its region, for each period: rank, change and group size."""
    groups = [("all", None, None)]
    if sphere is not None:
        groups.append(("sphere", sphere.id, None))
    if region is not None:
        groups.append(("region", None, region.id))
    rows = []
    for group, sphere_id, region_id in groups:
        cells = []
        for period in periods:
            table = ranking.rank_table(period, sphere_id, region_id)
            entry = table.by_id.get(obj.id)
            cells.append({"period": period, "entry": entry, "size": table.ranked, "min_ratings": table.min_ratings})
        rows.append({"group": group, "cells": cells})
    return rows


@bp.get("/objects/<int:object_id>")
def object_page(object_id):
    lang = current_language()
    obj = catalog.published_object(object_id)
    info = catalog.details(obj, lang)
    org = obj if obj.is_organization else obj.organization
    spheres = list(Sphere.select().join(ObjectSphere).where(ObjectSphere.object == org.id).order_by(Sphere.code))
    region_id = obj.region_id or org.region_id
    region = Region.get_or_none(Region.id == region_id) if region_id else None
    today = _today()
    public = _public_results()
    figures = ranks = chart = points = None
    if public:
        everything = ranking.Period("all")
        months = trend_months(today)
        sums = period_sums(obj, months + ["all"])
        figures = ranking.figures(sums["all"], everything)
        if obj.is_organization and obj.is_evaluation_object:
            month = last_complete_month(today)
            ranks = _ranks(obj, [everything, month], spheres[0] if spheres else None, region)
        points = trend(sums, months)
        labels = [f"{key[5:]}.{key[2:4]}" for key, _, _ in points]
        rated = [(label, mean, n) for label, (_, mean, n) in zip(labels, points)]
        chart = Markup(charts.trend_svg(
            rated, id_prefix="chart",
            title=t("object.trend.title", lang, name=obj.name),
            description=_trend_description(points, lang),
            mean_label=t("object.trend.mean", lang), count_label=t("object.trend.count", lang)))
    base_url = current_app.config["BASE_URL"]
    # The snippet and the print links are for those who manage the object;
    # an anonymous visitor costs no query here.
    staff = permissions.allowed(sessions.current_user(), permissions.READ_RATINGS, obj)
    return render_template(
        "object.html", obj=obj, org=org, info=info, spheres=spheres, region=region, public=public,
        figures=figures, ranks=ranks, chart=chart,
        trend_rows=[(period_label(ranking.Period(key), lang), mean, n) for key, mean, n in (points or [])],
        criteria=[(c, CRITERIA[c]["label"][lang]) for c in BASE_CRITERIA],
        comments=latest_comments(obj), comments_private=not comment_statuses(), local=_local, base_url=base_url,
        period_name=lambda p: period_label(p, lang), ranking_per_page=RANKING_PER_PAGE,
        staff=staff, snippet=f'<script async src="{base_url}/widget.js" data-object="{obj.id}"></script>' if staff else None)


def _trend_description(points, lang):
    rated = [(key, mean, n) for key, mean, n in points if n]
    if not rated:
        return t("object.trend.empty", lang)
    first, last = rated[0], rated[-1]
    # Each number agrees with its own noun: two messages with plural forms.
    return t("object.trend.desc", lang, months=t("object.trend.months", lang, n=len(points)),
             ratings=t("object.trend.ratings", lang, n=sum(n for _, _, n in points)),
             first=period_label(ranking.Period(first[0]), lang), first_mean=f"{first[1]:.2f}",
             last=period_label(ranking.Period(last[0]), lang), last_mean=f"{last[1]:.2f}")


# -- rankings ------------------------------------------------------------------

def _ranking_request():
    period = _parse_period(request.args.get("period"), last_complete_month(_today()))
    sphere_code = request.args.get("sphere") or ""
    region_code = request.args.get("region") or ""
    table = ranking.rank_table(period, catalog.sphere_id(sphere_code), catalog.region_id(region_code))
    return period, sphere_code, region_code, table


@bp.get("/rankings")
def rankings():
    if not _public_results():
        return _results_hidden()
    lang = current_language()
    period, sphere_code, region_code, table = _ranking_request()
    page = _positive_int(request.args.get("page"))
    pages = max(1, -(-len(table.entries) // RANKING_PER_PAGE))
    if page > pages:
        raise ApiError({"page": [f"there are {pages} pages"]}, status=404)
    window = table.entries[(page - 1) * RANKING_PER_PAGE:page * RANKING_PER_PAGE]
    names = catalog.names([e.id for e in window])
    rows = [ranking.ranking_row(e, names.get(e.id, "")) for e in window]
    spheres, regions = _groups(lang)
    group = {k: v for k, v in (("period", period.key), ("sphere", sphere_code), ("region", region_code)) if v}
    choices = period_choices(_today())
    json_url = url_for("api.get_rankings", limit=max(1, min(len(table.entries), 50_000)), **group)
    return render_template(
        "rankings.html", rows=rows, period=period, period_name=period_label(period, lang),
        choices=choices, period_listed=any(p == period for _, ps in choices for p in ps), sphere=sphere_code, region=region_code, spheres=spheres,
        regions=regions, total=len(table.entries), page=page, pages=pages, group_mean=table.group_mean,
        ranked=table.ranked, min_ratings=table.min_ratings, sigma=table.sigma, formula=ranking.FORMULA,
        prior_weight=ranking.PRIOR_WEIGHT, csv_url=url_for("pages.rankings_csv", **group), json_url=json_url,
        period_label=lambda p: period_label(p, lang))


def spreadsheet_safe(value):
    """Text that no spreadsheet will run as a formula: a leading quote makes
    it a literal. Numbers are written by us and pass as they are, so that a
    negative position change stays a number."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# The uncertainty's columns come last, so that readers of the older file
# keep their column numbers: the range of places, whether the change is
# significant (1 or 0), the score's 95 % interval and the formula's version.
CSV_COLUMNS = ("rank", "rank_change", "id", "name", "n", "score", "overall", "satisfaction", *BASE_CRITERIA,
               "rank_low", "rank_high", "rank_change_significant", "score_low", "score_high", "formula")


def uncertainty_cells(row):
    """The last six CSV cells of a ranking row (``ranking.ranking_row`` or
    figures): empty where the row has no place."""
    places, interval = row["rank_range"] or (None, None), row["interval"] or (None, None)
    return (*places, int(row["rank_change_significant"]), _round(interval[0], 4), _round(interval[1], 4),
            ranking.FORMULA)


def _round(value, digits):
    return None if value is None else round(value, digits)


@bp.get("/rankings.csv")
def rankings_csv():
    if not _public_results():
        return _results_hidden()
    period, sphere_code, region_code, table = _ranking_request()
    names = _all_names(table.entries)
    out = io.StringIO()
    # The BOM makes spreadsheets read the file as UTF-8 (Cyrillic names).
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # Only the name is text; every other cell is a number written by us.
    writer.writerows(
        (row["rank"], row["rank_change"], row["id"], spreadsheet_safe(row["name"]), row["n"],
         _round(row["score"], 4), _round(row["overall"], 4), _round(row["satisfaction"], 2),
         *(_round(row["criteria"][c], 4) for c in BASE_CRITERIA), *uncertainty_cells(row))
        for row in (ranking.ranking_row(entry, names.get(entry.id, "")) for entry in table.entries))
    filename = "-".join(["ocenka-ranking", period.key, *(c for c in (sphere_code, region_code) if c)]) + ".csv"
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_ascii_filename(filename)}"'})


def _all_names(entries):
    if len(entries) <= 500:
        return catalog.names([e.id for e in entries])
    # Past a few hundred, one plain read of every organization's name is far
    # cheaper than building and planning an IN list of thousands of ids.
    O = RatableObject
    return dict(O.select(O.id, O.name).where(O.kind == O.ORGANIZATION).tuples())


def _ascii_filename(name):
    # Sphere and region codes are ASCII slugs; anything else is dropped
    # rather than risk a broken header.
    return "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_.")) or "ranking.csv"
