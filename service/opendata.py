"""Open data about the structure: ``/opendata/objects.csv``, every published
evaluation object with its organization, spheres, region and roll-up.

Together with the ledger (``/opendata/ledger.jsonl``, service/ledger_web.py)
it holds everything needed to recompute every published figure and every
ranking: the ledger says which object each rating is for, this file says
which figures and which groups that object counts in. docs/auditing.md
describes the columns and tools/verify_ocenka.py reads them.
"""
import csv
import io
from collections import defaultdict

from flask import Blueprint, Response, stream_with_context

from service.models import ObjectSphere, RatableObject, Region, Registry, RegistryEntry, RollupMember, Sphere
from service.pages import spreadsheet_safe

bp = Blueprint("opendata", __name__)

# The file's columns, in order; docs/auditing.md explains each.
COLUMNS = ("id", "kind", "organization_id", "name", "unp", "published", "evaluation_object", "authorized_body",
           "spheres", "region", "district", "locality", "in_registries_of", "counted_in")
_PAGE = 5000


def _ids(values):
    return " ".join(str(v) for v in sorted(values))


def _listed_ids():
    """Every published object, and every unpublished one whose ratings
    count in a published organization's figures (an organization withdrawn
    from publication after it was rated, in a body's accepted registry):
    without it those figures could not be recomputed."""
    O = RatableObject
    published = {i for i, in O.select(O.id).where(O.published == True).tuples()}
    Org = RatableObject.alias("org")
    counted = (RollupMember.select(RollupMember.object).join(Org, on=(Org.id == RollupMember.organization))
               .where(Org.published == True).distinct().tuples())
    return sorted(published | {i for i, in counted})


def _structure():
    """Spheres of each organization, region codes, the bodies whose accepted
    registries list each organization, and the published organizations
    each object counts in: a few whole-table reads, kept while streaming."""
    spheres = defaultdict(list)
    for object_id, code in (ObjectSphere.select(ObjectSphere.object, Sphere.code).join(Sphere)
                            .order_by(Sphere.code).tuples()):
        spheres[object_id].append(code)
    regions = dict(Region.select(Region.id, Region.code).tuples())
    registries = defaultdict(set)
    for body_id, organization_id in (RegistryEntry.select(Registry.body, RegistryEntry.organization)
                                     .join(Registry).where(Registry.state == Registry.ACCEPTED).tuples()):
        registries[organization_id].add(body_id)
    Org = RatableObject.alias("org")
    counted_in = defaultdict(set)
    for object_id, organization_id in (RollupMember.select(RollupMember.object, RollupMember.organization)
                                       .join(Org, on=(Org.id == RollupMember.organization))
                                       .where(Org.published == True).tuples().iterator()):
        counted_in[object_id].add(organization_id)
    return spheres, regions, registries, counted_in


def object_rows():
    """The CSV's rows (without the header), a page of objects at a time."""
    spheres, regions, registries, counted_in = _structure()
    ids = _listed_ids()
    O = RatableObject
    columns = (O.id, O.kind, O.organization, O.name, O.unp, O.published, O.is_evaluation_object,
               O.is_authorized_body, O.region, O.district, O.locality)
    parents = {}
    for start in range(0, len(ids), _PAGE):
        page = ids[start:start + _PAGE]
        rows = list(O.select(*columns).where(O.id.in_(page)).order_by(O.id).tuples())
        wanted = {org for _, kind, org, *_ in rows if org is not None and org not in parents}
        if wanted:
            parents.update((i, (region, district, locality)) for i, region, district, locality in
                           O.select(O.id, O.region, O.district, O.locality).where(O.id.in_(list(wanted))).tuples())
        for object_id, kind, org, name, unp, published, evaluation, body, region, district, locality in rows:
            is_org = kind == O.ORGANIZATION
            owner = object_id if is_org else org
            # A subdivision is placed where it says, else where its organization is.
            if not is_org:
                org_region, org_district, org_locality = parents.get(org, (None, None, None))
                region, district, locality = region or org_region, district or org_district, locality or org_locality
            yield (object_id, kind, "" if is_org else org, spreadsheet_safe(name), unp if is_org else "",
                   int(bool(published)), int(bool(evaluation)) if is_org else 0,
                   int(bool(body)) if is_org else 0, " ".join(spheres.get(owner, ())), regions.get(region, ""),
                   spreadsheet_safe(district or ""), spreadsheet_safe(locality or ""),
                   _ids(registries.get(object_id, ())) if is_org else "", _ids(counted_in.get(object_id, ())))


def _csv_lines(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # The BOM makes spreadsheets read the file as UTF-8 (Cyrillic names),
    # as /rankings.csv does.
    out.write("\ufeff")
    writer.writerow(COLUMNS)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % 1000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@bp.get("/opendata/objects.csv")
def objects_csv():
    response = Response(stream_with_context(_csv_lines(object_rows())), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="ocenka-objects.csv"'
    response.headers["Cache-Control"] = "no-cache"
    return response
