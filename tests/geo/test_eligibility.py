"""Grant eligibility on the real demo data: clicks, codes, postcodes and polygons, both editions.

Expected values come from the source files (tests.utils.sources) or are computed here
independently (shapely + pyproj area weighting in EPSG:27700), never from the service.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import psycopg
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer

from data import DEMO_DIR
from geo import place_resolution
from geo.errors import InvalidInput
from geo.grants import checks
from geo.grants.rules import AreaFacts, LsoaFacts
from geo.sqlfiles import read_sql
from tests.utils import factories, figures, sources
from tests.utils.databases import one_row

pytestmark = pytest.mark.anyio

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)
DOMAINS = tuple(sources.IOD2025_DECILE_COLUMNS)  # the API's domain order


@dataclass(frozen=True)
class Values:
    """One LSOA's national ranks and deciles by domain, read from the source file."""

    code: str
    lad: str
    ward: str
    ranks: dict[str, int]
    deciles: dict[str, int]


@dataclass(frozen=True)
class EditionSources:
    """Where an edition's values, boundaries and ward/district lookups are in the extract."""

    code: str
    boundaries: str
    boundary_code: str

    @property
    def values(self) -> dict[str, Values]:
        """Every LSOA's values in the edition, from its source files."""
        return _values(self.code)

    @property
    def points(self) -> dict[str, tuple[float, float]]:
        """A point inside each LSOA of the edition's geography."""
        return sources.points_on_surface(self.boundaries, self.boundary_code)


IOD2019 = EditionSources("IoD2019", sources.LSOA11_BOUNDARIES, "lsoa11_code")
IOD2025 = EditionSources("IoD2025", sources.LSOA21_BOUNDARIES, "lsoa21_code")
EDITIONS = [pytest.param(IOD2019, id="IoD2019"), pytest.param(IOD2025, id="IoD2025")]


# Each domain's title in IoD2019 File 2 and its column stem in the IoD2025 file.
DOMAIN_TITLES = {
    "imd": ("Index of Multiple Deprivation (IMD)", "IMD"),
    "income": ("Income", "Income"),
    "employment": ("Employment", "Employment"),
    "education": ("Education, Skills and Training", "Education"),
    "health": ("Health Deprivation and Disability", "Health"),
    "crime": ("Crime", "Crime"),
    "barriers": ("Barriers to Housing and Services", "Housing_and_Services"),
    "living_environment": ("Living Environment", "Environment"),
}


@cache
def _values(edition: str) -> dict[str, Values]:
    """Ranks and deciles per LSOA: IoD2019 File 2 (+ ward lookup), IoD2025 file (+ lookup)."""
    if edition == "IoD2019":
        frame = sources.csv(sources.FILE_2).set_index("LSOA code (2011)")
        wards = sources.csv("lookups/lookup_lsoa11_wd19_lad19_ew.csv.gz").set_index("LSOA11CD")
        lads, ward_of = frame["Local Authority District code (2019)"], wards["WD19CD"]
        titles = {d: title for d, (title, _) in DOMAIN_TITLES.items()}
        rank = "{} Rank (where 1 is most deprived)"
        decile = "{} Decile (where 1 is most deprived 10% of LSOAs)"
    else:
        frame = sources.csv(sources.IOD2025).set_index("lsoa21_code")
        lookup = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")
        lads, ward_of = lookup["ltla24_code"], lookup["ward24_code"]
        titles = {d: stem for d, (_, stem) in DOMAIN_TITLES.items()}
        rank, decile = "{}_rank", "{}_decile"
    return {
        code: Values(
            code=code,
            lad=lads.loc[code],
            ward=ward_of.loc[code],
            ranks={d: int(row[rank.format(t)]) for d, t in titles.items()},
            deciles={d: int(row[decile.format(t)]) for d, t in titles.items()},
        )
        for code, row in frame.iterrows()
    }


def national_count(conn: psycopg.Connection, edition: str) -> int:
    """The number of LSOAs an edition ranks nationally (percentiles are of this)."""
    (count,) = one_row(
        conn, "SELECT national_lsoa_count FROM index_edition WHERE code = %s", (edition,)
    )
    return int(count)


def index_rule(domain: str, **threshold: int) -> dict[str, Any]:
    """An index threshold rule: decile_at_most / percentile_at_most / rank_at_most."""
    return {"kind": "index", "domain": domain, **threshold}


@pytest.fixture
def made(conn: psycopg.Connection) -> Iterator[factories.Made]:
    registry = factories.Made()
    yield registry
    registry.drop(conn)


async def check(
    aconn: psycopg.AsyncConnection, place: place_resolution.Place, programme: checks.Programme
) -> checks.EligibilityAnswer:
    answers = await checks.check_eligibility(aconn, place, programme.id, factories.today())
    assert len(answers) == 1
    return answers[0]


# ---------------------------------------------------------------------------------------------
# One LSOA: a map click or its code


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("how", ["click", "code"])
async def test_a_decile_1_lsoa_passes_a_decile_2_rule_and_a_decile_10_one_fails(
    aconn: psycopg.AsyncConnection, made: factories.Made, edition: EditionSources, how: str
) -> None:
    programme = await made.programme(
        aconn, edition_code=edition.code, rule=index_rule("imd", decile_at_most=2)
    )
    by_decile = {
        decile: sorted(c for c, v in edition.values.items() if v.deciles["imd"] == decile)
        for decile in (1, 10)
    }
    for decile, codes in by_decile.items():
        for code in random.Random(decile).sample(codes, 3):
            if how == "click":
                lon, lat = edition.points[code]
                place = place_resolution.Place(lon=lon, lat=lat)
            else:
                place = place_resolution.Place(code=code)
            answer = await check(aconn, place, programme)
            assert answer.area.kind == "lsoa"
            assert answer.area.code == code
            assert [lsoa.imd_decile for lsoa in answer.lsoas] == [decile]
            assert answer.eligible is (decile == 1)
            assert answer.explanation.startswith("Eligible" if decile == 1 else "Not eligible")
            assert f"IMD decile {decile}" in answer.explanation
            assert answer.qualifying_lsoas == ([code] if decile == 1 else [])


# Rules and the same rule evaluated by hand on the source file's values (n: national count).
RULES: dict[str, tuple[dict[str, Any], Callable[[Values, int], bool]]] = {
    "all": (
        {
            "kind": "all",
            "rules": [index_rule("imd", decile_at_most=3), index_rule("income", decile_at_most=2)],
        },
        lambda v, n: v.deciles["imd"] <= 3 and v.deciles["income"] <= 2,
    ),
    "any": (
        {
            "kind": "any",
            "rules": [
                index_rule("crime", decile_at_most=1),
                index_rule("health", decile_at_most=2),
            ],
        },
        lambda v, n: v.deciles["crime"] <= 1 or v.deciles["health"] <= 2,
    ),
    "not": (
        {"kind": "not", "rule": index_rule("imd", decile_at_most=5)},
        lambda v, n: not v.deciles["imd"] <= 5,
    ),
    "percentile": (
        index_rule("education", percentile_at_most=15),
        lambda v, n: math.ceil(v.ranks["education"] * 100 / n) <= 15,
    ),
    "rank": (
        index_rule("barriers", rank_at_most=5000),
        lambda v, n: v.ranks["barriers"] <= 5000,
    ),
    "population_share": (
        {
            "kind": "population_share",
            "of": index_rule("employment", decile_at_most=2),
            "at_least": 1.0,
        },
        lambda v, n: v.deciles["employment"] <= 2,
    ),
    "nested": (
        {
            "kind": "all",
            "rules": [
                {
                    "kind": "any",
                    "rules": [
                        index_rule("imd", decile_at_most=2),
                        index_rule("income", percentile_at_most=25),
                    ],
                },
                {"kind": "not", "rule": index_rule("living_environment", decile_at_most=1)},
            ],
        },
        lambda v, n: (
            (v.deciles["imd"] <= 2 or math.ceil(v.ranks["income"] * 100 / n) <= 25)
            and not v.deciles["living_environment"] <= 1
        ),
    ),
}


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("case", sorted(RULES))
async def test_rule_combinations_agree_with_the_source_values(
    aconn: psycopg.AsyncConnection,
    conn: psycopg.Connection,
    made: factories.Made,
    edition: EditionSources,
    case: str,
) -> None:
    rule, expected = RULES[case]
    n = national_count(conn, edition.code)
    programme = await made.programme(aconn, edition_code=edition.code, rule=rule)
    values = edition.values
    passing = sorted(c for c, v in values.items() if expected(v, n))
    failing = sorted(set(values) - set(passing))
    assert passing and failing, "the rule must split the extract for the test to mean anything"
    rng = random.Random(case)
    sample = rng.sample(passing, min(6, len(passing))) + rng.sample(failing, min(6, len(failing)))
    for code in sample:
        answer = await check(aconn, place_resolution.Place(code=code), programme)
        assert answer.eligible is expected(values[code], n), (code, answer.explanation)
        assert answer.rules.passed is answer.eligible


@pytest.mark.parametrize("edition", EDITIONS)
async def test_a_district_measure_rule_uses_the_principal_districts_share_of_deprived_lsoas(
    aconn: psycopg.AsyncConnection, made: factories.Made, edition: EditionSources
) -> None:
    # The proportion of a district's LSOAs in the most deprived 10% nationally, by hand.
    values = edition.values
    frame = pd.DataFrame({"lad": v.lad, "imd": v.deciles["imd"]} for v in values.values())
    proportion = (frame["imd"] == 1).groupby(frame["lad"]).mean().to_dict()
    for lad, share in sorted(proportion.items()):
        code = min(c for c, v in values.items() if v.lad == lad)
        for at_least, passes in ((share - 1e-9, True), (share + 1e-6, False)):
            programme = await made.programme(
                aconn,
                edition_code=edition.code,
                rule={
                    "kind": "all",
                    "rules": [
                        index_rule("imd", decile_at_most=10),
                        {
                            "kind": "lad_measure",
                            "domain": "imd",
                            "measure": "proportion_most_deprived_10pct",
                            "at_least": at_least,
                        },
                    ],
                },
            )
            answer = await check(aconn, place_resolution.Place(code=code), programme)
            assert answer.eligible is passes, (lad, share, answer.explanation)
            lad_result = answer.rules.children[1]
            # The district's figure as it is shown: a share to 4 decimals (README, Figures).
            shown = f"{figures.rounded(share, figures.SHARE):.4f}"
            assert lad_result.actual == f"{lad}: proportion most deprived 10pct = {shown}"


# ---------------------------------------------------------------------------------------------
# A drawn polygon: residents in qualifying LSOAs, area-weighted in British National Grid


@cache
def lsoa11_in_bng() -> dict[str, shapely.Geometry]:
    """The 2011 LSOA boundaries of the extract, projected to EPSG:27700 with pyproj."""
    with gzip.open(DEMO_DIR / sources.LSOA11_BOUNDARIES, "rt", encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return {
        f["properties"]["lsoa11_code"]: shapely.transform(
            shapely.geometry.shape(f["geometry"]), TO_BNG.transform, interleaved=False
        )
        for f in features
    }


def straddling_polygon() -> dict[str, Any]:
    """A GeoJSON circle (300 m) on the border of a decile-1 LSOA and a decile 5+ neighbour."""
    shapes = lsoa11_in_bng()
    deciles = {c: v.deciles["imd"] for c, v in IOD2019.values.items()}
    for a in sorted(c for c, d in deciles.items() if d == 1):
        for b in sorted(c for c, d in deciles.items() if d >= 5):
            shared = shapes[a].boundary.intersection(shapes[b].boundary)
            if shared.length > 300:
                centre = shared.representative_point()
                circle = shapely.transform(
                    centre.buffer(300), TO_WGS84.transform, interleaved=False
                )
                return shapely.geometry.mapping(shapely.set_precision(circle, 1e-6))
    raise AssertionError("no decile-1 LSOA borders a decile 5+ one in the extract")


def independent_share(
    geometry: dict[str, Any], qualifies: Callable[[str], bool]
) -> tuple[float, float, dict[str, float]]:
    """Residents in the polygon and the share in qualifying LSOAs, from the source files."""
    polygon = shapely.transform(
        shapely.geometry.shape(geometry), TO_BNG.transform, interleaved=False
    )
    population = sources.csv("population/population_mid2019_lsoa11_syoa.csv.gz").set_index(
        "lsoa11_code"
    )["total_population"]
    weights = {}
    for code, shape in lsoa11_in_bng().items():
        if shape.intersects(polygon):
            fraction = shape.intersection(polygon).area / shape.area
            if fraction > 1e-9:
                weights[code] = fraction * float(population[code])
    total = sum(weights.values())
    return total, sum(w for c, w in weights.items() if qualifies(c)) / total, weights


async def test_a_polygon_straddling_lsoas_gets_the_independently_computed_population_share(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    geometry = straddling_polygon()
    deciles = {c: v.deciles["imd"] for c, v in IOD2019.values.items()}
    total, share, weights = independent_share(geometry, lambda c: deciles[c] <= 2)
    assert 0.05 < share < 0.95, "the polygon must straddle qualifying and other LSOAs"
    programme = await made.programme(
        aconn,
        edition_code="IoD2019",
        rule=index_rule("imd", decile_at_most=2),
        min_population_share=0.5,
    )
    answer = await check(aconn, place_resolution.Place(geometry=geometry), programme)
    assert answer.area.kind == "polygon"
    found = {
        lsoa.code: lsoa.residents_in_area for lsoa in answer.lsoas if lsoa.residents_in_area >= 0.5
    }
    assert set(found) == {c for c, w in weights.items() if w >= 0.5}
    for code, residents in found.items():
        assert residents == pytest.approx(weights[code], rel=0.02, abs=1.0)
    service_share = sum(x.residents_in_area for x in answer.lsoas if x.qualifies) / sum(
        x.residents_in_area for x in answer.lsoas
    )
    assert service_share == pytest.approx(share, abs=0.005)
    assert answer.area.residents == pytest.approx(total, rel=0.005)
    assert {x.code for x in answer.lsoas if x.qualifies} == {c for c in weights if deciles[c] <= 2}
    assert answer.eligible is (share >= 0.5)
    # The same share against explicit thresholds either side of it.
    for at_least, passes in ((share - 0.01, True), (share + 0.01, False)):
        rule = {
            "kind": "population_share",
            "of": index_rule("imd", decile_at_most=2),
            "at_least": round(at_least, 4),
        }
        programme = await made.programme(aconn, edition_code="IoD2019", rule=rule)
        assert (
            await check(aconn, place_resolution.Place(geometry=geometry), programme)
        ).eligible is passes


# ---------------------------------------------------------------------------------------------
# Postcodes


@pytest.mark.parametrize("edition", EDITIONS)
async def test_trafford_postcodes_are_assessed_as_the_lsoa_the_postcode_directory_gives(
    aconn: psycopg.AsyncConnection, made: factories.Made, edition: EditionSources
) -> None:
    programme = await made.programme(
        aconn, edition_code=edition.code, rule=index_rule("imd", decile_at_most=3)
    )
    postcodes = sources.csv(sources.POSTCODES)
    if edition.code == "IoD2019":
        # The directory gives 2021 LSOAs; an unchanged one (ONS change code U) keeps its code.
        changes = sources.csv("lookups/lookup_lsoa11_lsoa21_ltla22.csv")
        unchanged = set(changes.loc[changes["change_code"] == "U", "lsoa21_code"])
        postcodes = postcodes[postcodes["lsoa_code"].isin(unchanged)]
    for row in postcodes.sample(8, random_state=5).itertuples():
        answer = await check(aconn, place_resolution.Place(postcode=row.postcode), programme)
        assert answer.area.code == row.lsoa_code
        assert answer.eligible is (edition.values[row.lsoa_code].deciles["imd"] <= 3)


async def test_a_valid_postcode_outside_trafford_is_not_covered_and_a_malformed_one_is_invalid(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    programme = await made.programme(aconn)
    outside = "SW1A 1AA"  # Westminster: a real postcode, not in the Trafford extract
    assert outside not in set(sources.csv(sources.POSTCODES)["postcode"])
    with pytest.raises(place_resolution.PostcodeNotCovered, match="not covered"):
        await check(aconn, place_resolution.Place(postcode=outside), programme)
    with pytest.raises(InvalidInput, match="not a UK postcode"):
        await check(aconn, place_resolution.Place(postcode="NOT A CODE"), programme)


# ---------------------------------------------------------------------------------------------
# Ward- and district-level programmes widen a click to the ward or district


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("level", ["ward", "lad"])
async def test_ward_and_district_programmes_widen_a_click_or_code_to_the_unit(
    aconn: psycopg.AsyncConnection, made: factories.Made, edition: EditionSources, level: str
) -> None:
    programme = await made.programme(
        aconn,
        edition_code=edition.code,
        geography_level=level,
        rule=index_rule("imd", decile_at_most=2),
        min_population_share=0.5,
    )
    values = edition.values
    for code in random.Random(level).sample(sorted(values), 3):
        unit = values[code].ward if level == "ward" else values[code].lad
        members = {c for c, v in values.items() if (v.ward if level == "ward" else v.lad) == unit}
        lon, lat = edition.points[code]
        for place in (place_resolution.Place(lon=lon, lat=lat), place_resolution.Place(code=code)):
            answer = await check(aconn, place, programme)
            assert (answer.area.kind, answer.area.code) == (level, unit)
            assert {lsoa.code for lsoa in answer.lsoas} == members
            assert set(answer.qualifying_lsoas) == {
                c for c in members if values[c].deciles["imd"] <= 2
            }


# ---------------------------------------------------------------------------------------------
# Several programmes at once, the cached catalogue, and points on a boundary


async def test_every_programme_of_an_area_gets_district_measures_whichever_comes_first(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    # Both programmes assess IoD2025 LSOAs; the first by id has no district rule, the
    # second has one. The area is read once for both, with the measures the second needs.
    suffix = random.Random().getrandbits(32)
    plain = await made.programme(aconn, id=f"aaa-plain-{suffix:08x}")
    district = await made.programme(
        aconn,
        id=f"aaa-rule-{suffix:08x}",
        rule={
            "kind": "lad_measure",
            "domain": "imd",
            "measure": "proportion_most_deprived_10pct",
            "at_least": 0.0,
        },
    )
    code = min(IOD2025.values)
    lon, lat = IOD2025.points[code]
    answers = await checks.check_eligibility(
        aconn, place_resolution.Place(lon=lon, lat=lat), None, factories.today()
    )
    by_id = {a.programme.id: a for a in answers}
    assert by_id[plain.id].area.code == by_id[district.id].area.code == code
    assert "unavailable" not in by_id[district.id].rules.actual
    assert by_id[district.id].rules.actual.startswith(f"{IOD2025.values[code].lad}: ")
    assert by_id[district.id].eligible


async def test_a_cached_catalogue_is_read_again_when_a_programme_is_saved(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    catalogues = checks.CatalogueCache()
    code = min(IOD2025.values)
    lon, lat = IOD2025.points[code]
    place = place_resolution.Place(lon=lon, lat=lat)
    first = await made.programme(aconn)
    before = await checks.check_eligibility(aconn, place, None, factories.today(), catalogues)
    assert first.id in {a.programme.id for a in before}
    cached = catalogues.latest
    second = await made.programme(aconn, rule=index_rule("imd", decile_at_most=1))
    # Named or among the open ones, the new programme is found through the same cache.
    [named] = await checks.check_eligibility(aconn, place, second.id, factories.today(), catalogues)
    assert named.programme.id == second.id
    assert catalogues.latest is not cached
    after = await checks.check_eligibility(aconn, place, None, factories.today(), catalogues)
    assert {first.id, second.id} <= {a.programme.id for a in after}
    # Unchanged data: the cache is kept, and answers are the same as without it.
    kept = catalogues.latest
    again = await checks.check_eligibility(aconn, place, None, factories.today(), catalogues)
    assert catalogues.latest is kept
    fresh = await checks.check_eligibility(aconn, place, None, factories.today())
    assert [a.model_dump() for a in again] == [a.model_dump() for a in fresh]


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("level", ["lsoa", "ward", "lad"])
async def test_clicks_answered_from_kept_areas_equal_answers_read_afresh(
    aconn: psycopg.AsyncConnection, made: factories.Made, edition: EditionSources, level: str
) -> None:
    programme = await made.programme(
        aconn,
        edition_code=edition.code,
        geography_level=level,
        rule={
            "kind": "all",
            "rules": [
                index_rule("imd", decile_at_most=5),
                {
                    "kind": "lad_measure",
                    "domain": "imd",
                    "measure": "proportion_most_deprived_10pct",
                    "at_least": 0.0,
                },
            ],
        },
        min_population_share=0.3,
    )
    catalogues = checks.CatalogueCache()
    points, values = edition.points, edition.values

    def unit_of(code: str) -> str:
        return {"lsoa": code, "ward": values[code].ward, "lad": values[code].lad}[level]

    # Four clicks, then (for wards and districts) one in another LSOA of the first's unit.
    codes = random.Random(f"{edition.code} {level}").sample(sorted(points), 4)
    codes += [c for c in sorted(points) if unit_of(c) == unit_of(codes[0])][-1:]
    for code in codes:
        place = place_resolution.Place(lon=points[code][0], lat=points[code][1])
        [first] = await checks.check_eligibility(
            aconn, place, programme.id, factories.today(), catalogues
        )
        [kept] = await checks.check_eligibility(
            aconn, place, programme.id, factories.today(), catalogues
        )
        [fresh] = await checks.check_eligibility(aconn, place, programme.id, factories.today())
        assert first.model_dump() == kept.model_dump() == fresh.model_dump()
        assert kept.area.code == unit_of(code)
    assert len(catalogues.units) == len({unit_of(c) for c in codes})
    assert catalogues.units.version == catalogues.latest.data_version


async def test_a_kept_area_is_read_again_once_the_data_version_moves(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    # In a transaction rolled back at the end: a click's LSOA gets more residents. Loads are
    # the only writers of these tables and bump the data version, so until the version moves
    # the kept area (and its old residents) answers; after, the area is read again.
    programme = await made.programme(aconn, rule=index_rule("imd", decile_at_most=10))
    catalogues = checks.CatalogueCache()
    code = min(IOD2025.values)
    lon, lat = IOD2025.points[code]
    place = place_resolution.Place(lon=lon, lat=lat)

    async def residents() -> float:
        [answer] = await checks.check_eligibility(
            aconn, place, programme.id, factories.today(), catalogues
        )
        return answer.area.residents

    before = await residents()
    async with aconn.transaction(force_rollback=True):
        await aconn.execute(
            "UPDATE lsoa_population SET residents = residents + 1000 "
            "WHERE edition_code = 'IoD2025' AND lsoa_code = %s",
            (code,),
        )
        assert await residents() == before
        version = catalogues.units.version
        await aconn.execute(read_sql("geo", "tiles/bump_data_version.sql"))
        assert await residents() == before + 1000
        assert catalogues.units.version == version + 1
    assert await residents() == before


def kept_ward(code: str, lsoas: list[str]) -> tuple[place_resolution.AssessedArea, AreaFacts]:
    """A ward's area as a click resolves to it, of LSOAs with made-up facts (cache tests)."""
    facts = AreaFacts(
        lsoas=tuple(
            LsoaFacts(c, c, "E08000001", 1000.0, 1.0, {"imd": 1}, {"imd": 1}) for c in lsoas
        ),
        national_lsoa_count=33_755,
    )
    area = place_resolution.AssessedArea(
        kind="ward",
        code=code,
        name=code,
        lsoa_count=len(lsoas),
        residents=facts.residents,
        population_method="made up",
    )
    return area, facts


def test_a_kept_ward_is_found_from_any_of_its_lsoas_within_a_budget_of_lsoas() -> None:
    units = place_resolution.UnitCache(max_lsoas=5)

    def key(lsoa: str) -> place_resolution.UnitKey:
        return ("IoD2025", 2021, "ward", lsoa, False)

    north, south, east = (
        kept_ward("E05000001", ["E01000001", "E01000002"]),
        kept_ward("E05000002", ["E01000003", "E01000004"]),
        kept_ward("E05000003", ["E01000005", "E01000006"]),
    )
    units.put(7, key("E01000001"), north)
    assert units.get(7, key("E01000002")) is north  # never clicked, but one of its LSOAs
    assert units.get(7, ("IoD2025", 2021, "lad", "E01000002", False)) is None
    units.put(7, key("E01000003"), south)
    assert units.get(7, key("E01000001")) is north  # north is now the more recently used
    units.put(7, key("E01000006"), east)  # 6 LSOAs over a budget of 5: south goes
    assert (len(units), units.lsoa_count) == (2, 4)
    assert units.get(7, key("E01000004")) is None and units.get(7, key("E01000005")) is east
    assert units.get(6, key("E01000005")) is None  # asked as of another version
    units.put(6, key("E01000003"), south)  # read at an older version: not kept
    assert units.get(7, key("E01000003")) is None
    units.put(7, key("E01000009"), kept_ward("E05000004", [f"E0100001{i}" for i in range(6)]))
    assert len(units) == 2  # more LSOAs than the whole budget: not kept
    units.put(8, key("E01000003"), south)  # a newer version drops the older areas
    assert (units.version, len(units), units.lsoa_count) == (8, 1, 2)
    assert units.get(8, key("E01000004")) is south and units.get(8, key("E01000001")) is None


@pytest.mark.parametrize("level", ["lsoa", "ward"])
async def test_a_click_in_two_lsoas_is_assessed_in_the_lowest_coded_one(
    aconn: psycopg.AsyncConnection, made: factories.Made, level: str
) -> None:
    # Boundaries touch, so a click on one lies in both LSOAs. A copy of an LSOA under a lower
    # code makes every point inside it such a click (rolled back at the end).
    programme = await made.programme(
        aconn, geography_level=level, rule=index_rule("imd", decile_at_most=10)
    )
    code = max(IOD2025.values)
    twin = "E01000000"
    lon, lat = IOD2025.points[code]
    async with aconn.transaction(force_rollback=True):
        await aconn.execute(
            "INSERT INTO lsoa (vintage, code, name, lad_vintage, lad_code, ward_vintage, "
            "ward_code, msoa_code, geom, geom_4326, geom_3857, geom_repaired) "
            "SELECT vintage, %(twin)s, name || ' twin', lad_vintage, lad_code, ward_vintage, "
            "ward_code, msoa_code, geom, geom_4326, geom_3857, geom_repaired "
            "FROM lsoa WHERE vintage = 2021 AND code = %(code)s",
            {"twin": twin, "code": code},
        )
        for table, columns in (
            ("lsoa_population", "edition_code, residents, adults_18_plus, reference_year, method"),
            ("lsoa_index_value", "edition_code, domain_code, score, rank, decile"),
        ):
            await aconn.execute(  # table and column names are the fixed ones above
                f"INSERT INTO {table} (lsoa_code, {columns}) "
                f"SELECT %(twin)s, {columns} FROM {table} "
                "WHERE edition_code = 'IoD2025' AND lsoa_code = %(code)s",
                {"twin": twin, "code": code},
            )
        answer = await check(aconn, place_resolution.Place(lon=lon, lat=lat), programme)
        if level == "lsoa":
            assert (answer.area.kind, answer.area.code) == ("lsoa", twin)
            assert [lsoa.code for lsoa in answer.lsoas] == [twin]
        else:
            assert (answer.area.kind, answer.area.code) == ("ward", IOD2025.values[code].ward)
            assert {twin, code} <= {lsoa.code for lsoa in answer.lsoas}


async def test_an_lsoa_code_is_widened_to_its_ward_however_it_is_typed(
    aconn: psycopg.AsyncConnection, made: factories.Made
) -> None:
    programme = await made.programme(
        aconn, geography_level="ward", rule=index_rule("imd", decile_at_most=10)
    )
    code = min(IOD2025.values)
    for typed in (code, code.lower(), f" {code.lower()} "):
        answer = await check(aconn, place_resolution.Place(code=typed), programme)
        assert (answer.area.kind, answer.area.code) == ("ward", IOD2025.values[code].ward)
