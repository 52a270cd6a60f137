"""The monthly monitoring job (``flask --app wsgi monitor``): what the
moderator would otherwise do by hand after every month (the seeds, 000 §8).

1. Every object whose month is low (``OCENKA_LOW_SCORE``: overall below
   3.5 or satisfaction below 70 %, with at least 5 counted ratings) gets
   one low-score notification for that month, addressed to its
   organization, naming the object, the month, its figures and the
   comments behind them. A unique index on (object, month) makes a second
   run, or two runs at once, send no second one.
2. Planned items past their control date are marked overdue once
   (``overdue_since``), with an audit entry by nobody: the job did it.
3. Today's digests go to the outbox, and the outbox is sent when SMTP is
   configured (what cannot be sent waits for ``send-mail``).

Every step is idempotent, so the job can run from cron every day: the
notices of a month appear once its ratings are in, and a run that died
half way is finished by the next.

The figures come from the stored per-object aggregates of the month (held
and rejected ratings are not in them), so the job reads one row per rated
object, not the ratings; only the comments of the few low objects are read.
"""
import datetime
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import with_appcontext
from peewee import IntegrityError

from service import i18n, notifications, ranking
from service.cabinet import audit
from service.db import database, write_transaction
from service.models import BASE_CRITERIA, Notification, ObjectAggregate, RatableObject, Rating

# The comments quoted in a notice: the month's lowest rated with a comment.
QUOTED_COMMENTS = 5
QUOTE_LENGTH = 300
# Notices written per transaction: one commit for many, and a short one.
WRITE_BATCH = 100


@dataclass(frozen=True)
class Thresholds:
    """Below ``overall`` or below ``satisfaction`` percent, with at least
    ``min_ratings`` counted ratings in the month, a month is low."""
    overall: float = 3.5
    satisfaction: float = 70.0
    min_ratings: int = 5

    def is_low(self, figures):
        return figures["n"] >= self.min_ratings and (
            figures["overall"] < self.overall or figures["satisfaction"] < self.satisfaction)


LIMITS = {"overall": (1.0, 5.0), "satisfaction": (0.0, 100.0), "min_ratings": (1, 100_000)}


def parse_thresholds(text):
    """``OCENKA_LOW_SCORE``: any of overall, satisfaction and min_ratings as
    name=number, comma-separated (``overall=3.8,min_ratings=10``); the rest
    keep their defaults."""
    values = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, number = (piece.strip() for piece in part.partition("="))
        if name not in LIMITS:
            raise ValueError(f"OCENKA_LOW_SCORE: {name!r} is not one of {', '.join(LIMITS)}")
        low, high = LIMITS[name]
        try:
            value = int(number) if name == "min_ratings" else float(number)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            kind = "a whole number" if name == "min_ratings" else "a number"
            raise ValueError(f"OCENKA_LOW_SCORE: {name} must be {kind} from {low} to {high} (was {number!r})")
        values[name] = value
    return Thresholds(**values)


def thresholds():
    return current_app.config.get("LOW_SCORE") or Thresholds()


def previous_month(day):
    """The last whole month before ``day``, as a period key."""
    first = day.replace(day=1) - datetime.timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def check_month(text):
    period = ranking.Period.parse(text)
    if period.kind != "month":
        raise ValueError("the monitoring works on a month: YYYY-MM, for example 2026-10")
    return period.key


def month_figures(sums):
    """What a notice says about a month: the count, the mean overall
    score, each criterion's mean and the satisfaction index."""
    n = sums.n
    return {"n": n, "overall": sums.overall_sum / n,
            "criteria": {c: getattr(sums, c) / n for c in BASE_CRITERIA},
            "satisfaction": 100.0 * sums.satisfied / n}


def low_objects(month, limits):
    """[(object id, figures)] of every object below ``limits`` in ``month``,
    by id."""
    A = ObjectAggregate
    columns = [A.object, A.n, *(getattr(A, c) for c in BASE_CRITERIA), A.satisfied]
    rows = (A.select(*columns).where((A.period == month) & (A.n >= limits.min_ratings))
            .order_by(A.object).tuples())
    found = []
    for object_id, n, *rest in rows:
        sums = ranking.Sums(n, *rest[:len(BASE_CRITERIA)], satisfied=rest[-1])
        figures = month_figures(sums)
        if limits.is_low(figures):
            found.append((object_id, figures))
    return found


def _already_noticed(month, object_ids):
    """The objects of ``object_ids`` that have a notice for ``month``: from
    this job, or sent by hand to an organization about itself before
    notices named their object."""
    N = Notification
    noticed = {o for o, in N.select(N.object).where((N.period == month) & N.object.in_(object_ids)).tuples()}
    noticed |= {o for o, in N.select(N.organization).where(
        (N.kind == N.LOW_SCORE) & (N.period == month) & N.object.is_null() & N.organization.in_(object_ids)).tuples()}
    return noticed


def comments_behind(object_id, month, limit=QUOTED_COMMENTS):
    """The counted ratings of the month with a comment, lowest first: what
    the people who gave the low scores said."""
    R = Rating
    total = R.simplicity + R.information + R.timeliness + R.politeness
    year, number = int(month[:4]), int(month[5:])
    return list(R.select(R.id, R.simplicity, R.information, R.timeliness, R.politeness, R.comment)
                .where((R.object == object_id) & (R.month == year * 100 + number) & (R.status == R.COUNTED)
                       & R.comment.is_null(False) & (R.comment != ""))
                .order_by(total, R.id).limit(limit))


def _number(value, lang, digits=2):
    text = f"{value:.{digits}f}"
    return text if lang == "en" else text.replace(".", ",")


def notice_text(obj, month, figures, comments, limits, lang):
    """The notice as the organization reads it (in the service's default
    language; the cabinet shows the figures in the reader's own)."""
    t = i18n.translate
    lines = [t("monitor.notice.head", lang, object=obj.name, month=month),
             t("monitor.notice.figures", lang, n=figures["n"], overall=_number(figures["overall"], lang),
               satisfaction=_number(figures["satisfaction"], lang, 1)),
             t("monitor.notice.thresholds", lang, overall=_number(limits.overall, lang),
               satisfaction=_number(limits.satisfaction, lang, 0))]
    if comments:
        lines.append(t("monitor.notice.comments", lang))
        for rating in comments:
            overall = (rating.simplicity + rating.information + rating.timeliness + rating.politeness) / 4
            text = " ".join(rating.comment.split())
            if len(text) > QUOTE_LENGTH:
                text = text[:QUOTE_LENGTH - 1] + "…"
            lines.append(f"— ({_number(overall, lang)}) {text}")
    lines.append(t("monitor.notice.plan", lang))
    return "\n".join(lines)


def send_low_score_notices(month, limits=None, lang="ru"):
    """One notice per low object of ``month`` that has none; returns
    (low, sent): how many objects were low and how many notices this run
    wrote."""
    limits = limits or thresholds()
    low = low_objects(month, limits)
    if not low:
        return 0, 0
    sent = 0
    for start in range(0, len(low), WRITE_BATCH):
        batch = dict(low[start:start + WRITE_BATCH])
        waiting = set(batch) - _already_noticed(month, list(batch))
        objects = {o.id: o for o in RatableObject.select().where(RatableObject.id.in_(list(waiting)))}
        notices = []
        for object_id in sorted(waiting):
            obj = objects.get(object_id)
            if obj is None:
                continue  # removed meanwhile
            figures = batch[object_id]
            text = notice_text(obj, month, figures, comments_behind(object_id, month), limits, lang)
            notices.append((obj, figures, text))
        sent += _write_notices(month, notices)
    return len(low), sent


def _write_notices(month, notices):
    written = 0
    with write_transaction():
        for obj, figures, text in notices:
            try:
                with database.atomic():
                    notice = Notification.create(
                        organization=obj.organization_id_or_self, object=obj.id, kind=Notification.LOW_SCORE,
                        text=text, period=month, figures=figures)
                    audit.record(None, "notification.send", "notification", notice.id,
                                 after={"organization": notice.organization_id, "object": obj.id,
                                        "kind": notice.kind, "period": month, "source": "monitoring"})
            except IntegrityError:
                continue  # another run was first
            written += 1
    return written


def mark_overdue(day=None):
    """Marks every planned item past its control date that is not marked
    yet; returns how many."""
    day = day or notifications.today()
    N = Notification
    waiting = list(N.select(N.id, N.control_date).where(
        (N.status == N.PLANNED) & (N.control_date < day) & N.overdue_since.is_null()).tuples())
    marked = 0
    for start in range(0, len(waiting), WRITE_BATCH):
        with write_transaction():
            for notification_id, control_date in waiting[start:start + WRITE_BATCH]:
                since = control_date + datetime.timedelta(days=1)
                # On the condition that it is still planned with that date.
                if N.update(overdue_since=since).where(
                        (N.id == notification_id) & (N.status == N.PLANNED) & (N.control_date == control_date)
                        & N.overdue_since.is_null()).execute():
                    audit.record(None, "notification.overdue", "notification", notification_id,
                                 before={"overdue_since": None}, after={"overdue_since": since})
                    marked += 1
    return marked


@dataclass
class Run:
    month: str
    low: int = 0
    sent: int = 0
    overdue: int = 0
    digests: int = 0
    mail: object = None  # what send-mail did, when SMTP is configured


def run(month=None, day=None, digests=True, mail_out=True):
    """The whole job; returns what it did."""
    from service import digests as digest_letters, mail  # they import the cabinets' strings
    day = day or notifications.today()
    result = Run(month or previous_month(day))
    result.low, result.sent = send_low_score_notices(result.month, lang="ru")
    result.overdue = mark_overdue(day)
    if digests:
        result.digests = digest_letters.send_digests()
    if mail_out and mail.configured():
        result.mail = mail.deliver()
    return result


@click.command("monitor")
@click.option("--month", help="the month to check, YYYY-MM (default: the last whole month)")
@click.option("--no-digests", is_flag=True, help="leave the digests to a run of send-digests")
@with_appcontext
def monitor_command(month, no_digests):
    """The monthly monitoring: low-score notices, overdue items, digests.
    Idempotent: run it daily from cron or a systemd timer."""
    if month is not None:
        try:
            month = check_month(month)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--month") from None
    with database.connection_context():
        result = run(month, digests=not no_digests)
    limits = thresholds()
    click.echo(f"{result.month}: {result.low} object(s) below the thresholds (overall < {limits.overall}, "
               f"satisfaction < {limits.satisfaction:g} %, at least {limits.min_ratings} ratings); "
               f"{result.sent} notice(s) sent now, {result.low - result.sent} sent before")
    click.echo(f"{result.overdue} planned item(s) newly overdue")
    if not no_digests:
        click.echo(f"{result.digests} digest(s) written to the outbox")
    if result.mail is not None:
        click.echo(f"mail: {result.mail.sent} letter(s) sent, {result.mail.retrying} to retry, "
                   f"{result.mail.refused} refused")
        if result.mail.stopped:
            click.echo(f"mail stopped: {result.mail.stopped}; send-mail will send the rest", err=True)
    elif not no_digests:
        click.echo("mail is not configured (OCENKA_SMTP_URL): the letters wait in the outbox")
