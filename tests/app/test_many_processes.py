"""Several service processes on one database behave as one service: a write through one is
seen in the other's items and tiles within a second, public-write limits hold across them, and
the daily housekeeping runs once however many processes start.

Two real ``platoons serve`` processes (the first with two uvicorn workers) on two loopback
ports, against the suite's test database; clients are told apart by ``X-Forwarded-For``, as a
load balancer in front of them would send it (``platoons serve`` trusts it from loopback).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import psycopg
import pytest

from app.housekeeping import daily_jobs
from app.http import today_utc
from config.settings import DatabaseSettings
from tests.geo.test_groups import TO_LONLAT, TRAFFORD, group_body, inside
from tests.utils import factories
from tests.utils.services import ServiceProcess, start_service

# Every daily job the service runs, as it names them (planning deadlines joined with #19).
JOBS = {job.name for job in daily_jobs(12)}
SEEN_WITHIN_S = 1.0
TILE_ZOOM = 14


@pytest.fixture(scope="module")
def manager(settings: DatabaseSettings) -> Iterator[factories.Key]:
    """A group manager's API key (deleted afterwards with the groups it registered)."""
    made = factories.Made()
    key = factories.run(settings.dsn, lambda aconn: made.key(aconn, "group_manager"))
    yield key
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM group_manager WHERE key_id = ANY(%s)", (made.key_ids,))
        made.drop(conn)


@pytest.fixture(scope="module")
def services(
    settings: DatabaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two services (2 workers + 1) with housekeeping on, racing for today's daily jobs."""
    today = today_utc()
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM housekeeping_run WHERE day = %s", (today,))
        had_snapshot = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM coverage_snapshot WHERE taken_on = %s)", (today,)
        ).fetchone()
    logs = tmp_path_factory.mktemp("services")
    env = {
        "PLATOONS_HOUSEKEEPING": "true",
        # The tile caches must follow NOTIFY, not the poll: a poll slower than the deadline.
        "PLATOONS_DATA_VERSION_POLL_SECONDS": "30",
        "PLATOONS_GROUP_MESSAGES_PER_HOUR": "1",
    }
    first = start_service(settings.dsn, logs / "first.log", env, workers=2)
    second = start_service(settings.dsn, logs / "second.log", env)
    try:
        first.wait_until_healthy()
        second.wait_until_healthy()
        yield first, second
    finally:
        first.stop()
        second.stop()
        if had_snapshot == (False,):  # leave today's snapshots as the other tests found them
            with psycopg.connect(settings.dsn, autocommit=True) as conn:
                conn.execute("DELETE FROM coverage_snapshot WHERE taken_on = %s", (today,))


def visitor() -> dict[str, str]:
    """Headers of a new member of the public (a documentation IPv6 address of their own)."""
    return {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"}


def tile_references(service: ServiceProcess, tile: morecantile.Tile) -> set[str]:
    """The group references in one of the service's neighbourhood-groups tiles."""
    path = f"/collections/neighbourhood-groups/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
    response = service.client.get(path)
    assert response.status_code in (200, 204), response.text
    layers = mapbox_vector_tile.decode(response.content) if response.content else {}
    features = layers.get("neighbourhood-groups", {}).get("features", [])
    return {feature["properties"]["reference"] for feature in features}


def register(service: ServiceProcess, manager: factories.Key, nth: int) -> tuple[str, tuple]:
    """Register a group in Trafford through ``service``; its reference and lon/lat."""
    x, y = inside(TRAFFORD, nth=nth)
    response = service.client.post("/groups", json=group_body(x, y), headers=manager.headers)
    assert response.status_code == 201, response.text
    return response.json()["reference"], TO_LONLAT.transform(x, y)


def test_a_write_through_one_is_seen_in_the_others_items_and_tiles_within_a_second(
    services: tuple[ServiceProcess, ServiceProcess], manager: factories.Key
) -> None:
    first, second = services
    x, y = inside(TRAFFORD, nth=31)
    lon, lat = TO_LONLAT.transform(x, y)
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, TILE_ZOOM)
    before = tile_references(second, tile)  # now cached in the second process
    assert tile_references(second, tile) == before
    response = first.client.post("/groups", json=group_body(x, y), headers=manager.headers)
    assert response.status_code == 201, response.text
    written = time.monotonic()
    reference = response.json()["reference"]
    assert reference not in before
    item_seen = tile_seen = None
    while (item_seen is None or tile_seen is None) and time.monotonic() - written < 5:
        if item_seen is None:
            item = second.client.get(f"/collections/neighbourhood-groups/items/{reference}")
            if item.status_code == 200:
                item_seen = time.monotonic() - written
        if tile_seen is None and reference in tile_references(second, tile):
            tile_seen = time.monotonic() - written
        time.sleep(0.02)
    assert item_seen is not None and item_seen < SEEN_WITHIN_S, item_seen
    assert tile_seen is not None and tile_seen < SEEN_WITHIN_S, tile_seen


def test_a_client_limited_on_one_is_limited_on_the_other(
    services: tuple[ServiceProcess, ServiceProcess], manager: factories.Key
) -> None:
    first, second = services
    reference, _ = register(first, manager, nth=32)
    rater = visitor()
    rating = {"stars": 4, "comment": "Helpful"}
    url = f"/groups/{reference}/ratings"
    assert first.client.post(url, json=rating, headers=rater).status_code == 201
    refused = second.client.post(url, json=rating, headers=rater)
    assert refused.status_code == 429, refused.text
    assert 29 * 86400 < int(refused.headers["retry-after"]) <= 30 * 86400
    # Another member of the public is not limited by the first one's rating.
    assert second.client.post(url, json=rating, headers=visitor()).status_code == 201

    sender = visitor()
    message = {"name": "Jo", "email": "jo@example.invalid", "message": "Can I join?"}
    url = f"/groups/{reference}/messages"
    assert second.client.post(url, json=message, headers=sender).status_code == 202
    limited = first.client.post(url, json=message, headers=sender)
    assert limited.status_code == 429, limited.text  # one message an hour, on any process
    assert 0 < int(limited.headers["retry-after"]) <= 3600


def housekeeping_lines(service: ServiceProcess) -> list[dict[str, object]]:
    """The JSON log records in which a process reports housekeeping it did."""
    lines = [json.loads(line) for line in service.log_text().splitlines() if line.startswith("{")]
    return [r for r in lines if str(r.get("message", "")).startswith("housekeeping for")]


def test_housekeeping_runs_once_however_many_processes_start(
    services: tuple[ServiceProcess, ServiceProcess],
    settings: DatabaseSettings,
    conn: psycopg.Connection,
) -> None:
    today = today_utc()
    deadline = time.monotonic() + 60
    claimed: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        claimed = conn.execute(
            "SELECT job, ran_by FROM housekeeping_run WHERE day = %s", (today,)
        ).fetchall()
        if {job for job, _ in claimed} == JOBS:
            break
        time.sleep(0.1)
    assert sorted(job for job, _ in claimed) == sorted(JOBS)
    # Three processes started (two workers and one); one of them did the day's work.
    reports = [line for service in services for line in housekeeping_lines(service)]
    assert len(reports) == 1, reports
    # A process started now (a restart, a new host) finds the day done and does nothing.
    third = start_service(
        settings.dsn,
        Path(services[0].log).with_name("third.log"),
        {"PLATOONS_HOUSEKEEPING": "true"},
    )
    try:
        third.wait_until_healthy()
        deadline = time.monotonic() + 60
        while "housekeeping checked for" not in third.log_text():
            assert time.monotonic() < deadline, third.log_text()
            time.sleep(0.1)
        assert housekeeping_lines(third) == []
    finally:
        third.stop()
    again = conn.execute("SELECT job, ran_by FROM housekeeping_run WHERE day = %s", (today,))
    assert sorted(again.fetchall()) == sorted(claimed)
