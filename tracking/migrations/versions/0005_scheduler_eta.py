"""Scheduler tick claims, stored ETA models and per-parcel ETA revisions.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_ticks",
        sa.Column("id", BigId, nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("started_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_ticks")),
        sa.UniqueConstraint("job", "tick", name=op.f("uq_job_ticks_job")),
    )
    op.create_table(
        "eta_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("created_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("learned_from", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eta_models")),
        sa.UniqueConstraint("version", name=op.f("uq_eta_models_version")),
    )
    op.create_table(
        "eta_revisions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("parcel_id", BigId, nullable=False),
        sa.Column("computed_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("p10", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("p50", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("p90", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_eta_revisions_parcel_id_parcels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eta_revisions")),
    )
    op.create_index("ix_eta_revisions_parcel_computed", "eta_revisions", ["parcel_id", "computed_at"])


def downgrade() -> None:
    op.drop_index("ix_eta_revisions_parcel_computed", table_name="eta_revisions")
    op.drop_table("eta_revisions")
    op.drop_table("eta_models")
    op.drop_table("job_ticks")
