"""Coverage over HTTP: totals, a map click, cold spots, snapshots, refresh, bad input, and the
coverage collections served as OGC features and vector tiles."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo import coverage
from tests.utils import factories, figures
from tests.utils.http import ok

PROBLEM = "application/problem+json"
MVT = "application/vnd.mapbox-vector-tile"
MANCHESTER, TRAFFORD = "E08000003", "E08000009"
LSOA = "E01005061"  # Manchester 018A, IMD decile 1
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


@dataclass(frozen=True)
class Setup(factories.DiscGroup):
    """The group these tests made, and an admin's and an officer's keys."""

    admin: factories.Key
    officer: factories.Key


@pytest.fixture(scope="module")
def setup(settings: DatabaseSettings) -> Iterator[Setup]:
    """An admin and an officer key, and one active group (a 700 m disc) over a Manchester LSOA."""
    made = factories.Made()
    reference = f"T{uuid.uuid4().hex[:8]}-api"

    async def work(aconn: psycopg.AsyncConnection) -> Setup:
        admin = await made.key(aconn, "admin")
        officer = await made.key(aconn, "officer", [MANCHESTER])
        group = await factories.disc_group(
            aconn, reference, "API test group", LSOA, MANCHESTER, meeting_place="Community hall"
        )
        return Setup(**vars(group), admin=admin, officer=officer)

    made_setup = factories.run(settings.dsn, work)
    yield made_setup

    async def teardown(aconn: psycopg.AsyncConnection) -> None:
        await factories.drop_group(aconn, made_setup.group_id)

    factories.run(settings.dsn, teardown)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert a problem+json response of the status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_england_and_district(client: TestClient, setup: Setup) -> None:
    england = client.get("/coverage/england").json()
    assert england["scope"] == "england" and england["code"] == "E92000001"
    assert england["adults_covered"] > 0 and 0 < england["covered_share"] < 1
    manchester = client.get(f"/coverage/lads/{MANCHESTER}").json()
    assert manchester["code"] == MANCHESTER and manchester["name"] == "Manchester"
    assert manchester["active_groups"] >= 1
    assert manchester["adults_covered"] <= england["adults_covered"]
    problem(client.get("/coverage/lads/E08999999"), 404)
    refused = problem(client.get("/coverage/lads/Manchester"), 422)
    assert refused["errors"][0]["parameter"] == "ladCode"


def test_map_click_gives_the_lsoa_and_its_groups(
    client: TestClient, conn: psycopg.Connection, setup: Setup
) -> None:
    # The share of the LSOA's area inside the group's disc, from the two polygons themselves.
    (share,) = conn.execute(
        "SELECT ST_Area(ST_Intersection(g.area, l.geom)) / ST_Area(l.geom)"
        " FROM community_group g, lsoa l"
        " WHERE g.id = %s AND l.vintage = 2021 AND l.code = %s",
        (setup.group_id, LSOA),
    ).fetchone() or (None,)
    assert 0 < share < 1  # the 700 m disc covers part of this LSOA, not all of it
    response = client.get("/coverage/at", params={"lon": setup.lon, "lat": setup.lat})
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == LSOA and body["imd_decile"] == 1
    assert body["covered_share"] > 0 and body["adults_covered"] > 0
    (group,) = [g for g in body["groups"] if g["reference"] == setup.reference]
    assert group == {
        "reference": setup.reference,
        "name": "API test group",
        "kind": "tenants_association",
        "active": True,
        "meeting_place": "Community hall",
        "last_activity_on": (factories.today() - timedelta(days=10)).isoformat(),
        "share_of_lsoa": figures.rounded(share, figures.SHARE),
    }
    assert "pat@example.invalid" not in response.text and "Secret Street" not in response.text
    assert client.get(f"/coverage/lsoas/{LSOA}").json() == body


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lon": -3.19, "lat": 55.95}, 404),  # Edinburgh: no English LSOA
        ({"lon": 93.8, "lat": 0}, 404),  # British National Grid cannot project it
        ({"lon": -2.3}, 400),
        ({"lon": -2.3, "lat": 53.4, "postcode": "M15 4AB"}, 400),
        ({}, 400),
        ({"lon": 200, "lat": 53.4}, 422),
        ({"postcode": "not one"}, 422),
        ({"postcode": "SW1A 1AA"}, 404),  # well formed, outside the postcode data loaded
    ],
)
def test_map_click_refuses_bad_input(
    client: TestClient, setup: Setup, params: dict[str, object], status: int
) -> None:
    assert client.get("/coverage/at", params=params).status_code == status
    if status != 422:
        problem(client.get("/coverage/at", params=params), status)


def test_postcode(client: TestClient, settings: DatabaseSettings) -> None:
    with psycopg.connect(settings.dsn) as conn:
        postcode, code = conn.execute(
            "SELECT postcode, lsoa_code FROM postcode ORDER BY postcode DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    assert client.get("/coverage/at", params={"postcode": postcode}).json()["code"] == code


def test_lsoa_codes(client: TestClient) -> None:
    problem(client.get("/coverage/lsoas/E01999999"), 404)
    problem(client.get("/coverage/lsoas/E05000001"), 422)


def test_cold_spots(client: TestClient, setup: Setup, settings: DatabaseSettings) -> None:
    body = client.get("/coverage/cold-spots", params={"lad": MANCHESTER, "limit": 10000}).json()
    assert body["threshold"] == coverage.COLD_SPOT_THRESHOLD and body["lad_code"] == MANCHESTER
    spots = body["cold_spots"]
    with psycopg.connect(settings.dsn) as conn:
        rows = conn.execute(
            "SELECT c.code, p.adults_18_plus * (1 - c.covered_share) FROM lsoa_coverage c"
            " JOIN lsoa_population p ON p.edition_code = 'IoD2025' AND p.lsoa_code = c.code"
            " JOIN lsoa_index_value v ON v.edition_code = 'IoD2025' AND v.lsoa_code = c.code"
            "  AND v.domain_code = 'imd'"
            " WHERE c.lad_code = %s AND v.decile <= 2 AND c.covered_share < 0.5",
            (MANCHESTER,),
        ).fetchall()
    expected = [code for code, _ in sorted(rows, key=lambda r: (-r[1], r[0]))]
    assert [s["code"] for s in spots] == expected and len(expected) > 100
    assert [s["rank"] for s in spots] == list(range(1, len(spots) + 1))
    top = client.get("/coverage/cold-spots", params={"threshold": 1, "limit": 2}).json()
    assert len(top["cold_spots"]) == 2 and top["threshold"] == 1
    for params in ({"threshold": 1.5}, {"threshold": -0.1}, {"limit": 0}, {"lad": "Salford"}):
        problem(client.get("/coverage/cold-spots", params=params), 422)
    problem(client.get("/coverage/cold-spots", params={"lad": "E08999999"}), 404)


@pytest.mark.parametrize("path", ["/coverage/snapshots", "/coverage/refresh"])
def test_admin_writes_refuse_anyone_else(client: TestClient, setup: Setup, path: str) -> None:
    problem(client.post(path), 401)
    problem(client.post(path, headers=setup.officer.headers), 403)


def test_an_admin_takes_one_snapshot_a_day(
    client: TestClient, setup: Setup, settings: DatabaseSettings
) -> None:
    taken = ok(client.post("/coverage/snapshots", headers=setup.admin.headers), 201)
    with psycopg.connect(settings.dsn) as conn:
        (districts,) = conn.execute(
            "SELECT count(DISTINCT lad_code) FROM lsoa WHERE vintage = 2021"
        ).fetchone() or (0,)
    assert taken["taken_on"] == factories.today().isoformat() and taken["districts"] == districts
    again = client.post("/coverage/snapshots", headers=setup.admin.headers).json()
    assert again["england"]["adults_covered"] == taken["england"]["adults_covered"]
    trend = client.get("/coverage/snapshots").json()
    assert [s["taken_on"] for s in trend].count(taken["taken_on"]) == 1
    mine = client.get("/coverage/snapshots", params={"lad": MANCHESTER}).json()
    assert mine[-1]["code"] == MANCHESTER and mine[-1]["active_groups"] >= 1
    problem(client.get("/coverage/snapshots", params={"lad": "E08999999"}), 404)
    problem(client.get("/coverage/snapshots", params={"lad": "nope"}), 422)


def test_an_admin_refreshes_coverage(
    client: TestClient, setup: Setup, settings: DatabaseSettings
) -> None:
    summary = ok(client.post("/coverage/refresh", headers=setup.admin.headers))
    assert summary["as_of"] == factories.today().isoformat()
    with psycopg.connect(settings.dsn) as conn:
        (lsoas,) = conn.execute("SELECT count(*) FROM lsoa WHERE vintage = 2021").fetchone() or (0,)
    assert summary["groups"] >= 1 and summary["lsoas"] == lsoas
    # Both answers show England's covered adults by the same rule (README, Figures).
    assert summary["adults_covered"] == client.get("/coverage/england").json()["adults_covered"]
    assert figures.decimals(summary["adults_covered"]) <= figures.ADULTS


# -- the coverage collections -----------------------------------------------------------------


COVERAGE_COLLECTIONS = [
    "coverage-lsoa",
    "coverage-cold-spots",
    "coverage-h3-r6",
    "coverage-h3-r7",
    "coverage-h3-r8",
    "coverage-h3-r9",
]


@pytest.mark.parametrize("collection_id", COVERAGE_COLLECTIONS)
def test_collection_items(
    client: TestClient, setup: Setup, settings: DatabaseSettings, collection_id: str
) -> None:
    response = client.get(f"/collections/{collection_id}/items", params={"limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert len(body["features"]) == 5 and body["numberMatched"] > 5
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    if collection_id == "coverage-cold-spots":
        assert all(f["properties"]["cold_spot"] for f in body["features"])
        assert all(f["properties"]["imd_decile"] <= 2 for f in body["features"])
    if collection_id.startswith("coverage-h3"):
        with psycopg.connect(settings.dsn) as conn:
            (cells,) = conn.execute(
                "SELECT count(*) FROM h3_coverage WHERE resolution = %s", (int(collection_id[-1]),)
            ).fetchone() or (0,)
        assert body["numberMatched"] == cells
        one = client.get(f"/collections/{collection_id}/items/{feature['id']}").json()
        assert one["properties"]["cell"] == feature["id"]


def test_covered_cells_filter(client: TestClient, setup: Setup) -> None:
    response = client.get(
        "/collections/coverage-h3-r9/items",
        params={"filter": "adults_covered > 0", "limit": 1000},
    )
    features = response.json()["features"]
    assert features and all(f["properties"]["covered_share"] == 1 for f in features)


@pytest.mark.parametrize(
    ("collection_id", "zoom"),
    [
        ("coverage-lsoa", 12),
        ("coverage-cold-spots", 12),
        ("coverage-h3-r6", 5),
        ("coverage-h3-r7", 8),
        ("coverage-h3-r8", 10),
        ("coverage-h3-r9", 10),
        ("coverage-h3-r9", 14),
    ],
)
def test_vector_tiles(client: TestClient, setup: Setup, collection_id: str, zoom: int) -> None:
    tile = WEB_MERCATOR.tile(setup.lon, setup.lat, zoom)
    url = f"/collections/{collection_id}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    layer = mapbox_vector_tile.decode(response.content)[collection_id]
    assert layer["features"]
    names = set().union(*(f["properties"] for f in layer["features"]))
    assert "covered_share" in names or "adults_uncovered" in names
    assert any((f["properties"].get("covered_share") or 0) > 0 for f in layer["features"]) or (
        collection_id == "coverage-cold-spots"
    )
    geojson = client.get(url, params={"f": "geojson"}).json()
    assert {f["id"] for f in geojson["features"]} == {f["id"] for f in layer["features"]}
