"""The domain: spheres, regions, ratable objects (organizations and their
subdivisions in one id space), services, questionnaires, ratings, the
aggregates the ranking reads, registries, notifications and users."""
import datetime
import re

from peewee import (
    AutoField, BigIntegerField, BlobField, BooleanField, CharField, CompositeKey, DateField, DateTimeField, DeferredForeignKey,
    ForeignKeyField, IntegerField, SmallIntegerField, SQL, TextField,
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


_DIGITS = re.compile(r"\d+")


def sort_key(name):
    """A name as lists sort it: case-folded, every number padded to twelve
    digits, so that "№ 2" comes before "№ 10" in SQL's plain text order."""
    return _DIGITS.sub(lambda m: m.group().zfill(12), (name or "").casefold())[:700]


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
    # The order people expect in lists: "№ 2" before "№ 10" (sort_key).
    sort_name = CharField(max_length=700, index=True, default="")
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
        self.sort_name = sort_key(self.name)
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
    decision_reason = TextField(null=True)
    # The user is defined below; peewee resolves the reference once it is.
    proposed_by = DeferredForeignKey("User", null=True, backref="proposed_criteria", on_delete="SET NULL")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "code"), True), (("state", "created"), False))

    def label(self, lang="ru"):
        return localized(self.labels, lang)


class Rating(BaseModel):
    """One visitor's rating. Kept forever; never edited but for the comment's
    moderation and the organization's answer."""
    COMMENT_NONE, COMMENT_PENDING, COMMENT_APPROVED, COMMENT_REJECTED = "none", "pending", "approved", "rejected"
    # Only counted ratings are in the aggregates; a held one waits for the
    # moderator, a rejected one is kept but never counted.
    COUNTED, HELD, REJECTED = "counted", "held", "rejected"
    STATUSES = (COUNTED, HELD, REJECTED)

    id = AutoField()
    # No index of its own: (object, created) below serves every lookup by
    # object, and each index is one more B-tree every rating is written to
    # in the one writer's turn (schema version 27).
    object = ForeignKeyField(RatableObject, backref="ratings", index=False)
    # Indexed only where given (below): most ratings name no service.
    service = ForeignKeyField(Service, null=True, backref="ratings", index=False)
    simplicity = SmallIntegerField()
    information = SmallIntegerField()
    timeliness = SmallIntegerField()
    politeness = SmallIntegerField()
    reasons = JSONField(default=list)
    comment = TextField(null=True)
    comment_status = CharField(max_length=16, default=COMMENT_NONE)
    # Why the moderator rejected the comment; kept, never shown publicly.
    moderation_reason = TextField(null=True)
    moderated = DateTimeField(null=True)
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
    # The address's network, salted and hashed: an IPv6 /64 (one subscriber
    # holds all of it), an IPv4 address itself.
    network_hash = CharField(max_length=32, null=True)
    status = CharField(max_length=16, default=COUNTED)
    # Given with a valid single-use code of the organization (proof of service).
    verified = BooleanField(default=False)

    class Meta:
        indexes = (
            # Every limit and rule of an address or client counts in it
            # (service/limits.py, service/holding.py): one b-tree a rating
            # is written to, not one for addresses and one for clients. A
            # client's hash is made with its address, so its ratings are
            # among its address's, and a window is an hour or a day of them.
            (("address_hash", "created", "object", "client_hash"), False),
            (("object", "created"), False),
        )

    @property
    def scores(self):
        return {c: getattr(self, c) for c in BASE_CRITERIA}

    @property
    def overall(self):
        return sum(self.scores.values()) / len(BASE_CRITERIA)


# Partial indexes: each rating is written to every index of its table in
# the one writer's turn, and these hold only the few ratings their readers
# look for (schema versions 28 and 29).
Rating.add_index(Rating.index(Rating.service, name="rating_named_service").where(Rating.service.is_null(False)))
# The moderator's queue: pending comments, oldest first.
Rating.add_index(Rating.index(Rating.created, name="rating_pending_comment")
                 .where(SQL(f"comment_status = '{Rating.COMMENT_PENDING}'")))
# The ratings not counted (held or rejected), per object: the moderator's
# and, subtracted from all, the counted ones the rule of bursts counts
# (service/holding.py). Readers name the condition in their own query.
Rating.add_index(Rating.index(Rating.object, Rating.created, name="rating_not_counted")
                 .where(SQL(f"status != '{Rating.COUNTED}'")))
# An IPv6 /64's ratings, for the held-ratings rule of networks
# (service/holding.py); an IPv4 address is its own network, already in the
# index of addresses.
Rating.add_index(Rating.index(Rating.network_hash, Rating.object, Rating.created, name="rating_ipv6_network")
                 .where(Rating.network_hash != Rating.address_hash))


class RatingExtra(BaseModel):
    rating = ForeignKeyField(Rating, backref="extras", on_delete="CASCADE")
    criterion = ForeignKeyField(ExtraCriterion, backref="answers")
    value = SmallIntegerField()

    class Meta:
        primary_key = CompositeKey("rating", "criterion")


class PeriodSums(BaseModel):
    """The integer sums the aggregate tables keep for one period (not a
    table of its own). On SQLite each of those tables is stored in its
    primary key's order, key columns first (``WITHOUT ROWID``, schema
    version 30, service/migrations.py)."""
    period = CharField(max_length=8)
    n = IntegerField(default=0)
    simplicity = IntegerField(default=0)
    information = IntegerField(default=0)
    timeliness = IntegerField(default=0)
    politeness = IntegerField(default=0)
    satisfied = IntegerField(default=0)
    # Σ (sum of the four base scores)², so that the spread of the overall
    # scores (Σ overall² = squares / 16) needs no rescan of the ratings.
    squares = BigIntegerField(default=0)
    # How many of the ratings a single-use code verified.
    verified = IntegerField(default=0)


class ObjectAggregate(PeriodSums):
    """Integer sums of one object's ratings for one period (``2026-10``,
    ``2026-Q4``, ``2026-H2``, ``2026``, ``all``), updated in the same
    transaction as each rating. Sums, not means, so that adding up objects
    and periods is exact."""
    # Looked up by the primary key, which starts with the object.
    object = ForeignKeyField(RatableObject, backref="aggregates", on_delete="CASCADE", index=False)

    class Meta:
        primary_key = CompositeKey("object", "period")
        indexes = ((("period", "object"), False),)


class RollupAggregate(PeriodSums):
    """The same sums as ``ObjectAggregate``, for an organization's rolled-up
    figures (itself, its subdivisions and, for a body, its registries), so
    that a ranking reads one row per organization and an organization's
    figures one row. Updated with each rating; rebuilt from
    ``ObjectAggregate`` whenever roll-up membership changes."""
    organization = ForeignKeyField(RatableObject, backref="rollup_aggregates", on_delete="CASCADE", index=False)

    class Meta:
        primary_key = CompositeKey("organization", "period")
        # The keys alone, not the sums: every rating changes the sums of
        # about fourteen of these rows, and an index holding them was
        # rewritten with each (schema version 26; docs/benchmarks.md).
        indexes = ((("period", "organization"), False),)


class ServiceAggregate(PeriodSums):
    """The same sums as ``ObjectAggregate``, of one object's ratings that
    name one service, for one period (schema version 21): kept with each
    rating like the others, so that the reports' figures per service are
    sums of stored rows, never a scan of the ratings. A rating without a
    service is in no row of this table."""
    object = ForeignKeyField(RatableObject, backref="service_aggregates", on_delete="CASCADE", index=False)
    service = ForeignKeyField(Service, backref="aggregates", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("object", "service", "period")
        # A report reads one or two periods of every service at once.
        indexes = ((("period", "service", "object"), False),)


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
    name = CharField(max_length=300, default="")
    state = CharField(max_length=16, default=DRAFT)
    return_reason = TextField(null=True)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("state", "id"), False),)


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
    # The language of the cabinet and of the mail the user gets.
    language = CharField(max_length=2, default="ru")
    created = DateTimeField(default=utcnow)

    @property
    def has_password(self):
        return bool(self.password_hash)


class UserSession(BaseModel):
    """A signed-in browser. The cookie carries a random token; only its
    hash is kept, so that signing out, deactivation and a password change
    end the session on every worker and server at once."""
    token_hash = CharField(primary_key=True, max_length=64)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created = DateTimeField(default=utcnow)
    last_seen = DateTimeField(default=utcnow)
    expires = DateTimeField(index=True)


class ApiToken(BaseModel):
    """A personal token for the cabinet API (``Authorization: Bearer``).
    Shown once when made; only its hash is kept."""
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    name = CharField(max_length=100, default="")
    token_hash = CharField(max_length=64, unique=True)
    created = DateTimeField(default=utcnow)
    last_used = DateTimeField(null=True)
    revoked = DateTimeField(null=True)


class AccountLink(BaseModel):
    """A single-use, expiring link that sets a password: an invitation to a
    new user or a password reset. Only the hash of its token is kept."""
    INVITATION, RESET = "invitation", "reset"

    kind = CharField(max_length=16)
    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(User, backref="account_links", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, backref="issued_links", on_delete="SET NULL")
    created = DateTimeField(default=utcnow)
    expires = DateTimeField()
    used = DateTimeField(null=True)


class SignInFailure(BaseModel):
    """A failed sign-in, counted per key (a hashed e-mail or address) over
    a sliding window. Kept in the database so that the limit holds across
    workers and servers and survives a restart."""
    key = CharField(max_length=64)
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("key", "created"), False),)


class AuditEntry(BaseModel):
    """One change made in a cabinet: who, when, what, before and after.
    The e-mail is copied so that the entry reads the same after the user
    is renamed or removed."""
    id = AutoField()
    created = DateTimeField(default=utcnow, index=True)
    user = ForeignKeyField(User, null=True, backref="audit_entries", on_delete="SET NULL")
    user_email = CharField(max_length=254, default="")
    action = CharField(max_length=64)
    target_kind = CharField(max_length=32)
    target_id = IntegerField(null=True)
    before = JSONField(null=True)
    after = JSONField(null=True)

    class Meta:
        indexes = ((("target_kind", "target_id"), False),)


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
    # The month (or other period key) a low-score notice is about.
    period = CharField(max_length=8, null=True)
    status = CharField(max_length=16, default=NEW)
    control_date = DateField(null=True)
    report = TextField(null=True)
    created = DateTimeField(default=utcnow)
    updated = DateTimeField(default=utcnow)
    # Set by the monitoring job (schema version 22): the object whose month
    # was low (the organization itself or one of its subdivisions) and its
    # figures for that month as they were when the notice went out.
    object = ForeignKeyField(RatableObject, null=True, backref="low_score_notifications", on_delete="CASCADE")
    figures = JSONField(null=True)
    # The first day a planned item was past its control date, as the
    # monitoring job found it; kept after the item is done, so that a late
    # completion stays on record.
    overdue_since = DateField(null=True)

    class Meta:
        # The moderator's list of low-score notices and the planned items
        # past their control date stay indexed reads as years go by. One
        # monitoring notice per object and month, however many runs race.
        indexes = ((("kind", "id"), False), (("status", "control_date"), False),
                   (("object", "period"), True))

    def is_overdue(self, today=None):
        today = today or datetime.date.today()
        return self.status == self.PLANNED and self.control_date is not None and self.control_date < today


# -- proof of service (schema version 15) --------------------------------------

class CodeIssue(BaseModel):
    """One batch of single-use codes an organization printed for one of its
    objects: who, when, how many and which serials. A code is signed over
    its object and serial (``service/codes.py``), so this record is not read
    to check a code; it says who issued which codes, and lets the same
    sheet or list be downloaded again."""
    SHEET, LIST = "sheet", "list"
    KINDS = (SHEET, LIST)

    id = AutoField()
    object = ForeignKeyField(RatableObject, backref="code_issues", on_delete="CASCADE")
    kind = CharField(max_length=16)
    first_serial = IntegerField()
    count = IntegerField()
    # The language the sheet's slips are printed in.
    language = CharField(max_length=2, default="ru")
    user = ForeignKeyField(User, null=True, backref="code_issues", on_delete="SET NULL")
    # Copied, as in the audit log, so the record reads the same later.
    user_email = CharField(max_length=254, default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        # Serials never overlap: each issue starts where the last one ended.
        indexes = ((("object", "first_serial"), True),)

    @property
    def last_serial(self):
        return self.first_serial + self.count - 1


class UsedCode(BaseModel):
    """A code that has verified a rating. The primary key makes the single
    use hold however many requests race: the row is inserted in the
    rating's own transaction, and only one insert of a key can win."""
    # The object the code was issued for (a rating of one of an
    # organization's subdivisions may use the organization's code).
    object = ForeignKeyField(RatableObject, backref="used_codes", on_delete="CASCADE")
    serial = IntegerField()
    rating = ForeignKeyField(Rating, null=True, backref="used_code", on_delete="SET NULL")
    used = DateTimeField(default=utcnow)

    class Meta:
        primary_key = CompositeKey("object", "serial")


# -- the ratings ledger (service/ledger.py) ----------------------------------

class LedgerEntry(BaseModel):
    """One link of the public hash chain: a rating as it arrived, or a later
    change of its status. ``body`` is the entry's canonical JSON without its
    hash, exactly what was hashed; the other columns are for finding entries."""
    seq = BigIntegerField(primary_key=True)
    kind = CharField(max_length=8)
    rating = BigIntegerField(index=True)
    body = TextField()
    hash = CharField(max_length=64)


class LedgerHead(BaseModel):
    """The chain's last link, one row: locked by each append, so that
    concurrent writers on PostgreSQL take their turns and every seq follows
    the one before."""
    id = IntegerField(primary_key=True)
    seq = BigIntegerField()
    hash = CharField(max_length=64)


# -- mail (service/mail.py, service/digests.py; schema version 17) ------------

class OutboxMessage(BaseModel):
    """A letter to send. Written in the same transaction as what causes it
    (an invitation, a digest), so that it exists exactly when its cause
    does; ``send-mail`` delivers it through SMTP, retrying with backoff
    while the server cannot take it. Once sent (or refused for good) its
    text is cleared: an invitation's text holds a live link, and the
    service otherwise keeps only hashes of those."""
    WAITING, SENT, FAILED = "waiting", "sent", "failed"

    id = AutoField()
    kind = CharField(max_length=32)
    user = ForeignKeyField(User, null=True, backref="mail", on_delete="SET NULL")
    recipient = CharField(max_length=254)
    language = CharField(max_length=2, default="ru")
    subject = TextField()
    body = TextField()
    html = TextField(null=True)
    # Made when the letter is written, so that a letter sent twice (a
    # sender that died after the server took it) is one letter to mail
    # clients, which skip a repeated Message-ID.
    message_id = CharField(max_length=255)
    created = DateTimeField(default=utcnow)
    state = CharField(max_length=8, default=WAITING)
    attempts = IntegerField(default=0)
    next_attempt = DateTimeField(default=utcnow)
    last_attempt = DateTimeField(null=True)
    last_error = TextField(null=True)
    # A sender's claim: which run holds the letter and until when; a run
    # that died leaves a claim that lapses.
    claim = CharField(max_length=32, null=True)
    claimed_until = DateTimeField(null=True)
    sent = DateTimeField(null=True)

    class Meta:
        # What is due: waiting letters by their next attempt.
        indexes = ((("state", "next_attempt"), False),)


class MailDigest(BaseModel):
    """The digest a user got on a day: the primary key lets one through per
    user and day however often or concurrently the job runs, and
    ``covered_until`` is where the next digest starts."""
    user = ForeignKeyField(User, backref="digests", on_delete="CASCADE")
    day = DateField()
    covered_until = DateTimeField()
    message = ForeignKeyField(OutboxMessage, null=True, backref="digest", on_delete="SET NULL")

    class Meta:
        primary_key = CompositeKey("user", "day")


# Tables of the first schema version, in dependency order.
# -- stored rankings (service/ranking.py; schema version 20) --------------------

class RankingSnapshot(BaseModel):
    """The listed organizations' sums of one ranking group and period as
    they were at ledger entry ``seq`` and structure version ``structure``,
    packed (eight little-endian integers per organization, by id, behind a
    marker of their width: ``ranking._packed``), so that a
    worker with nothing cached reads one row instead of thirteen thousand
    and catches up from the ledger entries after ``seq``. A copy, never
    the truth: it is rewritten whenever it is found behind, and ignored
    when its structure is not the current one. ``sphere`` and ``region``
    are 0 for all organizations."""
    period = CharField(max_length=8)
    sphere = IntegerField(default=0)
    region = IntegerField(default=0)
    structure = IntegerField()
    seq = BigIntegerField()
    rows = BlobField()

    class Meta:
        primary_key = CompositeKey("period", "sphere", "region")


RAW_TABLES = [Meta, Sphere, Region, RatableObject, ObjectSphere, Service, ObjectService,
              ExtraCriterion, Rating, RatingExtra, Registry, RegistryEntry, User, Notification]
# Tables derived from the raw ones, added in versions 2, 3 and 21 and rebuildable.
DERIVED_TABLES = [ObjectAggregate, RollupMember, RollupAggregate, ServiceAggregate]
# The cabinets' accounts and audit log, added in version 4.
CABINET_TABLES = [UserSession, ApiToken, AccountLink, SignInFailure, AuditEntry]
# Proof of service, added in version 15.
CODE_TABLES = [CodeIssue, UsedCode]
# The ratings ledger, added in version 13.
LEDGER_TABLES = [LedgerEntry, LedgerHead]
# The mail outbox and the digests sent, added in version 17.
MAIL_TABLES = [OutboxMessage, MailDigest]
# Stored rankings, added in version 20.
RANKING_TABLES = [RankingSnapshot]
ALL_TABLES = (RAW_TABLES + DERIVED_TABLES + CABINET_TABLES + CODE_TABLES + LEDGER_TABLES + MAIL_TABLES
              + RANKING_TABLES)
