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
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from flask import has_request_context, request
from peewee import Value, fn

from service.db import bulk_insert, database, run
from service.models import (
    BASE_CRITERIA, Meta, ObjectAggregate, ObjectSphere, RatableObject, Rating,
    Registry, RegistryEntry, RollupAggregate, RollupMember,
)

PRIOR_WEIGHT = 10
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


def figures(sums, period, group_mean=None, rank=None, rank_change=None):
    """The figures of one object as the API gives them, unrounded."""
    n = sums.n
    return {
        "period": period.key,
        "n": n,
        "overall": sums.overall_sum / n if n else None,
        "criteria": {c: (getattr(sums, c) / n if n else None) for c in BASE_CRITERIA},
        "satisfaction": 100.0 * sums.satisfied / n if n else None,
        "score": ranking_score(sums, group_mean),
        "rank": rank,
        "rank_change": rank_change,
    }


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
    table = rank_table(period)
    entry = table.by_id.get(obj.id)
    rank = rank_change = None
    if entry is not None:
        rank = entry.rank
        rank_change = entry.rank_change
    return figures(object_sums(obj, period), period, table.group_mean, rank, rank_change)


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
    """One ranked organization. A tuple, not a dataclass: a ranking makes
    thirteen thousand of them and is rebuilt after every rating."""
    id: int
    rank: int
    rank_change: int | None
    score: float
    n: int
    simplicity: int
    information: int
    timeliness: int
    politeness: int
    satisfied: int

    @property
    def sums(self):
        return Sums(*self[4:])


@dataclass
class RankTable:
    period: Period
    group_mean: float | None
    entries: list
    by_id: dict


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
    Σ politeness, satisfied)] of the ranked organizations of a group."""
    Org = RatableObject.alias("org")
    A = RollupAggregate
    query = (A.select(A.organization, A.n, A.simplicity, A.information, A.timeliness, A.politeness, A.satisfied)
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


def _build_table(period, sphere_id, region_id, previous_ranks):
    rows = _ranked_sums(period, sphere_id, region_id)
    n_total = sum(row[1] for row in rows)
    total = sum(row[2] + row[3] + row[4] + row[5] for row in rows)
    group_mean = total / len(BASE_CRITERIA) / n_total if n_total else None
    scored = [(bayesian_mean((s + i + t + p) / len(BASE_CRITERIA), n, group_mean), n, org_id, s, i, t, p, sat)
              for org_id, n, s, i, t, p, sat in rows]
    scored.sort(key=lambda row: (-row[0], -row[1], row[2]))
    entries, by_id = [], {}
    previous_ranks = previous_ranks or {}
    for position, (score, n, org_id, s, i, t, p, sat) in enumerate(scored, start=1):
        before = previous_ranks.get(org_id)
        entry = RankEntry(org_id, position, (before.rank - position) if before else None, score, n, s, i, t, p, sat)
        entries.append(entry)
        by_id[org_id] = entry
    return RankTable(period, group_mean, entries, by_id)


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


def rank_table(period, sphere_id=None, region_id=None):
    """The full ranking of a group for a period, with position changes,
    cached until it may change (see ``_data_version``)."""
    previous = period.previous()

    def build():
        previous_ranks = {}
        if previous is not None:
            previous_ranks = _cached((previous.key, sphere_id, region_id, "ranks"), _data_version(previous),
                                     lambda: _build_table(previous, sphere_id, region_id, None)).by_id
        return _build_table(period, sphere_id, region_id, previous_ranks)

    return _cached((period.key, sphere_id, region_id, "full"), _data_version(period), build)


def clear_cache():
    with _cache_lock:
        _cache.clear()


def ranking_row(entry, name):
    sums = entry.sums
    n = sums.n
    return {
        "id": entry.id, "name": name, "rank": entry.rank, "rank_change": entry.rank_change,
        "score": entry.score, "n": n,
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
