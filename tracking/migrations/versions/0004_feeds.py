"""feeds: push signing secrets, polled feed cursors and Russian Post batch tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signing_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("previous_signing_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("previous_secret_until", tracking.types.UTCDateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "feed_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("cursor", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_poll_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_polled_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_id"], ["carriers.id"], name=op.f("fk_feed_cursors_carrier_id_carriers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_cursors")),
        sa.UniqueConstraint("carrier_id", "kind", name=op.f("uq_feed_cursors_carrier_id_kind")),
    )
    op.create_table(
        "russian_post_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(length=100), nullable=False),
        sa.Column("numbers", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fetch_after", tracking.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("fetched_at", tracking.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("raw_payload_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feed_cursors.id"], name=op.f("fk_russian_post_tickets_feed_id_feed_cursors")
        ),
        sa.ForeignKeyConstraint(
            ["raw_payload_id"],
            ["raw_payloads.id"],
            name=op.f("fk_russian_post_tickets_raw_payload_id_raw_payloads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_russian_post_tickets")),
        sa.UniqueConstraint("feed_id", "ticket", name=op.f("uq_russian_post_tickets_feed_id_ticket")),
    )
    with op.batch_alter_table("russian_post_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_russian_post_tickets_feed_id"), ["feed_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("russian_post_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_russian_post_tickets_feed_id"))
    op.drop_table("russian_post_tickets")
    op.drop_table("feed_cursors")
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_signing_secret")
        batch_op.drop_column("signing_secret")
