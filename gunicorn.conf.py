"""gunicorn defaults for Silkway (override any of them on the command line or with GUNICORN_CMD_ARGS)."""

import multiprocessing
import os

bind = os.environ.get("SILKWAY_BIND", "127.0.0.1:8000")
# Sync workers: each request is short and CPU-bound (parsing, SQL); 2 per core is the usual start.
workers = int(os.environ.get("SILKWAY_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# preload_app is safe: create_app makes no database connection; each worker makes its own engine.
preload_app = True
accesslog = "-" if os.environ.get("SILKWAY_ACCESS_LOG") else None
errorlog = "-"
# gunicorn's largest request line (its default is 4094): targets up to web.access.request_target's limit
# (4,096 bytes) are served, longer ones up to here get the app's own 414 (problem+json on /api/).
limit_request_line = 8190

# Prometheus counters from every worker are aggregated through files in one directory (multiprocess
# mode); it must be set before the app (and prometheus_client) is imported, hence here.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="silkway-metrics-")


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the aggregated metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _per_worker_limits(server):
    """What web.access.limit_storage says about this many workers on this rate-limit storage."""
    from web.access.limit_storage import check_workers, startup_config

    return check_workers(startup_config(), server.cfg.workers)


def on_starting(server):
    """Refuse several workers that would each count rate limits alone (memory://), unless allowed."""
    check = _per_worker_limits(server)
    if check is not None and check.refuse:
        raise RuntimeError(check.message)  # gunicorn prints "Error: …" and exits 1


def when_ready(server):
    """The master says it loudly when per-worker budgets were allowed."""
    check = _per_worker_limits(server)
    if check is not None:
        server.log.warning("%s", check.message)


def post_fork(server, worker):
    """And so does every worker, as it starts."""
    check = _per_worker_limits(server)
    if check is not None:
        worker.log.warning("worker %s: %s", worker.pid, check.message)
