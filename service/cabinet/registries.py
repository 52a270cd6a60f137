"""Local registries in the cabinets. An authorized body keeps its own:
creates one, lists its organizations, approves it and submits it; the
operator accepts a submitted registry or returns it with a reason.
Acceptance is what gives a body its organizations' ratings and figures
(the roll-up, ``permissions.REGISTRY``), so it is the one move that
changes access.

Each action below is one function the page and the JSON endpoint share:
it asks ``permissions``, changes through ``structure`` (which keeps the
states and the roll-up) and writes the audit entry in the same
transaction."""
import re

from flask import abort, jsonify, redirect, request, url_for
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate
from peewee import JOIN, Case, fn

from service import structure
from service.cabinet import audit, permissions as can
from service.cabinet.web import actor, api, conflict, form_errors, get_or_404, json_body, load, pages, render_form
from service.db import write_transaction
from service.errors import ApiError
from service.i18n import current_language, translate as t
from service.models import RatableObject, Registry, RegistryEntry
from service.schemas import StrictInteger

STATES = (Registry.DRAFT, Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED, Registry.RETURNED)
# The way forward, shown to the body as numbered steps.
STEPS = (Registry.DRAFT, Registry.APPROVED, Registry.SUBMITTED, Registry.ACCEPTED)
# Who makes a move: the operator decides on a submitted registry; the body makes every other move.
DECISIONS = (Registry.ACCEPTED, Registry.RETURNED)
PER_PAGE = 50
ENTRIES_PER_PAGE = 100
MAX_ENTRIES = 20_000  # more than the largest body's subordinates
SEARCH_LIMIT = 25
MAX_ID = 2**63 - 1


# -- input ---------------------------------------------------------------------

class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None, validate=validate.OneOf(STATES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(min=1, max=500))


class EntriesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=ENTRIES_PER_PAGE, validate=validate.Range(min=1, max=1000))
    # Narrows the registry's own list; ``q`` searches organizations to add.
    find = fields.String(load_default="", validate=validate.Length(max=200))
    q = fields.String(load_default="", validate=validate.Length(max=200))


class NewRegistry(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(max=300))
    # Start from another registry of the body's (to change an accepted
    # one without losing access until the new one is accepted).
    copy_from = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID))


class Entries(Schema):
    class Meta:
        unknown = RAISE

    organizations = fields.List(StrictInteger(), required=True, validate=validate.Length(max=MAX_ENTRIES))


class EntriesForm(Schema):
    """The page's form: ids ticked in a list, and a pasted list of УНП or ids."""
    class Meta:
        unknown = EXCLUDE

    op = fields.String(required=True, validate=validate.OneOf(("add", "remove")))
    organizations = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), load_default=list,
                                validate=validate.Length(max=MAX_ENTRIES))
    pasted = fields.String(load_default="", validate=validate.Length(max=MAX_ENTRIES * 12))


class Move(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.OneOf(STATES))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


list_query, entries_query, new_registry = ListQuery(), EntriesQuery(), NewRegistry()
entries_schema, entries_form, move_schema = Entries(), EntriesForm(), Move()


# -- who may -------------------------------------------------------------------

def _action_for(state):
    return can.DECIDE_REGISTRIES if state in DECISIONS else can.KEEP_REGISTRIES


def may_read(user, registry):
    return can.allowed(user, can.DECIDE_REGISTRIES, registry) or can.allowed(user, can.KEEP_REGISTRIES, registry)


def _require_read(user, registry):
    if not may_read(user, registry):
        abort(403)


def moves_for(user, registry):
    """The moves ``user`` may make on ``registry`` now."""
    return [state for state in Registry.TRANSITIONS.get(registry.state, ())
            if can.allowed(user, _action_for(state), registry)]


def may_edit(user, registry):
    return registry.state in structure.EDITABLE and can.allowed(user, can.KEEP_REGISTRIES, registry)


# -- reading -------------------------------------------------------------------

def _entry_count():
    return (RegistryEntry.select(fn.COUNT(RegistryEntry.organization))
            .where(RegistryEntry.registry == Registry.id))


def _registries(user, status=None):
    """The registries ``user`` sees, each with its body's name and its
    number of entries, in one query: the operator all (submitted first,
    waiting for a decision), a body its own, newest first."""
    if can.allowed(user, can.DECIDE_REGISTRIES):
        where = None
    elif can.allowed(user, can.KEEP_REGISTRIES):
        where = Registry.body == user.organization_id
    else:
        abort(403)
    Body = RatableObject.alias("body")
    query = (Registry.select(Registry, Body.name.alias("body_name"), _entry_count().alias("entry_count"))
             .join(Body, on=(Registry.body == Body.id))
             .order_by(Case(None, [(Registry.state == Registry.SUBMITTED, 0)], 1), Registry.updated.desc(),
                       Registry.id.desc())
             .objects())
    if where is not None:
        query = query.where(where)
    if status:
        query = query.where(Registry.state == status)
    return query


def _one(registry_id):
    Body = RatableObject.alias("body")
    registry = (Registry.select(Registry, Body.name.alias("body_name"), _entry_count().alias("entry_count"))
                .join(Body, on=(Registry.body == Body.id))
                .where(Registry.id == registry_id).objects().first()) if 0 < registry_id <= MAX_ID else None
    if registry is None:
        raise ApiError({"registry": ["not found"]}, status=404)
    return registry


def _stamp(moment):
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def as_json(registry):
    return {"id": registry.id, "name": registry.name,
            "body": {"id": registry.body_id, "name": registry.body_name},
            "status": registry.state, "return_reason": registry.return_reason,
            "entries": registry.entry_count, "created": _stamp(registry.created), "updated": _stamp(registry.updated)}


def _search_text(query, text):
    """Organizations whose name contains ``text`` or whose УНП starts with it (or whose id it is)."""
    O = RatableObject
    text = text.strip()
    if text.isdigit():
        return query.where(O.unp.startswith(text) | (O.id == int(text)) if len(text) < 10 else O.unp == text)
    return query.where(O.search_name.contains(text.casefold()))


def entries(registry, page=1, per_page=ENTRIES_PER_PAGE, find=""):
    """One page of the organizations a registry lists, by name, and how many match."""
    O = RatableObject
    query = (O.select(O.id, O.unp, O.name, O.short_name, O.locality, O.published)
             .join(RegistryEntry, on=(RegistryEntry.organization == O.id))
             .where(RegistryEntry.registry == registry.id))
    if find.strip():
        query = _search_text(query, find)
    return list(query.order_by(O.sort_name, O.id).paginate(page, per_page)), query.count()


def candidates(registry, text):
    """Organizations to add found by name or УНП, each marked whether the
    registry lists it already."""
    if not text.strip():
        return []
    O = RatableObject
    listed = RegistryEntry.alias("listed")
    query = (O.select(O.id, O.unp, O.name, O.locality, listed.organization.alias("listed"))
             .join(listed, JOIN.LEFT_OUTER, on=((listed.organization == O.id) & (listed.registry == registry.id)))
             .where((O.kind == O.ORGANIZATION) & (O.id != registry.body_id)))
    return list(_search_text(query, text).order_by(O.sort_name, O.id).limit(SEARCH_LIMIT).objects())


def organization_json(org):
    return {"id": org.id, "unp": org.unp, "name": org.name, "short_name": org.short_name,
            "locality": org.locality, "published": org.published}


# -- the actions -----------------------------------------------------------------

def create(user, data):
    target = Registry(body=user.organization_id)
    can.require(user, can.KEEP_REGISTRIES, target)
    data = load(new_registry, data)
    name = data["name"].strip()
    if not name:
        raise ApiError({"name": [t("cabinet.registry.error.name")]})
    members = ()
    if data["copy_from"] is not None:
        source = Registry.get_or_none(Registry.id == data["copy_from"])
        if source is None or not can.allowed(user, can.KEEP_REGISTRIES, source):
            raise ApiError({"copy_from": [t("cabinet.registry.error.copy_from")]})
        members = structure.registry_members(source)
    body = RatableObject.get_by_id(user.organization_id)
    with write_transaction():
        try:
            registry = structure.create_registry(body, members, name=name)
        except structure.StructureError:
            # The user's organization is not (or no longer) an authorized body.
            raise ApiError({"_schema": [t("cabinet.registry.error.not_a_body")]}, status=403) from None
        audit.record(user, "registry.create", "registry", registry.id,
                     after={"name": name, "body": body.id, "status": registry.state, "entries": len(members),
                            "copy_from": data["copy_from"]})
    return registry


def _change(user, registry, change):
    """Runs ``change`` (returning the added and removed ids) and audits what it changed."""
    with write_transaction():
        try:
            added, removed = change()
        except structure.NotListable as error:
            raise ApiError({"organizations": [t("cabinet.registry.error.not_listable",
                                                ids=", ".join(map(str, error.ids)))]}) from None
        except structure.RegistryStateError:
            status = t(f"cabinet.registry.status.{registry.state}")
            raise conflict(t("cabinet.registry.error.not_editable", status=status)) from None
        if added or removed:
            count = RegistryEntry.select().where(RegistryEntry.registry == registry.id).count()
            audit.record(user, "registry.entries", "registry", registry.id,
                         after={"added": sorted(added), "removed": sorted(removed), "entries": count})
    return added, removed


def set_entries(user, registry, data):
    """The registry lists exactly the given organizations (the API's PUT)."""
    can.require(user, can.KEEP_REGISTRIES, registry)
    organizations = load(entries_schema, data)["organizations"]
    return _change(user, registry, lambda: structure.set_registry_entries(registry, organizations))


def change_entries(user, registry, add=(), remove=()):
    """Adds and removes some organizations (the page, for long registries)."""
    can.require(user, can.KEEP_REGISTRIES, registry)
    return _change(user, registry, lambda: structure.change_registry_entries(registry, add=add, remove=remove))


def _refusal(state, to):
    if to not in Registry.TRANSITIONS.get(state, ()):
        return t("cabinet.registry.error.move", source=t(f"cabinet.registry.status.{state}"),
                 target=t(f"cabinet.registry.status.{to}"))
    if to == Registry.APPROVED:
        return t("cabinet.registry.error.empty")
    return t("cabinet.registry.error.meanwhile")


def move(user, registry, data):
    if not may_read(user, registry):
        abort(403)
    data = load(move_schema, data)
    to, reason = data["to"], data["reason"]
    can.require(user, _action_for(to), registry)
    with write_transaction():
        before = audit.snapshot(registry, ["state", "return_reason"])
        superseded = structure.superseded_by(registry) if to == Registry.ACCEPTED else []
        try:
            structure.move_registry(registry, to, reason)
        except structure.RegistryStateError:
            raise conflict(_refusal(before["state"], to)) from None
        except structure.StructureError:
            raise ApiError({"reason": [t("cabinet.registry.error.reason")]}) from None
        audit.record(user, "registry.move", "registry", registry.id, before=before,
                     after=audit.snapshot(registry, ["state", "return_reason"]))
        for old in superseded:
            # A body has one registry in force; the one it had goes back to draft.
            audit.record(user, "registry.superseded", "registry", old.id, before={"state": Registry.ACCEPTED},
                         after={"state": Registry.DRAFT, "superseded_by": registry.id})
    return registry


# -- the pasted list -----------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;]+")


def resolve_pasted(text):
    """The ids of a pasted list of УНП (nine digits) and ids (fewer
    digits), one per line or separated by commas or spaces. Tokens that
    are neither, and УНП nobody is registered under, are refused by name."""
    tokens = [token for token in _SEPARATORS.split(text or "") if token]
    if len(tokens) > MAX_ENTRIES:
        raise ApiError({"pasted": [t("cabinet.registry.error.too_many", n=MAX_ENTRIES)]})
    unps = {token for token in tokens if token.isdigit() and len(token) == 9}
    known = structure.ids_by_unp(sorted(unps)) if unps else {}
    ids, bad = set(), []
    for token in tokens:
        if token in known:
            ids.add(known[token])
        elif token.isdigit() and len(token) < 9 and 0 < int(token):
            ids.add(int(token))
        else:
            bad.append(token)
    if bad:
        raise ApiError({"pasted": [t("cabinet.registry.error.pasted", tokens=", ".join(dict.fromkeys(bad)))]})
    return ids


# -- JSON ------------------------------------------------------------------------------

@api.get("/registries")
def registries_json():
    user = actor()
    args = load(list_query, request.args)
    query = _registries(user, args["status"])
    items = [as_json(r) for r in query.paginate(args["page"], args["per_page"])]
    return jsonify(items=items, total=query.count(), page=args["page"], per_page=args["per_page"])


@api.post("/registries")
def registry_create_json():
    registry = create(actor(), json_body())
    return jsonify(id=registry.id, status=registry.state), 201


@api.get("/registries/<int:registry_id>")
def registry_json(registry_id):
    user = actor()
    registry = _one(registry_id)
    _require_read(user, registry)
    args = load(entries_query, request.args)
    rows, total = entries(registry, args["page"], args["per_page"], args["find"])
    return jsonify(**as_json(registry), moves=moves_for(user, registry),
                   organizations={"items": [organization_json(o) for o in rows], "total": total,
                                  "page": args["page"], "per_page": args["per_page"]})


@api.put("/registries/<int:registry_id>/entries")
def registry_entries_json(registry_id):
    user = actor()
    registry = get_or_404(Registry, registry_id)
    set_entries(user, registry, json_body())
    return jsonify(as_json(_one(registry_id)))


@api.post("/registries/<int:registry_id>/transitions")
def registry_transition_json(registry_id):
    user = actor()
    registry = get_or_404(Registry, registry_id)
    move(user, registry, json_body())
    return jsonify(as_json(_one(registry_id)))


# -- pages ------------------------------------------------------------------------------

def _link_to(endpoint, **args):
    return url_for(endpoint, lang=current_language(), **{k: v for k, v in args.items() if v not in (None, "")})


def _list_page(user, errors=None, status=200, form=None):
    args = load(list_query, request.args)
    query = _registries(user, args["status"])
    total = query.count()
    rows = list(query.paginate(args["page"], args["per_page"]))
    may_create = can.allowed(user, can.KEEP_REGISTRIES)
    # A new registry may start from one on this page (the body's own).
    copy_options = [(r.id, r.name or t("cabinet.registry.untitled", id=r.id)) for r in rows] if may_create else []
    return render_form("cabinet/registries.html", errors=errors, status=status, title=t("cabinet.nav.registries"),
                       registries=rows, total=total, args=args, pages=max(1, -(-total // args["per_page"])),
                       status_options=[(s, t(f"cabinet.registry.status.{s}")) for s in STATES],
                       may_create=may_create, copy_options=copy_options, form=form or {}, link_to=_link_to)


@pages.get("/registries")
def registries_page():
    return _list_page(actor())


@pages.post("/registries")
def registry_create_page():
    user = actor()
    form = {"name": request.form.get("name", ""), "copy_from": request.form.get("copy_from") or None}
    try:
        registry = create(user, form)
    except ApiError as error:
        if error.status != 400:
            raise
        return _list_page(user, errors=form_errors(error), status=400, form=form)
    return redirect(_link_to("cabinet.registry_page", registry_id=registry.id, saved=1), code=303)


def _registry_page(user, registry_id, errors=None, status=200, form=None):
    registry = _one(registry_id)
    _require_read(user, registry)
    args = load(entries_query, request.args)
    rows, total = entries(registry, args["page"], args["per_page"], args["find"])
    editable = may_edit(user, registry)
    in_force = None
    if registry.state == Registry.SUBMITTED:
        in_force = next(iter(structure.superseded_by(registry)), None)
    return render_form("cabinet/registry.html", errors=errors, status=status, title=registry.name or t(
        "cabinet.registry.untitled", id=registry.id), registry=registry, rows=rows, total=total, args=args,
        pages=max(1, -(-total // args["per_page"])), moves=moves_for(user, registry), editable=editable,
        keeper=can.allowed(user, can.KEEP_REGISTRIES, registry),
        found=candidates(registry, args["q"]) if editable else [], steps=STEPS, in_force=in_force,
        form=form or {}, link_to=_link_to, saved=request.args.get("saved"))


@pages.get("/registries/<int:registry_id>")
def registry_page(registry_id):
    return _registry_page(actor(), registry_id)


def _ticked_ids(name):
    """Ticked ids from a form; anything that is not one is a bad field, not a crash."""
    values = request.form.getlist(name)
    if not all(v.isdigit() and 0 < int(v) <= MAX_ID for v in values):
        raise ApiError({name: [t("cabinet.registry.error.ticked")]})
    return [int(v) for v in values]


@pages.post("/registries/<int:registry_id>/entries")
def registry_entries_page(registry_id):
    user = actor()
    registry = get_or_404(Registry, registry_id)
    form = {"op": request.form.get("op", ""), "pasted": request.form.get("pasted", "")}
    try:
        can.require(user, can.KEEP_REGISTRIES, registry)
        data = load(entries_form, dict(form, organizations=_ticked_ids("organizations")))
        ids = set(data["organizations"]) | resolve_pasted(data["pasted"])
        if not ids:
            raise ApiError({"pasted": [t("cabinet.registry.error.nothing")]})
        if data["op"] == "add":
            added, removed = change_entries(user, registry, add=ids)
        else:
            added, removed = change_entries(user, registry, remove=ids)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        errors = form_errors(error)
        # On the page the refused ids are fixed in the pasted list, so the message stands next to it.
        errors.setdefault("pasted", []).extend(errors.pop("organizations", []))
        if not errors["pasted"]:
            del errors["pasted"]
        return _registry_page(user, registry_id, errors=errors, status=error.status, form=form)
    return redirect(_link_to("cabinet.registry_page", registry_id=registry.id, added=len(added), removed=len(removed),
                          q=request.args.get("q")), code=303)


@pages.post("/registries/<int:registry_id>/transitions")
def registry_transition_page(registry_id):
    user = actor()
    registry = get_or_404(Registry, registry_id)
    form = {"to": request.form.get("to", ""), "reason": request.form.get("reason") or None}
    try:
        move(user, registry, form)
    except ApiError as error:
        if error.status not in (400, 409):
            raise
        return _registry_page(user, registry_id, errors=form_errors(error), status=error.status, form=form)
    return redirect(_link_to("cabinet.registry_page", registry_id=registry.id, saved=1), code=303)
