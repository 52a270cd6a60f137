"""Registering organizations from a CSV file, all or nothing.

The file is UTF-8 (a byte-order mark is fine), comma-separated (a file
whose header is separated by semicolons or tabs, as spreadsheets save it
in some locales, is read with that separator), with a header row of the
field names of ``POST /api/v1/cabinet/organizations``, in any order; only
``unp`` and ``name`` must be there. One line per organization; an empty
cell is a field left out. Cells:

* ``spheres``: sphere codes separated by ``;`` (``health;social``);
* ``evaluation_object``, ``authorized_body``: ``1``/``0``, ``true``/``false``,
  ``yes``/``no``, ``да``/``нет`` (any case); left out, an organization is an
  evaluation object and not an authorized body;
* ``parent_body``: the id of a registered authorized body; or, in a column
  ``parent_body_unp``, the УНП of one, registered before or in the same file;
* ``contacts``: a JSON list of ``{"name", "position", "email", "phone"}``.

Every line is checked as a single registration would be, plus: a УНП given
twice in the file, or already registered, is a bad line. One bad line and
nothing is stored: the refusal names every bad line with what is wrong in
it. The lines go in at once, in one transaction, so that an import stopped
midway leaves nothing behind either.
"""
import csv
import io
import json
from typing import NamedTuple

from marshmallow import ValidationError

from service import structure
from service.cabinet import audit
from service.db import write_transaction
from service.errors import ApiError
from service.models import RatableObject, valid_unp
from service.organization_form import UNIQUE_VIOLATION, FIELDS, OrganizationSchema, reference, resolve, say

EXTRA_COLUMNS = ("parent_body_unp",)
COLUMNS = FIELDS + EXTRA_COLUMNS
REQUIRED_COLUMNS = ("unp", "name")
# 13,500 organizations with contacts take about 5 MB; ten times the
# portal's scale fits.
MAX_BYTES = 64 * 1024 * 1024
_YES = {"1", "true", "yes", "да", "так", "әйе"}
_NO = {"0", "false", "no", "нет", "не", "юк"}
_SEPARATORS = (",", ";", "\t")


class ImportRefused(Exception):
    """Nothing was stored: what is wrong with the file as a whole, or with
    each bad line (``{line number: ["field: message", …]}``)."""

    def __init__(self, file_errors=(), lines=None):
        super().__init__("the import was refused")
        self.file_errors = list(file_errors)
        self.lines = dict(sorted((lines or {}).items()))

    def as_api_errors(self):
        errors = {}
        if self.file_errors:
            errors["file"] = self.file_errors
        errors.update({f"line {number}": messages for number, messages in self.lines.items()})
        return errors


# -- reading the file --------------------------------------------------------------

def _text(raw):
    if len(raw) > MAX_BYTES:
        raise ImportRefused([say("file_too_big", mb=MAX_BYTES // (1024 * 1024))])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused([say("file_not_utf8", line=raw[:error.start].count(b"\n") + 1)]) from None


def _separator(header_line):
    counts = {sep: header_line.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read(raw):
    """The header's column names and ``[(line number, cells)]``, the line
    number being the file's line where the row starts (the header is 1)."""
    text = _text(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text.split("\n", 1)[0]), strict=True)
    rows, line = [], 1
    try:
        header = next(reader, None)
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportRefused([say("file_broken", line=line, problem=str(error))]) from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused([say("file_no_header")])
    columns = [cell.strip().lower() for cell in header]
    problems = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(say("file_unknown_columns", columns=", ".join(unknown), known=", ".join(COLUMNS)))
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(say("file_repeated_columns", columns=", ".join(repeated)))
    absent = [c for c in REQUIRED_COLUMNS if c not in columns]
    if absent:
        problems.append(say("file_missing_columns", columns=", ".join(absent)))
    if not rows and not problems:
        problems.append(say("file_empty"))
    if problems:
        raise ImportRefused(problems)
    return columns, rows


# -- checking each line ------------------------------------------------------------

def _cell(column, cell):
    """A cell as the JSON field would be given, or ValueError with a message."""
    if column == "spheres":
        return [code.strip() for code in cell.split(";") if code.strip()]
    if column in ("evaluation_object", "authorized_body"):
        word = cell.lower()
        if word in _YES or word in _NO:
            return word in _YES
        raise ValueError(say("csv_flag"))
    if column == "parent_body":
        if cell.isascii() and cell.isdigit():
            return int(cell)
        raise ValueError(say("whole_number"))
    if column == "contacts":
        try:
            return json.loads(cell)
        except ValueError:
            raise ValueError(say("csv_contacts")) from None
    return cell


def _flat(field, messages):
    """``["field: message"]`` from marshmallow's nested messages (a contact's
    field is ``contacts[2].email``)."""
    if isinstance(messages, dict):
        out = []
        for key, inner in messages.items():
            out += _flat(f"{field}[{key}]" if isinstance(key, int) else f"{field}.{key}", inner)
        return out
    return [f"{field}: {m}" for m in (messages if isinstance(messages, list) else [messages])]


class Line(NamedTuple):
    number: int
    given: dict  # the cells as JSON fields, before the schema
    data: dict  # loaded through the schema; None when the line is bad
    parent_unp: str
    problems: list

    @property
    def unp(self):
        """The line's УНП when it is well-formed, bad line or not: a
        repeated УНП is named even beside other problems."""
        unp = self.given.get("unp", "")
        return unp if valid_unp(unp) else None


def _check_line(number, columns, cells, schema):
    problems = []
    if len(cells) > len(columns):
        problems.append(say("csv_cells", n=len(cells), m=len(columns)))
    given, parent_unp = {}, None
    for column, cell in zip(columns, cells):
        cell = cell.strip()
        if not cell:
            continue
        if column == "parent_body_unp":
            parent_unp = cell
            continue
        try:
            given[column] = _cell(column, cell)
        except ValueError as error:
            problems += _flat(column, str(error))
    if parent_unp is not None:
        if "parent_body" in given:
            problems.append(f"parent_body_unp: {say('csv_two_parents')}")
        elif not valid_unp(parent_unp):
            problems.append(f"parent_body_unp: {say('unp')}")
    bad_fields = {p.split(":", 1)[0] for p in problems}
    data = None
    try:
        data = schema.load({k: v for k, v in given.items() if k not in bad_fields})
    except ValidationError as error:
        for field, messages in error.messages.items():
            problems += _flat(field, messages)
    return Line(number, given, data if not problems else None, parent_unp, problems)


def _check_across(lines):
    """What no single line shows: a УНП twice in the file or already
    registered, and parent bodies (by id or by УНП) that are not bodies."""
    first_line = {}
    for line in lines:
        if line.unp in first_line:
            line.problems.append(f"unp: {say('csv_repeated_unp', line=first_line[line.unp])}")
        elif line.unp:
            first_line[line.unp] = line.number
    registered = structure.ids_by_unp(first_line)
    for line in lines:
        if line.unp in registered and first_line[line.unp] == line.number:
            line.problems.append(f"unp: {say('unp_taken', id=registered[line.unp])}")

    parent_ids = {line.data["parent_body"] for line in lines if line.data and line.data.get("parent_body")}
    known = {}
    if parent_ids:
        known = {i: (kind, body) for i, kind, body in RatableObject.select(
            RatableObject.id, RatableObject.kind, RatableObject.is_authorized_body)
            .where(RatableObject.id.in_(sorted(parent_ids))).tuples()}
    in_file_bodies = {line.unp for line in lines if line.given.get("authorized_body") is True}
    parent_unps = sorted({line.parent_unp for line in lines if line.parent_unp and line.parent_unp not in first_line})
    registered_bodies = {}
    if parent_unps:
        registered_bodies = dict(RatableObject.select(RatableObject.unp, RatableObject.is_authorized_body)
                                 .where(RatableObject.unp.in_(parent_unps)).tuples())
    parent_of = {line.unp: line.parent_unp for line in lines if line.unp and line.parent_unp in first_line}
    for line in lines:
        if line.data is None:
            continue
        problem = None
        parent_id, parent_unp = line.data.get("parent_body"), line.parent_unp
        if parent_id:
            kind, body = known.get(parent_id, (None, False))
            if kind != RatableObject.ORGANIZATION:
                problem = f"parent_body: {say('no_organization', id=parent_id)}"
            elif not body:
                problem = f"parent_body: {say('not_a_body', id=parent_id)}"
        elif parent_unp:
            if parent_unp in first_line:
                if parent_unp not in in_file_bodies:
                    problem = f"parent_body_unp: {say('csv_not_a_body', unp=parent_unp)}"
                elif _circles(line.unp, parent_of):
                    problem = f"parent_body_unp: {say('parent_circle')}"
            elif parent_unp not in registered_bodies:
                problem = f"parent_body_unp: {say('csv_no_unp', unp=parent_unp)}"
            elif not registered_bodies[parent_unp]:
                problem = f"parent_body_unp: {say('csv_not_a_body', unp=parent_unp)}"
        if problem:
            line.problems.append(problem)


def _circles(unp, parent_of):
    seen, step = set(), parent_of.get(unp)
    while step is not None and step not in seen:
        if step == unp:
            return True
        seen.add(step)
        step = parent_of.get(step)
    return False


def check(raw, refs=None):
    """The file's organizations as ``structure.register_many`` takes them,
    or ImportRefused naming every bad line."""
    refs = refs or reference()
    columns, rows = read(raw)
    schema = OrganizationSchema(refs)
    lines = [_check_line(number, columns, cells, schema) for number, cells in rows]
    _check_across(lines)
    bad = {line.number: line.problems for line in lines if line.problems}
    if bad:
        raise ImportRefused(lines=bad)
    organizations = []
    for line in lines:
        item = resolve(line.data, refs)
        if line.parent_unp:
            item["parent_body_unp"] = line.parent_unp
        organizations.append(item)
    return organizations


# -- storing -----------------------------------------------------------------------

def id_ranges(ids):
    """Sorted ids as ``[[first, last], …]`` runs: an import's ids in a few
    numbers for the audit log, however many there are."""
    runs = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def import_organizations(user, raw):
    """Registers every organization of a CSV file, or none; one audit entry
    says how many and which. Returns the new ids. The caller has checked
    that ``user`` may register organizations."""
    organizations = check(raw)
    try:
        with write_transaction():
            ids = structure.register_many(organizations)
            unps = sorted(item["unp"] for item in organizations)
            audit.record(user, "organization.import", "organization", None, None,
                         {"created": len(ids), "ids": id_ranges(ids), "unp": [unps[0], unps[-1]]})
    except UNIQUE_VIOLATION:
        # Someone registered one of these УНП between the check and the
        # insert: the unique index refused it, and nothing was stored.
        raise ApiError({"file": [say("csv_raced")]}, status=409) from None
    return ids
