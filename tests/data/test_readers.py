"""Reading numbers from the source files (data/readers.py): the same numbers whichever way a
column is parsed, and bad values reported by row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from data import DEMO_DIR
from data.readers import parse_floats, parse_integers, read_csv_columns
from geo.errors import LoadError
from tests.utils import sources

DENOMINATORS = [
    "Total population: mid 2015 (excluding prisoners)",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "Population aged 16-59: mid 2015 (excluding prisoners)",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners)",
]
PATH = Path("test.csv")


def text_frame(values: list[str | None]) -> pd.DataFrame:
    """A one-column frame of text, as read_csv_columns reads a file."""
    return pd.DataFrame({"n": pd.Series(values, dtype="string[pyarrow]")})


def test_whole_numbers_with_thousands_separators_equal_the_files() -> None:
    frame = read_csv_columns(DEMO_DIR / sources.FILE_6, DENOMINATORS)
    assert frame[DENOMINATORS[0]].str.contains(",").any()  # the file writes "1,560"
    for column in DENOMINATORS:
        parsed = parse_integers(frame, column, PATH)
        assert parsed.dtype == "int64"
        assert parsed.tolist() == [int(v.replace(",", "")) for v in frame[column]]


def test_decimal_numbers_equal_the_files() -> None:
    column = "IMD_score"
    frame = read_csv_columns(DEMO_DIR / sources.IOD2025, [column])
    parsed = parse_floats(frame, column, PATH)
    assert parsed.dtype == "float64"
    assert parsed.tolist() == [float(v) for v in frame[column]]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1,000", "7.00", " 12 ", "+5"], [1000, 7, 12, 5]),
        (["0", "-0", "3e2"], [0, 0, 300]),
        (["9007199254740993", "1"], [2**53 + 1, 1]),  # exact beyond a double's whole numbers
    ],
)
def test_whole_numbers_in_any_of_their_spellings(values: list[str], expected: list[int]) -> None:
    assert parse_integers(text_frame(values), "n", PATH).tolist() == expected


@pytest.mark.parametrize(
    "bad",
    [
        "2.5",  # Arrow reads it: not whole
        "nan",  # Arrow reads it as NaN: not a number
        "",  # Arrow cannot read it: the column is parsed value by value
        "nine",
        None,
    ],
)
def test_a_value_that_is_not_a_whole_number_is_reported_by_line(bad: str | None) -> None:
    # The bad value is on the file's line 3 (a header, then "1").
    with pytest.raises(LoadError, match=r"'n' must hold whole numbers; line 3: "):
        parse_integers(text_frame(["1", bad]), "n", PATH)


@pytest.mark.parametrize("bad", ["n/a", "", "nan", "inf"])
def test_a_value_that_is_not_a_finite_number_is_reported_by_line(bad: str) -> None:
    with pytest.raises(LoadError, match=r"'n' must hold numbers; line 3: "):
        parse_floats(text_frame(["0.5", bad]), "n", PATH)
