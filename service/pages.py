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

from service import catalog, charts, i18n, ranking
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
    ranked = table.ranked_entries
    # Only a rise the data supports: the previous place lies outside this
    # month's range of places (SPEC "Trust") and this place outside last
    # month's, not noise among small counts (RankTable.clear_change).
    improved = sorted((e for e in ranked if e.rank_change and e.rank_change > 0 and table.clear_change(e)),
                      key=lambda e: (-e.rank_change, e.rank))
    figures = {
        "organizations": organizations,
        "ratings": sums.n,
        "satisfaction": _percent(sums),
        "ranked": table.ranked,
        "best": ranked[:TOP_SHOWN],
        "improved": improved[:TOP_SHOWN],
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
    query = catalog.search(q, catalog.sphere_id(sphere_code), catalog.region_id(region_code))
    total = query.count()
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        raise ApiError({"page": [f"there are {pages} pages"]}, status=404)
    items = list(query.paginate(page, PER_PAGE))
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


_MONTHS = {
    "ru": ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
           "ноябрь", "декабрь"],
    "be": ["студзень", "люты", "сакавік", "красавік", "май", "чэрвень", "ліпень", "жнівень", "верасень",
           "кастрычнік", "лістапад", "снежань"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "tt": ["гыйнвар", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
           "ноябрь", "декабрь"],
}

_STRINGS = {
    "ru": {
        "month.{}": _MONTHS["ru"],
        "period.all": "За всё время", "period.year": "{year} год", "period.month": "{month} {year}",
        "period.quarter": "{roman} квартал {year}", "period.half": "{roman} полугодие {year}",
        "period.group.month": "Месяцы", "period.group.quarter": "Кварталы", "period.group.half": "Полугодия",
        "period.group.year": "Годы", "period.group.all": "Всё время",
        "home.title": "Оценка качества услуг государственных органов и организаций",
        "home.lead": "Оцените, как вас обслужили, и узнайте, как оценивают других.",
        "home.totals": "Портал в цифрах", "home.organizations": "организаций",
        "home.ratings": "оценок", "home.satisfaction": "индекс удовлетворённости",
        "home.search": "Найти организацию", "home.search.label": "Название или УНП",
        "home.search.button": "Найти", "home.spheres": "Сферы",
        "home.best": "Лучшие организации: {month}", "home.improved": "Больше всех поднялись: {month}",
        "home.no_ranking": "За этот месяц оценок пока нет.", "home.all_rankings": "Весь рейтинг",
        "home.places_up": "+{n}",
        "objects.title": "Организации", "objects.search": "Поиск",
        "objects.q": "Название или УНП", "objects.sphere": "Сфера", "objects.region": "Регион",
        "objects.any": "Все", "objects.apply": "Показать", "objects.reset": "Сбросить",
        "objects.found": "Найдено: {n}", "objects.none": "Ничего не найдено. Измените запрос или фильтры.",
        "objects.subdivision_of": "подразделение организации «{name}»",
        "objects.ratings": "оценок: {n}",
        "objects.figures": "средняя оценка {overall} · удовлетворены {satisfaction} % · оценок: {n}",
        "pager.label": "Страницы", "pager.prev": "Назад", "pager.next": "Вперёд",
        "pager.page": "Страница {page} из {pages}",
        "object.rate": "Оценить", "object.location": "Адрес", "object.unp": "УНП",
        "object.spheres": "Сферы", "object.website": "Сайт", "object.subdivisions": "Подразделения",
        "object.services": "Услуги", "object.figures": "Оценки за всё время",
        "object.n": "Оценок", "object.overall": "Средняя оценка", "object.satisfaction": "Индекс удовлетворённости",
        "object.verified": "Подтверждены кодом визита",
        "object.no_ratings": "Оценок пока нет. Станьте первым!",
        "object.criteria": "Оценки по критериям (из 5)",
        "object.ranks": "Место в рейтинге", "object.rank.all": "Среди всех организаций",
        "object.rank.sphere": "В сфере «{name}»", "object.rank.region": "В регионе: {name}",
        "object.rank.of": "{rank} из {size}", "object.rank.none": "нет оценок",
        "object.rank.note": "Изменение — по сравнению с предыдущим месяцем.",
        "object.trend": "Динамика по месяцам", "object.trend.title": "Средняя оценка по месяцам: {name}",
        "object.trend.desc": "За {months} — {ratings}; {first}: {first_mean}, {last}: {last_mean}.",
        "object.trend.months": "{n} {n:месяц|месяца|месяцев}", "object.trend.ratings": "{n} {n:оценка|оценки|оценок}",
        "object.trend.empty": "За последние 24 месяца оценок нет.",
        "object.trend.mean": "Средняя оценка", "object.trend.count": "Число оценок",
        "object.trend.table": "Данные графика таблицей", "object.trend.month": "Месяц",
        "object.comments": "Отзывы", "object.comments.none": "Опубликованных отзывов пока нет.",
        "object.comments.private": "Отзывы на этом портале не публикуются.",
        "object.answer": "Ответ организации", "object.score": "Оценка {score} из 5",
        "object.part_of": "Подразделение организации", "object.hidden": "Результаты оценки на этом портале не публикуются.",
        "staff.title": "Для сотрудников организации",
        "staff.note": "Код виджета для сайта организации, QR-код и материалы для печати.",
        "staff.snippet": "Код для сайта", "staff.qr_png": "QR-код (PNG)", "staff.qr_svg": "QR-код (SVG)",
        "staff.poster": "Плакат для печати (PDF)", "staff.banner": "Баннер 240×400 (PNG)",
        "staff.badge": "Значок с оценкой (SVG)",
        "rankings.title": "Рейтинг организаций", "rankings.period": "Период", "rankings.show": "Показать",
        "rankings.rank": "Место", "rankings.change": "Изменение", "rankings.name": "Организация",
        "rankings.n": "Оценок", "rankings.score": "Балл", "rankings.satisfaction": "Индекс удовлетворённости, %", "rankings.satisfied_short": "Удовлетворены, %",
        "rankings.none": "За этот период оценок нет.", "rankings.total": "Организаций в рейтинге: {n}",
        "rankings.download": "Открытые данные", "rankings.csv": "Скачать CSV", "rankings.json": "JSON (API)",
        "rankings.caption": "Рейтинг: {period}",
        "rankings.method": "Балл — байесовское среднее: (C·m + Σ оценок) / (C + n), где m = {mean} — средняя оценка группы, C = {c}. Так организация с тремя отличными оценками не обгоняет организацию с тремя сотнями хороших.",
        "change.up": "поднялась на {n}", "change.down": "опустилась на {n}", "change.same": "без изменений",
        "change.new": "нет данных за прошлый период",
        "error.title.400": "Неверный запрос", "error.title.403": "Доступ закрыт", "error.title.404": "Страница не найдена", "error.title.500": "Ошибка на сервере",
        "nav.sections": "Разделы портала", "hidden.title": "Результаты не публикуются",
        "hidden.text": "На этом портале результаты оценки и рейтинг доступны только уполномоченным органам.",
    },
    "be": {
        "month.{}": _MONTHS["be"],
        "period.all": "За ўвесь час", "period.year": "{year} год", "period.month": "{month} {year}",
        "period.quarter": "{roman} квартал {year}", "period.half": "{roman} паўгоддзе {year}",
        "period.group.month": "Месяцы", "period.group.quarter": "Кварталы", "period.group.half": "Паўгоддзі",
        "period.group.year": "Гады", "period.group.all": "Увесь час",
        "home.title": "Ацэнка якасці паслуг дзяржаўных органаў і арганізацый",
        "home.lead": "Ацаніце, як вас абслужылі, і даведайцеся, як ацэньваюць іншых.",
        "home.totals": "Партал у лічбах", "home.organizations": "арганізацый",
        "home.ratings": "ацэнак", "home.satisfaction": "індэкс задаволенасці",
        "home.search": "Знайсці арганізацыю", "home.search.label": "Назва або УНП",
        "home.search.button": "Знайсці", "home.spheres": "Сферы",
        "home.best": "Лепшыя арганізацыі: {month}", "home.improved": "Найбольш падняліся: {month}",
        "home.no_ranking": "За гэты месяц ацэнак пакуль няма.", "home.all_rankings": "Увесь рэйтынг",
        "home.places_up": "+{n}",
        "objects.title": "Арганізацыі", "objects.search": "Пошук",
        "objects.q": "Назва або УНП", "objects.sphere": "Сфера", "objects.region": "Рэгіён",
        "objects.any": "Усе", "objects.apply": "Паказаць", "objects.reset": "Скінуць",
        "objects.found": "Знойдзена: {n}", "objects.none": "Нічога не знойдзена. Змяніце запыт або фільтры.",
        "objects.subdivision_of": "падраздзяленне арганізацыі «{name}»",
        "objects.ratings": "ацэнак: {n}",
        "objects.figures": "сярэдняя ацэнка {overall} · задаволены {satisfaction} % · ацэнак: {n}",
        "pager.label": "Старонкі", "pager.prev": "Назад", "pager.next": "Далей",
        "pager.page": "Старонка {page} з {pages}",
        "object.rate": "Ацаніць", "object.location": "Адрас", "object.unp": "УНП",
        "object.spheres": "Сферы", "object.website": "Сайт", "object.subdivisions": "Падраздзяленні",
        "object.services": "Паслугі", "object.figures": "Ацэнкі за ўвесь час",
        "object.n": "Ацэнак", "object.overall": "Сярэдняя ацэнка", "object.satisfaction": "Індэкс задаволенасці",
        "object.verified": "Пацверджаны кодам візіту",
        "object.no_ratings": "Ацэнак пакуль няма. Будзьце першым!",
        "object.criteria": "Ацэнкі па крытэрыях (з 5)",
        "object.ranks": "Месца ў рэйтынгу", "object.rank.all": "Сярод усіх арганізацый",
        "object.rank.sphere": "У сферы «{name}»", "object.rank.region": "У рэгіёне: {name}",
        "object.rank.of": "{rank} з {size}", "object.rank.none": "няма ацэнак",
        "object.rank.note": "Змяненне — у параўнанні з папярэднім месяцам.",
        "object.trend": "Дынаміка па месяцах", "object.trend.title": "Сярэдняя ацэнка па месяцах: {name}",
        "object.trend.desc": "За {months} — {ratings}; {first}: {first_mean}, {last}: {last_mean}.",
        "object.trend.months": "{n} {n:месяц|месяцы|месяцаў}", "object.trend.ratings": "{n} {n:ацэнка|ацэнкі|ацэнак}",
        "object.trend.empty": "За апошнія 24 месяцы ацэнак няма.",
        "object.trend.mean": "Сярэдняя ацэнка", "object.trend.count": "Колькасць ацэнак",
        "object.trend.table": "Даныя графіка табліцай", "object.trend.month": "Месяц",
        "object.comments": "Водгукі", "object.comments.none": "Апублікаваных водгукаў пакуль няма.",
        "object.comments.private": "Водгукі на гэтым партале не публікуюцца.",
        "object.answer": "Адказ арганізацыі", "object.score": "Ацэнка {score} з 5",
        "object.part_of": "Падраздзяленне арганізацыі", "object.hidden": "Вынікі ацэнкі на гэтым партале не публікуюцца.",
        "staff.title": "Для супрацоўнікаў арганізацыі",
        "staff.note": "Код віджэта для сайта арганізацыі, QR-код і матэрыялы для друку.",
        "staff.snippet": "Код для сайта", "staff.qr_png": "QR-код (PNG)", "staff.qr_svg": "QR-код (SVG)",
        "staff.poster": "Плакат для друку (PDF)", "staff.banner": "Банер 240×400 (PNG)",
        "staff.badge": "Значок з ацэнкай (SVG)",
        "rankings.title": "Рэйтынг арганізацый", "rankings.period": "Перыяд", "rankings.show": "Паказаць",
        "rankings.rank": "Месца", "rankings.change": "Змяненне", "rankings.name": "Арганізацыя",
        "rankings.n": "Ацэнак", "rankings.score": "Бал", "rankings.satisfaction": "Індэкс задаволенасці, %", "rankings.satisfied_short": "Задаволены, %",
        "rankings.none": "За гэты перыяд ацэнак няма.", "rankings.total": "Арганізацый у рэйтынгу: {n}",
        "rankings.download": "Адкрытыя даныя", "rankings.csv": "Спампаваць CSV", "rankings.json": "JSON (API)",
        "rankings.caption": "Рэйтынг: {period}",
        "rankings.method": "Бал — байесаўскае сярэдняе: (C·m + Σ ацэнак) / (C + n), дзе m = {mean} — сярэдняя ацэнка групы, C = {c}. Так арганізацыя з трыма выдатнымі ацэнкамі не абганяе арганізацыю з трыма сотнямі добрых.",
        "change.up": "паднялася на {n}", "change.down": "апусцілася на {n}", "change.same": "без змяненняў",
        "change.new": "няма даных за мінулы перыяд",
        "error.title.400": "Няправільны запыт", "error.title.403": "Доступ закрыты", "error.title.404": "Старонка не знойдзена", "error.title.500": "Памылка на серверы",
        "nav.sections": "Раздзелы партала", "hidden.title": "Вынікі не публікуюцца",
        "hidden.text": "На гэтым партале вынікі ацэнкі і рэйтынг даступныя толькі ўпаўнаважаным органам.",
    },
    "en": {
        "month.{}": _MONTHS["en"],
        "period.all": "All time", "period.year": "{year}", "period.month": "{month} {year}",
        "period.quarter": "Q{n} {year}", "period.half": "H{n} {year}",
        "period.group.month": "Months", "period.group.quarter": "Quarters", "period.group.half": "Half-years",
        "period.group.year": "Years", "period.group.all": "All time",
        "home.title": "Rate the services of state bodies and organizations",
        "home.lead": "Say how you were served, and see how others are rated.",
        "home.totals": "The portal in figures", "home.organizations": "organizations",
        "home.ratings": "ratings", "home.satisfaction": "satisfaction index",
        "home.search": "Find an organization", "home.search.label": "Name or registration number",
        "home.search.button": "Search", "home.spheres": "Spheres",
        "home.best": "Best organizations: {month}", "home.improved": "Most improved: {month}",
        "home.no_ranking": "No ratings for this month yet.", "home.all_rankings": "The whole ranking",
        "home.places_up": "+{n}",
        "objects.title": "Organizations", "objects.search": "Search",
        "objects.q": "Name or registration number", "objects.sphere": "Sphere", "objects.region": "Region",
        "objects.any": "All", "objects.apply": "Show", "objects.reset": "Reset",
        "objects.found": "Found: {n}", "objects.none": "Nothing found. Change the query or the filters.",
        "objects.subdivision_of": "a subdivision of {name}",
        "objects.ratings": "ratings: {n}",
        "objects.figures": "mean score {overall} · satisfied {satisfaction} % · ratings: {n}",
        "pager.label": "Pages", "pager.prev": "Previous", "pager.next": "Next",
        "pager.page": "Page {page} of {pages}",
        "object.rate": "Rate", "object.location": "Address", "object.unp": "Registration number",
        "object.spheres": "Spheres", "object.website": "Website", "object.subdivisions": "Subdivisions",
        "object.services": "Services", "object.figures": "Ratings, all time",
        "object.n": "Ratings", "object.overall": "Mean score", "object.satisfaction": "Satisfaction index",
        "object.verified": "Verified by a visit code",
        "object.no_ratings": "No ratings yet. Be the first!",
        "object.criteria": "Scores by criterion (out of 5)",
        "object.ranks": "Place in the ranking", "object.rank.all": "Among all organizations",
        "object.rank.sphere": "In {name}", "object.rank.region": "In the region: {name}",
        "object.rank.of": "{rank} of {size}", "object.rank.none": "no ratings",
        "object.rank.note": "Change: compared with the month before.",
        "object.trend": "Monthly trend", "object.trend.title": "Mean score by month: {name}",
        "object.trend.desc": "{ratings} over {months}; {first}: {first_mean}, {last}: {last_mean}.",
        "object.trend.months": "{n} {n:month|months}", "object.trend.ratings": "{n} {n:rating|ratings}",
        "object.trend.empty": "No ratings in the last 24 months.",
        "object.trend.mean": "Mean score", "object.trend.count": "Number of ratings",
        "object.trend.table": "The chart's data as a table", "object.trend.month": "Month",
        "object.comments": "Comments", "object.comments.none": "No published comments yet.",
        "object.comments.private": "Comments are not published on this portal.",
        "object.answer": "The organization's answer", "object.score": "Score {score} of 5",
        "object.part_of": "A subdivision of", "object.hidden": "Rating results are not published on this portal.",
        "staff.title": "For the organization's staff",
        "staff.note": "The widget code for the organization's website, the QR code and printed materials.",
        "staff.snippet": "Code for the website", "staff.qr_png": "QR code (PNG)", "staff.qr_svg": "QR code (SVG)",
        "staff.poster": "Printable poster (PDF)", "staff.banner": "Banner 240×400 (PNG)",
        "staff.badge": "Badge with the score (SVG)",
        "rankings.title": "Ranking of organizations", "rankings.period": "Period", "rankings.show": "Show",
        "rankings.rank": "Rank", "rankings.change": "Change", "rankings.name": "Organization",
        "rankings.n": "Ratings", "rankings.score": "Score", "rankings.satisfaction": "Satisfaction index, %", "rankings.satisfied_short": "Satisfied, %",
        "rankings.none": "No ratings in this period.", "rankings.total": "Organizations ranked: {n}",
        "rankings.download": "Open data", "rankings.csv": "Download CSV", "rankings.json": "JSON (API)",
        "rankings.caption": "Ranking: {period}",
        "rankings.method": "The score is a Bayesian mean: (C·m + Σ scores) / (C + n), where m = {mean} is the group's mean score and C = {c}. So three perfect ratings do not outrank three hundred good ones.",
        "change.up": "up {n}", "change.down": "down {n}", "change.same": "no change",
        "change.new": "no data for the previous period",
        "error.title.400": "Bad request", "error.title.403": "Access denied", "error.title.404": "Page not found", "error.title.500": "Server error",
        "nav.sections": "Sections", "hidden.title": "Results are not public",
        "hidden.text": "On this portal the rating results and the ranking are available to authorized bodies only.",
    },
    "tt": {
        "month.{}": _MONTHS["tt"],
        "period.all": "Бөтен вакыт өчен", "period.year": "{year} ел", "period.month": "{year}, {month}",
        "period.quarter": "{year} елның {n} нче кварталы", "period.half": "{year} елның {n} нче яртыеллыгы",
        "period.group.month": "Айлар", "period.group.quarter": "Кварталлар", "period.group.half": "Яртыеллыклар",
        "period.group.year": "Еллар", "period.group.all": "Бөтен вакыт",
        "home.title": "Дәүләт органнары һәм оешмалар хезмәтләренең сыйфатын бәяләү",
        "home.lead": "Сезгә ничек хезмәт күрсәткәннәрен бәяләгез һәм башкаларны ничек бәялиләрен белегез.",
        "home.totals": "Портал саннарда", "home.organizations": "оешма",
        "home.ratings": "бәя", "home.satisfaction": "канәгатьлек индексы",
        "home.search": "Оешманы табу", "home.search.label": "Исем яки теркәү номеры (УНП)",
        "home.search.button": "Эзләү", "home.spheres": "Өлкәләр",
        "home.best": "Иң яхшы оешмалар: {month}", "home.improved": "Иң күп күтәрелгәннәр: {month}",
        "home.no_ranking": "Бу ай өчен бәяләр әлегә юк.", "home.all_rankings": "Бөтен рейтинг",
        "home.places_up": "+{n}",
        "objects.title": "Оешмалар", "objects.search": "Эзләү",
        "objects.q": "Исем яки теркәү номеры (УНП)", "objects.sphere": "Өлкә", "objects.region": "Төбәк",
        "objects.any": "Барысы", "objects.apply": "Күрсәтү", "objects.reset": "Чистарту",
        "objects.found": "Табылды: {n}", "objects.none": "Бернәрсә дә табылмады. Сорауны яки фильтрларны үзгәртегез.",
        "objects.subdivision_of": "«{name}» оешмасының бүлекчәсе",
        "objects.ratings": "бәяләр: {n}",
        "objects.figures": "уртача бәя {overall} · канәгать {satisfaction} % · бәяләр: {n}",
        "pager.label": "Битләр", "pager.prev": "Артка", "pager.next": "Алга",
        "pager.page": "{pages} биттән {page} нче бит",
        "object.rate": "Бәяләү", "object.location": "Адрес", "object.unp": "Теркәү номеры (УНП)",
        "object.spheres": "Өлкәләр", "object.website": "Сайт", "object.subdivisions": "Бүлекчәләр",
        "object.services": "Хезмәтләр", "object.figures": "Бөтен вакыт өчен бәяләр",
        "object.n": "Бәяләр", "object.overall": "Уртача бәя", "object.satisfaction": "Канәгатьлек индексы",
        "object.verified": "Килү коды белән расланган",
        "object.no_ratings": "Бәяләр әлегә юк. Беренче булыгыз!",
        "object.criteria": "Критерийлар буенча бәяләр (5 баллдан)",
        "object.ranks": "Рейтингтагы урын", "object.rank.all": "Барлык оешмалар арасында",
        "object.rank.sphere": "«{name}» өлкәсендә", "object.rank.region": "Төбәктә: {name}",
        "object.rank.of": "{size} арасыннан {rank}", "object.rank.none": "бәяләр юк",
        "object.rank.note": "Үзгәреш алдагы ай белән чагыштырып күрсәтелә.",
        "object.trend": "Айлар буенча үзгәреш", "object.trend.title": "Айлар буенча уртача бәя: {name}",
        "object.trend.desc": "{months} эчендә {ratings}; {first}: {first_mean}, {last}: {last_mean}.",
        "object.trend.months": "{n} ай", "object.trend.ratings": "{n} бәя",
        "object.trend.empty": "Соңгы 24 айда бәяләр юк.",
        "object.trend.mean": "Уртача бәя", "object.trend.count": "Бәяләр саны",
        "object.trend.table": "График мәгълүматлары таблица рәвешендә", "object.trend.month": "Ай",
        "object.comments": "Фикерләр", "object.comments.none": "Бастырылган фикерләр әлегә юк.",
        "object.comments.private": "Бу порталда фикерләр бастырылмый.",
        "object.answer": "Оешманың җавабы", "object.score": "Бәя: 5 баллдан {score}",
        "object.part_of": "Оешманың бүлекчәсе", "object.hidden": "Бу порталда бәяләү нәтиҗәләре бастырылмый.",
        "staff.title": "Оешма хезмәткәрләре өчен",
        "staff.note": "Оешма сайты өчен виджет коды, QR-код һәм басма материаллар.",
        "staff.snippet": "Сайт өчен код", "staff.qr_png": "QR-код (PNG)", "staff.qr_svg": "QR-код (SVG)",
        "staff.poster": "Басу өчен плакат (PDF)", "staff.banner": "Баннер 240×400 (PNG)",
        "staff.badge": "Бәя күрсәтелгән значок (SVG)",
        "rankings.title": "Оешмалар рейтингы", "rankings.period": "Чор", "rankings.show": "Күрсәтү",
        "rankings.rank": "Урын", "rankings.change": "Үзгәреш", "rankings.name": "Оешма",
        "rankings.n": "Бәяләр", "rankings.score": "Балл", "rankings.satisfaction": "Канәгатьлек индексы, %", "rankings.satisfied_short": "Канәгатьләр, %",
        "rankings.none": "Бу чорда бәяләр юк.", "rankings.total": "Рейтингтагы оешмалар: {n}",
        "rankings.download": "Ачык мәгълүматлар", "rankings.csv": "CSV йөкләү", "rankings.json": "JSON (API)",
        "rankings.caption": "Рейтинг: {period}",
        "rankings.method": "Балл — Байес уртачасы: (C·m + Σ бәяләр) / (C + n), монда m = {mean} — төркемнең уртача бәясе, C = {c}. Шулай итеп, өч бик яхшы бәяле оешма йөзләрчә яхшы бәяле оешмадан узып китми.",
        "change.up": "{n} урынга күтәрелде", "change.down": "{n} урынга төште", "change.same": "үзгәрешсез",
        "change.new": "алдагы чор өчен мәгълүмат юк",
        "error.title.400": "Дөрес булмаган сорау", "error.title.403": "Керү ябык", "error.title.404": "Бит табылмады", "error.title.500": "Серверда хата",
        "nav.sections": "Портал бүлекләре", "hidden.title": "Нәтиҗәләр бастырылмый",
        "hidden.text": "Бу порталда бәяләү нәтиҗәләре һәм рейтинг вәкаләтле органнар өчен генә ачык.",
    },
}


def _expand(strings):
    result = {}
    for key, text in strings.items():
        if isinstance(text, list):
            result.update({key.format(i + 1): value for i, value in enumerate(text)})
        else:
            result[key] = text
    return result


i18n.register({lang: _expand(strings) for lang, strings in _STRINGS.items()})


# The uncertainty of places (SPEC "Trust"; docs/ranking.md).
i18n.register({
    "ru": {
        "uncertainty.places_of": "места {low}–{high} из {size}",
        "uncertainty.unranked": "вне рейтинга: меньше {min} оценок за период",
        "uncertainty.unranked_short": "без места",
        "uncertainty.listed": "Ещё {n} — без места: у них меньше {min} оценок за период.",
        "uncertainty.noise": "место изменилось на {n} — в пределах погрешности, это не рост и не падение",
        "uncertainty.no_improved": "В этом месяце ни одна организация заметно не поднялась: изменения мест в пределах погрешности.",
        "uncertainty.method": "Места — те, что подтверждают данные: балл ± 1,96·σ/√(C + n) (95 %), где σ = {sigma} — разброс оценок в группе; «места 12–31» — балл организации нельзя надёжно отличить от баллов тех, кто на этих местах. ▲ и ▼ — только если прошлое место вне этого диапазона, иначе ≈. Без места — меньше {min} оценок за период. Формула: {formula}.",
        "uncertainty.object_note": "«Места 12–31» — диапазон мест, который подтверждают данные; ▲ и ▼ — только значимые изменения, ≈ — в пределах погрешности.",
    },
    "be": {
        "uncertainty.places_of": "месцы {low}–{high} з {size}",
        "uncertainty.unranked": "па-за рэйтынгам: менш за {min} ацэнак за перыяд",
        "uncertainty.unranked_short": "без месца",
        "uncertainty.listed": "Яшчэ {n} — без месца: у іх менш за {min} ацэнак за перыяд.",
        "uncertainty.noise": "месца змянілася на {n} — у межах хібнасці, гэта не рост і не падзенне",
        "uncertainty.no_improved": "У гэтым месяцы ніводная арганізацыя прыкметна не паднялася: змены месцаў у межах хібнасці.",
        "uncertainty.method": "Месцы — тыя, што пацвярджаюць даныя: бал ± 1,96·σ/√(C + n) (95 %), дзе σ = {sigma} — роскід ацэнак у групе; «месцы 12–31» — бал арганізацыі нельга надзейна адрозніць ад балаў тых, хто на гэтых месцах. ▲ і ▼ — толькі калі мінулае месца па-за гэтым дыяпазонам, інакш ≈. Без месца — менш за {min} ацэнак за перыяд. Формула: {formula}.",
        "uncertainty.object_note": "«Месцы 12–31» — дыяпазон месцаў, які пацвярджаюць даныя; ▲ і ▼ — толькі значныя змены, ≈ — у межах хібнасці.",
    },
    "en": {
        "uncertainty.places_of": "places {low}–{high} of {size}",
        "uncertainty.unranked": "not ranked: fewer than {min} ratings in the period",
        "uncertainty.unranked_short": "no place",
        "uncertainty.listed": "{n} more are listed without a place: fewer than {min} ratings in the period.",
        "uncertainty.noise": "moved {n}, within the uncertainty: neither a rise nor a fall",
        "uncertainty.no_improved": "No organization rose clearly this month: every change of place is within the uncertainty.",
        "uncertainty.method": "Places are those the data supports: score ± 1.96·σ/√(C + n) (95 %), where σ = {sigma} is the spread of the group's ratings; \"places 12–31\" means the score cannot be told apart from those of the organizations in these places. ▲ and ▼ only when the previous place lies outside that range, ≈ otherwise. No place: fewer than {min} ratings in the period. Formula: {formula}.",
        "uncertainty.object_note": "\"Places 12–31\" is the range of places the data supports; ▲ and ▼ mark only significant changes, ≈ one within the uncertainty.",
    },
    "tt": {
        "uncertainty.places_of": "{size} арасыннан {low}–{high} урыннар",
        "uncertainty.unranked": "рейтингта юк: чорда {min} бәядән ким",
        "uncertainty.unranked_short": "урынсыз",
        "uncertainty.listed": "Тагын {n} — урынсыз: аларның чорда {min} бәядән ким.",
        "uncertainty.noise": "урын {n} үзгәрде — хата чикләрендә, бу күтәрелү дә, төшү дә түгел",
        "uncertainty.no_improved": "Бу айда бер оешма да сизелерлек күтәрелмәде: урын үзгәрешләре хата чикләрендә.",
        "uncertainty.method": "Урыннар — мәгълүматлар раслаганнары: балл ± 1,96·σ/√(C + n) (95 %), монда σ = {sigma} — төркемдәге бәяләрнең таралышы; «12–31 урыннар» — оешманың баллын бу урыннардагыларның баллыннан ышанычлы аерып булмый. ▲ һәм ▼ — алдагы урын бу диапазоннан читтә булганда гына, башка очракта ≈. Урынсыз — чорда {min} бәядән ким. Формула: {formula}.",
        "uncertainty.object_note": "«12–31 урыннар» — мәгълүматлар раслаган урыннар диапазоны; ▲ һәм ▼ — әһәмиятле үзгәрешләр генә, ≈ — хата чикләрендә.",
    },
})
