"""Importing the example neighbourhood areas file, idempotently, and the export round trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
import pytest
import shapely.geometry

from data import planning
from geo.planning import exchange

pytestmark = pytest.mark.anyio
EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "examples"
    / "neighbourhood_areas_example.geojson"
)
TODAY = date(2026, 12, 1)


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
    report = await exchange.import_areas(
        aconn, text, "csv", "bad.csv", planning.CLI_PRINCIPAL, TODAY, is_example=True
    )
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
    report = await exchange.import_forums(
        aconn, text, "csv", path.name, planning.CLI_PRINCIPAL, TODAY, is_example=True
    )
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
