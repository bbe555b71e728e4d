"""Who sees and edits a group, and the abuse limits' keyed client fingerprints."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo.access import Principal
from geo.errors import (
    Forbidden,
    GroupNotFound,
    TooManyRequests,
)
from geo.groups.models import GROUP_REFERENCE
from geo.sqlfiles import read_sql


def may_see_private(principal: Principal, lad_codes: list[str], managers: list[int]) -> bool:
    """Whether the caller sees private fields: admins, officers of a district the area
    touches, and the group's own managers."""
    if principal.role == "admin":
        return True
    if principal.role == "officer":
        return bool(set(principal.lad_codes) & set(lad_codes))
    return (
        principal.role == "group_manager"
        and principal.key_id is not None
        and principal.key_id in managers
    )


def client_fingerprint(address: str, key: bytes) -> str:
    """The keyed hash (HMAC-SHA256) of a client address kept for abuse limits.

    The address itself is never stored; without the key the fingerprint cannot be reversed
    or linked to an address by trying them all.
    """
    return hmac.new(key, address.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def check_group_reference(reference: str) -> None:
    """Raise GroupNotFound for a reference of the wrong shape (never reaches SQL)."""
    if not GROUP_REFERENCE.match(reference):
        raise GroupNotFound(f"no neighbourhood group {reference!r}", parameter="reference")


def require_may_edit(principal: Principal, row: dict[str, Any]) -> None:
    """Raise unless the caller may edit the group (its managers, its officers, admins)."""
    principal.require("group_manager", "officer")
    if not may_see_private(principal, row["lad_codes"], row["managers"]):
        if principal.role == "officer":
            raise Forbidden(
                f"this key acts in {', '.join(principal.lad_codes)}; the group's area lies in "
                f"{', '.join(row['lad_codes'])}"
            )
        raise Forbidden("only the group's managers, its districts' officers and admins may")


async def sender_limits(
    conn: AsyncConnection, fingerprint: str, statement: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Lock a sender's fingerprint (its parallel requests queue, so none slips past a limit)
    and read its counts in a limit's windows with ``statement`` (``groups/*_limits.sql``)."""
    await conn.execute(read_sql("geo", "groups/sender_lock.sql"), {"fingerprint": fingerprint})
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", statement), {"fingerprint": fingerprint, **params})
        limits = await cur.fetchone()
    assert limits is not None
    return limits


def require_free_slot(
    used: int, allowed: int, detail: str, now: datetime, taken_at: datetime, window: timedelta
) -> None:
    """Raise TooManyRequests when ``used`` slots of ``allowed`` in a rolling ``window`` are
    taken, saying when the one taken at ``taken_at`` leaves it."""
    if used >= allowed:
        raise TooManyRequests(detail, retry_after=retry_after_seconds(now, taken_at, window))


def retry_after_seconds(now: datetime, taken_at: datetime, window: timedelta) -> int:
    """Seconds until a slot taken at ``taken_at`` leaves a window of ``window``."""
    return max(1, math.ceil((taken_at + window - now).total_seconds()))
