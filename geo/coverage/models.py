"""Coverage's definitions: the activity window, its constants and the shapes of its answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, Field

from geo.figures import ADULTS, SHARE, Adults, Share

ACTIVE_MONTHS_DEFAULT = 12


# The IoD edition whose geography (LSOA 2021) and adults coverage is computed on.
COVERAGE_EDITION = "IoD2025"


COVERAGE_VINTAGE = 2021


# An LSOA is a cold spot when it is deprived and less than this share of it is covered; the
# stored ``cold_spot`` column and the collection use this value, /coverage/cold-spots others.
COLD_SPOT_THRESHOLD = 0.5


# Deprived: IMD deciles 1-2 (the most deprived 20% of LSOAs nationally).
DEPRIVED_DECILE_MAX = 2


ENGLAND_CODE = "E92000001"


MAX_COLD_SPOTS = 10_000


def active_since(as_of: date, months: int = ACTIVE_MONTHS_DEFAULT) -> date:
    """Return the earliest activity date that keeps a group active on ``as_of``.

    The window is ``months`` calendar months ending on ``as_of``, both ends included:
    activity on 2025-11-25 keeps a group active through 2026-11-25 and not on 2026-11-26. A
    window starting on a day the month lacks starts on that month's last day (a year before
    2024-02-29 is 2023-02-28).

    Parameters
    ----------
    as_of
        The date the question is asked for (today, in the service).
    months
        Length of the activity window in calendar months (at least 1).
    """
    if months < 1:
        raise ValueError(f"the activity window must be at least 1 month, not {months}")
    return as_of - relativedelta(months=months)


@dataclass(frozen=True)
class RefreshSummary:
    """What a national recompute did, and England's coverage after it."""

    as_of: date
    active_since: date
    groups: int
    active_groups: int
    organisers: int
    active_organisers: int
    group_pieces: int
    organiser_pieces: int
    lsoas: int
    lsoas_changed: int
    # H3 rows written: resolutions 6-8 (a resolution-9 cell is a bit of its parent's row).
    cells_changed: int
    adults: Adults
    adults_covered: Adults
    seconds: float
    # Seconds per statement of the recompute, by step name, in order (see national_steps).
    step_seconds: dict[str, float] = field(default_factory=dict)


class CoverageTotals(BaseModel):
    """Coverage of an area (England or a district), summed over its LSOAs."""

    scope: Literal["england", "lad"]
    code: str
    name: str
    lsoas: int
    adults: Adults = Field(description=ADULTS.describe("Adults (18+) living in the area."))
    adults_covered: Adults = Field(
        description=ADULTS.describe("Of those, living where an active group works.")
    )
    covered_share: Share
    deprived_adults: Adults = Field(
        description=ADULTS.describe("Adults in LSOAs of IMD deciles 1-2.")
    )
    deprived_adults_covered: Adults
    deprived_covered_share: Share
    adults_organiser_covered: Adults = Field(
        description=ADULTS.describe("Adults inside an organiser's patch.")
    )
    organiser_share: Share
    active_groups: int = Field(description="Active groups working in the area.")
    active_organisers: int = Field(description="Active organisers whose patch touches it.")
    cold_spots: int = Field(description="LSOAs flagged cold spots (at cold_spot_threshold).")
    cold_spot_threshold: float = COLD_SPOT_THRESHOLD
    as_of: str | None = Field(description="Latest date the activity test used (ISO date).")


class GroupWorking(BaseModel):
    """A listed group working in an LSOA: its public fields only."""

    reference: str
    name: str
    kind: str
    active: bool
    meeting_place: str | None
    last_activity_on: date | None
    share_of_lsoa: Share = Field(
        description=SHARE.describe("Share of the LSOA's area inside the group's area.")
    )


class LsoaCoverage(BaseModel):
    """One LSOA's coverage, with the groups working there."""

    code: str
    name: str
    lad_code: str
    lad_name: str
    imd_decile: int | None
    adults: Adults
    covered_share: Share
    adults_covered: Adults
    adults_uncovered: Adults
    active_groups: int
    organiser_share: Share
    adults_organiser_covered: Adults
    organisers: int = Field(description="Active organisers whose patch touches the LSOA.")
    cold_spot: bool
    as_of: str
    groups: list[GroupWorking]


class ColdSpot(BaseModel):
    """A deprived LSOA little covered by active groups, in ranking order."""

    rank: int
    code: str
    name: str
    lad_code: str
    lad_name: str
    imd_decile: int
    adults: Adults
    covered_share: Share
    adults_covered: Adults
    adults_uncovered: Adults
    active_groups: int
    organisers: int


class Snapshot(BaseModel):
    """England's or a district's coverage on a date."""

    taken_on: date
    scope: Literal["england", "lad"]
    code: str
    adults: Adults
    adults_covered: Adults
    covered_share: Share
    deprived_adults: Adults
    deprived_adults_covered: Adults
    deprived_covered_share: Share
    adults_organiser_covered: Adults
    active_groups: int
    active_organisers: int
    cold_spots: int
    details: dict[str, Any]
