"""Council spending benchmark (issue 18): load Trafford's three payment files, query them.

Run with ``flock /tmp/platoons-bench.lock .venv/bin/python -m bench.spending``. It uses its own
database, ``platoons_spending_bench`` on the server of ``PLATOONS_DATABASE_URL``, dropped and
recreated each run (migrated, with the demo extract loaded so that ``/health`` is ok), then:

1. loads ``data/national/spending/trafford-supplier-spend-{2024-25,2025-26,2026-27}.zip``
   (489,887 lines) with :func:`data.spending.load_spending_parallel` (two files at a time),
   as ``platoons load spending`` does: wall time (target <= 20 s), then again (every file
   unchanged);
2. serves it with ``platoons serve`` and asks each ``/spending/lines`` and
   ``/spending/totals`` query below ``--runs`` times from one client (after ``--warmup``
   runs), as the spending page does (a page of 100 lines; the 50 largest totals, or every
   month): p50 and p95 (target p50 <= 50 ms); each totals query is also asked once for every
   group (``limit=5000``, untimed) to compare whole answers;
3. runs the same questions in DuckDB (in process) over the same CSVs (unzipped to a temporary
   folder: DuckDB reads no zip), what a data journalist would reach for: its load time and its
   p50 per query, the ratio of the two, and whether the answers are the same (beneficiaries
   grouped by the same key, computed once per distinct name by ``geo.spending.rules``).

Results are printed as markdown and written to ``bench/results/spending-<UTC stamp>.json``;
exit status 1 if a target fails or an answer differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import httpx
import psycopg
from psycopg import sql

from bench import harness
from data import DEMO_DIR, schema, spending
from data.loaders import load_all
from geo.spending import rules

BENCH_DB = "platoons_spending_bench"
FILES = [
    Path(__file__).resolve().parents[1] / "data" / "national" / "spending" / name
    for name in (
        "trafford-supplier-spend-2024-25.zip",
        "trafford-supplier-spend-2025-26.zip",
        "trafford-supplier-spend-2026-27.zip",
    )
]
TARGET_LOAD_S = 20.0
TARGET_P50_MS = 50.0

# (name, path, params, DuckDB SQL over table `lines` giving (key, amount, lines) or one row)
QUERIES: list[tuple[str, str, dict[str, str], str]] = [
    (
        "lines: newest 100, all",
        "/spending/lines",
        {"limit": "100"},
        "SELECT count(*), sum(amount) FROM lines",
    ),
    (
        "lines: beneficiary 'care' (words), 100",
        "/spending/lines",
        {"beneficiary": "care", "limit": "100"},
        "SELECT count(*), sum(amount) FROM lines WHERE key LIKE 'care%' OR key LIKE '%care%'",
    ),
    (
        "lines: 2025-06-03..2025-06-20, >= £1,000",
        "/spending/lines",
        {"from": "2025-06-03", "to": "2025-06-20", "min_amount": "1000", "limit": "100"},
        "SELECT count(*), sum(amount) FROM lines WHERE payment_date BETWEEN '2025-06-03' AND "
        "'2025-06-20' AND amount >= 1000",
    ),
    (
        "totals by beneficiary, all",
        "/spending/totals",
        {"by": "beneficiary", "limit": "50"},
        "SELECT key, sum(amount), count(*) FROM lines GROUP BY key",
    ),
    (
        "totals by service, 2025-26",
        "/spending/totals",
        {"by": "service", "from": "2025-04-01", "to": "2026-03-31", "limit": "50"},
        "SELECT coalesce(service, '(none)'), sum(amount), count(*) FROM lines WHERE payment_date "
        "BETWEEN '2025-04-01' AND '2026-03-31' GROUP BY 1",
    ),
    (
        "totals by month, all",
        "/spending/totals",
        {"by": "month", "order": "key", "limit": "50"},
        "SELECT strftime(payment_date, '%Y-%m'), sum(amount), count(*) FROM lines GROUP BY 1",
    ),
    (
        "totals by category, lines > £500",
        "/spending/totals",
        {"by": "category", "over_500": "true", "limit": "50"},
        "SELECT coalesce(category, '(none)'), sum(amount), count(*) FROM lines "
        "WHERE abs(amount) > 500 GROUP BY 1",
    ),
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    return parser.parse_args(argv)


def recreate(admin_url: str, url: str) -> None:
    """Drop and create the benchmark database, migrate it and load the demo extract."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        name = sql.Identifier(BENCH_DB)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    parts = urlsplit(url)
    schema.upgrade(urlunsplit(parts._replace(scheme="postgresql+psycopg")))
    with psycopg.connect(url) as conn:
        load_all(conn, DEMO_DIR)


def timed_load(url: str) -> tuple[float, list[spending.SpendingFileReport]]:
    """Load the three files; wall seconds and the reports."""
    started = time.perf_counter()
    reports = spending.load_spending_parallel(url, FILES, jobs=2)
    return time.perf_counter() - started, reports


def http_answers(base: str, runs: int, warmup: int) -> list[dict[str, Any]]:
    """Each query's latency from one client, and its answer."""
    results = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for name, path, params, _ in QUERIES:
            for _ in range(warmup):
                client.get(path, params=params).raise_for_status()
            times = []
            body: dict[str, Any] = {}
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path, params=params)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                body = response.json()
            times.sort()
            full = body
            if path.endswith("/totals"):
                full = client.get(path, params=_full_params(params)).json()
            results.append(
                {
                    "name": name,
                    "p50_ms": statistics.median(times),
                    "p95_ms": harness.percentile(times, 95),
                    "answer": _answer_of(body),
                    "full_answer": _answer_of(full),
                }
            )
    return results


def _full_params(params: dict[str, str]) -> dict[str, str]:
    """A totals query's parameters asking for every group."""
    return {**params, "limit": "5000"}


def _answer_of(body: dict[str, Any]) -> Any:
    """A comparable answer: the totals by key, or the count and sum of the lines matched."""
    if "totals" in body:
        return {t["key"]: [str(Decimal(t["amount"])), t["lines"]] for t in body["totals"]}
    return [body["matched"], str(Decimal(body["amount"]))]


def duckdb_answers(folder: Path, runs: int, warmup: int) -> tuple[float, list[dict[str, Any]]]:
    """DuckDB over the CSVs: load seconds, then each query's p50 and answer."""
    csvs = []
    for path in FILES:
        with zipfile.ZipFile(path) as archive:
            [member] = archive.namelist()
            archive.extract(member, folder)
            csvs.append(str(folder / member))
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [csvs]
    )
    con.execute(
        "CREATE TABLE lines AS SELECT BeneficiaryName AS name, "
        "CAST(PaymentDate AS DATE) AS payment_date, CAST(Amount AS DECIMAL(14, 2)) AS amount, "
        "nullif(OrganisationalUnit, 'NA') AS service, nullif(ProclassLabel, 'NA') AS category "
        "FROM raw"
    )
    names = [row[0] for row in con.execute("SELECT DISTINCT name FROM lines").fetchall()]
    con.execute("CREATE TABLE keys (name VARCHAR, key VARCHAR)")
    con.executemany(
        "INSERT INTO keys VALUES (?, ?)",
        [(n, rules.beneficiary_key(n, redacted=n == "Redacted")) for n in names],
    )
    con.execute("CREATE TABLE joined AS SELECT l.*, k.key FROM lines l JOIN keys k USING (name)")
    con.execute("DROP TABLE lines")
    con.execute("ALTER TABLE joined RENAME TO lines")
    load_s = time.perf_counter() - started
    results = []
    for name, path, params, query in QUERIES:
        timed = query
        if path.endswith("/totals"):
            # As the service answers: the 50 largest (ties by key), or months in order.
            order = "1" if params.get("order") == "key" else "2 DESC, 1"
            timed = f"{query} ORDER BY {order} LIMIT 50"
        for _ in range(warmup):
            con.execute(timed).fetchall()
        times = []
        rows: list[Any] = []
        for _ in range(runs):
            started = time.perf_counter()
            rows = con.execute(timed).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        full_rows = con.execute(query).fetchall()
        results.append(
            {
                "name": name,
                "p50_ms": statistics.median(times),
                "answer": _duck_answer(rows),
                "full_answer": _duck_answer(full_rows),
            }
        )
    return load_s, results


def _duck_answer(rows: list[Any]) -> Any:
    """DuckDB rows in the form of :func:`_answer_of`."""
    if len(rows) == 1 and len(rows[0]) == 2:
        return [rows[0][0], str(Decimal(rows[0][1]))]
    return {str(k): [str(Decimal(a)), n] for k, a, n in rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a target fails or the answers differ."""
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    admin_url, _ = harness.database_urls()
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{BENCH_DB}"))
    recreate(admin_url, url)
    load_s, reports = timed_load(url)
    reload_s, again = timed_load(url)
    with harness.running_server(
        url, harness.RESULTS_DIR / f"spending-{stamp}-server.log"
    ) as server:
        served = http_answers(server.url, args.runs, args.warmup)
    with tempfile.TemporaryDirectory(prefix="spending-duckdb-") as folder:
        duck_load_s, duck = duckdb_answers(Path(folder), args.runs, args.warmup)
    rows = []
    same_all = True
    for ours, theirs in zip(served, duck, strict=True):
        same = ours["answer"] == theirs["answer"] and ours["full_answer"] == theirs["full_answer"]
        same_all &= same
        rows.append(
            [
                ours["name"],
                f"{ours['p50_ms']:.1f}",
                f"{ours['p95_ms']:.1f}",
                f"{theirs['p50_ms']:.1f}",
                f"{ours['p50_ms'] / theirs['p50_ms']:.1f}x",
                "same" if same else "DIFFERENT",
            ]
        )
    worst_p50 = max(r["p50_ms"] for r in served)
    result = {
        "run_id": f"spending-{stamp}",
        "command": "flock /tmp/platoons-bench.lock .venv/bin/python -m bench.spending "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": harness.machine_facts(),
        "lines": sum(r.lines for r in reports),
        "load_s": load_s,
        "reload_s": reload_s,
        "reload_statuses": [r.status for r in again],
        "duckdb_load_s": duck_load_s,
        "platoons": served,
        "duckdb": duck,
        "answers_same": same_all,
    }
    out = harness.save_result("spending", stamp, result, default=str)
    print(f"run {result['run_id']}: {result['lines']:,} lines; results in {out}")
    print(
        harness.markdown_table(
            ["query (one client)", "Platoons p50 ms", "p95 ms", "DuckDB p50 ms", "ratio", "answer"],
            rows,
        )
    )
    print()
    print(
        harness.markdown_table(
            ["target", "measured", "result"],
            [
                [
                    "load 3 files <= 20 s",
                    f"{load_s:.1f} s",
                    harness.verdict(load_s <= TARGET_LOAD_S),
                ],
                [
                    "reload (unchanged)",
                    f"{reload_s:.1f} s",
                    harness.verdict(all(r.status == "unchanged" for r in again)),
                ],
                [
                    "lines and totals p50 <= 50 ms (worst query)",
                    f"{worst_p50:.1f} ms",
                    harness.verdict(worst_p50 <= TARGET_P50_MS),
                ],
                ["DuckDB load (CSV to table)", f"{duck_load_s:.1f} s", "-"],
                ["same answers as DuckDB", "all" if same_all else "no", harness.verdict(same_all)],
            ],
        )
    )
    ok = load_s <= TARGET_LOAD_S and worst_p50 <= TARGET_P50_MS and same_all
    return 0 if ok else 1


if __name__ == "__main__":
    harness.run_main(main)
