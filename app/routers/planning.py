"""Neighbourhood planning: areas, forums and plans through their statutory stages; the levy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.responses import JSONResponse

from app.auth import CurrentUser, ManagerUser, OfficerUser
from app.db import DbDep
from app.dependencies import Today
from app.http import GeoJSONResponse, choice_segment
from app.links import links
from app.problems import Problems
from geo.planning import exchange, rules, store
from geo.planning.models import (
    Area,
    AreaAtPoint,
    AreaInput,
    DwellingsInput,
    Forum,
    ForumInput,
    Plan,
    PlanInput,
    PlanningEvent,
    ReceiptInput,
    StepInput,
    UpcomingPlanningDeadline,
)

router = APIRouter(tags=["neighbourhood planning"])
# Step routes match their steps only: POST /neighbourhood-areas/1/history is a 405 naming GET,
# not a step called "history" (app/http.py).
choice_segment("area_step", rules.AREA_STEPS)
choice_segment("forum_step", rules.FORUM_STEPS)
choice_segment("plan_step", rules.PLAN_STEPS)

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
LadQuery = Annotated[
    str | None,
    Query(max_length=9, pattern=r"^E0[6-9][0-9]{6}$", description="A district (LAD) code."),
]
PROBLEMS = Problems(
    {
        400: "A date in the future, a missing reason, an unknown group",
        401: "No API key",
        403: "The key's role or district does not allow this",
        404: "No such area, forum or plan",
        409: "The stage or a statutory period forbids it (`allowed`)",
        422: "The geometry is invalid, outside England or out of range",
    }
)
WRITE_PROBLEMS = PROBLEMS.all()
POINT_PROBLEMS = Problems({404: "The point is outside England"})


def _creation(model: type, id_name: str, *targets: str) -> dict[str, Any]:
    """A creating route's declaration: 201 with ``model``, linked by its id to ``targets``."""
    return {
        "status_code": 201,
        "response_model": model,
        "responses": WRITE_PROBLEMS,
        "openapi_extra": links(201, {id_name: "$response.body#/id"}, *targets),
    }


@router.post(
    "/neighbourhood-areas",
    **_creation(
        Area,
        "areaId",
        "GET /neighbourhood-areas/{areaId}",
        "GET /neighbourhood-areas/{areaId}/history",
        "GET /neighbourhood-areas/{areaId}/levy",
        "POST /neighbourhood-areas/{areaId}/levy-receipts",
        "PUT /neighbourhood-areas/{areaId}/dwellings",
        "POST /neighbourhood-areas/{areaId}/forums",
        "POST /neighbourhood-areas/{areaId}/plans",
        "POST /neighbourhood-areas/{areaId}/{step}",
    ),
)
async def create_area(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    data: Annotated[AreaInput, Body()],
    response: Response,
) -> Any:
    """Record an application for a neighbourhood area (and its publicity, if given)."""
    area = await store.create_area(conn, data, user, on)
    response.headers["Location"] = f"/neighbourhood-areas/{area.id}"
    return area


@router.get("/neighbourhood-areas", response_model=list[Area])
async def list_areas(
    conn: DbDep,
    on: Today,
    lad: LadQuery = None,
    status: Annotated[rules.AreaStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Neighbourhood areas touching a district or in a status, with their stage."""
    return await store.list_areas(conn, on, lad=lad, status=status, limit=limit)


@router.get("/neighbourhood-areas/deadlines", response_model=list[UpcomingPlanningDeadline])
async def upcoming_deadlines(
    conn: DbDep,
    on: Today,
    lad: LadQuery = None,
    group: Annotated[str | None, Query(pattern=r"^NG-[0-9]{6,18}$")] = None,
    days: Annotated[int, Query(ge=0, le=3660)] = 30,
) -> Any:
    """Neighbourhood planning deadlines ending in the next ``days`` days (today included)."""
    return await store.upcoming_deadlines(conn, on, days, lad, group)


@router.get(
    "/neighbourhood-areas.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    conn: DbDep,
    on: Today,
    lad: LadQuery = None,
    dataset: exchange.Dataset = "neighbourhood-plan-area",
) -> Response:
    """Areas, forums or plans in the national planning data format, as CSV."""
    records = await exchange.export_records(conn, dataset, on, lad)
    return Response(
        exchange.to_csv(dataset, records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{dataset}.csv"'},
    )


@router.get("/neighbourhood-areas.geojson", response_class=GeoJSONResponse)
async def export_geojson(
    conn: DbDep,
    on: Today,
    lad: LadQuery = None,
    dataset: exchange.Dataset = "neighbourhood-plan-area",
) -> JSONResponse:
    """Areas, forums or plans in the national planning data format, as GeoJSON."""
    records = await exchange.export_records(conn, dataset, on, lad)
    return GeoJSONResponse(exchange.to_geojson(records))


@router.get(
    "/neighbourhood-areas/at",
    response_model=list[AreaAtPoint],
    responses=POINT_PROBLEMS.only(404),
)
async def areas_at(
    conn: DbDep,
    on: Today,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> Any:
    """The live areas at a point: stage, forum, next deadline and this year's levy portion."""
    return await store.areas_at(conn, lon, lat, on)


@router.get("/neighbourhood-areas/{areaId}", response_model=Area, responses=PROBLEMS.only(404))
async def get_area(conn: DbDep, on: Today, areaId: Id) -> Any:  # noqa: N803
    """One area with its deadlines, forums, plans and the steps legal today."""
    return await store.get_area(conn, areaId, on)


@router.get(
    "/neighbourhood-areas/{areaId}/history",
    response_model=list[PlanningEvent],
    responses=PROBLEMS.only(404),
)
async def area_history(conn: DbDep, areaId: Id) -> Any:  # noqa: N803
    """Every step of the area, its forums, plans and levy: who, when it took effect, when."""
    return await store.history(conn, areaId)


@router.get("/neighbourhood-areas/{areaId}/levy", responses=PROBLEMS.only(404))
async def area_levy(
    conn: DbDep,
    areaId: Id,  # noqa: N803
    year: Annotated[
        int, Query(ge=2010, le=2100, description="Financial year beginning 1 April of it.")
    ],
) -> Any:
    """The neighbourhood portion of the levy for a financial year: receipts, rules, cap."""
    return await store.levy_year(conn, areaId, year)


@router.post(
    "/neighbourhood-areas/{areaId}/levy-receipts", status_code=201, responses=WRITE_PROBLEMS
)
async def record_receipt(
    conn: DbDep,
    user: OfficerUser,
    on: Today,
    areaId: Id,  # noqa: N803
    data: Annotated[ReceiptInput, Body()],
) -> Any:
    """Record a levy receipt from development in the area."""
    receipt_id = await store.record_receipt(conn, areaId, data, user, on)
    return {"id": receipt_id, "area_id": areaId}


@router.put("/neighbourhood-areas/{areaId}/dwellings", responses=WRITE_PROBLEMS)
async def record_dwellings(
    conn: DbDep,
    user: OfficerUser,
    on: Today,
    areaId: Id,  # noqa: N803
    data: Annotated[DwellingsInput, Body()],
) -> Any:
    """Record the council-tax dwellings (and cap index figures) of a financial year."""
    await store.record_dwellings(conn, areaId, data, user, on)
    return {"area_id": areaId, **data.model_dump(mode="json")}


@router.post(
    "/neighbourhood-areas/{areaId}/forums",
    **_creation(
        Forum,
        "forumId",
        "GET /neighbourhood-forums/{forumId}",
        "POST /neighbourhood-forums/{forumId}/{step}",
    ),
)
async def apply_forum(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    areaId: Id,  # noqa: N803
    data: Annotated[ForumInput, Body()],
    response: Response,
) -> Any:
    """Record an application to be the area's neighbourhood forum."""
    forum = await store.apply_forum(conn, areaId, data, user, on)
    response.headers["Location"] = f"/neighbourhood-forums/{forum.id}"
    return forum


@router.post(
    "/neighbourhood-areas/{areaId}/plans",
    **_creation(
        Plan,
        "planId",
        "GET /neighbourhood-plans/{planId}",
        "POST /neighbourhood-plans/{planId}/{step}",
    ),
)
async def create_plan(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    areaId: Id,  # noqa: N803
    data: Annotated[PlanInput, Body()],
    response: Response,
) -> Any:
    """Start a neighbourhood plan (draft) for a designated area with a qualifying body."""
    plan = await store.create_plan(conn, areaId, data, user, on)
    response.headers["Location"] = f"/neighbourhood-plans/{plan.id}"
    return plan


@router.post(
    "/neighbourhood-areas/{areaId}/{step:area_step}", response_model=Area, responses=WRITE_PROBLEMS
)
async def take_area_step(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    areaId: Id,  # noqa: N803
    step: Annotated[rules.AreaStep, Path(description="publicise, designate, refuse, withdraw")],
    body: Annotated[StepInput | None, Body()] = None,
) -> Any:
    """Take one step on an area application, checked against its statutory periods."""
    return await store.take_area_step(conn, areaId, step, body or StepInput(), user, on)


@router.get("/neighbourhood-forums/{forumId}", response_model=Forum, responses=PROBLEMS.only(404))
async def get_forum(conn: DbDep, on: Today, forumId: Id) -> Any:  # noqa: N803
    """One forum with its deadlines (designation expiry) and the steps legal today."""
    return await store.get_forum(conn, forumId, on)


@router.post(
    "/neighbourhood-forums/{forumId}/{step:forum_step}",
    response_model=Forum,
    responses=WRITE_PROBLEMS,
)
async def take_forum_step(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    forumId: Id,  # noqa: N803
    step: Annotated[rules.ForumStep, Path(description="publicise, designate, refuse, ...")],
    body: Annotated[StepInput | None, Body()] = None,
) -> Any:
    """Take one step on a forum (designation needs 21+ members, open, constituted)."""
    return await store.take_forum_step(conn, forumId, step, body or StepInput(), user, on)


@router.get("/neighbourhood-plans/{planId}", response_model=Plan, responses=PROBLEMS.only(404))
async def get_plan(conn: DbDep, on: Today, planId: Id) -> Any:  # noqa: N803
    """One plan with its stage, documents, next deadline and the steps legal today."""
    return await store.get_plan(conn, planId, on)


@router.post(
    "/neighbourhood-plans/{planId}/{step:plan_step}", response_model=Plan, responses=WRITE_PROBLEMS
)
async def take_plan_step(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    planId: Id,  # noqa: N803
    step: Annotated[rules.PlanStep, Path(description="start_consultation, submit, ...")],
    body: Annotated[StepInput | None, Body()] = None,
) -> Any:
    """Take one step on a plan, checked against its statutory periods."""
    return await store.take_plan_step(conn, planId, step, body or StepInput(), user, on)
