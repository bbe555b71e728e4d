"""Assertions on the service's responses, and the date it takes as today, shared by API tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from app.http import today_utc

PROBLEM = "application/problem+json"


def ok(response: Any, status: int = 200) -> Any:
    """Assert the response has ``status``; return its JSON body."""
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem of ``status`` (media type and body's status); return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def service_today(
    client: TestClient, today: date | None = None
) -> Iterator[Callable[[date], None]]:
    """Yield a setter of the date the service takes as today (``today`` first); undo after."""
    app: Any = client.app

    def set_today(day: date) -> None:
        app.dependency_overrides[today_utc] = lambda: day

    if today is not None:
        set_today(today)
    yield set_today
    app.dependency_overrides.pop(today_utc, None)
