"""Neighbourhood forums in the database: an application for a designated area and its steps.

A forum is designated for five years (1990 Act s.61F(8)); a designation that has run its
course is stored as expired the next time its area is written to (:func:`settle_expired`).
"""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection

from geo.access import Principal
from geo.errors import Conflict, Forbidden, InvalidInput
from geo.planning import rules, steps
from geo.planning.models import Forum, ForumInput, StepInput
from geo.planning.reads import get_forum
from geo.planning.serving import refresh_serving

# The forum's fields stored as given.
FORUM_COLUMNS = {
    "applied_on",
    "members",
    "members_confirmed_on",
    "open_membership",
    "written_constitution",
    "website",
    "is_example",
}
# The s.61F(5) facts a designation step may attest (stored where given).
FORUM_FACTS = {"members", "members_confirmed_on", "open_membership", "written_constitution"}


async def settle_expired(
    conn: AsyncConnection, area_id: int, on: date, principal: Principal
) -> None:
    """Store as expired the area's forums whose five years have run by ``on`` (audited)."""
    for f in await steps.forum_rows(conn, area_id):
        if (
            f["status"] == "designated"
            and rules.forum_status_on(steps.life_of(rules.ForumLife, f), on) == "expired"
        ):
            ended = rules.forum_expiry(f["designated_on"])
            await conn.execute(steps.sql("forum_expire"), {"id": f["id"], "ended_on": ended})
            event = steps.Event("forum", f["id"], area_id, "expire", "designated", "expired", ended)
            await steps.record(conn, event, on, principal.actor, {"rule": "s.61F(8): five years"})


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
    steps.check_dates(("applied_on", data.applied_on), ("publicised_on", data.publicised_on), on=on)
    async with conn.transaction():
        await conn.execute(steps.sql("area_lock"), {"id": area_id})
        area = await steps.area_row(conn, area_id)
        group_row = await steps.group_of(conn, data.group, principal) if data.group else None
        if principal.role == "group_manager" and group_row is None:
            raise Forbidden("a group manager applies only as its own registered group")
        if principal.role == "officer":
            steps.require_officer_of(principal, area["lad_codes"])
        await settle_expired(conn, area_id, on, principal)
        if area["status"] != "designated":
            raise Conflict(
                f"a forum is designated for a designated neighbourhood area; {area['reference']} "
                f"is {area['status']} (s.61F(1))",
                allowed=list(rules.area_allowed_steps(steps.life_of(rules.AreaLife, area), on)),
            )
        if area["applicant_type"] == "parish_council":
            raise Conflict(
                f"{area['reference']} is a parish council's area: the parish council is its "
                "qualifying body and no forum may be designated for it (s.61F(1), 61G(2))"
            )
        live = [
            f
            for f in await steps.forum_rows(conn, area_id)
            if rules.forum_status_on(steps.life_of(rules.ForumLife, f), on)
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
        forum_id, reference = await steps.insert(
            conn,
            "forum_insert",
            {
                **data.model_dump(include=FORUM_COLUMNS),
                "reference": None if group_row is None else group_row["reference"],
                "area_id": area_id,
                "name": name,
                "group_id": None if group_row is None else group_row["id"],
                "cross_authority": area["kind"] == "cross_authority",
                "actor": principal.actor,
            },
        )
        event = steps.Event("forum", forum_id, area_id, "apply", None, "applied", data.applied_on)
        details = {"reference": reference, "members": data.members}
        publicity = (data.publicised_on, _forum_step_locked)
        await steps.record_application(conn, event, principal, on, details, publicity)
        await refresh_serving(conn, area_id, on)
    return await get_forum(conn, forum_id, on)


async def _forum_step_locked(
    conn: AsyncConnection, forum_id: int, step: rules.ForumStep, taking: steps.Taking
) -> rules.ForumLife:
    """Apply and store one forum step (the caller holds the transaction and the area lock)."""
    request, on = taking.request, taking.on
    row = await steps.child_row(conn, "forum", forum_id)
    members = request.members if request.members is not None else row["members"]
    asked = steps.step_request(
        request,
        members=members,
        members_confirmed_on=request.members_confirmed_on or row["members_confirmed_on"],
        open_membership=request.open_membership or row["open_membership"],
        written_constitution=request.written_constitution or row["written_constitution"],
    )
    life = rules.apply_forum_step(steps.life_of(rules.ForumLife, row), step, asked, on)
    attested = request.model_dump(include=FORUM_FACTS)
    details = {"members": members, "late": life.decided_late} if step == "designate" else {}
    event = ("forum", step)
    await steps.store_step(conn, row, event, life, taking, (attested, details))
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
    row = await steps.child_row(conn, "forum", forum_id)
    steps.require_officer_of(principal, row["lad_codes"])
    async with conn.transaction():
        await conn.execute(steps.sql("area_lock"), {"id": row["area_id"]})
        await settle_expired(conn, row["area_id"], on, principal)
        await _forum_step_locked(conn, forum_id, step, steps.Taking(request, principal, on))
        await refresh_serving(conn, row["area_id"], on)
    return await get_forum(conn, forum_id, on)
