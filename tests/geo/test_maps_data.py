"""What the maps draw: edition collections and one district's LSOAs, against the source files."""

from __future__ import annotations

import psycopg
import pytest

from geo import map_queries
from geo.errors import AreaNotFound, CollectionNotFound, EditionNotFound, InvalidInput
from tests.utils import sources

pytestmark = pytest.mark.anyio

FILE_1 = sources.csv(sources.FILE_1).set_index("LSOA code (2011)")
LOOKUP_2021 = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")


@pytest.mark.parametrize(
    ("kind", "edition", "collection_id"),
    [
        ("lsoa", "IoD2025", "lsoa-iod2025"),
        ("lsoa", "IoD2019", "lsoa-iod2019"),
        ("lad", "IoD2025", "lad-iod2025"),
        ("lad", "IoD2019", "lad-iod2019"),
    ],
)
def test_each_edition_layer_has_its_collection(kind: str, edition: str, collection_id: str) -> None:
    assert map_queries.edition_collection(kind, edition).id == collection_id  # type: ignore[arg-type]


def test_editions_with_map_layers() -> None:
    assert map_queries.edition_codes() == ["IoD2025", "IoD2019"]
    with pytest.raises(CollectionNotFound):
        map_queries.edition_collection("lsoa", "IoD2010")


@pytest.mark.parametrize(
    ("lad", "edition", "expected"),
    [
        (
            "E06000041",
            "IoD2019",
            {
                str(code): int(row["Index of Multiple Deprivation (IMD) Decile"])
                for code, row in FILE_1[
                    FILE_1["Local Authority District code (2019)"] == "E06000041"
                ].iterrows()
            },
        ),
        (
            "E06000009",
            None,
            {
                str(code): int(decile)
                for code, decile in sources.csv(sources.IOD2025)
                .set_index("lsoa21_code")["IMD_decile"]
                .items()
                if LOOKUP_2021.loc[code, "ltla24_code"] == "E06000009"
            },
        ),
    ],
)
async def test_a_districts_lsoas_are_all_its_lsoas_with_their_deciles(
    aconn: psycopg.AsyncConnection, lad: str, edition: str | None, expected: dict[str, int]
) -> None:
    data = await map_queries.lad_lsoas(aconn, lad, edition)
    assert data.edition.code == (edition or "IoD2025")
    assert data.lad_code == lad and data.lsoa_count == len(expected)
    features = data.feature_collection["features"]
    assert {f["properties"]["code"]: f["properties"]["imd_decile"] for f in features} == expected
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    lon, lat = features[0]["geometry"]["coordinates"][0][0][0][:2]
    assert -3.5 < lon < 0 and 51 < lat < 54.5  # CRS84: longitude first


@pytest.mark.parametrize(
    ("lad", "edition", "error"),
    [
        ("E08000099", None, AreaNotFound),
        ("E01006112", None, InvalidInput),
        ("E08000009", "IoD2010", EditionNotFound),
    ],
)
async def test_what_is_not_a_loaded_district_is_refused(
    aconn: psycopg.AsyncConnection, lad: str, edition: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await map_queries.lad_lsoas(aconn, lad, edition)
