"""Reports for a period (SPEC "Responding to ratings"): the quarterly
analytic report and the half-year monitoring of a body's registry.

``build`` gathers, for every organization in scope, its rolled-up figures
for the period and the one before, the change, the low-score notifications
about the period by state (and how many are overdue), and its comments
answered and not. The data part knows no Flask; ``service/report_files.py``
writes it as CSV, XLSX or PDF.
"""
import datetime
from dataclasses import dataclass, field

from peewee import fn

from service import notifications, ranking
from service.models import Notification, RatableObject, Rating, Region, RollupAggregate, RollupMember

QUARTERLY, MONITORING = "quarterly", "monitoring"
KINDS = {QUARTERLY: "quarter", MONITORING: "half"}


class ReportError(ValueError):
    pass


@dataclass
class Row:
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

    @property
    def change(self):
        if self.overall is None or self.previous_overall is None:
            return None
        return self.overall - self.previous_overall


@dataclass
class Report:
    kind: str
    period: str
    previous: str
    scope: str
    created: datetime.datetime
    rows: list

    def totals(self):
        n = sum(r.n for r in self.rows)
        overall = sum(r.overall * r.n for r in self.rows if r.n) / n if n else None
        return {"organizations": len(self.rows), "rated": sum(1 for r in self.rows if r.n), "ratings": n,
                "overall": overall, "comments": sum(r.comments for r in self.rows),
                "answered": sum(r.answered for r in self.rows),
                "notifications": sum(sum(r.notified.values()) for r in self.rows),
                "overdue": sum(r.overdue for r in self.rows)}


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
    query = (O.select(O.id, O.name, O.unp, Region.code).join(Region, on=(O.region == Region.id))
             .where((O.kind == O.ORGANIZATION) & (O.published == True) & (O.is_evaluation_object == True))
             .order_by(O.sort_name, O.id))
    if scope is not None:
        query = query.where(O.id.in_(scope))
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
        row = rows[organization]
        row.n = sums.n
        if sums.n:
            row.overall = sums.total / 4 / sums.n
            row.satisfaction = 100.0 * sums.satisfied / sums.n
            row.verified_share = 100.0 * sums.verified / sums.n
    for organization, sums in sums_for(previous.key).items():
        rows[organization].previous_n = sums.n
        if sums.n:
            rows[organization].previous_overall = sums.total / 4 / sums.n

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
    return Report(kind, period.key, previous.key, scope_name, datetime.datetime.utcnow().replace(microsecond=0),
                  list(rows.values()))


def _month_key(month):
    year, m = divmod(month, 100)
    return f"{year}-{m:02d}"


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
