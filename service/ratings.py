"""Taking a rating: validation against the object's questionnaire, the
abuse limits, and one transaction that stores the rating with its
aggregates. Once this answers with an id the rating is on disk."""
import datetime
from typing import NamedTuple, Optional
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from peewee import IntegrityError

from service import codes, holding, ledger, limits, ranking, writer
from service.db import Later, run
from service.errors import ApiError
from service.models import ObjectService, RatableObject, Rating, RatingExtra, utcnow
from service.questionnaire import extra_criteria_for
from service.schemas import normalize_comment, rating_schema


def local_month(moment_utc, timezone):
    local = moment_utc.replace(tzinfo=datetime.timezone.utc).astimezone(ZoneInfo(timezone))
    return local.year * 100 + local.month


def load(payload):
    """The validated rating, or ApiError(400) naming every invalid field."""
    if not isinstance(payload, dict):
        raise ApiError({"_schema": ["the body must be a JSON object"]})
    try:
        return rating_schema.load(payload)
    except ValidationError as error:
        raise ApiError(error.messages) from None


def existing(client_token):
    """``(id, verified)`` of the rating stored under ``client_token``, or None."""
    row = run("SELECT id, verified FROM rating WHERE client_token = ?", (client_token,)).fetchone()
    return (row[0], bool(row[1])) if row else None


class Taken(NamedTuple):
    """What became of a submission: the rating's id; ``created`` False when
    the same ``client_token`` was stored before (and nothing more was);
    ``verified`` when a code proved the visit; ``code`` the code's status
    (``codes.VERIFIED``, ``USED``, ``INVALID``, ``OTHER_OBJECT``) or None
    when none was given; ``receipt`` the rating's entry in the ledger."""
    id: int
    created: bool
    verified: bool = False
    code: Optional[str] = None
    # The rating's entry in the ledger: {"seq", "hash"}.
    receipt: Optional[dict] = None


def _code_status(reading, verified):
    if reading is None:
        return None
    if verified:
        return codes.VERIFIED
    return codes.USED if reading.status == codes.UNUSED else reading.status


_NOT_PUBLISHED = {"object": ["no published object with this id"]}


def ratable(object_id):
    """The published object, with just the columns taking a rating needs."""
    row = run("SELECT id, kind, organization_id FROM ratable_object WHERE id = ? AND published = ?",
              (object_id, True)).fetchone()
    if row is None:
        raise ApiError(_NOT_PUBLISHED, status=404)
    return RatableObject(id=row[0], kind=row[1], organization=row[2])


_PUBLISHED = "SELECT 1 FROM ratable_object WHERE id = ? AND published = ?"
_COLUMNS = ("object_id", "service_id", "simplicity", "information", "timeliness", "politeness", "reasons", "comment",
            "comment_status", "channel", "created", "month", "client_token", "client_hash", "address_hash",
            "network_hash", "status", "verified")
# A retry of a submission already stored inserts nothing and returns no row:
# the common case, a new rating, needs no query of its token first.
_INSERT = (f"INSERT INTO rating ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
           "ON CONFLICT (client_token) DO NOTHING RETURNING id")


def check_against_questionnaire(obj, data):
    """Field errors for what the object's questionnaire does not offer."""
    errors = {}
    if data["service"] is not None:
        owner = obj.organization_id_or_self
        offered = ObjectService.select().where((ObjectService.service == data["service"]) &
                                               (ObjectService.object.in_([owner, obj.id]))).exists()
        if not offered:
            errors["service"] = ["this object does not give this service"]
    criteria = {c.code: c for c in extra_criteria_for(obj)} if data["extra"] else {}
    extra_errors = {}
    for code, value in data["extra"].items():
        criterion = criteria.get(code)
        if criterion is None:
            extra_errors[code] = ["not a criterion of this object's questionnaire"]
        elif not criterion.scale_min <= value <= criterion.scale_max:
            extra_errors[code] = [f"must be from {criterion.scale_min} to {criterion.scale_max}"]
    if extra_errors:
        errors["extra"] = extra_errors
    if errors:
        raise ApiError(errors)
    return {criteria[code]: value for code, value in data["extra"].items()}


def _replayed(known, data, config):
    """The answer to a submission stored before: what its code did then
    (an unverified rating's code is read again, never claimed)."""
    rating_id, verified = known
    receipt = ledger.receipt_of(rating_id)
    if not data["code"]:
        return Taken(rating_id, False, verified, receipt=receipt)
    if verified:
        return Taken(rating_id, False, True, codes.VERIFIED, receipt)
    reading = codes.read(config["SECRET_KEY"], ratable(data["object"]), data["code"])
    return Taken(rating_id, False, False, _code_status(reading, False), receipt)


def submit(payload, client_signals, config):
    """Stores a rating; returns ``Taken``. A genuine unused code (proof of
    service) is marked used in the rating's own transaction and makes the
    rating verified; any other code leaves it unverified, nothing more."""
    data = load(payload)
    if data["code"]:
        # A retry must not spend its code again: what the first one did is
        # the answer.
        known = existing(data["client_token"])
        if known:
            return _replayed(known, data, config)
    try:
        return _take(data, client_signals, config)
    except (ApiError, IntegrityError):
        # A retry whose object was unpublished since, or that a limit now
        # refuses, or that raced its own first attempt and lost, is still
        # answered as the first was.
        known = existing(data["client_token"])
        if known:
            return _replayed(known, data, config)
        raise


def _take(data, client_signals, config):
    """``submit`` once a retry carrying a code has been looked for: stores
    the rating, or answers as before when its token was stored already."""
    # Whether the object is published is asked in the rating's own
    # transaction (``_store``); read here only for what else is checked
    # against it.
    obj = ratable(data["object"]) if data["service"] is not None or data["extra"] or data["code"] else None
    extras = check_against_questionnaire(obj, data) if obj is not None else {}
    reading = codes.read(config["SECRET_KEY"], obj, data["code"]) if data["code"] else None
    address, user_agent = client_signals
    client = limits.identify(config["SECRET_KEY"], address, user_agent, data["device_token"])
    comment = normalize_comment(data["comment"])
    hold_rules = holding.rules(config)
    # Plain values only: the writer process may store it (service/writer.py).
    taken = writer.grouped("rating", (
        data["object"], data["service"], data["scores"], sorted(set(data["reasons"])), comment, data["channel"],
        data["client_token"], (client.client_hash, client.address_hash, client.network_hash),
        (reading.status, reading.owner, reading.serial) if reading is not None else None,
        [(c.id, v) for c, v in extras.items()], bool(config["RATE_LIMITS"]), config["TIMEZONE"], hold_rules))
    if isinstance(taken, ApiError):
        raise taken
    if taken is None:
        return _replayed(existing(data["client_token"]), data, config)
    rating_id, verified, receipt = taken
    return Taken(rating_id, True, verified, _code_status(reading, verified), receipt)


@writer.task("rating")
def _store(object_id, service, scores, reasons, comment, channel, client_token, client, reading, extras,
           rate_limits, timezone, hold_rules):
    """Stores a checked rating: a grouped write (service/db.py). Runs on
    whichever thread, or process, holds the writer's turn: only the database
    and its arguments, plain values. Grouped writes take turns on both
    databases, so two racing requests of one address cannot both slip under
    a limit."""
    if run(_PUBLISHED, (object_id, True)).fetchone() is None:
        # Unpublished since its sender looked, or never was.
        return ApiError(_NOT_PUBLISHED, status=404)
    client = limits.Client(*client)
    reading = codes.Reading(*reading) if reading is not None else None
    if rate_limits:
        wait = limits.retry_after(client, object_id)
        if wait:
            # Returned, not raised: nothing is written yet, and the batch it
            # shares goes on (service/db.py, WriteGroup).
            return ApiError({"_limit": ["too many ratings from this client; try again later"]},
                            status=429, headers={"Retry-After": str(wait)})
    now = utcnow()
    month = local_month(now, timezone)
    verified = reading is not None and codes.claim(reading, now)
    # What could be a new visitor but looks like stuffing is kept, not
    # counted, until the moderator decides (service/holding.py).
    held = rate_limits and holding.reason_to_hold(client, object_id, verified, hold_rules, now)
    status = Rating.HELD if held else Rating.COUNTED
    inserted = run(_INSERT, (
        object_id, service, scores["simplicity"], scores["information"], scores["timeliness"],
        scores["politeness"], Rating.reasons.db_value(reasons), comment,
        Rating.COMMENT_PENDING if comment else Rating.COMMENT_NONE, channel,
        Rating.created.db_value(now), month, client_token, client.client_hash,
        client.address_hash, client.network_hash, status, verified)).fetchone()
    if inserted is None:
        if verified:
            # The token was stored before with another code: raised, so that
            # this code's claim is rolled back with the rest.
            raise IntegrityError("client_token stored before")
        return None
    rating_id = inserted[0]
    if verified:
        codes.link(reading, rating_id)
    if extras:
        RatingExtra.insert_many([(rating_id, criterion, value) for criterion, value in extras],
                                fields=[RatingExtra.rating, RatingExtra.criterion, RatingExtra.value]).execute()
    return Later((rating_id, object_id, month, scores, verified, channel, status, now, service),
                 _count_and_record)


def _count_and_record(ratings):
    """After every rating of a batch is inserted: the counted ones added to
    the aggregates together (a statement per table for the batch, not per
    rating), then the ledger's entries of all, last, so that the chain's
    head stays locked from there to the commit only. Each rating's ``(id,
    verified, receipt)``."""
    ranking.add_to_aggregates([(object_id, month, scores, verified, service)
                               for _, object_id, month, scores, verified, _, status, _, service in ratings
                               if status == Rating.COUNTED])
    receipts = ledger.record_ratings([rating[:8] for rating in ratings])
    return [(rating[0], rating[4], receipt) for rating, receipt in zip(ratings, receipts, strict=True)]
