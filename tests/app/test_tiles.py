"""OGC API - Tiles over HTTP: metadata, tiles, encodings, ETags, invalidation and byte budget."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import brotli
import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pyproj
import pytest
from fastapi.testclient import TestClient

from app.caching import DEFAULT_TILE_CACHE_BYTES, DEFAULT_TILE_RENDERS, CacheSettings
from app.main import create_app
from config.settings import DatabaseSettings
from data import DEMO_DIR
from data.loaders import load_all
from geo import tiles
from geo.collections import all_collections, get_collection
from tests.utils import sources
from tests.utils.service import service_settings

logger = logging.getLogger("platoons.tests.tiles")

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
BNG_CRS = "http://www.opengis.net/def/crs/EPSG/0/27700"
BNG = tiles.BRITISH_NATIONAL_GRID.tms
MVT = "application/vnd.mapbox-vector-tile"
PROBLEM = "application/problem+json"
IDENTITY = {"Accept-Encoding": "identity"}
TRAFFORD_POINT = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")["E01006112"]


def tile_url(collection_id: str, tile: morecantile.Tile) -> str:
    """OGC order: /{tileMatrix}/{tileRow}/{tileCol} = /z/y/x."""
    return f"/collections/{collection_id}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"


def trafford_tile(zoom: int) -> morecantile.Tile:
    return WEB_MERCATOR.tile(*TRAFFORD_POINT, zoom)


def raw_get(client: TestClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """GET without decoding the content encoding: the bytes as sent."""
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def wait_until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def extent(dsn: str, collection_id: str) -> list[float]:
    """A collection's lon/lat extent, by SQL written here."""
    collection = get_collection(collection_id)
    assert collection is not None
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            " SELECT ST_Extent(geom_4326) AS e FROM lsoa_deprivation WHERE edition_code = %s"
            ") AS x",
            (collection.where["edition_code"],),
        ).fetchone()
    assert row is not None
    return [float(v) for v in row]


# -- tile matrix sets and tilesets ------------------------------------------------------------


def test_tile_matrix_sets_list_links_to_their_definitions(client: TestClient) -> None:
    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad", "OSBritishNationalGrid"]
    assert listed[0]["uri"] == TMS_URI
    definition = client.get(listed[0]["links"][0]["href"]).json()
    assert definition == WEB_MERCATOR.model_dump(mode="json", exclude_none=True)
    assert len(definition["tileMatrices"]) == 25

    # The British National Grid set has no registered URI; its definition is served in full
    # and morecantile reads it back as the same grid as OS's: 896 m a pixel at zoom 0.
    assert "uri" not in listed[1] and listed[1]["crs"] == BNG_CRS
    bng = morecantile.TileMatrixSet.model_validate(client.get(listed[1]["links"][0]["href"]).json())
    assert [m.cellSize for m in bng.tileMatrices] == [896.0 / 2**z for z in range(14)]
    assert bng.xy_bounds(morecantile.Tile(0, 0, 0)) == pytest.approx(
        (-238375.0, 1376256.0 - 229376.0, -238375.0 + 229376.0, 1376256.0)
    )


@pytest.mark.parametrize("collection_id", [c.id for c in all_collections()])
def test_every_collection_has_a_vector_tileset(
    client: TestClient, collection_id: str, example_programmes: list[str], example_assets: int
) -> None:
    listing = client.get(f"/collections/{collection_id}/tiles").json()
    entry, bng_entry = listing["tilesets"]
    assert entry["dataType"] == "vector" and entry["tileMatrixSetURI"] == TMS_URI
    assert bng_entry["crs"] == BNG_CRS and "tileMatrixSetURI" not in bng_entry
    rels = {link["rel"]: link["href"] for link in entry["links"]}
    assert client.get(rels[tiles.REL_TILING_SCHEME]).json()["id"] == "WebMercatorQuad"

    tileset = client.get(rels["self"]).json()
    assert tileset["dataType"] == "vector"
    assert tileset["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    items = [link for link in tileset["links"] if link["rel"] == "item"]
    assert {link["type"] for link in items} == {MVT, "application/geo+json"}
    template = next(link["href"] for link in items if link["type"] == MVT)
    assert template.endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert all(link.get("templated") for link in items)
    (layer,) = tileset["layers"]
    collection = get_collection(collection_id)
    assert collection is not None
    assert layer["id"] == collection_id
    assert (int(layer["minTileMatrix"]), int(layer["maxTileMatrix"])) == (
        collection.minzoom,
        collection.maxzoom,
    )
    assert set(layer["propertiesSchema"]["properties"]) == {
        *collection.tile_properties,
        *collection.low_zoom_tile_properties,
    }

    # The template, filled in at a zoom of the collection over Trafford, gives a tile (empty
    # when the collection has no rows there).
    tile = trafford_tile(max(collection.minzoom, 10))
    url = (
        template.replace("{tileMatrix}", str(tile.z))
        .replace("{tileRow}", str(tile.y))
        .replace("{tileCol}", str(tile.x))
    )
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    assert set(mapbox_vector_tile.decode(response.content)) <= {collection_id}


def test_tileset_bounds_and_limits_come_from_the_data(
    client: TestClient, settings: DatabaseSettings
) -> None:
    bounds = extent(settings.dsn, "lsoa-iod2025")
    tileset = client.get("/collections/lsoa-iod2025/tiles/WebMercatorQuad").json()
    box = tileset["boundingBox"]
    assert box["lowerLeft"] + box["upperRight"] == pytest.approx(bounds, abs=1e-6)
    for limit in tileset["tileMatrixSetLimits"]:
        covering = list(WEB_MERCATOR.tiles(*bounds, [int(limit["tileMatrix"])]))
        assert (limit["minTileCol"], limit["maxTileCol"]) == (
            min(t.x for t in covering),
            max(t.x for t in covering),
        )
        assert (limit["minTileRow"], limit["maxTileRow"]) == (
            min(t.y for t in covering),
            max(t.y for t in covering),
        )


def test_british_national_grid_tiles_hold_the_lsoas_they_cover(
    client: TestClient, settings: DatabaseSettings
) -> None:
    # Zoom 6 of the OS grid (14 m a pixel, 3.6 km tiles) over Trafford, in EPSG:27700.
    tile = BNG.tile(*TRAFFORD_POINT, 6)
    left, bottom, right, top = BNG.xy_bounds(tile)
    with psycopg.connect(settings.dsn) as conn:
        expected = {
            fid
            for (fid,) in conn.execute(
                "SELECT fid FROM lsoa_deprivation WHERE edition_code = 'IoD2025'"
                " AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 27700))"
                " AND ST_Area(ST_Intersection(geom, ST_MakeEnvelope(%s, %s, %s, %s, 27700))) > 1",
                (left, bottom, right, top) * 2,
            )
        }
    url = f"/collections/lsoa-iod2025/tiles/OSBritishNationalGrid/6/{tile.y}/{tile.x}"
    response = client.get(url, headers=IDENTITY)
    assert response.status_code == 200 and response.headers["content-type"] == MVT
    layer = mapbox_vector_tile.decode(response.content)["lsoa-iod2025"]
    fids = {feature["id"] for feature in layer["features"]}
    # Every LSOA with area in the tile is in it; any other only touches it within the buffer.
    assert expected and expected <= fids
    assert all(set(f["properties"]) >= {"code", "imd_decile"} for f in layer["features"])
    for feature in layer["features"]:
        for x, y in _points(feature["geometry"]["coordinates"]):
            assert -64 <= x <= 4096 + 64 and -64 <= y <= 4096 + 64

    # GeoJSON tiles are clipped to the same square in EPSG:27700 and given in lon/lat.
    geojson = client.get(url, params={"f": "geojson"}).json()
    assert {f["id"] for f in geojson["features"]} == fids
    to_bng = pyproj.Transformer.from_crs(4326, 27700, always_xy=True)
    for feature in geojson["features"]:
        for lon, lat in _points(feature["geometry"]["coordinates"]):
            east, north = to_bng.transform(lon, lat)
            # 6 decimals of a degree are about 0.1 m.
            assert left - 0.2 <= east <= right + 0.2 and bottom - 0.2 <= north <= top + 0.2


def _points(coordinates: Any) -> list[tuple[float, float]]:
    """Every (x, y) of a GeoJSON coordinate array, however nested."""
    if isinstance(coordinates[0], int | float):
        return [(coordinates[0], coordinates[1])]
    return [point for part in coordinates for point in _points(part)]


def test_british_national_grid_zooms_and_tilejson(client: TestClient) -> None:
    # Collections' zooms are Web Mercator ones: the H3 resolution-9 layer starts at Web
    # Mercator zoom 10, which is zoom 3 of the OS grid.
    tileset = client.get("/collections/coverage-h3-r9/tiles/OSBritishNationalGrid").json()
    (layer,) = tileset["layers"]
    assert layer["minTileMatrix"] == "3" and tileset["crs"] == BNG_CRS
    assert not [link for link in tileset["links"] if link["rel"] == "describedby"]
    low = BNG.tile(*TRAFFORD_POINT, 2)
    assert_problem(
        client.get(f"/collections/coverage-h3-r9/tiles/OSBritishNationalGrid/2/{low.y}/{low.x}"),
        404,
    )
    assert_problem(
        client.get("/collections/lsoa-iod2025/tiles/OSBritishNationalGrid/tilejson.json"), 404
    )


def test_tilejson(client: TestClient, settings: DatabaseSettings) -> None:
    collection = get_collection("lsoa-iod2025")
    assert collection is not None
    document = client.get("/collections/lsoa-iod2025/tiles/WebMercatorQuad/tilejson.json").json()
    assert document["tilejson"] == "3.0.0"
    assert (document["minzoom"], document["maxzoom"]) == (collection.minzoom, collection.maxzoom)
    assert document["bounds"] == pytest.approx(extent(settings.dsn, "lsoa-iod2025"), abs=1e-6)
    assert document["attribution"] == collection.attribution
    (template,) = document["tiles"]
    assert template.startswith("http://testserver/") and template.endswith("/{z}/{y}/{x}")
    (layer,) = document["vector_layers"]
    assert layer["id"] == "lsoa-iod2025"
    for name, kind in layer["fields"].items():
        prop = collection.property(name)
        assert prop is not None
        assert kind == {"string": "String", "integer": "Number", "number": "Number"}[prop.type]

    tile = trafford_tile(12)
    url = template.format(z=tile.z, y=tile.y, x=tile.x).removeprefix("http://testserver")
    features = mapbox_vector_tile.decode(client.get(url).content)["lsoa-iod2025"]["features"]
    assert features
    assert set().union(*(f["properties"] for f in features)) <= set(layer["fields"])


# -- tiles ------------------------------------------------------------------------------------


def test_tiles_in_both_formats(client: TestClient) -> None:
    tile = trafford_tile(11)
    mvt = client.get(tile_url("lsoa-iod2025", tile), params={"f": "mvt"})
    default = client.get(tile_url("lsoa-iod2025", tile))
    geojson = client.get(tile_url("lsoa-iod2025", tile), params={"f": "geojson"})
    assert mvt.headers["content-type"] == default.headers["content-type"] == MVT
    assert mvt.content == default.content
    assert geojson.headers["content-type"] == "application/geo+json"
    mvt_ids = {f["id"] for f in mapbox_vector_tile.decode(mvt.content)["lsoa-iod2025"]["features"]}
    assert mvt_ids and mvt_ids == {f["id"] for f in geojson.json()["features"]}
    assert mvt.headers["etag"] != geojson.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/collections/nope/tiles",
        "/collections/nope/tiles/WebMercatorQuad",
        "/collections/nope/tiles/WebMercatorQuad/tilejson.json",
        "/collections/nope/tiles/WebMercatorQuad/10/0/0",
        "/tileMatrixSets/nope",
        "/collections/lsoa-iod2025/tiles/nope",
        "/collections/lsoa-iod2025/tiles/nope/tilejson.json",
        "/collections/lsoa-iod2025/tiles/nope/10/0/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/4/0/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/17/0/0",
        "/collections/lad-iod2025/tiles/WebMercatorQuad/25/0/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/1024/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/0/1024",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/-1/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/0/0x1",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/ten/0/0",
        f"/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/{'9' * 5000}/0",
        "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10/0/0%00",
    ],
)
def test_unknown_or_out_of_range_is_404(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize("f", ["png", "json", "", "MVT", "mvt'--"])
def test_an_unknown_format_is_400(client: TestClient, f: str) -> None:
    body = assert_problem(
        client.get(tile_url("lsoa-iod2025", trafford_tile(10)), params={"f": f}), 400
    )
    assert body["parameter"] == "f"


# -- caching and encodings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("identity", None), ("gzip", "gzip"), ("gzip, br", "br"), ("br;q=0.5, gzip", "gzip")],
)
def test_etag_and_304_per_encoding(client: TestClient, accept: str, encoding: str | None) -> None:
    url = tile_url("lsoa-iod2025", trafford_tile(12))
    plain, identity_bytes = raw_get(client, url, IDENTITY)
    first, sent = raw_get(client, url, {"Accept-Encoding": accept})
    assert first.status_code == 200
    assert first.headers.get("content-encoding") == encoding
    assert first.headers["cache-control"] == "public, max-age=60"
    assert "accept-encoding" in first.headers["vary"].lower()
    decoded = {None: bytes, "gzip": gzip.decompress, "br": brotli.decompress}[encoding](sent)
    assert decoded == identity_bytes  # compressed once: no double encoding
    etag = first.headers["etag"]
    assert etag.startswith('"') and (etag == plain.headers["etag"]) == (encoding is None)

    for if_none_match in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = client.get(url, headers={"Accept-Encoding": accept, "If-None-Match": if_none_match})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
    other = client.get(url, headers={"Accept-Encoding": accept, "If-None-Match": '"other"'})
    assert other.status_code == 200


@pytest.mark.parametrize("accept", ["identity", "gzip, br"])
def test_head_answers_as_get_without_the_body(client: TestClient, accept: str) -> None:
    url = tile_url("lsoa-iod2025", trafford_tile(12))
    got = client.get(url, headers={"Accept-Encoding": accept})
    head = client.head(url, headers={"Accept-Encoding": accept})
    assert head.status_code == 200 and head.content == b""
    for name in ("etag", "content-type", "content-length", "cache-control", "content-encoding"):
        assert head.headers.get(name) == got.headers.get(name), name
    etag = got.headers["etag"]
    assert (
        client.head(url, headers={"If-None-Match": etag, "Accept-Encoding": accept}).status_code
        == 304
    )
    for document in ("/collections/lsoa-iod2025/tiles/WebMercatorQuad", "/collections"):
        probe = client.head(document)
        assert probe.status_code == 200 and probe.content == b""
    # A route with no GET is still refused, with what it allows.
    refused = client.head("/applications/1/submit")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


def test_etag_is_known_without_the_database(client: TestClient) -> None:
    """A 304 is answered from the data version the watcher holds: no pooled connection."""
    url = tile_url("lsoa-iod2025", trafford_tile(13))
    etag = client.get(url).headers["etag"]
    pool = client.app.state.pool
    before = pool.get_stats().get("requests_num", 0)
    for _ in range(5):
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        assert client.get(url).headers["etag"] == etag  # from the tile cache
    assert pool.get_stats().get("requests_num", 0) == before


def test_json_is_compressed_but_tiles_are_not_compressed_twice(client: TestClient) -> None:
    url = "/collections/lsoa-iod2025/tiles/WebMercatorQuad"
    response, sent = raw_get(client, url, {"Accept-Encoding": "br"})
    assert response.headers["content-encoding"] == "br"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert brotli.decompress(sent).startswith(b"{")
    plain, _ = raw_get(client, url, IDENTITY)
    assert "content-encoding" not in plain.headers

    tile_response, tile_bytes = raw_get(
        client, tile_url("lad-iod2025", trafford_tile(8)), {"Accept-Encoding": "gzip"}
    )
    assert tile_response.headers["content-encoding"] == "gzip"
    assert mapbox_vector_tile.decode(gzip.decompress(tile_bytes))["lad-iod2025"]["features"]


def test_a_reload_changes_the_etag_and_regenerates_tiles(
    client: TestClient, settings: DatabaseSettings
) -> None:
    state = client.app.state
    wait_until(lambda: state.data_version.current is not None)
    url = tile_url("lsoa-iod2025", trafford_tile(11))
    first = client.get(url, headers=IDENTITY)
    assert first.headers["etag"].startswith(f'"{state.data_version.current}-')

    with psycopg.connect(settings.dsn) as conn:
        report = load_all(conn, DEMO_DIR)
    wait_until(lambda: state.data_version.current == report.data_version)
    # The old version's tiles were dropped, not merely bypassed.
    assert state.tile_cache.versions() <= {report.data_version}

    again = client.get(url, headers={**IDENTITY, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    assert again.headers["etag"].startswith(f'"{report.data_version}-')
    assert again.content == first.content  # the same files reloaded give the same tile
    assert state.tile_cache.versions() == {report.data_version}


@pytest.mark.parametrize("document", ["", "/tilejson.json"])
def test_tileset_documents_are_revalidated_by_data_version(
    client: TestClient, settings: DatabaseSettings, document: str
) -> None:
    state = client.app.state
    wait_until(lambda: state.data_version.current is not None)
    url = f"/collections/lsoa-iod2025/tiles/WebMercatorQuad{document}"
    first = client.get(url)
    assert first.status_code == 200 and first.json()
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    # Another document, or the same one on another host, is another representation.
    other = client.get("/collections/lad-iod2025/tiles/WebMercatorQuad" + document)
    assert other.headers["etag"] != etag
    moved = client.get(url, headers={"Host": "maps.example.org"})
    assert moved.headers["etag"] != etag and "maps.example.org" in moved.text

    with psycopg.connect(settings.dsn) as conn:
        report = load_all(conn, DEMO_DIR)
    wait_until(lambda: state.data_version.current == report.data_version)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["etag"] != etag
    assert again.json() == first.json()  # the same files reloaded give the same document


# -- byte budget ------------------------------------------------------------------------------


def test_all_england_lsoa_tiles_fit_the_byte_budget(
    england_client: TestClient, england_settings: DatabaseSettings
) -> None:
    """Every z5-z8 tile over England's LSOAs, from the data's own bounds, within budget."""
    bounds = extent(england_settings.dsn, "lsoa-iod2025")
    largest: dict[int, tuple[int, str]] = {}
    lowest_zoom_ids: set[int] = set()
    for zoom in tiles.BUDGET_ZOOMS:
        covering = list(WEB_MERCATOR.tiles(*bounds, [zoom]))
        assert covering
        for tile in covering:
            url = tile_url("lsoa-iod2025", tile)
            response = england_client.get(url, headers=IDENTITY)
            assert response.status_code == 200, url
            size = len(response.content)
            if size > largest.get(zoom, (-1, ""))[0]:
                largest[zoom] = (size, url)
            if zoom == min(tiles.BUDGET_ZOOMS) and response.content:
                layer = mapbox_vector_tile.decode(response.content)["lsoa-iod2025"]
                lowest_zoom_ids.update(f["id"] for f in layer["features"])
    report = ", ".join(f"z{z}: {s / 1024:.0f} KiB ({u})" for z, (s, u) in largest.items())
    logger.info("largest all-England LSOA tiles: %s", report)
    assert all(size <= tiles.TILE_BYTE_BUDGET for size, _ in largest.values()), report
    # No LSOA was dropped to fit: at the lowest zoom only those under about one MVT unit
    # (about 300 m in Web Mercator at z5) collapse.
    with psycopg.connect(england_settings.dsn) as conn:
        (lsoas,) = conn.execute(
            "SELECT count(*) FROM lsoa_deprivation WHERE edition_code = 'IoD2025'"
        ).fetchone() or (0,)
    assert len(lowest_zoom_ids) >= 0.99 * lsoas


def test_the_tile_cache_keeps_to_its_byte_budget(
    settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PLATOONS_TILE_CACHE_BYTES bounds the tile bodies a process keeps; a tile larger than the
    whole budget is served all the same, and not kept."""
    assert CacheSettings().tile_cache_bytes == DEFAULT_TILE_CACHE_BYTES
    urls = [tile_url("lsoa-iod2025", trafford_tile(zoom)) for zoom in range(9, 15)]
    with TestClient(create_app(service_settings(settings))) as reference:
        sizes = {url: len(reference.get(url, headers=IDENTITY).content) for url in urls}
    budget = sorted(sizes.values())[-2]  # the largest tile does not fit; the others do
    monkeypatch.setenv("PLATOONS_TILE_CACHE_BYTES", str(budget))
    with TestClient(create_app(service_settings(settings))) as bounded:
        cache = bounded.app.state.tile_cache  # type: ignore[attr-defined]
        assert cache.max_bytes == budget
        for url in urls:
            response = bounded.get(url, headers=IDENTITY)
            assert response.status_code == 200
            assert len(response.content) == sizes[url]
            assert cache.size_bytes <= budget
        # Least recently used out first: the last tile served is kept if it fits.
        assert len(cache) >= 1
        assert cache.size_bytes == sum(len(body) for body in cache._entries.values())


def test_tile_misses_wait_for_a_render_slot(
    settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PLATOONS_TILE_RENDERS bounds the tiles a process renders at once: a miss waits while
    every slot is taken, and is served once one frees; a cached tile never waits."""
    assert CacheSettings().tile_renders == DEFAULT_TILE_RENDERS
    monkeypatch.setenv("PLATOONS_TILE_RENDERS", "1")
    cached, missed = (tile_url("lsoa-iod2025", trafford_tile(zoom)) for zoom in (13, 14))
    with TestClient(create_app(service_settings(settings))) as bounded:
        assert bounded.get(cached).status_code == 200
        slots = bounded.app.state.tile_renders  # type: ignore[attr-defined]
        assert bounded.portal is not None
        bounded.portal.call(slots.acquire)  # the one slot is taken
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(bounded.get, missed)
            assert bounded.get(cached).status_code == 200
            time.sleep(1.0)
            assert not waiting.done()
            bounded.portal.call(slots.release)
            response = waiting.result(timeout=30)
        assert response.status_code == 200
        assert mapbox_vector_tile.decode(response.content)["lsoa-iod2025"]["features"]


def test_grant_eligibility_tiles_filter_by_programme(
    client: TestClient, conn: psycopg.Connection, example_programmes: list[str]
) -> None:
    programme = example_programmes[0]
    lon, lat, in_programme = conn.execute(
        "SELECT ST_X(c), ST_Y(c), (SELECT count(*) FROM programme_lsoa_eligibility"
        "  WHERE programme_id = %s)"
        " FROM (SELECT ST_PointOnSurface(geom_4326) AS c FROM programme_lsoa_eligibility"
        "       WHERE programme_id = %s ORDER BY code LIMIT 1) AS x",
        (programme, programme),
    ).fetchone()
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 12)
    url = f"/collections/grant-eligibility/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}"
    everyone = client.get(url)
    filtered = client.get(url, params={"programme_id": programme})
    all_layers = mapbox_vector_tile.decode(everyone.content)["grant-eligibility"]["features"]
    one = mapbox_vector_tile.decode(filtered.content)["grant-eligibility"]["features"]
    assert one and {f["properties"]["programme_id"] for f in one} == {programme}
    assert len(one) < len(all_layers)  # other programmes' rows are in the unfiltered tile
    assert len(one) <= in_programme
    assert filtered.headers["etag"] != everyone.headers["etag"]
    assert client.get(url, params={"qualifies": "maybe"}).status_code == 400


def test_tiles_outside_the_declared_limits_are_404(client: TestClient) -> None:
    tileset = client.get("/collections/lsoa-iod2025/tiles/WebMercatorQuad").json()
    limits = next(lim for lim in tileset["tileMatrixSetLimits"] if lim["tileMatrix"] == "10")
    base = "/collections/lsoa-iod2025/tiles/WebMercatorQuad/10"
    inside = client.get(f"{base}/{limits['minTileRow']}/{limits['minTileCol']}")
    assert inside.status_code == 200
    beyond = client.get(f"{base}/{limits['maxTileRow'] + 1}/{limits['minTileCol']}")
    assert beyond.status_code == 404
    assert "tileMatrixSetLimits" in beyond.json()["detail"]


def test_district_tiles_carry_the_published_iod2025_ranks(client: TestClient) -> None:
    response = client.get(tile_url("lad-iod2025", trafford_tile(8)))
    features = mapbox_vector_tile.decode(response.content)["lad-iod2025"]["features"]
    by_code = {f["properties"]["code"]: f["properties"] for f in features}
    published = sources.published_lad_summaries()
    imd = published[published["index_domain"] == "Index of Multiple Deprivation"]
    imd = imd.set_index("area_code")
    assert "E08000009" in by_code
    for code, properties in by_code.items():
        row = imd.loc[code]
        assert properties["published_imd_average_rank_rank"] == row["rank_average_rank"]
        assert properties["published_imd_average_score_rank"] == row["rank_average_score"]
        assert (
            properties["published_imd_proportion_most_deprived_10pct_rank"]
            == row["rank_proportion_bottom_decile"]
        )
    described = client.get("/collections/lad-iod2025/queryables").json()["properties"]
    assert "as published by MHCLG" in described["published_imd_average_score_rank"]["description"]
    iod2019 = client.get("/collections/lad-iod2019/queryables").json()["properties"]
    assert not any(name.startswith("published_") for name in iod2019)
