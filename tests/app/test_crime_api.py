"""GET/POST /crime/summary, its CSV, and bad input as problems naming the parameter."""

from __future__ import annotations

import csv
import io

import h3
import pandas as pd
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo.crime import reads
from tests.conftest import GMP_BURGLARY, MERSEYSIDE_SHOPLIFTING
from tests.utils import factories, figures

TRAFFORD = "E08000009"


def _gmp() -> pd.DataFrame:
    return pd.read_csv(GMP_BURGLARY)


def test_summary_of_a_district(
    client: TestClient, crime_loaded: int, conn: psycopg.Connection
) -> None:
    response = client.get(
        "/crime/summary", params={"area": TRAFFORD, "from": "2018-02", "to": "2019-01"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["area"] == {
        "kind": "lad",
        "code": TRAFFORD,
        "name": "Trafford",
        "lsoa_generation": 2021,
        "lsoa_count": 139,
        "outside_loaded_boundaries": False,
    }
    assert body["forces"] == ["Greater Manchester Police"]
    assert body["types_covered"] == ["Burglary"]
    assert len(body["by_month"]) == 12 and body["months_without_data"] == []
    assert body["total"] == sum(m["total"] for m in body["by_month"]) == body["by_type"]["Burglary"]
    rate = body["rate"]
    # Residents (IoD2025's population of Trafford's LSOAs) and the rate, at full precision from
    # the database, shown to 0.1 each (README, Figures).
    residents = factories.iod2025_residents(conn, TRAFFORD)
    figures.assert_shown(rate["residents"], residents, figures.ADULTS)
    figures.assert_shown(
        rate["rate_per_1000"], body["total"] * 1000 / residents, figures.RATE_PER_1000
    )
    figures.assert_shown(
        rate["annualised_rate_per_1000"],
        body["total"] * 1000 / residents,  # 12 months: the annual rate is the rate
        figures.RATE_PER_1000,
    )
    assert "mid-2019" in rate["population_source"]
    assert 1 <= body["crime_domain"]["decile"] <= 10
    assert sum(body["crime_domain"]["lsoa_deciles"].values()) == 139
    yoy = body["year_on_year"]
    assert len(yoy["months_compared"]) == 12 and yoy["method"].startswith("exact conditional")
    assert body["locations_available"] is False and body["top_locations"] == []
    assert any("map points" in c for c in body["caveats"])


def test_months_without_data_are_never_zero(client: TestClient, crime_loaded: int) -> None:
    body = client.get(
        "/crime/summary", params={"area": TRAFFORD, "from": "2018-11", "to": "2019-04"}
    ).json()
    assert body["months_without_data"] == ["2019-02", "2019-03", "2019-04"]
    no_data = [m for m in body["by_month"] if not m["has_data"]]
    assert [m["total"] for m in no_data] == [None, None, None]
    # A type the source files do not carry has no data in any month either.
    other = client.get(
        "/crime/summary", params={"area": TRAFFORD, "to": "2019-01", "type": "Shoplifting"}
    ).json()
    assert other["months_with_data"] == 0 and other["total"] == 0
    assert all(m["total"] is None for m in other["by_month"])
    assert other["rate"]["rate_per_1000"] is None


def test_an_lsoa_outside_the_loaded_boundaries_keeps_its_police_uk_code(
    client: TestClient, crime_loaded: int
) -> None:
    source = pd.read_csv(MERSEYSIDE_SHOPLIFTING)
    code = source["LSOA code"].value_counts().idxmax()
    body = client.get(
        "/crime/summary", params={"area": code, "from": "2019-05", "to": "2020-05"}
    ).json()
    assert body["area"]["outside_loaded_boundaries"] is True
    assert body["total"] == int((source["LSOA code"] == code).sum())
    top = source[source["LSOA code"] == code]["Location"].value_counts()
    assert body["top_locations"][0] == {"location": top.index[0], "crimes": int(top.iloc[0])}
    assert body["rate"]["residents"] is None


def test_an_h3_cell_counts_the_points_inside(client: TestClient, crime_loaded: int) -> None:
    frame = _gmp()
    frame = frame[(frame.Month >= "2018-02") & (frame.Month <= "2019-01")]
    cells = [
        h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 9), 8)
        for lon, lat in zip(frame.Longitude, frame.Latitude, strict=True)
    ]
    busiest = pd.Series(cells).value_counts()
    # The busiest cell, and one over Trafford (inside the loaded boundaries).
    trafford = h3.cell_to_parent(h3.latlng_to_cell(53.45, -2.30, 9), 8)
    for cell in (busiest.index[0], trafford):
        body = client.get(
            "/crime/summary", params={"area": cell, "from": "2018-02", "to": "2019-01"}
        ).json()
        assert body["total"] == busiest[cell]
        assert body["area"]["kind"] == "h3"


def test_a_drawn_polygon_counts_the_points_inside(client: TestClient, crime_loaded: int) -> None:
    box = shapely.box(-2.36, 53.44, -2.30, 53.47)
    frame = _gmp()
    frame = frame[(frame.Month >= "2018-06") & (frame.Month <= "2018-11")]
    inside = shapely.contains_xy(box, frame.Longitude.to_numpy(), frame.Latitude.to_numpy())
    geometry = shapely.geometry.mapping(box)
    body = {"geometry": geometry, "from": "2018-06", "to": "2018-11"}
    response = client.post("/crime/summary", json=body)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["total"] == int(inside.sum()) > 0
    assert summary["area"]["kind"] == "polygon"
    assert summary["rate"]["residents"] > 0 and "shared out" in summary["rate"]["population_source"]
    feature = {"geometry": {"type": "Feature", "geometry": geometry}, "from": "2018-06"}
    assert (
        client.post("/crime/summary", json={**feature, "to": "2018-11"}).json()["total"]
        == (summary["total"])
    )
    exported = client.post("/crime/summary.csv", json=body)
    assert exported.status_code == 200 and exported.text.startswith("area,area_kind,month")


def test_csv_export(client: TestClient, crime_loaded: int) -> None:
    response = client.get(
        "/crime/summary.csv", params={"area": TRAFFORD, "from": "2018-12", "to": "2019-03"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "crime-e08000009-2018-12-2019-03.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["month"], r["has_data"]) for r in rows] == [
        ("2018-12", "true"),
        ("2019-01", "true"),
        ("2019-02", "false"),
        ("2019-03", "false"),
    ]
    assert rows[2]["crimes"] == "" and int(rows[0]["crimes"]) > 0


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        # What the document's patterns refuse is a 422 (FastAPI), naming the parameter too.
        ({"area": TRAFFORD, "from": "2018-13"}, 422, "from"),
        ({"area": TRAFFORD, "to": "January"}, 422, "to"),
        ({"area": TRAFFORD, "from": "2019-01", "to": "2018-01"}, 400, "from"),
        ({"area": TRAFFORD, "type": "Muggings"}, 400, "type"),
        ({"area": "E01999999"}, 404, "area"),
        ({"area": "E05999999"}, 404, "area"),
        ({"area": "NG-000000000"}, 404, "area"),
        ({"area": "not an area"}, 422, "area"),
        ({"area": "8c194ad30d067ff"}, 422, "area"),  # an H3 cell of resolution 12
        ({"area": "89194ad30d0ffff"}, 404, "area"),  # shaped as a resolution-9 cell; no cell
        ({"area": "E06000009"}, 404, "area"),  # Blackpool: no force's data loaded
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(
    lenient_client: TestClient, crime_loaded: int, params: dict, status: int, parameter: str
) -> None:
    response = lenient_client.get("/crime/summary", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["errors"][0] if status == 422 else body)["parameter"] == parameter


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [-2.3, 53.45]},
        {
            "type": "Polygon",
            "coordinates": [[[-2.3, 53.4], [-2.2, 53.5], [-2.3, 53.5], [-2.2, 53.4], [-2.3, 53.4]]],
        },
        {"type": "Polygon", "coordinates": [[[-3, 53], [-1, 53], [-1, 54], [-3, 54], [-3, 53]]]},
        {"type": "Polygon", "coordinates": "nonsense"},
    ],
)
def test_bad_polygons_are_problems_naming_geometry(
    lenient_client: TestClient, crime_loaded: int, geometry: dict
) -> None:
    response = lenient_client.post("/crime/summary", json={"geometry": geometry})
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == "geometry"


@pytest.mark.anyio
async def test_a_group_area_counts_the_points_inside(
    settings: DatabaseSettings, crime_loaded: int
) -> None:
    """A group (an example row, rolled back) counts the crimes whose map point is inside."""
    box = shapely.box(-2.33, 53.44, -2.29, 53.46)
    frame = _gmp()
    frame = frame[(frame.Month >= "2018-02") & (frame.Month <= "2019-01")]
    expected = int(
        shapely.contains_xy(box, frame.Longitude.to_numpy(), frame.Latitude.to_numpy()).sum()
    )
    conn = await psycopg.AsyncConnection.connect(settings.dsn)
    try:
        await conn.execute(
            "INSERT INTO community_group (reference, name, kind, leader_name, leader_email,"
            " code_of_conduct_version, code_of_conduct_accepted_on, area, area_km2, lad_codes,"
            " principal_lad_code, created_by) VALUES ('NG-999999001', 'Example group', "
            "'new_group', 'Example', 'example@example.invalid', '1', '2026-01-01',"
            " ST_Multi(ST_Transform(ST_GeomFromText(%s, 4326), 27700)), 1, ARRAY['E08000009'],"
            " 'E08000009', 'tests')",
            (box.wkt,),
        )
        area = await reads.resolve_area(conn, "NG-999999001")
        summary = await reads.crime_summary(conn, area, "2018-02", "2019-01")
    finally:
        await conn.rollback()
        await conn.close()
    assert summary.area.kind == "group" and summary.area.name == "Example group"
    assert summary.total == expected > 0


@pytest.mark.parametrize("page", ["/maps/coverage", "/maps/deprivation"])
def test_the_maps_offer_a_crime_layer(client: TestClient, crime_loaded: int, page: str) -> None:
    html = client.get(page).text
    assert "Street-level crime by LSOA (police.uk)" in html
    assert "/collections/crime-lsoa/tiles/" in html
    if page == "/maps/coverage":
        assert '"crimePackUrl": "/crime/pack"' in html
