"""Query parameters that only go together: declared in OpenAPI as one ``oneOf`` object.

Some operations take a place in one of several shapes (``lon`` and ``lat``, or a
``postcode``, or an ``area``). Separate optional parameters let a client (or a generator)
send ``lat`` alone, which the service must refuse. A route says which parameters form the
alternatives with :func:`alternatives`; :func:`declare_alternatives` then replaces those
parameters in the document with one ``style: form, explode: true`` object parameter whose
schema is a ``oneOf`` of the combinations allowed (OpenAPI 3.1, 4.8.12.4), which is
serialised exactly as the separate parameters FastAPI still parses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from app.documents import Document, amend_openapi, operations

EXTENSION = "x-platoons-alternatives"


def alternatives(name: str, description: str, *combinations: Sequence[str]) -> dict[str, Any]:
    """A route's ``openapi_extra``: exactly one of ``combinations`` of its query parameters."""
    return {EXTENSION: {"name": name, "description": description, "oneOf": combinations}}


def _combine(operation: dict[str, Any]) -> None:
    declared = operation.pop(EXTENSION)
    combinations: list[list[str]] = [list(c) for c in declared["oneOf"]]
    members = {name for combination in combinations for name in combination}
    parameters = operation.get("parameters", [])
    by_name = {p["name"]: p for p in parameters if p["in"] == "query" and p["name"] in members}
    missing = members - set(by_name)
    if missing:
        raise ValueError(f"{operation.get('operationId')}: no query parameters {missing}")

    def schema_of(name: str) -> dict[str, Any]:
        schema = dict(by_name[name].get("schema", {}))
        # FastAPI writes an optional parameter as anyOf [T, null]: inside the object it is T.
        variants = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
        if len(variants) == 1:
            schema = {**variants[0], **schema}
        if "description" in by_name[name]:
            schema.setdefault("description", by_name[name]["description"])
        return schema

    one_of = [
        {
            "type": "object",
            "title": " and ".join(combination),
            "properties": {name: schema_of(name) for name in combination},
            "required": combination,
            "additionalProperties": False,
        }
        for combination in combinations
    ]
    operation["parameters"] = [p for p in parameters if p not in by_name.values()] + [
        {
            "name": declared["name"],
            "in": "query",
            "required": True,
            "style": "form",
            "explode": True,
            "description": declared["description"],
            "schema": {"oneOf": one_of},
        }
    ]


def declare_alternatives(app: FastAPI) -> None:
    """Make the OpenAPI document declare every route's alternative parameters as one object."""

    def combine_all(document: Document) -> None:
        for operation in operations(document):
            if EXTENSION in operation:
                _combine(operation)

    amend_openapi(app, combine_all)


# A place given as a point (lon and lat, e.g. a map click) or as a postcode.
POINT_OR_POSTCODE = alternatives(
    "place",
    "Where: a point (lon and lat, e.g. a map click) or a postcode.",
    ("lon", "lat"),
    ("postcode",),
)
