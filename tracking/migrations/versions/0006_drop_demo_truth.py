"""the demo's ground truth leaves the production schema: drop demo_truth (web/demo/truth.py creates it)

Migration 0002 created ``demo_truth`` in every database, production ones included, though only the demo
reads or writes it and web/demo/truth.py defines it on a MetaData of its own. From here on the demo
creates the table itself when it builds a world (``web.demo.truth.create``). An empty table, as every
production database has, is dropped; one that holds rows is a demo database's ground truth, which the
demo still reads and now owns, and is left alone. The downgrade recreates it as 0002 did, if it is absent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "demo_truth"


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        return
    holds_rows = bind.execute(sa.text(f"SELECT 1 FROM {TABLE} LIMIT 1")).first() is not None  # noqa: S608
    if not holds_rows:
        op.drop_table(TABLE)


def downgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=False),
        sa.Column("last_mile_number", sa.String(length=40), nullable=False),
        sa.Column("last_mile_carrier", sa.String(length=40), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=60), nullable=False),
        sa.Column("destination", sa.String(length=60), nullable=False),
        sa.Column("ordered_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fate", sa.String(length=20), nullable=False),
        sa.Column("events_sent", sa.Integer(), nullable=False),
        sa.Column("duplicates_sent", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("updated_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_demo_truth"),
        sa.UniqueConstraint("tracking_number", name="uq_demo_truth_tracking_number"),
    )
