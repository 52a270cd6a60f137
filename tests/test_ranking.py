"""The rules of the rating, checked against figures computed by hand."""
import datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from service import ranking, ratings, structure
from service.models import ObjectAggregate, RatableObject, Rating, Registry, RollupAggregate
from service.ranking import Period, Sums, periods_of_month
from tests import factories
from tests.factories import rate


@pytest.mark.parametrize("text, kind, previous", [
    ("2026-10", "month", "2026-09"),
    ("2026-01", "month", "2025-12"),
    ("2026-Q3", "quarter", "2026-Q2"),
    ("2026-Q1", "quarter", "2025-Q4"),
    ("2026-H2", "half", "2026-H1"),
    ("2026-H1", "half", "2025-H2"),
    ("2026", "year", "2025"),
    ("all", "all", None),
])
def test_periods_and_their_predecessors(text, kind, previous):
    period = Period.parse(text)
    assert period.kind == kind
    assert (period.previous().key if period.previous() else None) == previous


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "2026-H3", "26", "2026-10-01", "ALL", "1999", "x"])
def test_bad_periods_are_refused(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_a_rating_counts_in_its_month_quarter_half_year_and_all_time():
    assert periods_of_month(202611) == ["2026-11", "2026-Q4", "2026-H2", "2026", "all"]
    assert periods_of_month(202601) == ["2026-01", "2026-Q1", "2026-H1", "2026", "all"]
    assert periods_of_month(202606) == ["2026-06", "2026-Q2", "2026-H1", "2026", "all"]


def test_figures_by_hand():
    # Ratings (5,5,5,5), (4,4,4,4) and (1,2,3,4): overall 5, 4 and 2.5.
    sums = Sums(n=3, simplicity=10, information=11, timeliness=12, politeness=13, satisfied=2)
    figures = ranking.figures(sums, Period("all"), group_mean=4.0)
    assert figures["n"] == 3
    assert figures["overall"] == pytest.approx((5 + 4 + 2.5) / 3)
    assert figures["criteria"] == pytest.approx({"simplicity": 10 / 3, "information": 11 / 3,
                                                 "timeliness": 12 / 3, "politeness": 13 / 3})
    assert figures["satisfaction"] == pytest.approx(200 / 3)
    assert figures["score"] == pytest.approx((10 * 4.0 + 11.5) / (10 + 3))


def test_no_ratings_means_null_figures():
    figures = ranking.figures(Sums(), Period("2026-10"))
    assert figures["n"] == 0
    assert figures["overall"] is None and figures["satisfaction"] is None
    assert set(figures["criteria"].values()) == {None}


def test_satisfaction_threshold_is_an_overall_score_of_four():
    assert ranking.is_satisfied({"simplicity": 4, "information": 4, "timeliness": 4, "politeness": 4})
    assert ranking.is_satisfied({"simplicity": 5, "information": 5, "timeliness": 5, "politeness": 1})
    assert not ranking.is_satisfied({"simplicity": 5, "information": 5, "timeliness": 4, "politeness": 1})


@pytest.fixture
def no_limits():
    return {"RATE_LIMITS": False}


@pytest.fixture
def app_config(no_limits):
    return no_limits


def _many(client, object_id, count, scores):
    for _ in range(count):
        assert rate(client, object_id, *scores).status_code == 201


def test_bayesian_mean_keeps_three_perfect_ratings_below_three_hundred_very_good_ones(client, db):
    few = factories.organization("Три отличные оценки")
    many = factories.organization("Триста очень хороших")
    others = [factories.organization(f"Средняя организация {i}") for i in range(3)]
    _many(client, few.id, 3, (5, 5, 5, 5))
    for _ in range(100):
        rate(client, many.id, 5, 5, 5, 4)  # overall 4.75
        rate(client, many.id, 5, 5, 5, 4)
        rate(client, many.id, 5, 5, 5, 4)
    for org in others:
        _many(client, org.id, 100, (4, 4, 4, 4))
    body = client.get("/api/v1/rankings").get_json()
    rows = {row["id"]: row for row in body["items"]}
    total_overall = 3 * 5 + 300 * 4.75 + 300 * 4.0
    m = total_overall / 603
    assert body["group_mean"] == pytest.approx(m)
    assert rows[few.id]["score"] == pytest.approx((10 * m + 15) / 13)
    assert rows[many.id]["score"] == pytest.approx((10 * m + 300 * 4.75) / 310)
    assert rows[few.id]["overall"] == 5.0 > rows[many.id]["overall"]
    assert rows[many.id]["rank"] == 1 and rows[few.id]["rank"] == 2
    assert [r["rank"] for r in body["items"]] == list(range(1, 6))


def test_equal_scores_rank_by_more_ratings_then_lower_id(client, db):
    a, b, c = (factories.organization(f"Организация {x}") for x in "abc")
    for org in (a, b, c):
        _many(client, org.id, 2, (4, 4, 4, 4))
    rate(client, c.id, 4, 4, 4, 4)
    ranks = {row["id"]: row["rank"] for row in client.get("/api/v1/rankings").get_json()["items"]}
    assert ranks == {c.id: 1, a.id: 2, b.id: 3}


@pytest.fixture
def clock(monkeypatch):
    """Sets the time new ratings arrive at."""
    now = {"value": datetime.datetime(2026, 10, 15, 12, 0)}
    monkeypatch.setattr(ratings, "utcnow", lambda: now["value"])

    def set_time(*args):
        now["value"] = datetime.datetime(*args)
    return set_time


def test_position_change_against_the_previous_month(client, db, clock):
    a, b, c = (factories.organization(f"Организация {x}") for x in "abc")
    clock(2026, 9, 10, 12)
    _many(client, a.id, 5, (5, 5, 5, 5))
    _many(client, b.id, 5, (4, 4, 4, 4))
    _many(client, c.id, 5, (3, 3, 3, 3))
    clock(2026, 10, 10, 12)
    _many(client, c.id, 5, (5, 5, 5, 5))
    _many(client, a.id, 5, (4, 4, 4, 4))
    rows = {r["id"]: r for r in client.get("/api/v1/rankings?period=2026-10").get_json()["items"]}
    assert rows[c.id]["rank"] == 1 and rows[c.id]["rank_change"] == 3 - 1
    assert rows[a.id]["rank"] == 2 and rows[a.id]["rank_change"] == 1 - 2
    assert b.id not in rows  # no rating in October
    september = {r["id"]: r for r in client.get("/api/v1/rankings?period=2026-09").get_json()["items"]}
    assert september[a.id]["rank"] == 1 and september[a.id]["rank_change"] is None
    # The quarter holds both months; "all" has no previous period.
    q4 = client.get("/api/v1/rankings?period=2026-Q4").get_json()
    assert {r["id"] for r in q4["items"]} == {a.id, c.id}
    assert all(r["rank_change"] is None for r in client.get("/api/v1/rankings").get_json()["items"])


def test_month_is_local_time(client, db, clock):
    org = factories.organization()
    clock(2026, 9, 30, 22, 30)  # 01:30 on 1 October in Minsk (UTC+3)
    rate(client, org.id, 5, 5, 5, 5)
    assert Rating.get().month == 202610
    assert client.get(f"/api/v1/objects/{org.id}?period=2026-10").get_json()["figures"]["n"] == 1
    assert client.get(f"/api/v1/objects/{org.id}?period=2026-09").get_json()["figures"]["n"] == 0


def test_groups_by_sphere_and_region(client, world):
    for org in (world.school, world.clinic, world.zags):
        rate(client, org.id, 5, 4, 5, 4)
    ids = lambda url: {r["id"] for r in client.get(url).get_json()["items"]}  # noqa: E731
    assert ids("/api/v1/rankings?sphere=health") == {world.clinic.id}
    assert ids("/api/v1/rankings?region=brest") == {world.school.id, world.zags.id}
    assert ids("/api/v1/rankings?region=brest&sphere=registry") == {world.zags.id}
    assert client.get("/api/v1/rankings?sphere=nope").status_code == 400


def test_subdivision_ratings_roll_up_into_their_organization(client, world):
    rate(client, world.clinic.id, 5, 5, 5, 5)
    rate(client, world.clinic_women.id, 3, 3, 3, 3)
    rate(client, world.clinic_kids.id, 4, 4, 4, 4)
    org = client.get(f"/api/v1/objects/{world.clinic.id}").get_json()["figures"]
    sub = client.get(f"/api/v1/objects/{world.clinic_women.id}").get_json()["figures"]
    assert org["n"] == 3 and org["overall"] == pytest.approx(4.0)
    assert org["satisfaction"] == pytest.approx(200 / 3)
    assert org["rank"] == 1
    assert sub["n"] == 1 and sub["overall"] == 3.0 and sub["rank"] is None
    ranked = {r["id"] for r in client.get("/api/v1/rankings").get_json()["items"]}
    assert world.clinic_women.id not in ranked


def test_authorized_body_rolls_up_its_accepted_registry_transitively_counting_each_rating_once(client, world):
    ministry = factories.organization("Министерство", "minsk-city", ("health",), is_authorized_body=True,
                                      is_evaluation_object=False)
    structure.update_organization(world.body, is_authorized_body=True)
    regional = structure.create_registry(world.body, [world.school, world.clinic])
    national = structure.create_registry(ministry, [world.body, world.clinic])  # the clinic by two paths
    for registry in (regional, national):
        for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
            structure.move_registry(registry, state)
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.clinic_kids.id, 3, 3, 3, 3)
    rate(client, world.zags.id, 1, 1, 1, 1)  # not in any registry
    figures = client.get(f"/api/v1/objects/{ministry.id}").get_json()["figures"]
    assert figures["n"] == 2 and figures["overall"] == pytest.approx(4.0)
    assert client.get(f"/api/v1/objects/{world.body.id}").get_json()["figures"]["n"] == 2
    # A registry that is not accepted gives nothing.
    structure.move_registry(regional, Registry.DRAFT)
    assert client.get(f"/api/v1/objects/{world.body.id}").get_json()["figures"]["n"] == 0
    assert client.get(f"/api/v1/objects/{ministry.id}").get_json()["figures"]["n"] == 1


def test_registry_goes_through_its_states_only_in_order(world):
    registry = structure.create_registry(world.body, [world.school])
    with pytest.raises(structure.StructureError):
        structure.move_registry(registry, Registry.ACCEPTED)
    structure.move_registry(registry, Registry.APPROVED)
    structure.move_registry(registry, Registry.SUBMITTED)
    with pytest.raises(structure.StructureError):
        structure.move_registry(registry, Registry.RETURNED)  # a return needs a reason
    structure.move_registry(registry, Registry.RETURNED, reason="нет УНП у двух организаций")
    assert Registry.get_by_id(registry.id).return_reason == "нет УНП у двух организаций"
    with pytest.raises(structure.StructureError):
        structure.create_registry(world.school)  # not an authorized body


# -- aggregates always equal a recomputation ------------------------------------

scores = st.tuples(*[st.integers(1, 5)] * 4)
events = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), scores), min_size=1, max_size=25)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events)
def test_aggregates_always_equal_a_recomputation_from_the_ratings(client, world, clock, events):
    targets = [world.school, world.clinic, world.clinic_women, world.zags]
    start = datetime.datetime(2025, 1, 1, 12)
    for target, month_offset, score in events:
        moment = start + datetime.timedelta(days=31 * month_offset)
        clock(moment.year, moment.month, moment.day, 12)
        assert rate(client, targets[target].id, *score).status_code == 201
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    assert ranking.stored_rollup_aggregates() == ranking.rollup_aggregates_from_objects()
    # And an object's figures equal a count by hand over its raw ratings.
    for obj in (world.clinic, world.school):
        members = [obj.id] + [s.id for s in RatableObject.select().where(RatableObject.organization == obj.id)]
        raw = list(Rating.select().where(Rating.object.in_(members)))
        figures = client.get(f"/api/v1/objects/{obj.id}").get_json()["figures"]
        assert figures["n"] == len(raw)
        if raw:
            assert figures["overall"] == pytest.approx(sum(r.overall for r in raw) / len(raw))
            assert figures["satisfaction"] == pytest.approx(100 * sum(r.overall >= 4 for r in raw) / len(raw))
    Rating.delete().execute()
    ObjectAggregate.delete().execute()
    RollupAggregate.delete().execute()


def test_a_batch_of_ratings_adds_to_the_aggregates_what_they_add_one_by_one(client, world):
    # Two ratings of one object and month, an organization and two of its
    # subdivisions (their roll-up rows updated by three ratings at once),
    # two months, a service: summed per row before the statements, since
    # one statement may update a row once only.
    from service.db import database
    from service.models import Service
    doctor = Service.create(code="doctor", names={"ru": "Запись к врачу"})
    rate(client, world.clinic.id, 2, 3, 4, 5)  # rows that exist already (all time), and rows that do not
    batch = [(world.school.id, 202511, dict(zip(ranking.BASE_CRITERIA, (5, 5, 5, 5))), False, None),
             (world.school.id, 202511, dict(zip(ranking.BASE_CRITERIA, (1, 2, 3, 4))), True, None),
             (world.clinic.id, 202512, dict(zip(ranking.BASE_CRITERIA, (4, 4, 4, 4))), False, doctor.id),
             (world.clinic_women.id, 202512, dict(zip(ranking.BASE_CRITERIA, (3, 3, 3, 3))), True, doctor.id),
             (world.clinic_kids.id, 202511, dict(zip(ranking.BASE_CRITERIA, (5, 4, 5, 4))), False, None)]

    def stored():
        return (ranking.stored_aggregates(), ranking.stored_rollup_aggregates(),
                ranking.stored_service_aggregates())
    with database.atomic() as transaction:
        for rating in batch:
            ranking.add_to_aggregates([rating])
        one_by_one = stored()
        transaction.rollback()
    before = stored()
    with database.atomic():
        ranking.add_to_aggregates(batch)
    assert stored() == one_by_one != before
    assert one_by_one[2][(world.clinic.id, doctor.id, "2025-12")].n == 1
    assert one_by_one[1][(world.clinic.id, "2025-12")].n == 2  # itself and a subdivision
    assert one_by_one[1][(world.clinic.id, "all")].n == 4  # and another subdivision, and the earlier rating
    with database.atomic():
        ranking.add_to_aggregates([])
    assert stored() == one_by_one


def test_rebuild_reports_and_repairs_a_drifted_aggregate(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.school.id, 2, 2, 2, 2)
    assert ranking.rebuild_aggregates() == []
    ObjectAggregate.update(n=ObjectAggregate.n + 7).where(
        (ObjectAggregate.object == world.school.id) & (ObjectAggregate.period == "all")).execute()
    assert ranking.rebuild_aggregates() == [(world.school.id, "all")]
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    RollupAggregate.update(satisfied=0).where(RollupAggregate.organization == world.school.id).execute()
    assert ("organization", world.school.id, "all") in ranking.rebuild_aggregates()
    assert ranking.stored_rollup_aggregates() == ranking.rollup_aggregates_from_objects()


def test_aggregates_keep_the_sum_of_squared_totals_and_skip_ratings_not_counted(client, world):
    rate(client, world.clinic_women.id, 5, 5, 5, 4)
    rate(client, world.clinic_women.id, 1, 2, 3, 4)
    held = rate(client, world.clinic_women.id, 1, 1, 1, 1).get_json()["id"]
    Rating.update(status=Rating.HELD).where(Rating.id == held).execute()
    ranking.rebuild_aggregates()
    stored = ObjectAggregate.get(object=world.clinic_women.id, period="all")
    assert (stored.n, stored.squares, stored.verified) == (2, 19 * 19 + 10 * 10, 0)
    rollup = RollupAggregate.get(organization=world.clinic.id, period="all")
    assert (rollup.n, rollup.squares) == (2, 19 * 19 + 10 * 10)
