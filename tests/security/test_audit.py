"""The audit log: every write records who, when, and the state before and after; and the
database refuses to change or empty it (UPDATE, DELETE, TRUNCATE), whoever asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from tests.security.conftest import CALLERS, Cast
from tests.security.test_roles import POLICY, ROUTES

pytestmark = pytest.mark.usefixtures("generous_limits")

# How each route's write is named in the log: (action prefix, entity); None for reads.
AUDITED: dict[str, tuple[str, str] | None] = {
    "POST /eligibility": None,
    "POST /crime/summary": None,
    "POST /crime/summary.csv": None,
    "PUT /programmes/{programmeId}": ("programme.", "grant_programme"),
    "POST /applications": ("application.create", "grant_application"),
    "PATCH /applications/{applicationId}": ("application.edit", "grant_application"),
    "POST /applications/{applicationId}/submit": ("application.submit", "grant_application"),
    "POST /applications/{applicationId}/approve": ("application.approve", "grant_application"),
    "POST /applications/{applicationId}/reject": ("application.reject", "grant_application"),
    "POST /applications/{applicationId}/pay": ("application.pay", "grant_application"),
    "POST /assets": ("asset.record", "asset"),
    "POST /assets/{assetId}/{step}": ("asset.", "asset"),
    "POST /assets/{assetId}/amenity-bids": ("amenity_bid.express_interest", "amenity_bid"),
    "POST /amenity-bids/{bidId}/{step}": ("amenity_bid.", "amenity_bid"),
    "POST /groups": ("group.create", "community_group"),
    "PATCH /groups/{reference}": ("group.edit", "community_group"),
    "POST /groups/{reference}/managers": ("group.add_manager", "community_group"),
    "POST /groups/{reference}/activities": ("group.activity", "group_activity"),
    "POST /groups/{reference}/messages": ("group.message", "group_message"),
    "POST /groups/{reference}/ratings": ("group.rate", "group_rating"),
    "POST /groups/{reference}/ratings/{ratingId}/moderation": (
        "group.moderate_rating",
        "group_rating",
    ),
    "POST /organisers": ("organiser.create", "organiser"),
    "PATCH /organisers/{reference}": ("organiser.edit", "organiser"),
    "POST /neighbourhood-areas": ("neighbourhood_area.apply", "neighbourhood_area"),
    "POST /neighbourhood-areas/{areaId}/{step}": ("neighbourhood_area.", "neighbourhood_area"),
    "POST /neighbourhood-areas/{areaId}/forums": (
        "neighbourhood_forum.apply",
        "neighbourhood_forum",
    ),
    "POST /neighbourhood-forums/{forumId}/{step}": ("neighbourhood_forum.", "neighbourhood_forum"),
    "POST /neighbourhood-areas/{areaId}/plans": ("neighbourhood_plan.draft", "neighbourhood_plan"),
    "POST /neighbourhood-plans/{planId}/{step}": ("neighbourhood_plan.", "neighbourhood_plan"),
    "POST /neighbourhood-areas/{areaId}/levy-receipts": (
        "neighbourhood_levy.receipt",
        "neighbourhood_levy",
    ),
    "PUT /neighbourhood-areas/{areaId}/dwellings": (
        "neighbourhood_levy.dwellings",
        "neighbourhood_levy",
    ),
    "POST /coverage/refresh": ("coverage.refresh", "coverage"),
    "POST /coverage/snapshots": ("coverage.snapshot", "coverage_snapshot"),
}
# Writes anyone makes without a key: the log names the actor "public".
PUBLIC_WRITES = {"POST /groups/{reference}/messages", "POST /groups/{reference}/ratings"}
# Actions that create what they log (no state before them).
CREATING = (
    ".create",
    ".activity",
    ".rate",
    ".message",
    ".express_interest",
    ".refresh",
    ".snapshot",
    # Neighbourhood planning: an application, a draft plan, a receipt, a year's first count.
    ".apply",
    ".draft",
    ".receipt",
    ".dwellings",
)
APPEND_ONLY = ("audit_log", "asset_event", "amenity_bid_event", "planning_event")


def _entries_after(conn: psycopg.Connection, last_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM audit_log WHERE id > %s ORDER BY id", (last_id,))
        return list(cur.fetchall())


def _last_id(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("route", ROUTES)
def test_every_write_records_actor_time_before_and_after(
    client: TestClient, cast: Cast, conn: psycopg.Connection, route: str
) -> None:
    assert route in AUDITED, f"say how {route} is audited"
    audited = AUDITED[route]
    for rule in POLICY[route]:
        # The first caller the route admits (a key, so the actor is named; for the public
        # writes, no key at all).
        admitted = [
            (w, s)
            for w, s in zip(CALLERS, rule.statuses, strict=True)
            if s < 400 and (w != "anonymous") != (route in PUBLIC_WRITES)
        ]
        if not admitted:  # nobody writes through it (a read-only resource refusing POST)
            assert audited is None, route
            continue
        who, status = admitted[0]
        attempt = rule.prepare(client, cast, who)
        last = _last_id(conn)
        started = datetime.now(UTC)
        response = client.request(
            attempt.method,
            attempt.url,
            json=attempt.body,
            headers={**attempt.headers, **cast.headers(who)},
        )
        finished = datetime.now(UTC)
        assert response.status_code == status, response.text
        entries = _entries_after(conn, last)
        if audited is None:
            assert entries == [], f"{route} is a read but wrote {entries}"
            continue
        action, entity = audited
        actor = "public" if who == "anonymous" else cast.keys[who].principal.actor
        mine = [e for e in entries if e["action"].startswith(action) and e["entity"] == entity]
        assert mine, (route, [e["action"] for e in entries])
        for entry in entries:
            assert entry["actor"] == actor, (route, entry["actor"])
            assert entry["at"].tzinfo is not None
            # Database time (now() at the transaction's start) against this clock: same host.
            assert started - timedelta(seconds=5) <= entry["at"] <= finished, route
            assert entry["after"] is not None and entry["entity_id"]
        entry = mine[-1]
        body = response.json()
        if "id" in body and entity != "grant_programme":
            assert entry["entity_id"] == str(body["id"])
            assert entry["after"].get("version", body.get("version")) == body.get("version")
        created = action.endswith(CREATING) or action == "asset.record"
        if created:
            assert entry["before"] is None
        elif entity != "grant_programme":
            assert entry["before"] is not None and entry["before"] != entry["after"]


def test_the_audit_trail_of_an_application_tells_its_whole_story(
    client: TestClient, cast: Cast, conn: psycopg.Connection
) -> None:
    from tests.security.conftest import application_in

    application = application_in(client, cast, "paid")
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT action, actor, before, after FROM audit_log"
            " WHERE entity = 'grant_application' AND entity_id = %s ORDER BY id",
            (str(application["id"]),),
        )
        trail = cur.fetchall()
    assert [t["action"] for t in trail] == [
        "application.create",
        "application.submit",
        "application.approve",
        "application.pay",
    ]
    owner, officer = cast.keys["owner"].principal.actor, cast.keys["officer"].principal.actor
    assert [t["actor"] for t in trail] == [owner, owner, officer, officer]
    statuses = (
        [(t["before"] or {}).get("status") for t in trail],
        [t["after"]["status"] for t in trail],
    )
    assert statuses == (
        [None, "draft", "submitted", "approved"],
        ["draft", "submitted", "approved", "paid"],
    )
    # Each entry's "after" is the next one's "before": nothing happened off the record.
    for earlier, later in zip(trail, trail[1:], strict=False):
        assert earlier["after"] == later["before"]


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET actor = 'someone else' WHERE id = (SELECT max(id) FROM {table})",
        "DELETE FROM {table} WHERE id = (SELECT max(id) FROM {table})",
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
    ],
)
def test_the_database_refuses_to_rewrite_history(
    conn: psycopg.Connection, cast: Cast, table: str, statement: str
) -> None:
    exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    assert exists is not None and exists[0] is not None, f"{table} is missing"
    if table == "asset_event":
        statement = statement.replace("actor = 'someone else'", "step = 'edited'")
    before = conn.execute(f"SELECT count(*), max(id) FROM {table}").fetchone()  # noqa: S608
    # Even the superuser the tests connect as: the refusal is a trigger, not a grant.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement.format(table=table))
    assert conn.execute(f"SELECT count(*), max(id) FROM {table}").fetchone() == before  # noqa: S608
