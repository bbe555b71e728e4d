"""Neighbourhood planning's shared step machinery in the database: rows, checks and the record.

The statutory rules live in :mod:`geo.planning.rules`; :mod:`geo.planning.areas`,
:mod:`geo.planning.forums`, :mod:`geo.planning.plans` and :mod:`geo.planning.receipts` store
them through the pieces here. Every write runs in one transaction that locks the area's row,
applies the pure step on the date given, writes the row and appends to ``planning_event`` and
``audit_log`` (:func:`record`, :func:`store_step`); a refused step writes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import audit
from geo.access import Principal
from geo.errors import DateInFuture, Forbidden, NeighbourhoodAreaNotFound, UnknownGroup
from geo.planning import rules
from geo.planning.models import StepInput
from geo.sqlfiles import read_sql


def sql(name: str) -> str:
    """The text of ``geo/sql/planning/<name>.sql``."""
    return read_sql("geo", f"planning/{name}.sql")


async def rows(conn: AsyncConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one planning SQL file."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql(name), params)
        return list(await cur.fetchall())


async def insert(conn: AsyncConnection, name: str, params: dict[str, Any]) -> tuple[Any, ...]:
    """Run one planning INSERT ... RETURNING file; the row it returns (id first)."""
    cur = await conn.execute(sql(name), params)
    inserted = await cur.fetchone()
    assert inserted is not None
    return tuple(inserted)


def area_params(**given: Any) -> dict[str, Any]:
    """Parameters of area_select.sql, every filter off unless given."""
    base = {"id": None, "reference": None, "lad": None, "status": None, "group_id": None}
    return base | {"limit": 1000} | given


async def area_row(conn: AsyncConnection, area_id: int) -> dict[str, Any]:
    """One stored area; NeighbourhoodAreaNotFound if there is none."""
    found = await rows(conn, "area_select", area_params(id=area_id, limit=1))
    if not found:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood area {area_id}")
    return found[0]


async def area_id_of(conn: AsyncConnection, reference: str) -> int:
    """The id of the area with ``reference``; NeighbourhoodAreaNotFound if there is none."""
    found = await rows(conn, "area_select", area_params(reference=reference or None, limit=1))
    if not reference or not found:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood area {reference!r}")
    return int(found[0]["id"])


async def forum_rows(conn: AsyncConnection, area_id: int) -> list[dict[str, Any]]:
    """The stored forums of an area, oldest first."""
    return await rows(conn, "forum_select", {"id": None, "area_id": area_id})


async def plan_rows(conn: AsyncConnection, area_id: int) -> list[dict[str, Any]]:
    """The stored plans of an area, oldest first."""
    return await rows(conn, "plan_select", {"id": None, "area_id": area_id})


async def child_row(conn: AsyncConnection, entity: str, child_id: int) -> dict[str, Any]:
    """One stored forum or plan (``entity``); NeighbourhoodAreaNotFound if there is none."""
    found = await rows(conn, f"{entity}_select", {"id": child_id, "area_id": None})
    if not found:
        raise NeighbourhoodAreaNotFound(f"no neighbourhood {entity} {child_id}")
    return found[0]


LifeT = TypeVar("LifeT", rules.AreaLife, rules.ForumLife, rules.PlanLife)


def life_of(life: type[LifeT], row: dict[str, Any]) -> LifeT:
    """The statutory facts of a stored area, forum or plan: its row's columns of those names."""
    return life(**{name: row[name] for name in life.__dataclass_fields__})


def live_forum(forums: list[dict[str, Any]], on: date) -> bool:
    """Whether one of the stored forums is designated (and not expired) on ``on``."""
    return any(
        rules.forum_status_on(life_of(rules.ForumLife, f), on) == "designated" for f in forums
    )


@dataclass(frozen=True)
class Event:
    """One step of an area, forum, plan or the levy, as ``planning_event`` records it."""

    entity: str
    entity_id: int
    area_id: int
    step: str
    before: str | None
    after: str | None
    effective: date


@dataclass(frozen=True)
class Taking:
    """A step as asked: the request (its date, reason and facts), who takes it, and the day
    it is recorded."""

    request: StepInput
    principal: Principal
    on: date


def step_request(request: StepInput, **facts: Any) -> rules.StepRequest:
    """The rules' view of a step asked for: its effective date and reason, and ``facts``."""
    return rules.StepRequest(effective_on=request.on, reason=request.reason, **facts)


async def record(
    conn: AsyncConnection, event: Event, on: date, actor: str, details: dict[str, Any]
) -> None:
    """Append the step to ``planning_event`` and ``audit_log`` (the caller's transaction)."""
    await conn.execute(
        sql("event_insert"),
        {
            "entity": event.entity,
            "entity_id": event.entity_id,
            "area_id": event.area_id,
            **audit.event_params(
                event.step, event.before, event.after, event.effective, on, actor, details
            ),
        },
    )
    await audit.record(
        conn,
        actor,
        f"neighbourhood_{event.entity}.{event.step}",
        f"neighbourhood_{event.entity}",
        str(event.entity_id),
        None if event.before is None else {"status": event.before},
        {"status": event.after, "effective_on": event.effective.isoformat(), **details},
    )


def reason_of(reason: str | None) -> str | None:
    """A step's reason as stored: stripped, None when blank."""
    return (reason or "").strip() or None


async def store_step(
    conn: AsyncConnection,
    row: dict[str, Any],
    event: tuple[str, str],
    life: rules.AreaLife | rules.ForumLife | rules.PlanLife,
    taking: Taking,
    changes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """Write a step's new facts to the stored row and record it.

    ``event`` is the entity (``area``, ``forum``, ``plan``: its ``<entity>_update.sql`` is
    run) and the step; ``changes`` are the update's parameters besides the life's facts and
    the event's details.
    """
    entity, step = event
    columns, details = changes
    await conn.execute(
        sql(f"{entity}_update"),
        {**asdict(life), "id": row["id"], "reason": reason_of(taking.request.reason), **columns},
    )
    area_id = row["id"] if entity == "area" else row["area_id"]
    effective = life.last_step_on or taking.on
    taken = Event(entity, row["id"], area_id, step, row["status"], life.status, effective)
    await record(conn, taken, taking.on, taking.principal.actor, details)


# An area's or forum's step in the caller's transaction: (conn, id, step, taking).
StepLocked = Callable[[AsyncConnection, int, Any, Taking], Awaitable[object]]


async def record_application(
    conn: AsyncConnection,
    event: Event,
    principal: Principal,
    on: date,
    details: dict[str, Any],
    publicity: tuple[date | None, StepLocked],
) -> None:
    """Record an area's or forum's application and, where it gives a date, its publicity.

    ``publicity`` is the date it was publicised (or None) and the function that takes its
    steps in the caller's transaction, which takes the ``publicise`` step on that date.
    """
    await record(conn, event, on, principal.actor, details)
    publicised_on, step_locked = publicity
    if publicised_on:
        taking = Taking(StepInput(on=publicised_on), principal, on)
        await step_locked(conn, event.entity_id, "publicise", taking)


def require_officer_of(principal: Principal, lad_codes: list[str]) -> None:
    """Raise unless the caller is an admin or an officer of one of the districts."""
    principal.require("officer")
    if principal.role == "officer" and not any(principal.may_act_in(c) for c in lad_codes):
        raise Forbidden(
            f"this key acts in {', '.join(principal.lad_codes)}; the area lies in "
            f"{', '.join(lad_codes)}"
        )


async def lock_area_for_officer(
    conn: AsyncConnection, area_id: int, principal: Principal
) -> dict[str, Any]:
    """Lock the area's row (the caller's transaction) and check the caller is its officer."""
    await conn.execute(sql("area_lock"), {"id": area_id})
    area = await area_row(conn, area_id)
    require_officer_of(principal, area["lad_codes"])
    return area


async def group_of(conn: AsyncConnection, reference: str, principal: Principal) -> dict[str, Any]:
    """A listed registered group; UnknownGroup if there is none; Forbidden for another's key."""
    found = await rows(conn, "group_managed", {"reference": reference, "key_id": principal.key_id})
    if not found or not found[0]["listed"]:
        raise UnknownGroup(f"no registered neighbourhood group {reference!r}", parameter="group")
    if principal.role == "group_manager" and not found[0]["managed"]:
        raise Forbidden(f"this key does not manage the group {reference}")
    return found[0]


def check_dates(*pairs: tuple[str, date | None], on: date) -> None:
    """Raise DateInFuture for a named date after ``on``."""
    for name, value in pairs:
        if value is not None and value > on:
            raise DateInFuture(f"{name} {value.isoformat()} is in the future", parameter=name)
