"""Statutory and house rules for payment lines: the £500 test and the beneficiary key (no I/O).

The over-£500 test follows the Local Government Transparency Code 2015, Part 2, "Expenditure
exceeding £500": local authorities "must publish details of each individual item of
expenditure that exceeds £500", and the items listed include "credit notes over £500".
Hence:

- £500.00 itself does not count: the Code's words are "exceeds" / "exceeding", a strict
  inequality, so a line of exactly £500.00 is published voluntarily (Trafford publishes every
  payment), not because the Code requires it;
- a credit (a negative line) counts when its size exceeds £500, because credit notes over
  £500 are named among the items;
- simplification: the test is applied to each published line. The Code speaks of an "item of
  expenditure" (an invoice, a grant payment); a transaction split over several lines is not
  re-assembled first, so a £900 invoice published as two £450 lines is not flagged.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# Local Government Transparency Code 2015, Part 2: "expenditure exceeding £500".
CODE_THRESHOLD = Decimal("500.00")

# The key of every redacted beneficiary: withheld names are grouped, never guessed.
REDACTED_KEY = "(redacted)"

# Legal-form words written several ways, reduced to one spelling for grouping.
_LEGAL_FORMS = (
    (re.compile(r"\bpublic limited company\b"), "plc"),
    (re.compile(r"\blimited\b"), "ltd"),
    (re.compile(r"\bcompany\b"), "co"),
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def exceeds_code_threshold(amount: Decimal) -> bool:
    """Whether a line's size exceeds £500 (strictly; credits by their size), as the Code says."""
    return abs(amount) > CODE_THRESHOLD


def beneficiary_key(name: str, *, redacted: bool = False) -> str:
    """The grouping key of a beneficiary name: case, accents, punctuation and legal forms folded.

    ``"Cherish UK Limited"``, ``"CHERISH U.K. LTD"`` and ``"Cherish UK Ltd."`` all become
    ``"cherish uk ltd"``; ``&`` reads as ``and``; a leading ``The`` is dropped. The original
    text is always kept beside the key; redacted names share :data:`REDACTED_KEY`.
    """
    if redacted:
        return REDACTED_KEY
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = text.lower().replace("&", " and ")
    # Full stops inside abbreviations join their letters ("U.K." is "uk"), then any other
    # punctuation separates words.
    text = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", text).replace(".", " ")
    text = _NOT_ALNUM.sub(" ", text).strip()
    for pattern, spelling in _LEGAL_FORMS:
        text = pattern.sub(spelling, text)
    if text.startswith("the "):
        text = text[4:]
    return text or "(blank)"
