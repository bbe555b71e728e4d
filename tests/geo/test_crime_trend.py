"""The year-on-year test: exact conditional Poisson comparison, and its verdicts."""

from __future__ import annotations

import pytest
from scipy.stats import binom

from geo.crime.trend import SIGNIFICANCE, compare_periods


def test_p_value_is_the_exact_two_sided_binomial_tail() -> None:
    # 0 against 6: P(X = 0) + P(X = 6) for X ~ Binomial(6, 1/2) = 2 / 64.
    assert compare_periods(0, 6).p_value == pytest.approx(2 / 64)
    # 30 against 18: twice the upper tail P(X >= 30), X ~ Binomial(48, 1/2).
    assert compare_periods(30, 18).p_value == pytest.approx(2 * binom.sf(29, 48, 0.5))


@pytest.mark.parametrize(("current", "previous"), [(52, 40), (40, 52), (7, 3), (120, 80)])
def test_the_test_is_symmetric_in_the_two_periods(current: int, previous: int) -> None:
    one, other = compare_periods(current, previous), compare_periods(previous, current)
    assert one.p_value == pytest.approx(other.p_value)
    assert one.more_than_chance == other.more_than_chance


def test_noise_is_not_called_a_change() -> None:
    result = compare_periods(52, 40)  # +30%, p = 0.25
    assert result.more_than_chance is False and result.p_value is not None
    assert result.p_value > SIGNIFICANCE
    assert "not evidence of a real change" in result.verdict
    assert result.rate_ratio_low is not None and result.rate_ratio_high is not None
    assert result.rate_ratio_low < 1 < result.rate_ratio_high


def test_a_doubling_is_more_than_chance() -> None:
    result = compare_periods(80, 40)
    assert result.more_than_chance is True and result.change == 40
    assert result.rate_ratio == 2.0
    assert result.rate_ratio_low is not None and result.rate_ratio_low > 1
    assert result.verdict.startswith("Up from 40 to 80 (+100%)")


def test_small_counts_make_no_claim() -> None:
    result = compare_periods(3, 1)
    assert result.more_than_chance is None and "Too few crimes" in result.verdict
    empty = compare_periods(0, 0)
    assert empty.p_value is None and empty.more_than_chance is None


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        compare_periods(-1, 3)
