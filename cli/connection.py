"""Async domain code run from a command: one connection, one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

from cli.console import fail
from config.settings import DatabaseSettings
from geo.errors import PlatoonsError

T = TypeVar("T")


def with_connection(work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    """Run async domain code on one connection, in one transaction; domain errors exit 1."""

    async def run() -> T:
        async with await psycopg.AsyncConnection.connect(DatabaseSettings().dsn) as conn:
            async with conn.transaction():
                return await work(conn)

    try:
        return asyncio.run(run())
    except PlatoonsError as exc:
        raise fail(exc.message) from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database: {exc}") from exc
