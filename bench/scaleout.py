"""Throughput per service process, and the CPU each request costs the service and PostgreSQL.

Run with ``flock /tmp/platoons-bench.lock .venv/bin/python -m bench.scaleout``. It serves the
all-England database named by ``PLATOONS_DATABASE_URL`` (loaded with ``platoons load
england``; the example programmes are imported if no programme is open, so clicks have
programmes to check) with ``platoons serve --workers N`` for each N of ``--workers``, and
drives it from this process with ``--concurrency`` asyncio clients for ``--seconds`` per kind:

=============== =====================================================================
kind            request
=============== =====================================================================
tile (cached)   GET lsoa-iod2025 tiles, z8-z12, from a fixed set of 200 warmed first
tile (rendered) GET lsoa-iod2025 tiles, z13-z14, each requested once (a cache miss)
click           GET /eligibility?lon=&lat= (every open programme) at a random LSOA point
lookup          GET /lookup?lon=&lat= at a random LSOA point
=============== =====================================================================

For each kind it reports requests per second, p50 and p99, errors, and the CPU seconds per
request of the service processes (the ``platoons serve`` process and its workers) and of the
PostgreSQL backends serving them (``application_name = 'platoons'``), read from /proc before
and after. The load generator runs on the same machine and shares its cores. Results are
printed as markdown and written to ``bench/results/scaleout-<run id>.json``; the run id is
the UTC start time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import morecantile
import psycopg

from bench import harness
from bench.foundation import sample_points
from tests.utils.services import free_port

LAYER = "lsoa-iod2025"
TMS = morecantile.tms.get("WebMercatorQuad")
EXAMPLE_PROGRAMMES = Path(__file__).resolve().parents[1] / "data" / "programmes" / "examples.yaml"


@dataclass
class KindResult:
    """One kind of request against one server configuration."""

    workers: int
    kind: str
    requests: int
    errors: dict[str, int]
    seconds: float
    req_per_s: float
    p50_ms: float
    p99_ms: float
    service_cpu_ms_per_req: float
    database_cpu_ms_per_req: float
    client_cpu_ms_per_req: float
    load_average: float


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=20.0, help="per kind (%(default)s)")
    parser.add_argument("--concurrency", type=int, default=16, help="clients (%(default)s)")
    parser.add_argument("--seed", type=int, default=21)
    return parser.parse_args(argv)


def children(pid: int) -> list[int]:
    """Every descendant process of ``pid`` (uvicorn's workers)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found + [grandchild for child in found for grandchild in children(child)]


def cpu_of(pids: Sequence[int]) -> dict[int, float]:
    """CPU seconds used so far by each process still running."""
    used = {}
    for pid in pids:
        try:
            used[pid] = harness.process_cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue
    return used


def backend_pids(dsn: str) -> list[int]:
    """The PostgreSQL backends of the service's pools (and its data-version watcher)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name LIKE 'platoons%%'"
        ).fetchall()
    return [int(r[0]) for r in rows]


@contextmanager
def serving(dsn: str, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``platoons serve --workers N`` on a free loopback port; yields its URL and pid."""
    port = free_port()
    env = {**os.environ, "PLATOONS_DATABASE_URL": dsn, "PLATOONS_ACCESS_LOG": "false"}
    env["PLATOONS_HOUSEKEEPING"] = "false"
    command = [
        harness.platoons_executable(),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        harness.wait_for_health(process, url, log)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


async def drive(
    url: str, next_path: Callable[[], str | None], seconds: float, concurrency: int
) -> tuple[list[float], Counter[str], float]:
    """Send requests from ``next_path`` for ``seconds``; latencies, errors, elapsed."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            path = next_path()
            if path is None:
                return
            started = time.perf_counter()
            try:
                response = await client.get(path, headers={"Accept-Encoding": "gzip"})
                if response.status_code >= 400:
                    errors[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60.0) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


def tile_path(tile: morecantile.Tile) -> str:
    """A tile's URL path."""
    return f"/collections/{LAYER}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"


def ensure_open_programmes(dsn: str) -> None:
    """Import the example programmes if none is open today (clicks need programmes)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM grant_programme WHERE opens_on <= current_date"
            " AND (closes_on IS NULL OR closes_on >= current_date)"
        ).fetchone()
    if row and row[0]:
        return
    env = {**os.environ, "PLATOONS_DATABASE_URL": dsn}
    subprocess.run(
        [harness.platoons_executable(), "programmes", "import", str(EXAMPLE_PROGRAMMES)],
        env=env,
        check=True,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every kind at every worker count; return the result document."""
    dsn = os.environ["PLATOONS_DATABASE_URL"]
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ensure_open_programmes(dsn)
    rng = random.Random(args.seed)
    points = sample_points(dsn, [2021], 4000, args.seed)
    cached = list(
        dict.fromkeys(TMS.tile(lon, lat, rng.randint(8, 12)) for lon, lat in points[:2000])
    )[:200]
    unseen: list[morecantile.Tile] = list(
        dict.fromkeys(TMS.tile(lon, lat, rng.choice((13, 14))) for lon, lat in points)
    )
    rng.shuffle(unseen)
    results: list[KindResult] = []
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for workers in args.workers:
        log = harness.RESULTS_DIR / f"scaleout-{run_id}-serve-{workers}.log"
        with serving(dsn, workers, log) as (url, pid):
            service = [pid, *children(pid)]
            fresh = iter(unseen)  # each rendered tile once per server (its cache starts empty)
            warm = iter(cached * 3)  # every tile three times: each worker very likely has it
            asyncio.run(drive(url, lambda w=warm: (t := next(w, None)) and tile_path(t), 600, 8))
            kinds: dict[str, Callable[[], str | None]] = {
                "tile (cached)": lambda: tile_path(rng.choice(cached)),
                "tile (rendered)": lambda f=fresh: (t := next(f, None)) and tile_path(t),
                "click": lambda: "/eligibility?lon={}&lat={}".format(*rng.choice(points)),
                "lookup": lambda: "/lookup?lon={}&lat={}".format(*rng.choice(points)),
            }
            for kind, next_path in kinds.items():
                backends = backend_pids(dsn)
                before = cpu_of(service) | {-p: c for p, c in cpu_of(backends).items()}
                client_before = time.process_time()
                latencies, errors, elapsed = asyncio.run(
                    drive(url, next_path, args.seconds, args.concurrency)
                )
                client_cpu = time.process_time() - client_before
                backends = sorted(set(backends) | set(backend_pids(dsn)))
                after = cpu_of(service) | {-p: c for p, c in cpu_of(backends).items()}
                service_cpu = sum(after[p] - before.get(p, 0.0) for p in after if p > 0)
                database_cpu = sum(after[p] - before.get(p, 0.0) for p in after if p < 0)
                done = len(latencies)
                ordered = sorted(latencies)
                results.append(
                    KindResult(
                        workers=workers,
                        kind=kind,
                        requests=done,
                        errors=dict(errors),
                        seconds=round(elapsed, 2),
                        req_per_s=round(done / elapsed, 1),
                        p50_ms=round(statistics.median(ordered) * 1000, 2),
                        p99_ms=round(harness.percentile(ordered, 99) * 1000, 2),
                        service_cpu_ms_per_req=round(service_cpu / done * 1000, 3),
                        database_cpu_ms_per_req=round(database_cpu / done * 1000, 3),
                        client_cpu_ms_per_req=round(client_cpu / done * 1000, 3),
                        load_average=round(os.getloadavg()[0], 1),
                    )
                )
                print(results[-1])
    return {
        "run_id": run_id,
        "command": "flock /tmp/platoons-bench.lock .venv/bin/python -m bench.scaleout "
        + " ".join(
            f"--{k} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items()
        ),  # fmt: skip
        "machine": harness.machine_facts(),
        "load_average_at_start": os.getloadavg(),
        "results": [asdict(r) for r in results],
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the table and write the JSON result."""
    result = run(parse_args(argv))
    path = harness.RESULTS_DIR / f"scaleout-{result['run_id']}.json"
    path.write_text(json.dumps(result, indent=1))
    header = ["workers", "kind", "requests", "errors", "req/s", "p50 ms", "p99 ms"]
    header += ["service CPU ms/req", "PostgreSQL CPU ms/req", "client CPU ms/req", "load avg"]
    rows = [
        [r["workers"], r["kind"], r["requests"], sum(r["errors"].values()) or 0]
        + [r["req_per_s"], r["p50_ms"]]
        + [r["p99_ms"], r["service_cpu_ms_per_req"], r["database_cpu_ms_per_req"]]
        + [r["client_cpu_ms_per_req"], r["load_average"]]
        for r in result["results"]
    ]
    print(f"run {result['run_id']}: {result['command']}")
    print(harness.markdown_table(header, rows))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
