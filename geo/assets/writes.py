"""Writing the asset register: recording an asset and its statutory lifecycle steps, audited."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from functools import cache
from typing import Any

import psycopg.errors
import shapely
import shapely.geometry
import shapely.wkt
from psycopg import AsyncConnection
from pyproj import Transformer

from geo import audit, place_resolution, rights
from geo.access import Principal
from geo.areas import find_edition
from geo.assets.models import Asset, AssetInput, StepInput
from geo.assets.reads import asset_row, asset_view, lifecycle_of, local_connection_problem
from geo.crs import require_point_in_england
from geo.errors import (
    AssetOutsideEngland,
    Forbidden,
    InvalidInput,
    PointOutsideCoverage,
    StaleVersion,
)
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

MAX_SITE_DISTANCE_M = 250.0


TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def check_asset_point(lon: float, lat: float) -> None:
    """Raise AssetOutsideEngland if the point is plainly outside England.

    The test is ``geo.crs.require_point_in_england``'s; an asset's point is what the caller
    sends in its body, so it stays a 400 naming ``lon`` rather than that function's 404.
    """
    try:
        require_point_in_england(lon, lat)
    except PointOutsideCoverage as outside:
        raise AssetOutsideEngland(str(outside), parameter="lon") from None


def site_wkb(data: AssetInput) -> bytes | None:
    """The site polygon in EPSG:27700 as WKB, checked to lie at the asset's point."""
    if data.site is None:
        return None
    projected, _ = place_resolution.polygon_in_bng(data.site)
    x, y = TO_BNG.transform(data.lon, data.lat)
    if projected.distance(shapely.Point(x, y)) > MAX_SITE_DISTANCE_M:
        raise InvalidInput(
            f"the site polygon is more than {MAX_SITE_DISTANCE_M:.0f} m from the asset's point",
            parameter="site",
        )
    return bytes(shapely.to_wkb(projected))


@cache
def point_placed_sql(name: str) -> str:
    """``geo/sql/assets/<name>`` with the point and the LSOA containing it in place.

    Inserting an asset and rewriting its facts place its point the same way
    (``assets/point_place.sql``, put where the file says ``/*point_place*/``).
    """
    place = read_sql("geo", "assets/point_place.sql")
    ctes = "".join(line for line in place.splitlines(True) if not line.startswith("--"))
    return read_sql("geo", f"assets/{name}").replace("/*point_place*/", ctes.rstrip("\n"))


async def insert_asset(
    conn: AsyncConnection,
    data: AssetInput,
    actor: str,
    *,
    reference: str | None = None,
    source: str = "api",
) -> tuple[int, str]:
    """Insert an asset (the caller's transaction); return its id and derived district."""
    check_asset_point(data.lon, data.lat)
    postcode = None
    if data.postcode:
        postcode = normalise_postcode(data.postcode)
        if postcode is None:
            raise InvalidInput(f"{data.postcode!r} is not a UK postcode", parameter="postcode")
    edition = await find_edition(conn, None)
    params = {
        **data.model_dump(exclude={"site", "postcode", "lon", "lat"}),
        "lon": data.lon,
        "lat": data.lat,
        "postcode": postcode,
        "reference": reference,
        "source": source,
        "edition": edition.code,
        "site_wkb": site_wkb(data),
        "actor": actor,
    }
    try:
        cur = await conn.execute(point_placed_sql("insert.sql"), params)
    except psycopg.errors.UniqueViolation as exc:
        raise InvalidInput(f"reference {reference!r} is already in the register") from exc
    row = await cur.fetchone()
    if row is None:
        raise AssetOutsideEngland(
            f"no English LSOA of the {edition.code} geography contains ({data.lon}, {data.lat})",
            parameter="lon",
        )
    return int(row[0]), str(row[1])


async def refresh_serving(conn: AsyncConnection, asset_id: int, on: date) -> None:
    """Rewrite the asset's map feature and bump the data version (drops cached tiles)."""
    await upsert_asset_serving(conn, asset_id, on)
    await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))


async def upsert_asset_serving(conn: AsyncConnection, asset_id: int, on: date) -> None:
    """Write the asset's row of the map layer with its next deadline as of ``on``."""
    row = await asset_row(conn, asset_id)
    upcoming = rights.next_deadline(lifecycle_of(row), on)
    await conn.execute(
        read_sql("geo", "assets/serving_upsert.sql"),
        {
            "id": asset_id,
            "next_deadline": None if upcoming is None else upcoming.ends.isoformat(),
            "next_deadline_kind": None if upcoming is None else upcoming.kind,
        },
    )


async def refresh_passed_deadlines(conn: AsyncConnection, on: date) -> int:
    """Move the map layer's next deadline on for assets whose stored one has passed by ``on``.

    The layer's ``next_deadline`` is computed at each write; when no step follows, the day
    after it passes it is stale (an interim moratorium has ended, say, and the protected
    period's end is next). The service runs this daily (app/housekeeping.py) and
    ``platoons assets refresh-deadlines`` runs it on demand. Returns the rows rewritten; the
    data version is bumped once, only when there were any.
    """
    async with conn.transaction():
        cur = await conn.execute(
            read_sql("geo", "assets/serving_passed.sql"), {"day": on.isoformat()}
        )
        stale = [int(fid) for (fid,) in await cur.fetchall()]
        for asset_id in stale:
            await upsert_asset_serving(conn, asset_id, on)
        if stale:
            await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))
    return len(stale)


def asset_audit_view(row: dict[str, Any]) -> dict[str, Any]:
    """The audited form of an asset: its lifecycle and version, as JSON."""
    life = asdict(lifecycle_of(row))
    return {
        **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in life.items()},
        "version": row["version"],
    }


# The asset lifecycle's event table and audit names.
ASSET_STEP_LOG = audit.StepLog("asset", "assets/event_insert.sql", asset_audit_view)


async def record_new_asset(
    conn: AsyncConnection, asset_id: int, on: date, actor: str, details: dict[str, Any]
) -> dict[str, Any]:
    """Append a just-inserted asset's first step (``record``, taking effect ``on``) to its
    history and the audit log; return its stored row."""
    row = await asset_row(conn, asset_id)
    await audit.record_step(
        conn, ASSET_STEP_LOG, asset_id, "record", None, row, on, on, actor, details
    )
    return row


async def create_asset(
    conn: AsyncConnection, data: AssetInput, principal: Principal, on: date
) -> Asset:
    """Record an asset in the register (status ``recorded``), audited.

    Group managers may record any English asset (to nominate it); officers only in their
    districts; admins anywhere.

    Raises
    ------
    AssetOutsideEngland
        If no loaded English LSOA contains the point.
    Forbidden
        If an officer records an asset outside their districts.
    InvalidInput
        If the postcode or site polygon is malformed or the site is far from the point.
    """
    principal.require("group_manager", "officer")
    async with conn.transaction():
        asset_id, lad = await insert_asset(conn, data, principal.actor)
        if principal.role == "officer" and not principal.may_act_in(lad):
            raise Forbidden(f"this key may not record assets in {lad}")
        row = await record_new_asset(conn, asset_id, on, principal.actor, {"source": "api"})
        await refresh_serving(conn, asset_id, on)
    return asset_view(row, on)


async def take_step(
    conn: AsyncConnection,
    asset_id: int,
    step: rights.Step,
    request: StepInput,
    principal: Principal,
    on: date,
    expected_version: int | None = None,
) -> Asset:
    """Take one lifecycle step on ``on`` (today, UTC), audited; see :mod:`geo.rights`.

    Group steps (nominate, request_to_bid) are taken by a group manager's key as its own group,
    or recorded by an officer of the district for a named group; every other step is an
    officer's (of the asset's district) or an admin's.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow
        If the status or a statutory window forbids the step (409 with the legal steps).
    StaleVersion
        If ``expected_version`` is not the current version.
    DateInFuture, InvalidInput
        If the effective date is in the future or a required fact is missing.
    Forbidden, Unauthenticated, AssetNotFound
        As named.
    """
    transition = rights.TRANSITIONS[step]
    if transition.actor == "group":
        principal.require("group_manager", "officer")
    else:
        principal.require("officer")
    group = request.group
    async with conn.transaction():
        row = await asset_row(conn, asset_id, lock=True)
        if principal.role == "group_manager":
            if group and group.strip().lower() != principal.name.lower():
                raise Forbidden("a group manager's key acts only for its own group")
            group = principal.name
        elif not principal.may_act_in(row["lad_code"]):
            raise Forbidden(f"this key may not act for assets in {row['lad_code']}")
        if expected_version is not None and expected_version != row["version"]:
            raise StaleVersion(
                f"asset {asset_id} is at version {row['version']}, not {expected_version}"
            )
        if step == "nominate":
            rights.check_nominating_body(request.body_type, request.local_electors)
        if step in ("nominate", "request_to_bid") and group:
            problem = await local_connection_problem(conn, group, row["lad_code"])
            if problem:
                raise InvalidInput(problem, parameter="group")
        life = rights.apply(
            lifecycle_of(row),
            step,
            rights.StepRequest(
                effective_on=request.effective_on,
                group=group,
                reason=request.reason,
                exemption=request.exemption,
                to_community_interest_group=request.to_community_interest_group,
            ),
            on,
        )
        reason = (request.reason or "").strip() or None
        cur = await conn.execute(
            read_sql("geo", "assets/update_lifecycle.sql"),
            {
                **asdict(life),
                "id": asset_id,
                "version": row["version"],
                "nominating_body_type": request.body_type if step == "nominate" else None,
                "decline_reason": reason if step == "decline" else None,
                "exemption": request.exemption if step == "record_exempt_disposal" else None,
                "removal_reason": reason if step in ("remove", "overturn_review") else None,
            },
        )
        if cur.rowcount != 1:  # cannot happen under the row lock; the guard is the backstop
            raise StaleVersion(f"asset {asset_id} changed meanwhile; read it again")
        after = await asset_row(conn, asset_id)
        assert life.last_step_on is not None
        details = {
            k: v
            for k, v in request.model_dump(mode="json", exclude={"effective_on"}).items()
            if v not in (None, False)
        }
        if group:
            details["group"] = group
        await audit.record_step(
            conn,
            ASSET_STEP_LOG,
            asset_id,
            step,
            row,
            after,
            life.last_step_on,
            on,
            principal.actor,
            details,
        )
        await refresh_serving(conn, asset_id, on)
    return asset_view(after, on)
