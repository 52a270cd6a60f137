"""No input ends in a 500: deeply nested JSON, ids beyond 64 bits, lone
surrogates and undecodable forms are refused with a 400 (or are no such
thing: 404), and the error handlers themselves always answer."""
import json
import logging
import re

import pytest
from werkzeug.exceptions import BadRequest

from service.errors import ApiError
from service.inputs import MAX_ID, MAX_JSON_DEPTH
from tests import factories

SURROGATE = "\udc80"


def post_json(client, path, text, **kwargs):
    """Posts ``text`` as it is: json.dumps writes a lone surrogate as the
    escape ``\\udc80``, which is what a client would send."""
    return client.post(path, data=text.encode("ascii"), content_type="application/json", **kwargs)


def errors_of(response):
    assert response.mimetype == "application/json"
    return json.loads(response.data.decode("utf-8"))["errors"]


# -- JSON depth ----------------------------------------------------------------

@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 30_000])
def test_a_deeply_nested_body_is_a_400(client, world, depth):
    response = post_json(client, "/api/v1/ratings", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert "nested deeper than" in errors_of(response)["_schema"][0]


def test_a_deep_value_inside_a_rating_is_a_400(client, world):
    payload = factories.rating_payload(world.school.id)
    deep = []
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    payload["extra"] = {"x": deep}
    response = client.post("/api/v1/ratings", json=payload)
    assert response.status_code == 400
    assert "nested deeper than" in errors_of(response)["_schema"][0]
    assert "extra.x" in errors_of(response)["_schema"][0]


def test_a_body_as_deep_as_allowed_reaches_the_schema(client, world):
    depth = MAX_JSON_DEPTH
    response = post_json(client, "/api/v1/ratings", "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert errors_of(response) == {"_schema": ["the body must be a JSON object"]}


# -- ids beyond 64 bits ----------------------------------------------------------

def _int_rules(app):
    for rule in app.url_map.iter_rules():
        names = [name for name, converter in rule._converters.items() if type(converter).__name__ == "IdConverter"]
        if names:
            yield rule, names


def _path(rule, names, value):
    path = rule.rule
    for name in names:
        path = re.sub(r"<int(\([^)]*\))?:" + name + ">", str(value), path)
    return re.sub(r"<any\(([^),]+)[^)]*\):\w+>", r"\1", path)


def test_every_int_route_uses_the_bounded_converter(app):
    for rule in app.url_map.iter_rules():
        assert "IntegerConverter" not in {type(c).__name__ for c in rule._converters.values()}, rule.rule
    assert any(rule.rule.startswith("/cabinet") for rule, _ in _int_rules(app))
    assert any(rule.rule.startswith("/objects") for rule, _ in _int_rules(app))


@pytest.mark.parametrize("value", [2**63, 2**64 + 1, 10**40])
def test_ids_beyond_64_bits_are_404_on_every_int_route(app, client, world, value):
    checked = 0
    for rule, names in _int_rules(app):
        path = _path(rule, names, value)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            response = client.open(path, method=method)
            # werkzeug answers 405 when another rule of the same path takes
            # other methods and its converter was never asked.
            expected = (404,) if method == "GET" else (404, 405)
            assert response.status_code in expected, (method, path, response.status_code)
            if path.startswith("/api/"):
                assert response.mimetype == "application/json", path
            checked += 1
    assert checked > 20


def test_the_largest_id_reaches_the_views_and_is_not_found(app, client, world):
    operator = factories.user("operator")
    factories.sign_in(client, operator)
    bearer = factories.bearer(factories.token(operator))
    for rule, names in _int_rules(app):
        if "GET" not in rule.methods:
            continue
        path = _path(rule, names, MAX_ID)
        response = client.get(path, headers=bearer if path.startswith("/api/") else {})
        assert response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize("field,value", [("object", 2**63), ("object", 2**64 + 7), ("service", 2**63),
                                         ("service", -2**70), ("object", 10**40)])
def test_rating_ids_beyond_64_bits_are_a_400(client, world, field, value):
    payload = factories.rating_payload(world.school.id)
    payload[field] = value
    response = client.post("/api/v1/ratings", json=payload)
    assert response.status_code == 400
    assert field in errors_of(response)


def test_the_largest_id_in_a_rating_is_an_unknown_object(client, world):
    response = client.post("/api/v1/ratings", json=factories.rating_payload(MAX_ID))
    assert response.status_code == 404


def test_extra_answers_beyond_64_bits_are_a_400(client, world):
    payload = factories.rating_payload(world.school.id, extra={"x": 2**64})
    response = client.post("/api/v1/ratings", json=payload)
    assert response.status_code == 400
    assert "extra" in errors_of(response)


# -- lone surrogates -------------------------------------------------------------

@pytest.mark.parametrize("where", ["comment", "client_token", "device_token", "channel", "reasons", "extra key",
                                   "unknown key", "scores key"])
def test_a_lone_surrogate_anywhere_in_a_rating_is_a_400(client, world, where):
    payload = factories.rating_payload(world.school.id, comment="ok")
    if where in ("comment", "client_token", "device_token", "channel"):
        payload[where] = "text " + SURROGATE
    elif where == "reasons":
        payload["reasons"] = [SURROGATE]
    elif where == "extra key":
        payload["extra"] = {SURROGATE: 3}
    elif where == "unknown key":
        payload[SURROGATE] = 1
    else:
        payload["scores"][SURROGATE] = 5
    response = post_json(client, "/api/v1/ratings", json.dumps(payload))
    assert response.status_code == 400
    messages = [m for ms in errors_of(response).values() for m in ms]
    assert any("not valid Unicode" in m for m in messages), messages
    from service.models import Rating
    assert Rating.select().count() == 0


def test_a_lone_surrogate_in_a_cabinet_api_body_is_a_400(app, client, world):
    operator = factories.user("operator")
    headers = factories.bearer(factories.token(operator))
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/cabinet") or not rule.methods & {"POST", "PUT", "PATCH"}:
            continue
        path = _path(rule, [n for n in rule.arguments], 1)
        method = sorted(rule.methods & {"POST", "PUT", "PATCH"})[0]
        response = client.open(path, method=method, data=json.dumps({"name": SURROGATE}),
                               content_type="application/json", headers=headers)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code == 400:
            assert response.data.decode("utf-8")
        checked += 1
    assert checked


def test_the_rating_form_refuses_text_that_is_not_utf8(client, world):
    page = client.get(f"/r/{world.school.id}?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = (f"csrf={csrf}&simplicity=5&information=5&timeliness=5&politeness=5&comment=%ED%B2%80").encode()
    response = client.post(f"/r/{world.school.id}?lang=en", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.get_data(as_text=True)
    from service.models import Rating
    assert Rating.select().count() == 0


def test_the_sign_in_form_refuses_raw_bytes_that_are_not_utf8(client, world):
    response = client.post("/login?lang=en", data=b"email=\xed\xb2\x80&password=x&csrf=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.get_data(as_text=True)


def test_a_valid_form_is_still_read(client, world):
    page = client.get(f"/r/{world.school.id}?lang=en").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post(f"/r/{world.school.id}?lang=en", data={
        "csrf": csrf, "simplicity": 5, "information": 5, "timeliness": 5, "politeness": 4,
        "comment": "Всё хорошо", "client_token": "0b8a4f7e-2f0c-4c59-9a53-6e1f4d1f2a10"})
    assert response.status_code in (200, 302, 303)
    from service.models import Rating
    assert Rating.get().comment == "Всё хорошо"


# -- the handlers themselves -------------------------------------------------------

@pytest.fixture
def broken_routes(app, caplog):
    # The crash's log line holds a lone surrogate, which pytest-xdist cannot
    # send from a worker as part of the test's report.
    caplog.set_level(logging.CRITICAL, logger="service.errors")

    def refuse():
        raise ApiError({SURROGATE: ["bad " + SURROGATE]})

    def bad_request():
        raise BadRequest("quoted " + SURROGATE)

    def crash():
        raise RuntimeError("boom " + SURROGATE)

    for prefix in ("/api/v1/test", "/test"):
        app.add_url_rule(f"{prefix}/refuse", f"{prefix}-refuse", refuse)
        app.add_url_rule(f"{prefix}/bad-request", f"{prefix}-bad-request", bad_request)
        app.add_url_rule(f"{prefix}/crash", f"{prefix}-crash", crash)
    return app


@pytest.mark.parametrize("path,status", [("refuse", 400), ("bad-request", 400), ("crash", 500)])
def test_error_json_that_cannot_be_encoded_still_answers(broken_routes, client, path, status):
    response = client.get(f"/api/v1/test/{path}")
    assert response.status_code == status
    body = json.loads(response.data.decode("utf-8"))
    assert body["errors"]
    if path == "refuse":
        assert body["errors"] == {"\\udc80": ["bad \\udc80"]}


@pytest.mark.parametrize("path,status", [("refuse", 400), ("bad-request", 400), ("crash", 500)])
def test_error_pages_that_cannot_be_encoded_still_answer(broken_routes, client, path, status):
    response = client.get(f"/test/{path}?lang=en")
    assert response.status_code == status
    text = response.data.decode("utf-8")
    assert "<h1>" in text
    if path != "crash":
        assert "\\udc80" in text
