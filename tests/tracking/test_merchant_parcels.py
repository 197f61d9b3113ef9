"""tracking.merchant_parcels on a real database: a merchant reads its own parcels, and only those."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tests.tracking.helpers import at, merchant
from tracking import models
from tracking.merchant_parcels import (
    ParcelFilter,
    delayed_parcels,
    list_parcels,
    merchant_parcel,
    parcels_by_id,
    parcels_in_flight,
    status_counts,
)


def add(
    session: Session,
    owner: int | None,
    number: str,
    status: str,
    updated: float,
    stalled: float | None = None,
) -> models.Parcel:
    parcel = models.Parcel(
        status=status,
        substatus="other",
        merchant_id=owner,
        reference=number,
        updated_at=at(updated),
        stalled_at=None if stalled is None else at(stalled),
    )
    session.add(parcel)
    session.flush()
    session.add(models.Identifier(parcel_id=parcel.id, number=number))
    session.flush()
    return parcel


@pytest.fixture
def shop(session: Session) -> dict[str, int]:
    """A merchant with five parcels and another merchant with one; the numbers name the parcels."""
    owner, other = merchant(session), merchant(session, "Yiwu Toys")
    add(session, owner, "A", "in_transit", updated=1)
    add(session, owner, "B", "delivered", updated=2)
    add(session, owner, "C", "in_transit", updated=3, stalled=2.5)
    add(session, owner, "D", "exception", updated=3, stalled=1.5)
    add(session, owner, "E", "delivered", updated=5, stalled=0.5)
    add(session, other, "THEIRS", "in_transit", updated=4)
    add(session, None, "NOBODYS", "in_transit", updated=4)
    session.commit()
    return {"owner": owner, "other": other}


def refs(parcels: list[models.Parcel]) -> list[str | None]:
    return [p.reference for p in parcels]


def test_a_merchant_lists_its_own_parcels_by_last_update(session: Session, shop: dict[str, int]) -> None:
    assert refs(list_parcels(session, shop["owner"], ParcelFilter(), 10)) == ["A", "B", "C", "D", "E"]
    assert refs(list_parcels(session, shop["other"], ParcelFilter(), 10)) == ["THEIRS"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (ParcelFilter(statuses=("in_transit", "exception")), ["A", "C", "D"]),
        (ParcelFilter(delayed=True), ["C", "D", "E"]),
        (ParcelFilter(delayed=False), ["A", "B"]),
        (ParcelFilter(updated_since=at(3)), ["C", "D", "E"]),
        (ParcelFilter(statuses=("delivered",), delayed=True), ["E"]),
    ],
)
def test_the_list_is_filtered_by_status_delay_and_update_time(
    session: Session, shop: dict[str, int], where: ParcelFilter, expected: list[str]
) -> None:
    assert refs(list_parcels(session, shop["owner"], where, 10)) == expected


def test_pages_follow_each_other_by_update_time_then_id_without_gaps_or_repeats(
    session: Session, shop: dict[str, int]
) -> None:
    seen: list[str | None] = []
    after = None
    while True:
        page = list_parcels(session, shop["owner"], ParcelFilter(), 2, after)
        if not page:
            break
        seen += refs(page)
        after = (page[-1].updated_at, page[-1].id)
    assert seen == ["A", "B", "C", "D", "E"]


def test_a_merchant_finds_its_parcel_by_any_spelling_of_its_number_and_not_anothers(
    session: Session, shop: dict[str, int]
) -> None:
    found = merchant_parcel(session, shop["owner"], " c ")
    assert found is not None and found.reference == "C"
    assert merchant_parcel(session, shop["owner"], "THEIRS") is None
    assert merchant_parcel(session, shop["owner"], "NOBODYS") is None
    assert merchant_parcel(session, shop["owner"], "NOSUCH") is None


def test_status_counts_are_the_merchants_alone(session: Session, shop: dict[str, int]) -> None:
    assert status_counts(session, shop["owner"]) == {"in_transit": 2, "delivered": 2, "exception": 1}
    assert status_counts(session, shop["other"]) == {"in_transit": 1}


def test_delayed_parcels_are_those_stalled_and_not_done_longest_stalled_first(
    session: Session, shop: dict[str, int]
) -> None:
    assert refs(delayed_parcels(session, shop["owner"])) == ["D", "C"]
    assert refs(delayed_parcels(session, shop["owner"], limit=1)) == ["D"]


def test_parcels_in_flight_are_those_not_delivered_most_recently_updated_first(
    session: Session, shop: dict[str, int]
) -> None:
    assert refs(parcels_in_flight(session, shop["owner"])) == ["D", "C", "A"]


def test_parcels_by_id_are_read_fresh_from_the_database(
    session: Session, engine: Engine, shop: dict[str, int]
) -> None:
    parcel = merchant_parcel(session, shop["owner"], "A")
    assert parcel is not None
    session.commit()  # the session keeps its copy (expire_on_commit=False)
    with engine.begin() as other_writer:
        other_writer.execute(
            update(models.Parcel).where(models.Parcel.id == parcel.id).values(status="delivered")
        )
    assert parcel.status == "in_transit"
    fresh = parcels_by_id(session, [parcel.id, 10_000_000])
    assert list(fresh) == [parcel.id]
    assert fresh[parcel.id].status == "delivered"
