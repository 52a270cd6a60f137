"""The ratings ledger: an append-only hash chain of every rating and every
later change of a rating's status, which anyone can download and check.

An entry is ``seq``, ``kind`` (``rating`` or ``status``), ``rating``,
``object``, ``month`` (``2026-10``), ``scores`` (the four base criteria),
``verified``, ``channel``, ``status``, ``created`` (UTC, to the second) and
``prev_hash``; its ``hash`` is SHA-256 of ``prev_hash + "\\n" +`` the
canonical JSON of those fields (keys sorted, separators "," and ":", UTF-8
unescaped). The first entry's ``prev_hash`` is 64 zeros. Nothing personal
and no comment is ever in it.

Each entry is written in the transaction of what it records, after
locking the chain's head, so the chain is exactly what was committed, in
commit order. ``verify`` walks it, checks each link, and recomputes the
figures from it to compare with the stored aggregates.
"""
import datetime
import functools
import hashlib
import json
from collections import defaultdict

from service import ranking
from service.db import bulk_insert, database, is_sqlite, run
from service.models import BASE_CRITERIA, LedgerEntry, Rating, utcnow

GENESIS = "0" * 64
RATING, STATUS = "rating", "status"
_HEAD_ID = 1


def canonical(fields):
    """The text that is hashed: the entry without ``hash``."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash, body):
    return hashlib.sha256(f"{prev_hash}\n{body}".encode("utf-8")).hexdigest()


def month_key(month):
    year, m = divmod(int(month), 100)
    return f"{year}-{m:02d}"


def utc_second(moment):
    """``2026-10-05T08:14:03Z`` from a naive UTC datetime (or its text)."""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(seq, kind, rating_id, object_id, month, scores, verified, channel, status, created, prev_hash):
    return {"seq": seq, "kind": kind, "rating": rating_id, "object": object_id, "month": month_key(month),
            "scores": {c: int(scores[c]) for c in BASE_CRITERIA}, "verified": bool(verified),
            "channel": channel, "status": status, "created": utc_second(created), "prev_hash": prev_hash}


_quoted_texts = {}


def _quoted(text):
    """``text`` as a JSON string the way ``canonical`` writes it; kept, since
    kinds, channels and statuses are a handful of words."""
    quoted = _quoted_texts.get(text)
    if quoted is None:
        quoted = json.dumps(text, ensure_ascii=False)
        if len(_quoted_texts) < 1000:
            _quoted_texts[text] = quoted
    return quoted


def entry_body(seq, kind, rating_id, object_id, month_text, simplicity, information, timeliness, politeness,
               verified, channel, status, created_text, prev_hash):
    """``canonical(_fields(...))`` written out directly, keys in their sorted
    order: the same bytes (tests/test_ledger.py compares the two) several
    times faster, which the chain of millions of demo ratings needs.
    ``month_text`` is ``month_key``'s and ``created_text`` ``utc_second``'s,
    so that callers holding many entries of one month or second format
    them once."""
    return (f'{{"channel":{_quoted(channel)},"created":"{created_text}","kind":{_quoted(kind)},'
            f'"month":"{month_text}","object":{int(object_id)},"prev_hash":"{prev_hash}","rating":{int(rating_id)},'
            f'"scores":{{"information":{int(information)},"politeness":{int(politeness)},'
            f'"simplicity":{int(simplicity)},"timeliness":{int(timeliness)}}},"seq":{int(seq)},'
            f'"status":{_quoted(status)},"verified":{"true" if verified else "false"}}}')


def as_entry(body, hash_):
    """The published form of a stored entry: its fields with ``hash``."""
    entry = json.loads(body)
    entry["hash"] = hash_
    return entry


def as_line(body, hash_):
    """One line of ledger.jsonl, keys sorted like the body. "hash" sorts
    between "created" and "kind", and no value before "kind" can hold the
    text ',"kind":', so the hash is spliced in without parsing."""
    return body.replace(',"kind":', f',"hash":"{hash_}","kind":', 1)


# -- appending ----------------------------------------------------------------

def _locked_head():
    """The head, locked until the caller's transaction ends. SQLite has one
    writer at a time already (the writer queue); PostgreSQL locks the row."""
    lock = "" if is_sqlite() else " FOR UPDATE"
    row = run(f"SELECT seq, hash FROM ledger_head WHERE id = ?{lock}", (_HEAD_ID,)).fetchone()
    if row is None:
        # Only an empty database (the upgrade writes the row): whoever comes
        # first makes it, the others then wait on its lock.
        run("INSERT INTO ledger_head (id, seq, hash) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (_HEAD_ID, 0, GENESIS))
        row = run(f"SELECT seq, hash FROM ledger_head WHERE id = ?{lock}", (_HEAD_ID,)).fetchone()
    return int(row[0]), row[1]


_INSERT_PAGE = 100  # entries per INSERT statement: well under SQLite's limit of parameters


@functools.lru_cache(maxsize=None)
def _insert_entries(rows):
    return "INSERT INTO ledger_entry (seq, kind, rating, body, hash) VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * rows)


def _append(items):
    """Appends an entry for each of ``items`` (tuples of ``_fields``' values
    from ``kind`` on, ``prev_hash`` left out), in their order, under the
    head locked once; returns their receipts. A batch of ratings that
    commits together appends in three statements, not three each."""
    seq, prev_hash = _locked_head()
    rows, receipts = [], []
    for kind, rating_id, object_id, month, scores, verified, channel, status, created in items:
        seq += 1
        body = entry_body(seq, kind, rating_id, object_id, month_key(month), scores["simplicity"],
                          scores["information"], scores["timeliness"], scores["politeness"], verified, channel, status,
                          utc_second(created), prev_hash)
        prev_hash = link_hash(prev_hash, body)
        rows.append((seq, kind, rating_id, body, prev_hash))
        receipts.append({"seq": seq, "hash": prev_hash})
    for start in range(0, len(rows), _INSERT_PAGE):
        page = rows[start:start + _INSERT_PAGE]
        run(_insert_entries(len(page)), [value for row in page for value in row])
    run("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = ?", (seq, prev_hash, _HEAD_ID))
    return receipts


def record_ratings(ratings):
    """Appends new ratings, each ``(rating_id, object_id, month, scores,
    verified, channel, status, created)``, in their order; call inside their
    transaction, last (the head stays locked until the commit). Returns
    their receipts ``{seq, hash}``."""
    return _append([(RATING, *rating) for rating in ratings])


def record_rating(rating_id, object_id, month, scores, verified, channel, status, created):
    """Appends one new rating (``record_ratings``); returns its receipt."""
    return record_ratings([(rating_id, object_id, month, scores, verified, channel, status, created)])[0]


def record_status(rating, status, when=None):
    """Appends a change of ``rating``'s status (a Rating, or its id); call
    inside the transaction that changes it."""
    if not isinstance(rating, Rating):
        rating = Rating.get_by_id(rating)
    scores = {c: getattr(rating, c) for c in BASE_CRITERIA}
    return _append([(STATUS, rating.id, rating.object_id, rating.month, scores, rating.verified, rating.channel,
                     status, when or utcnow())])[0]


def receipt_of(rating_id):
    """``{"seq", "hash"}`` of the entry that recorded ``rating_id``'s arrival."""
    row = (LedgerEntry.select(LedgerEntry.seq, LedgerEntry.hash)
           .where((LedgerEntry.rating == rating_id) & (LedgerEntry.kind == RATING)).tuples().first())
    return {"seq": int(row[0]), "hash": row[1]} if row else None


def head():
    """``{"seq", "hash"}`` of the last entry; seq 0 and 64 zeros when empty."""
    row = run("SELECT seq, hash FROM ledger_head WHERE id = ?", (_HEAD_ID,)).fetchone()
    return {"seq": int(row[0]), "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}


def entries(after=0, limit=100):
    rows = (LedgerEntry.select(LedgerEntry.body, LedgerEntry.hash).where(LedgerEntry.seq > after)
            .order_by(LedgerEntry.seq).limit(limit).tuples())
    return [as_entry(body, digest) for body, digest in rows]


def entry(seq):
    row = LedgerEntry.select(LedgerEntry.body, LedgerEntry.hash).where(LedgerEntry.seq == seq).tuples().first()
    return as_entry(*row) if row else None


def current_status(rating_id):
    """The status the chain's last entry about ``rating_id`` gives."""
    row = (LedgerEntry.select(LedgerEntry.body).where(LedgerEntry.rating == rating_id)
           .order_by(LedgerEntry.seq.desc()).tuples().first())
    return json.loads(row[0])["status"] if row else None


def stream_lines(page=5000):
    """Every entry as a line of JSON, oldest first, read a page at a time."""
    after = 0
    while True:
        rows = list(LedgerEntry.select(LedgerEntry.seq, LedgerEntry.body, LedgerEntry.hash)
                    .where(LedgerEntry.seq > after).order_by(LedgerEntry.seq).limit(page).tuples())
        if not rows:
            return
        for seq, body, digest in rows:
            yield as_line(body, digest) + "\n"
        after = rows[-1][0]


# -- building the chain for ratings stored before it existed ----------------------

def build_for_existing_ratings():
    """Appends an entry for every rating not yet in the chain, oldest first
    (by arrival, then id), each with its current status. Used by the schema
    upgrade; in bulk, in the caller's transaction."""
    known = {r for r, in LedgerEntry.select(LedgerEntry.rating).where(LedgerEntry.kind == RATING).tuples()}
    # The driver's own rows: peewee's conversion of each value costs more
    # than the entry itself for millions of ratings.
    cursor = database.cursor()
    cursor.execute("SELECT id, object_id, month, simplicity, information, timeliness, politeness, verified, "
                   "channel, status, created FROM rating ORDER BY created, id")
    months = {}

    def unrecorded():
        while rows := cursor.fetchmany(5000):
            for rating_id, object_id, month, s, i, t, p, verified, channel, status, created in rows:
                if rating_id in known:
                    continue
                month_text = months.get(month) or months.setdefault(month, month_key(month))
                yield rating_id, object_id, month_text, s, i, t, p, verified, channel, status, utc_second(created)

    return append_ratings(unrecorded())


def append_ratings(rows, page=20_000):
    """Appends one ``rating`` entry for each of ``rows``, in their order:
    ``(rating id, object id, month as month_key writes it, simplicity,
    information, timeliness, politeness, verified, channel, status,
    created as utc_second writes it)``. In bulk, in the caller's
    transaction (for ratings stored without their entries: the schema
    upgrade, the demo loader). Returns how many were appended."""
    seq, prev_hash = _locked_head()
    sha256, body_of = hashlib.sha256, entry_body
    batch, added = [], 0
    for rating_id, object_id, month_text, s, i, t, p, verified, channel, status, created_text in rows:
        seq += 1
        body = body_of(seq, RATING, rating_id, object_id, month_text, s, i, t, p, verified, channel, status,
                       created_text, prev_hash)
        prev_hash = sha256(f"{prev_hash}\n{body}".encode()).hexdigest()
        batch.append((seq, RATING, rating_id, body, prev_hash))
        if len(batch) >= page:
            _flush(batch)
            added += len(batch)
            batch = []
    _flush(batch)
    added += len(batch)
    run("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = ?", (seq, prev_hash, _HEAD_ID))
    return added


def _flush(rows):
    if rows:
        E = LedgerEntry
        # JSON writes a tab or a line break as an escape, so only a
        # backslash makes a body need COPY's escaping.
        plain = not any("\\" in row[3] for row in rows)
        bulk_insert(E, [E.seq, E.kind, E.rating, E.body, E.hash], rows, converted=True, plain=plain)


# -- verifying ----------------------------------------------------------------

class Problem(Exception):
    """The first thing in the chain that does not hold."""

    def __init__(self, seq, message):
        super().__init__(f"entry {seq}: {message}" if seq is not None else message)
        self.seq = seq


def _checked_links(lines):
    """Entries (as dicts) from lines of JSON, each link checked: seq follows
    seq, prev_hash is the previous hash, hash is the body's."""
    prev_hash, expected = GENESIS, 1
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            raise Problem(expected, "is not JSON") from None
        seq = entry.get("seq")
        if seq != expected:
            raise Problem(expected, f"missing or moved: the chain goes on with seq {seq}")
        if entry.get("prev_hash") != prev_hash:
            raise Problem(seq, "prev_hash is not the previous entry's hash (an entry removed or moved?)")
        claimed = entry.pop("hash", None)
        if link_hash(prev_hash, canonical(entry)) != claimed:
            raise Problem(seq, "hash does not match its content (changed after it was written?)")
        entry["hash"] = claimed
        prev_hash, expected = claimed, expected + 1
        yield entry


def sums_from_entries(entries_):
    """{(object, period): Sums} of counted ratings, the last status of each
    rating winning, as the service keeps them (ranking.add_to_aggregates)."""
    latest = {}
    for item in entries_:
        latest[item["rating"]] = item
    sums = defaultdict(ranking.Sums)
    for item in latest.values():
        if item["status"] != Rating.COUNTED:
            continue
        scores = item["scores"]
        total = sum(scores[c] for c in BASE_CRITERIA)
        year, month = item["month"].split("-")
        for period in ranking.periods_of_month(int(year) * 100 + int(month)):
            s = sums[(item["object"], period)]
            s.n += 1
            for c in BASE_CRITERIA:
                setattr(s, c, getattr(s, c) + scores[c])
            s.satisfied += 1 if total >= ranking.SATISFIED_TOTAL else 0
            s.squares += total * total
            s.verified += 1 if item["verified"] else 0
    return dict(sums)


def verify(echo=lambda message: None):
    """Checks the stored chain link by link, against the ratings table, and
    against the stored aggregates. Returns the number of entries; raises
    Problem naming the first entry that does not hold."""
    head_row = head()
    latest, first_seq, count, last_hash = {}, {}, 0, GENESIS
    for item in _checked_links(stream_lines()):
        count, last_hash = count + 1, item["hash"]
        rating_id = item["rating"]
        if item["kind"] == RATING:
            if rating_id in first_seq:
                raise Problem(item["seq"], f"rating {rating_id} entered twice (first at {first_seq[rating_id]})")
            first_seq[rating_id] = item["seq"]
        elif rating_id not in first_seq:
            raise Problem(item["seq"], f"a change of status of rating {rating_id}, which is not in the chain")
        latest[rating_id] = item
    if (count, last_hash) != (head_row["seq"], head_row["hash"]):
        raise Problem(count + 1 if count < head_row["seq"] else count,
                      f"the head says the chain ends at {head_row['seq']}, it ends at {count} "
                      "(entries removed from its end, or the head changed?)")
    echo(f"{count} entries, every link holds")

    R = Rating
    columns = (R.id, R.object, R.month, R.simplicity, R.information, R.timeliness, R.politeness, R.verified,
               R.status)
    seen = 0
    for rating_id, object_id, month, s, i, t, p, verified, status in R.select(*columns).tuples().iterator():
        item = latest.get(rating_id)
        if item is None:
            raise Problem(None, f"rating {rating_id} is stored but not in the chain")
        stored = (object_id, month_key(month), {"simplicity": s, "information": i, "timeliness": t,
                                                "politeness": p}, bool(verified), status)
        chained = (item["object"], item["month"], item["scores"], item["verified"], item["status"])
        if stored != chained:
            raise Problem(first_seq[rating_id], f"rating {rating_id} is stored as {_describe(stored)}, "
                                                f"the chain says {_describe(chained)}")
        seen += 1
    if seen != len(latest):
        missing = sorted(set(latest) - {r for r, in R.select(R.id).tuples()})[0]
        raise Problem(first_seq[missing], f"rating {missing} is in the chain but no longer stored")
    echo(f"{seen} ratings match their entries")

    expected = sums_from_entries(latest.values())
    stored = {key: value for key, value in ranking.stored_aggregates().items() if value.n}
    for key in sorted(set(expected) | set(stored), key=str):
        if expected.get(key) != stored.get(key):
            object_id, period = key
            raise Problem(None, f"the aggregates of object {object_id} for {period} differ from the chain: "
                                f"stored {stored.get(key)}, from the chain {expected.get(key)}")
    echo(f"{len(expected)} aggregates match the chain")
    return count


def _describe(values):
    object_id, month, scores, verified, status = values
    marks = "/".join(str(scores[c]) for c in BASE_CRITERIA)
    return f"object {object_id}, {month}, scores {marks}, {'verified, ' if verified else ''}{status}"
