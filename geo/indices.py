"""Deprivation index arithmetic: national percentiles and LAD summary measures.

The summary measures follow the English Indices of Deprivation 2019 technical report,
Appendix N ("summary measures for higher-level geographies"):

* **average rank**: population-weighted mean of the LSOA ranks, where for this purpose the
  most deprived LSOA is ranked N (the number of LSOAs nationally), i.e. ``N + 1 - rank``;
* **average score**: population-weighted mean of the LSOA scores;
* **extent**: population-weighted share of people in the most deprived 30% of LSOAs, with
  weight 1 for national percentiles 1-10 and a sliding weight from 0.95 (11th) down by
  0.9/19 a percentile to 0.05 (30th), 0 beyond;
* **local concentration**: population-weighted mean of the (reversed, as above) ranks of the
  LAD's most deprived LSOAs that hold exactly 10% of its population (the last LSOA counts in
  part);
* **proportion of LSOAs in the most deprived 10% nationally** (decile 1), unweighted.

For each measure LADs are ranked so that rank 1 is the most deprived, i.e. the highest value.
National percentiles use the same rule as the published deciles: ``ceil(rank * 100 / N)``
(the published deciles equal ``ceil(rank * 10 / N)`` for every LSOA in both editions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MEASURES: tuple[str, ...] = (
    "average_rank",
    "average_score",
    "extent",
    "local_concentration",
    "proportion_most_deprived_10pct",
)
POPULATION_WEIGHTED = {"average_rank", "average_score", "extent", "local_concentration"}
LOCAL_CONCENTRATION_SHARE = 0.10


def national_percentile(rank: pd.Series | np.ndarray, national_lsoa_count: int) -> np.ndarray:
    """Return the national percentile (1 = most deprived 1%) of LSOA ranks."""
    return np.ceil(np.asarray(rank, dtype="float64") * 100.0 / national_lsoa_count).astype(int)


def extent_weight(percentile: np.ndarray) -> np.ndarray:
    """Return the Appendix N extent weight for national percentiles."""
    percentile = np.asarray(percentile)
    sliding = 0.95 - (0.9 / 19.0) * (percentile - 11)
    return np.where(percentile <= 10, 1.0, np.where(percentile <= 30, sliding, 0.0))


def lad_summary_measures(
    lsoas: pd.DataFrame,
    national_lsoa_count: int,
    *,
    population_missing_reason: str | None,
    scores_missing_reason: str | None,
    ranking_missing_reason: str | None,
) -> pd.DataFrame:
    """Compute the five LAD summary measures of one domain from its LSOA values.

    Parameters
    ----------
    lsoas
        One row per LSOA with columns ``lad_code``, ``rank``, ``decile``, ``score`` (may be
        NaN) and ``population`` (the domain's denominator; may be NaN).
    national_lsoa_count
        N, the number of LSOAs the edition ranks nationally.
    population_missing_reason, scores_missing_reason
        Why population-weighted or score-based measures cannot be computed, or ``None``
        when they can. Such measures are reported as unavailable, never approximated.
    ranking_missing_reason
        Why LADs cannot be ranked against each other (for example only part of England is
        loaded), or ``None``.

    Returns
    -------
    pandas.DataFrame
        Columns ``lad_code``, ``measure``, ``value``, ``rank``, ``unavailable_reason``; one
        row per LAD and measure.
    """
    frame = lsoas.copy()
    n = national_lsoa_count
    frame["reversed_rank"] = n + 1 - frame["rank"]
    frame["extent_weight"] = extent_weight(national_percentile(frame["rank"], n))
    groups = frame.groupby("lad_code", sort=True)

    measures: dict[str, pd.Series] = {
        "proportion_most_deprived_10pct": groups["decile"].apply(lambda d: float((d == 1).mean())),
    }
    reasons: dict[str, str | None] = dict.fromkeys(MEASURES)
    if population_missing_reason is None:
        population = groups["population"].sum()
        measures["average_rank"] = _weighted_sum(frame, "reversed_rank") / population
        measures["extent"] = _weighted_sum(frame, "extent_weight") / population
        measures["local_concentration"] = _local_concentration(frame)
        if scores_missing_reason is None:
            measures["average_score"] = _weighted_sum(frame, "score") / population
        else:
            reasons["average_score"] = scores_missing_reason
    else:
        for name in POPULATION_WEIGHTED:
            reasons[name] = population_missing_reason
        if scores_missing_reason is not None:
            reasons["average_score"] = f"{scores_missing_reason}; {population_missing_reason}"

    rows: list[dict[str, object]] = []
    lad_codes = sorted(frame["lad_code"].unique())
    for name in MEASURES:
        if name not in measures:
            rows.extend(
                {
                    "lad_code": code,
                    "measure": name,
                    "value": None,
                    "rank": None,
                    "unavailable_reason": reasons[name],
                }
                for code in lad_codes
            )
            continue
        values = measures[name]
        ranks = values.rank(ascending=False, method="min")
        for code in lad_codes:
            rows.append(
                {
                    "lad_code": code,
                    "measure": name,
                    "value": float(values[code]),
                    "rank": None if ranking_missing_reason else int(ranks[code]),
                    "unavailable_reason": None,
                }
            )
    result = pd.DataFrame(
        rows, columns=["lad_code", "measure", "value", "rank", "unavailable_reason"]
    )
    result["rank"] = result["rank"].astype("Int64")
    return result


def _weighted_sum(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return per-LAD sums of ``column * population``."""
    return (frame[column] * frame["population"]).groupby(frame["lad_code"]).sum()


def _local_concentration(frame: pd.DataFrame) -> pd.Series:
    """Return per-LAD local concentration (see module docstring)."""
    ordered = frame.sort_values(["lad_code", "rank"])
    by_lad = ordered.groupby("lad_code")
    target = by_lad["population"].transform("sum") * LOCAL_CONCENTRATION_SHARE
    before = by_lad["population"].cumsum() - ordered["population"]
    counted = (target - before).clip(lower=0).combine(ordered["population"], min)
    weighted = (counted * ordered["reversed_rank"]).groupby(ordered["lad_code"]).sum()
    return weighted / by_lad["population"].sum().mul(LOCAL_CONCENTRATION_SHARE)
