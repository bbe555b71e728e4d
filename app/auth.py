"""The caller of a request, from an ``Authorization: Bearer`` or ``X-API-Key`` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.db import DbDep
from geo.access import Principal, Role, authenticate


async def current_principal(request: Request, conn: DbDep) -> Principal:
    """Authenticate the request's key, if any; no key means the public role."""
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else None
    secret = secret or request.headers.get("x-api-key")
    return await authenticate(conn, secret)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def requires(*roles: Role):  # noqa: ANN201 - returns a FastAPI dependency
    """A dependency admitting only callers with one of ``roles`` (checked before the body)."""

    async def check(user: CurrentUser) -> Principal:
        user.require(*roles)
        return user

    return check


OfficerUser = Annotated[Principal, Depends(requires("officer", "admin"))]
AdminUser = Annotated[Principal, Depends(requires("admin"))]
ManagerUser = Annotated[Principal, Depends(requires("group_manager", "officer", "admin"))]
