"""Every rule of the rating, in one place.

* A rating's overall score is the mean of its four base scores.
* An object's figures for a period: the number of ratings ``n``, the mean of
  each criterion, the mean overall score, and the satisfaction index: the
  share of ratings whose overall score is at least 4, in percent.
* The ranking score is a Bayesian mean, ``(C·m + Σ overall) / (C + n)``,
  where ``C`` is a prior weight (10) and ``m`` the mean overall score of the
  compared group: the pooled mean over the ratings of every organization
  ranked in that group for that period (Σ of their Σ overall / Σ of their n).
  An object outside the ranking (a subdivision) is scored against the group
  of all organizations.
* Organizations are ranked by score, highest first; equal scores by more
  ratings, then by the lower id, so that a ranking is always reproducible.
  Only published organizations that are evaluation objects and have at
  least one rating in the period are ranked (an authorized body that is not
  itself an evaluation object has figures but no rank). The position change is the rank in the previous period of the
  same length minus the rank in this one; null when either is missing.
* Uncertainty (formula ``FORMULA``; docs/ranking.md works an example): σ is
  the standard deviation of the overall scores of every counted rating in
  the compared group and period, pooled from the sums and the sums of
  squares, and a score's 95 % ``interval`` is ``score ± 1.96·σ/√(C+n)``.
  ``rank_range`` is ``[1 + the number of others whose interval lies wholly
  above this one's, the number of others whose interval reaches this one's
  lower end + 1]``, so it always holds the rank; a position change is
  *significant* only when the previous rank lies outside it.
* An organization with fewer than ``OCENKA_MIN_RATINGS`` (default 5)
  ratings in the period is listed, after the ranked ones, with its score and
  interval but no rank, range or change; it still counts toward the group's
  mean and σ, and it gives no previous rank to the next period.
* Roll-up: an organization's figures include its subdivisions' ratings; an
  authorized body's include its own, its subdivisions' and those of every
  organization in its accepted registries, transitively, each rating once.
* A rating belongs to the calendar month (in ``OCENKA_TIMEZONE``) in which
  it arrived, and so to that month's quarter, half-year and year.

Figures are kept as integer sums per object and period (``ObjectAggregate``)
and updated in the same transaction as each rating, so reading them never
rescans the ratings; ``rebuild_aggregates`` recomputes them from the raw
ratings and says what differed.
"""
import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from flask import current_app, has_app_context, has_request_context, request
from peewee import Value, fn

from service.db import bulk_insert, database, run
from service.models import (
    BASE_CRITERIA, Meta, ObjectAggregate, ObjectSphere, RatableObject, Rating,
    Registry, RegistryEntry, RollupAggregate, RollupMember,
)

PRIOR_WEIGHT = 10
Z_95 = 1.96  # a normal quantile: the interval covers 95 %
MIN_RATINGS = 5  # OCENKA_MIN_RATINGS unless configured
# Named in every ranking answer; a new name whenever a rule above changes
# what a score, interval or place means (docs/ranking.md keeps the list).
FORMULA = "bayes10-ci95-v1"
SATISFIED_TOTAL = 16  # four scores adding up to 16 have a mean of 4
STRUCTURE = "structure_version"  # bumped by anything but a new rating that may change figures

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])|H(?P<half>[12])))?$")


@dataclass(frozen=True)
class Period:
    """A reporting period, named as the API names it: ``2026-10``,
    ``2026-Q3``, ``2026-H2``, ``2026`` or ``all``."""
    key: str

    @classmethod
    def parse(cls, text):
        text = (text or "all").strip()
        if text == "all":
            return cls("all")
        match = _PERIOD.match(text)
        if not match or not 2000 <= int(match["year"]) <= 2999:
            raise ValueError("must be all, YYYY, YYYY-MM, YYYY-Qn or YYYY-Hn, for example 2026-10 or 2026-Q3")
        return cls(text)

    @property
    def kind(self):
        if self.key == "all":
            return "all"
        if len(self.key) == 4:
            return "year"
        return {"Q": "quarter", "H": "half"}.get(self.key[5], "month")

    @property
    def last_month(self):
        """The period's last month as yyyymm; None for all time."""
        kind = self.kind
        if kind == "all":
            return None
        year = int(self.key[:4])
        if kind == "month":
            return year * 100 + int(self.key[5:])
        if kind == "year":
            return year * 100 + 12
        return year * 100 + int(self.key[6]) * {"Q": 3, "H": 6}[self.key[5]]

    def previous(self):
        """The previous period of the same length; None for all time."""
        kind = self.kind
        if kind == "all":
            return None
        year = int(self.key[:4])
        if kind == "year":
            return Period(str(year - 1))
        if kind == "month":
            month = int(self.key[5:])
            return Period(f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}")
        letter, number, last = self.key[5], int(self.key[6]), {"Q": 4, "H": 2}[self.key[5]]
        return Period(f"{year - 1}-{letter}{last}" if number == 1 else f"{year}-{letter}{number - 1}")


def periods_of_month(month):
    """The five period keys a rating of month ``yyyymm`` counts in."""
    year, m = divmod(month, 100)
    return [f"{year}-{m:02d}", f"{year}-Q{(m - 1) // 3 + 1}", f"{year}-H{(m - 1) // 6 + 1}", f"{year}", "all"]


def is_satisfied(scores):
    return sum(scores[c] for c in BASE_CRITERIA) >= SATISFIED_TOTAL


# -- figures ------------------------------------------------------------------

@dataclass
class Sums:
    n: int = 0
    simplicity: int = 0
    information: int = 0
    timeliness: int = 0
    politeness: int = 0
    satisfied: int = 0
    squares: int = 0
    verified: int = 0

    @property
    def total(self):
        """Σ of every base score; Σ overall is ``total / 4``."""
        return self.simplicity + self.information + self.timeliness + self.politeness

    @property
    def overall_sum(self):
        return self.total / len(BASE_CRITERIA)

    def add(self, other):
        for name in _SUM_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def bayesian_mean(overall_sum, n, group_mean):
    """``(C·m + Σ overall) / (C + n)``."""
    return (PRIOR_WEIGHT * (group_mean or 0.0) + overall_sum) / (PRIOR_WEIGHT + n)


def ranking_score(sums, group_mean):
    """The Bayesian score; None without ratings (the prior alone says
    nothing about the object)."""
    if sums.n == 0:
        return None
    return bayesian_mean(sums.overall_sum, sums.n, group_mean)


def spread(n, total, squares):
    """σ, the (population) standard deviation of the overall scores of ``n``
    ratings whose base scores add up to ``total`` and whose squared sums of
    base scores add up to ``squares``: an overall score is a sum over 4, so
    Σ overall = total/4 and Σ overall² = squares/16. None without ratings."""
    if not n:
        return None
    mean = total / len(BASE_CRITERIA) / n
    variance = squares / len(BASE_CRITERIA) ** 2 / n - mean * mean
    return math.sqrt(variance) if variance > 0 else 0.0  # rounding may leave a hair below zero


def half_width(n, sigma):
    """``1.96·σ/√(C+n)``: half the 95 % interval of a score from n ratings."""
    return Z_95 * sigma / math.sqrt(PRIOR_WEIGHT + n)


def score_interval(score, n, sigma):
    """``[score − 1.96·σ/√(C+n), score + 1.96·σ/√(C+n)]``; None without a
    score or a σ."""
    if score is None or sigma is None:
        return None
    half = half_width(n, sigma)
    return [score - half, score + half]


def rank_ranges(lows, highs):
    """For the ``lows[i]``–``highs[i]`` intervals of a ranked group, the
    places the data supports, as a list of first and a list of last places:
    ``1 + the number of others whose interval lies wholly above this one's
    (their low > this high)`` and ``the number of others whose interval
    reaches this one's lower end (their high ≥ this low) + 1``. Counted by
    bisection in the sorted ends (``map`` keeps the loop in C), not by
    comparing every pair: a group may hold thirteen thousand organizations.
    An interval never lies above itself and always reaches its own low,
    hence the arithmetic."""
    count = len(lows)
    not_above = map(bisect_right, repeat(sorted(lows), count), highs)  # lows ≤ this high
    short_of = map(bisect_left, repeat(sorted(highs), count), lows)  # highs < this low
    # Two lists of ints rather than a list of pairs: no container the
    # garbage collector must visit (a ranking is rebuilt after every rating).
    return [1 + count - n for n in not_above], [count - m for m in short_of]


def figures(sums, period, group_mean=None, rank=None, rank_change=None, sigma=None, rank_range=None,
            significant=False):
    """The figures of one object as the API gives them, unrounded. The
    interval needs the group's σ; the range and significance, a place."""
    n = sums.n
    score = ranking_score(sums, group_mean)
    return {
        "period": period.key,
        "n": n,
        "overall": sums.overall_sum / n if n else None,
        "criteria": {c: (getattr(sums, c) / n if n else None) for c in BASE_CRITERIA},
        "satisfaction": 100.0 * sums.satisfied / n if n else None,
        # The share of the ratings a single-use code verified (proof of
        # service), in percent like the satisfaction index.
        "verified_share": 100.0 * sums.verified / n if n else None,
        "score": score,
        "interval": score_interval(score, n, sigma),
        "rank": rank,
        "rank_range": list(rank_range) if rank is not None and rank_range else None,
        "rank_change": rank_change,
        "rank_change_significant": bool(significant and rank_change is not None),
        "formula": FORMULA,
    }


def table_figures(table, sums, entry=None):
    """An object's figures against a ranking group: the group's mean and σ
    for the score and interval, and the place when the table ranks it."""
    if entry is None or entry.rank is None:
        return figures(sums, table.period, table.group_mean, sigma=table.sigma)
    return figures(sums, table.period, table.group_mean, entry.rank, entry.rank_change, table.sigma,
                   entry.rank_range, entry.significant)


_SUM_FIELDS = ("n", *BASE_CRITERIA, "satisfied", "squares", "verified")
_SUM_COLUMNS = [fn.SUM(getattr(ObjectAggregate, name)) for name in _SUM_FIELDS]


def _sums(row):
    return Sums(*[int(v or 0) for v in row])


def object_sums(obj, period):
    """Σ of ``obj``'s ratings (rolled up, for an organization) in ``period``:
    one row."""
    if obj.kind == RatableObject.ORGANIZATION:
        A = RollupAggregate
        where = (A.organization == obj.id) & (A.period == period.key)
    else:
        A = ObjectAggregate
        where = (A.object == obj.id) & (A.period == period.key)
    row = A.select(*(getattr(A, name) for name in _SUM_FIELDS)).where(where).tuples().first()
    return _sums(row) if row else Sums()


def object_figures(obj, period):
    """Figures with the place among all organizations."""
    table = rank_table(period)
    return table_figures(table, object_sums(obj, period), table.by_id.get(obj.id))


# -- writing ------------------------------------------------------------------

def _upsert_sql(table, key, rows):
    sums = ("simplicity", "information", "timeliness", "politeness", "satisfied", "squares", "verified")
    values = ", ".join(["(?, ?, 1, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ("n", *sums))
    return (f"INSERT INTO {table} ({key}, period, n, {', '.join(sums)}) VALUES {values} "
            f"ON CONFLICT ({key}, period) DO UPDATE SET {updates}")


_OBJECT_UPSERT = _upsert_sql("object_aggregate", "object_id", 5)
_OWNERS = "SELECT organization_id FROM rollup_member WHERE object_id = ?"


def add_to_aggregates(object_id, month, scores, verified=False):
    """Counts one rating in its object's five periods and in those of every
    organization it rolls up into; call inside the rating's own
    transaction. (Plain SQL: this runs for every rating.)"""
    satisfied = 1 if is_satisfied(scores) else 0
    total = sum(scores[c] for c in BASE_CRITERIA)
    values = (scores["simplicity"], scores["information"], scores["timeliness"], scores["politeness"], satisfied,
              total * total, 1 if verified else 0)
    periods = periods_of_month(month)
    run(_OBJECT_UPSERT, [v for period in periods for v in (object_id, period, *values)])
    owners = [row[0] for row in run(_OWNERS, (object_id,)).fetchall()]
    if owners:
        run(_upsert_sql("rollup_aggregate", "organization_id", len(owners) * len(periods)),
            [v for owner in owners for period in periods for v in (owner, period, *values)])


def aggregates_from_ratings():
    """{(object_id, period): Sums} recomputed from the raw ratings: one
    grouped scan per object and month, then rolled up to longer periods."""
    R = Rating
    total = R.simplicity + R.information + R.timeliness + R.politeness
    satisfied = fn.SUM((total >= SATISFIED_TOTAL).cast("integer"))
    query = (R.select(R.object, R.month, fn.COUNT(R.id), fn.SUM(R.simplicity), fn.SUM(R.information),
                      fn.SUM(R.timeliness), fn.SUM(R.politeness), satisfied, fn.SUM(total * total),
                      fn.SUM(R.verified.cast("integer")))
              .where(R.status == Rating.COUNTED)
              .group_by(R.object, R.month).tuples())
    result = defaultdict(Sums)
    for object_id, month, *values in query.iterator():
        month_sums = _sums(values)
        for key in periods_of_month(month):
            result[(object_id, key)].add(month_sums)
    return result



def _stored(model, key_field):
    columns = [key_field, model.period] + [getattr(model, name) for name in _SUM_FIELDS]
    return {(key, period): _sums(values) for key, period, *values in model.select(*columns).tuples().iterator()}


def stored_aggregates():
    return _stored(ObjectAggregate, ObjectAggregate.object)


def stored_rollup_aggregates():
    return _stored(RollupAggregate, RollupAggregate.organization)


def _rollup_sums_query():
    """(organization, period, Σ…) of the object aggregates over roll-up
    membership."""
    A = ObjectAggregate
    return (A.select(RollupMember.organization, A.period, *_SUM_COLUMNS)
             .join(RollupMember, on=(RollupMember.object == A.object))
             .group_by(RollupMember.organization, A.period))


def rollup_aggregates_from_objects():
    """{(organization_id, period): Sums} summed from the object aggregates."""
    return {(org, period): _sums(values) for org, period, *values in _rollup_sums_query().tuples().iterator()}


def _differences(fresh, stored):
    return sorted(k for k in fresh.keys() | stored.keys() if fresh.get(k) != stored.get(k))


def rebuild_object_aggregates():
    """Replaces the object aggregates by a recomputation from the raw
    ratings; returns the keys whose stored sums differed."""
    with database.atomic():
        fresh = aggregates_from_ratings()
        differences = _differences(fresh, stored_aggregates())
        ObjectAggregate.delete().execute()
        A = ObjectAggregate
        bulk_insert(A, [A.object, A.period] + [getattr(A, name) for name in _SUM_FIELDS],
                    ((o, p, *(getattr(s, name) for name in _SUM_FIELDS)) for (o, p), s in fresh.items()))
        Meta.bump(STRUCTURE)
    return differences


def rebuild_rollup_aggregates():
    """Replaces the organizations' rolled-up aggregates by sums of the
    object aggregates; returns the keys whose stored sums differed."""
    with database.atomic():
        stored = stored_rollup_aggregates()
        RollupAggregate.delete().execute()
        R = RollupAggregate
        R.insert_from(_rollup_sums_query(),
                      fields=[R.organization, R.period] + [getattr(R, name) for name in _SUM_FIELDS]).execute()
        differences = _differences(stored_rollup_aggregates(), stored)
        Meta.bump(STRUCTURE)
    return differences


def rebuild_aggregates():
    """Recomputes every aggregate from the raw ratings. Returns the keys
    whose stored sums differed (missing, extra or unequal), object
    aggregates as ``(object_id, period)`` and rolled-up ones as
    ``("organization", organization_id, period)``, so that a drift never
    passes unnoticed."""
    with database.atomic():
        differences = rebuild_object_aggregates()
        differences += [("organization", org, period) for org, period in rebuild_rollup_aggregates()]
    return differences


# -- roll-up ------------------------------------------------------------------

def rollup_from_structure():
    """{organization id: set of object ids counted in its figures}."""
    own = defaultdict(set)
    for object_id, kind, organization_id in RatableObject.select(
            RatableObject.id, RatableObject.kind, RatableObject.organization).tuples().iterator():
        own[object_id if kind == RatableObject.ORGANIZATION else organization_id].add(object_id)
    registry = defaultdict(set)
    accepted = (RegistryEntry.select(Registry.body, RegistryEntry.organization)
                .join(Registry).where(Registry.state == Registry.ACCEPTED).tuples())
    for body_id, organization_id in accepted:
        registry[body_id].add(organization_id)

    def reachable(org_id):
        seen, stack = {org_id}, [org_id]
        while stack:
            for child in registry.get(stack.pop(), ()):
                if child not in seen:  # a cycle of registries adds nothing new
                    seen.add(child)
                    stack.append(child)
        return seen

    return {org_id: set().union(*(own.get(o, ()) for o in reachable(org_id))) for org_id in list(own)}


def rebuild_rollup_members():
    with database.atomic():
        RollupMember.delete().execute()
        bulk_insert(RollupMember, [RollupMember.organization, RollupMember.object],
                    ((org, obj) for org, objects in rollup_from_structure().items() for obj in objects))
        Meta.bump(STRUCTURE)


def rebuild_rollup():
    """After a change of who counts toward whom (a registry accepted or
    withdrawn): membership, then the rolled-up sums."""
    with database.atomic():
        rebuild_rollup_members()
        rebuild_rollup_aggregates()


def add_to_rollup(obj):
    """Roll-up rows for a newly created object, without a full rebuild:
    a new organization counts toward itself; a new subdivision toward every
    organization its organization already counts toward."""
    if obj.kind == RatableObject.ORGANIZATION:
        RollupMember.insert(organization=obj.id, object=obj.id).on_conflict_ignore().execute()
    else:
        owners = (RollupMember.select(RollupMember.organization, Value(obj.id))
                  .where(RollupMember.object == obj.organization_id))
        RollupMember.insert_from(owners,
                                 fields=[RollupMember.organization, RollupMember.object]).on_conflict_ignore().execute()
    Meta.bump(STRUCTURE)


# -- ranking ------------------------------------------------------------------

class RankEntry(NamedTuple):
    """One listed organization; ``rank`` is None for one listed but not
    ranked (too few ratings). A tuple, not a dataclass: a ranking makes
    thirteen thousand of them and is rebuilt after every rating."""
    id: int
    rank: int | None
    rank_change: int | None
    score: float | None
    n: int
    simplicity: int
    information: int
    timeliness: int
    politeness: int
    satisfied: int
    low: float | None = None  # the score's 95 % interval
    high: float | None = None
    rank_low: int | None = None  # the places the data supports
    rank_high: int | None = None
    significant: bool = False  # the previous rank lies outside rank_low..rank_high

    @property
    def sums(self):
        return Sums(*self[4:10])

    @property
    def interval(self):
        return None if self.low is None else [self.low, self.high]

    @property
    def rank_range(self):
        return None if self.rank_low is None else [self.rank_low, self.rank_high]

    @property
    def wide(self):
        """True when the data supports more than one place."""
        return self.rank_low is not None and self.rank_high > self.rank_low


@dataclass
class RankTable:
    """A group's ranking: ``entries`` holds the ``ranked`` organizations in
    rank order, then those listed but not ranked (fewer than
    ``min_ratings``), in score order; ``by_id`` holds them all. The group's
    mean and σ are over every listed organization's ratings."""
    period: Period
    group_mean: float | None
    entries: list
    by_id: dict
    sigma: float | None = None
    ranked: int = 0
    min_ratings: int = 1
    previous: dict | None = None  # the previous period's by_id, when there is one

    @property
    def ranked_entries(self):
        return self.entries[:self.ranked]

    def clear_change(self, entry):
        """A significant change (SPEC) that also leaves the previous
        period's range of places: this rank lies outside it too. A group
        smaller this period than last puts every previous place beyond its
        size outside this period's ranges, however uncertain that place
        was; the home page's lists ask for both."""
        before = (self.previous or {}).get(entry.id)
        return (entry.significant and before is not None and before.rank_low is not None
                and not before.rank_low <= entry.rank <= before.rank_high)


_cache = OrderedDict()  # least recently used first
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def _newest():
    """(newest rating id, its month, structure version); asked once per
    request, since a page may look up several rankings."""
    memo = request.environ if has_request_context() else {}
    if "ocenka.ranking_newest" not in memo:
        newest = Rating.select(Rating.id, Rating.month).order_by(Rating.id.desc()).limit(1).tuples().first()
        memo["ocenka.ranking_newest"] = (*(newest or (0, 0)), Meta.get_value(STRUCTURE))
    return memo["ocenka.ranking_newest"]


def _data_version(period=None):
    """A stamp that changes whenever the ranking of ``period`` may change:
    when the structure changes, and when a rating arrives, unless the
    period ended before the newest rating's month. Ratings are never
    deleted and always arrive in the current month, so a closed period
    stays cached while new ratings come in."""
    newest_id, newest_month, structure = _newest()
    last_month = period.last_month if period is not None else None
    if last_month is not None and last_month < newest_month:
        newest_id = "closed"
    return id(database.obj), newest_id, structure


def _ranked_sums(period, sphere_id=None, region_id=None):
    """[(organization id, n, Σ simplicity, Σ information, Σ timeliness,
    Σ politeness, satisfied, squares)] of the listed organizations of a
    group."""
    Org = RatableObject.alias("org")
    A = RollupAggregate
    query = (A.select(A.organization, A.n, A.simplicity, A.information, A.timeliness, A.politeness, A.satisfied,
                      A.squares)
              .join(Org, on=(Org.id == A.organization))
              .where((A.period == period.key) & (A.n > 0) & (Org.published == True)
                     & (Org.is_evaluation_object == True)))
    if region_id is not None:
        query = query.where(Org.region == region_id)
    if sphere_id is not None:
        query = query.where(Org.id.in_(ObjectSphere.select(ObjectSphere.object).where(ObjectSphere.sphere == sphere_id)))
    # Plain integers straight from the driver: converting 13,000 rows
    # through the model layer costs more than the query.
    return database.execute_sql(*query.sql()).fetchall()


def build_table(period, rows, previous=None, min_ratings=1):
    """The ranking of a group from its rows (``_ranked_sums``' tuples);
    ``previous`` is the previous period's ``by_id``, for the changes.

    This runs for thirteen thousand organizations after every rating, so
    the rules are inlined (``bayesian_mean``, ``half_width``), rows sort as
    plain tuples ``(−score, −n, id, …)`` with no key function, and entries
    are made without ``NamedTuple``'s checks."""
    def column(index):  # summed in C, not in a Python loop
        return sum(map(itemgetter(index), rows))
    n_total, squares = column(1), column(7)
    total = column(2) + column(3) + column(4) + column(5)
    group_mean = total / len(BASE_CRITERIA) / n_total if n_total else None
    sigma = spread(n_total, total, squares)
    prior, z_sigma, criteria = PRIOR_WEIGHT * (group_mean or 0.0), Z_95 * (sigma or 0.0), len(BASE_CRITERIA)
    scored = [(-(prior + (s + i + t + p) / criteria) / (PRIOR_WEIGHT + n), -n, org_id, s, i, t, p, sat)
              for org_id, n, s, i, t, p, sat, _ in rows]
    scored.sort()
    # By n: a few hundred distinct counts among thousands of organizations.
    halves = {n: z_sigma / math.sqrt(PRIOR_WEIGHT + n) for n in set(map(itemgetter(1), rows))}
    ranked = [row for row in scored if -row[1] >= min_ratings]
    lows = [-row[0] - halves[-row[1]] for row in ranked]
    highs = [-row[0] + halves[-row[1]] for row in ranked]
    entries, by_id = [], {}
    previous = previous or {}
    make = tuple.__new__
    for position, (row, low, high, rank_low, rank_high) in enumerate(
            zip(ranked, lows, highs, *rank_ranges(lows, highs)), start=1):
        score, n, org_id, s, i, t, p, sat = row
        before = previous.get(org_id)
        before = before.rank if before is not None else None
        change = None if before is None else before - position
        significant = change is not None and not rank_low <= before <= rank_high
        entry = make(RankEntry, (org_id, position, change, -score, -n, s, i, t, p, sat, low, high,
                                 rank_low, rank_high, significant))
        entries.append(entry)
        by_id[org_id] = entry
    for score, n, org_id, s, i, t, p, sat in scored:
        if -n < min_ratings:
            half = halves[-n]
            entry = make(RankEntry, (org_id, None, None, -score, -n, s, i, t, p, sat, -score - half, -score + half,
                                     None, None, False))
            entries.append(entry)
            by_id[org_id] = entry
    return RankTable(period, group_mean, entries, by_id, sigma, len(ranked), min_ratings, previous or None)


def _build_table(period, sphere_id, region_id, previous, min_ratings):
    return build_table(period, _ranked_sums(period, sphere_id, region_id), previous, min_ratings)


def _cached(key, version, build):
    with _cache_lock:
        cached = _cache.get(key)
        if cached:
            _cache.move_to_end(key)
    if cached and cached[0] == version:
        return cached[1]
    table = build()
    with _cache_lock:
        _cache[key] = (version, table)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return table


def min_ratings():
    """``OCENKA_MIN_RATINGS`` of the running app; the default outside one."""
    return current_app.config.get("MIN_RATINGS", MIN_RATINGS) if has_app_context() else MIN_RATINGS


def rank_table(period, sphere_id=None, region_id=None):
    """The full ranking of a group for a period, with position changes,
    cached until it may change (see ``_data_version``)."""
    previous = period.previous()
    least = min_ratings()

    def build():
        previous_ranks = {}
        if previous is not None:
            previous_ranks = _cached((previous.key, sphere_id, region_id, least, "ranks"), _data_version(previous),
                                     lambda: _build_table(previous, sphere_id, region_id, None, least)).by_id
        return _build_table(period, sphere_id, region_id, previous_ranks, least)

    return _cached((period.key, sphere_id, region_id, least, "full"), _data_version(period), build)


def clear_cache():
    with _cache_lock:
        _cache.clear()


def ranking_row(entry, name):
    sums = entry.sums
    n = sums.n
    return {
        "id": entry.id, "name": name, "rank": entry.rank, "rank_range": entry.rank_range,
        "rank_change": entry.rank_change, "rank_change_significant": entry.significant,
        "score": entry.score, "interval": entry.interval, "n": n,
        "overall": sums.overall_sum / n,
        "criteria": {c: getattr(sums, c) / n for c in BASE_CRITERIA},
        "satisfaction": 100.0 * sums.satisfied / n,
    }


def totals():
    """Σ over every rating of every published object, all time."""
    A = ObjectAggregate
    query = (A.select(*_SUM_COLUMNS).join(RatableObject, on=(RatableObject.id == A.object))
              .where((A.period == "all") & (RatableObject.published == True)))
    return _sums(query.tuples().get())
