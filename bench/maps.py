"""Map pages benchmark (issue 8): each map page's first meaningful render in Chromium.

Run with ``.venv/bin/python -m bench.maps``. It serves all of England from ``platoons_bench``
(loaded by ``python -m bench.foundation``; reused, never reloaded here) through
``platoons serve``, and opens each map page (``/maps/deprivation``, ``/maps/eligibility``,
``/maps/assets``, ``/maps/coverage``) in headless Debian chromium through Playwright, at
1280 x 800 CSS pixels. From the browser's navigation start it reads:

* ``html_ms``: the page's HTML received (Navigation Timing ``responseEnd``);
* ``first_features_ms``: the first vector tile with features drawn on its canvas (the
  ``platoons:first-features`` performance mark set by ``app/static/maps/platoons-maps.js``):
  the first meaningful render. It counts the page's subject: base layers, and on the assets
  page the asset markers (not the decile underlay); outline overlays never count;
* ``layers_first_ms``: when each layer on the map first drew features;
* ``settled_ms``: every tile in view of every layer on the map drawn (the layers' ``load``).

The assets page needs assets in the register and the coverage page computed coverage. With
``--seed-assets N`` the benchmark imports, once, a synthetic national register of N assets
(references ``BENCH-ACV-*``, names ``SYNTHETIC EXAMPLE``, flagged ``is_example``; at seeded
random points of seeded random LSOAs across England; statuses spread over the lifecycle)
through ``geo.assets.import_register``, as ``platoons assets import`` would.

*Cold* runs restart the server before each page load (empty tile and extent caches: every tile
is rendered by PostGIS); *warm* runs load the page again on that server. Every run uses a new
browser context, so the browser's HTTP cache is always empty. Results are printed as markdown
and written to ``bench/results/maps-<UTC timestamp>.json``; exit status 1 if a median first
render exceeds the 2 s target.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from playwright.sync_api import Browser, sync_playwright
from psycopg import sql

from bench import harness
from geo import assets
from tests.utils.browser import CHROMIUM, VIEWPORT, launch_chromium

PAGES = ("/maps/deprivation", "/maps/eligibility", "/maps/assets", "/maps/coverage")
SEED_PREFIX = "BENCH-ACV-"
SEED = 20261125
TARGET_FIRST_RENDER_MS = 2000.0
PAGE_TIMEOUT_MS = 60_000

FIRST_FEATURES = "() => window.PlatoonsMaps && window.PlatoonsMaps.firstFeaturesAt !== null"
SETTLED = """() => {
  const layers = Object.values(window.PlatoonsMaps.layers).filter((l) => l._map);
  return layers.length > 0 && layers.every((l) => l.loadedAt !== undefined && !l.isLoading());
}"""
TIMINGS = """() => {
  const maps = window.PlatoonsMaps;
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = performance.getEntriesByName('platoons:first-features')[0];
  const layers = Object.values(maps.layers).filter((l) => l._map);
  const tiles = performance.getEntriesByType('resource').filter((r) => r.name.includes('/tiles/'));
  return {
    html_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    first_features_ms: mark ? mark.startTime : null,
    first_layer: maps.firstLayer,
    settled_ms: Math.max(...layers.map((l) => l.loadedAt)),
    zoom: maps.map.getZoom(),
    layers_on_map: layers.map((l) => l.options.key),
    layers_first_ms: Object.fromEntries(layers.map((l) => [l.options.key, l.firstDrawnAt ?? null])),
    tiles_drawn: layers.reduce((n, l) => n + l.tilesDrawn, 0),
    features_drawn: layers.reduce((n, l) => n + l.featuresDrawn, 0),
    tile_requests: tiles.length,
    tile_bytes_transferred: tiles.reduce((n, r) => n + r.transferSize, 0),
    tile_bytes_decoded: tiles.reduce((n, r) => n + r.decodedBodySize, 0),
    tile_errors: layers.reduce((n, l) => n + l.tileErrors, 0),
  };
}"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.maps", description=__doc__)
    parser.add_argument(
        "--cold", type=int, default=3, help="cold loads per page, each on a restarted server"
    )
    parser.add_argument("--warm", type=int, default=5, help="warm loads per page (%(default)s)")
    parser.add_argument(
        "--pages", nargs="+", choices=PAGES, default=list(PAGES), help="pages to open (all)"
    )
    parser.add_argument(
        "--database",
        default=None,
        help=f"an all-England database other than {harness.BENCH_DB} on the same server "
        "(another benchmark may be using that one)",
    )
    parser.add_argument(
        "--seed-assets",
        type=int,
        default=0,
        metavar="N",
        help="first import a synthetic national register of N assets (once; see above)",
    )
    args = parser.parse_args(argv)
    if args.cold < 1 or args.warm < 1:
        parser.error("need --cold >= 1 and --warm >= 1")
    if args.seed_assets < 0:
        parser.error("need --seed-assets >= 0")
    return args


# Statuses of the synthetic register, in turn: the columns of the national format that state
# them (decision, decision-date, notification-to-sell-date, interested-group, nomination).
_SEED_STATES: tuple[dict[str, str], ...] = (
    {"decision": "listed", "decision-date": "2025-03-03"},
    {"decision": "listed", "decision-date": "2024-06-03"},
    {"decision": "not-listed", "decision-date": "2025-05-05"},
    {"nomination-date": "2026-10-26"},
    {
        "decision": "listed",
        "decision-date": "2023-09-04",
        "notification-to-sell-date": "2026-11-16",
    },
    {
        "decision": "listed",
        "decision-date": "2022-01-10",
        "notification-to-sell-date": "2026-10-05",
        "interested-group": "SYNTHETIC EXAMPLE Friends",
    },
)
SEED_POINTS_SQL = """
SELECT l.code, ST_X(p.geom), ST_Y(p.geom)
FROM (SELECT code, geom_4326 FROM lsoa_deprivation WHERE edition_code = 'IoD2025'
      ORDER BY md5(code || %(seed)s::text) LIMIT %(n)s) AS l
CROSS JOIN LATERAL ST_GeometryN(ST_GeneratePoints(l.geom_4326, 1, %(seed)s), 1) AS p(geom)
ORDER BY l.code
"""


def synthetic_register(url: str, n: int) -> str:
    """A national-format CSV of ``n`` synthetic assets at seeded points across England."""
    with psycopg.connect(url) as conn:
        points = conn.execute(SEED_POINTS_SQL, {"seed": SEED, "n": n}).fetchall()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(assets.NATIONAL_FIELDS))
    writer.writeheader()
    categories = ("pub", "shop", "library", "park_green_space", "community_centre")
    for i, (code, lon, lat) in enumerate(points, start=1):
        state = _SEED_STATES[i % len(_SEED_STATES)]
        nominated = (
            state.get("nomination-date")
            or (date.fromisoformat(state["decision-date"]) - timedelta(weeks=6)).isoformat()
        )
        writer.writerow(
            {
                "reference": f"{SEED_PREFIX}{i:05d}",
                "name": f"SYNTHETIC EXAMPLE {categories[i % len(categories)]} {i} ({code})",
                "description": "Synthetic benchmark entry: not a real asset.",
                "point": f"POINT({lon:.6f} {lat:.6f})",
                "nomination-date": nominated,
                "nominating-group": "SYNTHETIC EXAMPLE Residents",
                "notes": "SYNTHETIC EXAMPLE DATA for bench.maps",
                **state,
            }
        )
    return out.getvalue()


def seed_assets(url: str, n: int) -> dict[str, Any]:
    """Import the synthetic register once (skipped when its entries are there already)."""
    with psycopg.connect(url) as conn:
        (present,) = conn.execute(
            "SELECT count(*) FROM asset WHERE reference LIKE %s", (SEED_PREFIX + "%",)
        ).fetchone() or (0,)
    if present >= n:
        return {"seeded": 0, "present": present}
    text = synthetic_register(url, n)

    async def run() -> assets.ImportReport:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            report = await assets.import_register(
                conn,
                text,
                "csv",
                "bench.maps synthetic",
                "bench",
                datetime.now(UTC).date(),
                is_example=True,
            )
            await conn.commit()
            return report

    started = time.perf_counter()
    report = asyncio.run(run())
    return {
        "seeded": len(report.imported),
        "skipped": len(report.skipped),
        "present": present,
        "seconds": round(time.perf_counter() - started, 1),
    }


def database_facts(url: str, pages: Sequence[str]) -> dict[str, Any]:
    """What the benchmark database holds; fail clearly if it is not a loaded England."""
    name = urlsplit(url).path.lstrip("/")
    try:
        with psycopg.connect(url) as conn:
            lsoas: dict[str, int] = dict(
                conn.execute(
                    "SELECT edition_code, count(*) FROM lsoa_deprivation GROUP BY 1"
                ).fetchall()
            )
            programmes = [
                row[0] for row in conn.execute("SELECT id FROM grant_programme ORDER BY id")
            ]
            server = conn.execute("SHOW server_version").fetchone()
            counts = {
                table: (
                    conn.execute(
                        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                    ).fetchone()
                    or (0,)
                )[0]
                for table in ("asset", "lsoa_coverage", "h3_coverage", "group_serving")
            }
    except psycopg.Error as exc:
        raise SystemExit(
            f"{name} is not usable ({exc}); run `.venv/bin/python -m bench.foundation` first"
        ) from None
    if lsoas.get("IoD2025", 0) < 30_000:
        raise SystemExit(f"{name} does not hold all of England ({lsoas}); run bench.foundation")
    if "/maps/assets" in pages and not counts["asset"]:
        raise SystemExit(
            f"{name} has no assets of community value for the assets page: give "
            "--seed-assets N, or PLATOONS_DATABASE_URL=... platoons assets import FILE"
        )
    if "/maps/coverage" in pages and not counts["lsoa_coverage"]:
        raise SystemExit(
            f"{name} has no coverage computed for the coverage page: a load computes it "
            "(data.coverage_base.rebuild_after_load)"
        )
    if "/maps/eligibility" in pages and not programmes:
        raise SystemExit(
            f"{name} has no grant programmes for the eligibility page: "
            "PLATOONS_DATABASE_URL=... platoons programmes import data/programmes/examples.yaml"
        )
    return {
        "lsoas": lsoas,
        "name": name,
        "programmes": programmes,
        "rows": counts,
        "postgresql": server[0] if server else None,
    }


def load_page(browser: Browser, url: str) -> dict[str, Any]:
    """Open a page in a fresh context (empty cache) and return its timings."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(FIRST_FEATURES, timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(SETTLED, timeout=PAGE_TIMEOUT_MS)
        timings: dict[str, Any] = page.evaluate(TIMINGS)
        timings["wall_ms"] = (time.perf_counter() - started) * 1000
        timings["console_errors"] = errors
        return timings
    finally:
        context.close()


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Median and maximum of each timing over runs."""
    out: dict[str, Any] = {"runs": len(runs)}
    for key in ("html_ms", "first_features_ms", "settled_ms"):
        values = [float(r[key]) for r in runs]
        out[key] = {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}
    first = runs[0]
    for key in ("zoom", "layers_on_map", "tiles_drawn", "features_drawn", "tile_requests"):
        out[key] = first[key]
    out["first_layer"] = first["first_layer"]
    out["layers_first_ms"] = {
        key: round(statistics.median(float(r["layers_first_ms"][key]) for r in runs), 1)
        for key, value in first["layers_first_ms"].items()
        if value is not None and all(r["layers_first_ms"].get(key) is not None for r in runs)
    }
    out["tile_mib_decoded"] = round(first["tile_bytes_decoded"] / 2**20, 2)
    out["console_errors"] = sorted({e for r in runs for e in r["console_errors"]})
    out["tile_errors"] = sum(r["tile_errors"] for r in runs)
    return out


def measure(
    url: str, stamp: str, cold: int, warm: int, paths: Sequence[str]
) -> tuple[dict[str, Any], str]:
    """Cold runs (a server restart before each) and warm runs, per page; and the browser."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {p: {"cold": [], "warm": []} for p in paths}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        version = browser.version
        try:
            for path in paths:
                for i in range(cold):
                    slug = path.strip("/").replace("/", "-")
                    log = harness.RESULTS_DIR / f"maps-{stamp}-{slug}-{i + 1}-server.log"
                    with harness.running_server(url, log) as server:
                        run = load_page(browser, server.url + path)
                        runs[path]["cold"].append(run)
                        print(f"{path} cold {i + 1}: first {run['first_features_ms']:.0f} ms")
                        if i == cold - 1:
                            for j in range(warm):
                                run = load_page(browser, server.url + path)
                                runs[path]["warm"].append(run)
                                print(
                                    f"{path} warm {j + 1}: first {run['first_features_ms']:.0f} ms"
                                )
        finally:
            browser.close()
    pages = {
        path: {phase: summarise(r) for phase, r in phases.items()} | {"raw": phases}
        for path, phases in runs.items()
    }
    return pages, version


def targets(pages: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's target: first meaningful render <= 2 s (median, cold and warm)."""
    checks = []
    for path, phases in pages.items():
        for phase in ("cold", "warm"):
            median = phases[phase]["first_features_ms"]["median"]
            checks.append(
                {
                    "target": f"{path} first render <= {TARGET_FIRST_RENDER_MS / 1000:.0f} s "
                    f"({phase}, median)",
                    "measured": f"{median:.0f} ms",
                    "result": harness.verdict(median <= TARGET_FIRST_RENDER_MS),
                }
            )
    return checks


def report(result: dict[str, Any]) -> str:
    """The markdown tables of one result."""
    rows = []
    for path, phases in result["pages"].items():
        for phase in ("cold", "warm"):
            s = phases[phase]
            rows.append(
                [
                    f"`{path}` {phase}",
                    s["runs"],
                    f"{s['html_ms']['median']:.0f}",
                    f"{s['first_features_ms']['median']:.0f} / {s['first_features_ms']['max']:.0f}",
                    f"{s['settled_ms']['median']:.0f} / {s['settled_ms']['max']:.0f}",
                    s["zoom"],
                    s["tile_requests"],
                    f"{s['tile_mib_decoded']:.2f}",
                    s["features_drawn"],
                ]
            )
    table = harness.markdown_table(
        [
            "page",
            "runs",
            "HTML ms (median)",
            "first features ms (median / max)",
            "all tiles drawn ms (median / max)",
            "zoom",
            "tiles",
            "tile MiB",
            "features drawn",
        ],
        rows,
    )
    checks = harness.targets_table(result["targets"])
    return f"{table}\n\n{checks}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print and save the results; 1 if a target fails."""
    args = parse_args(argv)
    _, url = harness.database_urls()
    if args.database:
        url = urlunsplit(urlsplit(url)._replace(path=f"/{args.database}"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    seeded = seed_assets(url, args.seed_assets) if args.seed_assets else None
    facts = database_facts(url, args.pages)
    facts["seeded_assets"] = seeded
    pages, version = measure(url, stamp, args.cold, args.warm, args.pages)
    result: dict[str, Any] = {
        "benchmark": "maps",
        "started": stamp,
        "command": "python -m bench.maps " + " ".join(argv or sys.argv[1:]),
        "machine": harness.machine_facts(),
        "browser": f"{CHROMIUM} {version} (Debian), headless",
        "viewport": VIEWPORT,
        "database": facts,
        "pages": pages,
    }
    result["targets"] = targets(pages)
    path = harness.save_result("maps", stamp, result)
    print(report(result))
    print(f"\nresults: {path}")
    return 0 if all(c["result"] == "PASS" for c in result["targets"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
