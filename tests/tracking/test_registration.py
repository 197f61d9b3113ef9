"""tracking.registration: a merchant's batch is checked whole (every bad item and field named), then
written whole; registering is idempotent on the reference; numbers first seen in scans are adopted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tracking.helpers import parcel_of, scan, store
from tracking import models
from tracking.accounts import ensure_merchant
from tracking.events import ItemError
from tracking.registration import (
    MAX_BATCH,
    Registration,
    RegistrationRejected,
    parse_registrations,
    register,
)

PLACES = {"Shenzhen": "cn_shenzhen", "Moscow": "ru_moscow", "Kazan": "ru_kazan"}


def check_place(text: str, field: str) -> str:
    if text not in PLACES:
        raise ValueError(f"{field}: no place called {text!r}")
    return PLACES[text]


def check_service(code: str) -> str:
    if code not in ("premium_air", "standard_air"):
        raise ValueError(f"unknown service {code!r}")
    return code


def item(reference: str = "ORDER-1", *numbers: str, **extra: object) -> dict[str, object]:
    return {
        "identifiers": list(numbers or ["RX747628194CN"]),
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "premium_air",
        "reference": reference,
        **extra,
    }


def parse(*items: object) -> list[Registration]:
    return parse_registrations(list(items), check_place, check_service)


def rejected(*items: object) -> list[ItemError]:
    with pytest.raises(RegistrationRejected) as caught:
        parse(*items)
    assert caught.value.status == 422
    return caught.value.errors


def test_an_item_is_checked_into_a_registration_with_normalised_numbers_and_network_places() -> None:
    (reg,) = parse(
        item(
            "  ORDER-1 ",
            "rx 7476-2819 4cn",
            "RX747628194CN",
            "LP00123456789012",
            ship_at="2026-10-01T12:00:00+08:00",
        )
    )
    assert reg == Registration(
        0,
        ("RX747628194CN", "LP00123456789012"),
        "cn_shenzhen",
        "ru_moscow",
        "premium_air",
        "ORDER-1",
        datetime(2026, 10, 1, 4, 0, tzinfo=UTC),
    )


def test_an_empty_or_oversized_batch_is_refused() -> None:
    assert rejected() == [ItemError(0, "send at least one parcel", "parcels")]
    errors = rejected(*(item(f"O{k}") for k in range(MAX_BATCH + 1)))
    assert errors == [ItemError(MAX_BATCH, f"at most {MAX_BATCH} parcels per request", "parcels")]


def test_every_bad_field_of_every_item_is_named_at_once() -> None:
    errors = rejected(
        item("OK"),
        "not an object",
        {"identifiers": [], "origin": "Atlantis", "service": "teleport", "reference": " ", "colour": "red"},
        item("BAD-NUMBER", "RX", ship_at="2026-10-01T12:00:00"),
    )
    assert {(e.index, e.field) for e in errors} == {
        (1, None),
        (2, "colour"),
        (2, "identifiers"),
        (2, "origin"),
        (2, "destination"),
        (2, "service"),
        (2, "reference"),
        (3, "identifiers[0]"),
        (3, "ship_at"),
    }
    by_field = {(e.index, e.field): e.error for e in errors}
    assert by_field[(2, "origin")] == "origin: no place called 'Atlantis'"
    assert by_field[(2, "destination")] == "destination is required (a non-empty string)"
    assert by_field[(3, "ship_at")] == "ship_at must be ISO 8601 with a UTC offset"


def test_a_number_or_reference_may_appear_in_only_one_item_of_a_batch() -> None:
    errors = rejected(
        item("A", "RX747628194CN"), item("B", "LX299455986CN", "RX747628194CN"), item("A", "VR344217874YP")
    )
    assert errors == [
        ItemError(1, "RX747628194CN is also in parcel 0", "identifiers[1]"),
        ItemError(2, "reference 'A' is also parcel 0's", "reference"),
    ]


def test_a_parcel_has_at_most_ten_numbers_of_4_to_40_letters_and_digits() -> None:
    assert rejected(item("A", *(f"RX{k:09d}CN" for k in range(11))))[0].error == (
        "at most 10 identifiers per parcel"
    )
    assert rejected(item("A", "ABC"))[0].error == "a tracking number is 4-40 letters and digits"


@pytest.fixture
def shop(session: Session) -> int:
    return ensure_merchant(session, "Shenzhen Gadgets").id


def registered(session: Session, merchant_id: int, *items: object) -> list:
    return register(session, merchant_id, parse(*items))


def conflicts(session: Session, merchant_id: int, *items: object) -> Sequence[ItemError]:
    with pytest.raises(RegistrationRejected) as caught:
        registered(session, merchant_id, *items)
    assert caught.value.status == 409
    return caught.value.errors


def test_a_new_registration_creates_a_pending_parcel_with_its_numbers(session: Session, shop: int) -> None:
    (done,) = registered(session, shop, item("ORDER-1", "RX747628194CN", "LP00123456789012"))
    assert done.created and (done.status, done.substatus) == ("pending", "registered")
    assert done.identifiers == ("RX747628194CN", "LP00123456789012")
    parcel = parcel_of(session, "LP00123456789012")
    assert (parcel.id, parcel.merchant_id, parcel.reference) == (done.parcel_id, shop, "ORDER-1")
    assert (parcel.origin, parcel.destination, parcel.service) == ("cn_shenzhen", "ru_moscow", "premium_air")


def test_registering_the_same_reference_again_changes_nothing(session: Session, shop: int) -> None:
    (first,) = registered(session, shop, item("ORDER-1", "RX747628194CN", "LP00123456789012"))
    (again,) = registered(session, shop, item("ORDER-1", "LP00123456789012", destination="Kazan"))
    assert (again.parcel_id, again.created) == (first.parcel_id, False)
    assert parcel_of(session, "RX747628194CN").destination == "ru_moscow"
    assert session.scalar(select(func.count()).select_from(models.Parcel)) == 1


def test_a_known_reference_with_new_numbers_is_a_conflict(session: Session, shop: int) -> None:
    registered(session, shop, item("ORDER-1", "RX747628194CN"))
    (error,) = conflicts(session, shop, item("ORDER-1", "LX299455986CN"))
    assert error == ItemError(0, "reference 'ORDER-1' is already registered for RX747628194CN", "reference")


def test_a_number_first_seen_in_scans_is_adopted_with_its_status(session: Session, shop: int) -> None:
    store(session, scan("RX747628194CN", 0))
    scanned = parcel_of(session, "RX747628194CN")
    (done,) = registered(session, shop, item("ORDER-1", "LP00123456789012", "RX747628194CN"))
    assert (done.parcel_id, done.created, done.status) == (scanned.id, True, "in_transit")
    assert done.identifiers == ("RX747628194CN", "LP00123456789012")
    assert parcel_of(session, "LP00123456789012").merchant_id == shop


def test_numbers_of_two_parcels_or_of_another_merchant_are_conflicts(session: Session, shop: int) -> None:
    other = ensure_merchant(session, "Yiwu Toys").id
    registered(session, other, item("THEIRS", "VR344217874YP"))
    registered(session, shop, item("MINE", "RD025500807SE"))
    store(session, scan("RX747628194CN", 0), scan("LX299455986CN", 0))
    errors = conflicts(
        session,
        shop,
        item("A", "RX747628194CN", "LX299455986CN"),
        item("B", "VR344217874YP"),
        item("C", "RD025500807SE"),
    )
    assert errors == [
        ItemError(0, "these tracking numbers belong to different parcels", "identifiers"),
        ItemError(1, "VR344217874YP belongs to another merchant's parcel", "identifiers[0]"),
        ItemError(2, "RD025500807SE is already registered under reference 'MINE'", "identifiers[0]"),
    ]


def test_two_items_adopting_one_scanned_parcel_conflict(session: Session, shop: int) -> None:
    store(session, scan("RX747628194CN", 0, linked_numbers=("LP00123456789012",)))
    (error,) = conflicts(session, shop, item("A", "RX747628194CN"), item("B", "LP00123456789012"))
    assert error == ItemError(1, "LP00123456789012 is on the same parcel as parcel 0", "identifiers[0]")


def test_a_rejected_batch_writes_nothing(session: Session, shop: int) -> None:
    registered(session, shop, item("MINE", "RD025500807SE"))
    session.commit()
    conflicts(session, shop, item("NEW", "RX747628194CN"), item("C", "RD025500807SE"))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(models.Parcel)) == 1
