"""Valid coordinates anywhere on Earth are answered as "outside England", never with a 5xx.

British National Grid (EPSG:27700) is a transverse Mercator projection: PROJ cannot transform
points far from Great Britain ("Point outside of projection domain"). Every operation that
takes a caller's point, box or polygon is tried here with places on every continent, at the
poles and on both sides of the antimeridian (issue #22).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo.grants import checks
from tests.utils import factories
from tests.utils.geojson import lonlat_box

# (lon, lat): every continent, both poles, the antimeridian, and places near Britain that are
# inside British National Grid's area of use but outside England.
FAR_AWAY_POINTS: dict[str, tuple[float, float]] = {
    "indian-ocean-equator": (85.0, 0.0),
    "null-island": (0.0, 0.0),
    "north-pole": (0.0, 90.0),
    "south-pole": (0.0, -90.0),
    "antarctica": (170.0, -80.0),
    "antimeridian-east": (180.0, 0.0),
    "antimeridian-west": (-180.0, 45.0),
    "new-york": (-74.0, 40.7),
    "sao-paulo": (-46.6, -23.5),
    "nairobi": (36.8, -1.3),
    "tokyo": (139.7, 35.7),
    "sydney": (151.2, -33.9),
    "paris": (2.35, 48.85),
    "atlantic-west-of-scilly": (-8.9, 49.8),
    "shetland": (-1.2, 60.3),
    "lat-lon-swapped-manchester": (53.48, -2.24),
}

# minx,miny,maxx,maxy in CRS84: boxes wholly far away, straddling the antimeridian's ends,
# the whole world, and one reaching from far away into England (which must still find England).
FAR_AWAY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "indian-ocean": (80.0, 0.0, 90.0, 10.0),
    "south-east-asia": (100.0, -10.0, 120.0, 10.0),
    "antimeridian-east": (170.0, -20.0, 180.0, 20.0),
    "antimeridian-west": (-180.0, -20.0, -170.0, 20.0),
    "south-pole": (-180.0, -90.0, 180.0, -80.0),
    "north-pole": (-180.0, 80.0, 180.0, 90.0),
    "americas": (-120.0, -50.0, -40.0, 50.0),
    "africa": (-10.0, -30.0, 40.0, 30.0),
}
TRAFFORD = (-2.40, 53.40, -2.20, 53.48)


def _square(lon: float, lat: float, half: float) -> dict[str, Any]:
    """A small GeoJSON square around a point, clamped to the globe."""
    west, east = max(-180.0, lon - half), min(180.0, lon + half)
    south, north = max(-90.0, lat - half), min(90.0, lat + half)
    return lonlat_box(west, south, east, north)


def _assert_outside_england(response: Any) -> None:
    """A 404 problem that says the place is outside England."""
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "outside England" in response.json()["detail"]


@pytest.fixture(scope="module")
def open_programme(settings: DatabaseSettings) -> Iterator[checks.Programme]:
    """One open programme, so that eligibility clicks have something to be judged on."""
    yield from factories.module_programme(
        settings.dsn, rule={"kind": "index", "domain": "imd", "decile_at_most": 2}
    )


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
@pytest.mark.parametrize("edition", ["IoD2025", "IoD2019"])
def test_a_lookup_far_away_is_outside_england(client: TestClient, place: str, edition: str) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    response = client.get("/lookup", params={"lon": lon, "lat": lat, "edition": edition})
    _assert_outside_england(response)


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
def test_an_eligibility_click_far_away_is_outside_england(
    client: TestClient, open_programme: checks.Programme, place: str
) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    for params in ({}, {"programme": open_programme.id}):
        response = client.get("/eligibility", params={"lon": lon, "lat": lat, **params})
        _assert_outside_england(response)


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
def test_a_coverage_click_far_away_is_outside_england(client: TestClient, place: str) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    _assert_outside_england(client.get("/coverage/at", params={"lon": lon, "lat": lat}))


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
def test_groups_near_a_far_away_point_are_outside_england(client: TestClient, place: str) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    _assert_outside_england(client.get("/groups/near", params={"lon": lon, "lat": lat}))


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
@pytest.mark.parametrize("resolution", [6, 9])
def test_crime_in_a_far_away_h3_cell_is_not_found(
    client: TestClient, place: str, resolution: int
) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    cell = h3.latlng_to_cell(lat, lon, resolution)
    response = client.get("/crime/summary", params={"area": cell})
    _assert_outside_england(response)
    assert response.json()["parameter"] == "area"


@pytest.mark.parametrize("place", sorted(FAR_AWAY_POINTS))
def test_a_drawn_polygon_far_away_is_a_problem_not_a_server_error(
    client: TestClient, open_programme: checks.Programme, place: str
) -> None:
    lon, lat = FAR_AWAY_POINTS[place]
    response = client.post(
        "/eligibility",
        params={"programme": open_programme.id},
        json={"geometry": _square(lon, lat, 0.01)},
    )
    # Wholly outside England: "outside England" (404), as for any polygon there; a polygon
    # inside the grid's area but covering no English LSOA says the same.
    _assert_outside_england(response)


def test_a_drawn_polygon_reaching_out_of_great_britain_is_refused_with_the_reason(
    client: TestClient, open_programme: checks.Programme
) -> None:
    # From Trafford to the Indian Ocean: partly in England, partly where the grid is undefined.
    ring = [[-2.3, 53.4], [85.0, 0.0], [85.0, 53.5], [-2.3, 53.5], [-2.3, 53.4]]
    response = client.post(
        "/eligibility",
        params={"programme": open_programme.id},
        json={"geometry": {"type": "Polygon", "coordinates": [ring]}},
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert "outside Great Britain" in problem["detail"]


@pytest.mark.parametrize("collection", ["lsoa-iod2025", "lsoa-iod2019", "lad-iod2025"])
@pytest.mark.parametrize("box", sorted(FAR_AWAY_BOXES))
@pytest.mark.parametrize(
    "crs", [None, "http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:27700"], ids=str
)
def test_a_far_away_bbox_is_an_empty_page(
    client: TestClient, collection: str, box: str, crs: str | None
) -> None:
    params: dict[str, Any] = {"bbox": ",".join(str(v) for v in FAR_AWAY_BOXES[box])}
    if crs is not None:
        params["crs"] = crs
    response = client.get(f"/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["features"] == []
    assert page["numberMatched"] == 0


@pytest.mark.parametrize("box", sorted(FAR_AWAY_BOXES))
def test_a_far_away_bbox_in_web_mercator_is_an_empty_page(client: TestClient, box: str) -> None:
    from pyproj import Transformer

    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    west, south, east, north = FAR_AWAY_BOXES[box]
    # Web Mercator stops short of the poles.
    south, north = max(south, -85.0), min(north, 85.0)
    x0, y0 = to_3857.transform(west, south)
    x1, y1 = to_3857.transform(east, north)
    response = client.get(
        "/collections/lsoa-iod2025/items",
        params={"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": "EPSG:3857"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["features"] == []


def test_a_bbox_from_far_away_into_england_finds_what_the_part_in_england_finds(
    client: TestClient,
) -> None:
    in_trafford = client.get(
        "/collections/lsoa-iod2025/items",
        params={"bbox": ",".join(map(str, TRAFFORD)), "limit": 1000},
    ).json()
    # The same box's south-west corner moved to the Indian Ocean's latitude: PROJ cannot
    # transform that corner, and England's features in it are those of the original box
    # plus any further south and west (a strict superset).
    wide = (TRAFFORD[0], 0.0, TRAFFORD[2], TRAFFORD[3])
    reaching = client.get(
        "/collections/lsoa-iod2025/items",
        params={"bbox": ",".join(map(str, wide)), "limit": 10000},
    )
    assert reaching.status_code == 200, reaching.text
    expected = {f["id"] for f in in_trafford["features"]}
    found = {f["id"] for f in reaching.json()["features"]}
    assert expected and expected < found


@pytest.mark.parametrize("box", sorted(FAR_AWAY_BOXES))
def test_a_cql2_filter_with_a_far_away_geometry_matches_nothing(
    client: TestClient, box: str
) -> None:
    west, south, east, north = FAR_AWAY_BOXES[box]
    polygon = _square((west + east) / 2, (south + north) / 2, 1.0)
    for text in (
        f"S_INTERSECTS(geometry, BBOX({west}, {south}, {east}, {north}))",
        f"S_INTERSECTS(geometry, {_wkt(polygon)})",
    ):
        response = client.get("/collections/lsoa-iod2025/items", params={"filter": text})
        assert response.status_code == 200, (text, response.text)
        assert response.json()["features"] == []
    cql2_json = {"op": "s_intersects", "args": [{"property": "geometry"}, polygon]}
    response = client.get(
        "/collections/lsoa-iod2025/items",
        params={"filter": json.dumps(cql2_json), "filter-lang": "cql2-json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["features"] == []
    # Disjoint from something far away: every feature.
    response = client.get(
        "/collections/lad-iod2025/items",
        params={"filter": f"S_DISJOINT(geometry, {_wkt(polygon)})", "limit": 1000},
    )
    everything = client.get("/collections/lad-iod2025/items", params={"limit": 1000})
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] == everything.json()["numberMatched"] > 0


def test_a_predicate_about_a_whole_far_reaching_geometry_is_refused(client: TestClient) -> None:
    reaching = "POLYGON((-2.3 53.4, 85 0, 85 53.5, -2.3 53.5, -2.3 53.4))"
    for predicate in ("S_EQUALS", "S_OVERLAPS", "S_CROSSES", "S_WITHIN"):
        text = f"{predicate}({reaching}, geometry)"
        if predicate != "S_WITHIN":
            text = f"{predicate}(geometry, {reaching})"
        response = client.get("/collections/lsoa-iod2025/items", params={"filter": text})
        assert response.status_code == 400, (text, response.text)
        assert "outside Great Britain" in response.json()["detail"]


def _wkt(polygon: dict[str, Any]) -> str:
    """A GeoJSON polygon's outer ring as WKT."""
    ring = ", ".join(f"{x} {y}" for x, y in polygon["coordinates"][0])
    return f"POLYGON(({ring}))"
