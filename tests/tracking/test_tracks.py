"""tracking.tracks on a real database: parcels read back as the plain tracks the ETA engine learns from."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.tracking.helpers import MOSCOW, at, parcel_of, scan, store
from tracking.events import Location
from tracking.statuses import Status
from tracking.tracks import StoredScan, StoredTrack, load_tracks

NOWHERE = Location()


def journeys(session: Session) -> tuple[int, int]:
    store(session, scan("LP00123456789012", 0), scan("LP00123456789012", 10, substatus="line_haul"))
    store(
        session,
        scan(
            "LP00123456789012", 50, Status.DELIVERED, "recipient", MOSCOW, linked_numbers=("RX747628194CN",)
        ),
    )
    store(session, scan("VR344217874YP", 30, Status.IN_TRANSIT, "arrived", NOWHERE))
    first, second = parcel_of(session, "LP00123456789012"), parcel_of(session, "VR344217874YP")
    first.service, first.origin, first.destination = "premium_air", "cn_shenzhen", "ru_moscow"
    session.flush()
    return first.id, second.id


def test_every_parcel_comes_with_its_numbers_registration_and_scans_oldest_first(session: Session) -> None:
    first, second = journeys(session)
    tracks = list(load_tracks(session))
    assert [t.parcel_id for t in tracks] == [first, second]
    assert tracks[0] == StoredTrack(
        parcel_id=first,
        numbers=["LP00123456789012", "RX747628194CN"],
        service="premium_air",
        origin="cn_shenzhen",
        destination="ru_moscow",
        delivered_at=at(50),
        status="delivered",
        scans=[
            StoredScan("cn_shenzhen", "CN", "in_transit", "departed", at(0), "LP00123456789012"),
            StoredScan("cn_shenzhen", "CN", "in_transit", "line_haul", at(10), "LP00123456789012"),
            StoredScan("ru_moscow", "RU", "delivered", "recipient", at(50), "LP00123456789012"),
        ],
    )


def test_a_scan_without_a_place_has_neither_place_nor_country(session: Session) -> None:
    _, second = journeys(session)
    (track,) = load_tracks(session, [second])
    assert [(s.place_id, s.country) for s in track.scans] == [(None, None)]
    assert (track.service, track.delivered_at, track.status) == (None, None, "in_transit")


def test_as_of_hides_the_scans_after_that_moment(session: Session) -> None:
    first, _ = journeys(session)
    (track,) = load_tracks(session, [first], as_of=at(10))
    assert [s.substatus for s in track.scans] == ["departed", "line_haul"]
    assert track.status == "delivered"  # the parcel's stored columns are as they are now


def test_chosen_parcels_are_read_in_chunks_in_the_order_given_skipping_unknown_ids(session: Session) -> None:
    first, second = journeys(session)
    tracks = list(load_tracks(session, [second, 10_000_000, first], chunk=1))
    assert [t.parcel_id for t in tracks] == [second, first]
    assert all(t.scans for t in tracks)


def test_scans_come_back_in_utc(session: Session) -> None:
    first, _ = journeys(session)
    (track,) = load_tracks(session, [first])
    assert all(s.at.utcoffset() is not None and s.at.utcoffset().total_seconds() == 0 for s in track.scans)
