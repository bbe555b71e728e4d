"""The asset register: import with unplaceable rows reported, derived places, the serving
layer kept in step, append-only history, and parallel steps on one connection each."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest

from config.settings import DatabaseSettings
from geo import assets
from geo.access import Principal
from geo.errors import IllegalTransition, StaleVersion

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "acv_register_example.csv"
EXAMPLE_GEOJSON = EXAMPLE.with_suffix(".geojson")
ON = date(2026, 11, 25)
OFFICER = Principal(role="officer", name="test officer", key_id=-1, lad_codes=("E08000009",))
ADMIN = Principal(role="admin", name="test admin", key_id=-2)


def unique(text: str) -> tuple[str, str]:
    """The example with references made unique for this test run (and the prefix used)."""
    prefix = f"T{uuid.uuid4().hex[:8]}-"
    return text.replace("EXAMPLE-ACV-", prefix), prefix


async def test_example_register_imports_and_reports_unplaceable_rows(
    aconn: psycopg.AsyncConnection,
) -> None:
    text, prefix = unique(EXAMPLE.read_text(encoding="utf-8"))
    report = await assets.import_register(
        aconn, text, "csv", EXAMPLE.name, "tests", ON, is_example=True
    )
    assert report.source.endswith("(national format)")
    assert report.imported == [f"{prefix}00{i}" for i in (1, 2, 3, 4)]
    assert [(line, reason) for line, _, reason in report.skipped] == [
        (
            6,
            "postcode SW1A 1AA is not in the loaded postcode directory, so the asset cannot be "
            "placed (add a point)",
        ),
        (7, "no point and no postcode: the asset cannot be placed"),
    ]
    assert report.warnings == []
    rows = {
        a.reference: a
        for a in await assets.list_assets(aconn, ON, lad="E08000009", limit=1000)
        if a.reference.startswith(prefix)
    }
    pub, library, park, shop = (rows[f"{prefix}00{i}"] for i in (1, 2, 3, 4))
    assert pub.status == "listed" and pub.listed_on == date(2025, 2, 24) and pub.is_example
    assert pub.imd_decile == 1 and pub.lad_code == "E08000009"
    # Placed by the postcode in its address; the notice and the bidder make a full moratorium.
    assert library.postcode == "M41 0RL" and library.status == "full_moratorium"
    assert {d.kind: d.ends for d in library.deadlines}["full_moratorium_ends"] == date(2027, 5, 1)
    assert park.status == "nominated" and park.deadlines[0].ends == date(2026, 12, 13)
    assert shop.status == "not_listed"
    history = await assets.history(aconn, pub.id)
    assert [(e.step, e.details["line"]) for e in history] == [("import", 2)]
    # Imported twice: every row is reported, nothing doubles.
    again = await assets.import_register(aconn, text, "csv", EXAMPLE.name, "tests", ON)
    assert again.imported == [] and len(again.skipped) == 6


async def test_example_geojson_imports(aconn: psycopg.AsyncConnection) -> None:
    text, prefix = unique(EXAMPLE_GEOJSON.read_text(encoding="utf-8"))
    report = await assets.import_register(aconn, text, "geojson", "example", "tests", ON)
    assert len(report.imported) == 4 and report.skipped == []


async def test_council_register_is_placed_by_postcode(aconn: psycopg.AsyncConnection) -> None:
    name = f"Test Bowling Club {uuid.uuid4().hex[:6]}"
    text = (
        "Asset Name,Address,Post Code,Nominated By,Date Listed,Expiry\n"
        f"{name},1 Green Lane,m32 0wr,Bowlers,03/03/2025,ignored\n"
        "No Postcode Hall,Somewhere,,Hall Friends,01/01/2025,\n"
        "Scottish Inn,Edinburgh,EH1 1YZ,Friends,01/01/2025,\n"
        f"Future Hall {name},1 Lane,M32 0WR,Friends,01/01/2099,\n"
    )
    report = await assets.import_register(aconn, text, "csv", "council.csv", "tests", ON)
    assert report.source == "council.csv (council format)"
    assert len(report.imported) == 1
    assert [line for line, _, _ in report.skipped] == [3, 4, 5]
    assert "future" in report.skipped[2][2]
    found = [a for a in await assets.list_assets(aconn, ON, limit=1000) if a.name == name]
    assert found[0].status == "listed" and found[0].listed_on == date(2025, 3, 3)
    assert found[0].nominating_group == "Bowlers" and found[0].postcode == "M32 0WR"


async def test_stated_statutory_dates_are_recomputed_with_a_warning(
    aconn: psycopg.AsyncConnection,
) -> None:
    text = (
        "reference,name,point,decision,decision-date,expiry-date\n"
        f"T{uuid.uuid4().hex[:8]},Test Inn,POINT(-2.305941 53.445507),listed,2025-08-31,"
        "2030-08-31\n"
    )
    report = await assets.import_register(aconn, text, "csv", "x.csv", "tests", ON)
    assert len(report.imported) == 1
    assert report.warnings == [
        (
            2,
            "expiry-date 2030-08-31 differs from the statutory 2030-08-30; "
            "the statutory date is used",
        )
    ]


def council_asset(name: str, category: str, lon: float, lat: float) -> assets.AssetInput:
    """A new asset the local authority owns, at (``lon``, ``lat``)."""
    return assets.AssetInput(
        name=name, category=category, owner_type="local_authority", lon=lon, lat=lat
    )


async def test_history_is_append_only(aconn: psycopg.AsyncConnection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await aconn.execute("DELETE FROM asset_event")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await aconn.execute("UPDATE asset_event SET actor = 'me'")


async def test_serving_row_follows_every_write(aconn: psycopg.AsyncConnection) -> None:
    data = council_asset("Test Library", "library", -2.350336, 53.455928)
    created = await assets.create_asset(aconn, data, OFFICER, ON)
    request = assets.StepInput(group="Readers", body_type="charity")
    await assets.take_step(aconn, created.id, "nominate", request, OFFICER, ON)
    cur = await aconn.execute(
        "SELECT status, next_deadline, next_deadline_kind, lad_code, imd_decile,"
        " ST_SRID(geom_3857) FROM asset_serving WHERE fid = %s",
        (created.id,),
    )
    assert await cur.fetchone() == (
        "nominated",
        "2027-01-19",
        "decision_due",
        "E08000009",
        created.imd_decile,
        3857,
    )


async def test_parallel_steps_queue_on_the_row_lock(settings: DatabaseSettings) -> None:
    async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as setup:
        data = council_asset("Test Park", "park_green_space", -2.305941, 53.445507)
        created = await assets.create_asset(setup, data, ADMIN, ON)
        await assets.take_step(
            setup,
            created.id,
            "nominate",
            assets.StepInput(group="Park Friends", body_type="neighbourhood_forum"),
            ADMIN,
            ON,
        )
    decline = assets.StepInput(reason="not community use")

    async def attempt(step: str, version: int | None) -> str:
        async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as conn:
            try:
                done = await assets.take_step(
                    conn,
                    created.id,
                    step,
                    decline,
                    ADMIN,
                    ON,
                    version,  # type: ignore[arg-type]
                )
            except (IllegalTransition, StaleVersion) as exc:
                return type(exc).__name__
            return done.status

    outcomes = await asyncio.gather(attempt("list", None), attempt("decline", None))
    assert sorted(outcomes) in (
        ["IllegalTransition", "listed"],
        ["IllegalTransition", "not_listed"],
    )
    # With versions, both read version 2: the loser fails its precondition.
    async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as conn:
        version = (await assets.get_asset(conn, created.id, ON)).version
    outcomes = await asyncio.gather(attempt("remove", version), attempt("remove", version))
    assert "StaleVersion" in outcomes or "IllegalTransition" in outcomes
    assert outcomes.count("removed") <= 1
