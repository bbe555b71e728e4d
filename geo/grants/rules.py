"""Grant eligibility rules: a small language composed with all/any/not, and its evaluation.

Rules come in two kinds:

* **LSOA rules** test one small area: ``index`` thresholds on a domain's decile, national
  percentile or rank (``{"kind": "index", "domain": "income", "decile_at_most": 2}``), and
  ``all``/``any``/``not`` of LSOA rules.
* **Area rules** test an area made of (parts of) LSOAs: ``population_share`` (at least a share
  of the area's residents live in LSOAs passing an LSOA rule), ``lad_measure`` (an IoD summary
  measure of the area's principal district), and ``all``/``any``/``not`` of area rules.

A programme's rule is evaluated on an area. Where an LSOA rule stands where an area rule is
expected, it is lifted to ``population_share(rule, at_least=programme.min_population_share)``:
for one LSOA (a map click) that is simply the LSOA passing or failing; for a drawn polygon it is
the share of residents, weighted by the part of each LSOA inside the polygon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo.errors import InvalidInput
from geo.figures import LAD_MEASURE_FIGURES

DOMAIN_TITLES = {
    "imd": "the Index of Multiple Deprivation",
    "income": "the Income domain",
    "employment": "the Employment domain",
    "education": "the Education, Skills and Training domain",
    "health": "the Health Deprivation and Disability domain",
    "crime": "the Crime domain",
    "barriers": "the Barriers to Housing and Services domain",
    "living_environment": "the Living Environment domain",
    "idaci": "IDACI (income deprivation affecting children)",
    "idaopi": "IDAOPI (income deprivation affecting older people)",
}
LAD_MEASURE_NAMES = Literal[
    "average_rank",
    "average_score",
    "extent",
    "local_concentration",
    "proportion_most_deprived_10pct",
]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IndexThreshold(_Rule):
    """An LSOA is at or below a decile, national percentile or rank of one domain."""

    kind: Literal["index"]
    domain: str = "imd"
    decile_at_most: int | None = Field(None, ge=1, le=10)
    percentile_at_most: int | None = Field(None, ge=1, le=100)
    rank_at_most: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_threshold(self) -> IndexThreshold:
        given = [v for v in (self.decile_at_most, self.percentile_at_most, self.rank_at_most) if v]
        if len(given) != 1:
            raise ValueError(
                "an index rule needs exactly one of decile_at_most, "
                "percentile_at_most, rank_at_most"
            )
        if self.domain not in DOMAIN_TITLES:
            raise ValueError(f"unknown domain {self.domain!r}; one of {sorted(DOMAIN_TITLES)}")
        return self


class PopulationShare(_Rule):
    """At least a share of the area's residents live in LSOAs passing an LSOA rule."""

    kind: Literal["population_share"]
    of: LsoaRule
    at_least: float = Field(ge=0, le=1)


class LadMeasure(_Rule):
    """An IoD summary measure of the area's principal district meets a threshold."""

    kind: Literal["lad_measure"]
    domain: str = "imd"
    measure: LAD_MEASURE_NAMES
    at_least: float | None = None
    rank_at_most: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_threshold(self) -> LadMeasure:
        if (self.at_least is None) == (self.rank_at_most is None):
            raise ValueError("a lad_measure rule needs exactly one of at_least, rank_at_most")
        return self


class AllOf(_Rule):
    """Every rule holds."""

    kind: Literal["all"]
    rules: list[Rule] = Field(min_length=1)


class AnyOf(_Rule):
    """At least one rule holds."""

    kind: Literal["any"]
    rules: list[Rule] = Field(min_length=1)


class Not(_Rule):
    """The rule does not hold."""

    kind: Literal["not"]
    rule: Rule


Rule = Annotated[
    IndexThreshold | PopulationShare | LadMeasure | AllOf | AnyOf | Not,
    Field(discriminator="kind"),
]
LsoaRule = Rule  # validated as LSOA-level by is_lsoa_rule() where required
RuleType = IndexThreshold | PopulationShare | LadMeasure | AllOf | AnyOf | Not
for _model in (PopulationShare, AllOf, AnyOf, Not):
    _model.model_rebuild()


def is_lsoa_rule(rule: RuleType) -> bool:
    """True when the rule tests single LSOAs (index thresholds and their combinations)."""
    if isinstance(rule, IndexThreshold):
        return True
    if isinstance(rule, AllOf | AnyOf):
        return all(is_lsoa_rule(r) for r in rule.rules)
    if isinstance(rule, Not):
        return is_lsoa_rule(rule.rule)
    return False


def validate_rule(rule: RuleType) -> None:
    """Check the rule's structure: ``population_share`` must wrap an LSOA rule."""
    if isinstance(rule, PopulationShare):
        if not is_lsoa_rule(rule.of):
            raise InvalidInput(
                "population_share.of must be an LSOA rule (index thresholds)", parameter="rule"
            )
        validate_rule(rule.of)
    elif isinstance(rule, AllOf | AnyOf):
        for r in rule.rules:
            validate_rule(r)
    elif isinstance(rule, Not):
        validate_rule(rule.rule)


# ---------------------------------------------------------------------------------------------
# Facts an evaluation needs


@dataclass(frozen=True)
class LsoaFacts:
    """One LSOA of an area: its values and how much of it (and its residents) is in the area."""

    code: str
    name: str
    lad_code: str
    residents: float
    fraction_in_area: float
    ranks: dict[str, int]
    deciles: dict[str, int]

    @property
    def residents_in_area(self) -> float:
        """Residents counted for the area (area-weighted for partly covered LSOAs)."""
        return self.residents * self.fraction_in_area


@dataclass(frozen=True)
class AreaFacts:
    """An area to assess: its LSOAs and the summary measures of the districts it touches."""

    lsoas: tuple[LsoaFacts, ...]
    national_lsoa_count: int
    # (lad_code, domain, measure) -> (value, rank); None where unavailable.
    lad_measures: dict[tuple[str, str, str], tuple[float | None, int | None]] = field(
        default_factory=dict
    )

    @property
    def residents(self) -> float:
        """Residents of the area."""
        return sum(lsoa.residents_in_area for lsoa in self.lsoas)

    @property
    def principal_lad(self) -> str:
        """The district holding most of the area's residents."""
        by_lad: dict[str, float] = {}
        for lsoa in self.lsoas:
            by_lad[lsoa.lad_code] = by_lad.get(lsoa.lad_code, 0.0) + lsoa.residents_in_area
        return max(sorted(by_lad), key=lambda code: by_lad[code])


# ---------------------------------------------------------------------------------------------
# Evaluation


class RuleResult(BaseModel):
    """How one rule fared on the area: what was required, what was found, pass or fail."""

    model_config = ConfigDict(frozen=True)

    rule: str
    passed: bool
    actual: str
    children: list[RuleResult] = Field(default_factory=list)


def describe(rule: RuleType) -> str:
    """A plain-English description of a rule ("in the 10% most deprived nationally on ...")."""
    if isinstance(rule, IndexThreshold):
        where = DOMAIN_TITLES[rule.domain]
        if rule.decile_at_most is not None:
            return f"in the {rule.decile_at_most * 10}% most deprived LSOAs nationally on {where}"
        if rule.percentile_at_most is not None:
            return f"in the {rule.percentile_at_most}% most deprived LSOAs nationally on {where}"
        return f"ranked {rule.rank_at_most:,} or more deprived nationally on {where}"
    if isinstance(rule, PopulationShare):
        return f"at least {rule.at_least:.0%} of residents live in LSOAs {describe(rule.of)}"
    if isinstance(rule, LadMeasure):
        name = rule.measure.replace("_", " ")
        if rule.at_least is not None:
            return f"the district's {rule.domain.upper()} {name} is at least {rule.at_least:g}"
        return (
            f"the district ranks in the {rule.rank_at_most} most deprived on "
            f"{rule.domain.upper()} {name}"
        )
    if isinstance(rule, AllOf):
        return "all of: " + "; ".join(describe(r) for r in rule.rules)
    if isinstance(rule, AnyOf):
        return "any of: " + "; ".join(describe(r) for r in rule.rules)
    assert isinstance(rule, Not)
    return f"not ({describe(rule.rule)})"


def lsoa_passes(rule: RuleType, lsoa: LsoaFacts, national_lsoa_count: int) -> bool:
    """Whether one LSOA passes an LSOA rule."""
    if isinstance(rule, IndexThreshold):
        if rule.domain not in lsoa.ranks:
            return False
        if rule.decile_at_most is not None:
            return lsoa.deciles[rule.domain] <= rule.decile_at_most
        rank = lsoa.ranks[rule.domain]
        if rule.percentile_at_most is not None:
            return math.ceil(rank * 100 / national_lsoa_count) <= rule.percentile_at_most
        assert rule.rank_at_most is not None
        return rank <= rule.rank_at_most
    if isinstance(rule, AllOf):
        return all(lsoa_passes(r, lsoa, national_lsoa_count) for r in rule.rules)
    if isinstance(rule, AnyOf):
        return any(lsoa_passes(r, lsoa, national_lsoa_count) for r in rule.rules)
    if isinstance(rule, Not):
        return not lsoa_passes(rule.rule, lsoa, national_lsoa_count)
    raise InvalidInput(f"{rule.kind} is not an LSOA rule", parameter="rule")


def evaluate(rule: RuleType, area: AreaFacts, min_population_share: float) -> RuleResult:
    """Evaluate a programme's rule on an area, lifting LSOA rules to population shares."""
    if is_lsoa_rule(rule):
        return _population_share(
            PopulationShare(kind="population_share", of=rule, at_least=min_population_share), area
        )
    if isinstance(rule, PopulationShare):
        return _population_share(rule, area)
    if isinstance(rule, LadMeasure):
        return _lad_measure(rule, area)
    if isinstance(rule, AllOf | AnyOf):
        children = [evaluate(r, area, min_population_share) for r in rule.rules]
        passed = (all if isinstance(rule, AllOf) else any)(c.passed for c in children)
        met = sum(c.passed for c in children)
        return RuleResult(
            rule=describe(rule),
            passed=passed,
            actual=f"{met} of {len(children)} conditions met",
            children=children,
        )
    assert isinstance(rule, Not)
    child = evaluate(rule.rule, area, min_population_share)
    return RuleResult(
        rule=describe(rule), passed=not child.passed, actual=child.actual, children=[child]
    )


def qualifying_lsoas(rule: RuleType, area: AreaFacts) -> list[str]:
    """Codes of the area's LSOAs passing the LSOA parts of a rule (for maps and answers)."""
    lsoa_rules = _lsoa_subrules(rule)
    return [
        lsoa.code
        for lsoa in area.lsoas
        if lsoa_rules and all(lsoa_passes(r, lsoa, area.national_lsoa_count) for r in lsoa_rules)
    ]


def _lsoa_subrules(rule: RuleType) -> list[RuleType]:
    """The maximal LSOA-level parts of a rule (outside any ``not``)."""
    if is_lsoa_rule(rule):
        return [rule]
    if isinstance(rule, PopulationShare):
        return [rule.of]
    if isinstance(rule, AllOf | AnyOf):
        return [sub for r in rule.rules for sub in _lsoa_subrules(r)]
    return []


def _population_share(rule: PopulationShare, area: AreaFacts) -> RuleResult:
    total = area.residents
    passing = [lsoa for lsoa in area.lsoas if lsoa_passes(rule.of, lsoa, area.national_lsoa_count)]
    share = sum(lsoa.residents_in_area for lsoa in passing) / total if total > 0 else 0.0
    # Compare on rounded shares so that 0.5 of residents "at least 50%" is not lost to
    # floating-point noise from area weighting.
    passed = round(share, 9) >= rule.at_least
    if len(area.lsoas) == 1 and area.lsoas[0].fraction_in_area >= 1.0:
        lsoa = area.lsoas[0]
        verb = "is" if passing else "is not"
        actual = (
            f"{lsoa.name} ({lsoa.code}) {verb} {describe(rule.of)} "
            f"({_values(rule.of, lsoa, area.national_lsoa_count)})"
        )
        return RuleResult(rule=describe(rule.of), passed=passed, actual=actual)
    actual = (
        f"{len(passing)} of {len(area.lsoas)} LSOAs ({share:.0%} of residents) are "
        f"{describe(rule.of)}"
    )
    return RuleResult(rule=describe(rule), passed=passed, actual=actual)


def _values(rule: RuleType, lsoa: LsoaFacts, national_lsoa_count: int) -> str:
    """The LSOA's values that an LSOA rule looks at ("IMD decile 2, income rank 3,260")."""
    if isinstance(rule, IndexThreshold):
        name = "IMD" if rule.domain == "imd" else rule.domain.replace("_", " ")
        if rule.domain not in lsoa.ranks:
            return f"no {name} value"
        rank = lsoa.ranks[rule.domain]
        if rule.decile_at_most is not None:
            return f"{name} decile {lsoa.deciles[rule.domain]}"
        if rule.percentile_at_most is not None:
            return f"{name} percentile {math.ceil(rank * 100 / national_lsoa_count)}"
        return f"{name} rank {rank:,}"
    if isinstance(rule, AllOf | AnyOf):
        return ", ".join(_values(r, lsoa, national_lsoa_count) for r in rule.rules)
    if isinstance(rule, Not):
        return _values(rule.rule, lsoa, national_lsoa_count)
    return ""


def _lad_measure(rule: LadMeasure, area: AreaFacts) -> RuleResult:
    lad = area.principal_lad
    value, rank = area.lad_measures.get((lad, rule.domain, rule.measure), (None, None))
    observed = value if rule.at_least is not None else rank
    if observed is None:
        return RuleResult(
            rule=describe(rule),
            passed=False,
            actual=f"{lad}: {rule.measure.replace('_', ' ')} unavailable for this edition",
        )
    if rule.at_least is not None:
        passed = observed >= rule.at_least
        shown = LAD_MEASURE_FIGURES[rule.measure].text(observed)
        actual = f"{lad}: {rule.measure.replace('_', ' ')} = {shown}"
    else:
        assert rule.rank_at_most is not None
        passed = observed <= rule.rank_at_most
        actual = f"{lad}: ranked {int(observed)}"
    return RuleResult(rule=describe(rule), passed=passed, actual=actual)


def explanation(result: RuleResult) -> str:
    """A one-line answer: "Eligible: 3 of 4 LSOAs (81% of residents) are in the 10% ..."."""
    verdict = "Eligible" if result.passed else "Not eligible"
    if result.passed or not result.children:
        return f"{verdict}: {_finding(result)}"
    # The first unmet condition explains a refusal; a failed `not` has no unmet child.
    failing = next((c for c in result.children if not c.passed), result)
    return f"{verdict}: {_finding(failing)}"


def _finding(result: RuleResult) -> str:
    """What was found, followed by what was needed when the finding does not already say."""
    if result.passed or result.rule in result.actual:
        return result.actual
    return f"{result.actual} (needs {result.rule})"
