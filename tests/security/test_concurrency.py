"""Writers racing over real HTTP never lose an update.

Requests run in parallel threads against a uvicorn server (one process, a pool of database
connections), released together by a barrier. The application row lock and If-Match decide:
exactly one of two writers of the same version wins, the other learns it was late (412, or
409 when the status moved on), and the audit log records each change that happened once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import psycopg
from fastapi.testclient import TestClient

from tests.security.conftest import Cast, Served, application_in

ROUNDS = 5


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, one thread each."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def audit_actions(conn: psycopg.Connection, application_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT action FROM audit_log WHERE entity = 'grant_application' AND entity_id = %s"
        " ORDER BY id",
        (str(application_id),),
    ).fetchall()
    return [r[0] for r in rows]


def test_two_edits_of_one_version_one_wins_the_other_gets_412(
    client: TestClient, logged_server: Served, cast: Cast, conn: psycopg.Connection
) -> None:
    owner = cast.headers("owner")
    with httpx.Client(base_url=logged_server.url, timeout=30) as http:
        for round_ in range(ROUNDS):
            application = application_in(client, cast, "draft")
            url = f"/applications/{application['id']}"
            titles = [f"Version A of round {round_}", f"Version B of round {round_}"]
            answers = race(
                [
                    partial(
                        http.patch, url, json={"title": t}, headers={**owner, "If-Match": '"1"'}
                    )
                    for t in titles
                ]
            )
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200, 412], [a.text for a in answers]
            winner = next(a for a in answers if a.status_code == 200).json()
            now = http.get(url, headers=owner).json()
            assert (now["title"], now["version"]) == (winner["title"], 2)
            assert audit_actions(conn, application["id"]) == [
                "application.create",
                "application.edit",
            ]


def test_writers_who_retry_on_412_all_get_their_change_in(
    logged_server: Served, client: TestClient, cast: Cast
) -> None:
    owner = cast.headers("owner")
    application = application_in(client, cast, "draft")
    url = f"/applications/{application['id']}"
    writers = 6

    def append(token: str) -> int:
        """Read, modify, write; on 412 read again. Returns how many attempts it took."""
        with httpx.Client(base_url=logged_server.url, timeout=30) as http:
            for attempt in range(1, 50):
                current = http.get(url, headers=owner)
                description = current.json()["description"] + f" [{token}]"
                answer = http.patch(
                    url,
                    json={"description": description},
                    headers={**owner, "If-Match": current.headers["etag"]},
                )
                if answer.status_code == 200:
                    return attempt
                assert answer.status_code == 412, answer.text
        raise AssertionError("never got in")

    attempts = race([partial(append, f"w{i}") for i in range(writers)])
    final = client.get(url, headers=owner).json()
    assert all(f"[w{i}]" in final["description"] for i in range(writers)), final["description"]
    assert final["version"] == 1 + writers
    assert max(attempts) > 1  # they really did collide


def test_racing_decisions_and_submissions_take_effect_once(
    logged_server: Served, client: TestClient, cast: Cast, conn: psycopg.Connection
) -> None:
    with httpx.Client(base_url=logged_server.url, timeout=30) as http:
        for _ in range(ROUNDS):
            draft = application_in(client, cast, "draft")
            submit = f"/applications/{draft['id']}/submit"
            answers = race([partial(http.post, submit, headers=cast.headers("owner"))] * 2)
            assert sorted(a.status_code for a in answers) == [200, 409]

            submitted = application_in(client, cast, "submitted")
            base = f"/applications/{submitted['id']}"
            calls: list[Callable[[], httpx.Response]] = [
                partial(http.post, f"{base}/approve", headers=cast.headers("officer")),
                partial(
                    http.post,
                    f"{base}/reject",
                    json={"reason": "not this time"},
                    headers=cast.headers("admin"),
                ),
            ]
            answers = race(calls)
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            winner: dict[str, Any] = next(a for a in answers if a.status_code == 200).json()
            assert (
                http.get(base, headers=cast.headers("admin")).json()["status"] == winner["status"]
            )
            decisions = [
                a for a in audit_actions(conn, submitted["id"]) if a.endswith(("approve", "reject"))
            ]
            step = {"approved": "approve", "rejected": "reject"}[winner["status"]]
            assert decisions == [f"application.{step}"]
