"""Seeded synthetic neighbourhood groups and community organisers on England's real geography.

Clearly labelled generated data for demonstrations, tests and the coverage benchmark
(``bench/coverage.py``): every row is ``is_synthetic = true``, named "Synthetic group 00042" /
"Synthetic organiser 00042", with e-mail addresses under ``example.invalid`` (RFC 2606) and no
real person in it. What is real is the geography: areas are placed on the loaded LSOAs of the
coverage edition (IoD2025, LSOA 2021), weighted by their adults, so groups crowd where people
live.

- **Groups** (neighbourhood-sized): half are the union of 1-6 contiguous LSOAs (given as LSOA
  codes, as a group may register them), half a circle around a random point of a
  population-weighted LSOA, sized to reach 500-5,000 adults (log-uniform) at that LSOA's adult
  density, within 300-1,500 m: a few streets in a city, a village and its fields in the
  country. Areas are clipped to the LSOA layer (no sea) and stay within the registry's limits
  (``geo.groups.DEFAULT_RULES``). About 70% have a meeting, project or event inside the
  activity window; the rest lapsed (latest activity before it, or none recorded). About 30%
  of those inside an organiser's patch were started by that organiser.
- **Organisers**: a patch around a population-weighted point reaching 5,000-40,000 adults the
  same way, within 1-10 km (a fixed 2-10 km would put a million Londoners in one patch),
  clipped the same way; nine in ten active.

The plan is made in Python from a ``numpy`` Generator seeded with ``seed`` (same seed, same
LSOAs loaded: same plan); every geometry is built and measured in SQL in EPSG:27700
(``data/sql/synthetic/*.sql``): area, districts (as ``geo.groups.measure_area`` counts them)
and principal district. One transaction replaces the previous synthetic rows (never any
other), writes the plan with COPY, then brings the public layers and coverage up to date.

Run ``python -m data.synthetic --groups 10000 --organisers 5000 --seed 7 [--lad E08000009]``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import numpy as np
import psycopg
import shapely
import typer
from psycopg import AsyncConnection, sql

from config.settings import DatabaseSettings
from geo import audit, coverage, groups, organisers
from geo.errors import Conflict, DataUnavailable, InvalidInput, PlatoonsError
from geo.gss import LAD_CODE
from geo.sqlfiles import read_sql

ACTOR = "synthetic generator"

# Kinds of group and how common each is among the generated ones (the registry's kinds).
GROUP_KIND_WEIGHTS: dict[str, float] = {
    "new_group": 0.25,
    "residents_association": 0.20,
    "tenants_association": 0.08,
    "scouts_guides": 0.08,
    "social_enterprise": 0.07,
    "charity": 0.12,
    "community_interest_company": 0.05,
    "faith_group": 0.07,
    "other_not_for_dividend": 0.08,
}
ACTIVITY_KINDS = ("meeting", "project", "event")
TRAINING_CENTRES = tuple(f"Synthetic training centre {c}" for c in "ABCDEFGH")

# A drawn group reaches 500-5,000 adults and an organiser's patch 5,000-40,000 (log-uniform), at
# the adult density of the LSOA it is centred in, within these radii: small in a city, large in
# the country.
GROUP_ADULTS = (500.0, 5000.0)
GROUP_RADIUS_M = (300.0, 1500.0)
ORGANISER_ADULTS = (5000.0, 40000.0)
ORGANISER_RADIUS_M = (1000.0, 10000.0)
MAX_UNION_LSOAS = 6
# Activity dates keep this far from the edge of the window, so "active" does not hinge on a day.
WINDOW_MARGIN_DAYS = 14
HISTORY_DAYS = 730  # earlier activities go back up to two years before the latest


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate: counts, seed, the date activity is judged on, and where."""

    groups: int
    organisers: int
    seed: int
    as_of: date
    lad_codes: tuple[str, ...] = ()
    active_share: float = 0.7
    active_months: int = coverage.ACTIVE_MONTHS_DEFAULT
    lsoa_union_share: float = 0.5
    started_by_organiser_share: float = 0.3
    organiser_active_share: float = 0.9

    def check(self) -> None:
        """Raise InvalidInput unless every field is in range."""
        if self.groups < 0 or self.organisers < 0:
            raise InvalidInput("the numbers of groups and organisers cannot be negative")
        if self.groups > 999_999 or self.organisers > 999_999:
            raise InvalidInput("at most 999,999 groups and 999,999 organisers")
        if self.seed < 0:
            raise InvalidInput("the seed must be a non-negative integer")
        for name in (
            "active_share",
            "lsoa_union_share",
            "started_by_organiser_share",
            "organiser_active_share",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInput(f"{name} must lie between 0 and 1")
        if self.active_months < 1:
            raise InvalidInput("the activity window must be at least 1 month")
        bad = [c for c in self.lad_codes if not LAD_CODE.match(c)]
        if bad:
            raise InvalidInput(f"not English district GSS codes: {', '.join(bad)}")


@dataclass(frozen=True)
class LsoaFrame:
    """The coverage edition's LSOAs (sorted by code): districts, adults, BNG polygons, bounds."""

    codes: np.ndarray
    lad_codes: np.ndarray
    adults: np.ndarray
    geoms: np.ndarray
    bounds: np.ndarray
    area_km2: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def neighbours(self) -> list[np.ndarray]:
        """Return, per LSOA, the sorted indexes of the LSOAs it touches or overlaps."""
        tree = shapely.STRtree(self.geoms)
        left, right = tree.query(self.geoms, predicate="intersects")
        keep = left != right
        left, right = left[keep], right[keep]
        order = np.lexsort((right, left))
        left, right = left[order], right[order]
        cuts = np.searchsorted(left, np.arange(len(self.codes) + 1))
        return [right[cuts[i] : cuts[i + 1]] for i in range(len(self.codes))]


@dataclass(frozen=True)
class OrganiserPlan:
    """One planned organiser: a patch circle (EPSG:27700) and the public facts."""

    ordinal: int
    name: str
    email: str
    training_centre: str
    trained_on: date
    active: bool
    x: float
    y: float
    radius_m: float


@dataclass(frozen=True)
class ActivityPlan:
    """One planned meeting, project or event of a group."""

    kind: str
    held_on: date
    title: str
    attendance: int


@dataclass(frozen=True)
class GroupPlan:
    """One planned group: its area (LSOA codes, or a circle in EPSG:27700) and its listing."""

    ordinal: int
    name: str
    kind: str
    leader_name: str
    leader_email: str
    accepted_on: date
    lsoa_codes: tuple[str, ...] | None
    x: float
    y: float
    radius_m: float | None
    organiser_name: str | None
    activities: tuple[ActivityPlan, ...]

    @property
    def last_activity_on(self) -> date | None:
        """The date of the latest planned activity, if any."""
        return max((a.held_on for a in self.activities), default=None)


@dataclass(frozen=True)
class SyntheticPlan:
    """Everything one seed generates, before it touches the database."""

    organisers: tuple[OrganiserPlan, ...]
    groups: tuple[GroupPlan, ...]


@dataclass
class SyntheticReport:
    """What one generation wrote, and how long each part took."""

    groups: int
    organisers: int
    activities: int
    active_groups: int
    lsoa_union_groups: int
    groups_started_by_organisers: int
    removed_groups: int
    removed_organisers: int
    seed: int
    as_of: date
    lad_codes: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    coverage: Any = None


def label(number: int, total: int) -> str:
    """Return the zero-padded number used in names and e-mails (at least five digits)."""
    return str(number).zfill(max(5, len(str(total))))


# ---------------------------------------------------------------------------------------------
# Reading the geography


async def read_lsoas(conn: AsyncConnection[Any], lad_codes: Sequence[str] = ()) -> LsoaFrame:
    """Return the coverage edition's LSOAs with their adults, optionally within some districts.

    Raises
    ------
    DataUnavailable
        If the coverage edition or its adults are not loaded.
    InvalidInput
        If a named district has no LSOA of that edition here.
    """
    async with conn.cursor() as cur:
        await cur.execute(
            read_sql("data", "synthetic/lsoas.sql"),
            {"edition": coverage.COVERAGE_EDITION, "lad_codes": list(lad_codes) or None},
        )
        rows = await cur.fetchall()
    if not rows:
        if lad_codes:
            raise InvalidInput(
                f"no {coverage.COVERAGE_EDITION} LSOAs are loaded in {', '.join(lad_codes)}"
            )
        raise DataUnavailable(
            f"no {coverage.COVERAGE_EDITION} LSOAs with adults are loaded: load the data first"
        )
    found = {r[1] for r in rows}
    missing = sorted(set(lad_codes) - found)
    if missing:
        raise InvalidInput(
            f"no {coverage.COVERAGE_EDITION} LSOAs are loaded in {', '.join(missing)}"
        )
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows])
    shapely.prepare(geoms)
    return LsoaFrame(
        codes=np.array([r[0] for r in rows], dtype=object),
        lad_codes=np.array([r[1] for r in rows], dtype=object),
        adults=np.array([float(r[2]) for r in rows]),
        geoms=geoms,
        bounds=shapely.bounds(geoms),
        area_km2=shapely.area(geoms) / 1e6,
    )


# ---------------------------------------------------------------------------------------------
# Planning (pure, seeded)


def _point_in(lsoas: LsoaFrame, index: int, rng: np.random.Generator) -> tuple[float, float]:
    """Return a uniformly random point inside LSOA ``index`` (rejection sampling in its box)."""
    minx, miny, maxx, maxy = lsoas.bounds[index]
    geom = lsoas.geoms[index]
    while True:
        xs = rng.uniform(minx, maxx, 16)
        ys = rng.uniform(miny, maxy, 16)
        inside = shapely.contains_xy(geom, xs, ys)
        if inside.any():
            k = int(np.argmax(inside))
            return float(xs[k]), float(ys[k])


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """Return a draw whose logarithm is uniform between the logs of ``bounds``."""
    return float(math.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _radius(
    lsoas: LsoaFrame,
    index: int,
    adults: tuple[float, float],
    bounds: tuple[float, float],
    rng: np.random.Generator,
) -> float:
    """Return the radius (m) of a circle reaching a log-uniform number of adults from ``adults``
    at LSOA ``index``'s adult density, clamped to ``bounds``."""
    target = _log_uniform(rng, adults)
    density_per_m2 = lsoas.adults[index] / max(lsoas.area_km2[index] * 1e6, 1.0)
    if density_per_m2 <= 0:
        return bounds[1]
    radius = math.sqrt(target / (math.pi * density_per_m2))
    return float(min(max(radius, bounds[0]), bounds[1]))


def _lsoa_union(
    lsoas: LsoaFrame,
    neighbours: list[np.ndarray],
    start: int,
    size: int,
    max_km2: float,
    rng: np.random.Generator,
) -> list[int]:
    """Grow a contiguous set of LSOAs from ``start``: random neighbours, within ``max_km2``."""
    chosen = [start]
    total = float(lsoas.area_km2[start])
    while len(chosen) < size:
        taken = set(chosen)
        frontier = sorted(
            {int(j) for i in chosen for j in neighbours[i]} - taken,
        )
        frontier = [j for j in frontier if total + lsoas.area_km2[j] <= max_km2]
        if not frontier:
            break
        pick = frontier[int(rng.integers(len(frontier)))]
        chosen.append(pick)
        total += float(lsoas.area_km2[pick])
    return chosen


def _activities(
    rng: np.random.Generator, active: bool, as_of: date, since: date
) -> tuple[ActivityPlan, ...]:
    """Plan a group's activities: the latest inside the window if active, before it if not.

    A lapsed group has no recorded activity one time in ten. Dates keep
    ``WINDOW_MARGIN_DAYS`` from the window's start, and stay within the registry's limit on
    how old an activity may be.
    """
    oldest = as_of - timedelta(days=365 * groups.MAX_ACTIVITY_AGE_YEARS - 1)
    if active:
        first, last = since + timedelta(days=WINDOW_MARGIN_DAYS), as_of
        count = int(rng.integers(1, 7))
    else:
        if rng.random() < 0.1:
            return ()
        first = max(oldest, since - timedelta(days=HISTORY_DAYS))
        last = since - timedelta(days=WINDOW_MARGIN_DAYS)
        count = int(rng.integers(1, 5))
    latest = first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))
    dates = [latest] + [
        max(oldest, latest - timedelta(days=int(d)))
        for d in rng.integers(1, HISTORY_DAYS, count - 1)
    ]
    planned = []
    for held_on in sorted(dates):
        kind = ACTIVITY_KINDS[int(rng.integers(len(ACTIVITY_KINDS)))]
        planned.append(
            ActivityPlan(
                kind=kind,
                held_on=held_on,
                title=f"Synthetic {kind}",
                attendance=int(rng.integers(4, 80)),
            )
        )
    return tuple(planned)


def make_plan(lsoas: LsoaFrame, spec: SyntheticSpec) -> SyntheticPlan:
    """Plan ``spec.groups`` groups and ``spec.organisers`` organisers from ``spec.seed``.

    Deterministic: the same LSOAs and spec always give the same plan. Geometry here is only
    centres, radii and LSOA codes; the areas themselves are built in SQL.
    """
    spec.check()
    rng = np.random.default_rng(spec.seed)
    weights = lsoas.adults / lsoas.adults.sum() if lsoas.adults.sum() > 0 else None
    since = coverage.active_since(spec.as_of, spec.active_months)
    rules = groups.DEFAULT_RULES

    organiser_plans: list[OrganiserPlan] = []
    seeds = rng.choice(len(lsoas), size=spec.organisers, p=weights)
    for n, index in enumerate(seeds, start=1):
        x, y = _point_in(lsoas, int(index), rng)
        number = label(n, spec.organisers)
        organiser_plans.append(
            OrganiserPlan(
                ordinal=n,
                name=f"Synthetic organiser {number}",
                email=f"organiser-{number}@example.invalid",
                training_centre=TRAINING_CENTRES[int(rng.integers(len(TRAINING_CENTRES)))],
                trained_on=spec.as_of - timedelta(days=int(rng.integers(30, 3 * 365))),
                active=bool(rng.random() < spec.organiser_active_share),
                x=x,
                y=y,
                radius_m=_radius(lsoas, int(index), ORGANISER_ADULTS, ORGANISER_RADIUS_M, rng),
            )
        )
    ox = np.array([o.x for o in organiser_plans])
    oy = np.array([o.y for o in organiser_plans])
    oradius = np.array([o.radius_m for o in organiser_plans])

    neighbours = lsoas.neighbours() if spec.groups else []
    kinds = list(GROUP_KIND_WEIGHTS)
    kind_p = np.array(list(GROUP_KIND_WEIGHTS.values()))
    kind_p = kind_p / kind_p.sum()
    accepted_from = min(groups.CODE_OF_CONDUCT_ISSUED_ON, spec.as_of)
    group_plans: list[GroupPlan] = []
    seeds = rng.choice(len(lsoas), size=spec.groups, p=weights)
    for n, index in enumerate(seeds, start=1):
        index = int(index)
        number = label(n, spec.groups)
        lsoa_codes: tuple[str, ...] | None = None
        radius: float | None = None
        as_union = rng.random() < spec.lsoa_union_share
        if as_union and lsoas.area_km2[index] <= rules.max_area_km2:
            size = int(rng.integers(1, MAX_UNION_LSOAS + 1))
            chosen = _lsoa_union(lsoas, neighbours, index, size, rules.max_area_km2, rng)
            lsoa_codes = tuple(sorted(str(lsoas.codes[i]) for i in chosen))
            centre = shapely.point_on_surface(lsoas.geoms[index])
            x, y = float(centre.x), float(centre.y)
        else:
            x, y = _point_in(lsoas, index, rng)
            radius = _radius(lsoas, index, GROUP_ADULTS, GROUP_RADIUS_M, rng)
        organiser_name = None
        if len(organiser_plans) and rng.random() < spec.started_by_organiser_share:
            holding = np.flatnonzero((ox - x) ** 2 + (oy - y) ** 2 < oradius**2)
            if len(holding):
                organiser_name = organiser_plans[int(rng.choice(holding))].name
        active = bool(rng.random() < spec.active_share)
        days_since_issue = max((spec.as_of - accepted_from).days, 0)
        group_plans.append(
            GroupPlan(
                ordinal=n,
                name=f"Synthetic group {number}",
                kind=kinds[int(rng.choice(len(kinds), p=kind_p))],
                leader_name=f"Synthetic leader {number}",
                leader_email=f"leader-{number}@example.invalid",
                accepted_on=accepted_from
                + timedelta(days=int(rng.integers(0, days_since_issue + 1))),
                lsoa_codes=lsoa_codes,
                x=x,
                y=y,
                radius_m=radius,
                organiser_name=organiser_name,
                activities=_activities(rng, active, spec.as_of, since),
            )
        )
    return SyntheticPlan(organisers=tuple(organiser_plans), groups=tuple(group_plans))


# ---------------------------------------------------------------------------------------------
# Writing


def _envelope(plan: SyntheticPlan, lsoas: LsoaFrame) -> dict[str, float]:
    """Return a box (EPSG:27700) holding every planned circle and the loaded LSOAs."""
    xs = [o.x for o in plan.organisers] + [g.x for g in plan.groups]
    ys = [o.y for o in plan.organisers] + [g.y for g in plan.groups]
    radius = max(
        [o.radius_m for o in plan.organisers]
        + [g.radius_m for g in plan.groups if g.radius_m is not None]
        + [0.0]
    )
    minx, miny = lsoas.bounds[:, 0].min(), lsoas.bounds[:, 1].min()
    maxx, maxy = lsoas.bounds[:, 2].max(), lsoas.bounds[:, 3].max()
    return {
        "xmin": float(min([minx, *xs]) - radius),
        "ymin": float(min([miny, *ys]) - radius),
        "xmax": float(max([maxx, *xs]) + radius),
        "ymax": float(max([maxy, *ys]) + radius),
    }


async def _stage(conn: AsyncConnection[Any], plan: SyntheticPlan, seed: int) -> None:
    """COPY the plan into the staging tables (``synthetic/stage.sql``)."""
    description = (
        f"Synthetic group generated for demonstrations and tests (seed {seed}); not a real group."
    )
    async with conn.cursor() as cur:
        await cur.execute(read_sql("data", "synthetic/stage.sql"))
        # An organiser's plan is its staging row: the columns are the plan's fields, in order.
        organiser_columns = [f.name for f in fields(OrganiserPlan)]
        async with cur.copy(
            sql.SQL("COPY synthetic_organiser_plan ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, organiser_columns))
            )
        ) as copy:
            for o in plan.organisers:
                await copy.write_row(astuple(o))
        async with cur.copy(
            "COPY synthetic_group_plan (ordinal, name, kind, description, meeting_place,"
            " how_to_join, leader_name, leader_email, code_of_conduct_version,"
            " code_of_conduct_accepted_on, lsoa_codes, x, y, radius_m, organiser_name,"
            " last_activity_on) FROM STDIN"
        ) as copy:
            for g in plan.groups:
                await copy.write_row(
                    (
                        g.ordinal,
                        g.name,
                        g.kind,
                        description,
                        f"Synthetic meeting place {g.name.rsplit(' ', 1)[1]}",
                        "Use the join form on the group's page.",
                        g.leader_name,
                        g.leader_email,
                        groups.CODE_OF_CONDUCT_VERSION,
                        g.accepted_on,
                        list(g.lsoa_codes) if g.lsoa_codes is not None else None,
                        g.x,
                        g.y,
                        g.radius_m,
                        g.organiser_name,
                        g.last_activity_on,
                    )
                )
        async with cur.copy(
            "COPY synthetic_activity_plan (group_ordinal, kind, held_on, title, attendance)"
            " FROM STDIN"
        ) as copy:
            for g in plan.groups:
                for a in g.activities:
                    await copy.write_row((g.ordinal, a.kind, a.held_on, a.title, a.attendance))


async def _clear(conn: AsyncConnection[Any]) -> tuple[int, int]:
    """Delete the previous synthetic rows (only them); return (groups, organisers) removed.

    Raises
    ------
    Conflict
        If a registered (non-synthetic) group names a synthetic organiser as its starter.
    """
    async with conn.cursor() as cur:
        await cur.execute(read_sql("data", "synthetic/blocking_groups.sql"))
        blocking = await cur.fetchall()
        if blocking:
            pairs = ", ".join(f"{g} (started by {o})" for g, o in blocking)
            raise Conflict(
                "registered groups name synthetic organisers as their starters, so the "
                f"synthetic organisers cannot be replaced: {pairs}"
            )
        removed: list[int] = []
        # Groups first: synthetic groups name the synthetic organisers that started them.
        for register, serving in (
            ("community_group", "group_serving"),
            ("organiser", "organiser_serving"),
        ):
            await cur.execute(
                sql.SQL(read_sql("data", "synthetic/clear.sql")).format(
                    register=sql.Identifier(register), serving=sql.Identifier(serving)
                )
            )
            row = await cur.fetchone()
            assert row is not None
            removed.append(int(row[0]))
    return removed[0], removed[1]


async def write_plan(
    conn: AsyncConnection[Any], plan: SyntheticPlan, spec: SyntheticSpec, lsoas: LsoaFrame
) -> SyntheticReport:
    """Replace the synthetic rows with ``plan`` and refresh the layers, in one transaction.

    The previous synthetic groups and organisers are deleted (with their activities and LSOA
    pieces), the plan is COPYed into staging tables, its areas are built and measured in SQL
    (EPSG:27700), the rows are inserted, the public layers rewritten for the new rows
    (``geo.groups.rewrite_group_serving``, ``geo.organisers.rewrite_organiser_serving``) and
    all coverage recomputed (``geo.coverage.refresh_all``) on ``spec.as_of``. The generation is
    recorded in the audit log. Nothing is written if any step fails.

    Raises
    ------
    Conflict
        If registered groups name synthetic organisers (see :func:`_clear`).
    """
    seconds: dict[str, float] = {}
    actor = f"{ACTOR} (seed {spec.seed})"
    params = {
        "vintage": coverage.COVERAGE_VINTAGE,
        "actor": actor,
        "lad_share_min": groups.LAD_SHARE_MIN,
        "lad_m2_min": groups.LAD_M2_MIN,
    }
    async with conn.transaction(), conn.cursor() as cur:
        await coverage.lock_writes(conn)
        started = time.perf_counter()
        removed_groups, removed_organisers = await _clear(conn)
        seconds["clear"] = time.perf_counter() - started

        started = time.perf_counter()
        await _stage(conn, plan, spec.seed)
        await cur.execute(read_sql("data", "synthetic/land.sql"), _envelope(plan, lsoas) | params)
        await cur.execute("CREATE INDEX ON synthetic_land USING gist (geom)")
        await cur.execute("ANALYZE synthetic_land")
        await cur.execute(read_sql("data", "synthetic/areas.sql"), params)
        seconds["areas"] = time.perf_counter() - started

        started = time.perf_counter()
        await cur.execute(read_sql("data", "synthetic/insert_organisers.sql"), params)
        organiser_ids = [int(r[0]) for r in await cur.fetchall()]
        await cur.execute(read_sql("data", "synthetic/insert_groups.sql"), params)
        group_ids = [int(r[0]) for r in await cur.fetchall()]
        await cur.execute(read_sql("data", "synthetic/insert_activities.sql"), params)
        activities = cur.rowcount
        # Fresh statistics, so the coverage statements below plan for thousands of areas.
        await cur.execute("ANALYZE community_group, organiser, group_activity")
        seconds["insert"] = time.perf_counter() - started
        if len(organiser_ids) != len(plan.organisers) or len(group_ids) != len(plan.groups):
            # Every planned area starts at a point inside an LSOA, so none can come out empty.
            raise RuntimeError(
                f"only {len(group_ids)} of {len(plan.groups)} groups and {len(organiser_ids)} "
                f"of {len(plan.organisers)} organisers got an area"
            )

        started = time.perf_counter()
        await groups.rewrite_group_serving(
            conn, group_ids, as_of=spec.as_of, active_months=spec.active_months
        )
        await organisers.rewrite_organiser_serving(conn, organiser_ids)
        seconds["serving"] = time.perf_counter() - started

        started = time.perf_counter()
        summary = await coverage.refresh_all(
            conn, as_of=spec.as_of, active_months=spec.active_months
        )
        seconds["coverage"] = time.perf_counter() - started

        since = coverage.active_since(spec.as_of, spec.active_months)
        report = SyntheticReport(
            groups=len(group_ids),
            organisers=len(organiser_ids),
            activities=activities,
            active_groups=sum(
                1 for g in plan.groups if g.last_activity_on and g.last_activity_on >= since
            ),
            lsoa_union_groups=sum(1 for g in plan.groups if g.lsoa_codes is not None),
            groups_started_by_organisers=sum(1 for g in plan.groups if g.organiser_name),
            removed_groups=removed_groups,
            removed_organisers=removed_organisers,
            seed=spec.seed,
            as_of=spec.as_of,
            lad_codes=spec.lad_codes,
            seconds={k: round(v, 3) for k, v in seconds.items()},
            coverage=summary,
        )
        await audit.record(
            conn,
            actor,
            "synthetic.generate",
            "synthetic",
            str(spec.seed),
            {"groups": removed_groups, "organisers": removed_organisers},
            {
                "groups": report.groups,
                "organisers": report.organisers,
                "activities": report.activities,
                "seed": spec.seed,
                "as_of": spec.as_of.isoformat(),
                "lad_codes": list(spec.lad_codes),
            },
        )
    return report


async def generate(conn: AsyncConnection[Any], spec: SyntheticSpec) -> SyntheticReport:
    """Plan from ``spec.seed`` on the loaded LSOAs and write it (see :func:`write_plan`).

    Parameters
    ----------
    conn
        A connection; the whole replacement is one transaction (a savepoint inside the
        caller's transaction, if one is open).
    spec
        Counts, seed, date and optional districts (``lad_codes``: only their LSOAs seed
        areas, though an area may spill into a neighbouring district).

    Raises
    ------
    InvalidInput
        If the spec is out of range or names a district with no loaded LSOA.
    DataUnavailable
        If the coverage edition's LSOAs and adults are not loaded.
    Conflict
        If registered groups name synthetic organisers.
    """
    spec.check()
    started = time.perf_counter()
    lsoas = await read_lsoas(conn, spec.lad_codes)
    plan = make_plan(lsoas, spec)
    planned = time.perf_counter() - started
    report = await write_plan(conn, plan, spec, lsoas)
    report.seconds = {"plan": round(planned, 3), **report.seconds}
    return report


# ---------------------------------------------------------------------------------------------
# Command line

cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    groups_count: Annotated[int, typer.Option("--groups", help="synthetic groups")] = 10_000,
    organisers_count: Annotated[
        int, typer.Option("--organisers", help="synthetic organisers")
    ] = 5_000,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same data)")] = 7,
    lad: Annotated[
        list[str] | None, typer.Option(help="seed areas only in this district (repeatable)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="date activity is judged on (ISO; default today UTC)")
    ] = None,
    active_share: Annotated[float, typer.Option(help="share of groups active on --as-of")] = 0.7,
) -> None:
    """Replace the synthetic groups and organisers (is_synthetic) with a seeded generation."""
    try:
        on = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date: {as_of}", param_hint="--as-of") from exc
    spec = SyntheticSpec(
        groups=groups_count,
        organisers=organisers_count,
        seed=seed,
        as_of=on,
        lad_codes=tuple(lad or ()),
        active_share=active_share,
    )

    async def run() -> SyntheticReport:
        async with await psycopg.AsyncConnection.connect(DatabaseSettings().dsn) as conn:
            return await generate(conn, spec)

    try:
        report = asyncio.run(run())
    except PlatoonsError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(
        f"synthetic data (seed {report.seed}, as of {report.as_of}): {report.groups} groups "
        f"({report.active_groups} active, {report.lsoa_union_groups} given as LSOAs, "
        f"{report.groups_started_by_organisers} started by organisers), {report.organisers} "
        f"organisers, {report.activities} activities; replaced {report.removed_groups} groups "
        f"and {report.removed_organisers} organisers"
    )
    typer.echo("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items()))


if __name__ == "__main__":
    cli()
