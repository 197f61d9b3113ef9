"""tracking.types: instants are stored as UTC and always come back aware in UTC, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from tracking import models
from tracking.types import UTCDateTime, utcnow

VLADIVOSTOK = timezone(timedelta(hours=10))


def test_utcnow_is_aware_and_in_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_an_instant_written_in_any_offset_comes_back_the_same_instant_in_utc(session: Session) -> None:
    moment = datetime(2026, 11, 11, 9, 30, 5, 250000, tzinfo=VLADIVOSTOK)
    merchant = models.Merchant(name="Far East Goods", created_at=moment)
    session.add(merchant)
    session.commit()
    stored = session.scalar(select(models.Merchant.created_at).where(models.Merchant.id == merchant.id))
    assert stored == moment
    assert stored is not None and stored.tzinfo is UTC
    assert stored.hour == 23 and stored.day == 10


def test_a_naive_datetime_is_refused_rather_than_guessed(session: Session) -> None:
    session.add(models.Merchant(name="Naive Goods", created_at=datetime(2026, 11, 11, 9, 30)))
    with pytest.raises(StatementError, match="naive datetime given to a UTC column"):
        session.flush()


def test_comparisons_in_queries_use_the_utc_instant(session: Session) -> None:
    session.add_all(
        [
            models.Merchant(name="early", created_at=datetime(2026, 11, 11, 1, 0, tzinfo=UTC)),
            models.Merchant(name="late", created_at=datetime(2026, 11, 11, 12, 0, tzinfo=VLADIVOSTOK)),
        ]
    )
    session.commit()
    cutoff = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 12:00 in Vladivostok is 02:00 UTC
    names = session.scalars(select(models.Merchant.name).where(models.Merchant.created_at >= cutoff)).all()
    assert names == ["late"]


def test_a_missing_instant_stays_missing(session: Session) -> None:
    dialect = session.get_bind().dialect
    assert UTCDateTime().process_bind_param(None, dialect) is None
    assert UTCDateTime().process_result_value(None, dialect) is None
    parcel = models.Parcel(status_at=None)
    session.add(parcel)
    session.commit()
    assert session.scalar(select(models.Parcel.status_at).where(models.Parcel.id == parcel.id)) is None
