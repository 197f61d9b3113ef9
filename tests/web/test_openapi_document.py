"""The OpenAPI document is no looser than the server: plain component names, the server's constraints,
and the answers each operation really gives (web/openapi.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel

from tracking.statuses import SUBSTATUSES, Status
from web.api import merchant_schemas, operators, schemas

STATUSES = [s.value for s in Status]


@pytest.fixture
def doc(client) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/openapi.json").get_json()
    return document


def nodes(schema: Any) -> list[dict[str, Any]]:
    if isinstance(schema, dict):
        return [schema] + [n for value in schema.values() for n in nodes(value)]
    if isinstance(schema, list):
        return [n for value in schema for n in nodes(value)]
    return []


def component(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [ref for item in value.values() for ref in refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in refs(item)]
    return []


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of ``X | None``."""
    branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
    return branches[0]


def test_every_component_has_a_plain_name_and_every_reference_resolves(doc):
    names = set(doc["components"]["schemas"])
    assert not [name for name in names if "." in name or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)]
    assert {"RegistrationBody", "ParcelRegistration", "ProblemBody", "QuoteBody", "Status"} <= names
    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] in names, ref


def test_schema_class_names_are_unique_across_the_schema_modules():
    seen: dict[str, str] = {}
    for module in (schemas, merchant_schemas, operators):
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                assert name not in seen, f"{name} in {module.__name__} and {seen[name]}"
                seen[name] = module.__name__


def test_the_names_are_stable_from_one_build_to_the_next(client, doc):
    client.application.extensions.pop("silkway.openapi")
    assert client.get("/api/openapi.json").get_json() == doc


def test_registration_fields_the_server_requires_non_blank_are_so_in_the_schema(doc):
    registration = component(doc, "ParcelRegistration")
    for field in ("origin", "destination", "service", "reference"):
        schema = registration["properties"][field]
        assert schema["minLength"] == 1, field
        text = re.compile(schema["pattern"])
        assert text.search(" Kazan ") and not text.search("  \t") and not text.search("Ka\x00zan"), field
    assert registration["additionalProperties"] is False  # an unknown field is refused
    body = component(doc, "RegistrationBody")
    bare = next(b for b in body["anyOf"] if b.get("type") == "array")
    assert (bare["minItems"], bare["maxItems"]) == (1, 1000)
    batch = component(doc, "RegistrationBatch")["properties"]["parcels"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 1000)


def test_no_text_the_server_refuses_for_a_nul_is_documented_as_taking_one(doc):
    patterns = [
        node.get("pattern")
        for path, operations in doc["paths"].items()
        if path.startswith("/api/")
        for operation in operations.values()
        for parameter in operation.get("parameters") or []
        for node in nodes(parameter["schema"])
        if node.get("type") == "string" and not {"format", "enum"} & node.keys()
    ]
    assert len(patterns) >= 10 and None not in patterns  # every text path segment and query parameter
    assert not [p for p in patterns if re.search(p, "in_transit\x00")]
    webhook = component(doc, "WebhookIn")
    url = re.compile(webhook["properties"]["url"]["pattern"])
    assert url.search("https://shop.example/hooks") and not url.search("https://shop.example/\x00")
    names = re.compile(webhook["propertyNames"]["pattern"])
    assert names.search("url") and not names.search("u\x00rl")  # a key holding NUL is refused too
    assert re.compile(component(doc, "QuoteIn")["properties"]["service"]["pattern"]).search("a\x00") is None


def test_an_empty_quote_list_is_refused_by_the_schema_as_by_the_server(doc):
    quotes = component(doc, "QuoteRequest")["properties"]["quotes"]
    assert (quotes["minItems"], quotes["maxItems"]) == (1, 1000)
    bare = next(b for b in component(doc, "QuoteBody")["anyOf"] if b.get("type") == "array")
    assert bare["minItems"] == 1
    quote = component(doc, "QuoteIn")["properties"]
    assert all(quote[field]["minLength"] == 1 for field in ("origin", "destination", "service"))


def test_statuses_are_an_enum_of_the_canonical_statuses(doc):
    assert component(doc, "Status")["enum"] == STATUSES
    substatuses = sorted({sub for subs in SUBSTATUSES.values() for sub in subs})
    for name in ("MerchantParcel", "ParcelOut", "EventOut", "MerchantEvent"):
        properties = component(doc, name)["properties"]
        assert properties["status"] == {"$ref": "#/components/schemas/Status"}, name
        assert properties["substatus"]["enum"] == substatuses, name
    assert component(doc, "CanonicalEvent")["properties"]["status"]["$ref"] == "#/components/schemas/Status"


def test_the_status_filter_pattern_takes_statuses_separated_by_commas_only(doc):
    pattern = re.compile(nullable(component(doc, "ParcelQuery")["properties"]["status"])["pattern"])
    assert all(pattern.search(status) for status in STATUSES)
    assert pattern.search("in_transit,delivered") and pattern.search("in_transit, delivered")
    assert not pattern.search("lost") and not pattern.search("in_transit,") and not pattern.search("")


def test_a_country_is_one_of_iso_3166_and_a_place_names_a_field(doc):
    place = component(doc, "PlaceIn")
    enum = place["properties"]["country"]["enum"]
    assert "CN" in enum and "RU" in enum and "XX" not in enum and None in enum and len(enum) == 250
    assert {"required": ["name"]} in place["anyOf"]
    assert place["dependentRequired"] == {"lat": ["lon"], "lon": ["lat"]}


def test_the_windows_are_in_the_descriptions(doc):
    occurred = component(doc, "CanonicalEvent")["properties"]["occurred_at"]["description"]
    assert "2010-01-01T00:00:00Z to one day after now" in occurred
    ship_at = nullable(component(doc, "ParcelRegistration")["properties"]["ship_at"])
    assert (
        "one year after now" in component(doc, "ParcelRegistration")["properties"]["ship_at"]["description"]
    )
    assert ship_at["format"] == "date-time"
    eta = doc["paths"]["/api/v1/parcels/{tracking_number}/eta"]["get"]
    as_of = next(p for p in eta["parameters"] if p["name"] == "as_of")
    assert "2010-01-01T00:00:00Z to one year after now" in as_of["description"]


def answers(doc: dict[str, Any], method: str, path: str) -> set[str]:
    return set(doc["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/api/v1/parcels/{tracking_number}", {"200", "400", "404", "414", "429", "503"}),
        ("get", "/api/v1/tracking-numbers/{number}", {"200", "400", "414", "429"}),
        ("get", "/api/v1/parcels/{tracking_number}/eta", {"200", "400", "404", "422", "414", "429", "503"}),
        ("post", "/api/v1/eta/quotes", {"200", "400", "401", "403", "413", "422", "414", "429", "503"}),
        (
            "post",
            "/api/v1/carriers/{carrier}/events",
            {"200", "400", "401", "403", "404", "413", "415", "422", "414", "429", "503"},
        ),
        (
            "post",
            "/api/v1/parcels",
            {"200", "201", "400", "401", "403", "409", "413", "422", "414", "429", "503"},
        ),
        ("get", "/api/v1/parcels", {"200", "400", "401", "403", "422", "414", "429", "503"}),
        (
            "get",
            "/api/v1/merchant/parcels/{tracking_number}",
            {"200", "400", "401", "403", "404", "414", "429", "503"},
        ),
        ("post", "/api/v1/webhooks", {"201", "400", "401", "403", "413", "422", "414", "429", "503"}),
        ("get", "/api/v1/webhooks", {"200", "400", "401", "403", "414", "429", "503"}),
        (
            "delete",
            "/api/v1/webhooks/{subscription_id}",
            {"204", "400", "401", "403", "404", "414", "429", "503"},
        ),
        (
            "get",
            "/api/v1/webhooks/{subscription_id}/deliveries",
            {"200", "400", "401", "403", "404", "422", "414", "429", "503"},
        ),
    ],
)
def test_each_operation_documents_the_answers_it_gives_and_no_others(doc, method, path, expected):
    assert answers(doc, method, path) == expected


def test_errors_are_problem_json_and_spectree_validation_error_is_gone(doc):
    assert not {"ValidationError", "Undeclared422"} & set(doc["components"]["schemas"])
    for operations in doc["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert set(answer["content"]) == {"application/problem+json"}


def test_subscription_ids_are_documented_in_their_column_range(doc):
    # webhook_subscriptions.id is INTEGER: the path takes 1 to 2**31 - 1, any other id is a 404.
    for path in ("/api/v1/webhooks/{subscription_id}", "/api/v1/webhooks/{subscription_id}/deliveries"):
        [operation] = doc["paths"][path].values()
        [parameter] = [p for p in operation["parameters"] if p["in"] == "path"]
        expected = {"type": "integer", "format": "int32", "minimum": 1, "maximum": 2**31 - 1}
        assert parameter["schema"] == expected
