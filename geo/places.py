"""Resolve what a user points at (a click, a postcode, a GSS code, a drawn polygon) to an area.

The result is the area's LSOAs in an edition's geography, each with the fraction of it inside
the area (1 unless a polygon cuts it), its residents and index values: the facts eligibility
rules are evaluated on. Polygons are validated here (GeoJSON, valid, polygonal, in range,
size-limited) and all area maths is done in EPSG:27700.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import shapely
import shapely.geometry
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict
from pyproj import Transformer

from geo.eligibility import AreaFacts, LsoaFacts
from geo.errors import InvalidInput, NotFound, PointOutsideCoverage
from geo.models import EditionRef
from geo.postcodes import normalise_postcode
from geo.sqlfiles import read_sql

MAX_POLYGON_VERTICES = 5_000
MAX_POLYGON_AREA_KM2 = 1_000.0
MAX_GEOJSON_BYTES = 1_000_000
LSOA_CODE = re.compile(r"^E01[0-9]{6}$")
WARD_CODE = re.compile(r"^E05[0-9]{6}$")
LAD_CODE = re.compile(r"^E0[6-9][0-9]{6}$")
Level = Literal["lsoa", "ward", "lad"]
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


class PostcodeNotCovered(NotFound):
    """The postcode is well formed but not in the postcode data we hold."""

    title = "Postcode not covered"


@dataclass(frozen=True)
class Place:
    """What the user gave: exactly one of a point, a postcode, a GSS code or a polygon."""

    lon: float | None = None
    lat: float | None = None
    postcode: str | None = None
    code: str | None = None
    geometry: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        given = [
            self.lon is not None,
            self.postcode is not None,
            self.code is not None,
            self.geometry is not None,
        ]
        if sum(given) != 1:
            raise InvalidInput("give exactly one of lon/lat, postcode, area or a GeoJSON geometry")
        if (self.lon is None) != (self.lat is None):
            raise InvalidInput("lon and lat go together", parameter="lat")


class AssessedArea(BaseModel):
    """The area an answer is about."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["lsoa", "ward", "lad", "polygon"]
    code: str | None
    name: str | None
    lsoa_count: int
    residents: float
    area_km2: float | None = None
    population_method: str


def polygon_in_bng(geometry: dict[str, Any]) -> tuple[shapely.Geometry, float]:
    """Validate a GeoJSON polygon/multipolygon in lon/lat; return it in EPSG:27700 and km2.

    Raises
    ------
    InvalidInput
        If it is not a valid, non-empty (multi)polygon of finite lon/lat coordinates within
        the vertex and area limits.
    """
    if len(json.dumps(geometry)) > MAX_GEOJSON_BYTES:
        raise InvalidInput(
            f"geometry larger than {MAX_GEOJSON_BYTES:,} bytes", parameter="geometry"
        )
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            "geometry must be a GeoJSON Polygon or MultiPolygon", parameter="geometry"
        )
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad GeoJSON
        raise InvalidInput(f"malformed GeoJSON geometry: {exc}", parameter="geometry") from exc
    if shape.is_empty:
        raise InvalidInput("geometry is empty", parameter="geometry")
    coordinates = shapely.get_coordinates(shape)
    if len(coordinates) > MAX_POLYGON_VERTICES:
        raise InvalidInput(
            f"geometry has {len(coordinates):,} vertices; at most {MAX_POLYGON_VERTICES:,}",
            parameter="geometry",
        )
    if not all(math.isfinite(v) for v in coordinates.ravel()):
        raise InvalidInput("coordinates must be finite numbers", parameter="geometry")
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    if lon.min() < -180 or lon.max() > 180 or lat.min() < -90 or lat.max() > 90:
        raise InvalidInput(
            "coordinates must be longitude, latitude (EPSG:4326)", parameter="geometry"
        )
    if not shape.is_valid:
        raise InvalidInput(
            f"invalid geometry: {shapely.is_valid_reason(shape)}", parameter="geometry"
        )
    projected = shapely.transform(shape, _TO_BNG.transform, interleaved=False)
    area_km2 = projected.area / 1e6
    if area_km2 > MAX_POLYGON_AREA_KM2:
        raise InvalidInput(
            f"area of {area_km2:,.0f} km² exceeds the {MAX_POLYGON_AREA_KM2:,.0f} km² limit",
            parameter="geometry",
        )
    return projected, area_km2


async def resolve(
    conn: AsyncConnection,
    place: Place,
    edition: EditionRef,
    level: Level,
    lsoa_code: str | None = None,
) -> tuple[AssessedArea, AreaFacts]:
    """Resolve a place to the area a programme at ``level`` assesses, with its facts.

    A click or postcode stands for the LSOA it falls in, widened to its ward or district
    for ward- and district-level programmes; a code names its own unit (an LSOA code is
    widened likewise); a polygon is assessed as drawn. ``lsoa_code`` is :func:`lsoa_of` the
    place, when the caller has it already.
    """
    params: dict[str, Any] = {
        "edition": edition.code,
        "vintage": edition.lsoa_vintage,
        "wkb": None,
        "lon": None,
        "lat": None,
        "unit_level": None,
        "unit_code": None,
    }
    kind: Literal["lsoa", "ward", "lad", "polygon"]
    code: str | None = None
    name: str | None = None
    area_km2: float | None = None
    if place.geometry is not None:
        projected, area_km2 = polygon_in_bng(place.geometry)
        params["wkb"] = shapely.to_wkb(projected)
        kind = "polygon"
    else:
        lsoa_code = lsoa_code or await lsoa_of(conn, place, edition)
        if level == "lsoa" or (place.code and not LSOA_CODE.match(place.code.upper())):
            kind, code = (level, lsoa_code) if place.code is None else _unit_kind(lsoa_code)
        else:
            row = await _one(
                conn,
                "place_unit.sql",
                {"level": level, "vintage": edition.lsoa_vintage, "lsoa": lsoa_code},
            )
            if row is None or row["code"] is None:
                raise NotFound(f"{lsoa_code} has no {level} in the {edition.code} geography")
            kind, code, name = level, row["code"], row["name"]
        params["unit_level"], params["unit_code"] = kind, code
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "place_lsoas.sql"), params)
        rows = await cur.fetchall()
    if not rows:
        if kind == "polygon":
            raise PointOutsideCoverage(
                "the polygon covers no loaded LSOA: it is outside England or outside the "
                "loaded area"
            )
        raise NotFound(f"{code} is not a loaded {kind} of the {edition.code} geography")
    lsoas = tuple(
        LsoaFacts(
            code=r["code"],
            name=r["name"],
            lad_code=r["lad_code"],
            residents=float(r["residents"]),
            fraction_in_area=min(1.0, float(r["fraction"])),
            ranks={d: v[0] for d, v in r["values"].items()},
            deciles={d: v[1] for d, v in r["values"].items()},
        )
        for r in rows
    )
    if kind == "lsoa" and name is None:
        name = lsoas[0].name
    facts = AreaFacts(lsoas=lsoas, national_lsoa_count=edition.national_lsoa_count)
    assessed = AssessedArea(
        kind=kind,
        code=code,
        name=name,
        lsoa_count=len(lsoas),
        residents=round(facts.residents, 1),
        area_km2=round(area_km2, 4) if area_km2 is not None else None,
        population_method=rows[0]["method"],
    )
    return assessed, facts


async def with_lad_measures(
    conn: AsyncConnection, facts: AreaFacts, edition: EditionRef
) -> AreaFacts:
    """Add the summary measures of the districts the area touches."""
    lads = sorted({lsoa.lad_code for lsoa in facts.lsoas})
    async with conn.cursor() as cur:
        await cur.execute(
            read_sql("geo", "lad_measures_for.sql"), {"edition": edition.code, "lads": lads}
        )
        measures = {(lad, d, m): (v, r) for lad, d, m, v, r in await cur.fetchall()}
    return AreaFacts(
        lsoas=facts.lsoas, national_lsoa_count=facts.national_lsoa_count, lad_measures=measures
    )


def _unit_kind(code: str) -> tuple[Literal["lsoa", "ward", "lad"], str]:
    """Classify a GSS code as an LSOA, ward or LAD code."""
    if LSOA_CODE.match(code):
        return "lsoa", code
    if WARD_CODE.match(code):
        return "ward", code
    if LAD_CODE.match(code):
        return "lad", code
    raise InvalidInput(
        f"{code!r} is not an LSOA (E01), ward (E05) or district (E06-E09) code", parameter="area"
    )


async def lsoa_of(conn: AsyncConnection, place: Place, edition: EditionRef) -> str:
    """The LSOA a click, postcode or code stands for (a ward/LAD code stands for itself)."""
    if place.code is not None:
        code = place.code.strip().upper()
        return _unit_kind(code)[1]
    if place.postcode is not None:
        postcode = normalise_postcode(place.postcode)
        if postcode is None:
            raise InvalidInput(f"{place.postcode!r} is not a UK postcode", parameter="postcode")
        row = await _one(
            conn, "postcode_lsoa.sql", {"postcode": postcode, "vintage": edition.lsoa_vintage}
        )
        if row is None or row["lsoa_code"] is None:
            raise PostcodeNotCovered(
                f"postcode {postcode} is not covered: the postcode data loaded covers only "
                "some areas (Trafford); use a map click or an area code instead"
            )
        return str(row["lsoa_code"])
    assert place.lon is not None and place.lat is not None
    row = await _one(
        conn,
        "lsoa_code_at_point.sql",
        {"vintage": edition.lsoa_vintage, "lon": place.lon, "lat": place.lat},
    )
    if row is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {edition.code} geography contains ({place.lon}, {place.lat}): "
            "the point is outside England or outside the loaded area"
        )
    return str(row["code"])


async def _one(conn: AsyncConnection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", query), params)
        return await cur.fetchone()
