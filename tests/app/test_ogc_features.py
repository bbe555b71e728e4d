"""OGC API - Features (Parts 1-3) over HTTP, checked against the sources and independent SQL.

Every expected id set or order comes either from the demo source files or from a SQL query
written here and run directly on the serving tables; none is a constant.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from pyproj import Transformer

from tests.utils import sources

GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
# Where each collection's rows live (the OGC contract names the collections; the tables are
# the serving tables of the schema).
TABLES = {
    "lsoa-iod2025": ("lsoa_deprivation", "IoD2025"),
    "lsoa-iod2019": ("lsoa_deprivation", "IoD2019"),
    "lad-iod2025": ("lad_deprivation", "IoD2025"),
    "lad-iod2019": ("lad_deprivation", "IoD2019"),
}
TRAFFORD = "E08000009"
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

LSOA21_POINTS = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
LSOA11_POINTS = sources.points_on_surface(sources.LSOA11_BOUNDARIES, "lsoa11_code")


# -- helpers ---------------------------------------------------------------------------------


def items_url(collection_id: str) -> str:
    return f"/collections/{collection_id}/items"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text and "psycopg" not in response.text
    return body


def served_ids(client: TestClient, collection_id: str, **params: Any) -> list[str]:
    """Every feature id the service returns for a query (one page holds them all)."""
    response = client.get(items_url(collection_id), params={"limit": 10_000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"])
    ids = [f["id"] for f in body["features"]]
    assert len(ids) == len(set(ids))
    return ids


def sql_ids(conn: psycopg.Connection, collection_id: str, where: str, order: str = "code") -> list:
    """The codes of the collection's rows that satisfy a SQL condition, run directly."""
    table, edition = TABLES[collection_id]
    query = sql.SQL("SELECT code FROM {} WHERE edition_code = {} AND ({}) ORDER BY {}").format(
        sql.Identifier(table), sql.Literal(edition), sql.SQL(where), sql.SQL(order)
    )
    # No parameters: psycopg sends the text as is, so LIKE patterns keep their single '%'.
    return [code for (code,) in conn.execute(query).fetchall()]


def links_by_rel(body: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for link in body["links"]:
        found.setdefault(link["rel"], []).append(link)
    return found


def flat_coordinates(geometry: dict[str, Any]) -> np.ndarray:
    return np.asarray(
        [c for polygon in geometry["coordinates"] for ring in polygon for c in ring], dtype=float
    )


def iod2025_codes() -> list[str]:
    return sorted(sources.csv(sources.IOD2025)["lsoa21_code"])


def iod2025_rows() -> Any:
    return sources.csv(sources.IOD2025).set_index("lsoa21_code")


def lookup_2021() -> Any:
    return sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")


# -- paging ----------------------------------------------------------------------------------


def walk(client: TestClient, collection_id: str, params: dict[str, Any]) -> list[dict]:
    """Follow `next` links from the first page until there is none; return every page."""
    pages = []
    response = client.get(items_url(collection_id), params=params)
    while True:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == GEOJSON
        page = response.json()
        pages.append(page)
        assert len(pages) < 1000, "paging does not end"
        following = links_by_rel(page).get("next")
        if not following:
            return pages
        assert len(following) == 1 and following[0]["type"] == GEOJSON
        response = client.get(following[0]["href"])


def trafford_or_most_deprived() -> set[str]:
    """From the sources: LSOAs named 'Trafford…' or in IMD deciles 1-2 (IoD2025)."""
    names = lookup_2021()["lsoa21_name"]
    rows = iod2025_rows()
    return {
        code
        for code in rows.index
        if names[code].startswith("Trafford") or rows.loc[code, "IMD_decile"] <= 2
    }


@pytest.mark.parametrize("limit", [7, 100, 1000])
@pytest.mark.parametrize("filtered", [False, True], ids=["all", "filtered"])
def test_paging_walks_the_whole_collection_without_gaps_or_duplicates(
    client: TestClient, limit: int, filtered: bool
) -> None:
    params: dict[str, Any] = {"limit": limit}
    expected = set(iod2025_codes())
    if filtered:
        # A filter with quotes, '%' and spaces: it must survive into the next links.
        params["filter"] = "name LIKE 'Trafford%' OR imd_decile <= 2"
        expected = trafford_or_most_deprived()
        assert 0 < len(expected) < len(iod2025_codes())
    pages = walk(client, "lsoa-iod2025", params)
    ids = [f["id"] for page in pages for f in page["features"]]
    assert len(ids) == len(set(ids)), "a feature appears on two pages"
    assert set(ids) == expected
    assert ids == sorted(ids)  # the default order is by feature id
    assert len(pages) == math.ceil(len(expected) / limit)
    for number, page in enumerate(pages):
        assert page["numberMatched"] == len(expected)
        assert page["numberReturned"] == len(page["features"])
        last = number == len(pages) - 1
        assert page["numberReturned"] == (len(ids) - limit * number if last else limit)
        assert ("prev" in links_by_rel(page)) == (number > 0)


def test_prev_link_leads_back_to_the_previous_page(client: TestClient) -> None:
    first = client.get(items_url("lsoa-iod2019"), params={"limit": 25}).json()
    second = client.get(links_by_rel(first)["next"][0]["href"]).json()
    back = client.get(links_by_rel(second)["prev"][0]["href"]).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]
    codes = sorted(sources.csv(sources.FILE_1)["LSOA code (2011)"])
    assert [f["id"] for f in second["features"]] == codes[25:50]


def test_sorted_paging_follows_the_sql_order(client: TestClient, conn: psycopg.Connection) -> None:
    pages = walk(client, "lsoa-iod2025", {"limit": 100, "sortby": "-imd_score"})
    ids = [f["id"] for page in pages for f in page["features"]]
    assert ids == sql_ids(conn, "lsoa-iod2025", "TRUE", order="imd_score DESC, code")


# -- CQL2 filters ----------------------------------------------------------------------------

PART_OF_TRAFFORD_84 = [(-2.40, 53.40), (-2.30, 53.40), (-2.30, 53.46), (-2.40, 53.46)]
AROUND_TRAFFORD_84 = [(-2.50, 53.35), (-2.25, 53.35), (-2.25, 53.49), (-2.50, 53.49)]
PART_OF_TRAFFORD_BNG = [(372000, 388000), (378000, 388000), (378000, 394000), (372000, 394000)]


def wkt_polygon(corners: list[tuple[float, float]]) -> str:
    ring = [*corners, corners[0]]
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def json_polygon(corners: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(c) for c in [*corners, corners[0]]]]}


def prop(name: str) -> dict[str, str]:
    return {"property": name}


def sql_envelope(box: tuple[float, float, float, float]) -> str:
    """A CRS84 box as SQL on the storage CRS."""
    return "ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, 4326), 27700)".format(*box)


def sql_shape(corners: list[tuple[float, float]], srid: int) -> str:
    return f"ST_Transform(ST_GeomFromText('{wkt_polygon(corners)}', {srid}), 27700)"


# (collection, cql2-text, cql2-json, equivalent SQL on the serving table, filter-crs)
FILTER_CASES = [
    pytest.param(
        "lsoa-iod2025",
        "imd_decile = 1",
        {"op": "=", "args": [prop("imd_decile"), 1]},
        "imd_decile = 1",
        None,
        id="equals",
    ),
    pytest.param(
        "lsoa-iod2025",
        "imd_rank < 5000 AND income_decile >= 2",
        {
            "op": "and",
            "args": [
                {"op": "<", "args": [prop("imd_rank"), 5000]},
                {"op": ">=", "args": [prop("income_decile"), 2]},
            ],
        },
        "imd_rank < 5000 AND income_decile >= 2",
        None,
        id="and",
    ),
    pytest.param(
        "lsoa-iod2025",
        "imd_decile = 1 OR living_environment_decile = 10",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [prop("imd_decile"), 1]},
                {"op": "=", "args": [prop("living_environment_decile"), 10]},
            ],
        },
        "imd_decile = 1 OR living_environment_decile = 10",
        None,
        id="or",
    ),
    pytest.param(
        "lsoa-iod2025",
        f"NOT (lad_code = '{TRAFFORD}') AND imd_rank <> 1719",
        {
            "op": "and",
            "args": [
                {"op": "not", "args": [{"op": "=", "args": [prop("lad_code"), TRAFFORD]}]},
                {"op": "<>", "args": [prop("imd_rank"), 1719]},
            ],
        },
        f"NOT (lad_code = '{TRAFFORD}') AND imd_rank <> 1719",
        None,
        id="not-and-not-equal",
    ),
    pytest.param(
        "lsoa-iod2025",
        "name LIKE 'Trafford 0%'",
        {"op": "like", "args": [prop("name"), "Trafford 0%"]},
        "name LIKE 'Trafford 0%'",
        None,
        id="like",
    ),
    pytest.param(
        "lsoa-iod2019",
        "lad_code IN ('E06000009', 'E06000041')",
        {"op": "in", "args": [prop("lad_code"), ["E06000009", "E06000041"]]},
        "lad_code IN ('E06000009', 'E06000041')",
        None,
        id="in",
    ),
    pytest.param(
        "lsoa-iod2025",
        "imd_score BETWEEN 20.5 AND 40",
        {"op": "between", "args": [prop("imd_score"), 20.5, 40]},
        "imd_score BETWEEN 20.5 AND 40",
        None,
        id="between",
    ),
    pytest.param(
        "lsoa-iod2025",
        "ward_code IS NULL OR imd_decile = 10",
        {
            "op": "or",
            "args": [
                {"op": "isNull", "args": [prop("ward_code")]},
                {"op": "=", "args": [prop("imd_decile"), 10]},
            ],
        },
        "ward_code IS NULL OR imd_decile = 10",
        None,
        id="is-null-or",
    ),
    pytest.param(
        "lad-iod2019",
        "imd_extent IS NOT NULL AND imd_extent > 0.2",
        {
            "op": "and",
            "args": [
                {"op": "not", "args": [{"op": "isNull", "args": [prop("imd_extent")]}]},
                {"op": ">", "args": [prop("imd_extent"), 0.2]},
            ],
        },
        "imd_extent IS NOT NULL AND imd_extent > 0.2",
        None,
        id="is-not-null",
    ),
    pytest.param(
        "lsoa-iod2019",
        "population > 1500 AND idaci_decile = 1",
        {
            "op": "and",
            "args": [
                {"op": ">", "args": [prop("population"), 1500]},
                {"op": "=", "args": [prop("idaci_decile"), 1]},
            ],
        },
        "population > 1500 AND idaci_decile = 1",
        None,
        id="iod2019-supplementary",
    ),
    pytest.param(
        "lsoa-iod2025",
        f"S_INTERSECTS(geometry, {wkt_polygon(PART_OF_TRAFFORD_84)})",
        {"op": "s_intersects", "args": [prop("geometry"), json_polygon(PART_OF_TRAFFORD_84)]},
        f"ST_Intersects(geom, {sql_shape(PART_OF_TRAFFORD_84, 4326)})",
        None,
        id="s_intersects-polygon",
    ),
    pytest.param(
        "lsoa-iod2025",
        "S_INTERSECTS(geometry, BBOX(-2.40, 53.40, -2.30, 53.46))",
        {"op": "s_intersects", "args": [prop("geometry"), {"bbox": [-2.40, 53.40, -2.30, 53.46]}]},
        f"ST_Intersects(geom, {sql_envelope((-2.40, 53.40, -2.30, 53.46))})",
        None,
        id="s_intersects-bbox",
    ),
    pytest.param(
        "lsoa-iod2019",
        f"S_WITHIN(geometry, {wkt_polygon(AROUND_TRAFFORD_84)})",
        {"op": "s_within", "args": [prop("geometry"), json_polygon(AROUND_TRAFFORD_84)]},
        f"ST_Within(geom, {sql_shape(AROUND_TRAFFORD_84, 4326)})",
        None,
        id="s_within",
    ),
    pytest.param(
        "lsoa-iod2025",
        f"S_INTERSECTS(geometry, {wkt_polygon(PART_OF_TRAFFORD_BNG)})",
        {"op": "s_intersects", "args": [prop("geometry"), json_polygon(PART_OF_TRAFFORD_BNG)]},
        f"ST_Intersects(geom, ST_GeomFromText('{wkt_polygon(PART_OF_TRAFFORD_BNG)}', 27700))",
        EPSG.format(27700),
        id="s_intersects-bng",
    ),
    pytest.param(
        "lsoa-iod2025",
        # EPSG:4326 is latitude first: the same box as the CRS84 case, axes swapped.
        "S_INTERSECTS(geometry, BBOX(53.40, -2.40, 53.46, -2.30))",
        {"op": "s_intersects", "args": [prop("geometry"), {"bbox": [53.40, -2.40, 53.46, -2.30]}]},
        f"ST_Intersects(geom, {sql_envelope((-2.40, 53.40, -2.30, 53.46))})",
        EPSG.format(4326),
        id="s_intersects-bbox-lat-lon",
    ),
    pytest.param(
        "lsoa-iod2025",
        "S_INTERSECTS(geometry, BBOX(-2.40, 53.35, -2.0, 53.50)) AND imd_decile <= 5"
        " AND name LIKE 'Manchester%'",
        {
            "op": "and",
            "args": [
                {
                    "op": "s_intersects",
                    "args": [prop("geometry"), {"bbox": [-2.40, 53.35, -2.0, 53.50]}],
                },
                {"op": "<=", "args": [prop("imd_decile"), 5]},
                {"op": "like", "args": [prop("name"), "Manchester%"]},
            ],
        },
        "ST_Intersects(geom, ST_Transform(ST_MakeEnvelope(-2.40, 53.35, -2.0, 53.50, 4326), 27700))"
        " AND imd_decile <= 5 AND name LIKE 'Manchester%'",
        None,
        id="spatial-and-attributes",
    ),
]


@pytest.mark.parametrize(("collection_id", "text", "tree", "where", "filter_crs"), FILTER_CASES)
@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
def test_a_cql2_filter_returns_exactly_what_sql_returns(
    client: TestClient,
    conn: psycopg.Connection,
    collection_id: str,
    text: str,
    tree: dict[str, Any],
    where: str,
    filter_crs: str | None,
    lang: str,
) -> None:
    expected = sql_ids(conn, collection_id, where)
    assert expected, "the case should select some features"
    params = {"filter": text if lang == "cql2-text" else json.dumps(tree), "filter-lang": lang}
    if filter_crs:
        params["filter-crs"] = filter_crs
    assert served_ids(client, collection_id, **params) == expected


def test_filters_select_proper_subsets(conn: psycopg.Connection) -> None:
    """The filter cases are discriminating: most select neither nothing nor everything."""
    partial = 0
    for case in FILTER_CASES:
        collection_id, _, _, where, _ = case.values
        selected = len(sql_ids(conn, collection_id, where))
        partial += 0 < selected < len(sql_ids(conn, collection_id, "TRUE"))
    assert partial == len(FILTER_CASES)


@pytest.mark.parametrize("crs", [None, EPSG.format(4326), EPSG.format(27700)])
def test_a_point_filter_finds_the_lsoa_holding_it_in_every_filter_crs(
    client: TestClient, crs: str | None
) -> None:
    for code in sorted(LSOA21_POINTS)[::150]:
        lon, lat = LSOA21_POINTS[code]
        if crs is None:
            point = f"POINT({lon} {lat})"
        elif crs.endswith("/4326"):
            point = f"POINT({lat} {lon})"
        else:
            point = "POINT({} {})".format(*TO_BNG.transform(lon, lat))
        params = {"filter": f"S_INTERSECTS(geometry, {point})"}
        if crs:
            params["filter-crs"] = crs
        assert served_ids(client, "lsoa-iod2025", **params) == [code]


# -- property equality and bbox --------------------------------------------------------------


def test_property_equality_filters_match_the_sources(client: TestClient) -> None:
    lookup = lookup_2021()
    expected = sorted(lookup.index[lookup["ltla24_code"] == TRAFFORD])
    assert served_ids(client, "lsoa-iod2025", lad_code=TRAFFORD) == expected
    file_1 = sources.csv(sources.FILE_1).set_index("LSOA code (2011)")
    expected = sorted(file_1.index[file_1["Local Authority District code (2019)"] == TRAFFORD])
    assert served_ids(client, "lsoa-iod2019", lad_code=TRAFFORD) == expected
    rows = iod2025_rows()
    both = rows.index[
        (rows["IMD_decile"] == 1) & (lookup.loc[rows.index, "ltla24_code"] == TRAFFORD)
    ]
    assert served_ids(client, "lsoa-iod2025", lad_code=TRAFFORD, imd_decile="1") == sorted(both)


TRAFFORD_BOX_84 = (-2.40, 53.40, -2.30, 53.46)


def test_a_crs84_bbox_selects_what_sql_selects(
    client: TestClient, conn: psycopg.Connection
) -> None:
    box = ",".join(map(str, TRAFFORD_BOX_84))
    expected = sql_ids(
        conn, "lsoa-iod2025", f"ST_Intersects(geom, {sql_envelope(TRAFFORD_BOX_84)})"
    )
    assert expected
    assert served_ids(client, "lsoa-iod2025", bbox=box) == expected
    assert served_ids(client, "lsoa-iod2025", bbox=box, **{"bbox-crs": CRS84}) == expected
    # The same box in EPSG:4326, latitude first.
    minx, miny, maxx, maxy = TRAFFORD_BOX_84
    lat_lon = f"{miny},{minx},{maxy},{maxx}"
    for name in (EPSG.format(4326), "EPSG:4326", "[EPSG:4326]"):
        assert served_ids(client, "lsoa-iod2025", bbox=lat_lon, **{"bbox-crs": name}) == expected
    # Heights are ignored.
    box_3d = f"{minx},{miny},-100,{maxx},{maxy},1000"
    assert served_ids(client, "lsoa-iod2025", bbox=box_3d) == expected


def test_a_bng_bbox_selects_what_sql_selects_and_encloses_the_crs84_box(
    client: TestClient, conn: psycopg.Connection
) -> None:
    # The BNG box enclosing the CRS84 box (edges densified) selects a superset of it.
    bng = TO_BNG.transform_bounds(*TRAFFORD_BOX_84, densify_pts=21)
    expected = sql_ids(
        conn,
        "lsoa-iod2025",
        "ST_Intersects(geom, ST_MakeEnvelope({}, {}, {}, {}, 27700))".format(*bng),
    )
    served = served_ids(
        client, "lsoa-iod2025", bbox=",".join(map(str, bng)), **{"bbox-crs": EPSG.format(27700)}
    )
    assert served == expected
    assert set(served) >= set(
        served_ids(client, "lsoa-iod2025", bbox=",".join(map(str, TRAFFORD_BOX_84)))
    )


@pytest.mark.parametrize("collection_id", ["lsoa-iod2025", "lsoa-iod2019"])
def test_equivalent_tiny_bboxes_in_every_crs_select_the_one_lsoa_inside(
    client: TestClient, collection_id: str
) -> None:
    points = LSOA21_POINTS if collection_id.endswith("2025") else LSOA11_POINTS
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    for code in sorted(points)[::120]:
        lon, lat = points[code]
        d = 1e-6  # about 10 cm: well inside the polygon around its point on surface
        x, y = TO_BNG.transform(lon, lat)
        mx, my = to_mercator.transform(lon, lat)
        boxes = {
            CRS84: (lon - d, lat - d, lon + d, lat + d),
            EPSG.format(4326): (lat - d, lon - d, lat + d, lon + d),
            EPSG.format(27700): (x - 0.1, y - 0.1, x + 0.1, y + 0.1),
            EPSG.format(3857): (mx - 0.1, my - 0.1, mx + 0.1, my + 0.1),
        }
        for crs, box in boxes.items():
            found = served_ids(
                client, collection_id, bbox=",".join(map(str, box)), **{"bbox-crs": crs}
            )
            assert found == [code], crs


# -- CRS (Part 2) ----------------------------------------------------------------------------

TRAFFORD_LSOA = "E01006112"


def db_geometry(conn: psycopg.Connection, code: str, expression: str) -> dict[str, Any]:
    query = sql.SQL(
        "SELECT ST_AsGeoJSON({})::text FROM lsoa_deprivation"
        " WHERE edition_code = 'IoD2025' AND code = %s"
    ).format(sql.SQL(expression))
    row = conn.execute(query, (code,)).fetchone()
    assert row is not None
    return json.loads(row[0])


@pytest.mark.parametrize(
    ("crs", "expression", "tolerance"),
    [
        (EPSG.format(27700), "geom", 0.005),
        (EPSG.format(3857), "ST_Transform(geom, 3857)", 0.011),
        (CRS84, "ST_Transform(geom, 4326)", 1e-6),
    ],
)
def test_served_coordinates_equal_the_database_geometry_in_the_crs(
    client: TestClient, conn: psycopg.Connection, crs: str, expression: str, tolerance: float
) -> None:
    expected = flat_coordinates(db_geometry(conn, TRAFFORD_LSOA, expression))
    one = client.get(f"{items_url('lsoa-iod2025')}/{TRAFFORD_LSOA}", params={"crs": crs})
    page = client.get(
        items_url("lsoa-iod2025"),
        params={"crs": crs, "limit": 1, "offset": 0, "code": TRAFFORD_LSOA},
    )
    for response in (one, page):
        assert response.status_code == 200, response.text
        assert response.headers["content-crs"] == f"<{crs}>"
    geometries = [one.json()["geometry"], page.json()["features"][0]["geometry"]]
    for geometry in geometries:
        served = flat_coordinates(geometry)
        assert served.shape == expected.shape
        np.testing.assert_allclose(served, expected, rtol=0, atol=tolerance)


def test_default_crs_is_crs84(client: TestClient) -> None:
    response = client.get(f"{items_url('lsoa-iod2025')}/{TRAFFORD_LSOA}")
    assert response.headers["content-crs"] == f"<{CRS84}>"


def test_epsg_4326_is_latitude_first(client: TestClient) -> None:
    url = f"{items_url('lsoa-iod2025')}/{TRAFFORD_LSOA}"
    lon_lat = flat_coordinates(client.get(url).json()["geometry"])
    lat_lon = flat_coordinates(
        client.get(url, params={"crs": EPSG.format(4326)}).json()["geometry"]
    )
    np.testing.assert_array_equal(lat_lon, lon_lat[:, ::-1])
    lon, lat = LSOA21_POINTS[TRAFFORD_LSOA]
    assert abs(lat_lon[0, 0] - lat) < 0.05 and abs(lat_lon[0, 1] - lon) < 0.05
    assert 53 < lat_lon[0, 0] < 54


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (items_url("lsoa-iod2025"), {"crs": "EPSG:1234"}, "crs"),
        (items_url("lsoa-iod2025"), {"crs": "http://www.opengis.net/def/crs/EPSG/0/32630"}, "crs"),
        (f"{items_url('lsoa-iod2025')}/{TRAFFORD_LSOA}", {"crs": "EPSG:1234"}, "crs"),
        (items_url("lsoa-iod2025"), {"bbox": "0,0,1,1", "bbox-crs": "EPSG:1234"}, "bbox-crs"),
        (
            items_url("lsoa-iod2025"),
            {"filter": "imd_decile = 1", "filter-crs": "EPSG:1234"},
            "filter-crs",
        ),
    ],
)
def test_an_unsupported_crs_is_a_400_naming_the_parameter(
    client: TestClient, path: str, params: dict[str, str], parameter: str
) -> None:
    body = assert_problem(client.get(path, params=params), 400)
    assert body["parameter"] == parameter


def test_collections_advertise_their_crs(client: TestClient) -> None:
    body = client.get("/collections/lsoa-iod2025").json()
    assert body["storageCrs"] == EPSG.format(27700)
    assert {CRS84, EPSG.format(4326), EPSG.format(27700), EPSG.format(3857)} <= set(body["crs"])


# -- properties, sortby, limit, offset -------------------------------------------------------


def test_properties_selects_the_attributes(client: TestClient) -> None:
    body = client.get(
        items_url("lsoa-iod2025"), params={"properties": "code,imd_decile", "limit": 50}
    ).json()
    rows = iod2025_rows()
    for feature in body["features"]:
        assert feature["properties"] == {
            "code": feature["id"],
            "imd_decile": rows.loc[feature["id"], "IMD_decile"],
        }
        assert feature["geometry"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    ("sortby", "order"),
    [
        ("imd_rank", "imd_rank, code"),
        ("+imd_rank", "imd_rank, code"),
        ("-imd_rank", "imd_rank DESC, code"),
        ("-imd_decile,+name", "imd_decile DESC, name, code"),
        ("lad_name,-income_score", "lad_name, income_score DESC, code"),
    ],
)
def test_sortby_orders_as_sql_does(
    client: TestClient, conn: psycopg.Connection, sortby: str, order: str
) -> None:
    assert served_ids(client, "lsoa-iod2025", sortby=sortby) == sql_ids(
        conn, "lsoa-iod2025", "TRUE", order=order
    )


def test_sortby_imd_rank_is_the_source_order(client: TestClient) -> None:
    expected = iod2025_rows()["IMD_rank"].sort_values().index.tolist()
    assert served_ids(client, "lsoa-iod2025", sortby="imd_rank") == expected


def documented_limits(client: TestClient) -> tuple[int, int]:
    """The default and maximum `limit` the API definition documents for /items."""
    operation = client.get("/openapi.json").json()["paths"]["/collections/{collectionId}/items"]
    found = re.search(r"default (\d+), maximum (\d+)", operation["get"]["description"])
    assert found, "the items operation documents its default and maximum limit"
    return int(found[1]), int(found[2])


def test_limit_defaults_and_bounds_are_as_documented(client: TestClient) -> None:
    default, maximum = documented_limits(client)
    total = len(iod2025_codes())
    body = client.get(items_url("lsoa-iod2025")).json()
    assert body["numberReturned"] == len(body["features"]) == min(default, total)
    body = client.get(items_url("lsoa-iod2025"), params={"limit": maximum}).json()
    assert body["numberReturned"] == min(maximum, total)
    for bad in (0, -1, maximum + 1, "ten", "1.5", 10**30):
        body = assert_problem(client.get(items_url("lsoa-iod2025"), params={"limit": bad}), 400)
        assert body["parameter"] == "limit"


def test_offset_pages_from_the_given_position(client: TestClient) -> None:
    codes = iod2025_codes()
    body = client.get(items_url("lsoa-iod2025"), params={"limit": 100, "offset": 600}).json()
    assert [f["id"] for f in body["features"]] == codes[600:700]
    assert body["numberMatched"] == len(codes) and body["numberReturned"] == len(codes[600:700])
    assert "next" not in links_by_rel(body) and "prev" in links_by_rel(body)
    beyond = client.get(items_url("lsoa-iod2025"), params={"offset": len(codes) + 5}).json()
    assert beyond["features"] == [] and beyond["numberMatched"] == len(codes)
    for bad in (-1, "x"):
        body = assert_problem(client.get(items_url("lsoa-iod2025"), params={"offset": bad}), 400)
        assert body["parameter"] == "offset"


# -- single features, queryables, landing page, conformance ----------------------------------


def test_a_feature_carries_the_source_values(client: TestClient) -> None:
    code = sorted(LSOA21_POINTS)[42]
    response = client.get(f"{items_url('lsoa-iod2025')}/{code}")
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    feature = response.json()
    row = iod2025_rows().loc[code]
    assert feature["type"] == "Feature" and feature["id"] == code
    props = feature["properties"]
    assert (props["imd_score"], props["imd_rank"], props["imd_decile"]) == (
        row["IMD_score"],
        row["IMD_rank"],
        row["IMD_decile"],
    )
    assert (props["barriers_decile"], props["living_environment_rank"]) == (
        row["Housing_and_Services_decile"],
        row["Environment_rank"],
    )
    assert props["name"] == lookup_2021().loc[code, "lsoa21_name"]
    rels = links_by_rel(feature)
    assert rels["self"][0]["href"].endswith(f"/collections/lsoa-iod2025/items/{code}")
    assert client.get(rels["collection"][0]["href"]).status_code == 200


def test_editions_keep_their_own_geography(client: TestClient) -> None:
    only_2011 = sorted(set(LSOA11_POINTS) - set(LSOA21_POINTS))
    assert only_2011, "some 2011 LSOAs were replaced in 2021"
    code = only_2011[0]
    assert client.get(f"{items_url('lsoa-iod2019')}/{code}").status_code == 200
    assert_problem(client.get(f"{items_url('lsoa-iod2025')}/{code}"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/collections/lsoa-iod2030",
        "/collections/lsoa-iod2030/items",
        "/collections/lsoa-iod2030/items/E01006112",
        "/collections/lsoa-iod2030/queryables",
        "/collections/lsoa-iod2025/items/E01999999",
        "/collections/lad-iod2019/items/E01006112",  # an LSOA is no LAD feature
    ],
)
def test_unknown_collections_and_features_are_404(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


JSON_TYPES = {
    "text": "string",
    "integer": "integer",
    "bigint": "integer",
    "double precision": "number",
}
PYTHON_TYPES = {"string": str, "integer": int, "number": (int, float)}


@pytest.mark.parametrize("collection_id", sorted(TABLES))
def test_queryables_list_every_property_with_its_type(
    client: TestClient, conn: psycopg.Connection, collection_id: str
) -> None:
    response = client.get(f"/collections/{collection_id}/queryables")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema["type"] == "object" and schema["$schema"].startswith("https://json-schema.org/")
    queryables = schema["properties"]
    assert queryables["geometry"]["format"].startswith("geometry-")
    features = client.get(items_url(collection_id), params={"limit": 10_000}).json()["features"]
    assert set(queryables) == set(features[0]["properties"]) | {"geometry"}
    table, _ = TABLES[collection_id]
    column_types = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
            (table,),
        ).fetchall()
    )
    for name, schema_of in queryables.items():
        if name == "geometry":
            continue
        assert schema_of["type"] == JSON_TYPES[column_types[name]], name
        values = [f["properties"][name] for f in features if f["properties"][name] is not None]
        assert all(isinstance(v, PYTHON_TYPES[schema_of["type"]]) for v in values), name


def test_landing_page_links_resolve(client: TestClient) -> None:
    body = client.get("/").json()
    rels = links_by_rel(body)
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rel in rels, rel
        response = client.get(rels[rel][0]["href"])
        assert response.status_code == 200, rel
    assert "openapi" in client.get(rels["service-desc"][0]["href"]).json()
    listed = client.get(rels["data"][0]["href"]).json()["collections"]
    assert {c["id"] for c in listed} >= set(TABLES)


def test_conformance_declares_the_classes_implemented(client: TestClient) -> None:
    declared = set(client.get("/conformance").json()["conformsTo"])
    features = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
    required = {
        features.format(1, "core"),
        features.format(1, "geojson"),
        features.format(1, "html"),
        features.format(2, "crs"),
        features.format(3, "filter"),
        features.format(3, "features-filter"),
        features.format(3, "queryables"),
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    }
    assert required <= declared


# -- HTML and caching ------------------------------------------------------------------------

HTML_PATHS = [
    "/",
    "/conformance",
    "/collections",
    "/collections/lsoa-iod2025",
    "/collections/lsoa-iod2025/queryables",
    "/collections/lsoa-iod2025/items",
    f"/collections/lsoa-iod2025/items/{TRAFFORD_LSOA}",
]


@pytest.mark.parametrize("path", HTML_PATHS)
def test_html_encoding_by_f_and_by_accept(client: TestClient, path: str) -> None:
    by_f = client.get(path, params={"f": "html"})
    by_accept = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    for response in (by_f, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.lstrip().lower().startswith("<!doctype html>")
    as_json = client.get(path, params={"f": "json"})
    assert as_json.status_code == 200 and "json" in as_json.headers["content-type"]


def test_html_items_list_the_features_of_the_page(client: TestClient) -> None:
    params = {"lad_code": TRAFFORD, "limit": 20, "offset": 20}
    ids = [f["id"] for f in client.get(items_url("lsoa-iod2025"), params=params).json()["features"]]
    html = client.get(items_url("lsoa-iod2025"), params={**params, "f": "html"}).text
    assert len(ids) == 20
    assert all(f">{code}<" in html for code in ids)
    others = set(iod2025_codes()) - set(ids)
    assert not any(f">{code}<" in html for code in others)


@pytest.mark.parametrize("accept_encoding", ["identity", "gzip, br"])
def test_items_carry_an_etag_and_answer_304_when_it_matches(
    client: TestClient, accept_encoding: str
) -> None:
    """RFC 9110 13.1.2: If-None-Match uses the weak comparison, and may list several tags."""
    url = items_url("lsoa-iod2025")
    headers = {"Accept-Encoding": accept_encoding}
    first = client.get(url, params={"limit": 5}, headers=headers)
    etag = first.headers["etag"]
    assert re.fullmatch(r'(W/)?"[^"]+"', etag)
    for if_none_match in (etag, f'"not-this-one", {etag}', etag.removeprefix("W/")):
        again = client.get(
            url, params={"limit": 5}, headers={**headers, "If-None-Match": if_none_match}
        )
        assert again.status_code == 304, if_none_match
        assert again.content == b""
    other = client.get(url, params={"limit": 6}, headers=headers)
    assert other.headers["etag"] != etag
    stale = client.get(url, params={"limit": 6}, headers={**headers, "If-None-Match": etag})
    assert stale.status_code == 200


def test_an_etag_of_the_json_page_does_not_validate_the_html_page(client: TestClient) -> None:
    """RFC 9110 8.8.3: an ETag names one representation; the HTML and GeoJSON pages differ."""
    url = items_url("lsoa-iod2025")
    plain = {"Accept-Encoding": "identity"}
    json_page = client.get(url, params={"limit": 5}, headers={**plain, "Accept": GEOJSON})
    etag = json_page.headers["etag"]
    html = client.get(
        url,
        params={"limit": 5},
        headers={**plain, "Accept": "text/html", "If-None-Match": etag},
    )
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")


# -- bad input -------------------------------------------------------------------------------

TEXT = {"filter-lang": "cql2-text"}
JSON = {"filter-lang": "cql2-json"}
BAD_ITEMS_REQUESTS = [
    pytest.param({"filter": "imd_decile ="}, id="cql2-text-truncated"),
    pytest.param({"filter": "imd_decile == 1"}, id="cql2-text-bad-operator"),
    pytest.param({"filter": "(imd_decile = 1"}, id="cql2-text-unbalanced"),
    pytest.param({"filter": "{not json", **JSON}, id="cql2-json-not-json"),
    pytest.param({"filter": "[1, 2]", **JSON}, id="cql2-json-not-an-object"),
    pytest.param({"filter": '{"op": "=", "args": "x"}', **JSON}, id="cql2-json-bad-args"),
    pytest.param({"filter": "imd_decile = 1", "filter-lang": "cql-text"}, id="unknown-lang"),
    pytest.param({"filter": "colour = 'red'"}, id="unknown-property"),
    pytest.param({"filter": "imd_decile = 'x'"}, id="number-vs-text"),
    pytest.param({"filter": "name = 5"}, id="text-vs-number"),
    pytest.param({"filter": "imd_decile IN ('a', 1)"}, id="in-mixed-types"),
    pytest.param({"filter": "imd_decile BETWEEN 1 AND 'x'"}, id="between-text"),
    pytest.param({"filter": "imd_decile LIKE '1%'"}, id="like-on-a-number"),
    pytest.param({"filter": "name LIKE 5"}, id="like-with-a-number-pattern"),
    pytest.param({"filter": "imd_decile = name"}, id="number-vs-text-property"),
    pytest.param({"filter": "geometry = 'x'"}, id="geometry-compared-as-scalar"),
    pytest.param({"filter": "CASEI(name) = 'trafford 001a'"}, id="casei"),
    pytest.param({"filter": "ACCENTI(name) = 'x'"}, id="accenti"),
    pytest.param({"filter": "T_BEFORE(name, TIMESTAMP('2020-01-01T00:00:00Z'))"}, id="temporal"),
    pytest.param({"filter": "imd_rank + 1 > 5"}, id="arithmetic"),
    pytest.param({"filter": "A_CONTAINS(name, ('x'))"}, id="array-function"),
    pytest.param({"filter": "S_INTERSECTS(geometry, BBOX(1, 2, 3))"}, id="bbox-three-numbers"),
    pytest.param(
        {
            "filter": '{"op": "s_intersects", "args": [{"property": "geometry"},'
            ' {"bbox": ["a", 1, 2, 3]}]}',
            **JSON,
        },
        id="bbox-text-numbers",
    ),
    pytest.param({"filter": '{"op": "and", "args": []}', **JSON}, id="and-without-args"),
    pytest.param({"filter": "S_INTERSECTS(geometry, POINT(200 200))"}, id="point-off-the-earth"),
    pytest.param(
        {"filter": "S_INTERSECTS(geometry, BBOX(-200, -100, 200, 100))"}, id="bbox-off-the-earth"
    ),
    pytest.param({"filter": "S_INTERSECTS(geometry, name)"}, id="spatial-on-text"),
    pytest.param({"filter": "NOT " * 100 + "imd_rank < 100"}, id="too-deep"),
    pytest.param({"filter": "imd_rank < 100 OR " * 2000 + "TRUE"}, id="too-long"),
    pytest.param({"filter": "name = 'a\x00b'"}, id="nul-in-filter-literal"),
    pytest.param({"name": "a\x00b"}, id="nul-in-equality-value"),
    pytest.param({"imd_decile": "x"}, id="equality-type-mismatch"),
    pytest.param({"imd_score": "NaN"}, id="equality-nan"),
    pytest.param({"bbox": "nan,53,-2,54"}, id="bbox-nan"),
    pytest.param({"bbox": "-2,53,inf,54"}, id="bbox-inf"),
    pytest.param({"bbox": "-1e300,-1e300,1e300,1e300"}, id="bbox-huge"),
    pytest.param({"bbox": "-2,53,-3,54"}, id="bbox-inverted"),
    pytest.param({"bbox": "-2,53,-1"}, id="bbox-three-numbers"),
    pytest.param({"bbox": "-190,53,-1,54"}, id="bbox-longitude-out-of-range"),
    pytest.param({"bbox": "-2,53,-1,54);DROP TABLE lsoa;--"}, id="bbox-injection"),
    pytest.param({"sortby": "imd_rank;DROP TABLE lsoa"}, id="sortby-injection"),
    pytest.param({"sortby": 'name", (SELECT 1) --'}, id="sortby-quoted-injection"),
    pytest.param({"sortby": "imd_rank DESC"}, id="sortby-sql-syntax"),
    pytest.param({"properties": "code,geom"}, id="properties-not-exposed-column"),
    pytest.param({"properties": 'name") FROM pg_user --'}, id="properties-injection"),
    pytest.param({"foo": "1"}, id="unknown-parameter"),
    pytest.param({"f": "xml"}, id="unknown-format"),
]


@pytest.mark.parametrize("params", BAD_ITEMS_REQUESTS)
def test_bad_items_requests_are_4xx_problems(
    lenient_client: TestClient, params: dict[str, str]
) -> None:
    response = lenient_client.get(items_url("lsoa-iod2025"), params=params)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


def test_an_unknown_query_parameter_names_itself(client: TestClient) -> None:
    """OGC API - Features Part 1, /req/core/query-param-unknown."""
    body = assert_problem(client.get(items_url("lsoa-iod2025"), params={"colour": "red"}), 400)
    assert body["parameter"] == "colour"


@pytest.mark.parametrize("path", [p for p in HTML_PATHS if not p.endswith("/items")])
def test_other_resources_reject_unknown_query_parameters(
    lenient_client: TestClient, path: str
) -> None:
    """/req/core/query-param-unknown applies to every operation, not only /items."""
    assert_problem(lenient_client.get(path, params={"colour": "red"}), 400)


def test_the_api_definition_declares_the_items_parameters(client: TestClient) -> None:
    """/conf/oas30 is declared, so the OpenAPI document must describe the query parameters."""
    operation = client.get("/openapi.json").json()["paths"]["/collections/{collectionId}/items"]
    declared = {p["name"] for p in operation["get"].get("parameters", [])}
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "filter", "filter-lang"} <= declared


INJECTIONS = [
    {"filter": "name = 'x''; DROP TABLE lsoa_deprivation; --'"},
    {"filter": "name = 'x'' OR ''1''=''1'"},
    {"filter": '{"op": "=", "args": [{"property": "name\\"; DROP TABLE lsoa; --"}, "x"]}', **JSON},
    {"filter": '{"op": "=", "args": [{"property": "name"}, "x\'); DROP TABLE lsoa; --"]}', **JSON},
    {"lad_code": "E08000009' OR '1'='1"},
    {"name": "'; DELETE FROM lsoa_deprivation; --"},
    {"sortby": "code; DROP TABLE lsoa"},
    {"properties": "code FROM lsoa; --"},
    {"bbox": "0,0,1,1) OR (1=1"},
    {"crs": "EPSG:4326'; DROP TABLE lsoa; --"},
]


def test_sql_injection_is_inert(lenient_client: TestClient, conn: psycopg.Connection) -> None:
    client = lenient_client
    before = conn.execute(
        "SELECT edition_code, count(*) FROM lsoa_deprivation GROUP BY 1 ORDER BY 1"
    ).fetchall()
    boundaries_before = conn.execute(
        "SELECT vintage, count(*) FROM lsoa GROUP BY 1 ORDER BY 1"
    ).fetchall()
    for params in INJECTIONS:
        response = client.get(items_url("lsoa-iod2025"), params=params)
        if response.status_code == 200:  # a harmless literal that matches nothing
            assert response.json()["numberMatched"] == 0, params
        else:
            assert 400 <= response.status_code < 500, (params, response.text)
            assert_problem(response, response.status_code)
    after = conn.execute(
        "SELECT edition_code, count(*) FROM lsoa_deprivation GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert (
        after
        == before
        == [
            ("IoD2019", len(sources.csv(sources.FILE_1))),
            ("IoD2025", len(sources.csv(sources.IOD2025))),
        ]
    )
    # The LSOA boundaries (the target of the DROP TABLE lsoa attempts): every one still there.
    boundaries_after = conn.execute(
        "SELECT vintage, count(*) FROM lsoa GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert (
        boundaries_after
        == boundaries_before
        == [(2011, len(sources.csv(sources.FILE_1))), (2021, len(sources.csv(sources.IOD2025)))]
    )
    # The service still answers with the whole collection.
    body = client.get(items_url("lsoa-iod2025"), params={"limit": 1}).json()
    assert body["numberMatched"] == len(sources.csv(sources.IOD2025))


def test_a_nul_byte_in_a_feature_id_is_a_4xx_problem(lenient_client: TestClient) -> None:
    response = lenient_client.get(f"{items_url('lsoa-iod2025')}/E01%00")
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)
