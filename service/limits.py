"""Who a client is, and how many ratings it may give.

A client is a salted hash of its address, user agent and the widget's
device token; its address alone is another salted hash. Raw addresses are
never stored. Limits count *accepted* ratings (kept with those hashes on the
rating itself), never refused attempts, so a visitor behind the same
service-hall Wi-Fi as an abuser is not locked out by the abuser's retries,
and the limits hold across workers and restarts without another store.
"""
import datetime
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from service.db import run
from service.models import Rating, utcnow

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: datetime.timedelta
    per_object: bool
    by_address: bool


# One visitor rates one object a few times a day at most (a second visit,
# a second service); a busy service hall gives many ratings from one
# address, so the address limits are far wider.
LIMITS = (
    Limit("client_object", 3, DAY, per_object=True, by_address=False),
    Limit("client", 20, HOUR, per_object=False, by_address=False),
    Limit("address_object", 120, HOUR, per_object=True, by_address=True),
    Limit("address", 400, HOUR, per_object=False, by_address=True),
)


@dataclass(frozen=True)
class Client:
    client_hash: str
    address_hash: str
    network_hash: str = ""


def _hash(secret, *parts):
    message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def networks(proxies):
    """The trusted proxies (``OCENKA_TRUSTED_PROXIES``) as networks; an
    entry that is no address or network trusts nothing."""
    result = []
    for proxy in proxies:
        try:
            result.append(ipaddress.ip_network(proxy, strict=False))
        except ValueError:
            continue
    return result


def is_trusted(address, trusted_networks):
    """Whether a connection from ``address`` comes from a trusted proxy."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted_networks)


def client_address(remote_addr, forwarded_for, trusted_proxies):
    """The visitor's address. ``X-Forwarded-For`` is believed only when the
    connection comes from a trusted proxy, and then only up to the first
    hop that is not itself trusted (the rightmost untrusted one)."""
    trusted_networks = networks(trusted_proxies)
    address = remote_addr or ""
    if not trusted_networks or not is_trusted(address, trusted_networks) or not forwarded_for:
        return address
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted_networks):
            return hop
    return hops[0] if hops else address


def network_of(address):
    """The network an address stands for: its /64 for IPv6 (what one
    subscriber is given), the address itself for IPv4."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def identify(secret, address, user_agent, device_token):
    address_hash = _hash(secret, "address", address)
    network = network_of(address)
    return Client(client_hash=_hash(secret, "client", address, user_agent or "", device_token or ""),
                  address_hash=address_hash,
                  network_hash=address_hash if network == address else _hash(secret, "network", network))


def _count_sql(limit):
    # The address is named for a client's limits too: the index of
    # addresses and time serves every count (service/models.py), and a
    # client's ratings are all of its address's.
    per_object = " AND object_id = ?" if limit.per_object else ""
    per_client = "" if limit.by_address else " AND client_hash = ?"
    return f"SELECT COUNT(*), MIN(created) FROM rating WHERE address_hash = ? AND created > ?{per_object}{per_client}"


_COUNTS = [(limit, _count_sql(limit)) for limit in LIMITS]


def counts(client, object_id, now):
    """Each limit with the statement and the parameters that count
    ``client``'s ratings for it."""
    for limit, sql in _COUNTS:
        params = (client.address_hash, Rating.created.db_value(now - limit.window),
                  *((object_id,) if limit.per_object else ()), *(() if limit.by_address else (client.client_hash,)))
        yield limit, sql, params


def retry_after(client, object_id, now=None):
    """Seconds until ``client`` may rate ``object_id`` again; 0 when it may now."""
    now = now or utcnow()
    wait = 0
    for limit, sql, params in counts(client, object_id, now):
        count, oldest = run(sql, params).fetchone()
        if count >= limit.count:
            if isinstance(oldest, str):  # SQLite hands back text for an aggregate
                oldest = datetime.datetime.fromisoformat(oldest)
            free_at = oldest + limit.window
            wait = max(wait, int((free_at - now).total_seconds()) + 1)
    return wait
