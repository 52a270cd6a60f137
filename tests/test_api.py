"""The public JSON API: shapes, paging, refusals. Every refusal is JSON
and changes nothing."""

import re
from pathlib import Path

import pytest

from service.embed import WIDGET_WORDS, widget_words
from service.models import RatableObject, Rating
from tests import factories
from tests.factories import rate, rating_payload


def _count():
    return Rating.select().count()


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_list_shows_published_objects_with_paging(client, world):
    body = client.get("/api/v1/objects?per_page=2").get_json()
    assert body["total"] == 6  # 4 organizations + 2 subdivisions; not the unpublished one
    assert body["page"] == 1 and body["per_page"] == 2 and len(body["items"]) == 2
    everything = client.get("/api/v1/objects?per_page=100").get_json()["items"]
    assert world.hidden.id not in {item["id"] for item in everything}
    second = client.get("/api/v1/objects?per_page=2&page=2").get_json()["items"]
    assert {i["id"] for i in second}.isdisjoint({i["id"] for i in body["items"]})


def test_list_filters(client, world):
    ids = lambda url: {i["id"] for i in client.get(url).get_json()["items"]}  # noqa: E731
    assert ids("/api/v1/objects?q=ПОЛИКЛИНИКА") == {world.clinic.id}
    assert ids(f"/api/v1/objects?q={world.school.unp}") == {world.school.id}
    assert ids("/api/v1/objects?sphere=health") == {world.clinic.id, world.clinic_women.id, world.clinic_kids.id}
    assert ids("/api/v1/objects?region=brest&sphere=registry") == {world.zags.id, world.body.id}
    assert ids("/api/v1/objects?q=консультация") == {world.clinic_women.id}


@pytest.mark.parametrize("query, field", [
    ("per_page=0", "per_page"), ("per_page=101", "per_page"), ("page=0", "page"), ("page=x", "page"),
    ("sphere=nope", "sphere"), ("region=atlantis", "region"),
])
def test_list_refuses_bad_parameters(client, world, query, field):
    response = client.get(f"/api/v1/objects?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["errors"]


def test_object_shape(client, world):
    rate(client, world.clinic_women.id, 5, 4, 3, 4)
    body = client.get(f"/api/v1/objects/{world.clinic_women.id}").get_json()
    assert body["id"] == world.clinic_women.id and body["kind"] == "subdivision"
    assert body["organization"] == {"id": world.clinic.id, "name": world.clinic.name}
    assert body["spheres"] == ["health"] and body["region"] == "gomel"
    assert body["url"] == f"https://ocenka.test/r/{world.clinic_women.id}"
    figures = body["figures"]
    assert set(figures) == {"period", "n", "overall", "criteria", "satisfaction", "score", "rank", "rank_change",
                            "interval", "rank_range", "rank_change_significant", "formula", "verified_share"}
    assert figures["n"] == 1 and figures["overall"] == 4.0 and figures["satisfaction"] == 100.0
    assert figures["verified_share"] == 0.0
    assert figures["criteria"] == {"simplicity": 5, "information": 4, "timeliness": 3, "politeness": 4}


@pytest.mark.parametrize("path", ["/api/v1/objects/999999", "/api/v1/objects/999999/form"])
def test_unknown_object_is_a_json_404(client, world, path):
    response = client.get(path)
    assert response.status_code == 404 and response.is_json and "object" in response.get_json()["errors"]


def test_unpublished_object_is_not_found(client, world):
    assert client.get(f"/api/v1/objects/{world.hidden.id}").status_code == 404
    assert rate(client, world.hidden.id).status_code == 404


def test_form_in_each_language(client, world):
    for lang, word in (("ru", "Вежливость"), ("be", "Ветлівасць"), ("en", "Politeness"), ("tt", "әдәплелеге")):
        form = client.get(f"/api/v1/objects/{world.clinic.id}/form?lang={lang}").get_json()
        assert form["lang"] == lang
        assert [c["code"] for c in form["criteria"]] == ["simplicity", "information", "timeliness", "politeness"]
        assert word in form["criteria"][3]["label"]
        for criterion in form["criteria"]:
            assert [level["value"] for level in criterion["levels"]] == [1, 2, 3, 4, 5]
            assert all(level["label"] for level in criterion["levels"]) and criterion["reasons"]
    form = client.get(f"/api/v1/objects/{world.clinic.id}/form").get_json()
    assert form["lang"] == "ru" and form["comment_max"] == 2000
    assert [s["name"] for s in form["subdivisions"]] == ["Детское отделение", "Женская консультация"]


def test_form_brings_the_widgets_words_in_its_language(client, world):
    sends = {"ru": "Отправить оценку", "be": "Адправіць ацэнку", "en": "Send rating", "tt": "Бәяне җибәрү"}
    for lang, send in sends.items():
        words = client.get(f"/api/v1/objects/{world.school.id}/form?lang={lang}").get_json()["words"]
        assert set(words) == set(WIDGET_WORDS)
        assert words["send"] == send
        assert "{m}" in words["limitMin"] and "{seq}" in words["receipt"]
        assert "{n}" in words["count"] and "{max}" in words["count"]
        # each in its own language, none a bare key shown for a missing one
        assert all(text and not text.startswith(("rate.", "widget.")) for text in words.values())
        if lang != "ru":
            assert not set(words.values()) & set(widget_words("ru").values())


def test_every_word_the_widget_says_is_its_own_or_comes_with_the_form():
    source = (Path(__file__).resolve().parents[1] / "widget" / "widget.js").read_text(encoding="utf-8")
    own = re.search(r"var KEYS = '([^']+)'", source).group(1).split()
    used = set(re.findall(r"\bT\.(\w+)", source))
    assert used <= set(own) | set(WIDGET_WORDS), used - set(own) - set(WIDGET_WORDS)
    assert not set(own) & set(WIDGET_WORDS)


def test_rating_is_stored_once_per_client_token(client, world):
    payload = rating_payload(world.school.id, 5, 4, 5, 5, comment="  Спасибо!  ", reasons=[])
    first = client.post("/api/v1/ratings", json=payload)
    assert first.status_code == 201
    again = client.post("/api/v1/ratings", json=payload)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert _count() == 1
    stored = Rating.get()
    assert stored.comment == "Спасибо!" and stored.comment_status == "pending" and stored.channel == "widget"
    assert (stored.simplicity, stored.information, stored.timeliness, stored.politeness) == (5, 4, 5, 5)


def test_a_retry_is_answered_as_before_after_its_object_was_unpublished(client, world):
    payload = rating_payload(world.school.id, 5, 4, 5, 5)
    first = client.post("/api/v1/ratings", json=payload)
    RatableObject.update(published=False).where(RatableObject.id == world.school.id).execute()
    again = client.post("/api/v1/ratings", json=payload)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    other = client.post("/api/v1/ratings", json=rating_payload(world.school.id, 5, 4, 5, 5))
    assert other.status_code == 404
    assert _count() == 1


def test_no_raw_address_is_kept(client, world):
    rate(client, world.school.id, ip="203.0.113.77")
    row = Rating.select().dicts().get()
    assert not any("203.0.113.77" in str(value) for value in row.values())
    assert len(row["client_hash"]) == 32 and len(row["address_hash"]) == 32


def _scores(**overrides):
    scores = {"simplicity": 5, "information": 5, "timeliness": 5, "politeness": 5}
    scores.update(overrides)
    return scores


@pytest.mark.parametrize("change, field", [
    ({"object": "1"}, "object"),
    ({"object": 1.5}, "object"),
    ({"object": True}, "object"),
    ({"scores": _scores(simplicity=0)}, "scores"),
    ({"scores": _scores(simplicity=6)}, "scores"),
    ({"scores": _scores(simplicity="5")}, "scores"),
    ({"scores": _scores(simplicity=4.5)}, "scores"),
    ({"scores": _scores(simplicity=True)}, "scores"),
    ({"scores": _scores(speed=5)}, "scores"),
    ({"scores": {"simplicity": 5, "information": 5, "timeliness": 5}}, "scores"),
    ({"scores": [5, 5, 5, 5]}, "scores"),
    ({"reasons": ["no_such_reason"]}, "reasons"),
    ({"reasons": ["rude"]}, "reasons"),  # politeness was not given the minimum
    ({"reasons": "rude"}, "reasons"),
    ({"comment": "x" * 2001}, "comment"),
    ({"comment": "bell\x07"}, "comment"),
    ({"comment": 42}, "comment"),
    ({"channel": "fax"}, "channel"),
    ({"client_token": "not-a-uuid"}, "client_token"),
    ({"client_token": None}, "client_token"),
    ({"extra": {"waiting_room": 3}}, "extra"),
    ({"service": 999}, "service"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_fields_are_refused_with_field_errors(client, world, change, field):
    payload = rating_payload(world.school.id)
    payload.update(change)
    response = client.post("/api/v1/ratings", json=payload)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["errors"]
    assert _count() == 0


def test_all_invalid_fields_are_named_at_once(client, world):
    response = client.post("/api/v1/ratings", json={"object": "x", "scores": {}, "channel": "fax"})
    assert set(response.get_json()["errors"]) >= {"object", "scores", "channel", "client_token"}


def test_missing_fields(client, world):
    response = client.post("/api/v1/ratings", json={})
    assert set(response.get_json()["errors"]) == {"object", "scores", "client_token"}


def test_reasons_for_a_minimum_score_and_newlines_in_comments_are_accepted(client, world):
    payload = rating_payload(world.school.id, 5, 5, 5, 1, reasons=["rude", "dismissive"], comment="строка 1\n\tстрока 2")
    assert client.post("/api/v1/ratings", json=payload).status_code == 201
    assert Rating.get().reasons == ["dismissive", "rude"]


def test_service_must_be_one_the_object_gives(client, world):
    from service.models import Service
    from service.structure import offer_services
    passport = Service.get(Service.code == "passport")
    assert client.post("/api/v1/ratings", json=rating_payload(world.zags.id, service=passport.id)).status_code == 400
    offer_services(world.zags, [passport])
    assert client.post("/api/v1/ratings", json=rating_payload(world.zags.id, service=passport.id)).status_code == 201


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"), ("[1, 2]", "application/json"), ("object=1", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_a_json_object_is_refused(client, world, body, content_type):
    response = client.post("/api/v1/ratings", data=body, content_type=content_type)
    assert response.status_code == 400 and "_schema" in response.get_json()["errors"]


def test_oversized_body_is_413_json(client, world):
    payload = rating_payload(world.school.id, comment="x" * 100_000)
    response = client.post("/api/v1/ratings", json=payload)
    assert response.status_code == 413 and response.is_json
    assert _count() == 0


def test_wrong_method_and_unknown_path_are_json(client, world):
    response = client.delete("/api/v1/ratings")
    assert response.status_code == 405 and response.is_json and "POST" in response.headers["Allow"]
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json


def test_unexpected_error_is_json_without_traceback(client, world, monkeypatch):
    from service import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(catalog, "search", broken)
    response = client.get("/api/v1/objects")
    assert response.status_code == 500 and response.is_json
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_cors_is_open_for_the_public_api_only(client, world):
    origin = {"Origin": "https://school.example.by"}
    assert client.get("/api/v1/objects", headers=origin).headers.get("Access-Control-Allow-Origin") == "*"
    preflight = client.options("/api/v1/ratings", headers={**origin, "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == "*"
    assert "POST" in preflight.headers.get("Access-Control-Allow-Methods", "")
    assert "Access-Control-Allow-Origin" not in client.get("/healthz", headers=origin).headers


def test_rankings_shape_and_limit(client, world):
    for org, score in ((world.school, 5), (world.clinic, 4), (world.zags, 3)):
        rate(client, org.id, score, score, score, score)
    body = client.get("/api/v1/rankings?limit=2").get_json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["period"] == "all"
    row = body["items"][0]
    assert {"id", "name", "rank", "rank_change", "score", "n", "overall", "satisfaction"} <= set(row)
    assert row["id"] == world.school.id and row["name"] == world.school.name
    assert client.get("/api/v1/rankings?limit=0").status_code == 400
    assert client.get("/api/v1/rankings?period=2026-13").status_code == 400


def test_stats(client, world):
    rate(client, world.school.id, 5, 5, 5, 5)
    rate(client, world.clinic_kids.id, 2, 2, 2, 2)
    assert client.get("/api/v1/stats").get_json() == {"objects": 6, "ratings": 2, "satisfaction": 50.0}


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"PUBLIC_RESULTS": False}], indirect=True)
def test_results_can_be_hidden_from_the_public(client, world):
    rate(client, world.school.id)
    assert client.get("/api/v1/rankings").status_code == 403
    assert client.get(f"/api/v1/objects/{world.school.id}").get_json()["figures"] is None
    assert client.get("/api/v1/stats").get_json()["satisfaction"] is None


def test_lists_come_in_natural_order(client, db):
    """"№ 2" before "№ 10", whether registered one by one or in bulk."""
    from service import structure
    from service.models import Region, Sphere
    from service.reference import seed_reference
    seed_reference()
    for number in (10, 9, 1):
        factories.organization(f"Отделение почтовой связи Пинск — {number}", "brest", ("communications",))
    region, sphere = Region.get(Region.code == "brest").id, Sphere.get(Sphere.code == "communications").id
    structure.register_many([dict(unp=factories.unp(), name=f"Отделение почтовой связи Пинск — {n}", region=region,
                                  locality="г. Пинск", address="ул. Ленина, 1", spheres=[sphere]) for n in (100, 2)])
    items = client.get("/api/v1/objects", query_string={"q": "Пинск"}).get_json()["items"]
    assert [item["name"].rsplit(" ", 1)[1] for item in items] == ["1", "2", "9", "10", "100"]
