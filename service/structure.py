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

def create_registry(body, organizations=()):
    if not (body.is_organization and body.is_authorized_body):
        raise StructureError("only an authorized body keeps a registry")
    with database.atomic():
        registry = Registry.create(body=body.id)
        set_registry_entries(registry, organizations)
    return registry


def set_registry_entries(registry, organizations):
    if registry.state not in (Registry.DRAFT, Registry.RETURNED):
        raise StructureError("only a draft registry can be edited")
    ids = {o.id if hasattr(o, "id") else o for o in organizations}
    if registry.body_id in ids:
        raise StructureError("a body cannot list itself in its registry")
    with database.atomic():
        RegistryEntry.delete().where(RegistryEntry.registry == registry.id).execute()
        if ids:
            RegistryEntry.insert_many([(registry.id, i) for i in sorted(ids)],
                                      fields=[RegistryEntry.registry, RegistryEntry.organization]).execute()


def move_registry(registry, state, reason=None):
    """draft → approved (by the body) → submitted → accepted or returned
    (by the operator, with a reason); an accepted or returned registry goes
    back to draft to be changed. Acceptance changes the roll-up."""
    if state not in Registry.TRANSITIONS.get(registry.state, ()):
        raise StructureError(f"a registry cannot go from {registry.state} to {state}")
    if state == Registry.RETURNED and not (reason or "").strip():
        raise StructureError("a returned registry needs a reason")
    affects_rollup = Registry.ACCEPTED in (state, registry.state)
    with database.atomic():
        if state == Registry.ACCEPTED:
            # A body has one registry in force: the newest accepted one.
            (Registry.update(state=Registry.DRAFT, updated=utcnow())
             .where((Registry.body == registry.body_id) & (Registry.state == Registry.ACCEPTED)
                    & (Registry.id != registry.id)).execute())
        registry.state = state
        registry.return_reason = reason if state == Registry.RETURNED else None
        registry.updated = utcnow()
        registry.save()
        if affects_rollup:
            ranking.rebuild_rollup()
    return registry
