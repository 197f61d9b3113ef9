"""Pydantic models that describe the merchants' API (parcels, webhooks) in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from tracking.accounts import CARRIER_CODE_REGEX
from tracking.plausibility import SHIP_AT
from tracking.statuses import Status
from web.api.connector_answers import ConnectorState
from web.api.schemas import NOT_BLANK, STATUS_LIST, SUBSTATUS_ENUM
from web.api.subscription_schemas import NotifyIn

WebhookEvent = Literal["status_changed", "eta_revised", "delayed"]


class ParcelRegistration(BaseModel):
    """A parcel to register (a field not named here is refused)."""

    model_config = ConfigDict(extra="forbid")

    identifiers: list[Annotated[str, Field(min_length=4)]] = Field(
        min_length=1,
        max_length=10,
        description="tracking numbers of the parcel",
        examples=[["RX747628194CN"]],
    )
    origin: str = Field(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="a city name (English, Russian or Chinese) or a network place id",
    )
    destination: str = Field(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="a city name or a network place id",
        examples=["Moscow"],
    )
    service: str = Field(
        min_length=1,
        max_length=40,
        pattern=NOT_BLANK,
        description="a service code from GET /api/v1/services",
        examples=["standard_air"],
    )
    reference: str = Field(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="your order reference; registering it again is harmless",
    )
    ship_at: datetime | None = Field(
        None, description=f"when the parcel leaves (ISO 8601 with an offset); it {SHIP_AT.rule}"
    )
    notify: NotifyIn | None = Field(
        None,
        description="the shopper's address and language: a confirmation mail, then a mail when the "
        "parcel's situation changes; the address is shown in no answer",
    )


class RegistrationBatch(BaseModel):
    """Up to 1,000 parcels, registered all or none."""

    parcels: list[ParcelRegistration] = Field(min_length=1, max_length=1000)


ParcelList = Annotated[list[ParcelRegistration], Field(min_length=1, max_length=1000)]


class RegistrationBody(RootModel[ParcelRegistration | RegistrationBatch | ParcelList]):
    """One parcel, a batch under ``parcels``, or a bare list of parcels."""


class MerchantParcelFields(BaseModel):
    """A parcel as its merchant sees it."""

    id: int
    tracking_number: str | None
    identifiers: list[str]
    reference: str | None
    status: Status
    substatus: str = Field(json_schema_extra=SUBSTATUS_ENUM)
    status_at: datetime | None
    last_event_at: datetime | None
    origin: str | None
    destination: str | None
    service: str | None
    ship_at: datetime | None
    delayed: bool = Field(description="no scan for longer than usual where the parcel is")
    stalled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RegisteredParcel(MerchantParcelFields):
    """A registered parcel; ``created`` is false when the reference had been registered before."""

    created: bool
    connectors: list[ConnectorState] = Field(
        description="the tracking services its numbers are registered with"
    )


class RegistrationResult(BaseModel):
    """The parcels of a batch (a single registration answers with the parcel alone)."""

    parcels: list[RegisteredParcel]


class RegistrationAnswer(RootModel[RegisteredParcel | RegistrationResult]):
    """The registered parcel, or ``parcels`` for a batch."""


class ParcelQuery(BaseModel):
    """Filters and paging for the merchant's parcels, in order of last update."""

    status: str | None = Field(
        None,
        pattern=STATUS_LIST,
        description="a canonical status, or several separated by commas (e.g. in_transit,delivered)",
    )
    delayed: bool | None = Field(None, description="true: only stalled parcels; false: only the others")
    updated_since: datetime | None = Field(None, description="ISO 8601 with an offset")
    reference: str | None = Field(
        None, min_length=1, max_length=200, pattern=NOT_BLANK, description="your order reference, exactly"
    )
    origin: str | None = Field(
        None, min_length=1, max_length=200, pattern=NOT_BLANK, description="a city name or place id"
    )
    destination: str | None = Field(
        None, min_length=1, max_length=200, pattern=NOT_BLANK, description="a city name or place id"
    )
    carrier: str | None = Field(
        None,
        pattern=f"^{CARRIER_CODE_REGEX}$",
        description="a carrier code: parcels with a number read as that carrier's, or scanned by it",
    )
    created_since: datetime | None = Field(None, description="registered at or after (ISO 8601, offset)")
    created_before: datetime | None = Field(None, description="registered before (ISO 8601, offset)")
    limit: int = Field(
        100, ge=1, le=10_000, description="1 to 500 (default 100); as CSV 1 to 10,000 (default 10,000)"
    )
    cursor: str | None = Field(None, description="next_cursor of the previous page")
    format: Literal["json", "csv"] | None = Field(
        None, description="csv: the filtered list as text/csv (as Accept: text/csv asks)"
    )


class ListedEta(BaseModel):
    """The parcel's delivery estimate now, as GET /api/v1/parcels/{n} tells it."""

    p10: datetime
    p50: datetime
    p90: datetime


class MerchantParcel(MerchantParcelFields):
    """A parcel of the merchant's list, with its estimate and the shopper's page."""

    eta: ListedEta | None = Field(description="null when no estimate can be told")
    url: str | None = Field(description="the public tracking page, {PUBLIC_URL}/track/{tracking_number}")


class ParcelPage(BaseModel):
    """A page of parcels; ``next_cursor`` is null on the last page."""

    parcels: list[MerchantParcel]
    next_cursor: str | None


class MerchantEvent(BaseModel):
    """A timeline entry."""

    status: Status
    substatus: str = Field(json_schema_extra=SUBSTATUS_ENUM)
    occurred_at: datetime
    location: dict[str, object] | None
    description: str
    carrier: str
    raw_code: str | None


class CarrierCorrection(BaseModel):
    """The carrier of the parcel's numbers, set by hand when detection was wrong."""

    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(
        pattern=f"^{CARRIER_CODE_REGEX}$",
        description="a carrier code as GET /api/v1/tracking-numbers/{number} names them (yanwen, cdek)",
        examples=["yanwen"],
    )


class MerchantParcelDetail(MerchantParcelFields):
    """A parcel with its timeline, newest event first."""

    events: list[MerchantEvent]
    connectors: list[ConnectorState] = Field(
        description="the tracking services its numbers are registered with, and what each answered"
    )


class WebhookIn(BaseModel):
    """A webhook subscription: where to POST, and which events."""

    url: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"^\s*[Hh][Tt][Tt][Pp][Ss]?://\S+\s*$",
        description="https (or http) URL on a public address, at most 2,000 characters",
        examples=["https://shop.example/hooks"],
    )
    events: list[WebhookEvent] | None = Field(
        default=None, min_length=1, description="the events to send; all three when absent or null"
    )
    description: str | None = Field(None, max_length=200)


class WebhookOut(BaseModel):
    """A webhook subscription."""

    id: int
    url: str
    events: list[WebhookEvent]
    description: str | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    """A new subscription, with the signing secret: shown this once only."""

    secret: str = Field(
        description="the Standard Webhooks secret (whsec_ + base64 key): verify webhook-signature with it",
        pattern="^whsec_[A-Za-z0-9+/]+={0,2}$",
    )


class WebhookList(BaseModel):
    """The merchant's subscriptions."""

    webhooks: list[WebhookOut]


class DeliveryQuery(BaseModel):
    """Paging for the delivery log, newest first."""

    limit: int = Field(100, ge=1, le=500)
    cursor: str | None = None


class DeliveryOut(BaseModel):
    """One attempt to deliver an event."""

    id: int
    event_id: str = Field(description="the same on every attempt of one event (deduplicate on it)")
    event: WebhookEvent | Literal["ping"] = Field(description="ping: a test delivery you asked for")
    parcel_id: int | None
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    succeeded: bool
    state: Literal["pending", "delivered", "failed", "cancelled"] = Field(description="the event's state now")


class DeliveryPage(BaseModel):
    """A page of the delivery log."""

    deliveries: list[DeliveryOut]
    next_cursor: str | None


class DeliveryQueued(BaseModel):
    """An event queued for delivery now: the outbox sends it within seconds, the delivery log shows it."""

    status: Literal["accepted"]
    event_id: str = Field(description="the webhook-id of the delivery (evt_…)")
    event: WebhookEvent | Literal["ping"]
    deliveries: str = Field(description="the delivery log's path, where its attempts appear")
