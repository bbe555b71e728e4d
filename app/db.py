"""The process's connection pool and the ``DbDep`` dependency that lends a connection."""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from psycopg import AsyncConnection, DataError, OperationalError
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from config.settings import DatabaseSettings
from geo.errors import DatabaseUnavailable, InvalidInput

# A connection returned to the pool less than this long ago is lent again without a check
# round trip (as HikariCP's aliveness bypass does); one idle for longer is checked first, so
# connections a database restart broke are replaced before a request gets them. The check is
# one round trip per request otherwise (estimated at 0.1-0.15 ms here by profiling the
# eligibility checks; the eligibility benchmark's all-open click went from 3.93-5.04 ms to
# 4.13 ms p50 with it, within run-to-run noise).
CHECK_BYPASS_SECONDS = 1.0


class RecentUseCheck:
    """The pool's check: a round trip only for connections not used in the last moment."""

    def __init__(
        self,
        bypass_seconds: float = CHECK_BYPASS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bypass_seconds = bypass_seconds
        self.clock = clock
        self._returned: weakref.WeakKeyDictionary[AsyncConnection, float] = (
            weakref.WeakKeyDictionary()
        )

    async def returned(self, conn: AsyncConnection) -> None:
        """Note when a connection came back to the pool (the pool's ``reset`` callback)."""
        self._returned[conn] = self.clock()

    async def check(self, conn: AsyncConnection) -> None:
        """Check a connection about to be lent, unless it came back a moment ago.

        Raises whatever the check round trip raises (the pool then discards the connection).
        """
        came_back = self._returned.get(conn)
        if came_back is not None and self.clock() - came_back < self.bypass_seconds:
            return
        await AsyncConnectionPool.check_connection(conn)


def create_pool(settings: DatabaseSettings) -> AsyncConnectionPool:
    """Build (but do not open) the pool; autocommit, with a statement timeout per session."""

    async def configure(conn: AsyncConnection) -> None:
        await conn.execute(f"SET statement_timeout = {int(settings.statement_timeout_ms)}")

    recent = RecentUseCheck()
    return AsyncConnectionPool(
        settings.dsn,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        kwargs={"autocommit": True, "application_name": "platoons"},
        configure=configure,
        check=recent.check,
        reset=recent.returned,
        timeout=settings.pool_timeout_seconds,
        open=False,
        name="platoons",
    )


async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """Lend a pooled connection for one request; a database outage becomes a 503."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection() as conn:
            yield conn
    except (PoolTimeout, OperationalError) as exc:
        raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
    except (DataError, UnicodeEncodeError) as exc:
        # Text PostgreSQL cannot hold (NUL, refused by psycopg before sending; an unpaired
        # UTF-16 surrogate, which has no UTF-8 form) is the caller's bad input, not a 500.
        if isinstance(exc, DataError) and exc.sqlstate not in (None, "22021", "22P05"):
            raise
        raise InvalidInput(
            "text contains a character that cannot be stored (NUL or an unpaired surrogate)"
        ) from exc


DbDep = Annotated[AsyncConnection, Depends(connection)]

# A connection borrowed inside a handler only when needed (a tile on a cache miss), not
# through DbDep, which checks one out for every request, 304s and cache hits included.
lend_connection = asynccontextmanager(connection)
