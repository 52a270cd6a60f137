"""The ratings ledger for everyone: ``/api/v1/ledger/head``,
``/api/v1/ledger``, ``/opendata/ledger.jsonl`` and the page ``/verify``,
where a visitor pastes the receipt their rating got."""
import re

import click
from flask.cli import with_appcontext
from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context
from marshmallow import Schema, ValidationError, fields, validate

from service import catalog, i18n, ledger
from service.db import database
from service.errors import ApiError
from service.i18n import current_language
from service.inputs import MAX_ID

bp = Blueprint("ledger", __name__)


class LedgerQuerySchema(Schema):
    """A page of the chain: the entries after ``after``, at most ``limit``."""
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


ledger_query = LedgerQuerySchema()
_HASH = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/api/v1/ledger/head")
def head_json():
    """The chain's last entry: its seq and hash."""
    return jsonify(ledger.head())


@bp.get("/api/v1/ledger")
def entries_json():
    """Entries of the chain, oldest first, after a seq."""
    try:
        args = ledger_query.load(request.args)
    except ValidationError as error:
        raise ApiError(error.messages) from None
    return jsonify(items=ledger.entries(args["after"], args["limit"]))


@bp.get("/opendata/ledger.jsonl")
def ledger_jsonl():
    # Streamed page by page: the real portal's chain is some 100 MB.
    response = Response(stream_with_context(ledger.stream_lines()), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = 'attachment; filename="ocenka-ledger.jsonl"'
    response.headers["Cache-Control"] = "no-cache"
    return response


def _receipt(args):
    """(seq, hash, errors) from the form, every problem named."""
    errors = []
    seq_text = (args.get("seq") or "").strip()
    hash_text = (args.get("hash") or "").strip().lower()
    seq = None
    if not seq_text.isdigit() or not 0 < int(seq_text) <= MAX_ID:
        errors.append(i18n.translate("verify.error.seq"))
    else:
        seq = int(seq_text)
    if not _HASH.match(hash_text):
        errors.append(i18n.translate("verify.error.hash"))
    return seq, hash_text, errors


@bp.get("/verify")
def verify_page():
    """Is this receipt's rating in the chain, and is it counted?"""
    lang = current_language()
    asked = "seq" in request.args or "hash" in request.args
    seq, digest, errors = _receipt(request.args) if asked else (None, "", [])
    result = None
    if asked and not errors:
        entry = ledger.entry(seq)
        if entry is None or entry["hash"] != digest:
            result = {"found": False}
        else:
            status = ledger.current_status(entry["rating"])
            name = catalog.names([entry["object"]]).get(entry["object"], "")
            result = {"found": True, "entry": entry, "status": status, "object_name": name,
                      "kind": entry["kind"], "head": ledger.head()}
    values = {"seq": request.args.get("seq", ""), "hash": request.args.get("hash", "")}
    body = render_template("verify.html", lang=lang, values=values, errors=errors, result=result)
    return body, 400 if errors else 200


@click.command("verify-ledger")
@with_appcontext
def verify_ledger_command():
    """Check the ratings ledger: every link, every rating, every aggregate."""
    with database.connection_context():
        try:
            count = ledger.verify(echo=click.echo)
        except ledger.Problem as problem:
            raise click.ClickException(f"the ledger does not hold: {problem}") from None
    click.echo(f"the ledger holds: {count} entries")
