"""Pydantic models of payment lines, their filters, pages and totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from geo.figures import MONEY_NOTE, Money

GroupBy = Literal["beneficiary", "service", "category", "month"]
# A line with no category (or no service) is grouped (and filtered) under this name.
NO_CATEGORY = "(none)"


class SpendingFilter(BaseModel):
    """Which payment lines a query means; every field narrows, ``None`` does not."""

    publisher: str | None = None
    beneficiary: str | None = Field(
        None, description="Beneficiary name: its key starts with it, or contains all its words."
    )
    beneficiary_key: str | None = Field(None, description="One beneficiary key, exactly.")
    service: str | None = Field(
        None, description="The service (OrganisationalUnit), exactly; `(none)` for none."
    )
    category: str | None = Field(
        None, description="Proclass category label, exactly; `(none)` for none."
    )
    purpose: str | None = Field(None, description="Words the purpose contains (any case).")
    from_date: date | None = None
    to_date: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    over_500: bool | None = None
    redacted: bool | None = None

    def query_params(self) -> dict[str, str]:
        """The filter as the query string parameters of ``/spending/lines`` (set ones only)."""
        names = {"from_date": "from", "to_date": "to"}
        params: dict[str, str] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            params[names.get(name, name)] = text
        return params


class SpendingLine(BaseModel):
    """One published payment line, with where it came from."""

    id: int
    publisher: str
    payment_date: date
    service: str | None
    beneficiary_name: str
    beneficiary_key: str
    redacted: bool
    amount: Money
    irrecoverable_vat: Money | None
    over_500: bool
    purpose: str | None
    category: str | None
    category_code: str | None
    transaction_number: str | None
    invoice_number: str | None
    beneficiary_other_id: str | None
    vat_registration_number: str | None
    source_file: str
    line_number: int


class LinesPage(BaseModel):
    """A page of lines, newest first, with the count and total of every line matched."""

    lines: list[SpendingLine]
    matched: int = Field(description="Lines matching the filter, over all pages.")
    amount: Money = Field(
        description=f"Sum of the matching lines' amounts (credits negative). {MONEY_NOTE}"
    )
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class SpendingTotal(BaseModel):
    """One group's total, and the filter that lists the lines adding up to it."""

    key: str
    name: str
    amount: Money
    lines: int
    lines_filter: SpendingFilter


class SpendingTotals(BaseModel):
    """Totals of one grouping, largest first (or by key for months)."""

    by: GroupBy
    totals: list[SpendingTotal]
    groups: int = Field(description="Groups matching, over all of them (not only those shown).")
    amount: Money
    lines: int
