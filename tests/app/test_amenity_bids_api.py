"""Bids to run threatened amenities over HTTP: the whole process with frozen dates, every
illegal step, roles, duplicates, the audit trail and the asset's map row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo import amenity_bids, rights
from tests.utils import factories
from tests.utils.databases import one_row
from tests.utils.http import PROBLEM, ok, problem, service_today

TRAFFORD, BLACKPOOL = "E08000009", "E06000009"
DAY = timedelta(days=1)
ON = date(2026, 3, 2)


@pytest.fixture(scope="module")
def keys(settings: DatabaseSettings) -> Iterator[dict[str, factories.Key]]:
    made = factories.Made()

    async def setup(aconn: psycopg.AsyncConnection) -> dict[str, factories.Key]:
        return {
            "group": await made.key(aconn, "group_manager"),
            "other_group": await made.key(aconn, "group_manager"),
            "officer": await made.key(aconn, "officer", [TRAFFORD]),
            "blackpool_officer": await made.key(aconn, "officer", [BLACKPOOL]),
        }

    yield factories.run(settings.dsn, setup)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


@pytest.fixture
def day(client: TestClient) -> Iterator[Any]:
    """Set the date the service takes as today (restored after the test)."""
    yield from service_today(client, ON)


def library(client: TestClient, keys: dict[str, factories.Key], **overrides: Any) -> int:
    body = factories.asset_body(category="library", owner_type="local_authority", **overrides)
    return int(ok(client.post("/assets", json=body, headers=keys["officer"].headers), 201)["id"])


def interest(client: TestClient, key: factories.Key, asset_id: int, **body: Any) -> Any:
    payload = {"threat": "closure", "proposal": "Volunteers run it four days a week.", **body}
    return client.post(f"/assets/{asset_id}/amenity-bids", json=payload, headers=key.headers)


def bid_step(client: TestClient, key: factories.Key, bid_id: int, step: str, **body: Any) -> Any:
    return client.post(f"/amenity-bids/{bid_id}/{step}", json=body, headers=key.headers)


def open_bids_on_map(conn: psycopg.Connection, asset_id: int) -> int:
    (bids,) = one_row(
        conn, "SELECT open_amenity_bids FROM asset_serving WHERE fid = %s", (asset_id,)
    )
    return int(bids)


def test_transition_table_is_what_the_docstring_says() -> None:
    expected = {
        "expressed": ["accept", "reject", "withdraw"],
        "accepted": ["withdraw", "complete", "fall_through"],
        "rejected": [],
        "withdrawn": [],
        "transferred": [],
        "fell_through": [],
    }
    assert {s: amenity_bids.allowed_bid_steps(s) for s in expected} == expected
    # The decision period is counted like a statutory one: 8 weeks beginning with the day.
    assert rights.period_end(ON, amenity_bids.DECISION_PERIOD) == ON + 8 * 7 * DAY - DAY


def test_a_bid_from_interest_to_transfer(
    client: TestClient, keys: dict[str, factories.Key], day: Any, conn: psycopg.Connection
) -> None:
    asset_id = library(client, keys)
    created = interest(client, keys["group"], asset_id)
    bid = ok(created, 201)
    assert created.headers["location"] == f"/amenity-bids/{bid['id']}"
    assert bid["status"] == "expressed" and bid["group"] == keys["group"].principal.name
    assert bid["expressed_on"] == ON.isoformat()
    assert bid["decision_due"] == (ON + 55 * DAY).isoformat()
    assert bid["allowed_steps"] == ["accept", "reject", "withdraw"]
    assert open_bids_on_map(conn, asset_id) == 1

    day(ON + 56 * DAY)  # the day after the decision was due
    late = ok(client.get(f"/amenity-bids/{bid['id']}"))
    assert late["decision_overdue"] is True
    accepted = ok(bid_step(client, keys["officer"], bid["id"], "accept"))
    assert (
        accepted["status"] == "accepted" and accepted["decided_on"] == (ON + 56 * DAY).isoformat()
    )
    assert accepted["decision_overdue"] is True

    day(ON + 120 * DAY)
    refused = problem(bid_step(client, keys["officer"], bid["id"], "complete"), 400)
    assert refused["parameter"] == "terms"
    done = ok(
        bid_step(
            client, keys["officer"], bid["id"], "complete", terms="25-year lease at peppercorn"
        )
    )
    assert done["status"] == "transferred" and done["allowed_steps"] == []
    assert done["ended_on"] == (ON + 120 * DAY).isoformat() and done["version"] == 3
    assert open_bids_on_map(conn, asset_id) == 0

    history = ok(client.get(f"/amenity-bids/{bid['id']}/history"))
    assert [(e["step"], e["from_status"], e["to_status"]) for e in history] == [
        ("express_interest", None, "expressed"),
        ("accept", "expressed", "accepted"),
        ("complete", "accepted", "transferred"),
    ]
    assert history[2]["details"] == {"terms": "25-year lease at peppercorn"}
    audited = conn.execute(
        "SELECT action FROM audit_log WHERE entity = 'amenity_bid' AND entity_id = %s ORDER BY id",
        (str(bid["id"]),),
    ).fetchall()
    assert [a for (a,) in audited] == [
        "amenity_bid.express_interest",
        "amenity_bid.accept",
        "amenity_bid.complete",
    ]
    listed = ok(client.get("/amenity-bids", params={"lad": TRAFFORD, "status": "transferred"}))
    assert bid["id"] in [b["id"] for b in listed]
    assert [b["id"] for b in ok(client.get(f"/assets/{asset_id}/amenity-bids"))] == [bid["id"]]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ([], "expressed"),
        (["accept"], "accepted"),
        (["reject"], "rejected"),
        (["withdraw"], "withdrawn"),
        (["accept", "complete"], "transferred"),
        (["accept", "fall_through"], "fell_through"),
    ],
)
def test_every_illegal_step_from_every_status_is_409_with_the_legal_ones(
    client: TestClient,
    keys: dict[str, factories.Key],
    day: Any,
    path: list[str],
    status: str,
) -> None:
    bid = ok(interest(client, keys["group"], library(client, keys)), 201)
    facts = {"reason": "the council found the money", "terms": "a licence"}
    for taken in path:
        ok(bid_step(client, keys["officer"], bid["id"], taken, **facts))
    allowed = amenity_bids.allowed_bid_steps(status)
    for illegal in set(amenity_bids.BID_STEPS) - set(allowed):
        body = problem(bid_step(client, keys["officer"], bid["id"], illegal, **facts), 409)
        assert body["allowed"] == allowed, illegal
    assert ok(client.get(f"/amenity-bids/{bid['id']}"))["status"] == status


def test_bad_bids_get_reasons_and_write_nothing(
    client: TestClient, keys: dict[str, factories.Key], day: Any, conn: psycopg.Connection
) -> None:
    pub = int(
        ok(
            client.post("/assets", json=factories.asset_body(), headers=keys["officer"].headers),
            201,
        )["id"]
    )
    before = conn.execute("SELECT count(*) FROM amenity_bid").fetchone()
    commercial = problem(interest(client, keys["group"], pub), 400)
    assert "state-owned" in commercial["detail"] and "nominate" in commercial["detail"]
    asset_id = library(client, keys)
    assert problem(interest(client, keys["group"], asset_id, proposal="short"), 422)
    assert problem(interest(client, keys["group"], asset_id, threat="boredom"), 422)
    future = problem(interest(client, keys["group"], asset_id, effective_on="2026-03-03"), 400)
    assert "future" in future["detail"]
    assert problem(client.post(f"/assets/{asset_id}/amenity-bids", json={}), 401)
    assert problem(interest(client, keys["group"], 987654321), 404)
    # An officer records for a named group, which must be known.
    unknown = problem(interest(client, keys["officer"], asset_id, group="Nobody At All"), 400)
    assert unknown["parameter"] == "group"
    assert problem(interest(client, keys["officer"], asset_id), 400)["parameter"] == "group"
    assert problem(interest(client, keys["blackpool_officer"], asset_id, group="x y"), 403)
    assert conn.execute("SELECT count(*) FROM amenity_bid").fetchone() == before

    first = ok(interest(client, keys["group"], asset_id), 201)
    duplicate = problem(interest(client, keys["group"], asset_id), 409)
    assert "already has an open bid" in duplicate["detail"]
    other = ok(
        interest(client, keys["officer"], asset_id, group=keys["other_group"].principal.name), 201
    )
    assert other["group"] == keys["other_group"].principal.name
    assert open_bids_on_map(conn, asset_id) == 2

    # Only the group itself (or an officer of the district) may withdraw; officers decide.
    assert problem(bid_step(client, keys["other_group"], first["id"], "withdraw", reason="x"), 403)
    assert problem(bid_step(client, keys["group"], first["id"], "accept"), 403)
    assert problem(bid_step(client, keys["blackpool_officer"], first["id"], "accept"), 403)
    stale = client.post(
        f"/amenity-bids/{first['id']}/accept",
        headers={**keys["officer"].headers, "If-Match": '"7"'},
    )
    assert problem(stale, 412)
    assert (
        problem(bid_step(client, keys["officer"], first["id"], "reject"), 400)["parameter"]
        == "reason"
    )
    early = bid_step(client, keys["officer"], first["id"], "accept", effective_on="2026-03-01")
    assert "before the bid's last step" in problem(early, 400)["detail"]
    withdrawn = ok(bid_step(client, keys["group"], first["id"], "withdraw", reason="merged"))
    assert withdrawn["status"] == "withdrawn" and withdrawn["reason"] == "merged"
    assert open_bids_on_map(conn, asset_id) == 1
    # Once withdrawn, the group may bid again.
    assert ok(interest(client, keys["group"], asset_id), 201)["status"] == "expressed"
    assert problem(client.get("/amenity-bids/987654321"), 404)


def test_history_and_eligibility_are_read_only(client: TestClient) -> None:
    for part in ("history", "eligibility"):
        response = client.post(f"/assets/1/{part}")
        assert response.status_code == 405 and response.headers["allow"] == "GET"
        assert response.headers["content-type"] == PROBLEM
    spec = client.get("/openapi.json").json()
    export = spec["paths"]["/assets.geojson"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/geo+json"]
