"""Read the SQL files that live next to the code that runs them."""

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row


@cache
def read_sql(package: str, name: str) -> str:
    """Return the text of ``<package>/sql/<name>``, read once per process.

    ``name`` is ``<concern>/<file>.sql``: each concern's SQL lives in a sub-folder of its own.
    """
    return files(package).joinpath("sql", *name.split("/")).read_text(encoding="utf-8")


async def fetch_one_row(
    conn: AsyncConnection, name: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """Run the packaged query ``geo/sql/<name>`` and return its first row as a dict (or None)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", name), params)
        return await cur.fetchone()


async def fetch_rows(
    conn: AsyncConnection,
    query: str | sql.SQL | sql.Composed,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run ``query`` (SQL text, or a statement composed with psycopg.sql) and return its rows
    as dicts."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return list(await cur.fetchall())
