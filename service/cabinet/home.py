"""The cabinet's start page and its menu: what there is to do, by role."""
from flask import jsonify, render_template, request

from service import i18n
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


i18n.register({
    "ru": {
        "cabinet.name": "Кабинет", "cabinet.nav": "Разделы кабинета", "nav.cabinet": "Кабинет",
        "cabinet.nav.home": "Начало", "cabinet.nav.organizations": "Организации",
        "cabinet.nav.organization": "Моя организация", "cabinet.nav.ratings": "Оценки и отзывы",
        "cabinet.nav.comments": "Модерация отзывов", "cabinet.nav.criteria": "Дополнительные критерии",
        "cabinet.nav.registries": "Реестры", "cabinet.nav.results": "Результаты",
        "cabinet.nav.notifications": "Уведомления", "cabinet.nav.users": "Пользователи",
        "cabinet.nav.audit": "Журнал изменений", "cabinet.nav.account": "Учётная запись",
        "cabinet.home.title": "Кабинет", "cabinet.home.you": "Вы вошли как {email}, роль: {role}.",
        "cabinet.home.organization": "Организация: {name}.",
        "cabinet.home.todo": "Ждёт вашего внимания",
        "cabinet.home.todo.comments": "Отзывов без ответа или на модерации: {n}",
        "cabinet.home.todo.criteria": "Предложенных критериев: {n}",
        "cabinet.home.todo.registries": "Реестров на рассмотрении: {n}",
        "cabinet.home.todo.notifications": "Открытых уведомлений: {n}",
        "cabinet.home.nothing": "Сейчас ничего не ждёт.",
        "cabinet.role.operator": "оператор", "cabinet.role.moderator": "модератор",
        "cabinet.role.staff": "сотрудник организации", "cabinet.role.body": "уполномоченный орган",
        "cabinet.form.errors": "Форма не сохранена. Исправьте, пожалуйста:",
        "cabinet.saved": "Сохранено.",
    },
    "be": {
        "cabinet.name": "Кабінет", "cabinet.nav": "Раздзелы кабінета", "nav.cabinet": "Кабінет",
        "cabinet.nav.home": "Пачатак", "cabinet.nav.organizations": "Арганізацыі",
        "cabinet.nav.organization": "Мая арганізацыя", "cabinet.nav.ratings": "Ацэнкі і водгукі",
        "cabinet.nav.comments": "Мадэрацыя водгукаў", "cabinet.nav.criteria": "Дадатковыя крытэрыі",
        "cabinet.nav.registries": "Рэестры", "cabinet.nav.results": "Вынікі",
        "cabinet.nav.notifications": "Апавяшчэнні", "cabinet.nav.users": "Карыстальнікі",
        "cabinet.nav.audit": "Журнал змен", "cabinet.nav.account": "Уліковы запіс",
        "cabinet.home.title": "Кабінет", "cabinet.home.you": "Вы ўвайшлі як {email}, роля: {role}.",
        "cabinet.home.organization": "Арганізацыя: {name}.",
        "cabinet.home.todo": "Чакае вашай увагі",
        "cabinet.home.todo.comments": "Водгукаў без адказу або на мадэрацыі: {n}",
        "cabinet.home.todo.criteria": "Прапанаваных крытэрыяў: {n}",
        "cabinet.home.todo.registries": "Рэестраў на разглядзе: {n}",
        "cabinet.home.todo.notifications": "Адкрытых апавяшчэнняў: {n}",
        "cabinet.home.nothing": "Зараз нічога не чакае.",
        "cabinet.role.operator": "аператар", "cabinet.role.moderator": "мадэратар",
        "cabinet.role.staff": "супрацоўнік арганізацыі", "cabinet.role.body": "упаўнаважаны орган",
        "cabinet.form.errors": "Форма не захавана. Выпраўце, калі ласка:",
        "cabinet.saved": "Захавана.",
    },
    "en": {
        "cabinet.name": "Cabinet", "cabinet.nav": "Cabinet sections", "nav.cabinet": "Cabinet",
        "cabinet.nav.home": "Start", "cabinet.nav.organizations": "Organizations",
        "cabinet.nav.organization": "My organization", "cabinet.nav.ratings": "Ratings and comments",
        "cabinet.nav.comments": "Comment moderation", "cabinet.nav.criteria": "Extra criteria",
        "cabinet.nav.registries": "Registries", "cabinet.nav.results": "Results",
        "cabinet.nav.notifications": "Notifications", "cabinet.nav.users": "Users",
        "cabinet.nav.audit": "Audit log", "cabinet.nav.account": "Account",
        "cabinet.home.title": "Cabinet", "cabinet.home.you": "Signed in as {email}, role: {role}.",
        "cabinet.home.organization": "Organization: {name}.",
        "cabinet.home.todo": "Waiting for you",
        "cabinet.home.todo.comments": "Comments unanswered or awaiting moderation: {n}",
        "cabinet.home.todo.criteria": "Proposed criteria: {n}",
        "cabinet.home.todo.registries": "Registries submitted for acceptance: {n}",
        "cabinet.home.todo.notifications": "Open notifications: {n}",
        "cabinet.home.nothing": "Nothing is waiting now.",
        "cabinet.role.operator": "operator", "cabinet.role.moderator": "moderator",
        "cabinet.role.staff": "organization staff", "cabinet.role.body": "authorized body",
        "cabinet.form.errors": "The form was not saved. Please fix:",
        "cabinet.saved": "Saved.",
    },
    "tt": {
        "cabinet.name": "Кабинет", "cabinet.nav": "Кабинет бүлекләре", "nav.cabinet": "Кабинет",
        "cabinet.nav.home": "Башлангыч", "cabinet.nav.organizations": "Оешмалар",
        "cabinet.nav.organization": "Минем оешма", "cabinet.nav.ratings": "Бәяләр һәм фикерләр",
        "cabinet.nav.comments": "Фикерләрне модерацияләү", "cabinet.nav.criteria": "Өстәмә критерийлар",
        "cabinet.nav.registries": "Реестрлар", "cabinet.nav.results": "Нәтиҗәләр",
        "cabinet.nav.notifications": "Белдерүләр", "cabinet.nav.users": "Кулланучылар",
        "cabinet.nav.audit": "Үзгәрешләр журналы", "cabinet.nav.account": "Хисап язмасы",
        "cabinet.home.title": "Кабинет", "cabinet.home.you": "Сез {email} буларак кердегез, роль: {role}.",
        "cabinet.home.organization": "Оешма: {name}.",
        "cabinet.home.todo": "Сезнең игътибарны көтә",
        "cabinet.home.todo.comments": "Җавапсыз яки модерациядәге фикерләр: {n}",
        "cabinet.home.todo.criteria": "Тәкъдим ителгән критерийлар: {n}",
        "cabinet.home.todo.registries": "Карала торган реестрлар: {n}",
        "cabinet.home.todo.notifications": "Ачык белдерүләр: {n}",
        "cabinet.home.nothing": "Хәзер берни дә көтми.",
        "cabinet.role.operator": "оператор", "cabinet.role.moderator": "модератор",
        "cabinet.role.staff": "оешма хезмәткәре", "cabinet.role.body": "вәкаләтле орган",
        "cabinet.form.errors": "Форма сакланмады. Зинһар, төзәтегез:",
        "cabinet.saved": "Сакланды.",
    },
})
