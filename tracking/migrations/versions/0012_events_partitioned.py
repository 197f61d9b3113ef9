"""PostgreSQL: events partitioned by month (occurred_month); SQLite keeps its plain table

``events`` becomes ``PARTITION BY RANGE (occurred_month)``, the first day (UTC) of the month of
``occurred_at``, with a default partition and one per month from the oldest stored event's month (at most
36 months back; older ones stay in the default partition) to three months ahead; the scheduler's job
``partitions`` keeps creating months ahead. The primary key becomes ``(id, occurred_month)`` and the
identity ``(parcel_id, fingerprint, occurred_month)``: a fingerprint holds the scan's minute in UTC, so it
refuses what ``(parcel_id, fingerprint)`` refused (tracking/partitions.py). No foreign key points at
events. The rows are copied under an exclusive lock: on a large history run it in a quiet hour (about a
minute per 10 million events on the benchmark machine).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:10:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from tracking import partitions

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "id, parcel_id, carrier_id, tracking_number, status, substatus, occurred_at, utc_offset_minutes,"
    " location_id, description, raw_code, fingerprint, raw_payload_id, received_at"
)
MONTHS_BACK = 36


def _events_table(name: str, *, partitioned: bool) -> str:
    month = "occurred_month date NOT NULL," if partitioned else ""
    key = "id, occurred_month" if partitioned else "id"
    identity = "parcel_id, fingerprint, occurred_month" if partitioned else "parcel_id, fingerprint"
    tail = " PARTITION BY RANGE (occurred_month)" if partitioned else ""
    return f"""
        CREATE TABLE {name} (
            id bigint NOT NULL DEFAULT nextval('events_id_seq'),
            parcel_id bigint NOT NULL,
            carrier_id integer NOT NULL,
            tracking_number varchar(40) NOT NULL,
            status varchar(40) NOT NULL,
            substatus varchar(40) NOT NULL,
            occurred_at timestamptz NOT NULL,
            utc_offset_minutes integer NOT NULL,
            location_id integer,
            description text NOT NULL,
            raw_code varchar(80),
            fingerprint varchar(20) NOT NULL,
            raw_payload_id bigint,
            received_at timestamptz NOT NULL,
            {month}
            CONSTRAINT pk_events PRIMARY KEY ({key}),
            CONSTRAINT uq_events_parcel_id_fingerprint UNIQUE ({identity}),
            CONSTRAINT fk_events_carrier_id_carriers FOREIGN KEY (carrier_id) REFERENCES carriers (id),
            CONSTRAINT fk_events_location_id_locations FOREIGN KEY (location_id) REFERENCES locations (id),
            CONSTRAINT fk_events_parcel_id_parcels FOREIGN KEY (parcel_id) REFERENCES parcels (id),
            CONSTRAINT fk_events_raw_payload_id_raw_payloads FOREIGN KEY (raw_payload_id)
                REFERENCES raw_payloads (id)
        ){tail}"""


def _set_aside_old_table() -> None:
    """Rename the old table and free its constraint and index names for the new one."""
    op.execute("ALTER TABLE events RENAME TO events_old")
    for constraint in (
        "pk_events",
        "uq_events_parcel_id_fingerprint",
        "fk_events_carrier_id_carriers",
        "fk_events_location_id_locations",
        "fk_events_parcel_id_parcels",
        "fk_events_raw_payload_id_raw_payloads",
    ):
        op.execute(f"ALTER TABLE events_old DROP CONSTRAINT {constraint}")
    op.execute("DROP INDEX ix_events_parcel_occurred")
    op.execute("DROP INDEX ix_events_raw_payload_id")
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY NONE")


def _finish(partitioned: bool) -> None:
    op.execute("CREATE INDEX ix_events_parcel_occurred ON events (parcel_id, occurred_at)")
    op.execute("CREATE INDEX ix_events_raw_payload_id ON events (raw_payload_id)")
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY events.id")
    month = ", " + partitions.MONTH_SQL.format(column="occurred_at") if partitioned else ""
    op.execute(f"INSERT INTO events ({COLUMNS}{', occurred_month' if partitioned else ''}) "  # noqa: S608
               f"SELECT {COLUMNS}{month} FROM events_old")  # fmt: skip
    op.execute("DROP TABLE events_old")
    op.execute("ANALYZE events")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one plain table, as before
    conn = op.get_bind()
    oldest = conn.execute(text("SELECT min(occurred_at) FROM events")).scalar()
    _set_aside_old_table()
    op.execute(_events_table("events", partitioned=True))
    op.execute(f"CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF events DEFAULT")
    current = partitions.month_of(datetime.now(UTC))
    first = partitions.add_months(current, -1 if oldest is None else -MONTHS_BACK)
    if oldest is not None:
        first = max(first, partitions.month_of(oldest))
    partitions.ensure_months(conn, first, partitions.add_months(current, partitions.AHEAD_MONTHS))
    _finish(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside_old_table()
    op.execute(_events_table("events", partitioned=False))
    _finish(partitioned=False)
