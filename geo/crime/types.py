"""police.uk's crime categories, current and earlier, read from ``crime_types.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class CrimeType:
    """One police.uk crime category and the months it was used (None: still used / from start)."""

    name: str
    description: str
    first_month: str | None = None
    last_month: str | None = None

    @property
    def current(self) -> bool:
        """Whether police.uk still uses the category."""
        return self.last_month is None


@cache
def crime_types() -> tuple[CrimeType, ...]:
    """Return every police.uk crime category, in the order of the data file."""
    text = files("geo.crime").joinpath("crime_types.toml").read_text(encoding="utf-8")
    return tuple(
        CrimeType(
            name=entry["name"],
            description=entry["description"],
            first_month=entry.get("from"),
            last_month=entry.get("until"),
        )
        for entry in tomllib.loads(text)["crime_type"]
    )


@cache
def crime_type_names() -> frozenset[str]:
    """Return the names of every police.uk crime category."""
    return frozenset(t.name for t in crime_types())
