"""What the foundation load holds between reading its files and writing them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

StepCallback = Callable[[str], None]


@dataclass
class Provenance:
    """Where one dataset came from, as recorded in ``dataset_load``."""

    dataset: str
    source_file: str
    sha256: str
    publisher: str
    licence: str
    attribution: str
    row_count: int
    notes: dict = field(default_factory=dict)


@dataclass
class Staged:
    """Everything read and validated from the source files, ready to write."""

    boundaries: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    lsoa_lookups: dict[int, pd.DataFrame] = field(default_factory=dict)
    msoa: dict[int, pd.DataFrame] = field(default_factory=dict)
    regions: dict[int, pd.DataFrame] = field(default_factory=dict)
    lsoa_change: pd.DataFrame | None = None
    index_values: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_lads: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_checks: list[tuple[str, pd.DataFrame, str]] = field(default_factory=list)
    # Published district summaries per edition: lad, domain, measure, value, rank, sort_order.
    published_lad: dict[str, pd.DataFrame] = field(default_factory=dict)
    denominators: dict[str, pd.DataFrame] = field(default_factory=dict)
    population: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    postcodes: pd.DataFrame | None = None
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class StepTime:
    """One step of a load: wall seconds, CPU seconds of the loader and of its server backend."""

    wall: float = 0.0
    loader_cpu: float = 0.0
    server_cpu: float = 0.0


class StepTimes:
    """Where a load's time goes, step by step (what the load report prints and the docs cite).

    The server backend's CPU is read from ``/proc/<pid>/stat`` of the connection's backend when
    the database runs on the same machine (else 0); parallel workers' CPU is not in it. Wall
    time well above the two CPU figures is waiting: for disk, or for a core others hold.
    """

    def __init__(self, backend_pid: int | None = None) -> None:
        self.steps: dict[str, StepTime] = {}
        self._stat = Path(f"/proc/{backend_pid}/stat") if backend_pid else None

    def _server_cpu(self) -> float:
        """CPU seconds (user + system) the backend has used so far, 0 if unreadable."""
        if self._stat is None:
            return 0.0
        try:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def start(self, name: str) -> Callable[[], None]:
        """Start timing step ``name``; call what this returns to stop (for a step that ends
        where no block does, such as a transaction's commit)."""
        wall, cpu, server = time.perf_counter(), time.process_time(), self._server_cpu()

        def stop() -> None:
            got = self.steps.setdefault(name, StepTime())
            got.wall += time.perf_counter() - wall
            got.loader_cpu += time.process_time() - cpu
            got.server_cpu += self._server_cpu() - server

        return stop

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name`` (added to an earlier step of the same name)."""
        stop = self.start(name)
        try:
            yield
        finally:
            stop()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
