"""Static tile archives: a collection's vector tiles, as the service serves them, in PMTiles.

An official's map of England is the same for everyone until the data change, so its tiles can
be written once per data version and put on object storage behind a CDN. The archive holds
the very bytes the tile route renders (:func:`geo.tiles.render_tile`, Web Mercator, one MVT
layer named after the collection), gzip-compressed as the route sends them to a client that
accepts gzip; empty tiles are left out (a PMTiles reader answers "no tile", which a map draws
as empty). The archive's metadata is the collection's TileJSON (name, description,
attribution, bounds, zooms, vector_layers) without the live tile URL, plus the data version
it was written from. Format: PMTiles version 3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md),
written with the ``pmtiles`` package.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import morecantile
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from psycopg import AsyncConnection

from geo import features
from geo.collections import Collection
from geo.errors import DataUnavailable, InvalidInput
from geo.tiles import (
    WEB_MERCATOR,
    Bounds,
    find_collection,
    read_data_version,
    render_tile,
    tile_address,
    tilejson,
)

# As the service's gzip (app/caching.py): level 6, no timestamp, so equal tiles are equal bytes.
GZIP_LEVEL = 6
# A national archive past zoom 12 is mostly tiles a CDN could as well ask the service for.
DEFAULT_MAX_ZOOM = 12


@dataclass(frozen=True)
class ArchiveSummary:
    """What an export wrote."""

    collection_id: str
    path: Path
    data_version: int
    min_zoom: int
    max_zoom: int
    tiles_written: int
    tiles_empty: int
    bytes: int
    seconds: float


def archive_zooms(collection: Collection, max_zoom: int | None) -> tuple[int, int]:
    """The zooms an archive of the collection holds: its first zoom to ``max_zoom``.

    Raises
    ------
    InvalidInput
        If ``max_zoom`` lies outside the collection's zooms.
    """
    lowest, highest = WEB_MERCATOR.zooms(collection)
    top = min(DEFAULT_MAX_ZOOM, highest) if max_zoom is None else max_zoom
    if not lowest <= top <= highest:
        raise InvalidInput(
            f"{collection.id} has tiles at zooms {lowest} to {highest}; --max-zoom {top} is not"
            " one of them",
            parameter="max_zoom",
        )
    return lowest, top


def archive_tiles(bounds: Bounds, min_zoom: int, max_zoom: int) -> Iterator[morecantile.Tile]:
    """Every Web Mercator tile over ``bounds`` (lon/lat) at the zooms, in PMTiles id order."""
    tms = WEB_MERCATOR.tms
    found = [
        tile
        for zoom in range(min_zoom, max_zoom + 1)
        for tile in tms.tiles(bounds[0], bounds[1], bounds[2], bounds[3], [zoom])
    ]
    # Written in tile id order, the archive is "clustered": readers fetch runs in one request.
    return iter(sorted(found, key=lambda t: zxy_to_tileid(t.z, t.x, t.y)))


def archive_metadata(
    collection: Collection, bounds: Bounds, min_zoom: int, max_zoom: int, data_version: int
) -> dict[str, Any]:
    """The archive's metadata: the collection's TileJSON for these zooms, without tile URLs."""
    document = tilejson(collection, WEB_MERCATOR, "", bounds)
    document.pop("tiles")
    document["minzoom"], document["maxzoom"] = min_zoom, max_zoom
    document["center"] = [*document["center"][:2], min_zoom]
    for layer in document["vector_layers"]:
        layer["minzoom"], layer["maxzoom"] = min_zoom, max_zoom
    document["type"] = "overlay"
    document["format"] = "pbf"
    document["platoons:data_version"] = data_version
    return document


def _e7(degrees: float) -> int:
    """Degrees as the PMTiles header's integers (1e-7 degrees)."""
    return round(degrees * 10_000_000)


async def export_tiles(
    conn: AsyncConnection,
    collection_id: str,
    out: Path,
    max_zoom: int | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> ArchiveSummary:
    """Write a collection's vector tiles into a PMTiles archive at ``out`` (replaced whole).

    ``conn`` must be in autocommit mode: the tiles are read in one REPEATABLE READ, read-only
    transaction, so the archive is one snapshot of one data version however long it takes.
    ``on_tile(done, total)`` reports progress. The file appears only when complete (written
    beside it, then renamed).

    Raises
    ------
    CollectionNotFound
        For an unknown collection.
    InvalidInput
        For a ``max_zoom`` outside the collection's zooms.
    DataUnavailable
        If the collection has no features (nothing to draw).
    """
    collection = find_collection(collection_id)
    min_zoom, top_zoom = archive_zooms(collection, max_zoom)
    started = time.monotonic()
    partial = out.with_name(f".{out.name}.partial")
    try:
        async with conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            data_version = await read_data_version(conn)
            bounds = await features.extent(conn, collection)
            if bounds is None:
                raise DataUnavailable(f"{collection.id} has no features yet; nothing to export")
            tiles = list(archive_tiles(bounds, min_zoom, top_zoom))
            written = empty = 0
            with partial.open("wb") as file:
                writer = Writer(file)
                for done, tile in enumerate(tiles, start=1):
                    address = tile_address(
                        collection.id, WEB_MERCATOR.id, str(tile.z), str(tile.y), str(tile.x)
                    )
                    body = await render_tile(conn, address)
                    if body:
                        compressed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
                        writer.write_tile(zxy_to_tileid(tile.z, tile.x, tile.y), compressed)
                        written += 1
                    else:
                        empty += 1
                    if on_tile is not None:
                        on_tile(done, len(tiles))
                if not written:
                    raise DataUnavailable(f"every {collection.id} tile is empty; nothing to export")
                writer.finalize(
                    {
                        "tile_type": TileType.MVT,
                        "tile_compression": Compression.GZIP,
                        "min_lon_e7": _e7(bounds[0]),
                        "min_lat_e7": _e7(bounds[1]),
                        "max_lon_e7": _e7(bounds[2]),
                        "max_lat_e7": _e7(bounds[3]),
                        "center_zoom": min_zoom,
                        "center_lon_e7": _e7((bounds[0] + bounds[2]) / 2),
                        "center_lat_e7": _e7((bounds[1] + bounds[3]) / 2),
                    },
                    archive_metadata(collection, bounds, min_zoom, top_zoom, data_version),
                )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    return ArchiveSummary(
        collection_id=collection.id,
        path=out,
        data_version=data_version,
        min_zoom=min_zoom,
        max_zoom=top_zoom,
        tiles_written=written,
        tiles_empty=empty,
        bytes=out.stat().st_size,
        seconds=time.monotonic() - started,
    )
