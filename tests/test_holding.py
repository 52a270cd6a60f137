"""Held ratings: stuffing that could pass for new visitors is kept but not
counted; real visitors are counted at once; the moderator decides."""
import datetime
import uuid

import pytest

from service import holding, ledger, ranking
from service.models import Rating
from tests import factories

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"


def _post(client, object_id, ip, *, device=None, agent=BROWSER, scores=(1, 1, 1, 1), **extra):
    payload = factories.rating_payload(object_id, *scores, device_token=device or uuid.uuid4().hex, **extra)
    return client.post("/api/v1/ratings", json=payload, headers={"User-Agent": agent},
                       environ_base={"REMOTE_ADDR": ip})


def _public_n(client, object_id):
    return client.get(f"/api/v1/objects/{object_id}").get_json()["figures"]["n"]


def _statuses():
    return {status: Rating.select().where(Rating.status == status).count() for status in Rating.STATUSES}


def test_device_token_rotation_from_one_address_is_held(client, world):
    answers = [_post(client, world.school.id, "203.0.113.9").status_code for _ in range(60)]
    assert set(answers) == {201}  # the stuffer sees thanks every time
    assert _public_n(client, world.school.id) <= holding.DEFAULTS["rotation_hour"]
    assert _statuses()[Rating.HELD] >= 60 - holding.DEFAULTS["rotation_hour"]
    assert Rating.select().count() == 60  # every one kept
    # A real visitor from another address is counted at once.
    before = _public_n(client, world.school.id)
    assert _post(client, world.school.id, "198.51.100.20", scores=(5, 5, 4, 5)).status_code == 201
    assert _public_n(client, world.school.id) == before + 1


def test_user_agent_rotation_is_held_too(client, world):
    for i in range(40):
        _post(client, world.clinic.id, "203.0.113.10", device="same-device", agent=f"{BROWSER} v{i}")
    assert _public_n(client, world.clinic.id) <= holding.DEFAULTS["rotation_hour"]
    assert _statuses()[Rating.HELD] >= 40 - holding.DEFAULTS["rotation_hour"]


def test_addresses_of_one_ipv6_64_count_as_one_network(client, world):
    for i in range(50):
        _post(client, world.zags.id, f"2001:db8:42:7::{i + 1:x}")
    assert _public_n(client, world.zags.id) <= holding.DEFAULTS["network_hour"]
    assert _statuses()[Rating.HELD] >= 50 - holding.DEFAULTS["network_hour"]
    # Another subscriber's /64 is another visitor.
    assert _post(client, world.zags.id, "2001:db8:99:1::5", scores=(5, 5, 5, 5)).status_code == 201
    assert Rating.select().order_by(Rating.id.desc()).first().status == Rating.COUNTED


def test_a_burst_from_many_addresses_is_held_beyond_the_floor(client, world):
    for i in range(40):
        _post(client, world.clinic_kids.id, f"192.0.2.{i + 1}")
    n = _public_n(client, world.clinic_kids.id)
    assert n <= holding.DEFAULTS["burst_floor"]
    assert _statuses()[Rating.HELD] == 40 - n


def _backfill(object_id, count, days_ago=14):
    """``count`` counted ratings of ``object_id`` spread over earlier days."""
    now = datetime.datetime.utcnow()
    rows = [dict(object=object_id, simplicity=4, information=4, timeliness=4, politeness=4, channel="qr",
                 created=now - datetime.timedelta(days=days_ago, minutes=i), month=now.year * 100 + now.month,
                 client_token=str(uuid.uuid4()), client_hash=f"{i:032x}", address_hash=f"{i:032x}",
                 status=Rating.COUNTED) for i in range(count)]
    Rating.insert_many(rows).execute()


def test_a_burst_is_measured_against_the_objects_usual_rate(client, world):
    # About 200 ratings a day for four weeks: 1.5 in ten minutes, so fifteen
    # in ten minutes is its ordinary busy hour, not a burst.
    _backfill(world.school.id, 6000)
    for i in range(14):
        _post(client, world.school.id, f"192.0.2.{i + 1}", scores=(4, 4, 4, 4))
    assert Rating.select().where(Rating.status == Rating.HELD).count() == 0
    # The same fourteen at a quiet office: those beyond the floor wait.
    for i in range(14):
        _post(client, world.zags.id, f"192.0.2.{i + 1}", scores=(4, 4, 4, 4))
    assert Rating.select().where(Rating.status == Rating.HELD).count() == 14 - holding.DEFAULTS["burst_floor"]


def test_a_service_hall_behind_one_address_is_counted(client, world):
    # Many visitors, each with their own phone, one Wi-Fi address, spread
    # over a working day: a few an hour.
    start = datetime.datetime.utcnow() - datetime.timedelta(hours=10)
    for i in range(30):
        _post(client, world.zags.id, "198.51.100.77", scores=(5, 4, 5, 4))
        Rating.update(created=start + datetime.timedelta(minutes=20 * i)).where(
            Rating.id == Rating.select(Rating.id).order_by(Rating.id.desc()).limit(1).scalar()).execute()
    assert _statuses()[Rating.HELD] == 0


def test_a_verified_code_is_never_held_for_its_address(client, world):
    from service import codes
    for i in range(10):
        _post(client, world.school.id, "203.0.113.50")
    assert Rating.select().where(Rating.status == Rating.HELD).count() > 0
    code = codes.sign("test-secret", world.school.id, 7)
    response = _post(client, world.school.id, "203.0.113.50", code=code)
    assert response.get_json()["verified"] is True
    assert Rating.get_by_id(response.get_json()["id"]).status == Rating.COUNTED


def test_a_held_rating_is_in_the_ledger_as_held(client, world):
    for _ in range(10):
        response = _post(client, world.school.id, "203.0.113.60")
    receipt = response.get_json()["receipt"]
    entry = ledger.entry(receipt["seq"])
    assert entry["status"] == "held" and entry["hash"] == receipt["hash"]
    assert ledger.verify() == 10


@pytest.fixture
def held_cluster(client, world):
    for _ in range(20):
        _post(client, world.school.id, "203.0.113.70", scores=(1, 1, 1, 2))
    found = holding.clusters()
    assert len(found) == 1
    return found[0]


def test_held_ratings_form_one_cluster_per_object_network_and_day(held_cluster, world):
    c = held_cluster
    assert c.object_id == world.school.id and c.addresses == 1 and c.networks == 1
    assert c.devices == c.size == 20 - holding.DEFAULTS["rotation_hour"]
    assert c.pattern() == f"1★ × {c.size}"


def test_releasing_a_cluster_counts_it_and_rejecting_keeps_it_out(client, world, held_cluster):
    before = _public_n(client, world.school.id)
    assert holding.decide(held_cluster, holding.RELEASE) == held_cluster.size
    assert _public_n(client, world.school.id) == before + held_cluster.size
    assert ranking.stored_aggregates() == ranking.aggregates_from_ratings()
    assert ledger.verify() == 20 + held_cluster.size
    assert holding.clusters() == []
    # Deciding again changes nothing.
    assert holding.decide(held_cluster, holding.REJECT) == 0


def test_releasing_a_cluster_waits_for_a_batch_of_ratings_to_commit(app, world, held_cluster):
    # Both add to the same aggregates, in different orders of rows: on
    # PostgreSQL they take turns, or two of them could deadlock.
    import threading
    from service.db import database, is_sqlite, take_group_turn
    if is_sqlite():
        pytest.skip("on SQLite every write waits for the one writer's turn anyway")
    holding_turn, release, done = threading.Event(), threading.Event(), []

    def batch():
        with app.app_context(), database.connection_context(), database.atomic():
            take_group_turn()
            holding_turn.set()
            release.wait(10)

    def moderator():
        with app.app_context(), database.connection_context():
            done.append(holding.decide(held_cluster, holding.RELEASE))

    threads = [threading.Thread(target=batch), threading.Thread(target=moderator)]
    threads[0].start()
    assert holding_turn.wait(5)
    threads[1].start()
    threads[1].join(0.5)
    assert done == []
    release.set()
    for thread in threads:
        thread.join(10)
    assert done == [held_cluster.size]


def test_rejecting_a_cluster_keeps_the_ratings_uncounted(client, world, held_cluster):
    before = _public_n(client, world.school.id)
    assert holding.decide(held_cluster, holding.REJECT) == held_cluster.size
    assert _public_n(client, world.school.id) == before
    assert Rating.select().where(Rating.status == Rating.REJECTED).count() == held_cluster.size
    assert ledger.verify() == 20 + held_cluster.size


def test_the_moderator_decides_a_cluster_in_the_cabinet(app, client, world, held_cluster):
    from service.models import AuditEntry
    moderator = factories.user("moderator")
    factories.sign_in(client, moderator)
    page = client.get("/cabinet/moderation/held?lang=en").get_data(as_text=True)
    assert f"{held_cluster.size} ratings on {held_cluster.day}" in page and world.school.name in page
    assert f"1★ × {held_cluster.size}" in page and "with them:" in page
    before = _public_n(client, world.school.id)
    response = client.post(f"/cabinet/moderation/held/{held_cluster.key}?lang=en",
                           data={"decision": "release", "csrf": factories.csrf_token(client)})
    assert response.status_code == 303
    assert _public_n(client, world.school.id) == before + held_cluster.size
    entry = AuditEntry.select().where(AuditEntry.action == "held.release").get()
    assert entry.user_id == moderator.id and entry.after["ratings"] == held_cluster.size
    assert "No held ratings." in client.get("/cabinet/moderation/held?lang=en").get_data(as_text=True)


def test_the_api_lists_and_rejects_clusters(client, world, held_cluster):
    headers = factories.bearer(factories.token(factories.user("moderator")))
    items = client.get("/api/v1/cabinet/held", headers=headers).get_json()["items"]
    assert [i["key"] for i in items] == [held_cluster.key]
    assert items[0]["figures"]["with_held"]["n"] == items[0]["figures"]["without_held"]["n"] + held_cluster.size
    bad = client.post(f"/api/v1/cabinet/held/{held_cluster.key}/decision", json={"decision": "maybe"},
                      headers=headers)
    assert bad.status_code == 400
    done = client.post(f"/api/v1/cabinet/held/{held_cluster.key}/decision", json={"decision": "reject"},
                       headers=headers)
    assert done.status_code == 200 and done.get_json()["changed"] == held_cluster.size
    again = client.post(f"/api/v1/cabinet/held/{held_cluster.key}/decision", json={"decision": "reject"},
                        headers=headers)
    assert again.status_code == 404


@pytest.mark.parametrize("role", ["staff", "body"])
def test_only_moderators_and_the_operator_decide(client, world, held_cluster, role):
    headers = factories.bearer(factories.token(factories.user(role, world.school)))
    assert client.get("/api/v1/cabinet/held", headers=headers).status_code == 403
    response = client.post(f"/api/v1/cabinet/held/{held_cluster.key}/decision", json={"decision": "release"},
                           headers=headers)
    assert response.status_code == 403
    assert Rating.select().where(Rating.status == Rating.HELD).count() == held_cluster.size
