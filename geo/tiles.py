"""Vector tiles of every registered collection (OGC API - Tiles, MVT 2.1 and GeoJSON).

Web-free: this module turns a tile request into a validated :class:`TileAddress`, renders the
tile in PostGIS (``ST_AsMVTGeom``/``ST_AsMVT``, SQL in ``geo/sql/tiles/*.sql``), and describes
tilesets as plain data (OGC tileset metadata, tile matrix sets, TileJSON 3.0.0). Tile bounds
come from ``morecantile``. Table and column names come only from the collection registry and
reach SQL through ``psycopg.sql.Identifier``; every value is a bound parameter.

Byte budget: an all-England LSOA tile at zooms 5 to 8 must stay within
:data:`TILE_BYTE_BUDGET` uncompressed (tested over every such tile). Every LSOA is kept at
every zoom: dropping the polygons that are sub-pixel at low zooms would punch holes in the
dense city centres, which is where deprivation concentrates.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal, get_args
from urllib.parse import quote

import morecantile
from morecantile import Tile, TileMatrixSet
from psycopg import AsyncConnection, sql

from geo.collections import Collection, PropertyType, get_collection, shown_value
from geo.errors import CollectionNotFound, InvalidInput, TileMatrixSetNotFound, TileOutOfRange
from geo.features import parse_equality
from geo.sqlfiles import read_sql

TileFormat = Literal["mvt", "geojson"]
TILE_FORMATS: tuple[TileFormat, ...] = get_args(TileFormat)
MEDIA_TYPES: dict[TileFormat, str] = {
    "mvt": "application/vnd.mapbox-vector-tile",
    "geojson": "application/geo+json",
}

# MVT grid: 4096 units a tile side (the MVT 2.1 default, 1/16 pixel of a 256 px tile) and a
# 64-unit buffer so that polygon outlines join up across tile edges.
MVT_EXTENT = 4096
MVT_BUFFER = 64

# Largest uncompressed MVT allowed for the all-England LSOA layers at zooms 5-8. Zoom 5 is the
# binding case: one tile holds about 30,000 LSOAs; with only the decile as attribute (the
# feature id carries the code) the largest measured 1,045 KiB at z5, 543 at z6, 469 at z7 and
# 680 at z8 (all attributes from z8). gzip halves it.
TILE_BYTE_BUDGET = 1280 * 1024
BUDGET_ZOOMS = range(5, 9)

# Tiles at this Web Mercator zoom or lower (a scheme's zoom plus its ``zoom_offset``) hold
# thousands of features; they render in a transaction with JIT and parallel workers off
# (tiles/large_tile_plan.sql). Smaller tiles skip its three extra round trips (BEGIN, the
# settings, COMMIT): their plans cost too little for JIT or parallel workers anyway.
LARGE_TILE_MAX_ZOOM = 10

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILEJSON_MEDIA_TYPE = "application/vnd.mapbox.tile+json"

# OGC API - Tiles - Part 1: Core (OGC 20-057) conformance classes this module implements.
TILES_CONFORMANCE: tuple[str, ...] = tuple(
    f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "geojson")
)

# The loader NOTIFYs this channel with the new version at commit (tiles/bump_data_version.sql).
DATA_VERSION_CHANNEL = "platoons_data_version"

# A collection's extent: longitude and latitude, min then max (geo.features.extent).
Bounds = Sequence[float]
# Column aliases the tile SQL uses; no tile property may take one of these names.
_RESERVED = frozenset({"tile_fid", "tile_geom", "source_geom", "tile_box"})
_TILE_INDEX = re.compile(r"^[0-9]{1,9}$")
_TILEJSON_TYPES: dict[PropertyType, str] = {
    "string": "String",
    "integer": "Number",
    "number": "Number",
    "boolean": "Boolean",
}


@dataclass(frozen=True)
class TilingScheme:
    """A tile matrix set served, with the serving-table geometry that feeds each zoom.

    ``geometry_bands`` lists (highest zoom, column) in ascending order; a zoom uses the
    first band that reaches it. Zooms up to ``low_zoom_max`` carry a collection's
    ``low_zoom_tile_properties``.
    """

    tms: TileMatrixSet
    srid: int
    geometry_bands: tuple[tuple[int, str], ...]
    low_zoom_max: int
    # Collections declare their zooms in Web Mercator terms; this scheme's zoom z shows about
    # the ground resolution of Web Mercator zoom z + zoom_offset over England.
    zoom_offset: int = 0

    @property
    def id(self) -> str:
        """Return the tile matrix set's identifier (``WebMercatorQuad``)."""
        return str(self.tms.id)

    @property
    def crs_uri(self) -> str:
        """Return the URI of the tile matrix set's CRS."""
        return str(self.tms.model_dump(mode="json")["crs"])

    def geometry_column(self, zoom: int) -> str:
        """Return the geometry column tiles of this zoom are made from."""
        return next(column for top, column in self.geometry_bands if zoom <= top)

    def zooms(self, collection: Collection) -> tuple[int, int]:
        """Return the collection's lowest and highest zoom (tile matrix index) here."""
        top = len(self.tms.tileMatrices) - 1
        return (
            min(top, max(0, collection.minzoom - self.zoom_offset)),
            min(top, max(0, collection.maxzoom - self.zoom_offset)),
        )


# Web Mercator tiles read the 3857 columns simplified for their zoom
# (data/sql/foundation/refresh_serving.sql: ``geom_3857_low`` for z<=7, ``geom_3857_mid`` for
# z8-10, exact above).
WEB_MERCATOR = TilingScheme(
    tms=morecantile.tms.get("WebMercatorQuad"),
    srid=3857,
    geometry_bands=((7, "geom_3857_low"), (10, "geom_3857_mid"), (99, "geom_3857")),
    low_zoom_max=7,
)


def _os_british_national_grid() -> TileMatrixSet:
    """The Ordnance Survey's tiling of the British National Grid (EPSG:27700).

    As the OS Maps API's EPSG:27700 ZXY tiles use it: 256-pixel tiles from the top-left origin
    (-238375, 1376256), 896 m a pixel at zoom 0, halved at each of zooms 1-13. The matrices
    cover eastings -238,375 to 900,000 and northings 0 to 1,376,256 (all of Great Britain).
    There is no OGC-registered British National Grid tile matrix set to reuse.
    """
    origin_east, origin_north, east_max = -238_375.0, 1_376_256.0, 900_000.0
    matrices = []
    for zoom in range(14):
        cell = 896.0 / 2**zoom
        span = 256 * cell
        matrices.append(
            {
                "id": str(zoom),
                "scaleDenominator": cell / 0.00028,  # the OGC standard pixel of 0.28 mm
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [origin_east, origin_north],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": math.ceil((east_max - origin_east) / span),
                "matrixHeight": math.ceil(origin_north / span),
            }
        )
    return TileMatrixSet.model_validate(
        {
            "id": "OSBritishNationalGrid",
            "title": "British National Grid (EPSG:27700), the Ordnance Survey's tiling",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/27700",
            "orderedAxes": ["E", "N"],
            "tileMatrices": matrices,
        }
    )


# British National Grid tiles read the exact EPSG:27700 geometry at every zoom (the simplified
# columns are in EPSG:3857; MVT encoding snaps to the tile's grid anyway). Zoom 0 (896 m a
# pixel) is about Web Mercator zoom 7 over England (1,223 m a pixel at the equator, ~740 m at
# 53 degrees north), so collections' zooms shift by 7.
BRITISH_NATIONAL_GRID = TilingScheme(
    tms=_os_british_national_grid(),
    srid=27700,
    geometry_bands=((99, "geom"),),
    low_zoom_max=0,
    zoom_offset=7,
)
TILING_SCHEMES: dict[str, TilingScheme] = {
    scheme.id: scheme for scheme in (WEB_MERCATOR, BRITISH_NATIONAL_GRID)
}


@dataclass(frozen=True)
class TileAddress:
    """One tile of one collection: tiling scheme, zoom (tile matrix), row, column and format."""

    collection: Collection
    scheme: TilingScheme
    zoom: int
    row: int
    col: int
    format: TileFormat
    # Property equality filters (name, value), e.g. (("programme_id", "example-..."),).
    filters: tuple[tuple[str, Any], ...] = ()

    @property
    def media_type(self) -> str:
        """Return the tile's content type."""
        return MEDIA_TYPES[self.format]

    @property
    def tile(self) -> Tile:
        """Return the morecantile tile (x = column, y = row, z = zoom)."""
        return Tile(x=self.col, y=self.row, z=self.zoom)


def find_collection(collection_id: str) -> Collection:
    """Return the registered collection with this id.

    Raises
    ------
    CollectionNotFound
        If no collection has that id.
    """
    collection = get_collection(collection_id)
    if collection is None:
        raise CollectionNotFound(f"there is no collection {collection_id!r}")
    return collection


def find_tiling_scheme(tile_matrix_set_id: str) -> TilingScheme:
    """Return the tiling scheme of a served tile matrix set.

    Raises
    ------
    TileMatrixSetNotFound
        If the tile matrix set is not served.
    """
    scheme = TILING_SCHEMES.get(tile_matrix_set_id)
    if scheme is None:
        served = ", ".join(TILING_SCHEMES)
        raise TileMatrixSetNotFound(
            f"tile matrix set {tile_matrix_set_id!r} is not served; served: {served}"
        )
    return scheme


def tile_format(f: str | None) -> TileFormat:
    """Return the tile format a ``f`` query parameter names (MVT when absent).

    Raises
    ------
    InvalidInput
        If ``f`` names no tile format.
    """
    if f is None:
        return "mvt"
    for name in TILE_FORMATS:
        if f == name:
            return name
    raise InvalidInput(f"f must be one of {', '.join(TILE_FORMATS)}", parameter="f")


def tile_address(
    collection_id: str,
    tile_matrix_set_id: str,
    tile_matrix: str,
    tile_row: str,
    tile_col: str,
    f: str | None = None,
    filters: Mapping[str, str] | None = None,
) -> TileAddress:
    """Validate a tile request (OGC order: tileMatrix = zoom, tileRow = y, tileCol = x).

    Parameters
    ----------
    collection_id, tile_matrix_set_id
        The registered collection and the served tile matrix set.
    tile_matrix, tile_row, tile_col
        The path segments as given; they must name a tile matrix of the set and a row and
        column inside it.
    f
        ``mvt`` (default) or ``geojson``.
    filters
        Property equality filters, e.g. ``{"programme_id": "example-most-deprived-10pct"}``;
        names must be the collection's properties.

    Raises
    ------
    CollectionNotFound, TileMatrixSetNotFound
        For an unknown collection or tile matrix set.
    InvalidInput
        For an unknown format.
    TileOutOfRange
        For a tile matrix outside the set or the collection's zooms, or a row or column
        outside the matrix.
    """
    collection = find_collection(collection_id)
    scheme = find_tiling_scheme(tile_matrix_set_id)
    fmt = tile_format(f)
    zoom = _matrix_zoom(scheme.id).get(tile_matrix)
    if zoom is None:
        raise TileOutOfRange(
            f"tile matrix {tile_matrix!r} is not in {scheme.id}", parameter="tileMatrix"
        )
    lowest, highest = scheme.zooms(collection)
    if not lowest <= zoom <= highest:
        raise TileOutOfRange(
            f"{collection.id} has {scheme.id} tiles at tile matrices {lowest} to {highest} only",
            parameter="tileMatrix",
        )
    matrix = scheme.tms.tileMatrices[zoom]
    row = _tile_index(tile_row, matrix.matrixHeight, "tileRow")
    col = _tile_index(tile_col, matrix.matrixWidth, "tileCol")
    parsed = []
    for name, value in sorted((filters or {}).items()):
        prop = collection.property(name)
        if prop is None:
            raise InvalidInput(f"{collection.id} has no property {name!r}", parameter=name)
        parsed.append((name, parse_equality(prop, value)))
    return TileAddress(collection, scheme, zoom, row, col, fmt, tuple(parsed))


@cache
def _matrix_zoom(tile_matrix_set_id: str) -> dict[str, int]:
    """Map each tile matrix id of a served set to its index (the zoom level)."""
    matrices = TILING_SCHEMES[tile_matrix_set_id].tms.tileMatrices
    return {matrix.id: zoom for zoom, matrix in enumerate(matrices)}


def _tile_index(value: str, size: int, parameter: str) -> int:
    """Parse a tile row or column; it must lie in ``0..size-1``."""
    if not _TILE_INDEX.match(value) or int(value) >= size:
        raise TileOutOfRange(
            f"{parameter} must be an integer from 0 to {size - 1} at this tile matrix",
            parameter=parameter,
        )
    return int(value)


def tile_properties(collection: Collection, scheme: TilingScheme, zoom: int) -> tuple[str, ...]:
    """Return the properties a tile of this zoom carries (fewer at low zooms)."""
    if zoom <= scheme.low_zoom_max and collection.low_zoom_tile_properties:
        return collection.low_zoom_tile_properties
    return collection.tile_properties


def tile_query(address: TileAddress) -> sql.SQL:
    """Return the SQL that renders the tile (its values are in :func:`tile_parameters`)."""
    collection = address.collection
    return _tile_query(
        collection.id,
        address.scheme.geometry_column(address.zoom),
        tile_properties(collection, address.scheme, address.zoom),
        address.format,
        tuple(name for name, _ in address.filters),
    )


@cache
def _tile_query(
    collection_id: str,
    geometry: str,
    properties: tuple[str, ...],
    fmt: TileFormat,
    filter_columns: tuple[str, ...] = (),
) -> sql.SQL:
    """Compose the tile SQL of one collection, geometry column, property list and format.

    Rendered to text once: psycopg would otherwise walk and escape the composed statement
    (some 30 parts) on every tile (5% of a tile miss's CPU by py-spy, issue 20).
    """
    collection = find_collection(collection_id)
    for name in properties:
        if name in _RESERVED or collection.property(name) is None:
            raise ValueError(f"{collection.id}: {name!r} cannot be a tile property")
    features = sql.SQL(read_sql("geo", "tiles/features.sql")).format(
        id_column=sql.Identifier(collection.tile_id_column),
        geometry=sql.Identifier(geometry),
        properties=sql.SQL("").join(
            sql.SQL(", {} AS {}").format(
                shown_value(collection, name, sql.Identifier("t", name)), sql.Identifier(name)
            )
            for name in properties
        ),
        table=sql.Identifier(collection.table),
        filter=_row_filter(collection, "t", filter_columns),
        source=sql.SQL("")
        if fmt == "mvt"
        else sql.SQL(", t.{} AS source_geom, bounds.box AS tile_box").format(
            sql.Identifier(geometry)
        ),
    )
    if fmt == "mvt":
        statement = sql.SQL(read_sql("geo", "tiles/mvt.sql")).format(
            features=features,
            property_names=sql.SQL("").join(
                sql.SQL(", {}").format(sql.Identifier(name)) for name in properties
            ),
        )
    else:
        statement = sql.SQL(read_sql("geo", "tiles/geojson.sql")).format(
            features=features,
            property_pairs=sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(name), sql.Identifier(name))
                for name in properties
            ),
        )
    return sql.SQL(statement.as_string())


def _row_filter(
    collection: Collection, alias: str, filter_columns: tuple[str, ...] = ()
) -> sql.Composable:
    """Return the SQL condition selecting the collection's rows (values as parameters)."""
    conditions = [
        sql.SQL("{}.{} = {}").format(
            sql.Identifier(alias), sql.Identifier(column), sql.Placeholder(f"where_{i}")
        )
        for i, column in enumerate(collection.where)
    ] + [
        sql.SQL("{}.{} = {}").format(
            sql.Identifier(alias), sql.Identifier(column), sql.Placeholder(f"filter_{i}")
        )
        for i, column in enumerate(filter_columns)
    ]
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")


def _row_filter_parameters(address: TileAddress) -> dict[str, Any]:
    """Return the bound values of :func:`_row_filter`."""
    where = {f"where_{i}": v for i, v in enumerate(address.collection.where.values())}
    return where | {f"filter_{i}": value for i, (_, value) in enumerate(address.filters)}


def tile_parameters(address: TileAddress) -> dict[str, Any]:
    """Return the bound parameters of :func:`tile_query`: bounds, grid and row filter."""
    bounds = address.scheme.tms.xy_bounds(address.tile)
    return {
        "xmin": bounds.left,
        "ymin": bounds.bottom,
        "xmax": bounds.right,
        "ymax": bounds.top,
        "srid": address.scheme.srid,
        "extent": MVT_EXTENT,
        "buffer": MVT_BUFFER,
        "layer": address.collection.id,
        **_row_filter_parameters(address),
    }


# How the tile statement runs. Binary results: the MVT's bytea arrives as its bytes, not as hex
# text twice its size that PostgreSQL encodes and psycopg decodes (a GeoJSON tile's text is the
# same). Prepared on a connection's first tile rather than its sixth (psycopg's default): a
# pooled connection then skips parsing the statement (and, once PostgreSQL settles on a
# generic plan, planning it) from its second tile on (about 0.5 of 1.0 ms of a z11-z14 tile's
# SQL, all England).
TILE_EXECUTE: dict[str, bool] = {"binary": True, "prepare": True}


def tile_plan_settings(address: TileAddress) -> str | None:
    """Return the SQL to run first in the tile's transaction, or None to run it on its own.

    Large tiles (:data:`LARGE_TILE_MAX_ZOOM`) render with JIT and parallel workers off.
    """
    if address.zoom + address.scheme.zoom_offset > LARGE_TILE_MAX_ZOOM:
        return None
    return read_sql("geo", "tiles/large_tile_plan.sql")


async def render_tile(conn: AsyncConnection, address: TileAddress) -> bytes:
    """Render one tile in PostGIS: MVT bytes, or a GeoJSON FeatureCollection as UTF-8.

    The MVT has one layer named after the collection; feature ids are the collection's
    ``tile_id_column`` and attributes its tile properties for the zoom. The GeoJSON tile
    holds the same features, clipped exactly to the tile, in EPSG:4326.
    """
    settings = tile_plan_settings(address)
    async with conn.cursor() as cur:
        # A large tile's settings last as long as the transaction it renders in.
        async with conn.transaction() if settings else nullcontext():
            if settings:
                await cur.execute(settings)
            await cur.execute(tile_query(address), tile_parameters(address), **TILE_EXECUTE)
            row = await cur.fetchone()
    assert row is not None  # an aggregate always returns a row
    value = row[0]
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def tile_identity(address: TileAddress) -> str:
    """Name the tile's bytes for any one data version (for ETags and cache keys).

    Beside the address and format it fingerprints how the tile is made (the SQL, MVT grid,
    geometry column, properties and row filter), so a deployment that changes tiles without
    a data reload does not reuse old names.
    """
    collection = address.collection
    fingerprint = _recipe_fingerprint(
        collection.id,
        address.scheme.id,
        address.zoom,
        address.format,
        address.filters,
        # In the key beside the filters: 1, 1.0 and True are equal keys but not equal recipes.
        repr(address.filters),
    )
    return (
        f"{collection.id}/{address.scheme.id}/{address.zoom}/{address.row}/{address.col}"
        f".{address.format}#{fingerprint}"
    )


@lru_cache(maxsize=4096)
def _recipe_fingerprint(
    collection_id: str,
    tile_matrix_set_id: str,
    zoom: int,
    fmt: TileFormat,
    filters: tuple[tuple[str, Any], ...],
    filters_repr: str,
) -> str:
    """Fingerprint how a tile is made (see :func:`tile_identity`), once per recipe.

    Cached: it reads and hashes the SQL and the property rules, the same for every tile of
    a zoom, and ran on every request, 304s and cache hits included (issue 20).
    """
    collection = find_collection(collection_id)
    scheme = find_tiling_scheme(tile_matrix_set_id)
    properties = tile_properties(collection, scheme, zoom)
    recipe = repr(
        (
            read_sql("geo", "tiles/features.sql"),
            read_sql("geo", "tiles/mvt.sql" if fmt == "mvt" else "tiles/geojson.sql"),
            MVT_EXTENT,
            MVT_BUFFER,
            collection.table,
            sorted(collection.where.items()),
            collection.tile_id_column,
            scheme.geometry_column(zoom),
            properties,
            filters,
            # How each property is rounded (geo.figures): a new rule makes new bytes.
            [getattr(collection.property(name), "figure", None) for name in properties],
        )
    )
    return hashlib.blake2b(recipe.encode("utf-8"), digest_size=8).hexdigest()


async def read_data_version(conn: AsyncConnection) -> int:
    """Return the database's data version (0 before the first load)."""
    async with conn.cursor() as cur:
        await cur.execute(read_sql("geo", "tiles/data_version.sql"))
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def listen_for_data_version(conn: AsyncConnection) -> None:
    """Subscribe an autocommit connection to the loader's data-version notifications."""
    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(DATA_VERSION_CHANNEL)))


# --- Metadata documents (plain data; URLs built on the caller's base URL) --------------------


def _link(href: str, rel: str, media_type: str, title: str, **extra: Any) -> dict[str, Any]:
    """Return an OGC API link object."""
    return {"href": href, "rel": rel, "type": media_type, "title": title, **extra}


def _tilesets_url(base_url: str, collection: Collection) -> str:
    """Return the URL of a collection's tilesets list."""
    return f"{base_url.rstrip('/')}/collections/{quote(collection.id, safe='')}/tiles"


def _tileset_url(base_url: str, collection: Collection, scheme: TilingScheme) -> str:
    """Return the URL of a collection's tileset in one tiling scheme."""
    return f"{_tilesets_url(base_url, collection)}/{scheme.id}"


def _tile_matrix_set_url(base_url: str, scheme: TilingScheme) -> str:
    """Return the URL of a tile matrix set's definition."""
    return f"{base_url.rstrip('/')}/tileMatrixSets/{scheme.id}"


def tile_url_template(
    base_url: str, collection: Collection, scheme: TilingScheme, *, xyz: bool = False
) -> str:
    """Return the tile URL template: OGC variables, or TileJSON's ``{z}/{y}/{x}``."""
    variables = "{z}/{y}/{x}" if xyz else "{tileMatrix}/{tileRow}/{tileCol}"
    return f"{_tileset_url(base_url, collection, scheme)}/{variables}"


def _uri(key: str, scheme: TilingScheme) -> dict[str, str]:
    """``{key: URI}`` of a registered tile matrix set; nothing for ours (it has no URI)."""
    return {key: scheme.tms.uri} if scheme.tms.uri else {}


def tile_matrix_sets(base_url: str) -> dict[str, Any]:
    """Return the list of served tile matrix sets (``/tileMatrixSets``)."""
    return {
        "tileMatrixSets": [
            {
                "id": scheme.id,
                "title": scheme.tms.title,
                **_uri("uri", scheme),
                "crs": scheme.crs_uri,
                "links": [
                    _link(
                        _tile_matrix_set_url(base_url, scheme),
                        "self",
                        "application/json",
                        f"The {scheme.id} tile matrix set",
                    )
                ],
            }
            for scheme in TILING_SCHEMES.values()
        ],
        "links": [
            _link(
                f"{base_url.rstrip('/')}/tileMatrixSets",
                "self",
                "application/json",
                "Tile matrix sets",
            )
        ],
    }


def tile_matrix_set(tile_matrix_set_id: str) -> dict[str, Any]:
    """Return a served tile matrix set's definition (OGC 2D TMS 2.0 JSON).

    Raises
    ------
    TileMatrixSetNotFound
        If the tile matrix set is not served.
    """
    scheme = find_tiling_scheme(tile_matrix_set_id)
    return _tile_matrix_set_document(scheme.id)


@cache
def _tile_matrix_set_document(tile_matrix_set_id: str) -> dict[str, Any]:
    """Serialise a tile matrix set once per process."""
    document: dict[str, Any] = TILING_SCHEMES[tile_matrix_set_id].tms.model_dump(
        mode="json", exclude_none=True
    )
    return document


def collection_tile_links(collection: Collection, base_url: str) -> list[dict[str, Any]]:
    """Return the links a collection's description gives to its vector tilesets."""
    return [
        _link(
            _tilesets_url(base_url, collection),
            REL_TILESETS_VECTOR,
            "application/json",
            f"Vector tilesets of {collection.id}",
        )
    ]


def landing_tile_links(base_url: str) -> list[dict[str, Any]]:
    """Return the links a landing page gives to the tiling schemes."""
    return [
        _link(
            f"{base_url.rstrip('/')}/tileMatrixSets",
            REL_TILING_SCHEMES,
            "application/json",
            "Tile matrix sets (tiling schemes)",
        )
    ]


def _tileset_summary(
    collection: Collection, scheme: TilingScheme, base_url: str, self_title: str
) -> dict[str, Any]:
    """What a tileset says of itself both in the list and in its own document: its data type,
    CRS and tiling scheme, and links to itself (titled ``self_title``) and to that scheme."""
    return {
        "dataType": "vector",
        "crs": scheme.crs_uri,
        **_uri("tileMatrixSetURI", scheme),
        "links": [
            _link(
                _tileset_url(base_url, collection, scheme), "self", "application/json", self_title
            ),
            _link(
                _tile_matrix_set_url(base_url, scheme),
                REL_TILING_SCHEME,
                "application/json",
                f"The {scheme.id} tile matrix set",
            ),
        ],
    }


def tilesets(collection: Collection, base_url: str) -> dict[str, Any]:
    """Return a collection's list of vector tilesets, one per tiling scheme."""
    return {
        "tilesets": [
            {
                "title": f"{collection.title} ({scheme.id})",
                **_tileset_summary(
                    collection, scheme, base_url, f"{collection.id} tileset in {scheme.id}"
                ),
            }
            for scheme in TILING_SCHEMES.values()
        ],
        "links": [
            _link(
                _tilesets_url(base_url, collection),
                "self",
                "application/json",
                f"Vector tilesets of {collection.id}",
            )
        ],
    }


def tileset(
    collection: Collection, scheme: TilingScheme, base_url: str, bounds: Bounds | None
) -> dict[str, Any]:
    """Return a tileset's metadata (OGC API - Tiles tileset, 2D TMS 2.0 TileSetMetadata)."""
    template = tile_url_template(base_url, collection, scheme)
    summary = _tileset_summary(collection, scheme, base_url, "This tileset")
    summary["links"] += [
        _link(template, "item", MEDIA_TYPES["mvt"], "Mapbox vector tiles", templated=True),
        _link(
            f"{template}?f=geojson", "item", MEDIA_TYPES["geojson"], "GeoJSON tiles", templated=True
        ),
    ]
    document: dict[str, Any] = {
        "title": f"{collection.title} ({scheme.id})",
        "description": collection.description,
        "keywords": list(collection.keywords),
        "attribution": collection.attribution,
        **summary,
        "layers": [
            {
                "id": collection.id,
                "title": collection.title,
                "description": _layer_description(collection, scheme),
                "dataType": "vector",
                "geometryDimension": 2,
                "featureType": collection.id,
                "minTileMatrix": scheme.tms.tileMatrices[scheme.zooms(collection)[0]].id,
                "maxTileMatrix": scheme.tms.tileMatrices[scheme.zooms(collection)[1]].id,
                "propertiesSchema": {
                    "type": "object",
                    "properties": {
                        name: {"type": prop.type, "description": prop.described}
                        for name, prop in _tile_fields(collection)
                    },
                },
            }
        ],
    }
    if scheme is WEB_MERCATOR:  # TileJSON's tiles are Web Mercator ones
        document["links"].append(
            _link(
                f"{_tileset_url(base_url, collection, scheme)}/tilejson.json",
                "describedby",
                TILEJSON_MEDIA_TYPE,
                "TileJSON 3.0.0",
            )
        )
    if bounds is not None:
        document["boundingBox"] = {
            "lowerLeft": [bounds[0], bounds[1]],
            "upperRight": [bounds[2], bounds[3]],
            "crs": CRS84,
        }
        document["tileMatrixSetLimits"] = _tile_matrix_limits(collection, scheme, bounds)
    return document


def tilejson(
    collection: Collection, scheme: TilingScheme, base_url: str, bounds: Bounds | None
) -> dict[str, Any]:
    """Return the tileset as TileJSON 3.0.0 (absolute ``{z}/{y}/{x}`` tile URLs).

    Raises
    ------
    TileMatrixSetNotFound
        For a scheme other than WebMercatorQuad: TileJSON clients assume Web Mercator tiles.
    """
    if scheme is not WEB_MERCATOR:
        raise TileMatrixSetNotFound(
            f"TileJSON describes {WEB_MERCATOR.id} tiles only; {scheme.id} tiles are described"
            " by the tileset metadata"
        )
    lon_min, lat_min, lon_max, lat_max = bounds or (-180.0, -85.051129, 180.0, 85.051129)
    return {
        "tilejson": "3.0.0",
        "name": collection.id,
        "description": collection.title,
        "attribution": collection.attribution,
        "scheme": "xyz",
        "tiles": [tile_url_template(base_url, collection, scheme, xyz=True)],
        "minzoom": collection.minzoom,
        "maxzoom": collection.maxzoom,
        "bounds": [lon_min, lat_min, lon_max, lat_max],
        "center": [(lon_min + lon_max) / 2, (lat_min + lat_max) / 2, collection.minzoom],
        "vector_layers": [
            {
                "id": collection.id,
                "description": _layer_description(collection, scheme),
                "minzoom": collection.minzoom,
                "maxzoom": collection.maxzoom,
                "fields": {
                    name: _TILEJSON_TYPES[prop.type] for name, prop in _tile_fields(collection)
                },
            }
        ],
    }


def _tile_fields(collection: Collection) -> Iterable[tuple[str, Any]]:
    """Yield (name, Property) of every property a tile of some zoom carries, in order."""
    names = dict.fromkeys((*collection.tile_properties, *collection.low_zoom_tile_properties))
    for name in names:
        prop = collection.property(name)
        if prop is not None:
            yield name, prop


def _layer_description(collection: Collection, scheme: TilingScheme) -> str:
    """Describe the layer's feature ids and which properties low zooms carry."""
    text = f"{collection.title}. Feature ids are {collection.tile_id_column}."
    low = collection.low_zoom_tile_properties
    if low and scheme.zooms(collection)[0] <= scheme.low_zoom_max:
        text += f" Zooms up to {scheme.low_zoom_max} carry only {', '.join(low)}."
    return text


def require_within_limits(address: TileAddress, bounds: Bounds | None) -> None:
    """Raise TileOutOfRange for a tile outside the limits the tileset metadata declares.

    A layer with no features yet (no groups registered, say) declares no limits: its tiles are
    empty, not missing, so a map showing it stays quiet until it fills.
    """
    if bounds is None:
        return
    min_row, max_row, min_col, max_col = _covered_tiles(
        address.scheme.id, address.zoom, tuple(bounds)
    )
    if not (min_row <= address.row <= max_row and min_col <= address.col <= max_col):
        raise TileOutOfRange(
            f"tile {address.zoom}/{address.row}/{address.col} is outside the tileMatrixSetLimits"
            f" of {address.collection.id}; see its tileset metadata",
            parameter="tileRow",
        )


def _tile_matrix_limits(
    collection: Collection, scheme: TilingScheme, bounds: Bounds
) -> list[dict[str, Any]]:
    """Return the rows and columns the collection's extent covers at each of its zooms."""
    limits = []
    lowest, highest = scheme.zooms(collection)
    for zoom in range(lowest, highest + 1):
        min_row, max_row, min_col, max_col = _covered_tiles(scheme.id, zoom, tuple(bounds))
        limits.append(
            {
                "tileMatrix": scheme.tms.tileMatrices[zoom].id,
                "minTileRow": min_row,
                "maxTileRow": max_row,
                "minTileCol": min_col,
                "maxTileCol": max_col,
            }
        )
    return limits


@lru_cache(maxsize=4096)
def _covered_tiles(
    tile_matrix_set_id: str, zoom: int, bounds: tuple[float, ...]
) -> tuple[int, int, int, int]:
    """The (min row, max row, min column, max column) a lon/lat box covers at a zoom.

    Cached (a box is a collection's extent at one data version): morecantile's ``tile()``
    hashes its CRS, which exports it as WKT on every call, and that was about a fifth of the
    server's CPU per cached tile (py-spy, issue 20). The tileset metadata and the tile route
    use this one function, so a page never asks for a tile the route refuses.
    """
    tms = find_tiling_scheme(tile_matrix_set_id).tms
    upper_left = tms.tile(bounds[0], bounds[3], zoom)
    lower_right = tms.tile(bounds[2], bounds[1], zoom)
    return upper_left.y, lower_right.y, upper_left.x, lower_right.x
