"""`silkway keys list|revoke|rotate`, through the CLI and HTTP: keys are listed without their secret,
a revoked key is refused from the next request on, a rotated one stays accepted for its grace period."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.conftest import bearer
from tests.web.test_dashboard import sign_in
from tracking import accounts, models
from tracking.types import utcnow
from web.cli import keys as keys_cli

NUMBER = "RX747628194CN"
PREFIX = re.compile(r"^sw_[a-z]{3}_[A-Za-z0-9_-]{5}$")


def silkway(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def create(app: Flask, *args: str) -> str:
    result = silkway(app, "keys", "create", *args)
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip().splitlines()[-1])


def listing(app: Flask, *args: str) -> dict[str, dict[str, str]]:
    """``keys list`` parsed: prefix → its columns."""
    result = silkway(app, "keys", "list", *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    if not lines:
        return {}
    header = lines[0]
    starts = [header.index(name) for name in keys_cli.COLUMNS]
    rows = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows[cells[0]] = dict(zip(keys_cli.COLUMNS, cells, strict=True))
    return rows


def scan() -> dict[str, Any]:
    return {
        "tracking_number": NUMBER,
        "status": "in_transit",
        "substatus": "departed",
        "occurred_at": "2026-10-20T08:31:00+08:00",
        "location": {"name": "Shenzhen", "country": "CN"},
    }


def merchant_call(client: FlaskClient, key: str) -> Any:
    return client.get("/api/v1/parcels", headers=bearer(key))


def push(client: FlaskClient, key: str, code: str = "acme-express") -> Any:
    return client.post(f"/api/v1/carriers/{code}/events", json={"events": [scan()]}, headers=bearer(key))


def assert_refused(resp: Any) -> None:
    assert resp.status_code == 401
    assert resp.content_type == "application/problem+json"
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert resp.get_json()["status"] == 401


def key_row(app: Flask, prefix: str) -> models.ApiKey:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        try:
            row = session.scalar(select(models.ApiKey).where(models.ApiKey.prefix == prefix))
            assert row is not None
            session.expunge(row)
            return row
        finally:
            session.close()


def set_last_used(app: Flask, prefix: str, at: datetime) -> None:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        session.execute(update(models.ApiKey).where(models.ApiKey.prefix == prefix).values(last_used_at=at))
        session.commit()
        session.close()


def later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Move the clock that checks keys (and the one keys list shows states by) ``delta`` ahead."""
    monkeypatch.setattr(accounts, "utcnow", lambda: utcnow() + delta)
    monkeypatch.setattr(keys_cli, "utcnow", lambda: utcnow() + delta)


def test_a_created_key_is_listed_with_its_owner_and_never_its_secret(app):
    carrier_key = create(app, "--role", "carrier", "--carrier", "acme-express", "--label", "push\tfeed")
    merchant_key = create(app, "--role", "merchant", "--merchant", "Shop One")
    operator_key = create(app, "--role", "operator")
    result = silkway(app, "keys", "list")
    assert result.exit_code == 0
    for key in (carrier_key, merchant_key, operator_key):
        assert key not in result.output
        assert key[12:20] not in result.output
        assert accounts.hash_key(key) not in result.output
    rows = listing(app)
    assert set(rows) == {carrier_key[:12], merchant_key[:12], operator_key[:12]}
    assert all(PREFIX.match(prefix) for prefix in rows)
    carrier = rows[carrier_key[:12]]
    assert (carrier["ROLE"], carrier["OWNER"], carrier["LABEL"], carrier["STATE"]) == (
        "carrier",
        "acme-express",
        "push feed",
        "active",
    )
    assert carrier["LAST USED"] == "-"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", carrier["CREATED"])
    assert rows[merchant_key[:12]]["OWNER"] == "Shop One"
    assert rows[operator_key[:12]]["OWNER"] == "-"


def test_keys_list_filters_by_role_carrier_and_merchant(app):
    carrier_key = create(app, "--role", "carrier", "--carrier", "acme-express")
    other_carrier = create(app, "--role", "carrier", "--carrier", "4px")
    merchant_key = create(app, "--role", "merchant", "--merchant", "Shop One")
    create(app, "--role", "merchant", "--merchant", "Shop Two")
    assert set(listing(app, "--role", "carrier")) == {carrier_key[:12], other_carrier[:12]}
    assert set(listing(app, "--carrier", "acme-express")) == {carrier_key[:12]}
    assert set(listing(app, "--merchant", "Shop One")) == {merchant_key[:12]}
    assert listing(app, "--role", "operator") == {}
    for option, value in (("--carrier", "nobody"), ("--merchant", "Nobody")):
        result = silkway(app, "keys", "list", option, value)
        assert result.exit_code == 2 and value in result.stderr


def test_a_request_records_the_keys_last_use_at_most_once_a_minute(app, client):
    key = create(app, "--role", "merchant", "--merchant", "Shop One")
    assert merchant_call(client, key).status_code == 200
    first = key_row(app, key[:12]).last_used_at
    assert first is not None and abs(utcnow() - first) < timedelta(seconds=30)
    assert listing(app)[key[:12]]["LAST USED"] != "-"
    recent = utcnow() - timedelta(seconds=30)
    set_last_used(app, key[:12], recent)
    assert merchant_call(client, key).status_code == 200
    assert key_row(app, key[:12]).last_used_at == recent  # under a minute ago: not written again
    set_last_used(app, key[:12], utcnow() - timedelta(minutes=2))
    assert merchant_call(client, key).status_code == 200
    assert utcnow() - key_row(app, key[:12]).last_used_at < timedelta(seconds=30)


def test_a_carrier_push_records_the_last_use_too(app, client):
    key = create(app, "--role", "carrier", "--carrier", "acme-express")
    assert push(client, key).status_code == 200
    assert key_row(app, key[:12]).last_used_at is not None


def test_a_revoked_key_is_refused_at_the_next_request(app, client):
    merchant_key = create(app, "--role", "merchant", "--merchant", "Shop One")
    carrier_key = create(app, "--role", "carrier", "--carrier", "acme-express")
    assert merchant_call(client, merchant_key).status_code == 200
    assert push(client, carrier_key).status_code == 200
    for key in (merchant_key, carrier_key):
        result = silkway(app, "keys", "revoke", key[:12])
        assert result.exit_code == 0, result.output
        assert f"revoked {key[:12]}" in result.stdout and "refused from now on" in result.stdout
    assert_refused(merchant_call(client, merchant_key))
    assert_refused(push(client, carrier_key))
    assert listing(app) == {}
    everything = listing(app, "--all")
    assert everything[merchant_key[:12]]["STATE"].startswith("revoked at ")
    again = silkway(app, "keys", "revoke", merchant_key[:12])
    assert again.exit_code == 0
    assert "already revoked" in again.stdout and "nothing changed" in again.stdout


def test_keys_list_says_how_many_revoked_keys_it_leaves_out(app):
    key = create(app, "--role", "operator")
    silkway(app, "keys", "revoke", key[:12])
    result = silkway(app, "keys", "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "1 revoked" in result.stderr and "--all" in result.stderr


def test_a_whole_key_names_itself_so_a_leaked_key_is_revoked_as_found(app, client):
    key = create(app, "--role", "merchant", "--merchant", "Shop One")
    result = silkway(app, "keys", "revoke", key)
    assert result.exit_code == 0, result.output
    assert key not in result.output
    assert_refused(merchant_call(client, key))


@pytest.mark.parametrize("prefix", ["sw_zzz_nokey", "nothing", "sw_mer_" + "x" * 30, " "])
def test_an_unknown_prefix_is_a_usage_error(app, prefix):
    create(app, "--role", "merchant", "--merchant", "Shop One")
    for command in ("revoke", "rotate"):
        result = silkway(app, "keys", command, prefix)
        assert result.exit_code == 2
        assert "no key has the prefix" in result.stderr
        assert "Traceback" not in result.output


def test_an_ambiguous_prefix_is_a_usage_error_naming_the_candidates(app, client):
    first = create(app, "--role", "merchant", "--merchant", "Shop One")
    second = create(app, "--role", "merchant", "--merchant", "Shop Two")
    for command in ("revoke", "rotate"):
        result = silkway(app, "keys", command, "sw_mer_")
        assert result.exit_code == 2
        assert "2 keys" in result.stderr and first[:12] in result.stderr and second[:12] in result.stderr
    assert merchant_call(client, first).status_code == 200  # nothing was revoked
    assert merchant_call(client, second).status_code == 200


def test_a_prefix_with_sql_wildcards_matches_literally(app):
    key = create(app, "--role", "merchant", "--merchant", "Shop One")
    result = silkway(app, "keys", "revoke", "sw%")
    assert result.exit_code == 2 and "no key has the prefix" in result.stderr
    assert key_row(app, key[:12]).revoked_at is None


def test_a_rotated_key_and_its_successor_both_work_until_the_grace_period_ends(
    app, client, monkeypatch: pytest.MonkeyPatch
):
    old = create(app, "--role", "merchant", "--merchant", "Shop One", "--label", "erp")
    result = silkway(app, "keys", "rotate", old[:12], "--grace", "2h")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip().splitlines()[-1]
    assert result.stdout == new + "\n"  # the new key, alone on the last (and only) line
    assert new.startswith("sw_mer_") and new != old
    assert "accepted until" in result.stderr and new[:12] in result.stderr
    assert merchant_call(client, old).status_code == 200
    assert merchant_call(client, new).status_code == 200
    rows = listing(app)
    assert rows[old[:12]]["STATE"].startswith("expires at ")
    assert rows[old[:12]]["STATE"].endswith(f"(rotated to {new[:12]})")
    assert (rows[new[:12]]["ROLE"], rows[new[:12]]["OWNER"], rows[new[:12]]["LABEL"]) == (
        "merchant",
        "Shop One",
        "erp",
    )
    assert rows[new[:12]]["STATE"] == "active"
    later(monkeypatch, timedelta(hours=1, minutes=59))
    assert merchant_call(client, old).status_code == 200
    later(monkeypatch, timedelta(hours=2, seconds=1))
    assert_refused(merchant_call(client, old))
    assert merchant_call(client, new).status_code == 200
    assert set(listing(app)) == {new[:12]}


def test_a_rotated_carrier_key_keeps_its_carrier(app, client):
    old = create(app, "--role", "carrier", "--carrier", "acme-express")
    result = silkway(app, "keys", "rotate", old[:12])
    assert result.exit_code == 0, result.output
    new = result.stdout.strip().splitlines()[-1]
    assert push(client, new).status_code == 200
    assert push(client, old).status_code == 200  # the default grace: 24 hours
    assert key_row(app, old[:12]).revoked_at - utcnow() > timedelta(hours=23, minutes=59)
    assert push(client, new, "4px").status_code == 403


def test_rotating_with_no_grace_refuses_the_old_key_at_once(app, client):
    old = create(app, "--role", "merchant", "--merchant", "Shop One")
    result = silkway(app, "keys", "rotate", old[:12], "--grace", "0")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip().splitlines()[-1]
    assert "refused from now on" in result.stderr
    assert_refused(merchant_call(client, old))
    assert merchant_call(client, new).status_code == 200


def test_a_rotated_key_in_its_grace_period_can_be_revoked_at_once(app, client):
    old = create(app, "--role", "merchant", "--merchant", "Shop One")
    silkway(app, "keys", "rotate", old[:12])
    result = silkway(app, "keys", "revoke", old[:12])
    assert result.exit_code == 0 and "grace period was to end" in result.stdout
    assert_refused(merchant_call(client, old))


def test_a_revoked_or_already_rotated_key_is_not_rotated(app):
    key = create(app, "--role", "operator")
    first = silkway(app, "keys", "rotate", key[:12])
    assert first.exit_code == 0
    again = silkway(app, "keys", "rotate", key[:12])
    assert again.exit_code == 1 and "already rotated" in again.stderr and again.stdout == ""
    silkway(app, "keys", "revoke", key[:12])
    revoked = silkway(app, "keys", "rotate", key[:12])
    assert revoked.exit_code == 1 and "revoked" in revoked.stderr and revoked.stdout == ""
    assert len(listing(app, "--all")) == 2  # no key was made by the refused rotations


@pytest.mark.parametrize("grace", ["24", "1y", "-1h", "h", "9999999d", "1.5h"])
def test_a_malformed_grace_is_a_usage_error(app, grace):
    key = create(app, "--role", "operator")
    result = silkway(app, "keys", "rotate", key[:12], "--grace", grace)
    assert result.exit_code == 2 and "--grace" in result.stderr
    assert len(listing(app)) == 1


@pytest.mark.parametrize(
    ("text", "span"),
    [("0", timedelta(0)), ("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)),
     ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("2W", timedelta(weeks=2))],
)
def test_grace_durations(text, span):
    assert keys_cli.DURATION.convert(text, None, None) == span


def test_a_merchant_key_rotated_past_its_grace_signs_the_dashboard_out(app, client):
    key = create(app, "--role", "merchant", "--merchant", "Shop One")
    sign_in(client, key)
    assert silkway(app, "keys", "rotate", key[:12], "--grace", "0").exit_code == 0
    assert client.get("/dashboard").status_code == 302


def test_the_keys_group_lists_its_commands(app):
    result = silkway(app, "keys", "--help")
    assert result.exit_code == 0
    assert {"create", "list", "revoke", "rotate"} <= set(re.findall(r"^  (\w+)", result.stdout, re.M))
