"""Street-level crime benchmark (issue 17): import, summary and pack, beside a geopandas peer.

Run with ``flock /tmp/platoons-bench.lock .venv/bin/python -m bench.crime``. It uses the
database named by ``--database`` on the server of ``PLATOONS_DATABASE_URL`` (default
``platoons_crime_bench``): the schema is upgraded, and the boundaries are loaded from
``--source`` (default the demo extract; ``data/national``
for all of England) only when the database has none. Then it times

* the import of both police.uk files in ``data/national/crime`` (Greater Manchester burglary
  points and Merseyside shoplifting street rows, 100,596 crimes) with the ``platoons load
  crime`` command, twice (a first import into an empty crime store, then a re-import
  replacing the same force-months);
* ``GET /crime/summary`` over districts, wards, LSOAs and H3 cells, and ``GET /crime/pack``,
  one client at a time, against a ``platoons serve`` subprocess;
* a geopandas peer: the same rows read with pandas, the GMP points joined to the 2011 LSOAs
  with ``geopandas.sjoin`` and counted with ``groupby`` (Merseyside rows by their own codes),
  checked LSOA by LSOA against what the import stored.

Results are printed as markdown and written to ``bench/results/crime-<UTC timestamp>.json``;
the exit status is 1 when a target of issue 17 fails (import <= 10 s; summary p50 <= 20 ms;
pack p50 <= 300 ms).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import httpx
import pandas as pd
import psycopg

from bench import harness
from data import schema
from data.loaders import load_all

CRIME_DIR = Path(__file__).resolve().parent.parent / "data" / "national" / "crime"
FILES = sorted(CRIME_DIR.glob("*.csv.gz"))
DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
TARGETS = {"load_seconds": 10.0, "summary_p50_ms": 20.0, "pack_p50_ms": 300.0}
WINDOW = {"from": "2018-02", "to": "2019-01"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="platoons_crime_bench")
    parser.add_argument("--source", type=Path, default=DEMO_DIR, help="boundaries to load")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over the areas")
    parser.add_argument("--warmup", type=int, default=1)
    return parser.parse_args(argv)


def database_url(name: str) -> tuple[str, str]:
    """The admin and benchmark database URLs on the configured server."""
    admin, bench = harness.database_urls()
    return admin, urlunsplit(urlsplit(bench)._replace(path=f"/{name}"))


def prepare(admin: str, url: str, source: Path) -> dict[str, Any]:
    """Create, migrate and (when empty) load the boundaries; return what the database holds."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema.upgrade(sqlalchemy_url)
    with psycopg.connect(url) as conn:
        (lsoas,) = conn.execute("SELECT count(*) FROM lsoa WHERE vintage = 2011").fetchone() or (0,)
        if not lsoas:
            load_all(conn, source)
            (lsoas,) = conn.execute(
                "SELECT count(*) FROM lsoa WHERE vintage = 2011"
            ).fetchone() or (0,)
        # The first import starts from no crimes held (the second then replaces all of them).
        (held,) = conn.execute("SELECT count(*) FROM crime").fetchone() or (0,)
        conn.execute(
            "TRUNCATE crime, crime_month, crime_load, crime_force_lad, crime_lsoa_serving,"
            " crime_h3_serving, crime_lsoa_count, crime_location_count"
        )
    return {"database": name, "lsoa11_loaded": lsoas, "crimes_held_before": held}


def areas(url: str) -> list[str]:
    """The areas a summary is timed for: districts, wards, LSOAs and H3 cells with crimes."""
    with psycopg.connect(url) as conn:
        lads = [
            r[0]
            for r in conn.execute(
                "SELECT lad_code FROM crime_force_lad ORDER BY crimes DESC LIMIT 2"
            ).fetchall()
        ]
        wards = [
            r[0]
            for r in conn.execute(
                "SELECT ward_code FROM crime WHERE ward_code IS NOT NULL GROUP BY 1"
                " ORDER BY count(*) DESC, 1 LIMIT 8"
            ).fetchall()
        ]
        lsoas = [
            r[0]
            for r in conn.execute(
                "SELECT lsoa21_code FROM crime WHERE lsoa21_code IS NOT NULL GROUP BY 1"
                " ORDER BY count(*) DESC, 1 LIMIT 16"
            ).fetchall()
        ]
        cells = [
            r[0]
            for r in conn.execute(
                "SELECT cell FROM crime_h3_serving WHERE resolution = 8"
                " ORDER BY crimes DESC, cell LIMIT 6"
            ).fetchall()
        ]
    return [*lads, *wards, *lsoas, *cells]


def timed_requests(
    base: str, path: str, queries: list[dict[str, str]], rounds: int, warmup: int
) -> dict[str, Any]:
    """Time GETs one at a time (after a warm-up pass); every answer must be 200."""
    timings: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for round_number in range(warmup + rounds):
            for params in queries:
                start = time.perf_counter()
                response = client.get(path, params=params)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} {params}: {response.status_code} {response.text}")
                if round_number >= warmup:
                    timings.append(elapsed)
    ordered = sorted(timings)
    return {
        "path": path,
        "requests": len(ordered),
        "p50_ms": harness.percentile(ordered, 50),
        "p95_ms": harness.percentile(ordered, 95),
        "mean_ms": statistics.fmean(ordered),
    }


def geopandas_peer(url: str) -> dict[str, Any]:
    """Count crimes per 2011 LSOA with pandas + geopandas; compare with the import."""
    with psycopg.connect(url) as conn:
        lsoas = gpd.read_postgis(
            "SELECT code AS lsoa11_code, geom FROM lsoa WHERE vintage = 2011", conn, geom_col="geom"
        )
        stored: dict[str, int] = dict(
            conn.execute(
                "SELECT lsoa11_code, count(*) FROM crime WHERE lsoa11_code IS NOT NULL"
                " AND NOT outside_boundaries GROUP BY 1"
            ).fetchall()
        )
    start = time.perf_counter()
    gmp = pd.read_csv(CRIME_DIR / "gmp_burglary_2016-02_2019-01_points.csv.gz")
    merseyside = pd.read_csv(CRIME_DIR / "merseyside_shoplifting_2019-05_2020-05_street.csv.gz")
    points = gpd.GeoDataFrame(
        gmp, geometry=gpd.points_from_xy(gmp.Longitude, gmp.Latitude), crs=4326
    ).to_crs(27700)
    read_seconds = time.perf_counter() - start
    start = time.perf_counter()
    joined = gpd.sjoin(points, lsoas, predicate="intersects")
    first = joined.groupby(level=0)["lsoa11_code"].min()  # one LSOA a point, as PostGIS picks
    counts = first.value_counts()
    given = merseyside["LSOA code"].value_counts()
    counts = counts.add(given[given.index.isin(lsoas.lsoa11_code)], fill_value=0).astype(int)
    join_seconds = time.perf_counter() - start
    peer = {code: int(n) for code, n in counts.items()}
    differing = sorted(c for c in set(peer) | set(stored) if peer.get(c, 0) != stored.get(c, 0))
    return {
        "read_seconds": read_seconds,
        "sjoin_groupby_seconds": join_seconds,
        "total_seconds": read_seconds + join_seconds,
        "lsoas": len(peer),
        "crimes_placed": sum(peer.values()),
        "stored_crimes_placed": sum(stored.values()),
        "lsoas_differing": len(differing),
        "examples_differing": differing[:10],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print markdown; exit 1 if a target fails."""
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    admin, url = database_url(args.database)
    facts = prepare(admin, url, args.source)
    env = harness.child_env(url)
    command = ["load", "crime", *(str(f) for f in FILES)]
    load_before = os.getloadavg()
    first = harness.run_platoons(command, env, harness.RESULTS_DIR / f"crime-{stamp}-load1.log")
    second = harness.run_platoons(command, env, harness.RESULTS_DIR / f"crime-{stamp}-load2.log")
    # The importer's own time (without the command's start-up), from its report line.
    inside = [
        float(m.group(1))
        if (m := re.search(r"Crime imported in ([0-9.]+) s", Path(r.log).read_text()))
        else None
        for r in (first, second)
    ]
    with psycopg.connect(url) as conn:
        (crimes,) = conn.execute("SELECT count(*) FROM crime").fetchone() or (0,)
    peer = geopandas_peer(url)
    chosen = areas(url)
    with harness.running_server(url, harness.RESULTS_DIR / f"crime-{stamp}-server.log") as server:
        summary = timed_requests(
            server.url,
            "/crime/summary",
            [{"area": a, **WINDOW} for a in chosen],
            args.rounds,
            args.warmup,
        )
        pack = timed_requests(
            server.url,
            "/crime/pack",
            [{"area": a, "months": "6", "to": WINDOW["to"]} for a in chosen[:6]],
            args.rounds,
            args.warmup,
        )
    checks = [
        ("import of both files <= 10 s (first)", f"{first.wall_seconds:.1f} s",
         first.wall_seconds <= TARGETS["load_seconds"]),
        ("import of both files <= 10 s (re-import)", f"{second.wall_seconds:.1f} s",
         second.wall_seconds <= TARGETS["load_seconds"]),
        ("summary p50 <= 20 ms (c=1)", f"{summary['p50_ms']:.1f} ms",
         summary["p50_ms"] <= TARGETS["summary_p50_ms"]),
        ("pack p50 <= 300 ms (c=1)", f"{pack['p50_ms']:.1f} ms",
         pack["p50_ms"] <= TARGETS["pack_p50_ms"]),
        ("geopandas peer gives the same counts per LSOA", f"{peer['lsoas_differing']} differ",
         peer["lsoas_differing"] == 0),
    ]  # fmt: skip
    result = {
        "stamp": stamp,
        "machine": harness.machine_facts(),
        "database": facts,
        "crimes_stored": crimes,
        "loads": [first.__dict__, second.__dict__],
        "import_seconds_inside_command": inside,
        "load_average_before_and_after": [load_before, os.getloadavg()],
        "summary": summary,
        "pack": pack,
        "areas": chosen,
        "geopandas": peer,
        "ratio_import_to_geopandas": first.wall_seconds / peer["total_seconds"],
        "targets": [
            {"target": t, "measured": m, "result": harness.verdict(ok)} for t, m, ok in checks
        ],
    }
    out = harness.save_result("crime", stamp, result, default=str)
    print(f"## Crime benchmark {stamp} ({facts['database']}, {crimes:,} crimes)\n")  # noqa: T201
    print(
        harness.markdown_table(
            ["target", "measured", "result"], [(t, m, harness.verdict(ok)) for t, m, ok in checks]
        )
    )  # noqa: T201, E501
    print(  # noqa: T201
        f"\nsummary p95 {summary['p95_ms']:.1f} ms over {summary['requests']} requests; pack p95 "
        f"{pack['p95_ms']:.1f} ms; geopandas read {peer['read_seconds']:.2f} s + sjoin/groupby "
        f"{peer['sjoin_groupby_seconds']:.2f} s; import/geopandas ratio "
        f"{result['ratio_import_to_geopandas']:.1f}; importer's own time {inside} s; load "
        f"average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after\nwritten to {out}"
    )
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
