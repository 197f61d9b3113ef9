"""Scheduler job ``partitions``: PostgreSQL's monthly partitions of events exist ahead of the scans.

This month and the next three are created when missing (tracking/partitions.py), so scans never wait
for DDL and the default partition stays nearly empty; on SQLite, or before migration 0012, nothing."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask

from tracking.partitions import ensure_ahead

log = logging.getLogger("silkway.partitions")


def create_partitions_job(app: Flask, now: datetime) -> list[str]:
    """Create the months of events due from ``now`` on; their names (logged when any)."""
    with app.extensions["silkway.db"].engine.begin() as conn:
        created = ensure_ahead(conn, now)
    if created:
        log.info("partitions: created %s", ", ".join(created))
    return created
