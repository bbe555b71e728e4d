"""Reading coverage: England, a district, an LSOA (by code, point or postcode) and cold spots."""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from geo import place_resolution
from geo.coverage.models import (
    COLD_SPOT_THRESHOLD,
    COVERAGE_EDITION,
    COVERAGE_VINTAGE,
    DEPRIVED_DECILE_MAX,
    ENGLAND_CODE,
    MAX_COLD_SPOTS,
    ColdSpot,
    CoverageTotals,
    GroupWorking,
    LsoaCoverage,
    active_since,
)
from geo.coverage.recompute import sql_statement
from geo.crs import require_point_in_england
from geo.errors import AreaNotFound, DataUnavailable, InvalidInput, PointOutsideCoverage
from geo.gss import LAD_CODE, LSOA_CODE
from geo.sqlfiles import fetch_rows, read_sql


def checked_lad_code(code: str) -> str:
    """A district code, checked for form."""
    code = code.strip().upper()
    if not LAD_CODE.match(code):
        raise InvalidInput(f"{code!r} is not a district (LAD) code (E06-E09)", parameter="lad")
    return code


async def latest_activity_window(conn: AsyncConnection[Any]) -> tuple[date, str]:
    """The activity window's start the stored coverage used, and its date (ISO)."""
    cur = await conn.execute(read_sql("geo", "coverage/latest_as_of.sql"))
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise DataUnavailable("coverage has not been computed: load the data first")
    as_of = str(row[0])
    return active_since(date.fromisoformat(as_of)), as_of


async def totals_rows(conn: AsyncConnection[Any], lad: str | None) -> list[dict[str, Any]]:
    """Totals rows of coverage/totals.sql: England first (or one district's LSOAs), districts."""
    since, _ = await latest_activity_window(conn)
    statement = sql_statement("coverage/totals.sql", filter="lad_code = %(lad)s" if lad else "TRUE")
    params = {
        "lad": lad,
        "since": since,
        "england": ENGLAND_CODE,
        "deprived_decile_max": DEPRIVED_DECILE_MAX,
    }
    return await fetch_rows(conn, statement, params)


def capped_share(part: float, whole: float) -> float:
    """``part / whole``, 0 for an empty whole, at most 1."""
    return min(1.0, part / whole) if whole > 0 else 0.0


def adult_figures(row: dict[str, Any]) -> dict[str, Any]:
    """The adults, covered adults and shares, and counts a totals or snapshot row carries."""
    adults = float(row["adults"])
    deprived = float(row["deprived_adults"])
    return {
        "adults": adults,
        "adults_covered": float(row["adults_covered"]),
        "covered_share": capped_share(float(row["adults_covered"]), adults),
        "deprived_adults": deprived,
        "deprived_adults_covered": float(row["deprived_adults_covered"]),
        "deprived_covered_share": capped_share(float(row["deprived_adults_covered"]), deprived),
        "adults_organiser_covered": float(row["adults_organiser_covered"]),
        "active_groups": int(row["active_groups"]),
        "active_organisers": int(row["active_organisers"]),
        "cold_spots": int(row["cold_spots"]),
    }


def _coverage_totals(row: dict[str, Any], scope: Literal["england", "lad"]) -> CoverageTotals:
    figures = adult_figures(row)
    return CoverageTotals(
        scope=scope,
        code=row["code"],
        name=row["name"],
        lsoas=int(row["lsoas"]),
        organiser_share=capped_share(figures["adults_organiser_covered"], figures["adults"]),
        as_of=row["as_of"],
        **figures,
    )


async def england_coverage(conn: AsyncConnection[Any]) -> CoverageTotals:
    """England's coverage: adults (and deprived adults) living where an active group works.

    Raises
    ------
    DataUnavailable
        If coverage has not been computed (nothing loaded).
    """
    rows = await totals_rows(conn, None)
    return _coverage_totals(next(r for r in rows if r["scope"] == "england"), "england")


async def lad_coverage(conn: AsyncConnection[Any], lad_code: str) -> CoverageTotals:
    """One district's coverage, summed over its LSOAs.

    Raises
    ------
    InvalidInput
        If the code is not a district code.
    AreaNotFound
        If no LSOA of the coverage layer is in that district.
    """
    lad = checked_lad_code(lad_code)
    rows = [r for r in await totals_rows(conn, lad) if r["scope"] == "lad"]
    if not rows:
        raise AreaNotFound(f"no LSOA of the {COVERAGE_EDITION} geography is in district {lad}")
    return _coverage_totals(rows[0], "lad")


async def lsoa_coverage_by_code(conn: AsyncConnection[Any], code: str) -> LsoaCoverage:
    """One LSOA's coverage with the listed groups working there (public fields).

    Raises
    ------
    InvalidInput
        If the code is not an LSOA code.
    AreaNotFound
        If the coverage layer has no such LSOA.
    """
    code = code.strip().upper()
    if not LSOA_CODE.match(code):
        raise InvalidInput(f"{code!r} is not an LSOA code (E01)", parameter="code")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "coverage/lsoa_get.sql"), {"code": code})
        row = await cur.fetchone()
        if row is None:
            raise AreaNotFound(f"{code} is not an LSOA of the {COVERAGE_EDITION} geography")
        since = active_since(date.fromisoformat(row["as_of"]))
        await cur.execute(
            read_sql("geo", "coverage/lsoa_groups_list.sql"), {"code": code, "since": since}
        )
        groups = [GroupWorking(**g) for g in await cur.fetchall()]
    return LsoaCoverage(**row, groups=groups)


async def lsoa_coverage_at(conn: AsyncConnection[Any], lon: float, lat: float) -> LsoaCoverage:
    """The coverage of the LSOA containing a WGS84 point (a map click).

    Raises
    ------
    InvalidInput
        If the coordinates are not finite longitude/latitude.
    PointOutsideCoverage
        If no LSOA of the coverage layer contains the point.
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("lon and lat must be a WGS84 longitude and latitude", parameter="lon")
    require_point_in_england(lon, lat)
    cur = await conn.execute(
        read_sql("geo", "coverage/lsoa_at_point.sql"), {"lon": lon, "lat": lat}
    )
    row = await cur.fetchone()
    if row is None:
        raise PointOutsideCoverage(
            f"no LSOA of the {COVERAGE_EDITION} geography contains ({lon}, {lat}): the point "
            "is outside England or outside the loaded area"
        )
    return await lsoa_coverage_by_code(conn, str(row[0]))


async def lsoa_coverage_for_postcode(conn: AsyncConnection[Any], postcode: str) -> LsoaCoverage:
    """The coverage of a postcode's LSOA (from the postcode directory, not its centroid).

    Raises
    ------
    InvalidInput
        If the text is not a UK postcode.
    PostcodeNotCovered
        If the loaded postcode data does not hold it.
    """
    return await lsoa_coverage_by_code(
        conn, await place_resolution.postcode_lsoa(conn, postcode, COVERAGE_VINTAGE)
    )


async def cold_spots(
    conn: AsyncConnection[Any],
    *,
    threshold: float = COLD_SPOT_THRESHOLD,
    lad_code: str | None = None,
    limit: int = 100,
) -> list[ColdSpot]:
    """Deprived LSOAs (IMD deciles 1-2) covered less than ``threshold``, most uncovered first.

    Parameters
    ----------
    threshold
        Covered share (0-1) below which a deprived LSOA is a cold spot.
    lad_code
        Only this district's LSOAs (ranked among themselves).
    limit
        At most this many (1 to 10,000).

    Raises
    ------
    InvalidInput
        For a threshold outside [0, 1], a limit out of range or a malformed district code.
    AreaNotFound
        If the district has no LSOA in the coverage layer.
    """
    if not (math.isfinite(threshold) and 0 <= threshold <= 1):
        raise InvalidInput("threshold must be a share between 0 and 1", parameter="threshold")
    if not 1 <= limit <= MAX_COLD_SPOTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_COLD_SPOTS}", parameter="limit")
    lad = checked_lad_code(lad_code) if lad_code is not None else None
    async with conn.cursor(row_factory=dict_row) as cur:
        if lad is not None:
            await cur.execute(read_sql("geo", "coverage/lad_known.sql"), {"lad": lad})
            known = await cur.fetchone()
            if not known or not next(iter(known.values())):
                raise AreaNotFound(f"no LSOA of the coverage layer is in district {lad}")
        await cur.execute(
            read_sql("geo", "coverage/cold_spots.sql"),
            {
                "threshold": threshold,
                "lad": lad,
                "limit": limit,
                "deprived_decile_max": DEPRIVED_DECILE_MAX,
            },
        )
        return [ColdSpot(**row) for row in await cur.fetchall()]
