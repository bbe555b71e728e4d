"""The neighbourhood portion of the levy, with every figure worked by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from geo.planning import levy
from geo.planning.levy import CapInputs, Receipt

# Example figures (not real receipts nor real index figures).
RECEIPTS = [
    Receipt(1, "EXAMPLE site A", Decimal("200000.00"), date(2026, 5, 15), False),
    Receipt(2, "EXAMPLE site B", Decimal("150000.00"), date(2026, 11, 20), False),
    Receipt(3, "EXAMPLE site C", Decimal("80000.00"), date(2027, 1, 10), True),
    Receipt(4, "EXAMPLE site D", Decimal("10000.00"), date(2027, 4, 1), False),
]
INPUTS = CapInputs(
    dwellings=400,
    dwellings_source="EXAMPLE council tax base",
    index_year=Decimal("380"),
    index_base=Decimal("334"),
    index_source="EXAMPLE index figures",
)


def test_payment_dates_at_the_half_year_boundaries() -> None:
    assert levy.payment_due(date(2026, 4, 1)) == date(2026, 10, 28)
    assert levy.payment_due(date(2026, 9, 30)) == date(2026, 10, 28)
    assert levy.payment_due(date(2026, 10, 1)) == date(2027, 4, 28)
    assert levy.payment_due(date(2027, 3, 31)) == date(2027, 4, 28)
    assert levy.financial_year_of(date(2027, 3, 31)) == 2026
    assert levy.financial_year_of(date(2027, 4, 1)) == 2027


def test_parish_capped_and_uncapped() -> None:
    year = levy.compute_year(2026, RECEIPTS, "parish_council", INPUTS)
    # Cap: £100 × 400 × 380 / 334 = 15,200,000 / 334 = £45,508.982... = £45,508.98.
    assert year.cap == Decimal("45508.98")
    assert year.financial_year == "2026-27"
    shares = {s.receipt_id: s for s in year.receipts}
    assert 4 not in shares  # received 1 April 2027: the next financial year
    # A: 15% of £200,000 = £30,000, all passed (cap left £15,508.98).
    assert shares[1].share == Decimal("30000.00") and shares[1].passed == Decimal("30000.00")
    # B: 15% of £150,000 = £22,500; only £15,508.98 passes (£6,991.02 above the cap).
    assert shares[2].share == Decimal("22500.00") and shares[2].passed == Decimal("15508.98")
    assert "£6991.02 above the cap" in shares[2].rule
    # C: plan in effect, 25% of £80,000 = £20,000, uncapped.
    assert shares[3].passed == Decimal("20000.00") and "59A(3)" in shares[3].rule
    assert year.capped_before_cap == Decimal("52500.00")
    assert year.capped_portion == Decimal("45508.98")
    assert year.uncapped_portion == Decimal("20000.00")
    assert year.total_portion == Decimal("65508.98")
    # Instalments: A by 28 Oct 2026; B + C (15,508.98 + 20,000) by 28 Apr 2027.
    assert [(i.amount, i.payment_due) for i in year.instalments] == [
        (Decimal("30000.00"), date(2026, 10, 28)),
        (Decimal("35508.98"), date(2027, 4, 28)),
    ]
    assert year.missing == []


def test_no_parish_council_the_authority_holds_it() -> None:
    year = levy.compute_year(2026, RECEIPTS, "charging_authority", INPUTS)
    assert year.total_portion == Decimal("65508.98")
    assert "59F" in year.recipient_rule
    assert all(s.payment_due is None for s in year.receipts)
    assert all(i.payment_due is None for i in year.instalments)


def test_uncapped_only_needs_no_dwelling_count() -> None:
    planned = [Receipt(9, "EXAMPLE", Decimal("12345.67"), date(2026, 6, 1), True)]
    year = levy.compute_year(2026, planned, "parish_council", CapInputs())
    # 25% of £12,345.67 = £3,086.4175 = £3,086.42.
    assert year.total_portion == Decimal("3086.42")
    assert year.cap is None and year.missing  # said, though nothing here needed it


def test_without_the_dwelling_count_it_says_so() -> None:
    inputs = CapInputs(index_year=Decimal("380"), index_base=Decimal("334"))
    year = levy.compute_year(2026, RECEIPTS, "parish_council", inputs)
    assert year.cap is None
    assert year.capped_portion is None and year.total_portion is None
    assert year.uncapped_portion == Decimal("20000.00")
    assert any("dwellings" in m for m in year.missing)
    assert [i.amount for i in year.instalments] == [None, None]
    assert year.capped_before_cap == Decimal("52500.00")
