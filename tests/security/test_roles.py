"""Every write route, enumerated from the application, against every kind of caller.

Each route is tried with no credentials, a revoked key, each role, and an officer of another
district. A refusal must be the designed 401/403/404 problem and must leave every table a
request could write (the audit log included) exactly as it was. A write route that is not in
``POLICY`` fails the suite until someone decides who may call it.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pyproj import Transformer

from app.main import create_app
from tests.security.conftest import (
    CALLERS,
    Cast,
    application_in,
    db_fingerprint,
    draft,
    group_body,
    new_group,
    organiser_body,
)
from tests.utils import factories

# Every caller rates and writes from the one test client: abuse limits are tested elsewhere.
pytestmark = pytest.mark.usefixtures("generous_limits")

CONVERTOR, PLAIN = re.compile(r"{(\w+):\w+}"), r"{\1}"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM = "application/problem+json"


def write_routes() -> list[str]:
    """``METHOD /path`` of every route that takes a write method, from the app itself.

    Walked through included routers (FastAPI includes them lazily), mounts included.
    """
    app = create_app()
    return sorted(
        # Paths as the OpenAPI document writes them: {reference}, not {reference:convertor}.
        f"{method} {CONVERTOR.sub(PLAIN, context.path)}"
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or set()) & WRITE_METHODS
    )


@dataclass(frozen=True)
class Attempt:
    """One request to make."""

    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


# Callers in CALLERS order: anonymous, revoked, owner (a group manager, who created the
# application), other_group, officer (of the application's district), other_officer, admin.
APPLICANT_STEP = (401, 401, 200, 404, 403, 404, 403)
OFFICER_STEP = (401, 401, 403, 403, 200, 404, 200)


@dataclass(frozen=True)
class Rule:
    """Who gets what from one write route (one status per caller), and how to call it."""

    statuses: tuple[int, ...]
    prepare: Callable[[TestClient, Cast, str], Attempt]
    writes: bool = True  # False for a read that takes a body (POST /eligibility)


def _programme(client: TestClient, cast: Cast, who: str) -> Attempt:
    spec = factories.programme_spec(id=f"test-sec-{uuid.uuid4().hex[:10]}")
    return Attempt("PUT", f"/programmes/{spec.id}", spec.model_dump(mode="json"))


def _eligibility(client: TestClient, cast: Cast, who: str) -> Attempt:
    square = [[-2.27, 53.455], [-2.25, 53.455], [-2.25, 53.47], [-2.27, 53.455]]
    return Attempt(
        "POST",
        "/eligibility",
        {"geometry": {"type": "Polygon", "coordinates": [square]}, "programme": cast.programme.id},
    )


def _crime_summary(path: str) -> Callable[[TestClient, Cast, str], Attempt]:
    """A drawn area's crime summary: a read that takes a body (200 even with no crime data)."""

    def prepare(client: TestClient, cast: Cast, who: str) -> Attempt:
        square = [[-2.27, 53.455], [-2.25, 53.455], [-2.25, 53.47], [-2.27, 53.455]]
        body = {"geometry": {"type": "Polygon", "coordinates": [square]}}
        return Attempt("POST", path, {**body, "from": "2018-01", "to": "2018-12"})

    return prepare


def _create(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", "/applications", draft(cast))


def _edit(client: TestClient, cast: Cast, who: str) -> Attempt:
    application = application_in(client, cast, "draft")
    return Attempt(
        "PATCH",
        f"/applications/{application['id']}",
        {"title": "Changed by someone"},
        {"If-Match": f'"{application["version"]}"'},
    )


def _step(state: str, name: str) -> Callable[[TestClient, Cast, str], Attempt]:
    def prepare(client: TestClient, cast: Cast, who: str) -> Attempt:
        application = application_in(client, cast, state)
        body = {"reason": "outside the programme's aims"} if name == "reject" else None
        return Attempt("POST", f"/applications/{application['id']}/{name}", body)

    return prepare


def _new_asset(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", "/assets", factories.asset_body())


def _asset(client: TestClient, cast: Cast, nominated: bool) -> int:
    created = client.post("/assets", json=factories.asset_body(), headers=cast.headers("officer"))
    assert created.status_code == 201, created.text
    asset_id = int(created.json()["id"])
    if nominated:
        response = client.post(
            f"/assets/{asset_id}/nominate",
            json=factories.nomination(),
            headers=cast.headers("owner"),
        )
        assert response.status_code == 200, response.text
    return asset_id


def _nominate(client: TestClient, cast: Cast, who: str) -> Attempt:
    asset_id = _asset(client, cast, nominated=False)
    # A group manager nominates as its own group; officers record a named group's nomination.
    group = None if who in ("owner", "other_group") else "Stretford Parish Council"
    return Attempt("POST", f"/assets/{asset_id}/nominate", factories.nomination(group))


def _list(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", f"/assets/{_asset(client, cast, nominated=True)}/list")


def _new_group(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", "/groups", group_body(cast))


def _library(client: TestClient, cast: Cast) -> int:
    body = factories.asset_body(category="library", owner_type="local_authority")
    created = client.post("/assets", json=body, headers=cast.headers("officer"))
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _interest(client: TestClient, cast: Cast, who: str) -> Attempt:
    # A group's key acts as its own group; officers and admins record a known group's interest.
    group = None if who in ("owner", "other_group") else cast.keys["owner"].principal.name
    body = {"threat": "closure", "proposal": "Volunteers would run it.", "group": group}
    return Attempt("POST", f"/assets/{_library(client, cast)}/amenity-bids", body)


def _bid_step(name: str) -> Callable[[TestClient, Cast, str], Attempt]:
    def prepare(client: TestClient, cast: Cast, who: str) -> Attempt:
        url = f"/assets/{_library(client, cast)}/amenity-bids"
        body = {"threat": "closure", "proposal": "Volunteers would run it."}
        bid = client.post(url, json=body, headers=cast.headers("owner"))
        assert bid.status_code == 201, bid.text
        return Attempt("POST", f"/amenity-bids/{bid.json()['id']}/{name}", {"reason": "merged"})

    return prepare


def _group_url(client: TestClient, cast: Cast, tail: str = "") -> str:
    return f"/groups/{new_group(client, cast)['reference']}{tail}"


def _edit_group(client: TestClient, cast: Cast, who: str) -> Attempt:
    url = _group_url(client, cast)
    return Attempt("PATCH", url, {"description": "Changed by someone"}, {"If-Match": '"1"'})


def _add_manager(client: TestClient, cast: Cast, who: str) -> Attempt:
    url = _group_url(client, cast, "/managers")
    return Attempt("POST", url, {"key_id": cast.keys["other_group"].id})


def _activity(client: TestClient, cast: Cast, who: str) -> Attempt:
    body = {"kind": "meeting", "held_on": factories.today().isoformat(), "title": "Meeting"}
    return Attempt("POST", _group_url(client, cast, "/activities"), body)


def _message(client: TestClient, cast: Cast, who: str) -> Attempt:
    body = {"name": "Jo", "email": "jo@example.invalid", "message": "May I join?"}
    return Attempt("POST", _group_url(client, cast, "/messages"), body)


def _rating(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", _group_url(client, cast, "/ratings"), {"stars": 4, "comment": "Good"})


def _moderation(client: TestClient, cast: Cast, who: str) -> Attempt:
    ratings = _group_url(client, cast, "/ratings")
    rated = client.post(ratings, json={"stars": 2, "comment": "Meh"})
    assert rated.status_code == 201, rated.text
    return Attempt("POST", f"{ratings}/{rated.json()['id']}/moderation", {"decision": "publish"})


def _new_organiser(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", "/organisers", organiser_body(cast))


def _edit_organiser(client: TestClient, cast: Cast, who: str) -> Attempt:
    created = client.post("/organisers", json=organiser_body(cast), headers=cast.headers("admin"))
    assert created.status_code == 201, created.text
    url = f"/organisers/{created.json()['reference']}"
    return Attempt("PATCH", url, {"active": False}, {"If-Match": '"1"'})


# Neighbourhood planning (geo/planning/). Each attempt gets an area of its own: 80 m
# squares on a 100 m grid around a Trafford point no other test designates in, so that no two
# designations overlap (s.61G(7)); dates well in the past, so every statutory period has run.
_PLANNING_CELLS = itertools.count()
_PLANNING_CENTRE = (-2.42, 53.42)
_TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
_TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)


def _planning_square() -> dict[str, Any]:
    n = next(_PLANNING_CELLS)
    x, y = _TO_BNG.transform(*_PLANNING_CENTRE)
    x, y = x - 450 + (n % 10) * 100, y - 450 + (n // 10 % 10) * 100
    corners = [(x - 40, y - 40), (x + 40, y - 40), (x + 40, y + 40), (x - 40, y + 40)]
    ring = [list(_TO_LONLAT.transform(cx, cy)) for cx, cy in [*corners, corners[0]]]
    return {"type": "Polygon", "coordinates": [ring]}


def _area_body(**overrides: Any) -> dict[str, Any]:
    days_ago = (factories.today() - timedelta(days=90)).isoformat()
    body = {
        "name": f"Security test area {uuid.uuid4().hex[:6]}",
        "geometry": _planning_square(),
        "applicant_type": "prospective_forum",
        "applicant_name": "Security test forum",
        "applied_on": days_ago,
        "publicised_on": days_ago,
    }
    return body | overrides


def _planning_area(client: TestClient, cast: Cast, designated: bool, **overrides: Any) -> int:
    created = client.post(
        "/neighbourhood-areas", json=_area_body(**overrides), headers=cast.headers("officer")
    )
    assert created.status_code == 201, created.text
    area_id = int(created.json()["id"])
    if designated:
        done = client.post(
            f"/neighbourhood-areas/{area_id}/designate", headers=cast.headers("officer")
        )
        assert done.status_code == 200, done.text
    return area_id


def _new_area(client: TestClient, cast: Cast, who: str) -> Attempt:
    return Attempt("POST", "/neighbourhood-areas", _area_body())


def _new_group_area(client: TestClient, cast: Cast, who: str) -> Attempt:
    group = new_group(client, cast)["reference"]
    body = _area_body(applicant_type="neighbourhood_group", applicant_name=None, group=group)
    return Attempt("POST", "/neighbourhood-areas", body)


def _designate(client: TestClient, cast: Cast, who: str) -> Attempt:
    area_id = _planning_area(client, cast, designated=False)
    return Attempt("POST", f"/neighbourhood-areas/{area_id}/designate")


def _forum(client: TestClient, cast: Cast, who: str) -> Attempt:
    area_id = _planning_area(client, cast, designated=True)
    body = {"name": "Security test forum", "applied_on": factories.today().isoformat()}
    return Attempt("POST", f"/neighbourhood-areas/{area_id}/forums", body)


def _forum_step(client: TestClient, cast: Cast, who: str) -> Attempt:
    forum = _forum(client, cast, "officer")
    created = client.post(forum.url, json=forum.body, headers=cast.headers("officer"))
    assert created.status_code == 201, created.text
    return Attempt("POST", f"/neighbourhood-forums/{created.json()['id']}/publicise")


def _parish_area(client: TestClient, cast: Cast) -> int:
    return _planning_area(
        client,
        cast,
        designated=True,
        applicant_type="parish_council",
        applicant_name="Security Test Parish Council",
    )


def _plan(client: TestClient, cast: Cast, who: str) -> Attempt:
    url = f"/neighbourhood-areas/{_parish_area(client, cast)}/plans"
    return Attempt("POST", url, {"name": "Security test plan"})


def _plan_step(client: TestClient, cast: Cast, who: str) -> Attempt:
    plan = _plan(client, cast, "officer")
    created = client.post(plan.url, json=plan.body, headers=cast.headers("officer"))
    assert created.status_code == 201, created.text
    return Attempt("POST", f"/neighbourhood-plans/{created.json()['id']}/start_consultation")


def _receipt(client: TestClient, cast: Cast, who: str) -> Attempt:
    url = f"/neighbourhood-areas/{_parish_area(client, cast)}/levy-receipts"
    body = {
        "development": "Security test development",
        "amount": "1000.00",
        "received_on": factories.today().isoformat(),
        "plan_in_effect": False,
    }
    return Attempt("POST", url, body)


def _dwellings(client: TestClient, cast: Cast, who: str) -> Attempt:
    url = f"/neighbourhood-areas/{_parish_area(client, cast)}/dwellings"
    body = {"financial_year": 2026, "dwellings": 120, "dwellings_source": "security test"}
    return Attempt("PUT", url, body)


OFFICERS_ONLY = (401, 401, 403, 403, 200, 403, 200)
OFFICERS_CREATE = (401, 401, 403, 403, 201, 403, 201)


# Who may call each write route, as designed (geo/access.py, geo/applications.py,
# geo/assets.py). Programmes are national (their budgets included), so only admins save them.
POLICY: dict[str, list[Rule]] = {
    "POST /eligibility": [Rule((200,) * 7, _eligibility, writes=False)],
    # A drawn area's street-level crime: a read anyone may make.
    "POST /crime/summary": [Rule((200,) * 7, _crime_summary("/crime/summary"), writes=False)],
    "POST /crime/summary.csv": [
        Rule((200,) * 7, _crime_summary("/crime/summary.csv"), writes=False)
    ],
    "PUT /programmes/{programmeId}": [Rule((401, 401, 403, 403, 403, 403, 200), _programme)],
    "POST /applications": [Rule((401, 401, 201, 201, 201, 201, 201), _create)],
    "PATCH /applications/{applicationId}": [Rule(APPLICANT_STEP, _edit)],
    "POST /applications/{applicationId}/submit": [Rule(APPLICANT_STEP, _step("draft", "submit"))],
    "POST /applications/{applicationId}/approve": [
        Rule(OFFICER_STEP, _step("submitted", "approve"))
    ],
    "POST /applications/{applicationId}/reject": [Rule(OFFICER_STEP, _step("submitted", "reject"))],
    "POST /applications/{applicationId}/pay": [Rule(OFFICER_STEP, _step("approved", "pay"))],
    # Assets are recorded in Trafford: officers act only in their districts.
    "POST /assets": [Rule((401, 401, 201, 201, 201, 403, 201), _new_asset)],
    "POST /assets/{assetId}/{step}": [
        Rule((401, 401, 200, 200, 200, 403, 200), _nominate),  # a group's step
        Rule((401, 401, 403, 403, 200, 403, 200), _list),  # an officer's step
    ],
    # Bids to run threatened amenities (geo/amenity_bids.py): a group bids as itself or an
    # officer of the district records it; officers decide; the group itself may withdraw.
    "POST /assets/{assetId}/amenity-bids": [Rule((401, 401, 201, 201, 201, 403, 201), _interest)],
    "POST /amenity-bids/{bidId}/{step}": [
        Rule((401, 401, 403, 403, 200, 403, 200), _bid_step("accept")),
        Rule((401, 401, 200, 403, 200, 403, 200), _bid_step("withdraw")),
    ],
    # Groups (in Trafford, registered by the owner): geo/groups.py. Anyone rates a group and
    # writes through its relay form (keys are not needed, so a revoked one is not looked at);
    # its managers, its districts' officers and admins edit it and record its activity;
    # officers of its districts and admins moderate ratings; admins add managers.
    "POST /groups": [Rule((401, 401, 201, 201, 201, 403, 201), _new_group)],
    "PATCH /groups/{reference}": [Rule((401, 401, 200, 403, 200, 403, 200), _edit_group)],
    "POST /groups/{reference}/managers": [Rule((401, 401, 403, 403, 403, 403, 200), _add_manager)],
    "POST /groups/{reference}/activities": [Rule((401, 401, 201, 403, 201, 403, 201), _activity)],
    "POST /groups/{reference}/messages": [Rule((202,) * 7, _message)],
    "POST /groups/{reference}/ratings": [Rule((201,) * 7, _rating)],
    "POST /groups/{reference}/ratings/{ratingId}/moderation": [
        Rule((401, 401, 403, 403, 200, 403, 200), _moderation)
    ],
    # Organisers: admins only (geo/organisers.py).
    "POST /organisers": [Rule((401, 401, 403, 403, 403, 403, 201), _new_organiser)],
    "PATCH /organisers/{reference}": [Rule((401, 401, 403, 403, 403, 403, 200), _edit_organiser)],
    # Neighbourhood planning (geo/planning/), in Trafford: officers of the area's
    # districts and admins record and decide; a group manager applies only for its own group.
    "POST /neighbourhood-areas": [
        Rule(OFFICERS_CREATE, _new_area),
        Rule((401, 401, 201, 403, 201, 403, 201), _new_group_area),
    ],
    "POST /neighbourhood-areas/{areaId}/{step}": [Rule(OFFICERS_ONLY, _designate)],
    "POST /neighbourhood-areas/{areaId}/forums": [Rule(OFFICERS_CREATE, _forum)],
    "POST /neighbourhood-forums/{forumId}/{step}": [Rule(OFFICERS_ONLY, _forum_step)],
    "POST /neighbourhood-areas/{areaId}/plans": [Rule(OFFICERS_CREATE, _plan)],
    "POST /neighbourhood-plans/{planId}/{step}": [Rule(OFFICERS_ONLY, _plan_step)],
    "POST /neighbourhood-areas/{areaId}/levy-receipts": [Rule(OFFICERS_CREATE, _receipt)],
    "PUT /neighbourhood-areas/{areaId}/dwellings": [Rule(OFFICERS_ONLY, _dwellings)],
    # Coverage (geo/coverage.py): national recomputes and snapshots are admins' alone.
    "POST /coverage/refresh": [
        Rule(
            (401, 401, 403, 403, 403, 403, 200),
            lambda c, k, w: Attempt("POST", "/coverage/refresh"),
        )
    ],
    "POST /coverage/snapshots": [
        Rule(
            (401, 401, 403, 403, 403, 403, 201),
            lambda c, k, w: Attempt("POST", "/coverage/snapshots"),
        )
    ],
}
ROUTES = write_routes()


def test_every_write_route_has_a_designed_policy() -> None:
    unclassified = sorted(set(ROUTES) - set(POLICY))
    assert not unclassified, f"decide who may call {unclassified} and add them to POLICY"
    assert sorted(set(POLICY) - set(ROUTES)) == [], "POLICY names routes the app no longer has"


@pytest.mark.parametrize("route", ROUTES)
def test_each_caller_gets_the_designed_answer_and_refusals_write_nothing(
    client: TestClient, cast: Cast, conn: psycopg.Connection, route: str
) -> None:
    rules = POLICY.get(route)
    # An unclassified route still must refuse the anonymous and revoked callers.
    rules = rules or [Rule((401, 401), lambda c, k, w: _unclassified(route))]
    made_programmes: list[str] = []
    failures: list[str] = []
    try:
        for rule in rules:
            for who, expected in zip(CALLERS, rule.statuses, strict=False):
                attempt = rule.prepare(client, cast, who)
                if attempt.method == "PUT" and attempt.url.startswith("/programmes/"):
                    made_programmes.append(attempt.url.rsplit("/", 1)[1])
                before = db_fingerprint(conn)
                response = client.request(
                    attempt.method,
                    attempt.url,
                    json=attempt.body,
                    headers={**attempt.headers, **cast.headers(who)},
                )
                after = db_fingerprint(conn)
                where = f"{route} as {who}"
                if response.status_code != expected:
                    failures.append(f"{where}: {response.status_code}, not {expected}")
                    continue
                if expected >= 400:
                    assert response.headers["content-type"] == PROBLEM, where
                    assert response.json()["status"] == expected, where
                    if expected == 401:
                        assert response.headers["www-authenticate"].startswith("Bearer"), where
                    changed = [t for t in after if after[t] != before.get(t)]
                    if changed:
                        failures.append(f"{where}: refused with {expected} but wrote {changed}")
                elif rule.writes and after == before:
                    failures.append(f"{where}: answered {expected} but wrote nothing")
                elif not rule.writes and after != before:
                    failures.append(f"{where}: a read that wrote something")
    finally:
        if made_programmes:
            conn.execute(
                "DELETE FROM programme_lsoa_eligibility WHERE programme_id = ANY(%s)",
                (made_programmes,),
            )
            conn.execute("DELETE FROM grant_programme WHERE id = ANY(%s)", (made_programmes,))
    assert not failures, "\n".join(failures)


def _unclassified(route: str) -> Attempt:
    method, path = route.split(" ", 1)
    url = path.replace("{", "").replace("}", "")  # placeholders as literal segments
    return Attempt(method, url.replace("Id", "1"), {})


def test_an_application_is_invisible_to_those_who_may_not_act_on_it(
    client: TestClient, cast: Cast
) -> None:
    application = application_in(client, cast, "submitted")
    url = f"/applications/{application['id']}"
    statuses = {who: client.get(url, headers=cast.headers(who)).status_code for who in CALLERS}
    assert statuses == {
        "anonymous": 404,  # the public learns nothing, not even that it exists
        "revoked": 401,
        "owner": 200,
        "other_group": 404,
        "officer": 200,
        "other_officer": 404,
        "admin": 200,
    }
    missing = client.get("/applications/999999999", headers=cast.headers("other_group"))
    hidden = client.get(url, headers=cast.headers("other_group"))
    # A hidden application and one that does not exist are told apart by nothing but the id.
    assert hidden.json()["detail"].replace(str(application["id"]), "N") == missing.json()[
        "detail"
    ].replace("999999999", "N")
