"""What an organization's profile may hold, checked one way whether it
comes as JSON, from a cabinet form or as a line of a CSV import: the
schemas, the checks that need the database (a free УНП, a parent that is
an authorized body), and the organization as the cabinet API shows it.

Refusals name the field and say what is wrong in the page's language; the
JSON API answers in English, like the rest of the API.
"""
import functools
import re
import sqlite3
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import has_request_context, request
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validates, validates_schema
from peewee import IntegrityError

from service import i18n
from service.errors import ApiError
from service.i18n import current_language
from service.models import ObjectService, ObjectSphere, RatableObject, Region, Registry, Service, Sphere
from service.structure import publication_missing

# Every field of an organization, in the order of SPEC's contract.
FIELDS = ("unp", "name", "short_name", "region", "district", "locality", "address", "spheres",
          "evaluation_object", "authorized_body", "parent_body", "website", "contacts")
# What only the registrar (whoever may register organizations: the
# operator) changes: the legal identity and the place among bodies. The
# organization's own staff keep the rest, its profile, up to date.
REGISTRATION_FIELDS = ("unp", "name", "evaluation_object", "authorized_body", "parent_body")
PROFILE_FIELDS = tuple(f for f in FIELDS if f not in REGISTRATION_FIELDS)
TEXT_FIELDS = ("unp", "name", "short_name", "region", "district", "locality", "address", "website")
SUBDIVISION_FIELDS = ("name", "address", "locality")
CONTACT_FIELDS = ("name", "position", "email", "phone")
MAX_CONTACTS = 20
MAX_SPHERES = 50

# Any control character: every field here is one line of text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9()\-. ]+$")
_UNP = re.compile(r"^[0-9]{9}$")

# The unique index on УНП refusing a row: through peewee, or straight from
# the driver (bulk inserts go to the driver's own batch call).
try:
    from psycopg2 import IntegrityError as _PostgresIntegrityError
except ImportError:  # pragma: no cover - a SQLite-only installation
    _PostgresIntegrityError = IntegrityError
UNIQUE_VIOLATION = (IntegrityError, sqlite3.IntegrityError, _PostgresIntegrityError)


def error_language():
    """Messages for people in their language; for programs in English."""
    if not has_request_context() or request.path.startswith("/api/"):
        return "en"
    return current_language()


def say(key, **values):
    return i18n.translate(f"cabinet.org.error.{key}", error_language(), **values)


# marshmallow's own messages, said in the same words as ours.
_BUILTIN = {
    "Missing data for required field.": "required", "Field may not be null.": "required",
    "Unknown field.": "unknown_field", "Not a valid list.": "list", "Invalid input type.": "object",
    "Not a valid string.": "text", "Not a valid boolean.": "flag", "Not a valid integer.": "whole_number",
    "Invalid type.": "object", "Not a valid mapping type.": "object",
}


def _said(messages):
    if isinstance(messages, dict):
        return {key: _said(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_said(m) for m in messages]
    return say(_BUILTIN[messages]) if messages in _BUILTIN else messages


class _Schema(Schema):
    class Meta:
        unknown = RAISE

    def handle_error(self, error, data, *, many, **kwargs):
        raise ValidationError(_said(error.messages))


# -- fields ---------------------------------------------------------------------

class Text(fields.String):
    """One line of text, trimmed, at most ``max`` characters; blank is
    None (and refused where the field is required)."""

    def __init__(self, max, **kwargs):
        kwargs.setdefault("allow_none", not kwargs.get("required", False))
        super().__init__(**kwargs)
        self.max = max

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(say("text"))
        value = value.strip()
        if _CONTROL.search(value):
            raise ValidationError(say("control"))
        if len(value) > self.max:
            raise ValidationError(say("too_long", max=self.max))
        if not value:
            if self.required:
                raise ValidationError(say("required"))
            return None
        return value


class Unp(Text):
    def __init__(self, **kwargs):
        super().__init__(9, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not _UNP.match(value.strip()):
            raise ValidationError(say("unp"))
        return super()._deserialize(value, attr, data, **kwargs)


class Flag(fields.Boolean):
    """true or false, nothing that merely looks like one."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError(say("flag"))
        return value


class Id(fields.Integer):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
            raise ValidationError(say("whole_number"))
        return value


def website_ok(url):
    """An http(s) address of a named host (Cyrillic names too: .бел)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    host = parts.hostname or ""
    labels = host.split(".")
    return (parts.scheme in ("http", "https") and not any(c.isspace() for c in url) and len(labels) >= 2
            and all(label and all(c.isalnum() or c == "-" for c in label) for label in labels))


# -- schemas ----------------------------------------------------------------------

def _given(check):
    """A field check that leaves an empty field alone: a blank text loads
    as None and marshmallow still runs the checks on it."""
    @functools.wraps(check)
    def checked(self, value, **kwargs):
        if value is not None:
            check(self, value, **kwargs)
    return checked


class Reference(NamedTuple):
    """The codes a profile may use, each with its id."""
    regions: dict
    spheres: dict


def reference():
    return Reference(dict(Region.select(Region.code, Region.id).tuples()),
                     dict(Sphere.select(Sphere.code, Sphere.id).tuples()))


class ContactSchema(_Schema):
    name = Text(200)
    position = Text(200)
    email = Text(254)
    phone = Text(50)

    @validates("email")
    @_given
    def _email(self, value, **kwargs):
        if not _EMAIL.match(value):
            raise ValidationError(say("email"))

    @validates("phone")
    @_given
    def _phone(self, value, **kwargs):
        if not _PHONE.match(value) or sum(c.isdigit() for c in value) < 5:
            raise ValidationError(say("phone"))

    @validates_schema
    def _someone(self, data, **kwargs):
        if not any(data.get(f) for f in CONTACT_FIELDS):
            raise ValidationError(say("empty_contact"), "name")


class OrganizationSchema(_Schema):
    """An organization as registered (all of it) or changed (``partial=True``:
    any of it). Loads codes; ``resolve`` turns them into ids."""
    unp = Unp(required=True)
    name = Text(500, required=True)
    short_name = Text(200)
    region = Text(32)
    district = Text(200)
    locality = Text(200)
    address = Text(500)
    spheres = fields.List(Text(32, required=True), allow_none=True)
    evaluation_object = Flag()
    authorized_body = Flag()
    parent_body = Id(allow_none=True)
    website = Text(300)
    contacts = fields.List(fields.Nested(ContactSchema), allow_none=True)

    def __init__(self, refs, **kwargs):
        super().__init__(**kwargs)
        self.refs = refs

    @validates("region")
    @_given
    def _region(self, value, **kwargs):
        if value not in self.refs.regions:
            raise ValidationError(say("unknown_region", code=value))

    @validates("spheres")
    @_given
    def _spheres(self, value, **kwargs):
        if len(value) > MAX_SPHERES:
            raise ValidationError(say("too_many", max=MAX_SPHERES))
        unknown = [code for code in value if code not in self.refs.spheres]
        if unknown:
            raise ValidationError(say("unknown_spheres", codes=", ".join(unknown)))

    @validates("website")
    @_given
    def _website(self, value, **kwargs):
        if not website_ok(value):
            raise ValidationError(say("website"))

    @validates("contacts")
    @_given
    def _contacts(self, value, **kwargs):
        if len(value) > MAX_CONTACTS:
            raise ValidationError(say("too_many", max=MAX_CONTACTS))

    @post_load
    def _tidy(self, data, **kwargs):
        if "spheres" in data:
            data["spheres"] = list(dict.fromkeys(data["spheres"] or ()))
        if "contacts" in data:
            data["contacts"] = [{k: v for k, v in c.items() if v is not None} for c in data["contacts"] or ()]
        return data


class SubdivisionSchema(_Schema):
    name = Text(500, required=True)
    address = Text(500)
    locality = Text(200)


class ServicesSchema(_Schema):
    services = fields.List(Text(64, required=True), required=True)

    def __init__(self, catalogue, **kwargs):
        super().__init__(**kwargs)
        self.catalogue = catalogue

    @validates("services")
    @_given
    def _known(self, value, **kwargs):
        unknown = [code for code in value if code not in self.catalogue]
        if unknown:
            raise ValidationError(say("unknown_services", codes=", ".join(unknown)))


def service_catalogue():
    """{code: Service} of the whole catalogue (a few dozen rows)."""
    return {s.code: s for s in Service.select().order_by(Service.id)}


# -- what a loaded profile means --------------------------------------------------------

_MODEL_NAMES = {"evaluation_object": "is_evaluation_object", "authorized_body": "is_authorized_body"}


def resolve(data, refs):
    """Loaded fields as ``structure``'s arguments: codes become ids, the
    flags get their column names; ``spheres`` only when given."""
    result = {}
    for key, value in data.items():
        if key == "region":
            value = refs.regions[value] if value else None
        elif key == "spheres":
            value = [refs.spheres[code] for code in value]
        result[_MODEL_NAMES.get(key, key)] = value
    return result


def unp_conflict(unp, org=None):
    """A 409 when another organization has this УНП, else None."""
    holder = RatableObject.get_or_none((RatableObject.unp == unp) & (RatableObject.id != (org.id if org else 0)))
    return ApiError({"unp": [say("unp_taken", id=holder.id)]}, status=409) if holder else None


def check_parent_body(parent_id, org=None):
    """Refuses (400) a parent that is missing, not an authorized body, the
    organization itself, or one of its own subordinates."""
    parent = RatableObject.get_or_none(RatableObject.id == parent_id)
    if parent is None or not parent.is_organization:
        raise ApiError({"parent_body": [say("no_organization", id=parent_id)]})
    if not parent.is_authorized_body:
        raise ApiError({"parent_body": [say("not_a_body", id=parent_id)]})
    if org is not None:
        seen, step = set(), parent
        while step is not None and step.id not in seen:
            if step.id == org.id:
                raise ApiError({"parent_body": [say("parent_circle")]})
            seen.add(step.id)
            step = RatableObject.get_or_none(RatableObject.id == step.parent_body_id) if step.parent_body_id else None


def check_stays_body(org):
    """A 409 when an authorized body that others depend on would stop
    being one: organizations name it as their parent, or it keeps
    registries."""
    subordinates = RatableObject.select().where(RatableObject.parent_body == org.id).count()
    registries = Registry.select().where(Registry.body == org.id).count()
    if subordinates or registries:
        raise ApiError({"authorized_body": [say("still_body", subordinates=subordinates, registries=registries)]},
                       status=409)


# -- the organization as the cabinet shows it ---------------------------------------------

def sphere_codes(org_ids):
    """{organization id: [sphere codes]} for a page of organizations, in one query."""
    found = {i: [] for i in org_ids}
    if org_ids:
        rows = (ObjectSphere.select(ObjectSphere.object, Sphere.code).join(Sphere)
                .where(ObjectSphere.object.in_(list(org_ids))).order_by(Sphere.code).tuples())
        for object_id, code in rows:
            found[object_id].append(code)
    return found


def profile(org, spheres=None):
    """Every field of FIELDS as the API takes it (codes, not ids): what the
    API answers, what a form starts from, and what the audit log keeps."""
    spheres = sphere_codes([org.id])[org.id] if spheres is None else spheres
    return {
        "unp": org.unp, "name": org.name, "short_name": org.short_name,
        "region": Region.get_by_id(org.region_id).code if org.region_id else None,
        "district": org.district, "locality": org.locality, "address": org.address, "spheres": spheres,
        "evaluation_object": org.is_evaluation_object, "authorized_body": org.is_authorized_body,
        "parent_body": org.parent_body_id, "website": org.website, "contacts": org.contacts or [],
    }


def missing(org, spheres):
    return publication_missing(org, bool(spheres))


def subdivision_json(sub):
    return {"id": sub.id, "organization": sub.organization_id, "name": sub.name, "address": sub.address,
            "locality": sub.locality, "published": sub.published}


def services_of(org, lang):
    """The services an organization gives, each with the body responsible for it."""
    services = list(Service.select().join(ObjectService).where(ObjectService.object == org.id).order_by(Service.id))
    bodies = dict(RatableObject.select(RatableObject.id, RatableObject.name)
                  .where(RatableObject.id.in_([s.responsible_id for s in services if s.responsible_id])).tuples())
    return [{"code": s.code, "name": s.name(lang),
             "responsible": {"id": s.responsible_id, "name": bodies[s.responsible_id]}
             if s.responsible_id in bodies else None} for s in services]


def organization_json(org, lang="en"):
    data = profile(org)
    subdivisions = org.subdivisions.order_by(RatableObject.name, RatableObject.id)
    return {"id": org.id, **data, "published": org.published, "missing": missing(org, data["spheres"]),
            "subdivisions": [subdivision_json(s) for s in subdivisions], "services": services_of(org, lang)}
