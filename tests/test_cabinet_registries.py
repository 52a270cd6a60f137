"""Local registries in the cabinets, on SQLite and PostgreSQL: the body keeps
its own, the operator accepts or returns them, acceptance (and only
acceptance) gives the body its organizations, and every change is audited."""
import re

import pytest

from service import structure
from service.cabinet import permissions
from service.models import AuditEntry, Registry, RegistryEntry, User
from tests import factories

API = "/api/v1/cabinet"


@pytest.fixture
def people(world):
    other_body = factories.organization("Гомельский облисполком", "gomel", ("registry",),
                                        is_authorized_body=True, is_evaluation_object=False)
    users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR),
        "body": factories.user(User.BODY, world.body),
        "other_body": factories.user(User.BODY, other_body),
        "staff": factories.user(User.STAFF, world.school),
    }
    users["other_body_org"] = other_body
    return users


@pytest.fixture
def auth(people):
    """Bearer headers by role name."""
    return {name: factories.bearer(factories.token(user)) for name, user in people.items()
            if isinstance(user, User)}


def create(client, headers, name="Подчинённые организации"):
    return client.post(f"{API}/registries", json={"name": name}, headers=headers)


def put_entries(client, headers, registry_id, ids):
    return client.put(f"{API}/registries/{registry_id}/entries", json={"organizations": ids}, headers=headers)


def move(client, headers, registry_id, to, reason=None):
    payload = {"to": to} if reason is None else {"to": to, "reason": reason}
    return client.post(f"{API}/registries/{registry_id}/transitions", json=payload, headers=headers)


def audit_actions(registry_id):
    return [e.action for e in AuditEntry.select().where((AuditEntry.target_kind == "registry")
                                                        & (AuditEntry.target_id == registry_id))
            .order_by(AuditEntry.id)]


# -- JSON ------------------------------------------------------------------------

def test_only_a_body_creates_a_registry_and_it_starts_as_a_draft(client, world, auth):
    response = create(client, auth["body"])
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "draft" and set(body) == {"id", "status"}
    registry = Registry.get_by_id(body["id"])
    assert registry.body_id == world.body.id and registry.name == "Подчинённые организации"
    assert audit_actions(registry.id) == ["registry.create"]
    for role in ("operator", "moderator", "staff"):
        assert create(client, auth[role]).status_code == 403, role
    assert client.post(f"{API}/registries", json={"name": "x"}).status_code == 401
    for bad in ({}, {"name": "   "}, {"name": "x" * 301}, {"name": "x", "colour": "red"}, []):
        response = client.post(f"{API}/registries", json=bad, headers=auth["body"])
        assert response.status_code == 400 and response.get_json()["errors"], bad
    assert Registry.select().count() == 1


def test_a_body_whose_organization_is_no_authorized_body_cannot_create(client, world):
    odd = factories.user(User.BODY, world.zags)  # a body user of an ordinary organization
    assert create(client, factories.bearer(factories.token(odd))).status_code == 403
    assert Registry.select().count() == 0


def test_the_list_the_operator_all_submitted_first_a_body_its_own(client, world, people, auth):
    mine = create(client, auth["body"], "Мой").get_json()["id"]
    submitted = create(client, auth["other_body"], "Чужой").get_json()["id"]
    put_entries(client, auth["other_body"], submitted, [world.clinic.id])
    move(client, auth["other_body"], submitted, "approved")
    move(client, auth["other_body"], submitted, "submitted")
    everything = client.get(f"{API}/registries", headers=auth["operator"]).get_json()
    assert [r["id"] for r in everything["items"]] == [submitted, mine] and everything["total"] == 2
    first = everything["items"][0]
    assert first["body"] == {"id": people["other_body_org"].id, "name": "Гомельский облисполком"}
    assert first["status"] == "submitted" and first["entries"] == 1 and first["return_reason"] is None
    assert set(first) == {"id", "name", "body", "status", "return_reason", "entries", "created", "updated"}
    drafts = client.get(f"{API}/registries?status=draft", headers=auth["operator"]).get_json()
    assert [r["id"] for r in drafts["items"]] == [mine]
    assert client.get(f"{API}/registries?status=lost", headers=auth["operator"]).status_code == 400
    own = client.get(f"{API}/registries", headers=auth["body"]).get_json()
    assert [r["id"] for r in own["items"]] == [mine]
    for role in ("moderator", "staff"):
        assert client.get(f"{API}/registries", headers=auth[role]).status_code == 403, role
    assert client.get(f"{API}/registries").status_code == 401


def test_entries_only_organizations_and_the_bad_ids_are_named(client, world, auth):
    registry_id = create(client, auth["body"]).get_json()["id"]
    response = put_entries(client, auth["body"], registry_id, [world.school.id, world.zags.id, world.hidden.id])
    assert response.status_code == 200 and response.get_json()["entries"] == 3
    bad = [world.clinic_women.id, world.body.id, 2**40]
    response = put_entries(client, auth["body"], registry_id, [world.clinic.id] + bad)
    assert response.status_code == 400
    message = response.get_json()["errors"]["organizations"][0]
    assert set(message.rsplit(":", 1)[1].replace(" ", "").split(",")) == {str(i) for i in bad}
    members = {e.organization_id for e in RegistryEntry.select().where(RegistryEntry.registry == registry_id)}
    assert members == {world.school.id, world.zags.id, world.hidden.id}, "nothing is stored on a refusal"
    for payload in ({"organizations": ["1"]}, {"organizations": 5}, {}, {"organizations": [1.5]},
                    {"organizations": [world.clinic.id, 2**70]}):
        assert client.put(f"{API}/registries/{registry_id}/entries", json=payload,
                          headers=auth["body"]).status_code == 400, payload
    # Replacing the list records what changed.
    assert put_entries(client, auth["body"], registry_id, [world.school.id, world.clinic.id]).status_code == 200
    last = AuditEntry.select().where(AuditEntry.action == "registry.entries").order_by(AuditEntry.id.desc()).get()
    assert last.after == {"added": [world.clinic.id], "removed": sorted([world.zags.id, world.hidden.id]),
                          "entries": 2}
    assert put_entries(client, auth["other_body"], registry_id, []).status_code == 403
    assert put_entries(client, auth["operator"], registry_id, []).status_code == 403
    assert put_entries(client, auth["body"], 2**40, []).status_code == 404


def test_entries_change_only_in_draft_or_returned(client, world, auth):
    registry_id = create(client, auth["body"]).get_json()["id"]
    put_entries(client, auth["body"], registry_id, [world.school.id])
    assert move(client, auth["body"], registry_id, "approved").status_code == 200
    assert put_entries(client, auth["body"], registry_id, [world.zags.id]).status_code == 409
    move(client, auth["body"], registry_id, "submitted")
    assert put_entries(client, auth["body"], registry_id, [world.zags.id]).status_code == 409
    move(client, auth["operator"], registry_id, "returned", "Нет поликлиники")
    assert put_entries(client, auth["body"], registry_id, [world.school.id, world.clinic.id]).status_code == 200
    move(client, auth["body"], registry_id, "draft")
    move(client, auth["body"], registry_id, "approved")
    move(client, auth["body"], registry_id, "submitted")
    move(client, auth["operator"], registry_id, "accepted")
    assert put_entries(client, auth["body"], registry_id, []).status_code == 409
    assert RegistryEntry.select().where(RegistryEntry.registry == registry_id).count() == 2


def test_the_states_move_only_as_the_spec_says(client, world, auth):
    registry_id = create(client, auth["body"]).get_json()["id"]
    assert move(client, auth["body"], registry_id, "approved").status_code == 409, "an empty registry"
    put_entries(client, auth["body"], registry_id, [world.school.id])
    assert move(client, auth["body"], registry_id, "submitted").status_code == 409, "not approved yet"
    assert move(client, auth["operator"], registry_id, "accepted").status_code == 409, "not submitted"
    assert move(client, auth["operator"], registry_id, "approved").status_code == 403, "the body's move"
    for role in ("moderator", "staff", "other_body"):
        assert move(client, auth[role], registry_id, "approved").status_code == 403, role
    assert move(client, auth["body"], registry_id, "approved").get_json()["status"] == "approved"
    assert move(client, auth["body"], registry_id, "draft").get_json()["status"] == "draft"
    move(client, auth["body"], registry_id, "approved")
    assert move(client, auth["body"], registry_id, "submitted").get_json()["status"] == "submitted"
    assert move(client, auth["body"], registry_id, "accepted").status_code == 403, "the operator's decision"
    assert move(client, auth["body"], registry_id, "draft").status_code == 409, "no withdrawal once submitted"
    for reason in (None, "", "   "):
        response = move(client, auth["operator"], registry_id, "returned", reason)
        assert response.status_code == 400 and "reason" in response.get_json()["errors"], reason
    assert Registry.get_by_id(registry_id).state == "submitted"
    returned = move(client, auth["operator"], registry_id, "returned", "  Нет поликлиники № 5  ").get_json()
    assert returned["status"] == "returned" and returned["return_reason"] == "Нет поликлиники № 5"
    seen_by_body = client.get(f"{API}/registries/{registry_id}", headers=auth["body"]).get_json()
    assert seen_by_body["return_reason"] == "Нет поликлиники № 5" and seen_by_body["moves"] == ["draft"]
    assert move(client, auth["body"], registry_id, "draft").get_json()["return_reason"] is None
    for payload in ({"to": "lost"}, {}, {"to": "approved", "colour": 1}):
        response = client.post(f"{API}/registries/{registry_id}/transitions", json=payload, headers=auth["body"])
        assert response.status_code == 400, payload
    assert move(client, auth["body"], 2**40, "approved").status_code == 404
    assert move(client, auth["staff"], 2**40, "approved").status_code == 404
    assert audit_actions(registry_id) == ["registry.create", "registry.entries"] + ["registry.move"] * 6


def test_acceptance_gives_the_body_its_organizations_and_draft_takes_them_back(client, world, people, auth):
    body_user = people["body"]
    read = permissions.READ_RATINGS
    registry_id = create(client, auth["body"]).get_json()["id"]
    put_entries(client, auth["body"], registry_id, [world.school.id, world.clinic.id])
    move(client, auth["body"], registry_id, "approved")
    move(client, auth["body"], registry_id, "submitted")
    assert not permissions.allowed(body_user, read, world.school)
    assert not permissions.allowed(body_user, read, world.clinic_kids)
    assert move(client, auth["operator"], registry_id, "accepted").get_json()["status"] == "accepted"
    assert permissions.allowed(body_user, read, world.school)
    assert permissions.allowed(body_user, read, world.clinic_kids)
    assert not permissions.allowed(body_user, read, world.zags)
    assert move(client, auth["body"], registry_id, "draft").status_code == 200
    assert not permissions.allowed(body_user, read, world.school)
    entry = AuditEntry.select().where(AuditEntry.action == "registry.move").order_by(AuditEntry.id.desc()).get()
    assert entry.before == {"state": "accepted"} and entry.after == {"state": "draft"}
    assert entry.user_email == body_user.email


def test_a_new_accepted_registry_supersedes_the_one_in_force(client, world, people, auth):
    ids = []
    for members in ([world.school.id], [world.school.id, world.zags.id]):
        registry_id = create(client, auth["body"]).get_json()["id"]
        put_entries(client, auth["body"], registry_id, members)
        move(client, auth["body"], registry_id, "approved")
        move(client, auth["body"], registry_id, "submitted")
        ids.append(registry_id)
    move(client, auth["operator"], ids[0], "accepted")
    move(client, auth["operator"], ids[1], "accepted")
    assert Registry.get_by_id(ids[0]).state == "draft" and Registry.get_by_id(ids[1]).state == "accepted"
    assert audit_actions(ids[0])[-1] == "registry.superseded"
    assert permissions.allowed(people["body"], permissions.READ_RATINGS, world.zags)


def test_a_registry_can_start_from_another_of_the_same_body(client, world, auth):
    source = create(client, auth["body"], "Старый").get_json()["id"]
    put_entries(client, auth["body"], source, [world.school.id, world.zags.id])
    response = client.post(f"{API}/registries", json={"name": "Новый", "copy_from": source}, headers=auth["body"])
    assert response.status_code == 201
    assert client.get(f"{API}/registries/{response.get_json()['id']}", headers=auth["body"]).get_json()["entries"] == 2
    stranger = client.post(f"{API}/registries", json={"name": "x", "copy_from": source}, headers=auth["other_body"])
    assert stranger.status_code == 400 and "copy_from" in stranger.get_json()["errors"]


def test_one_registry_with_its_entries_paginated(client, world, people, auth):
    many = structure.register_many([{"name": f"Школа № {i:03d}", "unp": f"30000{i:04d}"} for i in range(150)])
    registry_id = create(client, auth["body"]).get_json()["id"]
    assert put_entries(client, auth["body"], registry_id, many).get_json()["entries"] == 150
    page = client.get(f"{API}/registries/{registry_id}?page=2&per_page=100", headers=auth["body"]).get_json()
    assert page["entries"] == 150 and page["organizations"]["total"] == 150
    assert len(page["organizations"]["items"]) == 50
    assert page["organizations"]["items"][0]["name"] == "Школа № 100"
    assert page["moves"] == ["approved"]
    found = client.get(f"{API}/registries/{registry_id}?find=300000042", headers=auth["operator"]).get_json()
    assert [o["unp"] for o in found["organizations"]["items"]] == ["300000042"] and found["moves"] == []
    for role in ("moderator", "staff", "other_body"):
        assert client.get(f"{API}/registries/{registry_id}", headers=auth[role]).status_code == 403, role
    assert client.get(f"{API}/registries/{2**40}", headers=auth["operator"]).status_code == 404
    assert client.get(f"{API}/registries/{2**70}", headers=auth["operator"]).status_code == 404


# -- pages ------------------------------------------------------------------------

def signed_in(app, user):
    client = app.test_client()
    assert factories.sign_in(client, user).status_code == 302
    return client


def post(client, path, **data):
    return client.post(path, data=dict(data, csrf=factories.csrf_token(client)))


def test_the_body_creates_a_registry_on_the_page_and_sees_what_comes_next(app, world, people):
    client = signed_in(app, people["body"])
    page = client.get("/cabinet/registries?lang=en")
    assert page.status_code == 200 and "New registry" in page.get_data(as_text=True)
    refused = post(client, "/cabinet/registries?lang=en", name="  ")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'role="alert"' in text and "Give the registry a name." in text and 'aria-invalid="true"' in text
    assert Registry.select().count() == 0
    created = post(client, "/cabinet/registries?lang=en", name="Школы области")
    assert created.status_code == 303
    registry = Registry.get()
    assert created.headers["Location"].startswith(f"/cabinet/registries/{registry.id}?lang=en")
    text = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Draft: add organizations, then approve the registry." in text
    assert 'aria-current="step"' in text and "Add or remove by a list" in text
    assert "Approve" in text


def test_pasting_a_list_adds_and_removes_and_a_bad_token_changes_nothing(app, world, people):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    client = signed_in(app, people["body"])
    path = f"/cabinet/registries/{registry.id}/entries?lang=en"
    added = post(client, path, op="add", pasted=f"{world.clinic.unp}\n{world.zags.id}, {world.hidden.unp}")
    assert added.status_code == 303
    assert structure.registry_members(registry) == {world.school.id, world.clinic.id, world.zags.id, world.hidden.id}
    refused = post(client, path, op="add", pasted=f"{world.clinic.unp} 999999999 школа {world.clinic_women.id}")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "999999999" in text and "школа" in text and 'id="e-pasted"' in text
    assert "999999999 школа" in text, "what was typed is kept"
    not_listable = post(client, path, op="add", pasted=f"{world.clinic_women.id}\n{world.body.unp}")
    assert not_listable.status_code == 400
    assert f"{world.clinic_women.id}, {world.body.id}</span>" in not_listable.get_data(as_text=True)
    assert len(structure.registry_members(registry)) == 4
    removed = client.post(path, data={"op": "remove", "organizations": [str(world.school.id), str(world.zags.id)],
                                      "csrf": factories.csrf_token(client)})
    assert removed.status_code == 303 and "removed=2" in removed.headers["Location"]
    assert structure.registry_members(registry) == {world.clinic.id, world.hidden.id}
    assert post(client, path, op="add").status_code == 400
    assert post(client, path, op="explode", pasted=str(world.zags.id)).status_code == 400
    assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)] == ["registry.entries"] * 2


def test_searching_finds_organizations_to_add(app, world, people):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    client = signed_in(app, people["body"])
    text = client.get(f"/cabinet/registries/{registry.id}?lang=en&q=брест").get_data(as_text=True)
    assert "Отдел ЗАГС Брестского райисполкома" in text and f'name="organizations" value="{world.zags.id}"' in text
    assert "already listed" in text and f'id="add-{world.school.id}"' not in text
    assert f'value="{world.body.id}"' not in text, "a body does not list itself"


def test_the_operator_returns_with_a_reason_on_the_page(app, world, people):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    structure.move_registry(registry, Registry.APPROVED)
    structure.move_registry(registry, Registry.SUBMITTED)
    operator = signed_in(app, people["operator"])
    page = operator.get(f"/cabinet/registries/{registry.id}?lang=en").get_data(as_text=True)
    assert "Accept" in page and "Return for changes" in page and "Add or remove by a list" not in page
    assert "Remove the selected" not in page
    path = f"/cabinet/registries/{registry.id}/transitions?lang=en"
    refused = post(operator, path, to="returned", reason="")
    assert refused.status_code == 400 and "Give the reason for the return." in refused.get_data(as_text=True)
    assert Registry.get_by_id(registry.id).state == "submitted"
    assert post(operator, path, to="approved").status_code == 403
    assert post(operator, path, to="returned", reason="Нет двух школ").status_code == 303
    body = signed_in(app, people["body"])
    text = body.get(f"/cabinet/registries/{registry.id}?lang=en").get_data(as_text=True)
    assert "Reason for the return: Нет двух школ" in text and "Back to draft" in text
    again = post(operator, path, to="accepted")
    assert again.status_code == 409 and Registry.get_by_id(registry.id).state == "returned"


def test_a_page_edit_in_the_wrong_state_is_refused_and_changes_nothing(app, world, people):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    structure.move_registry(registry, Registry.APPROVED)
    client = signed_in(app, people["body"])
    refused = post(client, f"/cabinet/registries/{registry.id}/entries?lang=en", op="add", pasted=str(world.zags.id))
    assert refused.status_code == 409
    assert structure.registry_members(registry) == {world.school.id}
    assert "Submit to the operator" in refused.get_data(as_text=True)


def test_the_pages_follow_the_permission_table(app, world, people):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    for role in ("moderator", "staff"):
        client = signed_in(app, people[role])
        assert client.get("/cabinet/registries").status_code == 403, role
        assert client.get(f"/cabinet/registries/{registry.id}").status_code == 403, role
    other = signed_in(app, people["other_body"])
    assert other.get(f"/cabinet/registries/{registry.id}").status_code == 403
    assert post(other, f"/cabinet/registries/{registry.id}/transitions", to="approved").status_code == 403
    assert post(other, f"/cabinet/registries/{registry.id}/entries", op="add", pasted="1").status_code == 403
    operator = signed_in(app, people["operator"])
    assert post(operator, "/cabinet/registries", name="x").status_code == 403
    assert operator.get(f"/cabinet/registries/{2**40}").status_code == 404
    assert app.test_client().get("/cabinet/registries").status_code == 302
    assert Registry.get_by_id(registry.id).state == "draft"


@pytest.mark.parametrize("lang", ["ru", "be", "en", "tt"])
def test_the_registry_page_speaks_every_language(app, world, people, lang):
    registry = structure.create_registry(world.body, [world.school], name="Реестр")
    client = signed_in(app, people["body"])
    text = client.get(f"/cabinet/registries/{registry.id}?lang={lang}").get_data(as_text=True)
    assert "cabinet.registry." not in text, re.findall(r"cabinet\.registry\.[\w.]+", text)
    assert f'lang="{lang}"' in text
