"""The README's rounding rules written again, apart from geo.figures, for tests to check it by.

A figure is rounded half away from zero on its 15-significant-digit decimal form (what
PostgreSQL's ``round(x::numeric, n)`` does with a double precision ``x``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# Decimal places of each kind of figure, as the README's "Figures" paragraph gives them.
ADULTS, SHARE, AREA_KM2, AREA_HA, RATE_PER_1000, RATIO, P_VALUE = 1, 4, 2, 0, 1, 2, 4
RATING, DISTANCE_M, COORDINATE = 1, 0, 6
LAD_MEASURE_PLACES = {
    "average_rank": 2,
    "average_score": 3,
    "extent": 4,
    "local_concentration": 2,
    "proportion_most_deprived_10pct": 4,
}


def rounded(value: Any, places: int) -> float:
    """``value`` rounded half away from zero to ``places`` decimals."""
    exact = Decimal(f"{float(value):.15g}")
    return float(exact.quantize(Decimal(10) ** -places, rounding=ROUND_HALF_UP))


def decimals(value: float) -> int:
    """How many decimals a number has as JSON writes it (0.25 -> 2, 3.0 -> 0)."""
    text = repr(float(value))
    assert "e" not in text, text
    fraction = text.split(".")[1].rstrip("0")
    return len(fraction)


def assert_shown(got: Any, full: Any, places: int) -> None:
    """``got`` is ``full`` rounded to ``places`` decimals, and has no more decimals than that."""
    assert isinstance(got, float | int) and not isinstance(got, bool), got
    assert decimals(got) <= places, (got, places)
    assert got == rounded(full, places), (got, full, places)
