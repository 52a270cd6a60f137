"""Daily digests: one letter a day to each cabinet user with what is new for
them since their last digest, in their language, instead of a letter per
rating.

What a digest holds, by role (only what is not nothing is listed; a digest
goes only when something in it is new):

* an organization's staff: new counted ratings of the organization and
  its subdivisions (how many, their mean), new comments waiting for an
  answer (with the newest few quoted) and how many wait in all, new
  notifications to the organization, and its planned items past their
  control date (those that became overdue since the last digest are new);
* an authorized body's users: the same notifications of their own
  organization, and their recommendations that went overdue at the
  organizations of their registry;
* moderators: comments waiting for moderation and held ratings (new and
  in all), open low-score and recommendation notifications, overdue ones;
* operators: registries submitted for a decision.

A digest covers the time from the end of the user's previous one (the
first: the last day) to now. ``MailDigest``'s primary key (user, day)
lets one digest through per user and local day however often, or however
many at once, ``send_digests`` runs; the letter and that row are written
in one transaction. The monitoring job calls ``send_digests``; ``flask
--app wsgi send-digests`` runs it alone.
"""
import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from peewee import SQL, IntegrityError, fn

from service import holding, i18n, mail, notifications
from service.db import database, write_transaction
from service.models import LANGUAGES, MailDigest, Notification, RatableObject, Rating, Registry, User, utcnow

FIRST_WINDOW = datetime.timedelta(days=1)
QUOTED_COMMENTS = 5
QUOTE_LENGTH = 200
# Digests written per transaction.
WRITE_BATCH = 200


@dataclass
class Digest:
    """What one digest says: ``lines`` of (i18n key, values), in order, and
    whether anything in it is new (else it is not sent)."""
    lines: list = field(default_factory=list)
    quotes: list = field(default_factory=list)  # (object name, overall, comment)
    links: list = field(default_factory=list)  # (i18n key, path)
    new: bool = False

    def add(self, key, new=0, **values):
        self.lines.append((key, dict(values, new=new)))
        self.new = self.new or bool(new)


def _local_day(moment, zone):
    return moment.replace(tzinfo=datetime.timezone.utc).astimezone(zone).date()


def _newly_overdue(since_day, day):
    """Planned items that became overdue after ``since_day`` (a control date
    before ``since_day`` was overdue then already)."""
    return ((Notification.status == Notification.PLANNED) & (Notification.control_date < day)
            & (Notification.control_date >= since_day))


def _overdue(day):
    return (Notification.status == Notification.PLANNED) & (Notification.control_date < day)


def _count(query):
    return query.count()


def _per_organization(query):
    """{organization id: the rest of the row} of a query grouped by organization."""
    return {row[0]: row[1:] for row in query.tuples()}


def _staff_digests(since, now, since_day, day):
    """{organization id: Digest} for the staff of every organization at once:
    a handful of grouped queries, however many organizations there are."""
    R, N = Rating, Notification
    org = fn.COALESCE(RatableObject.organization, RatableObject.id)
    window = (R.created > since) & (R.created <= now)
    unanswered = R.comment.is_null(False) & R.answer.is_null()

    def grouped(*columns, where):
        return _per_organization(R.select(org, *columns).join(RatableObject, on=(R.object == RatableObject.id))
                                 .where(where).group_by(org))

    scores = R.simplicity + R.information + R.timeliness + R.politeness
    new_ratings = grouped(fn.COUNT(SQL("*")), fn.SUM(scores), where=window & (R.status == R.COUNTED))
    waiting = grouped(fn.COUNT(SQL("*")), where=unanswered)
    new_comments = grouped(fn.COUNT(SQL("*")), where=unanswered & window)
    quotes = {}
    for organization_id, name, total, comment in (R.select(org, RatableObject.name, scores, R.comment)
                                                  .join(RatableObject, on=(R.object == RatableObject.id))
                                                  .where(unanswered & window)
                                                  .order_by(R.created.desc(), R.id.desc()).tuples()):
        listed = quotes.setdefault(organization_id, [])
        if len(listed) < QUOTED_COMMENTS:
            listed.append((name, total / 4, comment))

    def notifications(where):
        return _per_organization(N.select(N.organization, fn.COUNT(SQL("*"))).where(where).group_by(N.organization))

    received = notifications((N.created > since) & (N.created <= now))
    overdue = notifications(_overdue(day))
    newly_overdue = notifications(_newly_overdue(since_day, day))

    result = {}
    for organization_id in set(new_ratings) | set(waiting) | set(received) | set(overdue):
        digest = Digest()
        n, total = new_ratings.get(organization_id, (0, 0))
        if n:
            digest.add("digest.staff.ratings", new=n, n=n, mean=(total or 0) / 4 / n)
        if organization_id in waiting:
            new = new_comments.get(organization_id, (0,))[0]
            digest.add("digest.staff.comments", new=new, n=new, total=waiting[organization_id][0])
            digest.quotes = quotes.get(organization_id, [])
        _notification_lines(digest, received.get(organization_id, (0,))[0], overdue.get(organization_id, (0,))[0],
                            newly_overdue.get(organization_id, (0,))[0])
        digest.links = [("digest.link.ratings", "/cabinet/ratings"),
                        ("digest.link.notifications", "/cabinet/notifications")]
        result[organization_id] = digest
    return result


def _notification_lines(digest, received, overdue, newly_overdue):
    if received:
        digest.add("digest.notifications.received", new=received, n=received)
    if overdue:
        digest.add("digest.notifications.overdue", new=newly_overdue, n=overdue)


def _received(digest, organization_id, since, now, since_day, day):
    mine = Notification.organization == organization_id
    _notification_lines(
        digest, _count(Notification.select().where(mine & (Notification.created > since) & (Notification.created <= now))),
        _count(Notification.select().where(mine & _overdue(day))),
        _count(Notification.select().where(mine & _newly_overdue(since_day, day))))


def _body(organization_id, since, now, since_day, day):
    digest = Digest()
    _received(digest, organization_id, since, now, since_day, day)
    sent = (Notification.sender == organization_id) & (Notification.kind == Notification.RECOMMENDATION)
    overdue = _count(Notification.select().where(sent & _overdue(day)))
    if overdue:
        newly = _count(Notification.select().where(sent & _newly_overdue(since_day, day)))
        digest.add("digest.body.recommendations_overdue", new=newly, n=overdue)
    digest.links = [("digest.link.notifications", "/cabinet/notifications")]
    return digest


def _moderator(since, now, since_day, day):
    digest = Digest()
    pending = Rating.comment_status == Rating.COMMENT_PENDING
    waiting = _count(Rating.select().where(pending))
    if waiting:
        new = _count(Rating.select().where(pending & (Rating.created > since) & (Rating.created <= now)))
        digest.add("digest.moderator.comments", new=new, n=new, total=waiting)
    held = (Rating.status == Rating.HELD) & holding.NOT_COUNTED
    held_total = _count(Rating.select().where(held))
    if held_total:
        new = _count(Rating.select().where(held & (Rating.created > since) & (Rating.created <= now)))
        digest.add("digest.moderator.held", new=new, n=new, total=held_total)
    open_ = Notification.status != Notification.DONE
    open_total = _count(Notification.select().where(open_))
    if open_total:
        new = _count(Notification.select().where(open_ & (Notification.created > since)
                                                 & (Notification.created <= now)))
        digest.add("digest.moderator.open", new=new, n=new, total=open_total)
    overdue = _count(Notification.select().where(_overdue(day)))
    if overdue:
        digest.add("digest.notifications.overdue", new=_count(Notification.select().where(
            _newly_overdue(since_day, day))), n=overdue)
    digest.links = [("digest.link.moderation", "/cabinet/moderation/comments"),
                    ("digest.link.notifications", "/cabinet/notifications")]
    return digest


def _operator(since, now, since_day, day):
    digest = Digest()
    submitted = Registry.state == Registry.SUBMITTED
    waiting = _count(Registry.select().where(submitted))
    if waiting:
        new = _count(Registry.select().where(submitted & (Registry.updated > since) & (Registry.updated <= now)))
        digest.add("digest.operator.registries", new=new, n=new, total=waiting)
    digest.links = [("digest.link.registries", "/cabinet/registries")]
    return digest


def collect(user, since, now, day, zone):
    """The ``Digest`` for ``user`` over (since, now]; ``day`` is today's
    local date (for what is overdue)."""
    since_day = _local_day(since, zone)
    if user.role == User.STAFF and user.organization_id:
        return _staff_digests(since, now, since_day, day).get(user.organization_id, Digest())
    if user.role == User.BODY and user.organization_id:
        return _body(user.organization_id, since, now, since_day, day)
    if user.role == User.MODERATOR:
        return _moderator(since, now, since_day, day)
    if user.role == User.OPERATOR:
        return _operator(since, now, since_day, day)
    return Digest()


# -- the letter ---------------------------------------------------------------------------

def _number(value, lang):
    text = f"{value:.1f}"
    return text if lang == "en" else text.replace(".", ",")


def _quote(text):
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTE_LENGTH else text[:QUOTE_LENGTH - 1].rstrip() + "…"


def compose(user, digest, since, now, zone, organization=None):
    """(subject, text) of the digest in the user's language."""
    lang = user.language if user.language in LANGUAGES else "ru"

    def say(key, **values):
        return i18n.translate(key, lang, **values)

    site = say("site.name")
    base = current_app.config["BASE_URL"]
    local = lambda moment: f"{moment.replace(tzinfo=datetime.timezone.utc).astimezone(zone):%Y-%m-%d %H:%M}"  # noqa: E731
    parts = [say("mail.hello_name", name=user.name) if user.name else say("mail.hello"), "",
             say("digest.intro", site=site, since=local(since), until=local(now), zone=zone.key)]
    if organization is not None:
        parts.append(organization.name)
    parts.append("")
    for key, values in digest.lines:
        if "mean" in values:
            values = dict(values, mean=_number(values["mean"], lang))
        parts.append("• " + say(key, **values))
    if digest.quotes:
        parts += ["", say("digest.quotes")]
        for name, overall, comment in digest.quotes:
            parts.append(f"— «{_quote(comment)}» ({name}, {_number(overall, lang)})")
    if digest.links:
        parts.append("")
        parts += [f"{say(key)}: {base}{path}?lang={lang}" for key, path in digest.links]
    parts += ["", say("digest.why", email=user.email), "", f"— {site}", ""]
    subject = say("digest.subject", site=site, day=_local_day(now, zone).isoformat())
    return subject, "\n".join(parts)


# -- sending ------------------------------------------------------------------------------

def recipients():
    """Users who may get a digest: active, with a password (an invitation
    not yet accepted gets none), of a role that has something to read."""
    return (User.select()
            .where((User.active == True) & (User.password_hash != "")  # noqa: E712
                   & ((User.role.in_([User.MODERATOR, User.OPERATOR]))
                      | (User.role.in_([User.STAFF, User.BODY]) & User.organization.is_null(False))))
            .order_by(User.id))


def send_digests(now=None, echo=None):
    """Writes today's digest into the outbox for each user who has
    something new and has none today yet; returns how many were written.
    For the monitoring job (and ``send-digests``); ``send-mail`` delivers them."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Europe/Minsk"))
    day = notifications.today() if now is None else _local_day(now, zone)
    now = now or utcnow()
    last = dict(MailDigest.select(MailDigest.user, fn.MAX(MailDigest.covered_until))
                .group_by(MailDigest.user).tuples())
    done_today = {user_id for user_id, in MailDigest.select(MailDigest.user).where(MailDigest.day == day).tuples()}
    organizations = {}
    cache = {}
    staff = {}
    letters = []
    # Read whole before the first write: on SQLite a SELECT still being read
    # holds a snapshot that a later write cannot start from once another
    # run has committed.
    for user in list(recipients()):
        if user.id in done_today:
            continue
        since = last.get(user.id) or now - FIRST_WINDOW
        if user.role == User.STAFF:
            # Every organization's figures for one window in a few grouped queries.
            if since not in staff:
                staff[since] = _staff_digests(since, now, _local_day(since, zone), day)
            digest = staff[since].get(user.organization_id, Digest())
        else:
            # Colleagues of one body (and every moderator) read the same
            # figures for the same window: counted once.
            key = (user.role, user.organization_id if user.role == User.BODY else None, since)
            if key not in cache:
                cache[key] = collect(user, since, now, day, zone)
            digest = cache[key]
        if not digest.new:
            continue
        organization = None
        if user.organization_id:
            if user.organization_id not in organizations:
                organizations[user.organization_id] = RatableObject.get_or_none(
                    RatableObject.id == user.organization_id)
            organization = organizations[user.organization_id]
        letters.append((user, *compose(user, digest, since, now, zone, organization)))
    written = sum(_write(letters[i:i + WRITE_BATCH], day, now) for i in range(0, len(letters), WRITE_BATCH))
    if echo:
        echo(f"{written} digest(s) written to the outbox for {day.isoformat()}")
    return written


def _write(letters, day, now):
    """Each letter with its MailDigest row, a batch in one transaction (one
    commit, not one per user), each in a savepoint of its own: a user who
    has today's digest already (another run was first) is skipped alone.
    Returns how many were written."""
    written = 0
    with write_transaction():
        for user, subject, text in letters:
            try:
                with database.atomic():
                    if MailDigest.select().where((MailDigest.user == user.id) & (MailDigest.day == day)).exists():
                        continue
                    letter = mail.enqueue(user.email, subject, text, kind="digest", user=user,
                                          language=user.language)
                    MailDigest.create(user=user.id, day=day, covered_until=now, message=letter.id)
            except IntegrityError:
                continue
            written += 1
    return written


@click.command("send-digests")
@with_appcontext
def send_digests_command():
    """Write today's digests into the outbox (then send-mail delivers them)."""
    with database.connection_context():
        send_digests(echo=click.echo)
