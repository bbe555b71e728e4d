"""The source manifest (``data/sources.toml``) as typed, validated models."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

OGL = "Open Government Licence v3.0"


class Domain(BaseModel):
    """One index or domain of an edition (IMD, Income, ..., IDACI)."""

    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    kind: Literal["index", "domain", "supplementary"]
    population_base: Literal["total", "working_age", "children_0_15", "aged_60_plus"]


class Edition(BaseModel):
    """An edition of a national deprivation index, tied to one LSOA and one LAD geography."""

    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    country: str
    publisher: str
    published: str
    lsoa_vintage: int
    lad_vintage: int
    ward_vintage: int | None = None
    national_lsoa_count: int
    # Districts the edition ranks nationally (the LAD geography's English districts).
    national_lad_count: int | None = None
    population_denominators: str | None = None
    is_current: bool = False
    domains: tuple[Domain, ...]


class _Dataset(BaseModel):
    """What every source file entry has: a name, a path and its provenance."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    publisher: str
    licence: str = OGL
    attribution: str | None = None
    attribution_text: str | None = None
    year: int | None = None


class BoundariesDataset(_Dataset):
    """A GeoJSON file of LSOA, ward or LAD polygons in EPSG:4326."""

    kind: Literal["boundaries"]
    level: Literal["lsoa", "ward", "lad"]
    vintage: int
    code: str
    label: str
    code_pattern: str


class LsoaLookupDataset(_Dataset):
    """A best-fit LSOA -> ward -> LAD lookup."""

    kind: Literal["lsoa_lookup"]
    lsoa_vintage: int
    ward_vintage: int
    lad_vintage: int
    columns: dict[str, str]


class MsoaLookupDataset(_Dataset):
    """An LSOA -> MSOA lookup."""

    kind: Literal["msoa_lookup"]
    lsoa_vintage: int
    columns: dict[str, str]


class RegionLookupDataset(_Dataset):
    """A LAD -> region lookup."""

    kind: Literal["region_lookup"]
    lad_vintage: int
    columns: dict[str, str]


class LsoaChangeDataset(_Dataset):
    """The LSOA 2011 -> 2021 lookup with ONS change codes."""

    kind: Literal["lsoa_change"]
    columns: dict[str, str]


class IndexValuesDataset(_Dataset):
    """An index file: per LSOA, score/rank/decile columns for some domains of an edition."""

    kind: Literal["index_values", "index_check"]
    edition: str
    lsoa: str
    lad: str | None = None
    values: dict[str, str]


class PublishedMeasureColumns(BaseModel):
    """The columns of one published LAD summary measure: its value and its rank among LADs."""

    model_config = ConfigDict(frozen=True)

    value: str
    rank: str
    # The published rounding (decimal places); a computed value agrees within half a unit.
    decimal_places: int


class PublishedLadSummariesDataset(_Dataset):
    """An edition's district summaries as published (long: one row per district and index).

    ``indices`` maps the file's index titles to domain codes; ``measures`` maps Platoons'
    measure names (``geo.indices.MEASURES``) to the value and rank columns.
    """

    kind: Literal["lad_summaries_published"]
    edition: str
    lad: str
    index: str
    indices: dict[str, str]
    measures: dict[str, PublishedMeasureColumns]


class PopulationDenominatorsDataset(_Dataset):
    """The population denominators an edition was computed with."""

    kind: Literal["population_denominators"]
    edition: str
    lsoa: str
    columns: dict[str, str]


class PopulationEstimateDataset(_Dataset):
    """ONS LSOA population estimates by single year of age."""

    kind: Literal["population_estimate"]
    lsoa_vintage: int
    reference_year: int
    lsoa: str
    total: str


class PostcodesDataset(_Dataset):
    """Postcode centroids with their LSOA and LAD."""

    kind: Literal["postcodes"]
    lsoa_vintage: int
    columns: dict[str, str]


Dataset = Annotated[
    BoundariesDataset
    | LsoaLookupDataset
    | MsoaLookupDataset
    | RegionLookupDataset
    | LsoaChangeDataset
    | IndexValuesDataset
    | PublishedLadSummariesDataset
    | PopulationDenominatorsDataset
    | PopulationEstimateDataset
    | PostcodesDataset,
    Field(discriminator="kind"),
]


class Manifest(BaseModel):
    """Everything Platoons loads: editions and source files."""

    model_config = ConfigDict(frozen=True)

    attribution: dict[str, str]
    edition: tuple[Edition, ...]
    dataset: tuple[Dataset, ...]

    def edition_by_code(self, code: str) -> Edition:
        """Return the edition with this code."""
        return next(e for e in self.edition if e.code == code)

    def datasets_of(self, kind: type[_Dataset]) -> list:
        """Return the datasets of one kind, in manifest order."""
        return [d for d in self.dataset if isinstance(d, kind)]

    def attribution_for(self, dataset: _Dataset) -> str:
        """Return the attribution statement a dataset must carry."""
        if dataset.attribution_text:
            return dataset.attribution_text
        template = self.attribution[dataset.attribution or "ogl"]
        return template.format(year=dataset.year)


@cache
def load_manifest() -> Manifest:
    """Read and validate the packaged ``sources.toml``."""
    text = files("data").joinpath("sources.toml").read_text(encoding="utf-8")
    return Manifest.model_validate(tomllib.loads(text))
