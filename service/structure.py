"""Changing the structure: organizations, subdivisions, their spheres and
services, publication, and local registries. Everything that changes what
counts toward whose figures keeps the roll-up in step, in the same
transaction."""
from service import ranking
from service.db import bulk_insert, database, is_sqlite
from service.models import (
    Meta, ObjectService, ObjectSphere, RatableObject, Rating, Registry, RegistryEntry, RollupMember, Service,
    sort_key, utcnow, valid_unp,
)


class StructureError(ValueError):
    pass


# What publication needs, in the order a profile form asks for it.
PUBLICATION_NEEDS = ("region", "locality", "address", "spheres")


def publication_missing(org, has_sphere):
    """The parts of PUBLICATION_NEEDS an organization still lacks (empty
    once it can be published)."""
    return [need for need, filled in (("region", bool(org.region_id)),
                                      ("locality", bool((org.locality or "").strip())),
                                      ("address", bool((org.address or "").strip())),
                                      ("spheres", has_sphere)) if not filled]


def _refresh_published(org):
    """An organization is public and ratable once its location and at
    least one sphere are filled in; its subdivisions follow it."""
    has_sphere = ObjectSphere.select().where(ObjectSphere.object == org.id).exists()
    published = not publication_missing(org, has_sphere)
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


def update_subdivision(sub, **fields):
    if sub.is_organization:
        raise StructureError("not a subdivision")
    if "name" in fields and not (fields["name"] or "").strip():
        raise StructureError("a subdivision needs a name")
    with database.atomic():
        for key, value in fields.items():
            setattr(sub, key, value.strip() if key == "name" else value)
        sub.save()
    return sub


def removable(sub):
    """A subdivision can go only while nothing refers to it: ratings are
    kept forever, and a service names the body responsible for it."""
    return not (Rating.select().where(Rating.object == sub.id).exists()
                or Service.select().where(Service.responsible == sub.id).exists())


def remove_subdivision(sub):
    if sub.is_organization:
        raise StructureError("not a subdivision")
    if not removable(sub):
        raise StructureError("a subdivision with ratings cannot be removed")
    with database.atomic():
        # Its roll-up rows, services and criteria go with it (ON DELETE CASCADE).
        RatableObject.delete().where(RatableObject.id == sub.id).execute()
        Meta.bump(ranking.STRUCTURE)


def offer_services(obj, services):
    ObjectService.insert_many([(obj.id, s.id if hasattr(s, "id") else s) for s in services],
                              fields=[ObjectService.object, ObjectService.service]).on_conflict_ignore().execute()


def set_services(obj, services):
    """The services an organization gives are exactly ``services`` (its
    subdivisions offer them too)."""
    ids = {s.id if hasattr(s, "id") else s for s in services}
    with database.atomic():
        stale = ObjectService.delete().where(ObjectService.object == obj.id)
        if ids:
            stale = stale.where(ObjectService.service.not_in(sorted(ids)))
        stale.execute()
        if ids:
            offer_services(obj, sorted(ids))


# -- many organizations at once ------------------------------------------------------

_ORGANIZATION_COLUMNS = ("kind", "name", "search_name", "sort_name", "short_name", "unp", "region", "district",
                         "locality", "address", "website", "contacts", "is_evaluation_object", "is_authorized_body",
                         "parent_body", "published", "created")
_UNPS_PER_QUERY = 5000  # well under SQLite's limit of bound variables


def ids_by_unp(unps):
    """{УНП: id} of the organizations registered under any of ``unps``."""
    unps, found = list(unps), {}
    for start in range(0, len(unps), _UNPS_PER_QUERY):
        found.update(RatableObject.select(RatableObject.unp, RatableObject.id)
                     .where(RatableObject.unp.in_(unps[start:start + _UNPS_PER_QUERY])).tuples())
    return found


def register_many(organizations):
    """Registers many organizations in one transaction, in bulk: a row per
    table per organization instead of a round of queries each, so that the
    whole of a real portal (13,500) goes in seconds. Each item is a dict
    of ``create_organization``'s arguments (``region`` and ``parent_body``
    as ids, ``spheres`` a list of ids) and may name its parent body by
    ``parent_body_unp`` instead, one registered before or in the same batch.
    Publication and roll-up come out as one by one: published when the
    location and a sphere are filled in; each new organization counts
    toward itself (none is in any registry yet). Returns the new ids in
    order. The caller validates; a broken row raises and nothing stays."""
    now = utcnow()
    rows = []
    for item in organizations:
        if not valid_unp(item.get("unp")):
            raise StructureError(f"a registration number (УНП) is nine digits (was {item.get('unp')!r})")
        name = (item.get("name") or "").strip()
        if not name:
            raise StructureError("an organization needs a name")
        probe = RatableObject(region=item.get("region"), locality=item.get("locality"), address=item.get("address"))
        published = not publication_missing(probe, bool(item.get("spheres")))
        rows.append((RatableObject.ORGANIZATION, name, name.casefold(), sort_key(name), item.get("short_name"), item["unp"],
                     item.get("region"), item.get("district"), item.get("locality"), item.get("address"),
                     item.get("website"), item.get("contacts"), item.get("is_evaluation_object", True),
                     item.get("is_authorized_body", False), item.get("parent_body"), published, now))
    with database.atomic():
        bulk_insert(RatableObject, [RatableObject._meta.fields[c] for c in _ORGANIZATION_COLUMNS], rows)
        wanted = [item["unp"] for item in organizations]
        wanted += [item["parent_body_unp"] for item in organizations if item.get("parent_body_unp")]
        id_of = ids_by_unp(wanted)
        ids = [id_of[item["unp"]] for item in organizations]
        bulk_insert(ObjectSphere, [ObjectSphere.object, ObjectSphere.sphere],
                    ((org_id, sphere) for org_id, item in zip(ids, organizations)
                     for sphere in dict.fromkeys(item.get("spheres") or ())))
        bulk_insert(RollupMember, [RollupMember.organization, RollupMember.object], ((i, i) for i in ids))
        parents = [(id_of[item["parent_body_unp"]], org_id) for org_id, item in zip(ids, organizations)
                   if item.get("parent_body_unp")]
        if parents:
            placeholder = "?" if is_sqlite() else "%s"
            database.cursor().executemany(
                f'UPDATE "ratable_object" SET "parent_body_id" = {placeholder} WHERE "id" = {placeholder}', parents)
        Meta.bump(ranking.STRUCTURE)
    return ids


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
        # Touching the row first, on the condition that it is still
        # editable, holds off a concurrent move until this edit commits.
        now = utcnow()
        if not Registry.update(updated=now).where((Registry.id == registry.id)
                                                  & Registry.state.in_(EDITABLE)).execute():
            raise RegistryStateError("the registry was moved meanwhile; only a draft or a returned one can be edited")
        registry.updated = now
        current = registry_members(registry)
        added, removed = add - current, (remove & current) - add
        for chunk in _chunks(removed):
            RegistryEntry.delete().where((RegistryEntry.registry == registry.id)
                                         & RegistryEntry.organization.in_(chunk)).execute()
        for chunk in _chunks(added):
            RegistryEntry.insert_many([(registry.id, i) for i in chunk],
                                      fields=[RegistryEntry.registry, RegistryEntry.organization]).execute()
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
        # On the condition that nobody moved it meanwhile (two clicks, two operators).
        changes = dict(state=state, return_reason=reason.strip() if state == Registry.RETURNED else None,
                       updated=utcnow())
        if not Registry.update(**changes).where((Registry.id == registry.id)
                                                & (Registry.state == registry.state)).execute():
            raise RegistryStateError(f"the registry was moved meanwhile; it is no longer {registry.state}")
        for key, value in changes.items():
            setattr(registry, key, value)
        if affects_rollup:
            ranking.rebuild_rollup()
    return registry


def superseded_by(registry):
    """The body's other accepted registries, which accepting ``registry``
    would move back to draft."""
    return list(Registry.select().where((Registry.body == registry.body_id) & (Registry.state == Registry.ACCEPTED)
                                        & (Registry.id != registry.id)))
