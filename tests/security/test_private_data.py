"""Private data never leaks: not in public answers, tiles, exports, error bodies or logs.

Every private value is seeded with a unique marker: pledge evidence references, API key
secrets (and their stored hashes), rejection reasons, who decided (an officer key's name),
and everything about applications that were never approved (titles, descriptions,
applicants). Then every public GET route, enumerated from the OpenAPI document with path
parameters filled from real ids, is fetched in every format, and its body and headers, the
error bodies of refused callers, and every log line (in-process and from a real uvicorn
server) are searched for the markers.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo import access
from tests.security.conftest import (
    AREA,
    MARKER,
    TRAFFORD,
    Cast,
    Served,
    application_in,
    area_point,
    draft,
    group_body,
    marker,
    new_group,
    organiser_body,
)
from tests.utils import factories

# Every caller writes from the one test client: abuse limits are tested elsewhere.
pytestmark = pytest.mark.usefixtures("generous_limits")

# A point inside AREA (checked by the lookup in the fixture) and the tiles around it.
TMS = morecantile.tms.get("WebMercatorQuad")


@dataclass
class Seeded:
    """The applications made, by status, and the secret-named officer; the groups (listed and
    not) and organisers made, with their points."""

    applications: dict[str, dict[str, Any]]
    lon: float
    lat: float
    asset_id: int
    groups: list[str]
    organisers: list[str]
    group_lon: float
    group_lat: float
    bids: list[str]


def _seed_groups(
    client: TestClient, cast: Cast, officer: dict[str, str], conn: psycopg.Connection
) -> tuple[list[str], list[str]]:
    """A listed, active, rated and written-to group, an unlisted one, and an organiser; every
    private value a marker (leader contacts, unlisted names, pending and rejected comments,
    senders, organiser contacts, and the fingerprints kept for abuse limits)."""
    made = client.post("/organisers", json=organiser_body(cast), headers=cast.headers("admin"))
    assert made.status_code == 201, made.text
    organiser = made.json()["reference"]
    listed = new_group(client, cast, started_by_organiser=organiser)["reference"]
    hidden_name = marker("unlisted-name")
    hidden = new_group(
        client, cast, name=hidden_name, description=marker("unlisted-text"), listed=False
    )["reference"]
    cast.markers.add(hidden_name)
    today = factories.today().isoformat()
    for reference in (listed, hidden):
        response = client.post(
            f"/groups/{reference}/activities",
            json={
                "kind": "meeting",
                "held_on": today,
                "title": "Meeting",
                "description": marker("activity-notes") + " private minutes",
            },
            headers=cast.headers("owner"),
        )
        assert response.status_code == 201, response.text
        cast.markers.add(response.json()["description"].split(" ")[0])
    sender = {
        "name": marker("sender-name"),
        "email": f"{marker('sender')}@example.invalid",
        "message": marker("message"),
    }
    cast.markers.update(v.removesuffix("@example.invalid") for v in sender.values())
    sent = client.post(f"/groups/{listed}/messages", json=sender)
    assert sent.status_code == 202, sent.text
    # One rating per group per sender: each rating goes to a group of its own.
    rated_groups = [
        listed,
        new_group(client, cast)["reference"],
        new_group(client, cast)["reference"],
    ]
    outcomes = (("publish", "Welcoming"), ("reject", marker("rejected")), (None, marker("pending")))
    for reference, (decision, comment) in zip(rated_groups, outcomes, strict=True):
        rated = client.post(f"/groups/{reference}/ratings", json={"stars": 3, "comment": comment})
        assert rated.status_code == 201, rated.text
        if decision is None or decision == "reject":
            cast.markers.add(comment)
        if decision:
            url = f"/groups/{reference}/ratings/{rated.json()['id']}/moderation"
            done = client.post(url, json={"decision": decision}, headers=officer)
            assert done.status_code == 200, done.text
    for (fingerprint,) in conn.execute(
        "SELECT rater_fingerprint FROM group_rating"
        " UNION SELECT sender_fingerprint FROM group_message"
    ).fetchall():
        cast.markers.add(fingerprint)
    return [listed, hidden], [organiser]


def _private_draft(cast: Cast, published: bool) -> dict[str, Any]:
    """An application body whose private parts (all of it, unless published) are markers."""
    body = draft(cast, pledges=[factories.pledge("3000.00", evidence_reference=marker("evid"))])
    if not published:
        body |= {
            "title": marker("title"),
            "description": marker("description"),
            "applicant_name": marker("applicant"),
        }
    return body


@pytest.fixture(scope="module")
def seeded(client: TestClient, cast: Cast, settings: DatabaseSettings) -> Iterator[Seeded]:
    # An officer whose key name is private (decided_by is shown to officers, never published).
    async def make_officer(aconn: psycopg.AsyncConnection) -> tuple[int, str]:
        return await access.create_key(aconn, marker("officer-name"), "officer", [TRAFFORD])

    officer_id, officer_secret = factories.run(settings.dsn, make_officer)
    officer = {"Authorization": f"Bearer {officer_secret}"}
    applications = {}
    for state in ("draft", "submitted", "approved", "rejected", "paid"):
        published = state in ("approved", "paid")
        applications[state] = application_in(client, cast, state, _private_draft(cast, published))
    decided = application_in(client, cast, "submitted", _private_draft(cast, True))
    response = client.post(f"/applications/{decided['id']}/approve", headers=officer)
    assert response.status_code == 200, response.text
    applications["approved_by_named_officer"] = response.json()
    for application in applications.values():
        cast.markers.update(p["evidence_reference"] for p in application["pledges"])
        for name in ("title", "description", "applicant_name", "decision_reason", "decided_by"):
            if MARKER in str(application.get(name)):
                cast.markers.add(application[name].split(" ")[0].split(":")[-1])
    cast.markers.add(officer_secret)
    asset = client.post("/assets", json=factories.asset_body(), headers=cast.headers("officer"))
    assert asset.status_code == 201, asset.text
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        group_refs, organiser_refs = _seed_groups(client, cast, officer, conn)
    group_lon, group_lat = area_point()
    # Amenity bids (geo/amenity_bids.py) are not seeded here: whichever exist, else a 404.
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        bids = [str(b) for (b,) in conn.execute("SELECT id FROM amenity_bid LIMIT 3").fetchall()]
    point = client.get(f"/collections/lsoa-iod2025/items/{AREA}").json()
    coordinates = point["geometry"]["coordinates"]
    ring = coordinates[0][0] if point["geometry"]["type"] == "MultiPolygon" else coordinates[0]
    lon = sum(x for x, _ in ring) / len(ring)
    lat = sum(y for _, y in ring) / len(ring)
    yield Seeded(
        applications,
        lon,
        lat,
        int(asset.json()["id"]),
        group_refs,
        organiser_refs,
        group_lon,
        group_lat,
        bids or ["1"],
    )
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM api_key WHERE id = %s", (officer_id,))


def _path_values(client: TestClient, cast: Cast, seeded: Seeded) -> dict[str, list[str]]:
    collections = [c["id"] for c in client.get("/collections").json()["collections"]]
    tiles = [TMS.tile(seeded.lon, seeded.lat, zoom) for zoom in (6, 10, 13)]
    return {
        "collectionId": collections,
        "code": [AREA, TRAFFORD],
        "programmeId": [cast.programme.id],
        "applicationId": [str(a["id"]) for a in seeded.applications.values()],
        "tileMatrixSetId": ["WebMercatorQuad"],
        "tile": [f"{t.z}/{t.y}/{t.x}" for t in tiles],
        "assetId": [str(seeded.asset_id)],
        "reference": [*seeded.groups, *seeded.organisers],
        "ladCode": [TRAFFORD],
        "lsoaCode": [AREA],
        "bidId": seeded.bids,
    }


def _feature_ids(client: TestClient, collection: str) -> list[str]:
    page = client.get(f"/collections/{collection}/items", params={"limit": 3}).json()
    return [str(f["id"]) for f in page["features"]]


def public_urls(client: TestClient, cast: Cast, seeded: Seeded) -> list[str]:
    """Every public GET of the OpenAPI document, with real ids and in every format."""
    spec = client.get("/openapi.json").json()
    values = _path_values(client, cast, seeded)
    queries: dict[str, list[dict[str, str]]] = {
        "f": [{"f": "json"}, {"f": "html"}],
        "lon": [{"lon": str(seeded.lon), "lat": str(seeded.lat)}],
        # A group's name (asset eligibility) or a registered group's reference (its assets and
        # deadlines), and none.
        "group": [{"group": "Friends of the Park"}, {"group": seeded.groups[0]}, {}],
        "programme": [{"programme": cast.programme.id}, {}],
        "limit": [{"limit": "10000"}, {}],
        "status": [{"status": "pending"}, {}],
        "synthetic": [{"synthetic": "true"}],
    }
    urls: list[str] = ["/openapi.json", "/docs", "/redoc"]
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        names = [p["name"] for p in parameters if p["in"] == "path"]
        if "tileMatrix" in names:
            names = [n for n in names if n not in ("tileMatrix", "tileRow", "tileCol")] + ["tile"]
            path = path.replace("{tileMatrix}/{tileRow}/{tileCol}", "{tile}")
        unknown = [n for n in names if n not in values and n != "featureId"]
        assert not unknown, f"teach the scan real values for {unknown} ({path})"
        variants: list[dict[str, str]] = [{}]
        for query in parameters:
            if query["in"] == "query" and query["name"] in queries:
                variants = [v | q for v in variants for q in queries[query["name"]]]
        if path.endswith("{tile}"):
            variants = [{"f": "mvt"}, {"f": "geojson"}]
        # A feature id is filled per collection below (the placeholder is kept until then).
        keep = {"featureId": ["{featureId}"]}
        for combination in itertools.product(*(values.get(n, keep.get(n, [""])) for n in names)):
            filled = path
            for name, value in zip(names, combination, strict=True):
                filled = filled.replace(f"{{{name}}}", value)
            if "{featureId}" in filled:
                collection = dict(zip(names, combination, strict=True))["collectionId"]
                # The first features, and the seeded groups and organiser (wherever they page).
                seeded_ids = {
                    "neighbourhood-groups": seeded.groups,
                    "community-organisers": seeded.organisers,
                }.get(collection, [])
                features = dict.fromkeys([*_feature_ids(client, collection), *seeded_ids])
                targets = [filled.replace("{featureId}", f) for f in features]
            else:
                targets = [filled]
            for target, variant in itertools.product(targets, variants):
                urls.append(f"{target}?{urlencode(variant)}" if variant else target)
    near = {"lon": str(seeded.group_lon), "lat": str(seeded.group_lat)}
    urls += [f"/groups/near?{urlencode(near)}", "/groups?q=Security%20test%20group"]
    if "/eligibility" in spec["paths"]:
        urls.append(f"/eligibility?{urlencode({'area': AREA, 'programme': cast.programme.id})}")
    return urls


def leaks(text: str, markers: set[str]) -> list[str]:
    """The markers in a text (any seeded private value, or the marker prefix at all)."""
    found = [m for m in markers if m in text]
    if MARKER in text and not found:
        found = re.findall(rf"{MARKER}[\w-]*", text)
    return found


def _scan(response: httpx.Response, markers: set[str]) -> list[str]:
    head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    body = response.content.decode("utf-8", errors="replace")
    return leaks(head + "\n" + body, markers)


def test_no_public_answer_tile_or_export_carries_private_data(
    client: TestClient, cast: Cast, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    urls = public_urls(client, cast, seeded)
    assert len(urls) > 60
    problems = []
    kinds = set()
    statuses = {}
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        statuses[url] = response.status_code
        kinds.add(response.headers.get("content-type", "").split(";")[0])
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
        if url.startswith("/applications/"):
            assert response.status_code == 404, url  # the public sees no application
        found = _scan(response, cast.markers)
        if found:
            problems.append(f"{url}: {found}")
    assert not problems, "\n".join(problems)
    # The scan saw every kind of answer: JSON, GeoJSON, HTML, MVT, CSV, calendar.
    assert {
        "application/json",
        "application/geo+json",
        "text/html",
        "application/vnd.mapbox-vector-tile",
        "text/csv",
        "text/calendar",
    } <= kinds
    # The groups' answers were really read: the listed group's, not the unlisted one's.
    listed, hidden = seeded.groups
    for tail in ("", "/activities", "/ratings"):
        assert (statuses[f"/groups/{listed}{tail}"], statuses[f"/groups/{hidden}{tail}"]) == (
            200,
            404,
        ), tail
    assert statuses[f"/organisers/{seeded.organisers[0]}"] == 200
    # The listed group is a feature (JSON and HTML); the unlisted one is not.
    for reference, status in ((listed, 200), (hidden, 404)):
        feature = f"/collections/neighbourhood-groups/items/{reference}?"
        assert [v for k, v in statuses.items() if k.startswith(feature)] == [status, status]
    # The published grants are exported (so the export was really searched), privately pledged
    export = client.get("/grants/360giving.json", params={"programme": cast.programme.id}).json()
    exported = {g["id"].rsplit("-", 1)[1] for g in export["grants"]}
    assert {str(seeded.applications[s]["id"]) for s in ("approved", "paid")} <= exported
    assert str(seeded.applications["submitted"]["id"]) not in exported
    assert not [r.getMessage() for r in caplog.records if leaks(r.getMessage(), cast.markers)]
    assert not leaks(caplog.text, cast.markers)


def test_refusals_and_errors_carry_no_one_elses_private_data(
    client: TestClient, cast: Cast, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    draft_id = seeded.applications["draft"]["id"]
    submitted_id = seeded.applications["submitted"]["id"]
    listed, hidden = seeded.groups
    attempts = [
        ("GET", f"/applications/{draft_id}", None, "other_group"),
        ("GET", f"/applications/{submitted_id}", None, "other_officer"),
        ("GET", f"/applications/{draft_id}", None, "revoked"),
        ("PATCH", f"/applications/{draft_id}", {"title": "mine now"}, "other_group"),
        ("PATCH", f"/applications/{draft_id}", {"title": "mine now"}, "officer"),
        ("POST", f"/applications/{draft_id}/submit", None, "admin"),
        ("POST", f"/applications/{submitted_id}/approve", None, "other_officer"),
        ("POST", f"/applications/{submitted_id}/approve", None, "owner"),
        ("POST", f"/applications/{submitted_id}/pay", None, "officer"),  # 409: not approved
        ("POST", f"/applications/{draft_id}/reject", {"reason": "x"}, "officer"),
        ("POST", "/applications", {"programme": "nope"}, "other_group"),
        # Groups: the unlisted one is hidden, others' groups are not theirs to edit or read
        # messages of, managers do not moderate, only admins record organisers; bad input
        # holding private values is refused without echoing them.
        ("GET", f"/groups/{hidden}", None, "other_group"),
        ("GET", f"/groups/{hidden}/activities", None, "anonymous"),
        ("PATCH", f"/groups/{listed}", {"name": "mine now"}, "other_group"),
        ("PATCH", f"/groups/{listed}", {"name": "mine now"}, "other_officer"),
        ("GET", f"/groups/{listed}/messages", None, "other_group"),
        ("GET", f"/groups/{listed}/messages", None, "anonymous"),
        ("GET", f"/groups/{listed}/messages", None, "revoked"),
        (
            "POST",
            f"/groups/{listed}/ratings/999999999/moderation",
            {"decision": "publish"},
            "owner",
        ),
        ("POST", f"/groups/{listed}/managers", {"key_id": 1}, "officer"),
        ("POST", "/groups", group_body(cast), "other_officer"),
        ("POST", "/groups", group_body(cast, code_of_conduct=None), "owner"),
        ("POST", "/groups", group_body(cast, leader={"name": "X", "email": marker("x")}), "owner"),
        ("POST", "/organisers", organiser_body(cast), "officer"),
        ("PATCH", f"/organisers/{seeded.organisers[0]}", {"phone": marker("phone")}, "officer"),
    ]
    for method, url, body, who in attempts:
        headers = {**cast.headers(who), "If-Match": '"1"'}
        response = client.request(method, url, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (method, url, who, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert not _scan(response, cast.markers), (method, url, who, response.text)
    assert not leaks(caplog.text, cast.markers)


def test_a_real_server_logs_requests_with_ids_and_never_private_data(
    logged_server: Served, cast: Cast, seeded: Seeded
) -> None:
    base = logged_server.url
    with httpx.Client(base_url=base, timeout=30) as http:
        body = _private_draft(cast, published=False)
        created = http.post("/applications", json=body, headers=cast.headers("owner"))
        assert created.status_code == 201, created.text
        application_id = created.json()["id"]
        cast.markers.update({body["title"], body["description"], body["applicant_name"]})
        cast.markers.add(body["pledges"][0]["evidence_reference"])
        refused = http.get(f"/applications/{application_id}", headers=cast.headers("other_group"))
        assert refused.status_code == 404
        bad_key = http.get(f"/applications/{application_id}", headers=cast.headers("revoked"))
        assert bad_key.status_code == 401
        submitted = http.post(
            f"/applications/{application_id}/submit", headers=cast.headers("owner")
        )
        assert submitted.status_code == 200 and submitted.json()["status"] == "submitted", (
            submitted.text
        )
        # A group registered, written to and rated through the real server.
        group = http.post("/groups", json=group_body(cast), headers=cast.headers("owner"))
        assert group.status_code == 201, group.text
        reference = group.json()["reference"]
        sender = {
            "name": marker("name"),
            "email": f"{marker('mail')}@example.invalid",
            "message": marker("text"),
        }
        cast.markers.update({sender["name"], sender["email"], sender["message"]})
        assert http.post(f"/groups/{reference}/messages", json=sender).status_code == 202
        comment = marker("comment")
        cast.markers.add(comment)
        rated = http.post(f"/groups/{reference}/ratings", json={"stars": 1, "comment": comment})
        assert rated.status_code == 201, rated.text
        hidden = http.get(f"/groups/{reference}/messages", headers=cast.headers("other_group"))
        assert hidden.status_code == 403
        for url in ("/health", "/collections", f"/areas/{AREA}", "/grants/360giving.csv"):
            assert http.get(url, headers={"X-Request-ID": "scan-1"}).status_code == 200
        mine = http.get("/health", headers={"X-Request-ID": "trace-me-42"})
        assert mine.headers["x-request-id"] == "trace-me-42"
    lines = logged_server.logs.lines
    # The access line is written once the response is sent: wait for it.
    deadline = time.monotonic() + 5
    while not any('"trace-me-42"' in line and '"/health"' in line for line in lines):
        assert time.monotonic() < deadline, lines[-5:]
        time.sleep(0.01)
    assert any('"status": 404' in line for line in lines)
    found = [line for line in lines if leaks(line, cast.markers)]
    assert not found, found[:3]
