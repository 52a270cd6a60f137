"""Held ratings: what looks like stuffing but could be a new visitor is
kept, not counted, until the moderator releases or rejects it.

A repeat by the same client (address, browser and device token together)
is refused with 429 by ``limits``. Changing only the device token or the
browser, or moving within an IPv6 /64, makes a "new" client, so those are
not refused but held, by these rules, all counted over ratings already
stored for the same object:

* rotation: this address already gave ``rotation_hour`` ratings from
  different clients in the last hour;
* address: this address already gave ``address_day`` ratings in a day
  (a service hall's visitors share its address: the budget is wide, and
  what goes over it waits for the moderator instead of being refused);
* network: the address's IPv6 /64 already gave ``network_hour`` ratings in
  an hour or ``network_day`` in a day (one subscriber holds a whole /64);
* burst: the object counted ``burst_floor`` ratings in the last ten
  minutes and more than ``burst_factor`` times its usual rate over the last
  four weeks.

A rating that a valid single-use code verified is never held: the code
proves the visit, whatever address it came from. The visitor is thanked the
same way either way.
"""
import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass

from service import ledger, ranking
from service.db import run, take_group_turn, write_transaction
from service.models import BASE_CRITERIA, Rating, utcnow

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
BURST_WINDOW = datetime.timedelta(minutes=10)
USUAL_WINDOW = datetime.timedelta(days=28)

DEFAULTS = {"rotation_hour": 5, "address_day": 40, "network_hour": 8, "network_day": 60,
            "burst_floor": 12, "burst_factor": 10}

ROTATION, ADDRESS, NETWORK, BURST = "rotation", "address", "network", "burst"

_SINCE = "SELECT COUNT(*) FROM rating WHERE {column} = ? AND object_id = ? AND created > ?"
_ADDRESS = _SINCE.format(column="address_hash")
# The last term names the partial index of IPv6 networks (service/models.py)
# and leaves out no rating of the network asked for (not an IPv4 address).
_NETWORK = _SINCE.format(column="network_hash") + " AND network_hash != address_hash"
_CLIENTS = ("SELECT COUNT(DISTINCT client_hash) FROM rating WHERE address_hash = ? AND object_id = ? "
            "AND created > ? AND client_hash <> ?")
# Counted ratings in a window: all of them, less those not counted; each
# read from an index alone (of object and time, and the partial one of the
# ratings not counted), so that counted ratings need no index of status.
_ALL = "SELECT COUNT(*) FROM rating WHERE object_id = ? AND created > ? AND created <= ?"
_NOT_COUNTED = _ALL + f" AND status != '{Rating.COUNTED}'"
# Names the partial index of the ratings not counted (service/models.py)
# beside ``status = held``, which implies it.
NOT_COUNTED = Rating.status != Rating.COUNTED


def rules(config):
    return {**DEFAULTS, **(config.get("HOLD") or {})}


def reason_to_hold(client, object_id, verified, rules_, now=None):
    """Why a new rating of ``object_id`` from ``client`` should be held, or
    None to count it. Call inside the rating's transaction."""
    if verified:
        return None
    now = now or utcnow()
    hour_ago, day_ago = Rating.created.db_value(now - HOUR), Rating.created.db_value(now - DAY)
    others = run(_CLIENTS, (client.address_hash, object_id, hour_ago, client.client_hash)).fetchone()[0]
    if others >= rules_["rotation_hour"]:
        return ROTATION
    if run(_ADDRESS, (client.address_hash, object_id, day_ago)).fetchone()[0] >= rules_["address_day"]:
        return ADDRESS
    if client.network_hash != client.address_hash:
        if (run(_NETWORK, (client.network_hash, object_id, hour_ago)).fetchone()[0] >= rules_["network_hour"]
                or run(_NETWORK, (client.network_hash, object_id, day_ago)).fetchone()[0] >= rules_["network_day"]):
            return NETWORK
    recent = _counted(object_id, now - BURST_WINDOW, now)
    if recent >= rules_["burst_floor"]:
        usual = _counted(object_id, now - USUAL_WINDOW, now - BURST_WINDOW)
        per_window = usual * (BURST_WINDOW / (USUAL_WINDOW - BURST_WINDOW))
        if recent > rules_["burst_factor"] * per_window:
            return BURST
    return None


def _counted(object_id, after, until):
    window = (object_id, Rating.created.db_value(after), Rating.created.db_value(until))
    return run(_ALL, window).fetchone()[0] - run(_NOT_COUNTED, window).fetchone()[0]


# -- the moderator's clusters --------------------------------------------------------

@dataclass
class Cluster:
    """Held ratings of one object from one network (an IPv6 /64, or one
    IPv4 address) on one day (UTC)."""
    key: str
    object_id: int
    day: str
    ids: list
    first: datetime.datetime
    last: datetime.datetime
    addresses: int
    networks: int
    devices: int
    scores: Counter  # overall (1–5, rounded) → how many

    @property
    def size(self):
        return len(self.ids)

    def pattern(self):
        return ", ".join(f"{score}★ × {count}" for score, count in sorted(self.scores.items()))


def _as_datetime(value):
    return datetime.datetime.fromisoformat(value) if isinstance(value, str) else value


def clusters(object_id=None, limit=200):
    """Held ratings grouped for one decision each, biggest first."""
    R = Rating
    query = (R.select(R.id, R.object, R.created, R.address_hash, R.network_hash, R.client_hash, R.simplicity,
                      R.information, R.timeliness, R.politeness)
             .where((R.status == R.HELD) & NOT_COUNTED).order_by(R.created, R.id))
    if object_id is not None:
        query = query.where(R.object == object_id)
    groups = defaultdict(list)
    for row in query.tuples().iterator():
        rating_id, obj, created, address, network, client, *scores = row
        created = _as_datetime(created)
        day = created.strftime("%Y-%m-%d")
        groups[(obj, network or address, day)].append((rating_id, created, address, network, client, scores))
    result = []
    for (obj, network, day), rows in groups.items():
        result.append(Cluster(
            key=f"{obj}-{network[:16]}-{day.replace('-', '')}", object_id=obj, day=day,
            ids=[r[0] for r in rows], first=rows[0][1], last=rows[-1][1],
            addresses=len({r[2] for r in rows}), networks=len({r[3] or r[2] for r in rows}),
            devices=len({r[4] for r in rows}),
            scores=Counter(round(sum(r[5]) / len(BASE_CRITERIA)) for r in rows)))
    result.sort(key=lambda c: (-c.size, c.first))
    return result[:limit]


def cluster(key):
    object_id = int(key.split("-", 1)[0]) if key.split("-", 1)[0].isdigit() else None
    if object_id is None:
        return None
    return next((c for c in clusters(object_id, limit=10_000) if c.key == key), None)


RELEASE, REJECT = "release", "reject"


def decide(found, decision):
    """Releases (counts) or rejects every rating of the cluster ``found``,
    each change in the ledger; returns how many changed. Ratings no longer
    held (decided meanwhile) are left alone."""
    status = Rating.COUNTED if decision == RELEASE else Rating.REJECTED
    changed = 0
    with write_transaction():
        take_group_turn()
        rows = list(Rating.select().where(Rating.id.in_(found.ids) & (Rating.status == Rating.HELD)))
        now = utcnow()
        if status == Rating.COUNTED:
            ranking.add_to_aggregates([(r.object_id, r.month, {c: getattr(r, c) for c in BASE_CRITERIA}, r.verified,
                                        r.service_id) for r in rows])
        for rating in rows:
            Rating.update(status=status).where(Rating.id == rating.id).execute()
            ledger.record_status(rating, status, now)
            changed += 1
    if changed and status == Rating.COUNTED:
        ranking.clear_cache()
    return changed


def held_sums(object_id, period_key):
    """Σ of the held ratings of ``object_id`` in a period, to show the
    figures with and without them."""
    R = Rating
    sums = ranking.Sums()
    for month, *scores in (R.select(R.month, R.simplicity, R.information, R.timeliness, R.politeness)
                           .where((R.status == R.HELD) & NOT_COUNTED & (R.object == object_id)).tuples()):
        if period_key not in ranking.periods_of_month(month):
            continue
        total = sum(scores)
        sums.n += 1
        for name, value in zip(BASE_CRITERIA, scores):
            setattr(sums, name, getattr(sums, name) + value)
        sums.satisfied += 1 if total >= ranking.SATISFIED_TOTAL else 0
        sums.squares += total * total
    return sums
