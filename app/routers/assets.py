"""Assets of community value: the register, lifecycle steps, deadlines and feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.responses import JSONResponse

from app.auth import CurrentUser, ManagerUser
from app.db import DbDep
from app.dependencies import Today
from app.http import GeoJSONResponse, choice_segment
from app.links import links
from app.parameters import GROUP_REFERENCE_PATTERN, RegisterLadQuery
from app.problems import Problems
from app.versions import IfMatch, tagged, version_from_if_match
from geo import amenity_bids, assets, rights
from geo.amenity_bids import AmenityBid, AmenityBidEvent, BidInput, BidStatus, BidStepInput
from geo.assets import Asset, AssetEvent, AssetInput, Eligibility, StepInput, UpcomingDeadline
from geo.planning import reads as planning_reads

router = APIRouter(tags=["assets of community value"])
# Step routes match their steps only: POST /assets/1/history is a 405, not a step called so.
choice_segment("asset_step", rights.STEPS)
choice_segment("amenity_bid_step", amenity_bids.BID_STEPS)


AssetId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The asset's id.")]
GroupQuery = Annotated[
    str | None,
    Query(
        max_length=20,
        pattern=GROUP_REFERENCE_PATTERN,
        description="A neighbourhood group's reference: assets in its area or that it acted on.",
    ),
]
PROBLEMS = Problems(
    {
        400: "A date in the future, a missing reason or group",
        401: "No API key",
        403: "The key's role or district does not allow this",
        404: "No such asset",
        409: "The status or a statutory window forbids it (`allowed`)",
    }
)
STEP_PROBLEMS = PROBLEMS.only(400, 401, 403, 404, 409, 412)
BID_PROBLEMS = Problems(
    {
        **PROBLEMS.descriptions,
        400: "Not a state-owned amenity, a missing reason or terms",
        404: "No such asset or bid",
        409: "The bid's status forbids it (`allowed`), or a duplicate",
    }
)


@router.post(
    "/assets",
    status_code=201,
    response_model=Asset,
    responses=PROBLEMS.only(400, 401, 403),
    openapi_extra=links(
        201,
        {"assetId": "$response.body#/id"},
        "GET /assets/{assetId}",
        "GET /assets/{assetId}/history",
        "GET /assets/{assetId}/eligibility",
        "POST /assets/{assetId}/{step}",
        "POST /assets/{assetId}/amenity-bids",
        "GET /assets/{assetId}/amenity-bids",
        "GET /maps/assets/{assetId}/card",
    ),
)
async def create_asset(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    data: Annotated[AssetInput, Body()],
    response: Response,
) -> Any:
    """Record an asset in the register; its LSOA, district and IMD decile are derived."""
    created = await assets.create_asset(conn, data, user, on)
    return tagged(response, created, f"/assets/{created.id}")


@router.get("/assets", response_model=list[Asset])
async def list_assets(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    status: Annotated[rights.Status | None, Query()] = None,
    category: Annotated[assets.Category | None, Query()] = None,
    max_decile: Annotated[
        int | None, Query(ge=1, le=10, description="Only assets in IMD deciles up to this.")
    ] = None,
    group: GroupQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The register, filtered by district, group, status, category and deprivation decile."""
    return await assets.list_assets(
        conn,
        on,
        lad=lad,
        status=status,
        category=category,
        max_decile=max_decile,
        group=group,
        limit=limit,
    )


@router.get("/assets/deadlines", response_model=list[UpcomingDeadline])
async def upcoming_deadlines(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    group: GroupQuery = None,
    days: Annotated[int, Query(ge=0, le=3660)] = 30,
) -> Any:
    """Statutory deadlines ending in the next ``days`` days (today included)."""
    return await assets.upcoming_deadlines(conn, on, days, lad, group)


@router.get(
    "/deadlines.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def deadlines_calendar(
    conn: DbDep,
    on: Today,
    lad: RegisterLadQuery = None,
    group: GroupQuery = None,
    days: Annotated[int, Query(ge=0, le=3660)] = 365,
) -> Response:
    """The deadlines as an iCalendar feed (RFC 5545), one all-day event per deadline.

    Assets of community value and neighbourhood planning (areas, forums, plans) together.
    """
    found = await assets.upcoming_deadlines(conn, on, days, lad, group)
    found += await planning_reads.calendar_deadlines(conn, on, days, lad, group)
    found.sort(key=lambda d: (d.ends, d.uid or "", d.asset_id, d.kind))
    scope = ", ".join(code for code in (lad, group) if code)
    title = f"Community deadlines{f' ({scope})' if scope else ''}"
    return Response(
        assets.deadlines_ics(found, datetime.now(UTC), title),
        media_type="text/calendar; charset=utf-8",
    )


@router.get("/assets.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_assets_csv(conn: DbDep, lad: RegisterLadQuery = None) -> Response:
    """The register in the national planning data format (asset-of-community-value), CSV."""
    return Response(
        assets.to_csv(await assets.export_register(conn, lad)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="asset-of-community-value.csv"'},
    )


@router.get("/assets.geojson", response_class=GeoJSONResponse)
async def export_assets_geojson(conn: DbDep, lad: RegisterLadQuery = None) -> JSONResponse:
    """The register in the national planning data format, as GeoJSON."""
    return GeoJSONResponse(assets.to_geojson(await assets.export_register(conn, lad)))


@router.get("/assets/{assetId}", response_model=Asset, responses=PROBLEMS.only(404))
async def get_asset(
    conn: DbDep,
    on: Today,
    assetId: AssetId,  # noqa: N803 - the API's parameter name
    response: Response,
) -> Any:
    """One asset with its deadlines and the steps legal today."""
    return tagged(response, await assets.get_asset(conn, assetId, on))


@router.get(
    "/assets/{assetId}/history",
    response_model=list[AssetEvent],
    responses=PROBLEMS.only(404),
)
async def asset_history(conn: DbDep, assetId: AssetId) -> Any:  # noqa: N803
    """Every step of the asset: who took it, when it took effect and when it was recorded."""
    return await assets.history(conn, assetId)


@router.get(
    "/assets/{assetId}/eligibility",
    response_model=Eligibility,
    responses=PROBLEMS.only(400, 404),
)
async def asset_eligibility(
    conn: DbDep,
    on: Today,
    assetId: AssetId,  # noqa: N803
    group: Annotated[str, Query(min_length=2, max_length=200)],
) -> Any:
    """Whether a group may nominate the asset, or ask to be treated as a bidder, today."""
    return await assets.eligibility(conn, assetId, group, on)


BidId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The bid's id.")]


@router.post(
    "/assets/{assetId}/amenity-bids",
    status_code=201,
    response_model=AmenityBid,
    tags=["threatened amenity bids"],
    responses=BID_PROBLEMS.only(400, 401, 403, 404, 409),
    openapi_extra=links(
        201,
        {"bidId": "$response.body#/id"},
        "GET /amenity-bids/{bidId}",
        "GET /amenity-bids/{bidId}/history",
        "POST /amenity-bids/{bidId}/{step}",
    ),
)
async def express_interest(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    assetId: AssetId,  # noqa: N803
    body: BidInput,
    response: Response,
) -> Any:
    """A group's expression of interest in running a threatened state-owned amenity."""
    bid = await amenity_bids.express_interest(conn, assetId, body, user, on)
    return tagged(response, bid, f"/amenity-bids/{bid.id}")


@router.get(
    "/assets/{assetId}/amenity-bids",
    response_model=list[AmenityBid],
    tags=["threatened amenity bids"],
    responses=BID_PROBLEMS.only(404),
)
async def list_asset_bids(conn: DbDep, on: Today, assetId: AssetId) -> Any:  # noqa: N803
    """Every bid to run one amenity, newest first."""
    return await amenity_bids.list_bids(conn, on, asset_id=assetId)


@router.get("/amenity-bids", response_model=list[AmenityBid], tags=["threatened amenity bids"])
async def list_amenity_bids(
    conn: DbDep, on: Today, lad: RegisterLadQuery = None, status: BidStatus | None = None
) -> Any:
    """Bids to run threatened amenities, newest first, by district or status."""
    return await amenity_bids.list_bids(conn, on, lad=lad, status=status)


@router.get(
    "/amenity-bids/{bidId}",
    response_model=AmenityBid,
    tags=["threatened amenity bids"],
    responses=BID_PROBLEMS.only(404),
)
async def get_amenity_bid(conn: DbDep, on: Today, bidId: BidId, response: Response) -> Any:  # noqa: N803
    """One bid with its decision date and the steps legal now."""
    return tagged(response, await amenity_bids.get_bid(conn, bidId, on))


@router.get(
    "/amenity-bids/{bidId}/history",
    response_model=list[AmenityBidEvent],
    tags=["threatened amenity bids"],
    responses=BID_PROBLEMS.only(404),
)
async def amenity_bid_history(conn: DbDep, bidId: BidId) -> Any:  # noqa: N803
    """Every step of a bid: who took it and when."""
    return await amenity_bids.history(conn, bidId)


@router.post(
    "/amenity-bids/{bidId}/{step:amenity_bid_step}",
    response_model=AmenityBid,
    tags=["threatened amenity bids"],
    responses=BID_PROBLEMS.only(400, 401, 403, 404, 409, 412),
)
async def take_amenity_bid_step(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    bidId: BidId,  # noqa: N803
    step: Annotated[amenity_bids.BidStep, Path(description="accept, reject, withdraw, ...")],
    response: Response,
    body: Annotated[BidStepInput | None, Body()] = None,
    if_match: IfMatch = None,
) -> Any:
    """Take one step on a bid (officers decide; the group may withdraw)."""
    bid = await amenity_bids.take_bid_step(
        conn, bidId, step, body or BidStepInput(), user, on, version_from_if_match(if_match)
    )
    return tagged(response, bid)


@router.post("/assets/{assetId}/{step:asset_step}", response_model=Asset, responses=STEP_PROBLEMS)
async def take_asset_step(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    assetId: AssetId,  # noqa: N803
    step: Annotated[rights.Step, Path(description="The lifecycle step (see geo/rights.py).")],
    response: Response,
    body: Annotated[StepInput | None, Body()] = None,
    if_match: IfMatch = None,
) -> Any:
    """Take one lifecycle step; checked against the status, the statutory windows and today."""
    done = await assets.take_step(
        conn, assetId, step, body or StepInput(), user, on, version_from_if_match(if_match)
    )
    return tagged(response, done)
