"""Reading the catalogue of ratable objects: search, lookups and the
shapes the API and pages show them in."""
from collections import defaultdict

from flask import current_app
from peewee import JOIN, SQL, NodeList, Value, fn

from service import published_count, search_index
from service.db import database
from service.errors import ApiError
from service.models import ObjectService, ObjectSphere, RatableObject, Region, Service, Sphere


def published_object(object_id):
    obj = RatableObject.get_or_none((RatableObject.id == object_id) & (RatableObject.published == True))
    if obj is None:
        raise ApiError({"object": ["no published object with this id"]}, status=404)
    return obj


def sphere_id(code):
    if not code:
        return None
    sphere = Sphere.get_or_none(Sphere.code == code)
    if sphere is None:
        raise ApiError({"sphere": [f"unknown sphere {code!r}"]})
    return sphere.id


def region_id(code):
    if not code:
        return None
    region = Region.get_or_none(Region.code == code)
    if region is None:
        raise ApiError({"region": [f"unknown region {code!r}"]})
    return region.id


def _contains(field, needle):
    # LIKE, not ILIKE: the stored names and the needle are both case-folded
    # already, and on case-folded text the two find the same rows, while
    # PostgreSQL's ILIKE lower-cases every candidate again (three times the
    # cost of a common word's 26,000 rechecks at ten times the real portal).
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # Spelled out: peewee would render its LIKE as GLOB on SQLite.
    return NodeList((field, SQL("LIKE"), Value(f"%{escaped}%", converter=False), SQL("ESCAPE"),
                     Value("\\", converter=False)))


def _narrows(q):
    """Whether the text is found through an index (a registration number's
    range, trigrams), so that few rows are left to test one by one."""
    return q.isdigit() or len(q.casefold()) >= search_index.SHORTEST


def search(q="", sphere=None, region=None):
    """Published objects whose name contains ``q`` or whose registration
    number starts with it; a subdivision matches through its organization's
    sphere and its own or its organization's region. Ordered by name in
    natural order, then id."""
    O = RatableObject
    Parent = RatableObject.alias("parent")
    query = (O.select(O).join(Parent, on=(Parent.id == O.organization), join_type=JOIN.LEFT_OUTER, attr="parent")
              .where(O.published == True))
    q = (q or "").strip()
    if q.isdigit():
        # A registration number is nine digits, so "starts with q" is a range
        # of its unique index; LIKE 'q%' is not, under a non-C collation.
        query = query.where(O.unp.between(q.ljust(9, "0"), q.ljust(9, "9")) | (O.id == int(q)) if len(q) < 10
                            else (O.unp == q))
    elif q:
        needle = q.casefold()
        query = query.where(_contains(O.search_name, needle))
        if len(needle) >= search_index.SHORTEST and search_index.present(database):
            query = query.where(O.id.in_(search_index.matching_ids(needle)))
    if region is not None:
        query = query.where((O.region == region) | ((O.region.is_null()) & (Parent.region == region)))
    if sphere is not None:
        if q and _narrows(q):
            # Few candidates: look each one's sphere up (two index probes)
            # rather than gather the sphere's tens of thousands of members.
            link = ObjectSphere.alias("link")
            query = query.where(fn.EXISTS(link.select(SQL("1")).where(
                (link.sphere == sphere) & link.object.in_([O.id, O.organization]))))
        else:
            in_sphere = ObjectSphere.select(ObjectSphere.object).where(ObjectSphere.sphere == sphere)
            query = query.where(O.id.in_(in_sphere) | O.organization.in_(in_sphere))
    if q and not q.isdigit():
        # With a text to find, a database may walk the names in order and
        # test each (the order is indexed): the slowest plan when the
        # matches sit late in the alphabet ("УЗ …"). Ordering by an
        # expression no index holds makes it find the matches first through
        # the trigram index and sort only those.
        return query.order_by(O.sort_name.concat(""), O.id)
    return query.order_by(O.sort_name, O.id)


def listing(q="", sphere=None, region=None, page=1, per_page=20):
    """One page of ``search`` and the number of objects it finds in all."""
    query = search(q, sphere, region)
    if not (q or "").strip():
        # The page is a walk of the ordered index; the count, without a
        # filter, is kept by the database, and with one, it is the filter's.
        total = published_count.read(database) if sphere is None and region is None else None
        return list(query.paginate(page, per_page)), query.count() if total is None else total
    # With a text, finding the matches is the cost (reading each candidate
    # row to test it), so the page and the count come from one pass: the
    # page's ids with the count of all beside them.
    O = RatableObject
    rows = list(query.select(O.id, fn.COUNT(SQL("*")).over().alias("total")).paginate(page, per_page).tuples())
    if not rows:
        return [], (query.count() if page > 1 else 0)
    by_id = {obj.id: obj for obj in O.select().where(O.id.in_([object_id for object_id, _ in rows]))}
    return [by_id[object_id] for object_id, _ in rows], rows[0][1]


def names(ids):
    if not ids:
        return {}
    return dict(RatableObject.select(RatableObject.id, RatableObject.name).where(RatableObject.id.in_(ids)).tuples())


def _spheres_of(org_ids):
    result = defaultdict(list)
    if org_ids:
        rows = (ObjectSphere.select(ObjectSphere.object, Sphere.code).join(Sphere)
                .where(ObjectSphere.object.in_(list(org_ids))).order_by(Sphere.code).tuples())
        for object_id, code in rows:
            result[object_id].append(code)
    return result


def object_url(object_id):
    return f"{current_app.config['BASE_URL']}/r/{object_id}"


def summaries(objects, lang="ru"):
    """The short form of each object, with three queries for the whole
    list (two when every object is an organization)."""
    return _summarized(objects)[0]


def _summarized(objects):
    """``summaries``, and the organizations and regions they were made
    from, by id, for a caller that shows more of them."""
    org_ids = {o.organization_id_or_self for o in objects}
    spheres = _spheres_of(org_ids)
    parents = {o.id: o for o in objects if o.is_organization}
    missing = org_ids.difference(parents)
    if missing:
        parents.update((o.id, o) for o in RatableObject.select().where(RatableObject.id.in_(list(missing))))
    regions_of = {}
    for obj in objects:
        org = parents.get(obj.organization_id_or_self)
        regions_of[obj.id] = obj.region_id or (org.region_id if org else None)
    wanted = {r for r in regions_of.values() if r is not None}
    regions = {r.id: r for r in Region.select().where(Region.id.in_(list(wanted)))} if wanted else {}
    items = []
    for obj in objects:
        org = parents.get(obj.organization_id_or_self)
        region = regions.get(regions_of[obj.id])
        items.append({
            "id": obj.id,
            "name": obj.name,
            "kind": obj.kind,
            "organization": None if obj.is_organization else {"id": org.id, "name": org.name},
            "spheres": spheres.get(obj.organization_id_or_self, []),
            "region": region.code if region else None,
            "url": object_url(obj.id),
        })
    return items, parents, regions


def details(obj, lang="ru"):
    (body,), parents, regions = _summarized([obj])
    org = parents[obj.organization_id_or_self]
    region = regions.get(obj.region_id or org.region_id)
    body.update({
        "short_name": obj.short_name,
        "unp": org.unp,
        "location": {
            "region": region.name(lang) if region else None,
            "district": obj.district or org.district,
            "locality": obj.locality or org.locality,
            "address": obj.address or org.address,
        },
        "website": org.website,
        "is_authorized_body": bool(obj.is_organization and obj.is_authorized_body),
        "subdivisions": subdivision_choices(obj),
        "services": service_choices(obj, lang),
    })
    return body


def subdivision_choices(obj):
    org_id = obj.organization_id_or_self
    return [{"id": s.id, "name": s.name} for s in RatableObject.select(RatableObject.id, RatableObject.name)
            .where((RatableObject.organization == org_id) & (RatableObject.published == True))
            .order_by(RatableObject.name, RatableObject.id)]


def service_choices(obj, lang="ru"):
    owners = {obj.id, obj.organization_id_or_self}
    services = (Service.select().join(ObjectService)
                .where(ObjectService.object.in_(list(owners))).distinct().order_by(Service.id))
    return [{"id": s.id, "code": s.code, "name": s.name(lang)} for s in services]
