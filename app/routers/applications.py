"""Grant application routes (apply, edit, submit, decide, pay) and the 360Giving export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict, Field

from app.auth import CurrentUser, ManagerUser, OfficerUser
from app.db import DbDep
from app.http import today_utc
from app.links import links
from app.problems import Problems, problem
from app.versions import IfMatch, tagged, version_from_if_match
from geo import applications, giving360
from geo.access import Principal
from geo.applications import Application, ApplicationChanges, ApplicationDraft

router = APIRouter(tags=["applications"])

ApplicationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The application's id.")]
PROBLEMS = Problems(
    {
        400: "An unknown programme, an area outside England or not a simple polygon, an amount "
        "in more than pence",
        401: "No API key",
        403: "The key's role or scope does not allow this",
        404: "No such application, or not visible to this key",
        409: "The status does not allow this step (`allowed` lists those that are)",
        422: "Checks failed: `reasons` lists every one",
    }
)
WRITE_PROBLEMS = PROBLEMS.only(400, 401, 403, 404, 409, 412)
EXPORT_PROBLEMS = Problems(
    {
        404: "No grants yet: a 360Giving package needs at least one grant, so with none "
        "approved or paid the answer is this problem, never an invalid package"
    }
)


class Rejection(BaseModel):
    """Why an application is rejected (shown to the applicant)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


@dataclass(frozen=True)
class ApplicationWrite:
    """A write on the application a route names, checked against the version If-Match names."""

    conn: AsyncConnection
    application_id: int
    if_match: str | None
    response: Response

    @property
    def version(self) -> int | None:
        """The version If-Match names (None for no header, or ``*``)."""
        return version_from_if_match(self.if_match)

    async def answer(self, written: Awaitable[Application]) -> Application:
        """The written application, tagged with its new version's ETag."""
        return tagged(self.response, await written)


def application_write(
    conn: DbDep,
    applicationId: ApplicationId,  # noqa: N803 - the API's parameter name
    response: Response,
    if_match: IfMatch = None,
) -> ApplicationWrite:
    """What every write route takes besides its caller and body."""
    return ApplicationWrite(conn, applicationId, if_match, response)


Write = Annotated[ApplicationWrite, Depends(application_write)]


@router.post(
    "/applications",
    status_code=201,
    response_model=Application,
    responses=PROBLEMS.only(400, 401, 403),
    openapi_extra=links(
        201,
        {"applicationId": "$response.body#/id"},
        "GET /applications/{applicationId}",
        "PATCH /applications/{applicationId}",
        "POST /applications/{applicationId}/submit",
        "POST /applications/{applicationId}/approve",
        "POST /applications/{applicationId}/reject",
        "POST /applications/{applicationId}/pay",
    ),
)
async def create_application(
    conn: DbDep,
    user: ManagerUser,
    draft: Annotated[ApplicationDraft, Body()],
    response: Response,
) -> Any:
    """Start a draft application to a programme (group managers, officers, admins)."""
    created = await applications.create_application(conn, draft, user)
    return tagged(response, created, f"/applications/{created.id}")


@router.get(
    "/applications/{applicationId}",
    response_model=Application,
    responses=PROBLEMS.only(404),
)
async def get_application(
    conn: DbDep,
    user: CurrentUser,
    applicationId: ApplicationId,  # noqa: N803 - the API's parameter name
    response: Response,
) -> Any:
    """One application (its creator, officers of its district and admins; 404 to others)."""
    return tagged(response, await applications.get_application(conn, applicationId, user))


@router.patch(
    "/applications/{applicationId}",
    response_model=Application,
    responses={**WRITE_PROBLEMS, **PROBLEMS.only(428)},
)
async def update_application(
    user: ManagerUser, write: Write, changes: Annotated[ApplicationChanges, Body()]
) -> Any:
    """Change a draft (its creator; needs If-Match with the version's ETag)."""
    if write.if_match is None:
        return problem(
            428,
            "Precondition required",
            "send If-Match with the application's ETag (from GET) so that changes made "
            "meanwhile are not overwritten",
        )
    return await write.answer(
        applications.update_application(
            write.conn, write.application_id, changes, user, write.version
        )
    )


@router.post(
    "/applications/{applicationId}/submit",
    response_model=Application,
    responses={**WRITE_PROBLEMS, **PROBLEMS.only(422)},
)
async def submit_application(user: ManagerUser, write: Write) -> Any:
    """Submit a draft: eligibility, dates, award limits, budget and matched funding are checked."""
    return await write.answer(
        applications.submit_application(
            write.conn, write.application_id, user, today_utc(), write.version
        )
    )


# An officer's step that takes no body: the domain function taking it.
OfficerStep = Callable[[AsyncConnection, int, Principal, int | None], Awaitable[Application]]


def _officer_step_route(step: str, take: OfficerStep, doc: str) -> None:
    """``POST /applications/{applicationId}/<step>``: approve or pay, one route each."""

    async def endpoint(user: OfficerUser, write: Write) -> Any:
        return await write.answer(take(write.conn, write.application_id, user, write.version))

    endpoint.__name__ = endpoint.__qualname__ = f"{step}_application"
    endpoint.__doc__ = doc
    path = f"/applications/{{applicationId}}/{step}"
    router.post(path, response_model=Application, responses=WRITE_PROBLEMS)(endpoint)


_officer_step_route(
    "approve",
    applications.approve_application,
    "Approve a submitted application, committing its amount (officers of its district, admins).",
)


@router.post(
    "/applications/{applicationId}/reject",
    response_model=Application,
    responses=WRITE_PROBLEMS,
)
async def reject_application(
    user: OfficerUser, write: Write, rejection: Annotated[Rejection, Body()]
) -> Any:
    """Reject a submitted application with a reason (officers of its district, admins)."""
    return await write.answer(
        applications.reject_application(
            write.conn, write.application_id, user, rejection.reason, write.version
        )
    )


_officer_step_route(
    "pay",
    applications.pay_application,
    "Record payment of an approved grant (officers of its district, admins).",
)


ProgrammeFilter = Annotated[
    str | None, Query(max_length=64, description="Only this programme's grants.")
]


@router.get(
    "/grants/360giving.json",
    tags=["360Giving"],
    responses=EXPORT_PROBLEMS.only(404),
)
async def grants_360giving_json(conn: DbDep, programme: ProgrammeFilter = None) -> JSONResponse:
    """Approved and paid grants as a 360Giving data package (JSON) with its metadata."""
    return JSONResponse(await giving360.package(conn, programme))


@router.get(
    "/grants/360giving.csv",
    tags=["360Giving"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def grants_360giving_csv(conn: DbDep, programme: ProgrammeFilter = None) -> Response:
    """Approved and paid grants as a 360Giving flat CSV (the standard's column titles)."""
    return Response(
        await giving360.csv_text(conn, programme),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="360giving.csv"'},
    )
