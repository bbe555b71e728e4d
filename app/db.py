"""The process's connection pool and the ``DbDep`` dependency that lends a connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from psycopg import AsyncConnection, DataError, OperationalError
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from app.settings import DatabaseSettings
from geo.errors import DatabaseUnavailable, InvalidInput


def create_pool(settings: DatabaseSettings) -> AsyncConnectionPool:
    """Build (but do not open) the pool; autocommit, with a statement timeout per session."""

    async def configure(conn: AsyncConnection) -> None:
        await conn.execute(f"SET statement_timeout = {int(settings.statement_timeout_ms)}")

    return AsyncConnectionPool(
        settings.dsn,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        kwargs={"autocommit": True, "application_name": "platoons"},
        configure=configure,
        check=AsyncConnectionPool.check_connection,
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
