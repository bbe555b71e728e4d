"""The synthetic generator on the demo extract: labelled rows, deterministic per seed, areas and
districts measured right (checked by an independent cut by the LSOAs), realistic activity,
idempotent replacement that never touches registered rows, all-or-nothing writes, the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely

from config.settings import DatabaseSettings
from data import synthetic
from geo import coverage, groups
from geo.errors import Conflict, InvalidInput
from tests.utils.commands import run_python
from tests.utils.databases import one_row
from tests.utils.factories import run

AS_OF = date(2026, 11, 25)
DEMO_LADS = ("E06000009", "E06000041", "E08000003", "E08000009")
GROUPS, ORGANISERS = 300, 40


def spec(**overrides: Any) -> synthetic.SyntheticSpec:
    values: dict[str, Any] = {
        "groups": GROUPS,
        "organisers": ORGANISERS,
        "seed": 7,
        "as_of": AS_OF,
    }
    values.update(overrides)
    return synthetic.SyntheticSpec(**values)


def generate(
    settings: DatabaseSettings, given: synthetic.SyntheticSpec
) -> synthetic.SyntheticReport:
    return run(settings.dsn, lambda aconn: synthetic.generate(aconn, given))


def synthetic_rows(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Everything generated, keyed by name (ids and references change from run to run)."""
    group_rows = conn.execute(
        "SELECT g.name, g.kind, g.leader_name, g.leader_email, md5(ST_AsEWKB(g.area)),"
        " g.area_km2, g.area_lsoa_codes, g.lad_codes, g.principal_lad_code, g.last_activity_on,"
        " g.code_of_conduct_accepted_on, o.name"
        " FROM community_group g LEFT JOIN organiser o ON o.id = g.started_by_organiser_id"
        " WHERE g.is_synthetic ORDER BY g.name"
    ).fetchall()
    organiser_rows = conn.execute(
        "SELECT name, email, training_centre, trained_on, active, md5(ST_AsEWKB(patch)),"
        " patch_area_km2, lad_codes FROM organiser WHERE is_synthetic ORDER BY name"
    ).fetchall()
    activity_rows = conn.execute(
        "SELECT g.name, a.kind, a.held_on, a.title, a.attendance FROM group_activity a"
        " JOIN community_group g ON g.id = a.group_id WHERE g.is_synthetic"
        " ORDER BY g.name, a.held_on, a.kind, a.attendance"
    ).fetchall()
    return {"groups": group_rows, "organisers": organiser_rows, "activities": activity_rows}


def registered_fingerprint(conn: psycopg.Connection) -> tuple[Any, ...]:
    """Row counts and md5 of every non-synthetic group, organiser, activity and public row."""
    queries = (
        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
        " FROM community_group t WHERE NOT t.is_synthetic",
        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
        " FROM organiser t WHERE NOT t.is_synthetic",
        "SELECT count(*), md5(coalesce(string_agg(a::text, '|' ORDER BY a.id), ''))"
        " FROM group_activity a JOIN community_group g ON g.id = a.group_id"
        " WHERE NOT g.is_synthetic",
        "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.fid), ''))"
        " FROM group_serving t WHERE NOT t.is_synthetic",
    )
    return tuple(conn.execute(q).fetchone() for q in queries)


@pytest.fixture(scope="module")
def generated(settings: DatabaseSettings) -> Iterator[synthetic.SyntheticReport]:
    """One generation on the demo extract (seed 7); every synthetic row removed afterwards."""
    yield generate(settings, spec())
    generate(settings, spec(groups=0, organisers=0))


def test_rows_are_labelled_synthetic(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    assert (generated.groups, generated.organisers) == (GROUPS, ORGANISERS)
    rows = conn.execute(
        "SELECT reference, name, leader_name, leader_email, description, kind,"
        " code_of_conduct_version, code_of_conduct_accepted_on, created_by, listed"
        " FROM community_group WHERE is_synthetic ORDER BY id"
    ).fetchall()
    assert len(rows) == GROUPS
    for n, row in enumerate(rows, start=1):
        reference, name, leader, email, description, kind, version, accepted, actor, listed = row
        assert re.fullmatch(r"NG-[0-9]{6,}", reference)
        assert (name, leader, email) == (
            f"Synthetic group {n:05d}",
            f"Synthetic leader {n:05d}",
            f"leader-{n:05d}@example.invalid",
        )
        assert "not a real group" in description and "seed 7" in description
        assert kind in synthetic.GROUP_KIND_WEIGHTS and listed
        assert version == groups.CODE_OF_CONDUCT_VERSION
        assert groups.CODE_OF_CONDUCT_ISSUED_ON <= accepted <= AS_OF
        assert actor == "synthetic generator (seed 7)"
    organisers = conn.execute(
        "SELECT reference, name, email, training_centre FROM organiser WHERE is_synthetic"
        " ORDER BY id"
    ).fetchall()
    assert [(o[1], o[2]) for o in organisers] == [
        (f"Synthetic organiser {n:05d}", f"organiser-{n:05d}@example.invalid")
        for n in range(1, ORGANISERS + 1)
    ]
    assert all(re.fullmatch(r"CO-[0-9]{5,}", o[0]) for o in organisers)
    assert {o[3] for o in organisers} <= set(synthetic.TRAINING_CENTRES)
    # The public layers carry them, flagged, without contact details.
    served = conn.execute(
        "SELECT count(*), bool_and(s.is_synthetic) FROM group_serving s"
        " JOIN community_group g ON g.id = s.fid WHERE g.is_synthetic"
    ).fetchone()
    assert served == (GROUPS, True)
    served = conn.execute(
        "SELECT count(*), bool_and(s.is_synthetic) FROM organiser_serving s"
        " JOIN organiser o ON o.id = s.fid WHERE o.is_synthetic"
    ).fetchone()
    assert served == (ORGANISERS, True)


def _independent_districts(
    conn: psycopg.Connection, table: str, column: str
) -> dict[str, tuple[list[str], str, float]]:
    """Districts, principal and area of every synthetic row, cut by each LSOA separately."""
    rows = conn.execute(
        f"SELECT t.name, l.lad_code, sum(ST_Area(ST_Intersection(l.geom, t.{column}))),"
        f" ST_Area(t.{column}) FROM {table} t"
        f" JOIN lsoa l ON l.vintage = %s AND ST_Intersects(l.geom, t.{column})"
        f" WHERE t.is_synthetic GROUP BY t.name, l.lad_code, t.{column}",
        (coverage.COVERAGE_VINTAGE,),
    ).fetchall()
    by_name: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for name, lad, m2, total in rows:
        by_name.setdefault(name, {})[lad] = m2
        totals[name] = total
    result = {}
    for name, lads in by_name.items():
        total = totals[name]
        kept = sorted(
            lad
            for lad, m2 in lads.items()
            if m2 > groups.LAD_SHARE_MIN * total or m2 > groups.LAD_M2_MIN
        )
        principal = min(lads, key=lambda lad: (-lads[lad], lad))
        result[name] = (kept, principal, sum(lads.values()) / total)
    return result


@pytest.mark.parametrize(
    ("table", "column", "km2"),
    [("community_group", "area", "area_km2"), ("organiser", "patch", "patch_area_km2")],
)
def test_areas_and_districts_match_an_independent_cut_by_lsoas(
    generated: synthetic.SyntheticReport,
    conn: psycopg.Connection,
    table: str,
    column: str,
    km2: str,
) -> None:
    expected = _independent_districts(conn, table, column)
    stored = conn.execute(
        f"SELECT name, lad_codes, {'principal_lad_code' if table == 'community_group' else 'NULL'},"
        f" {km2}, ST_Area({column}) / 1e6, ST_IsValid({column}), ST_SRID({column}),"
        f" GeometryType({column}) FROM {table} WHERE is_synthetic"
    ).fetchall()
    assert len(stored) == len(expected) == (GROUPS if table == "community_group" else ORGANISERS)
    for name, lad_codes, principal, area_km2, measured_km2, valid, srid, kind in stored:
        kept, independent_principal, inside = expected[name]
        assert lad_codes == kept, name
        if principal is not None:
            assert principal == independent_principal, name
        assert area_km2 == pytest.approx(measured_km2, rel=1e-9)
        assert valid and srid == 27700 and kind == "MULTIPOLYGON"
        # Clipped to the LSOA layer: nothing at sea or outside the loaded districts.
        assert inside == pytest.approx(1.0, abs=1e-6), name
    # Every generated area is seeded in the loaded LSOAs; the demo has four districts.
    assert {c for _, codes, *_ in stored for c in codes} <= set(DEMO_LADS)


def test_group_sizes_follow_the_plan(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    rules = groups.DEFAULT_RULES
    unions = conn.execute(
        "SELECT g.name, g.area_lsoa_codes, ST_Equals(g.area, u.geom), g.area_km2"
        " FROM community_group g CROSS JOIN LATERAL ("
        "   SELECT ST_Union(l.geom) AS geom FROM lsoa l"
        "   WHERE l.vintage = %s AND l.code = ANY(g.area_lsoa_codes)) u"
        " WHERE g.is_synthetic AND g.area_lsoa_codes IS NOT NULL",
        (coverage.COVERAGE_VINTAGE,),
    ).fetchall()
    drawn = conn.execute(
        "SELECT area_km2 FROM community_group WHERE is_synthetic AND area_lsoa_codes IS NULL"
    ).fetchall()
    assert generated.lsoa_union_groups == len(unions)
    # About half of each (binomial, n = 300: 3 standard deviations is 0.087).
    assert 0.41 < len(unions) / GROUPS < 0.59
    for name, codes, equal, area_km2 in unions:
        assert 1 <= len(codes) <= synthetic.MAX_UNION_LSOAS and codes == sorted(codes), name
        assert equal, name
        assert rules.min_area_km2 <= area_km2 <= rules.max_area_km2
    # A 32-sided circle of at most 1,500 m radius, possibly clipped by the coast or the extract.
    assert all(0 < km2 <= 3.1216 * 1.5**2 for (km2,) in drawn)
    patches = [
        r[0] for r in conn.execute("SELECT patch_area_km2 FROM organiser WHERE is_synthetic")
    ]
    assert all(0 < km2 <= 3.1216 * 10**2 for km2 in patches)


def test_lsoa_unions_are_contiguous(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    rows = conn.execute(
        "SELECT g.name, a.code, b.code FROM community_group g"
        " JOIN lsoa a ON a.vintage = %(v)s AND a.code = ANY(g.area_lsoa_codes)"
        " JOIN lsoa b ON b.vintage = %(v)s AND b.code = ANY(g.area_lsoa_codes)"
        "  AND a.code < b.code AND ST_Intersects(a.geom, b.geom)"
        " WHERE g.is_synthetic",
        {"v": coverage.COVERAGE_VINTAGE},
    ).fetchall()
    edges: dict[str, list[tuple[str, str]]] = {}
    for name, a, b in rows:
        edges.setdefault(name, []).append((a, b))
    for name, codes in conn.execute(
        "SELECT name, area_lsoa_codes FROM community_group"
        " WHERE is_synthetic AND cardinality(area_lsoa_codes) > 1"
    ):
        reached, frontier = {codes[0]}, [codes[0]]
        while frontier:
            here = frontier.pop()
            for a, b in edges.get(name, []):
                for x, y in ((a, b), (b, a)):
                    if x == here and y not in reached:
                        reached.add(y)
                        frontier.append(y)
        assert reached == set(codes), name


def test_activity_makes_about_seventy_percent_active(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    since = coverage.active_since(AS_OF)
    active, inconsistent, in_future, never, served_wrong = one_row(
        conn,
        "SELECT count(*) FILTER (WHERE g.last_activity_on >= %(since)s),"
        " count(*) FILTER (WHERE g.last_activity_on IS DISTINCT FROM a.latest),"
        " count(*) FILTER (WHERE a.latest > %(as_of)s),"
        " count(*) FILTER (WHERE g.last_activity_on IS NULL),"
        " count(*) FILTER (WHERE s.active IS DISTINCT FROM"
        "  coalesce(g.last_activity_on >= %(since)s, false))"
        " FROM community_group g"
        " LEFT JOIN (SELECT group_id, max(held_on) AS latest FROM group_activity"
        "            GROUP BY group_id) a ON a.group_id = g.id"
        " JOIN group_serving s ON s.fid = g.id"
        " WHERE g.is_synthetic",
        {"since": since, "as_of": AS_OF},
    )
    assert active == generated.active_groups
    # Binomial, n = 300, p = 0.7: 3 standard deviations is 0.079.
    assert 0.62 < active / GROUPS < 0.78
    assert inconsistent == 0 and in_future == 0 and served_wrong == 0
    # One lapsed group in ten never recorded anything.
    assert 0 < never < 0.1 * GROUPS
    # Nothing sits within the margin of the window's edge.
    near_edge = conn.execute(
        "SELECT count(*) FROM community_group WHERE is_synthetic"
        " AND last_activity_on BETWEEN %s::date - 13 AND %s::date + 13",
        (since, since),
    ).fetchone()
    assert near_edge == (0,)


def test_groups_started_by_organisers_lie_in_their_patch(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    started, inside, all_synthetic = one_row(
        conn,
        "SELECT count(*), count(*) FILTER (WHERE ST_Intersects(g.area, o.patch)),"
        " bool_and(o.is_synthetic)"
        " FROM community_group g JOIN organiser o ON o.id = g.started_by_organiser_id"
        " WHERE g.is_synthetic",
    )
    assert started == generated.groups_started_by_organisers
    # Three in ten of those inside some patch (binomial, n <= 300: mean + 3 sd < 0.38).
    assert 0 < started < 0.38 * GROUPS and inside == started and all_synthetic


def test_coverage_is_recomputed_with_the_synthetic_groups(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    since = coverage.active_since(AS_OF)
    # An LSOA wholly inside an active group's area (given as LSOAs) is fully covered.
    lsoas, least, as_of = one_row(
        conn,
        "SELECT count(*), min(c.covered_share), max(c.as_of) FROM community_group g"
        " JOIN lsoa_coverage c ON c.code = ANY(g.area_lsoa_codes)"
        " WHERE g.is_synthetic AND g.last_activity_on >= %s",
        (since,),
    )
    assert lsoas > 0
    assert least == pytest.approx(1.0, abs=1e-9)
    assert as_of == AS_OF.isoformat()


def test_same_seed_same_data_other_seed_other_data(
    generated: synthetic.SyntheticReport, settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    first = synthetic_rows(conn)
    again = generate(settings, spec())
    assert (again.removed_groups, again.removed_organisers) == (GROUPS, ORGANISERS)
    assert synthetic_rows(conn) == first
    other = generate(settings, spec(seed=8))
    assert other.groups == GROUPS
    changed = synthetic_rows(conn)
    assert changed["groups"] != first["groups"]
    # A few single-LSOA groups may coincide; circles never do.
    shared = {r[4] for r in changed["groups"]} & {r[4] for r in first["groups"]}
    assert len(shared) < 0.1 * GROUPS
    generate(settings, spec())  # back to seed 7 for the other tests
    assert synthetic_rows(conn) == first


@pytest.mark.anyio
async def test_plan_is_deterministic_and_weighted_by_adults(aconn: psycopg.AsyncConnection) -> None:
    lsoas = await synthetic.read_lsoas(aconn)
    plan = synthetic.make_plan(lsoas, spec(groups=2000, organisers=200))
    assert synthetic.make_plan(lsoas, spec(groups=2000, organisers=200)) == plan
    assert synthetic.make_plan(lsoas, spec(groups=2000, organisers=200, seed=8)) != plan
    # Areas are seeded in proportion to adults: the districts' shares of circle-group seeds
    # follow their shares of adults (each within 4 percentage points; n is about 1,000).
    adults: dict[str, float] = {}
    for lad, n in zip(lsoas.lad_codes, lsoas.adults, strict=True):
        adults[str(lad)] = adults.get(str(lad), 0.0) + float(n)
    total = sum(adults.values())
    placed: dict[str, int] = {}
    circles = [g for g in plan.groups if g.lsoa_codes is None]
    for g in circles:
        inside = np.flatnonzero(shapely.contains_xy(lsoas.geoms, g.x, g.y))
        assert len(inside) == 1
        lad = str(lsoas.lad_codes[inside[0]])
        placed[lad] = placed.get(lad, 0) + 1
    for lad, n in adults.items():
        assert placed.get(lad, 0) / len(circles) == pytest.approx(n / total, abs=0.04), lad
    # Circles are sized by adult density: within bounds, smaller where people live closer.
    density = lsoas.adults / lsoas.area_km2
    for circles_of, bounds in (
        (circles, synthetic.GROUP_RADIUS_M),
        (list(plan.organisers), synthetic.ORGANISER_RADIUS_M),
    ):
        radii = np.array([c.radius_m for c in circles_of])
        assert bounds[0] <= radii.min() and radii.max() <= bounds[1]
        at = [
            int(np.flatnonzero(shapely.contains_xy(lsoas.geoms, c.x, c.y))[0]) for c in circles_of
        ]
        assert np.corrcoef(np.log(radii), np.log(density[at]))[0, 1] < -0.5


@pytest.mark.anyio
async def test_one_district(aconn: psycopg.AsyncConnection) -> None:
    lsoas = await synthetic.read_lsoas(aconn, ["E06000009"])
    assert set(lsoas.lad_codes) == {"E06000009"}
    plan = synthetic.make_plan(lsoas, spec(groups=50, organisers=5, lad_codes=("E06000009",)))
    codes = {c for g in plan.groups if g.lsoa_codes for c in g.lsoa_codes}
    assert codes <= set(lsoas.codes)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"groups": -1}, "cannot be negative"),
        ({"organisers": -5}, "cannot be negative"),
        ({"seed": -1}, "seed"),
        ({"active_share": 1.5}, "active_share"),
        ({"lad_codes": ("Trafford",)}, "not English district GSS codes"),
        ({"lad_codes": ("W06000015",)}, "not English district GSS codes"),
        ({"lad_codes": ("E06000001",)}, "no IoD2025 LSOAs are loaded in E06000001"),
        ({"active_months": 0}, "at least 1 month"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(
    aconn: psycopg.AsyncConnection, overrides: dict[str, Any], message: str
) -> None:
    before = await (await aconn.execute("SELECT count(*) FROM community_group")).fetchone()
    with pytest.raises(InvalidInput, match=message):
        await synthetic.generate(aconn, spec(**overrides))
    after = await (await aconn.execute("SELECT count(*) FROM community_group")).fetchone()
    assert before == after


def test_registered_rows_are_never_touched_and_a_failure_writes_nothing(
    generated: synthetic.SyntheticReport, settings: DatabaseSettings, conn: psycopg.Connection
) -> None:
    # A registered group and organiser, written the way the registry stores them.
    organiser_id = conn.execute(
        "INSERT INTO organiser (reference, name, training_centre, trained_on, patch,"
        " patch_area_km2, lad_codes, created_by)"
        " SELECT 'CO-TEST-' || md5(random()::text), 'Registered organiser', 'Test centre',"
        " '2026-01-01', ST_Multi(ST_Buffer(ST_PointOnSurface(geom), 2000)), 12.5,"
        " ARRAY[lad_code], 'tests' FROM lsoa WHERE vintage = 2021 AND lad_code = 'E08000009'"
        " ORDER BY code LIMIT 1 RETURNING id"
    ).fetchone()[0]
    group_id = conn.execute(
        "INSERT INTO community_group (reference, name, kind, leader_name, leader_email,"
        " code_of_conduct_version, code_of_conduct_accepted_on, area, area_km2, lad_codes,"
        " principal_lad_code, started_by_organiser_id, last_activity_on, created_by)"
        " SELECT 'NG-TEST-' || md5(random()::text), 'Registered group', 'charity', 'A Leader',"
        " 'leader@example.org', %s, '2026-02-01', geom, ST_Area(geom) / 1e6, ARRAY[lad_code],"
        " lad_code, %s, '2026-10-01', 'tests' FROM lsoa"
        " WHERE vintage = 2021 AND lad_code = 'E08000009' ORDER BY code LIMIT 1 RETURNING id",
        (groups.CODE_OF_CONDUCT_VERSION, organiser_id),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO group_activity (group_id, kind, held_on, title, recorded_by)"
        " VALUES (%s, 'meeting', '2026-10-01', 'AGM', 'tests')",
        (group_id,),
    )
    try:
        before = registered_fingerprint(conn)
        generate(settings, spec(seed=9, groups=40, organisers=10))
        assert registered_fingerprint(conn) == before

        # A registered group started by a synthetic organiser blocks replacing them: the
        # generation fails as a whole and the synthetic rows stay as they were.
        synthetic_organiser = conn.execute(
            "SELECT id FROM organiser WHERE is_synthetic ORDER BY id LIMIT 1"
        ).fetchone()[0]
        conn.execute(
            "UPDATE community_group SET started_by_organiser_id = %s WHERE id = %s",
            (synthetic_organiser, group_id),
        )
        kept = synthetic_rows(conn)
        before = registered_fingerprint(conn)
        with pytest.raises(Conflict, match="Registered group|NG-TEST-"):
            generate(settings, spec())
        assert synthetic_rows(conn) == kept
        assert registered_fingerprint(conn) == before
    finally:
        conn.execute("DELETE FROM community_group WHERE id = %s", (group_id,))
        conn.execute("DELETE FROM group_serving WHERE fid = %s", (group_id,))
        conn.execute("DELETE FROM organiser WHERE id = %s", (organiser_id,))
        generate(settings, spec())  # back to seed 7 for the other tests


def test_generation_is_audited(
    generated: synthetic.SyntheticReport, conn: psycopg.Connection
) -> None:
    actor, after = one_row(
        conn,
        "SELECT actor, after FROM audit_log WHERE action = 'synthetic.generate'"
        " ORDER BY id DESC LIMIT 1",
    )
    assert actor.startswith("synthetic generator (seed ")
    assert after["groups"] == GROUPS and after["organisers"] == ORGANISERS


def test_command_line(generated: synthetic.SyntheticReport, settings: DatabaseSettings) -> None:
    done = run_python(
        *("-m", "data.synthetic", "--groups", "25", "--organisers", "4", "--seed", "3"),
        *("--lad", "E06000009", "--as-of", "2026-11-25"),
        dsn=settings.dsn,
    )
    assert done.returncode == 0, done.stderr
    assert "25 groups" in done.stdout and "4 organisers" in done.stdout
    with psycopg.connect(settings.dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE principal_lad_code = 'E06000009')"
            " FROM community_group WHERE is_synthetic"
        ).fetchone()
        assert row is not None and row[0] == 25 and row[1] >= 20
    bad = run_python(
        "-m", "data.synthetic", "--groups", "5", "--lad", "E06000001", dsn=settings.dsn
    )
    assert bad.returncode == 1
    assert "no IoD2025 LSOAs are loaded in E06000001" in bad.stderr
    generate(settings, spec())  # back to seed 7 for the other tests
