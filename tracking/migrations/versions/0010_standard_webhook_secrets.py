"""Standard Webhooks secrets: webhook_subscriptions.legacy_secret, and secret in the whsec_ form

A subscription's ``secret`` becomes the Standard Webhooks form, ``whsec_`` + the standard base64 of the
key bytes. Subscriptions made before held ``whsec_`` + URL-safe base64 without padding of 32 random
bytes (``secrets.token_urlsafe(32)``), which the merchant keeps: that string moves to ``legacy_secret``
and keys the deprecated ``Silkway-Signature`` header exactly as before, while ``secret`` holds the same
32 bytes in the standard form, so ``webhook-signature`` is keyed by the bytes the merchant already has.
A stored secret that is not URL-safe base64 keys the standard signature with its own UTF-8 bytes. The
downgrade puts the old strings back (new subscriptions keep their standard secret, which the old code
uses as an opaque string). ``secret`` widens to 200 characters (a non-base64 secret's form is longer).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 23:40:00
"""

import base64
import binascii
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "whsec_"
subscriptions = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.Integer()),
    sa.column("secret", sa.String()),
    sa.column("legacy_secret", sa.String()),
)


def standard_form(legacy: str) -> str:
    """The whsec_ + standard base64 form of a pre-0010 secret's key bytes."""
    part = legacy[len(PREFIX) :] if legacy.startswith(PREFIX) else legacy
    try:
        key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        if base64.urlsafe_b64encode(key).rstrip(b"=").decode() != part.rstrip("="):
            raise ValueError(part)
    except (binascii.Error, ValueError):
        key = legacy.encode()
    return PREFIX + base64.b64encode(key).decode()


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("legacy_secret", sa.String(length=100), nullable=True))
        batch.alter_column("secret", type_=sa.String(length=200), existing_nullable=False)
    conn = op.get_bind()
    for row_id, secret in conn.execute(sa.select(subscriptions.c.id, subscriptions.c.secret)).all():
        conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id == row_id)
            .values(secret=standard_form(secret), legacy_secret=secret)
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        subscriptions.update()
        .where(subscriptions.c.legacy_secret.is_not(None))
        .values(secret=subscriptions.c.legacy_secret)
    )
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_column("legacy_secret")
        batch.alter_column("secret", type_=sa.String(length=100), existing_nullable=False)
