"""Organizations in the cabinets: registering one, editing any (the
operator) or one's own profile (staff), subdivisions, services,
publication, the audit trail, the pages and the kit, on SQLite and
PostgreSQL. The CSV import is in test_importing.py."""
import re
import uuid

import pytest

from service import structure
from service.models import (
    AuditEntry, ObjectService, ObjectSphere, RatableObject, Rating, Registry, RollupMember, Service, User,
)
from tests import factories

API = "/api/v1/cabinet"


@pytest.fixture
def people(world):
    users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR),
        "body": factories.user(User.BODY, world.body),
        "staff": factories.user(User.STAFF, world.school),
        "stranger": factories.user(User.STAFF, world.clinic),
        "hidden": factories.user(User.STAFF, world.hidden),
    }
    return {name: (user, factories.bearer(factories.token(user))) for name, user in users.items()}


def full(**changes):
    payload = {"unp": "190000001", "name": "ГУО «Гимназия № 2 г. Бреста»", "short_name": "Гимназия № 2",
               "region": "brest", "district": "Брестский район", "locality": "г. Брест",
               "address": "ул. Ленина, 5", "spheres": ["education"], "evaluation_object": True,
               "authorized_body": False, "parent_body": None, "website": "https://gymn2.brest.by",
               "contacts": [{"name": "Иванова И. И.", "position": "Директор", "email": "director@gymn2.by",
                             "phone": "+375 162 21-00-00"}]}
    payload.update(changes)
    return payload


def organizations():
    return RatableObject.select().where(RatableObject.kind == RatableObject.ORGANIZATION).count()


def entries(action=None):
    query = AuditEntry.select().order_by(AuditEntry.id)
    return list(query.where(AuditEntry.action == action) if action else query)


def fresh(obj):
    return RatableObject.get_by_id(obj.id)


# -- registering one -------------------------------------------------------------------

def test_the_operator_registers_a_complete_organization_published_at_once(client, people):
    _, auth = people["operator"]
    response = client.post(f"{API}/organizations", json=full(), headers=auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["published"] is True and body["missing"] == []
    org = RatableObject.get_by_id(body["id"])
    assert org.unp == "190000001" and org.is_evaluation_object and not org.is_authorized_body
    assert org.contacts[0]["email"] == "director@gymn2.by"
    # It counts toward itself in the roll-up, like every new organization.
    assert RollupMember.select().where((RollupMember.organization == org.id) & (RollupMember.object == org.id)).exists()
    shown = client.get(f"{API}/organizations/{org.id}", headers=auth).get_json()
    assert {k: shown[k] for k in full()} == full()
    [entry] = entries("organization.create")
    assert entry.target_id == org.id and entry.before is None and entry.after["unp"] == "190000001"
    assert entry.after["spheres"] == ["education"] and entry.user_email == people["operator"][0].email


def test_registered_with_unp_and_name_only_it_waits_for_its_profile(client, people):
    _, auth = people["operator"]
    response = client.post(f"{API}/organizations", json={"unp": "190000002", "name": "Отдел ЗАГС"}, headers=auth)
    assert response.status_code == 201
    assert response.get_json()["published"] is False
    assert response.get_json()["missing"] == ["region", "locality", "address", "spheres"]
    org = RatableObject.get_by_id(response.get_json()["id"])
    assert org.is_evaluation_object and not org.is_authorized_body and not org.published


BAD_FIELDS = [
    ({"unp": "12345678"}, "unp", "nine digits"),
    ({"unp": "12345678a"}, "unp", "nine digits"),
    ({"unp": 123456789}, "unp", "text"),
    ({"unp": None}, "unp", "required"),
    ({"name": ""}, "name", "required"),
    ({"name": "   "}, "name", "required"),
    ({"name": "Ш" * 501}, "name", "at most 500"),
    ({"name": "Школа\x00"}, "name", "control"),
    ({"address": "ул. Ленина,\n5"}, "address", "line breaks"),
    ({"short_name": "Ш" * 201}, "short_name", "at most 200"),
    ({"region": "atlantis"}, "region", "unknown region"),
    ({"spheres": ["education", "moon"]}, "spheres", "moon"),
    ({"spheres": "education"}, "spheres", "list"),
    ({"evaluation_object": "yes"}, "evaluation_object", "true or false"),
    ({"authorized_body": 1}, "authorized_body", "true or false"),
    ({"parent_body": "7"}, "parent_body", "whole number"),
    ({"parent_body": 0}, "parent_body", "whole number"),
    ({"parent_body": 2**63}, "parent_body", "whole number"),
    ({"website": "ftp://gymn2.by"}, "website", "http"),
    ({"website": "https://"}, "website", "http"),
    ({"website": "gymn2.by"}, "website", "http"),
    ({"website": "https://gymn2 .by"}, "website", "http"),
    ({"website": "https://" + "a" * 300 + ".by"}, "website", "at most 300"),
    ({"contacts": [{"name": "Иванова", "email": "not-an-address"}]}, "contacts", "e-mail"),
    ({"contacts": [{"name": "Иванова", "phone": "call me"}]}, "contacts", "phone"),
    ({"contacts": [{}]}, "contacts", "a contact needs"),
    ({"contacts": [{"name": "Иванова", "age": 40}]}, "contacts", "unknown field"),
    ({"contacts": [{"name": f"Сотрудник {i}"} for i in range(21)]}, "contacts", "at most 20"),
    ({"contacts": "Иванова"}, "contacts", "list"),
    ({"colour": "blue"}, "colour", "unknown field"),
]


@pytest.mark.parametrize("change, field, words", BAD_FIELDS, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_FIELDS)])
def test_every_bad_field_is_refused_and_nothing_is_stored(client, people, change, field, words):
    _, auth = people["operator"]
    before = organizations()
    response = client.post(f"{API}/organizations", json=full(**change), headers=auth)
    assert response.status_code == 400, response.get_json()
    errors = response.get_json()["errors"]
    assert field in errors, errors
    assert words in str(errors[field]), errors
    assert organizations() == before and entries() == []


def test_a_missing_name_and_unp_are_both_named(client, people):
    _, auth = people["operator"]
    response = client.post(f"{API}/organizations", json={"region": "brest"}, headers=auth)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"unp", "name"}


def test_a_body_that_is_not_a_json_object_is_refused(client, people):
    _, auth = people["operator"]
    assert client.post(f"{API}/organizations", data="unp=1", headers=auth).status_code == 400
    assert client.post(f"{API}/organizations", json=[full()], headers=auth).status_code == 400


def test_a_registered_unp_is_a_conflict(client, people, world):
    _, auth = people["operator"]
    response = client.post(f"{API}/organizations", json=full(unp=world.school.unp), headers=auth)
    assert response.status_code == 409
    assert f"already registered (organization {world.school.id})" in response.get_json()["errors"]["unp"][0]
    assert entries() == []


def test_a_unp_registered_meanwhile_is_a_conflict_too(client, people, world, monkeypatch):
    # Another request registers the same УНП between the check and the
    # insert: the unique index refuses it, and the answer is the same 409.
    from service.cabinet import organizations as area
    real, calls = area.unp_conflict, []

    def late(unp, org=None):
        calls.append(unp)
        return None if len(calls) == 1 else real(unp, org)

    monkeypatch.setattr(area, "unp_conflict", late)
    _, auth = people["operator"]
    response = client.post(f"{API}/organizations", json=full(unp=world.school.unp), headers=auth)
    assert response.status_code == 409 and "already registered" in response.get_json()["errors"]["unp"][0]
    assert len(calls) == 2 and entries() == []


def test_the_parent_body_must_be_an_authorized_body(client, people, world):
    _, auth = people["operator"]
    for parent, words in ((world.school.id, "not an authorized body"), (world.clinic_women.id, "no organization"),
                          (10**9, "no organization")):
        response = client.post(f"{API}/organizations", json=full(parent_body=parent), headers=auth)
        assert response.status_code == 400 and words in response.get_json()["errors"]["parent_body"][0]
    response = client.post(f"{API}/organizations", json=full(parent_body=world.body.id), headers=auth)
    assert response.status_code == 201
    assert RatableObject.get_by_id(response.get_json()["id"]).parent_body_id == world.body.id


@pytest.mark.parametrize("who, status", [("moderator", 403), ("body", 403), ("staff", 403), ("nobody", 401)])
def test_only_the_operator_registers(client, people, who, status):
    auth = people[who][1] if who in people else {}
    assert client.post(f"{API}/organizations", json=full(), headers=auth).status_code == status
    assert client.get(f"{API}/organizations", headers=auth).status_code == status
    assert RatableObject.get_or_none(RatableObject.unp == "190000001") is None


# -- editing ---------------------------------------------------------------------------------

def test_the_operator_edits_any_field_and_the_audit_keeps_what_changed(client, people, world):
    _, auth = people["operator"]
    response = client.patch(f"{API}/organizations/{world.zags.id}",
                            json={"name": "Отдел ЗАГС Брестского горисполкома", "spheres": ["registry", "social"],
                                  "parent_body": world.body.id}, headers=auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "Отдел ЗАГС Брестского горисполкома" and body["spheres"] == ["registry", "social"]
    assert body["published"] is True and body["missing"] == [] and body["parent_body"] == world.body.id
    [entry] = entries("organization.update")
    assert entry.target_kind == "organization" and entry.target_id == world.zags.id
    assert set(entry.before) == {"name", "spheres", "parent_body"}
    assert entry.before["spheres"] == ["registry"] and entry.after["spheres"] == ["registry", "social"]
    assert fresh(world.zags).search_name == "отдел загс брестского горисполкома"


def test_an_edit_that_changes_nothing_writes_no_entry(client, people, world):
    _, auth = people["operator"]
    response = client.patch(f"{API}/organizations/{world.zags.id}", json={"name": world.zags.name}, headers=auth)
    assert response.status_code == 200 and entries() == []


def test_staff_fill_in_their_profile_and_the_organization_is_published(client, people, world):
    hidden_sub = structure.add_subdivision(world.hidden, "Филиал")
    _, auth = people["hidden"]
    shown = client.get(f"{API}/organizations/{world.hidden.id}", headers=auth).get_json()
    assert shown["published"] is False and shown["missing"] == ["region", "locality", "address"]
    response = client.patch(f"{API}/organizations/{world.hidden.id}", json={"locality": "г. Минск", "region": "minsk"},
                            headers=auth)
    assert response.get_json()["published"] is False and response.get_json()["missing"] == ["address"]
    response = client.patch(f"{API}/organizations/{world.hidden.id}",
                            json={"address": "пр-т Независимости, 10", "short_name": "Поликлиника",
                                  "website": "https://поликлиника.бел", "contacts": []}, headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["published"] is True and response.get_json()["missing"] == []
    assert fresh(world.hidden).published and fresh(hidden_sub).published
    assert len(entries("organization.update")) == 2
    # Emptying the address takes it off the portal again, subdivisions too.
    response = client.patch(f"{API}/organizations/{world.hidden.id}", json={"address": None}, headers=auth)
    assert response.get_json()["published"] is False and response.get_json()["missing"] == ["address"]
    assert not fresh(world.hidden).published and not fresh(hidden_sub).published


def test_no_sphere_no_publication(client, people, world):
    _, auth = people["staff"]
    response = client.patch(f"{API}/organizations/{world.school.id}", json={"spheres": []}, headers=auth)
    assert response.get_json()["published"] is False and response.get_json()["missing"] == ["spheres"]
    assert not ObjectSphere.select().where(ObjectSphere.object == world.school.id).exists()
    response = client.patch(f"{API}/organizations/{world.school.id}", json={"spheres": ["education", "education"]},
                            headers=auth)
    assert response.get_json()["published"] is True and response.get_json()["spheres"] == ["education"]


@pytest.mark.parametrize("fields", [{"name": "Другое имя"}, {"unp": "199999999"}, {"authorized_body": True},
                                    {"evaluation_object": False}, {"parent_body": None},
                                    {"unp": "199999999", "locality": "г. Брест", "authorized_body": True}])
def test_staff_may_not_change_what_the_operator_registered(client, people, world, fields):
    _, auth = people["staff"]
    before = fresh(world.school)
    response = client.patch(f"{API}/organizations/{world.school.id}", json=fields, headers=auth)
    assert response.status_code == 403
    forbidden = {f for f in fields if f in ("unp", "name", "authorized_body", "evaluation_object", "parent_body")}
    assert set(response.get_json()["errors"]) == forbidden
    assert "only the operator" in str(response.get_json()["errors"])
    after = fresh(world.school)
    assert (after.name, after.unp, after.locality) == (before.name, before.unp, before.locality)
    assert entries() == []


@pytest.mark.parametrize("who", ["stranger", "moderator", "body"])
def test_nobody_else_edits_an_organization(client, people, world, who):
    _, auth = people[who]
    assert client.patch(f"{API}/organizations/{world.school.id}", json={"locality": "г. Пинск"},
                        headers=auth).status_code == 403
    assert client.get(f"{API}/organizations/{world.school.id}", headers=auth).status_code == 403
    assert fresh(world.school).locality == "г. Брест"


def test_unknown_ids_and_subdivisions_are_not_organizations(client, people, world):
    _, auth = people["operator"]
    for target in (10**9, world.clinic_women.id):
        assert client.patch(f"{API}/organizations/{target}", json={"locality": "x"}, headers=auth).status_code == 404
        assert client.get(f"{API}/organizations/{target}", headers=auth).status_code == 404
    assert client.get(f"{API}/organizations/{2**63}", headers=auth).status_code == 404
    assert client.patch(f"{API}/subdivisions/{world.clinic.id}", json={"name": "x"}, headers=auth).status_code == 404


def test_an_edit_refused_for_a_bad_field_changes_nothing(client, people, world):
    _, auth = people["staff"]
    response = client.patch(f"{API}/organizations/{world.school.id}",
                            json={"locality": "г. Пинск", "website": "javascript:alert(1)"}, headers=auth)
    assert response.status_code == 400 and set(response.get_json()["errors"]) == {"website"}
    assert fresh(world.school).locality == "г. Брест" and entries() == []


def test_another_organizations_unp_is_a_conflict(client, people, world):
    _, auth = people["operator"]
    response = client.patch(f"{API}/organizations/{world.school.id}", json={"unp": world.clinic.unp}, headers=auth)
    assert response.status_code == 409 and "already registered" in response.get_json()["errors"]["unp"][0]
    same = client.patch(f"{API}/organizations/{world.school.id}", json={"unp": world.school.unp}, headers=auth)
    assert same.status_code == 200


def test_parent_bodies_make_no_circle(client, people, world):
    _, auth = people["operator"]
    ministry = factories.organization("Министерство", "minsk-city", ("registry",), is_authorized_body=True)
    assert client.patch(f"{API}/organizations/{world.body.id}", json={"parent_body": ministry.id},
                        headers=auth).status_code == 200
    response = client.patch(f"{API}/organizations/{ministry.id}", json={"parent_body": world.body.id}, headers=auth)
    assert response.status_code == 400 and "parent_body" in response.get_json()["errors"]
    response = client.patch(f"{API}/organizations/{world.body.id}", json={"parent_body": world.body.id}, headers=auth)
    assert response.status_code == 400


def test_a_body_others_depend_on_stays_a_body(client, people, world):
    _, auth = people["operator"]
    structure.create_registry(world.body, [world.school])
    response = client.patch(f"{API}/organizations/{world.body.id}", json={"authorized_body": False}, headers=auth)
    assert response.status_code == 409 and "1 registries" in response.get_json()["errors"]["authorized_body"][0]
    assert fresh(world.body).is_authorized_body
    Registry.delete().execute()
    response = client.patch(f"{API}/organizations/{world.body.id}", json={"authorized_body": False}, headers=auth)
    assert response.status_code == 200 and not fresh(world.body).is_authorized_body


# -- subdivisions ---------------------------------------------------------------------------------

def test_staff_add_and_rename_a_subdivision(client, people, world):
    _, auth = people["staff"]
    response = client.post(f"{API}/organizations/{world.school.id}/subdivisions",
                           json={"name": "Учебный корпус № 2", "address": "ул. Гоголя, 3", "locality": "г. Брест"},
                           headers=auth)
    assert response.status_code == 201
    sub = RatableObject.get_by_id(response.get_json()["id"])
    assert sub.organization_id == world.school.id and sub.published and sub.kind == RatableObject.SUBDIVISION
    # It counts toward its organization (and whatever that counts toward).
    assert RollupMember.select().where((RollupMember.organization == world.school.id)
                                       & (RollupMember.object == sub.id)).exists()
    response = client.patch(f"{API}/subdivisions/{sub.id}", json={"name": "Корпус на Гоголя", "address": None},
                            headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {"id": sub.id, "organization": world.school.id, "name": "Корпус на Гоголя",
                                   "address": None, "locality": "г. Брест", "published": True}
    created, updated = entries("subdivision.create"), entries("subdivision.update")
    assert len(created) == 1 and created[0].after["organization"] == world.school.id
    assert updated[0].before == {"name": "Учебный корпус № 2", "address": "ул. Гоголя, 3"}
    shown = client.get(f"{API}/organizations/{world.school.id}", headers=auth).get_json()
    assert [s["name"] for s in shown["subdivisions"]] == ["Корпус на Гоголя"]


@pytest.mark.parametrize("payload, field", [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 501}, "name"),
                                            ({"name": "Корпус", "floor": 2}, "floor"),
                                            ({"name": "Корпус", "locality": "x" * 201}, "locality")])
def test_a_bad_subdivision_is_refused(client, people, world, payload, field):
    _, auth = people["staff"]
    response = client.post(f"{API}/organizations/{world.school.id}/subdivisions", json=payload, headers=auth)
    assert response.status_code == 400 and field in response.get_json()["errors"]
    assert not world.school.subdivisions.exists() and entries() == []


def test_subdivisions_of_another_organization_are_out_of_reach(client, people, world):
    _, auth = people["staff"]
    assert client.post(f"{API}/organizations/{world.clinic.id}/subdivisions", json={"name": "Корпус"},
                       headers=auth).status_code == 403
    assert client.patch(f"{API}/subdivisions/{world.clinic_women.id}", json={"name": "x"},
                        headers=auth).status_code == 403
    assert client.delete(f"{API}/subdivisions/{world.clinic_women.id}", headers=auth).status_code == 403
    assert fresh(world.clinic_women).name == "Женская консультация"


def test_a_subdivision_without_ratings_can_be_removed_and_one_with_ratings_cannot(client, people, world):
    _, auth = people["stranger"]
    Rating.create(object=world.clinic_women.id, simplicity=5, information=5, timeliness=5, politeness=5,
                  channel="widget", month=202611, client_token=str(uuid.uuid4()), client_hash="x" * 32,
                  address_hash="y" * 32)
    response = client.delete(f"{API}/subdivisions/{world.clinic_women.id}", headers=auth)
    assert response.status_code == 409 and fresh(world.clinic_women)
    assert client.delete(f"{API}/subdivisions/{world.clinic_kids.id}", headers=auth).status_code == 204
    assert RatableObject.get_or_none(RatableObject.id == world.clinic_kids.id) is None
    assert not RollupMember.select().where(RollupMember.object == world.clinic_kids.id).exists()
    [entry] = entries("subdivision.delete")
    assert entry.before["name"] == "Детское отделение" and entry.after is None


# -- services ---------------------------------------------------------------------------------------

def test_services_are_set_as_a_whole_with_their_responsible_body(client, people, world):
    _, auth = people["stranger"]
    Service.update(responsible=world.body.id).where(Service.code == "doctor-appointment").execute()
    response = client.put(f"{API}/organizations/{world.clinic.id}/services",
                          json={"services": ["doctor-appointment", "medical-certificate"]}, headers=auth)
    assert response.status_code == 200
    services = {s["code"]: s for s in response.get_json()["services"]}
    assert set(services) == {"doctor-appointment", "medical-certificate"}
    assert services["doctor-appointment"]["responsible"] == {"id": world.body.id, "name": world.body.name}
    assert services["medical-certificate"]["responsible"] is None
    response = client.put(f"{API}/organizations/{world.clinic.id}/services",
                          json={"services": ["medical-certificate"]}, headers=auth)
    assert [s["code"] for s in response.get_json()["services"]] == ["medical-certificate"]
    first, second = entries("organization.services")
    assert first.before == {"services": []}
    assert second.before == {"services": ["doctor-appointment", "medical-certificate"]}
    assert second.after == {"services": ["medical-certificate"]}


@pytest.mark.parametrize("payload, words", [({"services": ["teleportation"]}, "teleportation"), ({}, "required"),
                                            ({"services": "passport"}, "list"), ({"services": [None]}, "required")])
def test_unknown_services_are_refused(client, people, world, payload, words):
    _, auth = people["staff"]
    response = client.put(f"{API}/organizations/{world.school.id}/services", json=payload, headers=auth)
    assert response.status_code == 400 and words in str(response.get_json()["errors"]["services"])
    assert not ObjectService.select().exists()


def test_services_of_another_organization_are_out_of_reach(client, people, world):
    _, auth = people["staff"]
    assert client.put(f"{API}/organizations/{world.clinic.id}/services", json={"services": []},
                      headers=auth).status_code == 403


# -- finding --------------------------------------------------------------------------------------------

def test_the_operator_finds_organizations_by_name_or_unp(client, people, world):
    _, auth = people["operator"]
    found = client.get(f"{API}/organizations?q=ПОЛИКЛИНИКА", headers=auth).get_json()
    assert [i["id"] for i in found["items"]] == [world.clinic.id] and found["total"] == 1
    found = client.get(f"{API}/organizations?q={world.zags.unp[:7]}", headers=auth).get_json()
    assert world.zags.id in [i["id"] for i in found["items"]]
    found = client.get(f"{API}/organizations?q={world.zags.unp}", headers=auth).get_json()
    assert [i["id"] for i in found["items"]] == [world.zags.id]
    found = client.get(f"{API}/organizations?published=no", headers=auth).get_json()
    assert [(i["id"], i["missing"]) for i in found["items"]] == [(world.hidden.id, ["region", "locality", "address"])]
    page = client.get(f"{API}/organizations?per_page=2&page=2", headers=auth).get_json()
    assert page["total"] == 5 and len(page["items"]) == 2 and page["page"] == 2
    everyone = client.get(f"{API}/organizations?per_page=10", headers=auth).get_json()["items"]
    assert world.clinic_women.id not in [i["id"] for i in everyone]
    assert client.get(f"{API}/organizations?page=0", headers=auth).status_code == 400


# -- pages --------------------------------------------------------------------------------------------------

def signed_in(client, user):
    assert factories.sign_in(client, user).status_code == 302
    return client


def post_form(client, path, data):
    return client.post(path, data=dict(data, csrf=factories.csrf_token(client)))


def text(response):
    return response.get_data(as_text=True)


def test_the_operators_list_searches_and_links(client, people, world):
    signed_in(client, people["operator"][0])
    page = client.get("/cabinet/organizations?lang=en&q=школа")
    assert page.status_code == 200
    body = text(page)
    assert world.school.name.replace("«", "&#171;") in body or "Средняя школа" in body
    assert f"/cabinet/organizations/{world.school.id}?lang=en" in body
    assert f"/cabinet/organizations/{world.school.id}/kit?lang=en" in body
    assert "Found: 1" in body and "Register an organization" in body and "Import from CSV" in body
    hidden = text(client.get("/cabinet/organizations?lang=en&published=no"))
    assert "not published; missing: region, locality, address" in hidden


@pytest.mark.parametrize("who", ["moderator", "body", "staff"])
def test_the_list_and_the_forms_are_the_operators(client, people, who):
    signed_in(client, people[who][0])
    for path in ("/cabinet/organizations", "/cabinet/organizations/new", "/cabinet/organizations/import"):
        assert client.get(path).status_code == 403
    assert post_form(client, "/cabinet/organizations/new", {"unp": "190000001", "name": "x"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(f"/cabinet/organizations/{world.school.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/cabinet/organizations/{world.school.id}").status_code in (400, 401)


def test_a_refused_registration_form_comes_back_with_errors_and_what_was_typed(client, people):
    signed_in(client, people["operator"][0])
    form = {"unp": "12345", "name": "Гимназия № 7", "region": "brest", "locality": "г. Брест",
            "spheres": ["education", "health"], "website": "gymn7.by", "evaluation_object": "1",
            "contacts-0-name": "Петров", "contacts-0-email": "petrov@", "contacts-1-name": ""}
    response = post_form(client, "/cabinet/organizations/new?lang=en", form)
    assert response.status_code == 400
    body = text(response)
    assert 'role="alert"' in body
    assert re.search(r'id="f-unp"[^>]*value="12345"[^>]*aria-invalid="true"', body)
    assert 'id="e-unp"' in body and "exactly nine digits" in body
    assert 'id="e-website"' in body and 'value="gymn7.by"' in body
    assert 'id="e-contacts-0-email"' in body and 'value="petrov@"' in body
    assert 'value="Гимназия № 7"' in body
    assert re.search(r'<option value="health" selected>', body)
    assert RatableObject.get_or_none(RatableObject.unp == "12345") is None and entries() == []


def test_the_registration_form_speaks_the_pages_language(client, people):
    signed_in(client, people["operator"][0])
    response = post_form(client, "/cabinet/organizations/new?lang=ru", {"unp": "1", "name": ""})
    assert response.status_code == 400
    assert "УНП — ровно девять цифр." in text(response) and "Обязательное поле." in text(response)


def test_the_registration_form_registers(client, people, world):
    signed_in(client, people["operator"][0])
    form = {"unp": "190000007", "name": "Гимназия № 7", "region": "brest", "locality": "г. Брест",
            "address": "ул. Мира, 1", "spheres": ["education"], "evaluation_object": "1",
            "parent_body": str(world.body.id), "contacts-0-name": "Петров", "contacts-0-email": "petrov@gymn7.by",
            "contacts-1-name": " "}
    response = post_form(client, "/cabinet/organizations/new?lang=en", form)
    assert response.status_code == 303
    org = RatableObject.get(RatableObject.unp == "190000007")
    assert response.headers["Location"].endswith(f"/cabinet/organizations/{org.id}?lang=en&saved=1")
    assert org.published and org.is_evaluation_object and not org.is_authorized_body
    assert org.parent_body_id == world.body.id and org.contacts == [{"name": "Петров", "email": "petrov@gymn7.by"}]
    page = text(client.get(response.headers["Location"]))
    assert "Saved." in page and "Published: shown on the portal" in page


def test_a_duplicate_unp_in_the_form_is_a_conflict_shown_at_the_field(client, people, world):
    signed_in(client, people["operator"][0])
    response = post_form(client, "/cabinet/organizations/new?lang=en", {"unp": world.school.unp, "name": "Копия"})
    assert response.status_code == 409 and 'id="e-unp"' in text(response)


def test_staff_see_their_profile_with_what_publication_needs(client, people, world):
    signed_in(client, people["hidden"][0])
    page = client.get(f"/cabinet/organizations/{world.hidden.id}?lang=en")
    assert page.status_code == 200
    body = text(page)
    assert "Not published. To publish it, fill in:" in body
    assert "<li>region</li>" in body and "<li>address</li>" in body and "<li>at least one sphere</li>" not in body
    # The registration data are shown, not offered for editing.
    assert 'name="unp"' not in body and 'name="authorized_body"' not in body and 'name="name"' not in body
    assert "The operator changes these." in body and world.hidden.unp in body


def test_staff_complete_the_profile_through_the_form(client, people, world):
    signed_in(client, people["hidden"][0])
    form = {"short_name": "Поликлиника", "region": "minsk", "district": "", "locality": "г. Борисов",
            "address": "ул. Гагарина, 1", "spheres": ["health"], "website": "",
            "contacts-0-name": "Сидорова", "contacts-0-position": "Главный врач", "contacts-0-phone": "+375 177 00-00-00",
            "name": "Попытка переименовать"}
    response = post_form(client, f"/cabinet/organizations/{world.hidden.id}?lang=en", form)
    assert response.status_code == 303
    org = fresh(world.hidden)
    assert org.published and org.locality == "г. Борисов" and org.website is None
    # A registration field slipped into the form is not the staff's to change; it is ignored.
    assert org.name == "Организация без адреса"
    [entry] = entries("organization.update")
    assert entry.after["locality"] == "г. Борисов" and "name" not in entry.after


def test_a_refused_profile_comes_back_with_what_was_typed(client, people, world):
    signed_in(client, people["staff"][0])
    form = {"locality": "г. Пинск", "address": "", "region": "brest", "spheres": ["education"],
            "website": "ftp://school.by", "contacts-0-email": "nobody"}
    response = post_form(client, f"/cabinet/organizations/{world.school.id}?lang=en", form)
    assert response.status_code == 400
    body = text(response)
    assert 'value="г. Пинск"' in body and 'value="ftp://school.by"' in body and 'id="e-website"' in body
    assert 'id="e-contacts-0-email"' in body and "not a valid e-mail address" in body
    assert fresh(world.school).locality == "г. Брест" and entries() == []


def test_staff_cannot_open_another_organizations_profile(client, people, world):
    signed_in(client, people["staff"][0])
    assert client.get(f"/cabinet/organizations/{world.clinic.id}").status_code == 403
    assert post_form(client, f"/cabinet/organizations/{world.clinic.id}", {"locality": "x"}).status_code == 403
    assert client.get("/cabinet/organizations/999999999").status_code == 404
    assert client.get(f"/cabinet/organizations/{world.clinic_women.id}").status_code == 404


@pytest.mark.parametrize("who, status, target", [("staff", 303, "school"), ("operator", 303, None),
                                                  ("moderator", 403, None), ("body", 403, None)])
def test_my_organization_leads_staff_to_their_own(client, people, world, who, status, target):
    signed_in(client, people[who][0])
    response = client.get("/cabinet/organization?lang=en")
    assert response.status_code == status
    if target:
        assert response.headers["Location"].endswith(f"/cabinet/organizations/{world.school.id}?lang=en")
    elif status == 303:
        assert response.headers["Location"].endswith("/cabinet/organizations?lang=en")


def test_the_operator_edits_registration_fields_through_the_form(client, people, world):
    signed_in(client, people["operator"][0])
    page = text(client.get(f"/cabinet/organizations/{world.zags.id}?lang=en"))
    assert 'name="unp"' in page and 'name="authorized_body"' in page
    form = {"unp": world.zags.unp, "name": world.zags.name, "evaluation_object": "1", "authorized_body": "1",
            "region": "brest", "locality": "г. Брест", "address": "ул. Советская, 1", "spheres": ["registry"]}
    assert post_form(client, f"/cabinet/organizations/{world.zags.id}", form).status_code == 303
    assert fresh(world.zags).is_authorized_body


def test_services_through_the_form(client, people, world):
    signed_in(client, people["staff"][0])
    response = post_form(client, f"/cabinet/organizations/{world.school.id}/services",
                         {"services": ["school-enrolment", "kindergarten-place"]})
    assert response.status_code == 303
    assert ObjectService.select().where(ObjectService.object == world.school.id).count() == 2
    bad = post_form(client, f"/cabinet/organizations/{world.school.id}/services?lang=en", {"services": ["x-ray"]})
    assert bad.status_code == 400 and "unknown services: x-ray" in text(bad)
    assert ObjectService.select().where(ObjectService.object == world.school.id).count() == 2


def test_subdivisions_through_the_forms(client, people, world):
    signed_in(client, people["staff"][0])
    base = f"/cabinet/organizations/{world.school.id}/subdivisions"
    assert client.get(f"{base}/new?lang=en").status_code == 200
    refused = post_form(client, f"{base}/new?lang=en", {"name": "", "locality": "г. Брест"})
    assert refused.status_code == 400 and 'id="e-name"' in text(refused) and 'value="г. Брест"' in text(refused)
    assert not world.school.subdivisions.exists()
    assert post_form(client, f"{base}/new", {"name": "Корпус № 2", "locality": "", "address": ""}).status_code == 303
    sub = world.school.subdivisions.get()
    page = text(client.get(f"/cabinet/organizations/{world.school.id}?lang=en"))
    assert "Корпус № 2" in page and f"{base}/{sub.id}?lang=en" in page
    assert post_form(client, f"{base}/{sub.id}", {"name": "Корпус на Мира", "locality": "", "address": ""}
                     ).status_code == 303
    assert fresh(sub).name == "Корпус на Мира"
    assert "Remove the subdivision" in text(client.get(f"{base}/{sub.id}?lang=en"))
    assert post_form(client, f"{base}/{sub.id}/delete", {}).status_code == 303
    assert not world.school.subdivisions.exists()
    # A subdivision is reached through its own organization only.
    other = f"/cabinet/organizations/{world.school.id}/subdivisions/{world.clinic_women.id}"
    assert client.get(other).status_code == 404


def test_the_kit_gives_the_snippet_and_print_links_to_those_who_read_ratings(client, people, world, app):
    signed_in(client, people["stranger"][0])
    page = client.get(f"/cabinet/organizations/{world.clinic.id}/kit?lang=en")
    assert page.status_code == 200
    body = text(page)
    base = app.config["BASE_URL"]
    for obj in (world.clinic, world.clinic_women, world.clinic_kids):
        assert (f'&lt;script async src=&#34;{base}/widget.js&#34; data-object=&#34;{obj.id}&#34;&gt;&lt;/script&gt;'
                in body)
        for link in (f"/qr/{obj.id}.png", f"/qr/{obj.id}.svg", f"/poster/{obj.id}.pdf", f"/banner/{obj.id}.png",
                     f"/banner/{obj.id}.svg", f"/banner/{obj.id}.html", f"/badge/{obj.id}.svg"):
            assert base + link in body
    assert f"{base}/poster/{world.clinic.id}/all.pdf" in body
    assert client.get(f"/cabinet/organizations/{world.school.id}/kit").status_code == 403


@pytest.mark.parametrize("who, status", [("operator", 200), ("moderator", 200), ("body", 403), ("staff", 200),
                                         ("stranger", 403)])
def test_the_kit_follows_the_read_ratings_scope(client, people, world, who, status):
    signed_in(client, people[who][0])
    assert client.get(f"/cabinet/organizations/{world.school.id}/kit").status_code == status


def test_a_body_sees_the_kit_of_its_accepted_registry(client, people, world):
    registry = structure.create_registry(world.body, [world.school])
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)
    signed_in(client, people["body"][0])
    assert client.get(f"/cabinet/organizations/{world.school.id}/kit").status_code == 200
    assert client.get(f"/cabinet/organizations/{world.clinic.id}/kit").status_code == 403
    # Reading is not editing.
    assert client.get(f"/cabinet/organizations/{world.school.id}").status_code == 403


def test_an_unpublished_organizations_kit_says_so(client, people, world):
    signed_in(client, people["hidden"][0])
    assert "not published yet" in text(client.get(f"/cabinet/organizations/{world.hidden.id}/kit?lang=en"))


@pytest.mark.parametrize("lang, words", [("ru", "Профиль"), ("be", "Профіль"), ("en", "Profile"), ("tt", "Профиль")])
def test_the_profile_page_in_four_languages(client, people, world, lang, words):
    signed_in(client, people["staff"][0])
    body = text(client.get(f"/cabinet/organizations/{world.school.id}?lang={lang}"))
    assert f"<h2>{words}</h2>" in body and f'lang="{lang}"' in body
    assert "cabinet.org." not in body  # every string has its translation
