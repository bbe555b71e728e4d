"""Reading the asset register: one asset, the list, history, deadlines, who may nominate or bid."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import rights
from geo.assets.models import Asset, AssetEvent, DeadlineOut, Eligibility, UpcomingDeadline
from geo.errors import (
    AssetNotFound,
    GroupNotFound,
    GroupNotKnown,
)
from geo.sqlfiles import fetch_rows, read_sql


def lifecycle_of(row: dict[str, Any]) -> rights.Lifecycle:
    """The statutory facts of a stored asset."""
    return rights.Lifecycle(
        status=row["status"],
        nominated_on=row["nominated_on"],
        nominating_group=row["nominating_group"],
        decided_on=row["decided_on"],
        listed_on=row["listed_on"],
        review_requested_on=row["review_requested_on"],
        notice_received_on=row["notice_received_on"],
        bid_requested_on=row["bid_requested_on"],
        interest_group=row["interest_group"],
        disposed_on=row["disposed_on"],
        removed_on=row["removed_on"],
        last_step_on=row["last_step_on"],
    )


def asset_view(row: dict[str, Any], on: date) -> Asset:
    """An API asset from a stored row, with deadlines and next steps as of ``on``."""
    life = lifecycle_of(row)
    fields = {k: v for k, v in row.items() if k in Asset.model_fields}
    return Asset(
        **fields,
        deadlines=[DeadlineOut(**asdict(d)) for d in rights.deadlines(life)],
        next_steps=list(rights.allowed_steps(life, on)),
    )


async def select_assets(
    conn: AsyncConnection,
    *,
    asset_id: int | None = None,
    lad: str | None = None,
    statuses: list[str] | None = None,
    category: str | None = None,
    max_decile: int | None = None,
    group: str | None = None,
    limit: int = 1000,
    lock: bool = False,
) -> list[dict[str, Any]]:
    """Rows of ``assets/select.sql`` (optionally locking them for update)."""
    query = read_sql("geo", "assets/select.sql") + (" FOR UPDATE OF a" if lock else "")
    if group is not None:
        found = await conn.execute(read_sql("geo", "assets/group_listed.sql"), {"group": group})
        listed = await found.fetchone()
        if not (listed and listed[0]):
            raise GroupNotFound(f"no listed neighbourhood group has reference {group!r}")
    params = {
        "group": group,
        "id": asset_id,
        "lad": lad,
        "statuses": statuses,
        "category": category,
        "max_decile": max_decile,
        "limit": limit,
    }
    return await fetch_rows(conn, query, params)


async def asset_row(conn: AsyncConnection, asset_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One stored asset; AssetNotFound if there is none."""
    rows = await select_assets(conn, asset_id=asset_id, limit=1, lock=lock)
    if not rows:
        raise AssetNotFound(f"no asset of community value {asset_id}")
    return rows[0]


async def get_asset(conn: AsyncConnection, asset_id: int, on: date) -> Asset:
    """Return one asset (the register is public) with its deadlines and steps legal ``on``.

    Raises
    ------
    AssetNotFound
        If there is no such asset.
    """
    return asset_view(await asset_row(conn, asset_id), on)


async def list_assets(
    conn: AsyncConnection,
    on: date,
    *,
    lad: str | None = None,
    status: str | None = None,
    category: str | None = None,
    max_decile: int | None = None,
    group: str | None = None,
    limit: int = 100,
) -> list[Asset]:
    """Return assets filtered by district, status, category and most deprived deciles.

    ``max_decile=2`` keeps assets in LSOAs of the two most deprived IMD deciles; ``group`` (a
    neighbourhood group's reference) keeps those inside its area or nominated or bid for by it.

    Raises
    ------
    GroupNotFound
        If ``group`` names no listed group.
    """
    rows = await select_assets(
        conn,
        group=group,
        lad=lad,
        statuses=None if status is None else [status],
        category=category,
        max_decile=max_decile,
        limit=limit,
    )
    return [asset_view(r, on) for r in rows]


async def history(conn: AsyncConnection, asset_id: int) -> list[AssetEvent]:
    """Return every step of an asset, oldest first.

    Raises
    ------
    AssetNotFound
        If there is no such asset.
    """
    await asset_row(conn, asset_id)
    rows = await fetch_rows(conn, read_sql("geo", "assets/history.sql"), {"id": asset_id})
    return [AssetEvent.model_validate(r) for r in rows]


async def upcoming_deadlines(
    conn: AsyncConnection, on: date, days: int, lad: str | None = None, group: str | None = None
) -> list[UpcomingDeadline]:
    """Return the statutory deadlines ending within ``days`` days from ``on`` (inclusive).

    Deadlines are computed by :func:`geo.rights.deadlines` from each asset's stored dates. By
    district (``lad``) or by neighbourhood group (``group``, its reference: the assets in its
    area or that it nominated or bid for).

    Raises
    ------
    GroupNotFound
        If ``group`` names no listed group.
    """
    active = ["nominated", "listed", "under_review", "disposal_notified", "full_moratorium"]
    rows = await select_assets(
        conn, lad=lad, group=group, statuses=[*active, "disposed"], limit=100_000
    )
    found: list[UpcomingDeadline] = []
    last = date.fromordinal(on.toordinal() + days)
    for row in rows:
        for d in rights.deadlines(lifecycle_of(row)):
            if on <= d.ends <= last:
                found.append(
                    UpcomingDeadline(
                        asset_id=row["id"],
                        reference=row["reference"],
                        name=row["name"],
                        lad_code=row["lad_code"],
                        status=row["status"],
                        kind=d.kind,
                        period=d.period,
                        ends=d.ends,
                        authority=d.authority,
                    )
                )
    return sorted(found, key=lambda u: (u.ends, u.asset_id, u.kind))


async def eligibility(conn: AsyncConnection, asset_id: int, group: str, on: date) -> Eligibility:
    """Say whether ``group`` may nominate the asset or ask to be treated as a bidder on ``on``.

    Raises
    ------
    GroupNotKnown
        If no live group manager key carries the group's name and no listed neighbourhood
        group has that name or reference.
    AssetNotFound
        If there is no such asset.
    """
    if not await group_known(conn, group):
        raise GroupNotKnown(f"no community group named {group!r} is known", parameter="group")
    row = await asset_row(conn, asset_id)
    life = lifecycle_of(row)
    allowed = rights.allowed_steps(life, on)
    reasons: list[str] = []
    window_ends = None
    unconnected = await local_connection_problem(conn, group, row["lad_code"])
    if unconnected:  # the lifecycle may allow the steps; this group may not take them
        allowed = [s for s in allowed if s not in ("nominate", "request_to_bid")]
    may_nominate = "nominate" in allowed
    may_bid = "request_to_bid" in allowed
    if unconnected:
        reasons.append(unconnected)
    else:
        reasons.append(_nomination_reason(life, may_nominate))
        if life.notice_received_on and life.status == "disposal_notified":
            window_ends = rights.period_end(life.notice_received_on, rights.INTERIM_MORATORIUM)
        reasons.append(_bid_reason(life, may_bid, window_ends, on))
    return Eligibility(
        asset_id=asset_id,
        group=group,
        on=on,
        status=life.status,
        may_nominate=may_nominate,
        may_request_to_bid=may_bid,
        window_ends=window_ends,
        reasons=reasons,
    )


def _nomination_reason(life: rights.Lifecycle, may_nominate: bool) -> str:
    """Why the asset may or may not be nominated now."""
    if may_nominate:
        return "the asset is not listed or nominated: an eligible body may nominate it"
    if life.status == "nominated":
        return f"already nominated on {life.nominated_on} by {life.nominating_group}"
    if life.status in rights.LISTED_FAMILY:
        return "the asset is already listed: it cannot be nominated again"
    return f"an asset that is {life.status.replace('_', ' ')} cannot be nominated"


def _bid_reason(life: rights.Lifecycle, may_bid: bool, window_ends: date | None, on: date) -> str:
    """Why a community interest group may or may not ask to be treated as a bidder now."""
    if life.notice_received_on and life.status == "disposal_notified":
        if may_bid:
            return (
                f"a disposal was notified on {life.notice_received_on}: a community interest "
                f"group may ask to be treated as a potential bidder until {window_ends}"
            )
        problem = rights.window_problem(life, "request_to_bid", on, rights.StepRequest())
        return problem or "a request to bid is not possible now"
    if life.status == "full_moratorium":
        return f"{life.interest_group} has already asked to bid: the full moratorium runs"
    return "no disposal has been notified: there is nothing to bid for"


async def local_connection_problem(conn: AsyncConnection, group: str, lad_code: str) -> str | None:
    """Why a registered neighbourhood group may not act for an asset in ``lad_code``, or None.

    A group of the register has a local connection (2012 Regulations reg. 4(1)) when its area
    lies partly in the asset's district or in a neighbouring one. Groups known only by a key
    (parish councils, charities) are not checked here: their connection is the officer's call.
    """
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "assets/group_connection.sql"), {"group": group, "lad": lad_code}
        )
        found = await cur.fetchone()
    if found is None or found["local_connection"]:
        return None
    return (
        f"{found['name']} ({found['reference']}) works in {', '.join(found['lad_codes'])}: no "
        f"local connection with {lad_code} or a neighbouring district (2012 Regulations reg. 4)"
    )


async def group_known(conn: AsyncConnection, group: str) -> bool:
    """Whether a live group manager key, or a listed neighbourhood group, has that name."""
    cur = await conn.execute(read_sql("geo", "assets/group_known.sql"), {"group": group})
    row = await cur.fetchone()
    return bool(row and row[0])
