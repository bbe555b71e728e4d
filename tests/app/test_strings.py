"""Strings the service takes: a NUL is a 400 naming where it was; decimals are numbers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.strings import NO_NUL_PATTERN


@pytest.mark.parametrize(
    ("method", "url", "body", "parameter"),
    [
        ("GET", "/groups?q=a%00b", None, "q"),
        ("GET", "/crime/summary?area=E01%00", None, "area"),
        ("POST", "/groups/NG-000001/ratings", {"stars": 3, "comment": "ok\x00"}, "comment"),
        (
            "POST",
            "/eligibility",
            {"geometry": {"type": "Polygon", "coordinates": []}, "programme": "a\x00"},
            "programme",
        ),
        ("POST", "/crime/summary", {"geometry": {"type\x00": "P"}}, "geometry.type\\u0000"),
        ("GET", "/groups?a%00b=1", None, "a\\u0000b"),
        ("POST", "/crime/summary", {"geometry": {"a": [1, ["x\x00"]]}}, "geometry.a.1.0"),
    ],
)
def test_a_nul_anywhere_is_a_400_naming_it(
    client: TestClient, method: str, url: str, body: Any, parameter: str
) -> None:
    response = client.request(method, url, json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["parameter"] == parameter
    assert "NUL" in problem["detail"]


def test_an_escaped_backslash_u_is_not_a_nul(client: TestClient) -> None:
    # The text \u0000 (a backslash, then u0000) is six characters, none of them NUL.
    response = client.post("/groups/NG-999999/ratings", json={"stars": 3, "comment": "\\u0000"})
    assert response.status_code == 404, response.text


def _strings(node: Any) -> list[dict[str, Any]]:
    """Every string schema under a node of the document."""
    found = []
    if isinstance(node, list):
        for item in node:
            found += _strings(item)
    elif isinstance(node, dict):
        if node.get("type") == "string":
            found.append(node)
        for value in node.values():
            found += _strings(value)
    return found


def test_every_string_the_service_takes_is_declared_without_nul(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    taken = [
        schema
        for operations in document["paths"].values()
        for operation in operations.values()
        for schema in _strings([operation.get("parameters", []), operation.get("requestBody")])
    ] + _strings(document["components"]["schemas"])
    assert taken
    for schema in taken:
        # A pattern (ours exclude NUL), an enumeration or a format bounds it; else the rule.
        assert {"pattern", "enum", "const", "format"} & set(schema), schema
    rating = document["components"]["schemas"]["RatingInput"]["properties"]["comment"]
    assert rating["pattern"] == NO_NUL_PATTERN


def test_a_decimal_is_declared_as_a_number_with_its_bounds(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    index_year = document["components"]["schemas"]["DwellingsInput"]["properties"]["index_year"]
    assert index_year["anyOf"] == [
        {"type": "number", "maximum": 100000.0, "exclusiveMinimum": 0.0},
        {"type": "null"},
    ]
