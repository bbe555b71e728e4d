"""The neighbourhood portion of the Community Infrastructure Levy (pure, no I/O).

Community Infrastructure Levy Regulations 2010 (SI 2010/948) as amended, regs 59A-59F:

* reg 59A(3): where all or part of a chargeable development lies in an area with a
  neighbourhood development plan in place, 25% of the relevant receipts go to that area's
  parish council, with no cap.
* reg 59A(5) and (7): otherwise 15% (reg 59A(5)); the total passed to a parish council under
  paragraph (5) in a financial year may not exceed £100 for each dwelling in the parish
  council's area, multiplied by an index term (reg 59A(7)). Platoons takes the formula's
  terms as the officer's inputs, each with its source: ``dwellings`` (the council-tax
  dwellings in the area: a dwelling in the sense of s.3 of the Local Government Finance Act
  1992, reg 58A) and the two index figures (``index_year``, the index figure for the year in
  which the CIL is passed, reg 58A's I_Y; ``index_base``, the base year's), giving
  ``cap = £100 × dwellings × index_year / index_base``.
* reg 59D: receipts of 1 April-30 September are passed by 28 October; those of 1 October-31
  March by 28 April (the instalment dates).
* reg 59F: where there is no parish council, the authority keeps the portion and spends it
  to support development in the area in consultation with the community (reg 59F(3)).

Simplifications (said, not hidden)
----------------------------------
* Reg 59A(7) as read (legislation.gov.uk, uksi/2010/948/regulation/59A, the version of
  1 December 2022): paragraphs (1) to (6) in full and the opening words of the England
  paragraph (7); the Wales paragraph (7) caps the total at £100 per dwelling in the local
  council's area multiplied by an index term in each financial year, the term being typeset
  as a formula that did not come through; reg 58A (inserted by SI 2013/982 reg 8) defines
  I_Y as the index figure for the year in which the CIL is passed. The structure implemented
  (£100 per council-tax dwelling of the parish, per financial year, on the 15% receipts
  only, times the ratio of two index figures) matches what was read; which year is the base
  year of the ratio was not read, so both figures are inputs with their source. Without the
  dwelling count or the index figures the cap is not computed: the result says which input
  is missing and gives the capped receipts' portion as "not computed", never a guess.
* Reg 59A(4) (25% also where a neighbourhood development order or community right to build
  order granted the permission, outside a plan area) is not modelled: a receipt records only
  whether a plan was in place.
* The cap is applied to the receipts of one financial year (by the date each receipt was
  received), in the order received; the 25% receipts do not count against it.
* The neighbourhood area is taken to be the parish (a parish council's area may be larger
  than its neighbourhood area: reg 59A(7)'s cap counts the dwellings in the local
  council's area, the parish; record the parish's count).
* Where there is no parish council the same 15%/25% split and cap are shown for the amount
  the authority holds (reg 59F); some authorities treat that amount as uncapped.
* Receipts are whole receipts from development inside the area; apportioning a development
  that straddles a boundary is the officer's input, not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

# Money to whole pence, half away from zero: the one rule for money (README, Figures).
from geo.figures import pence

Recipient = Literal["parish_council", "charging_authority"]
UNCAPPED_RATE = Decimal("0.25")
CAPPED_RATE = Decimal("0.15")
CAP_PER_DWELLING = Decimal("100")


@dataclass(frozen=True)
class Receipt:
    """One levy receipt from development in the area."""

    id: int
    development: str
    amount: Decimal
    received_on: date
    plan_in_effect: bool


@dataclass(frozen=True)
class CapInputs:
    """The terms of reg 59A(7)'s formula for one financial year, as recorded with sources."""

    dwellings: int | None = None
    dwellings_source: str | None = None
    index_year: Decimal | None = None
    index_base: Decimal | None = None
    index_source: str | None = None


@dataclass(frozen=True)
class ReceiptShare:
    """What one receipt contributes to the neighbourhood portion, and under which rule."""

    receipt_id: int
    development: str
    amount: Decimal
    received_on: date
    rule: str
    rate: Decimal
    share: Decimal
    passed: Decimal | None
    half_year: Literal["first", "second"]
    payment_due: date | None


@dataclass(frozen=True)
class Instalment:
    """The portion of one half-year and the date it must be paid (reg 59D)."""

    half_year: Literal["first", "second"]
    received_from: date
    received_to: date
    amount: Decimal | None
    payment_due: date | None


@dataclass(frozen=True)
class LevyYear:
    """The neighbourhood portion of one financial year."""

    financial_year: str
    starts: date
    ends: date
    recipient: Recipient
    recipient_rule: str
    cap: Decimal | None
    cap_rule: str
    receipts: list[ReceiptShare]
    total_receipts: Decimal
    uncapped_portion: Decimal
    capped_portion: Decimal | None
    capped_before_cap: Decimal
    total_portion: Decimal | None
    instalments: list[Instalment]
    missing: list[str] = field(default_factory=list)


def financial_year_of(day: date) -> int:
    """The year in which the financial year holding ``day`` begins (1 April to 31 March)."""
    return day.year if day.month >= 4 else day.year - 1


def half_year_of(day: date) -> Literal["first", "second"]:
    """Which reg 59D half-year a receipt falls in: 1 April-30 September or 1 October-31 March."""
    return "first" if 4 <= day.month <= 9 else "second"


def payment_due(day: date) -> date:
    """When the portion of a receipt received on ``day`` must be paid (reg 59D(1)).

    1 April-30 September: by 28 October that year; 1 October-31 March: by 28 April following.
    """
    if half_year_of(day) == "first":
        return date(day.year, 10, 28)
    return date(day.year + 1 if day.month >= 10 else day.year, 4, 28)


def compute_cap(inputs: CapInputs) -> tuple[Decimal | None, str, list[str]]:
    """The reg 59A(7) cap for a year, the rule as worked, and the inputs missing."""
    missing: list[str] = []
    if inputs.dwellings is None:
        missing.append(
            "the number of council-tax dwellings in the area is not recorded: the 15% "
            "portion's cap (reg 59A(7)) cannot be computed"
        )
    if inputs.index_year is None or inputs.index_base is None or not inputs.index_base:
        missing.append(
            "the index figures of reg 59A(7)'s formula are not recorded: the cap cannot be computed"
        )
    if missing:
        return (
            None,
            "reg 59A(7): £100 × dwellings × index_year / index_base (inputs missing)",
            missing,
        )
    assert inputs.dwellings is not None and inputs.index_year is not None
    assert inputs.index_base is not None
    cap = pence(CAP_PER_DWELLING * inputs.dwellings * inputs.index_year / inputs.index_base)
    rule = (
        f"reg 59A(7): £100 × {inputs.dwellings} dwellings ({inputs.dwellings_source}) × "
        f"{inputs.index_year} / {inputs.index_base} ({inputs.index_source}) = £{cap}"
    )
    return cap, rule, []


def compute_year(
    year: int, receipts: list[Receipt], recipient: Recipient, inputs: CapInputs
) -> LevyYear:
    """Compute the neighbourhood portion of financial year ``year`` (1 April ``year`` on).

    Receipts outside the year are ignored. Each receipt is 25% uncapped where a plan was in
    effect (reg 59A(3)), else 15% (reg 59A(5)); the 15% shares are passed in the order
    received until the year's cap (reg 59A(7)) is used up. A parish council is paid in two
    instalments (reg 59D); otherwise the authority holds the amount (reg 59F).
    """
    starts, ends = date(year, 4, 1), date(year + 1, 3, 31)
    in_year = sorted(
        (r for r in receipts if starts <= r.received_on <= ends),
        key=lambda r: (r.received_on, r.id),
    )
    cap, cap_rule, missing = compute_cap(inputs)
    remaining = cap
    shares: list[ReceiptShare] = []
    for receipt in in_year:
        paid_by = payment_due(receipt.received_on) if recipient == "parish_council" else None
        if receipt.plan_in_effect:
            share = pence(receipt.amount * UNCAPPED_RATE)
            rule = "25%, uncapped: a neighbourhood plan was in effect (reg 59A(3))"
            passed: Decimal | None = share
            rate = UNCAPPED_RATE
        else:
            share = pence(receipt.amount * CAPPED_RATE)
            rate = CAPPED_RATE
            if remaining is None:
                rule = "15%, capped (reg 59A(5), (7)): the cap is not computed"
                passed = None
            else:
                passed = min(share, remaining)
                remaining -= passed
                rule = "15%, capped (reg 59A(5), (7))" + (
                    f": £{share - passed} above the cap is not passed" if passed < share else ""
                )
        shares.append(
            ReceiptShare(
                receipt_id=receipt.id,
                development=receipt.development,
                amount=receipt.amount,
                received_on=receipt.received_on,
                rule=rule,
                rate=rate,
                share=share,
                passed=passed,
                half_year=half_year_of(receipt.received_on),
                payment_due=paid_by,
            )
        )
    uncapped = sum((s.share for s in shares if s.rate == UNCAPPED_RATE), Decimal("0"))
    capped_shares = [s for s in shares if s.rate == CAPPED_RATE]
    before_cap = sum((s.share for s in capped_shares), Decimal("0"))
    capped: Decimal | None = None
    if all(s.passed is not None for s in capped_shares):
        capped = sum((s.passed or Decimal("0") for s in capped_shares), Decimal("0"))
    total = None if capped is None else uncapped + capped
    instalments = []
    for half, first, last in (
        ("first", starts, date(year, 9, 30)),
        ("second", date(year, 10, 1), ends),
    ):
        part = [s for s in shares if s.half_year == half]
        amount: Decimal | None = None
        if all(s.passed is not None for s in part):
            amount = sum((s.passed or Decimal("0") for s in part), Decimal("0"))
        instalments.append(
            Instalment(
                half_year=half,  # type: ignore[arg-type]
                received_from=first,
                received_to=last,
                amount=amount,
                payment_due=payment_due(first) if recipient == "parish_council" else None,
            )
        )
    recipient_rule = (
        "paid to the parish council, the qualifying body, in half-yearly instalments (reg 59D)"
        if recipient == "parish_council"
        else "no parish council: held by the charging authority and spent in consultation with "
        "the community (reg 59F)"
    )
    return LevyYear(
        financial_year=f"{year}-{str(year + 1)[-2:]}",
        starts=starts,
        ends=ends,
        recipient=recipient,
        recipient_rule=recipient_rule,
        cap=cap,
        cap_rule=cap_rule,
        receipts=shares,
        total_receipts=sum((r.amount for r in in_year), Decimal("0")),
        uncapped_portion=uncapped,
        capped_portion=capped,
        capped_before_cap=before_cap,
        total_portion=total,
        instalments=instalments,
        missing=missing,
    )
