"""Neighbourhood development plans in the database: a draft for an area and its stages.

A plan needs a qualifying body (2004 Act s.38A(12)): the parish council that applied for the
area, or a forum designated for it. The qualifying body's steps may be taken by an officer or
by the managers of the group that is the forum; the authority's by its officers only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg.errors
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from geo.access import Principal
from geo.errors import Conflict, Forbidden, InvalidInput
from geo.planning import rules, steps
from geo.planning.models import Plan, PlanInput, StepInput
from geo.planning.reads import get_plan
from geo.planning.serving import refresh_serving

QUALIFYING_BODY_STEPS: frozenset[str] = frozenset({"start_consultation", "submit", "withdraw"})


async def _qualifying_body_problem(
    conn: AsyncConnection, area: dict[str, Any], on: date
) -> str | None:
    """Why the area has no qualifying body on ``on`` (None if it has one: s.38A(12), 61G)."""
    if area["status"] != "designated":
        return f"{area['reference']} is {area['status']}, not a designated neighbourhood area"
    if area["applicant_type"] == "parish_council":
        return None
    if steps.live_forum(await steps.forum_rows(conn, area["id"]), on):
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
        steps.require_officer_of(principal, area["lad_codes"])
        return
    for f in await steps.forum_rows(conn, area["id"]):
        if f["group_reference"] and f["status"] == "designated":
            await steps.group_of(conn, f["group_reference"], principal)
            return
    raise Forbidden("only the managers of the group that is the area's forum act for its plan")


async def create_plan(
    conn: AsyncConnection,
    area_id: int,
    data: PlanInput,
    principal: Principal,
    on: date,
    *,
    reference: str | None = None,
) -> Plan:
    """Start a plan (draft) for a designated area with a qualifying body, audited.

    ``reference`` keeps an imported plan's (NP- and its id otherwise).

    Raises
    ------
    Conflict
        If the area has no qualifying body or already has a live plan (s.38B(2)).
    InvalidInput
        If ``reference`` is already recorded.
    Forbidden, DateInFuture, NeighbourhoodAreaNotFound
        As named.
    """
    drafted = data.drafted_on or on
    steps.check_dates(("drafted_on", drafted), on=on)
    async with conn.transaction():
        await conn.execute(steps.sql("area_lock"), {"id": area_id})
        area = await steps.area_row(conn, area_id)
        await _may_act_for_plan(conn, principal, area)
        problem = await _qualifying_body_problem(conn, area, on)
        if problem:
            raise Conflict(problem)
        live = [
            p
            for p in await steps.plan_rows(conn, area_id)
            if p["status"] not in ("failed", "withdrawn")
        ]
        if live:
            raise Conflict(
                f"{area['reference']} already has plan {live[0]['reference']} "
                f"({live[0]['status']}): only one neighbourhood development plan for each "
                "area (2004 Act s.38B(2))"
            )
        try:
            plan_id, reference = await steps.insert(
                conn,
                "plan_insert",
                {
                    "reference": reference,
                    "area_id": area_id,
                    "name": data.name,
                    "documents": Jsonb([d.model_dump() for d in data.documents]),
                    "drafted_on": drafted,
                    "is_example": data.is_example,
                    "actor": principal.actor,
                },
            )
        except psycopg.errors.UniqueViolation as exc:
            raise InvalidInput(f"reference {reference!r} is already recorded") from exc
        event = steps.Event("plan", plan_id, area_id, "draft", None, "draft", drafted)
        details = {"reference": reference, "documents": len(data.documents)}
        await steps.record(conn, event, on, principal.actor, details)
        await refresh_serving(conn, area_id, on)
    return await get_plan(conn, plan_id, on)


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
    row = await steps.child_row(conn, "plan", plan_id)
    async with conn.transaction():
        await conn.execute(steps.sql("area_lock"), {"id": row["area_id"]})
        area = await steps.area_row(conn, row["area_id"])
        if step in QUALIFYING_BODY_STEPS:
            await _may_act_for_plan(conn, principal, area)
        else:
            principal.require("officer")
            steps.require_officer_of(principal, area["lad_codes"])
        row = await steps.child_row(conn, "plan", plan_id)
        if step in ("start_consultation", "submit"):
            problem = await _qualifying_body_problem(conn, area, request.on or on)
            if problem:
                raise Conflict(problem, allowed=["withdraw"])
        asked = steps.step_request(request, referendum_passed=request.referendum_passed)
        life = rules.apply_plan_step(steps.life_of(rules.PlanLife, row), step, asked, on)
        documents = [{**d.model_dump(), "stage": d.stage or life.status} for d in request.documents]
        details: dict[str, Any] = {"documents": len(documents)}
        if step == "hold_referendum":
            details["referendum_passed"] = request.referendum_passed
        if step in ("order_referendum", "make", "refuse"):
            details["late"] = life.decided_late
        columns = {"documents": Jsonb(documents)}
        event = ("plan", step)
        taking = steps.Taking(request, principal, on)
        await steps.store_step(conn, row, event, life, taking, (columns, details))
        await refresh_serving(conn, row["area_id"], on)
    return await get_plan(conn, plan_id, on)
