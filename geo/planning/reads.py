"""Neighbourhood planning read from the database: areas, forums and plans with their deadlines.

The register is public: every read here is open to anyone. The statutory facts come from the
stored rows through :mod:`geo.planning.rules`, as of the day asked (``on``), so a deadline or
the steps legal today are never stored, always computed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from psycopg import AsyncConnection

from geo.assets.models import UpcomingDeadline
from geo.crs import require_point_in_england
from geo.planning import levy, rules
from geo.planning.models import (
    Area,
    AreaAtPoint,
    DeadlineOut,
    Forum,
    Plan,
    PlanningEvent,
    UpcomingPlanningDeadline,
)
from geo.planning.receipts import levy_year
from geo.planning.steps import (
    area_params,
    area_row,
    child_row,
    forum_rows,
    life_of,
    plan_rows,
    rows,
)


def _out(d: rules.Deadline, on: date) -> DeadlineOut:
    """An API deadline, marked passed when it ended before ``on``."""
    return DeadlineOut(**asdict(d), passed=d.ends < on)


def _deadline_fields(found: list[rules.Deadline], on: date) -> dict[str, Any]:
    """The deadlines and the next one, as API fields."""
    upcoming = rules.next_deadline(found, on)
    return {
        "deadlines": [_out(d, on) for d in found],
        "next_deadline": None if upcoming is None else _out(upcoming, on),
    }


def forum_of(row: dict[str, Any], on: date) -> Forum:
    """An API forum from a stored row, as of ``on``."""
    life = life_of(rules.ForumLife, row)
    fields = {k: v for k, v in row.items() if k in Forum.model_fields}
    fields["status"] = rules.forum_status_on(life, on)
    designated = row["designated_on"]
    return Forum(
        **fields,
        expires_on=None if designated is None else rules.forum_expiry(designated),
        **_deadline_fields(rules.forum_deadlines(life), on),
        next_steps=list(rules.forum_allowed_steps(life, on)),
    )


def plan_of(row: dict[str, Any], on: date) -> Plan:
    """An API plan from a stored row, as of ``on``."""
    life = life_of(rules.PlanLife, row)
    fields = {k: v for k, v in row.items() if k in Plan.model_fields}
    return Plan(
        **fields,
        **_deadline_fields(rules.plan_deadlines(life), on),
        next_steps=list(rules.plan_allowed_steps(life, on)),
    )


def stage_of(area: dict[str, Any], forums: list[Forum], plans: list[Plan]) -> str:
    """The area's stage in one phrase: its plan's, else its forum's, else its own status."""
    live_plan = next((p for p in reversed(plans) if p.status not in ("withdrawn",)), None)
    if live_plan is not None:
        return f"plan {live_plan.status.replace('_', ' ')}"
    if area["status"] == "designated" and forums:
        return f"area designated; forum {forums[-1].status}"
    return f"area {area['status']}"


def all_deadlines(
    area_row: dict[str, Any], forums: list[dict[str, Any]], plans: list[dict[str, Any]]
) -> list[tuple[str, str, rules.Deadline]]:
    """Every current deadline of an area, its forums and plans, with what it belongs to."""
    found = [
        ("area", area_row["reference"], d)
        for d in rules.area_deadlines(life_of(rules.AreaLife, area_row))
    ]
    for f in forums:
        found += [
            ("forum", f["reference"], d) for d in rules.forum_deadlines(life_of(rules.ForumLife, f))
        ]
    for p in plans:
        found += [
            ("plan", p["reference"], d) for d in rules.plan_deadlines(life_of(rules.PlanLife, p))
        ]
    return found


async def _area(conn: AsyncConnection, row: dict[str, Any], on: date) -> Area:
    """An API area from a stored row with its forums and plans, as of ``on``."""
    forums = [forum_of(f, on) for f in await forum_rows(conn, row["id"])]
    plans = [plan_of(p, on) for p in await plan_rows(conn, row["id"])]
    life = life_of(rules.AreaLife, row)
    fields = {k: v for k, v in row.items() if k in Area.model_fields}
    return Area(
        **fields,
        **_deadline_fields(rules.area_deadlines(life), on),
        next_steps=list(rules.area_allowed_steps(life, on)),
        forums=forums,
        plans=plans,
        stage=stage_of(row, forums, plans),
    )


async def get_area(conn: AsyncConnection, area_id: int, on: date) -> Area:
    """Return one area (the register is public) with its deadlines, forums and plans."""
    return await _area(conn, await area_row(conn, area_id), on)


async def list_areas(
    conn: AsyncConnection,
    on: date,
    *,
    lad: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Area]:
    """Return areas touching a district and/or in a status, oldest first."""
    found = await rows(conn, "area_select", area_params(lad=lad, status=status, limit=limit))
    return [await _area(conn, r, on) for r in found]


async def history(conn: AsyncConnection, area_id: int) -> list[PlanningEvent]:
    """Every recorded step of an area, its forums, plans and levy, oldest first."""
    await area_row(conn, area_id)
    return [
        PlanningEvent.model_validate(r) for r in await rows(conn, "history", {"area_id": area_id})
    ]


async def get_forum(conn: AsyncConnection, forum_id: int, on: date) -> Forum:
    """Return one forum as of ``on``."""
    return forum_of(await child_row(conn, "forum", forum_id), on)


async def get_plan(conn: AsyncConnection, plan_id: int, on: date) -> Plan:
    """Return one plan as of ``on``."""
    return plan_of(await child_row(conn, "plan", plan_id), on)


async def upcoming_deadlines(
    conn: AsyncConnection,
    on: date,
    days: int,
    lad: str | None = None,
    group: str | None = None,
) -> list[UpcomingPlanningDeadline]:
    """Planning deadlines ending within ``days`` days from ``on``, by district or group.

    ``group`` (an NG- reference) keeps the areas the group applied for or whose forum it is.
    An unknown group reference matches nothing.
    """
    group_id = None
    if group is not None:
        found = await rows(conn, "group_managed", {"reference": group, "key_id": None})
        if not found:
            return []
        group_id = found[0]["id"]
    areas = await rows(conn, "area_select", area_params(lad=lad, group_id=group_id, limit=100_000))
    last = date.fromordinal(on.toordinal() + days)
    out: list[UpcomingPlanningDeadline] = []
    for row in areas:
        forums, plans = await forum_rows(conn, row["id"]), await plan_rows(conn, row["id"])
        statuses = {("area", row["reference"]): row["status"]}
        statuses |= {("forum", f["reference"]): f["status"] for f in forums}
        statuses |= {("plan", p["reference"]): p["status"] for p in plans}
        out += [
            UpcomingPlanningDeadline(
                area_id=row["id"],
                reference=row["reference"],
                name=row["name"],
                lad_codes=row["lad_codes"],
                entity=entity,
                entity_reference=reference,
                status=statuses[(entity, reference)],
                **asdict(d),
            )
            for entity, reference, d in all_deadlines(row, forums, plans)
            if on <= d.ends <= last
        ]
    return sorted(out, key=lambda u: (u.ends, u.area_id, u.entity, u.kind))


async def calendar_deadlines(
    conn: AsyncConnection, on: date, days: int, lad: str | None = None, group: str | None = None
) -> list[UpcomingDeadline]:
    """The planning deadlines of :func:`upcoming_deadlines` as calendar entries (one UID each)."""
    out = []
    for d in await upcoming_deadlines(conn, on, days, lad, group):
        day = d.ends.strftime("%Y%m%d")
        key = str(d.area_id) if d.entity == "area" else d.entity_reference
        out.append(
            UpcomingDeadline(
                asset_id=0,
                reference=d.entity_reference,
                name=f"{d.name} ({d.entity})",
                lad_code=",".join(d.lad_codes),
                status=d.status,
                kind=d.kind,
                period=d.period,
                ends=d.ends,
                authority=d.authority,
                uid=f"planning-{d.entity}-{key}-{d.kind}-{day}",
                description=(
                    f"Neighbourhood {d.entity} {d.entity_reference} ({d.status}) of "
                    f"{d.reference} in {', '.join(d.lad_codes)}: the {d.period} ends on "
                    f"{d.ends.isoformat()} ({d.authority})."
                ),
            )
        )
    return out


async def areas_at(conn: AsyncConnection, lon: float, lat: float, on: date) -> list[AreaAtPoint]:
    """The live areas containing a point, each with its stage, forum, next deadline and levy.

    The levy summary is the financial year holding ``on``.

    Raises
    ------
    PointOutsideCoverage
        If the point is outside England's envelope (checked before PostGIS sees it).
    """
    require_point_in_england(lon, lat)
    year = levy.financial_year_of(on)
    found = []
    for row in await rows(conn, "areas_at_point", {"lon": lon, "lat": lat}):
        area = await get_area(conn, int(row["id"]), on)
        every = list(area.deadlines) + [d for f in area.forums for d in f.deadlines]
        every += [d for p in area.plans for d in p.deadlines]
        ahead = [d for d in every if not d.passed]
        upcoming = min(ahead, key=lambda d: d.ends) if ahead else area.next_deadline
        money = await levy_year(conn, area.id, year)
        forum = area.forums[-1] if area.forums else None
        found.append(
            AreaAtPoint(
                **area.model_dump(include={"id", "reference", "name", "status", "stage"}),
                forum_reference=None if forum is None else forum.reference,
                forum_status=None if forum is None else forum.status,
                next_deadline=upcoming,
                levy_year=money["financial_year"],
                levy_total=money["total_portion"],
                levy_missing=money["missing"] if money["receipts"] else [],
            )
        )
    return found
