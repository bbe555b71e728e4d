"""Trafford Council's published land and buildings into the asset register (demo database).

Every import runs inside a transaction the test rolls back, so the register the other tests
see is untouched. The file is the real one (data/national/assets, 608 sites); what it places
where is checked against the file itself and the demo geography.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from config.settings import DatabaseSettings
from data import NATIONAL_DIR, land_and_buildings
from data.land_and_buildings import LandImportReport
from geo.errors import LoadError
from tests.utils.commands import run_python
from tests.utils.factories import run

LAND_FILE = NATIONAL_DIR / "assets" / "trafford_council_land_and_building_assets.csv"
TRAFFORD, MANCHESTER = "E08000009", "E08000003"
ON = date(2026, 12, 7)
SOURCE = "land-and-buildings:trafford_council_land_and_building_assets.csv"


def text() -> str:
    return LAND_FILE.read_text(encoding="utf-8")


def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text())))


def import_and_inspect(
    dsn: str, *texts: str
) -> tuple[list[LandImportReport], list[dict[str, Any]], int]:
    """Import each text in turn in one transaction that is rolled back; reports and rows."""

    async def work(conn: psycopg.AsyncConnection) -> tuple[list[LandImportReport], Any, int]:
        reports = []
        async with conn.transaction(force_rollback=True):
            for each in texts:
                reports.append(
                    await land_and_buildings.import_land_and_buildings(
                        conn, each, SOURCE, "test", ON
                    )
                )
            cur = await conn.execute(
                "SELECT a.reference, a.name, a.uprn, a.lad_code, a.status, a.owner_type,"
                " a.source, a.location_basis, a.version, s.fid IS NOT NULL AS on_map"
                " FROM asset a LEFT JOIN asset_serving s ON s.fid = a.id"
                " WHERE a.source = %s ORDER BY a.reference",
                (SOURCE,),
            )
            names = [d.name for d in cur.description or []]
            found = [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]
            events = await conn.execute(
                "SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id"
                " WHERE a.source = %s",
                (SOURCE,),
            )
            (count,) = await events.fetchone() or (0,)
        return reports, found, int(count)

    return run(dsn, work)


def test_every_site_of_the_file_is_placed_where_the_council_says(
    settings: DatabaseSettings,
) -> None:
    published = rows()
    assert len(published) == 608
    (report,), stored, events = import_and_inspect(settings.dsn, text())
    # Two sites the council publishes at points in Warrington (Sonova House) and Wigan (The
    # Fort), outside the demo's four districts: reported by line, not stored.
    assert [(line, name) for line, name, _ in report.not_stored] == [
        (123, "Sonova House"),
        (124, "The Fort"),
    ]
    assert all("no English LSOA" in reason for _, _, reason in report.not_stored)
    assert len(report.inserted) == len(stored) == events == 606
    by_lad: dict[str, list[str]] = {}
    for asset in stored:
        by_lad.setdefault(asset["lad_code"], []).append(asset["name"])
    # Trafford's own district holds all but two; those two the file itself puts in Manchester
    # (Tatton House, Wythenshawe M23; land by Baguley Brook on the boundary).
    assert len(by_lad[TRAFFORD]) == 604
    assert sorted(by_lad[MANCHESTER]) == [
        "Land between Dalebrook Road and Baguley Brook, Sale",
        "Tatton House",
    ]
    assert set(by_lad) == {TRAFFORD, MANCHESTER}
    assert {a["status"] for a in stored} == {"recorded"}
    assert {a["owner_type"] for a in stored} == {"local_authority"}
    assert all(a["on_map"] for a in stored)
    # The UPRN comes through wherever the file gives one.
    uprns = {f"trafford-council-land-{r['AssetCode']}": r["UPRN"] for r in published}
    assert all(str(a["uprn"] or "") == uprns[a["reference"]] for a in stored)
    kept = [r for i, r in enumerate(published, start=2) if i not in (123, 124)]
    assert sum(a["uprn"] is not None for a in stored) == sum(bool(r["UPRN"]) for r in kept) == 271
    # How each was placed, from the file's columns: 373 points (two not stored), then postcodes.
    with_point = sum(1 for r in published if r["GeoX"])
    assert report.location_basis["published_point"] == with_point - 2
    assert report.location_basis == {
        "published_point": 371,
        "postcode": 22,
        "postcode_district": 210,
        "owner_district": 3,
    }
    warnings = dict(report.warnings)
    assert "latitude then longitude" in warnings[387]  # Davyhulme Youth Centre
    assert "read as M32 0XZ" in warnings[343]


def test_a_reimport_changes_nothing_and_a_changed_site_is_updated(
    settings: DatabaseSettings,
) -> None:
    original = text()
    renamed = original.replace("Altrincham Town Hall", "Altrincham Town Hall (renamed)", 1)
    (first, again, changed), stored, events = import_and_inspect(
        settings.dsn, original, original, renamed
    )
    assert len(first.inserted) == 606
    assert again.inserted == again.updated == [] and len(again.unchanged) == 606
    assert changed.updated == ["trafford-council-land-TMBC0001/T0000003"]
    assert len(changed.unchanged) == 605
    town_hall = next(a for a in stored if a["reference"].endswith("TMBC0001/T0000003"))
    assert (town_hall["name"], town_hall["version"]) == ("Altrincham Town Hall (renamed)", 2)
    assert events == 606 + 1  # one record each, one update_facts; the re-import wrote none


def break_lines(changes: dict[int, dict[str, str]]) -> str:
    """The real file with some fields of some lines (file line numbers) replaced."""
    published = rows()
    for line, fields in changes.items():
        published[line - 2].update(fields)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(published[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(published)
    return out.getvalue()


MALFORMED = {
    5: {"UPRN": "10001279A"},
    10: {"PropertyName": ""},
    20: {"GeoY": ""},
    30: {"CoordinateReferenceSystem": "ED50"},
    40: {"AssetCode": "TMBC0003"},  # line 4's code
}


def test_malformed_rows_are_reported_by_line_and_nothing_is_stored(
    settings: DatabaseSettings,
) -> None:
    with pytest.raises(LoadError) as raised:
        import_and_inspect(settings.dsn, break_lines(MALFORMED))
    message = raised.value.message
    assert message.startswith("5 malformed row(s), nothing stored")
    assert "line 5: UPRN '10001279A' is not a UPRN" in message
    assert "line 10: PropertyName is empty" in message
    assert "line 20: only one of GeoX and GeoY is given" in message
    assert "line 30: CoordinateReferenceSystem 'ED50' is not one of" in message
    assert "line 40: AssetCode 'TMBC0003' is also on line 4" in message
    with psycopg.connect(settings.dsn) as conn:
        found = conn.execute("SELECT count(*) FROM asset WHERE source = %s", (SOURCE,)).fetchone()
    assert found == (0,)


def test_a_file_without_the_national_columns_is_refused() -> None:
    with pytest.raises(LoadError, match="no column UPRN, GeoX"):
        land_and_buildings.read_sites(
            "OrganisationLabel,AssetCode,PropertyName,PostCode,"
            "CoordinateReferenceSystem,GeoY\nA,B,C,D,E,F\n"
        )
    assert not land_and_buildings.is_land_and_buildings("name,address\nx,y\n")
    assert land_and_buildings.is_land_and_buildings(text())


def test_the_cli_refuses_a_malformed_file_with_its_lines(
    settings: DatabaseSettings, tmp_path: Path
) -> None:
    bad = tmp_path / "land.csv"
    bad.write_text(break_lines({7: {"GeoX": "west"}}), encoding="utf-8")
    done = run_python("-m", "cli", "assets", "import", str(bad), dsn=settings.dsn)
    assert done.returncode == 1, done.stdout
    assert "line 7: GeoX 'west' is not a number" in done.stderr + done.stdout
    with psycopg.connect(settings.dsn) as conn:
        found = conn.execute(
            "SELECT count(*) FROM asset WHERE source LIKE 'land-and-buildings:%'"
        ).fetchone()
    assert found == (0,)
