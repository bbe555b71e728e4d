"""If-Match on every versioned resource's writes: one rule (app/versions.py) for all four.

Applications, assets, neighbourhood groups and organisers each take a write with the version
last seen; a stale version, one no row can have, or a tag that is not ours is 412 and writes
nothing; the current version (strong or weak) and ``*`` are accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import Cast, application_in, new_group, organiser_body
from tests.utils import factories


@dataclass(frozen=True)
class Write:
    """A versioned write to try: where, with what, as whom."""

    method: str
    url: str
    body: dict[str, Any]
    headers: dict[str, str]


def _application(client: TestClient, cast: Cast) -> Write:
    application = application_in(client, cast, "draft")
    url = f"/applications/{application['id']}"
    return Write("PATCH", url, {"title": "Changed"}, cast.headers("owner"))


def _asset(client: TestClient, cast: Cast) -> Write:
    created = client.post("/assets", json=factories.asset_body(), headers=cast.headers("officer"))
    assert created.status_code == 201, created.text
    url = f"/assets/{created.json()['id']}/nominate"
    return Write("POST", url, factories.nomination(), cast.headers("owner"))


def _group(client: TestClient, cast: Cast) -> Write:
    url = f"/groups/{new_group(client, cast)['reference']}"
    return Write("PATCH", url, {"description": "Changed"}, cast.headers("owner"))


def _organiser(client: TestClient, cast: Cast) -> Write:
    created = client.post("/organisers", json=organiser_body(cast), headers=cast.headers("admin"))
    assert created.status_code == 201, created.text
    url = f"/organisers/{created.json()['reference']}"
    return Write("PATCH", url, {"active": False}, cast.headers("admin"))


RESOURCES: dict[str, Callable[[TestClient, Cast], Write]] = {
    "application": _application,
    "asset": _asset,
    "group": _group,
    "organiser": _organiser,
}
# Header values as bytes: the service reads them as Latin-1 (RFC 9110, 5.5), so b"\xb2" is "²".
STALE = [b'"2"', b'"2147483648"', b'"99999999999"', b'"\xb2"', b"garbage", b'"-1"']
CURRENT = [b'"1"', b'W/"1"', b"*"]


@pytest.fixture(params=RESOURCES)
def write(request: pytest.FixtureRequest, client: TestClient, cast: Cast) -> Write:
    """A new resource of each kind and its versioned write (version 1 last seen)."""
    return RESOURCES[request.param](client, cast)


def _attempt(client: TestClient, write: Write, if_match: bytes) -> httpx.Response:
    """Try the write with this If-Match."""
    headers: dict[str, Any] = {**write.headers, "If-Match": if_match}
    return client.request(write.method, write.url, json=write.body, headers=headers)


def _latin1(tag: bytes) -> str:
    return tag.decode("latin-1")


@pytest.mark.parametrize("if_match", STALE, ids=_latin1)
def test_an_if_match_naming_no_current_version_is_412_and_writes_nothing(
    client: TestClient, write: Write, if_match: bytes
) -> None:
    response = _attempt(client, write, if_match)
    assert response.status_code == 412, response.text
    assert response.headers["content-type"] == "application/problem+json"
    read = client.get(write.url.removesuffix("/nominate"), headers=write.headers)
    assert read.status_code == 200 and read.json()["version"] == 1


@pytest.mark.parametrize("if_match", CURRENT, ids=_latin1)
def test_the_current_version_or_any_is_accepted_and_the_answer_names_the_next(
    client: TestClient, write: Write, if_match: bytes
) -> None:
    response = _attempt(client, write, if_match)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["etag"].removeprefix("W/") == '"2"'
