"""The security suite's cast: a programme, a key for every role and scope, and a revoked key.

Private fields are seeded with unique markers (``MARKER`` + a tag), so that a scan can look
for them in every public answer, error body and log line.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
import shapely
import uvicorn
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.dependencies import group_settings
from app.main import create_app
from app.security import JsonFormatter, RequestIdFilter
from config.settings import DatabaseSettings, GroupSettings
from geo import access
from geo.grants import checks
from geo.groups.models import CODE_OF_CONDUCT_VERSION
from tests.utils import factories, sources
from tests.utils.databases import GROUP_REGISTER_TABLES, table_digest
from tests.utils.service import service_settings

TRAFFORD, BLACKPOOL = "E08000009", "E06000009"
_LOOKUP = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
_IMD = sources.csv(sources.IOD2025).set_index("lsoa21_code")["IMD_decile"]
# A Trafford LSOA in the most deprived decile: eligible for the cast's programme.
AREA = min(c for c in _LOOKUP.index[_LOOKUP["ltla24_code"] == TRAFFORD] if _IMD[c] == 1)
MARKER = "PLTSECRET"  # every seeded private value starts with it, so one search finds all

# The tables a request could write; "nothing was written" means none of them changed.
WATCHED_TABLES = (
    "grant_programme",
    "grant_application",
    "match_pledge",
    "api_key",
    "audit_log",
    "programme_lsoa_eligibility",
    "asset",
    "asset_event",
    "asset_serving",
    "amenity_bid",
    "amenity_bid_event",
    "data_version",
    *GROUP_REGISTER_TABLES,
    "group_lsoa",
    "organiser",
    "organiser_serving",
    "organiser_lsoa",
    "neighbourhood_area",
    "neighbourhood_forum",
    "neighbourhood_plan",
    "planning_event",
    "levy_receipt",
    "area_dwelling_count",
    "neighbourhood_area_serving",
)


def marker(tag: str) -> str:
    """A unique private value that a scan can find."""
    return f"{MARKER}-{tag}-{uuid.uuid4().hex[:10]}"


@dataclass
class Cast:
    """The programme and the callers of the security tests (and the markers seeded)."""

    programme: checks.Programme
    keys: dict[str, factories.Key]
    revoked: factories.Key
    markers: set[str] = field(default_factory=set)

    def headers(self, who: str) -> dict[str, str]:
        """Request headers presenting ``who``'s key (none for ``anonymous``)."""
        if who == "anonymous":
            return {}
        if who == "revoked":
            return self.revoked.headers
        return self.keys[who].headers


CALLERS = ("anonymous", "revoked", "owner", "other_group", "officer", "other_officer", "admin")


@pytest.fixture(scope="session")
def cast(settings: DatabaseSettings) -> Iterator[Cast]:
    made = factories.Made()

    async def setup(aconn: psycopg.AsyncConnection) -> Cast:
        programme = await made.programme(
            aconn,
            name="Security test grants",
            budget=Decimal("5000000"),
            award_max=Decimal("20000"),
            rule={"kind": "index", "domain": "imd", "decile_at_most": 10},
        )
        keys = {
            "owner": await made.key(aconn, "group_manager"),
            "other_group": await made.key(aconn, "group_manager"),
            "officer": await made.key(aconn, "officer", [TRAFFORD]),
            "other_officer": await made.key(aconn, "officer", [BLACKPOOL]),
            "admin": await made.key(aconn, "admin"),
        }
        revoked = await made.key(aconn, "admin")
        assert await access.revoke_key(aconn, revoked.id)
        return Cast(programme=programme, keys=keys, revoked=revoked)

    found = factories.run(settings.dsn, setup)
    # Key secrets are private; so are their stored hashes (a hash is a password equivalent
    # for anyone who can query by it).
    for key in (*found.keys.values(), found.revoked):
        found.markers.add(key.secret)
        found.markers.add(access.hash_secret(key.secret))
    yield found
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        # Groups outlive the keys that managed them (their history is kept).
        conn.execute("DELETE FROM group_manager WHERE key_id = ANY(%s)", (made.key_ids,))
        made.drop(conn)


def draft(cast: Cast, amount: str = "3000.00", **overrides: Any) -> dict[str, Any]:
    """An application body for the cast's programme and area."""
    return factories.draft(cast.programme.id, {"code": AREA}, amount, **overrides)


# Neighbourhood groups and organisers (geo/groups.py, geo/organisers.py): a small square in AREA
# (so that the tiles the scans fetch hold it), with every private field a marker.
_AREA_POINT = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[AREA]
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)


def area_point() -> tuple[float, float]:
    """The point (lon, lat) inside AREA that the groups' squares are centred on."""
    return _AREA_POINT


def area_square(side: float = 250.0) -> dict[str, Any]:
    """A GeoJSON square (lon/lat) of ``side`` metres around a point inside AREA."""
    x, y = _TO_BNG.transform(*_AREA_POINT)
    box = shapely.segmentize(
        shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2), 25
    )
    lonlat = shapely.transform(box, _TO_LONLAT.transform, interleaved=False)
    return dict(json.loads(shapely.to_geojson(lonlat)))


def group_body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    """A new group in AREA whose leader's contact details and address are markers."""
    leader = {
        "name": "Pat Leader",
        "email": f"{marker('leader-email')}@example.invalid",
        "phone": f"0161 {uuid.uuid4().int % 10**7:07d}",
        "address": f"{marker('leader-address')}, 2 Test Road",
    }
    cast.markers.update({leader["email"], leader["phone"], leader["address"]})
    return {
        "name": f"Security test group {uuid.uuid4().hex[:8]}",
        "kind": "new_group",
        "description": "Neighbours meeting to look after the street.",
        "leader": leader,
        "code_of_conduct": {"version": CODE_OF_CONDUCT_VERSION, "accepted_on": "2026-11-01"},
        "geometry": area_square(),
        **overrides,
    }


def new_group(
    client: TestClient, cast: Cast, who: str = "owner", **overrides: Any
) -> dict[str, Any]:
    """A group registered over HTTP by ``who``."""
    response = client.post("/groups", json=group_body(cast, **overrides), headers=cast.headers(who))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def organiser_body(cast: Cast, **overrides: Any) -> dict[str, Any]:
    """A new organiser working AREA whose e-mail and phone are markers."""
    email, phone = (
        f"{marker('organiser-email')}@example.invalid",
        f"0161 {uuid.uuid4().int % 10**7:07d}",
    )
    cast.markers.update({email, phone})
    return {
        "name": f"Security test organiser {uuid.uuid4().hex[:6]}",
        "email": email,
        "phone": phone,
        "training_centre": "Test Organising Centre",
        "trained_on": "2026-06-01",
        "geometry": area_square(1500.0),
        **overrides,
    }


@pytest.fixture(scope="module")
def generous_limits(client: TestClient) -> Iterator[None]:
    """Abuse limits high enough for every caller to rate and write from the one test client."""
    app: Any = client.app
    generous = GroupSettings(
        group_ratings_per_day=10_000, group_messages_per_hour=10_000, group_messages_per_day=10_000
    )
    app.dependency_overrides[group_settings] = lambda: generous
    yield
    app.dependency_overrides.pop(group_settings, None)


def etag_version(response: httpx.Response) -> int:
    """The version an application's ETag names (W/ when compressed)."""
    return int(response.headers["etag"].removeprefix("W/").strip('"'))


def application_in(
    client: TestClient, cast: Cast, state: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An application of the owner's taken to ``state`` over HTTP."""
    created = client.post("/applications", json=body or draft(cast), headers=cast.headers("owner"))
    assert created.status_code == 201, created.text
    application: dict[str, Any] = created.json()
    steps = {
        "draft": (),
        "submitted": ("submit",),
        "approved": ("submit", "approve"),
        "rejected": ("submit", "reject"),
        "paid": ("submit", "approve", "pay"),
    }[state]
    for step in steps:
        who = "owner" if step == "submit" else "officer"
        payload = {"reason": f"{marker('reason')} not in the aims"} if step == "reject" else None
        response = client.post(
            f"/applications/{application['id']}/{step}", json=payload, headers=cast.headers(who)
        )
        assert response.status_code == 200, response.text
        application = response.json()
    assert application["status"] == state
    return application


def db_fingerprint(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and a content digest of every watched table that exists."""
    state: dict[str, tuple[int, str]] = {}
    for table in WATCHED_TABLES:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if exists is None or exists[0] is None:
            continue
        state[table] = table_digest(conn, table)
    return state


# ---------------------------------------------------------------------------------------------
# A real server whose logs are kept


class KeptLogs(logging.Handler):
    """Keep every record as the service's JSON line (message, fields, traceback)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Served:
    """A uvicorn server of the app, on loopback, with its logs."""

    url: str
    logs: KeptLogs


@pytest.fixture(scope="session")
def logged_server(settings: DatabaseSettings) -> Iterator[Served]:
    """Serve the app with uvicorn (access log on) and keep every log record it writes."""
    kept = KeptLogs()
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    loggers.append(logging.getLogger("platoons"))
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(kept)
        lg.setLevel(logging.DEBUG if lg.name == "platoons" else logging.INFO)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(service_settings(settings)),
        log_config=None,  # leave logging alone: the handler above keeps what is written
        log_level="info",
        access_log=True,
        lifespan="on",
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="logged-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", kept)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(kept)
            lg.setLevel(level)


@pytest.fixture(scope="session")
def lenient(settings: DatabaseSettings) -> Iterator[TestClient]:
    """A client that sees an unhandled error as the 500 a real client gets (not a raise)."""
    with TestClient(
        create_app(service_settings(settings)), raise_server_exceptions=False
    ) as test_client:
        yield test_client
