"""Grant applications over HTTP: workflow, ETags, roles, problems, and the 360Giving export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from config.settings import DatabaseSettings
from data import giving360_schema
from geo.grants import checks
from tests.utils import factories, sources
from tests.utils.geojson import box_around

SCHEMAS = Path(__file__).resolve().parents[2] / "data" / "schemas"
TRAFFORD, BLACKPOOL = "E08000009", "E06000009"
LOOKUP = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
IMD = sources.csv(sources.IOD2025).set_index("lsoa21_code")["IMD_decile"]
AREA = min(c for c in LOOKUP.index[LOOKUP["ltla24_code"] == TRAFFORD] if IMD[c] == 1)
ALLOWED = factories.APPLICATION_NEXT_STEPS
PATHS = factories.APPLICATION_PATHS


@dataclass(frozen=True)
class World:
    """A programme and the callers of these tests."""

    programme: checks.Programme
    owner: factories.Key
    other_group: factories.Key
    officer: factories.Key
    other_officer: factories.Key
    admin: factories.Key


@pytest.fixture(scope="module")
def world(settings: DatabaseSettings) -> Iterator[World]:
    made = factories.Made()

    async def setup(aconn: psycopg.AsyncConnection) -> World:
        return World(
            programme=await made.programme(
                aconn,
                name="Test neighbourhood grants",
                budget=Decimal("200000"),
                award_max=Decimal("20000"),
            ),
            owner=await made.key(aconn, "group_manager"),
            other_group=await made.key(aconn, "group_manager"),
            officer=await made.key(aconn, "officer", [TRAFFORD]),
            other_officer=await made.key(aconn, "officer", [BLACKPOOL]),
            admin=await made.key(aconn, "admin"),
        )

    yield factories.run(settings.dsn, setup)
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        made.drop(conn)


def version_of(response: httpx.Response) -> int:
    """The version an ETag names (the compression middleware may make it weak: W/"3")."""
    return int(response.headers["etag"].removeprefix("W/").strip('"'))


def is_problem(response: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code and body["detail"]
    return body


def create(
    client: TestClient, world: World, amount: str = "3000.00", **overrides: Any
) -> dict[str, Any]:
    body = factories.draft(world.programme.id, {"code": AREA}, amount, **overrides)
    response = client.post("/applications", json=body, headers=world.owner.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def step(
    client: TestClient,
    world: World,
    application_id: int,
    name: str,
    key: factories.Key | None = None,
) -> httpx.Response:
    """Take a step over HTTP as ``key`` (by default whoever is entitled to it)."""
    if name == "edit":
        key = key or world.owner
        current = client.get(f"/applications/{application_id}", headers=world.admin.headers)
        return client.patch(
            f"/applications/{application_id}",
            json={"title": "Community garden, phase 2"},
            headers={**key.headers, "If-Match": current.headers["etag"]},
        )
    if name == "submit":
        key = key or world.owner
        return client.post(f"/applications/{application_id}/submit", headers=key.headers)
    key = key or world.officer
    body = {"reason": "outside the programme's aims"} if name == "reject" else None
    return client.post(f"/applications/{application_id}/{name}", json=body, headers=key.headers)


def in_state(client: TestClient, world: World, state: str) -> dict[str, Any]:
    application = create(client, world)
    for name in PATHS[state]:
        response = step(client, world, application["id"], name)
        assert response.status_code == 200, response.text
        application = response.json()
    assert application["status"] == state
    return application


def validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    """Validators of the official 360Giving 1.4 package and grant schemas (draft 2020-12,
    format checking on, vendored: no network)."""
    grant = json.loads(
        (SCHEMAS / "360giving" / "360-giving-schema.json").read_text(encoding="utf-8")
    )
    return (
        giving360_schema.package_validator(),
        Draft202012Validator(grant, format_checker=Draft202012Validator.FORMAT_CHECKER),
    )


def geo_code_types() -> set[str]:
    with (SCHEMAS / "geoCodeType.csv").open(encoding="utf-8") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


# ---------------------------------------------------------------------------------------------
# The workflow


def test_the_workflow_over_http_with_etags_ending_in_a_valid_360giving_export(
    client: TestClient, world: World
) -> None:
    body = factories.draft(world.programme.id, {"code": AREA}, "4000.00")
    created = client.post("/applications", json=body, headers=world.owner.headers)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    assert created.headers["location"] == f"/applications/{application_id}"
    assert version_of(created) == 1
    assert created.json()["pledges"][0]["evidence_reference"] == "letter of 1 March"

    url = f"/applications/{application_id}"
    fetched = client.get(url, headers=world.owner.headers)
    assert fetched.status_code == 200 and version_of(fetched) == 1
    change = {"amount": "4500.00", "pledges": [factories.pledge("4500.00")]}
    is_problem(client.patch(url, json=change, headers=world.owner.headers), 428)
    stale = client.patch(url, json=change, headers={**world.owner.headers, "If-Match": '"7"'})
    assert "not 7" in is_problem(stale, 412)["detail"]
    edited = client.patch(
        url, json=change, headers={**world.owner.headers, "If-Match": fetched.headers["etag"]}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["amount"], version_of(edited)) == ("4500.00", 2)
    is_problem(
        client.patch(
            url, json=change, headers={**world.owner.headers, "If-Match": fetched.headers["etag"]}
        ),
        412,
    )

    for name, status in (("submit", "submitted"), ("approve", "approved"), ("pay", "paid")):
        response = step(client, world, application_id, name)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    paid = client.get(url, headers=world.officer.headers).json()
    assert paid["next_steps"] == [] and paid["version"] == 5

    exported = client.get("/grants/360giving.json", params={"programme": world.programme.id})
    assert exported.status_code == 200
    package = exported.json()
    package_validator, grant_validator = validators()
    package_validator.validate(package)
    [grant] = [g for g in package["grants"] if g["id"] == f"360G-platoons-{application_id}"]
    grant_validator.validate(grant)
    assert {
        key: grant[key]
        for key in ("title", "description", "currency", "amountAwarded", "amountDisbursed")
    } == {
        "title": body["title"],
        "description": body["description"],
        "currency": "GBP",
        "amountAwarded": 4500,
        "amountDisbursed": 4500,
    }
    assert grant["awardDate"] == datetime.fromisoformat(paid["decided_at"]).date().isoformat()
    assert grant["recipientOrganization"] == [
        {"id": body["applicant_org_id"], "name": body["applicant_name"]}
    ]
    assert grant["fundingOrganization"] == [
        {"id": world.programme.funder_id, "name": world.programme.funder_name}
    ]
    assert grant["grantProgramme"] == [{"code": world.programme.id, "title": world.programme.name}]
    [location] = grant["beneficiaryLocation"]
    assert (location["geoCode"], location["geoCodeType"]) == (AREA, "LSOA")
    assert location["name"] == LOOKUP.loc[AREA, "lsoa21_name"]
    assert location["geoCodeType"] in geo_code_types()

    flat = client.get("/grants/360giving.csv", params={"programme": world.programme.id})
    assert flat.status_code == 200 and flat.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(flat.text)))
    [row] = [r for r in rows if r["Identifier"] == grant["id"]]
    assert (row["Amount Awarded"], row["Recipient Org:Identifier"], row["Funding Org:Name"]) == (
        "4500",
        body["applicant_org_id"],
        world.programme.funder_name,
    )
    assert (
        row["Beneficiary Location:Geographic Code"],
        row["Beneficiary Location:Geographic Code Type"],
    ) == (AREA, "LSOA")


def test_the_export_holds_only_approved_and_paid_grants_each_valid(
    client: TestClient, world: World
) -> None:
    states = {state: in_state(client, world, state)["id"] for state in ALLOWED}
    package = client.get("/grants/360giving.json", params={"programme": world.programme.id}).json()
    package_validator, grant_validator = validators()
    package_validator.validate(package)
    exported = {g["id"] for g in package["grants"]}
    for state, application_id in states.items():
        assert (f"360G-platoons-{application_id}" in exported) is (state in ("approved", "paid"))
    for grant in package["grants"]:
        grant_validator.validate(grant)
        assert {loc["geoCodeType"] for loc in grant["beneficiaryLocation"]} <= geo_code_types()


def test_a_polygon_grant_names_the_lsoas_that_qualified(client: TestClient, world: World) -> None:
    lon, lat = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")[AREA]
    square = box_around(lon, lat, 0.002)
    checked = client.post(
        "/eligibility", json={"geometry": square, "programme": world.programme.id}
    ).json()
    [answer] = checked["answers"]
    assert answer["qualifying_lsoas"]
    body = factories.draft(world.programme.id, {"geometry": square}, "2000.00")
    created = client.post("/applications", json=body, headers=world.owner.headers)
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    for name in ("submit", "approve"):
        assert step(client, world, application_id, name).status_code == 200
    package = client.get("/grants/360giving.json", params={"programme": world.programme.id}).json()
    [grant] = [g for g in package["grants"] if g["id"] == f"360G-platoons-{application_id}"]
    # The qualifying LSOAs, not the whole district the area lies in.
    assert grant["beneficiaryLocation"] == [
        {"geoCode": code, "geoCodeType": "LSOA", "countryCode": "GB"}
        for code in answer["qualifying_lsoas"]
    ]
    assert AREA in answer["qualifying_lsoas"]
    validators()[1].validate(grant)
    assert giving360_schema.package_problems(package) == []


def test_the_package_carries_its_metadata_and_the_csv_the_standard_titles(
    client: TestClient, world: World
) -> None:
    in_state(client, world, "approved")
    package = client.get("/grants/360giving.json", params={"programme": world.programme.id}).json()
    assert giving360_schema.package_problems(package) == []
    assert package["publisher"]["name"] == "Platoons"
    assert package["license"].startswith("https://www.nationalarchives.gov.uk/doc/open-government")
    assert package["version"] == "1.4"
    assert package["modified"] == max(g["dateModified"] for g in package["grants"])
    assert datetime.fromisoformat(package["issued"]) >= datetime.fromisoformat(package["modified"])
    header = next(csv.reader(io.StringIO(client.get("/grants/360giving.csv").text)))
    assert "Last Modified" in header and "Last modified" not in header


def test_with_no_grant_yet_the_export_says_so_instead_of_an_invalid_package(
    client: TestClient, world: World
) -> None:
    # The package schema needs at least one grant ("minItems": 1), so an empty one is invalid.
    assert giving360_schema.package_problems({"grants": []}) != []
    response = client.get("/grants/360giving.json", params={"programme": "example-no-grants-yet"})
    assert response.status_code == 404
    assert response.json()["title"] == "No grants yet"
    assert response.json()["parameter"] == "programme"
    flat = client.get("/grants/360giving.csv", params={"programme": "example-no-grants-yet"})
    assert flat.status_code == 200
    assert len(flat.text.strip().splitlines()) == 1  # the header row alone


def test_example_funders_say_they_are_examples_in_their_identifiers(
    client: TestClient, example_programmes: list[str]
) -> None:
    for programme in example_programmes:
        body = client.get(f"/programmes/{programme}").json()
        assert body["funder_id"].startswith("360G-platoons-example-")


def test_a_matched_funding_shortfall_is_a_422_listing_the_reasons(
    client: TestClient, world: World
) -> None:
    application = create(
        client,
        world,
        "5000.00",
        pledges=[factories.pledge("2500.00"), factories.pledge("1250.00", "business")],
    )
    refused = is_problem(step(client, world, application["id"], "submit"), 422)
    assert refused["reasons"] == [
        "matched funding short by £1,250.00: needs £5,000.00 from non-government sources at "
        "1:1, has £3,750.00"
    ]
    after = client.get(f"/applications/{application['id']}", headers=world.owner.headers).json()
    assert (after["status"], after["version"]) == ("draft", 1)


@pytest.mark.parametrize("state", sorted(ALLOWED))
def test_illegal_transitions_are_409_problems_listing_the_allowed_steps(
    client: TestClient, world: World, state: str
) -> None:
    for name in ("edit", "submit", "approve", "reject", "pay"):
        if name in ALLOWED[state]:
            continue
        application = in_state(client, world, state)
        body = is_problem(step(client, world, application["id"], name), 409)
        # The problem lists the allowed steps; a final status has none to list.
        assert body.get("allowed", []) == ALLOWED[state], (state, name, body)
        assert f"it is {state}" in body["detail"]


# ---------------------------------------------------------------------------------------------
# Roles: every write endpoint, every kind of caller

CALLERS = ("none", "other_group", "other_officer", "officer", "admin", "owner")
# Expected statuses per endpoint, in CALLERS order. Someone who may not see an application is
# told it does not exist (404); one who may see it but not do this gets 403; no key is 401.
MATRIX = {
    "create": (401, 201, 201, 201, 201, 201),
    "edit": (401, 404, 404, 403, 403, 200),
    "submit": (401, 404, 404, 403, 403, 200),
    "approve": (401, 403, 404, 200, 200, 403),
    "reject": (401, 403, 404, 200, 200, 403),
    "pay": (401, 403, 404, 200, 200, 403),
    "read": (404, 404, 404, 200, 200, 200),
}
NEEDS = {
    "edit": "draft",
    "submit": "draft",
    "approve": "submitted",
    "reject": "submitted",
    "pay": "approved",
    "read": "draft",
}


def caller(world: World, name: str) -> factories.Key | None:
    return None if name == "none" else getattr(world, name)


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_every_endpoint_admits_exactly_the_callers_it_should(
    client: TestClient, world: World, endpoint: str
) -> None:
    for name, expected in zip(CALLERS, MATRIX[endpoint], strict=True):
        key = caller(world, name)
        headers = {} if key is None else key.headers
        if endpoint == "create":
            body = factories.draft(world.programme.id, {"code": AREA}, "1000.00")
            response = client.post("/applications", json=body, headers=headers)
        else:
            application = in_state(client, world, NEEDS[endpoint])
            if endpoint == "read":
                response = client.get(f"/applications/{application['id']}", headers=headers)
            elif key is None:
                verb = {"edit": "patch"}.get(endpoint, "post")
                path = f"/applications/{application['id']}" + (
                    "" if endpoint == "edit" else f"/{endpoint}"
                )
                response = client.request(
                    verb.upper(),
                    path,
                    json={"title": "x" * 5} if endpoint == "edit" else None,
                    headers={"If-Match": "*"},
                )
            else:
                response = step(client, world, application["id"], endpoint, key)
            if expected >= 400:
                after = client.get(
                    f"/applications/{application['id']}", headers=world.admin.headers
                ).json()
                assert (after["status"], after["version"]) == (
                    application["status"],
                    application["version"],
                )
        assert response.status_code == expected, (endpoint, name, response.text)
        if expected >= 400:
            is_problem(response, expected)


# ---------------------------------------------------------------------------------------------
# Private data never leaks


def test_evidence_references_never_appear_in_public_answers_or_the_export(
    client: TestClient, world: World
) -> None:
    marker = f"EVIDENCE-{uuid.uuid4().hex}"
    application = create(
        client, world, "1500.00", pledges=[factories.pledge("1500.00", evidence_reference=marker)]
    )
    url = f"/applications/{application['id']}"
    assert marker in client.get(url, headers=world.owner.headers).text  # it is stored
    short = create(
        client, world, "9000.00", pledges=[factories.pledge("10.00", evidence_reference=marker)]
    )
    for name in ("submit", "approve", "pay"):
        assert step(client, world, application["id"], name).status_code == 200
    answers = [
        client.get("/grants/360giving.json"),
        client.get("/grants/360giving.csv"),
        client.get("/grants/360giving.json", params={"programme": world.programme.id}),
        client.get(url),
        client.get(url, headers=world.other_group.headers),
        client.get(url, headers=world.other_officer.headers),
        client.get("/programmes"),
        client.get(f"/programmes/{world.programme.id}"),
        client.get("/eligibility", params={"area": AREA, "programme": world.programme.id}),
        step(client, world, application["id"], "approve"),  # 409
        step(client, world, short["id"], "submit"),  # 422 with reasons
        client.post(f"{url}/pay"),
    ]
    assert [r.status_code for r in answers] == [
        200,
        200,
        200,
        404,
        404,
        404,
        200,
        200,
        200,
        409,
        422,
        401,
    ]
    exported = answers[2].json()["grants"]
    assert any(g["id"] == f"360G-platoons-{application['id']}" for g in exported)
    for response in answers:
        assert marker not in response.text
        assert "evidence" not in response.text.lower()
        assert world.owner.secret not in response.text


# ---------------------------------------------------------------------------------------------
# Bad input is a 4xx problem, never a 500

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[-2.3, 53.44], [-2.28, 53.45], [-2.28, 53.44], [-2.3, 53.45], [-2.3, 53.44]]],
}
PARIS = {
    "type": "Polygon",
    "coordinates": [[[2.33, 48.85], [2.35, 48.85], [2.35, 48.86], [2.33, 48.85]]],
}


def _body(**changes: Any) -> dict[str, Any]:
    return {**factories.draft("PROGRAMME", {"code": AREA}, "1000.00"), **changes}


BAD_BODIES: dict[str, tuple[dict[str, Any], int, str]] = {
    "negative-amount": (_body(amount="-5"), 422, "amount"),
    "zero-amount": (_body(amount=0), 422, "amount"),
    "non-numeric-amount": (_body(amount="a lot"), 422, "amount"),
    "fractional-pence": (_body(amount="10.001"), 422, "amount"),
    "nan-amount": (_body(amount="NaN"), 422, "amount"),
    "negative-pledge": (_body(pledges=[factories.pledge("-1")]), 422, "pledges"),
    "unknown-source-type": (
        _body(pledges=[factories.pledge("10", "the council")]),
        422,
        "unknown source type",
    ),
    "unknown-programme": (_body(programme="no-such-programme"), 400, "no grant programme"),
    "bad-org-id": (_body(applicant_org_id="charity 1234567"), 422, "applicant_org_id"),
    "both-areas": (_body(area={"code": AREA, "geometry": PARIS}), 422, "exactly one"),
    "no-area": (_body(area={}), 422, "exactly one"),
    "self-intersecting": (_body(area={"geometry": BOWTIE}), 400, "invalid geometry"),
    "empty-polygon": (
        _body(area={"geometry": {"type": "Polygon", "coordinates": []}}),
        400,
        "empty",
    ),
    "point": (
        _body(area={"geometry": {"type": "Point", "coordinates": [-2.3, 53.4]}}),
        400,
        "Polygon",
    ),
    "outside-england": (_body(area={"geometry": PARIS}), 404, "outside England"),
    "welsh-code": (_body(area={"code": "W01000001"}), 400, "not an LSOA"),
    "unknown-code": (_body(area={"code": "E01999999"}), 404, "not a loaded"),
    "extra-field": (_body(owner_key_id=1), 422, "owner_key_id"),
    "missing-title": ({k: v for k, v in _body().items() if k != "title"}, 422, "title"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_applications_are_4xx_problems_with_the_reason(
    lenient_client: TestClient, world: World, case: str
) -> None:
    body, status, reason = BAD_BODIES[case]
    if body.get("programme") == "PROGRAMME":
        body = {**body, "programme": world.programme.id}
    response = lenient_client.post("/applications", json=body, headers=world.owner.headers)
    assert reason in is_problem(response, status)["detail"]


def test_malformed_requests_are_4xx_problems(lenient_client: TestClient, world: World) -> None:
    headers = world.owner.headers
    application = create(lenient_client, world)
    url = f"/applications/{application['id']}"
    cases = [
        (
            lenient_client.post(
                "/applications",
                content=b"{not json",
                headers={**headers, "Content-Type": "application/json"},
            ),
            422,
        ),
        (lenient_client.get("/applications/abc", headers=headers), 422),
        (lenient_client.get("/applications/0", headers=headers), 422),
        (lenient_client.get("/applications/99999999999999999999999", headers=headers), 422),
        (lenient_client.get("/applications/9223372036854775807", headers=headers), 404),
        (lenient_client.patch(url, json={}, headers={**headers, "If-Match": '"1"'}), 422),
        (
            lenient_client.patch(url, json={"title": None}, headers={**headers, "If-Match": '"1"'}),
            422,
        ),
        (
            lenient_client.patch(
                url, json={"title": "New"}, headers={**headers, "If-Match": "garbage"}
            ),
            412,
        ),
        (lenient_client.post(f"{url}/reject", json={}, headers=world.officer.headers), 422),
        (
            lenient_client.post(
                f"{url}/reject", json={"reason": ""}, headers=world.officer.headers
            ),
            422,
        ),
        (lenient_client.post(f"{url}/pay", headers={"Authorization": "Bearer plt_not-a-key"}), 401),
        (lenient_client.get("/grants/360giving.json", params={"programme": "x" * 100}), 422),
    ]
    for response, status in cases:
        is_problem(response, status)
