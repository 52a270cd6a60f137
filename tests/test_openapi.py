"""``GET /api/v1/openapi.json`` describes the whole API, and the whole API,
fuzzed from that description, never answers with a server error."""
import re

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests import factories


def _document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def test_every_api_route_is_described(app, client):
    paths = _document(client)["paths"]
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routes) > 40
    described = set()
    for path, operations in paths.items():
        for method in operations:
            described.add((path, method.upper()))
    expected = {(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule), method) for rule, method in routes}
    assert described == expected


def test_queries_and_bodies_come_from_the_validating_schemas(client):
    document = _document(client)
    objects = document["paths"]["/api/v1/objects"]["get"]
    by_name = {p["name"]: p["schema"] for p in objects["parameters"]}
    assert set(by_name) == {"q", "sphere", "region", "page", "per_page", "lang"}
    assert by_name["per_page"]["maximum"] == 100 and by_name["page"]["minimum"] == 1

    rating = document["components"]["schemas"]["Rating"]
    assert set(rating["required"]) == {"object", "scores", "client_token"}
    assert rating["properties"]["scores"]["properties"]["politeness"] == {"type": "integer", "minimum": 1,
                                                                          "maximum": 5}
    assert "api" in rating["properties"]["channel"]["enum"]

    path = document["paths"]["/api/v1/cabinet/organizations/{organization_id}"]
    assert path["patch"]["security"] == [{"token": []}]
    assert path["patch"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrganizationChange"}
    # An edit needs no field; a registration needs its УНП and name.
    assert "required" not in document["components"]["schemas"]["OrganizationChange"]
    assert {"unp", "name"} <= set(document["components"]["schemas"]["Organization"]["required"])
    object_id = document["paths"]["/api/v1/objects/{object_id}"]["get"]["parameters"][0]
    assert object_id["in"] == "path" and object_id["schema"]["maximum"] == 2**63 - 1


# Examples per operation, mode and kind of ids: enough to reach every field
# with good and bad values, few enough that the whole API takes seconds.
EXAMPLES = 6


def _real_ids(client, world):
    """One existing target for each path parameter, so that examples get
    past "no such id" into the handlers."""
    from service import notifications, structure
    rating = factories.rate(client, world.school.id, 1, 2, 1, 1, comment="Очень долго").get_json()["id"]
    staff = factories.user("staff", world.clinic)
    return {"object_id": world.clinic.id, "organization_id": world.clinic.id,
            "subdivision_id": world.clinic_women.id, "rating_id": rating, "user_id": staff.id,
            "registry_id": structure.create_registry(world.body, [world.school]).id,
            "notification_id": notifications.send(world.school, "recommendation", "Сократить очередь",
                                                  sender=world.body).id,
            "token_id": factories.user("staff", world.school).id}


def test_the_api_never_answers_with_a_server_error(app, client, world):
    """Every operation, with data that fits its schema and data that does
    not, with ids that exist and ids that do not, with an operator's token
    (a new one each call: the fuzzer revokes tokens and deactivates users)."""
    ids = _real_ids(client, world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures, calls = [], [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        cabinet = operation.path.startswith("/api/v1/cabinet/")
        names = {p.name for p in operation.path_parameters}
        real = {name: ids[name] for name in names if name in ids}
        variants = [(mode, None) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        if real:
            variants += [(mode, real) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        for mode, path_parameters in variants:

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            def call(case):
                calls[0] += 1
                headers = {}
                if cabinet:
                    headers["Authorization"] = f"Bearer {factories.token(factories.user('operator'))}"
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{operation.label} ({mode.value}): {response.status_code} "
                                    f"for {case.path_parameters} {case.query} {case.body!r:.200}")

            try:
                call()
            except Unsatisfiable:
                # Nothing to break: an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert calls[0] > 300
    assert not failures, "\n".join(failures)
