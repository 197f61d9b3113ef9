"""API keys can be listed, revoked and rotated: api_keys.last_used_at and api_keys.replaced_by_id

``revoked_at`` (since 0001) stays the one instant from which a key is refused: a revoked key's is in the
past, a rotated key's is the end of its grace period. ``last_used_at`` is when the key last authenticated
a request (to the minute); ``replaced_by_id`` points a rotated key at its successor. On SQLite the table
is rebuilt (batch mode) to add and drop the foreign key; the downgrade drops both columns again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = "fk_api_keys_replaced_by_id_api_keys"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("last_used_at", tracking.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(FOREIGN_KEY, "api_keys", ["replaced_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch.drop_column("replaced_by_id")
        batch.drop_column("last_used_at")
