"""The coverage tables brought in line with freshly loaded data, in the load's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from data.deferred_indexes import built_after_rows, secondary_indexes
from data.foundation.staged import StepTimes
from data.h3_grid import GridAhead, grid_inputs_fingerprint, rebuild_grid
from geo.coverage.models import ACTIVE_MONTHS_DEFAULT
from geo.coverage.recompute import (
    NO_JIT,
    lock_writes_sync,
    recompute_params,
    refresh_all_sync,
    sql_statement,
)
from geo.sqlfiles import read_sql


def rebuild_after_load(
    conn: psycopg.Connection[Any],
    *,
    as_of: date,
    times: StepTimes | None = None,
    grid: GridAhead | None = None,
) -> dict[str, int]:
    """Bring the coverage tables in line with freshly loaded data, in the load's transaction.

    ``lsoa_coverage`` gets one row per IoD2025 LSOA (rows changed, added or removed only),
    the H3 grid is rebuilt when its inputs (LSOA boundaries, adults, deciles) changed, then
    every group and organiser is cut again and all coverage recomputed on ``as_of`` (``grid``:
    a grid computed ahead, see :func:`data.h3_grid.grid_ahead`). Returns rows written per
    table.
    """
    times = times or StepTimes()
    params = recompute_params(as_of, ACTIVE_MONTHS_DEFAULT)
    fresh = read_sql("geo", "coverage/lsoa_base_fresh.sql")
    rows = {"lsoa_coverage": 0}
    with conn.transaction(), conn.cursor() as cur:
        lock_writes_sync(conn)
        cur.execute(NO_JIT)
        stop = times.start("coverage LSOAs")
        before = grid_inputs_fingerprint(cur)
        # On a first load the LSOAs' spatial and other secondary indexes are built after.
        with built_after_rows(cur, secondary_indexes(cur, ["lsoa_coverage"])):
            for name in (
                "coverage/lsoa_base_delete.sql",
                "coverage/lsoa_base_update.sql",
                "coverage/lsoa_base_insert.sql",
            ):
                cur.execute(sql_statement(name, fresh=fresh), params)
                rows["lsoa_coverage"] += max(cur.rowcount, 0)
        after = grid_inputs_fingerprint(cur)
        cur.execute("SELECT EXISTS (SELECT 1 FROM h3_cell_adults)")
        has_grid = bool((cur.fetchone() or (False,))[0])
        stop()
        written = (
            rebuild_grid(conn, times, grid)
            if before != after or not has_grid
            else {"h3_cell_adults": 0, "h3_coverage": 0}
        )
        rows.update(written)
        with times.step("coverage statistics"):
            if rows["lsoa_coverage"] or any(written.values()):
                cur.execute("ANALYZE lsoa_coverage, h3_cell_adults, h3_coverage, h3_cell_geometry")
        # Every H3 parent is computed whole from its children by the national recompute, so
        # cells that came, went or changed their adults leave no stale sums behind.
        with times.step("coverage recompute"):
            summary = refresh_all_sync(conn, as_of=as_of)
    rows["group_lsoa"] = summary.group_pieces
    rows["organiser_lsoa"] = summary.organiser_pieces
    return rows
