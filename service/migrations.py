"""Schema versions, oldest first. ``init-db`` applies the missing ones.

Each step must keep every row. Version 1 is built from the current models
of its tables, so a later step that adds a column to one of them must check
that the column is not there yet (a fresh database already has it).
"""
from service import models, ranking


def _v1_raw_tables(db):
    db.create_tables(models.RAW_TABLES, safe=True)


def _v2_object_aggregates(db):
    db.create_tables([models.ObjectAggregate, models.RollupMember], safe=True)
    ranking.rebuild_rollup_members()
    ranking.rebuild_object_aggregates()


def _v3_rollup_aggregates(db):
    db.create_tables([models.RollupAggregate], safe=True)
    ranking.rebuild_rollup_aggregates()


MIGRATIONS = [
    (1, "ratings, organizations, registries, notifications, users", _v1_raw_tables),
    (2, "aggregates per object and period, roll-up membership (filled from the ratings)", _v2_object_aggregates),
    (3, "rolled-up aggregates per organization and period (filled from the object aggregates)", _v3_rollup_aggregates),
]
