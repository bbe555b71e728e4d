"""Neighbourhood planning: areas, forums and plans through their statutory stages; the levy."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.auth import CurrentUser, ManagerUser, OfficerUser
from app.db import DbDep
from app.dependencies import Today
from app.http import GeoJSONResponse, choice_segment
from app.links import links
from app.parameters import GROUP_REFERENCE_PATTERN, RegisterLadQuery
from app.problems import Problems
from geo.planning import areas, exchange, forums, plans, reads, receipts, rules
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


# Each entity's step type, the steps named in its route's documentation, its answer and the
# function taking a step; each child's input, answer and the function recording it.
STEP_ENTITIES: dict[str, tuple[Any, str, type[BaseModel], Callable[..., Awaitable[Any]]]] = {
    "area": (rules.AreaStep, "publicise, designate, refuse, withdraw", Area, areas.take_area_step),
    "forum": (rules.ForumStep, "publicise, designate, refuse, ...", Forum, forums.take_forum_step),
    "plan": (rules.PlanStep, "start_consultation, submit, ...", Plan, plans.take_plan_step),
}
CHILDREN: dict[str, tuple[type[BaseModel], type[BaseModel], Callable[..., Awaitable[Any]]]] = {
    "forum": (ForumInput, Forum, forums.apply_forum),
    "plan": (PlanInput, Plan, plans.create_plan),
}


def _made_route(
    path: str, name: str, doc: str, params: list[inspect.Parameter], **kwargs: Any
) -> Callable[[Callable[..., Awaitable[Any]]], None]:
    """A decorator adding a POST route made by a factory below: the handler takes ``params``
    (as FastAPI reads them) and is named and documented as a written handler would be."""

    def add(endpoint: Callable[..., Awaitable[Any]]) -> None:
        endpoint.__name__ = endpoint.__qualname__ = name
        endpoint.__doc__ = doc
        endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        router.add_api_route(
            path, endpoint, methods=["POST"], name=name, responses=WRITE_PROBLEMS, **kwargs
        )

    return add


def _params(*named: tuple[str, Any]) -> list[inspect.Parameter]:
    """Route parameters (name, annotation), after the connection, the caller and today."""
    given = [("conn", DbDep), ("user", ManagerUser), ("on", Today), *named]
    return [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a) for n, a in given]


def _child_route(child: str, name: str, doc: str) -> None:
    """``POST /neighbourhood-areas/{areaId}/<child>s``: record a forum or plan for an area."""
    data_type, model, create = CHILDREN[child]
    params = _params(("areaId", Id), ("data", Annotated[data_type, Body()]))
    params.append(
        inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY, annotation=Response)
    )
    path = f"/neighbourhood-areas/{{areaId}}/{child}s"
    # OpenAPI links from the new forum or plan to its read and its steps (app/links.py).
    to = (
        f"GET /neighbourhood-{child}s/{{{child}Id}}",
        f"POST /neighbourhood-{child}s/{{{child}Id}}/{{step}}",
    )
    made_links = links(201, {f"{child}Id": "$response.body#/id"}, *to)

    @_made_route(
        path, name, doc, params, status_code=201, response_model=model, openapi_extra=made_links
    )
    async def endpoint(**given: Any) -> Any:
        made = await create(
            given["conn"], given["areaId"], given["data"], given["user"], given["on"]
        )
        given["response"].headers["Location"] = f"/neighbourhood-{child}s/{made.id}"
        return made


def _step_route(entity: str, doc: str) -> None:
    """``POST /neighbourhood-<entity>s/{<entity>Id}/{step}``: one step on an area, forum, plan."""
    step_type, described, model, take = STEP_ENTITIES[entity]
    id_name = f"{entity}Id"
    params = _params((id_name, Id), ("step", Annotated[step_type, Path(description=described)]))
    params[1] = params[1].replace(annotation=CurrentUser)
    body = Annotated[StepInput | None, Body()]
    params.append(
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body, default=None)
    )
    path = f"/neighbourhood-{entity}s/{{{id_name}}}/{{step:{entity}_step}}"

    @_made_route(path, f"take_{entity}_step", doc, params, response_model=model)
    async def endpoint(**given: Any) -> Any:
        request = given["body"] or StepInput()
        return await take(
            given["conn"], given[id_name], given["step"], request, given["user"], given["on"]
        )


@router.post(
    "/neighbourhood-areas",
    status_code=201,
    response_model=Area,
    responses=WRITE_PROBLEMS,
    openapi_extra=links(
        201,
        {"areaId": "$response.body#/id"},
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
    area = await areas.create_area(conn, data, user, on)
    response.headers["Location"] = f"/neighbourhood-areas/{area.id}"
    return area


@router.get("/neighbourhood-areas", response_model=list[Area])
async def list_areas(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    status: Annotated[rules.AreaStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Neighbourhood areas touching a district or in a status, with their stage."""
    return await reads.list_areas(conn, on, lad=lad, status=status, limit=limit)


@router.get("/neighbourhood-areas/deadlines", response_model=list[UpcomingPlanningDeadline])
async def upcoming_deadlines(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    group: Annotated[str | None, Query(pattern=GROUP_REFERENCE_PATTERN)] = None,
    days: Annotated[int, Query(ge=0, le=3660)] = 30,
) -> Any:
    """Neighbourhood planning deadlines ending in the next ``days`` days (today included)."""
    return await reads.upcoming_deadlines(conn, on, days, lad, group)


async def _exported(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    dataset: exchange.Dataset = "neighbourhood-plan-area",
) -> tuple[exchange.Dataset, list[dict[str, Any]]]:
    """The export's dataset and its records (the two formats' shared query)."""
    return dataset, await exchange.export_records(conn, dataset, on, lad)


Exported = Annotated[tuple[exchange.Dataset, list[dict[str, Any]]], Depends(_exported)]


@router.get(
    "/neighbourhood-areas.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(exported: Exported) -> Response:
    """Areas, forums or plans in the national planning data format, as CSV."""
    dataset, records = exported
    return Response(
        exchange.to_csv(dataset, records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{dataset}.csv"'},
    )


@router.get("/neighbourhood-areas.geojson", response_class=GeoJSONResponse)
async def export_geojson(exported: Exported) -> JSONResponse:
    """Areas, forums or plans in the national planning data format, as GeoJSON."""
    return GeoJSONResponse(exchange.to_geojson(exported[1]))


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
    return await reads.areas_at(conn, lon, lat, on)


@router.get("/neighbourhood-areas/{areaId}", response_model=Area, responses=PROBLEMS.only(404))
async def get_area(conn: DbDep, on: Today, areaId: Id) -> Any:  # noqa: N803
    """One area with its deadlines, forums, plans and the steps legal today."""
    return await reads.get_area(conn, areaId, on)


@router.get(
    "/neighbourhood-areas/{areaId}/history",
    response_model=list[PlanningEvent],
    responses=PROBLEMS.only(404),
)
async def area_history(conn: DbDep, areaId: Id) -> Any:  # noqa: N803
    """Every step of the area, its forums, plans and levy: who, when it took effect, when."""
    return await reads.history(conn, areaId)


@router.get("/neighbourhood-areas/{areaId}/levy", responses=PROBLEMS.only(404))
async def area_levy(
    conn: DbDep,
    areaId: Id,  # noqa: N803
    year: Annotated[
        int, Query(ge=2010, le=2100, description="Financial year beginning 1 April of it.")
    ],
) -> Any:
    """The neighbourhood portion of the levy for a financial year: receipts, rules, cap."""
    return await receipts.levy_year(conn, areaId, year)


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
    receipt_id = await receipts.record_receipt(conn, areaId, data, user, on)
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
    await receipts.record_dwellings(conn, areaId, data, user, on)
    return {"area_id": areaId, **data.model_dump(mode="json")}


_child_route("forum", "apply_forum", "Record an application to be the area's neighbourhood forum.")
_child_route(
    "plan",
    "create_plan",
    "Start a neighbourhood plan (draft) for a designated area with a qualifying body.",
)
_step_route("area", "Take one step on an area application, checked against its statutory periods.")


@router.get("/neighbourhood-forums/{forumId}", response_model=Forum, responses=PROBLEMS.only(404))
async def get_forum(conn: DbDep, on: Today, forumId: Id) -> Any:  # noqa: N803
    """One forum with its deadlines (designation expiry) and the steps legal today."""
    return await reads.get_forum(conn, forumId, on)


_step_route("forum", "Take one step on a forum (designation needs 21+ members, open, constituted).")


@router.get("/neighbourhood-plans/{planId}", response_model=Plan, responses=PROBLEMS.only(404))
async def get_plan(conn: DbDep, on: Today, planId: Id) -> Any:  # noqa: N803
    """One plan with its stage, documents, next deadline and the steps legal today."""
    return await reads.get_plan(conn, planId, on)


_step_route("plan", "Take one step on a plan, checked against its statutory periods.")
