"""Reports for a period (SPEC "Responding to ratings"): the quarterly
analytic report and the half-year monitoring of a body's registry.

``build`` gathers, for every organization in scope, its rolled-up figures
for the period and the one before, the change, the low-score notifications
about the period by state (and how many are overdue), and its comments
answered and not; and for every service the organizations in scope give or
were rated for, the figures of the ratings naming it, the previous
period's and the change. The data part knows no Flask;
``service/report_files.py`` writes it as CSV, XLSX or PDF.
"""
import datetime
from dataclasses import dataclass, field

from peewee import JOIN, fn

from service import notifications, ranking
from service.models import (
    Notification, ObjectService, RatableObject, Rating, Region, RollupAggregate, RollupMember, Service,
    ServiceAggregate, localized, sort_key,
)

QUARTERLY, MONITORING = "quarterly", "monitoring"
KINDS = {QUARTERLY: "quarter", MONITORING: "half"}


class ReportError(ValueError):
    pass


class _Figures:
    """The period's figures and the previous period's, from their sums."""

    def set_sums(self, sums):
        self.n = sums.n
        if sums.n:
            self.overall = sums.total / 4 / sums.n
            self.satisfaction = 100.0 * sums.satisfied / sums.n
            self.verified_share = 100.0 * sums.verified / sums.n

    def set_previous(self, sums):
        self.previous_n = sums.n
        if sums.n:
            self.previous_overall = sums.total / 4 / sums.n

    @property
    def change(self):
        if self.overall is None or self.previous_overall is None:
            return None
        return self.overall - self.previous_overall


@dataclass
class Row(_Figures):
    id: int
    name: str
    unp: str
    region: str
    n: int = 0
    overall: float = None
    satisfaction: float = None
    verified_share: float = None
    previous_n: int = 0
    previous_overall: float = None
    notified: dict = field(default_factory=dict)  # status → count of low-score notifications
    overdue: int = 0
    comments: int = 0
    answered: int = 0


@dataclass
class ServiceRow(_Figures):
    """One service: the ratings in scope that name it, each once."""
    id: int
    code: str
    name: str
    responsible: str
    # Organizations whose ratings (their own or their subdivisions') name
    # the service in the period.
    organizations: int = 0
    n: int = 0
    overall: float = None
    satisfaction: float = None
    verified_share: float = None
    previous_n: int = 0
    previous_overall: float = None


@dataclass
class Report:
    kind: str
    period: str
    previous: str
    scope: str
    created: datetime.datetime
    rows: list
    services: list = field(default_factory=list)

    def totals(self):
        n = sum(r.n for r in self.rows)
        overall = sum(r.overall * r.n for r in self.rows if r.n) / n if n else None
        return {"organizations": len(self.rows), "rated": sum(1 for r in self.rows if r.n), "ratings": n,
                "overall": overall, "comments": sum(r.comments for r in self.rows),
                "answered": sum(r.answered for r in self.rows),
                "notifications": sum(sum(r.notified.values()) for r in self.rows),
                "overdue": sum(r.overdue for r in self.rows),
                "services": len(self.services), "services_rated": sum(1 for s in self.services if s.n),
                # A rating names one service at most, so these add up.
                "service_ratings": sum(s.n for s in self.services)}


def period_for(kind, text):
    """The period named ``text`` for a report of ``kind``: a quarter
    (2026-Q3) for the quarterly report, a half-year (2026-H2) for the
    monitoring."""
    try:
        period = ranking.Period.parse(text)
    except ValueError as error:
        raise ReportError(str(error)) from None
    if period.kind != KINDS[kind]:
        example = "2026-Q3" if kind == QUARTERLY else "2026-H2"
        raise ReportError(f"a {kind} report is for a {KINDS[kind]}, such as {example}")
    return period


def months_of(period):
    last = period.last_month
    count = {"quarter": 3, "half": 6, "month": 1, "year": 12}[period.kind]
    year, month = divmod(last, 100)
    return [year * 100 + m for m in range(month - count + 1, month + 1)]


def build(kind, period_text, scope=None, scope_name="", today=None):
    """The report; ``scope`` a subquery of object ids (None: the whole
    portal)."""
    period = period_for(kind, period_text)
    previous = period.previous()
    O = RatableObject
    listed = (O.kind == O.ORGANIZATION) & (O.published == True) & (O.is_evaluation_object == True)  # noqa: E712
    if scope is not None:
        listed &= O.id.in_(scope)
    query = (O.select(O.id, O.name, O.unp, Region.code).join(Region, on=(O.region == Region.id))
             .where(listed).order_by(O.sort_name, O.id))
    rows = {i: Row(i, name, unp or "", region or "") for i, name, unp, region in query.tuples()}
    ids = list(rows)

    def sums_for(key):
        A = RollupAggregate
        found = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            for organization, *values in (A.select(A.organization, *(getattr(A, f) for f in ranking._SUM_FIELDS))
                                          .where((A.period == key) & A.organization.in_(chunk)).tuples()):
                found[organization] = ranking.Sums(*[int(v or 0) for v in values])
        return found

    for organization, sums in sums_for(period.key).items():
        rows[organization].set_sums(sums)
    for organization, sums in sums_for(previous.key).items():
        rows[organization].set_previous(sums)

    today = today or notifications.today()
    N = Notification
    for organization, status, control, count in (
            N.select(N.organization, N.status, N.control_date, fn.COUNT(N.id))
            .where((N.kind == N.LOW_SCORE) & (N.period << [period.key, *map(_month_key, months_of(period))]))
            .group_by(N.organization, N.status, N.control_date).tuples()):
        row = rows.get(organization)
        if row is None:
            continue
        row.notified[status] = row.notified.get(status, 0) + count
        if status == N.PLANNED and control is not None and _as_date(control) < today:
            row.overdue += count

    R, M = Rating, RollupMember
    for organization, comments, answered in (
            R.select(M.organization, fn.COUNT(R.id), fn.COUNT(R.answer))
            .join(M, on=(M.object == R.object))
            .where(R.month.in_(months_of(period)) & R.comment.is_null(False) & (R.status == R.COUNTED))
            .group_by(M.organization).tuples()):
        row = rows.get(organization)
        if row is not None:
            row.comments, row.answered = comments, answered
    # The ratings the organizations' rows count (their own, their
    # subdivisions', a listed body's registry), each once.
    objects = RollupMember.select(RollupMember.object).where(
        RollupMember.organization.in_(O.select(O.id).where(listed)))
    return Report(kind, period.key, previous.key, scope_name, datetime.datetime.utcnow().replace(microsecond=0),
                  list(rows.values()), service_rows(objects, period, previous))


def service_rows(objects, period, previous):
    """A ``ServiceRow`` for every service that the objects of the subquery
    ``objects`` give or were rated for in either period, the most rated
    first: sums of the stored service aggregates, no scan of ratings."""
    A, O = ServiceAggregate, RatableObject
    organization = fn.COALESCE(O.organization, O.id)
    found = {}
    for service, key, organizations, *values in (
            A.select(A.service, A.period, fn.COUNT(organization.distinct()),
                     *(fn.SUM(getattr(A, f)) for f in ranking._SUM_FIELDS))
            .join(O, on=(A.object == O.id))
            .where(A.period.in_([period.key, previous.key]) & A.object.in_(objects))
            .group_by(A.service, A.period).tuples()):
        found.setdefault(service, {})[key] = (organizations, ranking.Sums(*[int(v or 0) for v in values]))
    offered = {s for s, in ObjectService.select(ObjectService.service).where(ObjectService.object.in_(objects))
               .distinct().tuples()}
    ids = offered | set(found)
    if not ids:
        return []
    S, B = Service, RatableObject.alias()
    result = []
    for service_id, code, names, responsible in (
            S.select(S.id, S.code, S.names, B.name).join(B, JOIN.LEFT_OUTER, on=(S.responsible == B.id))
            .where(S.id.in_(list(ids))).tuples()):
        row = ServiceRow(service_id, code, localized(names, "ru"), responsible or "")
        sums = found.get(service_id, {})
        if period.key in sums:
            row.organizations = sums[period.key][0]
            row.set_sums(sums[period.key][1])
        if previous.key in sums:
            row.set_previous(sums[previous.key][1])
        result.append(row)
    result.sort(key=lambda r: (-r.n, -r.previous_n, sort_key(r.name), r.id))
    return result


def _month_key(month):
    year, m = divmod(month, 100)
    return f"{year}-{m:02d}"


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
