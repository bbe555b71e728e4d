"""Importing the example neighbourhood areas file, idempotently, and the export round trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
import pytest
import shapely.geometry
from pyproj import Transformer

from data import planning
from geo.national_files import ImportReport
from geo.planning import exchange

pytestmark = pytest.mark.anyio
EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "examples"
    / "neighbourhood_areas_example.geojson"
)
TODAY = date(2026, 12, 1)
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)


async def _import(
    aconn: psycopg.AsyncConnection, dataset: exchange.Dataset, text: str, source: str
) -> ImportReport:
    """Import a CSV text of ``dataset`` as the command line does, as example data."""
    ctx = exchange.ImportContext(aconn, source, planning.CLI_PRINCIPAL, TODAY, is_example=True)
    return await exchange.import_rows(ctx, dataset, text, "csv")


async def test_example_file_imports_once_and_round_trips(aconn: psycopg.AsyncConnection) -> None:
    report = await planning.import_file(aconn, EXAMPLE, TODAY, is_example=True)
    assert report.imported == ["NA-EXAMPLE-1", "NA-EXAMPLE-2", "NA-EXAMPLE-3"], report.skipped
    again = await planning.import_file(aconn, EXAMPLE, TODAY, is_example=True)
    assert again.imported == [] and [r for _, _, r in again.skipped] == [
        f"reference 'NA-EXAMPLE-{i}' is already recorded" for i in (1, 2, 3)
    ]
    given = {f["properties"]["reference"]: f for f in json.loads(EXAMPLE.read_text())["features"]}
    records = {
        r["reference"]: r
        for r in await exchange.export_records(aconn, "neighbourhood-plan-area", TODAY)
        if r["reference"] in given
    }
    assert set(records) == set(given)
    # Statutory facts survive the trip: the kind is recomputed from the geometry (area 3
    # crosses into Manchester), designations are replayed on their decision dates.
    assert records["NA-EXAMPLE-1"]["area-kind"] == "standard"
    assert records["NA-EXAMPLE-2"]["area-kind"] == "whole_parish"
    assert records["NA-EXAMPLE-3"]["area-kind"] == "cross_authority"
    assert records["NA-EXAMPLE-3"]["local-planning-authorities"] == "E08000003;E08000009"
    assert records["NA-EXAMPLE-3"]["stage"] == "area publicised"
    assert all(r["notes"] == "EXAMPLE data" for r in records.values())
    # CSV out and back in: every field the example states comes back unchanged.
    text = exchange.to_csv("neighbourhood-plan-area", list(records.values()))
    rows = {row["reference"]: row for _, row in exchange.read_rows(text, "csv")}
    for reference, feature in given.items():
        stated = feature["properties"]
        row = rows[reference]
        for name in (
            "name",
            "applicant-type",
            "applicant",
            "status",
            "application-date",
            "publicity-date",
            "decision-date",
        ):
            assert row[name] == stated[name], (reference, name)
        drawn = shapely.geometry.shape(feature["geometry"])
        back = shapely.geometry.shape(row["_geometry"])
        assert back.symmetric_difference(drawn).area < 1e-9 * drawn.area + 1e-12
    # GeoJSON out: one feature per area, with the polygon as drawn.
    collection = exchange.to_geojson(list(records.values()))
    assert len(collection["features"]) == 3
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in collection["features"])


async def test_bad_rows_are_reported_not_written(aconn: psycopg.AsyncConnection) -> None:
    text = (
        "reference,name,geometry,applicant-type,applicant,status,application-date,"
        "publicity-date,decision-date\r\n"
        'NA-BAD-1,EXAMPLE bad 1,"POLYGON((2.3 48.8,2.4 48.8,2.4 48.9,2.3 48.8))",'
        "prospective_forum,EXAMPLE,applied,2026-01-05,,\r\n"
        "NA-BAD-2,EXAMPLE bad 2,,prospective_forum,EXAMPLE,applied,2026-01-05,,\r\n"
        'NA-BAD-3,EXAMPLE bad 3,"POLYGON((-2.33 53.455,-2.325 53.455,-2.325 53.458,-2.33 53.455))",'
        "prospective_forum,EXAMPLE,designated,2026-01-05,2026-01-05,2026-01-20\r\n"
    )
    report = await _import(aconn, "neighbourhood-plan-area", text, "bad.csv")
    assert report.imported == []
    reasons = {line: reason for line, _, reason in report.skipped}
    assert "beyond England" in reasons[2]
    assert "GeoJSON Polygon" in reasons[3]
    # Designated before representations closed (6 weeks from 5 January: 16 February).
    assert "2026-02-16" in reasons[4]
    found = await aconn.execute(
        "SELECT count(*) FROM neighbourhood_area WHERE reference LIKE 'NA-BAD-%'"
    )
    assert (await found.fetchone()) == (0,)


async def test_forums_import_through_the_rules_and_round_trip(
    aconn: psycopg.AsyncConnection,
) -> None:
    await planning.import_file(aconn, EXAMPLE, TODAY, is_example=True)
    text = (
        "reference,name,neighbourhood-plan-area,status,members,members-confirmed-date,"
        "open-membership,written-constitution,application-date,publicity-date,start-date\r\n"
        "NF-X,EXAMPLE forum 1,NA-EXAMPLE-1,designated,25,2025-04-01,true,true,"
        "2025-04-07,2025-04-14,2025-06-02\r\n"
        "NF-Y,EXAMPLE forum 2,NA-EXAMPLE-2,applied,,,,,2025-04-07,,\r\n"
        "NF-Z,EXAMPLE forum 3,NA-EXAMPLE-9,applied,,,,,2025-04-07,,\r\n"
    )
    path = Path("forums.csv")
    report = await _import(aconn, "neighbourhood-forum", text, path.name)
    reasons = {line: reason for line, _, reason in report.skipped}
    assert len(report.imported) == 1 and report.imported[0].startswith("NF-")
    assert "parish council" in reasons[3]  # area 2 is a parish council's: no forum
    assert "NA-EXAMPLE-9" in reasons[4]
    records = [
        r
        for r in await exchange.export_records(aconn, "neighbourhood-forum", TODAY)
        if r["neighbourhood-plan-area"] == "NA-EXAMPLE-1"
    ]
    assert len(records) == 1
    forum = records[0]
    # Designated 2 June 2025: five years beginning that day end on 1 June 2030 (s.61F(8)).
    assert (forum["status"], forum["start-date"], forum["end-date"]) == (
        "designated",
        "2025-06-02",
        "2030-06-01",
    )
    assert (forum["members"], forum["open-membership"]) == ("25", "true")
    back = exchange.read_rows(exchange.to_csv("neighbourhood-forum", records), "csv")
    assert exchange.dataset_of(back) == "neighbourhood-forum"
    assert back[0][1]["members-confirmed-date"] == "2025-04-01"


PLANS_EXAMPLE = EXAMPLE.with_name("neighbourhood_plans_example.csv")
# The plan's fields a round trip keeps (organisation is the area's district; entry-date is
# the first stage's date on export; notes are Platoons' label).
PLAN_STAGE_FIELDS = tuple(
    name
    for name in exchange.FIELDS["neighbourhood-plan"]
    if name not in ("reference", "organisation", "notes", "entry-date")
)


async def test_example_plan_imports_once_and_round_trips(aconn: psycopg.AsyncConnection) -> None:
    await planning.import_file(aconn, EXAMPLE, TODAY, is_example=True)
    report = await planning.import_file(aconn, PLANS_EXAMPLE, TODAY, is_example=True)
    assert report.imported == ["NP-EXAMPLE-1"], report.skipped
    again = await planning.import_file(aconn, PLANS_EXAMPLE, TODAY, is_example=True)
    assert again.imported == [] and len(again.skipped) == 1
    assert "already has plan NP-EXAMPLE-1" in again.skipped[0][2]
    found = await aconn.execute(
        "SELECT count(*) FROM neighbourhood_plan WHERE reference = 'NP-EXAMPLE-1'"
    )
    assert (await found.fetchone()) == (1,)
    stated = next(row for _, row in exchange.read_rows(PLANS_EXAMPLE.read_text(), "csv"))
    records = [
        r
        for r in await exchange.export_records(aconn, "neighbourhood-plan", TODAY)
        if r["reference"] == "NP-EXAMPLE-1"
    ]
    assert len(records) == 1
    # Every stage date replayed through the rules comes back as the file states it (the plan
    # was made 20 November 2025, within 8 weeks of the day after the referendum: on time).
    for name in PLAN_STAGE_FIELDS:
        assert records[0][name] == stated[name], name
    assert records[0]["notes"] == "EXAMPLE data"
    # CSV out and back in: the same fields, and recognised as the plan dataset.
    back = exchange.read_rows(exchange.to_csv("neighbourhood-plan", records), "csv")
    assert exchange.dataset_of(back) == "neighbourhood-plan"
    assert {name: back[0][1][name] for name in PLAN_STAGE_FIELDS} == {
        name: stated[name] for name in PLAN_STAGE_FIELDS
    }
    # GeoJSON out: the plan's properties over its area's polygon.
    feature = exchange.to_geojson(records)["features"][0]
    assert feature["properties"]["reference"] == "NP-EXAMPLE-1"
    assert feature["geometry"]["type"] == "MultiPolygon"
    plan = await aconn.execute(
        "SELECT decided_late, documents FROM neighbourhood_plan WHERE reference = 'NP-EXAMPLE-1'"
    )
    late, documents = await plan.fetchone()  # type: ignore[misc]
    assert late is False
    assert [d["title"] for d in documents] == ["submission-plan.pdf", "examiner-report.pdf"]


def _square_wkt(lon: float, lat: float, side: float = 300.0) -> str:
    """A square of ``side`` metres (EPSG:27700) centred on a point, as WKT in EPSG:4326."""
    x, y = TO_BNG.transform(lon, lat)
    half = side / 2
    corners = [
        (x - half, y - half),
        (x + half, y - half),
        (x + half, y + half),
        (x - half, y + half),
    ]
    ring = [TO_LONLAT.transform(cx, cy) for cx, cy in [*corners, corners[0]]]
    return "POLYGON((" + ",".join(f"{lon:.6f} {lat:.6f}" for lon, lat in ring) + "))"


async def test_plan_rows_replay_through_the_rules(aconn: psycopg.AsyncConnection) -> None:
    # Two areas of this test's own, in Timperley (Trafford), where no other test designates:
    # a parish council's whole parish (designated on application, reg 5A) and a forum area
    # designated without a forum (so it has no qualifying body).
    areas_text = (
        "reference,name,geometry,applicant-type,applicant,area-kind,status,application-date,"
        "publicity-date,decision-date\r\n"
        f'NA-PT-1,EXAMPLE parish,"{_square_wkt(-2.36, 53.40)}",parish_council,EXAMPLE Parish '
        "Council,whole_parish,designated,2025-02-03,,2025-02-03\r\n"
        f'NA-PT-2,EXAMPLE forum area,"{_square_wkt(-2.35, 53.40)}",prospective_forum,EXAMPLE '
        "forum,standard,designated,2025-01-06,2025-01-13,2025-03-10\r\n"
    )
    made = await _import(aconn, "neighbourhood-plan-area", areas_text, "areas.csv")
    assert made.imported == ["NA-PT-1", "NA-PT-2"], made.skipped
    header = (
        "reference,name,neighbourhood-plan-area,status,pre-submission-consultation-date,"
        "submission-date,publicity-date,examination-date,examiner-report-date,"
        "referendum-ordered-date,referendum-date,made-date,entry-date,end-date\r\n"
    )
    text = header + (
        # Submitted on 14 April 2025, inside the consultation that runs 6 weeks from 10
        # March, until 21 April (reg 14(a)(iv)).
        "NP-T-1,EXAMPLE early,NA-PT-1,submitted,2025-03-10,2025-04-14,,,,,,,,\r\n"
        # No parish council applied for area 2 and no forum is designated for it.
        "NP-T-2,EXAMPLE no body,NA-PT-2,draft,,,,,,,,,2025-03-03,\r\n"
        # Made, says the status, but no made-date: the dates lead to referendum_passed.
        "NP-T-3,EXAMPLE unmade,NA-PT-1,made,2025-03-10,2025-05-12,2025-05-19,"
        "2025-07-07,2025-09-01,2025-09-15,2025-10-30,,,\r\n"
        # Failed at its referendum (the status says so) on 30 October 2025.
        "NP-T-4,EXAMPLE lost,NA-PT-1,failed,2025-03-10,2025-05-12,2025-05-19,"
        "2025-07-07,2025-09-01,2025-09-15,2025-10-30,,,\r\n"
        # Withdrawn during its consultation.
        "NP-T-5,EXAMPLE withdrawn,NA-PT-1,withdrawn,2025-11-03,,,,,,,,,2025-11-10\r\n"
    )
    report = await _import(aconn, "neighbourhood-plan", text, "plans.csv")
    assert report.imported == ["NP-T-4", "NP-T-5"], report.skipped
    reasons = {line: reason for line, _, reason in report.skipped}
    assert "2025-04-21" in reasons[2]
    assert "no qualifying body" in reasons[3]
    assert "'referendum_passed', not its status 'made'" in reasons[4]
    records = {
        r["reference"]: r
        for r in await exchange.export_records(aconn, "neighbourhood-plan", TODAY)
        if r["reference"].startswith("NP-T-")
    }
    assert set(records) == {"NP-T-4", "NP-T-5"}
    assert (records["NP-T-4"]["status"], records["NP-T-4"]["end-date"]) == ("failed", "2025-10-30")
    assert (records["NP-T-5"]["status"], records["NP-T-5"]["end-date"]) == (
        "withdrawn",
        "2025-11-10",
    )
    found = await aconn.execute(
        "SELECT count(*) FROM planning_event e JOIN neighbourhood_plan p "
        "ON e.entity = 'plan' AND e.entity_id = p.id WHERE p.reference LIKE 'NP-T-%'"
    )
    # NP-T-4: drafted and seven steps to the referendum; NP-T-5: drafted, consulted,
    # withdrawn; nothing of the three refused rows.
    assert (await found.fetchone()) == (8 + 3,)
    again = await _import(aconn, "neighbourhood-plan", text, "plans.csv")
    assert again.imported == []
    assert [reason for _, _, reason in again.skipped][3:] == [
        f"reference 'NP-T-{i}' is already recorded" for i in (4, 5)
    ]
