"""Daily housekeeping against the real demo database: each job once a day, one process at a
time, a failing job not stopping the others, and the service's checker retrying failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import AsyncConnection

from app.db import create_pool
from app.housekeeping import LOCK_KEY, Housekeeper, Job, daily_jobs, run_daily_jobs
from app.http import today_utc
from app.main import create_app
from config.settings import DatabaseSettings
from geo import coverage
from tests.utils import factories
from tests.utils.service import service_settings

pytestmark = pytest.mark.anyio

DAY = date(2031, 6, 2)  # a day no other test uses, so "done today" starts false


@pytest.fixture(autouse=True)
def coverage_as_of_today(settings: DatabaseSettings) -> Iterator[None]:
    """Leave coverage as the other tests expect it: computed today, no snapshot of DAY."""
    yield

    async def restore(aconn: AsyncConnection) -> None:
        await coverage.refresh_all(aconn, as_of=today_utc())
        await aconn.execute("DELETE FROM coverage_snapshot WHERE taken_on = %s", (DAY,))

    factories.run(settings.dsn, restore)


async def _connect(settings: DatabaseSettings) -> AsyncConnection:
    return await AsyncConnection.connect(settings.dsn, autocommit=True)


async def test_each_job_runs_once_a_day(settings: DatabaseSettings) -> None:
    conn = await _connect(settings)
    try:
        ran, failed = await run_daily_jobs(conn, DAY, daily_jobs(12))
        assert failed == []
        assert ran == ["asset deadlines", "coverage", "coverage snapshot"]
        cur = await conn.execute("SELECT min(as_of), max(as_of) FROM lsoa_coverage")
        assert await cur.fetchone() == (DAY.isoformat(), DAY.isoformat())
        cur = await conn.execute(
            "SELECT scope, count(*) FROM coverage_snapshot WHERE taken_on = %s GROUP BY scope"
            " ORDER BY scope",
            (DAY,),
        )
        counts = dict(await cur.fetchall())
        assert counts["england"] == 1 and counts["lad"] >= 4  # the demo's four districts
        # The same day again: only the cheap, idempotent deadline pass runs.
        again, failed = await run_daily_jobs(conn, DAY, daily_jobs(12))
        assert (again, failed) == (["asset deadlines"], [])
    finally:
        await conn.close()


async def test_one_process_at_a_time(settings: DatabaseSettings) -> None:
    holder = await _connect(settings)
    conn = await _connect(settings)
    try:
        await holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        assert await run_daily_jobs(conn, DAY, daily_jobs(12)) == ([], [])
        await holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        ran, _ = await run_daily_jobs(conn, DAY, daily_jobs(12))
        assert "asset deadlines" in ran
    finally:
        await holder.close()
        await conn.close()


async def test_a_failing_job_rolls_back_alone_and_is_retried(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    async def never(conn: AsyncConnection, day: date) -> bool:
        return False

    async def breaks(conn: AsyncConnection, day: date) -> object:
        await conn.execute("UPDATE data_version SET version = version + 1000000 WHERE id = 1")
        raise RuntimeError("disk on fire")

    async def works(conn: AsyncConnection, day: date) -> object:
        return None

    jobs = (Job("breaks", never, breaks), Job("works", never, works))
    version = conn.execute("SELECT version FROM data_version").fetchone()
    calls = {"n": 0}

    def today() -> date:
        calls["n"] += 1
        return DAY

    pool = create_pool(settings)
    await pool.open()
    try:
        keeper = Housekeeper(pool, jobs, today=today)
        assert await keeper.check() == ["works"]
        # The failed job's write was rolled back; the day is not marked done, so it retries.
        assert conn.execute("SELECT version FROM data_version").fetchone() == version
        assert keeper.done_for is None
        assert await keeper.check() == ["works"]
        keeper.jobs = (Job("works", never, works),)
        assert await keeper.check() == ["works"] and keeper.done_for == DAY
        assert await keeper.check() == []  # done for the day in this process
        assert calls["n"] == 4
    finally:
        await pool.close()


def test_the_service_starts_and_stops_its_housekeeper(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    """With the lock held elsewhere the service's first check finds the work taken: the
    wiring is exercised and nothing is written under the other tests' feet."""
    version = conn.execute("SELECT version FROM data_version").fetchone()
    with psycopg.connect(settings.dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with TestClient(create_app(service_settings(settings, housekeeping=True))) as client:
            keeper = client.app.state.housekeeper  # type: ignore[attr-defined]
            assert isinstance(keeper, Housekeeper)
            deadline = time.monotonic() + 30
            while keeper.done_for is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert keeper.done_for == today_utc()
        assert keeper._task is not None and keeper._task.done()
    assert conn.execute("SELECT version FROM data_version").fetchone() == version
