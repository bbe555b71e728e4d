"""Dated snapshots of coverage, and whether coverage or a snapshot was made on a day."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo import audit
from geo.coverage.models import (
    COLD_SPOT_THRESHOLD,
    COVERAGE_EDITION,
    DEPRIVED_DECILE_MAX,
    ENGLAND_CODE,
    Snapshot,
)
from geo.coverage.reads import adult_figures, checked_lad_code, totals_rows
from geo.errors import AreaNotFound, InvalidInput
from geo.sqlfiles import read_sql


def _snapshot(row: dict[str, Any]) -> Snapshot:
    return Snapshot(
        taken_on=row["taken_on"],
        scope=row["scope"],
        code=row["code"],
        details=dict(row["details"]),
        **adult_figures(row),
    )


async def take_snapshot(
    conn: AsyncConnection[Any], taken_on: date, *, actor: str | None = None
) -> list[Snapshot]:
    """Record England's and every district's coverage as it stands, dated ``taken_on``.

    A second snapshot on the same day replaces the first (one per day). The figures are those
    of the stored coverage (recomputed by the last write or :func:`refresh_all`; its date is
    in ``details.coverage_as_of``); ``actor``, if given, is recorded in the audit log. Returns
    the rows written, England first.
    """
    async with conn.transaction():
        rows = await totals_rows(conn, None)
        written = []
        for row in rows:
            snapshot = {
                **row,
                "taken_on": taken_on,
                "details": {
                    "name": row["name"],
                    "lsoas": int(row["lsoas"]),
                    "coverage_as_of": row["as_of"],
                    "cold_spot_threshold": COLD_SPOT_THRESHOLD,
                    "deprived_deciles": f"1-{DEPRIVED_DECILE_MAX}",
                    "edition": COVERAGE_EDITION,
                },
            }
            written.append(snapshot)
        async with conn.cursor() as cur:
            await cur.execute(
                read_sql("geo", "coverage/snapshot_clear.sql"), {"taken_on": taken_on}
            )
            await cur.executemany(
                read_sql("geo", "coverage/snapshot_insert.sql"),
                [{**w, "details": Jsonb(w["details"])} for w in written],
            )
        if actor is not None:
            await audit.record(
                conn,
                actor,
                "coverage.snapshot",
                "coverage_snapshot",
                taken_on.isoformat(),
                None,
                {"rows": len(written), "coverage_as_of": rows[0]["as_of"] if rows else None},
            )
    return [_snapshot(w) for w in written]


async def snapshots(
    conn: AsyncConnection[Any], scope: Literal["england", "lad"], code: str | None = None
) -> list[Snapshot]:
    """England's (``code`` omitted) or a district's snapshots, oldest first.

    Raises
    ------
    InvalidInput
        For a malformed district code, or a district scope without one.
    AreaNotFound
        If the district has no LSOA in the coverage layer.
    """
    if scope == "england":
        code = ENGLAND_CODE
    else:
        if code is None:
            raise InvalidInput("a district's snapshots need its code", parameter="lad")
        code = checked_lad_code(code)
        cur = await conn.execute(read_sql("geo", "coverage/lad_known.sql"), {"lad": code})
        known = await cur.fetchone()
        if not known or not known[0]:
            raise AreaNotFound(f"no LSOA of the coverage layer is in district {code}")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "coverage/snapshots.sql"), {"scope": scope, "code": code})
        return [_snapshot(row) for row in await cur.fetchall()]


async def computed_since(conn: AsyncConnection[Any], day: date) -> bool:
    """Whether every LSOA's coverage was computed on ``day`` or later (a national recompute)."""
    cur = await conn.execute(
        read_sql("geo", "coverage/computed_since.sql"), {"day": day.isoformat()}
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def snapshot_taken(conn: AsyncConnection[Any], day: date) -> bool:
    """Whether a coverage snapshot is dated ``day``."""
    cur = await conn.execute(read_sql("geo", "coverage/snapshot_taken.sql"), {"day": day})
    row = await cur.fetchone()
    return bool(row and row[0])
