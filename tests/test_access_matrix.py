"""The access matrix: who gets what from every cabinet route, on SQLite and
PostgreSQL, built from the app's own URL map.

Every route under /cabinet/ and /api/v1/cabinet/ must have a rule here; a
new route without one fails ``test_every_cabinet_route_has_a_rule``. A rule
names the expected status for each actor, and for routes about one thing
(an object, a rating, a registry, …) for a target inside the actor's scope
and one outside it, written ``inside/outside``:

* ``anonymous`` — nobody signed in (pages: 302 to the sign-in form for a
  GET, 401 for a POST; the API: 401);
* ``operator``, ``moderator``;
* ``body`` — an authorized body whose accepted registry holds the inside
  target and not the outside one;
* ``staff`` — the staff of the inside target's organization; the outside
  target belongs to another organization.

The API is called with a valid body, so whoever may gets the success the
SPEC names (200, 201, 204). A page's form is posted empty: whoever may gets
the form back with its errors (400) and whoever may not gets 403 before
any field is looked at; forms that need no field answer 303 (or 200 with
a one-time link or token to copy).

Each request runs in a transaction that is rolled back, so every actor
meets the same state; a rule may set that state up first (a registry
submitted, say) inside the same transaction.
"""
import uuid
from dataclasses import dataclass, field
from typing import Callable

import pytest

from service import create_app, ranking, structure
from service.cabinet import sessions
from service.db import database, migrate
from service.models import CodeIssue, ExtraCriterion, Notification, Rating, Registry, User
from tests import factories
from tests.conftest import BACKENDS, _empty_postgres

ACTORS = ("anonymous", "operator", "moderator", "body", "staff")
MISSING_ID = 2**40


@dataclass
class Rule:
    expect: str
    # Builds the request body from the scene and the target (None: no body).
    body: Callable = None
    # Prepares the state the request needs, inside the rolled-back transaction.
    setup: Callable = None
    # Path arguments that are not ids, by name: a function of (scene, target).
    args: dict = field(default_factory=dict)

    def expected(self):
        codes = {}
        for part in self.expect.split():
            actor, _, value = part.partition("=")
            inside, _, outside = value.partition("/")
            codes[actor] = (int(inside), int(outside or inside))
        missing = set(ACTORS) - set(codes)
        assert not missing, f"rule {self.expect!r} names no status for {sorted(missing)}"
        return codes


def everyone(code, anonymous):
    return f"anonymous={anonymous} " + " ".join(f"{a}={code}" for a in ACTORS[1:])


def only(anonymous, default=403, **codes):
    return f"anonymous={anonymous} " + " ".join(f"{a}={codes.get(a, default)}" for a in ACTORS[1:])


PAGE_GET, PAGE_POST, API = 302, 401, 401


def _org_payload(scene, where):
    return {"unp": "190000001", "name": "ГУО «Гимназия № 3 г. Бреста»", "region": "brest", "locality": "г. Брест",
            "address": "ул. Ленина, 3", "spheres": ["education"]}


def _csv(scene, where):
    return ("unp,name,region,locality,address,spheres\n"
            "190000002,ГУО «Гимназия № 4 г. Бреста»,brest,г. Брест,ул. Ленина 4,education\n")


def _target(scene, where):
    return (scene.world.school if where == "in" else scene.world.clinic).id


def _draft(scene, where):
    Registry.update(state=Registry.DRAFT).where(Registry.id.in_([scene.registry.id, scene.other_registry.id])).execute()


MATRIX = {
    # -- start, account, audit
    "GET /cabinet/": Rule(everyone(200, PAGE_GET)),
    "GET /api/v1/cabinet/me": Rule(everyone(200, API)),
    # -- held ratings: the moderator (and the operator) decide clusters
    "GET /cabinet/moderation/held": Rule(only(PAGE_GET, operator=200, moderator=200)),
    "POST /cabinet/moderation/held/<key>": Rule("anonymous=401/401 operator=400/400 moderator=400/400 body=403/403 staff=403/403",
                                                args={"key": lambda s, w: "1-00-20260101"}),
    "GET /api/v1/cabinet/held": Rule(only(API, operator=200, moderator=200)),
    "POST /api/v1/cabinet/held/<key>/decision": Rule(
        "anonymous=401/401 operator=404/404 moderator=404/404 body=403/403 staff=403/403",
        args={"key": lambda s, w: "1-00-20260101"}, body=lambda s, w: {"decision": "release"}),
    # -- reports: every role, each in its scope (asked without a period: 400)
    "GET /api/v1/cabinet/reports/<any(quarterly, monitoring):kind>": Rule(
        "anonymous=401/401 operator=400/400 moderator=400/400 body=400/400 staff=400/400",
        args={"kind": lambda s, w: "quarterly"}),
    "GET /cabinet/reports": Rule(everyone(200, PAGE_GET)),
    "GET /cabinet/reports/<any(quarterly, monitoring):kind>": Rule(
        "anonymous=302/302 operator=400/400 moderator=400/400 body=400/400 staff=400/400",
        args={"kind": lambda s, w: "quarterly"}),
    "GET /cabinet/audit": Rule(only(PAGE_GET, operator=200)),
    "GET /api/v1/cabinet/audit": Rule(only(API, operator=200)),
    "GET /cabinet/account": Rule("anonymous=302 operator=200 moderator=200 body=200 staff=200"),
    "POST /cabinet/account/language": Rule("anonymous=401 operator=303 moderator=303 body=303 staff=303", body=lambda s, w: {"language": "be"}),
    "POST /cabinet/account/password": Rule("anonymous=401 operator=400 moderator=400 body=400 staff=400", body=lambda s, w: {}),
    "POST /cabinet/account/tokens": Rule("anonymous=401 operator=200 moderator=200 body=200 staff=200", body=lambda s, w: {"name": "1C"}),
    "POST /cabinet/account/tokens/<int:token_id>/revoke": Rule("anonymous=401/401 operator=303/404 moderator=303/404 body=303/404 staff=303/404"),
    "GET /api/v1/cabinet/tokens": Rule("anonymous=401 operator=200 moderator=200 body=200 staff=200"),
    "POST /api/v1/cabinet/tokens": Rule("anonymous=401 operator=201 moderator=201 body=201 staff=201", body=lambda s, w: {"name": "1C"}),
    "DELETE /api/v1/cabinet/tokens/<int:token_id>": Rule("anonymous=401/401 operator=200/404 moderator=200/404 body=200/404 staff=200/404"),
    # -- users and links
    "GET /cabinet/users": Rule("anonymous=302 operator=200 moderator=403 body=403 staff=200"),
    "GET /cabinet/users/<int:user_id>": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /cabinet/users/invite": Rule("anonymous=302 operator=200 moderator=403 body=403 staff=200"),
    "POST /cabinet/users/invite": Rule("anonymous=401 operator=400 moderator=403 body=403 staff=400", body=lambda s, w: {}),
    "POST /cabinet/users/<int:user_id>/activate": Rule("anonymous=401/401 operator=409/409 moderator=403/403 body=403/403 staff=409/403"),
    "POST /cabinet/users/<int:user_id>/deactivate": Rule("anonymous=401/401 operator=303/303 moderator=403/403 body=403/403 staff=303/403"),
    "POST /cabinet/users/<int:user_id>/password-reset": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /api/v1/cabinet/users": Rule("anonymous=401 operator=200 moderator=403 body=403 staff=200"),
    "GET /api/v1/cabinet/users/<int:user_id>": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /api/v1/cabinet/users": Rule("anonymous=401 operator=201 moderator=403 body=403 staff=201", body=lambda s, w: {
        "email": f"new-{w}@example.by", "role": "staff", "organization": _target(s, w)}),
    "POST /api/v1/cabinet/users/<int:user_id>/activate": Rule("anonymous=401/401 operator=409/409 moderator=403/403 body=403/403 staff=409/403"),
    "POST /api/v1/cabinet/users/<int:user_id>/deactivate": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /api/v1/cabinet/users/<int:user_id>/password-reset": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /cabinet/invitations/<token>": Rule("anonymous=404/404 operator=404/404 moderator=404/404 body=404/404 staff=404/404", args={"token": lambda s, w: "x" * 43}),
    "POST /cabinet/invitations/<token>": Rule("anonymous=404/404 operator=404/404 moderator=404/404 body=404/404 staff=404/404", args={"token": lambda s, w: "x" * 43}),
    "GET /cabinet/password-reset/<token>": Rule("anonymous=404/404 operator=404/404 moderator=404/404 body=404/404 staff=404/404", args={"token": lambda s, w: "x" * 43}),
    "POST /cabinet/password-reset/<token>": Rule("anonymous=404/404 operator=404/404 moderator=404/404 body=404/404 staff=404/404", args={"token": lambda s, w: "x" * 43}),
    # -- organizations
    "GET /cabinet/organizations": Rule("anonymous=302 operator=200 moderator=403 body=403 staff=403"),
    "GET /cabinet/organizations/new": Rule("anonymous=302 operator=200 moderator=403 body=403 staff=403"),
    "POST /cabinet/organizations/new": Rule("anonymous=401 operator=400 moderator=403 body=403 staff=403", body=lambda s, w: {}),
    "GET /cabinet/organizations/import": Rule("anonymous=302 operator=200 moderator=403 body=403 staff=403"),
    "POST /cabinet/organizations/import": Rule("anonymous=401 operator=400 moderator=403 body=403 staff=403", body=lambda s, w: {}),
    "GET /cabinet/organization": Rule("anonymous=302 operator=303 moderator=403 body=403 staff=303"),
    "GET /cabinet/organizations/<int:organization_id>": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /cabinet/organizations/<int:organization_id>": Rule("anonymous=401/401 operator=400/400 moderator=403/403 body=403/403 staff=303/403", body=lambda s, w: {}),
    "GET /cabinet/organizations/<int:organization_id>/kit": Rule("anonymous=302/302 operator=200/200 moderator=200/200 body=200/403 staff=200/403"),
    "POST /cabinet/organizations/<int:organization_id>/services": Rule("anonymous=401/401 operator=303/303 moderator=403/403 body=403/403 staff=303/403", body=lambda s, w: {}),
    "GET /cabinet/organizations/<int:organization_id>/subdivisions/new": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /cabinet/organizations/<int:organization_id>/subdivisions/new": Rule("anonymous=401/401 operator=400/400 moderator=403/403 body=403/403 staff=400/403", body=lambda s, w: {}),
    "GET /cabinet/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /cabinet/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>": Rule(
        "anonymous=401/401 operator=400/400 moderator=403/403 body=403/403 staff=400/403", body=lambda s, w: {}),
    "POST /cabinet/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>/delete": Rule("anonymous=401/401 operator=303/303 moderator=403/403 body=403/403 staff=303/403"),
    "GET /api/v1/cabinet/organizations": Rule("anonymous=401 operator=200 moderator=403 body=403 staff=403"),
    "POST /api/v1/cabinet/organizations": Rule("anonymous=401 operator=201 moderator=403 body=403 staff=403", body=_org_payload),
    "POST /api/v1/cabinet/organizations/import": Rule("anonymous=401 operator=200 moderator=403 body=403 staff=403", body=_csv),
    "GET /api/v1/cabinet/organizations/<int:organization_id>": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "PATCH /api/v1/cabinet/organizations/<int:organization_id>": Rule(
        "anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403", body=lambda s, w: {"website": "https://school.example.by"}),
    "PUT /api/v1/cabinet/organizations/<int:organization_id>/services": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403", body=lambda s, w: {"services": []}),
    "POST /api/v1/cabinet/organizations/<int:organization_id>/subdivisions": Rule(
        "anonymous=401/401 operator=201/201 moderator=403/403 body=403/403 staff=201/403", body=lambda s, w: {"name": "Приёмная", "locality": "г. Брест", "address": "ул. Мира, 2"}),
    "PATCH /api/v1/cabinet/subdivisions/<int:subdivision_id>": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403", body=lambda s, w: {"name": "Канцелярия"}),
    "DELETE /api/v1/cabinet/subdivisions/<int:subdivision_id>": Rule("anonymous=401/401 operator=204/204 moderator=403/403 body=403/403 staff=204/403"),
    # -- ratings, comments, criteria
    "GET /cabinet/ratings": Rule("anonymous=302 operator=200 moderator=200 body=200 staff=200"),
    "POST /cabinet/ratings/<int:rating_id>/answer": Rule("anonymous=401/401 operator=403/403 moderator=403/403 body=403/403 staff=400/403", body=lambda s, w: {}),
    "GET /api/v1/cabinet/objects/<int:object_id>/ratings": Rule("anonymous=401/401 operator=200/200 moderator=200/200 body=200/403 staff=200/403"),
    "POST /api/v1/cabinet/ratings/<int:rating_id>/answer": Rule("anonymous=401/401 operator=403/403 moderator=403/403 body=403/403 staff=200/403", body=lambda s, w: {"text": "Спасибо за отзыв"}),
    "GET /cabinet/moderation/comments": Rule("anonymous=302 operator=403 moderator=200 body=403 staff=403"),
    "POST /cabinet/moderation/comments/<int:rating_id>": Rule("anonymous=401/401 operator=403/403 moderator=400/400 body=403/403 staff=403/403", body=lambda s, w: {}),
    "GET /api/v1/cabinet/moderation/comments": Rule("anonymous=401 operator=403 moderator=200 body=403 staff=403"),
    "POST /api/v1/cabinet/ratings/<int:rating_id>/moderation": Rule("anonymous=401/401 operator=403/403 moderator=200/200 body=403/403 staff=403/403", body=lambda s, w: {"decision": "approve"}),
    "GET /cabinet/moderation/criteria": Rule("anonymous=302 operator=403 moderator=200 body=200 staff=200"),
    "POST /cabinet/moderation/criteria": Rule("anonymous=401 operator=403 moderator=403 body=400 staff=400", body=lambda s, w: {}),
    "POST /cabinet/moderation/criteria/<int:criterion_id>": Rule("anonymous=401/401 operator=403/403 moderator=400/400 body=403/403 staff=403/403", body=lambda s, w: {}),
    "GET /api/v1/cabinet/criteria": Rule("anonymous=401 operator=403 moderator=200 body=200 staff=200"),
    "POST /api/v1/cabinet/objects/<int:object_id>/criteria": Rule("anonymous=401/401 operator=403/403 moderator=403/403 body=201/403 staff=201/403", body=lambda s, w: {
        "code": "queue", "labels": {"ru": "Очередь"}, "scale_min": 1, "scale_max": 5}),
    "POST /api/v1/cabinet/criteria/<int:criterion_id>/decision": Rule("anonymous=401/401 operator=403/403 moderator=200/200 body=403/403 staff=403/403", body=lambda s, w: {"decision": "approve"}),
    # -- registries
    "GET /cabinet/registries": Rule("anonymous=302 operator=200 moderator=403 body=200 staff=403"),
    "POST /cabinet/registries": Rule("anonymous=401 operator=403 moderator=403 body=400 staff=403", body=lambda s, w: {}),
    "GET /cabinet/registries/<int:registry_id>": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=200/403 staff=403/403"),
    "POST /cabinet/registries/<int:registry_id>/entries": Rule("anonymous=401/401 operator=403/403 moderator=403/403 body=400/403 staff=403/403", body=lambda s, w: {}, setup=_draft),
    "POST /cabinet/registries/<int:registry_id>/transitions": Rule("anonymous=401/401 operator=400/400 moderator=403/403 body=400/403 staff=403/403", body=lambda s, w: {}, setup=_draft),
    "GET /api/v1/cabinet/registries": Rule("anonymous=401 operator=200 moderator=403 body=200 staff=403"),
    "POST /api/v1/cabinet/registries": Rule("anonymous=401 operator=403 moderator=403 body=201 staff=403", body=lambda s, w: {"name": "Школы района"}),
    "GET /api/v1/cabinet/registries/<int:registry_id>": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=200/403 staff=403/403"),
    "PUT /api/v1/cabinet/registries/<int:registry_id>/entries": Rule(
        "anonymous=401/401 operator=403/403 moderator=403/403 body=200/403 staff=403/403", body=lambda s, w: {"organizations": [s.world.zags.id]}, setup=_draft),
    "POST /api/v1/cabinet/registries/<int:registry_id>/transitions": Rule(
        "anonymous=401/401 operator=403/403 moderator=403/403 body=200/403 staff=403/403", body=lambda s, w: {"to": "approved"}, setup=_draft),
    # -- results
    "GET /cabinet/results": Rule("anonymous=302 operator=200 moderator=200 body=200 staff=200"),
    "GET /cabinet/results.csv": Rule("anonymous=302 operator=200 moderator=200 body=200 staff=200"),
    "GET /cabinet/results/<int:object_id>": Rule("anonymous=302/302 operator=200/200 moderator=200/200 body=200/403 staff=200/403"),
    "GET /api/v1/cabinet/results": Rule("anonymous=401 operator=200 moderator=200 body=200 staff=200"),
    "GET /api/v1/cabinet/objects/<int:object_id>/figures": Rule("anonymous=401/401 operator=200/200 moderator=200/200 body=200/403 staff=200/403"),
    # -- single-use codes (proof of service)
    "GET /cabinet/objects/<int:object_id>/codes": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /cabinet/objects/<int:object_id>/codes": Rule("anonymous=401/401 operator=400/400 moderator=403/403 body=403/403 staff=400/403", body=lambda s, w: {}),
    "GET /cabinet/codes/<int:issue_id>": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /cabinet/codes/<int:issue_id>.pdf": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /cabinet/codes/<int:issue_id>.csv": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /cabinet/codes/<int:issue_id>/list": Rule("anonymous=302/302 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /api/v1/cabinet/objects/<int:object_id>/codes": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "POST /api/v1/cabinet/objects/<int:object_id>/codes": Rule(
        "anonymous=401/401 operator=201/201 moderator=403/403 body=403/403 staff=201/403", body=lambda s, w: {"count": 3, "kind": "sheet"}),
    "GET /api/v1/cabinet/codes/<int:issue_id>": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /api/v1/cabinet/codes/<int:issue_id>.pdf": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    "GET /api/v1/cabinet/codes/<int:issue_id>.csv": Rule("anonymous=401/401 operator=200/200 moderator=403/403 body=403/403 staff=200/403"),
    # -- notifications
    "GET /cabinet/notifications": Rule("anonymous=302 operator=403 moderator=200 body=200 staff=200"),
    "GET /cabinet/notifications/new": Rule("anonymous=302 operator=403 moderator=200 body=200 staff=403"),
    "POST /cabinet/notifications": Rule("anonymous=401 operator=403 moderator=400 body=400 staff=403", body=lambda s, w: {}),
    "GET /cabinet/notifications/<int:notification_id>": Rule("anonymous=302/302 operator=403/403 moderator=200/200 body=403/403 staff=200/403"),
    "POST /cabinet/notifications/<int:notification_id>/transitions": Rule("anonymous=401/401 operator=403/403 moderator=403/403 body=403/403 staff=400/403", body=lambda s, w: {}),
    "GET /api/v1/cabinet/notifications": Rule("anonymous=401 operator=403 moderator=200 body=200 staff=200"),
    "POST /api/v1/cabinet/notifications": Rule("anonymous=401 operator=403 moderator=403 body=201 staff=403", body=lambda s, w: {
        "organization": _target(s, w), "kind": "recommendation", "text": "Сократите очередь"}),
    "POST /api/v1/cabinet/notifications/<int:notification_id>/transitions": Rule(
        "anonymous=401/401 operator=403/403 moderator=403/403 body=403/403 staff=200/403", body=lambda s, w: {"to": "in_work"}),
}


# -- the scene -------------------------------------------------------------------

class Scene:
    """Two of everything: one inside each actor's scope, one outside."""

    def __init__(self):
        world = factories.small_world()
        self.world = world
        self.body_org = world.body
        self.registry = structure.create_registry(world.body, [world.school, world.zags])
        for state in (Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED):
            structure.move_registry(self.registry, state)
        other_body = factories.organization("Гомельский облисполком", "gomel", ("registry",),
                                            is_authorized_body=True, is_evaluation_object=False)
        self.other_registry = structure.create_registry(other_body, [world.clinic])
        self.users = {
            "operator": factories.user(User.OPERATOR),
            "moderator": factories.user(User.MODERATOR),
            "body": factories.user(User.BODY, world.body),
            "staff": factories.user(User.STAFF, world.school),
        }
        self.colleague = factories.user(User.STAFF, world.school)
        self.stranger = factories.user(User.STAFF, world.clinic)
        self.school_sub = structure.add_subdivision(world.school, "Учебная часть")
        self.ratings = {"in": self._rating(world.school), "out": self._rating(world.clinic)}
        self.criteria = {
            "in": ExtraCriterion.create(owner=world.school, code="wifi", labels={"ru": "Wi-Fi в зале"}),
            "out": ExtraCriterion.create(owner=world.clinic, code="parking", labels={"ru": "Парковка"}),
        }
        self.notifications = {
            "in": Notification.create(organization=world.school, kind=Notification.LOW_SCORE, text="Низкие оценки"),
            "out": Notification.create(organization=world.clinic, kind=Notification.LOW_SCORE, text="Низкие оценки"),
        }
        self.code_issues = {
            "in": CodeIssue.create(object=self.school_sub, kind=CodeIssue.SHEET, first_serial=1, count=2),
            "out": CodeIssue.create(object=world.clinic_kids, kind=CodeIssue.LIST, first_serial=1, count=2),
        }
        self.tokens = {name: sessions.make_token(user, "matrix") for name, user in self.users.items()}

    @staticmethod
    def _rating(obj):
        return Rating.create(object=obj.id, simplicity=2, information=2, timeliness=2, politeness=2,
                             comment="Долго ждали", comment_status=Rating.COMMENT_PENDING, channel="widget",
                             month=202611, client_token=str(uuid.uuid4()), client_hash="x" * 32,
                             address_hash="y" * 32)

    def target_id(self, kind, where, actor):
        w = self.world
        inside = where == "in"
        if kind == "object":
            return (w.school if inside else w.clinic).id
        if kind == "subdivision":
            return (self.school_sub if inside else w.clinic_women).id
        if kind == "rating":
            return self.ratings[where].id
        if kind == "registry":
            return (self.registry if inside else self.other_registry).id
        if kind == "criterion":
            return self.criteria[where].id
        if kind == "notification":
            return self.notifications[where].id
        if kind == "code_issue":
            return self.code_issues[where].id
        if kind == "user":
            return (self.colleague if inside else self.stranger).id
        if kind == "token":
            # Inside: the actor's own token; outside: somebody else's.
            owner = actor if inside and actor in self.tokens else "operator" if actor != "operator" else "moderator"
            return self.tokens[owner][1].id
        raise AssertionError(f"no target of kind {kind!r}")


# Path arguments by name: what kind of thing each id names.
ID_KINDS = {
    "object_id": "object", "organization_id": "object", "subdivision_id": "subdivision", "rating_id": "rating",
    "registry_id": "registry", "criterion_id": "criterion", "notification_id": "notification",
    "user_id": "user", "token_id": "token", "issue_id": "code_issue",
}


def cabinet_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/cabinet", "/api/v1/cabinet")):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, rule))
    return routes


def test_every_cabinet_route_has_a_rule(matrix):
    app = matrix.app
    routes = {f"{method} {path}" for method, path, _ in cabinet_routes(app)}
    assert routes, "no cabinet routes found"
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, "cabinet routes without a rule in the access matrix:\n" + "\n".join(missing)
    assert not stale, "rules for routes that no longer exist:\n" + "\n".join(stale)


def test_every_id_argument_has_a_known_kind(matrix):
    app = matrix.app
    unknown = sorted({arg for _, _, rule in cabinet_routes(app) for arg, converter in rule._converters.items()
                      if converter.__class__.__name__ == "IntegerConverter" and arg not in ID_KINDS})
    assert not unknown, f"path arguments the matrix cannot fill: {unknown}"


# -- running a rule ------------------------------------------------------------------

def _clients(app, scene):
    clients = {"anonymous": app.test_client()}
    for actor, user in scene.users.items():
        client = app.test_client()
        assert factories.sign_in(client, user).status_code == 302
        clients[actor] = client
    return clients


def _path(rule, scene, where, actor, spec, missing=False):
    values = {}
    for arg, converter in rule._converters.items():
        if arg in spec.args:
            values[arg] = spec.args[arg](scene, where)
        elif arg in ID_KINDS:
            values[arg] = MISSING_ID if missing else scene.target_id(ID_KINDS[arg], where, actor)
        else:
            raise AssertionError(f"{rule.rule}: no value for the path argument {arg!r}")
    return rule.build(values, append_unknown=False)[1]


def _request(client, method, path, actor, scene, spec, where):
    is_api = path.startswith("/api/")
    body = spec.body(scene, where) if spec.body else None
    kwargs = {}
    if is_api:
        if actor != "anonymous":
            kwargs["headers"] = factories.bearer(scene.tokens[actor][0])
        if isinstance(body, str):
            kwargs.update(data=body.encode(), content_type="text/csv")
        elif body is not None:
            kwargs["json"] = body
    elif method != "GET":
        # A valid CSRF token for everyone, so that what is tested is who
        # may, not whether the form came from the site.
        kwargs["data"] = dict(body or {}, csrf=factories.csrf_token(client))
    return client.open(path, method=method, **kwargs)


def _status(client, method, path, actor, scene, spec, where):
    with database.atomic() as transaction:
        if spec.setup:
            spec.setup(scene, where)
        response = _request(client, method, path, actor, scene, spec, where)
        transaction.rollback()
    return response.status_code


class Matrix:
    """One app, scene and signed-in clients per database for the whole
    module: each request is rolled back, so they stay as built."""

    def __init__(self, app, scene, clients):
        self.app, self.scene, self.clients = app, scene, clients


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'ocenka.sqlite3'}"
    else:
        url = request.getfixturevalue("_postgres_schema")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "matrix", "TESTING": True, "BASE_URL": "https://ocenka.test"})
    ranking.clear_cache()
    with app.app_context(), database.connection_context():
        if request.param == "sqlite":
            migrate()
        else:
            _empty_postgres()
        scene = Scene()
        clients = _clients(app, scene)
    yield Matrix(app, scene, clients)
    if request.param != "sqlite":
        with app.app_context(), database.connection_context():
            _empty_postgres()
    database.close_all()
    ranking.clear_cache()


def _rule_of(app, route):
    method, path = route.split(" ", 1)
    rule = next((r for m, p, r in cabinet_routes(app) if m == method and p == path), None)
    if rule is None:
        pytest.fail(f"{route} is in the matrix but not in the app")
    return method, rule


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_access(matrix, route):
    spec = MATRIX[route]
    method, rule = _rule_of(matrix.app, route)
    scene, clients = matrix.scene, matrix.clients
    has_target = any(arg in ID_KINDS or arg in spec.args for arg in rule.arguments)
    wanted = spec.expected()
    got, expected = {}, {}
    with matrix.app.app_context(), database.connection_context():
        for actor in ACTORS:
            for where in (("in", "out") if has_target else ("in",)):
                url = _path(rule, scene, where, actor, spec)
                got[(actor, where)] = _status(clients[actor], method, url, actor, scene, spec, where)
                expected[(actor, where)] = wanted[actor][0 if where == "in" else 1]
    wrong = {k: (expected[k], got[k]) for k in got if got[k] != expected[k]}
    assert not wrong, f"{route}: (actor, target): (expected, got) " + repr(wrong)


@pytest.mark.parametrize("route", [r for r in sorted(MATRIX) if "<int:" in r])
def test_unknown_ids_are_404_for_everyone_signed_in(matrix, route):
    spec = MATRIX[route]
    method, rule = _rule_of(matrix.app, route)
    with matrix.app.app_context(), database.connection_context():
        for actor in ACTORS[1:]:
            url = _path(rule, matrix.scene, "in", actor, spec, missing=True)
            status = _status(matrix.clients[actor], method, url, actor, matrix.scene, spec, "in")
            assert status == 404, (actor, url, status)
