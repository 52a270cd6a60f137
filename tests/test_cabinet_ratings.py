"""Reading ratings and comments in the cabinets and answering comments,
as JSON and on the page, on SQLite and PostgreSQL."""
import datetime
import re

import pytest

from service import structure
from service.models import AuditEntry, Rating, Registry, User
from tests import factories

API = "/api/v1/cabinet"


@pytest.fixture
def people(world):
    users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR),
        "clinic": factories.user(User.STAFF, world.clinic, email="head@clinic.by"),
        "school": factories.user(User.STAFF, world.school, email="head@school.by"),
        "body": factories.user(User.BODY, world.body, email="body@brest.by"),
    }
    return {name: (user, factories.bearer(factories.token(user))) for name, user in users.items()}


def rated(client, object_id, comment=None, **scores):
    response = factories.rate(client, object_id, *(scores.get(c, 4) for c in
                                                   ("simplicity", "information", "timeliness", "politeness")),
                              **({"comment": comment} if comment is not None else {}))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def listing(client, headers, object_id, **query):
    return client.get(f"{API}/objects/{object_id}/ratings", query_string=query, headers=headers)


def accept(registry):
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)


def text_of(response):
    return response.get_data(as_text=True)


# -- reading ---------------------------------------------------------------------------

def test_staff_read_their_organization_with_its_subdivisions_newest_first(client, world, people):
    first = rated(client, world.clinic.id, "Долго ждали в очереди")
    second = rated(client, world.clinic_women.id, "Врач был внимателен")
    third = rated(client, world.clinic_kids.id)
    rated(client, world.school.id, "Чужой отзыв")
    _, headers = people["clinic"]
    body = listing(client, headers, world.clinic.id).get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 20
    assert [item["id"] for item in body["items"]] == [third, second, first]
    item = body["items"][2]
    assert item["object"] == world.clinic.id and item["comment"] == "Долго ждали в очереди"
    assert item["comment_status"] == "pending" and item["status"] == "counted"
    assert item["scores"] == {"simplicity": 4, "information": 4, "timeliness": 4, "politeness": 4}
    assert item["channel"] == "widget" and item["answer"] is None and item["moderation_reason"] is None
    assert item["created"].endswith("Z") and item["reasons"] == [] and item["service"] is None
    assert body["items"][0]["comment_status"] == "none"
    # A subdivision alone lists only its own.
    assert [i["id"] for i in listing(client, headers, world.clinic_women.id).get_json()["items"]] == [second]


def test_scope_staff_own_only_moderator_and_operator_anywhere(client, world, people):
    rated(client, world.school.id, "Хорошая школа")
    assert listing(client, people["clinic"][1], world.school.id).status_code == 403
    assert listing(client, people["school"][1], world.clinic_women.id).status_code == 403
    for name in ("moderator", "operator", "school"):
        response = listing(client, people[name][1], world.school.id)
        assert response.status_code == 200 and response.get_json()["total"] == 1, name
    assert listing(client, people["school"][1], 2**40).status_code == 404
    assert listing(client, people["school"][1], 2**63).status_code == 404
    assert listing(client, {}, world.school.id).status_code == 401


def test_a_body_reads_its_registry_only_once_accepted(client, world, people):
    rated(client, world.school.id, "Комментарий")
    _, headers = people["body"]
    registry = structure.create_registry(world.body, [world.school])
    assert listing(client, headers, world.school.id).status_code == 403
    accept(registry)
    response = listing(client, headers, world.school.id)
    assert response.status_code == 200 and response.get_json()["items"][0]["comment_status"] == "pending"
    assert listing(client, headers, world.clinic.id).status_code == 403
    assert listing(client, headers, world.body.id).status_code == 200


def _move(rating_id, moment):
    Rating.update(created=moment, month=moment.year * 100 + moment.month).where(Rating.id == rating_id).execute()


def test_filters_by_comment_status_and_period_and_pages(client, world, people):
    _, headers = people["school"]
    october = rated(client, world.school.id, "Октябрь")
    november = rated(client, world.school.id, "Ноябрь")
    silent = rated(client, world.school.id)
    rejected = rated(client, world.school.id, "Грубость")
    _move(october, datetime.datetime(2026, 10, 15, 12))
    _move(november, datetime.datetime(2026, 11, 2, 9))
    _move(silent, datetime.datetime(2026, 11, 3, 9))
    _move(rejected, datetime.datetime(2025, 12, 31, 22))  # already 2026-01 in Minsk, but stored as 2025-12
    Rating.update(comment_status=Rating.COMMENT_REJECTED, moderation_reason="Оскорбления").where(
        Rating.id == rejected).execute()

    def ids(**query):
        response = listing(client, headers, world.school.id, **query)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids() == [silent, november, october, rejected]
    assert ids(comment="pending") == [november, october]
    assert ids(comment="rejected") == [rejected]
    assert ids(comment="approved") == []
    assert ids(period="2026-10") == [october]
    assert ids(period="2026-11") == [silent, november]
    assert ids(period="2026-Q4") == [silent, november, october]
    assert ids(period="2026-H2", comment="pending") == [november, october]
    assert ids(period="2026") == [silent, november, october]
    # The month fixed at arrival decides, not the timestamp.
    assert ids(period="2025-12") == [rejected] and ids(period="2026-01") == []
    assert ids(period="2025") == [rejected]
    page = listing(client, headers, world.school.id, per_page=3, page=2).get_json()
    assert page["total"] == 4 and [i["id"] for i in page["items"]] == [rejected]
    assert listing(client, headers, world.school.id, comment="pending", period="2026-Q4").get_json()["total"] == 2
    item = listing(client, headers, world.school.id, comment="rejected").get_json()["items"][0]
    assert item["moderation_reason"] == "Оскорбления"


@pytest.mark.parametrize("query, field", [
    ({"period": "2026-13"}, "period"), ({"period": "last"}, "period"), ({"comment": "none"}, "comment"),
    ({"page": "0"}, "page"), ({"per_page": "1000"}, "per_page"), ({"page": "x"}, "page"),
])
def test_bad_filters_are_400_naming_the_field(client, world, people, query, field):
    response = listing(client, people["school"][1], world.school.id, **query)
    assert response.status_code == 400 and field in response.get_json()["errors"]


def test_pending_comments_are_for_the_cabinet_not_the_public_page(client, world, people):
    rated(client, world.school.id, "Ждёт модератора")
    assert "Ждёт модератора" not in text_of(client.get(f"/objects/{world.school.id}?lang=en"))
    assert listing(client, people["school"][1], world.school.id).get_json()["items"][0]["comment"] == "Ждёт модератора"


# -- answering ---------------------------------------------------------------------------

def answer(client, headers, rating_id, payload):
    return client.post(f"{API}/ratings/{rating_id}/answer", json=payload, headers=headers)


def test_staff_answer_and_the_answer_shows_once_the_comment_is_public(client, world, people):
    rating_id = rated(client, world.clinic_kids.id, "Очень долго ждали врача")
    user, headers = people["clinic"]
    response = answer(client, headers, rating_id, {"text": "  Спасибо, мы добавили\r\nещё одного врача.  "})
    assert response.status_code == 200
    assert response.get_json()["answer"] == "Спасибо, мы добавили\nещё одного врача."
    assert response.get_json()["answered"].endswith("Z")
    page = text_of(client.get(f"/objects/{world.clinic.id}?lang=en"))
    assert "Очень долго ждали врача" not in page and "ещё одного врача" not in page
    moderator = people["moderator"][1]
    assert client.post(f"{API}/ratings/{rating_id}/moderation", json={"decision": "approve"},
                       headers=moderator).status_code == 200
    for object_id in (world.clinic.id, world.clinic_kids.id):
        page = text_of(client.get(f"/objects/{object_id}?lang=en"))
        assert "Очень долго ждали врача" in page and "ещё одного врача." in page
        assert page.index("Очень долго ждали врача") < page.index("ещё одного врача.")
    entry = AuditEntry.get((AuditEntry.action == "rating.answer") & (AuditEntry.target_id == rating_id))
    assert entry.user_email == user.email and entry.target_kind == "rating"
    assert entry.before["answer"] is None and entry.after["answer"] == "Спасибо, мы добавили\nещё одного врача."


def test_answering_again_replaces_the_answer_and_the_audit_keeps_both(client, world, people):
    rating_id = rated(client, world.school.id, "Где расписание?")
    _, headers = people["school"]
    assert answer(client, headers, rating_id, {"text": "На сайте"}).status_code == 200
    assert answer(client, headers, rating_id, {"text": "На сайте и на стенде"}).status_code == 200
    assert Rating.get_by_id(rating_id).answer == "На сайте и на стенде"
    entries = list(AuditEntry.select().where(AuditEntry.action == "rating.answer").order_by(AuditEntry.id))
    assert len(entries) == 2
    assert entries[1].before["answer"] == "На сайте" and entries[1].after["answer"] == "На сайте и на стенде"


def test_only_the_organizations_staff_answer(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    accept(structure.create_registry(world.body, [world.school]))
    for name in ("clinic", "moderator", "operator", "body"):
        assert answer(client, people[name][1], rating_id, {"text": "Ответ"}).status_code == 403, name
    assert answer(client, people["school"][1], 2**40, {"text": "Ответ"}).status_code == 404
    assert answer(client, {}, rating_id, {"text": "Ответ"}).status_code == 401
    assert Rating.get_by_id(rating_id).answer is None


@pytest.mark.parametrize("payload", [
    {"text": ""}, {"text": "   \n "}, {"text": "x" * 2001}, {"text": "bell\x07"}, {"text": "esc\x1b[31m"},
    {"text": 5}, {}, {"text": "ok", "extra": 1},
])
def test_a_bad_answer_is_400_and_changes_nothing(client, world, people, payload):
    rating_id = rated(client, world.school.id, "Комментарий")
    response = answer(client, people["school"][1], rating_id, payload)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) <= {"text", "extra"}
    assert Rating.get_by_id(rating_id).answer is None
    assert AuditEntry.select().where(AuditEntry.action == "rating.answer").count() == 0


def test_an_answer_keeps_newlines_and_tabs_and_2000_characters(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    text = "Строка\n\tс отступом " + "я" * 1981
    assert len(text) == 2000
    assert answer(client, people["school"][1], rating_id, {"text": text}).status_code == 200
    assert Rating.get_by_id(rating_id).answer == text


def test_a_rating_without_a_comment_has_nothing_to_answer(client, world, people):
    rating_id = rated(client, world.school.id)
    response = answer(client, people["school"][1], rating_id, {"text": "Спасибо"})
    assert response.status_code == 409 and "state" in response.get_json()["errors"]
    assert Rating.get_by_id(rating_id).answer is None


def test_a_body_that_is_not_json_is_400(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    response = client.post(f"{API}/ratings/{rating_id}/answer", data="text=hi", headers=people["school"][1])
    assert response.status_code == 400


# -- the page ----------------------------------------------------------------------------

def signed_in(client, user):
    assert factories.sign_in(client, user).status_code == 302
    return client


def test_the_page_shows_staff_their_ratings_with_status_reason_and_an_answer_form(client, world, people):
    pending = rated(client, world.clinic_women.id, "Ждёт проверки")
    rejected = rated(client, world.clinic.id, "Ругательства")
    Rating.update(comment_status=Rating.COMMENT_REJECTED, moderation_reason="Нецензурная лексика").where(
        Rating.id == rejected).execute()
    rated(client, world.school.id, "Чужая школа")
    signed_in(client, people["clinic"][0])
    response = client.get("/cabinet/ratings?lang=en")
    page = text_of(response)
    assert response.status_code == 200
    assert "Ждёт проверки" in page and "Ругательства" in page and "Чужая школа" not in page
    assert "pending" in page and "rejected" in page and "Нецензурная лексика" in page
    assert f'action="/cabinet/ratings/{pending}/answer?lang=en"' in page
    assert 'aria-current="page">Ratings and comments' in page.replace("\n", "")
    assert "Женская консультация" in page  # the subdivision is named, and in the select
    # The filters narrow the list.
    page = text_of(client.get(f"/cabinet/ratings?object={world.clinic.id}&comment=rejected&lang=en"))
    assert "Ругательства" in page and "Ждёт проверки" not in page
    assert client.get(f"/cabinet/ratings?object={world.school.id}&lang=en").status_code == 403
    assert client.get("/cabinet/ratings?period=nonsense&lang=en").status_code == 400


@pytest.mark.parametrize("lang, heading", [("ru", "Оценки и отзывы"), ("be", "Ацэнкі і водгукі"),
                                           ("en", "Ratings and comments"), ("tt", "Бәяләр һәм фикерләр")])
def test_the_page_speaks_each_language(client, world, people, lang, heading):
    rated(client, world.school.id, "Комментарий")
    signed_in(client, people["school"][0])
    page = text_of(client.get(f"/cabinet/ratings?lang={lang}"))
    assert f"<h1>{heading}</h1>" in page


def test_an_answer_through_the_form(client, world, people):
    rating_id = rated(client, world.school.id, "Нет расписания на сайте")
    signed_in(client, people["school"][0])
    csrf = factories.csrf_token(client)
    response = client.post(f"/cabinet/ratings/{rating_id}/answer?lang=en",
                           data={"csrf": csrf, "text": "Расписание уже на сайте", "object": world.school.id,
                                 "comment": "pending", "period": "all", "page": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/cabinet/ratings?lang=en&object={world.school.id}&comment=pending")
    assert response.headers["Location"].endswith(f"saved=1#r-{rating_id}")
    assert Rating.get_by_id(rating_id).answer == "Расписание уже на сайте"
    page = text_of(client.get(response.headers["Location"]))
    assert "Saved." in page and "Расписание уже на сайте" in page and "Change the answer" in page


def test_a_refused_answer_form_comes_back_with_the_error_next_to_the_field(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    signed_in(client, people["school"][0])
    csrf = factories.csrf_token(client)
    too_long = "ж" * 2001
    response = client.post(f"/cabinet/ratings/{rating_id}/answer?lang=en", data={"csrf": csrf, "text": too_long})
    page = text_of(response)
    assert response.status_code == 400
    assert 'role="alert"' in page and f'id="e-text-{rating_id}"' in page and "at most 2000 characters" in page
    assert f'aria-describedby="e-text-{rating_id}' in page and too_long in page
    assert Rating.get_by_id(rating_id).answer is None
    response = client.post(f"/cabinet/ratings/{rating_id}/answer?lang=ru", data={"csrf": csrf, "text": " "})
    assert response.status_code == 400 and "Поле не может быть пустым." in text_of(response)
    silent = rated(client, world.school.id)
    response = client.post(f"/cabinet/ratings/{silent}/answer?lang=en", data={"csrf": csrf, "text": "Спасибо"})
    assert response.status_code == 409 and "no comment to answer" in text_of(response)


def test_the_answer_form_is_for_staff_only(client, world, people):
    rating_id = rated(client, world.school.id, "Комментарий")
    signed_in(client, people["moderator"][0])
    page = text_of(client.get(f"/cabinet/ratings?object={world.school.id}&lang=en"))
    assert "Комментарий" in page and "/answer" not in page
    csrf = factories.csrf_token(client)
    assert client.post(f"/cabinet/ratings/{rating_id}/answer", data={"csrf": csrf, "text": "x"}).status_code == 403
    anonymous = client.application.test_client()
    assert anonymous.post(f"/cabinet/ratings/{rating_id}/answer", data={"text": "x"}).status_code in (400, 401)


def test_the_operator_finds_an_object_by_search_or_id(client, world, people):
    rated(client, world.zags.id, "ЗАГС работает быстро")
    signed_in(client, people["operator"][0])
    page = text_of(client.get("/cabinet/ratings?lang=en"))
    assert "Choose an object" in page and 'name="object"' in page
    page = text_of(client.get("/cabinet/ratings?q=загс&lang=en"))
    assert re.search(rf'href="[^"]*object={world.zags.id}[^"]*">Отдел ЗАГС', page)
    page = text_of(client.get(f"/cabinet/ratings?object={world.zags.id}&lang=en"))
    assert "ЗАГС работает быстро" in page
    assert client.get("/cabinet/ratings?object=99999999&lang=en").status_code == 404


def test_a_body_picks_from_its_registry(client, world, people):
    accept(structure.create_registry(world.body, [world.school, world.clinic]))
    rated(client, world.clinic_kids.id, "Детское отделение")
    signed_in(client, people["body"][0])
    page = text_of(client.get("/cabinet/ratings?lang=en"))
    for obj in (world.body, world.school, world.clinic, world.clinic_kids):
        assert f'<option value="{obj.id}"' in page
    assert f'<option value="{world.zags.id}"' not in page
    page = text_of(client.get(f"/cabinet/ratings?object={world.clinic.id}&lang=en"))
    assert "Детское отделение" in page
    page = text_of(client.get("/cabinet/ratings?q=загс&lang=en"))
    assert "Nothing found." in page
