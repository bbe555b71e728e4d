"""The audit log: every write records who, when, what, and the state before and after."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb


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
