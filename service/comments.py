"""What people in the cabinets do with a rating's comment: the
organization answers it, the moderator approves or rejects it.

The pages and the JSON API both call these functions, so validation, the
change and its audit entry are the same whichever way a person comes.
Field errors come in the language asked for (English for the API, the
page's language on a form); a wrong state is a 409.

Permissions are the views' part (``permissions.require``); these functions
only guard the state, and they guard it in the UPDATE itself, so that two
moderators deciding the same comment at once cannot both succeed.
"""
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validates, validates_schema

from service import i18n
from service.cabinet import audit
from service.db import write_transaction
from service.errors import ApiError
from service.models import Rating, utcnow
from service.questionnaire import COMMENT_MAX
from service.schemas import _CONTROL as CONTROL_CHARACTERS  # the public rating form's rule for free text

ANSWER_MAX = COMMENT_MAX
REASON_MAX = 1000
APPROVE, REJECT = "approve", "reject"
DECISIONS = (APPROVE, REJECT)

# What the audit log calls each change.
ANSWERED, MODERATED = "rating.answer", "rating.moderation"


def say(key, lang, **values):
    return i18n.translate(key, lang, **values)


def tidy(text):
    """Typed text as kept: trimmed, with one kind of line end."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def text_problem(text, limit, lang, required=True):
    """Why ``text`` (already tidied) cannot be kept, or None: empty when
    required, longer than ``limit``, or with control characters other than
    newline and tab (they break the pages and the spreadsheets it reaches)."""
    if not text:
        return say("cabinet.moderation.error.empty", lang) if required else None
    if len(text) > limit:
        return say("cabinet.moderation.error.too_long", lang, limit=limit, n=len(text))
    if CONTROL_CHARACTERS.search(text):
        return say("cabinet.moderation.error.control", lang)
    return None


class LocalizedSchema(Schema):
    """A schema whose own refusals speak ``lang``."""

    class Meta:
        unknown = RAISE

    def __init__(self, lang="en", **kwargs):
        super().__init__(**kwargs)
        self.lang = lang


class AnswerSchema(LocalizedSchema):
    text = fields.String(required=True)

    @validates("text")
    def _text(self, value, **kwargs):
        problem = text_problem(tidy(value), ANSWER_MAX, self.lang)
        if problem:
            raise ValidationError(problem)

    @post_load
    def _tidy(self, data, **kwargs):
        return {"text": tidy(data["text"])}


class DecisionSchema(LocalizedSchema):
    """A moderator's decision on a comment or a proposed criterion: approve,
    or reject with a reason (kept, never shown publicly)."""
    decision = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)

    @validates("decision")
    def _decision(self, value, **kwargs):
        if value not in DECISIONS:
            raise ValidationError(say("cabinet.moderation.error.decision", self.lang))

    @validates("reason")
    def _reason(self, value, **kwargs):
        problem = text_problem(tidy(value), REASON_MAX, self.lang, required=False)
        if problem:
            raise ValidationError(problem)

    @validates_schema(skip_on_field_errors=True)
    def _reason_for_rejection(self, data, **kwargs):
        if data["decision"] == REJECT and not tidy(data.get("reason")):
            raise ValidationError({"reason": [say("cabinet.moderation.error.reason", self.lang)]})

    @post_load
    def _tidy(self, data, **kwargs):
        return {"decision": data["decision"], "reason": tidy(data.get("reason")) or None}


def load(schema_class, payload, lang):
    """``payload`` through the schema, or ApiError(400) naming every bad field."""
    if not isinstance(payload, dict):
        raise ApiError({"_schema": [say("cabinet.moderation.error.body", lang)]})
    try:
        return schema_class(lang=lang).load(payload)
    except ValidationError as error:
        raise ApiError(error.messages) from None


def has_comment(rating):
    return rating.comment is not None and rating.comment_status != Rating.COMMENT_NONE


def _fresh(rating):
    """The rating as stored now, inside the writer's transaction."""
    return Rating.get_by_id(rating.id)


def answer(user, rating, payload, lang="en"):
    """Sets (or replaces) the organization's answer to the rating's comment.
    It shows under the comment on the public page once the comment is."""
    text = load(AnswerSchema, payload, lang)["text"]
    with write_transaction():
        current = _fresh(rating)
        if not has_comment(current):
            raise ApiError({"state": [say("cabinet.ratings.error.no_comment", lang)]}, status=409)
        before = audit.snapshot(current, ("answer", "answered"))
        current.answer, current.answered = text, utcnow()
        Rating.update(answer=current.answer, answered=current.answered).where(Rating.id == current.id).execute()
        audit.record(user, ANSWERED, "rating", current.id, before, audit.snapshot(current, ("answer", "answered")))
    return current


def moderate(user, rating, payload, lang="en"):
    """Approves a pending comment (public from then on, where comments are
    moderated) or rejects it with a reason (kept, never shown)."""
    data = load(DecisionSchema, payload, lang)
    status = Rating.COMMENT_APPROVED if data["decision"] == APPROVE else Rating.COMMENT_REJECTED
    fields_kept = ("comment_status", "moderation_reason", "moderated")
    with write_transaction():
        current = _fresh(rating)
        before = audit.snapshot(current, fields_kept)
        now = utcnow()
        reason = data["reason"] if status == Rating.COMMENT_REJECTED else None
        changed = (Rating.update(comment_status=status, moderation_reason=reason, moderated=now)
                   .where((Rating.id == current.id) & (Rating.comment_status == Rating.COMMENT_PENDING)
                          & Rating.comment.is_null(False))
                   .execute())
        if not changed:
            raise ApiError({"state": [say("cabinet.moderation.error.not_pending", lang,
                                          status=say(f"cabinet.ratings.comment.{current.comment_status}", lang))]}, status=409)
        current.comment_status, current.moderation_reason, current.moderated = status, reason, now
        audit.record(user, MODERATED, "rating", current.id, before, audit.snapshot(current, fields_kept))
    return current


def pending():
    """The moderator's queue: pending comments, oldest first (read along
    the (comment_status, created) index)."""
    return (Rating.select()
            .where(Rating.comment_status == Rating.COMMENT_PENDING)
            .order_by(Rating.created, Rating.id))


def pending_count():
    return Rating.select().where(Rating.comment_status == Rating.COMMENT_PENDING).count()
