"""Ingestion with 10,000 subscribed parcels against the same ingestion without subscriptions.

Mail notifications are queued in the ingestion's own unit of work (tracking/mail_outbox.py: one lookup
of the batch's changed parcels' subscriptions, then a bulk update and insert for those that entered a
mail-worthy situation) and sent later by the scheduler; this measures what the queueing costs.

For each database (SQLite, PostgreSQL) and each run, two fresh databases get the same first scan of
every parcel (stored in process, not timed); in one of them every parcel then has a confirmed
subscription. The remaining scans are POSTed to a live gunicorn (2 workers, 2 client threads) in rounds
of 1,000 parcels' k-th scan, as a carrier feed sends them (every batch moves existing parcels' statuses,
through arrival, customs, delivery: a third of the batches queue a mail for each of their parcels).
Runs alternate between the two, and the figures are printed side by side with their ratio.

Usage: ``python bench/notifications.py [--parcels 10000] [--per-parcel 12] [--batch 1000]
[--only sqlite|postgres] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
from pathlib import Path

import orjson
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import fresh_database, synthetic_events
from bench.ingest import http_run, rounds, stored_events
from carriers import canonical
from tracking import models
from tracking.accounts import ensure_carrier
from tracking.db import make_engine, make_session_factory
from tracking.payloads import store_payload
from tracking.types import utcnow


def subscribe_all(url: str) -> int:
    """A confirmed subscription for every parcel of the database; how many."""
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        ids = conn.execute(select(models.Parcel.id).order_by(models.Parcel.id)).scalars().all()
        rows = [
            {
                "parcel_id": parcel_id,
                "email": f"shopper{parcel_id}@example.org",
                "language": ("ru", "en", "zh")[parcel_id % 3],
                "token": secrets.token_urlsafe(32),
                "sent_kinds": "",
                "confirmed_at": now,
                "created_at": now,
            }
            for parcel_id in ids
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(models.MailSubscription), rows[start : start + 5000])
    engine.dispose()
    return len(rows)


def queued_mails(url: str) -> int:
    """How many mails the outbox holds."""
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(models.MailMessage)).scalar_one()
    engine.dispose()
    return int(count)


def seed(url: str, payloads: list[bytes]) -> None:
    """Store the first scans in process, untimed (one gunicorn start per run is enough on a busy machine)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        carrier = ensure_carrier(session, "bench_post", "canonical")
        for raw in payloads:
            parsed = canonical.parse(raw, "application/json", "bench_post")
            store_payload(session, carrier, raw, "application/json", "push", parsed, False, None)
            session.commit()
    engine.dispose()


def one_run(kind: str, first: list[bytes], rest: list[bytes], events: int, subscribed: bool) -> float:
    """Events per second of the timed rounds, with or without a subscription on every parcel."""
    with fresh_database(kind) as url:
        seed(url, first)
        if subscribed:
            subscribe_all(url)
        rate = events / http_run(url, rest)
        assert stored_events(url) == events + sum(len(orjson.loads(p)["events"]) for p in first)
        if subscribed:
            assert queued_mails(url) > 0, "no mail was queued"
    return rate


def main() -> None:
    """Both measurements on each database, alternating, with the ratio per pair of runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--per-parcel", type=int, default=12)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    journeys = synthetic_events(args.parcels, args.per_parcel)
    groups = rounds(journeys, args.batch)
    first_round = args.parcels // args.batch + (1 if args.parcels % args.batch else 0)
    # rounds() yields, per group of ``batch`` parcels, every step in turn: the first scans are step 0.
    per_group = args.per_parcel
    first = [orjson.dumps({"events": g}) for i, g in enumerate(groups) if i % per_group == 0]
    rest_groups = [g for i, g in enumerate(groups) if i % per_group != 0]
    rest = [orjson.dumps({"events": g}) for g in rest_groups]
    events = sum(len(g) for g in rest_groups)
    print(
        f"{args.parcels} parcels: first scans stored untimed ({first_round} batches), then {events} events "
        f"in {len(rest)} batches of ≤{args.batch}, 2 gunicorn workers, 2 client threads"
    )
    for kind in ["sqlite", "postgres"]:
        if args.only and kind != args.only:
            continue
        pairs: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            without = one_run(kind, first, rest, events, subscribed=False)
            with_subs = one_run(kind, first, rest, events, subscribed=True)
            pairs.append((without, with_subs))
            print(
                f"{kind:9} without subscriptions {without:9,.0f} events/s   "
                f"{args.parcels:,} subscribed {with_subs:9,.0f} events/s   "
                f"ratio {with_subs / without:.2f}   (load {load:.1f})"
            )
        if args.repeat > 1:
            print(
                f"{kind:9} median of {args.repeat}: without {statistics.median(a for a, _ in pairs):,.0f} "
                f"events/s   subscribed {statistics.median(b for _, b in pairs):,.0f} events/s   "
                f"ratio {statistics.median(b / a for a, b in pairs):.2f}"
            )


if __name__ == "__main__":
    main()
