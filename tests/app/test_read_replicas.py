"""Read replicas, against a real streaming replica: read-only routes read it, writes and reads
of one's own writes go to the primary, a lagging or stopped replica is skipped, and no write is
ever sent to it.

The fixture makes a throwaway primary cluster (Debian's PostgreSQL 15, run as postgres), loads
the demo extract into it, clones it with ``pg_basebackup -R`` into a standby on another port
and starts both; both log every statement with its ``application_name``, which is how the tests
see which server ran what.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from app.db import PRIMARY_APPLICATION_NAME
from app.main import create_app
from app.replicas import (
    MONITOR_APPLICATION_NAME,
    READ_APPLICATION_NAME,
    ReadRouter,
)
from config.settings import DatabaseSettings, ReplicaSettings
from data import DEMO_DIR, schema
from data.loaders import load_all
from tests.geo.test_groups import TO_LONLAT, TRAFFORD, group_body, inside
from tests.utils import factories
from tests.utils.clusters import (
    TEST_CLIENT,
    Cluster,
    make_primary,
    make_replica,
    make_root,
    remove,
    wait_for_replay,
)
from tests.utils.service import service_settings

DATABASE = "platoons"
# A point in Trafford (Old Trafford) and its tiles.
LON, LAT = -2.2913, 53.4631
WRITES = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|COPY|LOCK|NOTIFY|LISTEN|GRANT)\b"
    r"|FOR (NO KEY )?UPDATE|FOR SHARE|pg_advisory|nextval\(",
    re.IGNORECASE | re.MULTILINE,
)
ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] app=(?P<app>[^:]*): ", re.M)


@dataclass
class Replicated:
    """The primary, its replica, and the database settings of the primary's database."""

    primary: Cluster
    replica: Cluster
    settings: DatabaseSettings

    @property
    def replica_dsn(self) -> str:
        """The replica's URL of the same database."""
        return self.replica.dsn(DATABASE)


@dataclass
class Logged:
    """One log entry: the client's application_name and the message (a statement or error)."""

    app: str
    message: str


def entries(text: str) -> list[Logged]:
    """Split a server log into entries (a statement may span lines)."""
    starts = list(ENTRY.finditer(text))
    return [
        Logged(
            m.group("app"), text[m.end() : starts[i + 1].start() if i + 1 < len(starts) else None]
        )
        for i, m in enumerate(starts)
    ]


STATEMENT = re.compile(r"^LOG:  (?:statement|execute [^:]*): ")


def statements(text: str, app: str) -> list[str]:
    """The statements a client of ``app`` (application_name) ran, as logged (simple or
    extended protocol)."""
    found = []
    for entry in entries(text):
        logged = STATEMENT.match(entry.message)
        if entry.app == app and logged:
            found.append(entry.message[logged.end() :].strip())
    return found


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A primary with the demo extract loaded and a streaming replica of it, both running."""
    root = make_root()
    primary = make_primary(root)
    replica: Cluster | None = None
    try:
        with psycopg.connect(primary.dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        settings = DatabaseSettings(  # type: ignore[call-arg]
            database_url=primary.dsn(DATABASE), pool_min_size=1
        )
        schema.upgrade(settings.sqlalchemy_url)
        with psycopg.connect(settings.dsn) as conn:
            load_all(conn, DEMO_DIR)
        replica = make_replica(primary, root)
        wait_for_replay(settings.dsn, replica.dsn(DATABASE))
        yield Replicated(primary, replica, settings)
    finally:
        remove(root, *[c for c in (primary, replica) if c is not None])


def eventually(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def served(replicated: Replicated) -> Iterator[tuple[TestClient, ReadRouter]]:
    """The app reading the replica (lag tolerated: 1 s, checked every 0.2 s), once it is fit."""
    settings = ReplicaSettings(
        read_database_urls=[replicated.replica_dsn],  # type: ignore[list-item]
        replica_max_lag_seconds=1.0,
        replica_check_seconds=0.2,
    )
    with TestClient(create_app(service_settings(replicated.settings, replicas=settings))) as client:
        router: ReadRouter = client.app.state.read_router  # type: ignore[attr-defined]
        eventually(lambda: router.choose() is not None)
        yield client, router


@pytest.fixture(scope="module")
def manager(replicated: Replicated) -> Iterator[factories.Key]:
    """A group manager's API key on the primary (removed with the groups' managers after)."""
    made = factories.Made()
    yield factories.run(replicated.settings.dsn, lambda c: made.key(c, "group_manager"))
    with psycopg.connect(replicated.settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM group_manager WHERE key_id = ANY(%s)", (made.key_ids,))


def read_requests(client: TestClient) -> dict[str, str]:
    """One URL of each read-only kind the replicas serve (tiles never cached before)."""
    lsoa = next(c["id"] for c in client.get("/collections").json()["collections"]
                if c["id"].startswith("lsoa-"))  # fmt: skip
    zoom = 8 + int(time.monotonic_ns() % 5)  # a zoom this app's tile cache has not seen
    tile = morecantile.tms.get("WebMercatorQuad").tile(LON, LAT, zoom)
    return {
        "tile": f"/collections/{lsoa}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}",
        "features": f"/collections/{lsoa}/items?limit=3&bbox={LON - 0.01},{LAT - 0.01},"
        f"{LON + 0.01},{LAT + 0.01}",
        "lookup": f"/lookup?lon={LON}&lat={LAT}",
        "eligibility click": f"/eligibility?lon={LON}&lat={LAT}",
        "coverage": f"/coverage/at?lon={LON}&lat={LAT}",
    }


def is_monitoring(statement: str) -> bool:
    """Statements the replica monitor and the pools' own checks send the primary."""
    return statement in ("", "SELECT pg_current_wal_lsn()::text") or statement.startswith("SET ")


def test_read_only_routes_read_the_replica(
    replicated: Replicated, served: tuple[TestClient, ReadRouter]
) -> None:
    client, _ = served
    for kind, url in read_requests(client).items():
        on_primary, on_replica = replicated.primary.log_size(), replicated.replica.log_size()
        response = client.get(url)
        assert response.status_code == 200, (kind, response.text)
        replica_ran = statements(replicated.replica.log_since(on_replica), READ_APPLICATION_NAME)
        primary_ran = statements(replicated.primary.log_since(on_primary), PRIMARY_APPLICATION_NAME)
        assert replica_ran, f"{kind}: nothing ran on the replica"
        assert all(is_monitoring(s) for s in primary_ran), (kind, primary_ran)
        if kind == "tile":
            assert any("ST_AsMVT" in s for s in replica_ran)


def test_writes_and_the_callers_own_reads_go_to_the_primary_never_the_replica(
    replicated: Replicated, served: tuple[TestClient, ReadRouter], manager: factories.Key
) -> None:
    client, router = served
    on_primary, on_replica = replicated.primary.log_size(), replicated.replica.log_size()
    x, y = inside(TRAFFORD, nth=3)
    created = client.post("/groups", json=group_body(x, y), headers=manager.headers)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    rater = TestClient(client.app, client=("198.51.100.77", 5000))
    assert rater.post(f"/groups/{reference}/ratings", json={"stars": 5}).status_code == 201
    message = {"name": "Jo", "email": "jo@example.invalid", "message": "Hello"}
    assert rater.post(f"/groups/{reference}/messages", json=message).status_code == 202
    square = group_body(x, y)["geometry"]
    assert client.post("/eligibility", json={"geometry": square}).status_code == 200
    # The manager reads their group back with their key: from the primary, at once.
    mine = client.get(f"/groups/{reference}", headers=manager.headers)
    assert mine.status_code == 200 and mine.json()["leader_email"]
    # Anonymous reads after the write (once the service has the new data version).
    wait_for_replay(replicated.settings.dsn, replicated.replica_dsn)
    eventually(lambda: router.choose() is not None)
    # With the replica fit and current, a read carrying a key (either header) still goes to
    # the primary, even on a read-only route: the caller may be reading their own write.
    mark = replicated.replica.log_size()
    item = f"/collections/neighbourhood-groups/items/{reference}"
    for keyed in (manager.headers, {"X-API-Key": manager.secret}):
        assert client.get(item, headers=keyed).status_code == 200
    assert statements(replicated.replica.log_since(mark), READ_APPLICATION_NAME) == []
    lon, lat = TO_LONLAT.transform(x, y)
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 15)
    for url in (
        f"/collections/neighbourhood-groups/items/{reference}",
        f"/collections/neighbourhood-groups/tiles/WebMercatorQuad/15/{tile.y}/{tile.x}",
    ):
        assert client.get(url).status_code == 200

    replica_log = replicated.replica.log_since(on_replica)
    primary_log = replicated.primary.log_since(on_primary)
    # Everything the replica ran was a read of the read pool or the monitor; none was a write
    # (none even tried: a refused write would be logged as an ERROR).
    apps = {e.app for e in entries(replica_log) if STATEMENT.match(e.message)}
    assert apps <= {READ_APPLICATION_NAME, MONITOR_APPLICATION_NAME, TEST_CLIENT}
    ran_on_replica = statements(replica_log, READ_APPLICATION_NAME)
    assert ran_on_replica and not [s for s in ran_on_replica if WRITES.search(s)]
    assert "ERROR:" not in replica_log
    written = [s for s in statements(primary_log, PRIMARY_APPLICATION_NAME) if WRITES.search(s)]
    assert any("INSERT INTO community_group" in s for s in written)
    assert any("INSERT INTO group_rating" in s for s in written)
    assert any("INSERT INTO group_message" in s for s in written)


def test_a_lagging_replica_is_skipped_and_reads_see_the_latest_write(
    replicated: Replicated, served: tuple[TestClient, ReadRouter], manager: factories.Key
) -> None:
    client, router = served
    replica = router.replicas[0]
    with psycopg.connect(replicated.replica_dsn, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            version: Any = client.app.state.data_version  # type: ignore[attr-defined]
            before = version.current
            created = client.post(
                "/groups", json=group_body(*inside(TRAFFORD, nth=5)), headers=manager.headers
            )
            assert created.status_code == 201
            reference = created.json()["reference"]
            eventually(lambda: version.current != before)  # the primary's NOTIFY arrived
            # The replica has not replayed the write: anonymous reads go to the primary.
            assert router.choose() is None
            mark = replicated.replica.log_size()
            item = client.get(f"/collections/neighbourhood-groups/items/{reference}")
            assert item.status_code == 200, item.text
            assert statements(replicated.replica.log_since(mark), READ_APPLICATION_NAME) == []
            eventually(lambda: replica.reason.startswith("lagging"))
            assert not replica.fit and replica.lag_seconds is not None
            assert replica.lag_seconds > 1.0
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    eventually(lambda: router.choose() is replica)
    mark = replicated.replica.log_size()
    assert client.get(f"/collections/neighbourhood-groups/items/{reference}").status_code == 200
    assert statements(replicated.replica.log_since(mark), READ_APPLICATION_NAME)


def test_a_stopped_replica_is_skipped_and_read_again_when_it_returns(
    replicated: Replicated, served: tuple[TestClient, ReadRouter]
) -> None:
    client, router = served
    replica = router.replicas[0]
    urls = read_requests(client)
    replicated.replica.stop()
    try:
        eventually(lambda: not replica.fit)  # the next check (every 0.2 s here)
        assert replica.reason.startswith("unreachable")
        on_primary = replicated.primary.log_size()
        for kind, url in urls.items():
            response = client.get(url)
            assert response.status_code == 200, (kind, response.text)
        primary_ran = statements(replicated.primary.log_since(on_primary), PRIMARY_APPLICATION_NAME)
        assert any("ST_AsMVT" in s for s in primary_ran)
    finally:
        replicated.replica.start()
    eventually(lambda: router.choose() is replica)
    mark = replicated.replica.log_size()
    assert client.get(read_requests(client)["tile"]).status_code == 200
    assert statements(replicated.replica.log_since(mark), READ_APPLICATION_NAME)


def test_replicas_are_set_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PLATOONS_READ_DATABASE_URLS",
        '["postgresql://platoons@replica-1:5432/platoons", "postgresql://platoons@replica-2/platoons"]',
    )
    monkeypatch.setenv("PLATOONS_REPLICA_MAX_LAG_SECONDS", "2.5")
    settings = ReplicaSettings()
    assert [u.hosts()[0]["host"] for u in settings.read_database_urls] == [
        "replica-1",
        "replica-2",
    ]
    assert settings.replica_max_lag_seconds == 2.5
    assert ReplicaSettings(_env_file=None).replica_check_seconds == 1.0  # type: ignore[call-arg]
