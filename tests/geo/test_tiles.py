"""Vector tiles rendered in PostGIS, checked against the source boundaries and the database.

Expected feature sets come from the demo's boundary files with shapely (independently of the
tile SQL); expected attributes from the serving tables. No expected value is a constant.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from functools import cache
from typing import Any

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import shapely
from psycopg import sql

from data import DEMO_DIR
from geo import tiles
from geo.collections import Collection, all_collections, get_collection
from geo.errors import CollectionNotFound, InvalidInput, TileMatrixSetNotFound, TileOutOfRange
from tests.utils import figures, sources

pytestmark = pytest.mark.anyio

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
TRAFFORD_LSOA = "E01006112"
TRAFFORD_POINT = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[TRAFFORD_LSOA]
# Source boundary files of the 2021-geography collections, with their code property.
BOUNDARIES = {
    "lsoa-iod2025": (sources.LSOA21_BOUNDARIES, "lsoa21_code"),
    "lad-iod2025": ("boundaries/lad24_boundaries_uk_buc.geojson.gz", "ltla24_code"),
}


@cache
def source_shapes(collection_id: str) -> dict[str, shapely.Geometry]:
    """Every English feature of a collection's source boundary file, by GSS code."""
    name, code_property = BOUNDARIES[collection_id]
    with gzip.open(DEMO_DIR / name, "rt", encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return {
        f["properties"][code_property]: shapely.geometry.shape(f["geometry"])
        for f in features
        if f["properties"][code_property].startswith("E")
    }


def tile_at(point: tuple[float, float], zoom: int) -> morecantile.Tile:
    return WEB_MERCATOR.tile(point[0], point[1], zoom)


def address(collection_id: str, tile: morecantile.Tile, f: str = "mvt") -> tiles.TileAddress:
    return tiles.tile_address(
        collection_id, "WebMercatorQuad", str(tile.z), str(tile.y), str(tile.x), f
    )


def db_rows(conn: psycopg.Connection, collection: Collection, zoom: int) -> dict[int, dict]:
    """The tile id and tile properties of every row of the collection, from the table."""
    names = tiles.tile_properties(collection, tiles.WEB_MERCATOR, zoom)
    query = sql.SQL("SELECT {id}, {columns} FROM {table} WHERE {filter}").format(
        id=sql.Identifier(collection.tile_id_column),
        columns=sql.SQL(", ").join(map(sql.Identifier, names)),
        table=sql.Identifier(collection.table),
        filter=sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in collection.where.items()
        ),
    )
    return {
        row[0]: {n: shown(n, v) for n, v in zip(names, row[1:], strict=True)}
        for row in conn.execute(query)
    }


def shown(name: str, value: Any) -> Any:
    """A stored value as tiles show it: district measures to their published decimals."""
    places = figures.LAD_MEASURE_PLACES.get(name.removeprefix("imd_"))
    return value if value is None or places is None else figures.rounded(value, places)


def decode(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def coordinates(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Every position of a GeoJSON-like geometry."""
    return [tuple(p) for p in shapely.get_coordinates(shapely.geometry.shape(geometry))]


def fid(code: str) -> int:
    """The serving tables' integer id of a GSS code: its digits (E01006112 -> 1006112)."""
    return int(code[1:])


# -- requests ---------------------------------------------------------------------------------


def test_tile_paths_follow_the_ogc_order_matrix_row_col() -> None:
    tile = tile_at(TRAFFORD_POINT, 12)
    found = tiles.tile_address(
        "lsoa-iod2025", "WebMercatorQuad", str(tile.z), str(tile.y), str(tile.x)
    )
    assert (found.zoom, found.row, found.col) == (tile.z, tile.y, tile.x)
    assert found.tile == tile and found.format == "mvt"
    assert found.media_type == "application/vnd.mapbox-vector-tile"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nope", "WebMercatorQuad", "10", "0", "0"), CollectionNotFound),
        (
            ("lsoa-iod2025'; DROP TABLE lsoa --", "WebMercatorQuad", "10", "0", "0"),
            CollectionNotFound,
        ),
        (("lsoa-iod2025", "WorldCRS84Quad", "10", "0", "0"), TileMatrixSetNotFound),
        (("lsoa-iod2025", "WebMercatorQuad", "4", "0", "0"), TileOutOfRange),  # below minzoom
        (("lsoa-iod2025", "WebMercatorQuad", "17", "0", "0"), TileOutOfRange),  # above maxzoom
        (("lad-iod2025", "WebMercatorQuad", "25", "0", "0"), TileOutOfRange),  # not in the set
        (("lsoa-iod2025", "WebMercatorQuad", "10", "1024", "0"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "0", "1024"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "-1", "0"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "1.5", "0"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "9" * 5000, "0"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "ten", "0", "0"), TileOutOfRange),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "0", "0", "png"), InvalidInput),
        (("lsoa-iod2025", "WebMercatorQuad", "10", "0", "0", "MVT"), InvalidInput),
    ],
)
def test_bad_tile_requests_raise_domain_errors(args: tuple[str, ...], error: type) -> None:
    with pytest.raises(error):
        tiles.tile_address(*args)


def test_every_zoom_of_a_collection_is_addressable() -> None:
    for collection in all_collections():
        for zoom in (collection.minzoom, collection.maxzoom):
            last = str(2**zoom - 1)
            found = tiles.tile_address(collection.id, "WebMercatorQuad", str(zoom), last, last)
            assert (found.row, found.col) == (2**zoom - 1, 2**zoom - 1)


def test_tile_identity_names_address_format_and_recipe() -> None:
    tile = tile_at(TRAFFORD_POINT, 12)
    names = {
        tiles.tile_identity(address(collection, t, f))
        for collection in ("lsoa-iod2025", "lsoa-iod2019")
        for t in (tile, tile_at(TRAFFORD_POINT, 11))
        for f in tiles.TILE_FORMATS
    }
    assert len(names) == 8
    name = tiles.tile_identity(address("lsoa-iod2025", tile))
    assert re.fullmatch(
        rf"lsoa-iod2025/WebMercatorQuad/12/{tile.y}/{tile.x}\.mvt#[0-9a-f]{{16}}", name
    ), name
    # Every worker process must name a tile alike (the name is its ETag and cache key), so the
    # name must not depend on Python's per-process string hash salt.
    elsewhere = subprocess.run(
        [
            sys.executable,
            "-c",
            "from geo import tiles; print(tiles.tile_identity(tiles.tile_address("
            f"'lsoa-iod2025', 'WebMercatorQuad', '12', '{tile.y}', '{tile.x}', 'mvt')))",
        ],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert elsewhere.stdout.strip() == name


# -- MVT --------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection_id", sorted(BOUNDARIES))
@pytest.mark.parametrize("zoom", [6, 9, 12])
async def test_mvt_holds_the_features_meeting_the_tile_with_their_db_values(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, collection_id: str, zoom: int
) -> None:
    collection = get_collection(collection_id)
    assert collection is not None
    tile = tile_at(TRAFFORD_POINT, zoom)
    body = await tiles.render_tile(aconn, address(collection_id, tile))
    layers = decode(body)
    assert list(layers) == [collection_id]
    layer = layers[collection_id]
    assert layer["extent"] == tiles.MVT_EXTENT

    box = shapely.box(*WEB_MERCATOR.bounds(tile))
    shapes = source_shapes(collection_id)
    meeting = {fid(code) for code, shape in shapes.items() if shape.intersects(box)}
    inside = {fid(code) for code, shape in shapes.items() if box.contains(shape.point_on_surface())}
    ids = [feature["id"] for feature in layer["features"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    assert inside and inside <= set(ids) <= meeting
    assert fid(TRAFFORD_LSOA if collection_id.startswith("lsoa") else "E08000009") in ids

    expected = db_rows(conn, collection, zoom)
    names = tiles.tile_properties(collection, tiles.WEB_MERCATOR, zoom)
    for feature in layer["features"]:
        # ST_AsMVT leaves NULL attributes out.
        assert set(feature["properties"]) <= set(names)
        assert {n: feature["properties"].get(n) for n in names} == expected[feature["id"]]
        for x, y in coordinates(feature["geometry"]):
            assert -tiles.MVT_BUFFER <= x <= tiles.MVT_EXTENT + tiles.MVT_BUFFER
            assert -tiles.MVT_BUFFER <= y <= tiles.MVT_EXTENT + tiles.MVT_BUFFER


async def test_low_zooms_carry_the_low_zoom_properties(aconn: psycopg.AsyncConnection) -> None:
    collection = get_collection("lsoa-iod2025")
    assert collection is not None and collection.low_zoom_tile_properties
    for zoom, names in (
        (tiles.WEB_MERCATOR.low_zoom_max, collection.low_zoom_tile_properties),
        (tiles.WEB_MERCATOR.low_zoom_max + 1, collection.tile_properties),
    ):
        body = await tiles.render_tile(
            aconn, address("lsoa-iod2025", tile_at(TRAFFORD_POINT, zoom))
        )
        features = decode(body)["lsoa-iod2025"]["features"]
        assert features
        assert set().union(*(f["properties"] for f in features)) == set(names)


async def test_large_tiles_render_without_jit_or_parallel_workers_and_the_same_bytes(
    aconn: psycopg.AsyncConnection,
) -> None:
    large = address("lsoa-iod2025", tile_at(TRAFFORD_POINT, tiles.LARGE_TILE_MAX_ZOOM))
    small = address("lsoa-iod2025", tile_at(TRAFFORD_POINT, tiles.LARGE_TILE_MAX_ZOOM + 1))
    assert tiles.tile_plan_settings(small) is None
    settings = tiles.tile_plan_settings(large)
    assert settings is not None
    # British National Grid zooms count from about Web Mercator zoom 7.
    bng = tiles.BRITISH_NATIONAL_GRID
    for zoom, is_large in ((tiles.LARGE_TILE_MAX_ZOOM - bng.zoom_offset, True), (4, False)):
        bng_tile = bng.tms.tile(*TRAFFORD_POINT, zoom)
        bng_address = tiles.tile_address(
            "lsoa-iod2025", bng.id, str(zoom), str(bng_tile.y), str(bng_tile.x)
        )
        assert (tiles.tile_plan_settings(bng_address) is not None) is is_large

    async with aconn.transaction():
        await aconn.execute(settings)
        cur = await aconn.execute(
            "SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')"
        )
        assert await cur.fetchone() == ("off", "0")
    before = await (await aconn.execute("SHOW jit")).fetchone()
    body = await tiles.render_tile(aconn, large)
    # The settings end with the tile's transaction; the bytes are the plain statement's.
    assert await (await aconn.execute("SHOW jit")).fetchone() == before
    assert aconn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    cur = await aconn.execute(tiles.tile_query(large), tiles.tile_parameters(large), binary=True)
    row = await cur.fetchone()
    assert decode(body)["lsoa-iod2025"]["features"]
    assert row is not None and bytes(row[0]) == body


async def test_an_empty_tile_is_an_empty_mvt(aconn: psycopg.AsyncConnection) -> None:
    atlantic = tile_at((-30.0, 45.0), 8)
    assert await tiles.render_tile(aconn, address("lsoa-iod2025", atlantic)) == b""


async def test_each_edition_tiles_its_own_geography(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection
) -> None:
    tile = tile_at(TRAFFORD_POINT, 11)
    for collection_id in ("lsoa-iod2025", "lsoa-iod2019"):
        collection = get_collection(collection_id)
        assert collection is not None
        layer = decode(await tiles.render_tile(aconn, address(collection_id, tile)))[collection_id]
        codes = {f["properties"]["code"] for f in layer["features"]}
        rows = conn.execute(
            "SELECT code FROM lsoa_deprivation WHERE edition_code = %s AND code = ANY(%s)",
            (collection.where["edition_code"], list(codes)),
        ).fetchall()
        assert len(rows) == len(codes)


# -- GeoJSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("zoom", [6, 10, 13])
async def test_geojson_tile_has_the_mvt_features_clipped_to_the_tile(
    aconn: psycopg.AsyncConnection, zoom: int
) -> None:
    tile = tile_at(TRAFFORD_POINT, zoom)
    mvt = decode(await tiles.render_tile(aconn, address("lsoa-iod2025", tile)))["lsoa-iod2025"]
    body = await tiles.render_tile(aconn, address("lsoa-iod2025", tile, "geojson"))
    collection = json.loads(body)
    assert collection["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in collection["features"]}
    assert set(by_id) == {f["id"] for f in mvt["features"]}
    lsoas = get_collection("lsoa-iod2025")
    assert lsoas is not None
    names = tiles.tile_properties(lsoas, tiles.WEB_MERCATOR, zoom)
    for feature in mvt["features"]:
        # GeoJSON gives NULLs as null; MVT leaves them out.
        expected = {name: feature["properties"].get(name) for name in names}
        assert by_id[feature["id"]]["properties"] == expected

    west, south, east, north = WEB_MERCATOR.bounds(tile)
    tolerance = 1e-6  # the 6 decimals of the output
    for feature in collection["features"]:
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        for lon, lat in coordinates(feature["geometry"]):
            assert west - tolerance <= lon <= east + tolerance
            assert south - tolerance <= lat <= north + tolerance


async def test_geojson_clipping_keeps_the_part_of_the_lsoa_in_the_tile(
    aconn: psycopg.AsyncConnection,
) -> None:
    tile = tile_at(TRAFFORD_POINT, 14)
    body = await tiles.render_tile(aconn, address("lsoa-iod2025", tile, "geojson"))
    served = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in json.loads(body)["features"]}
    box = shapely.box(*WEB_MERCATOR.bounds(tile))
    source = source_shapes("lsoa-iod2025")[TRAFFORD_LSOA].intersection(box)
    clipped = served[fid(TRAFFORD_LSOA)]
    # Same area within 1% (the serving geometry went through 3857 and 6-decimal rounding).
    assert clipped.area == pytest.approx(source.area, rel=0.01)
    assert clipped.symmetric_difference(source).area < 0.01 * source.area


# -- metadata ---------------------------------------------------------------------------------


def test_tilejson_describes_every_tile_field_with_its_type() -> None:
    collection = get_collection("lsoa-iod2025")
    assert collection is not None
    document = tiles.tilejson(collection, tiles.WEB_MERCATOR, "http://h", [-3.0, 53.0, -2.0, 54.0])
    (layer,) = document["vector_layers"]
    assert layer["id"] == collection.id
    names = {*collection.tile_properties, *collection.low_zoom_tile_properties}
    assert set(layer["fields"]) == names
    for name in names:
        prop = collection.property(name)
        assert prop is not None
        assert layer["fields"][name] == ("String" if prop.type == "string" else "Number")
    assert document["tiles"] == [
        f"http://h/collections/{collection.id}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    ]


def test_tileset_limits_cover_the_bounds_at_every_zoom() -> None:
    collection = get_collection("lad-iod2025")
    assert collection is not None
    bounds = [-3.1, 53.3, -2.1, 53.6]
    document = tiles.tileset(collection, tiles.WEB_MERCATOR, "http://h", bounds)
    limits = document["tileMatrixSetLimits"]
    assert [int(limit["tileMatrix"]) for limit in limits] == list(
        range(collection.minzoom, collection.maxzoom + 1)
    )
    for limit in limits:
        covering = list(WEB_MERCATOR.tiles(*bounds, [int(limit["tileMatrix"])]))
        assert limit["minTileRow"] == min(t.y for t in covering)
        assert limit["maxTileRow"] == max(t.y for t in covering)
        assert limit["minTileCol"] == min(t.x for t in covering)
        assert limit["maxTileCol"] == max(t.x for t in covering)


async def test_data_version_is_read_from_the_database(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection
) -> None:
    (expected,) = conn.execute("SELECT version FROM data_version").fetchone() or (None,)
    assert await tiles.read_data_version(aconn) == expected
