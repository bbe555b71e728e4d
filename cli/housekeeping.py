"""``platoons housekeeping``: today's daily jobs, for cron where the service does not run them."""

from __future__ import annotations

import asyncio

import psycopg

from cli.console import console, fail
from config.settings import DatabaseSettings, GroupSettings


def housekeeping() -> None:
    """Run today's daily jobs (deadlines, coverage, snapshot) that are not done yet, for cron."""
    from app.housekeeping import daily_jobs, run_daily_jobs  # FastAPI: only for this command
    from app.http import today_utc

    async def run() -> tuple[list[str], list[str]]:
        url = DatabaseSettings().dsn
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            jobs = daily_jobs(GroupSettings().group_active_months)
            return await run_daily_jobs(conn, today_utc(), jobs)

    try:
        ran, failed = asyncio.run(run())
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database: {exc}") from exc
    console.print(f"ran: {', '.join(ran) or 'nothing (done today, or another process runs it)'}")
    if failed:
        raise fail(f"failed: {', '.join(failed)} (see the log)")
