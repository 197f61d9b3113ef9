"""Property tests: whatever bytes arrive, the Cainiao, 17TRACK and aggregator adapters either return a
ParseResult of valid, timezone-aware events (with per-item errors) or raise PayloadError; nothing else."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers import aftership, cainiao, easypost, sf_express, track17, yanwen
from tests.carriers.results import parse_or_refuse
from tests.carriers.samples import sample_bytes

ADAPTERS = [cainiao, track17, aftership, easypost, sf_express, yanwen]
SAMPLES = [
    (cainiao, "cainiao_global_detail_AE010698498.json"),
    (cainiao, "cainiao_global_detail_RS0814398526Y.json"),
    (cainiao, "cainiao_global_detail_UZ0556033196Y.json"),
    (track17, "17track_v2_webhook_TRACKING_UPDATED.json"),
    (aftership, "aftership_get_tracking_result.json"),
    (aftership, "aftership_webhook_tracking_update.json"),
    (aftership, "aftership_webhook_edd_revise.json"),
    (easypost, "easypost_event_tracker_updated.json"),
    (easypost, "easypost_tracker_create_response.json"),
    (sf_express, "sf_express_route_response.json"),
    (yanwen, "yanwen_trackapi_tracking_response.json"),
]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "GMT+99",
            "2023-13-45 25:61:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01",
            "1e400",
            "-1",
            "NaN",
            "\x00",
            "Z",
            "GMT-0",
            "Delivered_",
            "CC_",
            "RR123456785RU",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def dumps(doc: Any) -> bytes:
    """JSON text of ``doc`` (the standard library writes integers of any size, unlike orjson)."""
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index path inside a JSON value."""
    found: list[tuple[Any, ...]] = []
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    )
    for key, child in children:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def mutate(doc: Any, data: st.DataObject) -> Any:
    """Remove some fields and replace others with values of the wrong type."""
    for _ in range(data.draw(st.integers(min_value=1, max_value=6))):
        found = paths(doc)
        if not found:
            break
        path = data.draw(st.sampled_from(found))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(WRONG_VALUES)
    return doc


@pytest.mark.parametrize(("adapter", "name"), SAMPLES, ids=[name for _, name in SAMPLES])
@FUZZ
@given(data=st.data())
def test_mutated_sample_gives_parse_result_or_payload_error(adapter: Any, name: str, data: Any) -> None:
    doc = mutate(orjson.loads(sample_bytes(name)), data)
    parse_or_refuse(adapter, dumps(doc))


@pytest.mark.parametrize(("adapter", "name"), SAMPLES, ids=[name for _, name in SAMPLES])
@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_truncated_sample_gives_parse_result_or_payload_error(adapter: Any, name: str, cut: int) -> None:
    raw = sample_bytes(name)
    parse_or_refuse(adapter, raw[: cut % (len(raw) + 1)])


@pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.name for a in ADAPTERS])
@FUZZ
@given(raw=st.binary(max_size=300))
def test_random_bytes_give_payload_error_or_empty_result(adapter: Any, raw: bytes) -> None:
    parse_or_refuse(adapter, raw)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=[a.name for a in ADAPTERS])
@FUZZ
@given(doc=JSON)
def test_arbitrary_json_gives_parse_result_or_payload_error(adapter: Any, doc: Any) -> None:
    parse_or_refuse(adapter, dumps(doc))


# Shapes close to each format, with every leaf drawn at random: reaches the per-event code paths.
SCAN_FIELDS = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        (
            "time",
            "timeStr",
            "timeZone",
            "actionCode",
            "desc",
            "standerdDesc",
            "time_iso",
            "time_utc",
            "sub_status",
            "stage",
            "address",
            "location",
            "checkpoint_time",
            "tag",
            "subtag",
            "country_iso3",
            "datetime",
            "status",
            "status_detail",
            "tracking_location",
            "acceptTime",
            "opCode",
            "acceptAddress",
            "time_stamp",
            "time_zone",
            "tracking_status",
        ),
        WRONG_VALUES,
    ),
)


@FUZZ
@given(scans=st.lists(SCAN_FIELDS, max_size=4), number=WRONG_VALUES | st.just("RR123456785CN"))
def test_format_shaped_payloads_with_random_leaves(scans: list[dict[str, Any]], number: Any) -> None:
    payloads = [
        (cainiao, {"module": [{"mailNo": number, "detailList": scans, "realMailNo": number}]}),
        (
            track17,
            {
                "event": "TRACKING_UPDATED",
                "data": {
                    "number": number,
                    "track_info": {
                        "tracking": {"providers": [{"events": scans}]},
                        "misc_info": {"local_number": number},
                    },
                },
            },
        ),
        (
            aftership,
            {
                "event": "tracking_update",
                "msg": {
                    "tracking_number": number,
                    "checkpoints": scans,
                    "next_couriers": [{"tracking_number": number}],
                },
            },
        ),
        (easypost, {"object": "Tracker", "tracking_code": number, "tracking_details": scans}),
        (sf_express, {"success": True, "msgData": {"routeResps": [{"mailNo": number, "routes": scans}]}}),
        (yanwen, {"code": 0, "result": [{"tracking_number": number, "checkpoints": scans}]}),
    ]
    for adapter, payload in payloads:
        parse_or_refuse(adapter, dumps(payload))
