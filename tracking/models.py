"""The database schema as typed SQLAlchemy 2 models. Migrations live in tracking/migrations (Alembic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tracking.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT for the large tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")
intpk = Annotated[int, mapped_column(primary_key=True)]
bigpk = Annotated[int, mapped_column(BigId, primary_key=True)]
created = Annotated[datetime, mapped_column(default=utcnow)]
codestr = Annotated[str, mapped_column(String(40))]


class Base(DeclarativeBase):
    """The declarative base with a constraint naming convention (stable Alembic migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), str: String(200)}


class Carrier(Base):
    """A carrier that pushes or is polled for events, and the feed format it speaks."""

    __tablename__ = "carriers"
    id: Mapped[intpk]
    code: Mapped[codestr] = mapped_column(unique=True)
    name: Mapped[str]
    format: Mapped[codestr]
    created_at: Mapped[created]
    # Push signing (web/access/signing.py): None means the carrier's pushes are not signed. The previous
    # secret stays valid until previous_secret_until, so a rotation does not break a carrier mid-deploy.
    signing_secret: Mapped[str | None] = mapped_column(String(200))
    previous_signing_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None]


class Merchant(Base):
    """A merchant that registers parcels and asks for quotes."""

    __tablename__ = "merchants"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[created]


class ApiKey(Base):
    """An API key, stored only as its SHA-256; the prefix helps an operator recognise it.

    ``revoked_at`` is the instant from which the key is refused: in the past for a revoked key, in the
    future for a rotated one still in its grace period (``replaced_by_id`` is then its successor).
    ``last_used_at`` is when it last authenticated a request, to the minute (tracking.accounts.record_use).
    """

    __tablename__ = "api_keys"
    id: Mapped[intpk]
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(20))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("carriers.id"))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    label: Mapped[str | None]
    created_at: Mapped[created]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))

    carrier: Mapped[Carrier | None] = relationship(lazy="joined")
    merchant: Mapped[Merchant | None] = relationship(lazy="joined")


class Location(Base):
    """A place as carriers name it, resolved to a network node (place_id) when the gazetteer knows it."""

    __tablename__ = "locations"
    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str | None]
    country: Mapped[str | None] = mapped_column(String(2))
    postcode: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    place_id: Mapped[str | None] = mapped_column(String(60))


class Parcel(Base):
    """One physical parcel; its status is derived from its events by event time."""

    __tablename__ = "parcels"
    id: Mapped[bigpk]
    status: Mapped[codestr] = mapped_column(default="pending")
    substatus: Mapped[codestr] = mapped_column(default="registered")
    status_at: Mapped[datetime | None]
    first_event_at: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    reference: Mapped[str | None]
    origin: Mapped[str | None] = mapped_column(String(60))
    destination: Mapped[str | None] = mapped_column(String(60))
    service: Mapped[str | None] = mapped_column(String(40))
    ship_at: Mapped[datetime | None]
    stalled_at: Mapped[datetime | None]
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    identifiers: Mapped[list[Identifier]] = relationship(
        back_populates="parcel", order_by="Identifier.id", lazy="selectin"
    )


class Identifier(Base):
    """A tracking number; a parcel collects several over its life (first mile, hand-over, last mile)."""

    __tablename__ = "identifiers"
    id: Mapped[bigpk]
    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    carrier_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[created]

    parcel: Mapped[Parcel] = relationship(back_populates="identifiers")


class RawPayload(Base):
    """A payload exactly as received, kept for audit and for re-parsing after a mapping fix."""

    __tablename__ = "raw_payloads"
    id: Mapped[bigpk]
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"), index=True)
    received_at: Mapped[created]
    source: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    accepted: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)


class ScanEvent(Base):
    """A stored carrier scan. (parcel_id, fingerprint) is the event's identity: see ScanEvent.fingerprint."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("parcel_id", "fingerprint"),
        Index("ix_events_parcel_occurred", "parcel_id", "occurred_at"),
    )
    id: Mapped[bigpk]
    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id"))
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    tracking_number: Mapped[str] = mapped_column(String(40))
    status: Mapped[codestr]
    substatus: Mapped[codestr]
    occurred_at: Mapped[datetime]
    utc_offset_minutes: Mapped[int] = mapped_column(default=0)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    raw_code: Mapped[str | None] = mapped_column(String(80))
    fingerprint: Mapped[str] = mapped_column(String(20))
    raw_payload_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("raw_payloads.id"), index=True)
    received_at: Mapped[created]


class UnmappedCode(Base):
    """A raw carrier code seen without a mapping: the report operators use to extend code tables."""

    __tablename__ = "unmapped_codes"
    __table_args__ = (UniqueConstraint("carrier_id", "code"),)
    id: Mapped[intpk]
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    code: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[created]
    last_seen: Mapped[created]


# Merchants' tools: listing a merchant's parcels in (updated_at, id) order, webhooks and their outbox.
Index("ix_parcels_merchant_updated", Parcel.merchant_id, Parcel.updated_at, Parcel.id)
Index("ix_parcels_merchant_reference", Parcel.merchant_id, Parcel.reference)


class WebhookSubscription(Base):
    """A merchant's webhook: a URL, the events it wants and the secret its deliveries are signed with."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[intpk]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(200))
    # the pre-0010 secret a merchant holds, which keys the deprecated Silkway-Signature header
    legacy_secret: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None]
    created_at: Mapped[created]
    deleted_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A webhook event to deliver, written in the transaction of the change it reports.

    ``parcel_id`` has no foreign key on purpose: ingestion may merge a parcel away while its messages
    wait, and the message carries a snapshot of the parcel anyway.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "state", "next_attempt_at"),
        Index("ix_outbox_messages_order", "subscription_id", "parcel_id", "state", "id"),
    )
    id: Mapped[bigpk]
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    parcel_id: Mapped[int | None] = mapped_column(BigId)
    event: Mapped[codestr]
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class WebhookDelivery(Base):
    """One attempt to deliver an outbox message: the delivery log a merchant reads."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),)
    id: Mapped[bigpk]
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_messages.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    attempt: Mapped[int]
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[bool] = mapped_column(default=False)


class FeedCursor(Base):
    """A carrier feed that Silkway polls (web/feeds/pull.py): where it is, how far it was read, how it fares.

    ``kind`` is ``cursor`` (a JSON "events since cursor" feed) or ``russian_post`` (the batch ticket
    service). ``cursor`` only moves in the transaction that stores the events it covers.
    """

    __tablename__ = "feed_cursors"
    __table_args__ = (UniqueConstraint("carrier_id", "kind"),)
    id: Mapped[intpk]
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(500))
    cursor: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    next_poll_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    created_at: Mapped[created]

    carrier: Mapped[Carrier] = relationship(lazy="joined")


class RussianPostTicket(Base):
    """A batch request to Russian Post: numbers submitted, the answer fetched no sooner than fetch_after.

    ``status``: ``pending`` (answer not fetched yet), ``done`` (answer stored as raw_payload_id, in the
    same transaction as its events), ``expired`` (the service deleted the answer) or ``failed``.
    """

    __tablename__ = "russian_post_tickets"
    __table_args__ = (UniqueConstraint("feed_id", "ticket"),)
    id: Mapped[intpk]
    feed_id: Mapped[int] = mapped_column(ForeignKey("feed_cursors.id"), index=True)
    ticket: Mapped[str] = mapped_column(String(100))
    numbers: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    requested_at: Mapped[created]
    fetch_after: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    fetched_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    raw_payload_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("raw_payloads.id"))


class JobTick(Base):
    """One claimed run of a scheduled job; the unique (job, tick) stops two schedulers running it twice."""

    __tablename__ = "job_ticks"
    __table_args__ = (UniqueConstraint("job", "tick"),)
    id: Mapped[bigpk]
    job: Mapped[str] = mapped_column(String(60))
    tick: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)


class EtaModel(Base):
    """A learned leg-time model (routing.model), stored so every worker and the backtest use the same one."""

    __tablename__ = "eta_models"
    id: Mapped[intpk]
    version: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[created]
    learned_from: Mapped[int] = mapped_column(default=0)
    # The end of its learning window: `eta refresh --as-of T` learns as of T (None: stored before 0011).
    learned_at: Mapped[datetime | None] = mapped_column(index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class EtaRevision(Base):
    """A parcel's ETA as it was published at a moment; the history notifications and audits read."""

    __tablename__ = "eta_revisions"
    __table_args__ = (Index("ix_eta_revisions_parcel_computed", "parcel_id", "computed_at"),)
    id: Mapped[bigpk]
    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id", ondelete="CASCADE"))
    computed_at: Mapped[datetime]
    p10: Mapped[datetime]
    p50: Mapped[datetime]
    p90: Mapped[datetime]
    model_version: Mapped[str] = mapped_column(String(80))
    route: Mapped[str] = mapped_column(Text, default="")


class MailSubscription(Base):
    """A shopper's e-mail subscription to one parcel (tracking/subscriptions.py).

    The address is kept for the notifications only: it is blanked on unsubscribe and the row deleted once
    the parcel's tracking has ended plus the retention period. ``token`` is the capability of the
    confirmation and unsubscribe links. ``sent_kinds`` are the kinds mailed at most once that were
    queued already (arrival, delivery, the return).
    """

    __tablename__ = "mail_subscriptions"
    __table_args__ = (UniqueConstraint("parcel_id", "email"),)
    id: Mapped[bigpk]
    parcel_id: Mapped[int] = mapped_column(BigId, ForeignKey("parcels.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(5))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    sent_kinds: Mapped[str] = mapped_column(String(200), default="")
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    created_at: Mapped[created]


class MailMessage(Base):
    """A mail to send to a subscriber: the confirmation, or a notification of ``kind``, sent by the
    scheduler's ``notifications`` job with retries (tracking/mail_outbox.py). Sent when ``sent_at`` is
    set; ``gave_up_at`` when refused for good or too old."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)
    id: Mapped[bigpk]
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("mail_subscriptions.id"), index=True)
    kind: Mapped[codestr]
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    gave_up_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class ConnectorRegistration(Base):
    """A number registered (or to be registered) with a tracking service: the connectors' outbox.

    ``state``: ``queued`` (not registered yet), ``registered``, ``rejected`` (the service refused it:
    ``error_code`` and ``last_answer`` say why), ``stopped``. ``pending`` is the call still owed to the
    service (``register``, ``changecarrier``, ``stop``) from ``next_attempt_at`` on, or None.
    ``carrier_code`` is Silkway's carrier code for the number (read from its shape, or set by hand);
    ``remote_carrier`` the service's own carrier id once it answered. ``parcel_id`` has no foreign key
    (as in the webhook outbox): the number leads, and a merge may move it to another parcel.
    """

    __tablename__ = "connector_registrations"
    __table_args__ = (
        UniqueConstraint("number", "connector"),
        Index("ix_connector_registrations_due", "connector", "pending", "next_attempt_at"),
        Index("ix_connector_registrations_state", "connector", "state", "updated_at"),
    )
    id: Mapped[bigpk]
    number: Mapped[str] = mapped_column(String(40))
    parcel_id: Mapped[int | None] = mapped_column(BigId, index=True)
    connector: Mapped[codestr]
    carrier_code: Mapped[str | None] = mapped_column(String(40))
    remote_carrier: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    pending: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    error_code: Mapped[str | None] = mapped_column(String(40))
    last_answer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    registered_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
