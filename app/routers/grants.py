"""Grant routes: programmes (read by all, written by officers and admins) and eligibility."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field, WithJsonSchema

from app.alternatives import alternatives
from app.auth import AdminUser
from app.db import DbDep
from app.http import today_utc
from app.links import links
from app.parameters import ELIGIBILITY_AREA_PATTERN, FullDate, PostcodeQuery
from app.problems import Problems
from app.replicas import ReadDbDep
from geo import place_resolution as places
from geo.drawn_areas import WORLD_BOUNDS, drawn_area_schema, feature_geometry
from geo.errors import InvalidInput
from geo.grants import checks as grants

router = APIRouter(tags=["grants"])
PLACE_PROBLEMS = Problems(
    {
        400: "The drawn area is not a simple polygon mostly in England of a checkable size",
        404: "No such programme or area, or the point or postcode is outside England",
    }
)


class EligibilityAnswers(BaseModel):
    """Answers for one place: one per programme checked."""

    answers: list[grants.EligibilityAnswer]


class PolygonCheck(BaseModel):
    """A drawn or uploaded area to check."""

    # Anywhere on Earth: a polygon outside England is a 404, as a point there is.
    geometry: Annotated[
        dict[str, Any], WithJsonSchema(drawn_area_schema(WORLD_BOUNDS, feature=True))
    ] = Field(
        description="GeoJSON Polygon or MultiPolygon in longitude/latitude (EPSG:4326)",
        examples=[
            {
                "type": "Polygon",
                "coordinates": [
                    [[-2.27, 53.455], [-2.25, 53.455], [-2.25, 53.47], [-2.27, 53.455]]
                ],
            }
        ],
    )
    programme: str | None = Field(None, description="A programme id; all open ones if omitted.")


def _catalogues(request: Request) -> grants.CatalogueCache:
    """The process's grant catalogue (programmes and editions of the latest data version)."""
    cache: grants.CatalogueCache | None = getattr(request.app.state, "grant_catalogues", None)
    if cache is None:
        cache = request.app.state.grant_catalogues = grants.CatalogueCache()
    return cache


def _today(on: date | None) -> date:
    """The date programmes must be open on (today in UTC unless given)."""
    return on or today_utc()


@router.get(
    "/eligibility",
    response_model=EligibilityAnswers,
    responses=PLACE_PROBLEMS.only(404),
    openapi_extra=alternatives(
        "place",
        "The place: a map click (lon and lat), a postcode, or an area's GSS code.",
        ("lon", "lat"),
        ("postcode",),
        ("area",),
    ),
)
async def eligibility_at(
    request: Request,
    conn: ReadDbDep,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    postcode: PostcodeQuery = None,
    area: Annotated[
        str | None,
        Query(
            max_length=9,
            pattern=ELIGIBILITY_AREA_PATTERN,
            description="LSOA, ward or LAD GSS code",
        ),
    ] = None,
    programme: Annotated[str | None, Query(max_length=64)] = None,
    on: Annotated[FullDate | None, Query(description="Date programmes must be open on.")] = None,
) -> EligibilityAnswers:
    """Is a map click, postcode or area eligible for a programme (or every open one), and why."""
    place = places.Place(lon=lon, lat=lat, postcode=postcode, code=area)
    return EligibilityAnswers(
        answers=await grants.check_eligibility(
            conn, place, programme, _today(on), _catalogues(request)
        )
    )


@router.post(
    "/eligibility", response_model=EligibilityAnswers, responses=PLACE_PROBLEMS.only(400, 404)
)
async def eligibility_of_polygon(
    request: Request,
    conn: ReadDbDep,
    check: Annotated[PolygonCheck, Body()],
    on: Annotated[FullDate | None, Query()] = None,
) -> EligibilityAnswers:
    """Is a drawn area eligible: residents in qualifying LSOAs, area-weighted in EPSG:27700."""
    place = places.Place(geometry=feature_geometry(check.geometry))
    return EligibilityAnswers(
        answers=await grants.check_eligibility(
            conn, place, check.programme, _today(on), _catalogues(request)
        )
    )


@router.get("/programmes", response_model=list[grants.Programme])
async def list_programmes(
    conn: ReadDbDep,
    open_on: Annotated[FullDate | None, Query(description="Only those open on a date.")] = None,
) -> list[grants.Programme]:
    """Every grant programme (or those open on a date)."""
    return await grants.list_programmes(conn, open_on)


@router.get("/programmes/{programmeId}", response_model=grants.Programme)
async def get_programme(conn: ReadDbDep, programmeId: str) -> grants.Programme:  # noqa: N803 - API name
    """One grant programme."""
    return await grants.get_programme(conn, programmeId)


@router.put(
    "/programmes/{programmeId}",
    response_model=grants.Programme,
    openapi_extra=links(
        200,
        {"programmeId": "$response.body#/id"},
        "GET /programmes/{programmeId}",
    ),
)
async def save_programme(
    conn: DbDep,
    user: AdminUser,
    programmeId: str,  # noqa: N803
    spec: Annotated[grants.ProgrammeSpec, Body()],
) -> grants.Programme:
    """Create or replace a programme (admins: programmes are national, budgets included)."""
    if spec.id != programmeId:
        raise InvalidInput("the body's id differs from the path's programmeId", parameter="id")
    return await grants.save_programme(conn, spec, actor=user.actor)
