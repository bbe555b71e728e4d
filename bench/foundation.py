"""Foundation benchmark (issue 3): full-England load time and memory, and point-lookup latency.

Run with ``.venv/bin/python -m bench.foundation``. It rebuilds its own database
(``platoons_bench``, or ``--database NAME``) on the server named by ``PLATOONS_DATABASE_URL``
(or ``DATABASE_URL``, or the default URL), loads all of England twice through
``platoons load england``, then times ``GET /lookup`` on a ``platoons serve`` subprocess
against the same lookups done as raw SQL over psycopg, so the ratio shows what the web
service adds. Results are printed as markdown and written to
``bench/results/foundation-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from bench.harness import (
    DEFAULT_SOURCE,
    REQUEST_TIMEOUT_SECONDS,
    RESULTS_DIR,
    Server,
    add_concurrency,
    add_database,
    add_source,
    child_env,
    command_line,
    database_urls,
    exit_status,
    machine_facts,
    markdown_table,
    percentile,
    process_cpu_seconds,
    recreate_database,
    run_main,
    run_platoons,
    running_server,
    start_run,
    targets_table,
    verdict,
    write_json,
)
from geo.areas import lsoa_profile_query

DEFAULT_EDITIONS = ("IoD2019", "IoD2025")
# Issue 20: a first load of England at most 60 s and 1 GB (1,024 MiB) of peak RSS, a reload
# at most 30 s.
TARGET_LOAD_SECONDS = {"first_load": 60.0, "reload": 30.0}
TARGET_LOAD_RSS_MIB = 1024.0
TARGET_LOOKUP_P50_MS = 5.0

# The statement geo.areas.lsoa_at_point runs (edition, point and profile in one), composed
# from the same packaged files.
LOOKUP_SQL = lsoa_profile_query("at_point")

# One seeded random point inside each sampled LSOA (ST_GeneratePoints is deterministic
# for a given geometry and seed > 0), in the order the codes were sampled.
SAMPLE_POINTS_SQL = """
SELECT s.code, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM unnest(%(codes)s::text[]) WITH ORDINALITY AS s(code, ord)
JOIN lsoa l ON l.vintage = %(vintage)s AND l.code = s.code
CROSS JOIN LATERAL ST_GeometryN(ST_GeneratePoints(l.geom_4326, 1, %(seed)s), 1) AS p(geom)
ORDER BY s.ord
"""

# The positions (1-based) of the points that fall in an LSOA of every benchmarked vintage,
# tested the way the service tests them (in EPSG:27700), so no lookup is a 404.
COVERED_POINTS_SQL = """
SELECT t.ord
FROM unnest(%(lon)s::float8[], %(lat)s::float8[]) WITH ORDINALITY AS t(lon, lat, ord)
WHERE (SELECT count(DISTINCT l.vintage) FROM lsoa l
       WHERE l.vintage = ANY(%(vintages)s::smallint[])
         AND ST_Intersects(l.geom, ST_Transform(ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326),
                                                27700))) = cardinality(%(vintages)s::smallint[])
ORDER BY t.ord
"""

Point = tuple[float, float]
Lookup = Callable[[int, float, float], Awaitable[tuple[float, str | None]]]


@dataclass
class LookupRun:
    """One timed batch of lookups through one path (HTTP or raw SQL) at one concurrency."""

    path: str
    edition: str
    concurrency: int
    latencies_ms: list[float]
    codes: list[str | None]
    wall_seconds: float
    errors: int
    error_samples: list[str] = field(default_factory=list)
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None

    def summary(self) -> dict[str, Any]:
        """Return p50, p99, mean, throughput and error count, in milliseconds and req/s."""
        lat = sorted(self.latencies_ms)
        return {
            "path": self.path,
            "edition": self.edition,
            "concurrency": self.concurrency,
            "requests": len(lat),
            "errors": self.errors,
            "p50_ms": round(statistics.median(lat), 3),
            "p99_ms": round(percentile(lat, 99), 3),
            "mean_ms": round(statistics.fmean(lat), 3),
            "max_ms": round(lat[-1], 3),
            "req_per_s": round(len(lat) / self.wall_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 3),
            # CPU time per lookup of this (client) process and of the server process; on a
            # 2-core machine the client's share limits what c=20 can show.
            "client_cpu_ms_per_lookup": round(self.client_cpu_seconds * 1000 / len(lat), 3),
            "server_cpu_ms_per_lookup": (
                None
                if self.server_cpu_seconds is None
                else round(self.server_cpu_seconds * 1000 / len(lat), 3)
            ),
            "error_samples": self.error_samples,
        }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.foundation", description=__doc__)
    add_source(parser, DEFAULT_SOURCE)
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="reuse the already-loaded benchmark database instead of rebuilding it",
    )
    add_database(parser, "the benchmark database, dropped and rebuilt by each run (%(default)s)")
    parser.add_argument("--points", type=int, default=2000, help="lookups per run (%(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=200, help="uncounted lookups before each run (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=3, help="sampling seed (%(default)s)")
    add_concurrency(parser, [1, 20])
    parser.add_argument(
        "--editions",
        nargs="+",
        default=list(DEFAULT_EDITIONS),
        help="index editions to look up (default IoD2019 IoD2025)",
    )
    args = parser.parse_args(argv)
    if args.points < 10 or args.warmup < 0 or min(args.concurrency) < 1:
        parser.error("need --points >= 10, --warmup >= 0 and --concurrency >= 1")
    return args


def loader_seconds(log_text: str) -> float | None:
    """Return the load time the loader itself reports ("Loaded ... in 23.4 s"), if printed."""
    match = re.search(r"Loaded .* in ([0-9.]+) s", log_text)
    return float(match.group(1)) if match else None


def database_facts(url: str) -> dict[str, Any]:
    """Return row counts that show the load is complete, the database size and versions."""
    with psycopg.connect(url) as conn:
        lsoas = dict(
            conn.execute(
                "SELECT vintage::text, count(*) FROM lsoa GROUP BY vintage ORDER BY vintage"
            ).fetchall()
        )
        row = conn.execute(
            "SELECT (SELECT count(*) FROM lsoa_index_value), pg_database_size(current_database()),"
            " current_setting('server_version'), postgis_full_version()"
        ).fetchone()
    assert row is not None
    index_values, size, server_version, postgis = row
    return {
        "lsoa_rows_by_vintage": lsoas,
        "lsoa_index_value_rows": index_values,
        "database_size_mib": round(size / 2**20, 1),
        "postgresql_version": server_version,
        "postgis_full_version": postgis,
    }


def load_twice(
    source: Path, admin_url: str, database: str, url: str, results: Path, stamp: str
) -> dict[str, Any]:
    """Rebuild the bench database, migrate it, and load England into it twice."""
    env = child_env(url)
    print(f"recreating database {database}")
    recreate_database(admin_url, database)
    upgrade = run_platoons(["db", "upgrade"], env, results / f"foundation-{stamp}-upgrade.log")
    print(f"  db upgrade: {upgrade.wall_seconds:.1f} s")
    loads: dict[str, Any] = {"db_upgrade_wall_seconds": round(upgrade.wall_seconds, 2)}
    for label in ("first_load", "reload"):
        print(f"platoons load england ({label.replace('_', ' ')})")
        run = run_platoons(
            ["load", "england", "--source", str(source)],
            env,
            results / f"foundation-{stamp}-{label}.log",
        )
        reported = loader_seconds(Path(run.log).read_text(encoding="utf-8", errors="replace"))
        loads[label] = {
            "wall_seconds": round(run.wall_seconds, 2),
            "loader_reported_seconds": reported,
            "peak_rss_mib": round(run.peak_rss_mib, 1),
            "log": run.log,
        }
        print(f"  {run.wall_seconds:.1f} s wall, peak RSS {run.peak_rss_mib:.0f} MiB")
    return loads


def edition_vintages(url: str, editions: Sequence[str]) -> dict[str, int]:
    """Return each benchmarked edition's LSOA vintage, failing if an edition is not loaded."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT code, lsoa_vintage FROM index_edition WHERE code = ANY(%s)", (list(editions),)
        ).fetchall()
    found = {code: int(vintage) for code, vintage in rows}
    missing = [e for e in editions if e not in found]
    if missing:
        raise SystemExit(f"editions not loaded in {urlsplit(url).path[1:]}: {', '.join(missing)}")
    return found


def sample_points(url: str, vintages: Sequence[int], count: int, seed: int) -> list[Point]:
    """Return ``count`` seeded random points inside seeded random LSOAs of every vintage.

    Half (rounded) come from each vintage's LSOAs; points not inside an LSOA of every
    vintage (the generalised coastlines differ) are dropped, so each lookup should succeed.
    """
    rng = random.Random(seed)
    vintages = sorted(set(vintages))
    picked: list[Point] = []
    with psycopg.connect(url) as conn:
        for i, vintage in enumerate(vintages):
            quota = count // len(vintages) + (1 if i < count % len(vintages) else 0)
            codes = [
                r[0]
                for r in conn.execute(
                    "SELECT code FROM lsoa WHERE vintage = %s ORDER BY code", (vintage,)
                )
            ]
            chosen = rng.sample(codes, min(len(codes), quota + quota // 10 + 20))
            rows = conn.execute(
                SAMPLE_POINTS_SQL, {"codes": chosen, "vintage": vintage, "seed": seed}
            ).fetchall()
            lons = [r[1] for r in rows]
            lats = [r[2] for r in rows]
            covered = [
                r[0]
                for r in conn.execute(
                    COVERED_POINTS_SQL, {"lon": lons, "lat": lats, "vintages": vintages}
                )
            ]
            points = [(lons[k - 1], lats[k - 1]) for k in covered][:quota]
            if len(points) < quota:
                raise SystemExit(f"only {len(points)} usable points in {vintage} LSOAs")
            picked.extend(points)
    rng.shuffle(picked)
    return picked


def points_digest(points: Sequence[Point]) -> str:
    """Return a short hash of the point list, to tell whether two runs used the same points."""
    text = "\n".join(f"{lon:.9f},{lat:.9f}" for lon, lat in points)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Batch:
    """What one batch of lookups measured, point by point and in total."""

    latencies_ms: list[float]
    codes: list[str | None]
    wall_seconds: float
    cpu_seconds: float
    errors: list[str]


async def drive(points: Sequence[Point], concurrency: int, lookup: Lookup) -> Batch:
    """Look up every point with ``concurrency`` workers; time each lookup and the batch."""
    latencies = [0.0] * len(points)
    codes: list[str | None] = [None] * len(points)
    errors: list[str] = []
    queue = iter(range(len(points)))

    async def worker(slot: int) -> None:
        """Take the next point until none are left."""
        for i in queue:
            lon, lat = points[i]
            start = time.perf_counter()
            try:
                latencies[i], codes[i] = await lookup(slot, lon, lat)
            except Exception as exc:  # noqa: BLE001 - a failed lookup is counted, not fatal
                latencies[i] = (time.perf_counter() - start) * 1000
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            else:
                if codes[i] is None:
                    errors.append(f"no LSOA for ({lon}, {lat})")

    cpu_start, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(slot) for slot in range(concurrency)))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Batch(latencies, codes, wall, cpu, errors)


def lookup_run(path: str, edition: str, concurrency: int, batch: Batch) -> LookupRun:
    """Return the run record of a measured batch."""
    return LookupRun(
        path,
        edition,
        concurrency,
        batch.latencies_ms,
        batch.codes,
        batch.wall_seconds,
        len(batch.errors),
        batch.errors[:5],
        client_cpu_seconds=batch.cpu_seconds,
    )


async def http_run(
    server: Server, edition: str, points: Sequence[Point], warmup: int, concurrency: int
) -> LookupRun:
    """Time ``GET /lookup`` for every point through keep-alive connections, one per worker."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as client:

        async def lookup(_slot: int, lon: float, lat: float) -> tuple[float, str | None]:
            """One HTTP lookup; the clock stops when the body has arrived, before parsing."""
            start = time.perf_counter()
            response = await client.get(
                "/lookup", params={"lon": lon, "lat": lat, "edition": edition}
            )
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
            return elapsed, response.json()["lsoa"]["code"]

        await drive(points[:warmup], concurrency, lookup)
        server_cpu = process_cpu_seconds(server.pid)
        batch = await drive(points, concurrency, lookup)
        server_cpu = process_cpu_seconds(server.pid) - server_cpu
    run = lookup_run("http", edition, concurrency, batch)
    run.server_cpu_seconds = server_cpu
    return run


async def sql_lookup(conn: AsyncConnection, edition: str, lon: float, lat: float) -> str | None:
    """Run the service's statement for one point, as geo.areas.lsoa_at_point does."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(LOOKUP_SQL, {"edition": edition, "lon": lon, "lat": lat})
        profile = await cur.fetchone()
    return None if profile is None else str(profile["code"])


async def sql_run(
    url: str, edition: str, points: Sequence[Point], warmup: int, concurrency: int
) -> LookupRun:
    """Time the same lookups as raw SQL, one autocommit connection per worker."""
    conns = [await AsyncConnection.connect(url, autocommit=True) for _ in range(concurrency)]
    try:

        async def lookup(slot: int, lon: float, lat: float) -> tuple[float, str | None]:
            """One raw-SQL lookup on the worker's own connection."""
            start = time.perf_counter()
            code = await sql_lookup(conns[slot], edition, lon, lat)
            return (time.perf_counter() - start) * 1000, code

        await drive(points[:warmup], concurrency, lookup)
        batch = await drive(points, concurrency, lookup)
    finally:
        for conn in conns:
            await conn.close()
    return lookup_run("sql", edition, concurrency, batch)


async def lookup_runs(
    server: Server,
    url: str,
    editions: Sequence[str],
    points: Sequence[Point],
    warmup: int,
    levels: Sequence[int],
) -> list[LookupRun]:
    """Run raw SQL then HTTP for each edition and concurrency, back to back."""
    runs: list[LookupRun] = []
    for edition in editions:
        for concurrency in levels:
            for path in ("sql", "http"):
                if path == "sql":
                    run = await sql_run(url, edition, points, warmup, concurrency)
                else:
                    run = await http_run(server, edition, points, warmup, concurrency)
                s = run.summary()
                print(
                    f"  {path:4} {edition} c={concurrency:<3} p50 {s['p50_ms']:7.2f} ms  "
                    f"p99 {s['p99_ms']:7.2f} ms  {s['req_per_s']:7.1f} req/s  "
                    f"errors {s['errors']}"
                )
                runs.append(run)
    return runs


def mismatches(runs: Sequence[LookupRun]) -> int:
    """Count points whose HTTP and raw-SQL answers named different LSOAs."""
    by_key: dict[tuple[str, int], dict[str, list[str | None]]] = {}
    for run in runs:
        by_key.setdefault((run.edition, run.concurrency), {})[run.path] = run.codes
    return sum(
        1
        for pair in by_key.values()
        if "http" in pair and "sql" in pair
        for http_code, sql_code in zip(pair["http"], pair["sql"], strict=True)
        if http_code != sql_code
    )


def targets(
    loads: dict[str, Any] | None, summaries: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Judge the targets: first load <= 60 s and reload <= 30 s, each within 1 GB of peak RSS
    (issue 20); lookup p50 <= 5 ms over HTTP at c=1."""
    checks: list[dict[str, Any]] = []
    if loads is not None:
        for label in ("first_load", "reload"):
            seconds = loads[label]["wall_seconds"]
            rss = loads[label]["peak_rss_mib"]
            checks.append(
                {
                    "target": f"full load ({label.replace('_', ' ')}) <= "
                    f"{TARGET_LOAD_SECONDS[label]:.0f} s",
                    "measured": f"{seconds:.1f} s",
                    "result": verdict(seconds <= TARGET_LOAD_SECONDS[label]),
                }
            )
            checks.append(
                {
                    "target": f"peak RSS ({label.replace('_', ' ')}) <= "
                    f"{TARGET_LOAD_RSS_MIB:,.0f} MiB",
                    "measured": f"{rss:,.0f} MiB",
                    "result": verdict(rss <= TARGET_LOAD_RSS_MIB),
                }
            )
    for s in summaries:
        if s["path"] == "http" and s["concurrency"] == 1:
            checks.append(
                {
                    "target": f"lookup p50 <= {TARGET_LOOKUP_P50_MS:.0f} ms "
                    f"(HTTP, {s['edition']}, c=1)",
                    "measured": f"{s['p50_ms']:.2f} ms",
                    "result": verdict(s["p50_ms"] <= TARGET_LOOKUP_P50_MS),
                }
            )
    return checks


def ratio(a: float, b: float) -> str:
    """``a / b`` to two places (``-`` when b is 0)."""
    return f"{a / b:.2f}" if b else "-"


def http_sql_pairs(
    summaries: Sequence[dict[str, Any]], label: str
) -> dict[tuple[str, int], dict[str, dict[str, Any]]]:
    """Summaries paired by (``label`` value, concurrency): the HTTP run and the raw-SQL run."""
    pairs: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for s in summaries:
        pairs.setdefault((s[label], s["concurrency"]), {})[s["path"]] = s
    return pairs


def http_vs_sql_table(label: str, pairs: dict[tuple[str, int], dict[str, dict[str, Any]]]) -> str:
    """The markdown table of latency, throughput and errors, HTTP beside raw SQL, per pair."""
    rows = []
    for (value, concurrency), pair in pairs.items():
        h, q = pair["http"], pair["sql"]
        row: list[object] = [value, concurrency]
        for key in ("p50_ms", "p99_ms", "mean_ms"):  # times: HTTP over SQL
            row += [f"{h[key]:.2f}", f"{q[key]:.2f}", ratio(h[key], q[key])]
        # Throughput: SQL over HTTP, so each × says how many times faster SQL is.
        row += [f"{h['req_per_s']:.0f}", f"{q['req_per_s']:.0f}"]
        row += [ratio(q["req_per_s"], h["req_per_s"]), f"{h['errors']}/{q['errors']}"]
        rows.append(row)
    return markdown_table(
        [
            label,
            "c",
            "HTTP p50 ms",
            "SQL p50 ms",
            "p50 ×",
            "HTTP p99 ms",
            "SQL p99 ms",
            "p99 ×",
            "HTTP mean ms",
            "SQL mean ms",
            "mean ×",
            "HTTP req/s",
            "SQL req/s",
            "req/s ×",
            "errors HTTP/SQL",
        ],
        rows,
    )


def report(result: dict[str, Any]) -> str:
    """Return the markdown tables of one benchmark result."""
    parts: list[str] = []
    loads = result.get("load")
    if loads:
        parts.append(
            markdown_table(
                ["load (platoons load england)", "wall s", "loader-reported s", "peak RSS MiB"],
                [
                    [
                        label.replace("_", " "),
                        f"{loads[label]['wall_seconds']:.1f}",
                        loads[label]["loader_reported_seconds"],
                        f"{loads[label]['peak_rss_mib']:.0f}",
                    ]
                    for label in ("first_load", "reload")
                ],
            )
        )
    pairs = http_sql_pairs(result["lookups"], "edition")
    parts.append(http_vs_sql_table("edition", pairs))
    parts.append(
        markdown_table(
            [
                "CPU ms per lookup",
                "c",
                "HTTP: bench client",
                "HTTP: server process",
                "SQL: bench client",
            ],
            [
                [
                    edition,
                    concurrency,
                    f"{pair['http']['client_cpu_ms_per_lookup']:.2f}",
                    f"{pair['http']['server_cpu_ms_per_lookup']:.2f}",
                    f"{pair['sql']['client_cpu_ms_per_lookup']:.2f}",
                ]
                for (edition, concurrency), pair in pairs.items()
            ],
        )
    )
    parts.append(targets_table(result["targets"]))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole benchmark; return 0 when every target passes, 1 otherwise."""
    args = parse_args(argv)
    admin_url, url = database_urls(args.database)
    started, stamp = start_run(RESULTS_DIR)
    source = args.source.resolve()

    loads: dict[str, Any] | None = None
    if args.skip_load:
        print(f"--skip-load: reusing {args.database}")
        run_platoons(
            ["db", "upgrade"], child_env(url), RESULTS_DIR / f"foundation-{stamp}-upgrade.log"
        )
    else:
        loads = load_twice(source, admin_url, args.database, url, RESULTS_DIR, stamp)
    facts = database_facts(url)
    vintages = edition_vintages(url, args.editions)
    points = sample_points(url, list(vintages.values()), args.points, args.seed)
    print(f"{len(points)} points sampled (seed {args.seed}, digest {points_digest(points)})")

    with running_server(url, RESULTS_DIR / f"foundation-{stamp}-server.log") as server:
        print(f"service at {server.url}; warm-up {args.warmup} lookups before each run")
        runs = asyncio.run(
            lookup_runs(server, url, args.editions, points, args.warmup, args.concurrency)
        )

    summaries = [run.summary() for run in runs]
    result: dict[str, Any] = {
        "benchmark": "foundation",
        "started_utc": started.isoformat(),
        "finished_utc": datetime.now(UTC).isoformat(),
        "command": command_line("bench.foundation", argv),
        "machine": machine_facts(),
        "database": {"name": args.database, **facts},
        "settings": {
            "source": str(source),
            "skip_load": args.skip_load,
            "points": len(points),
            "points_digest": points_digest(points),
            "warmup": args.warmup,
            "seed": args.seed,
            "concurrency": args.concurrency,
            "editions": vintages,
        },
        "load": loads,
        "lookups": summaries,
        "http_sql_mismatches": mismatches(runs),
        "targets": targets(loads, summaries),
    }
    out = RESULTS_DIR / f"foundation-{stamp}.json"
    write_json(out, result)

    print()
    print(report(result))
    print()
    print(f"HTTP and raw SQL named different LSOAs for {result['http_sql_mismatches']} lookups")
    print(f"results written to {out}")
    return exit_status(result["targets"])


if __name__ == "__main__":
    run_main(main, "interrupted; the server subprocess was stopped")
