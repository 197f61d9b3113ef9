"""OpenTelemetry traces of Flask requests, SQLAlchemy statements and outbound HTTP (urllib), off by default.

Tracing is on in a process only when the standard environment asks for an exporter:
``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, or several separated by commas; ``none`` is off) or an
OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, which mean
``otlp``); ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. Unlike the SDK's own default
(``otlp`` to localhost), nothing set means off, and then not one OpenTelemetry module is imported: off
costs nothing. The rest is the SDK's and the exporter's own reading of ``OTEL_*`` (``OTEL_SERVICE_NAME``,
default ``silkway``; ``OTEL_RESOURCE_ATTRIBUTES``; ``OTEL_TRACES_SAMPLER``; the OTLP headers, timeout and
compression; ``OTEL_PYTHON_FLASK_EXCLUDED_URLS``). OTLP goes over HTTP/protobuf.

When on, the request id of the logs (web/logs.py) is the trace id, so a log line leads to its trace.
Each scheduled job run is a span too (``job <name>``: web/worker/scheduler.py). Tests hand a provider of
their own through the ``OTEL_TRACER_PROVIDER`` setting.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine

EXTENSION = "silkway.tracing"
log = logging.getLogger("silkway.tracing")


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The exporters the environment asks for; empty when tracing is off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if not names and endpoint:
        names = ["otlp"]
    return [n for n in names if n != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter | None:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL"
        )
        if protocol and protocol != "http/protobuf":
            log.warning("OTLP protocol %r is not installed; exporting over http/protobuf", protocol)
        return OTLPSpanExporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    log.warning("unknown OTEL_TRACES_EXPORTER %r ignored (Silkway knows otlp, console, none)", name)
    return None


def provider_from_environment(environ: Mapping[str, str]) -> TracerProvider | None:
    """A tracer provider exporting in batches to what the environment names; None when tracing is off."""
    names = exporter_names(environ)
    if not names:
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or "silkway"})
    )
    for name in names:
        exporter = _exporter(name, environ)
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))  # re-made in forked workers
    return provider


def trace_engine(provider: TracerProvider, engine: Engine) -> None:
    """Trace every statement ``engine`` runs (a span per statement, child of the current span)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import get_meter
    from opentelemetry.trace import get_tracer

    name = "opentelemetry.instrumentation.sqlalchemy"
    usage = get_meter(name, __version__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(get_tracer(name, __version__, provider), engine, usage)  # type: ignore[no-untyped-call]


def instrument(app: Flask, provider: TracerProvider) -> None:
    """Trace the app's requests, its database's statements and this process's urllib requests."""
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.urllib import URLLibInstrumentor

    FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
        app, tracer_provider=provider, enable_commenter=False
    )
    database: Any = app.extensions["silkway.db"]
    database.on_engine.append(lambda engine: trace_engine(provider, engine))
    urllib = URLLibInstrumentor()
    if not urllib.is_instrumented_by_opentelemetry:
        urllib.instrument(tracer_provider=provider)
    app.extensions[EXTENSION] = provider


def init_app(app: Flask) -> None:
    """Turn tracing on when the environment (or a test's OTEL_TRACER_PROVIDER) asks; call it before
    web.logs.init_app, so that a request's span exists when its request id is chosen."""
    provider: TracerProvider | None = app.config.get("OTEL_TRACER_PROVIDER")
    if provider is None:
        provider = provider_from_environment(os.environ)
        if provider is None:
            return
        from opentelemetry import trace

        trace.set_tracer_provider(provider)  # the process's, once; later calls are ignored with a warning
    instrument(app, provider)


def job_span(app: Flask, name: str) -> AbstractContextManager[object]:
    """A span around one scheduled job run (its statements and requests are its children) when traced."""
    provider: TracerProvider | None = app.extensions.get(EXTENSION)
    if provider is None:
        return nullcontext()
    return provider.get_tracer("silkway.scheduler").start_as_current_span(f"job {name}")


def current_trace_id() -> str | None:
    """The current request's trace id (32 hex digits) when this app traces, else None."""
    if EXTENSION not in current_app.extensions:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
