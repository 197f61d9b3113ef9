"""The budget of unknown numbers: one unit per unknown number on every door, refused before any lookup."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

import web.api.public
import web.pages.shopper
from web import create_app
from web.access import public_limits
from web.pages.shopper import MAX_NUMBERS, MAX_QUERY

KNOWN = "RX747628194CN"
EN = {"Accept-Language": "en"}


def unknown(i: int) -> str:
    return f"LP{i:014d}"


def limited(db_url: str, misses: str, public: str = "10000/minute") -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_PUBLIC": public,
            "RATELIMIT_MISSES": misses,
        }
    )


@pytest.fixture
def make_limited(db_url: str) -> Iterator[Callable[[str], Flask]]:
    apps: list[Flask] = []

    def _make(misses: str) -> Flask:
        apps.append(limited(db_url, misses))
        return apps[-1]

    yield _make
    for application in apps:
        application.extensions["silkway.db"].dispose()


@pytest.fixture
def count_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every number the pages and the public API look up, in order."""
    seen: list[str] = []
    for module in (web.pages.shopper, web.api.public):
        real = module.lookup_view

        def spy(number: str, real: Callable = real):  # type: ignore[type-arg]
            seen.append(number)
            return real(number)

        monkeypatch.setattr(module, "lookup_view", spy)
    return seen


def many(*numbers: str) -> str:
    return "/track?numbers=" + ",".join(numbers)


def test_the_probe_five_misses_then_a_hundred_requests_of_ten_unknown_numbers(make_limited, count_lookups):
    client = make_limited("30/minute").test_client()
    assert [client.get(f"/api/v1/parcels/{unknown(i)}").status_code for i in range(5)] == [404] * 5
    answers = [
        client.get(many(*(unknown(100 + 10 * r + i) for i in range(10))), headers=EN) for r in range(100)
    ]
    statuses = [resp.status_code for resp in answers]
    assert statuses[:2] == [200, 200]  # 25 left: two requests of 10 fit, the third does not
    assert set(statuses[2:]) == {429}
    assert len(count_lookups) == 5 + 20  # the refused requests looked nothing up
    assert all(resp.mimetype == "text/html" and int(resp.headers["Retry-After"]) > 0 for resp in answers[2:])


def test_each_door_charges_one_unit_per_unknown_number(make_limited, scan):
    scan(KNOWN)
    client = make_limited("6/minute").test_client()
    assert client.get(f"/api/v1/parcels/{unknown(1)}").status_code == 404  # 1
    assert client.get(f"/track/{unknown(2)}", headers=EN).status_code == 404  # 2
    assert client.get("/track/x!", headers=EN).status_code == 400  # 3: not even a number
    assert client.get(f"/api/v1/parcels/{unknown(4)}/eta").status_code == 404  # 4
    assert client.get(many(KNOWN, unknown(5)), headers=EN).status_code == 200  # 5: the known one is free
    # one unit left: a single unknown number fits, two do not (refused before they are looked up)
    assert client.get(many(unknown(6), unknown(7)), headers=EN).status_code == 429
    assert client.get(f"/api/v1/parcels/{unknown(6)}").status_code == 404  # 6
    refused = client.get(f"/api/v1/parcels/{KNOWN}")  # spent: even a known number is not looked up
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["status"] == 429 and int(refused.headers["Retry-After"]) > 0
    assert client.get(f"/api/v1/parcels/{KNOWN}/eta").status_code == 429
    assert client.get(f"/track/{KNOWN}", headers=EN).status_code == 429


def test_known_numbers_cost_nothing(make_limited, scan):
    scan(KNOWN)
    client = make_limited("1/minute").test_client()
    for _ in range(5):
        assert client.get(f"/api/v1/parcels/{KNOWN}").status_code == 200
        assert client.get(f"/track/{KNOWN}", headers=EN).status_code == 200
    assert client.get(f"/api/v1/parcels/{unknown(1)}").status_code == 404
    assert client.get(f"/api/v1/parcels/{unknown(2)}").status_code == 429


def test_the_day_budget_is_charged_too(make_limited):
    client = make_limited("100/minute;3/day").test_client()
    assert client.get(many(unknown(1), unknown(2), unknown(3)), headers=EN).status_code == 200
    assert client.get(f"/api/v1/parcels/{unknown(4)}").status_code == 429


def test_a_budget_spent_while_the_lookups_ran_withholds_the_answer(make_limited, monkeypatch):
    """Two requests of one client at once both pass the check; the one that cannot be charged is a 429."""
    application = make_limited("2/minute")
    client = application.test_client()
    real = web.api.public.lookup_view

    def lookup_while_another_request_spends(number: str):  # type: ignore[no-untyped-def]
        with application.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            public_limits.charge_misses(2)
        return real(number)

    monkeypatch.setattr(web.api.public, "lookup_view", lookup_while_another_request_spends)
    resp = client.get(f"/api/v1/parcels/{unknown(1)}")
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"


def test_addresses_have_budgets_of_their_own(make_limited):
    client = make_limited("1/minute").test_client()
    first = {"REMOTE_ADDR": "203.0.113.1"}
    assert client.get(f"/api/v1/parcels/{unknown(1)}", environ_base=first).status_code == 404
    assert client.get(f"/api/v1/parcels/{unknown(2)}", environ_base=first).status_code == 429
    other = {"REMOTE_ADDR": "203.0.113.2"}
    assert client.get(f"/api/v1/parcels/{unknown(3)}", environ_base=other).status_code == 404


def test_the_several_numbers_page_names_its_caps(make_limited, count_lookups):
    client = make_limited("1000/minute").test_client()
    too_many = client.get(many(*(unknown(i) for i in range(MAX_NUMBERS + 1))), headers=EN)
    assert too_many.status_code == 400
    assert f"Enter at most {MAX_NUMBERS} numbers at once." in too_many.get_data(as_text=True)
    spellings = [unknown(1), unknown(1).lower(), " " + unknown(1)] * 10
    repeated = client.get(many(*spellings, *(unknown(i) for i in range(2, MAX_NUMBERS + 1))), headers=EN)
    assert repeated.status_code == 200  # repeats and spelling variants count once
    too_long = client.get("/track?numbers=" + unknown(1) + "," + " " * MAX_QUERY + unknown(2), headers=EN)
    assert too_long.status_code == 400
    text = too_long.get_data(as_text=True)
    assert f"Enter at most {MAX_NUMBERS} numbers at once, in at most {MAX_QUERY} characters." in text
    assert len(count_lookups) == MAX_NUMBERS  # the refused requests looked nothing up


def test_without_rate_limits_nothing_is_charged(client):
    for i in range(40):
        assert client.get(f"/api/v1/parcels/{unknown(i)}").status_code == 404
