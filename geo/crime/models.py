"""Typed results of crime summaries: an area's counts by month and type, rates and trend."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from geo.figures import Adults, PValue, RatePer1000, Ratio, Share

AreaKind = Literal["lsoa", "ward", "lad", "group", "h3", "polygon"]

POLICE_UK_ATTRIBUTION = (
    "Street-level crime: data.police.uk. Contains public sector information licensed under "
    "the Open Government Licence v3.0."
)

# police.uk's own caveats (data.police.uk/about), in plain words for residents.
CAVEATS: tuple[str, ...] = (
    "Locations are approximate: police.uk moves each crime to the nearest of a fixed set of "
    "map points (a street's centre, a park, a shop), each covering several addresses, so a "
    "dot on the map is never an exact address and several crimes share one dot.",
    "The area of a crime is the one police.uk gives (its LSOA); where the file gives none, "
    "it is the area the map point falls in.",
    "What is included: crimes and anti-social behaviour reported to the police and recorded "
    "in the month. Not included: crimes never reported, incidents recorded as not a crime, "
    "and some sensitive offences police.uk leaves off the map; Action Fraud cases and "
    "British Transport Police crimes come separately.",
    "Counts change when forces re-publish months, and a force may publish nothing for some "
    "months: those months are shown as having no data, never as zero.",
    "Crime categories changed over the years; a comparison across the change compares "
    "different things.",
)


class CrimeAreaRef(BaseModel):
    """The area a summary is for, and how its crimes are selected."""

    kind: AreaKind
    code: str | None = Field(default=None, description="GSS code, group reference or H3 cell.")
    name: str | None = None
    lsoa_generation: int | None = Field(
        default=None, description="LSOA generation the area's crimes are counted in (2011 or 2021)."
    )
    lsoa_count: int | None = Field(
        default=None, description="LSOAs the area holds (LSOA-based areas)."
    )
    outside_loaded_boundaries: bool = Field(
        default=False,
        description="The area's boundary is not loaded; crimes carry its police.uk code.",
    )


class CrimeMonth(BaseModel):
    """One month of a summary: counts where the force published data, else no data."""

    month: str
    has_data: bool
    total: int | None = Field(default=None, description="null when the force published no data.")
    by_type: dict[str, int] | None = None


class CrimeRate(BaseModel):
    """Crimes per 1,000 residents, with the population it divides by and its source."""

    residents: Adults | None
    rate_per_1000: RatePer1000 | None
    annualised_rate_per_1000: RatePer1000 | None
    population_source: str
    months: int


class CrimeDomainContext(BaseModel):
    """The area's Crime domain decile of the English Indices of Deprivation, for context."""

    edition: str | None
    decile: int | None = Field(default=None, description="The LSOA's decile, or the median LSOA's.")
    lsoa_deciles: dict[int, int] = Field(
        default_factory=dict, description="LSOAs in each decile (1 = most deprived 10%)."
    )
    note: str


class TopLocation(BaseModel):
    """A police.uk map point's description ("On or near ...") and its crimes."""

    location: str
    crimes: int


class YearOnYear(BaseModel):
    """The period against the same months a year earlier, with the exact test."""

    months_compared: list[str]
    current: int
    previous: int
    change: int
    change_share: Share | None
    rate_ratio: Ratio | None
    rate_ratio_low: Ratio | None
    rate_ratio_high: Ratio | None
    p_value: PValue | None
    more_than_chance: bool | None
    verdict: str
    method: str


class CrimeSummary(BaseModel):
    """Street-level crime for an area and months: counts, rate, context, places and trend."""

    area: CrimeAreaRef
    from_month: str
    to_month: str
    crime_type: str | None
    forces: list[str]
    types_covered: list[str] = Field(
        description="Crime types the source files carry for these months (others: no data)."
    )
    months_with_data: int
    months_without_data: list[str]
    total: int = Field(description="Crimes in the months with data.")
    by_month: list[CrimeMonth]
    by_type: dict[str, int]
    rate: CrimeRate
    crime_domain: CrimeDomainContext
    locations_available: bool
    top_locations: list[TopLocation]
    year_on_year: YearOnYear | None
    no_location_in_force: int = Field(
        description="Crimes of the area's forces in these months with no location (no area)."
    )
    caveats: list[str]
    attribution: str
