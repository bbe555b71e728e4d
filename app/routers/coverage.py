"""Coverage of adults by active neighbourhood groups: England, districts, LSOAs, cold spots."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.alternatives import POINT_OR_POSTCODE
from app.auth import AdminUser
from app.db import DbDep
from app.dependencies import GroupSettingsDep, Today
from app.parameters import LadCodePath, LadCodeQuery, LsoaCodePath, PostcodeQuery
from app.problems import Problems
from app.replicas import ReadDbDep
from geo import coverage
from geo.coverage import ColdSpot, CoverageTotals, LsoaCoverage, RefreshSummary, Snapshot
from geo.errors import InvalidInput

router = APIRouter(prefix="/coverage", tags=["coverage"])

PROBLEMS = Problems(
    {
        400: "Malformed code or parameter out of range",
        401: "No API key",
        403: "Not an admin key",
        404: "No such area in the coverage layer",
    }
)


class ColdSpots(BaseModel):
    """Cold spots in ranking order, with the threshold used."""

    threshold: float
    lad_code: str | None
    cold_spots: list[ColdSpot]


class SnapshotTaken(BaseModel):
    """A snapshot just recorded: England's row and how many district rows."""

    taken_on: date
    england: Snapshot
    districts: int = Field(description="District rows recorded with it.")


@router.get("/england", response_model=CoverageTotals)
async def coverage_of_england(conn: ReadDbDep) -> CoverageTotals:
    """England's adults living where an active neighbourhood group works, with cold spots."""
    return await coverage.england_coverage(conn)


@router.get("/lads/{ladCode}", response_model=CoverageTotals, responses=PROBLEMS.only(400, 404))
async def coverage_of_district(
    conn: ReadDbDep,
    ladCode: LadCodePath,  # noqa: N803
) -> CoverageTotals:
    """One district's coverage, summed over its LSOAs."""
    return await coverage.lad_coverage(conn, ladCode)


@router.get("/lsoas/{lsoaCode}", response_model=LsoaCoverage, responses=PROBLEMS.only(400, 404))
async def coverage_of_lsoa(
    conn: ReadDbDep,
    lsoaCode: LsoaCodePath,  # noqa: N803
) -> LsoaCoverage:
    """One LSOA's coverage, the listed groups working there (public fields) and organisers."""
    return await coverage.lsoa_coverage_by_code(conn, lsoaCode)


@router.get(
    "/at",
    response_model=LsoaCoverage,
    responses=PROBLEMS.only(400, 404),
    openapi_extra=POINT_OR_POSTCODE,
)
async def coverage_at_point(
    conn: ReadDbDep,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    postcode: PostcodeQuery = None,
) -> LsoaCoverage:
    """The coverage of the LSOA at a map click (lon/lat, WGS84) or of a postcode's LSOA."""
    if postcode is not None and lon is None and lat is None:
        return await coverage.lsoa_coverage_for_postcode(conn, postcode)
    if postcode is not None or lon is None or lat is None:
        raise InvalidInput("give either lon and lat, or a postcode", parameter="lon")
    return await coverage.lsoa_coverage_at(conn, lon, lat)


@router.get("/cold-spots", response_model=ColdSpots, responses=PROBLEMS.only(400, 404))
async def list_cold_spots(
    conn: ReadDbDep,
    threshold: Annotated[
        float,
        Query(
            ge=0,
            le=1,
            allow_inf_nan=False,
            description="Covered share (0-1) below which a deprived LSOA is cold.",
        ),
    ] = coverage.COLD_SPOT_THRESHOLD,
    lad: LadCodeQuery = None,
    limit: Annotated[
        int, Query(ge=1, le=coverage.MAX_COLD_SPOTS, description="At most this many.")
    ] = 100,
) -> ColdSpots:
    """LSOAs in IMD deciles 1-2 little covered by active groups, most adults uncovered first."""
    found = await coverage.cold_spots(conn, threshold=threshold, lad_code=lad, limit=limit)
    return ColdSpots(
        threshold=threshold, lad_code=lad.strip().upper() if lad else None, cold_spots=found
    )


@router.get("/snapshots", response_model=list[Snapshot], responses=PROBLEMS.only(400, 404))
async def list_coverage_snapshots(
    conn: ReadDbDep,
    lad: LadCodeQuery = None,
) -> list[Snapshot]:
    """England's (or a district's) recorded coverage over time, oldest first."""
    if lad is None:
        return await coverage.snapshots(conn, "england")
    return await coverage.snapshots(conn, "lad", lad)


@router.post(
    "/snapshots", status_code=201, response_model=SnapshotTaken, responses=PROBLEMS.only(401, 403)
)
async def take_coverage_snapshot(conn: DbDep, user: AdminUser, on: Today) -> SnapshotTaken:
    """Record today's coverage of England and every district (replacing today's, if any)."""
    written = await coverage.take_snapshot(conn, on, actor=user.actor)
    return SnapshotTaken(taken_on=on, england=written[0], districts=len(written) - 1)


@router.post("/refresh", response_model=RefreshSummary, responses=PROBLEMS.only(401, 403))
async def refresh_coverage(
    conn: DbDep, user: AdminUser, on: Today, settings: GroupSettingsDep
) -> RefreshSummary:
    """Recompute all coverage nationally on today's date (admins): areas cut again by LSOAs."""
    return await coverage.refresh_all(
        conn, as_of=on, active_months=settings.group_active_months, actor=user.actor
    )
