"""Place names for the maps: districts and wards at a point inside each, from data we hold.

The maps write these names as text in the page (not into tiles), so a screen reader and the
browser's find read them, and no base map is needed to tell Stretford from Sale.
"""

from __future__ import annotations

from typing import Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from geo.areas import find_edition
from geo.crs import clip_to_england, require_point_in_england
from geo.errors import InvalidInput, PointOutsideCoverage
from geo.sqlfiles import read_sql

Level = Literal["district", "ward"]
MAX_LABELS = 400
LABEL_DECIMALS = 5  # about a metre: a label's place needs no more


class PlaceLabel(BaseModel):
    """A place's name and where to write it (EPSG:4326)."""

    code: str = Field(examples=["E08000009"])
    name: str = Field(examples=["Trafford"])
    lon: float
    lat: float


class PlaceLabels(BaseModel):
    """The names to write on a map for one level of geography."""

    level: Level
    labels: list[PlaceLabel]


def parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    """A ``west,south,east,north`` box in degrees, clipped to England; InvalidInput if not one.

    None where the box has no area inside England, a box whose minimum is not below its
    maximum included: as for the groups' ``bbox``, what JSON Schema cannot say of four
    numbers is not a refusal, and such a box meets no place.
    """
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput(
            f"bbox {text!r} is not west,south,east,north in degrees", parameter="bbox"
        ) from None
    return clip_to_england((west, south, east, north))


async def place_labels(
    conn: AsyncConnection, level: Level, bbox: tuple[float, float, float, float] | None
) -> list[PlaceLabel]:
    """The names of the districts or wards (current edition's geography) meeting ``bbox``.

    None (a box outside England, as ``parse_bbox`` gives it) meets none.
    """
    if bbox is None:
        return []
    west, south, east, north = bbox
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", f"labels/{level}s.sql"),
            {"west": west, "south": south, "east": east, "north": north, "limit": MAX_LABELS},
        )
        rows = await cur.fetchall()
    return [
        PlaceLabel(
            code=r["code"],
            name=r["name"],
            lon=round(r["lon"], LABEL_DECIMALS),
            lat=round(r["lat"], LABEL_DECIMALS),
        )
        for r in rows
    ]


class LsoaName(BaseModel):
    """The LSOA under a point, for the maps' hover label; null outside the loaded LSOAs."""

    code: str | None = Field(examples=["E01006142"])
    name: str | None = Field(examples=["Trafford 011A"])


async def lsoa_name_at(
    conn: AsyncConnection, lon: float, lat: float, edition: str | None
) -> LsoaName:
    """The LSOA of an edition's geography under a point, or nulls where there is none.

    A pointer resting outside the loaded LSOAs is not an error for a hover label, so nothing
    here answers 404 (unlike ``/lookup``). Raises EditionNotFound for an unknown edition.
    """
    found = await find_edition(conn, edition)
    try:
        require_point_in_england(lon, lat)  # nor then inside British National Grid
    except PointOutsideCoverage:
        return LsoaName(code=None, name=None)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "labels/lsoa_at_point.sql"),
            {"vintage": found.lsoa_vintage, "lon": lon, "lat": lat},
        )
        row = await cur.fetchone()
    if row is None:
        return LsoaName(code=None, name=None)
    return LsoaName(code=row["code"], name=row["name"])
