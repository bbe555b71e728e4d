"""Test data on the test database: grant programmes, API keys and applications, removed after.

Every programme gets a unique id, so tests never see each other's programmes, and a registry
deletes what it made (applications and pledges first) when its fixture ends. The audit log is
append-only by design and keeps its entries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import psycopg

from geo import access, coverage
from geo.access import Principal
from geo.grants import checks
from geo.planning import areas as planning_areas
from geo.planning.models import Area, AreaInput

T = TypeVar("T")


def today() -> date:
    """Today in UTC, as the service's routes take it."""
    return datetime.now(UTC).date()


def programme_spec(**overrides: Any) -> checks.ProgrammeSpec:
    """A valid programme open from 30 days ago for a year, with a unique id; override freely."""
    values: dict[str, Any] = {
        "id": f"test-{uuid.uuid4().hex[:12]}",
        "name": "Test programme",
        "description": "A programme made by the tests.",
        "funder_name": "Test Community Foundation",
        "funder_id": "GB-CHC-9999999",
        "budget": Decimal("100000.00"),
        "opens_on": today() - timedelta(days=30),
        "closes_on": today() + timedelta(days=365),
        "edition_code": "IoD2025",
        "geography_level": "lsoa",
        "rule": {"kind": "index", "domain": "imd", "decile_at_most": 10},
        "min_population_share": 0.5,
        "award_min": Decimal("500.00"),
        "award_max": Decimal("25000.00"),
        "match_ratio": Decimal("1"),
        "is_example": False,
    }
    values.update(overrides)
    return checks.ProgrammeSpec.model_validate(values)


@dataclass(frozen=True)
class Key:
    """An API key made for a test: its id, secret and the principal it authenticates as."""

    id: int
    secret: str
    principal: Principal

    @property
    def headers(self) -> dict[str, str]:
        """Request headers presenting the key."""
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass
class Made:
    """What a test created, to delete afterwards."""

    programme_ids: list[str] = field(default_factory=list)
    key_ids: list[int] = field(default_factory=list)

    async def programme(self, aconn: psycopg.AsyncConnection, **overrides: Any) -> checks.Programme:
        """Save a programme (see :func:`programme_spec`) and remember it."""
        spec = programme_spec(**overrides)
        self.programme_ids.append(spec.id)
        return await checks.save_programme(aconn, spec, actor="tests")

    async def key(
        self, aconn: psycopg.AsyncConnection, role: access.Role, lads: list[str] | None = None
    ) -> Key:
        """Create an API key and remember it."""
        key_id, secret = await access.create_key(
            aconn, f"test {role} {uuid.uuid4().hex[:6]}", role, lads
        )
        self.key_ids.append(key_id)
        principal = await access.authenticate(aconn, secret)
        return Key(id=key_id, secret=secret, principal=principal)

    def drop(self, conn: psycopg.Connection) -> None:
        """Delete the programmes (with their applications and pledges) and keys made."""
        with conn.transaction():
            conn.execute(
                "DELETE FROM grant_application WHERE programme_id = ANY(%s)", (self.programme_ids,)
            )
            conn.execute("DELETE FROM grant_programme WHERE id = ANY(%s)", (self.programme_ids,))
            # Programmes' eligibility layers (revision 0005), where that table exists.
            layer = conn.execute("SELECT to_regclass('programme_lsoa_eligibility')").fetchone()
            if layer is not None and layer[0] is not None:
                conn.execute(
                    "DELETE FROM programme_lsoa_eligibility WHERE programme_id = ANY(%s)",
                    (self.programme_ids,),
                )
            conn.execute("DELETE FROM api_key WHERE id = ANY(%s)", (self.key_ids,))


def run(dsn: str, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
    """Run async set-up code on its own autocommit connection (from a synchronous fixture)."""

    async def main() -> T:
        aconn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        try:
            return await work(aconn)
        finally:
            await aconn.close()

    return asyncio.run(main())


@dataclass(frozen=True)
class Callers:
    """Real API keys: two group managers, an officer of each of two districts, and an admin."""

    manager: Key
    other_manager: Key
    officer: Key
    other_officer: Key
    admin: Key


async def make_callers(
    made: Made,
    aconn: psycopg.AsyncConnection,
    officer_lad: str | list[str],
    other_officer_lad: str,
) -> Callers:
    """Create the five callers' keys, remembered by ``made`` (which deletes them).

    ``officer_lad`` is the officer's district, or a list of them.
    """
    officer_lads = [officer_lad] if isinstance(officer_lad, str) else officer_lad
    return Callers(
        manager=await made.key(aconn, "group_manager"),
        other_manager=await made.key(aconn, "group_manager"),
        officer=await made.key(aconn, "officer", officer_lads),
        other_officer=await made.key(aconn, "officer", [other_officer_lad]),
        admin=await made.key(aconn, "admin"),
    )


def module_callers(
    dsn: str, officer_lad: str | list[str], other_officer_lad: str
) -> Iterator[Callers]:
    """Make the five callers, yield them, then delete them and the groups' links to them."""
    made = Made()

    async def setup(aconn: psycopg.AsyncConnection) -> Callers:
        return await make_callers(made, aconn, officer_lad, other_officer_lad)

    found = run(dsn, setup)
    yield found
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM group_manager WHERE key_id = ANY(%s)", (made.key_ids,))
        made.drop(conn)


def module_programme(dsn: str, **overrides: Any) -> Iterator[checks.Programme]:
    """Save a programme (see :func:`programme_spec`), yield it, then delete it."""
    made = Made()

    async def setup(aconn: psycopg.AsyncConnection) -> checks.Programme:
        return await made.programme(aconn, **overrides)

    yield run(dsn, setup)
    with psycopg.connect(dsn, autocommit=True) as conn:
        made.drop(conn)


# A grant application's transition table as the issue specifies it: what each status allows next.
APPLICATION_NEXT_STEPS: dict[str, list[str]] = {
    "draft": ["edit", "submit"],
    "submitted": ["approve", "reject"],
    "approved": ["pay"],
    "rejected": [],
    "paid": [],
}

# The steps that take a new draft application to each status.
APPLICATION_PATHS: dict[str, tuple[str, ...]] = {
    "draft": (),
    "submitted": ("submit",),
    "approved": ("submit", "approve"),
    "rejected": ("submit", "reject"),
    "paid": ("submit", "approve", "pay"),
}


def pledge(amount: str, source_type: str = "charitable_trust", **overrides: Any) -> dict[str, Any]:
    """A matched-funding pledge as an applicant sends it."""
    return {
        "source_name": "Test Trust",
        "source_type": source_type,
        "amount": amount,
        "evidence_reference": "letter of 1 March",
        **overrides,
    }


def draft(programme_id: str, area: dict[str, Any], amount: str, **overrides: Any) -> dict[str, Any]:
    """An application body: a group with a charity number asking for ``amount``."""
    return {
        "programme": programme_id,
        "applicant_name": "Friends of the Park",
        "applicant_org_id": "GB-CHC-1234567",
        "title": "Community garden",
        "description": "Planting and tools for a community garden.",
        "amount": amount,
        "area": area,
        "pledges": [pledge(amount)],
        **overrides,
    }


# Assets of community value (geo/assets.py): a Trafford point (postcode M32 0WR's centroid,
# IMD decile 1) and a body for POST /assets. Assets are never deleted: their history is
# append-only, so tests tell theirs apart by id or unique name.
TRAFFORD_ASSET_POINT = (-2.305941, 53.445507)


def asset_body(**overrides: Any) -> dict[str, Any]:
    """A valid new asset in Trafford with a unique name; override freely."""
    lon, lat = TRAFFORD_ASSET_POINT
    return {
        "name": f"Test Arms {uuid.uuid4().hex[:8]}",
        "category": "pub",
        "owner_type": "commercial",
        "lon": lon,
        "lat": lat,
        "address": "1 Test Street, Stretford",
        "postcode": "M32 0WR",
        **overrides,
    }


def nomination(group: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A nomination step body from an eligible body (a parish council)."""
    body: dict[str, Any] = {"body_type": "parish_council", **overrides}
    if group is not None:
        body["group"] = group
    return body


@dataclass(frozen=True)
class DiscGroup:
    """A group made by :func:`disc_group`, and the point on surface of its LSOA."""

    group_id: int
    reference: str
    lon: float
    lat: float


async def disc_group(
    aconn: psycopg.AsyncConnection, reference: str, name: str, lsoa: str, lad: str, **extra: str
) -> DiscGroup:
    """An active group whose area is a 700 m disc around an LSOA's point on surface.

    The disc covers part of the LSOA (and of its neighbours), so its coverage shares are
    fractions. Coverage is refreshed for it; ``extra`` adds ``meeting_place``. Remove it with
    :func:`drop_group`.
    """
    meeting_place = extra.get("meeting_place")
    cur = await aconn.execute(
        "INSERT INTO community_group (reference, name, kind, leader_name, leader_email,"
        " leader_address, code_of_conduct_version, code_of_conduct_accepted_on, area,"
        " area_km2, lad_codes, principal_lad_code, meeting_place, last_activity_on,"
        " created_by)"
        " SELECT %s, %s, 'tenants_association', 'Pat Leader',"
        " 'pat@example.invalid', '9 Secret Street', 'v1', %s, a, ST_Area(a) / 1e6,"
        " ARRAY[%s], %s, %s, %s, 'tests'"
        " FROM (SELECT ST_Multi(ST_Buffer(ST_PointOnSurface(geom), 700)) AS a FROM lsoa"
        "       WHERE vintage = 2021 AND code = %s) x RETURNING id",
        (reference, name, today(), lad, lad, meeting_place, today() - timedelta(days=10), lsoa),
    )
    (group_id,) = await cur.fetchone() or (0,)
    await coverage.refresh_group(aconn, group_id, as_of=today())
    cur = await aconn.execute(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326)"
        " AS p FROM lsoa WHERE vintage = 2021 AND code = %s) x",
        (lsoa,),
    )
    lon, lat = await cur.fetchone() or (0.0, 0.0)
    return DiscGroup(group_id, reference, lon, lat)


async def drop_group(aconn: psycopg.AsyncConnection, group_id: int) -> None:
    """Unlist a group, take it out of coverage, and delete it."""
    await aconn.execute("UPDATE community_group SET listed = false WHERE id = %s", (group_id,))
    await coverage.refresh_group(aconn, group_id, as_of=today())
    await aconn.execute("DELETE FROM community_group WHERE id = %s", (group_id,))


def iod2025_residents(conn: psycopg.Connection, lad: str) -> float:
    """The district's residents: IoD2025's population of its LSOAs, summed in the database."""
    (residents,) = conn.execute(
        "SELECT sum(p.residents) FROM lsoa_population p JOIN lsoa_deprivation d"
        " ON d.edition_code = p.edition_code AND d.code = p.lsoa_code"
        " WHERE p.edition_code = 'IoD2025' AND d.lad_code = %s",
        (lad,),
    ).fetchone() or (None,)
    assert residents is not None
    return float(residents)


async def example_neighbourhood_area(
    aconn: psycopg.AsyncConnection,
    officer: Principal,
    name: str,
    geometry: dict[str, Any],
    applicant_name: str,
) -> Area:
    """An example neighbourhood area a prospective forum applied for (and which was publicised)
    on 5 January 2026, recorded today by ``officer``."""
    return await planning_areas.create_area(
        aconn,
        AreaInput(
            name=name,
            geometry=geometry,
            applicant_type="prospective_forum",
            applicant_name=applicant_name,
            applied_on=date(2026, 1, 5),
            publicised_on=date(2026, 1, 5),
            is_example=True,
        ),
        officer,
        today(),
    )
