"""Assets of community value over HTTP: the lifecycle with frozen dates, roles, bad input,
concurrency, the map layer, the deadline feeds, and import/export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from config.settings import DatabaseSettings
from geo import assets
from tests.utils import factories
from tests.utils.http import ok, problem, service_today

TRAFFORD, BLACKPOOL = "E08000009", "E06000009"
DAY = timedelta(days=1)
Freeze = Callable[[date], None]


# The callers of these tests.
People = factories.Callers


@pytest.fixture(scope="module")
def people(settings: DatabaseSettings) -> Iterator[People]:
    yield from factories.module_callers(settings.dsn, TRAFFORD, BLACKPOOL)


@pytest.fixture
def freeze(client: TestClient) -> Iterator[Freeze]:
    """Set the date the service takes as today (restored after the test)."""
    yield from service_today(client)


def new_asset(client: TestClient, people: People, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/assets", json=factories.asset_body(**overrides), headers=people.officer.headers
    )
    return ok(response, 201)


def step(client: TestClient, key: factories.Key, asset_id: int, name: str, **body: Any) -> Any:
    return client.post(f"/assets/{asset_id}/{name}", json=body, headers=key.headers)


def listed_asset(client: TestClient, people: People, freeze: Freeze, on: date) -> int:
    """An asset nominated 30 days before ``on`` and listed on ``on``."""
    freeze(on - 30 * DAY)
    asset = new_asset(client, people)
    ok(step(client, people.manager, asset["id"], "nominate", **factories.nomination()))
    freeze(on)
    ok(step(client, people.officer, asset["id"], "list"))
    return int(asset["id"])


def test_create_derives_the_place_and_serves_it(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 1, 5))
    response = client.post(
        "/assets", json=factories.asset_body(uprn=100012345678), headers=people.manager.headers
    )
    created = ok(response, 201)
    assert response.headers["location"] == f"/assets/{created['id']}"
    assert response.headers["etag"].removeprefix("W/") == '"1"'
    assert created["lad_code"] == TRAFFORD
    assert created["lsoa_code"].startswith("E01") and created["imd_decile"] == 1
    assert created["edition_code"] == "IoD2025"
    assert created["status"] == "recorded" and created["next_steps"] == ["nominate"]
    # Typed place fields are not accepted: the place is derived.
    refused = client.post(
        "/assets",
        json=factories.asset_body(lad_code=BLACKPOOL),
        headers=people.manager.headers,
    )
    assert refused.status_code == 422
    # The OGC collection serves it at once (same transaction as the write).
    item = ok(client.get(f"/collections/assets-of-community-value/items/{created['reference']}"))
    assert item["properties"]["status"] == "recorded"
    assert item["geometry"]["type"] == "Point"


def test_full_lifecycle_walk_with_frozen_dates(
    client: TestClient, people: People, freeze: Freeze, settings: DatabaseSettings
) -> None:
    freeze(date(2025, 1, 6))
    asset_id = new_asset(client, people)["id"]
    nominated = ok(step(client, people.manager, asset_id, "nominate", **factories.nomination()))
    assert nominated["nominating_group"] == people.manager.principal.name
    assert nominated["deadlines"][0]["kind"] == "decision_due"
    assert nominated["deadlines"][0]["ends"] == "2025-03-02"  # 8 weeks beginning 6 Jan
    # A group cannot decide; the council lists it.
    problem(step(client, people.manager, asset_id, "list"), 403)
    freeze(date(2025, 2, 24))
    listed = ok(step(client, people.officer, asset_id, "list"))
    assert {d["kind"]: d["ends"] for d in listed["deadlines"]} == {
        "review_request_due": "2025-04-20",
        "listing_expires": "2030-02-23",
    }
    # Duplicate nomination of a listed asset.
    duplicate = problem(
        step(client, people.other_manager, asset_id, "nominate", **factories.nomination()), 409
    )
    assert "nominate" not in duplicate["allowed"] and "notify_disposal" in duplicate["allowed"]
    # Owner review requested the day after its window closed.
    freeze(date(2025, 4, 21))
    late = problem(step(client, people.officer, asset_id, "request_review"), 409)
    assert "2025-04-20" in late["detail"] and "request_review" not in late["allowed"]
    # Notice of disposal, then a request to bid on the last day of the interim moratorium.
    freeze(date(2026, 1, 5))
    notified = ok(step(client, people.officer, asset_id, "notify_disposal"))
    kinds = {d["kind"]: d["ends"] for d in notified["deadlines"]}
    assert kinds["interim_moratorium_ends"] == "2026-02-15"
    assert kinds["protected_period_ends"] == "2027-07-04"
    freeze(date(2026, 2, 15))
    bid = ok(step(client, people.other_manager, asset_id, "request_to_bid"))
    assert bid["status"] == "full_moratorium"
    assert bid["interest_group"] == people.other_manager.principal.name
    # A sale on the last day of the full moratorium is refused; the next day it may complete.
    freeze(date(2026, 7, 4))
    early = problem(step(client, people.officer, asset_id, "sell"), 409)
    assert "full moratorium runs until 2026-07-04" in early["detail"]
    freeze(date(2026, 7, 5))
    sold = ok(step(client, people.officer, asset_id, "sell"))
    assert sold["status"] == "disposed"
    # History and audit are complete: one event per step, each stamped with who and when.
    events = ok(client.get(f"/assets/{asset_id}/history"))
    assert [e["step"] for e in events] == [
        "record",
        "nominate",
        "list",
        "notify_disposal",
        "request_to_bid",
        "sell",
    ]
    assert [e["effective_on"] for e in events][-2:] == ["2026-02-15", "2026-07-05"]
    assert all(e["actor"].startswith("key:") for e in events)
    with psycopg.connect(settings.dsn) as conn:
        audited = conn.execute(
            "SELECT action, after->>'status' FROM audit_log"
            " WHERE entity = 'asset' AND entity_id = %s ORDER BY id",
            (str(asset_id),),
        ).fetchall()
    assert [a for a, _ in audited] == [f"asset.{e['step']}" for e in events]
    assert [s for _, s in audited] == [e["to_status"] for e in events]


@pytest.mark.parametrize(("offset", "status"), [(-1, 200), (0, 200), (1, 409)])
def test_request_to_bid_around_the_interim_moratorium_end(
    client: TestClient, people: People, freeze: Freeze, offset: int, status: int
) -> None:
    asset_id = listed_asset(client, people, freeze, date(2025, 6, 2))
    freeze(date(2025, 8, 31))
    ok(step(client, people.officer, asset_id, "notify_disposal"))
    interim_end = date(2025, 10, 11)  # 6 weeks beginning with 31 Aug
    freeze(interim_end + offset * DAY)
    response = step(client, people.manager, asset_id, "request_to_bid")
    assert response.status_code == status, response.text
    eligibility = ok(
        client.get(
            f"/assets/{asset_id}/eligibility",
            params={"group": people.other_manager.principal.name},
        )
    )
    assert eligibility["may_nominate"] is False
    assert eligibility["may_request_to_bid"] is False  # taken, or too late


@pytest.mark.parametrize(("offset", "status"), [(-1, 200), (0, 200), (1, 409)])
def test_owner_review_around_its_deadline(
    client: TestClient, people: People, freeze: Freeze, offset: int, status: int
) -> None:
    asset_id = listed_asset(client, people, freeze, date(2024, 12, 31))
    due = date(2025, 2, 24)  # 8 weeks beginning with 31 Dec 2024
    freeze(due + offset * DAY)
    assert step(client, people.officer, asset_id, "request_review").status_code == status


def test_eligibility_says_who_may_nominate_or_bid(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 3, 2))
    asset_id = new_asset(client, people)["id"]
    name = people.manager.principal.name
    answer = ok(client.get(f"/assets/{asset_id}/eligibility", params={"group": name}))
    assert answer["may_nominate"] is True and answer["may_request_to_bid"] is False
    unknown = problem(
        client.get(f"/assets/{asset_id}/eligibility", params={"group": "No Such Group"}), 404
    )
    assert unknown["parameter"] == "group"
    listed = listed_asset(client, people, freeze, date(2026, 3, 2))
    freeze(date(2026, 3, 9))
    ok(step(client, people.officer, listed, "notify_disposal"))
    answer = ok(client.get(f"/assets/{listed}/eligibility", params={"group": name}))
    assert answer["may_request_to_bid"] is True and answer["window_ends"] == "2026-04-19"


def registered_group(conn: psycopg.Connection, lon: float, lat: float, lad: str) -> str:
    """A listed neighbourhood group working 500 m around a point (inserted directly: these
    tests are of the asset rules, not the group registry); returns its reference."""
    reference = f"NG-{uuid.uuid4().int % 10**12:012d}"
    conn.execute(
        "INSERT INTO community_group (reference, name, kind, leader_name, leader_email,"
        " code_of_conduct_version, code_of_conduct_accepted_on, area, area_km2, lad_codes,"
        " principal_lad_code, created_by)"
        " SELECT %(ref)s, 'Group ' || %(ref)s, 'residents_association', 'A Leader',"
        " 'l@example.invalid', '2026-1', DATE '2026-01-01', ST_Multi(ST_Buffer(p, 500)),"
        " ST_Area(ST_Buffer(p, 500)) / 1e6, ARRAY[%(lad)s], %(lad)s, 'tests'"
        " FROM ST_Transform(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 27700) AS p",
        {"ref": reference, "lon": lon, "lat": lat, "lad": lad},
    )
    return reference


def test_a_registered_group_needs_a_local_connection(
    client: TestClient, people: People, freeze: Freeze, conn: psycopg.Connection
) -> None:
    # Trafford's asset; a group in Manchester (a neighbouring district) and one in Blackpool.
    neighbour = registered_group(conn, -2.2426, 53.4808, "E08000003")
    distant = registered_group(conn, -3.0357, 53.8175, BLACKPOOL)
    try:
        freeze(date(2026, 3, 2))
        asset_id = new_asset(client, people)["id"]
        url = f"/assets/{asset_id}/eligibility"
        near = ok(client.get(url, params={"group": neighbour}))
        assert near["may_nominate"] is True
        far = ok(client.get(url, params={"group": distant}))
        assert far["may_nominate"] is False and far["may_request_to_bid"] is False
        assert far["reasons"] == [
            f"Group {distant} ({distant}) works in {BLACKPOOL}: no local connection with "
            f"{TRAFFORD} or a neighbouring district (2012 Regulations reg. 4)"
        ]
        refused = step(
            client, people.officer, asset_id, "nominate", **factories.nomination(distant)
        )
        assert "no local connection" in problem(refused, 400)["detail"]
        assert ok(client.get(f"/assets/{asset_id}"))["status"] == "recorded"
        done = step(client, people.officer, asset_id, "nominate", **factories.nomination(neighbour))
        assert ok(done)["status"] == "nominated"
    finally:
        conn.execute(
            "DELETE FROM community_group WHERE reference = ANY(%s)", ([neighbour, distant],)
        )


def test_bad_input_gets_reasons(client: TestClient, people: People, freeze: Freeze) -> None:
    freeze(date(2026, 3, 2))
    paris = problem(
        client.post(
            "/assets",
            json=factories.asset_body(lon=2.35, lat=48.85),
            headers=people.officer.headers,
        ),
        400,
    )
    assert "outside England" in paris["detail"]
    # In England, but in no loaded LSOA (London, outside the demo extract).
    london = problem(
        client.post(
            "/assets",
            json=factories.asset_body(lon=-0.1276, lat=51.5072),
            headers=people.manager.headers,
        ),
        400,
    )
    assert "LSOA" in london["detail"]
    # An officer of another district may not record or decide Trafford assets.
    problem(
        client.post("/assets", json=factories.asset_body(), headers=people.other_officer.headers),
        403,
    )
    problem(client.post("/assets", json=factories.asset_body()), 401)
    asset_id = new_asset(client, people)["id"]
    # Nominations refused: taking effect in the future, by an unincorporated group of fewer
    # than 21 local electors (each naming the parameter), for a group the manager does not run.
    refused: list[tuple[dict[str, Any], int, str | None]] = [
        (factories.nomination(effective_on="2026-03-03"), 400, "effective_on"),
        ({"body_type": "unincorporated_group", "local_electors": 20}, 400, "local_electors"),
        (factories.nomination(group=people.other_manager.principal.name), 403, None),
    ]
    for body, status, parameter in refused:
        refusal = problem(step(client, people.manager, asset_id, "nominate", **body), status)
        if parameter is not None:
            assert refusal["parameter"] == parameter
    ok(step(client, people.manager, asset_id, "nominate", **factories.nomination()))
    problem(step(client, people.other_officer, asset_id, "list"), 403)
    refusal = problem(step(client, people.officer, asset_id, "decline"), 400)
    assert refusal["parameter"] == "reason"
    out_of_order = problem(step(client, people.officer, asset_id, "sell"), 409)
    assert out_of_order["allowed"] == ["list", "decline"]
    # Step routes match their steps only: no resource is there.
    assert client.post(f"/assets/{asset_id}/fly", headers=people.officer.headers).status_code == 404
    problem(client.get("/assets/999999999"), 404)
    stale = step(client, people.officer, asset_id, "list")
    assert stale.status_code == 200
    again = client.post(
        f"/assets/{asset_id}/remove",
        json={"reason": "test"},
        headers={**people.officer.headers, "If-Match": '"1"'},
    )
    problem(again, 412)


def test_parallel_steps_on_one_asset_never_both_succeed(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    freeze(date(2026, 3, 2))
    for _ in range(3):
        asset_id = new_asset(client, people)["id"]
        ok(step(client, people.manager, asset_id, "nominate", **factories.nomination()))
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(
                pool.map(
                    lambda name, asset_id=asset_id: step(
                        client, people.officer, asset_id, name, reason="not community use"
                    ),
                    ["list", "decline"],
                )
            )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        events = ok(client.get(f"/assets/{asset_id}/history"))
        assert len(events) == 3


def test_map_layer_and_tiles_carry_status_and_deadline(
    client: TestClient, people: People, freeze: Freeze
) -> None:
    asset_id = listed_asset(client, people, freeze, date(2026, 3, 2))
    reference = ok(client.get(f"/assets/{asset_id}"))["reference"]
    props = ok(client.get(f"/collections/assets-of-community-value/items/{reference}"))[
        "properties"
    ]
    assert props["status"] == "listed"
    assert props["next_deadline"] == "2026-04-26" and props["next_deadline_kind"] == (
        "review_request_due"
    )
    tile = morecantile.tms.get("WebMercatorQuad").tile(*factories.TRAFFORD_ASSET_POINT, 14)
    url = f"/collections/assets-of-community-value/tiles/WebMercatorQuad/14/{tile.y}/{tile.x}"
    geojson = ok(client.get(url, params={"f": "geojson"}))
    mine = [f for f in geojson["features"] if f["properties"].get("reference") == reference]
    assert len(mine) == 1 and mine[0]["properties"]["status"] == "listed"
    assert mine[0]["id"] == asset_id
    mvt = client.get(url)
    assert mvt.status_code == 200 and len(mvt.content) > 0


def test_map_deadline_moves_on_once_it_passes_without_a_step(
    client: TestClient, people: People, freeze: Freeze, settings: DatabaseSettings
) -> None:
    asset_id = listed_asset(client, people, freeze, date(2026, 3, 2))
    reference = ok(client.get(f"/assets/{asset_id}"))["reference"]
    url = f"/collections/assets-of-community-value/items/{reference}"

    # Not yet passed on the review deadline itself: nothing to do for this asset.
    factories.run(
        settings.dsn, lambda aconn: assets.refresh_passed_deadlines(aconn, date(2026, 4, 26))
    )
    assert ok(client.get(url))["properties"]["next_deadline"] == "2026-04-26"
    moved = factories.run(
        settings.dsn, lambda aconn: assets.refresh_passed_deadlines(aconn, date(2026, 4, 27))
    )
    assert moved >= 1
    props = ok(client.get(url))["properties"]
    # Five years beginning with 2 March 2026 end on 1 March 2031.
    assert props["next_deadline"] == "2031-03-01" and props["next_deadline_kind"] == (
        "listing_expires"
    )
    assert (
        factories.run(
            settings.dsn, lambda aconn: assets.refresh_passed_deadlines(aconn, date(2026, 4, 27))
        )
        == 0
    )


def test_assets_and_deadlines_of_a_neighbourhood_group(
    client: TestClient, people: People, freeze: Freeze, conn: psycopg.Connection
) -> None:
    lon, lat = factories.TRAFFORD_ASSET_POINT
    reference = registered_group(conn, lon, lat, TRAFFORD)
    try:
        inside = listed_asset(client, people, freeze, date(2026, 3, 2))
        far = ok(
            client.post(
                "/assets",
                json=factories.asset_body(lon=lon, lat=lat - 0.03),  # about 3.3 km south
                headers=people.officer.headers,
            ),
            201,
        )["id"]
        found = {
            a["id"] for a in ok(client.get("/assets", params={"group": reference, "limit": 1000}))
        }
        assert inside in found and far not in found
        deadlines = ok(client.get("/assets/deadlines", params={"group": reference, "days": 60}))
        # Other tests' assets share the test point; none outside the group's area appears.
        assert (inside, "review_request_due") in {(d["asset_id"], d["kind"]) for d in deadlines}
        assert {d["asset_id"] for d in deadlines} <= found
        calendar = client.get("/deadlines.ics", params={"group": reference})
        assert calendar.status_code == 200 and reference in calendar.text
        assert problem(client.get("/assets", params={"group": "NG-999999999999"}), 404)
        assert client.get("/assets", params={"group": "nobody"}).status_code == 422
    finally:
        conn.execute("DELETE FROM community_group WHERE reference = %s", (reference,))


def test_deadlines_list_and_calendar(client: TestClient, people: People, freeze: Freeze) -> None:
    name = f"Pub, Bar; and \\ Grill {uuid.uuid4().hex[:6]}"
    freeze(date(2027, 5, 1))
    asset = new_asset(client, people, name=name)
    ok(step(client, people.manager, asset["id"], "nominate", **factories.nomination()))
    upcoming = ok(client.get("/assets/deadlines", params={"lad": TRAFFORD, "days": 60}))
    mine = [d for d in upcoming if d["asset_id"] == asset["id"]]
    assert [(d["kind"], d["ends"]) for d in mine] == [("decision_due", "2027-06-25")]
    # Another district's list holds its own deadlines only, never this Trafford asset's.
    blackpool = ok(client.get("/assets/deadlines", params={"lad": BLACKPOOL, "days": 60}))
    assert asset["id"] not in {d["asset_id"] for d in blackpool}
    assert {d["lad_code"] for d in blackpool} <= {BLACKPOOL}
    response = client.get("/deadlines.ics", params={"lad": TRAFFORD, "days": 60})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    text = response.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    uid = f"UID:acv-{asset['id']}-decision_due-20270625@platoons"
    assert unfolded.count(uid) == 1
    assert "DTSTART;VALUE=DATE:20270625" in unfolded
    escaped = name.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    assert f"SUMMARY:{escaped}: decision on the nomination ends" in unfolded
    # Stable: the same feed tomorrow names the event with the same UID.
    freeze(date(2027, 5, 2))
    assert uid in client.get("/deadlines.ics", params={"lad": TRAFFORD}).text.replace("\r\n ", "")


def test_deprived_deciles_filter(client: TestClient, people: People, freeze: Freeze) -> None:
    freeze(date(2026, 3, 2))
    deprived = new_asset(client, people)  # M32 0WR: decile 1
    leafy = new_asset(client, people, lon=-2.34692, lat=53.38453, postcode="WA15 8HP")  # 8
    found = {a["id"] for a in ok(client.get("/assets", params={"max_decile": 2, "limit": 1000}))}
    assert deprived["id"] in found and leafy["id"] not in found


def test_export_national_format(client: TestClient, people: People, freeze: Freeze) -> None:
    asset_id = listed_asset(client, people, freeze, date(2025, 8, 31))
    reference = ok(client.get(f"/assets/{asset_id}"))["reference"]
    rows = list(csv.DictReader(io.StringIO(client.get("/assets.csv").text)))
    row = next(r for r in rows if r["reference"] == reference)
    assert row["decision"] == "listed" and row["start-date"] == "2025-08-31"
    assert row["expiry-date"] == "2030-08-30"
    assert row["point"].startswith("POINT(-2.3059")
    collection = ok(client.get("/assets.geojson", params={"lad": TRAFFORD}))
    assert any(f["properties"]["reference"] == reference for f in collection["features"])


def test_cli_import_reports_and_exits_by_what_imported(
    settings: DatabaseSettings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import cli

    monkeypatch.setenv("PLATOONS_DATABASE_URL", settings.dsn)
    example = (factories_root() / "data" / "examples" / "acv_register_example.csv").read_text()
    register = tmp_path / "register.csv"
    register.write_text(example.replace("EXAMPLE-ACV-", f"C{uuid.uuid4().hex[:8]}-"))
    runner = CliRunner()
    result = runner.invoke(cli, ["assets", "import", str(register), "--example"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "imported 4 asset(s)" in output
    assert "SW1A 1AA" in output and "no point and no postcode" in output
    # The same file again: nothing imports, every row is reported, exit 1.
    result = runner.invoke(cli, ["assets", "import", str(register)])
    assert result.exit_code == 1 and "already in the register" in " ".join(result.output.split())
    out = tmp_path / "export.geojson"
    result = runner.invoke(cli, ["assets", "export", str(out), "--lad", TRAFFORD])
    assert result.exit_code == 0 and out.read_text().startswith("{")


def factories_root() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
