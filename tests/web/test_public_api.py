"""Public endpoints: tracking-number recognition and the OpenAPI document."""

from __future__ import annotations

import pytest

CONTRACT_PATHS = [
    ("post", "/api/v1/carriers/{carrier}/events"),
    ("get", "/api/v1/parcels/{tracking_number}"),
    ("get", "/api/v1/tracking-numbers/{number}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
]


def test_valid_s10_number_is_recognised_with_ranked_candidates(client):
    body = client.get("/api/v1/tracking-numbers/rx747628194cn").get_json()
    assert body["number"] == "RX747628194CN" and body["valid"] is True
    confidences = [c["confidence"] for c in body["candidates"]]
    assert confidences == sorted(confidences, reverse=True)
    assert body["candidates"][0]["carrier"] == "china_post"
    assert body["candidates"][0]["format"] == "s10"


def test_wrong_check_digit_is_invalid_and_says_which_digit_was_expected(client):
    body = client.get("/api/v1/tracking-numbers/RR123456789CN").get_json()
    assert body["valid"] is False
    assert any("5" in problem for problem in body["problems"])


@pytest.mark.parametrize("number", ["hello", "%20", "1", "ЖЖЖЖЖЖЖЖЖЖЖЖЖ"])
def test_garbage_is_answered_not_crashed_on(client, number):
    resp = client.get(f"/api/v1/tracking-numbers/{number}")
    assert resp.status_code == 200
    assert resp.get_json()["valid"] is False


def test_openapi_document_is_3_1_and_covers_the_contract(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for method, path in CONTRACT_PATHS:
        assert method in doc["paths"].get(path, {}), f"{method.upper()} {path} missing"
    post = doc["paths"]["/api/v1/carriers/{carrier}/events"]["post"]
    assert {"200", "401", "422"} <= set(post["responses"])


def test_unknown_path_is_a_problem_json_404(client):
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.content_type == "application/problem+json"
    assert resp.get_json()["status"] == 404


def test_wrong_method_is_a_problem_json_405(client):
    resp = client.delete("/api/v1/tracking-numbers/RX747628194CN")
    assert resp.status_code == 405
    assert resp.get_json()["title"] == "Method Not Allowed"
