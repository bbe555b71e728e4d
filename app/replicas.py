"""Read replicas: a pool per PostgreSQL streaming replica, their lag watched, and ``ReadDbDep``.

``PLATOONS_READ_DATABASE_URLS`` (a JSON list of URLs) names hot standbys of the primary. The
read-only public routes (lookups, eligibility clicks, features, tiles, maps' data) take
``ReadDbDep``, which lends a connection of a replica that is fit to answer, else of the
primary; everything that writes takes ``DbDep`` (the primary). A replica is fit when:

- the last check reached it and found it in recovery (a promoted or misconfigured server,
  which would diverge from the primary, is never read);
- its replay lag is at most ``PLATOONS_REPLICA_MAX_LAG_SECONDS``, measured every
  ``PLATOONS_REPLICA_CHECK_SECONDS`` (not per request) by :class:`ReadRouter`: zero when it has
  replayed the primary's WAL position read just before, otherwise the time since the last
  transaction it replayed committed (``pg_last_xact_replay_timestamp()``); while the primary
  cannot be reached, zero when it has replayed all it received;
- it has the data version the service follows (the primary's, by NOTIFY: app/caching.py),
  so a cache or ETag keyed on a version is never filled from older data, and a write that
  bumps the version is seen by every read after it, on any process.

Reads that must see the caller's own write go to the primary: a request carrying credentials
(an API key, in either header) is always served there. A replica whose checkout fails is
skipped at once, until a check finds it healthy again. Replica sessions are read-only
(``default_transaction_read_only``), so a write routed there by mistake would be refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

import psycopg
from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from app.background import cancel_and_wait
from app.db import create_pool, database_errors_as_problems
from config.settings import DatabaseSettings, ReplicaSettings
from geo.tiles import read_data_version

logger = logging.getLogger("platoons.replicas")

READ_APPLICATION_NAME = "platoons-read"
MONITOR_APPLICATION_NAME = "platoons-replica-monitor"
# How long a request waits for a replica's pooled connection before reading the primary.
CHECKOUT_TIMEOUT_SECONDS = 1.0

# The replica's state, in one round trip: in recovery?, its lag in seconds, replayed position.
REPLICA_STATE_SQL = """
SELECT pg_is_in_recovery() AS in_recovery,
       CASE
         WHEN NOT pg_is_in_recovery() THEN NULL
         WHEN %(primary_lsn)s::pg_lsn IS NOT NULL
              AND pg_last_wal_replay_lsn() >= %(primary_lsn)s::pg_lsn THEN 0.0
         WHEN %(primary_lsn)s::pg_lsn IS NULL
              AND pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0.0
         ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
                       'Infinity'::float8)
       END AS lag_seconds
"""


def describe_dsn(dsn: str) -> str:
    """A replica's name for logs: host, port and database, never the password."""
    parts = urlsplit(dsn)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


@dataclass
class Replica:
    """One replica: its pool, and what the last check found."""

    dsn: str
    pool: AsyncConnectionPool
    fit: bool = False
    reason: str = "not checked yet"
    lag_seconds: float | None = None
    data_version: int | None = None
    checked_at: float | None = None
    monitor: AsyncConnection | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """Host, port and database."""
        return describe_dsn(self.dsn)


class ReadRouter:
    """Chooses a fit replica for each read, checking every replica in the background."""

    def __init__(
        self,
        primary: AsyncConnectionPool,
        database: DatabaseSettings,
        settings: ReplicaSettings,
        data_version: Callable[[], int | None],
    ) -> None:
        self.primary = primary
        self.settings = settings
        self.data_version = data_version
        self.replicas = [
            Replica(
                str(url),
                create_pool(database, str(url), READ_APPLICATION_NAME, read_only=True),
            )
            for url in settings.read_database_urls
        ]
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Open the replicas' pools (without waiting for them) and start checking."""
        for replica in self.replicas:
            await replica.pool.open(wait=False)
        self._task = asyncio.create_task(self._watch(), name="platoons-replica-monitor")

    async def stop(self) -> None:
        """Stop checking; close the monitor connections and the pools."""
        await cancel_and_wait(self._task)
        self._task = None
        for replica in self.replicas:
            if replica.monitor is not None:
                await replica.monitor.close()
                replica.monitor = None
            await replica.pool.close()

    def choose(self) -> Replica | None:
        """A fit replica at the followed data version (in turn), or None: read the primary."""
        version = self.data_version()
        fit = [
            replica
            for replica in self.replicas
            if replica.fit
            and (
                version is None
                or (replica.data_version is not None and replica.data_version >= version)
            )
        ]
        if not fit:
            return None
        return fit[next(self._turn) % len(fit)]

    def set_state(self, replica: Replica, fit: bool, reason: str) -> None:
        """Record a check's verdict; log when a replica starts or stops being read."""
        if fit != replica.fit:
            if fit:
                logger.info("reading replica %s again (%s)", replica.name, reason)
            else:
                logger.warning("not reading replica %s: %s", replica.name, reason)
        replica.fit = fit
        replica.reason = reason

    async def check(self) -> None:
        """Check every replica once: reachable, in recovery, lag, data version."""
        primary_lsn = await self._primary_lsn()
        for replica in self.replicas:
            await self._check(replica, primary_lsn)

    async def _primary_lsn(self) -> str | None:
        """The primary's current WAL position, or None if it cannot be read now."""
        try:
            async with self.primary.connection(timeout=CHECKOUT_TIMEOUT_SECONDS) as conn:
                cur = await conn.execute("SELECT pg_current_wal_lsn()::text")
                row = await cur.fetchone()
        except (psycopg.Error, PoolTimeout, OSError):
            return None
        return str(row[0]) if row else None

    async def _check(self, replica: Replica, primary_lsn: str | None) -> None:
        """Check one replica on its own monitoring connection (reopened when it broke)."""
        try:
            if replica.monitor is None or replica.monitor.closed:
                replica.monitor = await AsyncConnection.connect(
                    replica.dsn,
                    autocommit=True,
                    application_name=MONITOR_APPLICATION_NAME,
                    connect_timeout=max(1, round(self.settings.replica_check_seconds)),
                )
            async with replica.monitor.cursor(row_factory=dict_row) as cur:
                await cur.execute(REPLICA_STATE_SQL, {"primary_lsn": primary_lsn})
                state = await cur.fetchone()
            replica.data_version = await read_data_version(replica.monitor)
        except (psycopg.Error, OSError) as exc:
            if replica.monitor is not None:
                await replica.monitor.close()
                replica.monitor = None
            replica.lag_seconds = None
            self.set_state(replica, False, f"unreachable ({type(exc).__name__})")
            return
        finally:
            replica.checked_at = time.monotonic()
        assert state is not None
        if not state["in_recovery"]:
            self.set_state(replica, False, "not a standby (not in recovery)")
            return
        replica.lag_seconds = float(state["lag_seconds"])
        if replica.lag_seconds > self.settings.replica_max_lag_seconds:
            self.set_state(replica, False, f"lagging {replica.lag_seconds:.1f} s")
        else:
            if not replica.fit:
                # Back (or new): test every idle pooled connection first. One returned to the
                # pool just before the replica went away would otherwise be lent unchecked
                # (app/db.py RecentUseCheck), and fail its request.
                await replica.pool.check()
            self.set_state(replica, True, f"lag {replica.lag_seconds:.1f} s")

    async def _watch(self) -> None:
        """Check the replicas every ``replica_check_seconds`` until cancelled."""
        while True:
            try:
                await self.check()
            except Exception:  # never let the monitor die; the next check retries
                logger.warning("checking the replicas failed", exc_info=True)
            await asyncio.sleep(self.settings.replica_check_seconds)

    async def checkout(self, replica: Replica) -> AsyncConnection | None:
        """A pooled connection of the replica, or None (and the replica skipped) if it fails."""
        try:
            return await replica.pool.getconn(timeout=CHECKOUT_TIMEOUT_SECONDS)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self.set_state(replica, False, f"checkout failed ({type(exc).__name__})")
            return None


async def start_read_router(
    primary: AsyncConnectionPool,
    database: DatabaseSettings,
    settings: ReplicaSettings,
    data_version: Callable[[], int | None],
) -> ReadRouter | None:
    """Start routing reads to the configured replicas (None when there are none)."""
    if not settings.read_database_urls:
        return None
    router = ReadRouter(primary, database, settings, data_version)
    await router.start()
    return router


def reads_own_writes(request: Request) -> bool:
    """Whether a request must see the caller's own writes: it carries credentials (an API
    key, as ``Authorization`` or ``X-API-Key``: app/auth.py)."""
    return "authorization" in request.headers or "x-api-key" in request.headers


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """Lend a connection for a read-only request: a fit replica's, else the primary's."""
    router: ReadRouter | None = getattr(request.app.state, "read_router", None)
    replica = None if router is None or reads_own_writes(request) else router.choose()
    conn = None
    if router is not None and replica is not None:
        conn = await router.checkout(replica)
    if router is None or replica is None or conn is None:
        primary: AsyncConnectionPool = request.app.state.pool
        with database_errors_as_problems():
            async with primary.connection() as primary_conn:
                yield primary_conn
        return
    try:
        with database_errors_as_problems():
            try:
                yield conn
            except psycopg.OperationalError:
                router.set_state(replica, False, "connection lost during a request")
                raise
    finally:
        await replica.pool.putconn(conn)


ReadDbDep = Annotated[AsyncConnection, Depends(read_connection)]
"""A connection for a read-only request (a replica's when one is fit)."""

lend_read_connection = contextlib.asynccontextmanager(read_connection)
"""``read_connection`` as a context manager, for routes that borrow only on a cache miss."""
