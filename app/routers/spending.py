"""Council spending routes: payment lines, totals by grouping, CSV export and the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, WithJsonSchema

from app.db import DbDep, lend_connection
from app.parameters import DAY_PATTERN, FullDate
from app.problems import Problems
from geo import gss
from geo.grants import need as grant_need
from geo.spending import reads
from geo.spending.models import GroupBy, LinesPage, SpendingFilter, SpendingTotals

router = APIRouter(tags=["spending"])
templates = Environment(
    loader=PackageLoader("app", "templates"), autoescape=select_autoescape(["html"])
)
# What the document cannot say of a filter: `from` after `to`, `min_amount` above `max_amount`.
PROBLEMS = Problems(
    {400: "`from` after `to`, or `min_amount` above `max_amount`", 404: "No such edition"}
)
# Money bounds a query may use: larger than any council payment, small enough for numeric(14,2).
MONEY_LIMIT = Decimal("1e12")
# An amount in pounds as a query writes it: a number (pydantic's Decimal schema allows any
# string too, which the parameter then refuses).
Money = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "number",
            "exclusiveMinimum": -float(MONEY_LIMIT),
            "exclusiveMaximum": float(MONEY_LIMIT),
        }
    ),
]


async def spending_filter(
    publisher: Annotated[str | None, Query(max_length=64)] = None,
    beneficiary: Annotated[
        str | None,
        Query(
            max_length=200,
            # Blank (no filter), or a letter or digit to search by (rules.beneficiary_key).
            pattern=r"^(\s*|[^\x00]*[A-Za-z0-9&][^\x00]*)$",
            description="Name: prefix of the key, or all its words.",
        ),
    ] = None,
    beneficiary_key: Annotated[str | None, Query(max_length=200)] = None,
    service: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    from_date: Annotated[FullDate | None, Query(alias="from")] = None,
    to_date: Annotated[FullDate | None, Query(alias="to")] = None,
    min_amount: Annotated[
        Money | None, Query(gt=-MONEY_LIMIT, lt=MONEY_LIMIT, allow_inf_nan=False)
    ] = None,
    max_amount: Annotated[
        Money | None, Query(gt=-MONEY_LIMIT, lt=MONEY_LIMIT, allow_inf_nan=False)
    ] = None,
    over_500: Annotated[bool | None, Query(description="Lines exceeding £500 (or not).")] = None,
    redacted: Annotated[bool | None, Query()] = None,
) -> SpendingFilter:
    """The filter the query string describes (blank text parameters mean no filter).

    A coroutine, though it awaits nothing: FastAPI runs a plain function dependency in a worker
    thread, a hand-over that cost more than the whole totals query on a busy machine.
    """

    def text(value: str | None) -> str | None:
        return value if value is not None and value.strip() else None

    return SpendingFilter(
        publisher=text(publisher),
        beneficiary=text(beneficiary),
        beneficiary_key=text(beneficiary_key),
        service=text(service),
        category=text(category),
        purpose=text(purpose),
        from_date=from_date,
        to_date=to_date,
        min_amount=min_amount,
        max_amount=max_amount,
        over_500=over_500,
        redacted=redacted,
    )


FilterDep = Annotated[SpendingFilter, Depends(spending_filter)]


class TotalsResponse(BaseModel):
    """Totals with, for each, the link to its lines (line by line is the point)."""

    by: GroupBy
    groups: int
    amount: Decimal
    lines: int
    totals: list[dict[str, Any]]


def _lines_links(request: Request, lines_filter: SpendingFilter) -> tuple[str, str]:
    """The URLs listing a filter's lines: as JSON, and as CSV."""
    root = request.scope.get("root_path", "")
    query = urlencode(lines_filter.query_params())
    return f"{root}/spending/lines?{query}", f"{root}/spending/lines.csv?{query}"


@router.get("/spending/lines", response_model=LinesPage, responses=PROBLEMS.only(400))
async def spending_lines(
    request: Request,
    conn: DbDep,
    spending_filter: FilterDep,
    limit: Annotated[int, Query(ge=1, le=reads.MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=DAY_PATTERN.removesuffix("$") + r"\.[0-9]{1,18}$",
            description="The `next` cursor of the previous page (a date and a line id).",
        ),
    ] = None,
) -> LinesPage:
    """Payment lines matching the filters, newest first, with keyset paging and a total count."""
    return await reads.lines(conn, spending_filter, limit, cursor)


@router.get("/spending/totals", response_model=TotalsResponse, responses=PROBLEMS.only(400))
async def spending_totals(
    request: Request,
    conn: DbDep,
    spending_filter: FilterDep,
    by: GroupBy,
    limit: Annotated[int, Query(ge=1, le=reads.MAX_TOTALS)] = 50,
    order: Annotated[str, Query(pattern="^(amount|key)$")] = "amount",
) -> TotalsResponse:
    """Totals by beneficiary, service, category or month, largest first, each linking its lines."""
    result: SpendingTotals = await reads.totals(conn, spending_filter, by, limit, order)
    return TotalsResponse(
        by=result.by,
        groups=result.groups,
        amount=result.amount,
        lines=result.lines,
        totals=[
            {
                by: t.name,
                "key": t.key,
                "amount": t.amount,
                "lines": t.lines,
                "lines_url": lines_url,
                "csv_url": csv_url,
            }
            for t in result.totals
            for lines_url, csv_url in (_lines_links(request, t.lines_filter),)
        ],
    )


@router.get(
    "/spending/lines.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **PROBLEMS.only(400)},
)
async def spending_lines_csv(request: Request, spending_filter: FilterDep) -> StreamingResponse:
    """Every line matching the filters as CSV, streamed (newest first)."""
    reads.filter_params(spending_filter)  # a bad filter is a 400 before streaming starts

    async def body() -> AsyncIterator[str]:
        # The export holds its own connection for as long as it streams.
        async with lend_connection(request) as conn:
            async for chunk in reads.csv_chunks(conn, spending_filter):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="spending-lines.csv"'},
    )


@router.get("/spending/files")
async def spending_files(conn: DbDep) -> dict[str, list[dict[str, Any]]]:
    """The payment files loaded (publisher, file, sha256, lines, total, dates): provenance."""
    return {"files": await reads.loaded_files(conn)}


@router.get("/spending", response_class=HTMLResponse, include_in_schema=False)
async def spending_page(request: Request, conn: DbDep) -> HTMLResponse:
    """The spending page: search, filters, totals table and charts, lines a click away."""
    files = await reads.loaded_files(conn)
    nonce = getattr(request.state, "csp_nonce", "")
    html = templates.get_template("spending.html").render(
        files=files, root=request.scope.get("root_path", ""), nonce=nonce
    )
    return HTMLResponse(html)


@router.get(
    "/grants/need",
    response_model=grant_need.GrantNeed,
    tags=["grants"],
    responses=PROBLEMS.only(400, 404),
)
async def grants_need(
    conn: DbDep,
    area: Annotated[
        str | None,
        Query(
            max_length=9,
            pattern=gss.LAD_PATTERN,
            description="A district's GSS code; all if omitted.",
        ),
    ] = None,
    edition: Annotated[str, Query(max_length=32)] = "IoD2025",
    from_date: Annotated[FullDate | None, Query(alias="from")] = None,
    to_date: Annotated[FullDate | None, Query(alias="to")] = None,
) -> grant_need.GrantNeed:
    """Grant money against need: pounds per resident by IMD decile and by district.

    Other funders' grants (imported from 360Giving files) and Platoons' own grants, side by
    side and never added together.
    """
    return await grant_need.grant_need(conn, area, edition, from_date, to_date)
