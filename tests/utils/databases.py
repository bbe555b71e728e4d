"""Throwaway databases on the test server: dropped and created from its 'postgres' database."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def recreate_database(url: str, *, create: bool = True) -> None:
    """Drop the database of ``url`` (closing its connections), then create it again unless not."""
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        name = sql.Identifier(parsed.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
