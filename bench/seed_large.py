"""Bulk-load a large PostgreSQL database for the benchmarks: parcels, identifiers, events and locations.

Rows look like the corridor: every parcel has a Cainiao first-mile number (``LP…``) and most also a
last-mile number (a valid S10 ``R…CN`` for Russian Post, or a 10-digit CDEK order), the one the scans
carry from the hand-over to the last-mile carrier onward. Time is anchored on the moment of seeding
(END: now, to the minute). Journeys start over the 150 days before END (each at least an hour before it)
and walk from a Chinese origin hub through an export gateway and Russian customs to delivery in a
Russian city, each scan at a real network place, with the fingerprint ingestion would compute. A journey
takes 8 to 25 days (by service, then per parcel) and has 5 to 16 events, an evenly spaced subset of the
16 stages from the label to delivery. Scans later than END are not there yet, so the parcels started in
the last weeks are still under way; 2 % of parcels are lost, their scans stopping for good midway. With
--full that is about 88 % delivered, 10 % under way and 2 % lost, and the newest scans are minutes old.
The parcel's status and times are those its events derive. Loading uses ``COPY … FREEZE`` inside the
transaction that truncates the tables, with the secondary indexes and constraints dropped first and
rebuilt afterwards (the same names and definitions the migrations made), then ANALYZE.

Usage: ``python bench/seed_large.py [--full | --parcels 100000] [--url postgresql+psycopg://…/silkway_large]``
(``--full``: 1,000,000 parcels and about 10,000,000 events). The database is created (or emptied) and
migrated first. Prints the time each phase took.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.pool import Pool
from pathlib import Path

import psycopg
from sqlalchemy import make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PG_DEFAULT
from tracking import schema
from tracking.db import make_engine
from tracking.numbers import expected_s10_check_digit
from tracking.partitions import AHEAD_MONTHS, add_months, ensure_months, is_partitioned, month_of

ROOT = Path(__file__).resolve().parents[1]
LARGE_DB = "silkway_large"
FULL_PARCELS = 1_000_000
TABLES = ("parcels", "identifiers", "events")
CHUNK_PARCELS = 5_000
WINDOW_DAYS = 150  # journeys start over this many days before END
STALE_AFTER = timedelta(days=2)  # ensure_seeded reseeds when the newest scan is older than this

# (status, substatus, stage, raw code, description): stage says where the scan happens.
JOURNEY = [
    ("info_received", "label_created", "origin", "ACCEPT", "Electronic information received"),
    ("in_transit", "picked_up", "origin", "PICKUP", "Picked up from the merchant"),
    ("in_transit", "in_sorting", "origin", "SORT", "Arrived at the sorting centre"),
    ("in_transit", "departed", "origin", "DEPART", "Departed the sorting centre"),
    ("in_transit", "export_customs", "gateway", "EXP_CUSTOMS", "Export customs declaration"),
    ("in_transit", "export_cleared", "gateway", "EXP_CLEAR", "Export customs cleared"),
    ("in_transit", "line_haul", "gateway", "LINEHAUL", "Handed over to the line-haul carrier"),
    ("in_transit", "arrived_destination_country", "import", "ARRIVE_DEST", "Arrived in Russia"),
    ("in_transit", "customs_processing", "import", "IMP_CUSTOMS", "Customs processing"),
    ("in_transit", "customs_cleared", "import", "IMP_CLEAR", "Released by customs"),
    ("in_transit", "handed_over", "import", "HANDOVER", "Handed over to the last-mile carrier"),
    ("in_transit", "in_sorting", "import", "SORT_RU", "Sorting"),
    ("in_transit", "departed", "import", "DEPART_RU", "Left the sorting centre"),
    ("in_transit", "arrived", "city", "ARRIVE", "Arrived at the delivery office"),
    ("out_for_delivery", "courier", "city", "COURIER", "Out for delivery"),
    ("delivered", "recipient", "city", "DELIVERED", "Delivered to the recipient"),
]
OFFSETS = {"CN": 480, "HK": 480, "MN": 480, "KZ": 300, "RU": 180}
HANDOVER = 10  # JOURNEY stages from here on are scanned under the last-mile number
DELIVERED = len(JOURNEY) - 1
# Where along its span (0: first scan, 1: delivery) each JOURNEY stage falls, before per-parcel jitter.
STAGE_SHARE = (0.0, 0.03, 0.06, 0.10, 0.15, 0.21, 0.27, 0.48, 0.53, 0.61, 0.66, 0.72, 0.78, 0.90, 0.96, 1.0)
# How far (share of span) a stage may move either way: under half the gap to a neighbour, so order holds.
STAGE_JITTER = tuple(
    0.0
    if s in (0, DELIVERED)
    else 0.4 * min(STAGE_SHARE[s] - STAGE_SHARE[s - 1], STAGE_SHARE[s + 1] - STAGE_SHARE[s])
    for s in range(len(JOURNEY))
)
# Days from the first scan to delivery, by service (a parcel's own span is fixed by its index).
SPAN_DAYS = {
    "premium_air": (8, 14),
    "standard_air": (10, 20),
    "economy_rail": (14, 25),
    "sea_rail_far_east": (16, 25),
}
DEFAULT_SPAN_DAYS = (8, 25)
LOST_EVERY, LOST_AT = 50, 17  # parcels p with p % LOST_EVERY == LOST_AT are lost midway


@dataclass(frozen=True, slots=True)
class Place:
    """A network node loaded as a location."""

    id: int
    key: str
    node: str
    country: str


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What was loaded and how long each phase took (seconds)."""

    url: str
    parcels: int
    identifiers: int
    events: int
    timings: dict[str, float]


def admin_url() -> str:
    """The PostgreSQL server's administrative URL (SILKWAY_TEST_POSTGRES_URL or the local default)."""
    return os.environ.get("SILKWAY_TEST_POSTGRES_URL", PG_DEFAULT)


def large_url(parcels: int = FULL_PARCELS) -> str:
    """The URL of the benchmark database of this size on the admin server (one database per size)."""
    name = LARGE_DB if parcels == FULL_PARCELS else f"{LARGE_DB}_{parcels}"
    return make_url(admin_url()).set(database=name).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as psycopg.connect takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def events_per_parcel(p: int) -> int:
    """5 to 16 planned events, cycling so that every 12 parcels hold exactly 126 (mean 10.5).

    These are the events of the whole journey; those later than END (or after a lost parcel's last
    scan) are left out, which leaves gaps in the event ids.
    """
    return 5 + (p * 7) % 12


def journey_stages(count: int) -> list[int]:
    """The JOURNEY stage indexes of a ``count``-event journey: evenly spaced, first and last included."""
    return [round(i * DELIVERED / (count - 1)) for i in range(count)]


STAGES = {count: journey_stages(count) for count in range(5, 17)}


def s10(serial: int, prefix: str = "RA", country: str = "CN") -> str:
    """A valid S10 number for an 8-digit serial."""
    digits = f"{serial % 100_000_000:08d}"
    return f"{prefix}{digits}{expected_s10_check_digit(digits)}{country}"


def numbers_of(p: int) -> list[tuple[str, str]]:
    """The (number, carrier code) pairs of parcel index ``p``: first mile, and usually a last mile."""
    out = [(f"LP{p:014d}", "cainiao")]
    kind = p % 10
    if kind < 5:
        out.append((s10(p, "RA" if p < 100_000_000 else "RB"), "russian_post"))
    elif kind < 8:
        out.append((f"{1_000_000_000 + p}", "cdek"))
    return out


def recreate_database(url: str) -> None:
    """Drop and create ``url``'s database, then migrate it to head."""
    name = make_url(url).database
    admin = make_engine(admin_url(), isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()


def _places(conn: psycopg.Connection) -> dict[str, Place]:
    """Insert one location per network node and the carriers; the places by node id."""
    nodes = json.loads((ROOT / "routing" / "data" / "network.json").read_text(encoding="utf-8"))["nodes"]
    places: dict[str, Place] = {}
    with conn.cursor() as cur:
        for node in nodes:
            key = f"place:{node['id']}|"
            cur.execute(
                "INSERT INTO locations (key, name, country, lat, lon, place_id)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (key) DO UPDATE SET name = excluded.name RETURNING id",
                (key, node["name"], node["country"], node["lat"], node["lon"], node["id"]),
            )
            row = cur.fetchone()
            assert row is not None
            places[node["id"]] = Place(int(row[0]), key, node["id"], node["country"])
        for code, name in (("cainiao", "Cainiao"), ("russian_post", "Russian Post"), ("cdek", "CDEK")):
            cur.execute(
                "INSERT INTO carriers (code, name, format, created_at) VALUES (%s, %s, %s, now())"
                " ON CONFLICT (code) DO NOTHING",
                (code, name, code),
            )
    return places


def route_templates(places: dict[str, Place], limit: int = 60) -> list[tuple[str, dict[str, Place]]]:
    """Real service routes from Chinese origins to Russian cities: (service, place of each journey stage)."""
    from routing.eta import EtaEngine
    from routing.services import load_services

    nodes = json.loads((ROOT / "routing" / "data" / "network.json").read_text(encoding="utf-8"))["nodes"]
    origins = [n["id"] for n in nodes if n["role"] == "origin_hub"]
    cities = [n["id"] for n in nodes if n["role"] == "last_mile_city"]
    services = sorted(load_services().services)
    engine = EtaEngine(samples=16)
    out: list[tuple[str, dict[str, Place]]] = []
    seen: set[tuple[str, str, str]] = set()
    for i in range(len(origins) * len(cities) * len(services)):
        origin, city = origins[i % len(origins)], cities[(i * 7) % len(cities)]
        service = services[(i // len(origins)) % len(services)]
        if (service, origin, city) in seen:
            continue
        seen.add((service, origin, city))
        try:
            route = engine.router.route_for(service, origin, city)
        except Exception:  # no such service between these two places
            continue
        nodes_on = [n for n in route if n in places]
        abroad = [n for n in nodes_on if places[n].country != "CN"]
        if len(nodes_on) < 3 or not abroad:
            continue
        gateway = nodes_on[1] if places[nodes_on[1]].country == "CN" else nodes_on[0]
        stages = {
            "origin": places[nodes_on[0]],
            "gateway": places[gateway],
            "import": places[abroad[0]],
            "city": places[nodes_on[-1]],
        }
        out.append((service, stages))
        if len(out) >= limit:
            break
    assert out, "the network gave no route from a Chinese origin to a Russian city"
    return out


def _carrier_ids(conn: psycopg.Connection) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute("SELECT code, id FROM carriers")
        return {str(code): int(cid) for code, cid in cur.fetchall()}


class Journeys:
    """Deterministic journeys: the same parcel index and END always give the same route, places and times."""

    def __init__(self, templates: list[tuple[str, dict[str, Place]]], end: int) -> None:
        self.templates = templates
        self.end = end  # epoch seconds, a whole minute: no scan is later

    def route(self, p: int) -> tuple[str, dict[str, Place]]:
        """The service and the place of each journey stage of parcel ``p``."""
        return self.templates[(p * 2_246_822_519) % len(self.templates)]

    def scans(self, p: int, service: str) -> list[tuple[int, int]]:
        """(JOURNEY stage, epoch seconds in whole minutes) of each event parcel ``p`` has had by END.

        The journey starts 1 hour to WINDOW_DAYS days before END and reaches delivery after its span
        (SPAN_DAYS of ``service``); its stages fall at STAGE_SHARE of the span, each moved by its own
        jitter. A lost parcel's scans stop at a stage from export customs to the Russian sorting centre.
        """
        start = self.end - 3600 - (p * 2_654_435_761 % (WINDOW_DAYS * 86400 - 3600)) // 60 * 60
        low, high = SPAN_DAYS.get(service, DEFAULT_SPAN_DAYS)
        span = low * 1440 + (p * 3_266_489_917) % ((high - low) * 1440 + 1)  # minutes
        last = 4 + (p // LOST_EVERY) % 8 if p % LOST_EVERY == LOST_AT else DELIVERED
        out = []
        for stage in STAGES[events_per_parcel(p)]:
            if stage > last:
                break
            jitter = STAGE_JITTER[stage] * ((p * 668_265_263 + stage * 374_761_393) % 1001 / 500 - 1)
            at = start + 60 * int(span * (STAGE_SHARE[stage] + jitter))
            if at > self.end:
                break
            out.append((stage, at))
        return out


_DAYS: dict[int, str] = {}
_MINUTES = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]


def _day(day: int) -> str:
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
    return text


def _iso(epoch: int) -> str:
    """A whole-minute epoch as PostgreSQL timestamptz text (strftime is too slow for 10M rows)."""
    day, rest = divmod(epoch, 86400)
    return f"{_day(day)} {_MINUTES[rest // 60]}:00+00"


def _fingerprint(status: str, substatus: str, epoch: int, key: str) -> str:
    """ScanEvent.fingerprint for a whole-minute epoch."""
    day, rest = divmod(epoch, 86400)
    instant = f"{_day(day)}T{_MINUTES[rest // 60]}"
    return hashlib.blake2b(f"{status}/{substatus}|{instant}|{key}".encode(), digest_size=10).hexdigest()


def events_before(p: int) -> int:
    """How many events the parcels before index ``p`` plan (the id offset of parcel ``p``'s events)."""
    cycles = p // 12
    return cycles * 126 + sum(events_per_parcel(q) for q in range(cycles * 12, p))


def identifiers_before(p: int) -> int:
    """How many identifiers the parcels before index ``p`` hold."""
    return p + (p // 10) * 8 + min(p % 10, 8)


@dataclass(frozen=True, slots=True)
class Context:
    """What every chunk generator needs (inherited by the forked generator processes)."""

    journeys: Journeys
    carriers: dict[str, int]
    created: str
    partitioned: bool  # events partitioned by month (migration 0012): their rows carry occurred_month


_CONTEXT: Context | None = None


def parcel_chunk(bounds: tuple[int, int]) -> str:
    """COPY text of the parcels with indexes in [start, end)."""
    assert _CONTEXT is not None
    journeys, created = _CONTEXT.journeys, _CONTEXT.created
    lines = []
    for p in range(*bounds):
        service, route = journeys.route(p)
        scans = journeys.scans(p, service)
        stage, at = scans[-1]
        status, substatus = JOURNEY[stage][:2]
        last = _iso(at)
        delivered = last if stage == DELIVERED else "\\N"
        lines.append(
            f"{p + 1}\t{status}\t{substatus}\t{last}\t{_iso(scans[0][1])}\t{last}\t{delivered}\t\\N\t\\N\t"
            f"{route['origin'].node}\t{route['city'].node}\t{service}\t\\N\t\\N\t{created}\t{created}\n"
        )
    return "".join(lines)


def identifier_chunk(bounds: tuple[int, int]) -> str:
    """COPY text of the identifiers of the parcels with indexes in [start, end)."""
    assert _CONTEXT is not None
    created = _CONTEXT.created
    ident = identifiers_before(bounds[0])
    lines = []
    for p in range(*bounds):
        for number, carrier in numbers_of(p):
            ident += 1
            lines.append(f"{ident}\t{p + 1}\t{number}\t{carrier}\t{created}\n")
    return "".join(lines)


def event_chunk(bounds: tuple[int, int]) -> str:
    """COPY text of the events of the parcels with indexes in [start, end)."""
    assert _CONTEXT is not None
    journeys, carriers, received = _CONTEXT.journeys, _CONTEXT.carriers, _CONTEXT.created
    event_id = events_before(bounds[0])
    lines = []
    for p in range(*bounds):
        service, route = journeys.route(p)
        numbers = numbers_of(p)
        first_id = event_id
        for index, (stage, at) in enumerate(journeys.scans(p, service)):
            status, substatus, where, code, description = JOURNEY[stage]
            place = route[where]
            number, carrier = numbers[0] if stage < HANDOVER else numbers[-1]
            fp = _fingerprint(status, substatus, at, place.key)
            lines.append(
                f"{first_id + index + 1}\t{p + 1}\t{carriers[carrier]}\t{number}\t{status}\t{substatus}\t"
                f"{_iso(at)}\t{OFFSETS.get(place.country, 0)}\t{place.id}\t{description}\t"
                f"{code}\t{fp}\t\\N\t{received}{_month_field(at)}\n"
            )
        event_id += events_per_parcel(p)  # the ids of scans not made yet (or never) stay unused
    return "".join(lines)


PARCEL_COLUMNS = (
    "id, status, substatus, status_at, first_event_at, last_event_at, delivered_at, merchant_id, reference,"
    " origin, destination, service, ship_at, stalled_at, created_at, updated_at"
)
IDENTIFIER_COLUMNS = "id, parcel_id, number, carrier_code, created_at"
EVENT_COLUMNS = (
    "id, parcel_id, carrier_id, tracking_number, status, substatus, occurred_at, utc_offset_minutes,"
    " location_id, description, raw_code, fingerprint, raw_payload_id, received_at"
)


def _months_ready(url: str, end_at: int) -> bool:
    """Whether events are partitioned; if so, the window's months get partitions, as the scheduler makes."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if not is_partitioned(conn):
                return False
            start = datetime.fromtimestamp(end_at - WINDOW_DAYS * 86400, UTC)
            ensure_months(conn, start.date(), add_months(month_of(datetime.now(UTC)), AHEAD_MONTHS))
            return True
    finally:
        engine.dispose()


def _month_field(at: int) -> str:
    """The events' partition key (the UTC month of ``at``), a last COPY field when events are partitioned."""
    assert _CONTEXT is not None
    return f"\t{_iso(at)[:7]}-01" if _CONTEXT.partitioned else ""


def _copy(
    cur: psycopg.Cursor,
    table: str,
    columns: str,
    make: Callable[[tuple[int, int]], str],
    parcels: int,
    pool: Pool,
    freeze: bool = True,
) -> int:
    """COPY FREEZE the rows of every parcel into ``table``, generated in chunks by ``pool``; returns rows.

    A partitioned table takes no FREEZE (PostgreSQL refuses it): ``freeze`` False copies plainly."""
    bounds = [(start, min(start + CHUNK_PARCELS, parcels)) for start in range(0, parcels, CHUNK_PARCELS)]
    rows = 0
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN{' WITH (FREEZE)' if freeze else ''}") as copy:
        for text_chunk in pool.imap(make, bounds):
            copy.write(text_chunk)
            rows += text_chunk.count("\n")
    return rows


def _secondary_ddl(cur: psycopg.Cursor) -> tuple[list[str], list[str]]:
    """Statements that drop, and that recreate, the non-primary-key constraints and indexes of TABLES."""
    drops: list[str] = []
    creates: list[str] = []
    cur.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
        " WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
        (list(TABLES),),
    )
    constraints = cur.fetchall()
    for table, name, definition, _kind in constraints:
        drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        creates.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(TABLES),),
    )
    for name, definition in cur.fetchall():
        drops.append(f"DROP INDEX {name}")
        creates.insert(0, definition)  # indexes before foreign keys
    # Unique constraints first (foreign keys may rely on them), then plain indexes, then foreign keys.
    uniques = [c for c in creates if "UNIQUE" in c and "FOREIGN KEY" not in c]
    foreign = [c for c in creates if "FOREIGN KEY" in c]
    plain = [c for c in creates if c not in uniques and c not in foreign]
    return drops, uniques + plain + foreign


def seed(
    url: str, parcels: int, log: bool = True, workers: int = 2, end: datetime | None = None
) -> SeedResult:
    """Empty the database at ``url`` and load ``parcels`` parcels with their identifiers and events.

    ``end`` (default: now, to the minute) is the instant the data is seeded at: no scan is later.
    """
    timings: dict[str, float] = {}
    end_at = int((end or datetime.now(UTC)).timestamp()) // 60 * 60

    def phase(name: str, started: float) -> None:
        timings[name] = time.perf_counter() - started
        if log:
            print(f"  {name:24} {timings[name]:7.1f} s", flush=True)

    total = time.perf_counter()
    partitioned = _months_ready(url, end_at)
    with psycopg.connect(libpq_url(url), autocommit=False) as conn:
        cur = conn.cursor()
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        places = _places(conn)
        conn.commit()
        global _CONTEXT
        journeys = Journeys(route_templates(places), end_at)
        _CONTEXT = Context(journeys, _carrier_ids(conn), _iso(end_at - WINDOW_DAYS * 86400), partitioned)
        if log:
            print(f"  journeys over the {WINDOW_DAYS} days to {_iso(end_at)}", flush=True)
        pool = multiprocessing.get_context("fork").Pool(workers)
        drops, creates = _secondary_ddl(cur)
        cur.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        for statement in drops:
            cur.execute(statement)
        started = time.perf_counter()
        n_parcels = _copy(cur, "parcels", PARCEL_COLUMNS, parcel_chunk, parcels, pool)
        phase("copy parcels", started)
        started = time.perf_counter()
        n_idents = _copy(cur, "identifiers", IDENTIFIER_COLUMNS, identifier_chunk, parcels, pool)
        phase("copy identifiers", started)
        started = time.perf_counter()
        columns = EVENT_COLUMNS + (", occurred_month" if partitioned else "")
        n_events = _copy(cur, "events", columns, event_chunk, parcels, pool, freeze=not partitioned)
        phase("copy events", started)
        conn.commit()
        pool.close()
        pool.join()
        started = time.perf_counter()
        for statement in creates:
            cur.execute(statement)
            conn.commit()
        for table in TABLES:
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            cur.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
        conn.commit()
        phase("indexes and constraints", started)
        started = time.perf_counter()
        conn.autocommit = True
        cur.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}, locations, carriers")
        phase("vacuum analyze", started)
    timings["total"] = time.perf_counter() - total
    if log:
        print(f"  {'total':24} {timings['total']:7.1f} s", flush=True)
    return SeedResult(url, n_parcels, n_idents, n_events, timings)


def loaded(url: str) -> tuple[int, datetime | None] | None:
    """How many parcels the database at ``url`` holds and its newest scan; None when it does not exist."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM parcels), (SELECT max(occurred_at) FROM events)"
            ).fetchone()
    except psycopg.Error:
        return None
    return (int(row[0]), row[1]) if row else None


def ensure_seeded(url: str, parcels: int) -> None:
    """Seed the database at ``url`` unless it holds exactly ``parcels`` parcels with fresh data.

    Fresh: the newest scan is at most STALE_AFTER old (the data is anchored on the moment it was
    seeded; an older database has every parcel delivered or silent for days, or is of an older shape).
    """
    name = url.rsplit("/", 1)[-1]
    state = loaded(url)
    if state is None:
        why = "no database"
    elif state[0] != parcels:
        why = f"it holds {state[0]:,} parcels"
    elif state[1] is None:
        why = "no events"
    elif datetime.now(UTC) - state[1] > STALE_AFTER:
        why = f"stale: newest scan {state[1]:%Y-%m-%d %H:%M}"
    else:
        print(f"reusing {name}: {parcels:,} parcels already loaded, newest scan {state[1]:%Y-%m-%d %H:%M}")
        return
    print(f"seeding {parcels:,} parcels into {name} ({why}) …", flush=True)
    recreate_database(url)
    seed(url, parcels)


def main() -> None:
    """Create, migrate and fill the large database, printing rows and the time taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="1,000,000 parcels and about 10,000,000 events")
    parser.add_argument(
        "--url", default=None, help=f"default: {LARGE_DB} (or {LARGE_DB}_<parcels>) on the test server"
    )
    args = parser.parse_args()
    parcels = FULL_PARCELS if args.full else args.parcels
    url = args.url or large_url(parcels)
    started = time.perf_counter()
    recreate_database(url)
    migrate = time.perf_counter() - started
    print(f"created and migrated {make_url(url).database} in {migrate:.1f} s; loading {parcels:,} parcels")
    result = seed(url, parcels)
    print(
        f"loaded {result.parcels:,} parcels, {result.identifiers:,} identifiers, {result.events:,} events "
        f"in {result.timings['total'] + migrate:.1f} s ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
