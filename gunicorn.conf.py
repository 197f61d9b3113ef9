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

# Prometheus counters from every worker are aggregated through files in one directory (multiprocess
# mode); it must be set before the app (and prometheus_client) is imported, hence here.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="silkway-metrics-")


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the aggregated metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
