"""The Transparency Code's 'exceeding £500' test and the beneficiary key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from geo.spending import rules


@pytest.mark.parametrize(
    ("amount", "exceeds"),
    [
        ("500.00", False),  # "exceeding £500": £500.00 itself does not exceed it
        ("500.01", True),
        ("499.99", False),
        ("-500.00", False),
        ("-500.01", True),  # "credit notes over £500" are among the items
        ("0.00", False),
        ("123456.78", True),
    ],
)
def test_the_code_threshold_is_strict_and_counts_credits_by_size(amount: str, exceeds: bool):
    assert rules.exceeds_code_threshold(Decimal(amount)) is exceeds


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Cherish UK Limited", "cherish uk ltd"),
        ("CHERISH U.K. LTD", "cherish uk ltd"),
        ("Cherish UK Ltd.", "cherish uk ltd"),
        ("The Care Company Plus Limited", "care co plus ltd"),
        ("UPS Building & Maintenance Limited", "ups building and maintenance ltd"),
        ("Acme Public Limited Company", "acme plc"),
        ("Café Nero", "cafe nero"),
        ("!!!", "(blank)"),
    ],
)
def test_beneficiary_keys_fold_case_punctuation_and_legal_forms(name: str, key: str):
    assert rules.beneficiary_key(name) == key


def test_redacted_names_share_one_key_and_are_never_guessed():
    assert rules.beneficiary_key("Redacted", redacted=True) == rules.REDACTED_KEY
    assert rules.beneficiary_key("Anything at all", redacted=True) == rules.REDACTED_KEY
