"""Crime summaries: an area's street-level crimes by month and type, rate, trend and places.

An area is an LSOA, ward or district GSS code, a neighbourhood group's reference (``NG-...``),
an H3 cell (resolution 6-9) or a drawn polygon. LSOA-based areas count the crimes whose LSOA
(police.uk's own code, or the point-in-polygon one where it gave none) is one of the area's;
groups and polygons count the crimes whose map point lies inside; H3 cells count the crimes
whose point lies in the cell. A month is *no data* unless one of the area's forces published
it with the type asked for: never a zero.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import h3
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.crime.models import (
    CAVEATS,
    POLICE_UK_ATTRIBUTION,
    AreaKind,
    CrimeAreaRef,
    CrimeDomainContext,
    CrimeMonth,
    CrimeRate,
    CrimeSummary,
    TopLocation,
    YearOnYear,
)
from geo.crime.trend import compare_periods
from geo.crime.types import crime_type_names
from geo.crs import ENGLAND_BOUNDS
from geo.drawn_areas import drawn_area_wkb
from geo.errors import AreaNotFound, InvalidInput, NotFound
from geo.gss import LAD_CODE, LSOA_CODE, WARD_CODE
from geo.place_resolution import MAX_POLYGON_VERTICES
from geo.sqlfiles import read_sql

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])\Z")
GROUP_REFERENCE = re.compile(r"^NG-[0-9]{6,18}\Z")
# What an H3 cell of resolution 6-9 looks like (mode 1, the resolution, 13 hex digits); not
# every such string is a cell.
H3_SHAPE = re.compile(r"^8[6-9][0-9a-f]{13}\Z")
H3_RESOLUTIONS = range(6, 10)  # the coverage grid's resolutions; crimes are held at 9
MAX_MONTHS = 120
MAX_POLYGON_KM2 = 2_000.0
TOP_LOCATIONS = 10
DEFAULT_MONTHS = 12


class NoCrimeData(NotFound):
    """No crime data is loaded for the area's police force (so nothing can be summarised)."""

    title = "No crime data"


@dataclass
class ResolvedArea:
    """An area and the SQL condition selecting its crimes (fixed fragments, bound values)."""

    ref: CrimeAreaRef
    condition: sql.Composable
    params: dict[str, Any]
    lsoa_codes: list[str] = field(default_factory=list)
    geometry: bytes | None = None  # EWKB in EPSG:27700, for spatial areas


def parse_month(text: str, parameter: str) -> str:
    """Return a ``YYYY-MM`` month, or raise :class:`InvalidInput` naming the parameter."""
    if not MONTH.match(text):
        raise InvalidInput(
            f"{parameter} must be a month as YYYY-MM, not {text!r}", parameter=parameter
        )
    return text


def shift_month(month: str, months: int) -> str:
    """Return the month ``months`` after (negative: before) a ``YYYY-MM`` month."""
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive."""
    count = (int(last[:4]) * 12 + int(last[5:])) - (int(first[:4]) * 12 + int(first[5:])) + 1
    return [shift_month(first, i) for i in range(max(count, 0))]


SQLText = str | sql.SQL | sql.Composed  # a packaged file name, or SQL composed here
Query = tuple[SQLText, dict[str, Any]]


def _statement(query: SQLText) -> sql.SQL | sql.Composed | str:
    """The SQL of a query: a packaged file's text, or the composed SQL itself."""
    return read_sql("geo", query) if isinstance(query, str) else query


async def _fetch_all(
    conn: AsyncConnection, query: SQLText, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Run a query (a packaged file name or composed SQL) and return its rows as dicts."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_statement(query), params)
        return await cur.fetchall()


async def _fetch_each(
    conn: AsyncConnection, queries: Sequence[Query | None]
) -> list[list[dict[str, Any]]]:
    """Run independent queries in one round trip (pipeline mode); each one's rows (None: []).

    A summary's statements each take well under a millisecond; on a busy machine every round
    trip to the server costs more than that in waiting to be scheduled again.
    """
    async with AsyncExitStack() as stack:
        cursors: list[Any] = []
        async with conn.pipeline():
            for item in queries:
                if item is None:
                    cursors.append(None)
                    continue
                cur = await stack.enter_async_context(conn.cursor(row_factory=dict_row))
                await cur.execute(_statement(item[0]), item[1])
                cursors.append(cur)
        return [await cur.fetchall() if cur is not None else [] for cur in cursors]


def _lsoa_condition(generation: int) -> sql.Composable:
    """Crimes whose LSOA of the generation is one of ``%(codes)s``."""
    column = "lsoa21_code" if generation == 2021 else "lsoa11_code"
    return sql.SQL("c.{} = ANY(%(codes)s)").format(sql.Identifier(column))


_GEOMETRY_CONDITION = sql.SQL("ST_Intersects(c.geom, ST_GeomFromEWKB(%(geom)s))")
_H3_CONDITION = sql.SQL("c.h3_fid BETWEEN %(h3_low)s AND %(h3_high)s")


def _lsoa_area(
    kind: AreaKind,
    code: str,
    name: str | None,
    generation: int,
    codes: list[str],
    outside: bool = False,
) -> ResolvedArea:
    """An area made of LSOAs of one generation."""
    return ResolvedArea(
        ref=CrimeAreaRef(
            kind=kind,
            code=code,
            name=name,
            lsoa_generation=generation,
            lsoa_count=len(codes),
            outside_loaded_boundaries=outside,
        ),
        condition=_lsoa_condition(generation),
        params={"codes": codes},
        lsoa_codes=codes,
    )


async def resolve_area(conn: AsyncConnection, area: str) -> ResolvedArea:
    """Resolve ``area`` (LSOA, ward or district code, group reference or H3 cell).

    Raises
    ------
    InvalidInput
        If ``area`` is of no known shape (parameter ``area``).
    AreaNotFound
        If no such area is loaded (parameter ``area``).
    """
    area = area.strip()
    if LSOA_CODE.match(area):
        rows = await _fetch_all(conn, "crime/area_lsoa.sql", {"code": area})
        if not rows:
            raise AreaNotFound(f"no LSOA {area!r} is loaded", parameter="area")
        row = rows[0]
        return _lsoa_area("lsoa", area, row["name"], row["generation"], [area], row["outside"])
    for pattern, kind, query in (
        (WARD_CODE, "ward", "crime/area_ward.sql"),
        (LAD_CODE, "lad", "crime/area_lad.sql"),
    ):
        if pattern.match(area):
            rows = await _fetch_all(conn, query, {"code": area})
            if not rows:
                raise AreaNotFound(f"no {kind} {area!r} is loaded", parameter="area")
            row = rows[0]
            return _lsoa_area(kind, area, row["name"], row["generation"], row["codes"])  # type: ignore[arg-type]
    if GROUP_REFERENCE.match(area):
        rows = await _fetch_all(conn, "crime/area_group.sql", {"reference": area})
        if not rows:
            raise AreaNotFound(f"no listed neighbourhood group {area!r}", parameter="area")
        return ResolvedArea(
            ref=CrimeAreaRef(kind="group", code=area, name=rows[0]["name"]),
            condition=_GEOMETRY_CONDITION,
            params={"geom": rows[0]["geom"]},
            geometry=rows[0]["geom"],
        )
    if h3.is_valid_cell(area):
        resolution = h3.get_resolution(area)
        if resolution not in H3_RESOLUTIONS:
            raise InvalidInput(
                f"H3 cells of resolution 6 to 9 only (the coverage grid's); {area!r} is "
                f"resolution {resolution}",
                parameter="area",
            )
        lat, lon = h3.cell_to_latlng(area)
        west, south, east, north = ENGLAND_BOUNDS
        if not (west <= lon <= east and south <= lat <= north):
            # Far from Britain the cell cannot even be projected to EPSG:27700 (issue #22).
            raise AreaNotFound(f"H3 cell {area!r} is outside England", parameter="area")
        children = (
            [int(c, 16) for c in h3.cell_to_children(area, 9)]
            if resolution < 9
            else [int(area, 16)]
        )
        geometry = await _h3_geometry(conn, area)
        return ResolvedArea(
            ref=CrimeAreaRef(
                kind="h3", code=area, name=f"H3 cell {area} (resolution {resolution})"
            ),
            condition=_H3_CONDITION,
            params={"h3_low": min(children), "h3_high": max(children)},
            geometry=geometry,
        )
    if H3_SHAPE.match(area):  # shaped as a cell of the grid, but no cell: none is loaded
        raise AreaNotFound(f"no H3 cell {area!r}", parameter="area")
    raise InvalidInput(
        "area must be an LSOA (E01...), ward (E05...) or district (E06-E09...) code, a group "
        "reference (NG-...) or an H3 cell of resolution 6-9",
        parameter="area",
    )


# H3 cells' polygons in EPSG:27700 as PostGIS projected them: a cell's never changes, so each
# is asked for once per process (a round trip fewer for a summary of a cell seen before).
_H3_GEOMETRIES: dict[str, bytes] = {}
_H3_GEOMETRIES_KEPT = 4096


async def _h3_geometry(conn: AsyncConnection, cell: str) -> bytes:
    """The cell's polygon as EWKB in EPSG:27700 (for its population)."""
    found = _H3_GEOMETRIES.get(cell)
    if found is None:
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        geojson = json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
        rows = await _fetch_all(conn, "crime/area_polygon.sql", {"geojson": geojson})
        found = bytes(rows[0]["geom"])
        if len(_H3_GEOMETRIES) >= _H3_GEOMETRIES_KEPT:
            _H3_GEOMETRIES.clear()
        _H3_GEOMETRIES[cell] = found
    return found


async def resolve_polygon(conn: AsyncConnection, geometry: dict[str, Any]) -> ResolvedArea:
    """Resolve a drawn GeoJSON Polygon or MultiPolygon (EPSG:4326) as an area.

    Raises
    ------
    InvalidInput
        If the geometry is not a valid polygon of at most 2,000 km² (parameter ``geometry``),
        or fails the structural checks every drawn area passes (size, vertices, England).
    """
    drawn_area_wkb(geometry, MAX_POLYGON_VERTICES, "geometry")
    try:
        rows = await _fetch_all(conn, "crime/area_polygon.sql", {"geojson": json.dumps(geometry)})
    except Exception as exc:  # noqa: BLE001 - PostGIS refuses malformed GeoJSON with XX000
        raise InvalidInput(
            "geometry is not readable GeoJSON (coordinates must be [lon, lat] rings)",
            parameter="geometry",
        ) from exc
    row = rows[0]
    if not row["valid"]:
        raise InvalidInput(f"geometry is not valid: {row['reason']}", parameter="geometry")
    if row["area_km2"] > MAX_POLYGON_KM2:
        raise InvalidInput(
            f"geometry covers {row['area_km2']:,.0f} km²; at most {MAX_POLYGON_KM2:,.0f} km²",
            parameter="geometry",
        )
    return ResolvedArea(
        ref=CrimeAreaRef(kind="polygon", name=f"drawn area of {row['area_km2']:.2f} km²"),
        condition=_GEOMETRY_CONDITION,
        params={"geom": bytes(row["geom"])},
        geometry=bytes(row["geom"]),
    )


def check_crime_type(crime_type: str | None, held: set[str] | None = None) -> str | None:
    """Return the crime type if police.uk uses (or used) it, else raise naming ``type``."""
    if crime_type is None:
        return None
    if crime_type in crime_type_names() or (held and crime_type in held):
        return crime_type
    known = ", ".join(sorted(crime_type_names()))
    raise InvalidInput(
        f"unknown crime type {crime_type!r}; police.uk's are: {known}", parameter="type"
    )


def _by_area(area: ResolvedArea, lsoa_query: str, geometry_query: str) -> Query | None:
    """The LSOA-list or the geometry form of a query, as the area is made (None: neither)."""
    if area.lsoa_codes and not area.ref.outside_loaded_boundaries:
        return lsoa_query, _lsoa_params(area)
    if area.geometry is not None:
        return geometry_query, {"geom": area.geometry}
    return None


def _lsoa_params(area: ResolvedArea) -> dict[str, Any]:
    """The generation and codes of an area made of LSOAs."""
    return {"generation": area.ref.lsoa_generation, "codes": area.lsoa_codes}


def _part(name: str, area: ResolvedArea | None = None) -> sql.SQL | sql.Composed:
    """A packaged query that is part of another (with the area's condition, if it takes one)."""
    text = sql.SQL(read_sql("geo", name))
    return text.format(area=area.condition) if area is not None else text


def _forces_query(area: ResolvedArea, first: str | None, last: str | None) -> Query:
    """The query of the area's forces, their latest month and force-months (forces.sql).

    The forces are those whose crimes fall in the area's districts, and (for areas drawn or
    outside the loaded boundaries) those whose crimes lie in the area itself.
    """
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {"first": first, "last": last}
    located = _by_area(area, "crime/forces_for_lsoas.sql", "crime/forces_for_geometry.sql")
    if located is not None:
        parts.append(_part(str(located[0])))
        params.update(located[1])
    if area.ref.outside_loaded_boundaries or not area.lsoa_codes:
        if area.lsoa_codes:
            parts.append(_part("crime/forces_of_lsoa_counts.sql"))
            params.update(_lsoa_params(area))
        else:
            parts.append(_part("crime/forces_of_crimes.sql", area))
            params.update(area.params)
    forces = sql.SQL("\nUNION\n").join(parts)
    return sql.SQL(read_sql("geo", "crime/forces.sql")).format(forces=forces), params


def _counts_queries(
    area: ResolvedArea, params: dict[str, Any], from_month: str
) -> tuple[Query, Query]:
    """The queries of the area's counts by month and type, and of its top locations.

    Areas made of LSOAs add up the counts per LSOA the imports keep; the others (groups,
    drawn polygons, H3 cells) count their crimes.
    """
    top_params = {**params, "first": from_month, "limit": TOP_LOCATIONS}
    if area.lsoa_codes:
        lsoas = _lsoa_params(area)
        return (
            ("crime/counts_lsoas.sql", {**params, **lsoas}),
            ("crime/top_locations_lsoas.sql", {**top_params, **lsoas}),
        )
    return (
        (_part("crime/counts.sql", area), {**params, **area.params}),
        (_part("crime/top_locations.sql", area), {**top_params, **area.params}),
    )


async def crime_summary(
    conn: AsyncConnection,
    area: ResolvedArea,
    from_month: str | None = None,
    to_month: str | None = None,
    crime_type: str | None = None,
) -> CrimeSummary:
    """Summarise an area's street-level crime over whole months.

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    area
        From :func:`resolve_area` or :func:`resolve_polygon`.
    from_month, to_month
        ``YYYY-MM``; by default the 12 months to the latest month the area's forces published.
    crime_type
        One police.uk category, or all.

    Raises
    ------
    InvalidInput
        For a malformed month (``from``/``to``), ``from`` after ``to``, a window over 120
        months, or an unknown type (``type``).
    NoCrimeData
        If no month was given and no crime data is loaded for the area's forces.
    """
    crime_type = check_crime_type(crime_type)
    if from_month is not None:
        parse_month(from_month, "from")
    if to_month is not None:
        parse_month(to_month, "to")
    if to_month is None:
        held = await _fetch_all(conn, *_forces_query(area, None, None))
        to_month = held[0]["latest"]
        if to_month is None:
            if from_month is None:
                raise NoCrimeData(
                    "no street-level crime is loaded for this area's police force; give "
                    "from and to to see the months as having no data",
                    parameter="area",
                )
            to_month = shift_month(from_month, DEFAULT_MONTHS - 1)
    if from_month is None:
        from_month = shift_month(to_month, -(DEFAULT_MONTHS - 1))
    if from_month > to_month:
        raise InvalidInput(f"from ({from_month}) is after to ({to_month})", parameter="from")
    months = months_between(from_month, to_month)
    if len(months) > MAX_MONTHS:
        raise InvalidInput(f"at most {MAX_MONTHS} months at once", parameter="from")
    earliest = shift_month(from_month, -12)
    params = {"first": earliest, "last": to_month, "crime_type": crime_type}
    count_query, top_query = _counts_queries(area, params, from_month)
    held, count_rows, top_rows, context_rows = await _fetch_each(
        conn,
        [
            _forces_query(area, earliest, to_month),
            count_query,
            top_query,
            _by_area(area, "crime/context_lsoas.sql", "crime/context_geometry.sql"),
        ],
    )
    forces = sorted(held[0]["forces"])
    covered: dict[str, set[str]] = {}
    no_location: dict[str, int] = {}
    for row in held[0]["months"]:
        covered.setdefault(row["month"], set()).update(row["crime_types"])
        no_location[row["month"]] = no_location.get(row["month"], 0) + row["no_location"]

    def has_data(month: str) -> bool:
        types = covered.get(month)
        return bool(types) and (crime_type is None or crime_type in types)  # type: ignore[operator]

    counts: dict[str, dict[str, int]] = {}
    located = 0
    for row in count_rows:
        counts.setdefault(row["month"], {})[row["crime_type"]] = row["crimes"]
        if row["month"] >= from_month:
            located += row["located"]
    by_month: list[CrimeMonth] = []
    by_type: dict[str, int] = {}
    for month in months:
        if not has_data(month):
            by_month.append(CrimeMonth(month=month, has_data=False))
            continue
        types = dict(sorted(counts.get(month, {}).items()))
        for name, n in types.items():
            by_type[name] = by_type.get(name, 0) + n
        by_month.append(
            CrimeMonth(month=month, has_data=True, total=sum(types.values()), by_type=types)
        )
    total = sum(m.total or 0 for m in by_month)
    with_data = [m.month for m in by_month if m.has_data]
    compared = [m for m in with_data if has_data(shift_month(m, -12))]
    year_on_year = None
    if compared:
        current = sum(sum(counts.get(m, {}).values()) for m in compared)
        previous = sum(sum(counts.get(shift_month(m, -12), {}).values()) for m in compared)
        test = compare_periods(current, previous)
        year_on_year = YearOnYear(
            months_compared=compared,
            **{k: v for k, v in test.__dict__.items() if k not in ("current", "previous")},
            current=current,
            previous=previous,
        )
    types_covered = sorted(set().union(*(covered.get(m, set()) for m in with_data)))
    # The locations counted are those of ``located`` (none: no top locations).
    top = [TopLocation(location=r["location"], crimes=r["crimes"]) for r in top_rows]
    context = _context(area, context_rows)
    return CrimeSummary(
        area=area.ref,
        from_month=from_month,
        to_month=to_month,
        crime_type=crime_type,
        forces=forces,
        types_covered=types_covered,
        months_with_data=len(with_data),
        months_without_data=[m.month for m in by_month if not m.has_data],
        total=total,
        by_month=by_month,
        by_type=dict(sorted(by_type.items(), key=lambda item: (-item[1], item[0]))),
        rate=_rate(context, total, len(with_data)),
        crime_domain=_crime_domain(context),
        locations_available=located > 0,
        top_locations=top,
        year_on_year=year_on_year,
        no_location_in_force=sum(no_location.get(m, 0) for m in with_data),
        caveats=list(CAVEATS),
        attribution=POLICE_UK_ATTRIBUTION,
    )


def _context(area: ResolvedArea, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Residents and Crime domain deciles of the area (its context query's row), or None."""
    if not rows:
        return None
    spread = "" if area.lsoa_codes else ", shared out by the area of each LSOA inside"
    return {**rows[0], "spread": spread}


def _rate(context: dict[str, Any] | None, total: int, months: int) -> CrimeRate:
    """Crimes per 1,000 residents over the months with data, and annualised."""
    residents = context["residents"] if context else None
    if not residents or context is None:
        return CrimeRate(
            residents=None,
            rate_per_1000=None,
            annualised_rate_per_1000=None,
            population_source="no population is loaded for this area",
            months=months,
        )
    source = (
        f"{context['method']} (mid-{context['reference_year']}), loaded with "
        f"{context['edition']}{context['spread']}"
    )
    rate = total * 1000 / residents if months else None
    return CrimeRate(
        residents=residents,
        rate_per_1000=rate,
        annualised_rate_per_1000=rate * 12 / months if rate is not None else None,
        population_source=source,
        months=months,
    )


def _crime_domain(context: dict[str, Any] | None) -> CrimeDomainContext:
    """The Crime domain decile of the area's LSOA (or the median of its LSOAs)."""
    deciles = {int(d): n for d, n in ((context or {}).get("deciles") or {}).items()}
    edition = context["edition"] if context else None
    if not deciles:
        return CrimeDomainContext(
            edition=edition, decile=None, note="no Crime domain decile is loaded for this area"
        )
    values = [d for d, n in sorted(deciles.items()) for _ in range(n)]
    median = int(statistics.median_low(values))
    note = (
        f"Crime domain of the {edition} English Indices of Deprivation (decile 1 = the 10% of "
        "LSOAs with the highest risk of personal and material victimisation): "
        + ("the LSOA's decile." if len(values) == 1 else f"the median of its {len(values)} LSOAs.")
    )
    return CrimeDomainContext(edition=edition, decile=median, lsoa_deciles=deciles, note=note)


def summary_csv(summary: CrimeSummary) -> str:
    """The summary's month-by-type table as CSV (a row per month and type; no data said so)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "area_kind", "month", "has_data", "crime_type", "crimes"])
    code = summary.area.code or summary.area.name or ""
    for month in summary.by_month:
        if not month.has_data:
            writer.writerow(
                [code, summary.area.kind, month.month, "false", summary.crime_type or "", ""]
            )
            continue
        types = month.by_type or {}
        names = sorted(
            set(types)
            | set(summary.types_covered if summary.crime_type is None else [summary.crime_type])
        )
        for name in names:
            writer.writerow(
                [code, summary.area.kind, month.month, "true", name, types.get(name, 0)]
            )
    return out.getvalue()


MAP_POINTS_LIMIT = 5_000


async def area_map(
    conn: AsyncConnection, area: ResolvedArea, from_month: str, to_month: str
) -> dict[str, Any]:
    """The area's outline and its crimes by map point in a window, as GeoJSON (EPSG:4326)."""
    params = {**area.params, "first": from_month, "last": to_month, "limit": MAP_POINTS_LIMIT}
    outline_rows, point_rows = await _fetch_each(
        conn,
        [
            _by_area(area, "crime/outline_lsoas.sql", "crime/outline_geometry.sql"),
            (_part("crime/map_points.sql", area), params),
        ],
    )
    outline = outline_rows[0]["outline"] if outline_rows else None
    points = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {"crimes": r["crimes"], "types": r["types"], "location": r["location"]},
        }
        for r in point_rows
    ]
    return {"outline": outline, "points": {"type": "FeatureCollection", "features": points}}


async def latest_month(conn: AsyncConnection, area: ResolvedArea) -> str | None:
    """The latest month any of the area's forces published (None: no data loaded)."""
    rows = await _fetch_all(conn, *_forces_query(area, None, None))
    return rows[0]["latest"]
