"""Lookup speed on a large PostgreSQL database: the parcel API and the shopper page against /healthz.

Against live gunicorns (rate limits off, access log off; /healthz on a second one of its own, so that its
load does not recycle the lookup workers through max_requests) it measures, in the same run and
interleaved so that a noisy neighbour hurts every target alike:
- ``GET /healthz`` — the baseline: Flask, gunicorn and the load generator, no database;
- ``GET /readyz`` — one ``SELECT 1`` round trip to PostgreSQL on a pooled connection, in autocommit: the
  ceiling of anything that asks the database once (a lookup does that, plus its query, view and ETA);
- ``GET /api/v1/parcels/{n}`` — the public API on random numbers from the seeded set (mostly of
  delivered parcels, as in a real tracker's history);
- ``GET /track/{n}`` — the shopper's page (HTML) on the same numbers;
- ``GET /api/v1/parcels/{n} (under way)`` — the public API on random numbers of parcels not delivered
  (journeys started in the last weeks, and the few lost ones) — a second numbers file.

The load generator is ``wrk`` (Debian package ``wrk``) with a Lua script that picks a random number for
each request; without wrk a Python generator (threads, one ``http.client`` connection each) is used and
says so. Each target runs ``--repeats`` times under two loads: saturating (``--connections``, more than the
workers: throughput, and latency including queueing) and light (``--light``, fewer connections than
workers: latency without queueing). Medians are reported, with the ratio of requests/s to /healthz's.

``--tracing`` measures tracing's cost instead: the parcel API on two gunicorns alike but for the ``OTEL_*``
variables, one with tracing off (the default, which imports no OpenTelemetry module at all), one with it on
(web/tracing.py: ``OTEL_TRACES_EXPORTER=otlp`` to a stand-in collector on loopback), interleaved run by run
beside /healthz.

``--replica`` measures reads on a streaming replica instead: a primary of the benchmark's own, seeded, with
one streaming replica (bench/replicated.py), and the parcel API on two gunicorns alike but for
``SILKWAY_DATABASE_REPLICA_URLS`` (0 replicas: every lookup reads the primary; 1 replica: they read the
replica), interleaved run by run beside /healthz, with the primary's CPU time per lookup (all of its
processes, from /proc) for each: on a machine where the replica shares the cores, that is what a replica
takes off the primary.

Usage: ``python bench/lookups.py [--full | --parcels 100000] [--workers 4] [--duration 10] [--repeats 3]
[--tracing | --replica]``
(``--full``: 1,000,000 parcels and about 10,000,000 events, seeded by bench/seed_large.py when not
already there or when its newest scan is over 2 days old).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import gunicorn, otlp_sink
from bench.replicated import Pair, replicated_pair
from bench.seed_large import FULL_PARCELS, ensure_seeded, large_url, libpq_url

WRK_SCRIPT = r"""
local numbers = {}
local prefix = os.getenv("SILKWAY_PREFIX")
local fixed = os.getenv("SILKWAY_FIXED")
if fixed == nil then
  for line in io.lines(os.getenv("SILKWAY_NUMBERS")) do numbers[#numbers + 1] = line end
end
local counter = 0

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  if fixed ~= nil then return wrk.format("GET", fixed) end
  return wrk.format("GET", prefix .. numbers[math.random(#numbers)])
end

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One load run against one target."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """A URL pattern to load: fixed, or a prefix followed by a random seeded number."""

    name: str
    prefix: str
    fixed: bool = False
    in_flight: bool = False  # numbers of parcels under way only
    traced: bool = False  # on the gunicorn with tracing on (--tracing)
    replica: bool = False  # on the gunicorn reading on a replica (--replica)


TARGETS = [
    Target("GET /healthz (baseline)", "/healthz", fixed=True),
    Target("GET /readyz (one SELECT 1)", "/readyz", fixed=True),
    Target("GET /api/v1/parcels/{n}", "/api/v1/parcels/"),
    Target("GET /track/{n}", "/track/"),
    Target("GET /api/v1/parcels/{n} (under way)", "/api/v1/parcels/", in_flight=True),
]
# --tracing: the parcel API on two gunicorns alike but for the OTEL_* variables, interleaved
TRACING_TARGETS = [
    TARGETS[0],
    Target("GET /api/v1/parcels/{n} (tracing off)", "/api/v1/parcels/"),
    Target("GET /api/v1/parcels/{n} (tracing on)", "/api/v1/parcels/", traced=True),
]
# --replica: the parcel API with 0 and with 1 streaming replica, interleaved
REPLICA_TARGETS = [
    TARGETS[0],
    Target("GET /api/v1/parcels/{n} (0 replicas)", "/api/v1/parcels/"),
    Target("GET /api/v1/parcels/{n} (1 replica)", "/api/v1/parcels/", replica=True),
    Target("GET /track/{n} (0 replicas)", "/track/"),
    Target("GET /track/{n} (1 replica)", "/track/", replica=True),
]


def sample_numbers(url: str, count: int, seed: int = 7, in_flight: bool = False) -> list[str]:
    """``count`` tracking numbers of the seeded set, spread over the whole table.

    ``in_flight``: only numbers of parcels under way (whose status is not ``delivered``).
    """
    with psycopg.connect(libpq_url(url)) as conn:
        rng = random.Random(seed)
        if in_flight:
            found = conn.execute(
                "SELECT i.id FROM identifiers AS i JOIN parcels AS p ON p.id = i.parcel_id"
                " WHERE p.status <> 'delivered' ORDER BY i.id"
            ).fetchall()
            assert found, "the database holds no parcel under way: seed it first"
            ids = sorted(rng.sample([int(r[0]) for r in found], min(count, len(found))))
        else:
            total = conn.execute("SELECT max(id) FROM identifiers").fetchone()
            assert total and total[0], "the database holds no identifiers: seed it first"
            ids = sorted(rng.sample(range(1, int(total[0]) + 1), min(count, int(total[0]))))
        rows = conn.execute("SELECT number FROM identifiers WHERE id = ANY(%s)", (ids,)).fetchall()
    numbers = [str(r[0]) for r in rows]
    rng.shuffle(numbers)
    return numbers


def eta_cache_counts(base: str) -> tuple[float, float]:
    """(hits, misses) of the lookup ETA cache so far, summed over the workers (from ``/metrics``)."""
    counts = {"hit": 0.0, "miss": 0.0}
    with urlopen(base + "/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("silkway_eta_cache_total{"):
                result = line.split('result="', 1)[1].split('"', 1)[0]
                counts[result] = counts.get(result, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts["hit"], counts["miss"]


def wrk_run(base: str, target: Target, numbers_file: Path, script: Path, args: argparse.Namespace) -> Run:
    """One wrk run; parses the JSON line the Lua script prints."""
    env = {**os.environ, "SILKWAY_PREFIX": target.prefix, "SILKWAY_NUMBERS": str(numbers_file)}
    if target.fixed:
        env["SILKWAY_FIXED"] = target.prefix
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(raw for raw in out.splitlines() if raw.startswith("{"))
    data = json.loads(line)
    seconds = data["duration_us"] / 1e6
    return Run(
        data["requests"] / seconds,
        data["p50_us"] / 1000,
        data["p90_us"] / 1000,
        data["p99_us"] / 1000,
        data["non_2xx"] + data["socket_errors"],
        data["requests"],
    )


def python_run(base: str, target: Target, numbers: list[str], args: argparse.Namespace) -> Run:
    """The fallback load generator: ``connections`` threads, each on its own keep-alive connection."""
    host = urlparse(base)
    deadline = time.perf_counter() + args.duration
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            path = target.prefix if target.fixed else target.prefix + rng.choice(numbers)
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    bad += 1
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(args.connections)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Run(len(latencies) / elapsed, pct(0.5), pct(0.9), pct(0.99), errors[0], len(latencies))


def replica_env(replica_url: str) -> dict[str, str]:
    """Reads on the replica at ``replica_url`` (web/replicas.py), as a deployment would set them."""
    return {"SILKWAY_DATABASE_REPLICA_URLS": replica_url}


def tracing_env(endpoint: str) -> dict[str, str]:
    """The standard variables that turn tracing on (web/tracing.py), exporting to ``endpoint``."""
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_SERVICE_NAME": "silkway-bench",
    }


def main() -> None:
    """Seed (or reuse) the large database, serve it with gunicorn and load each target in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="1,000,000 parcels and about 10,000,000 events")
    parser.add_argument("--url", default=None, help="default: the silkway_large database on the test server")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="saturating load: more than the workers")
    parser.add_argument(
        "--light", type=int, default=2, help="connections of the light-load pass (fewer than the workers)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20_000, help="how many seeded numbers to pick from")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator")
    parser.add_argument("--tracing", action="store_true", help="tracing off and on, side by side")
    parser.add_argument("--replica", action="store_true", help="0 and 1 streaming replica, side by side")
    args = parser.parse_args()
    targets = TRACING_TARGETS if args.tracing else REPLICA_TARGETS if args.replica else TARGETS
    parcels = FULL_PARCELS if args.full else args.parcels
    with contextlib.ExitStack() as clusters:
        pair = clusters.enter_context(replicated_pair(parcels)) if args.replica else None
        url = pair.primary_url if pair is not None else args.url or large_url(parcels)
        if pair is None:
            ensure_seeded(url, parcels)
        measure(args, targets, parcels, url, pair)


def measure(
    args: argparse.Namespace, targets: list[Target], parcels: int, url: str, pair: Pair | None
) -> None:
    """Serve ``url`` with gunicorn (and the replica of ``pair``) and load each target in turn."""
    numbers = sample_numbers(url, args.sample)
    under_way = sample_numbers(url, args.sample, in_flight=True)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    if not use_wrk and not args.python_load:
        print("wrk is not installed (apt-get install -y wrk); using the slower Python load generator")
    tmp = Path(tempfile.mkdtemp(prefix="silkway-lookups-"))
    samples = {False: numbers, True: under_way}  # by Target.in_flight
    files = {flight: tmp / f"numbers{'-under-way' if flight else ''}.txt" for flight in samples}
    for flight, path in files.items():
        path.write_text("\n".join(samples[flight]) + "\n")
    script = tmp / "lookup.lua"
    script.write_text(WRK_SCRIPT)
    generator = f"wrk -t{args.threads} -c{args.connections}" if use_wrk else f"python x{args.connections}"
    print(
        f"{parcels:,} parcels; gunicorn {args.workers} sync workers; {generator}, {args.duration} s per run, "
        f"{args.repeats} repeats; {len(numbers):,} random seeded numbers ({len(under_way):,} more of parcels "
        f"under way); {os.cpu_count()} cores"
    )
    width = max(len(t.name) for t in targets)
    loads = [("saturated", args.connections), ("light", args.light)]
    runs: dict[tuple[str, str], list[Run]] = {(t.name, label): [] for t in targets for label, _ in loads}
    cpu_ms: dict[tuple[str, str], list[float]] = {key: [] for key in runs}  # --replica: primary CPU per run
    # /healthz gets a gunicorn of its own: its thousands of requests a second would otherwise reach
    # max_requests and recycle the lookup workers (and with them their warm state) during the runs.
    with contextlib.ExitStack() as stack:
        lookups = stack.enter_context(gunicorn(url, workers=args.workers))
        health = stack.enter_context(gunicorn(url, workers=args.workers))
        sink = stack.enter_context(otlp_sink()) if args.tracing else None
        traced = (
            stack.enter_context(gunicorn(url, workers=args.workers, extra_env=tracing_env(sink.endpoint)))
            if sink is not None
            else lookups
        )
        on_replica = (
            stack.enter_context(gunicorn(url, workers=args.workers, extra_env=replica_env(pair.replica_url)))
            if pair is not None
            else lookups
        )

        def base_of(target: Target) -> str:
            if target.replica:
                return on_replica
            return health if target.fixed else traced if target.traced else lookups

        for target in targets:  # warm-up: imports, templates, connection pools, PostgreSQL's cache
            warm = argparse.Namespace(**{**vars(args), "duration": 3})
            base = base_of(target)
            if use_wrk:
                wrk_run(base, target, files[target.in_flight], script, warm)
            else:
                python_run(base, target, samples[target.in_flight], warm)
        for repeat in range(args.repeats):
            for label, connections in loads:
                opts = argparse.Namespace(
                    **{**vars(args), "connections": connections, "threads": min(args.threads, connections)}
                )
                for target in targets:
                    base = base_of(target)
                    hits, misses = eta_cache_counts(base)
                    cpu = pair.primary_cpu() if pair is not None else {}
                    run = (
                        wrk_run(base, target, files[target.in_flight], script, opts)
                        if use_wrk
                        else python_run(base, target, samples[target.in_flight], opts)
                    )
                    if pair is not None and run.requests:
                        cpu_ms[(target.name, label)].append(
                            pair.primary_cpu_since(cpu) * 1000 / run.requests
                        )
                    runs[(target.name, label)].append(run)
                    hits, misses = (
                        a - b for a, b in zip(eta_cache_counts(base), (hits, misses), strict=True)
                    )
                    share = (
                        f"  ETA cache hits {hits / (hits + misses):4.0%}"
                        if hits + misses and not target.fixed
                        else ""
                    )
                    cpu_text = (
                        f"  primary CPU {cpu_ms[(target.name, label)][-1]:5.2f} ms/request"
                        if cpu_ms.get((target.name, label))
                        else ""
                    )
                    print(
                        f"  run {repeat + 1} {label:9} c={connections:<2} {target.name:{width}} "
                        f"{run.rps:8,.0f} req/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  "
                        f"errors {run.errors}{share}{cpu_text}",
                        flush=True,
                    )
        if sink is not None:
            print(f"  the stand-in collector received {sink.requests:,} OTLP exports, {sink.bytes:,} bytes")
    shutil.rmtree(tmp, ignore_errors=True)
    for label, connections in loads:
        baseline = statistics.median(r.rps for r in runs[(TARGETS[0].name, label)])
        print(f"\n{label} load ({connections} connections): medians of {args.repeats} runs")
        for target in targets:
            rs = runs[(target.name, label)]
            rps = statistics.median(r.rps for r in rs)
            print(
                f"  {target.name:{width}} {rps:8,.0f} req/s ({rps / baseline:5.0%} of /healthz)  "
                f"p50 {statistics.median(r.p50_ms for r in rs):6.1f} ms  "
                f"p90 {statistics.median(r.p90_ms for r in rs):6.1f} ms  "
                f"p99 {statistics.median(r.p99_ms for r in rs):6.1f} ms  errors {sum(r.errors for r in rs)}"
                + (
                    f"  primary CPU {statistics.median(cpu_ms[(target.name, label)]):5.2f} ms/request"
                    if cpu_ms[(target.name, label)]
                    else ""
                )
            )


if __name__ == "__main__":
    main()
