"""The neighbourhood group registry in the domain layer, on the real demo geography.

Areas are measured against values computed here, independently of PostGIS, from the LSOA 2021
boundary file of the extract (shapely and pyproj): sizes, the districts an area touches and the
one holding most of it. Bad areas, a missing code of conduct and floods of ratings or messages
are refused with reasons and write nothing. "Active" is checked at the 12-month boundary,
Feb 29 included. The public and private shapes, the map layer and finding a group are checked
against what the test itself computes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import psycopg
import pytest
import shapely
import shapely.geometry
import shapely.ops
from pyproj import Transformer

from config.settings import DatabaseSettings
from data import DEMO_DIR
from data.coverage_base import rebuild_after_load
from geo import coverage, groups
from geo.access import PUBLIC, Principal
from geo.coverage import active_since
from geo.errors import (
    AreaOutOfRange,
    AreaOutsideEngland,
    CodeOfConductNotAccepted,
    DateInFuture,
    Forbidden,
    GroupNotFound,
    InvalidArea,
    InvalidInput,
    PointOutsideCoverage,
    RatingNotFound,
    StaleVersion,
    TooManyRequests,
    Unauthenticated,
)
from geo.groups import GroupChanges, GroupInput, GroupPrivate, GroupPublic, GroupRules
from tests.utils import factories, sources
from tests.utils.databases import GROUP_REGISTER_TABLES, table_digest

pytestmark = pytest.mark.anyio

TRAFFORD, MANCHESTER, BLACKPOOL, WOKINGHAM = "E08000009", "E08000003", "E06000009", "E06000041"
TODAY = date(2026, 11, 25)
TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)
TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
PRIVATE_FIELDS = ("leader_email", "leader_phone", "leader_address")
# Tables a group write could touch: "nothing written" means none of them changed.
GROUP_TABLES = (
    *GROUP_REGISTER_TABLES,
    "organiser_serving",
    "group_lsoa",
    "lsoa_coverage",
    "audit_log",
    "data_version",
)


# ---------------------------------------------------------------------------------------------
# The geography, read from the source boundary file (not from the database)


@dataclass(frozen=True)
class Geography:
    """LSOA 2021 polygons in British National Grid, with their districts, from the files."""

    lsoas: dict[str, shapely.Geometry]
    lad_of: dict[str, str]

    def lad(self, code: str) -> shapely.Geometry:
        """The union of a district's LSOAs."""
        return _lad_union(self, code)

    def lad_shares(self, area: shapely.Geometry) -> dict[str, float]:
        """Square metres of ``area`` in each district (cut by LSOAs, as the registry does)."""
        shares: dict[str, float] = {}
        for code, polygon in self.lsoas.items():
            if polygon.intersects(area):
                piece = polygon.intersection(area).area
                shares[self.lad_of[code]] = shares.get(self.lad_of[code], 0.0) + piece
        return shares


_UNIONS: dict[str, shapely.Geometry] = {}


def _lad_union(geography: Geography, code: str) -> shapely.Geometry:
    if code not in _UNIONS:
        _UNIONS[code] = shapely.union_all(
            [g for c, g in geography.lsoas.items() if geography.lad_of[c] == code]
        )
    return _UNIONS[code]


@cache
def geography() -> Geography:
    """The extract's LSOA 2021 boundaries (GeoJSON, EPSG:4326) projected with pyproj."""
    with gzip.open(DEMO_DIR / sources.LSOA21_BOUNDARIES, "rt", encoding="utf-8") as handle:
        collection = json.load(handle)
    lookup = sources.csv(sources.LOOKUP_2021).set_index("lsoa21_code")["ltla24_code"]
    lsoas = {}
    for feature in collection["features"]:
        code = feature["properties"]["lsoa21_code"]
        shape = shapely.make_valid(shapely.geometry.shape(feature["geometry"]))
        lsoas[code] = shapely.transform(shape, TO_BNG.transform, interleaved=False)
    return Geography(lsoas=lsoas, lad_of={c: str(lookup[c]) for c in lsoas})


def to_geojson(shape_bng: shapely.Geometry) -> dict[str, Any]:
    """A British National Grid shape as GeoJSON in lon/lat."""
    lonlat = shapely.transform(shape_bng, TO_LONLAT.transform, interleaved=False)
    return json.loads(shapely.to_geojson(lonlat))


def square_bng(x: float, y: float, side: float) -> shapely.Geometry:
    """A square of ``side`` metres centred on (x, y), in British National Grid."""
    half = side / 2
    return shapely.box(x - half, y - half, x + half, y + half)


def square(x: float, y: float, side: float) -> dict[str, Any]:
    """The same square as a GeoJSON polygon in lon/lat, each edge densified (40 segments or
    10 m ones, whichever are longer) so that it stays straight in British National Grid."""
    return to_geojson(shapely.segmentize(square_bng(x, y, side), max(10.0, side / 40)))


def as_drawn(geometry: dict[str, Any]) -> shapely.Geometry:
    """A GeoJSON lon/lat geometry projected as the registry does (the expected area)."""
    return shapely.transform(shapely.geometry.shape(geometry), TO_BNG.transform, interleaved=False)


def inside(lad: str, margin: float = 600.0, nth: int = 0) -> tuple[float, float]:
    """A point of a district at least ``margin`` metres from its edge."""
    core = geography().lad(lad).buffer(-margin)
    parts = sorted(getattr(core, "geoms", [core]), key=lambda p: -p.area)
    point = parts[0].representative_point()
    return point.x + nth * 10.0, point.y


def on_border(a: str, b: str) -> tuple[float, float]:
    """A point on the boundary two districts share (the middle of the longest stretch)."""
    shared = geography().lad(a).boundary.intersection(geography().lad(b).buffer(1.0))
    lines = sorted(getattr(shared, "geoms", [shared]), key=lambda g: -g.length)
    point = lines[0].interpolate(0.5, normalized=True)
    return point.x, point.y


def marker(tag: str) -> str:
    """A unique private value to look for."""
    return f"PLTSECRET-{tag}-{uuid.uuid4().hex[:10]}"


def group_body(x: float, y: float, side: float = 300.0, **overrides: Any) -> dict[str, Any]:
    """A valid new group (drawn square area, private fields seeded with markers)."""
    body: dict[str, Any] = {
        "name": f"Test neighbours {uuid.uuid4().hex[:8]}",
        "kind": "residents_association",
        "description": "Residents looking after the streets and the park.",
        "meeting_place": "The community centre",
        "how_to_join": "Use the form on this page.",
        "leader": {
            "name": "Alex Leader",
            "email": f"{marker('email')}@example.invalid",
            "phone": "+44 161 " + str(uuid.uuid4().int % 10**7).zfill(7),
            "address": f"{marker('address')}, 1 Test Street",
        },
        "code_of_conduct": {
            "version": groups.CODE_OF_CONDUCT_VERSION,
            "accepted_on": TODAY.isoformat(),
        },
        "geometry": square(x, y, side),
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------------------------------------
# Fixtures


# Real API keys (group managers' keys are foreign keys of group_manager).
Keys = factories.Callers


@pytest.fixture(scope="module")
def keys(settings: DatabaseSettings) -> Iterator[Keys]:
    yield from factories.module_callers(settings.dsn, TRAFFORD, BLACKPOOL)


async def create(
    aconn: psycopg.AsyncConnection,
    principal: Principal,
    body: dict[str, Any],
    on: date = TODAY,
    rules: GroupRules = groups.DEFAULT_RULES,
) -> GroupPrivate:
    return await groups.create_group(aconn, GroupInput.model_validate(body), principal, on, rules)


async def record(
    aconn: psycopg.AsyncConnection,
    reference: str,
    principal: Principal,
    held_on: date,
    title: str,
    kind: str = "meeting",
    rules: GroupRules = groups.DEFAULT_RULES,
    **details: Any,
) -> None:
    """Record an activity of the group (on ``TODAY``), as ``principal``."""
    activity = groups.ActivityInput(kind=kind, held_on=held_on, title=title, **details)
    await groups.record_activity(aconn, reference, activity, principal, TODAY, rules)


def table_state(conn: psycopg.Connection, tables: tuple[str, ...] = GROUP_TABLES) -> dict[str, Any]:
    """Row count and content digest of each table."""
    return {table: table_digest(conn, table) for table in tables}


# ---------------------------------------------------------------------------------------------
# Areas


async def test_a_drawn_area_is_measured_in_british_national_grid(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    body = group_body(x, y, side=400)
    created = await create(aconn, keys.manager.principal, body)
    expected = as_drawn(body["geometry"]).area / 1e6
    assert created.area_km2 == pytest.approx(expected, rel=1e-6)
    assert created.area_km2 == pytest.approx(0.16, rel=1e-3)
    assert created.lad_codes == [TRAFFORD] and created.principal_lad_code == TRAFFORD
    assert created.area_lsoa_codes is None
    assert created.reference == f"NG-{created.reference[3:]}" and len(created.reference) >= 9
    assert created.managers == [keys.manager.id]
    assert created.leader_email == body["leader"]["email"]
    assert created.geometry is not None and created.geometry["type"] == "MultiPolygon"
    # The stored area, read back as GeoJSON (6 decimals, about 0.1 m), is the drawn one.
    back = as_drawn(created.geometry)
    assert back.symmetric_difference(as_drawn(body["geometry"])).area < 1e-3 * back.area
    west, south, east, north = created.bbox
    drawn = shapely.geometry.shape(body["geometry"]).bounds
    assert (west, south, east, north) == pytest.approx(drawn, abs=1e-6)


async def test_an_area_across_a_boundary_names_both_districts_and_the_principal(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = on_border(TRAFFORD, MANCHESTER)
    body = group_body(x + 150, y, side=1000)
    created = await create(aconn, keys.manager.principal, body)
    shares = geography().lad_shares(as_drawn(body["geometry"]))
    total = as_drawn(body["geometry"]).area
    expected = sorted(lad for lad, m2 in shares.items() if m2 > 0.01 * total or m2 > 10_000)
    assert len(expected) >= 2, shares
    assert created.lad_codes == expected
    assert created.principal_lad_code == max(shares, key=lambda lad: shares[lad])
    # The officer of either district sees its private fields.
    for lad in expected:
        officer = Principal(role="officer", name="o", key_id=-1, lad_codes=(lad,))
        seen = await groups.get_group(aconn, created.reference, officer, TODAY)
        assert isinstance(seen, GroupPrivate)


async def test_an_area_of_lsoa_codes_is_their_union(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    geo = geography()
    first = min(c for c in geo.lsoas if geo.lad_of[c] == TRAFFORD)
    touching = sorted(
        c
        for c in geo.lsoas
        if c != first and geo.lad_of[c] == TRAFFORD and geo.lsoas[c].touches(geo.lsoas[first])
    )[:2]
    codes = [first, *touching]
    body = group_body(0, 0, geometry=None, lsoa_codes=[c.lower() for c in reversed(codes)])
    created = await create(aconn, keys.manager.principal, body)
    union = shapely.union_all([geo.lsoas[c] for c in codes])
    assert created.area_km2 == pytest.approx(union.area / 1e6, rel=1e-4)
    assert created.area_lsoa_codes == sorted(codes)
    assert created.lad_codes == [TRAFFORD]


def _bow_tie(x: float, y: float) -> dict[str, Any]:
    ring = [(x, y), (x + 300, y + 300), (x + 300, y), (x, y + 300), (x, y)]
    return {
        "type": "Polygon",
        "coordinates": [[list(TO_LONLAT.transform(px, py)) for px, py in ring]],
    }


def _overlapping_parts(x: float, y: float) -> dict[str, Any]:
    a = to_geojson(square_bng(x, y, 300))["coordinates"]
    b = to_geojson(square_bng(x + 100, y, 300))["coordinates"]
    return {"type": "MultiPolygon", "coordinates": [a, b]}


def _hole_outside(x: float, y: float) -> dict[str, Any]:
    shell = to_geojson(square_bng(x, y, 300))["coordinates"][0]
    hole = to_geojson(square_bng(x + 1000, y, 100))["coordinates"][0]
    return {"type": "Polygon", "coordinates": [shell, hole]}


def _circle(x: float, y: float, vertices: int) -> dict[str, Any]:
    ring = [
        (
            x + 200 * math.cos(2 * math.pi * i / vertices),
            y + 200 * math.sin(2 * math.pi * i / vertices),
        )
        for i in range(vertices)
    ]
    return to_geojson(shapely.Polygon(ring))


def _bad_areas() -> dict[str, tuple[dict[str, Any], type[Exception], str]]:
    x, y = inside(TRAFFORD, nth=1)
    bx, by = inside(BLACKPOOL)
    coast_x = geography().lad(BLACKPOOL).bounds[0]  # the westernmost point: the shore
    return {
        "bow-tie": (_bow_tie(x, y), InvalidArea, "Self-intersection"),
        "overlapping parts": (_overlapping_parts(x, y), InvalidArea, "Self-intersection"),
        "hole outside the shell": (_hole_outside(x, y), InvalidArea, "Hole lies outside shell"),
        "too many vertices": (_circle(x, y, 5_001), InvalidArea, "at most 5,000"),
        "a county, not a neighbourhood": (square(x, y, 8_000), AreaOutOfRange, "at most 50.00"),
        "a house, not a neighbourhood": (square(x, y, 20), AreaOutOfRange, "at least 1,000 m²"),
        "Cardiff": (
            square(318_000, 176_000, 500),
            AreaOutsideEngland,
            "4 districts of the IoD2025 geography are loaded",
        ),
        "Edinburgh": (square(325_000, 673_000, 500), AreaOutsideEngland, "beyond England"),
        "half in the sea off Blackpool": (
            square(coast_x, by, 600),
            AreaOutsideEngland,
            "of the area lies outside the loaded English districts",
        ),
        "a point": ({"type": "Point", "coordinates": [-2.3, 53.45]}, InvalidArea, "Polygon"),
        "empty": ({"type": "MultiPolygon", "coordinates": []}, InvalidArea, "empty"),
        "off the earth": (
            {"type": "Polygon", "coordinates": [[[500, 1], [501, 1], [501, 2], [500, 1]]]},
            InvalidArea,
            "longitude, latitude",
        ),
        "ring too short": (
            {"type": "Polygon", "coordinates": [[[bx, by], [bx, by]]]},
            InvalidArea,
            "malformed",
        ),
    }


@pytest.mark.parametrize("case", list(_bad_areas()))
async def test_bad_areas_are_refused_with_reasons_and_nothing_is_written(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys, case: str
) -> None:
    geometry, error, reason = _bad_areas()[case]
    x, y = inside(TRAFFORD)
    body = group_body(x, y, geometry=geometry)
    before = table_state(conn)
    with pytest.raises(error) as raised:
        await create(aconn, keys.manager.principal, body)
    assert reason in raised.value.message, raised.value.message
    assert raised.value.parameter == "geometry"
    assert table_state(conn) == before


@pytest.mark.parametrize(
    ("codes", "reason"),
    [(["E01999999"], "not LSOAs of the IoD2025 geography"), (["E01000001"], "E01000001")],
)
async def test_unknown_lsoa_codes_are_refused(
    aconn: psycopg.AsyncConnection,
    conn: psycopg.Connection,
    keys: Keys,
    codes: list[str],
    reason: str,
) -> None:
    before = table_state(conn)
    with pytest.raises(InvalidArea, match=reason):
        await create(
            aconn, keys.manager.principal, group_body(0, 0, geometry=None, lsoa_codes=codes)
        )
    assert table_state(conn) == before


def test_an_area_is_given_exactly_one_way() -> None:
    x, y = inside(TRAFFORD)
    with pytest.raises(ValueError, match="exactly one of geometry or lsoa_codes"):
        GroupInput.model_validate(group_body(x, y, lsoa_codes=["E01005061"]))
    with pytest.raises(ValueError, match="exactly one of geometry or lsoa_codes"):
        GroupInput.model_validate(group_body(x, y, geometry=None))
    with pytest.raises(ValueError, match="not LSOA codes"):
        GroupInput.model_validate(group_body(x, y, geometry=None, lsoa_codes=["W01000001"]))


# ---------------------------------------------------------------------------------------------
# The code of conduct


@pytest.mark.parametrize(
    ("acceptance", "error", "reason"),
    [
        (None, CodeOfConductNotAccepted, "must accept the neighbourhood code of conduct"),
        (
            {"version": "2019-1", "accepted_on": "2026-11-01"},
            CodeOfConductNotAccepted,
            "is not the current one",
        ),
        (
            {"version": groups.CODE_OF_CONDUCT_VERSION, "accepted_on": "2026-11-26"},
            DateInFuture,
            "in the future",
        ),
        (
            {"version": groups.CODE_OF_CONDUCT_VERSION, "accepted_on": "2025-12-31"},
            CodeOfConductNotAccepted,
            "was issued on 2026-01-01",
        ),
    ],
)
async def test_the_current_code_of_conduct_must_be_accepted(
    aconn: psycopg.AsyncConnection,
    conn: psycopg.Connection,
    keys: Keys,
    acceptance: dict[str, str] | None,
    error: type[Exception],
    reason: str,
) -> None:
    x, y = inside(TRAFFORD)
    before = table_state(conn)
    with pytest.raises(error, match=reason):
        await create(aconn, keys.manager.principal, group_body(x, y, code_of_conduct=acceptance))
    assert table_state(conn) == before


# ---------------------------------------------------------------------------------------------
# Who sees and does what


async def test_private_fields_are_shown_only_to_managers_officers_of_the_area_and_admins(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    created = await create(aconn, keys.manager.principal, group_body(x, y))
    seen = {
        who: await groups.get_group(aconn, created.reference, principal, TODAY)
        for who, principal in {
            "public": PUBLIC,
            "manager": keys.manager.principal,
            "other_manager": keys.other_manager.principal,
            "officer": keys.officer.principal,
            "other_officer": keys.other_officer.principal,
            "admin": keys.admin.principal,
        }.items()
    }
    private = {who for who, g in seen.items() if isinstance(g, GroupPrivate)}
    assert private == {"manager", "officer", "admin"}
    for who, shown in seen.items():
        dumped = json.dumps(shown.model_dump(mode="json"))
        leaked = created.leader_email in dumped or str(created.leader_address) in dumped
        assert leaked == (who in private), who
    # The public shape cannot hold a private field at all.
    assert not set(PRIVATE_FIELDS) & set(GroupPublic.model_fields)
    with pytest.raises(ValueError, match="leader_email"):
        GroupPublic.model_validate(seen["admin"].model_dump())


async def test_officers_register_only_where_they_act_and_nothing_is_written_when_refused(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(MANCHESTER)
    before = table_state(conn)
    with pytest.raises(Forbidden, match="E08000009"):
        await create(aconn, keys.officer.principal, group_body(x, y))
    with pytest.raises(Unauthenticated):
        await create(aconn, PUBLIC, group_body(x, y))
    assert table_state(conn) == before
    tx, ty = inside(TRAFFORD)
    made = await create(aconn, keys.officer.principal, group_body(tx, ty))
    assert made.managers == []  # an officer registers for a group; admins add its managers
    managers = await groups.add_manager(
        aconn, made.reference, keys.other_manager.id, keys.admin.principal, TODAY
    )
    assert managers.managers == [keys.other_manager.id]
    with pytest.raises(InvalidInput, match="only group manager keys"):
        await groups.add_manager(
            aconn, made.reference, keys.officer.id, keys.admin.principal, TODAY
        )
    with pytest.raises(Forbidden):
        await groups.add_manager(
            aconn, made.reference, keys.manager.id, keys.officer.principal, TODAY
        )


async def test_unlisted_groups_are_hidden_from_the_public_but_not_from_their_officers(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y, listed=False))
    with pytest.raises(GroupNotFound):
        await groups.get_group(aconn, made.reference, PUBLIC, TODAY)
    with pytest.raises(GroupNotFound):
        await groups.get_group(aconn, made.reference, keys.other_manager.principal, TODAY)
    assert isinstance(
        await groups.get_group(aconn, made.reference, keys.officer.principal, TODAY), GroupPrivate
    )
    page = await groups.list_groups(aconn, TODAY, q=made.name)
    assert page.number_matched == 0
    cur = await aconn.execute(
        "SELECT count(*) FROM group_serving WHERE reference = %s", (made.reference,)
    )
    assert (await cur.fetchone()) == (0,)


async def test_edits_check_the_version_the_editor_and_the_new_area(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y))
    new_email = f"{marker('email2')}@example.invalid"
    leader = {"name": "Sam New", "email": new_email}
    edited = await groups.update_group(
        aconn,
        made.reference,
        GroupChanges(description="Now also a litter pick.", leader=leader, meeting_place=None),
        keys.manager.principal,
        TODAY,
        expected_version=made.version,
    )
    assert edited.version == made.version + 1
    assert edited.description == "Now also a litter pick." and edited.meeting_place is None
    assert edited.leader_name == "Sam New" and edited.leader_email == new_email
    assert edited.leader_phone is None and edited.name == made.name
    before = table_state(conn)
    mx, my = inside(MANCHESTER)
    # Each edit refused, by whom, with which version expected, and why; none writes anything.
    refused: list[tuple[GroupChanges, factories.Key, int | None, type[Exception], str | None]] = [
        (GroupChanges(name="Late"), keys.manager, made.version, StaleVersion, None),
        (GroupChanges(name="Not mine"), keys.other_manager, None, Forbidden, None),
        (GroupChanges(name="Not here"), keys.other_officer, None, Forbidden, None),
        # The Trafford officer moving it away.
        (GroupChanges(geometry=square(mx, my, 300)), keys.officer, None, Forbidden, "new area"),
        (GroupChanges(geometry=square(x, y, 9000)), keys.admin, None, AreaOutOfRange, None),
    ]
    for changes, key, version, error, message in refused:
        with pytest.raises(error, match=message):
            await groups.update_group(
                aconn, made.reference, changes, key.principal, TODAY, expected_version=version
            )
    assert table_state(conn) == before
    moved = await groups.update_group(
        aconn,
        made.reference,
        GroupChanges(geometry=square(mx, my, 500)),
        keys.manager.principal,
        TODAY,
    )
    assert moved.lad_codes == [MANCHESTER] and moved.area_km2 == pytest.approx(0.25, rel=1e-3)
    with pytest.raises(ValueError, match="name cannot be cleared"):
        GroupChanges.model_validate({"name": None})


async def test_parallel_edits_of_one_version_one_wins_the_other_is_stale(
    settings: DatabaseSettings, aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    made = await create(aconn, keys.manager.principal, group_body(*inside(TRAFFORD)))

    async def edit(name: str) -> str:
        async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as own:
            try:
                await groups.update_group(
                    own,
                    made.reference,
                    GroupChanges(name=name),
                    keys.manager.principal,
                    TODAY,
                    expected_version=made.version,
                )
            except StaleVersion:
                return "stale"
            return name

    outcomes = await asyncio.gather(*(edit(f"Edit {i}") for i in range(4)))
    winners = [o for o in outcomes if o != "stale"]
    assert len(winners) == 1 and outcomes.count("stale") == 3
    seen = await groups.get_group(aconn, made.reference, keys.manager.principal, TODAY)
    assert isinstance(seen, GroupPrivate) and (seen.name, seen.version) == (winners[0], 2)


async def test_the_audit_log_records_writes_but_never_private_values(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y))
    await groups.update_group(
        aconn,
        made.reference,
        GroupChanges(leader={"name": "Kim", "email": f"{marker('e')}@example.invalid"}),
        keys.manager.principal,
        TODAY,
    )
    rows = conn.execute(
        "SELECT action, actor, before, after FROM audit_log WHERE entity = 'community_group'"
        " AND entity_id = %s ORDER BY id",
        (made.reference,),
    ).fetchall()
    assert [r[0] for r in rows] == ["group.create", "group.edit"]
    assert rows[0][1] == keys.manager.principal.actor and rows[0][2] is None
    assert rows[1][3]["private_changed"] == ["leader_email", "leader_phone", "leader_address"]
    assert rows[1][3]["leader_name"] == "Kim"
    text = json.dumps([r[2:] for r in rows])
    assert "PLTSECRET" not in text and made.leader_email not in text


# ---------------------------------------------------------------------------------------------
# Activity and "active"


@pytest.mark.parametrize(
    ("held_on", "asked_on", "active"),
    [
        # A year of activity: active on the anniversary, not the day after.
        (date(2025, 11, 25), date(2026, 11, 25), True),
        (date(2025, 11, 25), date(2026, 11, 26), False),
        (date(2025, 11, 25), date(2025, 11, 25), True),
        # Feb 29 activity: 2025 has no Feb 29, so the last active day is Feb 28.
        (date(2024, 2, 29), date(2025, 2, 28), True),
        (date(2024, 2, 29), date(2025, 3, 1), False),
        # Asked on Feb 29: a year back is Feb 28 (the month's last day).
        (date(2023, 2, 28), date(2024, 2, 29), True),
        (date(2023, 2, 28), date(2024, 3, 1), False),
        (date(2023, 3, 1), date(2024, 2, 29), True),
    ],
)
async def test_a_group_is_active_for_twelve_calendar_months_after_its_latest_activity(
    aconn: psycopg.AsyncConnection, keys: Keys, held_on: date, asked_on: date, active: bool
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y))
    assert made.active is False and made.last_activity_on is None
    await record(aconn, made.reference, keys.manager.principal, held_on, "Annual meeting")
    seen = await groups.get_group(aconn, made.reference, PUBLIC, asked_on)
    assert seen.last_activity_on == held_on
    assert seen.active is active
    page = await groups.list_groups(aconn, asked_on, q=made.name, active=active)
    assert [g.reference for g in page.groups] == [made.reference]
    await groups.rewrite_group_serving(aconn, [_id(made)], as_of=asked_on, active_months=12)
    cur = await aconn.execute(
        "SELECT active FROM group_serving WHERE reference = %s", (made.reference,)
    )
    assert (await cur.fetchone()) == (active,)


def _id(group: GroupPrivate) -> int:
    return int(group.reference[3:])


async def test_the_activity_window_is_configurable(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    six = GroupRules(active_months=6)
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y), rules=six)
    await record(
        aconn,
        made.reference,
        keys.manager.principal,
        date(2026, 5, 25),
        "Planting",
        kind="project",
        rules=six,
    )
    assert (await groups.get_group(aconn, made.reference, PUBLIC, TODAY, six)).active is True
    later = date(2026, 11, 26)
    assert (await groups.get_group(aconn, made.reference, PUBLIC, later, six)).active is False
    assert (await groups.get_group(aconn, made.reference, PUBLIC, later)).active is True
    assert active_since(later, 6) == date(2026, 5, 26)


async def test_activity_dates_are_checked_and_the_latest_one_counts(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y))
    before = table_state(conn)
    for held_on, error in (
        (TODAY + timedelta(days=1), DateInFuture),
        (date(2021, 11, 1), InvalidInput),
    ):
        with pytest.raises(error):
            await record(
                aconn, made.reference, keys.manager.principal, held_on, "Fair", kind="event"
            )
    with pytest.raises(Forbidden):
        await record(
            aconn, made.reference, keys.other_manager.principal, TODAY, "Fair", kind="event"
        )
    assert table_state(conn) == before
    for held_on in (date(2026, 9, 1), date(2026, 3, 1)):
        await record(
            aconn,
            made.reference,
            keys.officer.principal,
            held_on,
            f"Fair {held_on}",
            kind="event",
            attendance=40,
        )
    seen = await groups.get_group(aconn, made.reference, PUBLIC, TODAY)
    assert seen.last_activity_on == date(2026, 9, 1) and seen.active
    public = await groups.list_activities(aconn, made.reference, PUBLIC, TODAY)
    assert [a.model_dump() for a in public] == [
        {"kind": "event", "held_on": date(2026, 9, 1), "title": "Fair 2026-09-01"},
        {"kind": "event", "held_on": date(2026, 3, 1), "title": "Fair 2026-03-01"},
    ]
    private = await groups.list_activities(aconn, made.reference, keys.manager.principal, TODAY)
    assert all(a.attendance == 40 for a in private)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Ratings and messages


def fingerprint() -> str:
    return groups.client_fingerprint(f"203.0.113.{uuid.uuid4().int % 250}:{uuid.uuid4()}", b"k")


async def test_ratings_are_moderated_before_they_count(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    x, y = inside(TRAFFORD)
    made = await create(aconn, keys.manager.principal, group_body(x, y))
    stars = [5, 2, 4]
    ratings = [
        await groups.submit_rating(
            aconn,
            made.reference,
            groups.RatingInput(stars=s, comment=f"{s} stars"),
            fingerprint(),
            TODAY,
        )
        for s in stars
    ]
    assert {r.status for r in ratings} == {"pending"}
    assert await groups.list_ratings(aconn, made.reference, PUBLIC, TODAY) == []
    for rating, decision in zip(ratings, ("publish", "reject", "publish"), strict=True):
        with pytest.raises(Forbidden):  # the group's own managers do not moderate it
            await groups.moderate_rating(
                aconn, made.reference, rating.id, decision, keys.manager.principal, TODAY
            )
        with pytest.raises(Forbidden):
            await groups.moderate_rating(
                aconn, made.reference, rating.id, decision, keys.other_officer.principal, TODAY
            )
        done = await groups.moderate_rating(
            aconn, made.reference, rating.id, decision, keys.officer.principal, TODAY
        )
        assert done.moderated_by == keys.officer.principal.actor
    with pytest.raises(RatingNotFound):
        await groups.moderate_rating(
            aconn, made.reference, 2**62, "publish", keys.officer.principal, TODAY
        )
    published = await groups.list_ratings(aconn, made.reference, PUBLIC, TODAY)
    assert sorted(r.stars for r in published) == [4, 5]
    seen = await groups.get_group(aconn, made.reference, PUBLIC, TODAY)
    assert seen.rating_count == 2 and seen.rating_average == pytest.approx((5 + 4) / 2)
    row = conn.execute(
        "SELECT rating_average, rating_count FROM group_serving WHERE reference = %s",
        (made.reference,),
    ).fetchone()
    assert row == (pytest.approx(4.5), 2)
    everything = await groups.list_ratings(aconn, made.reference, keys.officer.principal, TODAY)
    assert {r.status for r in everything} == {"published", "rejected"}
    assert all(len(r.rater_fingerprint) == 64 for r in everything)  # type: ignore[union-attr]


async def test_one_rating_per_group_per_sender_per_thirty_days_and_a_daily_cap(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    rules = GroupRules(ratings_per_day=3, rating_repeat_days=30)
    made = [
        await create(aconn, keys.manager.principal, group_body(*inside(TRAFFORD, nth=i)))
        for i in range(4)
    ]
    sender = fingerprint()
    first = await groups.submit_rating(
        aconn, made[0].reference, groups.RatingInput(stars=4), sender, TODAY, rules
    )
    before = table_state(conn)
    with pytest.raises(TooManyRequests, match="in the last 30 days") as again:
        await groups.submit_rating(
            aconn, made[0].reference, groups.RatingInput(stars=1), sender, TODAY, rules
        )
    assert 30 * 86400 - 120 <= again.value.retry_after <= 30 * 86400
    assert table_state(conn) == before
    for group in made[1:3]:
        await groups.submit_rating(
            aconn, group.reference, groups.RatingInput(stars=3), sender, TODAY, rules
        )
    with pytest.raises(TooManyRequests, match="at most 3 ratings per sender in a day") as capped:
        await groups.submit_rating(
            aconn, made[3].reference, groups.RatingInput(stars=3), sender, TODAY, rules
        )
    assert 86400 - 120 <= capped.value.retry_after <= 86400
    # Another sender is not affected; and a month later the first sender may rate again.
    await groups.submit_rating(
        aconn, made[3].reference, groups.RatingInput(stars=2), fingerprint(), TODAY, rules
    )
    conn.execute(
        "UPDATE group_rating SET created_at = created_at - interval '31 days'"
        " WHERE rater_fingerprint = %s",
        (sender,),
    )
    again_ok = await groups.submit_rating(
        aconn, made[0].reference, groups.RatingInput(stars=5), sender, TODAY, rules
    )
    assert again_ok.id != first.id


async def test_parallel_ratings_of_one_sender_cannot_slip_past_the_limit(
    settings: DatabaseSettings, aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    made = await create(aconn, keys.manager.principal, group_body(*inside(TRAFFORD)))
    sender = fingerprint()

    async def rate() -> str:
        async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as own:
            try:
                await groups.submit_rating(
                    own, made.reference, groups.RatingInput(stars=5), sender, TODAY
                )
            except TooManyRequests:
                return "refused"
            return "rated"

    outcomes = await asyncio.gather(*(rate() for _ in range(6)))
    assert sorted(outcomes) == ["rated"] + ["refused"] * 5


async def test_messages_are_relayed_privately_and_limited(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    rules = GroupRules(messages_per_hour=2, messages_per_day=3)
    made = await create(aconn, keys.manager.principal, group_body(*inside(TRAFFORD)))
    sender = fingerprint()
    body = groups.MessageInput(
        name="Jo Neighbour", email=f"{marker('sender')}@example.invalid", message="May I join?"
    )
    receipt = await groups.send_message(aconn, made.reference, body, sender, TODAY, rules)
    assert receipt.group == made.reference
    await groups.send_message(aconn, made.reference, body, sender, TODAY, rules)
    with pytest.raises(TooManyRequests, match="2 messages per sender in an hour") as limited:
        await groups.send_message(aconn, made.reference, body, sender, TODAY, rules)
    assert 3600 - 60 <= limited.value.retry_after <= 3600
    conn.execute(
        "UPDATE group_message SET created_at = created_at - interval '2 hours'"
        " WHERE sender_fingerprint = %s",
        (sender,),
    )
    await groups.send_message(aconn, made.reference, body, sender, TODAY, rules)
    with pytest.raises(TooManyRequests, match="3 messages per sender in a day"):
        await groups.send_message(aconn, made.reference, body, sender, TODAY, rules)
    for who in (keys.manager, keys.officer, keys.admin):
        read = await groups.list_messages(aconn, made.reference, who.principal, TODAY)
        assert [m.sender_email for m in read] == [body.email] * 3
    for who, error in (
        (PUBLIC, Unauthenticated),
        (keys.other_manager.principal, Forbidden),
        (keys.other_officer.principal, Forbidden),
    ):
        with pytest.raises(error):
            await groups.list_messages(aconn, made.reference, who, TODAY)
    stored = conn.execute(
        "SELECT sender_fingerprint FROM group_message WHERE sender_email = %s", (body.email,)
    ).fetchall()
    assert {s for (s,) in stored} == {sender}  # the keyed hash, never an address


# ---------------------------------------------------------------------------------------------
# Finding a group


async def test_finding_a_group_lists_active_groups_covering_the_point_nearest_first(
    aconn: psycopg.AsyncConnection, keys: Keys
) -> None:
    x, y = inside(MANCHESTER, margin=1500)
    # Three active groups covering (x, y) with centres at different distances, one lapsed,
    # one unlisted and one elsewhere.
    centres = {"far": (x + 300, y), "near": (x + 40, y + 30), "middle": (x - 120, y - 90)}
    made = {}
    for name, (cx, cy) in centres.items():
        made[name] = await create(aconn, keys.manager.principal, group_body(cx, cy, side=900))
    made["lapsed"] = await create(aconn, keys.manager.principal, group_body(x, y, side=700))
    made["unlisted"] = await create(
        aconn, keys.manager.principal, group_body(x, y, side=600, listed=False)
    )
    made["elsewhere"] = await create(
        aconn, keys.manager.principal, group_body(x + 3000, y, side=500)
    )
    for name, group in made.items():
        held = date(2025, 10, 1) if name == "lapsed" else date(2026, 10, 1)
        await record(aconn, group.reference, keys.admin.principal, held, "AGM")
    lon, lat = TO_LONLAT.transform(x, y)
    found = await groups.groups_near(aconn, TODAY, lon=lon, lat=lat, limit=100)
    mine = {g.reference: name for name, g in made.items()}
    order = [mine[n.group.reference] for n in found.groups if n.group.reference in mine]
    here = shapely.Point(x, y)
    expected = sorted(
        ("far", "near", "middle"),
        key=lambda n: here.distance(as_drawn(made[n].geometry or {}).centroid),
    )
    assert order == expected == ["near", "middle", "far"]
    for nearby in found.groups:
        if nearby.group.reference in mine:
            centroid = as_drawn(made[mine[nearby.group.reference]].geometry or {}).centroid
            assert nearby.distance_m == pytest.approx(here.distance(centroid), abs=0.5)
        assert isinstance(nearby.group, GroupPublic) and nearby.group.active
    with pytest.raises(PointOutsideCoverage):
        await groups.groups_near(aconn, TODAY, lon=-3.19, lat=55.95)
    with pytest.raises(InvalidInput):
        await groups.groups_near(aconn, TODAY, lon=lon, lat=lat, postcode="M15 4AB")


async def test_finding_a_group_by_postcode(aconn: psycopg.AsyncConnection, keys: Keys) -> None:
    postcodes = sources.csv(sources.POSTCODES)
    row = postcodes.iloc[len(postcodes) // 2]
    x, y = TO_BNG.transform(float(row["lon"]), float(row["lat"]))
    made = await create(aconn, keys.manager.principal, group_body(x, y, side=600))
    await record(aconn, made.reference, keys.manager.principal, TODAY, "AGM")
    found = await groups.groups_near(
        aconn, TODAY, postcode=row["postcode"].lower().replace(" ", "")
    )
    assert found.postcode == row["postcode"]
    assert made.reference in [n.group.reference for n in found.groups]
    assert (found.lon, found.lat) == pytest.approx((row["lon"], row["lat"]), abs=1e-5)


# ---------------------------------------------------------------------------------------------
# The map layer and coverage


async def test_the_map_layer_has_no_private_column_and_is_rewritten_set_based(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys
) -> None:
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'group_serving'"
        ).fetchall()
    }
    assert not columns & {*PRIVATE_FIELDS, "email", "phone", "address"}
    made = await create(aconn, keys.manager.principal, group_body(*inside(WOKINGHAM)))
    query = (
        "SELECT reference, name, active, area_km2, ST_AsText(geom), ST_Equals(geom_4326,"
        " ST_Transform(geom, 4326)), ST_NPoints(geom_3857_low) <= ST_NPoints(geom_3857)"
        " FROM group_serving WHERE reference = %s"
    )
    one = conn.execute(query, (made.reference,)).fetchone()
    assert one is not None and one[0] == made.reference and one[5] and one[6]
    assert one[3] == pytest.approx(made.area_km2)
    version = conn.execute("SELECT version FROM data_version").fetchone()
    await groups.rewrite_group_serving(aconn, None, as_of=TODAY)
    assert conn.execute(query, (made.reference,)).fetchone() == one
    assert conn.execute("SELECT version FROM data_version").fetchone() != version
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM group_serving),"
        " (SELECT count(*) FROM community_group WHERE listed)"
    ).fetchone()
    assert counts is not None and counts[0] == counts[1]


@pytest.fixture(scope="module")
def coverage_base(settings: DatabaseSettings) -> None:
    """The coverage tables' base rows (one per LSOA), as a data load leaves them."""
    with psycopg.connect(settings.dsn) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM lsoa_coverage").fetchone() or (0,)
        if not rows:
            rebuild_after_load(conn, as_of=TODAY)
        conn.commit()


async def test_a_write_recuts_the_group_s_pieces_for_coverage(
    aconn: psycopg.AsyncConnection, conn: psycopg.Connection, keys: Keys, coverage_base: None
) -> None:
    x, y = on_border(TRAFFORD, MANCHESTER)
    body = group_body(x, y, side=700)
    made = await create(aconn, keys.manager.principal, body)
    area = as_drawn(body["geometry"])
    expected = {c for c, g in geography().lsoas.items() if g.intersection(area).area > 1.0}
    cut = {
        c
        for (c,) in conn.execute(
            "SELECT lsoa_code FROM group_lsoa WHERE group_id = %s AND ST_Area(piece) > 1.0",
            (_id(made),),
        ).fetchall()
    }
    assert cut == expected
    # Recording activity makes the group active: each LSOA it touches counts one more group.
    query = "SELECT code, active_groups FROM lsoa_coverage WHERE code = ANY(%s)"
    before = dict(conn.execute(query, (sorted(expected),)).fetchall())
    await record(aconn, made.reference, keys.manager.principal, TODAY, "First meeting")
    after = dict(conn.execute(query, (sorted(expected),)).fetchall())
    assert after == {code: count + 1 for code, count in before.items()}


async def test_group_writes_beside_national_recomputes_neither_deadlock_nor_fail(
    aconn: psycopg.AsyncConnection, settings: DatabaseSettings, keys: Keys, coverage_base: None
) -> None:
    """Writes that move active groups' areas, running while coverage is recomputed nationally
    over and over, all succeed (before the coverage write lock, most recomputes here ended in
    a deadlock or a duplicate piece), and leave what a national recompute computes."""
    admin = keys.admin.principal
    cur = await aconn.execute(
        # Away from the LSOAs other tests build coverage in (the first of each district).
        "SELECT code FROM lsoa WHERE vintage = 2021 AND lad_code = %s ORDER BY code DESC LIMIT 5",
        (WOKINGHAM,),
    )
    codes = [code for (code,) in await cur.fetchall()]
    # Three groups over overlapping pairs of LSOAs, each moved one LSOA along and back.
    moves: dict[str, tuple[list[str], list[str]]] = {}
    for i in range(3):
        made = await create(
            aconn, admin, group_body(0, 0, geometry=None, lsoa_codes=codes[i : i + 2])
        )
        await record(aconn, made.reference, admin, TODAY, "Meeting")
        moves[made.reference] = (codes[i + 1 : i + 3], codes[i : i + 2])
    recomputed = asyncio.Event()
    writes: dict[str, int] = dict.fromkeys(moves, 0)

    async def recompute() -> None:
        async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as conn:
            for _ in range(5):
                await coverage.refresh_all(conn, as_of=TODAY)
        recomputed.set()

    async def write(reference: str) -> None:
        async with await psycopg.AsyncConnection.connect(settings.dsn, autocommit=True) as conn:
            while not recomputed.is_set() or writes[reference] < 4:
                area = moves[reference][writes[reference] % 2]
                changes = GroupChanges(lsoa_codes=area)
                await groups.update_group(conn, reference, changes, admin, TODAY)
                writes[reference] += 1

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(recompute())
        for reference in moves:
            tasks.create_task(write(reference))
    assert all(count >= 4 for count in writes.values())
    summary = await coverage.refresh_all(aconn, as_of=TODAY)
    assert (summary.lsoas_changed, summary.cells_changed) == (0, 0)
    assert summary.active_groups >= len(moves)
    # Unlisted, they cover nothing that other tests count on being uncovered.
    for reference in moves:
        await groups.update_group(aconn, reference, GroupChanges(listed=False), admin, TODAY)
