"""The strings the service takes, as the OpenAPI document declares them.

A NUL character: refused at the edge, naming the parameter, and documented so.

PostgreSQL text cannot hold U+0000, so no value that reaches the database may carry one.
Until now a NUL was refused only when the database (or psycopg) met it, with a 400 that named
no parameter, and only for text that was stored; the OpenAPI document let every free-text
string hold one. :func:`refuse_nul` (a dependency of every route) refuses a NUL in any query
parameter or JSON body value with a 400 naming where it was, and :func:`declare_strings` writes the
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

from app.documents import Document, amend_openapi, objects_in, operations
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
    """Refuse a NUL character in the request's query or JSON body (400, naming it)."""
    # A path segment with a NUL matches no value a path parameter names: its route answers 404
    # or refuses it by its pattern (422), as for any other unknown segment.
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
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
    for schema in objects_in(node):
        if schema.get("type") == "string" and not any(k in schema for k in _BOUNDED):
            schema["pattern"] = NO_NUL_PATTERN
        if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
            schema.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})  # open objects' keys


def _decimals_as_numbers(document: Document) -> None:
    """Drop the unbounded string branch pydantic gives a decimal beside its number branch."""
    for schema in objects_in(document):
        branches = schema.get("anyOf")
        if isinstance(branches, list) and any(b.get("type") == "number" for b in branches):
            schema["anyOf"] = [b for b in branches if b != {"type": "string"}]
            if len(schema["anyOf"]) == 1:
                schema.update(schema.pop("anyOf")[0])


def _declare(document: Document) -> None:
    """Decimals as numbers, then no NUL in any string the service takes."""
    _decimals_as_numbers(document)  # first: the NUL rule would bound the bare string branch
    for operation in operations(document):
        _exclude_nul(operation.get("parameters", []))
        _exclude_nul(operation.get("requestBody", {}))
    _exclude_nul(document.get("components", {}).get("schemas", {}))


def declare_strings(app: FastAPI) -> None:
    """Make the document say which strings the service takes: no NUL; decimals as numbers."""
    amend_openapi(app, _declare)
