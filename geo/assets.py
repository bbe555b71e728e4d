"""Assets of community value: the register, its lifecycle steps, queries, import and export.

An asset is a point (and optionally a site polygon) with a name, category and owner type; its
LSOA, district and IMD decile are derived in SQL from the point (IoD2025 geography), never
typed. Its statutory lifecycle lives in :mod:`geo.rights`; this module stores it. Every step
locks the asset's row, checks the caller's version, applies the step on the date given (today,
UTC, in the service), and in one transaction writes the asset, appends to ``asset_event`` and
``audit_log``, rewrites the asset's row of the map layer and bumps the data version (so cached
tiles are dropped). Two parallel steps on one asset queue on the lock: the second sees the
first's status and is refused, or fails its version check.

Import and export use the national planning data format for ``asset-of-community-value``
(CSV or GeoJSON), and plain council register CSVs (name, address, postcode, nominating group,
listing date) placed by postcode; rows that cannot be placed are reported, never guessed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import psycopg.errors
import shapely
import shapely.geometry
import shapely.wkt
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field
from pyproj import Transformer

from geo import audit, places, rights
from geo.access import Principal
from geo.areas import find_edition
from geo.crs import ENGLAND_BOUNDS
from geo.errors import (
    AssetNotFound,
    AssetOutsideEngland,
    DateInFuture,
    Forbidden,
    GroupNotFound,
    InvalidInput,
    PlatoonsError,
    StaleVersion,
    UnknownGroup,
)
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

Category = Literal[
    "pub",
    "shop",
    "post_office",
    "library",
    "park_green_space",
    "community_centre",
    "sports_facility",
    "other",
]
OwnerType = Literal[
    "central_government", "arms_length_body", "local_authority", "commercial", "charity", "other"
]
# England's extent with a margin (OS GB extent of England, rounded out): a cheap first check
# before the exact one, which is that a loaded English LSOA contains the point.
NATIONAL_FIELDS: tuple[str, ...] = (
    "reference",
    "name",
    "address-text",
    "description",
    "point",
    "geometry",
    "organisation",
    "nomination-date",
    "nominating-group",
    "decision",
    "decision-date",
    "expiry-date",
    "notification-to-sell-date",
    "interested-group",
    "protected-period-start-date",
    "notes",
    "entry-date",
    "start-date",
    "end-date",
)
MAX_SITE_DISTANCE_M = 250.0
POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


class AssetInput(BaseModel):
    """A new register entry, as an officer or group records it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    category: Category
    owner_type: OwnerType
    lon: float = Field(ge=-180, le=180, description="Longitude (EPSG:4326) of the asset.")
    lat: float = Field(ge=-90, le=90, description="Latitude (EPSG:4326) of the asset.")
    site: dict[str, Any] | None = Field(
        default=None, description="Optional GeoJSON Polygon/MultiPolygon of the site (EPSG:4326)."
    )
    address: str | None = Field(default=None, max_length=500)
    postcode: str | None = Field(default=None, max_length=10)
    uprn: int | None = Field(default=None, ge=1, le=999_999_999_999)
    description: str = Field(default="", max_length=5000)
    organisation: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    is_example: bool = False


class StepInput(BaseModel):
    """What a lifecycle step needs: when it took effect and the facts of that step."""

    model_config = ConfigDict(extra="forbid")

    effective_on: date | None = Field(
        default=None, description="When the step took effect (default today); never in the future."
    )
    group: str | None = Field(
        default=None, max_length=200, description="The nominating or community interest group."
    )
    body_type: str | None = Field(
        default=None,
        description=f"Nominating body: one of {', '.join(rights.NOMINATING_BODY_TYPES)}.",
    )
    local_electors: int | None = Field(default=None, ge=0, le=1_000_000)
    reason: str | None = Field(default=None, max_length=2000)
    exemption: str | None = Field(
        default=None, description=f"Exempt disposal: one of {', '.join(rights.EXEMPTIONS)}."
    )
    to_community_interest_group: bool = False


class DeadlineOut(BaseModel):
    """A statutory date of the asset's current status."""

    kind: str
    period: str
    begins: date
    ends: date
    authority: str


class Asset(BaseModel):
    """A register entry with its derived place, lifecycle dates and what may happen next."""

    id: int
    reference: str
    name: str
    category: str
    owner_type: str
    description: str
    address: str | None
    postcode: str | None
    uprn: int | None
    organisation: str | None
    notes: str | None
    is_example: bool
    lon: float
    lat: float
    site: dict[str, Any] | None
    edition_code: str
    lsoa_code: str
    lad_code: str
    imd_decile: int | None
    status: rights.Status
    nominated_on: date | None
    nominating_group: str | None
    nominating_body_type: str | None
    decided_on: date | None
    listed_on: date | None
    decline_reason: str | None
    review_requested_on: date | None
    notice_received_on: date | None
    bid_requested_on: date | None
    interest_group: str | None
    disposed_on: date | None
    exemption: str | None
    removed_on: date | None
    removal_reason: str | None
    deadlines: list[DeadlineOut]
    next_steps: list[str] = Field(description="Steps legal today, given status and dates.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class AssetEvent(BaseModel):
    """One step in an asset's history."""

    id: int
    step: str
    from_status: str | None
    to_status: str
    effective_on: date
    recorded_on: date
    actor: str
    at: datetime
    details: dict[str, Any]


class Eligibility(BaseModel):
    """Whether a group may nominate the asset, or ask to be treated as a bidder, today."""

    asset_id: int
    group: str
    on: date
    status: str
    may_nominate: bool
    may_request_to_bid: bool
    window_ends: date | None
    reasons: list[str]


class UpcomingDeadline(BaseModel):
    """A deadline falling within the window asked for."""

    asset_id: int
    reference: str
    name: str
    lad_code: str
    status: str
    kind: str
    period: str
    ends: date
    authority: str
    # Set for deadlines that are not an asset's (neighbourhood planning): the event's UID and
    # its description replace the asset ones in the calendar feed.
    uid: str | None = Field(default=None, exclude=True)
    description: str | None = Field(default=None, exclude=True)


@dataclass
class ImportReport:
    """What an import did: rows imported, and each row skipped with its line and reason."""

    source: str
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON."""
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Reading


def _lifecycle(row: dict[str, Any]) -> rights.Lifecycle:
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


def _asset(row: dict[str, Any], on: date) -> Asset:
    """An API asset from a stored row, with deadlines and next steps as of ``on``."""
    life = _lifecycle(row)
    fields = {k: v for k, v in row.items() if k in Asset.model_fields}
    return Asset(
        **fields,
        deadlines=[DeadlineOut(**asdict(d)) for d in rights.deadlines(life)],
        next_steps=list(rights.allowed_steps(life, on)),
    )


async def _select(
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
    """Rows of ``asset_select.sql`` (optionally locking them for update)."""
    query = read_sql("geo", "asset_select.sql") + (" FOR UPDATE OF a" if lock else "")
    if group is not None:
        found = await conn.execute(read_sql("geo", "asset_group_listed.sql"), {"group": group})
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
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall())


async def _one(conn: AsyncConnection, asset_id: int, *, lock: bool = False) -> dict[str, Any]:
    """One stored asset; AssetNotFound if there is none."""
    rows = await _select(conn, asset_id=asset_id, limit=1, lock=lock)
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
    return _asset(await _one(conn, asset_id), on)


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
    rows = await _select(
        conn,
        group=group,
        lad=lad,
        statuses=None if status is None else [status],
        category=category,
        max_decile=max_decile,
        limit=limit,
    )
    return [_asset(r, on) for r in rows]


async def history(conn: AsyncConnection, asset_id: int) -> list[AssetEvent]:
    """Return every step of an asset, oldest first.

    Raises
    ------
    AssetNotFound
        If there is no such asset.
    """
    await _one(conn, asset_id)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "asset_history.sql"), {"id": asset_id})
        return [AssetEvent.model_validate(r) for r in await cur.fetchall()]


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
    rows = await _select(conn, lad=lad, group=group, statuses=[*active, "disposed"], limit=100_000)
    found: list[UpcomingDeadline] = []
    last = date.fromordinal(on.toordinal() + days)
    for row in rows:
        for d in rights.deadlines(_lifecycle(row)):
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
    UnknownGroup
        If no live group manager key carries the group's name and no listed neighbourhood
        group has that name or reference.
    AssetNotFound
        If there is no such asset.
    """
    if not await group_known(conn, group):
        raise UnknownGroup(f"no community group named {group!r} is known", parameter="group")
    row = await _one(conn, asset_id)
    life = _lifecycle(row)
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
            read_sql("geo", "asset_group_connection.sql"), {"group": group, "lad": lad_code}
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
    cur = await conn.execute(read_sql("geo", "asset_group_known.sql"), {"group": group})
    row = await cur.fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------------------------------------
# Writing


def _check_point(lon: float, lat: float) -> None:
    """Raise AssetOutsideEngland if the point is plainly outside England."""
    west, south, east, north = ENGLAND_BOUNDS
    if not (west <= lon <= east and south <= lat <= north):
        raise AssetOutsideEngland(
            f"({lon}, {lat}) is outside England: give longitude then latitude (EPSG:4326)",
            parameter="lon",
        )


def _site_wkb(data: AssetInput) -> bytes | None:
    """The site polygon in EPSG:27700 as WKB, checked to lie at the asset's point."""
    if data.site is None:
        return None
    projected, _ = places.polygon_in_bng(data.site)
    x, y = _TO_BNG.transform(data.lon, data.lat)
    if projected.distance(shapely.Point(x, y)) > MAX_SITE_DISTANCE_M:
        raise InvalidInput(
            f"the site polygon is more than {MAX_SITE_DISTANCE_M:.0f} m from the asset's point",
            parameter="site",
        )
    return bytes(shapely.to_wkb(projected))


async def _insert(
    conn: AsyncConnection,
    data: AssetInput,
    actor: str,
    *,
    reference: str | None = None,
    source: str = "api",
) -> tuple[int, str]:
    """Insert an asset (the caller's transaction); return its id and derived district."""
    _check_point(data.lon, data.lat)
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
        "site_wkb": _site_wkb(data),
        "actor": actor,
    }
    try:
        cur = await conn.execute(read_sql("geo", "asset_insert.sql"), params)
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
    await _upsert_serving(conn, asset_id, on)
    await conn.execute(read_sql("geo", "bump_data_version.sql"))


async def _upsert_serving(conn: AsyncConnection, asset_id: int, on: date) -> None:
    """Write the asset's row of the map layer with its next deadline as of ``on``."""
    row = await _one(conn, asset_id)
    upcoming = rights.next_deadline(_lifecycle(row), on)
    await conn.execute(
        read_sql("geo", "asset_serving_upsert.sql"),
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
            read_sql("geo", "asset_serving_passed.sql"), {"day": on.isoformat()}
        )
        stale = [int(fid) for (fid,) in await cur.fetchall()]
        for asset_id in stale:
            await _upsert_serving(conn, asset_id, on)
        if stale:
            await conn.execute(read_sql("geo", "bump_data_version.sql"))
    return len(stale)


def _audit_view(row: dict[str, Any]) -> dict[str, Any]:
    """The audited form of an asset: its lifecycle and version, as JSON."""
    life = asdict(_lifecycle(row))
    return {
        **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in life.items()},
        "version": row["version"],
    }


async def _record_event(
    conn: AsyncConnection,
    asset_id: int,
    step: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    effective: date,
    on: date,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Append the step to the asset's history and the audit log (same transaction)."""
    await conn.execute(
        read_sql("geo", "asset_event_insert.sql"),
        {
            "asset_id": asset_id,
            "step": step,
            "from_status": None if before is None else before["status"],
            "to_status": after["status"],
            "effective_on": effective,
            "recorded_on": on,
            "actor": actor,
            "details": Jsonb(details),
        },
    )
    await audit.record(
        conn,
        actor,
        f"asset.{step}",
        "asset",
        str(asset_id),
        None if before is None else _audit_view(before),
        _audit_view(after),
    )


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
        asset_id, lad = await _insert(conn, data, principal.actor)
        if principal.role == "officer" and not principal.may_act_in(lad):
            raise Forbidden(f"this key may not record assets in {lad}")
        row = await _one(conn, asset_id)
        await _record_event(
            conn, asset_id, "record", None, row, on, on, principal.actor, {"source": "api"}
        )
        await refresh_serving(conn, asset_id, on)
    return _asset(row, on)


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
        row = await _one(conn, asset_id, lock=True)
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
            _lifecycle(row),
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
            read_sql("geo", "asset_update_lifecycle.sql"),
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
        after = await _one(conn, asset_id)
        assert life.last_step_on is not None
        details = {
            k: v
            for k, v in request.model_dump(mode="json", exclude={"effective_on"}).items()
            if v not in (None, False)
        }
        if group:
            details["group"] = group
        await _record_event(
            conn, asset_id, step, row, after, life.last_step_on, on, principal.actor, details
        )
        await refresh_serving(conn, asset_id, on)
    return _asset(after, on)


# ---------------------------------------------------------------------------------------------
# Import and export


def _parse_date(text: str | None) -> date | None:
    """A date in ISO (2024-03-31), UK (31/03/2024) or long (31 March 2024) form."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a date (use YYYY-MM-DD)")


def _header(name: str) -> str:
    """A column name reduced for matching: lower case, words joined by hyphens."""
    return re.sub(r"[\s_-]+", "-", name.strip().lower())


COUNCIL_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "asset-name", "asset", "property-name"),
    "address": ("address", "address-text", "asset-address"),
    "postcode": ("postcode", "post-code"),
    "group": ("nominating-group", "nominated-by", "nominator", "group"),
    "listed": ("listing-date", "date-listed", "listed-on", "date-of-listing"),
}


@dataclass(frozen=True)
class _Row:
    """One source row reduced to what the register needs."""

    line: int
    fields: dict[str, str]


async def _place(conn: AsyncConnection, fields: dict[str, str]) -> tuple[float, float, str | None]:
    """The row's point: its WKT ``point``, else its postcode (or one in its address)."""
    point = fields.get("point", "").strip()
    if point:
        try:
            shape = shapely.wkt.loads(point)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad WKT
            raise InvalidInput(f"point {point!r} is not WKT") from exc
        if not isinstance(shape, shapely.Point):
            raise InvalidInput("point must be a WKT POINT (longitude latitude)")
        return float(shape.x), float(shape.y), _postcode_of(fields)
    postcode = _postcode_of(fields)
    if postcode is None:
        raise InvalidInput("no point and no postcode: the asset cannot be placed")
    cur = await conn.execute(read_sql("geo", "asset_postcode_point.sql"), {"postcode": postcode})
    found = await cur.fetchone()
    if found is None:
        raise InvalidInput(
            f"postcode {postcode} is not in the loaded postcode directory, so the asset cannot "
            "be placed (add a point)"
        )
    return float(found[0]), float(found[1]), postcode


def _postcode_of(fields: dict[str, str]) -> str | None:
    """The row's postcode column, else the last postcode written in its address."""
    if fields.get("postcode", "").strip():
        return normalise_postcode(fields["postcode"])
    matches = POSTCODE_IN_TEXT.findall(fields.get("address-text", "") or "")
    return normalise_postcode("".join(matches[-1])) if matches else None


def _national_lifecycle(
    fields: dict[str, str], on: date, warnings: list[str]
) -> tuple[rights.Lifecycle, str | None]:
    """The lifecycle a national-format row states (dates checked, deadlines recomputed)."""
    dates = {
        k: _parse_date(fields.get(k))
        for k in (
            "nomination-date",
            "decision-date",
            "expiry-date",
            "notification-to-sell-date",
            "protected-period-start-date",
            "start-date",
            "end-date",
        )
    }
    for name, value in dates.items():
        if value is not None and value > on and name != "expiry-date":
            raise DateInFuture(f"{name} {value} is in the future")
    decision = _header(fields.get("decision", ""))
    nominated = dates["nomination-date"]
    decided = dates["decision-date"]
    group = (fields.get("nominating-group") or "").strip() or None
    if decision in ("listed", "approved", "successful", "accepted", "list"):
        listed = decided or dates["start-date"]
        if listed is None:
            raise InvalidInput("a listed asset needs a decision-date or start-date")
        life = rights.Lifecycle(
            status="listed",
            nominated_on=nominated,
            nominating_group=group,
            decided_on=listed,
            listed_on=listed,
            last_step_on=listed,
        )
        stated = dates["expiry-date"]
        computed = rights.period_end(listed, rights.LISTING)
        if stated and stated != computed:
            warnings.append(
                f"expiry-date {stated} differs from the statutory {computed}; "
                "the statutory date is used"
            )
        notice = dates["notification-to-sell-date"]
        if notice:
            start = dates["protected-period-start-date"]
            if start and start != notice:
                warnings.append(
                    f"protected-period-start-date {start} differs from the notice {notice}; "
                    "the protected period begins with the notice (s.95(6))"
                )
            interest = (fields.get("interested-group") or "").strip() or None
            life = rights.Lifecycle(
                **{
                    **asdict(life),
                    "status": "full_moratorium" if interest else "disposal_notified",
                    "notice_received_on": notice,
                    "interest_group": interest,
                    "last_step_on": notice,
                }
            )
    elif decision in ("not-listed", "rejected", "refused", "unsuccessful", "declined"):
        life = rights.Lifecycle(
            status="not_listed",
            nominated_on=nominated,
            nominating_group=group,
            decided_on=decided,
            last_step_on=decided or nominated,
        )
    elif nominated:
        life = rights.Lifecycle(
            status="nominated",
            nominated_on=nominated,
            nominating_group=group,
            last_step_on=nominated,
        )
    else:
        life = rights.Lifecycle()
    if dates["end-date"] and life.status in rights.LISTED_FAMILY:
        life = rights.Lifecycle(
            **{**asdict(life), "status": "removed", "removed_on": dates["end-date"]}
        )
    return life, fields.get("reference", "").strip() or None


def read_rows(text: str, fmt: Literal["csv", "geojson"]) -> tuple[str, list[_Row]]:
    """Parse a register file: return its kind (``national`` or ``council``) and rows."""
    if fmt == "geojson":
        try:
            document = json.loads(text)
            features = document["features"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("not a GeoJSON FeatureCollection") from exc
        rows = []
        for i, feature in enumerate(features, start=1):
            props = {
                _header(k): "" if v is None else str(v)
                for k, v in (feature.get("properties") or {}).items()
            }
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "Point" and not props.get("point"):
                props["point"] = shapely.geometry.shape(geometry).wkt
            rows.append(_Row(i, props))
        return "national", rows
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [_header(h) for h in (reader.fieldnames or [])]
    rows = [
        _Row(i, {_header(k): (v or "") for k, v in r.items() if k is not None})
        for i, r in enumerate(reader, start=2)
    ]
    if "reference" in headers or "point" in headers or "notification-to-sell-date" in headers:
        return "national", rows
    columns = {
        key: next((h for h in headers if h in names), None)
        for key, names in COUNCIL_COLUMNS.items()
    }
    if columns["name"] is None:
        raise InvalidInput("the CSV has no name column (national or council register format)")
    council = []
    for row in rows:
        f = {key: row.fields.get(col or "", "") for key, col in columns.items()}
        council.append(
            _Row(
                row.line,
                {
                    "name": f["name"],
                    "address-text": f["address"],
                    "postcode": f["postcode"],
                    "nominating-group": f["group"],
                    "decision": "listed" if f["listed"].strip() else "",
                    "decision-date": f["listed"],
                },
            )
        )
    return "council", council


async def import_register(
    conn: AsyncConnection,
    text: str,
    fmt: Literal["csv", "geojson"],
    source: str,
    actor: str,
    on: date,
    *,
    is_example: bool = False,
) -> ImportReport:
    """Import a register file; every row placed and valid is imported, the rest reported.

    Each row is placed by its ``point``, else by postcode (the ``postcode`` column, or one
    written in the address) where the postcode directory covers it. Statutory dates are
    recomputed from the row's event dates; a stated date that differs is a warning. Rows run
    in savepoints of one transaction: a bad row is skipped with its reason, never half-written.
    """
    kind, rows = read_rows(text, fmt)
    report = ImportReport(source=f"{source} ({kind} format)")
    async with conn.transaction():
        for row in rows:
            name = row.fields.get("name", "").strip() or f"line {row.line}"
            warnings: list[str] = []
            try:
                async with conn.transaction():
                    reference = await _import_row(
                        conn, row, source, actor, on, is_example, warnings
                    )
            except PlatoonsError as exc:
                report.skipped.append((row.line, name, exc.message))
                continue
            report.imported.append(reference)
            report.warnings.extend((row.line, w) for w in warnings)
    return report


async def _import_row(
    conn: AsyncConnection,
    row: _Row,
    source: str,
    actor: str,
    on: date,
    is_example: bool,
    warnings: list[str],
) -> str:
    """Import one row (in the caller's savepoint); return its reference."""
    fields = row.fields
    lon, lat, postcode = await _place(conn, fields)
    life, reference = _national_lifecycle(fields, on, warnings)
    category = fields.get("category", "").strip() or "other"
    owner_type = fields.get("owner-type", "").strip() or "other"
    try:
        data = AssetInput(
            name=fields.get("name", "").strip(),
            category=category,  # type: ignore[arg-type]
            owner_type=owner_type,  # type: ignore[arg-type]
            lon=lon,
            lat=lat,
            address=(fields.get("address-text") or "").strip() or None,
            postcode=postcode,
            description=(fields.get("description") or "").strip(),
            organisation=(fields.get("organisation") or "").strip() or None,
            notes=(fields.get("notes") or "").strip() or None,
            is_example=is_example,
        )
    except ValueError as exc:
        raise InvalidInput(f"invalid row: {exc}".splitlines()[0]) from exc
    asset_id, _ = await _insert(conn, data, actor, reference=reference, source=source)
    await conn.execute(
        read_sql("geo", "asset_update_lifecycle.sql"),
        {
            **asdict(life),
            "id": asset_id,
            "version": 1,
            "nominating_body_type": None,
            "decline_reason": None,
            "exemption": None,
            "removal_reason": "end-date in the source register" if life.removed_on else None,
        },
    )
    after = await _one(conn, asset_id)
    await _record_event(
        conn,
        asset_id,
        "import",
        None,
        after,
        life.last_step_on or on,
        on,
        actor,
        {"source": source, "line": row.line, "warnings": warnings},
    )
    await refresh_serving(conn, asset_id, on)
    return str(after["reference"])


def _national_record(row: dict[str, Any]) -> dict[str, str]:
    """One asset in the national planning data fields (dates ISO, statutory ones computed)."""
    life = _lifecycle(row)
    listed = life.listed_on
    decision = ""
    if row["status"] in rights.LISTED_FAMILY or (row["status"] == "removed" and listed):
        decision = "listed"
    elif row["status"] == "not_listed":
        decision = "not-listed"

    def iso(value: date | None) -> str:
        return "" if value is None else value.isoformat()

    return {
        "reference": row["reference"],
        "name": row["name"],
        "address-text": ", ".join(p for p in (row["address"], row["postcode"]) if p),
        "description": row["description"] or "",
        "point": f"POINT({row['lon']:.6f} {row['lat']:.6f})",
        "geometry": row["site_wkt"] or "",
        "organisation": row["organisation"] or "",
        "nomination-date": iso(life.nominated_on),
        "nominating-group": life.nominating_group or "",
        "decision": decision,
        "decision-date": iso(life.decided_on),
        "expiry-date": iso(None if listed is None else rights.period_end(listed, rights.LISTING)),
        "notification-to-sell-date": iso(life.notice_received_on),
        "interested-group": life.interest_group or "",
        "protected-period-start-date": iso(life.notice_received_on),
        "notes": row["notes"] or "",
        "entry-date": row["created_at"].date().isoformat(),
        "start-date": iso(listed),
        "end-date": iso(life.removed_on),
    }


async def export_register(conn: AsyncConnection, lad: str | None = None) -> list[dict[str, str]]:
    """Every asset (of one district, if given) in the national planning data fields."""
    return [_national_record(r) for r in await _select(conn, lad=lad, limit=1_000_000)]


def to_csv(records: Iterable[dict[str, str]]) -> str:
    """National-format records as CSV text (the specification's field order)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(NATIONAL_FIELDS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def to_geojson(records: Iterable[dict[str, str]]) -> dict[str, Any]:
    """National-format records as an RFC 7946 FeatureCollection of points."""
    features = []
    for record in records:
        point = shapely.wkt.loads(record["point"])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                "properties": dict(record),
            }
        )
    return {"type": "FeatureCollection", "features": features}


# ---------------------------------------------------------------------------------------------
# iCalendar


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 s.3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 s.3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            out.append(current)
            current = " " + char
            limit = 75
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def deadlines_ics(deadlines: list[UpcomingDeadline], stamp: datetime, title: str) -> str:
    """Deadlines as an iCalendar (RFC 5545) feed: one all-day VEVENT per deadline.

    UIDs are stable (asset, kind and date), so calendar clients update rather than duplicate
    events; DTSTAMP is in UTC.
    """
    stamp_text = stamp.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Platoons//Assets of community value deadlines//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(title)}",
    ]
    for d in deadlines:
        day = d.ends.strftime("%Y%m%d")
        following = date.fromordinal(d.ends.toordinal() + 1).strftime("%Y%m%d")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{d.uid or f'acv-{d.asset_id}-{d.kind}-{day}'}@platoons",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{day}",
            f"DTEND;VALUE=DATE:{following}",
            f"SUMMARY:{_ics_text(f'{d.name}: {d.period} ends')}",
            "DESCRIPTION:"
            + _ics_text(
                d.description
                or f"Asset {d.reference} ({d.status}) in {d.lad_code}: the {d.period} ends on "
                f"{d.ends.isoformat()} ({d.authority})."
            ),
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
