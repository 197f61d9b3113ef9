"""tracking.ingest_sql's own helpers: number locks in a fixed set of buckets, chunked lists."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from tracking.ingest_sql import LOCK_BUCKETS, LOCK_NAMESPACE, chunks, is_postgres, lock_key, lock_numbers


@given(number=st.text(min_size=1, max_size=40))
def test_every_number_locks_one_of_a_fixed_set_of_keys_always_the_same(number: str) -> None:
    key = lock_key(number)
    assert LOCK_NAMESPACE <= key < LOCK_NAMESPACE + LOCK_BUCKETS
    assert lock_key(number) == key


def test_numbers_spread_over_the_buckets() -> None:
    keys = {lock_key(f"RX{k:09d}CN") for k in range(5000)}
    assert len(keys) > LOCK_BUCKETS * 0.9


def test_a_list_is_cut_into_chunks_of_at_most_the_size_asked() -> None:
    assert list(chunks(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []
    assert [len(c) for c in chunks(list(range(4500)))] == [2000, 2000, 500]


def test_locking_numbers_holds_until_the_transaction_ends_and_is_a_no_op_on_sqlite(session: Session) -> None:
    lock_numbers(session, ["RX747628194CN", "LX299455986CN"])
    lock_numbers(session, [])
    if is_postgres(session):
        held = session.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        ).scalar()
        assert held == len({lock_key("RX747628194CN"), lock_key("LX299455986CN")})
    session.commit()
