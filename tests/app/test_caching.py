"""The data-version watcher, the tile cache and content negotiation."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Callable

import brotli
import psycopg
import pytest
from fastapi.testclient import TestClient

from app.caching import (
    DataVersionWatcher,
    TileCache,
    encode,
    etag_matches,
    negotiate_encoding,
    tile_etag,
)
from config.settings import DatabaseSettings
from data.foundation.write import bump_data_version

TEST_WATCHER = "platoons-test-watcher"


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def bump(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:  # commits on exit: the NOTIFY is delivered then
        return bump_data_version(conn)


def watcher_pids(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (TEST_WATCHER,)
    ).fetchall()
    return [row[0] for row in rows]


# -- the data-version watcher -----------------------------------------------------------------


@pytest.mark.anyio
async def test_the_watcher_follows_notifications_without_polling(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    changes: list[int] = []
    # A poll far longer than the test: only the NOTIFY can bring the new version.
    watcher = DataVersionWatcher(
        settings.dsn, poll_seconds=300, on_change=changes.append, application_name=TEST_WATCHER
    )
    await watcher.start()
    try:
        await eventually(lambda: watcher.current is not None)
        (stored,) = conn.execute("SELECT version FROM data_version").fetchone() or (None,)
        assert watcher.current == stored
        new = await asyncio.to_thread(bump, settings.dsn)
        await eventually(lambda: watcher.current == new)
        assert changes == [stored, new]
    finally:
        await watcher.stop()
    assert watcher.current is None
    await eventually(lambda: watcher_pids(conn) == [])  # its connection was closed


@pytest.mark.anyio
async def test_the_watcher_reconnects_when_its_connection_drops(
    settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    watcher = DataVersionWatcher(settings.dsn, poll_seconds=0.2, application_name=TEST_WATCHER)
    await watcher.start()
    try:
        await eventually(lambda: watcher.current is not None and len(watcher_pids(conn)) == 1)
        (old_pid,) = watcher_pids(conn)
        conn.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
        # Bumped while the watcher may be disconnected: it must still learn of it.
        new = await asyncio.to_thread(bump, settings.dsn)
        await eventually(lambda: watcher.current == new)
        await eventually(lambda: len(watcher_pids(conn)) == 1)
        assert watcher_pids(conn) != [old_pid]
    finally:
        await watcher.stop()


@pytest.mark.anyio
async def test_the_watcher_reports_no_version_while_the_database_is_unreachable() -> None:
    watcher = DataVersionWatcher("postgresql://postgres@127.0.0.1:1/nowhere", poll_seconds=0.05)
    await watcher.start()
    await asyncio.sleep(0.3)
    assert watcher.current is None
    await watcher.stop()


# -- the tile cache ---------------------------------------------------------------------------


def test_the_cache_evicts_least_recently_used_beyond_its_byte_bound() -> None:
    cache = TileCache(max_bytes=10)
    cache.put((1, "a", "identity"), b"aaaa")
    cache.put((1, "b", "identity"), b"bbbb")
    assert cache.get((1, "a", "identity")) == b"aaaa"  # now b is the least recently used
    cache.put((1, "c", "identity"), b"cccc")
    assert cache.get((1, "b", "identity")) is None
    assert cache.get((1, "a", "identity")) == b"aaaa" and cache.size_bytes == 8
    cache.put((1, "huge", "identity"), b"x" * 11)  # larger than the whole cache: not kept
    assert len(cache) == 2


def test_the_cache_drops_other_versions() -> None:
    cache = TileCache(max_bytes=100)
    cache.put((1, "a", "identity"), b"old")
    cache.put((2, "a", "identity"), b"new")
    cache.retain_version(2)
    assert cache.versions() == {2} and cache.size_bytes == 3
    assert cache.get((1, "a", "identity")) is None


@pytest.mark.anyio
async def test_concurrent_misses_make_a_tile_once() -> None:
    cache = TileCache(max_bytes=100)
    calls = 0

    async def make() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return b"tile"

    key = (1, "a", "identity")
    bodies = await asyncio.gather(*(cache.get_or_make(key, make) for _ in range(10)))
    assert bodies == [b"tile"] * 10 and calls == 1
    assert await cache.get_or_make(key, make) == b"tile" and calls == 1


@pytest.mark.anyio
async def test_a_failed_making_is_not_cached() -> None:
    cache = TileCache(max_bytes=100)

    async def fail() -> bytes:
        raise RuntimeError("database gone")

    key = (1, "a", "identity")
    with pytest.raises(RuntimeError):
        await cache.get_or_make(key, fail)
    assert len(cache) == 0


# -- negotiation and validators ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip, deflate", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0.1, gzip;q=0", "br"),
        ("identity", "identity"),
        ("gzip;q=bad", "identity"),
        ("GZIP", "gzip"),
    ],
)
def test_accept_encoding_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_encoding(header) == expected


def test_encodings_round_trip() -> None:
    body = b'{"type": "FeatureCollection"}' * 50
    assert brotli.decompress(encode(body, "br")) == body
    assert gzip.decompress(encode(body, "gzip")) == body
    assert encode(body, "identity") is body
    # No timestamp, so the same body always gives the same bytes (and ETag): the gzip
    # member header's MTIME field, bytes 4-7, is 0, "no time stamp" (RFC 1952, 2.3.1).
    assert encode(body, "gzip")[4:8] == bytes(4)


def test_etags_differ_by_version_tile_and_encoding() -> None:
    etags = {
        tile_etag(version, identity, encoding)
        for version in (1, 2)
        for identity in ("a/1/2/3.mvt#x", "a/1/2/4.mvt#x")
        for encoding in ("identity", "gzip", "br")
    }
    assert len(etags) == 12
    etag = tile_etag(1, "a", "br")
    assert etag_matches(etag, etag) and etag_matches(f'"x", W/{etag}', etag)
    assert etag_matches("*", etag) and not etag_matches('"x"', etag)
    assert not etag_matches(None, etag)


def test_compressed_item_pages_carry_a_weak_etag_that_still_revalidates(client: TestClient) -> None:
    url = "/collections/lsoa-iod2025/items?limit=50"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    compressed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["etag"] == "W/" + plain.headers["etag"]
    again = client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": compressed.headers["etag"]}
    )
    assert again.status_code == 304
