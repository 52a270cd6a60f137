"""The aggregates of millions of counted ratings held in memory, summed
with numpy and written in bulk: what ``ranking.rebuild_aggregates`` would
compute from the stored ratings (tests/test_demo.py checks that it finds
nothing to change), for the demo loader, where grouping the ratings again
in the database took minutes at ten times the real portal."""
import numpy as np

from service import ranking
from service.db import bulk_insert
from service.models import ObjectAggregate, RollupAggregate, RollupMember, ServiceAggregate

# Summed per key and month, in this order (ranking._SUM_FIELDS).
_WIDTH = len(ranking._SUM_FIELDS)


class Tally:
    """Counted ratings gathered batch by batch, as columns."""

    def __init__(self):
        self._parts = []

    def add(self, objects, services, simplicity, information, timeliness, politeness, months, verified):
        """One batch, each argument a sequence with a value per rating
        (``services`` None where a rating names none)."""
        self._parts.append((np.asarray(objects, dtype=np.int64),
                            np.asarray([-1 if s is None else s for s in services], dtype=np.int64),
                            np.asarray([simplicity, information, timeliness, politeness], dtype=np.int64),
                            np.asarray(months, dtype=np.int64), np.asarray(verified, dtype=np.int64)))

    def write(self, echo=lambda message: None):
        """Fills the empty object, service and roll-up aggregates (roll-up
        membership must be stored already)."""
        if not self._parts:
            return
        objects = np.concatenate([p[0] for p in self._parts])
        services = np.concatenate([p[1] for p in self._parts])
        scores = np.concatenate([p[2] for p in self._parts], axis=1)
        months = np.concatenate([p[3] for p in self._parts])
        verified = np.concatenate([p[4] for p in self._parts])
        self._parts = []
        total = scores.sum(axis=0)
        values = np.stack([np.ones_like(total), *scores, (total >= ranking.SATISFIED_TOTAL).astype(np.int64),
                           total * total, verified])
        month_list, month_index = np.unique(months, return_inverse=True)
        period_keys = sorted({p for m in month_list.tolist() for p in ranking.periods_of_month(m)})
        column = {key: i for i, key in enumerate(period_keys)}
        # Which periods each month counts in, as a matrix: month sums times
        # it give period sums.
        in_period = np.zeros((len(month_list), len(period_keys)))
        for i, m in enumerate(month_list.tolist()):
            for key in ranking.periods_of_month(m):
                in_period[i, column[key]] = 1

        object_ids, object_index = np.unique(objects, return_inverse=True)
        by_object = _period_sums(object_index, len(object_ids), month_index, in_period, values)
        _store(ObjectAggregate, [ObjectAggregate.object], [object_ids], by_object, period_keys)
        echo("object aggregates")

        named = services >= 0
        span = int(services.max()) + 1 if len(services) else 1
        pairs, pair_index = np.unique(objects[named] * span + services[named], return_inverse=True)
        by_service = _period_sums(pair_index, len(pairs), month_index[named], in_period, values[:, named])
        _store(ServiceAggregate, [ServiceAggregate.object, ServiceAggregate.service], [pairs // span, pairs % span],
               by_service, period_keys)
        echo("service aggregates")

        members = np.array(RollupMember.select(RollupMember.organization, RollupMember.object).tuples(),
                           dtype=np.int64).reshape(-1, 2)
        position = np.searchsorted(object_ids, members[:, 1])
        rated = (position < len(object_ids)) & (object_ids[np.minimum(position, len(object_ids) - 1)]
                                                == members[:, 1])
        organizations, rolled = _rolled_up(members[rated, 0], position[rated], by_object)
        _store(RollupAggregate, [RollupAggregate.organization], [organizations], rolled, period_keys)
        echo("roll-up")


def _period_sums(key_index, keys, month_index, in_period, values):
    """(keys, periods, sums) of ``values`` (sums × ratings) grouped by key
    and month, then months into periods."""
    months = in_period.shape[0]
    cell = key_index * months + month_index
    # bincount sums in float64: exact, every sum being far below 2**53.
    by_month = np.stack([np.bincount(cell, weights=row, minlength=keys * months) for row in values], axis=1)
    by_month = by_month.reshape(keys, months, _WIDTH)
    by_period = np.tensordot(by_month, in_period, axes=([1], [0]))  # keys × sums × periods
    return np.rint(by_period.transpose(0, 2, 1)).astype(np.int64)


def _rolled_up(organizations, object_rows, by_object, chunk=100_000):
    """Each organization's sums over its members' rows of ``by_object``,
    a slice of members at a time (a body has tens of thousands)."""
    order = np.argsort(organizations, kind="stable")
    organizations, object_rows = organizations[order], object_rows[order]
    if not len(organizations):
        return organizations, np.zeros((0, *by_object.shape[1:]), dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, organizations[1:] != organizations[:-1]])
    flat = by_object.reshape(len(by_object), -1)
    result = np.zeros((len(starts), flat.shape[1]), dtype=np.int64)
    bounds = np.r_[starts, len(organizations)]
    first = 0
    while first < len(starts):
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + chunk, side="right")) - 1)
        last = min(last, len(starts))
        rows = flat[object_rows[bounds[first]:bounds[last]]]
        result[first:last] = np.add.reduceat(rows, bounds[first:last] - bounds[first], axis=0)
        first = last
    return organizations[starts], result.reshape(len(starts), *by_object.shape[1:])


def _store(model, key_fields, key_columns, sums, period_keys):
    """Writes every (key, period) of ``sums`` with ratings in it."""
    key_row, period_column = np.nonzero(sums[:, :, 0] > 0)
    keys = [column[key_row].tolist() for column in key_columns]
    periods = [period_keys[p] for p in period_column.tolist()]
    values = sums[key_row, period_column].tolist()
    rows = [(*key, period, *row) for key, period, row in zip(zip(*keys), periods, values)]
    # Period keys are digits, dashes and letters: plain text for COPY.
    bulk_insert(model, key_fields + [model.period] + [getattr(model, name) for name in ranking._SUM_FIELDS], rows,
                converted=True, plain=True)
