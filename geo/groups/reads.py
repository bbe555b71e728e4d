"""Reading the group registry: one group, the listing, groups near a point, activity."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.access import Principal
from geo.areas import find_edition
from geo.coverage import active_since
from geo.crs import clip_to_england, require_point_in_england
from geo.errors import (
    GroupNotFound,
    InvalidInput,
    PointOutsideCoverage,
)
from geo.groups.access import check_group_reference, may_see_private
from geo.groups.models import (
    ActivityPrivate,
    ActivityPublic,
    GroupPage,
    GroupPrivate,
    GroupPublic,
    GroupsNear,
    NearbyGroup,
    _GroupListing,
)
from geo.place_resolution import PostcodeNotCovered
from geo.postcodes import normalise_postcode
from geo.registry_rules import DEFAULT_RULES, MAX_PAGE, GroupRules, clean_text
from geo.sqlfiles import fetch_rows, read_sql


def group_select_params(**given: Any) -> dict[str, Any]:
    """Parameters of groups/select.sql, every filter off unless given."""
    base: dict[str, Any] = {
        "id": None,
        "ids": None,
        "reference": None,
        "listed_only": True,
        "lad": None,
        "kind": None,
        "organiser_id": None,
        "active": None,
        "active_since": date.min,
        "q": None,
        "bbox": None,
        "with_geometry": False,
        "limit": 1,
        "offset": 0,
    }
    return base | given


async def select_groups(conn: AsyncConnection, **given: Any) -> tuple[int, list[dict[str, Any]]]:
    """The number matched and the page of groups/select.sql."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "groups/select.sql"), group_select_params(**given))
        rows = list(await cur.fetchall())
    matched = int(rows[0]["matched"]) if rows else 0
    return matched, [r for r in rows if r["id"] is not None]


def listing_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The public fields of a stored group."""
    fields = {k: row[k] for k in _GroupListing.model_fields if k in row}
    fields["join_url"] = f"/groups/{row['reference']}/messages"
    return fields


def public_view(row: dict[str, Any]) -> GroupPublic:
    """A stored group's public listing."""
    return GroupPublic.model_validate(listing_fields(row))


def private_view(row: dict[str, Any]) -> GroupPrivate:
    """A stored group with its private fields."""
    fields = listing_fields(row) | {k: row[k] for k in GroupPrivate.model_fields if k in row}
    return GroupPrivate.model_validate(fields)


async def group_row(
    conn: AsyncConnection,
    reference: str,
    *,
    active_since_: date,
    with_geometry: bool = False,
) -> dict[str, Any]:
    """One stored group (listed or not); GroupNotFound if there is none."""
    check_group_reference(reference)
    _, rows = await select_groups(
        conn,
        reference=reference,
        listed_only=False,
        active_since=active_since_,
        with_geometry=with_geometry,
    )
    if not rows:
        raise GroupNotFound(f"no neighbourhood group {reference}", parameter="reference")
    return rows[0]


async def visible_group_row(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules,
    *,
    with_geometry: bool = False,
) -> tuple[dict[str, Any], bool]:
    """A group the caller may see and whether they see its private fields.

    An unlisted group is not found for anyone who may not see its private fields.
    """
    row = await group_row(
        conn,
        reference,
        active_since_=active_since(on, rules.active_months),
        with_geometry=with_geometry,
    )
    private = may_see_private(principal, row["lad_codes"], row["managers"])
    if not row["listed"] and not private:
        raise GroupNotFound(f"no neighbourhood group {reference}", parameter="reference")
    return row, private


async def get_group(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
) -> GroupPublic | GroupPrivate:
    """Return a group: its private shape to those who may see it, else its public listing.

    ``active`` is decided as of ``on`` with the rules' activity window.

    Raises
    ------
    GroupNotFound
        If there is no such group, or it is unlisted and the caller may not see it.
    """
    row, private = await visible_group_row(
        conn, reference, principal, on, rules, with_geometry=True
    )
    return private_view(row) if private else public_view(row)


async def list_groups(
    conn: AsyncConnection,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    lad: str | None = None,
    active: bool | None = None,
    kind: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> GroupPage:
    """Return a page of the public listing (listed groups, oldest first), filtered.

    ``lad`` keeps groups whose area touches the district; ``active`` those active (or not)
    on ``on``; ``bbox`` (lon/lat min, then max) those whose area meets the box; ``q`` those
    whose name or description contains the text (any case).

    Raises
    ------
    InvalidInput
        If the box is not a box or the page is out of range.
    """
    if bbox is not None:
        if not all(math.isfinite(v) for v in bbox):
            raise InvalidInput(
                "bbox is min longitude, min latitude, max longitude, max latitude (CRS84)",
                parameter="bbox",
            )
        # Clipped to the world; a box whose minimum is not below its maximum holds nothing
        # (below, after clipping to England, it gives an empty page).
        bbox = (max(bbox[0], -180), max(bbox[1], -90), min(bbox[2], 180), min(bbox[3], 90))
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit is 1 to {MAX_PAGE} and offset at least 0", parameter="limit")
    if bbox is not None:
        bbox = clip_to_england(bbox)
        if bbox is None:
            return GroupPage(number_matched=0, limit=limit, offset=offset, as_of=on, groups=[])
    matched, rows = await select_groups(
        conn,
        lad=lad,
        active=active,
        kind=kind,
        q=clean_text(q),
        bbox=list(bbox) if bbox else None,
        active_since=active_since(on, rules.active_months),
        limit=limit,
        offset=offset,
    )
    return GroupPage(
        number_matched=matched,
        limit=limit,
        offset=offset,
        as_of=on,
        groups=[public_view(r) for r in rows],
    )


async def groups_near(
    conn: AsyncConnection,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    lon: float | None = None,
    lat: float | None = None,
    postcode: str | None = None,
    limit: int = 20,
) -> GroupsNear:
    """Return the active groups whose area covers a point or postcode, nearest first.

    Nearness is the distance in metres (EPSG:27700) from the point to the centroid of the
    group's area. A postcode stands for its centroid in the postcode directory.

    Raises
    ------
    InvalidInput
        If neither or both of a point and a postcode are given, or the postcode is malformed.
    PostcodeNotCovered
        If the postcode is not in the loaded directory.
    PointOutsideCoverage
        If no loaded English LSOA contains the point.
    """
    if (postcode is None) == (lon is None or lat is None):
        raise InvalidInput("give either lon and lat, or a postcode", parameter="postcode")
    found_postcode = None
    if postcode is not None:
        found_postcode = normalise_postcode(postcode)
        if found_postcode is None:
            raise InvalidInput(f"{postcode!r} is not a UK postcode", parameter="postcode")
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                read_sql("geo", "groups/postcode_point.sql"), {"postcode": found_postcode}
            )
            point = await cur.fetchone()
        if point is None:
            raise PostcodeNotCovered(
                f"postcode {found_postcode} is not covered: the postcode data loaded covers only "
                "some areas (Trafford); give lon and lat instead"
            )
        lon, lat = float(point["lon"]), float(point["lat"])
    assert lon is not None and lat is not None
    edition = await find_edition(conn, None)
    require_point_in_england(lon, lat)
    inside = await conn.execute(
        read_sql("geo", "areas/lsoa_code_at_point.sql"),
        {"vintage": edition.lsoa_vintage, "lon": lon, "lat": lat},
    )
    if await inside.fetchone() is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {edition.code} geography contains ({lon}, {lat}): the point is "
            "outside England or outside the loaded area"
        )
    since = active_since(on, rules.active_months)
    async with conn.cursor(row_factory=dict_row) as cur2:
        await cur2.execute(
            read_sql("geo", "groups/near.sql"),
            {"lon": lon, "lat": lat, "active_since": since, "limit": limit},
        )
        near = {int(r["id"]): float(r["distance_m"]) for r in await cur2.fetchall()}
    _, rows = await select_groups(conn, ids=list(near), active_since=since, limit=max(1, len(near)))
    by_id = {int(r["id"]): r for r in rows}
    return GroupsNear(
        lon=lon,
        lat=lat,
        postcode=found_postcode,
        as_of=on,
        groups=[
            NearbyGroup(distance_m=distance, group=public_view(by_id[group_id]))
            for group_id, distance in near.items()
            if group_id in by_id
        ],
    )


async def list_activities(
    conn: AsyncConnection,
    reference: str,
    principal: Principal,
    on: date,
    rules: GroupRules = DEFAULT_RULES,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[ActivityPublic] | list[ActivityPrivate]:
    """Return a group's activity, latest first: kind, date and title for the public; whole
    records for those who see the group's private fields.

    Raises
    ------
    GroupNotFound
        If there is no such group, or it is unlisted and the caller may not see it.
    """
    row, private = await visible_group_row(conn, reference, principal, on, rules)
    records = await fetch_rows(
        conn,
        read_sql("geo", "groups/activity_list.sql"),
        {"group_id": row["id"], "limit": limit, "offset": offset},
    )
    if private:
        return [ActivityPrivate.model_validate(r) for r in records]
    return [ActivityPublic(kind=r["kind"], held_on=r["held_on"], title=r["title"]) for r in records]
