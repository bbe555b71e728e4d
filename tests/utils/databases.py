"""Throwaway databases on the test server: dropped and created from its 'postgres' database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.abc import Params
from sqlalchemy.engine import make_url

from config.settings import DatabaseSettings

# The tables a foundation load writes: those data/sql/foundation/clear_foundation.sql empties
# and those it derives from them (the serving tables, the populations by edition).
FOUNDATION_TABLES = (
    "lad",
    "ward",
    "lsoa",
    "lsoa_2011_2021",
    "index_edition",
    "index_domain",
    "lsoa_index_value",
    "lsoa_population_denominator",
    "lsoa_population_estimate",
    "lad_summary_measure",
    "lad_published_measure",
    "postcode",
    "lsoa_deprivation",
    "lad_deprivation",
    "lsoa_population",
)


# The groups register's own tables (a group, its managers, activity, ratings, messages and its
# map row): among those a group write could touch.
GROUP_REGISTER_TABLES = (
    "community_group",
    "group_manager",
    "group_activity",
    "group_rating",
    "group_message",
    "group_serving",
)


# What :func:`schema_description` reads: the public schema's columns, constraints, indexes,
# triggers, functions (not extensions'), views and storage options.
SCHEMA_QUERIES = {
    "columns": (
        "SELECT table_name, ordinal_position, column_name, data_type, udt_name, is_nullable,"
        " column_default, is_identity FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY 1, 2"
    ),
    "constraints": (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'public' ORDER BY 1, 2"
    ),
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "triggers": (
        "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
        " WHERE NOT tgisinternal ORDER BY 1, 2"
    ),
    "functions": (
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prosrc FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace LEFT JOIN pg_depend d"
        " ON d.objid = p.oid AND d.deptype = 'e'"
        " WHERE n.nspname = 'public' AND d.objid IS NULL ORDER BY 1, 2"
    ),
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    "options": (
        "SELECT c.relname, c.reloptions::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.reloptions IS NOT NULL ORDER BY 1"
    ),
}


def schema_description(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Return the public schema's columns, constraints, indexes, triggers, functions, views."""
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(query).fetchall() for name, query in SCHEMA_QUERIES.items()}


def one_row(
    conn: psycopg.Connection, query: str | sql.Composed, params: Params | None = None
) -> tuple[Any, ...]:
    """The first row ``query`` returns, asserted to be there."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row


def table_digest(conn: psycopg.Connection, table: str) -> tuple[int, str]:
    """A table's row count and a digest of its rows (in no order): equal when nothing changed."""
    row = one_row(
        conn,
        sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)),"
            " '')) FROM {} t"
        ).format(sql.Identifier(table)),
    )
    return int(row[0]), str(row[1])


def recreate_database(url: str, *, create: bool = True) -> None:
    """Drop the database of ``url`` (closing its connections), then create it again unless not."""
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        name = sql.Identifier(parsed.database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


@contextmanager
def throwaway_database(settings: DatabaseSettings, suffix: str) -> Iterator[str]:
    """A new, empty database beside ``settings``' one (``<its name>_<suffix>``), dropped after.

    Yields its URL. Named from the test database, so helpers working side by side, each with
    its own PLATOONS_DATABASE_URL, never share one.
    """
    url = make_url(settings.dsn)
    url = url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)
    recreate_database(url)
    try:
        yield url
    finally:
        recreate_database(url, create=False)
