"""Daily housekeeping: what changes with the calendar rather than with a write.

A statutory deadline passes with no step taken (the assets layer's next deadline must move
on); a group's last activity slips out of the 12-month window (coverage must shrink); and
officials want one coverage snapshot a day for the trend. The service runs these once per UTC
day, shortly after it starts and then at the first check after midnight. However many
processes start (``--workers N``, several hosts, cron), each job runs once a day: a job claims
its day with a ``housekeeping_run`` row inserted in the transaction that does the work (a
second claimant waits, then conflicts and skips; a rolled-back job leaves no claim, so it is
retried), and a PostgreSQL advisory lock keeps the other processes from queuing on that row.
``platoons housekeeping`` runs the same jobs from cron instead, with
``PLATOONS_HOUSEKEEPING=false`` on the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from app.background import cancel_and_wait
from app.http import today_utc
from geo import assets, coverage
from geo.planning import serving as planning_serving

logger = logging.getLogger("platoons.housekeeping")

# pg_try_advisory_lock key: one housekeeper at a time across every process on the database.
LOCK_KEY = 0x504C54_484B  # "PLT" "HK"
# The claim: inserted first in a job's transaction; nothing returned means another process
# did the job for that day (its row is committed) and this one skips it.
CLAIM_SQL = (
    "INSERT INTO housekeeping_run (day, job, ran_by, did_work) VALUES (%s, %s, %s, false)"
    " ON CONFLICT (day, job) DO NOTHING RETURNING job"
)
WORKED_SQL = (
    "UPDATE housekeeping_run SET did_work = true, finished_at = now() WHERE day = %s AND job = %s"
)


def process_name() -> str:
    """This process as ``host:pid``, recorded with each job it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Job:
    """One daily job: whether ``day`` is done already, and how to do it."""

    name: str
    done: Callable[[AsyncConnection, date], Awaitable[bool]]
    run: Callable[[AsyncConnection, date], Awaitable[object]]


async def _never_done(conn: AsyncConnection, day: date) -> bool:
    return False


def daily_jobs(active_months: int) -> tuple[Job, ...]:
    """The jobs, in order: deadlines, then coverage, then the snapshot of that coverage."""

    async def recompute(conn: AsyncConnection, day: date) -> object:
        # Only the activity window moved: every write and every load keeps the areas' pieces
        # cut by the LSOAs current, so they are not cut again (coverage.refresh_all).
        return await coverage.refresh_all(conn, as_of=day, active_months=active_months, recut=False)

    async def snapshot(conn: AsyncConnection, day: date) -> object:
        return await coverage.take_snapshot(conn, day, actor="housekeeping")

    return (
        # Cheap and idempotent: only rows whose stored deadline has passed are rewritten.
        Job("asset deadlines", _never_done, assets.refresh_passed_deadlines),
        Job("planning deadlines", _never_done, planning_serving.refresh_passed_deadlines),
        Job("coverage", coverage.computed_since, recompute),
        Job("coverage snapshot", coverage.snapshot_taken, snapshot),
    )


async def run_daily_jobs(
    conn: AsyncConnection, day: date, jobs: tuple[Job, ...]
) -> tuple[list[str], list[str]]:
    """Run the jobs not yet claimed for ``day`` if no other process holds the lock.

    ``conn`` is in autocommit mode; each job commits on its own, with its claim, so a failure
    leaves the others' work in place and its own day unclaimed. Returns the names of the jobs
    run and of those that failed (logged); none of either when another process holds the lock
    or every job's day is claimed already.
    """
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
    locked = await cur.fetchone()
    if not (locked and locked[0]):
        return [], []
    ran: list[str] = []
    failed: list[str] = []
    try:
        for job in jobs:
            try:
                async with conn.transaction():
                    # A national recompute outlasts the service's per-request timeout.
                    await conn.execute("SET LOCAL statement_timeout = '15min'")
                    claim = await conn.execute(CLAIM_SQL, (day, job.name, process_name()))
                    if await claim.fetchone() is None or await job.done(conn, day):
                        continue
                    await job.run(conn, day)
                    await conn.execute(WORKED_SQL, (day, job.name))
                ran.append(job.name)
            except Exception:
                logger.exception("housekeeping job %r failed for %s", job.name, day)
                failed.append(job.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    if ran:
        logger.info("housekeeping for %s: %s", day, ", ".join(ran))
    return ran, failed


class Housekeeper:
    """Runs the daily jobs in the service: at start, then at the first check of each new day."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        jobs: tuple[Job, ...],
        check_seconds: float = 600.0,
        today: Callable[[], date] = today_utc,
    ) -> None:
        self.pool = pool
        self.jobs = jobs
        self.check_seconds = check_seconds
        self.today = today
        self.done_for: date | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start checking in the background (the service's lifespan calls this)."""
        self._task = asyncio.create_task(self._loop(), name="platoons-housekeeping")

    async def stop(self) -> None:
        """Stop checking; a job in progress is cancelled and rolls back."""
        await cancel_and_wait(self._task)

    async def check(self) -> list[str]:
        """Run today's jobs unless this process already saw them done (failures retry)."""
        day = self.today()
        if self.done_for == day:
            return []
        async with self.pool.connection() as conn:  # the pool's connections autocommit
            ran, failed = await run_daily_jobs(conn, day, self.jobs)
        if not failed:
            self.done_for = day
        if not ran and not failed:
            logger.info("housekeeping checked for %s: nothing to run here", day)
        return ran

    async def _loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # the database may be down; try again at the next check
                logger.warning("housekeeping could not run; will retry", exc_info=True)
            await asyncio.sleep(self.check_seconds)
