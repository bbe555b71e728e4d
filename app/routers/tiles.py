"""OGC API - Tiles routes: tile matrix sets, each collection's tilesets, TileJSON and tiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.caching import (
    TILE_BROTLI_QUALITY,
    CacheKey,
    TileCache,
    collection_extent,
    current_data_version,
    document_etag,
    encode_async,
    etag_matches,
    negotiate_encoding,
    tile_etag,
)
from app.db import lend_connection
from app.http import base_url
from app.problems import Problems, Responses
from app.replicas import lend_read_connection
from geo import tiles
from geo.collections import Collection

router = APIRouter(tags=["tiles"])

CollectionId = Annotated[
    str, Path(description="A collection id, as listed at /collections.", max_length=64)
]
TileMatrixSetId = Annotated[
    str, Path(description="A tile matrix set id, e.g. WebMercatorQuad.", max_length=64)
]
PROBLEMS = Problems({400: "Unknown format f.", 404: "No such collection, tile matrix set or tile."})
NOT_FOUND = PROBLEMS.only(404)
DOCUMENT_RESPONSES: Responses = {
    304: {"description": "The document is unchanged (If-None-Match)."},
    **NOT_FOUND,
}
# Tileset documents change with the data (extent, limits): revalidated after a minute.
DOCUMENT_CACHE_CONTROL = "public, max-age=60"
TILE_RESPONSES: Responses = {
    200: {
        "description": "The tile.",
        "content": {media_type: {} for media_type in tiles.MEDIA_TYPES.values()},
    },
    304: {"description": "The tile is unchanged (If-None-Match)."},
    **PROBLEMS.only(400, 404),
}


async def _data_version(request: Request) -> int:
    """The data version, lending a connection only if the watcher is reconnecting."""
    return await current_data_version(request, lambda: lend_connection(request))


async def _extent(request: Request, collection: Collection, version: int) -> list[float] | None:
    """The collection's extent for this data version (a connection only on a cache miss)."""
    return await collection_extent(
        request, collection, version, lambda: lend_read_connection(request)
    )


async def _tileset_document(
    request: Request,
    collection_id: str,
    tile_matrix_set_id: str,
    build: Callable[[Collection, tiles.TilingScheme, str, list[float] | None], dict[str, Any]],
    representation: str,
) -> Response:
    """A tileset document (OGC metadata or TileJSON), with an ETag of the data version.

    Its extent and limits follow the data, so it is revalidated like the items: 304 when the
    client's ETag names the same version, request and representation.
    """
    collection = tiles.find_collection(collection_id)
    scheme = tiles.find_tiling_scheme(tile_matrix_set_id)
    version = await _data_version(request)
    # Built first (cheap: the extent is cached per data version) so a document that does not
    # exist is a 404 whatever the client's ETag.
    document = build(
        collection, scheme, base_url(request), await _extent(request, collection, version)
    )
    etag = document_etag(version, request, representation)
    headers = {"ETag": etag, "Cache-Control": DOCUMENT_CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(document, headers=headers)


@router.get("/tileMatrixSets", summary="List the tile matrix sets (tiling schemes)")
async def tile_matrix_sets(request: Request) -> dict[str, Any]:
    """Return the tile matrix sets tiles are served in."""
    return tiles.tile_matrix_sets(base_url(request))


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="Get a tile matrix set's definition",
    responses=NOT_FOUND,
)
async def tile_matrix_set(tileMatrixSetId: TileMatrixSetId) -> dict[str, Any]:
    """Return a tile matrix set (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    return tiles.tile_matrix_set(tileMatrixSetId)


@router.get(
    "/collections/{collectionId}/tiles",
    summary="List a collection's vector tilesets",
    responses=NOT_FOUND,
)
async def collection_tilesets(request: Request, collectionId: CollectionId) -> dict[str, Any]:
    """Return a collection's vector tilesets, one per tile matrix set."""
    return tiles.tilesets(tiles.find_collection(collectionId), base_url(request))


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="Get a vector tileset's metadata",
    responses=DOCUMENT_RESPONSES,
)
async def collection_tileset(
    request: Request, collectionId: CollectionId, tileMatrixSetId: TileMatrixSetId
) -> Response:
    """Return the tileset's metadata: tile URL template, layer and fields, limits, extent."""
    return await _tileset_document(request, collectionId, tileMatrixSetId, tiles.tileset, "tileset")


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
    summary="Get a vector tileset as TileJSON 3.0.0",
    responses=DOCUMENT_RESPONSES,
)
async def collection_tilejson(
    request: Request, collectionId: CollectionId, tileMatrixSetId: TileMatrixSetId
) -> Response:
    """Return the tileset as TileJSON 3.0.0, for MapLibre, Leaflet and QGIS."""
    return await _tileset_document(
        request, collectionId, tileMatrixSetId, tiles.tilejson, "tilejson"
    )


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="Get a vector tile",
    response_class=Response,
    responses=TILE_RESPONSES,
)
async def collection_tile(
    request: Request,
    collectionId: CollectionId,
    tileMatrixSetId: TileMatrixSetId,
    tileMatrix: Annotated[str, Path(description="Tile matrix id (the zoom).")],
    tileRow: Annotated[str, Path(description="Row, from the top (y).")],
    tileCol: Annotated[str, Path(description="Column, from the left (x).")],
    f: Annotated[
        str | None,
        Query(
            description="Tile format: mvt (default) or geojson.",
            max_length=16,
            json_schema_extra={"enum": list(tiles.TILE_FORMATS)},  # others: 400 naming `f`
        ),
    ] = None,
) -> Response:
    """Return one tile (MVT or GeoJSON), cached, compressed as accepted, with a strong ETag."""
    # Query parameters naming the collection's properties filter the tile by equality (e.g.
    # grant-eligibility?programme_id=...); other parameters (cache-busters) are ignored.
    collection = tiles.find_collection(collectionId)
    filters = {k: v for k, v in request.query_params.items() if collection.property(k)}
    address = tiles.tile_address(
        collectionId, tileMatrixSetId, tileMatrix, tileRow, tileCol, f, filters
    )
    encoding = negotiate_encoding(request.headers.get("accept-encoding"))
    cache: TileCache = request.app.state.tile_cache
    version = await _data_version(request)
    # OGC API - Tiles: a tile outside the tileset's declared tileMatrixSetLimits is a 404.
    tiles.require_within_limits(address, await _extent(request, collection, version))
    identity = tiles.tile_identity(address)
    etag = tile_etag(version, identity, encoding)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={request.app.state.cache_settings.tile_max_age_seconds}",
        "Vary": "Accept-Encoding",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)

    async def render() -> bytes:
        async with (
            request.app.state.tile_renders,  # at most PLATOONS_TILE_RENDERS at once
            lend_read_connection(request) as conn,  # a fit replica's, if any
        ):
            return await tiles.render_tile(conn, address)

    async def render_encoded() -> bytes:
        # Already one rendering per encoded key (get_or_make below); the plain body is cached
        # beside it for clients that take no encoding, without a second task of its own.
        plain_key: CacheKey = (version, identity, "identity")
        plain = cache.get(plain_key)
        if plain is None:
            plain = await render()
            cache.put(plain_key, plain)
        return await encode_async(plain, encoding, TILE_BROTLI_QUALITY)

    body = await cache.get_or_make(
        (version, identity, encoding), render if encoding == "identity" else render_encoded
    )
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return Response(body, media_type=address.media_type, headers=headers)
