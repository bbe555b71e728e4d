"""Vector tiles benchmark (issue 4): Platoons' MVT tiles against TiPg over the same data.

Run with ``.venv/bin/python -m bench.tiles``. It serves the IoD2025 LSOAs of all England
from ``platoons_bench`` (loaded by ``python -m bench.foundation``, or by ``--load``) twice in
the same run: through ``platoons serve`` (collection ``lsoa-iod2025``) and through TiPg (its
own venv, ``bench/.venv-tipg``, created on first use) reading a copy of the same rows
(``bench_lsoa_iod2025``, rebuilt by every run). A fixed, seeded list of tiles over English
cities and rural areas (z6-z14) is fetched cold (each server restarted, each tile once) and
warm (the same tiles again, several times), at concurrency 1 and 16, and the SQL Platoons
runs is timed straight from psycopg. Results are printed as markdown and written to
``bench/results/tiles-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import brotli
import httpx
import morecantile
import psycopg
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from psycopg import sql

from bench.harness import (
    BENCH_DB,
    DEFAULT_SOURCE,
    RESULTS_DIR,
    add_concurrency,
    add_database,
    add_source,
    child_env,
    database_urls,
    exit_status,
    free_port,
    machine_facts,
    markdown_table,
    percentile,
    platoons_executable,
    process_cpu_seconds,
    run_main,
    run_platoons,
    start_run,
    targets_table,
    verdict,
    wait_for_health,
    wait_until_ready,
    write_json,
)
from geo import tiles as geo_tiles

BENCH_DIR = Path(__file__).resolve().parent
TIPG_VENV = BENCH_DIR / ".venv-tipg"
COLLECTION_ID = "lsoa-iod2025"
TIPG_TABLE = "bench_lsoa_iod2025"
TIPG_COLLECTION_ID = f"public.{TIPG_TABLE}"
PROBE_TILE = (8, 126, 84)  # z, x (column), y (row): Birmingham
HEALTH_WAIT_SECONDS = 90.0
REQUEST_TIMEOUT_SECONDS = 60.0
TARGET_WARM_RATIO = 1.5
# Issue 20: cold req/s >= 1.2x TiPg's (median of the interleaved cold passes), cold p50 at
# most 1.2x (warm p50 + raw SQL p50) of the same run, server peak RSS at most 2x TiPg's.
TARGET_COLD_RATIO = 1.2
TARGET_COLD_P50_OVER_PARTS = 1.2
TARGET_RSS_RATIO = 2.0

# The collection and tiling scheme under test, from the service's own registry: the TiPg
# table, TiPg's `properties=` and `geom-column=`, and the raw SQL all follow them.
COLLECTION = geo_tiles.find_collection(COLLECTION_ID)
SCHEME = geo_tiles.WEB_MERCATOR
EDITION = COLLECTION.where.get("edition_code", "IoD2025")
LOW_ZOOM_MAX = SCHEME.low_zoom_max

# Centres of the sampled areas (lon, lat): five cities and two rural counties.
REGIONS: dict[str, tuple[float, float]] = {
    "london": (-0.1276, 51.5072),
    "birmingham": (-1.8904, 52.4862),
    "manchester": (-2.2426, 53.4808),
    "newcastle": (-1.6178, 54.9783),
    "bristol": (-2.5879, 51.4545),
    "cumbria": (-3.10, 54.55),
    "norfolk": (0.95, 52.70),
}
REGION_HALF_SIZE_DEGREES = (0.25, 0.15)  # about 33 km x 33 km around each centre

# TiPg gets a plain table of the same rows (the collection's row filter), the properties
# tiles carry at any zoom and the geometry columns Platoons tiles from (exact, and simplified
# for z<=7 and z8-10), all EPSG:3857 so TiPg never reprojects; a primary key on the MVT id
# column (TiPg orders by it) and a GiST index per geometry column.
TIPG_TABLE_STATEMENTS = (
    "DROP TABLE IF EXISTS {table}",
    "CREATE TABLE {table} AS SELECT {columns} FROM {source} WHERE {filter}",
    "ALTER TABLE {table} ADD PRIMARY KEY ({id_column})",
    "ANALYZE {table}",
)


@dataclass(frozen=True, order=True)
class Tile:
    """One WebMercatorQuad tile: zoom, column (x) and row (y), and the area it samples."""

    z: int
    x: int
    y: int
    region: str = field(compare=False)


def geometry_column(z: int) -> str:
    """Return the geometry column Platoons tiles zoom ``z`` from (TiPg's table has the same)."""
    return SCHEME.geometry_column(z)


def tile_properties(z: int) -> tuple[str, ...]:
    """Return the properties a Platoons tile at zoom ``z`` carries."""
    return geo_tiles.tile_properties(COLLECTION, SCHEME, z)


def tipg_table_columns() -> tuple[list[str], list[str]]:
    """Return the TiPg table's property columns and geometry columns, in order."""
    names = dict.fromkeys((*COLLECTION.tile_properties, *COLLECTION.low_zoom_tile_properties))
    geometries = list(dict.fromkeys(column for _, column in SCHEME.geometry_bands))
    return [COLLECTION.tile_id_column, *names], geometries


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.tiles", description=__doc__)
    parser.add_argument("--seed", type=int, default=4, help="tile sampling seed (%(default)s)")
    parser.add_argument(
        "--per-zoom",
        type=int,
        default=8,
        help="tiles sampled per region and zoom, before de-duplication (%(default)s)",
    )
    parser.add_argument("--minzoom", type=int, default=6, help="lowest zoom (%(default)s)")
    parser.add_argument("--maxzoom", type=int, default=14, help="highest zoom (%(default)s)")
    add_concurrency(parser, [1, 16])
    parser.add_argument(
        "--warm-repeats", type=int, default=3, help="warm passes over the tiles (%(default)s)"
    )
    parser.add_argument(
        "--cold-repeats",
        type=int,
        default=3,
        help="cold passes, each after a server restart (%(default)s)",
    )
    parser.add_argument(
        "--sql-repeats", type=int, default=3, help="timed raw-SQL passes (%(default)s)"
    )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=["platoons", "tipg"],
        default=["platoons", "tipg"],
        help="servers to measure (default both; targets need both)",
    )
    parser.add_argument(
        "--tipg-geometry",
        choices=["matched", "full"],
        default="matched",
        help="TiPg geometry: 'matched' picks the same simplified column per zoom as Platoons "
        "(via geom-column=); 'full' always uses the exact geometry (default %(default)s)",
    )
    parser.add_argument(
        "--accept-encoding",
        default="gzip, deflate, br",
        help="Accept-Encoding sent with every tile request ('identity' for none; "
        "default %(default)r)",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="migrate the database and run `platoons load england` into it first",
    )
    add_database(
        parser,
        "database on the configured server to serve from (default %(default)s; "
        "another benchmark may be rebuilding that one)",
    )
    add_source(parser, DEFAULT_SOURCE, "raw data directory for --load (default %(default)s)")
    args = parser.parse_args(argv)
    if (
        args.per_zoom < 1
        or not 0 <= args.minzoom <= args.maxzoom <= 16
        or min(args.concurrency) < 1
        or args.warm_repeats < 1
        or args.sql_repeats < 1
        or args.cold_repeats < 1
    ):
        parser.error("need --per-zoom, --concurrency, --*-repeats >= 1 and 0 <= zooms <= 16")
    return args


# --- the database --------------------------------------------------------------------------


def ensure_loaded(
    admin_url: str, url: str, load: bool, source: Path, stamp: str, name: str = BENCH_DB
) -> None:
    """Migrate the bench database, load it if asked, and fail clearly if it holds no tiles."""
    if load:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = child_env(url)
    try:
        run_platoons(["db", "upgrade"], env, RESULTS_DIR / f"tiles-{stamp}-upgrade.log")
    except SystemExit as exc:
        raise SystemExit(
            f"{exc}\n{name} is missing or not migratable; run "
            "`.venv/bin/python -m bench.foundation` first, or pass --load"
        ) from None
    if load:
        print(f"loading England into {name} (platoons load england)")
        run = run_platoons(
            ["load", "england", "--source", str(source.resolve())],
            env,
            RESULTS_DIR / f"tiles-{stamp}-load.log",
        )
        print(f"  {run.wall_seconds:.1f} s")
    with psycopg.connect(url) as conn:
        has_table = conn.execute("SELECT to_regclass('lsoa_deprivation')").fetchone()
        rows = 0
        if has_table and has_table[0] is not None:
            found = conn.execute(
                "SELECT count(*) FROM lsoa_deprivation WHERE edition_code = %s", (EDITION,)
            ).fetchone()
            rows = int(found[0]) if found else 0
    if rows == 0:
        raise SystemExit(
            f"{name} has no {EDITION} rows in lsoa_deprivation: run "
            "`.venv/bin/python -m bench.foundation` first, or pass --load"
        )


def create_tipg_table(url: str) -> dict[str, Any]:
    """(Re)build TiPg's copy of the collection's rows; return its definition, rows and size."""
    properties, geometries = tipg_table_columns()
    table = sql.Identifier(TIPG_TABLE)
    parts = {
        "table": table,
        "columns": sql.SQL(", ").join(sql.Identifier(c) for c in (*properties, *geometries)),
        "source": sql.Identifier(COLLECTION.table),
        "filter": sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Literal(value))
            for column, value in COLLECTION.where.items()
        )
        or sql.SQL("true"),
        "id_column": sql.Identifier(COLLECTION.tile_id_column),
    }
    statements = [sql.SQL(text).format(**parts) for text in TIPG_TABLE_STATEMENTS[:-1]]
    statements += [
        sql.SQL("CREATE INDEX ON {} USING gist ({})").format(table, sql.Identifier(g))
        for g in geometries
    ]
    statements.append(sql.SQL(TIPG_TABLE_STATEMENTS[-1]).format(**parts))
    with psycopg.connect(url) as conn:  # one transaction: TiPg never sees a half-built table
        for statement in statements:
            conn.execute(statement)
        row = conn.execute(
            sql.SQL("SELECT count(*), pg_total_relation_size({}) FROM {}").format(
                sql.Literal(TIPG_TABLE), table
            )
        ).fetchone()
        definition = [statement.as_string(conn) for statement in statements]
    assert row is not None
    return {
        "table": TIPG_TABLE,
        "rows": int(row[0]),
        "size_mib": round(row[1] / 2**20, 1),
        "statements": definition,
    }


def database_facts(url: str) -> dict[str, Any]:
    """Return the serving table's row counts, the data version and server versions."""
    with psycopg.connect(url) as conn:
        rows = dict(
            conn.execute(
                "SELECT edition_code, count(*) FROM lsoa_deprivation GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        versions = conn.execute(
            "SELECT current_setting('server_version'), postgis_full_version(),"
            " current_setting('shared_buffers'), current_setting('jit')"
        ).fetchone()
        data_version = conn.execute("SELECT to_regclass('data_version')").fetchone()
        version = None
        if data_version and data_version[0] is not None:
            found = conn.execute("SELECT * FROM data_version").fetchone()
            version = None if found is None else str(found[0])
    assert versions is not None
    return {
        "lsoa_deprivation_rows": rows,
        "data_version": version,
        "postgresql_version": versions[0],
        "postgis_full_version": versions[1],
        "shared_buffers": versions[2],
        "jit": versions[3],
    }


# --- the tiles -----------------------------------------------------------------------------


def sample_tiles(url: str, seed: int, per_zoom: int, minzoom: int, maxzoom: int) -> list[Tile]:
    """Return a seeded, fixed list of tiles around each region that hold IoD2025 LSOAs."""
    tms = morecantile.tms.get("WebMercatorQuad")
    rng = random.Random(seed)
    dx, dy = REGION_HALF_SIZE_DEGREES
    chosen: dict[tuple[int, int, int], Tile] = {}
    for region, (lon, lat) in REGIONS.items():
        for z in range(minzoom, maxzoom + 1):
            candidates = sorted(
                (t.x, t.y) for t in tms.tiles(lon - dx, lat - dy, lon + dx, lat + dy, [z])
            )
            centre = tms.tile(lon, lat, z)
            picked = {(centre.x, centre.y)}
            picked.update(rng.sample(candidates, min(per_zoom, len(candidates))))
            for x, y in sorted(picked)[: max(per_zoom, 1)]:
                chosen.setdefault((z, x, y), Tile(z, x, y, region))
    tiles = sorted(chosen.values())
    # Keep only tiles that intersect an English LSOA (a tile of sea would be too cheap).
    with psycopg.connect(url) as conn:
        keep = {
            (r[0], r[1], r[2])
            for r in conn.execute(
                """
                SELECT t.z, t.x, t.y
                FROM unnest(%(z)s::int[], %(x)s::int[], %(y)s::int[]) AS t(z, x, y)
                WHERE EXISTS (SELECT 1 FROM lsoa_deprivation l
                              WHERE l.edition_code = %(edition)s
                                AND ST_Intersects(l.geom_3857, ST_TileEnvelope(t.z, t.x, t.y)))
                """,
                {
                    "z": [t.z for t in tiles],
                    "x": [t.x for t in tiles],
                    "y": [t.y for t in tiles],
                    "edition": EDITION,
                },
            )
        }
    return [t for t in tiles if (t.z, t.x, t.y) in keep]


def tiles_digest(tiles: Sequence[Tile]) -> str:
    """Return a short hash of the tile list, to tell whether two runs used the same tiles."""
    text = "\n".join(f"{t.z}/{t.x}/{t.y}" for t in tiles)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shuffled(tiles: Sequence[Tile], seed: int) -> list[Tile]:
    """Return the tiles in a seeded random order (the same order for every server)."""
    order = list(tiles)
    random.Random(seed).shuffle(order)
    return order


# --- raw SQL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileQuery:
    """The SQL Platoons runs for a tile, as a function of the tile, and where it came from."""

    origin: str
    # (statement, parameters, settings run first in the same transaction, if any)
    build: Callable[[Tile], tuple[sql.Composable | str, dict[str, Any], str | None]]


def platoons_tile_query() -> TileQuery:
    """Return the builder of the SQL Platoons runs for a tile (geo.tiles, same parameters)."""

    def build(tile: Tile) -> tuple[sql.Composable, dict[str, Any], str | None]:
        """The service's own query, parameters and plan settings (geo.tiles)."""
        address = geo_tiles.tile_address(
            COLLECTION_ID, SCHEME.id, str(tile.z), str(tile.y), str(tile.x)
        )
        return (
            geo_tiles.tile_query(address),
            geo_tiles.tile_parameters(address),
            geo_tiles.tile_plan_settings(address),
        )

    return TileQuery("geo.tiles.tile_query (geo/sql/tiles/features.sql + tiles/mvt.sql)", build)


# --- servers -------------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """A tile server subprocess that can be (re)started on a free loopback port."""

    name: str
    command: Callable[[int], list[str]]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    ready_path: str
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0
    peak_rss_mib: float = 0.0

    @property
    def pid(self) -> int:
        """Return the running process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        """Start the server and wait until it answers its readiness path with 200."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.starts += 1
        log = self.log_path.open("a", encoding="utf-8")
        log.write(f"\n--- start {self.starts} on port {port} ---\n")
        log.flush()
        self.proc = subprocess.Popen(
            self.command(port),
            env=self.env,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the server ourselves
        )
        log.close()
        if self.name == "platoons":
            wait_for_health(self.proc, self.url, self.log_path)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Poll the readiness path until it returns 200; fail if the process exits."""
        assert self.proc is not None

        def is_ready(response: httpx.Response) -> bool:
            if self.name == "platoons" and response.status_code == 404:
                raise SystemExit(
                    f"Platoons has no tile route yet: GET {self.ready_path} -> 404 "
                    "(run with --servers tipg to measure TiPg alone)"
                )
            return response.status_code == 200

        wait_until_ready(
            self.proc,
            self.name,
            self.log_path,
            f"{self.url}{self.ready_path}",
            is_ready,
            request_timeout=5.0,
            wait_seconds=HEALTH_WAIT_SECONDS,
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and record its peak RSS."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.peak_rss_mib = max(self.peak_rss_mib, peak_rss_mib(self.proc.pid))
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop and start again, emptying whatever the process caches."""
        self.stop()
        self.start()


def peak_rss_mib(pid: int) -> float:
    """Return a (Linux) process's peak resident set size so far, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ensure_tipg_venv() -> Path:
    """Return TiPg's uvicorn, creating ``bench/.venv-tipg`` with tipg and uvicorn if missing."""
    uvicorn = TIPG_VENV / "bin" / "uvicorn"
    if not uvicorn.exists():
        print(f"creating {TIPG_VENV} (pip install tipg uvicorn)")
        subprocess.run(["python3", "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(TIPG_VENV / "bin" / "pip"), "install", "--quiet", "tipg", "uvicorn"], check=True
        )
    return uvicorn


def tipg_version() -> str:
    """Return the installed TiPg version."""
    out = subprocess.run(
        [str(TIPG_VENV / "bin" / "python"), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def tipg_server(url: str, log_path: Path) -> ServerProcess:
    """Return (not started) TiPg serving only the bench table from the bench database."""
    uvicorn = ensure_tipg_venv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATOONS_", "TIPG_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": json.dumps([TIPG_COLLECTION_ID]),
            # No catalogue refresh in the middle of a timed pass (default: every 300 s).
            "TIPG_CATALOG_TTL": "0",
            # TiPg stops at 10,000 features a tile by default; Platoons has no such cap.
            "TIPG_MAX_FEATURES_PER_TILE": "100000",
        }
    )

    def command(port: int) -> list[str]:
        """The uvicorn command line for one start."""
        return [str(uvicorn), "tipg.main:app", "--host", "127.0.0.1", "--port", str(port)]

    return ServerProcess(
        name="tipg",
        command=command,
        env=env,
        cwd=TIPG_VENV,  # away from /work/main/.env, which pydantic-settings would read
        log_path=log_path,
        ready_path=f"/collections/{TIPG_COLLECTION_ID}",
    )


def platoons_server(url: str, log_path: Path) -> ServerProcess:
    """Return (not started) ``platoons serve`` on the bench database."""

    def command(port: int) -> list[str]:
        """The ``platoons serve`` command line for one start."""
        return [platoons_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]

    z, x, y = PROBE_TILE
    return ServerProcess(
        name="platoons",
        command=command,
        env=child_env(url),
        cwd=Path.cwd(),
        log_path=log_path,
        ready_path=f"/collections/{COLLECTION_ID}/tiles/WebMercatorQuad/{z}/{y}/{x}",
    )


def tile_request(server: str, tile: Tile, tipg_geometry: str) -> tuple[str, dict[str, str]]:
    """Return the path and query of one tile on one server."""
    if server == "platoons":
        # OGC API - Tiles: {tileMatrix}/{tileRow}/{tileCol}, i.e. z/y/x.
        return f"/collections/{COLLECTION_ID}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}", {}
    geometry = geometry_column(tile.z) if tipg_geometry == "matched" else geometry_column(99)
    return (
        f"/collections/{TIPG_COLLECTION_ID}/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}",
        {"properties": ",".join(tile_properties(tile.z)), "geom-column": geometry},
    )


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Run:
    """One timed pass (or passes) of tile requests through one path at one concurrency."""

    path: str
    phase: str
    concurrency: int
    tiles: list[Tile]
    latencies_ms: list[float]
    wire_bytes: list[int]
    statuses: list[int]
    encodings: list[str]
    bodies: list[bytes]
    wall_seconds: float
    client_cpu_seconds: float
    server_cpu_seconds: float | None
    errors: list[str]
    # req/s of each pass a merged run was made of (cold: one per restart, interleaved).
    pass_req_per_s: list[float] = field(default_factory=list)

    def by_zoom(self) -> dict[int, list[float]]:
        """Return the latencies grouped by zoom."""
        grouped: dict[int, list[float]] = {}
        for tile, ms in zip(self.tiles, self.latencies_ms, strict=True):
            grouped.setdefault(tile.z, []).append(ms)
        return grouped

    def summary(self, distinct_tiles: int) -> dict[str, Any]:
        """Return throughput, latency percentiles, bytes and errors of the run."""
        lat = sorted(self.latencies_ms)
        ok_bytes = [b for b, s in zip(self.wire_bytes, self.statuses, strict=True) if s == 200]
        per_pass = len(lat) / distinct_tiles
        return {
            "path": self.path,
            "phase": self.phase,
            "concurrency": self.concurrency,
            "requests": len(lat),
            "errors": len(self.errors),
            "req_per_s": round(len(lat) / self.wall_seconds, 2),
            "p50_ms": round(statistics.median(lat), 2),
            "p90_ms": round(percentile(lat, 90), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "mean_ms": round(statistics.fmean(lat), 2),
            "max_ms": round(lat[-1], 2),
            "wall_seconds": round(self.wall_seconds, 3),
            "mean_bytes_per_tile": round(statistics.fmean(ok_bytes)) if ok_bytes else 0,
            "total_bytes_per_pass": round(sum(ok_bytes) / per_pass),
            "content_encodings": sorted(set(self.encodings)),
            "client_cpu_ms_per_request": round(self.client_cpu_seconds * 1000 / len(lat), 2),
            "server_cpu_ms_per_request": (
                None
                if self.server_cpu_seconds is None
                else round(self.server_cpu_seconds * 1000 / len(lat), 2)
            ),
            "p50_ms_by_zoom": {
                str(z): round(statistics.median(v), 2) for z, v in sorted(self.by_zoom().items())
            },
            "error_samples": self.errors[:5],
            "pass_req_per_s": [round(v, 2) for v in self.pass_req_per_s],
        }


async def http_pass(
    server: ServerProcess,
    tiles: Sequence[Tile],
    concurrency: int,
    phase: str,
    tipg_geometry: str,
    accept_encoding: str,
    keep_bodies: bool = False,
) -> Run:
    """Request every tile once per entry of ``tiles`` with ``concurrency`` in flight."""
    n = len(tiles)
    latencies, sizes, statuses = [0.0] * n, [0] * n, [0] * n
    encodings, bodies = [""] * n, [b""] * n
    errors: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Accept-Encoding": accept_encoding}
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=server.url,
        limits=limits,
        timeout=httpx.Timeout(REQUEST_TIMEOUT_SECONDS),
        headers=headers,
    ) as client:

        async def fetch(i: int) -> None:
            """Fetch one tile; the clock stops when the last (still encoded) byte arrives."""
            path, params = tile_request(server.name, tiles[i], tipg_geometry)
            async with semaphore:
                start = time.perf_counter()
                try:
                    async with client.stream("GET", path, params=params) as response:
                        raw = b"".join([chunk async for chunk in response.aiter_raw()])
                except httpx.HTTPError as exc:
                    latencies[i] = (time.perf_counter() - start) * 1000
                    errors.append(f"{tiles[i].z}/{tiles[i].x}/{tiles[i].y}: {exc!r}"[:200])
                    return
                latencies[i] = (time.perf_counter() - start) * 1000
            statuses[i], sizes[i] = response.status_code, len(raw)
            encodings[i] = response.headers.get("content-encoding", "identity")
            if response.status_code != 200:
                errors.append(
                    f"{tiles[i].z}/{tiles[i].x}/{tiles[i].y}: HTTP {response.status_code}"
                )
            if keep_bodies:
                bodies[i] = raw

        server_cpu = process_cpu_seconds(server.pid)
        cpu_start, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(fetch(i) for i in range(n)))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        server_cpu = process_cpu_seconds(server.pid) - server_cpu
    return Run(
        server.name,
        phase,
        concurrency,
        list(tiles),
        latencies,
        sizes,
        statuses,
        encodings,
        bodies if keep_bodies else [],
        wall,
        cpu,
        server_cpu,
        errors,
    )


def sql_pass(url: str, tiles: Sequence[Tile], query: TileQuery, keep_bodies: bool) -> Run:
    """Run Platoons' tile SQL for every tile, one at a time, on one autocommit connection."""
    n = len(tiles)
    latencies, sizes = [0.0] * n, [0] * n
    bodies: list[bytes] = [b""] * n
    errors: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        cpu_start, start = time.process_time(), time.perf_counter()
        for i, tile in enumerate(tiles):
            statement, params, settings = query.build(tile)
            t0 = time.perf_counter()
            try:
                # As geo.tiles.render_tile runs it: a large tile in a transaction with its
                # plan settings first; binary results, prepared (geo.tiles.TILE_EXECUTE).
                with conn.transaction() if settings else nullcontext():
                    if settings:
                        conn.execute(settings)
                    row = conn.execute(statement, params, **geo_tiles.TILE_EXECUTE).fetchone()
            except psycopg.Error as exc:
                latencies[i] = (time.perf_counter() - t0) * 1000
                errors.append(f"{tile.z}/{tile.x}/{tile.y}: {exc}"[:200])
                continue
            latencies[i] = (time.perf_counter() - t0) * 1000
            body = bytes(row[0]) if row and row[0] is not None else b""
            sizes[i] = len(body)
            if keep_bodies:
                bodies[i] = body
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Run(
        "sql",
        "sql",
        1,
        list(tiles),
        latencies,
        sizes,
        [200] * n,
        ["identity"] * n,
        bodies if keep_bodies else [],
        wall,
        cpu,
        None,
        errors,
    )


def report_line(run: Run, distinct: int) -> None:
    """Print one run's headline figures."""
    s = run.summary(distinct)
    print(
        f"  {s['path']:8} {s['phase']:4} c={s['concurrency']:<3} {s['req_per_s']:8.1f} req/s  "
        f"p50 {s['p50_ms']:8.2f} ms  p99 {s['p99_ms']:8.2f} ms  "
        f"{s['mean_bytes_per_tile']:>8} B/tile  errors {s['errors']}"
    )


# --- what the servers send -----------------------------------------------------------------


def decode_body(raw: bytes, encoding: str) -> bytes:
    """Undo the HTTP content encoding of a tile body."""
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "br":
        return brotli.decompress(raw)
    if encoding == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return zlib.decompress(raw, -zlib.MAX_WBITS)
    return raw


def mvt_facts(body: bytes) -> dict[str, Any]:
    """Return an MVT's layers with their extent, feature count, keys and geometry size."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(body)
    return {
        layer.name: {
            "extent": layer.extent,
            "features": len(layer.features),
            # Parallel ST_AsMVT (partial aggregates combined) may repeat keys; count each once.
            "keys": sorted(set(layer.keys)),
            "key_entries": len(layer.keys),
            "with_id": sum(1 for f in layer.features if f.HasField("id")),
            "geometry_ints": sum(len(f.geometry) for f in layer.features),
        }
        for layer in tile.layers
    }


def in_tile_order(run: Run) -> Run:
    """Return a one-pass run with its requests sorted by tile (z, x, y)."""
    order = sorted(range(len(run.tiles)), key=lambda i: run.tiles[i])

    def pick(values: list[Any]) -> list[Any]:
        """The values in tile order (an unkept list stays empty)."""
        return [values[i] for i in order] if values else []

    return Run(
        run.path,
        run.phase,
        run.concurrency,
        pick(run.tiles),
        pick(run.latencies_ms),
        pick(run.wire_bytes),
        pick(run.statuses),
        pick(run.encodings),
        pick(run.bodies),
        run.wall_seconds,
        run.client_cpu_seconds,
        run.server_cpu_seconds,
        run.errors,
    )


def content_key(facts: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Return what a tile holds, leaving out what depends on the plan (key repetitions)."""
    return {
        name: (
            layer["extent"],
            layer["features"],
            layer["keys"],
            layer["with_id"],
            layer["geometry_ints"],
        )
        for name, layer in facts.items()
    }


def content_report(runs: dict[str, Run]) -> dict[str, Any]:
    """Describe what each path sent for the tile set: bytes, features, keys, extents."""
    out: dict[str, Any] = {}
    facts_by_path: dict[str, list[dict[str, Any]]] = {}
    for path, unordered in runs.items():
        run = in_tile_order(unordered)  # the paths fetched the tiles in different orders
        decoded = [
            decode_body(b, e) if s == 200 else b""
            for b, e, s in zip(run.bodies, run.encodings, run.statuses, strict=True)
        ]
        facts = [mvt_facts(d) for d in decoded]
        facts_by_path[path] = facts
        layers = {name for f in facts for name in f}
        keys_by_band: dict[str, set[str]] = {}
        for tile, f in zip(run.tiles, facts, strict=True):
            band = f"z<={LOW_ZOOM_MAX}" if tile.z <= LOW_ZOOM_MAX else f"z>{LOW_ZOOM_MAX}"
            for layer in f.values():
                keys_by_band.setdefault(band, set()).update(layer["keys"])
        by_zoom: dict[int, list[int]] = {}
        for tile, d in zip(run.tiles, decoded, strict=True):
            by_zoom.setdefault(tile.z, []).append(len(d))
        out[path] = {
            "layers": sorted(layers),
            "extents": sorted({layer["extent"] for f in facts for layer in f.values()}),
            "keys": {band: sorted(k) for band, k in sorted(keys_by_band.items())},
            "features_total": sum(layer["features"] for f in facts for layer in f.values()),
            "features_with_id": sum(layer["with_id"] for f in facts for layer in f.values()),
            "geometry_ints_total": sum(
                layer["geometry_ints"] for f in facts for layer in f.values()
            ),
            "mvt_bytes_total": sum(len(d) for d in decoded),
            "mvt_bytes_mean": round(statistics.fmean(len(d) for d in decoded)),
            "mvt_bytes_max": max(len(d) for d in decoded),
            "wire_bytes_total": sum(run.wire_bytes),
            "content_encodings": sorted(set(run.encodings)),
            "mvt_bytes_mean_by_zoom": {
                str(z): round(statistics.fmean(v)) for z, v in sorted(by_zoom.items())
            },
            "_decoded": decoded,
        }
    if "platoons" in out and "sql" in out:
        same = sum(
            1
            for a, b in zip(out["platoons"]["_decoded"], out["sql"]["_decoded"], strict=True)
            if a == b
        )
        out["platoons_identical_to_sql_tiles"] = same
        # Bytes depend on feature order and on how a parallel plan combined partial tiles
        # (repeated keys), neither of which the SQL fixes; compare content instead.
        out["platoons_same_features_as_sql_tiles"] = sum(
            1
            for a, b in zip(facts_by_path["platoons"], facts_by_path["sql"], strict=True)
            if content_key(a) == content_key(b)
        )
    if "platoons" in facts_by_path and "tipg" in facts_by_path:
        differ = 0
        for a, b in zip(facts_by_path["platoons"], facts_by_path["tipg"], strict=True):
            count_a = sum(layer["features"] for layer in a.values())
            count_b = sum(layer["features"] for layer in b.values())
            differ += count_a != count_b
        out["tiles_with_different_feature_counts_platoons_vs_tipg"] = differ
    for path in list(out):
        if isinstance(out[path], dict):
            out[path].pop("_decoded", None)
    return out


# --- judging and reporting -----------------------------------------------------------------


def find(summaries: Sequence[dict[str, Any]], path: str, phase: str, c: int) -> dict[str, Any]:
    """Return the summary of one path, phase and concurrency (empty if not measured)."""
    for s in summaries:
        if (s["path"], s["phase"], s["concurrency"]) == (path, phase, c):
            return s
    return {}


def targets(
    summaries: Sequence[dict[str, Any]],
    levels: Sequence[int],
    peak_rss_mib: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Judge the targets (issue 4's warm ratio, issue 20's cold ones and memory).

    Cold throughput is compared pass by pass (each pair of passes ran back to back, servers
    taking turns after a restart) and judged on the median of those ratios. A side with
    errors cannot pass.
    """
    checks: list[dict[str, Any]] = []
    for c in levels:
        p, t = find(summaries, "platoons", "warm", c), find(summaries, "tipg", "warm", c)
        if not p or not t:
            continue
        ratio = p["req_per_s"] / t["req_per_s"]
        checks.append(
            {
                "target": f"warm req/s >= {TARGET_WARM_RATIO:.1f}x TiPg (c={c})",
                "measured": f"{ratio:.2f}x ({p['req_per_s']:.1f} vs {t['req_per_s']:.1f})",
                "result": verdict(ratio >= TARGET_WARM_RATIO and p["errors"] == 0),
            }
        )
    for c in levels:
        p, t = find(summaries, "platoons", "cold", c), find(summaries, "tipg", "cold", c)
        if not p or not t:
            continue
        pairs = list(zip(p.get("pass_req_per_s", []), t.get("pass_req_per_s", []), strict=False))
        ratios = [a / b for a, b in pairs] or [p["req_per_s"] / t["req_per_s"]]
        ratio = statistics.median(ratios)
        checks.append(
            {
                "target": f"cold req/s >= {TARGET_COLD_RATIO:.1f}x TiPg (c={c}, median of passes)",
                "measured": f"{ratio:.2f}x (passes "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + f"; overall {p['req_per_s']:.1f} vs {t['req_per_s']:.1f})",
                "result": verdict(ratio >= TARGET_COLD_RATIO and p["errors"] == 0),
            }
        )
    cold = find(summaries, "platoons", "cold", 1)
    warm = find(summaries, "platoons", "warm", 1)
    raw = find(summaries, "sql", "sql", 1)
    if cold and warm and raw:
        parts = warm["p50_ms"] + raw["p50_ms"]
        ratio = cold["p50_ms"] / parts
        checks.append(
            {
                "target": f"Platoons cold p50 <= {TARGET_COLD_P50_OVER_PARTS:.1f}x "
                "(warm p50 + raw SQL p50) (c=1)",
                "measured": f"{ratio:.2f}x ({cold['p50_ms']:.2f} vs {warm['p50_ms']:.2f} + "
                f"{raw['p50_ms']:.2f} ms)",
                "result": verdict(ratio <= TARGET_COLD_P50_OVER_PARTS and cold["errors"] == 0),
            }
        )
    rss = peak_rss_mib or {}
    if rss.get("platoons") and rss.get("tipg"):
        ratio = rss["platoons"] / rss["tipg"]
        checks.append(
            {
                "target": f"server peak RSS <= {TARGET_RSS_RATIO:.1f}x TiPg's",
                "measured": f"{ratio:.2f}x ({rss['platoons']:.0f} vs {rss['tipg']:.0f} MiB)",
                "result": verdict(ratio <= TARGET_RSS_RATIO),
            }
        )
    return checks


def report(result: dict[str, Any]) -> str:
    """Return the markdown tables of one benchmark result."""
    summaries = result["runs"]
    rows = [
        [
            s["path"],
            s["phase"],
            s["concurrency"],
            s["requests"],
            f"{s['req_per_s']:.1f}",
            f"{s['p50_ms']:.2f}",
            f"{s['p99_ms']:.2f}",
            f"{s['mean_bytes_per_tile']:,}",
            f"{s['total_bytes_per_pass'] / 2**20:.2f}",
            "/".join(s["content_encodings"]),
            "" if s["server_cpu_ms_per_request"] is None else s["server_cpu_ms_per_request"],
            s["client_cpu_ms_per_request"],
            s["errors"],
        ]
        for s in summaries
    ]
    parts = [
        markdown_table(
            [
                "path",
                "phase",
                "c",
                "requests",
                "req/s",
                "p50 ms",
                "p99 ms",
                "bytes/tile (wire)",
                "MiB/pass (wire)",
                "encoding",
                "server CPU ms/req",
                "client CPU ms/req",
                "errors",
            ],
            rows,
        )
    ]
    ratio_rows = []
    for phase in ("cold", "warm"):
        for c in result["settings"]["concurrency"]:
            p, t = find(summaries, "platoons", phase, c), find(summaries, "tipg", phase, c)
            if p and t:
                ratio_rows.append(
                    [
                        phase,
                        c,
                        f"{p['req_per_s'] / t['req_per_s']:.2f}",
                        f"{t['p50_ms'] / p['p50_ms']:.2f}",
                        f"{t['p99_ms'] / p['p99_ms']:.2f}",
                        f"{p['mean_bytes_per_tile'] / t['mean_bytes_per_tile']:.2f}",
                    ]
                )
    if ratio_rows:
        parts.append(
            markdown_table(
                [
                    "Platoons vs TiPg",
                    "c",
                    "req/s ×",
                    "p50 TiPg/Platoons",
                    "p99 TiPg/Platoons",
                    "wire bytes Platoons/TiPg",
                ],
                ratio_rows,
            )
        )
    content = result["content"]
    content_rows = [
        [
            path,
            ", ".join(c["layers"]),
            ", ".join(str(e) for e in c["extents"]),
            c["features_total"],
            c["features_with_id"],
            f"{c['mvt_bytes_mean']:,}",
            f"{c['mvt_bytes_total'] / 2**20:.2f}",
            f"{c['wire_bytes_total'] / 2**20:.2f}",
            "; ".join(f"{band}: {len(keys)}" for band, keys in c["keys"].items()),
        ]
        for path, c in content.items()
        if isinstance(c, dict)
    ]
    parts.append(
        markdown_table(
            [
                "content (one cold pass)",
                "layer",
                "extent",
                "features",
                "with id",
                "MVT bytes/tile",
                "MVT MiB",
                "wire MiB",
                "property keys",
            ],
            content_rows,
        )
    )
    parts.append(targets_table(result["targets"]))
    return "\n\n".join(parts)


# --- the run -------------------------------------------------------------------------------


def measure(
    args: argparse.Namespace, url: str, tiles: list[Tile], servers: list[ServerProcess]
) -> tuple[list[Run], dict[str, Run], str]:
    """Prime, then time raw SQL, cold and warm passes; return runs and the cold bodies."""
    query = platoons_tile_query()
    order = shuffled(tiles, args.seed)
    distinct = len(tiles)
    runs: list[Run] = []
    bodies: dict[str, Run] = {}

    # Prime PostgreSQL's and the OS's caches with each server's own queries, so "cold" below
    # means a freshly started server process, not a cold database (shared here with others).
    print("priming: one uncounted pass per path")
    sql_pass(url, order, query, keep_bodies=False)
    for server in servers:
        asyncio.run(http_pass(server, order, 4, "prime", args.tipg_geometry, args.accept_encoding))

    print(f"raw SQL ({query.origin}), c=1, {args.sql_repeats} passes")
    sql_runs = [
        sql_pass(url, shuffled(tiles, args.seed + k), query, keep_bodies=(k == 0))
        for k in range(args.sql_repeats)
    ]
    combined = merge_runs(sql_runs)
    bodies["sql"] = sql_runs[0]
    runs.append(combined)
    report_line(combined, distinct)

    for c in args.concurrency:
        print(f"cold, c={c} ({args.cold_repeats} passes, each after a restart; each tile once)")
        cold: dict[str, list[Run]] = {server.name: [] for server in servers}
        for k in range(args.cold_repeats):
            # Servers take turns pass by pass, so a busy moment on the machine hits both.
            for server in servers:
                server.restart()
                first = c == args.concurrency[0] and k == 0
                run = asyncio.run(
                    http_pass(
                        server,
                        shuffled(tiles, args.seed + 200 + k),
                        c,
                        "cold",
                        args.tipg_geometry,
                        args.accept_encoding,
                        keep_bodies=first,
                    )
                )
                if first:
                    bodies[server.name] = run
                cold[server.name].append(run)
        for server in servers:
            run = merge_runs(cold[server.name])
            runs.append(run)
            report_line(run, distinct)
    for c in args.concurrency:
        print(f"warm, c={c} ({args.warm_repeats} passes)")
        for server in servers:
            warm_order = [
                t for k in range(args.warm_repeats) for t in shuffled(tiles, args.seed + 100 + k)
            ]
            run = asyncio.run(
                http_pass(server, warm_order, c, "warm", args.tipg_geometry, args.accept_encoding)
            )
            runs.append(run)
            report_line(run, distinct)
    return runs, bodies, query.origin


def merge_runs(parts: Sequence[Run]) -> Run:
    """Return several passes of one path as a single run (walls and CPU times added)."""
    first = parts[0]
    return Run(
        first.path,
        first.phase,
        first.concurrency,
        [t for p in parts for t in p.tiles],
        [v for p in parts for v in p.latencies_ms],
        [v for p in parts for v in p.wire_bytes],
        [v for p in parts for v in p.statuses],
        [v for p in parts for v in p.encodings],
        [],
        sum(p.wall_seconds for p in parts),
        sum(p.client_cpu_seconds for p in parts),
        None
        if any(p.server_cpu_seconds is None for p in parts)
        else sum(p.server_cpu_seconds or 0.0 for p in parts),
        [e for p in parts for e in p.errors],
        [len(p.latencies_ms) / p.wall_seconds for p in parts],
    )


@contextmanager
def started(servers: Sequence[ServerProcess]) -> Iterator[None]:
    """Start every server; stop them all on the way out, whatever happens."""
    with ExitStack() as stack:
        for server in servers:
            stack.callback(server.stop)
            server.start()
            print(f"{server.name} at {server.url} (pid {server.pid})")
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole benchmark; return 0 when every target passes, 1 otherwise."""
    args = parse_args(argv)
    admin_url, url = database_urls()
    url = urlunsplit(urlsplit(url)._replace(path=f"/{args.database}"))
    started_at, stamp = start_run(RESULTS_DIR)

    ensure_loaded(admin_url, url, args.load, args.source, stamp, args.database)
    facts = database_facts(url)
    tipg_table = create_tipg_table(url) if "tipg" in args.servers else None
    tiles = sample_tiles(url, args.seed, args.per_zoom, args.minzoom, args.maxzoom)
    by_zoom = {z: sum(1 for t in tiles if t.z == z) for z in sorted({t.z for t in tiles})}
    print(f"{len(tiles)} tiles (seed {args.seed}, digest {tiles_digest(tiles)}): {by_zoom}")

    servers: list[ServerProcess] = []
    if "platoons" in args.servers:
        servers.append(platoons_server(url, RESULTS_DIR / f"tiles-{stamp}-platoons.log"))
    if "tipg" in args.servers:
        servers.append(tipg_server(url, RESULTS_DIR / f"tiles-{stamp}-tipg.log"))
    with started(servers):
        runs, bodies, sql_origin = measure(args, url, tiles, servers)

    distinct = len(tiles)
    summaries = [run.summary(distinct) for run in runs]
    result: dict[str, Any] = {
        "benchmark": "tiles",
        "started_utc": started_at.isoformat(),
        "finished_utc": datetime.now(UTC).isoformat(),
        "command": " ".join(
            [".venv/bin/python", "-m", "bench.tiles", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine_facts(),
        "database": {"name": args.database, **facts, "tipg_table": tipg_table},
        "versions": {
            "tipg": tipg_version() if "tipg" in args.servers else None,
            "httpx": httpx.__version__,
        },
        "settings": {
            "seed": args.seed,
            "per_zoom": args.per_zoom,
            "zooms": [args.minzoom, args.maxzoom],
            "tiles": distinct,
            "tiles_by_zoom": by_zoom,
            "tiles_digest": tiles_digest(tiles),
            "concurrency": args.concurrency,
            "warm_repeats": args.warm_repeats,
            "sql_repeats": args.sql_repeats,
            "cold_repeats": args.cold_repeats,
            "servers": args.servers,
            "tipg_geometry": args.tipg_geometry,
            "accept_encoding": args.accept_encoding,
            "sql_origin": sql_origin,
            "server_restarts": {s.name: s.starts for s in servers},
            "server_peak_rss_mib": {s.name: round(s.peak_rss_mib, 1) for s in servers},
        },
        "tiles": [f"{t.z}/{t.x}/{t.y} {t.region}" for t in tiles],
        "runs": summaries,
        "content": content_report(bodies),
        "targets": targets(summaries, args.concurrency, {s.name: s.peak_rss_mib for s in servers}),
    }
    out = RESULTS_DIR / f"tiles-{stamp}.json"
    write_json(out, result)

    print()
    print(report(result))
    print()
    for key in (
        "platoons_identical_to_sql_tiles",
        "platoons_same_features_as_sql_tiles",
        "tiles_with_different_feature_counts_platoons_vs_tipg",
    ):
        if key in result["content"]:
            print(f"{key.replace('_', ' ')}: {result['content'][key]} of {distinct}")
    print(f"results written to {out}")
    return exit_status(result["targets"])


if __name__ == "__main__":
    run_main(main, "interrupted; the server subprocesses were stopped")
