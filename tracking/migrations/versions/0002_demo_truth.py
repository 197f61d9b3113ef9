"""demo ground truth: what really happened to each simulated parcel (web/demo/truth.py)

History: migration 0006 drops this table again (an empty one, as every production database has);
the demo creates it itself since (web.demo.truth.create).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demo_truth",
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


def downgrade() -> None:
    op.drop_table("demo_truth")
