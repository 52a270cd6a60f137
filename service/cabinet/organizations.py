"""Organizations in the cabinets. The operator registers them, one by one
or from a CSV file, finds them by name or УНП and edits any; an
organization's staff keep their own profile up to date (location,
spheres, website, contacts, services, subdivisions) and take the widget
snippet, QR codes, posters and banners from the kit page.

Each action below is one function the page and the JSON endpoint share:
the view asks ``permissions`` first, the action loads the input through
``organization_form``'s schemas, changes through ``structure`` (which
keeps publication and the roll-up in step) and writes the audit entry in
the same transaction. What the registrar alone may change (УНП, name, the
kind of organization, its parent body) is refused to others with 403
naming the field.
"""
from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from service import importing, structure
from service.cabinet import audit, permissions as can
from service.cabinet.sessions import current_user
from service.cabinet.web import actor, api, conflict, get_or_404, json_body, load, pages
from service.db import write_transaction
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import ObjectService, RatableObject, Region, Service, Sphere
from service.organization_form import (
    CONTACT_FIELDS, FIELDS, MAX_CONTACTS, PROFILE_FIELDS, REGISTRATION_FIELDS, SUBDIVISION_FIELDS,
    UNIQUE_VIOLATION, OrganizationSchema, ServicesSchema, SubdivisionSchema, check_parent_body, check_stays_body,
    missing, organization_json, profile, reference, resolve, say, service_catalogue, services_of, sphere_codes,
    subdivision_json, unp_conflict,
)

PER_PAGE = 50


class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200))
    published = fields.String(load_default="", validate=validate.OneOf(("", "yes", "no")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=500))


list_query = ListQuery()


# -- the actions ------------------------------------------------------------------
# Each assumes the view has asked ``permissions`` whether ``user`` may.

def register(user, payload):
    """Registers one organization; 400 for bad fields, 409 for a УНП
    already registered."""
    refs = reference()
    data = load(OrganizationSchema(refs), payload)
    if data.get("parent_body"):
        check_parent_body(data["parent_body"])
    try:
        with write_transaction():
            taken = unp_conflict(data["unp"])
            if taken:
                raise taken
            org = structure.create_organization(**resolve(data, refs))
            audit.record(user, "organization.create", "organization", org.id, None, profile(org))
    except UNIQUE_VIOLATION:
        _raise_if_unp_taken(data)
        raise
    return org


def forbidden_fields(user, payload):
    """The registration fields in ``payload`` that ``user`` may not change."""
    if can.allowed(user, can.REGISTER_ORGANIZATIONS):
        return []
    return [f for f in REGISTRATION_FIELDS if f in payload]


def edit(user, org, payload):
    """Changes any of the fields; returns the organization. 403 names a
    field only the registrar changes, 409 a УНП taken or a body others
    still depend on."""
    refused = forbidden_fields(user, payload)
    if refused:
        raise ApiError({f: [say("forbidden")] for f in refused}, status=403)
    refs = reference()
    data = load(OrganizationSchema(refs), payload, partial=True)
    if data.get("parent_body"):
        check_parent_body(data["parent_body"], org)
    try:
        with write_transaction():
            org = RatableObject.get_by_id(org.id)
            before = profile(org)
            if "unp" in data and data["unp"] != org.unp:
                taken = unp_conflict(data["unp"], org)
                if taken:
                    raise taken
            if data.get("authorized_body") is False and org.is_authorized_body:
                check_stays_body(org)
            changes = resolve(data, refs)
            structure.update_organization(org, spheres=changes.pop("spheres", None), **changes)
            after = profile(org)
            if after != before:
                audit.record(user, "organization.update", "organization", org.id, before, after)
    except UNIQUE_VIOLATION:
        _raise_if_unp_taken(data, org)
        raise
    return org


def _raise_if_unp_taken(data, org=None):
    """After the unique index refused a write: 409 when another request
    registered the same УНП meanwhile (the check and the write raced)."""
    taken = unp_conflict(data["unp"], org) if "unp" in data else None
    if taken is not None:
        raise taken from None


def add_subdivision(user, org, payload):
    data = load(SubdivisionSchema(), payload)
    with write_transaction():
        sub = structure.add_subdivision(org, **data)
        audit.record(user, "subdivision.create", "subdivision", sub.id, None,
                     dict(audit.snapshot(sub, SUBDIVISION_FIELDS), organization=org.id))
    return sub


def edit_subdivision(user, sub, payload):
    data = load(SubdivisionSchema(), payload, partial=True)
    with write_transaction():
        sub = RatableObject.get_by_id(sub.id)
        before = audit.snapshot(sub, SUBDIVISION_FIELDS)
        structure.update_subdivision(sub, **data)
        after = audit.snapshot(sub, SUBDIVISION_FIELDS)
        if after != before:
            audit.record(user, "subdivision.update", "subdivision", sub.id, before, after)
    return sub


def remove_subdivision(user, sub):
    """Removes a subdivision nothing refers to yet (one made by mistake);
    409 once it has ratings."""
    with write_transaction():
        if not structure.removable(sub):
            raise conflict(say("not_removable"))
        before = dict(audit.snapshot(sub, SUBDIVISION_FIELDS), organization=sub.organization_id)
        structure.remove_subdivision(sub)
        audit.record(user, "subdivision.delete", "subdivision", sub.id, before, None)


def offered_codes(org):
    return [code for (code,) in Service.select(Service.code).join(ObjectService)
            .where(ObjectService.object == org.id).tuples()]


def set_services(user, org, payload):
    catalogue = service_catalogue()
    codes = list(dict.fromkeys(load(ServicesSchema(catalogue), payload)["services"]))
    with write_transaction():
        before = sorted(offered_codes(org))
        structure.set_services(org, [catalogue[code].id for code in codes])
        after = sorted(codes)
        if after != before:
            audit.record(user, "organization.services", "organization", org.id, {"services": before},
                         {"services": after})
    return org


# -- finding organizations -----------------------------------------------------------

def search(args):
    """Organizations by name (any part, any case) or УНП (its start) or id."""
    O = RatableObject
    query = O.select().where(O.kind == O.ORGANIZATION)
    q = args["q"].strip()
    if q.isascii() and q.isdigit():
        query = query.where(O.unp.startswith(q) | (O.id == int(q)) if len(q) <= 18 else O.unp == q)
    elif q:
        query = query.where(O.search_name.contains(q.casefold()))
    if args["published"]:
        query = query.where(O.published == (args["published"] == "yes"))
    return query.order_by(O.sort_name, O.id)


def _listing(args):
    query = search(args)
    total = query.count()
    rows = list(query.paginate(args["page"], args["per_page"]))
    return rows, total, sphere_codes([o.id for o in rows])


def _organization(organization_id):
    org = get_or_404(RatableObject, organization_id, "organization")
    if not org.is_organization:
        raise ApiError({"organization": ["not found"]}, status=404)
    return org


def _subdivision(subdivision_id, organization=None):
    sub = get_or_404(RatableObject, subdivision_id, "subdivision")
    if sub.is_organization or (organization is not None and sub.organization_id != organization.id):
        raise ApiError({"subdivision": ["not found"]}, status=404)
    return sub


# -- the JSON API -----------------------------------------------------------------

@api.get("/organizations")
def organizations_json():
    can.require(actor(), can.REGISTER_ORGANIZATIONS)
    args = load(list_query, request.args)
    rows, total, spheres = _listing(args)
    regions = dict(Region.select(Region.id, Region.code).tuples())
    items = [{"id": o.id, "unp": o.unp, "name": o.name, "short_name": o.short_name,
              "region": regions.get(o.region_id), "locality": o.locality, "published": o.published,
              "missing": missing(o, spheres[o.id])} for o in rows]
    return jsonify(items=items, total=total, page=args["page"], per_page=args["per_page"])


@api.post("/organizations")
def org_register_json():
    user = actor()
    can.require(user, can.REGISTER_ORGANIZATIONS)
    org = register(user, json_body())
    return jsonify(id=org.id, published=org.published, missing=missing(org, sphere_codes([org.id])[org.id])), 201


@api.post("/organizations/import")
def org_import_json():
    user = actor()
    can.require(user, can.REGISTER_ORGANIZATIONS)
    try:
        ids = importing.import_organizations(user, _uploaded_csv())
    except importing.ImportRefused as refusal:
        raise ApiError(refusal.as_api_errors()) from None
    return jsonify(created=len(ids))


@api.get("/organizations/<int:organization_id>")
def org_json(organization_id):
    org = _organization(organization_id)
    can.require(actor(), can.EDIT_ORGANIZATION, org)
    return jsonify(organization_json(org, current_language()))


@api.patch("/organizations/<int:organization_id>")
def org_edit_json(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    return jsonify(organization_json(edit(user, org, json_body()), current_language()))


@api.post("/organizations/<int:organization_id>/subdivisions")
def org_add_subdivision_json(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    sub = add_subdivision(user, org, json_body())
    return jsonify(id=sub.id), 201


@api.patch("/subdivisions/<int:subdivision_id>")
def org_edit_subdivision_json(subdivision_id):
    sub = _subdivision(subdivision_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, sub)
    return jsonify(subdivision_json(edit_subdivision(user, sub, json_body())))


@api.delete("/subdivisions/<int:subdivision_id>")
def org_remove_subdivision_json(subdivision_id):
    sub = _subdivision(subdivision_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, sub)
    remove_subdivision(user, sub)
    return "", 204


@api.put("/organizations/<int:organization_id>/services")
def org_services_json(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    set_services(user, org, json_body())
    return jsonify(services=services_of(org, current_language()))


# -- uploads ------------------------------------------------------------------------

_IMPORT_ENDPOINTS = ("cabinet_api.org_import_json", "cabinet.org_import_submit")


@pages.before_app_request
def _room_for_an_import():
    """A CSV of a whole portal is megabytes, far over the 64 KB every other
    request may send. Raised before the cabinet's own hooks read the form
    (for the CSRF token), and only for a signed-in user."""
    if request.endpoint in _IMPORT_ENDPOINTS and request.method == "POST" and current_user() is not None:
        request.max_content_length = importing.MAX_BYTES + 64 * 1024


def _uploaded_csv():
    """The CSV from a multipart field ``file``, or the whole request body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError({"file": [say("no_file")]})
        return upload.read()
    raw = request.get_data(cache=False)
    if not raw:
        raise ApiError({"file": [say("no_file")]})
    return raw


# -- pages --------------------------------------------------------------------------

def _choices(lang):
    regions = [(r.code, r.name(lang)) for r in Region.select().order_by(Region.id)]
    spheres = sorted(((s.code, s.name(lang)) for s in Sphere.select()), key=lambda pair: pair[1])
    return regions, spheres


def _bodies(exclude=None):
    query = (RatableObject.select(RatableObject.id, RatableObject.name)
             .where((RatableObject.kind == RatableObject.ORGANIZATION) & (RatableObject.is_authorized_body == True))  # noqa: E712
             .order_by(RatableObject.sort_name))
    return [(o.id, o.name) for o in query if o.id != exclude]


def _from_form(form, allowed):
    """A form's fields as the JSON API takes them, only those in
    ``allowed``: blank rows of contacts left out, unticked boxes false."""
    data = {}
    for name in allowed:
        if name == "spheres":
            data[name] = form.getlist("spheres")
        elif name in ("evaluation_object", "authorized_body"):
            data[name] = form.get(name) == "1"
        elif name == "parent_body":
            value = (form.get(name) or "").strip()
            data[name] = int(value) if value.isascii() and value.isdigit() and len(value) < 19 else (value or None)
        elif name == "contacts":
            data[name] = [contact for contact in (
                {f: form.get(f"contacts-{i}-{f}", "") for f in CONTACT_FIELDS} for i in range(MAX_CONTACTS + 1))
                if any(v.strip() for v in contact.values())]
        else:
            data[name] = form.get(name, "")
    return data


def _form_errors(error):
    """Field errors keyed by the form's field names: a contact's field is
    ``contacts-<n>-<field>``, next to the input it belongs to."""
    flat = {}
    for field, messages in error.errors.items():
        if isinstance(messages, dict):
            for index, inner in messages.items():
                if isinstance(inner, dict):
                    for name, texts in inner.items():
                        flat[f"{field}-{index}-{name}"] = [str(m) for m in texts]
                else:
                    flat.setdefault(field, []).extend(str(m) for m in inner)
        else:
            flat[field] = [str(m) for m in messages]
    return flat


def _done(endpoint, **params):
    """After a change, the page that shows it (303: a reload does not post again)."""
    return redirect(url_for(endpoint, lang=current_language(), **params), 303)


def _profile_page(user, org, values=None, errors=None, services_errors=None, status=200, saved=False):
    lang = current_language()
    regions, spheres = _choices(lang)
    data = profile(org)
    catalogue = service_catalogue()
    offered = organization_json(org, lang)
    registrar = can.allowed(user, can.REGISTER_ORGANIZATIONS)
    parent = RatableObject.get_or_none(RatableObject.id == org.parent_body_id) if org.parent_body_id else None
    subdivisions = list(org.subdivisions.order_by(RatableObject.name, RatableObject.id))
    body_names = dict(RatableObject.select(RatableObject.id, RatableObject.name)
                      .where(RatableObject.id.in_([s.responsible_id for s in catalogue.values() if s.responsible_id]))
                      .tuples())
    return render_template(
        "cabinet/organization.html", title=org.name, org=org, values=values or data, saved=saved,
        errors=errors or {}, services_errors=services_errors or {}, registrar=registrar,
        editable=FIELDS if registrar else PROFILE_FIELDS, regions=regions, spheres=spheres,
        bodies=_bodies(exclude=org.id) if registrar else [], parent=parent, missing=offered["missing"],
        subdivisions=subdivisions, services=offered["services"],
        catalogue=[(s.code, s.name(lang) + (f" — {body_names[s.responsible_id]}" if s.responsible_id in body_names
                                             else "")) for s in catalogue.values()],
        offered=[s["code"] for s in offered["services"]], may_kit=can.allowed(user, can.READ_RATINGS, org),
        may_print_codes=can.allowed(user, can.PRINT_CODES, org),
        max_contacts=MAX_CONTACTS), status


@pages.get("/organizations")
def organizations_page():
    can.require(actor(), can.REGISTER_ORGANIZATIONS)
    args = load(list_query, request.args)
    rows, total, spheres = _listing(args)
    regions = {r.id: r.name(current_language()) for r in Region.select()}
    return render_template("cabinet/organizations.html", title=t("cabinet.nav.organizations"), rows=rows,
                           total=total, args=args, regions=regions,
                           missing={o.id: ", ".join(t(f"cabinet.org.need.{need}") for need in missing(o, spheres[o.id]))
                                    for o in rows},
                           pages=max(1, -(-total // args["per_page"])),
                           imported=request.args.get("imported", type=int))


@pages.get("/organizations/new")
def org_new_page():
    can.require(actor(), can.REGISTER_ORGANIZATIONS)
    return _new_form({"evaluation_object": True, "contacts": []})


def _new_form(values, errors=None, status=200):
    lang = current_language()
    regions, spheres = _choices(lang)
    return render_template("cabinet/organization_new.html", title=t("cabinet.org.new.title"), values=values,
                           errors=errors or {}, editable=FIELDS, regions=regions, spheres=spheres,
                           bodies=_bodies(), max_contacts=MAX_CONTACTS), status


@pages.post("/organizations/new")
def org_new_submit():
    user = actor()
    can.require(user, can.REGISTER_ORGANIZATIONS)
    values = _from_form(request.form, FIELDS)
    try:
        org = register(user, values)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _new_form(values, _form_errors(error), error.status)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


@pages.get("/organizations/import")
def org_import_page():
    can.require(actor(), can.REGISTER_ORGANIZATIONS)
    return _import_form()


def _import_form(refusal=None, status=200):
    return render_template("cabinet/organizations_import.html", title=t("cabinet.org.import.title"),
                           refusal=refusal, columns=importing.COLUMNS, errors={},
                           max_mb=importing.MAX_BYTES // (1024 * 1024)), status


@pages.post("/organizations/import")
def org_import_submit():
    user = actor()
    can.require(user, can.REGISTER_ORGANIZATIONS)
    try:
        ids = importing.import_organizations(user, _uploaded_csv())
    except importing.ImportRefused as refusal:
        return _import_form(refusal, 400)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _import_form(importing.ImportRefused([m for ms in error.errors.values() for m in ms]), error.status)
    return _done("cabinet.organizations_page", imported=len(ids))


@pages.get("/organization")
def org_own_organization():
    """Staff: their own organization's page; the operator: the list."""
    user = actor()
    org = RatableObject.get_or_none(RatableObject.id == user.organization_id) if user.organization_id else None
    if org is not None and can.allowed(user, can.EDIT_ORGANIZATION, org):
        return _done("cabinet.organization_page", organization_id=org.id)
    if can.allowed(user, can.REGISTER_ORGANIZATIONS):
        return _done("cabinet.organizations_page")
    # The role edits no organization (403), or its account names none (404).
    abort(404 if can.allowed(user, can.EDIT_ORGANIZATION) else 403)


@pages.get("/organizations/<int:organization_id>")
def organization_page(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    return _profile_page(user, org, saved=bool(request.args.get("saved")))


@pages.post("/organizations/<int:organization_id>")
def organization_submit(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    values = _from_form(request.form, FIELDS if can.allowed(user, can.REGISTER_ORGANIZATIONS) else PROFILE_FIELDS)
    try:
        edit(user, org, values)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        fresh = RatableObject.get_by_id(org.id)
        return _profile_page(user, fresh, values=dict(profile(fresh), **values), errors=_form_errors(error),
                             status=error.status)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


@pages.post("/organizations/<int:organization_id>/services")
def org_services_submit(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    try:
        set_services(user, org, {"services": request.form.getlist("services")})
    except ApiError as error:
        if error.status != 400:
            raise
        return _profile_page(user, org, services_errors=_form_errors(error), status=400)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


def _subdivision_form(org, sub, values, errors=None, status=200):
    title = sub.name if sub is not None else t("cabinet.org.sub.new")
    return render_template("cabinet/organization_subdivision.html", title=title, org=org, sub=sub, values=values,
                           errors=errors or {}, removable=sub is not None and structure.removable(sub)), status


@pages.get("/organizations/<int:organization_id>/subdivisions/new")
def org_new_subdivision_page(organization_id):
    org = _organization(organization_id)
    can.require(actor(), can.EDIT_ORGANIZATION, org)
    return _subdivision_form(org, None, {})


@pages.post("/organizations/<int:organization_id>/subdivisions/new")
def org_new_subdivision_submit(organization_id):
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, org)
    values = {f: request.form.get(f, "") for f in SUBDIVISION_FIELDS}
    try:
        add_subdivision(user, org, values)
    except ApiError as error:
        if error.status != 400:
            raise
        return _subdivision_form(org, None, values, _form_errors(error), 400)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


@pages.get("/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>")
def org_subdivision_page(organization_id, subdivision_id):
    org = _organization(organization_id)
    sub = _subdivision(subdivision_id, org)
    can.require(actor(), can.EDIT_ORGANIZATION, sub)
    return _subdivision_form(org, sub, audit.snapshot(sub, SUBDIVISION_FIELDS))


@pages.post("/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>")
def org_subdivision_submit(organization_id, subdivision_id):
    org = _organization(organization_id)
    sub = _subdivision(subdivision_id, org)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, sub)
    values = {f: request.form.get(f, "") for f in SUBDIVISION_FIELDS}
    try:
        edit_subdivision(user, sub, values)
    except ApiError as error:
        if error.status != 400:
            raise
        return _subdivision_form(org, sub, values, _form_errors(error), 400)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


@pages.post("/organizations/<int:organization_id>/subdivisions/<int:subdivision_id>/delete")
def org_subdivision_delete(organization_id, subdivision_id):
    org = _organization(organization_id)
    sub = _subdivision(subdivision_id, org)
    user = actor()
    can.require(user, can.EDIT_ORGANIZATION, sub)
    try:
        remove_subdivision(user, sub)
    except ApiError as error:
        if error.status != 409:
            raise
        return _subdivision_form(org, sub, audit.snapshot(sub, SUBDIVISION_FIELDS), _form_errors(error), 409)
    return _done("cabinet.organization_page", organization_id=org.id, saved=1)


@pages.get("/organizations/<int:organization_id>/kit")
def org_kit_page(organization_id):
    """The widget snippet and the printed materials of an organization and
    each of its subdivisions: for whoever sees the staff section of its
    public page (those who read its ratings)."""
    org = _organization(organization_id)
    user = actor()
    can.require(user, can.READ_RATINGS, org)
    base_url = current_app.config["BASE_URL"]
    objects = [org] + list(org.subdivisions.order_by(RatableObject.name, RatableObject.id))
    return render_template("cabinet/kit.html", title=t("cabinet.org.kit.title", name=org.name), org=org,
                           base_url=base_url, objects=objects,
                           may_edit=can.allowed(user, can.EDIT_ORGANIZATION, org),
                           may_print_codes=can.allowed(user, can.PRINT_CODES, org),
                           snippets={o.id: f'<script async src="{base_url}/widget.js" data-object="{o.id}"></script>'
                                     for o in objects})
