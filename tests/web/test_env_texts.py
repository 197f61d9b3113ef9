"""Credentials and addresses from the environment keep the text the operator wrote."""

from __future__ import annotations

import pytest

from web import create_app
from web.env_texts import text_settings


@pytest.mark.parametrize("value", ["12345e3", "0012345", "true", "1234567890123456789012", "null", "[1]"])
def test_an_api_key_that_looks_like_json_stays_text(monkeypatch, value):
    monkeypatch.setenv("SILKWAY_TRACK17_API_KEY", value)
    monkeypatch.setenv("SILKWAY_METRICS_TOKEN", value)
    app = create_app({"TESTING": True})
    assert app.config["TRACK17_API_KEY"] == value
    assert app.config["METRICS_TOKEN"] == value


def test_other_settings_are_still_read_as_json(monkeypatch):
    monkeypatch.setenv("SILKWAY_PROXY_HOPS", "2")
    monkeypatch.setenv("SILKWAY_RATELIMIT_ALLOW_PER_WORKER", "true")
    app = create_app({"TESTING": True})
    assert app.config["PROXY_HOPS"] == 2
    assert app.config["RATELIMIT_ALLOW_PER_WORKER"] is True


def test_only_the_prefix_and_credential_names_are_taken():
    environ = {
        "SILKWAY_CDEK_CLIENT_ID": "007",
        "SILKWAY_SMTP_URL": "smtp://127.0.0.1:25",
        "SILKWAY_JOB_RETENTION_SECONDS": "60",
        "OTHER_API_KEY": "1",
        "SILKWAY_NESTED__API_KEY": "1",
    }
    assert text_settings(environ) == {"CDEK_CLIENT_ID": "007", "SMTP_URL": "smtp://127.0.0.1:25"}
