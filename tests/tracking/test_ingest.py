"""tracking.ingest on a real database (SQLite and PostgreSQL): the bulk statements of tracking.ingest_sql
store what was sent, once, and derive the same statuses as a derivation from every stored event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracking import models
from tracking.accounts import ensure_carrier
from tracking.events import Location, ScanEvent
from tracking.ingest import LOCK_BUCKETS, CarrierRef, ingest
from tracking.statuses import Status
from tracking.timeline import StatusState, derive

T0 = datetime(2026, 10, 1, 8, 30, 15, 123456, tzinfo=UTC)
SHANGHAI = Location(name="Shanghai", country="CN")
MOSCOW = Location(name="Moscow", country="RU", postcode="101000", lat=55.75, lon=37.62)
STEPS = [
    (Status.INFO_RECEIVED, "label_created", SHANGHAI),
    (Status.IN_TRANSIT, "departed", SHANGHAI),
    (Status.IN_TRANSIT, "customs_processing", MOSCOW),
    (Status.OUT_FOR_DELIVERY, "courier", Location()),
    (Status.DELIVERED, "recipient", MOSCOW),
]


@pytest.fixture
def carrier(session: Session) -> CarrierRef:
    row = ensure_carrier(session, "bulk_post", "canonical")
    session.commit()
    return CarrierRef(row.id, row.code)


def scan(number: str, step: int, hours: float = 0.0, **extra: object) -> ScanEvent:
    status, substatus, place = STEPS[step]
    fields: dict = {"location": place, "description": f"step {step}", "raw_code": f"S{step}", **extra}
    return ScanEvent(
        number, status, substatus, T0 + timedelta(hours=10 * step + hours), "bulk_post", **fields
    )


def numbers(count: int) -> list[str]:
    return [f"BK{k:011d}CN" for k in range(count)]


def stored_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(models.ScanEvent)) or 0)


def parcel_of(session: Session, number: str) -> models.Parcel:
    parcel_id = session.scalar(select(models.Identifier.parcel_id).where(models.Identifier.number == number))
    parcel = session.get(models.Parcel, parcel_id)
    assert parcel is not None
    session.refresh(parcel)
    return parcel


def derived(session: Session, parcel_id: int) -> StatusState:
    e = models.ScanEvent
    rows = session.execute(select(e.status, e.substatus, e.occurred_at).where(e.parcel_id == parcel_id))
    return derive([StatusState(Status(s), sub, at) for s, sub, at in rows])


def test_a_large_batch_is_stored_once_and_a_resend_is_all_duplicates(session, carrier):
    # More numbers than one IN list holds on SQLite (2,000), so the chunked look-ups are exercised too.
    batch = [scan(n, step) for n in numbers(2100) for step in (0, 1)]
    report = ingest(session, carrier, batch)
    session.commit()
    assert (report.accepted, report.duplicates, report.rejected) == (4200, 0, [])
    assert len(report.parcel_ids) == 2100 and len(report.changes) == 2100
    assert stored_events(session) == 4200

    again = ingest(session, carrier, list(reversed(batch)))
    session.commit()
    assert (again.accepted, again.duplicates, again.changes) == (0, 4200, [])
    assert stored_events(session) == 4200
    assert session.scalar(select(func.count()).select_from(models.Parcel)) == 2100
    assert session.scalar(select(func.count()).select_from(models.Location)) == 1


def test_new_scans_of_known_parcels_move_their_status_and_event_span(session, carrier):
    first = numbers(3)
    ingest(session, carrier, [scan(n, 1) for n in first])
    session.commit()
    report = ingest(
        session,
        carrier,
        [
            scan(first[0], 2),  # newer: moves the status
            scan(first[1], 0),  # older label: no status change, but the span starts earlier
            scan(first[2], 1, description="reworded resend"),  # a duplicate
        ],
    )
    session.commit()
    assert (report.accepted, report.duplicates) == (2, 1)
    assert [c.parcel_id for c in report.changes] == [parcel_of(session, first[0]).id]
    moved, older = parcel_of(session, first[0]), parcel_of(session, first[1])
    assert (moved.status, moved.substatus) == ("in_transit", "customs_processing")
    assert moved.first_event_at == T0 + timedelta(hours=10) and moved.last_event_at == T0 + timedelta(
        hours=20
    )
    assert (older.status, older.substatus) == ("in_transit", "departed")
    assert older.first_event_at == T0 and older.last_event_at == T0 + timedelta(hours=10)
    for number in first:
        parcel = parcel_of(session, number)
        assert StatusState(Status(parcel.status), parcel.substatus, parcel.status_at) == derived(
            session, parcel.id
        )


def test_stored_event_keeps_every_field_as_sent(session, carrier):
    odd = 'Ушёл из "Шанхая" \\ 出发 \n tab\t'
    event = ScanEvent(
        "BK00000000001CN",
        Status.IN_TRANSIT,
        "departed",
        datetime.fromisoformat("2026-10-03T07:59:58.999999+08:00"),
        "bulk_post",
        location=MOSCOW,
        description=odd,
        raw_code=None,
    )
    moscow_time = datetime(2026, 10, 4, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    bare = ScanEvent("BK00000000002CN", Status.IN_TRANSIT, "arrived", moscow_time, "bulk_post")
    assert ingest(session, carrier, [event, bare]).accepted == 2
    session.commit()
    e = models.ScanEvent
    row = session.execute(select(e).where(e.tracking_number == "BK00000000001CN")).scalar_one()
    assert row.description == odd and row.raw_code is None and row.carrier_id == carrier.id
    assert row.occurred_at == datetime(2026, 10, 2, 23, 59, 58, 999999, tzinfo=UTC)
    assert row.utc_offset_minutes == 480
    place = session.get(models.Location, row.location_id)
    assert place is not None
    assert (place.name, place.country, place.postcode, place.lat, place.lon) == (
        "Moscow",
        "RU",
        "101000",
        55.75,
        37.62,
    )
    empty = session.execute(select(e).where(e.tracking_number == "BK00000000002CN")).scalar_one()
    assert empty.location_id is None and empty.description == "" and empty.raw_code is None
    assert empty.occurred_at == datetime(2026, 10, 4, 9, 0, tzinfo=UTC) and empty.utc_offset_minutes == 180


def test_numbers_linked_inside_a_batch_share_one_parcel_and_one_copy_of_a_scan(session, carrier):
    # The same scan reported under the first-mile and the last-mile number, linked in the same batch.
    report = ingest(
        session,
        carrier,
        [
            scan("BK00000000001CN", 1, linked_numbers=("RB000000001RU",)),
            scan("RB000000001RU", 1, description="relayed by the last mile"),
            scan("RB000000001RU", 2),
        ],
    )
    session.commit()
    assert (report.accepted, report.duplicates, len(report.parcel_ids)) == (2, 1, 1)
    assert parcel_of(session, "BK00000000001CN").id == parcel_of(session, "RB000000001RU").id


def test_a_link_merges_parcels_and_their_status_is_derived_from_all_events(session, carrier):
    ingest(session, carrier, [scan("BK00000000001CN", 0), scan("BK00000000001CN", 1)])
    ingest(session, carrier, [scan("RB000000001RU", 1), scan("RB000000001RU", 4)])
    session.commit()
    report = ingest(session, carrier, [scan("RB000000001RU", 2, linked_numbers=("BK00000000001CN",))])
    session.commit()
    assert (report.accepted, report.duplicates) == (1, 0)
    parcel = parcel_of(session, "BK00000000001CN")
    assert parcel.id == parcel_of(session, "RB000000001RU").id
    # Step 1 was on both parcels: the merge keeps one copy.
    assert stored_events(session) == 4
    assert (parcel.status, parcel.substatus) == ("delivered", "recipient")
    assert parcel.first_event_at == T0 and parcel.last_event_at == T0 + timedelta(hours=40)
    assert StatusState(Status(parcel.status), parcel.substatus, parcel.status_at) == derived(
        session, parcel.id
    )


def test_an_event_from_the_future_is_rejected_by_its_index_and_the_rest_stored(session, carrier):
    now = T0 + timedelta(days=2)
    future = scan("BK00000000002CN", 0, hours=24 * 5)
    report = ingest(session, carrier, [scan("BK00000000001CN", 0), future], indexes=[3, 7], now=now)
    session.commit()
    assert report.accepted == 1 and [(e.index, e.field) for e in report.rejected] == [(7, "occurred_at")]
    assert stored_events(session) == 1


def test_a_batch_holds_at_most_one_advisory_lock_per_bucket(session, carrier):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite lets one writer in at a time")
    ingest(session, carrier, [scan(n, 0) for n in numbers(3000)])
    held = session.scalar(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        )
    )
    session.rollback()
    assert 0 < held <= LOCK_BUCKETS
    assert stored_events(session) == 0
