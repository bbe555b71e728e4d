"""``platoons export-tiles``: a layer's vector tiles into a static PMTiles archive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer

from cli.console import console, fail, progress_bar
from config.settings import DatabaseSettings
from geo.errors import PlatoonsError

if TYPE_CHECKING:
    from geo.tiles_archive import ArchiveSummary


def export_tiles(
    collection: Annotated[
        str, typer.Option(help="A collection id, as listed at /collections, e.g. lsoa-iod2025.")
    ],
    out: Annotated[Path, typer.Option(help="The archive to write, e.g. lsoa-iod2025.pmtiles.")],
    max_zoom: Annotated[
        int | None,
        typer.Option(help="The deepest zoom in the archive (default 12, or the layer's last)."),
    ] = None,
) -> None:
    """Write a layer's vector tiles (as the service serves them) into a PMTiles archive.

    For object storage behind a CDN: the maps take it with PLATOONS_TILE_ARCHIVES.
    """
    from geo.tiles_archive import export_tiles as write_archive  # only for this command

    progress = progress_bar()

    async def run() -> ArchiveSummary:
        url = DatabaseSettings().dsn
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            with progress:
                task = progress.add_task("tiles", total=None)

                def step(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                return await write_archive(conn, collection, out, max_zoom, on_tile=step)

    try:
        summary = asyncio.run(run())
    except PlatoonsError as exc:
        raise fail(exc.message) from exc
    except psycopg.OperationalError as exc:
        raise fail(f"cannot reach the database: {exc}") from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from exc
    console.print(
        f"wrote {summary.path}: {summary.collection_id} (data version {summary.data_version}), "
        f"zooms {summary.min_zoom}-{summary.max_zoom}, {summary.tiles_written:,} tiles "
        f"({summary.tiles_empty:,} empty ones left out), {summary.bytes / 1024:,.0f} KiB "
        f"in {summary.seconds:.1f} s"
    )
