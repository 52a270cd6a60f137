"""Users and accounts in the cabinet: the list of users, invitations,
password reset links, deactivation (the operator: anyone; an
organization's staff: their colleagues), the pages an invitation or reset
link opens without an account, and each user's own account page (password,
language, personal tokens). Pages and JSON share ``service.accounts``."""
from urllib.parse import urlencode

from flask import jsonify, make_response, redirect, render_template, request, url_for

from service import accounts, i18n, mail
from service.accounts import LinkInvalid
from service.cabinet import permissions as can
from service.cabinet import sessions
from service.cabinet.web import (
    actor, api, form_errors, get_or_404, json_body, open_to_anonymous, pages, render_form,
)
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import LANGUAGES, AccountLink, RatableObject, User

INVITATION_FIELDS = ("email", "role", "organization", "name", "language")
PASSWORD_FIELDS = ("password", "password_again")


def _form(*names):
    return {name: request.form.get(name, "") for name in names}


def _assignable_roles(user):
    """The roles ``user`` may invite, asked of the permission rules."""
    return [role for role in User.ROLES
            if can.allowed(user, can.MANAGE_USERS, User(role=role, organization=user.organization_id))]


def _role_options(roles):
    return [(role, t(f"cabinet.role.{role}")) for role in roles]


def _language_options():
    return [(code, i18n.LANGUAGE_NAMES[code]) for code in LANGUAGES]


def _picks_organization(user):
    """Whether the user chooses the organization of whom they invite (the
    operator) or invites into their own (an organization's staff)."""
    return can.scope_of(user, can.MANAGE_USERS) == can.ANY


def _managed_user(user_id):
    user = actor()
    target = get_or_404(User, user_id, "user")
    can.require(user, can.MANAGE_USERS, target)
    return user, target


# -- users: pages ---------------------------------------------------------------------------

@pages.get("/users")
def users_page():
    user = actor()
    can.require(user, can.MANAGE_USERS)
    args = accounts.load(accounts.user_query, request.args)
    query = accounts.users(user, args)
    total = query.count()
    rows = list(query.paginate(args["page"], args["per_page"]))
    filters = {k: v for k, v in (("role", args["role"]), ("q", args["q"])) if v}

    def page_url(page):
        return "?" + urlencode(dict(filters, page=page, lang=current_language()))

    return render_template("cabinet/users.html", title=t("cabinet.nav.users"), users=rows, total=total,
                           args=args, pages=max(1, -(-total // args["per_page"])), page_url=page_url,
                           role_options=_role_options(_assignable_roles(user)))


def _invite_form(user, data, errors=None, status=200):
    return render_form("cabinet/users_invite.html", errors, status, title=t("cabinet.users.invite"), form=data,
                       role_options=_role_options(_assignable_roles(user)),
                       picks_organization=_picks_organization(user),
                       language_options=_language_options(),
                       days=accounts.INVITATION_LIFETIME.days)


@pages.get("/users/invite")
def user_invite_page():
    user = actor()
    can.require(user, can.MANAGE_USERS)
    return _invite_form(user, {"language": current_language()})


@pages.post("/users/invite")
def user_invite_submit():
    user = actor()
    can.require(user, can.MANAGE_USERS)
    data = _form(*INVITATION_FIELDS)
    try:
        new = accounts.candidate(user, data)
        can.require(user, can.MANAGE_USERS, new)
        text, link = accounts.invite(user, new)
    except ApiError as error:
        return _invite_form(user, data, form_errors(error), error.status)
    return render_template("cabinet/link_issued.html", title=t("cabinet.link.invitation_issued"), target=new,
                           url=accounts.link_url(link, text, new.language), link=link, mailed=mail.configured())


def _user_page(user, target, errors=None, status=200):
    organization = (RatableObject.get_or_none(RatableObject.id == target.organization_id)
                    if target.organization_id else None)
    return render_form("cabinet/users_detail.html", errors, status, title=target.email, target=target,
                       organization=organization, links=accounts.pending_links(target), is_self=target.id == user.id,
                       done=request.args.get("done"))


@pages.get("/users/<int:user_id>")
def user_page(user_id):
    user, target = _managed_user(user_id)
    return _user_page(user, target)


def _set_active(user_id, active):
    user, target = _managed_user(user_id)
    try:
        accounts.set_active(user, target, active)
    except ApiError as error:
        return _user_page(user, target, form_errors(error), error.status)
    return redirect(url_for("cabinet.user_page", user_id=target.id, lang=current_language(),
                            done="activated" if active else "deactivated"), 303)


@pages.post("/users/<int:user_id>/deactivate")
def user_deactivate_submit(user_id):
    return _set_active(user_id, False)


@pages.post("/users/<int:user_id>/activate")
def user_activate_submit(user_id):
    return _set_active(user_id, True)


@pages.post("/users/<int:user_id>/password-reset")
def user_reset_link_submit(user_id):
    user, target = _managed_user(user_id)
    try:
        text, link = accounts.issue_reset(user, target)
    except ApiError as error:
        return _user_page(user, target, form_errors(error), error.status)
    return render_template("cabinet/link_issued.html", title=t("cabinet.link.reset_issued"), target=target,
                           url=accounts.link_url(link, text, target.language), link=link, mailed=mail.configured())


def _letter(target):
    """What the JSON answer says of the letter carrying the link: where it
    goes, and whether it can go now (else it waits in the outbox)."""
    return {"mailed_to": target.email, "mail_configured": mail.configured()}


# -- users: JSON ----------------------------------------------------------------------------

@api.get("/users")
def users_json():
    user = actor()
    can.require(user, can.MANAGE_USERS)
    args = accounts.load(accounts.user_query, request.args)
    query = accounts.users(user, args)
    items = [accounts.user_as_json(u) for u in query.paginate(args["page"], args["per_page"])]
    return jsonify(items=items, total=query.count(), page=args["page"], per_page=args["per_page"])


@api.post("/users")
def user_invite_json():
    user = actor()
    can.require(user, can.MANAGE_USERS)
    new = accounts.candidate(user, json_body())
    can.require(user, can.MANAGE_USERS, new)
    text, link = accounts.invite(user, new)
    return jsonify(id=new.id, email=new.email, invitation_url=accounts.link_url(link, text, new.language),
                   expires=accounts.iso(link.expires), **_letter(new)), 201


@api.get("/users/<int:user_id>")
def user_json(user_id):
    _, target = _managed_user(user_id)
    return jsonify(accounts.user_as_json(target))


@api.post("/users/<int:user_id>/deactivate")
def user_deactivate_json(user_id):
    user, target = _managed_user(user_id)
    return jsonify(accounts.user_as_json(accounts.set_active(user, target, False)))


@api.post("/users/<int:user_id>/activate")
def user_activate_json(user_id):
    user, target = _managed_user(user_id)
    return jsonify(accounts.user_as_json(accounts.set_active(user, target, True)))


@api.post("/users/<int:user_id>/password-reset")
def user_reset_link_json(user_id):
    user, target = _managed_user(user_id)
    text, link = accounts.issue_reset(user, target)
    return jsonify(reset_url=accounts.link_url(link, text, target.language), expires=accounts.iso(link.expires),
                   **_letter(target))


# -- links opened without an account ------------------------------------------------------------

def _no_referrer(response):
    # The token is in the address; no other site may see it in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_invalid():
    # One answer for unknown, used, expired and replaced links: it tells
    # nothing about which links exist.
    page = render_template("cabinet/link_invalid.html", title=t("cabinet.link.invalid_title"))
    return _no_referrer(make_response(page, 404))


def _link_form(kind, link, errors=None, status=200):
    title = t("cabinet.link.invitation_title" if kind == AccountLink.INVITATION else "cabinet.link.reset_title")
    body = render_template("cabinet/link_form.html", title=title, kind=kind, email=link.user.email,
                           errors=errors or {}, min_password=accounts.MIN_PASSWORD,
                           action=f"{request.path}?lang={current_language()}")
    return _no_referrer(make_response(body, status))


def _open_link(kind, token):
    link = accounts.valid_link(kind, token)
    return _link_invalid() if link is None else _link_form(kind, link)


def _use_link(kind, token):
    try:
        user = accounts.accept_link(kind, token, _form(*PASSWORD_FIELDS))
    except LinkInvalid:
        return _link_invalid()
    except ApiError as error:
        link = accounts.valid_link(kind, token)
        return _link_invalid() if link is None else _link_form(kind, link, form_errors(error), error.status)
    sessions.start(user)
    return _no_referrer(redirect(f"/cabinet/?lang={user.language}", 303))


@pages.get("/invitations/<token>")
@open_to_anonymous
def link_invitation_page(token):
    return _open_link(AccountLink.INVITATION, token)


@pages.post("/invitations/<token>")
@open_to_anonymous
def link_invitation_submit(token):
    return _use_link(AccountLink.INVITATION, token)


@pages.get("/password-reset/<token>")
@open_to_anonymous
def link_password_reset_page(token):
    return _open_link(AccountLink.RESET, token)


@pages.post("/password-reset/<token>")
@open_to_anonymous
def link_password_reset_submit(token):
    return _use_link(AccountLink.RESET, token)


# -- the user's own account ------------------------------------------------------------------

DONE = ("password", "language", "revoked")


def _account_page(user, errors=None, status=200, new_token=None, form=None):
    done = request.args.get("done")
    return render_form("cabinet/account.html", errors, status, title=t("cabinet.nav.account"), user=user,
                       tokens=accounts.tokens(user), new_token=new_token, form=form or {},
                       language_options=_language_options(),
                       min_password=accounts.MIN_PASSWORD, done=done if done in DONE else None)


def _account_done(what, lang=None):
    return redirect(url_for("cabinet.account_page", lang=lang or current_language(), done=what), 303)


@pages.get("/account")
def account_page():
    return _account_page(actor())


@pages.post("/account/password")
def account_password_submit():
    user = actor()
    try:
        accounts.change_password(user, _form("current_password", *PASSWORD_FIELDS))
    except ApiError as error:
        return _account_page(user, form_errors(error), error.status)
    return _account_done("password")


@pages.post("/account/language")
def account_language_submit():
    user = actor()
    try:
        accounts.set_language(user, _form("language"))
    except ApiError as error:
        return _account_page(user, form_errors(error), error.status)
    # The new language at once (and, through ?lang=, remembered by the browser).
    return _account_done("language", user.language)


@pages.post("/account/tokens")
def account_token_submit():
    user = actor()
    data = _form("name")
    try:
        text, row = accounts.make_token(user, data, actor=user)
    except ApiError as error:
        return _account_page(user, form_errors(error), error.status, form=data)
    return _account_page(user, new_token={"text": text, "row": row})


@pages.post("/account/tokens/<int:token_id>/revoke")
def account_token_revoke(token_id):
    user = actor()
    try:
        accounts.revoke_token(user, token_id)
    except ApiError as error:
        if error.status == 404:
            raise
        return _account_page(user, form_errors(error), error.status)
    return _account_done("revoked")


# -- the user's own tokens: JSON -----------------------------------------------------------------

@api.get("/tokens")
def account_tokens_json():
    return jsonify(items=[accounts.token_as_json(row) for row in accounts.tokens(actor())])


@api.post("/tokens")
def account_token_create_json():
    user = actor()
    text, row = accounts.make_token(user, json_body(), actor=user)
    return jsonify(dict(accounts.token_as_json(row), token=text)), 201


@api.delete("/tokens/<int:token_id>")
def account_token_revoke_json(token_id):
    user = actor()
    return jsonify(accounts.token_as_json(accounts.revoke_token(user, token_id)))


i18n.register({
    "ru": {
        "cabinet.users.invite": "Пригласить пользователя", "cabinet.users.filter": "Найти",
        "cabinet.users.role": "Роль", "cabinet.users.any_role": "Все роли",
        "cabinet.users.search": "Электронная почта содержит", "cabinet.users.total": "Пользователей: {n}",
        "cabinet.users.email": "Электронная почта", "cabinet.users.name": "Имя",
        "cabinet.users.organization": "Организация", "cabinet.users.status": "Состояние",
        "cabinet.users.status.active": "действует", "cabinet.users.status.inactive": "отключён",
        "cabinet.users.status.invited": "приглашён, пароль ещё не задан",
        "cabinet.users.pages": "Страницы списка пользователей", "cabinet.users.empty": "Никого не найдено.",
        "cabinet.users.invite_intro": "Приглашённый получит одноразовую ссылку, по которой задаст себе пароль; "
                                      "она действует {days} дней. Пока почта не настроена, ссылку покажем вам "
                                      "один раз — передайте её сами.",
        "cabinet.users.organization_ref": "Организация: номер или УНП",
        "cabinet.users.organization_hint": "Для сотрудника организации и уполномоченного органа; "
                                           "оператору и модератору не нужна.",
        "cabinet.users.name_field": "Имя и должность", "cabinet.users.language": "Язык кабинета и писем",
        "cabinet.users.invite_submit": "Пригласить", "cabinet.users.back": "К списку пользователей",
        "cabinet.users.to_user": "К пользователю", "cabinet.users.unp": "УНП", "cabinet.users.created": "Создан",
        "cabinet.users.links": "Действующие ссылки", "cabinet.users.link.invitation": "приглашение",
        "cabinet.users.link.reset": "смена пароля", "cabinet.users.link_until": "действует до {expires} UTC",
        "cabinet.users.no_links": "Действующих ссылок нет.",
        "cabinet.users.you": "Это вы. Пароль, язык и токены меняются на странице",
        "cabinet.users.actions": "Действия",
        "cabinet.users.reset": "Выдать ссылку для смены пароля",
        "cabinet.users.reset_hint": "Ссылка действует сутки и один раз; прежние ссылки перестанут действовать. "
                                    "Пароль не изменится, пока пользователь не задаст новый.",
        "cabinet.users.deactivate": "Отключить",
        "cabinet.users.deactivate_hint": "Пользователь сразу выйдет из кабинета во всех браузерах, "
                                         "его токены и ссылки перестанут действовать.",
        "cabinet.users.activate": "Включить снова",
        "cabinet.users.done.activated": "Пользователь снова включён.",
        "cabinet.users.done.deactivated": "Пользователь отключён; все его сеансы завершены.",
        "cabinet.link.invitation_issued": "Приглашение создано", "cabinet.link.reset_issued": "Ссылка для смены пароля",
        "cabinet.link.copy_now": "Скопируйте ссылку сейчас, если передаёте её сами: здесь она показана только один раз.",
        "cabinet.link.mailed": "Письмо с этой ссылкой отправлено пользователю на {email}. Если оно не дойдёт, передайте ссылку сами. Ссылка действует до {expires} UTC.",
        "cabinet.link.issued_for": "Передайте её пользователю {email}. Ссылка действует до {expires} UTC.",
        "cabinet.link.label": "Ссылка",
        "cabinet.link.single_use": "По ссылке можно задать пароль один раз; прежние неиспользованные ссылки "
                                   "этого пользователя больше не действуют.",
        "cabinet.link.invitation_title": "Добро пожаловать в кабинет", "cabinet.link.reset_title": "Новый пароль",
        "cabinet.link.invitation_intro": "Учётная запись {email}. Задайте пароль, чтобы войти.",
        "cabinet.link.reset_intro": "Учётная запись {email}. Задайте новый пароль; все прежние сеансы "
                                    "этой учётной записи будут завершены.",
        "cabinet.link.submit": "Задать пароль и войти",
        "cabinet.link.invalid_title": "Ссылка больше не действует",
        "cabinet.link.invalid_text": "Эта ссылка уже использована, устарела или заменена более новой.",
        "cabinet.link.invalid_ask": "Попросите новую у того, кто её прислал: у сотрудника вашей организации, "
                                    "который управляет пользователями, или у оператора портала.",
        "cabinet.link.to_login": "Войти с паролем",
        "cabinet.account.you": "Электронная почта: {email}. Роль: {role}.",
        "cabinet.account.done.password": "Пароль изменён. Все другие ваши сеансы завершены.",
        "cabinet.account.done.language": "Язык сохранён.", "cabinet.account.done.revoked": "Токен отозван.",
        "cabinet.account.token_made": "Токен создан. Скопируйте его сейчас: он показан только один раз, "
                                      "хранится лишь его отпечаток.",
        "cabinet.account.token_label": "Токен «{name}»",
        "cabinet.account.password": "Смена пароля", "cabinet.account.current_password": "Текущий пароль",
        "cabinet.account.new_password": "Новый пароль", "cabinet.account.password_hint": "Не короче {n} {n:символа|символов|символов}.",
        "cabinet.account.password_again": "Новый пароль ещё раз",
        "cabinet.account.password_note": "Все другие ваши сеансы будут завершены; этот останется.",
        "cabinet.account.password_submit": "Сменить пароль",
        "cabinet.account.language": "Язык", "cabinet.account.save": "Сохранить",
        "cabinet.account.tokens": "Персональные токены",
        "cabinet.account.tokens_intro": "Токен открывает API кабинета (/api/v1/cabinet/…) от вашего имени: "
                                        "передавайте его в заголовке Authorization: Bearer. Отзовите токен, "
                                        "который больше не нужен.",
        "cabinet.account.token_name": "Название", "cabinet.account.token_created": "Создан",
        "cabinet.account.token_last_used": "Использован", "cabinet.account.token_state": "Состояние",
        "cabinet.account.token_actions": "Действия", "cabinet.account.token_never": "ни разу",
        "cabinet.account.token_revoked": "отозван {when} UTC", "cabinet.account.token_active": "действует",
        "cabinet.account.token_revoke": "Отозвать", "cabinet.account.token_revoke_named": "Отозвать токен «{name}»",
        "cabinet.account.tokens_empty": "Токенов нет.", "cabinet.account.token_new": "Новый токен",
        "cabinet.account.token_name_field": "Название (для чего токен)",
        "cabinet.account.token_submit": "Создать токен",
    },
    "be": {
        "cabinet.users.invite": "Запрасіць карыстальніка", "cabinet.users.filter": "Знайсці",
        "cabinet.users.role": "Роля", "cabinet.users.any_role": "Усе ролі",
        "cabinet.users.search": "Электронная пошта змяшчае", "cabinet.users.total": "Карыстальнікаў: {n}",
        "cabinet.users.email": "Электронная пошта", "cabinet.users.name": "Імя",
        "cabinet.users.organization": "Арганізацыя", "cabinet.users.status": "Стан",
        "cabinet.users.status.active": "дзейнічае", "cabinet.users.status.inactive": "адключаны",
        "cabinet.users.status.invited": "запрошаны, пароль яшчэ не зададзены",
        "cabinet.users.pages": "Старонкі спіса карыстальнікаў", "cabinet.users.empty": "Нікога не знойдзена.",
        "cabinet.users.invite_intro": "Запрошаны атрымае аднаразовую спасылку, па якой задасць сабе пароль; "
                                      "яна дзейнічае {days} дзён. Пакуль пошта не наладжана, спасылку пакажам "
                                      "вам адзін раз — перадайце яе самі.",
        "cabinet.users.organization_ref": "Арганізацыя: нумар або УНП",
        "cabinet.users.organization_hint": "Для супрацоўніка арганізацыі і ўпаўнаважанага органа; "
                                           "аператару і мадэратару не патрэбна.",
        "cabinet.users.name_field": "Імя і пасада", "cabinet.users.language": "Мова кабінета і лістоў",
        "cabinet.users.invite_submit": "Запрасіць", "cabinet.users.back": "Да спіса карыстальнікаў",
        "cabinet.users.to_user": "Да карыстальніка", "cabinet.users.unp": "УНП", "cabinet.users.created": "Створаны",
        "cabinet.users.links": "Дзейныя спасылкі", "cabinet.users.link.invitation": "запрашэнне",
        "cabinet.users.link.reset": "змена пароля", "cabinet.users.link_until": "дзейнічае да {expires} UTC",
        "cabinet.users.no_links": "Дзейных спасылак няма.",
        "cabinet.users.you": "Гэта вы. Пароль, мова і токены мяняюцца на старонцы",
        "cabinet.users.actions": "Дзеянні",
        "cabinet.users.reset": "Выдаць спасылку для змены пароля",
        "cabinet.users.reset_hint": "Спасылка дзейнічае суткі і адзін раз; ранейшыя спасылкі перастануць дзейнічаць. "
                                    "Пароль не зменіцца, пакуль карыстальнік не задасць новы.",
        "cabinet.users.deactivate": "Адключыць",
        "cabinet.users.deactivate_hint": "Карыстальнік адразу выйдзе з кабінета ва ўсіх браўзерах, "
                                         "яго токены і спасылкі перастануць дзейнічаць.",
        "cabinet.users.activate": "Уключыць зноў",
        "cabinet.users.done.activated": "Карыстальнік зноў уключаны.",
        "cabinet.users.done.deactivated": "Карыстальнік адключаны; усе яго сеансы завершаны.",
        "cabinet.link.invitation_issued": "Запрашэнне створана",
        "cabinet.link.reset_issued": "Спасылка для змены пароля",
        "cabinet.link.copy_now": "Скапіруйце спасылку зараз, калі перадаяце яе самі: тут яна паказана "
                                 "толькі адзін раз.",
        "cabinet.link.mailed": "Ліст з гэтай спасылкай адпраўлены карыстальніку на {email}. Калі ён не дойдзе, "
                               "перадайце спасылку самі. Спасылка дзейнічае да {expires} UTC.",
        "cabinet.link.issued_for": "Перадайце яе карыстальніку {email}. Спасылка дзейнічае да {expires} UTC.",
        "cabinet.link.label": "Спасылка",
        "cabinet.link.single_use": "Па спасылцы можна задаць пароль адзін раз; ранейшыя нявыкарыстаныя спасылкі "
                                   "гэтага карыстальніка больш не дзейнічаюць.",
        "cabinet.link.invitation_title": "Вітаем у кабінеце", "cabinet.link.reset_title": "Новы пароль",
        "cabinet.link.invitation_intro": "Уліковы запіс {email}. Задайце пароль, каб увайсці.",
        "cabinet.link.reset_intro": "Уліковы запіс {email}. Задайце новы пароль; усе ранейшыя сеансы "
                                    "гэтага ўліковага запісу будуць завершаны.",
        "cabinet.link.submit": "Задаць пароль і ўвайсці",
        "cabinet.link.invalid_title": "Спасылка больш не дзейнічае",
        "cabinet.link.invalid_text": "Гэтая спасылка ўжо выкарыстана, састарэла або заменена навейшай.",
        "cabinet.link.invalid_ask": "Папрасіце новую ў таго, хто яе даслаў: у супрацоўніка вашай арганізацыі, "
                                    "які кіруе карыстальнікамі, або ў аператара партала.",
        "cabinet.link.to_login": "Увайсці з паролем",
        "cabinet.account.you": "Электронная пошта: {email}. Роля: {role}.",
        "cabinet.account.done.password": "Пароль зменены. Усе іншыя вашы сеансы завершаны.",
        "cabinet.account.done.language": "Мова захавана.", "cabinet.account.done.revoked": "Токен адкліканы.",
        "cabinet.account.token_made": "Токен створаны. Скапіруйце яго зараз: ён паказаны толькі адзін раз, "
                                      "захоўваецца толькі яго адбітак.",
        "cabinet.account.token_label": "Токен «{name}»",
        "cabinet.account.password": "Змена пароля", "cabinet.account.current_password": "Бягучы пароль",
        "cabinet.account.new_password": "Новы пароль", "cabinet.account.password_hint": "Не карацей за {n} {n:сімвал|сімвалы|сімвалаў}.",
        "cabinet.account.password_again": "Новы пароль яшчэ раз",
        "cabinet.account.password_note": "Усе іншыя вашы сеансы будуць завершаны; гэты застанецца.",
        "cabinet.account.password_submit": "Змяніць пароль",
        "cabinet.account.language": "Мова", "cabinet.account.save": "Захаваць",
        "cabinet.account.tokens": "Персанальныя токены",
        "cabinet.account.tokens_intro": "Токен адкрывае API кабінета (/api/v1/cabinet/…) ад вашага імя: "
                                        "перадавайце яго ў загалоўку Authorization: Bearer. Адклічце токен, "
                                        "які больш не патрэбны.",
        "cabinet.account.token_name": "Назва", "cabinet.account.token_created": "Створаны",
        "cabinet.account.token_last_used": "Выкарыстаны", "cabinet.account.token_state": "Стан",
        "cabinet.account.token_actions": "Дзеянні", "cabinet.account.token_never": "ні разу",
        "cabinet.account.token_revoked": "адкліканы {when} UTC", "cabinet.account.token_active": "дзейнічае",
        "cabinet.account.token_revoke": "Адклікаць", "cabinet.account.token_revoke_named": "Адклікаць токен «{name}»",
        "cabinet.account.tokens_empty": "Токенаў няма.", "cabinet.account.token_new": "Новы токен",
        "cabinet.account.token_name_field": "Назва (для чаго токен)",
        "cabinet.account.token_submit": "Стварыць токен",
    },
    "en": {
        "cabinet.users.invite": "Invite a user", "cabinet.users.filter": "Find",
        "cabinet.users.role": "Role", "cabinet.users.any_role": "All roles",
        "cabinet.users.search": "E-mail contains", "cabinet.users.total": "Users: {n}",
        "cabinet.users.email": "E-mail", "cabinet.users.name": "Name",
        "cabinet.users.organization": "Organization", "cabinet.users.status": "Status",
        "cabinet.users.status.active": "active", "cabinet.users.status.inactive": "deactivated",
        "cabinet.users.status.invited": "invited, no password yet",
        "cabinet.users.pages": "Pages of the user list", "cabinet.users.empty": "Nobody found.",
        "cabinet.users.invite_intro": "The person invited gets a single-use link to set their password; "
                                      "it works for {days} days. Until mail is set up, the link is shown to you "
                                      "once: pass it on yourself.",
        "cabinet.users.organization_ref": "Organization: id or registration number (УНП)",
        "cabinet.users.organization_hint": "For organization staff and authorized bodies; "
                                           "operators and moderators have none.",
        "cabinet.users.name_field": "Name and position", "cabinet.users.language": "Language of the cabinet and mail",
        "cabinet.users.invite_submit": "Invite", "cabinet.users.back": "Back to the users",
        "cabinet.users.to_user": "To the user", "cabinet.users.unp": "УНП", "cabinet.users.created": "Created",
        "cabinet.users.links": "Links in force", "cabinet.users.link.invitation": "invitation",
        "cabinet.users.link.reset": "password reset", "cabinet.users.link_until": "works until {expires} UTC",
        "cabinet.users.no_links": "No link is in force.",
        "cabinet.users.you": "This is you. Your password, language and tokens are on the page",
        "cabinet.users.actions": "Actions",
        "cabinet.users.reset": "Issue a password reset link",
        "cabinet.users.reset_hint": "The link works once, for a day; earlier links stop working. "
                                    "The password stays as it is until the user sets a new one.",
        "cabinet.users.deactivate": "Deactivate",
        "cabinet.users.deactivate_hint": "The user is signed out at once in every browser; "
                                         "their tokens and links stop working.",
        "cabinet.users.activate": "Reactivate",
        "cabinet.users.done.activated": "The user is active again.",
        "cabinet.users.done.deactivated": "The user is deactivated; all their sessions have ended.",
        "cabinet.link.invitation_issued": "Invitation made", "cabinet.link.reset_issued": "Password reset link",
        "cabinet.link.copy_now": "Copy the link now if you pass it on yourself: it is shown here only this once.",
        "cabinet.link.mailed": "A letter with this link is on its way to {email}. Should it not arrive, pass the link on yourself. The link works until {expires} UTC.",
        "cabinet.link.issued_for": "Pass it on to {email}. The link works until {expires} UTC.",
        "cabinet.link.label": "Link",
        "cabinet.link.single_use": "The link sets a password once; earlier unused links of this user "
                                   "no longer work.",
        "cabinet.link.invitation_title": "Welcome to the cabinet", "cabinet.link.reset_title": "A new password",
        "cabinet.link.invitation_intro": "Account {email}. Set a password to sign in.",
        "cabinet.link.reset_intro": "Account {email}. Set a new password; every earlier session "
                                    "of this account will end.",
        "cabinet.link.submit": "Set the password and sign in",
        "cabinet.link.invalid_title": "This link no longer works",
        "cabinet.link.invalid_text": "The link has been used, has expired, or was replaced by a newer one.",
        "cabinet.link.invalid_ask": "Ask whoever sent it for a new one: the colleague who manages your "
                                    "organization's users, or the portal's operator.",
        "cabinet.link.to_login": "Sign in with a password",
        "cabinet.account.you": "E-mail: {email}. Role: {role}.",
        "cabinet.account.done.password": "Password changed. All your other sessions have ended.",
        "cabinet.account.done.language": "Language saved.", "cabinet.account.done.revoked": "Token revoked.",
        "cabinet.account.token_made": "Token made. Copy it now: it is shown only this once; "
                                      "only its fingerprint is kept.",
        "cabinet.account.token_label": "Token “{name}”",
        "cabinet.account.password": "Change the password", "cabinet.account.current_password": "Current password",
        "cabinet.account.new_password": "New password", "cabinet.account.password_hint": "At least {n} characters.",
        "cabinet.account.password_again": "New password again",
        "cabinet.account.password_note": "All your other sessions will end; this one stays.",
        "cabinet.account.password_submit": "Change the password",
        "cabinet.account.language": "Language", "cabinet.account.save": "Save",
        "cabinet.account.tokens": "Personal tokens",
        "cabinet.account.tokens_intro": "A token opens the cabinet API (/api/v1/cabinet/…) in your name: "
                                        "send it as Authorization: Bearer. Revoke a token you no longer need.",
        "cabinet.account.token_name": "Name", "cabinet.account.token_created": "Created",
        "cabinet.account.token_last_used": "Last used", "cabinet.account.token_state": "Status",
        "cabinet.account.token_actions": "Actions", "cabinet.account.token_never": "never",
        "cabinet.account.token_revoked": "revoked {when} UTC", "cabinet.account.token_active": "in force",
        "cabinet.account.token_revoke": "Revoke", "cabinet.account.token_revoke_named": "Revoke the token “{name}”",
        "cabinet.account.tokens_empty": "No tokens.", "cabinet.account.token_new": "A new token",
        "cabinet.account.token_name_field": "Name (what the token is for)",
        "cabinet.account.token_submit": "Make a token",
    },
    "tt": {
        "cabinet.users.invite": "Кулланучыны чакыру", "cabinet.users.filter": "Табу",
        "cabinet.users.role": "Роль", "cabinet.users.any_role": "Барлык рольләр",
        "cabinet.users.search": "Электрон почтада бар", "cabinet.users.total": "Кулланучылар: {n}",
        "cabinet.users.email": "Электрон почта", "cabinet.users.name": "Исем",
        "cabinet.users.organization": "Оешма", "cabinet.users.status": "Хәл",
        "cabinet.users.status.active": "гамәлдә", "cabinet.users.status.inactive": "сүндерелгән",
        "cabinet.users.status.invited": "чакырылган, серсүз әле куелмаган",
        "cabinet.users.pages": "Кулланучылар исемлеге битләре", "cabinet.users.empty": "Беркем дә табылмады.",
        "cabinet.users.invite_intro": "Чакырылган кеше серсүз кую өчен бер тапкыр гына эшли торган сылтама ала; "
                                      "ул {days} көн гамәлдә. Почта көйләнгәнче сылтаманы сезгә бер тапкыр "
                                      "күрсәтәбез — аны үзегез тапшырыгыз.",
        "cabinet.users.organization_ref": "Оешма: номер яки УНП",
        "cabinet.users.organization_hint": "Оешма хезмәткәре һәм вәкаләтле орган өчен; "
                                           "оператор һәм модераторга кирәкми.",
        "cabinet.users.name_field": "Исем һәм вазыйфа", "cabinet.users.language": "Кабинет һәм хатлар теле",
        "cabinet.users.invite_submit": "Чакыру", "cabinet.users.back": "Кулланучылар исемлегенә",
        "cabinet.users.to_user": "Кулланучыга", "cabinet.users.unp": "УНП", "cabinet.users.created": "Төзелгән",
        "cabinet.users.links": "Гамәлдәге сылтамалар", "cabinet.users.link.invitation": "чакыру",
        "cabinet.users.link.reset": "серсүзне алыштыру", "cabinet.users.link_until": "{expires} UTC кадәр гамәлдә",
        "cabinet.users.no_links": "Гамәлдәге сылтамалар юк.",
        "cabinet.users.you": "Бу сез. Серсүз, тел һәм токеннар бу биттә үзгәртелә:",
        "cabinet.users.actions": "Гамәлләр",
        "cabinet.users.reset": "Серсүзне алыштыру өчен сылтама бирү",
        "cabinet.users.reset_hint": "Сылтама бер тәүлек һәм бер тапкыр гына эшли; элеккеге сылтамалар эшләми башлый. "
                                    "Кулланучы яңасын куймыйча серсүз үзгәрми.",
        "cabinet.users.deactivate": "Сүндерү",
        "cabinet.users.deactivate_hint": "Кулланучы шунда ук барлык браузерларда кабинеттан чыга, "
                                         "аның токеннары һәм сылтамалары эшләми башлый.",
        "cabinet.users.activate": "Кабат кабызу",
        "cabinet.users.done.activated": "Кулланучы кабат кабызылды.",
        "cabinet.users.done.deactivated": "Кулланучы сүндерелде; аның барлык сеанслары тәмамланды.",
        "cabinet.link.invitation_issued": "Чакыру төзелде", "cabinet.link.reset_issued": "Серсүзне алыштыру сылтамасы",
        "cabinet.link.copy_now": "Сылтаманы үзегез тапшырсагыз, аны хәзер күчереп алыгыз: монда ул бер "
                                 "генә тапкыр күрсәтелә.",
        "cabinet.link.mailed": "Бу сылтамалы хат {email} адресына җибәрелде. Хат барып җитмәсә, "
                               "сылтаманы үзегез тапшырыгыз. Сылтама {expires} UTC кадәр гамәлдә.",
        "cabinet.link.issued_for": "Аны {email} кулланучысына тапшырыгыз. Сылтама {expires} UTC кадәр гамәлдә.",
        "cabinet.link.label": "Сылтама",
        "cabinet.link.single_use": "Сылтама буенча серсүзне бер тапкыр гына куеп була; бу кулланучының элеккеге "
                                   "кулланылмаган сылтамалары инде эшләми.",
        "cabinet.link.invitation_title": "Кабинетка рәхим итегез", "cabinet.link.reset_title": "Яңа серсүз",
        "cabinet.link.invitation_intro": "{email} хисап язмасы. Керү өчен серсүз куегыз.",
        "cabinet.link.reset_intro": "{email} хисап язмасы. Яңа серсүз куегыз; бу хисап язмасының барлык "
                                    "элеккеге сеанслары тәмамланачак.",
        "cabinet.link.submit": "Серсүз кую һәм керү",
        "cabinet.link.invalid_title": "Сылтама инде эшләми",
        "cabinet.link.invalid_text": "Бу сылтама инде кулланылган, искергән яки яңасы белән алыштырылган.",
        "cabinet.link.invalid_ask": "Аны җибәргән кешедән яңасын сорагыз: оешмагызда кулланучылар белән идарә "
                                    "итүче хезмәткәрдән яки портал операторыннан.",
        "cabinet.link.to_login": "Серсүз белән керү",
        "cabinet.account.you": "Электрон почта: {email}. Роль: {role}.",
        "cabinet.account.done.password": "Серсүз алыштырылды. Сезнең башка барлык сеанслар тәмамланды.",
        "cabinet.account.done.language": "Тел сакланды.", "cabinet.account.done.revoked": "Токен кире алынды.",
        "cabinet.account.token_made": "Токен төзелде. Аны хәзер күчереп алыгыз: ул бер генә тапкыр күрсәтелә, "
                                      "аның эзе генә саклана.",
        "cabinet.account.token_label": "«{name}» токены",
        "cabinet.account.password": "Серсүзне алыштыру", "cabinet.account.current_password": "Хәзерге серсүз",
        "cabinet.account.new_password": "Яңа серсүз", "cabinet.account.password_hint": "Кимендә {n} символ.",
        "cabinet.account.password_again": "Яңа серсүз тагын бер тапкыр",
        "cabinet.account.password_note": "Сезнең башка барлык сеанслар тәмамланачак; бусы кала.",
        "cabinet.account.password_submit": "Серсүзне алыштыру",
        "cabinet.account.language": "Тел", "cabinet.account.save": "Саклау",
        "cabinet.account.tokens": "Шәхси токеннар",
        "cabinet.account.tokens_intro": "Токен кабинет API-ын (/api/v1/cabinet/…) сезнең исемнән ача: "
                                        "аны Authorization: Bearer башламында җибәрегез. Кирәкми башлаган "
                                        "токенны кире алыгыз.",
        "cabinet.account.token_name": "Исем", "cabinet.account.token_created": "Төзелгән",
        "cabinet.account.token_last_used": "Кулланылган", "cabinet.account.token_state": "Хәл",
        "cabinet.account.token_actions": "Гамәлләр", "cabinet.account.token_never": "бер тапкыр да",
        "cabinet.account.token_revoked": "{when} UTC кире алынган", "cabinet.account.token_active": "гамәлдә",
        "cabinet.account.token_revoke": "Кире алу", "cabinet.account.token_revoke_named": "«{name}» токенын кире алу",
        "cabinet.account.tokens_empty": "Токеннар юк.", "cabinet.account.token_new": "Яңа токен",
        "cabinet.account.token_name_field": "Исем (токен нәрсә өчен)",
        "cabinet.account.token_submit": "Токен төзү",
    },
})
