"""Pydantic models that describe the API's bodies in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from carriers.codetables import iso_countries
from tracking.plausibility import AS_OF, EVENT_TIME, SHIP_AT
from tracking.statuses import SUBSTATUSES, Status

# Every substatus of any status (each event's and parcel's substatus is one of them).
SUBSTATUS_VALUES = sorted({sub for subs in SUBSTATUSES.values() for sub in subs})
SUBSTATUS_ENUM: dict[str, Any] = {"enum": SUBSTATUS_VALUES}
# Text the server strips and then requires: at least one character other than white space (and no NUL,
# which no text may hold: web/errors.py).
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
STATUS_NAMES = "|".join(s.value for s in Status)
# ParcelQuery.status: one status or several separated by commas.
STATUS_LIST = rf"^\s*({STATUS_NAMES})\s*(,\s*({STATUS_NAMES})\s*)*$"


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
    """Where a scan happened: at least one of its fields; ``lat`` and ``lon`` together or neither."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [name]} for name in ("name", "country", "postcode", "lat")],
            "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
        }
    )

    name: str | None = Field(None, max_length=200)
    country: str | None = Field(
        None,
        description="ISO 3166-1 alpha-2 (any other code is refused for the item)",
        json_schema_extra={"enum": [*iso_countries(), None]},
    )
    postcode: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class CanonicalEvent(BaseModel):
    """A scan in Silkway's canonical format."""

    tracking_number: str = Field(min_length=5, examples=["RX747628194CN"])
    status: Status = Field(description="canonical status, e.g. in_transit")
    substatus: str | None = Field(
        None, description="canonical substatus of the status, e.g. departed", json_schema_extra=SUBSTATUS_ENUM
    )
    occurred_at: datetime = Field(
        description=f"ISO 8601 with a UTC offset; it {EVENT_TIME.rule}, else the item is invalid"
    )
    location: PlaceIn | str | None = Field(None, description="a place, or just its name")
    description: str | None = Field(None, max_length=2000)
    raw_code: str | None = Field(None, max_length=2000)
    linked_numbers: list[str] = Field([], description="other numbers of the same parcel (hand-over)")


class CanonicalPayload(BaseModel):
    """A batch of canonical events. Carriers with a native format post that format instead
    (Russian Post SOAP XML, Cainiao JSON, CDEK webhook JSON, 17TRACK webhook JSON, CSV)."""

    events: list[CanonicalEvent]


class CanonicalBody(RootModel[CanonicalPayload | list[CanonicalEvent]]):
    """Canonical JSON: ``{"events": [...]}`` or a bare list of events (other formats: see the operation)."""


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

    status: Status
    substatus: str = Field(json_schema_extra=SUBSTATUS_ENUM)
    occurred_at: datetime
    location: LocationOut | None
    description: str
    carrier: str


class EtaFactorOut(BaseModel):
    """One of the largest reasons of an in-flight ETA (docs/eta.md, "Factors")."""

    code: str = Field(description="from_here, slower_here, faster_here, next_departure or holiday")
    text: str = Field(description="the factor in English words")
    params: dict[str, str] = Field(description="place ids and names, a mode, ISO 8601 instants, a holiday")
    effect_hours: float = Field(description="hours it adds to the likeliest arrival (negative: takes off)")


class EtaOut(BaseModel):
    """A delivery-time prediction."""

    p10: datetime
    p50: datetime
    p90: datetime
    as_of: datetime
    route: list[str]
    model: dict[str, object]
    factors: list[EtaFactorOut] = Field(
        default_factory=list, description="why, largest first: from_here, then up to three (none arrived)"
    )


class ParcelOut(BaseModel):
    """The public view of a parcel: no personal or merchant data."""

    tracking_number: str
    identifiers: list[str]
    status: Status
    substatus: str = Field(json_schema_extra=SUBSTATUS_ENUM)
    events: list[EventOut]
    eta: EtaOut | None


class EtaQuery(BaseModel):
    """When to answer as of."""

    as_of: datetime | None = Field(
        None,
        description=f"ISO 8601 with an offset (default now); it {AS_OF.rule}. Events after it are ignored",
    )


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

    origin: str = Field(
        min_length=1,
        pattern=NOT_BLANK,
        examples=["Shenzhen"],
        description="city name (English or Russian) or place id",
    )
    destination: str = Field(min_length=1, pattern=NOT_BLANK, examples=["Новосибирск"])
    service: str = Field(
        min_length=1,
        pattern=NOT_BLANK,
        examples=["standard_air"],
        description="a code from GET /api/v1/services",
    )
    ship_at: datetime | None = Field(
        None, description=f"when the parcel is handed over (default now); it {SHIP_AT.rule}"
    )


QuoteList = Annotated[list[QuoteIn], Field(min_length=1, max_length=1000)]


class QuoteRequest(BaseModel):
    """Up to 1,000 quote requests, answered in the order asked."""

    quotes: QuoteList


class QuoteBody(RootModel[QuoteIn | QuoteRequest | QuoteList]):
    """One quote request, `{"quotes": [...]}` with 1 to 1,000, or a bare list of them."""


class QuoteOut(BaseModel):
    """A quote: the delivery-time distribution and the route."""

    p10: datetime
    p50: datetime
    p90: datetime
    route: list[str]
    service: str
    model: dict[str, object]
    origin: str = Field(description="as asked")
    destination: str = Field(description="as asked")
    ship_at: datetime = Field(description="as asked, or the time of the call, in UTC")


class QuotesOut(BaseModel):
    """Answers in the order asked."""

    quotes: list[QuoteOut]


class PartialQuote(QuoteOut):
    """A quote of a ``?partial=true`` call, with the position of its request."""

    index: int = Field(description="position of the request in the batch")


class PartialQuotes(BaseModel):
    """With ``?partial=true``: the good requests answered (in order), the bad ones listed."""

    quotes: list[PartialQuote]
    rejected: list[ProblemItem] = Field(description="each failing request (index), field and error")


class QuoteQuery(BaseModel):
    """Whether a batch with failing requests still answers the good ones."""

    partial: bool = Field(False, description="true: answer the good requests, list the bad under rejected")


class QuoteAnswer(RootModel[QuoteOut | QuotesOut | PartialQuotes]):
    """The quote alone for one request object, else `quotes` in the order asked (with `?partial=true`,
    also `rejected`)."""


class ServiceOut(BaseModel):
    """A shipping service."""

    code: str
    name: str
    mode: str
    origin_country: str = Field(description="ISO 3166 alpha-2 country the service carries from (CN or RU)")
    destination_country: str = Field(description="ISO 3166 alpha-2 country the service carries to (RU or CN)")
    legs: dict[str, list[list[str]]]


class ServicesOut(BaseModel):
    """Every service offered."""

    services: list[ServiceOut]
