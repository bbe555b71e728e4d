"""Load boundaries, deprivation indices, populations and lookups into PostGIS.

A load reads and validates every source file first, then replaces all foundation tables in
ONE transaction: a failed or killed load leaves the previous data intact and visible
(readers keep seeing the old rows until commit, since rows are deleted, not truncated), and
re-running a load gives the same state. Provenance (file, sha256, licence, attribution, rows,
time) is written in the same transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from data import coverage_base
from data.foundation.read import read_sources
from data.foundation.staged import StepCallback, StepTime, StepTimes
from data.foundation.validate import validate
from data.foundation.write import (
    bump_data_version,
    check_published_agreement,
    refresh_population,
    refresh_serving_tables,
    write,
    write_lad_summary_measures,
    write_provenance,
    write_published_lad_measures,
)
from data.h3_grid import grid_ahead
from data.manifest import Manifest, load_manifest
from geo import coverage
from geo.errors import LoadError
from geo.grants import layer as eligibility_layer
from geo.sqlfiles import read_sql


@dataclass
class LoadReport:
    """What a load wrote: rows per table, repairs, warnings and the new data version."""

    source_dir: Path
    rows: dict[str, int]
    repaired_geometries: dict[str, list[str]]
    warnings: list[str]
    data_version: int
    seconds: float
    step_times: dict[str, StepTime] = field(default_factory=dict)


def count_steps(manifest: Manifest | None = None) -> int:
    """Return how many progress steps :func:`load_all` reports (for a progress bar)."""
    manifest = manifest or load_manifest()
    return len(manifest.dataset) + 3


def load_all(
    conn: psycopg.Connection,
    source_dir: Path,
    on_step: StepCallback | None = None,
    manifest: Manifest | None = None,
) -> LoadReport:
    """Read, validate and load every dataset of the manifest from ``source_dir``.

    Raises :class:`geo.errors.LoadError` (and writes nothing) if any file is missing,
    malformed or inconsistent with the others.
    """
    started = time.perf_counter()
    manifest = manifest or load_manifest()
    step = on_step or (lambda _name: None)
    times = StepTimes(conn.info.backend_pid)
    if not source_dir.is_dir():
        raise LoadError(f"{source_dir}: source directory not found")
    with times.step("read files"):
        staged = read_sources(source_dir, manifest, step)
    with times.step("validate"):
        validate(staged, manifest)
    step("validated joins")
    with conn.transaction():
        # Group and organiser writes wait for the load (geo.coverage.lock_writes).
        coverage.lock_writes_sync(conn)
        rows, repaired = write(conn, staged, manifest, times)
        step("wrote tables")
        with times.step("district measures"):
            rows["lad_summary_measure"] = write_lad_summary_measures(conn, staged, manifest)
            rows["lad_published_measure"] = write_published_lad_measures(conn, staged, manifest)
            check_published_agreement(conn, manifest)
        # The files' frames are written: only their provenance and warnings are needed now,
        # so their memory is free for the H3 grid (the first load's peak).
        provenance, warnings = staged.provenance, staged.warnings
        del staged
        with times.step("populations"):
            rows["lsoa_population"] = refresh_population(conn)
        with times.step("H3 grid started"):
            grid = grid_ahead(conn, coverage.COVERAGE_EDITION)
        with times.step("serving tables"):
            rows.update(refresh_serving_tables(conn))
        with times.step("eligibility layer"):
            rows["programme_lsoa_eligibility"] = eligibility_layer.refresh_all(conn)
        # Coverage layers follow the new LSOAs and adults (geo/coverage.py), recomputed today.
        rows.update(
            coverage_base.rebuild_after_load(
                conn, as_of=datetime.now(UTC).date(), times=times, grid=grid
            )
        )
        with times.step("provenance"):
            data_version = bump_data_version(conn)
            write_provenance(conn, provenance, repaired)
        committed = times.start("commit")
    committed()
    step("computed LAD summary measures")
    with times.step("statistics"), conn.cursor() as cur:
        cur.execute(read_sql("data", "foundation/analyze_foundation.sql"))
    return LoadReport(
        source_dir=source_dir,
        rows=rows,
        repaired_geometries=repaired,
        warnings=warnings,
        data_version=data_version,
        seconds=time.perf_counter() - started,
        step_times=times.steps,
    )
