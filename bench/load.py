"""Load test: 50 concurrent clients mixing tiles, lookups, eligibility and writes for 60 s.

Run with ``.venv/bin/python -m bench.load``. It serves the all-England database
``platoons_bench`` (built by ``python -m bench.foundation``; migrated here, and loaded with
``platoons load england`` only if it is empty) with ``platoons serve`` on loopback, and drives
it from this process with asyncio clients. Each client loops over a weighted mix:

=========== ====== =================================================================
kind        weight request
=========== ====== =================================================================
tile          30   GET /collections/{lsoa,lad}-iod2025/tiles/WebMercatorQuad/z/y/x
lookup        25   GET /lookup?lon=&lat= (a random point inside a random LSOA)
eligibility   15   GET /eligibility?lon=&lat=&programme= (the bench programme)
polygon        5   POST /eligibility (a 300 m square around a point)
items         10   GET /collections/lsoa-iod2025/items?bbox=…&limit=50
write         15   POST /applications then POST …/submit, as a group manager
=========== ====== =================================================================

An error is a 5xx, a transport failure, or any status a valid request should not get.
Throughput, p50/p99 per kind and errors are printed as markdown and written to
``bench/results/load-<UTC timestamp>.json``; the exit status is 1 if there was any error.
The bench programme, its applications and the key are removed afterwards (the audit log keeps
its entries). :func:`run_load` is reused by ``bench.faults`` to restart PostgreSQL mid-run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import morecantile
import psycopg

from bench import harness
from bench.foundation import sample_points
from geo import access
from geo.grants import checks
from tests.utils.geojson import box_around

WEIGHTS = {"tile": 30, "lookup": 25, "eligibility": 15, "polygon": 5, "items": 10, "write": 15}
EXPECTED = {  # what a valid request of each kind may answer
    "tile": {200, 204},
    "lookup": {200},
    "eligibility": {200},
    "polygon": {200},
    "items": {200},
    "create": {201},
    "submit": {200},
}
# Collections drawn as tiles, and the zooms asked of each (within its tileset's limits).
TILE_ZOOMS = {"lsoa-iod2025": (7, 9, 11, 13), "lad-iod2025": (6, 8, 10, 12)}
REQUEST_TIMEOUT_SECONDS = 30.0
TMS = morecantile.tms.get("WebMercatorQuad")


@dataclass
class Sample:
    """One request: when it started (s since the run began), what, how it ended."""

    at: float
    kind: str
    status: int  # 0 for a transport failure
    ms: float
    retry_after: bool = False
    error: str | None = None


@dataclass
class Workload:
    """What the clients ask for: points, LSOA codes, the bench programme and key."""

    points: list[tuple[float, float]]
    lsoa_codes: list[str]
    programme_id: str
    key_secret: str
    created: list[int] = field(default_factory=list)  # ids of applications answered 201
    submitted: list[int] = field(default_factory=list)  # ids of submissions answered 200


@dataclass
class Fixture:
    """The bench programme and key made for a run (removed afterwards)."""

    programme_id: str
    key_id: int
    key_secret: str


async def make_fixture(url: str, stamp: str) -> Fixture:
    """Save an open national programme every LSOA qualifies for, and a group manager key."""
    today = datetime.now(UTC).date()
    spec = checks.ProgrammeSpec.model_validate(
        {
            "id": f"bench-load-{stamp.lower()}",
            "name": "Load test programme",
            "description": "Made by bench.load; removed when the run ends.",
            "funder_name": "Bench Foundation",
            "funder_id": "GB-CHC-0000000",
            "budget": Decimal("1000000000"),
            "opens_on": today - timedelta(days=30),
            "closes_on": today + timedelta(days=365),
            "edition_code": "IoD2025",
            "geography_level": "lsoa",
            "rule": {"kind": "index", "domain": "imd", "decile_at_most": 10},
            "min_population_share": 0.5,
            "award_min": Decimal("500"),
            "award_max": Decimal("25000"),
            "match_ratio": Decimal("1"),
            "is_example": False,
        }
    )
    async with await psycopg.AsyncConnection.connect(url) as conn:
        async with conn.transaction():
            await checks.save_programme(conn, spec, actor="bench.load")
            key_id, secret = await access.create_key(conn, f"bench load {stamp}", "group_manager")
    return Fixture(spec.id, key_id, secret)


def drop_fixture(url: str, fixture: Fixture) -> None:
    """Remove the bench programme, its applications, its eligibility layer and the key."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(
            "DELETE FROM grant_application WHERE programme_id = %s", (fixture.programme_id,)
        )
        conn.execute(
            "DELETE FROM programme_lsoa_eligibility WHERE programme_id = %s",
            (fixture.programme_id,),
        )
        conn.execute("DELETE FROM grant_programme WHERE id = %s", (fixture.programme_id,))
        conn.execute("DELETE FROM api_key WHERE id = %s", (fixture.key_id,))


def lsoa_codes(url: str, count: int, seed: int) -> list[str]:
    """A seeded sample of 2021 LSOA codes (the bench programme's geography)."""
    with psycopg.connect(url) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM lsoa WHERE vintage = 2021")]
    return random.Random(seed).sample(sorted(codes), min(count, len(codes)))


def _square(lon: float, lat: float, metres: float = 300.0) -> dict[str, Any]:
    """A box about ``metres`` either side of a point."""
    d_lat = metres / 111_000
    return box_around(lon, lat, d_lat * 1.6, d_lat)  # 1.6: about right at English latitudes


class Clients:
    """The request mix, timed: each call records one or two samples."""

    def __init__(self, http: httpx.AsyncClient, workload: Workload, started: float) -> None:
        self.http = http
        self.workload = workload
        self.started = started
        self.samples: list[Sample] = []
        self.auth = {"Authorization": f"Bearer {workload.key_secret}"}

    async def timed(
        self, kind: str, send: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response | None:
        """Send one request; record its status, latency and whether it was an error."""
        begun = time.perf_counter()
        at = begun - self.started
        try:
            response = await send()
        except httpx.HTTPError as exc:
            ms = (time.perf_counter() - begun) * 1000
            self.samples.append(Sample(at, kind, 0, ms, error=f"{type(exc).__name__}: {exc}"))
            return None
        ms = (time.perf_counter() - begun) * 1000
        error = None
        if response.status_code not in EXPECTED[kind]:
            error = f"{response.status_code}: {response.text[:160]}"
        self.samples.append(
            Sample(at, kind, response.status_code, ms, "retry-after" in response.headers, error)
        )
        return response

    async def one(self, rng: random.Random) -> None:
        """One step of the mix."""
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        lon, lat = rng.choice(self.workload.points)
        get = self.http.get
        if kind == "tile":
            collection = rng.choice(list(TILE_ZOOMS))
            tile = TMS.tile(lon, lat, rng.choice(TILE_ZOOMS[collection]))
            path = f"/collections/{collection}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
            await self.timed(kind, lambda: get(path))
        elif kind == "lookup":
            await self.timed(kind, lambda: get("/lookup", params={"lon": lon, "lat": lat}))
        elif kind == "eligibility":
            params: dict[str, str | float] = {
                "lon": lon,
                "lat": lat,
                "programme": self.workload.programme_id,
            }
            await self.timed(kind, lambda: get("/eligibility", params=params))
        elif kind == "polygon":
            body = {"geometry": _square(lon, lat), "programme": self.workload.programme_id}
            await self.timed(kind, lambda: self.http.post("/eligibility", json=body))
        elif kind == "items":
            box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
            params = {"bbox": box, "limit": "50"}
            await self.timed(kind, lambda: get("/collections/lsoa-iod2025/items", params=params))
        else:
            await self.write(rng)

    async def write(self, rng: random.Random) -> None:
        """Apply for a grant for a random LSOA and submit the application."""
        code = rng.choice(self.workload.lsoa_codes)
        body = {
            "programme": self.workload.programme_id,
            "applicant_name": "Load Test Residents' Association",
            "applicant_org_id": "GB-CHC-1234567",
            "title": f"Street party in {code}",
            "amount": "1000.00",
            "area": {"code": code},
            "pledges": [
                {
                    "source_name": "Bench Trust",
                    "source_type": "charitable_trust",
                    "amount": "1000.00",
                    "evidence_reference": "bench letter",
                }
            ],
        }
        created = await self.timed(
            "create", lambda: self.http.post("/applications", json=body, headers=self.auth)
        )
        if created is None or created.status_code != 201:
            return
        application_id = int(created.json()["id"])
        self.workload.created.append(application_id)
        headers = {**self.auth, "If-Match": created.headers["etag"].removeprefix("W/")}
        submitted = await self.timed(
            "submit",
            lambda: self.http.post(f"/applications/{application_id}/submit", headers=headers),
        )
        if submitted is not None and submitted.status_code == 200:
            self.workload.submitted.append(application_id)


async def run_load(
    base_url: str,
    workload: Workload,
    clients: int,
    seconds: float,
    seed: int,
    during: Callable[[float], Awaitable[None]] | None = None,
) -> tuple[list[Sample], float]:
    """Drive ``clients`` concurrent loops for ``seconds``; return the samples and wall time.

    ``during`` (given the run's start, on the perf_counter clock) runs alongside the clients:
    ``bench.faults`` restarts PostgreSQL from it.
    """
    # Idle connections are dropped by the client before uvicorn drops them (its keep-alive
    # timeout is 5 s): reusing one the server is closing at that moment fails the request.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0
    )
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as http:
        started = time.perf_counter()
        mix = Clients(http, workload, started)
        deadline = started + seconds

        async def loop(slot: int) -> None:
            rng = random.Random(seed * 1000 + slot)
            while time.perf_counter() < deadline:
                await mix.one(rng)

        tasks: list[Awaitable[None]] = [loop(slot) for slot in range(clients)]
        if during is not None:
            tasks.append(during(started))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return mix.samples, wall


def summarise(samples: Sequence[Sample], wall: float) -> list[dict[str, Any]]:
    """Count, throughput, p50/p99/max and errors per kind, and over all."""
    rows = []
    kinds = sorted({s.kind for s in samples}, key=lambda k: list(EXPECTED).index(k))
    for kind in [*kinds, "all"]:
        chosen = [s for s in samples if kind in ("all", s.kind)]
        if not chosen:
            continue
        ms = sorted(s.ms for s in chosen)
        rows.append(
            {
                "kind": kind,
                "requests": len(chosen),
                "req_per_s": round(len(chosen) / wall, 1),
                "p50_ms": round(statistics.median(ms), 1),
                "p99_ms": round(harness.percentile(ms, 99), 1) if len(ms) > 1 else round(ms[0], 1),
                "max_ms": round(ms[-1], 1),
                "errors": sum(s.error is not None for s in chosen),
                "5xx": sum(s.status >= 500 for s in chosen),
            }
        )
    return rows


def summary_table(rows: Sequence[dict[str, Any]]) -> str:
    """The per-kind summary as markdown."""
    return harness.markdown_table(
        ["kind", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"],
        [
            [
                r["kind"],
                r["requests"],
                r["req_per_s"],
                r["p50_ms"],
                r["p99_ms"],
                r["max_ms"],
                r["errors"],
            ]
            for r in rows
        ],
    )


def ensure_loaded(url: str, env: dict[str, str], source: Path, stamp: str) -> None:
    """Migrate the bench database; load England into it only when it holds no LSOAs."""
    harness.run_platoons(["db", "upgrade"], env, harness.RESULTS_DIR / f"load-{stamp}-upgrade.log")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM lsoa WHERE vintage = 2021").fetchone()
    if row is None or row[0] == 0:
        print(f"{harness.BENCH_DB} is empty: platoons load england --source {source}")
        harness.run_platoons(
            ["load", "england", "--source", str(source)],
            env,
            harness.RESULTS_DIR / f"load-{stamp}-england.log",
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration (60)")
    parser.add_argument("--seed", type=int, default=7, help="sampling seed (7)")
    parser.add_argument("--points", type=int, default=2000, help="points sampled (2000)")
    parser.add_argument("--source", type=Path, default=harness.DEFAULT_SOURCE, help="raw data dir")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load test; 0 when no request failed."""
    args = parse_args(argv)
    _, url = harness.database_urls()
    started, stamp = harness.start_run(harness.RESULTS_DIR)
    env = harness.child_env(url)
    ensure_loaded(url, env, args.source.resolve(), stamp)
    points = sample_points(url, [2011, 2021], args.points, args.seed)
    codes = lsoa_codes(url, 2000, args.seed)
    fixture = asyncio.run(make_fixture(url, stamp))
    workload = Workload(points, codes, fixture.programme_id, fixture.key_secret)
    try:
        with harness.running_server(
            url, harness.RESULTS_DIR / f"load-{stamp}-server.log"
        ) as server:
            print(f"{args.clients} clients for {args.seconds:.0f} s against {server.url}")
            server_cpu = harness.process_cpu_seconds(server.pid)
            client_cpu = time.process_time()
            samples, wall = asyncio.run(
                run_load(server.url, workload, args.clients, args.seconds, args.seed)
            )
            server_cpu = harness.process_cpu_seconds(server.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
        with psycopg.connect(url) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM grant_application WHERE id = ANY(%s)", (workload.created,)
            ).fetchone()
    finally:
        drop_fixture(url, fixture)
    rows = summarise(samples, wall)
    errors = [s for s in samples if s.error is not None]
    result = {
        "benchmark": "load",
        "started_utc": started.isoformat(),
        "command": " ".join(["python", "-m", "bench.load", *(argv or sys.argv[1:])]),
        "machine": harness.machine_facts(),
        "database": harness.BENCH_DB,
        "settings": {
            "clients": args.clients,
            "seconds": args.seconds,
            "seed": args.seed,
            "weights": WEIGHTS,
            "server": "platoons serve (1 worker, default pool of 20)",
        },
        "wall_seconds": round(wall, 2),
        "summary": rows,
        "applications_created": len(workload.created),
        "applications_submitted": len(workload.submitted),
        "applications_stored": None if stored is None else stored[0],
        "cpu_seconds": {"server": round(server_cpu, 1), "bench_client": round(client_cpu, 1)},
        "error_samples": [asdict(s) for s in errors[:20]],
    }
    out = harness.save_result("load", stamp, result)
    print()
    print(summary_table(rows))
    print()
    print(
        f"{len(workload.created)} applications created and {len(workload.submitted)} submitted;"
        f" {result['applications_stored']} found in the database. CPU: server "
        f"{server_cpu:.0f} s, bench client {client_cpu:.0f} s of {wall:.0f} s wall."
    )
    for sample in errors[:5]:
        print(f"error: {sample.kind} at {sample.at:.1f} s: {sample.error}")
    print(f"results written to {out}")
    return 0 if not errors else 1


if __name__ == "__main__":
    harness.run_main(main, "interrupted; the server subprocess was stopped")
