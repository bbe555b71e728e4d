"""Clicks benchmark (issue 20, item 4): map clicks against the HTTP ceiling of the same server.

Run with ``.venv/bin/python -m bench.clicks``. One ``platoons serve`` process on an
all-England database answers three paths over the same keep-alive ``httpx`` clients:

* ``GET /conformance``: a static document, no database: what the HTTP stack alone reaches;
* ``GET /lookup?lon&lat``: the LSOA, district and ward at a point, with every index value;
* ``GET /eligibility?lon&lat``: every open grant programme's verdict at the point.

Points are seeded random points inside seeded random LSOAs of the current edition's geography
(``bench.foundation.sample_points``). At 20 clients the three paths take turns, round by round
(a busy moment on the shared machine hits all three), and each path's throughput is the median
of its rounds; the targets are ratios against ``/conformance`` in the same run. At one client
the warm p50 is taken the same way; the "first pass" restarts the server and sends each path
points it has never seen (its own seeded set) once, at one client.

Results are printed as markdown and written to ``bench/results/clicks-<UTC timestamp>.json``.
Needs a database loaded by ``platoons load england`` with the example programmes imported
(``python -m bench.eligibility`` does both; or ``platoons programmes import``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from bench import harness
from bench.foundation import points_digest, sample_points
from geo.sqlfiles import read_sql

Point = tuple[float, float]
PATHS = ("/conformance", "/lookup", "/eligibility")
TARGET_RATIO = 0.7  # each click path's req/s at 20 clients over /conformance's
TARGET_WARM_P50_MS = 5.0
TARGET_FIRST_P50_MS = 10.0
REQUEST_TIMEOUT_SECONDS = 30.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.clicks", description=__doc__)
    harness.add_database(
        parser, "loaded database on the configured server to serve (default %(default)s)"
    )
    parser.add_argument("--points", type=int, default=120, help="points (%(default)s)")
    parser.add_argument("--seed", type=int, default=20, help="point seed (%(default)s)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per path and concurrency (%(default)s)"
    )
    harness.add_concurrency(parser, [1, 20])
    args = parser.parse_args(argv)
    if args.points < 10 or args.rounds < 1 or min(args.concurrency) < 1:
        parser.error("need --points >= 10, --rounds >= 1 and --concurrency >= 1")
    return args


def request_params(path: str, point: Point) -> dict[str, str]:
    """The query of one request (none for /conformance)."""
    if path == "/conformance":
        return {}
    return {"lon": f"{point[0]:.6f}", "lat": f"{point[1]:.6f}"}


async def one_pass(
    base: str, path: str, points: Sequence[Point], concurrency: int
) -> dict[str, Any]:
    """Send one request per point with ``concurrency`` workers; time each and the pass."""
    latencies: list[float] = []
    errors: list[str] = []
    queue = iter(points)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:
        # One request per slot first, so each pass starts with its connections open.
        await asyncio.gather(*(client.get("/health") for _ in range(concurrency)))

        async def worker() -> None:
            for point in queue:
                start = time.perf_counter()
                response = await client.get(path, params=request_params(path, point))
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors.append(f"{path} {point}: {response.status_code} {response.text[:120]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    lat = sorted(latencies)
    return {
        "path": path,
        "concurrency": concurrency,
        "requests": len(lat),
        "req_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat), 2),
        "p90_ms": round(harness.percentile(lat, 90), 2),
        "p99_ms": round(harness.percentile(lat, 99), 2),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def median_of(rounds: Sequence[dict[str, Any]], key: str) -> float:
    """The median of one figure over a path's rounds."""
    return float(statistics.median(r[key] for r in rounds))


def p50_check(what: str, p50_ms: float, limit_ms: float) -> dict[str, Any]:
    """A one-client latency target: ``what`` at most ``limit_ms``."""
    return {
        "target": f"{what} <= {limit_ms:.0f} ms (c=1)",
        "measured": f"{p50_ms:.2f} ms",
        "result": harness.verdict(p50_ms <= limit_ms),
    }


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge issue 20's click targets from the run's figures."""
    checks: list[dict[str, Any]] = []
    warm = result["warm"]
    top = max(result["settings"]["concurrency"])
    ceiling = warm.get(f"/conformance c={top}")
    for path in ("/lookup", "/eligibility"):
        measured = warm.get(f"{path} c={top}")
        if ceiling and measured:
            ratio = measured["req_per_s_median"] / ceiling["req_per_s_median"]
            checks.append(
                {
                    "target": f"{path} req/s >= {TARGET_RATIO:.1f}x /conformance (c={top})",
                    "measured": f"{ratio:.2f}x ({measured['req_per_s_median']:.0f} vs "
                    f"{ceiling['req_per_s_median']:.0f} req/s)",
                    "result": harness.verdict(ratio >= TARGET_RATIO and measured["errors"] == 0),
                }
            )
        one = warm.get(f"{path} c=1")
        if one:
            checks.append(p50_check(f"{path} warm p50", one["p50_ms_median"], TARGET_WARM_P50_MS))
        first = result["first_pass"].get(path)
        if first:
            checks.append(
                p50_check(
                    f"{path} first-pass p50 after a restart", first["p50_ms"], TARGET_FIRST_P50_MS
                )
            )
    return checks


def report(result: dict[str, Any]) -> str:
    """The markdown tables of one run."""
    rows = [
        [
            key,
            " / ".join(f"{r['req_per_s']:.0f}" for r in entry["rounds"]),
            f"{entry['req_per_s_median']:.0f}",
            f"{entry['p50_ms_median']:.2f}",
            f"{median_of(entry['rounds'], 'p99_ms'):.2f}",
            entry["errors"],
        ]
        for key, entry in result["warm"].items()
    ]
    rows += [
        [
            f"{path} c=1, first pass after a restart",
            f"{entry['req_per_s']:.0f}",
            f"{entry['req_per_s']:.0f}",
            f"{entry['p50_ms']:.2f}",
            f"{entry['p99_ms']:.2f}",
            entry["errors"],
        ]
        for path, entry in result["first_pass"].items()
    ]
    table = harness.markdown_table(
        ["path", "req/s by round", "req/s (median)", "p50 ms", "p99 ms", "errors"], rows
    )
    return table + "\n\n" + harness.targets_table(result["targets"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 0 when every target passes, 1 otherwise."""
    args = parse_args(argv)
    _, url = harness.database_urls()
    url = urlunsplit(urlsplit(url)._replace(path=f"/{args.database}"))
    started, stamp = harness.start_run(harness.RESULTS_DIR)
    log_path = harness.RESULTS_DIR / f"clicks-{stamp}-platoons.log"
    with psycopg.connect(url) as conn:
        # The edition /lookup and /eligibility use when none is named (the current one).
        edition = conn.execute(read_sql("geo", "areas/edition.sql"), {"edition": None}).fetchone()
        count = conn.execute("SELECT count(*) FROM grant_programme").fetchone()
        row = None if edition is None or count is None else (edition[4], count[0])
    if row is None:
        raise SystemExit(f"{args.database} has no index edition: load England first")
    vintage, programmes = int(row[0]), int(row[1])
    if programmes == 0:
        raise SystemExit(f"{args.database} has no grant programmes: import the examples first")
    points = sample_points(url, [vintage], args.points, args.seed)
    fresh = {
        path: sample_points(url, [vintage], args.points, args.seed + 1 + k)
        for k, path in enumerate(("/lookup", "/eligibility"))
    }
    print(f"{len(points)} points (vintage {vintage}, digest {points_digest(points)})")

    first_pass: dict[str, Any] = {}
    for k, (path, path_points) in enumerate(fresh.items()):
        with harness.running_server(url, log_path.with_suffix(f".first{k}.log")) as server:
            first_pass[path] = asyncio.run(one_pass(server.url, path, path_points, 1))
            print(f"first pass {path}: p50 {first_pass[path]['p50_ms']} ms")

    warm: dict[str, Any] = {}
    with harness.running_server(url, log_path) as server:
        base, pid = server.url, server.pid
        # An uncounted warm-up pass per path at the highest concurrency: the pool then holds
        # the connections the measured rounds use (it opens them one by one, as clients wait),
        # each with its statements prepared.
        for path in PATHS:
            asyncio.run(one_pass(base, path, points, max(args.concurrency)))
        for c in args.concurrency:
            rounds: dict[str, list[dict[str, Any]]] = {path: [] for path in PATHS}
            for _ in range(args.rounds):
                for path in PATHS:
                    rounds[path].append(asyncio.run(one_pass(base, path, points, c)))
            for path in PATHS:
                entry = {
                    "rounds": rounds[path],
                    "req_per_s_median": median_of(rounds[path], "req_per_s"),
                    "p50_ms_median": median_of(rounds[path], "p50_ms"),
                    "errors": sum(r["errors"] for r in rounds[path]),
                }
                warm[f"{path} c={c}"] = entry
                print(
                    f"{path} c={c}: {entry['req_per_s_median']:.0f} req/s, "
                    f"p50 {entry['p50_ms_median']:.2f} ms"
                )
        peak_rss_kib = next(
            (
                int(line.split()[1])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:")
            ),
            0,
        )

    result: dict[str, Any] = {
        **harness.run_facts("clicks", started, argv),
        "database": args.database,
        "settings": {
            "points": len(points),
            "points_digest": points_digest(points),
            "seed": args.seed,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "programmes": programmes,
        },
        "server_peak_rss_mib": round(peak_rss_kib / 1024, 1),
        "first_pass": first_pass,
        "warm": warm,
    }
    result["targets"] = targets(result)
    out = harness.save_result("clicks", stamp, result)
    print()
    print(report(result))
    print(f"results written to {out}")
    return harness.exit_status(result["targets"])


if __name__ == "__main__":
    harness.run_main(lambda: main(sys.argv[1:]), "interrupted; the server was stopped")
