"""Per-client limits: a burst from one client counts a handful, a
neighbour on the same Wi-Fi is not blocked, proxies are believed only when
trusted."""
import pytest

from service.limits import LIMITS, client_address
from service.models import Rating
from tests.factories import rating_payload

BROWSER = "Mozilla/5.0 (Linux; Android 14) Mobile"


def post(client, object_id, ip="198.51.100.7", ua=BROWSER, device="device-a", headers=None):
    payload = rating_payload(object_id, device_token=device)
    return client.post("/api/v1/ratings", json=payload, headers={"User-Agent": ua, **(headers or {})},
                       environ_base={"REMOTE_ADDR": ip})


def test_a_burst_from_one_client_counts_a_handful(client, world):
    codes = [post(client, world.school.id).status_code for _ in range(300)]
    accepted = codes.count(201)
    per_object = next(limit.count for limit in LIMITS if limit.name == "client_object")
    assert accepted == per_object <= 5
    assert set(codes[accepted:]) == {429}
    refused = post(client, world.school.id)
    assert refused.is_json and "_limit" in refused.get_json()["errors"]
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert Rating.select().count() == accepted


def test_another_visitor_behind_the_same_address_is_not_blocked(client, world):
    for _ in range(50):
        post(client, world.school.id, device="abuser")
    neighbour = post(client, world.school.id, ua="Mozilla/5.0 (iPhone)", device="neighbour")
    assert neighbour.status_code == 201


def test_the_same_client_may_still_rate_another_object(client, world):
    for _ in range(10):
        post(client, world.school.id)
    assert post(client, world.clinic.id).status_code == 201


def test_address_limit_counts_accepted_ratings_only(client, world):
    address_object = next(limit for limit in LIMITS if limit.name == "address_object")
    # Refused attempts from one device do not use up the address's allowance.
    for _ in range(address_object.count * 2):
        post(client, world.school.id, device="same")
    accepted = 0
    for i in range(address_object.count + 5):
        accepted += post(client, world.school.id, device=f"visitor-{i}").status_code == 201
    assert accepted == address_object.count - 3  # the first device's three count too


def test_retried_submission_is_not_limited(client, world):
    payload = rating_payload(world.school.id, device_token="d")
    for _ in range(3):
        post(client, world.school.id, device="d")
    again = client.post("/api/v1/ratings", json=payload, headers={"User-Agent": BROWSER},
                        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert again.status_code == 429
    first = Rating.select().order_by(Rating.id).first()
    same = client.post("/api/v1/ratings", json={**payload, "client_token": first.client_token},
                       environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert same.status_code == 200 and same.get_json()["id"] == first.id


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"RATE_LIMITS": False}], indirect=True)
def test_limits_can_be_turned_off_for_load_tests(client, world):
    assert all(post(client, world.school.id).status_code == 201 for _ in range(20))


def test_forwarded_for_is_ignored_from_an_untrusted_peer(client, world):
    for i in range(3):
        post(client, world.school.id, headers={"X-Forwarded-For": f"203.0.113.{i}"})
    # Spoofing a new address per request does not make a new client.
    assert post(client, world.school.id, headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": ["10.0.0.1"]}], indirect=True)
def test_forwarded_for_is_believed_from_a_trusted_proxy(client, world):
    for _ in range(3):
        post(client, world.school.id, ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.5"})
    assert post(client, world.school.id, ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
    assert post(client, world.school.id, ip="10.0.0.1", headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 201


@pytest.mark.parametrize("remote, forwarded, trusted, expected", [
    ("203.0.113.1", "1.2.3.4", [], "203.0.113.1"),
    ("10.0.0.1", "1.2.3.4", ["10.0.0.1"], "1.2.3.4"),
    ("10.0.0.1", "9.9.9.9, 1.2.3.4", ["10.0.0.1"], "1.2.3.4"),  # the client cannot prepend a fake hop
    ("10.0.0.1", "1.2.3.4, 10.0.0.2", ["10.0.0.0/24"], "1.2.3.4"),
    ("10.0.0.1", "", ["10.0.0.1"], "10.0.0.1"),
    ("10.0.0.9", "1.2.3.4", ["10.0.0.1"], "10.0.0.9"),
])
def test_client_address(remote, forwarded, trusted, expected):
    assert client_address(remote, forwarded, trusted) == expected


def test_a_burst_arriving_at_once_counts_the_same_handful(app, world):
    """Concurrent requests share batches of writes (service/db.py): each is
    counted against those before it in its batch, and a refusal in a batch
    leaves the batch's other ratings standing."""
    import threading

    per_object = next(limit.count for limit in LIMITS if limit.name == "client_object")
    start = threading.Barrier(24)
    codes = []

    def burst(i):
        # Every fourth is another visitor behind the same address: counted.
        device = "device-a" if i % 4 else f"neighbour-{i}"
        with app.test_client() as client:
            start.wait(10)
            codes.append((device, post(client, world.school.id, device=device).status_code))

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    same = [code for device, code in codes if device == "device-a"]
    assert sorted(same) == [201] * per_object + [429] * (18 - per_object)
    assert [code for device, code in codes if device != "device-a"] == [201] * 6
    assert Rating.select().count() == per_object + 6
