"""Coverage on the real demo LSOAs: hand-built groups, shares checked against shapely, the H3
grid against the h3 library, incremental against national, cold spots, totals, snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import h3
import numpy as np
import psycopg
import pytest
import shapely
from alembic import command
from psycopg.rows import dict_row
from pyproj import Transformer

from config.settings import DatabaseSettings
from data import DEMO_DIR, coverage_base, h3_grid, schema
from data.loaders import load_all
from geo import coverage
from geo.errors import AreaNotFound, InvalidInput, PointOutsideCoverage
from geo.sqlfiles import read_sql
from tests.utils import factories
from tests.utils.databases import throwaway_database

pytestmark = pytest.mark.anyio

TODAY = factories.today()
SINCE = coverage.active_since(TODAY)
MANCHESTER, TRAFFORD, BLACKPOOL = "E08000003", "E08000009", "E06000009"
# Real LSOA 2021 codes of the demo extract (Manchester 018A, 018C, 018E: IMD decile 1).
DISC_LSOA, UNION_LSOAS = "E01005061", ("E01005063", "E01005066")
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


@dataclass(frozen=True)
class Built:
    """The groups and organiser these tests made: name -> id."""

    groups: dict[str, int]
    organisers: dict[str, int]


_GROUP = """
INSERT INTO community_group (
    reference, name, kind, description, meeting_place, leader_name, leader_email, leader_phone,
    leader_address, code_of_conduct_version, code_of_conduct_accepted_on, area, area_km2,
    lad_codes, principal_lad_code, listed, last_activity_on, created_by
)
SELECT %(reference)s, %(name)s, 'residents_association', 'A test group', 'The library',
       'Test Leader', 'leader@example.invalid', '0161 000 0000', '1 Private Road',
       'v1', %(today)s, a.area, ST_Area(a.area) / 1e6, ARRAY[%(lad)s], %(lad)s,
       %(listed)s, %(last_activity_on)s, 'tests'
FROM (SELECT ST_Multi({area}) AS area) a
RETURNING id
"""
_ORGANISER = """
INSERT INTO organiser (
    reference, name, email, training_centre, trained_on, active, patch, patch_area_km2,
    lad_codes, created_by
)
SELECT %(reference)s, 'Test Organiser', 'organiser@example.invalid', 'Test Centre',
       %(today)s, true, p.patch, ST_Area(p.patch) / 1e6, ARRAY[%(lad)s], 'tests'
FROM (SELECT ST_Multi({area}) AS patch) p
RETURNING id
"""
# Areas built from the real LSOA boundaries (EPSG:27700).
_DISC = "ST_Buffer((SELECT ST_PointOnSurface(geom) FROM lsoa WHERE vintage = 2021 AND code = %(lsoa)s), %(radius)s)"  # noqa: E501
_SHIFTED_DISC = (
    "ST_Buffer(ST_Translate((SELECT ST_PointOnSurface(geom) FROM lsoa WHERE vintage = 2021"
    " AND code = %(lsoa)s), 400, 0), %(radius)s)"
)
_LSOA_UNION = "(SELECT ST_Union(geom) FROM lsoa WHERE vintage = 2021 AND code = ANY(%(lsoas)s))"
_LAD_LSOA_DISC = (
    "ST_Buffer((SELECT ST_PointOnSurface(geom) FROM lsoa WHERE vintage = 2021 AND lad_code ="
    " %(lad)s ORDER BY code LIMIT 1), %(radius)s)"
)


def _plan() -> list[dict[str, Any]]:
    """The hand-built groups: areas, districts, listing and latest activity."""
    recent = TODAY - timedelta(days=30)
    base = {"today": TODAY, "listed": True, "last_activity_on": recent, "lsoa": DISC_LSOA}
    return [
        {**base, "key": "disc", "area": _DISC, "lad": MANCHESTER, "radius": 500},
        {**base, "key": "overlap", "area": _SHIFTED_DISC, "lad": MANCHESTER, "radius": 500},
        {
            **base,
            "key": "lsoas",
            "area": _LSOA_UNION,
            "lad": MANCHESTER,
            "lsoas": list(UNION_LSOAS),
        },
        # Latest activity exactly 12 months ago: still active today (both ends included).
        {
            **base,
            "key": "edge",
            "area": _LAD_LSOA_DISC,
            "lad": TRAFFORD,
            "radius": 300,
            "last_activity_on": SINCE,
        },  # fmt: skip
        # 12 months and a day ago: lapsed, covers nothing.
        {
            **base,
            "key": "lapsed",
            "area": _LAD_LSOA_DISC,
            "lad": BLACKPOOL,
            "radius": 600,
            "last_activity_on": SINCE - timedelta(days=1),
        },  # fmt: skip
        {
            **base,
            "key": "unlisted",
            "area": _LAD_LSOA_DISC,
            "lad": "E06000041",
            "radius": 400,
            "listed": False,
        },  # fmt: skip
    ]


async def build(aconn: psycopg.AsyncConnection, run: str) -> Built:
    """Insert the planned groups and an organiser, refreshing one by one after a national
    refresh; ``run`` prefixes their references."""
    # Whatever other tests left, the layer starts in step with the tables.
    await coverage.refresh_all(aconn, as_of=TODAY)
    groups: dict[str, int] = {}
    for spec in _plan():
        params = {**spec, "reference": f"{run}-{spec['key']}", "name": f"Test {spec['key']}"}
        sql = _GROUP.format(area=spec["area"])
        cur = await aconn.execute(sql, params)
        (groups[spec["key"]],) = await cur.fetchone() or (0,)
        async with aconn.transaction():
            await coverage.refresh_group(aconn, groups[spec["key"]], as_of=TODAY)
    params = {"reference": f"{run}-patch", "today": TODAY, "lad": MANCHESTER}
    params |= {"lsoa": DISC_LSOA, "radius": 1500}
    cur = await aconn.execute(_ORGANISER.format(area=_DISC), params)
    (organiser,) = await cur.fetchone() or (0,)
    await coverage.refresh_organiser(aconn, organiser, as_of=TODAY)
    return Built(groups=groups, organisers={"patch": organiser})


@pytest.fixture(scope="module")
def built(settings: DatabaseSettings) -> Iterator[Built]:
    """The groups and an organiser, inserted and refreshed one by one after a national refresh."""
    run = f"T{np.random.default_rng().integers(10**8)}"
    made = factories.run(settings.dsn, lambda aconn: build(aconn, run))
    yield made

    async def teardown(aconn: psycopg.AsyncConnection) -> None:
        # Unlisted first, so their coverage goes with them (a deleted group's pieces vanish).
        await aconn.execute(
            "UPDATE community_group SET listed = false WHERE id = ANY(%s)",
            (list(made.groups.values()),),
        )
        await aconn.execute(
            "UPDATE organiser SET active = false WHERE id = ANY(%s)",
            (list(made.organisers.values()),),
        )
        for group_id in made.groups.values():
            await coverage.refresh_group(aconn, group_id, as_of=TODAY)
        for organiser_id in made.organisers.values():
            await coverage.refresh_organiser(aconn, organiser_id, as_of=TODAY)
        await aconn.execute(
            "DELETE FROM community_group WHERE id = ANY(%s)", (list(made.groups.values()),)
        )
        await aconn.execute(
            "DELETE FROM organiser WHERE id = ANY(%s)", (list(made.organisers.values()),)
        )

    factories.run(settings.dsn, teardown)


# ---------------------------------------------------------------------------------------------
# Independent computations (shapely, pyproj, the h3 library) from the source tables


def lsoas(conn: psycopg.Connection) -> dict[str, tuple[shapely.Geometry, float, int, str]]:
    """Every IoD2025 LSOA: boundary (EPSG:27700), adults, IMD decile, district."""
    rows = conn.execute(
        "SELECT l.code, ST_AsBinary(l.geom), p.adults_18_plus, v.decile, l.lad_code FROM lsoa l"
        " JOIN lsoa_population p ON p.edition_code = 'IoD2025' AND p.lsoa_code = l.code"
        " JOIN lsoa_index_value v ON v.edition_code = 'IoD2025' AND v.lsoa_code = l.code"
        "  AND v.domain_code = 'imd'"
        " WHERE l.vintage = 2021"
    ).fetchall()
    return {code: (shapely.from_wkb(wkb), float(a), int(d), lad) for code, wkb, a, d, lad in rows}


def active_areas(conn: psycopg.Connection) -> list[shapely.Geometry]:
    """Every active group's area (listed, latest activity within 12 months of today)."""
    rows = conn.execute(
        "SELECT ST_AsBinary(area) FROM community_group WHERE listed AND last_activity_on >= %s",
        (SINCE,),
    ).fetchall()
    return [shapely.from_wkb(wkb) for (wkb,) in rows]


def active_patches(conn: psycopg.Connection) -> list[shapely.Geometry]:
    """Every active organiser's patch."""
    rows = conn.execute("SELECT ST_AsBinary(patch) FROM organiser WHERE active").fetchall()
    return [shapely.from_wkb(wkb) for (wkb,) in rows]


def expected_share(boundary: shapely.Geometry, areas: list[shapely.Geometry]) -> float:
    """Share of an LSOA's area inside at least one of ``areas`` (their union, so once)."""
    touching = [a for a in areas if a.intersects(boundary)]
    if not touching:
        return 0.0
    return min(1.0, shapely.union_all(touching).intersection(boundary).area / boundary.area)


def stored(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """The coverage layer's rows by code."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            "SELECT code, lad_code, imd_decile, adults, covered_share, adults_covered,"
            " adults_uncovered, active_groups, organiser_share, adults_organiser_covered,"
            " organisers, cold_spot, as_of FROM lsoa_coverage"
        )
        return {row["code"]: row for row in cur.fetchall()}


def same(left: tuple[Any, Any], right: tuple[Any, Any]) -> bool:
    """Whether two (stored, stored_cells) states agree (sums to 12 significant digits)."""
    cells_left, cells_right = left[1], right[1]
    return (
        left[0] == right[0]
        and cells_left.keys() == cells_right.keys()
        and all(
            cells_left[c] == pytest.approx(cells_right[c], rel=1e-12, abs=1e-9) for c in cells_left
        )
    )


def stored_cells(conn: psycopg.Connection) -> dict[int, tuple[Any, ...]]:
    """H3 coverage by id, as served (resolution 9 from its parent's bits): resolution, adults,
    covered, share, deprived, organised."""
    rows = conn.execute(
        "SELECT fid, resolution, adults, adults_covered, covered_share, deprived_adults,"
        " deprived_adults_covered, adults_organiser_covered FROM h3_coverage_serving"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def centre_in_bng(cell: int) -> shapely.Point:
    """An H3 cell's centre in EPSG:27700, from the h3 library and pyproj."""
    lat, lng = h3.cell_to_latlng(h3.int_to_str(cell))
    return shapely.Point(*TO_BNG.transform(lng, lat))


# ---------------------------------------------------------------------------------------------
# The grid


def test_load_builds_the_coverage_layer(conn: psycopg.Connection) -> None:
    source = lsoas(conn)
    rows = stored(conn)
    assert set(rows) == set(source)
    for code, (_, adults, decile, lad) in source.items():
        row = rows[code]
        assert (row["lad_code"], row["imd_decile"]) == (lad, decile)
        assert row["adults"] == pytest.approx(adults)


def test_grid_equals_the_h3_library_per_lsoa(conn: psycopg.Connection) -> None:
    """Each LSOA's cells are h3.polygon_to_cells of its boundary; its adults shared equally."""
    rows = conn.execute(
        "SELECT d.code, ST_AsBinary(d.geom_4326), ST_X(ST_Transform(ST_PointOnSurface(d.geom),"
        " 4326)), ST_Y(ST_Transform(ST_PointOnSurface(d.geom), 4326)), p.adults_18_plus"
        " FROM lsoa_deprivation d JOIN lsoa_population p ON p.edition_code = d.edition_code"
        " AND p.lsoa_code = d.code WHERE d.edition_code = 'IoD2025'"
    ).fetchall()
    expected_adults: dict[int, float] = defaultdict(float)
    claims: dict[int, set[str]] = defaultdict(set)
    without_centre = 0
    for code, wkb, lon, lat, adults in rows:
        cells = set(h3.geo_to_cells(shapely.from_wkb(wkb), 9))
        if not cells:
            without_centre += 1
            cells = {h3.latlng_to_cell(lat, lon, 9)}
        for cell in cells:
            expected_adults[h3.str_to_int(cell)] += adults / len(cells)
            claims[h3.str_to_int(cell)].add(code)
    got = {
        cell: (code, adults)
        for cell, code, adults in conn.execute(
            "SELECT cell, lsoa_code, adults FROM h3_cell_adults"
        ).fetchall()
    }
    assert set(got) == set(expected_adults)
    for cell, (code, adults) in got.items():
        assert code in claims[cell]
        assert adults == pytest.approx(expected_adults[cell], rel=1e-12)
    assert without_centre > 0  # the demo has LSOAs smaller than a cell (urban Manchester)
    total = sum(a for *_, a in rows)
    assert sum(a for _, a in got.values()) == pytest.approx(total, rel=1e-12)


def test_h3_parents_match_the_h3_library() -> None:
    rng = np.random.default_rng(7)
    cells = np.array(
        [
            h3.str_to_int(h3.latlng_to_cell(lat, lng, 9))
            for lat, lng in rng.uniform((50.0, -5.5), (55.5, 1.5), size=(200, 2))
        ],  # fmt: skip
        dtype=np.int64,
    )
    for resolution in (6, 7, 8):
        expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), resolution)) for c in cells]
        assert h3_grid.h3_parents(cells, resolution).tolist() == expected


def test_cell_names_match_the_h3_library() -> None:
    rng = np.random.default_rng(11)
    cells = np.array(
        [
            h3.str_to_int(h3.latlng_to_cell(lat, lng, resolution))
            for lat, lng in rng.uniform((50.0, -5.5), (55.5, 1.5), size=(200, 2))
            for resolution in (0, 6, 7, 8, 9, 15)
        ],  # fmt: skip
        dtype=np.int64,
    )
    expected = [h3.int_to_str(c) for c in cells.tolist()]
    assert [name.decode() for name in h3_grid.cell_names(cells)] == expected
    assert h3_grid.cell_names(np.array([], dtype=np.int64)).tolist() == []
    edge = h3.str_to_int(h3.origin_to_directed_edges(h3.int_to_str(int(cells[0])))[0])
    with pytest.raises(ValueError, match="not H3 cell"):
        h3_grid.cell_names(np.array([edge], dtype=np.int64))


def test_cell_geometries_are_the_h3_boundaries(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT resolution, cell, fid, ST_AsBinary(geom_4326), ST_AsBinary(geom_3857),"
        " ST_AsBinary(geom), geom_3857_low IS NOT NULL, ST_Equals(geom_3857, geom_3857_mid)"
        " FROM h3_coverage_serving WHERE fid % 97 = 0 OR resolution = 6"
    ).fetchall()
    assert {r[0] for r in rows} == {6, 7, 8, 9}
    for resolution, cell, fid, wgs84, mercator, bng, has_low, mid_equal in rows:
        assert h3.str_to_int(cell) == fid and h3.get_resolution(cell) == resolution
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        lng, lat = np.array(ring).T
        assert shapely.get_coordinates(shapely.from_wkb(wgs84)) == pytest.approx(np.array(ring))
        for wkb, transformer in ((mercator, TO_MERCATOR), (bng, TO_BNG)):
            x, y = transformer.transform(lng, lat)
            coordinates = shapely.get_coordinates(shapely.from_wkb(wkb))
            assert coordinates == pytest.approx(np.column_stack([x, y]), abs=1e-6)
        assert has_low == (resolution <= 7) and mid_equal


def test_reload_of_the_same_data_rewrites_nothing(settings: DatabaseSettings) -> None:
    with psycopg.connect(settings.dsn) as conn:
        # Coverage as of today first: what earlier tests stored may be of another day (the
        # active groups and each row's as_of follow the day), and that is not the load's doing.
        coverage_base.rebuild_after_load(conn, as_of=TODAY)
        before = stored(conn), stored_cells(conn)
        rows = coverage_base.rebuild_after_load(conn, as_of=TODAY)
        assert (rows["lsoa_coverage"], rows["h3_cell_adults"], rows["h3_coverage"]) == (0, 0, 0)
        assert (stored(conn), stored_cells(conn)) == before
        conn.rollback()


# ---------------------------------------------------------------------------------------------
# Coverage of hand-built groups


def test_lsoa_coverage_equals_shapely(built: Built, conn: psycopg.Connection) -> None:
    source = lsoas(conn)
    areas, patches = active_areas(conn), active_patches(conn)
    rows = stored(conn)
    touched = 0
    for code, (boundary, adults, decile, _) in source.items():
        share = expected_share(boundary, areas)
        row = rows[code]
        assert row["covered_share"] == pytest.approx(share, rel=1e-9, abs=1e-12), code
        assert row["adults_covered"] == pytest.approx(adults * share, rel=1e-9, abs=1e-9)
        assert row["adults_uncovered"] == pytest.approx(adults * (1 - share), rel=1e-9, abs=1e-9)
        groups = sum(1 for a in areas if a.intersection(boundary).area > 0)
        assert row["active_groups"] == groups, code
        organiser = expected_share(boundary, patches)
        assert row["organiser_share"] == pytest.approx(organiser, rel=1e-9, abs=1e-12)
        assert row["cold_spot"] == (decile <= 2 and share < coverage.COLD_SPOT_THRESHOLD)
        assert row["as_of"] == TODAY.isoformat()
        touched += share > 0
    assert touched >= 5


def test_overlapping_groups_count_once(built: Built, conn: psycopg.Connection) -> None:
    boundary, adults, _, _ = lsoas(conn)[DISC_LSOA]
    disc, overlap = (
        shapely.from_wkb(conn.execute(
            "SELECT ST_AsBinary(area) FROM community_group WHERE id = %s", (built.groups[k],)
        ).fetchone()[0])  # type: ignore[index]
        for k in ("disc", "overlap")
    )  # fmt: skip
    # Other tests' groups may work here too: every active group's area counts.
    areas = [a for a in active_areas(conn) if a.intersection(boundary).area > 0]
    assert any(a.equals(disc) for a in areas) and any(a.equals(overlap) for a in areas)
    separately = sum(a.intersection(boundary).area for a in areas) / boundary.area
    row = stored(conn)[DISC_LSOA]
    assert row["active_groups"] == len(areas) >= 2
    assert disc.intersection(overlap).intersection(boundary).area > 0
    assert row["covered_share"] < separately  # the overlap is not counted twice
    assert row["covered_share"] == pytest.approx(
        shapely.union_all(areas).intersection(boundary).area / boundary.area, rel=1e-9
    )


def test_group_given_as_lsoas_covers_them_whole(built: Built, conn: psycopg.Connection) -> None:
    rows = stored(conn)
    for code in UNION_LSOAS:
        assert rows[code]["covered_share"] == pytest.approx(1.0)
        assert rows[code]["adults_uncovered"] == pytest.approx(0.0, abs=1e-9)


def test_lapsed_and_unlisted_groups_cover_nothing(built: Built, conn: psycopg.Connection) -> None:
    lapsed, unlisted, edge = (built.groups[k] for k in ("lapsed", "unlisted", "edge"))
    pieces: dict[int, list[str]] = dict(
        conn.execute(
            "SELECT group_id, array_agg(lsoa_code) FROM group_lsoa WHERE group_id = ANY(%s)"
            " GROUP BY group_id",
            ([lapsed, unlisted, edge],),
        ).fetchall()
    )
    rows = stored(conn)
    # Their pieces are kept (for when they come back); nobody else works there.
    for group_id in (lapsed, unlisted):
        assert pieces[group_id]
        assert all(rows[code]["covered_share"] == 0 for code in pieces[group_id])
    assert all(rows[code]["covered_share"] > 0 for code in pieces[edge])


def test_h3_cells_are_covered_by_their_centres(built: Built, conn: psycopg.Connection) -> None:
    areas, patches = shapely.union_all(active_areas(conn)), shapely.union_all(active_patches(conn))
    cells = stored_cells(conn)
    covered = 0
    for cell, (
        resolution,
        adults,
        adults_covered,
        share,
        deprived,
        deprived_cov,
        organised,
    ) in cells.items():
        if resolution != 9:
            continue
        centre = centre_in_bng(cell)
        inside = areas.intersects(centre)
        assert adults_covered == (adults if inside else 0), cell
        assert deprived_cov == (deprived if inside else 0)
        assert share == (1 if inside and adults > 0 else 0)
        assert organised == (adults if patches.intersects(centre) else 0)
        covered += inside
    assert covered >= 20


def assert_parents_sum_their_children(conn: psycopg.Connection) -> None:
    """Every resolution 6-8 cell holds the sums of its resolution-9 descendants (h3 library)."""
    cells = stored_cells(conn)
    sums: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(4))
    for cell, (resolution, adults, covered, _, _, deprived_cov, organised) in cells.items():
        if resolution == 9:
            for parent_resolution in (6, 7, 8):
                parent = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), parent_resolution))
                sums[parent] += (adults, covered, deprived_cov, organised)
    parents = {c: v for c, v in cells.items() if v[0] != 9}
    assert set(parents) == set(sums)
    for cell, (_, adults, covered, share, _, deprived_cov, organised) in parents.items():
        assert np.array([adults, covered, deprived_cov, organised]) == pytest.approx(
            sums[cell], rel=1e-9, abs=1e-6
        )
        assert share == pytest.approx(covered / adults if adults else 0, rel=1e-9, abs=1e-9)
    lsoa_adults = conn.execute(
        "SELECT sum(adults_18_plus) FROM lsoa_population WHERE edition_code = 'IoD2025'"
    ).fetchone()
    assert lsoa_adults is not None
    for resolution in (6, 7, 8, 9):
        total = sum(v[1] for v in cells.values() if v[0] == resolution)
        assert total == pytest.approx(lsoa_adults[0], rel=1e-12)


def test_h3_parents_sum_their_children(built: Built, conn: psycopg.Connection) -> None:
    assert_parents_sum_their_children(conn)
    assert any(v[2] > 0 for v in stored_cells(conn).values() if v[0] == 6)


def test_children_adults_are_the_stored_cells_by_digit(
    built: Built, conn: psycopg.Connection
) -> None:
    """h3_children_adults (computed in Python) holds each resolution-8 cell's children's
    adults by their digit (h3 library), in billionths cast by PostgreSQL as migration 0012
    defines them, 0 for a digit without a child."""
    expected: dict[int, list[list[int]]] = {
        fid: [[0] * 7, [0] * 7]
        for (fid,) in conn.execute("SELECT fid FROM h3_coverage WHERE resolution = 8")
    }
    for fid, adults_e9, deprived_e9 in conn.execute(
        "SELECT fid, (adults * 1e9)::bigint, (deprived_adults * 1e9)::bigint"
        " FROM h3_coverage WHERE resolution = 9"
    ):
        cell = h3.int_to_str(fid)
        digit = h3.get_index_digit(cell, 9)
        adults, deprived = expected[h3.str_to_int(h3.cell_to_parent(cell, 8))]
        adults[digit], deprived[digit] = adults_e9, deprived_e9
    stored = {
        fid: [list(adults), list(deprived)]
        for fid, adults, deprived in conn.execute("SELECT * FROM h3_children_adults")
    }
    assert len(stored) > 10 and stored == expected


def test_a_grid_computed_ahead_is_of_the_lsoas_coverage_holds(
    built: Built, settings: DatabaseSettings
) -> None:
    """The LSOAs a first load's grid is computed from ahead (before lsoa_coverage is written)
    are those lsoa_coverage holds after it, so the load takes that grid; with a grid stored
    nothing is computed ahead."""
    with psycopg.connect(settings.dsn) as conn:
        assert h3_grid.grid_ahead(conn, coverage.COVERAGE_EDITION) is None
        conn.execute("DELETE FROM h3_cell_adults")
        ahead = h3_grid.grid_ahead(conn, coverage.COVERAGE_EDITION)
        conn.rollback()
        assert ahead is not None
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(read_sql("data", "h3_grid/lsoas.sql"))
            lsoas = [h3_grid.GridLsoa(**row) for row in cur.fetchall()]
        conn.rollback()
    assert len(lsoas) > 100 and ahead.lsoas == lsoas
    grid, levels = ahead.future.result()
    again = h3_grid.grid_cells(lsoas)
    for name in ("cells", "lsoa_codes", "adults", "deprived_adults", "imd_deciles", "centres"):
        assert np.array_equal(getattr(grid, name), getattr(again, name)), name
    assert sorted(levels) == [6, 7, 8, 9] and np.array_equal(levels[9][0], grid.cells)


def test_changed_adults_rebuild_their_cells(built: Built, settings: DatabaseSettings) -> None:
    """A load that changes an LSOA's adults updates its cells and their ancestors."""
    with psycopg.connect(settings.dsn) as conn:
        before = stored_cells(conn)
        # An LSOA some of whose cells are covered and some not, so that the parents' sums
        # (kept from the children's adults, h3_children_adults) must follow the new adults.
        found = conn.execute(
            "SELECT a.lsoa_code FROM h3_cell_adults a JOIN h3_coverage_serving s"
            " ON s.fid = a.cell AND s.resolution = 9 GROUP BY a.lsoa_code"
            " HAVING bool_or(s.adults_covered > 0) AND bool_or(s.adults_covered = 0)"
            " ORDER BY a.lsoa_code LIMIT 1"
        ).fetchone()
        assert found is not None
        (code,) = found
        query = "SELECT cell FROM h3_cell_adults WHERE lsoa_code = %s"
        cells = [c for (c,) in conn.execute(query, (code,)).fetchall()]
        conn.execute(
            "UPDATE lsoa_population SET adults_18_plus = adults_18_plus * 2"
            " WHERE edition_code = 'IoD2025' AND lsoa_code = %s",
            (code,),
        )
        rows = coverage_base.rebuild_after_load(conn, as_of=TODAY)
        assert rows["lsoa_coverage"] == 1 and rows["h3_coverage"] >= len(cells) > 0
        after = stored_cells(conn)
        for cell in cells:
            assert after[cell][1] == pytest.approx(2 * before[cell][1])
            assert after[cell][2] == (after[cell][1] if before[cell][2] else 0)
        assert any(after[cell][2] > 0 for cell in cells)
        covered = stored(conn)[code]
        assert covered["adults_covered"] == pytest.approx(
            covered["adults"] * covered["covered_share"]
        )
        assert_parents_sum_their_children(conn)
        conn.rollback()


def test_h3_migrations_keep_the_served_coverage(
    settings: DatabaseSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations 0011 (resolution 9 as its parent's bits) and 0012 (the children's adults),
    taken back to 0010 and applied again, serve the same figures at every resolution.

    The round trip runs in a database of its own (migrated to head, the demo extract loaded,
    this module's groups and organiser built), dropped afterwards: taking the shared test
    database back to 0010 would empty every later migration's tables under the other tests.
    """
    query = (
        "SELECT resolution, count(*), count(*) FILTER (WHERE adults_covered > 0),"
        " count(*) FILTER (WHERE adults_organiser_covered > 0), sum(adults_covered),"
        " sum(deprived_adults_covered), sum(adults_organiser_covered), sum(covered_share)"
        " FROM h3_coverage_serving GROUP BY resolution ORDER BY resolution"
    )
    with throwaway_database(settings, "h3_round_trip") as url:
        own = DatabaseSettings(database_url=url)  # type: ignore[call-arg]

        def served() -> list[tuple[Any, ...]]:
            with psycopg.connect(own.dsn, autocommit=True) as conn:
                return conn.execute(query).fetchall()

        schema.upgrade(own.sqlalchemy_url)
        with psycopg.connect(own.dsn) as conn:
            load_all(conn, DEMO_DIR)
        factories.run(own.dsn, lambda aconn: build(aconn, "ROUNDTRIP"))
        before = served()
        assert [row[0] for row in before] == [6, 7, 8, 9]
        assert before[3][2] > 0 and before[3][3] > 0  # covered and organised resolution-9 cells
        # A lock some session still holds fails the migration instead of hanging the suite.
        monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=20s")
        command.downgrade(schema.alembic_config(own.sqlalchemy_url), "0010_h3_cell_geometry")
        old = served()
        schema.upgrade(own.sqlalchemy_url)
        again = served()
        for rows in (old, again):
            assert [row[:4] for row in rows] == [row[:4] for row in before]
            for row, expected in zip(rows, before, strict=True):
                assert row[4:] == pytest.approx(expected[4:], rel=1e-12)
        with psycopg.connect(own.dsn) as conn:
            assert_parents_sum_their_children(conn)


async def test_incremental_equals_national(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    incremental = stored(conn), stored_cells(conn)
    summary = await coverage.refresh_all(aconn, as_of=TODAY)
    national = stored(conn), stored_cells(conn)
    assert summary.lsoas_changed == 0 and summary.cells_changed == 0
    assert same(national, incremental)
    assert summary.groups >= len(built.groups) and summary.group_pieces > 0


async def test_moving_a_group_recomputes_old_and_new_places(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    group_id = built.groups["edge"]
    pieces = "SELECT lsoa_code FROM group_lsoa WHERE group_id = %s"
    old = {c for (c,) in conn.execute(pieces, (group_id,)).fetchall()}
    move = "UPDATE community_group SET area = ST_Translate(area, %s, 0) WHERE id = %s"
    try:
        async with aconn.transaction():
            await aconn.execute(move, (3000, group_id))
            await coverage.refresh_group(aconn, group_id, as_of=TODAY)
        new = {c for (c,) in conn.execute(pieces, (group_id,)).fetchall()}
        assert old and new and not old & new
        source, areas, rows = lsoas(conn), active_areas(conn), stored(conn)
        for code in old | new:
            share = expected_share(source[code][0], areas)
            assert rows[code]["covered_share"] == pytest.approx(share, rel=1e-9, abs=1e-12)
        moved = stored(conn), stored_cells(conn)
        await coverage.refresh_all(aconn, as_of=TODAY, recut=False)
        assert same((stored(conn), stored_cells(conn)), moved)
    finally:
        async with aconn.transaction():
            await aconn.execute(move, (-3000, group_id))
            await coverage.refresh_group(aconn, group_id, as_of=TODAY)


async def test_a_national_recut_rewrites_only_the_pieces_that_changed(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    group_id = built.groups["edge"]
    pieces = (
        "SELECT group_id, lsoa_code, xmin::text, ST_AsBinary(piece) FROM group_lsoa"
        " ORDER BY group_id, lsoa_code"
    )
    before = {(g, c): (x, bytes(b)) for g, c, x, b in conn.execute(pieces).fetchall()}
    move = "UPDATE community_group SET area = ST_Translate(area, %s, 0) WHERE id = %s"
    try:
        # The area moves without its own refresh: only the national re-cut brings its
        # pieces in line.
        conn.execute(move, (3000, group_id))
        await coverage.refresh_all(aconn, as_of=TODAY)
        after = {(g, c): (x, bytes(b)) for g, c, x, b in conn.execute(pieces).fetchall()}
        mine = {key for key in before | after if key[0] == group_id}
        others = set(before) - mine
        assert others and set(after) - mine == others
        # Every other group's pieces are the same rows, not rewritten copies.
        assert all(after[key] == before[key] for key in others)
        assert {k for k in after if k[0] == group_id} != {k for k in before if k[0] == group_id}
        # What the re-cut stored is what the group's own refresh cuts.
        await coverage.refresh_group(aconn, group_id, as_of=TODAY)
        again = {(g, c): bytes(b) for g, c, _, b in conn.execute(pieces).fetchall()}
        assert again == {key: value[1] for key, value in after.items()}
    finally:
        conn.execute(move, (-3000, group_id))
        await coverage.refresh_group(aconn, group_id, as_of=TODAY)


async def test_the_window_moves_with_the_date(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    edge = [c for (c,) in conn.execute(
        "SELECT lsoa_code FROM group_lsoa WHERE group_id = %s", (built.groups["edge"],)
    ).fetchall()]  # fmt: skip
    try:
        # Tomorrow the "edge" group's latest activity is 12 months and a day old.
        await coverage.refresh_all(aconn, as_of=TODAY + timedelta(days=1), recut=False)
        rows = stored(conn)
        assert all(rows[code]["covered_share"] == 0 for code in edge)
        assert all(rows[code]["as_of"] == (TODAY + timedelta(days=1)).isoformat() for code in edge)
        assert_parents_sum_their_children(conn)
    finally:
        await coverage.refresh_all(aconn, as_of=TODAY, recut=False)
    assert all(stored(conn)[code]["covered_share"] > 0 for code in edge)
    assert_parents_sum_their_children(conn)


async def test_public_listing_follows_the_window(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    group_id = built.groups["lapsed"]
    conn.execute(
        "INSERT INTO group_serving (fid, reference, name, kind, description, leader_name,"
        " principal_lad_code, area_km2, active, last_activity_on, is_synthetic, geom, geom_4326,"
        " geom_3857) SELECT id, reference, name, kind, description, leader_name,"
        " principal_lad_code, area_km2, true, NULL, false, area, ST_Transform(area, 4326),"
        " ST_Transform(area, 3857) FROM community_group WHERE id = %s",
        (group_id,),
    )
    try:
        await coverage.refresh_all(aconn, as_of=TODAY, recut=False)
        row = conn.execute(
            "SELECT active, last_activity_on FROM group_serving WHERE fid = %s", (group_id,)
        ).fetchone()
        assert row == (False, (SINCE - timedelta(days=1)).isoformat())
    finally:
        conn.execute("DELETE FROM group_serving WHERE fid = %s", (group_id,))


# ---------------------------------------------------------------------------------------------
# Reading: totals, LSOAs, cold spots, snapshots


async def test_district_and_england_totals(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    source, areas, patches = lsoas(conn), active_areas(conn), active_patches(conn)
    england = await coverage.england_coverage(aconn)
    assert england.lsoas == len(source)
    assert england.adults == pytest.approx(sum(a for _, a, _, _ in source.values()))
    for lad in (MANCHESTER, TRAFFORD, BLACKPOOL):
        mine = {c: v for c, v in source.items() if v[3] == lad}
        got = await coverage.lad_coverage(aconn, lad)
        covered = sum(a * expected_share(b, areas) for b, a, _, _ in mine.values())
        deprived = sum(a for _, a, d, _ in mine.values() if d <= 2)
        working = {
            i for i, area in enumerate(areas)
            if any(area.intersection(b).area > 0 for b, *_ in mine.values())
        }  # fmt: skip
        organising = {
            i for i, patch in enumerate(patches)
            if any(patch.intersection(b).area > 0 for b, *_ in mine.values())
        }  # fmt: skip
        assert (got.code, got.lsoas) == (lad, len(mine))
        assert got.adults == pytest.approx(sum(a for _, a, _, _ in mine.values()))
        assert got.adults_covered == pytest.approx(covered, rel=1e-9)
        assert got.deprived_adults == pytest.approx(deprived)
        assert got.active_groups == len(working)
        assert got.active_organisers == len(organising)
    districts = [await coverage.lad_coverage(aconn, lad) for lad in {v[3] for v in source.values()}]
    assert sum(d.adults_covered for d in districts) == pytest.approx(england.adults_covered)
    assert sum(d.cold_spots for d in districts) == england.cold_spots
    assert england.active_groups == len(areas)
    assert england.active_organisers == len(patches) >= 1


async def test_lsoa_at_a_point_lists_public_fields(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    lon, lat = conn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p"
        " FROM lsoa WHERE vintage = 2021 AND code = %s) x",
        (DISC_LSOA,),
    ).fetchone()  # type: ignore[misc]
    found = await coverage.lsoa_coverage_at(aconn, lon, lat)
    assert found.code == DISC_LSOA and found.imd_decile == 1
    references = [g.reference for g in found.groups]
    assert any(r.endswith("-disc") for r in references)
    assert any(r.endswith("-overlap") for r in references)
    assert all(g.active for g in found.groups if g.reference.endswith(("-disc", "-overlap")))
    assert found.organisers >= 1
    assert "leader_email" not in found.model_dump_json() and "Private Road" not in str(found)
    assert (await coverage.lsoa_coverage_by_code(aconn, DISC_LSOA.lower())) == found
    with pytest.raises(PointOutsideCoverage):
        await coverage.lsoa_coverage_at(aconn, -3.2, 55.95)  # Edinburgh
    with pytest.raises(InvalidInput):
        await coverage.lsoa_coverage_by_code(aconn, "E02000001")
    with pytest.raises(AreaNotFound):
        await coverage.lsoa_coverage_by_code(aconn, "E01999999")


async def test_postcode_resolves_to_its_lsoa(
    conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    postcode, code = conn.execute(
        "SELECT postcode, lsoa_code FROM postcode ORDER BY postcode LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    assert (await coverage.lsoa_coverage_for_postcode(aconn, postcode.lower())).code == code
    with pytest.raises(InvalidInput):
        await coverage.lsoa_coverage_for_postcode(aconn, "not a postcode")


@pytest.mark.parametrize("threshold", [0.5, 0.05, 1.0])
async def test_cold_spot_ranking(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection, threshold: float
) -> None:
    source, areas = lsoas(conn), active_areas(conn)
    ranking = sorted(
        (-(adults * (1 - share)), code, lad)
        for code, (boundary, adults, decile, lad) in source.items()
        if decile <= 2
        for share in [expected_share(boundary, areas)]
        if share < threshold
    )
    expected = [(uncovered, code) for uncovered, code, lad in ranking if lad == MANCHESTER]
    got = await coverage.cold_spots(aconn, threshold=threshold, lad_code=MANCHESTER, limit=10_000)
    assert [c.code for c in got] == [code for _, code in expected]
    assert [c.rank for c in got] == list(range(1, len(got) + 1))
    for spot, (uncovered, _) in zip(got, expected, strict=True):
        assert spot.adults_uncovered == pytest.approx(-uncovered, rel=1e-9, abs=1e-9)
    if threshold == coverage.COLD_SPOT_THRESHOLD:  # the stored flag uses the default
        flags = stored(conn)
        assert {c for c, r in flags.items() if r["cold_spot"]} == {c for _, c, _ in ranking}
    top = await coverage.cold_spots(aconn, threshold=threshold, limit=3)
    assert [c.code for c in top] == [code for _, code, _ in ranking[:3]]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"threshold": -0.1}, InvalidInput),
        ({"threshold": 1.5}, InvalidInput),
        ({"threshold": float("nan")}, InvalidInput),
        ({"limit": 0}, InvalidInput),
        ({"limit": 10_001}, InvalidInput),
        ({"lad_code": "Trafford"}, InvalidInput),
        ({"lad_code": "E08999999"}, AreaNotFound),
    ],
)
async def test_cold_spots_refuse_bad_input(
    aconn: psycopg.AsyncConnection, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await coverage.cold_spots(aconn, **kwargs)


async def test_snapshots_are_one_per_day(
    built: Built, conn: psycopg.Connection, aconn: psycopg.AsyncConnection
) -> None:
    day = date(2001, 1, 1) + timedelta(days=int(np.random.default_rng().integers(3000)))
    lads = {v[3] for v in lsoas(conn).values()}
    try:
        first = await coverage.take_snapshot(aconn, day)
        again = await coverage.take_snapshot(aconn, day)
        count = conn.execute(
            "SELECT count(*) FROM coverage_snapshot WHERE taken_on = %s", (day,)
        ).fetchone()
        assert count == (1 + len(lads),)
        assert [s.model_dump() for s in again] == [s.model_dump() for s in first]
        assert first[0].scope == "england" and {s.code for s in first[1:]} == lads
        england = await coverage.england_coverage(aconn)
        assert first[0].adults_covered == pytest.approx(england.adults_covered)
        assert first[0].details["coverage_as_of"] == TODAY.isoformat()
        trend = await coverage.snapshots(aconn, "england")
        assert [s.taken_on for s in trend].count(day) == 1
        assert trend == sorted(trend, key=lambda s: s.taken_on)
        manchester = await coverage.snapshots(aconn, "lad", MANCHESTER)
        mine = next(s for s in manchester if s.taken_on == day)
        assert mine.adults_covered == pytest.approx(
            (await coverage.lad_coverage(aconn, MANCHESTER)).adults_covered
        )
        with pytest.raises(AreaNotFound):
            await coverage.snapshots(aconn, "lad", "E08999999")
    finally:
        conn.execute("DELETE FROM coverage_snapshot WHERE taken_on = %s", (day,))
