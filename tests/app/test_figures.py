"""Figures for people (README, Figures): every channel shows a figure rounded by its rule.

For each channel (JSON answers, OGC GeoJSON items, GeoJSON and MVT tiles, HTML pages, the
OpenAPI and queryables descriptions) a figure is checked twice: it has no more decimals than
its rule allows, and it equals the full-precision value read here from the database, rounded
here by the rule (:mod:`tests.utils.figures`, written apart from ``geo.figures``). The
coverage map's popup is checked in Chromium in tests/browser/test_coverage_map.py.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from config.settings import DatabaseSettings
from geo.grants import checks
from tests.utils import factories, figures
from tests.utils.geojson import box_around

MANCHESTER = "E08000003"
LSOA = "E01005061"  # Manchester 018A: a 700 m disc covers part of it
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
# An active group over part of LSOA, so its shares and covered adults are fractions.
Partial = factories.DiscGroup

# The coverage collections' figures and their rules (geo/collections.py declares them).
LSOA_FIGURES = {
    "adults": figures.ADULTS,
    "covered_share": figures.SHARE,
    "adults_covered": figures.ADULTS,
    "adults_uncovered": figures.ADULTS,
    "organiser_share": figures.SHARE,
    "adults_organiser_covered": figures.ADULTS,
}
H3_FIGURES = {
    "adults": figures.ADULTS,
    "adults_covered": figures.ADULTS,
    "covered_share": figures.SHARE,
    "deprived_adults": figures.ADULTS,
    "deprived_adults_covered": figures.ADULTS,
    "adults_organiser_covered": figures.ADULTS,
}


@pytest.fixture(scope="module")
def partial(settings: DatabaseSettings) -> Iterator[Partial]:
    """An active group over part of LSOA, so its shares and covered adults are fractions."""
    reference = f"NG-9{uuid.uuid4().int % 10**12:012d}"  # a reference the routes accept

    async def work(aconn: psycopg.AsyncConnection) -> Partial:
        return await factories.disc_group(aconn, reference, "Figures test group", LSOA, MANCHESTER)

    made = factories.run(settings.dsn, work)
    yield made

    async def teardown(aconn: psycopg.AsyncConnection) -> None:
        await factories.drop_group(aconn, made.group_id)

    factories.run(settings.dsn, teardown)


def stored_rows(
    conn: psycopg.Connection, key: str, query: str, params: tuple[Any, ...] = ()
) -> dict[Any, dict[str, Any]]:
    """Rows as stored (full precision), by the value of their ``key`` column."""
    with conn.cursor(row_factory=dict_row) as cur:
        return {r[key]: r for r in cur.execute(query, params)}


def stored_lsoa(conn: psycopg.Connection, code: str) -> dict[str, Any]:
    """One LSOA's coverage row as stored (full precision)."""
    return stored_rows(conn, "code", "SELECT * FROM lsoa_coverage WHERE code = %s", (code,))[code]


def assert_figures(shown: dict[str, Any], stored: dict[str, Any], rules: dict[str, int]) -> None:
    """Each figure shown is its stored value rounded by its rule."""
    for name, places in rules.items():
        figures.assert_shown(shown[name], stored[name], places)


def test_the_stored_lsoa_keeps_full_precision(conn: psycopg.Connection, partial: Partial) -> None:
    # What makes the checks below bite: the database holds more decimals than are shown.
    row = stored_lsoa(conn, LSOA)
    assert 0 < row["covered_share"] < 1
    assert figures.decimals(row["covered_share"]) > figures.SHARE
    assert figures.decimals(row["adults_covered"]) > figures.ADULTS


# -- JSON answers -----------------------------------------------------------------------------


def test_json_lsoa_coverage(client: TestClient, conn: psycopg.Connection, partial: Partial) -> None:
    body = client.get(f"/coverage/lsoas/{LSOA}").json()
    stored = stored_lsoa(conn, LSOA)
    assert_figures(body, stored, LSOA_FIGURES)
    (share,) = conn.execute(
        "SELECT ST_Area(ST_Intersection(g.area, l.geom)) / ST_Area(l.geom)"
        " FROM community_group g, lsoa l WHERE g.id = %s AND l.vintage = 2021 AND l.code = %s",
        (partial.group_id, LSOA),
    ).fetchone() or (None,)
    (group,) = [g for g in body["groups"] if g["reference"] == partial.reference]
    figures.assert_shown(group["share_of_lsoa"], share, figures.SHARE)


def test_json_england_totals(
    client: TestClient, conn: psycopg.Connection, partial: Partial
) -> None:
    body = client.get("/coverage/england").json()
    # England's sums straight from the stored LSOA rows (deprived: IMD deciles 1-2).
    adults, covered, deprived, deprived_covered, organiser = (
        conn.execute(
            "SELECT sum(adults), sum(adults_covered),"
            " sum(adults) FILTER (WHERE imd_decile <= 2),"
            " sum(adults_covered) FILTER (WHERE imd_decile <= 2), sum(adults_organiser_covered)"
            " FROM lsoa_coverage"
        ).fetchone()
        or (0.0,) * 5
    )
    expected = {
        "adults": adults,
        "adults_covered": covered,
        "covered_share": covered / adults,
        "deprived_adults": deprived,
        "deprived_adults_covered": deprived_covered,
        "deprived_covered_share": deprived_covered / deprived,
        "adults_organiser_covered": organiser,
        "organiser_share": organiser / adults,
    }
    for name, value in expected.items():
        places = figures.SHARE if name.endswith("share") else figures.ADULTS
        assert body[name] == pytest.approx(figures.rounded(value, places), abs=1e-9), name
        assert figures.decimals(body[name]) <= places, name
    assert figures.decimals(covered) > figures.ADULTS  # the sum itself is not a whole tenth


def test_json_group_area_and_extent(
    client: TestClient, conn: psycopg.Connection, partial: Partial
) -> None:
    response = client.get(f"/groups/{partial.reference}")
    assert response.status_code == 200, response.text
    body = response.json()
    area_km2, *bbox = conn.execute(
        "SELECT area_km2, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT area_km2, ST_Transform(area, 4326)::box2d AS e FROM community_group"
        "       WHERE id = %s) x",
        (partial.group_id,),
    ).fetchone() or (None,)
    figures.assert_shown(body["area_km2"], area_km2, figures.AREA_KM2)
    for got, full in zip(body["bbox"], bbox, strict=True):
        figures.assert_shown(got, full, figures.COORDINATE)


def test_json_iod2019_district_measures(client: TestClient, conn: psycopg.Connection) -> None:
    body = client.get("/areas/E08000009", params={"edition": "IoD2019"}).json()
    stored = {
        (d, m): v
        for d, m, v in conn.execute(
            "SELECT domain_code, measure, value FROM lad_summary_measure"
            " WHERE edition_code = 'IoD2019' AND lad_code = 'E08000009'"
        ).fetchall()
    }
    for m in body["summary_measures"]:
        full = stored[(m["domain"], m["measure"])]
        if full is None:
            assert m["value"] is None
            continue
        figures.assert_shown(m["value"], full, figures.LAD_MEASURE_PLACES[m["measure"]])


# -- GeoJSON: OGC items and tiles ---------------------------------------------------------------


def test_geojson_items(client: TestClient, conn: psycopg.Connection, partial: Partial) -> None:
    feature = client.get(f"/collections/coverage-lsoa/items/{LSOA}").json()
    assert_figures(feature["properties"], stored_lsoa(conn, LSOA), LSOA_FIGURES)
    page = client.get(
        "/collections/coverage-h3-r8/items", params={"limit": 200, "sortby": "-adults_covered"}
    ).json()
    stored = stored_rows(conn, "cell", "SELECT * FROM h3_coverage_serving WHERE resolution = 8")
    assert page["features"]
    for f in page["features"]:
        assert_figures(f["properties"], stored[f["id"]], H3_FIGURES)
    assert any(figures.decimals(r["adults"]) > figures.ADULTS for r in stored.values())


def test_geojson_group_and_district_items(client: TestClient, conn: psycopg.Connection) -> None:
    page = client.get("/collections/lad-iod2019/items", params={"limit": 20}).json()
    stored = stored_rows(
        conn, "code", "SELECT * FROM lad_deprivation WHERE edition_code = 'IoD2019'"
    )
    assert page["features"]
    for f in page["features"]:
        for measure, places in figures.LAD_MEASURE_PLACES.items():
            full = stored[f["id"]][f"imd_{measure}"]
            got = f["properties"][f"imd_{measure}"]
            if full is None:
                assert got is None
            else:
                figures.assert_shown(got, full, places)


def tile_url(collection_id: str, lon: float, lat: float, zoom: int) -> str:
    tile = WEB_MERCATOR.tile(lon, lat, zoom)
    return f"/collections/{collection_id}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"


@pytest.mark.parametrize("encoding", ["mvt", "geojson"])
def test_tiles(
    client: TestClient, conn: psycopg.Connection, partial: Partial, encoding: str
) -> None:
    url = tile_url("coverage-lsoa", partial.lon, partial.lat, 13)
    if encoding == "mvt":
        decoded = mapbox_vector_tile.decode(client.get(url).content)["coverage-lsoa"]["features"]
    else:
        decoded = client.get(url, params={"f": "geojson"}).json()["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in decoded}
    assert LSOA in by_code
    carried = {"adults", "covered_share", "adults_uncovered"}  # the collection's tile figures
    for code, properties in by_code.items():
        stored = stored_lsoa(conn, code)
        assert_figures(properties, stored, {n: LSOA_FIGURES[n] for n in carried})
    assert 0 < by_code[LSOA]["covered_share"] < 1


# -- HTML pages ---------------------------------------------------------------------------------


def test_html_item_page(client: TestClient, conn: psycopg.Connection, partial: Partial) -> None:
    page = client.get(f"/collections/coverage-lsoa/items/{LSOA}", params={"f": "html"})
    assert page.headers["content-type"].startswith("text/html")
    cells = dict(re.findall(r"<tr><th>(\w+)</th><td>([^<]*)</td></tr>", page.text))
    stored = stored_lsoa(conn, LSOA)
    for name, places in LSOA_FIGURES.items():
        figures.assert_shown(float(html.unescape(cells[name])), stored[name], places)


# -- what the figures say about themselves ------------------------------------------------------


def test_openapi_and_queryables_say_the_rule(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    totals = schemas["CoverageTotals"]["properties"]
    assert "Rounded to 0.1 " in totals["adults"]["description"]
    assert "Rounded to 0.0001 " in totals["covered_share"]["description"]
    assert (
        "Rounded to 0.01 "
        in schemas["AssessedArea"]["properties"]["area_km2"]["anyOf"][0]["description"]
    )
    queryables = client.get("/collections/coverage-lsoa/queryables").json()["properties"]
    assert "Rounded to 0.1 " in queryables["adults"]["description"]
    assert "Rounded to 0.0001 " in queryables["covered_share"]["description"]


# -- street-level crime: the LSOA layer and the beat-meeting pack -------------------------------

TRAFFORD = "E08000009"
CRIME_FIGURES = {"residents": figures.ADULTS, "rate_per_1000_last_12_months": figures.RATE_PER_1000}


def stored_crime(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """Trafford's rows of crime_lsoa_serving as stored, with the rate recomputed from them."""
    rows = stored_rows(
        conn,
        "code",
        "SELECT code, fid, crimes_last_12_months, residents, rate_per_1000_last_12_months"
        " FROM crime_lsoa_serving WHERE lad_code = %s",
        (TRAFFORD,),
    )
    for row in rows.values():
        if row["residents"]:
            computed = row["crimes_last_12_months"] * 1000 / row["residents"]
            assert row["rate_per_1000_last_12_months"] == pytest.approx(computed, rel=1e-12)
    return rows


def test_crime_lsoa_items_and_tiles(
    client: TestClient, conn: psycopg.Connection, crime_loaded: int
) -> None:
    stored = stored_crime(conn)
    page = client.get(
        "/collections/crime-lsoa/items", params={"lad_code": TRAFFORD, "limit": 500}
    ).json()
    assert len(page["features"]) == len(stored) > 0
    for f in page["features"]:
        row = stored[f["properties"]["code"]]
        for name, places in CRIME_FIGURES.items():
            if row[name] is None:
                assert f["properties"][name] is None
            else:
                figures.assert_shown(f["properties"][name], row[name], places)
    assert any(
        figures.decimals(r["rate_per_1000_last_12_months"] or 0) > 1 for r in stored.values()
    )
    lon, lat = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p"
        " FROM crime_lsoa_serving WHERE lad_code = %s ORDER BY code LIMIT 1) x",
        (TRAFFORD,),
    ).fetchone() or (0.0, 0.0)
    tile = mapbox_vector_tile.decode(client.get(tile_url("crime-lsoa", lon, lat, 12)).content)
    features = tile["crime-lsoa"]["features"]
    shown_in_trafford = [f for f in features if f["properties"]["code"] in stored]
    assert shown_in_trafford
    for f in shown_in_trafford:
        full = stored[f["properties"]["code"]]["rate_per_1000_last_12_months"]
        if full is not None:
            got = f["properties"]["rate_per_1000_last_12_months"]
            figures.assert_shown(got, full, figures.RATE_PER_1000)


def test_crime_pack_html(client: TestClient, conn: psycopg.Connection, crime_loaded: int) -> None:
    page = client.get("/crime/pack", params={"area": TRAFFORD, "to": "2019-01", "months": 12})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    summary = client.get(
        "/crime/summary", params={"area": TRAFFORD, "from": "2018-02", "to": "2019-01"}
    ).json()
    residents = factories.iod2025_residents(conn, TRAFFORD)
    rate = figures.rounded(summary["total"] * 1000 / residents, figures.RATE_PER_1000)
    people = figures.rounded(residents, figures.ADULTS)
    assert f"<strong>{rate:.1f}</strong>a year per 1,000 residents ({people:,.1f} residents" in (
        page.text
    )
    assert f"{residents:,.2f}" not in page.text


# -- eligibility of a drawn polygon -------------------------------------------------------------


@pytest.fixture(scope="module")
def programme(settings: DatabaseSettings) -> Iterator[checks.Programme]:
    """An IoD2025 LSOA-level programme for the 20% most deprived on the IMD."""
    yield from factories.module_programme(
        settings.dsn, rule={"kind": "index", "domain": "imd", "decile_at_most": 2}
    )


def test_json_eligibility_of_a_polygon(
    client: TestClient, conn: psycopg.Connection, partial: Partial, programme: checks.Programme
) -> None:
    geometry = box_around(partial.lon, partial.lat, 0.004)
    response = client.post("/eligibility", json={"geometry": geometry, "programme": programme.id})
    assert response.status_code == 200, response.text
    [answer] = response.json()["answers"]
    # Each LSOA's share inside the polygon and its residents there, from the database.
    stored = stored_rows(
        conn,
        "code",
        "SELECT l.code, ST_Area(ST_Intersection(l.geom, a.g)) / ST_Area(l.geom) AS fraction,"
        " p.residents FROM lsoa l"
        " JOIN lsoa_population p ON p.edition_code = 'IoD2025' AND p.lsoa_code = l.code,"
        " (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326), 27700) AS g) a"
        " WHERE l.vintage = 2021 AND ST_Intersects(l.geom, a.g)",
        (json.dumps(geometry),),
    )
    assert len(answer["lsoas"]) > 1
    for lsoa in answer["lsoas"]:
        row = stored[lsoa["code"]]
        figures.assert_shown(lsoa["fraction_in_area"], row["fraction"], figures.SHARE)
        residents = row["residents"] * row["fraction"]
        figures.assert_shown(lsoa["residents_in_area"], residents, figures.ADULTS)
    total = sum(
        stored[x["code"]]["residents"] * stored[x["code"]]["fraction"] for x in answer["lsoas"]
    )
    figures.assert_shown(answer["area"]["residents"], total, figures.ADULTS)


def test_an_equality_filter_matches_the_figure_as_shown(
    client: TestClient, conn: psycopg.Connection, partial: Partial
) -> None:
    stored = stored_lsoa(conn, LSOA)
    shown = figures.rounded(stored["adults_covered"], figures.ADULTS)
    assert shown != stored["adults_covered"]
    page = client.get(
        "/collections/coverage-lsoa/items", params={"adults_covered": str(shown), "limit": 100}
    ).json()
    assert LSOA in {f["id"] for f in page["features"]}
    assert all(f["properties"]["adults_covered"] == shown for f in page["features"])
