"""What the foundation load holds between reading its files and writing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

StepCallback = Callable[[str], None]


@dataclass
class Provenance:
    """Where one dataset came from, as recorded in ``dataset_load``."""

    dataset: str
    source_file: str
    sha256: str
    publisher: str
    licence: str
    attribution: str
    row_count: int
    notes: dict = field(default_factory=dict)


@dataclass
class Staged:
    """Everything read and validated from the source files, ready to write."""

    boundaries: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)
    lsoa_lookups: dict[int, pd.DataFrame] = field(default_factory=dict)
    msoa: dict[int, pd.DataFrame] = field(default_factory=dict)
    regions: dict[int, pd.DataFrame] = field(default_factory=dict)
    lsoa_change: pd.DataFrame | None = None
    index_values: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_lads: dict[str, pd.DataFrame] = field(default_factory=dict)
    index_checks: list[tuple[str, pd.DataFrame, str]] = field(default_factory=list)
    # Published district summaries per edition: lad, domain, measure, value, rank, sort_order.
    published_lad: dict[str, pd.DataFrame] = field(default_factory=dict)
    denominators: dict[str, pd.DataFrame] = field(default_factory=dict)
    population: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    postcodes: pd.DataFrame | None = None
    provenance: list[Provenance] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
