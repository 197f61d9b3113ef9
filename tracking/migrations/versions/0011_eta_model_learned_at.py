"""ETA models say when they were learned: eta_models.learned_at (the end of their learning window)

``silkway eta refresh --as-of T`` learns a model as of a past moment, and an ``as_of`` lookup answers with
the newest model learned at or before its moment, so each stored model keeps the moment it was learned
as of (indexed). Models stored before were learned as of the moment they were stored: ``created_at``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("eta_models") as batch:
        batch.add_column(sa.Column("learned_at", tracking.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE eta_models SET learned_at = created_at")
    op.create_index("ix_eta_models_learned_at", "eta_models", ["learned_at"])


def downgrade() -> None:
    op.drop_index("ix_eta_models_learned_at", table_name="eta_models")
    with op.batch_alter_table("eta_models") as batch:
        batch.drop_column("learned_at")
