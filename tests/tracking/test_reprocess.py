"""tracking.reprocess on a real database: a stored payload parsed again replaces the events it gave by
those the current mapping derives, keeps what is unchanged, and derives each touched parcel's status anew."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tracking.helpers import MOSCOW, SHENZHEN, T0, at, carrier, merchant, parcel_of, scan
from tracking import models
from tracking.events import Location, ParseResult, PayloadError
from tracking.ingest import CarrierRef, ingest
from tracking.reprocess import (
    forget_mapped_codes,
    payload_ids,
    rederive_statuses,
    reprocess_payload,
)
from tracking.statuses import Status
from tracking.timeline import StatusState
from tracking.webhooks import create_subscription

# The carrier's codes as the "adapter" maps them; tests change it as a mapping fix would.
MAPPING: dict[str, tuple[Status, str]] = {}
BASE = {"10": (Status.IN_TRANSIT, "departed"), "20": (Status.IN_TRANSIT, "arrived")}


@pytest.fixture(autouse=True)
def mapping() -> dict[str, tuple[Status, str]]:
    MAPPING.clear()
    MAPPING.update(BASE)
    return MAPPING


def parse(carrier_row: models.Carrier, body: bytes, content_type: str) -> ParseResult:
    """A tiny adapter: items ``[number, code, hours]``; an unknown code gives in_transit/other."""
    try:
        items = json.loads(body)
    except ValueError:
        raise PayloadError("not JSON") from None
    result = ParseResult()
    for index, (number, code, hours) in enumerate(items):
        status, substatus = MAPPING.get(code, (Status.IN_TRANSIT, "other"))
        if code not in MAPPING:
            result.note_unmapped(code)
        place = MOSCOW if code == "20" else SHENZHEN
        result.add(scan(number, hours, status, substatus, place, raw_code=code), index)
    return result


def receive(session: Session, ref: CarrierRef, items: list[list[object]], hours: float = 0) -> int:
    """Store a payload and ingest what the current mapping makes of it, as on first receipt."""
    body = json.dumps(items).encode()
    payload = models.RawPayload(
        carrier_id=ref.id,
        source="push",
        content_type="application/json",
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        received_at=at(hours),
    )
    session.add(payload)
    session.flush()
    row = session.get(models.Carrier, ref.id)
    assert row is not None
    parsed = parse(row, body, "application/json")
    ingest(session, ref, parsed.events, indexes=parsed.indexes, raw_payload_id=payload.id, now=at(9000))
    return payload.id


def events_of(session: Session, number: str) -> list[tuple[str, str, int | None]]:
    e = models.ScanEvent
    rows = session.execute(
        select(e.status, e.substatus, e.raw_payload_id)
        .where(e.tracking_number == number)
        .order_by(e.occurred_at)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.fixture
def ref(session: Session) -> CarrierRef:
    return carrier(session)


def test_payloads_are_listed_oldest_first_by_carrier_and_receipt_time(
    session: Session, ref: CarrierRef
) -> None:
    other = carrier(session, "other_post")
    first = receive(session, ref, [["RX747628194CN", "10", 0]], hours=0)
    second = receive(session, other, [["LX299455986CN", "10", 0]], hours=5)
    third = receive(session, ref, [["VR344217874YP", "10", 0]], hours=10)
    assert payload_ids(session) == [first, second, third]
    assert payload_ids(session, carrier_id=ref.id) == [first, third]
    assert payload_ids(session, since=at(5)) == [second, third]


def test_an_unchanged_payload_changes_nothing(session: Session, ref: CarrierRef) -> None:
    payload = receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "20", 40]])
    before = events_of(session, "RX747628194CN")
    change = reprocess_payload(session, payload, parse)
    assert (change.kept, change.added, change.removed, change.changes) == (2, 0, 0, [])
    assert events_of(session, "RX747628194CN") == before


def test_a_mapping_fix_replaces_the_events_it_changes_and_keeps_the_others(
    session: Session, ref: CarrierRef, mapping: dict[str, tuple[Status, str]]
) -> None:
    payload = receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "99", 40]])
    assert parcel_of(session, "RX747628194CN").substatus == "other"
    mapping["99"] = (Status.IN_TRANSIT, "customs_processing")
    change = reprocess_payload(session, payload, parse)
    assert (change.kept, change.added, change.removed) == (1, 1, 1)
    assert change.mapped_codes == {"10", "99"} and change.unmapped_codes == set()
    assert events_of(session, "RX747628194CN") == [
        ("in_transit", "departed", payload),
        ("in_transit", "customs_processing", payload),
    ]
    parcel = parcel_of(session, "RX747628194CN")
    assert (parcel.status, parcel.substatus, parcel.status_at) == ("in_transit", "customs_processing", at(40))
    (moved,) = change.changes
    assert (moved.old.substatus, moved.new.substatus) == ("other", "customs_processing")


def test_a_correction_can_move_a_status_backwards(
    session: Session, ref: CarrierRef, mapping: dict[str, tuple[Status, str]]
) -> None:
    mapping["30"] = (Status.DELIVERED, "recipient")
    payload = receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "30", 40]])
    assert parcel_of(session, "RX747628194CN").delivered_at == at(40)
    mapping["30"] = (Status.DELIVERY_FAILED, "recipient_absent")  # it was a failed attempt all along
    reprocess_payload(session, payload, parse)
    parcel = parcel_of(session, "RX747628194CN")
    assert (parcel.status, parcel.substatus, parcel.delivered_at) == (
        "delivery_failed",
        "recipient_absent",
        None,
    )


def test_an_event_another_payload_also_gave_stays_with_that_payload(
    session: Session, ref: CarrierRef
) -> None:
    first = receive(session, ref, [["RX747628194CN", "10", 0]])
    second = receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "20", 40]])
    change = reprocess_payload(session, second, parse)
    assert (change.kept, change.added, change.removed) == (1, 0, 0)
    assert [p for _, _, p in events_of(session, "RX747628194CN")] == [first, second]


def test_an_unreadable_payload_changes_nothing(session: Session, ref: CarrierRef) -> None:
    payload = receive(session, ref, [["RX747628194CN", "10", 0]])
    row = session.get(models.RawPayload, payload)
    assert row is not None
    row.body = b"<not json>"
    with pytest.raises(PayloadError):
        reprocess_payload(session, payload, parse)
    assert len(events_of(session, "RX747628194CN")) == 1


def test_an_unknown_payload_is_a_lookup_error(session: Session) -> None:
    with pytest.raises(LookupError, match="no raw payload 12345"):
        reprocess_payload(session, 12345, parse)


def test_places_are_resolved_before_comparing_so_a_resolved_payload_is_unchanged(
    session: Session, ref: CarrierRef
) -> None:
    payload = receive(session, ref, [["RX747628194CN", "10", 0]])
    resolved: list[Location] = []

    def resolve(location: Location) -> Location:
        resolved.append(location)
        return location

    change = reprocess_payload(session, payload, parse, resolve)
    assert (change.kept, change.removed) == (1, 0)
    assert resolved == []  # the scans already name their network place


def test_a_merchant_subscribed_to_status_changes_hears_of_a_correction(
    session: Session, ref: CarrierRef, mapping: dict[str, tuple[Status, str]]
) -> None:
    payload = receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "99", 40]])
    shop = merchant(session)
    parcel_of(session, "RX747628194CN").merchant_id = shop
    create_subscription(session, shop, "https://shop.example.com/hooks", ["status_changed"])
    mapping["99"] = (Status.EXCEPTION, "customs_held")
    reprocess_payload(session, payload, parse)
    body = json.loads(session.scalars(select(models.OutboxMessage)).one().payload)
    assert body["parcel"]["status"] == "exception"
    assert body["previous"]["substatus"] == "other"


def test_rederiving_sets_status_delivery_and_event_span_from_all_events(
    session: Session, ref: CarrierRef
) -> None:
    receive(session, ref, [["RX747628194CN", "10", 0], ["RX747628194CN", "20", 40]])
    parcel = parcel_of(session, "RX747628194CN")
    session.execute(
        models.Parcel.__table__.update().values(status="delivered", substatus="other", first_event_at=None)
    )
    changes = rederive_statuses(session, [parcel.id])
    parcel = parcel_of(session, "RX747628194CN")
    assert (parcel.status, parcel.substatus, parcel.first_event_at, parcel.last_event_at) == (
        "in_transit",
        "arrived",
        T0,
        at(40),
    )
    assert parcel.delivered_at is None
    assert [(c.old.status.value, c.new.substatus) for c in changes] == [("delivered", "arrived")]


def test_rederiving_reports_changes_against_the_state_given_as_before(
    session: Session, ref: CarrierRef
) -> None:
    receive(session, ref, [["RX747628194CN", "10", 0]])
    parcel = parcel_of(session, "RX747628194CN")
    before = {parcel.id: StatusState(Status.PENDING, "registered", None)}
    assert [c.parcel_id for c in rederive_statuses(session, [parcel.id], before)] == [parcel.id]
    assert rederive_statuses(session, [parcel.id]) == []


def test_codes_that_now_have_a_mapping_leave_the_unmapped_report(session: Session, ref: CarrierRef) -> None:
    for code in ("99", "98", "97"):
        session.add(models.UnmappedCode(carrier_id=ref.id, code=code, count=1))
    session.flush()
    assert forget_mapped_codes(session, ref.id, mapped={"99", "98", "10"}, unmapped={"98"}) == 1
    left = session.scalars(select(models.UnmappedCode.code).order_by(models.UnmappedCode.code)).all()
    assert left == ["97", "98"]
    assert forget_mapped_codes(session, ref.id, mapped=set(), unmapped=set()) == 0
    assert session.scalar(select(func.count()).select_from(models.UnmappedCode)) == 2
