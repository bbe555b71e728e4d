"""Neighbourhood group routes: the registry, finding a group, activity, ratings and the relay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from app.alternatives import POINT_OR_POSTCODE
from app.auth import AdminUser, CurrentUser, ManagerUser, OfficerUser
from app.db import DbDep
from app.dependencies import Fingerprint, Rules, Today
from app.http import reference_segment
from app.links import links
from app.parameters import GROUP_REFERENCE_PATTERN, BboxQuery, LadCodeQuery, PostcodeQuery
from app.problems import Problems
from app.versions import IfMatch, tagged, version_from_if_match
from geo import groups
from geo.errors import InvalidInput
from geo.groups import (
    ActivityInput,
    ActivityPrivate,
    ActivityPublic,
    CodeOfConduct,
    GroupChanges,
    GroupInput,
    GroupKind,
    GroupPage,
    GroupPrivate,
    GroupPublic,
    GroupsNear,
    ManagerInput,
    Managers,
    Message,
    MessageInput,
    MessageReceipt,
    ModerationInput,
    RatingInput,
    RatingPrivate,
    RatingPublic,
    RatingStatus,
)

router = APIRouter(tags=["neighbourhood groups"])


# A group's reference, ``NG-`` and digits, is its own path segment (app/http.py).
reference_segment("group_reference", "NG")


Reference = Annotated[
    str,
    Path(
        max_length=21,
        pattern=GROUP_REFERENCE_PATTERN,
        description="The group's reference, e.g. NG-000042.",
    ),
]
RatingId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The rating's id.")]
Limit = Annotated[int, Query(ge=1, le=groups.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
PROBLEMS = Problems(
    {
        400: "Invalid input (the area, the code of conduct, a date)",
        401: "No API key, or an unknown or revoked one",
        403: "The key's role or districts do not allow this",
        404: "No such group (or it is unlisted and hidden from you)",
        429: "An abuse limit is reached; retry after `Retry-After` seconds",
    }
)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """A ``bbox`` query parameter: four numbers separated by commas."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput("bbox must be four numbers", parameter="bbox") from exc
    if len(values) != 4:
        raise InvalidInput("bbox must be four numbers", parameter="bbox")
    return values[0], values[1], values[2], values[3]


@router.get("/groups/code-of-conduct", response_model=CodeOfConduct)
async def code_of_conduct() -> CodeOfConduct:
    """The neighbourhood code of conduct a group's leader accepts (its current version)."""
    return groups.CODE_OF_CONDUCT


@router.get(
    "/groups/near",
    response_model=GroupsNear,
    responses=PROBLEMS.only(400, 404),
    openapi_extra=POINT_OR_POSTCODE,
)
async def groups_near(
    conn: DbDep,
    on: Today,
    rules: Rules,
    lon: Annotated[
        float | None,
        Query(ge=-180, le=180, allow_inf_nan=False, description="Longitude (EPSG:4326)."),
    ] = None,
    lat: Annotated[
        float | None,
        Query(ge=-90, le=90, allow_inf_nan=False, description="Latitude (EPSG:4326)."),
    ] = None,
    postcode: PostcodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> GroupsNear:
    """Find a group: the active groups whose area covers a point or postcode, nearest first."""
    return await groups.groups_near(
        conn, on, rules, lon=lon, lat=lat, postcode=postcode, limit=limit
    )


@router.get("/groups", response_model=GroupPage, responses=PROBLEMS.only(400))
async def list_groups(
    conn: DbDep,
    on: Today,
    rules: Rules,
    lad: LadCodeQuery = None,
    active: Annotated[bool | None, Query(description="Only active (or inactive) groups.")] = None,
    kind: Annotated[GroupKind | None, Query()] = None,
    bbox: BboxQuery = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in name/description.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> GroupPage:
    """The public listing of groups, filtered and paged (oldest first)."""
    return await groups.list_groups(
        conn,
        on,
        rules,
        lad=lad,
        active=active,
        kind=kind,
        bbox=_bbox(bbox),
        q=q,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/groups",
    status_code=201,
    response_model=GroupPrivate,
    responses=PROBLEMS.only(400, 401, 403, 404),
    openapi_extra=links(
        201,
        {"reference": "$response.body#/reference"},
        "GET /groups/{reference}",
        "PATCH /groups/{reference}",
        "POST /groups/{reference}/managers",
        "POST /groups/{reference}/activities",
        "GET /groups/{reference}/activities",
        "POST /groups/{reference}/messages",
        "GET /groups/{reference}/messages",
        "POST /groups/{reference}/ratings",
        "GET /groups/{reference}/ratings",
    ),
)
async def create_group(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    rules: Rules,
    data: Annotated[GroupInput, Body()],
    response: Response,
) -> GroupPrivate:
    """Register a neighbourhood group; a group manager's key becomes its manager."""
    created = await groups.create_group(conn, data, user, on, rules)
    return tagged(response, created, f"/groups/{created.reference}")


@router.get(
    "/groups/{reference:group_reference}",
    response_model=GroupPublic | GroupPrivate,
    responses=PROBLEMS.only(401, 404),
)
async def get_group(
    conn: DbDep, user: CurrentUser, on: Today, rules: Rules, reference: Reference
) -> GroupPublic | GroupPrivate:
    """A group: its public listing, or with private fields for its managers, its districts'
    officers and admins."""
    return await groups.get_group(conn, reference, user, on, rules)


@router.patch(
    "/groups/{reference:group_reference}",
    response_model=GroupPrivate,
    responses=PROBLEMS.only(400, 401, 403, 404, 412),
)
async def update_group(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    changes: Annotated[GroupChanges, Body()],
    response: Response,
    if_match: IfMatch = None,
) -> GroupPrivate:
    """Edit a group (only the fields given), checked against `If-Match`."""
    updated = await groups.update_group(
        conn, reference, changes, user, on, rules, version_from_if_match(if_match)
    )
    return tagged(response, updated)


@router.post(
    "/groups/{reference:group_reference}/managers",
    response_model=Managers,
    responses=PROBLEMS.only(400, 401, 403, 404),
)
async def add_manager(
    conn: DbDep,
    user: AdminUser,
    on: Today,
    reference: Reference,
    data: Annotated[ManagerInput, Body()],
) -> Managers:
    """Make a group manager's key a manager of the group (admins)."""
    return await groups.add_manager(conn, reference, data.key_id, user, on)


@router.post(
    "/groups/{reference:group_reference}/activities",
    status_code=201,
    response_model=ActivityPrivate,
    responses=PROBLEMS.only(400, 401, 403, 404),
)
async def record_activity(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    data: Annotated[ActivityInput, Body()],
) -> ActivityPrivate:
    """Record a meeting, project or event (what keeps a group active)."""
    return await groups.record_activity(conn, reference, data, user, on, rules)


@router.get(
    "/groups/{reference:group_reference}/activities",
    response_model=list[ActivityPublic] | list[ActivityPrivate],
    responses=PROBLEMS.only(401, 404),
)
async def list_activities(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """A group's activity, latest first (kind, date and title for the public)."""
    return await groups.list_activities(
        conn, reference, user, on, rules, limit=limit, offset=offset
    )


@router.post(
    "/groups/{reference:group_reference}/messages",
    status_code=202,
    response_model=MessageReceipt,
    responses=PROBLEMS.only(404, 429),
)
async def send_message(
    conn: DbDep,
    on: Today,
    rules: Rules,
    fingerprint: Fingerprint,
    reference: Reference,
    data: Annotated[MessageInput, Body()],
) -> MessageReceipt:
    """Ask to join (or ask a question) through the relay form; the leader replies by e-mail."""
    return await groups.send_message(conn, reference, data, fingerprint, on, rules)


@router.get(
    "/groups/{reference:group_reference}/messages",
    response_model=list[Message],
    responses=PROBLEMS.only(401, 403, 404),
)
async def list_messages(
    conn: DbDep,
    user: ManagerUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[Message]:
    """Messages sent through the relay form (the group's managers, officers and admins)."""
    return await groups.list_messages(conn, reference, user, on, rules, limit=limit, offset=offset)


@router.post(
    "/groups/{reference:group_reference}/ratings",
    status_code=201,
    response_model=RatingPublic,
    responses=PROBLEMS.only(404, 429),
)
async def submit_rating(
    conn: DbDep,
    on: Today,
    rules: Rules,
    fingerprint: Fingerprint,
    reference: Reference,
    data: Annotated[RatingInput, Body()],
) -> RatingPublic:
    """Rate a group (1-5, with feedback); shown once an officer publishes it."""
    return await groups.submit_rating(conn, reference, data, fingerprint, on, rules)


@router.get(
    "/groups/{reference:group_reference}/ratings",
    response_model=list[RatingPublic] | list[RatingPrivate],
    responses=PROBLEMS.only(401, 404),
)
async def list_ratings(
    conn: DbDep,
    user: CurrentUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    status: Annotated[
        RatingStatus | None, Query(description="Moderators only: ratings of one status.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """A group's published ratings (every rating, for its moderators and managers)."""
    return await groups.list_ratings(
        conn, reference, user, on, rules, status=status, limit=limit, offset=offset
    )


@router.post(
    "/groups/{reference:group_reference}/ratings/{ratingId}/moderation",
    response_model=RatingPrivate,
    responses=PROBLEMS.only(400, 401, 403, 404),
)
async def moderate_rating(
    conn: DbDep,
    user: OfficerUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    ratingId: RatingId,  # noqa: N803 - the API's parameter name
    data: Annotated[ModerationInput, Body()],
) -> RatingPrivate:
    """Publish or reject a rating (officers of the group's districts, admins)."""
    return await groups.moderate_rating(conn, reference, ratingId, data.decision, user, on, rules)
