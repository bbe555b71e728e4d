"""What data the service holds now: editions, districts, source files and registers.

The front page tells a person what they are looking at: which index editions, for which
districts (or all England), loaded when from which published files under which licences, and
which registers hold real entries and which illustrative (example or synthetic) ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from pydantic import BaseModel

from geo.sqlfiles import fetch_rows, read_sql

ALL_ENGLAND_SHARE = 0.99  # an edition holding 99% of England's LSOAs is "all England"


class EditionLoaded(BaseModel):
    """An index edition and how much of England it holds."""

    code: str
    title: str
    published: str
    is_current: bool
    lsoas: int
    national_lsoa_count: int
    districts: int

    @property
    def is_all_england(self) -> bool:
        """Whether (nearly) every LSOA of England is loaded."""
        return self.lsoas >= ALL_ENGLAND_SHARE * self.national_lsoa_count


class SourceLoaded(BaseModel):
    """One published file loaded, as ``dataset_load`` records it."""

    dataset: str
    source_file: str
    publisher: str
    licence: str
    attribution: str
    row_count: int
    loaded_at: datetime


class RegisterCount(BaseModel):
    """Entries of a register from one source, illustrative (example/synthetic) or real."""

    register_name: str
    source: str
    is_illustrative: bool
    entries: int


class LoadedData(BaseModel):
    """Everything the front page says about the data."""

    editions: list[EditionLoaded]
    districts: list[tuple[str, str]]
    sources: list[SourceLoaded]
    registers: list[RegisterCount]


async def _rows(conn: AsyncConnection, name: str) -> list[dict[str, Any]]:
    return await fetch_rows(conn, read_sql("geo", f"overview/{name}.sql"))


async def loaded_data(conn: AsyncConnection) -> LoadedData:
    """The editions, districts, source files and registers loaded now."""
    return LoadedData(
        editions=[EditionLoaded.model_validate(r) for r in await _rows(conn, "editions")],
        districts=[(str(r["code"]), str(r["name"])) for r in await _rows(conn, "districts")],
        sources=[SourceLoaded.model_validate(r) for r in await _rows(conn, "sources")],
        registers=[RegisterCount.model_validate(r) for r in await _rows(conn, "registers")],
    )
