"""Fault injection: PostgreSQL restarted under load, and national loads killed with SIGKILL.

Run with ``.venv/bin/python -m bench.faults`` (both scenarios) or name one:

- ``pg-restart``: ``platoons serve`` under the load of ``bench.load`` (clients mixing tiles,
  lookups, eligibility and writes); a few seconds in, PostgreSQL is stopped (fast shutdown),
  kept down, and started again. Checked: no 500 (or other non-503 5xx) at any time; while it
  is down every failure is a 503 with ``Retry-After``; the service recovers on its own (time
  to the first success after the database is back) and answers no 5xx once recovered; every
  write acknowledged with 201 (and every submission acknowledged with 200) is in the database
  afterwards.
- ``kill-load``: all of England is loaded; a second load is then killed with SIGKILL twice,
  once from inside at the moment every table has been replaced in its transaction (the
  national form of ``tests/data/test_loaders.py::test_a_killed_load_leaves_the_previous_data``)
  and once from outside (``kill -9`` of ``platoons load england`` while its write transaction
  is open). Checked: the previous data and data version are intact and visible, no lock or
  transaction is left behind, and the next load succeeds with the same data.

By default everything runs on a private, throwaway PostgreSQL cluster (``initdb`` on a free
port, the Debian binaries and PostGIS), so restarting it disturbs nobody; ``--debian-cluster``
restarts the machine's ``15 main`` cluster instead (with ``pg_ctlcluster``) and uses
``platoons_bench`` (do not, while others share it). Results are printed and written to
``bench/results/faults-<UTC timestamp>.json``; the exit status is 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import harness
from bench.foundation import sample_points
from bench.load import (
    Workload,
    drop_fixture,
    lsoa_codes,
    make_fixture,
    run_load,
    summarise,
    summary_table,
)
from tests.utils.databases import FOUNDATION_TABLES

PG_BIN = Path("/usr/lib/postgresql/15/bin")
FAULTS_DB = "platoons_faults"
# The loaded tables a killed load must leave exactly as they were (as tests/data/test_loaders.py
# checks them), with the load's provenance and the data version.
FINGERPRINTED = (*FOUNDATION_TABLES, "dataset_load", "data_version")
# Inside the load's transaction, right after every table was replaced: die (SIGKILL).
KILL_DURING_WRITE = """
import os, signal, sys
from pathlib import Path
import psycopg
from data.loaders import load_all

def step(name):
    if name == "wrote tables":
        os.kill(os.getpid(), signal.SIGKILL)

with psycopg.connect(sys.argv[1]) as conn:
    load_all(conn, Path(sys.argv[2]), on_step=step)
"""


@dataclass
class Check:
    """One verdict."""

    name: str
    ok: bool
    detail: str


# ---------------------------------------------------------------------------------------------
# The PostgreSQL under test


@dataclass
class Cluster:
    """A PostgreSQL server this script may stop and start."""

    admin_url: str
    url: str
    data_dir: Path | None  # None: the Debian cluster

    def stop(self) -> None:
        """Fast shutdown: sessions are terminated, committed work is kept."""
        if self.data_dir is None:
            subprocess.run(["pg_ctlcluster", "15", "main", "stop", "-m", "fast"], check=True)
        else:
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
            )

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        if self.data_dir is None:
            subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=True)
        else:
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-w",
                    "-l",
                    str(self.data_dir / "log"),
                    "start",
                ]
            )


def _as_postgres(command: list[str]) -> None:
    """Run a command as the postgres user (PostgreSQL refuses to run as root)."""
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A throwaway cluster on a free port (trust auth, fsync on), removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="platoons-faults-"))
    shutil.chown(data_dir, "postgres", "postgres")
    port = harness.free_port()
    _as_postgres(
        [str(PG_BIN / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "postgres", "--no-sync"]
    )
    with (data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nunix_socket_directories = '{data_dir}'\n"
            "listen_addresses = '127.0.0.1'\n"
        )
    cluster = Cluster(
        f"postgresql://postgres@127.0.0.1:{port}/postgres",
        f"postgresql://postgres@127.0.0.1:{port}/{FAULTS_DB}",
        data_dir,
    )
    cluster.start()
    try:
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(FAULTS_DB)))
        yield cluster
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data_dir),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data_dir, ignore_errors=True)


# Derived by floating-point sums whose order follows the rows' physical order, which a reload
# changes (data/sql/foundation/refresh_population.sql): compared to a millionth of a resident.
ROUNDED = {
    "lsoa_population": "edition_code, lsoa_code, round(residents::numeric, 6),"
    " round(adults_18_plus::numeric, 6), reference_year, method",
}


def population(url: str) -> dict[tuple[str, str], tuple[float, float]]:
    """Residents and adults per (edition, LSOA), as stored."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT edition_code, lsoa_code, residents, adults_18_plus FROM lsoa_population"
        ).fetchall()
    return {(e, c): (r, a) for e, c, r, a in rows}


def fingerprints(url: str) -> dict[str, list[Any]]:
    """Row count and an order-free hash of every row, per loaded table."""
    found: dict[str, list[Any]] = {}
    with psycopg.connect(url) as conn:
        for table in FINGERPRINTED:
            if table in ROUNDED:
                query = sql.SQL(
                    "SELECT count(*), coalesce(sum(hashtextextended(row({})::text, 0)), 0)"
                    " FROM {} t"
                ).format(sql.SQL(ROUNDED[table]), sql.Identifier(table))
                row = conn.execute(query).fetchone()
                assert row is not None
                found[table] = [int(row[0]), str(row[1])]
                continue
            row = conn.execute(
                # Without the serving tables' surrogate feature ids, which a reload renumbers.
                sql.SQL(
                    "SELECT count(*), coalesce(sum(hashtextextended((to_jsonb(t) - 'fid')::text,"
                    " 0)), 0) FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()
            assert row is not None
            found[table] = [int(row[0]), str(row[1])]
    return found


def leftovers(url: str) -> list[str]:
    """Sessions still in a transaction, and locks still held, on the database."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid, state, left(query, 60) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
            " AND (state LIKE 'idle in transaction%%' OR backend_xid IS NOT NULL)"
        ).fetchall()
        locks = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
            " AND a.backend_type = 'client backend'"
        ).fetchone()
    found = [f"session {pid} {state}: {query}" for pid, state, query in rows]
    if locks and locks[0]:
        found.append(f"{locks[0]} locks held by other sessions")
    return found


# ---------------------------------------------------------------------------------------------
# kill -9 of a national load


def kill_load(cluster: Cluster, source: Path, stamp: str) -> tuple[list[Check], dict[str, Any]]:
    """Load England, then kill two loads with SIGKILL; the data must survive; reload."""
    env = harness.child_env(cluster.url)
    figures: dict[str, Any] = {}
    checks: list[Check] = []
    first = harness.load_england(source, env, harness.RESULTS_DIR / f"faults-{stamp}-load1.log")
    figures["first_load_seconds"] = round(first.wall_seconds, 1)
    before = fingerprints(cluster.url)
    residents = population(cluster.url)
    print(f"  loaded England in {first.wall_seconds:.0f} s; {before['lsoa'][0]} LSOAs")

    # 1. From inside, once every table has been replaced (in the transaction).
    started = time.perf_counter()
    inside = subprocess.run(
        [sys.executable, "-c", KILL_DURING_WRITE, cluster.url, str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    figures["killed_inside_after_seconds"] = round(time.perf_counter() - started, 1)
    checks.append(
        Check(
            "a load killed inside its transaction dies by SIGKILL",
            inside.returncode == -9,
            f"exit {inside.returncode}",
        )
    )
    checks += left_as_before(cluster.url, before, "... and leaves")

    # 2. From outside: kill -9 of the CLI while its write transaction is open.
    command = [harness.platoons_executable(), "load", "england", "--source", str(source)]
    log = (harness.RESULTS_DIR / f"faults-{stamp}-load2.log").open("w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    started = time.perf_counter()
    writing = False
    while proc.poll() is None and time.perf_counter() - started < 300:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            # The loader's own session holding a transaction id: it has written (autovacuum
            # and other background workers hold them too, so only client sessions count).
            row = conn.execute(
                "SELECT left(query, 80) FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND backend_xid IS NOT NULL"
                " AND pid <> pg_backend_pid()"
            ).fetchone()
        if row:
            writing = True
            figures["killed_outside_while_running"] = row[0]
            time.sleep(2.0)  # well inside the write phase
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    figures["killed_outside_after_seconds"] = round(time.perf_counter() - started, 1)
    checks.append(
        Check(
            "kill -9 of `platoons load england` during its write transaction",
            writing and proc.returncode == -9,
            f"writing={writing}, exit {proc.returncode}",
        )
    )
    time.sleep(1.0)  # the server notices the closed socket and rolls back
    checks += left_as_before(cluster.url, before, "... leaves")

    # 3. The next load succeeds, with the same data (a new data version and load times).
    again = harness.load_england(source, env, harness.RESULTS_DIR / f"faults-{stamp}-load3.log")
    figures["next_load_seconds"] = round(again.wall_seconds, 1)
    reloaded = fingerprints(cluster.url)
    again_residents = population(cluster.url)
    figures["lsoa_population_max_abs_difference_after_reload"] = max(
        max(abs(x - y) for x, y in zip(residents[k], again_residents[k], strict=True))
        for k in residents
    )
    # A reload records new load times and bumps the data version; the data are the same.
    differ = [
        t
        for t in FINGERPRINTED
        if t not in ("dataset_load", "data_version") and reloaded[t] != before[t]
    ]
    figures["tables_differing_after_reload"] = differ
    same = not differ
    checks.append(
        Check(
            "the next load succeeds with the same data",
            again.returncode == 0 and same,
            f"{again.wall_seconds:.0f} s; "
            + (f"differs: {', '.join(differ)}" if differ else "same"),
        )
    )
    return checks, figures


def _per_second(samples: Sequence[Any]) -> dict[int, dict[str, int]]:
    """How many answers of each status ended in each second of the run."""
    seconds: dict[int, dict[str, int]] = {}
    for sample in samples:
        second = seconds.setdefault(int(sample.at + sample.ms / 1000), {})
        second[str(sample.status)] = second.get(str(sample.status), 0) + 1
    return dict(sorted(seconds.items()))


def left_as_before(url: str, before: dict[str, list[Any]], leaves: str) -> list[Check]:
    """After a killed load: every table as ``before`` (``leaves`` begins the check's words),
    and no transaction or lock left behind."""
    after = fingerprints(url)
    held = leftovers(url)
    return [
        Check(
            f"{leaves} every table and the data version as they were",
            after == before,
            _diff(before, after),
        ),
        Check("... and no transaction or lock behind", not held, "; ".join(held) or "none"),
    ]


def _diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> str:
    changed = [t for t in before if before[t] != after.get(t)]
    return "unchanged" if not changed else f"changed: {', '.join(changed)}"


# ---------------------------------------------------------------------------------------------
# PostgreSQL restarted under load


def pg_restart(
    cluster: Cluster, clients: int, seconds: float, stop_at: float, down: float, stamp: str
) -> tuple[list[Check], dict[str, Any]]:
    """Run the load mix; stop PostgreSQL ``stop_at`` s in for ``down`` s; judge the answers."""
    url = cluster.url
    points = sample_points(url, [2011, 2021], 1000, 11)
    codes = lsoa_codes(url, 1000, 11)
    fixture = asyncio.run(make_fixture(url, stamp))
    workload = Workload(points, codes, fixture.programme_id, fixture.key_secret)
    window: dict[str, float] = {}

    async def restart(started: float) -> None:
        await asyncio.sleep(stop_at)
        window["stop"] = time.perf_counter() - started
        await asyncio.to_thread(cluster.stop)
        window["stopped"] = time.perf_counter() - started
        await asyncio.sleep(down)
        window["start"] = time.perf_counter() - started
        await asyncio.to_thread(cluster.start)
        window["up"] = time.perf_counter() - started

    try:
        with harness.running_server(
            url, harness.RESULTS_DIR / f"faults-{stamp}-server.log"
        ) as server:
            print(
                f"  {clients} clients for {seconds:.0f} s; PostgreSQL stopped at "
                f"{stop_at:.0f} s for {down:.0f} s"
            )
            samples, wall = asyncio.run(
                run_load(server.url, workload, clients, seconds, 11, restart)
            )
        with psycopg.connect(url) as conn:
            stored = {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT id, status FROM grant_application WHERE id = ANY(%s)",
                    (workload.created,),
                )
            }
    finally:
        drop_fixture(url, fixture)

    checks: list[Check] = []
    server_errors = [s for s in samples if s.status >= 500 and s.status != 503]
    checks.append(
        Check(
            "no 500 (nor any 5xx but 503), ever",
            not server_errors,
            f"{len(server_errors)} ({', '.join(sorted({str(s.status) for s in server_errors}))})",
        )
    )
    transport = [s for s in samples if s.status == 0]
    checks.append(Check("no connection to the service failed", not transport, f"{len(transport)}"))
    unavailable = [s for s in samples if s.status == 503]
    bare = [s for s in unavailable if not s.retry_after]
    checks.append(
        Check(
            "every 503 carries Retry-After",
            not bare and bool(unavailable),
            f"{len(unavailable)} answers 503, {len(bare)} without Retry-After",
        )
    )
    # Answered after the database was back: the first success, and the last 5xx.
    up = window["up"]
    # Recovered: the first write acknowledged after the database came back (a write always
    # needs the database; a cached tile can succeed while it is down).
    first_ok = min(
        (
            s.at + s.ms / 1000
            for s in samples
            if s.kind == "create" and s.status == 201 and s.at + s.ms / 1000 >= up
        ),
        default=None,
    )
    recovered_at = first_ok if first_ok is not None else float("inf")
    late = [s for s in samples if s.status >= 500 and s.at >= recovered_at]
    checks.append(
        Check(
            "recovers on its own once the database is back",
            first_ok is not None,
            f"first write acknowledged {recovered_at - up:.2f} s after the database accepted "
            "connections",
        )
    )
    checks.append(Check("no 5xx once recovered", not late, f"{len(late)} after recovery"))
    lost = [i for i in workload.created if i not in stored]
    unsubmitted = [i for i in workload.submitted if stored.get(i) != "submitted"]
    checks.append(
        Check(
            "every acknowledged write is in the database",
            not lost and not unsubmitted,
            f"{len(workload.created)} created (201), {len(workload.submitted)} submitted "
            f"(200); {len(lost)} missing, {len(unsubmitted)} not submitted",
        )
    )
    errors_before = [s for s in samples if s.error and s.at + s.ms / 1000 < window["stop"]]
    checks.append(Check("no error before the fault", not errors_before, f"{len(errors_before)}"))
    outage = [s for s in samples if window["stop"] <= s.at + s.ms / 1000 and s.at < recovered_at]
    figures: dict[str, Any] = {
        "window_seconds": {k: round(v, 2) for k, v in window.items()},
        "recovery_seconds_after_database_up": round(recovered_at - up, 2),
        "answers_during_outage": {
            str(code): sum(s.status == code for s in outage)
            for code in sorted({s.status for s in outage})
        },
        "summary": summarise(samples, wall),
        "applications_created": len(workload.created),
        "applications_submitted": len(workload.submitted),
        "error_samples": [asdict(s) for s in (server_errors + transport)[:10]],
        "errors_before_the_fault": [asdict(s) for s in errors_before[:10]],
        "5xx_after_recovery": [asdict(s) for s in late[:10]],
        "answers_per_second": _per_second(samples),
    }
    print(summary_table(figures["summary"]))
    return checks, figures


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenario", nargs="?", choices=["all", "pg-restart", "kill-load"], default="all"
    )
    harness.add_source(parser, harness.DEFAULT_SOURCE, "national data (default data/national)")
    parser.add_argument("--clients", type=int, default=50, help="load clients (50)")
    parser.add_argument("--seconds", type=float, default=40.0, help="load duration (40)")
    parser.add_argument(
        "--stop-at", type=float, default=10.0, help="stop PostgreSQL this far in (10)"
    )
    parser.add_argument("--down", type=float, default=8.0, help="keep it down this long (8)")
    parser.add_argument(
        "--debian-cluster",
        action="store_true",
        help=f"restart `15 main` and use {harness.BENCH_DB} (disturbs everyone on it)",
    )
    return parser.parse_args(argv)


@contextmanager
def cluster_for(args: argparse.Namespace, source: Path, stamp: str) -> Iterator[Cluster]:
    """The cluster to break: a private one (loaded here) or the Debian one."""
    if args.debian_cluster:
        admin_url, url = harness.database_urls()
        yield Cluster(admin_url, url, None)
        return
    with private_cluster() as cluster:
        harness.run_platoons(
            ["db", "upgrade"],
            harness.child_env(cluster.url),
            harness.RESULTS_DIR / f"faults-{stamp}-upgrade.log",
        )
        yield cluster


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios; 0 when every check passes."""
    args = parse_args(argv)
    started, stamp = harness.start_run(harness.RESULTS_DIR)
    source = args.source.resolve()
    if (source / "raw").is_dir():
        source = source / "raw"
    checks: list[Check] = []
    figures: dict[str, Any] = {}
    with cluster_for(args, source, stamp) as cluster:
        if args.scenario in ("all", "kill-load"):
            print("kill-load: SIGKILL of national loads")
            found, figures["kill_load"] = kill_load(cluster, source, stamp)
            checks += found
        elif not args.debian_cluster:  # pg-restart alone needs data too
            harness.load_england(
                source,
                harness.child_env(cluster.url),
                harness.RESULTS_DIR / f"faults-{stamp}-load.log",
            )
        if args.scenario in ("all", "pg-restart"):
            print("pg-restart: PostgreSQL stopped and started under load")
            found, figures["pg_restart"] = pg_restart(
                cluster, args.clients, args.seconds, args.stop_at, args.down, stamp
            )
            checks += found
    result = {
        "benchmark": "faults",
        "started_utc": started.isoformat(),
        "command": " ".join(["python", "-m", "bench.faults", *(argv or sys.argv[1:])]),
        "machine": harness.machine_facts(),
        "cluster": "debian 15 main" if args.debian_cluster else "private (initdb, fsync on)",
        "checks": [asdict(c) for c in checks],
        "figures": figures,
    }
    out = harness.save_result("faults", stamp, result)
    print()
    for check in checks:
        print(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    print(f"results written to {out}")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    harness.run_main(main)
