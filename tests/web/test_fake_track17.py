"""The local 17TRACK server keeps 17TRACK's published rules, seen through the product's HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from tests.support.fake_track17 import FakeTrack17Server, start_fake_track17, stop_fake_track17
from web.feeds.client import FeedClient, FetchFailed, PullSettings, RetryLater

KEY = "the-key"


@pytest.fixture
def server() -> Iterator[tuple[FakeTrack17Server, str]]:
    found = start_fake_track17(KEY, quota_total=2)
    yield found
    stop_fake_track17(found[0])


def client(per_second: float = 3.0, burst: int = 1) -> FeedClient:
    """The pull jobs' client, spacing its calls as the connector does (3 a second) unless told otherwise."""
    limits = {"t": [per_second, burst]}
    values = {**PullSettings.from_config({}).values, "PULL_RETRIES": 0, "PULL_RATE_LIMITS": limits}
    return FeedClient(PullSettings(values))


SPACED = client()


def post(
    url: str, endpoint: str, body: object, key: str = KEY, via: FeedClient | None = None
) -> dict[str, object]:
    raw = (via or SPACED).fetch("t", f"{url}/{endpoint}", orjson.dumps(body), {"17token": key})
    doc: dict[str, object] = orjson.loads(raw)
    return doc


def test_a_wrong_key_is_a_401(server: tuple[FakeTrack17Server, str]) -> None:
    with pytest.raises(FetchFailed, match="401"):
        post(server[1], "register", [{"number": "RX747628194CN"}], key="wrong")


def test_more_than_40_numbers_refuse_the_whole_call(server: tuple[FakeTrack17Server, str]) -> None:
    answer = post(server[1], "register", [{"number": f"LP{i:014d}"} for i in range(41)])
    assert answer["code"] == -18010014
    assert server[0].state.numbers == {}


def test_register_detects_counts_the_quota_and_refuses_repeats(server: tuple[FakeTrack17Server, str]) -> None:
    url = server[1]
    answer = post(
        url, "register", [{"number": "RX747628194CN"}, {"number": "RX747628194CN"}, {"number": "AB"}]
    )
    data = answer["data"]
    assert isinstance(data, dict)
    assert data["accepted"] == [{"origin": 1, "number": "RX747628194CN", "carrier": 3011}]
    assert [r["error"]["code"] for r in data["rejected"]] == [-18019901, -18010012]
    spent = post(
        url, "register", [{"number": "LP00000000000001", "carrier": 190271}, {"number": "LP00000000000002"}]
    )
    data = spent["data"]
    assert isinstance(data, dict)
    assert [r["error"]["code"] for r in data["rejected"]] == [-18019908]
    assert post(url, "getquota", None)["data"] == {
        "quota_total": 2,
        "quota_used": 2,
        "quota_remain": 0,
        "today_used": 2,
        "max_track_daily": 0,
    }


def test_stop_and_change_carrier_follow_the_documented_refusals(
    server: tuple[FakeTrack17Server, str],
) -> None:
    url = server[1]
    post(url, "register", [{"number": "RX747628194CN"}])
    changed = post(
        url, "changecarrier", [{"number": "RX747628194CN", "carrier_old": 3011, "carrier_new": 3011}]
    )
    assert changed["data"]["rejected"][0]["error"]["code"] == -18019803  # type: ignore[index]
    changed = post(url, "changecarrier", [{"number": "RX747628194CN", "carrier_new": 190012}])
    assert changed["data"]["accepted"] == [{"number": "RX747628194CN", "carrier": 190012}]  # type: ignore[index]
    assert post(url, "stoptrack", [{"number": "RX747628194CN"}])["data"]["accepted"]  # type: ignore[index]
    again = post(url, "stoptrack", [{"number": "RX747628194CN"}, {"number": "RA123456789RU"}])
    assert [r["error"]["code"] for r in again["data"]["rejected"]] == [-18019906, -18019902]  # type: ignore[index]


def test_faster_than_3_a_second_is_a_429(server: tuple[FakeTrack17Server, str]) -> None:
    fast = client(per_second=1000.0, burst=50)
    with pytest.raises(RetryLater):
        for _ in range(5):
            post(server[1], "getquota", None, via=fast)
    assert len(server[0].state.calls("getquota")) == 3
