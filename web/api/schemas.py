"""Pydantic models that describe the API's bodies in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ProblemItem(BaseModel):
    """One item or field at fault."""

    index: int | None = Field(None, description="position of the item in the payload")
    field: str | None = Field(None, description="the field at fault, dotted for nested fields")
    error: str


class ProblemBody(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] = []


class PlaceIn(BaseModel):
    """Where a scan happened."""

    name: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2", min_length=2, max_length=2)
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None


class CanonicalEvent(BaseModel):
    """A scan in Silkway's canonical format."""

    tracking_number: str = Field(examples=["RX747628194CN"])
    status: str = Field(description="canonical status, e.g. in_transit")
    substatus: str | None = Field(None, description="canonical substatus, e.g. departed")
    occurred_at: datetime = Field(description="ISO 8601 with a UTC offset")
    location: PlaceIn | None = None
    description: str | None = None
    raw_code: str | None = None
    linked_numbers: list[str] = Field([], description="other numbers of the same parcel (hand-over)")


class CanonicalPayload(BaseModel):
    """A batch of canonical events. Carriers with a native format post that format instead
    (Russian Post SOAP XML, Cainiao JSON, CDEK webhook JSON, 17TRACK webhook JSON, CSV)."""

    events: list[CanonicalEvent]


class Rejected(BaseModel):
    """An item the batch did not accept."""

    index: int
    error: str
    field: str | None = None


class Notice(BaseModel):
    """An item the carrier answered for without events: its answer, not an error (the item is ignored)."""

    index: int = Field(description="position of the item in the payload")
    tracking_number: str | None = Field(
        description="the number the carrier answered for", examples=["RA123456789RU"]
    )
    code: str = Field(description="the carrier's code for its answer, e.g. Russian Post ErrorTypeID 12")
    reason: str = Field(description="the carrier's words for it", examples=["Сообщение не найдено"])


class IngestResult(BaseModel):
    """What a batch did."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]
    ignored: int = Field(
        0,
        description="items acknowledged but not tracking events (e.g. print forms, updates without scans, "
        "and every item named under notices)",
    )
    notices: list[Notice] = Field(
        [],
        description="items the carrier answered for without events, e.g. a Russian Post batch item with "
        "Error 12 (no data for that number); they never reject the batch and are counted under ignored",
    )
    unmapped: dict[str, int] = Field({}, description="carrier codes without a mapping yet, with counts")


class LocationOut(BaseModel):
    """A place in the public view."""

    name: str | None
    country: str | None
    lat: float | None
    lon: float | None


class EventOut(BaseModel):
    """A timeline entry."""

    status: str
    substatus: str
    occurred_at: datetime
    location: LocationOut | None
    description: str
    carrier: str


class EtaOut(BaseModel):
    """A delivery-time prediction."""

    p10: datetime
    p50: datetime
    p90: datetime
    as_of: datetime
    route: list[str]
    model: dict[str, object]


class ParcelOut(BaseModel):
    """The public view of a parcel: no personal or merchant data."""

    tracking_number: str
    identifiers: list[str]
    status: str
    substatus: str
    events: list[EventOut]
    eta: EtaOut | None


class Candidate(BaseModel):
    """A carrier and format a tracking number may belong to."""

    carrier: str
    format: str
    confidence: float


class TrackingNumberOut(BaseModel):
    """What a tracking number looks like."""

    number: str
    valid: bool
    candidates: list[Candidate]
    problems: list[str] = []


class HealthOut(BaseModel):
    """Liveness or readiness."""

    status: str
    database: str | None = None


class QuoteIn(BaseModel):
    """A pre-shipment quote request."""

    origin: str = Field(examples=["Shenzhen"], description="city name (English or Russian) or place id")
    destination: str = Field(examples=["Новосибирск"])
    service: str = Field(examples=["standard_air"], description="a code from GET /api/v1/services")
    ship_at: datetime | None = Field(None, description="when the parcel is handed over; default now")


class QuoteRequest(BaseModel):
    """One quote request, or `{"quotes": [...]}` with up to 1,000 (a bare list works too)."""

    quotes: list[QuoteIn]


class QuoteOut(BaseModel):
    """A quote: the delivery-time distribution and the route."""

    p10: datetime
    p50: datetime
    p90: datetime
    route: list[str]
    service: str
    model: dict[str, object]


class QuotesOut(BaseModel):
    """Answers in the order asked."""

    quotes: list[QuoteOut]


class ServiceOut(BaseModel):
    """A shipping service."""

    code: str
    name: str
    mode: str
    legs: dict[str, list[list[str]]]


class ServicesOut(BaseModel):
    """Every service offered."""

    services: list[ServiceOut]
