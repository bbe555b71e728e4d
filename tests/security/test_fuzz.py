"""Property-based tests: generated geometries for POST /eligibility and for a group's area
(PATCH /groups/{reference}), generated CQL2 filters.

Whatever is sent, the answer is a 200 or a 4xx problem; never a 5xx, never a trace, and
never a crash of the process (the CQL2 parser used to overflow its stack on deep nesting).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import Cast, group_body

PROBLEM = "application/problem+json"
BOUNDED = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,  # the same inputs every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
)


def _answered(response: httpx.Response, allowed: set[int]) -> None:
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == response.status_code and isinstance(body["detail"], str)


# ---------------------------------------------------------------------------------------------
# Geometries

numbers = st.one_of(
    st.floats(min_value=-2.6, max_value=-2.1),  # around Trafford and Manchester
    st.floats(min_value=53.3, max_value=53.6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -0.0, 1e-320, 1e308, -180, 180, 90, -90]),
)
positions = st.one_of(
    st.lists(numbers, min_size=2, max_size=2),
    st.lists(numbers, min_size=0, max_size=4),
    st.just(["a", "b"]),
    st.just(None),
)


@st.composite
def rings(draw: st.DrawFn) -> list[Any]:
    points = draw(st.lists(positions, min_size=0, max_size=12))
    if points and draw(st.booleans()):
        points.append(points[0])  # usually closed, as GeoJSON requires
    return points


@st.composite
def small_squares(draw: st.DrawFn) -> dict[str, Any]:
    """A valid polygon somewhere around Greater Manchester (in or out of the loaded LADs)."""
    lon = draw(st.floats(min_value=-2.6, max_value=-2.0))
    lat = draw(st.floats(min_value=53.3, max_value=53.6))
    size = draw(st.floats(min_value=1e-4, max_value=0.05))
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
geometries = st.one_of(
    small_squares(),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Polygon", "MultiPolygon", "Point", "LineString", "polygon"]),
            "coordinates": st.one_of(
                st.lists(rings(), max_size=3),
                st.lists(st.lists(rings(), max_size=2), max_size=2),
                json_values,
            ),
        }
    ),
    st.fixed_dictionaries({"type": st.just("Feature"), "geometry": json_values | small_squares()}),
    json_values,
)


@BOUNDED
@given(geometry=geometries, programme=st.none() | st.text(max_size=10))
def test_any_geometry_gets_an_answer_or_a_problem(
    lenient: TestClient, geometry: Any, programme: str | None
) -> None:
    body = json.dumps({"geometry": geometry, "programme": programme}, allow_nan=True)
    response = lenient.post(
        "/eligibility", content=body.encode(), headers={"content-type": "application/json"}
    )
    _answered(response, {200, 400, 404, 422})


@pytest.fixture(scope="module")
def fuzzed_group(lenient: TestClient, cast: Cast) -> str:
    """A group whose area the fuzz below keeps trying to move (its URL)."""
    created = lenient.post("/groups", json=group_body(cast), headers=cast.headers("owner"))
    assert created.status_code == 201, created.text
    return f"/groups/{created.json()['reference']}"


@BOUNDED
@given(geometry=geometries)
def test_any_group_area_gets_an_answer_or_a_problem(
    lenient: TestClient, cast: Cast, fuzzed_group: str, geometry: Any
) -> None:
    body = json.dumps({"geometry": geometry}, allow_nan=True)
    response = lenient.patch(
        fuzzed_group,
        content=body.encode(),
        headers={"content-type": "application/json", **cast.headers("owner")},
    )
    # A valid square in the loaded districts moves the group; anything else is refused.
    _answered(response, {200, 400, 422})


# ---------------------------------------------------------------------------------------------
# CQL2 filters

PROPERTIES = ["imd_decile", "imd_rank", "imd_score", "code", "name", "lad_code", "geometry"]
identifiers = st.one_of(
    st.sampled_from(PROPERTIES),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.text(max_size=6).map(lambda t: '"' + t.replace('"', '""') + '"'),
)
literals = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8).map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.text(max_size=8).map(lambda t: "'" + t + "'"),  # unescaped quotes: injection attempts
    st.sampled_from(["TRUE", "FALSE", "NULL", "DATE('2025-01-01')", "TIMESTAMP('x')"]),
)
points = st.tuples(numbers, numbers).map(lambda p: f"POINT({p[0]} {p[1]})")
comparisons = st.one_of(
    st.builds(
        lambda p, o, v: f"{p} {o} {v}",
        identifiers,
        st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "LIKE", "=="]),
        literals,
    ),
    st.builds(lambda p, a, b: f"{p} BETWEEN {a} AND {b}", identifiers, literals, literals),
    st.builds(
        lambda p, vs: f"{p} IN ({', '.join(vs)})", identifiers, st.lists(literals, max_size=4)
    ),
    st.builds(lambda p: f"{p} IS NULL", identifiers),
    st.builds(
        lambda f, g: f"{f}(geometry, {g})",
        st.sampled_from(["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "PG_SLEEP"]),
        points,
    ),
    st.text(max_size=20),  # anything at all
)
filters = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) AND ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
        st.builds(lambda a: f"NOT ({a})", inner),
        st.builds(lambda a, n: "(" * n + a + ")" * n, inner, st.integers(0, 14)),
        st.builds(lambda a, n: "(" * n + a, inner, st.integers(0, 14)),  # left open
        st.builds(lambda a, s: a + s, inner, st.sampled_from(["; DROP TABLE lsoa", " --", "'"])),
    ),
    max_leaves=8,
)


@BOUNDED
@given(text=filters, lang=st.sampled_from([None, "cql2-text"]))
def test_any_cql2_text_filter_gets_features_or_a_problem(
    lenient: TestClient, text: str, lang: str | None
) -> None:
    params = {"filter": text, "limit": "5"} | ({"filter-lang": lang} if lang else {})
    response = lenient.get("/collections/lsoa-iod2025/items", params=params)
    _answered(response, {200, 400})
    if response.status_code == 200:
        page = response.json()
        assert page["type"] == "FeatureCollection" and page["numberReturned"] <= 5


cql2_json = st.recursive(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["=", "<", "like", "between", "in", "isNull", "s_intersects"]),
            "args": st.lists(
                st.one_of(
                    st.fixed_dictionaries({"property": identifiers}),
                    json_values,
                    small_squares(),
                ),
                max_size=3,
            ),
        }
    ),
    lambda inner: st.fixed_dictionaries(
        {"op": st.sampled_from(["and", "or", "not"]), "args": st.lists(inner, max_size=3)}
    ),
    max_leaves=6,
)


@BOUNDED
@given(tree=cql2_json | json_values)
def test_any_cql2_json_filter_gets_features_or_a_problem(lenient: TestClient, tree: Any) -> None:
    text = json.dumps(tree, allow_nan=True)
    params = {"filter": text, "filter-lang": "cql2-json", "limit": "5"}
    response = lenient.get("/collections/lsoa-iod2025/items", params=params)
    _answered(response, {200, 400})
