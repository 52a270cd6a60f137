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
