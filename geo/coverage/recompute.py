"""Recomputing coverage: cutting areas by LSOA, LSOA and H3 figures, nationally or for one write."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo import audit
from geo.coverage.models import (
    ACTIVE_MONTHS_DEFAULT,
    COLD_SPOT_THRESHOLD,
    COVERAGE_EDITION,
    DEPRIVED_DECILE_MAX,
    ENGLAND_CODE,
    RefreshSummary,
    active_since,
)
from geo.sqlfiles import read_sql

# Fixed SQL fragments choosing what a statement covers (never built from input).
_ALL_LSOAS = "SELECT code FROM lsoa_coverage"


_SOME_LSOAS = "SELECT DISTINCT unnest(%(codes)s::text[]) AS code"


_SOME_CELLS = "SELECT DISTINCT unnest(%(cells)s::bigint[]) AS cell"


_ALL_OWNERS = "TRUE"


_ONE_OWNER = "o.id = %(id)s"


# The LSOAs whose covers coverage/lsoa_cover.sql computes: a write's (its scope), all, or one
# of two halves of them (a national recompute's organisers, in two processes).
_SCOPE_LSOAS = "c.code IN (SELECT code FROM scope)"


_EVERY_LSOA = "TRUE"


_LSOA_HALVES = ("hashtext(c.code) & 1 = 0", "hashtext(c.code) & 1 = 1")


_STORED_COVER = "SELECT * FROM coverage_lsoa_covers WHERE kind = '{}'"


# The recompute's plans are cheap to make and dearer to JIT-compile than to run.
NO_JIT = "SET LOCAL jit = off"


_Query = sql.SQL | sql.Composed


# Names and fixed fragments per kind of owner; relate, whole and only_touching are how
# coverage/cut.sql tells an LSOA wholly inside the area from one only touching it (see there).
_OWNERS: dict[str, dict[str, str]] = {
    "group": {
        "pieces": "group_lsoa",
        "owner": "group_id",
        "table": "community_group",
        "area": "area",
        "active": "o.listed AND o.last_activity_on >= %(since)s",
        "relate": "CROSS JOIN LATERAL ST_Relate(l.geom, o.area) AS relation",
        "whole": "ST_RelateMatch(relation, '**F**F***')",
        "only_touching": "ST_RelateMatch(relation, 'F********')",
    },
    "organiser": {
        "pieces": "organiser_lsoa",
        "owner": "organiser_id",
        "table": "organiser",
        "area": "patch",
        "active": "o.active",
        "relate": "",
        "whole": "ST_Covers(o.patch, l.geom)",
        "only_touching": "FALSE",
    },
}


def sql_statement(name: str, **fragments: str) -> _Query:
    """A SQL file with its ``{placeholders}`` filled by fixed fragments of this module."""
    text = read_sql("geo", name)
    if not fragments:
        return sql.SQL(text)
    return sql.SQL(text).format(**{k: sql.SQL(v) for k, v in fragments.items()})


def _parents_update(name: str, **fragments: str) -> _Query:
    """A statement writing H3 parents (coverage/h3_cells.sql, coverage/h3_parents.sql,
    coverage/h3_all.sql) with the write they share in it."""
    return sql_statement(name, write=read_sql("geo", "coverage/h3_parents_update.sql"), **fragments)


def _r8_sums(masks: str) -> str:
    """coverage_h3_parent_sums.sql: resolution-8 figures from the bits in ``masks``."""
    return read_sql("geo", "coverage/h3_parent_sums.sql").format(masks=masks)


def recompute_params(as_of: date, active_months: int) -> dict[str, Any]:
    """The parameters the recompute statements draw from."""
    return {
        "as_of": as_of.isoformat(),
        "since": active_since(as_of, active_months),
        "threshold": COLD_SPOT_THRESHOLD,
        "deprived_decile_max": DEPRIVED_DECILE_MAX,
        "edition": COVERAGE_EDITION,
    }


def cut_statement(kind: Literal["group", "organiser"], owners: str) -> _Query:
    """coverage_cut.sql for groups or organisers, choosing the owners by a fixed fragment."""
    names = _OWNERS[kind]
    return sql_statement(
        "coverage/cut.sql",
        owners=owners,
        **{k: names[k] for k in ("table", "area", "relate", "whole", "only_touching")},
    )


def _lsoa_cover(kind: Literal["group", "organiser"], lsoas: str) -> str:
    """coverage_lsoa_cover.sql: what active groups or organisers cover of the LSOAs ``lsoas``
    (a fixed condition) chooses."""
    names = _OWNERS[kind]
    return read_sql("geo", "coverage/lsoa_cover.sql").format(
        kind=kind,
        pieces=names["pieces"],
        owner=names["owner"],
        table=names["table"],
        active=names["active"],
        lsoas=lsoas,
    )


def _lsoa_update(scope: str, group_cover: str, organiser_cover: str) -> _Query:
    """coverage_lsoa.sql for the LSOAs ``scope`` names, from the given covers."""
    return sql_statement(
        "coverage/lsoa.sql", scope=scope, group_cover=group_cover, organiser_cover=organiser_cover
    )


def national_steps(recut: bool) -> list[tuple[str, _Query, bool]]:
    """The statements of a national recompute, in order: (name, statement, takes params)."""
    steps: list[tuple[str, _Query, bool]] = [
        ("begin", sql_statement("coverage/national_begin.sql"), False)
    ]
    if recut:
        for kind in ("group", "organiser"):
            names = _OWNERS[kind]
            steps += [
                (
                    f"{kind} pieces",
                    sql.SQL(read_sql("geo", "coverage/cut_stage.sql")).format(
                        cut=cut_statement(kind, _ALL_OWNERS)
                    ),
                    False,
                ),
                (
                    f"{kind} pieces stored",
                    sql_statement(
                        "coverage/cut_store.sql", pieces=names["pieces"], owner=names["owner"]
                    ),
                    False,
                ),
            ]
    steps += [
        (
            "lsoa covers",
            sql_statement(
                "coverage/lsoa_covers_all.sql",
                group_cover=_lsoa_cover("group", _EVERY_LSOA),
                organiser_cover_even=_lsoa_cover("organiser", _LSOA_HALVES[0]),
                organiser_cover_odd=_lsoa_cover("organiser", _LSOA_HALVES[1]),
            ),
            True,
        ),
        (
            "lsoas",
            _lsoa_update(
                _ALL_LSOAS, _STORED_COVER.format("group"), _STORED_COVER.format("organiser")
            ),
            True,
        ),
        ("cell bits", sql_statement("coverage/h3_masks_all.sql"), True),
        # Statistics for the join of coverage/h3_all.sql (0.15 s faster with them).
        ("cell bits analysed", sql.SQL("ANALYZE coverage_parent_masks"), False),
        (
            "cells",
            _parents_update("coverage/h3_all.sql", r8_sums=_r8_sums("coverage_parent_masks")),
            False,
        ),
        ("group serving", sql_statement("coverage/group_serving_active.sql"), True),
    ]
    return steps


def _summary(
    row: dict[str, Any],
    params: dict[str, Any],
    changed: dict[str, int],
    started: float,
    steps: dict[str, float],
) -> RefreshSummary:
    """The summary of a national recompute from its counts."""
    return RefreshSummary(
        as_of=date.fromisoformat(params["as_of"]),
        active_since=params["since"],
        groups=int(row["groups"]),
        active_groups=int(row["active_groups"]),
        organisers=int(row["organisers"]),
        active_organisers=int(row["active_organisers"]),
        group_pieces=int(row["group_pieces"]),
        organiser_pieces=int(row["organiser_pieces"]),
        lsoas=int(row["lsoas"]),
        lsoas_changed=changed.get("lsoas", 0),
        cells_changed=changed.get("cells", 0),
        adults=float(row["adults"]),
        adults_covered=float(row["adults_covered"]),
        seconds=time.perf_counter() - started,
        step_seconds={name: round(seconds, 3) for name, seconds in steps.items()},
    )


async def lock_writes(conn: AsyncConnection[Any]) -> None:
    """Wait for, then hold to the end of the open transaction, the lock on writing coverage.

    Everything that writes groups, organisers or coverage takes it first, before it writes or
    locks any row (coverage/write_lock.sql says why): the refreshes here take it themselves,
    which is enough for a caller that has written nothing yet in the transaction. Writers
    queue behind a national recompute (seconds) instead of deadlocking with it.
    """
    await conn.execute(read_sql("geo", "coverage/write_lock.sql"))


def lock_writes_sync(conn: psycopg.Connection[Any]) -> None:
    """:func:`lock_writes` on a synchronous connection (the loader's)."""
    conn.execute(read_sql("geo", "coverage/write_lock.sql"))


def refresh_all_sync(
    conn: psycopg.Connection[Any],
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
    recut: bool = True,
) -> RefreshSummary:
    """:func:`refresh_all` on a synchronous connection (the loader's); no data-version bump."""
    started = time.perf_counter()
    params = recompute_params(as_of, active_months)
    changed: dict[str, int] = {}
    steps: dict[str, float] = {}
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        lock_writes_sync(conn)
        for name, statement, takes_params in national_steps(recut):
            step_started = time.perf_counter()
            cur.execute(statement, params if takes_params else None)
            steps[name] = time.perf_counter() - step_started
            changed[name] = cur.rowcount
        cur.execute(read_sql("geo", "coverage/refresh_counts.sql"), params)
        row = cur.fetchone()
    assert row is not None
    return _summary(row, params, changed, started, steps)


async def refresh_all(
    conn: AsyncConnection[Any],
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
    recut: bool = True,
    actor: str | None = None,
) -> RefreshSummary:
    """Recompute all coverage, set-based in SQL, in one transaction; bump the data version.

    Every group's area and organiser's patch is cut again by the LSOAs (unless ``recut`` is
    false: writes and loads keep the pieces current, so only the activity window's move needs
    recomputing); the coverage of every LSOA and of every H3 cell whose coverage may change is
    recomputed on ``as_of``; the public group layer's ``active`` flag follows the window.

    Parameters
    ----------
    conn
        A connection; its open transaction, if any, holds the work (as a savepoint) and the
        coverage write lock (:func:`lock_writes`, which a caller that writes rows before
        this takes first).
    as_of
        The date activity is judged on (today, in the service).
    active_months
        The activity window (see :func:`active_since`).
    recut
        Whether to cut every area by the LSOAs again.
    actor
        Who asked (recorded in the audit log with the summary), if anyone.
    """
    started = time.perf_counter()
    params = recompute_params(as_of, active_months)
    changed: dict[str, int] = {}
    steps: dict[str, float] = {}
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await lock_writes(conn)
        for name, statement, takes_params in national_steps(recut):
            step_started = time.perf_counter()
            await cur.execute(statement, params if takes_params else None)
            steps[name] = time.perf_counter() - step_started
            changed[name] = cur.rowcount
        await cur.execute(read_sql("geo", "coverage/refresh_counts.sql"), params)
        row = await cur.fetchone()
        assert row is not None
        summary = _summary(row, params, changed, started, steps)
        if actor is not None:
            after = {k: str(v) if isinstance(v, date) else v for k, v in asdict(summary).items()}
            await audit.record(
                conn, actor, "coverage.refresh", "coverage", ENGLAND_CODE, None, after
            )
        await cur.execute(read_sql("geo", "tiles/bump_data_version.sql"))
    return summary


async def _refresh_owner(
    conn: AsyncConnection[Any],
    kind: Literal["group", "organiser"],
    owner_id: int,
    as_of: date,
    active_months: int,
) -> None:
    """Re-cut one group's or organiser's area; recompute what it touched, before and after."""
    names = _OWNERS[kind]
    params = {**recompute_params(as_of, active_months), "id": owner_id}

    async def run(statement: _Query, values: dict[str, Any] | None = None) -> None:
        # Never prepared: a generic plan cannot see how few LSOAs and cells are in the arrays
        # and would scan the national tables (seconds instead of milliseconds).
        await cur.execute(statement, values, prepare=False)

    async with conn.transaction(), conn.cursor() as cur:
        await lock_writes(conn)
        await run(sql.SQL(NO_JIT))
        await run(sql_statement("coverage/uncut.sql", **names), params)
        old = await cur.fetchone()
        await run(
            sql.SQL(read_sql("geo", "coverage/cut_insert.sql")).format(
                pieces=sql.SQL(names["pieces"]),
                owner=sql.SQL(names["owner"]),
                cut=cut_statement(kind, _ONE_OWNER),
            ),
            params,
        )
        await run(sql_statement("coverage/touched.sql", **names), params)
        new = await cur.fetchone()
        assert old is not None and new is not None
        codes = sorted(set(old[0]) | set(new[0]))
        cells = sorted(set(old[1]) | set(new[1]))
        if codes:
            await run(
                _lsoa_update(
                    _SOME_LSOAS,
                    _lsoa_cover("group", _SCOPE_LSOAS),
                    _lsoa_cover("organiser", _SCOPE_LSOAS),
                ),
                {**params, "codes": codes},
            )
        if cells:
            await run(
                _parents_update("coverage/h3_cells.sql", r8_sums=_r8_sums("masks")),
                {**params, "cells": cells},
            )
            changed = [fid for (fid,) in await cur.fetchall()]
            if changed:
                await run(
                    _parents_update("coverage/h3_parents.sql", cells=_SOME_CELLS),
                    {"cells": changed},
                )


async def refresh_group(
    conn: AsyncConnection[Any],
    group_id: int,
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> None:
    """Recompute coverage after one group was added or changed (in the caller's transaction).

    The group's pieces are cut again from its current area; the LSOAs its old and new pieces
    touch and the H3 cells whose centres lie in its old or new area (and their parents) are
    recomputed on ``as_of``. A group that is unlisted or no longer active keeps its pieces and
    covers nothing. A group deleted outright takes its pieces with it (ON DELETE CASCADE), so
    unlist it, or call this after unlisting and before deleting. Does not bump the data
    version: the caller's write does.

    Parameters
    ----------
    conn
        The caller's connection; its open transaction holds the work (as a savepoint) and
        the coverage write lock, which the caller takes (:func:`lock_writes`) before it
        writes the group.
    group_id
        The ``community_group.id`` written.
    as_of
        The date activity is judged on (today, in the service).
    active_months
        The activity window (see :func:`active_since`).
    """
    await _refresh_owner(conn, "group", group_id, as_of, active_months)


async def refresh_organiser(
    conn: AsyncConnection[Any],
    organiser_id: int,
    *,
    as_of: date,
    active_months: int = ACTIVE_MONTHS_DEFAULT,
) -> None:
    """Recompute coverage after one organiser was added or changed (as :func:`refresh_group`).

    Organisers count while ``organiser.active`` is true. The LSOAs touched have their group
    coverage recomputed too (on ``as_of`` with ``active_months``), which changes nothing
    unless the activity window moved since their last recompute.
    """
    await _refresh_owner(conn, "organiser", organiser_id, as_of, active_months)
