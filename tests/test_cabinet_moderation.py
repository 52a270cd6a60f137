"""The moderator's comment queue and decisions, and extra criteria from
proposal to the rating form, as JSON and on the pages, on SQLite and
PostgreSQL."""
import datetime
import re

import pytest

from service import structure
from service.models import AuditEntry, ExtraCriterion, Rating, Registry, User
from tests import factories

API = "/api/v1/cabinet"


@pytest.fixture
def people(world):
    users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR, email="moderator@ocenka.by"),
        "clinic": factories.user(User.STAFF, world.clinic, email="head@clinic.by"),
        "school": factories.user(User.STAFF, world.school, email="head@school.by"),
        "body": factories.user(User.BODY, world.body, email="body@brest.by"),
    }
    return {name: (user, factories.bearer(factories.token(user))) for name, user in users.items()}


def rated(client, object_id, comment=None):
    response = factories.rate(client, object_id, 3, 3, 3, 3, **({"comment": comment} if comment else {}))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def moderate(client, headers, rating_id, payload):
    return client.post(f"{API}/ratings/{rating_id}/moderation", json=payload, headers=headers)


def accept(registry):
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)


def earlier(model, row_id, **delta):
    row = model.get_by_id(row_id)
    model.update(created=row.created - datetime.timedelta(**delta)).where(model.id == row_id).execute()


def text_of(response):
    return response.get_data(as_text=True)


def signed_in(client, user):
    assert factories.sign_in(client, user).status_code == 302
    return client


# -- comments ----------------------------------------------------------------------------

def test_approving_makes_a_comment_public(client, world, people):
    rating_id = rated(client, world.school.id, "Учителя внимательные")
    assert "Учителя внимательные" not in text_of(client.get(f"/objects/{world.school.id}?lang=en"))
    response = moderate(client, people["moderator"][1], rating_id, {"decision": "approve"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["comment_status"] == "approved" and body["moderation_reason"] is None and body["moderated"]
    rating = Rating.get_by_id(rating_id)
    assert rating.comment_status == "approved" and rating.moderated is not None
    assert "Учителя внимательные" in text_of(client.get(f"/objects/{world.school.id}?lang=en"))
    entry = AuditEntry.get(AuditEntry.action == "rating.moderation")
    assert entry.user_email == "moderator@ocenka.by" and entry.target_id == rating_id
    assert entry.before["comment_status"] == "pending" and entry.after["comment_status"] == "approved"


def test_rejecting_keeps_the_comment_with_its_reason_and_never_shows_it(client, world, people):
    rating_id = rated(client, world.school.id, "Оскорбительный текст")
    response = moderate(client, people["moderator"][1], rating_id, {"decision": "reject", "reason": " Оскорбления "})
    assert response.status_code == 200 and response.get_json()["moderation_reason"] == "Оскорбления"
    rating = Rating.get_by_id(rating_id)
    assert rating.comment == "Оскорбительный текст" and rating.comment_status == "rejected"
    assert rating.moderation_reason == "Оскорбления" and rating.moderated is not None
    page = text_of(client.get(f"/objects/{world.school.id}?lang=en"))
    assert "Оскорбительный текст" not in page and "Оскорбления" not in page
    # The organization sees it in its cabinet, with the reason.
    listed = client.get(f"{API}/objects/{world.school.id}/ratings", headers=people["school"][1]).get_json()
    assert listed["items"][0]["comment_status"] == "rejected"
    assert listed["items"][0]["moderation_reason"] == "Оскорбления"
    entry = AuditEntry.get(AuditEntry.action == "rating.moderation")
    assert entry.after["moderation_reason"] == "Оскорбления"


@pytest.mark.parametrize("payload, field", [
    ({"decision": "reject"}, "reason"), ({"decision": "reject", "reason": "   "}, "reason"),
    ({"decision": "reject", "reason": "x" * 1001}, "reason"), ({"decision": "reject", "reason": "a\x00b"}, "reason"),
    ({"decision": "maybe"}, "decision"), ({}, "decision"), ({"decision": "approve", "note": 1}, "note"),
])
def test_a_bad_decision_is_400_and_changes_nothing(client, world, people, payload, field):
    rating_id = rated(client, world.school.id, "Комментарий")
    response = moderate(client, people["moderator"][1], rating_id, payload)
    assert response.status_code == 400 and field in response.get_json()["errors"]
    rating = Rating.get_by_id(rating_id)
    assert rating.comment_status == "pending" and rating.moderated is None
    assert AuditEntry.select().count() == 0


def test_only_a_pending_comment_is_moderated(client, world, people):
    moderator = people["moderator"][1]
    rating_id = rated(client, world.school.id, "Комментарий")
    assert moderate(client, moderator, rating_id, {"decision": "approve"}).status_code == 200
    for payload in ({"decision": "approve"}, {"decision": "reject", "reason": "Поздно"}):
        response = moderate(client, moderator, rating_id, payload)
        assert response.status_code == 409 and "state" in response.get_json()["errors"]
    assert Rating.get_by_id(rating_id).comment_status == "approved"
    silent = rated(client, world.school.id)
    assert moderate(client, moderator, silent, {"decision": "approve"}).status_code == 409
    assert Rating.get_by_id(silent).comment_status == "none"
    assert moderate(client, moderator, 2**40, {"decision": "approve"}).status_code == 404


def test_only_moderators_moderate(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    accept(structure.create_registry(world.body, [world.school]))
    for name in ("operator", "school", "clinic", "body"):
        assert moderate(client, people[name][1], rating_id, {"decision": "approve"}).status_code == 403, name
    assert moderate(client, {}, rating_id, {"decision": "approve"}).status_code == 401
    assert Rating.get_by_id(rating_id).comment_status == "pending"


def test_the_queue_is_pending_comments_oldest_first(client, world, people):
    older = rated(client, world.clinic_kids.id, "Старый")
    newer = rated(client, world.school.id, "Новый")
    done = rated(client, world.zags.id, "Уже решён")
    rated(client, world.zags.id)
    earlier(Rating, older, days=3)
    Rating.update(comment_status=Rating.COMMENT_APPROVED).where(Rating.id == done).execute()
    headers = people["moderator"][1]
    body = client.get(f"{API}/moderation/comments", headers=headers).get_json()
    assert [i["id"] for i in body["items"]] == [older, newer] and body["total"] == 2
    assert body["items"][0]["object_name"] == "УЗ «Гомельская городская поликлиника № 5» › Детское отделение"
    page = client.get(f"{API}/moderation/comments?per_page=1&page=2", headers=headers).get_json()
    assert [i["id"] for i in page["items"]] == [newer] and page["total"] == 2
    assert client.get(f"{API}/moderation/comments?page=0", headers=headers).status_code == 400
    for name in ("operator", "school", "body"):
        assert client.get(f"{API}/moderation/comments", headers=people[name][1]).status_code == 403


def test_the_queue_page_approves_and_rejects(client, world, people):
    first = rated(client, world.school.id, "Первый отзыв")
    second = rated(client, world.zags.id, "Второй отзыв")
    earlier(Rating, first, hours=1)
    signed_in(client, people["moderator"][0])
    page = text_of(client.get("/cabinet/moderation/comments?lang=en"))
    assert page.index("Первый отзыв") < page.index("Второй отзыв")
    assert "Awaiting moderation: 2" in page and f'id="f-reason-{first}"' in page
    csrf = factories.csrf_token(client)
    response = client.post(f"/cabinet/moderation/comments/{first}?lang=en",
                           data={"csrf": csrf, "decision": "approve"})
    assert response.status_code == 303 and "saved=1" in response.headers["Location"]
    assert Rating.get_by_id(first).comment_status == "approved"
    # A rejection without a reason comes back with the error next to the field.
    response = client.post(f"/cabinet/moderation/comments/{second}?lang=en",
                           data={"csrf": csrf, "decision": "reject", "reason": ""})
    page = text_of(response)
    assert response.status_code == 400 and 'role="alert"' in page
    assert f'id="e-reason-{second}"' in page and "a rejection needs a reason" in page
    assert Rating.get_by_id(second).comment_status == "pending"
    response = client.post(f"/cabinet/moderation/comments/{second}?lang=ru",
                           data={"csrf": csrf, "decision": "reject", "reason": "Реклама"})
    assert response.status_code == 303
    assert Rating.get_by_id(second).moderation_reason == "Реклама"
    response = client.post(f"/cabinet/moderation/comments/{second}?lang=en",
                           data={"csrf": csrf, "decision": "approve"})
    assert response.status_code == 409 and "only a pending comment" in text_of(response)
    assert "The queue is empty." in text_of(client.get("/cabinet/moderation/comments?lang=en"))


def test_the_queue_page_is_the_moderators(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    signed_in(client, people["school"][0])
    assert client.get("/cabinet/moderation/comments").status_code == 403
    csrf = factories.csrf_token(client)
    assert client.post(f"/cabinet/moderation/comments/{rating_id}",
                       data={"csrf": csrf, "decision": "approve"}).status_code == 403
    assert Rating.get_by_id(rating_id).comment_status == "pending"


# -- extra criteria ----------------------------------------------------------------------

WIFI = {"code": "wifi", "labels": {"ru": "Есть ли Wi-Fi в зале ожидания", "en": "Wi-Fi in the waiting room"},
        "scale_min": 1, "scale_max": 3}


def propose(client, headers, object_id, payload=WIFI):
    return client.post(f"{API}/objects/{object_id}/criteria", json=payload, headers=headers)


def decide(client, headers, criterion_id, payload):
    return client.post(f"{API}/criteria/{criterion_id}/decision", json=payload, headers=headers)


def form_extra(client, object_id):
    return client.get(f"/api/v1/objects/{object_id}/form?lang=en").get_json()["extra"]


def test_a_criterion_reaches_the_forms_only_once_approved(client, world, people):
    response = propose(client, people["clinic"][1], world.clinic.id)
    assert response.status_code == 201
    criterion_id = response.get_json()["id"]
    assert response.get_json()["status"] == "proposed"
    criterion = ExtraCriterion.get_by_id(criterion_id)
    assert criterion.owner_id == world.clinic.id and criterion.proposed_by_id == people["clinic"][0].id
    assert criterion.labels == {"ru": "Есть ли Wi-Fi в зале ожидания", "en": "Wi-Fi in the waiting room"}
    assert form_extra(client, world.clinic.id) == [] and form_extra(client, world.clinic_kids.id) == []
    assert "Wi-Fi in the waiting room" not in text_of(client.get(f"/r/{world.clinic_kids.id}?lang=en"))
    response = decide(client, people["moderator"][1], criterion_id, {"decision": "approve"})
    assert response.status_code == 200 and response.get_json()["state"] == "approved"
    assert response.get_json()["proposed_by"] == "head@clinic.by"
    expected = [{"code": "wifi", "label": "Wi-Fi in the waiting room", "min": 1, "max": 3}]
    assert form_extra(client, world.clinic.id) == expected and form_extra(client, world.clinic_kids.id) == expected
    assert form_extra(client, world.school.id) == []
    assert "Wi-Fi in the waiting room" in text_of(client.get(f"/r/{world.clinic_kids.id}?lang=en"))
    # A rating may now answer it, within its scale.
    ok = factories.rate(client, world.clinic_kids.id, extra={"wifi": 3})
    assert ok.status_code == 201
    assert factories.rate(client, world.clinic_kids.id, extra={"wifi": 4}).status_code == 400
    listed = client.get(f"{API}/objects/{world.clinic.id}/ratings", headers=people["clinic"][1]).get_json()
    assert listed["items"][0]["extra"] == {"wifi": 3}
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["criterion.proposal", "criterion.decision"]


def test_a_rejected_criterion_never_reaches_the_forms(client, world, people):
    criterion_id = propose(client, people["school"][1], world.school.id).get_json()["id"]
    moderator = people["moderator"][1]
    response = decide(client, moderator, criterion_id, {"decision": "reject"})
    assert response.status_code == 400 and "reason" in response.get_json()["errors"]
    assert ExtraCriterion.get_by_id(criterion_id).state == "proposed"
    response = decide(client, moderator, criterion_id, {"decision": "reject", "reason": "Дублирует базовый критерий"})
    assert response.status_code == 200 and response.get_json()["reason"] == "Дублирует базовый критерий"
    assert form_extra(client, world.school.id) == []
    response = decide(client, moderator, criterion_id, {"decision": "approve"})
    assert response.status_code == 409 and "state" in response.get_json()["errors"]
    assert ExtraCriterion.get_by_id(criterion_id).state == "rejected"
    assert decide(client, moderator, 2**40, {"decision": "approve"}).status_code == 404
    # The code stays taken: the rejected criterion keeps its history.
    assert propose(client, people["school"][1], world.school.id).status_code == 409


def test_a_bodys_criterion_covers_its_registry(client, world, people):
    _, body = people["body"]
    assert propose(client, body, world.school.id).status_code == 403  # not in its registry yet
    criterion_id = propose(client, body, world.body.id).get_json()["id"]
    decide(client, people["moderator"][1], criterion_id, {"decision": "approve"})
    assert form_extra(client, world.school.id) == []
    accept(structure.create_registry(world.body, [world.school]))
    assert [c["code"] for c in form_extra(client, world.school.id)] == ["wifi"]
    assert form_extra(client, world.clinic.id) == []
    # Now in its registry, the school may get one of the body's proposing too.
    response = propose(client, body, world.school.id, {**WIFI, "code": "parking"})
    assert response.status_code == 201
    assert ExtraCriterion.get_by_id(response.get_json()["id"]).owner_id == world.school.id


def test_who_may_propose_and_decide(client, world, people):
    assert propose(client, people["school"][1], world.clinic.id).status_code == 403
    for name in ("operator", "moderator"):
        assert propose(client, people[name][1], world.school.id).status_code == 403, name
    assert propose(client, people["school"][1], 2**40).status_code == 404
    assert propose(client, {}, world.school.id).status_code == 401
    criterion_id = propose(client, people["school"][1], world.school.id).get_json()["id"]
    for name in ("operator", "school", "body", "clinic"):
        assert decide(client, people[name][1], criterion_id, {"decision": "approve"}).status_code == 403, name
    assert ExtraCriterion.get_by_id(criterion_id).state == "proposed"


def test_criteria_are_set_per_organization(client, world, people):
    response = propose(client, people["clinic"][1], world.clinic_kids.id)
    assert response.status_code == 400
    assert f"id {world.clinic.id}" in response.get_json()["errors"]["object"][0]
    assert propose(client, people["school"][1], world.clinic_kids.id).status_code == 403
    assert ExtraCriterion.select().count() == 0


@pytest.mark.parametrize("change, field", [
    ({"code": "Wi-Fi"}, "code"), ({"code": ""}, "code"), ({"code": "x" * 65}, "code"), ({"code": 5}, "code"),
    ({"labels": {"en": "Wi-Fi"}}, "labels"), ({"labels": {"ru": "  "}}, "labels"),
    ({"labels": {"ru": "Wi-Fi", "de": "WLAN"}}, "labels"), ({"labels": {"ru": "x" * 201}}, "labels"),
    ({"labels": {"ru": "две\nстроки"}}, "labels"), ({"labels": {"ru": "Wi-Fi", "be": 5}}, "labels"),
    ({"labels": "Wi-Fi"}, "labels"), ({"scale_min": 0}, "scale_min"), ({"scale_max": 11}, "scale_max"),
    ({"scale_min": 3, "scale_max": 3}, "scale_max"), ({"scale_min": 5, "scale_max": 2}, "scale_max"),
    ({"scale_min": "1"}, "scale_min"), ({"scale_max": 2.5}, "scale_max"), ({"scale_max": True}, "scale_max"),
    ({"colour": "red"}, "colour"),
])
def test_a_bad_proposal_is_400_and_stores_nothing(client, world, people, change, field):
    response = propose(client, people["school"][1], world.school.id, {**WIFI, **change})
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["errors"]
    assert ExtraCriterion.select().count() == 0 and AuditEntry.select().count() == 0


def test_a_code_is_unique_per_organization(client, world, people):
    assert propose(client, people["school"][1], world.school.id).status_code == 201
    response = propose(client, people["school"][1], world.school.id, {**WIFI, "labels": {"ru": "Другое"}})
    assert response.status_code == 409 and "code" in response.get_json()["errors"]
    assert propose(client, people["clinic"][1], world.clinic.id).status_code == 201
    assert ExtraCriterion.select().count() == 2


def test_the_scale_defaults_to_the_base_criteria_scale(client, world, people):
    response = propose(client, people["school"][1], world.school.id, {"code": "canteen", "labels": {"ru": "Столовая"}})
    assert response.status_code == 201
    criterion = ExtraCriterion.get_by_id(response.get_json()["id"])
    assert (criterion.scale_min, criterion.scale_max) == (1, 5)


def test_the_criteria_lists(client, world, people):
    school = propose(client, people["school"][1], world.school.id).get_json()["id"]
    clinic = propose(client, people["clinic"][1], world.clinic.id, {**WIFI, "code": "parking"}).get_json()["id"]
    decided = propose(client, people["clinic"][1], world.clinic.id, {**WIFI, "code": "toilets"}).get_json()["id"]
    earlier(ExtraCriterion, clinic, days=1)
    decide(client, people["moderator"][1], decided, {"decision": "reject", "reason": "Не о качестве услуги"})
    queue = client.get(f"{API}/criteria", headers=people["moderator"][1]).get_json()
    assert queue["queue"] == "proposed" and [c["id"] for c in queue["items"]] == [clinic, school]
    assert queue["items"][1]["proposed_by"] == "head@school.by" and queue["items"][1]["labels"] == WIFI["labels"]
    own = client.get(f"{API}/criteria", headers=people["clinic"][1]).get_json()
    assert own["queue"] == "own" and {c["id"] for c in own["items"]} == {clinic, decided}
    rejected = next(c for c in own["items"] if c["id"] == decided)
    assert rejected["state"] == "rejected" and rejected["reason"] == "Не о качестве услуги"
    assert client.get(f"{API}/criteria", headers=people["operator"][1]).status_code == 403
    assert client.get(f"{API}/criteria", headers=people["body"][1]).get_json()["items"] == []


# -- the criteria page ---------------------------------------------------------------------

def test_staff_propose_through_the_form(client, world, people):
    signed_in(client, people["school"][0])
    page = text_of(client.get("/cabinet/moderation/criteria?lang=en"))
    assert "Propose a criterion" in page and 'id="f-label_tt"' in page
    assert f'<option value="{world.school.id}" selected>' in page and f'value="{world.clinic.id}"' not in page
    csrf = factories.csrf_token(client)
    form = {"csrf": csrf, "object": str(world.school.id), "code": "canteen", "label_ru": "Работа столовой",
            "label_be": "Праца сталоўкі", "label_en": "", "label_tt": "Ашханә эше", "scale_min": "1", "scale_max": "10"}
    response = client.post("/cabinet/moderation/criteria?lang=en", data=form)
    assert response.status_code == 303
    criterion = ExtraCriterion.get(ExtraCriterion.code == "canteen")
    assert criterion.labels == {"ru": "Работа столовой", "be": "Праца сталоўкі", "tt": "Ашханә эше"}
    assert (criterion.scale_min, criterion.scale_max, criterion.state) == (1, 10, "proposed")
    page = text_of(client.get(response.headers["Location"]))
    assert "Saved." in page and "canteen" in page and "proposed" in page


def test_a_refused_proposal_form_comes_back_with_errors_and_what_was_typed(client, world, people):
    signed_in(client, people["school"][0])
    csrf = factories.csrf_token(client)
    form = {"csrf": csrf, "object": str(world.school.id), "code": "Столовая", "label_ru": "",
            "label_be": "Праца сталоўкі", "label_en": "x" * 201, "label_tt": "", "scale_min": "4", "scale_max": "two"}
    response = client.post("/cabinet/moderation/criteria?lang=en", data=form)
    page = text_of(response)
    assert response.status_code == 400 and 'role="alert"' in page
    for field in ("code", "label_ru", "label_en", "scale_max"):
        assert f'id="e-{field}"' in page, field
    assert "the Russian label is required" in page and "Праца сталоўкі" in page and 'value="Столовая"' in page
    assert ExtraCriterion.select().count() == 0
    response = client.post("/cabinet/moderation/criteria?lang=ru", data={**form, "code": "canteen",
                                                                       "label_ru": "Столовая", "label_en": "",
                                                                       "scale_max": "3", "scale_min": "3"})
    assert response.status_code == 400 and "Наибольшая оценка должна быть больше наименьшей." in text_of(response)
    response = client.post("/cabinet/moderation/criteria?lang=en", data={**form, "object": str(world.clinic.id)})
    assert response.status_code == 403
    response = client.post("/cabinet/moderation/criteria?lang=en", data={**form, "object": "nonsense"})
    assert response.status_code == 400 and 'id="e-object"' in text_of(response)
    assert ExtraCriterion.select().count() == 0


def test_the_moderator_decides_on_the_page(client, world, people):
    first = propose(client, people["school"][1], world.school.id,
                    {**WIFI, "labels": {"ru": "Вай-фай", "be": "Вай-фай у зале", "en": "Wi-Fi", "tt": "Вай-фай залда"}}
                    ).get_json()["id"]
    second = propose(client, people["clinic"][1], world.clinic.id, {**WIFI, "code": "parking"}).get_json()["id"]
    signed_in(client, people["moderator"][0])
    page = text_of(client.get("/cabinet/moderation/criteria?lang=en"))
    assert page.index("Вай-фай у зале") < page.index("parking")
    for text in ("Вай-фай залда", "Wi-Fi", "Беларуская", "Татарча", "1–3", "head@school.by"):
        assert text in page, text
    assert "Propose a criterion" not in page
    csrf = factories.csrf_token(client)
    response = client.post(f"/cabinet/moderation/criteria/{second}?lang=en",
                           data={"csrf": csrf, "decision": "reject", "reason": ""})
    assert response.status_code == 400 and f'id="e-reason-{second}"' in text_of(response)
    assert client.post(f"/cabinet/moderation/criteria/{first}?lang=en",
                       data={"csrf": csrf, "decision": "approve"}).status_code == 303
    assert ExtraCriterion.get_by_id(first).state == "approved"
    assert [c["code"] for c in form_extra(client, world.school.id)] == ["wifi"]
    response = client.post(f"/cabinet/moderation/criteria/{first}?lang=en",
                           data={"csrf": csrf, "decision": "approve"})
    assert response.status_code == 409


def test_the_criteria_page_is_not_the_operators(client, world, people):
    signed_in(client, people["operator"][0])
    assert client.get("/cabinet/moderation/criteria").status_code == 403
    csrf = factories.csrf_token(client)
    assert client.post("/cabinet/moderation/criteria", data={"csrf": csrf, "object": world.school.id}).status_code == 403


@pytest.mark.parametrize("lang, heading", [("ru", "Дополнительные критерии"), ("be", "Дадатковыя крытэрыі"),
                                           ("en", "Extra criteria"), ("tt", "Өстәмә критерийлар")])
def test_the_criteria_page_speaks_each_language(client, world, people, lang, heading):
    signed_in(client, people["body"][0])
    page = text_of(client.get(f"/cabinet/moderation/criteria?lang={lang}"))
    assert f"<h1>{heading}</h1>" in page
    assert re.search(rf'<option value="{world.body.id}" selected>', page)
