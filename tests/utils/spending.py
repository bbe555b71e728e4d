"""Trafford's payment files as the tests load them, and an independent reading with pandas."""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import cache
from pathlib import Path

import pandas as pd
import psycopg

from data import spending

NATIONAL = Path(__file__).resolve().parents[2] / "data" / "national"
SPENDING_DIR = NATIONAL / "spending"
FILE_2025_26 = SPENDING_DIR / "trafford-supplier-spend-2025-26.zip"
FILE_2026_27 = SPENDING_DIR / "trafford-supplier-spend-2026-27.zip"
LOADED = (FILE_2025_26, FILE_2026_27)
_lock = threading.Lock()
_loaded: dict[str, list[spending.SpendingFileReport]] = {}


def load_trafford(dsn: str) -> list[spending.SpendingFileReport]:
    """Load Trafford 2025-26 and 2026-27 into a database once per test process."""
    with _lock:
        if dsn not in _loaded:
            with psycopg.connect(dsn) as conn:
                _loaded[dsn] = spending.load_spending(conn, list(LOADED))
        return _loaded[dsn]


@cache
def payments(path: Path = FILE_2025_26) -> pd.DataFrame:
    """A payment zip read by pandas alone: every column as text, amounts as Decimal."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame["amount"] = frame["Amount"].map(Decimal)
    return frame


def key_of(names: pd.Series) -> pd.Series:
    """Beneficiary keys computed with pandas string methods (not with geo.spending.rules)."""
    text = names.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    text = text.str.lower().str.replace("&", " and ", regex=False)
    text = text.str.replace(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", regex=True)
    text = text.str.replace(".", " ", regex=False)
    text = text.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    for pattern, spelling in (
        (r"\bpublic limited company\b", "plc"),
        (r"\blimited\b", "ltd"),
        (r"\bcompany\b", "co"),
    ):
        text = text.str.replace(pattern, spelling, regex=True)
    text = text.map(lambda t: t[4:] if t.startswith("the ") else t)
    text = text.mask(text == "", "(blank)")
    return text.mask(names.str.strip().str.casefold() == "redacted", "(redacted)")


def totals_by(frame: pd.DataFrame, column: str) -> dict[str, tuple[Decimal, int]]:
    """Sum and count of the amounts by a column, with pure Python Decimal sums."""
    result: dict[str, tuple[Decimal, int]] = {}
    for key, group in frame.groupby(column, sort=False):
        result[str(key)] = (sum(group["amount"], Decimal(0)), len(group))
    return result
