"""Notifications in the cabinets, on SQLite and PostgreSQL: who sends
which, who sees which, how the addressed organization moves them, and that
every send and move is audited. The clock is ``notifications.today``."""
import datetime
import re

import pytest

from service import notifications, structure
from service.models import AuditEntry, Notification, Registry, User
from tests import factories

API = "/api/v1/cabinet"
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture
def clock(monkeypatch):
    def set_today(day):
        monkeypatch.setattr(notifications, "today", lambda: day)
    set_today(TODAY)
    return set_today


@pytest.fixture
def scene(world, clock):
    """The body's accepted registry holds the school and the ZAGS, not the clinic."""
    registry = structure.create_registry(world.body, [world.school, world.zags], name="Реестр")
    for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
        structure.move_registry(registry, state)
    users = {
        "operator": factories.user(User.OPERATOR),
        "moderator": factories.user(User.MODERATOR),
        "body": factories.user(User.BODY, world.body),
        "staff": factories.user(User.STAFF, world.school),
        "clinic_staff": factories.user(User.STAFF, world.clinic),
    }
    return {"registry": registry, "users": users,
            "auth": {name: factories.bearer(factories.token(user)) for name, user in users.items()}}


def send(client, headers, organization, kind="low_score", text="Низкие оценки вежливости", **extra):
    return client.post(f"{API}/notifications", json=dict(organization=organization, kind=kind, text=text, **extra),
                       headers=headers)


def move(client, headers, notification_id, **payload):
    return client.post(f"{API}/notifications/{notification_id}/transitions", json=payload, headers=headers)


def listing(client, headers, query=""):
    response = client.get(f"{API}/notifications{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def audit_of(notification_id):
    return list(AuditEntry.select().where((AuditEntry.target_kind == "notification")
                                          & (AuditEntry.target_id == notification_id)).order_by(AuditEntry.id))


# -- sending ---------------------------------------------------------------------

def test_the_moderator_sends_low_scores_to_any_organization(client, world, scene):
    auth = scene["auth"]
    response = send(client, auth["moderator"], world.clinic.id, period="2026-10")
    assert response.status_code == 201
    sent = response.get_json()
    assert sent["organization"] == {"id": world.clinic.id, "name": world.clinic.name}
    assert sent["kind"] == "low_score" and sent["sender"] is None and sent["status"] == "new"
    assert sent["period"] == "2026-10" and sent["overdue"] is False and sent["control_date"] is None
    assert sent["moves"] == [], "the moderator does not answer it"
    entry, = audit_of(sent["id"])
    assert entry.action == "notification.send" and entry.after["kind"] == "low_score"
    assert entry.user_email == scene["users"]["moderator"].email
    for role in ("operator", "body", "staff"):
        assert send(client, auth[role], world.school.id).status_code == 403, role
    assert send(client, auth["moderator"], world.school.id, kind="recommendation").status_code == 403
    assert client.post(f"{API}/notifications", json={}).status_code == 401
    assert Notification.select().count() == 1


def test_a_body_recommends_only_inside_its_accepted_registry(client, world, scene):
    auth = scene["auth"]
    response = send(client, auth["body"], world.school.id, kind="recommendation", text="Разместите стенд")
    assert response.status_code == 201
    assert response.get_json()["sender"] == {"id": world.body.id, "name": world.body.name}
    assert send(client, auth["body"], world.clinic.id, kind="recommendation").status_code == 403
    itself = send(client, auth["body"], world.body.id, kind="recommendation")
    assert itself.status_code == 400 and "organization" in itself.get_json()["errors"]
    sub = structure.add_subdivision(world.school, "Учебная часть")
    assert send(client, auth["body"], sub.id, kind="recommendation").status_code == 400
    structure.move_registry(scene["registry"], Registry.DRAFT)
    assert send(client, auth["body"], world.school.id, kind="recommendation").status_code == 403, \
        "a registry back in draft gives no scope"
    assert Notification.select().count() == 1


@pytest.mark.parametrize("payload", [
    {"kind": "low_score", "text": "x"},
    {"organization": 1, "kind": "gossip", "text": "x"},
    {"organization": 1, "kind": "low_score"},
    {"organization": 1, "kind": "low_score", "text": "   "},
    {"organization": 1, "kind": "low_score", "text": "x" * 5001},
    {"organization": 1, "kind": "low_score", "text": "x", "period": "2026-13"},
    {"organization": 1, "kind": "low_score", "text": "x", "colour": "red"},
    {"organization": 2**40, "kind": "low_score", "text": "x"},
    {"organization": 2**70, "kind": "low_score", "text": "x"},
])
def test_bad_fields_are_400_and_nothing_is_sent(client, world, scene, payload):
    response = client.post(f"{API}/notifications", json=payload, headers=scene["auth"]["moderator"])
    assert response.status_code == 400 and response.get_json()["errors"]
    assert Notification.select().count() == 0 and AuditEntry.select().count() == 0


# -- reading ---------------------------------------------------------------------

def test_each_sees_what_was_sent_and_received(client, world, scene):
    auth = scene["auth"]
    to_school = send(client, auth["moderator"], world.school.id).get_json()["id"]
    to_clinic = send(client, auth["moderator"], world.clinic.id).get_json()["id"]
    to_body = send(client, auth["moderator"], world.body.id).get_json()["id"]
    advice = send(client, auth["body"], world.zags.id, kind="recommendation", text="Совет").get_json()["id"]
    ids = lambda page: [n["id"] for n in page["items"]]  # noqa: E731
    assert ids(listing(client, auth["staff"])) == [to_school]
    assert ids(listing(client, auth["clinic_staff"])) == [to_clinic]
    assert ids(listing(client, auth["body"])) == [advice, to_body]
    assert ids(listing(client, auth["body"], "?box=sent")) == [advice]
    assert ids(listing(client, auth["body"], "?box=received")) == [to_body]
    assert ids(listing(client, auth["moderator"])) == [to_body, to_clinic, to_school], "low scores, not advice"
    assert listing(client, auth["staff"], "?box=sent")["items"] == []
    assert ids(listing(client, auth["moderator"], "?kind=recommendation")) == []
    assert client.get(f"{API}/notifications", headers=auth["operator"]).status_code == 403
    assert client.get(f"{API}/notifications").status_code == 401
    assert client.get(f"{API}/notifications?box=trash", headers=auth["staff"]).status_code == 400
    # The filter form's "any status" is an empty value, not a bad one.
    assert ids(listing(client, auth["moderator"], "?status=&overdue=1")) == []
    assert ids(listing(client, auth["moderator"], "?status=")) == [to_body, to_clinic, to_school]
    item = listing(client, auth["staff"])["items"][0]
    assert set(item) == {"id", "organization", "kind", "sender", "text", "period", "status", "control_date",
                         "report", "overdue", "moves", "created", "updated", "object", "figures", "overdue_since"}
    assert item["object"] is None and item["figures"] is None  # sent by hand: no monitoring figures
    assert item["moves"] == ["in_work", "planned", "done"]


# -- moving ----------------------------------------------------------------------

def test_the_addressed_staff_move_it_within_the_rules(client, world, scene, clock):
    auth = scene["auth"]
    note = send(client, auth["moderator"], world.school.id).get_json()["id"]
    for role in ("operator", "moderator", "body", "clinic_staff"):
        assert move(client, auth[role], note, to="in_work").status_code == 403, role
    assert move(client, auth["staff"], 2**40, to="in_work").status_code == 404
    assert move(client, auth["clinic_staff"], 2**40, to="in_work").status_code == 404
    assert move(client, auth["staff"], note, to="in_work").get_json()["status"] == "in_work"
    four_months = move(client, auth["staff"], note, to="planned", control_date="2027-03-22")
    assert four_months.status_code == 400 and "control_date" in four_months.get_json()["errors"]
    for bad in ({"to": "planned"}, {"to": "planned", "control_date": "22.01.2027"}, {"to": "new"},
                {"to": "planned", "control_date": "2026-11-21"}, {"to": "in_work", "colour": 1}):
        assert move(client, auth["staff"], note, **bad).status_code == 400, bad
    planned = move(client, auth["staff"], note, to="planned", control_date="2027-01-22").get_json()
    assert planned["status"] == "planned" and planned["control_date"] == "2027-01-22" and not planned["overdue"]
    no_report = move(client, auth["staff"], note, to="done")
    assert no_report.status_code == 400 and "report" in no_report.get_json()["errors"]
    assert move(client, auth["staff"], note, to="done", report="  ").status_code == 400
    assert Notification.get_by_id(note).status == "planned"
    done = move(client, auth["staff"], note, to="done", report="Провели обучение").get_json()
    assert done["status"] == "done" and done["report"] == "Провели обучение" and done["moves"] == []
    again = move(client, auth["staff"], note, to="in_work")
    assert again.status_code == 409 and again.get_json()["errors"]
    moves = [e for e in audit_of(note) if e.action == "notification.move"]
    assert [(e.before["status"], e.after["status"]) for e in moves] == [
        ("new", "in_work"), ("in_work", "planned"), ("planned", "done")]
    assert moves[1].after["control_date"] == "2027-01-22" and moves[2].after["report"] == "Провели обучение"


def test_overdue_once_the_control_date_has_passed(client, world, scene, clock):
    auth = scene["auth"]
    note = send(client, auth["moderator"], world.school.id).get_json()["id"]
    move(client, auth["staff"], note, to="planned", control_date="2026-12-10")
    clock(datetime.date(2026, 12, 10))
    assert listing(client, auth["staff"])["items"][0]["overdue"] is False
    assert listing(client, auth["staff"], "?overdue=1")["items"] == []
    clock(datetime.date(2026, 12, 11))
    assert listing(client, auth["staff"])["items"][0]["overdue"] is True
    assert [n["id"] for n in listing(client, auth["moderator"], "?overdue=true")["items"]] == [note]
    move(client, auth["staff"], note, to="done", report="Сделано")
    assert listing(client, auth["staff"])["items"][0]["overdue"] is False


# -- pages ------------------------------------------------------------------------

def signed_in(app, user):
    client = app.test_client()
    assert factories.sign_in(client, user).status_code == 302
    return client


def post(client, path, **data):
    return client.post(path, data=dict(data, csrf=factories.csrf_token(client)))


def test_staff_answer_on_the_page_and_a_refused_form_changes_nothing(app, world, scene):
    note = notifications.send(world.school, Notification.LOW_SCORE, "Низкие оценки\nв октябре", period="2026-10")
    client = signed_in(app, scene["users"]["staff"])
    page = client.get("/cabinet/notifications?lang=en").get_data(as_text=True)
    assert "Received" in page and f"/cabinet/notifications/{note.id}" in page
    detail = client.get(f"/cabinet/notifications/{note.id}?lang=en").get_data(as_text=True)
    assert "Take into work" in detail and 'type="date"' in detail and 'max="2027-02-22"' in detail
    path = f"/cabinet/notifications/{note.id}/transitions?lang=en"
    far = post(client, path, to="planned", control_date="2027-03-22")
    assert far.status_code == 400
    text = far.get_data(as_text=True)
    assert 'role="alert"' in text and 'id="e-control_date"' in text and "2026-11-22 to 2027-02-22" in text
    assert 'value="2027-03-22"' in text, "what was typed is kept"
    empty = post(client, path, to="done", report="")
    assert empty.status_code == 400 and 'id="e-report"' in empty.get_data(as_text=True)
    assert Notification.get_by_id(note.id).status == "new" and AuditEntry.select().count() == 0
    assert post(client, path, to="planned", control_date="2027-01-22").status_code == 303
    planned = Notification.get_by_id(note.id)
    assert planned.status == "planned" and planned.control_date == datetime.date(2027, 1, 22)
    assert post(client, path, to="done", report="Провели обучение").status_code == 303
    closed = post(client, path, to="in_work")
    assert closed.status_code == 409 and Notification.get_by_id(note.id).status == "done"
    assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)] == ["notification.move"] * 2


def test_overdue_is_marked_in_words_on_the_pages(app, world, scene, clock):
    note = notifications.send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    notifications.move(note, Notification.PLANNED, datetime.date(2026, 12, 10))
    clock(datetime.date(2026, 12, 11))
    moderator = signed_in(app, scene["users"]["moderator"])
    listed = moderator.get("/cabinet/notifications?lang=en&overdue=1").get_data(as_text=True)
    assert "Sent" in listed and "overdue" in listed and "Низкие оценки" in listed
    detail = moderator.get(f"/cabinet/notifications/{note.id}?lang=en").get_data(as_text=True)
    assert "The control date 2026-12-10 has passed." in detail and "Take into work" not in detail


def test_the_moderator_sends_by_registration_number_on_the_page(app, world, scene):
    client = signed_in(app, scene["users"]["moderator"])
    form = client.get("/cabinet/notifications/new?lang=en").get_data(as_text=True)
    assert "Low-score notification" in form and 'name="organization"' in form
    unknown = post(client, "/cabinet/notifications?lang=en", organization="999999999", text="Низкие оценки")
    assert unknown.status_code == 400
    text = unknown.get_data(as_text=True)
    assert "No organization is registered under УНП 999999999." in text and "Низкие оценки</textarea>" in text
    no_text = post(client, "/cabinet/notifications?lang=en", organization=world.clinic.unp, text=" ")
    assert no_text.status_code == 400 and 'id="e-text"' in no_text.get_data(as_text=True)
    assert Notification.select().count() == 0
    sent = post(client, "/cabinet/notifications?lang=en", organization=world.clinic.unp, text="Низкие оценки",
                period="2026-10")
    assert sent.status_code == 303
    note = Notification.get()
    assert note.organization_id == world.clinic.id and note.kind == "low_score" and note.period == "2026-10"
    assert sent.headers["Location"].startswith(f"/cabinet/notifications/{note.id}?lang=en")


def test_the_body_picks_from_its_registry_on_the_page(app, world, scene):
    client = signed_in(app, scene["users"]["body"])
    form = client.get("/cabinet/notifications/new?lang=en").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"', form)
    assert sorted(map(int, options)) == sorted([world.school.id, world.zags.id])
    assert "Recommendation" in form
    outside = post(client, "/cabinet/notifications?lang=en", organization=str(world.clinic.id), kind="recommendation",
                   text="Совет")
    assert outside.status_code == 403
    sent = post(client, "/cabinet/notifications?lang=en", organization=str(world.zags.id), text="Совет")
    assert sent.status_code == 303
    note = Notification.get()
    assert note.kind == "recommendation" and note.sender_id == world.body.id
    listed = client.get("/cabinet/notifications?lang=en&box=sent").get_data(as_text=True)
    assert world.zags.name in listed and "new" in listed


def test_the_pages_follow_the_permission_table(app, world, scene):
    note = notifications.send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    operator = signed_in(app, scene["users"]["operator"])
    assert operator.get("/cabinet/notifications").status_code == 403
    assert operator.get(f"/cabinet/notifications/{note.id}").status_code == 403
    assert operator.get("/cabinet/notifications/new").status_code == 403
    stranger = signed_in(app, scene["users"]["clinic_staff"])
    assert stranger.get(f"/cabinet/notifications/{note.id}").status_code == 403
    assert post(stranger, f"/cabinet/notifications/{note.id}/transitions", to="in_work").status_code == 403
    assert stranger.get("/cabinet/notifications/new").status_code == 403
    body = signed_in(app, scene["users"]["body"])
    assert body.get(f"/cabinet/notifications/{note.id}").status_code == 403, "neither sent nor received by it"
    assert stranger.get(f"/cabinet/notifications/{2**40}").status_code == 404
    assert app.test_client().get("/cabinet/notifications").status_code == 302
    assert app.test_client().post(f"/cabinet/notifications/{note.id}/transitions").status_code in (400, 401)
    assert Notification.get_by_id(note.id).status == "new"


@pytest.mark.parametrize("lang", ["ru", "be", "en", "tt"])
def test_the_notification_pages_speak_every_language(app, world, scene, lang):
    note = notifications.send(world.school, Notification.LOW_SCORE, "Низкие оценки")
    client = signed_in(app, scene["users"]["staff"])
    for path in ("/cabinet/notifications", f"/cabinet/notifications/{note.id}"):
        text = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        assert not re.findall(r"cabinet\.notif\.[\w.]+", text), path
        assert f'lang="{lang}"' in text
