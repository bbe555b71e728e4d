"""Queries over council payment lines: filtered pages, totals by grouping, and CSV export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from geo.errors import InvalidInput
from geo.spending import rules
from geo.spending.models import (
    NO_CATEGORY,
    GroupBy,
    LinesPage,
    SpendingFilter,
    SpendingLine,
    SpendingTotal,
    SpendingTotals,
)
from geo.sqlfiles import read_sql

MAX_PAGE = 1000
MAX_TOTALS = 5000
CSV_BATCH = 5000
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{1,19})$")

# Group expressions, from this fixed registry only: key, display name, and the join for the name.
# ``{date}`` is the line's payment date, or the month of a month total.
_GROUPS: dict[str, tuple[str, str, str]] = {
    "beneficiary": (
        "l.beneficiary_key",
        "coalesce(b.name, g.key)",
        "LEFT JOIN spending_beneficiary b ON b.beneficiary_key = g.key",
    ),
    "service": (f"coalesce(l.service, '{NO_CATEGORY}')", "g.key", ""),
    "category": (f"coalesce(l.category, '{NO_CATEGORY}')", "g.key", ""),
    "month": ("to_char(l.{date}, 'YYYY-MM')", "g.key", ""),
}


class _Source:
    """Where a filter's lines are summed from: every line, the month totals, or one rollup level."""

    def __init__(
        self, table: str, date_column: str, count: str, filter_file: str, level: str | None = None
    ) -> None:
        self.table = table
        self.date_column = date_column
        self.count = count
        self.filter_file = filter_file
        self.level = level


_LINES = _Source("spending_line", "payment_date", "count(*)", "filter.sql")
_MONTHS = _Source("spending_month_total", "month", "sum(l.lines)", "filter_month.sql")
# The coarser totals kept by the load (spending_rollup; data/sql/spending/rollup_insert.sql),
# smallest first, with what each keeps besides the publisher, the £500 flag and redaction.
LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("month", frozenset({"month"})),
    ("category", frozenset({"category"})),
    ("service", frozenset({"service"})),
    ("beneficiary", frozenset({"beneficiary"})),
    ("month_category", frozenset({"month", "category"})),
    ("month_service", frozenset({"month", "service"})),
)

# CSV export columns, in order.
CSV_COLUMNS = (
    "publisher",
    "payment_date",
    "service",
    "beneficiary_name",
    "beneficiary_key",
    "redacted",
    "amount",
    "irrecoverable_vat",
    "over_500",
    "purpose",
    "category",
    "category_code",
    "transaction_number",
    "invoice_number",
    "beneficiary_other_id",
    "vat_registration_number",
    "source_file",
    "line_number",
)


def _like_escape(word: str) -> str:
    """A word for a LIKE pattern, its wildcards taken literally."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_params(spending_filter: SpendingFilter) -> dict[str, Any]:
    """The bound parameters of ``filter.sql`` for a filter (validated first)."""
    f = spending_filter
    if f.from_date and f.to_date and f.from_date > f.to_date:
        raise InvalidInput("`from` is after `to`", parameter="from")
    if f.min_amount is not None and f.max_amount is not None and f.min_amount > f.max_amount:
        raise InvalidInput("`min_amount` is more than `max_amount`", parameter="min_amount")
    prefix = words = None
    if f.beneficiary is not None:
        key = rules.beneficiary_key(f.beneficiary)
        if key == "(blank)":
            raise InvalidInput("`beneficiary` has no letters or digits", parameter="beneficiary")
        prefix = _like_escape(key) + "%"
        words = [f"%{_like_escape(w)}%" for w in key.split()]
    purpose_words = None
    if f.purpose is not None:
        purpose_words = [f"%{_like_escape(w)}%" for w in f.purpose.lower().split()] or None
    return {
        "publisher": f.publisher,
        "from_date": f.from_date,
        "to_date": f.to_date,
        "min_amount": f.min_amount,
        "max_amount": f.max_amount,
        "service": f.service,
        "category": f.category,
        "purpose_words": purpose_words,
        "beneficiary_key": f.beneficiary_key,
        "beneficiary_prefix": prefix,
        "beneficiary_words": words,
        "over_500": f.over_500,
        "redacted": f.redacted,
    }


def _with_filter(name: str, source: _Source | None = None) -> str:
    """A query file with the shared filter (of the lines, or of the source's totals) in place."""
    filter_file = source.filter_file if source else "filter.sql"
    # Both filters end in the same beneficiary, over-£500 and redaction tests (one file).
    shared = read_sql("geo", "spending/filter_beneficiary.sql").split("\n", 1)[1]
    filter_sql = (
        read_sql("geo", f"spending/{filter_file}")
        .split("\n", 1)[1]
        .replace("/*beneficiary*/\n", shared)
    )
    if source is not None and source.level is not None:
        filter_sql = filter_sql.rstrip() + "\nAND l.level = %(level)s::text\n"
    return read_sql("geo", f"spending/{name}").replace("/*filter*/", filter_sql)


def _source(spending_filter: SpendingFilter, by: GroupBy | None = None) -> _Source:
    """The smallest totals that answer the filter (and grouping) exactly, else the lines.

    Totals do when no amount or purpose test applies and ``from``/``to`` are whole months (the
    first and the last day of a month), or absent. Of them, the smallest rollup level keeping
    every column the filter and the grouping use is read; the month totals keep them all.
    """
    f = spending_filter
    if f.min_amount is not None or f.max_amount is not None or f.purpose is not None:
        return _LINES
    if f.from_date is not None and f.from_date.day != 1:
        return _LINES
    if f.to_date is not None and (f.to_date + timedelta(days=1)).day != 1:
        return _LINES
    used = {by} if by is not None else set()
    if f.from_date is not None or f.to_date is not None:
        used.add("month")
    if f.beneficiary is not None or f.beneficiary_key is not None:
        used.add("beneficiary")
    if f.service is not None:
        used.add("service")
    if f.category is not None:
        used.add("category")
    for level, kept in LEVELS:
        if used <= kept:
            return _Source("spending_rollup", "month", "sum(l.lines)", "filter_month.sql", level)
    return _MONTHS


def _summing(name: str, source: _Source) -> sql.Composed:
    """A summing query (totals or matched) over the source's table and filter."""
    return sql.SQL(_with_filter(name, source)).format(
        table=sql.Identifier(source.table), count=sql.SQL(source.count)
    )


def parse_cursor(cursor: str | None) -> tuple[date | None, int | None]:
    """A page cursor (``YYYY-MM-DD.id``) as the keyset it continues after."""
    if cursor is None:
        return None, None
    match = _CURSOR.match(cursor)
    if not match:
        raise InvalidInput("`cursor` is not a cursor this service gave", parameter="cursor")
    try:
        after_id = int(match[2])
        if after_id >= 2**63:  # no line id is larger than a bigint
            raise ValueError(after_id)
        return date.fromisoformat(match[1]), after_id
    except ValueError as exc:
        raise InvalidInput(
            "`cursor` is not a cursor this service gave", parameter="cursor"
        ) from exc


async def lines(
    conn: AsyncConnection,
    spending_filter: SpendingFilter,
    limit: int = 100,
    cursor: str | None = None,
) -> LinesPage:
    """A page of matching payment lines, newest first, stable under equal dates.

    Parameters
    ----------
    conn
        An open connection.
    spending_filter
        Which lines.
    limit
        Lines per page (1 to 1000).
    cursor
        The ``next_cursor`` of the previous page, or ``None`` for the first.

    Returns
    -------
    LinesPage
        The lines, the count and total of all matching lines, and the next page's cursor.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"`limit` must be 1 to {MAX_PAGE}", parameter="limit")
    params = filter_params(spending_filter)
    after_date, after_id = parse_cursor(cursor)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _with_filter("lines.sql"),
            {**params, "after_date": after_date, "after_id": after_id, "limit": limit + 1},
            prepare=False,  # a custom plan for each filter: the NULL tests fold away
        )
        rows = await cur.fetchall()
        source = _source(spending_filter)
        await cur.execute(
            _summing("lines_matched.sql", source), {**params, "level": source.level}, prepare=False
        )
        matched = await cur.fetchone() or {"matched": 0, "amount": Decimal(0)}
    page = [SpendingLine(**row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = f"{last.payment_date.isoformat()}.{last.id}"
    return LinesPage(
        lines=page, matched=matched["matched"], amount=matched["amount"], next_cursor=next_cursor
    )


def _month_filter(spending_filter: SpendingFilter, month: str) -> SpendingFilter:
    """The filter narrowed to one calendar month (``YYYY-MM``)."""
    first = date.fromisoformat(f"{month}-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start = max(first, spending_filter.from_date or first)
    end = min(last, spending_filter.to_date or last)
    return spending_filter.model_copy(update={"from_date": start, "to_date": end})


def lines_filter_of(spending_filter: SpendingFilter, by: GroupBy, key: str) -> SpendingFilter:
    """The filter whose lines add up to one group's total."""
    if by == "beneficiary":
        return spending_filter.model_copy(update={"beneficiary_key": key})
    if by == "service":
        return spending_filter.model_copy(update={"service": key})
    if by == "category":
        return spending_filter.model_copy(update={"category": key})
    return _month_filter(spending_filter, key)


async def totals(
    conn: AsyncConnection,
    spending_filter: SpendingFilter,
    by: GroupBy,
    limit: int = 50,
    order: str = "amount",
) -> SpendingTotals:
    """Totals of the matching lines by beneficiary, service, category or month.

    Parameters
    ----------
    conn
        An open connection.
    spending_filter
        Which lines.
    by
        The grouping: ``beneficiary`` (by normalised key), ``service`` (OrganisationalUnit),
        ``category`` (Proclass label; none is ``(none)``) or ``month`` (``YYYY-MM``).
    limit
        How many groups to return (1 to 1000).
    order
        ``amount`` (largest first, then key) or ``key`` (ascending: months in time order).

    Returns
    -------
    SpendingTotals
        Each group's total and line count with the filter listing its lines.
    """
    if by not in _GROUPS:
        raise InvalidInput(f"`by` must be one of {', '.join(_GROUPS)}", parameter="by")
    if order not in ("amount", "key"):
        raise InvalidInput("`order` must be amount or key", parameter="order")
    if not 1 <= limit <= MAX_TOTALS:
        raise InvalidInput(f"`limit` must be 1 to {MAX_TOTALS}", parameter="limit")
    params = filter_params(spending_filter)
    group, label, join = _GROUPS[by]
    order_sql = "g.amount DESC, g.key" if order == "amount" else "g.key"
    source = _source(spending_filter, by)
    query = sql.SQL(_with_filter("totals.sql", source)).format(
        group=sql.SQL(group.replace("{date}", source.date_column)),
        label=sql.SQL(label),
        join=sql.SQL(join),
        order=sql.SQL(order_sql),
        table=sql.Identifier(source.table),
        count=sql.SQL(source.count),
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {**params, "limit": limit, "level": source.level}, prepare=False)
        rows = await cur.fetchall()
    if not rows:
        matched_groups, amount, line_count = 0, Decimal(0), 0
    else:
        matched_groups = rows[0]["groups"]
        amount, line_count = rows[0]["total_amount"], int(rows[0]["total_lines"])
    return SpendingTotals(
        by=by,
        totals=[
            SpendingTotal(
                key=row["key"],
                name=row["name"],
                amount=row["amount"],
                lines=row["lines"],
                lines_filter=lines_filter_of(spending_filter, by, row["key"]),
            )
            for row in rows
        ],
        groups=matched_groups,
        amount=amount,
        lines=line_count,
    )


async def csv_chunks(conn: AsyncConnection, spending_filter: SpendingFilter) -> AsyncIterator[str]:
    """The matching lines as CSV text, newest first, a batch of lines at a time.

    Parameters
    ----------
    conn
        An open connection, held for the whole export (one consistent snapshot).
    spending_filter
        Which lines.

    Yields
    ------
    str
        The header, then CSV rows in batches.
    """
    params = filter_params(spending_filter)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    query = _with_filter("lines.sql").replace("LIMIT %(limit)s", "")
    async with conn.transaction(), conn.cursor(name="spending_csv", row_factory=dict_row) as cur:
        await cur.execute(query, {**params, "after_date": None, "after_id": None})
        while rows := await cur.fetchmany(CSV_BATCH):
            out.seek(0)
            out.truncate()
            for row in rows:
                writer.writerow(
                    [
                        "true" if row[c] is True else "false" if row[c] is False else row[c]
                        for c in CSV_COLUMNS
                    ]
                )
            yield out.getvalue()


async def loaded_files(conn: AsyncConnection) -> list[dict[str, Any]]:
    """The payment files loaded, per publisher, with their lines, totals and date spans."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(read_sql("geo", "spending/publishers.sql"))
        return await cur.fetchall()
