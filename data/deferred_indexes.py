"""Indexes and constraints a bulk write into empty tables drops first and makes again after.

One sorted build after the rows costs far less than an insert per row into each index: England's
66,599 LSOA boundaries went into ``lsoa`` with its seven indexes in 2.1 s, and with its key alone
in 0.6 s, the other six then built in 0.7 s. A foreign key added to a filled table is checked
by one join instead of one query per row. Only tables a write finds empty qualify (a first
load): within the write's transaction nobody else sees the tables without their indexes (a
reader of one of them waits for the commit; it had nothing to read), and a reload, which
changes few rows, keeps every index so that readers go on using it.

Three writes use this: the boundaries and the serving tables of the foundation load
(``data/foundation/write.py``), the LSOAs of the coverage base (``data/coverage_base.py``)
and the H3 grid (``data/h3_grid.py``, whose keys it also drops).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql

from geo.sqlfiles import read_sql

# maintenance_work_mem for the builds, for the rest of the write's transaction (the server's
# default, 64 MB, spills the sort of England's 1.4 million H3 cells to disk).
BUILD_MEMORY = "256MB"


@dataclass(frozen=True)
class Deferred:
    """An index or constraint of ``table``, with what makes it again (``definition``).

    ``kind``: a plain index (``CREATE INDEX ...``), a primary key (its ``CREATE UNIQUE INDEX``,
    then ``ADD CONSTRAINT ... PRIMARY KEY USING INDEX``) or another constraint (its
    ``pg_get_constraintdef``, e.g. a foreign key).
    """

    table: str
    name: str
    definition: str
    kind: Literal["index", "primary key", "constraint"]

    def drop(self) -> sql.Composed:
        """The statement that drops it."""
        if self.kind == "index":
            return sql.SQL("DROP INDEX {}").format(sql.Identifier(self.name))
        return sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(self.table), sql.Identifier(self.name)
        )

    def make(self) -> list[sql.SQL | sql.Composed]:
        """The statements that make it again, as it was (same name and definition)."""
        table, name = sql.Identifier(self.table), sql.Identifier(self.name)
        if self.kind == "constraint":
            return [
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    table, name, sql.SQL(self.definition)
                )
            ]
        made: list[sql.SQL | sql.Composed] = [sql.SQL(self.definition)]
        if self.kind == "primary key":
            made.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
                    table, name, name
                )
            )
        return made


def empty_tables(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> list[str]:
    """Those of ``tables`` that hold no row."""
    empty = []
    for table in tables:
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
        if not bool((cur.fetchone() or (True,))[0]):
            empty.append(table)
    return empty


def secondary_indexes(cur: psycopg.Cursor[Any], tables: Sequence[str]) -> list[Deferred]:
    """The indexes of those of ``tables`` that are empty, but for the keys and unique
    constraints (which the write itself may need: ``ON CONFLICT``, its own checks)."""
    empty = empty_tables(cur, tables)
    if not empty:
        return []
    cur.execute(read_sql("data", "deferred_indexes/secondary.sql"), {"tables": empty})
    return [Deferred(table, name, definition, "index") for table, name, definition in cur]


def drop(cur: psycopg.Cursor[Any], deferred: Sequence[Deferred]) -> None:
    """Drop ``deferred`` (and give the builds that follow their memory)."""
    if deferred:
        cur.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
    for item in deferred:
        cur.execute(item.drop())


def make_again(cur: psycopg.Cursor[Any], deferred: Sequence[Deferred]) -> None:
    """Make each of ``deferred`` again, after the rows."""
    for item in deferred:
        for statement in item.make():
            cur.execute(statement)


@contextmanager
def built_after_rows(cur: psycopg.Cursor[Any], deferred: Sequence[Deferred]) -> Iterator[None]:
    """Drop ``deferred`` for the block's writes and make each again after them.

    On an error the block's transaction rolls back, dropped indexes included.
    """
    drop(cur, deferred)
    yield
    make_again(cur, deferred)
