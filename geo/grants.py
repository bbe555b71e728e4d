"""Neighbourhood grant programmes and their eligibility checks.

Programmes are data: a validated specification (YAML/JSON through the CLI or the officer API)
stored in ``grant_programme``. An eligibility check resolves the place to the area each
programme assesses (``geo.places``), evaluates the programme's rule (``geo.eligibility``) and
returns every rule's result with the area's actual values and a one-line explanation.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo import audit, eligibility, places
from geo.areas import find_edition
from geo.errors import InvalidInput, NotFound
from geo.sqlfiles import read_sql

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


class ProgrammeRef(BaseModel):
    """A programme as named in an answer."""

    id: str
    name: str
    is_example: bool
    open: bool
    edition: str
    geography_level: str


class LsoaVerdict(BaseModel):
    """One LSOA of the assessed area and whether it qualifies."""

    code: str
    name: str
    lad_code: str
    qualifies: bool
    fraction_in_area: float
    residents_in_area: float
    imd_decile: int | None


class EligibilityAnswer(BaseModel):
    """Whether an area is eligible for one programme, and why."""

    programme: ProgrammeRef
    eligible: bool
    explanation: str
    rules: eligibility.RuleResult
    area: places.AssessedArea
    qualifying_lsoas: list[str]
    lsoas: list[LsoaVerdict]


async def save_programme(conn: AsyncConnection, spec: ProgrammeSpec, actor: str) -> Programme:
    """Insert or update a programme from its specification, audited (committed money is kept).

    Raises
    ------
    InvalidInput
        If the edition is not loaded, or the new budget is below what is already committed.
    """
    await find_edition(conn, spec.edition_code)
    values = spec.model_dump()
    values["rule"] = Jsonb(spec.rule.model_dump(mode="json", exclude_none=True))
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "programme_get.sql") + " FOR UPDATE", {"id": spec.id})
        before = await cur.fetchone()
        await cur.execute(read_sql("geo", "programme_upsert.sql"), values)
        row = await cur.fetchone()
        if row is None:
            raise InvalidInput(
                f"the budget of {spec.id} cannot be cut below the amount already committed",
                parameter="budget",
            )
        saved = Programme.model_validate(row)
        await audit.record(
            conn,
            actor,
            "programme.save",
            "grant_programme",
            saved.id,
            None if before is None else Programme.model_validate(before).model_dump(mode="json"),
            saved.model_dump(mode="json"),
        )
    return saved


async def get_programme(conn: AsyncConnection, programme_id: str) -> Programme:
    """Return one programme."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "programme_get.sql"), {"id": programme_id})
        row = await cur.fetchone()
    if row is None:
        raise ProgrammeNotFound(f"no grant programme {programme_id!r}", parameter="programme")
    return Programme.model_validate(row)


async def list_programmes(conn: AsyncConnection, open_on: date | None = None) -> list[Programme]:
    """Return every programme, or those open on a date."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "programme_list.sql"), {"open_on": open_on})
        rows = await cur.fetchall()
    return [Programme.model_validate(r) for r in rows]


async def check_eligibility(
    conn: AsyncConnection, place: places.Place, programme_id: str | None, today: date
) -> list[EligibilityAnswer]:
    """Check a place against one programme, or against every programme open ``today``."""
    if programme_id is not None:
        programmes = [await get_programme(conn, programme_id)]
    else:
        programmes = await list_programmes(conn, open_on=today)
    answers = []
    resolved: dict[tuple[str, str], tuple[places.AssessedArea, eligibility.AreaFacts]] = {}
    for programme in programmes:
        key = (programme.edition_code, programme.geography_level)
        if key not in resolved:
            edition = await find_edition(conn, programme.edition_code)
            area, facts = await places.resolve(conn, place, edition, programme.geography_level)
            if _uses_lad_measures(programme.rule):
                facts = await places.with_lad_measures(conn, facts, edition)
            resolved[key] = (area, facts)
        area, facts = resolved[key]
        answers.append(_answer(programme, area, facts, today))
    return answers


def _answer(
    programme: Programme, area: places.AssessedArea, facts: eligibility.AreaFacts, today: date
) -> EligibilityAnswer:
    """Evaluate one programme on resolved facts."""
    result = eligibility.evaluate(programme.rule, facts, programme.min_population_share)
    qualifying = set(eligibility.qualifying_lsoas(programme.rule, facts))
    return EligibilityAnswer(
        programme=ProgrammeRef(
            id=programme.id,
            name=programme.name,
            is_example=programme.is_example,
            open=programme.is_open(today),
            edition=programme.edition_code,
            geography_level=programme.geography_level,
        ),
        eligible=result.passed,
        explanation=eligibility.explanation(result),
        rules=result,
        area=area,
        qualifying_lsoas=sorted(qualifying),
        lsoas=[
            LsoaVerdict(
                code=lsoa.code,
                name=lsoa.name,
                lad_code=lsoa.lad_code,
                qualifies=lsoa.code in qualifying,
                fraction_in_area=round(lsoa.fraction_in_area, 6),
                residents_in_area=round(lsoa.residents_in_area, 1),
                imd_decile=lsoa.deciles.get("imd"),
            )
            for lsoa in facts.lsoas
        ],
    )


def _uses_lad_measures(rule: Any) -> bool:
    """Whether a rule needs district summary measures."""
    if isinstance(rule, eligibility.LadMeasure):
        return True
    if isinstance(rule, eligibility.AllOf | eligibility.AnyOf):
        return any(_uses_lad_measures(r) for r in rule.rules)
    if isinstance(rule, eligibility.Not):
        return _uses_lad_measures(rule.rule)
    return False
