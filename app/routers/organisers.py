"""Community organiser routes: the organisers, their patches, and progress to the target."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response

from app.auth import AdminUser, CurrentUser
from app.db import DbDep
from app.dependencies import Rules, Today
from app.http import reference_segment
from app.links import links
from app.parameters import RegisterLadQuery
from app.problems import Problems
from app.versions import IfMatch, tagged, version_from_if_match
from geo import organisers
from geo.organisers import (
    OrganiserChanges,
    OrganiserInput,
    OrganiserPage,
    OrganiserPrivate,
    OrganiserPublic,
    Progress,
)
from geo.registry_rules import MAX_PAGE

router = APIRouter(tags=["community organisers"])


# An organiser's reference, ``CO-`` and digits, is its own path segment (app/http.py), so
# ``/organisers/progress`` is not one.
reference_segment("organiser_reference", "CO")

Reference = Annotated[
    str,
    Path(
        max_length=21,
        pattern=r"^CO-[0-9]{5,18}$",
        description="The organiser's reference, e.g. CO-00042.",
    ),
]
PROBLEMS = Problems(
    {
        400: "Invalid input (the patch, a date)",
        401: "No API key, or an unknown or revoked one",
        403: "Only admins record and edit organisers",
        404: "No such organiser",
    }
)


@router.get("/organisers/progress", response_model=Progress)
async def organiser_progress(
    conn: DbDep,
    on: Today,
    synthetic: Annotated[
        bool, Query(description="Count generated (synthetic) organisers too.")
    ] = False,
) -> Progress:
    """Progress towards the national target of 5,000 trained community organisers."""
    return await organisers.progress(conn, on, synthetic=synthetic)


@router.get("/organisers", response_model=OrganiserPage, responses=PROBLEMS.only(400))
async def list_organisers(
    conn: DbDep,
    lad: RegisterLadQuery = None,
    active: Annotated[bool | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> OrganiserPage:
    """Organisers (public records), by district and activity, oldest first."""
    return await organisers.list_organisers(
        conn, lad=lad, active=active, limit=limit, offset=offset
    )


@router.post(
    "/organisers",
    status_code=201,
    response_model=OrganiserPrivate,
    responses=PROBLEMS.only(400, 401, 403),
    openapi_extra=links(
        201,
        {"reference": "$response.body#/reference"},
        "GET /organisers/{reference}",
        "PATCH /organisers/{reference}",
    ),
)
async def create_organiser(
    conn: DbDep,
    user: AdminUser,
    on: Today,
    rules: Rules,
    data: Annotated[OrganiserInput, Body()],
    response: Response,
) -> OrganiserPrivate:
    """Record a trained organiser and their patch (admins)."""
    created = await organisers.create_organiser(conn, data, user, on, rules)
    return tagged(response, created, f"/organisers/{created.reference}")


@router.get(
    "/organisers/{reference:organiser_reference}",
    response_model=OrganiserPublic | OrganiserPrivate,
    responses=PROBLEMS.only(401, 404),
)
async def get_organiser(
    conn: DbDep, user: CurrentUser, reference: Reference
) -> OrganiserPublic | OrganiserPrivate:
    """An organiser, with contact details for admins and officers of the patch's districts."""
    return await organisers.get_organiser(conn, reference, user)


@router.patch(
    "/organisers/{reference:organiser_reference}",
    response_model=OrganiserPrivate,
    responses=PROBLEMS.only(400, 401, 403, 404, 412),
)
async def update_organiser(
    conn: DbDep,
    user: AdminUser,
    on: Today,
    rules: Rules,
    reference: Reference,
    changes: Annotated[OrganiserChanges, Body()],
    response: Response,
    if_match: IfMatch = None,
) -> OrganiserPrivate:
    """Edit an organiser (admins; only the fields given), checked against `If-Match`."""
    updated = await organisers.update_organiser(
        conn, reference, changes, user, on, rules, version_from_if_match(if_match)
    )
    return tagged(response, updated)
