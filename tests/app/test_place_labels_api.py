"""GET /maps/labels and /maps/labels/lsoa on the demo extract: names the maps write as text."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils import sources

LOOKUP_2021 = sources.csv(sources.LOOKUP_2021)
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
ENGLAND = "-6.5,49.8,2.0,55.9"
TRAFFORD_BOX = "-2.48,53.35,-2.25,53.49"


def test_district_names_are_the_loaded_districts(client: TestClient) -> None:
    body = client.get("/maps/labels", params={"level": "district", "bbox": ENGLAND}).json()
    assert body["level"] == "district"
    assert {p["name"] for p in body["labels"]} == {
        "Trafford",
        "Manchester",
        "Blackpool",
        "Wokingham",
    }


def test_ward_names_in_a_box_are_its_wards(client: TestClient) -> None:
    body = client.get("/maps/labels", params={"level": "ward", "bbox": TRAFFORD_BOX}).json()
    names = {p["code"]: p["name"] for p in body["labels"]}
    trafford = LOOKUP_2021[LOOKUP_2021["ltla24_code"] == "E08000009"]
    expected = dict(zip(trafford["ward24_code"], trafford["ward24_name"], strict=True))
    assert set(expected.items()) <= set(names.items())
    for place in body["labels"]:  # each label at a point inside the box's neighbourhood
        assert -2.6 < place["lon"] < -2.1 and 53.3 < place["lat"] < 53.6


def test_a_bad_box_is_a_problem(client: TestClient) -> None:
    for bbox in ("x", "1,2,3", "1,2,3,4,5", "nan,0,1,1"):
        response = client.get("/maps/labels", params={"level": "ward", "bbox": bbox})
        assert response.status_code == 422  # the documented pattern: four decimal numbers
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["parameter"] == "bbox"


def test_an_inverted_box_meets_no_place(client: TestClient) -> None:
    # Four numbers are a box as the document says; one whose minimum is not below its maximum
    # holds nothing (as the groups' bbox), rather than a refusal JSON Schema cannot declare.
    for bbox in ("0,0,-1,1", "-2,54,-3,53"):
        response = client.get("/maps/labels", params={"level": "ward", "bbox": bbox})
        assert response.status_code == 200, response.text
        assert response.json()["labels"] == []
    assert client.get("/maps/labels", params={"level": "county", "bbox": ENGLAND}).status_code in (
        400,
        422,
    )


def test_the_lsoa_name_under_a_point_or_nulls(client: TestClient) -> None:
    code = "E01006142"
    lon, lat = POINTS_2021[code]
    body = client.get("/maps/labels/lsoa", params={"lon": lon, "lat": lat}).json()
    name = LOOKUP_2021.set_index("lsoa21_code").loc[code, "lsoa21_name"]
    assert body == {"code": code, "name": name}
    sea = client.get("/maps/labels/lsoa", params={"lon": 0.22, "lat": 53.79})
    assert sea.status_code == 200 and sea.json() == {"code": None, "name": None}
    # Far outside British National Grid's domain (schemathesis found a 500 here).
    far = client.get("/maps/labels/lsoa", params={"lon": 93.8, "lat": 2e-18})
    assert far.status_code == 200 and far.json() == {"code": None, "name": None}
