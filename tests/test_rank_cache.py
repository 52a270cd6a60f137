"""The rankings a worker keeps and updates after each rating are exactly
what a full recomputation gives: bit for bit, across new ratings, months
that close, changes of a rating's status in a closed month and several
workers with caches of their own (service/ranking.py, "keeping rankings
exact across workers")."""
import datetime
import math
from contextlib import contextmanager
from collections import OrderedDict

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from service import ledger, ranking, ratings
from service.db import database, run
from service.models import Rating, RatableObject
from service.ranking import Period, periods_of_month
from tests.factories import rate
from tests.test_uncertainty import group_rows

score_sets = st.tuples(*[st.integers(1, 5)] * 4)
groups = st.lists(st.lists(score_sets, min_size=1, max_size=12), min_size=1, max_size=25)


def plain_table(rows, previous_ranks, min_ratings):
    """The rules of docs/ranking.md in plain Python, one organization at a
    time and every pair compared: the reference the columns must equal."""
    n_total = sum(r[1] for r in rows)
    total = sum(r[2] + r[3] + r[4] + r[5] for r in rows)
    mean = total / 4 / n_total
    sigma = ranking.spread(n_total, total, sum(r[7] for r in rows))
    scored = []
    for org_id, n, s, i, t, p, sat, _ in rows:
        score = ranking.bayesian_mean((s + i + t + p) / 4, n, mean)
        half = ranking.half_width(n, sigma)
        scored.append((score, n, org_id, (s, i, t, p, sat), score - half, score + half))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    ranked = [x for x in scored if x[1] >= min_ratings]
    entries = []
    for position, (score, n, org_id, sums, low, high) in enumerate(ranked, start=1):
        first = 1 + sum(other[4] > high for other in ranked if other[2] != org_id)
        last = 1 + sum(other[5] >= low for other in ranked if other[2] != org_id)
        before = previous_ranks.get(org_id)
        change = None if before is None else before - position
        significant = before is not None and not first <= before <= last
        entries.append(ranking.RankEntry(org_id, position, change, score, n, *sums, low, high, first, last,
                                         significant))
    entries += [ranking.RankEntry(org_id, None, None, score, n, *sums, low, high)
                for score, n, org_id, sums, low, high in scored if n < min_ratings]
    return mean, sigma, entries


@settings(max_examples=150, deadline=None)
@given(group=groups, before=groups, min_ratings=st.integers(1, 5))
def test_the_columns_give_the_plain_rules_to_the_last_bit(group, before, min_ratings):
    previous = ranking.build_table(Period("2026-09"), group_rows(before, first_id=3), None, min_ratings)
    table = ranking.build_table(Period("2026-10"), group_rows(group), previous.by_id, min_ratings)
    previous_ranks = {e.id: e.rank for e in previous.entries if e.rank is not None}
    mean, sigma, entries = plain_table(group_rows(group), previous_ranks, min_ratings)
    assert (table.group_mean, table.sigma) == (mean, sigma)  # equal, not approximately
    assert list(table.entries) == entries
    assert table.ranked == sum(e.rank is not None for e in entries)
    for entry in entries:
        assert table.by_id[entry.id] == entry and entry.id in table.by_id
    assert table.by_id.get(10_000) is None and 10_000 not in table.by_id
    assert table.entries[1:3] == entries[1:3] and table.entries[-1] == entries[-1]


@settings(max_examples=100, deadline=None)
@given(group=groups, before=groups, min_ratings=st.integers(1, 5))
def test_one_entry_counted_alone_is_the_tables_to_the_last_bit(group, before, min_ratings):
    # What an object's figures read after a rating, without sorting the
    # group: each organization's entry equals the full table's.
    previous = ranking.build_table(Period("2026-09"), group_rows(before, first_id=3), None, min_ratings)
    table = ranking.build_table(Period("2026-10"), group_rows(group), previous.by_id, min_ratings)
    data = ranking._as_rows(group_rows(group))
    for org_id in range(len(group) + 2):
        mean, sigma, entry = ranking.one_entry(Period("2026-10"), data, org_id, previous.by_id, min_ratings)
        assert (mean, sigma) == (table.group_mean, table.sigma)
        assert entry == table.by_id.get(org_id)


@settings(max_examples=100, deadline=None)
@given(group=groups, before=groups, min_ratings=st.integers(1, 5), count=st.integers(1, 6))
def test_the_most_improved_are_the_clear_rises_of_the_entries(group, before, min_ratings, count):
    previous = ranking.build_table(Period("2026-09"), group_rows(before, first_id=3), None, min_ratings)
    table = ranking.build_table(Period("2026-10"), group_rows(group), previous.by_id, min_ratings)
    expected = sorted((e for e in table.ranked_entries if e.rank_change and e.rank_change > 0
                       and table.clear_change(e)), key=lambda e: (-e.rank_change, e.rank))
    assert table.most_improved(count) == expected[:count]


def test_an_empty_group_has_an_empty_table():
    table = ranking.build_table(Period("all"), [], None, 5)
    assert (len(table.entries), table.ranked, table.group_mean, table.sigma) == (0, 0, None, None)
    assert list(table.entries) == [] and table.by_id.get(1) is None


# -- the cache against a full recomputation --------------------------------------

MONTHS = [(2026, 9), (2026, 10), (2026, 11), (2027, 1)]
PERIODS = ["all", "2026", "2026-H2", "2026-Q4", "2026-10", "2026-11", "2027-01"]


@contextmanager
def worker(state):
    """Runs as another worker: its own cache and its own read of the
    ledger, as each gunicorn process has."""
    saved = ranking._cache, ranking._log
    ranking._cache, ranking._log = state
    try:
        yield
    finally:
        ranking._cache, ranking._log = saved


def recomputed(period, sphere_id, region_id, least):
    previous = None
    if period.previous() is not None:
        rows = ranking._ranked_sums(period.previous(), sphere_id, region_id)
        previous = ranking.build_table(period.previous(), rows, None, least).by_id
    return ranking.build_table(period, ranking._ranked_sums(period, sphere_id, region_id), previous, least)


def same(table, expected):
    assert (table.group_mean, table.sigma, table.ranked) == (expected.group_mean, expected.sigma, expected.ranked)
    assert list(table.entries) == list(expected.entries)


def change_status(rating_id, status):
    """What moderation of a counted rating does: out of the aggregates, and
    the change in the ledger, in one transaction (here by hand, with the
    aggregates' own upsert given negative scores)."""
    rating = Rating.get_by_id(rating_id)
    with database.atomic():
        Rating.update(status=status).where(Rating.id == rating_id).execute()
        total = sum(rating.scores.values())
        for table, key in (("object_aggregate", "object_id"), ("rollup_aggregate", "organization_id")):
            owners = [rating.object_id] if key == "object_id" else [
                row[0] for row in run("SELECT organization_id FROM rollup_member WHERE object_id = ?",
                                      (rating.object_id,)).fetchall()]
            for owner in owners:
                for period in periods_of_month(rating.month):
                    run(f"UPDATE {table} SET n = n - 1, simplicity = simplicity - ?, information = information - ?, "
                        "timeliness = timeliness - ?, politeness = politeness - ?, satisfied = satisfied - ?, "
                        f"squares = squares - ? WHERE {key} = ? AND period = ?",
                        (rating.simplicity, rating.information, rating.timeliness, rating.politeness,
                         1 if total >= 16 else 0, total * total, owner, period))
        ledger.record_status(rating, status)


steps = st.lists(st.one_of(
    st.tuples(st.just("rate"), st.integers(0, 4), score_sets),
    st.tuples(st.just("month"), st.integers(0, len(MONTHS) - 1)),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("read"), st.integers(0, 1), st.integers(0, 2)),
), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=steps, least=st.integers(1, 3))
def test_cached_rankings_equal_a_full_recomputation(client, world, monkeypatch, app, steps, least):
    # Ratings in any order of months (a late one lands in a month already
    # closed), rejections of counted ratings (status entries in the ledger)
    # and reads by two workers, each compared with a recomputation.
    app.config["MIN_RATINGS"] = least
    with database.atomic():
        run("DELETE FROM ledger_entry")
        run("UPDATE ledger_head SET seq = 0")
        for table in ("rating", "object_aggregate", "rollup_aggregate"):
            run(f"DELETE FROM {table}")
        ranking.Meta.bump(ranking.STRUCTURE)
    ranking.clear_cache()
    workers = [(OrderedDict(), ranking._ChangeLog()) for _ in range(2)]
    objects = [world.school.id, world.clinic.id, world.clinic_women.id, world.clinic_kids.id, world.zags.id]
    groups_of = [(None, None), (None, world.school.region_id), (world.clinic_sphere, None)]
    when = {"month": MONTHS[-1]}
    monkeypatch.setattr(ratings, "utcnow", lambda: datetime.datetime(*when["month"], 15, 9, 0))
    counted = []
    for step in steps + [("read", 0, g) for g in range(3)] + [("read", 1, 0)]:
        if step[0] == "rate":
            counted.append(rate(client, objects[step[1]], *step[2]).get_json()["id"])
        elif step[0] == "month":
            when["month"] = MONTHS[step[1]]
        elif step[0] == "reject" and counted:
            change_status(counted.pop(step[1] % len(counted)), Rating.REJECTED)
        elif step[0] == "read":
            # Every period of one group, as one worker has them.
            _, which, group = step
            sphere_id, region_id = groups_of[group]
            with worker(workers[which]):
                for key in PERIODS:
                    expected = recomputed(Period(key), sphere_id, region_id, least)
                    if group == 0:
                        # An object's place first, as the first figures
                        # after a rating read it: counted from the rows.
                        for obj in objects[:2] + objects[4:]:
                            assert ranking.rank_place(Period(key), obj) == (
                                expected.group_mean, expected.sigma, expected.by_id.get(obj))
                    table = ranking.rank_table(Period(key), sphere_id, region_id)
                    same(table, expected)


@pytest.fixture
def world(world):
    from service.models import ObjectSphere
    world.clinic_sphere = ObjectSphere.get(ObjectSphere.object == world.clinic.id).sphere_id
    return world


def test_the_first_figures_after_a_rating_have_the_new_place(client, world):
    for scores in ((5, 5, 5, 5), (4, 4, 4, 4)):
        rate(client, world.school.id, *scores)
    rate(client, world.zags.id, 3, 3, 3, 3)
    assert client.get(f"/api/v1/objects/{world.zags.id}").get_json()["figures"]["rank"] == 2
    for _ in range(3):
        rate(client, world.zags.id, 5, 5, 5, 5)
    figures = client.get(f"/api/v1/objects/{world.zags.id}").get_json()["figures"]
    assert figures["rank"] == 1 and figures["n"] == 4
    table = ranking.rank_table(Period("all"))
    same(table, recomputed(Period("all"), None, None, ranking.min_ratings()))


def test_a_closed_month_is_not_recomputed_while_ratings_arrive(client, world, monkeypatch):
    monkeypatch.setattr(ratings, "utcnow", lambda: datetime.datetime(2026, 10, 15, 9, 0))
    rate(client, world.school.id, 5, 5, 5, 5)
    october = ranking.rank_table(Period("2026-10"))
    monkeypatch.setattr(ratings, "utcnow", lambda: datetime.datetime(2026, 11, 15, 9, 0))
    rate(client, world.zags.id, 4, 4, 4, 4)
    assert ranking.rank_table(Period("2026-10")) is october
    assert ranking.rank_table(Period("2026-11")).by_id[world.zags.id].rank == 1


def test_a_structure_change_is_seen_by_every_worker(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.zags.id, 4, 4, 4, 4)
    assert world.zags.id in ranking.rank_table(Period("all")).by_id
    RatableObject.update(published=False).where(RatableObject.id == world.zags.id).execute()
    ranking.Meta.bump(ranking.STRUCTURE)
    assert world.zags.id not in ranking.rank_table(Period("all")).by_id


def test_many_new_ratings_at_once_recompute_from_scratch(client, world, monkeypatch):
    rate(client, world.school.id, 5, 5, 5, 5)
    ranking.rank_table(Period("all"))
    monkeypatch.setattr(ranking, "_LOG_READ", 2)
    for scores in ((1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3)):
        rate(client, world.zags.id, *scores)
    same(ranking.rank_table(Period("all")), recomputed(Period("all"), None, None, ranking.min_ratings()))
    assert math.isclose(ranking.rank_table(Period("all")).by_id[world.zags.id].n, 3)


@pytest.mark.parametrize("piece", [ranking._SNAPSHOT_PIECE_BYTES, 7])
def test_a_new_worker_reads_the_stored_rows_and_catches_up(client, world, monkeypatch, piece):
    # Read in pieces, of any size (7 bytes: pieces that split the marker
    # and the rows).
    monkeypatch.setattr(ranking, "_SNAPSHOT_PIECE_BYTES", piece)
    from service.models import RankingSnapshot
    rate(client, world.school.id, 5, 5, 5, 5)
    ranking.rank_table(Period("all"))
    stored = RankingSnapshot.get(period="all", sphere=0, region=0)
    rate(client, world.zags.id, 2, 2, 2, 2)
    ranking.clear_cache()  # a worker that has nothing cached
    calls = []
    original = ranking._ranked_sums
    ranking._ranked_sums = lambda *args, **kwargs: calls.append(kwargs.get("only")) or original(*args, **kwargs)
    try:
        table = ranking.rank_table(Period("all"))
    finally:
        ranking._ranked_sums = original
    # Only the organization the new rating touched was read afresh.
    assert [set(c) for c in calls if c is not None] == [{world.zags.id}] and None not in calls[:1]
    same(table, recomputed(Period("all"), None, None, ranking.min_ratings()))
    assert stored.seq < ledger.head()["seq"]


def test_stored_rows_rewritten_while_read_in_pieces_are_not_used(client, world, monkeypatch):
    rate(client, world.school.id, 5, 5, 5, 5)
    ranking.rank_table(Period("all"))
    rate(client, world.zags.id, 2, 2, 2, 2)
    ranking.clear_cache()
    monkeypatch.setattr(ranking, "_SNAPSHOT_PIECE_BYTES", 8)
    structure, seq = ranking._versions()
    assert ranking._from_snapshot(Period("all"), None, None, structure, seq)[0] is not None
    original = ranking.run

    def rewritten_meanwhile(sql, params=()):
        if sql == ranking._SNAPSHOT_PIECE and params[0] > 8:
            original("UPDATE ranking_snapshot SET seq = seq + 1")
        return original(sql, params)
    monkeypatch.setattr(ranking, "run", rewritten_meanwhile)
    assert ranking._from_snapshot(Period("all"), None, None, structure, seq + 5) == (None, False)


def test_stored_rows_of_another_structure_are_not_used(client, world):
    from service.models import RankingSnapshot
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.zags.id, 4, 4, 4, 4)
    ranking.rank_table(Period("all"))
    RatableObject.update(published=False).where(RatableObject.id == world.zags.id).execute()
    ranking.Meta.bump(ranking.STRUCTURE)
    ranking.clear_cache()
    assert world.zags.id not in ranking.rank_table(Period("all")).by_id
    assert RankingSnapshot.get(period="all", sphere=0, region=0).structure == ranking.Meta.get_value(ranking.STRUCTURE)


def test_stored_rows_far_behind_are_stored_again(client, world, monkeypatch):
    from service.models import RankingSnapshot
    rate(client, world.school.id, 5, 5, 5, 5)
    ranking.rank_table(Period("all"))
    monkeypatch.setattr(ranking, "_SNAPSHOT_STALE", 1)
    for scores in ((4, 4, 4, 4), (3, 3, 3, 3)):
        rate(client, world.zags.id, *scores)
    ranking.clear_cache()
    ranking.rank_table(Period("all"))
    assert RankingSnapshot.get(period="all", sphere=0, region=0).seq == ledger.head()["seq"]


def test_rows_are_not_stored_while_another_group_is_being_stored_and_the_next_reader_stores_them(client, world):
    # One store at a time in a worker (each holds the rows several times
    # over while it is sent); a skipped one is not lost for long.
    from service.models import RankingSnapshot
    rate(client, world.school.id, 5, 5, 5, 5)
    with ranking._storing:
        table = ranking.rank_table(Period("all"))
    same(table, recomputed(Period("all"), None, None, ranking.min_ratings()))
    assert not RankingSnapshot.select().where(RankingSnapshot.period == "all").exists()
    ranking.clear_cache()
    ranking.rank_table(Period("all"))
    assert RankingSnapshot.get(period="all", sphere=0, region=0).seq == ledger.head()["seq"]


def test_stored_rows_keep_their_width_and_older_ones_are_read():
    narrow = ranking._as_rows([(2, 3, 12, 12, 12, 12, 3, 768), (1, 1, 5, 5, 5, 5, 1, 400)])
    assert narrow.dtype == "int32" and narrow[:, 0].tolist() == [1, 2]
    wide = ranking._as_rows([(1, 3, 12, 12, 12, 12, 3, 2**31)])
    assert wide.dtype == "int64"
    for data in (narrow, wide):
        back = ranking._unpacked(ranking._packed(data))
        assert back.dtype == data.dtype and (back == data).all()
    # Stored before the marker: int64 rows alone.
    assert (ranking._unpacked(narrow.astype("<i8").tobytes()) == narrow).all()
    # A sum that outgrows int32 widens the whole group instead of wrapping.
    grown = ranking._refreshed(narrow, [(2, 4, 12, 12, 12, 12, 3, 2**31 + 5)], {2})
    assert grown.dtype == "int64" and grown[1].tolist() == [2, 4, 12, 12, 12, 12, 3, 2**31 + 5]
    assert ranking._refreshed(narrow, [], {1}).tolist() == [narrow[1].tolist()]
    replaced = ranking._refreshed(narrow, [(1, 2, 9, 9, 9, 9, 1, 656)], {1})
    assert replaced.tolist() == [[1, 2, 9, 9, 9, 9, 1, 656], narrow[1].tolist()] and narrow[0, 1] == 1
