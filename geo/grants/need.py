"""Grant money set against need: pounds per resident by IMD decile, by district and by LSOA.

Two sources are reported side by side and never added together: grants other funders
published in the 360Giving standard and Platoons imported (``imported``), and the grants
Platoons itself approved or paid (``platoons``). Money is counted where it was placed:

- money placed on an LSOA counts in that LSOA's IMD decile (of the requested edition; an LSOA
  of the other generation is carried through the ONS 2011-2021 lookup, split by residents);
- a drawn area's grant is split between the LSOAs that qualified, by residents;
- money placed on a ward or a whole district has no single decile: it is reported apart
  ("not by decile") and counted only in the district figures;
- pounds per resident divide by the residents (the edition's population denominators) of the
  decile or district within the area asked about, or of the LSOA (only LSOAs some money
  reached are listed by LSOA).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from geo.errors import EditionNotFound, InvalidInput
from geo.figures import Money
from geo.gss import LAD_CODE
from geo.sqlfiles import read_sql

Source = Literal["imported", "platoons"]
SOURCES: dict[str, str] = {
    "imported": "Grants by other funders, imported from 360Giving files",
    "platoons": "Grants Platoons approved or paid",
}


class DecileMoney(BaseModel):
    """Money reaching one IMD decile of the area, per resident."""

    decile: int = Field(description="1 = the most deprived 10% of LSOAs in England.")
    residents: int
    lsoas: int
    amount: Money
    grants: int
    pounds_per_resident: Money


class DistrictMoney(BaseModel):
    """Money reaching one district (LSOA, ward and district placements), per resident."""

    code: str
    name: str | None
    residents: int | None
    amount: Money
    grants: int
    pounds_per_resident: Money | None


class LsoaMoney(BaseModel):
    """Money reaching one LSOA, per resident of that LSOA."""

    code: str
    lad_code: str
    decile: int
    residents: int
    amount: Money
    grants: int
    pounds_per_resident: Money | None


class LevelMoney(BaseModel):
    """Money placed on wards or whole districts (no single decile)."""

    level: str
    amount: Money
    grants: int


class ImportedFile(BaseModel):
    """A 360Giving file imported grants came from (what a map or chart credits)."""

    source_name: str
    publisher_name: str | None
    licence: str | None = Field(description="As the file states it; a summary-table CSV has none.")
    funders: list[str]
    grants: int


class SourceNeed(BaseModel):
    """One source's money against need."""

    source: Source
    label: str
    by_decile: list[DecileMoney]
    by_district: list[DistrictMoney]
    by_lsoa: list[LsoaMoney] = Field(
        default_factory=list, description="Only the LSOAs some of the source's money reached."
    )
    not_by_decile: list[LevelMoney]
    not_placed: dict[str, Any] | None = None
    files: list[ImportedFile] | None = Field(
        None, description="Imported grants only: the 360Giving files they came from."
    )


class GrantNeed(BaseModel):
    """Both sources side by side for an area (a district, or every loaded LSOA of England)."""

    area: str | None
    edition: str
    from_date: date | None
    to_date: date | None
    note: str
    sources: list[SourceNeed]


def _per_resident(amount: Decimal, residents: int | None) -> Decimal | None:
    """Pounds per resident (shown to the penny, :data:`geo.figures.Money`), or ``None``."""
    if not residents:
        return None
    return amount / residents


def _money(row: dict[str, Any], unknown: Decimal | None = None) -> dict[str, Any]:
    """A result row's amount, grants and pounds per resident.

    With ``unknown`` given, a row without residents (or with nothing per resident) has that
    instead of ``None`` (the deciles always show a figure).
    """
    amount = Decimal(row["amount"])
    per_resident = _per_resident(amount, row["residents"])
    if unknown is not None:
        per_resident = per_resident or unknown
    return {"amount": amount, "grants": row["grants"], "pounds_per_resident": per_resident}


async def grant_need(
    conn: AsyncConnection,
    area: str | None = None,
    edition: str = "IoD2025",
    from_date: date | None = None,
    to_date: date | None = None,
) -> GrantNeed:
    """Pounds per resident by IMD decile and by district, imported grants beside our own.

    Parameters
    ----------
    conn
        An open connection.
    area
        A district's GSS code, or ``None`` for every LSOA loaded (all of England when it is).
    edition
        The index edition whose deciles, LSOA generation and residents are used.
    from_date, to_date
        Award (decision) dates to include, inclusive.

    Returns
    -------
    GrantNeed
        For each source: money by decile, by district, not by decile, and (imported) not placed.
    """
    if area is not None and not LAD_CODE.match(area):
        raise InvalidInput("`area` must be a district's GSS code (E06-E09)", parameter="area")
    if from_date and to_date and from_date > to_date:
        raise InvalidInput("`from` is after `to`", parameter="from")
    params = {"edition": edition, "area": area, "from_date": from_date, "to_date": to_date}
    prefix = read_sql("geo", "grant_need/placed_money.sql")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT 1 FROM index_edition WHERE code = %s", (edition,))
        if await cur.fetchone() is None:
            raise EditionNotFound(f"edition {edition!r} is not loaded", parameter="edition")
        results: dict[str, list[dict[str, Any]]] = {}
        for name in ("by_decile", "by_district", "by_lsoa", "not_by_decile"):
            await cur.execute(prefix + read_sql("geo", f"grant_need/{name}.sql"), params)
            results[name] = await cur.fetchall()
        await cur.execute(read_sql("geo", "grant_need/not_placed.sql"), params)
        not_placed = await cur.fetchone()
        await cur.execute(read_sql("geo", "grant_need/imports.sql"))
        files = [ImportedFile(**row) for row in await cur.fetchall()]
    sources = []
    for source, label in SOURCES.items():

        def of_source(name: str, source: str = source) -> list[dict[str, Any]]:
            """The rows of one result that are of this source."""
            return [r for r in results[name] if r["source"] == source]

        sources.append(
            SourceNeed(
                source=source,  # type: ignore[arg-type]
                label=label,
                by_decile=[
                    DecileMoney(
                        decile=r["decile"],
                        residents=int(r["residents"]),
                        lsoas=r["lsoas"],
                        **_money(r, unknown=Decimal(0)),
                    )
                    for r in of_source("by_decile")
                ],
                by_district=[
                    DistrictMoney(
                        code=r["lad_code"],
                        name=r["name"],
                        residents=None if r["residents"] is None else int(r["residents"]),
                        **_money(r),
                    )
                    for r in of_source("by_district")
                ],
                by_lsoa=[
                    LsoaMoney(
                        code=r["lsoa_code"],
                        lad_code=r["lad_code"],
                        decile=r["decile"],
                        residents=int(r["residents"]),
                        **_money(r),
                    )
                    for r in of_source("by_lsoa")
                ],
                not_by_decile=[
                    LevelMoney(level=r["level"], amount=r["amount"], grants=r["grants"])
                    for r in of_source("not_by_decile")
                ],
                not_placed=dict(not_placed) if source == "imported" and not_placed else None,
                files=files if source == "imported" else None,
            )
        )
    return GrantNeed(
        area=area,
        edition=edition,
        from_date=from_date,
        to_date=to_date,
        note=(
            "Imported grants and Platoons' own grants are shown side by side and never added "
            "together. Money placed on a ward or a whole district has no single decile: it is "
            "listed under not_by_decile and counted in the district figures only."
        ),
        sources=sources,
    )
