"""Accounts of the cabinets: inviting users, the single-use expiring links
that set a password (invitations and password resets), deactivation, a
user's own password, language and personal tokens.

The cabinet's pages and its JSON API call these functions, so that both
validate, change and audit in exactly one way. Who may act is asked of
``service.cabinet.permissions`` by the views before they call in here.

A link is mailed to the user, in the user's language, through the outbox
(``service.mail``, in the transaction that makes the link), and shown once
to whoever asked for it as well: mail may not be configured, or may not
arrive, and the operator or colleague can then pass the link on. Only the
link token's SHA-256 hash is kept, like a session's or a personal token's;
the letter holds the link until it is sent, then its text is cleared.
"""
import datetime
import secrets
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema
from peewee import JOIN, OP, SQL, Expression, IntegrityError, NodeList, Value
from werkzeug.security import generate_password_hash

from service import i18n, mail, models
from service.cabinet import audit, sessions
from service.cabinet import permissions as can
from service.cabinet.signin import check_password
from service.db import is_sqlite, write_transaction
from service.errors import ApiError
from service.models import LANGUAGES, AccountLink, ApiToken, RatableObject, User

INVITATION_LIFETIME = datetime.timedelta(days=7)
RESET_LIFETIME = datetime.timedelta(hours=24)
LIFETIMES = {AccountLink.INVITATION: INVITATION_LIFETIME, AccountLink.RESET: RESET_LIFETIME}
# Where each kind of link leads (the pages in service/cabinet/accounts.py).
LINK_PATHS = {AccountLink.INVITATION: "/cabinet/invitations/", AccountLink.RESET: "/cabinet/password-reset/"}
MIN_PASSWORD = 10
MAX_PASSWORD = 200
# What an audit entry may say about a user: never the password hash.
USER_FIELDS = ("email", "name", "role", "organization", "active", "language")
# Roles that belong to an organization; the others belong to none.
ORGANIZATION_ROLES = (User.STAFF, User.BODY)


class LinkInvalid(Exception):
    """The link is unknown, used, expired or replaced: nothing was changed."""


def say(key, **values):
    """A message in the asker's language (English outside a request: the CLI)."""
    return i18n.translate(key, None if has_request_context() else "en", **values)


def _translated(messages):
    # Our schemas' messages are i18n keys; marshmallow's own pass through
    # unchanged, since an unknown key translates to itself.
    if isinstance(messages, dict):
        return {k: _translated(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_translated(m) for m in messages]
    return say(messages) if isinstance(messages, str) else messages


def load(schema, data):
    """``data`` through ``schema``, or ApiError 400 naming every bad field."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ApiError(_translated(error.messages)) from None


def _field_error(field, key, status=400):
    return ApiError({field: [say(key)]}, status=status)


# -- schemas ----------------------------------------------------------------------------

REQUIRED = {"required": "cabinet.account.error.required", "null": "cabinet.account.error.required"}


class _Stripped(Schema):
    """Text is trimmed and a blank field counts as absent (as an empty form
    field does), so that a default or "required" applies."""

    @pre_load
    def _strip(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[key] = value
        return cleaned


class OrganizationRef(fields.Field):
    """An organization by id (a number) or by its registration number (УНП,
    nine digits as text). Users belong to organizations, never to one of
    their subdivisions."""

    def _deserialize(self, value, attr, data, **kwargs):
        organization = None
        if isinstance(value, bool):
            raise ValidationError("cabinet.users.error.organization")
        if isinstance(value, str) and len(value) == 9 and value.isdigit():
            organization = RatableObject.get_or_none(RatableObject.unp == value)
        else:
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationError("cabinet.users.error.organization") from None
            if 0 < number < 2**63:
                organization = RatableObject.get_or_none(RatableObject.id == number)
        if organization is None or not organization.is_organization:
            raise ValidationError("cabinet.users.error.organization")
        return organization


class InvitationSchema(_Stripped):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         error_messages=dict(REQUIRED, invalid="cabinet.users.error.email"))
    role = fields.String(required=True, validate=validate.OneOf(User.ROLES, error="cabinet.users.error.role"),
                         error_messages=REQUIRED)
    organization = OrganizationRef(load_default=None, allow_none=True)
    name = fields.String(load_default="", validate=validate.Length(max=200, error="cabinet.account.error.long"))
    language = fields.String(load_default="ru",
                             validate=validate.OneOf(LANGUAGES, error="cabinet.account.error.language"))

    @pre_load
    def _lower_email(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = dict(data, email=data["email"].lower())
        return data


class NewPasswordSchema(Schema):
    # Passwords are taken exactly as typed: no trimming.
    password = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD,
                                                      error="cabinet.account.error.password_length"))
    password_again = fields.String(required=True, error_messages=REQUIRED)

    @validates_schema
    def _typed_twice(self, data, **kwargs):
        if "password" in data and "password_again" in data and data["password"] != data["password_again"]:
            raise ValidationError("cabinet.account.error.password_again", "password_again")


class PasswordChangeSchema(NewPasswordSchema):
    current_password = fields.String(required=True, error_messages=REQUIRED)


class LanguageSchema(Schema):
    language = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.OneOf(LANGUAGES, error="cabinet.account.error.language"))


class TokenSchema(_Stripped):
    name = fields.String(required=True, error_messages=REQUIRED,
                         validate=validate.Length(max=100, error="cabinet.account.error.long"))


class UserQuery(_Stripped):
    class Meta:
        unknown = EXCLUDE

    role = fields.String(load_default=None, validate=validate.OneOf(User.ROLES, error="cabinet.users.error.role"))
    q = fields.String(load_default=None, validate=validate.Length(max=254, error="cabinet.account.error.long"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


invitation_schema = InvitationSchema()
new_password_schema = NewPasswordSchema()
password_change_schema = PasswordChangeSchema()
language_schema = LanguageSchema()
token_schema = TokenSchema()
user_query = UserQuery()


# -- users ------------------------------------------------------------------------------

def users(actor, args):
    """The users ``actor`` manages, by e-mail, with their organizations
    joined in (one query, however long the page)."""
    query = (User.select(User, RatableObject)
             .join(RatableObject, JOIN.LEFT_OUTER, on=(User.organization == RatableObject.id))
             .order_by(User.email))
    if can.scope_of(actor, can.MANAGE_USERS) != can.ANY:
        # The OWN scope of MANAGE_USERS as a filter: the staff of the
        # actor's organization (permissions.in_scope says the same per user).
        query = query.where((User.organization == actor.organization_id) & (User.role == User.STAFF))
    if args.get("role"):
        query = query.where(User.role == args["role"])
    if args.get("q"):
        query = query.where(_containing(User.email, args["q"].lower()))
    return query


def _containing(field, text):
    """``field LIKE '%text%'`` with the wildcards in ``text`` taken
    literally. E-mails are kept in lower case, so PostgreSQL is asked for
    LIKE, not ILIKE (several times slower over 100,000 users); peewee
    writes SQLite's LIKE (ASCII-case-blind, with ESCAPE) as ILIKE, its
    LIKE being GLOB."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = NodeList((Value(f"%{escaped}%", converter=False), SQL("ESCAPE"), Value("\\", converter=False)))
    return Expression(field, OP.ILIKE if is_sqlite() else OP.LIKE, pattern)


def user_as_json(user):
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "organization": user.organization_id, "active": user.active, "language": user.language,
            "has_password": user.has_password, "created": iso(user.created)}


def iso(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def candidate(actor, data):
    """The user an invitation would create, not saved: for the permission
    check (its role and organization decide the scope) and then ``invite``."""
    values = load(invitation_schema, data)
    organization = values["organization"]
    role = values["role"]
    if organization is None and role in ORGANIZATION_ROLES and actor.organization_id:
        # A colleague invited by an organization's staff joins their organization.
        organization = RatableObject.get_by_id(actor.organization_id)
    if role in ORGANIZATION_ROLES and organization is None:
        raise _field_error("organization", "cabinet.users.error.organization_needed")
    if role not in ORGANIZATION_ROLES and organization is not None:
        raise _field_error("organization", "cabinet.users.error.organization_none")
    if role == User.BODY and not organization.is_authorized_body:
        raise _field_error("organization", "cabinet.users.error.not_a_body")
    return User(email=values["email"], role=role, organization=organization, name=values["name"],
                language=values["language"], password_hash="", active=True)


def _new_link(user, kind, created_by, now):
    """A fresh link for ``user``; every earlier unused link of the user stops
    working, so that only the newest one handed out is good."""
    text = secrets.token_urlsafe(32)
    (AccountLink.update(expires=now)
     .where((AccountLink.user == user.id) & AccountLink.used.is_null() & (AccountLink.expires > now))
     .execute())
    link = AccountLink.create(kind=kind, token_hash=sessions.token_hash(text), user=user.id,
                              created_by=created_by.id if created_by else None, created=now,
                              expires=now + LIFETIMES[kind])
    return text, link


def link_url(link, text, language):
    return f'{current_app.config["BASE_URL"]}{LINK_PATHS[link.kind]}{text}?lang={language}'


def _local_time(moment):
    """A UTC moment as the service's local time, with the zone named."""
    zone = current_app.config.get("TIMEZONE", "Europe/Minsk")
    local = moment.replace(tzinfo=datetime.timezone.utc).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def _mail_link(user, link, text, actor):
    """Puts the letter carrying a new link in the outbox, in the user's
    language; returns the outbox row."""
    lang = user.language if user.language in LANGUAGES else "ru"

    def say_to(key, **values):
        return i18n.translate(key, lang, **values)

    site = say_to("site.name")
    hello = say_to("mail.hello_name", name=user.name) if user.name else say_to("mail.hello")
    values = dict(hello=hello, site=site, url=link_url(link, text, lang), expires=_local_time(link.expires),
                  email=user.email, role=say_to(f"cabinet.role.{user.role}"),
                  inviter=actor.email if actor is not None else site)
    if link.kind == AccountLink.INVITATION:
        organization = (RatableObject.get_or_none(RatableObject.id == user.organization_id)
                        if user.organization_id else None)
        values["organization"] = (say_to("mail.invitation.organization", name=organization.name) + "\n"
                                  if organization is not None else "")
        subject, body = say_to("mail.invitation.subject", site=site), say_to("mail.invitation.body", **values)
    else:
        subject, body = say_to("mail.reset.subject", site=site), say_to("mail.reset.body", **values)
    return mail.enqueue(user.email, subject, body, kind=f"account.{link.kind}", user=user, language=lang)


def invite(actor, user, now=None):
    """Creates ``user`` (from ``candidate``) without a password, with an
    invitation link. Returns the link's text, shown once, and the link.
    An e-mail that has an account already → 409."""
    now = now or models.utcnow()
    try:
        with write_transaction():
            if User.select().where(User.email == user.email).exists():
                raise _field_error("email", "cabinet.users.error.exists", 409)
            user.created = now
            user.save(force_insert=True)
            text, link = _new_link(user, AccountLink.INVITATION, actor, now)
            letter = _mail_link(user, link, text, actor)
            audit.record(actor, "user.invite", "user", user.id, after=dict(
                audit.snapshot(user, USER_FIELDS), link=link.id, expires=link.expires, letter=letter.id))
    except IntegrityError:  # the same e-mail invited at the same moment
        raise _field_error("email", "cabinet.users.error.exists", 409) from None
    return text, link


def issue_reset(actor, user, now=None):
    """A password reset link for ``user``, mailed to them and shown to ``actor``."""
    now = now or models.utcnow()
    if not user.active:
        raise _field_error("state", "cabinet.users.error.inactive", 409)
    with write_transaction():
        text, link = _new_link(user, AccountLink.RESET, actor, now)
        letter = _mail_link(user, link, text, actor)
        audit.record(actor, "user.password_reset_link", "user", user.id,
                     after={"link": link.id, "expires": link.expires, "letter": letter.id})
    return text, link


def set_active(actor, user, active):
    """Deactivates (or reactivates) ``user``. Deactivation ends every
    session of the user and every link not yet used; their tokens stop
    working while they are inactive. Nobody deactivates themself."""
    if user.id == actor.id:
        raise _field_error("state", "cabinet.users.error.self", 409)
    now = models.utcnow()
    before = audit.snapshot(user, USER_FIELDS)
    with write_transaction():
        changed = User.update(active=active).where((User.id == user.id) & (User.active != active)).execute()
        if not changed:
            raise _field_error("state", "cabinet.users.error.already_active" if active
                               else "cabinet.users.error.already_inactive", 409)
        if not active:
            sessions.end_all(user)
            (AccountLink.update(expires=now)
             .where((AccountLink.user == user.id) & AccountLink.used.is_null() & (AccountLink.expires > now))
             .execute())
        user.active = active
        audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id,
                     before, audit.snapshot(user, USER_FIELDS))
    return user


# -- links ------------------------------------------------------------------------------

def pending_links(user, now=None):
    """The user's links that may still be used (only their kinds and
    expiry can be shown: the tokens are gone)."""
    now = now or models.utcnow()
    return list(AccountLink.select()
                .where((AccountLink.user == user.id) & AccountLink.used.is_null() & (AccountLink.expires > now))
                .order_by(AccountLink.id.desc()))


def valid_link(kind, text, now=None):
    """The link behind ``text`` while it may still be used, else None."""
    now = now or models.utcnow()
    if not isinstance(text, str) or not 20 <= len(text) <= 100:
        return None
    return (AccountLink.select(AccountLink, User).join(User, on=(AccountLink.user == User.id))
            .where((AccountLink.token_hash == sessions.token_hash(text)) & (AccountLink.kind == kind)
                   & AccountLink.used.is_null() & (AccountLink.expires > now)
                   & (User.active == True))  # noqa: E712
            .first())


def accept_link(kind, text, data, now=None):
    """Sets the password through a link and uses the link up; every session
    the user had ends (a reset is often about a stolen password). Returns
    the user, for the caller to sign in. Raises ``LinkInvalid`` when the
    link may not be used (nothing changes) and ApiError 400 for a bad
    password."""
    now = now or models.utcnow()
    link = valid_link(kind, text, now)
    if link is None:
        raise LinkInvalid()
    values = load(new_password_schema, data)
    password_hash = generate_password_hash(values["password"])  # slow on purpose: outside the write lock
    user = link.user
    with write_transaction():
        # Used up in the same statement that checks it, so two tabs (or two
        # people) with the same link cannot both set a password.
        taken = (AccountLink.update(used=now)
                 .where((AccountLink.id == link.id) & AccountLink.used.is_null() & (AccountLink.expires > now))
                 .execute())
        if not taken:
            raise LinkInvalid()
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        (AccountLink.update(expires=now)
         .where((AccountLink.user == user.id) & AccountLink.used.is_null() & (AccountLink.expires > now))
         .execute())
        sessions.end_all(user)
        audit.record(user, "user.password_set", "user", user.id, after={"link": link.id, "kind": kind})
    user.password_hash = password_hash
    return user


# -- the user's own account ---------------------------------------------------------------

def change_password(user, data):
    """Changes the user's own password (the current one is asked for);
    every other session of the user ends, the one asking stays."""
    values = load(password_change_schema, data)
    if not check_password(user, values["current_password"]):
        raise _field_error("current_password", "cabinet.account.error.current_password")
    password_hash = generate_password_hash(values["password"])
    with write_transaction():
        User.update(password_hash=password_hash).where(User.id == user.id).execute()
        sessions.end_all(user, keep_current=True)
        audit.record(user, "account.password", "user", user.id)
    user.password_hash = password_hash


def set_language(user, data):
    values = load(language_schema, data)
    if values["language"] == user.language:
        return user
    with write_transaction():
        User.update(language=values["language"]).where(User.id == user.id).execute()
        audit.record(user, "account.language", "user", user.id, {"language": user.language},
                     {"language": values["language"]})
    user.language = values["language"]
    return user


def tokens(user):
    return list(ApiToken.select().where(ApiToken.user == user.id).order_by(ApiToken.id.desc()))


def token_as_json(row):
    return {"id": row.id, "name": row.name, "created": iso(row.created), "last_used": iso(row.last_used),
            "revoked": iso(row.revoked)}


def make_token(owner, data, actor=None):
    """A new personal token for ``owner``: its text, shown once, and its row.
    ``actor`` is who made it (None: the command line)."""
    values = load(token_schema, data)
    with write_transaction():
        text, row = sessions.make_token(owner, values["name"])
        audit.record(actor, "token.create", "token", row.id,
                     after={"user": owner.id, "name": row.name, "via": "cabinet" if actor else "cli"})
    return text, row


def own_token(owner, token_id):
    """One of the owner's tokens; another user's token is as unknown as a
    missing one (404), so ids tell nothing."""
    row = None
    if token_id is not None and 0 < token_id < 2**63:
        row = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == owner.id))
    if row is None:
        raise ApiError({"token": ["not found"]}, status=404)
    return row


def revoke_token(owner, token_id):
    row = own_token(owner, token_id)
    if row.revoked is not None:
        raise _field_error("state", "cabinet.account.error.revoked", 409)
    with write_transaction():
        sessions.revoke_token(row)
        row = ApiToken.get_by_id(row.id)
        audit.record(owner, "token.revoke", "token", row.id, after={"user": owner.id, "name": row.name})
    return row
