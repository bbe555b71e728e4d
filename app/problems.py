"""RFC 9457 problem responses: the one map from domain errors to HTTP statuses."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    DataUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    PlatoonsError,
    StaleVersion,
    SubmissionRefused,
    TooManyRequests,
    Unauthenticated,
    UnprocessableGeometry,
)

logger = logging.getLogger("platoons.http")
PROBLEM_JSON = "application/problem+json"

# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[PlatoonsError], int], ...] = (
    (NotFound, 404),
    (UnprocessableGeometry, 422),
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (StaleVersion, 412),  # a Conflict, but the precondition (If-Match) is what failed
    (Conflict, 409),
    (SubmissionRefused, 422),
    (TooManyRequests, 429),
    (DataUnavailable, 503),
    (DatabaseUnavailable, 503),
)


# OpenAPI ``responses=`` of a route: status -> declaration.
Responses = dict[int | str, dict[str, Any]]
# Statuses that mean the same on every route, described once here.
SHARED_DESCRIPTIONS: dict[int, str] = {
    412: "If-Match names an older version",
    428: "If-Match is missing",
}


class Problems:
    """The problem answers a router's routes may give, each status described once per router.

    Only the statuses and descriptions are declared: :func:`document_problems` gives every
    error response its problem+json body in the OpenAPI document.
    """

    def __init__(self, descriptions: Mapping[int, str]) -> None:
        self.descriptions = {**SHARED_DESCRIPTIONS, **descriptions}

    def only(self, *statuses: int) -> Responses:
        """The declarations of these statuses, for a route's ``responses=``."""
        return {status: self._declaration(status) for status in statuses}

    def all(self) -> Responses:
        """The declarations of every status described (shared ones excepted)."""
        return self.only(*(s for s in self.descriptions if s not in SHARED_DESCRIPTIONS))

    def _declaration(self, status: int) -> dict[str, Any]:
        declaration: dict[str, Any] = {"description": self.descriptions[status]}
        if status == 429:  # RFC 9110, 10.2.3: when to try again
            declaration["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        return declaration


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    """Return a problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: PlatoonsError) -> int:
    """Return the HTTP status of a domain error (500 for one not in the map)."""
    return next((status for cls, status in STATUS_BY_ERROR if isinstance(error, cls)), 500)


async def _platoons_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, PlatoonsError)
    status = status_for(error)
    if status >= 500:
        logger.error(
            "%s on %s %s: %s",
            type(error).__name__,
            request.method,
            request.url.path,
            error,
            exc_info=error.__cause__,
        )
    extra: dict[str, object] = {"parameter": error.parameter} if error.parameter else {}
    if isinstance(error, Conflict) and not isinstance(error, StaleVersion):
        extra["allowed"] = error.allowed  # the next steps that are legal (maybe none)
    if isinstance(error, SubmissionRefused):
        extra["reasons"] = error.reasons
    response = problem(status, error.title, error.message, **extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="platoons"'
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)  # RFC 9110, 10.2.3
    return response


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "parameter": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
            "message": e["msg"],
        }
        for e in error.errors()
    ]
    detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


# The methods a route may have (OPTIONS is answered by CORS, app/security.py).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the application answers at the request's path.

    Starlette's 405 names the methods of the first route whose path matches only (``GET``
    for ``/groups/NG-000001``, which has ``PATCH`` too); asking every route, for every method,
    names them all, for routes added later as well.
    """
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    response = problem(error.status_code, "HTTP error", str(error.detail))
    # Keep the exception's headers: a 405 must say what is allowed (RFC 9110, 15.5.6).
    response.headers.update(error.headers or {})
    if error.status_code == 405 and (methods := allowed_methods(request)):
        response.headers["Allow"] = ", ".join(methods)
    return response


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details: what went wrong, safe to show to users.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "parameter": {"type": "string", "description": "The input at fault."},
        "errors": {
            "type": "array",
            "description": "Each invalid input (422).",
            "items": {
                "type": "object",
                "properties": {"parameter": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The steps the current status allows (409).",
        },
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Every failed check (422 on submission).",
        },
    },
}


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what every error is: a problem+json body.

    FastAPI documents 422 as its own ``HTTPValidationError`` JSON, which this service never
    sends, and leaves the other error statuses undocumented; every error response (and the
    ``default`` one, for statuses an operation does not list) becomes a ``Problem``.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, response in responses.items():
                    if status.isdigit() and int(status) >= 400:
                        response["content"] = content
                responses.setdefault(
                    "default", {"description": "An error (RFC 9457 problem)", "content": content}
                )
        for unused in ("HTTPValidationError", "ValidationError"):
            if f'"#/components/schemas/{unused}"' not in json.dumps(document["paths"]):
                schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def register_problem_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every error into a problem+json body (and say so)."""
    app.add_exception_handler(PlatoonsError, _platoons_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    document_problems(app)
