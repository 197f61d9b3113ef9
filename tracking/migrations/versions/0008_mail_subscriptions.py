"""shoppers' mail notifications: mail_subscriptions (one address per parcel, double opt-in) and mail_outbox

The address column is nullable: unsubscribing blanks it; retention deletes the row once the parcel's
tracking has ended plus the retention period (tracking/subscriptions.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = tracking.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_subscriptions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("parcel_id", BigId, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("sent_kinds", sa.String(length=200), nullable=False),
        sa.Column("confirmed_at", Moment, nullable=True),
        sa.Column("unsubscribed_at", Moment, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_mail_subscriptions_parcel_id_parcels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_subscriptions")),
        sa.UniqueConstraint("parcel_id", "email", name=op.f("uq_mail_subscriptions_parcel_id_email")),
        sa.UniqueConstraint("token", name=op.f("uq_mail_subscriptions_token")),
    )
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_subscriptions_parcel_id"), ["parcel_id"], unique=False)

    op.create_table(
        "mail_outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("subscription_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=False),
        sa.Column("claimed_until", Moment, nullable=True),
        sa.Column("sent_at", Moment, nullable=True),
        sa.Column("gave_up_at", Moment, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["mail_subscriptions.id"],
            name=op.f("fk_mail_outbox_subscription_id_mail_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_mail_outbox_due", ["sent_at", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_outbox_subscription_id"), ["subscription_id"], unique=False)


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("mail_subscriptions")
