"""tools/verify_ocenka.py, the auditors' check: its recomputation against
the service's own rules, and the whole script against a live server."""
import datetime
import importlib.util
import json
import pathlib
import random
import subprocess
import sys
import threading
import types
import urllib.request

import pytest
from werkzeug.serving import make_server

from service import ledger, ranking, structure
from service.db import database
from service.models import LedgerEntry, ObjectAggregate, Rating, RollupAggregate, RollupMember
from tests import factories
from tests.test_opendata import accept_registry

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "tools" / "verify_ocenka.py"
_spec = importlib.util.spec_from_file_location("verify_ocenka", SCRIPT)
verify_ocenka = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_ocenka)


# -- the recomputation against service/ranking.py ----------------------------------

def _random_rows(rng, count):
    rows = []
    for org in rng.sample(range(1, 10 * count), count):
        n = rng.choice([1, 2, 3, 4, 5, 7, 12, 40]) if rng.random() < 0.8 else rng.randint(1, 300)
        ratings = [[rng.randint(1, 5) for _ in range(4)] for _ in range(n)]
        if rng.random() < 0.2:  # equal scores, to tie on n and then on the id
            ratings = [[5, 5, 5, 5]] * n
        sums = [n, *(sum(r[c] for r in ratings) for c in range(4)), sum(1 for r in ratings if sum(r) >= 16),
                sum(sum(r) ** 2 for r in ratings), 0]
        rows.append((org, sums))
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_the_tables_are_the_service_s_to_the_last_bit(seed):
    rng = random.Random(seed)
    least = rng.choice([1, 3, 5])
    before_rows, rows = _random_rows(rng, 60), _random_rows(rng, 80)
    # Organizations of the previous period, some ranked this one too.
    rows += [(org, sums) for org, sums in before_rows[:30] if org not in {o for o, _ in rows}]

    def service_rows(rows_):
        return [(org, *sums[:7]) for org, sums in rows_]

    period = ranking.Period("2026-10")
    service_before = ranking.build_table(period.previous(), service_rows(before_rows), None, least)
    service_table = ranking.build_table(period, service_rows(rows), service_before.by_id, least)
    before = verify_ocenka.Table(before_rows, least)
    table = verify_ocenka.Table(rows, least, before.by_id)
    assert (table.group_mean, table.sigma, table.ranked) == (service_table.group_mean, service_table.sigma,
                                                             service_table.ranked)
    assert len(table.entries) == len(service_table.entries)
    for mine, theirs in zip(table.entries, service_table.entries):
        assert (mine["id"], mine["rank"], mine["rank_change"], mine["score"], mine["interval"], mine["rank_range"],
                mine["rank_change_significant"]) == (
            theirs.id, theirs.rank, theirs.rank_change, theirs.score, theirs.interval, theirs.rank_range,
            theirs.significant)
        sums = ranking.Sums(*mine["sums"])
        assert verify_ocenka.figures(mine["sums"], "2026-10", table, mine) == ranking.table_figures(
            service_table, sums, theirs)
        assert verify_ocenka.ranking_row(mine) == {k: v for k, v in ranking.ranking_row(theirs, "").items()
                                                   if k != "name"}


def test_figures_of_an_object_outside_the_ranking_are_the_service_s():
    table = verify_ocenka.Table(_random_rows(random.Random(5), 20), 5)
    sums = [3, 12, 13, 14, 15, 2, 900, 1]
    service_table = types.SimpleNamespace(period=ranking.Period("all"), group_mean=table.group_mean,
                                          sigma=table.sigma)
    assert verify_ocenka.figures(sums, "all", table, None) == ranking.table_figures(service_table,
                                                                                     ranking.Sums(*sums))
    assert verify_ocenka.figures(verify_ocenka.empty(), "all", table, None) == ranking.table_figures(
        service_table, ranking.Sums())


def test_a_broken_link_names_its_entry():
    chain, prev = [], verify_ocenka.GENESIS
    for seq in range(1, 4):
        fields = {"seq": seq, "kind": "rating", "rating": seq, "object": 1, "month": "2026-10",
                  "scores": dict.fromkeys(verify_ocenka.CRITERIA, 5), "verified": False, "channel": "qr",
                  "status": "counted", "created": "2026-10-05T08:14:03Z", "prev_hash": prev}
        prev = verify_ocenka.link_hash(prev, verify_ocenka.canonical(fields))
        chain.append(dict(fields, hash=prev))
    ok = verify_ocenka.Ledger()
    for entry in chain:
        ok.add(dict(entry))
    assert ok.count == 3 and ok.last_hash == prev
    chain[1]["scores"]["politeness"] = 1
    broken = verify_ocenka.Ledger()
    with pytest.raises(verify_ocenka.ChainBroken, match="ledger entry 2: hash does not match") as caught:
        for entry in chain:
            broken.add(entry)
    assert caught.value.seq == 2


# -- the script against a live server ------------------------------------------------

@pytest.fixture
def live(app, client):
    """A real HTTP server on a free port, serving a portal with a few dozen
    ratings over three months, a body's registry and a rejected rating."""
    with app.app_context(), database.connection_context():
        world = factories.small_world()
        accept_registry(world.body, [world.clinic, world.school])
        ids = []
        plan = [(world.school, 9), (world.clinic, 6), (world.clinic_women, 5), (world.clinic_kids, 3),
                (world.zags, 7), (world.body, 2)]
        rng = random.Random(7)
        for obj, count in plan:
            for _ in range(count):
                response = factories.rate(client, obj.id, *(rng.randint(1, 5) for _ in range(4)))
                assert response.status_code == 201
                ids.append(response.get_json()["id"])
        # Spread over three past months, then write the chain again as the
        # upgrade to the ledger does for ratings stored before it.
        for number, rating_id in enumerate(ids):
            year, month = (2026, 7 + number % 3)
            Rating.update(month=year * 100 + month, created=datetime.datetime(year, month, 10, 9, number)).where(
                Rating.id == rating_id).execute()
        LedgerEntry.delete().execute()
        database.execute_sql("DELETE FROM ledger_head")
        ledger.build_for_existing_ratings()
        # A moderator's rejection, recorded as the ledger's status entry.
        with database.atomic():
            Rating.update(status=Rating.REJECTED).where(Rating.id == ids[4]).execute()
            ledger.record_status(ids[4], Rating.REJECTED)
        ranking.rebuild_aggregates()
        ranking.clear_cache()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    # And a few arriving now, through the server itself.
    for obj in (world.school, world.clinic_kids, world.zags):
        _post(url, factories.rating_payload(obj.id, 4, 3, 5, 4))
    yield types.SimpleNamespace(url=url, world=world, ids=ids, app=app)
    server.shutdown()
    thread.join()


def run_script(url, *options):
    result = subprocess.run([sys.executable, str(SCRIPT), url, *options], capture_output=True, text=True,
                            timeout=300)
    lines = result.stdout.strip().splitlines()
    return result.returncode, lines


@pytest.mark.parametrize("app_config", [{}, {"MIN_RATINGS": 5}], ids=["min1", "min5"])
def test_an_honest_portal_matches(live, app_config):
    code, lines = run_script(live.url, "--sample", "0", "--groups")
    assert (code, lines[-1]) == (0, "match"), "\n".join(lines)
    assert lines[0].startswith("ledger: 36 entries, every link holds; 35 ratings")
    assert not [line for line in lines if line.startswith("DIFFERENCE")]
    assert f"min_ratings {app_config.get('MIN_RATINGS', 1)};" in lines[2]
    # Every object all-time and in each of its months, the whole ranking,
    # each sphere's and region's.
    assert "checked: the roll-up, the totals, 6 ranking(s) in full, 29 figures of 6 object(s)" in "\n".join(lines)


def test_quarters_half_years_and_years_match_too(live):
    code, lines = run_script(live.url, "--sample", "0", "--longer-periods")
    assert (code, lines[-1]) == (0, "match"), "\n".join(lines)
    # Beyond the 29 figures of all time and the months: Q3, H2 and 2026 of
    # each object, and Q4 of the five with ratings in December (the
    # women's consultation has none).
    assert ("52 figures of 6 object(s) (all time and each month with entries, their quarters, half-years and "
            "years)") in lines[2], lines[2]


def test_a_changed_figure_is_a_mismatch_naming_it(live):
    women = live.world.clinic_women.id
    with live.app.app_context(), database.connection_context():
        (ObjectAggregate.update(politeness=ObjectAggregate.politeness + 3)
         .where((ObjectAggregate.object == women) & (ObjectAggregate.period == "all")).execute())
        (RollupAggregate.update(n=RollupAggregate.n + 1)
         .where((RollupAggregate.organization == live.world.zags.id) & (RollupAggregate.period == "all"))
         .execute())
        ranking.clear_cache()
    code, lines = run_script(live.url, "--sample", "0")
    assert (code, lines[-1]) == (1, "mismatch"), "\n".join(lines)
    differences = [line for line in lines if line.startswith("DIFFERENCE")]
    assert any(line.startswith(f"DIFFERENCE object {women} period all: criteria published") for line in differences)
    zags = live.world.zags.id
    assert any(line.startswith(f"DIFFERENCE ranking period=all: organization {zags}: n published")
               for line in differences)
    assert not any(line.startswith("DIFFERENCE stats") for line in differences)


def test_a_roll_up_apart_from_the_structure_is_a_mismatch_naming_it(live):
    """The body's accepted registry lists the clinic, so the clinic's
    children's department counts toward the body; a roll-up that has lost
    the row shows in objects.csv and in the body's figures."""
    kids, body = live.world.clinic_kids.id, live.world.body.id
    with live.app.app_context(), database.connection_context():
        RollupMember.delete().where((RollupMember.organization == body) & (RollupMember.object == kids)).execute()
        ranking.rebuild_rollup_aggregates()
        ranking.clear_cache()
    code, lines = run_script(live.url, "--object", str(body), "--all-time-only")
    assert (code, lines[-1]) == (1, "mismatch"), "\n".join(lines)
    differences = [line for line in lines if line.startswith("DIFFERENCE")]
    clinic = live.world.clinic.id
    assert (f"DIFFERENCE objects.csv: object {kids} counted_in says {[clinic]}, its organization and registries "
            f"imply {sorted([clinic, body])}") in differences
    assert any(line.startswith(f"DIFFERENCE object {body} period all: n published") for line in differences)


def test_a_changed_ledger_entry_is_a_mismatch_naming_it(live):
    with live.app.app_context(), database.connection_context():
        entry = LedgerEntry.get(LedgerEntry.seq == 17)
        LedgerEntry.update(body=entry.body.replace('"channel":"widget"', '"channel":"qr"')).where(
            LedgerEntry.seq == 17).execute()
    code, lines = run_script(live.url)
    assert (code, lines[-2:]) == (1, ["DIFFERENCE ledger entry 17: hash does not match its content (changed after "
                                      "it was written?)", "mismatch"]), "\n".join(lines)


def _post(url, payload):
    request = urllib.request.Request(url + "/api/v1/ratings", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request).status == 201


def test_a_rating_arriving_during_the_check_is_read_from_the_chain(live):
    """Once the rankings are compared, a rating arrives: every all-time
    figure after it differs from the downloaded chain's, until the script
    reads the new entry and checks those again."""
    portal = verify_ocenka.Portal(live.url)
    json_of = portal.json
    arrived = []

    def answer(path, params=None):
        if path.startswith("/api/v1/objects/") and not arrived:
            arrived.append(path)
            _post(live.url, factories.rating_payload(live.world.zags.id, 1, 1, 1, 1))
        return json_of(path, params)

    portal.json = answer
    out = []
    assert verify_ocenka.Audit(portal, verify_ocenka.parse_args([live.url, "--sample", "0"]), out.append).run()
    assert arrived and out[0].startswith("ledger: 36 entries")
    assert any(line.startswith("the ledger grew to 37 entries while checking; checking ") for line in out), out
    assert not [line for line in out if line.startswith("DIFFERENCE")]


def test_a_portal_that_does_not_answer_cannot_be_checked():
    code, lines = run_script("http://127.0.0.1:9", "--timeout", "5")
    assert code == 2 and lines[-1].startswith("cannot check: http://127.0.0.1:9/opendata/objects.csv")


@pytest.mark.parametrize("app_config", [{"PUBLIC_RESULTS": False}])
def test_a_portal_that_hides_its_results_cannot_be_checked(live):
    code, lines = run_script(live.url)
    assert code == 2 and lines[-1].startswith(f"cannot check: {live.url}/api/v1/rankings?limit=1: HTTP 403 "), lines
