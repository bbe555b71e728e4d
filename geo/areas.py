"""Area lookup: which LSOA and LAD hold a point, and the deprivation profile of an area."""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.area_models import (
    AreaRef,
    EditionRef,
    Health,
    IndexValue,
    LadArea,
    LsoaArea,
    LsoaChange,
    PointLookup,
    PopulationFigures,
    SummaryMeasure,
)
from geo.crs import require_point_in_england
from geo.errors import AreaNotFound, EditionNotFound, InvalidInput, PointOutsideCoverage
from geo.gss import ANY_CODE, LAD_CODE, LSOA_CODE
from geo.sqlfiles import fetch_one_row, read_sql


async def find_edition(conn: AsyncConnection, code: str | None = None) -> EditionRef:
    """Return the named index edition, or the current English one when ``code`` is None.

    Raises
    ------
    EditionNotFound
        If no such edition is loaded.
    """
    row = await fetch_one_row(conn, "areas/edition.sql", {"edition": code})
    if row is None:
        if code is None:
            raise EditionNotFound("no index edition is loaded yet; run `platoons load demo`")
        raise EditionNotFound(f"index edition {code!r} is not loaded", parameter="edition")
    return EditionRef(**row)


async def lsoa_at_point(
    conn: AsyncConnection, lon: float, lat: float, edition: str | None = None
) -> PointLookup:
    """Return the LSOA and LAD containing a WGS84 point, with the edition's index values.

    Parameters
    ----------
    conn
        An open connection to the Platoons database.
    lon, lat
        Longitude and latitude in EPSG:4326.
    edition
        Index edition code (e.g. ``"IoD2019"``); the current edition when None. The LSOA
        geography searched is the edition's own (2011 for IoD2019, 2021 for IoD2025).

    Raises
    ------
    PointOutsideCoverage
        If no loaded LSOA of that geography contains the point (outside England, at sea
        between generalised coastlines, or outside the loaded extract).
    """
    require_point_in_england(lon, lat)
    row = await _profile(conn, "at_point", {"edition": edition, "lon": lon, "lat": lat})
    if row is None:
        # No such edition, no LSOA there, or an LSOA without its district: the steps one by
        # one say which (an error's path; a click that finds its LSOA takes one round trip).
        return await _lsoa_at_point_in_steps(conn, lon, lat, edition)
    return _point_lookup(EditionRef(**row["edition_ref"]), lon, lat, _lsoa_area_of(row))


async def _lsoa_at_point_in_steps(
    conn: AsyncConnection, lon: float, lat: float, edition: str | None
) -> PointLookup:
    """:func:`lsoa_at_point` in three statements, raising the error that applies."""
    found = await find_edition(conn, edition)
    row = await fetch_one_row(
        conn,
        "areas/lsoa_code_at_point.sql",
        {"vintage": found.lsoa_vintage, "lon": lon, "lat": lat},
    )
    if row is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {found.code} geography contains ({lon}, {lat}): the point is "
            "outside England or outside the loaded area"
        )
    return _point_lookup(found, lon, lat, await _lsoa_area(conn, found, row["code"]))


def _point_lookup(edition: EditionRef, lon: float, lat: float, area: LsoaArea) -> PointLookup:
    """The answer to a click from the LSOA's profile."""
    return PointLookup(
        edition=edition,
        lon=lon,
        lat=lat,
        lsoa=area.lsoa,
        lad=area.lad,
        ward=area.ward,
        indices=area.indices,
    )


async def area_by_code(
    conn: AsyncConnection, code: str, edition: str | None = None
) -> LsoaArea | LadArea:
    """Return an LSOA's profile or a LAD's summary measures by GSS code.

    Raises
    ------
    InvalidInput
        If ``code`` is not a GSS code.
    AreaNotFound
        If it is not an LSOA or LAD code of the edition's geography.
    """
    code = code.strip().upper()
    if not ANY_CODE.match(code):
        raise InvalidInput(
            f"{code!r} is not a GSS code (like E01006112 or E08000009)", parameter="code"
        )
    found = await find_edition(conn, edition)
    if LSOA_CODE.match(code):
        return await _lsoa_area(conn, found, code)
    if LAD_CODE.match(code):
        return await _lad_area(conn, found, code)
    raise AreaNotFound(f"{code} is not an LSOA (E01) or local authority district (E06-E09) code")


async def _profile_row(
    conn: AsyncConnection, level: str, edition: EditionRef, vintage: int, code: str, what: str
) -> dict[str, Any]:
    """The row of ``areas/<level>_profile.sql`` for one area of the edition's geography
    (``vintage``); AreaNotFound, naming it ``what``, if none is loaded."""
    row = await fetch_one_row(
        conn,
        f"areas/{level}_profile.sql",
        {"edition": edition.code, "vintage": vintage, "code": code},
    )
    if row is None:
        raise AreaNotFound(
            f"{code} is not a loaded {what} of the {vintage} geography used by {edition.code}"
        )
    return row


@cache
def lsoa_profile_query(wanted: str) -> sql.Composed:
    """areas/lsoa_profile.sql with its LSOA named ``by_code`` or ``at_point`` (a map click)."""
    named: sql.Composable = sql.SQL(read_sql("geo", f"areas/lsoa_{wanted}.sql"))
    if wanted == "at_point":
        edition = read_sql("geo", "areas/edition.sql").strip().removesuffix(";")
        named = sql.SQL(read_sql("geo", "areas/lsoa_at_point.sql")).format(edition=sql.SQL(edition))
    return sql.SQL(read_sql("geo", "areas/lsoa_profile.sql")).format(wanted=named)


async def _profile(
    conn: AsyncConnection, wanted: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The areas/lsoa_profile.sql row of the LSOA named ``wanted`` (or None)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(lsoa_profile_query(wanted), params)
        return await cur.fetchone()


async def _lsoa_area(conn: AsyncConnection, edition: EditionRef, code: str) -> LsoaArea:
    """Return the profile of one LSOA of the edition's geography."""
    row = await _profile(
        conn, "by_code", {"edition": edition.code, "vintage": edition.lsoa_vintage, "code": code}
    )
    if row is None:
        raise AreaNotFound(
            f"{code} is not a loaded LSOA of the {edition.lsoa_vintage} geography used by "
            f"{edition.code}"
        )
    return _lsoa_area_of(row, edition)


def _lsoa_area_of(row: dict[str, Any], edition: EditionRef | None = None) -> LsoaArea:
    """An LSOA's profile from its areas/lsoa_profile.sql row (edition_ref if not given)."""
    edition = edition or EditionRef(**row["edition_ref"])
    ward = None
    if row["ward_code"] is not None:
        ward = AreaRef(code=row["ward_code"], name=row["ward_name"], vintage=row["ward_vintage"])
    return LsoaArea(
        edition=edition,
        lsoa=AreaRef(code=row["code"], name=row["name"], vintage=row["vintage"]),
        lad=AreaRef(code=row["lad_code"], name=row["lad_name"], vintage=row["lad_vintage"]),
        ward=ward,
        msoa_code=row["msoa_code"],
        indices=[IndexValue(**v) for v in row["indices"]],
        population=PopulationFigures(**{k: row[k] for k in PopulationFigures.model_fields}),
        other_generation=[LsoaChange(**c) for c in row["other_generation"]],
    )


async def _lad_area(conn: AsyncConnection, edition: EditionRef, code: str) -> LadArea:
    """Return one LAD of the edition's geography with its summary measures."""
    row = await _profile_row(
        conn, "lad", edition, edition.lad_vintage, code, "local authority district"
    )
    return LadArea(
        edition=edition,
        lad=AreaRef(code=row["code"], name=row["name"], vintage=row["vintage"]),
        region_code=row["region_code"],
        region_name=row["region_name"],
        lsoa_count=row["lsoa_count"],
        summary_measures=[SummaryMeasure(**m) for m in row["summary_measures"]],
    )


async def health(conn: AsyncConnection) -> Health:
    """Report PostGIS's version, the data version and how much of each edition is loaded."""
    row = await fetch_one_row(conn, "areas/health.sql", {})
    assert row is not None
    editions = row["editions"]
    return Health(
        status="ok" if editions and all(e["lsoas_loaded"] for e in editions) else "no-data",
        database="ok",
        postgis_version=row["postgis_version"],
        data_version=row["data_version"],
        editions=editions,
    )
