"""marshmallow schemas: what the API accepts and how it names refusals."""
import re
import uuid

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from service.codes import MAX_TEXT as MAX_CODE_TEXT
from service.models import BASE_CRITERIA, CHANNELS
from service.questionnaire import COMMENT_MAX, REASONS, SCALE_MAX, SCALE_MIN

# Any control character but newline and tab (C0, DEL and C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# The widest integer either database stores (a signed 64-bit column); a
# larger one would fail in the driver instead of being refused.
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


class StrictInteger(fields.Integer):
    """An integer given as a JSON number: no strings, fractions or booleans,
    and never beyond 64 bits."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be a whole number")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValidationError("is out of range")
        return super()._deserialize(value, attr, data, **kwargs)


def Id(**kwargs):  # noqa: N802 - a field factory, read like a field class
    """An object's id: a whole number from 1 to 2**63 - 1."""
    return StrictInteger(validate=validate.Range(min=1, max=INT64_MAX), **kwargs)


class ScoresField(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("must be an object with the four base criteria")
        problems = []
        missing = [c for c in BASE_CRITERIA if c not in value]
        unknown = sorted(set(value) - set(BASE_CRITERIA))
        if missing:
            problems.append("missing: " + ", ".join(missing))
        if unknown:
            problems.append("unknown criteria: " + ", ".join(map(str, unknown)))
        for criterion in BASE_CRITERIA:
            score = value.get(criterion)
            if criterion in value and (isinstance(score, bool) or not isinstance(score, int)
                                       or not SCALE_MIN <= score <= SCALE_MAX):
                problems.append(f"{criterion} must be a whole number from {SCALE_MIN} to {SCALE_MAX}")
        if problems:
            raise ValidationError(problems)
        return {c: value[c] for c in BASE_CRITERIA}


class RatingSchema(Schema):
    class Meta:
        unknown = RAISE

    object = Id(required=True)
    service = Id(load_default=None, allow_none=True)
    scores = ScoresField(required=True)
    extra = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), values=StrictInteger(),
                        load_default=dict)
    reasons = fields.List(fields.String(validate=validate.OneOf(sorted(REASONS), error="unknown reason")),
                          load_default=list, validate=validate.Length(max=len(REASONS)))
    comment = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default="api", validate=validate.OneOf(CHANNELS))
    client_token = fields.String(required=True)
    # The widget's random per-device token: one of the anti-abuse signals,
    # stored only inside a salted hash.
    device_token = fields.String(load_default="", validate=validate.Length(max=64))
    # A single-use code of the organization (proof of service). Any text
    # that fits is taken: a forged or used code leaves the rating unverified
    # instead of refusing it.
    code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_CODE_TEXT))

    @validates("comment")
    def _comment(self, value, **kwargs):
        if value is None:
            return
        if len(value) > COMMENT_MAX:
            raise ValidationError(f"at most {COMMENT_MAX} characters (was {len(value)})")
        if _CONTROL.search(value):
            raise ValidationError("must not contain control characters")

    @validates("client_token")
    def _token(self, value, **kwargs):
        try:
            uuid.UUID(value)
        except (ValueError, AttributeError, TypeError):
            raise ValidationError("must be a UUID") from None
        if len(value) != 36:
            raise ValidationError("must be a UUID in its 36-character form")

    @validates_schema
    def _reasons_match_scores(self, data, **kwargs):
        scores = data.get("scores")
        if not scores:
            return
        wrong = [r for r in data.get("reasons", []) if r in REASONS and scores[REASONS[r]] != SCALE_MIN]
        if wrong:
            raise ValidationError({"reasons": [f"{r} explains a minimum score of {REASONS[r]}, which was not given"
                                               for r in wrong]})


def normalize_comment(comment):
    """Trims a comment; an empty one is no comment."""
    if comment is None:
        return None
    comment = comment.strip().replace("\r\n", "\n")
    return comment or None


rating_schema = RatingSchema()


class ListQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200))
    sphere = fields.String(load_default=None, validate=validate.Length(max=32))
    region = fields.String(load_default=None, validate=validate.Length(max=32))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    lang = fields.String(load_default=None)


class RankingQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="all")
    sphere = fields.String(load_default=None, validate=validate.Length(max=32))
    region = fields.String(load_default=None, validate=validate.Length(max=32))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=50_000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    lang = fields.String(load_default=None)


list_query_schema = ListQuerySchema()
ranking_query_schema = RankingQuerySchema()
