"""What every benchmark shares: running ``main``, stopping on Ctrl-C, and its report tables."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


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


def write_json(path: Path, result: Any, default: Callable[[Any], Any] | None = None) -> None:
    """Write a run's result as indented JSON with a final newline."""
    path.write_text(json.dumps(result, indent=2, default=default) + "\n", encoding="utf-8")
