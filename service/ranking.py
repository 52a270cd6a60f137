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

Figures are kept as integer sums per object and period (``ObjectAggregate``,
and per object, service and period in ``ServiceAggregate`` for the ratings
that name a service) and updated in the same transaction as each rating,
so reading them never rescans the ratings; ``rebuild_aggregates`` recomputes them from the raw
ratings and says what differed.
"""
import json
import logging
import math
import re
import threading
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from flask import current_app, has_app_context, has_request_context, request
from peewee import DatabaseError, Value, fn

from service import allocator
from service.db import (DatabaseBusy, bulk_insert, database, fetch_in_chunks, is_sqlite, run, take_group_turn,
                        write_transaction)
from service.models import (
    BASE_CRITERIA, Meta, ObjectAggregate, ObjectSphere, RankingSnapshot, RatableObject, Rating,
    Registry, RegistryEntry, RollupAggregate, RollupMember, ServiceAggregate,
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
    group_mean, sigma, entry = rank_place(period, obj.id)
    sums = object_sums(obj, period)
    if entry is None or entry.rank is None:
        return figures(sums, period, group_mean, sigma=sigma)
    return figures(sums, period, group_mean, entry.rank, entry.rank_change, sigma, entry.rank_range,
                   entry.significant)


# -- writing ------------------------------------------------------------------

_SUMS = ("simplicity", "information", "timeliness", "politeness", "satisfied", "squares", "verified")


def _on_conflict_add(table, key):
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ("n", *_SUMS))
    return f"ON CONFLICT ({key}, period) DO UPDATE SET {updates}"


def _upsert_sql(table, key, rows):
    """One statement adding ``rows`` rows of sums (a count and the sums of
    one or more ratings) to ``table``'s rows keyed by ``key`` (its key
    columns but the period, comma-separated)."""
    keys = "?, " * (key.count(",") + 1)
    values = ", ".join([f"({keys}?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return (f"INSERT INTO {table} ({key}, period, n, {', '.join(_SUMS)}) VALUES {values} "
            f"{_on_conflict_add(table, key)}")


def _rollup_upsert_sql(rows):
    """The sums of ``rows`` (object, period) keys added to every
    organization each object rolls up into, summed per organization and
    period in the statement itself (one row may be updated once only)."""
    columns = ("object_id", "period", "n", *_SUMS)
    values = ", ".join([f"({', '.join('?' * len(columns))})"] * rows)
    sums = ", ".join(f"SUM(batch.{c})" for c in ("n", *_SUMS))
    # WHERE true: SQLite would read the ON CONFLICT of an INSERT ... SELECT
    # with a join as the join's constraint.
    return (f"WITH batch ({', '.join(columns)}) AS (VALUES {values}) "
            f"INSERT INTO rollup_aggregate (organization_id, period, n, {', '.join(_SUMS)}) "
            f"SELECT member.organization_id, batch.period, {sums} FROM batch "
            "JOIN rollup_member AS member ON member.object_id = batch.object_id "
            "WHERE true GROUP BY member.organization_id, batch.period "
            f"{_on_conflict_add('rollup_aggregate', 'organization_id')}")


def add_to_aggregates(ratings):
    """Counts ratings, each ``(object_id, month, scores, verified,
    service)``, in their objects' five periods, in those of every
    organization each rolls up into and, for one that names a service, in
    its object's sums for that service; call inside the ratings' own
    transaction. Their sums are added up per row first, then written in
    one statement per table (a batch of ratings committed together, or a
    cluster of held ones released), so that the round trips to the
    database do not grow with their number. Plain SQL: this runs for
    every rating."""
    objects, services = defaultdict(lambda: [0] * 8), defaultdict(lambda: [0] * 8)
    for object_id, month, scores, verified, service in ratings:
        total = sum(scores[c] for c in BASE_CRITERIA)
        values = (1, scores["simplicity"], scores["information"], scores["timeliness"], scores["politeness"],
                  1 if is_satisfied(scores) else 0, total * total, 1 if verified else 0)
        for period in periods_of_month(month):
            targets = [objects[(object_id, period)]]
            if service is not None:
                targets.append(services[(object_id, service, period)])
            for sums in targets:
                for k, value in enumerate(values):
                    sums[k] += value
    for table, key, rows in (("object_aggregate", "object_id", objects),
                             ("service_aggregate", "object_id, service_id", services)):
        items = sorted(rows.items())  # one order of locks for every batch
        for start in range(0, len(items), _UPSERT_PAGE):
            page = items[start:start + _UPSERT_PAGE]
            run(_upsert_sql(table, key, len(page)), [v for keys, sums in page for v in (*keys, *sums)])
    items = sorted(objects.items())
    for start in range(0, len(items), _UPSERT_PAGE):
        page = items[start:start + _UPSERT_PAGE]
        run(_rollup_upsert_sql(len(page)), [v for keys, sums in page for v in (*keys, *sums)])


# Rows per statement: far under SQLite's 32,766 parameters (ten or eleven each).
_UPSERT_PAGE = 500


def aggregates_from_ratings(keys=(Rating.object,), where=None):
    """{(object_id, period): Sums} recomputed from the raw counted ratings:
    one grouped scan per object and month, then rolled up to longer
    periods. ``keys`` and ``where`` group and choose otherwise (the
    service aggregates: by object and service, ratings naming one)."""
    R = Rating
    total = R.simplicity + R.information + R.timeliness + R.politeness
    satisfied = fn.SUM((total >= SATISFIED_TOTAL).cast("integer"))
    condition = R.status == Rating.COUNTED
    if where is not None:
        condition &= where
    query = (R.select(*keys, R.month, fn.COUNT(R.id), fn.SUM(R.simplicity), fn.SUM(R.information),
                      fn.SUM(R.timeliness), fn.SUM(R.politeness), satisfied, fn.SUM(total * total),
                      fn.SUM(R.verified.cast("integer")))
              .where(condition)
              .group_by(*keys, R.month).tuples())
    result = defaultdict(Sums)
    width = len(keys)
    for row in query.iterator():
        key, month, month_sums = row[:width], row[width], _sums(row[width + 1:])
        for period in periods_of_month(month):
            result[(*key, period)].add(month_sums)
    return result


def service_aggregates_from_ratings():
    """{(object_id, service_id, period): Sums} of the counted ratings that
    name a service, recomputed from the raw ratings."""
    return aggregates_from_ratings((Rating.object, Rating.service), Rating.service.is_null(False))



def _stored(model, *key_fields):
    columns = [*key_fields, model.period] + [getattr(model, name) for name in _SUM_FIELDS]
    width = len(key_fields) + 1
    return {tuple(row[:width]): _sums(row[width:]) for row in model.select(*columns).tuples().iterator()}


def stored_aggregates():
    return _stored(ObjectAggregate, ObjectAggregate.object)


def stored_rollup_aggregates():
    return _stored(RollupAggregate, RollupAggregate.organization)


def stored_service_aggregates():
    return _stored(ServiceAggregate, ServiceAggregate.object, ServiceAggregate.service)


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


def _replace_aggregates(model, key_fields, fresh):
    """Empties ``model`` and writes ``fresh`` ({key tuple: Sums}) into it,
    each key's parts into ``key_fields``."""
    model.delete().execute()
    bulk_insert(model, key_fields + [getattr(model, name) for name in _SUM_FIELDS],
                ((*key, *(getattr(sums, name) for name in _SUM_FIELDS)) for key, sums in fresh.items()))


def rebuild_object_aggregates():
    """Replaces the object aggregates by a recomputation from the raw
    ratings; returns the keys whose stored sums differed."""
    with database.atomic():
        fresh = aggregates_from_ratings()
        differences = _differences(fresh, stored_aggregates())
        _replace_aggregates(ObjectAggregate, [ObjectAggregate.object, ObjectAggregate.period], fresh)
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


def insert_aggregates_from_ratings(table, keys, where=""):
    """Fills the empty aggregate ``table`` from the counted ratings,
    grouped by the rating columns ``keys`` (its key columns but the
    period), summed by the database: what the ``…_from_ratings`` functions
    compute, without moving millions of rows through Python (the demo at
    ten times the real portal, an upgrade of a large database). ``where``
    adds a condition on the ratings ``r``."""
    months = [m for m, in database.execute_sql("SELECT DISTINCT month FROM rating").fetchall()]
    # A rating's month maps to its five periods through a small table of
    # the months present.
    database.execute_sql("CREATE TEMPORARY TABLE aggregate_period (month INTEGER, period VARCHAR(8))")
    placeholder = "?" if is_sqlite() else "%s"
    database.cursor().executemany(f"INSERT INTO aggregate_period (month, period) VALUES ({placeholder}, "
                                  f"{placeholder})", [(m, key) for m in months for key in periods_of_month(m)])
    total = "(r.simplicity + r.information + r.timeliness + r.politeness)"
    sums = ("n", "simplicity", "information", "timeliness", "politeness", "satisfied", "squares", "verified")
    grouped = ", ".join(f"r.{k}" for k in keys)
    outer = ", ".join(f"m.{k}" for k in keys)
    # Summed per key and month first (each rating once), then the months'
    # sums into their five periods: a fifth of the rows to group.
    database.execute_sql(
        f"INSERT INTO {table} ({', '.join(keys)}, period, {', '.join(sums)}) "
        f"SELECT {outer}, p.period, {', '.join(f'SUM(m.{c})' for c in sums)} FROM ("
        f"SELECT {grouped}, r.month, COUNT(*) AS n, SUM(r.simplicity) AS simplicity, "
        "SUM(r.information) AS information, SUM(r.timeliness) AS timeliness, SUM(r.politeness) AS politeness, "
        f"SUM(CASE WHEN {total} >= {SATISFIED_TOTAL} THEN 1 ELSE 0 END) AS satisfied, "
        f"SUM({total} * {total}) AS squares, SUM(CASE WHEN r.verified THEN 1 ELSE 0 END) AS verified "
        f"FROM rating r WHERE r.status = '{Rating.COUNTED}' {where} GROUP BY {grouped}, r.month"
        f") m JOIN aggregate_period p ON p.month = m.month GROUP BY {outer}, p.period")
    database.execute_sql("DROP TABLE aggregate_period")


def rebuild_service_aggregates():
    """Replaces the service aggregates by a recomputation from the raw
    ratings; returns the keys whose stored sums differed."""
    with database.atomic():
        fresh = service_aggregates_from_ratings()
        differences = _differences(fresh, stored_service_aggregates())
        A = ServiceAggregate
        _replace_aggregates(A, [A.object, A.service, A.period], fresh)
    return differences


def rebuild_aggregates():
    """Recomputes every aggregate from the raw ratings. Returns the keys
    whose stored sums differed (missing, extra or unequal), object
    aggregates as ``(object_id, period)``, rolled-up ones as
    ``("organization", organization_id, period)`` and those of a service
    as ``("service", object_id, service_id, period)``, so that a drift
    never passes unnoticed."""
    with database.atomic():
        differences = rebuild_object_aggregates()
        differences += [("organization", org, period) for org, period in rebuild_rollup_aggregates()]
        differences += [("service", *key) for key in rebuild_service_aggregates()]
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
        take_group_turn()
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


class RankTable:
    """A group's ranking: ``entries`` holds the ``ranked`` organizations in
    rank order, then those listed but not ranked (fewer than
    ``min_ratings``), in score order; ``by_id`` holds them all. The group's
    mean and σ are over every listed organization's ratings.

    A table keeps only what a sort decides: the listing order (positions in
    the group's rows, which it shares with the cache and never changes),
    each ranked organization's range of places and, with a previous
    period, its previous rank. A score, an interval or a change is computed
    again, by the same operations, when its ``RankEntry`` is asked for: a
    page or the API reads a hundred rows of a hundred thousand, and a
    table's memory is what bounds how many a worker keeps. A table never
    changes once made."""

    def __init__(self, period, group_mean, sigma, ranked, min_ratings, data, order, before=None, previous=None,
                 base=None):
        self.period = period
        self.group_mean = group_mean
        self.sigma = sigma
        self.ranked = ranked
        self.min_ratings = min_ratings
        self.data = data  # rows sorted by organization id
        self.order = order  # listing position → row
        self.before = before  # previous rank of the ranked, 0 for none; None without a previous period
        self.previous = previous  # the previous period's by_id, when there is one
        if base is None:
            self.position = np.empty(len(order), dtype=np.int32)  # row → listing position
            self.position[order] = np.arange(len(order), dtype=np.int32)
            self._ranges = []  # [(first places, last places)] once asked for
        else:
            self.position, self._ranges = base.position, base._ranges

    # Views made when asked for, not kept: a table holding a view that
    # holds the table would be a cycle, freed only by the garbage
    # collector, and a worker piled up hundreds of MB of dropped tables.
    @property
    def entries(self):
        return _Entries(self)

    @property
    def by_id(self):
        return _ById(self)

    @property
    def earlier(self):
        """The previous period's table the changes were counted against."""
        return self.previous._table if isinstance(self.previous, _ById) else None

    @property
    def rank_low(self):
        """The first place the data supports, of each ranked organization
        in rank order."""
        return self._range_columns()[0]

    @property
    def rank_high(self):
        return self._range_columns()[1]

    def _range_columns(self):
        # Made when first asked for: the previous period's table, read only
        # for its ranks, never needs them, and they take two sorts.
        if not self._ranges:
            with _building:
                if not self._ranges:
                    rows = self.data[self.order[:self.ranked]]
                    scores, halves = _scored(rows, self.group_mean, self.sigma)
                    first, last = rank_ranges(scores - halves, scores + halves)
                    self._ranges[:] = [(first.astype(np.int32), last.astype(np.int32))]
        return self._ranges[0]

    @property
    def nbytes(self):
        """Memory of this table's own arrays (not the shared rows)."""
        arrays = [self.order, self.position, *(self._ranges[0] if self._ranges else ())]
        return sum(a.nbytes for a in arrays) + (0 if self.before is None else self.before.nbytes)

    def with_previous(self, previous):
        """The same table with the changes against ``previous`` (a
        previous period's ``by_id``): only the previous ranks are new."""
        before = _previous_ranks(previous, self.data[self.order[:self.ranked], 0]).astype(np.int32)
        return RankTable(self.period, self.group_mean, self.sigma, self.ranked, self.min_ratings, self.data,
                         self.order, before, previous, base=self)

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

    def most_improved(self, count):
        """The ``count`` largest rises that are ``clear_change``s, then by
        rank: what the home page lists, chosen column by column instead of
        making an entry for every ranked organization."""
        if self.before is None or not self.ranked:
            return []
        rank = np.arange(1, self.ranked + 1)
        before = self.before.astype(np.int64)
        change = before - rank
        chosen = (before > 0) & (change > 0) & ((before < self.rank_low) | (before > self.rank_high))
        earlier = self.previous._table  # a previous rank came from the previous period's table
        ids = self.data[self.order[:self.ranked], 0]
        k = np.minimum(np.searchsorted(earlier.data[:, 0], ids), max(len(earlier.data) - 1, 0))
        at = np.minimum(earlier.position[k] if len(earlier.data) else np.zeros_like(k), max(earlier.ranked - 1, 0))
        if earlier.ranked:
            chosen &= ~((earlier.rank_low[at] <= rank) & (rank <= earlier.rank_high[at]))
        picked = np.flatnonzero(chosen)
        picked = picked[np.lexsort((rank[picked], -change[picked]))][:count]
        return [self.entries[int(i)] for i in picked]


def _scored(data, group_mean, sigma):
    """Scores and half-widths of the rows ``data``: ``bayesian_mean`` and
    ``half_width`` column by column, the same operations in the same order,
    so each value is the plain formula's to the last bit."""
    n = data[:, 1].astype(np.int64)
    totals = _row_totals(data)
    prior, z_sigma = PRIOR_WEIGHT * (group_mean or 0.0), Z_95 * (sigma or 0.0)
    scores = (prior + totals / len(BASE_CRITERIA)) / (PRIOR_WEIGHT + n)
    halves = z_sigma / np.sqrt((PRIOR_WEIGHT + n).astype(np.float64))
    return scores, halves


def _row_totals(data):
    """Each row's sum of the four criteria, in int64 (exact). Added column
    by column: numpy's sum along a row of four is several times slower
    (2.7 ms against 0.35 for all organizations at ten times the real
    portal), and it runs on every ranking and every object's place."""
    return data[:, 2].astype(np.int64) + data[:, 3] + data[:, 4] + data[:, 5]


def _group_spread(data):
    """The group's mean and σ from its rows (integer sums, so exact)."""
    n_total = int(data[:, 1].sum(dtype=np.int64))
    total = int(_row_totals(data).sum())
    squares = int(data[:, 7].sum(dtype=np.int64))
    group_mean = total / len(BASE_CRITERIA) / n_total if n_total else None
    return group_mean, spread(n_total, total, squares)


class _Entries(Sequence):
    """A table's rows as ``RankEntry`` tuples, made on demand."""

    def __init__(self, table):
        self._table = table
        self._count = len(table.order)

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._make(range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._make(range(index, index + 1))[0]

    def __iter__(self):
        return iter(self._make(range(self._count)))

    def _make(self, positions):
        if not positions:
            return []
        t = self._table
        start, stop = positions.start, positions.stop
        rows = t.data[t.order[start:stop]]
        scores, halves = _scored(rows, t.group_mean, t.sigma)
        ranked = max(0, min(stop, t.ranked) - start)  # how many of these are ranked
        ranks = list(range(start + 1, start + ranked + 1)) + [None] * (stop - start - ranked)
        lows = highs = [None] * (stop - start)
        if ranked:
            lows = t.rank_low[start:start + ranked].tolist() + lows[ranked:]
            highs = t.rank_high[start:start + ranked].tolist() + highs[ranked:]
        if t.before is None:
            befores = [0] * (stop - start)
        else:
            befores = t.before[start:start + ranked].tolist() + [0] * (stop - start - ranked)
        make = tuple.__new__
        entries = []
        for (org_id, n, s, i, t_, p, sat, _), score, low, high, rank, rank_low, rank_high, before in zip(
                rows.tolist(), scores.tolist(), (scores - halves).tolist(), (scores + halves).tolist(), ranks,
                lows, highs, befores):
            change = before - rank if before else None
            significant = bool(before) and not rank_low <= before <= rank_high
            entries.append(make(RankEntry, (org_id, rank, change, score, n, s, i, t_, p, sat, low, high, rank_low,
                                            rank_high, significant)))
        return entries


class _ById(Mapping):
    """A table's rows by organization id, found by bisection in the rows'
    sorted ids (no dict of a hundred thousand entries per table)."""

    def __init__(self, table):
        self._table = table
        self._ids = table.data[:, 0]

    def _position(self, org_id):
        if not isinstance(org_id, (int, np.integer)) or isinstance(org_id, bool):
            return None
        k = int(np.searchsorted(self._ids, org_id))
        if k < len(self._ids) and self._ids[k] == org_id:
            return int(self._table.position[k])
        return None

    def __getitem__(self, org_id):
        position = self._position(org_id)
        if position is None:
            raise KeyError(org_id)
        return self._table.entries[position]

    def __contains__(self, org_id):
        return self._position(org_id) is not None

    def __iter__(self):
        return iter(self._ids.tolist())

    def __len__(self):
        return len(self._ids)

    def ranks_for(self, ids):
        """The rank of each of ``ids`` here (an array), 0 where it has none."""
        if not len(self._ids):
            return np.zeros(len(ids), dtype=np.int64)
        k = np.searchsorted(self._ids, ids)
        found = k < len(self._ids)
        k[~found] = 0
        found &= self._ids[k] == ids
        rank = self._table.position[k].astype(np.int64) + 1
        return np.where(found & (rank <= self._table.ranked), rank, 0)


def rank_ranges(lows, highs):
    """For the ``lows[i]``–``highs[i]`` intervals of a ranked group (numpy
    arrays), the places the data supports, as an array of first and an
    array of last places: ``1 + the number of others whose interval lies
    wholly above this one's (their low > this high)`` and ``the number of
    others whose interval reaches this one's lower end (their high ≥ this
    low) + 1``. Counted by bisection in the sorted ends, not by comparing
    every pair: a group may hold a hundred thousand organizations. An
    interval never lies above itself and always reaches its own low, hence
    the arithmetic."""
    count = len(lows)
    not_above = np.searchsorted(np.sort(lows), highs, side="right")  # lows ≤ this high
    short_of = np.searchsorted(np.sort(highs), lows, side="left")  # highs < this low
    return 1 + count - not_above, count - short_of


_ROW_COLUMNS = ("id", "n", "simplicity", "information", "timeliness", "politeness", "satisfied", "squares")


def _narrowed(data):
    """``data`` as int32 when every value fits (the usual case): half the
    memory of a cached group. Sums over rows are taken in int64."""
    if data.dtype != np.int32 and (not len(data) or (data.min() >= _INT32.min and data.max() <= _INT32.max)):
        return data.astype(np.int32)
    return data


_INT32 = np.iinfo(np.int32)


def _as_rows(rows):
    """``_ranked_sums``' tuples (or an array of them) as an integer array
    of eight columns sorted by organization id, without organizations
    that have no ratings: the array itself when it already is one (a table
    knows its rows by identity)."""
    data = rows
    if not (isinstance(rows, np.ndarray) and rows.dtype in _PACKED and rows.shape[1:] == (len(_ROW_COLUMNS),)):
        data = _narrowed(np.asarray(rows, dtype=np.int64).reshape(-1, len(_ROW_COLUMNS)))
    if not (data[:, 1] > 0).all():
        data = data[data[:, 1] > 0]
    if len(data) > 1 and not (data[1:, 0] > data[:-1, 0]).all():
        data = data[np.argsort(data[:, 0], kind="stable")]
    return data


def build_table(period, rows, previous=None, min_ratings=1):
    """The ranking of a group from its rows (``_ranked_sums``' tuples, or
    an array of them); ``previous`` is the previous period's ``by_id``, for
    the changes.

    Column by column in numpy, each value by the same floating-point
    operations in the same order as the rules state them (``bayesian_mean``,
    ``half_width``), so that every score, interval and place is the one the
    plain formulas give, to the last bit (tests/test_rank_cache.py compares
    them with a plain Python computation)."""
    data = _as_rows(rows)
    group_mean, sigma = _group_spread(data)
    n = data[:, 1]
    scores, halves = _scored(data, group_mean, sigma)
    # By score, highest first; equal scores by more ratings, then lower id:
    # the rows are in id order and the sort is stable.
    order = np.lexsort((-n, -scores))
    ranked_mask = n[order] >= min_ratings
    ranked_order, unranked_order = order[ranked_mask], order[~ranked_mask]
    order = np.concatenate((ranked_order, unranked_order)).astype(np.int32)
    table = RankTable(period, group_mean, sigma, len(ranked_order), min_ratings, data, order)
    return table.with_previous(previous) if previous else table


def _previous_ranks(previous, ids):
    if isinstance(previous, _ById):
        return previous.ranks_for(ids)
    return np.array([(getattr(previous.get(org_id), "rank", None) or 0) for org_id in ids.tolist()], dtype=np.int64)


def one_entry(period, data, org_id, previous=None, min_ratings=1):
    """(group mean, σ, ``RankEntry`` or None) of one organization in the
    group of rows ``data``: what ``build_table`` would give for it, without
    sorting the group. Its rank counts the ranked rows that sort before
    it, its range the intervals above it and reaching it, all by the same
    operations, so the figures are the table's to the last bit; the cost
    is a few passes over the columns, not a sort."""
    return _place(_as_rows(data), org_id, previous, min_ratings)


def _place(data, org_id, previous, min_ratings, spread=None):
    """``one_entry`` for rows already sorted by id; ``spread`` is the
    group's (mean, σ) when the caller keeps it for these rows."""
    group_mean, sigma = spread or _group_spread(data)
    ids = data[:, 0]
    k = int(np.searchsorted(ids, org_id))
    if k >= len(ids) or ids[k] != org_id:
        return group_mean, sigma, None
    n = data[:, 1]
    scores, halves = _scored(data, group_mean, sigma)
    org_id_, n_k, s, i, t, p, sat, _ = data[k].tolist()
    score, half = scores[k], halves[k]
    low, high = score - half, score + half
    if n_k < min_ratings:
        return group_mean, sigma, RankEntry(org_id_, None, None, float(score), n_k, s, i, t, p, sat, float(low),
                                            float(high))
    ranked = n >= min_ratings
    rank = 1 + int(np.count_nonzero(ranked & (scores > score)))
    tied = np.flatnonzero(ranked & (scores == score))  # itself, and rarely others
    if len(tied) > 1:
        rank += int(np.count_nonzero((n[tied] > n_k) | ((n[tied] == n_k) & (ids[tied] < org_id_))))
    rank_low = 1 + int(np.count_nonzero(ranked & (scores - halves > high)))
    rank_high = int(np.count_nonzero(ranked & (scores + halves >= low)))
    before = int(_previous_ranks(previous, ids[k:k + 1])[0]) if previous else 0
    change = before - rank if before else None
    significant = bool(before) and not rank_low <= before <= rank_high
    return group_mean, sigma, RankEntry(org_id_, rank, change, float(score), n_k, s, i, t, p, sat, float(low),
                                        float(high), rank_low, rank_high, significant)


def _ranked_sums(period, sphere_id=None, region_id=None, only=None):
    """The rows (organization id, n, Σ simplicity, Σ information,
    Σ timeliness, Σ politeness, satisfied, squares) of the listed
    organizations of a group, as an integer array; ``only`` limits them to
    the given organization ids."""
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
    if only is not None:
        query = query.where(A.organization.in_(list(only)))
    # Plain integers straight from the driver (converting a hundred
    # thousand rows through the model layer costs more than the query),
    # a few thousand at a time into an array: all of a large group's rows
    # as Python tuples at once took about 40 MB, which a worker's threads
    # could each hold at the same time, and left the memory fragmented.
    if only is None:
        chunks = fetch_in_chunks(*query.sql(), size=_FETCH_ROWS)
    else:
        # A few organizations after a rating: one round trip, where a
        # server-side cursor would take five.
        chunks = [database.execute_sql(*query.sql()).fetchall()]
    parts = [_narrowed(np.array(chunk, dtype=np.int64)) for chunk in chunks if chunk]
    if not parts:
        return np.empty((0, len(_ROW_COLUMNS)), dtype=np.int32)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


_FETCH_ROWS = 5000


# -- keeping rankings exact across workers ---------------------------------------
#
# Every change to the aggregates is either a rating or a change of a
# rating's status, each written with an entry of the ratings ledger in its
# own transaction under the ledger's locked head, so the head's ``seq``
# counts them in commit order; anything else that changes figures (the
# roll-up, publication, a rebuild) bumps the structure version. A worker
# reads both in one query per request. When only the seq moved, it reads
# the new ledger entries (object and month) once, and each cached ranking
# whose period holds one of those months re-reads the rows of just the
# organizations those objects roll up into and is recomputed from its
# rows in memory; a ranking no new entry touches (a closed period) stays
# as it is. So every worker, and every server on one database, answers
# from the same committed data, without recomputing from scratch.

_VERSIONS_SQL = "SELECT (SELECT seq FROM ledger_head WHERE id = 1), (SELECT value FROM meta WHERE key = ?)"
_ENTRIES_SQL = "SELECT seq, body FROM ledger_entry WHERE seq > ? AND seq <= ? ORDER BY seq"
_OWNERS_OF = "SELECT DISTINCT organization_id FROM rollup_member WHERE object_id IN ({})"
_LOG_READ = 2000  # more new entries than this at once: recompute from scratch
_LOG_KEEP = 20_000  # entries kept for rankings that catch up later
_REFRESH_MOST = 400  # more changed objects than this: reload the whole group
_CACHE_BYTES = 48 << 20  # rows and tables of every cached ranking together, a worker


def _versions():
    """(structure stamp, ledger seq); asked once per request, since a page
    may look up several rankings."""
    memo = request.environ if has_request_context() else {}
    if "ocenka.ranking_versions" not in memo:
        seq, structure = run(_VERSIONS_SQL, (STRUCTURE,)).fetchone()
        memo["ocenka.ranking_versions"] = ((id(database.obj), int(structure or 0)), int(seq or 0))
    return memo["ocenka.ranking_versions"]


def data_stamp():
    """A value that changes whenever any figure may change: for caches of
    things made from the aggregates (the home page's)."""
    return _versions()


class _ChangeLog:
    """The (seq, object, month) of the ledger entries this worker has read,
    newest last; ``base`` is the seq before the oldest one kept."""

    def __init__(self):
        self.reset(None, 0)

    def reset(self, structure, seq):
        self.structure, self.base, self.seq, self.items = structure, seq, seq, []

    def catch_up(self, structure, seq):
        if structure != self.structure or seq < self.seq or seq - self.seq > _LOG_READ:
            self.reset(structure, seq)
            return
        if seq == self.seq:
            return
        rows = run(_ENTRIES_SQL, (self.seq, seq)).fetchall()
        if len(rows) != seq - self.seq:  # not the chain this log followed
            self.reset(structure, seq)
            return
        self.items += _parsed(rows)
        self.seq = seq
        if len(self.items) > _LOG_KEEP:
            del self.items[:len(self.items) - _LOG_KEEP // 2]
            self.base = self.items[0][0] - 1

    def since(self, seq):
        """[(object, month)] of the entries after ``seq``; None when they are
        no longer all kept."""
        if seq < self.base or seq > self.seq:
            return None
        start = bisect_right([s for s, _, _ in self.items], seq) if self.items else 0
        return [(obj, month) for _, obj, month in self.items[start:]]


def _parsed(rows):
    """(seq, object, month as yyyymm) of ledger rows (seq, body)."""
    items = []
    for entry_seq, body in rows:
        entry = json.loads(body)
        year, month = entry["month"].split("-")
        items.append((int(entry_seq), int(entry["object"]), int(year) * 100 + int(month)))
    return items


def _changes_between(after, seq):
    """[(object, month)] of the ledger entries after ``after`` up to
    ``seq``, from this worker's log or else from the ledger; None when they
    are too many to be worth it (reading the group afresh is cheaper)."""
    with _cache_lock:
        changes = _log.since(after)
    if changes is not None or seq - after > _LOG_READ:
        return changes
    rows = run(_ENTRIES_SQL, (after, seq)).fetchall()
    if len(rows) != seq - after:
        return None
    return [(obj, month) for _, obj, month in _parsed(rows)]


_log = _ChangeLog()
_cache = OrderedDict()  # key → _Slot, least recently used first
_cache_lock = threading.Lock()
# Reading a whole group's rows is the one step whose memory grows with
# the portal (at ten times the real one, a hundred thousand rows through
# the driver): few at a time, however many threads want one.
_loading = threading.BoundedSemaphore(2)
# Making a table from a group's rows takes several times the rows' memory
# while it lasts (scores, intervals, the sort: about 40 MB for all
# organizations at ten times the real portal); a worker's threads making
# tables of different groups at once added those up past the 300 MB a
# worker may use. One at a time (the ranges of places, made when first
# asked for, too): the interpreter runs one anyway.
_building = threading.Lock()
# Storing a group's rows: one at a time, and skipped while another is on
# its way (``_store_snapshot``).
_storing = threading.Lock()


class _Slot:
    """One cached group and period: its rows (sorted by organization id,
    never changed in place) and the versions they are exact for, the table
    made from them and the same table with the previous period's changes.
    ``lock`` is held while the rows are read or caught up (so a group is
    read once however many threads ask), ``build`` while a table is made."""

    def __init__(self):
        self.lock = threading.Lock()
        self.build = threading.Lock()
        self.structure, self.seq, self.data = None, 0, None
        self.table = None  # made from ``data``, without changes
        self.full = None  # ``table`` with the changes against ``full.previous``
        self.spread = None  # (data, group mean, σ) for one object's place

    @property
    def nbytes(self):
        tables = [t for t in (self.table, self.full) if t is not None]
        return (0 if self.data is None else self.data.nbytes) + sum(t.nbytes for t in tables)


def _refreshed(data, fresh_rows, organizations):
    """``data`` with the rows of ``organizations`` replaced by
    ``fresh_rows`` (an organization missing from them has left the group's
    listed ones); both sorted by id, so no sort."""
    ids = data[:, 0]
    fresh = _as_rows(fresh_rows)
    if not len(ids):
        return fresh
    at = np.searchsorted(ids, fresh[:, 0])
    listed = (at < len(ids)).all() and (ids[at] == fresh[:, 0]).all()
    # Those the rows do not list: organizations that left the group's
    # listed ones, or were never in it (a rating rolls up into
    # supervising bodies too, which a ranking does not list).
    gone = np.fromiter(set(organizations).difference(fresh[:, 0].tolist()), dtype=np.int64)
    gone_at = np.searchsorted(ids, gone)
    inside = gone_at < len(ids)
    gone_at = gone_at[inside][ids[gone_at[inside]] == gone[inside]]
    if listed and not len(gone_at) and np.can_cast(fresh.dtype, data.dtype):
        # Every one still listed and already there, none to drop (a
        # rating for a listed organization): one copy with their rows
        # replaced, no insertion (which copies the group twice over).
        replaced = data.copy()
        replaced[at] = fresh
        return replaced
    keep = np.ones(len(ids), dtype=bool)
    keep[gone_at] = False
    keep[at[(at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == fresh[:, 0])]] = False
    kept = data[keep]
    dtype = np.promote_types(kept.dtype, fresh.dtype)  # a sum may outgrow int32
    kept, fresh = kept.astype(dtype, copy=False), fresh.astype(dtype, copy=False)
    return np.insert(kept, np.searchsorted(kept[:, 0], fresh[:, 0]), fresh, axis=0)


def _owners(objects):
    owners = set()
    objects = sorted(objects)
    for start in range(0, len(objects), 500):
        part = objects[start:start + 500]
        owners.update(row[0] for row in run(_OWNERS_OF.format(", ".join("?" * len(part))), part).fetchall())
    return owners


def _touched(changes, period):
    return {obj for obj, month in changes if period.key in periods_of_month(month)}


def _caught_up(data, changes, period, sphere_id, region_id):
    """``data`` with the rows the ``changes`` touch in ``period`` read
    afresh; None when they touch too many objects (reading the whole
    group is cheaper). Returns (data, whether anything was re-read)."""
    touched = _touched(changes, period)
    if len(touched) > _REFRESH_MOST:
        return None, True
    if not touched:
        return data, False
    owners = _owners(touched)
    fresh = _ranked_sums(period, sphere_id, region_id, only=owners) if owners else []
    return _refreshed(data, fresh, owners), True


_SNAPSHOT_WHERE = " FROM ranking_snapshot WHERE period = ? AND sphere = ? AND region = ?"
_SNAPSHOT_HEAD = "SELECT structure, seq, length(rows)" + _SNAPSHOT_WHERE
_SNAPSHOT_PIECE = "SELECT structure, seq, substr(rows, ?, ?)" + _SNAPSHOT_WHERE
# The stored rows are read in pieces: PostgreSQL's client library keeps
# each connection's input buffer as large as the largest row it ever
# received, and a worker's eight connections each held a whole group's
# rows (8.6 MB as hexadecimal at ten times the real portal) for good.
_SNAPSHOT_PIECE_BYTES = 256 << 10
_SNAPSHOT_STALE = 200  # ledger entries behind: store the rows again


# A group's stored rows: eight-byte marker, then the rows as little-endian
# int32 when every value fits, else int64. The marker, read as the first
# row's id, would be negative, so rows stored before it (int64 without a
# marker, a positive id first) are told apart.
_PACKED = {np.dtype(np.int32): b"ocr\x04\x00\x00\x00\xff", np.dtype(np.int64): b"ocr\x08\x00\x00\x00\xff"}
_PACKED_DTYPE = {marker: dtype for dtype, marker in _PACKED.items()}


def _packed(data):
    return _PACKED[data.dtype] + data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes()


def _unpacked(blob):
    blob = memoryview(blob)
    dtype = _PACKED_DTYPE.get(bytes(blob[:8]))
    if dtype is None:
        return np.frombuffer(blob, dtype="<i8").reshape(-1, len(_ROW_COLUMNS)).astype(np.int64)
    return np.frombuffer(blob[8:], dtype=dtype.newbyteorder("<")).reshape(-1, len(_ROW_COLUMNS)).astype(dtype)


def _from_snapshot(period, sphere_id, region_id, structure, seq):
    """The group's rows as stored (``RankingSnapshot``), caught up to
    ``seq``; None without a usable one. Also says whether to store them
    again (far behind)."""
    key = (period.key, sphere_id or 0, region_id or 0)
    row = run(_SNAPSHOT_HEAD, key).fetchone()
    if row is None or int(row[0]) != structure[1] or int(row[1]) > seq:
        return None, False
    stored, stored_seq = (int(row[0]), int(row[1])), int(row[1])
    blob = bytearray(int(row[2]))
    for start in range(0, len(blob), _SNAPSHOT_PIECE_BYTES):
        piece = run(_SNAPSHOT_PIECE, (start + 1, _SNAPSHOT_PIECE_BYTES, *key)).fetchone()
        # Stored again meanwhile by another worker: the rows of the same
        # structure and seq are the same bytes; any others, not.
        if piece is None or (int(piece[0]), int(piece[1])) != stored:
            return None, False
        blob[start:start + len(piece[2])] = piece[2]
    data = _unpacked(blob)
    if stored_seq == seq:
        return data, False
    changes = _changes_between(stored_seq, seq)
    if changes is None:
        return None, False
    data, _ = _caught_up(data, changes, period, sphere_id, region_id)
    return data, data is not None and seq - stored_seq > _SNAPSHOT_STALE


def _store_snapshot(period, sphere_id, region_id, structure, seq, data):
    """Best effort: a read-only database or a busy writer only means the
    next worker reads the group afresh. Never inside a caller's
    transaction, whose fate a failed write would decide. One at a time in
    a worker, and none while another is on its way: the statement holds
    the rows several times over while it is sent (on PostgreSQL as
    hexadecimal text in the query, about 30 MB for all organizations at
    ten times the real portal), and a worker's threads storing groups at
    once took it past 300 MB. A store skipped is made by the group's next
    reader."""
    if database.in_transaction() or not _storing.acquire(blocking=False):
        return
    try:
        with write_transaction():
            packed = _packed(data)
            RankingSnapshot.insert(period=period.key, sphere=sphere_id or 0, region=region_id or 0,
                                   structure=structure[1], seq=seq, rows=packed).on_conflict(
                conflict_target=[RankingSnapshot.period, RankingSnapshot.sphere, RankingSnapshot.region],
                update={RankingSnapshot.structure: structure[1], RankingSnapshot.seq: seq,
                        RankingSnapshot.rows: packed}).execute()
    except (DatabaseError, DatabaseBusy) as error:
        logging.getLogger(__name__).info("ranking rows not stored (%s)", error)
    finally:
        _storing.release()


def _slot_rows(period, sphere_id, region_id, least):
    """The slot of a group and period, and its rows caught up to this
    request's versions (or newer)."""
    structure, seq = _versions()
    key = (period.key, sphere_id, region_id, least)
    with _cache_lock:
        _log.catch_up(structure, seq)
        slot = _cache.get(key)
        if slot is None:
            slot = _cache[key] = _Slot()
        _cache.move_to_end(key)
    with slot.lock:
        if slot.data is not None and slot.structure == structure and slot.seq < seq:
            # Only the new ratings (or changes of status) since the rows
            # were read: re-read the rows they touch, if any.
            changes = _changes_between(slot.seq, seq)
            data, changed = (None, True) if changes is None else _caught_up(
                slot.data, changes, period, sphere_id, region_id)
            if data is None:
                slot.data = None
            else:
                if changed:
                    slot.data = data
                slot.seq = seq
        if slot.data is None or slot.structure != structure:
            with _loading:
                data, store = _from_snapshot(period, sphere_id, region_id, structure, seq)
                if data is None:
                    data, store = _as_rows(_ranked_sums(period, sphere_id, region_id)), True
            if store:
                _store_snapshot(period, sphere_id, region_id, structure, seq, data)
            slot.structure, slot.seq, slot.data = structure, seq, data
            allocator.give_back()
        data = slot.data
    return slot, data


def _evict():
    """Drops the least recently used slots while the cache holds more than
    ``_CACHE_BYTES``; a table that counted changes against a dropped one's
    is dropped too, since it would keep it alive."""
    with _cache_lock:
        total = sum(s.nbytes for s in _cache.values())
        while len(_cache) > 1 and total > _CACHE_BYTES:
            _, dropped = _cache.popitem(last=False)
            total -= dropped.nbytes
            if dropped.table is not None:
                for slot in _cache.values():
                    if slot.full is not None and slot.full.earlier is dropped.table:
                        total -= slot.full.nbytes
                        slot.full = None


def _table(period, sphere_id, region_id, least, with_previous):
    slot, data = _slot_rows(period, sphere_id, region_id, least)
    previous = None
    if with_previous and period.previous() is not None:
        previous = _table(period.previous(), sphere_id, region_id, least, False)
    with slot.build:
        table = slot.table
        if table is None or table.data is not data:
            # The slot's rows may be newer than this request's by now:
            # newer is as exact, and nobody rebuilds an older table.
            data = slot.data
            if table is None or table.data is not data:
                with _building:
                    table = slot.table = build_table(period, data, None, least)
                slot.full = None
        if previous is not None:
            if slot.full is None or slot.full.earlier is not previous:
                with _building:
                    slot.full = table.with_previous(previous.by_id)
            table = slot.full
    _evict()
    return table


def min_ratings():
    """``OCENKA_MIN_RATINGS`` of the running app; the default outside one."""
    return current_app.config.get("MIN_RATINGS", MIN_RATINGS) if has_app_context() else MIN_RATINGS


def rank_table(period, sphere_id=None, region_id=None):
    """The full ranking of a group for a period, with position changes:
    exact for the data committed when the request asked first (see above),
    recomputed only from the rows a new rating changed."""
    return _table(period, sphere_id, region_id, min_ratings(), True)


def rank_place(period, org_id):
    """(group mean, σ, ``RankEntry`` or None) of one organization among all
    organizations: from the cached table when it is made for the current
    rows, else counted from the rows alone (``one_entry``), so the first
    figures after a rating do not wait for the whole ranking to be sorted
    again. Exact for the same versions as ``rank_table``."""
    least = min_ratings()
    slot, data = _slot_rows(period, None, None, least)
    previous = None
    if period.previous() is not None:
        previous = _table(period.previous(), None, None, least, False)
    table = slot.full if previous is not None else slot.table
    if table is not None and table.data is data and table.earlier is previous:
        return table.group_mean, table.sigma, table.by_id.get(org_id)
    spread = slot.spread
    if spread is None or spread[0] is not data:
        spread = slot.spread = (data, *_group_spread(data))
    return _place(data, org_id, previous and previous.by_id, least, spread[1:])


def clear_cache():
    with _cache_lock:
        _cache.clear()
        _log.reset(None, 0)


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
