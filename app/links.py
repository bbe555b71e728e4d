"""OpenAPI links: from an operation that creates something to the operations that use it.

A route names the operations its answer leads to (``"GET /applications/{applicationId}"``)
and where their path parameters come from in that answer; :func:`declare_links` writes them
as OpenAPI links (3.1, 4.8.20) on the answer's status, resolved to the targets' operation
ids. Clients see what to call next, and schemathesis' stateful phase chains the calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from app.documents import amend_openapi

EXTENSION = "x-platoons-links"


def links(status: int, parameters: Mapping[str, str], *targets: str) -> dict[str, Any]:
    """A route's ``openapi_extra``: its ``status`` answer links to ``targets`` ("METHOD /path").

    ``parameters`` maps a target's path parameter to a runtime expression, e.g.
    ``{"applicationId": "$response.body#/id"}``; each target gets those its path has.
    """
    return {EXTENSION: {"status": str(status), "parameters": dict(parameters), "to": targets}}


def _resolve(document: dict[str, Any]) -> None:
    operation_ids = {
        f"{method.upper()} {path}": operation["operationId"]
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or EXTENSION not in operation:
                continue
            declared = operation.pop(EXTENSION)
            response = operation["responses"][declared["status"]]
            found = response.setdefault("links", {})
            for target in declared["to"]:
                if target not in operation_ids:
                    raise ValueError(f"{operation['operationId']}: no operation {target}")
                path = target.split(" ", 1)[1]
                parameters = {
                    name: expression
                    for name, expression in declared["parameters"].items()
                    if f"{{{name}}}" in path
                }
                found[operation_ids[target]] = {
                    "operationId": operation_ids[target],
                    "parameters": parameters,
                }


def declare_links(app: FastAPI) -> None:
    """Make the OpenAPI document carry every route's declared links."""
    amend_openapi(app, _resolve)
