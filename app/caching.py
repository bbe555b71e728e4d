"""HTTP caching: the data-version watcher, the tile cache, ETags and response compression.

Every load bumps one data version and NOTIFYs it at commit (data/sql/bump_data_version.sql).
:class:`DataVersionWatcher` follows it over a LISTEN connection, so a tile's strong ETag
(data version + tile + encoding) is known without a database round trip and a conditional
request is answered 304 from memory. :class:`TileCache` keeps rendered and encoded tiles by
data version; a new version makes every older entry unreachable and drops it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import Literal

import anyio.to_thread
import brotli
import psycopg
from fastapi import FastAPI, Request
from psycopg import AsyncConnection
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http import base_url
from geo import features
from geo.collections import Collection
from geo.tiles import listen_for_data_version, read_data_version

logger = logging.getLogger("platoons.caching")

Encoding = Literal["br", "gzip", "identity"]
# Preference when a client accepts several codings equally: brotli is the smaller.
_PREFERENCE: tuple[Encoding, ...] = ("br", "gzip", "identity")
# Brotli 5 is faster than gzip 6 and about 5% smaller on MVT (measured on a z5 England tile).
BROTLI_QUALITY = 5
# Tiles are compressed on a cache miss, while the client waits: brotli 3 takes about 40% of
# brotli 5's CPU on MVT (0.45 vs 1.06 ms on a 42 KB tile, 0.05 vs 0.13 ms on a 5 KB one,
# Trafford, 2026-12-07) for 6-12% more bytes, within 6% of gzip 6's and smaller on large tiles
# (issue 20: cold tiles).
TILE_BROTLI_QUALITY = 3
GZIP_LEVEL = 6
# Bodies smaller than this are not worth a compressed variant (JSON middleware only).
MIN_COMPRESS_BYTES = 512
# Above this a body is compressed in a worker thread, off the event loop.
THREAD_COMPRESS_BYTES = 256 * 1024
WATCHER_APPLICATION_NAME = "platoons-data-version"


# The tile cache's default budget. A server process takes about 110 MB before it caches any
# tile (issue 20 measured TiPg at about 100 MB after the tile benchmark, and asks for at most
# twice that); 64 MiB holds every tile of the benchmark's 300 in both encodings several
# times over (about 15 MiB), i.e. far more than the tiles a map view and its neighbours need.
DEFAULT_TILE_CACHE_BYTES = 64 * 1024 * 1024

# The tiles a process renders at once by default. A burst of misses (a map opening asks for
# dozens of tiles) would otherwise take a pooled connection each, growing the pool one new
# PostgreSQL backend at a time (about 30 ms of connecting and loading PostGIS each, measured
# on all England at load average 8) for work the database's cores do no faster in parallel.
DEFAULT_TILE_RENDERS = 4


class CacheSettings(BaseSettings):
    """How long clients may reuse tiles, how much memory tiles may take, how often to poll.

    ``tile_cache_bytes`` (``PLATOONS_TILE_CACHE_BYTES``) bounds the bytes of tile bodies each
    process keeps (:class:`TileCache`, least recently used out first; 0 caches nothing).
    ``tile_renders`` (``PLATOONS_TILE_RENDERS``) bounds the tiles each process renders at once:
    further misses wait for one to finish instead of growing the pool.
    """

    model_config = SettingsConfigDict(env_prefix="PLATOONS_", env_file=".env", extra="ignore")

    tile_max_age_seconds: int = Field(default=60, ge=0)
    tile_cache_bytes: int = Field(default=DEFAULT_TILE_CACHE_BYTES, ge=0)
    tile_renders: int = Field(default=DEFAULT_TILE_RENDERS, ge=1)
    data_version_poll_seconds: float = Field(default=5.0, gt=0)


class DataVersionWatcher:
    """Follow the database's data version: LISTEN for the loader's NOTIFY, poll as a fallback.

    ``current`` is the version last seen, or None while the listening connection is down
    (callers then read the version from the database themselves, so a stale version is never
    trusted for longer than a notification takes to arrive). Every ``poll_seconds`` the
    version is also read on the listening connection: that catches a missed notification and
    finds a dropped connection, which is then reopened.
    """

    def __init__(
        self,
        dsn: str,
        *,
        poll_seconds: float = 5.0,
        on_change: Callable[[int], None] | None = None,
        application_name: str = WATCHER_APPLICATION_NAME,
    ) -> None:
        self.current: int | None = None
        self._dsn = dsn
        self._application_name = application_name
        self._poll_seconds = poll_seconds
        self._on_change = on_change
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start following in the background (returns at once, even if the database is down)."""
        self._task = asyncio.create_task(self._follow(), name="data-version-watcher")

    async def stop(self) -> None:
        """Stop following and close the listening connection."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.current = None

    def _seen(self, version: int) -> None:
        """Record a version read or notified; tell the subscriber when it changed."""
        if version != self.current:
            self.current = version
            if self._on_change is not None:
                self._on_change(version)

    async def _follow(self) -> None:
        """Listen and poll until cancelled, reconnecting after any connection failure."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn,
                    autocommit=True,
                    application_name=self._application_name,
                    connect_timeout=max(2, int(self._poll_seconds)),
                ) as conn:
                    await listen_for_data_version(conn)
                    self._seen(await read_data_version(conn))
                    while True:
                        async for notify in conn.notifies(timeout=self._poll_seconds):
                            if notify.payload.isdigit():
                                self._seen(int(notify.payload))
                        self._seen(await read_data_version(conn))
            except (psycopg.Error, OSError) as exc:
                self.current = None
                logger.warning(
                    "data version watcher lost the database (%s); retrying in %.0f s",
                    exc,
                    self._poll_seconds,
                )
            await asyncio.sleep(self._poll_seconds)


CacheKey = tuple[int, str, Encoding]
"""A cache entry's key: (data version, tile identity, content encoding)."""


class TileCache:
    """An in-process LRU of tile bodies, bounded by their total bytes, keyed by data version.

    Concurrent requests for a tile that is not cached wait for one rendering
    (:meth:`get_or_make`) instead of each querying the database.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._entries: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._pending: dict[CacheKey, asyncio.Future[bytes]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> bytes | None:
        """Return a cached body (and mark it recently used), or None."""
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: CacheKey, body: bytes) -> None:
        """Cache a body, evicting the least recently used ones beyond ``max_bytes``."""
        if len(body) > self.max_bytes:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.size_bytes -= len(previous)
        self._entries[key] = body
        self.size_bytes += len(body)
        while self.size_bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size_bytes -= len(evicted)

    def versions(self) -> set[int]:
        """Return the data versions of the cached entries."""
        return {key[0] for key in self._entries}

    def retain_version(self, version: int) -> None:
        """Drop every entry of another data version (called when the version changes)."""
        for key in [key for key in self._entries if key[0] != version]:
            self.size_bytes -= len(self._entries.pop(key))

    async def get_or_make(self, key: CacheKey, make: Callable[[], Awaitable[bytes]]) -> bytes:
        """Return the cached body, or make it once (however many callers wait) and cache it."""
        body = self.get(key)
        if body is not None:
            return body
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._make(key, make))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._settled(key, done))
        # Shielded: a caller that goes away does not cancel the others' rendering.
        return await asyncio.shield(pending)

    def _settled(self, key: CacheKey, done: asyncio.Future[bytes]) -> None:
        """Forget a finished rendering; retrieve its error so none goes unreported."""
        self._pending.pop(key, None)
        if not done.cancelled():
            done.exception()

    async def _make(self, key: CacheKey, make: Callable[[], Awaitable[bytes]]) -> bytes:
        """Make a body and cache it."""
        body = await make()
        self.put(key, body)
        return body


def tile_etag(version: int, identity: str, encoding: Encoding) -> str:
    """Return a tile's strong ETag: data version, tile identity and content encoding.

    Each encoding is a different representation, so it gets its own strong validator
    (RFC 9110, 8.8.3).
    """
    digest = hashlib.blake2b(identity.encode("utf-8"), digest_size=10).hexdigest()
    suffix = "" if encoding == "identity" else f"-{encoding}"
    return f'"{version}-{digest}{suffix}"'


def document_etag(version: int, request: Request, representation: str) -> str:
    """A strong ETag for a document built from the data and the request alone.

    The same data version, base URL (links are absolute), path, query and representation give
    the same body, so they name it.
    """
    key = f"{version}|{representation}|{base_url(request)}{request.url.path}?{request.url.query}"
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header matches an ETag (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def negotiate_encoding(accept_encoding: str | None) -> Encoding:
    """Choose br, gzip or identity from an Accept-Encoding header (RFC 9110, 12.5.3)."""
    if not accept_encoding:
        return "identity"
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[coding.strip()] = weight
    # "*" covers every coding not listed, identity included; identity is otherwise acceptable.
    wildcard = weights.get("*", 0.0)
    unlisted_identity = wildcard if "*" in weights else 1.0
    best: Encoding = "identity"
    best_weight = 0.0
    for coding in _PREFERENCE:
        weight = weights.get(coding, unlisted_identity if coding == "identity" else wildcard)
        if weight > best_weight:
            best, best_weight = coding, weight
    return best


def encode(body: bytes, encoding: Encoding, brotli_quality: int = BROTLI_QUALITY) -> bytes:
    """Return the body in a content encoding."""
    if encoding == "br":
        compressed: bytes = brotli.compress(body, quality=brotli_quality)
        return compressed
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return body


async def encode_async(
    body: bytes, encoding: Encoding, brotli_quality: int = BROTLI_QUALITY
) -> bytes:
    """Encode a body, in a worker thread when it is large enough to stall the event loop."""
    if encoding == "identity" or len(body) < THREAD_COMPRESS_BYTES:
        return encode(body, encoding, brotli_quality)
    return await anyio.to_thread.run_sync(encode, body, encoding, brotli_quality)


def _compressible(content_type: str) -> bool:
    """Whether a media type is text that compresses well (JSON, its +json kinds, text/*)."""
    media_type = content_type.partition(";")[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type == "application/json"
        or media_type.endswith("+json")
    )


class CompressionMiddleware:
    """Compress JSON and text responses with brotli or gzip, as the client accepts.

    Responses that already chose their encoding are passed through untouched: those with a
    Content-Encoding or that already vary on Accept-Encoding (tiles, which are compressed
    once and cached). Streamed and small bodies are sent as they are. When it compresses, a
    handler's strong ETag becomes weak (RFC 9110, 8.8.1: a strong validator names exactly one
    byte sequence); handlers compare If-None-Match weakly (:func:`etag_matches`), so 304s keep
    working. Handlers that need a strong validator per encoding negotiate the encoding
    themselves, as the tile route does.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = MIN_COMPRESS_BYTES) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, compressing its response when that is worthwhile and accepted."""
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        encoding = negotiate_encoding(Headers(scope=scope).get("accept-encoding"))
        start: Message | None = None
        passing = False

        async def send_compressed(message: Message) -> None:
            nonlocal start, passing
            if passing:
                await send(message)
            elif message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                negotiated = "accept-encoding" in headers.get("vary", "").lower()
                if (
                    "content-encoding" in headers
                    or negotiated
                    or not _compressible(headers.get("content-type", ""))
                ):
                    passing = True
                    await send(message)
                else:
                    start = message
            elif message["type"] == "http.response.body" and start is not None:
                passing = True
                body = message.get("body", b"")
                headers = MutableHeaders(raw=start["headers"])
                headers.add_vary_header("Accept-Encoding")
                if (
                    encoding != "identity"
                    and not message.get("more_body", False)
                    and len(body) >= self.minimum_size
                ):
                    body = await encode_async(body, encoding)
                    headers["Content-Encoding"] = encoding
                    headers["Content-Length"] = str(len(body))
                    etag = headers.get("etag")
                    if etag and not etag.startswith("W/"):
                        headers["ETag"] = f"W/{etag}"
                    message = {**message, "body": body}
                await send(start)
                await send(message)
            else:
                await send(message)

        await self.app(scope, receive, send_compressed)


async def start_caching(
    app: FastAPI, dsn: str, settings: CacheSettings | None = None
) -> DataVersionWatcher:
    """Put a tile cache and a started data-version watcher on ``app.state`` (lifespan start).

    ``app.state.data_version.current`` is the data version for anything that keys a cache or
    an ETag on it; ``app.state.tile_cache`` drops other versions' tiles when it changes. Stop
    the returned watcher when the lifespan ends.
    """
    settings = settings or CacheSettings()
    cache = TileCache(settings.tile_cache_bytes)
    watcher = DataVersionWatcher(
        dsn, poll_seconds=settings.data_version_poll_seconds, on_change=cache.retain_version
    )
    app.state.cache_settings = settings
    app.state.tile_cache = cache
    app.state.tile_renders = asyncio.Semaphore(settings.tile_renders)
    app.state.data_version = watcher
    await watcher.start()
    return watcher


# How a caller lends a connection: only on a cache miss (tiles) or one it already holds.
ConnectionLender = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
MAX_EXTENTS_CACHED = 1000


async def current_data_version(request: Request, lend: ConnectionLender) -> int:
    """The data version the watcher follows, or read from the database while it reconnects."""
    watcher: DataVersionWatcher | None = getattr(request.app.state, "data_version", None)
    if watcher is not None and watcher.current is not None:
        return watcher.current
    async with lend() as conn:
        return await read_data_version(conn)


async def collection_extent(
    request: Request, collection: Collection, version: int, lend: ConnectionLender
) -> list[float] | None:
    """A collection's lon/lat extent, read once per data version (``app.state.extent_cache``).

    The collection documents, tileset limits, tile requests and map pages all use it, so a
    page bounds its tile requests with the very extent the tile route checks them against.
    """
    cache: dict[tuple[str, int], list[float] | None] = request.app.state.extent_cache
    key = (collection.id, version)
    if key not in cache:
        if len(cache) > MAX_EXTENTS_CACHED:
            cache.clear()
        async with lend() as conn:
            cache[key] = await features.extent(conn, collection)
    return cache[key]
