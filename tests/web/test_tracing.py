"""OpenTelemetry traces (web/tracing.py): a pushed batch is one trace with its database spans, the request
id is the trace id; a scheduled job is a trace with its statements and its webhook requests; nothing set
means off, with no OpenTelemetry module imported at all."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from opentelemetry.instrumentation.urllib import URLLibInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.conftest import bearer
from tests.support.webhook_receiver import webhook_receiver
from tests.web.support import CARRIER_EVENTS, ago
from tracking.accounts import create_key, ensure_carrier, ensure_merchant
from web import create_app
from web.tracing import exporter_names
from web.worker.job import Job
from web.worker.merchant_jobs import process_outbox_job
from web.worker.scheduler import run_job

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    URLLibInstrumentor().uninstrument()  # process-wide: leave urllib as the other tests expect it


@pytest.fixture
def traced(db_url: str, spans: InMemorySpanExporter) -> Iterator[Flask]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "test",
            "OTEL_TRACER_PROVIDER": provider,
            "WEBHOOK_SENDER": "urllib",
            "ALLOW_PRIVATE_WEBHOOK_TARGETS": True,
        }
    )
    yield app
    app.extensions["silkway.db"].dispose()


def keys(app: Flask) -> tuple[str, str]:
    with app.app_context():
        session = app.extensions["silkway.db"].session()
        carrier = create_key(session, "carrier", carrier=ensure_carrier(session, "acme_post", "canonical"))
        merchant = create_key(session, "merchant", merchant=ensure_merchant(session, "Shop One"))
        session.commit()
        session.close()
    return carrier, merchant


def push(app: Flask, key: str, *numbers: str) -> Any:
    events = [
        {
            "tracking_number": n,
            "status": "in_transit",
            "substatus": "departed",
            "occurred_at": ago(hours=1).isoformat(),
        }
        for n in numbers
    ]
    return app.test_client().post(CARRIER_EVENTS, json={"events": events}, headers=bearer(key))


def test_one_pushed_batch_is_one_trace_with_its_database_spans(traced, spans):
    carrier, _ = keys(traced)
    spans.clear()
    resp = push(traced, carrier, "RX747628194CN", "RA123456785CN")
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 2
    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.kind == SpanKind.SERVER]
    assert server.attributes["http.route"] == "/api/v1/carriers/<carrier>/events"
    trace_id = server.context.trace_id
    assert {s.context.trace_id for s in finished} == {trace_id}
    statements = [s for s in finished if s.kind == SpanKind.CLIENT and "db.system" in (s.attributes or {})]
    assert len(statements) >= 5  # the key, the raw payload, identifiers, events, parcels, the outbox, ...
    assert {s.attributes["db.system"] for s in statements} == {
        "sqlite" if "sqlite" in traced.config["DATABASE_URL"] else "postgresql"
    }
    ids = {s.context.span_id for s in finished}
    assert all(s.parent is not None and s.parent.span_id in ids for s in statements)
    assert any("INSERT" in s.name for s in statements)
    # the request id of the logs and of the answer is the trace id
    assert resp.headers["X-Request-ID"] == format(trace_id, "032x")


def test_a_scheduled_job_is_a_trace_with_its_webhook_request_which_carries_it_on(traced, spans):
    carrier, merchant = keys(traced)
    client = traced.test_client()
    with webhook_receiver() as receiver:
        hook = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=bearer(merchant))
        assert hook.status_code == 201
        body = {
            "identifiers": ["RX747628194CN"],
            "origin": "Shenzhen",
            "destination": "Moscow",
            "service": "standard_air",
            "reference": "ORDER-1",
        }
        assert client.post("/api/v1/parcels", json=body, headers=bearer(merchant)).status_code == 201
        assert push(traced, carrier, "RX747628194CN").status_code == 200
        spans.clear()
        assert run_job(traced, Job("webhook_outbox", process_outbox_job, 5)) == "ran"
    finished = spans.get_finished_spans()
    [job] = [s for s in finished if s.name == "job webhook_outbox"]
    [outbound] = [s for s in finished if s.kind == SpanKind.CLIENT and s.name == "POST"]
    [(headers, _)] = receiver.received
    assert headers["traceparent"].split("-")[1] == format(job.context.trace_id, "032x")
    assert outbound.parent is not None and outbound.parent.span_id == job.context.span_id
    in_job = [s for s in finished if s.context.trace_id == job.context.trace_id and s is not job]
    assert any("UPDATE" in s.name for s in in_job)  # the claim and the attempt's record


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_the_standard_variables_turn_tracing_on_and_off(environ, expected):
    assert exporter_names(environ) == expected


SERVE_ONE_REQUEST = """
import sys, tempfile
from tracking import schema
from tracking.db import make_engine
from web import create_app
url = "sqlite:///" + tempfile.mkdtemp() + "/t.db"
schema.upgrade(make_engine(url))
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "t", "LOG_LEVEL": "ERROR"})
assert app.test_client().get("/api/v1/parcels/RX747628194CN").status_code == 404
loaded = {".".join(m.split(".")[:2]) for m in sys.modules if m.startswith("opentelemetry.")}
print("loaded:", sorted(loaded))
"""


@pytest.mark.parametrize(
    ("environ", "loaded"),
    [
        ({}, "loaded: []"),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, "loaded: []"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "opentelemetry.instrumentation"),
    ],
)
def test_off_imports_no_opentelemetry_module(environ, loaded):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST],
        cwd=ROOT,
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("loaded:")]
    assert loaded in line
