"""A map pointed at a static PMTiles archive renders in chromium: the LSOA layer is drawn from
the archive (HTTP range requests, the vendored PMTiles reader), with the colours the live tiles
give, and past the archive's deepest zoom from the live tiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi.staticfiles import StaticFiles

from app.main import create_app
from app.maps import DECILE_COLOURS
from config.settings import DatabaseSettings, MapSettings
from geo.tiles_archive import export_tiles
from tests.browser.conftest import WatchedPage, off_the_browser_thread
from tests.utils import factories, sources
from tests.utils.service import service_settings
from tests.utils.services import serving_in_thread

LAYER = "lsoa-iod2025"
ARCHIVE_MAX_ZOOM = 12
POINTS_2021 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
IOD2025 = sources.csv(sources.IOD2025).set_index("lsoa21_code")
TRAFFORD = "E08000009"
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")


@pytest.fixture(scope="module")
def archive_dir(settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The LSOA layer exported to zoom 12, in a directory of its own."""
    directory = tmp_path_factory.mktemp("cdn")

    async def export(conn: psycopg.AsyncConnection) -> object:
        await conn.set_autocommit(True)
        return await export_tiles(conn, LAYER, directory / f"{LAYER}.pmtiles", ARCHIVE_MAX_ZOOM)

    off_the_browser_thread(lambda: factories.run(settings.dsn, export))
    return directory


@pytest.fixture(scope="module")
def archive_server(settings: DatabaseSettings, archive_dir: Path) -> Iterator[str]:
    """The service with its maps reading the archive, served (with range requests) at
    /archives/ as a CDN would serve it; yields the base URL."""
    chosen = MapSettings(tile_archives={LAYER: f"/archives/{LAYER}.pmtiles"})
    app = create_app(service_settings(settings, maps=chosen))
    app.mount("/archives", StaticFiles(directory=archive_dir), name="archives")
    config = uvicorn.Config(app, log_level="warning", access_log=False, http="h11", ws="none")
    with serving_in_thread(config) as url:
        yield url


def test_the_map_draws_a_layer_from_its_archive(watched: WatchedPage, archive_server: str) -> None:
    in_trafford = [c for c in POINTS_2021 if LOOKUP_2021.loc[c, "ltla24_code"] == TRAFFORD]
    code = sorted(in_trafford)[0]
    lon, lat = POINTS_2021[code]
    colour = DECILE_COLOURS[int(IOD2025.loc[code, "IMD_decile"]) - 1]
    watched.page.goto(f"{archive_server}/maps/deprivation")
    watched.settle()
    watched.show(lon, lat, 11)
    assert watched.colour_at(LAYER, lon, lat) == colour
    assert code in watched.evaluate(f"() => window.PlatoonsMaps.layers['{LAYER}'].visibleCodes()")
    archive_url = f"{archive_server}/archives/{LAYER}.pmtiles"
    assert archive_url in watched.requests
    assert not [u for u in watched.requests if f"/collections/{LAYER}/tiles/" in u]
    assert watched.evaluate("() => window.PlatoonsMaps.archiveTiles") > 0
    watched.screenshot("archive-lsoa-z11")

    # Deeper than the archive: the same layer from the live tiles, the same colour.
    watched.show(lon, lat, ARCHIVE_MAX_ZOOM + 2)
    live = [u for u in watched.requests if f"/collections/{LAYER}/tiles/WebMercatorQuad/14/" in u]
    assert live
    assert watched.colour_at(LAYER, lon, lat) == colour
    assert watched.errors == []
    assert watched.off_host(archive_server) == []
