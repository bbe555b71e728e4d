"""What every benchmark shares: its database, the ``platoons`` server and subprocesses it runs,
timing, machine facts, stopping on Ctrl-C, and its report tables and result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

from config.settings import DEFAULT_DATABASE_URL

BENCH_DB = "platoons_bench"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SOURCE = Path(__file__).resolve().parents[1] / "data" / "national"
HEALTH_WAIT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0


def run_main(main: Callable[[], int], interrupted: str = "interrupted") -> None:
    """Exit with ``main()``'s status; on Ctrl-C say ``interrupted`` and exit 130 (128 + SIGINT).

    SIGTERM unwinds like Ctrl-C (exit 143, 128 + SIGTERM), so the servers, clusters and
    subprocesses a benchmark started are always stopped by their ``finally`` blocks.
    """
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(130)


def add_concurrency(parser: argparse.ArgumentParser, default: list[int]) -> None:
    """The ``--concurrency`` option: the numbers of concurrent clients to run at, in turn."""
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=default,
        help=f"concurrency levels (default {' '.join(str(c) for c in default)})",
    )


def add_source(
    parser: argparse.ArgumentParser,
    default: Path,
    help_text: str = "raw data directory for `platoons load england` (default %(default)s)",
) -> None:
    """The ``--source`` option: where the raw files a benchmark loads are."""
    parser.add_argument("--source", type=Path, default=default, help=help_text)


def add_database(
    parser: argparse.ArgumentParser,
    help_text: str = "database on the configured server to use, created and loaded if need be "
    "(default %(default)s; another benchmark may be using that one)",
) -> None:
    """The ``--database`` option: which database on the configured server the benchmark uses
    (several sessions sharing one server each name their own)."""
    parser.add_argument("--database", default=BENCH_DB, help=help_text)


def command_line(module: str, argv: Sequence[str] | None) -> str:
    """How a benchmark was run, for its result file: ``<python> -m <module> ARGS``."""
    return " ".join(
        [Path(sys.executable).name, "-m", module, *(argv if argv is not None else sys.argv[1:])]
    )


def exit_status(targets: Sequence[Mapping[str, object]]) -> int:
    """A benchmark's exit status: 0 when it has targets and every one passed, else 1."""
    return 0 if targets and all(t["result"] == "PASS" for t in targets) else 1


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render a GitHub markdown table, right-aligning every column after the first."""
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def targets_table(targets: Sequence[Mapping[str, object]]) -> str:
    """Render a benchmark's targets (each with target, measured and result) as a table."""
    return markdown_table(
        ["target", "measured", "result"],
        [[t["target"], t["measured"], t["result"]] for t in targets],
    )


def start_run(results_dir: Path) -> tuple[datetime, str]:
    """Make the results folder; return the run's start (UTC) and its stamp for file names."""
    results_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    return started, started.strftime("%Y%m%dT%H%M%SZ")


def run_facts(benchmark: str, started: datetime, argv: Sequence[str] | None) -> dict[str, Any]:
    """The head of a run's result: which benchmark, when it ran, how it was run, on what."""
    return {
        "benchmark": benchmark,
        "started_utc": started.isoformat(),
        "finished_utc": datetime.now(UTC).isoformat(),
        "command": command_line(f"bench.{benchmark}", argv),
        "machine": machine_facts(),
    }


def write_json(path: Path, result: Any, default: Callable[[Any], Any] | None = None) -> None:
    """Write a run's result as indented JSON with a final newline."""
    path.write_text(json.dumps(result, indent=2, default=default) + "\n", encoding="utf-8")


@dataclass
class CommandRun:
    """One timed ``platoons`` subprocess: wall time, its own peak RSS and exit status."""

    args: list[str]
    wall_seconds: float
    peak_rss_mib: float
    returncode: int
    log: str


def save_result(
    benchmark: str, stamp: str, result: Any, default: Callable[[Any], Any] | None = None
) -> Path:
    """Write a run's result to ``bench/results/<benchmark>-<stamp>.json``; return that path."""
    out = RESULTS_DIR / f"{benchmark}-{stamp}.json"
    write_json(out, result, default)
    return out


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Return the ``pct``-th percentile of sorted values (linear interpolation)."""
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


def database_urls(database: str = BENCH_DB) -> tuple[str, str]:
    """Return the ``postgres`` and benchmark database URLs on the configured server."""
    base = (
        os.environ.get("PLATOONS_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )
    parts = urlsplit(base)
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{database}")),
    )


def platoons_executable() -> str:
    """Return the ``platoons`` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("platoons")
    if beside.exists():
        return str(beside)
    found = shutil.which("platoons")
    if found is None:
        raise SystemExit("cannot find the `platoons` command; install the project first")
    return found


def child_env(database_url: str) -> dict[str, str]:
    """Return the environment for ``platoons`` subprocesses: the bench database, wide output."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env["PLATOONS_DATABASE_URL"] = database_url
    env["COLUMNS"] = "200"  # keep rich's report lines (e.g. "Loaded ... in 23.4 s") unwrapped
    return env


def recreate_database(admin_url: str, name: str = BENCH_DB) -> None:
    """Drop (forcibly) and create the benchmark database (``platoons_bench`` unless named)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def run_platoons(args: list[str], env: dict[str, str], log_path: Path) -> CommandRun:
    """Run ``platoons <args>`` to completion; time it and read its own peak RSS via wait4."""
    command = [platoons_executable(), *args]
    with log_path.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            # wait4 gives this child's rusage alone; RUSAGE_CHILDREN would be the maximum
            # over every child so far, hiding the second load behind the first.
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise SystemExit(f"`platoons {' '.join(args)}` exited {proc.returncode}:\n{tail}")
    return CommandRun(
        args=args,
        wall_seconds=wall,
        peak_rss_mib=usage.ru_maxrss / 1024,
        returncode=proc.returncode,
        log=str(log_path),
    )


def load_england(source: Path, env: dict[str, str], log_path: Path) -> CommandRun:
    """Run ``platoons load england --source <source>`` to completion, timed, as ``run_platoons``."""
    return run_platoons(["load", "england", "--source", str(source)], env, log_path)


def process_cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds a (Linux) process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running ``platoons serve`` subprocess: its base URL and process id."""

    url: str
    pid: int


@contextmanager
def running_server(url: str, log_path: Path) -> Iterator[Server]:
    """Start ``platoons serve`` on a free loopback port, wait for /health, stop it on exit."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [platoons_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=child_env(url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_health(proc, base_url, log_path)
            yield Server(base_url, proc.pid)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            print(f"server stopped (exit {proc.returncode})")


def wait_until_ready(
    proc: subprocess.Popen[bytes],
    name: str,
    log_path: Path,
    url: str,
    is_ready: Callable[[httpx.Response], bool],
    request_timeout: float = 2.0,
    wait_seconds: float = HEALTH_WAIT_SECONDS,
) -> None:
    """Poll ``url`` until ``is_ready(response)``; fail if the process exits or never is ready.

    ``is_ready`` may raise ``SystemExit`` itself for an answer that says waiting is pointless.
    """
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise SystemExit(f"{name} exited {proc.returncode}:\n{tail}")
        try:
            response = httpx.get(url, timeout=request_timeout)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        if is_ready(response):
            return
        time.sleep(0.2)
    raise SystemExit(f"{name} not ready within {wait_seconds:.0f} s")


def _reports_loaded(response: httpx.Response) -> bool:
    """True for a ``/health`` answer saying ``ok``; stop on one saying the data is not loaded."""
    if response.status_code != 200:
        return False
    if response.json().get("status") == "ok":
        return True
    raise SystemExit(f"service is up but not loaded: {response.text[:300]}")


def wait_for_health(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Poll ``/health`` until the service reports ``ok``; fail if it exits or never does."""
    wait_until_ready(proc, "`platoons serve`", log_path, f"{base_url}/health", _reports_loaded)


def machine_facts() -> dict[str, Any]:
    """Return CPU count, memory, CPU model, OS and Python version."""
    mem_kib = 0
    model = platform.processor()
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def verdict(ok: bool) -> str:
    """Return PASS or FAIL."""
    return "PASS" if ok else "FAIL"
