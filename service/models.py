"""The domain: spheres, regions, ratable objects (organizations and their
subdivisions in one id space), services, questionnaires, ratings, the
aggregates the ranking reads, registries, notifications and users."""
import datetime
import re

from peewee import (
    AutoField, BooleanField, CharField, CompositeKey, DateField, DateTimeField,
    ForeignKeyField, IntegerField, SmallIntegerField, TextField,
)

from service.db import BaseModel, JSONField

LANGUAGES = ("ru", "be", "en", "tt")
BASE_CRITERIA = ("simplicity", "information", "timeliness", "politeness")
CHANNELS = ("widget", "qr", "banner", "portal", "api")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def localized(names, lang):
    """The name in ``lang``, else Russian, else any."""
    if not names:
        return ""
    return names.get(lang) or names.get("ru") or next(iter(names.values()))


class Meta(BaseModel):
    """Small counters the caches key on (for instance the structure version,
    bumped whenever roll-up membership changes)."""
    key = CharField(primary_key=True, max_length=64)
    value = IntegerField(default=0)

    @classmethod
    def get_value(cls, key):
        row = cls.get_or_none(cls.key == key)
        return row.value if row else 0

    @classmethod
    def bump(cls, key):
        if cls.update(value=cls.value + 1).where(cls.key == key).execute() == 0:
            cls.insert(key=key, value=1).on_conflict(
                conflict_target=[cls.key], update={cls.value: cls.value + 1}).execute()


class Sphere(BaseModel):
    code = CharField(unique=True, max_length=32)
    names = JSONField()

    def name(self, lang="ru"):
        return localized(self.names, lang)


class Region(BaseModel):
    code = CharField(unique=True, max_length=32)
    names = JSONField()

    def name(self, lang="ru"):
        return localized(self.names, lang)


UNP_PATTERN = re.compile(r"^\d{9}$")


def valid_unp(value):
    """A Belarusian registration number (УНП) is exactly nine digits."""
    return isinstance(value, str) and bool(UNP_PATTERN.match(value))


class RatableObject(BaseModel):
    """An organization or one of its subdivisions: anything that can be rated.

    One table gives both kinds one id space, which printed QR codes and
    embeds rely on. Organization-only columns are empty for subdivisions;
    a subdivision's location, when empty, is its organization's.
    """
    ORGANIZATION = "organization"
    SUBDIVISION = "subdivision"

    id = AutoField()
    kind = CharField(max_length=16, index=True)
    name = CharField(max_length=500)
    short_name = CharField(max_length=200, null=True)
    # Lower-cased name for case-insensitive search: SQLite's LIKE folds
    # only ASCII letters, and names are Cyrillic.
    search_name = CharField(max_length=500, index=True)
    organization = ForeignKeyField("self", null=True, backref="subdivisions", on_delete="CASCADE")
    unp = CharField(max_length=9, null=True, unique=True)
    region = ForeignKeyField(Region, null=True, backref="objects")
    district = CharField(max_length=200, null=True)
    locality = CharField(max_length=200, null=True)
    address = CharField(max_length=500, null=True)
    website = CharField(max_length=300, null=True)
    contacts = JSONField(null=True)
    is_evaluation_object = BooleanField(default=True)
    is_authorized_body = BooleanField(default=False)
    parent_body = ForeignKeyField("self", null=True, backref="subordinates", on_delete="SET NULL")
    published = BooleanField(default=False, index=True)
    created = DateTimeField(default=utcnow)

    @property
    def is_organization(self):
        return self.kind == self.ORGANIZATION

    @property
    def organization_id_or_self(self):
        return self.id if self.is_organization else self.organization_id

    def location_filled(self):
        return bool(self.region_id and (self.locality or "").strip() and (self.address or "").strip())

    def save(self, *args, **kwargs):
        self.search_name = (self.name or "").casefold()
        return super().save(*args, **kwargs)


class ObjectSphere(BaseModel):
    object = ForeignKeyField(RatableObject, backref="sphere_links", on_delete="CASCADE")
    sphere = ForeignKeyField(Sphere, backref="object_links")

    class Meta:
        primary_key = CompositeKey("object", "sphere")
        indexes = ((("sphere", "object"), False),)


class Service(BaseModel):
    """A service or administrative procedure from the catalogue."""
    code = CharField(unique=True, max_length=64)
    names = JSONField()
    responsible = ForeignKeyField(RatableObject, null=True, backref="responsible_for")

    def name(self, lang="ru"):
        return localized(self.names, lang)


class ObjectService(BaseModel):
    object = ForeignKeyField(RatableObject, backref="service_links", on_delete="CASCADE")
    service = ForeignKeyField(Service, backref="object_links", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("object", "service")


class ExtraCriterion(BaseModel):
    """A criterion a responsible body adds to the questionnaires of its own
    objects and of those in its accepted registry. Shown only once the
    moderator approves it; never part of the ranking."""
    PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"

    owner = ForeignKeyField(RatableObject, backref="extra_criteria", on_delete="CASCADE")
    code = CharField(max_length=64)
    labels = JSONField()
    scale_min = SmallIntegerField(default=1)
    scale_max = SmallIntegerField(default=5)
    state = CharField(max_length=16, default=PROPOSED)
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "code"), True),)

    def label(self, lang="ru"):
        return localized(self.labels, lang)


class Rating(BaseModel):
    """One visitor's rating. Kept forever; never edited but for the comment's
    moderation and the organization's answer."""
    COMMENT_NONE, COMMENT_PENDING, COMMENT_APPROVED, COMMENT_REJECTED = "none", "pending", "approved", "rejected"

    id = AutoField()
    object = ForeignKeyField(RatableObject, backref="ratings")
    service = ForeignKeyField(Service, null=True, backref="ratings")
    simplicity = SmallIntegerField()
    information = SmallIntegerField()
    timeliness = SmallIntegerField()
    politeness = SmallIntegerField()
    reasons = JSONField(default=list)
    comment = TextField(null=True)
    comment_status = CharField(max_length=16, default=COMMENT_NONE)
    answer = TextField(null=True)
    answered = DateTimeField(null=True)
    channel = CharField(max_length=16)
    created = DateTimeField(default=utcnow)
    # The local calendar month (yyyymm) the rating belongs to, fixed when it
    # arrives so that every later recomputation puts it in the same period.
    month = IntegerField()
    client_token = CharField(max_length=36, unique=True)
    # Salted hashes only: the raw address is never stored.
    client_hash = CharField(max_length=32)
    address_hash = CharField(max_length=32)

    class Meta:
        indexes = (
            (("client_hash", "object", "created"), False),
            (("address_hash", "created"), False),
            (("object", "created"), False),
        )

    @property
    def scores(self):
        return {c: getattr(self, c) for c in BASE_CRITERIA}

    @property
    def overall(self):
        return sum(self.scores.values()) / len(BASE_CRITERIA)


class RatingExtra(BaseModel):
    rating = ForeignKeyField(Rating, backref="extras", on_delete="CASCADE")
    criterion = ForeignKeyField(ExtraCriterion, backref="answers")
    value = SmallIntegerField()

    class Meta:
        primary_key = CompositeKey("rating", "criterion")


class PeriodSums(BaseModel):
    """The integer sums both aggregate tables keep for one period (not a
    table of its own)."""
    period = CharField(max_length=8)
    n = IntegerField(default=0)
    simplicity = IntegerField(default=0)
    information = IntegerField(default=0)
    timeliness = IntegerField(default=0)
    politeness = IntegerField(default=0)
    satisfied = IntegerField(default=0)


class ObjectAggregate(PeriodSums):
    """Integer sums of one object's ratings for one period (``2026-10``,
    ``2026-Q4``, ``2026-H2``, ``2026``, ``all``), updated in the same
    transaction as each rating. Sums, not means, so that adding up objects
    and periods is exact."""
    object = ForeignKeyField(RatableObject, backref="aggregates", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("object", "period")
        indexes = ((("period", "object"), False),)


class RollupAggregate(PeriodSums):
    """The same sums as ``ObjectAggregate``, for an organization's rolled-up
    figures (itself, its subdivisions and, for a body, its registries), so
    that a ranking reads one row per organization and an organization's
    figures one row. Updated with each rating; rebuilt from
    ``ObjectAggregate`` whenever roll-up membership changes."""
    organization = ForeignKeyField(RatableObject, backref="rollup_aggregates", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("organization", "period")
        # Covering: a ranking reads a whole period from the index alone.
        indexes = ((("period", "organization", "n", "simplicity", "information", "timeliness", "politeness",
                     "satisfied"), False),)


class RollupMember(BaseModel):
    """``object`` counts toward ``organization``'s figures: the organization
    itself, its subdivisions and, for an authorized body, everything in its
    accepted registry, transitively. One row per pair, so a rating is counted
    once however many paths lead to it."""
    organization = ForeignKeyField(RatableObject, backref="rollup", on_delete="CASCADE")
    object = ForeignKeyField(RatableObject, backref="rolled_into", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("organization", "object")
        indexes = ((("object", "organization"), False),)


class Registry(BaseModel):
    """An authorized body's local registry of its subordinate organizations."""
    DRAFT, APPROVED, SUBMITTED, ACCEPTED, RETURNED = "draft", "approved", "submitted", "accepted", "returned"
    TRANSITIONS = {
        DRAFT: (APPROVED,),
        APPROVED: (SUBMITTED, DRAFT),
        SUBMITTED: (ACCEPTED, RETURNED),
        RETURNED: (DRAFT,),
        ACCEPTED: (DRAFT,),
    }

    body = ForeignKeyField(RatableObject, backref="registries", on_delete="CASCADE")
    state = CharField(max_length=16, default=DRAFT)
    return_reason = TextField(null=True)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)


class RegistryEntry(BaseModel):
    registry = ForeignKeyField(Registry, backref="entries", on_delete="CASCADE")
    organization = ForeignKeyField(RatableObject, backref="registry_entries", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("registry", "organization")


class User(BaseModel):
    OPERATOR, MODERATOR, STAFF, BODY = "operator", "moderator", "staff", "body"
    ROLES = (OPERATOR, MODERATOR, STAFF, BODY)

    email = CharField(unique=True, max_length=254)
    name = CharField(max_length=200, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16)
    organization = ForeignKeyField(RatableObject, null=True, backref="users", on_delete="SET NULL")
    active = BooleanField(default=True)
    created = DateTimeField(default=utcnow)


class Notification(BaseModel):
    """A low-score notice (moderator or monitoring) or a recommendation (the
    authorized body) sent to an organization."""
    LOW_SCORE, RECOMMENDATION = "low_score", "recommendation"
    NEW, IN_WORK, DONE, PLANNED = "new", "in_work", "done", "planned"

    organization = ForeignKeyField(RatableObject, backref="notifications", on_delete="CASCADE")
    kind = CharField(max_length=16)
    sender = ForeignKeyField(RatableObject, null=True, backref="sent_notifications")
    author = ForeignKeyField(User, null=True, backref="notifications")
    text = TextField()
    status = CharField(max_length=16, default=NEW)
    control_date = DateField(null=True)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)

    def is_overdue(self, today=None):
        today = today or datetime.date.today()
        return self.status == self.PLANNED and self.control_date is not None and self.control_date < today


# Tables of the first schema version, in dependency order.
RAW_TABLES = [Meta, Sphere, Region, RatableObject, ObjectSphere, Service, ObjectService,
              ExtraCriterion, Rating, RatingExtra, Registry, RegistryEntry, User, Notification]
# Tables derived from the raw ones, added in versions 2 and 3 and rebuildable.
DERIVED_TABLES = [ObjectAggregate, RollupMember, RollupAggregate]
ALL_TABLES = RAW_TABLES + DERIVED_TABLES
