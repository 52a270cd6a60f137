"""The audit log: every change made in a cabinet, with who, when, what,
and the target's fields before and after. Written in the same transaction
as the change it describes, so that neither exists without the other."""
import datetime

from service.models import AuditEntry


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(instance, fields):
    """The named fields of a model instance as JSON-ready values (a
    foreign key as its id)."""
    result = {}
    for name in fields:
        field = instance._meta.fields.get(name)
        if field is not None and hasattr(field, "rel_model"):
            result[name] = getattr(instance, field.name + "_id", None)
        else:
            result[name] = _plain(getattr(instance, name))
    return result


def record(user, action, target_kind, target_id=None, before=None, after=None):
    """Writes one entry. ``before`` and ``after`` keep only the fields that
    differ when both are given, so that an entry says what changed."""
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        before = {k: before.get(k) for k in changed}
        after = {k: after.get(k) for k in changed}
    return AuditEntry.create(user=user.id if user is not None else None,
                             user_email=user.email if user is not None else "",
                             action=action, target_kind=target_kind, target_id=target_id,
                             before=_plain(before) if before is not None else None,
                             after=_plain(after) if after is not None else None)
