"""The cabinet's start page and its menu: what there is to do, by role."""
from flask import jsonify, render_template, request

from service.cabinet import permissions as can
from service.cabinet.web import actor, api, pages
from service.i18n import current_language, translate as t
from service.models import ExtraCriterion, Notification, RatableObject, Rating, Registry, User

# (path, label key, roles that see it); the first whose path starts the
# current one is marked as the current section.
SECTIONS = [
    ("/cabinet/", "cabinet.nav.home", User.ROLES),
    ("/cabinet/organizations", "cabinet.nav.organizations", (User.OPERATOR,)),
    ("/cabinet/organization", "cabinet.nav.organization", (User.STAFF,)),
    ("/cabinet/ratings", "cabinet.nav.ratings", User.ROLES),
    ("/cabinet/moderation/comments", "cabinet.nav.comments", (User.MODERATOR,)),
    ("/cabinet/moderation/held", "cabinet.nav.held", (User.MODERATOR, User.OPERATOR)),
    ("/cabinet/moderation/criteria", "cabinet.nav.criteria", (User.MODERATOR, User.BODY, User.STAFF)),
    ("/cabinet/registries", "cabinet.nav.registries", (User.OPERATOR, User.BODY)),
    ("/cabinet/results", "cabinet.nav.results", User.ROLES),
    ("/cabinet/reports", "cabinet.nav.reports", User.ROLES),
    ("/cabinet/notifications", "cabinet.nav.notifications", (User.MODERATOR, User.BODY, User.STAFF)),
    ("/cabinet/users", "cabinet.nav.users", (User.OPERATOR, User.STAFF)),
    ("/cabinet/audit", "cabinet.nav.audit", (User.OPERATOR,)),
    ("/cabinet/account", "cabinet.nav.account", User.ROLES),
]


@pages.app_template_global()
def cabinet_sections():
    user = actor()
    lang = current_language()
    here = request.path
    visible = [(path, key) for path, key, roles in SECTIONS if user.role in roles]
    current = max((path for path, _ in visible if here == path or (path != "/cabinet/" and here.startswith(path))),
                  key=len, default=None)
    return [{"url": f"{path}?lang={lang}", "label": t(key), "current": path == current} for path, key in visible]


def _todo(user):
    """Counts of what waits for this user, for the start page."""
    todo = {}
    if user.role == User.MODERATOR:
        todo["comments"] = Rating.select().where(Rating.comment_status == Rating.COMMENT_PENDING).count()
        todo["criteria"] = ExtraCriterion.select().where(ExtraCriterion.state == ExtraCriterion.PROPOSED).count()
    if user.role == User.OPERATOR:
        todo["registries"] = Registry.select().where(Registry.state == Registry.SUBMITTED).count()
    if user.role == User.STAFF and user.organization_id:
        own = can.readable_objects(user)
        todo["comments"] = Rating.select().where(Rating.object.in_(own) & Rating.comment.is_null(False)
                                                 & Rating.answer.is_null()).count()
        todo["notifications"] = (Notification.select()
                                 .where((Notification.organization == user.organization_id)
                                        & (Notification.status != Notification.DONE)).count())
    return todo


@pages.get("/")
def home():
    user = actor()
    organization = RatableObject.get_or_none(RatableObject.id == user.organization_id) if user.organization_id else None
    return render_template("cabinet/home.html", title=t("cabinet.home.title"), user=user,
                           organization=organization, todo=_todo(user),
                           role_name=t(f"cabinet.role.{user.role}"))


@api.get("/me")
def me():
    user = actor()
    return jsonify(email=user.email, role=user.role, organization=user.organization_id,
                   name=user.name, language=user.language)
