"""Street-level crime routes: an area's summary (JSON or CSV) and the beat-meeting pack."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.crime_pack import render_pack
from app.db import DbDep
from app.parameters import (
    GROUP_REFERENCE_PATTERN,
    H3_CELL_PATTERN,
    MONTH_PATTERN,
    one_of_patterns,
)
from app.problems import Problems
from geo import gss
from geo.crime import reads
from geo.crime.models import CrimeSummary
from geo.crime.types import crime_type_names
from geo.drawn_areas import DrawnAreaOrFeature, feature_geometry

router = APIRouter(prefix="/crime", tags=["crime"])

PROBLEMS = Problems(
    {
        400: "from after to, more than 120 months, or a drawn area that is not a simple "
        "polygon in England of at most 2,000 km²",
        404: "No such area, or no crime data for its force",
    }
).all()
_CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}, **PROBLEMS}

# police.uk's categories, current and earlier: what `type` may name.
CRIME_TYPES: dict[str, Any] = {"enum": sorted(crime_type_names())}
AreaQuery = Annotated[
    str,
    Query(
        max_length=32,
        pattern=one_of_patterns(
            gss.LSOA_PATTERN,
            gss.WARD_PATTERN,
            gss.LAD_PATTERN,
            GROUP_REFERENCE_PATTERN,
            H3_CELL_PATTERN,
        ),
        description="An LSOA (E01…), ward (E05…) or district (E06…-E09…) GSS code, a "
        "neighbourhood group reference (NG-…) or an H3 cell of resolution 6-9.",
    ),
]
FromQuery = Annotated[
    str | None,
    Query(alias="from", max_length=7, pattern=MONTH_PATTERN, description="First month, YYYY-MM."),
]
ToQuery = Annotated[
    str | None,
    Query(
        max_length=7,
        pattern=MONTH_PATTERN,
        description="Last month, YYYY-MM (default: the latest published).",
    ),
]
TypeQuery = Annotated[
    str | None,
    Query(
        alias="type",
        max_length=64,
        json_schema_extra=CRIME_TYPES,
        description="One police.uk crime type (default: all).",
    ),
]


class PolygonSummaryRequest(BaseModel):
    """A drawn area (GeoJSON Polygon or MultiPolygon, or a Feature holding one) and months."""

    geometry: DrawnAreaOrFeature = Field(description="GeoJSON geometry in EPSG:4326.")
    from_month: str | None = Field(default=None, alias="from", pattern=MONTH_PATTERN)
    to_month: str | None = Field(default=None, alias="to", pattern=MONTH_PATTERN)
    crime_type: str | None = Field(
        default=None, alias="type", max_length=64, json_schema_extra=CRIME_TYPES
    )


async def _summary(
    conn: DbDep,
    area: AreaQuery,
    from_month: FromQuery = None,
    to: ToQuery = None,
    crime_type: TypeQuery = None,
) -> CrimeSummary:
    """Resolve the area named in the query and summarise it (both GET routes' work)."""
    resolved = await reads.resolve_area(conn, area)
    return await reads.crime_summary(conn, resolved, from_month, to, crime_type)


async def _polygon_summary(
    conn: DbDep, body: Annotated[PolygonSummaryRequest, Body()]
) -> CrimeSummary:
    """Resolve the drawn area in the body and summarise it (both POST routes' work)."""
    geometry = feature_geometry(body.geometry)
    resolved = await reads.resolve_polygon(conn, geometry)
    return await reads.crime_summary(
        conn, resolved, body.from_month, body.to_month, body.crime_type
    )


AreaSummary = Annotated[CrimeSummary, Depends(_summary)]
PolygonSummary = Annotated[CrimeSummary, Depends(_polygon_summary)]


def _csv_response(summary: CrimeSummary) -> Response:
    """The summary's month-by-type table as a CSV download."""
    name = (summary.area.code or "drawn-area").lower()
    return Response(
        reads.summary_csv(summary),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="crime-{name}-{summary.from_month}-{summary.to_month}.csv"'
            )
        },
    )


@router.get("/summary", response_model=CrimeSummary, responses=PROBLEMS)
async def summary(found: AreaSummary) -> CrimeSummary:
    """An area's street-level crime by month and type, rate, context, places and trend."""
    return found


@router.get("/summary.csv", response_class=Response, responses=_CSV)
async def summary_csv(found: AreaSummary) -> Response:
    """The summary's month-by-type table as CSV (months with no data say so)."""
    return _csv_response(found)


@router.post("/summary", response_model=CrimeSummary, responses=PROBLEMS)
async def polygon_summary(found: PolygonSummary) -> CrimeSummary:
    """The summary of a drawn polygon (crimes whose map point lies inside)."""
    return found


@router.post("/summary.csv", response_class=Response, responses=_CSV)
async def polygon_summary_csv(found: PolygonSummary) -> Response:
    """A drawn polygon's month-by-type table as CSV."""
    return _csv_response(found)


@router.get("/pack", response_class=HTMLResponse, responses=PROBLEMS)
async def pack(
    request: Request,
    conn: DbDep,
    area: AreaQuery,
    months: Annotated[int, Query(ge=1, le=36, description="Months the pack covers.")] = 6,
    to: ToQuery = None,
) -> HTMLResponse:
    """The beat-meeting pack: a printable A4 page for an area's recent months."""
    return HTMLResponse(await render_pack(request, conn, area, months, to))
