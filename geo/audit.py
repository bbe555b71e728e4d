"""The audit log: every write records who, when, what, and the state before and after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from geo.sqlfiles import read_sql


async def record(
    conn: AsyncConnection,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Append one entry (in the caller's transaction, so it commits with the write)."""
    await conn.execute(
        "INSERT INTO audit_log (actor, action, entity, entity_id, before, after)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            actor,
            action,
            entity,
            entity_id,
            None if before is None else Jsonb(before),
            None if after is None else Jsonb(after),
        ),
    )


def event_params(
    step: str,
    before: str | None,
    after: str | None,
    effective: date,
    on: date,
    actor: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The columns every domain's event table shares.

    The step, the statuses either side of it, when it took effect and was recorded, who took
    it and its details (as JSONB).
    """
    return {
        "step": step,
        "from_status": before,
        "to_status": after,
        "effective_on": effective,
        "recorded_on": on,
        "actor": actor,
        "details": Jsonb(details),
    }


@dataclass(frozen=True)
class StepLog:
    """Where a lifecycle's steps are written: its event table and its name in the audit log."""

    entity: str
    """The audit log's entity, and its actions' prefix (``asset``: ``asset.nominate``)."""
    event_sql: str
    """The ``geo/sql`` file appending one event (the parent's id as ``%(parent_id)s``)."""
    view: Callable[[dict[str, Any]], dict[str, Any]]
    """A stored row as the audit log keeps it, before and after."""


async def record_step(
    conn: AsyncConnection,
    log: StepLog,
    entity_id: int,
    step: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    effective: date,
    on: date,
    actor: str,
    details: dict[str, Any],
) -> None:
    """Append a step to the lifecycle's event table and to the audit log (same transaction)."""
    old_status = None if before is None else before["status"]
    await conn.execute(
        read_sql("geo", log.event_sql),
        {
            "parent_id": entity_id,
            **event_params(step, old_status, after["status"], effective, on, actor, details),
        },
    )
    await record(
        conn,
        actor,
        f"{log.entity}.{step}",
        log.entity,
        str(entity_id),
        None if before is None else log.view(before),
        log.view(after),
    )
