"""Neighbourhood groups over HTTP: register, read (public or private by caller), edit with
If-Match, the listing's filters and pages, finding a group, activity, ratings and messages with
their abuse limits (429 + Retry-After), the map layer and tiles, and every bad input as a 4xx
problem that writes nothing."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from app.dependencies import group_settings
from app.http import today_utc
from app.main import create_app
from config.settings import DatabaseSettings, GroupSettings
from geo import groups
from geo.sqlfiles import read_sql
from tests.geo.test_groups import (
    BLACKPOOL,
    MANCHESTER,
    PRIVATE_FIELDS,
    TO_BNG,
    TO_LONLAT,
    TODAY,
    TRAFFORD,
    WOKINGHAM,
    Keys,
    group_body,
    inside,
    square,
    table_state,
)
from tests.utils import factories, sources
from tests.utils.http import ok, problem, service_today
from tests.utils.service import service_settings

ADDRESSES = itertools.count(1)
Freeze = Callable[[date], None]


@pytest.fixture(scope="module")
def keys(settings: DatabaseSettings) -> Iterator[Keys]:
    yield from factories.module_callers(settings.dsn, TRAFFORD, BLACKPOOL)


@pytest.fixture
def freeze(client: TestClient) -> Iterator[Freeze]:
    """Set the date the service takes as today (restored after the test)."""
    yield from service_today(client, TODAY)


@pytest.fixture
def visitor(settings: DatabaseSettings) -> Iterator[Callable[..., TestClient]]:
    """Clients at their own addresses (abuse limits are per sender), with chosen settings."""
    opened: list[TestClient] = []

    def open_client(**settings_overrides: Any) -> TestClient:
        address = f"198.51.100.{next(ADDRESSES)}"  # TEST-NET-2: one per visitor
        app = create_app(service_settings(settings))
        app.dependency_overrides[today_utc] = lambda: TODAY
        chosen = GroupSettings(**settings_overrides)
        app.dependency_overrides[group_settings] = lambda: chosen
        client = TestClient(app, client=(address, 50000))
        client.__enter__()
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


def register(client: TestClient, key: factories.Key, body: dict[str, Any]) -> dict[str, Any]:
    return ok(client.post("/groups", json=body, headers=key.headers), 201)


def meet(client: TestClient, key: factories.Key, reference: str, held_on: date) -> None:
    ok(
        client.post(
            f"/groups/{reference}/activities",
            json={"kind": "meeting", "held_on": held_on.isoformat(), "title": "Meeting"},
            headers=key.headers,
        ),
        201,
    )


def test_register_read_and_edit(client: TestClient, keys: Keys, freeze: Freeze) -> None:
    body = group_body(*inside(TRAFFORD))
    response = client.post("/groups", json=body, headers=keys.manager.headers)
    created = ok(response, 201)
    reference = created["reference"]
    assert response.headers["location"] == f"/groups/{reference}"
    assert response.headers["etag"].removeprefix("W/") == '"1"'
    assert created["leader_email"] == body["leader"]["email"]
    assert created["join_url"] == f"/groups/{reference}/messages"
    public = ok(client.get(f"/groups/{reference}"))
    assert not set(PRIVATE_FIELDS) & set(public)
    assert body["leader"]["email"] not in str(public) and body["leader"]["phone"] not in str(public)
    assert public["leader_name"] == "Alex Leader" and public["geometry"]["type"] == "MultiPolygon"
    for who in ("manager", "officer", "admin"):
        seen = ok(client.get(f"/groups/{reference}", headers=getattr(keys, who).headers))
        assert seen["leader_address"] == body["leader"]["address"], who
    for who in ("other_manager", "other_officer"):
        seen = ok(client.get(f"/groups/{reference}", headers=getattr(keys, who).headers))
        assert "leader_email" not in seen, who
    url = f"/groups/{reference}"
    stale = client.patch(
        url, json={"name": "Late"}, headers={**keys.manager.headers, "If-Match": '"7"'}
    )
    problem(stale, 412)
    edited = client.patch(
        url,
        json={"meeting_place": "The library"},
        headers={**keys.manager.headers, "If-Match": '"1"'},
    )
    assert ok(edited)["meeting_place"] == "The library"
    assert edited.headers["etag"].removeprefix("W/") == '"2"'
    problem(client.patch(url, json={"name": "Mine"}, headers=keys.other_manager.headers), 403)
    problem(client.patch(url, json={"name": "Mine"}, headers=keys.other_officer.headers), 403)
    problem(client.patch(url, json={"name": "Mine"}), 401)
    problem(client.get("/groups/NG-99999999"), 404)
    problem(client.get("/groups/NG-1"), 422)


def test_a_write_kept_waiting_past_the_statement_timeout_is_a_503_that_writes_nothing(
    settings: DatabaseSettings, keys: Keys
) -> None:
    """A group write waits for the coverage write lock while another transaction (a national
    recompute, here one that takes the lock and idles) holds it; past the service's statement
    timeout the write is answered 503 with Retry-After and the group is as it was. Reads do
    not wait."""
    app = create_app(service_settings(settings.model_copy(update={"statement_timeout_ms": 500})))
    app.dependency_overrides[today_utc] = lambda: TODAY
    with TestClient(app) as client:
        made = register(client, keys.manager, group_body(*inside(TRAFFORD)))
        url = f"/groups/{made['reference']}"
        rename = {"json": {"name": "Renamed while locked"}, "headers": keys.manager.headers}
        with psycopg.connect(settings.dsn) as holder:
            holder.execute(read_sql("geo", "coverage/write_lock.sql"))
            response = client.patch(url, **rename)
            problem(response, 503)
            assert response.headers["retry-after"] == "5"
            unchanged = ok(client.get(url, headers=keys.manager.headers))
            holder.rollback()
        assert (unchanged["name"], unchanged["version"]) == (made["name"], made["version"])
        assert ok(client.patch(url, **rename))["name"] == "Renamed while locked"


def _bad_bodies() -> dict[str, tuple[dict[str, Any], int, str]]:
    x, y = inside(TRAFFORD)
    mx, my = inside(MANCHESTER)
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [
                list(TO_LONLAT.transform(px, py))
                for px, py in ((x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300), (x, y))
            ]
        ],
    }
    return {
        "self-intersecting": (group_body(x, y, geometry=bow_tie), 400, "Self-intersection"),
        "too large": (group_body(x, y, side=7500), 400, "at most 50.00 km²"),
        "outside England": (
            group_body(x, y, geometry=square(318_000, 176_000, 500)),  # Cardiff, in BNG
            400,
            "outside the loaded English districts",
        ),
        "no code of conduct": (group_body(x, y, code_of_conduct=None), 400, "code of conduct"),
        "old code of conduct": (
            group_body(x, y, code_of_conduct={"version": "1999", "accepted_on": "2026-02-01"}),
            400,
            "not the current one",
        ),
        "no area": (group_body(x, y, geometry=None), 422, "exactly one of geometry or lsoa_codes"),
        "both areas": (group_body(mx, my, lsoa_codes=["E01005061"]), 422, "exactly one"),
        "a Welsh LSOA": (group_body(x, y, geometry=None, lsoa_codes=["W01000001"]), 422, "E01"),
        "an unknown kind": (group_body(x, y, kind="company"), 422, "kind"),
        "a leader without e-mail": (
            group_body(x, y, leader={"name": "Alex", "email": "alex"}),
            422,
            "e-mail",
        ),
        "an unknown organiser": (
            group_body(x, y, started_by_organiser="CO-99999999"),
            404,
            "CO-99999999",
        ),
        "a private field typed in": (group_body(x, y, lad_codes=[WOKINGHAM]), 422, "lad_codes"),
    }


@pytest.mark.parametrize("case", list(_bad_bodies()))
def test_bad_input_is_a_4xx_problem_and_writes_nothing(
    client: TestClient, keys: Keys, conn: psycopg.Connection, case: str
) -> None:
    body, status, reason = _bad_bodies()[case]
    before = table_state(conn)
    found = problem(client.post("/groups", json=body, headers=keys.manager.headers), status)
    assert reason in found["detail"], found
    assert table_state(conn) == before


def test_the_code_of_conduct_is_served(client: TestClient) -> None:
    served = ok(client.get("/groups/code-of-conduct"))
    assert served["version"] == groups.CODE_OF_CONDUCT_VERSION
    assert served["text"].startswith("Neighbourhood code of conduct (version 2026-1)")


def test_the_listing_filters_and_pages(client: TestClient, keys: Keys, freeze: Freeze) -> None:
    token = uuid.uuid4().hex[:10]
    x, y = inside(TRAFFORD)
    mx, my = inside(MANCHESTER)
    made = [
        register(client, keys.manager, group_body(x, y, name=f"Trafford {token} {i}"))
        for i in range(3)
    ] + [
        register(
            client,
            keys.manager,
            group_body(mx, my, name=f"Manchester {token}", kind="charity", registration_number="1"),
        )
    ]
    meet(client, keys.manager, made[0]["reference"], date(2026, 1, 10))
    everything = ok(client.get("/groups", params={"q": token.upper()}))
    assert everything["number_matched"] == 4
    assert [g["reference"] for g in everything["groups"]] == [g["reference"] for g in made]
    page = ok(client.get("/groups", params={"q": token, "limit": 2, "offset": 2}))
    assert page["number_matched"] == 4 and len(page["groups"]) == 2
    beyond = ok(client.get("/groups", params={"q": token, "offset": 10}))
    assert beyond["number_matched"] == 4 and beyond["groups"] == []
    by_lad = ok(client.get("/groups", params={"q": token, "lad": MANCHESTER}))
    assert [g["name"] for g in by_lad["groups"]] == [f"Manchester {token}"]
    by_kind = ok(client.get("/groups", params={"q": token, "kind": "charity"}))
    assert by_kind["number_matched"] == 1
    lon, lat = TO_LONLAT.transform(mx, my)
    box = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    by_box = ok(client.get("/groups", params={"q": token, "bbox": box}))
    assert [g["name"] for g in by_box["groups"]] == [f"Manchester {token}"]
    world = ok(client.get("/groups", params={"q": token, "bbox": "-180,-90,180,90"}))
    assert world["number_matched"] == 4
    atlantic = ok(client.get("/groups", params={"q": token, "bbox": "-40,40,-30,45"}))
    assert atlantic["number_matched"] == 0
    active = ok(client.get("/groups", params={"q": token, "active": "true"}))
    assert [g["reference"] for g in active["groups"]] == [made[0]["reference"]]
    freeze(date(2027, 1, 11))
    assert ok(client.get("/groups", params={"q": token, "active": "true"}))["number_matched"] == 0
    assert all(not set(PRIVATE_FIELDS) & set(g) for g in everything["groups"])
    for params, status in (
        ({"bbox": "1,2,3"}, 422),
        ({"bbox": "a,b,c,d"}, 422),
        ({"limit": 0}, 422),
        ({"lad": "W06000001"}, 422),
    ):
        problem(client.get("/groups", params=params), status)
    # An inverted box (minimum above maximum) holds nothing: an empty page, not an error.
    assert ok(client.get("/groups", params={"bbox": "10,10,0,0"}))["number_matched"] == 0


def test_the_activity_window_follows_today_and_the_setting(
    client: TestClient, keys: Keys, freeze: Freeze
) -> None:
    made = register(client, keys.manager, group_body(*inside(TRAFFORD)))
    url = f"/groups/{made['reference']}"
    meet(client, keys.manager, made["reference"], date(2025, 11, 25))
    assert ok(client.get(url))["active"] is True  # today is the anniversary
    freeze(date(2026, 11, 26))
    assert ok(client.get(url))["active"] is False
    app: Any = client.app
    app.dependency_overrides[group_settings] = lambda: GroupSettings(group_active_months=13)
    try:
        assert ok(client.get(url))["active"] is True
    finally:
        app.dependency_overrides.pop(group_settings, None)


def test_the_activity_window_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLATOONS_GROUP_ACTIVE_MONTHS", "18")
    monkeypatch.setenv("PLATOONS_GROUP_MAX_AREA_KM2", "20")
    read = GroupSettings()
    assert (read.group_active_months, read.group_max_area_km2) == (18, 20.0)
    monkeypatch.setenv("PLATOONS_GROUP_ACTIVE_MONTHS", "0")
    with pytest.raises(ValueError, match="group_active_months"):
        GroupSettings()


def test_activity_over_http(client: TestClient, keys: Keys, freeze: Freeze) -> None:
    made = register(client, keys.manager, group_body(*inside(TRAFFORD)))
    url = f"/groups/{made['reference']}/activities"
    record = {
        "kind": "project",
        "held_on": "2026-10-01",
        "title": "Pocket park",
        "description": "Planting",
        "attendance": 12,
    }
    created = ok(client.post(url, json=record, headers=keys.officer.headers), 201)
    assert created["recorded_by"] == keys.officer.principal.actor
    assert ok(client.get(url)) == [
        {"kind": "project", "held_on": "2026-10-01", "title": "Pocket park"}
    ]
    assert ok(client.get(url, headers=keys.manager.headers))[0]["attendance"] == 12
    problem(
        client.post(url, json=record | {"held_on": "2026-11-26"}, headers=keys.manager.headers), 400
    )
    problem(client.post(url, json=record, headers=keys.other_manager.headers), 403)
    problem(client.post(url, json=record), 401)
    problem(client.post(url, json=record | {"kind": "party"}, headers=keys.manager.headers), 422)


def test_ratings_are_limited_moderated_and_published(
    client: TestClient,
    keys: Keys,
    freeze: Freeze,
    visitor: Callable[..., TestClient],
    conn: psycopg.Connection,
) -> None:
    made = register(client, keys.manager, group_body(*inside(TRAFFORD)))
    url = f"/groups/{made['reference']}/ratings"
    rater = visitor()
    rated = ok(rater.post(url, json={"stars": 4, "comment": "Friendly and useful"}), 201)
    assert rated["status"] == "pending" and "rater_fingerprint" not in rated
    before = table_state(conn)
    again = rater.post(url, json={"stars": 1, "comment": "Again"})
    problem(again, 429)
    assert 29 * 86400 < int(again.headers["retry-after"]) <= 30 * 86400
    assert table_state(conn) == before
    problem(rater.post(url, json={"stars": 6}), 422)
    assert ok(client.get(url)) == []
    moderation = f"{url}/{rated['id']}/moderation"
    problem(client.post(moderation, json={"decision": "publish"}), 401)
    problem(
        client.post(moderation, json={"decision": "publish"}, headers=keys.manager.headers), 403
    )
    problem(
        client.post(moderation, json={"decision": "publish"}, headers=keys.other_officer.headers),
        403,
    )
    problem(
        client.post(
            f"{url}/999999999/moderation",
            json={"decision": "publish"},
            headers=keys.officer.headers,
        ),
        404,
    )
    done = ok(client.post(moderation, json={"decision": "publish"}, headers=keys.officer.headers))
    assert done["status"] == "published" and len(done["rater_fingerprint"]) == 64
    shown = ok(client.get(url))
    assert [(r["stars"], r["comment"]) for r in shown] == [(4, "Friendly and useful")]
    assert "rater_fingerprint" not in shown[0]
    group = ok(client.get(f"/groups/{made['reference']}"))
    assert (group["rating_average"], group["rating_count"]) == (4.0, 1)
    pending = ok(client.get(url, params={"status": "pending"}, headers=keys.officer.headers))
    assert pending == []
    # The daily cap, per sender, over several groups.
    capped = visitor(group_ratings_per_day=2)
    others = [
        register(client, keys.manager, group_body(*inside(TRAFFORD, nth=i))) for i in range(3)
    ]
    for other in others[:2]:
        ok(capped.post(f"/groups/{other['reference']}/ratings", json={"stars": 5}), 201)
    refused = capped.post(f"/groups/{others[2]['reference']}/ratings", json={"stars": 5})
    assert "2 ratings per sender in a day" in problem(refused, 429)["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 86400


def test_the_relay_form_keeps_the_sender_private_and_is_limited(
    client: TestClient, keys: Keys, freeze: Freeze, visitor: Callable[..., TestClient]
) -> None:
    made = register(client, keys.manager, group_body(*inside(TRAFFORD)))
    url = f"/groups/{made['reference']}/messages"
    sender = visitor(group_messages_per_hour=1)
    message = {"name": "Jo", "email": "jo@example.invalid", "message": "Can I come on Tuesday?"}
    receipt = ok(sender.post(url, json=message), 202)
    assert receipt["group"] == made["reference"] and made["leader_email"] not in str(receipt)
    limited = sender.post(url, json=message)
    problem(limited, 429)
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    problem(client.get(url), 401)
    problem(client.get(url, headers=keys.other_manager.headers), 403)
    read = ok(client.get(url, headers=keys.manager.headers))
    assert [(m["sender_email"], m["message"]) for m in read] == [
        ("jo@example.invalid", "Can I come on Tuesday?")
    ]
    problem(sender.post("/groups/NG-99999999/messages", json=message), 404)
    problem(client.post(url, json=message | {"email": "not an address"}), 422)


def test_finding_a_group_by_point_and_postcode(
    client: TestClient, keys: Keys, freeze: Freeze
) -> None:
    postcodes = sources.csv(sources.POSTCODES)
    row = postcodes.iloc[len(postcodes) // 3]
    x, y = TO_BNG.transform(float(row["lon"]), float(row["lat"]))
    made = register(client, keys.manager, group_body(x, y, side=800))
    meet(client, keys.manager, made["reference"], TODAY)
    by_point = ok(client.get("/groups/near", params={"lon": row["lon"], "lat": row["lat"]}))
    assert made["reference"] in [g["group"]["reference"] for g in by_point["groups"]]
    by_postcode = ok(client.get("/groups/near", params={"postcode": row["postcode"]}))
    assert by_postcode["postcode"] == row["postcode"]
    assert [g["group"]["reference"] for g in by_postcode["groups"]] == [
        g["group"]["reference"] for g in by_point["groups"]
    ]
    distances = [g["distance_m"] for g in by_point["groups"]]
    assert distances == sorted(distances)
    assert all(not set(PRIVATE_FIELDS) & set(g["group"]) for g in by_point["groups"])
    problem(client.get("/groups/near"), 400)
    problem(client.get("/groups/near", params={"postcode": "SW1A 1AA"}), 404)
    problem(client.get("/groups/near", params={"postcode": "not one"}), 422)
    problem(client.get("/groups/near", params={"lon": -3.19, "lat": 55.95}), 404)
    problem(client.get("/groups/near", params={"lon": "nan", "lat": 53.4}), 422)


def test_the_map_layer_and_tiles_serve_public_fields_only(
    client: TestClient, keys: Keys, freeze: Freeze
) -> None:
    x, y = inside(WOKINGHAM)
    body = group_body(x, y, side=500)
    made = register(client, keys.manager, body)
    meet(client, keys.manager, made["reference"], TODAY)
    feature = ok(client.get(f"/collections/neighbourhood-groups/items/{made['reference']}"))
    props = feature["properties"]
    assert props["name"] == made["name"] and props["active"] is True
    assert props["leader_name"] == "Alex Leader" and not set(PRIVATE_FIELDS) & set(props)
    assert body["leader"]["email"] not in str(feature)
    lon, lat = TO_LONLAT.transform(x, y)
    for zoom in (6, 10, 14):
        tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, zoom)
        url = f"/collections/neighbourhood-groups/tiles/WebMercatorQuad/{zoom}/{tile.y}/{tile.x}"
        mvt = client.get(url)
        assert mvt.status_code == 200, mvt.text
        layers = mapbox_vector_tile.decode(mvt.content)
        features = [f for layer in layers.values() for f in layer["features"]]
        assert made["reference"] in [f["properties"].get("reference") for f in features], zoom
        assert body["leader"]["email"].encode() not in mvt.content
    # Unlisted: gone from the layer.
    unlisted = client.patch(
        f"/groups/{made['reference']}", json={"listed": False}, headers=keys.manager.headers
    )
    assert unlisted.status_code == 200 and unlisted.json()["listed"] is False, unlisted.text
    problem(client.get(f"/collections/neighbourhood-groups/items/{made['reference']}"), 404)
