#!/usr/bin/env python3
"""Check a running Ocenka from its open data alone.

For journalists and auditors (docs/auditing.md): given the address of an
Ocenka portal, this downloads the ratings ledger (/opendata/ledger.jsonl)
and the list of objects (/opendata/objects.csv), checks every link of the
ledger's hash chain, recomputes every object's figures and the rankings
from them by the published rules (docs/ranking.md, formula bayes10-ci95-v1),
fetches what the portal's API publishes, and prints every difference, then
"match" (exit code 0) or "mismatch" (exit code 1). Exit code 2: the check
could not be made (the portal did not answer, or hides its results).

    python3 verify_ocenka.py https://ocenka.example.by
    python3 verify_ocenka.py http://127.0.0.1:8000 --sample 0      # every object

Python 3.8 or later, standard library only: copy this one file anywhere.
"""
import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import random
import sys
import urllib.error
import urllib.parse
import urllib.request
from bisect import bisect_left, bisect_right
from collections import defaultdict

GENESIS = "0" * 64
CRITERIA = ("simplicity", "information", "timeliness", "politeness")
COUNTED = "counted"
FORMULA = "bayes10-ci95-v1"
PRIOR_WEIGHT = 10  # C
Z_95 = 1.96
SATISFIED_TOTAL = 16  # four scores adding up to 16 have a mean of 4
TOLERANCE = 1e-9  # floats are compared to this (relative) precision
PAGE = 50_000  # the largest page GET /api/v1/rankings gives


class Unavailable(Exception):
    """The check cannot be made (exit code 2)."""


class ChainBroken(Exception):
    """The first ledger entry that does not hold."""

    def __init__(self, seq, message):
        super().__init__(f"ledger entry {seq}: {message}")
        self.seq = seq


# -- reading the portal ----------------------------------------------------------

class Portal:
    def __init__(self, base, timeout=60):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.requests = 0

    def open(self, path, params=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        # gzip where the portal compresses (its JSON answers; the open data
        # files are streamed as they are).
        request = urllib.request.Request(url, headers={"User-Agent": "verify_ocenka/1",
                                                       "Accept-Encoding": "gzip"})
        self.requests += 1
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            detail = error.read()
            if error.headers.get("Content-Encoding") == "gzip":
                detail = gzip.decompress(detail)
            detail = detail.decode("utf-8", "replace")[:300]
            raise Unavailable(f"{url}: HTTP {error.code} {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise Unavailable(f"{url}: {error}") from None
        if response.headers.get("Content-Encoding") == "gzip":
            return gzip.GzipFile(fileobj=response)
        return response

    def json(self, path, params=None):
        with self.open(path, params) as response:
            return json.loads(response.read().decode("utf-8"))

    def text(self, path):
        with self.open(path) as response:
            return response.read().decode("utf-8")

    def lines(self, path):
        with self.open(path) as response:
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line:
                    yield line


def canonical(fields):
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev_hash, body):
    return hashlib.sha256(f"{prev_hash}\n{body}".encode("utf-8")).hexdigest()


class Ledger:
    """The chain as read so far: each rating's latest entry, compactly."""

    def __init__(self):
        self.count, self.last_hash = 0, GENESIS
        self.ratings = {}  # rating id -> (object, month, s, i, t, p, verified, status)

    def add(self, entry):
        """Checks one entry's link and takes it in; raises ChainBroken."""
        expected = self.count + 1
        if not isinstance(entry, dict):
            raise ChainBroken(expected, "is not a JSON object")
        seq = entry.get("seq")
        if seq != expected:
            raise ChainBroken(expected, f"missing or moved: the chain goes on with seq {seq}")
        if entry.get("prev_hash") != self.last_hash:
            raise ChainBroken(seq, "prev_hash is not the previous entry's hash (an entry removed or moved?)")
        fields = dict(entry)
        claimed = fields.pop("hash", None)
        if link_hash(self.last_hash, canonical(fields)) != claimed:
            raise ChainBroken(seq, "hash does not match its content (changed after it was written?)")
        try:
            rating, kind, status, scores = entry["rating"], entry["kind"], entry["status"], entry["scores"]
            year, month = entry["month"].split("-")
            # Interned: a big portal's ledger has hundreds of thousands of
            # ratings but only some dozens of months.
            record = (entry["object"], sys.intern(f"{int(year):04d}-{int(month):02d}"),
                      *(int(scores[c]) for c in CRITERIA), bool(entry.get("verified")), sys.intern(str(status)))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ChainBroken(seq, f"lacks a field or has a malformed one ({error})") from None
        if kind == "rating" and rating in self.ratings:
            raise ChainBroken(seq, f"rating {rating} entered a second time")
        if kind == "status" and rating not in self.ratings:
            raise ChainBroken(seq, f"a change of status of rating {rating}, which is not in the chain before it")
        if kind not in ("rating", "status"):
            raise ChainBroken(seq, f"unknown kind {kind!r}")
        self.ratings[rating] = record
        self.count, self.last_hash = seq, claimed

    def add_line(self, line):
        try:
            entry = json.loads(line)
        except ValueError:
            raise ChainBroken(self.count + 1, "is not JSON") from None
        self.add(entry)

    def extend(self, portal, head):
        """Reads the entries after this chain's end up to ``head`` through
        GET /api/v1/ledger (ratings that arrived while checking)."""
        while self.count < head["seq"]:
            items = portal.json("/api/v1/ledger", {"after": self.count, "limit": 1000})["items"]
            if not items:
                break
            for entry in items:
                self.add(entry)
        if self.count != head["seq"] or self.last_hash != head["hash"]:
            raise ChainBroken(self.count, f"the published head is seq {head['seq']} hash {head['hash'][:12]}…, "
                                          f"the chain ends at seq {self.count} hash {self.last_hash[:12]}…")


# -- objects.csv -----------------------------------------------------------------

def _ids(text):
    return [int(part) for part in (text or "").split()]


def read_objects(text):
    """{id: row} from objects.csv's text, numbers as numbers."""
    objects = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")):
        objects[int(row["id"])] = {
            "id": int(row["id"]), "kind": row["kind"],
            "organization_id": int(row["organization_id"]) if row["organization_id"] else None,
            "name": row["name"], "published": row["published"] == "1",
            "evaluation_object": row["evaluation_object"] == "1",
            "spheres": row["spheres"].split(), "region": row["region"] or None,
            "in_registries_of": _ids(row["in_registries_of"]), "counted_in": _ids(row["counted_in"]),
        }
    return objects


def rollup(objects):
    """{published organization: the objects whose ratings its figures
    count}: itself and its subdivisions, and those of every organization in
    its bodies' accepted registries, transitively (docs/ranking.md)."""
    own = defaultdict(set)
    listed = defaultdict(set)  # body -> organizations its accepted registry lists
    for obj in objects.values():
        owner = obj["id"] if obj["kind"] == "organization" else obj["organization_id"]
        own[owner].add(obj["id"])
        for body in obj["in_registries_of"]:
            listed[body].add(obj["id"])
    result = {}
    for obj in objects.values():
        if obj["kind"] != "organization" or not obj["published"]:
            continue
        seen, stack = {obj["id"]}, [obj["id"]]
        while stack:
            for child in listed.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        result[obj["id"]] = set().union(*(own[o] for o in seen))
    return result


# -- the rules -------------------------------------------------------------------

def empty():
    return [0] * 8  # n, simplicity, information, timeliness, politeness, satisfied, squares, verified


def add_into(target, other):
    for index, value in enumerate(other):
        target[index] += value


def previous_period(key):
    """The previous period of the same length, as the API names periods:
    ``2026-10``, ``2026-Q3``, ``2026-H2``, ``2026``."""
    year = int(key[:4])
    if len(key) == 4:
        return str(year - 1)
    if key[5] in "QH":
        letter, number, last = key[5], int(key[6]), {"Q": 4, "H": 2}[key[5]]
        return f"{year - 1}-{letter}{last}" if number == 1 else f"{year}-{letter}{number - 1}"
    month = int(key[5:])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def months_of(key):
    """The months (``2026-10``) a period other than all time is made of."""
    year = int(key[:4])
    if len(key) == 4:
        first, last = 1, 12
    elif key[5] == "Q":
        first = 3 * int(key[6]) - 2
        last = first + 2
    elif key[5] == "H":
        first = 6 * int(key[6]) - 5
        last = first + 5
    else:
        return [key]
    return [f"{year}-{m:02d}" for m in range(first, last + 1)]


def longer_periods(month):
    """The quarter, half-year and year a month (``2026-10``) counts in."""
    year, m = int(month[:4]), int(month[5:])
    return [f"{year}-Q{(m - 1) // 3 + 1}", f"{year}-H{(m - 1) // 6 + 1}", f"{year}"]


class Table:
    """A group's ranking for a period, made as service/ranking.py makes it
    (the same arithmetic in the same order, so that equal scores tie the
    same way)."""

    def __init__(self, rows, min_ratings, previous=None):
        # rows: [(organization id, sums)]
        n_total = sum(s[0] for _, s in rows)
        total = sum(s[1] + s[2] + s[3] + s[4] for _, s in rows)
        squares = sum(s[6] for _, s in rows)
        self.group_mean = total / len(CRITERIA) / n_total if n_total else None
        self.sigma = None
        if n_total:
            mean = total / len(CRITERIA) / n_total
            variance = squares / len(CRITERIA) ** 2 / n_total - mean * mean
            self.sigma = math.sqrt(variance) if variance > 0 else 0.0
        prior, z_sigma = PRIOR_WEIGHT * (self.group_mean or 0.0), Z_95 * (self.sigma or 0.0)
        scored = []
        for org, s in rows:
            n = s[0]
            score = (prior + (s[1] + s[2] + s[3] + s[4]) / len(CRITERIA)) / (PRIOR_WEIGHT + n)
            half = z_sigma / math.sqrt(PRIOR_WEIGHT + n)
            scored.append((-score, -n, org, score, half, s))
        scored.sort(key=lambda row: row[:3])
        ranked = [row for row in scored if -row[1] >= min_ratings]
        lows = [row[3] - row[4] for row in ranked]
        highs = [row[3] + row[4] for row in ranked]
        sorted_lows, sorted_highs, count = sorted(lows), sorted(highs), len(ranked)
        self.entries, self.by_id, self.ranked, self.min_ratings = [], {}, len(ranked), min_ratings
        previous = previous or {}
        for position, (row, low, high) in enumerate(zip(ranked, lows, highs), start=1):
            rank_low = 1 + count - bisect_right(sorted_lows, high)  # others wholly above
            rank_high = count - bisect_left(sorted_highs, low)  # others reaching this low, + 1
            before = previous.get(row[2], {}).get("rank")
            change = None if before is None else before - position
            entry = {"id": row[2], "rank": position, "rank_range": [rank_low, rank_high], "rank_change": change,
                     "rank_change_significant": change is not None and not rank_low <= before <= rank_high,
                     "score": row[3], "interval": [low, high], "sums": row[5]}
            self.entries.append(entry)
            self.by_id[row[2]] = entry
        for row in scored:
            if -row[1] < min_ratings:
                entry = {"id": row[2], "rank": None, "rank_range": None, "rank_change": None,
                         "rank_change_significant": False, "score": row[3],
                         "interval": [row[3] - row[4], row[3] + row[4]], "sums": row[5]}
                self.entries.append(entry)
                self.by_id[row[2]] = entry


def figures(sums, period, table, entry):
    """An object's figures as GET /api/v1/objects/<id>?period= gives them."""
    n = sums[0]
    total = sums[1] + sums[2] + sums[3] + sums[4]
    score = None
    if n:
        score = (PRIOR_WEIGHT * (table.group_mean or 0.0) + total / len(CRITERIA)) / (PRIOR_WEIGHT + n)
    interval = None
    if score is not None and table.sigma is not None:
        half = Z_95 * table.sigma / math.sqrt(PRIOR_WEIGHT + n)
        interval = [score - half, score + half]
    ranked = entry is not None and entry["rank"] is not None
    return {
        "period": period, "n": n,
        "overall": total / len(CRITERIA) / n if n else None,
        "criteria": {c: (sums[1 + i] / n if n else None) for i, c in enumerate(CRITERIA)},
        "satisfaction": 100.0 * sums[5] / n if n else None,
        "verified_share": 100.0 * sums[7] / n if n else None,
        "score": score, "interval": interval,
        "rank": entry["rank"] if ranked else None,
        "rank_range": entry["rank_range"] if ranked else None,
        "rank_change": entry["rank_change"] if ranked else None,
        "rank_change_significant": bool(ranked and entry["rank_change_significant"]),
        "formula": FORMULA,
    }


def ranking_row(entry):
    s, n = entry["sums"], entry["sums"][0]
    return {"id": entry["id"], "rank": entry["rank"], "rank_range": entry["rank_range"],
            "rank_change": entry["rank_change"], "rank_change_significant": entry["rank_change_significant"],
            "score": entry["score"], "interval": entry["interval"], "n": n,
            "overall": (s[1] + s[2] + s[3] + s[4]) / len(CRITERIA) / n,
            "criteria": {c: s[1 + i] / n for i, c in enumerate(CRITERIA)},
            "satisfaction": 100.0 * s[5] / n}


class Model:
    """Everything recomputed from the two files."""

    def __init__(self, objects, ratings, min_ratings):
        self.objects, self.min_ratings = objects, min_ratings
        self.members = rollup(objects)
        self.own = defaultdict(empty)  # (object, period) -> sums of counted ratings
        self.months = defaultdict(set)  # object -> months with any entry about it
        for object_id, month, s, i, t, p, verified, status in ratings.values():
            self.months[object_id].add(month)
            if status != COUNTED:
                continue
            total = s + i + t + p
            one = [1, s, i, t, p, 1 if total >= SATISFIED_TOTAL else 0, total * total, 1 if verified else 0]
            add_into(self.own[(object_id, month)], one)
            add_into(self.own[(object_id, "all")], one)
        self._rolled = {}
        self._tables = {}

    def counted_in(self):
        """{object: published organizations counting it}, from the structure."""
        result = defaultdict(set)
        for org, members in self.members.items():
            for obj in members:
                result[obj].add(org)
        return result

    def rolled(self, period):
        """{published organization: its rolled-up sums} for a period."""
        if period not in self._rolled:
            sums = {}
            for org, members in self.members.items():
                total = empty()
                for obj in members:
                    self._add_own(total, obj, period)
                sums[org] = total
            self._rolled[period] = sums
        return self._rolled[period]

    def _add_own(self, total, object_id, period):
        """Adds an object's own sums for a period: kept per month and for
        all time, summed over the months for a quarter, half-year or year."""
        for key in ([period] if period == "all" else months_of(period)):
            own = self.own.get((object_id, key))
            if own:
                add_into(total, own)

    def sums(self, object_id, period):
        obj = self.objects[object_id]
        if obj["kind"] == "organization":
            return self.rolled(period).get(object_id) or empty()
        total = empty()
        self._add_own(total, object_id, period)
        return total

    def table(self, period, sphere=None, region=None, with_previous=True):
        key = (period, sphere, region, with_previous)
        if key not in self._tables:
            rows = []
            for org, sums in sorted(self.rolled(period).items()):
                obj = self.objects[org]
                if not (sums[0] and obj["evaluation_object"]):
                    continue
                if (sphere and sphere not in obj["spheres"]) or (region and obj["region"] != region):
                    continue
                rows.append((org, sums))
            previous = None
            if with_previous and period != "all":
                previous = self.table(previous_period(period), sphere, region, with_previous=False).by_id
            self._tables[key] = Table(rows, self.min_ratings, previous)
        return self._tables[key]

    def object_months(self, object_id):
        obj = self.objects[object_id]
        members = self.members.get(object_id, {object_id}) if obj["kind"] == "organization" else {object_id}
        return sorted(set().union(*(self.months.get(m, set()) for m in members)))


# -- comparing -------------------------------------------------------------------

def _close(a, b):
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def differences(where, published, recomputed, keys):
    found = []
    for key in keys:
        if key not in published:
            found.append(f"{where}: {key} is missing from what the portal publishes")
        elif not _close(published[key], recomputed[key]):
            found.append(f"{where}: {key} published {json.dumps(published[key], ensure_ascii=False)}, "
                         f"recomputed {json.dumps(recomputed[key], ensure_ascii=False)}")
    return found


FIGURE_KEYS = ("n", "overall", "criteria", "satisfaction", "verified_share", "score", "interval", "rank",
               "rank_range", "rank_change", "rank_change_significant", "formula")
ROW_KEYS = ("id", "rank", "rank_range", "rank_change", "rank_change_significant", "score", "interval", "n",
            "overall", "criteria", "satisfaction")


def check_ranking(portal, model, period="all", sphere=None, region=None):
    """The whole ranking of a group, row by row."""
    params = {"period": period, "limit": PAGE, "offset": 0}
    params.update({k: v for k, v in (("sphere", sphere), ("region", region)) if v})
    first = portal.json("/api/v1/rankings", params)
    items = list(first["items"])
    while len(items) < first["total"]:
        params["offset"] = len(items)
        page = portal.json("/api/v1/rankings", params)["items"]
        if not page:
            break
        items.extend(page)
    table = model.table(period, sphere, region)
    name = "ranking " + " ".join(f"{k}={v}" for k, v in (("period", period), ("sphere", sphere),
                                                             ("region", region)) if v)
    found = differences(name, first, {"group_mean": table.group_mean, "sigma": table.sigma, "formula": FORMULA,
                                      "ranked": table.ranked, "total": len(table.entries),
                                      "prior_weight": PRIOR_WEIGHT, "min_ratings": model.min_ratings},
                        ("formula", "prior_weight", "min_ratings", "group_mean", "sigma", "ranked", "total"))
    published_ids = [item.get("id") for item in items]
    recomputed_ids = [entry["id"] for entry in table.entries]
    for missing in sorted(set(recomputed_ids) - set(published_ids)):
        found.append(f"{name}: organization {missing} is not in the published ranking, recomputed "
                     f"{_place(table.by_id[missing])}")
    for extra in sorted(set(published_ids) - set(recomputed_ids), key=str):
        found.append(f"{name}: organization {extra} is in the published ranking but has no counted "
                     f"ratings in the ledger for this group")
    by_id = {item.get("id"): (row, item) for row, item in enumerate(items, start=1)}
    for position, entry in enumerate(table.entries, start=1):
        row, item = by_id.get(entry["id"], (None, None))
        if item is None:
            continue
        if row != position:
            found.append(f"{name}: organization {entry['id']} is row {row} of the published ranking, "
                         f"recomputed row {position}")
        found += differences(f"{name}: organization {entry['id']}", item, ranking_row(entry), ROW_KEYS)
    return found


def _place(entry):
    return f"rank {entry['rank']}" if entry["rank"] is not None else "listed without a place"


def check_object(portal, model, object_id, period):
    body = portal.json(f"/api/v1/objects/{object_id}", {"period": period})
    published = body.get("figures")
    if published is None:
        raise Unavailable(f"object {object_id}: the portal publishes no figures (results not public?)")
    table = model.table(period)
    recomputed = figures(model.sums(object_id, period), period, table, table.by_id.get(object_id))
    return differences(f"object {object_id} period {period}", published, recomputed, FIGURE_KEYS)


def check_stats(portal, model):
    total = empty()
    for obj in model.objects.values():
        if obj["published"]:
            own = model.own.get((obj["id"], "all"))
            if own:
                add_into(total, own)
    published = portal.json("/api/v1/stats")
    recomputed = {"ratings": total[0], "objects": sum(1 for o in model.objects.values() if o["published"]),
                  "satisfaction": 100.0 * total[5] / total[0] if total[0] else None}
    return differences("stats", published, recomputed, ("objects", "ratings", "satisfaction"))


def check_structure(model):
    """objects.csv's counted_in against the roll-up its other columns imply."""
    found, implied = [], model.counted_in()
    for obj in model.objects.values():
        stated = set(obj["counted_in"])
        if stated != implied.get(obj["id"], set()):
            found.append(f"objects.csv: object {obj['id']} counted_in says {sorted(stated)}, its organization "
                         f"and registries imply {sorted(implied.get(obj['id'], set()))}")
    return found


# -- the run ---------------------------------------------------------------------

class Audit:
    def __init__(self, portal, args, out=print):
        self.portal, self.args, self.out = portal, args, out

    def load(self):
        self.objects = read_objects(self.portal.text("/opendata/objects.csv"))
        self.ledger = Ledger()
        for line in self.portal.lines("/opendata/ledger.jsonl"):
            self.ledger.add_line(line)
        self.out(f"ledger: {self.ledger.count} entries, every link holds; {len(self.ledger.ratings)} ratings")
        self.catch_up()
        self.out(f"objects.csv: {len(self.objects)} objects")

    def catch_up(self):
        """Reads what the chain gained since (ratings arriving while we
        check); returns True when it grew."""
        head = self.portal.json("/api/v1/ledger/head")
        if head["seq"] < self.ledger.count:
            raise ChainBroken(head["seq"] + 1, f"the published head is seq {head['seq']}, but the downloaded chain "
                                               f"goes on to seq {self.ledger.count} (entries removed from its end?)")
        grew = head["seq"] > self.ledger.count
        self.ledger.extend(self.portal, head)
        return grew

    def model(self):
        return Model(self.objects, self.ledger.ratings, self.min_ratings)

    def checks(self, model):
        """[(name, callable returning differences)]."""
        checks = [("structure", lambda m: check_structure(m)), ("stats", lambda m: check_stats(self.portal, m)),
                  ("ranking all", lambda m: check_ranking(self.portal, m))]
        if self.args.groups:
            spheres = sorted({s for o in self.objects.values() for s in o["spheres"]})
            regions = sorted({o["region"] for o in self.objects.values() if o["region"]})
            checks += [(f"ranking sphere {s}", lambda m, s=s: check_ranking(self.portal, m, sphere=s))
                       for s in spheres]
            checks += [(f"ranking region {r}", lambda m, r=r: check_ranking(self.portal, m, region=r))
                       for r in regions]
        for object_id in self.sample():
            months = [] if self.args.all_time_only else model.object_months(object_id)
            longer = sorted({p for m in months for p in longer_periods(m)}) if self.args.longer_periods else []
            for period in ["all"] + months + longer:
                checks.append((f"object {object_id} {period}",
                               lambda m, o=object_id, p=period: check_object(self.portal, m, o, p)))
        return checks

    def periods_checked(self):
        if self.args.all_time_only:
            return "all time"
        longer = ", their quarters, half-years and years" if self.args.longer_periods else ""
        return f"all time and each month with entries{longer}"

    def sample(self):
        published = sorted(o["id"] for o in self.objects.values() if o["published"])
        if self.args.object:
            return self.args.object
        if not self.args.sample or self.args.sample >= len(published):
            return published
        return sorted(random.Random(self.args.seed).sample(published, self.args.sample))

    def run(self):
        self.load()
        self.min_ratings = self.args.min_ratings
        if self.min_ratings is None:
            self.min_ratings = self.portal.json("/api/v1/rankings", {"limit": 1})["min_ratings"]
        model = self.model()
        checks = self.checks(model)
        failing = {}
        for name, check in checks:
            found = check(model)
            if found:
                failing[name] = (check, found)
        # A rating that arrived during the check changes what the portal
        # publishes: read the chain's new entries and check again what
        # differed, until the chain stops growing under us.
        for _ in range(3):
            if not failing or not self.catch_up():
                break
            self.out(f"the ledger grew to {self.ledger.count} entries while checking; checking "
                     f"{len(failing)} differing items again")
            model = self.model()
            failing = {name: (check, found) for name, (check, found) in
                       ((name, (check, check(model))) for name, (check, _) in failing.items()) if found}
        objects_checked = sum(1 for name, _ in checks if name.startswith("object "))
        rankings = sum(1 for name, _ in checks if name.startswith("ranking "))
        self.out(f"checked: the roll-up, the totals, {rankings} ranking(s) in full, {objects_checked} figures of "
                 f"{len(self.sample())} object(s) ({self.periods_checked()}); min_ratings "
                 f"{self.min_ratings}; {self.portal.requests} requests")
        shown = 0
        for name, (_, found) in failing.items():
            for line in found:
                if shown < self.args.show:
                    self.out("DIFFERENCE " + line)
                shown += 1
        if shown > self.args.show:
            self.out(f"… and {shown - self.args.show} more differences")
        return not failing


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Recompute an Ocenka portal's figures and rankings from its "
                                                 "open data and compare them with what it publishes.")
    parser.add_argument("base_url", help="the portal's address, e.g. https://ocenka.example.by")
    parser.add_argument("--sample", type=int, default=100,
                        help="how many published objects' figures to check, chosen at random (0: every one; "
                             "default 100). The all-time ranking is always compared in full.")
    parser.add_argument("--seed", type=int, default=None, help="the random choice's seed, to repeat a run")
    parser.add_argument("--object", type=int, action="append", help="check this object (may repeat)")
    parser.add_argument("--all-time-only", action="store_true", help="check objects' all-time figures only, "
                                                                     "not each month's")
    parser.add_argument("--longer-periods", action="store_true",
                        help="check objects' figures for each quarter, half-year and year too")
    parser.add_argument("--groups", action="store_true", help="compare every sphere's and region's all-time "
                                                              "ranking too")
    parser.add_argument("--min-ratings", type=int, default=None,
                        help="OCENKA_MIN_RATINGS; by default the value the portal's ranking states")
    parser.add_argument("--show", type=int, default=200, help="print at most this many differences")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for an answer")
    return parser.parse_args(argv)


def main(argv=None, out=print):
    args = parse_args(argv)
    try:
        ok = Audit(Portal(args.base_url, args.timeout), args, out).run()
    except ChainBroken as problem:
        out(f"DIFFERENCE {problem}")
        out("mismatch")
        return 1
    except Unavailable as problem:
        out(f"cannot check: {problem}")
        return 2
    out("match" if ok else "mismatch")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
