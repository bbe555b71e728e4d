"""Coverage test data for the coverage map's tests: groups and an organiser on real LSOAs.

Everything is written through the project's own functions, as the service writes it: two
neighbourhood groups through :mod:`geo.groups` (one active, with a meeting recorded today; one
listed but never active) and a community organiser through :mod:`geo.organisers`, each named
EXAMPLE. Their areas are unions of whole LSOAs unchanged since 2011, so the coverage expected
is known without the service: an LSOA inside an active group's area has every adult covered,
and its adults are the mid-2019 estimate's 18-and-over columns for the same code.

If the test database holds no coverage rows yet (a load that predates the coverage step),
:func:`ensure_coverage` runs :func:`data.coverage_base.rebuild_after_load`, the step every load
runs, once; nothing is inserted by hand.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import psycopg

from data import coverage_base
from geo import groups, organisers
from tests.utils import factories, sources

TRAFFORD = "E08000009"
POPULATION = "population/population_mid2019_lsoa11_syoa.csv.gz"
CHANGES = "lookups/lookup_lsoa11_lsoa21_ltla22.csv"


def adults_by_lsoa() -> pd.Series:
    """Adults (18 and over) per LSOA 2011 in the mid-2019 estimates (source file, summed)."""
    population = sources.csv(POPULATION).set_index("lsoa11_code")
    return population[[str(age) for age in range(18, 90)] + ["90+"]].sum(axis=1)


def unchanged_trafford_lsoas() -> list[str]:
    """Trafford LSOAs whose 2021 code and boundary are their 2011 ones (change code U)."""
    changes = sources.csv(CHANGES)
    unchanged = changes[(changes["change_code"] == "U") & (changes["ltla22_code"] == TRAFFORD)]
    return sorted(str(c) for c in unchanged["lsoa21_code"])


@dataclass(frozen=True)
class CoverageExample:
    """What was registered, and where."""

    covered: str  # inside the active group's area only
    shared: str  # inside both groups' areas
    patch_only: str  # inside the organiser's patch only
    active_group: str  # references
    active_name: str
    inactive_group: str
    organiser: str


def ensure_coverage(dsn: str) -> None:
    """Compute coverage once if the database has none yet (see the module's docstring)."""
    with psycopg.connect(dsn) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM lsoa_coverage").fetchone() or (0,)
        if rows == 0:
            coverage_base.rebuild_after_load(conn, as_of=factories.today())
            conn.commit()


def record_coverage_example(dsn: str, made: factories.Made) -> CoverageExample:
    """Register the groups and the organiser (their keys are remembered in ``made``)."""
    ensure_coverage(dsn)
    # The last of the unchanged LSOAs: the assets map's tests take the first ones.
    covered, shared, patch_only = unchanged_trafford_lsoas()[-3:]
    today = factories.today()
    tag = uuid.uuid4().hex[:6]

    def group(name: str, lsoas: list[str]) -> groups.GroupInput:
        return groups.GroupInput(
            name=name,
            kind="residents_association",
            description="EXAMPLE DATA registered by the map tests",
            meeting_place="EXAMPLE Community Hall",
            lsoa_codes=lsoas,
            leader=groups.LeaderInput(name="Example Leader", email="leader@example.org"),
            code_of_conduct=groups.CodeOfConductAcceptance(
                version=groups.CODE_OF_CONDUCT_VERSION, accepted_on=today
            ),
        )

    async def record(aconn: psycopg.AsyncConnection) -> CoverageExample:
        officer = await made.key(aconn, "officer", [TRAFFORD])
        admin = await made.key(aconn, "admin")
        active = await groups.create_group(
            aconn,
            group(f"EXAMPLE Coverage Neighbours {tag}", [covered, shared]),
            officer.principal,
            today,
        )
        meeting = groups.ActivityInput(kind="meeting", held_on=today, title="EXAMPLE meeting")
        await groups.record_activity(aconn, active.reference, meeting, officer.principal, today)
        dormant = await groups.create_group(
            aconn, group(f"EXAMPLE Coverage Dormant {tag}", [shared]), officer.principal, today
        )
        organiser = await organisers.create_organiser(
            aconn,
            organisers.OrganiserInput(
                name=f"EXAMPLE Organiser {tag}",
                training_centre="EXAMPLE Training Centre",
                trained_on=today - timedelta(days=100),
                lsoa_codes=[patch_only, covered],
            ),
            admin.principal,
            today,
        )
        return CoverageExample(
            covered=covered,
            shared=shared,
            patch_only=patch_only,
            active_group=active.reference,
            active_name=active.name,
            inactive_group=dormant.reference,
            organiser=organiser.reference,
        )

    return factories.run(dsn, record)
