"""The eligibility API: clicks, postcodes, codes and polygons; bad input is a 4xx problem."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from pyproj import Transformer

from config.settings import DatabaseSettings
from geo.grants import checks
from tests.utils import factories, figures, sources
from tests.utils.geojson import box_around

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
LOOKUP = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
IMD = sources.csv(sources.IOD2025).set_index("lsoa21_code")["IMD_decile"]
POINTS = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
DEPRIVED = sorted(c for c in IMD.index if IMD[c] == 1)[:3]
AFFLUENT = sorted(c for c in IMD.index if IMD[c] == 10)[:3]


@pytest.fixture(scope="module")
def programme(settings: DatabaseSettings) -> Iterator[checks.Programme]:
    """An IoD2025 LSOA-level programme for the 20% most deprived on the IMD."""
    yield from factories.module_programme(
        settings.dsn, rule={"kind": "index", "domain": "imd", "decile_at_most": 2}
    )


def answer_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    [answer] = response.json()["answers"]
    return dict(answer)


@pytest.mark.parametrize("code", DEPRIVED + AFFLUENT)
def test_a_map_click_is_answered_for_the_lsoa_under_it(
    client: TestClient, programme: checks.Programme, code: str
) -> None:
    lon, lat = POINTS[code]
    answer = answer_of(
        client.get("/eligibility", params={"lon": lon, "lat": lat, "programme": programme.id})
    )
    assert (answer["area"]["kind"], answer["area"]["code"]) == ("lsoa", code)
    assert answer["eligible"] is bool(IMD[code] <= 2)
    assert answer["programme"]["id"] == programme.id


def test_postcodes_are_answered_for_their_directory_lsoa(
    client: TestClient, programme: checks.Programme
) -> None:
    for row in sources.csv(sources.POSTCODES).sample(6, random_state=11).itertuples():
        answer = answer_of(
            client.get("/eligibility", params={"postcode": row.postcode, "programme": programme.id})
        )
        assert answer["area"]["code"] == row.lsoa_code
        assert answer["eligible"] is bool(IMD[row.lsoa_code] <= 2)


@pytest.mark.parametrize("level", ["lsoa", "ward", "lad"])
def test_an_area_code_is_answered_for_that_area(
    client: TestClient, programme: checks.Programme, level: str
) -> None:
    lsoa = DEPRIVED[0]
    code = {
        "lsoa": lsoa,
        "ward": LOOKUP.loc[lsoa, "ward24_code"],
        "lad": LOOKUP.loc[lsoa, "ltla24_code"],
    }[level]
    column = {"lsoa": None, "ward": "ward24_code", "lad": "ltla24_code"}[level]
    members = {lsoa} if column is None else set(LOOKUP.index[LOOKUP[column] == code])
    answer = answer_of(client.get("/eligibility", params={"area": code, "programme": programme.id}))
    assert (answer["area"]["kind"], answer["area"]["code"]) == (level, code)
    assert {x["code"] for x in answer["lsoas"]} == members
    assert set(answer["qualifying_lsoas"]) == {c for c in members if IMD[c] <= 2}


@pytest.mark.parametrize("as_feature", [False, True])
def test_a_drawn_polygon_is_answered_with_its_area_in_british_national_grid(
    client: TestClient, programme: checks.Programme, as_feature: bool
) -> None:
    lon, lat = POINTS[DEPRIVED[0]]
    geometry = box_around(lon, lat, 0.003)
    expected_km2 = (
        shapely.transform(
            shapely.geometry.shape(geometry), TO_BNG.transform, interleaved=False
        ).area
        / 1e6
    )
    sent = {"type": "Feature", "properties": {}, "geometry": geometry} if as_feature else geometry
    answer = answer_of(
        client.post("/eligibility", json={"geometry": sent, "programme": programme.id})
    )
    assert answer["area"]["kind"] == "polygon"
    # Shown to 0.01 km² (README, Figures).
    figures.assert_shown(answer["area"]["area_km2"], expected_km2, figures.AREA_KM2)
    assert DEPRIVED[0] in {x["code"] for x in answer["lsoas"]}


# ---------------------------------------------------------------------------------------------
# Bad input: a 4xx problem+json with the reason, never a 500

ENGLAND = POINTS[DEPRIVED[0]]
BAD_QUERIES: dict[str, tuple[dict[str, Any], int]] = {
    "lon-without-lat": ({"lon": ENGLAND[0]}, 400),
    "lon-out-of-range": ({"lon": 200, "lat": 53.4}, 422),
    "lat-not-a-number": ({"lon": -2.3, "lat": "north"}, 422),
    "lat-nan": ({"lon": -2.3, "lat": "nan"}, 422),
    "lon-infinite": ({"lon": "inf", "lat": 53.4}, 422),
    "malformed-postcode": ({"postcode": "NOT A CODE"}, 422),
    "postcode-not-covered": ({"postcode": "SW1A 1AA"}, 404),
    "too-long-postcode": ({"postcode": "M" * 40}, 422),
    "welsh-area": ({"area": "W01000001"}, 422),
    "unknown-area": ({"area": "E01999999"}, 404),
    "not-a-code": ({"area": "Manchester"}, 422),
    "two-places": ({"lon": ENGLAND[0], "lat": ENGLAND[1], "postcode": "M15 4AB"}, 400),
    "no-place": ({}, 400),
    "point-at-sea": ({"lon": -4.5, "lat": 54.0}, 404),
    "point-in-france": ({"lon": 2.35, "lat": 48.85}, 404),
    "bad-date": ({"area": "E08000009", "on": "yesterday"}, 422),
}


@pytest.mark.parametrize("case", sorted(BAD_QUERIES))
def test_bad_queries_are_4xx_problems(
    lenient_client: TestClient, programme: checks.Programme, case: str
) -> None:
    params, status = BAD_QUERIES[case]
    response = lenient_client.get("/eligibility", params={**params, "programme": programme.id})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_an_unknown_programme_is_a_404_problem(lenient_client: TestClient) -> None:
    response = lenient_client.get(
        "/eligibility", params={"area": DEPRIVED[0], "programme": "no-such-programme"}
    )
    assert response.status_code == 404
    assert "no-such-programme" in response.json()["detail"]


def _circle(vertices: int) -> dict[str, Any]:
    lon, lat = ENGLAND
    ring = [
        [
            lon + 0.001 * math.cos(2 * math.pi * i / vertices),
            lat + 0.001 * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[-2.3, 53.44], [-2.28, 53.45], [-2.28, 53.44], [-2.3, 53.45], [-2.3, 53.44]]],
}
BAD_POLYGONS: dict[str, tuple[Any, int, str]] = {
    "self-intersecting": (BOWTIE, 400, "invalid geometry"),
    "empty": ({"type": "Polygon", "coordinates": []}, 400, "empty"),
    "too-many-vertices": (_circle(5001), 400, "vertices"),
    "too-large": (box_around(-2.0, 53.5, 0.25), 400, "km²"),
    "outside-england": (box_around(2.35, 48.85, 0.01), 404, "outside England"),
    "point": ({"type": "Point", "coordinates": list(ENGLAND)}, 400, "Polygon"),
    "no-coordinates": ({"type": "Polygon"}, 400, "malformed"),
    "text-coordinates": (
        {"type": "Polygon", "coordinates": [[["a", "b"], ["c", "d"], ["e", "f"], ["a", "b"]]]},
        400,
        "malformed",
    ),
    "two-point-ring": (
        {"type": "Polygon", "coordinates": [[[-2.3, 53.4], [-2.3, 53.4]]]},
        400,
        "malformed",
    ),
    "lat-lon-swapped": (box_around(53.45, -2.27, 0.001), 404, "outside England"),
    "beyond-the-globe": (box_around(-2.3, 95.0, 0.5), 400, "longitude, latitude"),
    "feature-without-geometry": ({"type": "Feature", "properties": {}}, 400, "Polygon"),
    "geometry-not-an-object": ("POLYGON((0 0, 1 0, 1 1, 0 0))", 422, "geometry"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLYGONS))
def test_bad_polygons_are_4xx_problems_with_the_reason(
    lenient_client: TestClient, programme: checks.Programme, case: str
) -> None:
    geometry, status, reason = BAD_POLYGONS[case]
    response = lenient_client.post(
        "/eligibility", json={"geometry": geometry, "programme": programme.id}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert reason in response.json()["detail"]


# Python's JSON parser accepts the non-standard NaN and Infinity literals, so they must be
# caught when the geometry is checked.
NAN_POLYGON = (
    b'{"geometry": {"type": "Polygon", "coordinates": '
    b"[[[NaN, 53.4], [-2.2, 53.4], [-2.2, 53.5], [NaN, 53.4]]]}}"
)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 422),
        (b"", 422),
        (b"[]", 422),
        (NAN_POLYGON, 400),
        (NAN_POLYGON.replace(b"NaN", b"Infinity"), 400),
        (json.dumps({"geometry": _circle(200), "programme": "no-such-programme"}).encode(), 404),
        (json.dumps({"geometry": _circle(200), "extra": 1, "programme": None}).encode(), 200),
    ],
    ids=[
        "invalid-json",
        "empty-body",
        "array",
        "nan-literals",
        "nan-coordinates",
        "unknown-programme",
        "extra-field",
    ],
)
def test_malformed_polygon_requests_are_4xx_problems(
    lenient_client: TestClient, body: bytes, status: int
) -> None:
    response = lenient_client.post(
        "/eligibility", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
