"""Amendments to the OpenAPI document FastAPI builds: each applied once, in order, when built.

FastAPI writes the document from the routes; a few things it cannot write (links between
operations, parameters that go together, what strings may hold) are amendments: functions
of the whole document, registered with :func:`amend_openapi` by ``app/main.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

Document = dict[str, Any]


def amend_openapi(app: FastAPI, amend: Callable[[Document], None]) -> None:
    """Apply ``amend`` to the document once, after the amendments registered before it."""
    build = app.openapi

    def openapi() -> Document:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        amend(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def operations(document: Document) -> Iterator[dict[str, Any]]:
    """Every operation object of the document's paths."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict):
                yield operation


def objects_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object under ``node`` (itself included), parents before their children."""
    if isinstance(node, list):
        for item in node:
            yield from objects_in(item)
    elif isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from objects_in(value)
