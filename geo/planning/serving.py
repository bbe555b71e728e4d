"""The neighbourhood areas' map layer: each area's stage, forum, plan and next deadline.

Every planning write rewrites its area's row of ``serving.neighbourhood_area`` in its own
transaction and bumps the data version (tiles and caches key on it); a daily job moves on the
next deadline of areas whose stored one has passed.
"""

from __future__ import annotations

from datetime import date

from psycopg import AsyncConnection

from geo.planning import rules
from geo.planning.reads import all_deadlines, forum_of, plan_of, stage_of
from geo.planning.steps import area_row, forum_rows, plan_rows, sql
from geo.sqlfiles import read_sql


async def refresh_serving(conn: AsyncConnection, area_id: int, on: date) -> None:
    """Rewrite the area's map feature (stage, next deadline) and bump the data version."""
    row = await area_row(conn, area_id)
    stored_forums, stored_plans = await forum_rows(conn, area_id), await plan_rows(conn, area_id)
    forums = [forum_of(f, on) for f in stored_forums]
    plans = [plan_of(p, on) for p in stored_plans]
    every = [d for _, _, d in all_deadlines(row, stored_forums, stored_plans)]
    upcoming = rules.next_deadline(every, on)
    forum = forums[-1] if forums else None
    plan = plans[-1] if plans else None
    await conn.execute(
        sql("serving_upsert"),
        {
            "id": area_id,
            "forum_reference": None if forum is None else forum.reference,
            "forum_status": None if forum is None else forum.status,
            "plan_reference": None if plan is None else plan.reference,
            "plan_status": None if plan is None else plan.status,
            "stage": stage_of(row, forums, plans),
            "next_deadline": None if upcoming is None else upcoming.ends.isoformat(),
            "next_deadline_kind": None if upcoming is None else upcoming.kind,
        },
    )
    await conn.execute(read_sql("geo", "tiles/bump_data_version.sql"))


async def refresh_passed_deadlines(conn: AsyncConnection, on: date) -> int:
    """Move the map layer's next deadline on for areas whose stored one has passed by ``on``.

    Run daily by the service (app/housekeeping.py), like the assets' deadlines. A passed
    deadline with nothing after it stays shown (overdue) and is rewritten only once a day.
    Returns the rows rewritten.
    """
    async with conn.transaction():
        cur = await conn.execute(sql("serving_passed"), {"day": on.isoformat()})
        stale = [int(fid) for (fid,) in await cur.fetchall()]
        for area_id in stale:
            await refresh_serving(conn, area_id, on)
    return len(stale)
