"""Changing the structure: organizations, subdivisions, their spheres and
services, publication, and local registries. Everything that changes what
counts toward whose figures keeps the roll-up in step, in the same
transaction."""
from service import ranking
from service.db import database
from service.models import (
    ObjectService, ObjectSphere, RatableObject, Registry, RegistryEntry, utcnow, valid_unp,
)


class StructureError(ValueError):
    pass


def _refresh_published(org):
    """An organization is public and ratable once its location and at
    least one sphere are filled in; its subdivisions follow it."""
    has_sphere = ObjectSphere.select().where(ObjectSphere.object == org.id).exists()
    published = org.location_filled() and has_sphere
    changed = published != org.published
    RatableObject.update(published=published).where(
        (RatableObject.id == org.id) | (RatableObject.organization == org.id)).execute()
    org.published = published
    if changed:
        ranking.Meta.bump(ranking.STRUCTURE)
    return published


def create_organization(*, name, unp, spheres=(), **fields):
    if not valid_unp(unp):
        raise StructureError(f"a registration number (УНП) is nine digits (was {unp!r})")
    if not (name or "").strip():
        raise StructureError("an organization needs a name")
    with database.atomic():
        org = RatableObject(kind=RatableObject.ORGANIZATION, name=name.strip(), unp=unp, **fields)
        org.save()
        if spheres:
            ObjectSphere.insert_many([(org.id, s.id if hasattr(s, "id") else s) for s in spheres],
                                     fields=[ObjectSphere.object, ObjectSphere.sphere]).execute()
        ranking.add_to_rollup(org)
        _refresh_published(org)
    return org


def update_organization(org, spheres=None, **fields):
    with database.atomic():
        for key, value in fields.items():
            setattr(org, key, value)
        org.save()
        if spheres is not None:
            ObjectSphere.delete().where(ObjectSphere.object == org.id).execute()
            if spheres:
                ObjectSphere.insert_many([(org.id, s.id if hasattr(s, "id") else s) for s in spheres],
                                         fields=[ObjectSphere.object, ObjectSphere.sphere]).execute()
        _refresh_published(org)
    return org


def add_subdivision(org, name, **fields):
    if not org.is_organization:
        raise StructureError("a subdivision belongs to an organization")
    if not (name or "").strip():
        raise StructureError("a subdivision needs a name")
    with database.atomic():
        sub = RatableObject(kind=RatableObject.SUBDIVISION, organization=org.id, name=name.strip(),
                            published=org.published, **fields)
        sub.save()
        ranking.add_to_rollup(sub)
    return sub


def offer_services(obj, services):
    ObjectService.insert_many([(obj.id, s.id if hasattr(s, "id") else s) for s in services],
                              fields=[ObjectService.object, ObjectService.service]).on_conflict_ignore().execute()


# -- registries ----------------------------------------------------------------

class RegistryStateError(StructureError):
    """An edit or a move that the registry's current state does not allow."""


class NotListable(StructureError):
    """Ids a registry cannot list: unknown, a subdivision, or the body itself."""

    def __init__(self, ids):
        self.ids = sorted(ids)
        super().__init__("not organizations a registry may list: " + ", ".join(map(str, self.ids)))


# The states in which a body may change what its registry lists.
EDITABLE = (Registry.DRAFT, Registry.RETURNED)
_CHUNK = 500  # ids per IN (...) list, well under every driver's limit


def _chunks(ids):
    ids = sorted(ids)
    return (ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK))


def _ids(organizations):
    return {o.id if hasattr(o, "id") else int(o) for o in organizations}


def create_registry(body, organizations=(), name=""):
    if not (body.is_organization and body.is_authorized_body):
        raise StructureError("only an authorized body keeps a registry")
    with database.atomic():
        registry = Registry.create(body=body.id, name=(name or "").strip())
        set_registry_entries(registry, organizations)
    return registry


def registry_members(registry):
    """The ids of the organizations a registry lists."""
    return {i for i, in RegistryEntry.select(RegistryEntry.organization)
            .where(RegistryEntry.registry == registry.id).tuples()}


def _check_listable(registry, ids):
    """Every id must be an existing organization other than the body; a
    body's own subdivisions already count toward it."""
    bad = {i for i in ids if not 0 < i < 2**63} | ({registry.body_id} & ids)
    wanted = ids - bad
    found = set()
    for chunk in _chunks(wanted):
        found.update(i for i, in RatableObject.select(RatableObject.id).where(
            RatableObject.id.in_(chunk) & (RatableObject.kind == RatableObject.ORGANIZATION)).tuples())
    bad |= wanted - found
    if bad:
        raise NotListable(bad)


def change_registry_entries(registry, add=(), remove=()):
    """Adds and removes entries of a draft or returned registry; returns
    ``(added, removed)``, the ids whose membership actually changed.
    Nothing is stored when one id is refused."""
    if registry.state not in EDITABLE:
        raise RegistryStateError(f"a {registry.state} registry cannot be edited; only a draft or a returned one")
    add, remove = _ids(add), _ids(remove)
    _check_listable(registry, add)
    with database.atomic():
        current = registry_members(registry)
        added, removed = add - current, (remove & current) - add
        for chunk in _chunks(removed):
            RegistryEntry.delete().where((RegistryEntry.registry == registry.id)
                                         & RegistryEntry.organization.in_(chunk)).execute()
        for chunk in _chunks(added):
            RegistryEntry.insert_many([(registry.id, i) for i in chunk],
                                      fields=[RegistryEntry.registry, RegistryEntry.organization]).execute()
        if added or removed:
            registry.updated = utcnow()
            registry.save(only=[Registry.updated])
    return added, removed


def set_registry_entries(registry, organizations):
    """Makes the registry list exactly ``organizations``; returns ``(added, removed)``."""
    wanted = _ids(organizations)
    if registry.state not in EDITABLE:
        raise RegistryStateError(f"a {registry.state} registry cannot be edited; only a draft or a returned one")
    current = registry_members(registry)
    return change_registry_entries(registry, add=wanted - current, remove=current - wanted)


def move_registry(registry, state, reason=None):
    """draft → approved (by the body) → submitted → accepted or returned
    (by the operator, with a reason); an approved, accepted or returned
    registry goes back to draft to be changed. Acceptance changes the
    roll-up, and so does leaving the accepted state."""
    if state not in Registry.TRANSITIONS.get(registry.state, ()):
        raise RegistryStateError(f"a registry cannot go from {registry.state} to {state}")
    if state == Registry.RETURNED and not (reason or "").strip():
        raise StructureError("a returned registry needs a reason")
    if state == Registry.APPROVED and not RegistryEntry.select().where(RegistryEntry.registry == registry.id).exists():
        raise RegistryStateError("an empty registry cannot be approved; add organizations first")
    affects_rollup = Registry.ACCEPTED in (state, registry.state)
    with database.atomic():
        if state == Registry.ACCEPTED:
            # A body has one registry in force: the newest accepted one.
            (Registry.update(state=Registry.DRAFT, updated=utcnow())
             .where((Registry.body == registry.body_id) & (Registry.state == Registry.ACCEPTED)
                    & (Registry.id != registry.id)).execute())
        registry.state = state
        registry.return_reason = reason.strip() if state == Registry.RETURNED else None
        registry.updated = utcnow()
        registry.save()
        if affects_rollup:
            ranking.rebuild_rollup()
    return registry


def superseded_by(registry):
    """The body's other accepted registries, which accepting ``registry``
    would move back to draft."""
    return list(Registry.select().where((Registry.body == registry.body_id) & (Registry.state == Registry.ACCEPTED)
                                        & (Registry.id != registry.id)))
