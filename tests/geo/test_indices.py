"""LAD summary measures equal values computed independently from the source CSVs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo.indices import extent_weight, lad_summary_measures, national_percentile
from tests.utils import figures, sources

N_2019 = 32844
LAD = "Local Authority District code (2019)"
# File 2 column positions of each domain's rank; File 6 population column for its weights.
DOMAIN_RANK_COLUMN = {"imd": 4, "income": 6, "employment": 8, "living_environment": 18}
DOMAIN_POPULATION_COLUMN = {"imd": 4, "income": 4, "employment": 8, "living_environment": 4}


def independent_measures(domain: str) -> pd.DataFrame:
    """Compute the Appendix N measures with plain loops over the CSV rows."""
    file_2 = sources.csv(sources.FILE_2)
    file_6 = sources.csv(sources.FILE_6).set_index("LSOA code (2011)")
    rows = []
    for lad, group in file_2.groupby(LAD):
        ranks = group.iloc[:, DOMAIN_RANK_COLUMN[domain]].tolist()
        deciles = group.iloc[:, DOMAIN_RANK_COLUMN[domain] + 1].tolist()
        pops = [
            file_6.loc[c].iloc[DOMAIN_POPULATION_COLUMN[domain] - 1]
            for c in group["LSOA code (2011)"]
        ]
        total = sum(pops)
        average_rank = sum(p * (N_2019 + 1 - r) for p, r in zip(pops, ranks, strict=True)) / total
        extent = 0.0
        for p, r in zip(pops, ranks, strict=True):
            percentile = math.ceil(r * 100 / N_2019)
            if percentile <= 10:
                weight = 1.0
            elif percentile <= 30:
                weight = 0.95 - (0.95 - 0.05) / 19 * (percentile - 11)
            else:
                weight = 0.0
            extent += p * weight
        remaining, weighted = 0.1 * total, 0.0
        for r, p in sorted(zip(ranks, pops, strict=True)):
            take = min(p, remaining)
            weighted += take * (N_2019 + 1 - r)
            remaining -= take
            if remaining <= 0:
                break
        rows.append(
            {
                "lad": lad,
                "average_rank": average_rank,
                "extent": extent / total,
                "local_concentration": weighted / (0.1 * total),
                "proportion_most_deprived_10pct": sum(d == 1 for d in deciles) / len(deciles),
            }
        )
    return pd.DataFrame(rows).set_index("lad")


@pytest.mark.parametrize("domain", sorted(DOMAIN_RANK_COLUMN))
def test_iod2019_lad_measures_served_equal_an_independent_computation(
    client: TestClient, domain: str
) -> None:
    expected = independent_measures(domain)
    for lad, measures in expected.iterrows():
        body = client.get(f"/areas/{lad}", params={"edition": "IoD2019"}).json()
        served = {m["measure"]: m for m in body["summary_measures"] if m["domain"] == domain}
        for name, value in measures.items():
            # To the decimals MHCLG publishes the measure in (README, Figures).
            places = figures.LAD_MEASURE_PLACES[name]
            assert served[name]["value"] == figures.rounded(value, places), (lad, name)
            # The demo holds four LADs, not all of England: no rank among LADs is claimed.
            assert served[name]["rank"] is None
            assert "whole edition" in served[name]["rank_unavailable_reason"]
        assert served["average_score"]["value"] is None
        assert "no" in served["average_score"]["unavailable_reason"]


def test_iod2025_computes_the_proportion_but_no_population_weighted_measure(
    client: TestClient,
) -> None:
    iod2025 = sources.csv(sources.IOD2025)
    lookup = sources.csv(sources.LOOKUP_2021)
    merged = iod2025.merge(lookup, left_on="lsoa21_code", right_on="lsoa21_code")
    for lad, group in merged.groupby("ltla24_code"):
        body = client.get(f"/areas/{lad}").json()
        assert body["edition"]["code"] == "IoD2025"
        served = {m["measure"]: m for m in body["summary_measures"] if m["domain"] == "imd"}
        assert served["proportion_most_deprived_10pct"]["value"] == figures.rounded(
            (group["IMD_decile"] == 1).mean(), figures.SHARE
        )
        assert served["proportion_most_deprived_10pct"]["source"] == "computed"
        # Average rank and score come from the published district summaries instead.
        for name in ("average_rank", "average_score"):
            assert served[name]["source"] == "published"
        for name in ("extent", "local_concentration"):
            assert served[name]["value"] is None
            assert "population denominators" in served[name]["unavailable_reason"]


def test_ranks_among_lads_put_the_most_deprived_first() -> None:
    file_2 = sources.csv(sources.FILE_2)
    file_6 = sources.csv(sources.FILE_6).set_index("LSOA code (2011)")
    frame = pd.DataFrame(
        {
            "lad_code": file_2[LAD],
            "rank": file_2.iloc[:, 4],
            "decile": file_2.iloc[:, 5],
            "score": np.nan,
            "population": file_6.loc[file_2["LSOA code (2011)"]].iloc[:, 3].to_numpy(),
        }
    )
    result = lad_summary_measures(
        frame,
        N_2019,
        population_missing_reason=None,
        scores_missing_reason="none",
        ranking_missing_reason=None,
    )
    expected = independent_measures("imd")
    for measure in ("average_rank", "extent", "local_concentration"):
        ranked = result[result["measure"] == measure].set_index("lad_code")["rank"]
        order = expected[measure].sort_values(ascending=False).index.tolist()
        assert ranked.sort_values().index.tolist() == order
        assert ranked[order[0]] == 1


@pytest.mark.parametrize(
    ("percentile", "weight"),
    [(1, 1.0), (10, 1.0), (11, 0.95), (20, 0.95 - 9 * 0.9 / 19), (30, 0.05), (31, 0.0), (100, 0.0)],
)
def test_extent_weights_follow_appendix_n(percentile: int, weight: float) -> None:
    assert extent_weight(np.array([percentile]))[0] == pytest.approx(weight)


def test_national_percentiles_reproduce_the_published_deciles() -> None:
    file_2 = sources.csv(sources.FILE_2)
    percentiles = national_percentile(file_2.iloc[:, 4], N_2019)
    assert (np.ceil(percentiles / 10).astype(int) == file_2.iloc[:, 5]).all()


def test_national_lad_ranks_on_all_of_england(england_client: TestClient) -> None:
    from tests.conftest import ENGLAND_DIR

    file_2 = sources.csv(sources.FILE_2, ENGLAND_DIR)
    share = file_2.groupby(LAD)[file_2.columns[5]].apply(lambda d: (d == 1).mean()).sort_values()
    most, least = share.index[-1], share.index[0]
    served = {}
    for lad in (most, least):
        body = england_client.get(f"/areas/{lad}", params={"edition": "IoD2019"}).json()
        served[lad] = {m["measure"]: m for m in body["summary_measures"] if m["domain"] == "imd"}
    top = served[most]["proportion_most_deprived_10pct"]
    assert top["value"] == figures.rounded(share[most], figures.SHARE) and top["rank"] == 1
    assert top["rank_unavailable_reason"] is None
    # Districts with no LSOA in decile 1 share the last place (competition ranking).
    tied = int((share == share[least]).sum())
    assert served[least]["proportion_most_deprived_10pct"]["rank"] == len(share) - tied + 1
    assert len(share) == 317


def test_computed_and_published_iod2025_proportions_agree_for_all_296_districts(
    england_client: TestClient,
) -> None:
    from tests.conftest import ENGLAND_DIR

    lsoas = sources.csv(sources.IOD2025, ENGLAND_DIR)
    lookup = sources.csv(sources.LOOKUP_2021, ENGLAND_DIR)[["lsoa21_code", "ltla24_code"]]
    lsoas = lsoas.merge(lookup, on="lsoa21_code")
    published = sources.published_lad_summaries(ENGLAND_DIR)
    assert published["area_code"].nunique() == 296 == lsoas["ltla24_code"].nunique()
    domains = published["index_domain"].map(sources.PUBLISHED_INDICES)
    for domain, column in sources.IOD2025_DECILE_COLUMNS.items():
        share = lsoas.groupby("ltla24_code")[column].apply(lambda d: (d == 1).mean())
        rows = published[domains == domain].set_index("area_code")
        assert len(rows) == 296
        # The published proportions are rounded to 4 decimal places.
        assert (share - rows["proportion_bottom_decile"]).abs().max() <= 0.5e-4 + 1e-9
        # Competition ranking of the unrounded shares gives the published ranks.
        ranks = share.rank(ascending=False, method="min").astype(int)
        assert (ranks == rows["rank_proportion_bottom_decile"]).all()
    # Served: all of England loaded, so the proportion's value and rank are computed; the
    # population-weighted measures come from the publication.
    top = published[domains == "imd"].sort_values("rank_average_score").iloc[0]
    body = england_client.get(f"/areas/{top['area_code']}", params={"edition": "IoD2025"}).json()
    imd = {m["measure"]: m for m in body["summary_measures"] if m["domain"] == "imd"}
    assert (imd["average_score"]["value"], imd["average_score"]["rank"]) == (
        top["average_score"],
        1,
    )
    assert imd["average_score"]["source"] == imd["average_score"]["rank_source"] == "published"
    proportion = imd["proportion_most_deprived_10pct"]
    assert proportion["source"] == proportion["rank_source"] == "computed"
    assert proportion["rank"] == top["rank_proportion_bottom_decile"]
    assert proportion["value"] == pytest.approx(top["proportion_bottom_decile"], abs=0.5e-4)
