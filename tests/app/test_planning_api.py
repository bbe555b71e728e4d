"""Neighbourhood planning over HTTP: areas, forums and plans walked with frozen clocks, the
overlap rule (with designations racing), the levy, bad input, the map layer and the feeds."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from config.settings import DatabaseSettings
from geo.planning import serving
from tests.geo.test_groups import group_body, square
from tests.utils import factories
from tests.utils.http import ok, problem, service_today

TRAFFORD, MANCHESTER, BLACKPOOL = "E08000009", "E08000003", "E06000009"
Freeze = Callable[[date], None]
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)


def at(lon: float, lat: float, side: float = 400.0, dx: float = 0.0) -> dict[str, Any]:
    """A square area of ``side`` metres centred near (lon, lat), shifted ``dx`` metres east."""
    x, y = TO_BNG.transform(lon, lat)
    return square(x + dx, y, side)


# Trafford cells at least 700 m inside the district (checked against the loaded LSOAs), one
# per test so that designations of different tests never overlap; and a point on the
# Trafford-Manchester boundary for an area across two authorities.
CELLS = {
    "walk": (-2.40, 53.42),
    "early": (-2.38, 53.42),
    "overlap": (-2.36, 53.42),
    "race": (-2.34, 53.42),
    "forum": (-2.40, 53.44),
    "plan": (-2.38, 53.44),
    "levy": (-2.36, 53.44),
    "group": (-2.34, 53.44),
    "bad": (-2.32, 53.42),
    "feeds": (-2.36, 53.46),
}
BORDER = (-2.285231, 53.415221)


People = factories.Callers


@pytest.fixture(scope="module")
def people(settings: DatabaseSettings) -> Iterator[People]:
    """Two group managers, an officer of Trafford and Manchester, one of Blackpool, an admin."""
    yield from factories.module_callers(settings.dsn, [TRAFFORD, MANCHESTER], BLACKPOOL)


@pytest.fixture
def freeze(client: TestClient) -> Iterator[Freeze]:
    """Set the date the service takes as today (restored after the test)."""
    yield from service_today(client)


def area_body(geometry: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "name": f"Test neighbourhood {uuid.uuid4().hex[:6]}",
        "geometry": geometry,
        "applicant_type": "prospective_forum",
        "applicant_name": "Test Neighbourhood Forum (prospective)",
        "applied_on": "2026-01-02",
        "publicised_on": "2026-01-05",
    }
    return body | overrides


def new_area(client: TestClient, key: factories.Key, **overrides: Any) -> dict[str, Any]:
    return ok(
        client.post("/neighbourhood-areas", json=area_body(**overrides), headers=key.headers), 201
    )


def parish_area(
    client: TestClient,
    key: factories.Key,
    geometry: dict[str, Any],
    dates: tuple[str, str | None],
    **overrides: Any,
) -> dict[str, Any]:
    """A parish council's area application: ``dates`` applied and publicised (None: not)."""
    applied_on, publicised_on = dates
    return new_area(
        client,
        key,
        geometry=geometry,
        applicant_type="parish_council",
        applicant_name="Test Parish Council",
        applied_on=applied_on,
        publicised_on=publicised_on,
        **overrides,
    )


def step(client: TestClient, key: factories.Key, path: str, name: str, **body: Any) -> Any:
    return client.post(f"{path}/{name}", json=body, headers=key.headers)


def squares(client: TestClient, key: factories.Key, cell: str, *shifts: float) -> list[Any]:
    """Area applications for 400 m squares in ``cell``, each shifted ``dx`` metres east."""
    return [new_area(client, key, geometry=at(*CELLS[cell], side=400, dx=dx)) for dx in shifts]


def post(client: TestClient, key: factories.Key, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` to ``path`` with ``key`` (the response, for ok() or problem())."""
    return client.post(path, json=body, headers=key.headers)


def designate(client: TestClient, key: factories.Key, area: dict[str, Any]) -> Any:
    """Designate an area (its response, for ok() or problem())."""
    return step(client, key, f"/neighbourhood-areas/{area['id']}", "designate")


def test_standard_area_walk_at_each_boundary_day(
    client: TestClient, people: People, freeze: Freeze, settings: DatabaseSettings
) -> None:
    freeze(date(2026, 1, 5))
    area = new_area(client, people.officer, geometry=at(*CELLS["walk"]))
    assert area["kind"] == "standard" and area["lad_codes"] == [TRAFFORD]
    assert area["status"] == "publicised"
    assert {d["kind"]: d["ends"] for d in area["deadlines"]} == {
        "representations_end": "2026-02-16",
        "decision_due": "2026-04-07",
    }
    assert area["next_deadline"]["kind"] == "representations_end"
    path = f"/neighbourhood-areas/{area['id']}"
    freeze(date(2026, 2, 16))
    early = problem(step(client, people.officer, path, "designate"), 409)
    assert "2026-02-16" in early["detail"] and early["allowed"] == ["withdraw"]
    # A group manager cannot decide; an officer of another district neither.
    problem(step(client, people.manager, path, "designate"), 403)
    problem(step(client, people.other_officer, path, "designate"), 403)
    freeze(date(2026, 4, 8))
    late = ok(step(client, people.officer, path, "designate"))
    assert late["status"] == "designated" and late["decided_late"]
    assert late["decided_on"] == "2026-04-08"
    events = ok(client.get(f"{path}/history"))
    assert [(e["step"], e["to_status"]) for e in events] == [
        ("apply", "applied"),
        ("publicise", "publicised"),
        ("designate", "designated"),
    ]
    assert events[-1]["details"] == {"late": True}
    with psycopg.connect(settings.dsn) as conn:
        audited = conn.execute(
            "SELECT action FROM audit_log WHERE entity = 'neighbourhood_area' AND entity_id = %s"
            " ORDER BY id",
            (str(area["id"]),),
        ).fetchall()
    assert [a for (a,) in audited] == [f"neighbourhood_area.{e['step']}" for e in events]
    # The map layer serves it with its stage.
    item = ok(client.get(f"/collections/neighbourhood-areas/items/{area['reference']}"))
    assert item["properties"]["status"] == "designated"
    assert item["properties"]["stage"] == "area designated"


def test_cross_authority_and_whole_parish_deadlines(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 1, 5))
    cross = new_area(client, people.officer, geometry=at(*BORDER, side=800))
    assert cross["kind"] == "cross_authority"
    assert cross["lad_codes"] == [MANCHESTER, TRAFFORD]
    assert {d["kind"]: d["ends"] for d in cross["deadlines"]}["decision_due"] == "2026-05-26"
    path = f"/neighbourhood-areas/{cross['id']}"
    freeze(date(2026, 5, 26))
    on_time = ok(step(client, people.officer, path, "refuse", reason="not coherent (test)"))
    assert on_time["status"] == "refused" and not on_time["decided_late"]
    # A parish council applying for its whole parish: no publicity, designated at once.
    freeze(date(2026, 3, 2))
    parish = parish_area(
        client,
        people.officer,
        at(*CELLS["early"], side=300, dx=-600),
        ("2026-03-02", None),
        whole_parish=True,
    )
    assert parish["kind"] == "whole_parish" and parish["deadlines"] == []
    assert parish["next_steps"] == ["designate", "withdraw"]
    parish_path = f"/neighbourhood-areas/{parish['id']}"
    problem(step(client, people.officer, parish_path, "publicise"), 409)
    problem(step(client, people.officer, parish_path, "refuse", reason="no"), 409)
    done = ok(step(client, people.officer, parish_path, "designate"))
    assert done["status"] == "designated" and done["decided_on"] == "2026-03-02"


def test_overlap_is_refused_with_the_area_and_hectares(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 3, 2))
    # The second square is shifted 100 m east: the overlap is 300 m x 400 m = 12 ha.
    first, second = squares(client, people.officer, "overlap", 0, 100)
    ok(designate(client, people.officer, first))
    refused = problem(designate(client, people.officer, second), 409)
    assert first["reference"] in refused["detail"] and "s.61G(7)" in refused["detail"]
    assert "by 12.00 ha" in refused["detail"]
    assert "designate" not in refused["allowed"] and "refuse" in refused["allowed"]
    # Nothing was written: the second area is still publicised, with no designate event.
    again = ok(client.get(f"/neighbourhood-areas/{second['id']}"))
    assert again["status"] == "publicised" and again["version"] == second["version"]
    # An area only touching the designated one (sharing an edge) is not an overlap.
    (touching,) = squares(client, people.officer, "overlap", -400)
    ok(designate(client, people.officer, touching))


def test_two_designations_racing_cannot_both_pass(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 3, 2))
    a, b = squares(client, people.officer, "race", 0, 200)

    def status_of_designating(area: dict[str, Any]) -> int:
        return int(designate(client, people.officer, area).status_code)

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(status_of_designating, [a, b]))
    assert codes == [200, 409]
    statuses = {ok(client.get(f"/neighbourhood-areas/{i}"))["status"] for i in (a["id"], b["id"])}
    assert statuses == {"designated", "publicised"}


def test_bad_input_is_a_problem_that_writes_nothing(
    client: TestClient, people: People, freeze: Freeze, settings: DatabaseSettings
) -> None:
    freeze(date(2026, 3, 2))
    with psycopg.connect(settings.dsn) as conn:
        before = conn.execute("SELECT count(*) FROM neighbourhood_area").fetchone()
    lon, lat = CELLS["bad"]
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon, lat],
                [lon + 0.004, lat + 0.003],
                [lon + 0.004, lat],
                [lon, lat + 0.003],
                [lon, lat],
            ]
        ],
    }

    def apply_area(body: dict[str, Any]) -> Any:
        return post(client, people.officer, "/neighbourhood-areas", body)

    assert "Self-intersection" in problem(apply_area(area_body(geometry=bowtie)), 422)["detail"]
    paris = at(2.35, 48.85)
    assert "beyond England" in problem(apply_area(area_body(geometry=paris)), 422)["detail"]
    far = {"type": "Polygon", "coordinates": [[[170, 10], [171, 10], [171, 11], [170, 10]]]}
    problem(apply_area(area_body(geometry=far)), 422)
    problem(apply_area(area_body(geometry={"type": "Point", "coordinates": [lon, lat]})), 422)
    future = problem(apply_area(area_body(geometry=at(lon, lat), applied_on="2026-03-03")), 400)
    assert "future" in future["detail"]
    unknown = problem(
        apply_area(
            area_body(
                geometry=at(lon, lat), applicant_type="neighbourhood_group", group="NG-000000999999"
            )
        ),
        400,
    )
    assert "NG-000000999999" in unknown["detail"]
    problem(apply_area(area_body(geometry=at(lon, lat), applicant_type="mayor")), 422)
    # A group manager may not apply for someone else.
    problem(
        post(client, people.manager, "/neighbourhood-areas", area_body(geometry=at(lon, lat))),
        403,
    )
    problem(client.post("/neighbourhood-areas", json=area_body(geometry=at(lon, lat))), 401)
    with psycopg.connect(settings.dsn) as conn:
        after = conn.execute("SELECT count(*) FROM neighbourhood_area").fetchone()
    assert before == after
    problem(client.get("/neighbourhood-areas/999999999"), 404)
    # A point far away is outside England (404), never a transformation error.
    far_point = problem(client.get("/neighbourhood-areas/at", params={"lon": 170, "lat": 10}), 404)
    assert "outside England" in far_point["detail"]
    assert ok(client.get("/neighbourhood-areas/at", params={"lon": lon, "lat": lat})) == []


def test_forum_designation_and_its_five_years(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 2, 20))
    area = new_area(client, people.officer, geometry=at(*CELLS["forum"]))
    path = f"/neighbourhood-areas/{area['id']}"

    def apply_for_forum(**body: Any) -> Any:
        """Apply for a forum for the area, as the officer."""
        return post(client, people.officer, f"{path}/forums", body)

    not_yet = problem(apply_for_forum(name="Test forum", applied_on="2026-02-20"), 409)
    assert "designated" in not_yet["detail"]
    ok(step(client, people.officer, path, "designate"))
    forum = ok(
        apply_for_forum(name="Test forum", applied_on="2026-02-20", publicised_on="2026-02-20"), 201
    )
    assert forum["reference"].startswith("NF-")
    assert {d["kind"]: d["ends"] for d in forum["deadlines"]}["representations_end"] == "2026-04-03"
    second = problem(apply_for_forum(name="Another", applied_on="2026-02-20"), 409)
    assert forum["reference"] in second["detail"]
    fpath = f"/neighbourhood-forums/{forum['id']}"

    def designate_forum(members: int) -> Any:
        """Designate the forum as the officer: open membership, a written constitution."""
        return step(
            client,
            people.officer,
            fpath,
            "designate",
            members=members,
            members_confirmed_on="2026-04-01",
            open_membership=True,
            written_constitution=True,
        )

    freeze(date(2026, 4, 4))
    few = problem(designate_forum(20), 400)
    assert "at least 21" in few["detail"]
    designated = ok(designate_forum(21))
    assert designated["status"] == "designated" and designated["expires_on"] == "2031-04-03"
    assert designated["members"] == 21
    freeze(date(2031, 4, 4))
    assert ok(client.get(fpath))["status"] == "expired"
    # Once expired, the area may have a new forum; the old one is stored as expired.
    renewed = ok(apply_for_forum(name="Test forum, again", applied_on="2031-04-04"), 201)
    assert renewed["status"] == "applied"
    steps = [(e["entity"], e["step"]) for e in ok(client.get(f"{path}/history"))]
    assert ("forum", "expire") in steps


def test_a_registered_group_applies_and_keeps_its_identity(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 11, 25))
    x, y = TO_BNG.transform(*CELLS["group"])
    group = ok(client.post("/groups", json=group_body(x, y), headers=people.manager.headers), 201)
    reference = group["reference"]
    freeze(date(2026, 11, 30))
    area = new_area(
        client,
        people.manager,
        geometry=at(*CELLS["group"]),
        applicant_type="neighbourhood_group",
        applicant_name=None,
        group=reference,
        applied_on="2026-11-30",
        publicised_on="2026-11-30",
    )
    assert area["group_reference"] == reference and area["applicant_name"] == group["name"]
    # Another manager's key may not apply as that group.
    problem(
        client.post(
            "/neighbourhood-areas",
            json=area_body(
                geometry=at(*CELLS["group"], dx=800),
                applicant_type="neighbourhood_group",
                applicant_name=None,
                group=reference,
                applied_on="2026-11-30",
                publicised_on=None,
            ),
            headers=people.other_manager.headers,
        ),
        403,
    )
    freeze(date(2027, 1, 12))
    ok(designate(client, people.officer, area))
    forum = ok(
        post(
            client,
            people.manager,
            f"/neighbourhood-areas/{area['id']}/forums",
            {"group": reference, "applied_on": "2027-01-12"},
        ),
        201,
    )
    assert forum["reference"] == reference and forum["group_reference"] == reference


def test_plan_through_its_stages(client: TestClient, people: People, freeze: Freeze) -> None:
    freeze(date(2026, 5, 1))
    area = parish_area(client, people.officer, at(*CELLS["plan"]), ("2026-05-01", "2026-05-01"))
    path = f"/neighbourhood-areas/{area['id']}"
    freeze(date(2026, 6, 13))
    ok(step(client, people.officer, path, "designate"))
    freeze(date(2026, 6, 1))
    doc = {"title": "Draft plan", "url": "https://example.org/draft-plan.pdf"}
    plan = ok(
        post(client, people.officer, f"{path}/plans", {"name": "Test plan", "documents": [doc]}),
        201,
    )
    assert plan["status"] == "draft" and plan["next_steps"] == ["start_consultation", "withdraw"]
    problem(
        client.post(f"{path}/plans", json={"name": "Second plan"}, headers=people.officer.headers),
        409,
    )
    ppath = f"/neighbourhood-plans/{plan['id']}"
    freeze(date(2026, 6, 15))
    started = ok(step(client, people.officer, ppath, "start_consultation"))
    assert started["next_deadline"]["ends"] == "2026-07-27"
    freeze(date(2026, 7, 27))
    early = problem(step(client, people.officer, ppath, "submit"), 409)
    assert "2026-07-28" in early["detail"] and early["allowed"] == ["withdraw"]
    skipped = problem(step(client, people.officer, ppath, "make"), 409)
    assert "make" not in skipped["allowed"]
    freeze(date(2026, 7, 28))
    ok(step(client, people.officer, ppath, "submit"))
    ok(step(client, people.officer, ppath, "publicise"))
    freeze(date(2026, 9, 9))
    ok(step(client, people.officer, ppath, "examine"))
    freeze(date(2026, 11, 2))
    reported = ok(step(client, people.officer, ppath, "receive_report"))
    assert reported["next_deadline"] == {
        "kind": "decision_due",
        "period": "decision on the examiner's report",
        "begins": "2026-11-02",
        "ends": "2026-12-08",
        "authority": "2012 Regs reg 17A(2)",
        "passed": False,
    }
    freeze(date(2026, 12, 8))
    ok(step(client, people.officer, ppath, "order_referendum"))
    freeze(date(2027, 3, 4))
    passed = ok(step(client, people.officer, ppath, "hold_referendum", referendum_passed=True))
    assert passed["next_deadline"]["ends"] == "2027-04-30"
    freeze(date(2027, 4, 30))
    report = {"title": "Made plan", "url": "https://example.org/made.pdf"}
    made = ok(step(client, people.officer, ppath, "make", documents=[report]))
    assert made["status"] == "made" and not made["decided_late"]
    assert [d["stage"] for d in made["documents"]] == [None, "made"]
    shown = ok(client.get(path))
    assert shown["stage"] == "plan made"


def test_levy_year_with_hand_worked_figures(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2027, 5, 1))
    area = parish_area(client, people.officer, at(*CELLS["levy"]), ("2026-01-02", "2026-01-05"))
    path = f"/neighbourhood-areas/{area['id']}"

    def receipt(development: str, amount: str, received_on: str, plan_in_effect: bool) -> Any:
        """Record a levy receipt of the area, as the officer."""
        return step(
            client,
            people.officer,
            path,
            "levy-receipts",
            development=development,
            amount=amount,
            received_on=received_on,
            plan_in_effect=plan_in_effect,
        )

    for development, amount, received, planned in (
        ("EXAMPLE site A", "200000.00", "2026-05-15", False),
        ("EXAMPLE site B", "150000.00", "2026-11-20", False),
        ("EXAMPLE site C", "80000.00", "2027-01-10", True),
    ):
        ok(receipt(development, amount, received, planned), 201)
    missing = ok(client.get(f"{path}/levy", params={"year": 2026}))
    assert missing["total_portion"] is None and missing["cap"] is None
    assert any("dwellings" in m for m in missing["missing"])
    assert missing["uncapped_portion"] == "20000.00"
    response = client.put(
        f"{path}/dwellings",
        json={
            "financial_year": 2026,
            "dwellings": 400,
            "dwellings_source": "EXAMPLE count",
            "index_year": "380",
            "index_base": "334",
            "index_source": "EXAMPLE index",
        },
        headers=people.officer.headers,
    )
    assert response.status_code == 200, response.text
    year = ok(client.get(f"{path}/levy", params={"year": 2026}))
    # £100 x 400 x 380 / 334 = £45,508.98; 15% of A (30,000) + B (22,500) capped to it.
    assert year["cap"] == "45508.98" and year["capped_portion"] == "45508.98"
    assert year["total_portion"] == "65508.98"
    assert [(i["amount"], i["payment_due"]) for i in year["instalments"]] == [
        ("30000.00", "2026-10-28"),
        ("35508.98", "2027-04-28"),
    ]
    problem(receipt("x", "-5", "2026-05-01", False), 422)
    problem(receipt("xx", "5", "2027-05-02", False), 400)


def test_deadlines_join_the_feeds(
    client: TestClient, people: People, freeze: Freeze, settings: DatabaseSettings
) -> None:
    freeze(date(2026, 9, 1))
    area = new_area(
        client,
        people.officer,
        geometry=at(*CELLS["feeds"]),
        applied_on="2026-09-01",
        publicised_on="2026-09-01",
    )
    found = ok(client.get("/neighbourhood-areas/deadlines", params={"lad": TRAFFORD, "days": 60}))
    mine = [d for d in found if d["area_id"] == area["id"]]
    assert [(d["kind"], d["ends"]) for d in mine] == [("representations_end", "2026-10-13")]
    calendar = client.get("/deadlines.ics", params={"lad": TRAFFORD, "days": 120})
    assert calendar.status_code == 200
    text = calendar.text.replace("\r\n ", "")
    assert f"UID:planning-area-{area['id']}-decision_due-20261202@platoons" in text
    listing = client.get("/neighbourhood-areas.csv", params={"lad": TRAFFORD})
    assert listing.status_code == 200 and area["reference"] in listing.text
    assert listing.headers["content-disposition"].endswith('filename="neighbourhood-plan-area.csv"')
    collection = ok(client.get("/neighbourhood-areas.geojson", params={"lad": TRAFFORD}))
    mine = [f for f in collection["features"] if f["properties"]["reference"] == area["reference"]]
    assert len(mine) == 1 and mine[0]["geometry"]["type"] == "MultiPolygon"
    forums_csv = client.get("/neighbourhood-areas.csv", params={"dataset": "neighbourhood-forum"})
    assert forums_csv.text.startswith("reference,name,neighbourhood-forum,")
    # Once the representations have closed the daily pass moves the map's deadline on.
    item = f"/collections/neighbourhood-areas/items/{area['reference']}"
    assert ok(client.get(item))["properties"]["next_deadline_kind"] == "representations_end"

    async def refresh(aconn: psycopg.AsyncConnection) -> int:
        return await serving.refresh_passed_deadlines(aconn, date(2026, 10, 14))

    assert factories.run(settings.dsn, refresh) >= 1
    moved = ok(client.get(item))["properties"]
    assert (moved["next_deadline_kind"], moved["next_deadline"]) == ("decision_due", "2026-12-02")
