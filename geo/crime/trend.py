"""Year-on-year change in crime counts, with an exact test of whether it is more than chance.

Pure (no I/O). The model: the crimes of a period are a Poisson count with a rate for that
period. Comparing ``current`` crimes with ``previous`` crimes over periods of the same length
(the same calendar months a year apart), the question is whether the two rates differ.

The exact test is the conditional one (Przyborowski and Wilenski, 1940; the "C-test" of
Krishnamoorthy and Thomson, 2004): given the total ``n = current + previous``, the current count
is Binomial(n, p) with ``p = rate_current / (rate_current + rate_previous)``, and equal rates
mean ``p = 1/2``. ``scipy.stats.binomtest`` gives the exact two-sided p-value, and its
Clopper-Pearson interval for ``p`` turns into an exact interval for the rate ratio
``p / (1 - p)``. The test assumes independent events at a steady rate within each period; real
crime clusters (one offender, one series), which makes true uncertainty wider than this, so the
verdict is worded cautiously and small counts never make a claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

SIGNIFICANCE = 0.05
# Below this many crimes in both periods together, no change can be told from chance at 5%
# with any useful power; the verdict says so instead of quoting a p-value.
MIN_TOTAL = 10


@dataclass(frozen=True)
class YearOnYearTest:
    """The comparison of two equal-length periods' counts and its honest verdict."""

    current: int
    previous: int
    change: int
    change_share: float | None  # (current - previous) / previous
    rate_ratio: float | None  # current / previous
    rate_ratio_low: float | None  # exact 95% interval of the rate ratio
    rate_ratio_high: float | None
    p_value: float | None
    more_than_chance: bool | None
    verdict: str
    method: str


METHOD = (
    "exact conditional test of two Poisson counts over equal periods: current | total ~ "
    "Binomial(total, 1/2) under equal rates (scipy.stats.binomtest, two-sided); rate-ratio "
    "interval from the Clopper-Pearson interval of the proportion"
)


# The exact interval (root finding on the binomial distribution) takes 1.5-6 ms a call, more
# than the rest of a summary; the answer depends on the two counts alone, and the same pairs
# come back (an area's summary and pack, small areas' small counts), so answers are kept.
@lru_cache(maxsize=8192)
def compare_periods(current: int, previous: int) -> YearOnYearTest:
    """Compare two equal-length periods' crime counts with the exact conditional Poisson test.

    Parameters
    ----------
    current, previous
        Crimes in the recent period and in the same months a year earlier.

    Returns
    -------
    YearOnYearTest
        The change, the rate ratio with its exact 95% interval, the two-sided p-value, and a
        plain-words verdict (a change is called more than chance only at p < 0.05).
    """
    if current < 0 or previous < 0:
        raise ValueError("counts cannot be negative")
    total = current + previous
    change = current - previous
    share = change / previous if previous else None
    ratio = current / previous if previous else None
    if total == 0:
        return YearOnYearTest(
            current,
            previous,
            0,
            None,
            None,
            None,
            None,
            None,
            None,
            "No crimes recorded in either period: nothing to compare.",
            METHOD,
        )
    # Imported here, not at the top: scipy.stats costs about 70 MB of resident memory and a
    # second of start-up, paid by every server process although only the crime summary's
    # trend needs it (issue 20: server RSS after the tile benchmark).
    from scipy.stats import binomtest

    result = binomtest(current, total, 0.5, alternative="two-sided")
    interval = result.proportion_ci(confidence_level=1 - SIGNIFICANCE, method="exact")
    low = interval.low / (1 - interval.low) if interval.low < 1 else None
    high = interval.high / (1 - interval.high) if interval.high < 1 else None
    p_value = float(result.pvalue)
    more: bool | None
    if p_value < SIGNIFICANCE:
        more = True
        verdict = _direction_verdict(current, previous, p_value)
    elif total < MIN_TOTAL:
        more = None
        verdict = f"Too few crimes ({current} against {previous}) to tell a change from chance."
    elif current == previous:
        more = False
        verdict = f"Unchanged at {current}."
    else:
        more = False
        verdict = (
            f"{_changed_words(current, previous)}, but a change this size is within what chance "
            f"alone often gives (p = {p_value:.2f}): not evidence of a real change."
        )
    return YearOnYearTest(
        current=current,
        previous=previous,
        change=change,
        change_share=share,
        rate_ratio=ratio,
        rate_ratio_low=low,
        rate_ratio_high=high,
        p_value=p_value,
        more_than_chance=more,
        verdict=verdict,
        method=METHOD,
    )


def _changed_words(current: int, previous: int) -> str:
    """'Up from 40 to 52 (+30%)', 'Down ...' or 'Unchanged at 40'."""
    if current == previous:
        return f"Unchanged at {current}"
    direction = "Up" if current > previous else "Down"
    share = f" ({(current - previous) / previous:+.0%})" if previous else ""
    return f"{direction} from {previous} to {current}{share}"


def _direction_verdict(current: int, previous: int, p_value: float) -> str:
    """The verdict for a change unlikely to be chance alone."""
    return (
        f"{_changed_words(current, previous)}: more than chance alone would usually give "
        f"({_p_text(p_value)}), though one series of offences can explain a change this size."
    )


def _p_text(p_value: float) -> str:
    """A p-value as people read it: 'p < 0.001' or 'p = 0.012'."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
