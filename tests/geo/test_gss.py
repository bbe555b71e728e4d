"""The GSS code patterns (geo/gss.py): what each accepts and refuses."""

from __future__ import annotations

import re

import pytest

from geo import gss
from tests.utils import sources

CASES: dict[str, tuple[re.Pattern[str], list[str], list[str]]] = {
    "LSOA": (
        gss.LSOA_CODE,
        ["E01006112", "E01000001", "E01035000"],
        ["W01000001", "E02000001", "E0100611", "E010061120", "e01006112", " E01006112"],
    ),
    "ward": (
        gss.WARD_CODE,
        ["E05000650", "E05014130"],
        ["W05000001", "E01006112", "E0500065", "E05000650\n"],
    ),
    "district": (
        gss.LAD_CODE,
        ["E06000001", "E07000041", "E08000009", "E09000001"],
        ["W06000015", "E05000650", "E10000001", "E05", "S12000033", "E0800000９"],
    ),
    "any": (
        gss.ANY_CODE,
        ["E01006112", "W06000015", "S12000033", "N09000001", "K04000001"],
        ["X01000001", "E0100611", "E010061120", "01006112E"],
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_pattern_accepts_its_codes_and_nothing_else(kind: str) -> None:
    pattern, accepted, refused = CASES[kind]
    assert [c for c in accepted if not pattern.fullmatch(c)] == []
    assert [c for c in refused if pattern.match(c)] == []


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_documented_pattern_agrees_with_the_compiled_one(kind: str) -> None:
    pattern, accepted, refused = CASES[kind]
    documented = {
        "LSOA": gss.LSOA_PATTERN,
        "ward": gss.WARD_PATTERN,
        "district": gss.LAD_PATTERN,
        "any": gss.ANY_PATTERN,
    }[kind]
    # What OpenAPI clients are told (a JavaScript-style pattern) accepts the same codes.
    for code in accepted + refused:
        assert bool(re.fullmatch(documented, code)) == bool(pattern.match(code)), code


def test_every_english_code_in_the_demo_lookup_matches_its_kind() -> None:
    rows = sources.csv(sources.LOOKUP_2021)
    assert len(rows) > 600  # four districts
    for row in rows.to_dict("records"):
        if row["lsoa21_code"].startswith("E"):
            assert gss.LSOA_CODE.match(row["lsoa21_code"]), row
            assert gss.WARD_CODE.match(row["ward24_code"]), row
            assert gss.LAD_CODE.match(row["ltla24_code"]), row
