"""Who may do what, and where: the one place every cabinet page and every
cabinet API endpoint asks.

A rule gives each role a scope for an action:
* ``ANY``: everywhere (or, for actions with no object, simply allowed);
* ``OWN``: the user's organization and its subdivisions (for users: the
  staff of that organization; for registries: the body's own);
* ``REGISTRY``: every object an authorized body's accepted registries
  reach, transitively, and the body itself with its subdivisions (exactly
  what its figures roll up, ``RollupMember``).
A role absent from a rule may not take the action at all.
"""
from flask import abort

from service.models import (
    CodeIssue, ExtraCriterion, Notification, RatableObject, Rating, Registry, RollupMember, User,
)

ANY, OWN, REGISTRY = "any", "own", "registry"
OPERATOR, MODERATOR, BODY, STAFF = User.OPERATOR, User.MODERATOR, User.BODY, User.STAFF

REGISTER_ORGANIZATIONS = "register_organizations"
EDIT_ORGANIZATION = "edit_organization"
MANAGE_USERS = "manage_users"
KEEP_REGISTRIES = "keep_registries"
DECIDE_REGISTRIES = "decide_registries"
READ_RATINGS = "read_ratings"
SEE_RESULTS = "see_results"
ANSWER_COMMENT = "answer_comment"
MODERATE_COMMENT = "moderate_comment"
PROPOSE_CRITERION = "propose_criterion"
DECIDE_CRITERION = "decide_criterion"
SEND_LOW_SCORE = "send_low_score"
SEND_RECOMMENDATION = "send_recommendation"
MOVE_NOTIFICATION = "move_notification"
REPORTS = "reports"
READ_AUDIT = "read_audit"
PRINT_CODES = "print_codes"
DECIDE_HELD = "decide_held"

# The table of SPEC's "Cabinets: the back office", row for row.
RULES = {
    REGISTER_ORGANIZATIONS: {OPERATOR: ANY},
    EDIT_ORGANIZATION: {OPERATOR: ANY, STAFF: OWN},
    MANAGE_USERS: {OPERATOR: ANY, STAFF: OWN},
    KEEP_REGISTRIES: {BODY: OWN},
    DECIDE_REGISTRIES: {OPERATOR: ANY},
    READ_RATINGS: {OPERATOR: ANY, MODERATOR: ANY, BODY: REGISTRY, STAFF: OWN},
    SEE_RESULTS: {OPERATOR: ANY, MODERATOR: ANY, BODY: REGISTRY, STAFF: OWN},
    ANSWER_COMMENT: {STAFF: OWN},
    MODERATE_COMMENT: {MODERATOR: ANY},
    PROPOSE_CRITERION: {BODY: REGISTRY, STAFF: OWN},
    DECIDE_CRITERION: {MODERATOR: ANY},
    SEND_LOW_SCORE: {MODERATOR: ANY},
    SEND_RECOMMENDATION: {BODY: REGISTRY},
    MOVE_NOTIFICATION: {STAFF: OWN},
    REPORTS: {OPERATOR: ANY, MODERATOR: ANY, BODY: REGISTRY, STAFF: OWN},
    READ_AUDIT: {OPERATOR: ANY},
    # SPEC "Trust", proof of service: an organization prints single-use
    # codes for its own objects (the operator for any, to help).
    PRINT_CODES: {OPERATOR: ANY, STAFF: OWN},
    # SPEC "Trust", held ratings: the moderator releases or rejects them.
    DECIDE_HELD: {MODERATOR: ANY, OPERATOR: ANY},
}


def scope_of(user, action):
    """The user's scope for ``action``, or None when the role may not take it."""
    if user is None or not user.active:
        return None
    if action not in RULES:
        raise KeyError(f"no permission rule for {action!r}")
    return RULES[action].get(user.role)


def _object_of(target):
    """The ratable object (or, for users and registries, the organization)
    whose place decides whether a target is in scope."""
    if isinstance(target, RatableObject):
        return target.id, target.organization_id_or_self
    if isinstance(target, (Rating, CodeIssue)):
        obj = target.object
        return obj.id, obj.organization_id_or_self
    if isinstance(target, ExtraCriterion):
        return target.owner_id, target.owner.organization_id_or_self
    if isinstance(target, Notification):
        return target.organization_id, target.organization_id
    if isinstance(target, Registry):
        return target.body_id, target.body_id
    if isinstance(target, User):
        return target.organization_id, target.organization_id
    raise TypeError(f"no scope for a {type(target).__name__}")


def in_scope(user, scope, target):
    if scope is None:
        return False
    if scope == ANY or target is None:
        return True
    if user.organization_id is None:
        return False
    object_id, organization_id = _object_of(target)
    if object_id is None:
        return False
    if scope == OWN:
        if isinstance(target, User) and target.role != STAFF:
            return False
        return organization_id == user.organization_id
    if scope == REGISTRY:
        return (RollupMember.select()
                .where((RollupMember.organization == user.organization_id) & (RollupMember.object == object_id))
                .exists())
    return False


def allowed(user, action, target=None):
    """Whether ``user`` may take ``action`` on ``target`` (None for actions
    without one, such as registering organizations or reading a queue)."""
    return in_scope(user, scope_of(user, action), target)


def require(user, action, target=None):
    """Stops the request with 401 when nobody is signed in and 403 when the
    role or the scope does not allow the action."""
    if user is None:
        abort(401)
    if not allowed(user, action, target):
        abort(403)


def readable_objects(user, action=READ_RATINGS):
    """The ids of the objects the user's scope covers for ``action``, as a
    subquery, or None for everywhere (the operator and moderators). An
    empty scope is an empty subquery, never None."""
    scope = scope_of(user, action)
    if scope == ANY:
        return None
    org = user.organization_id if user is not None else None
    if scope == OWN and org is not None:
        return RatableObject.select(RatableObject.id).where(
            (RatableObject.id == org) | (RatableObject.organization == org))
    if scope == REGISTRY and org is not None:
        return RollupMember.select(RollupMember.object).where(RollupMember.organization == org)
    return RatableObject.select(RatableObject.id).where(RatableObject.id.is_null())
