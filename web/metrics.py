"""Prometheus metrics (``/metrics``), correct across gunicorn workers, for operators only.

With several worker processes each keeps its own counters; prometheus-client's multiprocess mode
aggregates them from files in ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets it up and marks dead
workers). In a single process the default registry is used.

Who may read them: with ``METRICS_TOKEN`` set, a request presenting ``Authorization: Bearer <token>``
(anything else: 401); without it, loopback clients only (anyone else: 403). A request is from loopback
when the peer that connected (before ``PROXY_HOPS`` rewrote the address), the address ``PROXY_HOPS``
trusts and every address it was forwarded for (``X-Forwarded-For``, ``X-Real-IP``, ``Forwarded``) are all
loopback: a request forwarded by a proxy on this machine from a client elsewhere is not.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from spectree import Response as Doc
from sqlalchemy import func, select

from web.errors import Problem
from web.openapi import BEARER, spec

bp = Blueprint("metrics", __name__)

REQUEST_SECONDS = Histogram(
    "silkway_http_request_seconds",
    "HTTP request latency by endpoint",
    ["method", "endpoint", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS = Counter("silkway_events_total", "carrier events by outcome", ["carrier", "outcome"])
PARSE_ERRORS = Counter(
    "silkway_parse_errors_total", "payloads or items a carrier adapter refused", ["carrier"]
)
JOB_RUNS = Counter("silkway_job_runs_total", "scheduler job runs by result", ["job", "status"])
JOB_SECONDS = Histogram("silkway_job_seconds", "scheduler job duration", ["job"])
# web/replicas.py: how far each replica is behind the primary (+Inf while unreachable), and where reads went
REPLICA_LAG = Gauge(
    "silkway_db_replica_lag_seconds", "replay lag per replica", ["replica"], multiprocess_mode="livemax"
)
DB_READS = Counter("silkway_db_reads_total", "routed reads by where they ran", ["target"])


class BacklogCollector(Collector):
    """Reads the webhook backlog from the database at scrape time (the same for every worker)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily("silkway_webhook_backlog", "webhook messages waiting to be delivered")
        try:
            from tracking.models import OutboxMessage

            with self.app.app_context():
                session = self.app.extensions["silkway.db"].session()
                try:
                    pending = session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.state == "pending")
                    )
                finally:
                    session.close()
            gauge.add_metric([], float(pending or 0))
        except Exception:  # a scrape must not fail because the database is away
            return
        yield gauge


def record_ingest(carrier: str, accepted: int, duplicates: int, rejected: int) -> None:
    """Count one payload's outcome."""
    EVENTS.labels(carrier, "accepted").inc(accepted)
    EVENTS.labels(carrier, "duplicate").inc(duplicates)
    if rejected:
        EVENTS.labels(carrier, "rejected").inc(rejected)
        PARSE_ERRORS.labels(carrier).inc(rejected)


def init_app(app: Flask) -> None:
    """Time every request and serve /metrics."""

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            REQUEST_SECONDS.labels(request.method, endpoint, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    app.extensions["silkway.backlog"] = BacklogCollector(app)
    app.register_blueprint(bp)


_FORWARDED_FOR = re.compile(r'for="?\[?([^\]";,]+)', re.IGNORECASE)


def _is_loopback(address: str | None) -> bool:
    if not address:
        return False
    address = address.strip()
    if address.count(":") == 1:  # an IPv4 address with its port
        address = address.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def from_loopback() -> bool:
    """True when every hop of this request was on this machine's loopback (see the module's doc)."""
    environ = request.environ
    peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", environ.get("REMOTE_ADDR"))
    addresses = [peer, request.remote_addr]
    for name in ("X-Forwarded-For", "X-Real-IP"):
        for value in request.headers.getlist(name):
            addresses += value.split(",")
    for value in request.headers.getlist("Forwarded"):
        addresses += _FORWARDED_FOR.findall(value) or [""]
    return all(_is_loopback(address) for address in addresses)


def _operators_only() -> None:
    token = current_app.config.get("METRICS_TOKEN")
    if token not in (None, ""):
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), str(token).encode()
        ):
            raise Problem(
                401,
                "Unauthorized",
                "/metrics needs Authorization: Bearer <SILKWAY_METRICS_TOKEN>",
                slug="metrics-token-required",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    elif not from_loopback():
        raise Problem(
            403,
            "Forbidden",
            "/metrics answers loopback clients only; set SILKWAY_METRICS_TOKEN to scrape it from elsewhere",
            slug="metrics-loopback-only",
        )


@bp.get("/metrics")
@spec.validate(
    tags=["operators"], resp=Doc("HTTP_200", "HTTP_401", "HTTP_403"), security=BEARER, skip_validation=True
)
def metrics() -> Response:
    """Prometheus metrics in the text exposition format, for operators: `Authorization: Bearer
    <SILKWAY_METRICS_TOKEN>` when that is set, else loopback clients only (others: 403)."""
    _operators_only()
    registry: CollectorRegistry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    backlog = CollectorRegistry()
    backlog.register(current_app.extensions["silkway.backlog"])
    body += generate_latest(backlog)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
