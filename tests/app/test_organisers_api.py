"""Community organisers over HTTP: admins record and edit them (If-Match), the public sees no
contact details (records, listing, map layer), officers of the patch do, and progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from tests.geo.test_groups import (
    BLACKPOOL,
    MANCHESTER,
    TRAFFORD,
    Keys,
    group_body,
    inside,
    table_state,
)
from tests.geo.test_organisers import organiser_body
from tests.utils import factories, figures
from tests.utils.http import ok, problem

TABLES = ("organiser", "organiser_serving", "audit_log", "data_version")


@pytest.fixture(scope="module")
def keys(settings: DatabaseSettings) -> Iterator[Keys]:
    yield from factories.module_callers(settings.dsn, TRAFFORD, BLACKPOOL)


def record(client: TestClient, keys: Keys, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/organisers",
        json=organiser_body(*inside(TRAFFORD), **overrides),
        headers=keys.admin.headers,
    )
    created: dict[str, Any] = ok(response, 201)
    assert response.headers["location"] == f"/organisers/{created['reference']}"
    return created


def test_admins_record_organisers_and_only_they(
    client: TestClient, keys: Keys, conn: psycopg.Connection
) -> None:
    created = record(client, keys)
    assert created["lad_codes"] == [TRAFFORD] and created["email"].startswith("PLTSECRET")
    before = table_state(conn, TABLES)
    body = organiser_body(*inside(TRAFFORD))
    problem(client.post("/organisers", json=body), 401)
    for who in ("manager", "officer"):
        problem(client.post("/organisers", json=body, headers=getattr(keys, who).headers), 403)
    problem(
        client.post(
            "/organisers",
            json=organiser_body(*inside(TRAFFORD), side=30_000),
            headers=keys.admin.headers,
        ),
        400,
    )
    problem(
        client.post(
            "/organisers", json=body | {"trained_on": "2030-01-01"}, headers=keys.admin.headers
        ),
        400,
    )
    problem(
        client.post("/organisers", json=body | {"phone": "call me"}, headers=keys.admin.headers),
        422,
    )
    assert table_state(conn, TABLES) == before


def test_the_public_never_sees_contacts(client: TestClient, keys: Keys) -> None:
    created = record(client, keys)
    url = f"/organisers/{created['reference']}"
    public = ok(client.get(url))
    assert "email" not in public and created["email"] not in str(public)
    assert public["training_centre"] == created["training_centre"]
    assert ok(client.get(url, headers=keys.officer.headers))["email"] == created["email"]
    assert "email" not in ok(client.get(url, headers=keys.other_officer.headers))
    listing = ok(client.get("/organisers", params={"lad": TRAFFORD, "limit": 1000}))
    assert created["reference"] in [o["reference"] for o in listing["organisers"]]
    assert created["email"] not in str(listing) and created["phone"] not in str(listing)
    feature = ok(client.get(f"/collections/community-organisers/items/{created['reference']}"))
    assert feature["properties"]["name"] == created["name"]
    assert created["email"] not in str(feature)
    problem(client.get("/organisers/CO-99999999"), 404)
    problem(client.get("/organisers/NG-000001"), 404)  # not shaped like a reference


def test_edits_with_if_match_and_the_groups_they_started(client: TestClient, keys: Keys) -> None:
    created = record(client, keys)
    url = f"/organisers/{created['reference']}"
    problem(
        client.patch(
            url, json={"active": False}, headers={**keys.admin.headers, "If-Match": '"9"'}
        ),
        412,
    )
    problem(client.patch(url, json={"active": False}, headers=keys.officer.headers), 403)
    edited = client.patch(
        url,
        json={"active": False, "lsoa_codes": ["E01005061"]},
        headers={**keys.admin.headers, "If-Match": '"1"'},
    )
    assert ok(edited)["lad_codes"] == [MANCHESTER] and not edited.json()["active"]
    assert edited.headers["etag"].removeprefix("W/") == '"2"'
    group = ok(
        client.post(
            "/groups",
            json=group_body(*inside(TRAFFORD), started_by_organiser=created["reference"]),
            headers=keys.manager.headers,
        ),
        201,
    )
    assert group["started_by_organiser"] == created["reference"]
    seen = ok(client.get(url))
    assert seen["groups_started"] == 1 and seen["groups_started_references"] == [group["reference"]]


def test_progress_against_the_national_target(client: TestClient, keys: Keys) -> None:
    before = ok(client.get("/organisers/progress"))
    record(client, keys)
    after = ok(client.get("/organisers/progress"))
    assert after["target"] == 5000 and after["trained"] == before["trained"] + 1
    figures.assert_shown(after["share_of_target"], after["trained"] / 5000, figures.SHARE)
    with_synthetic = ok(client.get("/organisers/progress", params={"synthetic": "true"}))
    assert with_synthetic["includes_synthetic"] is True
    assert with_synthetic["trained"] >= after["trained"]
