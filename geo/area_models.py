"""Typed results of the domain queries (serialised as-is by the web layer)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from geo.figures import LAD_MEASURE_FIGURES

OGL_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(English Indices of Deprivation, MHCLG). Source: Office for National Statistics licensed "
    "under the Open Government Licence v3.0. Contains OS data © Crown copyright and database "
    "right 2011-2024."
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EditionRef(_Model):
    """The index edition an answer used."""

    code: str = Field(examples=["IoD2025"])
    title: str
    country: str
    published: str
    lsoa_vintage: int = Field(description="LSOA geography (2011 or 2021) the edition ranks.")
    lad_vintage: int
    national_lsoa_count: int
    is_current: bool


class AreaRef(_Model):
    """A named area of a given geography vintage."""

    code: str
    name: str
    vintage: int


class IndexValue(_Model):
    """One index or domain value of an LSOA. Rank 1 and decile 1 are the most deprived."""

    domain: str = Field(examples=["imd"])
    title: str
    kind: Literal["index", "domain", "supplementary"]
    score: float | None = Field(
        description="As published, not rounded again (IoD2025 scores have 3 decimals); null "
        "where the edition's source files carry no score."
    )
    rank: int
    decile: int


class PopulationFigures(_Model):
    """Population of an LSOA from the loaded sources (null where not loaded)."""

    denominator_total: int | None = Field(
        None, description="The edition's own population denominator (IoD2019: mid-2015)."
    )
    denominator_working_age: int | None = None
    estimate_year: int | None = None
    estimate_total: int | None = None
    estimate_adults_18_plus: int | None = None


class LsoaChange(_Model):
    """How an LSOA maps onto the other LSOA generation (ONS change code U, S, M or X)."""

    code: str
    vintage: int
    change: Literal["U", "S", "M", "X"]


class PointLookup(_Model):
    """The LSOA and LAD containing a point, with every index value of the edition."""

    edition: EditionRef
    lon: float
    lat: float
    lsoa: AreaRef
    lad: AreaRef
    ward: AreaRef | None
    indices: list[IndexValue]
    attribution: str = OGL_ATTRIBUTION


class LsoaArea(_Model):
    """An LSOA's deprivation profile in one edition."""

    type: Literal["lsoa"] = "lsoa"
    edition: EditionRef
    lsoa: AreaRef
    lad: AreaRef
    ward: AreaRef | None
    msoa_code: str | None
    indices: list[IndexValue]
    population: PopulationFigures
    other_generation: list[LsoaChange] = Field(
        description="The same place in the other LSOA generation (2011 <-> 2021)."
    )
    attribution: str = OGL_ATTRIBUTION


MeasureSource = Literal["computed", "published"]


class SummaryMeasure(_Model):
    """One LAD summary measure of one domain (IoD technical report, Appendix N).

    The value and the rank each say where they come from: ``computed`` by Platoons from the
    LSOA data where its inputs are loaded, else ``published`` (the edition's own district
    summaries); they may differ (a partial extract has computed values but published ranks).
    """

    domain: str
    measure: str = Field(examples=["average_rank", "extent"])
    value: float | None = Field(
        description="Given to the decimals MHCLG publishes the measure in: average rank and "
        "local concentration 2, average score 3, extent and proportion 4 (README, Figures)."
    )
    source: MeasureSource | None = Field(
        default=None, description="Where the value comes from; null when it is unavailable."
    )
    rank: int | None = Field(description="Among all LADs of the edition; 1 = most deprived.")
    rank_source: MeasureSource | None = Field(
        default=None, description="Where the rank comes from; null when it is unavailable."
    )
    unavailable_reason: str | None = None
    rank_unavailable_reason: str | None = None

    @field_serializer("value", when_used="json-unless-none")
    def _shown(self, value: float) -> float:
        """The value to its measure's published decimals (geo.figures.LAD_MEASURE_FIGURES)."""
        figure = LAD_MEASURE_FIGURES.get(self.measure)
        return value if figure is None else figure.round(value)


class LadArea(_Model):
    """A local authority district with its deprivation summary measures."""

    type: Literal["lad"] = "lad"
    edition: EditionRef
    lad: AreaRef
    region_code: str | None
    region_name: str | None
    lsoa_count: int
    summary_measures: list[SummaryMeasure]
    attribution: str = OGL_ATTRIBUTION


class EditionStatus(_Model):
    """How much of an edition is loaded."""

    code: str
    lsoas_loaded: int
    national_lsoa_count: int


class Health(_Model):
    """Service health: database reachable and editions loaded."""

    status: Literal["ok", "no-data"]
    database: Literal["ok"]
    postgis_version: str
    data_version: int
    editions: list[EditionStatus]
