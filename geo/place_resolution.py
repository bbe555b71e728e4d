"""Resolve what a user points at (a click, a postcode, a GSS code, a drawn polygon) to an area.

The result is the area's LSOAs in an edition's geography, each with the fraction of it inside
the area (1 unless a polygon cuts it), its residents and index values: the facts eligibility
rules are evaluated on. Polygons are validated here (GeoJSON, valid, polygonal, in range,
size-limited) and all area maths is done in EPSG:27700.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import shapely
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict
from pyproj import Transformer

from geo.area_models import EditionRef
from geo.crs import (
    BNG_AREA_OF_USE,
    CRS84,
    ENGLAND_BOUNDS,
    require_point_in_england,
    within_area_of_use,
)
from geo.errors import InvalidInput, NotFound, PointOutsideCoverage
from geo.figures import Adults, AreaKm2
from geo.geojson_input import parse_geometry
from geo.grants.rules import AreaFacts, LsoaFacts
from geo.gss import LAD_CODE, LSOA_CODE, WARD_CODE
from geo.postcodes import normalise_postcode
from geo.sqlfiles import fetch_one_row, read_sql

MAX_POLYGON_VERTICES = 5_000
MAX_POLYGON_AREA_KM2 = 1_000.0
MAX_GEOJSON_BYTES = 1_000_000
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
    residents: Adults
    area_km2: AreaKm2 | None = None
    population_method: str


def polygon_in_bng(geometry: dict[str, Any]) -> tuple[shapely.Geometry, float]:
    """Validate a GeoJSON polygon/multipolygon in lon/lat; return it in EPSG:27700 and km2.

    Raises
    ------
    InvalidInput
        If it is not a valid, non-empty (multi)polygon of finite lon/lat coordinates within
        the vertex and area limits, or it reaches outside British National Grid's area of use.
    PointOutsideCoverage
        If it lies wholly outside England's envelope.
    """
    if len(json.dumps(geometry)) > MAX_GEOJSON_BYTES:
        raise InvalidInput(
            f"geometry larger than {MAX_GEOJSON_BYTES:,} bytes", parameter="geometry"
        )
    shape = parse_geometry(
        geometry,
        ("Polygon", "MultiPolygon"),
        InvalidInput,
        "geometry",
        ("geometry must be a GeoJSON Polygon or MultiPolygon", "malformed GeoJSON geometry"),
    )
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
    west, south, east, north = ENGLAND_BOUNDS
    if lon.max() < west or lon.min() > east or lat.max() < south or lat.min() > north:
        raise PointOutsideCoverage(
            "the polygon lies outside England: give longitude then latitude (EPSG:4326)"
        )
    if not within_area_of_use((lon.min(), lat.min(), lon.max(), lat.max()), CRS84):
        west, south, east, north = BNG_AREA_OF_USE
        raise InvalidInput(
            f"the polygon reaches outside Great Britain ({west}..{east} E, {south}..{north} N, "
            "where British National Grid is defined): draw it in England, longitude then "
            "latitude",
            parameter="geometry",
        )
    projected = shapely.transform(shape, _TO_BNG.transform, interleaved=False)
    area_km2 = projected.area / 1e6
    if area_km2 > MAX_POLYGON_AREA_KM2:
        raise InvalidInput(
            f"area of {area_km2:,.0f} km² exceeds the {MAX_POLYGON_AREA_KM2:,.0f} km² limit",
            parameter="geometry",
        )
    return projected, area_km2


@dataclass(frozen=True)
class AreaQuery:
    """One area to resolve a place to: an edition's geography at a level (with district
    summary measures when a rule needs them)."""

    edition: EditionRef
    level: Level
    lad_measures: bool = False


# The LSOAs a :class:`UnitCache` holds the facts of, at most, over all its areas: about 1.6 kB
# each (measured on a district of 659), so about 26 MB in all.
UNIT_CACHE_LSOAS = 16_384

UnitKey = tuple[str, int, str, str, bool]
"""A click's area: (edition, LSOA vintage, level, the clicked LSOA's code, with district
measures)."""


class UnitCache:
    """The areas recent clicks resolved to, as of one data version, with the facts of at most
    ``max_lsoas`` LSOAs in all (least recently used areas dropped first).

    A click's LSOA in each vintage and the data version come from one statement
    (``place_resolution/lsoa_codes_at_point.sql``); an area found here for that version is
    not read again. A ward or district is kept once and found from any of its LSOAs. The
    areas are read only from tables that change with a load, which bumps the data version, so
    an area of the same version is the one the database would give. An area read at a newer
    version drops every older one.
    """

    def __init__(self, max_lsoas: int = UNIT_CACHE_LSOAS) -> None:
        self.max_lsoas = max_lsoas
        self.version: int | None = None
        self.lsoa_count = 0
        # Per area (its first key), the area and the keys it is found by: its LSOAs' and the
        # clicked one's (an LSOA with no residents or index values is not among its LSOAs).
        self._areas: OrderedDict[UnitKey, tuple[tuple[AssessedArea, AreaFacts], list[UnitKey]]]
        self._areas = OrderedDict()
        self._area_of: dict[UnitKey, UnitKey] = {}

    def __len__(self) -> int:
        """The number of areas kept."""
        return len(self._areas)

    def get(self, version: int, key: UnitKey) -> tuple[AssessedArea, AreaFacts] | None:
        """The area a click resolves to as of ``version`` (marked recently used), or None."""
        if version != self.version or key not in self._area_of:
            return None
        first = self._area_of[key]
        self._areas.move_to_end(first)
        return self._areas[first][0]

    def put(self, version: int, key: UnitKey, area: tuple[AssessedArea, AreaFacts]) -> None:
        """Keep the area a click resolved to, read at ``version`` (ignored if an area of a
        newer version is kept, or if it alone has more than ``max_lsoas`` LSOAs)."""
        if self.version is None or version > self.version:
            self._areas.clear()
            self._area_of.clear()
            self.lsoa_count = 0
            self.version = version
        elif version < self.version or key in self._area_of:
            return
        edition, vintage, level, _, lad_measures = key
        codes = {lsoa.code for lsoa in area[1].lsoas} | {key[3]}
        if len(codes) > self.max_lsoas:
            return
        keys = [(edition, vintage, level, code, lad_measures) for code in sorted(codes)]
        for each in keys:
            if each in self._area_of:  # an earlier area of the same unit
                self._drop(self._area_of[each])
        self._areas[key] = (area, keys)
        self._area_of.update(dict.fromkeys(keys, key))
        self.lsoa_count += len(keys)
        while self.lsoa_count > self.max_lsoas:
            self._drop(next(iter(self._areas)))

    def _drop(self, first: UnitKey) -> None:
        """Forget an area and the keys it is found by."""
        _, keys = self._areas.pop(first)
        for key in keys:
            del self._area_of[key]
        self.lsoa_count -= len(keys)


@dataclass(frozen=True)
class ResolvedAreas:
    """What :func:`resolve_all` found: per query, the assessed area and its facts.

    ``data_version`` is the database's data version read in the same snapshot as the areas
    (None for a polygon, resolved statement by statement).
    """

    areas: tuple[tuple[AssessedArea, AreaFacts], ...]
    data_version: int | None


async def resolve(
    conn: AsyncConnection, place: Place, edition: EditionRef, level: Level
) -> tuple[AssessedArea, AreaFacts]:
    """Resolve a place to the area a programme at ``level`` assesses, with its facts.

    A click or postcode stands for the LSOA it falls in, widened to its ward or district
    for ward- and district-level programmes; a code names its own unit (an LSOA code is
    widened likewise); a polygon is assessed as drawn.
    """
    return (await resolve_all(conn, place, [AreaQuery(edition, level)])).areas[0]


async def resolve_all(
    conn: AsyncConnection,
    place: Place,
    queries: Sequence[AreaQuery],
    units: UnitCache | None = None,
) -> ResolvedAreas:
    """Resolve a place to several areas at once (see :func:`resolve`), in the queries' order.

    A click is located in every LSOA vintage the queries use by one statement (a postcode
    is read from the directory once per vintage), then each query's unit, its LSOAs and,
    where asked, their districts' summary measures by one statement
    (``place_resolution/unit_lsoas.sql``, which PostgreSQL runs on a cached plan), unless
    ``units`` holds that area as of the data version the click was located at. A polygon
    takes one statement per query, and one more for district measures.

    Raises
    ------
    PointOutsideCoverage
        If a click is in no LSOA of a query's geography, or a polygon covers none.
    PostcodeNotCovered
        If the postcode directory does not hold the postcode.
    NotFound
        If the place has no unit at a query's level, or the unit has no loaded LSOA (the
        first query that fails, in order).
    """
    if place.geometry is not None:
        projected, area_km2 = polygon_in_bng(place.geometry)
        wkb = shapely.to_wkb(projected)
        drawn = []
        for query in queries:
            area, facts = await _resolve_polygon(conn, wkb, area_km2, query.edition)
            if query.lad_measures:
                facts = await with_lad_measures(conn, facts, query.edition)
            drawn.append((area, facts))
        return ResolvedAreas(tuple(drawn), None)
    code = place.code.strip().upper() if place.code is not None else None
    located, version = await _locate(conn, place, {q.edition.lsoa_vintage for q in queries})
    consistent = True
    areas: list[tuple[AssessedArea, AreaFacts]] = []
    # Errors are raised in the queries' order, as when each was resolved in turn.
    for query in queries:
        level, lsoa, unit_code = query.level, None, None
        if code is not None and (level == "lsoa" or not LSOA_CODE.match(code)):
            level, unit_code = _unit_kind(code)
        elif code is not None:
            lsoa = code
        else:
            found = located[query.edition.lsoa_vintage]
            if isinstance(found, Exception):
                raise found
            if found is None:
                raise PointOutsideCoverage(
                    f"no LSOA of the {query.edition.code} geography contains ({place.lon}, "
                    f"{place.lat}): the point is outside England or outside the loaded area"
                )
            lsoa = found
        # Kept: the areas a clicked (or a postcode's, or a coded) LSOA widens to.
        unit: tuple[AssessedArea, AreaFacts] | None = None
        key: UnitKey | None = None
        if units is not None and unit_code is None and lsoa is not None:
            key = (query.edition.code, query.edition.lsoa_vintage, level, lsoa, query.lad_measures)
            if consistent and version is not None:
                unit = units.get(version, key)
        if unit is None:
            unit, read_at = await _read_unit(conn, query, level, lsoa, unit_code)
            # A load committed between two statements: the areas are not of one version.
            consistent = consistent and version in (None, read_at)
            version = read_at
            if units is not None and key is not None and consistent:
                units.put(read_at, key, unit)
        areas.append(unit)
    return ResolvedAreas(tuple(areas), version if consistent else None)


async def _read_unit(
    conn: AsyncConnection, query: AreaQuery, level: Level, lsoa: str | None, unit_code: str | None
) -> tuple[tuple[AssessedArea, AreaFacts], int]:
    """One query's unit from the database, and the data version it was read at."""
    params = {
        "edition": query.edition.code,
        "vintage": query.edition.lsoa_vintage,
        "level": level,
        "lsoa": lsoa,
        "unit_code": unit_code,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(unit_lsoas_statement(level, query.lad_measures), params)
        rows = await cur.fetchall()
    return _unit_area(query, rows, level, lsoa), int(rows[0]["data_version"])


# The lsoa column holding each level's unit code (the fixed registry the {unit_column} of
# place_resolution/unit_lsoas.sql is filled from).
_UNIT_COLUMNS: dict[str, str] = {"lsoa": "code", "ward": "ward_code", "lad": "lad_code"}


@cache
def unit_lsoas_statement(level: str, lad_measures: bool) -> sql.Composed:
    """``place_resolution/unit_lsoas.sql`` for units of a level, with or without district measures.

    One text per variant, so each prepared variant keeps one plan (the benchmark's raw-SQL
    peer runs the same texts).
    """
    return sql.SQL(read_sql("geo", "place_resolution/unit_lsoas.sql")).format(
        unit_column=sql.Identifier(_UNIT_COLUMNS[level]),
        with_lad_measures=sql.Literal(lad_measures),
    )


async def _locate(
    conn: AsyncConnection, place: Place, vintages: set[int]
) -> tuple[dict[int, str | Exception | None], int | None]:
    """The LSOA a click or postcode falls in, per vintage: None where no LSOA holds the
    click, the error to raise where the postcode directory gives none; and for a click, the
    data version it was located at."""
    found: dict[int, str | Exception | None] = {}
    version = None
    if place.postcode is not None:
        for vintage in sorted(vintages):
            try:
                found[vintage] = await postcode_lsoa(conn, place.postcode, vintage)
            except (InvalidInput, PostcodeNotCovered) as exc:
                found[vintage] = exc
    elif place.lon is not None and place.lat is not None:
        require_point_in_england(place.lon, place.lat)
        params = {"lon": place.lon, "lat": place.lat, "vintages": sorted(vintages)}
        async with conn.cursor() as cur:
            await cur.execute(read_sql("geo", "place_resolution/lsoa_codes_at_point.sql"), params)
            for vintage, code, read_at in await cur.fetchall():
                found[vintage], version = code, read_at
    return found, version


def _unit_area(
    query: AreaQuery, rows: list[dict[str, Any]], kind: Level, lsoa: str | None
) -> tuple[AssessedArea, AreaFacts]:
    """One query's rows of ``place_resolution/unit_lsoas.sql``: the assessed area, its facts."""
    edition, first = query.edition, rows[0]
    code = first["unit_code"]
    if code is None:
        raise NotFound(f"{lsoa} has no {kind} in the {edition.code} geography")
    if first["code"] is None:
        raise NotFound(f"{code} is not a loaded {kind} of the {edition.code} geography")
    lsoas = tuple(_lsoa_facts(r, 1.0) for r in rows)
    measures: dict[tuple[str, str, str], tuple[float | None, int | None]] = {}
    if query.lad_measures:
        for r in rows:
            for domain, measure, value, rank in r["lad_measures"] or ():
                measures[(r["lad_code"], domain, measure)] = (value, rank)
    facts = AreaFacts(
        lsoas=lsoas, national_lsoa_count=edition.national_lsoa_count, lad_measures=measures
    )
    name = first["unit_name"] if kind != "lsoa" else lsoas[0].name
    return _assessed(kind, code, name, facts, None, first["method"]), facts


async def _resolve_polygon(
    conn: AsyncConnection, wkb: bytes, area_km2: float, edition: EditionRef
) -> tuple[AssessedArea, AreaFacts]:
    """A drawn polygon's LSOAs (EPSG:27700 WKB), each with the fraction of it inside."""
    params = {"edition": edition.code, "vintage": edition.lsoa_vintage, "wkb": wkb}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "place_resolution/polygon_lsoas.sql"), params)
        rows = await cur.fetchall()
    if not rows:
        raise PointOutsideCoverage(
            "the polygon covers no loaded LSOA: it is outside England or outside the loaded area"
        )
    lsoas = tuple(_lsoa_facts(r, min(1.0, float(r["fraction"]))) for r in rows)
    facts = AreaFacts(lsoas=lsoas, national_lsoa_count=edition.national_lsoa_count)
    return _assessed("polygon", None, None, facts, area_km2, rows[0]["method"]), facts


def _lsoa_facts(row: dict[str, Any], fraction: float) -> LsoaFacts:
    """An LSOA row (code, name, district, residents, index values) as facts."""
    return LsoaFacts(
        code=row["code"],
        name=row["name"],
        lad_code=row["lad_code"],
        residents=float(row["residents"]),
        fraction_in_area=fraction,
        ranks={d: v[0] for d, v in row["values"].items()},
        deciles={d: v[1] for d, v in row["values"].items()},
    )


def _assessed(
    kind: Literal["lsoa", "ward", "lad", "polygon"],
    code: str | None,
    name: str | None,
    facts: AreaFacts,
    area_km2: float | None,
    method: str,
) -> AssessedArea:
    """The area an answer is about."""
    return AssessedArea(
        kind=kind,
        code=code,
        name=name,
        lsoa_count=len(facts.lsoas),
        residents=facts.residents,
        area_km2=area_km2,
        population_method=method,
    )


async def with_lad_measures(
    conn: AsyncConnection, facts: AreaFacts, edition: EditionRef
) -> AreaFacts:
    """Add the summary measures of the districts the area touches."""
    lads = sorted({lsoa.lad_code for lsoa in facts.lsoas})
    async with conn.cursor() as cur:
        await cur.execute(
            read_sql("geo", "place_resolution/lad_measures_for.sql"),
            {"edition": edition.code, "lads": lads},
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


async def postcode_lsoa(conn: AsyncConnection, text: str, vintage: int) -> str:
    """The LSOA of a geography vintage the postcode directory gives for a postcode.

    Raises
    ------
    InvalidInput
        If the text is not a UK postcode.
    PostcodeNotCovered
        If the loaded postcode directory does not hold it.
    """
    postcode = normalise_postcode(text)
    if postcode is None:
        raise InvalidInput(f"{text!r} is not a UK postcode", parameter="postcode")
    row = await fetch_one_row(
        conn, "place_resolution/postcode_lsoa.sql", {"postcode": postcode, "vintage": vintage}
    )
    if row is None or row["lsoa_code"] is None:
        raise PostcodeNotCovered(
            f"postcode {postcode} is not covered: the postcode data loaded covers only "
            "some areas (Trafford); use a map click or an area code instead"
        )
    return str(row["lsoa_code"])
