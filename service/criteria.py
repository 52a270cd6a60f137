"""Extra criteria: an organization's staff or an authorized body proposes
a criterion of its own with its scale; the moderator approves or rejects
it. Only approved criteria reach the rating forms
(``questionnaire.extra_criteria_for``), and none counts in the ranking.

A criterion belongs to an organization: the questionnaire finds criteria
through the roll-up (``RollupMember``), whose owners are organizations. So
one proposed for an organization covers its subdivisions, and one
proposed by a body for itself covers everything its accepted registry
reaches. A subdivision cannot own one.

The pages and the JSON API both call these functions (validation, change,
audit); the views ask ``permissions`` first.
"""
import re

from marshmallow import ValidationError, fields, post_load, validates, validates_schema
from peewee import JOIN, IntegrityError

from service import comments
from service.cabinet import audit
from service.comments import APPROVE, DecisionSchema, LocalizedSchema, say, tidy
from service.db import database, write_transaction
from service.errors import ApiError
from service.models import LANGUAGES, ExtraCriterion, User

CODE = re.compile(r"^[a-z0-9_]{1,64}$")
LABEL_MAX = 200
SCALE_LOWEST, SCALE_HIGHEST = 1, 10
DEFAULT_SCALE = (1, 5)  # the base criteria's scale, when a proposal names none

PROPOSED, DECIDED = "criterion.proposal", "criterion.decision"
FIELDS = ("owner", "code", "labels", "scale_min", "scale_max", "state", "decision_reason", "proposed_by")


class ProposalSchema(LocalizedSchema):
    code = fields.String(required=True)
    labels = fields.Dict(required=True)
    # Checked below rather than typed, so that a refusal speaks the form's language.
    scale_min = fields.Raw(load_default=DEFAULT_SCALE[0])
    scale_max = fields.Raw(load_default=DEFAULT_SCALE[1])

    @validates("code")
    def _code(self, value, **kwargs):
        if not CODE.match(value):
            raise ValidationError(say("cabinet.criteria.error.code", self.lang))

    @validates("labels")
    def _labels(self, value, **kwargs):
        problems = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                problems[str(lang)] = [say("cabinet.criteria.error.language", self.lang, languages=", ".join(LANGUAGES))]
            elif not isinstance(text, str):
                problems[lang] = [say("cabinet.criteria.error.label_text", self.lang)]
            else:
                clean = tidy(text)
                problem = comments.text_problem(clean, LABEL_MAX, self.lang, required=False)
                if problem is None and ("\n" in clean or "\t" in clean):
                    problem = say("cabinet.criteria.error.one_line", self.lang)
                if problem:
                    problems[lang] = [problem]
        russian = value.get("ru")
        if "ru" not in problems and not (isinstance(russian, str) and tidy(russian)):
            problems["ru"] = [say("cabinet.criteria.error.russian", self.lang)]
        if problems:
            raise ValidationError(problems)

    @validates("scale_min")
    def _scale_min(self, value, **kwargs):
        self._scale_bound(value)

    @validates("scale_max")
    def _scale_max(self, value, **kwargs):
        self._scale_bound(value)

    def _scale_bound(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or not SCALE_LOWEST <= value <= SCALE_HIGHEST:
            raise ValidationError(say("cabinet.criteria.error.scale_bound", self.lang,
                                      low=SCALE_LOWEST, high=SCALE_HIGHEST))

    @validates_schema(skip_on_field_errors=True)
    def _scale(self, data, **kwargs):
        if data["scale_min"] >= data["scale_max"]:
            raise ValidationError({"scale_max": [say("cabinet.criteria.error.scale_order", self.lang)]})

    @post_load
    def _tidy(self, data, **kwargs):
        labels = {lang: tidy(data["labels"].get(lang)) for lang in LANGUAGES}
        return {**data, "labels": {lang: text for lang, text in labels.items() if text}}


def propose(user, obj, payload, lang="en"):
    """Proposes a criterion for organization ``obj``; it waits for the
    moderator. A code is unique per organization, rejected ones included
    (their answers and history keep it)."""
    if not obj.is_organization:
        raise ApiError({"object": [say("cabinet.criteria.error.subdivision", lang,
                                       organization=obj.organization_id)]})
    data = comments.load(ProposalSchema, payload, lang)
    taken = ApiError({"code": [say("cabinet.criteria.error.taken", lang)]}, status=409)
    with write_transaction():
        if ExtraCriterion.select().where((ExtraCriterion.owner == obj.id)
                                         & (ExtraCriterion.code == data["code"])).exists():
            raise taken
        try:
            with database.atomic():  # a savepoint: a racing twin fails alone
                criterion = ExtraCriterion.create(owner=obj.id, proposed_by=user.id, state=ExtraCriterion.PROPOSED,
                                                  **data)
        except IntegrityError:
            raise taken from None
        audit.record(user, PROPOSED, "criterion", criterion.id, None, audit.snapshot(criterion, FIELDS))
    return criterion


def decide(user, criterion, payload, lang="en"):
    """Approves a proposed criterion (the forms show it from then on) or
    rejects it with a reason the proposers see."""
    data = comments.load(DecisionSchema, payload, lang)
    state = ExtraCriterion.APPROVED if data["decision"] == APPROVE else ExtraCriterion.REJECTED
    with write_transaction():
        current = ExtraCriterion.get_by_id(criterion.id)
        before = audit.snapshot(current, FIELDS)
        changed = (ExtraCriterion.update(state=state, decision_reason=data["reason"])
                   .where((ExtraCriterion.id == current.id) & (ExtraCriterion.state == ExtraCriterion.PROPOSED))
                   .execute())
        if not changed:
            raise ApiError({"state": [say("cabinet.criteria.error.not_proposed", lang,
                                          state=say(f"cabinet.criteria.state.{current.state}", lang))]}, status=409)
        current.state, current.decision_reason = state, data["reason"]
        audit.record(user, DECIDED, "criterion", current.id, before, audit.snapshot(current, FIELDS))
    return current


def with_proposer():
    return (ExtraCriterion.select(ExtraCriterion, User.email)
            .join(User, on=(User.id == ExtraCriterion.proposed_by), join_type=JOIN.LEFT_OUTER, attr="proposer"))


def queue():
    """The moderator's queue: proposed criteria, oldest first (along the
    (state, created) index)."""
    return (with_proposer().where(ExtraCriterion.state == ExtraCriterion.PROPOSED)
            .order_by(ExtraCriterion.created, ExtraCriterion.id))


def proposals_of(organization_id):
    """What an organization's people see: the criteria it owns (whoever
    proposed them) and those its people proposed for others (a body for an
    organization of its registry), newest first, in every state."""
    colleagues = User.select(User.id).where(User.organization == organization_id)
    return (with_proposer()
            .where((ExtraCriterion.owner == organization_id) | ExtraCriterion.proposed_by.in_(colleagues))
            .order_by(ExtraCriterion.created.desc(), ExtraCriterion.id.desc()))


def as_json(criterion):
    proposer = getattr(criterion, "proposer", None)
    return {"id": criterion.id, "owner": criterion.owner_id, "code": criterion.code, "labels": criterion.labels,
            "scale_min": criterion.scale_min, "scale_max": criterion.scale_max, "state": criterion.state,
            "reason": criterion.decision_reason,
            "proposed_by": proposer.email if proposer is not None and proposer.email else None,
            "created": criterion.created.isoformat(timespec="seconds") + "Z"}
