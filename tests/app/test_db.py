"""The connection pool's check: skipped for a connection used a moment ago, made otherwise."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import AsyncConnection

from app.db import RecentUseCheck
from config.settings import DatabaseSettings

pytestmark = pytest.mark.anyio


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_broken_connection_is_caught_once_the_bypass_window_has_passed(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    clock = Clock()
    check = RecentUseCheck(bypass_seconds=1.0, clock=clock)
    lent = await AsyncConnection.connect(settings.dsn, autocommit=True)
    try:
        await check.check(lent)  # never seen: checked, and alive
        await check.returned(lent)
        # The backend dies (a database restart, say) just after the connection came back.
        conn.execute("SELECT pg_terminate_backend(%s)", (lent.info.backend_pid,))
        clock.now += 0.5
        await check.check(lent)  # within the window: lent without a round trip
        clock.now += 0.6
        with pytest.raises(psycopg.OperationalError):
            await check.check(lent)  # idle longer: checked, and the pool would discard it
    finally:
        await lent.close()


async def test_a_connection_returned_long_ago_is_checked(settings: DatabaseSettings) -> None:
    clock = Clock()
    check = RecentUseCheck(bypass_seconds=1.0, clock=clock)
    async with await AsyncConnection.connect(settings.dsn, autocommit=True) as lent:
        await check.returned(lent)
        clock.now += 5
        await check.check(lent)
        # The check left the connection idle and usable.
        assert (await (await lent.execute("SELECT 1")).fetchone()) == (1,)
