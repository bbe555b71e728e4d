"""PMTiles archives of a layer: the tiles read back equal the ones the service serves, across
zooms; empty tiles are left out; the metadata is the layer's TileJSON with its attribution; the
command line writes one and refuses bad input with a message."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from typer.testing import CliRunner

from cli.main import cli
from config.settings import DatabaseSettings
from geo import features
from geo.collections import get_collection
from geo.tiles_archive import archive_tiles, export_tiles
from tests.utils import factories

COLLECTION = "lsoa-iod2025"
MAX_ZOOM = 11
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def archive(settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's LSOA layer (IoD2025) exported to zoom 11."""
    out = tmp_path_factory.mktemp("archives") / f"{COLLECTION}.pmtiles"

    async def export(conn: psycopg.AsyncConnection) -> object:
        await conn.set_autocommit(True)
        return await export_tiles(conn, COLLECTION, out, MAX_ZOOM)

    factories.run(settings.dsn, export)
    return out


@pytest.fixture(scope="module")
def archived(archive: Path) -> Iterator[dict[tuple[int, int, int], bytes]]:
    """Every tile in the archive, by (z, x, y), as stored (gzip-compressed)."""
    with archive.open("rb") as file:
        yield dict(all_tiles(MmapSource(file)))


def test_the_archive_holds_the_served_tiles_across_zooms(
    client: TestClient, archived: dict[tuple[int, int, int], bytes], settings: DatabaseSettings
) -> None:
    collection = get_collection(COLLECTION)
    assert collection is not None
    bounds = factories.run(settings.dsn, lambda conn: features.extent(conn, collection))
    assert bounds is not None
    every = list(archive_tiles(bounds, collection.minzoom, MAX_ZOOM))
    assert {z for z, _, _ in archived} == set(range(collection.minzoom, MAX_ZOOM + 1))
    # Every archived tile (the demo's four districts: a few dozen across the zooms), and tiles
    # of the extent that hold nothing (absent from the archive, empty when served).
    sample = [t for t in every if (t.z, t.x, t.y) in archived]
    sample += [t for t in every if (t.z, t.x, t.y) not in archived][::50]
    compared = 0
    for tile in sample:
        path = f"/collections/{COLLECTION}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
        served = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert served.status_code == 200, served.text
        stored = archived.get((tile.z, tile.x, tile.y))
        if stored is None:
            assert served.content == b""
            continue
        # The same bytes the service sends a client accepting gzip (httpx decodes them).
        assert gzip.decompress(stored) == served.content
        assert served.headers["content-encoding"] == "gzip"
        assert mapbox_vector_tile.decode(gzip.decompress(stored))[COLLECTION]["features"]
        compared += 1
    assert compared == len(archived) >= 20


def test_the_metadata_is_the_layers_tilejson(archive: Path, client: TestClient) -> None:
    with archive.open("rb") as file:
        reader = Reader(MmapSource(file))
        header, metadata = reader.header(), reader.metadata()
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (5, MAX_ZOOM)
    live = client.get(f"/collections/{COLLECTION}/tiles/WebMercatorQuad/tilejson.json").json()
    for field in ("name", "description", "attribution", "bounds"):
        assert metadata[field] == live[field], field
    assert "tiles" not in metadata
    assert metadata["attribution"].startswith("Contains public sector information") or (
        "Open Government Licence" in metadata["attribution"]
    )
    [layer] = metadata["vector_layers"]
    assert layer["id"] == COLLECTION and layer["fields"] == live["vector_layers"][0]["fields"]
    assert (metadata["minzoom"], metadata["maxzoom"]) == (5, MAX_ZOOM)
    assert (header["min_lon_e7"], header["max_lat_e7"]) == (
        round(live["bounds"][0] * 1e7),
        round(live["bounds"][3] * 1e7),
    )
    version = client.app.state.data_version.current  # type: ignore[attr-defined]
    assert metadata["platoons:data_version"] == version


def test_the_command_writes_an_archive_and_refuses_bad_input(
    settings: DatabaseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATOONS_DATABASE_URL", settings.dsn)
    runner = CliRunner()
    out = tmp_path / "lad.pmtiles"
    done = runner.invoke(
        cli, ["export-tiles", "--collection", "lad-iod2025", "--max-zoom", "7", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "wrote" in done.output and out.stat().st_size > 0
    with out.open("rb") as file:
        assert Reader(MmapSource(file)).header()["max_zoom"] == 7
    for args, message in (
        (["--collection", "no-such-layer"], "no collection"),
        (["--collection", "lad-iod2025", "--max-zoom", "30"], "--max-zoom 30"),
    ):
        refused = runner.invoke(cli, ["export-tiles", *args, "--out", str(tmp_path / "x.pmtiles")])
        assert refused.exit_code == 1 and message in refused.output, refused.output
        assert not (tmp_path / "x.pmtiles").exists()
