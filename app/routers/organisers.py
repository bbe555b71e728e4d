"""Community organiser routes: the organisers, their patches, and progress to the target."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from starlette.convertors import register_url_convertor

from app.auth import AdminUser, CurrentUser
from app.db import DbDep
from app.http import today_utc
from app.problems import PROBLEM_JSON
from app.routers.groups import ReferenceConvertor, Rules
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


class OrganiserReferenceConvertor(ReferenceConvertor):
    """An organiser's reference: ``CO-`` and digits (``/organisers/progress`` is not one)."""

    regex = "CO-[0-9]+"


register_url_convertor("organiser_reference", OrganiserReferenceConvertor())

Today = Annotated[date, Depends(today_utc)]
Reference = Annotated[
    str,
    Path(
        max_length=21,
        pattern=r"^CO-[0-9]{5,18}$",
        description="The organiser's reference, e.g. CO-00042.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(max_length=64, description='The version last seen, as its ETag (`"3"`).'),
]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid input (the patch, a date)", **_PROBLEM},
    401: {"description": "No API key, or an unknown or revoked one", **_PROBLEM},
    403: {"description": "Only admins record and edit organisers", **_PROBLEM},
    404: {"description": "No such organiser", **_PROBLEM},
    412: {"description": "If-Match names an older version", **_PROBLEM},
}


def _only(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {k: v for k, v in _RESPONSES.items() if k in statuses}


def _etag(version: int) -> str:
    """The ETag of an organiser version."""
    return f'"{version}"'


def _version_of(if_match: str | None) -> int | None:
    """The version an If-Match header names (None for none or ``*``; -1 if not ours)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.split(",")[0].strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() and len(tag) < 12 else -1


@router.get("/organisers/progress", response_model=Progress)
async def progress(
    conn: DbDep,
    on: Today,
    synthetic: Annotated[
        bool, Query(description="Count generated (synthetic) organisers too.")
    ] = False,
) -> Progress:
    """Progress towards the national target of 5,000 trained community organisers."""
    return await organisers.progress(conn, on, synthetic=synthetic)


@router.get("/organisers", response_model=OrganiserPage, responses=_only(400))
async def list_organisers(
    conn: DbDep,
    lad: Annotated[
        str | None,
        Query(max_length=9, pattern=r"^E0[6-9][0-9]{6}$", description="A district (LAD) code."),
    ] = None,
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
    responses=_only(400, 401, 403),
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
    response.headers["Location"] = f"/organisers/{created.reference}"
    response.headers["ETag"] = _etag(created.version)
    return created


@router.get(
    "/organisers/{reference:organiser_reference}",
    response_model=OrganiserPublic | OrganiserPrivate,
    responses=_only(401, 404),
)
async def get_organiser(
    conn: DbDep, user: CurrentUser, reference: Reference
) -> OrganiserPublic | OrganiserPrivate:
    """An organiser, with contact details for admins and officers of the patch's districts."""
    return await organisers.get_organiser(conn, reference, user)


@router.patch(
    "/organisers/{reference:organiser_reference}",
    response_model=OrganiserPrivate,
    responses=_only(400, 401, 403, 404, 412),
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
        conn, reference, changes, user, on, rules, _version_of(if_match)
    )
    response.headers["ETag"] = _etag(updated.version)
    return updated
