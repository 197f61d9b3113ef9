"""connectors: connector_registrations, the outbox of numbers registered with tracking services

One row per (number, connector): the Silkway carrier code Silkway read the number as (or a merchant
set), the connector's own carrier id once it answered, ``state`` (``queued``: not registered yet,
``registered``, ``rejected``, ``stopped``), the call still owed (``pending``: ``register``,
``changecarrier``, ``stop``, or null), attempts, the next attempt, the last answer (its error code and
message) and when the number was registered and stopped. ``parcel_id`` has no foreign key on purpose,
like the webhook outbox: ingestion may merge a parcel away while a number waits; the number leads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracking.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = tracking.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "connector_registrations",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("parcel_id", BigId, nullable=True),
        sa.Column("connector", sa.String(length=40), nullable=False),
        sa.Column("carrier_code", sa.String(length=40), nullable=True),
        sa.Column("remote_carrier", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("pending", sa.String(length=20), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("last_answer", sa.String(length=500), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("registered_at", Moment, nullable=True),
        sa.Column("stopped_at", Moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_registrations")),
        sa.UniqueConstraint("number", "connector", name=op.f("uq_connector_registrations_number_connector")),
    )
    with op.batch_alter_table("connector_registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_connector_registrations_due", ["connector", "pending", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_connector_registrations_state", ["connector", "state", "updated_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connector_registrations_parcel_id"), ["parcel_id"], unique=False)


def downgrade() -> None:
    op.drop_table("connector_registrations")
