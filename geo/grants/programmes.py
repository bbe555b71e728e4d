"""Grant programmes as data: the validated specification officers write, and stored rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo.errors import NotFound
from geo.grants import rules as eligibility

MATCH_SOURCE_TYPES = (
    "charitable_trust",
    "business",
    "community_share_offer",
    "individual_donations",
    "crowdfunding",
    "lottery_distributor",
    "other_non_government",
)


class ProgrammeNotFound(NotFound):
    """No programme has the given id."""

    title = "Programme not found"


class ProgrammeSpec(BaseModel):
    """A programme as officers write it (YAML or JSON); validated before it is stored."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,63}$")
    name: str = Field(min_length=3, max_length=200)
    description: str = Field("", max_length=5000)
    funder_name: str = Field(min_length=2, max_length=200)
    funder_id: str = Field(min_length=3, max_length=100, description="360Giving org identifier")
    currency: str = Field("GBP", pattern=r"^[A-Z]{3}$")
    budget: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    opens_on: date
    closes_on: date
    edition_code: str = "IoD2025"
    geography_level: Literal["lsoa", "ward", "lad"] = "lsoa"
    rule: eligibility.Rule
    min_population_share: float = Field(0.5, ge=0, le=1)
    award_min: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    award_max: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    match_ratio: Decimal = Field(Decimal("1"), ge=0, max_digits=6, decimal_places=3)
    match_source_types: list[str] = Field(default_factory=lambda: list(MATCH_SOURCE_TYPES))
    is_example: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ProgrammeSpec:
        if self.closes_on < self.opens_on:
            raise ValueError("closes_on is before opens_on")
        if self.award_min > self.award_max:
            raise ValueError("award_min exceeds award_max")
        if self.award_max > self.budget:
            raise ValueError("award_max exceeds the budget")
        unknown = sorted(set(self.match_source_types) - set(MATCH_SOURCE_TYPES))
        if unknown:
            raise ValueError(
                f"unknown match source types {unknown}; use {list(MATCH_SOURCE_TYPES)}"
            )
        eligibility.validate_rule(self.rule)
        return self


class Programme(ProgrammeSpec):
    """A stored programme, with the money committed so far and its row version."""

    model_config = ConfigDict(extra="ignore")

    committed: Decimal = Decimal("0")
    version: int = 1

    def is_open(self, on: date) -> bool:
        """Whether applications are open on a date (both ends inclusive)."""
        return self.opens_on <= on <= self.closes_on

    @property
    def remaining(self) -> Decimal:
        """Budget not yet committed to approved applications."""
        return self.budget - self.committed
