"""Area lookup in the domain layer: points and codes in both editions, on real data."""

from __future__ import annotations

import random

import psycopg
import pytest

from geo import areas
from geo.errors import AreaNotFound, EditionNotFound, InvalidInput, PointOutsideCoverage
from tests.utils import sources

pytestmark = pytest.mark.anyio

LSOA21 = sources.points_on_surface(sources.LSOA21_BOUNDARIES, "lsoa21_code")
LSOA11 = sources.points_on_surface(sources.LSOA11_BOUNDARIES, "lsoa11_code")
SAMPLE_21 = random.Random(21).sample(sorted(LSOA21), 25)
SAMPLE_11 = random.Random(11).sample(sorted(LSOA11), 25)


@pytest.mark.parametrize("code", SAMPLE_21)
async def test_a_point_inside_an_lsoa_2021_finds_it_with_its_iod2025_values(
    aconn: psycopg.AsyncConnection, code: str
) -> None:
    lon, lat = LSOA21[code]
    found = await areas.lsoa_at_point(aconn, lon, lat)
    row = sources.csv(sources.IOD2025).set_index("lsoa21_code").loc[code]
    lookup = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code").loc[code]
    assert found.edition.code == "IoD2025"
    assert found.lsoa.code == code
    assert found.lad.code == lookup["ltla24_code"]
    imd = next(v for v in found.indices if v.domain == "imd")
    assert (imd.score, imd.rank, imd.decile) == (
        row["IMD_score"],
        row["IMD_rank"],
        row["IMD_decile"],
    )
    assert len(found.indices) == 8


@pytest.mark.parametrize("code", SAMPLE_11)
async def test_a_point_inside_an_lsoa_2011_finds_it_with_its_iod2019_values(
    aconn: psycopg.AsyncConnection, code: str
) -> None:
    lon, lat = LSOA11[code]
    found = await areas.lsoa_at_point(aconn, lon, lat, "IoD2019")
    row = sources.csv(sources.FILE_2).set_index("LSOA code (2011)").loc[code]
    assert found.lsoa.code == code
    assert found.lad.code == row["Local Authority District code (2019)"]
    imd = next(v for v in found.indices if v.domain == "imd")
    assert (imd.score, imd.rank, imd.decile) == (None, row.iloc[3], row.iloc[4])
    assert {v.domain for v in found.indices} >= {"idaci", "idaopi"}


async def test_trafford_postcode_centroids_lie_in_or_beside_their_onspd_lsoa(
    aconn: psycopg.AsyncConnection,
) -> None:
    # ONSPD assigns postcodes with full-resolution boundaries; ours are generalised and
    # postcode centroids sit on streets, which are often LSOA edges. So most centroids fall
    # inside their ONSPD LSOA and the rest just beside it: a postcode's LSOA must come from
    # the postcode directory, not from point-in-polygon.
    postcodes = sources.csv(sources.POSTCODES).sample(300, random_state=7)
    agree = 0
    for row in postcodes.itertuples():
        found = await areas.lsoa_at_point(aconn, row.lon, row.lat)
        agree += found.lsoa.code == row.lsoa_code
    assert agree / len(postcodes) >= 0.80
    async with aconn.cursor() as cur:
        await cur.execute(
            "SELECT max(ST_Distance(l.geom, p.geom)) FROM postcode p"
            " JOIN lsoa l ON l.vintage = p.lsoa_vintage AND l.code = p.lsoa_code"
        )
        row = await cur.fetchone()
    assert row is not None and row[0] < 200  # metres, British National Grid


async def test_an_lsoa_is_followed_across_generations(aconn: psycopg.AsyncConnection) -> None:
    changes = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
    split = changes[changes["change_code"] == "S"].iloc[0]
    area = await areas.area_by_code(aconn, split["lsoa11_code"], "IoD2019")
    assert area.type == "lsoa"
    successors = {c.code for c in area.other_generation}
    expected = set(changes.loc[changes["lsoa11_code"] == split["lsoa11_code"], "lsoa21_code"])
    assert successors == expected and len(successors) >= 2
    assert all(c.change == "S" and c.vintage == 2021 for c in area.other_generation)


async def test_errors_name_what_is_wrong(aconn: psycopg.AsyncConnection) -> None:
    with pytest.raises(PointOutsideCoverage):
        await areas.lsoa_at_point(aconn, 2.3522, 48.8566)  # Paris
    with pytest.raises(EditionNotFound):
        await areas.lsoa_at_point(aconn, -2.3, 53.45, "IoD1066")
    with pytest.raises(InvalidInput):
        await areas.area_by_code(aconn, "not-a-code")
    with pytest.raises(AreaNotFound):
        await areas.area_by_code(aconn, "E01000001")  # City of London: not in the extract
    with pytest.raises(AreaNotFound):
        await areas.area_by_code(aconn, "E12000002")  # a region, not an LSOA or LAD
