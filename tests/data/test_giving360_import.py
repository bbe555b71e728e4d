"""Importing 360Giving files: Trafford's CSV, the GrantNav TESTDATA package (tests only), need."""

from __future__ import annotations

import gzip
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from config.settings import DatabaseSettings
from data import giving360_import
from data.giving360_schema import package_problems
from geo.errors import LoadError
from tests.utils import sources

REPO = Path(__file__).resolve().parents[2]
TRAFFORD_GRANTS = (
    REPO
    / "data"
    / "national"
    / "grants"
    / ("trafford_council_voluntary_sector_grants_360giving.csv")
)
# 360Giving's loader test data: used here to test a JSON import, never to show figures.
TESTDATA = REPO / "tests" / "fixtures" / "360giving" / "TESTDATA_power_to_change_grantnav.json.gz"
TRAFFORD = "E08000009"


@pytest.fixture(scope="module")
def trafford_import(settings: DatabaseSettings) -> giving360_import.GrantImportReport:
    with psycopg.connect(settings.dsn) as conn:
        return giving360_import.import_grants(conn, TRAFFORD_GRANTS)


@pytest.fixture
def testdata_import(settings: DatabaseSettings, conn):
    with psycopg.connect(settings.dsn) as load:
        report = giving360_import.import_grants(load, TESTDATA, "TESTDATA-power-to-change")
    yield report
    conn.execute("DELETE FROM grant_import WHERE source_name = 'TESTDATA-power-to-change'")


def test_trafford_grants_import_whole_and_are_placed_on_the_district(trafford_import, conn):
    published = pd.read_csv(TRAFFORD_GRANTS, dtype=str, keep_default_na=False)
    assert trafford_import.grants == len(published) == 555
    assert trafford_import.placements == {"beneficiary_location": 555}
    rows = conn.execute(
        "SELECT placed_level, placed_code, placed_vintage, placement_note, count(*),"
        " sum(amount_awarded) FROM imported_grant g JOIN grant_import i ON i.id = g.import_id"
        " WHERE i.source_name = %s GROUP BY 1, 2, 3, 4",
        (TRAFFORD_GRANTS.name,),
    ).fetchall()
    # Every row's beneficiary location is Trafford (MD), a code of both district sets loaded.
    assert rows == [
        (
            "lad",
            TRAFFORD,
            2024,
            f"{TRAFFORD}: district code in both the 2019 and 2024 sets; placed on 2024",
            555,
            sum((Decimal(a) for a in published["Amount Awarded"]), Decimal(0)),
        )
    ]
    # The 11 recipient postcodes are kept, but the beneficiary location comes first.
    postcodes = conn.execute(
        "SELECT count(*) FROM imported_grant WHERE recipient_postcode IS NOT NULL"
        " AND import_id = (SELECT id FROM grant_import WHERE source_name = %s)",
        (TRAFFORD_GRANTS.name,),
    ).fetchone()
    assert postcodes == ((published["Recipient Org:Postal Code"] != "").sum(),)


def test_importing_the_same_file_again_changes_nothing(trafford_import, settings, conn):
    before = conn.execute(
        "SELECT i.id, i.loaded_at, count(*), sum(g.amount_awarded) FROM grant_import i"
        " JOIN imported_grant g ON g.import_id = i.id WHERE i.source_name = %s GROUP BY i.id",
        (TRAFFORD_GRANTS.name,),
    ).fetchone()
    with psycopg.connect(settings.dsn) as load:
        again = giving360_import.import_grants(load, TRAFFORD_GRANTS)
    assert again.status == "unchanged"
    after = conn.execute(
        "SELECT i.id, i.loaded_at, count(*), sum(g.amount_awarded) FROM grant_import i"
        " JOIN imported_grant g ON g.import_id = i.id WHERE i.source_name = %s GROUP BY i.id",
        (TRAFFORD_GRANTS.name,),
    ).fetchone()
    assert after == before


def expected_placement(grant: dict, lsoas: dict[int, set[str]], postcodes: pd.DataFrame):
    """Where the documented rules put a grant, computed from the source files."""
    for location in grant.get("beneficiaryLocation") or []:
        code = location.get("geoCode") or ""
        found = [v for v in (2021, 2011) if code in lsoas[v]]
        if found:
            return ("beneficiary_location", code, found[0])
    postcode = ((grant.get("recipientOrganization") or [{}])[0].get("postalCode") or "").upper()
    if postcode in postcodes.index:
        return ("recipient_postcode", postcodes.loc[postcode, "lsoa_code"], 2021)
    return ("not_placed", None, None)


def test_a_json_package_is_validated_and_each_grant_placed_as_documented(testdata_import, conn):
    with gzip.open(TESTDATA, "rt", encoding="utf-8") as handle:
        package = json.load(handle)
    assert package_problems(package) == []
    lsoas = {
        2011: set(sources.csv(sources.FILE_1)["LSOA code (2011)"]),
        2021: set(sources.csv(sources.IOD2025)["lsoa21_code"]),
    }
    postcodes = sources.csv(sources.POSTCODES).set_index("postcode")
    expected = {g["id"]: expected_placement(g, lsoas, postcodes) for g in package["grants"]}
    got = {
        grant_id: (placed_by, code, vintage)
        for grant_id, placed_by, code, vintage in conn.execute(
            "SELECT grant_id, placed_by, placed_code, placed_vintage FROM imported_grant"
            " WHERE import_id = (SELECT id FROM grant_import WHERE source_name = %s)",
            ("TESTDATA-power-to-change",),
        ).fetchall()
    }
    assert got == expected
    assert testdata_import.grants == len(package["grants"]) == 870
    placed = {k: v for k, v in testdata_import.placements.items() if k != "not_placed"}
    assert sum(placed.values()) == sum(1 for e in expected.values() if e[0] != "not_placed") > 0


def test_a_grant_failing_the_schema_is_reported_by_grant_line_and_field(tmp_path, settings, conn):
    text = TRAFFORD_GRANTS.read_text(encoding="utf-8").splitlines()
    header, first, second = text[0], text[1], text[2]
    broken = tmp_path / "broken-grants.csv"
    bad_date = first.replace(",2013-01-18,", ",18/01/2013,")
    no_funder = second.replace(",GB-LAE-TRF,Trafford Metropolitan Borough Council,", ",,,")
    broken.write_text("\n".join([header, bad_date, no_funder]) + "\n", encoding="utf-8")
    before = conn.execute("SELECT count(*) FROM imported_grant").fetchone()
    with psycopg.connect(settings.dsn) as load, pytest.raises(LoadError) as refused:
        giving360_import.import_grants(load, broken)
    message = refused.value.message
    assert "360G-traffordmbc-VSG1342 (line 2): awardDate:" in message
    assert "360G-traffordmbc-VSG1343 (line 3): fundingOrganization/0:" in message
    assert "nothing was imported" in message
    assert conn.execute("SELECT count(*) FROM imported_grant").fetchone() == before


def test_an_empty_package_is_refused_as_the_schema_says(tmp_path, settings):
    empty = tmp_path / "empty.json"
    empty.write_text('{"grants": []}', encoding="utf-8")
    with psycopg.connect(settings.dsn) as load, pytest.raises(LoadError, match="non-empty"):
        giving360_import.import_grants(load, empty)


def test_grant_money_against_need_in_trafford(trafford_import, client, conn):
    body = client.get("/grants/need", params={"area": TRAFFORD}).json()
    imported = next(s for s in body["sources"] if s["source"] == "imported")
    published = pd.read_csv(TRAFFORD_GRANTS, dtype=str, keep_default_na=False)
    amount = sum((Decimal(a) for a in published["Amount Awarded"]), Decimal(0))
    (residents,) = conn.execute(
        "SELECT round(sum(p.residents))::bigint FROM lsoa_population p"
        " JOIN lsoa_deprivation d ON d.edition_code = p.edition_code AND d.code = p.lsoa_code"
        " WHERE p.edition_code = 'IoD2025' AND d.lad_code = %s",
        (TRAFFORD,),
    ).fetchone()
    [district] = imported["by_district"]
    assert (district["code"], Decimal(district["amount"]), district["residents"]) == (
        TRAFFORD,
        amount,
        residents,
    )
    # Money to the penny, half up (README, Figures).
    assert Decimal(district["pounds_per_resident"]) == (amount / residents).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    # Placed on the whole district, no grant has a single decile: none is spread to one.
    assert imported["not_by_decile"] == [{"level": "lad", "amount": str(amount), "grants": 555}]
    assert sum(Decimal(d["amount"]) for d in imported["by_decile"]) == 0
    assert sum(d["residents"] for d in imported["by_decile"]) == residents
    assert {s["source"] for s in body["sources"]} == {"imported", "platoons"}
    # The files the imported money came from, for the map's credits (a CSV states no licence).
    [trafford_file] = [f for f in imported["files"] if f["source_name"] == TRAFFORD_GRANTS.name]
    assert (trafford_file["grants"], trafford_file["licence"]) == (555, None)
    assert trafford_file["funders"] == sorted(set(published["Funding Org:Name"]))


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"area": "E01006112"}, 422, "area"),  # a district code is the declared pattern
        ({"edition": "IoD1999"}, 404, "edition"),
        ({"from": "2024-01-01", "to": "2023-01-01"}, 400, "from"),
        ({"from": "soon"}, 422, "from"),
    ],
)
def test_bad_need_parameters_are_named(client, params, status, parameter):
    response = client.get("/grants/need", params=params)
    assert response.status_code == status
    body = response.json()
    assert parameter in (body.get("parameter") or [e["parameter"] for e in body["errors"]])


def test_money_by_lsoa_is_each_funded_lsoas_share_over_its_residents(testdata_import, client, conn):
    body = client.get("/grants/need", params={"edition": "IoD2025"}).json()
    imported = next(s for s in body["sources"] if s["source"] == "imported")
    by_lsoa = imported["by_lsoa"]
    assert by_lsoa, "the test data places grants on LSOAs by postcode"
    facts = {
        code: (decile, lad, round(residents))
        for code, decile, lad, residents in conn.execute(
            "SELECT d.code, d.imd_decile, d.lad_code, p.residents FROM lsoa_deprivation d"
            " JOIN lsoa_population p ON p.edition_code = d.edition_code AND p.lsoa_code = d.code"
            " WHERE d.edition_code = 'IoD2025' AND d.code = ANY(%s)",
            ([m["code"] for m in by_lsoa],),
        ).fetchall()
    }
    for money in by_lsoa:
        assert (money["decile"], money["lad_code"], money["residents"]) == facts[money["code"]]
        amount = Decimal(money["amount"])
        assert amount > 0 and money["grants"] > 0
        assert Decimal(money["pounds_per_resident"]) == (amount / money["residents"]).quantize(
            Decimal("0.01")
        )
    # Each decile's money is its LSOAs' money (to the penny each LSOA was rounded to).
    for decile in imported["by_decile"]:
        lsoas = [Decimal(m["amount"]) for m in by_lsoa if m["decile"] == decile["decile"]]
        assert abs(sum(lsoas, Decimal(0)) - Decimal(decile["amount"])) <= Decimal("0.01") * max(
            len(lsoas), 1
        )
