"""Damaged Russian Post, CDEK and CSV payloads: each adapter returns a ParseResult or raises PayloadError.

Every payload is a real sample with bytes flipped, cut short, elements removed or JSON fields given the
wrong type. Whatever comes back must be well formed: every event has an aware time and a canonical
status, and every event and error points at an item that exists.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, tostring

import orjson
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carriers import cdek, cdek_v1, csv_format, russian_post
from carriers.base import Adapter
from tests.carriers.results import parse_or_refuse
from tests.carriers.samples import sample_bytes

XML_SAMPLES: list[tuple[Adapter, str]] = [
    (russian_post, "russianpost_getOperationHistory_response_domestic.xml"),
    (russian_post, "russianpost_getResponseByTicket_batch_response.xml"),
    (cdek_v1, "cdek_v1_StatusReport_response.xml"),
]
JSON_SAMPLES: list[tuple[Adapter, str]] = [
    (cdek, "cdek_v2_webhook_ORDER_STATUS.json"),
    (cdek, "cdek_v2_webhook_PRINT_FORM.json"),
]
CSV_SAMPLE = (
    "\ufefftracking_number;status;substatus;occurred_at;location_name;country;postcode;description;raw_code;"
    "linked_numbers\r\n"
    "RX747628194CN;in_transit;departed;2026-11-20T08:31:00+08:00;Shenzhen;CN;518000;Departed;SC_OUT;"
    '"LP00123456789012;AE010698498"\r\n'
    "RX747628194CN;delivered;;2026-11-28T10:00:00+03:00;Москва;RU;101000;Вручено;2.1;\r\n"
).encode("utf-8")
ALL_SAMPLES: list[tuple[Adapter, bytes]] = [
    *((adapter, sample_bytes(name)) for adapter, name in XML_SAMPLES + JSON_SAMPLES),
    (csv_format, CSV_SAMPLE),
]

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(st.sampled_from(ALL_SAMPLES), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8))
def test_flipped_bytes_give_a_result_or_a_payload_error(
    sample: tuple[Adapter, bytes], flips: list[Any]
) -> None:
    adapter, raw = sample
    data = bytearray(raw)
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    parse_or_refuse(adapter, bytes(data))


@FUZZ
@given(st.sampled_from(ALL_SAMPLES), st.floats(0, 1))
def test_truncation_anywhere_gives_a_result_or_a_payload_error(
    sample: tuple[Adapter, bytes], cut: float
) -> None:
    adapter, raw = sample
    parse_or_refuse(adapter, raw[: int(cut * len(raw))])


@FUZZ
@given(st.sampled_from(ALL_SAMPLES), st.binary(max_size=200))
def test_random_bytes_give_a_result_or_a_payload_error(sample: tuple[Adapter, bytes], noise: bytes) -> None:
    adapter, raw = sample
    parse_or_refuse(adapter, noise)
    parse_or_refuse(adapter, raw[: len(raw) // 2] + noise)


def _without(root: Element, victims: list[float]) -> bytes:
    nodes = [(parent, node) for parent in root.iter() for node in parent]
    for where in victims:
        if not nodes:
            break
        parent, node = nodes[min(int(where * len(nodes)), len(nodes) - 1)]
        if node in list(parent):
            parent.remove(node)
    data: bytes = tostring(root, encoding="utf-8")
    return data


@FUZZ
@given(st.sampled_from(XML_SAMPLES), st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_missing_xml_elements_give_a_result_or_a_payload_error(
    sample: tuple[Adapter, str], victims: list[float]
) -> None:
    adapter, name = sample
    parse_or_refuse(adapter, _without(fromstring(sample_bytes(name)), victims))


@FUZZ
@given(
    st.sampled_from(XML_SAMPLES),
    st.lists(
        st.tuples(st.floats(0, 1), st.sampled_from(["text", "attribute"]), st.text(max_size=12)), max_size=6
    ),
)
def test_garbled_xml_values_give_a_result_or_a_payload_error(
    sample: tuple[Adapter, str], edits: list[tuple[float, str, str]]
) -> None:
    adapter, name = sample
    root = fromstring(sample_bytes(name))
    nodes = list(root.iter())
    for where, kind, value in edits:
        node = nodes[min(int(where * len(nodes)), len(nodes) - 1)]
        clean = "".join(ch for ch in value if ch.isprintable())
        if kind == "text":
            node.text = clean
        else:
            for key in list(node.attrib)[:1]:
                node.set(key, clean)
    parse_or_refuse(adapter, tostring(root, encoding="utf-8"))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for position, inner in enumerate(value):
            found += _paths(inner, (*prefix, position))
    return found


def _replace(doc: Any, where: tuple[Any, ...], value: Any, delete: bool) -> None:
    *parents, last = where
    for key in parents:
        doc = doc[key]
    if delete and isinstance(doc, dict):
        del doc[last]
    else:
        doc[last] = value


@FUZZ
@given(
    st.sampled_from(JSON_SAMPLES),
    st.lists(st.tuples(st.floats(0, 1), json_values, st.booleans()), min_size=1, max_size=4),
    st.booleans(),
)
def test_wrong_types_and_missing_json_fields_give_a_result_or_a_payload_error(
    sample: tuple[Adapter, str], edits: list[tuple[float, Any, bool]], as_array: bool
) -> None:
    adapter, name = sample
    doc = orjson.loads(sample_bytes(name))
    for where, value, delete in edits:
        paths = _paths(doc)
        if not paths:
            break
        _replace(doc, paths[min(int(where * len(paths)), len(paths) - 1)], value, delete)
    raw = orjson.dumps([doc, doc] if as_array else doc)
    result = parse_or_refuse(adapter, raw)
    assert result is not None  # a JSON object or array is never a payload-level error
    assert len(result.events) + len(result.errors) + result.ignored == (2 if as_array else 1)


# NUL is left out: a body holding one is binary and refused as a whole (tested in test_csv_format.py).
csv_cells = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=25
)


@FUZZ
@given(st.lists(st.lists(csv_cells, min_size=1, max_size=12), max_size=6), st.sampled_from([",", ";"]))
def test_random_csv_rows_give_a_result_or_a_payload_error(rows: list[list[str]], delimiter: str) -> None:
    header = delimiter.join(["tracking_number", "status", "occurred_at", "country", "linked_numbers"])
    body = "\n".join([header, *(delimiter.join(row) for row in rows)])
    result = parse_or_refuse(csv_format, body.encode("utf-8"))
    assert result is not None  # the header is valid, so only rows can fail
    assert {e.index for e in result.errors}.isdisjoint(result.indexes)
