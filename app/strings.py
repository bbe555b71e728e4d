"""The strings the service takes, as the OpenAPI document declares them.

A NUL character: refused at the edge, naming the parameter, and documented so.

PostgreSQL text cannot hold U+0000, so no value that reaches the database may carry one.
Until now a NUL was refused only when the database (or psycopg) met it, with a 400 that named
no parameter, and only for text that was stored; the OpenAPI document let every free-text
string hold one. :func:`refuse_nul` (a dependency of every route) refuses a NUL in any query,
path or JSON body value with a 400 naming where it was, and :func:`declare_strings` writes the
rule into the document: every string schema that no pattern, enumeration or format already
bounds gets the pattern ``^[^\\u0000]*$``.

A decimal (pydantic's ``Decimal``): pydantic documents it as a number or *any* string, and
then refuses a string that is not a number, or one out of the field's bounds, which the
string branch does not carry. The document gives the number only, with its bounds: what a
JSON client sends (a string holding a number is still read, as JSON Schema cannot say).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request

from geo.errors import InvalidInput

NUL = "\x00"
NO_NUL_PATTERN = "^[^\\u0000]*$"
# A string schema bounded already: a pattern (ours exclude NUL), an enumeration, a format.
_BOUNDED = ("pattern", "enum", "const", "format")


def _shown(name: str) -> str:
    """A name as a problem may quote it: a NUL written as the six characters ``\\u0000``."""
    return name.replace(NUL, "\\u0000")


def _nul_at(value: Any, path: str) -> str | None:
    """The dotted path of the first key or string holding a NUL in a JSON value, if any."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{_shown(key)}" if path else _shown(key)
            if NUL in key:
                return here
            found = _nul_at(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


async def refuse_nul(request: Request) -> None:
    """Refuse a NUL character in the request's query, path or JSON body (400, naming it)."""
    for name, value in (*request.query_params.multi_items(), *request.path_params.items()):
        if NUL in name or NUL in str(value):
            raise InvalidInput("text contains a NUL character", parameter=_shown(name))
    body = await request.body()  # read once; the route's own parsing reuses it
    if b"\\u0000" not in body:  # a NUL in JSON text is always written so (RFC 8259, 7)
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # not JSON: the route's own parsing answers
    where = _nul_at(parsed, "")
    if where is not None:
        raise InvalidInput("text contains a NUL character", parameter=where or "body")


def _exclude_nul(node: Any) -> None:
    """Give every unbounded string schema under ``node`` the no-NUL pattern."""
    if isinstance(node, list):
        for item in node:
            _exclude_nul(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not any(k in node for k in _BOUNDED):
        node["pattern"] = NO_NUL_PATTERN
    if node.get("type") == "object" and node.get("additionalProperties") is not False:
        node.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})  # keys, of open objects
    for value in node.values():
        _exclude_nul(value)


def _decimals_as_numbers(node: Any) -> None:
    """Drop the unbounded string branch pydantic gives a decimal beside its number branch."""
    if isinstance(node, list):
        for item in node:
            _decimals_as_numbers(item)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("anyOf")
    if isinstance(branches, list) and any(b.get("type") == "number" for b in branches):
        node["anyOf"] = [b for b in branches if b != {"type": "string"}]
        if len(node["anyOf"]) == 1:
            node.update(node.pop("anyOf")[0])
    for value in node.values():
        _decimals_as_numbers(value)


def declare_strings(app: FastAPI) -> None:
    """Make the document say which strings the service takes: no NUL; decimals as numbers."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        _decimals_as_numbers(document)  # before the NUL rule bounds the bare string branch
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict):
                    _exclude_nul(operation.get("parameters", []))
                    _exclude_nul(operation.get("requestBody", {}))
        _exclude_nul(document.get("components", {}).get("schemas", {}))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
