"""Areas drawn or named by groups and organisers: validated and measured in EPSG:27700."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

import shapely
import shapely.geometry
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, Field, WithJsonSchema, field_validator

from geo.areas import find_edition
from geo.crs import ENGLAND_BOUNDS
from geo.errors import (
    AreaOutOfRange,
    AreaOutsideEngland,
    InvalidArea,
)
from geo.gss import LSOA_CODE
from geo.place_resolution import MAX_GEOJSON_BYTES, MAX_POLYGON_VERTICES
from geo.sqlfiles import read_sql

ENGLAND_SHARE_REQUIRED = 0.99


# A district counts among an area's districts (officer scope) when it holds more than 1% of
# the area or more than 0.01 km² of it; smaller pieces are slivers of generalised boundaries.
LAD_SHARE_MIN = 0.01


LAD_M2_MIN = 10_000.0


MAX_LSOA_CODES = 500


# Anywhere on Earth, as longitude and latitude (CRS84).
WORLD_BOUNDS: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)


def drawn_area_schema(
    bounds: tuple[float, float, float, float] = ENGLAND_BOUNDS,
    *,
    feature: bool = False,
    point: bool = False,
    max_vertices: int = MAX_POLYGON_VERTICES,
) -> dict[str, Any]:
    """The JSON Schema of a drawn area: a GeoJSON Polygon or MultiPolygon within ``bounds``.

    It says what JSON Schema can say (RFC 7946 shapes, [longitude, latitude] positions within
    ``bounds``, rings of four positions or more; with ``point``, a Point may come too; with
    ``feature``, a Feature holding one of those may come instead); what it cannot (a ring
    closed and simple, most of the area in the loaded districts, its size) the validators
    check, answering a problem naming the parameter.
    """
    west, south, east, north = bounds
    position = {
        "type": "array",
        "minItems": 2,
        "maxItems": 3,  # an altitude is allowed (RFC 7946, 3.1.1) and dropped
        "prefixItems": [
            {"type": "number", "minimum": west, "maximum": east},
            {"type": "number", "minimum": south, "maximum": north},
        ],
        "items": {"type": "number"},
    }
    ring = {"type": "array", "minItems": 4, "maxItems": max_vertices, "items": position}
    polygon = {"type": "array", "minItems": 1, "items": ring}

    def shape(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "title": kind,
            "required": ["type", "coordinates"],
            "properties": {"type": {"const": kind}, "coordinates": coordinates},
        }

    shapes = [
        shape("Polygon", polygon),
        shape("MultiPolygon", {"type": "array", "minItems": 1, "items": polygon}),
    ]
    description = "A GeoJSON Polygon or MultiPolygon in longitude, latitude (CRS84)"
    if point:
        shapes.insert(0, shape("Point", position))
        description = "A GeoJSON Point, Polygon or MultiPolygon in longitude, latitude (CRS84)"
    if feature:
        shapes.append(
            {
                "type": "object",
                "title": "Feature",
                "required": ["type", "geometry"],
                "properties": {"type": {"const": "Feature"}, "geometry": {"oneOf": list(shapes)}},
            }
        )
        description += ", or a GeoJSON Feature holding one"
    return {"oneOf": shapes, "description": description + "."}


def feature_geometry(value: dict[str, Any]) -> dict[str, Any]:
    """The geometry of a GeoJSON Feature, or ``value`` itself if it is not a Feature.

    A Feature without a geometry object stays a Feature, which the drawn area's checks
    refuse as not a polygon (it must not become an empty area, or no area at all).
    """
    if value.get("type") == "Feature" and isinstance(value.get("geometry"), dict):
        return dict(value["geometry"])
    return value


# A drawn area as a request carries it (checked by drawn_area_wkb), alone or in a Feature.
DrawnArea = Annotated[dict[str, Any], WithJsonSchema(drawn_area_schema())]
DrawnAreaOrFeature = Annotated[dict[str, Any], WithJsonSchema(drawn_area_schema(feature=True))]


class AreaFields(BaseModel):
    """Exactly one way to give an area: a drawn polygon or LSOA codes."""

    geometry: DrawnArea | None = Field(
        default=None,
        description="A GeoJSON Polygon or MultiPolygon in longitude/latitude (CRS84).",
    )
    lsoa_codes: list[str] | None = Field(
        default=None,
        max_length=MAX_LSOA_CODES,
        description="LSOA 2021 codes whose union is the area (instead of a geometry).",
    )

    @field_validator("lsoa_codes")
    @classmethod
    def _codes(cls, codes: list[str] | None) -> list[str] | None:
        """LSOA 2021 codes, upper-cased and deduplicated; at least one."""
        if codes is None:
            return None
        cleaned = sorted({c.strip().upper() for c in codes})
        bad = [c for c in cleaned if not LSOA_CODE.match(c)]
        if bad:
            raise ValueError(f"not LSOA codes (E01 and six digits): {', '.join(bad[:5])}")
        if not cleaned:
            raise ValueError("give at least one LSOA code")
        return cleaned


@dataclass(frozen=True)
class MeasuredArea:
    """A validated area in EPSG:27700: WKB, size, the districts it touches and its LSOA codes."""

    wkb: bytes
    area_km2: float
    lad_codes: list[str]
    principal_lad_code: str
    lsoa_codes: list[str] | None


def drawn_area_wkb(geometry: Any, max_vertices: int, parameter: str) -> bytes:
    """Check a drawn area's structure (GeoJSON polygon, finite lon/lat, vertices); its WKB."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidArea(
            "the area must be a GeoJSON Polygon or MultiPolygon in longitude, latitude",
            parameter=parameter,
        )
    if len(json.dumps(geometry)) > MAX_GEOJSON_BYTES:
        raise InvalidArea(f"geometry larger than {MAX_GEOJSON_BYTES:,} bytes", parameter=parameter)
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad GeoJSON
        raise InvalidArea(f"malformed GeoJSON geometry: {exc}", parameter=parameter) from exc
    if shape.is_empty:
        raise InvalidArea("the area is empty", parameter=parameter)
    coordinates = shapely.get_coordinates(shape)
    if len(coordinates) > max_vertices:
        raise InvalidArea(
            f"the area has {len(coordinates):,} vertices; at most {max_vertices:,}",
            parameter=parameter,
        )
    if not all(math.isfinite(v) for v in coordinates.ravel()):
        raise InvalidArea("coordinates must be finite numbers", parameter=parameter)
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    if lon.min() < -180 or lon.max() > 180 or lat.min() < -90 or lat.max() > 90:
        raise InvalidArea(
            "coordinates must be longitude, latitude (CRS84 / EPSG:4326)", parameter=parameter
        )
    # A cheap first test (and a guard: British National Grid is meaningless far away); the
    # exact one, against the loaded districts, follows in measure_area.
    west, south, east, north = ENGLAND_BOUNDS
    if lon.min() < west or lon.max() > east or lat.min() < south or lat.max() > north:
        raise AreaOutsideEngland(
            f"the area reaches beyond England ({west}..{east} E, {south}..{north} N); "
            "give longitude then latitude",
            parameter=parameter,
        )
    return bytes(shapely.to_wkb(shapely.force_2d(shape)))


async def measure_area(
    conn: AsyncConnection,
    *,
    geometry: dict[str, Any] | None,
    lsoa_codes: list[str] | None,
    max_km2: float,
    min_km2: float,
    max_vertices: int = MAX_POLYGON_VERTICES,
    parameter: str = "geometry",
) -> MeasuredArea:
    """Validate an area and measure it in EPSG:27700.

    The area is a drawn GeoJSON (multi)polygon in lon/lat, or the union of LSOA 2021 codes.
    A drawn area must be valid as given (never repaired: the error carries GEOS's
    ``ST_IsValidReason``, e.g. a self-intersection or overlapping parts), have at most
    ``max_vertices`` vertices, and measure between ``min_km2`` and ``max_km2``. At least 99%
    of it must lie in the loaded English districts (cut by the current edition's LSOAs). Its
    districts are those holding more than 1% of it or more than 0.01 km²; the principal one
    holds the most.

    Raises
    ------
    InvalidArea
        If the geometry is malformed or invalid, or an LSOA code is not loaded.
    AreaOutOfRange
        If the area is larger than ``max_km2`` or smaller than ``min_km2``.
    AreaOutsideEngland
        If more than 1% of it lies outside the loaded English districts.
    """
    edition = await find_edition(conn, None)
    wkb: bytes | None = None
    if geometry is not None:
        wkb = drawn_area_wkb(geometry, max_vertices, parameter)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(read_sql("geo", "drawn_areas/validity.sql"), {"wkb": wkb})
            validity = await cur.fetchone()
        assert validity is not None
        if not validity["valid"]:
            raise InvalidArea(f"invalid geometry: {validity['reason']}", parameter=parameter)
        if not validity["valid_27700"]:
            raise InvalidArea(
                f"invalid geometry in British National Grid: {validity['reason_27700']}",
                parameter=parameter,
            )
    elif not lsoa_codes:
        raise InvalidArea("give the area as a geometry or LSOA codes", parameter=parameter)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            read_sql("geo", "drawn_areas/measure.sql"),
            {"wkb": wkb, "lsoa_codes": lsoa_codes or [], "vintage": edition.lsoa_vintage},
        )
        row = await cur.fetchone()
    assert row is not None
    if lsoa_codes is not None and geometry is None:
        missing = sorted(set(lsoa_codes) - set(row["lsoa_codes_found"]))
        if missing:
            raise InvalidArea(
                f"not LSOAs of the {edition.code} geography loaded here: {', '.join(missing[:10])}",
                parameter="lsoa_codes",
            )
        parameter = "lsoa_codes"
    area_m2 = float(row["m2"])
    km2 = area_m2 / 1e6
    if km2 > max_km2:
        raise AreaOutOfRange(
            f"the area measures {km2:,.2f} km²; at most {max_km2:,.2f} km² is allowed",
            parameter=parameter,
        )
    if km2 < min_km2:
        raise AreaOutOfRange(
            f"the area measures {area_m2:,.0f} m²; at least {min_km2 * 1e6:,.0f} m² is needed",
            parameter=parameter,
        )
    lad_m2: dict[str, float] = {k: float(v) for k, v in row["lad_m2"].items()}
    inside = sum(lad_m2.values())
    if inside < ENGLAND_SHARE_REQUIRED * area_m2:
        raise AreaOutsideEngland(
            f"{100 * (1 - inside / area_m2):.1f}% of the area lies outside the loaded English "
            f"districts ({row['loaded_lads']} districts of the {edition.code} geography are "
            f"loaded here); at most {100 * (1 - ENGLAND_SHARE_REQUIRED):.0f}% may",
            parameter=parameter,
        )
    lads = sorted(
        lad for lad, m2 in lad_m2.items() if m2 > LAD_SHARE_MIN * area_m2 or m2 > LAD_M2_MIN
    )
    principal = min(lad_m2, key=lambda lad: (-lad_m2[lad], lad))
    if principal not in lads:  # cannot happen (it holds at least 1/N of 99%); kept total
        lads = sorted({*lads, principal})
    return MeasuredArea(
        wkb=bytes(row["wkb"]),
        area_km2=round(km2, 6),
        lad_codes=lads,
        principal_lad_code=principal,
        lsoa_codes=lsoa_codes if geometry is None else None,
    )
