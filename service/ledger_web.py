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


i18n.register({
    "ru": {
        "verify.title": "Проверить оценку в реестре",
        "verify.intro": "Каждая оценка записывается в открытый реестр — цепочку записей, где каждая скреплена "
                        "хешем предыдущей, так что ни одну нельзя незаметно изменить или удалить. После "
                        "отправки оценки вы получаете квитанцию: номер записи и её хеш. Введите их, чтобы "
                        "убедиться, что оценка в реестре и учтена.",
        "verify.seq": "Номер записи", "verify.hash": "Хеш записи (64 знака)", "verify.submit": "Проверить",
        "verify.error.seq": "Номер записи — целое число больше нуля.",
        "verify.error.hash": "Хеш — 64 знака: цифры и латинские буквы a–f.",
        "verify.errors": "Квитанция не проверена:",
        "verify.not_found": "Записи с таким номером и хешем в реестре нет. Проверьте квитанцию.",
        "verify.found": "Запись № {seq} есть в реестре.",
        "verify.rating": "Кому: {name}. Период: {month}. Отправлена {created} (UTC).",
        "verify.status.counted": "Оценка учтена в рейтинге.",
        "verify.status.held": "Оценка сохранена и ждёт проверки модератором: похожих оценок пришло "
                              "необычно много. Пока она не учитывается в рейтинге.",
        "verify.status.rejected": "Модератор признал оценку накруткой: она сохранена, но не учитывается.",
        "verify.head": "Последняя запись реестра — № {seq}. Весь реестр: ",
        "verify.download": "ledger.jsonl (открытые данные)",
        "rate.receipt": "Квитанция: запись № {seq} в открытом реестре оценок.",
        "rate.receipt.check": "Проверить",
    },
    "be": {
        "verify.title": "Праверыць ацэнку ў рэестры",
        "verify.intro": "Кожная ацэнка запісваецца ў адкрыты рэестр — ланцужок запісаў, дзе кожны змацаваны "
                        "хэшам папярэдняга, так што ніводны нельга непрыкметна змяніць або выдаліць. Пасля "
                        "адпраўкі ацэнкі вы атрымліваеце квітанцыю: нумар запісу і яго хэш. Увядзіце іх, каб "
                        "пераканацца, што ацэнка ў рэестры і ўлічана.",
        "verify.seq": "Нумар запісу", "verify.hash": "Хэш запісу (64 знакі)", "verify.submit": "Праверыць",
        "verify.error.seq": "Нумар запісу — цэлы лік большы за нуль.",
        "verify.error.hash": "Хэш — 64 знакі: лічбы і лацінскія літары a–f.",
        "verify.errors": "Квітанцыя не праверана:",
        "verify.not_found": "Запісу з такім нумарам і хэшам у рэестры няма. Праверце квітанцыю.",
        "verify.found": "Запіс № {seq} ёсць у рэестры.",
        "verify.rating": "Каму: {name}. Перыяд: {month}. Адпраўлена {created} (UTC).",
        "verify.status.counted": "Ацэнка ўлічана ў рэйтынгу.",
        "verify.status.held": "Ацэнка захавана і чакае праверкі мадэратарам: падобных ацэнак прыйшло "
                              "незвычайна шмат. Пакуль яна не ўлічваецца ў рэйтынгу.",
        "verify.status.rejected": "Мадэратар прызнаў ацэнку накруткай: яна захавана, але не ўлічваецца.",
        "verify.head": "Апошні запіс рэестра — № {seq}. Увесь рэестр: ",
        "verify.download": "ledger.jsonl (адкрытыя даныя)",
        "rate.receipt": "Квітанцыя: запіс № {seq} у адкрытым рэестры ацэнак.",
        "rate.receipt.check": "Праверыць",
    },
    "en": {
        "verify.title": "Check a rating in the ledger",
        "verify.intro": "Every rating is written to an open ledger: a chain of entries, each sealed with the "
                        "hash of the one before, so none can be changed or removed unnoticed. After rating "
                        "you get a receipt: the entry's number and its hash. Enter them to see that your "
                        "rating is in the ledger and counted.",
        "verify.seq": "Entry number", "verify.hash": "Entry hash (64 characters)", "verify.submit": "Check",
        "verify.error.seq": "The entry number is a whole number above zero.",
        "verify.error.hash": "The hash is 64 characters: digits and the letters a–f.",
        "verify.errors": "The receipt was not checked:",
        "verify.not_found": "The ledger has no entry with this number and hash. Check the receipt.",
        "verify.found": "Entry no. {seq} is in the ledger.",
        "verify.rating": "For: {name}. Period: {month}. Sent {created} (UTC).",
        "verify.status.counted": "The rating is counted in the ranking.",
        "verify.status.held": "The rating is kept and waits for a moderator: unusually many similar ratings "
                              "arrived. Until then it is not counted.",
        "verify.status.rejected": "A moderator found the rating to be stuffing: it is kept but not counted.",
        "verify.head": "The ledger's last entry is no. {seq}. The whole ledger: ",
        "verify.download": "ledger.jsonl (open data)",
        "rate.receipt": "Receipt: entry no. {seq} in the open ledger of ratings.",
        "rate.receipt.check": "Check it",
    },
    "tt": {
        "verify.title": "Бәяне реестрда тикшерү",
        "verify.intro": "Һәр бәя ачык реестрга языла: язмалар чылбыры, һәрберсе алдагысының хеше белән "
                        "беркетелгән, шуңа күрә берсен дә сизелмичә үзгәртеп яки бетереп булмый. Бәя "
                        "җибәргәч, сез квитанция аласыз: язманың номеры һәм аның хеше. Бәягезнең реестрда "
                        "булуын һәм исәпкә алынуын белү өчен аларны кертегез.",
        "verify.seq": "Язма номеры", "verify.hash": "Язма хеше (64 билге)", "verify.submit": "Тикшерергә",
        "verify.error.seq": "Язма номеры — нульдән зуррак бөтен сан.",
        "verify.error.hash": "Хеш — 64 билге: саннар һәм a–f латин хәрефләре.",
        "verify.errors": "Квитанция тикшерелмәде:",
        "verify.not_found": "Реестрда мондый номерлы һәм хешлы язма юк. Квитанцияне тикшерегез.",
        "verify.found": "№ {seq} язма реестрда бар.",
        "verify.rating": "Кемгә: {name}. Чор: {month}. {created} (UTC) җибәрелгән.",
        "verify.status.counted": "Бәя рейтингта исәпкә алынган.",
        "verify.status.held": "Бәя сакланган һәм модератор тикшерүен көтә: охшаш бәяләр гадәттән тыш күп "
                              "килгән. Әлегә ул исәпкә алынмый.",
        "verify.status.rejected": "Модератор бәяне ясалма дип тапкан: ул сакланган, ләкин исәпкә алынмый.",
        "verify.head": "Реестрның соңгы язмасы — № {seq}. Бөтен реестр: ",
        "verify.download": "ledger.jsonl (ачык мәгълүматлар)",
        "rate.receipt": "Квитанция: бәяләрнең ачык реестрында № {seq} язма.",
        "rate.receipt.check": "Тикшерергә",
    },
})
