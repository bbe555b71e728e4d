"""Neighbourhood planning in the database: areas, forums, plans, their steps and the levy.

The statutory rules live in :mod:`geo.planning.rules` and :mod:`geo.planning.levy`; this
module stores them. Every write runs in one transaction that locks the area's row, applies the
pure step on the date given, writes the row, appends to ``planning_event`` and ``audit_log``,
rewrites the area's row of the map layer and bumps the data version; a refused step writes
nothing. Designations additionally take one advisory lock (``designation_lock.sql``), so the
overlap check of s.61G(7) and the designation it allows cannot interleave with another.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import psycopg.errors
import shapely.geometry
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geo import audit
from geo.access import Principal
from geo.assets.models import UpcomingDeadline
from geo.crs import ENGLAND_BOUNDS, require_point_in_england
from geo.drawn_areas import measure_area
from geo.errors import (
    AreaOutOfRange,
    AreaOutsideEngland,
    AreasOverlap,
    Conflict,
    DateInFuture,
    Forbidden,
    InvalidArea,
    InvalidInput,
    NeighbourhoodAreaNotFound,
    UnknownGroup,
    UnprocessableGeometry,
)
from geo.planning import levy, rules
from geo.planning.models import (
    Area,
    AreaAtPoint,
    AreaInput,
    DeadlineOut,
    DwellingsInput,
    Forum,
    ForumInput,
    Plan,
    PlanInput,
    PlanningEvent,
    ReceiptInput,
    StepInput,
    UpcomingPlanningDeadline,
)
from geo.sqlfiles import read_sql

# Neighbourhood areas range from a few streets to large rural parishes.
MIN_AREA_KM2 = 0.005
MAX_AREA_KM2 = 1500.0
# Slivers left where two drawn boundaries meet are not overlaps (s.61G(7) is about area).
OVERLAP_TOLERANCE_M2 = 1.0


def _sql(name: str) -> str:
    """The text of ``geo/sql/planning/<name>.sql``."""
    return read_sql("geo", f"planning/{name}.sql")


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


# ---------------------------------------------------------------------------------------------
# Rows to lifecycles and models


LifeT = TypeVar("LifeT", rules.AreaLife, rules.ForumLife, rules.PlanLife)


def _life_of(life: type[LifeT], row: dict[str, Any]) -> LifeT:
    """The statutory facts of a stored area, forum or plan: its row's columns of those names."""
    return life(**{name: row[name] for name in life.__dataclass_fields__})


def _forum(row: dict[str, Any], on: date) -> Forum:
    """An API forum from a stored row, as of ``on``."""
    life = _life_of(rules.ForumLife, row)
    fields = {k: v for k, v in row.items() if k in Forum.model_fields}
    fields["status"] = rules.forum_status_on(life, on)
    designated = row["designated_on"]
    return Forum(
        **fields,
        expires_on=None if designated is None else rules.forum_expiry(designated),
        **_deadline_fields(rules.forum_deadlines(life), on),
        next_steps=list(rules.forum_allowed_steps(life, on)),
    )


def _plan(row: dict[str, Any], on: date) -> Plan:
    """An API plan from a stored row, as of ``on``."""
    life = _life_of(rules.PlanLife, row)
    fields = {k: v for k, v in row.items() if k in Plan.model_fields}
    return Plan(
        **fields,
        **_deadline_fields(rules.plan_deadlines(life), on),
        next_steps=list(rules.plan_allowed_steps(life, on)),
    )


def _stage(area: dict[str, Any], forums: list[Forum], plans: list[Plan]) -> str:
    """The area's stage in one phrase: its plan's, else its forum's, else its own status."""
    live_plan = next((p for p in reversed(plans) if p.status not in ("withdrawn",)), None)
    if live_plan is not None:
        return f"plan {live_plan.status.replace('_', ' ')}"
    if area["status"] == "designated" and forums:
        return f"area designated; forum {forums[-1].status}"
    return f"area {area['status']}"


def _all_deadlines(
    area_row: dict[str, Any], forum_rows: list[dict[str, Any]], plan_rows: list[dict[str, Any]]
) -> list[tuple[str, str, rules.Deadline]]:
    """Every current deadline of an area, its forums and plans, with what it belongs to."""
    found = [
        ("area", area_row["reference"], d)
        for d in rules.area_deadlines(_life_of(rules.AreaLife, area_row))
    ]
    for f in forum_rows:
        found += [
            ("forum", f["reference"], d)
            for d in rules.forum_deadlines(_life_of(rules.ForumLife, f))
        ]
    for p in plan_rows:
        found += [
            ("plan", p["reference"], d) for d in rules.plan_deadlines(_life_of(rules.PlanLife, p))
        ]
    return found


# ---------------------------------------------------------------------------------------------
# Reading


async def _rows(conn: AsyncConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one planning SQL file."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_sql(name), params)
        return list(await cur.fetchall())


def _area_params(**given: Any) -> dict[str, Any]:
    """Parameters of area_select.sql, every filter off unless given."""
    base = {"id": None, "reference": None, "lad": None, "status": None, "group_id": None}
    return base | {"limit": 1000} | given


async def _area_row(conn: AsyncConnection, area_id: int) -> dict[str, Any]:
    """One stored area; NeighbourhoodAreaNotFound if there is none."""
    rows = await _rows(conn, "area_select", _area_params(id=area_id, limit=1))
    if not rows:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood area {area_id}")
    return rows[0]


async def area_id_of(conn: AsyncConnection, reference: str) -> int:
    """The id of the area with ``reference``; NeighbourhoodAreaNotFound if there is none."""
    rows = await _rows(conn, "area_select", _area_params(reference=reference or None, limit=1))
    if not reference or not rows:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood area {reference!r}")
    return int(rows[0]["id"])


async def _children(
    conn: AsyncConnection, area_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored forums and plans of an area."""
    forums = await _rows(conn, "forum_select", {"id": None, "area_id": area_id})
    plans = await _rows(conn, "plan_select", {"id": None, "area_id": area_id})
    return forums, plans


async def _area(conn: AsyncConnection, row: dict[str, Any], on: date) -> Area:
    """An API area from a stored row with its forums and plans, as of ``on``."""
    forum_rows, plan_rows = await _children(conn, row["id"])
    forums = [_forum(f, on) for f in forum_rows]
    plans = [_plan(p, on) for p in plan_rows]
    life = _life_of(rules.AreaLife, row)
    fields = {k: v for k, v in row.items() if k in Area.model_fields}
    return Area(
        **fields,
        **_deadline_fields(rules.area_deadlines(life), on),
        next_steps=list(rules.area_allowed_steps(life, on)),
        forums=forums,
        plans=plans,
        stage=_stage(row, forums, plans),
    )


async def get_area(conn: AsyncConnection, area_id: int, on: date) -> Area:
    """Return one area (the register is public) with its deadlines, forums and plans."""
    return await _area(conn, await _area_row(conn, area_id), on)


async def list_areas(
    conn: AsyncConnection,
    on: date,
    *,
    lad: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Area]:
    """Return areas touching a district and/or in a status, oldest first."""
    rows = await _rows(conn, "area_select", _area_params(lad=lad, status=status, limit=limit))
    return [await _area(conn, r, on) for r in rows]


async def history(conn: AsyncConnection, area_id: int) -> list[PlanningEvent]:
    """Every recorded step of an area, its forums, plans and levy, oldest first."""
    await _area_row(conn, area_id)
    rows = await _rows(conn, "history", {"area_id": area_id})
    return [PlanningEvent.model_validate(r) for r in rows]


async def _forum_row(conn: AsyncConnection, forum_id: int) -> dict[str, Any]:
    """One stored forum; NeighbourhoodAreaNotFound if there is none."""
    rows = await _rows(conn, "forum_select", {"id": forum_id, "area_id": None})
    if not rows:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood forum {forum_id}")
    return rows[0]


async def _plan_row(conn: AsyncConnection, plan_id: int) -> dict[str, Any]:
    """One stored plan; NeighbourhoodAreaNotFound if there is none."""
    rows = await _rows(conn, "plan_select", {"id": plan_id, "area_id": None})
    if not rows:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood plan {plan_id}")
    return rows[0]


async def get_forum(conn: AsyncConnection, forum_id: int, on: date) -> Forum:
    """Return one forum as of ``on``."""
    return _forum(await _forum_row(conn, forum_id), on)


async def get_plan(conn: AsyncConnection, plan_id: int, on: date) -> Plan:
    """Return one plan as of ``on``."""
    return _plan(await _plan_row(conn, plan_id), on)


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
        found = await _rows(conn, "group_managed", {"reference": group, "key_id": None})
        if not found:
            return []
        group_id = found[0]["id"]
    rows = await _rows(conn, "area_select", _area_params(lad=lad, group_id=group_id, limit=100_000))
    last = date.fromordinal(on.toordinal() + days)
    out: list[UpcomingPlanningDeadline] = []
    for row in rows:
        forum_rows, plan_rows = await _children(conn, row["id"])
        statuses = {("area", row["reference"]): row["status"]}
        statuses |= {("forum", f["reference"]): f["status"] for f in forum_rows}
        statuses |= {("plan", p["reference"]): p["status"] for p in plan_rows}
        for entity, reference, d in _all_deadlines(row, forum_rows, plan_rows):
            if on <= d.ends <= last:
                out.append(
                    UpcomingPlanningDeadline(
                        area_id=row["id"],
                        reference=row["reference"],
                        name=row["name"],
                        lad_codes=row["lad_codes"],
                        entity=entity,
                        entity_reference=reference,
                        status=statuses[(entity, reference)],
                        kind=d.kind,
                        period=d.period,
                        ends=d.ends,
                        authority=d.authority,
                    )
                )
    return sorted(out, key=lambda u: (u.ends, u.area_id, u.entity, u.kind))


# ---------------------------------------------------------------------------------------------
# Writing helpers


async def _record(
    conn: AsyncConnection,
    entity: str,
    entity_id: int,
    area_id: int,
    step: str,
    before: str | None,
    after: str | None,
    effective: date,
    on: date,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Append the step to ``planning_event`` and ``audit_log`` (the caller's transaction)."""
    await conn.execute(
        _sql("event_insert"),
        {
            "entity": entity,
            "entity_id": entity_id,
            "area_id": area_id,
            "step": step,
            "from_status": before,
            "to_status": after,
            "effective_on": effective,
            "recorded_on": on,
            "actor": actor,
            "details": Jsonb(details),
        },
    )
    await audit.record(
        conn,
        actor,
        f"neighbourhood_{entity}.{step}",
        f"neighbourhood_{entity}",
        str(entity_id),
        None if before is None else {"status": before},
        {"status": after, "effective_on": effective.isoformat(), **details},
    )


async def refresh_serving(conn: AsyncConnection, area_id: int, on: date) -> None:
    """Rewrite the area's map feature (stage, next deadline) and bump the data version."""
    row = await _area_row(conn, area_id)
    forum_rows, plan_rows = await _children(conn, area_id)
    forums = [_forum(f, on) for f in forum_rows]
    plans = [_plan(p, on) for p in plan_rows]
    every = [d for _, _, d in _all_deadlines(row, forum_rows, plan_rows)]
    upcoming = rules.next_deadline(every, on)
    forum = forums[-1] if forums else None
    plan = plans[-1] if plans else None
    await conn.execute(
        _sql("serving_upsert"),
        {
            "id": area_id,
            "forum_reference": None if forum is None else forum.reference,
            "forum_status": None if forum is None else forum.status,
            "plan_reference": None if plan is None else plan.reference,
            "plan_status": None if plan is None else plan.status,
            "stage": _stage(row, forums, plans),
            "next_deadline": None if upcoming is None else upcoming.ends.isoformat(),
            "next_deadline_kind": None if upcoming is None else upcoming.kind,
        },
    )
    await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))


def _require_officer_of(principal: Principal, lad_codes: list[str]) -> None:
    """Raise unless the caller is an admin or an officer of one of the districts."""
    principal.require("officer")
    if principal.role == "officer" and not any(principal.may_act_in(c) for c in lad_codes):
        raise Forbidden(
            f"this key acts in {', '.join(principal.lad_codes)}; the area lies in "
            f"{', '.join(lad_codes)}"
        )


async def _group(conn: AsyncConnection, reference: str, principal: Principal) -> dict[str, Any]:
    """A listed registered group; UnknownGroup if there is none; Forbidden for another's key."""
    rows = await _rows(conn, "group_managed", {"reference": reference, "key_id": principal.key_id})
    if not rows or not rows[0]["listed"]:
        raise UnknownGroup(f"no registered neighbourhood group {reference!r}", parameter="group")
    if principal.role == "group_manager" and not rows[0]["managed"]:
        raise Forbidden(f"this key does not manage the group {reference}")
    return rows[0]


def _check_dates(*pairs: tuple[str, date | None], on: date) -> None:
    """Raise DateInFuture for a named date after ``on``."""
    for name, value in pairs:
        if value is not None and value > on:
            raise DateInFuture(f"{name} {value.isoformat()} is in the future", parameter=name)


async def _measure(conn: AsyncConnection, geometry: dict[str, Any]) -> Any:
    """Validate and measure a drawn area; a 422 UnprocessableGeometry naming the problem."""
    try:
        return await measure_area(
            conn,
            geometry=geometry,
            lsoa_codes=None,
            max_km2=MAX_AREA_KM2,
            min_km2=MIN_AREA_KM2,
            parameter="geometry",
        )
    except (InvalidArea, AreaOutsideEngland, AreaOutOfRange) as exc:
        raise UnprocessableGeometry(exc.message, parameter="geometry") from exc


# ---------------------------------------------------------------------------------------------
# Areas


async def create_area(
    conn: AsyncConnection,
    data: AreaInput,
    principal: Principal,
    on: date,
    *,
    reference: str | None = None,
    source: str = "api",
) -> Area:
    """Record an area application (and its publicity, if given), audited, in one transaction.

    Officers record applications touching their districts; a group manager records its own
    registered group's application (``applicant_type`` ``neighbourhood_group``).

    Raises
    ------
    UnprocessableGeometry
        If the geometry is invalid, self-overlapping, outside England or out of range.
    UnknownGroup, Forbidden, DateInFuture, InvalidInput
        As named; also a whole-parish application that is publicised (reg 5A(3)).
    """
    principal.require("group_manager", "officer")
    _check_dates(("applied_on", data.applied_on), ("publicised_on", data.publicised_on), on=on)
    if data.publicised_on and data.publicised_on < data.applied_on:
        raise InvalidInput("publicised_on is before applied_on", parameter="publicised_on")
    group_row = None
    if data.applicant_type == "neighbourhood_group":
        if not data.group:
            raise InvalidInput(
                "a neighbourhood group applies by its NG- reference", parameter="group"
            )
    elif data.group:
        raise InvalidInput(
            "group is given only for applicant_type neighbourhood_group", parameter="group"
        )
    elif principal.role == "group_manager":
        raise Forbidden("a group manager applies only for its own registered group")
    elif not (data.applicant_name or "").strip():
        raise InvalidInput("name the applicant (applicant_name)", parameter="applicant_name")
    async with conn.transaction():
        if data.group:
            group_row = await _group(conn, data.group, principal)
        measured = await _measure(conn, data.geometry)
        if principal.role == "officer":
            _require_officer_of(principal, measured.lad_codes)
        kind = rules.area_kind(data.applicant_type, data.whole_parish, len(measured.lad_codes))
        if kind == "whole_parish" and data.publicised_on:
            raise InvalidInput(
                "a parish council's whole-parish application is not publicised for comment "
                "(reg 5A(3)): leave publicised_on out",
                parameter="publicised_on",
            )
        name = data.applicant_name or (group_row["name"] if group_row else "")
        try:
            cur = await conn.execute(
                _sql("area_insert"),
                {
                    "reference": reference,
                    "name": data.name,
                    "applicant_type": data.applicant_type,
                    "applicant_name": name,
                    "group_id": None if group_row is None else group_row["id"],
                    "kind": kind,
                    "whole_parish": data.whole_parish,
                    "applied_on": data.applied_on,
                    "wkb": measured.wkb,
                    "lad_codes": measured.lad_codes,
                    "principal_lad_code": measured.principal_lad_code,
                    "website": data.website,
                    "is_example": data.is_example,
                    "source": source,
                    "actor": principal.actor,
                },
            )
        except psycopg.errors.UniqueViolation as exc:
            raise InvalidInput(f"reference {reference!r} is already recorded") from exc
        inserted = await cur.fetchone()
        assert inserted is not None
        area_id = int(inserted[0])
        await _record(
            conn,
            "area",
            area_id,
            area_id,
            "apply",
            None,
            "applied",
            data.applied_on,
            on,
            principal.actor,
            {"kind": kind, "lad_codes": measured.lad_codes, "source": source},
        )
        if data.publicised_on:
            await _area_step_locked(
                conn, area_id, "publicise", StepInput(on=data.publicised_on), principal, on
            )
        await refresh_serving(conn, area_id, on)
        return await get_area(conn, area_id, on)


async def _area_step_locked(
    conn: AsyncConnection,
    area_id: int,
    step: rules.AreaStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> rules.AreaLife:
    """Apply and store one area step (the caller holds the transaction)."""
    if step == "designate":
        await conn.execute(_sql("designation_lock"))
    await conn.execute(_sql("area_lock"), {"id": area_id})
    row = await _area_row(conn, area_id)
    life = rules.apply_area_step(
        _life_of(rules.AreaLife, row),
        step,
        rules.StepRequest(effective_on=request.on, reason=request.reason),
        on,
    )
    if step == "designate":
        overlaps = await _rows(
            conn, "area_overlaps", {"id": area_id, "tolerance_m2": OVERLAP_TOLERANCE_M2}
        )
        if overlaps:
            first = overlaps[0]
            raise AreasOverlap(
                f"designated neighbourhood areas may not overlap (1990 Act s.61G(7)): this area "
                f"overlaps {first['reference']} ({first['name']}) by "
                f"{first['overlap_ha']:.2f} ha (EPSG:27700)"
                + (f" and {len(overlaps) - 1} other area(s)" if len(overlaps) > 1 else ""),
                allowed=[
                    s
                    for s in rules.area_allowed_steps(_life_of(rules.AreaLife, row), on)
                    if s != step
                ],
            )
    await conn.execute(
        _sql("area_update"),
        {**asdict(life), "id": area_id, "reason": (request.reason or "").strip() or None},
    )
    await _record(
        conn,
        "area",
        area_id,
        area_id,
        step,
        row["status"],
        life.status,
        life.last_step_on or on,
        on,
        principal.actor,
        {"late": life.decided_late} if step in ("designate", "refuse") else {},
    )
    return life


async def take_area_step(
    conn: AsyncConnection,
    area_id: int,
    step: rules.AreaStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> Area:
    """Take one step on an area application (officers of its districts), audited.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, AreasOverlap
        409 with the steps that are legal.
    DateInFuture, InvalidInput, Forbidden, NeighbourhoodAreaNotFound
        As named.
    """
    principal.require("officer")
    row = await _area_row(conn, area_id)
    _require_officer_of(principal, row["lad_codes"])
    async with conn.transaction():
        await _area_step_locked(conn, area_id, step, request, principal, on)
        await refresh_serving(conn, area_id, on)
    return await get_area(conn, area_id, on)


# ---------------------------------------------------------------------------------------------
# Forums


async def _settle_expired(
    conn: AsyncConnection, area_id: int, on: date, principal: Principal
) -> None:
    """Store as expired the area's forums whose five years have run by ``on`` (audited)."""
    for f in await _rows(conn, "forum_select", {"id": None, "area_id": area_id}):
        if (
            f["status"] == "designated"
            and rules.forum_status_on(_life_of(rules.ForumLife, f), on) == "expired"
        ):
            ended = rules.forum_expiry(f["designated_on"])
            await conn.execute(_sql("forum_expire"), {"id": f["id"], "ended_on": ended})
            await _record(
                conn,
                "forum",
                f["id"],
                area_id,
                "expire",
                "designated",
                "expired",
                ended,
                on,
                principal.actor,
                {"rule": "s.61F(8): five years"},
            )


async def apply_forum(
    conn: AsyncConnection, area_id: int, data: ForumInput, principal: Principal, on: date
) -> Forum:
    """Record a forum application for a designated area (officers; a group for itself).

    A registered group applying keeps its NG- reference as the forum's reference. A parish
    council's area has no forum: the parish council is its qualifying body (s.61G(2), 61E).

    Raises
    ------
    Conflict
        If the area is not designated, is a parish council's, or has a live forum.
    UnknownGroup, Forbidden, DateInFuture, InvalidInput, NeighbourhoodAreaNotFound
        As named.
    """
    principal.require("group_manager", "officer")
    _check_dates(("applied_on", data.applied_on), ("publicised_on", data.publicised_on), on=on)
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": area_id})
        area = await _area_row(conn, area_id)
        group_row = await _group(conn, data.group, principal) if data.group else None
        if principal.role == "group_manager" and group_row is None:
            raise Forbidden("a group manager applies only as its own registered group")
        if principal.role == "officer":
            _require_officer_of(principal, area["lad_codes"])
        await _settle_expired(conn, area_id, on, principal)
        if area["status"] != "designated":
            raise Conflict(
                f"a forum is designated for a designated neighbourhood area; {area['reference']} "
                f"is {area['status']} (s.61F(1))",
                allowed=list(rules.area_allowed_steps(_life_of(rules.AreaLife, area), on)),
            )
        if area["applicant_type"] == "parish_council":
            raise Conflict(
                f"{area['reference']} is a parish council's area: the parish council is its "
                "qualifying body and no forum may be designated for it (s.61F(1), 61G(2))"
            )
        live = [
            f
            for f in await _rows(conn, "forum_select", {"id": None, "area_id": area_id})
            if rules.forum_status_on(_life_of(rules.ForumLife, f), on)
            in ("applied", "publicised", "designated")
        ]
        if live:
            raise Conflict(
                f"{area['reference']} already has forum {live[0]['reference']} "
                f"({live[0]['status']}): one forum per area (s.61F(7)(a))"
            )
        name = data.name or (group_row["name"] if group_row else None)
        if not name:
            raise InvalidInput("name the forum", parameter="name")
        cur = await conn.execute(
            _sql("forum_insert"),
            {
                "reference": None if group_row is None else group_row["reference"],
                "area_id": area_id,
                "name": name,
                "group_id": None if group_row is None else group_row["id"],
                "cross_authority": area["kind"] == "cross_authority",
                "applied_on": data.applied_on,
                "members": data.members,
                "members_confirmed_on": data.members_confirmed_on,
                "open_membership": data.open_membership,
                "written_constitution": data.written_constitution,
                "website": data.website,
                "is_example": data.is_example,
                "actor": principal.actor,
            },
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        forum_id = int(inserted[0])
        await _record(
            conn,
            "forum",
            forum_id,
            area_id,
            "apply",
            None,
            "applied",
            data.applied_on,
            on,
            principal.actor,
            {"reference": inserted[1], "members": data.members},
        )
        if data.publicised_on:
            await _forum_step_locked(
                conn, forum_id, "publicise", StepInput(on=data.publicised_on), principal, on
            )
        await refresh_serving(conn, area_id, on)
    return await get_forum(conn, forum_id, on)


async def _forum_step_locked(
    conn: AsyncConnection,
    forum_id: int,
    step: rules.ForumStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> rules.ForumLife:
    """Apply and store one forum step (the caller holds the transaction and the area lock)."""
    row = await _forum_row(conn, forum_id)
    stored = _life_of(rules.ForumLife, row)
    members = request.members if request.members is not None else row["members"]
    life = rules.apply_forum_step(
        stored,
        step,
        rules.StepRequest(
            effective_on=request.on,
            reason=request.reason,
            members=members,
            members_confirmed_on=request.members_confirmed_on or row["members_confirmed_on"],
            open_membership=request.open_membership or row["open_membership"],
            written_constitution=request.written_constitution or row["written_constitution"],
        ),
        on,
    )
    await conn.execute(
        _sql("forum_update"),
        {
            **asdict(life),
            "id": forum_id,
            "members": request.members,
            "members_confirmed_on": request.members_confirmed_on,
            "open_membership": request.open_membership,
            "written_constitution": request.written_constitution,
            "reason": (request.reason or "").strip() or None,
        },
    )
    await _record(
        conn,
        "forum",
        forum_id,
        row["area_id"],
        step,
        row["status"],
        life.status,
        life.last_step_on or on,
        on,
        principal.actor,
        {"members": members, "late": life.decided_late} if step == "designate" else {},
    )
    return life


async def take_forum_step(
    conn: AsyncConnection,
    forum_id: int,
    step: rules.ForumStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> Forum:
    """Take one step on a forum (officers of the area's districts), audited.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow
        409 with the steps that are legal.
    DateInFuture, InvalidInput, Forbidden, NeighbourhoodAreaNotFound
        As named (InvalidInput also for fewer than 21 members).
    """
    principal.require("officer")
    row = await _forum_row(conn, forum_id)
    _require_officer_of(principal, row["lad_codes"])
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": row["area_id"]})
        await _settle_expired(conn, row["area_id"], on, principal)
        await _forum_step_locked(conn, forum_id, step, request, principal, on)
        await refresh_serving(conn, row["area_id"], on)
    return await get_forum(conn, forum_id, on)


# ---------------------------------------------------------------------------------------------
# Plans


async def _qualifying_body_problem(
    conn: AsyncConnection, area: dict[str, Any], on: date
) -> str | None:
    """Why the area has no qualifying body on ``on`` (None if it has one: s.38A(12), 61G)."""
    if area["status"] != "designated":
        return f"{area['reference']} is {area['status']}, not a designated neighbourhood area"
    if area["applicant_type"] == "parish_council":
        return None
    forums = await _rows(conn, "forum_select", {"id": None, "area_id": area["id"]})
    if any(rules.forum_status_on(_life_of(rules.ForumLife, f), on) == "designated" for f in forums):
        return None
    return (
        f"{area['reference']} has no qualifying body: no parish council applied for it and no "
        "forum is designated for it today (2004 Act s.38A(12); 1990 Act s.61F)"
    )


async def _may_act_for_plan(
    conn: AsyncConnection, principal: Principal, area: dict[str, Any]
) -> None:
    """Officers of the districts, or a manager of the group that is the area's forum."""
    principal.require("group_manager", "officer")
    if principal.role != "group_manager":
        _require_officer_of(principal, area["lad_codes"])
        return
    forums = await _rows(conn, "forum_select", {"id": None, "area_id": area["id"]})
    for f in forums:
        if f["group_reference"] and f["status"] == "designated":
            await _group(conn, f["group_reference"], principal)
            return
    raise Forbidden("only the managers of the group that is the area's forum act for its plan")


async def create_plan(
    conn: AsyncConnection, area_id: int, data: PlanInput, principal: Principal, on: date
) -> Plan:
    """Start a plan (draft) for a designated area with a qualifying body, audited.

    Raises
    ------
    Conflict
        If the area has no qualifying body or already has a live plan (s.38B(2)).
    Forbidden, DateInFuture, NeighbourhoodAreaNotFound
        As named.
    """
    drafted = data.drafted_on or on
    _check_dates(("drafted_on", drafted), on=on)
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": area_id})
        area = await _area_row(conn, area_id)
        await _may_act_for_plan(conn, principal, area)
        problem = await _qualifying_body_problem(conn, area, on)
        if problem:
            raise Conflict(problem)
        plans = await _rows(conn, "plan_select", {"id": None, "area_id": area_id})
        live = [p for p in plans if p["status"] not in ("failed", "withdrawn")]
        if live:
            raise Conflict(
                f"{area['reference']} already has plan {live[0]['reference']} "
                f"({live[0]['status']}): only one neighbourhood development plan for each "
                "area (2004 Act s.38B(2))"
            )
        cur = await conn.execute(
            _sql("plan_insert"),
            {
                "reference": None,
                "area_id": area_id,
                "name": data.name,
                "documents": Jsonb([d.model_dump() for d in data.documents]),
                "drafted_on": drafted,
                "is_example": data.is_example,
                "actor": principal.actor,
            },
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        plan_id = int(inserted[0])
        await _record(
            conn,
            "plan",
            plan_id,
            area_id,
            "draft",
            None,
            "draft",
            drafted,
            on,
            principal.actor,
            {"reference": inserted[1], "documents": len(data.documents)},
        )
        await refresh_serving(conn, area_id, on)
    return await get_plan(conn, plan_id, on)


QUALIFYING_BODY_STEPS: frozenset[str] = frozenset({"start_consultation", "submit", "withdraw"})


async def take_plan_step(
    conn: AsyncConnection,
    plan_id: int,
    step: rules.PlanStep,
    request: StepInput,
    principal: Principal,
    on: date,
) -> Plan:
    """Take one step on a plan, audited; documents given with the step are linked to it.

    The qualifying body's steps (start_consultation, submit, withdraw) may be taken by an
    officer or the forum group's managers; the authority's steps by officers only.

    Raises
    ------
    IllegalTransition, OutsideStatutoryWindow, Conflict
        409 with the steps that are legal (Conflict: the qualifying body has lapsed).
    DateInFuture, InvalidInput, Forbidden, NeighbourhoodAreaNotFound
        As named.
    """
    row = await _plan_row(conn, plan_id)
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": row["area_id"]})
        area = await _area_row(conn, row["area_id"])
        if step in QUALIFYING_BODY_STEPS:
            await _may_act_for_plan(conn, principal, area)
        else:
            principal.require("officer")
            _require_officer_of(principal, area["lad_codes"])
        row = await _plan_row(conn, plan_id)
        if step in ("start_consultation", "submit"):
            problem = await _qualifying_body_problem(conn, area, request.on or on)
            if problem:
                raise Conflict(problem, allowed=["withdraw"])
        life = rules.apply_plan_step(
            _life_of(rules.PlanLife, row),
            step,
            rules.StepRequest(
                effective_on=request.on,
                reason=request.reason,
                referendum_passed=request.referendum_passed,
            ),
            on,
        )
        documents = [{**d.model_dump(), "stage": d.stage or life.status} for d in request.documents]
        await conn.execute(
            _sql("plan_update"),
            {
                **asdict(life),
                "id": plan_id,
                "reason": (request.reason or "").strip() or None,
                "documents": Jsonb(documents),
            },
        )
        details: dict[str, Any] = {"documents": len(documents)}
        if step == "hold_referendum":
            details["referendum_passed"] = request.referendum_passed
        if step in ("order_referendum", "make", "refuse"):
            details["late"] = life.decided_late
        await _record(
            conn,
            "plan",
            plan_id,
            row["area_id"],
            step,
            row["status"],
            life.status,
            life.last_step_on or on,
            on,
            principal.actor,
            details,
        )
        await refresh_serving(conn, row["area_id"], on)
    return await get_plan(conn, plan_id, on)


# ---------------------------------------------------------------------------------------------
# The levy


def _site_json(site: dict[str, Any] | None) -> str | None:
    """A receipt's site as GeoJSON text, checked to be a point or polygon inside England."""
    if site is None:
        return None
    if not isinstance(site, dict) or site.get("type") not in ("Point", "Polygon", "MultiPolygon"):
        raise UnprocessableGeometry(
            "site must be a GeoJSON Point, Polygon or MultiPolygon", parameter="site"
        )
    try:
        shape = shapely.geometry.shape(site)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad GeoJSON
        raise UnprocessableGeometry(f"malformed site: {exc}", parameter="site") from exc
    if shape.is_empty or not shape.is_valid:
        raise UnprocessableGeometry("the site is empty or invalid", parameter="site")
    west, south, east, north = ENGLAND_BOUNDS
    minx, miny, maxx, maxy = shape.bounds
    if minx < west or maxx > east or miny < south or maxy > north:
        raise UnprocessableGeometry(
            "the site lies outside England: give longitude then latitude", parameter="site"
        )
    return json.dumps(site)


async def record_receipt(
    conn: AsyncConnection, area_id: int, data: ReceiptInput, principal: Principal, on: date
) -> int:
    """Record a levy receipt for an area (officers of its districts), audited; its id."""
    principal.require("officer")
    _check_dates(("received_on", data.received_on), on=on)
    site = _site_json(data.site)
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": area_id})
        area = await _area_row(conn, area_id)
        _require_officer_of(principal, area["lad_codes"])
        cur = await conn.execute(
            _sql("receipt_insert"),
            {
                "area_id": area_id,
                "development": data.development,
                "amount": data.amount,
                "received_on": data.received_on,
                "plan_in_effect": data.plan_in_effect,
                "site": site,
                "notes": data.notes,
                "actor": principal.actor,
            },
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        await _record(
            conn,
            "levy",
            int(inserted[0]),
            area_id,
            "receipt",
            None,
            None,
            data.received_on,
            on,
            principal.actor,
            {"amount": str(data.amount), "plan_in_effect": data.plan_in_effect},
        )
    return int(inserted[0])


async def record_dwellings(
    conn: AsyncConnection, area_id: int, data: DwellingsInput, principal: Principal, on: date
) -> None:
    """Record the council-tax dwellings (and index figures) of a financial year, audited."""
    principal.require("officer")
    if (data.index_year is None) != (data.index_base is None):
        raise InvalidInput("give both index figures or neither", parameter="index_base")
    if data.index_year is not None and not (data.index_source or "").strip():
        raise InvalidInput("say where the index figures come from", parameter="index_source")
    async with conn.transaction():
        await conn.execute(_sql("area_lock"), {"id": area_id})
        area = await _area_row(conn, area_id)
        _require_officer_of(principal, area["lad_codes"])
        await conn.execute(
            _sql("dwellings_upsert"),
            {**data.model_dump(), "area_id": area_id, "actor": principal.actor},
        )
        await _record(
            conn,
            "levy",
            area_id,
            area_id,
            "dwellings",
            None,
            None,
            on,
            on,
            principal.actor,
            {
                "financial_year": data.financial_year,
                "dwellings": data.dwellings,
                "source": data.dwellings_source,
            },
        )


async def levy_year(conn: AsyncConnection, area_id: int, year: int) -> dict[str, Any]:
    """The neighbourhood portion of an area's receipts in financial year ``year`` (reg 59A-F).

    The recipient is the parish council where one applied for the area (it is the qualifying
    body), else the charging authority (reg 59F).
    """
    area = await _area_row(conn, area_id)
    rows = await _rows(conn, "receipts", {"area_id": area_id})
    counts = await _rows(conn, "dwellings", {"area_id": area_id, "financial_year": year})
    count = counts[0] if counts else {}
    inputs = levy.CapInputs(
        dwellings=count.get("dwellings"),
        dwellings_source=count.get("dwellings_source"),
        index_year=count.get("index_year"),
        index_base=count.get("index_base"),
        index_source=count.get("index_source"),
    )
    receipts = [
        levy.Receipt(
            id=r["id"],
            development=r["development"],
            amount=Decimal(r["amount"]),
            received_on=r["received_on"],
            plan_in_effect=r["plan_in_effect"],
        )
        for r in rows
    ]
    recipient: levy.Recipient = (
        "parish_council" if area["applicant_type"] == "parish_council" else "charging_authority"
    )
    result = levy.compute_year(year, receipts, recipient, inputs)
    return {
        "area_id": area_id,
        "reference": area["reference"],
        "name": area["name"],
        "dwellings": inputs.dwellings,
        "dwellings_source": inputs.dwellings_source,
        **asdict(result),
    }


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


async def refresh_passed_deadlines(conn: AsyncConnection, on: date) -> int:
    """Move the map layer's next deadline on for areas whose stored one has passed by ``on``.

    Run daily by the service (app/housekeeping.py), like the assets' deadlines. A passed
    deadline with nothing after it stays shown (overdue) and is rewritten only once a day.
    Returns the rows rewritten.
    """
    async with conn.transaction():
        cur = await conn.execute(_sql("serving_passed"), {"day": on.isoformat()})
        stale = [int(fid) for (fid,) in await cur.fetchall()]
        for area_id in stale:
            await refresh_serving(conn, area_id, on)
    return len(stale)


async def areas_at(conn: AsyncConnection, lon: float, lat: float, on: date) -> list[AreaAtPoint]:
    """The live areas containing a point, each with its stage, forum, next deadline and levy.

    The levy summary is the financial year holding ``on``.

    Raises
    ------
    PointOutsideCoverage
        If the point is outside England's envelope (checked before PostGIS sees it).
    """
    require_point_in_england(lon, lat)
    rows = await _rows(conn, "areas_at_point", {"lon": lon, "lat": lat})
    year = levy.financial_year_of(on)
    found = []
    for row in rows:
        area_id = int(row["id"])
        area = await get_area(conn, area_id, on)
        every = list(area.deadlines) + [d for f in area.forums for d in f.deadlines]
        every += [d for p in area.plans for d in p.deadlines]
        ahead = [d for d in every if not d.passed]
        upcoming = min(ahead, key=lambda d: d.ends) if ahead else area.next_deadline
        money = await levy_year(conn, area_id, year)
        forum = area.forums[-1] if area.forums else None
        found.append(
            AreaAtPoint(
                id=area.id,
                reference=area.reference,
                name=area.name,
                status=area.status,
                stage=area.stage,
                forum_reference=None if forum is None else forum.reference,
                forum_status=None if forum is None else forum.status,
                next_deadline=upcoming,
                levy_year=money["financial_year"],
                levy_total=money["total_portion"],
                levy_missing=money["missing"] if money["receipts"] else [],
            )
        )
    return found
