"""``silkway reprocess``: stored raw payloads parsed again after a code-table fix correct their events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from carriers import ADAPTERS
from tests.conftest import bearer
from tracking.events import Location, ParseResult, PayloadError, ScanEvent
from tracking.statuses import Status
from web.cli import cli

NUMBER = "RX747628194CN"
GENERIC = (Status.IN_TRANSIT, "other")


class ScanFormat:
    """A test-only carrier format: ``{"scans": [{"number", "code", "at"}]}`` with a mutable code table."""

    name = "test_scans"
    content_types = ("application/json",)

    def __init__(self) -> None:
        self.table: dict[str, tuple[Status, str]] = {"DEP": (Status.IN_TRANSIT, "departed")}
        self.unreadable = False

    def parse(self, raw: bytes, content_type: str, carrier: str) -> ParseResult:
        if self.unreadable:
            raise PayloadError("this format no longer reads that payload")
        result = ParseResult()
        for index, item in enumerate(orjson.loads(raw)["scans"]):
            status, substatus = self.table.get(item["code"], GENERIC)
            event = ScanEvent(
                tracking_number=item["number"],
                status=status,
                substatus=substatus,
                occurred_at=datetime.fromisoformat(item["at"]),
                carrier=carrier,
                location=Location(name="Moscow", country="RU"),
                raw_code=item["code"],
            )
            result.add(event, index)
            if item["code"] not in self.table:
                result.note_unmapped(item["code"])
        return result


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> ScanFormat:
    fmt = ScanFormat()
    monkeypatch.setitem(ADAPTERS, fmt.name, fmt)
    return fmt


@pytest.fixture
def push(client: FlaskClient, make_key: Callable[..., str], scans: ScanFormat) -> Callable[..., Any]:
    key = bearer(make_key("carrier", "acme_scan", fmt=scans.name))

    def _push(*items: tuple[str, str]) -> Any:
        body = {"scans": [{"number": NUMBER, "code": code, "at": at} for code, at in items]}
        resp = client.post("/api/v1/carriers/acme_scan/events", json=body, headers=key)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    return _push


@pytest.fixture
def reprocess(app: Flask) -> Callable[..., Any]:
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(cli, ["reprocess", *args])


@pytest.fixture
def unmapped(client: FlaskClient, make_key: Callable[..., str]) -> Callable[[], list[str]]:
    key = bearer(make_key("operator"))

    def _codes() -> list[str]:
        resp = client.get("/api/v1/operators/unmapped-codes", headers=key)
        assert resp.status_code == 200
        return [row["code"] for row in resp.get_json()["codes"]]

    return _codes


def parcel(client: FlaskClient) -> dict[str, Any]:
    resp = client.get(f"/api/v1/parcels/{NUMBER}")
    assert resp.status_code == 200
    body: dict[str, Any] = resp.get_json()
    return body


def test_mapping_fix_corrects_the_events_and_clears_the_unmapped_report(
    push, scans, reprocess, client, unmapped
):
    push(("DEP", "2026-11-01T08:00:00+03:00"), ("CUS_IN", "2026-11-02T08:00:00+03:00"))
    assert parcel(client)["substatus"] == "other" and unmapped() == ["CUS_IN"]
    scans.table["CUS_IN"] = (Status.IN_TRANSIT, "customs_processing")
    result = reprocess("--carrier", "acme_scan")
    assert result.exit_code == 0, result.output
    assert (
        "payloads=1 kept=1 added=1 removed=1 parcels_corrected=1 codes_resolved=1 failed=0" in result.stdout
    )
    view = parcel(client)
    assert [e["substatus"] for e in view["events"]] == ["customs_processing", "departed"]
    assert view["substatus"] == "customs_processing"
    assert unmapped() == []


def test_reprocessing_without_a_mapping_change_changes_nothing(push, reprocess, client):
    push(("DEP", "2026-11-01T08:00:00+03:00"), ("CUS_IN", "2026-11-02T08:00:00+03:00"))
    before = parcel(client)
    result = reprocess()
    assert "payloads=1 kept=2 added=0 removed=0 parcels_corrected=0" in result.stdout
    after = parcel(client)
    assert (after["events"], after["status"], after["substatus"]) == (
        before["events"],
        before["status"],
        before["substatus"],
    )


def test_correction_can_move_a_status_backwards(push, scans, reprocess, client):
    scans.table["HANDED"] = (Status.DELIVERED, "recipient")  # the mistake: a hand-over read as delivery
    push(("DEP", "2026-11-01T08:00:00+03:00"), ("HANDED", "2026-11-03T08:00:00+03:00"))
    assert parcel(client)["status"] == "delivered"
    scans.table["HANDED"] = (Status.IN_TRANSIT, "handed_over")
    assert reprocess().exit_code == 0
    view = parcel(client)
    assert (view["status"], view["substatus"]) == ("in_transit", "handed_over")


def test_a_payload_sent_twice_still_gives_each_event_once(push, scans, reprocess, client):
    push(("DEP", "2026-11-01T08:00:00+03:00"), ("CUS_IN", "2026-11-02T08:00:00+03:00"))
    assert (
        push(("DEP", "2026-11-01T08:00:00+03:00"), ("CUS_IN", "2026-11-02T08:00:00+03:00"))["duplicates"] == 2
    )
    scans.table["CUS_IN"] = (Status.IN_TRANSIT, "customs_processing")
    result = reprocess()
    assert "payloads=2 kept=1 added=1 removed=1" in result.stdout
    assert len(parcel(client)["events"]) == 2


def test_since_limits_reprocessing_to_recent_payloads(push, reprocess):
    push(("DEP", "2026-11-01T08:00:00+03:00"))
    result = reprocess("--since", "2100-01-01")
    assert result.exit_code == 0 and "payloads=0" in result.stdout


def test_unreadable_payload_is_reported_and_left_untouched_with_a_failing_exit(
    push, scans, reprocess, client
):
    push(("DEP", "2026-11-01T08:00:00+03:00"))
    scans.unreadable = True
    result = reprocess()
    assert result.exit_code == 1
    assert "failed=1" in result.stdout and "no longer reads" in result.stderr
    assert len(parcel(client)["events"]) == 1


def test_progress_is_shown_on_stderr(push, reprocess):
    push(("DEP", "2026-11-01T08:00:00+03:00"))
    result = reprocess()
    assert "reprocessing" in result.stderr and "reprocessing" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--carrier", "nobody"], "unknown carrier 'nobody'"), (["--since", "yesterday"], "ISO 8601")],
)
def test_bad_options_are_refused(app, reprocess, args, message):
    result = reprocess(*args)
    assert result.exit_code == 2 and message in result.output


def test_merchant_is_notified_when_a_correction_changes_the_status(
    app, push, scans, reprocess, client, make_key
):
    from tracking.types import utcnow
    from web.feeds.webhook_sender import sender_for
    from web.worker.merchant_jobs import process_outbox_job

    app.config.update(WEBHOOK_SENDER="fake", ALLOW_PRIVATE_WEBHOOK_TARGETS=True)
    shop = bearer(make_key("merchant", "Shop One"))
    parcel_in = {
        "identifiers": [NUMBER],
        "origin": "Shenzhen",
        "destination": "Moscow",
        "service": "standard_air",
        "reference": "R1",
    }
    assert client.post("/api/v1/parcels", json={"parcels": [parcel_in]}, headers=shop).status_code == 201
    hook = {"url": "http://127.0.0.1:9/hooks", "events": ["status_changed"]}
    assert client.post("/api/v1/webhooks", json=hook, headers=shop).status_code == 201
    scans.table["HANDED"] = (Status.DELIVERED, "recipient")
    push(("HANDED", "2026-11-03T08:00:00+03:00"))
    scans.table["HANDED"] = (Status.IN_TRANSIT, "handed_over")
    assert reprocess().exit_code == 0
    while process_outbox_job(app, utcnow()).claimed:  # one message per parcel at a time, in order
        pass
    last = sender_for(app).events()[-1]  # type: ignore[attr-defined]
    assert last["data"]["parcel"]["status"] == "in_transit"
    assert last["data"]["previous"]["status"] == "delivered"
